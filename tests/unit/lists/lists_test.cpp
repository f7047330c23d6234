#include <boost/test/unit_test.hpp>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "../test_util.h"
#include "comment/comment.h"
#include "lists/import.h"
#include "lists/keywords.h"
#include "store/sqlite_store.h"
#include "lists/ip_index.h"
#include "lists/ip_range.h"

using namespace spamguard;
using namespace spamguard::lists;

BOOST_AUTO_TEST_SUITE(lists)

BOOST_AUTO_TEST_CASE(parse_ranges) {
  IpRange r;
  std::string err;
  BOOST_TEST(ParseRange("203.0.113.0/24", &r, &err));
  BOOST_TEST(r.fam == 4);
  BOOST_TEST(r.plen == 24);
  BOOST_TEST(r.ToString() == "203.0.113.0/24");
  BOOST_TEST(r.hi[3] == 255);
  BOOST_TEST(ParseRange("192.0.2.1", &r, &err));
  BOOST_TEST(r.plen == 32);
  BOOST_TEST(r.ToString() == "192.0.2.1");
  BOOST_TEST(ParseRange("2001:db8::/32", &r, &err));
  BOOST_TEST(r.fam == 6);
  BOOST_TEST(r.ToString() == "2001:db8::/32");
  BOOST_TEST(ParseRange("0.0.0.0/0", &r, &err));
  BOOST_TEST(r.hi[0] == 255);
}

BOOST_AUTO_TEST_CASE(refuse_bad_ranges_with_reasons) {
  struct {
    const char* text;
    const char* reason;
  } cases[] = {
      {"203.0.113.7/24", "host bits set; the network is 203.0.113.0/24"},
      {"010.0.0.1", "leading zeros"},
      {"fe80::1%eth0", "zone ids"},
      {"192.0.2.0/33", "prefix length must be 0 to 32"},
      {"2001:db8::/129", "prefix length must be 0 to 128"},
      {"192.0.2.0/", "prefix length"},
      {"192.0.2.0/2x", "prefix length"},
      {"hello", "not an IP"},
      {"", "not an IP"},
      {"1.2.3.4'; DROP TABLE list_entry;--", "not an IP"},
  };
  for (const auto& c : cases) {
    IpRange r;
    std::string err;
    BOOST_TEST(!ParseRange(c.text, &r, &err), c.text);
    BOOST_TEST(err.find(c.reason) != std::string::npos, c.text << " -> " << err);
  }
}

BOOST_AUTO_TEST_CASE(list_line_formats) {
  ListLine l;
  BOOST_TEST(int(ParseListLine("# FireHOL header", &l)) == int(LineKind::kSkip));
  BOOST_TEST(int(ParseListLine("; Spamhaus DROP List 2024/01/01", &l)) == int(LineKind::kSkip));
  BOOST_TEST(int(ParseListLine("   ", &l)) == int(LineKind::kSkip));
  BOOST_TEST(int(ParseListLine("1.10.16.0/20 ; SBL256894", &l)) == int(LineKind::kEntry));
  BOOST_TEST(l.range.ToString() == "1.10.16.0/20");
  BOOST_TEST(l.reason == "SBL256894");
  BOOST_TEST(int(ParseListLine("{\"cidr\":\"2.56.192.0/22\",\"sblid\":\"SBL459831\",\"rir\":\"ripencc\"}", &l)) ==
             int(LineKind::kEntry));
  BOOST_TEST(l.range.ToString() == "2.56.192.0/22");
  BOOST_TEST(l.reason == "SBL459831");
  BOOST_TEST(int(ParseListLine("{\"type\":\"metadata\",\"timestamp\":1,\"size\":2}", &l)) == int(LineKind::kSkip));
  BOOST_TEST(int(ParseListLine("\"ip\",\"count\",\"lastseen\"", &l)) == int(LineKind::kSkip));
  BOOST_TEST(int(ParseListLine("\"198.51.100.4\",\"12\",\"2024-01-01 10:00:00\"", &l)) == int(LineKind::kEntry));
  BOOST_TEST(l.range.ToString() == "198.51.100.4");
  BOOST_TEST(int(ParseListLine("198.51.100.5", &l)) == int(LineKind::kEntry));
  BOOST_TEST(int(ParseListLine("198.51.100.0/24 # a netset comment", &l)) == int(LineKind::kEntry));
  BOOST_TEST(int(ParseListLine("2001:db8::/32\r", &l)) == int(LineKind::kEntry));
}

BOOST_AUTO_TEST_CASE(malformed_lines_in_every_format) {
  const char* bad[] = {
      "1.10.16.0/33 ; SBL1",                       // DROP text, bad prefix
      "{\"sblid\":\"SBL1\"}",                      // JSON without cidr
      "{\"cidr\":\"1.2.3.300/32\",\"sblid\":\"x\"}",  // JSON, bad address
      "\"198.51.100.256\",\"1\",\"2024\"",        // SFS CSV, bad address
      "\"198.51.100.4,\"1\"",                      // SFS CSV, broken quote... still parses first field? no
      "198.51.100.0/24 extra words",              // netset with junk
      "not-an-ip",                                 // plain
      "10.0.0.1/8",                                // host bits
  };
  for (const char* b : bad) {
    ListLine l;
    BOOST_TEST(int(ParseListLine(b, &l)) == int(LineKind::kMalformed), b);
    BOOST_TEST(!l.error.empty(), b);
  }
}

BOOST_AUTO_TEST_CASE(names) {
  std::string out;
  BOOST_TEST(NormalizeEmail(" Spam@Example.COM ", &out));
  BOOST_TEST(out == "spam@example.com");
  BOOST_TEST(!NormalizeEmail("no-at-sign", &out));
  BOOST_TEST(!NormalizeEmail("a@b@c.com", &out));
  BOOST_TEST(NormalizeDomain("*.Example.org", &out));
  BOOST_TEST(out == "example.org");
  BOOST_TEST(!NormalizeDomain("localhost", &out));
  BOOST_TEST(!NormalizeDomain("a..b", &out));
  BOOST_TEST(!NormalizeDomain("x'; DELETE FROM t;--.com", &out));
  BOOST_TEST(UrlHost("http://user:pw@Www.Example.com:8080/p?q", &out));
  BOOST_TEST(out == "www.example.com");
  BOOST_TEST(!UrlHost("not a url", &out));
}

// The flat index answers like a brute-force search for the most specific
// covering block, on random nested and disjoint CIDRs.
BOOST_AUTO_TEST_CASE(sweep_matches_brute_force) {
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::pair<IpRange, int64_t>> entries;
    for (int i = 0; i < 60; ++i) {
      comment::IpAddress a;
      a.bytes[0] = uint8_t(10 + rng() % 3);
      a.bytes[1] = uint8_t(rng() % 4);
      a.bytes[2] = uint8_t(rng() % 256);
      a.bytes[3] = uint8_t(rng() % 256);
      int plen = 8 + int(rng() % 25);
      entries.emplace_back(Network(a, plen), i + 1);
    }
    std::sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) {
      int c = memcmp(x.first.lo.data(), y.first.lo.data(), 4);
      return c != 0 ? c < 0 : x.first.plen < y.first.plen;
    });
    std::vector<Interval> flat;
    Sweeper s(4, [&](const Interval& iv) { flat.push_back(iv); });
    for (const auto& [r, id] : entries) s.Add(r, id);
    s.Finish();
    // Intervals are ordered and disjoint.
    for (size_t i = 1; i < flat.size(); ++i) BOOST_REQUIRE(memcmp(flat[i - 1].hi.data(), flat[i].lo.data(), 4) < 0);
    for (int probe = 0; probe < 2000; ++probe) {
      std::array<uint8_t, 16> ip{};
      ip[0] = uint8_t(10 + rng() % 3);
      ip[1] = uint8_t(rng() % 4);
      ip[2] = uint8_t(rng() % 256);
      ip[3] = uint8_t(rng() % 256);
      int64_t want = 0;
      int best = -1;
      for (const auto& [r, id] : entries) {
        bool in = memcmp(r.lo.data(), ip.data(), 4) <= 0 && memcmp(ip.data(), r.hi.data(), 4) <= 0;
        if (in && r.plen > best) {  // first of equal blocks wins, as in the sweep
          best = r.plen;
          want = id;
        }
      }
      int64_t got = 0;
      for (const auto& iv : flat)
        if (memcmp(iv.lo.data(), ip.data(), 4) <= 0 && memcmp(ip.data(), iv.hi.data(), 4) <= 0) got = iv.id;
      BOOST_REQUIRE_EQUAL(got, want);
    }
  }
}


// The keyword index file beside the database holds the link patterns too,
// built: the next process maps them, reads nothing from the store, and
// finds the same entries; a damaged pattern section is not trusted (the
// index is built from the store again, and still finds them).
BOOST_AUTO_TEST_CASE(keyword_index_file_holds_the_link_patterns) {
  namespace kw = spamguard::lists;
  namespace comment = spamguard::comment;
  namespace store = spamguard::store;
  sgtest::TempDir dir;
  const std::string db = dir.File("kw.db"), cache = dir.File("kw.db-keywords");
  std::unique_ptr<store::SqliteStore> s;
  BOOST_REQUIRE(store::SqliteStore::Open(db, store::SqliteOptions{}, &s).ok());
  const std::string list = dir.File("mt.txt");
  {
    std::ofstream f(list);
    f << "([\\w\\-_.]*lostr\\.info)\n(cheap|discount)-(pills|meds)\\.info\n";
    for (int i = 0; i < 50; ++i) f << "spam" << i << "-[a-z]+\\.info\n";
    f << "^https?://[^/]*\\.xyz/\n";  // (no atom it needs: run on every link)
  }
  std::vector<kw::KeywordEntry> entries, phrases;
  std::vector<std::string> errors;
  size_t dups = 0;
  std::string io;
  BOOST_REQUIRE(kw::ReadKeywordFile(list, kw::kLinkPattern, &entries, &errors, &dups, &io));
  BOOST_REQUIRE_EQUAL(entries.size(), 53u);
  for (auto& e : entries) e.source = "mt";
  phrases.push_back({kw::kPhrase, "cheap pharmacy", "wp", ""});
  int64_t v = 0;
  BOOST_REQUIRE(s->ReplaceKeywords("mt", entries, &v).ok());
  BOOST_REQUIRE(s->ReplaceKeywords("wp", phrases, &v).ok());

  auto link = [](const char* url) {
    comment::Comment c;
    c.fields[SG_FIELD_BODY] = std::string("see <a href=\"") + url + "\">this</a>";
    comment::Normalized n;
    comment::Normalize(c, comment::Limits{}, &n);
    return std::make_pair(c, n);
  };
  auto found = [&](const kw::KeywordIndex& index, const char* url) {
    auto [c, n] = link(url);
    kw::KeywordMatch m;
    if (!index.Match(c, n, &m)) return std::string("-");
    return m.entry + "|" + m.source + "|" + m.found;
  };
  const char* urls[] = {"http://www.lostr.info/", "http://discount-meds.info/x", "http://spam42-abc.info/",
                        "http://shop.example.xyz/", "http://example.org/"};
  int64_t got = 0;
  bool mapped = true;
  auto built = kw::KeywordIndex::Load(s.get(), cache, &got, &mapped);
  BOOST_REQUIRE(built);
  BOOST_TEST(!mapped);
  BOOST_TEST(got == v);
  BOOST_TEST(built->patterns() == 53u);
  BOOST_TEST(found(*built, urls[0]) == "([\\w\\-_.]*lostr\\.info)|mt|www.lostr.info");
  BOOST_TEST(found(*built, urls[1]) == "(cheap|discount)-(pills|meds)\\.info|mt|discount-meds.info");
  BOOST_TEST(found(*built, urls[2]) == "spam42-[a-z]+\\.info|mt|spam42-abc.info");
  BOOST_TEST(found(*built, urls[3]) == "^https?://[^/]*\\.xyz/|mt|http://shop.example.xyz/");
  BOOST_TEST(found(*built, urls[4]) == "-");

  auto again = kw::KeywordIndex::Load(s.get(), cache, &got, &mapped, v);
  BOOST_REQUIRE(again);
  BOOST_TEST(mapped);
  BOOST_TEST(again->patterns() == 53u);
  BOOST_TEST(again->phrases() == 1u);
  for (const char* u : urls) BOOST_TEST(found(*again, u) == found(*built, u), u);

  // A pattern word pointing past the atoms, then a cut file: not mapped.
  std::string bytes;
  {
    std::ifstream f(cache, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    bytes = ss.str();
  }
  for (int damage = 0; damage < 2; ++damage) {
    std::string bad = bytes;
    if (damage == 0) {
      for (size_t k = bad.size() / 2; k + 4 <= bad.size(); k += 4) {
        uint32_t w;
        memcpy(&w, &bad[k], 4);
        if (w == 1) {  // (the first "filtered" word after the middle: its clause count next)
          w = 0xfffffff0u;
          memcpy(&bad[k + 4], &w, 4);
          break;
        }
      }
    } else {
      bad.resize(bad.size() - 16);
    }
    {
      std::ofstream f(cache, std::ios::binary | std::ios::trunc);
      f << bad;
    }
    ::chmod(cache.c_str(), 0644);
    auto rebuilt = kw::KeywordIndex::Load(s.get(), cache, &got, &mapped, v);
    BOOST_REQUIRE(rebuilt);
    BOOST_TEST(!mapped, "damage " << damage);
    for (const char* u : urls) BOOST_TEST(found(*rebuilt, u) == found(*built, u), u);
  }
}

BOOST_AUTO_TEST_SUITE_END()
