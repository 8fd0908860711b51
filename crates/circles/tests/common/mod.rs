//! Shared test support: the real samples and an independent reference Dijkstra over the raw edges.
#![allow(dead_code, clippy::unwrap_used)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use wangge_circles::Snap;
use wangge_core::{Layers, NetEdge, NetNode};

/// Reads a sample under `geodata/` with household estimates filled in (floor area).
pub fn sample(rel: &str) -> Layers {
    let mut l = wangge_io::read(&wangge_testkit::geodata(rel), &Default::default()).unwrap().layers;
    wangge_io::estimate::estimate_households(&mut l, &Default::default());
    l
}

/// A plain f64 Dijkstra over the raw `NetEdge` list (both directions), written apart from the engine.
pub struct Reference {
    pub index: HashMap<String, usize>,
    pub adj: Vec<Vec<(usize, f64)>>,
    /// (from, to, length) of every edge, by edge index.
    pub ends: Vec<(usize, usize, f64)>,
}

#[derive(Clone, Copy, PartialEq)]
struct Key(f64);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl Reference {
    pub fn new(nodes: &[NetNode], edges: &[NetEdge]) -> Self {
        let mut index = HashMap::new();
        for n in nodes {
            let k = index.len();
            index.entry(n.source_id.clone()).or_insert(k);
        }
        for e in edges {
            for id in [&e.from, &e.to] {
                let k = index.len();
                index.entry(id.clone()).or_insert(k);
            }
        }
        let mut adj = vec![Vec::new(); index.len()];
        let mut ends = Vec::new();
        for e in edges {
            let (a, b) = (index[&e.from], index[&e.to]);
            adj[a].push((b, e.length_m));
            adj[b].push((a, e.length_m));
            ends.push((a, b, e.length_m));
        }
        Self { index, adj, ends }
    }

    /// Shortest distances from the seeds (node, initial distance) to every node; infinity when unreached.
    pub fn dijkstra(&self, seeds: &[(usize, f64)]) -> Vec<f64> {
        let mut dist = vec![f64::INFINITY; self.adj.len()];
        let mut heap = BinaryHeap::new();
        for &(s, d) in seeds {
            if d < dist[s] {
                dist[s] = d;
                heap.push(Reverse((Key(d), s)));
            }
        }
        while let Some(Reverse((Key(d), u))) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            for &(v, w) in &self.adj[u] {
                if d + w < dist[v] {
                    dist[v] = d + w;
                    heap.push(Reverse((Key(d + w), v)));
                }
            }
        }
        dist
    }

    /// Seeds for a snapped point: both ends of its edge, with the snap distance and the walk along the edge.
    pub fn seeds_of(&self, s: &Snap) -> [(usize, f64); 2] {
        let (a, b, len) = self.ends[s.edge];
        [(a, s.distance_m + s.offset_m), (b, s.distance_m + (len - s.offset_m))]
    }

    /// Distance to a snapped point from the seeded sources (`dist` from [`Reference::dijkstra`]),
    /// also trying the sources snapped on the same edge directly along it.
    pub fn to_snap(&self, dist: &[f64], s: &Snap, sources: &[Snap]) -> f64 {
        let (a, b, len) = self.ends[s.edge];
        let mut best = (dist[a] + s.offset_m).min(dist[b] + len - s.offset_m) + s.distance_m;
        for f in sources.iter().filter(|f| f.edge == s.edge) {
            best = best.min((f.offset_m - s.offset_m).abs() + f.distance_m + s.distance_m);
        }
        best
    }
}
