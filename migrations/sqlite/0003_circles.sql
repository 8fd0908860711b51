-- Life circles (embedded store): the same tables and columns as the PostGIS store. Geometry is
-- WGS84 lon/lat stored as OGC WKB in a BLOB; JSON is text; times are RFC 3339 UTC text.

-- The run the results below belong to: one row at most.
CREATE TABLE circle_runs (
    id          INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    computed_at TEXT NOT NULL,
    speed_mps   REAL NOT NULL CHECK (speed_mps > 0),
    profile     TEXT NOT NULL CHECK (profile <> ''),
    categories  TEXT NOT NULL,
    graph       TEXT NOT NULL
);

-- Nearest facility per building and category. NULL distance: unreachable or beyond the cut-off.
CREATE TABLE circle_results (
    building_id TEXT NOT NULL CHECK (building_id <> ''),
    category    TEXT NOT NULL CHECK (category <> ''),
    distance_m  REAL CHECK (distance_m >= 0),
    time_s      REAL CHECK (time_s >= 0),
    facility_id TEXT CHECK (facility_id <> ''),
    PRIMARY KEY (building_id, category)
);
CREATE INDEX circle_results_category_idx ON circle_results (category);

-- Completeness score per building (0..1).
CREATE TABLE circle_scores (
    building_id  TEXT PRIMARY KEY NOT NULL CHECK (building_id <> ''),
    completeness REAL NOT NULL CHECK (completeness BETWEEN 0 AND 1)
);

-- Coverage per category, level and region (`region_id` a grid, community, street id, or the city's).
CREATE TABLE circle_coverage (
    category           TEXT NOT NULL CHECK (category <> ''),
    level              TEXT NOT NULL CHECK (level IN ('grid', 'community', 'street', 'city')),
    region_id          TEXT NOT NULL CHECK (region_id <> ''),
    households_covered INTEGER NOT NULL CHECK (households_covered >= 0),
    households_total   INTEGER NOT NULL CHECK (households_total >= households_covered),
    buildings_covered  INTEGER NOT NULL CHECK (buildings_covered >= 0),
    buildings_total    INTEGER NOT NULL CHECK (buildings_total >= buildings_covered),
    PRIMARY KEY (category, level, region_id)
);
CREATE INDEX circle_coverage_level_idx ON circle_coverage (level, category);

-- Siting suggestions per category, best first (rank 1).
CREATE TABLE circle_sites (
    category          TEXT NOT NULL CHECK (category <> ''),
    rank              INTEGER NOT NULL CHECK (rank BETWEEN 1 AND 4294967295),
    households_gained INTEGER NOT NULL CHECK (households_gained >= 0),
    detail            TEXT NOT NULL,
    geom              BLOB NOT NULL,
    PRIMARY KEY (category, rank)
);
