// FNV-1a, 64 bits: a hash stable across processes, builds and machines, for
// what is stored (content ids, long rate-limit keys, the learner's tokens).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace spamguard {

struct Fnv1a {
  uint64_t h = 1469598103934665603ull;
  void Mix(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  }
  // "<prefix>" and the hash in 16 hex digits.
  std::string Hex(const char* prefix) const {
    char buf[40];
    snprintf(buf, sizeof buf, "%s%016llx", prefix, static_cast<unsigned long long>(h));
    return buf;
  }
};

}  // namespace spamguard
