// A blog farm, simulated: four web nodes of three processes each, every
// process with its own engine, all on one redis-server (two nodes over TCP,
// two over the unix socket), each node's clock set apart by minutes. A flood
// spread evenly over the nodes is held to exactly the configured limit
// farm-wide; learns from every node are counted exactly; a block entry an
// admin adds on one node applies on all of them at once.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "../unit/redis_server.h"
#include "spamguard/spamguard.h"

namespace {

constexpr int kNodes = 4, kPerNode = 3, kProcs = kNodes * kPerNode;
constexpr int kLimit = 100;        // ratelimit ip 100/1h
constexpr int kFlood = 60;         // attempts per process: 720 in all
constexpr int kLearn = 40, kMove = 10, kShared = 20;
const int64_t kSkew[kNodes] = {-600, -120, 0, 540};  // seconds each node's clock is off

struct Counts {
  int allowed = 0, throttled = 0, unavailable = 0, errors = 0, blocked_at_once = 0;
};

sg_comment* Comment(const std::string& ip, const std::string& id, int64_t when) {
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  sg_comment_set_field(c, SG_FIELD_IP, ip.data(), ip.size());
  std::string body = "a comment " + id;
  sg_comment_set_field(c, SG_FIELD_BODY, body.data(), body.size());
  sg_comment_set_field(c, SG_FIELD_ID, id.data(), id.size());
  sg_comment_set_time(c, when);
  return c;
}

// One process of one node. go: read one byte when the admin's entry is in.
Counts Worker(const std::string& rules, int node, int k, int go_fd) {
  Counts n;
  sg_engine* e = nullptr;
  if (sg_engine_open(&e, rules.c_str(), nullptr) != SG_OK || !sg_engine_has_state(e)) {
    n.errors = 1000;
    return n;
  }
  const int64_t now = int64_t(time(nullptr)) + kSkew[node];
  for (int i = 0; i < kFlood; ++i) {
    std::string id = "flood-" + std::to_string(k) + "-" + std::to_string(i);
    sg_comment* c = Comment("198.51.100.1", id, now + i);
    sg_result* r = nullptr;
    if (sg_engine_score(&r, e, c) != SG_OK) {
      ++n.errors;
    } else {
      if (sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE) ++n.unavailable;
      if (sg_result_action(r) == SG_ACTION_THROTTLE) ++n.throttled;
      else ++n.allowed;
    }
    sg_result_free(r);
    sg_comment_free(c);
  }
  // Learning: distinct comments, some relabelled (twice the same way), and
  // comments every process learns.
  auto learn = [&](const std::string& id, int label) {
    sg_comment* c = Comment("192.0.2." + std::to_string(1 + k), id, now);
    if (sg_engine_learn(e, c, label) != SG_OK) ++n.errors;
    sg_comment_free(c);
  };
  for (int i = 0; i < kLearn; ++i) learn("p" + std::to_string(k) + "-" + std::to_string(i), SG_LABEL_SPAM);
  for (int i = 0; i < kMove; ++i)
    for (int twice = 0; twice < 2; ++twice) learn("p" + std::to_string(k) + "-" + std::to_string(i), SG_LABEL_HAM);
  for (int i = 0; i < kShared; ++i) learn("shared-" + std::to_string(i), SG_LABEL_SPAM);
  // Wait for the admin, then score from the address just blocked.
  char b;
  if (read(go_fd, &b, 1) == 1) {
    sg_comment* c = Comment("203.0.113.9", "after-block-" + std::to_string(k), 0);
    sg_result* r = nullptr;
    if (sg_engine_score(&r, e, c) == SG_OK && sg_result_action(r) == SG_ACTION_SPAM &&
        std::string(sg_result_hit_name(r, 0)) == "LIST_BLOCK")
      n.blocked_at_once = 1;
    sg_result_free(r);
    sg_comment_free(c);
  }
  sg_engine_close(e);
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redis)

BOOST_AUTO_TEST_CASE(a_farm_of_four_nodes_shares_one_state) {
  if (!sgtest::RedisServer::Installed()) {
    BOOST_TEST_MESSAGE("skip: redis-server is not installed (apt-get install redis-server)");
    return;
  }
  sgtest::RedisServer server;
  BOOST_REQUIRE(server.up());
  sgtest::TempDir d;
  std::string rules[2];
  for (int via = 0; via < 2; ++via) {
    rules[via] = d.File("farm" + std::to_string(via) + ".cf");
    std::ofstream(rules[via]) << "database " << (via == 0 ? server.tcp_url(0) : server.unix_url()) << "\n"
                              << "redis_namespace farm\nredis_timeout_ms 2000\n"
                              << "ratelimit ip " << kLimit << "/1h\n"
                              << "body C /comment/\nscore C 0.1\n";
  }
  int go[2];
  BOOST_REQUIRE(pipe(go) == 0);
  std::vector<pid_t> pids;
  for (int k = 0; k < kProcs; ++k) {
    int node = k / kPerNode;
    pid_t pid = fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      close(go[1]);
      Counts n = Worker(rules[node % 2], node, k, go[0]);
      std::ofstream(d.File("worker" + std::to_string(k))) << n.allowed << " " << n.throttled << " " << n.unavailable
                                                            << " " << n.errors << " " << n.blocked_at_once << "\n";
      _exit(0);
    }
    pids.push_back(pid);
  }
  close(go[0]);
  // The admin, on node 0, once every worker is under way.
  sg_engine* admin = nullptr;
  BOOST_REQUIRE(sg_engine_open(&admin, rules[0].c_str(), nullptr) == SG_OK);
  BOOST_REQUIRE(sg_engine_list_add(admin, SG_LIST_BLOCK, SG_ENTRY_IP, "203.0.113.0/24", "admin", "farm-wide", 0) == SG_OK);
  for (int k = 0; k < kProcs; ++k) BOOST_REQUIRE(write(go[1], "g", 1) == 1);
  close(go[1]);
  for (pid_t pid : pids) {
    int status = 0;
    BOOST_REQUIRE(waitpid(pid, &status, 0) == pid);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  Counts all;
  for (int k = 0; k < kProcs; ++k) {
    Counts n;
    std::ifstream f(d.File("worker" + std::to_string(k)));
    f >> n.allowed >> n.throttled >> n.unavailable >> n.errors >> n.blocked_at_once;
    all.allowed += n.allowed;
    all.throttled += n.throttled;
    all.unavailable += n.unavailable;
    all.errors += n.errors;
    all.blocked_at_once += n.blocked_at_once;
  }
  BOOST_TEST(all.errors == 0);
  BOOST_TEST(all.unavailable == 0);
  BOOST_TEST(all.allowed == kLimit);  // exactly, farm-wide, whatever each node's clock says
  BOOST_TEST(all.allowed + all.throttled == kProcs * kFlood);
  BOOST_TEST(all.blocked_at_once == kProcs);
  char* stats = nullptr;
  BOOST_REQUIRE(sg_engine_stats(&stats, nullptr, admin) == SG_OK);
  std::string st = stats;
  sg_free(stats);
  const int spam = kProcs * (kLearn - kMove) + kShared, ham = kProcs * kMove;
  BOOST_TEST(st.find("\"learned\":{\"spam\":" + std::to_string(spam) + ",\"ham\":" + std::to_string(ham) + "}") !=
                 std::string::npos,
             st);
  BOOST_TEST(st.find("\"learner\":{\"spam\":" + std::to_string(spam) + ",\"ham\":" + std::to_string(ham) + ",") !=
                 std::string::npos,
             st);
  sg_engine_close(admin);
}

BOOST_AUTO_TEST_SUITE_END()
