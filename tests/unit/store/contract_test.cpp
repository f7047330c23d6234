// The store contract: the same cases against the SQLite store and the Redis
// store (a real redis-server started for the run, one namespace per case).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "../redis_server.h"
#include "../test_util.h"
#include "lists/ip_range.h"
#include "lists/keywords.h"
#include "store/redis_store.h"
#include "store/sqlite_store.h"

using namespace spamguard;
using namespace spamguard::store;

namespace {

// One redis-server for the whole run (each case takes a namespace of its
// own), started when first needed.
sgtest::RedisServer* SharedRedis() {
  static std::unique_ptr<sgtest::RedisServer> server;
  if (!server && sgtest::RedisServer::Installed()) server = std::make_unique<sgtest::RedisServer>();
  return server && server->up() ? server.get() : nullptr;
}

struct Backend {
  virtual ~Backend() = default;
  virtual std::unique_ptr<Store> Open() = 0;  // another connection to the same state
  virtual const char* name() const = 0;
};

struct SqliteBackend : Backend {
  sgtest::TempDir dir{"/dev/shm"};
  std::unique_ptr<Store> Open() override {
    std::unique_ptr<SqliteStore> s;
    SqliteOptions o;
    Status st = SqliteStore::Open(dir.File("contract.db"), o, &s);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
    return s;
  }
  const char* name() const override { return "sqlite"; }
};

struct RedisBackend : Backend {
  std::string ns;
  RedisBackend() {
    static int n = 0;
    ns = "contract-" + std::to_string(getpid()) + "-" + std::to_string(++n);
  }
  std::unique_ptr<Store> Open() override {
    sgtest::RedisServer* server = SharedRedis();
    BOOST_REQUIRE_MESSAGE(server, "redis-server did not start");
    std::unique_ptr<RedisStore> s;
    RedisOptions o;
    o.namespace_name = ns;
    o.timeout_ms = 10000;  // sanitizer builds are slow; faults are tested elsewhere
    o.server_clock = false;
    o.require_connection = true;
    Status st = RedisStore::Open(server->unix_url(), o, &s);
    BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
    return s;
  }
  const char* name() const override { return "redis"; }
};

lists::IpRange R(const std::string& text) {
  lists::IpRange r;
  std::string err;
  BOOST_REQUIRE_MESSAGE(lists::ParseRange(text, &r, &err), text << ": " << err);
  return r;
}

std::string Match(Store& s, int list, const std::string& ip, int64_t now = 1000) {
  ListEntry e;
  bool found = false;
  Status st = s.MatchIp(list, R(ip), now, &e, &found);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  return found ? e.what + "|" + e.source + "|" + e.reason : "";
}

TokenCounts TokenOf(Store& s, uint64_t h, LearnerTotals* t = nullptr) {
  std::vector<TokenCounts> c;
  LearnerTotals tt;
  BOOST_REQUIRE(s.GetTokens({h}, &c, &tt).ok());
  if (t) *t = tt;
  return c[0];
}

LearnerTotals TotalsOf(Store& s) {
  LearnerTotals t;
  std::vector<TokenCounts> c;
  BOOST_REQUIRE(s.GetTokens({}, &c, &t).ok());
  return t;
}

void Require(const Status& st) { BOOST_REQUIRE_MESSAGE(st.ok(), st.message()); }

// Registers the case body for both stores.
#define CONTRACT(name)                                     \
  void name(Backend& b);                                   \
  BOOST_AUTO_TEST_CASE(name##_sqlite) {                    \
    SqliteBackend b;                                       \
    name(b);                                               \
  }                                                        \
  BOOST_AUTO_TEST_CASE(name##_redis) {                     \
    if (!sgtest::RedisServer::Installed()) {               \
      BOOST_TEST_MESSAGE("skip: redis-server is not installed (apt-get install redis-server)"); \
      return;                                              \
    }                                                      \
    RedisBackend b;                                        \
    name(b);                                               \
  }                                                        \
  void name(Backend& b)

}  // namespace

BOOST_AUTO_TEST_SUITE(store_contract)

CONTRACT(most_specific_entry_wins_and_edits_keep_the_index_right) {
  auto s = b.Open();
  Require(s->AddIp(kBlock, R("10.0.0.0/8"), "big", "", 1, 0));
  Require(s->AddIp(kBlock, R("10.1.0.0/16"), "mid", "", 1, 0));
  Require(s->AddIp(kBlock, R("10.1.2.0/24"), "small", "", 1, 0));
  BOOST_TEST(Match(*s, kBlock, "10.1.2.3") == "10.1.2.0/24|small|");
  BOOST_TEST(Match(*s, kBlock, "10.1.3.3") == "10.1.0.0/16|mid|");
  BOOST_TEST(Match(*s, kBlock, "10.9.3.3") == "10.0.0.0/8|big|");
  BOOST_TEST(Match(*s, kBlock, "11.0.0.0") == "");
  BOOST_TEST(Match(*s, kAllow, "10.1.2.3") == "");
  size_t removed = 0;
  Require(s->Remove(kBlock, "10.1.0.0/16", &removed));
  BOOST_TEST(removed == 1u);
  BOOST_TEST(Match(*s, kBlock, "10.1.3.3") == "10.0.0.0/8|big|");
  BOOST_TEST(Match(*s, kBlock, "10.1.2.3") == "10.1.2.0/24|small|");
  BOOST_TEST(Match(*s, kBlock, "10.1.255.255") == "10.0.0.0/8|big|");
  Require(s->Remove(kBlock, "10.0.0.0/8", &removed));
  BOOST_TEST(Match(*s, kBlock, "10.9.3.3") == "");
  BOOST_TEST(Match(*s, kBlock, "10.1.2.3") == "10.1.2.0/24|small|");
  Require(s->AddIp(kBlock, R("2001:db8::/32"), "v6", "", 1, 0));
  BOOST_TEST(Match(*s, kBlock, "2001:db8:1::1") == "2001:db8::/32|v6|");
  BOOST_TEST(Match(*s, kBlock, "2001:db9::1") == "");
  // Another connection sees the same.
  auto other = b.Open();
  BOOST_TEST(Match(*other, kBlock, "2001:db8:1::1") == "2001:db8::/32|v6|");
}

// Random adds and removes against a brute-force search: the region rebuild
// of the flat index.
CONTRACT(random_edits_match_brute_force) {
  auto s = b.Open();
  std::mt19937 rng(7);
  std::vector<std::pair<lists::IpRange, std::string>> live;
  for (int step = 0; step < 200; ++step) {
    if (!live.empty() && rng() % 3 == 0) {
      size_t k = rng() % live.size();
      size_t removed = 0;
      std::string gone = live[k].first.ToString();
      Require(s->Remove(kBlock, gone, &removed));
      size_t before = live.size();
      live.erase(std::remove_if(live.begin(), live.end(), [&](auto& e) { return e.first.ToString() == gone; }),
                 live.end());
      BOOST_REQUIRE_EQUAL(removed, before - live.size());
    } else {
      comment::IpAddress a;
      a.bytes[0] = 172;
      a.bytes[1] = uint8_t(16 + rng() % 2);
      a.bytes[2] = uint8_t(rng() % 256);
      a.bytes[3] = uint8_t(rng() % 256);
      lists::IpRange r = lists::Network(a, 12 + int(rng() % 21));
      std::string src = "s" + std::to_string(step);
      Require(s->AddIp(kBlock, r, src, "", 1, 0));
      live.emplace_back(r, src);
    }
    for (int probe = 0; probe < 20; ++probe) {
      lists::IpRange ip;
      ip.fam = 4;
      ip.plen = 32;
      ip.lo[0] = 172;
      ip.lo[1] = uint8_t(16 + rng() % 2);
      ip.lo[2] = uint8_t(rng() % 256);
      ip.lo[3] = uint8_t(rng() % 256);
      ip.hi = ip.lo;
      int best = -1;
      for (const auto& [r, src] : live)
        if (memcmp(r.lo.data(), ip.lo.data(), 4) <= 0 && memcmp(ip.lo.data(), r.hi.data(), 4) <= 0)
          best = std::max(best, r.plen);
      ListEntry e;
      bool found = false;
      Require(s->MatchIp(kBlock, ip, 10, &e, &found));
      BOOST_REQUIRE_EQUAL(found, best >= 0);
      if (found) {
        lists::IpRange got;
        std::string err;
        BOOST_REQUIRE(lists::ParseRange(e.what, &got, &err));
        BOOST_REQUIRE_EQUAL(got.plen, best);
      }
    }
  }
}

CONTRACT(expired_entries_stop_matching) {
  auto s = b.Open();
  Require(s->AddIp(kBlock, R("192.0.2.0/24"), "outer", "", 1, 0));
  Require(s->AddIp(kBlock, R("192.0.2.0/28"), "temp", "auto-ban", 1, 4000000000));
  Require(s->AddIp(kBlock, R("192.0.2.16/28"), "gone", "auto-ban", 1, 500));
  BOOST_TEST(Match(*s, kBlock, "192.0.2.3", 100) == "192.0.2.0/28|temp|auto-ban");
  BOOST_TEST(Match(*s, kBlock, "192.0.2.3", 4000000001) == "192.0.2.0/24|outer|");  // falls back to the outer block
  // (Redis: that entry's data expired with its key, long ago.)
  BOOST_TEST(Match(*s, kBlock, "192.0.2.17", 600) == "192.0.2.0/24|outer|");
  Require(s->AddName(kBlock, kEmail, "x@example.com", "t", "", 1, 4000000000));
  std::vector<std::string> c = {"x@example.com"};
  ListEntry e;
  bool found = false;
  Require(s->MatchName(kBlock, kEmail, c, 100, &e, &found));
  BOOST_TEST(found);
  Require(s->MatchName(kBlock, kEmail, c, 4000000001, &e, &found));
  BOOST_TEST(!found);
  // Pruning forgets what expired, and what is left still matches.
  PruneCounts pc;
  Require(s->Prune(0, 1000, &pc));
  BOOST_TEST(pc.list_entries == 1);
  BOOST_TEST(Match(*s, kBlock, "192.0.2.17", 1000) == "192.0.2.0/24|outer|");
  BOOST_TEST(Match(*s, kBlock, "192.0.2.3", 1000) == "192.0.2.0/28|temp|auto-ban");
}

CONTRACT(reimport_replaces_a_source_atomically) {
  auto s = b.Open();
  std::vector<ImportEntry> a = {{R("198.51.100.0/24"), "old"}, {R("203.0.113.0/24"), "old"}};
  Require(s->ReplaceSource(kBlock, "drop", a, 1, 0));
  Require(s->AddIp(kBlock, R("192.0.2.0/24"), "admin", "mine", 1, 0));
  std::vector<ImportEntry> nb = {{R("198.51.100.0/25"), "new"}};
  Require(s->ReplaceSource(kBlock, "drop", nb, 2, 0));
  BOOST_TEST(Match(*s, kBlock, "198.51.100.1") == "198.51.100.0/25|drop|new");
  BOOST_TEST(Match(*s, kBlock, "198.51.100.200") == "");
  BOOST_TEST(Match(*s, kBlock, "203.0.113.1") == "");
  BOOST_TEST(Match(*s, kBlock, "192.0.2.1") == "192.0.2.0/24|admin|mine");  // other sources stay
  // A big import, and a reader on another connection that sees either the
  // old source or the new one whole, never a mix.
  std::vector<ImportEntry> big;
  for (int i = 0; i < 20000; ++i) {
    lists::IpRange r;
    r.fam = 4;
    r.plen = 32;
    r.lo = {10, uint8_t(i >> 8), uint8_t(i & 255), 1};
    r.hi = r.lo;
    big.push_back({r, "big"});
  }
  Require(s->ReplaceSource(kBlock, "drop", big, 3, 0));
  BOOST_TEST(Match(*s, kBlock, "10.78.31.1") == "10.78.31.1|drop|big");
  BOOST_TEST(Match(*s, kBlock, "198.51.100.1") == "");
  std::vector<ListEntry> listed;
  Require(s->Entries(kBlock, nullptr, 100000, &listed));
  BOOST_TEST(listed.size() == 20001u);
}

CONTRACT(meta_characters_are_data) {
  auto s = b.Open();
  const std::string evil = std::string("x'); DROP TABLE list_entry; --\"\\%_\r\n*3\r\n$4\r\nPING\r\n{blog}:*?[]") + '\0' + "z";
  Require(s->AddIp(kBlock, R("192.0.2.0/24"), evil, evil, 1, 0));
  Require(s->AddName(kBlock, kEmailDomain, "example.com", evil, evil, 1, 0));
  BOOST_TEST(Match(*s, kBlock, "192.0.2.9") == "192.0.2.0/24|" + evil + "|" + evil);
  LearnOp op;
  op.cid = evil;
  op.label = 1;
  op.keys = {evil};
  op.now = 5;
  LearnOutcome out;
  Require(s->Learn(op, &out));
  std::vector<RepCounts> counts;
  Require(s->GetReputation({evil}, &counts));
  BOOST_TEST(counts[0].spam == 1.0);
  std::vector<ListEntry> all;
  Require(s->Entries(0, nullptr, 10, &all));
  BOOST_TEST(all.size() == 2u);
  RateDecision d;
  Require(s->RateCheck({{evil, 1000, 0, 60000}}, 1000, &d));
  BOOST_TEST(d.allowed);
  Require(s->RateCheck({{evil, 1000, 0, 60000}}, 1001, &d));
  BOOST_TEST(!d.allowed);
}

CONTRACT(learning_is_idempotent_and_moves_between_labels) {
  auto s = b.Open();
  LearnOp op;
  op.cid = "c1";
  op.label = 1;
  op.keys = {"k-ip", "k-net"};
  op.now = 1000;
  LearnOutcome out;
  Require(s->Learn(op, &out));
  BOOST_TEST(int(out) == int(LearnOutcome::kAdded));
  Require(s->Learn(op, &out));
  BOOST_TEST(int(out) == int(LearnOutcome::kUnchanged));
  op.label = 2;
  Require(s->Learn(op, &out));
  BOOST_TEST(int(out) == int(LearnOutcome::kMoved));
  std::vector<RepCounts> c;
  Require(s->GetReputation({"k-ip", "k-net", "unknown"}, &c));
  BOOST_TEST(c[0].spam == 0.0);
  BOOST_TEST(c[0].ham == 1.0);
  BOOST_TEST(c[1].ham == 1.0);
  BOOST_TEST(c[2].spam + c[2].ham == 0.0);
  op.cid = "c2";
  op.label = 1;
  op.half_life = 100;
  op.now = 2000;
  Require(s->Learn(op, &out));
  op.label = 2;
  op.now = 2100;
  Require(s->Learn(op, &out));
  Require(s->GetReputation({"k-ip"}, &c));
  BOOST_TEST(c[0].spam < 1e-9);
  BOOST_TEST(c[0].ham == 1 + std::exp2(-11.0), boost::test_tools::tolerance(1e-9));  // c1 decayed 1100 s, plus 1
}

CONTRACT(learned_tokens_move_with_relabels_and_go_when_forgotten) {
  auto s = b.Open();
  LearnOutcome out;
  LearnOp ham;
  ham.cid = "h";
  ham.label = 2;
  ham.tokens = {11, 12};
  Require(s->Learn(ham, &out));
  LearnOp base;
  base.cid = "base-spam";
  base.label = 1;
  base.tokens = {99};
  Require(s->Learn(base, &out));
  base.cid = "base-ham";
  base.label = 2;
  Require(s->Learn(base, &out));
  LearnOp op;
  op.cid = "c";
  op.label = 1;
  op.keys = {"k"};
  op.tokens = {11, 13, 0xffffffffffffffffull};
  op.now = 100;
  Require(s->Learn(op, &out));
  LearnerTotals t;
  BOOST_TEST(TokenOf(*s, 11, &t).spam == 1);
  BOOST_TEST(TokenOf(*s, 11).ham == 1);
  BOOST_TEST(TokenOf(*s, 0xffffffffffffffffull).spam == 1);
  BOOST_TEST(t.spam == 2);
  BOOST_TEST(t.ham == 2);
  BOOST_TEST(t.tokens == 5);
  for (int i = 0; i < 100; ++i) {
    Require(s->Learn(op, &out));
    BOOST_REQUIRE(int(out) == int(LearnOutcome::kUnchanged));
  }
  op.label = 2;
  Require(s->Learn(op, &out));
  BOOST_TEST(int(out) == int(LearnOutcome::kMoved));
  BOOST_TEST(TokenOf(*s, 13).spam == 0);
  BOOST_TEST(TokenOf(*s, 13).ham == 1);
  BOOST_TEST(TokenOf(*s, 11).ham == 2);
  t = TotalsOf(*s);
  BOOST_TEST(t.spam == 1);
  BOOST_TEST(t.ham == 3);
  for (int i = 0; i < 101; ++i) {
    op.label = op.label == 1 ? 2 : 1;
    Require(s->Learn(op, &out));
  }
  BOOST_TEST(op.label == 1);
  BOOST_TEST(TokenOf(*s, 13).spam == 1);
  BOOST_TEST(TokenOf(*s, 13).ham == 0);
  t = TotalsOf(*s);
  BOOST_TEST(t.spam == 2);
  BOOST_TEST(t.ham == 2);
  bool found = false;
  Require(s->Forget(op, &found));
  BOOST_TEST(found);
  BOOST_TEST(TokenOf(*s, 13).spam + TokenOf(*s, 13).ham == 0);
  BOOST_TEST(TokenOf(*s, 11).ham == 1);
  t = TotalsOf(*s);
  BOOST_TEST(t.spam == 1);
  BOOST_TEST(t.tokens == 3);
  std::vector<RepCounts> rep;
  Require(s->GetReputation({"k"}, &rep));
  BOOST_TEST(rep[0].spam + rep[0].ham < 1e-9);
  Require(s->Forget(op, &found));
  BOOST_TEST(!found);
  std::map<uint64_t, int64_t> all;
  Require(s->AllTokens([&](uint64_t h, const TokenCounts& c) { all[h] = c.spam * 100 + c.ham; }, &t));
  BOOST_TEST(all.size() == 3u);
  BOOST_TEST(all[11] == 1);
  BOOST_TEST(all[99] == 101);
}

CONTRACT(the_token_table_stays_under_its_bound) {
  auto s = b.Open();
  constexpr int64_t kMax = 1000;
  std::mt19937_64 rng(7);
  LearnOutcome out;
  LearnOp op;
  op.max_tokens = kMax;
  int64_t most = 0;
  for (int i = 0; i < 20000; ++i) {
    op.cid = std::to_string(i);
    op.label = 1 + (i & 1);
    op.tokens = {1 + rng() % 5000000, 1 + rng() % 5000000, 42};
    Require(s->Learn(op, &out));
    if (i % 512 == 0) most = std::max(most, TotalsOf(*s).tokens);
  }
  LearnerTotals t = TotalsOf(*s);
  BOOST_TEST(t.spam == 10000);
  BOOST_TEST(t.ham == 10000);
  BOOST_TEST(t.tokens <= kMax);
  BOOST_TEST(most <= kMax);
  int64_t rows = 0;
  Require(s->AllTokens([&](uint64_t, const TokenCounts&) { ++rows; }, &t));
  BOOST_TEST(rows == t.tokens);
  BOOST_TEST(TokenOf(*s, 42).spam + TokenOf(*s, 42).ham > 0);
}

// Allow list before block list, names by specificity, reputation and the
// learner's totals when on neither.
CONTRACT(one_lookup_reads_lists_then_reputation) {
  auto s = b.Open();
  Require(s->AddIp(kBlock, R("203.0.113.0/24"), "drop", "bad net", 1, 0));
  Require(s->AddName(kAllow, kEmail, "friend@example.org", "admin", "", 1, 0));
  Require(s->AddName(kBlock, kUrlDomain, "spam.example", "admin", "", 1, 0));
  LookupRequest req;
  req.now = 100;
  req.has_ip = true;
  req.ip = R("203.0.113.9");
  req.email = "friend@example.org";
  req.email_domains = {"example.org", "org"};
  LookupResult res;
  Require(s->Lookup(req, &res));
  BOOST_TEST(res.list == int(kAllow));
  BOOST_TEST(std::string(res.field) == "email");
  req.email.clear();
  req.email_domains.clear();
  Require(s->Lookup(req, &res));
  BOOST_TEST(res.list == int(kBlock));
  BOOST_TEST(std::string(res.field) == "ip");
  BOOST_TEST(res.entry.reason == "bad net");
  req.ip = R("198.51.100.1");
  req.url_domains = {"www.spam.example", "spam.example", "example"};
  Require(s->Lookup(req, &res));
  BOOST_TEST(res.list == int(kBlock));
  BOOST_TEST(std::string(res.field) == "url");
  BOOST_TEST(res.entry.what == "spam.example");
  req.url_domains = {"fine.example", "example"};
  req.rep_keys = {"rk1", "rk2"};
  req.want_learner = true;
  LearnOp op;
  op.cid = "x";
  op.label = 1;
  op.keys = {"rk2"};
  op.now = 50;
  LearnOutcome out;
  Require(s->Learn(op, &out));
  Require(s->Lookup(req, &res));
  BOOST_TEST(res.list == 0);
  BOOST_REQUIRE(res.rep.size() == 2u);
  BOOST_TEST(res.rep[0].spam + res.rep[0].ham == 0.0);
  BOOST_TEST(res.rep[1].spam == 1.0);
  BOOST_TEST(res.rep[1].updated == 50);
  BOOST_TEST(res.learner.spam == 1);
}

// GCRA: a burst, then one per interval; several keys conform together or
// none is charged.
CONTRACT(rate_limits_are_exact_and_charge_all_or_nothing) {
  auto s = b.Open();
  std::vector<RateKey> k = {{"ip:1", 1000, 2000, 60000}};  // 3 at once, then 1/s
  RateDecision d;
  int allowed = 0;
  for (int i = 0; i < 10; ++i) {
    Require(s->RateCheck(k, 100000, &d));
    allowed += d.allowed;
  }
  BOOST_TEST(allowed == 3);
  BOOST_TEST(d.retry_after_ms == 1000);
  BOOST_TEST(d.over_since_ms == 100000);
  Require(s->RateCheck(k, 101000, &d));
  BOOST_TEST(d.allowed);
  Require(s->RateCheck(k, 101000, &d));
  BOOST_TEST(!d.allowed);
  // Two keys: the second refuses, and the first is not charged.
  std::vector<RateKey> two = {{"ip:2", 1000, 0, 60000}, {"ip:1", 1000, 2000, 60000}};
  Require(s->RateCheck(two, 101000, &d));
  BOOST_TEST(!d.allowed);
  BOOST_TEST(d.denied == 1u);
  std::vector<RateState> peek;
  Require(s->RatePeek(two, &peek));
  BOOST_TEST(!peek[0].have);
  BOOST_TEST(peek[1].have);
  int64_t uses = 0;
  Require(s->CountUse("tok", 5000000000, 1, &uses));
  Require(s->CountUse("tok", 5000000000, 1, &uses));
  BOOST_TEST(uses == 2);
}

// Keys shaped as the engine builds them (an address, its /24): one group
// on Redis, each its own row on SQLite; the same answers either way.
CONTRACT(rate_states_of_one_network_are_exact_and_pruned) {
  auto s = b.Open();
  auto addr = [](int c, int d) { return std::string("\xc6\x33") + char(c) + char(d); };  // 198.51.c.d
  auto ip = [&](int c, int d) { return RateKey{"rl\x1fip 2/60s\x1f" + addr(c, d), 30000, 30000, 60000}; };
  const RateKey net = {"rl\x1fip/24 1/s\x1f\x04\x18" + addr(100, 0), 1000, 0, 60000};
  RateDecision d;
  Require(s->RateCheck({ip(100, 1), net}, 100000, &d));
  BOOST_TEST(d.allowed);
  Require(s->RateCheck({ip(100, 1), net}, 100000, &d));  // the /24 refuses: the address is not charged
  BOOST_TEST(!d.allowed);
  BOOST_TEST(d.denied == 1u);
  Require(s->RateCheck({ip(100, 1), net}, 101000, &d));  // the address's second of two
  BOOST_TEST(d.allowed);
  Require(s->RateCheck({ip(100, 1), net}, 101001, &d));
  BOOST_TEST(!d.allowed);
  BOOST_TEST(d.denied == 0u);
  for (int i = 0; i < 50; ++i) {
    Require(s->RateCheck({ip(7, i)}, 100000 + i, &d));
    BOOST_TEST(d.allowed);
  }
  std::vector<RateState> peek;
  Require(s->RatePeek({ip(100, 1), net, ip(7, 49), ip(8, 1)}, &peek));
  BOOST_TEST(peek[0].have);
  BOOST_TEST(peek[1].have);
  BOOST_TEST(peek[2].have);
  BOOST_TEST(!peek[3].have);
  StoreStats st;
  Require(s->Stats(100, &st));
  BOOST_TEST(st.ratelimit_keys == 52);
  if (std::string(b.name()) == "redis") {
    // A group sweeps the states past their use as it is written (when the
    // clock's ms are a multiple of 16): another network's states stay.
    Require(s->RateCheck({ip(7, 200)}, 160000, &d));
    Require(s->Stats(100, &st));
    BOOST_TEST(st.ratelimit_keys == 3);
  }
  // Two days on, every state is a day past its use: prune drops them all.
  PruneCounts pc;
  Require(s->Prune(0, 100 + 2 * 86400, &pc));
  BOOST_TEST(pc.ratelimit == (std::string(b.name()) == "redis" ? 3 : 52));
  Require(s->Stats(100 + 2 * 86400, &st));
  BOOST_TEST(st.ratelimit_keys == 0);
  Require(s->RatePeek({ip(100, 1), net}, &peek));
  BOOST_TEST(!peek[0].have);
  BOOST_TEST(!peek[1].have);
}

CONTRACT(form_secrets_and_keyword_lists) {
  auto s = b.Open();
  Require(s->AddFormSecret("k1", 1000, 100, true));
  Require(s->AddFormSecret("k-not", 1001, 100, true));  // one exists already
  std::vector<FormSecret> f;
  Require(s->FormSecrets(&f));
  BOOST_REQUIRE(f.size() == 1u);
  BOOST_TEST(f[0].key == "k1");
  Require(s->AddFormSecret("k2", 1050, 100, false));
  Require(s->AddFormSecret("k3", 1300, 100, false));  // k1 was replaced at 1050 < 1300 - 100
  Require(s->FormSecrets(&f));
  BOOST_REQUIRE(f.size() == 2u);
  BOOST_TEST(f[0].key == "k2");
  BOOST_TEST(f[1].key == "k3");
  int64_t v1 = 0, v2 = 0;
  std::vector<lists::KeywordEntry> kw = {{lists::kPhrase, "buy cialis", "wp", ""},
                                         {lists::kLinkPattern, "casino\\d+", "wp", "atoms"}};
  Require(s->ReplaceKeywords("wp", kw, &v1));
  Require(s->ReplaceKeywords("mt", {{lists::kPhrase, "viagra", "mt", ""}}, &v2));
  BOOST_TEST(v2 > v1);
  std::vector<lists::KeywordEntry> got;
  int64_t v = 0;
  Require(s->Keywords(lists::kPhrase, &v, &got));
  BOOST_TEST(v == v2);
  BOOST_TEST(got.size() == 2u);
  Require(s->Keywords(lists::kLinkPattern, &v, &got));
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].atoms == "atoms");
  Require(s->ReplaceKeywords("wp", {}, &v1));
  Require(s->Keywords(lists::kPhrase, &v, &got));
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].entry == "viagra");
  LookupRequest req;
  LookupResult res;
  Require(s->Lookup(req, &res));
  BOOST_TEST(res.keyword_version == v1);
}

CONTRACT(stats_and_prune_count_what_is_held) {
  auto s = b.Open();
  Require(s->ReplaceSource(kBlock, "drop", {{R("198.51.100.0/24"), ""}, {R("203.0.113.0/24"), ""}}, 1, 0));
  Require(s->AddIp(kBlock, R("192.0.2.1"), "ratelimit", "ban", 1, 500));
  Require(s->AddName(kAllow, kEmail, "a@example.org", "admin", "", 1, 0));
  LearnOp op;
  op.cid = "old";
  op.label = 1;
  op.keys = {"rk"};
  op.now = 10;
  LearnOutcome out;
  Require(s->Learn(op, &out));
  op.cid = "new";
  op.label = 2;
  op.keys = {"rk-new"};
  op.now = 5000;
  Require(s->Learn(op, &out));
  StoreStats st;
  Require(s->Stats(1000, &st));
  int64_t block_ip_active = 0, block_ip_expired = 0, allow_email = 0;
  for (const auto& l : st.lists) {
    if (l.list == kBlock && l.kind == 1) block_ip_active = l.active, block_ip_expired = l.expired;
    if (l.list == kAllow && l.kind == 2) allow_email = l.active;
  }
  BOOST_TEST(block_ip_active == 2);
  BOOST_TEST(block_ip_expired == 1);
  BOOST_TEST(allow_email == 1);
  BOOST_TEST(st.learned_spam == 1);
  BOOST_TEST(st.learned_ham == 1);
  BOOST_TEST(st.reputation_keys == 2);
  BOOST_REQUIRE(!st.sources.empty());
  BOOST_TEST(st.sources[0].source == "drop");
  BOOST_TEST(st.sources[0].entries == 2);
  PruneCounts pc;
  Require(s->Prune(1000, 1000, &pc));
  BOOST_TEST(pc.learned == 1);
  BOOST_TEST(pc.reputation == 1);
  BOOST_TEST(pc.list_entries == 1);
  Require(s->Stats(1000, &st));
  BOOST_TEST(st.learned_spam == 0);
  BOOST_TEST(st.learned_ham == 1);
  BOOST_TEST(st.reputation_keys == 1);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// Everything a store holds, as comparable lines.
std::vector<std::string> Dump(Store& s) {
  std::vector<std::string> lines;
  Require(s.EachRecord([&](const StoreRecord& r) {
    char buf[256];
    std::string line = std::to_string(int(r.type)) + "|";
    switch (r.type) {
      case StoreRecord::kEntry:
        line += std::to_string(r.entry.list) + "|" + std::to_string(r.entry.kind) + "|" + r.entry.what + "|" +
                r.entry.source + "|" + r.entry.reason + "|" + std::to_string(r.entry.added) + "|" +
                std::to_string(r.entry.expires);
        break;
      case StoreRecord::kReputation:
        snprintf(buf, sizeof buf, "%.9g|%.9g|%lld", r.rep.spam, r.rep.ham, (long long)r.rep.updated);
        line += r.key + "|" + buf;
        break;
      case StoreRecord::kLearned:
        line += r.key + "|" + std::to_string(r.label) + "|" + std::to_string(r.at) + "|" + std::to_string(r.keys.size()) +
                "|" + std::to_string(r.tokens.size()) + (r.keys.empty() ? "" : "|" + r.keys[0]);
        break;
      case StoreRecord::kLearner:
        line += std::to_string(r.learner.spam) + "|" + std::to_string(r.learner.ham) + "|" +
                std::to_string(r.learner.tokens);
        break;
      case StoreRecord::kToken:
        line += std::to_string(r.token) + "|" + std::to_string(r.counts.spam) + "|" + std::to_string(r.counts.ham);
        break;
      case StoreRecord::kRate:
        line += r.key + "|" + std::to_string(r.tat) + "|" + std::to_string(r.over_since);
        break;
      case StoreRecord::kFormSecret:
        line += std::to_string(r.secret.id) + "|" + r.secret.key + "|" + std::to_string(r.secret.created);
        break;
      case StoreRecord::kKeyword:
        line += r.keyword.source + "|" + std::to_string(r.keyword.kind) + "|" + r.keyword.entry + "|" + r.keyword.atoms;
        break;
    }
    lines.push_back(line);
    return Status::OK();
  }));
  std::sort(lines.begin(), lines.end());
  return lines;
}

void Fill(Store& s) {
  Require(s.ReplaceSource(kBlock, "drop", {{R("198.51.100.0/24"), "r1"}, {R("2001:db8::/32"), "r2"}}, 7, 0));
  Require(s.AddIp(kAllow, R("192.0.2.1"), "admin", "me", 8, 0));
  Require(s.AddIp(kBlock, R("192.0.2.99"), "ratelimit", "ban", 9, 4000000000));
  Require(s.AddName(kBlock, kUrlDomain, "spam.example", "admin", "", 10, 0));
  LearnOp op;
  LearnOutcome out;
  for (int i = 0; i < 5; ++i) {
    op.cid = "c" + std::to_string(i);
    op.label = 1 + i % 2;
    op.keys = {"key" + std::to_string(i % 3)};
    op.tokens = {uint64_t(i), uint64_t(100 + i % 2)};
    op.now = 100 + i;
    Require(s.Learn(op, &out));
  }
  RateDecision d;
  Require(s.RateCheck({{"ip:9", 1000, 0, 60000}}, 2000000000000, &d));
  Require(s.AddFormSecret(std::string(32, 'k'), 1000, 100, true));
  int64_t v = 0;
  Require(s.ReplaceKeywords("wp", {{lists::kPhrase, "buy now", "wp", ""}}, &v));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_contract)

// db copy: SQLite -> Redis -> SQLite gives back the same records, and the
// copy scores as the original does.
BOOST_AUTO_TEST_CASE(copies_between_stores_round_trip) {
  if (!sgtest::RedisServer::Installed()) {
    BOOST_TEST_MESSAGE("skip: redis-server is not installed");
    return;
  }
  SqliteBackend a, c;
  RedisBackend r;
  auto sa = a.Open(), sr = r.Open(), sc = c.Open();
  Fill(*sa);
  std::vector<StoreRecord> records;
  Require(sa->EachRecord([&](const StoreRecord& rec) {
    records.push_back(rec);
    return Status::OK();
  }));
  Require(sr->PutRecords(records));
  records.clear();
  Require(sr->EachRecord([&](const StoreRecord& rec) {
    records.push_back(rec);
    return Status::OK();
  }));
  Require(sc->PutRecords(records));
  std::vector<std::string> da = Dump(*sa), dr = Dump(*sr), dc = Dump(*sc);
  BOOST_TEST(da.size() > 20u);
  BOOST_TEST(da == dr, boost::test_tools::per_element());
  BOOST_TEST(da == dc, boost::test_tools::per_element());
  for (Store* s : {sa.get(), sr.get(), sc.get()}) {
    BOOST_TEST(Match(*s, kBlock, "2001:db8::5") == "2001:db8::/32|drop|r2");
    BOOST_TEST(Match(*s, kBlock, "192.0.2.99", 1000) == "192.0.2.99|ratelimit|ban");
    std::vector<RepCounts> rep;
    Require(s->GetReputation({"key0"}, &rep));
    BOOST_TEST(rep[0].spam == 1.0);
    BOOST_TEST(rep[0].ham == 1.0);
  }
}

BOOST_AUTO_TEST_SUITE_END()
