// `spamguard rescore`: score every comment of dumps on every core, write
// the verdicts in order, and sum up how the rules did. Over the public C API
// only.
#pragma once

#include <cstddef>
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "record.h"
#include "spamguard/spamguard.h"

namespace sgcli {

struct RescoreOptions {
  std::vector<std::string> files;
  std::string format = "auto";
  std::string rules;               // shown in the summary and report
  bool quiet = false;              // no verdicts on stdout
  bool json = false;               // verdicts on stdout as JSON Lines; summary to stderr
  bool learn = false;              // teach the database each labeled record's label (in order, one thread)
  bool replay_limits = false;      // one thread: limits depend on the order
  bool by_date = false;            // score in date order (read every record first; an undated record
                                   // takes the date of the one before it; ties keep input order)
  size_t window = 0;               // learning curve: recall and false positives per window of comments
  size_t warmup = 0;               // the summary also counts the comments after the first `warmup`
  size_t top = 15;                 // rules in the summary
  unsigned threads = 0;            // 0: every core
  std::string out;                 // verdicts file
  std::string out_format = "auto"; // jsonl or csv; auto: csv when `out` ends in .csv
  std::string report;              // HTML report
  int progress = -1;               // -1: when stderr is a terminal (and stdout is not, or -q)
};

// Counts over the records one worker scored; merged at the end.
struct RuleTally {
  size_t hits = 0, spam = 0, ham = 0;  // by the record's label
  std::string field, description;
  double points = 0;
};

// A record worth showing in the report: a false positive or negative.
struct Example {
  double score = 0;
  uint64_t index = 0;  // position in the input, for a stable order
  std::string id, label, action, excerpt, verdict_json;
};

struct Tally {
  static constexpr int kBins = 32;       // score histogram: bin i holds [kLowest + i, kLowest + i + 1)
  static constexpr int kLowest = -6;     // scores below go to bin 0, above to the last
  static constexpr size_t kExamples = 12;

  size_t total = 0;
  size_t actions[5] = {0, 0, 0, 0, 0};
  size_t tp = 0, fp = 0, tn = 0, fn = 0, spam_moderated = 0, ham_moderated = 0;
  size_t learned = 0;
  size_t skipped = 0;  // JSON Lines that did not parse (parsed by the workers)
  std::unordered_map<std::string, RuleTally> rules;
  size_t hist[3][kBins] = {};  // by label: 0 spam, 1 ham, 2 none
  size_t by_kind[3][5] = {};   // comment, trackback, pingback x action
  std::vector<Example> worst_fp, worst_fn;  // heaps, at most kExamples each
  // The learning curve: per window of `window` comments in input order,
  // {spam caught, spam missed, ham flagged, ham passed}.
  size_t window = 0;
  std::vector<std::array<size_t, 4>> windows;
  // The same four counts over the comments after the first `warmup`.
  size_t warmup = 0;
  std::array<size_t, 4> after_warmup = {0, 0, 0, 0};

  void Add(const Record& rec, const sg_result* r, uint64_t index);
  // The dump had trackbacks or pingbacks (the kinds are then shown apart).
  bool HasPings() const;
  void Merge(Tally&& other);
  // Sorted worst first.
  std::vector<Example> WorstFalsePositives() const;
  std::vector<Example> WorstFalseNegatives() const;
};

// Exit status: 0 done, 1 the job failed (unreadable dump, a database error
// while learning, an output file that cannot be written).
int Rescore(sg_engine* engine, const RescoreOptions& opts);

}  // namespace sgcli
