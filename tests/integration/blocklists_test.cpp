// Block lists in the public formats import through the C API, and addresses
// inside them are refused before content rules.
//
// list_formats_import runs on small files written for the project
// (tests/fixtures/lists/), one per format. public_blocklists_import runs on
// snapshots of the real lists when SG_BLOCKLISTS_DIR names their folder
// (.ci/run gives ../shared/corpora/blocklists); the lists themselves are not
// shipped with spamguard.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "spamguard/spamguard.h"

namespace {

struct ListFile {
  const char* file;
  size_t at_least, at_most;
};

struct Fixture {
  char dir[32] = "/tmp/sg_lists_XXXXXX";
  sg_engine* e = nullptr;
  Fixture() {
    BOOST_REQUIRE(mkdtemp(dir) != nullptr);
    std::string db = std::string(dir) + "/lists.db";
    sg_config* cfg = nullptr;
    sg_config_new(&cfg);
    sg_config_set_str(cfg, SG_CFG_DATABASE, db.c_str());
    BOOST_REQUIRE_MESSAGE(sg_engine_open_string(&e, "body A /x/\n", 10, "t.cf", cfg) == SG_OK, sg_error_message());
    sg_config_free(cfg);
  }
  ~Fixture() {
    sg_engine_close(e);
    std::string rm = std::string("rm -rf ") + dir;
    BOOST_TEST(system(rm.c_str()) == 0);
  }
  size_t Import(const std::string& folder, const ListFile& l) {
    std::string path = folder + "/" + l.file;
    sg_import_report* rep = nullptr;
    int rc = sg_engine_list_import(&rep, e, SG_LIST_BLOCK, path.c_str(), l.file, nullptr, 0);
    BOOST_REQUIRE_MESSAGE(rc == SG_OK, path << ": " << sg_error_message());
    size_t imported = sg_import_report_imported(rep);
    printf("%s: %zu imported, %zu skipped\n", l.file, imported, sg_import_report_skipped(rep));
    for (size_t i = 0; i < sg_import_report_message_count(rep) && i < 3; ++i)
      printf("  %s\n", sg_import_report_message(rep, i));
    BOOST_TEST(imported >= l.at_least, l.file << ": " << imported << " imported");
    BOOST_TEST(imported <= l.at_most, l.file << ": " << imported << " imported");
    BOOST_TEST(sg_import_report_skipped(rep) == 0u, l.file);
    sg_import_report_free(rep);
    return imported;
  }
  int Action(const char* ip, std::string* first_hit) {
    sg_comment* c = nullptr;
    sg_comment_new(&c);
    sg_comment_set_field(c, SG_FIELD_IP, ip, strlen(ip));
    sg_result* r = nullptr;
    BOOST_REQUIRE(sg_engine_score(&r, e, c) == SG_OK);
    int a = sg_result_action(r);
    *first_hit = sg_result_hit_count(r) > 0 ? sg_result_hit_name(r, 0) : "";
    sg_result_free(r);
    sg_comment_free(c);
    return a;
  }
  void ExpectBlocked(const char* ip) {
    std::string hit;
    BOOST_TEST(Action(ip, &hit) == SG_ACTION_SPAM, ip);
    BOOST_TEST(hit == "LIST_BLOCK", ip);
  }
  size_t BlockEntries() {
    sg_list_entries* out = nullptr;
    BOOST_REQUIRE(sg_engine_list_entries(&out, e, SG_LIST_BLOCK, nullptr, 10000000) == SG_OK);
    size_t n = sg_list_entries_count(out);
    sg_list_entries_free(out);
    return n;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(integration)

BOOST_AUTO_TEST_CASE(list_formats_import) {
  Fixture f;
  const std::string folder = SG_SOURCE_DIR "/tests/fixtures/lists";
  // Exact counts: every entry line imports, every header and comment is skipped.
  const ListFile lists[] = {{"drop.txt", 3, 3},      {"drop.json", 2, 2},     {"dropv6.txt", 2, 2},
                            {"level1.netset", 6, 6}, {"listed_ip.txt", 4, 4}, {"listed_ip.csv", 2, 2}};
  size_t total = 0;
  for (const auto& l : lists) total += f.Import(folder, l);
  for (const char* ip : {"198.51.100.77", "203.0.113.65", "198.19.255.255", "2001:db8:bad:ffff::1", "2001:db8:1:2::99",
                         "100.127.0.1", "192.0.2.201", "2001:db8:5::7", "192.0.2.141"})
    f.ExpectBlocked(ip);
  std::string hit;
  BOOST_TEST(f.Action("192.0.2.129", &hit) == SG_ACTION_ACCEPT);  // between DROP's /25 and the listed IPs
  BOOST_TEST(f.Action("2001:db8:1:3::1", &hit) == SG_ACTION_ACCEPT);
  BOOST_TEST(f.BlockEntries() == total);
  // Re-importing a source replaces it: the count does not grow.
  f.Import(folder, lists[0]);
  BOOST_TEST(f.BlockEntries() == total);
}

BOOST_AUTO_TEST_CASE(public_blocklists_import) {
  const char* folder = getenv("SG_BLOCKLISTS_DIR");
  BOOST_REQUIRE_MESSAGE(folder && *folder, "SG_BLOCKLISTS_DIR is not set (CMake: -DSG_BLOCKLISTS_DIR=...)");
  Fixture f;
  const ListFile lists[] = {{"spamhaus_drop.txt", 500, 100000},     {"spamhaus_edrop.txt", 50, 100000},
                            {"spamhaus_drop_ipv6.txt", 20, 100000}, {"firehol_level1.netset", 2000, 1000000},
                            {"firehol_dshield.netset", 10, 100000}, {"stopforumspam_ips.txt", 10000, 10000000}};
  for (const auto& l : lists) f.Import(folder, l);
  size_t before = f.BlockEntries();
  f.Import(folder, lists[0]);
  BOOST_TEST(f.BlockEntries() == before);
  // Every address in the lists is refused; take the first entry of each.
  for (const char* ip : {"1.10.16.1", "2a13:ef45::9"}) f.ExpectBlocked(ip);
}

BOOST_AUTO_TEST_SUITE_END()
