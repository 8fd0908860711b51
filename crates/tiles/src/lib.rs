//! wangge-tiles: the tile pipeline. Mapbox Vector Tiles (spec 2.1) made on demand from the
//! in-memory model, with no database round trip per tile. Pure: takes core types, returns bytes and
//! JSON; no I/O, no async.
//!
//! - [`tilemath`]: Web Mercator, z/x/y ↔ bounds, pixels at extent 4096 with a 64-pixel buffer.
//! - [`layer`]: the layers ([`LayerName`]) and their zoom policies; [`FeatureLayer`], features
//!   projected to Mercator once and kept in an R-tree.
//! - [`source`]: [`TileSource::from_atlas`] builds every layer from an [`wangge_core::Atlas`] plus
//!   the caller's per-building extras (grid, completeness, coverage); grids come from any plan as
//!   [`AreaFeature`]s.
//! - [`heat`]: coverage heatmap points and square cells, weighted by households.
//! - [`cache`] and [`service`]: [`TileService`] serves tiles from an LRU cache with ETags and drops
//!   only the tiles an update touches.
//! - [`tilejson`]: TileJSON 3.0.0 and a MapLibre style.
//!
//! Per tile and layer: R-tree look-up of the tile plus buffer, thinning below the layer's full
//! zoom (points: the heaviest per square of pixels; polygons under a pixel or so dropped),
//! Douglas–Peucker at one tile pixel, clipping to the buffered tile (Liang–Barsky for lines, a
//! boolean intersection for polygons), snapping to the integer grid, MVT ring orientation, and the
//! attribute policy of the [`Audience`]: public tiles carry no household numbers in any layer.
//!
//! ```
//! use wangge_tiles::{Audience, BuildingExtras, CacheOptions, TileId, TileService, TileSource};
//! let atlas = wangge_core::Atlas::new(Default::default());
//! let service = TileService::new(TileSource::from_atlas(&atlas, &BuildingExtras::new()), CacheOptions::default());
//! let tile = service.tile("buildings", None, TileId::parse("14", "13484", "6203.mvt")?, Audience::Public)?;
//! assert!(tile.is_empty());
//! assert!(service.tile("nope", None, TileId::new(0, 0, 0)?, Audience::Public).is_err());
//! # Ok::<(), wangge_tiles::TileError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod attrs;
pub mod cache;
mod encode;
mod geom;
pub mod heat;
pub mod layer;
mod packed;
pub mod service;
pub mod source;
pub mod tilejson;
pub mod tilemath;

pub use attrs::{Attr, AttrValue, Audience};
pub use cache::{CacheOptions, CacheStats, EncodedTile, cache_control};
pub use heat::{HeatLayer, HeatPoint};
pub use layer::{Feature, FeatureLayer, Geom, LayerName, LayerSpec};
pub use service::TileService;
pub use source::{AreaFeature, BuildingExtra, BuildingExtras, TileSource, grids_from_plan};
pub use tilemath::{BUFFER, EXTENT, MAX_ZOOM, MercBox, TileId};

/// Why a tile or document could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// The zoom is deeper than [`MAX_ZOOM`].
    #[error("zoom {z} is out of range: tiles go from zoom 0 to {max}")]
    ZoomOutOfRange {
        /// The zoom asked for.
        z: u32,
        /// The deepest zoom.
        max: u8,
    },
    /// x or y is not below 2^z.
    #[error("tile {z}/{x}/{y} does not exist: x and y must be below 2^{z}")]
    TileOutOfRange {
        /// Zoom.
        z: u32,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
    /// A path segment is not a non-negative whole number.
    #[error("tile {what} `{text}` is not a non-negative whole number (expected /{{z}}/{{x}}/{{y}}.mvt)")]
    BadCoordinate {
        /// `z`, `x` or `y`.
        what: &'static str,
        /// The text.
        text: String,
    },
    /// No such layer.
    #[error("unknown tile layer `{name}`; the layers are {known}")]
    UnknownLayer {
        /// The name asked for.
        name: String,
        /// The known layers.
        known: String,
    },
    /// A composite tile names a layer twice.
    #[error("the layer list `{list}` names `{name}` twice")]
    DuplicateLayer {
        /// The list as given.
        list: String,
        /// The repeated layer.
        name: String,
    },
    /// No such plan (grids) or metric (heat, cells), or a variant given to a layer that has none.
    #[error("layer `{layer}` has no `{variant}`; known: {known}")]
    UnknownVariant {
        /// The layer.
        layer: &'static str,
        /// The plan or metric asked for.
        variant: String,
        /// The known ones.
        known: String,
    },
    /// Grids were asked for without a plan and no plan is active.
    #[error("no plan is active: name one with ?plan=")]
    NoActivePlan,
    /// An update that cannot be applied.
    #[error("tile update: {0}")]
    Update(String),
    /// The MVT writer refused a geometry (a bug: geometries are checked before).
    #[error("MVT encoding failed: {0}")]
    Encode(String),
}

impl TileError {
    /// True for errors that mean "no such resource" (HTTP 404) rather than a malformed request.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::TileOutOfRange { .. } | Self::UnknownLayer { .. } | Self::UnknownVariant { .. } | Self::NoActivePlan
        )
    }
}
