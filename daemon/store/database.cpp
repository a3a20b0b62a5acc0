#include "database.hpp"

#include <fmt/format.h>
#include <fmt/std.h>

namespace exhibit::store {

namespace {
Error sqlite_error(sqlite3* db, std::string_view context) {
    int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
    Errc errc = Errc::database;
    int primary = code & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
        errc = Errc::corrupt;
    else if (primary == SQLITE_FULL)
        errc = Errc::no_space;
    else if (primary == SQLITE_CANTOPEN)
        errc = Errc::not_found;
    return Error{errc,
                 fmt::format("{}: {}", context, db ? sqlite3_errmsg(db) : sqlite3_errstr(code)), 0};
}
}  // namespace

Statement& Statement::bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_.get(), index, value);
    return *this;
}
Statement& Statement::bind(int index, std::string_view value) {
    sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                        SQLITE_UTF8);
    return *this;
}
Statement& Statement::bind(int index, std::span<const std::byte> value) {
    sqlite3_bind_blob64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind_null(int index) {
    sqlite3_bind_null(stmt_.get(), index);
    return *this;
}

Result<bool> Statement::step() {
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    sqlite3* db = sqlite3_db_handle(stmt_.get());
    return std::unexpected(
        sqlite_error(db, fmt::format("statement \"{:.60}\" failed", sqlite3_sql(stmt_.get()))));
}

Status Statement::run() {
    return each([](Statement&) {});
}

void Statement::reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
}

std::int64_t Statement::column_int(int column) const {
    return sqlite3_column_int64(stmt_.get(), column);
}
std::string Statement::column_text(int column) const {
    auto* p = sqlite3_column_text(stmt_.get(), column);
    int n = sqlite3_column_bytes(stmt_.get(), column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
}
bool Statement::column_is_null(int column) const {
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}
std::optional<std::int64_t> Statement::column_optional_int(int column) const {
    if (column_is_null(column))
        return std::nullopt;
    return column_int(column);
}
std::optional<std::string> Statement::column_optional_text(int column) const {
    if (column_is_null(column))
        return std::nullopt;
    return column_text(column);
}

Result<Database> Database::open(const std::filesystem::path& path, Mode mode) {
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    switch (mode) {
        case Mode::read_write_create:
            flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
            break;
        case Mode::read_write:
            flags |= SQLITE_OPEN_READWRITE;
            break;
        case Mode::read_only:
            flags |= SQLITE_OPEN_READONLY;
            break;
    }
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Database db;
    db.db_.reset(raw);
    if (rc != SQLITE_OK)
        return std::unexpected(sqlite_error(raw, fmt::format("cannot open catalog {}", path)));
    sqlite3_busy_timeout(raw, 10'000);
    // Reading the schema first surfaces "file is not a database" before anything writes.
    if (auto s = db.exec("SELECT count(*) FROM sqlite_schema"); !s)
        return std::unexpected(
            Error{s.error().code,
                  fmt::format("catalog {} is unreadable: {}", path, s.error().message), 0});
    // WAL is switched on by the owner after migrations (enable_wal), so that a refused or
    // failed migration leaves even the file header untouched.
    if (auto s =
            db.exec("PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF; PRAGMA synchronous=FULL;");
        !s)
        return std::unexpected(s.error());
    return db;
}

Result<Statement> Database::prepare(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK)
        return std::unexpected(error(fmt::format("cannot prepare \"{:.60}\"", sql)));
    return Statement(stmt);
}

Result<CachedStatement> Database::prepare_cached(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        auto stmt = prepare(sql);
        if (!stmt)
            return std::unexpected(stmt.error());
        it = cache_.emplace(std::string(sql), std::move(*stmt)).first;
    }
    return CachedStatement(it->second);
}

Status Database::exec(std::string_view sql) {
    std::string copy(sql);
    // The connection keeps the error message (error() reads it); no copy is asked for.
    int rc = sqlite3_exec(db_.get(), copy.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        return std::unexpected(error("SQL failed"));
    return {};
}

Status Database::enable_wal() {
    auto stmt = prepare("PRAGMA journal_mode=WAL");
    if (!stmt)
        return std::unexpected(stmt.error());
    auto row = stmt->step();
    if (!row)
        return std::unexpected(row.error());
    if (stmt->column_text(0) != "wal")
        return fail(Errc::database, "the catalog cannot use WAL mode");
    return {};
}

std::int64_t Database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_.get());
}
int Database::changes() const {
    return sqlite3_changes(db_.get());
}
Error Database::error(std::string_view context) const {
    return sqlite_error(db_.get(), context);
}

Result<Transaction> Transaction::begin(Database& db) {
    if (auto s = db.exec("BEGIN IMMEDIATE"); !s)
        return std::unexpected(s.error());
    return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(other.db_), open_(other.open_) {
    other.open_ = false;
}

Transaction::~Transaction() {
    if (open_)
        (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
    auto s = db_->exec("COMMIT");
    if (s)
        open_ = false;
    return s;
}

}  // namespace exhibit::store
