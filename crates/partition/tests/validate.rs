//! Violations of hand-made plans: each test builds a tiny problem by hand (atoms on a line or a
//! grid, contacts listed explicitly) and checks that exactly the expected violations come out.

use geo::{LineString, MultiPolygon, Point};
use wangge_partition::validate::{pieces_of, violations};
use wangge_partition::{
    Adjacency, Atom, AtomId, AtomIx, Barrier, Community, CompoundInput, Contact, GridIx, Plan, Problem, Quota,
    Violation,
};

/// Atom `name` with `hh` households at (x, y), optionally in a compound.
fn atom(name: &str, hh: u32, x: f64, y: f64, compound: Option<&str>) -> Atom {
    Atom {
        id: AtomId { building: name.into(), unit: None },
        households: hh,
        point: Point::new(x, y),
        footprint: None,
        compound: compound.map(str::to_string),
    }
}

/// A symmetric CSR adjacency from undirected edges `(a, b, barrier)`.
fn adjacency(n: usize, edges: &[(u32, u32, Option<u32>)], atoms: &[Atom]) -> Adjacency {
    let mut lists: Vec<Vec<Contact>> = vec![Vec::new(); n];
    for &(a, b, barrier) in edges {
        let d = {
            let (p, q) = (atoms[a as usize].point, atoms[b as usize].point);
            ((p.x() - q.x()).powi(2) + (p.y() - q.y()).powi(2)).sqrt()
        };
        lists[a as usize].push(Contact { to: AtomIx(b), length_m: d, barrier, wall: false });
        lists[b as usize].push(Contact { to: AtomIx(a), length_m: d, barrier, wall: false });
    }
    let mut offsets = vec![0u32];
    let mut contacts = Vec::new();
    for l in lists {
        contacts.extend(l);
        offsets.push(contacts.len() as u32);
    }
    Adjacency { offsets, contacts }
}

fn problem(
    atoms: Vec<Atom>,
    edges: &[(u32, u32, Option<u32>)],
    barriers: Vec<Barrier>,
    compounds: Vec<CompoundInput>,
) -> Problem {
    let adjacency = adjacency(atoms.len(), edges, &atoms);
    Problem {
        community: Community {
            id: "c".into(),
            name: "c".into(),
            code: None,
            boundary: None,
            buildings: Vec::new(),
            compounds,
            barriers,
        },
        atoms,
        adjacency,
        floor_splits: Vec::new(),
        mesh: wangge_partition::mesh::Mesh::default(),
    }
}

fn plan(grid_of: &[u32], ids: &[&str]) -> Plan {
    Plan {
        grid_of: grid_of.iter().map(|&g| GridIx(g)).collect(),
        grid_ids: ids.iter().map(|s| s.to_string()).collect(),
    }
}

fn quota() -> Quota {
    Quota::new(300, 500, None).expect("valid quota")
}

/// Six atoms on a line, 100 households each, each touching the next.
fn line_of_six() -> Vec<Atom> {
    (0..6).map(|i| atom(&format!("b{i}"), 100, f64::from(i) * 20.0, 0.0, None)).collect()
}

const CHAIN: [(u32, u32, Option<u32>); 5] = [(0, 1, None), (1, 2, None), (2, 3, None), (3, 4, None), (4, 5, None)];

#[test]
fn valid_plan_has_no_violations() {
    let p = problem(line_of_six(), &CHAIN, vec![], vec![]);
    let pl = plan(&[0, 0, 0, 1, 1, 1], &["A", "B"]);
    assert_eq!(pieces_of(&p, &pl), vec![1, 1]);
    assert!(violations(&p, &pl, &quota()).is_empty());
}

#[test]
fn grid_in_two_pieces() {
    // A = {0, 1, 5}: 0-1 touch, 5 is at the far end behind B's atoms → 2 pieces; 300 households, in quota.
    let p = problem(line_of_six(), &CHAIN, vec![], vec![]);
    let pl = plan(&[0, 0, 1, 1, 1, 0], &["A", "B"]);
    assert_eq!(pieces_of(&p, &pl), vec![2, 1]);
    assert_eq!(violations(&p, &pl, &quota()), vec![Violation::Contiguity { grid: "A".into(), pieces: 2 }]);
}

#[test]
fn over_and_under_quota() {
    // A holds 5 × 100 = 500 (ok, max inclusive); then A = 4 atoms (400) and B = 2 (200 < 300).
    let p = problem(line_of_six(), &CHAIN, vec![], vec![]);
    let ok = plan(&[0, 0, 0, 0, 0, 1], &["A", "B"]);
    // B = 100 is under quota.
    assert_eq!(
        violations(&p, &ok, &quota()),
        vec![Violation::Quota { grid: "B".into(), households: 100, reason: None }]
    );
    // One grid of 600 > 500.
    let one = plan(&[0; 6], &["A"]);
    assert_eq!(
        violations(&p, &one, &quota()),
        vec![Violation::Quota { grid: "A".into(), households: 600, reason: None }]
    );
}

#[test]
fn over_quota_single_atom_and_tiny_community_have_reasons() {
    let atoms = vec![atom("big", 700, 0.0, 0.0, None), atom("s", 350, 10.0, 0.0, None)];
    let p = problem(atoms, &[(0, 1, None)], vec![], vec![]);
    let v = violations(&p, &plan(&[0, 1], &["A", "B"]), &quota());
    assert_eq!(v.len(), 1);
    match &v[0] {
        Violation::Quota { grid, households: 700, reason: Some(r) } => {
            assert_eq!(grid, "A");
            assert!(r.contains("big"), "{r}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let tiny = problem(vec![atom("x", 120, 0.0, 0.0, None)], &[], vec![], vec![]);
    let v = violations(&tiny, &plan(&[0], &["A"]), &quota());
    match &v[..] {
        [Violation::Quota { households: 120, reason: Some(r), .. }] => assert!(r.contains("120"), "{r}"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn empty_grid_is_a_quota_violation_with_zero_pieces() {
    let p = problem(line_of_six(), &CHAIN, vec![], vec![]);
    let pl = plan(&[0, 0, 0, 1, 1, 1], &["A", "B", "C"]);
    assert_eq!(pieces_of(&p, &pl), vec![1, 1, 0]);
    assert_eq!(violations(&p, &pl, &quota()), vec![Violation::Quota { grid: "C".into(), households: 0, reason: None }]);
}

#[test]
fn split_compound_only_when_it_fits() {
    // Atoms 2 and 3 form compound "k" (200 households ≤ 500) and are split between A and B.
    let mut atoms = line_of_six();
    atoms[2].compound = Some("k".into());
    atoms[3].compound = Some("k".into());
    let compounds =
        vec![CompoundInput { id: "k".into(), name: Some("幸福里".into()), area: MultiPolygon::new(vec![]) }];
    let p = problem(atoms.clone(), &CHAIN, vec![], compounds.clone());
    let pl = plan(&[0, 0, 0, 1, 1, 1], &["A", "B"]);
    assert_eq!(
        violations(&p, &pl, &quota()),
        vec![Violation::SplitCompound {
            compound: "k".into(),
            name: Some("幸福里".into()),
            grids: vec!["A".into(), "B".into()]
        }]
    );
    // A compound of 600 households (atoms 0..6 all in it) cannot fit: splitting it is no violation.
    let all: Vec<Atom> = atoms
        .into_iter()
        .map(|mut a| {
            a.compound = Some("k".into());
            a
        })
        .collect();
    let p = problem(all, &CHAIN, vec![], compounds);
    assert!(violations(&p, &pl, &quota()).is_empty());
}

#[test]
fn barrier_only_connection_names_the_barrier() {
    // 0-1-2 | 3-4-5, the contact 2-3 crosses barrier 1 (长江路); barrier 0 is elsewhere.
    let edges = [(0, 1, None), (1, 2, None), (2, 3, Some(1)), (3, 4, None), (4, 5, None)];
    let barriers = vec![
        Barrier {
            id: "osm:w1".into(),
            kind: "primary".into(),
            name: Some("黄河路".into()),
            line: LineString::from(vec![(0.0, 50.0), (100.0, 50.0)]),
        },
        Barrier {
            id: "osm:w2".into(),
            kind: "primary".into(),
            name: Some("长江路".into()),
            line: LineString::from(vec![(50.0, -10.0), (50.0, 10.0)]),
        },
    ];
    let atoms: Vec<Atom> = (0..6).map(|i| atom(&format!("b{i}"), 60, f64::from(i) * 20.0, 0.0, None)).collect();
    let p = problem(atoms, &edges, barriers, vec![]);
    // One grid of 360 households spanning the road: contiguous through the barrier contact only.
    let pl = plan(&[0; 6], &["A"]);
    assert_eq!(pieces_of(&p, &pl), vec![1]);
    assert_eq!(
        violations(&p, &pl, &quota()),
        vec![Violation::BarrierCrossed { grid: "A".into(), barrier: "osm:w2".into(), name: Some("长江路".into()) }]
    );
}

#[test]
fn barrier_contact_with_a_detour_is_fine() {
    // A ring 0-1-2-3-0 where 0-1 crosses a barrier but 1-2-3-0 do not: the grid is joined without it.
    let atoms: Vec<Atom> = (0..4).map(|i| atom(&format!("b{i}"), 100, f64::from(i), 0.0, None)).collect();
    let edges = [(0, 1, Some(0)), (1, 2, None), (2, 3, None), (3, 0, None)];
    let barriers = vec![Barrier {
        id: "r".into(),
        kind: "river".into(),
        name: None,
        line: LineString::from(vec![(0.0, 0.0), (1.0, 1.0)]),
    }];
    let p = problem(atoms, &edges, barriers, vec![]);
    assert!(violations(&p, &plan(&[0; 4], &["A"]), &quota()).is_empty());
}

#[test]
fn several_violations_sorted() {
    // B = {2, 5} split in two pieces (200 households, under quota); A = {0, 1, 3, 4} = 400 in two pieces;
    // the compound {2, 3} (200) is split; everything reported in kind order, then grid id.
    let mut atoms = line_of_six();
    atoms[2].compound = Some("k".into());
    atoms[3].compound = Some("k".into());
    let p = problem(atoms, &CHAIN, vec![], vec![]);
    let pl = plan(&[1, 1, 0, 1, 1, 0], &["B", "A"]);
    assert_eq!(
        violations(&p, &pl, &quota()),
        vec![
            Violation::Quota { grid: "B".into(), households: 200, reason: None },
            Violation::Contiguity { grid: "A".into(), pieces: 2 },
            Violation::Contiguity { grid: "B".into(), pieces: 2 },
            Violation::SplitCompound { compound: "k".into(), name: None, grids: vec!["B".into(), "A".into()] },
        ]
    );
}
