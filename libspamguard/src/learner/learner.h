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
  std::string text;  // as shown in verdicts: "pills", "host:example.xyz"
};

// At most this many tokens per comment (the first found), so that a huge
// body costs a bounded number of rows.
constexpr size_t kMaxTokensPerComment = 1000;

// The distinct tokens of a comment, sorted by hash.
void Tokenize(const comment::Normalized& n, std::vector<Token>* out);
uint64_t HashToken(std::string_view text);

// What the learner has counted: comments learned per label, and per token
// the number of spam and ham comments that held it.
using Totals = store::LearnerTotals;
using TokenCounts = store::TokenCounts;

struct Clue {
  const Token* token;
  double prob;  // the token's spam probability, shrunk towards 0.5
};

struct Result {
  double prob = 0.5;          // spam probability of the comment
  std::vector<Clue> clues;    // the tokens used, strongest first
};

// Combines the tokens' probabilities (counts[i] belongs to tokens[i]).
void Classify(const std::vector<Token>& tokens, const std::vector<TokenCounts>& counts, const Totals& totals,
              Result* out);

// "'pills' 0.99, 'host:example.xyz' 0.98, ..." for the `max` strongest
// clues that point the way the comment was judged.
std::string Explain(const Result& r, size_t max);

}  // namespace spamguard::learner
