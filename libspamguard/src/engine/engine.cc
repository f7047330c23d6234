#include "engine/engine.h"

#include <algorithm>
#include <cmath>

namespace spamguard::engine {
namespace {

rules::LoadOptions ToLoadOptions(const Options& o) {
  rules::LoadOptions lo;
  lo.strict = o.strict_rules;
  lo.lazy_compile = o.lazy_compile;
  if (o.re2_max_mem > 0) lo.re2_max_mem = o.re2_max_mem;
  return lo;
}

}  // namespace

Status Engine::OpenFile(const std::string& path, const Options& opts, std::unique_ptr<Engine>* out) {
  std::unique_ptr<rules::RuleSet> rs;
  std::vector<std::string> warnings;
  Status st = rules::RuleSet::LoadFile(path, ToLoadOptions(opts), &rs, &warnings);
  return Finish(std::move(st), std::move(rs), std::move(warnings), opts, out);
}

Status Engine::OpenString(std::string_view text, const std::string& name, const Options& opts,
                          std::unique_ptr<Engine>* out) {
  std::unique_ptr<rules::RuleSet> rs;
  std::vector<std::string> warnings;
  Status st = rules::RuleSet::LoadString(text, name, ToLoadOptions(opts), &rs, &warnings);
  return Finish(std::move(st), std::move(rs), std::move(warnings), opts, out);
}

Status Engine::Finish(Status st, std::unique_ptr<rules::RuleSet> rs, std::vector<std::string> warnings,
                      const Options& opts, std::unique_ptr<Engine>* out) {
  if (!st.ok()) return st;
  auto e = std::unique_ptr<Engine>(new Engine());
  e->limits_ = rs->settings().limits;
  // Settings given through the API override the file.
  if (opts.max_body_bytes > 0) e->limits_.max_body_bytes = size_t(opts.max_body_bytes);
  if (opts.max_field_bytes > 0) e->limits_.max_field_bytes = size_t(opts.max_field_bytes);
  if (opts.max_links > 0) e->limits_.max_links = size_t(opts.max_links);
  e->rules_ = std::move(rs);
  e->warnings_ = std::move(warnings);
  *out = std::move(e);
  return Status::OK();
}

void Engine::Score(const comment::Comment& c, Verdict* v) const {
  *v = Verdict();
  v->rules = rules_;
  comment::Normalized n;
  comment::Normalize(c, limits_, &n);
  v->flags = n.flags;
  // Rounded to 1/1000 so that sums of decimal scores meet thresholds exactly.
  v->score = std::round(rules_->Evaluate(n, &v->hits) * 1000.0) / 1000.0;
  std::stable_sort(v->hits.begin(), v->hits.end(), [this](const rules::Hit& a, const rules::Hit& b) {
    return rules_->rules()[size_t(a.rule)].score > rules_->rules()[size_t(b.rule)].score;
  });
  const rules::Settings& s = rules_->settings();
  if (v->score >= s.discard_score) v->action = SG_ACTION_DISCARD;
  else if (v->score >= s.required_score) v->action = SG_ACTION_SPAM;
  else if (v->score >= s.moderate_score) v->action = SG_ACTION_MODERATE;
  else v->action = SG_ACTION_ACCEPT;
}

}  // namespace spamguard::engine
