// spamguard_learner_bench — prints figures for the content learner:
//
//   spamguard_learner_bench [--rules FILE] [--seconds S] [--tokens N] DUMP.jsonl...
//
//  * learning: every labeled comment of the dumps, one transaction per learn
//    (as a blog's spam/ham button does it), then again in batches
//    (sg_engine_batch, as `spamguard learn` and `rescore --learn` do), in
//    rounds that add a distinct word per comment until the learner holds at
//    least N tokens (default 50,000);
//  * scoring with that trained learner on one thread: a long-lived engine
//    (the table held in memory after 64 scores with no change to the
//    database), the same while another process learns a comment every 50
//    scores (each comment's tokens looked up in one read transaction, as
//    in a process's first scores), read-only (SG_CFG_READ_ONLY, as
//    rescoring), next to the same rules without the learned rules;
//  * one process's open + first score with the trained database, in a fresh
//    child process each time (median and p90 of 30), with and without the
//    learned rules.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dump.h"
#include "record.h"
#include "spamguard/spamguard.h"

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

sg_engine* Open(const std::string& cf_text, const std::string& db, bool read_only) {
  sg_config* cfg = nullptr;
  sg_config_new(&cfg);
  sg_config_set_str(cfg, SG_CFG_DATABASE, db.c_str());
  sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, SG_RATELIMIT_OFF);
  sg_config_set_int(cfg, SG_CFG_READ_ONLY, read_only ? 1 : 0);
  sg_engine* e = nullptr;
  if (sg_engine_open_string(&e, cf_text.data(), cf_text.size(), "bench.cf", cfg) != SG_OK || !sg_engine_has_state(e)) {
    fprintf(stderr, "open: %s %s\n", sg_error_message(), e ? sg_engine_state_message(e) : "");
    exit(1);
  }
  sg_config_free(cfg);
  return e;
}

long long LearnerTokens(sg_engine* e) {
  char* s = nullptr;
  if (sg_engine_stats(&s, nullptr, e) != SG_OK) return -1;
  std::string j(s);
  sg_free(s);
  size_t p = j.find("\"learner\":");
  p = j.find("\"tokens\":", p);
  return p == std::string::npos ? -1 : atoll(j.c_str() + p + 9);
}

// Comments scored per second on one thread, over `seconds`.
double Throughput(sg_engine* e, const std::vector<sg_comment*>& comments, double seconds, size_t* learned_hits) {
  for (sg_comment* c : comments) {  // warm-up round (and the read-only snapshot)
    sg_result* r = nullptr;
    sg_engine_score(&r, e, c);
    sg_result_free(r);
  }
  size_t scored = 0, hits = 0;
  auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (sg_comment* c : comments) {
      sg_result* r = nullptr;
      if (sg_engine_score(&r, e, c) != SG_OK) exit(1);
      for (size_t i = 0; i < sg_result_hit_count(r); ++i) hits += strncmp(sg_result_hit_name(r, i), "LEARNED_", 8) == 0;
      sg_result_free(r);
    }
    scored += comments.size();
    elapsed = Since(start);
  }
  *learned_hits = hits;
  return double(scored) / elapsed;
}

// open + first score + close in a fresh process; milliseconds.
std::vector<double> Cold(const std::string& cf_text, const std::string& db, sg_comment* c, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    int fd[2];
    if (pipe(fd) != 0) exit(1);
    pid_t pid = fork();
    if (pid == 0) {
      close(fd[0]);
      auto t0 = Clock::now();
      sg_config* cfg = nullptr;
      sg_config_new(&cfg);
      sg_config_set_str(cfg, SG_CFG_DATABASE, db.c_str());
      sg_engine* e = nullptr;
      if (sg_engine_open_string(&e, cf_text.data(), cf_text.size(), "bench.cf", cfg) != SG_OK) _exit(1);
      sg_result* r = nullptr;
      if (sg_engine_score(&r, e, c) != SG_OK) _exit(1);
      sg_result_free(r);
      sg_engine_close(e);
      sg_config_free(cfg);
      double t = 1000 * Since(t0);
      if (write(fd[1], &t, sizeof t) != sizeof t) _exit(1);
      _exit(0);
    }
    close(fd[1]);
    double t = 0;
    if (read(fd[0], &t, sizeof t) == sizeof t) ms.push_back(t);
    close(fd[0]);
    waitpid(pid, nullptr, 0);
  }
  if (ms.empty()) ms.push_back(0);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  std::string rules = SG_SOURCE_DIR "/data/spamguard.cf";
  double seconds = 3;
  long long want_tokens = 50000;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--rules") && i + 1 < argc) rules = argv[++i];
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) want_tokens = atoll(argv[++i]);
    else files.push_back(argv[i]);
  }
  if (files.empty()) {
    fprintf(stderr, "usage: spamguard_learner_bench [--rules FILE] [--seconds S] [--tokens N] DUMP.jsonl...\n");
    return 2;
  }
  std::ifstream in(rules);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string with = ss.str();
  // The same rules without the learner's: every `learned` line dropped.
  std::string without;
  {
    std::istringstream lines(with);
    for (std::string l; std::getline(lines, l);)
      if (l.rfind("learned", 0) != 0 && l.find("LEARNED_") == std::string::npos) without += l + "\n";
  }

  std::vector<sgcli::Record> records;
  sgcli::DumpCallbacks cb;
  cb.skip = [](const std::string&, const std::string&) {};
  cb.record = [&](const sgcli::Record& rec) {
    if (rec.label == "spam" || rec.label == "ham") records.push_back(rec);
    return true;
  };
  for (const auto& f : files) {
    std::string error;
    if (!sgcli::ReadDump(f, "auto", cb, &error)) {
      fprintf(stderr, "spamguard_learner_bench: %s\n", error.c_str());
      return 1;
    }
  }
  if (records.empty()) {
    fprintf(stderr, "spamguard_learner_bench: no labeled comments\n");
    return 1;
  }
  char dir[] = "/tmp/sg_learner_bench_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  const std::string db = std::string(dir) + "/learn.db";

  // Learning.
  sg_engine* e = Open(with, db, false);
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  auto learn = [&](const sgcli::Record& rec, int round, size_t i) {
    sgcli::Record r = rec;
    r.id = "r" + std::to_string(round) + "-" + std::to_string(i);
    if (round > 0) r.body += " w" + std::to_string(round) + "x" + std::to_string(i);
    if (sgcli::ToComment(r, c) < 0 || sg_engine_learn(e, c, rec.label == "spam" ? SG_LABEL_SPAM : SG_LABEL_HAM) != SG_OK) {
      fprintf(stderr, "learn: %s\n", sg_error_message());
      exit(1);
    }
  };
  size_t single = std::min<size_t>(records.size(), 3000);
  auto t0 = Clock::now();
  for (size_t i = 0; i < single; ++i) learn(records[i], 0, i);
  double single_rate = double(single) / Since(t0);
  size_t batched = 0;
  int round = 1;
  t0 = Clock::now();
  sg_engine_batch(e, 1);
  while (LearnerTokens(e) < want_tokens && round < 100) {
    for (size_t i = 0; i < records.size(); ++i) learn(records[i], round, i);
    batched += records.size();
    ++round;
  }
  if (sg_engine_batch(e, 0) != SG_OK) return 1;
  double batch_rate = double(batched) / Since(t0);
  long long tokens = LearnerTokens(e);
  sg_engine_close(e);

  std::vector<sg_comment*> comments;
  for (size_t i = 0; i < records.size(); ++i) {
    sg_comment* k = nullptr;
    sg_comment_new(&k);
    sgcli::Record r = records[i];
    r.id = "q" + std::to_string(i);
    sgcli::ToComment(r, k);
    comments.push_back(k);
  }
  size_t hits = 0;
  printf("rules: %s; %zu labeled comments; learner: %lld tokens\n", rules.c_str(), records.size(), tokens);
  printf("learning, one transaction per learn: %.0f comments/s (%zu comments)\n", single_rate, single);
  printf("learning in batches (sg_engine_batch): %.0f comments/s (%zu comments, %d rounds)\n", batch_rate, batched,
         round - 1);
  e = Open(with, db, false);
  double rw = Throughput(e, comments, seconds, &hits);
  sg_engine_close(e);
  printf("scoring, 1 thread, a long-lived read-write engine (token table held while the database does not change): "
         "%.0f comments/s (%zu learned hits)\n", rw, hits);
  // While another process learns (one comment every 50 scores here), the
  // store keeps changing and every token is looked up in the database, as
  // in a process's first 64 scores: only the scores are timed.
  {
    sg_engine* scorer = Open(with, db, false);
    sg_engine* teacher = Open(with, db, false);
    size_t scored = 0, k = 0, taught = 0;
    double timed = 0;
    for (sg_comment* q : comments) {  // warm the rules up
      sg_result* r = nullptr;
      sg_engine_score(&r, scorer, q);
      sg_result_free(r);
    }
    while (timed < seconds) {
      sgcli::Record r = records[taught % records.size()];
      r.id = "live" + std::to_string(taught++);
      if (sgcli::ToComment(r, c) < 0 || sg_engine_learn(teacher, c, r.label == "spam" ? SG_LABEL_SPAM : SG_LABEL_HAM) != SG_OK)
        return 1;
      auto t = Clock::now();
      for (int i = 0; i < 50; ++i, ++k) {
        sg_result* res = nullptr;
        if (sg_engine_score(&res, scorer, comments[k % comments.size()]) != SG_OK) return 1;
        sg_result_free(res);
      }
      timed += Since(t);
      scored += 50;
    }
    sg_engine_close(teacher);
    sg_engine_close(scorer);
    printf("scoring, 1 thread, while another process learns (each token looked up in the database): %.0f comments/s\n",
           double(scored) / timed);
  }
  e = Open(with, db, true);
  double ro = Throughput(e, comments, seconds, &hits);
  sg_engine_close(e);
  printf("scoring, 1 thread, read-only (rescoring): %.0f comments/s (%zu learned hits)\n", ro, hits);
  e = Open(without, db, true);
  double ro0 = Throughput(e, comments, seconds, &hits);
  sg_engine_close(e);
  e = Open(without, db, false);
  double rw0 = Throughput(e, comments, seconds, &hits);
  sg_engine_close(e);
  printf("the same rules without the learned rules: %.0f comments/s read-only, %.0f read-write\n", ro0, rw0);
  auto cold = Cold(with, db, comments[0], 30);
  auto cold0 = Cold(without, db, comments[0], 30);
  printf("one process, open + first score + close with the trained database: median %.2f ms (p90 %.2f); "
         "without the learned rules %.2f ms (p90 %.2f)\n",
         Percentile(cold, 0.5), Percentile(cold, 0.9), Percentile(cold0, 0.5), Percentile(cold0, 0.9));
  for (auto* k : comments) sg_comment_free(k);
  sg_comment_free(c);
  std::string rm = std::string("rm -rf ") + dir;
  return system(rm.c_str()) == 0 ? 0 : 1;
}
