// Reading a whole open file of a known size (fstat'ed by the caller, who
// has already decided it may be read): what the caches and list readers
// share.
#pragma once

#include <unistd.h>

#include <string>

namespace spamguard {

// Reads up to `size` bytes from fd into *out; *out holds what was read
// (shorter at an error or at end of file). True when all `size` came.
inline bool ReadAll(int fd, size_t size, std::string* out) {
  out->assign(size, '\0');
  size_t got = 0;
  while (got < size) {
    ssize_t r = ::read(fd, &(*out)[got], size - got);
    if (r <= 0) break;
    got += size_t(r);
  }
  out->resize(got);
  return got == size;
}

}  // namespace spamguard
