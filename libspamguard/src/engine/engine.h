// The engine: owns the compiled rules and runs the pipeline
//   normalize -> content rules -> verdict
// Later stages (lists, rate limits, reputation) slot in before and after
// the content rules. An Engine is immutable after Open and safe to share
// between threads for Score.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "comment/comment.h"
#include "rules/ruleset.h"
#include "util/status.h"

namespace spamguard::engine {

struct Options {
  bool strict_rules = true;
  bool lazy_compile = false;
  int64_t re2_max_mem = 0;      // 0: default
  int64_t max_body_bytes = 0;   // 0: from the .cf, else default
  int64_t max_field_bytes = 0;
  int64_t max_links = 0;
};

struct Verdict {
  int action = SG_ACTION_ACCEPT;
  double score = 0;
  int64_t retry_after = 0;
  int flags = 0;
  // The rule set the hits refer to; kept alive with the verdict.
  std::shared_ptr<const rules::RuleSet> rules;
  std::vector<rules::Hit> hits;  // highest points first
};

class Engine {
 public:
  static Status OpenFile(const std::string& path, const Options& opts, std::unique_ptr<Engine>* out);
  static Status OpenString(std::string_view text, const std::string& name, const Options& opts,
                           std::unique_ptr<Engine>* out);

  // Thread-safe.
  void Score(const comment::Comment& c, Verdict* v) const;

  const rules::RuleSet& rules() const { return *rules_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const comment::Limits& limits() const { return limits_; }

 private:
  static Status Finish(Status st, std::unique_ptr<rules::RuleSet> rs, std::vector<std::string> warnings,
                       const Options& opts, std::unique_ptr<Engine>* out);
  std::shared_ptr<const rules::RuleSet> rules_;
  std::vector<std::string> warnings_;
  comment::Limits limits_;
};

}  // namespace spamguard::engine
