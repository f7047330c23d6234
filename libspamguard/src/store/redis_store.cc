// The Redis store. Keys, all under the prefix P = "sg:{NAMESPACE}:":
//
//   P meta              hash: v (layout version), bid/fsid (id counters), kwv (keyword version), the
//                       learner's totals (spam, ham, tokens, serial, lv: its version), and h:L:F / n:L:K set once
//                       list L holds addresses of family F / names of kind K (what one lookup reads first)
//   P bk                hash: bucket -> "LIST\tIP\tEXPIRES\tSOURCE" (entries added together)
//   P bc                hash: "BUCKET:KIND" -> entries of that kind in the bucket
//   P bv                hash: bucket -> "KIND\tVALUE" (a bucket of one name entry)
//   P d:B               hash: entry id (8 bytes) -> kind, added, what, reason; expires with the bucket (TTL)
//   P ipe:L:F           sorted set (lex): every address entry, lo . plen . bucket . id
//   P ipx:L:F           sorted set (lex): the flat index, disjoint intervals lo . hi . bucket . id
//   P n:L:K:VALUE       set: bucket . id of the name entries of that value
//   P r:KEY             hash: s, h, u (reputation); P ru: keys by last change
//   P l:CID             hash: lb, k, at, t, ht (a learned comment); P lat: ids by time; P lcnt: per label
//   P tk                hash: token -> "SPAM HAM"; P tks: token -> serial of its last learn
//   P rg:GROUP          hash: rate key -> "TAT OVER_SINCE LAST_OVER KEEP" (rate limits, ms; TTL; RateGroup)
//   P fu:KEY            hash: n, x (form token uses; TTL)
//   P fs                hash: id -> created (8 bytes) . key (form secrets)
//   P kw:KIND:SOURCE    hash: entry -> atoms; P kwsrc: the sources
//
// An address lookup is one ZREVRANGEBYLEX on the flat index (the greatest
// interval starting at or before the address). Entries whose bucket expired
// stay in the sorted sets until a prune or a rebuild; the lookup checks each
// entry it returns, and falls back to a probe per prefix when the index names
// one that is gone.
#include "store/redis_store.h"

#include <hiredis.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "lists/import.h"
#include "lists/ip_index.h"
#include "ratelimit/gcra.h"
#include "util/digest.h"

namespace spamguard::store {

struct RedisStore::Script {
  const char* body;
  std::string sha;
};

class RedisStore::Reply {
 public:
  Reply() = default;
  explicit Reply(redisReply* r) : r_(r) {}
  Reply(Reply&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Reply& operator=(Reply&& o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }
  Reply(const Reply&) = delete;
  ~Reply() {
    if (r_) freeReplyObject(r_);
  }
  redisReply* get() const { return r_; }

 private:
  redisReply* r_ = nullptr;
};

namespace {

const char kScriptBody[] =
#include "redis_script.inc"
    ;

using Cmd = std::vector<std::string>;

std::string Be(uint64_t v, int width) {
  std::string s(size_t(width), '\0');
  for (int i = width - 1; i >= 0; --i) {
    s[size_t(i)] = char(v & 0xff);
    v >>= 8;
  }
  return s;
}
uint64_t UnBe(std::string_view s) {
  uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  return v;
}

// Typed reads of a reply; a reply of another type than expected reads as
// empty and is reported by the caller.
bool IsArray(const redisReply* r) { return r && r->type == REDIS_REPLY_ARRAY; }
std::string Str(const redisReply* r) {
  if (!r) return "";
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
    return std::string(r->str, r->len);
  if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
  return "";
}
bool Int(const redisReply* r, int64_t* v) {
  if (!r) return false;
  if (r->type == REDIS_REPLY_INTEGER) {
    *v = r->integer;
    return true;
  }
  if (r->type == REDIS_REPLY_STRING) {
    std::string s(r->str, r->len);
    char* end = nullptr;
    errno = 0;
    long long x = strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0) return false;
    *v = x;
    return true;
  }
  if (r->type == REDIS_REPLY_NIL) {
    *v = 0;
    return true;
  }
  return false;
}
int64_t IntOr(const redisReply* r, int64_t dflt = 0) {
  int64_t v = 0;
  return Int(r, &v) ? v : dflt;
}
double Dbl(const redisReply* r) {
  std::string s = Str(r);
  char* end = nullptr;
  double v = strtod(s.c_str(), &end);
  return std::isfinite(v) && v > 0 ? v : 0.0;
}
const redisReply* At(const redisReply* r, size_t i) {
  return IsArray(r) && i < r->elements ? r->element[i] : nullptr;
}

Status Unexpected(const std::string& what) {
  return Status::IOError("redis: unexpected reply to " + what + " (is this a Redis server of version 6 or later?)");
}

// The packed entry data: kind, added (8 bytes), what's length (2), what, reason.
std::string PackEntry(int kind, int64_t added, const std::string& what, const std::string& reason) {
  std::string d(1, char(kind));
  d += Be(uint64_t(added), 8);
  d += Be(what.size(), 2);
  d += what;
  d += reason;
  return d;
}

struct Ref {
  uint32_t bucket = 0;
  uint64_t id = 0;
};
std::string RefBytes(const Ref& r) { return Be(r.bucket, 4) + Be(r.id, 8); }

// An address entry's member of ipe: lo . plen . bucket . id.
std::string EntryMember(const lists::IpRange& r, const Ref& ref) {
  std::string m(r.Lo());
  m.push_back(char(r.plen));
  return m + RefBytes(ref);
}
bool ParseEntryMember(const std::string& m, int fam, lists::IpRange* r, std::string* ref) {
  size_t w = fam == 4 ? 4 : 16;
  if (m.size() != w + 13) return false;
  comment::IpAddress a;
  a.v6 = fam == 6;
  memcpy(a.bytes.data(), m.data(), w);
  int plen = static_cast<unsigned char>(m[w]);
  if (plen > int(w * 8)) return false;
  *r = lists::Network(a, plen);
  *ref = m.substr(w + 1);
  return true;
}

std::string Hex(uint8_t c) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("%") + hex[c >> 4] + hex[c & 15];
}

int WidthOf(int fam) { return fam == 4 ? 4 : 16; }

// Commands are written in RESP by us and sent with send(MSG_NOSIGNAL), so
// that a connection the server closed gives EPIPE and never a SIGPIPE that
// would kill the host (hiredis writes with write()); hiredis only reads.
void Format(const Cmd& cmd, std::string* out) {
  auto head = [out](char c, size_t n) {
    char b[24];
    b[0] = c;
    char* end = std::to_chars(b + 1, b + sizeof b - 2, n).ptr;
    *end++ = '\r';
    *end++ = '\n';
    out->append(b, size_t(end - b));
  };
  head('*', cmd.size());
  for (const auto& a : cmd) {
    head('$', a.size());
    out->append(a);
    out->append("\r\n", 2);
  }
}
// Sends all of `data` on the blocking socket (its send timeout set); false
// with errno on failure (EAGAIN: the timeout).
bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(size_t(n));
  }
  return true;
}
// Why SendAll failed, from errno.
std::string SendFailure(int timeout_ms) {
  return errno == EAGAIN || errno == EWOULDBLOCK ? "no answer within " + std::to_string(timeout_ms) + " ms"
                                                 : std::string(strerror(errno));
}

// The meta field that says list `list` has (or had) address entries of
// family `fam`: a lookup probes only the indexes that may hold something.
std::string HasKey(int list, int fam) { return "h:" + std::to_string(list) + ":" + std::to_string(fam); }

}  // namespace

bool IsRedisUrl(const std::string& d) { return d.rfind("redis://", 0) == 0 || d.rfind("redis+unix://", 0) == 0; }

std::string RedisStore::Prefix(const std::string& ns) {
  std::string out = "sg:{";
  for (unsigned char c : ns) {
    if (isalnum(c) || c == '.' || c == '_' || c == '-') out.push_back(char(c));
    else out += Hex(c);
  }
  return out + "}:";
}

namespace {

// "redis://[user:password@]host[:port][/db]", "redis+unix://[user:password@]/path/to/socket[?db=N]".
Status ParseUrl(const std::string& url, bool* is_unix, std::string* host, int* port, std::string* socket, int* db,
                std::string* user, std::string* password, std::string* shown) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("database '" + (shown->empty() ? std::string("redis://...") : *shown) + "': " + why);
  };
  std::string rest;
  if (url.rfind("redis://", 0) == 0) {
    *is_unix = false;
    rest = url.substr(8);
  } else if (url.rfind("redis+unix://", 0) == 0) {
    *is_unix = true;
    rest = url.substr(13);
  } else {
    return Status::InvalidArgument("not a Redis address: " + url.substr(0, 60));
  }
  size_t at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = cred.find(':');
    if (colon == std::string::npos) {
      *password = cred;
    } else {
      *user = cred.substr(0, colon);
      *password = cred.substr(colon + 1);
    }
  }
  // Shown in messages without the password.
  *shown = (*is_unix ? "redis+unix://" : "redis://") + rest;
  auto number = [](const std::string& s, int lo, int hi, int* v) {
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    *v = atoi(s.c_str());
    return *v >= lo && *v <= hi;
  };
  if (*is_unix) {
    size_t q = rest.find('?');
    *socket = rest.substr(0, q);
    if (socket->empty() || (*socket)[0] != '/') return bad("expected redis+unix:///path/to/socket");
    if (q != std::string::npos) {
      std::string query = rest.substr(q + 1);
      if (query.rfind("db=", 0) != 0 || !number(query.substr(3), 0, 100000, db))
        return bad("expected ?db=N after the socket path");
    }
    return Status::OK();
  }
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos && slash + 1 < rest.size() && !number(rest.substr(slash + 1), 0, 100000, db))
    return bad("the database number after '/' must be a number");
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string::npos) return bad("unclosed '[' around an IPv6 address");
    *host = hostport.substr(1, close - 1);
    hostport = hostport.substr(close + 1);
    if (!hostport.empty() && (hostport[0] != ':' || !number(hostport.substr(1), 1, 65535, port)))
      return bad("bad port");
  } else {
    size_t colon = hostport.rfind(':');
    *host = hostport.substr(0, colon);
    if (colon != std::string::npos && !number(hostport.substr(colon + 1), 1, 65535, port)) return bad("bad port");
  }
  if (host->empty()) return bad("missing host");
  return Status::OK();
}

Status ReadPasswordFile(const std::string& path, std::string* out) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::IOError("redis password file " + path + ": " + strerror(errno));
  if (st.st_mode & S_IROTH)
    return Status::IOError("redis password file " + path + ": readable by every user (chmod o-r it)");
  std::ifstream f(path);
  if (!f) return Status::IOError("redis password file " + path + ": cannot be read");
  std::string line;
  std::getline(f, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return Status::IOError("redis password file " + path + ": the first line is empty");
  *out = line;
  return Status::OK();
}

RedisStore::Script& TheScript() {
  static RedisStore::Script* s = [] {
    auto* x = new RedisStore::Script{kScriptBody, Sha1Hex(kScriptBody)};
    return x;
  }();
  return *s;
}

}  // namespace

Status RedisStore::Open(const std::string& url, const RedisOptions& opts, std::unique_ptr<RedisStore>* out) {
  std::unique_ptr<RedisStore> s(new RedisStore());
  s->url_ = url;
  s->opts_ = opts;
  Status st = ParseUrl(url, &s->unix_, &s->host_, &s->port_, &s->socket_, &s->db_, &s->user_, &s->password_,
                       &s->shown_);
  if (!st.ok()) return st;
  if (!opts.password_file.empty()) {
    st = ReadPasswordFile(opts.password_file, &s->password_);
    if (!st.ok()) return st;
  }
  if (opts.namespace_name.empty() || opts.namespace_name.size() > 200)
    return Status::InvalidArgument("redis namespace: expected 1 to 200 bytes");
  s->prefix_ = Prefix(opts.namespace_name);
  {
    std::lock_guard<std::mutex> lock(s->mu_);
    st = s->Connect();
  }
  if (!st.ok()) {
    // Unreachable is not fatal (the server may come back) unless asked;
    // a server that answered and refused is.
    bool unreachable = st.code() == SG_EBUSY;
    if (!unreachable || opts.require_connection) return Status::IOError(st.message());
  }
  *out = std::move(s);
  return Status::OK();
}

RedisStore::~RedisStore() {
  if (ctx_) redisFree(ctx_);
}

void RedisStore::Drop(const std::string& why) {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
  last_error_ = why;
  next_try_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.reconnect_ms);
}

namespace {

timeval Tv(int ms) {
  timeval tv;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}
}  // namespace

// Connection failures come back as Busy (the server may return); a server
// that answers wrongly as IOError.
Status RedisStore::Connect() {
  if (ctx_) return Status::OK();
  auto now = std::chrono::steady_clock::now();
  if (now < next_try_) return Status::Busy(last_error_);
  redisContext* c = unix_ ? redisConnectUnixWithTimeout(socket_.c_str(), Tv(opts_.connect_timeout_ms))
                          : redisConnectWithTimeout(host_.c_str(), port_, Tv(opts_.connect_timeout_ms));
  if (!c || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    Drop("redis " + shown_ + ": cannot connect: " + why);
    return Status::Busy(last_error_);
  }
  redisSetTimeout(c, Tv(opts_.timeout_ms));
  timeout_set_ = opts_.timeout_ms;
  ctx_ = c;
  // The handshake in one round trip: log in, choose the database, check the
  // layout.
  std::vector<Cmd> cmds;
  if (!password_.empty()) cmds.push_back(user_.empty() ? Cmd{"AUTH", password_} : Cmd{"AUTH", user_, password_});
  if (db_ != 0) cmds.push_back({"SELECT", std::to_string(db_)});
  cmds.push_back({"HGET", prefix_ + "meta", "v"});
  wbuf_.clear();
  for (const auto& cmd : cmds) Format(cmd, &wbuf_);
  if (!SendAll(c->fd, wbuf_)) {
    const std::string why = SendFailure(opts_.timeout_ms);  // (errno, before anything else runs)
    Drop("redis " + shown_ + ": " + why);                   // (frees c)
    return Status::Busy(last_error_);
  }
  std::string refused;
  int64_t version = 0;
  bool have_version = false;
  for (size_t i = 0; i < cmds.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK) {
      std::string why = c->err == REDIS_ERR_PROTOCOL ? std::string("not a Redis server? (") + c->errstr + ")"
                        : c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)
                            ? "no answer within " + std::to_string(opts_.timeout_ms) + " ms"
                            : std::string(c->errstr);
      const bool protocol = c->err == REDIS_ERR_PROTOCOL;
      Drop("redis " + shown_ + ": " + why);  // (frees c)
      return protocol ? Status::IOError(last_error_) : Status::Busy(last_error_);
    }
    Reply r(static_cast<redisReply*>(raw));
    if (r.get()->type == REDIS_REPLY_ERROR) {
      if (!refused.empty()) continue;  // the first refusal says why
      std::string what = cmds[i][0] == "AUTH" ? "login refused" : cmds[i][0] == "SELECT" ? "database " + std::to_string(db_) : "layout check";
      refused = what + ": " + Str(r.get());
    } else if (cmds[i][0] == "HGET") {
      have_version = r.get()->type != REDIS_REPLY_NIL;
      if (have_version && !Int(r.get(), &version))
        refused = "layout check: unexpected reply of type " + std::to_string(r.get()->type) + " (" + Str(r.get()).substr(0, 60) + ")";
    }
  }
  if (refused.empty() && have_version && version > kLayoutVersion)
    refused = "layout version " + std::to_string(version) + " is newer than this spamguard's (" +
              std::to_string(kLayoutVersion) + "); upgrade spamguard";
  if (!refused.empty()) {
    Drop("redis " + shown_ + ": " + refused);
    next_try_ = std::chrono::steady_clock::now();  // nothing to wait for: the same answer comes again
    return Status::IOError(last_error_);
  }
  if (!have_version && !opts_.read_only) {
    Reply r;
    Status st = Run1({"HSETNX", prefix_ + "meta", "v", std::to_string(kLayoutVersion)}, &r);
    if (!st.ok()) return st;
  }
  return Status::OK();
}

Status RedisStore::Error(const std::string& what) const { return Status::IOError("redis " + shown_ + ": " + what); }

Status RedisStore::Writable() const {
  return opts_.read_only ? Status::IOError("redis " + shown_ + ": opened read-only") : Status::OK();
}

Status RedisStore::Run(const std::vector<Cmd>& cmds, std::vector<Reply>* out, bool admin, bool errors_ok) {
  out->clear();
  Status st = Connect();
  if (!st.ok()) return Status::IOError(st.message());
  const int ms = admin ? std::max(opts_.admin_timeout_ms, opts_.timeout_ms) : opts_.timeout_ms;
  if (ms != timeout_set_) {
    redisSetTimeout(ctx_, Tv(ms));
    timeout_set_ = ms;
  }
  wbuf_.clear();
  for (const auto& cmd : cmds) Format(cmd, &wbuf_);
  if (!SendAll(ctx_->fd, wbuf_)) {
    const std::string why = SendFailure(ms);
    Drop("redis " + shown_ + ": " + why);
    return Status::IOError(last_error_);
  }
  if (wbuf_.capacity() > (1 << 20)) std::string().swap(wbuf_);  // a big import does not stay
  std::string error;
  for (size_t i = 0; i < cmds.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK) {
      bool timeout = ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
      std::string why = timeout ? "no answer within " + std::to_string(ms) + " ms"
                        : ctx_->err == REDIS_ERR_EOF ? "the server closed the connection"
                                                     : std::string(ctx_->errstr);
      Drop("redis " + shown_ + ": " + why);
      out->clear();
      return Status::IOError(last_error_);
    }
    out->emplace_back(static_cast<redisReply*>(raw));
    const redisReply* r = out->back().get();
    if (r->type == REDIS_REPLY_ERROR && error.empty()) error = Str(r);
  }
  if (!error.empty() && !errors_ok) return Error(error);
  return Status::OK();
}

Status RedisStore::Run1(const Cmd& cmd, Reply* out, bool admin) {
  std::vector<Reply> rs;
  Status st = Run({cmd}, &rs, admin);
  if (st.ok()) *out = std::move(rs[0]);
  return st;
}

Status RedisStore::Eval(const Script& s, std::vector<std::string> args, Reply* out, bool admin) {
  Cmd cmd = {"EVALSHA", s.sha, "1", prefix_ + "meta"};
  cmd.insert(cmd.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  std::vector<Reply> rs;
  Status st = Run({cmd}, &rs, admin, true);
  if (!st.ok()) return st;
  const redisReply* r = rs[0].get();
  if (r->type == REDIS_REPLY_ERROR && Str(r).rfind("NOSCRIPT", 0) == 0) {
    // The server forgot the script (restarted, or SCRIPT FLUSH): send it.
    cmd[0] = "EVAL";
    cmd[1] = s.body;
    st = Run({cmd}, &rs, admin, true);
    if (!st.ok()) return st;
    r = rs[0].get();
  }
  if (r->type == REDIS_REPLY_ERROR) return Error(Str(r));
  *out = std::move(rs[0]);
  return Status::OK();
}

namespace {

// Reads the entry reply {1, list, field, id, kind, what, source, reason, added, expires}.
bool EntryFromReply(const redisReply* r, ListEntry* e, std::string* field) {
  if (!IsArray(r) || r->elements < 10) return false;
  *e = ListEntry();
  e->list = int(IntOr(At(r, 1)));
  if (field) *field = Str(At(r, 2));
  e->id = IntOr(At(r, 3));
  e->kind = int(IntOr(At(r, 4))) + 1;
  e->what = Str(At(r, 5));
  e->source = Str(At(r, 6));
  e->reason = Str(At(r, 7));
  e->added = IntOr(At(r, 8));
  e->expires = IntOr(At(r, 9));
  return true;
}

}  // namespace

Status RedisStore::Lookup(const LookupRequest& req, LookupResult* out) {
  RateDecision d;
  Status rs;
  bool checked = false;
  return LookupAndRate(req, {}, 0, out, &d, &rs, &checked);
}

namespace {
// The rate check's reply {allowed, denied, retry, over since, server now}.
Status ParseRate(const redisReply* r, size_t nkeys, int64_t now_ms, RateDecision* out) {
  *out = RateDecision();
  if (!IsArray(r) || r->elements != 5) return Unexpected("a rate check");
  out->allowed = IntOr(At(r, 0)) == 1;
  if (!out->allowed) {
    out->denied = size_t(std::clamp<int64_t>(IntOr(At(r, 1)), 0, int64_t(nkeys) - 1));
    out->retry_after_ms = IntOr(At(r, 2));
    // The spell's start on the caller's clock: as long ago as on the server's.
    out->over_since_ms = now_ms - (IntOr(At(r, 4)) - IntOr(At(r, 3)));
  }
  return Status::OK();
}
// Rate keys are stored by group: the keys of one address (its own, its
// /24's, its /16's) share the group of its /16 (v6: /48), so that one
// comment's limits are one read and one write of one hash. Any function of
// the key would do; this one follows the address keys the engine builds
// ("rl\x1fRULE\x1fSUBJECT", the subject an address or a network key: family,
// prefix length, address). A key that holds no address is a group of its own.
std::string RateGroup(std::string_view key) {
  size_t sep = key.rfind('\x1f');
  std::string_view subject = sep == std::string_view::npos ? key : key.substr(sep + 1);
  auto group = [](char fam, std::string_view addr, size_t bytes) {
    return std::string(1, fam) + std::string(addr.substr(0, bytes));
  };
  if (subject.size() == 4) return group('4', subject, 2);
  if (subject.size() == 16) return group('6', subject, 6);
  if (subject.size() == 6 && subject[0] == 4 && uint8_t(subject[1]) >= 16) return group('4', subject.substr(2), 2);
  if (subject.size() == 18 && subject[0] == 6 && uint8_t(subject[1]) >= 48) return group('6', subject.substr(2), 6);
  return "k" + std::string(key);
}
// A group outlives every state it may hold: a day past the longest wait and
// spell of these keys.
int64_t RateGroupTtl(const std::vector<RateKey>& keys) {
  int64_t longest = 0;
  for (const auto& k : keys) longest = std::max(longest, k.interval_ms + k.tolerance_ms + k.period_ms);
  return longest + 86400000;
}
void RateArgs(bool server_clock, const std::vector<RateKey>& keys, int64_t now_ms, std::vector<std::string>* a) {
  a->push_back(server_clock ? "1" : "0");
  a->push_back(std::to_string(now_ms));
  a->push_back(std::to_string(ratelimit::ClockMs()));
  a->push_back(std::to_string(RateGroupTtl(keys)));
  for (const auto& k : keys) {
    a->push_back(RateGroup(k.key));
    a->push_back(k.key);
    a->push_back(std::to_string(k.interval_ms));
    a->push_back(std::to_string(k.tolerance_ms));
    a->push_back(std::to_string(k.period_ms));
  }
}
}  // namespace

Status RedisStore::LookupAndRate(const LookupRequest& req, const std::vector<RateKey>& keys, int64_t now_ms,
                                 LookupResult* out, RateDecision* decision, Status* rate_status, bool* checked) {
  *out = LookupResult();
  *checked = false;
  std::vector<std::string> a = {"lookup", prefix_, std::to_string(req.now)};
  if (req.has_ip) {
    a.push_back(std::to_string(req.ip.fam));
    a.emplace_back(req.ip.Lo());
  } else {
    a.emplace_back();
    a.emplace_back();
  }
  a.push_back(req.email);
  for (const auto* v : {&req.email_domains, &req.url_domains, &req.rep_keys}) {
    a.push_back(std::to_string(v->size()));
    a.insert(a.end(), v->begin(), v->end());
  }
  a.push_back(req.want_learner ? "1" : "0");
  if (!keys.empty()) RateArgs(opts_.server_clock, keys, now_ms, &a);
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  Status st = Eval(TheScript(), std::move(a), &rep);
  if (!st.ok()) return st;
  const redisReply* r = rep.get();
  if (!IsArray(r) || r->elements < 1) return Unexpected("the lookup");
  if (IntOr(At(r, 0)) == 1) {
    std::string field;
    if (!EntryFromReply(r, &out->entry, &field)) return Unexpected("the lookup");
    out->list = out->entry.list;
    out->field = field == "ip" ? "ip" : field == "url" ? "url" : "email";
    return Status::OK();
  }
  const size_t want = 6 + 3 * req.rep_keys.size() + (keys.empty() ? 0 : 1);
  if (r->elements != want) return Unexpected("the lookup");
  out->learner.spam = IntOr(At(r, 1));
  out->learner.ham = IntOr(At(r, 2));
  out->learner.tokens = IntOr(At(r, 3));
  out->learner.version = IntOr(At(r, 4));
  out->keyword_version = IntOr(At(r, 5));
  out->rep.assign(req.rep_keys.size(), RepCounts());
  for (size_t i = 0; i < req.rep_keys.size(); ++i) {
    out->rep[i].spam = Dbl(At(r, 6 + 3 * i));
    out->rep[i].ham = Dbl(At(r, 7 + 3 * i));
    out->rep[i].updated = IntOr(At(r, 8 + 3 * i));
  }
  if (!keys.empty()) {
    *checked = true;
    *rate_status = ParseRate(At(r, want - 1), keys.size(), now_ms, decision);
  }
  return Status::OK();
}

Status RedisStore::MatchIp(int list, const lists::IpRange& ip, int64_t now, ListEntry* out, bool* found) {
  *found = false;
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  Status st = Eval(TheScript(),
                   {"matchip", prefix_, std::to_string(now), std::to_string(list), std::to_string(ip.fam),
                    std::string(ip.Lo())},
                   &rep);
  if (!st.ok()) return st;
  if (!IsArray(rep.get())) return Unexpected("an address lookup");
  *found = IntOr(At(rep.get(), 0)) == 1 && EntryFromReply(rep.get(), out, nullptr);
  return Status::OK();
}

Status RedisStore::MatchName(int list, int kind, const std::vector<std::string>& candidates, int64_t now,
                             ListEntry* out, bool* found) {
  *found = false;
  std::vector<std::string> a = {"matchname", prefix_, std::to_string(now), std::to_string(list), std::to_string(kind)};
  a.insert(a.end(), candidates.begin(), candidates.end());
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  Status st = Eval(TheScript(), std::move(a), &rep);
  if (!st.ok()) return st;
  if (!IsArray(rep.get())) return Unexpected("a name lookup");
  *found = IntOr(At(rep.get(), 0)) == 1 && EntryFromReply(rep.get(), out, nullptr);
  return Status::OK();
}

Status RedisStore::GetReputation(const std::vector<std::string>& keys, std::vector<RepCounts>* out) {
  out->assign(keys.size(), RepCounts());
  if (keys.empty()) return Status::OK();
  std::vector<Cmd> cmds;
  for (const auto& k : keys) cmds.push_back({"HMGET", prefix_ + "r:" + k, "s", "h", "u"});
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Reply> rs;
  Status st = Run(cmds, &rs);
  if (!st.ok()) return st;
  for (size_t i = 0; i < keys.size(); ++i) {
    const redisReply* r = rs[i].get();
    if (!IsArray(r) || r->elements != 3) return Unexpected("a reputation read");
    (*out)[i] = RepCounts{Dbl(At(r, 0)), Dbl(At(r, 1)), IntOr(At(r, 2))};
  }
  return Status::OK();
}

namespace {
std::string PackTokens(const std::vector<uint64_t>& tokens) {
  std::string s;
  s.reserve(tokens.size() * 8);
  for (uint64_t t : tokens) s += Be(t, 8);
  return s;
}
TokenCounts ParseCounts(const std::string& v) {
  TokenCounts c;
  long long s = 0, h = 0;
  if (sscanf(v.c_str(), "%lld %lld", &s, &h) == 2) {
    c.spam = std::max<int64_t>(0, s);
    c.ham = std::max<int64_t>(0, h);
  }
  return c;
}
}  // namespace

Status RedisStore::Learn(const LearnOp& op, LearnOutcome* outcome) {
  Status st = Writable();
  if (!st.ok()) return st;
  char hl[32];
  snprintf(hl, sizeof hl, "%.17g", op.half_life);
  std::vector<std::string> a = {"learn",          prefix_, op.cid, std::to_string(op.label), std::to_string(op.now), hl,
                                std::to_string(op.max_tokens), PackTokens(op.tokens)};
  a.insert(a.end(), op.keys.begin(), op.keys.end());
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  st = Eval(TheScript(), std::move(a), &rep);
  if (!st.ok()) return st;
  int64_t v = 0;
  if (!Int(rep.get(), &v)) return Unexpected("a learn");
  *outcome = v == 0 ? LearnOutcome::kUnchanged : v == 2 ? LearnOutcome::kMoved : LearnOutcome::kAdded;
  return Status::OK();
}

Status RedisStore::Forget(const LearnOp& op, bool* found) {
  *found = false;
  Status st = Writable();
  if (!st.ok()) return st;
  char hl[32];
  snprintf(hl, sizeof hl, "%.17g", op.half_life);
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  st = Eval(TheScript(), {"forget", prefix_, op.cid, std::to_string(op.now), hl}, &rep);
  if (!st.ok()) return st;
  int64_t v = 0;
  if (!Int(rep.get(), &v)) return Unexpected("a forget");
  *found = v == 1;
  return Status::OK();
}

Status RedisStore::GetTokens(const std::vector<uint64_t>& tokens, std::vector<TokenCounts>* out,
                             LearnerTotals* totals) {
  out->assign(tokens.size(), TokenCounts());
  *totals = LearnerTotals();
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  Status st = Eval(TheScript(), {"tokens", prefix_, PackTokens(tokens)}, &rep);
  if (!st.ok()) return st;
  const redisReply* r = rep.get();
  if (!IsArray(r) || r->elements < 4) return Unexpected("a token read");
  totals->spam = IntOr(At(r, 0));
  totals->ham = IntOr(At(r, 1));
  totals->tokens = IntOr(At(r, 2));
  totals->version = IntOr(At(r, 3));
  if (r->elements == 4) return Status::OK();
  if (r->elements != 4 + tokens.size()) return Unexpected("a token read");
  for (size_t i = 0; i < tokens.size(); ++i) (*out)[i] = ParseCounts(Str(At(r, 4 + i)));
  return Status::OK();
}

Status RedisStore::AllTokens(const std::function<void(uint64_t, const TokenCounts&)>& each, LearnerTotals* totals) {
  *totals = LearnerTotals();
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  Status st = Eval(TheScript(), {"alltokens", prefix_}, &rep, true);
  if (!st.ok()) return st;
  const redisReply* r = rep.get();
  if (!IsArray(r) || r->elements != 5 || !IsArray(At(r, 4))) return Unexpected("a token read");
  totals->spam = IntOr(At(r, 0));
  totals->ham = IntOr(At(r, 1));
  totals->tokens = IntOr(At(r, 2));
  totals->version = IntOr(At(r, 3));
  const redisReply* all = At(r, 4);
  for (size_t i = 0; i + 1 < all->elements; i += 2) {
    std::string h = Str(all->element[i]);
    if (h.size() == 8) each(UnBe(h), ParseCounts(Str(all->element[i + 1])));
  }
  return Status::OK();
}

Status RedisStore::RateCheck(const std::vector<RateKey>& keys, int64_t now_ms, RateDecision* out) {
  *out = RateDecision();
  if (keys.empty()) return Status::OK();
  std::vector<std::string> a = {"rate", prefix_};
  RateArgs(opts_.server_clock, keys, now_ms, &a);
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  Status st = Eval(TheScript(), std::move(a), &rep);
  if (!st.ok()) return st;
  return ParseRate(rep.get(), keys.size(), now_ms, out);
}

Status RedisStore::RatePeek(const std::vector<RateKey>& keys, std::vector<RateState>* out) {
  out->assign(keys.size(), RateState());
  if (keys.empty()) return Status::OK();
  std::vector<std::string> a = {"peek", prefix_};
  for (const auto& k : keys) {
    a.push_back(RateGroup(k.key));
    a.push_back(k.key);
  }
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  Status st = Eval(TheScript(), std::move(a), &rep);
  if (!st.ok()) return st;
  if (!IsArray(rep.get()) || rep.get()->elements != keys.size()) return Unexpected("a rate read");
  for (size_t i = 0; i < keys.size(); ++i) {
    std::string v = Str(At(rep.get(), i));
    if (!v.empty()) (*out)[i] = RateState{true, IntOr(At(rep.get(), i))};
  }
  return Status::OK();
}

Status RedisStore::CountUse(const std::string& key, int64_t expires, int64_t now, int64_t* uses) {
  (void)now;
  *uses = 0;
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  Status st = Eval(TheScript(), {"use", prefix_, key, std::to_string(expires)}, &rep);
  if (!st.ok()) return st;
  if (!Int(rep.get(), uses)) return Unexpected("a form token count");
  return Status::OK();
}

// ---- List entries ----------------------------------------------------------

struct BucketInfo {
  uint32_t id = 0;
  int list = 0;
  bool ip = false;
  int64_t expires = 0;
  std::string source;
};

Status RedisStore::Buckets(std::vector<BucketInfo>* out) {
  out->clear();
  Reply rep;
  Status st = Run1({"HGETALL", prefix_ + "bk"}, &rep, true);
  if (!st.ok()) return st;
  const redisReply* r = rep.get();
  if (!IsArray(r)) return Unexpected("a bucket read");
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    BucketInfo b;
    int64_t id = 0;
    if (!Int(r->element[i], &id)) continue;
    b.id = uint32_t(id);
    std::string v = Str(r->element[i + 1]);
    size_t t1 = v.find('\t'), t2 = v.find('\t', t1 + 1), t3 = v.find('\t', t2 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos || t3 == std::string::npos) continue;
    b.list = atoi(v.substr(0, t1).c_str());
    b.ip = v.substr(t1 + 1, t2 - t1 - 1) == "1";
    b.expires = strtoll(v.substr(t2 + 1, t3 - t2 - 1).c_str(), nullptr, 10);
    b.source = v.substr(t3 + 1);
    out->push_back(std::move(b));
  }
  std::sort(out->begin(), out->end(), [](const BucketInfo& a, const BucketInfo& b) { return a.id < b.id; });
  return Status::OK();
}

Status RedisStore::ReadBucketCounts(BucketCounts* out) {
  out->clear();
  Reply rep;
  Status st = Run1({"HGETALL", prefix_ + "bc"}, &rep, true);
  if (!st.ok()) return st;
  const redisReply* bc = rep.get();
  if (!IsArray(bc)) return Unexpected("a count read");
  for (size_t i = 0; i + 1 < bc->elements; i += 2) {
    std::string k = Str(bc->element[i]);
    size_t colon = k.find(':');
    if (colon == std::string::npos) continue;
    int kind = atoi(k.c_str() + colon + 1);
    if (kind >= 0 && kind < 4) (*out)[uint32_t(atoll(k.substr(0, colon).c_str()))][size_t(kind)] += IntOr(bc->element[i + 1]);
  }
  return Status::OK();
}

namespace {
std::string BucketLine(int list, bool ip, int64_t expires, const std::string& source) {
  return std::to_string(list) + "\t" + (ip ? "1" : "0") + "\t" + std::to_string(expires) + "\t" + source;
}
// The commands that register bucket b (its data already written): the
// registry line, and the data's lifetime.
void RegisterBucket(const std::string& P, uint32_t b, int list, bool ip, int64_t expires, const std::string& source,
                    std::vector<Cmd>* cmds) {
  cmds->push_back({"HSET", P + "bk", std::to_string(b), BucketLine(list, ip, expires, source)});
  if (expires != 0) cmds->push_back({"EXPIREAT", P + "d:" + std::to_string(b), std::to_string(expires)});
  else cmds->push_back({"PERSIST", P + "d:" + std::to_string(b)});
}
}  // namespace

Status RedisStore::NewBucket(int64_t* bucket) {
  Reply rep;
  Status st = Run1({"HINCRBY", prefix_ + "meta", "bid", "1"}, &rep);
  if (!st.ok()) return st;
  if (!Int(rep.get(), bucket) || *bucket <= 0 || *bucket > int64_t(UINT32_MAX)) return Unexpected("a bucket id");
  return Status::OK();
}

Status RedisStore::ReadIndexMembers(const std::string& key, const std::string& from, const std::string& to,
                                    std::vector<std::string>* out) {
  // In pages, each starting past the last member read.
  std::string lo = from;
  for (;;) {
    Reply rep;
    Status st = Run1({"ZRANGEBYLEX", key, lo, to, "LIMIT", "0", "10000"}, &rep, true);
    if (!st.ok()) return st;
    const redisReply* r = rep.get();
    if (!IsArray(r)) return Unexpected("an index read");
    for (size_t i = 0; i < r->elements; ++i) out->push_back(Str(r->element[i]));
    if (r->elements < 10000) return Status::OK();
    lo = "(" + out->back();
  }
}

namespace {

// Interval members of the flat index from entry members sorted by (lo, plen):
// each address covered, labeled with the most specific entry's reference.
void Sweep(int fam, const std::vector<std::string>& members, const lists::IpRange* clip,
           std::vector<std::string>* out) {
  const size_t w = size_t(WidthOf(fam));
  std::vector<std::string> refs;
  lists::Sweeper sweep(w, [&](const lists::Interval& iv0) {
    lists::Interval iv = iv0;
    if (clip) {
      if (memcmp(iv.hi.data(), clip->lo.data(), w) < 0 || memcmp(iv.lo.data(), clip->hi.data(), w) > 0) return;
      if (memcmp(iv.lo.data(), clip->lo.data(), w) < 0) iv.lo = clip->lo;
      if (memcmp(iv.hi.data(), clip->hi.data(), w) > 0) iv.hi = clip->hi;
    }
    std::string m(reinterpret_cast<const char*>(iv.lo.data()), w);
    m.append(reinterpret_cast<const char*>(iv.hi.data()), w);
    m += refs[size_t(iv.id)];
    out->push_back(std::move(m));
  });
  for (const auto& m : members) {
    lists::IpRange r;
    std::string ref;
    if (!ParseEntryMember(m, fam, &r, &ref)) continue;
    refs.push_back(ref);
    sweep.Add(r, int64_t(refs.size() - 1));
  }
  sweep.Finish();
}

void ChunkedAdd(const std::string& cmd, const std::string& key, const std::vector<std::string>& members,
                std::vector<Cmd>* cmds, bool zset) {
  for (size_t i = 0; i < members.size(); i += 1000) {
    Cmd c = {cmd, key};
    for (size_t j = i; j < members.size() && j < i + 1000; ++j) {
      if (zset) c.push_back("0");
      c.push_back(members[j]);
    }
    cmds->push_back(std::move(c));
  }
}

}  // namespace

Status RedisStore::RebuildRegion(int list, const lists::IpRange& region, const std::vector<std::string>& add_members,
                                 const std::vector<std::string>& drop_members, const std::vector<Cmd>& also,
                                 bool* committed) {
  *committed = false;
  const int fam = region.fam;
  const size_t w = size_t(WidthOf(fam));
  const std::string L = std::to_string(list) + ":" + std::to_string(fam);
  const std::string ipe = prefix_ + "ipe:" + L, ipx = prefix_ + "ipx:" + L;
  const std::string lo(region.Lo()), hi(region.Hi());
  std::vector<Reply> rs;
  Status st = Run({{"WATCH", ipe, ipx}}, &rs);
  if (!st.ok()) return st;
  // What covers the region: its ancestors (a probe per shorter prefix) and
  // every entry inside it; the old intervals that reach across its edges.
  std::vector<Cmd> reads;
  comment::IpAddress a;
  a.v6 = fam == 6;
  a.bytes = region.lo;
  for (int plen = 0; plen < region.plen; ++plen) {
    lists::IpRange net = lists::Network(a, plen);
    std::string p(net.Lo());
    reads.push_back({"ZRANGEBYLEX", ipe, "[" + p + char(plen), "(" + p + char(plen + 1)});
  }
  reads.push_back({"ZRANGEBYLEX", ipe, "[" + lo, "[" + hi + std::string(13, '\xff')});
  reads.push_back({"ZREVRANGEBYLEX", ipx, "(" + lo, "-", "LIMIT", "0", "1"});
  reads.push_back({"ZREVRANGEBYLEX", ipx, "[" + hi + std::string(w + 12, '\xff'), "[" + lo, "LIMIT", "0", "1"});
  st = Run(reads, &rs, true);
  if (!st.ok()) return st;
  std::vector<std::string> members;
  std::set<std::string> drop(drop_members.begin(), drop_members.end());
  for (size_t i = 0; i + 2 < rs.size(); ++i) {
    const redisReply* r = rs[i].get();
    if (!IsArray(r)) return Unexpected("an index read");
    for (size_t j = 0; j < r->elements; ++j) {
      std::string m = Str(r->element[j]);
      if (!drop.count(m)) members.push_back(std::move(m));
    }
  }
  members.insert(members.end(), add_members.begin(), add_members.end());
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  std::vector<std::string> fresh;
  Sweep(fam, members, &region, &fresh);
  // The intervals cut by the region's edges keep their outside parts.
  std::vector<std::string> rem_before;
  for (size_t k = rs.size() - 2; k < rs.size(); ++k) {
    const redisReply* r = rs[k].get();
    if (!IsArray(r)) return Unexpected("an index read");
    if (r->elements == 0) continue;
    std::string m = Str(r->element[0]);
    if (m.size() != 2 * w + 12) continue;
    std::string mlo = m.substr(0, w), mhi = m.substr(w, w), ref = m.substr(2 * w);
    bool before = k == rs.size() - 2;
    if (before && mhi >= lo) {
      rem_before.push_back(m);
      std::array<uint8_t, 16> cut = region.lo;
      lists::Decrement(cut.data(), w);
      fresh.push_back(mlo + std::string(reinterpret_cast<const char*>(cut.data()), w) + ref);
    }
    if ((before && mhi >= lo && mhi > hi) || (!before && mhi > hi)) {
      std::array<uint8_t, 16> next = region.hi;
      lists::Increment(next.data(), w);
      fresh.push_back(std::string(reinterpret_cast<const char*>(next.data()), w) + mhi + ref);
    }
  }
  std::vector<Cmd> tx = {{"MULTI"}};
  tx.insert(tx.end(), also.begin(), also.end());
  if (!drop_members.empty()) ChunkedAdd("ZREM", ipe, drop_members, &tx, false);
  if (!add_members.empty()) ChunkedAdd("ZADD", ipe, add_members, &tx, true);
  if (!rem_before.empty()) ChunkedAdd("ZREM", ipx, rem_before, &tx, false);
  tx.push_back({"ZREMRANGEBYLEX", ipx, "[" + lo, "[" + hi + std::string(w + 12, '\xff')});
  if (!fresh.empty()) ChunkedAdd("ZADD", ipx, fresh, &tx, true);
  tx.push_back({"EXEC"});
  st = Run(tx, &rs, true, true);
  if (!st.ok()) return st;
  const redisReply* exec = rs.back().get();
  if (exec->type == REDIS_REPLY_NIL) return Status::OK();  // another client changed the index: read again
  for (const auto& r : rs)
    if (r.get()->type == REDIS_REPLY_ERROR) return Error(Str(r.get()));
  if (!IsArray(exec)) return Unexpected("a transaction");
  for (size_t i = 0; i < exec->elements; ++i)
    if (exec->element[i]->type == REDIS_REPLY_ERROR) return Error(Str(exec->element[i]));
  *committed = true;
  return Status::OK();
}

Status RedisStore::RebuildAll(int list, const std::vector<Cmd>& also,
                              const std::function<bool(const std::string& member)>& keep,
                              const std::vector<std::string>& add_members, bool* committed) {
  *committed = false;
  std::vector<Reply> rs;
  std::vector<std::string> keys;
  for (int fam : {4, 6}) {
    keys.push_back(prefix_ + "ipe:" + std::to_string(list) + ":" + std::to_string(fam));
    keys.push_back(prefix_ + "ipx:" + std::to_string(list) + ":" + std::to_string(fam));
  }
  Status st = Run({{"WATCH", keys[0], keys[1], keys[2], keys[3]}}, &rs);
  if (!st.ok()) return st;
  // Built aside under keys of their own, then renamed over in one short
  // transaction: scorers read the old index until the new one is whole.
  std::string tag = std::to_string(std::random_device{}()) + std::to_string(ratelimit::SteadyMs());
  std::vector<Cmd> tx = {{"MULTI"}};
  tx.insert(tx.end(), also.begin(), also.end());
  std::vector<std::string> temps;
  for (int f = 0; f < 2; ++f) {
    const int fam = f == 0 ? 4 : 6;
    const size_t w = size_t(WidthOf(fam));
    std::vector<std::string> members;
    st = ReadIndexMembers(keys[size_t(2 * f)], "-", "+", &members);
    if (!st.ok()) return st;
    members.erase(std::remove_if(members.begin(), members.end(), [&](const std::string& m) { return !keep(m); }),
                  members.end());
    for (const auto& m : add_members)
      if (m.size() == w + 13) members.push_back(m);
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    std::vector<std::string> flat;
    Sweep(fam, members, nullptr, &flat);
    for (int which = 0; which < 2; ++which) {
      const std::vector<std::string>& v = which == 0 ? members : flat;
      const std::string& key = keys[size_t(2 * f + which)];
      if (v.empty()) {
        tx.push_back({"DEL", key});
        continue;
      }
      std::string tmp = key + ":new:" + tag;
      temps.push_back(tmp);
      std::vector<Cmd> writes;
      ChunkedAdd("ZADD", tmp, v, &writes, true);
      writes.push_back({"PEXPIRE", tmp, "3600000"});  // a client that dies here leaves nothing behind for long
      for (size_t i = 0; i < writes.size(); i += 64) {
        std::vector<Cmd> part(writes.begin() + long(i), writes.begin() + long(std::min(writes.size(), i + 64)));
        st = Run(part, &rs, true);
        if (!st.ok()) return st;
      }
      tx.push_back({"RENAME", tmp, key});
      tx.push_back({"PERSIST", key});
    }
  }
  tx.push_back({"EXEC"});
  st = Run(tx, &rs, true, true);
  if (!st.ok()) return st;
  const redisReply* exec = rs.back().get();
  if (exec->type == REDIS_REPLY_NIL) {
    for (const auto& t : temps) Run({{"UNLINK", t}}, &rs, true);
    return Status::OK();
  }
  for (const auto& r : rs)
    if (r.get()->type == REDIS_REPLY_ERROR) return Error(Str(r.get()));
  if (!IsArray(exec)) return Unexpected("a transaction");
  for (size_t i = 0; i < exec->elements; ++i)
    if (exec->element[i]->type == REDIS_REPLY_ERROR) return Error(Str(exec->element[i]));
  *committed = true;
  return Status::OK();
}

namespace {
constexpr int kTries = 20;
Status Contended(const std::string& what) {
  return Status::Busy("redis: " + what + " gave way to other writers " + std::to_string(kTries) + " times; try again");
}
}  // namespace

Status RedisStore::AddIp(int list, const lists::IpRange& range, const std::string& source, const std::string& reason,
                         int64_t added, int64_t expires) {
  Status st = Writable();
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  int64_t b = 0;
  st = NewBucket(&b);
  if (!st.ok()) return st;
  const Ref ref{uint32_t(b), 1};
  const std::string B = std::to_string(b);
  std::vector<Cmd> also = {{"HSET", prefix_ + "d:" + B, Be(ref.id, 8), PackEntry(0, added, range.ToString(), reason)},
                           {"HINCRBY", prefix_ + "bc", B + ":0", "1"},
                           {"HSET", prefix_ + "meta", HasKey(list, range.fam), "1"}};
  RegisterBucket(prefix_, uint32_t(b), list, true, expires, source, &also);
  for (int i = 0; i < kTries; ++i) {
    bool done = false;
    st = RebuildRegion(list, range, {EntryMember(range, ref)}, {}, also, &done);
    if (!st.ok() || done) return st;
  }
  return Contended("adding an address");
}

Status RedisStore::AddName(int list, int kind, const std::string& value, const std::string& source,
                           const std::string& reason, int64_t added, int64_t expires) {
  Status st = Writable();
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  int64_t b = 0;
  st = NewBucket(&b);
  if (!st.ok()) return st;
  const Ref ref{uint32_t(b), 1};
  const std::string B = std::to_string(b);
  std::vector<Cmd> tx = {{"MULTI"},
                         {"HSET", prefix_ + "d:" + B, Be(ref.id, 8), PackEntry(kind, added, value, reason)},
                         {"HINCRBY", prefix_ + "bc", B + ":" + std::to_string(kind), "1"},
                         {"HSET", prefix_ + "bv", B, std::to_string(kind) + "\t" + value},
                         {"HSET", prefix_ + "meta", "n:" + std::to_string(list) + ":" + std::to_string(kind), "1"},
                         {"SADD", prefix_ + "n:" + std::to_string(list) + ":" + std::to_string(kind) + ":" + value,
                          RefBytes(ref)}};
  RegisterBucket(prefix_, uint32_t(b), list, false, expires, source, &tx);
  tx.push_back({"EXEC"});
  std::vector<Reply> rs;
  st = Run(tx, &rs, false, true);
  if (!st.ok()) return st;
  if (!IsArray(rs.back().get())) return Error("adding a name: " + Str(rs.back().get()));
  return Status::OK();
}

Status RedisStore::Remove(int list, const std::string& what, size_t* removed) {
  *removed = 0;
  Status st = Writable();
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  lists::IpRange range;
  std::string error, name;
  std::vector<Reply> rs;
  auto forget = [&](const std::string& ref, int kind, std::vector<Cmd>* cmds) {
    std::string B = std::to_string(UnBe(ref.substr(0, 4)));
    cmds->push_back({"HDEL", prefix_ + "d:" + B, ref.substr(4)});
    cmds->push_back({"HINCRBY", prefix_ + "bc", B + ":" + std::to_string(kind), "-1"});
  };
  if (lists::ParseRange(what, &range, &error)) {
    const std::string ipe = prefix_ + "ipe:" + std::to_string(list) + ":" + std::to_string(range.fam);
    std::string p(range.Lo());
    for (int i = 0; i < kTries; ++i) {
      std::vector<std::string> gone;
      Reply rep;
      st = Run1({"ZRANGEBYLEX", ipe, "[" + p + char(range.plen), "(" + p + char(range.plen + 1)}, &rep, true);
      if (!st.ok()) return st;
      if (!IsArray(rep.get())) return Unexpected("an index read");
      for (size_t j = 0; j < rep.get()->elements; ++j) gone.push_back(Str(rep.get()->element[j]));
      if (gone.empty()) return Status::OK();
      std::vector<Cmd> also;
      for (const auto& m : gone) forget(m.substr(range.Width() + 1), 0, &also);
      bool done = false;
      st = RebuildRegion(list, range, {}, gone, also, &done);
      if (!st.ok()) return st;
      if (done) {
        *removed = gone.size();
        return Status::OK();
      }
    }
    return Contended("removing an address");
  }
  if (!lists::NormalizeEmail(what, &name) && !lists::NormalizeDomain(what, &name))
    return Status::InvalidArgument("'" + what + "' is not an IP, CIDR, e-mail address or domain");
  std::vector<Cmd> reads;
  for (int kind : {kEmail, kEmailDomain, kUrlDomain})
    reads.push_back({"SMEMBERS", prefix_ + "n:" + std::to_string(list) + ":" + std::to_string(kind) + ":" + name});
  st = Run(reads, &rs);
  if (!st.ok()) return st;
  std::vector<Cmd> tx = {{"MULTI"}};
  for (int kind : {kEmail, kEmailDomain, kUrlDomain}) {
    const redisReply* r = rs[size_t(kind - 1)].get();
    if (!IsArray(r)) return Unexpected("a name read");
    for (size_t j = 0; j < r->elements; ++j) forget(Str(r->element[j]), kind, &tx);
    *removed += r->elements;
    tx.push_back({"DEL", reads[size_t(kind - 1)][1]});
  }
  tx.push_back({"EXEC"});
  return Run(tx, &rs, false);
}

Status RedisStore::ReplaceSource(int list, const std::string& source, const std::vector<ImportEntry>& entries,
                                 int64_t added, int64_t expires) {
  Status st = Writable();
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  int64_t b = 0;
  st = NewBucket(&b);
  if (!st.ok()) return st;
  const std::string B = std::to_string(b);
  const std::string data = prefix_ + "d:" + B;
  // The new entries' data first, under a bucket nothing points at yet (and
  // that expires by itself if this client dies before the swap).
  std::vector<std::string> add;
  add.reserve(entries.size());
  std::vector<Reply> rs;
  for (size_t i = 0; i < entries.size(); i += 1000) {
    Cmd c = {"HSET", data};
    for (size_t j = i; j < entries.size() && j < i + 1000; ++j) {
      Ref ref{uint32_t(b), uint64_t(j + 1)};
      c.push_back(Be(ref.id, 8));
      c.push_back(PackEntry(0, added, entries[j].range.ToString(), entries[j].reason));
      add.push_back(EntryMember(entries[j].range, ref));
    }
    st = Run({c, {"PEXPIRE", data, "3600000"}}, &rs, true);
    if (!st.ok()) return st;
  }
  for (int i = 0; i < kTries; ++i) {
    // The source's earlier buckets of addresses go, and buckets expired meanwhile.
    std::vector<BucketInfo> buckets;
    st = Buckets(&buckets);
    if (!st.ok()) return st;
    std::set<uint32_t> gone;
    std::vector<Cmd> also;
    for (const auto& bk : buckets) {
      if (bk.list != list || !bk.ip || bk.id == uint32_t(b)) continue;
      if (bk.source == source || (bk.expires != 0 && bk.expires <= added)) {
        gone.insert(bk.id);
        std::string G = std::to_string(bk.id);
        also.push_back({"HDEL", prefix_ + "bk", G});
        also.push_back({"HDEL", prefix_ + "bc", G + ":0"});
        also.push_back({"UNLINK", prefix_ + "d:" + G});
      }
    }
    also.push_back({"HSET", prefix_ + "bc", B + ":0", std::to_string(entries.size())});
    RegisterBucket(prefix_, uint32_t(b), list, true, expires, source, &also);
    if (entries.empty()) also.push_back({"HDEL", prefix_ + "bk", B});
    for (int fam : {4, 6}) also.push_back({"HSET", prefix_ + "meta", HasKey(list, fam), "1"});
    auto keep = [&](const std::string& m) {
      if (m.size() < 12) return false;
      return !gone.count(uint32_t(UnBe(std::string_view(m).substr(m.size() - 12, 4))));
    };
    bool done = false;
    st = RebuildAll(list, also, keep, add, &done);
    if (!st.ok() || done) return st;
  }
  return Contended("importing " + source);
}

Status RedisStore::Entries(int list, const std::string* source, size_t limit, std::vector<ListEntry>* out) {
  out->clear();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<BucketInfo> buckets;
  Status st = Buckets(&buckets);
  if (!st.ok()) return st;
  // Newest first: by bucket, then by entry within it.
  for (auto it = buckets.rbegin(); it != buckets.rend() && out->size() < limit; ++it) {
    if ((list != 0 && it->list != list) || (source && it->source != *source)) continue;
    Reply rep;
    st = Run1({"HGETALL", prefix_ + "d:" + std::to_string(it->id)}, &rep, true);
    if (!st.ok()) return st;
    const redisReply* r = rep.get();
    if (!IsArray(r)) return Unexpected("an entry read");
    std::vector<ListEntry> got;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
      std::string id = Str(r->element[i]), d = Str(r->element[i + 1]);
      if (id.size() != 8 || d.size() < 11) continue;
      ListEntry e;
      e.id = int64_t(UnBe(id)) + (int64_t(it->id) << 32);
      e.list = it->list;
      e.kind = static_cast<unsigned char>(d[0]) + 1;
      e.added = int64_t(UnBe(std::string_view(d).substr(1, 8)));
      size_t wl = size_t(UnBe(std::string_view(d).substr(9, 2)));
      if (11 + wl > d.size()) continue;
      e.what = d.substr(11, wl);
      e.reason = d.substr(11 + wl);
      e.source = it->source;
      e.expires = it->expires;
      got.push_back(std::move(e));
    }
    std::sort(got.begin(), got.end(), [](const ListEntry& a, const ListEntry& b) { return a.id > b.id; });
    for (auto& e : got) {
      if (out->size() >= limit) break;
      out->push_back(std::move(e));
    }
  }
  return Status::OK();
}

Status RedisStore::EachIp(int list, int64_t now, const std::function<Status(const lists::IpRange&, int64_t)>& each) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<BucketInfo> buckets;
  Status st = Buckets(&buckets);
  if (!st.ok()) return st;
  std::map<uint32_t, int64_t> live;  // bucket -> expires
  for (const auto& b : buckets)
    if (b.list == list && b.ip && (b.expires == 0 || b.expires > now)) live[b.id] = b.expires;
  for (int fam : {4, 6}) {
    std::vector<std::string> members;
    st = ReadIndexMembers(prefix_ + "ipe:" + std::to_string(list) + ":" + std::to_string(fam), "-", "+", &members);
    if (!st.ok()) return st;
    // A member whose entry was removed from its bucket is gone from the index
    // too, so the bucket alone tells whether it is alive.
    for (const auto& m : members) {
      lists::IpRange r;
      std::string ref;
      if (!ParseEntryMember(m, fam, &r, &ref)) continue;
      auto it = live.find(uint32_t(UnBe(ref.substr(0, 4))));
      if (it == live.end()) continue;
      st = each(r, it->second);
      if (!st.ok()) return st;
    }
  }
  return Status::OK();
}

Status RedisStore::Prune(int64_t before, int64_t now, PruneCounts* out) {
  *out = PruneCounts();
  Status st = Writable();
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  for (;;) {
    Reply rep;
    st = Eval(TheScript(), {"prune", prefix_, std::to_string(before)}, &rep, true);
    if (!st.ok()) return st;
    if (!IsArray(rep.get()) || rep.get()->elements != 2) return Unexpected("a prune");
    int64_t l = IntOr(At(rep.get(), 0)), r = IntOr(At(rep.get(), 1));
    out->learned += l;
    out->reputation += r;
    if (l < 1000 && r < 1000) break;
  }
  // Rate-limit groups and form-token counts expire by themselves (TTL). The
  // states in a group that is still written to are dropped as it is written
  // once past their use, now and then; here every state a day past it, as
  // the SQLite store does.
  {
    std::vector<std::string> groups;
    st = ScanKeys("rg:", &groups);
    if (!st.ok()) return st;
    for (size_t i = 0; i < groups.size(); i += 64) {
      std::vector<std::string> a = {"ratesweep", prefix_, std::to_string((now - 86400) * 1000)};
      a.insert(a.end(), groups.begin() + long(i), groups.begin() + long(std::min(groups.size(), i + 64)));
      Reply rep;
      st = Eval(TheScript(), std::move(a), &rep, true);
      if (!st.ok()) return st;
      int64_t n = 0;
      if (!Int(rep.get(), &n)) return Unexpected("a rate sweep");
      out->ratelimit += n;
    }
  }
  // Buckets of list entries whose time is up: their names and index members.
  std::vector<BucketInfo> buckets;
  st = Buckets(&buckets);
  if (!st.ok()) return st;
  BucketCounts counts;
  st = ReadBucketCounts(&counts);
  if (!st.ok()) return st;
  std::vector<Reply> rs;
  for (int list : {kAllow, kBlock}) {
    std::set<uint32_t> gone;
    std::vector<Cmd> also;
    for (const auto& b : buckets) {
      if (b.list != list || b.expires == 0 || b.expires >= now) continue;
      std::string B = std::to_string(b.id);
      for (int kind = 0; kind < 4; ++kind) {
        out->list_entries += std::max<int64_t>(0, counts[b.id][size_t(kind)]);
        also.push_back({"HDEL", prefix_ + "bc", B + ":" + std::to_string(kind)});
      }
      also.push_back({"HDEL", prefix_ + "bk", B});
      also.push_back({"UNLINK", prefix_ + "d:" + B});
      if (b.ip) {
        gone.insert(b.id);
      } else {
        Reply v;
        st = Run1({"HGET", prefix_ + "bv", B}, &v);
        if (!st.ok()) return st;
        std::string kv = Str(v.get());
        size_t tab = kv.find('\t');
        if (tab != std::string::npos)
          also.push_back({"SREM", prefix_ + "n:" + std::to_string(list) + ":" + kv.substr(0, tab) + ":" + kv.substr(tab + 1),
                          RefBytes(Ref{b.id, 1})});
        also.push_back({"HDEL", prefix_ + "bv", B});
      }
    }
    if (also.empty()) continue;
    if (gone.empty()) {
      also.insert(also.begin(), Cmd{"MULTI"});
      also.push_back({"EXEC"});
      st = Run(also, &rs, true);
      if (!st.ok()) return st;
      continue;
    }
    auto keep = [&](const std::string& m) {
      return m.size() >= 12 && !gone.count(uint32_t(UnBe(std::string_view(m).substr(m.size() - 12, 4))));
    };
    int i = 0;
    for (; i < kTries; ++i) {
      bool done = false;
      st = RebuildAll(list, also, keep, {}, &done);
      if (!st.ok()) return st;
      if (done) break;
    }
    if (i == kTries) return Contended("pruning");
  }
  return Status::OK();
}

Status RedisStore::FormSecrets(std::vector<FormSecret>* out) {
  out->clear();
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  Status st = Run1({"HGETALL", prefix_ + "fs"}, &rep);
  if (!st.ok()) return st;
  const redisReply* r = rep.get();
  if (!IsArray(r)) return Unexpected("a form secret read");
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    std::string v = Str(r->element[i + 1]);
    if (v.size() < 9) continue;
    FormSecret f;
    f.id = IntOr(r->element[i]);
    f.created = int64_t(UnBe(std::string_view(v).substr(0, 8)));
    f.key = v.substr(8);
    out->push_back(std::move(f));
  }
  std::sort(out->begin(), out->end(), [](const FormSecret& a, const FormSecret& b) { return a.id < b.id; });
  return Status::OK();
}

Status RedisStore::AddFormSecret(const std::string& key, int64_t now, int64_t keep_seconds, bool first_only) {
  Status st = Writable();
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  return Eval(TheScript(),
              {"fsadd", prefix_, key, std::to_string(now), std::to_string(keep_seconds), first_only ? "1" : "0"}, &rep);
}

Status RedisStore::ReplaceKeywords(const std::string& source, const std::vector<lists::KeywordEntry>& entries,
                                   int64_t* version) {
  Status st = Writable();
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  // Written aside, then swapped in with the version in one transaction.
  std::string tag = std::to_string(std::random_device{}()) + std::to_string(ratelimit::SteadyMs());
  std::vector<Reply> rs;
  std::vector<Cmd> tx = {{"MULTI"}};
  for (int kind : {lists::kPhrase, lists::kLinkPattern}) {
    std::string key = prefix_ + "kw:" + std::to_string(kind) + ":" + source;
    std::string tmp = key + ":new:" + tag;
    size_t n = 0;
    Cmd c = {"HSET", tmp};
    auto flush = [&]() -> Status {
      if (c.size() == 2) return Status::OK();
      Status s2 = Run({c, {"PEXPIRE", tmp, "3600000"}}, &rs, true);
      c.resize(2);
      return s2;
    };
    for (const auto& e : entries) {
      if (e.kind != kind) continue;
      c.push_back(e.entry);
      c.push_back(e.atoms);
      ++n;
      if (c.size() >= 2002) {
        st = flush();
        if (!st.ok()) return st;
      }
    }
    st = flush();
    if (!st.ok()) return st;
    if (n == 0) {
      tx.push_back({"DEL", key});
    } else {
      tx.push_back({"RENAME", tmp, key});
      tx.push_back({"PERSIST", key});
    }
  }
  tx.push_back(entries.empty() ? Cmd{"SREM", prefix_ + "kwsrc", source} : Cmd{"SADD", prefix_ + "kwsrc", source});
  tx.push_back({"HINCRBY", prefix_ + "meta", "kwv", "1"});
  tx.push_back({"EXEC"});
  st = Run(tx, &rs, true);
  if (!st.ok()) return st;
  const redisReply* exec = rs.back().get();
  if (!IsArray(exec) || exec->elements == 0) return Unexpected("a keyword import");
  *version = IntOr(exec->element[exec->elements - 1]);
  return Status::OK();
}

Status RedisStore::Keywords(int kind, int64_t* version, std::vector<lists::KeywordEntry>* out) {
  out->clear();
  *version = 0;
  std::lock_guard<std::mutex> lock(mu_);
  Reply rep;
  Status st = Eval(TheScript(), {"keywords", prefix_, std::to_string(kind)}, &rep, true);
  if (!st.ok()) return st;
  const redisReply* r = rep.get();
  if (!IsArray(r) || r->elements < 1) return Unexpected("a keyword read");
  *version = IntOr(At(r, 0));
  for (size_t i = 1; i + 1 < r->elements; i += 2) {
    std::string source = Str(r->element[i]);
    const redisReply* h = r->element[i + 1];
    if (!IsArray(h)) return Unexpected("a keyword read");
    for (size_t j = 0; j + 1 < h->elements; j += 2) {
      lists::KeywordEntry e;
      e.kind = kind;
      e.source = source;
      e.entry = Str(h->element[j]);
      e.atoms = Str(h->element[j + 1]);
      out->push_back(std::move(e));
    }
  }
  return Status::OK();
}

Status RedisStore::Stats(int64_t now, StoreStats* out) {
  *out = StoreStats();
  out->path = shown_;
  out->schema_version = kLayoutVersion;
  out->read_only = opts_.read_only;
  out->ratelimit_path = shown_;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<BucketInfo> buckets;
  Status st = Buckets(&buckets);
  if (!st.ok()) return st;
  BucketCounts counts;
  st = ReadBucketCounts(&counts);
  if (!st.ok()) return st;
  std::vector<Reply> rs;
  st = Run({{"HGETALL", prefix_ + "lcnt"}, {"HLEN", prefix_ + "fs"}}, &rs, true);
  if (!st.ok()) return st;
  std::map<std::pair<int, int>, StoreStats::Lists> lists_by;
  std::map<std::pair<int, std::string>, int64_t> sources;
  for (const auto& b : buckets) {
    bool expired = b.expires != 0 && b.expires <= now;
    int64_t total = 0;
    for (int kind = 0; kind < 4; ++kind) {
      int64_t n = std::max<int64_t>(0, counts[b.id][size_t(kind)]);
      if (n == 0) continue;
      auto& l = lists_by[{b.list, kind}];
      l.list = b.list;
      l.kind = kind + 1;
      (expired ? l.expired : l.active) += n;
      total += n;
    }
    if (total > 0) sources[{b.list, b.source}] += total;
  }
  for (const auto& [k, l] : lists_by) out->lists.push_back(l);
  for (const auto& [k, n] : sources) out->sources.push_back({k.first, k.second, n});
  std::sort(out->sources.begin(), out->sources.end(),
            [](const StoreStats::Source& a, const StoreStats::Source& b) { return a.entries > b.entries; });
  if (out->sources.size() > 50) out->sources.resize(50);
  const redisReply* lc = rs[0].get();
  for (size_t i = 0; IsArray(lc) && i + 1 < lc->elements; i += 2)
    (Str(lc->element[i]) == "1" ? out->learned_spam : out->learned_ham) = std::max<int64_t>(0, IntOr(lc->element[i + 1]));
  out->form_secrets = IntOr(rs[1].get());
  Reply rep;
  st = Eval(TheScript(), {"repsum", prefix_}, &rep, true);
  if (!st.ok()) return st;
  out->reputation_keys = IntOr(At(rep.get(), 0));
  out->reputation_spam = Dbl(At(rep.get(), 1));
  out->reputation_ham = Dbl(At(rep.get(), 2));
  st = Eval(TheScript(), {"tokens", prefix_, ""}, &rep);
  if (!st.ok()) return st;
  out->learner.spam = IntOr(At(rep.get(), 0));
  out->learner.ham = IntOr(At(rep.get(), 1));
  out->learner.tokens = IntOr(At(rep.get(), 2));
  out->learner.version = IntOr(At(rep.get(), 3));
  st = Run1({"HGETALL", prefix_ + "fs"}, &rep);
  if (!st.ok()) return st;
  for (size_t i = 0; IsArray(rep.get()) && i + 1 < rep.get()->elements; i += 2) {
    std::string v = Str(rep.get()->element[i + 1]);
    if (v.size() >= 8) out->form_secret_newest = std::max<int64_t>(out->form_secret_newest, int64_t(UnBe(v.substr(0, 8))));
  }
  st = Run1({"SMEMBERS", prefix_ + "kwsrc"}, &rep);
  if (!st.ok()) return st;
  std::vector<std::string> kwsrc;
  for (size_t i = 0; IsArray(rep.get()) && i < rep.get()->elements; ++i) kwsrc.push_back(Str(rep.get()->element[i]));
  std::sort(kwsrc.begin(), kwsrc.end());
  for (const auto& s : kwsrc)
    for (int kind : {lists::kPhrase, lists::kLinkPattern}) {
      st = Run1({"HLEN", prefix_ + "kw:" + std::to_string(kind) + ":" + s}, &rep);
      if (!st.ok()) return st;
      if (IntOr(rep.get()) > 0) out->keyword_sources.push_back({s, kind, IntOr(rep.get())});
    }
  // Form tokens: counted by a scan of their names; rate-limit keys: the
  // fields of their groups.
  std::vector<std::string> keys;
  st = ScanKeys("fu:", &keys);
  if (!st.ok()) return st;
  out->form_tokens = int64_t(keys.size());
  keys.clear();
  st = ScanKeys("rg:", &keys);
  if (!st.ok()) return st;
  for (size_t i = 0; i < keys.size(); i += 256) {
    std::vector<Cmd> cmds;
    for (size_t j = i; j < std::min(keys.size(), i + 256); ++j) cmds.push_back({"HLEN", prefix_ + "rg:" + keys[j]});
    std::vector<Reply> rs;
    st = Run(cmds, &rs, true);
    if (!st.ok()) return st;
    for (const auto& r : rs) out->ratelimit_keys += IntOr(r.get());
  }
  return Status::OK();
}

Status RedisStore::ScanKeys(const std::string& kind, std::vector<std::string>* names) {
  std::string cursor = "0";
  do {
    Reply rep;
    Status st = Run1({"SCAN", cursor, "MATCH", prefix_ + kind + "*", "COUNT", "1000"}, &rep, true);
    if (!st.ok()) return st;
    if (!IsArray(rep.get()) || rep.get()->elements != 2 || !IsArray(rep.get()->element[1]))
      return Unexpected("a scan");
    cursor = Str(rep.get()->element[0]);
    for (size_t i = 0; i < rep.get()->element[1]->elements; ++i)
      names->push_back(Str(rep.get()->element[1]->element[i]).substr(prefix_.size() + kind.size()));
  } while (cursor != "0");
  return Status::OK();
}

// ---- Copying ---------------------------------------------------------------

Status RedisStore::EachRecord(const std::function<Status(const StoreRecord&)>& each) {
  Status st = EachEntryRecord(this, each);
  if (!st.ok()) return st;
  std::unique_lock<std::mutex> lock(mu_);
  // Reputation, learned comments, rate limits: by a scan of names.
  std::vector<StoreRecord> records;
  std::vector<std::string> keys;
  st = ScanKeys("r:", &keys);
  if (!st.ok()) return st;
  for (size_t i = 0; i < keys.size(); i += 500) {
    std::vector<Cmd> cmds;
    for (size_t j = i; j < keys.size() && j < i + 500; ++j) cmds.push_back({"HMGET", prefix_ + "r:" + keys[j], "s", "h", "u"});
    std::vector<Reply> rs;
    st = Run(cmds, &rs, true);
    if (!st.ok()) return st;
    for (size_t j = 0; j < rs.size(); ++j) {
      StoreRecord r;
      r.type = StoreRecord::kReputation;
      r.key = keys[i + j];
      r.rep = RepCounts{Dbl(At(rs[j].get(), 0)), Dbl(At(rs[j].get(), 1)), IntOr(At(rs[j].get(), 2))};
      records.push_back(std::move(r));
    }
  }
  keys.clear();
  st = ScanKeys("l:", &keys);
  if (!st.ok()) return st;
  for (size_t i = 0; i < keys.size(); i += 500) {
    std::vector<Cmd> cmds;
    for (size_t j = i; j < keys.size() && j < i + 500; ++j)
      cmds.push_back({"HMGET", prefix_ + "l:" + keys[j], "lb", "k", "at", "t"});
    std::vector<Reply> rs;
    st = Run(cmds, &rs, true);
    if (!st.ok()) return st;
    for (size_t j = 0; j < rs.size(); ++j) {
      StoreRecord r;
      r.type = StoreRecord::kLearned;
      r.key = keys[i + j];
      r.label = int(IntOr(At(rs[j].get(), 0)));
      if (r.label != 1 && r.label != 2) continue;
      r.at = IntOr(At(rs[j].get(), 2));
      // The keys as the script packed them (MessagePack array of strings).
      std::string k = Str(At(rs[j].get(), 1));
      size_t p = 0, n = 0;
      auto byte = [&](size_t at) { return at < k.size() ? static_cast<unsigned char>(k[at]) : 0u; };
      if (!k.empty()) {
        unsigned c = byte(p++);
        if ((c & 0xf0) == 0x90) n = c & 0x0f;
        else if (c == 0xdc) n = (byte(p) << 8) | byte(p + 1), p += 2;
        for (size_t e = 0; e < n && p < k.size(); ++e) {
          unsigned t = byte(p++);
          size_t len = 0;
          if ((t & 0xe0) == 0xa0) len = t & 0x1f;
          else if (t == 0xd9) len = byte(p), p += 1;
          else if (t == 0xda) len = (byte(p) << 8) | byte(p + 1), p += 2;
          else break;
          r.keys.push_back(k.substr(p, len));
          p += len;
        }
      }
      std::string t = Str(At(rs[j].get(), 3));
      for (size_t q = 0; q + 8 <= t.size(); q += 8) r.tokens.push_back(UnBe(std::string_view(t).substr(q, 8)));
      records.push_back(std::move(r));
    }
  }
  keys.clear();
  st = ScanKeys("rg:", &keys);
  if (!st.ok()) return st;
  for (const auto& group : keys) {
    Reply rep;
    st = Run1({"HGETALL", prefix_ + "rg:" + group}, &rep, true);
    if (!st.ok()) return st;
    if (!IsArray(rep.get())) return Unexpected("a rate group");
    for (size_t i = 0; i + 1 < rep.get()->elements; i += 2) {
      long long t = 0, os = 0, lo = 0;
      if (sscanf(Str(At(rep.get(), i + 1)).c_str(), "%lld %lld %lld", &t, &os, &lo) != 3) continue;
      StoreRecord r;
      r.type = StoreRecord::kRate;
      r.key = Str(At(rep.get(), i));
      r.tat = t;
      r.over_since = os;
      r.last_over = lo;
      records.push_back(std::move(r));
    }
  }
  lock.unlock();
  for (const auto& r : records) {
    st = each(r);
    if (!st.ok()) return st;
  }
  return EachLearnerFormAndKeywordRecord(this, each);
}

Status RedisStore::PutRecords(const std::vector<StoreRecord>& records) {
  Status st = Writable();
  if (!st.ok()) return st;
  // Entries: through the ordinary adds, grouped into one import per
  // (list, source, expiry, added) for addresses.
  std::map<std::tuple<int, std::string, int64_t, int64_t>, std::vector<ImportEntry>> imports;
  std::map<std::string, std::vector<lists::KeywordEntry>> keywords;
  std::map<std::string, int64_t> group_until;  // rate groups: their expiry, ms
  std::vector<Cmd> cmds;
  for (const auto& r : records) {
    switch (r.type) {
      case StoreRecord::kEntry: {
        const ListEntry& e = r.entry;
        if (e.kind == 1) {
          lists::IpRange range;
          std::string err;
          if (!lists::ParseRange(e.what, &range, &err)) return Status::InvalidArgument("entry '" + e.what + "': " + err);
          imports[{e.list, e.source, e.expires, e.added}].push_back({range, e.reason});
        } else {
          st = AddName(e.list, e.kind - 1, e.what, e.source, e.reason, e.added, e.expires);
          if (!st.ok()) return st;
        }
        break;
      }
      case StoreRecord::kReputation: {
        char s[32], h[32];
        snprintf(s, sizeof s, "%.17g", r.rep.spam);
        snprintf(h, sizeof h, "%.17g", r.rep.ham);
        cmds.push_back({"HSET", prefix_ + "r:" + r.key, "s", s, "h", h, "u", std::to_string(r.rep.updated)});
        cmds.push_back({"ZADD", prefix_ + "ru", std::to_string(r.rep.updated), r.key});
        break;
      }
      case StoreRecord::kLearned: {
        // The keys packed as the script packs them: a MessagePack array of strings.
        std::string k;
        size_t n = r.keys.size();
        if (n < 16) k.push_back(char(0x90 | n));
        else k += std::string(1, char(0xdc)) + Be(n, 2);
        for (const auto& key : r.keys) {
          if (key.size() < 32) k.push_back(char(0xa0 | key.size()));
          else if (key.size() < 256) k += std::string(1, char(0xd9)) + char(key.size());
          else k += std::string(1, char(0xda)) + Be(key.size(), 2);
          k += key;
        }
        cmds.push_back({"HSET", prefix_ + "l:" + r.key, "lb", std::to_string(r.label), "k", k, "at",
                        std::to_string(r.at), "t", PackTokens(r.tokens), "ht", "1"});
        cmds.push_back({"ZADD", prefix_ + "lat", std::to_string(r.at), r.key});
        cmds.push_back({"HINCRBY", prefix_ + "lcnt", std::to_string(r.label), "1"});
        break;
      }
      case StoreRecord::kLearner:
        cmds.push_back({"HSET", prefix_ + "meta", "spam", std::to_string(r.learner.spam), "ham",
                        std::to_string(r.learner.ham), "tokens", std::to_string(r.learner.tokens)});
        cmds.push_back({"HINCRBY", prefix_ + "meta", "lv", "1"});
        break;
      case StoreRecord::kToken:
        cmds.push_back({"HSET", prefix_ + "tk", Be(r.token, 8),
                        std::to_string(r.counts.spam) + " " + std::to_string(r.counts.ham)});
        cmds.push_back({"ZADD", prefix_ + "tks", "0", Be(r.token, 8)});
        break;
      case StoreRecord::kRate:
      {
        // Kept a day past its wait or its last refusal (the record does not
        // say its rule's period); its group as long as its longest state.
        const int64_t keep = std::max(r.tat, r.last_over ? r.last_over + 86400000 : 0);
        const std::string group = prefix_ + "rg:" + RateGroup(r.key);
        cmds.push_back({"HSET", group, r.key,
                        std::to_string(r.tat) + " " + std::to_string(r.over_since) + " " + std::to_string(r.last_over) +
                            " " + std::to_string(keep)});
        int64_t& until = group_until[group];
        until = std::max({until, keep + 86400000, ratelimit::ClockMs() + 86400000});
        break;
      }
      case StoreRecord::kFormSecret:
        cmds.push_back({"HSET", prefix_ + "fs", std::to_string(r.secret.id), Be(uint64_t(r.secret.created), 8) + r.secret.key});
        cmds.push_back({"HSET", prefix_ + "meta", "fsid", std::to_string(r.secret.id)});
        break;
      case StoreRecord::kKeyword:
        keywords[r.keyword.source].push_back(r.keyword);
        break;
    }
  }
  for (const auto& [group, until] : group_until) cmds.push_back({"PEXPIREAT", group, std::to_string(until)});
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Reply> rs;
    for (size_t i = 0; i < cmds.size(); i += 256) {
      std::vector<Cmd> part(cmds.begin() + long(i), cmds.begin() + long(std::min(cmds.size(), i + 256)));
      st = Run(part, &rs, true);
      if (!st.ok()) return st;
    }
  }
  // Address entries: one bucket per (list, source, expiry, time added),
  // indexed together by one rebuild per list.
  for (int list : {kAllow, kBlock}) {
    std::vector<Cmd> also;
    std::vector<std::string> add;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, entries] : imports) {
      if (std::get<0>(k) != list) continue;
      int64_t b = 0;
      st = NewBucket(&b);
      if (!st.ok()) return st;
      const std::string data = prefix_ + "d:" + std::to_string(b);
      std::vector<Reply> rs;
      for (size_t i = 0; i < entries.size(); i += 1000) {
        Cmd c = {"HSET", data};
        for (size_t j = i; j < entries.size() && j < i + 1000; ++j) {
          Ref ref{uint32_t(b), uint64_t(j + 1)};
          c.push_back(Be(ref.id, 8));
          c.push_back(PackEntry(0, std::get<3>(k), entries[j].range.ToString(), entries[j].reason));
          add.push_back(EntryMember(entries[j].range, ref));
        }
        st = Run({c, {"PEXPIRE", data, "3600000"}}, &rs, true);
        if (!st.ok()) return st;
      }
      also.push_back({"HSET", prefix_ + "bc", std::to_string(b) + ":0", std::to_string(entries.size())});
      RegisterBucket(prefix_, uint32_t(b), list, true, std::get<2>(k), std::get<1>(k), &also);
      for (int fam : {4, 6}) also.push_back({"HSET", prefix_ + "meta", HasKey(list, fam), "1"});
    }
    if (add.empty()) continue;
    int i = 0;
    for (; i < kTries; ++i) {
      bool done = false;
      st = RebuildAll(list, also, [](const std::string&) { return true; }, add, &done);
      if (!st.ok()) return st;
      if (done) break;
    }
    if (i == kTries) return Contended("copying entries");
  }
  for (const auto& [source, entries] : keywords) {
    int64_t version = 0;
    st = ReplaceKeywords(source, entries, &version);
    if (!st.ok()) return st;
  }
  return Status::OK();
}

}  // namespace spamguard::store
