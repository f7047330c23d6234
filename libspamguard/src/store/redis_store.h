// The Store on a Redis (or Valkey) server, shared by every web node of a
// blog farm.
//
// Every key of a blog starts with "sg:{NAMESPACE}:" -- the braces are a
// Redis Cluster hash tag, so one blog's keys live in one slot and a farm
// shards by blog. Scoring costs one round trip: the list probes, the
// reputation and learner reads and the keyword version go in one server-side
// script (EVALSHA; the script is sent again when the server answers
// NOSCRIPT), and a rate check is one more script that runs GCRA atomically
// on the server's clock (TIME). Imports build their data aside and swap it
// in with one short MULTI, so scorers never wait for them.
//
// Faults: every command has a timeout (small by default); a connection that
// fails is dropped and made again on a later call, at most every
// reconnect_ms, so a server that is down costs a caller one refused connect
// and then nothing until the next try. Errors reach the caller as IOError
// with the server's words; nothing is retried silently except a script the
// server forgot and a transaction another client interleaved with.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/store.h"

struct redisContext;
struct redisReply;

namespace spamguard::store {

struct RedisOptions {
  int connect_timeout_ms = 200;
  int timeout_ms = 200;           // each command of a scoring call
  int admin_timeout_ms = 30000;   // imports, statistics, pruning, copies
  int reconnect_ms = 250;         // a failed server is tried again this long after
  std::string namespace_name = "default";
  std::string password_file;      // first line; never a password on a command line
  bool read_only = false;
  bool require_connection = false;  // Open fails when the server cannot be reached
  // Rate limits run on the server's clock (TIME). Off: on the caller's
  // `now` (tests that move time by hand).
  bool server_clock = true;
};

// Is `database` a Redis address ("redis://", "redis+unix://")?
bool IsRedisUrl(const std::string& database);

class RedisStore final : public Store {
 public:
  // Parses the address, reads the password file, and connects. A server that
  // cannot be reached is not an error unless require_connection: every call
  // then fails (IOError) until it can be. A server that answers but refuses
  // (wrong password, no such database number, not Redis at all, a newer
  // layout) is an error.
  static Status Open(const std::string& url, const RedisOptions& opts, std::unique_ptr<RedisStore>* out);
  ~RedisStore() override;

  static constexpr int kLayoutVersion = 1;

  Status Lookup(const LookupRequest& req, LookupResult* out) override;
  Status LookupAndRate(const LookupRequest& req, const std::vector<RateKey>& keys, int64_t now_ms, LookupResult* out,
                       RateDecision* decision, Status* rate_status, bool* checked) override;
  Status RateCheck(const std::vector<RateKey>& keys, int64_t now_ms, RateDecision* out) override;
  Status RatePeek(const std::vector<RateKey>& keys, std::vector<RateState>* out) override;
  Status CountUse(const std::string& key, int64_t expires, int64_t now, int64_t* uses) override;
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
  Status FormSecrets(std::vector<FormSecret>* out) override;
  Status AddFormSecret(const std::string& key, int64_t now, int64_t keep_seconds, bool first_only) override;
  Status EachIp(int list, int64_t now, const std::function<Status(const lists::IpRange&, int64_t)>& each) override;
  Status ReplaceKeywords(const std::string& source, const std::vector<lists::KeywordEntry>& entries,
                         int64_t* version) override;
  Status Keywords(int kind, int64_t* version, std::vector<lists::KeywordEntry>* out) override;
  Status EachRecord(const std::function<Status(const StoreRecord&)>& each) override;
  Status PutRecords(const std::vector<StoreRecord>& records) override;
  std::string path() const override { return ""; }
  std::string where() const override { return shown_; }

  // The key prefix of this store's namespace: "sg:{NAME}:" (bytes other than
  // [A-Za-z0-9._-] in NAME written as %XX, so no name can open or close the
  // hash tag or collide with another).
  static std::string Prefix(const std::string& namespace_name);

  class Reply;    // an owned redisReply
  struct Script;  // a server-side script and its SHA-1

 private:
  RedisStore() = default;

  // Connects when there is no connection (at most every reconnect_ms).
  Status Connect();
  void Drop(const std::string& why);
  // Runs commands in one round trip; *out gets one reply per command. A
  // server error in a reply is returned as the status of the whole call
  // unless errors_ok.
  Status Run(const std::vector<std::vector<std::string>>& cmds, std::vector<Reply>* out, bool admin = false,
             bool errors_ok = false);
  Status Run1(const std::vector<std::string>& cmd, Reply* out, bool admin = false);
  Status Eval(const Script& s, std::vector<std::string> args, Reply* out, bool admin = false);
  Status Error(const std::string& what) const;
  Status Writable() const;

  // List entries (see redis_store.cc for the layout).
  // A new bucket number (entries added together share one).
  Status NewBucket(int64_t* bucket);
  Status ReadIndexMembers(const std::string& key, const std::string& from, const std::string& to,
                          std::vector<std::string>* out);
  Status RebuildRegion(int list, const lists::IpRange& region, const std::vector<std::string>& add_members,
                       const std::vector<std::string>& drop_members,
                       const std::vector<std::vector<std::string>>& also, bool* committed);
  Status RebuildAll(int list, const std::vector<std::vector<std::string>>& also,
                    const std::function<bool(const std::string& member)>& keep,
                    const std::vector<std::string>& add_members, bool* committed);
  Status Buckets(std::vector<struct BucketInfo>* out);
  // Entries per bucket and kind (the "bc" hash), read once.
  using BucketCounts = std::map<uint32_t, std::array<int64_t, 4>>;
  Status ReadBucketCounts(BucketCounts* out);
  // The names of this namespace's keys of one kind ("rg:", "r:", ...),
  // without the prefix and the kind, by SCAN.
  Status ScanKeys(const std::string& kind, std::vector<std::string>* names);

  std::string url_, shown_;
  bool unix_ = false;
  std::string host_, socket_;
  int port_ = 6379;
  int db_ = 0;
  std::string user_, password_;
  RedisOptions opts_;
  std::string prefix_;
  std::mutex mu_;
  redisContext* ctx_ = nullptr;
  int timeout_set_ = 0;  // the connection's timeout now, ms
  std::string wbuf_;      // the commands being sent (RESP)
  std::chrono::steady_clock::time_point next_try_{};
  std::string last_error_;
};

}  // namespace spamguard::store
