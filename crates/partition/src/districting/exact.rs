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
const MAX_SETS: usize = 1 << 16;

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
    /// Node positions (for growing compact candidate grids when the listing is cut short).
    xy: Vec<(f64, f64)>,
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
        if !complete {
            // The listing is cut short and its sets are all alike: add compact grids grown
            // around the pivot in several orders, so the search still has real choices.
            self.grown(rem, p, &mut sets.0);
        }
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

    /// Compact connected sets within the quota grown from `p` inside `rem`: each round adds the
    /// frontier node nearest the set's centre (distances perturbed differently per round), and
    /// every prefix within the quota is kept.
    fn grown(&self, rem: u128, p: usize, out: &mut Vec<(u128, u64)>) {
        if self.xy.is_empty() {
            return;
        }
        let (min, max) = (u64::from(self.q.min), u64::from(self.q.max));
        for round in 0u64..24 {
            let (mut c, mut wc) = (1u128 << p, self.w[p]);
            let (mut sx, mut sy, mut n) = (self.xy[p].0, self.xy[p].1, 1.0);
            loop {
                let frontier = bits(c).fold(0u128, |acc, i| acc | self.adj[i]) & rem & !c;
                let pick = bits(frontier).filter(|&u| wc + self.w[u] <= max).min_by(|&a, &b| {
                    let key = |u: usize| {
                        let (dx, dy) = (self.xy[u].0 - sx / n, self.xy[u].1 - sy / n);
                        // A deterministic factor in 1..2 per (round, node); round 0 unperturbed.
                        let h = (u as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                            ^ round.wrapping_mul(0xBF58_476D_1CE4_E5B9);
                        let f = if round == 0 { 1.0 } else { 1.0 + (h >> 11) as f64 / (1u64 << 53) as f64 };
                        (dx * dx + dy * dy) * f
                    };
                    key(a).total_cmp(&key(b)).then(a.cmp(&b))
                });
                let Some(u) = pick else { break };
                c |= 1u128 << u;
                wc += self.w[u];
                sx += self.xy[u].0;
                sy += self.xy[u].1;
                n += 1.0;
                if wc >= min {
                    out.push((c, wc));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
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
    let xy = nodes.iter().map(|&v| (g.x[v as usize], g.y[v as usize])).collect();
    let mut s = Search { w, xy, adj, q, failed: HashSet::new(), steps: budget, out: false, chosen: Vec::new() };
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
    let mut s =
        Search { w, xy: Vec::new(), adj, q, failed: HashSet::new(), steps: budget, out: false, chosen: Vec::new() };
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

/// Parts too big to share a grid with each other (more than half the maximum) yet short of the
/// minimum each need a grid of their own holding at least one neighbour small enough to add, and
/// no neighbour can serve two of them. When a maximum matching of such parts to such neighbours
/// (Hall's condition) leaves some without one, no plan exists: returns those parts (node ids) and
/// how many could be served.
pub(crate) fn unmatched_parts(g: &Graph, q: &Quota) -> Option<(Vec<u32>, usize)> {
    let (min, max) = (u64::from(q.min), u64::from(q.max));
    let heavy: Vec<u32> = (0..g.len() as u32).filter(|&v| g.w[v as usize] < min && 2 * g.w[v as usize] > max).collect();
    if heavy.is_empty() {
        return None;
    }
    let options: Vec<Vec<u32>> = heavy
        .iter()
        .map(|&v| g.range(v).map(|e| g.nbr[e]).filter(|&u| g.w[v as usize] + g.w[u as usize] <= max).collect())
        .collect();
    // Kuhn's augmenting paths.
    let mut owner: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    fn augment(
        h: usize,
        options: &[Vec<u32>],
        owner: &mut std::collections::HashMap<u32, usize>,
        seen: &mut HashSet<u32>,
    ) -> bool {
        for &u in &options[h] {
            if seen.insert(u) {
                let free = match owner.get(&u) {
                    None => true,
                    Some(&other) => augment(other, options, owner, seen),
                };
                if free {
                    owner.insert(u, h);
                    return true;
                }
            }
        }
        false
    }
    let mut unserved = Vec::new();
    let mut served = 0;
    for (h, &v) in heavy.iter().enumerate() {
        if augment(h, &options, &mut owner, &mut HashSet::new()) {
            served += 1;
        } else {
            unserved.push(v);
        }
    }
    (!unserved.is_empty()).then_some((unserved, served))
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
