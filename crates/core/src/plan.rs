//! Stored grid plans: a named, versioned assignment of buildings (or units) to grids, with the
//! grid polygons derived from it and its metrics. The partitioning engine makes them; the store keeps them.

use geo::Polygon;
use serde::{Deserialize, Serialize};

/// Whether a plan is being worked on or is the one in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Being drafted.
    Draft,
    /// The plan in force (one at a time).
    Active,
    /// Was active, replaced by another.
    Retired,
}

impl PlanStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Retired => "retired",
        }
    }
    /// Parses [`PlanStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => Self::Draft,
            "active" => Self::Active,
            "retired" => Self::Retired,
            _ => return None,
        })
    }
}

/// One building (or unit) in a grid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PlanAssignment {
    /// Building source id.
    pub building: String,
    /// Unit label when the building is split across grids (`None` for the whole building).
    pub unit: Option<String>,
    /// Grid id (code).
    pub grid: String,
}

/// One grid of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanGrid {
    /// Grid id (code).
    pub grid: String,
    /// Community the grid belongs to.
    pub community: String,
    /// Households in the grid.
    pub households: u64,
    /// Buildings (or building parts) in the grid.
    pub buildings: u32,
    /// Outline in WGS84.
    #[serde(skip)]
    pub area: Option<Polygon<f64>>,
}

/// A plan as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRecord {
    /// Unique name.
    pub name: String,
    /// Draft, active or retired.
    pub status: PlanStatus,
    /// Optimistic-concurrency version, incremented by every change.
    pub version: i64,
    /// Quota minimum.
    pub quota_min: u32,
    /// Quota maximum.
    pub quota_max: u32,
    /// Quota target.
    pub quota_target: u32,
    /// The run's metrics report (JSON).
    pub metrics: serde_json::Value,
    /// Assignments, sorted.
    pub assignments: Vec<PlanAssignment>,
    /// Grids, sorted by grid id.
    pub grids: Vec<PlanGrid>,
    /// When it was created (RFC 3339, UTC), set by the store.
    pub created_at: String,
}
