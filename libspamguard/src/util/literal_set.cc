#include "util/literal_set.h"

#include <algorithm>
#include <cstring>

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
  const Node& n = nodes_p_[s];
  uint32_t lo = n.edges_begin, hi = n.edges_end;
  if (hi - lo <= 8) {
    for (uint32_t i = lo; i < hi; ++i)
      if (edge_bytes_p_[i] == c) return edge_to_p_[i];
    return kNone;
  }
  const unsigned char* b = edge_bytes_p_;
  const unsigned char* it = std::lower_bound(b + lo, b + hi, c);
  return it != b + hi && *it == c ? edge_to_p_[size_t(it - b)] : kNone;
}

LiteralSet& LiteralSet::operator=(LiteralSet&& o) noexcept {
  pending_ = std::move(o.pending_);
  nodes_ = std::move(o.nodes_);
  edge_bytes_ = std::move(o.edge_bytes_);
  edge_to_ = std::move(o.edge_to_);
  values_ = std::move(o.values_);
  memcpy(root_, o.root_, sizeof root_);
  literals_ = o.literals_;
  owned_ = o.owned_;
  nodes_p_ = o.nodes_p_;
  n_nodes_ = o.n_nodes_;
  edge_bytes_p_ = o.edge_bytes_p_;
  edge_to_p_ = o.edge_to_p_;
  values_p_ = o.values_p_;
  root_p_ = o.root_p_;
  if (owned_) Point();
  o.n_nodes_ = 0;
  o.owned_ = false;
  return *this;
}

void LiteralSet::Point() {
  owned_ = true;
  nodes_p_ = nodes_.data();
  n_nodes_ = nodes_.size();
  edge_bytes_p_ = edge_bytes_.data();
  edge_to_p_ = edge_to_.data();
  values_p_ = values_.data();
  root_p_ = root_;
}

namespace {
void Pad8(std::string* out, size_t base) {
  while ((out->size() - base) % 8) out->push_back('\0');
}
template <class T>
void PutArray(std::string* out, size_t base, const T* p, size_t n) {
  uint64_t count = n;
  out->append(reinterpret_cast<const char*>(&count), sizeof count);
  out->append(reinterpret_cast<const char*>(p), n * sizeof(T));
  Pad8(out, base);
}
template <class T>
bool GetArray(const char* data, size_t size, size_t* at, const T** p, size_t* n) {
  uint64_t count = 0;
  if (size - *at < sizeof count) return false;
  memcpy(&count, data + *at, sizeof count);
  *at += sizeof count;
  if (count > (size - *at) / sizeof(T)) return false;
  *p = reinterpret_cast<const T*>(data + *at);
  *n = size_t(count);
  *at += size_t(count) * sizeof(T);
  *at = (*at + 7) & ~size_t(7);
  return *at <= size;
}
}  // namespace

void LiteralSet::Serialize(std::string* out) const {
  const size_t base = out->size();
  uint64_t lits = literals_;
  out->append(reinterpret_cast<const char*>(&lits), sizeof lits);
  PutArray(out, base, nodes_p_, n_nodes_);
  PutArray(out, base, edge_bytes_p_, n_nodes_ ? size_t(nodes_p_[n_nodes_ - 1].edges_end) : 0);
  PutArray(out, base, edge_to_p_, n_nodes_ ? size_t(nodes_p_[n_nodes_ - 1].edges_end) : 0);
  PutArray(out, base, values_p_, values_.size());
  PutArray(out, base, root_p_, n_nodes_ ? size_t(256) : 0);
}

bool LiteralSet::View(const char* data, size_t size, uint32_t max_value, size_t* used) {
  if (reinterpret_cast<uintptr_t>(data) % 8 != 0 || size < 8) return false;
  uint64_t lits = 0;
  memcpy(&lits, data, sizeof lits);
  size_t at = 8, n_nodes = 0, n_eb = 0, n_et = 0, n_values = 0, n_root = 0;
  const Node* nodes = nullptr;
  const unsigned char* eb = nullptr;
  const uint32_t *et = nullptr, *values = nullptr, *root = nullptr;
  if (!GetArray(data, size, &at, &nodes, &n_nodes) || !GetArray(data, size, &at, &eb, &n_eb) ||
      !GetArray(data, size, &at, &et, &n_et) || !GetArray(data, size, &at, &values, &n_values) ||
      !GetArray(data, size, &at, &root, &n_root))
    return false;
  if (n_eb != n_et || n_nodes > kNone || (n_nodes > 0) != (n_root == 256)) return false;
  // One pass: every index inside its array, and (nodes being numbered
  // breadth first) every failure and dictionary link going to a smaller
  // number, so that no chain a scan follows can loop.
  for (size_t i = 0; i < n_nodes; ++i) {
    const Node& n = nodes[i];
    if (n.edges_begin > n.edges_end || n.edges_end > n_eb || n.values_begin > n.values_end ||
        n.values_end > n_values)
      return false;
    if (i == 0 ? (n.fail != 0 || n.out != kNone || n.dict != kNone)
               : (n.fail >= i || (n.dict != kNone && n.dict >= i) || (n.out != kNone && n.out > i)))
      return false;
  }
  for (size_t i = 0; i < n_et; ++i)
    if (et[i] >= n_nodes || et[i] == 0) return false;
  for (size_t i = 0; i < n_values; ++i)
    if (values[i] > max_value) return false;
  for (size_t i = 0; i < n_root; ++i)
    if (root[i] >= n_nodes) return false;
  owned_ = false;
  nodes_p_ = nodes;
  n_nodes_ = n_nodes;
  edge_bytes_p_ = eb;
  edge_to_p_ = et;
  values_p_ = values;
  root_p_ = root;
  literals_ = size_t(lits);
  *used = at;
  return true;
}

void LiteralSet::Build() {
  std::sort(pending_.begin(), pending_.end());
  nodes_.reserve(pending_.size() * 4);
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
  // Children by parent, in byte order (sorted input adds them that way):
  // counted, then placed, as nodes were made in depth-first order.
  const size_t n_nodes = nodes_.size();
  std::vector<uint32_t> start(n_nodes + 1, 0);
  for (const Edge& e : edges) ++start[e.parent + 1];
  for (size_t i = 0; i < n_nodes; ++i) start[i + 1] += start[i];
  edge_bytes_.resize(edges.size());
  edge_to_.resize(edges.size());
  for (size_t i = 0; i < n_nodes; ++i) nodes_[i].edges_begin = nodes_[i].edges_end = start[i];
  for (const Edge& e : edges) {
    uint32_t at = nodes_[e.parent].edges_end++;
    edge_bytes_[at] = e.byte;
    edge_to_[at] = e.child;
  }
  std::vector<uint32_t>().swap(start);
  std::vector<Edge>().swap(edges);
  // Values by node; a node's values are consecutive already (equal
  // literals are adjacent in sorted order).
  values_.resize(ends.size());
  for (size_t i = 0; i < ends.size(); ++i) {
    values_[i] = ends[i].second;
    Node& n = nodes_[ends[i].first];
    if (n.values_end == 0) n.values_begin = uint32_t(i);
    n.values_end = uint32_t(i + 1);
  }
  Point();
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
  // Renumbered breadth first: a failure or dictionary link then always
  // goes to a smaller number (a shallower node), which is what lets View
  // check a mapped automaton in one pass, and keeps the nodes a scan
  // visits first (the shallow ones) together.
  std::vector<uint32_t> id(nodes_.size());
  for (size_t k = 0; k < queue.size(); ++k) id[queue[k]] = uint32_t(k);
  auto map = [&](uint32_t x) { return x == kNone ? kNone : id[x]; };
  std::vector<Node> nodes(nodes_.size());
  std::vector<unsigned char> bytes;
  std::vector<uint32_t> to, values;
  bytes.reserve(edge_bytes_.size());
  to.reserve(edge_to_.size());
  values.reserve(values_.size());
  for (size_t k = 0; k < queue.size(); ++k) {
    const Node& o = nodes_[queue[k]];
    Node& n = nodes[k];
    n.fail = map(o.fail);
    n.out = map(o.out);
    n.dict = map(o.dict);
    n.edges_begin = uint32_t(bytes.size());
    for (uint32_t i = o.edges_begin; i < o.edges_end; ++i) {
      bytes.push_back(edge_bytes_[i]);
      to.push_back(id[edge_to_[i]]);
    }
    n.edges_end = uint32_t(bytes.size());
    n.values_begin = uint32_t(values.size());
    for (uint32_t v = o.values_begin; v < o.values_end; ++v) values.push_back(values_[v]);
    n.values_end = uint32_t(values.size());
  }
  nodes_ = std::move(nodes);
  edge_bytes_ = std::move(bytes);
  edge_to_ = std::move(to);
  values_ = std::move(values);
  for (auto& r : root_) r = id[r];
  pending_.clear();
  pending_.shrink_to_fit();
  Point();
}

size_t LiteralSet::MemoryBytes() const {
  return nodes_.capacity() * sizeof(Node) + edge_bytes_.capacity() + edge_to_.capacity() * sizeof(uint32_t) +
         values_.capacity() * sizeof(uint32_t) + sizeof(*this);
}

}  // namespace spamguard
