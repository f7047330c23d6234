// spamguard_bench — prints scoring throughput, cold start and peak memory.
//
//   spamguard_bench [--rules FILE] [--seconds N] DUMP.jsonl...
//
// Throughput: every comment of the dumps is turned into an sg_comment once,
// then scored round after round on one thread (content rules only: this
// build has no store) until N seconds have passed.
// Cold start: sg_engine_open on the rule file, and open + first score (the
// first scan also builds RE2's DFA states), repeated; median and p90; with
// each field's rules compiled on first use (the default) and with
// SG_CFG_EAGER_COMPILE.
// Peak RSS: the process's maximum resident set size (getrusage).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "dump.h"
#include "record.h"
#include "spamguard/spamguard.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string rules = SG_SOURCE_DIR "/data/spamguard.cf";
  double seconds = 3.0;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--rules") && i + 1 < argc) rules = argv[++i];
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else files.push_back(argv[i]);
  }
  if (files.empty()) {
    fprintf(stderr, "usage: spamguard_bench [--rules FILE] [--seconds N] DUMP.jsonl...\n");
    return 2;
  }

  std::vector<sg_comment*> comments;
  size_t bytes = 0;
  sgcli::DumpCallbacks cb;
  cb.skip = [](const std::string&, const std::string&) {};
  cb.record = [&](const sgcli::Record& rec) {
    sg_comment* c = nullptr;
    if (sg_comment_new(&c) < 0 || sgcli::ToComment(rec, c) < 0) exit(1);
    bytes += rec.body.size();
    comments.push_back(c);
    return true;
  };
  for (const auto& f : files) {
    std::string error;
    if (!sgcli::ReadDump(f, "auto", cb, &error)) {
      fprintf(stderr, "spamguard_bench: %s\n", error.c_str());
      return 1;
    }
  }

  // Cold start, with the rules compiled at open (default) and on first use.
  struct Cold {
    std::vector<double> open_ms, first_ms;
  } cold[2];
  for (int lazy = 0; lazy < 2; ++lazy) {
    sg_config* cfg = nullptr;
    sg_config_new(&cfg);
    sg_config_set_str(cfg, SG_CFG_DATABASE, "none");
    sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, SG_RATELIMIT_OFF);
    sg_config_set_int(cfg, SG_CFG_EAGER_COMPILE, lazy ? 0 : 1);
    for (int i = 0; i < 50; ++i) {
      auto t0 = Clock::now();
      sg_engine* e = nullptr;
      if (sg_engine_open(&e, rules.c_str(), cfg) < 0) {
        fprintf(stderr, "spamguard_bench: %s\n", sg_error_message());
        return 1;
      }
      auto t1 = Clock::now();
      sg_result* r = nullptr;
      sg_engine_score(&r, e, comments[size_t(i) % comments.size()]);
      auto t2 = Clock::now();
      sg_result_free(r);
      sg_engine_close(e);
      cold[lazy].open_ms.push_back(1000 * Seconds(t0, t1));
      cold[lazy].first_ms.push_back(1000 * Seconds(t0, t2));
    }
    sg_config_free(cfg);
  }

  // Throughput on one thread.
  sg_engine* engine = nullptr;
  sg_config* content_only = nullptr;
  sg_config_new(&content_only);
  sg_config_set_str(content_only, SG_CFG_DATABASE, "none");
  sg_config_set_int(content_only, SG_CFG_RATELIMIT_MODE, SG_RATELIMIT_OFF);
  if (sg_engine_open(&engine, rules.c_str(), content_only) < 0) return 1;
  sg_config_free(content_only);
  for (sg_comment* c : comments) {  // warm-up round
    sg_result* r = nullptr;
    sg_engine_score(&r, engine, c);
    sg_result_free(r);
  }
  size_t scored = 0, spam = 0;
  auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (sg_comment* c : comments) {
      sg_result* r = nullptr;
      if (sg_engine_score(&r, engine, c) < 0) return 1;
      spam += sg_result_action(r) >= SG_ACTION_SPAM;
      sg_result_free(r);
    }
    scored += comments.size();
    elapsed = Seconds(start, Clock::now());
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);

  printf("rules: %s (%zu rules)\n", rules.c_str(), sg_engine_rule_count(engine));
  printf("comments: %zu (%.0f bytes of body on average)\n", comments.size(), double(bytes) / double(comments.size()));
  printf("throughput, 1 thread, content rules: %.0f comments/s (%.2f us/comment, %zu scored in %.2f s)\n",
         double(scored) / elapsed, 1e6 * elapsed / double(scored), scored, elapsed);
  for (int lazy = 0; lazy < 2; ++lazy) {
    const char* how = lazy ? "compile on first use (default)" : "compile at open (SG_CFG_EAGER_COMPILE=1)";
    printf("cold start, %s: sg_engine_open median %.2f ms (p90 %.2f); open + first score median %.2f ms (p90 %.2f)\n",
           how, Percentile(cold[lazy].open_ms, 0.5), Percentile(cold[lazy].open_ms, 0.9),
           Percentile(cold[lazy].first_ms, 0.5), Percentile(cold[lazy].first_ms, 0.9));
  }
  printf("peak RSS: %.1f MiB\n", double(ru.ru_maxrss) / 1024.0);
  sg_engine_close(engine);
  for (sg_comment* c : comments) sg_comment_free(c);
  return spam > 0 ? 0 : 1;
}
