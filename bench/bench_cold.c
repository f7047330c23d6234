/* One request as a CGI program makes it: open the engine on the default
 * rules and a database, score one comment, close. Prints the phases in
 * microseconds on one line (open score close total), measured inside the
 * process; bench/cgi_bench.sh runs it as whole processes and adds the
 * process start.
 *
 *   spamguard_cold_bench RULES DB IP BODY
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "spamguard/spamguard.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  sg_config *cfg = NULL;
  sg_engine *engine = NULL;
  sg_comment *c = NULL;
  sg_result *r = NULL;
  double t0, t1, t2, t3;
  int action = -1;
  if (argc != 5) {
    fprintf(stderr, "usage: spamguard_cold_bench RULES DB IP BODY\n");
    return 2;
  }
  t0 = now_us();
  sg_config_new(&cfg);
  sg_config_set_str(cfg, SG_CFG_DATABASE, argv[2]);
  if (sg_engine_open(&engine, argv[1], cfg) != SG_OK) {
    fprintf(stderr, "open: %s\n", sg_error_message());
    return 1;
  }
  sg_config_free(cfg);
  t1 = now_us();
  sg_comment_new(&c);
  sg_comment_set_field(c, SG_FIELD_IP, argv[3], strlen(argv[3]));
  sg_comment_set_field(c, SG_FIELD_AUTHOR, "Reader", 6);
  sg_comment_set_field(c, SG_FIELD_BODY, argv[4], strlen(argv[4]));
  if (sg_engine_score(&r, engine, c) == SG_OK) action = sg_result_action(r);
  sg_result_free(r);
  sg_comment_free(c);
  t2 = now_us();
  sg_engine_close(engine);
  t3 = now_us();
  printf("%.0f %.0f %.0f %.0f %d\n", t1 - t0, t2 - t1, t3 - t2, t3 - t0, action);
  return 0;
}
