// The content learner: token statistics learned from the blog's own labels,
// combined the way SpamBayes does it (Robinson's per-token probability with
// Fisher's chi-square combining), so that a verdict can name the tokens
// that decided it.
//
// Tokens come from the normalized comment, each counted once per comment:
// body words and word pairs, link hosts, registrable domains and path
// pieces, author words, the e-mail domain, and a few shape tokens. A token
// is kept as a 64-bit hash (FNV-1a); its text is only shown in verdicts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "comment/comment.h"
#include "store/store.h"

namespace spamguard::learner {

struct Token {
  uint64_t hash = 0;
  uint32_t off = 0, len = 0;  // its text in Tokens::text
};

// The distinct tokens of a comment, sorted by hash, and their texts as
// shown in verdicts ("pills", "host:example.xyz"), kept in one buffer.
struct Tokens {
  std::vector<Token> list;
  std::string text;
  std::string_view Text(const Token& t) const { return std::string_view(text).substr(t.off, t.len); }
  void Clear() {
    list.clear();
    text.clear();
  }
  // The hashes alone, in the same order.
  void Hashes(std::vector<uint64_t>* out) const {
    out->resize(list.size());
    for (size_t i = 0; i < list.size(); ++i) (*out)[i] = list[i].hash;
  }
};

// At most this many tokens per comment (the first found), so that a huge
// body costs a bounded number of rows.
constexpr size_t kMaxTokensPerComment = 1000;

void Tokenize(const comment::Normalized& n, Tokens* out);
uint64_t HashToken(std::string_view text);

// What the learner has counted: comments learned per label, and per token
// the number of spam and ham comments that held it.
using Totals = store::LearnerTotals;
using TokenCounts = store::TokenCounts;

struct Clue {
  uint32_t token;  // index in Tokens::list
  double prob;     // the token's spam probability, shrunk towards 0.5
};

struct Result {
  double prob = 0.5;        // spam probability of the comment
  std::vector<Clue> clues;  // the tokens used (at most the 150 strongest), in no order
};

// Combines the tokens' probabilities (counts[i] belongs to tokens.list[i]).
void Classify(const Tokens& tokens, const std::vector<TokenCounts>& counts, const Totals& totals, Result* out);

// "'pills' 0.99, 'host:example.xyz' 0.98, ..." for the `max` strongest
// clues that point the way the comment was judged.
std::string Explain(const Tokens& tokens, const Result& r, size_t max);

// Token counts held in memory: an open-addressing table of hashes, 16 bytes
// a slot, at most three quarters full (150,000 tokens: 4 MiB).
class CountTable {
 public:
  void Reserve(size_t n);
  void Put(uint64_t hash, const TokenCounts& c);
  TokenCounts Get(uint64_t hash) const;
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t hash = 0;  // 0: empty (a token hashing to 0 is not kept)
    uint32_t spam = 0, ham = 0;
  };
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace spamguard::learner
