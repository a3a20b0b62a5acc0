#include "schema.hpp"

#include <array>
#include <string_view>

#include <fmt/format.h>

namespace exhibit::store {

namespace {

// Each entry takes the catalog from version (index) to version (index + 1). Never edit a
// step once released: add a new one, and a fixture for the old version in
// tests/fixtures/catalog/.
constexpr std::array<std::string_view, 5> kMigrations = {
    // 0 -> 1: cases, sessions, items, uploads, audit.
    R"sql(
CREATE TABLE cases (
    id                INTEGER PRIMARY KEY,
    case_reference    TEXT NOT NULL CHECK (length(case_reference) BETWEEN 1 AND 128),
    exhibit_reference TEXT NOT NULL CHECK (length(exhibit_reference) BETWEEN 1 AND 128),
    officer_id        TEXT NOT NULL CHECK (length(officer_id) BETWEEN 1 AND 128),
    basis             TEXT NOT NULL CHECK (basis IN ('consent', 'other')),
    basis_detail      TEXT NOT NULL DEFAULT '{}',  -- JSON: notice version shown, who agreed
    scope             TEXT NOT NULL,               -- JSON: categories and date range
    created_at_ms     INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER NOT NULL REFERENCES cases(id),
    device          TEXT NOT NULL DEFAULT '{}',  -- JSON: manufacturer, model, serial, ...
    device_serial   TEXT,
    state           TEXT NOT NULL CHECK (state IN ('created', 'running', 'completed',
                                                   'interrupted', 'failed', 'cancelled')),
    state_reason    TEXT,
    priority        TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal', 'urgent')),
    clock_offset_ms INTEGER,                     -- phone clock minus kiosk clock
    started_at_ms   INTEGER NOT NULL,
    ended_at_ms     INTEGER
) STRICT;

CREATE TABLE items (
    id                INTEGER PRIMARY KEY,
    session_id        INTEGER NOT NULL REFERENCES sessions(id),
    category          TEXT NOT NULL,
    source_path       TEXT NOT NULL,     -- printable form of the phone's path
    source_path_raw   BLOB,              -- exact bytes when they are not valid UTF-8
    declared_size     INTEGER,           -- the size the phone stated, if it stated one
    size              INTEGER NOT NULL CHECK (size >= 0),  -- bytes received and stored
    source_mtime_ms   INTEGER,
    sha256            TEXT NOT NULL CHECK (length(sha256) = 64),
    blob              TEXT NOT NULL,     -- path relative to the state directory
    state             TEXT NOT NULL CHECK (state IN ('complete', 'incomplete')),
    incomplete_reason TEXT,
    integrity         TEXT NOT NULL DEFAULT 'ok' CHECK (integrity IN ('ok', 'missing', 'mismatch')),
    integrity_checked_at_ms INTEGER,
    created_at_ms     INTEGER NOT NULL,
    CHECK ((state = 'complete') = (incomplete_reason IS NULL))
) STRICT;
CREATE INDEX items_by_session ON items(session_id);
CREATE INDEX items_by_sha256 ON items(sha256);

-- What was received from the phone is never rewritten.
CREATE TRIGGER items_evidence_immutable
BEFORE UPDATE OF session_id, category, source_path, source_path_raw, declared_size, size,
                 source_mtime_ms, sha256, blob, state, incomplete_reason, created_at_ms ON items
BEGIN SELECT RAISE(ABORT, 'items: recorded evidence is immutable'); END;
CREATE TRIGGER items_never_deleted BEFORE DELETE ON items
BEGIN SELECT RAISE(ABORT, 'items: evidence records are never deleted'); END;

CREATE TABLE uploads (
    item_id            INTEGER PRIMARY KEY REFERENCES items(id),
    lane               TEXT NOT NULL DEFAULT 'normal' CHECK (lane IN ('urgent', 'normal')),
    state              TEXT NOT NULL DEFAULT 'queued'
                       CHECK (state IN ('queued', 'uploading', 'received', 'failed', 'cancelled')),
    remote_url         TEXT,
    remote_offset      INTEGER NOT NULL DEFAULT 0,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER,
    last_error         TEXT,
    receipt            TEXT,             -- JSON once received
    queued_at_ms       INTEGER NOT NULL,
    received_at_ms     INTEGER,
    blob_released_at_ms INTEGER          -- local copy deleted after receipt + retention
) STRICT;
CREATE INDEX uploads_by_state ON uploads(state, lane, queued_at_ms);

CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    time      TEXT NOT NULL,   -- UTC, milliseconds: 2026-11-28T15:48:34.123Z
    actor     TEXT NOT NULL,
    event     TEXT NOT NULL,
    details   TEXT NOT NULL,   -- JSON
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit: the log is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit: the log is append-only'); END;

-- The newest entry, signed with the kiosk key, so that removing entries from the end is
-- detected too.
CREATE TABLE audit_head (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    seq             INTEGER NOT NULL,
    hash            TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    signature       TEXT NOT NULL    -- hex Ed25519 signature of audit_head_message()
) STRICT;
)sql",
    // 1 -> 2: the upload channel: signed session manifests and their uploads, and the
    // administrator's request to sync outside the window.
    R"sql(
CREATE TABLE manifests (
    session_id         INTEGER PRIMARY KEY REFERENCES sessions(id),
    body               TEXT NOT NULL,    -- canonical JSON: exactly the bytes signed and uploaded
    sha256             TEXT NOT NULL CHECK (length(sha256) = 64),
    signature          TEXT NOT NULL,    -- base64 Ed25519 signature of body (detached)
    key_fingerprint    TEXT NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    lane               TEXT NOT NULL DEFAULT 'normal' CHECK (lane IN ('urgent', 'normal')),
    state              TEXT NOT NULL DEFAULT 'queued'
                       CHECK (state IN ('queued', 'uploading', 'received', 'failed', 'cancelled')),
    remote_url         TEXT,
    remote_offset      INTEGER NOT NULL DEFAULT 0,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER,
    last_error         TEXT,
    receipt            TEXT,             -- JSON once received
    queued_at_ms       INTEGER NOT NULL,
    received_at_ms     INTEGER
) STRICT;
CREATE INDEX manifests_by_state ON manifests(state, lane, queued_at_ms);
CREATE TRIGGER manifests_signed_immutable
BEFORE UPDATE OF session_id, body, sha256, signature, key_fingerprint, created_at_ms ON manifests
BEGIN SELECT RAISE(ABORT, 'manifests: a signed manifest is immutable'); END;
CREATE TRIGGER manifests_never_deleted BEFORE DELETE ON manifests
BEGIN SELECT RAISE(ABORT, 'manifests: signed manifests are never deleted'); END;

CREATE TABLE sync_request (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    requested_at_ms INTEGER NOT NULL,
    actor           TEXT NOT NULL
) STRICT;
)sql",
    // 2 -> 3: the kiosk: whose phone it is, and officers' wrong PINs (the lock-out survives
    // a restart).
    R"sql(
ALTER TABLE cases ADD COLUMN owner TEXT
    CHECK (owner IS NULL OR owner IN ('victim', 'witness', 'other'));

CREATE TABLE sign_in_failures (
    officer_id      TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL CHECK (failures >= 0),  -- wrong PINs in a row
    last_failure_ms INTEGER NOT NULL,
    locked_until_ms INTEGER                                  -- set at the fifth
) STRICT;
)sql",
    // 3 -> 4: running totals for monitoring, kept by triggers in the same transaction as the
    // rows they count, so reading them costs the same with ten items or a million (the
    // metrics are written every few seconds), and an index for the newest delivery.
    R"sql(
CREATE TABLE item_totals (
    name  TEXT PRIMARY KEY CHECK (name IN ('complete', 'incomplete', 'flagged')),
    items INTEGER NOT NULL CHECK (items >= 0)
) STRICT, WITHOUT ROWID;
INSERT INTO item_totals (name, items)
    SELECT 'complete', count(*) FROM items WHERE state = 'complete'
    UNION ALL SELECT 'incomplete', count(*) FROM items WHERE state = 'incomplete'
    UNION ALL SELECT 'flagged', count(*) FROM items WHERE integrity != 'ok';

CREATE TRIGGER item_totals_insert AFTER INSERT ON items
BEGIN
    UPDATE item_totals SET items = items + 1 WHERE name = NEW.state;
    UPDATE item_totals SET items = items + 1 WHERE name = 'flagged' AND NEW.integrity != 'ok';
END;
CREATE TRIGGER item_totals_integrity AFTER UPDATE OF integrity ON items
WHEN (OLD.integrity != 'ok') != (NEW.integrity != 'ok')
BEGIN
    UPDATE item_totals SET items = items + (NEW.integrity != 'ok') - (OLD.integrity != 'ok')
        WHERE name = 'flagged';
END;

-- Items and manifests to upload, by lane and state: how many, and their bytes.
CREATE TABLE queue_totals (
    kind  TEXT NOT NULL CHECK (kind IN ('item', 'manifest')),
    lane  TEXT NOT NULL CHECK (lane IN ('urgent', 'normal')),
    state TEXT NOT NULL
          CHECK (state IN ('queued', 'uploading', 'received', 'failed', 'cancelled')),
    jobs  INTEGER NOT NULL DEFAULT 0 CHECK (jobs >= 0),
    bytes INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    PRIMARY KEY (kind, lane, state)
) STRICT, WITHOUT ROWID;
WITH kinds(kind) AS (VALUES ('item'), ('manifest')),
     lanes(lane) AS (VALUES ('urgent'), ('normal')),
     states(state) AS (VALUES ('queued'), ('uploading'), ('received'), ('failed'), ('cancelled'))
INSERT INTO queue_totals (kind, lane, state) SELECT kind, lane, state FROM kinds, lanes, states;
UPDATE queue_totals SET
    jobs = (SELECT count(*) FROM uploads u
            WHERE u.lane = queue_totals.lane AND u.state = queue_totals.state),
    bytes = (SELECT coalesce(sum(i.size), 0) FROM uploads u JOIN items i ON i.id = u.item_id
             WHERE u.lane = queue_totals.lane AND u.state = queue_totals.state)
    WHERE kind = 'item';
UPDATE queue_totals SET
    jobs = (SELECT count(*) FROM manifests m
            WHERE m.lane = queue_totals.lane AND m.state = queue_totals.state),
    bytes = (SELECT coalesce(sum(length(CAST(m.body AS BLOB))), 0) FROM manifests m
             WHERE m.lane = queue_totals.lane AND m.state = queue_totals.state)
    WHERE kind = 'manifest';

CREATE TRIGGER queue_totals_item_insert AFTER INSERT ON uploads
BEGIN
    UPDATE queue_totals SET jobs = jobs + 1,
                            bytes = bytes + (SELECT size FROM items WHERE id = NEW.item_id)
        WHERE kind = 'item' AND lane = NEW.lane AND state = NEW.state;
END;
CREATE TRIGGER queue_totals_item_update AFTER UPDATE OF lane, state ON uploads
WHEN OLD.lane != NEW.lane OR OLD.state != NEW.state
BEGIN
    UPDATE queue_totals SET jobs = jobs - 1,
                            bytes = bytes - (SELECT size FROM items WHERE id = OLD.item_id)
        WHERE kind = 'item' AND lane = OLD.lane AND state = OLD.state;
    UPDATE queue_totals SET jobs = jobs + 1,
                            bytes = bytes + (SELECT size FROM items WHERE id = NEW.item_id)
        WHERE kind = 'item' AND lane = NEW.lane AND state = NEW.state;
END;
CREATE TRIGGER queue_totals_item_delete AFTER DELETE ON uploads
BEGIN
    UPDATE queue_totals SET jobs = jobs - 1,
                            bytes = bytes - (SELECT size FROM items WHERE id = OLD.item_id)
        WHERE kind = 'item' AND lane = OLD.lane AND state = OLD.state;
END;
CREATE TRIGGER queue_totals_manifest_insert AFTER INSERT ON manifests
BEGIN
    UPDATE queue_totals SET jobs = jobs + 1, bytes = bytes + length(CAST(NEW.body AS BLOB))
        WHERE kind = 'manifest' AND lane = NEW.lane AND state = NEW.state;
END;
CREATE TRIGGER queue_totals_manifest_update AFTER UPDATE OF lane, state ON manifests
WHEN OLD.lane != NEW.lane OR OLD.state != NEW.state
BEGIN
    UPDATE queue_totals SET jobs = jobs - 1, bytes = bytes - length(CAST(OLD.body AS BLOB))
        WHERE kind = 'manifest' AND lane = OLD.lane AND state = OLD.state;
    UPDATE queue_totals SET jobs = jobs + 1, bytes = bytes + length(CAST(NEW.body AS BLOB))
        WHERE kind = 'manifest' AND lane = NEW.lane AND state = NEW.state;
END;

-- Extraction sessions by state.
CREATE TABLE session_totals (
    state    TEXT PRIMARY KEY CHECK (state IN ('created', 'running', 'completed',
                                                'interrupted', 'failed', 'cancelled')),
    sessions INTEGER NOT NULL CHECK (sessions >= 0)
) STRICT, WITHOUT ROWID;
WITH states(state) AS (VALUES ('created'), ('running'), ('completed'), ('interrupted'),
                              ('failed'), ('cancelled'))
INSERT INTO session_totals (state, sessions)
    SELECT state, (SELECT count(*) FROM sessions s WHERE s.state = states.state) FROM states;
CREATE TRIGGER session_totals_insert AFTER INSERT ON sessions
BEGIN
    UPDATE session_totals SET sessions = sessions + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER session_totals_update AFTER UPDATE OF state ON sessions
WHEN OLD.state != NEW.state
BEGIN
    UPDATE session_totals SET sessions = sessions - 1 WHERE state = OLD.state;
    UPDATE session_totals SET sessions = sessions + 1 WHERE state = NEW.state;
END;

CREATE INDEX uploads_by_received_at ON uploads(received_at_ms) WHERE received_at_ms IS NOT NULL;
)sql",
    // 4 -> 5: the method each session is extracted with (JSON: exhibit's version, the driver
    // and its version, the settings that shaped the extraction; docs/manifest.md). NULL for
    // the sessions before.
    R"sql(
ALTER TABLE sessions ADD COLUMN method TEXT;
)sql",
};

}  // namespace

int current_schema_version() {
    return static_cast<int>(kMigrations.size());
}

Result<int> schema_version(Database& db) {
    auto stmt = db.prepare("PRAGMA user_version");
    if (!stmt)
        return std::unexpected(stmt.error());
    auto row = stmt->step();
    if (!row)
        return std::unexpected(row.error());
    return static_cast<int>(stmt->column_int(0));
}

Status migrate(Database& db) {
    auto version = schema_version(db);
    if (!version)
        return std::unexpected(version.error());
    const int target = current_schema_version();
    if (*version == target)
        return {};
    if (*version > target || *version < 0)
        return fail(Errc::unsupported,
                    fmt::format("catalog has schema version {}, but this exhibit knows versions up "
                                "to {}; refusing to touch it (install the newer exhibit)",
                                *version, target));

    auto tx = Transaction::begin(db);
    if (!tx)
        return std::unexpected(tx.error());
    for (int v = *version; v < target; ++v) {
        auto step = [&]() -> Status {
            if (auto s = db.exec(fmt::format("SAVEPOINT migrate_{}", v + 1)); !s)
                return s;
            if (auto s = db.exec(kMigrations[static_cast<std::size_t>(v)]); !s)
                return s;
            if (auto s = db.exec(fmt::format("PRAGMA user_version = {}", v + 1)); !s)
                return s;
            return db.exec(fmt::format("RELEASE migrate_{}", v + 1));
        }();
        if (!step)
            return fail(Errc::database,
                        fmt::format("migration of the catalog from schema version {} to {} failed: "
                                    "{}; the catalog was left unchanged",
                                    v, v + 1, step.error().message));
    }
    return tx->commit();
}

}  // namespace exhibit::store
