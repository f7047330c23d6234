#include "ratelimit/memory_rate_store.h"

#include <algorithm>
#include <vector>

#include "ratelimit/gcra.h"

namespace spamguard::ratelimit {

Status MemoryRateStore::RateCheck(const std::vector<store::RateKey>& keys, int64_t now_ms, store::RateDecision* out) {
  std::lock_guard<std::mutex> lock(mu_);
  *out = store::RateDecision();
  if (++checks_ % 1024 == 0) {
    // Keys whose allowance has been whole for a day and that were not over
    // their limit that day change no decision: forget them, so that a
    // long-lived engine does not grow with every address it has seen.
    for (auto it = state_.begin(); it != state_.end();) {
      if (it->second.tat < now_ms - 86400000 && it->second.last_over < now_ms - 86400000) it = state_.erase(it);
      else ++it;
    }
  }
  std::vector<int64_t> tats(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = state_.find(keys[i].key);
    bool have = it != state_.end();
    GcraStep step =
        Gcra(have, have ? it->second.tat : 0, now_ms, keys[i].interval_ms, keys[i].tolerance_ms, ClockMs());
    if (!step.allowed) {
      State& s = state_[keys[i].key];
      s.tat = step.tat;  // pulled back when time went backwards
      s.over_since = OverSince(s.over_since, s.last_over, now_ms, keys[i].period_ms);
      s.last_over = now_ms;
      out->allowed = false;
      out->denied = i;
      out->retry_after_ms = step.retry_ms;
      out->over_since_ms = s.over_since;
      return Status::OK();
    }
    tats[i] = step.tat;
  }
  for (size_t i = 0; i < keys.size(); ++i) state_[keys[i].key].tat = tats[i];
  return Status::OK();
}

Status MemoryRateStore::RatePeek(const std::vector<store::RateKey>& keys, std::vector<store::RateState>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  out->assign(keys.size(), store::RateState());
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = state_.find(keys[i].key);
    if (it != state_.end()) (*out)[i] = store::RateState{true, it->second.tat};
  }
  return Status::OK();
}

Status MemoryRateStore::CountUse(const std::string& key, int64_t expires, int64_t now, int64_t* uses) {
  std::lock_guard<std::mutex> lock(mu_);
  if (++counts_ % 1024 == 0) {
    for (auto it = uses_.begin(); it != uses_.end();) {
      if (it->second.expires < now) it = uses_.erase(it);
      else ++it;
    }
  }
  Use& u = uses_[key];
  u.uses += 1;
  u.expires = std::max(u.expires, expires);
  *uses = u.uses;
  return Status::OK();
}

}  // namespace spamguard::ratelimit
