//! The shared mesh: adjacency follows what the grid polygons can do. Checked on outputs (adjacency
//! contacts, polygons): a pair adjacent only as points but separated by a third building's footprint
//! is not adjacent; a split building's units in different grids each get a non-empty polygon holding
//! their point; plans from the engine tile the community on Beijing- and Helsinki-like layouts.

use geo::{Area, BooleanOps, BoundingRect, Contains, Intersects, LineString, MultiPolygon, Point, Polygon, coord};
use wangge_partition::atoms::prepare;
use wangge_partition::districting::{Options, partition};
use wangge_partition::tessellate::tessellate;
use wangge_partition::{AtomIx, Barrier, BuildingInput, Community, GridIx, Plan, Problem, Quota};

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    Polygon::new(LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]), vec![])
}

/// A rotated rectangle `w × h` centred on (x, y), angle in radians.
fn rotated(x: f64, y: f64, w: f64, h: f64, angle: f64) -> Polygon<f64> {
    let (c, s) = (angle.cos(), angle.sin());
    let corner = |dx: f64, dy: f64| (x + dx * c - dy * s, y + dx * s + dy * c);
    let (a, b) = (w / 2.0, h / 2.0);
    Polygon::new(
        LineString::from(vec![corner(-a, -b), corner(a, -b), corner(a, b), corner(-a, b), corner(-a, -b)]),
        vec![],
    )
}

fn building(id: &str, fp: Polygon<f64>, households: u32, units: Vec<(&str, u32)>) -> BuildingInput {
    let point = geo::InteriorPoint::interior_point(&fp).expect("interior point");
    BuildingInput {
        id: id.into(),
        households,
        units: units.into_iter().map(|(n, h)| (n.to_string(), h)).collect(),
        point,
        footprint: Some(MultiPolygon::new(vec![fp])),
        compound: None,
    }
}

fn community(buildings: Vec<BuildingInput>, boundary: Option<Polygon<f64>>, barriers: Vec<Barrier>) -> Community {
    Community { id: "c".into(), name: "c".into(), code: None, boundary, buildings, compounds: vec![], barriers }
}

fn touches(p: &Problem, a: usize, b: usize) -> bool {
    p.adjacency.of(AtomIx(a as u32)).iter().any(|c| c.to.0 as usize == b)
}

fn ix(p: &Problem, building: &str, unit: Option<&str>) -> usize {
    p.atoms.iter().position(|a| a.id.building == building && a.id.unit.as_deref() == unit).expect("atom")
}

/// Tiling on the outputs: one non-empty polygon per grid, areas adding up to `region` (when given)
/// within 1 m², overlaps under 1 m², every atom's point inside its grid's polygon (and inside no
/// other). Returns the total area.
fn check_tiling(p: &Problem, plan: &Plan, polys: &[Polygon<f64>], region: Option<f64>) -> f64 {
    assert_eq!(polys.len(), plan.grids());
    for (g, poly) in polys.iter().enumerate() {
        assert!(poly.unsigned_area() > 1.0, "grid {} has no area", plan.grid_ids[g]);
    }
    for (a, g) in p.atoms.iter().zip(&plan.grid_of) {
        assert!(polys[g.0 as usize].intersects(&a.point), "{:?} not in its grid {}", a.id, plan.grid_ids[g.0 as usize]);
        for (h, poly) in polys.iter().enumerate() {
            if h != g.0 as usize {
                assert!(!poly.contains(&a.point), "{:?} also inside grid {h}", a.id);
            }
        }
    }
    let rects: Vec<_> = polys.iter().map(|p| p.bounding_rect()).collect();
    let mut overlap = 0.0;
    for i in 0..polys.len() {
        for j in i + 1..polys.len() {
            if let (Some(a), Some(b)) = (rects[i], rects[j])
                && a.intersects(&b)
            {
                overlap += polys[i].intersection(&polys[j]).unsigned_area();
            }
        }
    }
    assert!(overlap < 1.0, "overlaps {overlap} m²");
    let sum: f64 = polys.iter().map(|p| p.unsigned_area()).sum();
    if let Some(area) = region {
        assert!((sum - area).abs() < 1.0, "grids cover {sum} m² of {area} m²");
    }
    sum
}

/// The regression: A and B are neighbours as points (three points: every pair is a Delaunay edge),
/// but the long building C stands between them. The adjacency must not join A and B, and a plan
/// grouping A with B is refused by the tessellation, never cut silently.
#[test]
fn a_footprint_between_two_buildings_separates_them() {
    let bs = vec![
        building("A", rect(-6.0, -5.0, 6.0, 5.0), 100, vec![]),
        building("B", rect(34.0, -5.0, 46.0, 5.0), 100, vec![]),
        building("C", rect(16.0, -90.0, 24.0, 90.0), 100, vec![]),
    ];
    let boundary = rect(-60.0, -100.0, 100.0, 100.0);
    let q = Quota::new(100, 250, None).expect("quota");
    let p = prepare(community(bs, Some(boundary.clone()), vec![]), &q).expect("prepare");
    let (a, b, c) = (ix(&p, "A", None), ix(&p, "B", None), ix(&p, "C", None));
    assert!(!touches(&p, a, b), "A and B are separated by C's footprint");
    assert!(touches(&p, a, c) && touches(&p, b, c));
    // Grouping A with B: refused with an error naming the grid.
    let mut grid_of = vec![GridIx(0); 3];
    grid_of[c] = GridIx(1);
    let bad = Plan { grid_of, grid_ids: vec!["AB".into(), "C".into()] };
    let e = tessellate(&p, &bad).expect_err("A+B is not one piece");
    assert!(e.to_string().contains("AB"), "{e}");
    // A with C, B alone: one polygon each, tiling the boundary.
    let mut grid_of = vec![GridIx(0); 3];
    grid_of[b] = GridIx(1);
    let good = Plan { grid_of, grid_ids: vec!["AC".into(), "B".into()] };
    let polys = tessellate(&p, &good).expect("tessellates");
    check_tiling(&p, &good, &polys, Some(boundary.unsigned_area()));
    // And the engine's own plan tiles.
    let out = partition(&p, &Options { quota: q, seed: 1 }, None);
    let polys = tessellate(&p, &out.plan).expect("tessellates");
    check_tiling(&p, &out.plan, &polys, Some(boundary.unsigned_area()));
}

/// A building split by units, its units in different grids: each grid gets a non-empty polygon
/// holding its unit's point (the unit's slice of the footprint).
#[test]
fn split_units_in_different_grids_each_get_a_polygon() {
    let bs = vec![
        building("W", rect(-40.0, -6.0, -20.0, 6.0), 200, vec![]),
        building("BIG", rotated(20.0, 0.0, 60.0, 12.0, 0.3), 900, vec![("1", 300), ("2", 300), ("3", 300)]),
        building("E", rect(60.0, -6.0, 80.0, 6.0), 200, vec![]),
    ];
    let boundary = rect(-80.0, -60.0, 120.0, 60.0);
    let q = Quota::new(300, 500, None).expect("quota");
    let p = prepare(community(bs, Some(boundary.clone()), vec![]), &q).expect("prepare");
    let units: Vec<usize> = ["1", "2", "3"].iter().map(|u| ix(&p, "BIG", Some(u))).collect();
    // Each unit has its own point inside the footprint, the three along the long axis, touching in order.
    let fp = rotated(20.0, 0.0, 60.0, 12.0, 0.3);
    for &u in &units {
        assert!(fp.contains(&p.atoms[u].point), "{:?}", p.atoms[u].point);
    }
    assert!(touches(&p, units[0], units[1]) && touches(&p, units[1], units[2]));
    let (w, e) = (ix(&p, "W", None), ix(&p, "E", None));
    // Whichever end unit is next to W goes with W; the other end with E; the middle alone.
    let d = |a: usize, b: usize| {
        (p.atoms[a].point.x() - p.atoms[b].point.x()).hypot(p.atoms[a].point.y() - p.atoms[b].point.y())
    };
    let (west, east) = if d(units[0], w) < d(units[2], w) { (units[0], units[2]) } else { (units[2], units[0]) };
    let mut grid_of = vec![GridIx(1); p.atoms.len()];
    grid_of[w] = GridIx(0);
    grid_of[west] = GridIx(0);
    grid_of[e] = GridIx(2);
    grid_of[east] = GridIx(2);
    let plan = Plan { grid_of, grid_ids: vec!["g0".into(), "g1".into(), "g2".into()] };
    let polys = tessellate(&p, &plan).expect("tessellates");
    check_tiling(&p, &plan, &polys, Some(boundary.unsigned_area()));
    // A grid holding only the middle unit.
    assert!(polys[1].unsigned_area() > 10.0);
    // Without a footprint the units still get regions of their own.
    let mut bare = building("BARE", rect(0.0, 0.0, 10.0, 10.0), 900, vec![("a", 450), ("b", 450)]);
    bare.footprint = None;
    let p = prepare(community(vec![bare], Some(rect(-50.0, -50.0, 60.0, 60.0)), vec![]), &q).expect("prepare");
    let plan = Plan { grid_of: vec![GridIx(0), GridIx(1)], grid_ids: vec!["a".into(), "b".into()] };
    let polys = tessellate(&p, &plan).expect("tessellates");
    check_tiling(&p, &plan, &polys, Some(110.0 * 110.0));
}

/// Deterministic pseudo-random numbers in [0, 1).
fn rng(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Beijing-like: slab blocks (long, thin, rotated footprints, 60–300 households, some split into
/// units) packed in a boundary, a river across the middle as a barrier; and towers next to slabs.
#[test]
fn beijing_like_blocks_tile_the_boundary() {
    let mut r = rng(11);
    let mut bs = Vec::new();
    for i in 0..14 {
        for j in 0..12 {
            let (x, y) = (i as f64 * 45.0 + r() * 6.0, j as f64 * 38.0 + r() * 6.0);
            let angle = 0.15 * (r() - 0.5);
            let id = format!("b{i:02}{j:02}");
            let (fp, hh) = if (i + j) % 5 == 0 {
                (rotated(x, y, 16.0, 16.0, angle), 80 + (r() * 60.0) as u32)
            } else {
                (rotated(x, y, 36.0 + r() * 8.0, 11.0, angle), 60 + (r() * 240.0) as u32)
            };
            if (i * 7 + j) % 23 == 0 {
                bs.push(building(&id, fp, 640, vec![("1", 220), ("2", 210), ("3", 210)]));
            } else {
                bs.push(building(&id, fp, hh, vec![]));
            }
        }
    }
    let boundary = rect(-40.0, -40.0, 650.0, 460.0);
    let river = Barrier {
        id: "river".into(),
        kind: "river".into(),
        name: Some("小月河".into()),
        line: LineString::from(vec![
            coord! { x: -40.0, y: 205.0 },
            coord! { x: 300.0, y: 215.0 },
            coord! { x: 650.0, y: 200.0 },
        ]),
    };
    let q = Quota::new(300, 500, None).expect("quota");
    let p = prepare(community(bs, Some(boundary.clone()), vec![river]), &q).expect("prepare");
    let out = partition(&p, &Options { quota: q, seed: 1 }, None);
    let polys = tessellate(&p, &out.plan).expect("tessellates");
    check_tiling(&p, &out.plan, &polys, Some(boundary.unsigned_area()));
}

/// Helsinki-like: no boundary; clusters of buildings far apart, some buildings long enough to stand
/// between neighbours; the buffered area is tiled (its union equals the sum of the grids).
#[test]
fn helsinki_like_clusters_tile_the_buffered_area() {
    let mut r = rng(5);
    let mut bs = Vec::new();
    let centres = [(0.0, 0.0), (420.0, 60.0), (180.0, 520.0), (700.0, 480.0)];
    for (k, &(cx, cy)) in centres.iter().enumerate() {
        for i in 0..9 {
            for j in 0..8 {
                let (x, y) = (cx + i as f64 * 30.0 + r() * 8.0, cy + j as f64 * 28.0 + r() * 8.0);
                let fp =
                    if (i + j) % 4 == 0 { rotated(x, y, 26.0, 9.0, 1.2 * r()) } else { rotated(x, y, 12.0, 10.0, r()) };
                bs.push(building(&format!("h{k}{i}{j}"), fp, 20 + (r() * 100.0) as u32, vec![]));
            }
        }
    }
    let q = Quota::new(300, 500, None).expect("quota");
    let p = prepare(community(bs, None, vec![]), &q).expect("prepare");
    let out = partition(&p, &Options { quota: q, seed: 3 }, None);
    let polys = tessellate(&p, &out.plan).expect("tessellates");
    let sum = check_tiling(&p, &out.plan, &polys, None);
    let whole: MultiPolygon<f64> = polys.iter().fold(MultiPolygon::new(vec![]), |acc, p| acc.union(p));
    assert!((sum - whole.unsigned_area()).abs() < 1.0, "{sum} vs union {}", whole.unsigned_area());
    for a in &p.atoms {
        assert!(whole.contains(&Point::new(a.point.x() + 20.0, a.point.y())) || whole.intersects(&a.point));
    }
}
