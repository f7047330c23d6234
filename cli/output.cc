#include "output.h"

#include <ctime>

namespace sgcli {

std::string Printable(const char* s, size_t len, size_t max) {
  std::string out;
  for (size_t i = 0; i < len && out.size() < max; ++i) {
    unsigned char c = s[i];
    if (c == '\n' || c == '\r' || c == '\t') out.push_back(' ');
    else if (c < 0x20 || c == 0x7F) out += "?";
    else out.push_back(char(c));
  }
  if (len > max) out += "...";
  return out;
}

std::string SkipMessage(const std::string& where, const std::string& why) {
  return "spamguard: " + Printable(where.data(), where.size(), 300) + ": skipped: " +
         Printable(why.data(), why.size(), 300) + "\n";
}

std::string Fmt(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
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
    snprintf(line, sizeof line, "    %+6.2f  %-24s %-8s ", sg_result_hit_points(r, i), sg_result_hit_name(r, i),
             sg_result_hit_field(r, i));
    out += line;
    out += sg_result_hit_description(r, i);
    out += "  [" + Printable(m, len, 80) + "]\n";
  }
  return out;
}

std::string HitList(const sg_result* r) {
  std::string out;
  for (size_t i = 0; i < sg_result_hit_count(r); ++i) {
    char pts[32];
    snprintf(pts, sizeof pts, "(%+.2f)", sg_result_hit_points(r, i));
    if (!out.empty()) out += ' ';
    out += sg_result_hit_name(r, i);
    out += pts;
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
