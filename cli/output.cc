#include "output.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace sgcli {

size_t Utf8At(const unsigned char* s, size_t len, size_t i, uint32_t* cp) {
  unsigned c = s[i];
  size_t n = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
  if (n == 0 || len - i < n) return 0;
  uint32_t v = c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    if ((s[i + k] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (s[i + k] & 0x3F);
  }
  if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

bool IsBidiControl(uint32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

namespace {

// Characters a terminal acts on or that reorder the line: C1 controls
// (U+009B is CSI on many terminals) and the bidirectional controls.
bool Unsafe(uint32_t cp) { return (cp >= 0x80 && cp <= 0x9F) || IsBidiControl(cp); }

}  // namespace

std::string Printable(const char* s, size_t len, size_t max) {
  std::string out;
  const auto* u = reinterpret_cast<const unsigned char*>(s);
  size_t i = 0;
  while (i < len && out.size() < max) {
    unsigned char c = u[i];
    if (c < 0x80) {
      if (c == '\n' || c == '\r' || c == '\t') out.push_back(' ');
      else if (c < 0x20 || c == 0x7F) out += "?";
      else out.push_back(char(c));
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t n = Utf8At(u, len, i, &cp);
    if (n == 0 || Unsafe(cp)) {
      out += "?";  // a stray byte (a raw 0x9B is CSI too) or a control
      i += n == 0 ? 1 : n;
      continue;
    }
    out.append(s + i, n);
    i += n;
  }
  if (i < len) out += "...";
  return out;
}

std::string Shown(const char* s) { return Printable(s, strlen(s), 4000); }

std::string SkipMessage(const std::string& where, const std::string& why) {
  return "spamguard: " + Printable(where.data(), where.size(), 300) + ": skipped: " +
         Printable(why.data(), why.size(), 300) + "\n";
}

std::string Fmt(double v) { return FixedNumber(v, 2); }

std::string FixedNumber(double v, int decimals, bool sign) {
  if (!std::isfinite(v)) v = 0;
  char buf[400];  // DBL_MAX in fixed notation is 309 digits
  char* p = buf;
  if (sign && !std::signbit(v)) *p++ = '+';
  auto [end, ec] = std::to_chars(p, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  return ec == std::errc() ? std::string(buf, end) : std::string("0");
}

std::string RatioText(size_t part, size_t whole) {
  return whole ? FixedNumber(double(part) / double(whole), 3) : "n/a";
}

std::string PercentText(size_t part, size_t whole) {
  return whole ? FixedNumber(100.0 * double(part) / double(whole), 2) + " %" : "n/a";
}

std::string JsonQuote(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o.push_back('\\');
      o.push_back(char(c));
    } else if (c < 0x20 || c == 0x7F) {
      char b[8];
      snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o.push_back(char(c));
    }
  }
  return o + "\"";
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o.push_back('"');
    o.push_back(c);
  }
  return o + "\"";
}

std::string ResultJson(const sg_result* r) {
  char* json = nullptr;
  size_t len = 0;
  if (sg_result_to_json(&json, &len, r) < 0) return "{}";
  std::string s(json, len);
  sg_free(json);
  return s;
}

std::string VerdictText(const std::string& id, const sg_result* r) {
  std::string out = Printable(id.data(), id.size(), 200) + "  " + sg_action_str(sg_result_action(r)) + "  score " +
                    Fmt(sg_result_score(r));
  if (sg_result_action(r) == SG_ACTION_THROTTLE) out += "  retry after " + std::to_string(sg_result_retry_after(r)) + " s";
  out += "\n";
  for (size_t i = 0; i < sg_result_hit_count(r); ++i) {
    size_t len = 0;
    const char* m = sg_result_hit_match(r, i, &len);
    char line[256];
    std::string pts = FixedNumber(sg_result_hit_points(r, i), 2, true);
    snprintf(line, sizeof line, "    %6s  %-24s %-8s ", pts.size() <= 12 ? pts.c_str() : "(huge)", sg_result_hit_name(r, i),
             sg_result_hit_field(r, i));
    out += line;
    const char* d = sg_result_hit_description(r, i);
    out += Printable(d, strlen(d), 200);  // from the rule file
    out += "  [" + Printable(m, len, 80) + "]\n";
  }
  return out;
}

std::string HitList(const sg_result* r) {
  std::string out;
  for (size_t i = 0; i < sg_result_hit_count(r); ++i) {
    if (!out.empty()) out += ' ';
    out += sg_result_hit_name(r, i);
    out += "(" + FixedNumber(sg_result_hit_points(r, i), 2, true) + ")";
  }
  return out;
}

std::string FormatTime(int64_t t) {
  if (t == 0) return "never";
  time_t tt = time_t(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace sgcli
