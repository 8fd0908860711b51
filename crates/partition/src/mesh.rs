//! One triangulation per community, shared by the adjacency and the grid polygons.
//!
//! A constrained Delaunay triangulation (spade) of every atom's *sites* — its building footprint's
//! vertices (at most [`MAX_FOOTPRINT_VERTICES`] per polygon, evenly strided) and its representative
//! point (its *anchor*) — with the footprints' sides as constraint edges (so no triangle crosses a
//! building: buildings on either side of a long building do not touch through it; sides crossing
//! other footprints are split there) and the region's rings as constraint edges marked as its
//! outline: the community boundary, or
//! without one the buildings' closed area buffered by [`BUFFER_M`]. A building split into k unit
//! (or floor) atoms has its footprint cut into k slices across its long axis, in proportion to the
//! atoms' households; each atom gets the vertices of its own slice and the slice's interior point as
//! its anchor (and representative point). Without a footprint, the k atoms' points are spread 1 m
//! apart along the x axis.
//!
//! Every mesh vertex inside the region has an owner atom, and each atom's *region* is the union of
//! the barycentric quads (corner, two edge midpoints, centroid) of the inside triangles at its
//! vertices. Ownership is made so that **each atom's vertices are connected through inside edges
//! among themselves** (so its region is one piece containing its anchor):
//!
//! 1. sites own their vertices; region (ring) vertices start free;
//! 2. for each atom, only the connected component (over inside edges between its own vertices) of
//!    its anchor is kept (or the largest one when the anchor is outside the region); its other
//!    vertices — *stray* sites, cut off by another building's vertices — are freed;
//! 3. free vertices take the owner of the nearest owned vertex along inside edges (multi-source
//!    Dijkstra); a vertex so claimed is joined to its owner's kept component through its shortest
//!    path, whose vertices all have that owner.
//!
//! Two atoms are adjacent exactly when an inside edge joins their vertices, which is exactly when
//! their regions share a border of positive length. So a set of atoms connected in the adjacency
//! has regions forming one piece: a grid contiguous in the adjacency is one polygon.
//!
//! An atom owning no vertex inside the region (a point on the boundary line that falls just
//! outside it, or a non-finite point) has no region; it is attached to the atom owning the nearest
//! vertex (its *host*) as a leaf of the adjacency.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use geo::{
    Area, BooleanOps, Buffer, Coord, InteriorPoint, LineString, MinimumRotatedRect, MultiPolygon, Point, Polygon,
    Simplify,
};
use spade::handles::{FixedFaceHandle, FixedVertexHandle, InnerTag};
use spade::{ConstrainedDelaunayTriangulation, HasPosition, Point2, Triangulation};

use crate::tessellate::{assemble, outline_rings};
use crate::types::{Atom, PartitionError};

/// Buffer around the buildings when the community has no boundary, metres.
pub const BUFFER_M: f64 = 30.0;
/// Starting "closing" distance for the buildings' area without boundary: triangles whose edges are all
/// shorter than this are inside (raised until the area is in one piece).
pub const CLOSE_M: f64 = 2.0 * BUFFER_M;
/// Tolerance for simplifying the buildings' closed area before buffering it, metres.
const SIMPLIFY_M: f64 = 2.0;
/// Region rings are densified to at most this spacing, metres, so borders meet them smoothly.
pub const DENSIFY_M: f64 = 5.0;
/// At most this many footprint vertices per polygon of a footprint (or slice), evenly strided.
pub const MAX_FOOTPRINT_VERTICES: usize = 24;
/// Spacing of the points of a split building without a footprint, metres.
const UNIT_SPACING_M: f64 = 1.0;
/// Shift applied to an anchor that falls on another atom's anchor, metres.
const NUDGE_M: f64 = 0.01;

/// No owner / no vertex.
pub(crate) const FREE: u32 = u32::MAX;

/// A triangulation vertex: a position, the atom whose site it is (or [`FREE`]) and whether it is
/// that atom's anchor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site {
    pos: Point2<f64>,
    owner: u32,
    anchor: bool,
}

impl HasPosition for Site {
    type Scalar = f64;
    fn position(&self) -> Point2<f64> {
        self.pos
    }
}

/// The triangulation; an undirected edge's data is `true` when it lies on the region's outline
/// (footprint sides are constraint edges too, but do not bound the region).
pub(crate) type Cdt = ConstrainedDelaunayTriangulation<Site, (), bool>;

/// The triangulation of a community with every vertex's owner atom (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Mesh {
    /// The triangulation.
    pub(crate) cdt: Cdt,
    /// By face index: inside the region.
    pub(crate) inside: Vec<bool>,
    /// By vertex index: the owner atom, or [`FREE`] (outside the region, or no atom at all).
    pub(crate) owner: Vec<u32>,
    /// By atom: its anchor vertex when that vertex is inside the region and owned by it, else [`FREE`].
    pub(crate) anchor: Vec<u32>,
    /// Atoms owning no vertex inside the region, with the atom they are attached to.
    pub(crate) hosted: Vec<(u32, u32)>,
    /// Sites freed in step 2 (cut off from their atom's anchor), for diagnostics.
    stray_sites: usize,
    /// Number of atoms the mesh was built for.
    atoms: usize,
}

impl Mesh {
    /// Number of atoms the mesh was built for.
    pub fn atoms(&self) -> usize {
        self.atoms
    }
    /// Number of triangulation vertices.
    pub fn vertices(&self) -> usize {
        self.owner.len()
    }
    /// Number of triangles inside the region.
    pub fn inside_triangles(&self) -> usize {
        self.inside.iter().filter(|&&i| i).count()
    }
    /// True when the mesh has no atoms.
    pub fn is_empty(&self) -> bool {
        self.atoms == 0
    }
    /// Sites that were cut off from their atom's anchor by other buildings' vertices and given to
    /// the neighbouring owner.
    pub fn stray_sites(&self) -> usize {
        self.stray_sites
    }
    /// Atoms owning no vertex inside the region, each with the atom it is attached to.
    pub fn hosted(&self) -> &[(u32, u32)] {
        &self.hosted
    }
    /// True when an undirected edge (by index) borders an inside triangle.
    pub(crate) fn edge_inside(&self, e: spade::handles::FixedUndirectedEdgeHandle) -> bool {
        let d = self.cdt.directed_edge(e.as_directed());
        [d.face(), d.rev().face()].iter().any(|f| f.as_inner().is_some_and(|f| self.inside[f.fix().index()]))
    }

    /// Builds the mesh of `atoms` in `boundary` (or, without one, the buildings' closed area buffered
    /// by [`BUFFER_M`]). Sets the representative point of the atoms of a split building to their
    /// slice's interior point (spread 1 m apart without a footprint), and shifts by 1 cm an anchor that
    /// falls exactly on another atom's, so that every atom has a site of its own. The atoms of one
    /// building must be consecutive (as [`build_atoms`](crate::atoms::build_atoms) sorts them). Errors
    /// only when the triangulation itself fails.
    pub fn build(boundary: Option<&Polygon<f64>>, atoms: &mut [Atom]) -> Result<Mesh, PartitionError> {
        let n = atoms.len();
        if n == 0 {
            return Ok(Mesh::default());
        }
        let (sites, sides) = sites_of(atoms);
        let mut conflicts: Vec<[usize; 2]> = Vec::new();
        let mut cdt = Cdt::try_bulk_load_cdt(sites, sides, |e| conflicts.push(e))
            .map_err(|e| PartitionError::Geometry(format!("triangulation failed: {e:?}")))?;
        // Footprint sides crossing other footprints' sides: split at the crossings (free vertices).
        for [a, b] in conflicts {
            let (a, b) = (FixedVertexHandle::from_index(a), FixedVertexHandle::from_index(b));
            cdt.add_constraint_and_split(a, b, |pos| Site { pos, owner: FREE, anchor: false });
        }
        let region: MultiPolygon<f64> = match boundary {
            Some(b) => MultiPolygon::new(vec![b.clone()]),
            None => closed_buffered_area(&cdt),
        };
        let mut on_outline = false;
        for poly in &region.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                on_outline |= add_ring(&mut cdt, ring);
            }
        }
        let inside = inside_faces(&cdt, on_outline);
        let mut mesh = Mesh {
            cdt,
            inside,
            owner: Vec::new(),
            anchor: vec![FREE; n],
            hosted: Vec::new(),
            stray_sites: 0,
            atoms: n,
        };
        mesh.assign_owners(n);
        Ok(mesh)
    }

    /// Steps 1–3 of the module docs, then the hosts of atoms without a region.
    fn assign_owners(&mut self, n: usize) {
        let cdt = &self.cdt;
        let nv = cdt.num_vertices();
        let mut owner: Vec<u32> = cdt.vertices().map(|v| v.data().owner).collect();
        let mut used = vec![false; nv];
        for f in cdt.inner_faces() {
            if self.inside[f.fix().index()] {
                for v in f.vertices() {
                    used[v.fix().index()] = true;
                }
            }
        }
        let inside_edges: Vec<(usize, usize, f64)> = cdt
            .undirected_edges()
            .filter(|e| self.edge_inside(e.fix()))
            .map(|e| {
                let [a, b] = e.vertices();
                (a.fix().index(), b.fix().index(), e.length_2().sqrt())
            })
            .collect();
        // Step 2: keep each atom's anchor component.
        let mut uf = UnionFind::new(nv);
        for &(a, b, _) in &inside_edges {
            if owner[a] != FREE && owner[a] == owner[b] {
                uf.union(a, b);
            }
        }
        let mut anchor_vertex = vec![FREE; n];
        for v in cdt.vertices() {
            let d = v.data();
            if d.anchor && (d.owner as usize) < n && used[v.fix().index()] {
                anchor_vertex[d.owner as usize] = v.fix().index() as u32;
            }
        }
        let mut size = vec![0u32; nv];
        for v in 0..nv {
            if used[v] && owner[v] != FREE {
                size[uf.find(v)] += 1;
            }
        }
        let mut keep = vec![FREE; n];
        for v in 0..nv {
            let o = owner[v];
            if !used[v] || o == FREE || o as usize >= n {
                continue;
            }
            let r = uf.find(v) as u32;
            let a = o as usize;
            if anchor_vertex[a] != FREE {
                keep[a] = uf.find(anchor_vertex[a] as usize) as u32;
            } else if keep[a] == FREE
                || size[r as usize] > size[keep[a] as usize]
                || (size[r as usize] == size[keep[a] as usize] && r < keep[a])
            {
                keep[a] = r;
            }
        }
        let mut stray = 0;
        for v in 0..nv {
            let o = owner[v];
            if o == FREE {
                continue;
            }
            if !used[v] || o as usize >= n {
                // Outside the region: owns nothing (kept only for finding hosts).
                continue;
            }
            if uf.find(v) as u32 != keep[o as usize] {
                owner[v] = FREE;
                stray += 1;
            }
        }
        // Step 3: free vertices inside take the nearest owner along inside edges.
        let mut adj_off = vec![0usize; nv + 1];
        for &(a, b, _) in &inside_edges {
            adj_off[a + 1] += 1;
            adj_off[b + 1] += 1;
        }
        for i in 0..nv {
            adj_off[i + 1] += adj_off[i];
        }
        let mut fill = adj_off.clone();
        let mut adj = vec![(0usize, 0.0f64); adj_off[nv]];
        for &(a, b, l) in &inside_edges {
            adj[fill[a]] = (b, l);
            fill[a] += 1;
            adj[fill[b]] = (a, l);
            fill[b] += 1;
        }
        let mut dist = vec![f64::INFINITY; nv];
        let mut heap: BinaryHeap<(Reverse<u64>, usize)> = BinaryHeap::new();
        for v in 0..nv {
            if used[v] && owner[v] != FREE && (owner[v] as usize) < n {
                dist[v] = 0.0;
                heap.push((Reverse(0f64.to_bits()), v));
            }
        }
        while let Some((Reverse(bits), v)) = heap.pop() {
            if f64::from_bits(bits) > dist[v] {
                continue;
            }
            for &(u, l) in &adj[adj_off[v]..adj_off[v + 1]] {
                let d = dist[v] + l;
                if d < dist[u] {
                    dist[u] = d;
                    owner[u] = owner[v];
                    heap.push((Reverse(d.to_bits()), u));
                }
            }
        }
        // Vertices outside the region own nothing; atoms with no region are hosted.
        let mut has_region = vec![false; n];
        for v in 0..nv {
            if !used[v] {
                continue;
            }
            if let Some(h) = has_region.get_mut(owner[v] as usize) {
                *h = true;
            }
        }
        let mut hosted = Vec::new();
        for v in cdt.vertices() {
            let d = v.data();
            let a = d.owner as usize;
            if !d.anchor || a >= n || has_region[a] {
                continue;
            }
            // Breadth-first from the anchor over all edges, to the nearest owned inside vertex.
            let mut seen = HashSet::from([v.fix().index()]);
            let mut frontier = vec![v.fix()];
            let mut host = None;
            while host.is_none() && !frontier.is_empty() {
                let mut next = Vec::new();
                let mut best = (f64::INFINITY, FREE);
                for &f in &frontier {
                    for e in cdt.vertex(f).out_edges() {
                        let u = e.to().fix().index();
                        if !seen.insert(u) {
                            continue;
                        }
                        if used[u] && owner[u] != FREE && owner[u] as usize != a {
                            let p = e.to().position();
                            let dd = (p.x - d.pos.x).hypot(p.y - d.pos.y);
                            if dd < best.0 || (dd == best.0 && owner[u] < best.1) {
                                best = (dd, owner[u]);
                            }
                        }
                        next.push(e.to().fix());
                    }
                }
                if best.1 != FREE {
                    host = Some(best.1);
                }
                frontier = next;
            }
            if let Some(h) = host {
                hosted.push((a as u32, h));
            }
        }
        hosted.sort_unstable();
        for (v, o) in owner.iter_mut().enumerate() {
            if !used[v] {
                *o = FREE;
            }
        }
        for (a, &v) in anchor_vertex.iter().enumerate() {
            if v != FREE && owner[v as usize] == a as u32 {
                self.anchor[a] = v;
            }
        }
        self.owner = owner;
        self.hosted = hosted;
        self.stray_sites = stray;
    }

    /// Undirected pairs of distinct atoms `(a, b)`, `a < b`, whose regions share a border (an inside
    /// edge joins their vertices), plus each hosted atom with its host; sorted, without duplicates.
    pub fn contact_pairs(&self) -> Vec<(u32, u32)> {
        let mut pairs: Vec<(u32, u32)> = self
            .cdt
            .undirected_edges()
            .filter_map(|e| {
                let [a, b] = e.vertices();
                let (oa, ob) = (self.owner[a.fix().index()], self.owner[b.fix().index()]);
                (oa != FREE && ob != FREE && oa != ob && self.edge_inside(e.fix())).then_some((oa.min(ob), oa.max(ob)))
            })
            .chain(self.hosted.iter().map(|&(a, h)| (a.min(h), a.max(h))))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }
}

/// Footprint rings (strided sides) of one atom.
type Rings = Vec<Vec<Coord<f64>>>;

/// The sites of every atom (see the module docs), deduplicated by position (anchors first, then the
/// lower atom), and the footprint sides as pairs of site indices (constraint edges). Updates the
/// points of split buildings' atoms and nudges coinciding anchors.
fn sites_of(atoms: &mut [Atom]) -> (Vec<Site>, Vec<[usize; 2]>) {
    let n = atoms.len();
    let mut sites: Vec<Site> = Vec::with_capacity(n * 6);
    let mut own: Vec<Rings> = vec![Vec::new(); n];
    // Atoms are sorted by id, so a building's atoms are consecutive.
    let mut s = 0;
    while s < n {
        let mut t = s + 1;
        while t < n && atoms[t].id.building == atoms[s].id.building {
            t += 1;
        }
        if t - s == 1 {
            if let Some(fp) = &atoms[s].footprint {
                own[s] = strided_rings(fp);
            }
        } else {
            let weights: Vec<u32> = atoms[s..t].iter().map(|a| a.households.max(1)).collect();
            let sliced = atoms[s].footprint.as_ref().and_then(|fp| slices(fp, &weights));
            match sliced {
                Some(sl) => {
                    for (k, (rings, anchor)) in sl.into_iter().enumerate() {
                        own[s + k] = rings;
                        atoms[s + k].point = anchor;
                    }
                }
                None => {
                    let p = atoms[s].point;
                    let k = (t - s) as f64;
                    for (j, a) in atoms[s..t].iter_mut().enumerate() {
                        a.point = Point::new(p.x() + (j as f64 - (k - 1.0) / 2.0) * UNIT_SPACING_M, p.y());
                    }
                }
            }
        }
        s = t;
    }
    // Anchors, each at a position of its own.
    let key = |c: Coord<f64>| (c.x.to_bits(), c.y.to_bits());
    let mut taken: HashSet<(u64, u64)> = HashSet::with_capacity(n);
    for (i, a) in atoms.iter_mut().enumerate() {
        let mut c = a.point.0;
        if !(c.x.is_finite() && c.y.is_finite()) {
            continue;
        }
        let mut m = 0;
        while !taken.insert(key(c)) {
            m += 1;
            c = Coord { x: a.point.x() + m as f64 * NUDGE_M, y: a.point.y() };
        }
        a.point = Point(c);
        sites.push(Site { pos: Point2::new(c.x, c.y), owner: i as u32, anchor: true });
    }
    for (i, rings) in own.iter().enumerate() {
        for c in rings.iter().flatten() {
            if c.x.is_finite() && c.y.is_finite() && !taken.contains(&key(*c)) {
                sites.push(Site { pos: Point2::new(c.x, c.y), owner: i as u32, anchor: false });
            }
        }
    }
    // Deduplicate the other sites by position (the lower atom first).
    let anchors = sites.iter().filter(|s| s.anchor).count();
    let rest = &mut sites[anchors..];
    rest.sort_by(|a, b| a.pos.x.total_cmp(&b.pos.x).then(a.pos.y.total_cmp(&b.pos.y)).then(a.owner.cmp(&b.owner)));
    let mut out: Vec<Site> = Vec::with_capacity(sites.len());
    out.extend_from_slice(&sites[..anchors]);
    let mut last: Option<Point2<f64>> = None;
    for s in &sites[anchors..] {
        if last != Some(s.pos) {
            out.push(*s);
        }
        last = Some(s.pos);
    }
    // Footprint sides between the sites at their ends.
    let index: HashMap<(u64, u64), usize> =
        out.iter().enumerate().map(|(i, s)| ((s.pos.x.to_bits(), s.pos.y.to_bits()), i)).collect();
    let mut sides: Vec<[usize; 2]> = Vec::new();
    for ring in own.iter().flatten() {
        let ids: Vec<usize> = ring.iter().filter_map(|c| index.get(&key(*c)).copied()).collect();
        if ids.len() < 2 {
            continue;
        }
        for k in 0..ids.len() {
            let (a, b) = (ids[k], ids[(k + 1) % ids.len()]);
            if a != b {
                sides.push([a.min(b), a.max(b)]);
            }
        }
    }
    sides.sort_unstable();
    sides.dedup();
    (out, sides)
}

/// The exterior ring of each polygon (without its closing point), at most
/// [`MAX_FOOTPRINT_VERTICES`] vertices each (evenly strided). Its sides become constraint edges, so
/// no triangle crosses a building: a long building separates the buildings on its two sides.
fn strided_rings(mp: &MultiPolygon<f64>) -> Rings {
    mp.0.iter()
        .map(|poly| {
            let ring = &poly.exterior().0;
            let n = ring.len().saturating_sub(1);
            let step = n.div_ceil(MAX_FOOTPRINT_VERTICES).max(1);
            ring.iter().take(n).step_by(step).copied().collect()
        })
        .collect()
}

/// One slice of a split building's footprint: its sites and its interior point.
type Slice = (Rings, Point<f64>);

/// A footprint cut into `weights.len()` slices across its long axis (the longer side of its minimum
/// rotated rectangle), with areas in proportion to the weights, in order along the axis. Each slice:
/// its vertices (strided) and an interior point. `None` for a degenerate footprint.
fn slices(fp: &MultiPolygon<f64>, weights: &[u32]) -> Option<Vec<Slice>> {
    let rect = fp.minimum_rotated_rect()?;
    let r = &rect.exterior().0;
    if r.len() < 3 {
        return None;
    }
    let (a, b) = (r[1] - r[0], r[2] - r[1]);
    let long = if a.x.hypot(a.y) >= b.x.hypot(b.y) { a } else { b };
    let len = long.x.hypot(long.y);
    if len.is_nan() || len <= 1e-9 {
        return None;
    }
    let u = Coord { x: long.x / len, y: long.y / len };
    let v = Coord { x: -u.y, y: u.x };
    let proj = |c: &Coord<f64>| c.x * u.x + c.y * u.y;
    let side = |c: &Coord<f64>| c.x * v.x + c.y * v.y;
    let coords = || fp.0.iter().flat_map(|p| p.exterior().0.iter());
    let (tmin, tmax) =
        coords().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| (lo.min(proj(c)), hi.max(proj(c))));
    let (smin, smax) =
        coords().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| (lo.min(side(c)), hi.max(side(c))));
    let total = fp.unsigned_area();
    if !(total > 0.0 && tmax > tmin) {
        return None;
    }
    let below = |t: f64| -> f64 {
        fp.0.iter()
            .map(|p| {
                clipped_area(p.exterior(), u, t) - p.interiors().iter().map(|h| clipped_area(h, u, t)).sum::<f64>()
            })
            .sum()
    };
    let wsum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    let mut cuts = vec![tmin - 1.0];
    let mut acc = 0u64;
    for &w in &weights[..weights.len() - 1] {
        acc += u64::from(w);
        let target = total * acc as f64 / wsum as f64;
        let (mut lo, mut hi) = (tmin, tmax);
        for _ in 0..48 {
            let mid = 0.5 * (lo + hi);
            if below(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        cuts.push(0.5 * (lo + hi));
    }
    cuts.push(tmax + 1.0);
    let (s0, s1) = (smin - 1.0, smax + 1.0);
    let at = |t: f64, s: f64| Coord { x: u.x * t + v.x * s, y: u.y * t + v.y * s };
    let mut out = Vec::with_capacity(weights.len());
    for w in cuts.windows(2) {
        let (t0, t1) = (w[0], w[1]);
        let strip =
            Polygon::new(LineString::new(vec![at(t0, s0), at(t1, s0), at(t1, s1), at(t0, s1), at(t0, s0)]), vec![]);
        let piece = fp.intersection(&MultiPolygon::new(vec![strip]));
        let verts = strided_rings(&piece);
        let mid = at(0.5 * (t0.max(tmin) + t1.min(tmax)), 0.5 * (smin + smax));
        let anchor = piece.interior_point().unwrap_or(Point(mid));
        out.push((verts, anchor));
    }
    Some(out)
}

/// Area of a ring's polygon on the side `p · u <= t` (Sutherland–Hodgman; exact for any simple ring).
fn clipped_area(ring: &LineString<f64>, u: Coord<f64>, t: f64) -> f64 {
    let pts = &ring.0;
    if pts.len() < 4 {
        return 0.0;
    }
    let d = |c: &Coord<f64>| c.x * u.x + c.y * u.y - t;
    let mut clipped: Vec<Coord<f64>> = Vec::with_capacity(pts.len() + 2);
    for w in pts.windows(2) {
        let (p, q) = (w[0], w[1]);
        let (dp, dq) = (d(&p), d(&q));
        if dp <= 0.0 {
            clipped.push(p);
        }
        if (dp < 0.0 && dq > 0.0) || (dp > 0.0 && dq < 0.0) {
            let s = dp / (dp - dq);
            clipped.push(Coord { x: p.x + s * (q.x - p.x), y: p.y + s * (q.y - p.y) });
        }
    }
    let m = clipped.len();
    if m < 3 {
        return 0.0;
    }
    let twice: f64 = (0..m)
        .map(|i| {
            let (a, b) = (clipped[i], clipped[(i + 1) % m]);
            a.x * b.y - b.x * a.y
        })
        .sum();
    (0.5 * twice).abs()
}

/// Inserts a ring (densified) as constraint edges marked as the outline, splitting at any crossing
/// (free vertices). True when any edge was marked.
fn add_ring(cdt: &mut Cdt, ring: &LineString<f64>) -> bool {
    let mut pts: Vec<Coord<f64>> = Vec::new();
    for seg in ring.lines() {
        let len = (seg.end.x - seg.start.x).hypot(seg.end.y - seg.start.y);
        let k = (len / DENSIFY_M).ceil().max(1.0) as usize;
        for s in 0..k {
            let t = s as f64 / k as f64;
            pts.push(Coord {
                x: seg.start.x + t * (seg.end.x - seg.start.x),
                y: seg.start.y + t * (seg.end.y - seg.start.y),
            });
        }
    }
    let mut handles: Vec<FixedVertexHandle> = Vec::with_capacity(pts.len());
    for c in pts {
        if !(c.x.is_finite() && c.y.is_finite()) {
            continue;
        }
        let pos = Point2::new(c.x, c.y);
        let h = match cdt.locate_vertex(pos) {
            Some(v) => v.fix(),
            None => match cdt.insert(Site { pos, owner: FREE, anchor: false }) {
                Ok(h) => h,
                Err(_) => continue,
            },
        };
        if handles.last() != Some(&h) {
            handles.push(h);
        }
    }
    if handles.len() < 3 {
        return false;
    }
    let mut marked = false;
    for i in 0..handles.len() {
        let (a, b) = (handles[i], handles[(i + 1) % handles.len()]);
        if a != b {
            for e in cdt.add_constraint_and_split(a, b, |pos| Site { pos, owner: FREE, anchor: false }) {
                *cdt.undirected_edge_data_mut(e.as_undirected()).data_mut() = true;
                marked = true;
            }
        }
    }
    marked
}

/// Which faces (by index) are inside the region: parity of outline edges crossed from the outer
/// face. Without an outline, every inner face.
fn inside_faces(cdt: &Cdt, outlined: bool) -> Vec<bool> {
    let nf = cdt.num_all_faces();
    let mut inside = vec![false; nf];
    if !outlined {
        for f in cdt.inner_faces() {
            inside[f.fix().index()] = true;
        }
        return inside;
    }
    let mut seen = vec![false; nf];
    let mut stack: Vec<(FixedFaceHandle<InnerTag>, bool)> = Vec::new();
    // Faces along the convex hull: inside when their hull edge is a constraint (the region's ring).
    for e in cdt.convex_hull() {
        for f in [e.face(), e.rev().face()] {
            if let Some(inner) = f.as_inner() {
                let fi = inner.fix().index();
                if !seen[fi] {
                    seen[fi] = true;
                    let s = *e.as_undirected().data().data();
                    inside[fi] = s;
                    stack.push((inner.fix(), s));
                }
            }
        }
    }
    while let Some((f, state)) = stack.pop() {
        for e in cdt.face(f).adjacent_edges() {
            let Some(other) = e.rev().face().as_inner() else { continue };
            let oi = other.fix().index();
            if seen[oi] {
                continue;
            }
            seen[oi] = true;
            let s = state ^ *e.as_undirected().data().data();
            inside[oi] = s;
            stack.push((other.fix(), s));
        }
    }
    inside
}

/// The buildings' area without a boundary: triangles whose edges are all at most a closing distance
/// (starting at [`CLOSE_M`], doubled until the kept triangles are in one edge-connected piece
/// touching every site), buffered by [`BUFFER_M`]. Sites all on one line (or fewer than three): the
/// line through them, buffered.
fn closed_buffered_area(cdt: &Cdt) -> MultiPolygon<f64> {
    let nf = cdt.num_all_faces();
    let max_edge: Vec<(usize, f64)> = cdt
        .inner_faces()
        .map(|f| (f.fix().index(), f.adjacent_edges().iter().map(|e| e.length_2()).fold(0.0, f64::max).sqrt()))
        .collect();
    if max_edge.is_empty() {
        let mut pts: Vec<Coord<f64>> = cdt.vertices().map(|v| Coord { x: v.position().x, y: v.position().y }).collect();
        pts.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
        return match pts.len() {
            0 => MultiPolygon::new(vec![]),
            1 => Point(pts[0]).buffer(BUFFER_M),
            _ => largest(LineString::new(pts).buffer(BUFFER_M)),
        };
    }
    let longest = max_edge.iter().map(|m| m.1).fold(0.0, f64::max);
    let mut t = CLOSE_M;
    let mut keep = vec![false; nf];
    loop {
        keep.iter_mut().for_each(|k| *k = false);
        for &(f, m) in &max_edge {
            keep[f] = m <= t;
        }
        if t >= longest || kept_connected(cdt, &keep) {
            break;
        }
        t *= 2.0;
    }
    let zero = vec![0u32; cdt.num_vertices()];
    let rings = outline_rings(cdt, &keep, &zero);
    let (poly, _) = assemble(rings.into_iter().map(|(_, r)| r).collect());
    if poly.exterior().0.is_empty() {
        let pts: geo::MultiPoint<f64> = cdt.vertices().map(|v| Point::new(v.position().x, v.position().y)).collect();
        return largest(pts.buffer(BUFFER_M));
    }
    // Simplified first (the buffer's cost grows with the vertices): sites stay at least
    // BUFFER_M - SIMPLIFY_M inside.
    largest(poly.simplify(SIMPLIFY_M).buffer(BUFFER_M))
}

/// The largest polygon (the buffer of one connected shape is one polygon, barring numerical slivers).
fn largest(mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    let best = mp.0.into_iter().max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()));
    MultiPolygon::new(best.into_iter().collect())
}

/// True when the kept faces form one edge-connected piece and every vertex touches a kept face.
fn kept_connected(cdt: &Cdt, keep: &[bool]) -> bool {
    let mut uf = UnionFind::new(keep.len());
    let mut touched = vec![false; cdt.num_vertices()];
    for f in cdt.inner_faces() {
        let fi = f.fix().index();
        if !keep[fi] {
            continue;
        }
        for v in f.vertices() {
            touched[v.fix().index()] = true;
        }
        for e in f.adjacent_edges() {
            let o = e.rev().face();
            if !o.is_outer() && keep[o.fix().index()] {
                uf.union(fi, o.fix().index());
            }
        }
    }
    if touched.iter().any(|t| !t) {
        return false;
    }
    let mut root = None;
    for (f, &k) in keep.iter().enumerate() {
        if k {
            let r = uf.find(f);
            if *root.get_or_insert(r) != r {
                return false;
            }
        }
    }
    root.is_some()
}

/// Union-find over dense indices.
pub(crate) struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    pub(crate) fn new(n: usize) -> Self {
        Self { parent: (0..n).collect() }
    }
    pub(crate) fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    pub(crate) fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}
