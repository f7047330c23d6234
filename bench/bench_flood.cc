// spamguard_flood_bench — a comment flood against one database, the way a
// small blog meets it: many CGI processes at once.
//
//   spamguard_flood_bench [--flood N] [--legit M] [--procs P] [--rules FILE]
//
// N requests (default 100,000) come from 50 addresses in one /24 and carry
// spam; M legitimate comments (default 1,000) from other addresses, one
// each, are interleaved with them. P processes (default 8) share the work,
// each scoring its share as fast as it can against the same SQLite file,
// with the rule file's rate limits (the default rules: ip 6/60s burst 3,
// ip/24/64 20/60s). Prints throughput, the share of the flood throttled
// (or refused by an escalation ban), the p50/p99 latency of the legitimate
// comments during the flood, and how many of them were throttled -- first
// for one process doing all the work, then for P. Then the cost of one
// throttled request in one process.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "spamguard/spamguard.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Request {
  bool legit;
  std::string ip, body;
};

sg_engine* Open(const std::string& rules, const std::string& db) {
  sg_config* cfg = nullptr;
  sg_config_new(&cfg);
  sg_config_set_str(cfg, SG_CFG_DATABASE, db.c_str());
  sg_engine* e = nullptr;
  if (sg_engine_open(&e, rules.c_str(), cfg) != SG_OK || !sg_engine_has_state(e)) {
    fprintf(stderr, "open: %s\n", sg_error_message());
    exit(1);
  }
  sg_config_free(cfg);
  return e;
}

const char* kSpam[] = {
    "Buy cheap viagra online without prescription http://pills.example.xyz/",
    "Best online casino, free spins, no deposit bonus http://casino.example.top/",
    "Great post! My web page - payday loans no credit check http://loans.example.click/",
    "check out my channel and subscribe http://www.youtube.com/channel/UCexample",
};
const char* kHam[] = {
    "Thanks, the part about the boiler pressure finally made sense to me.",
    "I tried the recipe with spelt flour and it came out fine, a bit denser.",
    "Could you share which lens you used for the second photo?",
    "We had the same problem at our school; the fix in step 3 worked for us too.",
};

}  // namespace

int main(int argc, char** argv) {
  size_t flood = 100000, legit = 1000;
  int procs = 8;
  std::string rules = SG_SOURCE_DIR "/data/spamguard.cf";
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--flood") && i + 1 < argc) flood = size_t(atol(argv[++i]));
    else if (!strcmp(argv[i], "--legit") && i + 1 < argc) legit = size_t(atol(argv[++i]));
    else if (!strcmp(argv[i], "--procs") && i + 1 < argc) procs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--rules") && i + 1 < argc) rules = argv[++i];
    else {
      fprintf(stderr, "usage: spamguard_flood_bench [--flood N] [--legit M] [--procs P] [--rules FILE]\n");
      return 2;
    }
  }
  char dir[] = "/tmp/sg_flood_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  const std::string db = std::string(dir) + "/flood.db";

  // The requests, in arrival order: a legitimate comment every so often.
  std::mt19937 rng(3);
  std::vector<Request> reqs;
  size_t every = legit ? (flood + legit) / legit : flood + 1;
  for (size_t i = 0, f = 0, l = 0; f < flood || l < legit; ++i) {
    if (l < legit && (i % every == every / 2 || f >= flood)) {
      // Each from its own address in its own /16 (a thousand readers of
      // one /16 within a second or two would meet its limit, 60/60s).
      size_t o1 = 11 + l % 180;
      if (o1 >= 127) ++o1;
      reqs.push_back({true, std::to_string(o1) + "." + std::to_string(1 + l / 180) + ".0.10", kHam[l % 4]});
      ++l;
    } else {
      reqs.push_back({false, "203.0.113." + std::to_string(10 + rng() % 50), kSpam[rng() % 4]});
      ++f;
    }
  }

  // The flood through P processes on a fresh file; returns how many
  // legitimate comments were throttled.
  auto run = [&](int procs, const std::string& db) -> size_t {
    sg_engine_close(Open(rules, db));  // create the file before the crowd arrives
    int fds[2];
    if (pipe(fds) != 0) return size_t(1);
    auto start = Clock::now();
    std::vector<pid_t> pids;
    for (int p = 0; p < procs; ++p) {
      pid_t pid = fork();
      if (pid != 0) {
        pids.push_back(pid);
        continue;
      }
      close(fds[0]);
      sg_engine* e = Open(rules, db);  // a process of its own, like a CGI
      sg_comment* c = nullptr;
      sg_comment_new(&c);
      size_t throttled = 0, refused = 0, flood_seen = 0, legit_throttled = 0, errors = 0;
      std::string lat;
      for (size_t i = size_t(p); i < reqs.size(); i += size_t(procs)) {
        const Request& r = reqs[i];
        sg_comment_reset(c);
        sg_comment_set_field(c, SG_FIELD_IP, r.ip.data(), r.ip.size());
        sg_comment_set_field(c, SG_FIELD_BODY, r.body.data(), r.body.size());
        auto t0 = Clock::now();
        sg_result* res = nullptr;
        if (sg_engine_score(&res, e, c) != SG_OK) ++errors;
        double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        int a = sg_result_action(res);
        errors += (sg_result_flags(res) & SG_FLAG_STATE_UNAVAILABLE) != 0;
        if (r.legit) {
          legit_throttled += a == SG_ACTION_THROTTLE;
          lat += std::to_string(int64_t(us)) + " ";
        } else {
          ++flood_seen;
          throttled += a == SG_ACTION_THROTTLE;
          refused += a == SG_ACTION_THROTTLE || a == SG_ACTION_SPAM || a == SG_ACTION_DISCARD;
        }
        sg_result_free(res);
      }
      std::string line = std::to_string(flood_seen) + " " + std::to_string(throttled) + " " + std::to_string(refused) +
                         " " + std::to_string(legit_throttled) + " " + std::to_string(errors) + " " + lat + "\n";
      for (size_t off = 0; off < line.size();) {
        ssize_t n = write(fds[1], line.data() + off, line.size() - off);
        if (n <= 0) _exit(1);
        off += size_t(n);
      }
      _exit(0);
    }
    close(fds[1]);
    std::string all;
    char buf[65536];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) all.append(buf, size_t(n));
    for (pid_t pid : pids) waitpid(pid, nullptr, 0);
    double secs = std::chrono::duration<double>(Clock::now() - start).count();

    size_t flood_seen = 0, throttled = 0, refused = 0, legit_throttled = 0, errors = 0;
    std::vector<double> lat;
    size_t pos = 0;
    while (pos < all.size()) {
      size_t end = all.find('\n', pos);
      std::string line = all.substr(pos, end - pos);
      pos = end + 1;
      size_t a, b, c2, d, e;
      int used = 0;
      if (sscanf(line.c_str(), "%zu %zu %zu %zu %zu %n", &a, &b, &c2, &d, &e, &used) < 5) continue;
      flood_seen += a;
      throttled += b;
      refused += c2;
      legit_throttled += d;
      errors += e;
      const char* p = line.c_str() + used;
      char* q = nullptr;
      for (double v = strtod(p, &q); q != p; p = q, v = strtod(p, &q)) lat.push_back(v);
    }
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double f) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, size_t(f * double(lat.size())))]; };
    printf("flood: %zu requests from 50 addresses in 203.0.113.0/24 + %zu legitimate comments, %d processes, one file\n",
           flood_seen, lat.size(), procs);
    printf("throughput: %.0f requests/s (%.2f s)\n", double(flood_seen + lat.size()) / secs, secs);
    printf("flood throttled: %.2f %% (%zu); refused in all (throttled, spam or discard): %.2f %%\n",
           100.0 * double(throttled) / double(flood_seen), throttled, 100.0 * double(refused) / double(flood_seen));
    printf("legitimate comments: p50 %.0f us, p99 %.0f us, max %.0f us; throttled: %zu of %zu\n", pct(0.5), pct(0.99),
           lat.empty() ? 0.0 : lat.back(), legit_throttled, lat.size());
    printf("errors (state unavailable or failed calls): %zu\n", errors);

    return legit_throttled;
  };
  // One process first (the same work, no one to share the file with),
  // then P: the total should not fall as processes are added.
  size_t legit_throttled = run(1, std::string(dir) + "/one.db");
  if (procs != 1) legit_throttled += run(procs, db);
  // The cost of a throttled request, one process.
  sg_engine* e = Open(rules, db);
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  sg_comment_set_field(c, SG_FIELD_IP, "203.0.113.10", 12);
  sg_comment_set_field(c, SG_FIELD_BODY, kSpam[0], strlen(kSpam[0]));
  size_t count = 0, thr = 0;
  auto t0 = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - t0).count() < 2.0) {
    sg_result* res = nullptr;
    sg_engine_score(&res, e, c);
    thr += sg_result_action(res) == SG_ACTION_THROTTLE;
    sg_result_free(res);
    ++count;
  }
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  printf("a throttled request, 1 process: %.1f us (%zu requests, %zu throttled)\n", 1e6 * s / double(count), count, thr);
  sg_comment_free(c);
  sg_engine_close(e);
  std::string rm = std::string("rm -rf ") + dir;
  return system(rm.c_str()) == 0 && legit_throttled == 0 ? 0 : 1;
}
