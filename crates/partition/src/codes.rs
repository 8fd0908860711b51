//! Grid codes in the CJ/T 349-2010 pattern (`<community code, 12 digits><sequence, 3 digits>`,
//! numbered west to east, north to south) or readable ids (`<community id>-<sequence>`) when the
//! community carries no code; codes survive re-partitioning.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::{AtomId, GridIx, Plan, Problem};

/// The prefix every grid code of this community starts with: the 12-digit community code, or
/// `<community id>-` when there is no (well-formed) code.
fn prefix(problem: &Problem) -> (String, usize) {
    match problem.community.code.as_deref() {
        Some(c) if c.len() == 12 && c.bytes().all(|b| b.is_ascii_digit()) => (c.to_string(), 3),
        _ => (format!("{}-", problem.community.id), 2),
    }
}

/// The code of sequence number `seq` (zero-padded to 3 digits after a community code, 2 otherwise;
/// longer when the number needs it).
fn code_of(prefix: &str, width: usize, seq: u32) -> String {
    format!("{prefix}{seq:0width$}")
}

/// The sequence number of `code` when it is one of this community's codes.
fn seq_of(prefix: &str, code: &str) -> Option<u32> {
    let rest = code.strip_prefix(prefix)?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// A fresh id for a new grid of this community: the next sequence number after the highest one
/// used by `existing` (used by the editor when it splits a grid or makes a new one).
pub fn next_id<'a>(problem: &Problem, existing: impl IntoIterator<Item = &'a String>) -> String {
    let (p, w) = prefix(problem);
    let used: BTreeSet<&String> = existing.into_iter().collect();
    let mut seq = used.iter().filter_map(|c| seq_of(&p, c)).max().unwrap_or(0) + 1;
    while used.contains(&code_of(&p, w, seq)) {
        seq += 1;
    }
    code_of(&p, w, seq)
}

/// Grids in reading order: rows from north to south, west to east within a row. A grid's position
/// is the mean of its atoms' points; rows are formed greedily from the north: a row takes every
/// remaining grid whose centroid lies less than half a typical grid height below the row's
/// northernmost one (typical height = √(area of the atoms' bounding box / grids)). Grids without
/// atoms come last, in index order.
pub fn reading_order(problem: &Problem, plan: &Plan) -> Vec<GridIx> {
    let n = plan.grids();
    let mut sum = vec![(0.0f64, 0.0f64, 0usize); n];
    let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
        let (x, y) = (a.point.x(), a.point.y());
        if let Some(s) = sum.get_mut(g.0 as usize) {
            s.0 += x;
            s.1 += y;
            s.2 += 1;
        }
        minx = minx.min(x);
        miny = miny.min(y);
        maxx = maxx.max(x);
        maxy = maxy.max(y);
    }
    let mut placed: Vec<(usize, f64, f64)> =
        sum.iter().enumerate().filter(|(_, s)| s.2 > 0).map(|(g, s)| (g, s.0 / s.2 as f64, s.1 / s.2 as f64)).collect();
    let empty: Vec<usize> = sum.iter().enumerate().filter(|(_, s)| s.2 == 0).map(|(g, _)| g).collect();
    let area = if placed.is_empty() { 0.0 } else { (maxx - minx).max(1.0) * (maxy - miny).max(1.0) };
    let height = (area / placed.len().max(1) as f64).sqrt();
    // North first (larger y), ties by x then index, for determinism.
    placed.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.1.total_cmp(&b.1)).then(a.0.cmp(&b.0)));
    let mut order = Vec::with_capacity(n);
    let mut i = 0;
    while i < placed.len() {
        let top = placed[i].2;
        let mut j = i;
        while j < placed.len() && placed[j].2 > top - height / 2.0 {
            j += 1;
        }
        let mut row = placed[i..j].to_vec();
        row.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        order.extend(row.into_iter().map(|(g, _, _)| GridIx(g as u32)));
        i = j;
    }
    order.extend(empty.into_iter().map(|g| GridIx(g as u32)));
    order
}

/// Looks up an atom's previous code: by its exact id, else by its building as a whole, else by any
/// unit of its building (so a building that was whole and is now split by units, or the reverse,
/// still counts).
fn previous_code<'a>(previous: &'a BTreeMap<AtomId, String>, id: &AtomId) -> Option<&'a String> {
    if let Some(c) = previous.get(id) {
        return Some(c);
    }
    let whole = AtomId { building: id.building.clone(), unit: None };
    if let Some(c) = previous.get(&whole) {
        return Some(c);
    }
    previous.range(whole..).next().filter(|(k, _)| k.building == id.building).map(|(_, c)| c)
}

/// Renames `plan.grid_ids` (the grids and their order are unchanged).
///
/// Codes follow CJ/T 349-2010: `<community code (12 digits)><sequence (3 digits)>` when the community
/// has a 12-digit code, else `<community id>-<sequence (2+ digits)>`. Sequences are numbered in
/// [`reading_order`] (west to east, north to south).
///
/// With `previous` (each atom's code in the previous plan), a previous grid whose households (counted
/// over the atoms of the current problem) lie more than half in one new grid hands its code to that
/// grid; when a new grid inherits more than one code this way (a merge), it keeps the one it shares
/// most households with (ties: the smaller code). The other grids take new numbers after the highest
/// sequence used by this community's previous codes, in reading order. Previous codes that do not
/// follow this community's pattern are still kept verbatim when inherited.
pub fn assign_codes(problem: &Problem, plan: &mut Plan, previous: Option<&BTreeMap<AtomId, String>>) {
    let (p, w) = prefix(problem);
    let order = reading_order(problem, plan);
    let n = plan.grids();
    let mut ids: Vec<Option<String>> = vec![None; n];
    let mut next = 1u32;
    if let Some(prev) = previous {
        // Households shared by (previous code, new grid), and each previous grid's total.
        let mut shared: BTreeMap<&String, BTreeMap<GridIx, u64>> = BTreeMap::new();
        for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
            if let Some(c) = previous_code(prev, &a.id) {
                *shared.entry(c).or_default().entry(*g).or_default() += u64::from(a.households);
            }
        }
        let mut candidates: Vec<(u64, &String, GridIx)> = Vec::new();
        for (code, by_grid) in &shared {
            let total: u64 = by_grid.values().sum();
            if let Some((g, h)) = by_grid.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                && 2 * h > total
            {
                candidates.push((*h, code, *g));
            }
        }
        // Largest shares first; ties by code.
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        for (_, code, g) in candidates {
            let slot = &mut ids[g.0 as usize];
            if slot.is_none() {
                *slot = Some(code.clone());
            }
        }
        next = prev.values().filter_map(|c| seq_of(&p, c)).max().unwrap_or(0) + 1;
    }
    let taken: BTreeSet<String> = ids.iter().flatten().cloned().collect();
    for g in order {
        if ids[g.0 as usize].is_none() {
            while taken.contains(&code_of(&p, w, next)) {
                next += 1;
            }
            ids[g.0 as usize] = Some(code_of(&p, w, next));
            next += 1;
        }
    }
    plan.grid_ids = ids.into_iter().map(Option::unwrap_or_default).collect();
}
