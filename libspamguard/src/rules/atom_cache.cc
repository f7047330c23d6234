#include "rules/atom_cache.h"

#include <fcntl.h>
#include <re2/filtered_re2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "util/read_all.h"  // WriteFileAtomically

namespace spamguard::rules {

// The cache file, mapped read-only for as long as anything reads it.
struct CacheMapping {
  const char* data = nullptr;
  size_t size = 0;
  CacheMapping(const CacheMapping&) = delete;
  CacheMapping& operator=(const CacheMapping&) = delete;
  CacheMapping(const char* d, size_t n) : data(d), size(n) {}
  ~CacheMapping() { ::munmap(const_cast<char*>(data), size); }
};

namespace {

constexpr char kMagic[8] = {'S', 'G', 'A', 'T', 'O', 'M', 'S', '7'};
constexpr size_t kMaxFile = size_t(64) << 20;
constexpr int kMinAtomLen = 2;
// Finding clauses asks the filter about k^2 sets; past this many atoms the
// one clause "any atom" is used.
constexpr size_t kMaxClauseAtoms = 256;
// More branches than this are not split (each is compiled once to find
// its atoms when the cache is built).
constexpr size_t kMaxBranches = 64;

void PutU(std::string* b, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b->push_back(char((v >> (8 * i)) & 0xff));
}

struct Reader {
  const unsigned char* p;
  size_t n, at = 0;
  bool ok = true;
  uint64_t U(int bytes) {
    if (!ok || n - at < size_t(bytes)) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t(p[at + size_t(i)]) << (8 * i);
    at += size_t(bytes);
    return v;
  }
  // Skips len bytes; *out (when given) gets them.
  void Bytes(size_t len, std::string* out) {
    if (!ok || n - at < len) {
      ok = false;
      return;
    }
    if (out) out->assign(reinterpret_cast<const char*>(p + at), len);
    at += len;
  }
};

// One entry after its key: checked whole; decoded into *out when given.
bool ReadEntry(Reader& r, Atoms* out) {
  const bool filtered = r.U(1) != 0;
  const uint64_t n = r.U(2);
  if (out) {
    out->filtered = filtered;
    out->atoms.resize(size_t(n));
  }
  for (uint64_t k = 0; k < n && r.ok; ++k) {
    const size_t len = size_t(r.U(2));
    if (len == 0) r.ok = false;
    r.Bytes(len, out ? &out->atoms[size_t(k)] : nullptr);
  }
  const uint64_t nc = r.U(2);
  for (uint64_t c = 0; c < nc && r.ok; ++c) {
    const uint64_t len = r.U(2);
    if (len == 0) r.ok = false;
    if (out) out->clauses.emplace_back();
    for (uint64_t i = 0; i < len && r.ok; ++i) {
      const uint64_t a = r.U(2);
      if (a >= n) r.ok = false;
      if (out) out->clauses.back().push_back(uint16_t(a));
    }
  }
  // The clauses of each branch (none: one branch), adding up to all.
  const uint64_t nb = r.U(2);
  uint64_t sum = 0;
  for (uint64_t b = 0; b < nb && r.ok; ++b) {
    const uint64_t m = r.U(2);
    if (m == 0) r.ok = false;
    sum += m;
    if (out) out->branches.push_back(uint16_t(m));
  }
  if (nb > 0 && sum != nc) r.ok = false;
  // (A filtered pattern needs an atom and a clause.)
  if (filtered && (n == 0 || nc == 0)) r.ok = false;
  return r.ok;
}

// Eight bytes a step in four independent lanes (the file is read whole at
// every open; one dependent chain of multiplies was the largest single
// cost of opening with a warm cache).
uint64_t Checksum(const char* p, size_t len) {
  uint64_t h[4] = {0x9e3779b97f4a7c15ull ^ len, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, 0x27d4eb2f165667c5ull};
  size_t i = 0;
  for (; i + 32 <= len; i += 32) {
    for (int k = 0; k < 4; ++k) {
      uint64_t w;
      memcpy(&w, p + i + 8 * size_t(k), 8);
      h[k] = (h[k] ^ w) * 0xff51afd7ed558ccdull;
      h[k] ^= h[k] >> 32;
    }
  }
  uint64_t out = h[0] ^ (h[1] * 0x9e3779b97f4a7c15ull) ^ (h[2] * 0xc4ceb9fe1a85ec53ull) ^ (h[3] * 0xff51afd7ed558ccdull);
  for (; i < len; ++i) {
    out = (out ^ uint8_t(p[i])) * 0xc4ceb9fe1a85ec53ull;
    out ^= out >> 29;
  }
  return out;
}

// Whether FoldCase lowers the text's runes into what RE2 lowered this
// atom's runes to, for every rune RE2 would take as the same letter: ASCII
// (with the Kelvin sign and the long s), and the Latin-1 letters whose case
// has only two forms. An atom with any other rune (Greek sigma's three
// forms, Cyrillic letters with historic variants, µ, ß, å, ÿ) leaves its
// pattern unfiltered: run on every text, never wrongly skipped.
bool FoldsAlike(const std::string& atom) {
  const auto* p = reinterpret_cast<const unsigned char*>(atom.data());
  for (size_t i = 0; i < atom.size(); ++i) {
    if (p[i] < 0x80) continue;
    if (i + 1 >= atom.size() || (p[i] != 0xc3) || (p[i + 1] & 0xc0) != 0x80) return false;
    uint32_t r = 0xc0 | (p[i + 1] & 0x3f);
    if (r < 0xe0 || r == 0xf7 || r == 0xe5 || r == 0xff) return false;  // (RE2's atoms are lower case)
    ++i;
  }
  return true;
}

}  // namespace

namespace {

// The atoms and clauses of one pattern, as FilteredRE2 sees it.
bool ComputeOne(const std::string& pattern, const RE2::Options& options, Atoms* out, std::string* error) {
  re2::FilteredRE2 f(kMinAtomLen);
  int id = -1;
  if (f.Add(pattern, options, &id) != RE2::NoError) {
    RE2 re(pattern, options);  // (FilteredRE2 keeps only the code; this says why)
    *error = re.ok() ? "does not compile" : re.error();
    return false;
  }
  std::vector<std::string> atoms;
  f.Compile(&atoms);
  // Passes the filter with no atom at all: nothing is required.
  std::vector<int> potential;
  f.AllPotentials({}, &potential);
  *out = Atoms{};
  if (!potential.empty() || atoms.empty()) return true;
  for (const auto& a : atoms)
    if (!FoldsAlike(a)) return true;
  out->filtered = true;
  const size_t k = atoms.size();
  out->atoms = std::move(atoms);
  auto passes = [&](const std::vector<int>& present) {
    f.AllPotentials(present, &potential);
    return !potential.empty();
  };
  if (k > kMaxClauseAtoms) {
    out->clauses.emplace_back();
    for (size_t i = 0; i < k; ++i) out->clauses.back().push_back(uint16_t(i));
    return true;
  }
  // Each clause is what a set the filter refuses leaves out, the set grown
  // greedily from `seed` in a rotation of the atoms that ends with a (a
  // refused set leaves out an atom of every set that passes). Two rounds:
  // from nothing, and from the atoms every passing set holds (each its own
  // clause). The second finds the clauses of a part that only counts once
  // the essential atoms are there: /thanks\s+for\s+(?:sharing|(?:this|
  // the)\s+post)/ gives {thanks}, {for}, {sharing, this, the} and
  // {sharing, post}, of which the first round alone found only three.
  std::vector<int> z;
  std::vector<uint8_t> in(k);
  auto grow = [&](const std::vector<int>& seed) {
    for (size_t a = 0; a < k; ++a) {
      std::fill(in.begin(), in.end(), 0);
      z = seed;
      for (int e : seed) in[size_t(e)] = 1;
      if (in[a]) continue;
      for (size_t step = 1; step <= k; ++step) {
        const int b = int((a + step) % k);  // a itself last
        if (in[size_t(b)]) continue;
        z.push_back(b);
        if (passes(z)) z.pop_back();
        else in[size_t(b)] = 1;
      }
      std::vector<uint16_t> clause;
      for (size_t i = 0; i < k; ++i)
        if (!in[i]) clause.push_back(uint16_t(i));
      if (!clause.empty() && std::find(out->clauses.begin(), out->clauses.end(), clause) == out->clauses.end())
        out->clauses.push_back(std::move(clause));
    }
  };
  grow({});
  std::vector<int> essential, all_but;
  for (size_t e = 0; e < k; ++e) {
    all_but.clear();
    for (size_t i = 0; i < k; ++i)
      if (i != e) all_but.push_back(int(i));
    if (!passes(all_but)) essential.push_back(int(e));
  }
  if (!essential.empty() && !passes(essential)) grow(essential);
  // A clause that holds another says nothing more.
  auto holds = [](const std::vector<uint16_t>& big, const std::vector<uint16_t>& small) {
    return big.size() > small.size() && std::includes(big.begin(), big.end(), small.begin(), small.end());
  };
  std::vector<std::vector<uint16_t>> kept;
  for (const auto& c : out->clauses) {
    bool weaker = false;
    for (const auto& d : out->clauses) weaker = weaker || holds(c, d);
    if (!weaker) kept.push_back(c);
  }
  out->clauses = std::move(kept);
  return true;
}

// Where a group's body starts, given the index of its '(' (the group is
// "(", "(?:", "(?P<name>" or "(?flags:"); npos for a flag group "(?i)"
// (it changes the flags up to the end of the group it is in), and for
// anything else (look-around, which RE2 refuses anyway).
size_t GroupBody(const std::string& p, size_t open) {
  if (open + 1 >= p.size() || p[open + 1] != '?') return open + 1;
  size_t k = open + 2;
  if (k < p.size() && p[k] == ':') return k + 1;
  if (k < p.size() && p[k] == 'P') {
    const size_t end = p.find('>', k);
    return end == std::string::npos ? std::string::npos : end + 1;
  }
  while (k < p.size() && (std::isalpha(static_cast<unsigned char>(p[k])) || p[k] == '-')) ++k;
  return k < p.size() && p[k] == ':' ? k + 1 : std::string::npos;
}

}  // namespace

bool SplitAlternation(const std::string& p, std::vector<std::string>* branches, bool* fixed_prefix) {
  branches->clear();
  if (fixed_prefix) *fixed_prefix = false;
  // Leading flag groups, "(?i)" and the like, hold for the whole pattern.
  size_t start = 0;
  for (;;) {
    if (p.compare(start, 2, "(?") != 0) break;
    size_t k = start + 2;
    while (k < p.size() && (std::isalpha(static_cast<unsigned char>(p[k])) || p[k] == '-')) ++k;
    if (k == start + 2 || k >= p.size() || p[k] != ')') break;
    start = k + 1;
  }
  struct Group {
    size_t open = 0, body = 0, close = 0;
    std::vector<size_t> bars;  // its own '|', at depth 1
  };
  std::vector<Group> stack, top;
  std::vector<size_t> top_bars;  // '|' outside every group
  for (size_t i = start; i < p.size();) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size() || p[i + 1] == 'Q') return false;
      i += 2;  // (the braces of \x{..} and \p{..} hold no '(' '|' '[')
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;  // (a ']' first is a literal)
      for (;;) {
        if (j >= p.size()) return false;
        if (p[j] == '\\') {
          j += 2;
        } else if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {
          const size_t e = p.find(":]", j + 2);
          if (e == std::string::npos) return false;
          j = e + 2;
        } else if (p[j] == ']') {
          break;
        } else {
          ++j;
        }
      }
      i = j + 1;
    } else if (c == '(') {
      const size_t body = GroupBody(p, i);
      if (body == std::string::npos) return false;
      stack.push_back({i, body, 0, {}});
      i = body;
    } else if (c == ')') {
      if (stack.empty()) return false;
      Group g = std::move(stack.back());
      stack.pop_back();
      g.close = i;
      if (stack.empty()) top.push_back(std::move(g));
      ++i;
    } else if (c == '|') {
      (stack.empty() ? top_bars : stack.back().bars).push_back(i);
      ++i;
    } else {
      ++i;
    }
  }
  if (!stack.empty()) return false;
  const std::string flags = p.substr(0, start);
  auto cut = [&](size_t from, size_t to, const std::vector<size_t>& bars, const std::string& before,
                 const std::string& after) {
    if (bars.size() + 1 > kMaxBranches) return false;
    size_t at = from;
    for (size_t k = 0; k <= bars.size(); ++k) {
      const size_t end = k < bars.size() ? bars[k] : to;
      branches->push_back(before + p.substr(at, end - at) + after);
      at = end + 1;
    }
    return true;
  };
  if (!top_bars.empty()) {
    if (!cut(start, p.size(), top_bars, flags + "(?:", ")")) branches->clear();
    if (fixed_prefix) *fixed_prefix = !branches->empty();
    return !branches->empty();
  }
  // The outermost group with the most branches, not repeated.
  const Group* best = nullptr;
  for (const Group& g : top)
    if (!g.bars.empty() && (!best || g.bars.size() > best->bars.size())) best = &g;
  if (!best) return false;
  const size_t after = best->close + 1;
  if (after < p.size() && (p[after] == '*' || p[after] == '+' || p[after] == '?' || p[after] == '{')) return false;
  if (!cut(best->body, best->close, best->bars, p.substr(0, best->body), p.substr(best->close))) branches->clear();
  if (fixed_prefix && !branches->empty()) {
    // Before the group: no group of its own and no repetition (escapes
    // and classes match one character each; their insides are skipped).
    bool fixed = true;
    for (size_t i = start; i < best->open && fixed;) {
      const char c = p[i];
      if (c == '\\') {
        i += 2;
      } else if (c == '[') {
        size_t j = i + 1;
        if (j < p.size() && p[j] == '^') ++j;
        if (j < p.size() && p[j] == ']') ++j;
        while (j < best->open && p[j] != ']') j += p[j] == '\\' ? 2 : 1;
        i = j + 1;
      } else {
        fixed = c != '(' && c != '*' && c != '+' && c != '?' && c != '{';
        ++i;
      }
    }
    *fixed_prefix = fixed;
  }
  return !branches->empty();
}

bool ComputeAtoms(const std::string& pattern, const RE2::Options& options, Atoms* out, std::string* error,
                  bool split_branches) {
  if (!ComputeOne(pattern, options, out, error)) return false;
  std::vector<std::string> parts;
  if (!split_branches || !out->filtered || !SplitAlternation(pattern, &parts)) return true;
  // The whole pattern's clauses, then each branch's, over one list of
  // atoms without repeats. (Each filter misses clauses of its own: the
  // clauses are found greedily, and RE2 shortens the atoms of a long
  // cross product; both must hold.)
  Atoms merged;
  merged.filtered = true;
  std::unordered_map<std::string, uint16_t> index;
  auto add = [&](Atoms& a) {
    std::vector<uint16_t> to(a.atoms.size());
    for (size_t k = 0; k < a.atoms.size(); ++k) {
      auto [it, added] = index.emplace(a.atoms[k], uint16_t(merged.atoms.size()));
      if (added) {
        if (merged.atoms.size() >= 0xffff) return false;
        merged.atoms.push_back(a.atoms[k]);
      }
      to[k] = it->second;
    }
    for (auto& c : a.clauses) {
      for (uint16_t& k : c) k = to[k];
      std::sort(c.begin(), c.end());
      merged.clauses.push_back(std::move(c));
    }
    merged.branches.push_back(uint16_t(a.clauses.size()));
    return true;
  };
  Atoms whole = *out;
  if (!add(whole)) return true;
  for (const std::string& part : parts) {
    Atoms a;
    std::string ignored;
    // (A branch with nothing it needs makes the whole pattern need
    // nothing but its own clauses: those stay.)
    if (!ComputeOne(part, options, &a, &ignored) || !a.filtered || a.clauses.empty() || !add(a)) return true;
  }
  *out = std::move(merged);
  return true;
}

uint64_t AtomCache::Key(const std::string& pattern, int64_t max_mem) {
  // (Eight bytes a step, as the file's checksum: every open keys every
  // pattern, some 30 KB of them by default; a byte a step was 4 % of it.)
  uint64_t h = Checksum(pattern.data(), pattern.size()) ^ (uint64_t(max_mem) * 0x9e3779b97f4a7c15ull);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

uint64_t AtomCache::FileChecksum(const char* data, size_t len) { return Checksum(data, len); }

void AtomCache::Load(const std::string& path, std::string* why) {
  auto say = [why](const char* s) {
    if (why) *why = s;
  };
  entries_.clear();
  raw_.clear();
  blobs_.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return say("cannot open");
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || size_t(sb.st_size) > kMaxFile ||
      size_t(sb.st_size) < sizeof kMagic + 12) {
    ::close(fd);
    return say("not a regular file of a cache's size");
  }
  if ((sb.st_uid != geteuid() && sb.st_uid != 0) || (sb.st_mode & (S_IWGRP | S_IWOTH))) {
    ::close(fd);
    return say("owned or writable by another user");
  }
  // Mapped, not read: the automata in it are used where they lie. (Only
  // ever replaced by a rename, never written in place.)
  const size_t size = size_t(sb.st_size);
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) return say("cannot map");
  auto mapping = std::make_shared<const CacheMapping>(static_cast<const char*>(m), size);
  const char* b = mapping->data;
  if (memcmp(b, kMagic, sizeof kMagic) != 0) return say("not a cache of this version");
  Reader r{reinterpret_cast<const unsigned char*>(b), size - 8};
  r.at = sizeof kMagic;
  Reader tail{reinterpret_cast<const unsigned char*>(b), size, size - 8};
  if (tail.U(8) != Checksum(b, size - 8)) return say("checksum mismatch");
  // The entries are only found here (key, length, bytes), and checked and
  // decoded when asked for: with the fields' layouts cached, a process
  // never reads them.
  uint64_t count = r.U(4);
  std::unordered_map<uint64_t, std::pair<size_t, size_t>> raw;
  raw.reserve(size_t(std::min<uint64_t>(count, 4096)));
  for (uint64_t i = 0; i < count && r.ok; ++i) {
    uint64_t key = r.U(8);
    const size_t len = size_t(r.U(4));
    const size_t from = r.at;
    r.Bytes(len, nullptr);
    if (r.ok) raw[key] = {from, len};
  }
  // The automata and layouts: key, size, then the bytes from an 8-byte
  // boundary of the file (read in place).
  std::unordered_map<uint64_t, std::pair<size_t, size_t>> blobs;
  uint64_t n_blobs = r.U(4);
  for (uint64_t i = 0; i < n_blobs && r.ok; ++i) {
    uint64_t key = r.U(8), size = r.U(8);
    r.at = (r.at + 7) & ~size_t(7);
    if (r.at > r.n || size > r.n - r.at) {
      r.ok = false;
      break;
    }
    blobs[key] = {r.at, size_t(size)};
    r.at += size_t(size);
  }
  if (!r.ok || r.at != r.n) return say("malformed");
  raw_ = std::move(raw);
  blobs_ = std::move(blobs);
  data_ = std::move(mapping);
  say("");
}

bool AtomCache::ViewAutomaton(uint64_t key, uint32_t max_value, LiteralSet* out) const {
  auto it = blobs_.find(key);
  if (it == blobs_.end() || !data_) return false;
  size_t used = 0;
  LiteralSet view;
  if (!view.View(data_->data + it->second.first, it->second.second, max_value, &used) ||
      used != it->second.second)
    return false;
  *out = std::move(view);
  return true;
}

void AtomCache::PutAutomaton(uint64_t key, const LiteralSet& built) {
  std::string b;
  built.Serialize(&b);
  built_[key] = std::move(b);
}

bool AtomCache::ViewWords(uint64_t key, const uint32_t** words, size_t* count) const {
  auto it = blobs_.find(key);
  if (it == blobs_.end() || !data_ || it->second.second % 4 != 0) return false;
  *words = reinterpret_cast<const uint32_t*>(data_->data + it->second.first);  // (8-byte aligned)
  *count = it->second.second / 4;
  return true;
}

void AtomCache::PutWords(uint64_t key, const std::vector<uint32_t>& words) {
  std::string b;
  for (uint32_t w : words) PutU(&b, w, 4);
  built_[key] = std::move(b);
}

bool AtomCache::Has(uint64_t key) const { return entries_.count(key) != 0 || raw_.count(key) != 0; }

const Atoms* AtomCache::Find(uint64_t key) const {
  auto it = entries_.find(key);
  if (it != entries_.end()) return &it->second;
  auto raw = raw_.find(key);
  if (raw == raw_.end() || !data_) return nullptr;
  Reader r{reinterpret_cast<const unsigned char*>(data_->data), raw->second.first + raw->second.second,
           raw->second.first};
  Atoms a;
  if (!ReadEntry(r, &a) || r.at != r.n) return nullptr;  // (malformed: computed again by the caller)
  return &(entries_[key] = std::move(a));
}

void AtomCache::Put(uint64_t key, Atoms atoms) { entries_[key] = std::move(atoms); }

bool AtomCache::Save(const std::string& path, const std::vector<uint64_t>& keys,
                     const std::vector<uint64_t>& blobs) const {
  std::string b(kMagic, sizeof kMagic);
  std::vector<uint64_t> unique;
  for (uint64_t k : keys)
    if (Has(k) && std::find(unique.begin(), unique.end(), k) == unique.end()) unique.push_back(k);
  PutU(&b, unique.size(), 4);
  for (uint64_t k : unique) {
    auto raw = raw_.find(k);
    if (raw != raw_.end() && data_ && !entries_.count(k)) {  // as read
      PutU(&b, k, 8);
      PutU(&b, raw->second.second, 4);
      b.append(data_->data + raw->second.first, raw->second.second);
      continue;
    }
    const Atoms& a = entries_.at(k);
    // (What the format cannot hold is stored unfiltered: always run.)
    bool fits = a.filtered && a.atoms.size() <= 0xffff && a.clauses.size() <= 0xffff && a.branches.size() <= 0xffff;
    for (const auto& s : a.atoms) fits = fits && s.size() <= 0xffff;
    PutU(&b, k, 8);
    const size_t len_at = b.size();
    PutU(&b, 0, 4);  // (its length, below)
    PutU(&b, fits ? 1 : 0, 1);
    PutU(&b, fits ? a.atoms.size() : 0, 2);
    auto put_length = [&] {
      const size_t len = b.size() - len_at - 4;
      for (int i = 0; i < 4; ++i) b[len_at + size_t(i)] = char((len >> (8 * i)) & 0xff);
    };
    if (!fits) {
      PutU(&b, 0, 2);
      PutU(&b, 0, 2);
      put_length();
      continue;
    }
    for (const auto& s : a.atoms) {
      PutU(&b, s.size(), 2);
      b += s;
    }
    PutU(&b, a.clauses.size(), 2);
    for (const auto& c : a.clauses) {
      PutU(&b, c.size(), 2);
      for (uint16_t i : c) PutU(&b, i, 2);
    }
    PutU(&b, a.branches.size(), 2);
    for (uint16_t m : a.branches) PutU(&b, m, 2);
    put_length();
  }
  std::vector<std::pair<uint64_t, std::string_view>> found;
  for (uint64_t k : blobs) {
    auto built = built_.find(k);
    auto loaded = blobs_.find(k);
    if (built != built_.end()) found.emplace_back(k, built->second);
    else if (loaded != blobs_.end() && data_)
      found.emplace_back(k, std::string_view(data_->data + loaded->second.first, loaded->second.second));
  }
  PutU(&b, found.size(), 4);
  for (const auto& [k, bytes] : found) {
    PutU(&b, k, 8);
    PutU(&b, bytes.size(), 8);
    while (b.size() % 8) b.push_back('\0');
    b.append(bytes);
  }
  PutU(&b, Checksum(b.data(), b.size()), 8);
  if (b.size() > kMaxFile) return false;
  return WriteFileAtomically(path, b, 0644);
}

}  // namespace spamguard::rules
