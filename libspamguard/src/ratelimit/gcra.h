// GCRA, the generic cell rate algorithm: one stored time per key (the
// "theoretical arrival time", TAT) decides whether a request conforms to a
// rate with a burst. Pure arithmetic, shared by every rate store.
#pragma once

#include <algorithm>
#include <cstdint>

namespace spamguard::ratelimit {

struct GcraStep {
  bool allowed;
  int64_t tat;       // the TAT to store when allowed
  int64_t retry_ms;  // when refused: how long until a request would conform
};

// interval = period / rate; tolerance = (burst - 1) * interval. `have` is
// false for a key seen for the first time. A stored TAT further ahead than
// GCRA can ever put it means the clock went backwards (an offline replay
// with older times, a clock step): the key starts afresh.
inline GcraStep Gcra(bool have, int64_t tat, int64_t now, int64_t interval, int64_t tolerance) {
  if (!have || tat > now + tolerance + interval) tat = now;
  int64_t base = std::max(tat, now);
  if (base - tolerance > now) return {false, tat, base - tolerance - now};
  return {true, base + interval, 0};
}

// How many requests would conform now, one after another (at most the
// burst); 0 when the next one would be refused.
inline int64_t GcraRemaining(bool have, int64_t tat, int64_t now, int64_t interval, int64_t tolerance) {
  if (!have || tat > now + tolerance + interval) tat = now;
  int64_t room = now + tolerance - std::max(tat, now);
  return room < 0 ? 0 : room / interval + 1;
}

// The start of the current spell of refusals: a refusal more than a period
// after the previous one starts a new spell.
inline int64_t OverSince(int64_t over_since, int64_t last_over, int64_t now, int64_t period) {
  return (over_since == 0 || now - last_over > period || now < last_over) ? now : over_since;
}

}  // namespace spamguard::ratelimit
