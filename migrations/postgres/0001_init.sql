-- wangge PostGIS store, initial layout. Geometry is WGS84 lon/lat (SRID 4326) with a GiST index
-- on every geometry column, so QGIS and psql users can query the tables directly.
-- Every entity row carries the dataset (imported file) it came from; re-imports replace by dataset.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE datasets (
    name        text PRIMARY KEY,
    format      text NOT NULL,
    source      text NOT NULL,
    sha256      text NOT NULL,
    imported_at timestamptz NOT NULL
);

CREATE TABLE buildings (
    source_id         text PRIMARY KEY CHECK (source_id <> ''),
    dataset           text NOT NULL,
    kind              text NOT NULL,
    name              text,
    levels            integer CHECK (levels BETWEEN 0 AND 65535),
    households        bigint NOT NULL CHECK (households BETWEEN 0 AND 4294967295),
    households_source text NOT NULL CHECK (households_source IN
        ('none', 'register', 'declared', 'estimate_population_grid', 'estimate_floor_area')),
    residential       boolean NOT NULL,
    compound          text,
    community         text,
    units             text NOT NULL DEFAULT '[]',
    -- A POINT or a MULTIPOLYGON. (No CHECK on the type: PostGIS's geometry_columns view would
    -- then report the column as POINT, and QGIS would believe it.)
    geom              geometry(Geometry, 4326) NOT NULL
);
CREATE INDEX buildings_dataset_idx ON buildings (dataset);
CREATE INDEX buildings_compound_idx ON buildings (compound);
CREATE INDEX buildings_community_idx ON buildings (community);
CREATE INDEX buildings_geom_idx ON buildings USING gist (geom);

CREATE TABLE compounds (
    source_id text PRIMARY KEY CHECK (source_id <> ''),
    dataset   text NOT NULL,
    name      text,
    community text,
    geom      geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX compounds_dataset_idx ON compounds (dataset);
CREATE INDEX compounds_geom_idx ON compounds USING gist (geom);

CREATE TABLE regions (
    source_id text PRIMARY KEY CHECK (source_id <> ''),
    dataset   text NOT NULL,
    level     text NOT NULL CHECK (level IN ('district', 'street', 'community')),
    name      text NOT NULL,
    code      text,
    parent    text,
    geom      geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX regions_dataset_idx ON regions (dataset);
CREATE INDEX regions_parent_idx ON regions (parent);
CREATE INDEX regions_geom_idx ON regions USING gist (geom);

CREATE TABLE facilities (
    source_id text PRIMARY KEY CHECK (source_id <> ''),
    dataset   text NOT NULL,
    category  text NOT NULL,
    name      text,
    geom      geometry(Point, 4326) NOT NULL
);
CREATE INDEX facilities_dataset_idx ON facilities (dataset);
CREATE INDEX facilities_category_idx ON facilities (category);
CREATE INDEX facilities_geom_idx ON facilities USING gist (geom);

-- Nodes are shared by id between datasets; `dataset` is the one that wrote the row last.
-- Nodes no edge refers to are deleted at the end of every dataset replacement.
CREATE TABLE net_nodes (
    source_id text PRIMARY KEY CHECK (source_id <> ''),
    dataset   text NOT NULL,
    geom      geometry(Point, 4326) NOT NULL
);
CREATE INDEX net_nodes_dataset_idx ON net_nodes (dataset);
CREATE INDEX net_nodes_geom_idx ON net_nodes USING gist (geom);

CREATE TABLE net_edges (
    source_id text PRIMARY KEY CHECK (source_id <> ''),
    dataset   text NOT NULL,
    from_node text NOT NULL,
    to_node   text NOT NULL,
    length_m  double precision NOT NULL,
    highway   text NOT NULL,
    name      text,
    private   boolean NOT NULL,
    geom      geometry(LineString, 4326) NOT NULL
);
CREATE INDEX net_edges_dataset_idx ON net_edges (dataset);
CREATE INDEX net_edges_from_idx ON net_edges (from_node);
CREATE INDEX net_edges_to_idx ON net_edges (to_node);
CREATE INDEX net_edges_geom_idx ON net_edges USING gist (geom);

CREATE TABLE basemap (
    source_id text PRIMARY KEY CHECK (source_id <> ''),
    dataset   text NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('road', 'rail', 'water', 'waterway', 'park', 'landuse')),
    class     text NOT NULL,
    name      text,
    geom      geometry(Geometry, 4326) NOT NULL
);
CREATE INDEX basemap_dataset_idx ON basemap (dataset);
CREATE INDEX basemap_kind_idx ON basemap (kind);
CREATE INDEX basemap_geom_idx ON basemap USING gist (geom);

CREATE TABLE population_cells (
    source_id  text PRIMARY KEY CHECK (source_id <> ''),
    dataset    text NOT NULL,
    population double precision NOT NULL,
    geom       geometry(Polygon, 4326) NOT NULL
);
CREATE INDEX population_cells_dataset_idx ON population_cells (dataset);
CREATE INDEX population_cells_geom_idx ON population_cells USING gist (geom);

-- Household register rows. `unit` is '' for a whole-building row.
CREATE TABLE register (
    building_id text NOT NULL CHECK (building_id <> ''),
    unit        text NOT NULL DEFAULT '',
    households  bigint NOT NULL CHECK (households BETWEEN 0 AND 4294967295),
    dataset     text NOT NULL,
    PRIMARY KEY (building_id, unit)
);
CREATE INDEX register_dataset_idx ON register (dataset);
