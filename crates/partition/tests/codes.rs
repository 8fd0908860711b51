//! Grid codes on hand layouts: reading order, CJ/T 349 codes, readable ids, codes that survive.

use std::collections::BTreeMap;

use geo::Point;
use wangge_partition::codes::{assign_codes, next_id};
use wangge_partition::{Adjacency, Atom, AtomId, Community, GridIx, Plan, Problem};

fn atom(name: &str, hh: u32, x: f64, y: f64) -> Atom {
    Atom {
        id: AtomId { building: name.into(), unit: None },
        households: hh,
        point: Point::new(x, y),
        footprint: None,
        compound: None,
    }
}

fn problem(code: Option<&str>, atoms: Vec<Atom>) -> Problem {
    let n = atoms.len();
    Problem {
        community: Community {
            id: "heping".into(),
            name: "和平社区".into(),
            code: code.map(str::to_string),
            boundary: None,
            buildings: vec![],
            compounds: vec![],
            barriers: vec![],
        },
        atoms,
        adjacency: Adjacency { offsets: vec![0; n + 1], contacts: vec![] },
        floor_splits: vec![],
        mesh: wangge_partition::mesh::Mesh::default(),
    }
}

/// Six grids laid out as two rows of three, 200 m apart; the northern row's centroids are slightly
/// uneven in y (±15 m), which must not break the row. Grid indices are deliberately shuffled.
/// Each grid holds two atoms; returns the problem and a plan.
fn two_rows(code: Option<&str>) -> (Problem, Plan) {
    // (x, y) of each grid's centre, by GridIx.
    let centres = [(400.0, 0.0), (0.0, 215.0), (200.0, 0.0), (400.0, 185.0), (0.0, 0.0), (200.0, 200.0)];
    let mut atoms = Vec::new();
    let mut grid_of = Vec::new();
    for (g, (x, y)) in centres.iter().enumerate() {
        atoms.push(atom(&format!("g{g}a"), 200, x - 20.0, *y));
        atoms.push(atom(&format!("g{g}b"), 200, x + 20.0, *y));
        grid_of.extend([GridIx(g as u32); 2]);
    }
    let ids = (0..6).map(|g| format!("tmp{g}")).collect();
    (problem(code, atoms), Plan { grid_of, grid_ids: ids })
}

#[test]
fn west_to_east_north_to_south_with_community_code() {
    let (p, mut plan) = two_rows(Some("110105001002"));
    assign_codes(&p, &mut plan, None);
    // Reading order: north row (y≈200): x=0 (g1), 200 (g5), 400 (g3); south row: g4, g2, g0.
    let expect = |g: usize, seq: u32| assert_eq!(plan.grid_ids[g], format!("110105001002{seq:03}"), "grid {g}");
    expect(1, 1);
    expect(5, 2);
    expect(3, 3);
    expect(4, 4);
    expect(2, 5);
    expect(0, 6);
    assert!(plan.grid_ids.iter().all(|c| c.len() == 15 && c.bytes().all(|b| b.is_ascii_digit())));
}

#[test]
fn readable_ids_without_code() {
    let (p, mut plan) = two_rows(None);
    assign_codes(&p, &mut plan, None);
    assert_eq!(plan.grid_ids, vec!["heping-06", "heping-01", "heping-05", "heping-03", "heping-04", "heping-02"]);
    // A malformed code (not 12 digits) is not used.
    let (p, mut plan) = two_rows(Some("1101"));
    assign_codes(&p, &mut plan, None);
    assert_eq!(plan.grid_ids[1], "heping-01");
}

#[test]
fn previous_codes_survive_and_new_grids_take_new_numbers() {
    let (p, mut plan) = two_rows(Some("110105001002"));
    assign_codes(&p, &mut plan, None);
    let old: BTreeMap<AtomId, String> =
        p.atoms.iter().zip(&plan.grid_of).map(|(a, g)| (a.id.clone(), plan.grid_ids[g.0 as usize].clone())).collect();
    // New plan: grid 1 (code …001) is split: its atom g1b goes into a new grid 6 with the atoms of
    // grid 5 (code …002) — grid 6 holds 200 of …001's 400 (not more than half) and all 400 of …002,
    // so it keeps …002; grid 1 keeps g1a only (200 of 400: not more than half) and gets a new number;
    // grid 5 is emptied. Codes …003–…006 stay with their grids. New numbers start after 006.
    let mut grid_of = plan.grid_of.clone();
    grid_of[3] = GridIx(6); // g1b
    grid_of[10] = GridIx(6); // g5a
    grid_of[11] = GridIx(6); // g5b
    let mut next = Plan { grid_of, grid_ids: (0..7).map(|g| format!("x{g}")).collect() };
    assign_codes(&p, &mut next, Some(&old));
    assert_eq!(next.grid_ids[6], "110105001002002");
    assert_eq!(next.grid_ids[3], "110105001002003");
    assert_eq!(next.grid_ids[4], "110105001002004");
    assert_eq!(next.grid_ids[2], "110105001002005");
    assert_eq!(next.grid_ids[0], "110105001002006");
    // Grid 1 (north-west, has atoms) and grid 5 (empty, last) take 007 and 008.
    assert_eq!(next.grid_ids[1], "110105001002007");
    assert_eq!(next.grid_ids[5], "110105001002008");
    // The editor's next id continues after the highest used.
    assert_eq!(next_id(&p, &next.grid_ids), "110105001002009");
}

#[test]
fn grid_keeping_most_households_keeps_code_even_when_renumbered_spatially() {
    let (p, mut plan) = two_rows(None);
    assign_codes(&p, &mut plan, None);
    let old: BTreeMap<AtomId, String> =
        p.atoms.iter().zip(&plan.grid_of).map(|(a, g)| (a.id.clone(), plan.grid_ids[g.0 as usize].clone())).collect();
    // Same grids in a different index order: every code follows its households.
    let perm = [5u32, 4, 3, 2, 1, 0];
    let next_grid_of: Vec<GridIx> = plan.grid_of.iter().map(|g| GridIx(perm[g.0 as usize])).collect();
    let mut next = Plan { grid_of: next_grid_of, grid_ids: vec![String::new(); 6] };
    assign_codes(&p, &mut next, Some(&old));
    for (g, &to) in perm.iter().enumerate() {
        assert_eq!(next.grid_ids[to as usize], plan.grid_ids[g]);
    }
}
