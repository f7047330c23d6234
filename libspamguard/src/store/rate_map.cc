#include "store/rate_map.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "ratelimit/gcra.h"
#include "store/state_files.h"
#include "util/fnv1a.h"

namespace spamguard::store {

struct RateMap::Slot {
  uint64_t h1;  // 0: a free slot
  uint64_t h2;
  int64_t tat, over_since, last_over;
  int64_t keep;      // until when the state matters (ms)
  uint32_t key_len;  // the whole key's length
  uint32_t unused;
  char key[200];     // the key, when it fits
};
static_assert(sizeof(RateMap::Slot) == 256, "a slot is 256 bytes");

struct RateMap::Header {
  char magic[8];
  uint32_t version, slot_bytes;
  uint64_t slots;
  uint32_t mutex_bytes, unused;
  uint64_t check;  // of the fields above
  uint64_t evicted;
  // The boot the lock was set up in: after a reboot a lock left held in
  // the file by a process of the last boot is set up again.
  char boot[48];
  // Process-shared robust locks, each over the buckets whose index is its
  // own modulo kStripes; a check takes those of its keys' buckets.
  struct alignas(64) Stripe {
    pthread_mutex_t mu;
  } stripe[32];
};

namespace {

constexpr char kMagic[8] = {'S', 'G', 'R', 'A', 'T', 'E', 'S', '\n'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = RateMap::kHeaderBytes;
constexpr uint32_t kStripes = RateMap::kStripes;
static_assert(kStripes == 32, "a check's locks are a 32-bit mask");
constexpr uint32_t kAllStripes = 0xffffffffu;
static_assert(sizeof(RateMap::Header::stripe) / sizeof(RateMap::Header::stripe[0]) == kStripes, "one lock a stripe");

static_assert(offsetof(RateMap::Header, boot) == RateMap::kBootOffset, "the boot id's place");

uint64_t BucketOf(uint64_t h1) { return (h1 >> 7) % (RateMap::kSlots / RateMap::kBucket); }
constexpr size_t kFileBytes = kHeaderBytes + RateMap::kSlots * sizeof(RateMap::Slot);
static_assert(sizeof(RateMap::Header) <= kHeaderBytes, "the header fits its page");

uint64_t HeaderCheck(const RateMap::Header& h) {
  Fnv1a f;
  f.Mix(h.magic, sizeof h.magic);
  f.Mix(&h.version, sizeof h.version);
  f.Mix(&h.slot_bytes, sizeof h.slot_bytes);
  f.Mix(&h.slots, sizeof h.slots);
  f.Mix(&h.mutex_bytes, sizeof h.mutex_bytes);
  return f.h;
}

// This boot's id ("" when it cannot be read).
std::string BootId() {
  char buf[48] = {0};
  int fd = ::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  return n > 0 ? std::string(buf, size_t(n)) : "";
}

bool SameBoot(const RateMap::Header& h, const std::string& boot) {
  bool same =
      !boot.empty() && strnlen(h.boot, sizeof h.boot) == boot.size() && memcmp(h.boot, boot.data(), boot.size()) == 0;
  __atomic_thread_fence(__ATOMIC_ACQUIRE);  // (the locks were set up before the id was written)
  return same;
}

// Sets up the header's locks afresh, for this boot.
int InitLock(RateMap::Header* h, const std::string& boot) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  int rc = 0;
  for (uint32_t i = 0; i < kStripes && rc == 0; ++i) rc = pthread_mutex_init(&h->stripe[i].mu, &a);
  pthread_mutexattr_destroy(&a);
  // The locks are set up before the boot id says so (read with an acquire
  // fence in SameBoot).
  __atomic_thread_fence(__ATOMIC_RELEASE);
  memset(h->boot, 0, sizeof h->boot);
  memcpy(h->boot, boot.data(), std::min(boot.size(), sizeof h->boot - 1));
  return rc;
}

void FreshHeader(RateMap::Header* h) {
  memcpy(h->magic, kMagic, sizeof h->magic);
  h->version = kVersion;
  h->slot_bytes = sizeof(RateMap::Slot);
  h->slots = RateMap::kSlots;
  h->mutex_bytes = sizeof(pthread_mutex_t);
  h->check = HeaderCheck(*h);
  InitLock(h, BootId());
}

// Why the mapped file is not a rate map of this version ("" when it is).
std::string Invalid(const void* base, size_t size) {
  if (size != kFileBytes) return "its size is " + std::to_string(size) + " bytes, not " + std::to_string(kFileBytes);
  const auto* h = static_cast<const RateMap::Header*>(base);
  if (memcmp(h->magic, kMagic, sizeof kMagic) != 0) return "it is not a spamguard rate map";
  if (h->version != kVersion || h->slot_bytes != sizeof(RateMap::Slot) || h->slots != RateMap::kSlots ||
      h->mutex_bytes != sizeof(pthread_mutex_t) || h->check != HeaderCheck(*h))
    return "it is a rate map of another version";
  return "";
}

uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

void Hashes(const std::string& key, uint64_t* h1, uint64_t* h2) {
  Fnv1a f;
  f.Mix(key.data(), key.size());
  *h1 = f.h | 1;  // never 0, which marks a free slot
  *h2 = Mix64(f.h ^ (uint64_t(key.size()) << 32) ^ 0x9e3779b97f4a7c15ull);
  if (key.size() > 8) {
    uint64_t tail;
    memcpy(&tail, key.data() + key.size() - 8, 8);
    *h2 = Mix64(*h2 ^ tail);
  }
}

// Empties a slot. Its `unused` word is left alone: checks write to it
// atomically, without the lock, to fault its page in.
void Clear(RateMap::Slot* s) {
  s->h1 = s->h2 = 0;
  s->tat = s->over_since = s->last_over = s->keep = 0;
  s->key_len = 0;
  memset(s->key, 0, sizeof s->key);
}

// When a state stops mattering: a key seen after both its TAT and a
// period past its last refusal starts whole, like a new one.
int64_t KeepUntil(int64_t tat, int64_t last_over, int64_t period) {
  int64_t over = last_over > INT64_MAX - period ? INT64_MAX : last_over + period;
  return std::max(tat, over);
}

Status Sys(const std::string& path, const std::string& what) {
  return Status::IOError("rate map " + path + ": " + what + ": " + strerror(errno));
}

// Makes a fresh map at a temporary name beside `path`; *tmp is its name.
Status Create(const std::string& path, std::string* tmp) {
  std::string name = path + ".new.XXXXXX";
  std::vector<char> buf(name.begin(), name.end());
  buf.push_back('\0');
  int fd = ::mkostemp(buf.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return Sys(path, "cannot create");
  *tmp = buf.data();
  auto fail = [&](const std::string& what) {
    Status st = Sys(path, what);
    ::close(fd);
    ::unlink(tmp->c_str());
    return st;
  };
  // In a shared folder the file is the group's too, as the database is.
  if (InSharedFolder(path) && ::fchmod(fd, 0660) != 0) return fail("cannot set its mode");
  // Reserved now, so that a full disk is found here and not as a fault
  // when a page of the mapping is first written.
  int rc = ::posix_fallocate(fd, 0, kFileBytes);
  if (rc != 0) {
    errno = rc;
    return fail("cannot reserve " + std::to_string(kFileBytes >> 20) + " MiB");
  }
  void* p = ::mmap(nullptr, kHeaderBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return fail("cannot map");
  FreshHeader(static_cast<RateMap::Header*>(p));
  ::munmap(p, kHeaderBytes);
  ::close(fd);
  return Status::OK();
}

}  // namespace

// A whole-file POSIX record lock, held while the map's own lock is set up
// (per process; the kernel releases it when a holder dies).
class FileLock {
 public:
  FileLock(int fd, const std::string& path) : fd_(fd) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    int rc;
    while ((rc = ::fcntl(fd, F_SETLKW, &fl)) != 0 && errno == EINTR) {
    }
    if (rc != 0) status_ = Sys(path, "cannot lock");
  }
  ~FileLock() {
    if (!status_.ok()) return;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    ::fcntl(fd_, F_SETLK, &fl);
  }
  const Status& status() const { return status_; }

 private:
  int fd_;
  Status status_;
};

// The map's locks: process-shared robust mutexes in the header, taken in
// rising order (so two checks never wait on each other in a cycle). A check
// holds its few for a microsecond or so; waiters sleep in the kernel (futex)
// and are woken one at a time. A holder that dies leaves its locks marked,
// and the next taker goes on (a half-written slot only paces one sender
// wrongly once). A map mapped read-only is read without them.
class RateMap::Lock {
 public:
  Lock(RateMap* m, uint32_t stripes) {
    if (m->read_only_) return;
    h_ = static_cast<Header*>(m->base_);
    for (uint32_t i = 0; i < kStripes; ++i) {
      if (!(stripes >> i & 1)) continue;
      int rc = pthread_mutex_lock(&h_->stripe[i].mu);
      if (rc == EOWNERDEAD) rc = pthread_mutex_consistent(&h_->stripe[i].mu);
      if (rc != 0) {
        errno = rc;
        status_ = Sys(m->path_, "cannot lock (delete the file to start rate limits afresh)");
        return;
      }
      held_ |= 1u << i;
    }
  }
  ~Lock() {
    for (uint32_t i = kStripes; i-- > 0;)
      if (held_ >> i & 1) pthread_mutex_unlock(&h_->stripe[i].mu);
  }
  const Status& status() const { return status_; }

 private:
  Header* h_ = nullptr;
  uint32_t held_ = 0;
  Status status_;
};

Status RateMap::Open(const std::string& path, bool create, bool read_only, bool check_owner,
                     std::unique_ptr<RateMap>* out) {
  out->reset();
  for (int attempt = 0; attempt < 4; ++attempt) {
    struct stat lst;
    if (::lstat(path.c_str(), &lst) == 0) {
      std::string why = Refusal(path, lst, check_owner);
      if (!why.empty()) return Status::IOError("rate map " + path + ": refused: it " + why);
    } else if (errno != ENOENT) {
      return Sys(path, "cannot read");
    } else {
      if (!create || read_only) return Status::OK();  // nothing limited yet
      std::string tmp;
      Status st = Create(path, &tmp);
      if (!st.ok()) return st;
      // Whoever links first made the map; the others use theirs.
      int rc = ::link(tmp.c_str(), path.c_str());
      int err = errno;
      ::unlink(tmp.c_str());
      if (rc != 0 && err != EEXIST) {
        errno = err;
        return Sys(path, "cannot create");
      }
      continue;
    }
    int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      if (errno == EACCES && !read_only) {
        read_only = true;
        --attempt;
        continue;
      }
      return Sys(path, "cannot open");
    }
    std::unique_ptr<RateMap> m(new RateMap());
    m->path_ = path;
    m->fd_ = fd;
    m->read_only_ = read_only;
    struct stat st;
    if (::fstat(fd, &st) != 0) return Sys(path, "cannot read");
    std::string why;
    if (size_t(st.st_size) == kFileBytes) {
      void* p = ::mmap(nullptr, kFileBytes, read_only ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) return Sys(path, "cannot map");
      m->base_ = p;
      m->size_ = kFileBytes;
      why = Invalid(p, kFileBytes);
    } else {
      why = Invalid(nullptr, size_t(st.st_size));
    }
    if (why.empty()) {
      auto* h = static_cast<Header*>(m->base_);
      const std::string boot = BootId();
      // (Without a boot id to go by -- no /proc -- the locks are never set
      // up again: doing so while another process held one would break it.)
      if (!read_only && !boot.empty() && !SameBoot(*h, boot)) {
        // First open since the machine started: the lock is set up again
        // (once, by whoever holds the file lock first).
        FileLock fl(fd, path);
        if (!fl.status().ok()) return fl.status();
        if (!SameBoot(*h, boot)) {
          int rc = InitLock(h, boot);
          if (rc != 0) {
            errno = rc;
            return Sys(path, "cannot set up its lock");
          }
        }
      }
      *out = std::move(m);
      return Status::OK();
    }
    if (read_only) return Status::IOError("rate map " + path + ": not usable: " + why);
    // Not a map this version can use (truncated, another version's,
    // overwritten): state that only paces senders, so it is started again
    // -- once, by whoever holds the old file's lock while it is still the
    // one at the path.
    FileLock lock(fd, path);
    if (!lock.status().ok()) return lock.status();
    struct stat now;
    if (::stat(path.c_str(), &now) == 0 && now.st_ino == st.st_ino && now.st_dev == st.st_dev) {
      std::string tmp;
      Status cs = Create(path, &tmp);
      if (!cs.ok()) return cs;
      if (::rename(tmp.c_str(), path.c_str()) != 0) {
        Status rs = Sys(path, "cannot replace (" + why + ")");
        ::unlink(tmp.c_str());
        return rs;
      }
    }
  }
  return Status::IOError("rate map " + path + ": replaced while opening it, again and again");
}

size_t RateMap::StripeOffset(uint32_t stripe) {
  return offsetof(Header, stripe) + stripe % kStripes * sizeof(Header::Stripe);
}

RateMap::~RateMap() {
  if (base_) ::munmap(base_, size_);
  if (fd_ >= 0) ::close(fd_);
}

RateMap::Slot* RateMap::Find(const std::string& key, uint64_t h1, uint64_t h2, bool insert, int64_t dead_before) {
  auto* slots = reinterpret_cast<Slot*>(static_cast<char*>(base_) + kHeaderBytes);
  Slot* b = slots + BucketOf(h1) * kBucket;
  const bool whole = key.size() <= sizeof b->key;
  for (uint64_t i = 0; i < kBucket; ++i) {
    Slot* s = b + i;
    if (s->h1 == h1 && s->h2 == h2 && s->key_len == key.size() &&
        (!whole || memcmp(s->key, key.data(), key.size()) == 0))
      return s;
  }
  if (!insert) return nullptr;
  // A free slot, else one whose state no longer matters, else the one
  // that stops mattering soonest.
  Slot* pick = nullptr;
  for (uint64_t i = 0; i < kBucket && !pick; ++i)
    if (b[i].h1 == 0) pick = b + i;
  for (uint64_t i = 0; i < kBucket && !pick; ++i)
    if (b[i].keep < dead_before) pick = b + i;
  if (!pick) {
    pick = b;
    for (uint64_t i = 1; i < kBucket; ++i)
      if (b[i].keep < pick->keep) pick = b + i;
    __atomic_fetch_add(&static_cast<Header*>(base_)->evicted, 1, __ATOMIC_RELAXED);
  }
  Clear(pick);
  pick->h2 = h2;
  pick->key_len = uint32_t(key.size());
  if (whole) memcpy(pick->key, key.data(), key.size());
  pick->h1 = h1;
  return pick;
}

Status RateMap::Check(const std::vector<RateKey>& keys, int64_t now_ms, RateDecision* out) {
  *out = RateDecision();
  if (keys.empty()) return Status::OK();
  if (read_only_) return Status::IOError("rate map " + path_ + ": read-only for this user");
  // Each key's hashes and the TAT it is charged, on the stack for the few
  // keys a comment has.
  struct Charge {
    uint64_t h1, h2;
    int64_t tat;
  };
  Charge few[16];
  std::vector<Charge> many;
  Charge* c = keys.size() <= 16 ? few : (many.resize(keys.size()), many.data());
  for (size_t i = 0; i < keys.size(); ++i) Hashes(keys[i].key, &c[i].h1, &c[i].h2);
  const int64_t clock = ratelimit::ClockMs();
  // A state is given up as no longer mattering by the earlier of the two
  // times: a caller's time far ahead frees nothing that still matters.
  const int64_t dead_before = std::min(now_ms, clock);
  uint32_t stripes = 0;
  auto* slots = reinterpret_cast<Slot*>(static_cast<char*>(base_) + kHeaderBytes);
  for (size_t i = 0; i < keys.size(); ++i) {
    uint64_t b = BucketOf(c[i].h1);
    stripes |= 1u << (b % kStripes);
    // A bucket is one page: write to it before taking the locks (a no-op
    // on a word nobody reads), so that mapping it, or marking it dirty
    // again after the kernel wrote it back, never happens with a lock held.
    __atomic_fetch_add(&slots[b * kBucket].unused, 0u, __ATOMIC_RELAXED);
  }
  Lock lock(this, stripes);
  if (!lock.status().ok()) return lock.status();
  // Decide on every key first, then charge them all, so that a refusal
  // charges nothing.
  for (size_t i = 0; i < keys.size(); ++i) {
    const RateKey& k = keys[i];
    Slot* s = Find(k.key, c[i].h1, c[i].h2, false, clock);
    ratelimit::GcraStep step =
        ratelimit::Gcra(s != nullptr, s ? s->tat : 0, now_ms, k.interval_ms, k.tolerance_ms, clock);
    if (!step.allowed) {
      int64_t over_since = s ? s->over_since : 0, last_over = s ? s->last_over : 0;
      out->allowed = false;
      out->denied = i;
      out->retry_after_ms = step.retry_ms;
      out->over_since_ms = ratelimit::OverSince(over_since, last_over, now_ms, k.period_ms);
      if (!s) s = Find(k.key, c[i].h1, c[i].h2, true, dead_before);
      s->tat = step.tat;  // pulled back when time went backwards
      s->over_since = out->over_since_ms;
      s->last_over = now_ms;
      s->keep = KeepUntil(s->tat, now_ms, k.period_ms);
      return Status::OK();
    }
    c[i].tat = step.tat;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    Slot* s = Find(keys[i].key, c[i].h1, c[i].h2, true, dead_before);
    s->tat = c[i].tat;
    s->keep = KeepUntil(s->tat, s->last_over, keys[i].period_ms);
  }
  return Status::OK();
}

Status RateMap::Peek(const std::vector<RateKey>& keys, std::vector<RateState>* out) {
  out->assign(keys.size(), RateState());
  Lock lock(this, kAllStripes);
  if (!lock.status().ok()) return lock.status();
  for (size_t i = 0; i < keys.size(); ++i) {
    uint64_t h1, h2;
    Hashes(keys[i].key, &h1, &h2);
    const Slot* s = Find(keys[i].key, h1, h2, false, 0);
    if (s) (*out)[i] = RateState{true, s->tat};
  }
  return Status::OK();
}

Status RateMap::Prune(int64_t before, int64_t* freed) {
  *freed = 0;
  if (read_only_) return Status::OK();
  Lock lock(this, kAllStripes);
  if (!lock.status().ok()) return lock.status();
  auto* slots = reinterpret_cast<Slot*>(static_cast<char*>(base_) + kHeaderBytes);
  for (uint64_t i = 0; i < kSlots; ++i) {
    if (slots[i].h1 != 0 && slots[i].keep < before) {
      Clear(&slots[i]);
      ++*freed;
    }
  }
  return Status::OK();
}

Status RateMap::Count(int64_t* held) {
  *held = 0;
  Lock lock(this, kAllStripes);
  if (!lock.status().ok()) return lock.status();
  const auto* slots = reinterpret_cast<const Slot*>(static_cast<const char*>(base_) + kHeaderBytes);
  for (uint64_t i = 0; i < kSlots; ++i) *held += slots[i].h1 != 0;
  return Status::OK();
}

Status RateMap::Each(const std::function<void(const std::string&, int64_t, int64_t, int64_t)>& each) {
  struct Row {
    std::string key;
    int64_t tat, over_since, last_over;
  };
  std::vector<Row> rows;
  {
    Lock lock(this, kAllStripes);
    if (!lock.status().ok()) return lock.status();
    const auto* slots = reinterpret_cast<const Slot*>(static_cast<const char*>(base_) + kHeaderBytes);
    for (uint64_t i = 0; i < kSlots; ++i) {
      const Slot& s = slots[i];
      if (s.h1 == 0 || s.key_len > sizeof s.key) continue;
      rows.push_back({std::string(s.key, s.key_len), s.tat, s.over_since, s.last_over});
    }
  }
  for (const Row& r : rows) each(r.key, r.tat, r.over_since, r.last_over);
  return Status::OK();
}

Status RateMap::Put(const std::string& key, int64_t tat, int64_t over_since, int64_t last_over) {
  if (read_only_) return Status::IOError("rate map " + path_ + ": read-only for this user");
  uint64_t h1, h2;
  Hashes(key, &h1, &h2);
  Lock lock(this, kAllStripes);
  if (!lock.status().ok()) return lock.status();
  Slot* s = Find(key, h1, h2, true, ratelimit::ClockMs());
  s->tat = tat;
  s->over_since = over_since;
  s->last_over = last_over;
  s->keep = KeepUntil(tat, last_over, 86400000);
  return Status::OK();
}

}  // namespace spamguard::store
