//! The violations of a plan: grids outside the quota, grids in several pieces, compounds that fit
//! in one grid but are split, and grids held together only across a barrier.
//!
//! Everything here is linear in atoms + contacts, so it is cheap enough to run after every edit.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::{AtomIx, GridIx, Plan, Problem, Quota, Violation};

/// Number of grids a plan refers to: its ids, or more if `grid_of` points past them.
fn grid_count(plan: &Plan) -> usize {
    let max_used = plan.grid_of.iter().map(|g| g.0 as usize + 1).max().unwrap_or(0);
    plan.grid_ids.len().max(max_used)
}

/// The id of grid `g`, or `#<g>` when the plan has no id for it.
pub(crate) fn grid_name(plan: &Plan, g: GridIx) -> String {
    plan.grid_ids.get(g.0 as usize).cloned().unwrap_or_else(|| format!("#{}", g.0))
}

/// Labels connected pieces of each grid, using the contacts `keep` accepts (both ends must be in
/// the same grid). Returns the piece label of every atom (labels are global, dense from 0) and the
/// number of pieces per grid.
fn label_pieces(
    problem: &Problem,
    plan: &Plan,
    keep: impl Fn(&crate::types::Contact) -> bool,
) -> (Vec<u32>, Vec<usize>) {
    let n = problem.atoms.len().min(plan.grid_of.len()).min(problem.adjacency.len());
    let mut label = vec![u32::MAX; n];
    let mut pieces = vec![0usize; grid_count(plan)];
    let mut next = 0u32;
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..n {
        if label[start] != u32::MAX {
            continue;
        }
        let g = plan.grid_of[start];
        pieces[g.0 as usize] += 1;
        label[start] = next;
        stack.push(start);
        while let Some(a) = stack.pop() {
            for c in problem.adjacency.of(AtomIx(a as u32)) {
                let b = c.to.0 as usize;
                if b < n && label[b] == u32::MAX && plan.grid_of[b] == g && keep(c) {
                    label[b] = next;
                    stack.push(b);
                }
            }
        }
        next += 1;
    }
    // Atoms outside the adjacency (should not happen) each count as a piece of their own.
    for a in n..plan.grid_of.len() {
        pieces[plan.grid_of[a].0 as usize] += 1;
    }
    (label, pieces)
}

/// Number of connected pieces of each grid in the adjacency (all contacts count, barrier ones too).
/// Indexed by `GridIx`; a grid without atoms has 0 pieces.
pub fn pieces_of(problem: &Problem, plan: &Plan) -> Vec<usize> {
    label_pieces(problem, plan, |_| true).1
}

/// Households per grid, robust to plans whose `grid_of` points past `grid_ids`.
fn households(problem: &Problem, plan: &Plan) -> Vec<u64> {
    let mut h = vec![0u64; grid_count(plan)];
    for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
        h[g.0 as usize] += u64::from(a.households);
    }
    h
}

/// Sort key of a violation: kind first, then the grid or compound it names, then the rest.
fn sort_key(v: &Violation) -> (u8, String, String) {
    match v {
        Violation::Quota { grid, .. } => (0, grid.clone(), String::new()),
        Violation::Contiguity { grid, .. } => (1, grid.clone(), String::new()),
        Violation::SplitCompound { compound, .. } => (2, compound.clone(), String::new()),
        Violation::BarrierCrossed { grid, barrier, .. } => (3, grid.clone(), barrier.clone()),
    }
}

/// Everything wrong with a plan, sorted deterministically (quota, then contiguity, then split
/// compounds, then barrier crossings; within a kind by grid or compound id, then barrier id):
///
/// - [`Violation::Quota`]: a grid whose households are outside `quota` (a grid without atoms has 0).
///   The reason is filled when no plan could fix it: the whole community holds fewer than
///   `quota.min` households, or the grid is a single atom above `quota.max`.
/// - [`Violation::Contiguity`]: a grid in more than one piece of the adjacency.
/// - [`Violation::SplitCompound`]: a compound whose households are ≤ `quota.max` but whose atoms lie in
///   several grids (grids listed in `GridIx` order).
/// - [`Violation::BarrierCrossed`]: a grid whose atoms, within one piece, are connected only through
///   contacts that cross a barrier; one violation per barrier crossed that way. Compound walls are
///   not barriers here (a compound's gates join it to its street).
pub fn violations(problem: &Problem, plan: &Plan, quota: &Quota) -> Vec<Violation> {
    let mut out = Vec::new();
    let hh = households(problem, plan);
    let total: u64 = hh.iter().sum();

    // Atoms per grid (only the count and the first atom matter for the reason).
    let mut atoms_in = vec![0usize; hh.len()];
    let mut one_atom = vec![usize::MAX; hh.len()];
    for (a, g) in plan.grid_of.iter().enumerate() {
        atoms_in[g.0 as usize] += 1;
        one_atom[g.0 as usize] = a;
    }
    for (g, &h) in hh.iter().enumerate() {
        if quota.holds(h) {
            continue;
        }
        let reason = if total < u64::from(quota.min) {
            Some(format!("the community holds only {total} households, fewer than the minimum {}", quota.min))
        } else if h > u64::from(quota.max) && atoms_in[g] == 1 {
            problem.atoms.get(one_atom[g]).map(|a| {
                let unit = a.id.unit.as_deref().map(|u| format!(" unit {u}")).unwrap_or_default();
                format!("building {}{unit} alone holds {h} households and cannot be split further", a.id.building)
            })
        } else {
            None
        };
        out.push(Violation::Quota { grid: grid_name(plan, GridIx(g as u32)), households: h, reason });
    }

    let (_, pieces) = label_pieces(problem, plan, |_| true);
    for (g, &p) in pieces.iter().enumerate() {
        if p > 1 {
            out.push(Violation::Contiguity { grid: grid_name(plan, GridIx(g as u32)), pieces: p });
        }
    }

    // Compounds: households and the grids they touch.
    let mut compounds: BTreeMap<&str, (u64, BTreeSet<GridIx>)> = BTreeMap::new();
    for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
        if let Some(c) = &a.compound {
            let e = compounds.entry(c.as_str()).or_default();
            e.0 += u64::from(a.households);
            e.1.insert(*g);
        }
    }
    for (c, (h, grids)) in compounds {
        if h <= u64::from(quota.max) && grids.len() > 1 {
            let name = problem.community.compounds.iter().find(|k| k.id == c).and_then(|k| k.name.clone());
            out.push(Violation::SplitCompound {
                compound: c.to_string(),
                name,
                grids: grids.into_iter().map(|g| grid_name(plan, g)).collect(),
            });
        }
    }

    // Barrier crossings: pieces without barrier contacts, joined by a barrier contact.
    let (label_nb, _) = label_pieces(problem, plan, |c| c.barrier.is_none());
    let mut crossed: BTreeSet<(GridIx, u32)> = BTreeSet::new();
    for a in 0..label_nb.len() {
        for c in problem.adjacency.of(AtomIx(a as u32)) {
            let b = c.to.0 as usize;
            if let Some(bar) = c.barrier
                && b < label_nb.len()
                && plan.grid_of[a] == plan.grid_of[b]
                && label_nb[a] != label_nb[b]
            {
                crossed.insert((plan.grid_of[a], bar));
            }
        }
    }
    for (g, bar) in crossed {
        let barrier = problem.community.barriers.get(bar as usize);
        out.push(Violation::BarrierCrossed {
            grid: grid_name(plan, g),
            barrier: barrier.map(|b| b.id.clone()).unwrap_or_else(|| format!("#{bar}")),
            name: barrier.and_then(|b| b.name.clone()),
        });
    }

    out.sort_by_key(sort_key);
    out
}
