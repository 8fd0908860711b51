//! Grid polygons that tile the community ("管理无盲区": every square metre belongs to exactly one grid).
//!
//! Method: a constrained Delaunay triangulation (spade) of sites — every building's representative
//! point and footprint vertices, labelled with the building's grid — plus the region's rings as
//! constraint edges (the community boundary, or without one the buildings' closed area buffered by
//! [`BUFFER_M`]). Every triangle inside the region is cut into three quads (a corner, the two
//! adjacent edge midpoints, the centroid); a quad belongs to its corner's grid. Quads tile the
//! triangles exactly, and the triangles tile the region exactly (its rings are triangulation edges),
//! so the grids tile the region with no gap or overlap by construction. Region vertices take the grid
//! of the nearest building site (Dijkstra along triangulation edges). Pieces of a grid holding none of
//! its buildings' points are given to the neighbouring grid with the longest shared border, until every
//! piece holds a building point. Outlines are chained directly from the quad sides between different
//! grids (no boolean unions), so the whole step is O(n log n).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use geo::{Area, Buffer, Coord, LineString, MultiPolygon, Polygon};
use rayon::slice::ParallelSliceMut;
use spade::handles::FixedVertexHandle;
use spade::{ConstrainedDelaunayTriangulation, HasPosition, Point2, Triangulation};

use crate::types::{PartitionError, Plan, Problem};

/// Buffer around the buildings when the community has no boundary, metres.
pub const BUFFER_M: f64 = 30.0;
/// Starting "closing" distance for the buildings' area without boundary: triangles whose edges are all
/// shorter than this are inside (raised until the area is in one piece).
pub const CLOSE_M: f64 = 2.0 * BUFFER_M;
/// Region rings are densified to at most this spacing, metres, so borders meet them smoothly.
const DENSIFY_M: f64 = 25.0;
/// At most this many footprint vertices per building (evenly strided).
const MAX_FOOTPRINT_VERTICES: usize = 24;

const FREE: u32 = u32::MAX;

/// A triangulation vertex: a position, its grid (or [`FREE`]) and whether it is a building's point.
#[derive(Debug, Clone, Copy)]
struct Site {
    pos: Point2<f64>,
    label: u32,
    anchor: bool,
}

impl HasPosition for Site {
    type Scalar = f64;
    fn position(&self) -> Point2<f64> {
        self.pos
    }
}

type Cdt = ConstrainedDelaunayTriangulation<Site>;

fn err(msg: impl Into<String>) -> PartitionError {
    PartitionError::BadEdit(format!("tessellation: {}", msg.into()))
}

/// One polygon per grid (metric frame, index = `GridIx`) tiling the community's boundary (or, without
/// one, the buildings' area closed and buffered by [`BUFFER_M`]), each a single polygon containing its
/// grid's building points. A building split across grids by units belongs to the grid holding most of
/// its households; a grid that holds no building that way gets an empty polygon.
///
/// Borders follow the midlines between buildings of different grids (a barycentric dual of the
/// triangulation), not yet snapped to street lines.
pub fn tessellate(problem: &Problem, plan: &Plan) -> Result<Vec<Polygon<f64>>, PartitionError> {
    let grids = plan.grids();
    if plan.grid_of.len() != problem.atoms.len() {
        return Err(err(format!(
            "the plan assigns {} atoms but the problem has {}",
            plan.grid_of.len(),
            problem.atoms.len()
        )));
    }
    if problem.atoms.is_empty() {
        return Ok(vec![empty(); grids]);
    }
    let sites = building_sites(problem, plan);
    let mut cdt = Cdt::bulk_load(sites).map_err(|e| err(format!("triangulation failed: {e:?}")))?;

    let region: MultiPolygon<f64> = match &problem.community.boundary {
        Some(b) => MultiPolygon::new(vec![b.clone()]),
        None => closed_buffered_area(&cdt),
    };
    for poly in &region.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            add_ring(&mut cdt, ring);
        }
    }

    let labels = vertex_labels(&cdt);
    let inside = inside_faces(&cdt, problem.community.boundary.is_some() || !region.0.is_empty());
    let labels = absorb_orphans(&cdt, &inside, labels);
    let rings = outline_rings(&cdt, &inside, &labels);

    let mut out = vec![empty(); grids];
    let mut by_grid: Vec<Vec<LineString<f64>>> = vec![Vec::new(); grids];
    for (label, ring) in rings {
        if let Some(v) = by_grid.get_mut(label as usize) {
            v.push(ring);
        }
    }
    for (g, rings) in by_grid.into_iter().enumerate() {
        out[g] = assemble(rings);
    }
    Ok(out)
}

fn empty() -> Polygon<f64> {
    Polygon::new(LineString::new(vec![]), vec![])
}

/// Sites of every building: its point (an anchor) and footprint vertices, labelled with the grid
/// holding most of its households. Duplicate positions keep the anchor (then the first).
fn building_sites(problem: &Problem, plan: &Plan) -> Vec<Site> {
    // Building → (households per grid, first atom).
    let mut by_building: HashMap<&str, (HashMap<u32, u64>, usize)> = HashMap::new();
    for (i, (a, g)) in problem.atoms.iter().zip(&plan.grid_of).enumerate() {
        let e = by_building.entry(a.id.building.as_str()).or_insert_with(|| (HashMap::new(), i));
        *e.0.entry(g.0).or_default() += u64::from(a.households);
    }
    let mut buildings: Vec<(&str, u32, usize)> = by_building
        .into_iter()
        .map(|(b, (hh, first))| {
            let g = hh.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(g, _)| g).unwrap_or(0);
            (b, g, first)
        })
        .collect();
    buildings.sort_by_key(|b| b.2);
    let mut sites = Vec::with_capacity(buildings.len() * 8);
    for (_, g, first) in buildings {
        let a = &problem.atoms[first];
        sites.push(Site { pos: Point2::new(a.point.x(), a.point.y()), label: g, anchor: true });
        if let Some(fp) = &a.footprint {
            for poly in &fp.0 {
                let ring = &poly.exterior().0;
                let n = ring.len().saturating_sub(1);
                let step = n.div_ceil(MAX_FOOTPRINT_VERTICES).max(1);
                for c in ring.iter().take(n).step_by(step) {
                    sites.push(Site { pos: Point2::new(c.x, c.y), label: g, anchor: false });
                }
            }
        }
    }
    // Deduplicate positions, anchors first.
    let mut order: Vec<usize> = (0..sites.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (sites[i], sites[j]);
        a.pos.x.total_cmp(&b.pos.x).then(a.pos.y.total_cmp(&b.pos.y)).then(b.anchor.cmp(&a.anchor)).then(i.cmp(&j))
    });
    let mut keep = vec![false; sites.len()];
    let mut last: Option<Point2<f64>> = None;
    for i in order {
        let p = sites[i].pos;
        if last != Some(p) && p.x.is_finite() && p.y.is_finite() {
            keep[i] = true;
        }
        last = Some(p);
    }
    sites.into_iter().zip(keep).filter(|(_, k)| *k).map(|(s, _)| s).collect()
}

/// Inserts a ring (densified) as constraint edges, splitting at any crossing; free vertices.
fn add_ring(cdt: &mut Cdt, ring: &LineString<f64>) {
    let mut pts: Vec<Coord<f64>> = Vec::new();
    for seg in ring.lines() {
        let len = ((seg.end.x - seg.start.x).powi(2) + (seg.end.y - seg.start.y).powi(2)).sqrt();
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
            None => match cdt.insert(Site { pos, label: FREE, anchor: false }) {
                Ok(h) => h,
                Err(_) => continue,
            },
        };
        if handles.last() != Some(&h) {
            handles.push(h);
        }
    }
    if handles.len() < 3 {
        return;
    }
    for i in 0..handles.len() {
        let (a, b) = (handles[i], handles[(i + 1) % handles.len()]);
        if a != b {
            cdt.add_constraint_and_split(a, b, |pos| Site { pos, label: FREE, anchor: false });
        }
    }
}

/// Labels of all vertices: building sites keep theirs; free vertices take the label of the nearest
/// labelled vertex along triangulation edges (multi-source Dijkstra).
fn vertex_labels(cdt: &Cdt) -> Vec<u32> {
    let n = cdt.num_vertices();
    let mut label: Vec<u32> = cdt.vertices().map(|v| v.data().label).collect();
    let mut dist = vec![f64::INFINITY; n];
    let mut heap: BinaryHeap<(Reverse<u64>, usize)> = BinaryHeap::new();
    let key = |d: f64| Reverse(d.to_bits());
    for v in cdt.vertices() {
        let i = v.fix().index();
        if label[i] == FREE && v.out_edges().any(|e| e.to().data().label != FREE) {
            // Seed from its labelled neighbours.
            for e in v.out_edges() {
                let u = e.to();
                if u.data().label != FREE {
                    let d = e.length_2().sqrt();
                    if d < dist[i] {
                        dist[i] = d;
                        label[i] = u.data().label;
                    }
                }
            }
            heap.push((key(dist[i]), i));
        }
    }
    while let Some((Reverse(bits), i)) = heap.pop() {
        if f64::from_bits(bits) > dist[i] {
            continue;
        }
        let v = cdt.vertex(FixedVertexHandle::from_index(i));
        for e in v.out_edges() {
            let j = e.to().fix().index();
            if e.to().data().label != FREE {
                continue;
            }
            let d = dist[i] + e.length_2().sqrt();
            if d < dist[j] {
                dist[j] = d;
                label[j] = label[i];
                heap.push((key(d), j));
            }
        }
    }
    // Vertices unreachable (no labelled site at all) stay FREE and own nothing.
    label
}

/// Which faces (by index) are inside the region: parity of constraint edges crossed from the
/// outer face. Without constraints, every inner face.
fn inside_faces(cdt: &Cdt, constrained: bool) -> Vec<bool> {
    let nf = cdt.num_all_faces();
    let mut inside = vec![false; nf];
    if !constrained || cdt.num_constraints() == 0 {
        for f in cdt.inner_faces() {
            inside[f.fix().index()] = true;
        }
        return inside;
    }
    let mut seen = vec![false; nf];
    let mut stack: Vec<(spade::handles::FixedFaceHandle<spade::handles::InnerTag>, bool)> = Vec::new();
    // Faces along the convex hull: inside when their hull edge is a constraint (the region's ring).
    for e in cdt.convex_hull() {
        for f in [e.face(), e.rev().face()] {
            if let Some(inner) = f.as_inner() {
                let fi = inner.fix().index();
                if !seen[fi] {
                    seen[fi] = true;
                    let s = cdt.is_constraint_edge(e.fix().as_undirected());
                    inside[fi] = s;
                    stack.push((inner.fix(), s));
                }
            }
        }
    }
    while let Some((f, state)) = stack.pop() {
        let face = cdt.face(f);
        for e in face.adjacent_edges() {
            let Some(other) = e.rev().face().as_inner() else { continue };
            let oi = other.fix().index();
            if seen[oi] {
                continue;
            }
            seen[oi] = true;
            let s = state ^ cdt.is_constraint_edge(e.fix().as_undirected());
            inside[oi] = s;
            stack.push((other.fix(), s));
        }
    }
    inside
}

/// Reassigns pieces of a grid that hold no building point to the neighbouring grid with the longest
/// shared border, repeatedly, until every piece holds a building point (or nothing changes).
fn absorb_orphans(cdt: &Cdt, inside: &[bool], mut label: Vec<u32>) -> Vec<u32> {
    let n = label.len();
    for _round in 0..64 {
        // Pieces: union vertices of the same label sharing an inside face.
        let mut uf = UnionFind::new(n);
        let mut used = vec![false; n];
        for f in cdt.inner_faces() {
            if !inside[f.fix().index()] {
                continue;
            }
            let vs = f.vertices().map(|v| v.fix().index());
            for k in 0..3 {
                used[vs[k]] = true;
                let (a, b) = (vs[k], vs[(k + 1) % 3]);
                if label[a] == label[b] {
                    uf.union(a, b);
                }
            }
        }
        let mut anchored = vec![false; n];
        for v in cdt.vertices() {
            let i = v.fix().index();
            if used[i] && v.data().anchor && v.data().label == label[i] {
                anchored[uf.find(i)] = true;
            }
        }
        // Borders of orphan pieces with anchored neighbours: piece root → (label → length).
        let mut border: HashMap<usize, HashMap<u32, f64>> = HashMap::new();
        for f in cdt.inner_faces() {
            if !inside[f.fix().index()] {
                continue;
            }
            let vs = f.vertices();
            let c = f.center();
            for k in 0..3 {
                let (a, b) = (vs[k], vs[(k + 1) % 3]);
                let (ia, ib) = (a.fix().index(), b.fix().index());
                if label[ia] == label[ib] || label[ib] == FREE {
                    continue;
                }
                let (ra, rb) = (uf.find(ia), uf.find(ib));
                if !anchored[ra] && anchored[rb] {
                    let (pa, pb) = (a.position(), b.position());
                    let m = Point2::new((pa.x + pb.x) / 2.0, (pa.y + pb.y) / 2.0);
                    let len = ((m.x - c.x).powi(2) + (m.y - c.y).powi(2)).sqrt();
                    *border.entry(ra).or_default().entry(label[ib]).or_default() += len;
                }
            }
        }
        if border.is_empty() {
            break;
        }
        let target: HashMap<usize, u32> = border
            .into_iter()
            .filter_map(|(r, m)| {
                m.into_iter().max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0))).map(|(l, _)| (r, l))
            })
            .collect();
        for i in 0..n {
            if used[i]
                && let Some(&l) = target.get(&uf.find(i))
            {
                label[i] = l;
            }
        }
    }
    label
}

/// Outline rings per label: quad sides between different labels, and region-edge halves, chained.
/// Returns `(label, closed ring)`; exteriors counter-clockwise, holes clockwise.
fn outline_rings(cdt: &Cdt, inside: &[bool], label: &[u32]) -> Vec<(u32, LineString<f64>)> {
    // Node ids: vertex v → 3v, undirected edge e midpoint → 3e+1, face f centroid → 3f+2.
    // A segment is (label, from node, to node, position of the from node).
    let mut segs: Vec<(u32, u64, u64, Coord<f64>)> = Vec::new();
    for f in cdt.inner_faces() {
        let fi = f.fix().index();
        if !inside[fi] {
            continue;
        }
        let c = f.center();
        let cc = Coord { x: c.x, y: c.y };
        let cn = 3 * fi as u64 + 2;
        for e in f.adjacent_edges() {
            let (u, v) = (e.from(), e.to());
            let (lu, lv) = (label[u.fix().index()], label[v.fix().index()]);
            let mn = 3 * e.fix().as_undirected().index() as u64 + 1;
            let (pu, pv) = (u.position(), v.position());
            let m = Coord { x: (pu.x + pv.x) / 2.0, y: (pu.y + pv.y) / 2.0 };
            if lu != lv {
                if lu != FREE {
                    segs.push((lu, mn, cn, m));
                }
                if lv != FREE {
                    segs.push((lv, cn, mn, cc));
                }
            }
            let across = e.rev().face();
            let across_inside = !across.is_outer() && inside[across.fix().index()];
            if !across_inside {
                if lu != FREE {
                    segs.push((lu, 3 * u.fix().index() as u64, mn, Coord { x: pu.x, y: pu.y }));
                }
                if lv != FREE {
                    segs.push((lv, mn, 3 * v.fix().index() as u64, m));
                }
            }
        }
    }
    segs.par_sort_unstable_by_key(|s| (s.0, s.1, s.2));
    let mut used = vec![false; segs.len()];
    let mut rings = Vec::new();
    let mut s = 0;
    while s < segs.len() {
        let l = segs[s].0;
        let t = s + segs[s..].partition_point(|x| x.0 == l);
        let group = &segs[s..t];
        for k in 0..group.len() {
            if used[s + k] {
                continue;
            }
            let start = group[k].1;
            let mut pts = vec![group[k].3];
            let mut cur = k;
            loop {
                used[s + cur] = true;
                let next_node = group[cur].2;
                if next_node == start {
                    break;
                }
                // Outgoing segments of `next_node` in this label: a sorted range.
                let lo = group.partition_point(|x| x.1 < next_node);
                let hi = lo + group[lo..].partition_point(|x| x.1 == next_node);
                match (lo..hi).find(|&j| !used[s + j]) {
                    Some(j) => {
                        pts.push(group[j].3);
                        cur = j;
                    }
                    None => break,
                }
            }
            if pts.len() >= 3 {
                pts.push(pts[0]);
                rings.push((l, LineString::new(pts)));
            }
        }
        s = t;
    }
    rings
}

/// One polygon from a grid's rings: the largest counter-clockwise ring is the exterior, clockwise
/// rings inside it are holes. (After [`absorb_orphans`] a grid has one exterior; touching lobes are
/// joined into the largest exterior by sharing its vertex.)
fn assemble(rings: Vec<LineString<f64>>) -> Polygon<f64> {
    let mut exteriors: Vec<LineString<f64>> = Vec::new();
    let mut holes: Vec<LineString<f64>> = Vec::new();
    for r in rings {
        let a = signed_area(&r);
        if a > 0.0 {
            exteriors.push(r);
        } else if a < 0.0 {
            holes.push(r);
        }
    }
    exteriors.sort_by(|a, b| signed_area(b).total_cmp(&signed_area(a)));
    let mut it = exteriors.into_iter();
    let Some(mut ext) = it.next() else { return empty() };
    // Lobes touching the exterior at a node are spliced in at the shared point.
    for lobe in it {
        if let Some((i, j)) = shared_point(&ext, &lobe) {
            let mut pts = ext.0[..=i].to_vec();
            let n = lobe.0.len() - 1;
            for k in 1..=n {
                pts.push(lobe.0[(j + k) % n]);
            }
            pts.extend_from_slice(&ext.0[i + 1..]);
            ext = LineString::new(pts);
        }
    }
    let poly = Polygon::new(ext.clone(), vec![]);
    let holes = holes
        .into_iter()
        .filter(|h| h.0.first().is_some_and(|p| geo::Intersects::intersects(&poly, &geo::Point::from(*p))))
        .collect();
    Polygon::new(ext, holes)
}

fn shared_point(a: &LineString<f64>, b: &LineString<f64>) -> Option<(usize, usize)> {
    let nb = b.0.len().saturating_sub(1);
    let index: HashMap<(u64, u64), usize> =
        b.0[..nb].iter().enumerate().map(|(j, c)| ((c.x.to_bits(), c.y.to_bits()), j)).collect();
    a.0.iter()
        .enumerate()
        .take(a.0.len().saturating_sub(1))
        .find_map(|(i, c)| index.get(&(c.x.to_bits(), c.y.to_bits())).map(|&j| (i, j)))
}

fn signed_area(r: &LineString<f64>) -> f64 {
    Polygon::new(r.clone(), vec![]).signed_area()
}

/// The buildings' area without a boundary: triangles whose edges are all at most a closing distance
/// (starting at [`CLOSE_M`], doubled until the kept triangles are in one edge-connected piece
/// touching every site), buffered by [`BUFFER_M`].
fn closed_buffered_area(cdt: &Cdt) -> MultiPolygon<f64> {
    let nf = cdt.num_all_faces();
    let max_edge: Vec<(usize, f64)> = cdt
        .inner_faces()
        .map(|f| (f.fix().index(), f.adjacent_edges().iter().map(|e| e.length_2()).fold(0.0, f64::max).sqrt()))
        .collect();
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
    let poly = assemble(rings.into_iter().map(|(_, r)| r).collect());
    if poly.exterior().0.is_empty() {
        // Fewer than three sites in general position: buffer the points themselves.
        let pts: geo::MultiPoint<f64> =
            cdt.vertices().map(|v| geo::Point::new(v.position().x, v.position().y)).collect();
        return pts.buffer(BUFFER_M);
    }
    let buffered = poly.buffer(BUFFER_M);
    // Keep the largest piece (the buffer of one polygon is one polygon, barring numerical slivers).
    let best = buffered.0.into_iter().max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()));
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

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self { parent: (0..n).collect() }
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}
