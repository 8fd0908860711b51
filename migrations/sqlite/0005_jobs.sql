-- Background jobs and the audit log of register changes (embedded store): the same tables and
-- columns as the PostGIS store. JSON is text; times are RFC 3339 UTC text.

-- One row per job started through the API. `result` is the summary of a finished job (JSON).
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind <> ''),
    params      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
    progress    REAL NOT NULL CHECK (progress >= 0 AND progress <= 1),
    message     TEXT NOT NULL,
    result      TEXT,
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX jobs_status_idx ON jobs (status);

-- Register changes (households of a building, facilities): who, when, what.
CREATE TABLE audit (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    author TEXT NOT NULL,
    target TEXT NOT NULL CHECK (target <> ''),
    change TEXT NOT NULL
);
CREATE INDEX audit_target_idx ON audit (target);
