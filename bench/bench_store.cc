// spamguard_store_bench — scoring through the Redis store next to the
// SQLite store, in the same run, at 1, 8 and 32 processes, rate limits on
// and off.
//
//   spamguard_store_bench [--seconds S] [--procs 1,8,32] [--redis URL] [--ranges N]
//                         [--limits on|off] [--store redis|sqlite] [--unix]
//
// Starts its own redis-server on 127.0.0.1 (a free port, its own folder, no
// persistence, its own session as a service has; --unix: clients use its unix socket) unless --redis names one, and an SQLite file under /tmp.
// Every process opens its own engine on the shipped rules and scores
// comments (spam and ham, each from another address spread over the
// whole space, so the limits are checked, not tripped: the throttled share
// is printed) for S seconds (default 3). Prints comments/s over
// all processes, the p50/p99 latency of one sg_engine_score call, and (for a
// server it started) the server's own time per scored comment, from INFO
// commandstats. Then
// the footprint: keys a blog's namespace holds, and the server's memory for
// N list ranges (default 1,000,000) imported as one source.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include "spamguard/spamguard.h"

namespace {

using Clock = std::chrono::steady_clock;

const char* kBodies[] = {
    "Buy cheap viagra online without prescription http://pills.example.xyz/",
    "Thanks, the part about the boiler pressure finally made sense to me.",
    "Best online casino, free spins, no deposit bonus http://casino.example.top/",
    "I tried the recipe with spelt flour and it came out fine, a bit denser.",
    "Great post! My web page - payday loans no credit check http://loans.example.click/",
    "Could you share which lens you used for the second photo?",
};

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

sg_engine* Open(const std::string& db, bool limits) {
  sg_config* cfg = nullptr;
  sg_config_new(&cfg);
  sg_config_set_str(cfg, SG_CFG_DATABASE, db.c_str());
  if (!limits) sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, SG_RATELIMIT_OFF);
  sg_engine* e = nullptr;
  const char* rules = getenv("SPAMGUARD_RULES");
  std::string path = rules && *rules ? rules : std::string(SG_SOURCE_DIR) + "/data/spamguard.cf";
  if (sg_engine_open(&e, path.c_str(), cfg) != SG_OK || !sg_engine_has_state(e)) {
    fprintf(stderr, "open %s: %s\n", db.c_str(), e ? sg_engine_state_message(e) : sg_error_message());
    exit(1);
  }
  sg_config_free(cfg);
  return e;
}

// One process: scores for `seconds`, writes its latencies (µs) to `out`.
int Worker(const std::string& db, bool limits, int k, double seconds, const std::string& out) {
  sg_engine* e = Open(db, limits);
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  std::vector<float> lat;
  lat.reserve(200000);
  auto until = Clock::now() + std::chrono::duration<double>(seconds);
  uint32_t n = 0;
  while (Clock::now() < until) {
    ++n;
    // Addresses spread over the whole space, so that no /24 or /16 limit
    // trips either.
    uint32_t a = (uint32_t(k) * 0x9E3779B9u) ^ (n * 2654435761u);
    char ip[32];
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", 1 + (a >> 24) % 223, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    const char* body = kBodies[n % 6];
    sg_comment_reset(c);
    sg_comment_set_field(c, SG_FIELD_IP, ip, strlen(ip));
    sg_comment_set_field(c, SG_FIELD_BODY, body, strlen(body));
    sg_comment_set_field(c, SG_FIELD_AUTHOR, "reader", 6);
    sg_result* r = nullptr;
    auto t0 = Clock::now();
    int rc = sg_engine_score(&r, e, c);
    lat.push_back(float(std::chrono::duration<double, std::micro>(Clock::now() - t0).count()));
    if (rc == SG_OK && sg_result_action(r) == SG_ACTION_THROTTLE) lat.back() = -lat.back();  // counted apart
    if (rc != SG_OK || (sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE)) {
      fprintf(stderr, "score failed: %s\n", rc != SG_OK ? sg_error_message() : "state unavailable");
      return 1;
    }
    sg_result_free(r);
  }
  sg_comment_free(c);
  sg_engine_close(e);
  std::ofstream(out, std::ios::binary).write(reinterpret_cast<const char*>(lat.data()),
                                            std::streamsize(lat.size() * sizeof(float)));
  return 0;
}

// The server's own time per script call since the last reset (INFO
// commandstats), in µs; -1 when not known.
double ServerMicros(const std::string& cli) {
  if (cli.empty()) return -1;
  std::string info = Run(cli + " info commandstats");
  size_t at = info.find("cmdstat_evalsha:");
  if (at == std::string::npos) return -1;
  size_t u = info.find("usec_per_call=", at);
  return u == std::string::npos ? -1 : atof(info.c_str() + u + 14);
}

void Measure(const char* name, const std::string& db, bool limits, int procs, double seconds, const std::string& dir,
             const std::string& cli = "") {
  if (!cli.empty()) Run(cli + " config resetstat >/dev/null");
  // Each run starts from the same state: the engines warm up (script
  // loaded, rules compiled) in the first part of their time.
  std::vector<pid_t> pids;
  for (int k = 0; k < procs; ++k) {
    pid_t pid = fork();
    if (pid == 0) _exit(Worker(db, limits, k, seconds, dir + "/lat" + std::to_string(k)));
    pids.push_back(pid);
  }
  bool ok = true;
  for (pid_t p : pids) {
    int status = 0;
    waitpid(p, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  std::vector<float> all;
  for (int k = 0; k < procs; ++k) {
    std::ifstream f(dir + "/lat" + std::to_string(k), std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t n = s.size() / sizeof(float);
    size_t at = all.size();
    all.resize(at + n);
    memcpy(all.data() + at, s.data(), n * sizeof(float));
  }
  if (!ok || all.empty()) {
    printf("%-7s %-4s %5d  failed\n", name, limits ? "on" : "off", procs);
    return;
  }
  size_t throttled = 0;
  for (float& x : all)
    if (x < 0) x = -x, ++throttled;
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[std::min(all.size() - 1, size_t(p * double(all.size())))] / 1000.0; };
  double server = ServerMicros(cli);
  char server_text[32] = "";
  if (server >= 0) snprintf(server_text, sizeof server_text, "%10.1f", server);
  printf("%-7s %-4s %5d  %11.0f  %7.3f  %7.3f  %9.2f%%  %s\n", name, limits ? "on" : "off", procs,
         double(all.size()) / seconds, pct(0.50), pct(0.99), 100.0 * double(throttled) / double(all.size()), server_text);
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::vector<int> procs = {1, 8, 32};
  std::string redis;
  long ranges = 1000000;
  std::string only_limits, only_store;  // "on"/"off", "redis"/"sqlite": one kind of run
  bool unix_socket = false;              // the server started here listens on a unix socket instead
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) seconds = atof(argv[++i]);
    else if (a == "--redis" && i + 1 < argc) redis = argv[++i];
    else if (a == "--ranges" && i + 1 < argc) ranges = atol(argv[++i]);
    else if (a == "--limits" && i + 1 < argc) only_limits = argv[++i];
    else if (a == "--store" && i + 1 < argc) only_store = argv[++i];
    else if (a == "--unix") unix_socket = true;
    else if (a == "--procs" && i + 1 < argc) {
      procs.clear();
      std::stringstream ss(argv[++i]);
      std::string p;
      while (std::getline(ss, p, ',')) procs.push_back(atoi(p.c_str()));
    } else {
      fprintf(stderr, "usage: %s [--seconds S] [--procs 1,8,32] [--redis URL] [--ranges N] [--limits on|off] [--store redis|sqlite] [--unix]\n",
              argv[0]);
      return 2;
    }
  }
  char tmpl[] = "/tmp/sg_store_bench_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  pid_t server = -1;
  std::string cli;
  if (redis.empty()) {
    int port = FreePort();
    server = fork();
    if (server == 0) {
      // Its own session, as a service runs: with the kernel's autogroup
      // scheduling (Debian's default) a server in the clients' session
      // would share their one slice of the CPU.
      setsid();
      std::string sock = dir + "/redis.sock";
      execlp("redis-server", "redis-server", "--port", std::to_string(port).c_str(), "--bind", "127.0.0.1", "--dir",
             dir.c_str(), "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
             "--unixsocket", sock.c_str(), "--unixsocketperm", "700", (char*)nullptr);
      _exit(127);
    }
    redis = unix_socket ? "redis+unix://" + dir + "/redis.sock" : "redis://127.0.0.1:" + std::to_string(port) + "/0";
    cli = unix_socket ? "redis-cli -s " + dir + "/redis.sock" : "redis-cli -p " + std::to_string(port);
    for (int i = 0; i < 200 && Run(cli + " ping 2>/dev/null").find("PONG") == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string version = Run(cli.empty() ? "true" : cli + " info server | grep redis_version");
  printf("spamguard %s, %u cores; Redis on %s (%s), SQLite on %s; %.0f s per run\n", sg_version_string(),
         std::thread::hardware_concurrency(), unix_socket ? "a unix socket" : "loopback TCP", version.empty() ? redis.c_str() : version.substr(0, version.find('\r')).c_str(),
         dir.c_str(), seconds);
  printf("%-7s %-4s %5s  %11s  %7s  %7s  %10s  %s\n", "store", "lim", "procs", "comments/s", "p50 ms", "p99 ms",
         "throttled", "server µs/comment");
  for (int p : procs)
    for (bool limits : {true, false}) {
      if (!only_limits.empty() && (only_limits == "on") != limits) continue;
      if (only_store != "sqlite") Measure("redis", redis, limits, p, seconds, dir, cli);
      if (only_store != "redis") Measure("sqlite", dir + "/bench.db", limits, p, seconds, dir);
    }
  if (!cli.empty()) {
    // The footprint of a blog's namespace after the runs, and of list ranges.
    // (Counted by the server: key names hold binary bytes, newlines too.)
    std::string keys = Run(cli + " eval \"return #redis.call('keys', ARGV[1])\" 0 'sg:{default}:*'");
    std::string rl = Run(cli + " eval \"return #redis.call('keys', ARGV[1])\" 0 'sg:{default}:rg:*'");
    std::string states = Run(cli + " eval \"local n = 0 for _, k in ipairs(redis.call('keys', ARGV[1])) do n = n + "
                                   "redis.call('hlen', k) end return n\" 0 'sg:{default}:rg:*'");
    printf("keys in the blog's namespace after the runs: %ld (%ld of them rate-limit groups, which expire, "
           "holding %ld limit states)\n",
           atol(keys.c_str()), atol(rl.c_str()), atol(states.c_str()));
    auto used = [&] {
      std::string info = Run(cli + " info memory");
      size_t at = info.find("used_memory:");
      return at == std::string::npos ? 0L : atol(info.c_str() + at + 12);
    };
    if (ranges > 0) {
      std::string file = dir + "/ranges.txt";
      {
        std::ofstream f(file);
        for (long i = 0; i < ranges; ++i) {
          // Mostly /32s with some /24s, across the space (what block lists hold).
          unsigned v = unsigned(i) * 2654435761u;
          if (i % 10 == 0) f << (v >> 24) << "." << ((v >> 16) & 255) << "." << ((v >> 8) & 255) << ".0/24\n";
          else f << (v >> 24) << "." << ((v >> 16) & 255) << "." << ((v >> 8) & 255) << "." << (v & 255) << "\n";
        }
      }
      long before = used();
      sg_config* cfg = nullptr;
      sg_config_new(&cfg);
      sg_config_set_str(cfg, SG_CFG_DATABASE, redis.c_str());
      sg_engine* e = nullptr;
      std::string rules = dir + "/mem.cf";
      std::ofstream(rules) << "redis_namespace ranges\nredis_timeout_ms 60000\n";
      if (sg_engine_open(&e, rules.c_str(), cfg) == SG_OK && sg_engine_has_state(e)) {
        sg_import_report* rep = nullptr;
        auto t0 = Clock::now();
        int rc = sg_engine_list_import(&rep, e, SG_LIST_BLOCK, file.c_str(), "bench", "", 0);
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        long after = used();
        if (rc == SG_OK)
          printf("%ld list ranges imported in %.1f s; server memory %.1f MiB for them (%.0f bytes per range)\n",
                 (long)sg_import_report_imported(rep), s, double(after - before) / 1048576.0,
                 double(after - before) / double(std::max<size_t>(1, sg_import_report_imported(rep))));
        else
          printf("import failed: %s\n", sg_error_message());
        sg_import_report_free(rep);
        // One lookup against them.
        sg_comment* c = nullptr;
        sg_comment_new(&c);
        sg_comment_set_field(c, SG_FIELD_IP, "198.51.100.7", 12);
        sg_comment_set_field(c, SG_FIELD_BODY, "hello", 5);
        std::vector<double> l;
        for (int i = 0; i < 2000; ++i) {
          sg_result* r = nullptr;
          auto t1 = Clock::now();
          sg_engine_score(&r, e, c);
          l.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t1).count());
          sg_result_free(r);
        }
        std::sort(l.begin(), l.end());
        printf("scoring against them, one process: p50 %.3f ms, p99 %.3f ms\n", l[l.size() / 2] / 1000.0,
               l[l.size() * 99 / 100] / 1000.0);
        sg_comment_free(c);
        sg_engine_close(e);
      }
      sg_config_free(cfg);
    }
  }
  if (server > 0) {
    kill(server, SIGTERM);
    waitpid(server, nullptr, 0);
  }
  Run("rm -rf '" + dir + "'");
  return 0;
}
