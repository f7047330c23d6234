// Fuzz target: the body normalizer's time, and the content learner's
// tokenizer after it. Any input (repeated to 64 KiB, so that a short
// pattern becomes the worst case of its shape) must normalize and tokenize
// within a bound proportional to its size: a scan that searches the rest of
// the body from each of many openers traps here long before libFuzzer's
// -timeout would. The tokens must be distinct and at most the bound.
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "comment/comment.h"
#include "comment/text.h"
#include "learner/learner.h"

namespace {
double Seconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using namespace spamguard::comment;
  std::string unit(reinterpret_cast<const char*>(data), size);
  std::string body;
  while (body.size() < 65536) body += unit;
  Comment c;
  c.fields[SG_FIELD_BODY] = body;
  c.fields[SG_FIELD_EXCERPT] = body.substr(0, 4096);
  c.fields[SG_FIELD_AUTHOR] = unit.substr(0, 4096);
  Limits lim;
  Normalized n;
  double t0 = Seconds();
  Normalize(c, lim, &n);
  spamguard::learner::Tokens tokens;
  spamguard::learner::Tokenize(n, &tokens);
  (void)LooksLikeName(n.author);
  double spent = Seconds() - t0;
  if (tokens.list.size() > spamguard::learner::kMaxTokensPerComment) abort();
  for (size_t i = 1; i < tokens.list.size(); ++i)
    if (tokens.list[i - 1].hash >= tokens.list[i].hash) abort();  // sorted, each once
  // Any counts combine to a probability in [0, 1].
  std::vector<spamguard::learner::TokenCounts> counts(tokens.list.size());
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = {int64_t(tokens.list[i].hash % 7), int64_t(i % 5)};
  spamguard::learner::Totals totals;
  totals.spam = 3;
  totals.ham = 4;
  spamguard::learner::Result r;
  spamguard::learner::Classify(tokens, counts, totals, &r);
  if (!(r.prob >= 0 && r.prob <= 1)) abort();
  (void)spamguard::learner::Explain(tokens, r, 5);
  // Linear work on 64 KiB is about a millisecond (a few under ASan); a
  // quadratic scan is seconds. One second leaves room for a loaded machine.
  if (spent > 1.0) {
    fprintf(stderr, "normalizing %zu bytes took %.3f s\n", body.size(), spent);
    abort();
  }
  return 0;
}
