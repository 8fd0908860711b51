//! wangge-partition: divide a community into grids (网格) of whole buildings (or units) within a
//! household quota, contiguous and compact, tiling the community, stable when re-run, editable
//! with instant validation. Pure: takes core types, returns core types; no I/O.
//!
//! - [`types`]: quota, atoms, adjacency, plans, violations (shared by every module).
//! - [`atoms`]: buildings → atoms (a building over the quota is split by units, then floors).
//! - [`mesh`]: one triangulation per community, each vertex owned by an atom (adjacency and polygons).
//! - [`adjacency`]: which atoms touch, and which contacts cross a barrier or a compound wall.
//! - [`districting`]: the partition itself, and re-partitioning with stability.
//! - [`validate`]: the violations of a plan (quota, contiguity, split compounds, barriers).
//! - [`tessellate`]: grid polygons that tile the community.
//! - [`edit`]: planners' edits (move, merge, split, reassign) with undo.
//! - [`codes`]: CJ/T 349-2010 grid codes that survive re-partitioning.
//! - [`metrics`]: the report of a plan.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod adjacency;
pub mod atoms;
pub mod codes;
pub mod districting;
pub mod edit;
pub mod mesh;
pub mod metrics;
pub mod tessellate;
pub mod types;
pub mod validate;

pub use types::*;
