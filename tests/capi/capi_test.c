/* The C ABI exercised from C: every function, error paths and NULLs. */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spamguard/spamguard.h"

static int failures = 0;
static char g_dir[256];  /* a private folder for the databases */
static sg_config *g_cfg; /* database in g_dir */
#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n",        \
              __FILE__, __LINE__, #cond, sg_error_message());              \
      ++failures;                                                          \
    }                                                                      \
  } while (0)

static const char *kRules =
    "required_score 5\n"
    "moderate_score 2\n"
    "discard_score 10\n"
    "body PHARMA /\\b(?:viagra|cialis)\\b/i\n"
    "score PHARMA 3.5\n"
    "describe PHARMA Pharmacy spam words\n"
    "uri SHORT /^https?:\\/\\/bit\\.ly\\//\n"
    "score SHORT 2\n"
    "describe SHORT URL shortener\n"
    "body NUL /a\\x00b/\n"
    "describe NUL NUL byte inside\n"
    "check BADUTF invalid_utf8\n"
    "describe BADUTF invalid UTF-8\n"
    "author __EMPTY /^$/\n"
    "describe __EMPTY no author\n";

static void test_version_and_status(void) {
  CHECK(sg_version_number() == SG_VERSION_NUMBER);
  CHECK(sg_version_number() / 10000 == SG_VERSION_MAJOR);
  CHECK(strcmp(sg_version_string(), SG_VERSION_STRING) == 0);
  CHECK(strcmp(sg_status_str(SG_OK), "ok") == 0);
  CHECK(strcmp(sg_status_str(SG_EINVAL), "invalid argument") == 0);
  CHECK(strcmp(sg_status_str(SG_ERULE), "rule error") == 0);
  CHECK(strcmp(sg_status_str(12345), "unknown status") == 0);
  CHECK(strcmp(sg_action_str(SG_ACTION_SPAM), "spam") == 0);
  CHECK(strcmp(sg_action_str(SG_ACTION_THROTTLE), "throttle") == 0);
  CHECK(strcmp(sg_action_str(99), "unknown") == 0);
  sg_free(NULL);
}

static void test_config(void) {
  sg_config *cfg = NULL;
  int64_t v = -1, lo = 0, hi = 0;
  CHECK(sg_config_new(NULL) == SG_EINVAL);
  CHECK(sg_error_code() == SG_EINVAL);
  CHECK(strlen(sg_error_message()) > 0);
  CHECK(sg_config_new(&cfg) == SG_OK);
  CHECK(sg_error_code() == SG_OK);
  CHECK(strcmp(sg_error_message(), "") == 0);
  CHECK(sg_config_get_int(&v, cfg, SG_CFG_STRICT_RULES) == SG_OK && v == 1);
  CHECK(sg_config_set_int(cfg, SG_CFG_MAX_BODY_BYTES, 1024) == SG_OK);
  CHECK(sg_config_get_int(&v, cfg, SG_CFG_MAX_BODY_BYTES) == SG_OK && v == 1024);
  CHECK(sg_config_set_int(cfg, SG_CFG_MAX_BODY_BYTES, 0) == SG_OK);
  CHECK(sg_config_get_int(&v, cfg, SG_CFG_MAX_BODY_BYTES) == SG_OK && v == 0);
  CHECK(sg_config_set_int(cfg, SG_CFG_MAX_BODY_BYTES, 1) == SG_ELIMIT);
  CHECK(strstr(sg_error_message(), "must be 0 or in") != NULL);
  CHECK(sg_config_set_int(cfg, SG_CFG_STRICT_RULES, 2) == SG_ELIMIT);
  CHECK(sg_config_set_int(cfg, 4242, 1) == SG_EINVAL);
  CHECK(sg_config_set_int(NULL, SG_CFG_MAX_LINKS, 1) == SG_EINVAL);
  CHECK(sg_config_get_int(NULL, cfg, SG_CFG_MAX_LINKS) == SG_EINVAL);
  CHECK(sg_config_get_int(&v, NULL, SG_CFG_MAX_LINKS) == SG_EINVAL);
  CHECK(sg_config_get_int(&v, cfg, 4242) == SG_EINVAL);
  CHECK(sg_config_param_bounds(&lo, &hi, SG_CFG_MAX_LINKS) == SG_OK && lo == 1 && hi == 100000);
  CHECK(sg_config_param_bounds(&lo, &hi, SG_CFG_RE2_MAX_MEM) == SG_OK && lo > 0 && hi > lo);
  CHECK(sg_config_param_bounds(NULL, &hi, SG_CFG_MAX_LINKS) == SG_EINVAL);
  CHECK(sg_config_param_bounds(&lo, NULL, SG_CFG_MAX_LINKS) == SG_EINVAL);
  CHECK(sg_config_param_bounds(&lo, &hi, 4242) == SG_EINVAL);
  sg_config_free(cfg);
  sg_config_free(NULL);
}

static void test_open_errors(void) {
  sg_engine *e = (sg_engine *)1;
  const char *broken = "body A /x/\nbody B /(?=look)/\n";
  CHECK(sg_engine_open(NULL, "x.cf", NULL) == SG_EINVAL);
  CHECK(sg_engine_open(&e, NULL, NULL) == SG_EINVAL);
  CHECK(e == NULL);
  e = (sg_engine *)1;
  CHECK(sg_engine_open(&e, "/nonexistent/dir/spamguard.cf", NULL) == SG_EIO);
  CHECK(e == NULL);
  CHECK(strstr(sg_error_message(), "/nonexistent/dir/spamguard.cf: cannot open") != NULL);
  CHECK(sg_engine_open_string(NULL, "", 0, NULL, NULL) == SG_EINVAL);
  CHECK(sg_engine_open_string(&e, NULL, 5, NULL, NULL) == SG_EINVAL);
  CHECK(sg_engine_open_string(&e, broken, strlen(broken), "my.cf", NULL) == SG_ERULE);
  CHECK(e == NULL);
  CHECK(sg_error_code() == SG_ERULE);
  CHECK(strstr(sg_error_message(), "my.cf:2: rule B:") != NULL);
  CHECK(strstr(sg_error_message(), "look-ahead") != NULL);
  CHECK(sg_engine_open_string(&e, "nonsense here\n", 14, NULL, NULL) == SG_EPARSE);
  CHECK(strstr(sg_error_message(), "<string>:1: unknown directive") != NULL);
  /* An empty rule file is valid: nothing scores. */
  CHECK(sg_engine_open_string(&e, NULL, 0, NULL, g_cfg) == SG_OK);
  CHECK(e != NULL && sg_engine_rule_count(e) == 0);
  sg_engine_close(e);
}

static void test_lenient(void) {
  sg_config *cfg = NULL;
  sg_engine *e = NULL;
  const char *broken = "body A /x/\nbody B /(/\n";
  CHECK(sg_config_new(&cfg) == SG_OK);
  CHECK(sg_config_set_int(cfg, SG_CFG_STRICT_RULES, 0) == SG_OK);
  CHECK(sg_config_set_str(cfg, SG_CFG_DATABASE, "none") == SG_OK);
  CHECK(sg_engine_open_string(&e, broken, strlen(broken), "l.cf", cfg) == SG_OK);
  sg_config_free(cfg); /* the engine does not keep it */
  CHECK(sg_engine_rule_count(e) == 1);
  CHECK(sg_engine_warning_count(e) == 1);
  CHECK(strstr(sg_engine_warning(e, 0), "l.cf:2:") != NULL);
  CHECK(sg_engine_warning(e, 1) == NULL);
  CHECK(sg_engine_warning(NULL, 0) == NULL);
  CHECK(sg_engine_warning_count(NULL) == 0);
  sg_engine_close(e);
}

static void test_comment_builder(void) {
  sg_comment *c = NULL;
  CHECK(sg_comment_new(NULL) == SG_EINVAL);
  CHECK(sg_comment_new(&c) == SG_OK);
  CHECK(sg_comment_set_kind(c, SG_KIND_TRACKBACK) == SG_OK);
  CHECK(sg_comment_set_kind(c, 77) == SG_EINVAL);
  CHECK(sg_comment_set_kind(NULL, SG_KIND_COMMENT) == SG_EINVAL);
  CHECK(sg_comment_set_field(c, SG_FIELD_BODY, "x", 1) == SG_OK);
  CHECK(sg_comment_set_field(c, SG_FIELD_BODY, NULL, 0) == SG_OK);
  CHECK(sg_comment_set_field(c, SG_FIELD_BODY, NULL, 3) == SG_EINVAL);
  CHECK(sg_comment_set_field(c, 0, "x", 1) == SG_EINVAL);
  CHECK(sg_comment_set_field(c, 99, "x", 1) == SG_EINVAL);
  CHECK(sg_comment_set_field(NULL, SG_FIELD_BODY, "x", 1) == SG_EINVAL);
  CHECK(sg_comment_set_time(c, 1700000000) == SG_OK);
  CHECK(sg_comment_set_time(NULL, 0) == SG_EINVAL);
  /* Times outside 0..SG_TIME_MAX are refused (INT64_MIN once poisoned the
     reputation arithmetic), and the comment keeps its time. */
  CHECK(sg_comment_set_time(c, INT64_MIN) == SG_EINVAL);
  CHECK(strstr(sg_error_message(), "out of range") != NULL);
  CHECK(sg_comment_set_time(c, -1) == SG_EINVAL);
  CHECK(sg_comment_set_time(c, SG_TIME_MAX + 1) == SG_EINVAL);
  CHECK(sg_comment_set_time(c, SG_TIME_MAX) == SG_OK);
  CHECK(sg_comment_set_time(c, 1700000000) == SG_OK);
  sg_comment_reset(c);
  sg_comment_reset(NULL);
  sg_comment_free(c);
  sg_comment_free(NULL);
}

static void set(sg_comment *c, int field, const char *s) {
  CHECK(sg_comment_set_field(c, field, s, strlen(s)) == SG_OK);
}

static void test_score(void) {
  sg_engine *e = NULL;
  sg_comment *c = NULL;
  sg_result *r = (sg_result *)1;
  size_t i, len = 0;
  int found_pharma = 0, found_short = 0;
  char *json = NULL;
  size_t json_len = 0;
  const char nul_body[] = "xa\0by";

  CHECK(sg_engine_open_string(&e, kRules, strlen(kRules), "t.cf", g_cfg) == SG_OK);
  CHECK(sg_engine_rule_count(e) == 5);
  CHECK(strcmp(sg_engine_rule_name(e, 0), "PHARMA") == 0);
  CHECK(strcmp(sg_engine_rule_field(e, 1), "uri") == 0);
  CHECK(strcmp(sg_engine_rule_description(e, 0), "Pharmacy spam words") == 0);
  CHECK(sg_engine_rule_score(e, 0) == 3.5);
  CHECK(sg_engine_rule_name(e, 5) == NULL);
  CHECK(sg_engine_rule_field(e, 5) == NULL);
  CHECK(sg_engine_rule_description(e, 5) == NULL);
  CHECK(sg_engine_rule_score(e, 5) == 0.0);
  CHECK(sg_engine_rule_count(NULL) == 0);
  CHECK(sg_engine_rule_name(NULL, 0) == NULL);
  CHECK(sg_engine_threshold(e, SG_ACTION_MODERATE) == 2.0);
  CHECK(sg_engine_threshold(e, SG_ACTION_SPAM) == 5.0);
  CHECK(sg_engine_threshold(e, SG_ACTION_DISCARD) == 10.0);
  CHECK(sg_engine_threshold(e, SG_ACTION_ACCEPT) == 0.0);
  CHECK(sg_engine_threshold(NULL, SG_ACTION_SPAM) == 0.0);

  CHECK(sg_comment_new(&c) == SG_OK);
  set(c, SG_FIELD_AUTHOR, "Spammer");
  set(c, SG_FIELD_EMAIL, "s@example.com");
  set(c, SG_FIELD_URL, "http://example.com/");
  set(c, SG_FIELD_IP, "2001:db8::7");
  set(c, SG_FIELD_USER_AGENT, "Mozilla/5.0");
  set(c, SG_FIELD_REFERRER, "http://blog.example/post");
  set(c, SG_FIELD_POST_ID, "42");
  set(c, SG_FIELD_PERMALINK, "http://blog.example/post/42");
  set(c, SG_FIELD_ID, "c-1");
  set(c, SG_FIELD_BODY, "Buy Viagra at <a href=\"http://bit.ly/x\">this shop</a>");

  CHECK(sg_engine_score(NULL, e, c) == SG_EINVAL);
  CHECK(sg_engine_score(&r, NULL, c) == SG_EINVAL);
  CHECK(r == NULL);
  CHECK(sg_engine_score(&r, e, NULL) == SG_EINVAL);
  CHECK(sg_engine_score(&r, e, c) == SG_OK);
  CHECK(sg_result_action(r) == SG_ACTION_SPAM);
  CHECK(fabs(sg_result_score(r) - 5.5) < 1e-9);
  CHECK(sg_result_retry_after(r) == 0);
  CHECK(sg_result_flags(r) == 0);
  CHECK(sg_result_hit_count(r) == 2);
  for (i = 0; i < sg_result_hit_count(r); ++i) {
    const char *m = sg_result_hit_match(r, i, &len);
    if (strcmp(sg_result_hit_name(r, i), "PHARMA") == 0) {
      found_pharma = 1;
      CHECK(i == 0); /* highest points first */
      CHECK(sg_result_hit_points(r, i) == 3.5);
      CHECK(strcmp(sg_result_hit_field(r, i), "body") == 0);
      CHECK(strcmp(sg_result_hit_description(r, i), "Pharmacy spam words") == 0);
      CHECK(len == 6 && memcmp(m, "Viagra", 6) == 0);
    } else if (strcmp(sg_result_hit_name(r, i), "SHORT") == 0) {
      found_short = 1;
      CHECK(strcmp(sg_result_hit_field(r, i), "uri") == 0);
      CHECK(strcmp(m, "http://bit.ly/x") == 0);
    }
  }
  CHECK(found_pharma && found_short);
  CHECK(sg_result_hit_name(r, 2) == NULL);
  CHECK(sg_result_hit_field(r, 2) == NULL);
  CHECK(sg_result_hit_description(r, 2) == NULL);
  CHECK(sg_result_hit_points(r, 2) == 0.0);
  CHECK(sg_result_hit_match(r, 2, &len) == NULL && len == 0);
  CHECK(sg_result_hit_match(r, 0, NULL) != NULL);

  CHECK(sg_result_to_json(NULL, &json_len, r) == SG_EINVAL);
  CHECK(sg_result_to_json(&json, &json_len, NULL) == SG_EINVAL);
  CHECK(json == NULL);
  CHECK(sg_result_to_json(&json, &json_len, r) == SG_OK);
  CHECK(json != NULL && strlen(json) == json_len);
  CHECK(strstr(json, "\"action\":\"spam\"") != NULL);
  CHECK(strstr(json, "\"score\":5.5") != NULL);
  CHECK(strstr(json, "\"rule\":\"PHARMA\"") != NULL);
  CHECK(strstr(json, "\"match\":\"Viagra\"") != NULL);
  sg_free(json);
  json = NULL;
  CHECK(sg_result_to_json(&json, NULL, r) == SG_OK);
  sg_free(json);

  /* The engine can close before its results are freed. */
  sg_engine_close(e);
  CHECK(strcmp(sg_result_hit_description(r, 0), "Pharmacy spam words") == 0);
  sg_result_free(r);

  /* NULL results answer neutral values. */
  CHECK(sg_result_action(NULL) == SG_ACTION_ACCEPT);
  CHECK(sg_result_score(NULL) == 0.0);
  CHECK(sg_result_retry_after(NULL) == 0);
  CHECK(sg_result_flags(NULL) == 0);
  CHECK(sg_result_hit_count(NULL) == 0);
  CHECK(sg_result_hit_name(NULL, 0) == NULL);
  sg_result_free(NULL);
  sg_engine_close(NULL);

  /* Hostile input: NUL bytes, invalid UTF-8, a malformed IP, a 10 MB body. */
  CHECK(sg_engine_open_string(&e, kRules, strlen(kRules), "t.cf", g_cfg) == SG_OK);
  sg_comment_reset(c);
  CHECK(sg_comment_set_field(c, SG_FIELD_BODY, nul_body, sizeof nul_body - 1) == SG_OK);
  set(c, SG_FIELD_IP, "999.1.1.1");
  CHECK(sg_engine_score(&r, e, c) == SG_OK);
  CHECK(sg_result_hit_count(r) == 1);
  CHECK(strcmp(sg_result_hit_name(r, 0), "NUL") == 0);
  CHECK(sg_result_hit_match(r, 0, &len) != NULL && len == 3);
  CHECK(sg_result_flags(r) & SG_FLAG_BAD_IP);
  CHECK(sg_result_to_json(&json, &json_len, r) == SG_OK);
  CHECK(strstr(json, "\\u0000") != NULL); /* NUL escaped, not truncating */
  CHECK(strstr(json, "\"bad_ip\"") != NULL);
  sg_free(json);
  sg_result_free(r);

  sg_comment_reset(c);
  set(c, SG_FIELD_BODY, "caf\xC3 \xFF\xFE viagra");
  CHECK(sg_engine_score(&r, e, c) == SG_OK);
  CHECK(sg_result_flags(r) & SG_FLAG_INVALID_UTF8);
  CHECK(sg_result_flags(r) & SG_FLAG_NO_IP);
  CHECK(sg_result_hit_count(r) == 2); /* PHARMA and BADUTF */
  sg_result_free(r);

  {
    size_t big = 10u * 1024u * 1024u;
    char *body = malloc(big);
    CHECK(body != NULL);
    memset(body, 'a', big);
    memcpy(body + big - 7, " viagra", 7); /* beyond the cap: not scanned */
    sg_comment_reset(c);
    CHECK(sg_comment_set_field(c, SG_FIELD_BODY, body, big) == SG_OK);
    free(body);
    CHECK(sg_engine_score(&r, e, c) == SG_OK);
    CHECK(sg_result_flags(r) & SG_FLAG_TRUNCATED);
    CHECK(sg_result_hit_count(r) == 0);
    sg_result_free(r);
  }

  /* An empty comment is scored, not refused. */
  sg_comment_reset(c);
  CHECK(sg_engine_score(&r, e, c) == SG_OK);
  CHECK(sg_result_action(r) == SG_ACTION_ACCEPT);
  CHECK(sg_result_hit_count(r) == 0);
  sg_result_free(r);

  sg_comment_free(c);
  sg_engine_close(e);
}

static sg_result *score_ip(sg_engine *e, const char *id, const char *ip, const char *email) {
  sg_comment *c = NULL;
  sg_result *r = NULL;
  CHECK(sg_comment_new(&c) == SG_OK);
  set(c, SG_FIELD_ID, id);
  set(c, SG_FIELD_IP, ip);
  set(c, SG_FIELD_EMAIL, email);
  set(c, SG_FIELD_BODY, "hello there");
  CHECK(sg_engine_score(&r, e, c) == SG_OK);
  sg_comment_free(c);
  return r;
}

static int learn_ip(sg_engine *e, const char *id, const char *ip, int label) {
  sg_comment *c = NULL;
  int rc;
  CHECK(sg_comment_new(&c) == SG_OK);
  set(c, SG_FIELD_ID, id);
  set(c, SG_FIELD_IP, ip);
  rc = sg_engine_learn(e, c, label);
  sg_comment_free(c);
  return rc;
}

static int has_hit(const sg_result *r, const char *name) {
  size_t i;
  for (i = 0; i < sg_result_hit_count(r); ++i)
    if (strcmp(sg_result_hit_name(r, i), name) == 0) return 1;
  return 0;
}

static void test_state(void) {
  char path[512], list[512];
  const char *rules = "reputation_half_life_days 0\nreputation_min_evidence 2\nbody X /never-matches-xyz/\n";
  sg_config *cfg = NULL;
  sg_engine *e = NULL;
  sg_result *r = NULL;
  sg_import_report *rep = (sg_import_report *)1;
  size_t removed = 99;
  struct stat st;
  FILE *f;

  snprintf(path, sizeof path, "%s/state.db", g_dir);
  CHECK(sg_config_new(&cfg) == SG_OK);
  CHECK(sg_config_set_str(NULL, SG_CFG_DATABASE, path) == SG_EINVAL);
  CHECK(sg_config_set_str(cfg, 4242, path) == SG_EINVAL);
  CHECK(sg_config_set_str(cfg, SG_CFG_DATABASE, path) == SG_OK);
  CHECK(sg_engine_open_string(&e, rules, strlen(rules), "state.cf", cfg) == SG_OK);
  CHECK(sg_engine_has_state(e) == 1);
  CHECK(sg_engine_has_state(NULL) == 0);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

  /* Reputation from learning, idempotent per comment id. */
  r = score_ip(e, "q1", "192.0.2.10", "");
  CHECK(sg_result_hit_count(r) == 0 && sg_result_flags(r) == 0);
  sg_result_free(r);
  CHECK(learn_ip(e, "a1", "192.0.2.10", SG_LABEL_SPAM) == SG_OK);
  CHECK(learn_ip(e, "a1", "192.0.2.10", SG_LABEL_SPAM) == SG_OK); /* counts once */
  r = score_ip(e, "q2", "192.0.2.10", "");
  CHECK(!has_hit(r, "REPUTATION_IP_BAD")); /* 1 report < min_evidence 2 */
  sg_result_free(r);
  CHECK(learn_ip(e, "a2", "192.0.2.10", SG_LABEL_SPAM) == SG_OK);
  r = score_ip(e, "q3", "192.0.2.10", "");
  CHECK(has_hit(r, "REPUTATION_IP_BAD"));
  CHECK(has_hit(r, "REPUTATION_NET_BAD"));
  CHECK(sg_result_score(r) > 0);
  sg_result_free(r);
  r = score_ip(e, "q4", "192.0.2.99", ""); /* a neighbour: only the network */
  CHECK(!has_hit(r, "REPUTATION_IP_BAD") && has_hit(r, "REPUTATION_NET_BAD"));
  sg_result_free(r);
  CHECK(learn_ip(e, "a1", "192.0.2.10", SG_LABEL_HAM) == SG_OK); /* moves */
  CHECK(learn_ip(e, "a2", "192.0.2.10", SG_LABEL_HAM) == SG_OK);
  r = score_ip(e, "q5", "192.0.2.10", "");
  CHECK(has_hit(r, "REPUTATION_IP_GOOD") && sg_result_score(r) < 0);
  sg_result_free(r);
  CHECK(sg_engine_learn(NULL, NULL, SG_LABEL_SPAM) == SG_EINVAL);
  {
    /* Forgetting takes a learned comment back, once. */
    sg_comment *c = NULL;
    int forgotten = -1;
    CHECK(sg_engine_forget(&forgotten, NULL, NULL) == SG_EINVAL && forgotten == 0);
    CHECK(sg_engine_batch(NULL, 1) == SG_EINVAL);
    CHECK(sg_engine_batch(e, 1) == SG_OK); /* learned and forgotten in one transaction */
    CHECK(learn_ip(e, "f1", "192.0.2.200", SG_LABEL_SPAM) == SG_OK);
    CHECK(sg_comment_new(&c) == SG_OK);
    set(c, SG_FIELD_ID, "f1");
    CHECK(sg_engine_forget(&forgotten, e, c) == SG_OK && forgotten == 1);
    CHECK(sg_engine_forget(&forgotten, e, c) == SG_OK && forgotten == 0);
    CHECK(sg_engine_forget(NULL, e, c) == SG_OK);
    CHECK(sg_engine_batch(e, 0) == SG_OK);
    sg_comment_free(c);
  }
  CHECK(learn_ip(e, "a3", "192.0.2.10", 7) == SG_EINVAL);
  CHECK(strstr(sg_error_message(), "label") != NULL);

  /* Lists: block a network, allow an address inside it, allow an e-mail. */
  CHECK(sg_engine_list_add(e, SG_LIST_BLOCK, SG_ENTRY_IP, "198.51.100.0/24", "admin", "flood", 0) == SG_OK);
  r = score_ip(e, "q6", "198.51.100.7", "");
  CHECK(sg_result_action(r) == SG_ACTION_SPAM && has_hit(r, "LIST_BLOCK"));
  CHECK(strstr(sg_result_hit_match(r, 0, NULL), "198.51.100.0/24") != NULL);
  CHECK(strstr(sg_result_hit_match(r, 0, NULL), "flood") != NULL);
  sg_result_free(r);
  CHECK(sg_engine_list_add(e, SG_LIST_ALLOW, SG_ENTRY_EMAIL, "Friend@Example.ORG", "admin", NULL, 0) == SG_OK);
  r = score_ip(e, "q7", "198.51.100.7", "friend@example.org");
  CHECK(sg_result_action(r) == SG_ACTION_ACCEPT && has_hit(r, "LIST_ALLOW"));
  sg_result_free(r);
  CHECK(sg_engine_list_add(e, SG_LIST_BLOCK, SG_ENTRY_IP, "300.1.1.1", "admin", NULL, 0) == SG_EINVAL);
  CHECK(strstr(sg_error_message(), "300.1.1.1") != NULL);
  CHECK(sg_engine_list_add(e, SG_LIST_BLOCK, SG_ENTRY_IP, "203.0.113.7/24", "admin", NULL, 0) == SG_EINVAL);
  CHECK(strstr(sg_error_message(), "host bits set") != NULL);
  CHECK(sg_engine_list_add(e, 9, SG_ENTRY_IP, "192.0.2.1", "admin", NULL, 0) == SG_EINVAL);
  CHECK(sg_engine_list_add(e, SG_LIST_BLOCK, 9, "192.0.2.1", "admin", NULL, 0) == SG_EINVAL);
  CHECK(sg_engine_list_add(e, SG_LIST_BLOCK, SG_ENTRY_IP, NULL, "admin", NULL, 0) == SG_EINVAL);
  CHECK(sg_engine_list_add(e, SG_LIST_BLOCK, SG_ENTRY_IP, "192.0.2.1", NULL, NULL, 0) == SG_EINVAL);
  CHECK(sg_engine_list_add(NULL, SG_LIST_BLOCK, SG_ENTRY_IP, "192.0.2.1", "a", NULL, 0) == SG_EINVAL);
  CHECK(sg_engine_list_remove(&removed, e, SG_LIST_BLOCK, "198.51.100.0/24") == SG_OK && removed == 1);
  r = score_ip(e, "q8", "198.51.100.7", "");
  CHECK(!has_hit(r, "LIST_BLOCK"));
  sg_result_free(r);
  CHECK(sg_engine_list_remove(NULL, e, SG_LIST_BLOCK, "198.51.100.0/24") == SG_OK);
  CHECK(sg_engine_list_remove(&removed, e, SG_LIST_BLOCK, "not an entry!") == SG_EINVAL);
  CHECK(sg_engine_list_remove(&removed, NULL, SG_LIST_BLOCK, "x") == SG_EINVAL);
  CHECK(sg_engine_list_remove(&removed, e, SG_LIST_BLOCK, NULL) == SG_EINVAL);

  /* Import: malformed lines are reported with their line numbers. */
  snprintf(list, sizeof list, "%s/drop.txt", g_dir);
  f = fopen(list, "w");
  CHECK(f != NULL);
  fputs("; Spamhaus DROP List\n203.0.113.0/24 ; SBL1\n2001:db8:bad::/48 ; SBL2\nbogus line\n192.0.2.128/25\n", f);
  fclose(f);
  CHECK(sg_engine_list_import(NULL, e, SG_LIST_BLOCK, list, "drop", NULL, 0) == SG_EINVAL);
  CHECK(sg_engine_list_import(&rep, e, SG_LIST_BLOCK, list, NULL, NULL, 0) == SG_EINVAL);
  CHECK(rep == NULL);
  CHECK(sg_engine_list_import(&rep, e, SG_LIST_BLOCK, "/nonexistent/list.txt", "drop", NULL, 0) == SG_EIO);
  CHECK(sg_engine_list_import(&rep, e, SG_LIST_BLOCK, list, "drop", "imported", 0) == SG_OK);
  CHECK(sg_import_report_imported(rep) == 3);
  CHECK(sg_import_report_skipped(rep) == 1);
  CHECK(sg_import_report_message_count(rep) == 1);
  CHECK(strstr(sg_import_report_message(rep, 0), "drop.txt:4:") != NULL);
  CHECK(sg_import_report_message(rep, 1) == NULL);
  sg_import_report_free(rep);
  CHECK(sg_import_report_imported(NULL) == 0 && sg_import_report_skipped(NULL) == 0);
  CHECK(sg_import_report_message_count(NULL) == 0 && sg_import_report_message(NULL, 0) == NULL);
  sg_import_report_free(NULL);
  /* Copy: into an empty store only; the copy holds what was imported. */
  {
    char copy[300], bad_addr[] = "redis://127.0.0.1:99999/0";
    snprintf(copy, sizeof copy, "%s/copy.db", g_dir);
    CHECK(sg_engine_copy(NULL, e, copy) == SG_EINVAL);
    CHECK(sg_engine_copy(&rep, NULL, copy) == SG_EINVAL);
    CHECK(sg_engine_copy(&rep, e, NULL) == SG_EINVAL);
    CHECK(sg_engine_copy(&rep, e, bad_addr) == SG_EINVAL && strstr(sg_error_message(), "port") != NULL);
    CHECK(sg_engine_copy(&rep, e, copy) == SG_OK);
    CHECK(sg_import_report_imported(rep) >= 3);
    CHECK(sg_import_report_message_count(rep) > 0 && strstr(sg_import_report_message(rep, 0), "list entries") != NULL);
    sg_import_report_free(rep);
    rep = NULL;
    CHECK(sg_engine_copy(&rep, e, copy) == SG_EINVAL && strstr(sg_error_message(), "already holds") != NULL);
    CHECK(rep == NULL);
  }
  r = score_ip(e, "q9", "2001:db8:bad::1", "");
  CHECK(has_hit(r, "LIST_BLOCK"));
  CHECK(strstr(sg_result_hit_match(r, 0, NULL), "SBL2") != NULL);
  sg_result_free(r);

  /* An address explained: the list entry that holds it, its reputation. */
  CHECK(sg_engine_explain_ip(&r, e, "203.0.113.50", 0) == SG_OK);
  CHECK(sg_result_action(r) == SG_ACTION_SPAM && has_hit(r, "LIST_BLOCK"));
  CHECK(strstr(sg_result_hit_match(r, 0, NULL), "SBL1") != NULL);
  sg_result_free(r);
  CHECK(sg_engine_explain_ip(&r, e, "192.0.2.10", 0) == SG_OK);
  CHECK(has_hit(r, "REPUTATION_IP_GOOD") && sg_result_score(r) < 0);
  CHECK(sg_result_action(r) == SG_ACTION_ACCEPT);
  CHECK(strstr(sg_result_hit_match(r, 0, NULL), "0 spam, 2 ham") != NULL);
  sg_result_free(r);
  CHECK(sg_engine_explain_ip(&r, e, "2001:db8::77", 0) == SG_OK); /* nothing known */
  CHECK(sg_result_score(r) == 0 && has_hit(r, "REPUTATION_IP") && !has_hit(r, "LIST_BLOCK"));
  sg_result_free(r);
  r = (sg_result *)1;
  CHECK(sg_engine_explain_ip(&r, e, "192.0.2.300", 0) == SG_EINVAL && r == NULL);
  CHECK(strstr(sg_error_message(), "192.0.2.300") != NULL);
  CHECK(sg_engine_explain_ip(&r, NULL, "192.0.2.1", 0) == SG_EINVAL);
  CHECK(sg_engine_explain_ip(&r, e, NULL, 0) == SG_EINVAL);
  CHECK(sg_engine_explain_ip(NULL, e, "192.0.2.1", 0) == SG_EINVAL);

  /* List entries, newest first. */
  {
    sg_list_entries *en = (sg_list_entries *)1;
    size_t i, seen_sbl1 = 0, seen_email = 0;
    char *json = NULL;
    size_t len = 0;
    CHECK(sg_engine_list_entries(&en, e, SG_LIST_BLOCK, NULL, 100) == SG_OK);
    CHECK(sg_list_entries_count(en) == 3);
    for (i = 0; i < sg_list_entries_count(en); ++i) {
      CHECK(sg_list_entries_list(en, i) == SG_LIST_BLOCK);
      CHECK(sg_list_entries_kind(en, i) == SG_ENTRY_IP);
      CHECK(strcmp(sg_list_entries_source(en, i), "drop") == 0);
      CHECK(sg_list_entries_added(en, i) > 1700000000);
      CHECK(sg_list_entries_expires(en, i) == 0);
      if (strcmp(sg_list_entries_value(en, i), "203.0.113.0/24") == 0)
        seen_sbl1 = strcmp(sg_list_entries_reason(en, i), "SBL1") == 0;
    }
    CHECK(seen_sbl1);
    CHECK(sg_list_entries_value(en, 3) == NULL && sg_list_entries_source(en, 3) == NULL);
    CHECK(sg_list_entries_list(en, 3) == 0 && sg_list_entries_kind(en, 3) == 0 && sg_list_entries_added(en, 3) == 0);
    sg_list_entries_free(en);
    CHECK(sg_engine_list_entries(&en, e, 0, NULL, 100) == SG_OK && sg_list_entries_count(en) == 4);
    CHECK(sg_list_entries_kind(en, 0) == SG_ENTRY_IP); /* the import came after the e-mail */
    for (i = 0; i < sg_list_entries_count(en); ++i)
      if (sg_list_entries_kind(en, i) == SG_ENTRY_EMAIL)
        seen_email = sg_list_entries_list(en, i) == SG_LIST_ALLOW &&
                     strcmp(sg_list_entries_value(en, i), "friend@example.org") == 0;
    CHECK(seen_email);
    sg_list_entries_free(en);
    CHECK(sg_engine_list_entries(&en, e, 0, NULL, 2) == SG_OK && sg_list_entries_count(en) == 2);
    sg_list_entries_free(en);
    CHECK(sg_engine_list_entries(&en, e, 0, "admin", 100) == SG_OK && sg_list_entries_count(en) == 1);
    CHECK(strcmp(sg_list_entries_value(en, 0), "friend@example.org") == 0);
    sg_list_entries_free(en);
    CHECK(sg_engine_list_entries(&en, e, SG_LIST_ALLOW, "drop", 100) == SG_OK && sg_list_entries_count(en) == 0);
    sg_list_entries_free(en);
    CHECK(sg_engine_list_entries(&en, e, 7, NULL, 10) == SG_EINVAL && en == NULL);
    CHECK(sg_engine_list_entries(&en, NULL, 0, NULL, 10) == SG_EINVAL);
    CHECK(sg_list_entries_count(NULL) == 0 && sg_list_entries_value(NULL, 0) == NULL);
    sg_list_entries_free(NULL);
    CHECK(strcmp(sg_entry_kind_str(SG_ENTRY_URL_DOMAIN), "url-domain") == 0);
    CHECK(strcmp(sg_entry_kind_str(0), "unknown") == 0);

    /* Stats. */
    CHECK(sg_engine_stats(&json, &len, e) == SG_OK);
    CHECK(json != NULL && len == strlen(json));
    CHECK(strstr(json, "\"schema_version\":7") != NULL);
    CHECK(strstr(json, "{\"list\":\"block\",\"kind\":\"ip\",\"active\":3,\"expired\":0}") != NULL);
    CHECK(strstr(json, "{\"list\":\"allow\",\"kind\":\"email\",\"active\":1,\"expired\":0}") != NULL);
    CHECK(strstr(json, "{\"list\":\"block\",\"source\":\"drop\",\"entries\":3}") != NULL);
    CHECK(strstr(json, "\"learned\":{\"spam\":0,\"ham\":2}") != NULL);
    sg_free(json);
    CHECK(sg_engine_stats(NULL, &len, e) == SG_EINVAL);
    CHECK(sg_engine_stats(&json, NULL, NULL) == SG_EINVAL && json == NULL);

    /* Prune: nothing is old yet; 400 days from now the learned comments and
     * their reputation are (retention_days 365 by default). */
    CHECK(sg_engine_prune(&json, &len, e, 0) == SG_OK);
    CHECK(json != NULL && strstr(json, "{\"retention_days\":365,\"learned\":0,\"reputation\":0,") == json);
    sg_free(json);
    CHECK(sg_engine_prune(&json, NULL, e, (int64_t)time(NULL) + 400 * 86400) == SG_OK);
    CHECK(json != NULL && strstr(json, "\"learned\":2,") != NULL);
    sg_free(json);
    CHECK(sg_engine_prune(NULL, NULL, e, 0) == SG_OK);
    CHECK(sg_engine_prune(&json, NULL, NULL, 0) == SG_EINVAL && json == NULL);
  }
  sg_engine_close(e);

  /* Read-only: reads work, nothing is written, a missing file is not made. */
  CHECK(sg_config_set_int(cfg, SG_CFG_READ_ONLY, 1) == SG_OK);
  CHECK(sg_engine_open_string(&e, rules, strlen(rules), "state.cf", cfg) == SG_OK);
  CHECK(sg_engine_has_state(e) == 1);
  r = score_ip(e, "q10", "203.0.113.50", "");
  CHECK(has_hit(r, "LIST_BLOCK") && !(sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE));
  sg_result_free(r);
  CHECK(learn_ip(e, "ro1", "192.0.2.10", SG_LABEL_SPAM) == SG_EIO);
  CHECK(strstr(sg_error_message(), "read-only") != NULL);
  CHECK(sg_engine_list_add(e, SG_LIST_BLOCK, SG_ENTRY_IP, "192.0.2.1", "admin", NULL, 0) == SG_EIO);
  sg_engine_close(e);
  snprintf(list, sizeof list, "%s/never-made.db", g_dir);
  CHECK(sg_config_set_str(cfg, SG_CFG_DATABASE, list) == SG_OK);
  CHECK(sg_engine_open_string(&e, rules, strlen(rules), "state.cf", cfg) == SG_OK);
  CHECK(sg_engine_has_state(e) == 0);
  CHECK(strstr(sg_engine_state_message(e), "not created") != NULL);
  r = score_ip(e, "q11", "192.0.2.10", ""); /* nothing listed or learned yet: nothing missing */
  CHECK(!(sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE));
  sg_result_free(r);
  CHECK(learn_ip(e, "ro2", "192.0.2.10", SG_LABEL_SPAM) == SG_EIO);
  CHECK(strstr(sg_error_message(), "not created") != NULL);
  CHECK(stat(list, &st) != 0);
  sg_engine_close(e);
  CHECK(sg_config_set_int(cfg, SG_CFG_READ_ONLY, 0) == SG_OK);

  /* An address's rate limits as they stand, read without charging them. */
  {
    const char *limited = "ratelimit ip 6/60s burst 3\nbody X /never-matches-xyz/\n";
    const int64_t t = 1700000000;
    sg_comment *c = NULL;
    int i;
    snprintf(list, sizeof list, "%s/limits.db", g_dir);
    CHECK(sg_config_set_str(cfg, SG_CFG_DATABASE, list) == SG_OK);
    CHECK(sg_engine_open_string(&e, limited, strlen(limited), "limits.cf", cfg) == SG_OK);
    CHECK(sg_engine_explain_ip(&r, e, "192.0.2.33", t) == SG_OK);
    CHECK(sg_result_action(r) == SG_ACTION_ACCEPT && has_hit(r, "RATELIMIT_IP"));
    CHECK(strstr(sg_result_hit_match(r, 2, NULL), "3 of 3 left") != NULL);
    sg_result_free(r);
    CHECK(sg_comment_new(&c) == SG_OK);
    set(c, SG_FIELD_IP, "192.0.2.33");
    set(c, SG_FIELD_BODY, "hello");
    CHECK(sg_comment_set_time(c, t) == SG_OK);
    for (i = 0; i < 3; ++i) {
      CHECK(sg_engine_score(&r, e, c) == SG_OK && sg_result_action(r) == SG_ACTION_ACCEPT);
      sg_result_free(r);
    }
    sg_comment_free(c);
    for (i = 0; i < 2; ++i) { /* looking twice charges nothing */
      CHECK(sg_engine_explain_ip(&r, e, "192.0.2.33", t) == SG_OK);
      CHECK(sg_result_action(r) == SG_ACTION_THROTTLE && sg_result_retry_after(r) == 10);
      CHECK(strstr(sg_result_hit_match(r, 2, NULL), "0 of 3 left, next allowed in 10 s") != NULL);
      sg_result_free(r);
    }
    CHECK(sg_engine_explain_ip(&r, e, "192.0.2.33", t + 10) == SG_OK); /* one interval later: one more */
    CHECK(sg_result_action(r) == SG_ACTION_ACCEPT);
    CHECK(strstr(sg_result_hit_match(r, 2, NULL), "1 of 3 left") != NULL);
    sg_result_free(r);
    sg_engine_close(e);
  }

  /* No database. */
  CHECK(sg_config_set_str(cfg, SG_CFG_DATABASE, "none") == SG_OK);
  CHECK(sg_engine_open_string(&e, rules, strlen(rules), "state.cf", cfg) == SG_OK);
  CHECK(sg_engine_has_state(e) == 0);
  CHECK(learn_ip(e, "a1", "192.0.2.10", SG_LABEL_SPAM) == SG_ENOTFOUND);
  r = score_ip(e, "q1", "192.0.2.10", "");
  CHECK(sg_result_flags(r) == 0);
  sg_result_free(r);
  sg_engine_close(e);

  /* A database that cannot be opened: fail open by default, closed on request. */
  CHECK(sg_config_set_str(cfg, SG_CFG_DATABASE, "/nonexistent-dir/x.db") == SG_OK);
  CHECK(sg_engine_open_string(&e, rules, strlen(rules), "state.cf", cfg) == SG_OK);
  CHECK(sg_engine_has_state(e) == 0);
  r = score_ip(e, "q1", "192.0.2.10", "");
  CHECK(sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE);
  sg_result_free(r);
  CHECK(learn_ip(e, "a1", "192.0.2.10", SG_LABEL_SPAM) == SG_EIO);
  CHECK(strstr(sg_error_message(), "state unavailable") != NULL);
  sg_engine_close(e);
  CHECK(sg_config_set_int(cfg, SG_CFG_FAIL_CLOSED, 1) == SG_OK);
  e = (sg_engine *)1;
  CHECK(sg_engine_open_string(&e, rules, strlen(rules), "state.cf", cfg) == SG_EIO);
  CHECK(e == NULL);
  CHECK(strstr(sg_error_message(), "/nonexistent-dir/x.db") != NULL);
  sg_config_free(cfg);
}

/* One comment from `peer` with an X-Forwarded-For of `fwd`: its action,
 * and its flags in *flags. */
static int proxied(sg_engine *e, const char *peer, const char *fwd, int *flags) {
  sg_comment *c = NULL;
  sg_result *r = NULL;
  int action = -1;
  CHECK(sg_comment_new(&c) == SG_OK);
  set(c, SG_FIELD_IP, peer);
  if (fwd) set(c, SG_FIELD_FORWARDED_FOR, fwd);
  set(c, SG_FIELD_BODY, "hello there");
  CHECK(sg_engine_score(&r, e, c) == SG_OK);
  if (r) {
    action = sg_result_action(r);
    *flags = sg_result_flags(r);
  }
  sg_result_free(r);
  sg_comment_free(c);
  return action;
}

/* Behind a reverse proxy: each reader gets its own rate limit, a spoofed
 * header from a non-proxy changes nothing, a bad block is a file:line error. */
static void test_trusted_proxies(void) {
  static const char rules[] =
      "body X /never/\n"
      "trusted_proxy 10.0.0.0/8 2001:db8:ffff::/48\n"
      "ratelimit ip 2/60s burst 2\n";
  static const char bad[] = "body X /never/\ntrusted_proxy 10.0.0.1/8\n";
  sg_engine *e = NULL;
  sg_config *cfg = NULL;
  int flags = 0, i;
  CHECK(sg_config_new(&cfg) == SG_OK);
  CHECK(sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, SG_RATELIMIT_MEMORY) == SG_OK);
  CHECK(sg_config_set_str(cfg, SG_CFG_DATABASE, "none") == SG_OK);
  CHECK(sg_engine_open_string(&e, rules, sizeof rules - 1, "proxy.cf", cfg) == SG_OK);
  /* Two readers behind the proxy: two each pass, the third of each waits. */
  for (i = 0; i < 2; ++i) {
    CHECK(proxied(e, "10.0.0.1", "198.51.100.7", &flags) == SG_ACTION_ACCEPT);
    CHECK(flags & SG_FLAG_VIA_PROXY);
    CHECK(proxied(e, "10.0.0.1", "[2001:db8:1::7]:443, 10.0.0.2", &flags) == SG_ACTION_ACCEPT);
  }
  CHECK(proxied(e, "10.0.0.1", "198.51.100.7", &flags) == SG_ACTION_THROTTLE);
  CHECK(proxied(e, "2001:db8:ffff::1", "2001:db8:1::7", &flags) == SG_ACTION_THROTTLE);
  CHECK(proxied(e, "10.0.0.1", "198.51.100.8", &flags) == SG_ACTION_ACCEPT);
  /* A client that is not a proxy cannot pick an address: 203.0.113.5's
   * header is ignored and its own limit applies. */
  CHECK(proxied(e, "203.0.113.5", "192.0.2.1", &flags) == SG_ACTION_ACCEPT && !(flags & SG_FLAG_VIA_PROXY));
  CHECK(proxied(e, "203.0.113.5", "192.0.2.2", &flags) == SG_ACTION_ACCEPT);
  CHECK(proxied(e, "203.0.113.5", "192.0.2.3", &flags) == SG_ACTION_THROTTLE);
  /* A chain that does not parse: the client is unknown, flagged. */
  proxied(e, "10.0.0.1", "garbage", &flags);
  CHECK((flags & SG_FLAG_BAD_IP) && (flags & SG_FLAG_VIA_PROXY));
  CHECK(sg_comment_set_field(NULL, SG_FIELD_FORWARDED_FOR, "x", 1) == SG_EINVAL);
  sg_engine_close(e);
  CHECK(sg_engine_open_string(&e, bad, sizeof bad - 1, "proxy.cf", cfg) == SG_EPARSE && e == NULL);
  CHECK(strstr(sg_error_message(), "proxy.cf:2: trusted_proxy: '10.0.0.1/8'") != NULL);
  sg_config_free(cfg);
}

/* The rules the installation uses by default: a path, in the build tree the
 * source tree's rules (this test runs against the build tree's library). */
static void test_default_rules(void) {
  const char *p = sg_default_rules();
  size_t n = strlen(p);
  sg_engine *e = NULL;
  CHECK(p != NULL && n > 13 && strcmp(p + n - 13, "/spamguard.cf") == 0);
  CHECK(strstr(p, "/data/spamguard.cf") != NULL);
  CHECK(sg_default_rules() == p); /* static storage */
  CHECK(sg_engine_open(&e, p, NULL) == SG_OK);
  CHECK(sg_engine_rule_count(e) > 50);
  sg_engine_close(e);
}

/* A host that adopted a locale with a decimal comma (PHP applications call
 * setlocale) still loads "5.0" and gets JSON numbers with a point. */
static void test_locale(void) {
  static const char rules[] = "required_score 5.0\nmoderate_score 2.5\nbody P /viagra/\nscore P 6.25\n";
  sg_engine *e = NULL;
  sg_comment *c = NULL;
  sg_result *r = NULL;
  char *json = NULL;
  char num[16];
  if (setlocale(LC_ALL, "de_DE.UTF-8") == NULL && setlocale(LC_ALL, "de_DE.utf8") == NULL) {
    printf("capi_test: locale checks skipped: the de_DE.UTF-8 locale is not installed\n");
    return;
  }
  snprintf(num, sizeof num, "%.2f", 6.25);
  CHECK(strcmp(num, "6,25") == 0); /* the locale really is in force */
  CHECK(sg_engine_open_string(&e, rules, sizeof rules - 1, "comma.cf", NULL) == SG_OK);
  CHECK(sg_engine_threshold(e, SG_ACTION_SPAM) == 5.0);
  CHECK(sg_engine_threshold(e, SG_ACTION_MODERATE) == 2.5);
  sg_comment_new(&c);
  sg_comment_set_field(c, SG_FIELD_BODY, "viagra", 6);
  CHECK(sg_engine_score(&r, e, c) == SG_OK);
  CHECK(sg_result_score(r) == 6.25);
  CHECK(sg_result_to_json(&json, NULL, r) == SG_OK);
  CHECK(json != NULL && strstr(json, "\"score\":6.25,") != NULL);
  CHECK(json != NULL && strstr(json, "6,25") == NULL);
  sg_free(json);
  sg_result_free(r);
  sg_comment_free(c);
  sg_engine_close(e);
  setlocale(LC_ALL, "C");
}

static int collect(void *ctx, const char *data, size_t len) {
  char *buf = (char *)ctx;
  size_t have = strlen(buf);
  if (have + len >= 4096) return 1;
  memcpy(buf + have, data, len);
  buf[have + len] = '\0';
  return 0;
}
static int refuse(void *ctx, const char *data, size_t len) {
  (void)ctx; (void)data; (void)len;
  return 1;
}

static sg_result *score_form(sg_engine *e, const char *post, const char *token, int64_t at) {
  sg_comment *c = NULL;
  sg_result *r = NULL;
  CHECK(sg_comment_new(&c) == SG_OK);
  CHECK(sg_comment_set_field(c, SG_FIELD_BODY, "A reply", 7) == SG_OK);
  CHECK(sg_comment_set_field(c, SG_FIELD_POST_ID, post, strlen(post)) == SG_OK);
  if (token) CHECK(sg_comment_set_field(c, SG_FIELD_FORM_TOKEN, token, strlen(token)) == SG_OK);
  CHECK(sg_comment_set_time(c, at) == SG_OK);
  CHECK(sg_engine_score(&r, e, c) == SG_OK);
  sg_comment_free(c);
  return r;
}

static void test_forms_and_export(void) {
  char path[512], token[SG_FORM_TOKEN_SIZE], small[10], out[4096] = "";
  const char *rules = "check NO_TOKEN form_no_token\ncheck FAST form_too_fast\ncheck FORGED form_forged\n"
                      "check POT form_honeypot\n";
  sg_config *cfg = NULL;
  sg_engine *e = NULL, *none = NULL;
  sg_result *r = NULL;
  int64_t n = -1;
  const int64_t t0 = 1790000000;

  snprintf(path, sizeof path, "%s/forms.db", g_dir);
  CHECK(sg_config_new(&cfg) == SG_OK);
  CHECK(sg_config_set_str(cfg, SG_CFG_DATABASE, path) == SG_OK);
  CHECK(sg_engine_open_string(&e, rules, strlen(rules), "forms.cf", cfg) == SG_OK);
  CHECK(sg_engine_form_token(e, "12", 2, t0, token, sizeof token) == SG_OK);
  CHECK(strlen(token) == 60);
  CHECK(sg_engine_form_token(e, "12", 2, t0, small, sizeof small) == SG_EINVAL);
  CHECK(small[0] == '\0');
  CHECK(sg_engine_form_token(NULL, "12", 2, t0, token + 0, sizeof token) == SG_EINVAL);
  CHECK(sg_engine_form_token(e, NULL, 2, t0, small, sizeof small) == SG_EINVAL);
  CHECK(sg_engine_form_token(e, "12", 2, -1, out, sizeof out) == SG_EINVAL);
  out[0] = '\0';
  CHECK(sg_engine_form_token(e, "12", 2, t0, token, sizeof token) == SG_OK);
  r = score_form(e, "12", token, t0 + 10);
  CHECK(sg_result_hit_count(r) == 0);
  sg_result_free(r);
  r = score_form(e, "12", token, t0 + 1);
  CHECK(has_hit(r, "FAST"));
  sg_result_free(r);
  r = score_form(e, "12", "", t0 + 10);
  CHECK(has_hit(r, "NO_TOKEN"));
  sg_result_free(r);
  r = score_form(e, "12", NULL, t0 + 10); /* no form field: nothing to hold against it */
  CHECK(sg_result_hit_count(r) == 0);
  sg_result_free(r);
  CHECK(sg_engine_form_rotate(e) == SG_OK);
  CHECK(sg_engine_form_rotate(NULL) == SG_EINVAL);

  /* Export. */
  CHECK(sg_engine_list_add(e, SG_LIST_BLOCK, SG_ENTRY_IP, "203.0.113.0/24", "admin", NULL, 0) == SG_OK);
  CHECK(sg_engine_list_add(e, SG_LIST_BLOCK, SG_ENTRY_IP, "2001:db8::/48", "ratelimit", NULL, t0 + 60) == SG_OK);
  CHECK(sg_engine_list_export(&n, e, SG_EXPORT_NFT, "blog1", 0, NULL, t0, collect, out) == SG_OK);
  CHECK(n == 2);
  CHECK(strstr(out, "table inet blog1 {") != NULL);
  CHECK(strstr(out, "add rule inet blog1 input tcp dport { 80, 443 } ip6 saddr @block6 counter drop") != NULL);
  CHECK(sg_engine_list_export(&n, e, SG_EXPORT_NFT, NULL, 0, "80,", t0, collect, out) == SG_EINVAL);
  CHECK(sg_engine_list_export(&n, e, SG_EXPORT_NFT, NULL, 0, "99999", t0, collect, out) == SG_EINVAL);
  CHECK(strstr(out, "add element inet blog1 block6 { 2001:db8::/48 timeout 60s }") != NULL);
  out[0] = '\0';
  CHECK(sg_engine_list_export(&n, e, SG_EXPORT_PLAIN, NULL, 6, NULL, t0 + 60, collect, out) == SG_OK);
  CHECK(n == 0 && out[0] == '\0'); /* the ban is over */
  CHECK(sg_engine_list_export(&n, e, SG_EXPORT_IPTABLES, NULL, 0, NULL, t0, collect, out) == SG_EINVAL);
  CHECK(sg_engine_list_export(&n, e, 42, NULL, 0, NULL, t0, collect, out) == SG_EINVAL);
  CHECK(sg_engine_list_export(&n, e, SG_EXPORT_PLAIN, "bad name", 0, NULL, t0, collect, out) == SG_EINVAL);
  CHECK(sg_engine_list_export(&n, e, SG_EXPORT_PLAIN, NULL, 0, NULL, t0, NULL, out) == SG_EINVAL);
  CHECK(sg_engine_list_export(&n, e, SG_EXPORT_PLAIN, NULL, 0, NULL, t0, refuse, NULL) == SG_EIO);
  CHECK(sg_engine_list_export(&n, NULL, SG_EXPORT_PLAIN, NULL, 0, NULL, t0, collect, out) == SG_EINVAL);
  sg_engine_close(e);

  /* No database and no secret: no token can be made. */
  CHECK(sg_config_set_str(cfg, SG_CFG_DATABASE, "none") == SG_OK);
  CHECK(sg_engine_open_string(&none, rules, strlen(rules), "forms.cf", cfg) == SG_OK);
  CHECK(sg_engine_form_token(none, "12", 2, t0, token, sizeof token) == SG_EIO);
  CHECK(strstr(sg_error_message(), "form_secret") != NULL);
  CHECK(sg_engine_form_rotate(none) == SG_ENOTFOUND);
  CHECK(sg_engine_list_export(&n, none, SG_EXPORT_PLAIN, NULL, 0, NULL, t0, collect, out) == SG_ENOTFOUND);
  sg_engine_close(none);
  sg_config_free(cfg);
}

int main(void) {
  char path[300];
  snprintf(g_dir, sizeof g_dir, "/tmp/sg_capi_test_XXXXXX");
  if (mkdtemp(g_dir) == NULL) return 2;
  snprintf(path, sizeof path, "%s/capi.db", g_dir);
  if (sg_config_new(&g_cfg) != SG_OK || sg_config_set_str(g_cfg, SG_CFG_DATABASE, path) != SG_OK) return 2;
  test_state();
  test_version_and_status();
  test_config();
  test_open_errors();
  test_lenient();
  test_comment_builder();
  test_score();
  test_default_rules();
  test_trusted_proxies();
  test_locale();
  test_forms_and_export();
  sg_config_free(g_cfg);
  snprintf(path, sizeof path, "rm -rf '%s'", g_dir);
  if (system(path) != 0) ++failures;
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("capi_test: all checks passed\n");
  return 0;
}
