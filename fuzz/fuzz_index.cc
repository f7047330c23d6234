// Fuzz target: what is read back from files beside the database and from
// keyword lists. A serialized literal automaton (the phrase index) is
// checked by LiteralSet::View before any scan, whole or with a byte
// changed; encoded atoms (stored with each link pattern) are decoded; and
// keyword files are read as phrases and as patterns.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "lists/keywords.h"
#include "util/literal_set.h"

namespace {

void ScanWith(const spamguard::LiteralSet& set, const std::string& text, uint32_t max_value) {
  uint32_t least = UINT32_MAX;
  set.Scan(text, [&](uint32_t v) {
    if (v > max_value) __builtin_trap();
    least = std::min(least, v);
  });
  // The first literal to end: none exactly when the scan found none.
  uint32_t first = 0;
  const bool found = set.FindFirst(text, &first);
  if (found != (least != UINT32_MAX) || (found && first > max_value)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string in(reinterpret_cast<const char*>(data) + 2, size - 2);
  switch (data[0] % 4) {
    case 0: {  // arbitrary bytes as an index
      std::vector<uint64_t> aligned(in.size() / 8 + 1);
      memcpy(aligned.data(), in.data(), in.size());
      spamguard::LiteralSet set;
      size_t used = 0;
      if (set.View(reinterpret_cast<const char*>(aligned.data()), in.size(), 1000, &used))
        ScanWith(set, in, 1000);
      break;
    }
    case 1: {  // a real index with one byte changed
      spamguard::LiteralSet built;
      std::vector<std::string> lits;
      size_t at = 0;
      for (size_t nl; (nl = in.find('\n', at)) != std::string::npos && lits.size() < 64; at = nl + 1)
        lits.push_back(in.substr(at, nl - at));
      for (size_t i = 0; i < lits.size(); ++i) built.Add(lits[i], uint32_t(i));
      built.Build();
      std::string bytes;
      built.Serialize(&bytes);
      if (!bytes.empty()) bytes[size_t(data[1]) * 7 % bytes.size()] ^= char(1 + data[1] % 255);
      std::vector<uint64_t> aligned(bytes.size() / 8 + 1);
      memcpy(aligned.data(), bytes.data(), bytes.size());
      spamguard::LiteralSet set;
      size_t used = 0;
      uint32_t max_value = lits.empty() ? 0 : uint32_t(lits.size() - 1);
      if (set.View(reinterpret_cast<const char*>(aligned.data()), bytes.size(), max_value, &used))
        ScanWith(set, in, max_value);
      break;
    }
    case 2: {  // encoded atoms
      spamguard::rules::Atoms a;
      if (spamguard::lists::DecodeAtoms(in, &a)) {
        for (const auto& c : a.clauses)
          for (uint16_t i : c)
            if (i >= a.atoms.size()) __builtin_trap();
      }
      break;
    }
    default: {  // a keyword file
      char path[] = "/tmp/sg_fuzz_keywords_XXXXXX";
      int fd = mkstemp(path);
      if (fd < 0) return 0;
      if (write(fd, in.data(), in.size()) != ssize_t(in.size())) {
        close(fd);
        unlink(path);
        return 0;
      }
      close(fd);
      std::vector<spamguard::lists::KeywordEntry> entries;
      std::vector<std::string> errors;
      size_t dups = 0;
      std::string io;
      spamguard::lists::ReadKeywordFile(path, data[1] & 1 ? spamguard::lists::kLinkPattern : spamguard::lists::kPhrase,
                                        &entries, &errors, &dups, &io);
      unlink(path);
      break;
    }
  }
  return 0;
}
