// What keyword lists cost: WordPress's Disallowed Comment Keys and the
// MT-Blacklist imported into a database, then scoring the dumps with and
// without them (default rules, rate limits off, one thread, a long-lived
// engine), the first score of a fresh engine (the lists mapped or read),
// and the memory the lists add to a process.
//
//   spamguard_keywords_bench KEYWORD_LISTS_DIR DUMP.jsonl...
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "dump.h"
#include "record.h"
#include "spamguard/spamguard.h"

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

sg_engine* Open(const std::string& db) {
  sg_config* c = nullptr;
  sg_config_new(&c);
  sg_config_set_str(c, SG_CFG_DATABASE, db.c_str());
  sg_config_set_int(c, SG_CFG_RATELIMIT_MODE, SG_RATELIMIT_OFF);
  sg_engine* e = nullptr;
  if (sg_engine_open(&e, SG_SOURCE_DIR "/data/spamguard.cf", c) != SG_OK) {
    fprintf(stderr, "open: %s\n", sg_error_message());
    exit(1);
  }
  sg_config_free(c);
  return e;
}

long RssKb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.compare(0, 6, "VmRSS:") == 0) return atol(line.c_str() + 6);
  return 0;
}

// One pass over the comments: comments/s; counts the comments with a
// LIST_KEYWORD hit when keyword_hits is given.
double Pass(sg_engine* e, const std::vector<sg_comment*>& comments, size_t* keyword_hits) {
  auto t0 = Clock::now();
  for (sg_comment* c : comments) {
    sg_result* r = nullptr;
    sg_engine_score(&r, e, c);
    if (keyword_hits)
      for (size_t i = 0; i < sg_result_hit_count(r); ++i)
        *keyword_hits += strcmp(sg_result_hit_name(r, i), "LIST_KEYWORD") == 0;
    sg_result_free(r);
  }
  return double(comments.size()) / Seconds(t0, Clock::now());
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: spamguard_keywords_bench KEYWORD_LISTS_DIR DUMP.jsonl...\n");
    return 2;
  }
  const std::string lists = argv[1];
  std::vector<sg_comment*> comments;
  sgcli::DumpCallbacks cb;
  cb.skip = [](const std::string&, const std::string&) {};
  cb.record = [&](const sgcli::Record& rec) {
    sg_comment* c = nullptr;
    if (sg_comment_new(&c) < 0 || sgcli::ToComment(rec, c) < 0) exit(1);
    comments.push_back(c);
    return true;
  };
  for (int i = 2; i < argc; ++i) {
    std::string error;
    if (!sgcli::ReadDump(argv[i], "auto", cb, &error)) {
      fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
  }
  char dir[] = "/tmp/sg_keywords_bench_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  const std::string plain = std::string(dir) + "/plain.db", with = std::string(dir) + "/keywords.db";
  sg_engine_close(Open(plain));
  {
    sg_engine* e = Open(with);
    sg_import_report* rep = nullptr;
    auto t0 = Clock::now();
    if (sg_engine_keywords_import(&rep, e, SG_KEYWORDS_PHRASES, (lists + "/wordpress-comment-blocklist.txt").c_str(),
                                  "wp-blocklist") != SG_OK) {
      fprintf(stderr, "import: %s\n", sg_error_message());
      return 1;
    }
    auto t1 = Clock::now();
    printf("import of %zu phrases (WordPress's list): %.2f s\n", sg_import_report_imported(rep), Seconds(t0, t1));
    sg_import_report_free(rep);
    t0 = Clock::now();
    if (sg_engine_keywords_import(&rep, e, SG_KEYWORDS_LINK_PATTERNS,
                                  (lists + "/mt-blacklist-2005-08-26.txt").c_str(), "mt-blacklist") != SG_OK) {
      fprintf(stderr, "import: %s\n", sg_error_message());
      return 1;
    }
    t1 = Clock::now();
    printf("import of %zu patterns (MT-Blacklist): %.2f s\n", sg_import_report_imported(rep), Seconds(t0, t1));
    sg_import_report_free(rep);
    sg_engine_close(e);
  }
  // First score of a fresh engine, median of 21: without lists, and with
  // them (the phrase index mapped, the patterns read).
  for (const std::string& db : {plain, with}) {
    std::vector<double> first;
    for (int i = 0; i < 21; ++i) {
      sg_engine* e = Open(db);
      sg_result* r = nullptr;
      auto t0 = Clock::now();
      sg_engine_score(&r, e, comments[size_t(i) % comments.size()]);
      first.push_back(1000 * Seconds(t0, Clock::now()));
      sg_result_free(r);
      sg_engine_close(e);
    }
    std::sort(first.begin(), first.end());
    printf("first score of a fresh engine, %s: %.2f ms median\n", db == plain ? "no lists" : "both lists",
           first[first.size() / 2]);
  }
  // Both engines open, passes alternated for `seconds` (so that both see
  // the same machine), the median pass of each.
  size_t hits_with = 0;
  long rss0 = RssKb();
  sg_engine* ep = Open(plain);
  Pass(ep, comments, nullptr);  // warm-up
  long rss1 = RssKb();
  sg_engine* ew = Open(with);
  Pass(ew, comments, &hits_with);  // warm-up, and the hits
  long rss2 = RssKb();
  std::vector<double> rp, rw;
  auto t0 = Clock::now();
  while (Seconds(t0, Clock::now()) < 6 || rp.size() < 5) {
    rp.push_back(Pass(ep, comments, nullptr));
    rw.push_back(Pass(ew, comments, nullptr));
  }
  sg_engine_close(ep);
  sg_engine_close(ew);
  const double tp = Median(rp), tw = Median(rw);
  printf("scoring %zu comments, one thread, database, no lists: %.0f comments/s (median of %zu passes, alternated)\n",
         comments.size(), tp, rp.size());
  printf("scoring with 62,204 phrases + the MT-Blacklist: %.0f comments/s (%.2fx the cost; %zu of %zu comments hit "
         "LIST_KEYWORD)\n",
         tw, tp / tw, hits_with, comments.size());
  // What the lists add: the engine with them less the one without (both
  // open at once, each warmed up, so that no freed memory is reused).
  printf("resident memory: %.1f MiB before; the engine without lists takes %.1f MiB, the one with both lists %.1f MiB "
         "(the lists add %.1f MiB)\n",
         rss0 / 1024.0, (rss1 - rss0) / 1024.0, (rss2 - rss1) / 1024.0, ((rss2 - rss1) - (rss1 - rss0)) / 1024.0);
  std::string rm = std::string("rm -rf ") + dir;
  if (system(rm.c_str()) != 0) return 1;
  for (sg_comment* c : comments) sg_comment_free(c);
  return 0;
}
