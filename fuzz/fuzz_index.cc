// Fuzz target: what is read back from files beside the database and from
// keyword lists. A serialized literal automaton (the phrase index) is
// checked by LiteralSet::View before any scan, whole or with a byte
// changed; encoded atoms (stored with each link pattern) are decoded;
// keyword files are read as phrases and as patterns; and a real keyword
// index file (phrases and link patterns, built) is mapped with bytes
// changed, then matched against links.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "comment/comment.h"
#include "lists/keywords.h"
#include "store/sqlite_store.h"
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

// A store with a few phrases and link patterns, and its keyword index file
// as the library wrote it; made once.
struct KeywordFixture {
  std::string dir, cache, good;
  std::unique_ptr<spamguard::store::SqliteStore> store;
  int64_t version = 0;
  KeywordFixture() {
    char tmpl[] = "/tmp/sg_fuzz_kwindex_XXXXXX";
    if (!mkdtemp(tmpl)) return;
    dir = tmpl;
    cache = dir + "/kw.db-keywords";
    if (!spamguard::store::SqliteStore::Open(dir + "/kw.db", spamguard::store::SqliteOptions{}, &store).ok()) return;
    const std::string list = dir + "/mt.txt";
    FILE* f = fopen(list.c_str(), "w");
    if (!f) return;
    fputs("([\\w\\-_.]*lostr\\.info)\n(cheap|discount)-(pills|meds)\\.info\nspam[0-9]+-[a-z]+\\.info\n^https?://[^/]*\\.xyz/\n",
          f);
    fclose(f);
    std::vector<spamguard::lists::KeywordEntry> patterns;
    std::vector<std::string> errors;
    size_t dups = 0;
    std::string io;
    spamguard::lists::ReadKeywordFile(list, spamguard::lists::kLinkPattern, &patterns, &errors, &dups, &io);
    for (auto& e : patterns) e.source = "mt";
    std::vector<spamguard::lists::KeywordEntry> phrases = {{spamguard::lists::kPhrase, "cheap pharmacy", "wp", ""},
                                                           {spamguard::lists::kPhrase, "casino bonus", "wp", ""}};
    if (!store->ReplaceKeywords("mt", patterns, &version).ok() || !store->ReplaceKeywords("wp", phrases, &version).ok())
      return;
    int64_t v = 0;
    if (!spamguard::lists::KeywordIndex::Load(store.get(), cache, &v)) return;
    FILE* in = fopen(cache.c_str(), "rb");
    if (!in) return;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;) good.append(buf, n);
    fclose(in);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string in(reinterpret_cast<const char*>(data) + 2, size - 2);
  switch (data[0] % 5) {
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
    case 4: {  // the keyword index file, bytes changed: (position, value) pairs from the input
      static KeywordFixture fx;
      if (fx.good.empty()) return 0;
      std::string bytes = fx.good;
      for (size_t k = 0; k + 3 <= in.size() && k < 3 * 64; k += 3) {
        size_t at = (size_t(uint8_t(in[k])) << 8 | uint8_t(in[k + 1])) * 7 % bytes.size();
        bytes[at] = in[k + 2];
      }
      if (data[1] & 1) bytes.resize(size_t(data[1]) * 31 % bytes.size());
      FILE* f = fopen(fx.cache.c_str(), "wb");
      if (!f) return 0;
      fwrite(bytes.data(), 1, bytes.size(), f);
      fclose(f);
      chmod(fx.cache.c_str(), 0644);
      int64_t v = 0;
      bool mapped = false;
      auto index = spamguard::lists::KeywordIndex::Load(fx.store.get(), fx.cache, &v, &mapped, fx.version);
      if (!index) __builtin_trap();  // (a damaged file is built again from the store)
      for (const char* body : {"see <a href=\"http://www.lostr.info/\">x</a>", "http://discount-meds.info/ cheap pharmacy",
                               "http://spam12-abc.info/ http://a.example.xyz/"}) {
        spamguard::comment::Comment c;
        c.fields[SG_FIELD_BODY] = body;
        spamguard::comment::Normalized n;
        spamguard::comment::Normalize(c, spamguard::comment::Limits{}, &n);
        spamguard::lists::KeywordMatch m;
        index->Match(c, n, &m);
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
