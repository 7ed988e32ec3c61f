// Thin RAII wrapper over sqlite3 / sqlite3_stmt for the catalog: every SQLite error becomes a one-line
// CatalogError naming the catalog file, what was being done and SQLite's own message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "strongbox/catalog.hpp"

namespace sbx::catalog::detail {

// Renders bytes for a one-line message: printable ASCII stays, everything else becomes \xNN, so a name with a
// newline or invalid UTF-8 can neither break the line nor the terminal.
std::string printable(std::string_view bytes);

class Database;

class Statement {
 public:
  Statement(Database& db, sqlite3_stmt* stmt) noexcept : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameter indexes start at 1, as in SQLite. Values are copied, so temporaries are fine.
  Statement& bind_int(int index, int64_t value);
  Statement& bind_optional_int(int index, std::optional<int64_t> value);
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_blob(int index, std::string_view value);
  // Binds without copying: the bytes must stay alive and unchanged until the statement is reset. For hot
  // loops only (bulk inserts), where the copy would be a measurable share of the work.
  Statement& bind_borrowed_blob(int index, std::string_view value);

  // Returns true when a row is available, false when done; throws on error.
  bool step();
  // Like step() but hands back the raw result code so the caller can turn a specific failure (a constraint)
  // into a better message; SQLITE_ROW and SQLITE_DONE are the successes.
  int try_step() { return sqlite3_step(stmt_); }
  // Steps to completion (statements without result rows).
  void run();

  // Column indexes start at 0, as in SQLite.
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::optional<int64_t> optional_int64(int column) const;
  std::string text(int column) const;
  std::string blob(int column) const;

  // Makes the statement ready to run again; bindings stay (the next row overwrites them).
  void reset();

 private:
  friend class Database;
  friend class StatementLease;
  Database& db_;
  sqlite3_stmt* stmt_;
  bool leased_ = false;
};

// A prepared statement borrowed from the Database's cache; returned (reset, bindings cleared) on destruction.
// A statement already borrowed (e.g. by a query whose row callback runs another query) is never handed out
// twice: the cache prepares another copy instead.
class StatementLease {
 public:
  explicit StatementLease(Statement* statement) noexcept : statement_(statement) {}
  StatementLease(StatementLease&& other) noexcept : statement_(std::exchange(other.statement_, nullptr)) {}
  StatementLease& operator=(StatementLease&&) = delete;
  ~StatementLease();
  Statement* operator->() const { return statement_; }
  Statement& operator*() const { return *statement_; }

 private:
  Statement* statement_;
};

class Database {
 public:
  // Opens (create: may create) the file; no statement has run yet, so a non-database file is not noticed
  // here.
  Database(const std::filesystem::path& file, bool create);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The catalog file as messages show it.
  const std::string& name() const { return name_; }
  sqlite3* raw() const { return db_; }

  // Runs SQL text that may hold several statements and returns no rows.
  void exec(const std::string& sql);
  StatementLease prepare(const std::string& sql);
  // Convenience for single-value queries (pragmas, counts); throws if no row comes back.
  int64_t query_int(const std::string& sql);
  std::string query_text(const std::string& sql);

  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
  void transaction(const std::function<void()>& body);
  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

  // Throws CatalogError for SQLite result code rc, naming the file, the current operation and SQLite's
  // message.
  [[noreturn]] void fail(int rc) const;
  [[noreturn]] void fail(int rc, const std::string& sqlite_message) const;

  // Names what the catalog is doing for the error messages raised meanwhile; nests (the previous description
  // comes back when the scope ends).
  class Operation {
   public:
    Operation(Database& db, std::string what)
        : db_(db), saved_(std::exchange(db.operation_, std::move(what))) {}
    ~Operation() { db_.operation_ = std::move(saved_); }
    Operation(const Operation&) = delete;
    Operation& operator=(const Operation&) = delete;

   private:
    Database& db_;
    std::string saved_;
  };

 private:
  sqlite3* db_ = nullptr;
  std::string name_;
  std::string operation_;
  int savepoint_depth_ = 0;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Statement>>> cache_;
};

}  // namespace sbx::catalog::detail
