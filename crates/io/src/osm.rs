//! OpenStreetMap PBF and XML → buildings, compounds (小区), administrative boundaries, facilities,
//! the walking network and basemap features.
//!
//! Both formats are read into one element model (node locations kept in 1e-7 degrees, so the same
//! data gives bit-identical coordinates from either format) and go through one conversion.
//!
//! What is produced:
//! - **buildings**: closed ways and multipolygons with `building=*` (not `no`), and building nodes;
//!   `building:levels` (first number, floored) and `building:flats` (declared households);
//! - **compounds**: `landuse=residential` areas, and named `place=neighbourhood` / `residential=*` areas;
//! - **regions**: `boundary=administrative` with `admin_level` 6 (district), 7–8 (street), 9–10 (community);
//! - **facilities**: nodes and areas the catalogue classifies (areas located at an interior point);
//! - **walking network**: ways walkable by [`wangge_core::tags::walkability`], split at junctions;
//! - **basemap**: roads (every `highway`), railways, water, waterways, parks and land use.
//!
//! Data problems that are normal in extracts (ways cut at the extract edge, relations missing
//! members, self-intersecting polygons) are not errors: they are skipped or repaired and reported
//! in the notes, naming the element. Corrupt files and impossible coordinates are errors.

mod area;
mod convert;
mod model;
mod network;
mod notes;
mod pbf;
mod xml;

use crate::ReadOptions;
use crate::error::Result;
use std::path::Path;
use wangge_core::Layers;

/// Reads an OpenStreetMap PBF file's bytes (`path` is only used in messages). Returns the layers,
/// every row tagged with `dataset`, and notes on what was skipped, repaired or not assembled.
///
/// # Errors
/// [`crate::IoError::Malformed`] for a truncated or corrupt file, [`crate::IoError::Field`] for a
/// node whose latitude or longitude is out of range.
pub fn read_pbf(path: &Path, bytes: &[u8], opts: &ReadOptions, dataset: &str) -> Result<(Layers, Vec<String>)> {
    let data = pbf::parse(path, bytes)?;
    Ok(convert::convert(&data, &opts.catalogue, dataset))
}

/// Reads an OpenStreetMap XML (`.osm`) file's bytes (`path` is only used in messages). Returns the
/// layers, every row tagged with `dataset`, and notes on what was skipped, repaired or not assembled.
///
/// # Errors
/// [`crate::IoError::Malformed`] for XML that is not well formed (the message gives the line and
/// byte), [`crate::IoError::Field`] for a node whose `lat`/`lon` is missing, not a number or out of range.
pub fn read_xml(path: &Path, bytes: &[u8], opts: &ReadOptions, dataset: &str) -> Result<(Layers, Vec<String>)> {
    let data = xml::parse(path, bytes)?;
    Ok(convert::convert(&data, &opts.catalogue, dataset))
}
