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

// Evaluates with `hit(i)` giving 0/1 for the rule index stored in kRule nodes.
template <typename HitFn>
int64_t EvalMeta(const MetaExpr& e, int node, const HitFn& hit) {
  const MetaNode& n = e.nodes[node];
  switch (n.op) {
    case MetaNode::kRule: return hit(n.value) ? 1 : 0;
    case MetaNode::kConst: return n.value;
    case MetaNode::kNot: return EvalMeta(e, n.a, hit) == 0;
    case MetaNode::kAnd: return EvalMeta(e, n.a, hit) != 0 && EvalMeta(e, n.b, hit) != 0;
    case MetaNode::kOr: return EvalMeta(e, n.a, hit) != 0 || EvalMeta(e, n.b, hit) != 0;
    case MetaNode::kAdd: return EvalMeta(e, n.a, hit) + EvalMeta(e, n.b, hit);
    case MetaNode::kGt: return EvalMeta(e, n.a, hit) > EvalMeta(e, n.b, hit);
    case MetaNode::kGe: return EvalMeta(e, n.a, hit) >= EvalMeta(e, n.b, hit);
    case MetaNode::kLt: return EvalMeta(e, n.a, hit) < EvalMeta(e, n.b, hit);
    case MetaNode::kLe: return EvalMeta(e, n.a, hit) <= EvalMeta(e, n.b, hit);
    case MetaNode::kEq: return EvalMeta(e, n.a, hit) == EvalMeta(e, n.b, hit);
    case MetaNode::kNe: return EvalMeta(e, n.a, hit) != EvalMeta(e, n.b, hit);
  }
  return 0;
}

}  // namespace spamguard::rules
