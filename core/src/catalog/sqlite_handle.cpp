#include "sqlite_handle.hpp"

#include <cstdio>

namespace sbx::catalog::detail {
namespace {

constexpr int kBusyTimeoutMs = 10000;

}  // namespace

std::string printable(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  return out;
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::bind_int(int index, int64_t value) {
  if (int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) db_.fail(rc);
  return *this;
}

Statement& Statement::bind_optional_int(int index, std::optional<int64_t> value) {
  int rc = value ? sqlite3_bind_int64(stmt_, index, *value) : sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_.fail(rc);
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  // data() of an empty view may be null, which SQLite would store as NULL instead of ''.
  static const char kEmpty[] = "";
  const char* data = value.empty() ? kEmpty : value.data();
  if (int rc = sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      rc != SQLITE_OK)
    db_.fail(rc);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view value) {
  int rc = value.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                         : sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_.fail(rc);
  return *this;
}

Statement& Statement::bind_borrowed_blob(int index, std::string_view value) {
  int rc = value.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                         : sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) db_.fail(rc);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc);
}

void Statement::run() {
  while (step()) {
  }
}

std::optional<int64_t> Statement::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
  const unsigned char* data = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
}

std::string Statement::blob(int column) const {
  // A zero-length blob comes back as a null pointer.
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

void Statement::reset() {
  sqlite3_reset(stmt_);
}

StatementLease::~StatementLease() {
  if (statement_ != nullptr) {
    statement_->reset();
    sqlite3_clear_bindings(statement_->stmt_);
    statement_->leased_ = false;
  }
}

Database::Database(const std::filesystem::path& file, bool create) : name_(printable(file.string())) {
  // NOMUTEX: a Catalog is used by one thread at a time (documented), so SQLite's per-call locking is pure
  // cost.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(file.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    std::string hint =
        (rc & 0xff) == SQLITE_CANTOPEN ? " (does its directory exist, and may we write there?)" : "";
    throw CatalogError("catalog " + name_ + ": cannot open: " + printable(message) + hint);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
}

Database::~Database() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close_v2(db_);
}

void Database::fail(int rc) const {
  fail(rc, sqlite3_errmsg(db_));
}

void Database::fail(int rc, const std::string& sqlite_message) const {
  std::string context = operation_.empty() ? std::string() : operation_ + ": ";
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      throw CatalogError("catalog " + name_ + " is not a SQLite database (" + printable(sqlite_message) +
                         ")");
    case SQLITE_CORRUPT:
      throw CatalogError("catalog " + name_ + " is damaged: " + context + printable(sqlite_message));
    case SQLITE_BUSY:
      throw CatalogError("catalog " + name_ + ": " + context + printable(sqlite_message) +
                         " (another process kept it locked for more than " +
                         std::to_string(kBusyTimeoutMs / 1000) + " s)");
    default:
      throw CatalogError("catalog " + name_ + ": " + context + printable(sqlite_message));
  }
}

void Database::exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    fail(rc, text);
  }
}

StatementLease Database::prepare(const std::string& sql) {
  auto& copies = cache_[sql];
  for (auto& statement : copies) {
    if (!statement->leased_) {
      statement->leased_ = true;
      return StatementLease(statement.get());
    }
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &stmt, nullptr);
  if (rc != SQLITE_OK) fail(rc);
  copies.push_back(std::make_unique<Statement>(*this, stmt));
  copies.back()->leased_ = true;
  return StatementLease(copies.back().get());
}

int64_t Database::query_int(const std::string& sql) {
  auto statement = prepare(sql);
  if (!statement->step()) fail(SQLITE_ERROR, "no row from: " + sql);
  return statement->int64(0);
}

std::string Database::query_text(const std::string& sql) {
  auto statement = prepare(sql);
  if (!statement->step()) fail(SQLITE_ERROR, "no row from: " + sql);
  return statement->text(0);
}

void Database::transaction(const std::function<void()>& body) {
  if (in_transaction()) {
    // Inside a transaction a savepoint gives the same all-or-nothing for the inner body.
    std::string savepoint = "sbx_savepoint_" + std::to_string(++savepoint_depth_);
    struct DepthGuard {
      int& depth;
      ~DepthGuard() { --depth; }
    } guard{savepoint_depth_};
    exec("SAVEPOINT " + savepoint);
    try {
      body();
    } catch (...) {
      // Errors are ignored here: the body's exception is the one worth reporting, and if SQLite already
      // rolled the whole transaction back there is no savepoint left to return to.
      sqlite3_exec(db_, ("ROLLBACK TO " + savepoint + "; RELEASE " + savepoint).c_str(), nullptr, nullptr,
                   nullptr);
      throw;
    }
    exec("RELEASE " + savepoint);
    return;
  }
  exec("BEGIN IMMEDIATE");
  try {
    body();
    exec("COMMIT");
  } catch (...) {
    if (in_transaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace sbx::catalog::detail
