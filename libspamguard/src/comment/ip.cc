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

}  // namespace spamguard::comment
