#include "rules/meta.h"

#include <cctype>

namespace spamguard::rules {
namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 4096;

class Parser {
 public:
  Parser(std::string_view s, MetaExpr* out) : s_(s), out_(out) {}

  bool Parse(std::string* error) {
    int root = Or(0);
    Skip();
    if (root >= 0 && pos_ < s_.size()) Fail("unexpected '" + std::string(s_.substr(pos_, 8)) + "'");
    if (!error_.empty()) {
      *error = error_;
      return false;
    }
    out_->root = root;
    return true;
  }

 private:
  void Skip() {
    while (pos_ < s_.size() && isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool Eat(std::string_view tok) {
    Skip();
    if (s_.substr(pos_, tok.size()) == tok) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  int Fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return -1;
  }
  int Node(MetaNode::Op op, int a, int b, int64_t v = 0) {
    if (out_->nodes.size() >= kMaxNodes) return Fail("expression too large");
    MetaNode n{op};
    n.a = a;
    n.b = b;
    n.value = v;
    out_->nodes.push_back(n);
    return int(out_->nodes.size() - 1);
  }
  int Or(int depth) {
    int l = And(depth);
    while (l >= 0 && Eat("||")) {
      int r = And(depth);
      if (r < 0) return -1;
      l = Node(MetaNode::kOr, l, r);
    }
    return l;
  }
  int And(int depth) {
    int l = Cmp(depth);
    while (l >= 0 && Eat("&&")) {
      int r = Cmp(depth);
      if (r < 0) return -1;
      l = Node(MetaNode::kAnd, l, r);
    }
    return l;
  }
  int Cmp(int depth) {
    int l = Sum(depth);
    if (l < 0) return -1;
    static const struct { const char* tok; MetaNode::Op op; } kOps[] = {
        {">=", MetaNode::kGe}, {"<=", MetaNode::kLe}, {"==", MetaNode::kEq},
        {"!=", MetaNode::kNe}, {">", MetaNode::kGt},  {"<", MetaNode::kLt}};
    for (const auto& o : kOps) {
      if (Eat(o.tok)) {
        int r = Sum(depth);
        if (r < 0) return -1;
        return Node(o.op, l, r);
      }
    }
    return l;
  }
  int Sum(int depth) {
    int l = Unary(depth);
    while (l >= 0 && Eat("+")) {
      int r = Unary(depth);
      if (r < 0) return -1;
      l = Node(MetaNode::kAdd, l, r);
    }
    return l;
  }
  int Unary(int depth) {
    if (depth > kMaxDepth) return Fail("expression nested too deeply");
    Skip();
    if (pos_ < s_.size() && s_[pos_] == '!' && s_.substr(pos_, 2) != "!=") {
      ++pos_;
      int a = Unary(depth + 1);
      if (a < 0) return -1;
      return Node(MetaNode::kNot, a, -1);
    }
    return Primary(depth);
  }
  int Primary(int depth) {
    Skip();
    if (pos_ >= s_.size()) return Fail("expression ends too early");
    char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      int e = Or(depth + 1);
      if (e < 0) return -1;
      if (!Eat(")")) return Fail("missing ')'");
      return e;
    }
    if (isdigit(static_cast<unsigned char>(c))) {
      int64_t v = 0;
      size_t start = pos_;
      while (pos_ < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_]))) {
        if (pos_ - start > 9) return Fail("number too large");
        v = v * 10 + (s_[pos_++] - '0');
      }
      return Node(MetaNode::kConst, -1, -1, v);
    }
    if (isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < s_.size() && (isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
      out_->names.emplace_back(s_.substr(start, pos_ - start));
      return Node(MetaNode::kRule, -1, -1, int64_t(out_->names.size() - 1));
    }
    return Fail("unexpected '" + std::string(1, c) + "'");
  }

  std::string_view s_;
  MetaExpr* out_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

bool ParseMeta(std::string_view text, MetaExpr* out, std::string* error) {
  *out = MetaExpr();
  Parser p(text, out);
  return p.Parse(error);
}

}  // namespace spamguard::rules
