//! The planner's edits (move, merge, split, reassign) with validation and undo.
//!
//! An edit is always applied, even when it causes violations; the outcome lists every violation of
//! the plan after the edit and which of them are new. Only edits that name something that does not
//! exist, select nothing, or (for a split) cannot cut the grid are refused with
//! [`PartitionError::BadEdit`].
//!
//! # Wire format
//! [`GridEdit`] is what the HTTP API accepts and what the store logs, as JSON tagged by `op`:
//!
//! ```json
//! {"op": "move_atoms", "atoms": [{"building": "b1", "unit": null}], "to": "110105001002003"}
//! {"op": "merge", "a": "…001", "b": "…002"}
//! {"op": "split", "grid": "…001", "line": [[0.0, 10.0], [50.0, 12.0]]}
//! {"op": "split", "grid": "…001", "line": null}
//! {"op": "reassign", "area": [[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 0.0]]], "to": "new"}
//! ```
//!
//! Geometry is given as GeoJSON-like coordinate arrays **in the local metric frame** of the problem
//! (metres; the caller converts from WGS84): a line is `[[x, y], …]`, a polygon is a list of rings,
//! exterior first, each `[[x, y], …]`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use geo::{Coord, Intersects, LineString, Point, Polygon};
use serde::{Deserialize, Serialize};

use crate::codes::next_id;
use crate::types::{AtomId, AtomIx, GridIx, PartitionError, Plan, Problem, Quota, Violation};
use crate::validate::violations;

/// An edit of a plan, as the planner's map sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum GridEdit {
    /// Move atoms to an existing grid. An id of a whole building (`unit: None`) whose building is
    /// split by units moves all its units.
    MoveAtoms {
        /// The atoms to move.
        atoms: Vec<AtomId>,
        /// The grid id they go to.
        to: String,
    },
    /// Merge grid `b` into grid `a` (`b` disappears).
    Merge {
        /// The grid that stays.
        a: String,
        /// The grid that goes.
        b: String,
    },
    /// Split a grid in two: automatically (two contiguous halves balanced by households, cut across
    /// the grid's long axis) or by the side of a drawn line. The half with more households keeps the
    /// id; the other takes the next free code.
    Split {
        /// The grid to split.
        grid: String,
        /// The line drawn by the planner (local frame), or `None` for an automatic split.
        #[serde(with = "line_coords")]
        line: Option<LineString<f64>>,
    },
    /// Move every atom whose point lies in the polygon (boundary included) to grid `to`; `"new"`
    /// makes a new grid with the next free code.
    Reassign {
        /// The drawn polygon (local frame).
        #[serde(with = "polygon_coords")]
        area: Polygon<f64>,
        /// The grid id, or `"new"`.
        to: String,
    },
}

/// What an edit did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditOutcome {
    /// Every violation of the plan after the edit (as [`violations`] sorts them).
    pub violations: Vec<Violation>,
    /// Those of them that the plan before the edit did not have.
    pub new_violations: Vec<Violation>,
    /// Households per grid id after the edit.
    pub households: BTreeMap<String, u64>,
}

/// A plan under edit, with undo and redo.
#[derive(Debug, Clone)]
pub struct Editor {
    problem: Problem,
    quota: Quota,
    plan: Plan,
    undo: Vec<Plan>,
    redo: Vec<Plan>,
}

impl Editor {
    /// Starts editing `plan`.
    pub fn new(problem: Problem, quota: Quota, plan: Plan) -> Self {
        Self { problem, quota, plan, undo: Vec::new(), redo: Vec::new() }
    }

    /// The current plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The problem being edited.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The current violations of the plan.
    pub fn violations(&self) -> Vec<Violation> {
        violations(&self.problem, &self.plan, &self.quota)
    }

    /// Applies the edit (allowed even if it causes violations, which are returned). Errors with
    /// [`PartitionError::BadEdit`] naming the unknown grid or atom, an empty selection, or a line that
    /// does not cut the grid; the plan is then unchanged.
    pub fn apply(&mut self, edit: &GridEdit) -> Result<EditOutcome, PartitionError> {
        let before = self.violations();
        let next = self.edited(edit)?;
        let previous = std::mem::replace(&mut self.plan, next);
        self.undo.push(previous);
        self.redo.clear();
        let after = self.violations();
        let new_violations = after.iter().filter(|v| !before.contains(v)).cloned().collect();
        let households = self.plan.grid_ids.iter().cloned().zip(self.plan.households(&self.problem.atoms)).collect();
        Ok(EditOutcome { violations: after, new_violations, households })
    }

    /// Undoes the last edit; false when there is nothing to undo.
    pub fn undo(&mut self) -> bool {
        match self.undo.pop() {
            Some(p) => {
                let current = std::mem::replace(&mut self.plan, p);
                self.redo.push(current);
                true
            }
            None => false,
        }
    }

    /// Redoes the last undone edit; false when there is nothing to redo.
    pub fn redo(&mut self) -> bool {
        match self.redo.pop() {
            Some(p) => {
                let current = std::mem::replace(&mut self.plan, p);
                self.undo.push(current);
                true
            }
            None => false,
        }
    }

    fn grid(&self, id: &str) -> Result<GridIx, PartitionError> {
        self.plan
            .grid_ids
            .iter()
            .position(|g| g == id)
            .map(|i| GridIx(i as u32))
            .ok_or_else(|| PartitionError::BadEdit(format!("unknown grid `{id}`")))
    }

    /// The plan after `edit`, without touching `self`.
    fn edited(&self, edit: &GridEdit) -> Result<Plan, PartitionError> {
        let mut plan = self.plan.clone();
        match edit {
            GridEdit::MoveAtoms { atoms, to } => {
                let to = self.grid(to)?;
                if atoms.is_empty() {
                    return Err(PartitionError::BadEdit("no atoms to move".into()));
                }
                let index: HashMap<&AtomId, usize> =
                    self.problem.atoms.iter().enumerate().map(|(i, a)| (&a.id, i)).collect();
                for id in atoms {
                    let found: Vec<usize> = match index.get(id) {
                        Some(&i) => vec![i],
                        None if id.unit.is_none() => self
                            .problem
                            .atoms
                            .iter()
                            .enumerate()
                            .filter(|(_, a)| a.id.building == id.building)
                            .map(|(i, _)| i)
                            .collect(),
                        None => Vec::new(),
                    };
                    if found.is_empty() {
                        return Err(PartitionError::BadEdit(format!("unknown atom `{}`", atom_label(id))));
                    }
                    for i in found {
                        plan.grid_of[i] = to;
                    }
                }
            }
            GridEdit::Merge { a, b } => {
                let (ga, gb) = (self.grid(a)?, self.grid(b)?);
                if ga == gb {
                    return Err(PartitionError::BadEdit(format!("cannot merge grid `{a}` with itself")));
                }
                for g in &mut plan.grid_of {
                    if *g == gb {
                        *g = ga;
                    }
                }
            }
            GridEdit::Split { grid, line } => {
                let g = self.grid(grid)?;
                let members: Vec<usize> = (0..plan.grid_of.len()).filter(|&i| plan.grid_of[i] == g).collect();
                if members.len() < 2 {
                    return Err(PartitionError::BadEdit(format!(
                        "grid `{grid}` has {} atom(s) and cannot be split",
                        members.len()
                    )));
                }
                let side_b: Vec<bool> = match line {
                    Some(l) => {
                        if l.0.len() < 2 {
                            return Err(PartitionError::BadEdit(format!(
                                "the line to split grid `{grid}` has fewer than two points"
                            )));
                        }
                        members.iter().map(|&i| side_of(l, self.problem.atoms[i].point) < 0.0).collect()
                    }
                    None => self.auto_split(&members),
                };
                if side_b.iter().all(|&s| s) || side_b.iter().all(|&s| !s) {
                    return Err(PartitionError::BadEdit(format!("the line does not cut grid `{grid}`")));
                }
                let hh = |want: bool| -> u64 {
                    members
                        .iter()
                        .zip(&side_b)
                        .filter(|(_, s)| **s == want)
                        .map(|(&i, _)| u64::from(self.problem.atoms[i].households))
                        .sum()
                };
                // The larger half keeps the id; the smaller moves to a new grid.
                let moving = hh(true) <= hh(false);
                let new = GridIx(plan.grid_ids.len() as u32);
                plan.grid_ids.push(next_id(&self.problem, &self.plan.grid_ids));
                for (&i, &s) in members.iter().zip(&side_b) {
                    if s == moving {
                        plan.grid_of[i] = new;
                    }
                }
            }
            GridEdit::Reassign { area, to } => {
                if to != "new" {
                    self.grid(to)?;
                }
                let selected: Vec<usize> =
                    (0..plan.grid_of.len()).filter(|&i| area.intersects(&self.problem.atoms[i].point)).collect();
                if selected.is_empty() {
                    return Err(PartitionError::BadEdit("the drawn area holds no building".into()));
                }
                let target = if to == "new" {
                    plan.grid_ids.push(next_id(&self.problem, &self.plan.grid_ids));
                    GridIx(plan.grid_ids.len() as u32 - 1)
                } else {
                    self.grid(to)?
                };
                for i in selected {
                    plan.grid_of[i] = target;
                }
            }
        }
        drop_empty_grids(&mut plan);
        Ok(plan)
    }

    /// Automatic split of the atoms `members` (indices) of one grid: grows one half from the atom
    /// furthest along the grid's long axis (household-weighted principal axis), always taking the
    /// frontier atom lowest along the axis, until it holds half the households; then the smaller
    /// leftover pieces join the grown half, so both halves are contiguous when the grid was.
    /// Returns, for each member, whether it is in the grown half.
    fn auto_split(&self, members: &[usize]) -> Vec<bool> {
        let atoms = &self.problem.atoms;
        let total: f64 = members.iter().map(|&i| f64::from(atoms[i].households)).sum();
        let w = |i: usize| f64::from(atoms[i].households).max(1e-9);
        let wsum: f64 = members.iter().map(|&i| w(i)).sum();
        let (mx, my) = members
            .iter()
            .fold((0.0, 0.0), |(x, y), &i| (x + w(i) * atoms[i].point.x(), y + w(i) * atoms[i].point.y()));
        let (mx, my) = (mx / wsum, my / wsum);
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for &i in members {
            let (dx, dy) = (atoms[i].point.x() - mx, atoms[i].point.y() - my);
            sxx += w(i) * dx * dx;
            sxy += w(i) * dx * dy;
            syy += w(i) * dy * dy;
        }
        // Direction of the largest eigenvalue of the covariance.
        let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
        let (ux, uy) = (angle.cos(), angle.sin());
        let proj = |i: usize| (atoms[i].point.x() - mx) * ux + (atoms[i].point.y() - my) * uy;

        let local: HashMap<usize, usize> = members.iter().enumerate().map(|(k, &i)| (i, k)).collect();
        let neighbours = |k: usize| -> Vec<usize> {
            self.problem
                .adjacency
                .of(AtomIx(members[k] as u32))
                .iter()
                .filter_map(|c| local.get(&(c.to.0 as usize)).copied())
                .collect()
        };
        let start = (0..members.len())
            .min_by(|&a, &b| proj(members[a]).total_cmp(&proj(members[b])).then(a.cmp(&b)))
            .unwrap_or(0);
        let mut grown = vec![false; members.len()];
        let mut queued = vec![false; members.len()];
        let mut frontier: Vec<usize> = vec![start];
        queued[start] = true;
        let mut held = 0.0;
        while !frontier.is_empty() {
            // Take the frontier atom lowest along the axis (frontiers are small; linear scan is fine).
            let (pos, _) = frontier
                .iter()
                .enumerate()
                .min_by(|a, b| proj(members[*a.1]).total_cmp(&proj(members[*b.1])).then(a.1.cmp(b.1)))
                .unwrap_or((0, &start));
            let k = frontier.swap_remove(pos);
            let h = f64::from(atoms[members[k]].households);
            // Stop when taking this atom would leave us further from half than we are.
            if held > 0.0 && (held + h - total / 2.0).abs() > (held - total / 2.0).abs() {
                break;
            }
            grown[k] = true;
            held += h;
            for n in neighbours(k) {
                if !queued[n] {
                    queued[n] = true;
                    frontier.push(n);
                }
            }
        }
        // Leftover pieces: keep the largest (by households) as the other half, give the rest to the grown half.
        let mut piece = vec![usize::MAX; members.len()];
        let mut sizes: Vec<f64> = Vec::new();
        for s in 0..members.len() {
            if grown[s] || piece[s] != usize::MAX {
                continue;
            }
            let id = sizes.len();
            sizes.push(0.0);
            let mut q = VecDeque::from([s]);
            piece[s] = id;
            while let Some(k) = q.pop_front() {
                sizes[id] += f64::from(atoms[members[k]].households);
                for n in neighbours(k) {
                    if !grown[n] && piece[n] == usize::MAX {
                        piece[n] = id;
                        q.push_back(n);
                    }
                }
            }
        }
        let keep = (0..sizes.len()).max_by(|&a, &b| sizes[a].total_cmp(&sizes[b]).then(b.cmp(&a)));
        (0..members.len()).map(|k| grown[k] || Some(piece[k]) != keep).collect()
    }
}

/// `building` or `building/unit`, for messages.
fn atom_label(id: &AtomId) -> String {
    match &id.unit {
        Some(u) => format!("{}/{u}", id.building),
        None => id.building.clone(),
    }
}

/// Which side of the polyline `line` the point lies on: positive on the left (walking along the
/// line), negative on the right, by the nearest segment (ends extend along their segment).
fn side_of(line: &LineString<f64>, p: Point<f64>) -> f64 {
    let mut best: (f64, f64) = (f64::INFINITY, 0.0);
    for seg in line.lines() {
        let (a, b) = (seg.start, seg.end);
        let d = Coord { x: b.x - a.x, y: b.y - a.y };
        let len2 = d.x * d.x + d.y * d.y;
        if len2 == 0.0 {
            continue;
        }
        let t = (((p.x() - a.x) * d.x + (p.y() - a.y) * d.y) / len2).clamp(0.0, 1.0);
        let (cx, cy) = (a.x + t * d.x, a.y + t * d.y);
        let dist = (p.x() - cx).powi(2) + (p.y() - cy).powi(2);
        let cross = d.x * (p.y() - a.y) - d.y * (p.x() - a.x);
        let side = cross / len2.sqrt();
        // Prefer the nearer segment; at a shared vertex, prefer the one the point is more clearly beside.
        if dist < best.0 - 1e-12 || ((dist - best.0).abs() <= 1e-12 && side.abs() > best.1.abs()) {
            best = (dist, side);
        }
    }
    best.1
}

/// Removes grids without atoms, re-indexing the others densely in their order (ids kept).
pub(crate) fn drop_empty_grids(plan: &mut Plan) {
    let n = plan.grid_of.iter().map(|g| g.0 as usize + 1).max().unwrap_or(0).max(plan.grid_ids.len());
    let mut used = vec![false; n];
    for g in &plan.grid_of {
        used[g.0 as usize] = true;
    }
    let mut remap = vec![GridIx(u32::MAX); used.len()];
    let mut ids = Vec::new();
    for (g, u) in used.iter().enumerate() {
        if *u {
            remap[g] = GridIx(ids.len() as u32);
            ids.push(plan.grid_ids.get(g).cloned().unwrap_or_else(|| format!("#{g}")));
        }
    }
    for g in &mut plan.grid_of {
        *g = remap[g.0 as usize];
    }
    plan.grid_ids = ids;
}

/// Serde of an optional line as `[[x, y], …]` (or `null`).
mod line_coords {
    use geo::LineString;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(line: &Option<LineString<f64>>, s: S) -> Result<S::Ok, S::Error> {
        line.as_ref().map(|l| l.0.iter().map(|c| [c.x, c.y]).collect::<Vec<_>>()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LineString<f64>>, D::Error> {
        let v: Option<Vec<[f64; 2]>> = Option::deserialize(d)?;
        Ok(v.map(|pts| LineString::from(pts.into_iter().map(|[x, y]| (x, y)).collect::<Vec<_>>())))
    }
}

/// Serde of a polygon as `[[[x, y], …], …]` (rings, exterior first).
mod polygon_coords {
    use geo::{LineString, Polygon};
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

    fn ring(r: &LineString<f64>) -> Vec<[f64; 2]> {
        r.0.iter().map(|c| [c.x, c.y]).collect()
    }

    pub fn serialize<S: Serializer>(p: &Polygon<f64>, s: S) -> Result<S::Ok, S::Error> {
        let mut rings = vec![ring(p.exterior())];
        rings.extend(p.interiors().iter().map(ring));
        rings.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Polygon<f64>, D::Error> {
        let rings: Vec<Vec<[f64; 2]>> = Vec::deserialize(d)?;
        let mut it =
            rings.into_iter().map(|r| LineString::from(r.into_iter().map(|[x, y]| (x, y)).collect::<Vec<_>>()));
        let exterior = it.next().ok_or_else(|| D::Error::custom("a polygon needs at least its exterior ring"))?;
        Ok(Polygon::new(exterior, it.collect()))
    }
}
