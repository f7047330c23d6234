// Client IP addresses: parsing IPv4 and IPv6 text into one comparable form.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace spamguard::comment {

struct IpAddress {
  bool v6 = false;
  // IPv4 uses bytes[0..3]; IPv6 all 16.
  std::array<uint8_t, 16> bytes{};
  // Canonical text: dotted quad, or RFC 5952 IPv6.
  std::string text;
};

// Parses `in` as an IPv4 or IPv6 address. Accepts surrounding whitespace,
// "[v6]" brackets, and an IPv6 zone id ("fe80::1%eth0", the zone dropped).
// IPv4-mapped IPv6 (::ffff:a.b.c.d) is folded to IPv4. IPv4 with leading
// zeros ("010.0.0.1") is refused: it is ambiguous (octal to some parsers).
bool ParseIp(std::string_view in, IpAddress* out);

}  // namespace spamguard::comment
