#include "lists/keywords.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <unordered_map>

#include "rules/perl_syntax.h"
#include "store/store.h"
#include "util/clause_words.h"
#include "util/read_all.h"

namespace spamguard::lists {

namespace {

constexpr size_t kMaxFileBytes = size_t(256) << 20;

void PutU16(std::string* b, size_t v) {
  b->push_back(char(v & 0xff));
  b->push_back(char((v >> 8) & 0xff));
}

// UTF-16 (LE or BE, after its BOM) as UTF-8; unpaired surrogates as U+FFFD.
std::string FromUtf16(const std::string& in, bool little) {
  std::string out;
  auto unit = [&](size_t i) {
    unsigned char a = static_cast<unsigned char>(in[i]), b = static_cast<unsigned char>(in[i + 1]);
    return little ? uint32_t(a | (b << 8)) : uint32_t((a << 8) | b);
  };
  for (size_t i = 2; i + 1 < in.size(); i += 2) {
    uint32_t r = unit(i);
    if (r >= 0xd800 && r < 0xdc00 && i + 3 < in.size() && unit(i + 2) >= 0xdc00 && unit(i + 2) < 0xe000) {
      r = 0x10000 + ((r - 0xd800) << 10) + (unit(i + 2) - 0xdc00);
      i += 2;
    } else if (r >= 0xd800 && r < 0xe000) {
      r = 0xfffd;
    }
    if (r < 0x80) {
      out.push_back(char(r));
    } else if (r < 0x800) {
      out += {char(0xc0 | (r >> 6)), char(0x80 | (r & 0x3f))};
    } else if (r < 0x10000) {
      out += {char(0xe0 | (r >> 12)), char(0x80 | ((r >> 6) & 0x3f)), char(0x80 | (r & 0x3f))};
    } else {
      out += {char(0xf0 | (r >> 18)), char(0x80 | ((r >> 12) & 0x3f)), char(0x80 | ((r >> 6) & 0x3f)),
              char(0x80 | (r & 0x3f))};
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

RE2::Options PatternOptions() {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_case_sensitive(false);
  o.set_max_mem(1 << 20);
  return o;
}

}  // namespace

std::string EncodeAtoms(const rules::Atoms& a) {
  std::string b;
  b.push_back(a.filtered ? 1 : 0);
  if (!a.filtered) return b;
  PutU16(&b, a.atoms.size());
  for (const auto& s : a.atoms) {
    PutU16(&b, s.size());
    b += s;
  }
  PutU16(&b, a.clauses.size());
  for (const auto& c : a.clauses) {
    PutU16(&b, c.size());
    for (uint16_t i : c) PutU16(&b, i);
  }
  return b;
}

bool DecodeAtoms(const std::string& blob, rules::Atoms* a) {
  *a = rules::Atoms{};
  size_t at = 0;
  bool ok = true;
  auto u8 = [&]() -> size_t {
    if (at >= blob.size()) return ok = false, 0;
    return static_cast<unsigned char>(blob[at++]);
  };
  auto u16 = [&]() -> size_t { return u8() | (u8() << 8); };
  a->filtered = u8() != 0;
  if (!ok || !a->filtered) return ok && at == blob.size();
  size_t n = u16();
  for (size_t i = 0; ok && i < n; ++i) {
    size_t len = u16();
    if (!ok || blob.size() - at < len || len == 0) return false;
    a->atoms.push_back(blob.substr(at, len));
    at += len;
  }
  size_t nc = u16();
  for (size_t c = 0; ok && c < nc; ++c) {
    std::vector<uint16_t> clause(u16());
    for (auto& i : clause) {
      i = uint16_t(u16());
      if (i >= a->atoms.size()) ok = false;
    }
    if (clause.empty()) ok = false;
    a->clauses.push_back(std::move(clause));
  }
  return ok && at == blob.size() && !a->atoms.empty() && !a->clauses.empty();
}

bool ReadKeywordFile(const std::string& path, int kind, std::vector<KeywordEntry>* out,
                     std::vector<std::string>* errors, size_t* duplicates, std::string* io_error) {
  out->clear();
  *duplicates = 0;
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return *io_error = path + ": cannot open: " + strerror(errno), false;
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    ::close(fd);
    return *io_error = path + ": not a regular file", false;
  }
  if (size_t(sb.st_size) > kMaxFileBytes) {
    ::close(fd);
    return *io_error = path + ": larger than " + std::to_string(kMaxFileBytes >> 20) + " MB", false;
  }
  std::string data;
  ReadAll(fd, size_t(sb.st_size), &data);  // (a file that shrank meanwhile: what was there)
  ::close(fd);
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0xff && static_cast<unsigned char>(data[1]) == 0xfe)
    data = FromUtf16(data, true);
  else if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0xfe && static_cast<unsigned char>(data[1]) == 0xff)
    data = FromUtf16(data, false);
  else if (data.compare(0, 3, "\xEF\xBB\xBF") == 0)
    data.erase(0, 3);
  std::set<std::string> seen;
  size_t line_no = 0;
  auto error = [&](const std::string& why) { errors->push_back(path + ":" + std::to_string(line_no) + ": " + why); };
  for (size_t pos = 0; pos < data.size();) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) nl = data.size();
    std::string_view line(data.data() + pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (kind == kLinkPattern) {
      // "pattern   # comment"; a line that starts with '#' is a comment.
      line = Trim(line);
      if (!line.empty() && line[0] == '#') continue;
      size_t sp = line.find_first_of(" \t");
      if (sp != std::string_view::npos) line = line.substr(0, sp);
    }
    line = Trim(line);
    if (line.empty()) continue;
    if (line.find('\0') != std::string_view::npos) {
      error("holds a NUL byte");
      continue;
    }
    if (line.size() > kMaxKeywordBytes) {
      error("longer than " + std::to_string(kMaxKeywordBytes) + " bytes (" + std::to_string(line.size()) + ")");
      continue;
    }
    KeywordEntry e;
    e.kind = kind;
    e.entry = std::string(line);
    if (kind == kLinkPattern) {
      std::string perl = rules::FindPerlOnlyConstruct(e.entry);
      if (!perl.empty()) {
        error("pattern uses the " + perl + ", a Perl-only construct that RE2 cannot run");
        continue;
      }
      rules::Atoms a;
      std::string why;
      if (!rules::ComputeAtoms(e.entry, PatternOptions(), &a, &why)) {
        error("not a regex: " + why);
        continue;
      }
      e.atoms = EncodeAtoms(a);
    }
    std::string key;
    if (kind == kPhrase) FoldCase(e.entry, &key);  // (matched case folded: one of each)
    else key = e.entry;
    if (!seen.insert(key).second) {
      ++*duplicates;
      continue;
    }
    out->push_back(std::move(e));
  }
  return true;
}

namespace {

constexpr char kIndexMagic[8] = {'S', 'G', 'K', 'W', 'I', 'D', 'X', '3'};
// magic, version, db id, phrases, sources, patterns, pattern sources, atom
// slots, the pattern section's bytes
constexpr size_t kIndexHeader = 8 + 8 * 8;

uint64_t DbId(const std::string& db) {
  struct stat sb;
  if (::stat(db.c_str(), &sb) != 0) return 0;
  return (uint64_t(sb.st_dev) << 40) ^ uint64_t(sb.st_ino);
}

template <class T>
void Append(std::string* b, const T* p, size_t n) {
  b->append(reinterpret_cast<const char*>(p), n * sizeof(T));
  while (b->size() % 8) b->push_back('\0');
}

// Reads arrays in order from an 8-byte aligned block; null once past its end.
struct Taker {
  const char* p;
  size_t size, at = 0;
  const char* Take(size_t count, size_t width) {
    if (at > size || count > (size - at) / width) return nullptr;
    const char* q = p + at;
    at = (at + count * width + 7) & ~size_t(7);
    return at <= size ? q : nullptr;
  }
};

bool Rising(const uint32_t* off, size_t n) {  // off[0] == 0, never falling
  if (off[0] != 0) return false;
  for (size_t i = 0; i < n; ++i)
    if (off[i] > off[i + 1]) return false;
  return true;
}

}  // namespace

KeywordIndex::~KeywordIndex() {
  if (map_) ::munmap(map_, map_size_);
  if (re_)
    for (size_t i = 0; i < n_patterns_; ++i) delete re_[i].load(std::memory_order_relaxed);
}

std::string_view KeywordIndex::Phrase(uint32_t i) const {
  return std::string_view(text_ + text_off_[i], text_off_[i + 1] - text_off_[i]);
}

std::string_view KeywordIndex::PhraseSource(uint32_t i) const {
  uint32_t s = source_of_[i];
  return std::string_view(sources_ + source_off_[s], source_off_[s + 1] - source_off_[s]);
}

void KeywordIndex::BuildPhrases(const std::vector<KeywordEntry>& phrases) {
  std::unordered_map<std::string, uint32_t> source_ids;
  own_text_off_.push_back(0);
  own_source_off_.push_back(0);
  std::string folded;
  for (size_t i = 0; i < phrases.size(); ++i) {
    const KeywordEntry& e = phrases[i];
    own_text_ += e.entry;
    own_text_off_.push_back(uint32_t(own_text_.size()));
    auto [it, added] = source_ids.emplace(e.source, uint32_t(source_ids.size()));
    if (added) {
      own_sources_ += e.source;
      own_source_off_.push_back(uint32_t(own_sources_.size()));
    }
    own_source_of_.push_back(it->second);
    folded.clear();
    FoldCase(e.entry, &folded);
    phrase_set_.Add(folded, uint32_t(i));
  }
  phrase_set_.Build();
  n_phrases_ = phrases.size();
  n_sources_ = source_ids.size();
  text_off_ = own_text_off_.data();
  text_ = own_text_.data();
  source_of_ = own_source_of_.data();
  source_off_ = own_source_off_.data();
  sources_ = own_sources_.data();
}

std::string KeywordIndex::Serialize(int64_t version, uint64_t db_id) const {
  std::string b(kIndexMagic, sizeof kIndexMagic);
  uint64_t head[8] = {uint64_t(version), db_id, n_phrases_, n_sources_, n_patterns_, n_psources_, n_slots_,
                      own_patterns_.size()};
  Append(&b, head, 8);
  phrase_set_.Serialize(&b);
  while (b.size() % 8) b.push_back('\0');
  Append(&b, text_off_, n_phrases_ + 1);
  Append(&b, source_of_, n_phrases_);
  Append(&b, source_off_, n_sources_ + 1);
  Append(&b, text_, text_off_[n_phrases_]);
  Append(&b, sources_, source_off_[n_sources_]);
  b += own_patterns_;
  return b;
}

bool KeywordIndex::Map(const std::string& path, int64_t version, uint64_t db_id) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || size_t(sb.st_size) < kIndexHeader ||
      (sb.st_uid != geteuid() && sb.st_uid != 0) || (sb.st_mode & (S_IWGRP | S_IWOTH))) {
    ::close(fd);
    return false;
  }
  const size_t size = size_t(sb.st_size);
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) return false;
  map_ = m;
  map_size_ = size;
  const char* p = static_cast<const char*>(m);
  uint64_t head[8];
  memcpy(head, p + 8, sizeof head);
  if (memcmp(p, kIndexMagic, 8) != 0 || head[0] != uint64_t(version) || head[1] != db_id)
    return false;
  for (int i = 2; i < 7; ++i)
    if (head[i] >= 0xffffffffu) return false;
  const size_t n = size_t(head[2]), ns = size_t(head[3]);
  if (head[7] > size - kIndexHeader) return false;
  const size_t phrases_end = size - size_t(head[7]);
  size_t used = 0;
  if (!phrase_set_.View(p + kIndexHeader, phrases_end - kIndexHeader, n ? uint32_t(n - 1) : 0, &used)) return false;
  Taker t{p, phrases_end, (kIndexHeader + used + 7) & ~size_t(7)};
  const auto* toff = reinterpret_cast<const uint32_t*>(t.Take(n + 1, 4));
  const auto* sof = reinterpret_cast<const uint32_t*>(t.Take(n, 4));
  const auto* soff = reinterpret_cast<const uint32_t*>(t.Take(ns + 1, 4));
  if (!toff || !sof || !soff) return false;
  const char* text = t.Take(toff[n], 1);
  const char* srcs = t.Take(soff[ns], 1);
  if (!text || !srcs || t.at != phrases_end || !Rising(toff, n) || !Rising(soff, ns)) return false;
  for (size_t i = 0; i < n; ++i)
    if (sof[i] >= ns) return false;
  n_phrases_ = n;
  n_sources_ = ns;
  text_off_ = toff;
  text_ = text;
  source_of_ = sof;
  source_off_ = soff;
  sources_ = srcs;
  return ViewPatterns(p + phrases_end, size_t(head[7]), head + 4);
}

void KeywordIndex::BuildPatterns(const std::vector<KeywordEntry>& entries) {
  // Every atom goes into the automaton; a pattern is listed as a candidate
  // under the atoms of one clause only, its rarest (the least summed count
  // of patterns per atom). It can match only where every clause holds, that
  // one included, so it is still found; and an atom that hundreds of
  // patterns share (".com", "online") no longer makes each of them a
  // candidate for every link that holds it.
  std::unordered_map<std::string, uint32_t> slots, source_ids;
  std::vector<uint32_t> uses;  // per slot: the patterns whose atoms hold it
  std::vector<uint32_t> text_off{0}, source_of, source_off{0}, word_off{0}, words;
  std::string text, sources;
  LiteralSet atom_set;
  for (size_t index = 0; index < entries.size(); ++index) {
    const KeywordEntry& e = entries[index];
    rules::Atoms a;
    if (!DecodeAtoms(e.atoms, &a) || (a.filtered && a.clauses.empty())) a = rules::Atoms{};  // (run on every link)
    text += e.entry;
    text_off.push_back(uint32_t(text.size()));
    auto [sit, added_source] = source_ids.emplace(e.source, uint32_t(source_ids.size()));
    if (added_source) {
      sources += e.source;
      source_off.push_back(uint32_t(sources.size()));
    }
    source_of.push_back(sit->second);
    words.push_back(a.filtered ? 1 : 0);
    if (a.filtered) {
      std::vector<uint32_t> slot(a.atoms.size());
      for (size_t k = 0; k < a.atoms.size(); ++k) {
        auto [it, added] = slots.emplace(a.atoms[k], uint32_t(uses.size()));
        if (added) {
          uses.push_back(0);
          atom_set.Add(a.atoms[k], it->second);
        }
        slot[k] = it->second;
      }
      AppendClauseWords(a.clauses, 0, a.clauses.size(), slot, &words);
      std::sort(slot.begin(), slot.end());
      slot.erase(std::unique(slot.begin(), slot.end()), slot.end());
      for (uint32_t sl : slot) ++uses[sl];
    } else {
      words.push_back(0);
    }
    word_off.push_back(uint32_t(words.size()));
  }
  std::vector<std::vector<uint32_t>> slot_patterns(uses.size());
  for (uint32_t index = 0; index < entries.size(); ++index) {
    // (Its clauses, read back from its words.)
    const uint32_t* w = words.data() + word_off[index] + 1;
    const uint32_t* rarest = nullptr;
    uint32_t rarest_n = 0;
    uint64_t least = UINT64_MAX;
    for (uint32_t c = 0, nc = *w++; c < nc; ++c) {
      const uint32_t n = *w++;
      uint64_t sum = 0;
      for (uint32_t k = 0; k < n; ++k) sum += uses[w[k]];
      if (sum < least) least = sum, rarest = w, rarest_n = n;
      w += n;
    }
    for (uint32_t k = 0; k < rarest_n; ++k) slot_patterns[rarest[k]].push_back(index);
  }
  atom_set.Build();
  std::vector<uint32_t> slot_off{0}, slot_items;
  for (const auto& sp : slot_patterns) {
    slot_items.insert(slot_items.end(), sp.begin(), sp.end());
    slot_off.push_back(uint32_t(slot_items.size()));
  }
  std::string& b = own_patterns_;
  b.clear();
  atom_set.Serialize(&b);
  while (b.size() % 8) b.push_back('\0');
  Append(&b, text_off.data(), text_off.size());
  Append(&b, source_of.data(), source_of.size());
  Append(&b, source_off.data(), source_off.size());
  Append(&b, word_off.data(), word_off.size());
  Append(&b, slot_off.data(), slot_off.size());
  Append(&b, words.data(), words.size());
  Append(&b, slot_items.data(), slot_items.size());
  Append(&b, text.data(), text.size());
  Append(&b, sources.data(), sources.size());
  const uint64_t counts[4] = {entries.size(), source_ids.size(), uses.size(), b.size()};
  ViewPatterns(b.data(), b.size(), counts);  // (checks what it just wrote)
}

bool KeywordIndex::ViewPatterns(const char* p, size_t size, const uint64_t counts[4]) {
  const size_t n = size_t(counts[0]), ns = size_t(counts[1]), nslots = size_t(counts[2]);
  size_t used = 0;
  if (!atom_set_.View(p, size, nslots ? uint32_t(nslots - 1) : 0, &used)) return false;
  if (nslots == 0 && !atom_set_.empty()) return false;
  Taker t{p, size, (used + 7) & ~size_t(7)};
  const auto* toff = reinterpret_cast<const uint32_t*>(t.Take(n + 1, 4));
  const auto* sof = reinterpret_cast<const uint32_t*>(t.Take(n, 4));
  const auto* soff = reinterpret_cast<const uint32_t*>(t.Take(ns + 1, 4));
  const auto* woff = reinterpret_cast<const uint32_t*>(t.Take(n + 1, 4));
  const auto* loff = reinterpret_cast<const uint32_t*>(t.Take(nslots + 1, 4));
  if (!toff || !sof || !soff || !woff || !loff || !Rising(toff, n) || !Rising(soff, ns) || !Rising(woff, n) ||
      !Rising(loff, nslots))
    return false;
  const auto* words = reinterpret_cast<const uint32_t*>(t.Take(woff[n], 4));
  const auto* items = reinterpret_cast<const uint32_t*>(t.Take(loff[nslots], 4));
  const char* text = t.Take(toff[n], 1);
  const char* srcs = t.Take(soff[ns], 1);
  if (!words || !items || !text || !srcs || t.at != size) return false;
  std::vector<uint32_t> unfiltered;
  for (size_t i = 0; i < n; ++i) {
    uint32_t branches = 0;  // (a link pattern is one branch)
    if (sof[i] >= ns || !CheckClauseWords(words, woff[i], woff[i + 1], nslots, 1, &branches)) return false;
    if (branches == 0) unfiltered.push_back(uint32_t(i));
  }
  for (size_t k = 0; k < loff[nslots]; ++k)
    if (items[k] >= n) return false;
  n_patterns_ = n;
  n_psources_ = ns;
  n_slots_ = nslots;
  p_text_off_ = toff;
  p_text_ = text;
  p_source_of_ = sof;
  p_source_off_ = soff;
  p_sources_ = srcs;
  p_word_off_ = woff;
  p_words_ = words;
  slot_off_ = loff;
  slot_items_ = items;
  unfiltered_ = std::move(unfiltered);
  re_ = std::make_unique<std::atomic<rules::LazyRegex*>[]>(n);
  return true;
}

const RE2& KeywordIndex::PatternRe(uint32_t i) const {
  rules::LazyRegex* re = re_[i].load(std::memory_order_acquire);
  if (!re) {
    auto made = std::make_unique<rules::LazyRegex>(
        std::string(p_text_ + p_text_off_[i], p_text_off_[i + 1] - p_text_off_[i]), PatternOptions());
    if (re_[i].compare_exchange_strong(re, made.get(), std::memory_order_acq_rel)) re = made.release();
  }
  return re->Get();
}

std::shared_ptr<const KeywordIndex> KeywordIndex::Load(store::Store* store, const std::string& cache_path,
                                                       int64_t* version, bool* mapped, int64_t expect) {
  const uint64_t db_id = DbId(store->path());
  auto map = [&](int64_t v) -> std::shared_ptr<KeywordIndex> {
    if (cache_path.empty()) return nullptr;
    std::shared_ptr<KeywordIndex> index(new KeywordIndex());
    if (!index->Map(cache_path, v, db_id)) return nullptr;
    index->version_ = v;
    return index;
  };
  if (mapped) *mapped = true;
  // The version the caller read with its lookup: nothing else to read.
  if (expect != 0) {
    if (auto index = map(expect)) {
      *version = expect;
      return index;
    }
  }
  std::vector<KeywordEntry> patterns;
  if (!store->Keywords(kLinkPattern, version, &patterns).ok()) return nullptr;
  if (auto index = map(*version)) return index;
  if (mapped) *mapped = false;
  std::shared_ptr<KeywordIndex> index(new KeywordIndex());
  std::vector<KeywordEntry> phrases;
  int64_t phrase_version = 0;
  if (!store->Keywords(kPhrase, &phrase_version, &phrases).ok()) return nullptr;
  if (phrase_version != *version) {  // (changed between the two reads: the next score reloads)
    *version = phrase_version;
    patterns.clear();
    if (!store->Keywords(kLinkPattern, &phrase_version, &patterns).ok() || phrase_version != *version) return nullptr;
  }
  index->BuildPhrases(phrases);
  index->BuildPatterns(patterns);
  if (!cache_path.empty() && (!phrases.empty() || !patterns.empty()))
    WriteFileAtomically(cache_path, index->Serialize(*version, db_id), 0644);  // (else: the next process tries)
  index->version_ = *version;
  return index;
}

bool KeywordIndex::Match(const comment::Comment& c, const comment::Normalized& n, KeywordMatch* out) const {
  thread_local std::string folded;
  if (n_phrases_ > 0) {
    // As WordPress: author, e-mail, URL, the body as sent, address, agent;
    // the first phrase to end in a field is the one reported (the scan
    // stops there, as WordPress stops at the first key found).
    const std::pair<const char*, std::string_view> fields[] = {
        {"author", n.author}, {"email", n.email},      {"url", n.url},
        {"body", n.rawbody},  {"ip", c.fields[SG_FIELD_IP]}, {"user agent", n.ua}};
    for (const auto& [name, text] : fields) {
      if (text.empty()) continue;
      folded.clear();
      FoldCase(text, &folded);
      uint32_t best = 0;
      if (phrase_set_.FindFirst(folded, &best)) {
        out->kind = kPhrase;
        out->field = name;
        out->entry = std::string(Phrase(best));
        out->source = std::string(PhraseSource(best));
        out->found = out->entry;
        return true;
      }
    }
  }
  if (n_patterns_ == 0) return false;
  std::vector<std::string_view> links(n.links.begin(), n.links.end());
  if (!n.url.empty()) links.push_back(n.url);
  thread_local std::vector<uint32_t> present, candidates;
  for (std::string_view link : links) {
    folded.clear();
    FoldCase(link, &folded);
    present.clear();
    atom_set_.Scan(folded, [&](uint32_t s) { present.push_back(s); });
    std::sort(present.begin(), present.end());
    present.erase(std::unique(present.begin(), present.end()), present.end());
    candidates = unfiltered_;
    for (uint32_t s : present) candidates.insert(candidates.end(), slot_items_ + slot_off_[s], slot_items_ + slot_off_[s + 1]);
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (uint32_t pi : candidates) {
      if (!ClausesHold(p_words_ + p_word_off_[pi] + 1, present)) continue;
      re2::StringPiece m;
      const RE2& re = PatternRe(pi);
      // (Whether it matches first, by the DFA alone: most candidates do not.)
      if (re.ok() && re.Match(link, 0, link.size(), RE2::UNANCHORED, nullptr, 0) &&
          re.Match(link, 0, link.size(), RE2::UNANCHORED, &m, 1)) {
        const uint32_t s = p_source_of_[pi];
        out->kind = kLinkPattern;
        out->field = link == n.url ? "url" : "link";
        out->entry = std::string(p_text_ + p_text_off_[pi], p_text_off_[pi + 1] - p_text_off_[pi]);
        out->source = std::string(p_sources_ + p_source_off_[s], p_source_off_[s + 1] - p_source_off_[s]);
        out->found = std::string(m.data(), m.size());
        return true;
      }
    }
  }
  return false;
}

}  // namespace spamguard::lists
