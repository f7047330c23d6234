#include "record.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <ctime>
#include <nlohmann/json.hpp>

namespace sgcli {

namespace {

// Reads exactly `n` digits at s[*i].
bool Digits(const std::string& s, size_t* i, size_t n, int* out) {
  if (*i + n > s.size()) return false;
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

bool Leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysIn(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && Leap(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

// ISO 8601 date and time (RFC 3339's profile and the basic format): a date
// YYYY-MM-DD or YYYYMMDD; optionally 'T' (or a space) and hh:mm[:ss[.frac]]
// or hhmm[ss[.frac]]; then Z, +hh:mm, +hhmm or +hh. Dates are checked
// against the calendar (no February 30th); 24:00:00 is the next midnight; a
// leap second :60 counts as the next second's start.
bool ParseTime(const std::string& s, int64_t* out) {
  size_t i = 0;
  int Y, M, D, h = 0, m = 0, sec = 0;
  if (!Digits(s, &i, 4, &Y)) return false;
  bool extended = i < s.size() && s[i] == '-';
  if (extended) ++i;
  if (!Digits(s, &i, 2, &M)) return false;
  if (extended && (i >= s.size() || s[i++] != '-')) return false;
  if (!Digits(s, &i, 2, &D)) return false;
  if (M < 1 || M > 12 || D < 1 || D > DaysIn(Y, M)) return false;
  int64_t offset = 0;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
    ++i;
    if (!Digits(s, &i, 2, &h)) return false;
    if (extended && (i >= s.size() || s[i++] != ':')) return false;
    if (!Digits(s, &i, 2, &m)) return false;
    bool has_sec = extended ? i < s.size() && s[i] == ':' : i < s.size() && s[i] >= '0' && s[i] <= '9';
    if (has_sec) {
      if (extended) ++i;
      if (!Digits(s, &i, 2, &sec)) return false;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        size_t frac = ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == frac) return false;
      }
    }
    if (m > 59 || sec > 60 || h > 24 || (h == 24 && (m != 0 || sec != 0))) return false;
    if (i < s.size()) {
      if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i++] == '+' ? 1 : -1, oh = 0, om = 0;
        if (!Digits(s, &i, 2, &oh)) return false;
        if (i < s.size()) {
          if (s[i] == ':') ++i;
          if (!Digits(s, &i, 2, &om)) return false;
        }
        if (oh > 23 || om > 59) return false;
        offset = sign * (oh * 3600 + om * 60);
      } else {
        return false;
      }
    }
  }
  if (i != s.size()) return false;
  *out = DaysFromCivil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec - offset;
  return true;
}

int KindOf(const std::string& s) {
  std::string k;
  for (char c : s) k.push_back(char(tolower(static_cast<unsigned char>(c))));
  if (k == "trackback") return SG_KIND_TRACKBACK;
  if (k == "pingback") return SG_KIND_PINGBACK;
  if (k.empty() || k == "comment") return SG_KIND_COMMENT;
  return 0;
}

int ToComment(const Record& r, sg_comment* c) {
  sg_comment_reset(c);
  int kind = KindOf(r.kind);
  int rc = sg_comment_set_kind(c, kind == 0 ? SG_KIND_COMMENT : kind);
  const struct {
    int field;
    const std::string* value;
  } fields[] = {
      {SG_FIELD_ID, &r.id},           {SG_FIELD_AUTHOR, &r.author},       {SG_FIELD_EMAIL, &r.email},
      {SG_FIELD_URL, &r.url},         {SG_FIELD_IP, &r.ip},               {SG_FIELD_USER_AGENT, &r.user_agent},
      {SG_FIELD_REFERRER, &r.referrer}, {SG_FIELD_BODY, &r.body},         {SG_FIELD_POST_ID, &r.post_id},
      {SG_FIELD_PERMALINK, &r.permalink}, {SG_FIELD_BLOG_NAME, &r.blog_name}, {SG_FIELD_TITLE, &r.title},
      {SG_FIELD_EXCERPT, &r.excerpt}, {SG_FIELD_SOURCE_URL, &r.source_url},
      {SG_FIELD_FORWARDED_FOR, &r.forwarded_for}, {SG_FIELD_HONEYPOT, &r.honeypot},
  };
  for (const auto& f : fields) {
    if (rc < 0) return rc;
    if (!f.value->empty()) rc = sg_comment_set_field(c, f.field, f.value->data(), f.value->size());
  }
  if (rc >= 0 && r.has_form_token) rc = sg_comment_set_field(c, SG_FIELD_FORM_TOKEN, r.form_token.data(), r.form_token.size());
  if (rc < 0) return rc;
  return sg_comment_set_time(c, r.time);
}

namespace {

// The record's string field for a JSON key, or null for keys not read.
std::string* FieldFor(Record* r, std::string_view key, std::string* kind_alias) {
  static const struct {
    const char* key;
    std::string Record::*field;
  } kFields[] = {
      {"id", &Record::id},           {"type", &Record::kind},           {"author", &Record::author},
      {"email", &Record::email},     {"url", &Record::url},             {"ip", &Record::ip},
      {"user_agent", &Record::user_agent}, {"referrer", &Record::referrer}, {"body", &Record::body},
      {"post_id", &Record::post_id}, {"permalink", &Record::permalink}, {"blog_name", &Record::blog_name},
      {"title", &Record::title},     {"excerpt", &Record::excerpt},     {"source_url", &Record::source_url},
      {"created", &Record::created}, {"label", &Record::label},     {"forwarded_for", &Record::forwarded_for},
      {"honeypot", &Record::honeypot},
  };
  if (key == "form_token") {
    r->has_form_token = true;
    return &r->form_token;
  }
  for (const auto& f : kFields)
    if (key == f.key) return &(r->*f.field);
  if (key == "kind") return kind_alias;
  return nullptr;
}

// Checks what both parsers agree on after the fields are in.
bool FinishRecord(Record* out, const std::string& kind_alias, std::string* error) {
  if (out->kind.empty()) out->kind = kind_alias;
  if (KindOf(out->kind) == 0) {
    *error = "unknown type '" + out->kind + "' (comment, trackback or pingback)";
    return false;
  }
  if (!out->created.empty() && !ParseTime(out->created, &out->time)) {
    *error = "created: not an ISO 8601 time: '" + out->created + "'";
    return false;
  }
  if (out->time < 0) {
    *error = "created: before 1970-01-01: '" + out->created + "'";
    return false;
  }
  return true;
}

size_t Utf8Length(const unsigned char* p, const unsigned char* end) {
  // Length of the valid UTF-8 sequence at p, 0 when invalid (RFC 3629).
  unsigned c = p[0];
  size_t n = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
  if (n == 0 || size_t(end - p) < n) return 0;
  for (size_t i = 1; i < n; ++i)
    if ((p[i] & 0xC0) != 0x80) return 0;
  if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
  if (c == 0xED && p[1] > 0x9F) return 0;  // surrogate
  if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
  if (c == 0xF4 && p[1] > 0x8F) return 0;  // above U+10FFFF
  return n;
}

int Hex4(const char* p) {
  int v = 0;
  for (int i = 0; i < 4; ++i) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1;
  }
  return v;
}

// The common shape, a flat object whose values are strings or null, read in
// one pass. Returns false for anything else (numbers, nested values,
// surrogate escapes, any error); the caller then uses the full parser, which
// decides and words the error. So this accepts a subset of what the full
// parser accepts, with the same result (checked by fuzz_jsonl).
bool FastFlatObject(const std::string& line, Record* out, std::string* kind_alias) {
  const char* p = line.data();
  const char* end = p + line.size();
  auto ws = [&] {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  };
  // Reads a string at p (after its opening quote) into dst (may be null).
  auto str = [&](std::string* dst) -> bool {
    if (dst) dst->clear();
    for (;;) {
      const char* run = p;
      while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20 &&
             static_cast<unsigned char>(*p) < 0x80)
        ++p;
      if (dst) dst->append(run, size_t(p - run));
      if (p >= end) return false;
      unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"') {
        ++p;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        size_t n = Utf8Length(reinterpret_cast<const unsigned char*>(p), reinterpret_cast<const unsigned char*>(end));
        if (n == 0) return false;
        if (dst) dst->append(p, n);
        p += n;
        continue;
      }
      // A backslash escape.
      if (end - p < 2) return false;
      char e = p[1];
      p += 2;
      char lit = e == '"' ? '"' : e == '\\' ? '\\' : e == '/' ? '/' : e == 'b' ? '\b' : e == 'f' ? '\f'
               : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : 0;
      if (lit) {
        if (dst) dst->push_back(lit);
        continue;
      }
      if (e != 'u' || end - p < 4) return false;
      int u = Hex4(p);
      if (u < 0 || (u >= 0xD800 && u <= 0xDFFF)) return false;  // surrogates: the full parser
      p += 4;
      if (!dst) continue;
      if (u < 0x80) {
        dst->push_back(char(u));
      } else if (u < 0x800) {
        dst->push_back(char(0xC0 | (u >> 6)));
        dst->push_back(char(0x80 | (u & 0x3F)));
      } else {
        dst->push_back(char(0xE0 | (u >> 12)));
        dst->push_back(char(0x80 | ((u >> 6) & 0x3F)));
        dst->push_back(char(0x80 | (u & 0x3F)));
      }
    }
  };
  ws();
  if (p >= end || *p++ != '{') return false;
  ws();
  std::string key;
  if (p < end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      if (p >= end || *p++ != '"' || !str(&key)) return false;
      ws();
      if (p >= end || *p++ != ':') return false;
      ws();
      std::string* dst = FieldFor(out, key, kind_alias);
      if (p < end && *p == '"') {
        ++p;
        if (!str(dst)) return false;
      } else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
        p += 4;
        if (dst) dst->clear();
      } else {
        return false;
      }
      ws();
      if (p < end && *p == ',') {
        ++p;
        ws();
        continue;
      }
      if (p < end && *p == '}') {
        ++p;
        break;
      }
      return false;
    }
  }
  ws();
  return p == end;
}

// How deep arrays and objects nest in a JSON text (strings skipped), read
// in one pass with no recursion; stops counting past `limit`.
int JsonDepth(const std::string& s, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

constexpr int kMaxJsonDepth = 32;

}  // namespace

bool ParseJsonRecordFull(const std::string& line, Record* out, std::string* error) {
  // A record is a flat object; a value may be an array or object (kept as
  // its JSON text), but nesting is bounded: the JSON library writes values
  // back by recursion, and a line of 100,000 '[' would overflow the stack.
  if (JsonDepth(line, kMaxJsonDepth) > kMaxJsonDepth) {
    *error = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return false;
  }
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *error = "not valid JSON";
    for (const char* p = line.data(), *end = p + line.size(); p < end;) {
      if (static_cast<unsigned char>(*p) < 0x80) {
        ++p;
        continue;
      }
      size_t n = Utf8Length(reinterpret_cast<const unsigned char*>(p), reinterpret_cast<const unsigned char*>(end));
      if (n == 0) {
        *error = "not valid JSON: invalid UTF-8 at byte " + std::to_string(p - line.data() + 1) +
                 " (is the dump in another encoding? convert it to UTF-8, e.g. iconv -f LATIN1 -t UTF-8)";
        break;
      }
      p += n;
    }
    return false;
  }
  if (!j.is_object()) {
    *error = "not a JSON object";
    return false;
  }
  *out = Record();
  std::string kind_alias;
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string* dst = FieldFor(out, it.key(), &kind_alias);
    if (dst == nullptr) continue;
    if (it->is_null()) dst->clear();
    else if (it->is_string()) *dst = it->get<std::string>();
    else *dst = it->dump();
  }
  return FinishRecord(out, kind_alias, error);
}

bool ParseJsonRecord(const std::string& line, Record* out, std::string* error) {
  *out = Record();
  std::string kind_alias;
  if (FastFlatObject(line, out, &kind_alias)) return FinishRecord(out, kind_alias, error);
  return ParseJsonRecordFull(line, out, error);
}

}  // namespace sgcli
