// Meta rule expressions: boolean and counted combinations of other rules,
// e.g. "SG_A && !SG_B" or "(SG_A + SG_B + SG_C) >= 2".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spamguard::rules {

struct MetaNode {
  enum Op : uint8_t { kRule, kConst, kNot, kAnd, kOr, kAdd, kGt, kGe, kLt, kLe, kEq, kNe } op;
  int a = -1, b = -1;  // child nodes (kNot uses a)
  int64_t value = 0;   // kConst: the number; kRule: index into MetaExpr::names / rule index
};

struct MetaExpr {
  std::vector<MetaNode> nodes;
  int root = -1;
  std::vector<std::string> names;  // rule names referenced, resolved later
};

// Parses an expression. On error returns false and a reason in *error.
bool ParseMeta(std::string_view text, MetaExpr* out, std::string* error);

// A sum or comparison node's value from its children's.
inline int64_t MetaArith(MetaNode::Op op, int64_t a, int64_t b) {
  switch (op) {
    case MetaNode::kAdd: return a + b;
    case MetaNode::kGt: return a > b;
    case MetaNode::kGe: return a >= b;
    case MetaNode::kLt: return a < b;
    case MetaNode::kLe: return a <= b;
    case MetaNode::kEq: return a == b;
    case MetaNode::kNe: return a != b;
    default: return 0;
  }
}

// Evaluates with `hit(i)` giving 0/1 for the rule index stored in kRule nodes.
// The parser creates every node after its children, so one pass in index
// order evaluates the tree without recursion (its depth is the input's).
template <typename HitFn>
int64_t EvalMeta(const MetaExpr& e, int root, const HitFn& hit) {
  if (root < 0) return 0;
  thread_local std::vector<int64_t> v;  // reused: no allocation per comment
  v.assign(size_t(root) + 1, 0);
  for (size_t i = 0; i <= size_t(root); ++i) {
    const MetaNode& n = e.nodes[i];
    int64_t a = n.a >= 0 ? v[size_t(n.a)] : 0, b = n.b >= 0 ? v[size_t(n.b)] : 0;
    switch (n.op) {
      case MetaNode::kRule: v[i] = hit(n.value) ? 1 : 0; break;
      case MetaNode::kConst: v[i] = n.value; break;
      case MetaNode::kNot: v[i] = a == 0; break;
      case MetaNode::kAnd: v[i] = a != 0 && b != 0; break;
      case MetaNode::kOr: v[i] = a != 0 || b != 0; break;
      default: v[i] = MetaArith(n.op, a, b); break;
    }
  }
  return v[size_t(root)];
}

// As EvalMeta, while some rules are not known yet (known(i) false): *decided
// is false when the value depends on them. `!`, `&&` and `||` decide what
// they can without them (false && x, true || x); sums and comparisons need
// both sides.
template <typename KnownFn, typename HitFn>
int64_t EvalMetaPartial(const MetaExpr& e, int root, const KnownFn& known, const HitFn& hit, bool* decided) {
  *decided = true;
  if (root < 0) return 0;
  thread_local std::vector<int64_t> v;
  thread_local std::vector<uint8_t> unknown;
  v.assign(size_t(root) + 1, 0);
  unknown.assign(size_t(root) + 1, 0);
  for (size_t i = 0; i <= size_t(root); ++i) {
    const MetaNode& n = e.nodes[i];
    const int64_t a = n.a >= 0 ? v[size_t(n.a)] : 0, b = n.b >= 0 ? v[size_t(n.b)] : 0;
    const bool ua = n.a >= 0 && unknown[size_t(n.a)], ub = n.b >= 0 && unknown[size_t(n.b)];
    switch (n.op) {
      case MetaNode::kRule:
        if (known(n.value)) v[i] = hit(n.value) ? 1 : 0;
        else unknown[i] = 1;
        break;
      case MetaNode::kConst: v[i] = n.value; break;
      case MetaNode::kNot:
        unknown[i] = ua;
        v[i] = a == 0;
        break;
      case MetaNode::kAnd:
        if ((!ua && a == 0) || (!ub && b == 0)) v[i] = 0;
        else if (ua || ub) unknown[i] = 1;
        else v[i] = 1;
        break;
      case MetaNode::kOr:
        if ((!ua && a != 0) || (!ub && b != 0)) v[i] = 1;
        else if (ua || ub) unknown[i] = 1;
        else v[i] = 0;
        break;
      default:
        if (ua || ub) unknown[i] = 1;
        else v[i] = MetaArith(n.op, a, b);
    }
  }
  *decided = !unknown[size_t(root)];
  return v[size_t(root)];
}

}  // namespace spamguard::rules
