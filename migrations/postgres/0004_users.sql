-- Users, their bearer tokens, and grid workers: the same tables and columns as the embedded store.

CREATE TABLE users (
    name          text PRIMARY KEY CHECK (name <> ''),
    -- argon2 PHC string ($argon2id$v=19$...).
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2%'),
    role          text NOT NULL CHECK (role IN ('resident', 'leader', 'planner')),
    created_at    timestamptz NOT NULL
);

-- Opaque bearer tokens, kept only as the hex SHA-256 of the token.
CREATE TABLE tokens (
    token_hash text PRIMARY KEY CHECK (length(token_hash) = 64),
    user_name  text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX tokens_user_idx ON tokens (user_name);

-- Grid workers (网格员), by grid id and independent of any plan. Each time a grid's workers are
-- set, a new numbered set is added (the earlier ones stay as history); the set in force is the
-- one with the highest version, and it may be empty.
CREATE TABLE grid_worker_sets (
    grid_id    text CHECK (grid_id <> ''),
    version    bigint NOT NULL CHECK (version >= 1),
    -- From when the set holds, as the caller gave it (an RFC 3339 date or time).
    valid_from text NOT NULL,
    set_at     timestamptz NOT NULL,
    set_by     text NOT NULL,
    PRIMARY KEY (grid_id, version)
);

CREATE TABLE grid_workers (
    grid_id text NOT NULL,
    version bigint NOT NULL,
    seq     bigint NOT NULL CHECK (seq >= 0),
    name    text NOT NULL CHECK (name <> ''),
    phone   text NOT NULL,
    role    text NOT NULL,
    PRIMARY KEY (grid_id, version, seq),
    FOREIGN KEY (grid_id, version) REFERENCES grid_worker_sets (grid_id, version) ON DELETE CASCADE
);
