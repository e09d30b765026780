// SQLite implementation of the metadata store (WAL mode, one connection
// serialized by a recursive mutex so that Transaction() callbacks can call
// back into the store on the same thread).
#pragma once

#include <filesystem>

#include "store/sqlite_store_impl.h"

namespace lote::store {

// SqliteStore (sqlite_store_impl.h) implements Store and JobStore.

struct SqliteStoreOptions {
  std::filesystem::path path;  // ":memory:" for tests
};

Result<std::unique_ptr<SqliteStore>> OpenSqliteStore(const SqliteStoreOptions& options);

}  // namespace lote::store
