//! A plan under repair: contiguity (stray pieces join the neighbour they touch most), quota
//! (single boundary moves that keep the donor connected, then recombination of a growing
//! neighbourhood of grids re-split into feasible connected grids), and a compactness polish
//! (boundary moves lowering the grids' moment of inertia, keeping quota and contiguity).

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;

use super::exact::{self, Exact, MAX_NODES};
use super::graph::Graph;
use super::split::{Scratch, peel, split};
use crate::types::Quota;

/// Nodes → grid labels, with per-grid sums kept current.
pub(crate) struct State<'a> {
    pub g: &'a Graph,
    pub q: Quota,
    /// Grid label of each node.
    pub grid: Vec<u32>,
    /// Nodes of each grid label (empty for retired labels).
    pub members: Vec<Vec<u32>>,
    /// Households per label.
    pub hh: Vec<u64>,
    cnt: Vec<f64>,
    sx: Vec<f64>,
    sy: Vec<f64>,
    /// Labels changed since `mark_clean` (for stability: polish only these).
    pub touched: Vec<bool>,
    pub s: Scratch,
}

/// How far `h` lies outside the quota.
pub(crate) fn miss(h: u64, q: &Quota) -> u64 {
    let (min, max) = (u64::from(q.min), u64::from(q.max));
    if h < min { min - h } else { h.saturating_sub(max) }
}

impl<'a> State<'a> {
    /// A state from grid labels per node (labels dense from 0).
    pub fn new(g: &'a Graph, q: Quota, grid: Vec<u32>) -> Self {
        let labels = grid.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
        let mut st = State {
            g,
            q,
            grid,
            members: vec![Vec::new(); labels],
            hh: vec![0; labels],
            cnt: vec![0.0; labels],
            sx: vec![0.0; labels],
            sy: vec![0.0; labels],
            touched: vec![false; labels],
            s: Scratch::new(g.len()),
        };
        for v in 0..g.len() {
            let l = st.grid[v] as usize;
            st.members[l].push(v as u32);
            st.add_sums(v as u32, l, 1.0);
        }
        st
    }

    fn add_sums(&mut self, v: u32, l: usize, sign: f64) {
        let v = v as usize;
        let c = self.g.cnt[v];
        if sign > 0.0 {
            self.hh[l] += self.g.w[v];
        } else {
            self.hh[l] -= self.g.w[v];
        }
        self.cnt[l] += sign * c;
        self.sx[l] += sign * c * self.g.x[v];
        self.sy[l] += sign * c * self.g.y[v];
    }

    fn new_label(&mut self) -> u32 {
        self.members.push(Vec::new());
        self.hh.push(0);
        self.cnt.push(0.0);
        self.sx.push(0.0);
        self.sy.push(0.0);
        self.touched.push(true);
        (self.members.len() - 1) as u32
    }

    /// Moves node v to label `to`.
    pub fn move_node(&mut self, v: u32, to: u32) {
        let from = self.grid[v as usize];
        if from == to {
            return;
        }
        let m = &mut self.members[from as usize];
        if let Some(p) = m.iter().position(|&x| x == v) {
            m.swap_remove(p);
        }
        self.add_sums(v, from as usize, -1.0);
        self.members[to as usize].push(v);
        self.add_sums(v, to as usize, 1.0);
        self.grid[v as usize] = to;
        self.touched[from as usize] = true;
        self.touched[to as usize] = true;
    }

    /// Connected pieces of a label's nodes, heaviest first (by households, then size).
    fn pieces(&mut self, l: u32) -> Vec<Vec<u32>> {
        let mark = self.s.fresh();
        let mut out: Vec<Vec<u32>> = Vec::new();
        let members = self.members[l as usize].clone();
        for &r in &members {
            if self.s.seen[r as usize] == mark {
                continue;
            }
            self.s.seen[r as usize] = mark;
            let mut piece = vec![r];
            let mut i = 0;
            while i < piece.len() {
                let v = piece[i];
                for e in self.g.range(v) {
                    let u = self.g.nbr[e];
                    if self.grid[u as usize] == l && self.s.seen[u as usize] != mark {
                        self.s.seen[u as usize] = mark;
                        piece.push(u);
                    }
                }
                i += 1;
            }
            out.push(piece);
        }
        let w = |p: &Vec<u32>| p.iter().map(|&v| self.g.w[v as usize]).sum::<u64>();
        out.sort_by_key(|p| std::cmp::Reverse((w(p), p.len())));
        out
    }

    /// Makes every grid connected: its heaviest piece stays, each other piece joins the other grid it
    /// has most contacts with. Returns the households moved.
    pub fn fix_contiguity(&mut self) -> u64 {
        let mut moved = 0;
        for _ in 0..20 {
            let mut changed = false;
            for l in 0..self.members.len() as u32 {
                if self.members[l as usize].len() < 2 {
                    continue;
                }
                let pieces = self.pieces(l);
                for piece in pieces.into_iter().skip(1) {
                    let mut touch: BTreeMap<u32, u32> = BTreeMap::new();
                    for &v in &piece {
                        for e in self.g.range(v) {
                            let h = self.grid[self.g.nbr[e] as usize];
                            if h != l {
                                *touch.entry(h).or_default() += self.g.contacts[e];
                            }
                        }
                    }
                    let Some((&to, _)) = touch.iter().max_by_key(|(h, c)| (**c, std::cmp::Reverse(**h))) else {
                        continue;
                    };
                    for v in piece {
                        moved += self.g.w[v as usize];
                        self.move_node(v, to);
                    }
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        moved
    }

    /// True when removing v leaves its grid connected (and non-empty).
    fn removable(&mut self, v: u32) -> bool {
        let l = self.grid[v as usize];
        let size = self.members[l as usize].len();
        if size <= 1 {
            return false;
        }
        let mut inside = 0;
        let mut first = None;
        for e in self.g.range(v) {
            let u = self.g.nbr[e];
            if self.grid[u as usize] == l {
                inside += 1;
                first.get_or_insert(u);
            }
        }
        let Some(start) = first else { return false };
        if inside == 1 {
            return true;
        }
        let mark = self.s.fresh();
        self.s.seen[v as usize] = mark;
        self.s.seen[start as usize] = mark;
        let mut stack = vec![start];
        let mut reached = 1;
        while let Some(x) = stack.pop() {
            for e in self.g.range(x) {
                let u = self.g.nbr[e];
                if self.grid[u as usize] == l && self.s.seen[u as usize] != mark {
                    self.s.seen[u as usize] = mark;
                    reached += 1;
                    stack.push(u);
                }
            }
        }
        reached == size - 1
    }

    /// Squared distance from node v to the centroid of label l.
    fn d2(&self, v: u32, l: u32) -> f64 {
        let l = l as usize;
        if self.cnt[l] <= 0.0 {
            return 0.0;
        }
        let cx = self.sx[l] / self.cnt[l];
        let cy = self.sy[l] / self.cnt[l];
        (self.g.x[v as usize] - cx).powi(2) + (self.g.y[v as usize] - cy).powi(2)
    }

    /// Labels holding at least one node.
    pub fn live(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.members.len() as u32).filter(|&l| !self.members[l as usize].is_empty())
    }

    /// Tries single boundary moves that lower the quota miss of grid l and its neighbour; true if any.
    fn single_moves(&mut self, l: u32) -> bool {
        let q = self.q;
        let mut any = false;
        for _ in 0..64 {
            if miss(self.hh[l as usize], &q) == 0 {
                break;
            }
            let over = self.hh[l as usize] > u64::from(q.max);
            // Candidate (node, from, to).
            let mut cands: Vec<(u64, f64, u32, u32, u32)> = Vec::new();
            let members = self.members[l as usize].clone();
            for &v in &members {
                for e in self.g.range(v) {
                    let u = self.g.nbr[e];
                    let h = self.grid[u as usize];
                    if h == l {
                        continue;
                    }
                    let (node, from, to) = if over { (v, l, h) } else { (u, h, l) };
                    let w = self.g.w[node as usize];
                    let before = miss(self.hh[from as usize], &q) + miss(self.hh[to as usize], &q);
                    let after = miss(self.hh[from as usize] - w, &q) + miss(self.hh[to as usize] + w, &q);
                    if after < before {
                        let shape = self.d2(node, to) - self.d2(node, from);
                        cands.push((before - after, shape, node, from, to));
                    }
                }
            }
            cands.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
            cands.dedup_by(|a, b| a.2 == b.2 && a.4 == b.4);
            let mut done = false;
            for (_, _, node, _, to) in cands {
                if self.removable(node) {
                    self.move_node(node, to);
                    done = true;
                    any = true;
                    break;
                }
            }
            if !done {
                break;
            }
        }
        any
    }

    /// Re-splits a growing neighbourhood of grids around l into feasible grids; true on success.
    fn recombine(&mut self, l: u32) -> bool {
        let q = self.q;
        let (min, max) = (u64::from(q.min), u64::from(q.max));
        for size in [1usize, 2, 3, 4, 6, 9, 14, 20] {
            let hood = self.hood(l, size, usize::MAX);
            if hood.len() < size && size > 1 {
                // No bigger neighbourhood exists.
                if hood.len() < size / 2 + 1 {
                    return false;
                }
            }
            let w: u64 = hood.iter().map(|&h| self.hh[h as usize]).sum();
            let kmin = w.div_ceil(max).max(1);
            let kmax = w / min.max(1);
            if kmin > kmax {
                continue;
            }
            let ideal = w as f64 / f64::from(q.target.max(1));
            let mut nodes: Vec<u32> = hood.iter().flat_map(|&h| self.members[h as usize].iter().copied()).collect();
            nodes.sort_unstable();
            // Every feasible grid count, nearest the ideal first.
            let mut ks: Vec<u64> = (kmin..=kmax.min(kmin + 8)).collect();
            ks.sort_by(|a, b| (*a as f64 - ideal).abs().total_cmp(&(*b as f64 - ideal).abs()).then(a.cmp(b)));
            for k in ks {
                let k = k as usize;
                let parts = split(self.g, nodes.clone(), k, &q, &mut self.s);
                let ok = parts.len() == k
                    && parts.iter().all(|p| {
                        let h: u64 = p.iter().map(|&v| self.g.w[v as usize]).sum();
                        miss(h, &q) == 0
                    });
                if ok {
                    self.apply(&hood, parts);
                    return true;
                }
            }
            if let Some(parts) = peel(self.g, &nodes, &q) {
                self.apply(&hood, parts);
                return true;
            }
        }
        false
    }

    /// Grid l and its neighbours by BFS over grid contacts (most contacts first): at most `grids`
    /// grids and `nodes` nodes in all.
    fn hood(&self, l: u32, grids: usize, nodes: usize) -> Vec<u32> {
        let mut hood = vec![l];
        let mut total = self.members[l as usize].len();
        let mut i = 0;
        while hood.len() < grids && i < hood.len() {
            let h = hood[i];
            let mut touch: BTreeMap<u32, u32> = BTreeMap::new();
            for &v in &self.members[h as usize] {
                for e in self.g.range(v) {
                    let o = self.grid[self.g.nbr[e] as usize];
                    if !hood.contains(&o) {
                        *touch.entry(o).or_default() += self.g.contacts[e];
                    }
                }
            }
            let mut t: Vec<(u32, u32)> = touch.into_iter().collect();
            t.sort_by_key(|&(o, c)| (std::cmp::Reverse(c), o));
            for (o, _) in t {
                let size = self.members[o as usize].len();
                if hood.len() < grids && total + size <= nodes {
                    hood.push(o);
                    total += size;
                }
            }
            i += 1;
        }
        hood
    }

    /// The last resort for grids still out of quota: an exact search (see `exact`) over the whole
    /// community when it is small enough, else over the largest neighbourhood of grids around each
    /// such grid that one search takes. Returns true when the search proves that the community
    /// cannot be divided at all.
    pub fn exact_repair(&mut self, budget: u64) -> bool {
        let q = self.q;
        let bad = |st: &Self| -> Vec<u32> { st.live().filter(|&l| miss(st.hh[l as usize], &q) > 0).collect() };
        if bad(self).is_empty() {
            return false;
        }
        let n = self.g.len();
        if n <= MAX_NODES {
            let all: Vec<u32> = (0..n as u32).collect();
            match exact::solve(self.g, &all, &q, budget) {
                Exact::Found(parts) => {
                    let live: Vec<u32> = self.live().collect();
                    self.apply(&live, parts);
                    return false;
                }
                Exact::Infeasible => return true,
                Exact::Unknown => {}
            }
        }
        for l in bad(self) {
            // Growing neighbourhoods: a small one settles quickly, a larger one has more room.
            let mut last = 0;
            for size in [2usize, 3, 4, 6, 9, 14, 20, usize::MAX] {
                if self.members[l as usize].is_empty() || miss(self.hh[l as usize], &q) == 0 {
                    break;
                }
                let hood = self.hood(l, size, MAX_NODES);
                if hood.len() == last {
                    break;
                }
                last = hood.len();
                let nodes: Vec<u32> = hood.iter().flat_map(|&h| self.members[h as usize].iter().copied()).collect();
                if let Exact::Found(parts) = exact::solve(self.g, &nodes, &q, budget / 8) {
                    self.apply(&hood, parts);
                    break;
                }
            }
        }
        false
    }

    /// Replaces the grids `old` by `parts`, giving each part the old label it overlaps most.
    fn apply(&mut self, old: &[u32], parts: Vec<Vec<u32>>) {
        let mut pairs: Vec<(u64, usize, u32)> = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let mut ov: BTreeMap<u32, u64> = BTreeMap::new();
            for &v in p {
                *ov.entry(self.grid[v as usize]).or_default() += self.g.w[v as usize];
            }
            for (l, h) in ov {
                pairs.push((h, i, l));
            }
        }
        pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut label_of: Vec<Option<u32>> = vec![None; parts.len()];
        let mut used: Vec<u32> = Vec::new();
        for (_, i, l) in pairs {
            if label_of[i].is_none() && !used.contains(&l) {
                label_of[i] = Some(l);
                used.push(l);
            }
        }
        let mut free: Vec<u32> = old.iter().copied().filter(|l| !used.contains(l)).collect();
        free.sort_unstable();
        free.reverse();
        for (i, p) in parts.into_iter().enumerate() {
            let to = match label_of[i] {
                Some(l) => l,
                None => match free.pop() {
                    Some(l) => l,
                    None => self.new_label(),
                },
            };
            for v in p {
                self.move_node(v, to);
            }
        }
    }

    /// Brings grids within the quota where it can: single moves, then recombination.
    pub fn fix_quota(&mut self) {
        for _ in 0..8 {
            let mut bad: Vec<u32> = self.live().filter(|&l| miss(self.hh[l as usize], &self.q) > 0).collect();
            if bad.is_empty() {
                return;
            }
            bad.sort_by_key(|&l| (std::cmp::Reverse(miss(self.hh[l as usize], &self.q)), l));
            let mut progress = false;
            for l in bad {
                if self.members[l as usize].is_empty() || miss(self.hh[l as usize], &self.q) == 0 {
                    continue;
                }
                if self.single_moves(l) {
                    progress = true;
                }
                if miss(self.hh[l as usize], &self.q) > 0 && self.recombine(l) {
                    progress = true;
                }
            }
            if !progress {
                return;
            }
        }
    }

    /// Boundary moves that lower the grids' moment of inertia without leaving the quota, breaking
    /// contiguity or adding a barrier contact inside a grid. `only_touched` limits moves to grids
    /// already changed (re-partitioning). A few sweeps in a seeded order.
    pub fn polish(&mut self, sweeps: usize, seed: u64, only_touched: bool) {
        let q = self.q;
        let n = self.g.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        order.shuffle(&mut rng);
        for _ in 0..sweeps {
            let mut moves = 0usize;
            for &v in &order {
                let from = self.grid[v as usize];
                if self.members[from as usize].len() < 2 || (only_touched && !self.touched[from as usize]) {
                    continue;
                }
                let w = self.g.w[v as usize];
                let c = self.g.cnt[v as usize];
                let hf = self.hh[from as usize];
                if miss(hf - w, &q) > miss(hf, &q) {
                    continue;
                }
                let nf = self.cnt[from as usize];
                if nf - c <= 0.0 {
                    continue;
                }
                let gain_out = nf * c / (nf - c) * self.d2(v, from);
                let mut best: Option<(f64, u32)> = None;
                let mut bar_from = 0u32;
                let mut bar_to: BTreeMap<u32, u32> = BTreeMap::new();
                for e in self.g.range(v) {
                    let h = self.grid[self.g.nbr[e] as usize];
                    let closed = u32::from(!self.g.open[e]);
                    if h == from {
                        bar_from += closed;
                    } else {
                        *bar_to.entry(h).or_default() += closed;
                    }
                }
                for (&h, &bt) in &bar_to {
                    if bt > bar_from || (only_touched && !self.touched[h as usize]) {
                        continue;
                    }
                    let hh = self.hh[h as usize];
                    if miss(hh + w, &q) > miss(hh, &q) {
                        continue;
                    }
                    let nh = self.cnt[h as usize];
                    let cost_in = nh * c / (nh + c) * self.d2(v, h);
                    let delta = cost_in - gain_out;
                    if delta < -1e-9 * (1.0 + gain_out) && best.is_none_or(|b| delta < b.0) {
                        best = Some((delta, h));
                    }
                }
                if let Some((_, h)) = best.filter(|_| self.removable(v)) {
                    self.move_node(v, h);
                    moves += 1;
                }
            }
            if moves == 0 {
                break;
            }
        }
    }
}
