//! wangge-core: the pure domain model of wangge. No I/O, no async, no database.
//!
//! - [`model`]: the hierarchy district → street → community → compound → grid → building → unit,
//!   facilities, the walking network, basemap features, population cells, register rows.
//! - [`atlas`]: [`atlas::Layers`] (plain data) and [`atlas::Atlas`] (canonical order, register
//!   applied, R-tree indexes), with [`atlas::Stats`].
//! - [`catalogue`]: facility categories with 5/10/15-minute thresholds and tag rules, loadable from TOML.
//! - [`chinacoords`]: GCJ-02 and BD-09 conversions both ways.
//! - [`projection`]: local metric frames (CGCS2000 Gauss-Krüger in China, UTM elsewhere).
//! - [`geometry`]: geodesic length and area, interior points, bounding boxes.
//! - [`features`]: GeoJSON features of the model.
//! - [`plan`]: stored grid plans (assignments, grid polygons, metrics).
//! - [`tags`]: the walkable-network rule and residential building types.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod atlas;
pub mod catalogue;
pub mod chinacoords;
pub mod features;
pub mod geometry;
pub mod model;
pub mod plan;
pub mod projection;
pub mod tags;

pub use atlas::{Atlas, Layers, Stats};
pub use catalogue::{Catalogue, Category};
pub use model::*;
