// The Store on one SQLite file, shared by every process of a blog.
//
// WAL journal, a busy timeout, BEGIN IMMEDIATE for every write (so two
// writers never deadlock upgrading a read lock), statements prepared once per
// connection, schema version in PRAGMA user_version with forward migrations.
// A missing file is created with mode 0600. One connection per store; a
// mutex serializes its use by the threads of a process.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "lists/ip_index.h"
#include "store/rate_map.h"
#include "store/store.h"

namespace spamguard::store {

// Why the database file at `path` cannot be read as it stands: "no such
// file" or "permission denied" (with the user), never one for the other.
std::string MissingDatabase(const std::string& path);

struct SqliteOptions {
  int busy_timeout_ms = 5000;
  bool read_only = false;  // never create, migrate or write the file
  // Refuse an existing file that is a symbolic link, writable by others than
  // its owner, or owned by another user (root excepted) -- unless it sits in
  // a set-group-ID folder of its own group that others cannot write (how
  // the packages share the state with the web server).
  bool check_owner = true;
  bool rate_file = false;  // internal: this is the rate-limit file
};

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) and migrates the database. A file that
  // cannot be written is opened read-only: lookups work, writes fail.
  static Status Open(const std::string& path, const SqliteOptions& opts, std::unique_ptr<SqliteStore>* out);
  ~SqliteStore() override;

  static constexpr int kSchemaVersion = 7;
  // Rate-limit state lives in a file of its own beside the database (its
  // path plus this suffix), so that a long write to the database (a list
  // import of a million lines) never holds up a rate check.
  static constexpr const char* kRateSuffix = "-rates";
  bool read_only() const { return read_only_; }

  Status Lookup(const LookupRequest& req, LookupResult* out) override;
  Status RateCheck(const std::vector<RateKey>& keys, int64_t now_ms, RateDecision* out) override;
  Status RatePeek(const std::vector<RateKey>& keys, std::vector<RateState>* out) override;
  Status MatchIp(int list, const lists::IpRange& ip, int64_t now, ListEntry* out, bool* found) override;
  Status MatchName(int list, int kind, const std::vector<std::string>& candidates, int64_t now, ListEntry* out,
                   bool* found) override;
  Status GetReputation(const std::vector<std::string>& keys, std::vector<RepCounts>* out) override;
  Status Learn(const LearnOp& op, LearnOutcome* outcome) override;
  Status Forget(const LearnOp& op, bool* found) override;
  Status GetTokens(const std::vector<uint64_t>& tokens, std::vector<TokenCounts>* out,
                   LearnerTotals* totals) override;
  Status AllTokens(const std::function<void(uint64_t, const TokenCounts&)>& each, LearnerTotals* totals) override;
  Status AddIp(int list, const lists::IpRange& range, const std::string& source, const std::string& reason,
               int64_t added, int64_t expires) override;
  Status AddName(int list, int kind, const std::string& value, const std::string& source, const std::string& reason,
                 int64_t added, int64_t expires) override;
  Status Remove(int list, const std::string& what, size_t* removed) override;
  Status ReplaceSource(int list, const std::string& source, const std::vector<ImportEntry>& entries, int64_t added,
                       int64_t expires) override;
  Status Entries(int list, const std::string* source, size_t limit, std::vector<ListEntry>* out) override;
  Status Stats(int64_t now, StoreStats* out) override;
  Status Prune(int64_t before, int64_t now, PruneCounts* out) override;
  Status Batch(bool on) override;
  Status FormSecrets(std::vector<FormSecret>* out) override;
  Status AddFormSecret(const std::string& key, int64_t now, int64_t keep_seconds, bool first_only) override;
  Status CountUse(const std::string& key, int64_t expires, int64_t now, int64_t* uses) override;
  Status EachIp(int list, int64_t now, const std::function<Status(const lists::IpRange&, int64_t)>& each) override;
  Status ReplaceKeywords(const std::string& source, const std::vector<lists::KeywordEntry>& entries,
                         int64_t* version) override;
  Status Keywords(int kind, int64_t* version, std::vector<lists::KeywordEntry>* out) override;
  Status EachRecord(const std::function<Status(const StoreRecord&)>& each) override;
  Status PutRecords(const std::vector<StoreRecord>& records) override;
  std::string path() const override { return path_; }
  // A batch commits after this many writes or this long, whichever first.
  static constexpr int kBatchWrites = 256;
  static constexpr std::chrono::milliseconds kBatchTime{100};

 private:
  struct StmtDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  struct DbDeleter {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

  explicit SqliteStore(std::string path) : path_(std::move(path)) {}
  static Status OpenOnce(const std::string& path, const SqliteOptions& opts, std::unique_ptr<SqliteStore>* out);
  Status Error(const std::string& what, int rc) const;
  Status Exec(const char* sql);
  // The cached statement for `sql`, reset and with bindings cleared.
  Status Prepare(const char* sql, sqlite3_stmt** out);
  Status Migrate();
  Status Begin();
  Status Commit();
  void Rollback();
  // Runs `body` in a BEGIN IMMEDIATE transaction: commits when it succeeds,
  // rolls back when anything fails.
  Status Write(const std::function<Status()>& body);
  // Runs `body` in one read transaction (one lock for all its probes), or
  // in the batch's open write transaction when there is one.
  Status Read(const std::function<Status()>& body);
  // Rebuilds the flat IP index of `list` within `region` (all of it when
  // region is null). Must run inside a write transaction.
  Status RebuildIndex(int list, int fam, const lists::IpRange* region, int64_t now);
  Status RebuildAll(int list, int64_t now);
  Status InsertInterval(int list, int fam, const lists::Interval& iv);
  Status InsertIpEntry(int list, const lists::IpRange& range, const std::string& source, const std::string& reason,
                       int64_t added, int64_t expires);
  // The block of an entry row whose columns 1 and 2 are lo and plen.
  static lists::IpRange RangeFromRow(sqlite3_stmt* q, int fam);
  Status ReadEntry(int64_t id, ListEntry* out);
  // Steps a query whose first column is an entry id; reads that entry.
  Status StepToEntry(sqlite3_stmt* q, ListEntry* out, bool* found);
  // Fills *out from the 11 entry columns of a row starting at `col`.
  static void EntryFromRow(sqlite3_stmt* q, int col, ListEntry* out);
  // The unlocked lookups, for use inside Lookup's read transaction.
  Status MatchIpLocked(int list, const lists::IpRange& ip, int64_t now, ListEntry* out, bool* found);
  Status MatchNameLocked(int list, int kind, const std::vector<std::string>& candidates, int64_t now, ListEntry* out,
                         bool* found);
  Status GetReputationLocked(const std::vector<std::string>& keys, std::vector<RepCounts>* out);
  Status ProbeAncestors(int list, const lists::IpRange& ip, int64_t now, ListEntry* out, bool* found);

  // Form-token uses, done on the file beside that holds them.
  Status CountUseHere(const std::string& key, int64_t expires, int64_t now, int64_t* uses);
  // The file beside that holds form-token uses (opened when first needed),
  // or an error saying why there is none.
  Status Rates(SqliteStore** out);
  // That file when it exists and opens, else null (nothing to count or
  // forget in it).
  SqliteStore* ExistingRates();
  // The rate-limit map (opened when first needed; create: made when
  // missing). *out is null when there is none yet and create is false.
  Status Map(bool create, RateMap** out);
  Status PruneHere(int64_t before, int64_t now, PruneCounts* out);
  Status CountFormTokens(int64_t* tokens);
  // Learning, inside a write transaction: adds the reputation of `keys`
  // (sign +1) or takes it back as decayed since `at` (sign -1).
  Status ApplyReputation(const std::vector<std::string>& keys, int label, double weight, int64_t now,
                         double half_life);
  // Counts (sign +1) or uncounts (sign -1) a comment's tokens under `label`.
  Status ApplyTokens(const std::vector<uint64_t>& tokens, int label, int sign, LearnerTotals* t, int64_t serial);
  Status ReadLearner(LearnerTotals* t, int64_t* serial);
  // A learned comment as stored.
  struct LearnedRow {
    int label = 0;
    std::vector<std::string> keys;
    int64_t at = 0;
    bool had_tokens = false;  // learned since the learner exists
    std::vector<uint64_t> tokens;
  };
  Status ReadLearned(const std::string& cid, LearnedRow* out, bool* found);
  // Why a file of an older schema (opened read-only) cannot learn.
  Status NoLearner() const;
  // Takes back what learning `row` added, as of op.now.
  Status TakeBack(const LearnedRow& row, const LearnOp& op, LearnerTotals* totals, int64_t serial);
  Status WriteLearner(const LearnerTotals& t, int64_t serial);
  // Forgets the least recently learned tokens while more than max are held.
  Status ExpireTokens(int64_t max, LearnerTotals* t);

  std::string path_;
  SqliteOptions opts_;
  std::mutex rates_mu_;                 // guards opening rates_ and map_
  std::unique_ptr<SqliteStore> rates_;  // the form-token file (null in that file's own store)
  std::unique_ptr<RateMap> map_;        // the rate-limit map
  bool is_rate_file_ = false;
  std::unique_ptr<sqlite3, DbDeleter> db_;
  std::unordered_map<const char*, StmtPtr> stmts_;
  std::mutex mu_;
  bool read_only_ = false;
  int schema_ = 0;
  bool batch_ = false;  // writes join one transaction (Batch)
  int batch_writes_ = 0;
  std::chrono::steady_clock::time_point batch_since_;  // the file's schema version (a read-only open may find an older one)
};

}  // namespace spamguard::store
