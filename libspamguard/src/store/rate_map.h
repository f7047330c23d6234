// Rate-limit state shared by every process of a blog, in a file mapped into
// each of them (`DATABASE-ratemap`, beside the database).
//
// A rate check is a few loads and stores of a fixed-size hash table under a
// lock: no SQL, no transaction, no write-ahead log, nothing synced. The lock
// is a process-shared robust mutex in the file's header: uncontended it is
// two atomic operations; waiters sleep in the kernel and are woken one at a
// time (no sleeping a millisecond per retry); a process that dies holding
// it leaves it to the next taker. It is set up again at the first open
// after a reboot (the header keeps the boot's id), so a lock held when the
// machine went down does not outlive it.
//
// Rate state is short-lived by nature (minutes to an hour); losing it to a
// power cut means a sender's allowance starts whole again, which is what
// pruning does after a day anyway. The kernel writes the file back as it
// writes any mapped file; nothing waits for the disk.
//
// The table is bounded: 65,536 slots of 256 bytes in buckets of 16 (one
// 4 KiB page each), 16 MiB reserved on disk when the file is made (so a
// full disk is found then, never as a fault in a mapped page). A key lives
// in the bucket its hash names. A slot is free again once its state no
// longer matters (its TAT and its last refusal's period are past: a key
// seen again then starts whole, as a new one does). A bucket whose 16
// states all still matter gives up the one that stops mattering soonest
// (counted in the header: `evicted`); a flood of more addresses than that
// at once loses only some of its own state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"
#include "util/status.h"

namespace spamguard::store {

class RateMap {
 public:
  static constexpr const char* kSuffix = "-ratemap";
  static constexpr uint64_t kSlots = 65536;
  static constexpr uint64_t kBucket = 16;
  // Locks, each over the buckets whose index is its own modulo kStripes.
  static constexpr uint32_t kStripes = 32;
  // The header's bytes (its locks included); the buckets follow, each a page.
  static constexpr size_t kHeaderBytes = 4096;
  // Where the header keeps this boot's id and each stripe's lock (a
  // pthread_mutex_t), in bytes from the file's start (for tests).
  static constexpr size_t kBootOffset = 48;
  static size_t StripeOffset(uint32_t stripe);

  // Opens the map at `path`. create: make it when missing (private to its
  // owner; 0660 in a shared folder, as the database). read_only: map it for
  // reading (Peek, Count, Each only). An existing file is refused as the
  // database is (state_files.h: Refusal, with check_owner). A file that is
  // not a rate map of this version and size (truncated, from another
  // version, garbage) is replaced by a fresh one when writable, else
  // refused.
  static Status Open(const std::string& path, bool create, bool read_only, bool check_owner,
                     std::unique_ptr<RateMap>* out);
  ~RateMap();

  Status Check(const std::vector<RateKey>& keys, int64_t now_ms, RateDecision* out);
  Status Peek(const std::vector<RateKey>& keys, std::vector<RateState>* out);
  // Frees every state that has not mattered since before `before` (ms).
  Status Prune(int64_t before, int64_t* freed);
  // The states held (slots in use, mattering or not).
  Status Count(int64_t* held);
  // Every state held (a key too long to keep whole in its slot, over 200
  // bytes, is left out), handed on once the locks are let go.
  Status Each(const std::function<void(const std::string& key, int64_t tat, int64_t over_since,
                                       int64_t last_over)>& each);
  // Writes states as they are (copying a store); each matters for a day
  // past its TAT and its last refusal.
  Status Put(const std::string& key, int64_t tat, int64_t over_since, int64_t last_over);

  const std::string& path() const { return path_; }

  struct Slot;
  struct Header;

 private:
  RateMap() = default;
  class Lock;
  // The slot of `key` in its bucket; with insert, a slot made for it when
  // it has none (free, or holding a state that stopped mattering before
  // dead_before, or the one that stops mattering soonest).
  Slot* Find(const std::string& key, uint64_t h1, uint64_t h2, bool insert, int64_t dead_before);

  std::string path_;
  int fd_ = -1;
  bool read_only_ = false;
  void* base_ = nullptr;
  size_t size_ = 0;
};

}  // namespace spamguard::store
