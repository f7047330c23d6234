// A regex's atom clauses as 32-bit words, the way the rule cache's field
// layouts and the keyword index's patterns keep them (read in place from a
// mapped file): `filtered` (0 or 1), the number of clauses, then each
// clause as its number of atom slots and the slots, rising. The pattern
// can match only a text that holds a slot of every clause.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace spamguard {

// Appends a pattern's clauses after its `filtered` word: their number, then
// each as its number of slots and the slots (slot[k] for its atom k),
// rising and without repeats.
inline void AppendClauseWords(const std::vector<std::vector<uint16_t>>& clauses, const std::vector<uint32_t>& slot,
                              std::vector<uint32_t>* words) {
  words->push_back(uint32_t(clauses.size()));
  for (const auto& c : clauses) {
    const size_t at = words->size();
    words->push_back(0);
    for (uint16_t k : c) words->push_back(slot[k]);
    std::sort(words->begin() + std::ptrdiff_t(at + 1), words->end());
    words->erase(std::unique(words->begin() + std::ptrdiff_t(at + 1), words->end()), words->end());
    (*words)[at] = uint32_t(words->size() - at - 1);
  }
}

// Whether words[begin, end) are exactly one pattern's words, with every
// slot below slots (nothing read from a file is used unchecked); *filtered
// gets its first word.
inline bool CheckClauseWords(const uint32_t* words, size_t begin, size_t end, size_t slots, bool* filtered) {
  if (end < begin || end - begin < 2 || words[begin] > 1) return false;
  *filtered = words[begin] == 1;
  const size_t nclauses = words[begin + 1];
  size_t p = begin + 2;
  for (size_t c = 0; c < nclauses; ++c) {
    if (p >= end) return false;
    const size_t n = words[p++];
    if (n == 0 || end - p < n) return false;
    for (size_t i = 0; i < n; ++i)
      if (words[p + i] >= slots || (i > 0 && words[p + i] <= words[p + i - 1])) return false;
    p += n;
  }
  return p == end && *filtered == (nclauses > 0);
}

// Whether every clause (w points at the number of clauses) has a slot in
// present (sorted).
inline bool ClausesHold(const uint32_t* w, const std::vector<uint32_t>& present) {
  for (uint32_t c = 0, nc = *w++; c < nc; ++c) {
    const uint32_t n = *w++;
    bool any = false;
    for (uint32_t k = 0; k < n && !any; ++k) any = std::binary_search(present.begin(), present.end(), w[k]);
    if (!any) return false;
    w += n;
  }
  return true;
}

}  // namespace spamguard
