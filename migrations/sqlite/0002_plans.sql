-- Grid plans (embedded store): the same tables and columns as the PostGIS store. Geometry is
-- WGS84 lon/lat stored as OGC WKB in a BLOB; JSON is text; times are RFC 3339 UTC text.

CREATE TABLE plans (
    name         TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
    status       TEXT NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    version      INTEGER NOT NULL CHECK (version >= 1),
    quota_min    INTEGER NOT NULL CHECK (quota_min BETWEEN 0 AND 4294967295),
    quota_max    INTEGER NOT NULL CHECK (quota_max BETWEEN 0 AND 4294967295),
    quota_target INTEGER NOT NULL CHECK (quota_target BETWEEN 0 AND 4294967295),
    metrics      TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
-- At most one plan in force.
CREATE UNIQUE INDEX plans_one_active_idx ON plans (status) WHERE status = 'active';

-- `unit` is '' for a whole building.
CREATE TABLE plan_assignments (
    plan        TEXT NOT NULL REFERENCES plans (name) ON DELETE CASCADE,
    building_id TEXT NOT NULL CHECK (building_id <> ''),
    unit        TEXT NOT NULL DEFAULT '',
    grid_id     TEXT NOT NULL CHECK (grid_id <> ''),
    PRIMARY KEY (plan, building_id, unit)
);
CREATE INDEX plan_assignments_grid_idx ON plan_assignments (plan, grid_id);

CREATE TABLE plan_grids (
    plan       TEXT NOT NULL REFERENCES plans (name) ON DELETE CASCADE,
    grid_id    TEXT NOT NULL CHECK (grid_id <> ''),
    community  TEXT NOT NULL,
    households INTEGER NOT NULL CHECK (households >= 0),
    buildings  INTEGER NOT NULL CHECK (buildings BETWEEN 0 AND 4294967295),
    -- NULL when the plan has no outline for the grid.
    geom       BLOB,
    PRIMARY KEY (plan, grid_id)
);

-- Edit history: one row per hand edit, `seq` counting from 1 within a plan.
CREATE TABLE plan_edits (
    plan   TEXT NOT NULL REFERENCES plans (name) ON DELETE CASCADE,
    seq    INTEGER NOT NULL CHECK (seq >= 1),
    at     TEXT NOT NULL,
    author TEXT NOT NULL,
    edit   TEXT NOT NULL,
    PRIMARY KEY (plan, seq)
);
