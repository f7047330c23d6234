// spamguard_state_bench — prints figures for the stateful stages:
//
//   spamguard_state_bench [--ranges N] [--seconds S] [--procs P] DUMP.jsonl...
//
//  * import of N random ranges shaped like the public lists (IPv4: 80 % single
//    addresses, 17 % /24, 3 % /12–/23; 10 % IPv6 /32–/128) from
//    a file, in one transaction, and the time to match an address against
//    them (the store's lookup alone: lists are checked for every comment),
//    for random addresses and for listed ones;
//  * scoring with state in one process: lists, default content rules and
//    reputation, for comments from addresses that are on no list, and for
//    block-listed ones (refused before any regex);
//  * learning in one process (every learn is its own transaction);
//  * P processes scoring and learning on the same file at once;
//  * scoring with the rule file's rate limits too, from addresses spread
//    over the whole space: 1 process, then P on one file.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "record.h"
#include "spamguard/spamguard.h"
#include "dump.h"
#include "lists/import.h"
#include "store/sqlite_store.h"

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string V4(uint32_t a) {
  char b[32];
  snprintf(b, sizeof b, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  return b;
}

// Addresses under 100.64.0.0/10 are never listed: comments from there go
// through the whole pipeline.
std::string CleanIp(std::mt19937& rng) { return V4((100u << 24) | (64u << 16) | (rng() & 0x3FFFFF)); }

sg_engine* Open(const std::string& rules, const std::string& db, int ratelimits = SG_RATELIMIT_OFF) {
  sg_config* cfg = nullptr;
  sg_config_new(&cfg);
  sg_config_set_str(cfg, SG_CFG_DATABASE, db.c_str());
  sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, ratelimits);
  sg_engine* e = nullptr;
  if (sg_engine_open(&e, rules.c_str(), cfg) != SG_OK || !sg_engine_has_state(e)) {
    fprintf(stderr, "open: %s %s\n", sg_error_message(), e ? sg_engine_state_message(e) : "");
    exit(1);
  }
  sg_config_free(cfg);
  return e;
}

void SetIp(sg_comment* c, const std::string& ip) { sg_comment_set_field(c, SG_FIELD_IP, ip.data(), ip.size()); }

// Forks n processes, each running f(p) and reporting three counts; returns
// their sums (all zero when a pipe cannot be made).
struct Counts {
  size_t a = 0, b = 0, c = 0;
};
Counts InProcesses(int n, const std::function<Counts(int)>& f) {
  Counts sum;
  int pipefd[2];
  if (pipe(pipefd) != 0) return sum;
  std::vector<pid_t> pids;
  for (int p = 0; p < n; ++p) {
    pid_t pid = fork();
    if (pid == 0) {
      close(pipefd[0]);
      Counts k = f(p);
      char line[128];
      int len = snprintf(line, sizeof line, "%zu %zu %zu\n", k.a, k.b, k.c);
      if (write(pipefd[1], line, size_t(len)) != len) _exit(1);
      _exit(0);
    }
    pids.push_back(pid);
  }
  close(pipefd[1]);
  for (pid_t pid : pids) waitpid(pid, nullptr, 0);
  FILE* in = fdopen(pipefd[0], "r");
  size_t a, b, c;
  while (fscanf(in, "%zu %zu %zu", &a, &b, &c) == 3) {
    sum.a += a;
    sum.b += b;
    sum.c += c;
  }
  fclose(in);
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n_ranges = 1000000;
  double seconds = 3;
  int procs = 8;
  std::string rules = SG_SOURCE_DIR "/data/spamguard.cf";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--ranges") && i + 1 < argc) n_ranges = size_t(atol(argv[++i]));
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--procs") && i + 1 < argc) procs = atoi(argv[++i]);
    else files.push_back(argv[i]);
  }
  if (files.empty()) {
    fprintf(stderr, "usage: spamguard_state_bench [--ranges N] [--seconds S] [--procs P] DUMP.jsonl...\n");
    return 2;
  }
  char dir[] = "/tmp/sg_state_bench_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  const std::string db = std::string(dir) + "/bench.db", list = std::string(dir) + "/ranges.txt";
  std::mt19937 rng(1);

  // 1. Import N ranges.
  {
    std::ofstream out(list);
    out << "198.18.0.0/15 ; the listed address of the benchmark\n";
    for (size_t i = 1; i < n_ranges; ++i) {
      if (i % 10 == 9) {
        int plen = 32 + int(rng() % 97);
        char b[64];
        snprintf(b, sizeof b, "2001:db8:%x:%x::", unsigned(rng() & 0xFFFF), unsigned(rng() & 0xFFFF));
        spamguard::lists::IpRange r;
        std::string err;
        spamguard::lists::ParseRange(b, &r, &err);
        spamguard::comment::IpAddress a;
        a.v6 = true;
        a.bytes = r.lo;
        for (int k = 8; k < 16; ++k) a.bytes[k] = uint8_t(rng());
        out << spamguard::lists::Network(a, plen).ToString() << "\n";
        continue;
      }
      // Shaped like the public lists: mostly single addresses (Stop Forum
      // Spam), then /24s, some larger networks (DROP, FireHOL).
      uint32_t a;
      do a = uint32_t(rng()); while ((a >> 22) == ((100u << 2) | 1u) || (a >> 17) == ((198u << 7) | 9u));
      unsigned pick = unsigned(rng() % 100);
      unsigned fine = unsigned(rng() % 10000);
      int plen = pick < 80 ? 32 : pick < 97 ? 24 : fine < 9990 ? 16 + int(rng() % 8) : 12 + int(rng() % 4);
      uint32_t mask = ~uint32_t(0) << (32 - plen);
      out << V4(a & mask) << "/" << plen << " ; R" << i << "\n";
    }
  }
  sg_engine* e = Open(rules, db);
  sg_import_report* rep = nullptr;
  auto t0 = Clock::now();
  if (sg_engine_list_import(&rep, e, SG_LIST_BLOCK, list.c_str(), "bench", nullptr, 0) != SG_OK) {
    fprintf(stderr, "import: %s\n", sg_error_message());
    return 1;
  }
  double import_s = Since(t0);
  printf("import: %zu ranges (%zu malformed) in %.2f s, one transaction (%.0f ranges/s)\n",
         sg_import_report_imported(rep), sg_import_report_skipped(rep), import_s,
         double(sg_import_report_imported(rep)) / import_s);
  sg_import_report_free(rep);

  // 2. Lookup alone, on the store: random addresses (most on no list) and
  // addresses known to be listed (read back from the list file).
  {
    std::vector<spamguard::comment::IpAddress> listed;
    {
      std::ifstream in(list);
      std::string line;
      while (std::getline(in, line) && listed.size() < 100000) {
        spamguard::lists::ListLine l;
        if (spamguard::lists::ParseListLine(line, &l) != spamguard::lists::LineKind::kEntry || l.range.fam != 4) continue;
        spamguard::comment::IpAddress a;
        a.bytes = l.range.hi;  // the last address of the block
        listed.push_back(a);
      }
    }
    std::unique_ptr<spamguard::store::SqliteStore> store;
    spamguard::store::SqliteStore::Open(db, {}, &store);
    for (int known = 0; known < 2; ++known) {
      size_t hits = 0, n = 0;
      t0 = Clock::now();
      while (Since(t0) < seconds) {
        for (int k = 0; k < 1000; ++k, ++n) {
          spamguard::comment::IpAddress a;
          if (known) {
            a = listed[n % listed.size()];
          } else {
            uint32_t v = uint32_t(rng());
            a.bytes = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
          }
          spamguard::store::ListEntry entry;
          bool found = false;
          store->MatchIp(spamguard::store::kBlock, spamguard::lists::FromAddress(a), 1, &entry, &found);
          hits += found;
        }
      }
      double s = Since(t0);
      printf("list match against %zu ranges, %s: %.2f us per address (%zu lookups, %.1f%% listed)\n", n_ranges,
             known ? "listed addresses" : "random addresses", 1e6 * s / double(n), n, 100.0 * double(hits) / double(n));
    }
  }

  // Comments of the dumps, scored from clean and from listed addresses.
  std::vector<sg_comment*> comments;
  sgcli::DumpCallbacks cb;
  cb.skip = [](const std::string&, const std::string&) {};
  cb.record = [&](const sgcli::Record& r) {
    sgcli::Record rec = r;  // the benchmark chooses addresses and ids itself
    rec.ip.clear();
    rec.id.clear();
    sg_comment* c = nullptr;
    sg_comment_new(&c);
    sgcli::ToComment(rec, c);
    comments.push_back(c);
    return true;
  };
  for (const auto& f : files) {
    std::string error;
    if (!sgcli::ReadDump(f, "auto", cb, &error)) {
      fprintf(stderr, "spamguard_state_bench: %s\n", error.c_str());
      return 1;
    }
  }
  // Some reputation to find: 2,000 learned comments over 500 addresses.
  for (int i = 0; i < 2000; ++i) {
    sg_comment* c = comments[size_t(i) % comments.size()];
    std::string id = "seed" + std::to_string(i);
    sg_comment_set_field(c, SG_FIELD_ID, id.data(), id.size());
    SetIp(c, V4((100u << 24) | (64u << 16) | uint32_t(i % 500)));
    sg_engine_learn(e, c, i % 3 ? SG_LABEL_SPAM : SG_LABEL_HAM);
    sg_comment_set_field(c, SG_FIELD_ID, nullptr, 0);
  }

  // 3. Scoring with state, one process: lists and reputation; then with the
  // rule file's rate limits too (a write to the rate-limit map per comment).
  sg_engine* limited = Open(rules, db, SG_RATELIMIT_DATABASE);
  for (int listed = 0; listed < 3; ++listed) {
    sg_engine* eng = listed == 2 ? limited : e;
    size_t n = 0, unavailable = 0, blocked = 0;
    t0 = Clock::now();
    while (Since(t0) < seconds) {
      for (sg_comment* c : comments) {
        if (listed == 1) {
          SetIp(c, "198.18.0.1");
        } else {
          SetIp(c, n % 4 == 0 ? V4((100u << 24) | (64u << 16) | uint32_t(n % 500)) : CleanIp(rng));
        }
        sg_comment_set_time(c, 0);  // the clock, for the rate limits
        sg_result* r = nullptr;
        sg_engine_score(&r, eng, c);
        unavailable += (sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE) != 0;
        blocked += sg_result_hit_count(r) > 0 && !strcmp(sg_result_hit_name(r, 0), "LIST_BLOCK");
        sg_result_free(r);
        ++n;
      }
    }
    double s = Since(t0);
    const char* what[] = {"addresses on no list (lists + rules + reputation)", "block-listed address",
                          "addresses on no list, with the rule file's rate limits"};
    printf("scoring with state, 1 process, %s: %.0f comments/s (%.1f us each; %zu block-listed, %zu state errors)\n",
           what[listed], double(n) / s, 1e6 * s / double(n), blocked, unavailable);
  }
  sg_engine_close(limited);
  for (sg_comment* c : comments) sg_comment_free(c);

  // 4. Learning, one process.
  {
    sg_comment* c = nullptr;
    sg_comment_new(&c);
    sg_comment_set_field(c, SG_FIELD_BODY, "learned", 7);
    size_t n = 0, failed = 0;
    t0 = Clock::now();
    while (Since(t0) < seconds) {
      std::string id = "l" + std::to_string(n);
      sg_comment_set_field(c, SG_FIELD_ID, id.data(), id.size());
      SetIp(c, CleanIp(rng));
      failed += sg_engine_learn(e, c, n % 2 ? SG_LABEL_SPAM : SG_LABEL_HAM) != SG_OK;
      ++n;
    }
    double s = Since(t0);
    printf("learning, 1 process: %.0f learns/s (%.0f us each, one transaction each; %zu failed)\n", double(n) / s,
           1e6 * s / double(n), failed);
    sg_comment_free(c);
  }
  sg_engine_close(e);

  // 5. P processes on one file: each scores 4 comments per learn.
  {
    Counts k = InProcesses(procs, [&](int p) {
      sg_engine* pe = Open(rules, db);
      std::mt19937 prng(unsigned(p + 100));
      sg_comment* c = nullptr;
      sg_comment_new(&c);
      sg_comment_set_field(c, SG_FIELD_BODY, "Great post, thanks", 18);
      Counts out;  // scores, learns, failed calls
      auto start = Clock::now();
      while (Since(start) < seconds) {
        SetIp(c, CleanIp(prng));
        sg_result* r = nullptr;
        out.c += sg_engine_score(&r, pe, c) != SG_OK || (sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE);
        sg_result_free(r);
        if (++out.a % 4 == 0) {
          std::string id = "p" + std::to_string(p) + "-" + std::to_string(out.b);
          sg_comment_set_field(c, SG_FIELD_ID, id.data(), id.size());
          out.c += sg_engine_learn(pe, c, SG_LABEL_SPAM) != SG_OK;
          sg_comment_set_field(c, SG_FIELD_ID, nullptr, 0);
          ++out.b;
        }
      }
      return out;
    });
    printf("%d processes on one file, %.0f s: %.0f scores/s and %.0f learns/s in all, %zu failed calls\n", procs,
           seconds, double(k.a) / seconds, double(k.b) / seconds, k.c);
  }

  // 6. Rate limits across processes: 1, then P processes on one file, each
  // scoring comments from new addresses (lists + rules + reputation + the
  // rule file's rate limits, a check that writes per comment).
  for (int n : {1, procs}) {
    Counts k = InProcesses(n, [&](int p) {
      sg_engine* pe = Open(rules, db, SG_RATELIMIT_DATABASE);
      std::mt19937 prng(unsigned(p + 1000 * n));
      sg_comment* c = nullptr;
      sg_comment_new(&c);
      sg_comment_set_field(c, SG_FIELD_BODY, "Great post, thanks", 18);
      Counts out;  // scores, failed calls, throttled
      auto start = Clock::now();
      while (Since(start) < seconds) {
        // Spread over the whole space, so that no /24 or /16 limit trips.
        SetIp(c, V4(((1u + uint32_t(prng() % 223u)) << 24) | (uint32_t(prng()) & 0xFFFFFFu)));
        sg_result* r = nullptr;
        out.b += sg_engine_score(&r, pe, c) != SG_OK || (sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE);
        out.c += sg_result_action(r) == SG_ACTION_THROTTLE;
        sg_result_free(r);
        ++out.a;
      }
      return out;
    });
    printf("scoring with state and the rule file's rate limits, %d process%s on one file: %.0f comments/s in all "
           "(%zu throttled, %zu failed calls)\n",
           n, n == 1 ? "" : "es", double(k.a) / seconds, k.c, k.b);
    if (procs == 1) break;
  }

  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("peak RSS (parent): %.1f MiB\n", double(ru.ru_maxrss) / 1024.0);
  std::string rm = std::string("rm -rf ") + dir;
  return system(rm.c_str()) == 0 ? 0 : 1;
}
