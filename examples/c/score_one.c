/* score_one — score one comment given on the command line and explain the
 * verdict. Uses only the public header.
 *
 *   score_one RULES.cf "comment text" [client-ip] [author]
 */
#include <spamguard/spamguard.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what) {
  fprintf(stderr, "score_one: %s: %s\n", what, sg_error_message());
  return 1;
}

int main(int argc, char **argv) {
  sg_engine *engine = NULL;
  sg_comment *comment = NULL;
  sg_result *result = NULL;
  size_t i;
  int rc = 0;

  if (argc < 3) {
    fprintf(stderr, "usage: score_one RULES.cf TEXT [IP] [AUTHOR]\n");
    return 2;
  }
  if (sg_engine_open(&engine, argv[1], NULL) < 0) return fail("open");
  if (sg_comment_new(&comment) < 0) rc = fail("comment");
  if (rc == 0 && sg_comment_set_field(comment, SG_FIELD_BODY, argv[2], strlen(argv[2])) < 0) rc = fail("body");
  if (rc == 0 && argc > 3 && sg_comment_set_field(comment, SG_FIELD_IP, argv[3], strlen(argv[3])) < 0) rc = fail("ip");
  if (rc == 0 && argc > 4 && sg_comment_set_field(comment, SG_FIELD_AUTHOR, argv[4], strlen(argv[4])) < 0)
    rc = fail("author");
  if (rc == 0 && sg_engine_score(&result, engine, comment) < 0) rc = fail("score");
  if (rc == 0) {
    printf("%s (score %.2f; spam at %.2f)\n", sg_action_str(sg_result_action(result)), sg_result_score(result),
           sg_engine_threshold(engine, SG_ACTION_SPAM));
    for (i = 0; i < sg_result_hit_count(result); ++i) {
      size_t len = 0;
      const char *match = sg_result_hit_match(result, i, &len);
      printf("  %+5.2f %-24s %s: \"%.*s\"\n", sg_result_hit_points(result, i), sg_result_hit_name(result, i),
             sg_result_hit_description(result, i), (int)len, match);
    }
  }
  sg_result_free(result);
  sg_comment_free(comment);
  sg_engine_close(engine);
  return rc;
}
