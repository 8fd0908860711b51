-- Grid plans: a named, versioned assignment of buildings (or units) to grids, the grid outlines
-- derived from it, its metrics, and the history of hand edits. Same tables and columns as the
-- embedded store. JSON columns are text (not jsonb) so that a plan's metrics and edits come back
-- byte for byte as they were written (jsonb renormalises numbers); query them as `metrics::jsonb`.

CREATE TABLE plans (
    name         text PRIMARY KEY CHECK (name <> ''),
    status       text NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    version      bigint NOT NULL CHECK (version >= 1),
    quota_min    bigint NOT NULL CHECK (quota_min BETWEEN 0 AND 4294967295),
    quota_max    bigint NOT NULL CHECK (quota_max BETWEEN 0 AND 4294967295),
    quota_target bigint NOT NULL CHECK (quota_target BETWEEN 0 AND 4294967295),
    metrics      text NOT NULL,
    created_at   timestamptz NOT NULL
);
-- At most one plan in force.
CREATE UNIQUE INDEX plans_one_active_idx ON plans (status) WHERE status = 'active';

-- `unit` is '' for a whole building.
CREATE TABLE plan_assignments (
    plan        text NOT NULL REFERENCES plans (name) ON DELETE CASCADE,
    building_id text NOT NULL CHECK (building_id <> ''),
    unit        text NOT NULL DEFAULT '',
    grid_id     text NOT NULL CHECK (grid_id <> ''),
    PRIMARY KEY (plan, building_id, unit)
);
CREATE INDEX plan_assignments_grid_idx ON plan_assignments (plan, grid_id);

CREATE TABLE plan_grids (
    plan       text NOT NULL REFERENCES plans (name) ON DELETE CASCADE,
    grid_id    text NOT NULL CHECK (grid_id <> ''),
    community  text NOT NULL,
    households bigint NOT NULL CHECK (households >= 0),
    buildings  bigint NOT NULL CHECK (buildings BETWEEN 0 AND 4294967295),
    -- NULL when the plan has no outline for the grid.
    geom       geometry(Polygon, 4326),
    PRIMARY KEY (plan, grid_id)
);
CREATE INDEX plan_grids_geom_idx ON plan_grids USING gist (geom);

-- Edit history: one row per hand edit, `seq` counting from 1 within a plan.
CREATE TABLE plan_edits (
    plan   text NOT NULL REFERENCES plans (name) ON DELETE CASCADE,
    seq    bigint NOT NULL CHECK (seq >= 1),
    at     timestamptz NOT NULL,
    author text NOT NULL,
    edit   text NOT NULL,
    PRIMARY KEY (plan, seq)
);
