//! Exact search on small sets of nodes: a division into connected grids within the quota, or a
//! proof that none exists.
//!
//! The heuristics (bisection, boundary moves, recombination) are fast but can miss a division that
//! exists, and they can never show that one does not. On up to [`MAX_NODES`] nodes (contracted:
//! a compound that fits in one grid is one node) this search settles it: it takes the remaining node
//! with the fewest remaining neighbours, enumerates every connected set of remaining nodes holding it
//! whose households fit the quota (each set once: include the lowest candidate or exclude it for
//! good), and recurses on the rest. A remainder is abandoned as soon as one of its connected pieces
//! holds a number of households that no count of grids can add up to, and remainders already shown
//! impossible are remembered. A budget of enumeration steps bounds the work; when it runs out the
//! answer is "unknown", never a false proof.

use std::collections::HashSet;

use super::graph::Graph;
use crate::types::Quota;

/// The most nodes one search takes (the width of its bit sets).
pub(crate) const MAX_NODES: usize = 128;

/// The most candidate grids listed for one node before the search stops listing.
const MAX_SETS: usize = 4096;

/// What an exact search found.
pub(crate) enum Exact {
    /// A division: the parts (graph node ids), each connected and within the quota.
    Found(Vec<Vec<u32>>),
    /// Proven: no division of these nodes into connected grids within the quota exists.
    Infeasible,
    /// The budget ran out first.
    Unknown,
}

/// True when `h` households can be divided into grids within the quota.
pub(crate) fn divisible(h: u64, q: &Quota) -> bool {
    let (min, max) = (u64::from(q.min), u64::from(q.max.max(1)));
    h.div_ceil(max) <= h / min.max(1) || (min == 0 && h <= max)
}

/// Sets found (mask, households) and the most to list.
type Sets = (Vec<(u128, u64)>, usize);

struct Search<'q> {
    w: Vec<u64>,
    adj: Vec<u128>,
    q: &'q Quota,
    failed: HashSet<u128>,
    steps: u64,
    out: bool,
    chosen: Vec<u128>,
}

fn bits(mut m: u128) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if m == 0 {
            return None;
        }
        let i = m.trailing_zeros() as usize;
        m &= m - 1;
        Some(i)
    })
}

impl Search<'_> {
    fn weight(&self, m: u128) -> u64 {
        bits(m).map(|i| self.w[i]).sum()
    }

    /// Every connected piece of `rem` can be divided into grids.
    fn pieces_divisible(&self, rem: u128) -> bool {
        let mut left = rem;
        while left != 0 {
            let start = left & left.wrapping_neg();
            let (mut piece, mut frontier) = (start, start);
            while frontier != 0 {
                let next = bits(frontier).fold(0u128, |acc, i| acc | self.adj[i]) & rem & !piece;
                piece |= next;
                frontier = next;
            }
            left &= !piece;
            if !divisible(self.weight(piece), self.q) {
                return false;
            }
        }
        true
    }

    fn solve(&mut self, rem: u128) -> bool {
        if rem == 0 {
            return true;
        }
        if self.out || self.failed.contains(&rem) {
            return false;
        }
        if !self.pieces_divisible(rem) {
            self.failed.insert(rem);
            return false;
        }
        let wr = self.weight(rem);
        if wr <= u64::from(self.q.max) {
            // The pieces are divisible, so a remainder within the maximum is one grid within the quota.
            self.chosen.push(rem);
            return true;
        }
        let Some(p) = bits(rem).min_by_key(|&i| ((self.adj[i] & rem).count_ones(), i)) else {
            return true;
        };
        // Every grid that can hold the pivot, tried in order of the shortest border with the rest
        // (compact grids that leave a compact remainder), then nearest the target.
        let mut sets: Sets = (Vec::new(), MAX_SETS);
        // With many small nodes the sets are too many to list: take the first ones (a search
        // that can still find a division, but no longer prove there is none).
        let complete = self.collect(rem, 1u128 << p, self.w[p], self.adj[p] & rem, 0, &mut sets);
        let target = u64::from(self.q.target);
        let mut keyed: Vec<(u32, u64, u128)> = sets
            .0
            .into_iter()
            .map(|(m, wm)| {
                let border = bits(m).fold(0u128, |acc, i| acc | self.adj[i]) & rem & !m;
                (border.count_ones(), wm.abs_diff(target), m)
            })
            .collect();
        keyed.sort_unstable();
        for (_, _, m) in keyed {
            self.chosen.push(m);
            if self.solve(rem & !m) {
                return true;
            }
            self.chosen.pop();
            if self.out {
                return false;
            }
        }
        if !complete {
            self.out = true;
            return false;
        }
        if self.failed.len() > 4_000_000 {
            self.failed.clear();
        }
        self.failed.insert(rem);
        false
    }

    /// Collects the connected sets ⊇ `c` within `rem` (extended only by `cand`, never by `excl`)
    /// whose households fit the quota; false when the budget runs out first.
    fn collect(&mut self, rem: u128, c: u128, wc: u64, cand: u128, excl: u128, out: &mut Sets) -> bool {
        if self.steps == 0 || out.0.len() >= out.1 {
            return false;
        }
        self.steps -= 1;
        if wc > u64::from(self.q.max) {
            return true;
        }
        if wc >= u64::from(self.q.min) {
            out.0.push((c, wc));
        }
        let (mut cand, mut excl) = (cand, excl);
        while cand != 0 {
            let ub = cand & cand.wrapping_neg();
            let u = ub.trailing_zeros() as usize;
            cand &= !ub;
            if wc + self.w[u] <= u64::from(self.q.max) {
                let next = cand | (self.adj[u] & rem & !c & !excl & !ub);
                if !self.collect(rem, c | ub, wc + self.w[u], next, excl, out) {
                    return false;
                }
            }
            excl |= ub;
        }
        true
    }
}

/// Local bit sets of `nodes` (sorted, at most [`MAX_NODES`]): weights and neighbour masks.
fn local(g: &Graph, nodes: &[u32]) -> (Vec<u64>, Vec<u128>) {
    let w: Vec<u64> = nodes.iter().map(|&v| g.w[v as usize]).collect();
    let adj = nodes
        .iter()
        .map(|&v| {
            g.range(v).filter_map(|e| nodes.binary_search(&g.nbr[e]).ok()).fold(0u128, |acc, j| acc | (1u128 << j))
        })
        .collect();
    (w, adj)
}

/// Divides `nodes` into connected grids within the quota, or proves it impossible, within
/// `budget` enumeration steps.
pub(crate) fn solve(g: &Graph, nodes: &[u32], q: &Quota, budget: u64) -> Exact {
    let mut nodes = nodes.to_vec();
    nodes.sort_unstable();
    nodes.dedup();
    if nodes.len() > MAX_NODES {
        return Exact::Unknown;
    }
    if nodes.is_empty() {
        return Exact::Found(Vec::new());
    }
    let (w, adj) = local(g, &nodes);
    if w.iter().any(|&x| x > u64::from(q.max)) {
        return Exact::Infeasible;
    }
    let mut s = Search { w, adj, q, failed: HashSet::new(), steps: budget, out: false, chosen: Vec::new() };
    let all = if nodes.len() == MAX_NODES { u128::MAX } else { (1u128 << nodes.len()) - 1 };
    if s.solve(all) {
        let parts = s.chosen.iter().map(|&m| bits(m).map(|i| nodes[i]).collect()).collect();
        Exact::Found(parts)
    } else if s.out {
        Exact::Unknown
    } else {
        Exact::Infeasible
    }
}

/// Whether node `v` can be in any grid at all: `Some(true)` when every connected set of nodes
/// holding it has fewer than `min` or more than `max` households (proven by enumerating them all),
/// `Some(false)` when one fits, `None` when the neighbourhood within `max` households is too big
/// to enumerate within the budget.
pub(crate) fn stranded(g: &Graph, v: u32, q: &Quota, budget: u64) -> Option<bool> {
    let max = u64::from(q.max);
    if g.w[v as usize] > max {
        return Some(true);
    }
    // Every node of a connected set holding v with ≤ max households lies on a path from v whose
    // households sum (both ends included) to ≤ max: collect those nodes (a node-weighted Dijkstra).
    let mut best: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
    let mut heap = std::collections::BinaryHeap::new();
    best.insert(v, g.w[v as usize]);
    heap.push(std::cmp::Reverse((g.w[v as usize], v)));
    while let Some(std::cmp::Reverse((d, x))) = heap.pop() {
        if best.get(&x).is_some_and(|&b| b < d) {
            continue;
        }
        for e in g.range(x) {
            let u = g.nbr[e];
            let du = d + g.w[u as usize];
            if du <= max && best.get(&u).is_none_or(|&b| du < b) {
                best.insert(u, du);
                if best.len() > MAX_NODES {
                    return None;
                }
                heap.push(std::cmp::Reverse((du, u)));
            }
        }
    }
    let nodes: Vec<u32> = best.keys().copied().collect();
    let (w, adj) = local(g, &nodes);
    let p = nodes.binary_search(&v).ok()?;
    let all = if nodes.len() == MAX_NODES { u128::MAX } else { (1u128 << nodes.len()) - 1 };
    // Listing stops at the first set within the quota.
    let mut s = Search { w, adj, q, failed: HashSet::new(), steps: budget, out: false, chosen: Vec::new() };
    let mut sets: Sets = (Vec::new(), 1);
    let complete = s.collect(all, 1u128 << p, s.w[p], s.adj[p] & all, 0, &mut sets);
    if !sets.0.is_empty() {
        Some(false)
    } else if complete {
        Some(true)
    } else {
        None
    }
}

/// Whether households in parts of these sizes can be grouped into grids within the quota at all,
/// wherever the parts stand: a relaxation that forgets contiguity and treats the small parts
/// (at most a quarter of the quota's span) as freely divisible. `Some(false)` is a proof that no
/// plan exists; `None` when there are too many large parts to try every grouping of them.
pub(crate) fn groupable(weights: &[u64], q: &Quota) -> Option<bool> {
    let (min, max) = (u64::from(q.min), u64::from(q.max));
    if min == 0 {
        return Some(true);
    }
    let small = (max - min) / 4;
    let big: Vec<u64> = weights.iter().copied().filter(|&w| w > small).collect();
    let fluid: u64 = weights.iter().copied().filter(|&w| w <= small).sum();
    if big.len() > 12 {
        return None;
    }
    if big.iter().any(|&w| w > max) {
        return Some(false);
    }
    let all = if big.is_empty() { 0 } else { (1u32 << big.len()) - 1 };
    Grouping { big, fluid, min, max, steps: 2_000_000 }.rec(all, 0, 0)
}

/// The search of [`groupable`]: groups of large parts, each topped up to the quota from the small
/// parts (`lo` households must be added to the groups, up to `slack` more may be); the rest of the
/// small parts forms grids of its own.
struct Grouping {
    big: Vec<u64>,
    fluid: u64,
    min: u64,
    max: u64,
    steps: u64,
}

impl Grouping {
    fn rec(&mut self, left: u32, lo: u64, slack: u64) -> Option<bool> {
        if self.steps == 0 {
            return None;
        }
        self.steps -= 1;
        if left == 0 {
            let Some(r) = self.fluid.checked_sub(lo) else { return Some(false) };
            // t grids of small parts only: t·min ≤ r and r − t·max ≤ slack.
            let t = r.saturating_sub(slack).div_ceil(self.max);
            return Some(t * self.min <= r);
        }
        let first = left.trailing_zeros();
        let rest = left & !(1u32 << first);
        let mut sub = rest;
        loop {
            let group = sub | (1u32 << first);
            let sum: u64 = (0..self.big.len()).filter(|&i| group & (1u32 << i) != 0).map(|i| self.big[i]).sum();
            if sum <= self.max {
                let need = self.min.saturating_sub(sum);
                match self.rec(left & !group, lo + need, slack + (self.max - sum - need)) {
                    Some(false) => {}
                    other => return other,
                }
            }
            if sub == 0 {
                break;
            }
            sub = (sub - 1) & rest;
        }
        Some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(min: u32, max: u32) -> Quota {
        Quota { min, max, target: (min + max) / 2 }
    }

    #[test]
    fn compounds_that_leave_too_little_room_prove_a_community_ungroupable() {
        // Three compounds of 480, 456 and 360 households take at most 20 + 44 + 140 = 204 of the 252
        // households of 21 small buildings; the rest are too few for a grid of their own.
        let mut w = vec![480, 456, 360];
        w.extend(std::iter::repeat_n(12, 21));
        assert_eq!(groupable(&w, &quota(300, 500)), Some(false));
        // With 48 households fewer in small buildings everything fits.
        let mut w = vec![480, 456, 360];
        w.extend(std::iter::repeat_n(12, 17));
        assert_eq!(groupable(&w, &quota(300, 500)), Some(true));
        // Enough small households for a grid of their own.
        let mut w = vec![480, 456, 360];
        w.extend(std::iter::repeat_n(12, 60));
        assert_eq!(groupable(&w, &quota(300, 500)), Some(true));
    }

    #[test]
    fn two_large_parts_may_share_a_grid() {
        // 250 + 240 = 490 fits one grid; alone each would be short of 300 with nothing to add.
        assert_eq!(groupable(&[250, 240], &quota(300, 500)), Some(true));
        assert_eq!(groupable(&[250, 260], &quota(300, 500)), Some(false));
        assert_eq!(groupable(&[501], &quota(300, 500)), Some(false));
    }
}
