-- wangge embedded store (SQLite), initial layout: the same tables and columns as the PostGIS store.
-- Geometry is WGS84 lon/lat stored as OGC WKB in a BLOB.
-- Every entity row carries the dataset (imported file) it came from; re-imports replace by dataset.

CREATE TABLE datasets (
    name        TEXT PRIMARY KEY NOT NULL,
    format      TEXT NOT NULL,
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE buildings (
    source_id         TEXT PRIMARY KEY NOT NULL CHECK (source_id <> ''),
    dataset           TEXT NOT NULL,
    kind              TEXT NOT NULL,
    name              TEXT,
    levels            INTEGER CHECK (levels BETWEEN 0 AND 65535),
    households        INTEGER NOT NULL CHECK (households BETWEEN 0 AND 4294967295),
    households_source TEXT NOT NULL CHECK (households_source IN
        ('none', 'register', 'declared', 'estimate_population_grid', 'estimate_floor_area')),
    residential       BOOLEAN NOT NULL CHECK (residential IN (0, 1)),
    compound          TEXT,
    community         TEXT,
    units             TEXT NOT NULL DEFAULT '[]',
    geom              BLOB NOT NULL
);
CREATE INDEX buildings_dataset_idx ON buildings (dataset);
CREATE INDEX buildings_compound_idx ON buildings (compound);
CREATE INDEX buildings_community_idx ON buildings (community);

CREATE TABLE compounds (
    source_id TEXT PRIMARY KEY NOT NULL CHECK (source_id <> ''),
    dataset   TEXT NOT NULL,
    name      TEXT,
    community TEXT,
    geom      BLOB NOT NULL
);
CREATE INDEX compounds_dataset_idx ON compounds (dataset);

CREATE TABLE regions (
    source_id TEXT PRIMARY KEY NOT NULL CHECK (source_id <> ''),
    dataset   TEXT NOT NULL,
    level     TEXT NOT NULL CHECK (level IN ('district', 'street', 'community')),
    name      TEXT NOT NULL,
    code      TEXT,
    parent    TEXT,
    geom      BLOB NOT NULL
);
CREATE INDEX regions_dataset_idx ON regions (dataset);
CREATE INDEX regions_parent_idx ON regions (parent);

CREATE TABLE facilities (
    source_id TEXT PRIMARY KEY NOT NULL CHECK (source_id <> ''),
    dataset   TEXT NOT NULL,
    category  TEXT NOT NULL,
    name      TEXT,
    geom      BLOB NOT NULL
);
CREATE INDEX facilities_dataset_idx ON facilities (dataset);
CREATE INDEX facilities_category_idx ON facilities (category);

-- Nodes are shared by id between datasets; `dataset` is the one that wrote the row last.
-- Nodes no edge refers to are deleted at the end of every dataset replacement.
CREATE TABLE net_nodes (
    source_id TEXT PRIMARY KEY NOT NULL CHECK (source_id <> ''),
    dataset   TEXT NOT NULL,
    geom      BLOB NOT NULL
);
CREATE INDEX net_nodes_dataset_idx ON net_nodes (dataset);

CREATE TABLE net_edges (
    source_id TEXT PRIMARY KEY NOT NULL CHECK (source_id <> ''),
    dataset   TEXT NOT NULL,
    from_node TEXT NOT NULL,
    to_node   TEXT NOT NULL,
    length_m  REAL NOT NULL,
    highway   TEXT NOT NULL,
    name      TEXT,
    private   BOOLEAN NOT NULL CHECK (private IN (0, 1)),
    geom      BLOB NOT NULL
);
CREATE INDEX net_edges_dataset_idx ON net_edges (dataset);
CREATE INDEX net_edges_from_idx ON net_edges (from_node);
CREATE INDEX net_edges_to_idx ON net_edges (to_node);

CREATE TABLE basemap (
    source_id TEXT PRIMARY KEY NOT NULL CHECK (source_id <> ''),
    dataset   TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('road', 'rail', 'water', 'waterway', 'park', 'landuse')),
    class     TEXT NOT NULL,
    name      TEXT,
    geom      BLOB NOT NULL
);
CREATE INDEX basemap_dataset_idx ON basemap (dataset);
CREATE INDEX basemap_kind_idx ON basemap (kind);

CREATE TABLE population_cells (
    source_id  TEXT PRIMARY KEY NOT NULL CHECK (source_id <> ''),
    dataset    TEXT NOT NULL,
    population REAL NOT NULL,
    geom       BLOB NOT NULL
);
CREATE INDEX population_cells_dataset_idx ON population_cells (dataset);

-- Household register rows. `unit` is '' for a whole-building row.
CREATE TABLE register (
    building_id TEXT NOT NULL CHECK (building_id <> ''),
    unit        TEXT NOT NULL DEFAULT '',
    households  INTEGER NOT NULL CHECK (households BETWEEN 0 AND 4294967295),
    dataset     TEXT NOT NULL,
    PRIMARY KEY (building_id, unit)
);
CREATE INDEX register_dataset_idx ON register (dataset);
