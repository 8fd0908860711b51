//! wangge-synth: a deterministic synthetic Chinese-style city, written as the GeoJSON input files
//! that `wangge import` reads (see `docs/formats.md`).
//!
//! [`generate`] lays out, from the south-west corner [`SynthOptions::origin`] north-east-wards:
//!
//! - an arterial grid (superblocks of 300–500 m; `highway=primary` on street (街道) boundaries,
//!   `secondary` between the communities of a street), local streets splitting most superblocks
//!   (`tertiary` north–south, `residential` east–west);
//! - districts (区, bands of streets), streets (街道, 2–3 × 2–3 superblocks), communities (社区, one
//!   superblock each) and compounds (小区, one parcel between streets, walled), with CJ/T 349-style
//!   codes: a 6-digit county code (the synthetic province code `99`, so it cannot be taken for a
//!   real place), 3 digits of street and 3 of community;
//! - residential buildings of 6–33 storeys (slabs of 40–90 m × 11–13 m and towers of about
//!   25 × 25 m) in rows inside their compound, 2–6 units each; a few old low-rise neighbourhoods
//!   (2–6 storeys, 1–2 units) in small compounds or with no wall at all;
//! - compound paths (`service` spine from the gates, `footway` alleys along each row of
//!   buildings, `access=private` when walled) joined to the streets at shared vertices;
//! - facilities of all 17 categories of the default catalogue, by community (5- and 10-minute
//!   ones, each with a probability, so coverage has holes) and by street (15-minute ones), with
//!   Chinese names.
//!
//! The layout is drawn in metres and converted with a local equirectangular projection around
//! the origin (`lon = lon0 + x / (R·cos φ0)`, `lat = lat0 + y / R` in degrees, R = 6,371,008.8 m):
//! a fraction of a percent off over a few tens of kilometres, which synthesis does not mind.
//!
//! Everything is drawn from one ChaCha8 generator seeded with [`SynthOptions::seed`] in a fixed
//! order, and written as it is generated (memory stays bounded by one band of streets), so the
//! same options give byte-identical files. Ids are hierarchical and stable:
//! `D01` (district), `D01-S02` (street), `D01-S02-C03` (community), `D01-S02-C03-Q1` (compound),
//! `D01-S02-C03-Q1-B007` (building), `D01-S02-C03-L1-B004` (building of an unwalled old area),
//! `D01-S02-C03-F05` (facility), `R-V012-004` / `R-H003-010` (arterial pieces),
//! `D01-S02-C03-WV` / `-WH` (local streets), `D01-S02-C03-Q1-P0` (compound spine) and `-P1`… (alleys).
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod city;
mod names;
mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The files [`generate`] writes, in this order.
pub const FILE_NAMES: [&str; 4] = ["buildings.geojson", "boundaries.geojson", "facilities.geojson", "network.geojson"];

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    /// Exact number of buildings.
    pub buildings: u64,
    /// Seed of the random generator: the same options give byte-identical files.
    pub seed: u64,
    /// Lon, lat (WGS84) of the city's south-west corner.
    pub origin: (f64, f64),
}

impl Default for SynthOptions {
    /// 1,000 buildings, seed 1, south-west corner at (114.30, 30.55) (Wuhan).
    fn default() -> Self {
        Self { buildings: 1000, seed: 1, origin: (114.30, 30.55) }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SynthSummary {
    /// Buildings (exactly [`SynthOptions::buildings`]).
    pub buildings: u64,
    /// Units (单元) of all buildings.
    pub units: u64,
    /// Households of all buildings.
    pub households: u64,
    /// Walled compounds (小区).
    pub compounds: u64,
    /// Communities (社区).
    pub communities: u64,
    /// Streets (街道).
    pub streets: u64,
    /// Districts (区).
    pub districts: u64,
    /// Facilities by catalogue category id (categories with none are absent).
    pub facilities_by_category: BTreeMap<String, u64>,
    /// Network ways (LineStrings), streets and compound paths.
    pub network_ways: u64,
    /// The files written (see [`FILE_NAMES`]).
    pub files: Vec<PathBuf>,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    /// A file could not be created, written or renamed.
    #[error("{path}: cannot write: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The options cannot be honoured.
    #[error("invalid options: {0}")]
    Options(String),
    /// A facility category the generator uses is missing from the default catalogue.
    #[error("facility category {0:?} is not in the default catalogue")]
    Catalogue(String),
}

/// Generates the city and writes [`FILE_NAMES`] into `out_dir` (created if needed).
///
/// Each file is streamed to `NAME.tmp` and renamed when complete; on error the temporary files are
/// removed and earlier outputs of the same names are left as they were. `progress` is called with
/// the number of buildings written so far, after each compound and at the end.
pub fn generate(opts: &SynthOptions, out_dir: &Path, progress: &dyn Fn(u64)) -> Result<SynthSummary, SynthError> {
    let (lon, lat) = opts.origin;
    if !(lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-80.0..=80.0).contains(&lat)) {
        return Err(SynthError::Options(format!(
            "origin ({lon}, {lat}) must be a WGS84 lon/lat with |lon| ≤ 180 and |lat| ≤ 80"
        )));
    }
    let catalogue = wangge_core::Catalogue::default_catalogue();
    for id in city::CATEGORIES {
        if catalogue.get(id).is_none() {
            return Err(SynthError::Catalogue(id.to_string()));
        }
    }
    std::fs::create_dir_all(out_dir).map_err(|e| SynthError::Io { path: out_dir.to_path_buf(), source: e })?;
    let result = city::run(opts, out_dir, progress);
    if result.is_err() {
        for name in FILE_NAMES {
            // Best effort: the temporary file may not exist.
            let _ = std::fs::remove_file(out_dir.join(format!("{name}.tmp")));
        }
    }
    result
}
