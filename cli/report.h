// The rescore report: one self-contained HTML file (no scripts, no external
// resources) with the summary, a score histogram split by label, rule-hit
// bars, and the worst false positives and negatives with their
// explanations.
#pragma once

#include <string>
#include <vector>

#include "rescore.h"

namespace sgcli {

struct Metrics {
  double precision = 0, recall = 0, f1 = 0, fpr = 0;
};
Metrics ComputeMetrics(const Tally& t);

struct ReportInfo {
  std::vector<std::string> files;
  std::string rules;
  size_t skipped = 0;
  double seconds = 0;
  unsigned threads = 1;
  bool learn = false;  // each comment was learned after it was scored
};

// Writes the report; false with a message when the file cannot be written.
bool WriteReport(const std::string& path, sg_engine* engine, const Tally& t, const ReportInfo& info,
                 std::string* error);

}  // namespace sgcli
