// SQLite implementation of the metadata store (WAL mode, one connection
// serialized by a recursive mutex so that Transaction() callbacks can call
// back into the store on the same thread).
#pragma once

#include <filesystem>

#include "store/store.h"

struct sqlite3;

namespace lote::store {

struct SqliteStoreOptions {
  std::filesystem::path path;  // ":memory:" for tests
};

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options);

}  // namespace lote::store
