// What a regex needs to be present before it can match, and a file that
// remembers it between processes.
//
// A rule's atoms are the literals RE2's FilteredRE2 finds in its pattern
// (lower-cased): the pattern cannot match a text in which none of them
// occurs. Finding them means compiling the pattern, which is what made
// every CGI process pay for the whole rule set; the cache file keeps them
// per pattern (keyed by a hash of the pattern and the memory budget), so a
// process with a warm cache parses no regex at all until a rule's atoms
// appear in a comment.
//
// The file is a cache, never trusted blindly: it is read only when it is a
// regular file owned by this user (or root) that nobody else may write,
// and only whole (magic, version, sizes, checksum); anything else is
// ignored and rewritten. It is written beside itself and renamed into place.
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "util/literal_set.h"
#include "util/status.h"

namespace spamguard::rules {

struct Atoms {
  // false: the pattern has no literal it needs (e.g. /^.{0,3}$/); it is
  // run on every text.
  bool filtered = false;
  std::vector<std::string> atoms;  // lower case
  // The pattern can match only a text that holds an atom of every clause
  // (indexes into atoms): /online\s+(casino|poker)/ has the clauses
  // {online} and {casino, poker}.
  std::vector<std::vector<uint16_t>> clauses;
  // A pattern split at its top alternation (SplitAlternation): how many of
  // the clauses belong to each block, in order: first the whole pattern's,
  // then each branch's. It can match only a text that holds an atom of
  // every clause of the first block and of every clause of some branch.
  // Empty: one block, every clause. (/\b(?:great\s+post|thanks\s+for\s+
  // sharing)\b/ whole needs one atom of each of {great, thanks}, {post,
  // thanks}, ...; the clauses found for a long alternation that way are few
  // and loose, each branch's are tight.)
  std::vector<uint16_t> branches;
};

// The branches of a pattern whose top level is one alternation: "(?i)\b(?:
// A|B)\b" gives "(?i)\b(?:A)\b" and "(?i)\b(?:B)\b" (a text the pattern
// matches, some branch matches). Leading flag groups stay in front of each
// branch. False (no split) when there is no such alternation, when it is
// repeated, when a flag group other than the leading ones could reach
// across its branches, or for anything the scan does not follow (\Q...\E,
// an unbalanced group): never a wrong split, at worst none.
//
// *fixed_prefix (when given) says whether what comes before the
// alternation makes no choice (no group, no repetition): then the match
// the whole pattern finds is the one found by the branches that match
// leftmost, the first of them at that place (RE2 takes alternatives in
// order), so the branches alone can tell what it matched.
bool SplitAlternation(const std::string& pattern, std::vector<std::string>* branches, bool* fixed_prefix = nullptr);

// Compiles the pattern once and takes its atoms (of at least 3 bytes) and
// the clauses FilteredRE2's filter implies (each found as the atoms left
// out of a largest set of atoms the filter still refuses; every clause
// found is implied, so the test is never stricter than RE2's own).
// False, with RE2's reason, when the pattern does not compile. A pattern
// with an atom outside ASCII is left unfiltered (see FoldCase).
//
// With split_branches, a pattern that SplitAlternation splits has its atoms
// and clauses found per branch (Atoms::branches): a far closer filter for
// rules that are one long alternation of phrases.
bool ComputeAtoms(const std::string& pattern, const RE2::Options& options, Atoms* out, std::string* error,
                  bool split_branches = false);

// The cache also keeps, per field, its atom automaton (keyed by a hash of
// its atoms in slot order) and its layout: which rules each slot names and
// each rule's clauses as slots (keyed by a hash of the field's patterns and
// rule numbers). A process with a warm cache reads both in place from the
// mapped file: it neither decodes an atom nor builds anything, so opening
// touches little more memory than the file itself.
//
// Entries are decoded only when asked for (Find), which a warm process
// never does.
class AtomCache {
 public:
  static uint64_t Key(const std::string& pattern, int64_t max_mem);
  // What a file's last 8 bytes hold: the checksum of all before them.
  static uint64_t FileChecksum(const char* data, size_t len);

  // Reads path; a missing, foreign, truncated or otherwise unusable file
  // leaves the cache empty (*why says which, for tests and `stats`).
  void Load(const std::string& path, std::string* why = nullptr);
  bool Has(uint64_t key) const;
  // The atoms stored under key, decoded; null when there are none.
  const Atoms* Find(uint64_t key) const;
  void Put(uint64_t key, Atoms atoms);

  // The automaton stored under key, viewed in place into *out (its values
  // at most max_value); false when there is none or it does not check. The
  // bytes stay valid while bytes() is held.
  bool ViewAutomaton(uint64_t key, uint32_t max_value, LiteralSet* out) const;
  void PutAutomaton(uint64_t key, const LiteralSet& built);
  // 32-bit words stored under key, in place (little-endian machines; the
  // caller checks what they say); false when there are none.
  bool ViewWords(uint64_t key, const uint32_t** words, size_t* count) const;
  void PutWords(uint64_t key, const std::vector<uint32_t>& words);
  std::shared_ptr<const void> bytes() const { return data_; }

  // Writes exactly the entries named by keys (the rules in use) and the
  // automata and layouts named by blobs; false when the folder does not
  // let us (the next process tries again).
  bool Save(const std::string& path, const std::vector<uint64_t>& keys, const std::vector<uint64_t>& blobs) const;
  size_t size() const { return entries_.size() + raw_.size(); }

 private:
  mutable std::unordered_map<uint64_t, Atoms> entries_;                  // decoded or computed
  std::unordered_map<uint64_t, std::pair<size_t, size_t>> raw_;          // key -> offset, size in data_ (undecoded)
  std::shared_ptr<const struct CacheMapping> data_;                      // the file, mapped
  std::unordered_map<uint64_t, std::pair<size_t, size_t>> blobs_;        // key -> offset, size in data_
  std::unordered_map<uint64_t, std::string> built_;                      // key -> bytes, made here
};

}  // namespace spamguard::rules
