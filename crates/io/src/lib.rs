//! wangge-io: everything that reads or writes a file format.
//!
//! - [`detect`]: tells a file's format from its content (not its extension).
//! - [`osm`]: OpenStreetMap PBF and XML → buildings, compounds, boundaries, facilities, walking network, basemap.
//! - [`geojson_in`]: GeoJSON buildings, facilities, boundaries, compounds and networks.
//! - [`register`]: CSV household registers (building → households, optionally per unit).
//! - [`gpkg`]: GeoPackage population grids.
//! - [`estimate`]: household estimates where no register exists.
//! - [`export`]: GeoJSON files written atomically.
//! - [`assignment`]: assignment CSV files (`building_id,unit,grid_id`).
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod assignment;
pub mod detect;
pub mod error;
pub mod estimate;
pub mod export;
pub mod geojson_in;
pub mod gpkg;
pub mod osm;
pub mod register;

pub use error::{IoError, Result};
use wangge_core::{Catalogue, DatasetInfo, Layers};

/// What reading one source file produced.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The dataset (name, format, path, hash).
    pub dataset: DatasetInfo,
    /// Its contents, every row tagged with `dataset.name`.
    pub layers: Layers,
    /// What was repaired, skipped or could not be assembled, one line each, naming the feature.
    pub notes: Vec<String>,
}

/// What a GeoJSON file is for, when its features do not say it themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeoJsonRole {
    /// As `docs/formats.md` says: areas without `level`/`category` are buildings.
    #[default]
    Auto,
    /// A boundary file: every area without `level` is a community (name from `name`, else the id).
    Boundaries,
    /// A barrier file: every line is a barrier (its kind from `highway`, `railway`, `waterway` or `kind`).
    Barriers,
}

/// Options for reading sources.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The facility catalogue used to classify features.
    pub catalogue: Catalogue,
    /// Dataset name; defaults to the file name.
    pub dataset: Option<String>,
    /// Population column of a GeoPackage grid; found by name when not given.
    pub population_field: Option<String>,
    /// How GeoJSON features without a telling property are read.
    pub geojson_role: GeoJsonRole,
    /// Coordinate system of GeoJSON and CSV inputs from Chinese sources (GCJ-02, BD-09); converted to WGS84 on read.
    pub input_coords: wangge_core::chinacoords::CoordSystem,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            catalogue: Catalogue::default_catalogue(),
            dataset: None,
            population_field: None,
            input_coords: Default::default(),
            geojson_role: GeoJsonRole::Auto,
        }
    }
}

/// Reads one source file, detecting its format from its content: OpenStreetMap PBF or XML,
/// GeoJSON, a CSV household register or a GeoPackage population grid. Every row is tagged with
/// the dataset name (`opts.dataset`, else the file name).
pub fn read(path: &std::path::Path, opts: &ReadOptions) -> Result<Imported> {
    let format = detect::detect(path)?;
    let bytes = std::fs::read(path).map_err(|e| IoError::Read { path: path.to_path_buf(), source: e })?;
    let name = opts.dataset.clone().unwrap_or_else(|| {
        path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| path.display().to_string())
    });
    let (layers, notes) = match format {
        detect::Format::OsmPbf => osm::read_pbf(path, &bytes, opts, &name)?,
        detect::Format::OsmXml => osm::read_xml(path, &bytes, opts, &name)?,
        detect::Format::GeoJson => geojson_in::read(path, &bytes, opts, &name)?,
        detect::Format::RegisterCsv => register::read(path, &bytes, opts, &name)?,
        detect::Format::GeoPackage => gpkg::read(path, opts, &name)?,
    };
    let dataset = DatasetInfo {
        name,
        format: format.as_str().to_string(),
        source: path.display().to_string(),
        sha256: sha256_hex(&bytes),
    };
    Ok(Imported { dataset, layers, notes })
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
