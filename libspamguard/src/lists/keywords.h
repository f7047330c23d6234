// Keyword lists: WordPress's Disallowed Comment Keys (phrases matched, case
// folded, anywhere in the author, e-mail, URL, body, address and user
// agent, as WordPress does) and the MT-Blacklist (regexes of spam domains,
// matched against the comment's links and the author's URL).
//
// Phrases go into one LiteralSet; patterns are matched through their atoms
// (rules/atom_cache.h), worked out when the list is imported and stored
// with it, so that a process loads tens of thousands of entries without
// parsing a regex, and compiles only the patterns a comment's links reach.
// Both are written, built, into one index file beside the database and
// mapped by the next process: it reads no entry from the store and builds
// no automaton (a CGI request paid ~1,600 page faults for building the
// MT-Blacklist's every time).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "comment/comment.h"
#include "rules/atom_cache.h"
#include "rules/lazy_regex.h"
#include "util/literal_set.h"

namespace spamguard::store {
class Store;
}

namespace spamguard::lists {

enum KeywordKind : int { kPhrase = 1, kLinkPattern = 2 };

struct KeywordEntry {
  int kind = kPhrase;
  std::string entry;   // the phrase as written, or the pattern
  std::string source;
  std::string atoms;   // patterns: their atoms, serialized (see EncodeAtoms)
};

// Reads a keyword file: one phrase (kPhrase) or pattern (kLinkPattern, '#'
// comments) per line; CRLF, a UTF-8 BOM and UTF-16 (with its BOM) are
// read; empty lines and duplicates skipped; a line with a NUL byte, longer
// than kMaxKeywordBytes or (patterns) not a regex RE2 can run is reported
// as "file:line: reason" in *errors and skipped, the rest kept. False, with
// *io_error, only when the file cannot be read.
constexpr size_t kMaxKeywordBytes = 1024;
bool ReadKeywordFile(const std::string& path, int kind, std::vector<KeywordEntry>* out,
                     std::vector<std::string>* errors, size_t* duplicates, std::string* io_error);

std::string EncodeAtoms(const rules::Atoms& a);
bool DecodeAtoms(const std::string& blob, rules::Atoms* a);

struct KeywordMatch {
  int kind = kPhrase;
  const char* field = "";  // "body", "author", "url", "link", ...
  std::string entry;       // the phrase or pattern
  std::string source;
  std::string found;       // the text that matched
};

class KeywordIndex {
 public:
  // The store's keyword lists: mapped from the index file at cache_path
  // when it is the one for the store's current version (expect, when the
  // caller knows it: then nothing is read from the store), else built from
  // the store and written there, beside and renamed, for the next process.
  // Null on a store error.
  static std::shared_ptr<const KeywordIndex> Load(store::Store* store, const std::string& cache_path,
                                                  int64_t* version, bool* mapped = nullptr, int64_t expect = 0);
  ~KeywordIndex();
  // The first entry found (phrases before patterns), or false.
  bool Match(const comment::Comment& c, const comment::Normalized& n, KeywordMatch* out) const;
  int64_t version() const { return version_; }  // the store's keyword version it holds
  size_t phrases() const { return n_phrases_; }
  size_t patterns() const { return n_patterns_; }

 private:
  KeywordIndex() = default;
  int64_t version_ = 0;
  bool Map(const std::string& path, int64_t version, uint64_t db_id);
  void BuildPhrases(const std::vector<KeywordEntry>& phrases);
  std::string Serialize(int64_t version, uint64_t db_id) const;
  // Patterns: built into own_patterns_ (the file's pattern section), then
  // viewed there or where they lie in the mapped file.
  void BuildPatterns(const std::vector<KeywordEntry>& patterns);
  bool ViewPatterns(const char* p, size_t size, const uint64_t counts[4]);
  std::string_view Phrase(uint32_t i) const;
  std::string_view PhraseSource(uint32_t i) const;
  const RE2& PatternRe(uint32_t i) const;
  // Phrases: the set (value: phrase index), each phrase's text and source,
  // in arrays owned here or mapped from the index file.
  LiteralSet phrase_set_;
  size_t n_phrases_ = 0, n_sources_ = 0;
  const uint32_t* text_off_ = nullptr;  // n_phrases_ + 1 offsets into text_
  const char* text_ = nullptr;
  const uint32_t* source_of_ = nullptr;  // n_phrases_
  const uint32_t* source_off_ = nullptr;  // n_sources_ + 1 offsets into sources_
  const char* sources_ = nullptr;
  std::vector<uint32_t> own_text_off_, own_source_of_, own_source_off_;
  std::string own_text_, own_sources_;
  void* map_ = nullptr;
  size_t map_size_ = 0;

  // Patterns, in arrays of the pattern section: each one's text and source
  // (offsets into blobs), its words (filtered, then its clauses as a count
  // and each clause as a count and its atom slots), and for each atom slot
  // the patterns listed under it.
  size_t n_patterns_ = 0, n_psources_ = 0, n_slots_ = 0;
  const uint32_t* p_text_off_ = nullptr;  // n_patterns_ + 1
  const char* p_text_ = nullptr;
  const uint32_t* p_source_of_ = nullptr;   // n_patterns_
  const uint32_t* p_source_off_ = nullptr;  // n_psources_ + 1
  const char* p_sources_ = nullptr;
  const uint32_t* p_word_off_ = nullptr;  // n_patterns_ + 1
  const uint32_t* p_words_ = nullptr;
  const uint32_t* slot_off_ = nullptr;  // n_slots_ + 1
  const uint32_t* slot_items_ = nullptr;
  LiteralSet atom_set_;  // value: atom slot
  std::vector<uint32_t> unfiltered_;
  std::string own_patterns_;  // (built here: the section's bytes)
  // Each pattern's RE2, made when a link first reaches it.
  std::unique_ptr<std::atomic<rules::LazyRegex*>[]> re_;
};

}  // namespace spamguard::lists
