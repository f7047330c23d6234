// Rate-limit state in memory: for an engine without a database, and for
// replaying a dump's limits on its own timestamps without touching the live
// database. Thread-safe; not shared between processes.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "store/store.h"

namespace spamguard::ratelimit {

class MemoryRateStore final : public store::RateStore {
 public:
  Status RateCheck(const std::vector<store::RateKey>& keys, int64_t now_ms, store::RateDecision* out) override;
  Status RatePeek(const std::vector<store::RateKey>& keys, std::vector<store::RateState>* out) override;
  Status CountUse(const std::string& key, int64_t expires, int64_t now, int64_t* uses) override;

 private:
  struct State {
    int64_t tat = 0, over_since = 0, last_over = 0;
  };
  std::mutex mu_;
  std::unordered_map<std::string, State> state_;
  size_t checks_ = 0;  // every 1024th check forgets idle keys
  struct Use {
    int64_t uses = 0, expires = 0;
  };
  std::unordered_map<std::string, Use> uses_;  // form tokens
  size_t counts_ = 0;  // every 1024th count forgets spent tokens
};

}  // namespace spamguard::ratelimit
