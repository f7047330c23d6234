#include "store/open_store.h"

namespace spamguard::store {

Status OpenStore(const std::string& database, const StoreOptions& opts, std::unique_ptr<Store>* out) {
  if (IsRedisUrl(database)) {
    std::unique_ptr<RedisStore> r;
    Status st = RedisStore::Open(database, opts.redis, &r);
    if (st.ok()) *out = std::move(r);
    return st;
  }
  std::unique_ptr<SqliteStore> s;
  Status st = SqliteStore::Open(database, opts.sqlite, &s);
  if (st.ok()) *out = std::move(s);
  return st;
}

}  // namespace spamguard::store
