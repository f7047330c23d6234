#include "util/literal_set.h"

#include <algorithm>

namespace spamguard {

namespace {

void PutUtf8(uint32_t r, std::string* out) {
  if (r < 0x80) {
    out->push_back(char(r));
  } else if (r < 0x800) {
    out->push_back(char(0xc0 | (r >> 6)));
    out->push_back(char(0x80 | (r & 0x3f)));
  } else {
    out->push_back(char(0xe0 | (r >> 12)));
    out->push_back(char(0x80 | ((r >> 6) & 0x3f)));
    out->push_back(char(0x80 | (r & 0x3f)));
  }
}

// The lower case of a rune in the scripts comment spam is written in; the
// rune itself elsewhere. Only ever compared with itself (both sides of a
// match are folded here), so what matters is that it is one function.
uint32_t LowerRune(uint32_t r) {
  if (r >= 0xc0 && r <= 0xde && r != 0xd7) return r + 0x20;                  // Latin-1
  if (r >= 0x100 && r <= 0x17f) {                                             // Latin Extended-A
    if (r == 0x130 || r == 0x131 || r == 0x138 || r == 0x149 || r == 0x17f) return r;
    if ((r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17e)) return (r & 1) ? r + 1 : r;
    return (r & 1) ? r : r + 1;
  }
  if (r >= 0x391 && r <= 0x3ab && r != 0x3a2) return r + 0x20;  // Greek
  if (r >= 0x410 && r <= 0x42f) return r + 0x20;                // Cyrillic
  if (r >= 0x400 && r <= 0x40f) return r + 0x50;
  return r;
}

}  // namespace

void FoldCase(std::string_view in, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  // ASCII, the common case, a byte at a time into place.
  size_t i = 0, at = out->size();
  out->resize(at + n);
  char* o = &(*out)[at];
  while (i < n && p[i] < 0x80) {
    unsigned char c = p[i];
    o[i++] = c >= 'A' && c <= 'Z' ? char(c + 32) : char(c);
  }
  out->resize(at + i);
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      out->push_back(c >= 'A' && c <= 'Z' ? char(c + 32) : char(c));
      ++i;
      continue;
    }
    // Two- and three-byte sequences, well formed; anything else is copied.
    if (c >= 0xc2 && c <= 0xdf && i + 1 < n && (p[i + 1] & 0xc0) == 0x80) {
      uint32_t r = (uint32_t(c & 0x1f) << 6) | (p[i + 1] & 0x3f);
      if (r == 0x17f) out->push_back('s');
      else PutUtf8(LowerRune(r), out);
      i += 2;
      continue;
    }
    if (c == 0xe2 && i + 2 < n && p[i + 1] == 0x84 && p[i + 2] == 0xaa) {  // U+212A
      out->push_back('k');
      i += 3;
      continue;
    }
    out->push_back(char(c));
    ++i;
  }
}

void LiteralSet::Add(std::string_view literal, uint32_t value) {
  if (literal.empty()) return;
  pending_.emplace_back(std::string(literal), value);
}

uint32_t LiteralSet::Child(uint32_t s, unsigned char c) const {
  const Node& n = nodes_[s];
  uint32_t lo = n.edges_begin, hi = n.edges_end;
  if (hi - lo <= 8) {
    for (uint32_t i = lo; i < hi; ++i)
      if (edge_bytes_[i] == c) return edge_to_[i];
    return kNone;
  }
  const unsigned char* b = edge_bytes_.data();
  const unsigned char* it = std::lower_bound(b + lo, b + hi, c);
  return it != b + hi && *it == c ? edge_to_[size_t(it - b)] : kNone;
}

void LiteralSet::Build() {
  std::sort(pending_.begin(), pending_.end());
  pending_.erase(std::unique(pending_.begin(), pending_.end()), pending_.end());
  nodes_.assign(1, Node{});
  struct Edge {
    uint32_t parent, child;
    unsigned char byte;
  };
  std::vector<Edge> edges;
  std::vector<std::pair<uint32_t, uint32_t>> ends;  // (node, value)
  std::vector<uint32_t> path{0};                    // nodes of the previous literal, root first
  std::string_view prev;
  literals_ = 0;
  for (const auto& [lit, value] : pending_) {
    if (lit != prev) ++literals_;
    size_t common = 0;
    while (common < lit.size() && common < prev.size() && lit[common] == prev[common]) ++common;
    path.resize(common + 1);
    for (size_t i = common; i < lit.size(); ++i) {
      uint32_t child = uint32_t(nodes_.size());
      nodes_.emplace_back();
      edges.push_back({path.back(), child, static_cast<unsigned char>(lit[i])});
      path.push_back(child);
    }
    ends.emplace_back(path.back(), value);
    prev = lit;
  }
  // Children by parent, in byte order (sorted input adds them that way).
  std::stable_sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.parent < b.parent; });
  edge_bytes_.resize(edges.size());
  edge_to_.resize(edges.size());
  for (size_t i = 0; i < edges.size(); ++i) {
    edge_bytes_[i] = edges[i].byte;
    edge_to_[i] = edges[i].child;
    Node& p = nodes_[edges[i].parent];
    if (p.edges_end == 0) p.edges_begin = uint32_t(i);
    p.edges_end = uint32_t(i + 1);
  }
  std::stable_sort(ends.begin(), ends.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  values_.resize(ends.size());
  for (size_t i = 0; i < ends.size(); ++i) {
    values_[i] = ends[i].second;
    Node& n = nodes_[ends[i].first];
    if (n.values_end == 0) n.values_begin = uint32_t(i);
    n.values_end = uint32_t(i + 1);
  }
  for (int c = 0; c < 256; ++c) {
    uint32_t t = Child(0, static_cast<unsigned char>(c));
    root_[c] = t == kNone ? 0 : t;
  }
  // Failure and dictionary links, breadth first.
  std::vector<uint32_t> queue;
  queue.reserve(nodes_.size());
  queue.push_back(0);
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    const uint32_t u = queue[qi];
    Node& nu = nodes_[u];
    if (u != 0) {
      nu.dict = nodes_[nu.fail].out;
      nu.out = nu.values_end > nu.values_begin ? u : nu.dict;
    }
    for (uint32_t i = nodes_[u].edges_begin; i < nodes_[u].edges_end; ++i) {
      const uint32_t v = edge_to_[i];
      const unsigned char c = edge_bytes_[i];
      uint32_t f = 0;
      if (u != 0) {
        f = nodes_[u].fail;
        for (;;) {
          uint32_t t = Child(f, c);
          if (t != kNone) {
            f = t;
            break;
          }
          if (f == 0) break;
          f = nodes_[f].fail;
        }
      }
      nodes_[v].fail = f;
      queue.push_back(v);
    }
  }
  pending_.clear();
  pending_.shrink_to_fit();
}

size_t LiteralSet::MemoryBytes() const {
  return nodes_.capacity() * sizeof(Node) + edge_bytes_.capacity() + edge_to_.capacity() * sizeof(uint32_t) +
         values_.capacity() * sizeof(uint32_t) + sizeof(*this);
}

}  // namespace spamguard
