// The real public lists in ../shared/corpora/blocklists import through the
// C API, and addresses inside them are refused before content rules.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>

#include "spamguard/spamguard.h"

BOOST_AUTO_TEST_SUITE(integration)

BOOST_AUTO_TEST_CASE(public_blocklists_import) {
  char dir[] = "/tmp/sg_lists_XXXXXX";
  BOOST_REQUIRE(mkdtemp(dir) != nullptr);
  std::string db = std::string(dir) + "/lists.db";
  sg_config* cfg = nullptr;
  sg_config_new(&cfg);
  sg_config_set_str(cfg, SG_CFG_DATABASE, db.c_str());
  sg_engine* e = nullptr;
  BOOST_REQUIRE(sg_engine_open_string(&e, "body A /x/\n", 10, "t.cf", cfg) == SG_OK);
  sg_config_free(cfg);
  struct {
    const char* file;
    size_t at_least;
  } lists[] = {{"spamhaus_drop.txt", 500},       {"spamhaus_edrop.txt", 50},    {"spamhaus_drop_ipv6.txt", 20},
               {"firehol_level1.netset", 2000}, {"firehol_dshield.netset", 10}, {"stopforumspam_ips.txt", 10000}};
  for (const auto& l : lists) {
    std::string path = std::string(SG_CORPORA_DIR) + "/blocklists/" + l.file;
    sg_import_report* rep = nullptr;
    int rc = sg_engine_list_import(&rep, e, SG_LIST_BLOCK, path.c_str(), l.file, nullptr, 0);
    BOOST_REQUIRE_MESSAGE(rc == SG_OK, path << ": " << sg_error_message());
    printf("%s: %zu imported, %zu skipped\n", l.file, sg_import_report_imported(rep), sg_import_report_skipped(rep));
    for (size_t i = 0; i < sg_import_report_message_count(rep) && i < 3; ++i)
      printf("  %s\n", sg_import_report_message(rep, i));
    BOOST_TEST(sg_import_report_imported(rep) >= l.at_least, l.file);
    BOOST_TEST(sg_import_report_skipped(rep) == 0u, l.file);
    sg_import_report_free(rep);
  }
  // Re-importing a source replaces it: the count does not double.
  std::string drop = std::string(SG_CORPORA_DIR) + "/blocklists/spamhaus_drop.txt";
  sg_import_report* rep = nullptr;
  BOOST_REQUIRE(sg_engine_list_import(&rep, e, SG_LIST_BLOCK, drop.c_str(), "spamhaus_drop.txt", nullptr, 0) == SG_OK);
  sg_import_report_free(rep);

  // Every address in the lists is refused; take the first entry of each.
  for (const char* ip : {"1.10.16.1", "2a13:ef45::9"}) {
    sg_comment* c = nullptr;
    sg_comment_new(&c);
    sg_comment_set_field(c, SG_FIELD_IP, ip, strlen(ip));
    sg_result* r = nullptr;
    BOOST_REQUIRE(sg_engine_score(&r, e, c) == SG_OK);
    BOOST_TEST(sg_result_action(r) == SG_ACTION_SPAM, ip);
    BOOST_TEST(sg_result_hit_count(r) == 1u);
    if (sg_result_hit_count(r) > 0) BOOST_TEST(std::string(sg_result_hit_name(r, 0)) == "LIST_BLOCK");
    sg_result_free(r);
    sg_comment_free(c);
  }
  sg_engine_close(e);
  std::string rm = std::string("rm -rf ") + dir;
  BOOST_TEST(system(rm.c_str()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
