// The rules language (.cf files) and the compiled, immutable rule set.
//
// A RuleSet is built once by Load() and then only read: Evaluate() is safe to
// call from many threads at once. Each regex rule names the literals it
// cannot match without (its atoms, see atom_cache.h); a comment's fields are
// scanned once for all atoms (LiteralSet), and only the rules whose atoms
// appear, plus the few that need none, run their own RE2 — compiled when
// first needed, so a process pays only for the rules its comments reach.
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <cstdint>
#include <memory>
#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "comment/comment.h"
#include "rules/lazy_regex.h"
#include "rules/meta.h"
#include "util/literal_set.h"
#include "util/status.h"

namespace spamguard::rules {

// What a rule looks at.
enum class Target : uint8_t {
  kBody, kRawBody, kAuthor, kEmail, kUrl, kUri, kUa, kReferrer,
  kBlogName, kTitle, kExcerpt, kSourceUrl, kIp,
  kRegexCount,  // number of regex targets; the rest are computed rules
  kLinks = kRegexCount, kCheck, kMeta,
  kLearned,  // a step of the content learner's probability, scored by the engine
};
const char* TargetName(Target t);

// Built-in conditions for `check` rules.
enum class Condition : uint8_t {
  kInvalidUtf8, kTruncated, kBadIp, kNoIp, kLinksCapped, kEmptyBody,
  kLinkOnly, kDomainInText, kZeroWidth, kMixedScripts, kStyledLetters, kTrackback, kPingback, kTitleIsBlogName, kEmptyExcerpt, kAuthorIsName,
  kFormNoToken, kFormMalformed, kFormForged, kFormOtherPost, kFormTooFast, kFormTooOld, kFormReplayed, kFormHoneypot,
};

enum class Cmp : uint8_t { kGt, kGe, kLt, kLe, kEq };

// The branches of a rule whose pattern is one top alternation (see
// SplitAlternation in atom_cache.h), each compiled when a comment first
// needs it: the atoms' path runs only the branches whose clauses hold, a
// small program each, instead of the whole pattern (the praise rule is a
// 1,446-instruction program; its branches, 50 to 300).
class RuleBranches {
 public:
  explicit RuleBranches(size_t expect) : expect_(expect) {}
  // Each branch's regex, in order; null when the pattern does not split
  // into the branches the rule cache counted, or when what comes before
  // its alternation makes a choice (then only the whole pattern tells what
  // it matched).
  const std::vector<std::unique_ptr<LazyRegex>>* Get(const LazyRegex& whole) const;

 private:
  size_t expect_;
  mutable std::once_flag once_;
  mutable std::vector<std::unique_ptr<LazyRegex>> parts_;
};

struct Rule {
  std::string name;
  Target target = Target::kBody;
  std::string source;  // the pattern, count test, condition or expression as written
  std::unique_ptr<LazyRegex> re;  // regex rules
  // Regex rules: run only on a text that holds an atom of every clause of
  // some branch (atom_cache.h); clauses name atoms by their slot in the
  // field's set.
  // Its branches, in its field's layout (util/clause_words.h): a count,
  // then each branch's clauses as a count and each clause as a
  // count and its slots (sorted).
  bool filtered = false;
  const uint32_t* clauses = nullptr;
  std::unique_ptr<RuleBranches> branches;  // (clauses in more than one block)
  uint64_t atom_key = 0;                            // (while loading)
  // Patterns decided without RE2 (no process compiles a regex for them):
  // 1 for /^$/ (the text is empty), 2 for /./ (it holds a character other
  // than a newline).
  uint8_t trivial = 0;
  size_t warning_at = 0;                            // (while loading)
  Cmp cmp = Cmp::kGt;       // links rules
  int64_t count = 0;
  Condition condition = Condition::kEmptyBody;  // check rules
  MetaExpr meta;                               // meta rules (kRule values = rule indexes)
  double prob_lo = 0, prob_hi = 1;             // learned rules: fires when lo <= probability < hi (hi 1: <= 1)
  double score = 1.0;
  std::string description;
  std::string origin;  // "file:line"
  // Rules named __* are building blocks for metas: they score nothing and
  // are not listed in verdicts. A score of 0 disables a rule the same way.
  bool Silent() const { return score == 0.0 || name.compare(0, 2, "__") == 0; }
};

// One `ratelimit` line: KEY RATE/PERIOD [burst N].
struct RateLimitSpec {
  enum Key : uint8_t { kIp, kNet, kPost, kEmail, kKind, kGlobal } key = kIp;
  int prefix = 0;        // kNet: prefix length (IPv4 /N, or the IPv6 one below)
  int prefix6 = 64;      // kNet: IPv6 prefix length
  int kind = 0;          // kKind: SG_KIND_*
  int64_t count = 0;     // RATE
  int64_t period_ms = 0; // PERIOD
  int64_t burst = 0;     // requests allowed at once (default: count)
  std::string text;      // as written, for verdicts: "ip 5/60s burst 3"
  std::string origin;
};

// Settings of the stateful stages, read from the same file.
struct StateSettings {
  std::string database;  // path; "none": no state; empty: the default path
  int busy_timeout_ms = 5000;
  bool fail_closed = false;  // refuse to open when the database is unavailable
  bool ratelimit_fail_closed = false;  // throttle when the rate state cannot be had
  bool database_check_owner = true;    // refuse a database file others could have written
  // A Redis database (database redis://...): the blog's namespace (its keys
  // start "sg:{NAME}:"), the password's file, timeouts in milliseconds.
  std::string redis_namespace = "default";
  std::string redis_password_file;
  int redis_connect_timeout_ms = 200, redis_timeout_ms = 200;
  int block_action = SG_ACTION_SPAM;
  double rep_half_life_days = 30, rep_min_evidence = 3, rep_cap = 4, rep_weight = 1;
  int rep_prefix4 = 24, rep_prefix6 = 64;
  bool auto_learn = false;
  double auto_learn_ham_score = 0;
  std::vector<RateLimitSpec> ratelimits;
  int ratelimit_ban_after = 0;        // periods over a limit before an address is banned; 0: never
  int64_t ratelimit_ban_seconds = 3600;
  int retention_days = 365;  // what Prune keeps of commenters' traces; 0: everything
  struct Proxy {
    std::string block;   // as written: "203.0.113.0/24", "2001:db8::1"
    std::string origin;  // file:line, for the engine's error
  };
  std::vector<Proxy> trusted_proxies;  // parsed by the engine (lists::ParseRange)
  // The content learner: scored (by the `learned` rules) once it has learned
  // this many spam and ham comments; its token table is kept under
  // learn_max_tokens rows by forgetting the tokens least recently learned.
  int learn_min_spam = 10, learn_min_ham = 10;
  int learn_max_tokens = 150000;
  // Comment-form tokens: sent sooner than form_min_seconds after the form
  // was shown is too fast, later than form_max_seconds too old; used more
  // than form_max_uses times, replayed. A secret given here (form_secret,
  // or the first line of form_secret_file) signs and verifies instead of
  // the database's.
  int form_min_seconds = 3;
  int form_max_seconds = 86400;
  int form_max_uses = 3;
  std::string form_secret;
  std::string form_secret_file, form_secret_origin;
  // Points for a comment holding an entry of a keyword list (LIST_KEYWORD).
  double keyword_points = 6.0;
  // Where the rules' atoms are cached: "" beside the database
  // (DATABASE-rulecache), "none" nowhere.
  std::string rule_cache;
};

struct Settings {
  double moderate_score = 2.5;
  double required_score = 5.0;
  double discard_score = 12.0;
  comment::Limits limits;
  bool has_max_body = false, has_max_field = false, has_max_links = false;
  StateSettings state;
};

struct LoadOptions {
  bool strict = true;
  int64_t re2_max_mem = 32 << 20;  // per rule
  // Compile each rule's RE2 when a comment first needs it instead of at
  // load. Load still checks every pattern (or finds it checked in the atom
  // cache) and reports errors.
  bool lazy_compile = false;
  // The database the engine will use ("" the .cf's, else default_database;
  // "none"), for the atom cache beside it.
  std::string database, default_database;
  // With atoms, the comments scored through them before each field's whole
  // RE2::Set is compiled (see FieldRules::full).
  uint64_t warm_scores = 32;
};

// How the regex rules were prepared (`spamguard stats`).
struct PrefilterInfo {
  size_t filtered = 0, unfiltered = 0, atoms = 0;
  size_t from_cache = 0, computed = 0;
  size_t automata_from_cache = 0, automata_built = 0;  // the fields' atom automata
  size_t layouts_from_cache = 0, layouts_built = 0;    // the fields' layouts
  std::string cache;        // the cache file, or "" for none
  bool cache_written = false;
};

struct Hit {
  int rule;
  std::string match;
  // With Evaluate's defer_matches: the text the rule matched in, whose
  // match is not looked for yet (MatchIn finds it); a view into the
  // Normalized comment. Null when match is final.
  std::string_view match_in = {};
  uint64_t branches = 0;  // with match_in: the rule's branches that matched (bits; 0: the whole pattern)
};

class RuleSet {
 public:
  // Loads a .cf file (path) or text held in memory (name used in messages).
  // On failure returns a Status whose message is "file:line: reason".
  static Status LoadFile(const std::string& path, const LoadOptions& opts,
                         std::unique_ptr<RuleSet>* out, std::vector<std::string>* warnings);
  static Status LoadString(std::string_view text, const std::string& name, const LoadOptions& opts,
                           std::unique_ptr<RuleSet>* out, std::vector<std::string>* warnings);

  // Appends the hits of every non-silent rule that fired and returns the sum
  // of their points. Thread-safe. A rule whose RE2 does not compile when
  // first needed sets *error (when given) and matches nothing.
  // With defer_matches, a regex rule found by its field's set leaves what it
  // matched to be looked for when someone reads it (Hit::match_in): most
  // callers read only the action, and finding a match's bounds runs the
  // rule's RE2 twice more (forward to its end, backward to its start).
  double Evaluate(const comment::Normalized& n, std::vector<Hit>* hits, Status* error = nullptr,
                  bool defer_matches = false) const;
  // What regex rule `rule` matches in text, as Evaluate reports it ("" when
  // it does not match there).
  // With branches (Hit::branches), only those branches of the rule's
  // alternation are looked in.
  void MatchIn(int rule, std::string_view text, std::string* out, uint64_t branches = 0) const;

  const std::vector<Rule>& rules() const { return rules_; }
  const Settings& settings() const { return settings_; }
  const PrefilterInfo& prefilter() const { return prefilter_; }
  // The `learned` rules, by rising probability (their ranges never overlap).
  const std::vector<int>& learned() const { return learned_; }
  // The learned rule whose range holds probability p, or -1.
  int LearnedRuleFor(double p) const;

 private:
  friend class Builder;
  // The regex rules of one target: those whose atoms are in `atoms`, and
  // those run on every text.
  struct FieldRules {
    Target target;
    LiteralSet atoms;  // value: slot
    // The field's layout (32-bit words, in the atom cache's file or in
    // layout_own): a header (kLayoutHeader words), where each slot's rules
    // start (slots + 1 offsets), the rules (numbers in rules_), where each
    // of the field's rules' own words start (all.size() + 1 offsets), and
    // those words: the number of branches (0: unfiltered), then their
    // clauses (see Rule::clauses).
    const uint32_t* layout = nullptr;
    size_t layout_words = 0;
    std::vector<uint32_t> layout_own;
    uint32_t slots = 0;
    const uint32_t* slot_off = nullptr;  // slots + 1
    const uint32_t* slot_items = nullptr;
    std::vector<int> unfiltered;  // (less the trivial ones, run directly)
    std::vector<int> trivial;
    // The unfiltered rules as one RE2::Set (one pass over the text instead
    // of one each), compiled when first needed; null if it would not
    // compile (they then run one by one).
    std::unique_ptr<RE2::Set> set;
    std::unique_ptr<std::once_flag> once = std::make_unique<std::once_flag>();
    // Every rule of the field as one RE2::Set, for an engine that has
    // scored warm_scores comments: once compiled, one DFA pass beats the
    // atom scan plus the candidates' own passes; a process that scores one
    // comment (CGI) never pays for compiling it.
    std::vector<int> all;  // set index -> rule
    std::unique_ptr<RE2::Set> parsed;  // (no atom cache: all, parsed at load)
    std::unique_ptr<RE2::Set> full;
    std::unique_ptr<std::once_flag> full_once = std::make_unique<std::once_flag>();
    // What `full` finds in an empty text (most fields of most comments are
    // empty): matched once, not once per comment.
    std::vector<int> empty_hits;
    bool empty_ok = false;  // the set matched it (no DFA failure)
    std::unique_ptr<std::once_flag> empty_once = std::make_unique<std::once_flag>();
  };
  uint64_t warm_scores_ = 32;
  const RE2::Set* UnfilteredSet(const FieldRules& fr) const;
  const RE2::Set* FullSet(const FieldRules& fr) const;
  Status BudgetError(const FieldRules& fr) const;
  bool atoms_ready_ = false;  // the regex rules have atoms (an atom cache was used)
  mutable std::atomic<uint64_t> scores_{0};
  int64_t re2_max_mem_ = 0;
  std::vector<Rule> rules_;
  std::vector<FieldRules> fields_;
  PrefilterInfo prefilter_;
  std::shared_ptr<const void> atom_bytes_;  // the atom cache file the fields' automata are read in
  std::vector<int> computed_;  // links and check rules
  std::vector<int> metas_;     // meta rules in dependency order
  std::vector<int> learned_;   // learned rules, by rising probability
  Settings settings_;
};

}  // namespace spamguard::rules
