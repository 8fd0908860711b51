//! wangge-circles: the service-circles engine. For every building, the walking-network distance
//! and time to the nearest facility of each category of the life-circle catalogue (5/10/15-minute
//! circles, GB 50180-2018), coverage by group, completeness scores, isochrones, the nearest
//! services for a resident with routes, and where to add facilities. Pure: takes core types,
//! returns core and `geo` types; no I/O.
//!
//! - [`graph`]: the walking graph (degree-two chains contracted, Hilbert-ordered CSR, integer
//!   micrometre weights, connected components and islands).
//! - [`network`]: the graph with its snapping index; placing buildings, facilities and points
//!   (nearest segment, snap limit, gated compounds).
//! - [`access`]: nearest (or k nearest) facility per category for every building, one
//!   multi-source pass per category, with a cut-off.
//! - [`coverage`]: households covered per group and category; completeness scores.
//! - [`isochrone`]: walking areas for a list of minutes, as polygons with holes.
//! - [`services`]: the nearest services for a resident, with routes.
//! - [`fields`]: per-category nearest-facility trees answering the common nearest-services query
//!   without a search.
//! - [`siting`]: where to add facilities (maximal covering location, greedy + swap, exact).
//! - [`synth`]: a synthetic walking network for benchmarks and tests.
//! - [`profile`]: walking speeds.
//!
//! ```
//! use wangge_circles::{Network, NetworkOptions, ReachOptions, WalkProfile};
//! use wangge_circles::synth::{SynthOptions, generate};
//! use wangge_core::Catalogue;
//!
//! let catalogue = Catalogue::default_catalogue();
//! let city = generate(&SynthOptions { streets_x: 8, streets_y: 8, ..Default::default() }, &catalogue);
//! let net = Network::build(&city.nodes, &city.edges, &[], &NetworkOptions::default())?;
//! let origins = net.snap_buildings(&city.buildings);
//! let facilities = net.place_facilities(&city.facilities, &catalogue)?;
//! let kg = net.nearest_facilities(&origins, &facilities, "kindergarten", &ReachOptions::default())?;
//! let profile = WalkProfile::default();
//! if let (Some(d), Some(t)) = (kg.distance_m(0), kg.time_s(0, &profile)) {
//!     assert!((t - d / 1.2).abs() < 1e-9);
//! }
//! # Ok::<(), wangge_circles::CirclesError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod access;
pub mod coverage;
mod error;
pub mod fields;
pub mod graph;
pub mod isochrone;
pub mod network;
pub mod profile;
mod radix;
mod search;
pub mod services;
pub mod siting;
pub mod synth;

pub use access::{Accessibility, CategoryReach, Reach, ReachOptions, ReachScratch, ReachStatus};
pub use error::CirclesError;
pub use fields::ServiceFields;
pub use graph::{Component, GraphStats, WalkGraph};
pub use isochrone::{Isochrone, IsochroneOptions};
pub use network::{CategoryInfo, FacilitySet, Network, NetworkOptions, Origins, PlacedFacility, Snap, SnapFailure};
pub use profile::WalkProfile;
pub use services::{Searcher, ServiceHit, ServiceQuery};
pub use siting::{Candidates, CoverProblem, SitingInstance, SitingSolution};
