// Flattening nested CIDR entries into non-overlapping intervals, each
// labeled with the most specific entry covering it. CIDR blocks either nest
// or are disjoint, so one pass over entries sorted by (start, prefix length)
// with a stack of open blocks does it. The flat index lets a lookup be one
// "greatest start <= address" probe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "lists/ip_range.h"

namespace spamguard::lists {

struct Interval {
  std::array<uint8_t, 16> lo{}, hi{};
  int64_t id = 0;
};

class Sweeper {
 public:
  Sweeper(size_t width, std::function<void(const Interval&)> emit) : width_(width), emit_(std::move(emit)) {}
  // Entries must come sorted by (lo ascending, plen ascending).
  void Add(const IpRange& range, int64_t id);
  void Finish();

 private:
  struct Open {
    IpRange range;
    int64_t id;
  };
  bool Less(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b) const;
  void Close();  // closes the top of the stack
  size_t width_;
  std::function<void(const Interval&)> emit_;
  std::vector<Open> stack_;
  std::array<uint8_t, 16> cursor_{};
  bool exhausted_ = false;  // the cursor passed the last address
};

}  // namespace spamguard::lists
