//! Which atoms touch: the regions of the community's [`Mesh`] (one triangulation shared with the
//! grid polygons, see [`crate::mesh`]): two atoms are adjacent exactly when their regions share a
//! border, so a set of atoms connected here is one piece of the tessellation. Each contact is
//! flagged when the segment between the two atoms' points crosses a barrier line, or when it crosses
//! a compound wall. Long contacts are kept (contiguity must stay possible across open space) and
//! carry their length.

use geo::{Contains, Coord, Line};
use rstar::{AABB, RTree, primitives::GeomWithData};

use crate::mesh::Mesh;
use crate::types::{Adjacency, Atom, AtomIx, Barrier, CompoundInput, Contact};

/// Symmetric CSR adjacency of `atoms` from their `mesh` (built for these atoms by
/// [`Mesh::build`]): atoms A ≠ B touch when an edge of a triangle inside the region joins a vertex
/// owned by A and one owned by B (the units of a split building touch through their slices); an atom
/// without a region touches only the atom it is attached to ([`Mesh::hosted`]).
///
/// A contact's `length_m` is the distance between the two atoms' points; it carries
/// `barrier = Some(i)` when the segment between the points crosses `barriers[i]` (the lowest such
/// index), and `wall` when the atoms lie in different compounds, or one in a compound and the other
/// not (an atom's compound is its `compound` field, or else the first compound outline containing
/// its point). Contacts of each atom are sorted by the other atom. Pairs naming atoms beyond
/// `atoms` (a mesh built for other atoms) are ignored. Deterministic.
pub fn build_adjacency(atoms: &[Atom], mesh: &Mesh, compounds: &[CompoundInput], barriers: &[Barrier]) -> Adjacency {
    let n = atoms.len();
    let compound_of = compound_membership(atoms, compounds);
    let barrier_tree = barrier_index(barriers);
    let mut directed: Vec<(u32, Contact)> = Vec::new();
    for (a, b) in mesh.contact_pairs() {
        if a as usize >= n || b as usize >= n {
            continue;
        }
        let (pa, pb) = (atoms[a as usize].point, atoms[b as usize].point);
        let (c0, c1) = (Coord { x: pa.x(), y: pa.y() }, Coord { x: pb.x(), y: pb.y() });
        let length_m = (c0.x - c1.x).hypot(c0.y - c1.y);
        let barrier = crossing(&barrier_tree, Line::new(c0, c1));
        let wall = compound_of[a as usize] != compound_of[b as usize];
        directed.push((a, Contact { to: AtomIx(b), length_m, barrier, wall }));
        directed.push((b, Contact { to: AtomIx(a), length_m, barrier, wall }));
    }
    directed.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.to.cmp(&y.1.to)));
    directed.dedup_by(|x, y| x.0 == y.0 && x.1.to == y.1.to);
    let mut offsets = vec![0u32; n + 1];
    for (a, _) in &directed {
        offsets[*a as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    Adjacency { offsets, contacts: directed.into_iter().map(|(_, c)| c).collect() }
}

/// Each atom's compound as a dense index (`u32::MAX` for none): its `compound` field when set (ids
/// not among `compounds` get their own indices), else the first compound outline containing its point.
fn compound_membership(atoms: &[Atom], compounds: &[CompoundInput]) -> Vec<u32> {
    let mut ids: std::collections::BTreeMap<&str, u32> =
        compounds.iter().enumerate().map(|(i, c)| (c.id.as_str(), i as u32)).collect();
    let mut next = compounds.len() as u32;
    type Env = GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, u32>;
    let boxes: Vec<Env> = compounds
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            use geo::BoundingRect;
            c.area.bounding_rect().map(|r| {
                GeomWithData::new(
                    rstar::primitives::Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i as u32,
                )
            })
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    atoms
        .iter()
        .map(|a| match &a.compound {
            Some(id) => *ids.entry(id.as_str()).or_insert_with(|| {
                next += 1;
                next - 1
            }),
            None => {
                let p = [a.point.x(), a.point.y()];
                tree.locate_all_at_point(&p)
                    .map(|r| r.data)
                    .filter(|&i| compounds[i as usize].area.contains(&a.point))
                    .min()
                    .unwrap_or(u32::MAX)
            }
        })
        .collect()
}

type Seg = GeomWithData<rstar::primitives::Line<[f64; 2]>, u32>;

/// Barrier segments in an R-tree, each with its barrier's index.
fn barrier_index(barriers: &[Barrier]) -> RTree<Seg> {
    let segs: Vec<Seg> = barriers
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            b.line.lines().map(move |l| {
                GeomWithData::new(rstar::primitives::Line::new([l.start.x, l.start.y], [l.end.x, l.end.y]), i as u32)
            })
        })
        .collect();
    RTree::bulk_load(segs)
}

/// The lowest index of a barrier whose line crosses `seg`, if any.
fn crossing(tree: &RTree<Seg>, seg: Line<f64>) -> Option<u32> {
    if tree.size() == 0 {
        return None;
    }
    let env = AABB::from_corners(
        [seg.start.x.min(seg.end.x), seg.start.y.min(seg.end.y)],
        [seg.start.x.max(seg.end.x), seg.start.y.max(seg.end.y)],
    );
    tree.locate_in_envelope_intersecting(&env)
        .filter(|s| {
            let l = s.geom();
            segments_intersect(seg, Line::new(Coord { x: l.from[0], y: l.from[1] }, Coord { x: l.to[0], y: l.to[1] }))
        })
        .map(|s| s.data)
        .min()
}

/// True when two closed segments share a point.
fn segments_intersect(a: Line<f64>, b: Line<f64>) -> bool {
    fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> f64 {
        (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x)
    }
    fn on(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> bool {
        r.x >= p.x.min(q.x) && r.x <= p.x.max(q.x) && r.y >= p.y.min(q.y) && r.y <= p.y.max(q.y)
    }
    let d1 = orient(b.start, b.end, a.start);
    let d2 = orient(b.start, b.end, a.end);
    let d3 = orient(a.start, a.end, b.start);
    let d4 = orient(a.start, a.end, b.end);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0)) && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0)) {
        return true;
    }
    (d1 == 0.0 && on(b.start, b.end, a.start))
        || (d2 == 0.0 && on(b.start, b.end, a.end))
        || (d3 == 0.0 && on(a.start, a.end, b.start))
        || (d4 == 0.0 && on(a.start, a.end, b.end))
}
