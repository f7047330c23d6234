// The engine: owns the compiled rules and the store, and runs the pipeline,
// cheapest stage first with early exits:
//
//   normalize -> allow/block lists -> content rules -> reputation -> verdict
//
// An allow-listed sender is accepted and a block-listed one refused before
// any regex runs. If the store is unavailable, scoring still answers from
// the content rules and the verdict says state was unavailable.
//
// An Engine is safe to share between threads for Score and Learn.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "comment/comment.h"
#include "form/form_token.h"
#include "lists/export.h"
#include "reputation/reputation.h"
#include "lists/keywords.h"
#include "rules/ruleset.h"
#include "store/store.h"
#include "util/status.h"

namespace spamguard::engine {

struct Options {
  bool strict_rules = true;
  bool lazy_compile = false;
  int64_t re2_max_mem = 0;      // 0: default
  int64_t max_body_bytes = 0;   // 0: from the .cf, else default
  int64_t max_field_bytes = 0;
  int64_t max_links = 0;
  std::string database;         // "": from the .cf, else kDefaultDatabase; "none": no state
  int fail_closed = -1;         // -1: from the .cf
  int64_t busy_timeout_ms = 0;  // 0: from the .cf
  int ratelimit_mode = 0;       // SG_RATELIMIT_*: 0 database (memory without one), 1 memory, 2 off
  bool read_only = false;       // never write the database (no auto-learn, no bans; learning fails)
};

constexpr const char* kDefaultDatabase = "/var/lib/spamguard/spamguard.db";

// A reason in a verdict: a rule of the rule set (rule >= 0), or a stage's
// own symbol (lists, reputation) with its text held here.
struct VerdictHit {
  int rule = -1;
  std::string name;
  double points = 0;
  const char* field = "";
  std::string description;
  // What it matched. A content rule's is looked for only when read
  // (MatchOf): match_in then holds the field's text, kept with the verdict.
  mutable std::string match;
  mutable std::shared_ptr<const std::string> match_in;
  uint64_t match_branches = 0;  // (rules::Hit::branches)
};

struct Verdict {
  int action = SG_ACTION_ACCEPT;
  double score = 0;
  int64_t retry_after = 0;
  int flags = 0;
  // The rule set the hits refer to; kept alive with the verdict.
  std::shared_ptr<const rules::RuleSet> rules;
  std::vector<VerdictHit> hits;  // highest points first
  // Set when the comment could not be scored (a lazily compiled rule set
  // over its memory budget); the verdict is then not to be used.
  Status error;
};

// What hit i of v matched: its match, looked for now (once) when Score left
// it for when read. One thread at a time per verdict.
const std::string& MatchOf(const Verdict& v, size_t i);

struct ImportReport {
  size_t imported = 0, skipped = 0;
  std::vector<std::string> messages;  // "file:line: reason", at most 100
};

class Engine {
 public:
  static Status OpenFile(const std::string& path, const Options& opts, std::unique_ptr<Engine>* out);
  static Status OpenString(std::string_view text, const std::string& name, const Options& opts,
                           std::unique_ptr<Engine>* out);
  ~Engine();

  // Thread-safe.
  void Score(const comment::Comment& c, Verdict* v) const;
  // label: SG_LABEL_SPAM or SG_LABEL_HAM. Idempotent per comment.
  Status Learn(const comment::Comment& c, int label) const;
  // on: the learns (and other writes) that follow are grouped into few
  // transactions, for bulk jobs; off: commits them.
  Status Batch(bool on) const;
  // Takes back what learning the comment added; *found false when it was
  // never learned.
  Status Forget(const comment::Comment& c, bool* found) const;

  // A signed token for a comment form of `post_id` shown at `now` (0: the
  // clock); the secret is made on first use when the database has none.
  Status FormToken(std::string_view post_id, int64_t now, std::string* out) const;
  // A new secret signs from now on; tokens the old one signed stay valid
  // for their lifetime (form_max_seconds).
  Status RotateFormSecret(int64_t now) const;

  // kind: SG_ENTRY_*; expires: unix seconds, 0 for never.
  Status ListAdd(int list, int kind, const std::string& entry, const std::string& source, const std::string& reason,
                 int64_t expires) const;
  Status ListRemove(int list, const std::string& entry, size_t* removed) const;
  // Replaces the keyword-list source `source` with the entries of the file
  // (kind: lists::kPhrase or lists::kLinkPattern).
  Status KeywordImport(int kind, const std::string& path, const std::string& source, ImportReport* report) const;
  // Copies everything this engine's store holds into the store `to` names
  // (an SQLite file or a Redis address, with this rule file's settings),
  // which must hold nothing yet. report->messages: what was copied, counted.
  Status CopyTo(const std::string& to, ImportReport* report) const;
  Status ListImport(int list, const std::string& path, const std::string& source, const std::string& reason,
                    int64_t expires, ImportReport* report) const;

  // Writes the block list's address entries active at opts.now (0: the
  // clock) for a firewall or web server (lists/export.h), read in one
  // transaction; *ranges (may be null) is set to the entries written.
  Status ListExport(lists::ExportOptions opts, const std::function<bool(std::string_view)>& write,
                    int64_t* ranges) const;

  // An address's standing, explained: the list entries that hold it and
  // the reputation of the address and its network, as hits of a verdict
  // (its action is what lists and reputation alone would decide). now 0:
  // the clock.
  Status ExplainIp(const std::string& ip, int64_t now, Verdict* v) const;
  // Entries of `list` (0: both) from `source` (null: any), newest first,
  // at most `limit`.
  Status ListEntries(int list, const std::string* source, size_t limit, std::vector<store::ListEntry>* out) const;
  Status Stats(store::StoreStats* out) const;
  // Forgets what is older than retention_days (learned comments, reputation,
  // expired list entries) and spent rate-limit keys. now 0: the clock.
  Status Prune(int64_t now, store::PruneCounts* out, int* retention_days) const;

  const rules::RuleSet& rules() const { return *rules_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const comment::Limits& limits() const { return limits_; }
  bool has_state() const { return store_ != nullptr; }
  const std::string& state_error() const { return state_error_; }
  // How many comments reached the content rules (for tests of the pipeline).
  uint64_t content_evaluations() const { return content_evaluations_.load(); }

 private:
  static Status Finish(Status st, std::unique_ptr<rules::RuleSet> rs, std::vector<std::string> warnings,
                       const Options& opts, std::unique_ptr<Engine>* out);
  Status RequireStore() const;
  // Rate limits: true when one refused the comment (the verdict is complete).
  // A comment's rate-limit keys, and what became of their check.
  struct RatePlan {
    std::vector<store::RateKey> keys;
    std::vector<size_t> spec_of;   // key -> spec
    std::vector<std::string> who;  // what each key stands for, for the verdict
    int64_t now_ms = 0;
    bool checked = false;  // (checked with the lookup) the check ran, or failed with it
    Status status;
    store::RateDecision decision;
  };
  bool RateKeysFor(const comment::Comment& c, const comment::Normalized& n, RatePlan* plan) const;
  // The verdict of a rate check: throttled (true), or on to the rules.
  bool RateVerdict(const RatePlan& plan, const Status& rs, const store::RateDecision& d, const comment::Normalized& n,
                   int64_t now_ms, Verdict* v) const;
  bool CheckRateLimits(const comment::Comment& c, const comment::Normalized& n, int64_t now_ms, Verdict* v) const;
  // One store lookup: true when a list decided (the verdict is complete);
  // otherwise the reputation hits to add after the content rules.
  bool Lookup(const comment::Normalized& n, int64_t now, Verdict* v, std::vector<VerdictHit>* rep_hits,
              store::LearnerTotals* learner, int64_t* keyword_version, RatePlan* rate = nullptr) const;
  std::vector<std::string> RepKeys(const comment::Normalized& n) const;
  // Checks the comment form's token and honeypot into n->form (and flags
  // the verdict when the state to check them is missing).
  void CheckForm(const comment::Comment& c, int64_t now, comment::Normalized* n, Verdict* v) const;
  // The secrets that verify form tokens (the newest signs); read from the
  // database once a minute, and again when a token names a secret not held
  // (refresh), at most once a second: a token comes back at least
  // form_min_seconds after it was made, so a secret that signed it has been
  // read by then. create: make the first one if none.
  Status FormSecrets(bool create, bool refresh, std::shared_ptr<const std::vector<form::Secret>>* out) const;
  // The hit saying a list holds the sender; sets the verdict's action and score.
  void ListHit(int list, const char* field, const store::ListEntry& e, Verdict* v) const;
  // The hit for the reputation of an address (addr) or its network.
  VerdictHit RepHit(bool addr, const comment::IpAddress& ip, const store::RepCounts& decayed, double points) const;
  // What learning or forgetting the comment starts from: its id (or content
  // hash), time and the reputation half-life.
  store::LearnOp LearnOpFor(const comment::Comment& c) const;
  Status LearnNormalized(const comment::Comment& c, const comment::Normalized& n, int label) const;
  // The content learner's hit for a normalized comment, if its rules are
  // set and it has learned enough (`totals`, as read with the lists); false
  // when the store could not be read.
  bool LearnedHit(const comment::Normalized& n, const store::LearnerTotals& totals, Verdict* v) const;

  std::shared_ptr<const rules::RuleSet> rules_;
  std::vector<std::string> warnings_;
  comment::Limits limits_;
  std::unique_ptr<store::Store> store_;
  // Where the phrase index of the keyword lists is kept: beside the
  // database file ("" for a store that is not a file: built in memory).
  std::string KeywordCache() const { return store_->path().empty() ? "" : store_->path() + "-keywords"; }
  bool read_only_ = false;
  bool state_unavailable_ = false;  // a database was wanted but could not be opened
  std::string state_error_;
  reputation::Settings rep_;
  int retention_days_ = 365;
  store::RateStore* rates_ = nullptr;  // store_, or memory_rates_, or none
  std::unique_ptr<store::RateStore> memory_rates_;
  mutable std::atomic<uint64_t> content_evaluations_{0};
  // The learner's token table held in memory once the store has not changed
  // for kSnapshotAfter scores (a long-lived process: rescoring, a PHP or
  // Perl worker); a process that scores once (CGI) looks its tokens up.
  struct TokenSnapshot;
  std::shared_ptr<const TokenSnapshot> Snapshot(const store::LearnerTotals& now) const;
  // Keyword lists, loaded when the store says a version this engine does
  // not hold (0: none were ever imported).
  std::shared_ptr<const lists::KeywordIndex> Keywords(int64_t version) const;
  void KeywordHit(const comment::Comment& c, const comment::Normalized& n, int64_t version, Verdict* v) const;
  mutable std::mutex keywords_mu_;
  mutable std::shared_ptr<const lists::KeywordIndex> keywords_;  // std::atomic_load/store; replaced under keywords_mu_
  mutable std::mutex snapshot_mu_;
  mutable std::shared_ptr<const TokenSnapshot> snapshot_;  // std::atomic_load/store; replaced under snapshot_mu_
  mutable int64_t stable_version_ = -1;                    // under snapshot_mu_
  mutable uint64_t stable_scores_ = 0;                     // under snapshot_mu_
  mutable std::atomic<uint64_t> own_writes_{0};  // learns and forgets through this engine
  // Comment forms: the secret from the rule file, if given; else the
  // database's, cached.
  std::shared_ptr<const std::vector<form::Secret>> configured_secret_;
  store::RateStore* form_uses_ = nullptr;  // where token uses are counted
  mutable std::mutex form_mu_;
  mutable std::shared_ptr<const std::vector<form::Secret>> form_secrets_;  // under form_mu_
  mutable int64_t form_read_ms_ = 0;                                      // under form_mu_ (steady clock)
};

}  // namespace spamguard::engine
