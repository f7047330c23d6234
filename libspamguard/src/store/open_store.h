// Opens the store a database setting names: a Redis address
// ("redis://...", "redis+unix://...") or an SQLite file.
#pragma once

#include <memory>
#include <string>

#include "store/redis_store.h"
#include "store/sqlite_store.h"

namespace spamguard::store {

struct StoreOptions {
  SqliteOptions sqlite;
  RedisOptions redis;
};

Status OpenStore(const std::string& database, const StoreOptions& opts, std::unique_ptr<Store>* out);

}  // namespace spamguard::store
