// Helpers shared by the unit tests.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace sgtest {

// A private folder under /tmp, removed with everything in it.
struct TempDir {
  std::string path;
  // base: where to make it ("/dev/shm" for a test whose subject is not the
  // disk, when the machine has one).
  explicit TempDir(const char* base = "/tmp") {
    std::string tmpl = std::string(base) + "/sg_test_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* made = mkdtemp(buf.data());
    if (made == nullptr && std::string(base) != "/tmp") {
      char fallback[] = "/tmp/sg_test_XXXXXX";
      made = mkdtemp(fallback);
    }
    path = made ? made : "/tmp";
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    if (system(cmd.c_str()) != 0) perror("rm");
  }
  std::string File(const std::string& name) const { return path + "/" + name; }
};

}  // namespace sgtest
