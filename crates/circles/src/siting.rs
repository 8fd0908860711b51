//! Where to add facilities: the maximal covering location problem.
//!
//! For a category with threshold *d*, the *demand* is every building on the network with
//! households whose current walking distance to the category exceeds *d* (or that reaches none).
//! A *candidate* site (every network node, or given points) covers a demand building when the
//! walk between them is within *d*. Choose *p* sites maximising the households newly covered.
//!
//! [`solve`] starts greedy (lazy gains) and improves by 1-exchange (swap a chosen site for an
//! unchosen one while that gains households, best swap first) until no swap improves, and repeats
//! this from a few other starts (the candidates that cover most alone), keeping the best;
//! [`solve_exact`] enumerates every p-subset of the useful candidates, for small instances and tests.
//! Both report the chosen sites in greedy order with each site's marginal households.

use crate::CirclesError;
use crate::access::CategoryReach;
use crate::graph::{NONE, NodePlace, to_um};
use crate::network::{Network, Origins, SnapFailure};
use crate::search::Bounded;
use geo::Point;
use rayon::prelude::*;
use std::collections::BinaryHeap;

/// A covering problem: demand weights and, per candidate, the demand points it covers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CoverProblem {
    /// Weight (households) of each demand point.
    pub weights: Vec<u64>,
    /// Per candidate, the demand points it covers (indexes into `weights`, sorted, distinct).
    pub covers: Vec<Vec<u32>>,
}

/// Chosen sites.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SitingSolution {
    /// Chosen candidates, in greedy order (each adds the most given the ones before it).
    pub sites: Vec<usize>,
    /// Households each site newly covers given the sites before it.
    pub marginal: Vec<u64>,
    /// Households newly covered by all sites.
    pub total: u64,
    /// Improving swaps made after the greedy start.
    pub swaps: usize,
}

impl CoverProblem {
    fn check(&self) -> Result<(), CirclesError> {
        let n = self.weights.len();
        if self.covers.iter().flatten().any(|&b| b as usize >= n) {
            return Err(CirclesError::InvalidParameter {
                name: "covers",
                reason: "a candidate covers a demand point that does not exist".into(),
            });
        }
        Ok(())
    }

    /// Households covered by a set of candidates.
    pub fn value(&self, sites: &[usize]) -> u64 {
        let mut seen = vec![false; self.weights.len()];
        let mut v = 0;
        for &s in sites {
            for &b in self.covers.get(s).map(Vec::as_slice).unwrap_or(&[]) {
                if !std::mem::replace(&mut seen[b as usize], true) {
                    v += self.weights[b as usize];
                }
            }
        }
        v
    }

    /// Orders `sites` greedily and gives each its marginal households.
    fn ordered(&self, mut sites: Vec<usize>, swaps: usize) -> SitingSolution {
        let mut covered = vec![false; self.weights.len()];
        let mut out = SitingSolution { swaps, ..Default::default() };
        while !sites.is_empty() {
            let gain = |s: usize, covered: &[bool]| -> u64 {
                self.covers[s].iter().filter(|&&b| !covered[b as usize]).map(|&b| self.weights[b as usize]).sum()
            };
            let (pos, g) = sites
                .iter()
                .enumerate()
                .map(|(i, &s)| (i, gain(s, &covered)))
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .unwrap_or((0, 0));
            let s = sites.remove(pos);
            for &b in &self.covers[s] {
                covered[b as usize] = true;
            }
            out.sites.push(s);
            out.marginal.push(g);
            out.total += g;
        }
        out
    }
}

/// Starts tried by [`solve`] besides the plain greedy one.
pub const DEFAULT_RESTARTS: usize = 8;

/// Greedy start plus 1-exchange improvement (see the [module docs](self)), also restarted from
/// each of the [`DEFAULT_RESTARTS`] candidates covering the most households alone (that
/// candidate first, greedy for the rest, then swaps); the best result is kept. Chooses fewer than
/// `p` sites only when no further site would cover anyone new.
pub fn solve(problem: &CoverProblem, p: usize) -> Result<SitingSolution, CirclesError> {
    solve_with(problem, p, DEFAULT_RESTARTS)
}

/// [`solve`] with a chosen number of restarts (0: greedy and swaps only).
pub fn solve_with(problem: &CoverProblem, p: usize, restarts: usize) -> Result<SitingSolution, CirclesError> {
    problem.check()?;
    let (mut best, mut swaps) = greedy_swap(problem, p, None);
    let mut value = problem.value(&best);
    if restarts > 0 && p > 1 {
        let mut alone: Vec<(u64, usize)> = (0..problem.covers.len())
            .map(|s| (problem.covers[s].iter().map(|&b| problem.weights[b as usize]).sum(), s))
            .filter(|&(g, _)| g > 0)
            .collect();
        alone.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, s) in alone.iter().take(restarts) {
            if best.first() == Some(&s) {
                continue;
            }
            let (sites, sw) = greedy_swap(problem, p, Some(s));
            let v = problem.value(&sites);
            if v > value {
                (best, swaps, value) = (sites, sw, v);
            }
        }
    }
    Ok(problem.ordered(best, swaps))
}

/// Greedy (optionally starting with `first`), then best-improvement 1-exchange to a local optimum.
fn greedy_swap(problem: &CoverProblem, p: usize, first: Option<usize>) -> (Vec<usize>, usize) {
    let (n, m) = (problem.weights.len(), problem.covers.len());
    let w = &problem.weights;
    let mut count = vec![0u32; n];
    // XOR of the chosen sites covering each demand point: the only one when count == 1.
    let mut xor = vec![0u32; n];
    let mut chosen: Vec<usize> = Vec::with_capacity(p);
    let mut in_set = vec![false; m];
    let take = |s: usize, chosen: &mut Vec<usize>, in_set: &mut Vec<bool>, count: &mut Vec<u32>, xor: &mut Vec<u32>| {
        chosen.push(s);
        in_set[s] = true;
        for &b in &problem.covers[s] {
            count[b as usize] += 1;
            xor[b as usize] ^= s as u32;
        }
    };
    if let Some(s) = first.filter(|&s| s < m && p > 0) {
        take(s, &mut chosen, &mut in_set, &mut count, &mut xor);
    }
    let gain0 = |s: usize, count: &[u32]| -> u64 {
        problem.covers[s].iter().filter(|&&b| count[b as usize] == 0).map(|&b| w[b as usize]).sum()
    };
    // Lazy greedy: stale gains are upper bounds (gains only shrink).
    let mut heap: BinaryHeap<(u64, std::cmp::Reverse<usize>)> = (0..m)
        .filter(|&s| !in_set[s])
        .map(|s| (gain0(s, &count), std::cmp::Reverse(s)))
        .filter(|(g, _)| *g > 0)
        .collect();
    while chosen.len() < p {
        let Some((_, std::cmp::Reverse(s))) = heap.pop() else { break };
        let g = gain0(s, &count);
        if g == 0 {
            continue;
        }
        if heap.peek().is_some_and(|&(top, std::cmp::Reverse(t))| top > g || (top == g && t < s)) {
            heap.push((g, std::cmp::Reverse(s)));
            continue;
        }
        take(s, &mut chosen, &mut in_set, &mut count, &mut xor);
    }
    // 1-exchange.
    let mut swaps = 0;
    let useful: Vec<usize> = (0..m).filter(|&s| !problem.covers[s].is_empty()).collect();
    loop {
        let mut best: Option<(u64, usize, usize)> = None;
        for (pos, &i) in chosen.iter().enumerate() {
            let loss: u64 = problem.covers[i].iter().filter(|&&b| count[b as usize] == 1).map(|&b| w[b as usize]).sum();
            for &j in &useful {
                if in_set[j] {
                    continue;
                }
                let gain: u64 = problem.covers[j]
                    .iter()
                    .filter(|&&b| {
                        let c = count[b as usize];
                        c == 0 || (c == 1 && xor[b as usize] == i as u32)
                    })
                    .map(|&b| w[b as usize])
                    .sum();
                if gain > loss && best.is_none_or(|(d, _, _)| gain - loss > d) {
                    best = Some((gain - loss, pos, j));
                }
            }
        }
        let Some((_, pos, j)) = best else { break };
        let i = chosen[pos];
        for &b in &problem.covers[i] {
            count[b as usize] -= 1;
            xor[b as usize] ^= i as u32;
        }
        for &b in &problem.covers[j] {
            count[b as usize] += 1;
            xor[b as usize] ^= j as u32;
        }
        in_set[i] = false;
        in_set[j] = true;
        chosen[pos] = j;
        swaps += 1;
    }
    (chosen, swaps)
}

/// The default limit of [`solve_exact`]: subsets to enumerate.
pub const EXACT_LIMIT: u128 = 20_000_000;

/// The optimum by enumerating every p-subset of the candidates that cover anyone (ties: the
/// lexicographically first). Fails with [`CirclesError::TooLarge`] beyond `limit` subsets.
pub fn solve_exact(problem: &CoverProblem, p: usize, limit: u128) -> Result<SitingSolution, CirclesError> {
    problem.check()?;
    let useful: Vec<usize> = (0..problem.covers.len()).filter(|&s| !problem.covers[s].is_empty()).collect();
    let k = p.min(useful.len());
    let n = useful.len() as u128;
    let mut subsets: u128 = 1;
    for i in 0..k as u128 {
        subsets = subsets.saturating_mul(n - i) / (i + 1);
    }
    if subsets > limit {
        return Err(CirclesError::TooLarge { subsets, limit });
    }
    if k == 0 {
        return Ok(SitingSolution::default());
    }
    let mut idx: Vec<usize> = (0..k).collect();
    let mut best: (u64, Vec<usize>) = (0, Vec::new());
    let mut stamp = vec![0u32; problem.weights.len()];
    let mut round = 0u32;
    loop {
        round += 1;
        let mut v = 0;
        for &i in &idx {
            for &b in &problem.covers[useful[i]] {
                if stamp[b as usize] != round {
                    stamp[b as usize] = round;
                    v += problem.weights[b as usize];
                }
            }
        }
        if v > best.0 || best.1.is_empty() {
            best = (v, idx.iter().map(|&i| useful[i]).collect());
        }
        // Next combination.
        let mut t = k;
        while t > 0 && idx[t - 1] == useful.len() - k + t - 1 {
            t -= 1;
        }
        if t == 0 {
            break;
        }
        idx[t - 1] += 1;
        for u in t..k {
            idx[u] = idx[u - 1] + 1;
        }
    }
    Ok(problem.ordered(best.1, 0))
}

/// Where candidate sites may be.
#[derive(Debug, Clone, PartialEq)]
pub enum Candidates {
    /// Every node of the walking network.
    AllNodes,
    /// Given points (placed on the network like facilities; points not placed cover nobody).
    Points(Vec<Point<f64>>),
}

/// A candidate site.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Its location (lon/lat).
    pub location: Point<f64>,
    /// The network node it is (with [`Candidates::AllNodes`]).
    pub node: Option<usize>,
    /// Why a given point could not be placed (it then covers nobody).
    pub failure: Option<SnapFailure>,
}

/// A siting instance built from the network: the covering problem plus what its indexes mean.
#[derive(Debug, Clone, PartialEq)]
pub struct SitingInstance {
    /// Category id.
    pub category: String,
    /// The coverage threshold, metres.
    pub threshold_m: f64,
    /// The covering problem.
    pub problem: CoverProblem,
    /// Origin (building) index of each demand point.
    pub demand_origin: Vec<usize>,
    /// The candidates.
    pub candidates: Vec<Candidate>,
}

impl Network {
    /// Builds the siting instance of a category: the demand (origins with households beyond
    /// `threshold_m` in `current`, or reaching nothing) and what each candidate would cover.
    /// One bounded search of radius `threshold_m` per demand building (in parallel).
    pub fn siting_instance(
        &self,
        origins: &Origins,
        households: &[u32],
        current: &CategoryReach,
        threshold_m: f64,
        candidates: &Candidates,
    ) -> Result<SitingInstance, CirclesError> {
        if households.len() != origins.len() {
            return Err(CirclesError::LengthMismatch {
                what: "households",
                expected: origins.len(),
                got: households.len(),
            });
        }
        if current.len() != origins.len() {
            return Err(CirclesError::LengthMismatch {
                what: "current distances",
                expected: origins.len(),
                got: current.len(),
            });
        }
        if !(threshold_m.is_finite() && threshold_m >= 0.0) {
            return Err(CirclesError::InvalidParameter {
                name: "threshold_m",
                reason: format!("must be a non-negative number of metres, got {threshold_m}"),
            });
        }
        let g = self.graph();
        // Candidates as (chain, offset, snap distance).
        let mut cands = Vec::new();
        let mut placed: Vec<(u32, f64, f64)> = Vec::new();
        match candidates {
            Candidates::AllNodes => {
                for v in 0..g.node_count() {
                    let pos = match g.node_place[v] {
                        NodePlace::Junction(j) => g.arcs_of(j).first().map(|a| {
                            let c = a.chain_dir >> 1;
                            (c, if a.chain_dir & 1 == 0 { 0.0 } else { g.chain_len[c as usize] }, 0.0)
                        }),
                        NodePlace::OnChain { chain, offset_m } => Some((chain, offset_m, 0.0)),
                        NodePlace::Isolated => None,
                    };
                    let (Some(pos), Some(location)) = (pos, g.node_location(v)) else { continue };
                    cands.push(Candidate { location, node: Some(v), failure: None });
                    placed.push(pos);
                }
            }
            Candidates::Points(points) => {
                for &p in points {
                    match self.snap(p, None) {
                        Ok(s) => {
                            cands.push(Candidate { location: p, node: None, failure: None });
                            placed.push((s.chain, s.chain_offset, s.distance_m));
                        }
                        Err(f) => {
                            cands.push(Candidate { location: p, node: None, failure: Some(f) });
                            placed.push((NONE, 0.0, 0.0));
                        }
                    }
                }
            }
        }
        // Candidates by chain (CSR).
        let nc = g.chain_len.len();
        let mut first = vec![0u32; nc + 1];
        for &(c, _, _) in &placed {
            if c != NONE {
                first[c as usize + 1] += 1;
            }
        }
        for c in 0..nc {
            first[c + 1] += first[c];
        }
        let mut fill = first.clone();
        let mut on_chain = vec![(0u32, 0.0f64, 0.0f64); first[nc] as usize];
        for (i, &(c, o, s)) in placed.iter().enumerate() {
            if c != NONE {
                on_chain[fill[c as usize] as usize] = (i as u32, o, s);
                fill[c as usize] += 1;
            }
        }
        let chain_cands = |c: u32| &on_chain[first[c as usize] as usize..first[c as usize + 1] as usize];

        let demand: Vec<usize> = (0..origins.len())
            .filter(|&i| {
                households[i] > 0 && origins.snaps()[i].is_ok() && current.distance_m(i).is_none_or(|d| d > threshold_m)
            })
            .collect();
        let budget = to_um(threshold_m);
        let reached: Vec<Vec<u32>> = demand
            .par_iter()
            .map_init(
                || (Bounded::new(g), vec![u32::MAX; cands.len()]),
                |(b, stamp), &i| {
                    let mut out = Vec::new();
                    let Ok(snap) = &origins.snaps()[i] else { return out };
                    let mark = |k: u32, out: &mut Vec<u32>, stamp: &mut Vec<u32>| {
                        if stamp[k as usize] != i as u32 {
                            stamp[k as usize] = i as u32;
                            out.push(k);
                        }
                    };
                    b.reset();
                    b.seed_snap(g, snap, budget);
                    b.run(g, budget);
                    for &j in &b.touched {
                        let d = b.dist[j as usize];
                        for arc in g.arcs_of(j) {
                            let c = arc.chain_dir >> 1;
                            let len = g.chain_len[c as usize];
                            for &(k, o, s) in chain_cands(c) {
                                let along = if arc.chain_dir & 1 == 0 { o } else { len - o };
                                if d + to_um(along + s) <= budget {
                                    mark(k, &mut out, stamp);
                                }
                            }
                        }
                    }
                    for &(k, o, s) in chain_cands(snap.chain) {
                        if (o - snap.chain_offset).abs() + s + snap.distance_m <= threshold_m {
                            mark(k, &mut out, stamp);
                        }
                    }
                    out
                },
            )
            .collect();
        let mut covers = vec![Vec::new(); cands.len()];
        for (d, list) in reached.iter().enumerate() {
            for &k in list {
                covers[k as usize].push(d as u32);
            }
        }
        Ok(SitingInstance {
            category: current.category.clone(),
            threshold_m,
            problem: CoverProblem { weights: demand.iter().map(|&i| u64::from(households[i])).collect(), covers },
            demand_origin: demand,
            candidates: cands,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_is_fooled_and_the_swap_repairs_it() {
        // Greedy takes the big middle site 0 first; the optimum for p = 2 is sites 1 and 2.
        let problem =
            CoverProblem { weights: vec![10, 10, 10, 10, 1], covers: vec![vec![1, 2, 4], vec![0, 1], vec![2, 3]] };
        let s = solve_with(&problem, 2, 0).expect("solve");
        let e = solve_exact(&problem, 2, EXACT_LIMIT).expect("exact");
        assert_eq!(e.total, 40);
        assert_eq!(s.total, 40, "{s:?}");
        assert!(s.swaps >= 1);
        assert_eq!(s.marginal.iter().sum::<u64>(), s.total);
        assert_eq!(problem.value(&s.sites), s.total);
    }

    #[test]
    fn exact_refuses_huge_instances() {
        let problem = CoverProblem { weights: vec![1; 3], covers: vec![vec![0]; 200] };
        assert!(matches!(solve_exact(&problem, 6, 1000), Err(CirclesError::TooLarge { .. })));
        let bad = CoverProblem { weights: vec![1], covers: vec![vec![3]] };
        assert!(solve(&bad, 1).is_err());
    }
}
