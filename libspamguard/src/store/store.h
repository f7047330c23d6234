// The Store: everything spamguard remembers between requests — allow/block
// lists, IP reputation counts, what was learned. The engine talks to this
// interface only, so that a shared server (Redis, PostgreSQL) can replace
// the SQLite file when a blog farm outgrows one machine.
//
// Implementations are safe to call from several threads of one process.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lists/ip_range.h"
#include "lists/keywords.h"
#include "util/status.h"

namespace spamguard::store {

enum ListId : int { kAllow = 1, kBlock = 2 };
enum NameKind : int { kEmail = 1, kEmailDomain = 2, kUrlDomain = 3 };

struct ListEntry {
  int64_t id = 0;
  int list = 0;
  int kind = 0;      // SG_ENTRY_*

  std::string what;  // "203.0.113.0/24", "spam@example.com", "example.com"
  std::string source, reason;
  int64_t added = 0, expires = 0;  // expires 0: never
};

// The weight left at `now` of a count made at `then` with this half-life
// (seconds; 0: no decay). Computed in double, so no pair of times overflows.
inline double DecayFactor(int64_t now, int64_t then, double half_life) {
  double elapsed = double(now) - double(then);
  if (!(half_life > 0) || !(elapsed > 0)) return 1.0;
  return std::exp2(-elapsed / half_life);
}

// Raw reputation counts as stored; decay is applied by the reader. A store
// returns them finite and non-negative whatever its file holds.
struct RepCounts {
  double spam = 0, ham = 0;
  int64_t updated = 0;  // unix seconds of the last change
};

struct LearnOp {
  std::string cid;                // comment id or content hash
  int label = 0;                  // 1 spam, 2 ham
  std::vector<std::string> keys;  // reputation keys (IP, network)
  int64_t now = 0;
  double half_life = 0;           // seconds; 0: no decay
  // The content learner's tokens (hashes, distinct), counted once for the
  // comment; a relabel or a forget takes back exactly what was counted.
  std::vector<uint64_t> tokens;
  int64_t max_tokens = 0;         // token rows kept at most; 0: no bound
};

// The content learner as stored: comments counted per label, token rows.
struct LearnerTotals {
  int64_t spam = 0, ham = 0;
  int64_t tokens = 0;  // rows in the token table
  // Changes whenever another connection (process) commits a change to the
  // store; a reader's own writes do not change it (SQLite's data_version).
  int64_t version = 0;
};
// Comments of each label that held a token.
struct TokenCounts {
  int64_t spam = 0, ham = 0;
};

enum class LearnOutcome { kAdded, kMoved, kUnchanged };

struct ImportEntry {
  lists::IpRange range;
  std::string reason;
};

// Rate limits: keys checked together; all conform (and are charged) or the
// first that does not is reported and none is charged.
struct RateKey {
  std::string key;
  int64_t interval_ms = 0, tolerance_ms = 0;
  int64_t period_ms = 0;  // refusals further apart than this start a new "over" spell
};

struct RateDecision {
  bool allowed = true;
  size_t denied = 0;           // index of the first refusing key
  int64_t retry_after_ms = 0;
  int64_t over_since_ms = 0;   // since when that key has been refused with no gap longer than a period
};

struct RateState {
  bool have = false;  // the key has been seen
  int64_t tat = 0;    // its GCRA theoretical arrival time, ms
};

class RateStore {
 public:
  virtual ~RateStore() = default;
  virtual Status RateCheck(const std::vector<RateKey>& keys, int64_t now_ms, RateDecision* out) = 0;
  // The state of each key, read only (for explaining, never for deciding).
  virtual Status RatePeek(const std::vector<RateKey>& keys, std::vector<RateState>* out) = 0;
  // Counts one more use of `key` (a form token; remembered until `expires`,
  // unix seconds) and sets *uses to its uses so far, this one included.
  virtual Status CountUse(const std::string& key, int64_t expires, int64_t now, int64_t* uses) = 0;
};

// A secret that signs comment-form tokens; the newest signs.
struct FormSecret {
  int64_t id = 0;
  std::string key;  // 32 random bytes
  int64_t created = 0;
};

// Everything scoring needs from the store, asked in one call (one read
// transaction here; one round trip for a server-backed store).
struct LookupRequest {
  int64_t now = 0;
  bool has_ip = false;
  lists::IpRange ip;                       // the client address
  std::string email;                       // normalized, or empty
  std::vector<std::string> email_domains;  // most specific first
  std::vector<std::string> url_domains;    // most specific first
  std::vector<std::string> rep_keys;       // fetched only when not listed
  bool want_learner = false;               // also read the learner's totals (when not listed)
};

struct LookupResult {
  int list = 0;            // 0: on no list; else kAllow or kBlock
  const char* field = "";  // what matched: "ip", "email", "url"
  ListEntry entry;
  std::vector<RepCounts> rep;  // one per rep_key
  LearnerTotals learner;       // when asked for
  int64_t keyword_version = 0; // (when not listed) see Store::Keywords
};

// What the store holds, counted (`spamguard stats`).
struct StoreStats {
  std::string path;
  int schema_version = 0;
  int64_t file_bytes = 0;
  bool read_only = false;
  struct Lists {
    int list = 0, kind = 0;  // kAllow/kBlock, SG_ENTRY_*
    int64_t active = 0, expired = 0;
  };
  std::vector<Lists> lists;
  struct Source {
    int list = 0;
    std::string source;
    int64_t entries = 0;
  };
  std::vector<Source> sources;  // most entries first, at most 50
  int64_t reputation_keys = 0;
  double reputation_spam = 0, reputation_ham = 0;  // raw, before decay
  int64_t learned_spam = 0, learned_ham = 0;
  LearnerTotals learner;
  // The learner's settings (set by the engine).
  int64_t learner_max_tokens = 0;
  int64_t learner_min_spam = 0, learner_min_ham = 0;
  int64_t learner_rules = 0;  // `learned` rules in the rule file
  int64_t ratelimit_keys = 0;
  std::string ratelimit_path;   // where the rate-limit state is kept
  std::string ratelimit_error;  // why it cannot be used, or empty
  bool ratelimit_fail_closed = false;  // what a check does then (set by the engine)
  // Comment forms: the secrets held, when the newest was made, the tokens
  // whose uses are counted (in the rate-limit file).
  int64_t form_secrets = 0, form_secret_newest = 0, form_tokens = 0;
  // Set by the engine: the secret comes from the rule file; the number of
  // `check form_*` rules.
  bool form_secret_configured = false;
  int64_t form_rules = 0;
  // Keyword lists: entries per source and kind (lists::KeywordKind).
  struct KeywordSource {
    std::string source;
    int kind = 0;
    int64_t entries = 0;
  };
  std::vector<KeywordSource> keyword_sources;
  // Set by the engine: the regex rules' atoms and their cache.
  int64_t rules_filtered = 0, rules_unfiltered = 0, rule_atoms = 0, rules_from_cache = 0;
  std::string rule_cache;
};

// One piece of what a store holds, for copying from one store to another
// (`spamguard db copy`).
struct StoreRecord {
  enum Type { kEntry, kReputation, kLearned, kLearner, kToken, kRate, kFormSecret, kKeyword } type = kEntry;
  ListEntry entry;              // kEntry
  std::string key;              // kReputation, kRate: the key; kLearned: the comment id
  RepCounts rep;                // kReputation
  int label = 0;                // kLearned
  int64_t at = 0;               // kLearned: when
  std::vector<std::string> keys;  // kLearned: its reputation keys
  std::vector<uint64_t> tokens;   // kLearned: its tokens
  LearnerTotals learner;        // kLearner (version ignored)
  uint64_t token = 0;           // kToken
  TokenCounts counts;           // kToken
  int64_t tat = 0, over_since = 0, last_over = 0;  // kRate, ms
  FormSecret secret;            // kFormSecret
  lists::KeywordEntry keyword;  // kKeyword
};

// What Prune removed.
struct PruneCounts {
  int64_t learned = 0, reputation = 0, ratelimit = 0, list_entries = 0;
};

class Store : public RateStore {
 public:

  // Allow list first (address, e-mail, e-mail domain, URL domain), then the
  // block list; reputation counts when on neither.
  virtual Status Lookup(const LookupRequest& req, LookupResult* out) = 0;

  // Lookup, then -- when the comment is on no list, or the lookup failed --
  // the rate check of `keys` (none: no check), whose outcome goes to
  // *rate_status and *decision (*checked: it ran). One round trip for a
  // server-backed store; here, the two calls.
  virtual Status LookupAndRate(const LookupRequest& req, const std::vector<RateKey>& keys, int64_t now_ms,
                               LookupResult* out, RateDecision* decision, Status* rate_status, bool* checked) {
    *checked = false;
    Status st = Lookup(req, out);
    if (!keys.empty() && (!st.ok() || out->list == 0)) {
      *rate_status = RateCheck(keys, now_ms, decision);
      *checked = true;
    }
    return st;
  }

  // The most specific unexpired entry of `list` containing `ip`.
  virtual Status MatchIp(int list, const lists::IpRange& ip, int64_t now, ListEntry* out, bool* found) = 0;
  // The first unexpired entry of `list` whose kind and value equal one of
  // the candidates (tried in order).
  virtual Status MatchName(int list, int kind, const std::vector<std::string>& candidates, int64_t now,
                           ListEntry* out, bool* found) = 0;

  virtual Status GetReputation(const std::vector<std::string>& keys, std::vector<RepCounts>* out) = 0;
  // Idempotent per op.cid; re-learning with the other label moves the
  // comment's weight from one count to the other. keys_of_previous gives the
  // keys the comment was learned under before (the engine recomputes them
  // from the stored address).
  virtual Status Learn(const LearnOp& op, LearnOutcome* outcome) = 0;
  // Takes back what learning op.cid added (reputation, as decayed since, and
  // tokens) and forgets the comment; *found is false when it was not learned.
  virtual Status Forget(const LearnOp& op, bool* found) = 0;
  // The learner's totals and the counts of `tokens` (one per hash; zero for
  // a token never learned), read in one transaction. Until both labels have
  // been learned nothing can be scored, and the counts are left at zero.
  virtual Status GetTokens(const std::vector<uint64_t>& tokens, std::vector<TokenCounts>* out,
                           LearnerTotals* totals) = 0;
  // Every token row and the totals, read in one transaction (for a reader
  // that scores many comments against a state that does not change).
  virtual Status AllTokens(const std::function<void(uint64_t, const TokenCounts&)>& each, LearnerTotals* totals) = 0;

  virtual Status AddIp(int list, const lists::IpRange& range, const std::string& source, const std::string& reason,
                       int64_t added, int64_t expires) = 0;
  virtual Status AddName(int list, int kind, const std::string& value, const std::string& source,
                         const std::string& reason, int64_t added, int64_t expires) = 0;
  // Removes entries of `list` written as `what` (an IP/CIDR or a name).
  virtual Status Remove(int list, const std::string& what, size_t* removed) = 0;
  // Replaces every IP entry of (list, source) by `entries`, atomically.
  virtual Status ReplaceSource(int list, const std::string& source, const std::vector<ImportEntry>& entries,
                               int64_t added, int64_t expires) = 0;
  // Entries of `list` (0: both) from `source` (null: any), up to `limit`,
  // newest first.
  virtual Status Entries(int list, const std::string* source, size_t limit, std::vector<ListEntry>* out) = 0;
  // Counts of everything held; entries expired by `now` are counted apart.
  virtual Status Stats(int64_t now, StoreStats* out) = 0;
  // Forgets, in one write transaction: learned comments learned before
  // `before`, reputation keys not updated since `before`, list entries that
  // expired before `before`, and rate-limit keys whose allowance has been
  // whole for a day before `now` with nothing over the limit that day (a
  // missing key starts whole: no limit changes).
  virtual Status Prune(int64_t before, int64_t now, PruneCounts* out) = 0;
  // on: the writes that follow join longer transactions (a bulk job's
  // learning); off: commits. A store without transactions does nothing.
  virtual Status Batch(bool on) {
    (void)on;
    return Status::OK();
  }

  // The form secrets, oldest first (none until the first is added).
  virtual Status FormSecrets(std::vector<FormSecret>* out) = 0;
  // Adds `key` as the newest form secret (first_only: only when there is
  // none yet) and forgets secrets replaced more than keep_seconds before now.
  virtual Status AddFormSecret(const std::string& key, int64_t now, int64_t keep_seconds, bool first_only) = 0;
  // Every address entry of `list` unexpired at `now` (expires: 0 for
  // never), IPv4 then IPv6, each by rising start, read in one transaction.
  virtual Status EachIp(int list, int64_t now,
                        const std::function<Status(const lists::IpRange&, int64_t expires)>& each) = 0;
  // Keyword lists (lists/keywords.h): a source's entries replaced whole in
  // one transaction (none: the source removed); every entry read in one.
  // The version changes with every replacement (0: never imported).
  virtual Status ReplaceKeywords(const std::string& source, const std::vector<lists::KeywordEntry>& entries,
                                 int64_t* version) = 0;
  virtual Status Keywords(int kind, int64_t* version, std::vector<lists::KeywordEntry>* out) = 0;
  // Everything held, one record at a time (list entries, reputation,
  // learned comments, the learner, rate-limit state, form secrets, keyword
  // lists); and records written back, as they are, into a store that holds
  // none of them yet.
  virtual Status EachRecord(const std::function<Status(const StoreRecord&)>& each) = 0;
  virtual Status PutRecords(const std::vector<StoreRecord>& records) = 0;
  // Where the store's file is ("" for none): caches sit beside it.
  virtual std::string path() const { return ""; }
  // Where the store is, for messages: the file, or the server.
  virtual std::string where() const { return path(); }
};

// The records of a store read through its own interface, the same for
// every store (for EachRecord): every list entry, oldest first; and the
// learner's totals and tokens, the form secrets, the keyword lists.
Status EachEntryRecord(Store* s, const std::function<Status(const StoreRecord&)>& each);
Status EachLearnerFormAndKeywordRecord(Store* s, const std::function<Status(const StoreRecord&)>& each);

// Reputation key of a network (an address is a /32 or /128 network).
std::string RepKey(const lists::IpRange& net);

}  // namespace spamguard::store
