// A regex's atom clauses as 32-bit words, the way the rule cache's field
// layouts and the keyword index's patterns keep them (read in place from a
// mapped file): the number of blocks (0: unfiltered, run on every text;
// the keyword index has at most 1), then for each block the number of its
// clauses and each clause as its number of atom slots and the slots,
// rising. The pattern can match only a text that holds a slot of every
// clause of the first block and, when there are more, of every clause of
// one of the others (the branches of an alternation; atom_cache.h).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace spamguard {

// Appends one block's clauses (clauses[from, to)): their number, then
// each as its number of slots and the slots (slot[k] for its atom k),
// rising and without repeats.
inline void AppendClauseWords(const std::vector<std::vector<uint16_t>>& clauses, size_t from, size_t to,
                              const std::vector<uint32_t>& slot, std::vector<uint32_t>* words) {
  words->push_back(uint32_t(to - from));
  for (size_t i = from; i < to; ++i) {
    const auto& c = clauses[i];
    const size_t at = words->size();
    words->push_back(0);
    for (uint16_t k : c) words->push_back(slot[k]);
    std::sort(words->begin() + std::ptrdiff_t(at + 1), words->end());
    words->erase(std::unique(words->begin() + std::ptrdiff_t(at + 1), words->end()), words->end());
    (*words)[at] = uint32_t(words->size() - at - 1);
  }
}

// Whether words[begin, end) are exactly one pattern's words, with every
// slot below slots and at most max_branches blocks (nothing read from a
// file is used unchecked); *branches gets their number.
inline bool CheckClauseWords(const uint32_t* words, size_t begin, size_t end, size_t slots, uint32_t max_branches,
                             uint32_t* branches) {
  if (end <= begin || words[begin] > max_branches) return false;
  *branches = words[begin];
  size_t p = begin + 1;
  if (*branches == 0) return p + 1 == end && words[p] == 0;  // (unfiltered: no clauses)
  for (uint32_t b = 0; b < *branches; ++b) {
    if (p >= end) return false;
    const size_t nclauses = words[p++];
    if (nclauses == 0) return false;
    for (size_t c = 0; c < nclauses; ++c) {
      if (p >= end) return false;
      const size_t n = words[p++];
      if (n == 0 || end - p < n) return false;
      for (size_t i = 0; i < n; ++i)
        if (words[p + i] >= slots || (i > 0 && words[p + i] <= words[p + i - 1])) return false;
      p += n;
    }
  }
  return p == end;
}

// Whether every clause of one block (w points at its number of clauses)
// has a slot in present (sorted).
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

// Whether the first block holds and, when there are more, one of the
// others (w points at the number of blocks, checked by CheckClauseWords;
// at least one).
inline bool BranchesHold(const uint32_t* w, const std::vector<uint32_t>& present) {
  const uint32_t nb = *w++;
  for (uint32_t b = 0; b < nb; ++b) {
    const bool holds = ClausesHold(w, present);
    if (b == 0 && !holds) return false;
    if (holds && (b > 0 || nb == 1)) return true;
    for (uint32_t c = 0, nc = *w++; c < nc; ++c) w += 1 + *w;
  }
  return false;
}

}  // namespace spamguard
