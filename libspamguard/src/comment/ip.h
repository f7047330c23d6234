// Client IP addresses: parsing IPv4 and IPv6 text into one comparable form.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spamguard::comment {

struct IpAddress {
  bool v6 = false;
  // IPv4 uses bytes[0..3]; IPv6 all 16.
  std::array<uint8_t, 16> bytes{};
  // Canonical text: dotted quad, or RFC 5952 IPv6.
  std::string text;
};

// A block of addresses, [lo, hi] in the bytes of IpAddress.
struct AddressBlock {
  bool v6 = false;
  std::array<uint8_t, 16> lo{}, hi{};
};

// True when `ip` lies in one of `blocks`.
bool InBlocks(const IpAddress& ip, const std::vector<AddressBlock>& blocks);

// The client behind a chain of proxies: `peer` is the address the web server
// saw, `forwarded` an X-Forwarded-For value ("a, b, c"). When the peer is in
// `trusted`, the chain is walked from the right: trusted proxies are
// skipped, and the first address that is not one is the client (entries may
// carry a port, "198.51.100.7:4711" or "[2001:db8::7]:443"). An entry that
// does not parse stops the walk: the client is unknown (false, *client
// unchanged). When the peer is not trusted, or the chain is empty, the peer
// is the client. Sets *via_proxy when the client came from the chain.
bool ResolveClient(const IpAddress& peer, std::string_view forwarded, const std::vector<AddressBlock>& trusted,
                   IpAddress* client, bool* via_proxy);

// Parses `in` as an IPv4 or IPv6 address. Accepts surrounding whitespace,
// "[v6]" brackets, and an IPv6 zone id ("fe80::1%eth0", the zone dropped).
// IPv4-mapped IPv6 (::ffff:a.b.c.d) is folded to IPv4. IPv4 with leading
// zeros ("010.0.0.1") is refused: it is ambiguous (octal to some parsers).
bool ParseIp(std::string_view in, IpAddress* out);

}  // namespace spamguard::comment
