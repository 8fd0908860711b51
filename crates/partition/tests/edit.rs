//! Edits on a hand-made lattice: 4 columns × 3 rows of buildings 50 m apart, 60 households each,
//! each touching its 4 neighbours. Grid A = columns 0–1 (360 households), B = columns 2–3 (360).
//! Quota 300..=500.

use geo::{LineString, Point, Polygon};
use wangge_partition::edit::{Editor, GridEdit};
use wangge_partition::{
    Adjacency, Atom, AtomId, AtomIx, Community, Contact, GridIx, PartitionError, Plan, Problem, Quota, Violation,
};

const COLS: usize = 4;
const ROWS: usize = 3;

fn id(c: usize, r: usize) -> AtomId {
    AtomId { building: format!("b{c}{r}"), unit: None }
}

/// Atom index of column c, row r.
fn ix(c: usize, r: usize) -> usize {
    c * ROWS + r
}

fn problem() -> Problem {
    let mut atoms = Vec::new();
    for c in 0..COLS {
        for r in 0..ROWS {
            atoms.push(Atom {
                id: id(c, r),
                households: 60,
                point: Point::new(c as f64 * 50.0, r as f64 * 50.0),
                footprint: None,
                compound: None,
            });
        }
    }
    let mut offsets = vec![0u32];
    let mut contacts = Vec::new();
    for c in 0..COLS {
        for r in 0..ROWS {
            let mut add = |c2: usize, r2: usize| {
                contacts.push(Contact { to: AtomIx(ix(c2, r2) as u32), length_m: 50.0, barrier: None, wall: false })
            };
            if c > 0 {
                add(c - 1, r);
            }
            if c + 1 < COLS {
                add(c + 1, r);
            }
            if r > 0 {
                add(c, r - 1);
            }
            if r + 1 < ROWS {
                add(c, r + 1);
            }
            offsets.push(contacts.len() as u32);
        }
    }
    Problem {
        community: Community {
            id: "c".into(),
            name: "c".into(),
            code: None,
            boundary: None,
            buildings: vec![],
            compounds: vec![],
            barriers: vec![],
        },
        atoms,
        adjacency: Adjacency { offsets, contacts },
        floor_splits: vec![],
        mesh: wangge_partition::mesh::Mesh::default(),
    }
}

fn two_grids() -> Plan {
    let grid_of = (0..COLS * ROWS).map(|i| GridIx(if i / ROWS < 2 { 0 } else { 1 })).collect();
    Plan { grid_of, grid_ids: vec!["A".into(), "B".into()] }
}

fn editor(plan: Plan) -> Editor {
    Editor::new(problem(), Quota::new(300, 500, None).expect("quota"), plan)
}

fn grid_of_atom(e: &Editor, c: usize, r: usize) -> String {
    let p = e.plan();
    p.grid_ids[p.grid_of[ix(c, r)].0 as usize].clone()
}

#[test]
fn move_breaks_contiguity_and_undo_redo_restore() {
    let mut e = editor(two_grids());
    let before = e.plan().clone();
    // (0, 1) is surrounded by A: moving it to B leaves B in two pieces; A keeps 300, B 420.
    let out = e.apply(&GridEdit::MoveAtoms { atoms: vec![id(0, 1)], to: "B".into() }).expect("valid edit");
    assert_eq!(out.violations, vec![Violation::Contiguity { grid: "B".into(), pieces: 2 }]);
    assert_eq!(out.new_violations, out.violations);
    assert_eq!(out.households.get("A"), Some(&300));
    assert_eq!(out.households.get("B"), Some(&420));
    assert_eq!(grid_of_atom(&e, 0, 1), "B");
    let after = e.plan().clone();
    assert!(e.undo());
    assert_eq!(e.plan(), &before);
    assert!(!e.undo());
    assert!(e.redo());
    assert_eq!(e.plan(), &after);
    assert!(!e.redo());
}

#[test]
fn violations_already_there_are_not_new() {
    let mut e = editor(two_grids());
    e.apply(&GridEdit::MoveAtoms { atoms: vec![id(0, 1)], to: "B".into() }).expect("valid");
    // Moving (3, 0) from B to A makes A disconnected too; B's violation was there before.
    let out = e.apply(&GridEdit::MoveAtoms { atoms: vec![id(3, 0)], to: "A".into() }).expect("valid");
    assert_eq!(
        out.violations,
        vec![
            Violation::Contiguity { grid: "A".into(), pieces: 2 },
            Violation::Contiguity { grid: "B".into(), pieces: 2 }
        ]
    );
    assert_eq!(out.new_violations, vec![Violation::Contiguity { grid: "A".into(), pieces: 2 }]);
}

#[test]
fn merge_exceeds_quota_and_removes_the_grid() {
    // Ids in the order B, A: merging A into B leaves only B, re-indexed to 0.
    let mut plan = two_grids();
    plan.grid_ids = vec!["B".into(), "A".into()];
    let mut e = editor(plan.clone());
    let out = e.apply(&GridEdit::Merge { a: "A".into(), b: "B".into() }).expect("valid");
    assert_eq!(out.violations, vec![Violation::Quota { grid: "A".into(), households: 720, reason: None }]);
    assert_eq!(e.plan().grid_ids, vec!["A".to_string()]);
    assert!(e.plan().grid_of.iter().all(|g| *g == GridIx(0)));
    assert!(e.undo());
    assert_eq!(e.plan(), &plan);
}

#[test]
fn moving_every_atom_out_drops_the_grid() {
    let mut e = editor(two_grids());
    let all_a: Vec<AtomId> = (0..2).flat_map(|c| (0..ROWS).map(move |r| id(c, r))).collect();
    let out = e.apply(&GridEdit::MoveAtoms { atoms: all_a, to: "B".into() }).expect("valid");
    assert_eq!(e.plan().grid_ids, vec!["B".to_string()]);
    assert_eq!(out.households.len(), 1);
    assert_eq!(out.households.get("B"), Some(&720));
}

#[test]
fn automatic_split_gives_two_contiguous_balanced_halves() {
    let one = Plan { grid_of: vec![GridIx(0); COLS * ROWS], grid_ids: vec!["A".into()] };
    let mut e = editor(one);
    // 720 households across 4 × 3 with the long axis along x: the best cut is two 2 × 3 halves of 360.
    let out = e.apply(&GridEdit::Split { grid: "A".into(), line: None }).expect("valid");
    assert!(out.violations.is_empty(), "{:?}", out.violations);
    assert_eq!(e.plan().grids(), 2);
    let mut hh: Vec<u64> = out.households.values().copied().collect();
    hh.sort();
    assert_eq!(hh, vec![360, 360]);
    // The new grid takes the next readable id of community "c".
    assert!(out.households.contains_key("c-01"), "{:?}", out.households);
    for r in 0..ROWS {
        assert_eq!(grid_of_atom(&e, 0, r), grid_of_atom(&e, 1, r));
        assert_eq!(grid_of_atom(&e, 2, r), grid_of_atom(&e, 3, r));
        assert_ne!(grid_of_atom(&e, 0, r), grid_of_atom(&e, 3, r));
    }
}

#[test]
fn split_by_a_drawn_line() {
    let one = Plan { grid_of: vec![GridIx(0); COLS * ROWS], grid_ids: vec!["A".into()] };
    let mut e = editor(one);
    // A line across at x = 120 (between columns 2 and 3): 540 west / 180 east; the west half keeps A.
    let line = LineString::from(vec![(120.0, -20.0), (120.0, 150.0)]);
    let out = e.apply(&GridEdit::Split { grid: "A".into(), line: Some(line) }).expect("valid");
    assert_eq!(out.households.get("A"), Some(&540));
    assert_eq!(out.households.get("c-01"), Some(&180));
    assert_eq!(
        out.violations,
        vec![
            Violation::Quota { grid: "A".into(), households: 540, reason: None },
            Violation::Quota { grid: "c-01".into(), households: 180, reason: None }
        ]
    );
    assert_eq!(grid_of_atom(&e, 3, 2), "c-01");
    assert_eq!(grid_of_atom(&e, 2, 2), "A");
    // A line entirely to the east leaves every atom on one side.
    let far = LineString::from(vec![(500.0, -20.0), (500.0, 150.0)]);
    let err = e.apply(&GridEdit::Split { grid: "A".into(), line: Some(far) }).expect_err("does not cut");
    assert!(matches!(&err, PartitionError::BadEdit(m) if m.contains("`A`")), "{err}");
}

#[test]
fn reassign_inside_a_polygon_to_a_new_grid() {
    let mut e = editor(two_grids());
    // The box around column 3 (x = 150) holds its three atoms: a new grid of 180, under quota; B keeps 180.
    let area = Polygon::new(
        LineString::from(vec![(140.0, -10.0), (160.0, -10.0), (160.0, 110.0), (140.0, 110.0), (140.0, -10.0)]),
        vec![],
    );
    let out = e.apply(&GridEdit::Reassign { area, to: "new".into() }).expect("valid");
    assert_eq!(e.plan().grid_ids, vec!["A", "B", "c-01"]);
    assert_eq!(out.households.get("c-01"), Some(&180));
    assert_eq!(
        out.violations,
        vec![
            Violation::Quota { grid: "B".into(), households: 180, reason: None },
            Violation::Quota { grid: "c-01".into(), households: 180, reason: None }
        ]
    );
    // Reassigning the same box to A: A gets 540 and A is in two pieces (column 2 is B between).
    let area = Polygon::new(
        LineString::from(vec![(140.0, -10.0), (160.0, -10.0), (160.0, 110.0), (140.0, 110.0), (140.0, -10.0)]),
        vec![],
    );
    let out = e.apply(&GridEdit::Reassign { area, to: "A".into() }).expect("valid");
    assert_eq!(e.plan().grid_ids, vec!["A", "B"]);
    assert!(out.violations.contains(&Violation::Contiguity { grid: "A".into(), pieces: 2 }));
    assert!(out.violations.contains(&Violation::Quota { grid: "A".into(), households: 540, reason: None }));
}

#[test]
fn bad_edits_are_errors_naming_what_is_wrong_and_change_nothing() {
    let mut e = editor(two_grids());
    let before = e.plan().clone();
    let msg = |r: Result<_, PartitionError>| match r {
        Err(PartitionError::BadEdit(m)) => m,
        other => panic!("expected BadEdit, got {other:?}"),
    };
    assert!(msg(e.apply(&GridEdit::MoveAtoms { atoms: vec![id(0, 0)], to: "Z".into() })).contains("`Z`"));
    let ghost = AtomId { building: "nope".into(), unit: Some("2".into()) };
    assert!(msg(e.apply(&GridEdit::MoveAtoms { atoms: vec![ghost], to: "A".into() })).contains("nope/2"));
    assert!(msg(e.apply(&GridEdit::MoveAtoms { atoms: vec![], to: "A".into() })).contains("no atoms"));
    assert!(msg(e.apply(&GridEdit::Merge { a: "A".into(), b: "Q".into() })).contains("`Q`"));
    assert!(msg(e.apply(&GridEdit::Merge { a: "A".into(), b: "A".into() })).contains("itself"));
    assert!(msg(e.apply(&GridEdit::Split { grid: "W".into(), line: None })).contains("`W`"));
    let empty = Polygon::new(
        LineString::from(vec![(1000.0, 1000.0), (1010.0, 1000.0), (1010.0, 1010.0), (1000.0, 1000.0)]),
        vec![],
    );
    assert!(msg(e.apply(&GridEdit::Reassign { area: empty, to: "A".into() })).contains("no building"));
    assert_eq!(e.plan(), &before);
    assert!(!e.undo(), "failed edits are not on the undo stack");
}

#[test]
fn a_new_edit_clears_redo() {
    let mut e = editor(two_grids());
    e.apply(&GridEdit::MoveAtoms { atoms: vec![id(1, 0)], to: "B".into() }).expect("valid");
    assert!(e.undo());
    e.apply(&GridEdit::MoveAtoms { atoms: vec![id(2, 0)], to: "A".into() }).expect("valid");
    assert!(!e.redo());
    assert_eq!(grid_of_atom(&e, 1, 0), "A");
    assert_eq!(grid_of_atom(&e, 2, 0), "A");
}

#[test]
fn edits_round_trip_as_json() {
    let edits = vec![
        GridEdit::MoveAtoms {
            atoms: vec![id(0, 0), AtomId { building: "x".into(), unit: Some("1".into()) }],
            to: "A".into(),
        },
        GridEdit::Merge { a: "A".into(), b: "B".into() },
        GridEdit::Split { grid: "A".into(), line: None },
        GridEdit::Split { grid: "A".into(), line: Some(LineString::from(vec![(0.0, 1.0), (2.5, 3.0)])) },
        GridEdit::Reassign {
            area: Polygon::new(LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]), vec![]),
            to: "new".into(),
        },
    ];
    for e in &edits {
        let json = serde_json::to_string(e).expect("serialises");
        let back: GridEdit = serde_json::from_str(&json).expect("parses");
        assert_eq!(&back, e, "{json}");
    }
    let v = serde_json::to_value(&edits[3]).expect("serialises");
    assert_eq!(v, serde_json::json!({"op": "split", "grid": "A", "line": [[0.0, 1.0], [2.5, 3.0]]}));
    let v: GridEdit = serde_json::from_value(serde_json::json!({"op": "merge", "a": "1", "b": "2"})).expect("parses");
    assert_eq!(v, GridEdit::Merge { a: "1".into(), b: "2".into() });
}
