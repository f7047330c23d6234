// Fuzz target: the dump readers of the command (CSV, Movable Type export,
// WordPress WXR), each fed the same arbitrary bytes, records converted to
// comments.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "dump.h"
#include "spamguard/spamguard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  sgcli::DumpCallbacks cb;
  cb.record = [c](const sgcli::Record& r) {
    sgcli::ToComment(r, c);
    return true;
  };
  cb.skip = [](const std::string&, const std::string&) {};
  for (const char* format : {"csv", "mt", "wxr"}) {
    std::istringstream in(bytes);
    std::string error;
    sgcli::ReadDumpStream(in, "fuzz", format, cb, &error);
  }
  sg_comment_free(c);
  return 0;
}
