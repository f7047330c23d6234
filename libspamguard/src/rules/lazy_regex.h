// An RE2 compiled on first use. Rules keep one each, to find what matched
// once their field's RE2::Set has reported them: most rules never hit, so
// most never pay for a compile, and opening an engine stays cheap.
// Thread-safe: Get() may race from many threads; one compiles.
#pragma once

#include <re2/re2.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace spamguard::rules {

class LazyRegex {
 public:
  LazyRegex(std::string pattern, const RE2::Options& options) : pattern_(std::move(pattern)), options_(options) {}

  const std::string& pattern() const { return pattern_; }
  const RE2::Options& options() const { return options_; }

  const RE2& Get() const {
    std::call_once(once_, [this] {
      re_ = std::make_unique<RE2>(pattern_, options_);
      compiled_.store(true, std::memory_order_release);
    });
    return *re_;
  }
  // Whether a comment has needed it yet (for tests and stats).
  bool compiled() const { return compiled_.load(std::memory_order_acquire); }

 private:
  std::string pattern_;
  RE2::Options options_;
  mutable std::once_flag once_;
  mutable std::unique_ptr<RE2> re_;
  mutable std::atomic<bool> compiled_{false};
};

}  // namespace spamguard::rules
