// GCRA, the generic cell rate algorithm: one stored time per key (the
// "theoretical arrival time", TAT) decides whether a request conforms to a
// rate with a burst. Pure arithmetic, shared by every rate store.
#pragma once

#include <algorithm>
#include <cstdint>
#include <ctime>

namespace spamguard::ratelimit {

struct GcraStep {
  bool allowed;
  int64_t tat;       // the TAT to store when allowed
  int64_t retry_ms;  // when refused: how long until a request would conform
};

// interval = period / rate; tolerance = (burst - 1) * interval. `have` is
// false for a key seen for the first time; `clock` is the real time.
//
// Time going backwards buys nothing. A request older than the key's
// present (tat - tolerance - interval: the earliest time the stored TAT is
// consistent with) is taken as arriving at that present, so a host passing
// times that alternate between now and a day ago meets the limit as if all
// came now. A stored TAT further ahead of the real clock than GCRA can put
// it (left by a clock that ran ahead and was set back) is pulled back to
// the clock: such a key counts as just spent, not as spent for years.
struct GcraTimes {
  int64_t tat, now;
};
inline GcraTimes SaneTimes(bool have, int64_t tat, int64_t now, int64_t interval, int64_t tolerance, int64_t clock) {
  if (!have) return {now, now};
  if (clock < INT64_MAX - tolerance - interval) tat = std::min(tat, clock + tolerance + interval);
  return {tat, std::max(now, tat - tolerance - interval)};
}

inline GcraStep Gcra(bool have, int64_t tat, int64_t now, int64_t interval, int64_t tolerance,
                     int64_t clock = INT64_MAX) {
  GcraTimes t = SaneTimes(have, tat, now, interval, tolerance, clock);
  tat = t.tat;
  now = t.now;
  int64_t base = std::max(tat, now);
  if (base - tolerance > now) return {false, tat, base - tolerance - now};
  return {true, base + interval, 0};
}

// How many requests would conform now, one after another (at most the
// burst); 0 when the next one would be refused.
inline int64_t GcraRemaining(bool have, int64_t tat, int64_t now, int64_t interval, int64_t tolerance,
                             int64_t clock = INT64_MAX) {
  GcraTimes t = SaneTimes(have, tat, now, interval, tolerance, clock);
  int64_t room = t.now + tolerance - std::max(t.tat, t.now);
  return room < 0 ? 0 : room / interval + 1;
}

// The start of the current spell of refusals: a refusal more than a period
// after the previous one starts a new spell.
inline int64_t OverSince(int64_t over_since, int64_t last_over, int64_t now, int64_t period) {
  return (over_since == 0 || now - last_over > period || now < last_over) ? now : over_since;
}

// The real time in milliseconds.
// A clock that never goes back, for intervals within the process.
inline int64_t SteadyMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

inline int64_t ClockMs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace spamguard::ratelimit
