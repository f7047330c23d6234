// The block list for firewalls: nested entries merged into disjoint ranges
// that keep each address as long as its longest-lived entry, in each
// format's syntax, streamed.
#include <boost/test/unit_test.hpp>

#include "../test_util.h"

#include <arpa/inet.h>

#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "lists/export.h"

using namespace spamguard;

namespace {

using sgtest::TempDir;

lists::IpRange R(const std::string& text) {
  lists::IpRange r;
  std::string error;
  BOOST_REQUIRE_MESSAGE(lists::ParseRange(text, &r, &error), text + ": " + error);
  return r;
}

std::string Export(lists::ExportFormat f, const std::vector<std::pair<std::string, int64_t>>& entries,
                   int64_t now = 1000, int family = 0) {
  lists::ExportOptions o;
  o.format = f;
  o.now = now;
  o.family = family;
  std::string out;
  lists::Exporter ex(o, [&](std::string_view s) {
    out.append(s);
    return true;
  });
  for (const auto& [what, exp] : entries) BOOST_REQUIRE(ex.Add(R(what), exp).ok());
  BOOST_REQUIRE(ex.Finish().ok());
  return out;
}

uint32_t V4(const std::string& s) {
  in_addr a;
  BOOST_REQUIRE(inet_pton(AF_INET, s.c_str(), &a) == 1);
  return ntohl(a.s_addr);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(export_)

BOOST_AUTO_TEST_CASE(nested_entries_become_disjoint_ranges_with_the_longest_life) {
  // A permanent /24 with a ban inside: the ban adds nothing. A day-long /8
  // with a permanent address inside: the address stays, the rest goes with
  // the /8. Two adjacent /25s of one life are one /24.
  std::string nft = Export(lists::ExportFormat::kNft, {{"10.0.0.0/8", 1000 + 86400},
                                                       {"10.1.2.3", 0},
                                                       {"198.51.100.0/25", 0},
                                                       {"198.51.100.128/25", 0},
                                                       {"203.0.113.0/24", 0},
                                                       {"203.0.113.7", 1600},
                                                       {"2001:db8::/32", 1030}});
  BOOST_TEST(nft.find("add element inet spamguard block4 { 10.0.0.0-10.1.2.2 timeout 86400s, 10.1.2.3, "
                      "10.1.2.4-10.255.255.255 timeout 86400s, 198.51.100.0/24, 203.0.113.0/24 }\n") != std::string::npos,
             nft);
  BOOST_TEST(nft.find("add element inet spamguard block6 { 2001:db8::/32 timeout 30s }\n") != std::string::npos, nft);
  BOOST_TEST(nft.find("\tchain input {\n\t\ttype filter hook input priority filter - 1; policy accept;\n\t}\n}\n"
                      "flush chain inet spamguard input\n"
                      "flush set inet spamguard block4\n"
                      "add rule inet spamguard input tcp dport { 80, 443 } ip saddr @block4 counter drop\n"
                      "flush set inet spamguard block6\n"
                      "add rule inet spamguard input tcp dport { 80, 443 } ip6 saddr @block6 counter drop\n") !=
                 std::string::npos,
             nft);
  // Entries over by `now` are left out; one a second from its end has 1 s.
  std::string plain = Export(lists::ExportFormat::kPlain, {{"192.0.2.1", 999}, {"192.0.2.2", 1000}, {"192.0.2.3", 1001}});
  BOOST_TEST(plain == "192.0.2.3\n");
}

BOOST_AUTO_TEST_CASE(the_merge_matches_every_address_checked_one_by_one) {
  // Random nested blocks in 10.0.0.0/20 with random lives; every address's
  // life in the output must be the longest among the entries holding it.
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::pair<lists::IpRange, int64_t>> entries;
    for (int i = 0; i < 40; ++i) {
      int plen = 20 + int(rng() % 13);
      uint32_t a = V4("10.0.0.0") + (rng() % 4096);
      uint32_t mask = plen == 32 ? ~0u : ~((1u << (32 - plen)) - 1);
      a &= mask;
      char text[32];
      snprintf(text, sizeof text, "%u.%u.%u.%u/%d", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, plen);
      int64_t exp = rng() % 3 == 0 ? 0 : 1000 + int64_t(rng() % 5) * 100;
      entries.push_back({R(text), exp});
    }
    std::sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) {
      return x.first.lo != y.first.lo ? x.first.lo < y.first.lo : x.first.plen < y.first.plen;
    });
    std::map<uint32_t, int64_t> want;  // address -> life (INT64_MAX: never)
    for (const auto& [r, exp] : entries) {
      uint32_t lo = V4(r.ToString().substr(0, r.ToString().find('/')));
      uint32_t n = r.plen == 32 ? 1 : 1u << (32 - r.plen);
      for (uint32_t k = 0; k < n; ++k) {
        int64_t life = exp == 0 ? INT64_MAX : exp;
        if (life <= 1000) continue;
        auto& w = want[lo + k];
        w = std::max(w, life);
      }
    }
    lists::ExportOptions o;
    o.format = lists::ExportFormat::kNft;
    o.now = 1000;
    std::string out;
    lists::Exporter ex(o, [&](std::string_view s) {
      out.append(s);
      return true;
    });
    for (const auto& [r, exp] : entries) BOOST_REQUIRE(ex.Add(r, exp).ok());
    BOOST_REQUIRE(ex.Finish().ok());
    // Parse the elements back: "a", "a/n" or "a-b", with "timeout Ns".
    std::map<uint32_t, int64_t> got;
    size_t at = 0;
    while ((at = out.find("block4 { ", at)) != std::string::npos) {
      at += 9;
      size_t end = out.find(" }", at);
      std::stringstream items(out.substr(at, end - at));
      std::string item;
      while (std::getline(items, item, ',')) {
        std::stringstream words(item);
        std::string what, kw, t;
        words >> what >> kw >> t;
        int64_t life = kw == "timeout" ? 1000 + std::stoll(t) : INT64_MAX;
        uint32_t lo, hi;
        if (size_t dash = what.find('-'); dash != std::string::npos) {
          lo = V4(what.substr(0, dash));
          hi = V4(what.substr(dash + 1));
        } else if (size_t slash = what.find('/'); slash != std::string::npos) {
          int plen = std::stoi(what.substr(slash + 1));
          lo = V4(what.substr(0, slash));
          hi = lo + (plen == 32 ? 0 : (1u << (32 - plen)) - 1);
        } else {
          lo = hi = V4(what);
        }
        for (uint64_t k = lo; k <= hi; ++k) {
          BOOST_REQUIRE_MESSAGE(got.count(uint32_t(k)) == 0, "overlap at " << k);
          got[uint32_t(k)] = life;
        }
      }
    }
    BOOST_REQUIRE(got == want);
  }
}

BOOST_AUTO_TEST_CASE(cidr_formats_split_ranges_into_blocks) {
  std::vector<std::pair<std::string, int64_t>> e = {{"10.0.0.0/30", 1100}, {"10.0.0.1", 0}, {"2001:db8::/127", 0}};
  BOOST_TEST(Export(lists::ExportFormat::kPlain, e) == "10.0.0.0\n10.0.0.1\n10.0.0.2/31\n2001:db8::/127\n");
  std::string ipset = Export(lists::ExportFormat::kIpset, e);
  BOOST_TEST(ipset.find("add spamguard4-new 10.0.0.0 timeout 100\nadd spamguard4-new 10.0.0.1\n"
                        "add spamguard4-new 10.0.0.2/31 timeout 100\nswap spamguard4-new spamguard4\n") !=
                 std::string::npos,
             ipset);
  BOOST_TEST(ipset.find("create spamguard6 hash:net family inet6") != std::string::npos);
  std::string ipt = Export(lists::ExportFormat::kIptables, e, 1000, 4);
  BOOST_TEST(ipt.find("*filter\n:spamguard - [0:0]\n-F spamguard\n-A spamguard -s 10.0.0.0 -j DROP\n") !=
             std::string::npos);
  BOOST_TEST(ipt.find("2001:db8") == std::string::npos);
  BOOST_TEST(ipt.substr(ipt.size() - 7) == "COMMIT\n");
  std::string ht = Export(lists::ExportFormat::kHtaccess, e);
  BOOST_TEST(ht.find("    Require not ip 10.0.0.0 10.0.0.1 10.0.0.2/31\n    Require not ip 2001:db8::/127\n") !=
             std::string::npos, ht);
  // The whole space: ipset's hash:net takes /1 at most.
  BOOST_TEST(Export(lists::ExportFormat::kIpset, {{"0.0.0.0/0", 0}}).find("add spamguard4-new 0.0.0.0/1\n"
                                                                          "add spamguard4-new 128.0.0.0/1\n") !=
             std::string::npos);
  BOOST_TEST(Export(lists::ExportFormat::kNft, {{"::/0", 0}}).find("block6 { ::/0 }") != std::string::npos);
  BOOST_TEST(Export(lists::ExportFormat::kPlain, {{"0.0.0.0/0", 0}, {"::/0", 0}}) == "0.0.0.0/0\n::/0\n");
  // An empty list still empties the sets.
  std::string empty = Export(lists::ExportFormat::kIpset, {});
  BOOST_TEST(empty.find("swap spamguard4-new spamguard4") != std::string::npos);
  BOOST_TEST(empty.find("swap spamguard6-new spamguard6") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(options_are_checked) {
  lists::ExportOptions o;
  o.name = "bad name";
  BOOST_TEST(!lists::CheckExportOptions(o).ok());
  o.name = std::string(25, 'a');
  BOOST_TEST(!lists::CheckExportOptions(o).ok());
  o.name = "ok_name-1";
  BOOST_TEST(lists::CheckExportOptions(o).ok());
  o.format = lists::ExportFormat::kIptables;
  BOOST_TEST(lists::CheckExportOptions(o).message().find("one family") != std::string::npos);
  o.family = 6;
  BOOST_TEST(lists::CheckExportOptions(o).ok());
  o.format = lists::ExportFormat(9);
  BOOST_TEST(!lists::CheckExportOptions(o).ok());
  o.format = lists::ExportFormat::kNft;
  for (const char* bad : {"80,", ",80", "http", "0", "65536", "80,,443", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"}) {
    o.ports = bad;
    BOOST_TEST(!lists::CheckExportOptions(o).ok(), bad);
  }
  for (const char* good : {"", "80", "80,443", "1,65535"}) {
    o.ports = good;
    BOOST_TEST(lists::CheckExportOptions(o).ok(), good);
  }
}

BOOST_AUTO_TEST_CASE(the_engine_exports_the_database_in_one_read) {
  TempDir d;
  engine::Options o;
  o.database = d.File("s.db");
  std::unique_ptr<engine::Engine> e;
  BOOST_REQUIRE(engine::Engine::OpenString("body X /x/\n", "t.cf", o, &e).ok());
  BOOST_REQUIRE(e->ListAdd(SG_LIST_BLOCK, SG_ENTRY_IP, "2001:db8::1", "admin", "", 0).ok());
  BOOST_REQUIRE(e->ListAdd(SG_LIST_BLOCK, SG_ENTRY_IP, "203.0.113.0/24", "admin", "", 0).ok());
  BOOST_REQUIRE(e->ListAdd(SG_LIST_BLOCK, SG_ENTRY_IP, "203.0.113.0/25", "ratelimit", "", 5000).ok());
  BOOST_REQUIRE(e->ListAdd(SG_LIST_BLOCK, SG_ENTRY_IP, "192.0.2.1", "ratelimit", "", 5000).ok());
  BOOST_REQUIRE(e->ListAdd(SG_LIST_BLOCK, SG_ENTRY_EMAIL, "spam@example.com", "admin", "", 0).ok());
  BOOST_REQUIRE(e->ListAdd(SG_LIST_ALLOW, SG_ENTRY_IP, "198.51.100.1", "admin", "", 0).ok());
  lists::ExportOptions x;
  x.now = 4000;
  std::string out;
  int64_t n = 0;
  BOOST_REQUIRE(e->ListExport(x, [&](std::string_view s) { out.append(s); return true; }, &n).ok());
  BOOST_TEST(out == "192.0.2.1\n203.0.113.0/24\n2001:db8::1\n");
  BOOST_TEST(n == 3);
  // A writer that fails stops the export with an error.
  Status st = e->ListExport(x, [](std::string_view) { return false; }, &n);
  BOOST_TEST(st.code() == SG_EIO);
}

BOOST_AUTO_TEST_SUITE_END()
