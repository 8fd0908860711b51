//! Grid polygons tile the region: checked on the output polygons only (areas, pairwise overlaps,
//! containment of every building point, one non-empty polygon per grid).

use std::time::Instant;

use geo::{Area, BooleanOps, BoundingRect, Contains, Intersects, LineString, MultiPolygon, Point, Polygon, Rect};
use wangge_partition::mesh::Mesh;
use wangge_partition::tessellate::tessellate;
use wangge_partition::{Adjacency, Atom, AtomId, Community, GridIx, Plan, Problem};

fn square(x: f64, y: f64, half: f64) -> Polygon<f64> {
    Polygon::new(
        LineString::from(vec![
            (x - half, y - half),
            (x + half, y - half),
            (x + half, y + half),
            (x - half, y + half),
            (x - half, y - half),
        ]),
        vec![],
    )
}

/// A problem of buildings (10 × 10 m footprints around the given points) with its mesh, without
/// adjacency (the tessellation does not use it).
fn problem(points: &[(f64, f64)], boundary: Option<Polygon<f64>>) -> Problem {
    let mut atoms = points
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| Atom {
            id: AtomId { building: format!("b{i:05}"), unit: None },
            households: 50,
            point: Point::new(x, y),
            footprint: Some(MultiPolygon::new(vec![square(x, y, 5.0)])),
            compound: None,
        })
        .collect::<Vec<_>>();
    let n = points.len();
    let mesh = Mesh::build(boundary.as_ref(), &mut atoms).expect("mesh");
    Problem {
        community: Community {
            id: "c".into(),
            name: "c".into(),
            code: None,
            boundary,
            buildings: vec![],
            compounds: vec![],
            barriers: vec![],
        },
        atoms,
        adjacency: Adjacency { offsets: vec![0; n + 1], contacts: vec![] },
        mesh,
        floor_splits: vec![],
    }
}

fn plan(grid_of: Vec<u32>) -> Plan {
    let grids = grid_of.iter().max().map_or(0, |m| m + 1);
    Plan { grid_of: grid_of.into_iter().map(GridIx).collect(), grid_ids: (0..grids).map(|g| format!("g{g}")).collect() }
}

/// Checks the tiling properties; `region_area` is the boundary's area when there is one.
fn check(problem: &Problem, plan: &Plan, polys: &[Polygon<f64>], region_area: Option<f64>) {
    assert_eq!(polys.len(), plan.grids());
    for (g, p) in polys.iter().enumerate() {
        assert!(p.unsigned_area() > 1.0, "grid {g} has no area");
    }
    // Each building point lies in its grid's polygon and in no other (away from borders).
    for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
        assert!(polys[g.0 as usize].intersects(&a.point), "{} not in its grid {}", a.id.building, g.0);
        for (h, p) in polys.iter().enumerate() {
            if h != g.0 as usize {
                assert!(!p.contains(&a.point), "{} (grid {}) also inside grid {h}", a.id.building, g.0);
            }
        }
    }
    // Pairwise overlaps, total under 1 m².
    let rects: Vec<Option<Rect<f64>>> = polys.iter().map(|p| p.bounding_rect()).collect();
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
    assert!(overlap < 1.0, "overlaps total {overlap} m²");
    if let Some(area) = region_area {
        let sum: f64 = polys.iter().map(|p| p.unsigned_area()).sum();
        assert!((sum - area).abs() < 1.0, "grids cover {sum} m², region {area} m²");
        if let Some(b) = &problem.community.boundary {
            let inside: f64 = polys.iter().map(|p| p.intersection(b).unsigned_area()).sum();
            assert!((inside - area).abs() < 1.0, "grids reach outside the boundary: {inside} of {sum} inside");
        }
    }
}

#[test]
fn four_by_four_block_in_two_grids() {
    let pts: Vec<(f64, f64)> = (0..16).map(|i| ((i % 4) as f64 * 40.0, (i / 4) as f64 * 40.0)).collect();
    let grid_of = pts.iter().map(|p| u32::from(p.0 > 50.0)).collect();
    let b = square(60.0, 60.0, 90.0);
    let p = problem(&pts, Some(b.clone()));
    let pl = plan(grid_of);
    let polys = tessellate(&p, &pl).expect("tessellates");
    check(&p, &pl, &polys, Some(b.unsigned_area()));
    // Symmetric layout: the border runs near x = 60, so each grid holds about half the square.
    for poly in &polys {
        let share = poly.unsigned_area() / b.unsigned_area();
        assert!((0.4..0.6).contains(&share), "share {share}");
        assert!(poly.interiors().is_empty());
    }
}

#[test]
fn l_shaped_boundary() {
    // L: the square 0..200 × 0..200 minus the upper-right quarter 100..200 × 100..200.
    let l = Polygon::new(
        LineString::from(vec![
            (0.0, 0.0),
            (200.0, 0.0),
            (200.0, 100.0),
            (100.0, 100.0),
            (100.0, 200.0),
            (0.0, 200.0),
            (0.0, 0.0),
        ]),
        vec![],
    );
    let mut pts = Vec::new();
    for i in 0..5 {
        for j in 0..5 {
            let (x, y) = (20.0 + i as f64 * 40.0, 20.0 + j as f64 * 40.0);
            if x < 100.0 || y < 100.0 {
                pts.push((x, y));
            }
        }
    }
    // Three grids: the vertical arm's top, the corner, the horizontal arm's end.
    let grid_of = pts
        .iter()
        .map(|&(x, y)| {
            if y > 100.0 {
                0
            } else if x > 100.0 {
                2
            } else {
                1
            }
        })
        .collect();
    let p = problem(&pts, Some(l.clone()));
    let pl = plan(grid_of);
    let polys = tessellate(&p, &pl).expect("tessellates");
    check(&p, &pl, &polys, Some(30_000.0));
}

#[test]
fn concave_boundary_does_not_cut_a_grid() {
    // A U (cup) open to the north: arms 0..60 and 140..200 wide, 0..200 high, joined by 0..60 at the
    // bottom. Grid 0 = the left arm and the bottom; grid 1 = the right arm. The convex hull spans the
    // notch; the part of grid 0's area there must be dropped without leaving grid 0 in pieces.
    let u = Polygon::new(
        LineString::from(vec![
            (0.0, 0.0),
            (200.0, 0.0),
            (200.0, 200.0),
            (140.0, 200.0),
            (140.0, 60.0),
            (60.0, 60.0),
            (60.0, 200.0),
            (0.0, 200.0),
            (0.0, 0.0),
        ]),
        vec![],
    );
    let mut pts = Vec::new();
    for j in 0..5 {
        pts.push((30.0, 20.0 + j as f64 * 40.0));
        pts.push((170.0, 20.0 + j as f64 * 40.0));
    }
    pts.push((80.0, 30.0));
    pts.push((120.0, 30.0));
    let grid_of = pts.iter().map(|&(x, y)| u32::from(x > 100.0 && (y > 50.0 || x > 150.0))).collect();
    let p = problem(&pts, Some(u.clone()));
    let pl = plan(grid_of);
    let polys = tessellate(&p, &pl).expect("tessellates");
    check(&p, &pl, &polys, Some(u.unsigned_area()));
}

#[test]
fn without_boundary_the_buffered_area_is_tiled() {
    // Two clusters 150 m apart: the area is closed across the gap so each grid stays one polygon.
    let mut pts = Vec::new();
    for i in 0..4 {
        for j in 0..3 {
            pts.push((i as f64 * 30.0, j as f64 * 30.0));
            pts.push((240.0 + i as f64 * 30.0, j as f64 * 30.0));
        }
    }
    // Grid 0 = the western cluster and the first column of the eastern one (joined across the gap),
    // grid 1 = the rest of the eastern cluster.
    let grid_of = pts.iter().map(|&(x, _)| u32::from(x > 250.0)).collect();
    let p = problem(&pts, None);
    let pl = plan(grid_of);
    let polys = tessellate(&p, &pl).expect("tessellates");
    check(&p, &pl, &polys, None);
    // Everything within 25 m of a building point is covered by exactly one grid.
    let whole: MultiPolygon<f64> = polys.iter().fold(MultiPolygon::new(vec![]), |acc, p| acc.union(p));
    for a in &p.atoms {
        for (dx, dy) in [(25.0, 0.0), (-25.0, 0.0), (0.0, 25.0), (0.0, -25.0)] {
            let q = Point::new(a.point.x() + dx, a.point.y() + dy);
            assert!(whole.intersects(&q), "{q:?} (near {}) is in no grid", a.id.building);
        }
    }
    let sum: f64 = polys.iter().map(|p| p.unsigned_area()).sum();
    assert!((sum - whole.unsigned_area()).abs() < 1.0);
}

/// A jittered lattice of `n` buildings 25 m apart, with grids as vertical bands of ~`per` buildings
/// (bands are contiguous). Deterministic pseudo-random jitter.
fn synthetic(n: usize, per: usize) -> (Problem, Plan) {
    let side = (n as f64).sqrt().ceil() as usize;
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 1000) as f64 / 1000.0
    };
    let pts: Vec<(f64, f64)> =
        (0..n).map(|i| ((i % side) as f64 * 25.0 + rnd() * 8.0, (i / side) as f64 * 25.0 + rnd() * 8.0)).collect();
    let bands = n.div_ceil(per).max(1);
    // Bands by column (x order), each ~side/bands columns... simplest: sort by x and cut.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| pts[a].0.total_cmp(&pts[b].0));
    let mut grid_of = vec![0u32; n];
    for (k, &i) in order.iter().enumerate() {
        grid_of[i] = (k * bands / n) as u32;
    }
    let extent = side as f64 * 25.0;
    let boundary = Polygon::new(
        LineString::from(vec![
            (-20.0, -20.0),
            (extent + 10.0, -20.0),
            (extent + 10.0, extent + 10.0),
            (-20.0, extent + 10.0),
            (-20.0, -20.0),
        ]),
        vec![],
    );
    (problem(&pts, Some(boundary)), plan(grid_of))
}

#[test]
fn synthetic_three_thousand_buildings() {
    let (p, pl) = synthetic(3000, 150);
    let polys = tessellate(&p, &pl).expect("tessellates");
    let area = p.community.boundary.as_ref().map(|b| b.unsigned_area());
    check(&p, &pl, &polys, area);
}

/// Timing in release: `cargo test -p wangge-partition --release --test tessellate -- --ignored --nocapture`.
/// Grids are 3 × 3 blocks of the lattice (contiguous: the tessellation refuses a grid in pieces).
#[test]
#[ignore]
fn timing() {
    for n in [20_000usize, 100_000] {
        let (p, _) = synthetic(n, 8);
        let side = (n as f64).sqrt().ceil() as usize;
        let blocks_per_row = side.div_ceil(3);
        let grid_of: Vec<u32> = (0..n).map(|i| ((i / side / 3) * blocks_per_row + (i % side) / 3) as u32).collect();
        let pl = plan(grid_of);
        let t = Instant::now();
        let polys = tessellate(&p, &pl).expect("tessellates");
        println!("tessellate {n} buildings, {} grids: {:.3} s", polys.len(), t.elapsed().as_secs_f64());
    }
}

/// End to end with the real pipeline: atoms and adjacency from `prepare`, the plan from
/// `districting::partition`, then polygons. Checks the tiling properties on 2,000 buildings.
#[test]
fn with_the_partition_engine() {
    use wangge_partition::districting::{Options, partition};
    use wangge_partition::{BuildingInput, Quota, atoms::prepare};
    let (p, _) = synthetic(2000, 8);
    let mut community = p.community.clone();
    community.buildings = p
        .atoms
        .iter()
        .enumerate()
        .map(|(i, a)| BuildingInput {
            id: a.id.building.clone(),
            households: 30 + (i % 5) as u32 * 10,
            units: vec![],
            point: a.point,
            footprint: a.footprint.clone(),
            compound: None,
        })
        .collect();
    let quota = Quota::new(300, 500, None).expect("quota");
    let problem = prepare(community, &quota).expect("prepares");
    let outcome = partition(&problem, &Options { quota, seed: 1 }, None);
    let polys = tessellate(&problem, &outcome.plan).expect("tessellates");
    let area = problem.community.boundary.as_ref().map(|b| b.unsigned_area());
    check(&problem, &outcome.plan, &polys, area);
}
