// A real redis-server for tests: started on loopback (a unix socket and a
// TCP port of its own) with its own folder, stopped by its PID.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace sgtest {

class RedisServer {
 public:
  // extra: more "--name value" arguments (e.g. {"--appendonly", "yes"}).
  explicit RedisServer(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    port_ = FreePort();
    Start();
  }
  ~RedisServer() { Stop(); }
  RedisServer(const RedisServer&) = delete;

  static bool Installed() { return access("/usr/bin/redis-server", X_OK) == 0 || system("command -v redis-server >/dev/null 2>&1") == 0; }

  bool up() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string socket() const { return dir_.File("redis.sock"); }
  std::string dir() const { return dir_.path; }
  std::string unix_url(int db = 0) const { return "redis+unix://" + socket() + (db ? "?db=" + std::to_string(db) : ""); }
  std::string tcp_url(int db = 0) const { return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db); }

  bool Start() {
    if (pid_ > 0) return true;
    std::vector<std::string> args = {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                     "--unixsocket", socket(), "--unixsocketperm", "700", "--dir", dir_.path,
                                     "--save", "", "--daemonize", "no", "--loglevel", "warning",
                                     "--logfile", dir_.File("redis.log"), "--enable-debug-command", "local"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_t pid = fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("redis-server", argv.data());
      _exit(127);
    }
    pid_ = pid;
    for (int i = 0; i < 500; ++i) {
      if (Connectable()) return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // SIGTERM (a clean shutdown) or SIGKILL, and wait for it.
  void Stop(bool kill9 = false) {
    if (pid_ <= 0) return;
    kill(pid_, kill9 ? SIGKILL : SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    unlink(socket().c_str());
  }
  // Runs redis-cli against the server; its output.
  std::string Cli(const std::string& args) const {
    std::string cmd = "redis-cli -s '" + socket() + "' " + args + " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  static int FreePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    close(fd);
    return port;
  }

 private:
  bool Connectable() const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::string s = socket();
    snprintf(a.sun_path, sizeof a.sun_path, "%s", s.c_str());
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return ok;
  }
  std::vector<std::string> extra_;
  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace sgtest
