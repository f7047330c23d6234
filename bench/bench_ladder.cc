// spamguard_ladder_bench — how close scoring is to its floor: the steps of
// the pipeline measured one by one on the same comments, one thread.
//
//   spamguard_ladder_bench [--rules FILE] [--seconds N] DUMP...
//
//  1. reading the dump (the records parsed from the files in memory);
//  2. normalization alone (comment::Normalize);
//  3. the body's regex rules as one RE2::Set, one pass over each
//     normalized body (what no per-rule work can beat);
//  4. every field's regex rules as one RE2::Set each, one pass per field;
//  5. the rules evaluated on the normalized comment (RuleSet::Evaluate:
//     the sets, each fired rule's matched text, counts, checks, metas);
//  6. the whole score through the C API (sg_engine_score: all of the above
//     and the verdict), content rules only.
// Each step prints comments/s, µs per comment and its share of step 6.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <re2/re2.h>
#include <re2/set.h>

#include "comment/comment.h"
#include "dump.h"
#include "record.h"
#include "rules/ruleset.h"
#include "spamguard/spamguard.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace spamguard;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs `round` (one pass over every comment) until `seconds` have passed;
// returns µs per comment.
template <typename F>
double Measure(double seconds, size_t per_round, F round) {
  round();  // warm-up
  size_t n = 0;
  auto t0 = Clock::now();
  while (Since(t0) < seconds) {
    round();
    n += per_round;
  }
  return 1e6 * Since(t0) / double(n);
}

// The normalized text a regex target scans (links: each link).
std::vector<std::string_view> TextsOf(rules::Target t, const comment::Normalized& n) {
  using T = rules::Target;
  switch (t) {
    case T::kBody: return {n.body};
    case T::kRawBody: return {n.rawbody};
    case T::kAuthor: return {n.author};
    case T::kEmail: return {n.email};
    case T::kUrl: return {n.url};
    case T::kUri: return {n.links.begin(), n.links.end()};
    case T::kUa: return {n.ua};
    case T::kReferrer: return {n.referrer};
    case T::kBlogName: return {n.blog_name};
    case T::kTitle: return {n.title};
    case T::kExcerpt: return {n.excerpt};
    case T::kSourceUrl: return {n.source_url};
    case T::kIp: return {n.ip.text};
    default: return {};
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string rules_path = SG_SOURCE_DIR "/data/spamguard.cf";
  double seconds = 2.0;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--rules") && i + 1 < argc) rules_path = argv[++i];
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else files.push_back(argv[i]);
  }
  if (files.empty()) {
    fprintf(stderr, "usage: spamguard_ladder_bench [--rules FILE] [--seconds N] DUMP...\n");
    return 2;
  }

  // 1. Reading: the files are read into memory first, so that the disk is
  // not measured; then parsed from there, round after round.
  std::vector<std::string> contents;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    contents.push_back(ss.str());
  }
  std::vector<sgcli::Record> records;
  auto read_all = [&](bool keep) {
    size_t count = 0;
    sgcli::DumpCallbacks cb;
    cb.skip = [](const std::string&, const std::string&) {};
    cb.record = [&](const sgcli::Record& r) {
      ++count;
      if (keep) records.push_back(r);
      return true;
    };
    for (size_t i = 0; i < contents.size(); ++i) {
      std::istringstream in(contents[i]);
      std::string error;
      if (!sgcli::ReadDumpStream(in, files[i], "jsonl", cb, &error)) {
        fprintf(stderr, "spamguard_ladder_bench: %s\n", error.c_str());
        exit(1);
      }
    }
    return count;
  };
  read_all(true);
  if (records.empty()) return 1;
  const size_t n = records.size();
  double us_read = Measure(seconds, n, [&] { read_all(false); });

  // The comments, as the engine holds them.
  std::vector<comment::Comment> comments(n);
  for (size_t i = 0; i < n; ++i) {
    const sgcli::Record& r = records[i];
    comment::Comment& c = comments[i];
    int kind = sgcli::KindOf(r.kind);
    c.kind = comment::Kind(kind == 0 ? SG_KIND_COMMENT : kind);
    c.fields[SG_FIELD_ID] = r.id;
    c.fields[SG_FIELD_AUTHOR] = r.author;
    c.fields[SG_FIELD_EMAIL] = r.email;
    c.fields[SG_FIELD_URL] = r.url;
    c.fields[SG_FIELD_IP] = r.ip;
    c.fields[SG_FIELD_USER_AGENT] = r.user_agent;
    c.fields[SG_FIELD_REFERRER] = r.referrer;
    c.fields[SG_FIELD_BODY] = r.body;
    c.fields[SG_FIELD_POST_ID] = r.post_id;
    c.fields[SG_FIELD_PERMALINK] = r.permalink;
    c.fields[SG_FIELD_BLOG_NAME] = r.blog_name;
    c.fields[SG_FIELD_TITLE] = r.title;
    c.fields[SG_FIELD_EXCERPT] = r.excerpt;
    c.fields[SG_FIELD_SOURCE_URL] = r.source_url;
    c.time = r.time;
  }

  // 2. Normalization.
  comment::Limits limits;
  std::vector<comment::Normalized> norm(n);
  for (size_t i = 0; i < n; ++i) comment::Normalize(comments[i], limits, &norm[i]);
  double us_norm = Measure(seconds, n, [&] {
    comment::Normalized out;
    for (const auto& c : comments) comment::Normalize(c, limits, &out);
  });

  // 3 and 4. The regex rules as one RE2::Set per field.
  rules::LoadOptions lo;
  lo.database = "none";
  std::unique_ptr<rules::RuleSet> rs;
  std::vector<std::string> warnings;
  Status st = rules::RuleSet::LoadFile(rules_path, lo, &rs, &warnings);
  if (!st.ok()) {
    fprintf(stderr, "spamguard_ladder_bench: %s\n", st.message().c_str());
    return 1;
  }
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(lo.re2_max_mem);
  struct FieldSet {
    rules::Target target;
    std::unique_ptr<RE2::Set> set;
    size_t rules = 0;
  };
  std::vector<FieldSet> sets;
  for (const auto& rule : rs->rules()) {
    if (!rule.re) continue;
    auto it = std::find_if(sets.begin(), sets.end(), [&](const FieldSet& f) { return f.target == rule.target; });
    if (it == sets.end()) {
      sets.push_back({rule.target, std::make_unique<RE2::Set>(o, RE2::UNANCHORED), 0});
      it = sets.end() - 1;
    }
    if (it->set->Add(rule.re->pattern(), nullptr) < 0) return 1;
    ++it->rules;
  }
  size_t regex_rules = 0, body_rules = 0;
  for (auto& f : sets) {
    if (!f.set->Compile()) {
      fprintf(stderr, "spamguard_ladder_bench: a field's set is over the RE2 budget\n");
      return 1;
    }
    regex_rules += f.rules;
    if (f.target == rules::Target::kBody) body_rules = f.rules;
  }
  size_t fired = 0;
  std::vector<int> v;
  double us_body = Measure(seconds, n, [&] {
    for (auto& f : sets) {
      if (f.target != rules::Target::kBody) continue;
      for (const auto& nm : norm) fired += f.set->Match(nm.body, &v) ? v.size() : 0;
    }
  });
  double us_sets = Measure(seconds, n, [&] {
    for (const auto& nm : norm)
      for (auto& f : sets)
        for (std::string_view t : TextsOf(f.target, nm)) fired += f.set->Match(t, &v) ? v.size() : 0;
  });

  // 5. The rules evaluated (past the engine's warm-up, so that each field
  // runs its whole set once, as a long-lived engine does).
  std::vector<rules::Hit> hits;
  for (int k = 0; k < 64; ++k) rs->Evaluate(norm[size_t(k) % n], &hits);
  size_t shown = 0;  // hits a verdict lists (silent building blocks aside)
  for (const auto& nm : norm) {
    hits.clear();
    rs->Evaluate(nm, &hits);
    shown += hits.size();
  }
  double us_eval = Measure(seconds, n, [&] {
    for (const auto& nm : norm) {
      hits.clear();
      rs->Evaluate(nm, &hits);
    }
  });

  // 6. The whole score.
  sg_config* cfg = nullptr;
  sg_config_new(&cfg);
  sg_config_set_str(cfg, SG_CFG_DATABASE, "none");
  sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, SG_RATELIMIT_OFF);
  sg_engine* engine = nullptr;
  if (sg_engine_open(&engine, rules_path.c_str(), cfg) < 0) {
    fprintf(stderr, "spamguard_ladder_bench: %s\n", sg_error_message());
    return 1;
  }
  sg_config_free(cfg);
  std::vector<sg_comment*> cs(n);
  for (size_t i = 0; i < n; ++i) {
    sg_comment_new(&cs[i]);
    if (sgcli::ToComment(records[i], cs[i]) < 0) return 1;
  }
  double us_score = Measure(seconds, n, [&] {
    for (sg_comment* c : cs) {
      sg_result* r = nullptr;
      sg_engine_score(&r, engine, c);
      sg_result_free(r);
    }
  });
  for (sg_comment* c : cs) sg_comment_free(c);
  sg_engine_close(engine);

  size_t body_bytes = 0;
  for (const auto& nm : norm) body_bytes += nm.body.size();
  printf("rules: %s (%zu rules, %zu of them regex rules over %zu fields, %zu on the body)\n", rules_path.c_str(),
         rs->rules().size(), regex_rules, sets.size(), body_rules);
  printf("comments: %zu (%.0f bytes of normalized body on average, %.2f rules fired on average), 1 thread, %.0f s per step\n", n,
         double(body_bytes) / double(n), double(shown) / double(n), seconds);
  printf("%-58s %12s %9s %8s\n", "step", "comments/s", "us each", "of score");
  auto line = [&](const char* what, double us) {
    printf("%-58s %12.0f %9.2f %7.0f%%\n", what, 1e6 / us, us, 100.0 * us / us_score);
  };
  line("1. reading the dump (JSON Lines, from memory)", us_read);
  line("2. normalization", us_norm);
  line("3. the body's regex rules as one RE2::Set, one pass", us_body);
  line("4. every field's regex rules, one RE2::Set pass each", us_sets);
  line("5. the rules evaluated on the normalized comment", us_eval);
  line("6. the whole score (sg_engine_score)", us_score);
  return fired > 0 ? 0 : 1;
}
