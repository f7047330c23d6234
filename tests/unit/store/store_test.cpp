#include <boost/test/unit_test.hpp>

#include "../test_util.h"

#include <sqlite3.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "lists/ip_range.h"
#include "store/sqlite_store.h"

using namespace spamguard;
using namespace spamguard::store;

namespace {

using sgtest::TempDir;

// Another connection holding an exclusive lock on the database at `path`
// for as long as it lives.
struct HeldLock {
  sqlite3* db = nullptr;
  explicit HeldLock(const std::string& path) {
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    BOOST_REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  ~HeldLock() {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
};

// Runs f in a child process as the unprivileged user 65534 (the caller is
// root); its result, or -1 when the child did not exit normally.
int AsNobody(const std::function<int()>& f) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
    _exit(f());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::unique_ptr<SqliteStore> MustOpen(const std::string& path, int busy_ms = 2000) {
  std::unique_ptr<SqliteStore> s;
  SqliteOptions o;
  o.busy_timeout_ms = busy_ms;
  Status st = SqliteStore::Open(path, o, &s);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  return s;
}

lists::IpRange R(const std::string& text) {
  lists::IpRange r;
  std::string err;
  BOOST_REQUIRE_MESSAGE(lists::ParseRange(text, &r, &err), text << ": " << err);
  return r;
}

std::string Match(SqliteStore& s, int list, const std::string& ip, int64_t now = 1000) {
  ListEntry e;
  bool found = false;
  Status st = s.MatchIp(list, R(ip), now, &e, &found);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  return found ? e.what + "|" + e.source + "|" + e.reason : "";
}

void Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, (err ? err : "?"));
  sqlite3_close(db);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store)

// A folder with the set-group-ID bit is how an admin shares the state with
// the web server's group: the file (and SQLite's -wal and -shm after it) is
// made readable and writable by the group.
BOOST_AUTO_TEST_CASE(a_setgid_folder_shares_the_file_with_its_group) {
  TempDir d;
  BOOST_REQUIRE(chmod(d.path.c_str(), 02770) == 0);
  auto s = MustOpen(d.File("shared.db"));
  BOOST_REQUIRE(s->AddIp(kBlock, R("192.0.2.0/24"), "t", "", 1, 0).ok());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st;
    BOOST_REQUIRE(stat((d.File("shared.db") + suffix).c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0660u, "shared.db" << suffix);
  }
}

// A file this user cannot reach is "permission denied", never "no such file".
BOOST_AUTO_TEST_CASE(unreachable_is_not_missing) {
  TempDir d;
  BOOST_TEST(MissingDatabase(d.File("none.db")).find("no such file") != std::string::npos);
  if (geteuid() == 0) return;  // root reaches everything; the package test checks this as www-data
  BOOST_REQUIRE(mkdir(d.File("locked").c_str(), 0700) == 0);
  BOOST_REQUIRE(chmod(d.File("locked").c_str(), 0) == 0);
  BOOST_TEST(MissingDatabase(d.File("locked") + "/x.db").find("permission denied") != std::string::npos);
  chmod(d.File("locked").c_str(), 0700);
}

BOOST_AUTO_TEST_CASE(creates_a_private_wal_file) {
  TempDir d;
  auto s = MustOpen(d.File("a.db"));
  struct stat st;
  BOOST_REQUIRE(stat(d.File("a.db").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_TEST(!s->read_only());
  // A write makes the WAL and shared-memory files; they get the same mode.
  BOOST_REQUIRE(s->AddIp(kBlock, R("192.0.2.0/24"), "t", "", 1, 0).ok());
  for (const char* suffix : {"-wal", "-shm"}) {
    BOOST_REQUIRE(stat((d.File("a.db") + suffix).c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u, suffix);
  }
  sqlite3* db = nullptr;
  sqlite3_open(d.File("a.db").c_str(), &db);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, nullptr);
  BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  BOOST_TEST(std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 0))) == "wal");
  sqlite3_finalize(q);
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, nullptr);
  BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  BOOST_TEST(sqlite3_column_int(q, 0) == SqliteStore::kSchemaVersion);
  sqlite3_finalize(q);
  sqlite3_close(db);
}

BOOST_AUTO_TEST_CASE(migrates_a_version_1_file) {
  TempDir d;
  std::string path = d.File("v1.db");
  // The version-1 schema, as the first release wrote it, with data.
  Sql(path,
      "CREATE TABLE list_entry(id INTEGER PRIMARY KEY, list INTEGER NOT NULL, kind INTEGER NOT NULL,"
      " fam INTEGER, lo BLOB, plen INTEGER, value TEXT, source TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
      " added INTEGER NOT NULL);"
      "CREATE INDEX list_entry_ip ON list_entry(list, fam, lo);"
      "CREATE INDEX list_entry_name ON list_entry(kind, value);"
      "CREATE INDEX list_entry_source ON list_entry(list, source);"
      "CREATE TABLE reputation(key BLOB PRIMARY KEY, spam REAL NOT NULL, ham REAL NOT NULL,"
      " updated INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE learned(cid TEXT PRIMARY KEY, label INTEGER NOT NULL, keys BLOB NOT NULL,"
      " at INTEGER NOT NULL) WITHOUT ROWID;"
      "INSERT INTO list_entry(list, kind, fam, lo, plen, source, reason, added)"
      " VALUES(2, 0, 4, x'C0000200', 24, 'old', 'v1 entry', 1);"
      "INSERT INTO reputation VALUES(x'01', 3, 1, 10);"
      "PRAGMA user_version=1;");
  auto s = MustOpen(path);
  BOOST_TEST(Match(*s, kBlock, "192.0.2.77") == "192.0.2.0/24|old|v1 entry");
  std::vector<RepCounts> c;
  BOOST_REQUIRE(s->GetReputation({std::string("\x01", 1)}, &c).ok());
  BOOST_TEST(c[0].spam == 3.0);
  BOOST_REQUIRE(s->AddIp(kBlock, R("192.0.2.0/26"), "new", "", 2, 0).ok());
  BOOST_TEST(Match(*s, kBlock, "192.0.2.7") == "192.0.2.0/26|new|");
}

BOOST_AUTO_TEST_CASE(newer_schema_is_refused) {
  TempDir d;
  Sql(d.File("future.db"), "PRAGMA user_version=99;");
  std::unique_ptr<SqliteStore> s;
  Status st = SqliteStore::Open(d.File("future.db"), SqliteOptions(), &s);
  BOOST_TEST(!st.ok());
  BOOST_TEST(st.message().find("schema version 99 is newer") != std::string::npos, st.message());
}

BOOST_AUTO_TEST_CASE(corrupt_and_truncated_files_give_clear_errors) {
  TempDir d;
  std::ofstream(d.File("junk.db")) << "this is not a database, just text that is long enough to look like a header";
  std::unique_ptr<SqliteStore> s;
  Status st = SqliteStore::Open(d.File("junk.db"), SqliteOptions(), &s);
  BOOST_TEST(st.code() == SG_EIO);
  BOOST_TEST(st.message().find("junk.db") != std::string::npos, st.message());
  BOOST_TEST(st.message().find("not a database") != std::string::npos, st.message());

  // A real database cut in half.
  {
    auto good = MustOpen(d.File("cut.db"));
    std::vector<ImportEntry> many;
    for (int i = 0; i < 5000; ++i) {
      comment::IpAddress a;
      a.bytes = {10, uint8_t(i >> 8), uint8_t(i), 0};
      many.push_back({lists::Network(a, 24), "r"});
    }
    BOOST_REQUIRE(good->ReplaceSource(kBlock, "x", many, 1, 0).ok());
  }
  Sql(d.File("cut.db"), "PRAGMA wal_checkpoint(TRUNCATE);");
  struct stat sb;
  BOOST_REQUIRE(stat(d.File("cut.db").c_str(), &sb) == 0);
  BOOST_REQUIRE(truncate(d.File("cut.db").c_str(), sb.st_size / 2) == 0);
  unlink((d.File("cut.db") + "-wal").c_str());
  unlink((d.File("cut.db") + "-shm").c_str());
  st = SqliteStore::Open(d.File("cut.db"), SqliteOptions(), &s);
  if (st.ok()) {
    // The header may survive; then lookups must fail cleanly, not crash.
    ListEntry e;
    bool found = false;
    Status m = s->MatchIp(kBlock, R("10.19.135.1"), 2, &e, &found);
    BOOST_TEST((m.ok() || m.code() == SG_EIO), m.message());
    BOOST_TEST_MESSAGE("truncated file: open ok, lookup: " << (m.ok() ? "ok" : m.message()));
  } else {
    BOOST_TEST(st.code() == SG_EIO);
    BOOST_TEST_MESSAGE("truncated file: " << st.message());
  }
}

// Checks, as the current user, that a read-only file still answers
// lookups and refuses writes with a clear error. Returns a failure count.
int ReadOnlyChecks(const std::string& path) {
  int failures = 0;
  std::unique_ptr<SqliteStore> s;
  Status st = SqliteStore::Open(path, SqliteOptions(), &s);
  if (!st.ok()) return fprintf(stderr, "open: %s\n", st.message().c_str()), 1;
  failures += !s->read_only();
  ListEntry e;
  bool found = false;
  failures += !(s->MatchIp(kBlock, R("192.0.2.1"), 1, &e, &found).ok() && found);
  st = s->AddIp(kBlock, R("198.51.100.0/24"), "admin", "", 1, 0);
  failures += st.code() != SG_EIO || st.message().find("read-only") == std::string::npos;
  LearnOp op;
  op.cid = "c";
  op.label = 1;
  op.keys = {"k"};
  LearnOutcome out;
  failures += s->Learn(op, &out).code() != SG_EIO;
  return failures;
}

BOOST_AUTO_TEST_CASE(read_only_file_reads_but_refuses_writes) {
  TempDir d;
  std::string path = d.File("ro.db");
  {
    auto s = MustOpen(path);
    BOOST_REQUIRE(s->AddIp(kBlock, R("192.0.2.0/24"), "admin", "", 1, 0).ok());
  }
  Sql(path, "PRAGMA journal_mode=DELETE;");
  BOOST_REQUIRE(chmod(path.c_str(), 0444) == 0);
  if (geteuid() != 0) {
    BOOST_TEST(ReadOnlyChecks(path) == 0);
    return;
  }
  // root writes anything: check as an unprivileged user in a child.
  BOOST_REQUIRE(chmod(d.path.c_str(), 0755) == 0);
  BOOST_TEST(AsNobody([&] { return ReadOnlyChecks(path); }) == 0);
}

BOOST_AUTO_TEST_CASE(a_lock_held_past_the_busy_timeout_is_a_busy_error) {
  TempDir d;
  std::string path = d.File("lock.db");
  auto s = MustOpen(path, 200);
  auto other = std::make_unique<HeldLock>(path);
  LearnOp op;
  op.cid = "c";
  op.label = 1;
  op.keys = {"k"};
  op.now = 1;
  LearnOutcome out;
  auto t0 = std::chrono::steady_clock::now();
  Status st = s->Learn(op, &out);
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST(st.code() == SG_EBUSY);
  BOOST_TEST(st.message().find("lock") != std::string::npos, st.message());
  BOOST_TEST(waited >= 0.15);  // it did wait for the timeout first
  // Readers are not blocked by a writer in WAL mode.
  ListEntry e;
  bool found = false;
  BOOST_TEST(s->MatchIp(kBlock, R("192.0.2.1"), 1, &e, &found).ok());
  other.reset();
  BOOST_TEST(s->Learn(op, &out).ok());
}

// A long write to the database (an import holds its lock for seconds) does
// not hold up rate checks: their state is in a map of its own.
BOOST_AUTO_TEST_CASE(rate_checks_do_not_wait_for_database_writers) {
  TempDir d;
  std::string path = d.File("r.db");
  auto s = MustOpen(path, 2000);
  HeldLock other(path);
  RateKey k;
  k.key = "rl\x1fip 1/60s\x1f" "192.0.2.1";
  k.interval_ms = 60000;
  k.period_ms = 60000;
  RateDecision dec;
  auto t0 = std::chrono::steady_clock::now();
  Status st = s->RateCheck({k}, 1'000'000, &dec);
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST(st.ok(), st.message());
  BOOST_TEST(dec.allowed);
  BOOST_TEST(waited < 1.0);  // not the 2 s busy timeout
  BOOST_TEST(s->RateCheck({k}, 1'000'001, &dec).ok());
  BOOST_TEST(!dec.allowed);
  struct stat sb;
  BOOST_TEST(::stat((path + RateMap::kSuffix).c_str(), &sb) == 0);
}

namespace {
Status OpenWith(const std::string& path, bool check_owner, bool read_only = false) {
  std::unique_ptr<SqliteStore> s;
  SqliteOptions o;
  o.check_owner = check_owner;
  o.read_only = read_only;
  return SqliteStore::Open(path, o, &s);
}
}  // namespace

// A database file a local attacker could have planted or changed is
// refused: a symbolic link (never followed), a file of another user, a
// file others may write -- unless it is the shared set-group-ID folder's.
BOOST_AUTO_TEST_CASE(planted_database_files_are_refused) {
  TempDir d;
  std::string victim = d.File("victim");
  std::ofstream(victim) << "not a database\n";
  BOOST_REQUIRE(::symlink(victim.c_str(), d.File("link.db").c_str()) == 0);
  Status st = OpenWith(d.File("link.db"), true);
  BOOST_TEST(st.code() == SG_EIO);
  BOOST_TEST(st.message().find("symbolic link") != std::string::npos, st.message());
  st = OpenWith(d.File("link.db"), false);  // never followed, even unchecked
  BOOST_TEST(!st.ok());
  std::ifstream in(victim);
  std::string line;
  std::getline(in, line);
  BOOST_TEST(line == "not a database");  // untouched
  { MustOpen(d.File("ww.db")); }
  BOOST_REQUIRE(chmod(d.File("ww.db").c_str(), 0666) == 0);
  st = OpenWith(d.File("ww.db"), true);
  BOOST_TEST(st.message().find("writable by every user") != std::string::npos, st.message());
  BOOST_REQUIRE(chmod(d.File("ww.db").c_str(), 0660) == 0);
  st = OpenWith(d.File("ww.db"), true);
  BOOST_TEST(st.message().find("writable by its group") != std::string::npos, st.message());
  BOOST_TEST(OpenWith(d.File("ww.db"), false).ok());  // database_check_owner 0
  if (geteuid() == 0) {
    // An empty file another user made, in a folder anyone may write.
    { std::ofstream(d.File("planted.db")); }
    BOOST_REQUIRE(chown(d.File("planted.db").c_str(), 65534, 65534) == 0);
    BOOST_REQUIRE(chmod(d.File("planted.db").c_str(), 0644) == 0);
    st = OpenWith(d.File("planted.db"), true);
    BOOST_TEST(st.message().find("belongs to another user") != std::string::npos, st.message());
    // The shared folder: root:group 2770 with files of that group.
    std::string shared = d.File("shared");
    BOOST_REQUIRE(mkdir(shared.c_str(), 0770) == 0);
    BOOST_REQUIRE(chown(shared.c_str(), 0, 65534) == 0);
    BOOST_REQUIRE(chmod(shared.c_str(), 02770) == 0);
    { MustOpen(shared + "/s.db"); }
    BOOST_REQUIRE(chown((shared + "/s.db").c_str(), 65534, 65534) == 0);
    BOOST_TEST(OpenWith(shared + "/s.db", true).ok());
  }
}

// A read-only user opens a database in WAL mode whose log the last writer
// emptied when it closed (the -wal and -shm files are kept between
// processes, so that a CGI request does not make them anew) in a folder it
// cannot write, and whose -shm it may not open.
BOOST_AUTO_TEST_CASE(a_read_only_user_reads_a_wal_database_without_its_shm) {
  if (geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: needs root to test as another user");
    return;
  }
  TempDir d;
  std::string path = d.File("w.db");
  {
    auto s = MustOpen(path);
    BOOST_REQUIRE(s->AddIp(kBlock, R("192.0.2.0/24"), "admin", "", 1, 0).ok());
  }
  struct stat sb;
  BOOST_REQUIRE(::stat((path + "-wal").c_str(), &sb) == 0 && sb.st_size == 0);  // closed cleanly: the log emptied
  BOOST_REQUIRE(::stat((path + "-shm").c_str(), &sb) == 0 && (sb.st_mode & 0077) == 0);  // kept, private
  BOOST_REQUIRE(chmod(path.c_str(), 0644) == 0);
  BOOST_REQUIRE(chmod(d.path.c_str(), 0755) == 0);
  int rc = AsNobody([&] {
    std::unique_ptr<SqliteStore> s;
    SqliteOptions o;
    o.read_only = true;
    if (!SqliteStore::Open(path, o, &s).ok()) return 1;
    ListEntry e;
    bool found = false;
    if (!s->MatchIp(kBlock, R("192.0.2.9"), 1, &e, &found).ok() || !found) return 2;
    return 0;
  });
  BOOST_TEST(rc == 0);
}

// Rate state is bounded: states that no longer matter are pruned, and a
// flood of more addresses than the map holds gives up the oldest states
// first, never a recent one.
BOOST_AUTO_TEST_CASE(rate_state_is_bounded_and_gives_up_the_oldest_first) {
  TempDir d;
  auto s = MustOpen(d.File("e.db"));
  auto key = [](int i) {
    RateKey k;
    k.key = "rl\x1fip 1/60s burst 1\x1f" + std::to_string(i);
    k.interval_ms = 60000;
    k.period_ms = 60000;
    return k;
  };
  const int64_t t0 = 1'700'000'000'000;
  RateDecision dec;
  for (int i = 0; i < 2000; ++i) BOOST_REQUIRE(s->RateCheck({key(i)}, t0, &dec).ok());
  StoreStats st;
  BOOST_REQUIRE(s->Stats(t0 / 1000, &st).ok());
  BOOST_TEST(st.ratelimit_keys == 2000);
  BOOST_TEST(st.ratelimit_path == d.File("e.db") + RateMap::kSuffix);
  // A day and a minute later nothing of them matters: prune frees them all.
  PruneCounts pc;
  BOOST_REQUIRE(s->Prune(0, t0 / 1000 + 86400 + 61, &pc).ok());
  BOOST_TEST(pc.ratelimit == 2000);
  BOOST_REQUIRE(s->Stats(t0 / 1000, &st).ok());
  BOOST_TEST(st.ratelimit_keys == 0);
  // 100,000 addresses, one a millisecond, each allowed once.
  const int64_t t1 = t0 + 2 * 86400000;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    BOOST_REQUIRE(s->RateCheck({key(100000 + i)}, t1 + i, &dec).ok());
    if (!dec.allowed) BOOST_FAIL("address " << i << " refused on its first comment");
  }
  BOOST_REQUIRE(s->Stats(t1 / 1000, &st).ok());
  BOOST_TEST(st.ratelimit_keys <= int64_t(RateMap::kSlots));
  BOOST_TEST(st.ratelimit_keys > 60000);  // a bucket holds 16 of the 65,536
  // The newest 20,000 are all remembered: a second comment is refused.
  int refused = 0;
  for (int i = n - 20000; i < n; ++i) {
    BOOST_REQUIRE(s->RateCheck({key(100000 + i)}, t1 + n, &dec).ok());
    refused += !dec.allowed;
  }
  BOOST_TEST(refused == 20000);
  // The first thousand were given up for room: they start whole.
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    BOOST_REQUIRE(s->RateCheck({key(100000 + i)}, t1 + n, &dec).ok());
    allowed += dec.allowed;
  }
  BOOST_TEST(allowed == 1000);
}

namespace {
RateKey Limit(const std::string& who, int64_t count, int64_t period_ms) {
  RateKey k;
  k.key = "rl\x1fip " + std::to_string(count) + "/1h\x1f" + who;
  k.interval_ms = period_ms / count;
  k.tolerance_ms = (count - 1) * k.interval_ms;
  k.period_ms = period_ms;
  return k;
}

// Forks `n` children running f(i); the exit codes, in order (-1: killed).
std::vector<int> InChildren(int n, const std::function<int(int)>& f) {
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid == 0) _exit(f(i));
    pids.push_back(pid);
  }
  std::vector<int> codes;
  for (pid_t p : pids) {
    int status = 0;
    waitpid(p, &status, 0);
    codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return codes;
}

// A map's bytes, mapped for writing from outside the store.
struct Mapped {
  void* p = MAP_FAILED;
  size_t n = 0;
  explicit Mapped(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR);
    struct stat st;
    if (fd >= 0 && ::fstat(fd, &st) == 0) {
      n = size_t(st.st_size);
      p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    if (fd >= 0) ::close(fd);
  }
  ~Mapped() {
    if (p != MAP_FAILED) ::munmap(p, n);
  }
  char* at(size_t off) { return static_cast<char*>(p) + off; }
};
}  // namespace

// Eight processes charge one key at once: exactly its burst is allowed,
// not one more (no lost update between processes).
BOOST_AUTO_TEST_CASE(rate_map_shared_by_processes_loses_no_update) {
  TempDir d;
  const std::string path = d.File("p.db");
  MustOpen(path);
  const int64_t now = 1'700'000'000'000;
  std::vector<int> codes = InChildren(8, [&](int) {
    std::unique_ptr<SqliteStore> s;
    if (!SqliteStore::Open(path, SqliteOptions(), &s).ok()) return 255;
    int allowed = 0;
    for (int i = 0; i < 300; ++i) {
      RateDecision dec;
      if (!s->RateCheck({Limit("192.0.2.1", 1000, 3600000), Limit("net", 5000, 3600000)}, now, &dec).ok()) return 254;
      allowed += dec.allowed;
    }
    return allowed / 4;  // fits an exit code; 300 checks, so at most 75
  });
  // Each child's count is a multiple of 4 only by chance: count again, exactly,
  // from the state itself.
  for (int c : codes) BOOST_TEST(c >= 0);
  for (int c : codes) BOOST_TEST(c < 254);
  auto s = MustOpen(path);
  std::vector<RateState> st;
  BOOST_REQUIRE(s->RatePeek({Limit("192.0.2.1", 1000, 3600000), Limit("net", 5000, 3600000)}, &st).ok());
  // 1,000 allowed by the address's limit, each charging both keys once.
  BOOST_TEST(st[0].have);
  BOOST_TEST(st[0].tat == now + 1000 * 3600);
  BOOST_TEST(st[1].tat == now + 1000 * 720);
  RateDecision dec;
  BOOST_REQUIRE(s->RateCheck({Limit("192.0.2.1", 1000, 3600000)}, now, &dec).ok());
  BOOST_TEST(!dec.allowed);
}

// A process killed while it holds a lock of the map holds up no one: the
// next taker finds it marked and goes on.
BOOST_AUTO_TEST_CASE(a_process_killed_holding_the_rate_lock_stops_no_one) {
  TempDir d;
  const std::string path = d.File("k.db");
  auto s = MustOpen(path);
  RateDecision dec;
  BOOST_REQUIRE(s->RateCheck({Limit("192.0.2.1", 5, 3600000)}, 1000, &dec).ok());
  int ready[2];
  BOOST_REQUIRE(::pipe(ready) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    Mapped m(path + RateMap::kSuffix);
    for (uint32_t i = 0; i < RateMap::kStripes; ++i)
      pthread_mutex_lock(reinterpret_cast<pthread_mutex_t*>(m.at(RateMap::StripeOffset(i))));
    (void)!::write(ready[1], "x", 1);
    ::pause();
    _exit(0);
  }
  char c;
  BOOST_REQUIRE(::read(ready[0], &c, 1) == 1);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::alarm(20);  // a hang fails the test
  for (int i = 0; i < 100; ++i) {
    Status st = s->RateCheck({Limit("192.0.2." + std::to_string(i), 5, 3600000)}, 1000, &dec);
    BOOST_TEST(st.ok(), st.message());
  }
  PruneCounts pc;
  BOOST_TEST(s->Prune(0, 1, &pc).ok());  // takes every lock
  ::alarm(0);
  ::close(ready[0]);
  ::close(ready[1]);
}

// A lock left held in the file by the machine's last boot (here: made to
// look held by a thread that does not exist) is set up again at the first
// open of a new boot.
BOOST_AUTO_TEST_CASE(locks_held_before_a_reboot_are_set_up_again) {
  TempDir d;
  const std::string path = d.File("b.db");
  {
    auto s = MustOpen(path);
    RateDecision dec;
    BOOST_REQUIRE(s->RateCheck({Limit("192.0.2.1", 5, 3600000)}, 1000, &dec).ok());
  }
  {
    Mapped m(path + RateMap::kSuffix);
    BOOST_REQUIRE(m.p != MAP_FAILED);
    memcpy(m.at(RateMap::kBootOffset), "an-earlier-boot", 16);
    for (uint32_t i = 0; i < RateMap::kStripes; ++i) {
      int owner = 0x3ffffff0;  // a thread id no process has
      memcpy(m.at(RateMap::StripeOffset(i)), &owner, sizeof owner);
    }
  }
  auto s = MustOpen(path);
  ::alarm(20);
  RateDecision dec;
  Status st = s->RateCheck({Limit("192.0.2.1", 5, 3600000)}, 1000, &dec);
  ::alarm(0);
  BOOST_TEST(st.ok(), st.message());
  BOOST_TEST(dec.allowed);
  std::vector<RateState> states;
  BOOST_REQUIRE(s->RatePeek({Limit("192.0.2.1", 5, 3600000)}, &states).ok());
  BOOST_TEST(states[0].tat == 1000 + 2 * 720000);  // the state itself was kept
}

// A map that is not one (garbage, truncated, another version's) is
// started afresh; one that is a link, or writable by every user, is refused
// with the reason, and rate checks say so.
BOOST_AUTO_TEST_CASE(a_broken_or_planted_rate_map_is_replaced_or_refused) {
  TempDir d;
  const std::string path = d.File("m.db");
  const std::string map = path + RateMap::kSuffix;
  RateDecision dec;
  for (const std::string& junk : {std::string("not a map"), std::string(70000, '\xff')}) {
    std::ofstream(map, std::ios::binary) << junk;
    ::chmod(map.c_str(), 0600);
    auto s = MustOpen(path);
    Status st = s->RateCheck({Limit("192.0.2.1", 5, 3600000)}, 1000, &dec);
    BOOST_TEST(st.ok(), st.message());
    struct stat sb;
    BOOST_REQUIRE(::stat(map.c_str(), &sb) == 0);
    BOOST_TEST(sb.st_size == off_t(RateMap::kHeaderBytes + RateMap::kSlots * 256));
  }
  {  // the header of another version
    Mapped m(map);
    m.at(8)[0] ^= 1;
  }
  {
    auto s = MustOpen(path);
    BOOST_TEST(s->RateCheck({Limit("192.0.2.1", 5, 3600000)}, 1000, &dec).ok());
    std::vector<RateState> states;
    BOOST_REQUIRE(s->RatePeek({Limit("192.0.2.1", 5, 3600000)}, &states).ok());
    BOOST_TEST(states[0].tat == 1000 + 720000);  // one check since it was started afresh
  }
  ::chmod(map.c_str(), 0666);
  {
    auto s = MustOpen(path);
    Status st = s->RateCheck({Limit("192.0.2.1", 5, 3600000)}, 1000, &dec);
    BOOST_TEST(!st.ok());
    BOOST_TEST(st.message().find("writable by every user") != std::string::npos, st.message());
    StoreStats stats;
    BOOST_REQUIRE(s->Stats(1, &stats).ok());
    BOOST_TEST(stats.ratelimit_error.find("refused") != std::string::npos, stats.ratelimit_error);
  }
  ::unlink(map.c_str());
  BOOST_REQUIRE(::symlink("/tmp/elsewhere", map.c_str()) == 0);
  {
    auto s = MustOpen(path);
    Status st = s->RateCheck({Limit("192.0.2.1", 5, 3600000)}, 1000, &dec);
    BOOST_TEST(st.message().find("symbolic link") != std::string::npos, st.message());
  }
}

namespace {

TokenCounts TokenOf(SqliteStore& s, uint64_t h, LearnerTotals* totals = nullptr) {
  std::vector<TokenCounts> c;
  LearnerTotals t;
  BOOST_REQUIRE(s.GetTokens({h}, &c, &t).ok());
  if (totals) *totals = t;
  return c[0];
}

LearnerTotals TotalsOf(SqliteStore& s) {
  LearnerTotals t;
  std::vector<TokenCounts> c;
  BOOST_REQUIRE(s.GetTokens({}, &c, &t).ok());
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_token_table_stays_under_its_bound) {
  TempDir d("/dev/shm");  // a million transactions: memory, not the disk, is under test
  auto s = MustOpen(d.File("bound.db"));
  // A million comments of three tokens each: two drawn from a vocabulary
  // far larger than the bound, one common to all.
  constexpr int64_t kMax = 1000;
  std::mt19937_64 rng(7);
  LearnOutcome out;
  int64_t most = 0;
  LearnOp op;
  op.max_tokens = kMax;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr int kComments = 100000;  // the same test, ten times shorter under a sanitizer
#else
  constexpr int kComments = 1000000;
#endif
  for (int i = 0; i < kComments; ++i) {
    op.cid = std::to_string(i);
    op.label = 1 + (i & 1);
    op.tokens = {1 + rng() % 5000000, 1 + rng() % 5000000, 42};
    BOOST_REQUIRE(s->Learn(op, &out).ok());
    if (i % 4096 == 0) most = std::max(most, TotalsOf(*s).tokens);
  }
  LearnerTotals t = TotalsOf(*s);
  BOOST_TEST(t.spam == kComments / 2);
  BOOST_TEST(t.ham == kComments / 2);
  BOOST_TEST(t.tokens <= kMax);
  BOOST_TEST(most <= kMax);
  // The count kept is the count held, and a token learned every time
  // survives expiry.
  int64_t rows = 0;
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(d.File("bound.db").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM token", -1, &q, nullptr) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  rows = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  BOOST_TEST(rows == t.tokens);
  BOOST_TEST(TokenOf(*s, 42).spam + TokenOf(*s, 42).ham > 0);
}

BOOST_AUTO_TEST_CASE(a_version_4_file_gains_the_learner) {
  TempDir d;
  std::string path = d.File("v4.db");
  {
    auto s = MustOpen(path);
    LearnOp op;
    op.cid = "old";
    op.label = 1;
    op.keys = {"k"};
    LearnOutcome out;
    BOOST_REQUIRE(s->Learn(op, &out).ok());
  }
  // Back to schema 4 as it shipped: no learner tables, no tokens column.
  Sql(path,
      "DROP TABLE token; DROP TABLE learner; ALTER TABLE learned DROP COLUMN tokens; DROP TABLE form_secret;"
      "DROP TABLE form_use; DROP TABLE keyword; DROP TABLE keyword_version; PRAGMA user_version=4;");
  {
    // A reader finds nothing learned, and no error.
    std::unique_ptr<SqliteStore> r;
    SqliteOptions o;
    o.read_only = true;
    BOOST_REQUIRE(SqliteStore::Open(path, o, &r).ok());
    LearnerTotals t = TotalsOf(*r);
    BOOST_TEST(t.spam + t.ham + t.tokens == 0);
  }
  auto s = MustOpen(path);
  LearnOp op;
  op.cid = "old";
  op.label = 2;  // learned before the learner: its reputation moves, no tokens to take back
  op.keys = {"k"};
  op.tokens = {5};
  LearnOutcome out;
  BOOST_REQUIRE(s->Learn(op, &out).ok());
  BOOST_TEST(int(out) == int(LearnOutcome::kMoved));
  LearnOp spam;
  spam.cid = "new";
  spam.label = 1;
  spam.tokens = {6};
  BOOST_REQUIRE(s->Learn(spam, &out).ok());
  LearnerTotals t = TotalsOf(*s);
  BOOST_TEST(t.ham == 1);
  BOOST_TEST(t.spam == 1);
  BOOST_TEST(TokenOf(*s, 5).ham == 1);
  std::vector<RepCounts> rep;
  BOOST_REQUIRE(s->GetReputation({"k"}, &rep).ok());
  BOOST_TEST(rep[0].spam == 0.0);
  BOOST_TEST(rep[0].ham == 1.0);
}

BOOST_AUTO_TEST_CASE(a_batch_groups_writes_and_undoes_a_failed_one_alone) {
  TempDir d;
  std::string path = d.File("batch.db");
  MustOpen(path);
  // A write that fails inside the body: entries from source 'fail' are refused.
  Sql(path, "CREATE TRIGGER refuse BEFORE INSERT ON list_entry WHEN NEW.source = 'fail' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END;");
  auto s = MustOpen(path);
  auto other = MustOpen(path);
  BOOST_REQUIRE(s->Batch(true).ok());
  LearnOutcome out;
  LearnOp op;
  op.label = 1;
  op.tokens = {7};
  for (int i = 0; i < 10; ++i) {
    op.cid = "b" + std::to_string(i);
    BOOST_REQUIRE(s->Learn(op, &out).ok());
  }
  // The batch reads its own writes; another connection sees none yet.
  BOOST_TEST(TotalsOf(*s).spam == 10);
  BOOST_TEST(TotalsOf(*other).spam == 0);
  // A failed write inside the batch is undone alone.
  Status bad = s->AddName(kBlock, kEmail, "a@example.com", "fail", "", 1, 0);
  BOOST_TEST(!bad.ok());
  BOOST_TEST(bad.message().find("refused") != std::string::npos, bad.message());
  BOOST_REQUIRE(s->AddName(kBlock, kEmail, "b@example.com", "ok", "", 1, 0).ok());
  op.cid = "b10";
  BOOST_REQUIRE(s->Learn(op, &out).ok());
  BOOST_REQUIRE(s->Batch(false).ok());
  BOOST_TEST(TotalsOf(*other).spam == 11);
  std::vector<ListEntry> entries;
  BOOST_REQUIRE(other->Entries(kBlock, nullptr, 10, &entries).ok());
  BOOST_REQUIRE(entries.size() == 1u);
  BOOST_TEST(entries[0].what == "b@example.com");
  // After a commit the next writes start a new transaction; closing the
  // store commits what is open.
  BOOST_REQUIRE(s->Batch(true).ok());
  op.cid = "last";
  BOOST_REQUIRE(s->Learn(op, &out).ok());
  s.reset();
  BOOST_TEST(TotalsOf(*other).spam == 12);
  // More writes than one transaction holds are committed as they go.
  auto t = MustOpen(path);
  BOOST_REQUIRE(t->Batch(true).ok());
  for (int i = 0; i < SqliteStore::kBatchWrites + 5; ++i) {
    op.cid = "m" + std::to_string(i);
    BOOST_REQUIRE(t->Learn(op, &out).ok());
  }
  BOOST_TEST(TotalsOf(*other).spam >= 12 + SqliteStore::kBatchWrites);
  BOOST_REQUIRE(t->Batch(false).ok());
  BOOST_TEST(TotalsOf(*other).spam == 12 + SqliteStore::kBatchWrites + 5);
}

BOOST_AUTO_TEST_SUITE_END()
