//! Grid polygons that tile the community ("管理无盲区": every square metre belongs to exactly one grid).
//!
//! Method: the community's [`Mesh`](crate::mesh::Mesh), built once in
//! [`prepare`](crate::atoms::prepare) and shared with the adjacency: a constrained Delaunay
//! triangulation of every atom's sites with the region's rings (the community boundary, or without
//! one the buildings' closed area buffered by [`BUFFER_M`]) as constraint edges, every vertex owned
//! by an atom. Every triangle inside the region is cut into three quads (a corner, the two adjacent
//! edge midpoints, the centroid); a quad belongs to the grid of its corner's owner. Quads tile the
//! triangles exactly, and the triangles tile the region exactly (its rings are triangulation edges),
//! so the grids tile the region with no gap or overlap by construction.
//!
//! Each atom's region is one piece and two atoms are adjacent exactly when their regions share a
//! border (see [`crate::mesh`]), so a grid contiguous in the adjacency comes out as one polygon.
//! Defensively: a grid in several pieces holding buildings, or holding atoms but no area, is an
//! error (never dropped silently); a piece holding no atom's point (not produced by the mesh, but
//! handled) goes to the neighbouring grid with the longest shared border. Outlines are chained
//! directly from the quad sides between different grids (no boolean unions), so the whole step is
//! O(n log n).

use std::collections::HashMap;

use geo::{Area, Coord, LineString, Polygon};
use rayon::slice::ParallelSliceMut;
use spade::{Point2, Triangulation};

pub use crate::mesh::{BUFFER_M, CLOSE_M};
use crate::mesh::{Cdt, FREE, UnionFind};
use crate::types::{PartitionError, Plan, Problem};

fn err(msg: impl Into<String>) -> PartitionError {
    PartitionError::Geometry(format!("tessellation: {}", msg.into()))
}

/// One polygon per grid (metric frame, index = `GridIx`) tiling the community's boundary (or, without
/// one, the buildings' area closed and buffered by [`BUFFER_M`]), each a single polygon containing its
/// atoms' points (the units of a building split across grids each in their own grid, by the slices of
/// the footprint the mesh gives them).
///
/// Errors when the problem has no mesh for its atoms (a [`Problem`] built by hand without
/// [`Mesh::build`](crate::mesh::Mesh::build)), when a grid would be in several pieces holding
/// buildings (the plan is not contiguous in the adjacency), and when a grid holds atoms but no area.
///
/// Borders follow the midlines between buildings of different grids (a barycentric dual of the
/// triangulation), not yet snapped to street lines.
pub fn tessellate(problem: &Problem, plan: &Plan) -> Result<Vec<Polygon<f64>>, PartitionError> {
    let grids = plan.grids();
    let n = problem.atoms.len();
    if plan.grid_of.len() != n {
        return Err(err(format!("the plan assigns {} atoms but the problem has {n}", plan.grid_of.len())));
    }
    if let Some(g) = plan.grid_of.iter().find(|g| g.0 as usize >= grids) {
        return Err(err(format!("the plan refers to grid {} of {grids}", g.0)));
    }
    if n == 0 {
        return Ok(vec![empty(); grids]);
    }
    let mesh = &problem.mesh;
    if mesh.atoms() != n {
        return Err(err(format!(
            "the problem's mesh was built for {} atoms, not {n} (use atoms::prepare)",
            mesh.atoms()
        )));
    }
    let cdt = &mesh.cdt;
    let labels: Vec<u32> =
        mesh.owner.iter().map(|&o| if o == FREE { FREE } else { plan.grid_of[o as usize].0 }).collect();
    let mut is_anchor = vec![false; labels.len()];
    for &v in &mesh.anchor {
        if v != FREE {
            is_anchor[v as usize] = true;
        }
    }
    let labels = absorb_orphans(cdt, &mesh.inside, labels, &is_anchor);
    check_pieces(problem, plan, &labels)?;
    let rings = outline_rings(cdt, &mesh.inside, &labels);
    let mut by_grid: Vec<Vec<LineString<f64>>> = vec![Vec::new(); grids];
    for (label, ring) in rings {
        if let Some(v) = by_grid.get_mut(label as usize) {
            v.push(ring);
        }
    }
    let mut out = Vec::with_capacity(grids);
    for (g, rings) in by_grid.into_iter().enumerate() {
        let (poly, dropped) = assemble(rings);
        if dropped > 1e-6 {
            return Err(err(format!(
                "grid `{}`: {dropped:.1} m² of its area is in a separate ring (an internal error)",
                plan.grid_ids[g]
            )));
        }
        out.push(poly);
    }
    Ok(out)
}

/// Errors when a grid is in several pieces holding atoms' points, or holds atoms but no area.
fn check_pieces(problem: &Problem, plan: &Plan, labels: &[u32]) -> Result<(), PartitionError> {
    let mesh = &problem.mesh;
    let cdt = &mesh.cdt;
    let mut uf = UnionFind::new(labels.len());
    for e in cdt.undirected_edges() {
        let [a, b] = e.vertices();
        let (ia, ib) = (a.fix().index(), b.fix().index());
        if labels[ia] != FREE && labels[ia] == labels[ib] && mesh.edge_inside(e.fix()) {
            uf.union(ia, ib);
        }
    }
    // Grid → (piece root → first atom).
    let mut pieces: HashMap<u32, Vec<(usize, usize)>> = HashMap::new();
    for (a, &v) in mesh.anchor.iter().enumerate() {
        if v == FREE {
            continue;
        }
        let r = uf.find(v as usize);
        let e = pieces.entry(plan.grid_of[a].0).or_default();
        if !e.iter().any(|&(root, _)| root == r) {
            e.push((r, a));
        }
    }
    let mut bad: Vec<(u32, Vec<(usize, usize)>)> = pieces.into_iter().filter(|(_, v)| v.len() > 1).collect();
    bad.sort_by_key(|b| b.0);
    if let Some((g, v)) = bad.first() {
        let names: Vec<String> = v.iter().take(3).map(|&(_, a)| building(problem, a)).collect();
        return Err(err(format!(
            "grid `{}` comes out in {} pieces (the plan is not contiguous in the adjacency), e.g. {} are not joined",
            plan.grid_ids[*g as usize],
            v.len(),
            names.join(" and ")
        )));
    }
    let mut has_area = vec![false; plan.grids()];
    for &l in labels {
        if let Some(h) = has_area.get_mut(l as usize) {
            *h = true;
        }
    }
    if let Some((a, g)) = plan.grid_of.iter().enumerate().find(|(_, g)| !has_area[g.0 as usize]) {
        return Err(err(format!(
            "grid `{}` holds {} but no area (its point lies outside the region)",
            plan.grid_ids[g.0 as usize],
            building(problem, a)
        )));
    }
    Ok(())
}

fn building(problem: &Problem, a: usize) -> String {
    let id = &problem.atoms[a].id;
    match &id.unit {
        Some(u) => format!("{} unit {u}", id.building),
        None => id.building.clone(),
    }
}

fn empty() -> Polygon<f64> {
    Polygon::new(LineString::new(vec![]), vec![])
}

/// Reassigns pieces of a grid that hold no building point to the neighbouring grid with the longest
/// shared border, repeatedly, until every piece holds a building point (or nothing changes).
fn absorb_orphans(cdt: &Cdt, inside: &[bool], mut label: Vec<u32>, is_anchor: &[bool]) -> Vec<u32> {
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
        for i in 0..n {
            if used[i] && is_anchor[i] {
                anchored[uf.find(i)] = true;
            }
        }
        // Every piece holds a building point: nothing to absorb.
        if (0..n).all(|i| !used[i] || label[i] == FREE || anchored[uf.find(i)]) {
            break;
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
pub(crate) fn outline_rings(cdt: &Cdt, inside: &[bool], label: &[u32]) -> Vec<(u32, LineString<f64>)> {
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

/// One polygon from a grid's rings: the largest counter-clockwise ring is the exterior, other
/// counter-clockwise rings (lobes touching it at a node) are spliced into it at the shared point,
/// clockwise rings inside it are holes. Also returns the area of whatever could not be placed
/// (lobes touching nothing, holes outside): zero for the rings of one piece.
pub(crate) fn assemble(rings: Vec<LineString<f64>>) -> (Polygon<f64>, f64) {
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
    let Some(mut ext) = it.next() else {
        return (empty(), holes.iter().map(|h| signed_area(h).abs()).sum());
    };
    let mut lobes: Vec<LineString<f64>> = it.collect();
    // Lobes touching the exterior at a node are spliced in at the shared point, until none is left
    // or none touches.
    loop {
        let before = lobes.len();
        let mut rest = Vec::new();
        for lobe in lobes {
            if let Some((i, j)) = shared_point(&ext, &lobe) {
                let mut pts = ext.0[..=i].to_vec();
                let n = lobe.0.len() - 1;
                for k in 1..=n {
                    pts.push(lobe.0[(j + k) % n]);
                }
                pts.extend_from_slice(&ext.0[i + 1..]);
                ext = LineString::new(pts);
            } else {
                rest.push(lobe);
            }
        }
        lobes = rest;
        if lobes.is_empty() || lobes.len() == before {
            break;
        }
    }
    let mut dropped: f64 = lobes.iter().map(signed_area).sum();
    let poly = Polygon::new(ext.clone(), vec![]);
    let (inner, outer): (Vec<_>, Vec<_>) = holes
        .into_iter()
        .partition(|h| h.0.first().is_some_and(|p| geo::Intersects::intersects(&poly, &geo::Point::from(*p))));
    dropped += outer.iter().map(|h| signed_area(h).abs()).sum::<f64>();
    (Polygon::new(ext, inner), dropped)
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
