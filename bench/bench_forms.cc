// What a comment form's token costs: making one, and scoring a comment
// without the form field, with a fresh valid token (verified and its use
// counted), with a forged one and with none, on a database (the use is a
// write in the -rates file) and without one (a configured secret, uses in
// memory). Through the C ABI, default rules, rate limits off so that only
// the form's part changes between the rows. Prints microseconds per call.
//
//   spamguard_forms_bench [N=20000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include "spamguard/spamguard.h"

namespace {

double Micros(const std::chrono::steady_clock::time_point& t0, int n) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
}

sg_engine* Open(const std::string& db) {
  sg_config* c = nullptr;
  sg_config_new(&c);
  sg_config_set_str(c, SG_CFG_DATABASE, db.c_str());
  sg_config_set_int(c, SG_CFG_RATELIMIT_MODE, SG_RATELIMIT_OFF);
  sg_config_set_int(c, SG_CFG_EAGER_COMPILE, 1);
  std::string rules = "include " SG_SOURCE_DIR "/data/spamguard.cf\n";
  if (db == "none") rules += "form_secret a-secret-for-the-benchmark-0123\n";
  sg_engine* e = nullptr;
  if (sg_engine_open_string(&e, rules.data(), rules.size(), "bench.cf", c) != SG_OK) {
    fprintf(stderr, "open: %s\n", sg_error_message());
    exit(1);
  }
  sg_config_free(c);
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 20000;
  char dir[] = "/tmp/sg_forms_bench_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  const int64_t now = int64_t(time(nullptr));
  printf("%-34s %12s %12s\n", "per call (us)", "database", "no database");
  double make[2], rows[4][2];
  for (int w = 0; w < 2; ++w) {
    sg_engine* e = Open(w == 0 ? std::string(dir) + "/forms.db" : "none");
    std::vector<std::string> tokens(static_cast<size_t>(n));
    char buf[SG_FORM_TOKEN_SIZE];
    sg_engine_form_token(e, "post-1", 6, now - 60, buf, sizeof buf);  // (the first makes the secret)
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      sg_engine_form_token(e, "post-1", 6, now - 60, buf, sizeof buf);
      tokens[size_t(i)] = buf;
    }
    make[w] = Micros(t0, n);
    const char* body = "Thanks, clearing the template cache fixed it for me too.";
    for (int row = -1; row < 4; ++row) {  // (row -1: a warm-up pass, not shown)
      sg_comment* c = nullptr;
      sg_comment_new(&c);
      t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i) {
        sg_comment_reset(c);
        sg_comment_set_field(c, SG_FIELD_BODY, body, strlen(body));
        sg_comment_set_field(c, SG_FIELD_IP, "192.0.2.1", 9);
        sg_comment_set_field(c, SG_FIELD_POST_ID, "post-1", 6);
        std::string t = row == 1 || row == 2 ? tokens[size_t(i)] : "";  // (the warm-up: no form field)
        if (row == 2) t[30] = t[30] == 'A' ? 'B' : 'A';  // one character changed
        if (row > 0) sg_comment_set_field(c, SG_FIELD_FORM_TOKEN, t.data(), t.size());
        sg_result* r = nullptr;
        sg_engine_score(&r, e, c);
        sg_result_free(r);
      }
      if (row >= 0) rows[row][w] = Micros(t0, n);
      sg_comment_free(c);
    }
    sg_engine_close(e);
  }
  printf("%-34s %12.2f %12.2f\n", "sg_engine_form_token", make[0], make[1]);
  const char* names[] = {"score, no form field", "score, a fresh valid token", "score, a forged token",
                         "score, no token"};
  for (int row = 0; row < 4; ++row) printf("%-34s %12.2f %12.2f\n", names[row], rows[row][0], rows[row][1]);
  std::string rm = std::string("rm -rf ") + dir;
  return system(rm.c_str()) == 0 ? 0 : 1;
}
