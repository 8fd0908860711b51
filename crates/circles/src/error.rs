//! The errors of the service-circles engine.

use wangge_core::projection::ProjectionError;

/// What can go wrong building a walking network or answering a question about it.
///
/// Points that cannot be placed on the network are *not* errors when many are placed at once
/// (buildings, facilities): they are reported per point as [`crate::SnapFailure`]. Only a single
/// point asked about directly (an isochrone's or a resident's location) fails with
/// [`CirclesError::NotOnNetwork`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CirclesError {
    /// A walking speed that is zero, negative or not a number.
    #[error("walking speed must be a positive number of metres per second, got {speed}")]
    InvalidSpeed {
        /// The speed given.
        speed: f64,
    },
    /// A walking profile name that is not known.
    #[error("unknown walking profile `{name}`; known profiles: default, elderly")]
    UnknownProfile {
        /// The name given.
        name: String,
    },
    /// A category id the catalogue does not define.
    #[error("unknown facility category `{id}`; known categories: {known}")]
    UnknownCategory {
        /// The id asked for.
        id: String,
        /// Comma-separated known ids.
        known: String,
    },
    /// A parameter outside its range.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// Two inputs that must have the same length do not.
    #[error("{what}: expected {expected} values (one per building), got {got}")]
    LengthMismatch {
        /// What was passed.
        what: &'static str,
        /// The expected length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// There is no walkable edge at all.
    #[error("the walking network is empty: no edge with a usable geometry")]
    EmptyNetwork,
    /// A coordinate could not be brought into the local metric frame.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// A single point asked about could not be placed on the walking network.
    #[error("the point ({lon}, {lat}) is not on the walking network: {failure}")]
    NotOnNetwork {
        /// Longitude.
        lon: f64,
        /// Latitude.
        lat: f64,
        /// Why.
        failure: crate::SnapFailure,
    },
    /// An exact solver was asked for an instance that is too large to enumerate.
    #[error("exact siting would enumerate {subsets} subsets (limit {limit}); use the greedy solver")]
    TooLarge {
        /// Subsets to enumerate.
        subsets: u128,
        /// The limit.
        limit: u128,
    },
}
