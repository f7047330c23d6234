#include "engine/install_paths.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <vector>

namespace spamguard::engine {

namespace {

// The real folder this library (or the program it is linked into) sits in.
std::string OwnFolder() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&DefaultRulesPath), &info) == 0 || info.dli_fname == nullptr) return "";
  char buf[PATH_MAX];
  if (realpath(info.dli_fname, buf) == nullptr) return "";
  std::string path(buf);
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  return realpath(p.c_str(), buf) ? std::string(buf) : p;
}

// Exists, readable or not: a file only root can read is the admin's choice,
// and opening it must say "permission denied" rather than pass it over.
bool Exists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }

}  // namespace

std::string DefaultRulesPath() {
  const std::string lib = OwnFolder();
  // In its build tree (the library, or a program there linked with the
  // static library: the CGI example, the benchmarks), the source tree's
  // rules. (Exactly those folders: an install staged inside the build tree
  // is an install.)
  if (!lib.empty() && Exists(SG_SOURCE_RULES)) {
    const std::string tree = RealPath(SG_BUILD_ROOT);
    for (const char* sub : {"/libspamguard", "/examples", "/bench"})
      if (lib == tree + sub) return SG_SOURCE_RULES;
  }
  std::vector<std::string> candidates;
  if (!lib.empty()) {
    candidates.push_back(lib + "/" SG_REL_SYSCONFDIR "/spamguard/spamguard.cf");
    candidates.push_back(lib + "/" SG_REL_DATADIR "/spamguard/spamguard.cf");
  }
  candidates.push_back(SG_FULL_SYSCONFDIR "/spamguard/spamguard.cf");
  candidates.push_back(SG_FULL_DATADIR "/spamguard/spamguard.cf");
  for (const auto& c : candidates)
    if (Exists(c)) return RealPath(c);
  return lib.empty() ? candidates.back() : RealPath(lib + "/" SG_REL_DATADIR) + "/spamguard/spamguard.cf";
}

}  // namespace spamguard::engine
