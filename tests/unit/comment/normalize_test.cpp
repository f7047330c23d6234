#include <boost/test/unit_test.hpp>
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <string>
#include <vector>

#include "comment/comment.h"
#include "comment/ip.h"

using namespace spamguard::comment;

BOOST_AUTO_TEST_SUITE(comment)

BOOST_AUTO_TEST_CASE(ipv4_and_ipv6) {
  IpAddress ip;
  BOOST_TEST(ParseIp(" 203.0.113.7 ", &ip));
  BOOST_TEST(!ip.v6);
  BOOST_TEST(ip.text == "203.0.113.7");
  BOOST_TEST(ParseIp("2001:DB8::1", &ip));
  BOOST_TEST(ip.v6);
  BOOST_TEST(ip.text == "2001:db8::1");
  BOOST_TEST(ParseIp("[2001:db8::2]", &ip));
  BOOST_TEST(ip.text == "2001:db8::2");
  BOOST_TEST(ParseIp("::ffff:192.0.2.1", &ip));  // v4-mapped folds to v4
  BOOST_TEST(!ip.v6);
  BOOST_TEST(ip.text == "192.0.2.1");
  BOOST_TEST(ParseIp("fe80::1%eth0", &ip));  // zone id dropped
  BOOST_TEST(ip.text == "fe80::1");
}

BOOST_AUTO_TEST_CASE(malformed_ips) {
  IpAddress ip;
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "010.0.0.1", "1.2.3.4%eth0", "fe80::1%",
                          "::gg", "hello", "1.2.3.4/24", "2001:db8:::1"}) {
    BOOST_TEST(!ParseIp(bad, &ip), "accepted: " << bad);
  }
  BOOST_TEST(!ParseIp(std::string("1.2.3.4\0", 8), &ip));
}

BOOST_AUTO_TEST_CASE(normalize_flags_and_fields) {
  Comment c;
  c.fields[SG_FIELD_BODY] = std::string("Hi <b>there</b> &amp; http://a.example/ \xFF end\0tail", 50);
  c.fields[SG_FIELD_IP] = "not-an-ip";
  c.fields[SG_FIELD_URL] = "https://Author.Example/";
  Normalized n;
  Normalize(c, Limits(), &n);
  BOOST_TEST((n.flags & SG_FLAG_INVALID_UTF8) != 0);
  BOOST_TEST((n.flags & SG_FLAG_BAD_IP) != 0);
  BOOST_TEST((n.flags & SG_FLAG_TRUNCATED) == 0);
  BOOST_TEST(n.body.find("Hi there & http://a.example/") == 0u);
  BOOST_TEST(n.body.find(std::string("end\0tail", 8)) != std::string::npos);  // NUL kept as data
  BOOST_REQUIRE(n.links.size() == 2u);
  BOOST_TEST(n.links[0] == "http://a.example/");
  BOOST_TEST(n.links[1] == "https://author.example/");
  BOOST_TEST(n.body_links == 1u);
}

BOOST_AUTO_TEST_CASE(caps_truncate_and_flag) {
  Comment c;
  c.fields[SG_FIELD_BODY] = std::string(10 * 1024 * 1024, 'a');
  c.fields[SG_FIELD_AUTHOR] = std::string(100000, 'b');
  Limits lim;
  Normalized n;
  Normalize(c, lim, &n);
  BOOST_TEST((n.flags & SG_FLAG_TRUNCATED) != 0);
  BOOST_TEST(n.rawbody.size() == lim.max_body_bytes);
  BOOST_TEST(n.author.size() == lim.max_field_bytes);
}

BOOST_AUTO_TEST_CASE(links_are_capped_and_deduplicated) {
  Comment c;
  std::string body;
  for (int i = 0; i < 500; ++i) body += "http://l" + std::to_string(i) + ".example/ http://l0.example/ ";
  c.fields[SG_FIELD_BODY] = body;
  Limits lim;
  lim.max_links = 50;
  Normalized n;
  Normalize(c, lim, &n);
  BOOST_TEST(n.links.size() == 50u);
  BOOST_TEST((n.flags & SG_FLAG_LINKS_CAPPED) != 0);
}

BOOST_AUTO_TEST_CASE(empty_comment) {
  Comment c;
  Normalized n;
  Normalize(c, Limits(), &n);
  BOOST_TEST(n.body.empty());
  BOOST_TEST(n.links.empty());
  BOOST_TEST((n.flags & SG_FLAG_NO_IP) != 0);
  BOOST_TEST((n.flags & ~SG_FLAG_NO_IP) == 0);
}

// The client behind trusted proxies: the rightmost address of the chain
// that is not a trusted proxy; a chain from any other peer is ignored.
BOOST_AUTO_TEST_CASE(client_behind_trusted_proxies) {
  auto block = [](const char* lo, const char* hi) {
    IpAddress a, b;
    BOOST_REQUIRE(ParseIp(lo, &a) && ParseIp(hi, &b));
    AddressBlock blk;
    blk.v6 = a.v6;
    blk.lo = a.bytes;
    blk.hi = b.bytes;
    return blk;
  };
  const std::vector<AddressBlock> trusted = {block("10.0.0.0", "10.255.255.255"),
                                             block("2001:db8:ffff::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")};
  auto client = [&](const char* peer, const char* fwd, bool* via = nullptr) {
    IpAddress p, c;
    bool v = false;
    BOOST_REQUIRE(ParseIp(peer, &p));
    bool ok = ResolveClient(p, fwd, trusted, &c, &v);
    if (via) *via = v;
    return ok ? c.text : std::string("(unknown)");
  };
  bool via = false;
  BOOST_TEST(client("10.0.0.1", "198.51.100.7", &via) == "198.51.100.7");
  BOOST_TEST(via);
  // Proxies chained: trusted ones are skipped from the right; what the
  // client wrote itself (left of the first untrusted entry) is not believed.
  BOOST_TEST(client("10.0.0.1", "1.2.3.4, 198.51.100.7, 10.9.9.9") == "198.51.100.7");
  BOOST_TEST(client("10.0.0.1", " 198.51.100.7:4711 ,10.1.1.1:80") == "198.51.100.7");
  // IPv6, bracketed with a port, and an IPv6 proxy.
  BOOST_TEST(client("2001:db8:ffff::2", "[2001:db8:1::7]:443") == "2001:db8:1::7");
  BOOST_TEST(client("10.0.0.1", "2001:db8:1::7, 2001:db8:ffff::9") == "2001:db8:1::7");
  BOOST_TEST(client("10.0.0.1", "::ffff:198.51.100.9") == "198.51.100.9");
  // A peer that is not a trusted proxy: its header is ignored (no spoofing).
  BOOST_TEST(client("198.51.100.50", "10.0.0.1, 203.0.113.1", &via) == "198.51.100.50");
  BOOST_TEST(!via);
  // Only trusted proxies in the chain: the leftmost is the client.
  BOOST_TEST(client("10.0.0.1", "10.0.0.2, 10.0.0.3") == "10.0.0.2");
  // No chain: the proxy itself sent it.
  BOOST_TEST(client("10.0.0.1", "", &via) == "10.0.0.1");
  BOOST_TEST(!via);
  BOOST_TEST(client("10.0.0.1", " , ,") == "10.0.0.1");
  // Malformed entries: the client is unknown, never a guess.
  BOOST_TEST(client("10.0.0.1", "unknown") == "(unknown)");
  BOOST_TEST(client("10.0.0.1", "198.51.100.7, garbage") == "(unknown)");
  BOOST_TEST(client("10.0.0.1", "010.1.1.1") == "(unknown)");
  BOOST_TEST(client("10.0.0.1", std::string(5000, ',').c_str()) == "10.0.0.1");
}

namespace {

double CpuSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// CPU seconds to normalize one comment whose body is `unit` repeated to
// `bytes` (the best of several runs, each long enough to measure).
double NormalizeSeconds(const std::string& unit, size_t bytes) {
  Comment c;
  std::string body;
  while (body.size() + unit.size() <= bytes) body += unit;
  c.fields[SG_FIELD_BODY] = body;
  c.fields[SG_FIELD_EXCERPT] = body.substr(0, 4096);
  Limits lim;
  lim.max_body_bytes = 1 << 20;
  double best = 1e9;
  for (int run = 0; run < 5; ++run) {
    int reps = 0;
    double start = CpuSeconds(), spent = 0;
    do {
      Normalized n;
      Normalize(c, lim, &n);
      ++reps;
      spent = CpuSeconds() - start;
    } while (spent < 0.02 && reps < 100000);
    best = std::min(best, spent / reps);
  }
  return best;
}

}  // namespace

// Every scan of the body is linear: for the worst shape of each look-ahead
// (HTML comments, tags, attributes, entities, BBCode, links, bare domains),
// four times the text costs about four times as much, not sixteen. A scan
// that searches the rest of the body from each of many openers (a body of
// "<!--" once cost 3.6 s per comment) fails the ratio.
BOOST_AUTO_TEST_CASE(every_scan_of_the_body_is_linear) {
  const std::vector<std::pair<const char*, std::string>> shapes = {
      {"unclosed HTML comments", "<!--"},
      {"unclosed HTML comments with dashes", "<!-- -- -"},
      {"unclosed tags", "<a"},
      {"unclosed tag with attribute", "<a href='x "},
      {"tags of every name", "<b>x</b><img src=http://e.com/i>"},
      {"unclosed BBCode", "["},
      {"BBCode opening tags", "[url]"},
      {"BBCode with values", "[url=http://e.com/]"},
      {"unclosed BBCode values", "[url=x"},
      {"entity names", "&CounterClockwiseContourIntegra"},
      {"legacy entities", "&copy"},
      {"numeric entities", "&#0000000000000000000000000000000"},
      {"links", "http://"},
      {"www", "www.a"},
      {"bare domains", "a.com "},
      {"dots", "."},
      {"mixed scripts", "a\xD0\xB0\xE2\x80\x8B"},
  };
  // What is measured is the scans, not the allocator: keep freed memory
  // (glibc otherwise returns it to the system once more than 128 KiB is
  // free, and each run then pays page faults only the larger sizes meet).
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  for (const auto& [name, unit] : shapes) {
    // A busy machine can slow one measurement: a shape passes when one of
    // three tries shows linear growth (a quadratic scan shows 16x in all).
    double t16 = 0, t32 = 0, t64 = 0, ratio = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {
      t16 = NormalizeSeconds(unit, 16 << 10);
      t32 = NormalizeSeconds(unit, 32 << 10);
      t64 = NormalizeSeconds(unit, 64 << 10);
      ratio = t64 / std::max(t16, 1e-9);
      if (ratio < 8.0) break;
    }
    BOOST_TEST_MESSAGE(name << ": 16 KiB " << t16 * 1e6 << " us, 32 KiB " << t32 * 1e6 << " us, 64 KiB "
                            << t64 * 1e6 << " us, ratio " << ratio);
    // Linear is 4; quadratic 16. The margin absorbs a busy machine.
    BOOST_TEST(ratio < 8.0, name << ": 64 KiB costs " << ratio << "x of 16 KiB (" << t16 * 1e6 << " us, "
                                 << t64 * 1e6 << " us)");
  }
}

BOOST_AUTO_TEST_SUITE_END()
