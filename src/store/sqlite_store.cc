#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <mutex>

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
};

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  void Bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int col) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close_v2(db_); }

  Status Migrate() {
    std::lock_guard lock(mu_);
    int version = 0;
    {
      Stmt s(db_, "PRAGMA user_version");
      if (s.Step() == SQLITE_ROW) version = std::stoi(s.Text(0));
    }
    constexpr int kCount = static_cast<int>(std::size(kMigrations));
    for (int v = version; v < kCount; ++v) {
      std::string sql = std::string("BEGIN;") + kMigrations[v] +
                        "PRAGMA user_version=" + std::to_string(v + 1) + ";COMMIT;";
      char* err = nullptr;
      if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        (void)Exec("ROLLBACK");
        return Internal("metadata store migration " + std::to_string(v + 1) + ": " + msg);
      }
    }
    return {};
  }

  Status Insert(Kind kind, std::string_view key, const nlohmann::json& doc) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "INSERT INTO resources(kind, key, doc) VALUES (?, ?, ?)");
    s.Bind(1, KindName(kind));
    s.Bind(2, key);
    s.Bind(3, doc.dump());
    int rc = s.Step();
    if (rc == SQLITE_CONSTRAINT) {
      return AlreadyExists(std::string(KindName(kind)) + " '" + std::string(key) +
                           "' already exists");
    }
    return CheckDone(rc, "insert");
  }

  Result<nlohmann::json> Get(Kind kind, std::string_view key) override {
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

  Result<std::vector<nlohmann::json>> List(Kind kind, std::string_view key_prefix) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "SELECT doc FROM resources WHERE kind = ? AND substr(key, 1, length(?)) = ? "
           "ORDER BY seq");
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

  Status Replace(Kind kind, std::string_view key, const nlohmann::json& doc) override {
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

  Status Delete(Kind kind, std::string_view key) override {
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

  Status Transaction(const std::function<Status()>& fn) override {
    std::lock_guard lock(mu_);
    if (depth_ > 0) return fn();  // joins the enclosing transaction
    LOTE_TRY(Exec("BEGIN IMMEDIATE"));
    ++depth_;
    Status st = fn();
    --depth_;
    if (!st) {
      (void)Exec("ROLLBACK");
      return st;
    }
    return Exec("COMMIT");
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return Internal(std::string("metadata store: ") + sql + ": " + msg);
    }
    return {};
  }

 private:
  Status CheckDone(int rc, const char* what) {
    if (rc != SQLITE_DONE) return StoreError(what);
    return {};
  }
  Error StoreError(const char* what) {
    return Internal(std::string("metadata store ") + what + ": " + sqlite3_errmsg(db_));
  }
  static Result<nlohmann::json> ParseDoc(const std::string& text) {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      return Internal(std::string("metadata store holds a corrupt document: ") + e.what());
    }
  }

  sqlite3* db_;
  std::recursive_mutex mu_;
  int depth_ = 0;
};

}  // namespace

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

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return IoError("cannot open metadata store '" + options.path.string() + "': " + msg);
  }
  auto store = std::make_unique<SqliteStore>(db);
  sqlite3_busy_timeout(db, 5000);
  LOTE_TRY(store->Exec("PRAGMA journal_mode=WAL"));
  LOTE_TRY(store->Exec("PRAGMA synchronous=NORMAL"));
  LOTE_TRY(store->Exec("PRAGMA foreign_keys=ON"));
  LOTE_TRY(store->Migrate());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace lote::store
