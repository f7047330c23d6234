// IP reputation: spam and ham counts per address and per network, decayed
// with a half-life, turned into points by log-odds.
#pragma once

#include <cstdint>
#include <string>

#include "store/store.h"

namespace spamguard::reputation {

struct Settings {
  double half_life_days = 30;  // 0: counts never decay
  double min_evidence = 3;     // fewer decayed reports than this: no points
  double cap = 4;              // points are clamped to [-cap, cap]
  double weight = 1;           // points per unit of natural log-odds
  int prefix4 = 24;            // network of an IPv4 address
  int prefix6 = 64;            // network of an IPv6 address
  double HalfLifeSeconds() const { return half_life_days * 86400.0; }
};

// Counts as of `now`.
store::RepCounts Decayed(const store::RepCounts& c, int64_t now, const Settings& s);

// Points for decayed counts: 0 under min_evidence, else
// weight * ln((spam + 1) / (ham + 1)), clamped to +-cap.
double Points(double spam, double ham, const Settings& s);

// "12.0 spam, 0.0 ham (half-life 30 days)"
std::string Evidence(const store::RepCounts& decayed, const Settings& s);

}  // namespace spamguard::reputation
