// Many literal strings found in one pass over a text (Aho-Corasick), case
// folded: what the rules' required atoms and the keyword lists are matched
// with. Building costs time linear in the literals' total length; a scan
// costs time linear in the text plus the matches reported.
//
// Immutable once built: Scan() is safe from many threads at once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spamguard {

// Appends `in` to *out in the case both sides of a LiteralSet are compared
// in: ASCII letters lowered; the two runes that RE2's case folding treats
// as ASCII letters (U+212A KELVIN SIGN as 'k', U+017F LONG S as 's')
// written as those letters; Latin-1, Latin Extended-A, Greek and Cyrillic
// capitals lowered; every other byte as it is (invalid UTF-8 included).
void FoldCase(std::string_view in, std::string* out);

class LiteralSet {
 public:
  LiteralSet() = default;
  LiteralSet(const LiteralSet&) = delete;
  LiteralSet& operator=(const LiteralSet&) = delete;
  // (Moving keeps a built set's views on its own arrays.)
  LiteralSet(LiteralSet&& o) noexcept { *this = std::move(o); }
  LiteralSet& operator=(LiteralSet&& o) noexcept;

  // Adds a literal (folded by the caller when it should match folded text)
  // with a value reported when it is found. Empty literals are ignored.
  void Add(std::string_view literal, uint32_t value);
  void Build();

  // Calls on_match(value) once per occurrence of each literal in text.
  template <class F>
  void Scan(std::string_view text, F&& on_match) const {
    if (n_nodes_ == 0) return;
    uint32_t s = 0;
    for (unsigned char c : text) {
      s = Next(s, c);
      for (uint32_t o = nodes_p_[s].out; o != kNone; o = nodes_p_[o].dict) {
        const Node& n = nodes_p_[o];
        for (uint32_t v = n.values_begin; v < n.values_end; ++v) on_match(values_p_[v]);
      }
    }
  }

  // The literal that ends first in text (of those ending at the same byte,
  // the least value): its value, or false when none occurs. Stops there.
  bool FindFirst(std::string_view text, uint32_t* value) const {
    if (n_nodes_ == 0) return false;
    uint32_t s = 0;
    for (unsigned char c : text) {
      s = Next(s, c);
      uint32_t o = nodes_p_[s].out;
      if (o == kNone) continue;
      uint32_t best = kNone;
      for (; o != kNone; o = nodes_p_[o].dict) {
        const Node& n = nodes_p_[o];
        for (uint32_t v = n.values_begin; v < n.values_end; ++v) best = std::min(best, values_p_[v]);
      }
      *value = best;
      return true;
    }
    return false;
  }

  // The built automaton as bytes (appended to *out, 8-byte aligned from
  // where it starts), and a set that reads them in place (from a mapped
  // file: nothing is copied or built). View checks every index against its
  // array and every value against max_value; false if anything is off.
  void Serialize(std::string* out) const;
  bool View(const char* data, size_t size, uint32_t max_value, size_t* used);

  bool empty() const { return literals_ == 0; }
  size_t literals() const { return literals_; }
  size_t MemoryBytes() const;

 private:
  static constexpr uint32_t kNone = 0xffffffffu;
  struct Node {
    uint32_t edges_begin = 0, edges_end = 0;  // children, by byte (edge_bytes_/edge_to_)
    uint32_t fail = 0;
    uint32_t out = kNone;   // this node if it ends a literal, else its dict link
    uint32_t dict = kNone;  // the nearest proper suffix that ends a literal
    uint32_t values_begin = 0, values_end = 0;
  };
  uint32_t Child(uint32_t s, unsigned char c) const;
  uint32_t Next(uint32_t s, unsigned char c) const {
    for (;;) {
      if (s == 0) return root_p_[c];
      uint32_t t = Child(s, c);
      if (t != kNone) return t;
      s = nodes_p_[s].fail;
    }
  }
  void Point();  // the views at the owned arrays
  bool owned_ = false;  // Scan reads the arrays below (not a view)

  // What Scan reads: the arrays below, or a mapped file's bytes.
  const Node* nodes_p_ = nullptr;
  size_t n_nodes_ = 0;
  const unsigned char* edge_bytes_p_ = nullptr;
  const uint32_t* edge_to_p_ = nullptr;
  const uint32_t* values_p_ = nullptr;
  const uint32_t* root_p_ = nullptr;

  std::vector<std::pair<std::string, uint32_t>> pending_;
  std::vector<Node> nodes_;
  std::vector<unsigned char> edge_bytes_;
  std::vector<uint32_t> edge_to_;
  std::vector<uint32_t> values_;
  uint32_t root_[256] = {};
  size_t literals_ = 0;
};

}  // namespace spamguard
