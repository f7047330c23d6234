// SHA-256 (FIPS 180-4), HMAC-SHA-256 (RFC 2104), SHA-1 (for naming a Redis
// script, as the server does), a comparison that takes the same time
// whatever the bytes, and random bytes from the kernel.
//
// The library needs only these few, and only for form tokens and the Redis
// store; linking a whole cryptographic library for them cost every process
// about a thousand relocations' worth of pages before it scored anything
// (see bench/cgi_bench.sh). Checked against the standards' vectors in
// tests/unit/util/digest_test.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace spamguard {

class Sha256 {
 public:
  static constexpr size_t kSize = 32;
  Sha256();
  void Update(const void* data, size_t n);
  std::array<uint8_t, kSize> Final();

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

std::array<uint8_t, Sha256::kSize> HmacSha256(std::string_view key, const void* data, size_t n);

// Lower-case hex of the SHA-1 of text.
std::string Sha1Hex(std::string_view text);

// Whether a and b (n bytes each) are equal, in time that depends on n only.
bool ConstantTimeEqual(const void* a, const void* b, size_t n);

// n bytes from the kernel's generator (getrandom); false if it failed.
bool KernelRandom(void* out, size_t n);

}  // namespace spamguard
