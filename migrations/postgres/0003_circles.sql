-- Life circles (15分钟生活圈): the results of the last `wangge circles compute`, replaced wholesale by
-- the next one, and siting suggestions. Same tables and columns as the embedded store. JSON columns
-- are text (not jsonb) so that they come back byte for byte (query them as `categories::jsonb`).

-- The run the results below belong to: one row at most.
CREATE TABLE circle_runs (
    id          integer PRIMARY KEY CHECK (id = 1),
    computed_at timestamptz NOT NULL,
    speed_mps   double precision NOT NULL CHECK (speed_mps > 0),
    profile     text NOT NULL CHECK (profile <> ''),
    -- [{"id", "level", "distance_m", "weight"}, …]: the catalogue categories and thresholds used.
    categories  text NOT NULL,
    -- {"nodes", "edges", "islands", "unreachable_buildings", …}: the walking graph.
    graph       text NOT NULL
);

-- Nearest facility per building and category. NULL distance: unreachable or beyond the cut-off.
CREATE TABLE circle_results (
    building_id text NOT NULL CHECK (building_id <> ''),
    category    text NOT NULL CHECK (category <> ''),
    distance_m  double precision CHECK (distance_m >= 0),
    time_s      double precision CHECK (time_s >= 0),
    facility_id text CHECK (facility_id <> ''),
    PRIMARY KEY (building_id, category)
);
CREATE INDEX circle_results_category_idx ON circle_results (category);

-- Completeness score per building (0..1).
CREATE TABLE circle_scores (
    building_id  text PRIMARY KEY CHECK (building_id <> ''),
    completeness double precision NOT NULL CHECK (completeness BETWEEN 0 AND 1)
);

-- Coverage per category, level and region (`region_id` a grid, community, street id, or the city's).
CREATE TABLE circle_coverage (
    category           text NOT NULL CHECK (category <> ''),
    level              text NOT NULL CHECK (level IN ('grid', 'community', 'street', 'city')),
    region_id          text NOT NULL CHECK (region_id <> ''),
    households_covered bigint NOT NULL CHECK (households_covered >= 0),
    households_total   bigint NOT NULL CHECK (households_total >= households_covered),
    buildings_covered  bigint NOT NULL CHECK (buildings_covered >= 0),
    buildings_total    bigint NOT NULL CHECK (buildings_total >= buildings_covered),
    PRIMARY KEY (category, level, region_id)
);
CREATE INDEX circle_coverage_level_idx ON circle_coverage (level, category);

-- Siting suggestions per category, best first (rank 1).
CREATE TABLE circle_sites (
    category          text NOT NULL CHECK (category <> ''),
    rank              bigint NOT NULL CHECK (rank BETWEEN 1 AND 4294967295),
    households_gained bigint NOT NULL CHECK (households_gained >= 0),
    detail            text NOT NULL,
    geom              geometry(Point, 4326) NOT NULL,
    PRIMARY KEY (category, rank)
);
CREATE INDEX circle_sites_geom_idx ON circle_sites USING gist (geom);
