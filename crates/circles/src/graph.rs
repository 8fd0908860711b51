//! The walking graph: the imported network (nodes and edges, walkable both ways) in a compact form
//! for fast shortest-path searches.
//!
//! - **Chains.** Nodes of degree two only continue a street, so every maximal run of edges through
//!   such nodes becomes one *chain* between two *junctions* (nodes of any other degree; a closed
//!   ring of degree-two nodes gets one of its nodes as a junction). A chain keeps its edges, their
//!   geometries and lengths, so points can be snapped to, and routes drawn along, the original edges.
//! - **CSR.** Junctions are renumbered along a Hilbert curve over their positions (neighbours in
//!   space are neighbours in memory) and their arcs are stored in one array (compressed sparse rows).
//!   Each chain gives one arc each way, weighted by its length in **micrometres** (`u64`): sums of
//!   micrometre-rounded chain lengths stay within a millimetre of a float sum over thousands of arcs.
//! - **Components.** Connected components are counted in original nodes; component 0 is the main
//!   (largest) one, every other is an *island*.
//!
//! Original nodes are numbered by their position in the `nodes` slice given to [`WalkGraph::build`]
//! (nodes that edges name but the slice lacks are appended, placed at the edge's end); original
//! edges keep their position in the `edges` slice.

use crate::CirclesError;
use geo::{Coord, Distance, Haversine, Point};
use rayon::prelude::*;
use std::collections::HashMap;
use wangge_core::geometry::Bbox;
use wangge_core::projection::LocalFrame;
use wangge_core::{NetEdge, NetNode};

/// "None" in u32 index arrays.
pub(crate) const NONE: u32 = u32::MAX;

/// Micrometres per metre.
pub(crate) const UM: f64 = 1e6;

/// Metres → micrometres, rounded (negative and NaN give 0, huge values saturate).
#[inline]
pub(crate) fn to_um(m: f64) -> u64 {
    (m * UM).round() as u64
}

/// Micrometres → metres.
#[inline]
pub(crate) fn from_um(um: u64) -> f64 {
    um as f64 / UM
}

/// One arc of the junction graph: a chain walked from the arc's tail junction to `head`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arc {
    /// Junction at the end of the arc.
    pub head: u32,
    /// `chain << 1 | dir`: dir 0 walks the chain from its start `a` to its end `b`, 1 from `b` to `a`.
    pub chain_dir: u32,
    /// Length in micrometres.
    pub w: u64,
}

/// Where an original node sits in the contracted graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NodePlace {
    /// It is a junction.
    Junction(u32),
    /// It lies inside a chain, this far from the chain's start.
    OnChain { chain: u32, offset_m: f64 },
    /// No usable edge touches it.
    Isolated,
}

/// One connected component of the walking network.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Component id: 0 is the main (largest) component, the others are islands, largest first.
    pub id: usize,
    /// Original network nodes in it.
    pub nodes: usize,
    /// Original network edges in it.
    pub edges: usize,
    /// Total edge length, metres.
    pub length_m: f64,
    /// Its extent (lon/lat).
    pub bbox: Bbox,
}

/// Counts of a built graph.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GraphStats {
    /// Original nodes (including ones added for edges naming a node the node list lacks).
    pub nodes: usize,
    /// Original edges given.
    pub edges: usize,
    /// Edges without any usable geometry (no coordinates and unknown nodes), left out.
    pub edges_skipped: usize,
    /// Nodes named by edges but missing from the node list (placed at the edges' ends).
    pub nodes_added: usize,
    /// Nodes no usable edge touches.
    pub isolated_nodes: usize,
    /// Junctions (nodes of degree ≠ 2, plus one node per closed ring).
    pub junctions: usize,
    /// Chains (arcs of the contracted graph, one per direction in the CSR).
    pub chains: usize,
    /// Connected components (the main one and the islands).
    pub components: usize,
}

/// The contracted walking graph. See the [module docs](self).
#[derive(Debug)]
pub struct WalkGraph {
    frame: LocalFrame,
    node_ids: Vec<String>,
    node_lonlat: Vec<Coord<f64>>,
    pub(crate) node_place: Vec<NodePlace>,
    // Original edges.
    pub(crate) edge_len: Vec<f64>,
    /// Vertex ranges: edge `e` owns vertices `edge_v0[e]..edge_v0[e + 1]` (empty when skipped).
    pub(crate) edge_v0: Vec<u32>,
    pub(crate) lonlat: Vec<Coord<f64>>,
    pub(crate) xy: Vec<Coord<f64>>,
    /// Distance of each vertex from its edge's start, metres (scaled so the last equals the edge length).
    pub(crate) cum: Vec<f64>,
    pub(crate) edge_chain: Vec<u32>,
    /// Chain offset where the edge's traversal (in chain direction) starts.
    pub(crate) edge_cstart: Vec<f64>,
    /// True when the chain walks the edge from `to` to `from`.
    pub(crate) edge_rev: Vec<bool>,
    // Chains.
    pub(crate) chain_a: Vec<u32>,
    pub(crate) chain_b: Vec<u32>,
    pub(crate) chain_len: Vec<f64>,
    pub(crate) chain_e0: Vec<u32>,
    pub(crate) chain_edges: Vec<u32>,
    // Junctions (CSR).
    pub(crate) junction_node: Vec<u32>,
    pub(crate) first: Vec<u32>,
    pub(crate) arcs: Vec<Arc>,
    pub(crate) junction_comp: Vec<u32>,
    components: Vec<Component>,
    stats: GraphStats,
}

/// Hilbert index of (x, y) on a 2^16 × 2^16 grid.
fn hilbert(mut x: u32, mut y: u32) -> u64 {
    const N: u32 = 1 << 16;
    let mut d = 0u64;
    let mut s = N / 2;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += u64::from(s) * u64::from(s) * u64::from((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = N - 1 - x;
                y = N - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

struct UnionFind(Vec<u32>);

impl UnionFind {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let p = self.0[x as usize];
            self.0[x as usize] = self.0[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi as usize] = lo;
        }
    }
}

impl WalkGraph {
    /// Builds the graph from the network's nodes and edges (already filtered walkable at import).
    ///
    /// `frame` is the local metric frame for snapping and isochrones; by default the one for the
    /// centre of the network's extent ([`LocalFrame::for_lonlat`]). Edge lengths are taken from
    /// [`NetEdge::length_m`] (a negative or non-finite length is recomputed from the geometry).
    /// Fails only when no edge has a usable geometry or a coordinate cannot be projected.
    pub fn build(nodes: &[NetNode], edges: &[NetEdge], frame: Option<LocalFrame>) -> Result<Self, CirclesError> {
        // Node ids; nodes named only by edges are appended.
        let mut index: HashMap<&str, u32> = HashMap::with_capacity(nodes.len());
        let mut node_ids: Vec<String> = Vec::with_capacity(nodes.len());
        let mut node_lonlat: Vec<Coord<f64>> = Vec::with_capacity(nodes.len());
        for n in nodes {
            if let std::collections::hash_map::Entry::Vacant(v) = index.entry(n.source_id.as_str()) {
                v.insert(node_ids.len() as u32);
                node_ids.push(n.source_id.clone());
                node_lonlat.push(n.location.0);
            }
        }
        let mut stats = GraphStats { edges: edges.len(), ..Default::default() };
        let m = edges.len();
        let mut edge_from = vec![NONE; m];
        let mut edge_to = vec![NONE; m];
        let mut edge_len = vec![0.0; m];
        let mut edge_v0 = Vec::with_capacity(m + 1);
        let mut lonlat: Vec<Coord<f64>> = Vec::with_capacity(edges.iter().map(|e| e.geometry.0.len().max(2)).sum());
        for (i, e) in edges.iter().enumerate() {
            edge_v0.push(lonlat.len() as u32);
            let g = &e.geometry.0;
            let mut ends = [NONE; 2];
            for (k, (id, end)) in [(&e.from, g.first()), (&e.to, g.last())].into_iter().enumerate() {
                ends[k] = match index.get(id.as_str()) {
                    Some(&ix) => ix,
                    None => match end {
                        Some(c) => {
                            let ix = node_ids.len() as u32;
                            index.insert(id.as_str(), ix);
                            node_ids.push(id.clone());
                            node_lonlat.push(*c);
                            stats.nodes_added += 1;
                            ix
                        }
                        None => NONE,
                    },
                };
            }
            if ends.contains(&NONE) {
                stats.edges_skipped += 1;
                continue;
            }
            if g.len() >= 2 {
                lonlat.extend_from_slice(g);
            } else {
                lonlat.push(node_lonlat[ends[0] as usize]);
                lonlat.push(node_lonlat[ends[1] as usize]);
            }
            edge_from[i] = ends[0];
            edge_to[i] = ends[1];
            edge_len[i] = e.length_m;
        }
        edge_v0.push(lonlat.len() as u32);
        let n = node_ids.len();
        stats.nodes = n;
        if lonlat.is_empty() {
            return Err(CirclesError::EmptyNetwork);
        }

        // Cumulative lengths along each edge (haversine, scaled to the edge's length).
        let mut cum = vec![0.0; lonlat.len()];
        for e in 0..m {
            let (v0, v1) = (edge_v0[e] as usize, edge_v0[e + 1] as usize);
            if v1 <= v0 {
                continue;
            }
            let mut acc = 0.0;
            cum[v0] = 0.0;
            for v in v0 + 1..v1 {
                acc += Haversine.distance(Point::from(lonlat[v - 1]), Point::from(lonlat[v]));
                cum[v] = acc;
            }
            let given = edge_len[e];
            let len = if given.is_finite() && given >= 0.0 { given } else { acc };
            edge_len[e] = len;
            let count = (v1 - v0 - 1) as f64;
            for (k, c) in cum[v0..v1].iter_mut().enumerate() {
                *c = if acc > 0.0 { *c * (len / acc) } else { len * k as f64 / count };
            }
            cum[v1 - 1] = len;
        }

        // The local frame and projected vertices.
        let frame = match frame {
            Some(f) => f,
            None => {
                let b = lonlat.iter().fold(
                    Bbox { min_lon: f64::MAX, min_lat: f64::MAX, max_lon: f64::MIN, max_lat: f64::MIN },
                    |b, c| Bbox {
                        min_lon: b.min_lon.min(c.x),
                        min_lat: b.min_lat.min(c.y),
                        max_lon: b.max_lon.max(c.x),
                        max_lat: b.max_lat.max(c.y),
                    },
                );
                let (lon, lat) = b.centre();
                LocalFrame::for_lonlat(lon, lat)?
            }
        };
        let xy: Vec<Coord<f64>> = lonlat
            .par_iter()
            .with_min_len(4096)
            .map(|c| frame.forward(c.x, c.y).map(|(x, y)| Coord { x, y }))
            .collect::<Result<_, _>>()?;

        // Degrees and incidences.
        let mut deg = vec![0u32; n];
        for e in 0..m {
            if edge_from[e] != NONE {
                deg[edge_from[e] as usize] += 1;
                deg[edge_to[e] as usize] += 1;
            }
        }
        let mut inc_first = vec![0u32; n + 1];
        for v in 0..n {
            inc_first[v + 1] = inc_first[v] + deg[v];
        }
        let mut fill = inc_first.clone();
        let mut inc = vec![0u32; inc_first[n] as usize];
        for e in 0..m {
            if edge_from[e] != NONE {
                for v in [edge_from[e], edge_to[e]] {
                    inc[fill[v as usize] as usize] = e as u32;
                    fill[v as usize] += 1;
                }
            }
        }
        let incident = |v: usize| &inc[inc_first[v] as usize..inc_first[v + 1] as usize];
        let mut is_junction: Vec<bool> = (0..n)
            .map(|v| {
                let i = incident(v);
                match i.len() {
                    0 => false,
                    2 => i[0] == i[1],
                    _ => true,
                }
            })
            .collect();

        // Chains.
        let mut b = ChainBuilder {
            edge_from: &edge_from,
            edge_to: &edge_to,
            edge_len: &edge_len,
            visited: vec![false; m],
            edge_chain: vec![NONE; m],
            edge_cstart: vec![0.0; m],
            edge_rev: vec![false; m],
            node_place: vec![NodePlace::Isolated; n],
            chain_a: Vec::new(),
            chain_b: Vec::new(),
            chain_len: Vec::new(),
            chain_e0: vec![0],
            chain_edges: Vec::new(),
        };
        let mut junction_nodes: Vec<u32> = (0..n as u32).filter(|&v| is_junction[v as usize]).collect();
        for &j in &junction_nodes {
            for &e in incident(j as usize) {
                if !b.visited[e as usize] {
                    b.walk(j, e, &is_junction, &inc, &inc_first);
                }
            }
        }
        // Closed rings of degree-two nodes: one node of each becomes a junction.
        for v in 0..n {
            if is_junction[v] || deg[v] != 2 {
                continue;
            }
            let e = incident(v)[0];
            if !b.visited[e as usize] {
                is_junction[v] = true;
                junction_nodes.push(v as u32);
                b.walk(v as u32, e, &is_junction, &inc, &inc_first);
            }
        }

        // Hilbert order of the junctions.
        let node_xy = |v: u32| -> Coord<f64> {
            let e = incident(v as usize)[0] as usize;
            if edge_from[e] == v { xy[edge_v0[e] as usize] } else { xy[edge_v0[e + 1] as usize - 1] }
        };
        let (mut lo, mut hi) = (Coord { x: f64::MAX, y: f64::MAX }, Coord { x: f64::MIN, y: f64::MIN });
        for &j in &junction_nodes {
            let p = node_xy(j);
            lo = Coord { x: lo.x.min(p.x), y: lo.y.min(p.y) };
            hi = Coord { x: hi.x.max(p.x), y: hi.y.max(p.y) };
        }
        let span = (hi.x - lo.x).max(hi.y - lo.y).max(1e-9);
        let scale = f64::from((1u32 << 16) - 1) / span;
        let mut keyed: Vec<(u64, u32)> = junction_nodes
            .iter()
            .map(|&j| {
                let p = node_xy(j);
                (hilbert(((p.x - lo.x) * scale) as u32, ((p.y - lo.y) * scale) as u32), j)
            })
            .collect();
        keyed.sort_unstable();
        let junction_node: Vec<u32> = keyed.iter().map(|&(_, j)| j).collect();
        let mut jid = vec![NONE; n];
        for (i, &v) in junction_node.iter().enumerate() {
            jid[v as usize] = i as u32;
            b.node_place[v as usize] = NodePlace::Junction(i as u32);
        }
        let chain_a: Vec<u32> = b.chain_a.iter().map(|&v| jid[v as usize]).collect();
        let chain_b: Vec<u32> = b.chain_b.iter().map(|&v| jid[v as usize]).collect();

        // CSR arcs.
        let nj = junction_node.len();
        let mut first = vec![0u32; nj + 1];
        for c in 0..chain_a.len() {
            first[chain_a[c] as usize + 1] += 1;
            first[chain_b[c] as usize + 1] += 1;
        }
        for j in 0..nj {
            first[j + 1] += first[j];
        }
        let mut fill = first.clone();
        let mut arcs = vec![Arc { head: 0, chain_dir: 0, w: 0 }; first[nj] as usize];
        for c in 0..chain_a.len() {
            let (a, bb, w) = (chain_a[c], chain_b[c], to_um(b.chain_len[c]));
            arcs[fill[a as usize] as usize] = Arc { head: bb, chain_dir: (c as u32) << 1, w };
            fill[a as usize] += 1;
            arcs[fill[bb as usize] as usize] = Arc { head: a, chain_dir: (c as u32) << 1 | 1, w };
            fill[bb as usize] += 1;
        }

        // Components.
        let mut uf = UnionFind((0..nj as u32).collect());
        for c in 0..chain_a.len() {
            uf.union(chain_a[c], chain_b[c]);
        }
        let roots: Vec<u32> = (0..nj as u32).map(|j| uf.find(j)).collect();
        let mut comp_of_root: HashMap<u32, usize> = HashMap::new();
        let mut tmp: Vec<Component> = Vec::new();
        let empty_box = Bbox { min_lon: f64::MAX, min_lat: f64::MAX, max_lon: f64::MIN, max_lat: f64::MIN };
        let mut junction_comp = vec![0u32; nj];
        for j in 0..nj {
            let k = *comp_of_root.entry(roots[j]).or_insert_with(|| {
                tmp.push(Component { id: 0, nodes: 0, edges: 0, length_m: 0.0, bbox: empty_box });
                tmp.len() - 1
            });
            junction_comp[j] = k as u32;
            tmp[k].nodes += 1;
        }
        for c in 0..chain_a.len() {
            let k = junction_comp[chain_a[c] as usize] as usize;
            let ne = (b.chain_e0[c + 1] - b.chain_e0[c]) as usize;
            tmp[k].nodes += ne - 1;
            tmp[k].edges += ne;
            tmp[k].length_m += b.chain_len[c];
            for &e in &b.chain_edges[b.chain_e0[c] as usize..b.chain_e0[c + 1] as usize] {
                for p in &lonlat[edge_v0[e as usize] as usize..edge_v0[e as usize + 1] as usize] {
                    let bb = &mut tmp[k].bbox;
                    *bb = Bbox {
                        min_lon: bb.min_lon.min(p.x),
                        min_lat: bb.min_lat.min(p.y),
                        max_lon: bb.max_lon.max(p.x),
                        max_lat: bb.max_lat.max(p.y),
                    };
                }
            }
        }
        let mut order: Vec<usize> = (0..tmp.len()).collect();
        order.sort_by(|&x, &y| tmp[y].nodes.cmp(&tmp[x].nodes).then(x.cmp(&y)));
        let mut rank = vec![0u32; tmp.len()];
        for (r, &k) in order.iter().enumerate() {
            rank[k] = r as u32;
        }
        for jc in &mut junction_comp {
            *jc = rank[*jc as usize];
        }
        let components: Vec<Component> =
            order.iter().enumerate().map(|(r, &k)| Component { id: r, ..tmp[k].clone() }).collect();

        stats.isolated_nodes = deg.iter().filter(|&&d| d == 0).count();
        stats.junctions = nj;
        stats.chains = chain_a.len();
        stats.components = components.len();
        let ChainBuilder { edge_chain, edge_cstart, edge_rev, node_place, chain_len, chain_e0, chain_edges, .. } = b;
        Ok(Self {
            frame,
            node_ids,
            node_lonlat,
            node_place,
            edge_len,
            edge_v0,
            lonlat,
            xy,
            cum,
            edge_chain,
            edge_cstart,
            edge_rev,
            chain_a,
            chain_b,
            chain_len,
            chain_e0,
            chain_edges,
            junction_node,
            first,
            arcs,
            junction_comp,
            components,
            stats,
        })
    }

    /// The local metric frame used for snapping and isochrones.
    pub fn frame(&self) -> &LocalFrame {
        &self.frame
    }

    /// Counts of the graph.
    pub fn stats(&self) -> &GraphStats {
        &self.stats
    }

    /// Connected components, the main one first (id 0), then the islands, largest first.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// The islands: every component but the main one.
    pub fn islands(&self) -> &[Component] {
        self.components.get(1..).unwrap_or(&[])
    }

    /// Number of original nodes.
    pub fn node_count(&self) -> usize {
        self.node_ids.len()
    }

    /// Number of original edges (as given, skipped ones included).
    pub fn edge_count(&self) -> usize {
        self.edge_len.len()
    }

    /// Source id of original node `i`.
    pub fn node_id(&self, i: usize) -> Option<&str> {
        self.node_ids.get(i).map(String::as_str)
    }

    /// Location (lon/lat) of original node `i`.
    pub fn node_location(&self, i: usize) -> Option<Point<f64>> {
        self.node_lonlat.get(i).map(|c| Point::from(*c))
    }

    /// Length of original edge `e` in metres (as used by the searches).
    pub fn edge_length_m(&self, e: usize) -> Option<f64> {
        self.edge_len.get(e).copied()
    }

    /// Component of original node `i` (`None` when no usable edge touches it).
    pub fn component_of_node(&self, i: usize) -> Option<usize> {
        match self.node_place.get(i)? {
            NodePlace::Junction(j) => Some(self.junction_comp[*j as usize] as usize),
            NodePlace::OnChain { chain, .. } => Some(self.chain_component(*chain)),
            NodePlace::Isolated => None,
        }
    }

    /// Component of original edge `e` (`None` when the edge was skipped).
    pub fn component_of_edge(&self, e: usize) -> Option<usize> {
        let c = *self.edge_chain.get(e)?;
        (c != NONE).then(|| self.chain_component(c))
    }

    pub(crate) fn chain_component(&self, c: u32) -> usize {
        self.junction_comp[self.chain_a[c as usize] as usize] as usize
    }

    /// Number of junctions (nodes of the contracted graph).
    pub(crate) fn junctions(&self) -> usize {
        self.junction_node.len()
    }

    /// Arcs leaving junction `j`.
    #[inline]
    pub(crate) fn arcs_of(&self, j: u32) -> &[Arc] {
        &self.arcs[self.first[j as usize] as usize..self.first[j as usize + 1] as usize]
    }

    /// The vertex range of edge `e`.
    #[inline]
    pub(crate) fn edge_vertices(&self, e: usize) -> std::ops::Range<usize> {
        self.edge_v0[e] as usize..self.edge_v0[e + 1] as usize
    }

    /// The edge owning vertex `v` (the segment `v → v+1` belongs to it).
    pub(crate) fn edge_of_vertex(&self, v: usize) -> usize {
        self.edge_v0.partition_point(|&s| s as usize <= v).saturating_sub(1)
    }

    /// Chain offset of a point `offset_m` along edge `e` from its `from` node.
    pub(crate) fn chain_offset(&self, e: usize, offset_m: f64) -> f64 {
        if self.edge_rev[e] {
            self.edge_cstart[e] + (self.edge_len[e] - offset_m)
        } else {
            self.edge_cstart[e] + offset_m
        }
    }

    /// Appends the points of chain `c` between chain offsets `lo ≤ hi`, in increasing offset,
    /// taken from `coords` (the projected or the lon/lat vertices). Consecutive duplicates are
    /// left out; nothing is appended when the range is empty.
    pub(crate) fn chain_points(&self, c: u32, lo: f64, hi: f64, coords: &[Coord<f64>], out: &mut Vec<Coord<f64>>) {
        let c = c as usize;
        let lerp = |p: Coord<f64>, q: Coord<f64>, t: f64| Coord { x: p.x + (q.x - p.x) * t, y: p.y + (q.y - p.y) * t };
        let start = out.len();
        let push = |out: &mut Vec<Coord<f64>>, p: Coord<f64>| {
            if out.len() == start || out.last() != Some(&p) {
                out.push(p);
            }
        };
        for &e in &self.chain_edges[self.chain_e0[c] as usize..self.chain_e0[c + 1] as usize] {
            let e = e as usize;
            let (s, len, rev) = (self.edge_cstart[e], self.edge_len[e], self.edge_rev[e]);
            if s > hi || s + len < lo {
                continue;
            }
            let vs = self.edge_vertices(e);
            let k = vs.len();
            // Vertex i in chain direction and its chain offset.
            let at = |i: usize| -> (Coord<f64>, f64) {
                let v = if rev { vs.start + k - 1 - i } else { vs.start + i };
                let off = if rev { s + (len - self.cum[v]) } else { s + self.cum[v] };
                (coords[v], off)
            };
            for i in 0..k - 1 {
                let ((p, op), (q, oq)) = (at(i), at(i + 1));
                if oq < lo || op > hi {
                    continue;
                }
                let seg = oq - op;
                let t0 = if op < lo && seg > 0.0 { (lo - op) / seg } else { 0.0 };
                let t1 = if oq > hi && seg > 0.0 { (hi - op) / seg } else { 1.0 };
                push(out, lerp(p, q, t0));
                push(out, lerp(p, q, t1));
            }
        }
    }
}

/// State of the chain walk while building.
struct ChainBuilder<'a> {
    edge_from: &'a [u32],
    edge_to: &'a [u32],
    edge_len: &'a [f64],
    visited: Vec<bool>,
    edge_chain: Vec<u32>,
    edge_cstart: Vec<f64>,
    edge_rev: Vec<bool>,
    node_place: Vec<NodePlace>,
    chain_a: Vec<u32>,
    chain_b: Vec<u32>,
    chain_len: Vec<f64>,
    chain_e0: Vec<u32>,
    chain_edges: Vec<u32>,
}

impl ChainBuilder<'_> {
    /// Walks from junction node `start` along edge `e` through degree-two nodes to the next junction.
    fn walk(&mut self, start: u32, mut e: u32, is_junction: &[bool], inc: &[u32], inc_first: &[u32]) {
        let c = self.chain_a.len() as u32;
        let mut cur = start;
        let mut off = 0.0;
        let end = loop {
            let ei = e as usize;
            self.visited[ei] = true;
            let rev = self.edge_from[ei] != cur;
            self.edge_chain[ei] = c;
            self.edge_cstart[ei] = off;
            self.edge_rev[ei] = rev;
            self.chain_edges.push(e);
            off += self.edge_len[ei];
            let next = if rev { self.edge_from[ei] } else { self.edge_to[ei] };
            if is_junction[next as usize] {
                break next;
            }
            self.node_place[next as usize] = NodePlace::OnChain { chain: c, offset_m: off };
            let i0 = inc_first[next as usize] as usize;
            e = if inc[i0] == e { inc[i0 + 1] } else { inc[i0] };
            cur = next;
        };
        self.chain_a.push(start);
        self.chain_b.push(end);
        self.chain_len.push(off);
        self.chain_e0.push(self.chain_edges.len() as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::LineString;

    pub(crate) fn node(id: &str, x: f64, y: f64) -> NetNode {
        NetNode { source_id: id.into(), location: Point::new(x, y) }
    }

    pub(crate) fn edge(id: &str, from: &str, to: &str, coords: &[(f64, f64)]) -> NetEdge {
        let geometry = LineString::from(coords.to_vec());
        NetEdge {
            source_id: id.into(),
            dataset: "t".into(),
            from: from.into(),
            to: to.into(),
            length_m: wangge_core::geometry::length_m(&geometry),
            highway: "footway".into(),
            name: None,
            private: false,
            geometry,
        }
    }

    #[test]
    fn hilbert_visits_neighbouring_cells() {
        assert_eq!(hilbert(0, 0), 0);
        let mut seen: Vec<u64> = (0..4).flat_map(|x| (0..4).map(move |y| hilbert(x, y))).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 16);
    }

    #[test]
    fn a_street_with_bends_is_one_chain_and_a_ring_has_a_junction() {
        // a - b - c - d (b, c of degree two), d - e and d - f: one chain a..d plus two short ones;
        // and a separate ring g - h - i - g.
        let d = 0.001;
        let nodes = vec![
            node("a", 116.0, 40.0),
            node("b", 116.0 + d, 40.0),
            node("c", 116.0 + 2.0 * d, 40.0),
            node("d", 116.0 + 3.0 * d, 40.0),
            node("e", 116.0 + 3.0 * d, 40.0 + d),
            node("f", 116.0 + 3.0 * d, 40.0 - d),
            node("g", 116.1, 40.1),
            node("h", 116.1 + d, 40.1),
            node("i", 116.1, 40.1 + d),
        ];
        let p = |n: &NetNode| (n.location.x(), n.location.y());
        let edges = vec![
            edge("ab", "a", "b", &[p(&nodes[0]), p(&nodes[1])]),
            edge("cb", "c", "b", &[p(&nodes[2]), p(&nodes[1])]),
            edge("cd", "c", "d", &[p(&nodes[2]), p(&nodes[3])]),
            edge("de", "d", "e", &[p(&nodes[3]), p(&nodes[4])]),
            edge("df", "d", "f", &[p(&nodes[3]), p(&nodes[5])]),
            edge("gh", "g", "h", &[p(&nodes[6]), p(&nodes[7])]),
            edge("hi", "h", "i", &[p(&nodes[7]), p(&nodes[8])]),
            edge("ig", "i", "g", &[p(&nodes[8]), p(&nodes[6])]),
        ];
        let g = WalkGraph::build(&nodes, &edges, None).expect("graph");
        // Junctions: a, d, e, f, and one ring node.
        assert_eq!(g.stats().junctions, 5);
        assert_eq!(g.stats().chains, 4);
        let long = g.edge_chain[0];
        assert_eq!(g.edge_chain[1], long);
        assert_eq!(g.edge_chain[2], long);
        assert!(g.edge_rev[1], "c→b is walked backwards on the chain a..d");
        let total: f64 = edges[..3].iter().map(|e| e.length_m).sum();
        assert!((g.chain_len[long as usize] - total).abs() < 1e-9);
        assert_eq!(g.components().len(), 2);
        assert_eq!(g.components()[0].nodes, 6);
        assert_eq!(g.islands()[0].nodes, 3);
        assert_eq!(g.islands()[0].edges, 3);
        // Points along the chain come out in order.
        let mut pts = Vec::new();
        g.chain_points(long, 10.0, total - 10.0, &g.lonlat, &mut pts);
        assert_eq!(pts.len(), 4);
        assert!(pts.windows(2).all(|w| w[0].x < w[1].x));
    }
}
