//! Shortest-path searches over the junction graph (internal): a dense multi-source pass with one
//! label per junction, a k-label pass (the k nearest distinct sources of every junction), and a
//! bounded search with predecessors and a list of touched junctions (so that repeated small
//! searches on a large graph cost only what they touch).
//!
//! All distances inside a search are integer micrometres; a point on a chain is reached from the
//! chain's two ends (`d(a) + offset` or `d(b) + length − offset`) or, for two points on the same
//! chain, directly along it.

use crate::graph::{NONE, NodePlace, WalkGraph, from_um, to_um};
use crate::network::Snap;
use crate::radix::RadixHeap;

/// `pred` of a junction seeded from the source's chain start (`a`).
pub(crate) const SEED_A: u32 = u32::MAX - 1;
/// `pred` of a junction seeded from the source's chain end (`b`).
pub(crate) const SEED_B: u32 = u32::MAX - 2;

/// The two chain ends of a snapped point with the walk to each (snap distance included), metres.
#[inline]
pub(crate) fn ends_of(g: &WalkGraph, s: &Snap) -> [(u32, f64); 2] {
    let c = s.chain as usize;
    [(g.chain_a[c], s.distance_m + s.chain_offset), (g.chain_b[c], s.distance_m + (g.chain_len[c] - s.chain_offset))]
}

/// Best walk from the labelled junctions to a point at `offset` on chain `c` (snap distance not
/// included), with the label's source: `None` when neither end is labelled.
#[inline]
pub(crate) fn via_ends(g: &WalkGraph, c: u32, offset: f64, dist: &[u64], src: &[u32]) -> Option<(f64, u32)> {
    let c = c as usize;
    let (a, b) = (g.chain_a[c] as usize, g.chain_b[c] as usize);
    let mut best: Option<(f64, u32)> = None;
    if dist[a] != u64::MAX {
        best = Some((from_um(dist[a]) + offset, src[a]));
    }
    if dist[b] != u64::MAX {
        let d = from_um(dist[b]) + (g.chain_len[c] - offset);
        if best.is_none_or(|(x, _)| d < x) {
            best = Some((d, src[b]));
        }
    }
    best
}

/// A dense multi-source pass: `dist[j]` is the shortest walk from any seed to junction `j`
/// (`u64::MAX` when unreached or beyond `cutoff`), `src[j]` the seed's source id.
pub(crate) fn multi_source(
    g: &WalkGraph,
    seeds: &[(u32, u64, u32)],
    cutoff: u64,
    dist: &mut Vec<u64>,
    src: &mut Vec<u32>,
    heap: &mut RadixHeap<u32>,
) {
    let n = g.junctions();
    dist.clear();
    dist.resize(n, u64::MAX);
    src.clear();
    src.resize(n, NONE);
    heap.clear();
    for &(j, d, s) in seeds {
        if d <= cutoff && d < dist[j as usize] {
            dist[j as usize] = d;
            src[j as usize] = s;
            heap.push(d, j);
        }
    }
    while let Some((d, u)) = heap.pop() {
        let ui = u as usize;
        if d > dist[ui] {
            continue;
        }
        let su = src[ui];
        for arc in g.arcs_of(u) {
            let nd = d + arc.w;
            let h = arc.head as usize;
            if nd < dist[h] && nd <= cutoff {
                dist[h] = nd;
                src[h] = su;
                heap.push(nd, arc.head);
            }
        }
    }
}

/// The k nearest distinct sources of every junction: `labels[j * k .. j * k + count[j]]`, by
/// increasing distance, each (micrometres, source).
pub(crate) fn k_nearest(
    g: &WalkGraph,
    seeds: &[(u32, u64, u32)],
    k: usize,
    cutoff: u64,
    labels: &mut Vec<(u64, u32)>,
    count: &mut Vec<u8>,
    heap: &mut RadixHeap<(u32, u32)>,
) {
    let n = g.junctions();
    labels.clear();
    labels.resize(n * k, (u64::MAX, NONE));
    count.clear();
    count.resize(n, 0);
    heap.clear();
    let has = |labels: &[(u64, u32)], count: &[u8], j: usize, s: u32| {
        labels[j * k..j * k + count[j] as usize].iter().any(|&(_, x)| x == s)
    };
    for &(j, d, s) in seeds {
        if d <= cutoff {
            heap.push(d, (j, s));
        }
    }
    while let Some((d, (u, s))) = heap.pop() {
        let ui = u as usize;
        if count[ui] as usize >= k || has(labels, count, ui, s) {
            continue;
        }
        labels[ui * k + count[ui] as usize] = (d, s);
        count[ui] += 1;
        for arc in g.arcs_of(u) {
            let h = arc.head as usize;
            let nd = d + arc.w;
            if (count[h] as usize) < k && nd <= cutoff && !has(labels, count, h, s) {
                heap.push(nd, (arc.head, s));
            }
        }
    }
}

/// Scratch for bounded searches: junction distances and predecessors, reset through the list of
/// junctions a search touched.
#[derive(Debug)]
pub(crate) struct Bounded {
    pub dist: Vec<u64>,
    /// `chain << 1 | dir` of the arc that reached the junction, or [`SEED_A`] / [`SEED_B`].
    pub pred: Vec<u32>,
    pub touched: Vec<u32>,
    pub heap: RadixHeap<u32>,
}

impl Bounded {
    pub(crate) fn new(g: &WalkGraph) -> Self {
        Self {
            dist: vec![u64::MAX; g.junctions()],
            pred: vec![NONE; g.junctions()],
            touched: Vec::new(),
            heap: RadixHeap::new(),
        }
    }

    pub(crate) fn reset(&mut self) {
        for &j in &self.touched {
            self.dist[j as usize] = u64::MAX;
            self.pred[j as usize] = NONE;
        }
        self.touched.clear();
        self.heap.clear();
    }

    /// Seeds the junction `j` at `d` micrometres with predecessor `pred`.
    #[inline]
    pub(crate) fn seed(&mut self, j: u32, d: u64, pred: u32) {
        let ji = j as usize;
        if d < self.dist[ji] {
            if self.dist[ji] == u64::MAX {
                self.touched.push(j);
            }
            self.dist[ji] = d;
            self.pred[ji] = pred;
            self.heap.push(d, j);
        }
    }

    /// Seeds both ends of a snapped source (its snap distance included).
    pub(crate) fn seed_snap(&mut self, g: &WalkGraph, s: &Snap, budget: u64) {
        let [(a, da), (b, db)] = ends_of(g, s);
        for (j, d, p) in [(a, to_um(da), SEED_A), (b, to_um(db), SEED_B)] {
            if d <= budget {
                self.seed(j, d, p);
            }
        }
    }

    /// Relaxes the arcs of `u` (settled at `d`) within `budget`.
    #[inline]
    pub(crate) fn relax(&mut self, g: &WalkGraph, u: u32, d: u64, budget: u64) {
        for arc in g.arcs_of(u) {
            let nd = d + arc.w;
            let h = arc.head as usize;
            if nd <= budget && nd < self.dist[h] {
                if self.dist[h] == u64::MAX {
                    self.touched.push(arc.head);
                }
                self.dist[h] = nd;
                self.pred[h] = arc.chain_dir;
                self.heap.push(nd, arc.head);
            }
        }
    }

    /// Runs the search to the end within `budget` micrometres (after seeding).
    pub(crate) fn run(&mut self, g: &WalkGraph, budget: u64) {
        while let Some((d, u)) = self.heap.pop() {
            if d > self.dist[u as usize] {
                continue;
            }
            self.relax(g, u, d, budget);
        }
    }
}

impl WalkGraph {
    /// Shortest walking distances (metres) from original node `from` to every original node;
    /// `None` for nodes in another component (or not on any edge). Panics never; an out-of-range
    /// `from` gives all `None`.
    pub fn distances_from_node(&self, from: usize) -> Vec<Option<f64>> {
        let n = self.node_count();
        let mut seeds = Vec::new();
        let mut own: Option<(u32, f64)> = None;
        match self.node_place.get(from) {
            Some(NodePlace::Junction(j)) => seeds.push((*j, 0, 0)),
            Some(NodePlace::OnChain { chain, offset_m }) => {
                let c = *chain as usize;
                seeds.push((self.chain_a[c], to_um(*offset_m), 0));
                seeds.push((self.chain_b[c], to_um(self.chain_len[c] - offset_m), 0));
                own = Some((*chain, *offset_m));
            }
            Some(NodePlace::Isolated) | None => return vec![None; n],
        }
        let (mut dist, mut src, mut heap) = (Vec::new(), Vec::new(), RadixHeap::new());
        multi_source(self, &seeds, u64::MAX, &mut dist, &mut src, &mut heap);
        (0..n)
            .map(|t| match self.node_place[t] {
                NodePlace::Junction(j) => (dist[j as usize] != u64::MAX).then(|| from_um(dist[j as usize])),
                NodePlace::OnChain { chain, offset_m } => {
                    let mut best = via_ends(self, chain, offset_m, &dist, &src).map(|x| x.0);
                    if let Some((c, o)) = own
                        && c == chain
                    {
                        let direct = (o - offset_m).abs();
                        best = Some(best.map_or(direct, |b| b.min(direct)));
                    }
                    best
                }
                NodePlace::Isolated => None,
            })
            .collect()
    }
}
