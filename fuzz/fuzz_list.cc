// Fuzz target: the list-file line reader (every import format) and the
// name normalizers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lists/import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  spamguard::lists::ListLine line;
  spamguard::lists::ParseListLine(s, &line);
  std::string out;
  spamguard::lists::NormalizeEmail(s, &out);
  spamguard::lists::NormalizeDomain(s, &out);
  spamguard::lists::UrlHost(s, &out);
  return 0;
}
