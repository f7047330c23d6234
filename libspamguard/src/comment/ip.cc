#include "comment/ip.h"

#include <arpa/inet.h>

#include <cstring>

namespace spamguard::comment {

bool ParseIp(std::string_view in, IpAddress* out) {
  size_t b = 0, e = in.size();
  while (b < e && (in[b] == ' ' || in[b] == '\t' || in[b] == '\r' || in[b] == '\n')) ++b;
  while (e > b && (in[e - 1] == ' ' || in[e - 1] == '\t' || in[e - 1] == '\r' || in[e - 1] == '\n')) --e;
  std::string_view s = in.substr(b, e - b);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > 64 || s.find('\0') != std::string_view::npos) return false;
  char buf[65];
  memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  *out = IpAddress();
  if (inet_pton(AF_INET, buf, out->bytes.data()) == 1) {
    out->v6 = false;
  } else {
    char* pct = strchr(buf, '%');
    if (pct != nullptr) {
      // A zone id must name something and only follows an IPv6 address.
      if (pct[1] == '\0' || strchr(buf, ':') == nullptr) return false;
      *pct = '\0';
    }
    if (inet_pton(AF_INET6, buf, out->bytes.data()) != 1) return false;
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out->bytes.data(), kMapped, 12) == 0) {
      memmove(out->bytes.data(), out->bytes.data() + 12, 4);
      memset(out->bytes.data() + 4, 0, 12);
      out->v6 = false;
    } else {
      out->v6 = true;
    }
  }
  char text[INET6_ADDRSTRLEN];
  inet_ntop(out->v6 ? AF_INET6 : AF_INET, out->bytes.data(), text, sizeof text);
  out->text = text;
  return true;
}

bool InBlocks(const IpAddress& ip, const std::vector<AddressBlock>& blocks) {
  const size_t width = ip.v6 ? 16 : 4;
  for (const auto& b : blocks) {
    if (b.v6 != ip.v6) continue;
    if (memcmp(ip.bytes.data(), b.lo.data(), width) >= 0 && memcmp(ip.bytes.data(), b.hi.data(), width) <= 0)
      return true;
  }
  return false;
}

namespace {

// One X-Forwarded-For entry without its port: "198.51.100.7:4711" ->
// "198.51.100.7", "[2001:db8::7]:443" -> "2001:db8::7"; a bare IPv6 address
// keeps its colons.
std::string_view WithoutPort(std::string_view e) {
  if (!e.empty() && e.front() == '[') {
    size_t close = e.find(']');
    return close == std::string_view::npos ? e : e.substr(1, close - 1);
  }
  size_t colon = e.find(':');
  if (colon != std::string_view::npos && e.find(':', colon + 1) == std::string_view::npos) return e.substr(0, colon);
  return e;
}

}  // namespace

bool ResolveClient(const IpAddress& peer, std::string_view forwarded, const std::vector<AddressBlock>& trusted,
                   IpAddress* client, bool* via_proxy) {
  *via_proxy = false;
  if (trusted.empty() || !InBlocks(peer, trusted)) {
    *client = peer;
    return true;
  }
  // Right to left: each proxy appended the address it saw.
  size_t end = forwarded.size();
  int walked = 0;
  while (end > 0 && walked < 64) {  // a longer chain than 64 proxies is not a chain
    size_t comma = forwarded.rfind(',', end - 1);
    size_t start = comma == std::string_view::npos ? 0 : comma + 1;
    std::string_view entry = forwarded.substr(start, end - start);
    end = comma == std::string_view::npos ? 0 : comma;
    size_t b = entry.find_first_not_of(" \t");
    if (b == std::string_view::npos) continue;  // "a,,b": an empty entry
    entry = entry.substr(b, entry.find_last_not_of(" \t") - b + 1);
    ++walked;
    IpAddress addr;
    if (!ParseIp(WithoutPort(entry), &addr)) return false;
    *client = addr;
    *via_proxy = true;
    if (!InBlocks(addr, trusted)) return true;
  }
  if (!*via_proxy) *client = peer;  // no chain: the proxy itself sent it
  return true;
}

}  // namespace spamguard::comment
