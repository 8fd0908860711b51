-- Users, their bearer tokens, and grid workers (embedded store): the same tables and columns as
-- the PostGIS store. Times are RFC 3339 UTC text.

CREATE TABLE users (
    name          TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
    -- argon2 PHC string ($argon2id$v=19$...).
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2%'),
    role          TEXT NOT NULL CHECK (role IN ('resident', 'leader', 'planner')),
    created_at    TEXT NOT NULL
);

-- Opaque bearer tokens, kept only as the hex SHA-256 of the token.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY NOT NULL CHECK (length(token_hash) = 64),
    user_name  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX tokens_user_idx ON tokens (user_name);

-- Grid workers (网格员), by grid id and independent of any plan. Each time a grid's workers are
-- set, a new numbered set is added (the earlier ones stay as history); the set in force is the
-- one with the highest version, and it may be empty.
CREATE TABLE grid_worker_sets (
    grid_id    TEXT NOT NULL CHECK (grid_id <> ''),
    version    INTEGER NOT NULL CHECK (version >= 1),
    -- From when the set holds, as the caller gave it (an RFC 3339 date or time).
    valid_from TEXT NOT NULL,
    set_at     TEXT NOT NULL,
    set_by     TEXT NOT NULL,
    PRIMARY KEY (grid_id, version)
);

CREATE TABLE grid_workers (
    grid_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    seq     INTEGER NOT NULL CHECK (seq >= 0),
    name    TEXT NOT NULL CHECK (name <> ''),
    phone   TEXT NOT NULL,
    role    TEXT NOT NULL,
    PRIMARY KEY (grid_id, version, seq),
    FOREIGN KEY (grid_id, version) REFERENCES grid_worker_sets (grid_id, version) ON DELETE CASCADE
);
