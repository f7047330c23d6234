// Numbers in text, independent of the process's locale: a host that calls
// setlocale (PHP applications do, Perl may) must not turn "5.0" into a parse
// error or 6.5 into "6,5" in a verdict. std::from_chars and std::to_chars
// never look at the locale.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

namespace spamguard {

// A decimal number ("5", "-1.25", "+0.5", "1e3"); false for anything else,
// including trailing text, hexadecimal, inf and nan, and overflow.
inline bool ParseDouble(std::string_view s, double* out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s[0] == '+' || s[0] == ' ') return false;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// `v` with `decimals` digits after the point ("%.*f" in the C locale), with a
// leading '+' for positive numbers when `sign` is set ("%+.*f"). Any finite
// double fits; a non-finite one prints as "0".
inline std::string FormatFixed(double v, int decimals, bool sign = false) {
  if (!std::isfinite(v)) v = 0;
  char buf[400];  // DBL_MAX in fixed notation is 309 digits
  char* p = buf;
  if (sign && !std::signbit(v)) *p++ = '+';
  auto [end, ec] = std::to_chars(p, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (ec != std::errc()) return "0";
  return std::string(buf, end);
}

// The shortest text that reads back as `v` ("30", "0.5", "1e+300").
inline std::string FormatShortest(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "0";
  return std::string(buf, end);
}

}  // namespace spamguard
