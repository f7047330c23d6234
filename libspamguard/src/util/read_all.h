// Reading a whole open file of a known size (fstat'ed by the caller, who
// has already decided it may be read), and writing a whole file beside its
// place and renaming it there: what the caches and list readers share.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>
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

// Writes data to a new file beside path (mode `mode`) and renames it over
// path, so that readers see the old file or the new one, whole. False (and
// nothing left behind) when the folder does not let us.
inline bool WriteFileAtomically(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".XXXXXX";
  int fd = mkstemp(&tmp[0]);
  if (fd < 0) return false;
  bool ok = fchmod(fd, mode) == 0;
  for (size_t at = 0; ok && at < data.size();) {
    ssize_t w = ::write(fd, data.data() + at, data.size() - at);
    if (w <= 0) ok = false;
    else at += size_t(w);
  }
  ok = ::close(fd) == 0 && ok;
  if (ok) ok = ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) ::unlink(tmp.c_str());
  return ok;
}

}  // namespace spamguard
