#include "store/sqlite_store.h"

#include <algorithm>
#include <string>
#include <vector>

#include "store/sqlite_store_impl.h"

namespace lote::store {
namespace {

// Schema migrations, applied in order; PRAGMA user_version counts the applied ones.
constexpr const char* kMigrations[] = {
    R"sql(
    CREATE TABLE resources (
      seq  INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL,
      key  TEXT NOT NULL,
      doc  TEXT NOT NULL,
      UNIQUE (kind, key)
    );
    )sql",
    R"sql(
    CREATE TABLE jobs (
      seq             INTEGER PRIMARY KEY AUTOINCREMENT,
      name            TEXT NOT NULL UNIQUE,
      endpoint        TEXT NOT NULL,
      doc             TEXT NOT NULL,
      tasks_total     INTEGER NOT NULL DEFAULT 0,
      tasks_done      INTEGER NOT NULL DEFAULT 0,
      tasks_failed    INTEGER NOT NULL DEFAULT 0,
      tasks_retried   INTEGER NOT NULL DEFAULT 0,
      tasks_running   INTEGER NOT NULL DEFAULT 0,
      items_succeeded INTEGER NOT NULL DEFAULT 0,
      items_failed    INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE tasks (
      job           TEXT NOT NULL,
      id            INTEGER NOT NULL,
      status        TEXT NOT NULL,
      attempts      INTEGER NOT NULL DEFAULT 0,
      lease         TEXT NOT NULL DEFAULT '',
      lease_expires INTEGER NOT NULL DEFAULT 0,
      items         TEXT NOT NULL,
      succeeded     INTEGER NOT NULL DEFAULT 0,
      failed        INTEGER NOT NULL DEFAULT 0,
      worker        TEXT NOT NULL DEFAULT '',
      started_ms    INTEGER NOT NULL DEFAULT 0,
      elapsed_ms    INTEGER NOT NULL DEFAULT 0,
      error         TEXT NOT NULL DEFAULT '',
      outcome       TEXT NOT NULL DEFAULT '',
      PRIMARY KEY (job, id)
    ) WITHOUT ROWID;
    CREATE INDEX tasks_by_status ON tasks (job, status, id);
    )sql",
    // Committed rows live in a byte range of a results file that may hold
    // several mini-batches (agents report them in batches); the CSV header
    // travels with the row instead of a file of its own.
    R"sql(
    ALTER TABLE tasks ADD COLUMN part        TEXT    NOT NULL DEFAULT '';
    ALTER TABLE tasks ADD COLUMN part_offset INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tasks ADD COLUMN part_length INTEGER NOT NULL DEFAULT -1;
    ALTER TABLE tasks ADD COLUMN header      TEXT    NOT NULL DEFAULT '';
    )sql",
    // A job's mutable state moves out of its document into columns, so that
    // status changes are compare-and-set updates of one row and the spec is
    // never rewritten.
    R"sql(
    ALTER TABLE jobs ADD COLUMN status        TEXT    NOT NULL DEFAULT 'NotStarted';
    ALTER TABLE jobs ADD COLUMN error         TEXT    NOT NULL DEFAULT '';
    ALTER TABLE jobs ADD COLUMN started_ms    INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN ended_ms      INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN output_rows   INTEGER NOT NULL DEFAULT -1;
    ALTER TABLE jobs ADD COLUMN output_header TEXT;
    UPDATE jobs SET
      status      = COALESCE(json_extract(doc, '$.status'), 'NotStarted'),
      error       = COALESCE(json_extract(doc, '$.error'), ''),
      started_ms  = COALESCE(json_extract(doc, '$.started_at_ms'), 0),
      ended_ms    = COALESCE(json_extract(doc, '$.ended_at_ms'), 0),
      output_rows = CASE WHEN json_extract(doc, '$.output.written') THEN
                      COALESCE(json_extract(doc, '$.output.rows'), 0) ELSE -1 END,
      doc         = json_remove(doc, '$.status', '$.error', '$.started_at', '$.ended_at',
                                '$.started_at_ms', '$.ended_at_ms', '$.output.written',
                                '$.output.rows');
    CREATE INDEX jobs_by_status ON jobs (status);
    )sql",
    // A job stopped early counts its running and never-started mini-batches
    // apart from the failed ones.
    R"sql(
    ALTER TABLE jobs ADD COLUMN tasks_canceled INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN tasks_not_run  INTEGER NOT NULL DEFAULT 0;
    )sql",
    // A done mini-batch keeps the row-level failures of the attempt that
    // committed it (the dashboard's failed items), as JSON.
    R"sql(
    ALTER TABLE tasks ADD COLUMN item_errors TEXT NOT NULL DEFAULT '[]';
    )sql",
};

// Rolls back unless Commit() was called: a failing Status, an early return
// or an exception all leave the database as it was, and the nesting depth is
// restored whatever happens.
class TxnGuard {
 public:
  TxnGuard(SqliteStore& store, int& depth) : store_(store), depth_(depth) {}
  ~TxnGuard() {
    --depth_;
    if (!committed_) {
      if (Status st = store_.Exec("ROLLBACK"); !st) {
        std::fprintf(stderr, "lote: metadata store: rollback failed: %s\n", st.error().message().c_str());
      }
    }
  }
  Status Commit() {
    committed_ = true;
    return store_.Exec("COMMIT");
  }

 private:
  SqliteStore& store_;
  int& depth_;
  bool committed_ = false;
};

// A file lote may open as its store: empty (fresh), or holding lote's
// tables under a schema version. Anything else is someone else's database,
// which migrating would alter; refused with what was found.
Status CheckLoteSchema(sqlite3* db, const std::string& path) {
  sqlite3_stmt* st = nullptr;
  int version = 0;
  std::vector<std::string> tables;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (rc == SQLITE_ROW) {
    rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &st,
                            nullptr);
    if (rc == SQLITE_OK) {
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        auto name = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        tables.emplace_back(name ? name : "");
      }
    }
    sqlite3_finalize(st);
  }
  if (rc != SQLITE_DONE) {
    return FailedPrecondition("metadata store '" + path + "' cannot be read as an SQLite database: " +
                              sqlite3_errmsg(db));
  }
  bool has_resources = std::find(tables.begin(), tables.end(), "resources") != tables.end();
  if ((version == 0 && !tables.empty()) || (version > 0 && !has_resources)) {
    std::string list;
    for (size_t i = 0; i < tables.size() && i < 8; ++i) list += (i ? ", " : "") + tables[i];
    return FailedPrecondition("metadata store '" + path + "' is an SQLite database but not lote's (schema version " +
                              std::to_string(version) + ", tables: " + (list.empty() ? "none" : list) +
                              "); give lote its own home");
  }
  return {};
}

}  // namespace

Stmt::Stmt(sqlite3* db, const char* sql) {
  // The SQL text is ours, but preparing also reads the schema: a locked,
  // corrupt or unreadable database fails here, and Step() reports it.
  rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
}

std::string Stmt::Text(int col) {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
}

Status SqliteStore::Migrate() {
  std::lock_guard lock(mu_);
  int version = 0;
  {
    Stmt s(db_, "PRAGMA user_version");
    if (s.Step() != SQLITE_ROW) return StoreError("read the schema version");
    version = static_cast<int>(s.Int(0));
  }
  constexpr int kCount = static_cast<int>(std::size(kMigrations));
  if (version > kCount) {
    return FailedPrecondition("metadata store schema version " + std::to_string(version) +
                              " is newer than this lote (" + std::to_string(kCount) + ")");
  }
  for (int v = version; v < kCount; ++v) {
    std::string sql = std::string("BEGIN;") + kMigrations[v] +
                      "PRAGMA user_version=" + std::to_string(v + 1) + ";COMMIT;";
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      if (Status rb = Exec("ROLLBACK"); !rb) msg += " (and the rollback failed: " + rb.error().message() + ")";
      return Internal("metadata store migration " + std::to_string(v + 1) + ": " + msg);
    }
  }
  return {};
}

Status SqliteStore::Exec(const char* sql) {
  std::lock_guard lock(mu_);
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal(std::string("metadata store: ") + sql + ": " + msg);
  }
  return {};
}

Status SqliteStore::Insert(Kind kind, std::string_view key, const nlohmann::json& doc) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO resources(kind, key, doc) VALUES (?, ?, ?)");
  s.Bind(1, KindName(kind));
  s.Bind(2, key);
  s.Bind(3, doc.dump());
  int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT) {
    return AlreadyExists(std::string(KindName(kind)) + " '" + std::string(key) + "' already exists");
  }
  return CheckDone(rc, "insert");
}

Result<nlohmann::json> SqliteStore::Get(Kind kind, std::string_view key) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT doc FROM resources WHERE kind = ? AND key = ?");
  s.Bind(1, KindName(kind));
  s.Bind(2, key);
  int rc = s.Step();
  if (rc == SQLITE_DONE) {
    return NotFound(std::string(KindName(kind)) + " '" + std::string(key) + "' not found");
  }
  if (rc != SQLITE_ROW) return StoreError("get");
  return ParseDoc(s.Text(0));
}

Result<std::vector<nlohmann::json>> SqliteStore::List(Kind kind, std::string_view key_prefix) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT doc FROM resources WHERE kind = ? AND substr(key, 1, length(?)) = ? ORDER BY seq");
  s.Bind(1, KindName(kind));
  s.Bind(2, key_prefix);
  s.Bind(3, key_prefix);
  std::vector<nlohmann::json> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    LOTE_ASSIGN_OR_RETURN(auto doc, ParseDoc(s.Text(0)));
    out.push_back(std::move(doc));
  }
  if (rc != SQLITE_DONE) return StoreError("list");
  return out;
}

Status SqliteStore::Replace(Kind kind, std::string_view key, const nlohmann::json& doc) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE resources SET doc = ? WHERE kind = ? AND key = ?");
  s.Bind(1, doc.dump());
  s.Bind(2, KindName(kind));
  s.Bind(3, key);
  LOTE_TRY(CheckDone(s.Step(), "update"));
  if (sqlite3_changes(db_) == 0) {
    return NotFound(std::string(KindName(kind)) + " '" + std::string(key) + "' not found");
  }
  return {};
}

Status SqliteStore::Delete(Kind kind, std::string_view key) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "DELETE FROM resources WHERE kind = ? AND key = ?");
  s.Bind(1, KindName(kind));
  s.Bind(2, key);
  LOTE_TRY(CheckDone(s.Step(), "delete"));
  if (sqlite3_changes(db_) == 0) {
    return NotFound(std::string(KindName(kind)) + " '" + std::string(key) + "' not found");
  }
  return {};
}

Status SqliteStore::Transaction(const std::function<Status()>& fn) {
  std::lock_guard lock(mu_);
  if (depth_ > 0) return fn();  // joins the enclosing transaction
  LOTE_TRY(Exec("BEGIN IMMEDIATE"));
  ++depth_;
  TxnGuard txn(*this, depth_);
  Status st = [&]() -> Status {
    // A dependency's exception inside fn (a JSON type error, bad_alloc) must
    // not leave the transaction open or cross into the caller's thread loop.
    try {
      return fn();
    } catch (const std::exception& e) {
      return Internal(std::string("metadata store transaction: unexpected exception: ") + e.what());
    }
  }();
  if (!st) return st;  // txn rolls back
  return txn.Commit();
}

Status SqliteStore::CheckDone(int rc, const char* what) {
  if (rc != SQLITE_DONE) return StoreError(what);
  return {};
}

Error SqliteStore::StoreError(const char* what) {
  return Internal(std::string("metadata store ") + what + ": " + sqlite3_errmsg(db_));
}

Result<nlohmann::json> SqliteStore::ParseDoc(const std::string& text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Internal(std::string("metadata store holds a corrupt document: ") + e.what());
  }
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kCompute: return "compute";
    case Kind::kModel: return "model";
    case Kind::kDataAsset: return "data";
    case Kind::kDatastore: return "datastore";
    case Kind::kEndpoint: return "endpoint";
  }
  return "resource";
}

Result<std::unique_ptr<SqliteStore>> OpenSqliteStore(const SqliteStoreOptions& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return IoError("cannot open metadata store '" + options.path.string() + "': " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  if (auto st = CheckLoteSchema(db, options.path.string()); !st) {
    sqlite3_close_v2(db);
    return st.error();
  }
  auto store = std::make_unique<SqliteStore>(db);
  LOTE_TRY(store->Exec("PRAGMA journal_mode=WAL"));
  LOTE_TRY(store->Exec("PRAGMA synchronous=NORMAL"));
  LOTE_TRY(store->Migrate());
  return store;
}

}  // namespace lote::store
