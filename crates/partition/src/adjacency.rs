//! Which atoms touch: a Delaunay triangulation of the atoms' points (atoms of one building share
//! the point and are all mutually adjacent), each contact flagged when it crosses a barrier line
//! or a compound wall. Long edges are kept (contiguity must stay possible across open space) and
//! carry their length.

use geo::{Contains, Coord, Line};
use rstar::{AABB, RTree, primitives::GeomWithData};
use spade::{DelaunayTriangulation, HasPosition, Point2, Triangulation};

use crate::types::{Adjacency, Atom, AtomIx, Barrier, CompoundInput, Contact};

/// A distinct point of the triangulation and the atoms at it.
struct Site {
    x: f64,
    y: f64,
    group: u32,
}

impl HasPosition for Site {
    type Scalar = f64;
    fn position(&self) -> Point2<f64> {
        Point2::new(self.x, self.y)
    }
}

/// Symmetric CSR adjacency from a Delaunay triangulation of the atoms' points.
///
/// Atoms at the same point (the units of one building) are all mutually adjacent, with no barrier
/// or wall. A contact carries `barrier = Some(i)` when its segment crosses `barriers[i]` (the
/// lowest such index), and `wall` when its endpoints lie in different compounds, or one in a
/// compound and the other not (an atom's compound is its `compound` field, or else the first
/// compound outline containing its point). Contacts of each atom are sorted by the other atom.
/// Atoms with non-finite points have no contacts except their building's. Deterministic.
pub fn build_adjacency(atoms: &[Atom], compounds: &[CompoundInput], barriers: &[Barrier]) -> Adjacency {
    let n = atoms.len();
    // Group atoms by exact point.
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by(|&a, &b| {
        let pa = atoms[a as usize].point;
        let pb = atoms[b as usize].point;
        pa.x().total_cmp(&pb.x()).then(pa.y().total_cmp(&pb.y())).then(a.cmp(&b))
    });
    let mut group_start: Vec<u32> = Vec::new(); // into `order`
    for (i, &a) in order.iter().enumerate() {
        let new = match i {
            0 => true,
            _ => atoms[order[i - 1] as usize].point != atoms[a as usize].point,
        };
        if new {
            group_start.push(i as u32);
        }
    }
    group_start.push(n as u32);
    let groups = group_start.len() - 1;
    let members = |g: usize| &order[group_start[g] as usize..group_start[g + 1] as usize];

    let compound_of = compound_membership(atoms, compounds);

    // Undirected atom pairs with flags.
    let mut pairs: Vec<(u32, u32, f64, Option<u32>, bool)> = Vec::new();
    for g in 0..groups {
        let m = members(g);
        for (i, &a) in m.iter().enumerate() {
            for &b in &m[i + 1..] {
                let wall = compound_of[a as usize] != compound_of[b as usize];
                pairs.push((a.min(b), a.max(b), 0.0, None, wall));
            }
        }
    }
    let sites: Vec<Site> = (0..groups)
        .filter_map(|g| {
            let p = atoms[members(g)[0] as usize].point;
            (p.x().is_finite() && p.y().is_finite()).then_some(Site { x: p.x(), y: p.y(), group: g as u32 })
        })
        .collect();
    let barrier_tree = barrier_index(barriers);
    let dt = if sites.len() >= 2 { DelaunayTriangulation::<Site>::bulk_load(sites).ok() } else { None };
    {
        if let Some(dt) = dt {
            for e in dt.undirected_edges() {
                let [v0, v1] = e.vertices();
                let (s0, s1) = (v0.data(), v1.data());
                let c0 = Coord { x: s0.x, y: s0.y };
                let c1 = Coord { x: s1.x, y: s1.y };
                let length = ((c0.x - c1.x).powi(2) + (c0.y - c1.y).powi(2)).sqrt();
                let barrier = crossing(&barrier_tree, Line::new(c0, c1));
                for &a in members(s0.group as usize) {
                    for &b in members(s1.group as usize) {
                        let wall = compound_of[a as usize] != compound_of[b as usize];
                        pairs.push((a.min(b), a.max(b), length, barrier, wall));
                    }
                }
            }
        }
    }
    // Both directions, sorted, CSR.
    let mut directed: Vec<(u32, Contact)> = Vec::with_capacity(pairs.len() * 2);
    for (a, b, length_m, barrier, wall) in pairs {
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
