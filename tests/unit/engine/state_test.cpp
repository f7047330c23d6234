// The pipeline with state: lists before content rules, reputation after,
// learning, auto-learn, and the fail-open promise.
#include <boost/test/unit_test.hpp>

#include "../engine_util.h"
#include "../test_util.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "engine/engine.h"

using namespace spamguard;
using namespace spamguard::engine;

namespace {

using sgtest::TempDir;

std::unique_ptr<Engine> Open(const std::string& db, const std::string& extra = "") {
  return sgtest::OpenEngine(
      "reputation_half_life_days 0\nreputation_min_evidence 1\n"
      "body ANY /./\nscore ANY 0.1\nbody PH /viagra/i\nscore PH 6\n" + extra,
      db);
}

comment::Comment C(const std::string& ip, const std::string& body, const std::string& id = "") {
  comment::Comment c;
  c.fields[SG_FIELD_IP] = ip;
  c.fields[SG_FIELD_BODY] = body;
  c.fields[SG_FIELD_ID] = id;
  return c;
}

std::string Names(const Verdict& v) {
  std::string s;
  for (const auto& h : v.hits) s += (h.rule >= 0 ? v.rules->rules()[size_t(h.rule)].name : h.name) + " ";
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine)

BOOST_AUTO_TEST_CASE(block_list_refuses_before_any_content_rule_runs) {
  TempDir d;
  auto e = Open(d.path + "/s.db", "block_action discard\n");
  BOOST_REQUIRE(e->ListAdd(SG_LIST_BLOCK, SG_ENTRY_IP, "203.0.113.0/24", "admin", "scanner", 0).ok());
  uint64_t before = e->content_evaluations();
  Verdict v;
  e->Score(C("203.0.113.9", "buy viagra"), &v);
  BOOST_TEST(v.action == SG_ACTION_DISCARD);
  BOOST_TEST(Names(v) == "LIST_BLOCK ");
  BOOST_TEST(e->content_evaluations() == before);  // no regex ran
  e->Score(C("198.51.100.1", "buy viagra"), &v);
  BOOST_TEST(e->content_evaluations() == before + 1);
  BOOST_TEST(v.action == SG_ACTION_SPAM);
}

BOOST_AUTO_TEST_CASE(allow_list_accepts_at_once_and_beats_the_block_list) {
  TempDir d;
  auto e = Open(d.path + "/s.db");
  BOOST_REQUIRE(e->ListAdd(SG_LIST_BLOCK, SG_ENTRY_IP, "203.0.113.0/24", "drop", "", 0).ok());
  BOOST_REQUIRE(e->ListAdd(SG_LIST_ALLOW, SG_ENTRY_IP, "203.0.113.5", "admin", "my office", 0).ok());
  BOOST_REQUIRE(e->ListAdd(SG_LIST_ALLOW, SG_ENTRY_URL_DOMAIN, "friend.example", "admin", "", 0).ok());
  BOOST_REQUIRE(e->ListAdd(SG_LIST_BLOCK, SG_ENTRY_EMAIL_DOMAIN, "spam.example", "admin", "", 0).ok());
  uint64_t before = e->content_evaluations();
  Verdict v;
  e->Score(C("203.0.113.5", "buy viagra"), &v);
  BOOST_TEST(v.action == SG_ACTION_ACCEPT);
  BOOST_TEST(Names(v) == "LIST_ALLOW ");
  BOOST_TEST(e->content_evaluations() == before);
  comment::Comment c = C("198.51.100.1", "hello");
  c.fields[SG_FIELD_URL] = "https://www.Friend.example/about";
  e->Score(c, &v);
  BOOST_TEST(Names(v) == "LIST_ALLOW ");
  // A host deeper than one round of the lookup still finds its domain.
  c = C("198.51.100.1", "hello");
  c.fields[SG_FIELD_URL] = "http://a.b.c.d.e.f.g.friend.example/";
  e->Score(c, &v);
  BOOST_TEST(Names(v) == "LIST_ALLOW ");
  c = C("198.51.100.1", "hello");
  c.fields[SG_FIELD_EMAIL] = "bot@mx.spam.example";
  e->Score(c, &v);
  BOOST_TEST(Names(v) == "LIST_BLOCK ");
  BOOST_TEST(v.hits[0].field == std::string("email"));
}

BOOST_AUTO_TEST_CASE(reputation_points_follow_learning) {
  TempDir d;
  auto e = Open(d.path + "/s.db");
  for (int i = 0; i < 5; ++i) BOOST_REQUIRE(e->Learn(C("192.0.2.7", "x", "s" + std::to_string(i)), SG_LABEL_SPAM).ok());
  Verdict v;
  e->Score(C("192.0.2.7", "hello"), &v);
  BOOST_TEST(Names(v).find("REPUTATION_IP_BAD") != std::string::npos, Names(v));
  bool seen = false;
  for (const auto& h : v.hits)
    if (h.name == "REPUTATION_IP_BAD") {
      seen = true;
      BOOST_TEST(h.match == "IP 192.0.2.7: 5 spam, 0 ham");
      BOOST_TEST(h.points > 1.5);
    }
  BOOST_TEST(seen);
  // The /24 carries the reputation to a neighbour, the /32 does not.
  e->Score(C("192.0.2.8", "hello"), &v);
  BOOST_TEST(Names(v).find("REPUTATION_NET_BAD") != std::string::npos);
  BOOST_TEST(Names(v).find("REPUTATION_IP_BAD") == std::string::npos);
  // IPv6: the /64.
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(e->Learn(C("2001:db8:1:2::5", "x", "v" + std::to_string(i)), SG_LABEL_SPAM).ok());
  e->Score(C("2001:db8:1:2:ffff::1", "hello"), &v);
  BOOST_TEST(Names(v).find("REPUTATION_NET_BAD") != std::string::npos);
  e->Score(C("2001:db8:1:3::1", "hello"), &v);
  BOOST_TEST(Names(v).find("REPUTATION") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(learning_without_an_id_uses_the_content) {
  TempDir d;
  auto e = Open(d.path + "/s.db", "reputation_min_evidence 2\n");
  BOOST_REQUIRE(e->Learn(C("192.0.2.7", "same text"), SG_LABEL_SPAM).ok());
  BOOST_REQUIRE(e->Learn(C("192.0.2.7", "same text"), SG_LABEL_SPAM).ok());  // the same comment
  Verdict v;
  e->Score(C("192.0.2.7", "hello"), &v);
  BOOST_TEST(Names(v).find("REPUTATION") == std::string::npos);  // one report < 2
  BOOST_REQUIRE(e->Learn(C("192.0.2.7", "other text"), SG_LABEL_SPAM).ok());
  e->Score(C("192.0.2.7", "hello"), &v);
  BOOST_TEST(Names(v).find("REPUTATION_IP_BAD") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(auto_learn_from_confident_verdicts) {
  TempDir d;
  auto e = Open(d.path + "/s.db", "discard_score 6\nauto_learn 1\nauto_learn_ham_score 0.1\n");
  Verdict v;
  e->Score(C("192.0.2.50", "viagra", "a"), &v);   // 6.1 >= discard: learned as spam
  e->Score(C("192.0.2.50", "viagra", "b"), &v);
  e->Score(C("198.51.100.60", "hi", "c"), &v);    // 0.1 <= ham bound: learned as ham
  e->Score(C("198.51.100.70", "", "d"), &v);      // 0: ham too
  e->Score(C("192.0.2.50", "hello", "e"), &v);
  BOOST_TEST(Names(v).find("REPUTATION_IP_BAD") != std::string::npos, Names(v));
  e->Score(C("198.51.100.60", "hello", "f"), &v);
  BOOST_TEST(Names(v).find("REPUTATION_IP_GOOD") != std::string::npos, Names(v));
}

BOOST_AUTO_TEST_CASE(a_corrupt_database_fails_open_with_a_flag) {
  TempDir d;
  std::string path = d.path + "/bad.db";
  std::ofstream(path) << std::string(8192, 'Z');
  auto e = Open(path);
  BOOST_TEST(!e->has_state());
  Verdict v;
  e->Score(C("192.0.2.1", "buy viagra"), &v);
  BOOST_TEST((v.flags & SG_FLAG_STATE_UNAVAILABLE) != 0);
  BOOST_TEST(v.action == SG_ACTION_SPAM);  // content rules still answer
  Status st = e->Learn(C("192.0.2.1", "x"), SG_LABEL_SPAM);
  BOOST_TEST(st.code() == SG_EIO);
  BOOST_TEST(st.message().find("bad.db") != std::string::npos, st.message());
  // fail_closed refuses to open.
  Options o;
  o.database = path;
  o.fail_closed = 1;
  std::unique_ptr<Engine> closed;
  st = Engine::OpenString("body A /x/\n", "t.cf", o, &closed);
  BOOST_TEST(st.code() == SG_EIO);
  BOOST_TEST(!closed);
}

BOOST_AUTO_TEST_CASE(corrupt_pages_inside_a_valid_file) {
  TempDir d;
  std::string path = d.path + "/pages.db";
  {
    auto e = Open(path);
    for (int i = 0; i < 300; ++i)
      BOOST_REQUIRE(e->ListAdd(SG_LIST_BLOCK, SG_ENTRY_IP, "10." + std::to_string(i % 250) + "." + std::to_string(i / 250) + ".0/24", "admin", "", 0).ok());
    for (int i = 0; i < 300; ++i) BOOST_REQUIRE(e->Learn(C("192.0.2." + std::to_string(i % 250), "x", "p" + std::to_string(i)), SG_LABEL_SPAM).ok());
  }
  std::string cmd = "sqlite3 '" + path + "' 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null 2>&1";
  if (system(cmd.c_str()) != 0) BOOST_TEST_MESSAGE("sqlite3 CLI missing; the WAL stays");
  // Scribble over pages 3..6 (4 KiB pages), leaving the header intact.
  FILE* f = fopen(path.c_str(), "r+b");
  BOOST_REQUIRE(f);
  fseek(f, 2 * 4096, SEEK_SET);
  std::string junk(4 * 4096, '\xA5');
  fwrite(junk.data(), 1, junk.size(), f);
  fclose(f);
  auto e = Open(path);
  int unavailable = 0, errors = 0;
  for (int i = 0; i < 50; ++i) {
    Verdict v;
    e->Score(C("10." + std::to_string(i) + ".1.1", "buy viagra"), &v);  // never crashes, always answers
    unavailable += (v.flags & SG_FLAG_STATE_UNAVAILABLE) != 0;
    BOOST_TEST((v.action == SG_ACTION_SPAM || v.action == SG_ACTION_DISCARD));
    Status st = e->Learn(C("192.0.2.1", "x", "q" + std::to_string(i)), SG_LABEL_SPAM);
    errors += !st.ok();
    if (!st.ok()) BOOST_TEST((st.code() == SG_EIO || st.code() == SG_EBUSY), st.message());
  }
  BOOST_TEST_MESSAGE("corrupt pages: " << unavailable << " verdicts flagged, " << errors << " learns refused");
  BOOST_TEST(unavailable + errors > 0);  // the damage was noticed, not silently ignored
}

BOOST_AUTO_TEST_CASE(database_deleted_under_a_running_engine) {
  TempDir d;
  std::string path = d.path + "/gone.db";
  auto e = Open(path);
  BOOST_REQUIRE(e->Learn(C("192.0.2.7", "x", "1"), SG_LABEL_SPAM).ok());
  unlink(path.c_str());
  unlink((path + "-wal").c_str());
  unlink((path + "-shm").c_str());
  Verdict v;
  e->Score(C("192.0.2.7", "hello"), &v);  // the open file keeps answering, or the flag says why
  Status st = e->Learn(C("192.0.2.7", "x", "2"), SG_LABEL_SPAM);
  BOOST_TEST_MESSAGE("learn after unlink: " << (st.ok() ? "ok" : st.message()));
  BOOST_TEST((st.ok() || st.code() == SG_EIO || st.code() == SG_EBUSY));
}

BOOST_AUTO_TEST_SUITE_END()
