//! Adjacency: symmetric, connected, units of one building mutually adjacent, barriers and walls flagged.

use std::collections::VecDeque;

use geo::{LineString, MultiPolygon, Point, Polygon, coord};
use wangge_partition::adjacency::build_adjacency;
use wangge_partition::atoms::build_atoms;
use wangge_partition::mesh::Mesh;
use wangge_partition::{AtomIx, Barrier, BuildingInput, CompoundInput, Quota};

fn b(id: &str, x: f64, y: f64, h: u32, compound: Option<&str>) -> BuildingInput {
    BuildingInput {
        id: id.into(),
        households: h,
        units: vec![],
        point: Point::new(x, y),
        footprint: None,
        compound: compound.map(Into::into),
    }
}

fn ix(atoms: &[wangge_partition::Atom], building: &str) -> usize {
    atoms.iter().position(|a| a.id.building == building).expect("atom")
}

#[test]
fn symmetric_connected_and_flagged() {
    let q = Quota::new(300, 500, None).expect("quota");
    let mut bs = Vec::new();
    for i in 0..6 {
        for j in 0..4 {
            let compound = (i >= 4).then_some("Q");
            bs.push(b(&format!("B{i}{j}"), i as f64 * 10.0, j as f64 * 10.0, 20, compound));
        }
    }
    let mut big = b("BIG", 25.0, 50.0, 900, None);
    big.units = vec![("1".into(), 450), ("2".into(), 450)];
    bs.push(big);
    let (mut atoms, _) = build_atoms(&bs, &q).expect("atoms");
    let mesh = Mesh::build(None, &mut atoms).expect("mesh");
    // A road between columns 1 and 2 (x = 15); the compound Q covers columns 4 and 5.
    let road = Barrier {
        id: "r".into(),
        kind: "primary".into(),
        name: Some("长江路".into()),
        line: LineString::from(vec![coord! { x: 15.0, y: -5.0 }, coord! { x: 15.0, y: 35.0 }]),
    };
    let area = MultiPolygon(vec![Polygon::new(
        LineString::from(vec![(35.0, -5.0), (55.0, -5.0), (55.0, 35.0), (35.0, 35.0), (35.0, -5.0)]),
        vec![],
    )]);
    let compounds = vec![CompoundInput { id: "Q".into(), name: None, area }];
    let adj = build_adjacency(&atoms, &mesh, &compounds, &[road]);
    assert_eq!(adj.len(), atoms.len());
    // Symmetric with equal flags.
    for a in 0..atoms.len() {
        for c in adj.of(AtomIx(a as u32)) {
            let back = adj.of(c.to).iter().find(|d| d.to.0 as usize == a).expect("symmetric");
            assert_eq!((back.barrier, back.wall), (c.barrier, c.wall));
            assert!((back.length_m - c.length_m).abs() < 1e-9);
            let (p, r) = (atoms[a].point, atoms[c.to.0 as usize].point);
            assert!((c.length_m - (p.x() - r.x()).hypot(p.y() - r.y())).abs() < 1e-9);
        }
    }
    // Connected.
    let mut seen = vec![false; atoms.len()];
    let mut queue = VecDeque::from([0usize]);
    seen[0] = true;
    while let Some(a) = queue.pop_front() {
        for c in adj.of(AtomIx(a as u32)) {
            if !seen[c.to.0 as usize] {
                seen[c.to.0 as usize] = true;
                queue.push_back(c.to.0 as usize);
            }
        }
    }
    assert!(seen.iter().all(|&s| s));
    // Units of BIG are adjacent to each other, without flags.
    let units: Vec<usize> = (0..atoms.len()).filter(|&a| atoms[a].id.building == "BIG").collect();
    assert_eq!(units.len(), 2);
    let c = adj.of(AtomIx(units[0] as u32)).iter().find(|c| c.to.0 as usize == units[1]).expect("units adjacent");
    assert!(c.barrier.is_none() && !c.wall);
    // Across the road: flagged with the road; same side: not.
    let (a, z) = (ix(&atoms, "B10"), ix(&atoms, "B20"));
    let c = adj.of(AtomIx(a as u32)).iter().find(|c| c.to.0 as usize == z).expect("B10–B20");
    assert_eq!(c.barrier, Some(0));
    let (a, z) = (ix(&atoms, "B00"), ix(&atoms, "B10"));
    let c = adj.of(AtomIx(a as u32)).iter().find(|c| c.to.0 as usize == z).expect("B00–B10");
    assert_eq!(c.barrier, None);
    // Into the compound: a wall; inside it: none.
    let (a, z) = (ix(&atoms, "B30"), ix(&atoms, "B40"));
    let c = adj.of(AtomIx(a as u32)).iter().find(|c| c.to.0 as usize == z).expect("B30–B40");
    assert!(c.wall && c.barrier.is_none());
    let (a, z) = (ix(&atoms, "B40"), ix(&atoms, "B50"));
    let c = adj.of(AtomIx(a as u32)).iter().find(|c| c.to.0 as usize == z).expect("B40–B50");
    assert!(!c.wall);
    // Deterministic.
    assert_eq!(build_adjacency(&atoms, &mesh, &compounds, &[]).len(), atoms.len());
    assert_eq!(
        adj,
        build_adjacency(
            &atoms,
            &mesh,
            &compounds,
            &[Barrier {
                id: "r".into(),
                kind: "primary".into(),
                name: Some("长江路".into()),
                line: LineString::from(vec![coord! { x: 15.0, y: -5.0 }, coord! { x: 15.0, y: 35.0 }]),
            }]
        )
    );
}

#[test]
fn collinear_and_single_points() {
    let q = Quota::new(300, 500, None).expect("quota");
    let bs: Vec<_> = (0..5).map(|i| b(&format!("L{i}"), i as f64 * 10.0, 0.0, 10, None)).collect();
    let (mut atoms, _) = build_atoms(&bs, &q).expect("atoms");
    let mesh = Mesh::build(None, &mut atoms).expect("mesh");
    let adj = build_adjacency(&atoms, &mesh, &[], &[]);
    // A line of points: a path.
    let degrees: Vec<usize> = (0..5).map(|a| adj.of(AtomIx(a)).len()).collect();
    assert_eq!(degrees.iter().sum::<usize>(), 8, "{degrees:?}");
    let (mut one, _) = build_atoms(&bs[..1], &q).expect("atoms");
    let mesh = Mesh::build(None, &mut one).expect("mesh");
    let adj = build_adjacency(&one, &mesh, &[], &[]);
    assert_eq!(adj.len(), 1);
    assert!(adj.of(AtomIx(0)).is_empty());
    assert!(build_adjacency(&[], &Mesh::default(), &[], &[]).is_empty());
}
