/* One request as a CGI program makes it: open the engine on the default
 * rules and a database, score one comment, close. Prints the phases in
 * microseconds on one line (open score close total), measured inside the
 * process, then the action, then the page faults each phase took (start
 * open score close: "start" is everything before main); bench/cgi_bench.sh
 * runs it as whole processes and adds the process start.
 *
 *   spamguard_cold_bench RULES DB IP BODY
 *   spamguard_cold_bench --fault-cost
 *   spamguard_cold_bench --opens N RULES DB
 *
 * With SG_BENCH_WARM_HEAP_KB=N in the environment it first grows its heap
 * by N KiB in one populated call, as examples/cgi/comment.cgi does
 * (examples/cgi/warm_heap.h), inside the time and faults of the open.
 *
 * --opens N opens and closes the engine N times in this one process and
 * prints the median of each in microseconds: what an open costs once the
 * process is warm, and a steady loop to count instructions in (valgrind
 * --tool=callgrind spamguard_cold_bench --opens 50 RULES DB).
 *
 * --fault-cost prints what a first touch of an anonymous page costs on this
 * machine, one fault at a time and populated in one call
 * (MADV_POPULATE_WRITE), in microseconds per page: on a virtual machine
 * whose faults trap to the hypervisor it is what most of a short process's
 * time goes to.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "spamguard/spamguard.h"
#include "../examples/cgi/warm_heap.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static long faults(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt + u.ru_majflt;
}

static int fault_cost(void) {
  const size_t pages = 2048, size = pages * 4096;
  double touch = 0, populate = -1;
  for (int round = 0; round < 3; ++round) {
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    double t0 = now_us();
    for (size_t i = 0; i < pages; ++i) p[i * 4096] = 1;
    double t = (now_us() - t0) / (double)pages;
    if (round == 0 || t < touch) touch = t;
    munmap(p, size);
#ifdef MADV_POPULATE_WRITE
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    t0 = now_us();
    if (madvise(p, size, MADV_POPULATE_WRITE) == 0) {
      t = (now_us() - t0) / (double)pages;
      if (populate < 0 || t < populate) populate = t;
    }
    munmap(p, size);
#endif
  }
  printf("%.2f %.2f\n", touch, populate);
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int opens(int n, const char *rules, const char *db) {
  double *t = calloc((size_t)(n > 0 ? n : 1), sizeof *t);
  if (!t || n < 1) return 2;
  for (int i = 0; i < n; ++i) {
    sg_config *cfg = NULL;
    sg_engine *engine = NULL;
    double t0 = now_us();
    sg_config_new(&cfg);
    sg_config_set_str(cfg, SG_CFG_DATABASE, db);
    if (sg_engine_open(&engine, rules, cfg) != SG_OK) {
      fprintf(stderr, "open: %s\n", sg_error_message());
      sg_config_free(cfg);
      free(t);
      return 1;
    }
    sg_config_free(cfg);
    sg_engine_close(engine);
    t[i] = now_us() - t0;
  }
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  printf("%d opens and closes: median %.0f us, min %.0f us\n", n, t[n / 2], t[0]);
  free(t);
  return 0;
}

int main(int argc, char **argv) {
  sg_config *cfg = NULL;
  sg_engine *engine = NULL;
  sg_comment *c = NULL;
  sg_result *r = NULL;
  double t0, t1, t2, t3;
  int action = -1;
  long f0, f1, f2, f3;
  if (argc == 2 && strcmp(argv[1], "--fault-cost") == 0) return fault_cost();
  if (argc == 5 && strcmp(argv[1], "--opens") == 0) return opens(atoi(argv[2]), argv[3], argv[4]);
  if (argc != 5) {
    fprintf(stderr, "usage: spamguard_cold_bench RULES DB IP BODY | --fault-cost | --opens N RULES DB\n");
    return 2;
  }
  f0 = faults();
  t0 = now_us();
  /* As examples/cgi/comment.cgi does; counted in the open. */
  if (getenv("SG_BENCH_WARM_HEAP_KB")) warm_heap((size_t)atoi(getenv("SG_BENCH_WARM_HEAP_KB")));
  sg_config_new(&cfg);
  sg_config_set_str(cfg, SG_CFG_DATABASE, argv[2]);
  if (sg_engine_open(&engine, argv[1], cfg) != SG_OK) {
    fprintf(stderr, "open: %s\n", sg_error_message());
    return 1;
  }
  sg_config_free(cfg);
  t1 = now_us();
  f1 = faults();
  sg_comment_new(&c);
  sg_comment_set_field(c, SG_FIELD_IP, argv[3], strlen(argv[3]));
  sg_comment_set_field(c, SG_FIELD_AUTHOR, "Reader", 6);
  sg_comment_set_field(c, SG_FIELD_BODY, argv[4], strlen(argv[4]));
  if (sg_engine_score(&r, engine, c) == SG_OK) action = sg_result_action(r);
  sg_result_free(r);
  sg_comment_free(c);
  t2 = now_us();
  f2 = faults();
  sg_engine_close(engine);
  t3 = now_us();
  f3 = faults();
  printf("%.0f %.0f %.0f %.0f %d %ld %ld %ld %ld\n", t1 - t0, t2 - t1, t3 - t2, t3 - t0, action, f0, f1 - f0, f2 - f1,
         f3 - f2);
  return 0;
}
