#include "engine/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "comment/domains.h"
#include "comment/text.h"
#include "learner/learner.h"
#include "lists/import.h"
#include "lists/ip_range.h"
#include "ratelimit/gcra.h"
#include "ratelimit/memory_rate_store.h"
#include "store/open_store.h"
#include "util/fnv1a.h"
#include "util/numbers.h"

namespace spamguard::engine {

// The whole token table, read at one version of the store.
struct Engine::TokenSnapshot {
  learner::CountTable counts;
  store::LearnerTotals totals;
  uint64_t own_writes = 0;  // the engine's own writes when it was read
};

namespace {

constexpr uint64_t kSnapshotAfter = 64;

rules::LoadOptions ToLoadOptions(const Options& o) {
  rules::LoadOptions lo;
  lo.strict = o.strict_rules;
  lo.lazy_compile = o.lazy_compile;
  if (o.re2_max_mem > 0) lo.re2_max_mem = o.re2_max_mem;
  lo.database = o.database;
  lo.default_database = kDefaultDatabase;
  return lo;
}

constexpr size_t kMaxImportEntries = 10000000;

int64_t Now(const comment::Comment& c) { return c.time != 0 ? c.time : int64_t(::time(nullptr)); }

// A stable id for a comment without one: FNV-1a over its kind and fields.
std::string ContentId(const comment::Comment& c) {
  Fnv1a h;
  int kind = int(c.kind);
  h.Mix(&kind, sizeof kind);
  for (size_t f = 1; f < c.fields.size(); ++f) {
    uint64_t len = c.fields[f].size();
    h.Mix(&len, sizeof len);
    h.Mix(c.fields[f].data(), c.fields[f].size());
  }
  return h.Hex("h:");
}

std::string ListName(int list) { return list == store::kAllow ? "allow" : "block"; }

// Rounded to 1/1000 so that sums of decimal scores meet thresholds exactly.
// At most `cap` bytes of a field as valid UTF-8, control characters shown
// as '?' (for a verdict's match text).
std::string Clip(std::string_view in, size_t cap) {
  std::string_view capped;
  comment::CapBytes(in, cap, &capped);
  std::string out;
  comment::SanitizeUtf8(capped, &out);
  for (char& ch : out)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  return out;
}

// The first line of a secret file: a regular file of at most 4 KiB, with
// at least 16 bytes on its first line.
Status ReadSecretFile(const std::string& path, std::string* out) {
  out->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Status::IOError(path + ": " + strerror(errno));
  struct stat st;
  std::string text(4097, '\0');
  std::string error;
  ssize_t n = -1;
  if (::fstat(fd, &st) != 0) error = strerror(errno);
  else if (!S_ISREG(st.st_mode) || st.st_size > 4096) error = "not a regular file of at most 4 KiB";
  else if ((n = ::read(fd, text.data(), text.size())) < 0) error = strerror(errno);
  ::close(fd);
  if (!error.empty()) return Status::IOError(path + ": " + error);
  text.resize(size_t(n));
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) text.pop_back();
  if (text.size() < 16) return Status::IOError(path + ": the first line holds fewer than 16 bytes of secret");
  *out = std::move(text);
  return Status::OK();
}

double RoundScore(double score) { return std::round(score * 1000.0) / 1000.0; }

// The action a score earns under the rule set's thresholds.
int ActionFor(const rules::Settings& s, double score) {
  return score >= s.discard_score    ? SG_ACTION_DISCARD
         : score >= s.required_score ? SG_ACTION_SPAM
         : score >= s.moderate_score ? SG_ACTION_MODERATE
                                     : SG_ACTION_ACCEPT;
}

// Whole seconds to wait, at least 1, for a refusal of `ms`.
int64_t RetrySeconds(int64_t ms) { return std::max<int64_t>(1, (ms + 999) / 1000); }

std::string Expiry(int64_t expires) {
  if (expires == 0) return "";
  char buf[40];
  time_t t = time_t(expires);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, ", until %Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace

Engine::~Engine() = default;

const std::string& MatchOf(const Verdict& v, size_t i) {
  const VerdictHit& h = v.hits[i];
  if (h.match_in) {
    if (v.rules) v.rules->MatchIn(h.rule, *h.match_in, &h.match, h.match_branches);
    h.match_in.reset();
  }
  return h.match;
}

Status Engine::OpenFile(const std::string& path, const Options& opts, std::unique_ptr<Engine>* out) {
  std::unique_ptr<rules::RuleSet> rs;
  std::vector<std::string> warnings;
  Status st = rules::RuleSet::LoadFile(path, ToLoadOptions(opts), &rs, &warnings);
  return Finish(std::move(st), std::move(rs), std::move(warnings), opts, out);
}

Status Engine::OpenString(std::string_view text, const std::string& name, const Options& opts,
                          std::unique_ptr<Engine>* out) {
  std::unique_ptr<rules::RuleSet> rs;
  std::vector<std::string> warnings;
  Status st = rules::RuleSet::LoadString(text, name, ToLoadOptions(opts), &rs, &warnings);
  return Finish(std::move(st), std::move(rs), std::move(warnings), opts, out);
}

Status Engine::Finish(Status st, std::unique_ptr<rules::RuleSet> rs, std::vector<std::string> warnings,
                      const Options& opts, std::unique_ptr<Engine>* out) {
  if (!st.ok()) return st;
  auto e = std::unique_ptr<Engine>(new Engine());
  e->limits_ = rs->settings().limits;
  // Settings given through the API override the file.
  if (opts.max_body_bytes > 0) e->limits_.max_body_bytes = size_t(opts.max_body_bytes);
  if (opts.max_field_bytes > 0) e->limits_.max_field_bytes = size_t(opts.max_field_bytes);
  if (opts.max_links > 0) e->limits_.max_links = size_t(opts.max_links);

  const rules::StateSettings& ss = rs->settings().state;
  e->rep_.half_life_days = ss.rep_half_life_days;
  e->rep_.min_evidence = ss.rep_min_evidence;
  e->rep_.cap = ss.rep_cap;
  e->rep_.weight = ss.rep_weight;
  e->rep_.prefix4 = ss.rep_prefix4;
  e->rep_.prefix6 = ss.rep_prefix6;
  e->retention_days_ = ss.retention_days;
  for (const auto& p : ss.trusted_proxies) {
    lists::IpRange r;
    std::string error;
    if (!lists::ParseRange(p.block, &r, &error))
      return Status::ParseError(p.origin + ": trusted_proxy: '" + p.block.substr(0, 60) + "': " + error);
    comment::AddressBlock b;
    b.v6 = r.fam == 6;
    b.lo = r.lo;
    b.hi = r.hi;
    e->limits_.trusted_proxies.push_back(b);
  }

  std::string db = !opts.database.empty() ? opts.database : !ss.database.empty() ? ss.database : kDefaultDatabase;
  bool fail_closed = opts.fail_closed >= 0 ? opts.fail_closed != 0 : ss.fail_closed;
  if (db != "none") {
    store::StoreOptions so;
    so.sqlite.busy_timeout_ms = opts.busy_timeout_ms > 0 ? int(opts.busy_timeout_ms) : ss.busy_timeout_ms;
    so.sqlite.read_only = opts.read_only;
    so.sqlite.check_owner = ss.database_check_owner;
    so.redis.read_only = opts.read_only;
    so.redis.namespace_name = ss.redis_namespace;
    so.redis.password_file = ss.redis_password_file;
    so.redis.connect_timeout_ms = ss.redis_connect_timeout_ms;
    so.redis.timeout_ms = ss.redis_timeout_ms;
    so.redis.require_connection = fail_closed;
    e->read_only_ = opts.read_only;
    const bool server = store::IsRedisUrl(db);
    if (db == kDefaultDatabase && !opts.read_only) {
      // The default place is ours to make; a path someone chose is not.
      std::string dir = db.substr(0, db.rfind('/'));
      ::mkdir(dir.c_str(), 0700);
    }
    if (!server && opts.read_only && access(db.c_str(), F_OK) != 0) {
      // Nothing listed or learned yet, and a read-only engine does not make
      // the file: no state, and nothing missing from the verdicts either.
      e->state_error_ = store::MissingDatabase(db);
    } else {
      std::unique_ptr<store::Store> s;
      Status sst = store::OpenStore(db, so, &s);
      if (!sst.ok()) {
        if (fail_closed || sst.code() == SG_EINVAL) return sst;
        // Fail open: content rules still answer; every verdict says state
        // was unavailable, and learning reports why.
        e->state_unavailable_ = true;
        e->state_error_ = sst.message();
      } else {
        e->store_ = std::move(s);
      }
    }
  }
  if (!ss.ratelimits.empty() && opts.ratelimit_mode != SG_RATELIMIT_OFF) {
    if (e->store_ && opts.ratelimit_mode == SG_RATELIMIT_DATABASE) {
      e->rates_ = e->store_.get();
    } else {
      e->memory_rates_ = std::make_unique<ratelimit::MemoryRateStore>();
      e->rates_ = e->memory_rates_.get();
    }
  }
  // Form token uses are counted where the rate limits are kept: in the
  // database's rate file, else in this process.
  if (e->store_) {
    e->form_uses_ = e->store_.get();
  } else {
    if (!e->memory_rates_) e->memory_rates_ = std::make_unique<ratelimit::MemoryRateStore>();
    e->form_uses_ = e->memory_rates_.get();
  }
  std::string secret = ss.form_secret;
  if (!ss.form_secret_file.empty()) {
    Status fs = ReadSecretFile(ss.form_secret_file, &secret);
    if (!fs.ok()) return Status::IOError(ss.form_secret_origin + ": form_secret_file " + fs.message());
  }
  if (!secret.empty())
    e->configured_secret_ = std::make_shared<const std::vector<form::Secret>>(1, form::Secret{0, secret});
  e->rules_ = std::move(rs);
  e->warnings_ = std::move(warnings);
  *out = std::move(e);
  return Status::OK();
}

Status Engine::FormSecrets(bool create, bool refresh, std::shared_ptr<const std::vector<form::Secret>>* out) const {
  if (configured_secret_) {
    *out = configured_secret_;
    return Status::OK();
  }
  if (!store_) {
    out->reset();
    return Status::IOError(state_error_.empty() ? "no form secret: give form_secret (or form_secret_file) in the "
                                                  "rule file, or a database to keep one in"
                                                : "no form secret: " + state_error_);
  }
  const int64_t ms = ratelimit::SteadyMs();
  std::lock_guard<std::mutex> lock(form_mu_);
  const bool fresh = form_secrets_ && !form_secrets_->empty() && ms - form_read_ms_ < 60000 &&
                     !(refresh && ms - form_read_ms_ >= 1000);
  if (fresh) {
    *out = form_secrets_;
    return Status::OK();
  }
  std::vector<store::FormSecret> rows;
  Status st = store_->FormSecrets(&rows);
  if (st.ok() && rows.empty() && create) {
    if (read_only_) return Status::IOError("no form secret yet, and the database is opened read-only");
    std::string key(form::kSecretBytes, '\0');
    if (!form::RandomBytes(key.data(), key.size())) return Status::IOError("no random bytes for a form secret");
    st = store_->AddFormSecret(key, int64_t(::time(nullptr)), rules_->settings().state.form_max_seconds, true);
    if (st.ok()) st = store_->FormSecrets(&rows);
  }
  if (!st.ok()) return st;
  auto secrets = std::make_shared<std::vector<form::Secret>>();
  for (auto& r : rows) secrets->push_back(form::Secret{uint32_t(r.id), std::move(r.key)});
  form_secrets_ = secrets;
  form_read_ms_ = ms;
  *out = std::move(secrets);
  return Status::OK();
}

Status Engine::FormToken(std::string_view post_id, int64_t now, std::string* out) const {
  out->clear();
  if (now == 0) now = int64_t(::time(nullptr));
  std::shared_ptr<const std::vector<form::Secret>> secrets;
  Status st = FormSecrets(true, false, &secrets);
  if (!st.ok()) return st;
  if (secrets->empty()) return Status::IOError("no form secret in the database");
  uint64_t nonce = 0;
  if (!form::RandomBytes(&nonce, sizeof nonce)) return Status::IOError("no random bytes for a form token");
  *out = form::Issue(secrets->back(), post_id, now, nonce);
  return Status::OK();
}

Status Engine::ListExport(lists::ExportOptions opts, const std::function<bool(std::string_view)>& write,
                          int64_t* ranges) const {
  if (ranges) *ranges = 0;
  Status st = lists::CheckExportOptions(opts);
  if (!st.ok()) return st;
  st = RequireStore();
  if (!st.ok()) return st;
  if (opts.now == 0) opts.now = int64_t(::time(nullptr));
  lists::Exporter ex(opts, write);
  st = store_->EachIp(store::kBlock, opts.now, [&](const lists::IpRange& r, int64_t expires) { return ex.Add(r, expires); });
  if (st.ok()) st = ex.Finish();
  if (st.ok() && ranges) *ranges = ex.ranges4() + ex.ranges6();
  return st;
}

Status Engine::RotateFormSecret(int64_t now) const {
  if (configured_secret_)
    return Status::InvalidArgument("the form secret is set in the rule file (form_secret); change it there");
  Status st = RequireStore();
  if (!st.ok()) return st;
  if (now == 0) now = int64_t(::time(nullptr));
  std::string key(form::kSecretBytes, '\0');
  if (!form::RandomBytes(key.data(), key.size())) return Status::IOError("no random bytes for a form secret");
  st = store_->AddFormSecret(key, now, rules_->settings().state.form_max_seconds, false);
  std::lock_guard<std::mutex> lock(form_mu_);
  form_secrets_.reset();  // read again at the next use
  return st;
}

void Engine::CheckForm(const comment::Comment& c, int64_t now, comment::Normalized* n, Verdict* v) const {
  if (c.kind != comment::Kind::kComment) return;  // trackbacks and pingbacks have no form
  const rules::StateSettings& ss = rules_->settings().state;
  const std::string& pot = c.fields[SG_FIELD_HONEYPOT];
  if (!pot.empty()) {
    n->form |= comment::kFormHoneypot;
    n->honeypot = Clip(pot, 40);
  }
  if (!c.form) return;
  // What could not be checked is said, never held against the comment.
  auto unchecked = [v](const std::string& why) {
    v->flags |= SG_FLAG_STATE_UNAVAILABLE;
    VerdictHit h;
    h.name = "FORM_UNCHECKED";
    h.field = "form";
    h.description = "The comment form's token could not be checked";
    h.match = why.substr(0, 300);
    v->hits.push_back(std::move(h));
  };
  const std::string& text = c.fields[SG_FIELD_FORM_TOKEN];
  if (text.empty()) {
    n->form |= comment::kFormNoToken;
    n->form_detail = "no token";
    return;
  }
  std::shared_ptr<const std::vector<form::Secret>> secrets;
  Status got = FormSecrets(false, false, &secrets);
  if (!got.ok() || secrets->empty()) {
    // No secret to check with (none made yet, or the database is gone).
    unchecked(got.ok() ? "no form secret yet: no token has been made with this database" : got.message());
    return;
  }
  form::Token t;
  std::string why;
  form::Outcome o = form::Verify(text, c.fields[SG_FIELD_POST_ID], *secrets, &t, &why);
  if (o == form::Outcome::kForged && configured_secret_ == nullptr) {
    // Perhaps signed by a secret made since the cache was read.
    if (FormSecrets(false, true, &secrets).ok() && !secrets->empty())
      o = form::Verify(text, c.fields[SG_FIELD_POST_ID], *secrets, &t, &why);
  }
  switch (o) {
    case form::Outcome::kMalformed: n->form |= comment::kFormMalformed; n->form_detail = why; return;
    case form::Outcome::kForged: n->form |= comment::kFormForged; n->form_detail = why; return;
    case form::Outcome::kOtherPost: n->form |= comment::kFormOtherPost; n->form_detail = why; return;
    case form::Outcome::kValid: break;
  }
  const int64_t age = now - t.issued;
  if (age < ss.form_min_seconds) {
    n->form |= comment::kFormTooFast;
    n->form_detail = age < 0 ? "sent " + std::to_string(-age) + " s before the form was shown (a clock went back)"
                             : "sent " + std::to_string(age) + " s after the form was shown (under " +
                                   std::to_string(ss.form_min_seconds) + " s)";
  } else if (age > ss.form_max_seconds) {
    n->form |= comment::kFormTooOld;
    n->form_detail = "the form was shown " + std::to_string(age) + " s before (tokens live " +
                     std::to_string(ss.form_max_seconds) + " s)";
    return;  // an expired token is not counted
  }
  int64_t uses = 0;
  Status counted = form_uses_->CountUse(t.use_key, std::max(now, t.issued) + ss.form_max_seconds, now, &uses);
  if (!counted.ok()) {
    unchecked("its uses could not be counted: " + counted.message());
    return;
  }
  if (uses > ss.form_max_uses) {
    n->form |= comment::kFormReplayed;
    n->form_uses = "the token was used " + std::to_string(uses) + " times (at most " +
                   std::to_string(ss.form_max_uses) + ")";
  }
}

namespace {

const char* LimitName(const rules::RateLimitSpec& r) {
  switch (r.key) {
    case rules::RateLimitSpec::kIp: return "RATELIMIT_IP";
    case rules::RateLimitSpec::kNet: return "RATELIMIT_NET";
    case rules::RateLimitSpec::kPost: return "RATELIMIT_POST";
    case rules::RateLimitSpec::kEmail: return "RATELIMIT_EMAIL";
    case rules::RateLimitSpec::kGlobal: return "RATELIMIT_GLOBAL";
    case rules::RateLimitSpec::kKind:
      return r.kind == SG_KIND_TRACKBACK ? "RATELIMIT_TRACKBACK" : r.kind == SG_KIND_PINGBACK ? "RATELIMIT_PINGBACK"
                                                                                               : "RATELIMIT_COMMENT";
  }
  return "RATELIMIT";
}

// The stored key of limit r for this comment, and what it stands for in a
// verdict; false when the limit does not apply to the comment.
bool RateKeyFor(const rules::RateLimitSpec& r, const comment::Comment& c, const comment::Normalized& n,
                store::RateKey* k, std::string* shown) {
  const bool ip_ok = !(n.flags & (SG_FLAG_BAD_IP | SG_FLAG_NO_IP));
  std::string value, email;
  switch (r.key) {
    case rules::RateLimitSpec::kIp:
      // Comments without a usable address share one bucket, so that a
      // flood of bogus addresses is limited too.
      value = ip_ok ? std::string(lists::FromAddress(n.ip).Lo()) : std::string("?");
      *shown = ip_ok ? n.ip.text : "comments without a valid address";
      break;
    case rules::RateLimitSpec::kNet: {
      if (!ip_ok) return false;
      lists::IpRange net = lists::Network(n.ip, n.ip.v6 ? r.prefix6 : r.prefix);
      value = store::RepKey(net);
      *shown = net.ToString();
      break;
    }
    case rules::RateLimitSpec::kPost:
      value = !c.fields[SG_FIELD_POST_ID].empty() ? c.fields[SG_FIELD_POST_ID] : c.fields[SG_FIELD_PERMALINK];
      if (value.empty()) return false;
      *shown = "post " + value.substr(0, 100);
      break;
    case rules::RateLimitSpec::kEmail:
      if (!lists::NormalizeEmail(n.email, &email)) return false;
      value = email;
      *shown = email;
      break;
    case rules::RateLimitSpec::kKind:
      if (int(n.kind) != r.kind) return false;
      *shown = "all " + std::string(r.kind == SG_KIND_TRACKBACK  ? "trackbacks"
                                    : r.kind == SG_KIND_PINGBACK ? "pingbacks"
                                                                 : "comments");
      break;
    case rules::RateLimitSpec::kGlobal:
      *shown = "all submissions";
      break;
  }
  // Keys are bounded: a long value (a megabyte of post id) is kept as its
  // first 64 bytes and a hash of the whole.
  if (value.size() > 128) {
    Fnv1a h;
    h.Mix(value.data(), value.size());
    value = value.substr(0, 64) + h.Hex("#");
  }
  k->key = "rl\x1f" + r.text + "\x1f" + value;
  k->interval_ms = std::max<int64_t>(1, r.period_ms / r.count);
  k->tolerance_ms = (r.burst - 1) * k->interval_ms;
  k->period_ms = r.period_ms;
  return true;
}

}  // namespace

bool Engine::RateKeysFor(const comment::Comment& c, const comment::Normalized& n, RatePlan* plan) const {
  const rules::StateSettings& ss = rules_->settings().state;
  for (size_t i = 0; i < ss.ratelimits.size(); ++i) {
    store::RateKey k;
    std::string shown;
    if (!RateKeyFor(ss.ratelimits[i], c, n, &k, &shown)) continue;
    plan->keys.push_back(std::move(k));
    plan->spec_of.push_back(i);
    plan->who.push_back(std::move(shown));
  }
  return !plan->keys.empty();
}

bool Engine::CheckRateLimits(const comment::Comment& c, const comment::Normalized& n, int64_t now_ms,
                             Verdict* v) const {
  RatePlan plan;
  if (!RateKeysFor(c, n, &plan)) return false;
  store::RateDecision d;
  Status rs = rates_->RateCheck(plan.keys, now_ms, &d);
  return RateVerdict(plan, rs, d, n, now_ms, v);
}

bool Engine::RateVerdict(const RatePlan& plan, const Status& rs, const store::RateDecision& d,
                         const comment::Normalized& n, int64_t now_ms, Verdict* v) const {
  const rules::StateSettings& ss = rules_->settings().state;
  const bool ip_ok = !(n.flags & (SG_FLAG_BAD_IP | SG_FLAG_NO_IP));
  const std::vector<size_t>& spec_of = plan.spec_of;
  const std::vector<std::string>& who = plan.who;
  if (!rs.ok()) {
    // The rate state could not be had (locked past the busy timeout, a full
    // disk, a missing file). Never silent: the verdict is flagged and says
    // so; by default the comment goes on to the content rules (fail open:
    // no limit is better than a lost comment), with ratelimit_fail_closed 1
    // it is throttled.
    v->flags |= SG_FLAG_STATE_UNAVAILABLE;
    VerdictHit h;
    h.name = "RATELIMIT_UNCHECKED";
    h.field = "ratelimit";
    h.description = "Rate limits could not be checked";
    h.match = rs.message().substr(0, 300) + (ss.ratelimit_fail_closed ? "; throttled (ratelimit_fail_closed 1)"
                                                                      : "; allowed (ratelimit_fail_closed 0)");
    v->hits.push_back(std::move(h));
    if (!ss.ratelimit_fail_closed) return false;
    v->action = SG_ACTION_THROTTLE;
    v->retry_after = 1;
    return true;
  }
  if (d.allowed) return false;
  const rules::RateLimitSpec& r = ss.ratelimits[spec_of[d.denied]];
  v->action = SG_ACTION_THROTTLE;
  v->retry_after = RetrySeconds(d.retry_after_ms);
  VerdictHit h;
  h.name = LimitName(r);
  h.field = r.key == rules::RateLimitSpec::kIp || r.key == rules::RateLimitSpec::kNet ? "ip" : "ratelimit";
  h.description = "Over a rate limit";
  h.match = who[d.denied] + ": over '" + r.text + "', retry in " + std::to_string(v->retry_after) + " s";
  v->hits.push_back(std::move(h));

  // Escalation: an address or network that stays over its limit for
  // ratelimit_ban_after periods goes on the block list for a while.
  bool bannable = (r.key == rules::RateLimitSpec::kIp && ip_ok) || r.key == rules::RateLimitSpec::kNet;
  if (store_ && !read_only_ && ss.ratelimit_ban_after > 0 && bannable &&
      now_ms - d.over_since_ms >= int64_t(ss.ratelimit_ban_after) * r.period_ms) {
    lists::IpRange range = r.key == rules::RateLimitSpec::kIp
                               ? lists::FromAddress(n.ip)
                               : lists::Network(n.ip, n.ip.v6 ? r.prefix6 : r.prefix);
    int64_t now_s = now_ms / 1000;
    std::string reason = "over '" + r.text + "' for " + std::to_string(ss.ratelimit_ban_after) + " periods";
    if (store_->AddIp(store::kBlock, range, "ratelimit", reason, now_s, now_s + ss.ratelimit_ban_seconds).ok()) {
      VerdictHit b;
      b.name = "RATELIMIT_BAN";
      b.field = "ip";
      b.description = "Banned for staying over a rate limit";
      b.match = range.ToString() + " " + reason + "; block-listed for " + std::to_string(ss.ratelimit_ban_seconds) + " s";
      v->hits.push_back(std::move(b));
    }
  }
  return true;
}

Status Engine::CopyTo(const std::string& to, ImportReport* report) const {
  *report = ImportReport();
  Status st = RequireStore();
  if (!st.ok()) return st;
  if (to.empty() || to == "none") return Status::InvalidArgument("db copy: no target database");
  const rules::StateSettings& ss = rules_->settings().state;
  store::StoreOptions so;
  so.sqlite.busy_timeout_ms = ss.busy_timeout_ms;
  so.sqlite.check_owner = ss.database_check_owner;
  so.redis.namespace_name = ss.redis_namespace;
  so.redis.password_file = ss.redis_password_file;
  so.redis.connect_timeout_ms = ss.redis_connect_timeout_ms;
  so.redis.timeout_ms = std::max(ss.redis_timeout_ms, 5000);
  so.redis.require_connection = true;
  std::unique_ptr<store::Store> target;
  st = store::OpenStore(to, so, &target);
  if (!st.ok()) return st;
  // Only into an empty store: a copy adds, it does not merge.
  store::StoreStats held;
  st = target->Stats(int64_t(::time(nullptr)), &held);
  if (!st.ok()) return st;
  int64_t entries = 0;
  for (const auto& l : held.lists) entries += l.active + l.expired;
  if (entries + held.reputation_keys + held.learned_spam + held.learned_ham + held.learner.tokens +
          held.form_secrets + int64_t(held.keyword_sources.size()) > 0)
    return Status::InvalidArgument("db copy: " + target->where() + " already holds state; copy into an empty one");
  std::vector<store::StoreRecord> records;
  size_t counts[8] = {};
  st = store_->EachRecord([&](const store::StoreRecord& r) {
    records.push_back(r);
    ++counts[r.type];
    return Status::OK();
  });
  if (!st.ok()) return st;
  st = target->PutRecords(records);
  if (!st.ok()) return st;
  report->imported = records.size();
  static const char* names[8] = {"list entries", "reputation keys", "learned comments", "learner totals",
                                 "learner tokens", "rate-limit keys", "form secrets", "keyword entries"};
  for (int i = 0; i < 8; ++i)
    if (i != store::StoreRecord::kLearner) report->messages.push_back(std::to_string(counts[i]) + " " + names[i]);
  return Status::OK();
}

Status Engine::RequireStore() const {
  if (store_) return Status::OK();
  if (state_unavailable_) return Status::IOError("state unavailable: " + state_error_);
  if (!state_error_.empty()) return Status::IOError(state_error_);
  return Status::NotFound("this engine has no database (database none)");
}

std::vector<std::string> Engine::RepKeys(const comment::Normalized& n) const {
  std::vector<std::string> keys;
  if (n.flags & (SG_FLAG_BAD_IP | SG_FLAG_NO_IP)) return keys;
  keys.push_back(store::RepKey(lists::FromAddress(n.ip)));
  keys.push_back(store::RepKey(lists::Network(n.ip, n.ip.v6 ? rep_.prefix6 : rep_.prefix4)));
  return keys;
}

bool Engine::Lookup(const comment::Normalized& n, int64_t now, Verdict* v, std::vector<VerdictHit>* rep_hits,
                    store::LearnerTotals* learner, int64_t* keyword_version, RatePlan* rate) const {
  store::LookupRequest req;
  req.now = now;
  req.has_ip = !(n.flags & (SG_FLAG_BAD_IP | SG_FLAG_NO_IP));
  if (req.has_ip) req.ip = lists::FromAddress(n.ip);
  if (lists::NormalizeEmail(n.email, &req.email)) {
    for (size_t dot = req.email.find('@'); dot != std::string::npos; dot = req.email.find('.', dot + 1))
      req.email_domains.push_back(req.email.substr(dot + 1));
  } else {
    req.email.clear();
  }
  std::string host;
  if (lists::UrlHost(n.url, &host))
    for (size_t dot = 0; dot != std::string::npos; dot = host.find('.', dot + 1))
      req.url_domains.push_back(host.substr(dot == 0 ? 0 : dot + 1));
  req.rep_keys = RepKeys(n);
  req.want_learner = !rules_->learned().empty();

  store::LookupResult res;
  Status st;
  if (rate) {
    // The rate check rides along: one round trip for a server-backed store.
    st = store_->LookupAndRate(req, rate->keys, rate->now_ms, &res, &rate->decision, &rate->status, &rate->checked);
    if (!st.ok() && !rate->checked) {
      rate->checked = true;  // as unavailable as the lookup: said once, not asked again
      rate->status = st;
    }
  } else {
    st = store_->Lookup(req, &res);
  }
  if (!st.ok()) {
    v->flags |= SG_FLAG_STATE_UNAVAILABLE;
    return false;
  }
  *learner = res.learner;
  *keyword_version = res.keyword_version;
  if (res.list != 0) {
    ListHit(res.list, res.field, res.entry, v);
    return true;
  }
  for (size_t i = 0; i < req.rep_keys.size() && i < res.rep.size(); ++i) {
    store::RepCounts d = reputation::Decayed(res.rep[i], now, rep_);
    double points = reputation::Points(d.spam, d.ham, rep_);
    if (points != 0) rep_hits->push_back(RepHit(i == 0, n.ip, d, points));
  }
  return false;
}

void Engine::ListHit(int list, const char* field, const store::ListEntry& e, Verdict* v) const {
  VerdictHit h;
  h.field = field;
  const rules::Settings& s = rules_->settings();
  if (list == store::kAllow) {
    h.name = "LIST_ALLOW";
    h.description = "On the allow list";
    v->action = SG_ACTION_ACCEPT;
  } else {
    h.name = "LIST_BLOCK";
    h.description = "On the block list";
    v->action = s.state.block_action;
    h.points = v->action == SG_ACTION_DISCARD ? s.discard_score : s.required_score;
    v->score = h.points;
  }
  h.match = e.what + " (" + ListName(list) + " list, source " + e.source + (e.reason.empty() ? "" : ": " + e.reason) +
            Expiry(e.expires) + ")";
  v->hits.push_back(std::move(h));
}

VerdictHit Engine::RepHit(bool addr, const comment::IpAddress& ip, const store::RepCounts& decayed,
                          double points) const {
  VerdictHit h;
  const char* sign = points > 0 ? "_BAD" : points < 0 ? "_GOOD" : "";
  h.name = std::string(addr ? "REPUTATION_IP" : "REPUTATION_NET") + sign;
  h.points = points;
  h.field = "ip";
  h.description = addr ? "Past spam and ham from this address" : "Past spam and ham from this network";
  lists::IpRange what = addr ? lists::FromAddress(ip) : lists::Network(ip, ip.v6 ? rep_.prefix6 : rep_.prefix4);
  h.match = (addr ? "IP " : "network ") + what.ToString() + ": " + reputation::Evidence(decayed, rep_);
  return h;
}

Status Engine::ExplainIp(const std::string& text, int64_t now, Verdict* v) const {
  *v = Verdict();
  v->rules = rules_;
  comment::IpAddress addr;
  if (!comment::ParseIp(text, &addr)) return Status::InvalidArgument("'" + text + "' is not an IPv4 or IPv6 address");
  Status st = RequireStore();
  if (!st.ok()) return st;
  const int64_t now_ms = now != 0 ? now * 1000 : ratelimit::ClockMs();  // rate limits keep milliseconds
  if (now == 0) now = now_ms / 1000;
  lists::IpRange ip = lists::FromAddress(addr);
  // The address as a comment's identity, for its reputation and rate keys.
  comment::Normalized n;
  n.ip = addr;
  n.kind = comment::Kind::kComment;
  // Both lists are shown; the allow list wins, as when scoring.
  bool decided = false;
  for (int list : {store::kAllow, store::kBlock}) {
    store::ListEntry e;
    bool found = false;
    st = store_->MatchIp(list, ip, now, &e, &found);
    if (!st.ok()) return st;
    if (!found) continue;
    if (!decided) {
      ListHit(list, "ip", e, v);
      decided = true;
    } else {
      Verdict unused;
      ListHit(list, "ip", e, &unused);
      VerdictHit h = std::move(unused.hits[0]);
      h.points = 0;
      h.description += " (not used: the allow list wins)";
      v->hits.push_back(std::move(h));
    }
  }
  std::vector<std::string> keys = RepKeys(n);
  std::vector<store::RepCounts> counts;
  st = store_->GetReputation(keys, &counts);
  if (!st.ok()) return st;
  double rep_points = 0;
  for (size_t i = 0; i < keys.size() && i < counts.size(); ++i) {
    store::RepCounts d = reputation::Decayed(counts[i], now, rep_);
    double points = reputation::Points(d.spam, d.ham, rep_);
    VerdictHit h = RepHit(i == 0, addr, d, points);
    if (points == 0 && d.spam + d.ham < rep_.min_evidence) {
      h.match += "; no points under " + FormatShortest(rep_.min_evidence) + " reports";
    }
    if (decided && points != 0) {
      h.match += "; would add " + FormatFixed(points, 2, true) + " if on no list";
      h.points = 0;
    }
    rep_points += h.points;
    v->hits.push_back(std::move(h));
  }
  // The address's rate limits, as they stand (read, not charged). When one
  // is spent, a comment from the address would be throttled.
  if (rates_) {
    const rules::StateSettings& ss = rules_->settings().state;
    comment::Comment c;
    std::vector<store::RateKey> rate_keys;
    std::vector<std::string> who;
    std::vector<const rules::RateLimitSpec*> specs;
    for (const auto& r : ss.ratelimits) {
      if (r.key != rules::RateLimitSpec::kIp && r.key != rules::RateLimitSpec::kNet) continue;
      store::RateKey k;
      std::string shown;
      if (!RateKeyFor(r, c, n, &k, &shown)) continue;
      rate_keys.push_back(std::move(k));
      who.push_back(std::move(shown));
      specs.push_back(&r);
    }
    std::vector<store::RateState> states;
    st = rates_->RatePeek(rate_keys, &states);
    if (!st.ok()) return st;
    for (size_t i = 0; i < rate_keys.size(); ++i) {
      const store::RateKey& k = rate_keys[i];
      int64_t left = ratelimit::GcraRemaining(states[i].have, states[i].tat, now_ms, k.interval_ms, k.tolerance_ms);
      VerdictHit h;
      h.name = LimitName(*specs[i]);
      h.field = "ip";
      h.description = "Rate limit, as it stands";
      h.match = who[i] + ": '" + specs[i]->text + "': " + std::to_string(left) + " of " +
                std::to_string(specs[i]->burst) + " left";
      if (left == 0) {
        ratelimit::GcraStep step = ratelimit::Gcra(states[i].have, states[i].tat, now_ms, k.interval_ms, k.tolerance_ms);
        int64_t retry = RetrySeconds(step.retry_ms);
        h.match += ", next allowed in " + std::to_string(retry) + " s";
        if (!decided && v->action != SG_ACTION_THROTTLE) {
          v->action = SG_ACTION_THROTTLE;
          v->retry_after = retry;
        }
      }
      v->hits.push_back(std::move(h));
    }
  }
  if (!decided) {
    v->score = RoundScore(rep_points);
    if (v->action != SG_ACTION_THROTTLE) v->action = ActionFor(rules_->settings(), v->score);
  }
  return Status::OK();
}

Status Engine::ListEntries(int list, const std::string* source, size_t limit,
                           std::vector<store::ListEntry>* out) const {
  if (list != 0 && list != store::kAllow && list != store::kBlock)
    return Status::InvalidArgument("list must be 0, SG_LIST_ALLOW or SG_LIST_BLOCK");
  Status st = RequireStore();
  if (!st.ok()) return st;
  return store_->Entries(list, source, limit, out);
}

Status Engine::Prune(int64_t now, store::PruneCounts* out, int* retention_days) const {
  Status st = RequireStore();
  if (!st.ok()) return st;
  if (now == 0) now = int64_t(::time(nullptr));
  *retention_days = retention_days_;
  // retention_days 0 keeps every trace; spent rate-limit keys still go.
  int64_t before = retention_days_ > 0 ? now - int64_t(retention_days_) * 86400 : INT64_MIN;
  return store_->Prune(before, now, out);
}

Status Engine::Stats(store::StoreStats* out) const {
  Status st = RequireStore();
  if (!st.ok()) return st;
  st = store_->Stats(int64_t(::time(nullptr)), out);
  const rules::StateSettings& ss = rules_->settings().state;
  out->ratelimit_fail_closed = ss.ratelimit_fail_closed;
  const rules::PrefilterInfo& pf = rules_->prefilter();
  out->rules_filtered = int64_t(pf.filtered);
  out->rules_unfiltered = int64_t(pf.unfiltered);
  out->rule_atoms = int64_t(pf.atoms);
  out->rules_from_cache = int64_t(pf.from_cache);
  out->rule_cache = pf.cache;
  out->learner_max_tokens = ss.learn_max_tokens;
  out->learner_min_spam = ss.learn_min_spam;
  out->learner_min_ham = ss.learn_min_ham;
  out->learner_rules = int64_t(rules_->learned().size());
  out->form_secret_configured = configured_secret_ != nullptr;
  for (const auto& r : rules_->rules())
    if (r.target == rules::Target::kCheck && r.condition >= rules::Condition::kFormNoToken) ++out->form_rules;
  return st;
}

void Engine::Score(const comment::Comment& c, Verdict* v) const {
  *v = Verdict();
  v->rules = rules_;
  if (state_unavailable_) v->flags |= SG_FLAG_STATE_UNAVAILABLE;
  const int64_t now = Now(c);
  comment::Normalized n;
  std::vector<VerdictHit> rep_hits;
  store::LearnerTotals learner_totals;
  learner_totals.spam = -1;  // unknown until the lookup reads it
  int64_t keyword_version = 0;
  if (store_ || rates_) {
    // Lists and rate limits first, on the fields they need: a listed or
    // throttled sender costs one store lookup and no work on the text.
    comment::NormalizeIdentity(c, limits_, &n);
    // A host-supplied time counts for rate limits, but never one ahead of
    // the clock (a time far ahead would start every key afresh).
    const int64_t clock = ratelimit::ClockMs();
    RatePlan plan;
    plan.now_ms = c.time != 0 ? std::min(c.time * 1000, clock) : clock;
    const bool limited = rates_ && RateKeysFor(c, n, &plan);
    // Limits kept by the store itself are checked with the lookup.
    const bool together = limited && store_ && rates_ == store_.get();
    bool decided = store_ && Lookup(n, now, v, &rep_hits, &learner_totals, &keyword_version, together ? &plan : nullptr);
    if (!decided && limited) {
      if (!together) plan.status = rates_->RateCheck(plan.keys, plan.now_ms, &plan.decision);
      if (!together || plan.checked) decided = RateVerdict(plan, plan.status, plan.decision, n, plan.now_ms, v);
    }
    v->flags |= n.flags;
    if (decided) return;
  }
  comment::Normalize(c, limits_, &n);
  CheckForm(c, now, &n, v);
  v->flags |= n.flags;

  content_evaluations_.fetch_add(1, std::memory_order_relaxed);
  thread_local std::vector<rules::Hit> hits;
  hits.clear();
  v->score = rules_->Evaluate(n, &hits, &v->error, /*defer_matches=*/true);
  v->hits.reserve(hits.size() + 2);
  // A match left for when it is read keeps a copy of its field's text (one
  // per field) with the verdict: the comment may be gone by then.
  std::shared_ptr<const std::string> kept;
  const char* kept_from = nullptr;
  for (auto& h : hits) {
    VerdictHit vh;
    vh.rule = h.rule;
    vh.points = rules_->rules()[size_t(h.rule)].score;
    vh.match = std::move(h.match);
    if (h.match_in.data() != nullptr) {
      if (!kept || kept_from != h.match_in.data() || kept->size() != h.match_in.size()) {
        kept = std::make_shared<const std::string>(h.match_in);
        kept_from = h.match_in.data();
      }
      vh.match_in = kept;
      vh.match_branches = h.branches;
    }
    v->hits.push_back(std::move(vh));
  }
  for (auto& h : rep_hits) {
    v->score += h.points;
    v->hits.push_back(std::move(h));
  }
  if (keyword_version != 0) KeywordHit(c, n, keyword_version, v);
  // Auto-learning looks at the score without the learner's own points, so
  // that what it learned can never vote for learning more of the same.
  const double unlearned_score = RoundScore(v->score);
  // (Not when the lookup failed: the verdict already says state was unavailable.)
  if (store_ && !rules_->learned().empty() && learner_totals.spam >= 0 && !LearnedHit(n, learner_totals, v))
    v->flags |= SG_FLAG_STATE_UNAVAILABLE;

  std::stable_sort(v->hits.begin(), v->hits.end(),
                   [](const VerdictHit& a, const VerdictHit& b) { return a.points > b.points; });
  v->score = RoundScore(v->score);
  const rules::Settings& s = rules_->settings();
  v->action = ActionFor(s, v->score);

  if (store_ && !read_only_ && s.state.auto_learn) {
    int label = unlearned_score >= s.discard_score               ? SG_LABEL_SPAM
                : unlearned_score <= s.state.auto_learn_ham_score ? SG_LABEL_HAM
                                                                  : 0;
    if (label != 0 && !LearnNormalized(c, n, label).ok()) v->flags |= SG_FLAG_STATE_UNAVAILABLE;
  }
}

std::shared_ptr<const lists::KeywordIndex> Engine::Keywords(int64_t version) const {
  // The common case, without the lock: the index held is current.
  std::shared_ptr<const lists::KeywordIndex> held = std::atomic_load(&keywords_);
  if (held && held->version() == version) return held;
  std::lock_guard<std::mutex> lock(keywords_mu_);
  held = std::atomic_load(&keywords_);
  if (held && held->version() == version) return held;
  int64_t read_version = 0;
  held = lists::KeywordIndex::Load(store_.get(), KeywordCache(), &read_version, nullptr, version);
  if (!held) return nullptr;
  std::atomic_store(&keywords_, held);
  return held;
}

void Engine::KeywordHit(const comment::Comment& c, const comment::Normalized& n, int64_t version, Verdict* v) const {
  std::shared_ptr<const lists::KeywordIndex> index = Keywords(version);
  if (!index) {
    v->flags |= SG_FLAG_STATE_UNAVAILABLE;
    return;
  }
  lists::KeywordMatch m;
  if (!index->Match(c, n, &m)) return;
  VerdictHit h;
  h.name = "LIST_KEYWORD";
  h.field = m.field;
  h.description = m.kind == lists::kPhrase ? "Holds a phrase of a keyword list"
                                           : "Links to a site a link-pattern list names";
  h.points = rules_->settings().state.keyword_points;
  std::string shown = m.found.size() > 100 ? m.found.substr(0, 100) + "..." : m.found;
  h.match = "'" + shown + "' in the " + m.field + " (source " + m.source +
            (m.kind == lists::kPhrase ? "" : ", pattern " + m.entry.substr(0, 100)) + ")";
  v->score += h.points;
  v->hits.push_back(std::move(h));
}

std::shared_ptr<const Engine::TokenSnapshot> Engine::Snapshot(const store::LearnerTotals& now) const {
  const uint64_t own = own_writes_.load(std::memory_order_acquire);
  // The common case, without the lock: the table held is current.
  std::shared_ptr<const TokenSnapshot> held = std::atomic_load(&snapshot_);
  if (held && held->totals.version == now.version && held->own_writes == own) return held;
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  held = std::atomic_load(&snapshot_);
  if (held && held->totals.version == now.version && held->own_writes == own) return held;
  // Held only once nothing has changed for a while: while comments are
  // being learned, tokens are looked up one comment at a time.
  if (now.version != stable_version_) {
    stable_version_ = now.version;
    stable_scores_ = 0;
    std::atomic_store(&snapshot_, std::shared_ptr<const TokenSnapshot>());
    return nullptr;
  }
  if (++stable_scores_ < kSnapshotAfter) return nullptr;
  auto snap = std::make_shared<TokenSnapshot>();
  snap->own_writes = own;
  bool ok = store_->AllTokens(
                      [&](uint64_t h, const store::TokenCounts& c) {
                        // The totals are read first: size the table once.
                        if (snap->counts.size() == 0)
                          snap->counts.Reserve(size_t(std::max<int64_t>(snap->totals.tokens, 16)));
                        snap->counts.Put(h, c);
                      },
                      &snap->totals)
                .ok();
  if (!ok || snap->totals.version != now.version) {
    stable_scores_ = 0;  // changed meanwhile: try again later
    return nullptr;
  }
  std::shared_ptr<const TokenSnapshot> made = std::move(snap);
  std::atomic_store(&snapshot_, made);
  return made;
}

bool Engine::LearnedHit(const comment::Normalized& n, const store::LearnerTotals& known, Verdict* v) const {
  const rules::StateSettings& ss = rules_->settings().state;
  // Nothing to do (not even tokenizing) while the learner is under its
  // minimum, as read with the lists a moment ago.
  if (known.spam < ss.learn_min_spam || known.ham < ss.learn_min_ham) return true;
  thread_local learner::Tokens tokens;
  thread_local std::vector<uint64_t> hashes;
  thread_local std::vector<store::TokenCounts> counts;
  learner::Tokenize(n, &tokens);
  tokens.Hashes(&hashes);
  store::LearnerTotals totals;
  if (std::shared_ptr<const TokenSnapshot> snap = Snapshot(known)) {
    totals = snap->totals;
    counts.resize(hashes.size());
    for (size_t i = 0; i < hashes.size(); ++i) counts[i] = snap->counts.Get(hashes[i]);
  } else if (!store_->GetTokens(hashes, &counts, &totals).ok()) {
    return false;
  }
  // Silent until it has learned enough of both kinds.
  if (totals.spam < ss.learn_min_spam || totals.ham < ss.learn_min_ham) return true;
  thread_local learner::Result r;
  learner::Classify(tokens, counts, totals, &r);
  int rule = rules_->LearnedRuleFor(r.prob);
  if (rule < 0) return true;
  const rules::Rule& rr = rules_->rules()[size_t(rule)];
  if (rr.Silent()) return true;
  VerdictHit h;
  h.rule = rule;
  h.points = rr.score;
  std::string clues = learner::Explain(tokens, r, 5);
  h.match = "spam probability " + FormatFixed(r.prob, 3, false) + " from " + std::to_string(r.clues.size()) +
            " of " + std::to_string(tokens.list.size()) + " tokens" + (clues.empty() ? "" : "; tokens: " + clues);
  v->score += h.points;
  v->hits.push_back(std::move(h));
  return true;
}

store::LearnOp Engine::LearnOpFor(const comment::Comment& c) const {
  store::LearnOp op;
  const std::string& id = c.fields[SG_FIELD_ID];
  op.cid = id.empty() ? ContentId(c) : "id:" + id;
  op.now = Now(c);
  op.half_life = rep_.HalfLifeSeconds();
  return op;
}

Status Engine::LearnNormalized(const comment::Comment& c, const comment::Normalized& n, int label) const {
  store::LearnOp op = LearnOpFor(c);
  op.label = label;
  op.keys = RepKeys(n);
  learner::Tokens tokens;
  learner::Tokenize(n, &tokens);
  tokens.Hashes(&op.tokens);
  op.max_tokens = rules_->settings().state.learn_max_tokens;
  store::LearnOutcome outcome;
  Status st = store_->Learn(op, &outcome);
  own_writes_.fetch_add(1, std::memory_order_acq_rel);
  return st;
}

Status Engine::Batch(bool on) const {
  Status st = RequireStore();
  if (!st.ok()) return st;
  return store_->Batch(on);
}

Status Engine::Forget(const comment::Comment& c, bool* found) const {
  *found = false;
  Status st = RequireStore();
  if (!st.ok()) return st;
  Status forgot = store_->Forget(LearnOpFor(c), found);
  own_writes_.fetch_add(1, std::memory_order_acq_rel);
  return forgot;
}

Status Engine::Learn(const comment::Comment& c, int label) const {
  if (label != SG_LABEL_SPAM && label != SG_LABEL_HAM)
    return Status::InvalidArgument("label must be SG_LABEL_SPAM or SG_LABEL_HAM, got " + std::to_string(label));
  Status st = RequireStore();
  if (!st.ok()) return st;
  comment::Normalized n;
  comment::Normalize(c, limits_, &n);
  return LearnNormalized(c, n, label);
}

Status Engine::ListAdd(int list, int kind, const std::string& entry, const std::string& source,
                       const std::string& reason, int64_t expires) const {
  if (list != store::kAllow && list != store::kBlock)
    return Status::InvalidArgument("list must be SG_LIST_ALLOW or SG_LIST_BLOCK");
  if (source.empty()) return Status::InvalidArgument("an entry needs a source (who or what added it)");
  Status st = RequireStore();
  if (!st.ok()) return st;
  int64_t now = int64_t(::time(nullptr));
  std::string value, error;
  switch (kind) {
    case SG_ENTRY_IP: {
      lists::IpRange r;
      if (!lists::ParseRange(entry, &r, &error)) return Status::InvalidArgument("'" + entry + "': " + error);
      return store_->AddIp(list, r, source, reason, now, expires);
    }
    case SG_ENTRY_EMAIL:
      if (!lists::NormalizeEmail(entry, &value)) return Status::InvalidArgument("'" + entry + "' is not an e-mail address");
      return store_->AddName(list, store::kEmail, value, source, reason, now, expires);
    case SG_ENTRY_EMAIL_DOMAIN:
    case SG_ENTRY_URL_DOMAIN:
      if (!lists::NormalizeDomain(entry, &value)) return Status::InvalidArgument("'" + entry + "' is not a domain");
      // A public suffix would hold every site under it ("co.uk", "blogspot.com").
      if (comment::IsPublicSuffix(value))
        return Status::InvalidArgument("'" + value + "' is a public suffix: list a registrable domain under it, such as "
                                       "example." + value);
      return store_->AddName(list, kind == SG_ENTRY_EMAIL_DOMAIN ? store::kEmailDomain : store::kUrlDomain, value,
                             source, reason, now, expires);
    default:
      return Status::InvalidArgument("unknown entry kind " + std::to_string(kind));
  }
}

Status Engine::ListRemove(int list, const std::string& entry, size_t* removed) const {
  if (list != store::kAllow && list != store::kBlock)
    return Status::InvalidArgument("list must be SG_LIST_ALLOW or SG_LIST_BLOCK");
  Status st = RequireStore();
  if (!st.ok()) return st;
  return store_->Remove(list, entry, removed);
}

Status Engine::KeywordImport(int kind, const std::string& path, const std::string& source,
                             ImportReport* report) const {
  if (kind != lists::kPhrase && kind != lists::kLinkPattern)
    return Status::InvalidArgument("kind must be SG_KEYWORDS_PHRASES or SG_KEYWORDS_LINK_PATTERNS");
  if (source.empty()) return Status::InvalidArgument("an import needs a source name (it replaces that source)");
  Status st = RequireStore();
  if (!st.ok()) return st;
  *report = ImportReport();
  std::vector<lists::KeywordEntry> entries;
  std::vector<std::string> errors;
  size_t duplicates = 0;
  std::string io_error;
  if (!lists::ReadKeywordFile(path, kind, &entries, &errors, &duplicates, &io_error)) return Status::IOError(io_error);
  for (auto& e : entries) e.source = source;
  report->skipped = errors.size();
  for (size_t i = 0; i < errors.size() && i < 100; ++i) report->messages.push_back(std::move(errors[i]));
  if (duplicates > 0 && report->messages.size() < 100)
    report->messages.push_back(path + ": " + std::to_string(duplicates) + " duplicate lines (kept once)");
  int64_t version = 0;
  st = store_->ReplaceKeywords(source, entries, &version);
  if (!st.ok()) return st;
  report->imported = entries.size();
  // The index every engine maps, made now rather than by the next request.
  int64_t loaded = 0;
  lists::KeywordIndex::Load(store_.get(), KeywordCache(), &loaded);
  return Status::OK();
}

Status Engine::ListImport(int list, const std::string& path, const std::string& source, const std::string& reason,
                          int64_t expires, ImportReport* report) const {
  if (list != store::kAllow && list != store::kBlock)
    return Status::InvalidArgument("list must be SG_LIST_ALLOW or SG_LIST_BLOCK");
  if (source.empty()) return Status::InvalidArgument("an import needs a source name (it replaces that source)");
  Status st = RequireStore();
  if (!st.ok()) return st;
  struct stat sb;
  if (::stat(path.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode)) return Status::IOError(path + ": is a directory, not a list");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open: " + strerror(errno));
  *report = ImportReport();
  std::vector<store::ImportEntry> entries;
  std::string line;
  size_t line_no = 0;
  constexpr size_t kMaxLine = 4096;
  // Lines are read to at most kMaxLine bytes each (a longer one is skipped
  // as it streams by, however long), and a read error is an error, never
  // the end of the list.
  std::streambuf* sb_in = in.rdbuf();
  auto next_line = [&](std::string* out, bool* too_long) -> Status {
    out->clear();
    *too_long = false;
    bool any = false;
    try {
      for (int c; (c = sb_in->sbumpc()) != EOF;) {
        any = true;
        if (c == '\n') return Status::OK();
        if (out->size() < kMaxLine) out->push_back(char(c));
        else *too_long = true;
      }
    } catch (const std::exception& e) {
      return Status::IOError(path + ":" + std::to_string(line_no + 1) + ": read error: " + e.what());
    }
    return any ? Status::OK() : Status::NotFound("end");
  };
  bool too_long = false;
  for (;;) {
    Status rs = next_line(&line, &too_long);
    if (rs.code() == SG_ENOTFOUND) break;
    if (!rs.ok()) return rs;
    ++line_no;
    if (entries.size() >= kMaxImportEntries)
      return Status::Limit(path + ":" + std::to_string(line_no) + ": more than " +
                                   std::to_string(kMaxImportEntries) + " entries in one list; nothing was imported");
    lists::ListLine parsed;
    lists::LineKind k;
    if (too_long) {
      k = lists::LineKind::kMalformed;
      parsed.error = "line longer than " + std::to_string(kMaxLine) + " bytes";
    } else {
      k = lists::ParseListLine(line, &parsed);
    }
    if (k == lists::LineKind::kSkip) continue;
    if (k == lists::LineKind::kMalformed) {
      ++report->skipped;
      if (report->messages.size() < 100)
        report->messages.push_back(path + ":" + std::to_string(line_no) + ": " + parsed.error);
      continue;
    }
    entries.push_back({parsed.range, parsed.reason.empty() ? reason : parsed.reason});
  }
  st = store_->ReplaceSource(list, source, entries, int64_t(::time(nullptr)), expires);
  if (!st.ok()) return st;
  report->imported = entries.size();
  return Status::OK();
}

}  // namespace spamguard::engine
