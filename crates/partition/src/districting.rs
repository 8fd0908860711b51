//! The partition itself: atoms → grids within the household quota, contiguous and compact, and
//! re-partitioning that keeps what still works.
//!
//! The algorithm, in order:
//!
//! 1. **Contract**: every compound that fits in one grid (households ≤ max) becomes one node, so it
//!    can never be split; when its buildings touch only through outside buildings, the chain of
//!    those with the fewest households joins the node too (a note names them), so the node stays
//!    connected; other atoms are nodes of their own.
//! 2. **Regions**: the nodes are grouped into the pieces that barrier lines (major roads, railways,
//!    rivers) cut the community into. A region that cannot be divided into grids within the quota
//!    on its own (e.g. a compound of 212 households cut off by a road, with a minimum of 300) is
//!    joined across the barrier to the neighbour it touches most, and that is reported.
//! 3. **Split**: each region gets the number of grids k closest to households / target among those
//!    the quota allows (`ceil(H/max) ..= floor(H/min)`), and is cut by recursive bisection: each
//!    cut grows one side through the adjacency in the order of the principal axis (connected, about
//!    as compact as an inertial cut) to its share k1/k of households, always within the range that
//!    lets both sides meet the quota; pockets the growth encloses join it, so both sides are connected.
//! 4. **Repair**: stray pieces join the neighbour they touch most; a grid out of quota first trades
//!    boundary nodes with its neighbours (never disconnecting the donor), then a growing
//!    neighbourhood of grids around it (1, 2, 3, 4, 6, … grids) is re-split into grids that all
//!    meet the quota (merging or adding a grid when the count must change).
//! 5. **Polish**: a few sweeps of boundary moves that lower the grids' moment of inertia, keeping the
//!    quota, contiguity and never adding a barrier contact inside a grid.
//!
//! With a previous plan, step 3 is replaced by the previous grids (new atoms join the grid they
//! touch most); steps 4 and 5 then only change what must change, so grids still within quota and
//! contiguous stay as they were unless a neighbour needs them.
//!
//! Everything is O(n log n) per level of bisection, memory O(atoms + contacts), deterministic.

mod exact;
mod graph;
mod repair;
mod split;

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::types::{AtomId, GridIx, Plan, Problem, Quota};
use exact::divisible;
use graph::Graph;
use repair::{State, miss};
use split::{Scratch, split};

/// Options of a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The household quota.
    pub quota: Quota,
    /// Seed of the polishing order: the same input and seed give the same plan.
    pub seed: u64,
}

/// The previous plan, for stability: grid id per atom id (atoms absent from it are new). An atom
/// missing from it whose building appears (e.g. a building now split by units) takes that
/// building's previous grid.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Previous {
    /// Grid id of each atom of the previous plan.
    pub grid_of: BTreeMap<AtomId, String>,
}

/// What [`partition`] produces.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The plan; grid ids are provisional (`G001`, … or the previous plan's ids for grids that
    /// continue one); the caller then runs `codes::assign_codes`.
    pub plan: Plan,
    /// Why some grid cannot meet the quota, naming compounds, buildings and barriers.
    pub infeasible: Vec<String>,
    /// True when the grids out of quota are so because no plan can do better: the community's
    /// households add up to no whole number of grids, a compound or building can be in no grid
    /// within the quota, or an exhaustive search over the community's indivisible parts finds no
    /// division (see `infeasible` for which). False when every grid is within quota, or when the
    /// engine could not settle it (the grids out of quota are then the engine's failure).
    pub proven: bool,
    /// What else the planner should know: barriers or walls crossed because a group behind them
    /// could not form grids on its own, and buildings split by floors.
    pub notes: Vec<String>,
    /// Households (of atoms present in both plans) now in a grid with another id than before (0 without a previous plan).
    pub households_moved: u64,
    /// Grids whose atoms changed, plus grids created or dissolved, vs the previous plan (0 without).
    pub grids_changed: usize,
}

/// Partitions one community. See the module docs for the algorithm.
pub fn partition(problem: &Problem, opts: &Options, previous: Option<&Previous>) -> Outcome {
    let q = opts.quota;
    let mut notes: Vec<String> = problem.floor_splits.clone();
    if problem.atoms.is_empty() {
        return Outcome {
            plan: Plan { grid_of: Vec::new(), grid_ids: Vec::new() },
            infeasible: Vec::new(),
            proven: false,
            notes,
            households_moved: 0,
            grids_changed: 0,
        };
    }
    let g = Graph::build(problem, q.max);
    notes.extend(g.notes.iter().cloned());
    let from_prev = previous.and_then(|p| previous_labels(problem, &g, p));
    let stable = from_prev.is_some();
    let (labels, prev_ids) = match from_prev {
        Some((labels, ids)) => (labels, ids),
        None => (fresh_labels(problem, &g, &q, &mut notes), Vec::new()),
    };
    let mut st = State::new(&g, q, labels);
    st.touched.iter_mut().for_each(|t| *t = false);
    st.fix_contiguity();
    st.fix_quota();
    st.fix_contiguity();
    // When the households cannot be grouped into grids at all (wherever the buildings stand), no
    // search is needed: that is the proof.
    // Grids still out of quota: first the cheap proofs that no plan exists (then no search is
    // needed), else the exact search, which either repairs or proves by exhausting the choices.
    let mut proof = None;
    if st.live().any(|l| miss(st.hh[l as usize], &q) > 0) {
        let exact_parts = contraction_is_exact(problem, &g);
        if exact_parts {
            proof = cheap_proof(&g, &st, &q);
        }
        if proof.is_none() && st.exact_repair(EXACT_BUDGET) && exact_parts {
            proof = Some(Proof::Exhausted);
        }
    }
    st.polish(if stable { 2 } else { 4 }, opts.seed, stable);
    let plan = to_plan(problem, &g, &st, &prev_ids);
    let (infeasible, proven) = explain(problem, &g, &st, &plan, &q, proof);
    let (households_moved, grids_changed) = match previous {
        Some(p) => changes(problem, &plan, p),
        None => (0, 0),
    };
    Outcome { plan, infeasible, proven, notes, households_moved, grids_changed }
}

/// Why no plan of a community can bring every grid within the quota (beyond its total).
enum Proof {
    /// No connected group of parts within the quota holds this node.
    Stranded(u32),
    /// Parts between half the maximum and the minimum outnumber the neighbours that can top them up:
    /// the parts left without one, and how many got one.
    Unmatched(Vec<u32>, usize),
    /// The households cannot be grouped into grids even ignoring where the buildings stand.
    Ungroupable,
    /// These nodes meet the rest only through contacts whose two sides together exceed the
    /// maximum, so they form grids of their own, and no number of grids adds up to their households.
    Apart(Vec<u32>),
    /// The grid holding this node can take at most `room` more households, but the pieces around
    /// it must hand it at least `must` to be divided into grids (see `exact::bottleneck`).
    Bottleneck { node: u32, must: u64, room: u64 },
    /// The exact search tried every division.
    Exhausted,
}

/// The proofs that need no search: grouping, matching, and parts of the grids out of quota that
/// no grid can hold.
fn cheap_proof(g: &Graph, st: &State, q: &Quota) -> Option<Proof> {
    if exact::groupable(&g.w, q) == Some(false) {
        return Some(Proof::Ungroupable);
    }
    if let Some((unserved, served)) = exact::unmatched_parts(g, q) {
        return Some(Proof::Unmatched(unserved, served));
    }
    // Contacts a grid within the quota can use: those whose two sides fit in one grid.
    let max = u64::from(q.max);
    let light: Vec<Vec<u32>> = (0..g.len() as u32)
        .map(|v| g.range(v).map(|e| g.nbr[e]).filter(|&u| g.w[v as usize] + g.w[u as usize] <= max).collect())
        .collect();
    let mut seen = vec![false; g.len()];
    for s in 0..g.len() {
        if seen[s] {
            continue;
        }
        seen[s] = true;
        let mut piece = vec![s as u32];
        let mut i = 0;
        while i < piece.len() {
            for &u in &light[piece[i] as usize] {
                if !seen[u as usize] {
                    seen[u as usize] = true;
                    piece.push(u);
                }
            }
            i += 1;
        }
        if !divisible(piece.iter().map(|&v| g.w[v as usize]).sum(), q) {
            piece.sort_unstable();
            return Some(Proof::Apart(piece));
        }
    }
    if let Some((node, must, room)) = exact::bottleneck(&g.w, &light, q) {
        return Some(Proof::Bottleneck { node, must, room });
    }
    let bad = st.live().filter(|&l| miss(st.hh[l as usize], q) > 0);
    bad.flat_map(|l| st.members[l as usize].iter().copied())
        .find(|&v| exact::stranded(g, v, q, EXACT_BUDGET) == Some(true))
        .map(Proof::Stranded)
}

/// Enumeration steps one exact search may take (a few tens of milliseconds at most).
const EXACT_BUDGET: u64 = 2_000_000;

/// True when every contracted node is one atom or the atoms of one compound (no outside atoms
/// joined in to keep a compound connected), so that a proof on the contracted graph is a proof on
/// the buildings themselves.
fn contraction_is_exact(problem: &Problem, g: &Graph) -> bool {
    (0..g.len() as u32).all(|v| {
        let atoms = g.atoms_of(v);
        atoms.len() == 1 || {
            let c = &problem.atoms[atoms[0] as usize].compound;
            c.is_some() && atoms.iter().all(|&a| problem.atoms[a as usize].compound == *c)
        }
    })
}

/// Several communities in parallel (rayon), outcomes in input order.
pub fn partition_all(problems: &[Problem], opts: &Options, previous: Option<&Previous>) -> Vec<Outcome> {
    problems.par_iter().map(|p| partition(p, opts, previous)).collect()
}

/// The number of grids for `h` households: closest to h / target among the feasible counts.
fn grid_count(h: u64, q: &Quota) -> usize {
    let (min, max) = (u64::from(q.min).max(1), u64::from(q.max.max(1)));
    let ideal = (h as f64 / f64::from(q.target.max(1))).round() as u64;
    let kmin = h.div_ceil(max).max(1);
    let kmax = h / min;
    if kmin <= kmax { ideal.clamp(kmin, kmax) as usize } else { ideal.max(1) as usize }
}

/// A region being merged: its nodes, households and contacts with other regions.
struct Region {
    nodes: Vec<u32>,
    h: u64,
    /// Other region → (contacts, barriers crossed).
    adj: BTreeMap<u32, (u32, BTreeSet<u32>)>,
}

/// Fresh labels: regions cut by barriers (infeasible ones joined across), each split by recursive bisection.
fn fresh_labels(problem: &Problem, g: &Graph, q: &Quota, notes: &mut Vec<String>) -> Vec<u32> {
    let n = g.len();
    // Regions: components over contacts that cross no barrier.
    let mut region = vec![u32::MAX; n];
    let mut regions: Vec<Region> = Vec::new();
    for s in 0..n as u32 {
        if region[s as usize] != u32::MAX {
            continue;
        }
        let r = regions.len() as u32;
        region[s as usize] = r;
        let mut nodes = vec![s];
        let mut i = 0;
        while i < nodes.len() {
            let v = nodes[i];
            for e in g.range(v) {
                let u = g.nbr[e];
                if g.open[e] && region[u as usize] == u32::MAX {
                    region[u as usize] = r;
                    nodes.push(u);
                }
            }
            i += 1;
        }
        let h = nodes.iter().map(|&v| g.w[v as usize]).sum();
        regions.push(Region { nodes, h, adj: BTreeMap::new() });
    }
    for v in 0..n as u32 {
        let rv = region[v as usize];
        for e in g.range(v) {
            let ru = region[g.nbr[e] as usize];
            if ru != rv {
                let entry = regions[rv as usize].adj.entry(ru).or_default();
                entry.0 += g.contacts[e];
                if let Some(b) = g.barrier[e] {
                    entry.1.insert(b);
                }
            }
        }
    }
    // Join regions that cannot form grids on their own.
    let mut alive: BTreeSet<u32> = (0..regions.len() as u32).collect();
    loop {
        let pick = alive
            .iter()
            .copied()
            .filter(|&r| !divisible(regions[r as usize].h, q) && !regions[r as usize].adj.is_empty())
            .min_by_key(|&r| (regions[r as usize].h, r));
        let Some(r) = pick else { break };
        let rh = regions[r as usize].h;
        let Some((&s, _)) = regions[r as usize]
            .adj
            .iter()
            .max_by_key(|(s, (c, _))| (divisible(rh + regions[**s as usize].h, q), *c, std::cmp::Reverse(**s)))
        else {
            break;
        };
        let bars: Vec<u32> = regions[r as usize].adj[&s].1.iter().copied().collect();
        let what = describe_nodes(problem, g, &regions[r as usize].nodes, rh);
        let across = describe_barriers(problem, &bars);
        let why = if rh < u64::from(q.min) {
            format!("cannot reach {}", q.min)
        } else {
            format!("cannot be divided into grids of {}–{}", q.min, q.max)
        };
        notes.push(format!("{what} is cut off by {across} and {why}: joined across {across} with its neighbours"));
        // Merge r into s.
        let moved = std::mem::take(&mut regions[r as usize].nodes);
        let adj_r = std::mem::take(&mut regions[r as usize].adj);
        regions[s as usize].nodes.extend(moved);
        regions[s as usize].h += rh;
        regions[s as usize].adj.remove(&r);
        for (t, (c, b)) in adj_r {
            if t == s {
                continue;
            }
            let e = regions[s as usize].adj.entry(t).or_default();
            e.0 += c;
            e.1.extend(b.iter().copied());
            let tr = &mut regions[t as usize].adj;
            if let Some((c2, b2)) = tr.remove(&r) {
                let e2 = tr.entry(s).or_default();
                e2.0 += c2;
                e2.1.extend(b2);
            }
        }
        alive.remove(&r);
    }
    let mut labels = vec![0u32; n];
    let mut next = 0u32;
    let mut scratch = Scratch::new(n);
    for r in alive {
        let reg = &mut regions[r as usize];
        let mut nodes = std::mem::take(&mut reg.nodes);
        nodes.sort_unstable();
        let k = grid_count(reg.h, q);
        for part in split(g, nodes, k, q, &mut scratch) {
            for v in part {
                labels[v as usize] = next;
            }
            next += 1;
        }
    }
    labels
}

/// Labels from the previous plan (new atoms join the grid they touch most), with the previous grid
/// id of each label; `None` when no atom of the problem was in the previous plan.
fn previous_labels(problem: &Problem, g: &Graph, prev: &Previous) -> Option<(Vec<u32>, Vec<String>)> {
    let mut by_building: BTreeMap<&str, &str> = BTreeMap::new();
    for (id, grid) in &prev.grid_of {
        by_building.entry(id.building.as_str()).or_insert(grid.as_str());
    }
    let mut ids: BTreeMap<&str, u32> = BTreeMap::new();
    let n = g.len();
    let mut labels = vec![u32::MAX; n];
    for v in 0..n as u32 {
        let mut votes: BTreeMap<&str, u64> = BTreeMap::new();
        for &a in g.atoms_of(v) {
            let atom = &problem.atoms[a as usize];
            let grid = prev
                .grid_of
                .get(&atom.id)
                .map(String::as_str)
                .or_else(|| by_building.get(atom.id.building.as_str()).copied());
            if let Some(grid) = grid {
                *votes.entry(grid).or_default() += u64::from(atom.households) + 1;
            }
        }
        if let Some((grid, _)) = votes.iter().max_by_key(|(id, h)| (**h, std::cmp::Reverse(**id))) {
            let next = ids.len() as u32;
            labels[v as usize] = *ids.entry(grid).or_insert(next);
        }
    }
    if ids.is_empty() {
        return None;
    }
    // New nodes: waves from the assigned ones, each joining the grid it touches most.
    loop {
        let mut assign: Vec<(u32, u32)> = Vec::new();
        for v in 0..n as u32 {
            if labels[v as usize] != u32::MAX {
                continue;
            }
            let mut touch: BTreeMap<u32, u32> = BTreeMap::new();
            for e in g.range(v) {
                let l = labels[g.nbr[e] as usize];
                if l != u32::MAX {
                    *touch.entry(l).or_default() += g.contacts[e];
                }
            }
            if let Some((&l, _)) = touch.iter().max_by_key(|(l, c)| (**c, std::cmp::Reverse(**l))) {
                assign.push((v, l));
            }
        }
        if assign.is_empty() {
            break;
        }
        for (v, l) in assign {
            labels[v as usize] = l;
        }
    }
    // Nodes unreachable from any old grid (no contacts): a grid of their own each.
    for (next, l) in (ids.len() as u32..).zip(labels.iter_mut().filter(|l| **l == u32::MAX)) {
        *l = next;
    }
    let mut names = vec![String::new(); ids.len()];
    for (id, l) in ids {
        names[l as usize] = id.to_string();
    }
    Some((labels, names))
}

/// The plan: grids ordered by their first atom; labels that continue a previous grid keep its id,
/// the others get `G001`, `G002`, … (skipping ids in use).
fn to_plan(problem: &Problem, g: &Graph, st: &State, prev_ids: &[String]) -> Plan {
    let mut first: Vec<(u32, u32)> = Vec::new(); // (first atom, label)
    let mut seen = vec![false; st.members.len()];
    for (a, &v) in g.node_of.iter().enumerate() {
        let l = st.grid[v as usize];
        if !seen[l as usize] {
            seen[l as usize] = true;
            first.push((a as u32, l));
        }
    }
    let mut ix = vec![u32::MAX; st.members.len()];
    let used: BTreeSet<&str> =
        first.iter().filter_map(|&(_, l)| prev_ids.get(l as usize).map(String::as_str)).collect();
    let mut grid_ids = Vec::with_capacity(first.len());
    let width = first.len().to_string().len().max(3);
    let mut counter = 0usize;
    for (i, &(_, l)) in first.iter().enumerate() {
        ix[l as usize] = i as u32;
        let id = match prev_ids.get(l as usize) {
            Some(id) => id.clone(),
            None => loop {
                counter += 1;
                let id = format!("G{counter:0width$}");
                if !used.contains(id.as_str()) {
                    break id;
                }
            },
        };
        grid_ids.push(id);
    }
    let grid_of = (0..problem.atoms.len()).map(|a| GridIx(ix[st.grid[g.node_of[a] as usize] as usize])).collect();
    Plan { grid_of, grid_ids }
}

/// Why the grids still out of quota are, naming what is involved, and whether that is proven.
fn explain(
    problem: &Problem,
    g: &Graph,
    st: &State,
    plan: &Plan,
    q: &Quota,
    proof: Option<Proof>,
) -> (Vec<String>, bool) {
    let hh = plan.households(&problem.atoms);
    let total: u64 = hh.iter().sum();
    let name = &problem.community.name;
    let bad: Vec<usize> = (0..hh.len()).filter(|&i| miss(hh[i], q) > 0).collect();
    if bad.is_empty() {
        return (Vec::new(), false);
    }
    let out_of_quota = || -> String {
        let list: Vec<String> = bad.iter().map(|&i| format!("{} ({})", plan.grid_ids[i], hh[i])).collect();
        list.join(", ")
    };
    if total < u64::from(q.min) {
        return (
            vec![format!(
                "community {name} has {total} households in total, fewer than the minimum {}: it forms one grid ({})",
                q.min,
                plan.grid_ids.join(", ")
            )],
            true,
        );
    }
    if !divisible(total, q) {
        return (
            vec![format!(
                "community {name} has {total} households: no number of grids of {}–{} households adds up to it; out of quota: {}",
                q.min,
                q.max,
                out_of_quota()
            )],
            true,
        );
    }
    let message = match proof {
        None => None,
        Some(Proof::Stranded(v)) => {
            let mut nbrs: Vec<u32> = g.range(v).map(|e| g.nbr[e]).collect();
            nbrs.sort_by_key(|&u| (g.w[u as usize], u));
            let around: Vec<String> =
                nbrs.iter().take(4).map(|&u| describe_nodes(problem, g, &[u], g.w[u as usize])).collect();
            let what = describe_nodes(problem, g, &[v], g.w[v as usize]);
            let why = if g.w[v as usize] > u64::from(q.max) {
                format!("it alone exceeds {}", q.max)
            } else {
                format!(
                    "every contiguous group of buildings that includes it has fewer than {} or more than {} households (its neighbours: {})",
                    q.min,
                    q.max,
                    if around.is_empty() { "none".to_string() } else { around.join("; ") }
                )
            };
            Some(format!("{what} cannot be in any grid of {}–{} households in community {name}: {why}", q.min, q.max))
        }
        Some(Proof::Unmatched(unserved, served)) => {
            let some: Vec<String> =
                unserved.iter().take(3).map(|&v| describe_nodes(problem, g, &[v], g.w[v as usize])).collect();
            Some(format!(
                "community {name} cannot be divided into grids of {}–{} households: {} of its parts have more than {} and fewer than {} households, so each needs a grid of its own with a smaller neighbour, but the neighbours go round only {served} of them (left over: {})",
                q.min,
                q.max,
                served + unserved.len(),
                q.max / 2,
                q.min,
                some.join("; ")
            ))
        }
        Some(Proof::Ungroupable) => {
            let small = u64::from(q.max - q.min) / 4;
            let mut big: Vec<u32> = (0..g.len() as u32).filter(|&v| g.w[v as usize] > small).collect();
            big.sort_by_key(|&v| (std::cmp::Reverse(g.w[v as usize]), v));
            let named: Vec<String> =
                big.iter().take(4).map(|&v| describe_nodes(problem, g, &[v], g.w[v as usize])).collect();
            let more = if big.len() > 4 { format!(" and {} more", big.len() - 4) } else { String::new() };
            let rest: u64 = (0..g.len()).filter(|&v| g.w[v] <= small).map(|v| g.w[v]).sum();
            Some(format!(
                "community {name} cannot be divided into grids of {}–{} households that keep its compounds whole, wherever its buildings stand: no grouping of {}{more} with the {rest} households of its smaller buildings (of at most {small} each) fits the quota",
                q.min,
                q.max,
                named.join(", ")
            ))
        }
        Some(Proof::Apart(nodes)) => {
            let h: u64 = nodes.iter().map(|&v| g.w[v as usize]).sum();
            Some(format!(
                "community {name} cannot be divided into grids of {}–{} households: {} meets the rest only where the households on the two sides together exceed {}, so it must form grids of its own, and no number of grids of {}–{} adds up to {h}",
                q.min,
                q.max,
                describe_nodes(problem, g, &nodes, h),
                q.max,
                q.min,
                q.max
            ))
        }
        Some(Proof::Bottleneck { node, must, room }) => Some(format!(
            "community {name} cannot be divided into grids of {}–{} households: {} stands between the buildings around it, and they can be divided into grids of {}–{} only if the grid holding it takes at least {must} of their households, but it can take at most {room}",
            q.min,
            q.max,
            describe_nodes(problem, g, &[node], g.w[node as usize]),
            q.min,
            q.max
        )),
        Some(Proof::Exhausted) => Some(format!(
            "community {name} cannot be divided into contiguous grids of {}–{} households that keep its compounds whole: an exhaustive search over its {} indivisible parts (compounds and buildings) finds no such division",
            q.min,
            q.max,
            g.len()
        )),
    };
    if let Some(m) = message {
        return (vec![format!("{m}; out of quota: {}", out_of_quota())], true);
    }
    let mut out = Vec::new();
    for i in bad {
        // The grid's label, and its heaviest nodes.
        let Some(a) = plan.grid_of.iter().position(|x| x.0 as usize == i) else { continue };
        let l = st.grid[g.node_of[a] as usize];
        let mut nodes = st.members[l as usize].clone();
        nodes.sort_by_key(|&v| (std::cmp::Reverse(g.w[v as usize]), v));
        let parts: Vec<String> =
            nodes.iter().take(3).map(|&v| describe_nodes(problem, g, &[v], g.w[v as usize])).collect();
        out.push(format!(
            "grid {} ({} households) could not be brought within {}–{}: its indivisible parts and neighbours do not add up (largest: {})",
            plan.grid_ids[i],
            hh[i],
            q.min,
            q.max,
            parts.join("; ")
        ));
    }
    (out, false)
}

/// "compound 幸福里 (212 households)", "building B1 (90 households)" or "12 buildings around B1, B2, B3 (400 households)".
fn describe_nodes(problem: &Problem, g: &Graph, nodes: &[u32], h: u64) -> String {
    let atoms: Vec<u32> = nodes.iter().flat_map(|&v| g.atoms_of(v).iter().copied()).collect();
    let compounds: BTreeSet<Option<&str>> =
        atoms.iter().map(|&a| problem.atoms[a as usize].compound.as_deref()).collect();
    let compound_name = |c: &str| {
        problem
            .community
            .compounds
            .iter()
            .find(|x| x.id == c)
            .and_then(|x| x.name.clone())
            .unwrap_or_else(|| c.to_string())
    };
    let buildings: BTreeSet<&str> = atoms.iter().map(|&a| problem.atoms[a as usize].id.building.as_str()).collect();
    if let (1, Some(Some(c))) = (compounds.len(), compounds.iter().next()) {
        if buildings.len() == 1 {
            let b = buildings.iter().next().copied().unwrap_or_default();
            return format!("building {b} of compound {} ({h} households)", compound_name(c));
        }
        return format!("compound {} ({h} households)", compound_name(c));
    }
    if buildings.len() == 1 {
        let b = buildings.iter().next().copied().unwrap_or_default();
        return format!("building {b} ({h} households)");
    }
    let some: Vec<&str> = buildings.iter().take(3).copied().collect();
    format!("{} buildings around {} ({h} households)", buildings.len(), some.join(", "))
}

/// "长江路" or "长江路 and 铁路 (railway r1)".
fn describe_barriers(problem: &Problem, bars: &[u32]) -> String {
    let names: BTreeSet<String> = bars
        .iter()
        .filter_map(|&b| problem.community.barriers.get(b as usize))
        .map(|b| b.name.clone().unwrap_or_else(|| format!("{} {}", b.kind, b.id)))
        .collect();
    let v: Vec<String> = names.into_iter().take(3).collect();
    if v.is_empty() { "a barrier".to_string() } else { v.join(" and ") }
}

/// Households moved and grids changed vs the previous plan (atoms present in both).
fn changes(problem: &Problem, plan: &Plan, prev: &Previous) -> (u64, usize) {
    let mut moved = 0u64;
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    let mut old_ids: BTreeSet<&str> = BTreeSet::new();
    for (a, atom) in problem.atoms.iter().enumerate() {
        let now = plan.grid_ids[plan.grid_of[a].0 as usize].as_str();
        if let Some(before) = prev.grid_of.get(&atom.id) {
            old_ids.insert(before.as_str());
            if before != now {
                moved += u64::from(atom.households);
                changed.insert(before.as_str());
                changed.insert(now);
            }
        }
    }
    let new_ids: BTreeSet<&str> = plan.grid_ids.iter().map(String::as_str).collect();
    for id in new_ids.symmetric_difference(&old_ids) {
        changed.insert(id);
    }
    (moved, changed.len())
}
