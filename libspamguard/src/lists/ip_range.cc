#include "lists/ip_range.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

namespace spamguard::lists {
namespace {

void MaskFrom(IpRange* r) {
  size_t w = r->Width();
  for (size_t i = 0; i < w; ++i) {
    int bits = r->plen - int(i) * 8;
    uint8_t mask = bits >= 8 ? 0xFF : bits <= 0 ? 0x00 : uint8_t(0xFF << (8 - bits));
    r->hi[i] = uint8_t(r->lo[i] | ~mask);
    r->lo[i] = uint8_t(r->lo[i] & mask);
  }
}

}  // namespace

std::string IpRange::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(fam == 4 ? AF_INET : AF_INET6, lo.data(), buf, sizeof buf);
  std::string s(buf);
  if (plen != (fam == 4 ? 32 : 128)) s += "/" + std::to_string(plen);
  return s;
}

bool ParseRange(std::string_view text, IpRange* out, std::string* error) {
  size_t slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  if (addr.empty() || addr.size() > 45) {
    *error = "not an IP address or CIDR";
    return false;
  }
  if (addr.find('%') != std::string_view::npos) {
    *error = "zone ids (%...) have no meaning in a list";
    return false;
  }
  char buf[64];
  memcpy(buf, addr.data(), addr.size());
  buf[addr.size()] = '\0';
  IpRange r;
  if (inet_pton(AF_INET, buf, r.lo.data()) == 1) {
    r.fam = 4;
    r.plen = 32;
  } else if (inet_pton(AF_INET6, buf, r.lo.data()) == 1) {
    r.fam = 6;
    r.plen = 128;
  } else {
    bool dotted = addr.find(':') == std::string_view::npos && addr.find('.') != std::string_view::npos;
    bool leading_zero = false;
    for (size_t i = 0; i + 1 < addr.size(); ++i)
      leading_zero |= addr[i] == '0' && (i == 0 || addr[i - 1] == '.') && isdigit(static_cast<unsigned char>(addr[i + 1]));
    *error = !dotted ? "not an IP address or CIDR"
             : leading_zero ? "not an IPv4 address (leading zeros are refused as ambiguous)"
                            : "not an IPv4 address";
    return false;
  }
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    int n = 0;
    if (len.empty() || len.size() > 3) n = -1;
    for (char c : len) {
      if (c < '0' || c > '9' || n < 0) {
        n = -1;
        break;
      }
      n = n * 10 + (c - '0');
    }
    int max = r.fam == 4 ? 32 : 128;
    if (n < 0 || n > max) {
      *error = "prefix length must be 0 to " + std::to_string(max);
      return false;
    }
    r.plen = n;
  }
  IpRange masked = r;
  MaskFrom(&masked);
  if (memcmp(masked.lo.data(), r.lo.data(), r.Width()) != 0) {
    *error = "host bits set; the network is " + masked.ToString();
    return false;
  }
  *out = masked;
  return true;
}

IpRange FromAddress(const comment::IpAddress& ip) { return Network(ip, ip.v6 ? 128 : 32); }

IpRange Network(const comment::IpAddress& ip, int plen) {
  IpRange r;
  r.fam = ip.v6 ? 6 : 4;
  r.lo = ip.bytes;
  if (!ip.v6) std::fill(r.lo.begin() + 4, r.lo.end(), 0);
  r.plen = plen;
  MaskFrom(&r);
  return r;
}

bool Increment(uint8_t* a, size_t width) {
  for (size_t i = width; i-- > 0;)
    if (++a[i] != 0) return true;
  return false;
}

bool Decrement(uint8_t* a, size_t width) {
  for (size_t i = width; i-- > 0;)
    if (a[i]-- != 0) return true;
  return false;
}

}  // namespace spamguard::lists
