#include "rules/ruleset.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <map>
#include <unordered_set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "comment/text.h"
#include "rules/atom_cache.h"
#include "rules/perl_syntax.h"
#include "util/clause_words.h"
#include "util/fnv1a.h"
#include "util/numbers.h"

namespace spamguard::rules {
namespace {

constexpr int kMaxIncludeDepth = 16;
constexpr int64_t kMaxRuleFileBytes = int64_t(64) << 20;  // one file, and all of a load together
constexpr size_t kMaxMatchBytes = 200;

struct TargetEntry {
  const char* directive;
  Target target;
};
constexpr TargetEntry kRegexDirectives[] = {
    {"body", Target::kBody},         {"rawbody", Target::kRawBody},   {"author", Target::kAuthor},
    {"email", Target::kEmail},       {"url", Target::kUrl},           {"uri", Target::kUri},
    {"ua", Target::kUa},             {"referrer", Target::kReferrer}, {"blog_name", Target::kBlogName},
    {"title", Target::kTitle},       {"excerpt", Target::kExcerpt},   {"source_url", Target::kSourceUrl},
    {"ip", Target::kIp},
};

struct ConditionEntry {
  const char* name;
  Condition cond;
  const char* says;
};
constexpr ConditionEntry kConditions[] = {
    {"invalid_utf8", Condition::kInvalidUtf8, "invalid UTF-8 replaced"},
    {"truncated", Condition::kTruncated, "a field exceeded its size cap"},
    {"bad_ip", Condition::kBadIp, "client IP does not parse"},
    {"no_ip", Condition::kNoIp, "no client IP"},
    {"links_capped", Condition::kLinksCapped, "more links than max_links"},
    {"empty_body", Condition::kEmptyBody, "a comment with no visible text"},
    {"link_only", Condition::kLinkOnly, "links and almost no other text"},
    {"domain_in_text", Condition::kDomainInText, "a web address written without http:// or www."},
    {"zero_width", Condition::kZeroWidth, "invisible zero-width characters inside a word"},
    {"mixed_scripts", Condition::kMixedScripts, "Latin and Cyrillic or Greek letters inside one word"},
    {"styled_letters", Condition::kStyledLetters, "styled look-alike letters (mathematical, full-width, circled)"},
    {"trackback", Condition::kTrackback, "a trackback"},
    {"pingback", Condition::kPingback, "a pingback"},
    {"title_is_blog_name", Condition::kTitleIsBlogName, "trackback title equals blog name"},
    {"empty_excerpt", Condition::kEmptyExcerpt, "trackback with a link and neither excerpt nor text"},
    {"author_is_name", Condition::kAuthorIsName, "the author name is written as a person's name"},
    {"form_no_token", Condition::kFormNoToken, "sent without the comment form's token"},
    {"form_malformed", Condition::kFormMalformed, "the comment form's token is not a token"},
    {"form_forged", Condition::kFormForged, "the comment form's token is forged or altered"},
    {"form_other_post", Condition::kFormOtherPost, "the comment form's token was made for another post"},
    {"form_too_fast", Condition::kFormTooFast, "sent sooner after the form was shown than a person types"},
    {"form_too_old", Condition::kFormTooOld, "the comment form was shown longer ago than its token lives"},
    {"form_replayed", Condition::kFormReplayed, "the comment form's token was used more often than allowed"},
    {"form_honeypot", Condition::kFormHoneypot, "the form's hidden field, which people never see, was filled"},
};

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

// Splits off the first whitespace-delimited word.
std::string_view NextWord(std::string_view* s) {
  *s = Trim(*s);
  size_t e = 0;
  while (e < s->size() && (*s)[e] != ' ' && (*s)[e] != '\t') ++e;
  std::string_view w = s->substr(0, e);
  *s = Trim(s->substr(e));
  return w;
}

// Drops a trailing "# comment" from a non-regex directive.
std::string_view StripComment(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) return Trim(s.substr(0, i));
  return s;
}

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  if (!(isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_')) return false;
  for (char c : n)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

bool ParseNumber(std::string_view s, double* out) {
  if (s.size() > 32) return false;
  return ParseDouble(s, out);
}

bool ParseCount(std::string_view s, int64_t lo, int64_t hi, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

// Parses "/re/flags" or "m{re}flags" into an RE2 pattern with inline flags.
bool ParseDelimited(std::string_view s, std::string* pattern, std::string* error) {
  size_t start;
  char open, close;
  if (!s.empty() && s[0] == '/') {
    open = close = '/';
    start = 1;
  } else if (s.size() > 1 && s[0] == 'm' && ispunct(static_cast<unsigned char>(s[1])) && s[1] != '_') {
    open = s[1];
    start = 2;
    switch (open) {
      case '{': close = '}'; break;
      case '(': close = ')'; break;
      case '[': close = ']'; break;
      case '<': close = '>'; break;
      default: close = open;
    }
  } else {
    *error = "pattern must be written /regex/flags or m{regex}flags";
    return false;
  }
  size_t i = start;
  int depth = 0;
  for (; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (open != close && s[i] == open) {
      ++depth;
    } else if (s[i] == close) {
      if (depth == 0) break;
      --depth;
    }
  }
  if (i >= s.size()) {
    *error = std::string("pattern has no closing '") + close + "'";
    return false;
  }
  std::string_view body = s.substr(start, i - start);
  std::string flags;
  size_t j = i + 1;
  for (; j < s.size() && isalpha(static_cast<unsigned char>(s[j])); ++j) {
    char f = s[j];
    if (f == 'i' || f == 's' || f == 'm') {
      if (flags.find(f) == std::string::npos) flags.push_back(f);
    } else if (f == 'x') {
      *error = "flag 'x' (extended syntax) is not supported; write the pattern without spaces";
      return false;
    } else {
      *error = std::string("unknown flag '") + f + "'";
      return false;
    }
  }
  std::string_view rest = Trim(s.substr(j));
  if (!rest.empty() && rest[0] != '#') {
    *error = "unexpected text after the pattern: '" + std::string(rest.substr(0, 20)) + "'";
    return false;
  }
  if (body.empty()) {
    *error = "empty pattern";
    return false;
  }
  pattern->clear();
  if (!flags.empty()) *pattern = "(?" + flags + ")";
  pattern->append(body);
  return true;
}

void CapMatch(std::string_view m, std::string* out) {
  if (m.size() > kMaxMatchBytes) {
    size_t n = kMaxMatchBytes;
    while (n > 0 && (static_cast<unsigned char>(m[n]) & 0xC0) == 0x80) --n;
    m = m.substr(0, n);
  }
  out->assign(m.data(), m.size());
}

std::string_view TextOf(Target t, const comment::Normalized& n) {
  switch (t) {
    case Target::kBody: return n.body;
    case Target::kRawBody: return n.rawbody;
    case Target::kAuthor: return n.author;
    case Target::kEmail: return n.email;
    case Target::kUrl: return n.url;
    case Target::kUa: return n.ua;
    case Target::kReferrer: return n.referrer;
    case Target::kBlogName: return n.blog_name;
    case Target::kTitle: return n.title;
    case Target::kExcerpt: return n.excerpt;
    case Target::kSourceUrl: return n.source_url;
    case Target::kIp: return n.ip.text;
    default: return {};
  }
}

bool EqualNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (tolower(static_cast<unsigned char>(a[i])) != tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool CheckCondition(Condition c, const comment::Normalized& n) {
  bool ping = n.kind != comment::Kind::kComment;
  switch (c) {
    case Condition::kInvalidUtf8: return n.flags & SG_FLAG_INVALID_UTF8;
    case Condition::kTruncated: return n.flags & SG_FLAG_TRUNCATED;
    case Condition::kBadIp: return n.flags & SG_FLAG_BAD_IP;
    case Condition::kNoIp: return n.flags & SG_FLAG_NO_IP;
    case Condition::kLinksCapped: return n.flags & SG_FLAG_LINKS_CAPPED;
    case Condition::kEmptyBody: return !ping && n.body.empty();
    case Condition::kLinkOnly: return n.body_links > 0 && n.text_letters < 12;
    case Condition::kDomainInText: return n.text_domains > 0;
    case Condition::kZeroWidth: return n.scripts.zero_width_in_word;
    case Condition::kMixedScripts: return n.scripts.mixed_scripts;
    case Condition::kStyledLetters: return n.scripts.styled_letters;
    case Condition::kTrackback: return n.kind == comment::Kind::kTrackback;
    case Condition::kPingback: return n.kind == comment::Kind::kPingback;
    case Condition::kTitleIsBlogName:
      return ping && !n.title.empty() && EqualNoCase(n.title, n.blog_name);
    // A trackback or pingback whose text is empty: neither an excerpt field
    // (Movable Type's shape) nor a body (WordPress puts the excerpt there).
    case Condition::kEmptyExcerpt: return ping && n.excerpt.empty() && n.body.empty() && !n.links.empty();
    case Condition::kAuthorIsName: return comment::LooksLikeName(n.author);
    case Condition::kFormNoToken: return n.form & comment::kFormNoToken;
    case Condition::kFormMalformed: return n.form & comment::kFormMalformed;
    case Condition::kFormForged: return n.form & comment::kFormForged;
    case Condition::kFormOtherPost: return n.form & comment::kFormOtherPost;
    case Condition::kFormTooFast: return n.form & comment::kFormTooFast;
    case Condition::kFormTooOld: return n.form & comment::kFormTooOld;
    case Condition::kFormReplayed: return n.form & comment::kFormReplayed;
    case Condition::kFormHoneypot: return n.form & comment::kFormHoneypot;
  }
  return false;
}

const char* ConditionSays(Condition c) {
  for (const auto& e : kConditions)
    if (e.cond == c) return e.says;
  return "";
}

bool Compare(int64_t a, Cmp c, int64_t b) {
  switch (c) {
    case Cmp::kGt: return a > b;
    case Cmp::kGe: return a >= b;
    case Cmp::kLt: return a < b;
    case Cmp::kLe: return a <= b;
    case Cmp::kEq: return a == b;
  }
  return false;
}

}  // namespace

const char* TargetName(Target t) {
  for (const auto& e : kRegexDirectives)
    if (e.target == t) return e.directive;
  switch (t) {
    case Target::kLinks: return "links";
    case Target::kCheck: return "check";
    case Target::kMeta: return "meta";
    case Target::kLearned: return "learned";
    default: return "?";
  }
}

// Parses .cf text into rules and settings, then compiles them.
class Builder {
 public:
  Builder(const LoadOptions& opts, std::vector<std::string>* warnings) : opts_(opts), warnings_(warnings) {}

  // Reads one rule file: a regular file (not a directory, FIFO or device,
  // which would load nothing, hang or never end), at most kMaxRuleFileBytes,
  // and each file at most once per load (by device and inode, so that a
  // cycle or a file included twice through other names ends with an error
  // instead of growing exponentially).
  Status ParseFile(const std::string& path, int depth) {
    if (depth > kMaxIncludeDepth) return Status::ParseError(path + ": includes nested too deeply");
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return Status::IOError(path + ": cannot open: " + strerror(errno));
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat sb;
    if (::fstat(fd, &sb) != 0) return Status::IOError(path + ": cannot read: " + strerror(errno));
    if (!S_ISREG(sb.st_mode))
      return Status::IOError(path + ": not a regular file (" +
                             (S_ISDIR(sb.st_mode) ? "a directory" : S_ISFIFO(sb.st_mode) ? "a FIFO" : "a device or socket") +
                             "); give the path of a rule file");
    if (sb.st_size > kMaxRuleFileBytes)
      return Status::IOError(path + ": " + std::to_string(sb.st_size) + " bytes, more than a rule file may hold (" +
                             std::to_string(kMaxRuleFileBytes) + ")");
    auto id = std::make_pair(uint64_t(sb.st_dev), uint64_t(sb.st_ino));
    for (const auto& [open_id, open_path] : include_stack_)
      if (open_id == id) return Status::IOError(path + ": include cycle (the file includes itself through " + open_path + ")");
    auto seen = included_.find(id);
    if (seen != included_.end()) return Status::IOError(path + ": already included (as " + seen->second + ")");
    included_.emplace(id, path);
    std::string text;
    text.resize(size_t(sb.st_size) + 1);  // (one byte more: the end is seen without growing)
    size_t got = 0;
    for (;;) {
      if (got == text.size()) {
        if (text.size() >= size_t(kMaxRuleFileBytes)) break;
        text.resize(std::min<size_t>(size_t(kMaxRuleFileBytes), text.size() + 65536));  // it grew while read
      }
      ssize_t r = ::read(fd, &text[got], text.size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Status::IOError(path + ": read error: " + strerror(errno));
      if (r == 0) break;
      got += size_t(r);
    }
    text.resize(got);
    total_bytes_ += got;
    if (total_bytes_ > size_t(kMaxRuleFileBytes))
      return Status::IOError(path + ": the rule files together hold more than " + std::to_string(kMaxRuleFileBytes) +
                             " bytes");
    include_stack_.push_back({id, path});
    Status st = ParseText(text, path, depth);
    include_stack_.pop_back();
    return st;
  }

  Status ParseText(std::string_view text, const std::string& name, int depth) {
    size_t line_no = 0, pos = 0;
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_no;
      const std::string_view trimmed = Trim(line);
      if (trimmed.empty() || trimmed[0] == '#') {  // (most lines of a rule file; nothing to name)
        if (nl == text.size()) break;
        continue;
      }
      std::string origin = name + ":" + std::to_string(line_no);
      Status st = ParseLine(line, origin, name, depth);
      if (!st.ok()) {
        if (opts_.strict || st.code() == SG_EIO) return st;
        warnings_->push_back(st.message());
      }
      if (nl == text.size()) break;
    }
    return Status::OK();
  }

  Status Finish(std::unique_ptr<RuleSet>* out) {
    auto rs = std::make_unique<RuleSet>();
    Status st = PrepareRegexes(&rs->prefilter_);
    if (!st.ok()) return st;
    st = ApplyScores();
    if (!st.ok()) return st;
    st = ResolveMetas();
    if (!st.ok()) return st;
    const Settings& s = settings_;
    if (!(s.moderate_score <= s.required_score && s.required_score <= s.discard_score))
      return Status::ParseError("thresholds must satisfy moderate_score <= required_score <= discard_score (" +
                                Num(s.moderate_score) + ", " + Num(s.required_score) + ", " +
                                Num(s.discard_score) + ")");
    rs->settings_ = settings_;
    rs->re2_max_mem_ = opts_.re2_max_mem;
    rs->warm_scores_ = opts_.warm_scores;
    rs->rules_ = std::move(rules_);
    st = Compile(rs.get());
    if (!st.ok()) return st;
    *out = std::move(rs);
    return Status::OK();
  }

 private:
  struct Pending {
    std::string name, origin;
    double score;
    std::string text;
  };

  static std::string Num(double v) { return FormatShortest(v); }

  Status Err(const std::string& origin, const std::string& msg) {
    return Status::ParseError(origin + ": " + msg);
  }
  Status RuleErr(const std::string& origin, std::string_view rule, const std::string& msg) {
    return Status::RuleError(origin + ": rule " + std::string(rule) + ": " + msg);
  }

  Status ParseLine(std::string_view line, const std::string& origin, const std::string& file, int depth) {
    std::string_view rest = Trim(line);
    if (rest.empty() || rest[0] == '#') return Status::OK();
    std::string_view directive = NextWord(&rest);

    for (const auto& e : kRegexDirectives)
      if (directive == e.directive) return AddRegex(e.target, rest, origin);

    if (directive == "links") return AddLinks(rest, origin);
    if (directive == "check") return AddCheck(rest, origin);
    if (directive == "meta") return AddMeta(rest, origin);
    if (directive == "learned") return AddLearned(rest, origin);
    if (directive == "score" || directive == "describe") {
      std::string_view name = NextWord(&rest);
      if (!ValidName(name)) return Err(origin, std::string(directive) + ": missing or invalid rule name");
      if (directive == "describe") {
        describes_.push_back({std::string(name), origin, 0, std::string(rest)});
        return Status::OK();
      }
      rest = StripComment(rest);
      double v;
      if (!ParseNumber(rest, &v))
        return Err(origin, "score " + std::string(name) + ": expected one number, got '" + std::string(rest) + "'");
      scores_.push_back({std::string(name), origin, v, ""});
      return Status::OK();
    }
    // A path in a rule file is relative to that file's folder.
    auto beside = [&file](std::string path) {
      size_t slash = file.rfind('/');
      return path[0] == '/' || slash == std::string::npos ? path : file.substr(0, slash + 1) + path;
    };
    if (directive == "include") {
      std::string path(StripComment(rest));
      if (path.empty()) return Err(origin, "include: missing file name");
      path = beside(path);
      Status st = ParseFile(path, depth + 1);
      if (!st.ok() && st.code() == SG_EIO) return Status::IOError(origin + ": include " + st.message());
      return st;
    }
    if (directive == "database") {
      std::string path(StripComment(rest));
      if (path.empty()) return Err(origin, "database: missing file name (or 'none')");
      bool server = path.rfind("redis://", 0) == 0 || path.rfind("redis+unix://", 0) == 0;
      settings_.state.database = path == "none" || server ? path : beside(path);
      return Status::OK();
    }
    if (directive == "redis_password_file") {
      std::string path(StripComment(rest));
      if (path.empty()) return Err(origin, "redis_password_file: missing file name");
      settings_.state.redis_password_file = beside(path);
      return Status::OK();
    }
    if (directive == "rule_cache") {
      std::string path(StripComment(rest));
      if (path.empty()) return Err(origin, "rule_cache: missing file name (or 'none')");
      settings_.state.rule_cache = path == "none" ? path : beside(path);
      return Status::OK();
    }
    if (directive == "form_secret_file") {
      std::string path(StripComment(rest));
      if (path.empty()) return Err(origin, "form_secret_file: missing file name");
      settings_.state.form_secret_file = beside(path);
      settings_.state.form_secret_origin = origin;
      return Status::OK();
    }
    rest = StripComment(rest);
    StateSettings& st = settings_.state;
    if (directive == "ratelimit") return AddRateLimit(rest, origin);
    if (directive == "ratelimit_ban_after") return SetInt(rest, origin, "ratelimit_ban_after", 0, 1000, &st.ratelimit_ban_after);
    if (directive == "ratelimit_ban_seconds") {
      int v = 0;
      Status s2 = SetInt(rest, origin, "ratelimit_ban_seconds", 1, 365 * 86400, &v);
      st.ratelimit_ban_seconds = v;
      return s2;
    }
    if (directive == "trusted_proxy") {
      if (rest.empty()) return Err(origin, "trusted_proxy: expected one or more addresses or CIDR blocks");
      for (std::string_view w = NextWord(&rest); !w.empty(); w = NextWord(&rest)) {
        if (st.trusted_proxies.size() >= 1000) return Err(origin, "trusted_proxy: more than 1000 blocks");
        st.trusted_proxies.push_back({std::string(w), origin});
      }
      return Status::OK();
    }
    if (directive == "retention_days") return SetInt(rest, origin, "retention_days", 0, 36500, &st.retention_days);
    if (directive == "redis_namespace") {
      if (rest.empty() || rest.size() > 200 || rest.find_first_of(" \t") != std::string_view::npos)
        return Err(origin, "redis_namespace: expected one name of 1 to 200 bytes");
      st.redis_namespace = std::string(rest);
      return Status::OK();
    }
    if (directive == "redis_timeout_ms") return SetInt(rest, origin, "redis_timeout_ms", 1, 600000, &st.redis_timeout_ms);
    if (directive == "redis_connect_timeout_ms")
      return SetInt(rest, origin, "redis_connect_timeout_ms", 1, 600000, &st.redis_connect_timeout_ms);
    if (directive == "busy_timeout_ms") return SetInt(rest, origin, "busy_timeout_ms", 1, 600000, &st.busy_timeout_ms);
    if (directive == "fail_closed") return SetBool(rest, origin, "fail_closed", &st.fail_closed);
    if (directive == "ratelimit_fail_closed")
      return SetBool(rest, origin, "ratelimit_fail_closed", &st.ratelimit_fail_closed);
    if (directive == "database_check_owner")
      return SetBool(rest, origin, "database_check_owner", &st.database_check_owner);
    if (directive == "learn_min_spam") return SetInt(rest, origin, "learn_min_spam", 1, 1000000, &st.learn_min_spam);
    if (directive == "learn_min_ham") return SetInt(rest, origin, "learn_min_ham", 1, 1000000, &st.learn_min_ham);
    if (directive == "learn_max_tokens")
      return SetInt(rest, origin, "learn_max_tokens", 1000, 100000000, &st.learn_max_tokens);
    if (directive == "form_min_seconds") return SetInt(rest, origin, "form_min_seconds", 0, 3600, &st.form_min_seconds);
    if (directive == "form_max_seconds")
      return SetInt(rest, origin, "form_max_seconds", 60, 365 * 86400, &st.form_max_seconds);
    if (directive == "form_max_uses") return SetInt(rest, origin, "form_max_uses", 1, 1000000, &st.form_max_uses);
    if (directive == "form_secret") {
      if (rest.size() < 16) return Err(origin, "form_secret: expected a secret of at least 16 characters");
      st.form_secret = std::string(rest);
      return Status::OK();
    }
    if (directive == "auto_learn") return SetBool(rest, origin, "auto_learn", &st.auto_learn);
    if (directive == "auto_learn_ham_score") return SetScore(rest, origin, "auto_learn_ham_score", &st.auto_learn_ham_score);
    if (directive == "block_action") {
      if (rest == "spam") st.block_action = SG_ACTION_SPAM;
      else if (rest == "discard") st.block_action = SG_ACTION_DISCARD;
      else return Err(origin, "block_action: expected spam or discard, got '" + std::string(rest) + "'");
      return Status::OK();
    }
    if (directive == "reputation_half_life_days")
      return SetReal(rest, origin, "reputation_half_life_days", 0, 3650, &st.rep_half_life_days);
    if (directive == "reputation_min_evidence")
      return SetReal(rest, origin, "reputation_min_evidence", 0, 1e6, &st.rep_min_evidence);
    if (directive == "reputation_cap") return SetReal(rest, origin, "reputation_cap", 0, 100, &st.rep_cap);
    if (directive == "reputation_weight") return SetReal(rest, origin, "reputation_weight", 0, 100, &st.rep_weight);
    if (directive == "keyword_points") return SetReal(rest, origin, "keyword_points", 0, 100, &st.keyword_points);
    if (directive == "reputation_prefix4") return SetInt(rest, origin, "reputation_prefix4", 8, 32, &st.rep_prefix4);
    if (directive == "reputation_prefix6") return SetInt(rest, origin, "reputation_prefix6", 16, 128, &st.rep_prefix6);
    if (directive == "required_score") return SetScore(rest, origin, "required_score", &settings_.required_score);
    if (directive == "moderate_score") return SetScore(rest, origin, "moderate_score", &settings_.moderate_score);
    if (directive == "discard_score") return SetScore(rest, origin, "discard_score", &settings_.discard_score);
    if (directive == "max_body_bytes")
      return SetSize(rest, origin, "max_body_bytes", 64, int64_t(1) << 30, &settings_.limits.max_body_bytes,
                     &settings_.has_max_body);
    if (directive == "max_field_bytes")
      return SetSize(rest, origin, "max_field_bytes", 16, int64_t(1) << 24, &settings_.limits.max_field_bytes,
                     &settings_.has_max_field);
    if (directive == "max_links")
      return SetSize(rest, origin, "max_links", 1, 100000, &settings_.limits.max_links, &settings_.has_max_links);
    return Err(origin, "unknown directive '" + std::string(directive.substr(0, 40)) + "'");
  }

  Status SetScore(std::string_view v, const std::string& origin, const char* what, double* out) {
    if (!ParseNumber(v, out)) return Err(origin, std::string(what) + ": expected a number, got '" + std::string(v) + "'");
    return Status::OK();
  }

  // ratelimit KEY RATE/PERIOD [burst N]
  Status AddRateLimit(std::string_view rest, const std::string& origin) {
    const std::string usage = " (expected: ratelimit KEY RATE/PERIOD [burst N], e.g. 'ratelimit ip 5/60s burst 3')";
    RateLimitSpec r;
    r.origin = origin;
    std::string_view key = NextWord(&rest), rate = NextWord(&rest);
    if (key == "ip") r.key = RateLimitSpec::kIp;
    else if (key == "post") r.key = RateLimitSpec::kPost;
    else if (key == "email") r.key = RateLimitSpec::kEmail;
    else if (key == "global") r.key = RateLimitSpec::kGlobal;
    else if (key == "comment" || key == "trackback" || key == "pingback") {
      r.key = RateLimitSpec::kKind;
      r.kind = key == "comment" ? SG_KIND_COMMENT : key == "trackback" ? SG_KIND_TRACKBACK : SG_KIND_PINGBACK;
    } else if (key.substr(0, 3) == "ip/") {
      // ip/24 (IPv4 prefix; IPv6 uses /64), ip/64 (IPv6 prefix; IPv4 uses /24), or ip/24/64.
      std::string_view lens = key.substr(3);
      size_t slash = lens.find('/');
      int64_t a = 0, b = -1;
      if (!ParseCount(lens.substr(0, slash), 1, 128, &a) ||
          (slash != std::string_view::npos && !ParseCount(lens.substr(slash + 1), 1, 128, &b)))
        return Err(origin, "ratelimit: bad prefix in '" + std::string(key) + "'" + usage);
      r.key = RateLimitSpec::kNet;
      if (b >= 0) {
        if (a > 32) return Err(origin, "ratelimit: IPv4 prefix must be 1 to 32 in '" + std::string(key) + "'");
        r.prefix = int(a);
        r.prefix6 = int(b);
      } else if (a <= 32) {
        r.prefix = int(a);
      } else {
        r.prefix = 24;
        r.prefix6 = int(a);
      }
    } else {
      return Err(origin, "ratelimit: unknown key '" + std::string(key.substr(0, 30)) +
                             "' (ip, ip/24, ip/64, post, email, comment, trackback, pingback, global)");
    }
    size_t slash = rate.find('/');
    if (slash == std::string_view::npos) return Err(origin, "ratelimit: rate '" + std::string(rate) + "' has no /PERIOD" + usage);
    if (!ParseCount(rate.substr(0, slash), 1, 1000000, &r.count))
      return Err(origin, "ratelimit: the count in '" + std::string(rate) + "' must be a whole number from 1 to 1000000");
    std::string_view per = rate.substr(slash + 1);
    int64_t unit = 1000;
    if (!per.empty()) {
      char u = per.back();
      if (u == 's' || u == 'm' || u == 'h' || u == 'd') {
        unit = u == 's' ? 1000 : u == 'm' ? 60000 : u == 'h' ? 3600000 : 86400000;
        per.remove_suffix(1);
      }
    }
    int64_t n = 0;
    if (per.empty() || per[0] == '-' || !ParseCount(per, 0, 1 << 30, &n))
      return Err(origin, "ratelimit: bad period in '" + std::string(rate) + "' (a positive number with s, m, h or d)");
    r.period_ms = n * unit;
    if (r.period_ms <= 0) return Err(origin, "ratelimit: the period in '" + std::string(rate) + "' must be more than zero");
    if (r.period_ms > int64_t(366) * 86400000) return Err(origin, "ratelimit: the period must be at most 366 days");
    r.burst = r.count;
    if (!rest.empty() && rest[0] != '#') {
      std::string_view word = NextWord(&rest);
      std::string_view val = NextWord(&rest);
      if (word != "burst") return Err(origin, "ratelimit: unexpected '" + std::string(word.substr(0, 20)) + "'" + usage);
      if (!ParseCount(val, 1, 100000, &r.burst))
        return Err(origin, "ratelimit: burst must be a whole number from 1 to 100000, got '" + std::string(val) + "'");
      if (!rest.empty() && rest[0] != '#') return Err(origin, "ratelimit: unexpected text after the burst" + usage);
    }
    r.text = std::string(key) + " " + std::string(rate) + (r.burst != r.count ? " burst " + std::to_string(r.burst) : "");
    settings_.state.ratelimits.push_back(std::move(r));
    return Status::OK();
  }

  Status SetInt(std::string_view v, const std::string& origin, const char* what, int lo, int hi, int* out) {
    int64_t n;
    if (!ParseCount(v, lo, hi, &n))
      return Err(origin, std::string(what) + ": expected a whole number from " + std::to_string(lo) + " to " +
                             std::to_string(hi) + ", got '" + std::string(v) + "'");
    *out = int(n);
    return Status::OK();
  }

  Status SetReal(std::string_view v, const std::string& origin, const char* what, double lo, double hi, double* out) {
    double d;
    if (!ParseNumber(v, &d) || d < lo || d > hi)
      return Err(origin, std::string(what) + ": expected a number from " + Num(lo) + " to " + Num(hi) + ", got '" +
                             std::string(v) + "'");
    *out = d;
    return Status::OK();
  }

  Status SetBool(std::string_view v, const std::string& origin, const char* what, bool* out) {
    if (v != "0" && v != "1") return Err(origin, std::string(what) + ": expected 0 or 1, got '" + std::string(v) + "'");
    *out = v == "1";
    return Status::OK();
  }

  Status SetSize(std::string_view v, const std::string& origin, const char* what, int64_t lo, int64_t hi,
                 size_t* out, bool* has) {
    int64_t n;
    if (!ParseCount(v, lo, hi, &n))
      return Err(origin, std::string(what) + ": expected a whole number from " + std::to_string(lo) + " to " +
                             std::to_string(hi) + ", got '" + std::string(v) + "'");
    *out = size_t(n);
    *has = true;
    return Status::OK();
  }

  Status NewRule(std::string_view name, Target t, const std::string& origin, Rule* rule) {
    if (!ValidName(name))
      return Err(origin, std::string(TargetName(t)) + ": invalid rule name '" + std::string(name.substr(0, 64)) +
                             "' (letters, digits, '_'; at most 64)");
    auto it = index_.find(std::string(name));
    if (it != index_.end())
      return RuleErr(origin, name, "duplicate rule (first defined at " + rules_[it->second].origin + ")");
    rule->name = std::string(name);
    rule->target = t;
    rule->origin = origin;
    return Status::OK();
  }

  void Keep(Rule&& rule) {
    index_[rule.name] = rules_.size();
    rules_.push_back(std::move(rule));
  }

  Status AddRegex(Target t, std::string_view rest, const std::string& origin) {
    Rule rule;
    std::string_view name = NextWord(&rest);
    Status st = NewRule(name, t, origin, &rule);
    if (!st.ok()) return st;
    std::string pattern, error;
    if (!ParseDelimited(rest, &pattern, &error)) return RuleErr(origin, name, error);
    // The pattern is checked (parsed once, or found in the atom cache)
    // when the whole file has been read (PrepareRegexes, which names a
    // Perl-only construct when RE2 refuses one); its RE2 compiles when
    // first needed.
    rule.trivial = pattern == "^$" ? 1 : pattern == "." ? 2 : 0;
    rule.re = std::make_unique<LazyRegex>(pattern, Re2Options());
    rule.warning_at = warnings_->size();  // (where a warning about it goes, in file order)
    rule.source = std::string(Trim(rest));
    Keep(std::move(rule));
    return Status::OK();
  }

  Status AddLinks(std::string_view rest, const std::string& origin) {
    Rule rule;
    std::string_view name = NextWord(&rest);
    Status st = NewRule(name, Target::kLinks, origin, &rule);
    if (!st.ok()) return st;
    rest = StripComment(rest);
    std::string_view op = NextWord(&rest);
    if (op == ">") rule.cmp = Cmp::kGt;
    else if (op == ">=") rule.cmp = Cmp::kGe;
    else if (op == "<") rule.cmp = Cmp::kLt;
    else if (op == "<=") rule.cmp = Cmp::kLe;
    else if (op == "==") rule.cmp = Cmp::kEq;
    else return RuleErr(origin, name, "links: expected one of > >= < <= == then a number, e.g. 'links NAME > 3'");
    if (!ParseCount(rest, 0, 1000000, &rule.count))
      return RuleErr(origin, name, "links: expected a whole number, got '" + std::string(rest) + "'");
    rule.source = std::string(op) + " " + std::string(rest);
    Keep(std::move(rule));
    return Status::OK();
  }

  Status AddCheck(std::string_view rest, const std::string& origin) {
    Rule rule;
    std::string_view name = NextWord(&rest);
    Status st = NewRule(name, Target::kCheck, origin, &rule);
    if (!st.ok()) return st;
    rest = StripComment(rest);
    for (const auto& c : kConditions) {
      if (rest == c.name) {
        rule.condition = c.cond;
        rule.source = std::string(rest);
        Keep(std::move(rule));
        return Status::OK();
      }
    }
    std::string known;
    for (const auto& c : kConditions) known += std::string(known.empty() ? "" : ", ") + c.name;
    return RuleErr(origin, name, "check: unknown condition '" + std::string(rest.substr(0, 40)) + "' (known: " + known + ")");
  }

  Status AddMeta(std::string_view rest, const std::string& origin) {
    Rule rule;
    std::string_view name = NextWord(&rest);
    Status st = NewRule(name, Target::kMeta, origin, &rule);
    if (!st.ok()) return st;
    rest = StripComment(rest);
    std::string error;
    if (rest.empty()) return RuleErr(origin, name, "meta: missing expression");
    if (!ParseMeta(rest, &rule.meta, &error)) return RuleErr(origin, name, "meta: " + error);
    rule.source = std::string(rest);
    Keep(std::move(rule));
    return Status::OK();
  }

  // learned NAME LO HI: fires when the learner's spam probability p is in
  // [LO, HI) (HI 1 includes 1). Ranges of learned rules must not overlap.
  Status AddLearned(std::string_view rest, const std::string& origin) {
    Rule rule;
    std::string_view name = NextWord(&rest);
    Status st = NewRule(name, Target::kLearned, origin, &rule);
    if (!st.ok()) return st;
    rest = StripComment(rest);
    std::string_view lo = NextWord(&rest), hi = NextWord(&rest);
    if (!ParseNumber(lo, &rule.prob_lo) || !ParseNumber(hi, &rule.prob_hi) || !Trim(rest).empty() ||
        !(rule.prob_lo >= 0) || !(rule.prob_hi <= 1) || !(rule.prob_lo < rule.prob_hi))
      return RuleErr(origin, name, "learned: expected two probabilities LO HI with 0 <= LO < HI <= 1, e.g. "
                                   "'learned LEARNED_SPAM_99 0.99 1.00'");
    for (const auto& r : rules_) {
      if (r.target != Target::kLearned) continue;
      if (rule.prob_lo < r.prob_hi && r.prob_lo < rule.prob_hi)
        return RuleErr(origin, name, "learned: range " + Num(rule.prob_lo) + ".." + Num(rule.prob_hi) +
                                         " overlaps " + r.name + " (" + Num(r.prob_lo) + ".." + Num(r.prob_hi) +
                                         ", " + r.origin + ")");
    }
    rule.source = std::string(lo) + " " + std::string(hi);
    Keep(std::move(rule));
    return Status::OK();
  }

  Status ApplyScores() {
    for (const auto& p : scores_) {
      auto it = index_.find(p.name);
      if (it == index_.end()) {
        Status st = Err(p.origin, "score for unknown rule '" + p.name + "'");
        if (opts_.strict) return st;
        warnings_->push_back(st.message());
        continue;
      }
      rules_[it->second].score = p.score;
    }
    for (const auto& p : describes_) {
      auto it = index_.find(p.name);
      if (it == index_.end()) {
        Status st = Err(p.origin, "describe for unknown rule '" + p.name + "'");
        if (opts_.strict) return st;
        warnings_->push_back(st.message());
        continue;
      }
      rules_[it->second].description = p.text;
    }
    return Status::OK();
  }

  // Resolves names in metas to indexes, drops (non-strict) or refuses
  // (strict) metas with unknown names or cycles, and orders metas so that
  // each comes after every meta it uses. Linear in the rules and the names
  // they use, and without recursion: a chain of metas as long as the file
  // allows costs no stack.
  Status ResolveMetas() {
    const size_t n = rules_.size();
    std::vector<uint8_t> dead(n, 0);
    std::vector<std::vector<int>> uses(n), used_by(n);  // meta -> metas it uses, and back
    std::vector<int> dying;
    auto warn = [&](const Status& st) { warnings_->push_back(st.message()); };
    for (size_t i = 0; i < n; ++i) {
      const Rule& r = rules_[i];
      if (r.target != Target::kMeta) continue;
      for (const auto& name : r.meta.names) {
        auto it = index_.find(name);
        if (it == index_.end()) {
          Status st = RuleErr(r.origin, r.name, "meta uses unknown rule '" + name + "'");
          if (opts_.strict) return st;
          warn(st);
          dead[i] = 1;
          dying.push_back(int(i));
          break;
        }
        size_t j = it->second;
        if (rules_[j].target == Target::kLearned)
          return RuleErr(r.origin, r.name, "meta uses learned rule '" + name +
                                               "': learned rules are scored after the content rules and metas");
        if (rules_[j].target == Target::kMeta) {
          uses[i].push_back(int(j));
          used_by[j].push_back(int(i));
        }
      }
    }
    // A meta that uses a dropped meta is dropped too.
    auto cascade = [&] {
      while (!dying.empty()) {
        int j = dying.back();
        dying.pop_back();
        for (int i : used_by[size_t(j)]) {
          if (dead[size_t(i)]) continue;
          warn(RuleErr(rules_[size_t(i)].origin, rules_[size_t(i)].name,
                       "meta uses unknown rule '" + rules_[size_t(j)].name + "' (dropped above)"));
          dead[size_t(i)] = 1;
          dying.push_back(i);
        }
      }
    };
    cascade();
    // Cycles: the strongly connected components of the live metas (Tarjan,
    // with an explicit stack). A component of more than one meta, or a meta
    // that uses itself, is a cycle. Tarjan completes a component only after
    // every component it uses, so the order of completion is also the order
    // of evaluation: each meta after the metas it uses.
    std::vector<int> completed;
    {
      std::vector<int> num(n, -1), low(n, 0), comp_stack;
      std::vector<uint8_t> on_stack(n, 0);
      std::vector<std::pair<int, size_t>> frames;  // (meta, next edge)
      int counter = 0;
      std::vector<int> cyclic;
      for (size_t s0 = 0; s0 < n; ++s0) {
        if (rules_[s0].target != Target::kMeta || dead[s0] || num[s0] >= 0) continue;
        frames.push_back({int(s0), 0});
        num[s0] = low[s0] = counter++;
        comp_stack.push_back(int(s0));
        on_stack[s0] = 1;
        while (!frames.empty()) {
          auto& [v, e] = frames.back();
          if (e < uses[size_t(v)].size()) {
            int w = uses[size_t(v)][e++];
            if (dead[size_t(w)]) continue;
            if (num[size_t(w)] < 0) {
              num[size_t(w)] = low[size_t(w)] = counter++;
              comp_stack.push_back(w);
              on_stack[size_t(w)] = 1;
              frames.push_back({w, 0});
            } else if (on_stack[size_t(w)]) {
              low[size_t(v)] = std::min(low[size_t(v)], num[size_t(w)]);
            }
            continue;
          }
          int done = v;
          frames.pop_back();
          if (!frames.empty()) {
            int parent = frames.back().first;
            low[size_t(parent)] = std::min(low[size_t(parent)], low[size_t(done)]);
          }
          if (low[size_t(done)] != num[size_t(done)]) continue;
          std::vector<int> comp;
          int w;
          do {
            w = comp_stack.back();
            comp_stack.pop_back();
            on_stack[size_t(w)] = 0;
            comp.push_back(w);
          } while (w != done);
          bool self = comp.size() == 1 &&
                      std::find(uses[size_t(done)].begin(), uses[size_t(done)].end(), done) != uses[size_t(done)].end();
          if (comp.size() > 1 || self) cyclic.insert(cyclic.end(), comp.begin(), comp.end());
          else completed.push_back(done);
        }
      }
      std::sort(cyclic.begin(), cyclic.end());
      for (int c : cyclic) {
        Status st = RuleErr(rules_[size_t(c)].origin, rules_[size_t(c)].name, "meta depends on itself (a cycle of metas)");
        if (opts_.strict) return st;
        warn(st);
        dead[size_t(c)] = 1;
        dying.push_back(c);
      }
      cascade();
    }
    // Drop the dead rules, once; the order keeps the survivors.
    // (In place: a second array of rules is memory a one-request process
    // would only touch once.)
    std::vector<int> new_index(n, -1);
    size_t live = 0;
    for (size_t i = 0; i < n; ++i) {
      if (dead[i]) continue;
      new_index[i] = int(live);
      if (live != i) rules_[live] = std::move(rules_[i]);
      ++live;
    }
    bool dropped = live != n;
    rules_.erase(rules_.begin() + std::ptrdiff_t(live), rules_.end());
    if (dropped) {
      index_.clear();
      for (size_t k = 0; k < rules_.size(); ++k) index_[rules_[k].name] = k;
    }
    order_.clear();
    for (int m : completed)
      if (!dead[size_t(m)]) order_.push_back(new_index[size_t(m)]);
    for (auto& r : rules_) {
      if (r.target != Target::kMeta) continue;
      for (auto& node : r.meta.nodes)
        if (node.op == MetaNode::kRule) node.value = int64_t(index_[r.meta.names[size_t(node.value)]]);
    }
    return Status::OK();
  }

  // A pattern RE2 refused: named by its Perl-only construct when it holds
  // one (every one of them is refused, so a pattern RE2 took, or that the
  // atom cache holds, is never scanned for them).
  Status BadRegex(const Rule& rule, const std::string& error) {
    std::string perl = FindPerlOnlyConstruct(rule.re->pattern());
    if (perl.empty()) return RuleErr(rule.origin, rule.name, "bad regex: " + error);
    return RuleErr(rule.origin, rule.name,
                   "pattern uses the " + perl +
                       ", a Perl-only construct that RE2 cannot run (RE2 matches in linear time and has no "
                       "backreferences or look-around)");
  }

  RE2::Options Re2Options() const {
    RE2::Options o;
    o.set_log_errors(false);
    o.set_max_mem(opts_.re2_max_mem);
    return o;
  }

  // Each regex rule's atoms: from the cache beside the database, else
  // computed (which checks the pattern: a bad one is refused, or dropped
  // with a warning when lenient, as any broken line). A cache that missed
  // is rewritten with exactly the patterns in use.
  Status PrepareRegexes(PrefilterInfo* info) {
    std::string cache_path = settings_.state.rule_cache;
    if (cache_path.empty()) {
      std::string db = !opts_.database.empty()            ? opts_.database
                       : !settings_.state.database.empty() ? settings_.state.database
                                                           : opts_.default_database;
      bool server = db.rfind("redis://", 0) == 0 || db.rfind("redis+unix://", 0) == 0;
      if (!db.empty() && db != "none" && !server) cache_path = db + "-rulecache";
    }
    if (cache_path == "none") cache_path.clear();
    AtomCache& cache = cache_;
    bool any_regex = false;
    for (const auto& r : rules_) any_regex = any_regex || r.target < Target::kRegexCount;
    if (!cache_path.empty() && any_regex) cache.Load(cache_path);
    info->cache = cache_path;
    std::vector<uint64_t>& keys = cache_keys_;
    size_t live = 0;  // (the rules kept, moved down in place)
    auto keep = [&](Rule& rule) {
      if (&rules_[live] != &rule) rules_[live] = std::move(rule);
      ++live;
    };
    bool dropped = false;
    size_t inserted = 0;
    auto warn_late = [&](const Rule& rule, std::string msg) {
      size_t at = std::min(rule.warning_at + inserted++, warnings_->size());
      warnings_->insert(warnings_->begin() + std::ptrdiff_t(at), std::move(msg));
    };
    for (auto& rule : rules_) {
      if (rule.target >= Target::kRegexCount) {
        keep(rule);
        continue;
      }
      if (cache_path.empty()) {
        // No cache: finding atoms would cost more than it saves. The
        // pattern is parsed into its field's set (compiled when first
        // needed), as every engine did before atoms.
        auto& set = sets_[size_t(rule.target)];
        if (!set) set = std::make_unique<RE2::Set>(Re2Options(), RE2::UNANCHORED);
        std::string error;
        if (set->Add(rule.re->pattern(), &error) < 0) {
          Status st = BadRegex(rule, error);
          if (opts_.strict) return st;
          warn_late(rule, st.message());
          dropped = true;
          continue;
        }
        keep(rule);
        continue;
      }
      const uint64_t key = AtomCache::Key(rule.re->pattern(), opts_.re2_max_mem);
      if (cache.Has(key)) {
        ++info->from_cache;  // (decoded only if its field's layout is not cached)
      } else {
        Atoms a;
        std::string error;
        if (!ComputeAtoms(rule.re->pattern(), Re2Options(), &a, &error, /*split_branches=*/true)) {
          Status st = BadRegex(rule, error);
          if (opts_.strict) return st;
          warn_late(rule, st.message());
          dropped = true;
          continue;
        }
        ++info->computed;
        cache.Put(key, std::move(a));
      }
      keys.push_back(key);
      rule.atom_key = key;
      keep(rule);
    }
    rules_.erase(rules_.begin() + std::ptrdiff_t(live), rules_.end());
    if (dropped) {
      index_.clear();
      for (size_t k = 0; k < rules_.size(); ++k) index_[rules_[k].name] = k;
    }
    return Status::OK();  // (the cache is written after Compile, with the fields' automata)
  }

  // The number of header words of a field's layout: rules, slots, the
  // automaton's key (two words), atoms (for stats).
  static constexpr size_t kLayoutHeader = 5;
  // (The whole pattern's block and as many branches as SplitAlternation
  // makes, at most.)
  static constexpr uint32_t kMaxRuleBranches = 65;

  // Points the field and its rules into a layout (words, count long); false
  // when the words do not describe exactly this field's rules, so nothing
  // read from a cache file is trusted unchecked.
  static bool UseLayout(RuleSet* rs, RuleSet::FieldRules* fr, const uint32_t* w, size_t count) {
    if (count < kLayoutHeader || w[0] != fr->all.size()) return false;
    const size_t nrules = w[0], nslots = w[1];
    if (nslots > count) return false;
    size_t at = kLayoutHeader;
    if (count - at < nslots + 1) return false;
    const uint32_t* slot_off = w + at;
    at += nslots + 1;
    if (slot_off[0] != 0) return false;
    for (size_t k = 0; k < nslots; ++k)
      if (slot_off[k + 1] < slot_off[k]) return false;
    const size_t nitems = slot_off[nslots];
    if (count - at < nitems) return false;
    const uint32_t* items = w + at;
    at += nitems;
    for (size_t k = 0; k < nitems; ++k)
      if (!std::binary_search(fr->all.begin(), fr->all.end(), int(items[k]))) return false;
    if (count - at < nrules + 1) return false;
    const uint32_t* rule_off = w + at;
    at += nrules + 1;
    const uint32_t* words = w + at;
    const size_t nwords = count - at;
    if (rule_off[0] != 0 || rule_off[nrules] != nwords) return false;
    for (size_t k = 0; k < nrules; ++k) {
      uint32_t branches = 0;
      if (rule_off[k + 1] > nwords ||
          !CheckClauseWords(words, rule_off[k], rule_off[k + 1], nslots, kMaxRuleBranches, &branches))
        return false;
    }
    fr->layout = w;
    fr->layout_words = count;
    fr->slots = uint32_t(nslots);
    fr->slot_off = slot_off;
    fr->slot_items = items;
    for (size_t k = 0; k < nrules; ++k) {
      Rule& rule = rs->rules_[size_t(fr->all[k])];
      rule.filtered = words[rule_off[k]] > 0;
      rule.clauses = rule.filtered ? words + rule_off[k] : nullptr;
      rule.branches.reset();
      if (rule.filtered && words[rule_off[k]] > 1) rule.branches = std::make_unique<RuleBranches>(words[rule_off[k]] - 1);
    }
    return true;
  }

  // A field's layout made from its rules' atoms (decoded from the cache or
  // just computed); *automaton gets its atoms in slot order.
  bool BuildLayout(const std::vector<Rule>& rules, const RuleSet::FieldRules& fr, std::vector<uint32_t>* out,
                   std::vector<std::string>* automaton) {
    std::unordered_map<std::string, uint32_t> slots;
    std::vector<std::vector<uint32_t>> slot_rules;
    std::vector<uint32_t> rule_words, rule_off{0};
    uint32_t atoms = 0;
    for (int i : fr.all) {
      const Atoms* a = cache_.Find(rules[size_t(i)].atom_key);
      if (!a) {
        // (Its entry in the file does not decode: found again.)
        Atoms fresh;
        std::string error;
        if (!ComputeAtoms(rules[size_t(i)].re->pattern(), Re2Options(), &fresh, &error, /*split_branches=*/true))
          return false;
        cache_.Put(rules[size_t(i)].atom_key, std::move(fresh));
        a = cache_.Find(rules[size_t(i)].atom_key);
        if (!a) return false;
      }
      if (!a->filtered) {
        rule_words.push_back(0);
        rule_words.push_back(0);
        rule_off.push_back(uint32_t(rule_words.size()));
        continue;
      }
      std::vector<uint32_t> slot(a->atoms.size());
      for (size_t k = 0; k < a->atoms.size(); ++k) {
        auto [it, added] = slots.emplace(a->atoms[k], uint32_t(slot_rules.size()));
        if (added) {
          slot_rules.emplace_back();
          automaton->push_back(a->atoms[k]);
        }
        slot[k] = it->second;
        if (slot_rules[it->second].empty() || slot_rules[it->second].back() != uint32_t(i))
          slot_rules[it->second].push_back(uint32_t(i));
      }
      atoms += uint32_t(a->atoms.size());
      // One block, or the whole pattern's and each branch's (Atoms::branches).
      if (a->branches.empty()) {
        rule_words.push_back(1);
        AppendClauseWords(a->clauses, 0, a->clauses.size(), slot, &rule_words);
      } else {
        rule_words.push_back(uint32_t(a->branches.size()));
        size_t from = 0;
        for (uint16_t m : a->branches) {
          AppendClauseWords(a->clauses, from, from + m, slot, &rule_words);
          from += m;
        }
      }
      rule_off.push_back(uint32_t(rule_words.size()));
    }
    Fnv1a h;
    const uint64_t n = automaton->size();
    h.Mix(&n, sizeof n);
    for (const std::string& a : *automaton) {
      const uint64_t len = a.size();
      h.Mix(&len, sizeof len);
      h.Mix(a.data(), a.size());
    }
    out->clear();
    out->push_back(uint32_t(fr.all.size()));
    out->push_back(uint32_t(slot_rules.size()));
    out->push_back(uint32_t(h.h));
    out->push_back(uint32_t(h.h >> 32));
    out->push_back(atoms);
    uint32_t at = 0;
    out->push_back(0);
    for (const auto& r : slot_rules) out->push_back(at += uint32_t(r.size()));
    for (const auto& r : slot_rules) out->insert(out->end(), r.begin(), r.end());
    out->insert(out->end(), rule_off.begin(), rule_off.end());
    out->insert(out->end(), rule_words.begin(), rule_words.end());
    return true;
  }

  Status Compile(RuleSet* rs) {
    std::array<int, size_t(Target::kRegexCount)> field_of;
    field_of.fill(-1);
    for (size_t i = 0; i < rs->rules_.size(); ++i) {
      Rule& rule = rs->rules_[i];
      if (rule.target >= Target::kRegexCount) continue;
      int& f = field_of[size_t(rule.target)];
      if (f < 0) {
        f = int(rs->fields_.size());
        rs->fields_.emplace_back();
        rs->fields_.back().target = rule.target;
      }
      rs->fields_[size_t(f)].all.push_back(int(i));
    }
    // Each field's layout and automaton: read in place from the cache when
    // it holds them for exactly these rules, else built from the rules'
    // atoms (and kept for the cache).
    std::vector<uint64_t> blobs;
    const bool cached = !rs->prefilter_.cache.empty();
    for (auto& fr : rs->fields_) {
      fr.parsed = std::move(sets_[size_t(fr.target)]);
      if (!cached) {  // (no atoms: every rule unfiltered)
        fr.unfiltered = fr.all;
        rs->prefilter_.unfiltered += fr.all.size();
        continue;
      }
      Fnv1a lh;
      const char tag[] = "layout";
      lh.Mix(tag, sizeof tag);
      const uint8_t target = uint8_t(fr.target);
      lh.Mix(&target, 1);
      for (int i : fr.all) {
        const uint64_t k = rs->rules_[size_t(i)].atom_key;
        lh.Mix(&k, sizeof k);
        lh.Mix(&i, sizeof i);
      }
      const uint64_t layout_key = lh.h;
      blobs.push_back(layout_key);
      const uint32_t* words = nullptr;
      size_t count = 0;
      bool viewed = cache_.ViewWords(layout_key, &words, &count) && UseLayout(rs, &fr, words, count);
      std::vector<std::string> atoms;
      if (viewed) {
        ++rs->prefilter_.layouts_from_cache;
      } else {
        if (!BuildLayout(rs->rules_, fr, &fr.layout_own, &atoms))
          return Status::IOError("rule cache " + rs->prefilter_.cache + ": a rule's atoms went missing");
        if (!UseLayout(rs, &fr, fr.layout_own.data(), fr.layout_own.size()))
          return Status::IOError("rule cache: a field's layout does not check");
        ++rs->prefilter_.layouts_built;
        cache_.PutWords(layout_key, fr.layout_own);
      }
      const uint64_t automaton_key = uint64_t(fr.layout[2]) | uint64_t(fr.layout[3]) << 32;
      rs->prefilter_.atoms += fr.layout[4];
      for (int i : fr.all) {
        const Rule& rule = rs->rules_[size_t(i)];
        if (rule.filtered) ++rs->prefilter_.filtered;
        else {
          (rule.trivial ? fr.trivial : fr.unfiltered).push_back(i);
          ++rs->prefilter_.unfiltered;
        }
      }
      if (fr.slots == 0) continue;
      blobs.push_back(automaton_key);
      if (cache_.ViewAutomaton(automaton_key, fr.slots - 1, &fr.atoms)) {
        ++rs->prefilter_.automata_from_cache;
        continue;
      }
      if (atoms.empty()) {  // (the layout was read, the automaton was not: the atoms again)
        std::vector<uint32_t> again;
        if (!BuildLayout(rs->rules_, fr, &again, &atoms) || again.size() != fr.layout_words ||
            !std::equal(again.begin(), again.end(), fr.layout))
          return Status::IOError("rule cache " + rs->prefilter_.cache + ": a field's layout does not match its atoms");
      }
      for (size_t k = 0; k < atoms.size(); ++k) fr.atoms.Add(atoms[k], uint32_t(k));
      fr.atoms.Build();
      ++rs->prefilter_.automata_built;
      cache_.PutAutomaton(automaton_key, fr.atoms);
    }
    if (rs->prefilter_.automata_from_cache > 0) rs->atom_bytes_ = cache_.bytes();
    if (cached && (rs->prefilter_.computed > 0 || rs->prefilter_.automata_built > 0 || rs->prefilter_.layouts_built > 0))
      rs->prefilter_.cache_written = cache_.Save(rs->prefilter_.cache, cache_keys_, blobs);
    rs->atoms_ready_ = !rs->prefilter_.cache.empty();
    if (!opts_.lazy_compile) {
      // Everything compiled now: each field's whole set (over its budget:
      // refused without atoms, matched by them with).
      for (const auto& fr : rs->fields_)
        if (!rs->FullSet(fr) && !rs->atoms_ready_) return rs->BudgetError(fr);
    }
    for (size_t i = 0; i < rs->rules_.size(); ++i) {
      Target t = rs->rules_[i].target;
      if (t == Target::kLinks || t == Target::kCheck) rs->computed_.push_back(int(i));
      if (t == Target::kLearned) rs->learned_.push_back(int(i));
    }
    std::sort(rs->learned_.begin(), rs->learned_.end(),
              [rs](int a, int b) { return rs->rules_[size_t(a)].prob_lo < rs->rules_[size_t(b)].prob_lo; });
    rs->metas_ = order_;
    return Status::OK();
  }

  LoadOptions opts_;
  std::vector<std::string>* warnings_;
  AtomCache cache_;                   // the atom cache, read by PrepareRegexes, written after Compile
  std::vector<uint64_t> cache_keys_;  // its entries the rules use
  // Without an atom cache: each field's patterns, parsed (set order = rule
  // order within the field).
  std::array<std::unique_ptr<RE2::Set>, size_t(Target::kRegexCount)> sets_;
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, std::string>> include_stack_;  // (dev, ino), path
  std::map<std::pair<uint64_t, uint64_t>, std::string> included_;
  size_t total_bytes_ = 0;
  std::vector<Rule> rules_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<Pending> scores_, describes_;
  std::vector<int> order_;
  Settings settings_;
};

Status RuleSet::LoadFile(const std::string& path, const LoadOptions& opts, std::unique_ptr<RuleSet>* out,
                         std::vector<std::string>* warnings) {
  Builder b(opts, warnings);
  Status st = b.ParseFile(path, 0);
  if (!st.ok()) return st;
  return b.Finish(out);
}

Status RuleSet::LoadString(std::string_view text, const std::string& name, const LoadOptions& opts,
                           std::unique_ptr<RuleSet>* out, std::vector<std::string>* warnings) {
  Builder b(opts, warnings);
  Status st = b.ParseText(text, name, 0);
  if (!st.ok()) return st;
  return b.Finish(out);
}

const RE2::Set* RuleSet::UnfilteredSet(const FieldRules& fr) const {
  std::call_once(*fr.once, [this, &fr] {
    RE2::Options o;
    o.set_log_errors(false);
    o.set_max_mem(re2_max_mem_);
    auto set = std::make_unique<RE2::Set>(o, RE2::UNANCHORED);
    for (int r : fr.unfiltered)
      if (set->Add(rules_[size_t(r)].re->pattern(), nullptr) < 0) return;
    if (!set->Compile()) return;
    const_cast<FieldRules&>(fr).set = std::move(set);
  });
  return fr.set.get();
}

const RE2::Set* RuleSet::FullSet(const FieldRules& fr) const {
  std::call_once(*fr.full_once, [this, &fr] {
    auto& mfr = const_cast<FieldRules&>(fr);
    std::unique_ptr<RE2::Set> set = std::move(mfr.parsed);
    if (!set) {
      RE2::Options o;
      o.set_log_errors(false);
      o.set_max_mem(re2_max_mem_);
      set = std::make_unique<RE2::Set>(o, RE2::UNANCHORED);
      for (int r : fr.all)
        if (set->Add(rules_[size_t(r)].re->pattern(), nullptr) < 0) return;
    }
    if (!set->Compile()) return;  // (over the budget: the atoms go on, if there are any)
    mfr.full = std::move(set);
  });
  return fr.full.get();
}

Status RuleSet::BudgetError(const FieldRules& fr) const {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(re2_max_mem_);
  // Name the rule that is too large on its own, if one is.
  for (int r : fr.all) {
    const Rule& rule = rules_[size_t(r)];
    RE2 alone(rule.re->pattern(), o);
    if (!alone.ok()) return Status::RuleError(rule.origin + ": rule " + rule.name + ": bad regex: " + alone.error());
  }
  // Point at the largest pattern of the set, the likeliest to change.
  const Rule* largest = nullptr;
  for (int r : fr.all)
    if (!largest || rules_[size_t(r)].re->pattern().size() > largest->re->pattern().size()) largest = &rules_[size_t(r)];
  return Status::RuleError(largest->origin + ": rule " + largest->name + ": the " + TargetName(fr.target) +
                           " rules together exceed the RE2 memory budget (re2_max_mem " + std::to_string(re2_max_mem_) +
                           " bytes); this is the largest pattern (" + std::to_string(largest->re->pattern().size()) +
                           " bytes). Give the engine a database (or rule_cache FILE) and such a set is matched by its "
                           "atoms instead");
}

int RuleSet::LearnedRuleFor(double p) const {
  for (int r : learned_) {
    const Rule& rule = rules_[size_t(r)];
    if (p >= rule.prob_lo && (p < rule.prob_hi || (rule.prob_hi >= 1 && p <= 1))) return r;
  }
  return -1;
}

const std::vector<std::unique_ptr<LazyRegex>>* RuleBranches::Get(const LazyRegex& whole) const {
  std::call_once(once_, [&] {
    std::vector<std::string> parts;
    bool fixed = false;
    if (!SplitAlternation(whole.pattern(), &parts, &fixed) || !fixed || parts.size() != expect_) return;
    for (auto& p : parts) parts_.push_back(std::make_unique<LazyRegex>(std::move(p), whole.options()));
  });
  return parts_.empty() ? nullptr : &parts_;
}

void RuleSet::MatchIn(int rule, std::string_view text, std::string* out, uint64_t branches) const {
  out->clear();
  if (rule < 0 || size_t(rule) >= rules_.size() || !rules_[size_t(rule)].re) return;
  const Rule& r = rules_[size_t(rule)];
  const auto* parts = branches != 0 && r.branches ? r.branches->Get(*r.re) : nullptr;
  re2::StringPiece m;
  if (parts) {
    // The leftmost match of the branches that matched, the first of them
    // there (as Evaluate finds it at once, and the whole pattern would).
    re2::StringPiece best;
    bool found = false;
    for (size_t b = 0; b < parts->size() && b < 64; ++b) {
      if (!(branches >> b & 1)) continue;
      if ((*parts)[b]->Get().Match(text, 0, text.size(), RE2::UNANCHORED, &m, 1) && (!found || m.data() < best.data())) {
        best = m;
        found = true;
      }
    }
    if (found) CapMatch(best, out);
    return;
  }
  if (r.re->Get().Match(text, 0, text.size(), RE2::UNANCHORED, &m, 1)) CapMatch(m, out);
}

double RuleSet::Evaluate(const comment::Normalized& n, std::vector<Hit>* hits, Status* error,
                         bool defer_matches) const {
  // (Kept by the thread from one comment to the next.)
  thread_local std::vector<uint8_t> fired;
  thread_local std::vector<Hit> found;
  // What silent building blocks matched, so that a meta built on them can
  // show it ("__AUTHOR_STRONG 'casino'"); few fire per comment.
  thread_local std::vector<Hit> silent;
  // Silent regex rules that fired, their matched text not yet looked for:
  // only a meta that fires shows it, and finding it can cost a compile of
  // the rule's reverse program in a fresh process.
  struct Unbounded {
    int rule;
    std::string_view text;
  };
  thread_local std::vector<Unbounded> unbounded;
  // Silent building blocks whose atoms hold, not run yet: a meta runs them
  // when its value depends on them (SG_PHARMA_OBFUSCATED is __PHARMA_LOOSE
  // && !SG_PHARMA_DRUGS: once SG_PHARMA_DRUGS fired, the loose pattern is
  // never compiled). One entry per text a rule waits on.
  struct Waiting {
    int rule;
    std::string_view text;
    bool whole;
    size_t atoms_from, atoms_to;  // the field's atoms found, in waiting_atoms (for its branches)
  };
  thread_local std::vector<Waiting> waiting;
  thread_local std::vector<uint32_t> waiting_atoms;
  thread_local std::vector<uint8_t> waits;  // per rule: it has entries in `waiting`
  fired.assign(rules_.size(), 0);
  waits.assign(rules_.size(), 0);
  found.clear();
  silent.clear();
  unbounded.clear();
  waiting.clear();
  waiting_atoms.clear();
  auto fire = [&](int r, std::string_view m) {
    fired[size_t(r)] = 1;
    const bool quiet = rules_[size_t(r)].Silent();
    // (A one-character match, as of /./, says nothing worth showing.)
    if (quiet && !(rules_[size_t(r)].target < Target::kRegexCount && m.size() > 1)) return;
    Hit h{r, {}};
    CapMatch(m, &h.match);
    (quiet ? silent : found).push_back(std::move(h));
  };
  // Regex rule r matched in text (through these branches of its
  // alternation, as bits; 0: the whole pattern). What it shows: a link
  // rule the whole link; a silent block nothing yet (a meta that fires
  // looks for it); a scoring rule its match, found now (MatchIn) or, with
  // defer_matches, when the hit is read.
  auto matched = [&](int r, std::string_view text, bool whole, uint64_t branches) {
    if (whole) return fire(r, text);
    fired[size_t(r)] = 1;
    if (rules_[size_t(r)].Silent()) {
      unbounded.push_back({r, text});
      return;
    }
    Hit h{r, {}};
    if (defer_matches) {
      h.match_in = text;
      h.branches = branches;
    } else {
      MatchIn(r, text, &h.match, branches);
    }
    found.push_back(std::move(h));
  };
  // The rules of a field whose atoms occur in the folded text, plus those
  // that need none, each run once on the text itself.
  thread_local std::string folded;
  thread_local std::vector<int> candidates;
  thread_local std::vector<uint32_t> present;
  auto holds = [&](const Rule& rule) { return BranchesHold(rule.clauses, present); };
  auto run = [&](int r, std::string_view text, bool whole) {
    if (const uint8_t t = rules_[size_t(r)].trivial) {
      if (t == 1) {
        if (text.empty()) fire(r, {});
        return;
      }
      size_t at = text.find_first_not_of('\n');
      if (at == std::string_view::npos) return;
      const auto c = static_cast<unsigned char>(text[at]);
      const size_t len = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;  // (one character, as /./ finds it)
      fire(r, whole ? text : text.substr(at, std::min(len, text.size() - at)));
      return;
    }
    const Rule& rule = rules_[size_t(r)];
    // Split at its alternation: only the branches whose clauses hold run,
    // each its own small program. The match is the leftmost, the first
    // branch there (as the whole pattern, taking its alternatives in
    // order, finds it): MatchIn, in the branches that matched.
    const auto* parts = rule.branches ? rule.branches->Get(*rule.re) : nullptr;
    if (parts) {
      const uint32_t* w = rule.clauses;
      const uint32_t nb = *w++;
      bool usable = true;
      uint64_t which = 0;  // (the branches that match, as bits)
      for (uint32_t b = 0; b < nb && usable; ++b) {
        const bool holds = b > 0 && ClausesHold(w, present);
        for (uint32_t c = 0, nc = *w++; c < nc; ++c) w += 1 + *w;
        if (!holds) continue;
        const RE2& part = (*parts)[b - 1]->Get();
        if (!part.ok()) {
          usable = false;  // (over its budget alone: the whole pattern below)
          break;
        }
        if (!part.Match(text, 0, text.size(), RE2::UNANCHORED, nullptr, 0)) continue;
        which |= uint64_t(1) << (b - 1);
        if (rule.Silent() || whole) break;  // (whether, not where)
      }
      if (usable) {
        if (which != 0) matched(r, text, whole, which);
        return;
      }
    }
    const RE2& re = rules_[size_t(r)].re->Get();
    if (!re.ok()) {
      // (Checked at load; only a budget lowered since the cache was
      // written can land here.)
      if (error && error->ok())
        *error = Status::RuleError(rules_[size_t(r)].origin + ": rule " + rules_[size_t(r)].name +
                                   ": bad regex: " + re.error());
      return;
    }
    // A pass that only says whether it matches (the DFA alone) first: most
    // candidates do not, and only a match needs its bounds.
    if (re.Match(text, 0, text.size(), RE2::UNANCHORED, nullptr, 0)) matched(r, text, whole, 0);
  };
  thread_local std::vector<int> set_hits;
  const bool warm = !atoms_ready_ || scores_.fetch_add(1, std::memory_order_relaxed) >= warm_scores_;
  auto scan = [&](const FieldRules& fr, std::string_view text, bool whole) {
    const RE2::Set* full = warm ? FullSet(fr) : nullptr;
    if (!full && !atoms_ready_) {
      // (No atoms, and the set is over its budget: refused, never matched
      // slowly rule by rule.)
      if (error && error->ok()) *error = BudgetError(fr);
      return;
    }
    if (full && text.empty()) {
      std::call_once(*fr.empty_once, [&fr, full] {
        auto& mfr = const_cast<FieldRules&>(fr);
        RE2::Set::ErrorInfo info{};
        mfr.empty_ok = full->Match(std::string_view(), &mfr.empty_hits, &info) || info.kind == RE2::Set::kNoError;
        std::sort(mfr.empty_hits.begin(), mfr.empty_hits.end());
      });
      if (fr.empty_ok) {
        for (int k : fr.empty_hits) {
          int r = fr.all[size_t(k)];
          if (!fired[size_t(r)]) fire(r, {});
        }
        return;
      }
    }
    if (full) {
      set_hits.clear();
      RE2::Set::ErrorInfo info{};
      if (full->Match(text, &set_hits, &info) || info.kind == RE2::Set::kNoError) {
        std::sort(set_hits.begin(), set_hits.end());  // (rule order, whichever way they were found)
        for (int k : set_hits) {
          int r = fr.all[size_t(k)];
          if (!fired[size_t(r)]) matched(r, text, whole, 0);
        }
        return;
      }
      // (The set's DFA ran out of memory on this text: the atoms below.)
    }
    candidates.assign(fr.trivial.begin(), fr.trivial.end());
    if (!fr.unfiltered.empty()) {
      const RE2::Set* set = UnfilteredSet(fr);
      set_hits.clear();
      RE2::Set::ErrorInfo info{};
      if (set && (set->Match(text, &set_hits, &info) || info.kind == RE2::Set::kNoError)) {
        for (int k : set_hits) candidates.push_back(fr.unfiltered[size_t(k)]);
      } else {
        // (No set, or its DFA ran out of memory on this text: each rule's
        // own RE2 falls back to the NFA, still in linear time.)
        candidates.insert(candidates.end(), fr.unfiltered.begin(), fr.unfiltered.end());
      }
    }
    if (!fr.atoms.empty()) {
      folded.clear();
      FoldCase(text, &folded);
      present.clear();
      fr.atoms.Scan(folded, [&](uint32_t slot) { present.push_back(slot); });
      std::sort(present.begin(), present.end());
      present.erase(std::unique(present.begin(), present.end()), present.end());
      for (uint32_t slot : present)
        for (uint32_t k = fr.slot_off[slot]; k < fr.slot_off[slot + 1]; ++k) candidates.push_back(int(fr.slot_items[k]));
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    // (In rule order, as the set would report them.)
    size_t atoms_from = SIZE_MAX, atoms_to = 0;
    for (int r : candidates) {
      const Rule& rule = rules_[size_t(r)];
      if (fired[size_t(r)] || (rule.filtered && !holds(rule))) continue;
      if (rule.Silent() && !rule.trivial) {
        if (atoms_from == SIZE_MAX) {  // (this field's atoms, kept for the rule's branches)
          atoms_from = waiting_atoms.size();
          waiting_atoms.insert(waiting_atoms.end(), present.begin(), present.end());
          atoms_to = waiting_atoms.size();
        }
        waiting.push_back({r, text, whole, atoms_from, atoms_to});
        waits[size_t(r)] = 1;
      } else {
        run(r, text, whole);
      }
    }
  };
  for (const auto& fr : fields_) {
    if (fr.target == Target::kUri) {
      for (const auto& link : n.links) scan(fr, link, true);
    } else {
      scan(fr, TextOf(fr.target, n), false);
    }
  }
  for (int r : computed_) {
    const Rule& rule = rules_[size_t(r)];
    if (rule.target == Target::kLinks) {
      if (Compare(int64_t(n.body_links), rule.cmp, rule.count))
        fire(r, std::to_string(n.body_links) + (n.body_links == 1 ? " link" : " links"));
    } else if (CheckCondition(rule.condition, n)) {
      if (rule.condition == Condition::kFormHoneypot) fire(r, "the hidden field held '" + n.honeypot + "'");
      else if (rule.condition == Condition::kFormReplayed) fire(r, n.form_uses);
      else if (rule.condition >= Condition::kFormNoToken) fire(r, n.form_detail);
      else fire(r, ConditionSays(rule.condition));
    }
  }
  // Runs what rule r waits on (each text until it fires); it is known then.
  auto settle = [&](int64_t r) {
    if (!waits[size_t(r)]) return;
    waits[size_t(r)] = 0;
    for (const auto& w : waiting) {
      if (w.rule != int(r) || fired[size_t(r)]) continue;
      present.assign(waiting_atoms.begin() + std::ptrdiff_t(w.atoms_from),
                     waiting_atoms.begin() + std::ptrdiff_t(w.atoms_to));
      run(w.rule, w.text, w.whole);
    }
  };
  auto settle_all = [&](const Rule& meta) {
    for (const auto& node : meta.meta.nodes)
      if (node.op == MetaNode::kRule) settle(node.value);
  };
  for (int r : metas_) {
    const Rule& rule = rules_[size_t(r)];
    auto hit = [&](int64_t i) { return fired[size_t(i)] != 0; };
    bool decided = true;
    int64_t value = EvalMetaPartial(rule.meta, rule.meta.root, [&](int64_t i) { return !waits[size_t(i)]; }, hit, &decided);
    if (!decided) {
      settle_all(rule);
      value = EvalMeta(rule.meta, rule.meta.root, hit);
    }
    if (value != 0) {
      settle_all(rule);  // (what it shows: every rule it uses that fired, as if all had run)
      // What it matched: the rules it uses that fired.
      std::string why;
      std::vector<int64_t> seen;
      for (const auto& node : rule.meta.nodes) {
        if (node.op != MetaNode::kRule || !fired[size_t(node.value)]) continue;
        if (std::find(seen.begin(), seen.end(), node.value) != seen.end()) continue;
        seen.push_back(node.value);
        if (!why.empty()) why += " + ";
        why += rules_[size_t(node.value)].name;
        for (auto& u : unbounded) {
          if (u.rule != int(node.value)) continue;
          // (Its bounds now, once: a meta that fires shows what it matched.)
          re2::StringPiece m;
          if (rules_[size_t(u.rule)].re->Get().Match(u.text, 0, u.text.size(), RE2::UNANCHORED, &m, 1)) fire(u.rule, m);
          u.rule = -1;
        }
        for (const auto& sh : silent)
          if (sh.rule == int(node.value)) why += " '" + sh.match + "'";
      }
      fire(r, why.empty() ? std::string("(") + rule.source + ")" : why);
    }
  }
  double total = 0;
  for (const auto& h : found) total += rules_[size_t(h.rule)].score;
  if (hits) {
    for (auto& h : found) hits->push_back(std::move(h));
  }
  return total;
}

}  // namespace spamguard::rules
