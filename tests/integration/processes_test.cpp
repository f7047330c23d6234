// Many processes share one database file: 8 real processes score and learn
// at the same time (half of them in batches of transactions). Afterwards every count is exact (no lost update) and no
// call returned an error (in particular no SQLITE_BUSY) to its caller.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "spamguard/spamguard.h"

namespace {

constexpr int kProcs = 8;
constexpr int kOps = 300;   // learns per process
constexpr int kMoveEvery = 5;  // every 5th comment is relearned as ham

int Worker(const std::string& rules, int k) {
  sg_engine* e = nullptr;
  if (sg_engine_open(&e, rules.c_str(), nullptr) != SG_OK) {
    fprintf(stderr, "worker %d: open: %s\n", k, sg_error_message());
    return 1;
  }
  if (!sg_engine_has_state(e)) {
    fprintf(stderr, "worker %d: no state: %s\n", k, sg_engine_state_message(e));
    return 1;
  }
  int failures = 0;
  // Half the workers learn in batches (a bulk job beside live traffic).
  if (k % 2 == 1 && sg_engine_batch(e, 1) != SG_OK) {
    fprintf(stderr, "worker %d: batch: %s\n", k, sg_error_message());
    ++failures;
  }
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  const char* ip = "192.0.2.1";
  for (int i = 0; i < kOps; ++i) {
    std::string id = "p" + std::to_string(k) + "-" + std::to_string(i);
    sg_comment_reset(c);
    sg_comment_set_field(c, SG_FIELD_ID, id.data(), id.size());
    sg_comment_set_field(c, SG_FIELD_IP, ip, strlen(ip));
    std::string body = "hello from worker" + std::to_string(k);
    sg_comment_set_field(c, SG_FIELD_BODY, body.data(), body.size());
    sg_result* r = nullptr;
    if (sg_engine_score(&r, e, c) != SG_OK || (sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE)) {
      fprintf(stderr, "worker %d: score %d failed: %s\n", k, i, sg_error_message());
      ++failures;
    }
    sg_result_free(r);
    if (sg_engine_learn(e, c, SG_LABEL_SPAM) != SG_OK) {
      fprintf(stderr, "worker %d: learn %d: %s\n", k, i, sg_error_message());
      ++failures;
    }
    if (i % kMoveEvery == 0 && sg_engine_learn(e, c, SG_LABEL_HAM) != SG_OK) {
      fprintf(stderr, "worker %d: relearn %d: %s\n", k, i, sg_error_message());
      ++failures;
    }
  }
  sg_comment_free(c);
  if (k % 2 == 1 && sg_engine_batch(e, 0) != SG_OK) {
    fprintf(stderr, "worker %d: commit: %s\n", k, sg_error_message());
    ++failures;
  }
  sg_engine_close(e);
  return failures > 255 ? 255 : failures;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(integration)

BOOST_AUTO_TEST_CASE(eight_processes_share_one_database_without_lost_updates) {
  char dir[] = "/tmp/sg_procs_XXXXXX";
  BOOST_REQUIRE(mkdtemp(dir) != nullptr);
  std::string rules = std::string(dir) + "/procs.cf";
  std::ofstream(rules) << "database procs.db\nreputation_half_life_days 0\nreputation_min_evidence 1\n"
                          "reputation_cap 100\nbody HI /hello/\nscore HI 0.1\n"
                          // The learner scores while the others learn.
                          "learn_min_spam 1\nlearn_min_ham 1\nlearned LS 0.5 1\nscore LS 0.1\n";

  // The workers race to create and migrate the file, too.
  pid_t pids[kProcs];
  for (int k = 0; k < kProcs; ++k) {
    pids[k] = fork();
    BOOST_REQUIRE(pids[k] >= 0);
    if (pids[k] == 0) _exit(Worker(rules, k));
  }
  for (int k = 0; k < kProcs; ++k) {
    int status = 0;
    BOOST_REQUIRE(waitpid(pids[k], &status, 0) == pids[k]);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0, "worker " << k << " saw " << WEXITSTATUS(status) << " failed calls");
  }

  // Read the counts back through a verdict's evidence.
  sg_engine* e = nullptr;
  BOOST_REQUIRE(sg_engine_open(&e, rules.c_str(), nullptr) == SG_OK);
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  sg_comment_set_field(c, SG_FIELD_IP, "192.0.2.1", 9);
  sg_result* r = nullptr;
  BOOST_REQUIRE(sg_engine_score(&r, e, c) == SG_OK);
  std::string evidence;
  for (size_t i = 0; i < sg_result_hit_count(r); ++i)
    if (std::string(sg_result_hit_name(r, i)).rfind("REPUTATION_IP", 0) == 0) evidence = sg_result_hit_match(r, i, nullptr);
  const int total = kProcs * kOps, moved = kProcs * ((kOps + kMoveEvery - 1) / kMoveEvery);
  std::string want = "IP 192.0.2.1: " + std::to_string(total - moved) + " spam, " + std::to_string(moved) + " ham";
  BOOST_TEST(evidence == want);
  // The learner's counts are exact too: every comment counted once, under
  // its last label.
  char* stats = nullptr;
  BOOST_REQUIRE(sg_engine_stats(&stats, nullptr, e) == SG_OK);
  std::string learner = "\"learner\":{\"spam\":" + std::to_string(total - moved) + ",\"ham\":" + std::to_string(moved) + ",";
  BOOST_TEST(std::string(stats).find(learner) != std::string::npos, stats);
  sg_free(stats);
  sg_result_free(r);
  sg_comment_free(c);
  sg_engine_close(e);
  std::string rm = std::string("rm -rf ") + dir;
  BOOST_TEST(system(rm.c_str()) == 0);
}

// 8 processes hammer one rate-limit key at the same instant: exactly the
// allowed count gets through.
BOOST_AUTO_TEST_CASE(eight_processes_hammering_one_key_let_through_exactly_the_allowed_count) {
  char dir[] = "/tmp/sg_rlprocs_XXXXXX";
  BOOST_REQUIRE(mkdtemp(dir) != nullptr);
  std::string rules = std::string(dir) + "/rl.cf";
  std::ofstream(rules) << "database rl.db\nratelimit global 100/1h burst 100\nbody X /x/\n";
  constexpr int kEach = 50;
  int fds[2];
  BOOST_REQUIRE(pipe(fds) == 0);
  pid_t pids[kProcs];
  for (int k = 0; k < kProcs; ++k) {
    pids[k] = fork();
    BOOST_REQUIRE(pids[k] >= 0);
    if (pids[k] == 0) {
      close(fds[0]);
      sg_engine* e = nullptr;
      if (sg_engine_open(&e, rules.c_str(), nullptr) != SG_OK || !sg_engine_has_state(e)) _exit(101);
      sg_comment* c = nullptr;
      sg_comment_new(&c);
      sg_comment_set_time(c, 1700000000);  // the same instant for all: no refill
      int allowed = 0, errors = 0;
      for (int i = 0; i < kEach; ++i) {
        std::string ip = "198.51.100." + std::to_string(k * kEach % 250 + i % 5);
        sg_comment_set_field(c, SG_FIELD_IP, ip.data(), ip.size());
        sg_result* r = nullptr;
        if (sg_engine_score(&r, e, c) != SG_OK || (sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE)) ++errors;
        else if (sg_result_action(r) != SG_ACTION_THROTTLE) ++allowed;
        sg_result_free(r);
      }
      char line[64];
      int n = snprintf(line, sizeof line, "%d %d\n", allowed, errors);
      _exit(write(fds[1], line, size_t(n)) == n ? 0 : 102);
    }
  }
  close(fds[1]);
  for (int k = 0; k < kProcs; ++k) {
    int status = 0;
    waitpid(pids[k], &status, 0);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  FILE* f = fdopen(fds[0], "r");
  int allowed = 0, errors = 0, a, b;
  while (fscanf(f, "%d %d", &a, &b) == 2) {
    allowed += a;
    errors += b;
  }
  fclose(f);
  BOOST_TEST(errors == 0);
  BOOST_TEST(allowed == 100);
  std::string rm = std::string("rm -rf ") + dir;
  BOOST_TEST(system(rm.c_str()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
