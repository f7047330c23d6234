#include "comment/text.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <utility>

#include "comment/domains.h"

namespace spamguard::comment {
namespace {

inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
inline bool IsAlpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
inline bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool StartsWithNoCase(std::string_view s, size_t pos, std::string_view prefix) {
  if (pos > s.size() || s.size() - pos < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (Lower(s[pos + i]) != prefix[i]) return false;
  return true;
}

// Length in bytes of a Unicode whitespace character at s[i], 0 if none.
// A byte-order mark (U+FEFF) counts as space too: it is invisible and only
// ever separates text.
size_t SpaceLen(std::string_view s, size_t i) {
  unsigned char c = s[i];
  if (IsAsciiSpace(char(c))) return 1;
  if (c == 0xC2 && i + 1 < s.size()) {
    unsigned char d = s[i + 1];
    if (d == 0xA0 || d == 0x85) return 2;  // NBSP, NEL
  } else if (c == 0xE2 && i + 2 < s.size()) {
    unsigned char d = s[i + 1], e = s[i + 2];
    if (d == 0x80 && ((e >= 0x80 && e <= 0x8A) || e == 0xA8 || e == 0xA9 || e == 0xAF)) return 3;
    if (d == 0x81 && e == 0x9F) return 3;
  } else if (c == 0xE3 && i + 2 < s.size()) {
    if ((unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0x80) return 3;
  } else if (c == 0xEF && i + 2 < s.size()) {
    if ((unsigned char)s[i + 1] == 0xBB && (unsigned char)s[i + 2] == 0xBF) return 3;
  }
  return 0;
}

// The name is held in the entry, not pointed to: a table of 2,238
// pointers would be as many relocations, and 13 copied pages, in every
// process that loads the library (the longest name has 31 characters).
struct HtmlEntity {
  char name[32];     // without the ';'
  bool semicolon;    // written with ';' (false: a legacy name browsers take without it)
  uint32_t cp, cp2;  // cp2: a second code point, or 0
};

#include "comment/html_entities.inc"

// The entries named `name` (with and without ';'), or an empty range.
std::pair<const HtmlEntity*, const HtmlEntity*> FindEntity(std::string_view name) {
  auto less = [](const HtmlEntity& e, std::string_view n) { return std::string_view(e.name) < n; };
  const HtmlEntity* b = std::lower_bound(std::begin(kHtmlEntities), std::end(kHtmlEntities), name, less);
  const HtmlEntity* e = b;
  while (e != std::end(kHtmlEntities) && e->name == name) ++e;
  return {b, e};
}

constexpr size_t kLongestEntityName = 32;  // "CounterClockwiseContourIntegral;"
constexpr size_t kLongestLegacyName = 6;   // the longest name taken without ';' ("middot")

void AppendEntity(const HtmlEntity& e, std::string* out) {
  AppendUtf8(e.cp, out);
  if (e.cp2) AppendUtf8(e.cp2, out);
}

// Tries to decode one character reference at s[i] == '&' as the HTML5
// parser does in text. On success appends the character(s), sets *used to
// the bytes consumed, returns true. Linear in the bytes it reads.
bool DecodeOne(std::string_view s, size_t i, std::string* out, size_t* used) {
  size_t j = i + 1;
  if (j >= s.size()) return false;
  if (s[j] == '#') {
    ++j;
    bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
    if (hex) ++j;
    size_t start = j;
    uint32_t v = 0;  // saturates just over the last code point: any number of digits
    while (j < s.size()) {
      char c = s[j];
      uint32_t d;
      if (IsDigit(c)) d = uint32_t(c - '0');
      else if (hex && (Lower(c) >= 'a' && Lower(c) <= 'f')) d = uint32_t(Lower(c) - 'a' + 10);
      else break;
      v = std::min<uint32_t>(v * (hex ? 16 : 10) + d, 0x110000);
      ++j;
    }
    if (j == start) return false;
    if (j < s.size() && s[j] == ';') ++j;
    if (v >= 0x80 && v <= 0x9F) v = kHtmlC1Remap[v - 0x80];
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) v = 0xFFFD;
    AppendUtf8(v, out);
    *used = j - i;
    return true;
  }
  size_t start = j;
  while (j < s.size() && j - start < kLongestEntityName && IsAlnum(s[j])) ++j;
  if (j == start) return false;
  // "&name;" for any name of the table.
  if (j < s.size() && s[j] == ';') {
    auto [b, e] = FindEntity(s.substr(start, j - start));
    for (const HtmlEntity* p = b; p != e; ++p) {
      if (p->semicolon) {
        AppendEntity(*p, out);
        *used = j + 1 - i;
        return true;
      }
    }
  }
  // Without ';': the longest legacy name that starts the run ("&copy2020").
  for (size_t k = std::min(j, start + kLongestLegacyName); k > start; --k) {
    auto [b, e] = FindEntity(s.substr(start, k - start));
    for (const HtmlEntity* p = b; p != e; ++p) {
      if (!p->semicolon) {
        AppendEntity(*p, out);
        *used = k - i;
        return true;
      }
    }
  }
  return false;
}

constexpr const char* kInlineTags[] = {"a",    "b",   "i",    "u",      "em",  "strong", "span",
                                       "font", "small", "big", "sup",   "sub", "s",      "strike",
                                       "tt",   "abbr", "acronym", "cite", "code", "del", "ins",
                                       "mark", "q",   "kbd",  "var",    "wbr"};

bool IsInlineTag(std::string_view name) {
  for (const char* t : kInlineTags)
    if (name == t) return true;
  return false;
}

// Value of attribute `attr` inside the tag text (between '<' and '>').
bool TagAttribute(std::string_view tag, std::string_view attr, std::string_view* value) {
  size_t i = 0;
  while (i < tag.size()) {
    // Attributes start after whitespace.
    if (!IsAsciiSpace(tag[i]) && tag[i] != '/') { ++i; continue; }
    while (i < tag.size() && (IsAsciiSpace(tag[i]) || tag[i] == '/')) ++i;
    if (!StartsWithNoCase(tag, i, attr)) continue;
    size_t j = i + attr.size();
    while (j < tag.size() && IsAsciiSpace(tag[j])) ++j;
    if (j >= tag.size() || tag[j] != '=') continue;
    ++j;
    while (j < tag.size() && IsAsciiSpace(tag[j])) ++j;
    if (j >= tag.size()) return false;
    char q = tag[j];
    if (q == '"' || q == '\'') {
      size_t end = tag.find(q, j + 1);
      if (end == std::string_view::npos) end = tag.size();
      *value = tag.substr(j + 1, end - j - 1);
    } else {
      size_t end = j;
      while (end < tag.size() && !IsAsciiSpace(tag[end])) ++end;
      *value = tag.substr(j, end - j);
    }
    return true;
  }
  return false;
}

constexpr const char* kBBTags[] = {"url", "link", "img", "b", "i", "u", "s", "quote", "code",
                                   "color", "size", "font", "center", "left", "right", "list",
                                   "*", "email"};

bool IsBBTag(std::string_view name) {
  for (const char* t : kBBTags)
    if (name == t) return true;
  return false;
}

constexpr size_t kMaxTagBytes = 4096;
constexpr size_t kMaxBBTagBytes = 1024;

}  // namespace

bool CapBytes(std::string_view in, size_t cap, std::string_view* out) {
  if (in.size() <= cap) {
    *out = in;
    return false;
  }
  size_t n = cap;
  // Back off over continuation bytes so a character is not split; at most 3.
  for (int k = 0; k < 3 && n > 0 && (static_cast<unsigned char>(in[n]) & 0xC0) == 0x80; ++k) --n;
  *out = in.substr(0, n);
  return true;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

bool SanitizeUtf8(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  bool replaced = false;
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size(), i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      // Fast path over ASCII runs.
      size_t j = i + 1;
      while (j < n && s[j] < 0x80) ++j;
      out->append(in.data() + i, j - i);
      i = j;
      continue;
    }
    size_t len = 0;
    uint32_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) { len = 3; hi = 0x9F; }  // no surrogates
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    bool ok = len > 0 && i + len <= n && s[i + 1] >= lo && s[i + 1] <= hi;
    for (size_t k = 2; ok && k < len; ++k) ok = (s[i + k] & 0xC0) == 0x80;
    if (ok) {
      out->append(in.data() + i, len);
      i += len;
    } else {
      out->append("\xEF\xBF\xBD");
      replaced = true;
      ++i;
    }
  }
  return replaced;
}

size_t DecodeEntities(std::string_view in, std::string* out) {
  size_t count = 0;
  size_t i = 0;
  while (i < in.size()) {
    size_t amp = in.find('&', i);
    if (amp == std::string_view::npos) {
      out->append(in.substr(i));
      break;
    }
    out->append(in.substr(i, amp - i));
    size_t used = 0;
    if (DecodeOne(in, amp, out, &used)) {
      ++count;
      i = amp + used;
    } else {
      out->push_back('&');
      i = amp + 1;
    }
  }
  return count;
}

void VisibleText(std::string_view s, std::string* text, std::vector<std::string>* links) {
  size_t i = 0;
  size_t plain = 0;  // start of the pending run of plain text
  bool comment_close_missing = false;
  size_t next_bracket = 0;  // the first ']' after the last '[' looked at (0: not searched yet)
  size_t next_close[3] = {0, 0, 0};  // the next "[/url]", "[/link]", "[/img]" (0: not searched yet)
  auto flush = [&](size_t end) {
    if (end > plain) DecodeEntities(s.substr(plain, end - plain), text);
  };
  auto add_link = [&](std::string_view raw) {
    std::string decoded;
    DecodeEntities(raw, &decoded);
    links->push_back(std::move(decoded));
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == '<' && i + 1 < s.size()) {
      char d = s[i + 1];
      if (d == '!' && s.compare(i, 4, "<!--") == 0) {
        // Once no "-->" follows, none follows any later "<!--" either:
        // searching again for each would be quadratic.
        size_t end = comment_close_missing ? std::string_view::npos : s.find("-->", i + 4);
        if (end == std::string_view::npos) comment_close_missing = true;
        if (end != std::string_view::npos) {
          flush(i);
          i = plain = end + 3;
          continue;
        }
      } else if (IsAlpha(d) || d == '/' || d == '!' || d == '?') {
        size_t limit = std::min(s.size(), i + kMaxTagBytes);
        size_t end = i + 1;
        while (end < limit && s[end] != '>' && s[end] != '<') ++end;
        if (end < limit && s[end] == '>') {
          flush(i);
          std::string_view tag = s.substr(i + 1, end - i - 1);
          size_t n = (tag[0] == '/') ? 1 : 0;
          size_t name_start = n;
          while (n < tag.size() && IsAlnum(tag[n])) ++n;
          std::string name;
          for (size_t k = name_start; k < n; ++k) name.push_back(Lower(tag[k]));
          std::string_view value;
          if (name_start == 0 && name == "a" && TagAttribute(tag, "href", &value)) add_link(value);
          else if (name_start == 0 && name == "img" && TagAttribute(tag, "src", &value)) add_link(value);
          if (!IsInlineTag(name)) text->push_back(' ');
          i = plain = end + 1;
          continue;
        }
      }
    } else if (c == '[' && i + 1 < s.size()) {
      // The next ']' is searched once and remembered: a body of '[' with
      // none would otherwise be searched to its end from each of them.
      if (next_bracket != std::string_view::npos && next_bracket <= i) next_bracket = s.find(']', i + 1);
      size_t limit = std::min(s.size(), i + kMaxBBTagBytes);
      size_t end = next_bracket;
      if (end != std::string_view::npos && end < limit) {
        std::string_view tag = s.substr(i + 1, end - i - 1);
        size_t n = (!tag.empty() && tag[0] == '/') ? 1 : 0;
        size_t name_start = n;
        while (n < tag.size() && (IsAlpha(tag[n]) || tag[n] == '*')) ++n;
        std::string name;
        for (size_t k = name_start; k < n; ++k) name.push_back(Lower(tag[k]));
        bool whole = n == tag.size() || tag[n] == '=' || tag[n] == ' ';
        if (!name.empty() && whole && IsBBTag(name)) {
          flush(i);
          if (name_start == 0 && (name == "url" || name == "link" || name == "img")) {
            if (n < tag.size() && tag[n] == '=') {
              std::string_view v = tag.substr(n + 1);
              if (v.size() >= 2 && (v[0] == '"' || v[0] == '\'') && v.back() == v[0])
                v = v.substr(1, v.size() - 2);
              add_link(v);
            } else {
              // [url]target[/url]: the target is the content. Where the
              // next closing tag of each name is, is remembered, so that
              // many opening tags cost one scan of the text in all.
              std::string close = "[/" + name + "]";
              size_t& next = next_close[name == "url" ? 0 : name == "link" ? 1 : 2];
              if (next != std::string_view::npos && next <= end) {
                size_t k = end + 1;
                next = std::string_view::npos;
                for (; k + close.size() <= s.size(); ++k)
                  if (s[k] == '[' && StartsWithNoCase(s, k, close)) { next = k; break; }
              }
              if (next != std::string_view::npos && next - (end + 1) <= kMaxTagBytes)
                add_link(s.substr(end + 1, next - end - 1));
            }
          }
          i = plain = end + 1;
          continue;
        }
      }
    }
    ++i;
  }
  flush(s.size());
}

void FindPlainLinks(std::string_view s, std::vector<std::string>* links, std::string* stripped) {
  size_t i = 0, copied = 0;
  while (i < s.size()) {
    char c = Lower(s[i]);
    size_t prefix = 0;
    if (c == 'h' && StartsWithNoCase(s, i, "http://")) prefix = 7;
    else if (c == 'h' && StartsWithNoCase(s, i, "https://")) prefix = 8;
    else if (c == 'f' && StartsWithNoCase(s, i, "ftp://")) prefix = 6;
    else if (c == 'w' && StartsWithNoCase(s, i, "www.") && i + 4 < s.size() && IsAlnum(s[i + 4]) &&
             (i == 0 || !(IsAlnum(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '/' || s[i - 1] == '@')))
      prefix = 4;
    if (prefix == 0) {
      ++i;
      continue;
    }
    size_t end = i + prefix;
    while (end < s.size()) {
      unsigned char b = s[end];
      if (b <= 0x20 || b == 0x7F || strchr("<>\"'`[]{}|\\^", b) != nullptr) break;
      if (b >= 0x80 && SpaceLen(s, end) > 0) break;
      ++end;
    }
    // Trailing punctuation belongs to the sentence, not the link.
    while (end > i + prefix && strchr(".,;:!?)'\"*", s[end - 1]) != nullptr) --end;
    if (end > i + prefix) {
      links->emplace_back(s.substr(i, end - i));
      if (stripped) {
        stripped->append(s.substr(copied, i - copied));
        stripped->push_back(' ');
        copied = end;
      }
      i = end;
    } else {
      i += prefix;
    }
  }
  if (stripped) stripped->append(s.substr(copied));
}

namespace {

// Top-level domains that are also common short words of English text.
bool IsWordSuffix(const std::string& tld) {
  static const char* const kWords[] = {"am", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is",
                                       "it", "me", "my", "no", "of", "on", "or", "so", "to", "tv", "up", "us", "we"};
  for (const char* w : kWords)
    if (tld == w) return true;
  return false;
}

}  // namespace

namespace {

enum class Case { kUpper, kLower, kCaseless, kOther };

// The case of a code point, for the scripts names are mostly written in.
Case CaseOf(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return Case::kUpper;
  if (cp >= 'a' && cp <= 'z') return Case::kLower;
  if (cp < 0xC0) return Case::kOther;
  if (cp <= 0xDE) return cp == 0xD7 ? Case::kOther : Case::kUpper;           // À..Þ
  if (cp <= 0xFF) return cp == 0xF7 ? Case::kOther : Case::kLower;           // ß..ÿ
  if (cp <= 0x17F) {  // Latin Extended-A: pairs of capital and small, in three runs
    bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
    if (cp == 0x138 || cp == 0x149 || cp == 0x17F) return Case::kLower;
    if (cp == 0x178) return Case::kUpper;
    return ((cp & 1) == 1) == odd_upper ? Case::kUpper : Case::kLower;
  }
  if (cp >= 0x391 && cp <= 0x3A9) return Case::kUpper;                       // Greek
  if (cp >= 0x3AC && cp <= 0x3CE) return Case::kLower;
  if (cp >= 0x400 && cp <= 0x42F) return Case::kUpper;                       // Cyrillic
  if (cp >= 0x430 && cp <= 0x45F) return Case::kLower;
  if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7A3))
    return Case::kCaseless;                                                  // kana, CJK, Hangul
  return Case::kOther;
}

// The code point at s[*i]; moves *i past it. A lead byte without room for
// its sequence counts as itself (normalized text is valid UTF-8 anyway).
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size(), k = *i;
  uint32_t cp = p[k];
  size_t len = 1;
  if (cp >= 0xF0 && k + 3 < n) {
    cp = ((cp & 0x07) << 18) | ((p[k + 1] & 0x3F) << 12) | ((p[k + 2] & 0x3F) << 6) | (p[k + 3] & 0x3F);
    len = 4;
  } else if (cp >= 0xE0 && k + 2 < n) {
    cp = ((cp & 0x0F) << 12) | ((p[k + 1] & 0x3F) << 6) | (p[k + 2] & 0x3F);
    len = 3;
  } else if (cp >= 0xC0 && k + 1 < n) {
    cp = ((cp & 0x1F) << 6) | (p[k + 1] & 0x3F);
    len = 2;
  }
  *i = k + len;
  return cp;
}

}  // namespace

bool LooksLikeName(std::string_view name) {
  size_t words = 0, i = 0;
  while (i < name.size()) {
    if (name[i] == ' ') {
      ++i;
      continue;
    }
    if (++words > 4) return false;
    // One word: a capital (or a caseless letter), then small letters, with
    // hyphens and apostrophes inside; a lone capital may end with a period.
    uint32_t cp = NextCodePoint(name, &i);
    Case first = CaseOf(cp);
    if (first != Case::kUpper && first != Case::kCaseless) return false;
    size_t letters = 1;
    bool after_joiner = false;
    while (i < name.size() && name[i] != ' ') {
      cp = NextCodePoint(name, &i);
      Case c = CaseOf(cp);
      if (cp == '-' || cp == '\'' || cp == 0x2019) {
        if (after_joiner) return false;
        after_joiner = true;
        continue;
      }
      if (cp == '.') {
        // "J." or "Dr.": a period ends a word of at most three letters.
        if (letters > 3 || (i < name.size() && name[i] != ' ')) return false;
        continue;
      }
      // After a hyphen or apostrophe a capital may start again (Jean-Pierre, O'Neil).
      if (c == Case::kLower || c == Case::kCaseless || (after_joiner && c == Case::kUpper)) {
        after_joiner = false;
        ++letters;
        continue;
      }
      return false;
    }
    if (after_joiner) return false;
  }
  return words > 0;
}

size_t CountBareDomains(std::string_view s) {
  auto is_label = [](char c) { return IsAlnum(c) || c == '-'; };
  size_t count = 0;
  for (size_t dot = s.find('.'); dot != std::string_view::npos; dot = s.find('.', dot + 1)) {
    size_t l = dot;
    if (l > 0 && s[l - 1] == ' ') --l;
    size_t start = l;
    while (start > 0 && is_label(s[start - 1])) --start;
    if (l - start < 2) continue;
    if (start > 0 && (s[start - 1] == '@' || s[start - 1] == '/' || s[start - 1] == '.' || s[start - 1] == '_')) continue;
    size_t r = dot + 1;
    if (r < s.size() && s[r] == ' ') ++r;
    size_t end = r;
    while (end < s.size() && IsAlpha(s[end])) ++end;
    if (end == r || end - r > 63 || (end < s.size() && (IsDigit(s[end]) || s[end] == '-' || s[end] == '_'))) continue;
    std::string tld;
    for (size_t k = r; k < end; ++k) tld.push_back(Lower(s[k]));
    // "Fine. Now we..." starts a sentence; "example. com" and "Site.Com"
    // name a host. A suffix that is also a short English word ("in", "it",
    // "so") starts a sentence after a space ("point. it works") and when
    // capitalized ("concepts.In practice"): only "example.in" names a host.
    bool capitalized = s[r] >= 'A' && s[r] <= 'Z';
    for (size_t k = r + 1; capitalized && k < end; ++k) capitalized = s[k] >= 'a' && s[k] <= 'z';
    if (r > dot + 1 && capitalized) continue;
    if ((r > dot + 1 || capitalized) && IsWordSuffix(tld)) continue;
    if (IsPublicSuffix(tld)) ++count;
  }
  return count;
}

ScriptSigns ScanScripts(std::string_view s) {
  enum Cls { kOther, kLatin, kForeign, kInvisible };
  auto classify = [](uint32_t cp) {
    if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return kLatin;
    if (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) return kLatin;
    if ((cp >= 0x370 && cp <= 0x3FF) || (cp >= 0x400 && cp <= 0x4FF)) return kForeign;
    if ((cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xAD) return kInvisible;
    return kOther;
  };
  auto styled = [](uint32_t cp) {
    return (cp >= 0x1D400 && cp <= 0x1D7FF) || (cp >= 0xFF21 && cp <= 0xFF3A) || (cp >= 0xFF41 && cp <= 0xFF5A) ||
           (cp >= 0x24B6 && cp <= 0x24E9);
  };
  ScriptSigns out;
  // Every sign involves a non-ASCII character; most comments have none.
  bool ascii = true;
  for (unsigned char c : s) ascii &= c < 0x80;
  if (ascii) return out;
  Cls prev = kOther, before_invisible = kOther;
  int styled_run = 0;
  size_t i = 0, n = s.size();
  while (i < n) {
    uint32_t cp = NextCodePoint(s, &i);
    styled_run = styled(cp) ? styled_run + 1 : 0;
    if (styled_run >= 3) out.styled_letters = true;
    Cls c = classify(cp);
    if (c == kInvisible) {
      if (prev != kInvisible) before_invisible = prev;
      prev = kInvisible;
      continue;
    }
    if (prev == kInvisible && c != kOther && before_invisible != kOther) out.zero_width_in_word = true;
    if ((prev == kLatin && c == kForeign) || (prev == kForeign && c == kLatin)) out.mixed_scripts = true;
    prev = c;
  }
  return out;
}

bool NormalizeLink(std::string_view in, std::string* out) {
  size_t b = 0, e = in.size();
  while (b < e && static_cast<unsigned char>(in[b]) <= 0x20) ++b;
  while (e > b && static_cast<unsigned char>(in[e - 1]) <= 0x20) --e;
  std::string_view s = in.substr(b, e - b);
  out->clear();
  size_t host_start;
  if (StartsWithNoCase(s, 0, "http://") || StartsWithNoCase(s, 0, "https://") ||
      StartsWithNoCase(s, 0, "ftp://")) {
    host_start = s.find("://") + 3;
    for (size_t k = 0; k < host_start; ++k) out->push_back(Lower(s[k]));
  } else if (StartsWithNoCase(s, 0, "www.")) {
    out->append("http://");
    host_start = 0;
  } else if (s.size() > 2 && s[0] == '/' && s[1] == '/') {
    out->append("http://");
    host_start = 2;
  } else {
    return false;
  }
  size_t k = host_start;
  for (; k < s.size() && s[k] != '/' && s[k] != '?' && s[k] != '#'; ++k) out->push_back(Lower(s[k]));
  if (k == host_start) return false;
  out->append(s.substr(k));
  return true;
}

void CollapseSpace(std::string_view s, std::string* out) {
  out->clear();
  out->reserve(s.size());
  bool pending = false;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n = (c < 0x80) ? (IsAsciiSpace(char(c)) ? 1 : 0) : SpaceLen(s, i);
    if (n > 0) {
      pending = !out->empty();
      i += n;
      continue;
    }
    if (pending) {
      out->push_back(' ');
      pending = false;
    }
    // The run up to the next space, appended whole.
    size_t j = i + 1;
    while (j < s.size()) {
      unsigned char d = s[j];
      if (d < 0x80 ? IsAsciiSpace(char(d)) : SpaceLen(s, j) > 0) break;
      ++j;
    }
    out->append(s.data() + i, j - i);
    i = j;
  }
}

}  // namespace spamguard::comment
