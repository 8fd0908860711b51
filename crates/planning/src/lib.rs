#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod circles;
pub mod edit;
pub mod import;
pub mod run;

/// What can go wrong in a run or an edit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanningError {
    /// The selection names no community (or street), with the known ones.
    #[error("{0}")]
    Selection(String),
    /// Nothing to partition.
    #[error("{0}")]
    Empty(String),
    /// The engine refused a community's input or an edit.
    #[error("{context}: {source}")]
    Engine {
        /// Which community or edit.
        context: String,
        /// Why.
        #[source]
        source: wangge_partition::PartitionError,
    },
    /// A coordinate could not be converted between WGS84 and the metric frame.
    #[error("projection: {0}")]
    Projection(String),
    /// The stored plan does not fit the model (e.g. a building without a grid).
    #[error("{0}")]
    Mismatch(String),
    /// The run was cancelled.
    #[error("cancelled")]
    Cancelled,
}

/// Result alias.
pub type Result<T, E = PlanningError> = std::result::Result<T, E>;

impl From<wangge_core::projection::ProjectionError> for PlanningError {
    fn from(e: wangge_core::projection::ProjectionError) -> Self {
        Self::Projection(e.to_string())
    }
}
