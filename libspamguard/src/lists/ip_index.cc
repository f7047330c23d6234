#include "lists/ip_index.h"

#include <cstring>

namespace spamguard::lists {

bool Sweeper::Less(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b) const {
  return memcmp(a.data(), b.data(), width_) < 0;
}

void Sweeper::Close() {
  Open top = stack_.back();
  stack_.pop_back();
  if (exhausted_ || Less(top.range.hi, cursor_)) return;
  Interval iv;
  iv.lo = cursor_;
  iv.hi = top.range.hi;
  iv.id = top.id;
  emit_(iv);
  cursor_ = top.range.hi;
  if (!Increment(cursor_.data(), width_)) exhausted_ = true;
}

void Sweeper::Add(const IpRange& range, int64_t id) {
  while (!stack_.empty() && Less(stack_.back().range.hi, range.lo)) Close();
  if (!stack_.empty()) {
    const Open& top = stack_.back();
    if (top.range.plen == range.plen && memcmp(top.range.lo.data(), range.lo.data(), width_) == 0) return;
    if (!exhausted_ && Less(cursor_, range.lo)) {
      Interval iv;
      iv.lo = cursor_;
      iv.hi = range.lo;
      Decrement(iv.hi.data(), width_);
      iv.id = top.id;
      emit_(iv);
    }
  }
  stack_.push_back({range, id});
  cursor_ = range.lo;
  exhausted_ = false;
}

void Sweeper::Finish() {
  while (!stack_.empty()) Close();
}

}  // namespace spamguard::lists
