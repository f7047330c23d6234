#include "reputation/reputation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/numbers.h"

namespace spamguard::reputation {

store::RepCounts Decayed(const store::RepCounts& c, int64_t now, const Settings& s) {
  store::RepCounts d = c;
  double f = store::DecayFactor(now, c.updated, s.HalfLifeSeconds());
  d.spam *= f;
  d.ham *= f;
  d.updated = now;
  return d;
}

double Points(double spam, double ham, const Settings& s) {
  if (spam + ham < s.min_evidence || spam + ham <= 0) return 0;
  double p = s.weight * std::log((spam + 1) / (ham + 1));
  p = std::clamp(p, -s.cap, s.cap);
  return std::round(p * 100) / 100;
}

std::string Evidence(const store::RepCounts& d, const Settings& s) {
  if (s.half_life_days > 0)
    return FormatFixed(d.spam, 1) + " spam, " + FormatFixed(d.ham, 1) + " ham (half-life " +
           FormatShortest(s.half_life_days) + " days)";
  return FormatFixed(d.spam, 0) + " spam, " + FormatFixed(d.ham, 0) + " ham";
}

}  // namespace spamguard::reputation
