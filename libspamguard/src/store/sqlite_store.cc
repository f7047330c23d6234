#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

#include "lists/import.h"
#include "lists/ip_index.h"
#include <random>

#include "ratelimit/gcra.h"
#include "store/state_files.h"

namespace spamguard::store {
namespace {

constexpr int kIpKind = 0;  // list_entry.kind of address entries

// Schema steps; step N brings user_version N-1 to N. Never edit a shipped
// step: add a new one.
const char* const kMigrations[] = {
    // 1: lists, reputation, learned comments.
    ("CREATE TABLE list_entry("
    "  id INTEGER PRIMARY KEY, list INTEGER NOT NULL, kind INTEGER NOT NULL,"
    "  fam INTEGER, lo BLOB, plen INTEGER, value TEXT,"
    "  source TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', added INTEGER NOT NULL);"
    "CREATE INDEX list_entry_ip ON list_entry(list, fam, lo);"
    "CREATE INDEX list_entry_name ON list_entry(kind, value);"
    "CREATE INDEX list_entry_source ON list_entry(list, source);"
    "CREATE TABLE reputation(key BLOB PRIMARY KEY, spam REAL NOT NULL, ham REAL NOT NULL,"
    "  updated INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE learned(cid TEXT PRIMARY KEY, label INTEGER NOT NULL, keys BLOB NOT NULL,"
    "  at INTEGER NOT NULL) WITHOUT ROWID;"),
    // 2: entry expiry, and the flat index of address ranges for one-probe
    // lookups (filled from the entries by the migration code below).
    ("ALTER TABLE list_entry ADD COLUMN expires INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE list_entry ADD COLUMN hi BLOB;"
    "UPDATE list_entry SET hi = lo WHERE kind = 0;"
    "CREATE TABLE ip_index(list INTEGER NOT NULL, fam INTEGER NOT NULL, lo BLOB NOT NULL, hi BLOB NOT NULL,"
    "  entry INTEGER NOT NULL, PRIMARY KEY(list, fam, lo)) WITHOUT ROWID;"),
    // 3: rate-limit state, one theoretical arrival time per key.
    ("CREATE TABLE ratelimit(key BLOB PRIMARY KEY, tat INTEGER NOT NULL,"
     "  over_since INTEGER NOT NULL DEFAULT 0, last_over INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"),
    // 4: idle rate-limit keys are found by time and expire as checks run
    // (the state itself moved to the file beside, kRateSuffix).
    ("CREATE INDEX ratelimit_tat ON ratelimit(tat);"),
    // 5: the content learner: one row per token (its 64-bit hash), the
    // totals, and the tokens each learned comment added (for relabels and
    // forgetting). `seen` is the learner's serial number at the token's last
    // learn; the stalest tokens go first when the table is over its bound
    // (found by a scan, once per many learns: an index on `seen` would cost
    // every learn a second page write per token).
    ("ALTER TABLE learned ADD COLUMN tokens BLOB;"
     "CREATE TABLE token(h INTEGER PRIMARY KEY, spam INTEGER NOT NULL, ham INTEGER NOT NULL,"
     "  seen INTEGER NOT NULL);"
     "CREATE TABLE learner(id INTEGER PRIMARY KEY CHECK(id = 1), spam INTEGER NOT NULL, ham INTEGER NOT NULL,"
     "  tokens INTEGER NOT NULL, serial INTEGER NOT NULL);"
     "INSERT INTO learner VALUES(1, 0, 0, 0, 0);"),
    // 6: comment forms: the secrets that sign their tokens (newest signs;
    // a replaced one still verifies what it signed), and how often each
    // token was used (kept in the rate-limit file beside, like the limits).
    ("CREATE TABLE form_secret(id INTEGER PRIMARY KEY, key BLOB NOT NULL, created INTEGER NOT NULL);"
     "CREATE TABLE form_use(key BLOB PRIMARY KEY, uses INTEGER NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE INDEX form_use_expires ON form_use(expires);"),
    // 7: keyword lists (WordPress's disallowed keys, the MT-Blacklist),
    // each pattern with its atoms; the version tells engines to reload.
    ("CREATE TABLE keyword(source TEXT NOT NULL, kind INTEGER NOT NULL, entry BLOB NOT NULL, atoms BLOB,"
     "  PRIMARY KEY(source, kind, entry)) WITHOUT ROWID;"
     "CREATE TABLE keyword_version(id INTEGER PRIMARY KEY CHECK(id = 1), version INTEGER NOT NULL);"
     "INSERT INTO keyword_version VALUES(1, 0);"),
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == SqliteStore::kSchemaVersion);

const char* kSelEntry =
    "SELECT id, list, kind, fam, lo, plen, value, source, reason, added, expires FROM list_entry WHERE id=?1";
// The interval that may hold an address, with its entry, in one statement.
// (Written as a plain join: a subquery or an IN list would make SQLite
// build a temporary table on every call.)
const char* kSelIndexEntry =
    "SELECT i.hi, e.id, e.list, e.kind, e.fam, e.lo, e.plen, e.value, e.source, e.reason, e.added, e.expires "
    "FROM ip_index AS i JOIN list_entry AS e ON e.id = i.entry "
    "WHERE i.list=?1 AND i.fam=?2 AND i.lo<=?3 ORDER BY i.lo DESC LIMIT 1";
const char* kSelAncestor =
    "SELECT id FROM list_entry WHERE list=?1 AND kind=0 AND fam=?2 AND lo=?3 AND plen=?4 "
    "AND (expires=0 OR expires>?5) LIMIT 1";
const char* kSelName =
    "SELECT id FROM list_entry WHERE kind=?2 AND value=?3 AND list=?1 AND (expires=0 OR expires>?4) LIMIT 1";
const char* kSelRep = "SELECT spam, ham, updated FROM reputation WHERE key=?1";
const char* kUpsertRep =
    "INSERT INTO reputation(key, spam, ham, updated) VALUES(?1, ?2, ?3, ?4) "
    "ON CONFLICT(key) DO UPDATE SET spam=excluded.spam, ham=excluded.ham, updated=excluded.updated";
const char* kSelLearned = "SELECT label, keys, at, tokens FROM learned WHERE cid=?1";
const char* kUpsertLearned =
    "INSERT INTO learned(cid, label, keys, at, tokens) VALUES(?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT(cid) DO UPDATE SET label=excluded.label, keys=excluded.keys, at=excluded.at, tokens=excluded.tokens";
const char* kDelLearned = "DELETE FROM learned WHERE cid=?1";
const char* kSelLearner = "SELECT spam, ham, tokens, serial FROM learner WHERE id=1";
const char* kUpdLearner = "UPDATE learner SET spam=?1, ham=?2, tokens=?3, serial=?4 WHERE id=1";
const char* kSelToken = "SELECT spam, ham FROM token WHERE h=?1";
const char* kAddToken = "UPDATE token SET spam=spam+?2, ham=ham+?3, seen=?4 WHERE h=?1";
const char* kInsToken = "INSERT INTO token(h, spam, ham, seen) VALUES(?1, ?2, ?3, ?4)";
const char* kSubToken = "UPDATE token SET spam=max(0, spam-?2), ham=max(0, ham-?3) WHERE h=?1";
const char* kDelEmptyToken = "DELETE FROM token WHERE h=?1 AND spam=0 AND ham=0";
const char* kExpireTokens = "DELETE FROM token WHERE h IN (SELECT h FROM token ORDER BY seen LIMIT ?1)";
const char* kInsIp =
    "INSERT INTO list_entry(list, kind, fam, lo, hi, plen, source, reason, added, expires) "
    "VALUES(?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const char* kInsName =
    "INSERT INTO list_entry(list, kind, value, source, reason, added, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const char* kSelAllIp =
    "SELECT id, lo, plen FROM list_entry WHERE list=?1 AND kind=0 AND fam=?2 AND (expires=0 OR expires>?3) "
    "ORDER BY lo, plen";
const char* kSelRegionIp =
    "SELECT id, lo, plen FROM list_entry WHERE list=?1 AND kind=0 AND fam=?2 AND lo>=?3 AND lo<=?4 "
    "AND (expires=0 OR expires>?5) ORDER BY lo, plen";
const char* kInsIndex = "INSERT OR REPLACE INTO ip_index(list, fam, lo, hi, entry) VALUES(?1, ?2, ?3, ?4, ?5)";
const char* kSelIndexBefore =
    "SELECT lo, hi, entry FROM ip_index WHERE list=?1 AND fam=?2 AND lo<?3 ORDER BY lo DESC LIMIT 1";
const char* kSelIndexLastIn =
    "SELECT lo, hi, entry FROM ip_index WHERE list=?1 AND fam=?2 AND lo>=?3 AND lo<=?4 ORDER BY lo DESC LIMIT 1";
const char* kDelIndexRegion = "DELETE FROM ip_index WHERE list=?1 AND fam=?2 AND lo>=?3 AND lo<=?4";
const char* kDelIndexAll = "DELETE FROM ip_index WHERE list=?1 AND fam=?2";
const char* kDelSourceIp = "DELETE FROM list_entry WHERE list=?1 AND source=?2 AND kind=0";
const char* kDelIp = "DELETE FROM list_entry WHERE list=?1 AND kind=0 AND fam=?2 AND lo=?3 AND plen=?4";
const char* kDelName = "DELETE FROM list_entry WHERE list=?1 AND kind IN (1, 2, 3) AND value=?2";
const char* kDelExpired = "DELETE FROM list_entry WHERE list=?1 AND expires>0 AND expires<=?2";
const char* kSelEntries =
    "SELECT id FROM list_entry WHERE (?1=0 OR list=?1) AND (?3 IS NULL OR source=?3) ORDER BY id DESC LIMIT ?2";

void BindBlob(sqlite3_stmt* s, int i, std::string_view b) {
  sqlite3_bind_blob(s, i, b.data(), int(b.size()), SQLITE_TRANSIENT);
}
void BindText(sqlite3_stmt* s, int i, std::string_view t) {
  sqlite3_bind_text(s, i, t.data(), int(t.size()), SQLITE_TRANSIENT);
}
std::string ColumnBlob(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  return p ? std::string(static_cast<const char*>(p), size_t(sqlite3_column_bytes(s, i))) : std::string();
}
std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(s, i))) : std::string();
}
void ToBytes(const std::string& blob, std::array<uint8_t, 16>* out) {
  out->fill(0);
  memcpy(out->data(), blob.data(), std::min(blob.size(), out->size()));
}
std::string_view AsView(const std::array<uint8_t, 16>& a, size_t width) {
  return {reinterpret_cast<const char*>(a.data()), width};
}

// Keys a comment was learned under, stored with it so a later relearn
// moves its weight from exactly those keys.
std::string EncodeKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) {
    out.push_back(char(k.size()));
    out += k;
  }
  return out;
}
std::vector<std::string> DecodeKeys(const std::string& blob) {
  std::vector<std::string> keys;
  size_t i = 0;
  while (i < blob.size()) {
    size_t n = static_cast<unsigned char>(blob[i++]);
    if (i + n > blob.size()) break;
    keys.push_back(blob.substr(i, n));
    i += n;
  }
  return keys;
}

// A comment's token hashes, 8 bytes each, little-endian.
std::string EncodeTokens(const std::vector<uint64_t>& tokens) {
  std::string out(tokens.size() * 8, '\0');
  for (size_t i = 0; i < tokens.size(); ++i)
    for (int b = 0; b < 8; ++b) out[i * 8 + size_t(b)] = char((tokens[i] >> (8 * b)) & 0xff);
  return out;
}
std::vector<uint64_t> DecodeTokens(const std::string& blob) {
  std::vector<uint64_t> tokens(blob.size() / 8);
  for (size_t i = 0; i < tokens.size(); ++i) {
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b) v |= uint64_t(static_cast<unsigned char>(blob[i * 8 + size_t(b)])) << (8 * b);
    tokens[i] = v;
  }
  return tokens;
}

// A token's counts from columns col (spam) and col + 1 (ham), never negative.
TokenCounts CountsAt(sqlite3_stmt* q, int col) {
  TokenCounts c;
  c.spam = std::max<int64_t>(0, sqlite3_column_int64(q, col));
  c.ham = std::max<int64_t>(0, sqlite3_column_int64(q, col + 1));
  return c;
}

// A count as read back: a finite, non-negative number, whatever the file
// holds (a file written by other means must not poison every verdict).
double Count(double v) { return std::isfinite(v) && v > 0 ? v : 0.0; }

}  // namespace

std::string RepKey(const lists::IpRange& net) {
  std::string k;
  k.push_back(char(net.fam));
  k.push_back(char(net.plen));
  k.append(net.Lo());
  return k;
}

SqliteStore::~SqliteStore() {
  if (batch_ && db_ && !sqlite3_get_autocommit(db_.get()) && !Commit().ok()) Rollback();
  stmts_.clear();  // finalize before closing
  db_.reset();
}

Status SqliteStore::Error(const std::string& what, int rc) const {
  std::string msg = "database " + path_ + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc));
  int primary = rc & 0xFF;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status::Busy(msg);
  return Status::IOError(msg);
}

Status SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    std::string full = "database " + path_ + ": " + msg;
    return (rc & 0xFF) == SQLITE_BUSY ? Status::Busy(full) : Status::IOError(full);
  }
  return Status::OK();
}

Status SqliteStore::Prepare(const char* sql, sqlite3_stmt** out) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) {
    sqlite3_reset(it->second.get());
    sqlite3_clear_bindings(it->second.get());
    *out = it->second.get();
    return Status::OK();
  }
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return Error("prepare", rc);
  stmts_.emplace(sql, StmtPtr(s));
  *out = s;
  return Status::OK();
}

Status SqliteStore::Begin() {
  if (read_only_) return Status::IOError("database " + path_ + " is read-only");
  return Exec("BEGIN IMMEDIATE");
}
Status SqliteStore::Commit() { return Exec("COMMIT"); }

Status SqliteStore::Write(const std::function<Status()>& body) {
  if (batch_) {
    // One write transaction holds many writes; each is a savepoint, so a
    // failed one is undone alone.
    Status st;
    if (sqlite3_get_autocommit(db_.get())) {
      st = Begin();
      if (!st.ok()) return st;
      batch_writes_ = 0;
      batch_since_ = std::chrono::steady_clock::now();
    }
    st = Exec("SAVEPOINT sg_write");
    if (!st.ok()) return st;
    st = body();
    if (st.ok()) st = Exec("RELEASE sg_write");
    if (!st.ok()) {
      sqlite3_exec(db_.get(), "ROLLBACK TO sg_write; RELEASE sg_write", nullptr, nullptr, nullptr);
      return st;
    }
    if (++batch_writes_ >= kBatchWrites || std::chrono::steady_clock::now() - batch_since_ >= kBatchTime) {
      st = Commit();
      if (!st.ok()) Rollback();
    }
    return st;
  }
  Status st = Begin();
  if (!st.ok()) return st;
  st = body();
  if (st.ok()) st = Commit();
  if (!st.ok()) Rollback();
  return st;
}

Status SqliteStore::Batch(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  if (on) {
    if (read_only_) return Status::IOError("database " + path_ + " is read-only");
    batch_ = true;
    return Status::OK();
  }
  batch_ = false;
  if (sqlite3_get_autocommit(db_.get())) return Status::OK();
  Status st = Commit();
  if (!st.ok()) Rollback();
  return st;
}

Status SqliteStore::Read(const std::function<Status()>& body) {
  // Inside a batch, its open write transaction serves the read (and sees
  // the batch's own writes).
  if (!sqlite3_get_autocommit(db_.get())) return body();
  sqlite3_stmt* q = nullptr;
  Status st = Prepare("BEGIN", &q);
  if (!st.ok()) return st;
  int rc = sqlite3_step(q);
  if (rc != SQLITE_DONE) return Error("begin read", rc);
  st = body();
  Status end = Prepare("COMMIT", &q);
  if (end.ok() && (rc = sqlite3_step(q)) != SQLITE_DONE) end = Error("end read", rc);
  if (!end.ok()) Rollback();
  return st.ok() ? end : st;
}

void SqliteStore::Rollback() {
  if (!sqlite3_get_autocommit(db_.get())) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

std::string MissingDatabase(const std::string& path) {
  int err = access(path.c_str(), F_OK) == 0 ? 0 : errno;
  if (err == ENOENT) return "database " + path + ": no such file (opened read-only, so not created)";
  if (err == EACCES)
    return "database " + path + ": permission denied (this user, uid " + std::to_string(getuid()) +
           ", cannot reach the file's folder)";
  return "database " + path + ": " + strerror(err);
}

Status SqliteStore::Open(const std::string& path, const SqliteOptions& opts, std::unique_ptr<SqliteStore>* out) {
  // Processes that create or upgrade the file at the same moment can meet
  // a lock SQLite does not wait for (it would deadlock); start over then,
  // until the busy timeout has passed.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts.busy_timeout_ms);
  for (int attempt = 0;; ++attempt) {
    Status st = OpenOnce(path, opts, out);
    if (st.code() != SG_EBUSY || std::chrono::steady_clock::now() >= deadline) return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50, 2 << std::min(attempt, 4))));
  }
}

namespace {

// Creates the file at `path` when missing, private to its owner, or to its
// folder's group as well in a shared folder (InSharedFolder). SQLite gives
// its -wal and -shm files the same mode.
Status CreateIfMissing(const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) return Status::OK();
  if (errno != ENOENT) return Status::IOError("database " + path + ": " + strerror(errno));
  const bool shared = InSharedFolder(path);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST)
    return Status::IOError("database " + path + ": cannot create: " + strerror(errno));
  if (fd >= 0) {
    if (shared) ::fchmod(fd, 0660);
    ::close(fd);
  }
  return Status::OK();
}

// A URI for SQLite naming `path` ('%', '?' and '#' escaped).
std::string FileUri(const std::string& path, const char* query) {
  std::string u = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      u += buf;
    } else {
      u.push_back(c);
    }
  }
  return u + "?" + query;
}

}  // namespace

Status SqliteStore::OpenOnce(const std::string& path, const SqliteOptions& opts, std::unique_ptr<SqliteStore>* out) {
  auto s = std::unique_ptr<SqliteStore>(new SqliteStore(path));
  s->is_rate_file_ = opts.rate_file;
  s->opts_ = opts;
  {
    struct stat lst;
    if (::lstat(path.c_str(), &lst) == 0) {
      std::string why = Refusal(path, lst, opts.check_owner);
      if (!why.empty()) return Status::IOError("database " + path + ": refused: it " + why);
    }
  }
  if (opts.read_only && access(path.c_str(), F_OK) != 0) return Status::IOError(MissingDatabase(path));
  if (!opts.read_only) {
    Status st = CreateIfMissing(path);
    if (!st.ok()) return st;
    // The form-token file beside is made now too (opened only when a token
    // is counted), so that a read-only process of the blog can count in it.
    if (!opts.rate_file && access(path.c_str(), W_OK) == 0) (void)CreateIfMissing(path + kRateSuffix);
  }
  if (access(path.c_str(), R_OK) != 0 && errno == EACCES) {
    // Say whose file it is: the usual cause is a first run by another user
    // (root) that made the file private to itself.
    struct stat st;
    std::string detail;
    if (::stat(path.c_str(), &st) == 0) detail = " (the file belongs to " + Ownership(st) + ")";
    return Status::IOError("database " + path + ": permission denied" + detail);
  }
  s->read_only_ = opts.read_only || access(path.c_str(), W_OK) != 0;
  int flags = (s->read_only_ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
  auto connect = [&](const std::string& name, int extra) -> Status {
    s->stmts_.clear();
    s->db_.reset();
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(name.c_str(), &db, flags | extra, nullptr);
    s->db_.reset(db);  // a failed open still returns a handle to close
    if (rc != SQLITE_OK) return s->Error("cannot open", rc);
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, opts.busy_timeout_ms);
    Status st = s->Exec("PRAGMA foreign_keys=OFF");
    if (!st.ok()) return st;
    // Reading the schema is what finds a file that is not a database.
    sqlite3_stmt* q = nullptr;
    st = s->Prepare("PRAGMA user_version", &q);
    if (!st.ok()) return st;
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW) return s->Error("cannot read", rc);
    return Status::OK();
  };
  Status st = connect(path, 0);
  if (!st.ok() && s->read_only_) {
    // A reader that may not create the shared-memory file of a database in
    // WAL mode (a read-only user, a read-only folder) reads it as a file
    // that does not change, which is exact when no write-ahead log is
    // pending (the last writer checkpointed it away on close).
    struct stat wal;
    if (::stat((path + "-wal").c_str(), &wal) != 0 || wal.st_size == 0) {
      Status st2 = connect(FileUri(path, "immutable=1"), SQLITE_OPEN_URI);
      if (st2.ok()) st = st2;
    }
  }
  if (!st.ok()) return st;
  if (!s->read_only_) {
    st = s->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
    if (!st.ok()) return st;
    // Pages are read through a shared mapping instead of a read() each; the
    // WAL is checkpointed (two fsyncs) every 4000 pages rather than 1000, as
    // one learn writes a page per token row it touches.
    st = s->Exec("PRAGMA mmap_size=268435456; PRAGMA cache_size=-8192; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=4000");
    if (!st.ok()) return st;
    // A process per request (CGI) must not make and delete the -wal file
    // each time: creating it syncs the folder. The log file is kept
    // (emptied, not deleted). The main file is still checkpointed by the
    // last process to close it, so that a reader without write access can
    // read it as a plain file; the rate file, written by every request, is
    // not: its log is checkpointed every 64 pages instead (two syncs every
    // few dozen requests rather than three per request), which also keeps
    // short what the next process's first connection reads to rebuild the
    // log's index.
    int on = 1;
    sqlite3_file_control(s->db_.get(), "main", SQLITE_FCNTL_PERSIST_WAL, &on);
    st = s->Exec("PRAGMA journal_size_limit=0");
    if (!st.ok()) return st;
    if (opts.rate_file) {
      sqlite3_db_config(s->db_.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
      st = s->Exec("PRAGMA wal_autocheckpoint=64");
      if (!st.ok()) return st;
    }
  }
  st = s->Migrate();
  if (!st.ok()) return st;
  *out = std::move(s);
  return Status::OK();
}

Status SqliteStore::Migrate() {
  auto version = [this](int* v) -> Status {
    sqlite3_stmt* q = nullptr;
    Status st = Prepare("PRAGMA user_version", &q);
    if (!st.ok()) return st;
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) return Error("cannot read the schema version", rc);
    *v = sqlite3_column_int(q, 0);
    sqlite3_reset(q);
    return Status::OK();
  };
  int v = 0;
  Status st = version(&v);
  if (!st.ok()) return st;
  if (v > kSchemaVersion)
    return Status::IOError("database " + path_ + ": schema version " + std::to_string(v) +
                           " is newer than this spamguard understands (" + std::to_string(kSchemaVersion) + ")");
  schema_ = v;
  if (v == kSchemaVersion) return Status::OK();
  // Step 4 only adds an index, and a reader of a file without step 5 finds
  // nothing learned: a reader needs nothing newer than 3.
  if (read_only_ && v >= 3) return Status::OK();
  if (read_only_)
    return Status::IOError("database " + path_ + ": schema version " + std::to_string(v) +
                           " needs an upgrade, but the file is read-only");
  st = Begin();
  if (!st.ok()) return st;
  st = version(&v);  // another process may have migrated meanwhile
  for (; st.ok() && v < kSchemaVersion; ++v) {
    st = Exec(kMigrations[v]);
    if (st.ok() && v + 1 == 2) {
      st = RebuildAll(kAllow, 0);
      if (st.ok()) st = RebuildAll(kBlock, 0);
    }
  }
  if (st.ok()) st = Exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
  if (st.ok()) st = Commit();
  if (st.ok()) schema_ = kSchemaVersion;
  if (!st.ok()) Rollback();
  // Statements prepared against the old schema are stale.
  stmts_.clear();
  return st;
}

void SqliteStore::EntryFromRow(sqlite3_stmt* q, int col, ListEntry* out) {
  *out = ListEntry();
  out->id = sqlite3_column_int64(q, col);
  out->list = sqlite3_column_int(q, col + 1);
  out->kind = sqlite3_column_int(q, col + 2) + 1;  // stored kinds are SG_ENTRY_* - 1
  if (sqlite3_column_int(q, col + 2) == kIpKind) {
    lists::IpRange r;
    r.fam = sqlite3_column_int(q, col + 3);
    ToBytes(ColumnBlob(q, col + 4), &r.lo);
    r.plen = sqlite3_column_int(q, col + 5);
    out->what = r.ToString();
  } else {
    out->what = ColumnText(q, col + 6);
  }
  out->source = ColumnText(q, col + 7);
  out->reason = ColumnText(q, col + 8);
  out->added = sqlite3_column_int64(q, col + 9);
  out->expires = sqlite3_column_int64(q, col + 10);
}

Status SqliteStore::ReadEntry(int64_t id, ListEntry* out) {
  sqlite3_stmt* q = nullptr;
  Status st = Prepare(kSelEntry, &q);
  if (!st.ok()) return st;
  sqlite3_bind_int64(q, 1, id);
  int rc = sqlite3_step(q);
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? Status::NotFound("no list entry " + std::to_string(id)) : Error("read entry", rc);
  EntryFromRow(q, 0, out);
  sqlite3_reset(q);
  return Status::OK();
}

Status SqliteStore::StepToEntry(sqlite3_stmt* q, ListEntry* out, bool* found) {
  *found = false;
  int rc = sqlite3_step(q);
  if (rc == SQLITE_DONE) return Status::OK();
  if (rc != SQLITE_ROW) return Error("list lookup", rc);
  int64_t id = sqlite3_column_int64(q, 0);
  sqlite3_reset(q);
  *found = true;
  return ReadEntry(id, out);
}

Status SqliteStore::ProbeAncestors(int list, const lists::IpRange& ip, int64_t now, ListEntry* out, bool* found) {
  // The slow path, used when the index points at an expired entry: try
  // every prefix of the address, most specific first.
  int full = ip.fam == 4 ? 32 : 128;
  comment::IpAddress addr;
  addr.v6 = ip.fam == 6;
  addr.bytes = ip.lo;
  for (int plen = full; plen >= 0; --plen) {
    lists::IpRange net = lists::Network(addr, plen);
    sqlite3_stmt* q = nullptr;
    Status st = Prepare(kSelAncestor, &q);
    if (!st.ok()) return st;
    sqlite3_bind_int(q, 1, list);
    sqlite3_bind_int(q, 2, ip.fam);
    BindBlob(q, 3, net.Lo());
    sqlite3_bind_int(q, 4, plen);
    sqlite3_bind_int64(q, 5, now);
    st = StepToEntry(q, out, found);
    if (!st.ok() || *found) return st;
  }
  return Status::OK();
}

Status SqliteStore::MatchIp(int list, const lists::IpRange& ip, int64_t now, ListEntry* out, bool* found) {
  std::lock_guard<std::mutex> lock(mu_);
  return MatchIpLocked(list, ip, now, out, found);
}

Status SqliteStore::MatchIpLocked(int list, const lists::IpRange& ip, int64_t now, ListEntry* out, bool* found) {
  *found = false;
  sqlite3_stmt* q = nullptr;
  Status st = Prepare(kSelIndexEntry, &q);
  if (!st.ok()) return st;
  sqlite3_bind_int(q, 1, list);
  sqlite3_bind_int(q, 2, ip.fam);
  BindBlob(q, 3, ip.Lo());
  int rc = sqlite3_step(q);
  if (rc == SQLITE_DONE) return Status::OK();
  if (rc != SQLITE_ROW) return Error("list lookup", rc);
  bool covers = ColumnBlob(q, 0) >= std::string(ip.Lo());
  if (covers) EntryFromRow(q, 1, out);
  sqlite3_reset(q);
  if (!covers) return Status::OK();
  if (out->expires != 0 && out->expires <= now) return ProbeAncestors(list, ip, now, out, found);
  *found = true;
  return Status::OK();
}

Status SqliteStore::MatchName(int list, int kind, const std::vector<std::string>& candidates, int64_t now,
                              ListEntry* out, bool* found) {
  std::lock_guard<std::mutex> lock(mu_);
  return MatchNameLocked(list, kind, candidates, now, out, found);
}

Status SqliteStore::MatchNameLocked(int list, int kind, const std::vector<std::string>& candidates, int64_t now,
                                    ListEntry* out, bool* found) {
  *found = false;
  for (const auto& c : candidates) {
    sqlite3_stmt* q = nullptr;
    Status st = Prepare(kSelName, &q);
    if (!st.ok()) return st;
    sqlite3_bind_int(q, 1, list);
    sqlite3_bind_int(q, 2, kind);
    BindText(q, 3, c);
    sqlite3_bind_int64(q, 4, now);
    st = StepToEntry(q, out, found);
    if (!st.ok() || *found) return st;
  }
  return Status::OK();
}

Status SqliteStore::GetReputation(const std::vector<std::string>& keys, std::vector<RepCounts>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  return GetReputationLocked(keys, out);
}

Status SqliteStore::GetReputationLocked(const std::vector<std::string>& keys, std::vector<RepCounts>* out) {
  out->assign(keys.size(), RepCounts());
  for (size_t i = 0; i < keys.size(); ++i) {
    sqlite3_stmt* q = nullptr;
    Status st = Prepare(kSelRep, &q);
    if (!st.ok()) return st;
    BindBlob(q, 1, keys[i]);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
      (*out)[i].spam = Count(sqlite3_column_double(q, 0));
      (*out)[i].ham = Count(sqlite3_column_double(q, 1));
      (*out)[i].updated = sqlite3_column_int64(q, 2);
    } else if (rc != SQLITE_DONE) {
      return Error("reputation lookup", rc);
    }
    sqlite3_reset(q);
  }
  return Status::OK();
}

namespace {

// Name entries of both lists: the e-mail (?1), its domains (?2..?7) and
// the author URL's domains (?8..?13); unused slots stay NULL and match
// nothing. One indexed probe per slot, without temporary tables.
constexpr size_t kDomainSlots = 6;
std::string NamesQuery() {
  std::string q;
  for (size_t slot = 1; slot <= 1 + 2 * kDomainSlots; ++slot) {
    int kind = slot == 1 ? kEmail : slot <= 1 + kDomainSlots ? kEmailDomain : kUrlDomain;
    if (!q.empty()) q += " UNION ALL ";
    q += "SELECT id, list, kind, value FROM list_entry WHERE kind=" + std::to_string(kind) + " AND value=?" +
         std::to_string(slot) + " AND (expires=0 OR expires>?14)";
  }
  return q;
}
const std::string kLookupNamesSql = NamesQuery();
const char* kLookupNames = kLookupNamesSql.c_str();
const char* kLookupRep =
    "SELECT key, spam, ham, updated FROM reputation WHERE key=?1 "
    "UNION ALL SELECT key, spam, ham, updated FROM reputation WHERE key=?2";

// Rank of a name match: lower is more specific.
int NameRank(int kind, const std::string& value, const LookupRequest& req) {
  const std::vector<std::string>& doms = kind == kEmailDomain ? req.email_domains : req.url_domains;
  if (kind == kEmail) return 0;
  for (size_t i = 0; i < doms.size(); ++i)
    if (doms[i] == value) return (kind == kEmailDomain ? 1 : 100) + int(i);
  return 1000;
}

}  // namespace

Status SqliteStore::Lookup(const LookupRequest& req, LookupResult* out) {
  std::lock_guard<std::mutex> lock(mu_);
  *out = LookupResult();
  // One read transaction: one lock for all the probes of a comment.
  sqlite3_stmt* q = nullptr;
  int rc = SQLITE_OK;
  return Read([&]() -> Status {
    // Best match per list: (rank, entry id, field); rank 0 is the address.
    struct Best {
      int rank = 1 << 30;
      int64_t id = 0;
      const char* field = "";
    } best[3];
    if (req.has_ip) {
      for (int list : {kAllow, kBlock}) {
        ListEntry e;
        bool found = false;
        Status s2 = MatchIpLocked(list, req.ip, req.now, &e, &found);
        if (!s2.ok()) return s2;
        if (found) best[list] = {0, e.id, "ip"};
      }
    }
    // Hosts deeper than the statement's slots take more than one round.
    size_t rounds = (std::max(req.email_domains.size(), req.url_domains.size()) + kDomainSlots - 1) / kDomainSlots;
    if (!req.email.empty() || !req.url_domains.empty()) rounds = std::max<size_t>(rounds, 1);
    for (size_t round = 0; round < rounds; ++round) {
      Status s2 = Prepare(kLookupNames, &q);
      if (!s2.ok()) return s2;
      if (!req.email.empty() && round == 0) BindText(q, 1, req.email);
      for (size_t i = 0; i < kDomainSlots; ++i) {
        size_t k = round * kDomainSlots + i;
        if (k < req.email_domains.size()) BindText(q, 2 + int(i), req.email_domains[k]);
        if (k < req.url_domains.size()) BindText(q, 8 + int(i), req.url_domains[k]);
      }
      sqlite3_bind_int64(q, 14, req.now);
      while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int list = sqlite3_column_int(q, 1), kind = sqlite3_column_int(q, 2);
        int rank = NameRank(kind, ColumnText(q, 3), req);
        if (list >= 1 && list <= 2 && rank < best[list].rank)
          best[list] = {rank, sqlite3_column_int64(q, 0), kind == kUrlDomain ? "url" : "email"};
      }
      if (rc != SQLITE_DONE) return Error("list lookup", rc);
      sqlite3_reset(q);
    }
    for (int list : {kAllow, kBlock}) {
      if (best[list].id == 0) continue;
      out->list = list;
      out->field = best[list].field;
      return ReadEntry(best[list].id, &out->entry);
    }
    out->rep.assign(req.rep_keys.size(), RepCounts());
    if (req.want_learner && schema_ >= 5) {
      Status s2 = ReadLearner(&out->learner, nullptr);
      if (!s2.ok()) return s2;
    }
    if (schema_ >= 7) {
      Status s2 = Prepare("SELECT version FROM keyword_version", &q);
      if (!s2.ok()) return s2;
      if ((rc = sqlite3_step(q)) == SQLITE_ROW) out->keyword_version = sqlite3_column_int64(q, 0);
      sqlite3_reset(q);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("keyword read", rc);
    }
    if (req.rep_keys.empty()) return Status::OK();
    Status s2 = Prepare(kLookupRep, &q);
    if (!s2.ok()) return s2;
    for (size_t i = 0; i < 2 && i < req.rep_keys.size(); ++i) BindBlob(q, 1 + int(i), req.rep_keys[i]);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      std::string key = ColumnBlob(q, 0);
      for (size_t i = 0; i < req.rep_keys.size(); ++i)
        if (req.rep_keys[i] == key) out->rep[i] = {Count(sqlite3_column_double(q, 1)), Count(sqlite3_column_double(q, 2)), sqlite3_column_int64(q, 3)};
    }
    if (rc != SQLITE_DONE) return Error("reputation lookup", rc);
    sqlite3_reset(q);
    return Status::OK();
  });
}

Status SqliteStore::Rates(SqliteStore** out) {
  if (is_rate_file_) {
    *out = this;
    return Status::OK();
  }
  std::lock_guard<std::mutex> lock(rates_mu_);
  if (!rates_) {
    // The form-token file beside the database, opened the same way when
    // first needed (a request that checks no form token never opens it).
    std::string rp = path_ + kRateSuffix;
    if (read_only_ && access(rp.c_str(), F_OK) != 0)
      return Status::IOError("database " + rp + ": no such file yet (no form token was counted; opened read-only)");
    SqliteOptions ro = opts_;
    ro.rate_file = true;
    ro.read_only = read_only_ && access(rp.c_str(), W_OK) != 0;
    Status rs = Open(rp, ro, &rates_);
    if (!rs.ok()) return rs;
  }
  *out = rates_.get();
  return Status::OK();
}

SqliteStore* SqliteStore::ExistingRates() {
  SqliteStore* r = nullptr;
  return access((path_ + kRateSuffix).c_str(), F_OK) == 0 && Rates(&r).ok() ? r : nullptr;
}

Status SqliteStore::Map(bool create, RateMap** out) {
  *out = nullptr;
  std::lock_guard<std::mutex> lock(rates_mu_);
  if (!map_) {
    Status st = RateMap::Open(path_ + RateMap::kSuffix, create, read_only_, opts_.check_owner, &map_);
    if (!st.ok()) return st;
  }
  *out = map_.get();
  return Status::OK();
}

Status SqliteStore::RateCheck(const std::vector<RateKey>& keys, int64_t now_ms, RateDecision* out) {
  *out = RateDecision();
  if (keys.empty()) return Status::OK();
  if (read_only_) return Status::IOError("database " + path_ + ": opened read-only, so nothing can be rate-limited");
  RateMap* m = nullptr;
  Status st = Map(true, &m);
  return st.ok() ? m->Check(keys, now_ms, out) : st;
}

Status SqliteStore::RatePeek(const std::vector<RateKey>& keys, std::vector<RateState>* out) {
  out->assign(keys.size(), RateState());
  if (keys.empty()) return Status::OK();
  RateMap* m = nullptr;
  Status st = Map(false, &m);
  if (!st.ok()) return st;
  return m ? m->Peek(keys, out) : Status::OK();  // none yet: nothing was ever limited
}

Status SqliteStore::ApplyReputation(const std::vector<std::string>& keys, int label, double weight, int64_t now,
                                    double half_life) {
  for (const auto& key : keys) {
    sqlite3_stmt* q = nullptr;
    Status st = Prepare(kSelRep, &q);
    if (!st.ok()) return st;
    BindBlob(q, 1, key);
    double spam = 0, ham = 0;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
      double f = DecayFactor(now, sqlite3_column_int64(q, 2), half_life);
      spam = Count(sqlite3_column_double(q, 0)) * f;
      ham = Count(sqlite3_column_double(q, 1)) * f;
    } else if (rc != SQLITE_DONE) {
      return Error("reputation read", rc);
    }
    sqlite3_reset(q);
    (label == 1 ? spam : ham) += weight;
    st = Prepare(kUpsertRep, &q);
    if (!st.ok()) return st;
    BindBlob(q, 1, key);
    sqlite3_bind_double(q, 2, Count(spam));  // never a non-finite or negative number
    sqlite3_bind_double(q, 3, Count(ham));
    sqlite3_bind_int64(q, 4, now);
    rc = sqlite3_step(q);
    if (rc != SQLITE_DONE) return Error("reputation write", rc);
  }
  return Status::OK();
}

Status SqliteStore::ReadLearner(LearnerTotals* t, int64_t* serial) {
  *t = LearnerTotals();
  if (serial) *serial = 0;
  sqlite3_stmt* q = nullptr;
  Status st = Prepare("PRAGMA data_version", &q);
  if (!st.ok()) return st;
  if (sqlite3_step(q) == SQLITE_ROW) t->version = sqlite3_column_int64(q, 0);
  sqlite3_reset(q);
  st = Prepare(kSelLearner, &q);
  if (!st.ok()) return st;
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    t->spam = std::max<int64_t>(0, sqlite3_column_int64(q, 0));
    t->ham = std::max<int64_t>(0, sqlite3_column_int64(q, 1));
    t->tokens = std::max<int64_t>(0, sqlite3_column_int64(q, 2));
    if (serial) *serial = sqlite3_column_int64(q, 3);
  }
  sqlite3_reset(q);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::OK() : Error("learner read", rc);
}

Status SqliteStore::WriteLearner(const LearnerTotals& t, int64_t serial) {
  sqlite3_stmt* q = nullptr;
  Status st = Prepare(kUpdLearner, &q);
  if (!st.ok()) return st;
  sqlite3_bind_int64(q, 1, t.spam);
  sqlite3_bind_int64(q, 2, t.ham);
  sqlite3_bind_int64(q, 3, t.tokens);
  sqlite3_bind_int64(q, 4, serial);
  int rc = sqlite3_step(q);
  return rc == SQLITE_DONE ? Status::OK() : Error("learner write", rc);
}

Status SqliteStore::ApplyTokens(const std::vector<uint64_t>& tokens, int label, int sign, LearnerTotals* t,
                                int64_t serial) {
  const int64_t ds = label == 1 ? 1 : 0, dh = label == 2 ? 1 : 0;
  for (uint64_t h : tokens) {
    sqlite3_stmt* q = nullptr;
    Status st = Prepare(sign > 0 ? kAddToken : kSubToken, &q);
    if (!st.ok()) return st;
    sqlite3_bind_int64(q, 1, int64_t(h));
    sqlite3_bind_int64(q, 2, ds);
    sqlite3_bind_int64(q, 3, dh);
    if (sign > 0) sqlite3_bind_int64(q, 4, serial);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE) return Error("token write", rc);
    const bool changed = sqlite3_changes(db_.get()) > 0;
    if (sign > 0 && !changed) {
      st = Prepare(kInsToken, &q);
      if (!st.ok()) return st;
      sqlite3_bind_int64(q, 1, int64_t(h));
      sqlite3_bind_int64(q, 2, ds);
      sqlite3_bind_int64(q, 3, dh);
      sqlite3_bind_int64(q, 4, serial);
      rc = sqlite3_step(q);
      if (rc != SQLITE_DONE) return Error("token write", rc);
      ++t->tokens;
    } else if (sign < 0 && changed) {
      // A token no comment holds any more is forgotten. (One expired
      // meanwhile has no row: nothing to take back.)
      st = Prepare(kDelEmptyToken, &q);
      if (!st.ok()) return st;
      sqlite3_bind_int64(q, 1, int64_t(h));
      rc = sqlite3_step(q);
      if (rc != SQLITE_DONE) return Error("token write", rc);
      t->tokens = std::max<int64_t>(0, t->tokens - sqlite3_changes(db_.get()));
    }
  }
  int64_t& n = label == 1 ? t->spam : t->ham;
  n = std::max<int64_t>(0, n + sign);
  return Status::OK();
}

Status SqliteStore::ExpireTokens(int64_t max, LearnerTotals* t) {
  if (max <= 0 || t->tokens <= max) return Status::OK();
  // Down to 90% of the bound, so that expiry runs once per many learns.
  sqlite3_stmt* q = nullptr;
  Status st = Prepare(kExpireTokens, &q);
  if (!st.ok()) return st;
  sqlite3_bind_int64(q, 1, t->tokens - max + max / 10);
  int rc = sqlite3_step(q);
  if (rc != SQLITE_DONE) return Error("token expiry", rc);
  t->tokens = std::max<int64_t>(0, t->tokens - sqlite3_changes(db_.get()));
  return Status::OK();
}

Status SqliteStore::NoLearner() const {
  return Status::IOError("database " + path_ + ": schema version " + std::to_string(schema_) +
                         " has no learner (open it writable once to upgrade it)");
}

Status SqliteStore::ReadLearned(const std::string& cid, LearnedRow* out, bool* found) {
  *found = false;
  sqlite3_stmt* q = nullptr;
  Status st = Prepare(kSelLearned, &q);
  if (!st.ok()) return st;
  BindText(q, 1, cid);
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    *found = true;
    out->label = sqlite3_column_int(q, 0);
    out->keys = DecodeKeys(ColumnBlob(q, 1));
    out->at = sqlite3_column_int64(q, 2);
    out->had_tokens = sqlite3_column_type(q, 3) != SQLITE_NULL;
    out->tokens = DecodeTokens(ColumnBlob(q, 3));
  }
  sqlite3_reset(q);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::OK() : Error("learned read", rc);
}

Status SqliteStore::TakeBack(const LearnedRow& row, const LearnOp& op, LearnerTotals* totals, int64_t serial) {
  // Reputation as decayed since it was learned, and the tokens it counted
  // (none for a comment learned before the learner existed).
  Status st = ApplyReputation(row.keys, row.label, -DecayFactor(op.now, row.at, op.half_life), op.now, op.half_life);
  if (st.ok() && row.had_tokens) st = ApplyTokens(row.tokens, row.label, -1, totals, serial);
  return st;
}

Status SqliteStore::Learn(const LearnOp& op, LearnOutcome* outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  if (schema_ < 5) return NoLearner();
  auto body = [&]() -> Status {
    LearnedRow row;
    bool found = false;
    Status st = ReadLearned(op.cid, &row, &found);
    if (!st.ok()) return st;
    if (found && row.label == op.label) {
      *outcome = LearnOutcome::kUnchanged;
      return Status::OK();
    }
    *outcome = found ? LearnOutcome::kMoved : LearnOutcome::kAdded;
    LearnerTotals totals;
    int64_t serial = 0;
    st = ReadLearner(&totals, &serial);
    ++serial;
    if (st.ok() && found) st = TakeBack(row, op, &totals, serial);
    if (st.ok()) st = ApplyReputation(op.keys, op.label, 1, op.now, op.half_life);
    if (st.ok()) st = ApplyTokens(op.tokens, op.label, +1, &totals, serial);
    if (st.ok()) st = ExpireTokens(op.max_tokens, &totals);
    if (st.ok()) st = WriteLearner(totals, serial);
    if (!st.ok()) return st;
    sqlite3_stmt* q = nullptr;
    st = Prepare(kUpsertLearned, &q);
    if (!st.ok()) return st;
    BindText(q, 1, op.cid);
    sqlite3_bind_int(q, 2, op.label);
    BindBlob(q, 3, EncodeKeys(op.keys));
    sqlite3_bind_int64(q, 4, op.now);
    BindBlob(q, 5, EncodeTokens(op.tokens));
    int rc = sqlite3_step(q);
    return rc == SQLITE_DONE ? Status::OK() : Error("learned write", rc);
  };
  return Write(body);
}

Status SqliteStore::Forget(const LearnOp& op, bool* found) {
  std::lock_guard<std::mutex> lock(mu_);
  *found = false;
  if (schema_ < 5) return NoLearner();
  auto body = [&]() -> Status {
    LearnedRow row;
    Status st = ReadLearned(op.cid, &row, found);
    if (!st.ok() || !*found) return st;
    LearnerTotals totals;
    int64_t serial = 0;
    st = ReadLearner(&totals, &serial);
    if (st.ok()) st = TakeBack(row, op, &totals, serial);
    if (st.ok()) st = WriteLearner(totals, serial);
    if (!st.ok()) return st;
    sqlite3_stmt* q = nullptr;
    st = Prepare(kDelLearned, &q);
    if (!st.ok()) return st;
    BindText(q, 1, op.cid);
    int rc = sqlite3_step(q);
    return rc == SQLITE_DONE ? Status::OK() : Error("learned write", rc);
  };
  return Write(body);
}

Status SqliteStore::AllTokens(const std::function<void(uint64_t, const TokenCounts&)>& each,
                              LearnerTotals* totals) {
  std::lock_guard<std::mutex> lock(mu_);
  *totals = LearnerTotals();
  if (schema_ < 5) return Status::OK();
  sqlite3_stmt* q = nullptr;
  return Read([&]() -> Status {
    Status s2 = ReadLearner(totals, nullptr);
    if (!s2.ok()) return s2;
    s2 = Prepare("SELECT h, spam, ham FROM token", &q);
    if (!s2.ok()) return s2;
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
      each(uint64_t(sqlite3_column_int64(q, 0)), CountsAt(q, 1));
    }
    sqlite3_reset(q);
    return r == SQLITE_DONE ? Status::OK() : Error("token read", r);
  });
}

Status SqliteStore::GetTokens(const std::vector<uint64_t>& tokens, std::vector<TokenCounts>* out,
                              LearnerTotals* totals) {
  std::lock_guard<std::mutex> lock(mu_);
  out->assign(tokens.size(), TokenCounts());
  *totals = LearnerTotals();
  if (schema_ < 5) return Status::OK();  // an older file opened read-only: nothing learned yet
  sqlite3_stmt* q = nullptr;
  return Read([&]() -> Status {
    Status s2 = ReadLearner(totals, nullptr);
    if (!s2.ok() || totals->spam == 0 || totals->ham == 0) return s2;
    for (size_t i = 0; i < tokens.size(); ++i) {
      s2 = Prepare(kSelToken, &q);
      if (!s2.ok()) return s2;
      sqlite3_bind_int64(q, 1, int64_t(tokens[i]));
      int r = sqlite3_step(q);
      if (r == SQLITE_ROW) {
        (*out)[i] = CountsAt(q, 0);
      } else if (r != SQLITE_DONE) {
        return Error("token read", r);
      }
      sqlite3_reset(q);
    }
    return Status::OK();
  });
}

lists::IpRange SqliteStore::RangeFromRow(sqlite3_stmt* q, int fam) {
  comment::IpAddress a;
  a.v6 = fam == 6;
  ToBytes(ColumnBlob(q, 1), &a.bytes);
  return lists::Network(a, sqlite3_column_int(q, 2));
}

Status SqliteStore::InsertInterval(int list, int fam, const lists::Interval& iv) {
  const size_t width = fam == 4 ? 4 : 16;
  sqlite3_stmt* ins = nullptr;
  Status st = Prepare(kInsIndex, &ins);
  if (!st.ok()) return st;
  sqlite3_bind_int(ins, 1, list);
  sqlite3_bind_int(ins, 2, fam);
  BindBlob(ins, 3, AsView(iv.lo, width));
  BindBlob(ins, 4, AsView(iv.hi, width));
  sqlite3_bind_int64(ins, 5, iv.id);
  int rc = sqlite3_step(ins);
  return rc == SQLITE_DONE ? Status::OK() : Error("index write", rc);
}

Status SqliteStore::InsertIpEntry(int list, const lists::IpRange& range, const std::string& source,
                                  const std::string& reason, int64_t added, int64_t expires) {
  sqlite3_stmt* q = nullptr;
  Status st = Prepare(kInsIp, &q);
  if (!st.ok()) return st;
  sqlite3_bind_int(q, 1, list);
  sqlite3_bind_int(q, 2, range.fam);
  BindBlob(q, 3, range.Lo());
  BindBlob(q, 4, range.Hi());
  sqlite3_bind_int(q, 5, range.plen);
  BindText(q, 6, source);
  BindText(q, 7, reason);
  sqlite3_bind_int64(q, 8, added);
  sqlite3_bind_int64(q, 9, expires);
  int rc = sqlite3_step(q);
  return rc == SQLITE_DONE ? Status::OK() : Error("list write", rc);
}

Status SqliteStore::RebuildAll(int list, int64_t now) {
  for (int fam : {4, 6}) {
    size_t width = fam == 4 ? 4 : 16;
    sqlite3_stmt* del = nullptr;
    Status st = Prepare(kDelIndexAll, &del);
    if (!st.ok()) return st;
    sqlite3_bind_int(del, 1, list);
    sqlite3_bind_int(del, 2, fam);
    int rc = sqlite3_step(del);
    if (rc != SQLITE_DONE) return Error("index rebuild", rc);
    // The scan and the inserts need two statements at once.
    sqlite3_stmt* scan = nullptr;
    rc = sqlite3_prepare_v2(db_.get(), kSelAllIp, -1, &scan, nullptr);
    if (rc != SQLITE_OK) return Error("index rebuild", rc);
    StmtPtr scan_owner(scan);
    sqlite3_bind_int(scan, 1, list);
    sqlite3_bind_int(scan, 2, fam);
    sqlite3_bind_int64(scan, 3, now);
    Status ins_st;
    lists::Sweeper sweep(width, [&](const lists::Interval& iv) {
      if (ins_st.ok()) ins_st = InsertInterval(list, fam, iv);
    });
    while ((rc = sqlite3_step(scan)) == SQLITE_ROW) {
      sweep.Add(RangeFromRow(scan, fam), sqlite3_column_int64(scan, 0));
      if (!ins_st.ok()) return ins_st;
    }
    if (rc != SQLITE_DONE) return Error("index rebuild", rc);
    sweep.Finish();
    if (!ins_st.ok()) return ins_st;
  }
  return Status::OK();
}

Status SqliteStore::RebuildIndex(int list, int fam, const lists::IpRange* region, int64_t now) {
  if (region == nullptr) return RebuildAll(list, now);
  const size_t width = fam == 4 ? 4 : 16;
  const std::string lo(region->Lo()), hi(region->Hi());
  Status st;
  // Entries that cover the region: its ancestors (probed per prefix) and
  // everything inside it.
  std::vector<std::pair<lists::IpRange, int64_t>> entries;
  comment::IpAddress a;
  a.v6 = fam == 6;
  a.bytes = region->lo;
  for (int plen = 0; plen < region->plen; ++plen) {
    lists::IpRange net = lists::Network(a, plen);
    sqlite3_stmt* q = nullptr;
    st = Prepare(kSelAncestor, &q);
    if (!st.ok()) return st;
    sqlite3_bind_int(q, 1, list);
    sqlite3_bind_int(q, 2, fam);
    BindBlob(q, 3, net.Lo());
    sqlite3_bind_int(q, 4, plen);
    sqlite3_bind_int64(q, 5, now);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) entries.emplace_back(net, sqlite3_column_int64(q, 0));
    else if (rc != SQLITE_DONE) return Error("index rebuild", rc);
    sqlite3_reset(q);
  }
  {
    sqlite3_stmt* q = nullptr;
    st = Prepare(kSelRegionIp, &q);
    if (!st.ok()) return st;
    sqlite3_bind_int(q, 1, list);
    sqlite3_bind_int(q, 2, fam);
    BindBlob(q, 3, lo);
    BindBlob(q, 4, hi);
    sqlite3_bind_int64(q, 5, now);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) entries.emplace_back(RangeFromRow(q, fam), sqlite3_column_int64(q, 0));
    if (rc != SQLITE_DONE) return Error("index rebuild", rc);
    sqlite3_reset(q);
  }
  // Old intervals that reach outside the region keep their outside parts.
  std::vector<lists::Interval> keep;
  for (const char* sql : {kSelIndexBefore, kSelIndexLastIn}) {
    sqlite3_stmt* q = nullptr;
    st = Prepare(sql, &q);
    if (!st.ok()) return st;
    sqlite3_bind_int(q, 1, list);
    sqlite3_bind_int(q, 2, fam);
    BindBlob(q, 3, lo);
    if (sql == kSelIndexLastIn) BindBlob(q, 4, hi);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
      lists::Interval iv;
      ToBytes(ColumnBlob(q, 0), &iv.lo);
      ToBytes(ColumnBlob(q, 1), &iv.hi);
      iv.id = sqlite3_column_int64(q, 2);
      bool before = sql == kSelIndexBefore;
      std::string ivhi(AsView(iv.hi, width));
      if (before && ivhi >= lo) {
        // Starts before the region and reaches into it: cut at lo - 1, and
        // keep any part past hi.
        lists::Interval left = iv;
        left.hi = region->lo;
        lists::Decrement(left.hi.data(), width);
        keep.push_back(left);
      }
      if (ivhi > hi) {
        lists::Interval right = iv;
        right.lo = region->hi;
        lists::Increment(right.lo.data(), width);
        keep.push_back(right);
      }
    } else if (rc != SQLITE_DONE) {
      return Error("index rebuild", rc);
    }
    sqlite3_reset(q);
  }
  sqlite3_stmt* del = nullptr;
  st = Prepare(kDelIndexRegion, &del);
  if (!st.ok()) return st;
  sqlite3_bind_int(del, 1, list);
  sqlite3_bind_int(del, 2, fam);
  BindBlob(del, 3, lo);
  BindBlob(del, 4, hi);
  int rc = sqlite3_step(del);
  if (rc != SQLITE_DONE) return Error("index rebuild", rc);

  for (const auto& iv : keep) {
    st = InsertInterval(list, fam, iv);
    if (!st.ok()) return st;
  }
  std::sort(entries.begin(), entries.end(), [width](const auto& x, const auto& y) {
    int c = memcmp(x.first.lo.data(), y.first.lo.data(), width);
    return c != 0 ? c < 0 : x.first.plen < y.first.plen;
  });
  lists::Sweeper sweep(width, [&](const lists::Interval& iv0) {
    if (!st.ok()) return;
    lists::Interval iv = iv0;  // clip to the region
    if (memcmp(iv.hi.data(), region->lo.data(), width) < 0 || memcmp(iv.lo.data(), region->hi.data(), width) > 0) return;
    if (memcmp(iv.lo.data(), region->lo.data(), width) < 0) iv.lo = region->lo;
    if (memcmp(iv.hi.data(), region->hi.data(), width) > 0) iv.hi = region->hi;
    st = InsertInterval(list, fam, iv);
  });
  for (const auto& [r, id] : entries) sweep.Add(r, id);
  sweep.Finish();
  return st;
}

Status SqliteStore::AddIp(int list, const lists::IpRange& range, const std::string& source, const std::string& reason,
                          int64_t added, int64_t expires) {
  std::lock_guard<std::mutex> lock(mu_);
  auto body = [&]() -> Status {
    Status s2 = InsertIpEntry(list, range, source, reason, added, expires);
    return s2.ok() ? RebuildIndex(list, range.fam, &range, added) : s2;
  };
  return Write(body);
}

Status SqliteStore::AddName(int list, int kind, const std::string& value, const std::string& source,
                            const std::string& reason, int64_t added, int64_t expires) {
  std::lock_guard<std::mutex> lock(mu_);
  if (read_only_) return Status::IOError("database " + path_ + " is read-only");
  sqlite3_stmt* q = nullptr;
  Status st = Prepare(kInsName, &q);
  if (!st.ok()) return st;
  sqlite3_bind_int(q, 1, list);
  sqlite3_bind_int(q, 2, kind);
  BindText(q, 3, value);
  BindText(q, 4, source);
  BindText(q, 5, reason);
  sqlite3_bind_int64(q, 6, added);
  sqlite3_bind_int64(q, 7, expires);
  int rc = sqlite3_step(q);
  return rc == SQLITE_DONE ? Status::OK() : Error("list write", rc);
}

Status SqliteStore::Remove(int list, const std::string& what, size_t* removed) {
  std::lock_guard<std::mutex> lock(mu_);
  *removed = 0;
  auto body = [&]() -> Status {
    lists::IpRange range;
    std::string error, name;
    sqlite3_stmt* q = nullptr;
    if (lists::ParseRange(what, &range, &error)) {
      Status s2 = Prepare(kDelIp, &q);
      if (!s2.ok()) return s2;
      sqlite3_bind_int(q, 1, list);
      sqlite3_bind_int(q, 2, range.fam);
      BindBlob(q, 3, range.Lo());
      sqlite3_bind_int(q, 4, range.plen);
      int rc = sqlite3_step(q);
      if (rc != SQLITE_DONE) return Error("list write", rc);
      *removed = size_t(sqlite3_changes(db_.get()));
      return *removed ? RebuildIndex(list, range.fam, &range, 0) : Status::OK();
    }
    if (!lists::NormalizeEmail(what, &name) && !lists::NormalizeDomain(what, &name))
      return Status::InvalidArgument("'" + what + "' is not an IP, CIDR, e-mail address or domain");
    Status s2 = Prepare(kDelName, &q);
    if (!s2.ok()) return s2;
    sqlite3_bind_int(q, 1, list);
    BindText(q, 2, name);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE) return Error("list write", rc);
    *removed = size_t(sqlite3_changes(db_.get()));
    return Status::OK();
  };
  return Write(body);
}

Status SqliteStore::ReplaceSource(int list, const std::string& source, const std::vector<ImportEntry>& entries,
                                  int64_t added, int64_t expires) {
  std::lock_guard<std::mutex> lock(mu_);
  auto body = [&]() -> Status {
    sqlite3_stmt* q = nullptr;
    Status s2 = Prepare(kDelSourceIp, &q);
    if (!s2.ok()) return s2;
    sqlite3_bind_int(q, 1, list);
    BindText(q, 2, source);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE) return Error("list write", rc);
    // Entries that expired meanwhile go too.
    s2 = Prepare(kDelExpired, &q);
    if (!s2.ok()) return s2;
    sqlite3_bind_int(q, 1, list);
    sqlite3_bind_int64(q, 2, added);
    rc = sqlite3_step(q);
    if (rc != SQLITE_DONE) return Error("list write", rc);
    for (const auto& e : entries) {
      s2 = InsertIpEntry(list, e.range, source, e.reason, added, expires);
      if (!s2.ok()) return s2;
    }
    return RebuildAll(list, added);
  };
  Status st = Write(body);
  if (!st.ok()) return st;
  // A big import leaves a big WAL that every reader would search; copy it
  // into the database now rather than at some later commit.
  sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  return st;
}

Status SqliteStore::Entries(int list, const std::string* source, size_t limit, std::vector<ListEntry>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  out->clear();
  sqlite3_stmt* q = nullptr;
  std::vector<int64_t> ids;
  Status st = Prepare(kSelEntries, &q);
  if (!st.ok()) return st;
  sqlite3_bind_int(q, 1, list);
  sqlite3_bind_int64(q, 2, int64_t(std::min<size_t>(limit, size_t(INT64_MAX))));
  if (source) BindText(q, 3, *source);
  else sqlite3_bind_null(q, 3);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(q, 0));
  if (rc != SQLITE_DONE) return Error("list read", rc);
  for (int64_t id : ids) {
    ListEntry e;
    st = ReadEntry(id, &e);
    if (!st.ok()) return st;
    out->push_back(std::move(e));
  }
  return Status::OK();
}

}  // namespace spamguard::store

namespace spamguard::store {

Status SqliteStore::Prune(int64_t before, int64_t now, PruneCounts* out) {
  *out = PruneCounts();
  Status st = PruneHere(before, now, out);
  if (!st.ok() || is_rate_file_) return st;
  // Rate-limit states a day past mattering (`now` is in seconds).
  RateMap* m = nullptr;
  if (Map(false, &m).ok() && m) {
    int64_t freed = 0;
    st = m->Prune((now - 86400) * 1000, &freed);
    if (!st.ok()) return st;
    out->ratelimit += freed;
  }
  // Spent form tokens, in the file beside when there is one.
  SqliteStore* r = ExistingRates();
  if (!r) return Status::OK();
  PruneCounts rc;
  st = r->PruneHere(INT64_MIN, now, &rc);
  out->ratelimit += rc.ratelimit;
  return st;
}

Status SqliteStore::PruneHere(int64_t before, int64_t now, PruneCounts* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto del = [&](const char* sql, int64_t bound, int64_t* count) -> Status {
    sqlite3_stmt* q = nullptr;
    Status st = Prepare(sql, &q);
    if (!st.ok()) return st;
    sqlite3_bind_int64(q, 1, bound);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE) return Error("prune", rc);
    *count = sqlite3_changes(db_.get());
    return Status::OK();
  };
  return Write([&]() -> Status {
    Status st = del("DELETE FROM learned WHERE at < ?1", before, &out->learned);
    if (st.ok()) st = del("DELETE FROM reputation WHERE updated < ?1", before, &out->reputation);
    // A key whose allowance has been whole for a day and that was not over
    // its limit that day (the theoretical arrival time is in milliseconds).
    // (Both times are in milliseconds.)
    if (st.ok())
      st = del("DELETE FROM ratelimit WHERE tat < ?1 * 1000 AND last_over < ?1 * 1000", now - 86400, &out->ratelimit);
    // Form tokens past their lifetime (counted with the rate-limit keys).
    int64_t uses = 0;
    if (st.ok() && schema_ >= 6) st = del("DELETE FROM form_use WHERE expires < ?1", now, &uses);
    out->ratelimit += uses;
    // Entries whose time is up (rate-limit bans, expiring imports) go as
    // soon as they have expired, whatever the retention.
    if (st.ok()) st = del("DELETE FROM list_entry WHERE expires != 0 AND expires < ?1", now, &out->list_entries);
    if (st.ok() && out->list_entries > 0) st = RebuildAll(kAllow, now);
    if (st.ok() && out->list_entries > 0) st = RebuildAll(kBlock, now);
    return st;
  });
}

Status SqliteStore::FormSecrets(std::vector<FormSecret>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  out->clear();
  if (schema_ < 6) return Status::OK();  // an older file opened read-only: no secret yet
  return Read([&]() -> Status {
    sqlite3_stmt* q = nullptr;
    Status st = Prepare("SELECT id, key, created FROM form_secret ORDER BY id", &q);
    if (!st.ok()) return st;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      FormSecret f;
      f.id = sqlite3_column_int64(q, 0);
      f.key.assign(static_cast<const char*>(sqlite3_column_blob(q, 1)), size_t(sqlite3_column_bytes(q, 1)));
      f.created = sqlite3_column_int64(q, 2);
      out->push_back(std::move(f));
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? Status::OK() : Error("form secret read", rc);
  });
}

Status SqliteStore::AddFormSecret(const std::string& key, int64_t now, int64_t keep_seconds, bool first_only) {
  std::lock_guard<std::mutex> lock(mu_);
  if (read_only_) return Status::IOError("database " + path_ + " is read-only");
  return Write([&]() -> Status {
    sqlite3_stmt* q = nullptr;
    Status st;
    if (first_only) {
      st = Prepare("SELECT count(*) FROM form_secret", &q);
      if (!st.ok()) return st;
      int rc = sqlite3_step(q);
      int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
      sqlite3_reset(q);
      if (rc != SQLITE_ROW) return Error("form secret read", rc);
      if (n > 0) return Status::OK();  // another process made the first one
    }
    st = Prepare("INSERT INTO form_secret(key, created) VALUES(?1, ?2)", &q);
    if (!st.ok()) return st;
    BindBlob(q, 1, key);
    sqlite3_bind_int64(q, 2, now);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE) return Error("form secret write", rc);
    // A secret replaced more than keep_seconds ago verifies no token that
    // is still young enough to be accepted.
    st = Prepare(
        "DELETE FROM form_secret WHERE (SELECT min(b.created) FROM form_secret b WHERE b.id > form_secret.id) < ?1",
        &q);
    if (!st.ok()) return st;
    sqlite3_bind_int64(q, 1, now - keep_seconds);
    rc = sqlite3_step(q);
    return rc == SQLITE_DONE ? Status::OK() : Error("form secret write", rc);
  });
}

Status SqliteStore::CountUse(const std::string& key, int64_t expires, int64_t now, int64_t* uses) {
  *uses = 0;
  SqliteStore* r = nullptr;
  Status st = Rates(&r);
  return st.ok() ? r->CountUseHere(key, expires, now, uses) : st;
}

Status SqliteStore::CountUseHere(const std::string& key, int64_t expires, int64_t now, int64_t* uses) {
  std::lock_guard<std::mutex> lock(mu_);
  if (schema_ < 6) return Status::IOError("database " + path_ + ": schema version " + std::to_string(schema_) +
                                          " keeps no form tokens (opened read-only, so not upgraded)");
  return Write([&]() -> Status {
    sqlite3_stmt* q = nullptr;
    // Now and then forget a few spent tokens (prune forgets the rest).
    static thread_local std::minstd_rand rng(std::random_device{}());
    if (rng() % 256 == 0) {
      Status s2 = Prepare("DELETE FROM form_use WHERE key IN (SELECT key FROM form_use WHERE expires < ?1 LIMIT 64)", &q);
      if (!s2.ok()) return s2;
      sqlite3_bind_int64(q, 1, now);
      int rc = sqlite3_step(q);
      if (rc != SQLITE_DONE) return Error("form token expiry", rc);
    }
    Status st = Prepare(
        "INSERT INTO form_use(key, uses, expires) VALUES(?1, 1, ?2) "
        "ON CONFLICT(key) DO UPDATE SET uses = uses + 1, expires = max(expires, ?2) RETURNING uses",
        &q);
    if (!st.ok()) return st;
    BindBlob(q, 1, key);
    sqlite3_bind_int64(q, 2, expires);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
      *uses = sqlite3_column_int64(q, 0);
      rc = sqlite3_step(q);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? Status::OK() : Error("form token write", rc);
  });
}

Status SqliteStore::EachIp(int list, int64_t now, const std::function<Status(const lists::IpRange&, int64_t)>& each) {
  std::lock_guard<std::mutex> lock(mu_);
  return Read([&]() -> Status {
    sqlite3_stmt* q = nullptr;
    Status st = Prepare(
        "SELECT fam, lo, hi, plen, expires FROM list_entry WHERE list = ?1 AND kind = 0 AND fam = ?2 "
        "AND (expires = 0 OR expires > ?3) ORDER BY lo, plen",
        &q);
    if (!st.ok()) return st;
    for (int fam : {4, 6}) {
      sqlite3_bind_int(q, 1, list);
      sqlite3_bind_int(q, 2, fam);
      sqlite3_bind_int64(q, 3, now);
      int rc;
      while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        lists::IpRange r;
        r.fam = fam;
        size_t w = r.Width();
        if (size_t(sqlite3_column_bytes(q, 1)) != w || size_t(sqlite3_column_bytes(q, 2)) != w) continue;
        memcpy(r.lo.data(), sqlite3_column_blob(q, 1), w);
        memcpy(r.hi.data(), sqlite3_column_blob(q, 2), w);
        r.plen = sqlite3_column_int(q, 3);
        st = each(r, sqlite3_column_int64(q, 4));
        if (!st.ok()) break;
      }
      sqlite3_reset(q);
      if (!st.ok()) return st;
      if (rc != SQLITE_DONE) return Error("list read", rc);
    }
    return Status::OK();
  });
}

Status SqliteStore::ReplaceKeywords(const std::string& source, const std::vector<lists::KeywordEntry>& entries,
                                    int64_t* version) {
  std::lock_guard<std::mutex> lock(mu_);
  if (read_only_) return Status::IOError("database " + path_ + ": opened read-only");
  Status st = Write([&]() -> Status {
    sqlite3_stmt* q = nullptr;
    Status s2 = Prepare("DELETE FROM keyword WHERE source = ?1", &q);
    if (!s2.ok()) return s2;
    BindText(q, 1, source);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) return Error("keyword write", rc);
    s2 = Prepare("INSERT OR IGNORE INTO keyword(source, kind, entry, atoms) VALUES(?1, ?2, ?3, ?4)", &q);
    if (!s2.ok()) return s2;
    for (const auto& e : entries) {
      BindText(q, 1, source);
      sqlite3_bind_int(q, 2, e.kind);
      BindBlob(q, 3, e.entry);
      if (e.atoms.empty()) sqlite3_bind_null(q, 4);
      else BindBlob(q, 4, e.atoms);
      rc = sqlite3_step(q);
      sqlite3_reset(q);
      if (rc != SQLITE_DONE) return Error("keyword write", rc);
    }
    s2 = Prepare("UPDATE keyword_version SET version = version + 1 RETURNING version", &q);
    if (!s2.ok()) return s2;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *version = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? Status::OK() : Error("keyword write", rc);
  });
  if (st.ok()) sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  return st;
}

Status SqliteStore::Keywords(int kind, int64_t* version, std::vector<lists::KeywordEntry>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  out->clear();
  *version = 0;
  if (schema_ < 7) return Status::OK();
  return Read([&]() -> Status {
    sqlite3_stmt* q = nullptr;
    Status st = Prepare("SELECT version FROM keyword_version", &q);
    if (!st.ok()) return st;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *version = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (kind == 0) return Status::OK();
    st = Prepare("SELECT source, kind, entry, atoms FROM keyword WHERE kind = ?1", &q);
    if (!st.ok()) return st;
    sqlite3_bind_int(q, 1, kind);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      lists::KeywordEntry e;
      e.source = ColumnText(q, 0);
      e.kind = sqlite3_column_int(q, 1);
      e.entry = ColumnBlob(q, 2);
      e.atoms = ColumnBlob(q, 3);
      if (e.kind == lists::kPhrase || e.kind == lists::kLinkPattern) out->push_back(std::move(e));
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? Status::OK() : Error("keyword read", rc);
  });
}

Status SqliteStore::Stats(int64_t now, StoreStats* out) {
  std::lock_guard<std::mutex> lock(mu_);
  *out = StoreStats();
  out->path = path_;
  out->read_only = access(path_.c_str(), W_OK) != 0;  // the file itself, not how it was opened
  struct stat sb;
  if (::stat(path_.c_str(), &sb) == 0) out->file_bytes = int64_t(sb.st_size);
  auto each = [&](const char* sql, const std::function<void(sqlite3_stmt*)>& row) -> Status {
    sqlite3_stmt* q = nullptr;
    Status s = Prepare(sql, &q);
    if (!s.ok()) return s;
    if (sqlite3_bind_parameter_count(q) > 0) sqlite3_bind_int64(q, 1, now);  // the list counts split on expiry
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) row(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? Status::OK() : Error("stats", rc);
  };
  // Counted in one read transaction, so the figures agree with each other.
  Status counted = Read([&]() -> Status {
    Status st = each("PRAGMA user_version", [&](sqlite3_stmt* q) { out->schema_version = sqlite3_column_int(q, 0); });
    if (st.ok())
      st = each(
          "SELECT list, kind, SUM(expires=0 OR expires>?1), SUM(expires>0 AND expires<=?1) FROM list_entry "
          "GROUP BY list, kind ORDER BY list, kind",
          [&](sqlite3_stmt* q) {
            StoreStats::Lists l;
            l.list = sqlite3_column_int(q, 0);
            l.kind = sqlite3_column_int(q, 1) + 1;
            l.active = sqlite3_column_int64(q, 2);
            l.expired = sqlite3_column_int64(q, 3);
            out->lists.push_back(l);
          });
    if (st.ok())
      st = each(
          "SELECT list, source, COUNT(*) AS n FROM list_entry GROUP BY list, source ORDER BY n DESC, "
          "list, source LIMIT 50",
          [&](sqlite3_stmt* q) {
            StoreStats::Source src;
            src.list = sqlite3_column_int(q, 0);
            src.source = ColumnText(q, 1);
            src.entries = sqlite3_column_int64(q, 2);
            out->sources.push_back(std::move(src));
          });
    if (st.ok())
      st = each("SELECT COUNT(*), TOTAL(spam), TOTAL(ham) FROM reputation", [&](sqlite3_stmt* q) {
        out->reputation_keys = sqlite3_column_int64(q, 0);
        out->reputation_spam = Count(sqlite3_column_double(q, 1));
        out->reputation_ham = Count(sqlite3_column_double(q, 2));
      });
    if (st.ok())
      st = each("SELECT label, COUNT(*) FROM learned GROUP BY label", [&](sqlite3_stmt* q) {
        (sqlite3_column_int(q, 0) == 1 ? out->learned_spam : out->learned_ham) = sqlite3_column_int64(q, 1);
      });
    if (st.ok() && schema_ >= 5) st = ReadLearner(&out->learner, nullptr);
    if (st.ok() && schema_ >= 6)
      st = each("SELECT COUNT(*), COALESCE(MAX(created), 0) FROM form_secret", [&](sqlite3_stmt* q) {
        out->form_secrets = sqlite3_column_int64(q, 0);
        out->form_secret_newest = sqlite3_column_int64(q, 1);
      });
    if (st.ok() && schema_ >= 7)
      st = each("SELECT source, kind, COUNT(*) FROM keyword GROUP BY source, kind ORDER BY source, kind",
                [&](sqlite3_stmt* q) {
                  out->keyword_sources.push_back(
                      {ColumnText(q, 0), sqlite3_column_int(q, 1), sqlite3_column_int64(q, 2)});
                });
    return st;
  });
  if (!counted.ok()) return counted;
  out->ratelimit_path = path_ + RateMap::kSuffix;
  RateMap* m = nullptr;
  Status ms = Map(false, &m);
  if (!ms.ok()) out->ratelimit_error = ms.message();
  if (ms.ok() && m) {
    ms = m->Count(&out->ratelimit_keys);
    if (!ms.ok()) return ms;
  }
  // Form tokens are counted in the file beside, when there is one.
  SqliteStore* r = ExistingRates();
  return r ? r->CountFormTokens(&out->form_tokens) : Status::OK();
}

Status SqliteStore::CountFormTokens(int64_t* tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  *tokens = 0;
  if (schema_ < 6) return Status::OK();
  sqlite3_stmt* q = nullptr;
  Status st = Prepare("SELECT COUNT(*) FROM form_use", &q);
  if (!st.ok()) return st;
  int rc = sqlite3_step(q);
  if (rc != SQLITE_ROW) return Error("stats", rc);
  *tokens = sqlite3_column_int64(q, 0);
  sqlite3_reset(q);
  return Status::OK();
}

}  // namespace spamguard::store

namespace spamguard::store {

Status SqliteStore::EachRecord(const std::function<Status(const StoreRecord&)>& each) {
  Status st = EachEntryRecord(this, each);
  if (!st.ok()) return st;
  // Read whole first (the callback may write elsewhere), then handed on.
  std::vector<StoreRecord> records;
  auto rows = [&](SqliteStore* s, const char* sql, const std::function<void(sqlite3_stmt*)>& row) -> Status {
    std::lock_guard<std::mutex> lock(s->mu_);
    return s->Read([&]() -> Status {
      sqlite3_stmt* q = nullptr;
      Status s2 = s->Prepare(sql, &q);
      if (!s2.ok()) return s2;
      int rc;
      while ((rc = sqlite3_step(q)) == SQLITE_ROW) row(q);
      sqlite3_reset(q);
      return rc == SQLITE_DONE ? Status::OK() : s->Error("copy read", rc);
    });
  };
  st = rows(this, "SELECT key, spam, ham, updated FROM reputation", [&](sqlite3_stmt* q) {
    StoreRecord r;
    r.type = StoreRecord::kReputation;
    r.key = ColumnBlob(q, 0);
    r.rep = RepCounts{Count(sqlite3_column_double(q, 1)), Count(sqlite3_column_double(q, 2)), sqlite3_column_int64(q, 3)};
    records.push_back(std::move(r));
  });
  if (st.ok() && schema_ >= 5)
    st = rows(this, "SELECT cid, label, keys, at, tokens FROM learned", [&](sqlite3_stmt* q) {
      StoreRecord r;
      r.type = StoreRecord::kLearned;
      r.key = ColumnText(q, 0);
      r.label = sqlite3_column_int(q, 1);
      r.keys = DecodeKeys(ColumnBlob(q, 2));
      r.at = sqlite3_column_int64(q, 3);
      r.tokens = DecodeTokens(ColumnBlob(q, 4));
      records.push_back(std::move(r));
    });
  if (!st.ok()) return st;
  RateMap* m = nullptr;
  if (Map(false, &m).ok() && m) {
    st = m->Each([&](const std::string& key, int64_t tat, int64_t over_since, int64_t last_over) {
      StoreRecord r;
      r.type = StoreRecord::kRate;
      r.key = key;
      r.tat = tat;
      r.over_since = over_since;
      r.last_over = last_over;
      records.push_back(std::move(r));
    });
    if (!st.ok()) return st;
  }
  for (const auto& r : records) {
    st = each(r);
    if (!st.ok()) return st;
  }
  return EachLearnerFormAndKeywordRecord(this, each);
}

Status SqliteStore::PutRecords(const std::vector<StoreRecord>& records) {
  if (read_only_) return Status::IOError("database " + path_ + " is read-only");
  std::map<std::string, std::vector<lists::KeywordEntry>> keywords;
  std::vector<const StoreRecord*> rates;
  Status st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (schema_ < kSchemaVersion) return Status::IOError("database " + path_ + ": an older schema");
    st = Write([&]() -> Status {
      bool any_ip = false;
      for (const auto& r : records) {
        sqlite3_stmt* q = nullptr;
        Status s2;
        int rc = SQLITE_DONE;
        switch (r.type) {
          case StoreRecord::kEntry: {
            const ListEntry& e = r.entry;
            if (e.kind == 1) {
              lists::IpRange range;
              std::string err;
              if (!lists::ParseRange(e.what, &range, &err))
                return Status::InvalidArgument("entry '" + e.what + "': " + err);
              s2 = InsertIpEntry(e.list, range, e.source, e.reason, e.added, e.expires);
              any_ip = true;
              break;
            }
            s2 = Prepare(kInsName, &q);
            if (!s2.ok()) return s2;
            sqlite3_bind_int(q, 1, e.list);
            sqlite3_bind_int(q, 2, e.kind - 1);
            BindText(q, 3, e.what);
            BindText(q, 4, e.source);
            BindText(q, 5, e.reason);
            sqlite3_bind_int64(q, 6, e.added);
            sqlite3_bind_int64(q, 7, e.expires);
            rc = sqlite3_step(q);
            break;
          }
          case StoreRecord::kReputation:
            s2 = Prepare(kUpsertRep, &q);
            if (!s2.ok()) return s2;
            BindBlob(q, 1, r.key);
            sqlite3_bind_double(q, 2, Count(r.rep.spam));
            sqlite3_bind_double(q, 3, Count(r.rep.ham));
            sqlite3_bind_int64(q, 4, r.rep.updated);
            rc = sqlite3_step(q);
            break;
          case StoreRecord::kLearned:
            s2 = Prepare(kUpsertLearned, &q);
            if (!s2.ok()) return s2;
            BindText(q, 1, r.key);
            sqlite3_bind_int(q, 2, r.label);
            BindBlob(q, 3, EncodeKeys(r.keys));
            sqlite3_bind_int64(q, 4, r.at);
            BindBlob(q, 5, EncodeTokens(r.tokens));
            rc = sqlite3_step(q);
            break;
          case StoreRecord::kLearner:
            s2 = Prepare("UPDATE learner SET spam = ?1, ham = ?2 WHERE id = 1", &q);
            if (!s2.ok()) return s2;
            sqlite3_bind_int64(q, 1, r.learner.spam);
            sqlite3_bind_int64(q, 2, r.learner.ham);
            rc = sqlite3_step(q);
            break;
          case StoreRecord::kToken:
            s2 = Prepare("INSERT OR REPLACE INTO token(h, spam, ham, seen) VALUES(?1, ?2, ?3, 0)", &q);
            if (!s2.ok()) return s2;
            sqlite3_bind_int64(q, 1, int64_t(r.token));
            sqlite3_bind_int64(q, 2, r.counts.spam);
            sqlite3_bind_int64(q, 3, r.counts.ham);
            rc = sqlite3_step(q);
            break;
          case StoreRecord::kRate:
            rates.push_back(&r);
            break;
          case StoreRecord::kFormSecret:
            s2 = Prepare("INSERT OR REPLACE INTO form_secret(id, key, created) VALUES(?1, ?2, ?3)", &q);
            if (!s2.ok()) return s2;
            sqlite3_bind_int64(q, 1, r.secret.id);
            BindBlob(q, 2, r.secret.key);
            sqlite3_bind_int64(q, 3, r.secret.created);
            rc = sqlite3_step(q);
            break;
          case StoreRecord::kKeyword:
            keywords[r.keyword.source].push_back(r.keyword);
            break;
        }
        if (!s2.ok()) return s2;
        if (rc != SQLITE_DONE) return Error("copy write", rc);
      }
      sqlite3_stmt* q = nullptr;
      Status s2 = Prepare("UPDATE learner SET tokens = (SELECT COUNT(*) FROM token) WHERE id = 1", &q);
      if (!s2.ok()) return s2;
      if (sqlite3_step(q) != SQLITE_DONE) return Error("copy write", sqlite3_errcode(db_.get()));
      if (any_ip) {
        s2 = RebuildAll(kAllow, 0);
        if (s2.ok()) s2 = RebuildAll(kBlock, 0);
      }
      return s2;
    });
  }
  if (!st.ok()) return st;
  if (!rates.empty()) {
    RateMap* m = nullptr;
    st = Map(true, &m);
    if (!st.ok()) return st;
    for (const StoreRecord* rec : rates) {
      st = m->Put(rec->key, rec->tat, rec->over_since, rec->last_over);
      if (!st.ok()) return st;
    }
  }
  for (const auto& [source, entries] : keywords) {
    int64_t version = 0;
    st = ReplaceKeywords(source, entries, &version);
    if (!st.ok()) return st;
  }
  return Status::OK();
}

}  // namespace spamguard::store
