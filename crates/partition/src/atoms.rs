//! Buildings → atoms, the units of assignment.
//!
//! A building is one atom unless it holds more households than a grid may (`quota.max`); then it
//! is split by its units (单元), and a unit (or a building without units) still over the maximum
//! is cut into floor slices of at most `quota.max` households, labelled `<unit>#<k>` (or `#<k>`),
//! each reported in the returned notes.

use std::collections::BTreeSet;

use geo::Contains;

use crate::adjacency::build_adjacency;
use crate::mesh::Mesh;
use crate::types::{Atom, AtomId, BuildingInput, Community, PartitionError, Problem, Quota};

/// Buildings → atoms, sorted by [`AtomId`], and notes naming every floor split.
///
/// A building with households > `quota.max` is split by its units; a unit (or a building without
/// units) still > `quota.max` is split into floor slices of ≤ `quota.max` households, ids
/// `<unit>#<k>` / `#<k>` (k from 1). Errors: a building with zero households
/// ([`PartitionError::NoHouseholds`]), duplicate ids ([`PartitionError::DuplicateId`]), units not
/// summing to the building's households ([`PartitionError::UnitsMismatch`]).
pub fn build_atoms(buildings: &[BuildingInput], quota: &Quota) -> Result<(Vec<Atom>, Vec<String>), PartitionError> {
    let max = quota.max.max(1);
    let mut seen = BTreeSet::new();
    let mut atoms = Vec::with_capacity(buildings.len());
    let mut notes = Vec::new();
    for b in buildings {
        if !seen.insert(b.id.as_str()) {
            return Err(PartitionError::DuplicateId(b.id.clone()));
        }
        if b.households == 0 {
            return Err(PartitionError::NoHouseholds(b.id.clone()));
        }
        if !b.units.is_empty() {
            let sum: u64 = b.units.iter().map(|(_, h)| u64::from(*h)).sum();
            if sum != u64::from(b.households) {
                return Err(PartitionError::UnitsMismatch {
                    building: b.id.clone(),
                    units: sum,
                    households: b.households,
                });
            }
            let mut names = BTreeSet::new();
            for (name, _) in &b.units {
                if !names.insert(name.as_str()) {
                    return Err(PartitionError::DuplicateId(format!("{} unit {name}", b.id)));
                }
            }
        }
        let make = |unit: Option<String>, households: u32| Atom {
            id: AtomId { building: b.id.clone(), unit },
            households,
            point: b.point,
            footprint: b.footprint.clone(),
            compound: b.compound.clone(),
        };
        if b.households <= max {
            atoms.push(make(None, b.households));
        } else if b.units.is_empty() {
            let slices = floor_slices(b.households, max);
            notes.push(format!(
                "building {} ({} households, no units) exceeds the maximum {max}: split into {} floor slices #1..#{}",
                b.id,
                b.households,
                slices.len(),
                slices.len()
            ));
            for (k, h) in slices.into_iter().enumerate() {
                atoms.push(make(Some(format!("#{}", k + 1)), h));
            }
        } else {
            for (name, h) in &b.units {
                if *h <= max {
                    atoms.push(make(Some(name.clone()), *h));
                } else {
                    let slices = floor_slices(*h, max);
                    notes.push(format!(
                        "building {} unit {name} ({h} households) exceeds the maximum {max}: split into {} floor slices {name}#1..{name}#{}",
                        b.id,
                        slices.len(),
                        slices.len()
                    ));
                    for (k, sh) in slices.into_iter().enumerate() {
                        atoms.push(make(Some(format!("{name}#{}", k + 1)), sh));
                    }
                }
            }
        }
    }
    atoms.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((atoms, notes))
}

/// `households` cut into the fewest slices of at most `max`, as even as possible (larger first).
fn floor_slices(households: u32, max: u32) -> Vec<u32> {
    let n = households.div_ceil(max);
    let base = households / n;
    let extra = households % n;
    (0..n).map(|i| base + u32::from(i < extra)).collect()
}

/// A community → a [`Problem`]: its atoms (see [`build_atoms`]), their mesh (see [`Mesh::build`],
/// which places the atoms of a split building on their slices of the footprint) and their adjacency
/// (see [`build_adjacency`]). When the community has a boundary, every building's point must lie in it
/// (on its edge counts as inside, within 1 cm): otherwise [`PartitionError::OutsideBoundary`] names them.
pub fn prepare(community: Community, quota: &Quota) -> Result<Problem, PartitionError> {
    if let Some(boundary) = &community.boundary {
        let outside: Vec<&str> = community
            .buildings
            .iter()
            .filter(|b| !boundary.contains(&b.point) && !near_boundary(boundary, &b.point))
            .map(|b| b.id.as_str())
            .collect();
        if !outside.is_empty() {
            let examples = outside.iter().take(5).copied().collect::<Vec<_>>().join(", ");
            return Err(PartitionError::OutsideBoundary {
                community: community.id.clone(),
                count: outside.len(),
                examples,
            });
        }
    }
    let (mut atoms, floor_splits) = build_atoms(&community.buildings, quota)?;
    let mesh = Mesh::build(community.boundary.as_ref(), &mut atoms)?;
    let adjacency = build_adjacency(&atoms, &mesh, &community.compounds, &community.barriers);
    Ok(Problem { community, atoms, adjacency, mesh, floor_splits })
}

/// True when `p` lies within 1 cm of the polygon's outline (a building on the boundary line).
fn near_boundary(poly: &geo::Polygon<f64>, p: &geo::Point<f64>) -> bool {
    use geo::{Distance, Euclidean};
    std::iter::once(poly.exterior()).chain(poly.interiors()).any(|ring| Euclidean.distance(ring, p) <= 0.01)
}
