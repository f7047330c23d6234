// Rate limits: exact GCRA boundaries, the keys, escalation, clocks.
#include <boost/test/unit_test.hpp>

#include "../test_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <string>

#include "engine/engine.h"
#include "ratelimit/gcra.h"
#include "rules/ruleset.h"
#include "store/sqlite_store.h"

using namespace spamguard;
using namespace spamguard::engine;

namespace {

using sgtest::TempDir;

std::unique_ptr<Engine> Open(const std::string& cf, const std::string& db = "none") {
  Options o;
  o.database = db;
  std::unique_ptr<Engine> e;
  Status st = Engine::OpenString(cf + "body X /viagra/\nscore X 6\n", "rl.cf", o, &e);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  return e;
}

Verdict At(const Engine& e, int64_t t, const std::string& ip, int kind = SG_KIND_COMMENT, const std::string& post = "",
           const std::string& body = "hello") {
  comment::Comment c;
  c.kind = comment::Kind(kind);
  c.time = t;
  c.fields[SG_FIELD_IP] = ip;
  c.fields[SG_FIELD_POST_ID] = post;
  c.fields[SG_FIELD_BODY] = body;
  Verdict v;
  e.Score(c, &v);
  return v;
}

std::string First(const Verdict& v) { return v.hits.empty() ? "" : v.hits[0].name; }

std::unique_ptr<store::SqliteStore> MustOpenStore(const std::string& path) {
  std::unique_ptr<store::SqliteStore> s;
  Status st = store::SqliteStore::Open(path, store::SqliteOptions(), &s);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ratelimit)

BOOST_AUTO_TEST_CASE(gcra_arithmetic) {
  // 5 per 60 s, burst 3: interval 12 s, tolerance 24 s.
  int64_t tat = 0;
  bool have = false;
  for (int i = 0; i < 3; ++i) {
    auto s = spamguard::ratelimit::Gcra(have, tat, 1000, 12000, 24000);
    BOOST_REQUIRE(s.allowed);
    tat = s.tat;
    have = true;
  }
  auto s = spamguard::ratelimit::Gcra(have, tat, 1000, 12000, 24000);
  BOOST_TEST(!s.allowed);
  BOOST_TEST(s.retry_ms == 12000);
  BOOST_TEST(spamguard::ratelimit::Gcra(have, tat, 12999, 12000, 24000).allowed == false);
  BOOST_TEST(spamguard::ratelimit::Gcra(have, tat, 13000, 12000, 24000).allowed == true);
  // A request older than the key's present arrives at that present.
  auto back = spamguard::ratelimit::Gcra(true, 100'000, 1000, 12000, 24000);
  BOOST_TEST(!back.allowed);
  BOOST_TEST(back.retry_ms == 12000);
  // A key left far ahead of the real clock (a clock set back) counts as
  // just spent: one interval to wait, not years.
  auto ahead = spamguard::ratelimit::Gcra(true, 10'000'000'000, 1000, 12000, 24000, /*clock=*/1000);
  BOOST_TEST(!ahead.allowed);
  BOOST_TEST(ahead.retry_ms == 12000);
  BOOST_TEST(ahead.tat == 1000 + 24000 + 12000);
}

BOOST_AUTO_TEST_CASE(burst_rate_and_retry_after_are_exact) {
  auto e = Open("ratelimit ip 5/60s burst 3\n");
  const int64_t t0 = 1'700'000'000;
  for (int i = 0; i < 3; ++i) BOOST_TEST(At(*e, t0, "198.51.100.7").action == SG_ACTION_ACCEPT);
  Verdict v = At(*e, t0, "198.51.100.7", SG_KIND_COMMENT, "", "buy viagra");
  BOOST_TEST(v.action == SG_ACTION_THROTTLE);
  BOOST_TEST(v.retry_after == 12);
  BOOST_TEST(First(v) == "RATELIMIT_IP");
  BOOST_TEST(v.hits.size() == 1u);  // no content rule ran
  BOOST_TEST(v.hits[0].match == "198.51.100.7: over 'ip 5/60s burst 3', retry in 12 s");
  BOOST_TEST(At(*e, t0 + 11, "198.51.100.7").action == SG_ACTION_THROTTLE);
  BOOST_TEST(At(*e, t0 + 11, "198.51.100.7").retry_after == 1);
  BOOST_TEST(At(*e, t0 + 12, "198.51.100.7").action == SG_ACTION_ACCEPT);  // one more after one interval
  BOOST_TEST(At(*e, t0 + 12, "198.51.100.7").action == SG_ACTION_THROTTLE);
  // Without burst, the whole period's count may come at once.
  auto f = Open("ratelimit ip 5/60s\n");
  for (int i = 0; i < 5; ++i) BOOST_TEST(At(*f, t0, "198.51.100.7").action == SG_ACTION_ACCEPT);
  BOOST_TEST(At(*f, t0, "198.51.100.7").retry_after == 12);
}

BOOST_AUTO_TEST_CASE(neighbours_are_not_throttled_unless_a_prefix_limit_says_so) {
  auto e = Open("ratelimit ip 2/60s\n");
  const int64_t t0 = 1'700'000'000;
  At(*e, t0, "198.51.100.7");
  At(*e, t0, "198.51.100.7");
  BOOST_TEST(At(*e, t0, "198.51.100.7").action == SG_ACTION_THROTTLE);
  BOOST_TEST(At(*e, t0, "198.51.100.8").action == SG_ACTION_ACCEPT);
  auto f = Open("ratelimit ip 2/60s\nratelimit ip/24 3/60s\n");
  At(*f, t0, "198.51.100.7");
  At(*f, t0, "198.51.100.8");
  At(*f, t0, "198.51.100.9");
  Verdict v = At(*f, t0, "198.51.100.10");
  BOOST_TEST(v.action == SG_ACTION_THROTTLE);
  BOOST_TEST(First(v) == "RATELIMIT_NET");
  BOOST_TEST(v.hits[0].match.rfind("198.51.100.0/24", 0) == 0u, v.hits[0].match);
  BOOST_TEST(At(*f, t0, "198.51.101.1").action == SG_ACTION_ACCEPT);  // the next /24
}

BOOST_AUTO_TEST_CASE(rotating_addresses_inside_one_ipv6_64_are_caught) {
  auto e = Open("ratelimit ip 3/60s\nratelimit ip/64 5/60s\n");
  const int64_t t0 = 1'700'000'000;
  int throttled = 0;
  for (int i = 1; i <= 20; ++i) {
    char ip[64];
    snprintf(ip, sizeof ip, "2001:db8:1:2:%x::%x", i, i * 13);
    Verdict v = At(*e, t0, ip);
    if (v.action == SG_ACTION_THROTTLE) {
      ++throttled;
      BOOST_TEST(First(v) == "RATELIMIT_NET");
    }
  }
  BOOST_TEST(throttled == 15);  // 5 through, each from a fresh address
  BOOST_TEST(At(*e, t0, "2001:db8:1:3::1").action == SG_ACTION_ACCEPT);
}

BOOST_AUTO_TEST_CASE(trackbacks_have_their_own_limits) {
  auto e = Open("ratelimit trackback 2/60s\nratelimit post 3/60s\n");
  const int64_t t0 = 1'700'000'000;
  BOOST_TEST(At(*e, t0, "192.0.2.1", SG_KIND_TRACKBACK).action != SG_ACTION_THROTTLE);
  BOOST_TEST(At(*e, t0, "192.0.2.2", SG_KIND_TRACKBACK).action != SG_ACTION_THROTTLE);
  Verdict v = At(*e, t0, "192.0.2.3", SG_KIND_TRACKBACK);
  BOOST_TEST(v.action == SG_ACTION_THROTTLE);
  BOOST_TEST(First(v) == "RATELIMIT_TRACKBACK");
  BOOST_TEST(At(*e, t0, "192.0.2.3", SG_KIND_COMMENT).action == SG_ACTION_ACCEPT);
  BOOST_TEST(At(*e, t0, "192.0.2.3", SG_KIND_PINGBACK).action == SG_ACTION_ACCEPT);
  // Per post.
  for (int i = 0; i < 3; ++i) At(*e, t0, "192.0.2." + std::to_string(10 + i), SG_KIND_COMMENT, "42");
  BOOST_TEST(First(At(*e, t0, "192.0.2.20", SG_KIND_COMMENT, "42")) == "RATELIMIT_POST");
  BOOST_TEST(At(*e, t0, "192.0.2.20", SG_KIND_COMMENT, "43").action == SG_ACTION_ACCEPT);
}

BOOST_AUTO_TEST_CASE(malformed_and_missing_addresses_share_one_bucket) {
  auto e = Open("ratelimit ip 2/60s\nratelimit ip/24 100/60s\n");
  const int64_t t0 = 1'700'000'000;
  At(*e, t0, "not-an-ip");
  At(*e, t0, "");
  Verdict v = At(*e, t0, "999.1.1.1");
  BOOST_TEST(v.action == SG_ACTION_THROTTLE);
  BOOST_TEST(v.hits[0].match.find("without a valid address") != std::string::npos, v.hits[0].match);
}

BOOST_AUTO_TEST_CASE(older_times_meet_the_key_where_it_is) {
  auto e = Open("ratelimit ip 1/60s\n");
  BOOST_TEST(At(*e, 1'700'000'000, "192.0.2.1").action == SG_ACTION_ACCEPT);
  BOOST_TEST(At(*e, 1'700'000'000, "192.0.2.1").action == SG_ACTION_THROTTLE);
  // An older time gets no fresh allowance: the key's present applies, and
  // the retry is one interval, not years.
  Verdict v = At(*e, 1'400'000'000, "192.0.2.1");
  BOOST_TEST(v.action == SG_ACTION_THROTTLE);
  BOOST_TEST(v.retry_after <= 60);
  BOOST_TEST(At(*e, 1'700'000'060, "192.0.2.1").action == SG_ACTION_ACCEPT);
}

// Host-supplied times cannot reset a key: going back and forth between now
// and a day ago, or a year ahead of the clock, buys no allowance.
BOOST_AUTO_TEST_CASE(times_that_jump_do_not_reset_a_limit) {
  TempDir d;
  for (const std::string& db : {std::string("none"), d.path + "/t.db"}) {
    auto e = Open("ratelimit ip 5/1h\n", db);
    const int64_t now = int64_t(::time(nullptr));
    int passed = 0;
    for (int i = 0; i < 100; ++i) {
      int64_t t = i % 3 == 0 ? now : i % 3 == 1 ? now - 86400 : now + 365 * 86400;
      if (At(*e, t, "198.51.100.7").action != SG_ACTION_THROTTLE) ++passed;
    }
    BOOST_TEST(passed <= 6, db << ": " << passed << " of 100 passed a limit of 5");
  }
}

// Rotating through the /64s of one IPv6 /48 (each address new) meets the
// default rules' /48 limit.
BOOST_AUTO_TEST_CASE(rotating_ipv6_64s_meet_the_48_limit) {
  std::unique_ptr<Engine> e;
  Options o;
  o.database = "none";
  o.ratelimit_mode = SG_RATELIMIT_MEMORY;
  BOOST_REQUIRE(Engine::OpenFile(std::string(SG_SOURCE_DIR) + "/data/spamguard.cf", o, &e).ok());
  const int64_t t0 = 1'700'000'000;
  int passed = 0;
  for (int i = 0; i < 200; ++i) {
    char ip[64];
    snprintf(ip, sizeof ip, "2001:db8:7:%x::1", i);
    if (At(*e, t0, ip).action != SG_ACTION_THROTTLE) ++passed;
  }
  BOOST_TEST(passed <= 60, passed << " of 200 comments from one /48 passed");
}

// A key is bounded whatever the value: a megabyte of post id stores a
// short key.
BOOST_AUTO_TEST_CASE(long_key_values_are_hashed) {
  TempDir d;
  auto e = Open("ratelimit post 2/60s\n", d.path + "/k.db");
  std::string post(1 << 20, 'p');
  const int64_t t0 = int64_t(::time(nullptr));
  At(*e, t0, "192.0.2.1", SG_KIND_COMMENT, post);
  At(*e, t0, "192.0.2.2", SG_KIND_COMMENT, post);
  BOOST_TEST(First(At(*e, t0, "192.0.2.3", SG_KIND_COMMENT, post)) == "RATELIMIT_POST");
  std::string other = post;
  other.back() = 'q';  // same first bytes, another post
  BOOST_TEST(At(*e, t0, "192.0.2.4", SG_KIND_COMMENT, other).action != SG_ACTION_THROTTLE);
  // What is stored for it is bounded too (the copy's records: the whole
  // key when it fits the map's slot, which a megabyte does not).
  auto s = MustOpenStore(d.path + "/k.db");
  size_t keys = 0, longest = 0;
  BOOST_REQUIRE(s->EachRecord([&](const store::StoreRecord& r) {
    if (r.type == store::StoreRecord::kRate) {
      ++keys;
      longest = std::max(longest, r.key.size());
    }
    return Status::OK();
  }).ok());
  BOOST_TEST(keys == 2u);  // the two posts
  BOOST_TEST(longest < 200u);
}

BOOST_AUTO_TEST_CASE(staying_over_the_limit_escalates_to_a_timed_ban) {
  TempDir d;
  auto e = Open("ratelimit ip 1/10s burst 1\nratelimit_ban_after 3\nratelimit_ban_seconds 600\n", d.path + "/b.db");
  const int64_t t0 = 1'700'000'000;
  Verdict v;
  bool banned = false;
  int64_t t = t0;
  for (; t < t0 + 100 && !banned; ++t) {  // one request a second: ten times the rate
    v = At(*e, t, "203.0.113.66");
    for (const auto& h : v.hits) banned |= h.name == "RATELIMIT_BAN";
  }
  BOOST_TEST(banned);
  BOOST_TEST(t - t0 >= 31);  // over since t0+1, banned after 3 periods of 10 s
  BOOST_TEST(t - t0 <= 33);
  v = At(*e, t + 1, "203.0.113.66");
  BOOST_TEST(First(v) == "LIST_BLOCK");
  BOOST_TEST(v.hits[0].match.find("over 'ip 1/10s' for 3 periods") != std::string::npos, v.hits[0].match);
  BOOST_TEST(v.hits[0].match.find("until") != std::string::npos, v.hits[0].match);
  // The ban expires.
  v = At(*e, t + 700, "203.0.113.66");
  BOOST_TEST(v.action == SG_ACTION_ACCEPT, First(v));
  // A neighbour was never banned.
  BOOST_TEST(At(*e, t + 1, "203.0.113.67").action == SG_ACTION_ACCEPT);
}

BOOST_AUTO_TEST_CASE(limits_are_shared_through_the_database) {
  TempDir d;
  // Two engines on one file behave as two CGI processes would.
  auto a = Open("ratelimit ip 3/60s\n", d.path + "/s.db");
  auto b = Open("ratelimit ip 3/60s\n", d.path + "/s.db");
  const int64_t t0 = 1'700'000'000;
  BOOST_TEST(At(*a, t0, "192.0.2.9").action == SG_ACTION_ACCEPT);
  BOOST_TEST(At(*b, t0, "192.0.2.9").action == SG_ACTION_ACCEPT);
  BOOST_TEST(At(*a, t0, "192.0.2.9").action == SG_ACTION_ACCEPT);
  BOOST_TEST(At(*b, t0, "192.0.2.9").action == SG_ACTION_THROTTLE);
  // Memory mode replays without touching the file.
  Options o;
  o.database = d.path + "/s.db";
  o.ratelimit_mode = SG_RATELIMIT_MEMORY;
  std::unique_ptr<Engine> m;
  BOOST_REQUIRE(Engine::OpenString("ratelimit ip 3/60s\n", "rl.cf", o, &m).ok());
  BOOST_TEST(At(*m, t0, "192.0.2.9").action == SG_ACTION_ACCEPT);
  BOOST_TEST(At(*a, t0, "192.0.2.9").action == SG_ACTION_THROTTLE);  // the file's state is untouched
  o.ratelimit_mode = SG_RATELIMIT_OFF;
  std::unique_ptr<Engine> off;
  BOOST_REQUIRE(Engine::OpenString("ratelimit ip 1/60s\n", "rl.cf", o, &off).ok());
  for (int i = 0; i < 5; ++i) BOOST_TEST(At(*off, t0, "192.0.2.9").action == SG_ACTION_ACCEPT);
}

BOOST_AUTO_TEST_CASE(rate_strings_that_do_not_parse) {
  struct {
    const char* line;
    const char* reason;
  } cases[] = {
      {"ratelimit ip 5", "has no /PERIOD"},
      {"ratelimit ip five/60s", "the count"},
      {"ratelimit ip 5/0s", "more than zero"},
      {"ratelimit ip 5/-60s", "bad period"},
      {"ratelimit ip 0/60s", "the count"},
      {"ratelimit ip 5/60x", "bad period"},
      {"ratelimit ip 5/60s burst 0", "burst must be"},
      {"ratelimit ip 5/60s burst 99999999", "burst must be"},
      {"ratelimit ip 5/60s bust 3", "unexpected 'bust'"},
      {"ratelimit ip 5/400d", "at most 366 days"},
      {"ratelimit ip/200 5/60s", "bad prefix"},
      {"ratelimit ip/40/64 5/60s", "IPv4 prefix"},
      {"ratelimit cookie 5/60s", "unknown key 'cookie'"},
      {"ratelimit_ban_after -1", "ratelimit_ban_after"},
  };
  for (const auto& c : cases) {
    std::unique_ptr<rules::RuleSet> rs;
    std::vector<std::string> w;
    Status st = rules::RuleSet::LoadString(std::string("body A /x/\n") + c.line + "\n", "rl.cf", rules::LoadOptions(),
                                           &rs, &w);
    BOOST_TEST(!st.ok(), c.line);
    BOOST_TEST(st.message().rfind("rl.cf:2:", 0) == 0u, st.message());
    BOOST_TEST(st.message().find(c.reason) != std::string::npos, c.line << " -> " << st.message());
  }
}

BOOST_AUTO_TEST_SUITE_END()
