/* A program that uses only the installed header and library. */
#include <spamguard/spamguard.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  const char *rules = "body P /viagra/i\nscore P 6\n";
  const char *body = "cheap VIAGRA";
  sg_engine *e = NULL;
  sg_comment *c = NULL;
  sg_result *r = NULL;
  if (sg_version_number() / 10000 != SG_VERSION_MAJOR) return 2;
  if (sg_engine_open_string(&e, rules, strlen(rules), "consumer.cf", NULL) < 0 || sg_comment_new(&c) < 0 ||
      sg_comment_set_field(c, SG_FIELD_BODY, body, strlen(body)) < 0 || sg_engine_score(&r, e, c) < 0) {
    fprintf(stderr, "consumer: %s\n", sg_error_message());
    return 1;
  }
  printf("%s %.1f %s\n", sg_action_str(sg_result_action(r)), sg_result_score(r), sg_result_hit_name(r, 0));
  int ok = sg_result_action(r) == SG_ACTION_SPAM;
  sg_result_free(r);
  sg_comment_free(c);
  sg_engine_close(e);
  return ok ? 0 : 1;
}
