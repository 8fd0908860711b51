//! Recursive bisection of a connected set of nodes into k connected parts of balanced households.
//!
//! Each bisection grows one side through the graph from the extreme node along the set's principal
//! axis, in order of the projection on that axis (so the side is a connected, nearly half-plane
//! cut, as compact as an inertial bisection), until it holds its share of households (k1/k), never
//! leaving the range that lets both sides be divided into grids within the quota. Pockets of the
//! other side that the growth enclosed join the grown side, so both sides are connected.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::graph::Graph;
use crate::types::Quota;

/// Reusable per-node scratch: labels and stamps.
pub(crate) struct Scratch {
    /// Label of each node (meaningful only for the labels handed out by `fresh`).
    pub label: Vec<u32>,
    /// Stamp for "queued" marks.
    pub seen: Vec<u32>,
    counter: u32,
    key: Vec<f64>,
}

impl Scratch {
    /// Scratch for `n` nodes.
    pub fn new(n: usize) -> Self {
        Scratch { label: vec![0; n], seen: vec![0; n], counter: 0, key: vec![0.0; n] }
    }
    /// A label never handed out before.
    pub fn fresh(&mut self) -> u32 {
        self.counter += 1;
        if self.counter == u32::MAX {
            self.label.iter_mut().for_each(|l| *l = 0);
            self.seen.iter_mut().for_each(|l| *l = 0);
            self.counter = 1;
        }
        self.counter
    }
}

/// Ordered f64 for the heap.
struct Key(f64, u32);
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

/// Splits the connected `set` into `k` connected parts (fewer only when it has fewer nodes).
pub(crate) fn split(g: &Graph, set: Vec<u32>, k: usize, q: &Quota, s: &mut Scratch) -> Vec<Vec<u32>> {
    let mut out = Vec::with_capacity(k);
    let mut stack = vec![(set, k.max(1))];
    while let Some((set, k)) = stack.pop() {
        if k <= 1 || set.len() <= 1 {
            out.push(set);
            continue;
        }
        let k1 = k / 2;
        let k2 = k - k1;
        match bisect(g, &set, k1, k2, q, s) {
            Some((a, b)) => {
                stack.push((b, k2));
                stack.push((a, k1));
            }
            None => out.push(set),
        }
    }
    out
}

/// The weight range side A (k1 grids) may take out of `w` so both sides can meet the quota; `None`
/// when there is none.
fn range(w: u64, k1: usize, k2: usize, q: &Quota) -> Option<(u64, u64)> {
    let (min, max) = (u64::from(q.min), u64::from(q.max));
    let (k1, k2) = (k1 as u64, k2 as u64);
    let lo = (k1 * min).max(w.saturating_sub(k2 * max));
    let hi = (k1 * max).min(w.saturating_sub(k2 * min));
    (lo <= hi).then_some((lo, hi))
}

/// One bisection: the best of a few growths (principal axis both ways, then the perpendicular
/// axis, each with adjusted targets); `None` when no growth gives two non-empty sides.
fn bisect(g: &Graph, set: &[u32], k1: usize, k2: usize, q: &Quota, s: &mut Scratch) -> Option<(Vec<u32>, Vec<u32>)> {
    let w: u64 = set.iter().map(|&v| g.w[v as usize]).sum();
    let t = w as f64 * k1 as f64 / (k1 + k2) as f64;
    let (lo, hi, feasible) = match range(w, k1, k2, q) {
        Some((lo, hi)) => (lo, hi, true),
        None => (0, w, false),
    };
    // Principal axis (atom-count weighted).
    let (mut n, mut mx, mut my) = (0.0, 0.0, 0.0);
    for &v in set {
        let c = g.cnt[v as usize];
        n += c;
        mx += c * g.x[v as usize];
        my += c * g.y[v as usize];
    }
    mx /= n;
    my /= n;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for &v in set {
        let c = g.cnt[v as usize];
        let dx = g.x[v as usize] - mx;
        let dy = g.y[v as usize] - my;
        sxx += c * dx * dx;
        syy += c * dy * dy;
        sxy += c * dx * dy;
    }
    let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (c, sn) = (theta.cos(), theta.sin());
    let dirs = [(c, sn), (-c, -sn), (-sn, c), (sn, -c)];
    let mut best: Option<(f64, Vec<u32>, Vec<u32>)> = None;
    for (i, &(dx, dy)) in dirs.iter().enumerate() {
        if i >= 2 && best.as_ref().is_some_and(|b| b.0 == 0.0) {
            break;
        }
        let mut target = t;
        for _ in 0..3 {
            let Some((a, b, wa)) = grow(g, set, (dx, dy), target, lo, hi, s) else { break };
            let miss = if wa < lo {
                (lo - wa) as f64
            } else if wa > hi {
                (wa - hi) as f64
            } else {
                0.0
            };
            // Among feasible cuts, prefer the first direction (the principal axis) and balance.
            let score = if miss == 0.0 { 0.0 } else { miss + 1.0 };
            let better = best.as_ref().is_none_or(|b| score < b.0);
            if better {
                best = Some((score, a, b));
            }
            if miss == 0.0 {
                break;
            }
            // Pockets overshot (or skipped nodes undershot): aim the other way.
            target -= wa as f64 - target.clamp(lo as f64, hi as f64);
            if !feasible {
                break;
            }
        }
        if best.as_ref().is_some_and(|b| b.0 == 0.0) {
            break;
        }
    }
    if best.as_ref().is_some_and(|b| b.0 > 0.0) && feasible && (k1 == 1 || k2 == 1) && set.len() <= 64 {
        // Coarse nodes: search the connected single-grid sides exhaustively (bounded).
        let found =
            if k1 == 1 { enumerate(g, set, lo, hi) } else { enumerate(g, set, w - hi, w - lo).map(|(a, b)| (b, a)) };
        if let Some((a, b)) = found {
            return Some((a, b));
        }
    }
    best.map(|(_, a, b)| (a, b))
}

/// The most compact split of a small connected `set` (≤ 64 nodes) into a connected side A with
/// households in `lo..=hi` and a connected rest, by enumerating connected subsets (each once,
/// bounded work); `None` when none was found.
fn enumerate(g: &Graph, set: &[u32], lo: u64, hi: u64) -> Option<(Vec<u32>, Vec<u32>)> {
    let n = set.len();
    let mut set_sorted: Vec<u32> = set.to_vec();
    set_sorted.sort_unstable();
    let set = &set_sorted[..];
    let mut nbr = vec![0u64; n];
    for (i, &v) in set.iter().enumerate() {
        for e in g.range(v) {
            if let Ok(j) = set.binary_search(&g.nbr[e]) {
                nbr[i] |= 1 << j;
            }
        }
    }
    let w: Vec<u64> = set.iter().map(|&v| g.w[v as usize]).collect();
    let full: u64 = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
    let connected = |mask: u64| -> bool { mask != 0 && mask_connected(&nbr, mask) };
    let spread = |mask: u64| -> f64 {
        let (mut c, mut sx, mut sy, mut sq) = (0.0, 0.0, 0.0, 0.0);
        let mut m = mask;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            let (x, y) = (g.x[set[i] as usize], g.y[set[i] as usize]);
            c += 1.0;
            sx += x;
            sy += y;
            sq += x * x + y * y;
        }
        if c == 0.0 { 0.0 } else { sq - (sx * sx + sy * sy) / c }
    };
    struct Search<'a> {
        w: &'a [u64],
        nbr: &'a [u64],
        hi: u64,
        lo: u64,
        budget: usize,
        found: Vec<u64>,
    }
    fn rec(s: &mut Search, c: u64, wc: u64, ext: u64, forbidden: u64) {
        if s.budget == 0 {
            return;
        }
        s.budget -= 1;
        if wc >= s.lo {
            s.found.push(c);
        }
        let mut ext = ext;
        let mut forb = forbidden;
        while ext != 0 {
            let i = ext.trailing_zeros() as usize;
            let bit = 1u64 << i;
            ext &= !bit;
            if wc + s.w[i] <= s.hi {
                let next = (ext | s.nbr[i]) & !(c | bit) & !forb;
                rec(s, c | bit, wc + s.w[i], next, forb);
            }
            forb |= bit;
        }
    }
    let mut search = Search { w: &w, nbr: &nbr, hi, lo, budget: 20_000, found: Vec::new() };
    let mut forbidden = 0u64;
    for r in 0..n {
        let bit = 1u64 << r;
        if w[r] <= hi {
            rec(&mut search, bit, w[r], nbr[r] & !forbidden & !bit, forbidden);
        }
        forbidden |= bit;
        if search.budget == 0 {
            break;
        }
    }
    let mut best: Option<(f64, u64)> = None;
    for &c in &search.found {
        let rest = full & !c;
        if !connected(rest) {
            continue;
        }
        let score = spread(c) + spread(rest);
        if best.is_none_or(|b| score < b.0) {
            best = Some((score, c));
        }
    }
    let (_, c) = best?;
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (i, &v) in set.iter().enumerate() {
        if c & (1 << i) != 0 {
            a.push(v);
        } else {
            b.push(v);
        }
    }
    Some((a, b))
}

/// Grows side A from the node with the lowest projection on `dir`, in projection order, to about
/// `target` households without exceeding `hi`; the other side keeps its largest connected piece
/// and the rest joins A. Returns (A, B, households of A), or `None` when a side is empty.
fn grow(
    g: &Graph,
    set: &[u32],
    dir: (f64, f64),
    target: f64,
    lo: u64,
    hi: u64,
    s: &mut Scratch,
) -> Option<(Vec<u32>, Vec<u32>, u64)> {
    let in_set = s.fresh();
    let side_a = s.fresh();
    let queued = s.fresh();
    let mut start = set[0];
    for &v in set {
        let k = g.x[v as usize] * dir.0 + g.y[v as usize] * dir.1;
        s.key[v as usize] = k;
        s.label[v as usize] = in_set;
        if k < s.key[start as usize] || (k == s.key[start as usize] && v < start) {
            start = v;
        }
    }
    let mut heap = BinaryHeap::new();
    heap.push(Reverse(Key(s.key[start as usize], start)));
    s.seen[start as usize] = queued;
    let mut wa = 0u64;
    while let Some(Reverse(Key(_, v))) = heap.pop() {
        let wv = g.w[v as usize];
        if wa + wv > hi {
            continue;
        }
        if wa >= lo && (wa + wv) as f64 - target > target - wa as f64 {
            break;
        }
        s.label[v as usize] = side_a;
        wa += wv;
        if wa as f64 >= target {
            break;
        }
        for e in g.range(v) {
            let u = g.nbr[e];
            if s.label[u as usize] == in_set && s.seen[u as usize] != queued {
                s.seen[u as usize] = queued;
                heap.push(Reverse(Key(s.key[u as usize], u)));
            }
        }
    }
    // Pieces of the rest: keep the heaviest, the others join A.
    let piece = s.fresh();
    let mut best: Option<(u64, u32)> = None; // (weight, label)
    let mut pieces: Vec<(u32, u64)> = Vec::new();
    let mut stack = Vec::new();
    for &r in set {
        if s.label[r as usize] != in_set {
            continue;
        }
        let lab = if pieces.is_empty() { piece } else { s.fresh() };
        let mut wp = 0u64;
        s.label[r as usize] = lab;
        stack.push(r);
        while let Some(v) = stack.pop() {
            wp += g.w[v as usize];
            for e in g.range(v) {
                let u = g.nbr[e];
                if s.label[u as usize] == in_set {
                    s.label[u as usize] = lab;
                    stack.push(u);
                }
            }
        }
        pieces.push((lab, wp));
        if best.is_none_or(|b| wp > b.0) {
            best = Some((wp, lab));
        }
    }
    let (wb, keep) = best?;
    let mut a = Vec::new();
    let mut b = Vec::new();
    for &v in set {
        if s.label[v as usize] == keep {
            b.push(v);
        } else {
            a.push(v);
        }
    }
    if a.is_empty() {
        return None;
    }
    let total: u64 = set.iter().map(|&v| g.w[v as usize]).sum();
    Some((a, b, total - wb))
}

/// Exact fallback for small sets of coarse nodes (≤ 64): peels grids one at a time from the
/// lowest node (by x, then y), each a connected subset within the quota whose removal leaves a
/// connected rest that can still be divided, trying the most compact first, with backtracking
/// (bounded work). Returns the grids, or `None` when none was found.
pub(crate) fn peel(g: &Graph, set: &[u32], q: &Quota) -> Option<Vec<Vec<u32>>> {
    let n = set.len();
    if n == 0 || n > 64 {
        return None;
    }
    let mut set: Vec<u32> = set.to_vec();
    set.sort_unstable();
    let mut nbr = vec![0u64; n];
    for (i, &v) in set.iter().enumerate() {
        for e in g.range(v) {
            if let Ok(j) = set.binary_search(&g.nbr[e]) {
                nbr[i] |= 1 << j;
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let (va, vb) = (set[a] as usize, set[b] as usize);
        g.x[va].total_cmp(&g.x[vb]).then(g.y[va].total_cmp(&g.y[vb])).then(a.cmp(&b))
    });
    let ctx = Peel {
        w: set.iter().map(|&v| g.w[v as usize]).collect(),
        x: set.iter().map(|&v| g.x[v as usize]).collect(),
        y: set.iter().map(|&v| g.y[v as usize]).collect(),
        nbr,
        order,
        min: u64::from(q.min),
        max: u64::from(q.max),
    };
    let full: u64 = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
    let mut budget = 4000usize;
    let mut out = Vec::new();
    if !ctx.go(full, &mut budget, &mut out) {
        return None;
    }
    Some(out.into_iter().map(|m| (0..n).filter(|&i| m & (1 << i) != 0).map(|i| set[i]).collect()).collect())
}

struct Peel {
    w: Vec<u64>,
    x: Vec<f64>,
    y: Vec<f64>,
    nbr: Vec<u64>,
    order: Vec<usize>,
    min: u64,
    max: u64,
}

impl Peel {
    fn weight(&self, mut m: u64) -> u64 {
        let mut s = 0;
        while m != 0 {
            s += self.w[m.trailing_zeros() as usize];
            m &= m - 1;
        }
        s
    }
    fn divisible(&self, w: u64) -> bool {
        w.div_ceil(self.max.max(1)) <= w / self.min.max(1)
    }
    fn connected(&self, mask: u64) -> bool {
        mask == 0 || mask_connected(&self.nbr, mask)
    }
    fn spread(&self, mut m: u64) -> f64 {
        let (mut c, mut sx, mut sy, mut sq) = (0.0, 0.0, 0.0, 0.0);
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            c += 1.0;
            sx += self.x[i];
            sy += self.y[i];
            sq += self.x[i] * self.x[i] + self.y[i] * self.y[i];
        }
        if c == 0.0 { 0.0 } else { sq - (sx * sx + sy * sy) / c }
    }
    /// Connected subsets of `mask` holding `c`, weight ≤ max, each once (bounded).
    fn subsets(&self, mask: u64, (c, wc): (u64, u64), ext: u64, forb: u64, left: &mut usize, out: &mut Vec<u64>) {
        if *left == 0 {
            return;
        }
        *left -= 1;
        if wc >= self.min {
            out.push(c);
        }
        let (mut ext, mut forb) = (ext, forb);
        while ext != 0 {
            let i = ext.trailing_zeros() as usize;
            let bit = 1u64 << i;
            ext &= !bit;
            if wc + self.w[i] <= self.max {
                let next = (ext | self.nbr[i]) & mask & !(c | bit) & !forb;
                self.subsets(mask, (c | bit, wc + self.w[i]), next, forb, left, out);
            }
            forb |= bit;
        }
    }
    fn go(&self, mask: u64, budget: &mut usize, out: &mut Vec<u64>) -> bool {
        let wm = self.weight(mask);
        if (self.min..=self.max).contains(&wm) {
            out.push(mask);
            return true;
        }
        if !self.divisible(wm) || *budget == 0 {
            return false;
        }
        let Some(&root) = self.order.iter().find(|&&i| mask & (1 << i) != 0) else { return false };
        let bit = 1u64 << root;
        if self.w[root] > self.max {
            return false;
        }
        let mut cands = Vec::new();
        let mut left = 3000usize;
        self.subsets(mask, (bit, self.w[root]), self.nbr[root] & mask & !bit, 0, &mut left, &mut cands);
        let mut scored: Vec<(f64, u64)> = cands
            .into_iter()
            .filter(|&c| {
                let rest = mask & !c;
                self.connected(rest) && self.divisible(self.weight(rest))
            })
            .map(|c| (self.spread(c), c))
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (_, c) in scored {
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            out.push(c);
            if self.go(mask & !c, budget, out) {
                return true;
            }
            out.pop();
        }
        false
    }
}

/// True when the nodes of the non-empty bit set `mask` are connected through `nbr` (bit masks of
/// each node's neighbours), by flooding from its lowest node.
fn mask_connected(nbr: &[u64], mask: u64) -> bool {
    let mut reach = mask & mask.wrapping_neg();
    loop {
        let mut next = reach;
        let mut m = reach;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            next |= nbr[i] & mask;
        }
        if next == reach {
            return reach == mask;
        }
        reach = next;
    }
}
