//! The domain model: the administrative hierarchy, compounds, buildings and their units,
//! facilities, the walking network, basemap features and population cells.
//!
//! Every entity carries a stable `source_id` (e.g. `osm:w123456`, a register's building code)
//! and the `dataset` it was imported from. Geometry is WGS84 lon/lat (EPSG:4326).

use geo::{LineString, MultiPolygon, Point, Polygon};
use serde::{Deserialize, Serialize};

/// Where a household count comes from. Everything except `Register` and `Declared` is an estimate
/// and is marked as such wherever it appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdSource {
    /// No count and no estimate (not residential, or nothing to estimate from).
    #[default]
    None,
    /// From a household register (CSV) kept by the community.
    Register,
    /// Given in the source data (e.g. a GeoJSON `households` property).
    Declared,
    /// Estimated: a population grid shared to residential buildings by floor area, divided by household size.
    EstimatePopulationGrid,
    /// Estimated: floor area divided by an average dwelling floor area.
    EstimateFloorArea,
}

impl HouseholdSource {
    /// True for the estimated sources.
    pub fn is_estimated(self) -> bool {
        matches!(self, Self::EstimatePopulationGrid | Self::EstimateFloorArea)
    }
    /// The stable snake_case name used in files, the store and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Register => "register",
            Self::Declared => "declared",
            Self::EstimatePopulationGrid => "estimate_population_grid",
            Self::EstimateFloorArea => "estimate_floor_area",
        }
    }
    /// Parses [`HouseholdSource::as_str`] back.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => Self::None,
            "register" => Self::Register,
            "declared" => Self::Declared,
            "estimate_population_grid" => Self::EstimatePopulationGrid,
            "estimate_floor_area" => Self::EstimateFloorArea,
            _ => return None,
        })
    }
}

/// A household count with its provenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Households {
    /// Number of households.
    pub count: u32,
    /// Where the number comes from.
    pub source: HouseholdSource,
}

impl Households {
    /// A count with a source.
    pub fn new(count: u32, source: HouseholdSource) -> Self {
        Self { count, source }
    }
    /// True when the count is an estimate.
    pub fn is_estimated(&self) -> bool {
        self.source.is_estimated()
    }
}

/// A unit (单元, stairwell/entrance) of a building with its households.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// The unit's label inside its building, e.g. `"1"` or `"2单元"`.
    pub label: String,
    /// Households in this unit.
    pub households: u32,
}

/// A building's shape: a footprint, or a point where only a point is mapped.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A footprint (one or more polygons).
    Footprint(MultiPolygon<f64>),
    /// A mapped point.
    Point(Point<f64>),
}

impl Shape {
    /// A representative point: the mapped point, or a point inside the footprint (not merely
    /// its centroid). `None` for an empty footprint.
    pub fn point(&self) -> Option<Point<f64>> {
        match self {
            Shape::Footprint(mp) => crate::geometry::inside_point(mp),
            Shape::Point(p) => Some(*p),
        }
    }

    /// The geometry as a `geo::Geometry`.
    pub fn to_geometry(&self) -> geo::Geometry<f64> {
        match self {
            Shape::Footprint(mp) => geo::Geometry::MultiPolygon(mp.clone()),
            Shape::Point(p) => geo::Geometry::Point(*p),
        }
    }
}

/// A building (楼栋).
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    /// Stable source id, e.g. `osm:w123`.
    pub source_id: String,
    /// The dataset this building was imported from.
    pub dataset: String,
    /// Footprint or point.
    pub shape: Shape,
    /// The building type (OSM `building=*` value, or as given).
    pub kind: String,
    /// Name or number, if any.
    pub name: Option<String>,
    /// Storeys above ground, when known.
    pub levels: Option<u16>,
    /// Households (effective value after the register is applied).
    pub households: Households,
    /// Units with their households, when known.
    pub units: Vec<Unit>,
    /// Source id of the compound (小区) the building lies in, if any.
    pub compound: Option<String>,
    /// Source id of the community (社区) the building lies in, if any.
    pub community: Option<String>,
    /// Whether the building is taken to be residential.
    pub residential: bool,
}

/// A residential compound (小区).
#[derive(Debug, Clone, PartialEq)]
pub struct Compound {
    /// Stable source id.
    pub source_id: String,
    /// Dataset.
    pub dataset: String,
    /// Name, if any.
    pub name: Option<String>,
    /// Outline.
    pub area: MultiPolygon<f64>,
    /// Source id of the community it lies in, if any.
    pub community: Option<String>,
}

/// The administrative levels above the compound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// 区 / 县: district or county.
    District,
    /// 街道 / 乡镇: street office or township.
    Street,
    /// 社区 / 村: community (residents' committee).
    Community,
}

impl RegionLevel {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::District => "district",
            Self::Street => "street",
            Self::Community => "community",
        }
    }
    /// Parses a level name (English ids or the Chinese terms).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_lowercase().as_str() {
            "district" | "county" | "区" | "县" => Self::District,
            "street" | "subdistrict" | "township" | "街道" | "乡镇" | "镇" => Self::Street,
            "community" | "village" | "社区" | "村" => Self::Community,
            _ => return None,
        })
    }
}

/// A district, street or community boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Stable source id.
    pub source_id: String,
    /// Dataset.
    pub dataset: String,
    /// Level in the hierarchy.
    pub level: RegionLevel,
    /// Name.
    pub name: String,
    /// Administrative code (GB/T 2260 county code, street and community codes), when known.
    pub code: Option<String>,
    /// Source id of the enclosing region, if known.
    pub parent: Option<String>,
    /// Outline.
    pub area: MultiPolygon<f64>,
}

/// A grid (网格): a set of buildings or units under one grid worker. Plans of grids are built by the
/// partitioning engine; the model only names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Stable id, e.g. a CJ/T 349 code.
    pub id: String,
    /// Community the grid belongs to.
    pub community: String,
    /// Households in the grid.
    pub households: u32,
}

/// A service facility (kindergarten, clinic, …) with its catalogue category.
#[derive(Debug, Clone, PartialEq)]
pub struct Facility {
    /// Stable source id.
    pub source_id: String,
    /// Dataset.
    pub dataset: String,
    /// Catalogue category id, e.g. `kindergarten`.
    pub category: String,
    /// Name, if any.
    pub name: Option<String>,
    /// Location (a polygon's interior point for mapped areas).
    pub location: Point<f64>,
}

/// A node of the walking network.
#[derive(Debug, Clone, PartialEq)]
pub struct NetNode {
    /// Stable source id, e.g. `osm:n42`.
    pub source_id: String,
    /// Location.
    pub location: Point<f64>,
}

/// An edge of the walking network between two nodes. Walkable in both directions.
#[derive(Debug, Clone, PartialEq)]
pub struct NetEdge {
    /// Stable source id, e.g. `osm:w7:3` (way 7, piece 3).
    pub source_id: String,
    /// Dataset.
    pub dataset: String,
    /// Source id of the first node.
    pub from: String,
    /// Source id of the last node.
    pub to: String,
    /// Geodesic (haversine) length in metres along the geometry.
    pub length_m: f64,
    /// Road class (OSM `highway=*`).
    pub highway: String,
    /// Street name, if any.
    pub name: Option<String>,
    /// True for private paths kept walkable (compound paths with `access=private`).
    pub private: bool,
    /// The line from `from` to `to`.
    pub geometry: LineString<f64>,
}

/// What a basemap feature shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BasemapKind {
    /// A road of any class (including ones nobody may walk on).
    Road,
    /// A railway line.
    Rail,
    /// A water area.
    Water,
    /// A river, stream or canal line.
    Waterway,
    /// A park, garden or playground.
    Park,
    /// Land use (residential, commercial, …) and green areas.
    Landuse,
}

impl BasemapKind {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Road => "road",
            Self::Rail => "rail",
            Self::Water => "water",
            Self::Waterway => "waterway",
            Self::Park => "park",
            Self::Landuse => "landuse",
        }
    }
    /// Parses [`BasemapKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "road" => Self::Road,
            "rail" => Self::Rail,
            "water" => Self::Water,
            "waterway" => Self::Waterway,
            "park" => Self::Park,
            "landuse" => Self::Landuse,
            _ => return None,
        })
    }
}

/// A feature drawn on the project's own basemap, and used as a barrier by the engines.
#[derive(Debug, Clone, PartialEq)]
pub struct BasemapFeature {
    /// Stable source id.
    pub source_id: String,
    /// Dataset.
    pub dataset: String,
    /// What it is.
    pub kind: BasemapKind,
    /// Finer class (e.g. `primary`, `river`, `residential`).
    pub class: String,
    /// Name, if any.
    pub name: Option<String>,
    /// Line or area geometry.
    pub geometry: geo::Geometry<f64>,
}

/// A population grid cell (residents in a square).
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationCell {
    /// Stable source id.
    pub source_id: String,
    /// Dataset.
    pub dataset: String,
    /// Residents in the cell.
    pub population: f64,
    /// Cell outline.
    pub area: Polygon<f64>,
}

/// One row of a household register: a building (and optionally one of its units) and its households.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    /// Building source id.
    pub building: String,
    /// Unit label, when the register is kept per unit.
    pub unit: Option<String>,
    /// Households.
    pub households: u32,
    /// Dataset (the register file).
    pub dataset: String,
}

/// A dataset: one imported source file. Re-importing a dataset replaces what it brought before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Dataset name (by default the file name), the key that re-imports replace.
    pub name: String,
    /// Detected format: `osm_pbf`, `osm_xml`, `geojson`, `register_csv`, `population_gpkg`.
    pub format: String,
    /// The path the data was read from.
    pub source: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}
