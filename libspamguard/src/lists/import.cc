#include "lists/import.h"

#include <cctype>

namespace spamguard::lists {
namespace {

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// The string value of "key" in a flat JSON object line, without a parser:
// the list files are machine-written and flat.
bool JsonString(std::string_view line, std::string_view key, std::string* out) {
  std::string quoted = "\"" + std::string(key) + "\"";
  size_t k = line.find(quoted);
  if (k == std::string_view::npos) return false;
  size_t i = k + quoted.size();
  while (i < line.size() && isspace(static_cast<unsigned char>(line[i]))) ++i;
  if (i >= line.size() || line[i] != ':') return false;
  ++i;
  while (i < line.size() && isspace(static_cast<unsigned char>(line[i]))) ++i;
  if (i >= line.size() || line[i] != '"') return false;
  size_t end = line.find('"', i + 1);
  if (end == std::string_view::npos) return false;
  out->assign(line.substr(i + 1, end - i - 1));
  return true;
}

bool ValidDomain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.find('.') == std::string_view::npos) return false;
  if (d.front() == '.' || d.back() == '.' || d.find("..") != std::string_view::npos) return false;
  for (char c : d)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || static_cast<unsigned char>(c) >= 0x80))
      return false;
  return true;
}

}  // namespace

LineKind ParseListLine(std::string_view raw, ListLine* out) {
  *out = ListLine();
  std::string_view line = Trim(raw);
  if (line.empty() || line[0] == '#' || line[0] == ';') return LineKind::kSkip;
  std::string token, reason;
  if (line[0] == '{') {
    std::string cidr;
    if (!JsonString(line, "cidr", &cidr)) {
      // Metadata objects ({"type":"metadata",...}) carry no entry.
      if (line.find("\"type\"") != std::string_view::npos) return LineKind::kSkip;
      out->error = "JSON line without a \"cidr\"";
      return LineKind::kMalformed;
    }
    token = cidr;
    JsonString(line, "sblid", &reason);
  } else {
    // "CIDR ; SBL123", "IP # comment", "\"ip\",\"count\",\"lastseen\"".
    size_t semi = line.find(';');
    if (semi != std::string_view::npos) {
      reason = std::string(Trim(line.substr(semi + 1)));
      line = Trim(line.substr(0, semi));
    }
    size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = Trim(line.substr(0, hash));
    if (line.empty()) return LineKind::kSkip;
    if (line[0] == '"') {
      size_t end = line.find('"', 1);
      if (end == std::string_view::npos) {
        out->error = "unterminated quote";
        return LineKind::kMalformed;
      }
      token = std::string(line.substr(1, end - 1));
      if (token == "ip") return LineKind::kSkip;  // a CSV header
    } else {
      size_t end = 0;
      while (end < line.size() && !isspace(static_cast<unsigned char>(line[end])) && line[end] != ',') ++end;
      token = std::string(line.substr(0, end));
      std::string_view rest = Trim(line.substr(end));
      if (!rest.empty() && rest[0] != ',') {
        out->error = "unexpected text after the address: '" + std::string(rest.substr(0, 30)) + "'";
        return LineKind::kMalformed;
      }
    }
  }
  if (!ParseRange(token, &out->range, &out->error)) {
    out->error = "'" + token.substr(0, 60) + "': " + out->error;
    return LineKind::kMalformed;
  }
  out->reason = reason.substr(0, 200);
  return LineKind::kEntry;
}

bool NormalizeEmail(std::string_view in, std::string* out) {
  std::string_view s = Trim(in);
  size_t at = s.find('@');
  if (at == 0 || at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) return false;
  std::string domain;
  if (!NormalizeDomain(s.substr(at + 1), &domain)) return false;
  out->clear();
  for (char c : s.substr(0, at)) {
    if (isspace(static_cast<unsigned char>(c)) || c == '\0') return false;
    out->push_back(char(tolower(static_cast<unsigned char>(c))));
  }
  *out += "@" + domain;
  return true;
}

bool NormalizeDomain(std::string_view in, std::string* out) {
  std::string_view s = Trim(in);
  if (s.substr(0, 2) == "*.") s.remove_prefix(2);
  else if (!s.empty() && s[0] == '.') s.remove_prefix(1);
  out->clear();
  for (char c : s) out->push_back(char(tolower(static_cast<unsigned char>(c))));
  return ValidDomain(*out);
}

bool UrlHost(std::string_view url, std::string* out) {
  std::string_view s = Trim(url);
  size_t scheme = s.find("://");
  if (scheme != std::string_view::npos) s.remove_prefix(scheme + 3);
  else if (s.substr(0, 2) == "//") s.remove_prefix(2);
  size_t end = 0;
  while (end < s.size() && s[end] != '/' && s[end] != '?' && s[end] != '#') ++end;
  std::string_view host = s.substr(0, end);
  size_t at = host.rfind('@');
  if (at != std::string_view::npos) host.remove_prefix(at + 1);
  size_t colon = host.find(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  return NormalizeDomain(host, out);
}

}  // namespace spamguard::lists
