//! The report of a plan: grids, households, quota, contiguity, compactness, barriers, compounds,
//! stability and time; serialisable (JSON) and printable as a table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use geo::{Area, Euclidean, Length};
use serde::Serialize;

use crate::districting::Outcome;
use crate::types::{AtomIx, Plan, Problem, Quota};

/// Metrics of one plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Community id.
    pub community: String,
    /// The quota's minimum.
    pub quota_min: u32,
    /// The quota's maximum.
    pub quota_max: u32,
    /// Atoms (buildings, or units and floor slices of split buildings).
    pub atoms: usize,
    /// Households in total.
    pub households: u64,
    /// Number of grids.
    pub grids: usize,
    /// Fewest households in a grid (0 without grids).
    pub households_min: u64,
    /// Median households per grid (the lower middle for an even count).
    pub households_median: u64,
    /// Most households in a grid.
    pub households_max: u64,
    /// Share of grids within the quota (1 without grids).
    pub within_quota_share: f64,
    /// Share of grids connected in the adjacency (1 without grids).
    pub contiguous_share: f64,
    /// Mean Polsby-Popper compactness of the grid polygons (`None` without polygons).
    pub polsby_popper_mean: Option<f64>,
    /// Worst Polsby-Popper compactness of the grid polygons (`None` without polygons).
    pub polsby_popper_min: Option<f64>,
    /// Barrier crossings: for each grid, the barriers it is joined across (its atoms are connected
    /// only through contacts crossing them), counted once per grid and barrier.
    pub barrier_crossings: usize,
    /// Compounds that fit in one grid (households ≤ max) but are split across grids.
    pub split_compounds: usize,
    /// Households moved vs the previous plan.
    pub households_moved: u64,
    /// Grids changed vs the previous plan.
    pub grids_changed: usize,
    /// Time taken, milliseconds.
    pub elapsed_ms: f64,
    /// Why some grid cannot meet the quota.
    pub infeasible: Vec<String>,
    /// True when the report proves that no plan can bring every grid within the quota (the
    /// reason is in `infeasible`); false when every grid is within it or the engine fell short.
    #[serde(default)]
    pub infeasibility_proven: bool,
    /// Other notes (barriers crossed out of necessity, floor splits).
    pub notes: Vec<String>,
}

/// Polsby-Popper compactness 4πA/P² of a polygon (metric frame; holes count in the perimeter and
/// are subtracted from the area). 1 for a disc, about 0.785 for a square; 0 for a degenerate polygon.
pub fn polsby_popper(p: &geo::Polygon<f64>) -> f64 {
    let area = p.unsigned_area();
    let perimeter: f64 = std::iter::once(p.exterior()).chain(p.interiors()).map(|r| Euclidean.length(r)).sum();
    if perimeter <= 0.0 || !area.is_finite() {
        return 0.0;
    }
    (4.0 * std::f64::consts::PI * area / (perimeter * perimeter)).clamp(0.0, 1.0)
}

/// The report of `plan` (with `polygons`, one per grid, possibly empty) and its `outcome`.
pub fn report(
    problem: &Problem,
    plan: &Plan,
    quota: &Quota,
    polygons: &[geo::Polygon<f64>],
    outcome: &Outcome,
    elapsed: std::time::Duration,
) -> Report {
    let hh = plan.households(&problem.atoms);
    let mut sorted = hh.clone();
    sorted.sort_unstable();
    let k = hh.len();
    let within = hh.iter().filter(|&&h| quota.holds(h)).count();
    let (pieces, crossings) = grid_pieces(problem, plan);
    let contiguous = pieces.iter().filter(|&&p| p <= 1).count();
    let pp: Vec<f64> = polygons.iter().map(polsby_popper).collect();
    let share = |x: usize| if k == 0 { 1.0 } else { x as f64 / k as f64 };
    Report {
        community: problem.community.id.clone(),
        quota_min: quota.min,
        quota_max: quota.max,
        atoms: problem.atoms.len(),
        households: hh.iter().sum(),
        grids: k,
        households_min: sorted.first().copied().unwrap_or(0),
        households_median: if k == 0 { 0 } else { sorted[(k - 1) / 2] },
        households_max: sorted.last().copied().unwrap_or(0),
        within_quota_share: share(within),
        contiguous_share: share(contiguous),
        polsby_popper_mean: (!pp.is_empty()).then(|| pp.iter().sum::<f64>() / pp.len() as f64),
        polsby_popper_min: pp.iter().copied().reduce(f64::min),
        barrier_crossings: crossings,
        split_compounds: split_compounds(problem, plan, quota),
        households_moved: outcome.households_moved,
        grids_changed: outcome.grids_changed,
        elapsed_ms: elapsed.as_secs_f64() * 1000.0,
        infeasible: outcome.infeasible.clone(),
        infeasibility_proven: outcome.proven,
        notes: outcome.notes.clone(),
    }
}

/// Pieces per grid (through any contact), and the number of (grid, barrier) pairs where the grid's
/// pieces through barrier-free contacts are joined across that barrier.
fn grid_pieces(problem: &Problem, plan: &Plan) -> (Vec<usize>, usize) {
    let n = problem.atoms.len();
    let adj = &problem.adjacency;
    let mut pieces = vec![0usize; plan.grids()];
    let mut comp = vec![u32::MAX; n];
    let mut open_comp = vec![u32::MAX; n];
    let mut stack = Vec::new();
    let mut next = 0u32;
    for (pass, labels) in [&mut comp, &mut open_comp].into_iter().enumerate() {
        for s in 0..n {
            if labels[s] != u32::MAX {
                continue;
            }
            let gs = plan.grid_of[s];
            if pass == 0 {
                pieces[gs.0 as usize] += 1;
            }
            labels[s] = next;
            stack.push(s);
            while let Some(a) = stack.pop() {
                for c in adj.of(AtomIx(a as u32)) {
                    let b = c.to.0 as usize;
                    if labels[b] == u32::MAX && plan.grid_of[b] == gs && (pass == 0 || c.barrier.is_none()) {
                        labels[b] = next;
                        stack.push(b);
                    }
                }
            }
            next += 1;
        }
    }
    let mut pairs: BTreeSet<(u32, u32)> = BTreeSet::new();
    for a in 0..n {
        for c in adj.of(AtomIx(a as u32)) {
            let b = c.to.0 as usize;
            if let Some(bar) = c.barrier.filter(|_| plan.grid_of[a] == plan.grid_of[b] && open_comp[a] != open_comp[b])
            {
                pairs.insert((plan.grid_of[a].0, bar));
            }
        }
    }
    (pieces, pairs.len())
}

/// Compounds with households ≤ max whose atoms lie in more than one grid.
fn split_compounds(problem: &Problem, plan: &Plan, quota: &Quota) -> usize {
    let mut by: BTreeMap<&str, (u64, BTreeSet<u32>)> = BTreeMap::new();
    for (a, atom) in problem.atoms.iter().enumerate() {
        if let Some(c) = &atom.compound {
            let e = by.entry(c.as_str()).or_default();
            e.0 += u64::from(atom.households);
            e.1.insert(plan.grid_of[a].0);
        }
    }
    by.values().filter(|(h, grids)| *h <= u64::from(quota.max) && grids.len() > 1).count()
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        let opt = |x: Option<f64>| x.map_or_else(|| "–".to_string(), |v| format!("{v:.3}"));
        let rows: Vec<(&str, String)> = vec![
            ("community", self.community.clone()),
            ("quota", format!("{}–{}", self.quota_min, self.quota_max)),
            ("atoms", self.atoms.to_string()),
            ("households", self.households.to_string()),
            ("grids", self.grids.to_string()),
            (
                "households min / median / max",
                format!("{} / {} / {}", self.households_min, self.households_median, self.households_max),
            ),
            ("within quota", pct(self.within_quota_share)),
            ("contiguous", pct(self.contiguous_share)),
            ("Polsby-Popper mean / min", format!("{} / {}", opt(self.polsby_popper_mean), opt(self.polsby_popper_min))),
            ("barrier crossings", self.barrier_crossings.to_string()),
            ("split compounds", self.split_compounds.to_string()),
            ("households moved", self.households_moved.to_string()),
            ("grids changed", self.grids_changed.to_string()),
            ("time", format!("{:.1} ms", self.elapsed_ms)),
        ];
        let width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        for (k, v) in rows {
            writeln!(f, "{k:<width$}  {v}")?;
        }
        let label = if self.infeasibility_proven { "infeasible (proven)" } else { "out of quota" };
        for s in &self.infeasible {
            writeln!(f, "{label}: {s}")?;
        }
        for s in &self.notes {
            writeln!(f, "note: {s}")?;
        }
        Ok(())
    }
}
