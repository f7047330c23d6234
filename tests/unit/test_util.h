// Helpers shared by the unit tests.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace sgtest {

// A private folder under /tmp, removed with everything in it.
struct TempDir {
  std::string path;
  TempDir() {
    char buf[] = "/tmp/sg_test_XXXXXX";
    path = mkdtemp(buf);
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    if (system(cmd.c_str()) != 0) perror("rm");
  }
  std::string File(const std::string& name) const { return path + "/" + name; }
};

}  // namespace sgtest
