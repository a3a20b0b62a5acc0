// RAII owner of one SQLite connection, with prepared statements and transactions.
// Thread-compatible: each thread opens its own Database (SQLite runs in WAL mode).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/c_handle.hpp"
#include "common/error.hpp"

namespace exhibit::store {

class Statement {
  public:
    Statement() = default;
    explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}

    // Bind by 1-based index. Text and blobs are copied by SQLite.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const std::string& value) {
        return bind(index, std::string_view(value));
    }
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, std::span<const std::byte> value);
    Statement& bind_null(int index);
    Statement& bind(int index, std::optional<std::int64_t> value) {
        return value ? bind(index, *value) : bind_null(index);
    }
    Statement& bind(int index, const std::optional<std::string>& value) {
        return value ? bind(index, std::string_view(*value)) : bind_null(index);
    }

    // Steps once: true while a row is available, false when done.
    Result<bool> step();
    // Steps over the rows, calling `row(*this)` on each, until they end or `row` (when it
    // returns a bool) returns false; then resets. Returns the error of a failed step.
    template <class Row>
    [[nodiscard]] Status each(Row&& row);
    // Steps to completion, ignoring any rows.
    Status run();
    void reset();

    std::int64_t column_int(int column) const;
    std::string column_text(int column) const;
    bool column_is_null(int column) const;
    std::optional<std::int64_t> column_optional_int(int column) const;
    std::optional<std::string> column_optional_text(int column) const;

  private:
    CHandle<sqlite3_stmt, sqlite3_finalize> stmt_;
};

// A statement borrowed from its connection's cache: reset, with its bindings cleared, when
// released, so that it holds no read transaction open and starts clean next time.
class CachedStatement {
  public:
    explicit CachedStatement(Statement& statement) : statement_(&statement) {}
    CachedStatement(CachedStatement&& o) noexcept
        : statement_(std::exchange(o.statement_, nullptr)) {}
    CachedStatement& operator=(CachedStatement&&) = delete;
    ~CachedStatement() {
        if (statement_)
            statement_->reset();
    }
    Statement& operator*() const { return *statement_; }

  private:
    Statement* statement_;
};

class Database {
  public:
    enum class Mode { read_write_create, read_write, read_only };

    // Opens the file (checking that it is a readable SQLite database) with foreign keys on,
    // full synchronous commits and a busy timeout.
    static Result<Database> open(const std::filesystem::path& path, Mode mode);
    Status enable_wal();

    Result<Statement> prepare(std::string_view sql);
    // The prepare, bind and step loop in one: prepares `sql`, binds its parameters with
    // `bind(statement)` (no_parameters when it has none) and steps over its rows with
    // `row(statement)`, as Statement::each.
    template <class Bind, class Row>
    [[nodiscard]] Status each(std::string_view sql, Bind&& bind, Row&& row);
    // As each(), returning what `read(statement)` makes of each row, in order.
    template <class Bind, class Read>
    auto rows(std::string_view sql, Bind&& bind, Read&& read)
        -> Result<std::vector<std::invoke_result_t<Read&, Statement&>>>;
    // As prepare(), but compiled once per connection and kept: for statements run per item.
    Result<CachedStatement> prepare_cached(std::string_view sql);
    // Runs one or more statements without parameters.
    Status exec(std::string_view sql);

    std::int64_t last_insert_rowid() const;
    int changes() const;
    sqlite3* handle() const { return db_.get(); }

    // Turns the last error of this connection into an Error mentioning `context`.
    Error error(std::string_view context) const;

  private:
    CHandle<sqlite3, sqlite3_close_v2> db_;
    // Declared after db_: finalized before the connection closes.
    std::map<std::string, Statement, std::less<>> cache_;
};

// The binder of a statement without parameters, for Database::each() and rows().
struct NoParameters {
    void operator()(Statement&) const noexcept {}
};
inline constexpr NoParameters no_parameters{};

template <class Row>
Status Statement::each(Row&& row) {
    for (;;) {
        auto more = step();
        if (!more)
            return std::unexpected(more.error());
        if (!*more)
            break;
        if constexpr (std::is_void_v<std::invoke_result_t<Row&, Statement&>>)
            row(*this);
        else if (!row(*this))
            break;
    }
    reset();
    return {};
}

template <class Bind, class Row>
Status Database::each(std::string_view sql, Bind&& bind, Row&& row) {
    auto stmt = prepare(sql);
    if (!stmt)
        return std::unexpected(stmt.error());
    bind(*stmt);
    return stmt->each(row);
}

template <class Bind, class Read>
auto Database::rows(std::string_view sql, Bind&& bind, Read&& read)
    -> Result<std::vector<std::invoke_result_t<Read&, Statement&>>> {
    std::vector<std::invoke_result_t<Read&, Statement&>> out;
    if (auto s = each(sql, bind, [&](Statement& row) { out.push_back(read(row)); }); !s)
        return std::unexpected(s.error());
    return out;
}

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
class Transaction {
  public:
    static Result<Transaction> begin(Database& db);
    Transaction(Transaction&& other) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    Status commit();

  private:
    explicit Transaction(Database& db) : db_(&db) {}
    Database* db_;
    bool open_ = true;
};

}  // namespace exhibit::store
