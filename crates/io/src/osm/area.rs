//! Areas from ways and multipolygon relations: resolving node locations, joining member ways into
//! rings, putting inner rings into their outers, and checking / repairing the result.

use super::model::{MemberKind, OsmData, Relation, Way};
use geo::orient::{Direction, Orient};
use geo::{
    Area, Contains, Coord, InteriorPoint, LineString, MakeValid, MultiPolygon, Polygon, RemoveRepeatedPoints,
    Validation,
};
use std::collections::HashMap;

/// Why an area could not be made.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AreaError {
    /// Nodes of the way are not in the file (cut at the extract edge).
    Cut,
    /// The way does not end where it starts.
    NotClosed,
    /// Too few distinct points or no area, or invalid beyond repair; the text says which.
    Bad(String),
}

/// A finished area and whether it had to be repaired.
#[derive(Debug, Clone)]
pub(crate) struct Area2 {
    pub area: MultiPolygon<f64>,
    pub repaired: bool,
}

/// What assembling a multipolygon (or boundary) relation gave.
#[derive(Debug, Clone, Default)]
pub(crate) struct Assembled {
    /// Polygons from the rings that closed (inner rings placed in their outers).
    pub polygons: Vec<Polygon<f64>>,
    /// Member ways not in the file.
    pub missing_ways: Vec<i64>,
    /// Member ways in the file whose nodes are not all there.
    pub cut_ways: Vec<i64>,
    /// Chains of member ways that do not close into a ring (by role).
    pub open_rings: Vec<(&'static str, Vec<i64>)>,
    /// Inner rings that lie in no outer ring (their member ways).
    pub stray_inners: Vec<Vec<i64>>,
}

/// Looks up node locations and ways by id.
pub(crate) struct Resolver<'a> {
    data: &'a OsmData,
    ways: HashMap<i64, &'a Way>,
}

impl<'a> Resolver<'a> {
    /// Indexes the ways of `data`.
    pub fn new(data: &'a OsmData) -> Self {
        Self { data, ways: data.ways.iter().map(|w| (w.id, w)).collect() }
    }

    /// The coordinates of `refs`, or `None` when any node is missing.
    pub fn coords(&self, refs: &[i64]) -> Option<Vec<Coord<f64>>> {
        refs.iter().map(|r| self.data.locations.get(r).map(|l| l.coord())).collect()
    }

    /// The maximal runs of consecutive nodes present in the file, as (node id, coordinate) lists.
    pub fn present_runs(&self, refs: &[i64]) -> Vec<Vec<(i64, Coord<f64>)>> {
        let mut runs = Vec::new();
        let mut run: Vec<(i64, Coord<f64>)> = Vec::new();
        for r in refs {
            match self.data.locations.get(r) {
                Some(l) => run.push((*r, l.coord())),
                None => {
                    if !run.is_empty() {
                        runs.push(std::mem::take(&mut run));
                    }
                }
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        runs
    }

    /// True when the way ends at the node it starts from.
    pub fn is_closed(way: &Way) -> bool {
        way.refs.len() >= 2 && way.refs.first() == way.refs.last()
    }

    /// The area of a closed way.
    pub fn way_area(&self, way: &Way) -> Result<Area2, AreaError> {
        if !Self::is_closed(way) {
            return Err(AreaError::NotClosed);
        }
        let coords = self.coords(&way.refs).ok_or(AreaError::Cut)?;
        finish(vec![Polygon::new(LineString::from(coords), vec![])]).map_err(AreaError::Bad)
    }

    /// Joins the member ways of a relation into rings and polygons.
    pub fn assemble(&self, rel: &Relation) -> Assembled {
        let mut out = Assembled::default();
        let mut outer: Vec<(i64, &[i64])> = Vec::new();
        let mut inner: Vec<(i64, &[i64])> = Vec::new();
        for m in rel.members.iter().filter(|m| m.kind == MemberKind::Way) {
            let is_inner = m.role == "inner";
            if !(is_inner || m.role == "outer" || m.role.is_empty()) {
                continue;
            }
            let Some(way) = self.ways.get(&m.id) else {
                out.missing_ways.push(m.id);
                continue;
            };
            if way.refs.len() < 2 {
                continue;
            }
            if self.coords(&way.refs).is_none() {
                out.cut_ways.push(m.id);
                continue;
            }
            if is_inner { inner.push((m.id, &way.refs)) } else { outer.push((m.id, &way.refs)) }
        }
        let (outer_rings, open) = join(&outer);
        out.open_rings.extend(open.into_iter().map(|w| ("outer", w)));
        let (inner_rings, open) = join(&inner);
        out.open_rings.extend(open.into_iter().map(|w| ("inner", w)));
        let ring = |nodes: &[i64]| LineString::from(self.coords(nodes).unwrap_or_default());
        let mut polygons: Vec<Polygon<f64>> =
            outer_rings.iter().map(|(nodes, _)| Polygon::new(ring(nodes), vec![])).collect();
        let areas: Vec<f64> = polygons.iter().map(|p| p.unsigned_area()).collect();
        for (nodes, ways) in &inner_rings {
            let hole = ring(nodes);
            let probe = Polygon::new(hole.clone(), vec![]).interior_point();
            let best = probe.and_then(|pt| {
                (0..polygons.len())
                    .filter(|&i| polygons[i].contains(&pt))
                    .min_by(|&a, &b| areas[a].total_cmp(&areas[b]))
            });
            match best {
                Some(i) => polygons[i].interiors_push(hole),
                None => out.stray_inners.push(ways.clone()),
            }
        }
        out.polygons = polygons;
        out
    }
}

/// A closed ring: its node ids and the member ways it was joined from.
type Ring = (Vec<i64>, Vec<i64>);

/// Joins way node lists end to end into closed rings. Returns the rings and the chains that could
/// not be closed (their way ids).
fn join(segments: &[(i64, &[i64])]) -> (Vec<Ring>, Vec<Vec<i64>>) {
    let mut unused: Vec<bool> = vec![true; segments.len()];
    let mut rings = Vec::new();
    let mut open = Vec::new();
    for i in 0..segments.len() {
        if !unused[i] {
            continue;
        }
        unused[i] = false;
        let mut nodes: Vec<i64> = segments[i].1.to_vec();
        let mut ways = vec![segments[i].0];
        loop {
            if nodes.len() >= 4 && nodes.first() == nodes.last() {
                rings.push((nodes, ways));
                break;
            }
            let end = nodes.last().copied();
            let next = (0..segments.len()).find(|&j| {
                unused[j] && (segments[j].1.first().copied() == end || segments[j].1.last().copied() == end)
            });
            let Some(j) = next else {
                open.push(ways);
                break;
            };
            unused[j] = false;
            ways.push(segments[j].0);
            let seg = segments[j].1;
            if seg.first().copied() == end {
                nodes.extend_from_slice(&seg[1..]);
            } else {
                nodes.extend(seg.iter().rev().skip(1));
            }
        }
    }
    (rings, open)
}

/// The number of distinct coordinates of a closed ring.
fn distinct(ring: &LineString<f64>) -> usize {
    let mut pts: Vec<(u64, u64)> = ring.0.iter().map(|c| (c.x.to_bits(), c.y.to_bits())).collect();
    pts.sort_unstable();
    pts.dedup();
    pts.len()
}

/// Checks polygons and repairs them when they are invalid: drops repeated points, rejects
/// degenerate shapes (fewer than 3 distinct points, zero area), repairs self-intersections.
pub(crate) fn finish(polygons: Vec<Polygon<f64>>) -> Result<Area2, String> {
    let mut kept = Vec::new();
    for p in polygons {
        let p = p.remove_repeated_points();
        if distinct(p.exterior()) < 3 {
            continue;
        }
        let (ext, ints) = p.into_inner();
        let ints: Vec<LineString<f64>> = ints.into_iter().filter(|r| distinct(r) >= 3).collect();
        kept.push(Polygon::new(ext, ints));
    }
    if kept.is_empty() {
        return Err("degenerate: fewer than 3 distinct points".into());
    }
    let mp = MultiPolygon(kept);
    if mp.is_valid() {
        if mp.unsigned_area() <= 0.0 {
            return Err("degenerate: zero area".into());
        }
        return Ok(Area2 { area: mp, repaired: false });
    }
    // A bow-tie's signed lobes cancel, so its area is only meaningful after the repair.
    match mp.make_valid() {
        Ok(fixed) if !fixed.0.is_empty() && fixed.unsigned_area() > 0.0 => {
            Ok(Area2 { area: canonical(fixed), repaired: true })
        }
        Ok(_) => Err("degenerate: zero area (nothing left after repair)".into()),
        Err(e) => Err(format!("invalid and cannot be repaired: {e}")),
    }
}

/// Rotates a closed ring to start at its smallest vertex (by x, then y).
fn rotate_ring(ring: &LineString<f64>) -> LineString<f64> {
    let open = &ring.0[..ring.0.len().saturating_sub(1)];
    let Some(start) = (0..open.len()).min_by(|&a, &b| {
        (open[a].x, open[a].y).partial_cmp(&(open[b].x, open[b].y)).unwrap_or(std::cmp::Ordering::Equal)
    }) else {
        return ring.clone();
    };
    let mut coords: Vec<Coord<f64>> = open[start..].iter().chain(&open[..start]).copied().collect();
    coords.push(coords[0]);
    LineString::from(coords)
}

/// A repaired shape in one canonical form (the repair's output order is not stable between runs):
/// exteriors counter-clockwise, holes clockwise, each ring from its smallest vertex, sorted.
fn canonical(mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    let key = |r: &LineString<f64>| r.0.first().map(|c| (c.x, c.y)).unwrap_or((0.0, 0.0));
    let by_key =
        |a: &LineString<f64>, b: &LineString<f64>| key(a).partial_cmp(&key(b)).unwrap_or(std::cmp::Ordering::Equal);
    let mut polys: Vec<Polygon<f64>> = mp
        .orient(Direction::Default)
        .0
        .into_iter()
        .map(|p| {
            let mut holes: Vec<LineString<f64>> = p.interiors().iter().map(rotate_ring).collect();
            holes.sort_by(by_key);
            Polygon::new(rotate_ring(p.exterior()), holes)
        })
        .collect();
    polys.sort_by(|a, b| by_key(a.exterior(), b.exterior()));
    MultiPolygon(polys)
}
