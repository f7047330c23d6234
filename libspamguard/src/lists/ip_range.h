// Address ranges for allow/block lists: a single IP or a CIDR block, IPv4 or
// IPv6, as [lo, hi] in network byte order (4 bytes for IPv4, 16 for IPv6).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "comment/ip.h"

namespace spamguard::lists {

struct IpRange {
  int fam = 4;  // 4 or 6
  std::array<uint8_t, 16> lo{}, hi{};
  int plen = 32;  // prefix length
  size_t Width() const { return fam == 4 ? 4 : 16; }
  std::string_view Lo() const { return {reinterpret_cast<const char*>(lo.data()), Width()}; }
  std::string_view Hi() const { return {reinterpret_cast<const char*>(hi.data()), Width()}; }
  std::string ToString() const;  // "203.0.113.0/24", "2001:db8::/32", "192.0.2.1"
};

// Parses "a.b.c.d", "a.b.c.d/n", "v6", "v6/n". Refuses, with a reason:
// malformed addresses, IPv4 with leading zeros, zone ids, prefix lengths out
// of range, and CIDRs with host bits set (the reason names the network).
bool ParseRange(std::string_view text, IpRange* out, std::string* error);

// The range holding exactly one client address.
IpRange FromAddress(const comment::IpAddress& ip);

// The network of `ip` with prefix length `plen` (e.g. the /24 of an IPv4).
IpRange Network(const comment::IpAddress& ip, int plen);

// Byte-string arithmetic on addresses of `width` bytes; false on wrap.
bool Increment(uint8_t* a, size_t width);
bool Decrement(uint8_t* a, size_t width);

}  // namespace spamguard::lists
