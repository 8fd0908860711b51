//! Nearest services for a resident: from a point (or a building), the nearest facilities of one,
//! several or every category, with walking distance, time and the route as a line.
//!
//! One bounded search from the resident's snapped point: facilities are events in the same queue
//! (reached from either end of their chain, or directly along the resident's own chain), and the
//! search stops as soon as every requested category has its k facilities, or at the cut-off.
//! A [`Searcher`] keeps its buffers between queries, so a query costs only what it touches.

use crate::graph::{NONE, WalkGraph, to_um};
use crate::network::{FacilitySet, Network, Snap};
use crate::search::{Bounded, SEED_A, SEED_B};
use crate::{CirclesError, WalkProfile};
use geo::{Coord, LineString, Point};

/// A question for [`Searcher::nearest_services`].
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceQuery {
    /// Category ids to look for; empty means every category of the catalogue.
    pub categories: Vec<String>,
    /// Facilities per category, 1 to [`crate::access::MAX_K`]. Default 1.
    pub k: usize,
    /// Search no farther than this, metres. Default 2,000 m.
    pub cutoff_m: f64,
}

impl Default for ServiceQuery {
    fn default() -> Self {
        Self { categories: Vec::new(), k: 1, cutoff_m: 2000.0 }
    }
}

/// One facility found for a resident.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceHit {
    /// Category id.
    pub category: String,
    /// The facility (index into [`FacilitySet::facilities`]).
    pub facility: usize,
    /// The facility's source id.
    pub source_id: String,
    /// Its name, if any.
    pub name: Option<String>,
    /// Walking distance, metres (both snap legs included).
    pub distance_m: f64,
    /// Walking time at the profile's speed, seconds.
    pub time_s: f64,
    /// The walk (lon/lat): the resident's point, along the network, to the facility's point.
    pub route: LineString<f64>,
}

/// A facility reached directly along the source's own chain.
const DIRECT: u32 = u32::MAX - 3;

/// Reusable search state for repeated queries on one network (nearest services, isochrones).
#[derive(Debug)]
pub struct Searcher<'n> {
    pub(crate) net: &'n Network,
    pub(crate) b: Bounded,
    fdist: Vec<u64>,
    fvia_node: Vec<u32>,
    fvia_arc: Vec<u32>,
    fdone: Vec<bool>,
    ftouched: Vec<u32>,
    pub(crate) pieces: Vec<(Coord<f64>, Coord<f64>)>,
    pub(crate) buf: Vec<Coord<f64>>,
    pub(crate) grid: Vec<u8>,
    pub(crate) next: Vec<u32>,
}

/// The buffers of a [`Searcher`] without its network, kept in the network's pool between queries.
#[derive(Debug)]
pub(crate) struct SearchBuffers {
    b: Bounded,
    fdist: Vec<u64>,
    fvia_node: Vec<u32>,
    fvia_arc: Vec<u32>,
    fdone: Vec<bool>,
    ftouched: Vec<u32>,
    pieces: Vec<(Coord<f64>, Coord<f64>)>,
    buf: Vec<Coord<f64>>,
    grid: Vec<u8>,
    next: Vec<u32>,
}

/// Searchers kept for reuse: at most this many idle ones per network (each holds 12 bytes per
/// junction; a server needs about one per worker thread, as a search never waits).
const POOL_MAX: usize = 8;

impl Network {
    /// A searcher for repeated queries on this network.
    pub fn searcher(&self) -> Searcher<'_> {
        Searcher {
            net: self,
            b: Bounded::new(self.graph()),
            fdist: Vec::new(),
            fvia_node: Vec::new(),
            fvia_arc: Vec::new(),
            fdone: Vec::new(),
            ftouched: Vec::new(),
            pieces: Vec::new(),
            buf: Vec::new(),
            grid: Vec::new(),
            next: Vec::new(),
        }
    }

    /// Runs `f` with a searcher from this network's pool (made when the pool is empty), and puts
    /// it back afterwards: repeated one-off queries (a server's) allocate nothing proportional to
    /// the network.
    pub fn with_searcher<T>(&self, f: impl FnOnce(&mut Searcher<'_>) -> T) -> T {
        let parts = self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let mut searcher = match parts {
            Some(p) => Searcher {
                net: self,
                b: p.b,
                fdist: p.fdist,
                fvia_node: p.fvia_node,
                fvia_arc: p.fvia_arc,
                fdone: p.fdone,
                ftouched: p.ftouched,
                pieces: p.pieces,
                buf: p.buf,
                grid: p.grid,
                next: p.next,
            },
            None => self.searcher(),
        };
        let out = f(&mut searcher);
        let Searcher { net: _, b, fdist, fvia_node, fvia_arc, fdone, ftouched, pieces, buf, grid, next } = searcher;
        let mut pool = self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.len() < POOL_MAX {
            pool.push(SearchBuffers { b, fdist, fvia_node, fvia_arc, fdone, ftouched, pieces, buf, grid, next });
        }
        out
    }

    /// The nearest services from a point (placed like any point; see [`Network::snap_point`]).
    /// Uses a pooled [`Searcher`] (see [`Network::with_searcher`]).
    pub fn nearest_services(
        &self,
        from: Point<f64>,
        facilities: &FacilitySet,
        query: &ServiceQuery,
        profile: &WalkProfile,
    ) -> Result<Vec<ServiceHit>, CirclesError> {
        let snap = self.snap_point(from)?;
        self.with_searcher(|s| s.nearest_services(&snap, facilities, query, profile))
    }
}

/// Appends the points of chain `c` from offset `from` to offset `to` (either direction), lon/lat,
/// skipping a first point equal to the last one already there.
pub(crate) fn append_chain(
    g: &WalkGraph,
    c: u32,
    from: f64,
    to: f64,
    tmp: &mut Vec<Coord<f64>>,
    out: &mut Vec<Coord<f64>>,
) {
    tmp.clear();
    g.chain_points(c, from.min(to), from.max(to), &g.lonlat, tmp);
    if from > to {
        tmp.reverse();
    }
    for &p in tmp.iter() {
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
}

impl Searcher<'_> {
    fn reset_facilities(&mut self, n: usize) {
        if self.fdist.len() != n {
            self.fdist = vec![u64::MAX; n];
            self.fvia_node = vec![NONE; n];
            self.fvia_arc = vec![NONE; n];
            self.fdone = vec![false; n];
            self.ftouched.clear();
        }
        for &f in &self.ftouched {
            self.fdist[f as usize] = u64::MAX;
            self.fdone[f as usize] = false;
        }
        self.ftouched.clear();
    }

    #[inline]
    fn offer(&mut self, f: u32, d: u64, node: u32, arc: u32, nj: u32) {
        let fi = f as usize;
        if d < self.fdist[fi] && !self.fdone[fi] {
            if self.fdist[fi] == u64::MAX {
                self.ftouched.push(f);
            }
            self.fdist[fi] = d;
            self.fvia_node[fi] = node;
            self.fvia_arc[fi] = arc;
            self.b.heap.push(d, nj + f);
        }
    }

    /// The nearest facilities of the requested categories from a snapped point, nearest first,
    /// with routes. Categories with no facility reachable within the cut-off simply have no hit.
    pub fn nearest_services(
        &mut self,
        from: &Snap,
        fs: &FacilitySet,
        query: &ServiceQuery,
        profile: &WalkProfile,
    ) -> Result<Vec<ServiceHit>, CirclesError> {
        let k = query.k;
        if !(1..=crate::access::MAX_K).contains(&k) {
            return Err(CirclesError::InvalidParameter {
                name: "k",
                reason: format!("must be 1 to {}, got {k}", crate::access::MAX_K),
            });
        }
        if !(query.cutoff_m.is_finite() && query.cutoff_m >= 0.0) {
            return Err(CirclesError::InvalidParameter {
                name: "cutoff_m",
                reason: format!("must be a non-negative number of metres, got {}", query.cutoff_m),
            });
        }
        let ncat = fs.categories().len();
        let mut wanted = vec![query.categories.is_empty(); ncat];
        for id in &query.categories {
            wanted[fs.category_index(id)?] = true;
        }
        let net = self.net;
        let g = net.graph();
        let comp = g.chain_component(from.chain);
        // Categories that can be satisfied at all; the search stops when they all are.
        let mut missing: usize =
            (0..ncat).filter(|&c| wanted[c] && fs.has_in_component(c, comp)).map(|c| k.min(fs.placed_count(c))).sum();
        let mut got = vec![0usize; ncat];
        let nj = g.junctions() as u32;
        let budget = to_um(query.cutoff_m);
        self.b.reset();
        self.reset_facilities(fs.facilities().len());
        self.b.seed_snap(g, from, budget);
        for &f in fs.on_chain(from.chain) {
            if let Some(s) = fs.snap_of(f)
                && wanted[fs.category_of(f)]
            {
                let d = to_um((s.chain_offset - from.chain_offset).abs() + s.distance_m + from.distance_m);
                if d <= budget {
                    self.offer(f, d, DIRECT, NONE, nj);
                }
            }
        }
        let mut found: Vec<(u32, u64)> = Vec::new();
        while missing > 0 {
            let Some((d, x)) = self.b.heap.pop() else { break };
            if x >= nj {
                let f = x - nj;
                let fi = f as usize;
                if self.fdone[fi] || d > self.fdist[fi] {
                    continue;
                }
                self.fdone[fi] = true;
                let c = fs.category_of(f);
                if got[c] < k {
                    got[c] += 1;
                    missing = missing.saturating_sub(1);
                    found.push((f, d));
                }
                continue;
            }
            if d > self.b.dist[x as usize] {
                continue;
            }
            for (ai, arc) in g.arcs_of(x).iter().enumerate() {
                let c = arc.chain_dir >> 1;
                let len = g.chain_len[c as usize];
                for &f in fs.on_chain(c) {
                    let cat = fs.category_of(f);
                    if !wanted[cat] || got[cat] >= k {
                        continue;
                    }
                    let Some(s) = fs.snap_of(f) else { continue };
                    let along = if arc.chain_dir & 1 == 0 { s.chain_offset } else { len - s.chain_offset };
                    let fd = d + to_um(along + s.distance_m);
                    if fd <= budget {
                        self.offer(f, fd, x, g.first[x as usize] + ai as u32, nj);
                    }
                }
            }
            self.b.relax(g, x, d, budget);
        }
        let mut tmp = Vec::new();
        Ok(found
            .into_iter()
            .map(|(f, d)| {
                let pf = &fs.facilities()[f as usize];
                let distance_m = crate::graph::from_um(d);
                let route = self.route(from, f, fs, &mut tmp);
                ServiceHit {
                    category: fs.categories()[pf.category].id.clone(),
                    facility: f as usize,
                    source_id: pf.source_id.clone(),
                    name: pf.name.clone(),
                    distance_m,
                    time_s: profile.time_s(distance_m),
                    route,
                }
            })
            .collect())
    }

    /// The route to facility `f` found by the last search.
    fn route(&self, from: &Snap, f: u32, fs: &FacilitySet, tmp: &mut Vec<Coord<f64>>) -> LineString<f64> {
        let g = self.net.graph();
        let Some(to) = fs.snap_of(f) else { return LineString::new(Vec::new()) };
        let mut out = vec![from.location.0];
        if out.last() != Some(&from.point.0) {
            out.push(from.point.0);
        }
        let node = self.fvia_node[f as usize];
        if node == DIRECT {
            append_chain(g, from.chain, from.chain_offset, to.chain_offset, tmp, &mut out);
        } else {
            // Arcs from the source to `node`, walked back through the predecessors.
            let mut arcs = Vec::new();
            let mut v = node;
            let mut start = SEED_A;
            for _ in 0..=g.junctions() {
                let p = self.b.pred[v as usize];
                if p == SEED_A || p == SEED_B || p == NONE {
                    start = p;
                    break;
                }
                arcs.push(p);
                let c = (p >> 1) as usize;
                v = if p & 1 == 0 { g.chain_a[c] } else { g.chain_b[c] };
            }
            let src_len = g.chain_len[from.chain as usize];
            let end = if start == SEED_B { src_len } else { 0.0 };
            append_chain(g, from.chain, from.chain_offset, end, tmp, &mut out);
            for &p in arcs.iter().rev() {
                let c = p >> 1;
                let len = g.chain_len[c as usize];
                let (a, b) = if p & 1 == 0 { (0.0, len) } else { (len, 0.0) };
                append_chain(g, c, a, b, tmp, &mut out);
            }
            let arc = g.arcs[self.fvia_arc[f as usize] as usize];
            let c = arc.chain_dir >> 1;
            let begin = if arc.chain_dir & 1 == 0 { 0.0 } else { g.chain_len[c as usize] };
            append_chain(g, c, begin, to.chain_offset, tmp, &mut out);
        }
        for p in [to.point.0, to.location.0] {
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        LineString::new(out)
    }
}
