//! Types shared by every part of the partitioning engine. All geometry here is in a local metric
//! frame (metres, see `wangge_core::projection::LocalFrame`); conversion to and from WGS84 happens
//! at the edges (CLI, server).

use geo::{LineString, MultiPolygon, Point, Polygon};
use serde::{Deserialize, Serialize};

/// The household quota of a grid: every grid should hold `min..=max` households, ideally `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// Fewest households in a grid.
    pub min: u32,
    /// Most households in a grid.
    pub max: u32,
    /// The ideal (default: the middle of min and max).
    pub target: u32,
}

impl Quota {
    /// A quota with the target in the middle; errors when `min > max` or `max == 0`.
    pub fn new(min: u32, max: u32, target: Option<u32>) -> Result<Self, PartitionError> {
        if max == 0 || min > max {
            return Err(PartitionError::BadQuota {
                min,
                max,
                reason: "min must not exceed max, and max must be positive".into(),
            });
        }
        let target = target.unwrap_or(min + (max - min) / 2);
        if !(min..=max).contains(&target) {
            return Err(PartitionError::BadQuota { min, max, reason: format!("target {target} is outside min..=max") });
        }
        Ok(Self { min, max, target })
    }
    /// True when `households` is within the quota.
    pub fn holds(&self, households: u64) -> bool {
        (u64::from(self.min)..=u64::from(self.max)).contains(&households)
    }
}

/// Dense index of an atom in a [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AtomIx(pub u32);

/// Dense index of a grid in a [`Plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GridIx(pub u32);

/// The stable id of an atom: a whole building, or one unit (or floor slice) of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AtomId {
    /// Building source id.
    pub building: String,
    /// Unit label when the building is split (`None` for a whole building). A floor slice of a
    /// unit is labelled `<unit>#<k>`; of a building without units, `#<k>`.
    pub unit: Option<String>,
}

/// A unit of assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    /// Stable id.
    pub id: AtomId,
    /// Households in the atom.
    pub households: u32,
    /// Representative point (metres, local frame).
    pub point: Point<f64>,
    /// The building's footprint (metres, local frame), when it has one. Shared by all atoms of a building.
    pub footprint: Option<MultiPolygon<f64>>,
    /// Source id of the compound the building lies in, if any.
    pub compound: Option<String>,
}

/// A building as the engine needs it (the CLI and server build these from the model or from files).
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingInput {
    /// Building source id.
    pub id: String,
    /// Households (whole building).
    pub households: u32,
    /// Units with their households (may be empty).
    pub units: Vec<(String, u32)>,
    /// Representative point (metres, local frame).
    pub point: Point<f64>,
    /// Footprint (metres, local frame), if known.
    pub footprint: Option<MultiPolygon<f64>>,
    /// Compound source id, if any.
    pub compound: Option<String>,
}

/// What separates atoms.
#[derive(Debug, Clone, PartialEq)]
pub struct Barrier {
    /// Stable id (e.g. `osm:w123`).
    pub id: String,
    /// What it is: `primary`, `railway`, `river`, … (for reports).
    pub kind: String,
    /// Name, if any (for reports, e.g. 长江路).
    pub name: Option<String>,
    /// The line (metres, local frame).
    pub line: LineString<f64>,
}

/// A compound outline for the adjacency (its wall) and for the never-split rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CompoundInput {
    /// Source id.
    pub id: String,
    /// Name, for reports.
    pub name: Option<String>,
    /// Outline (metres, local frame).
    pub area: MultiPolygon<f64>,
}

/// One community to partition.
#[derive(Debug, Clone, PartialEq)]
pub struct Community {
    /// Id (source id, name or code) used in grid ids and reports.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Administrative code of the community (12 digits: county 6 + street 3 + community 3), when known.
    pub code: Option<String>,
    /// Boundary (metres, local frame); when `None`, the buildings' area buffered is used.
    pub boundary: Option<Polygon<f64>>,
    /// Buildings.
    pub buildings: Vec<BuildingInput>,
    /// Compounds in or around the community.
    pub compounds: Vec<CompoundInput>,
    /// Barrier lines (major roads, railways, rivers).
    pub barriers: Vec<Barrier>,
}

/// A contact between two atoms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contact {
    /// The other atom.
    pub to: AtomIx,
    /// Distance between the atoms' points, metres.
    pub length_m: f64,
    /// Index into `Community::barriers` when the contact crosses a barrier line.
    pub barrier: Option<u32>,
    /// True when the contact crosses a compound wall (one side inside a compound, the other not, or another compound).
    pub wall: bool,
}

/// The adjacency of atoms, compressed (CSR): `contacts[offsets[i]..offsets[i+1]]` are atom i's.
/// Symmetric: if i touches j, j touches i with the same flags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Adjacency {
    /// Offsets, one more than atoms.
    pub offsets: Vec<u32>,
    /// Contacts.
    pub contacts: Vec<Contact>,
}

impl Adjacency {
    /// The contacts of atom `a`.
    pub fn of(&self, a: AtomIx) -> &[Contact] {
        let i = a.0 as usize;
        &self.contacts[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    /// True when there are no atoms.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A prepared community: atoms, their mesh and their adjacency.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The community as given.
    pub community: Community,
    /// Atoms, in a deterministic order (by id).
    pub atoms: Vec<Atom>,
    /// Which atoms touch (from `mesh`).
    pub adjacency: Adjacency,
    /// The community's triangulation, each vertex owned by an atom: the source of `adjacency` and
    /// of the grid polygons ([`crate::tessellate`]). Built once by [`crate::atoms::prepare`].
    pub mesh: crate::mesh::Mesh,
    /// Buildings that had to be split below a unit (by floors), with why; for the report.
    pub floor_splits: Vec<String>,
}

/// A plan for one community: each atom's grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// `grid_of[atom]`.
    pub grid_of: Vec<GridIx>,
    /// Grid ids (codes), indexed by `GridIx`.
    pub grid_ids: Vec<String>,
}

impl Plan {
    /// Number of grids.
    pub fn grids(&self) -> usize {
        self.grid_ids.len()
    }
    /// Households per grid.
    pub fn households(&self, atoms: &[Atom]) -> Vec<u64> {
        let mut h = vec![0u64; self.grid_ids.len()];
        for (a, g) in atoms.iter().zip(&self.grid_of) {
            h[g.0 as usize] += u64::from(a.households);
        }
        h
    }
}

/// Something wrong with a plan; edits are allowed and their violations shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// A grid outside the quota.
    Quota {
        /// Grid id.
        grid: String,
        /// Its households.
        households: u64,
        /// Why it cannot be fixed, when that is known (e.g. the community is too small).
        reason: Option<String>,
    },
    /// A grid in more than one piece.
    Contiguity {
        /// Grid id.
        grid: String,
        /// Number of pieces.
        pieces: usize,
    },
    /// A compound that fits in one grid is split across grids.
    SplitCompound {
        /// Compound id.
        compound: String,
        /// Its name.
        name: Option<String>,
        /// The grids it is split across.
        grids: Vec<String>,
    },
    /// A grid whose atoms are joined only across a barrier.
    BarrierCrossed {
        /// Grid id.
        grid: String,
        /// Barrier id.
        barrier: String,
        /// Barrier name.
        name: Option<String>,
    },
}

/// Errors of the engine: bad input, named.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PartitionError {
    /// The quota is not usable.
    #[error("quota {min}..{max}: {reason}")]
    BadQuota {
        /// Min.
        min: u32,
        /// Max.
        max: u32,
        /// Why.
        reason: String,
    },
    /// A building has no households (or zero).
    #[error("building `{0}` has no households")]
    NoHouseholds(String),
    /// Two buildings share an id.
    #[error("building id `{0}` appears twice")]
    DuplicateId(String),
    /// Units that do not add up.
    #[error("building `{building}`: units hold {units} households but the building {households}")]
    UnitsMismatch {
        /// Building.
        building: String,
        /// Sum of units.
        units: u64,
        /// Building total.
        households: u32,
    },
    /// Buildings outside the community boundary.
    #[error("community `{community}`: {count} building(s) lie outside its boundary, e.g. {examples}")]
    OutsideBoundary {
        /// Community.
        community: String,
        /// How many.
        count: usize,
        /// A few ids.
        examples: String,
    },
    /// An edit names something that does not exist.
    #[error("{0}")]
    BadEdit(String),
    /// The geometry could not be processed (triangulation, grid polygons), with why.
    #[error("{0}")]
    Geometry(String),
}
