//! Districting on hand-made communities whose right answer can be reasoned, plus stability and
//! scale. Every property is checked on the output (the plan), by code independent of the engine.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use geo::{LineString, MultiPolygon, Point, Polygon, coord};
use wangge_partition::atoms::prepare;
use wangge_partition::districting::{Options, Outcome, Previous, partition, partition_all};
use wangge_partition::metrics::report;
use wangge_partition::{AtomIx, Barrier, BuildingInput, Community, CompoundInput, Plan, Problem, Quota};

fn b(id: &str, x: f64, y: f64, households: u32, compound: Option<&str>) -> BuildingInput {
    BuildingInput {
        id: id.to_string(),
        households,
        units: Vec::new(),
        point: Point::new(x, y),
        footprint: None,
        compound: compound.map(str::to_string),
    }
}

fn community(buildings: Vec<BuildingInput>, compounds: Vec<CompoundInput>, barriers: Vec<Barrier>) -> Community {
    Community {
        id: "c1".into(), name: "和平社区".into(), code: None, boundary: None, buildings, compounds, barriers
    }
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]), vec![])])
}

fn road(id: &str, name: &str, pts: &[(f64, f64)]) -> Barrier {
    Barrier {
        id: id.into(),
        kind: "primary".into(),
        name: Some(name.into()),
        line: LineString::from(pts.iter().map(|&(x, y)| coord! { x: x, y: y }).collect::<Vec<_>>()),
    }
}

fn quota(min: u32, max: u32) -> Quota {
    Quota::new(min, max, None).expect("valid quota")
}

fn opts(q: Quota) -> Options {
    Options { quota: q, seed: 7 }
}

/// Pieces of each grid, by BFS over the adjacency restricted to the grid.
fn pieces(problem: &Problem, plan: &Plan) -> Vec<usize> {
    let n = problem.atoms.len();
    let mut seen = vec![false; n];
    let mut out = vec![0; plan.grids()];
    for s in 0..n {
        if seen[s] {
            continue;
        }
        let g = plan.grid_of[s];
        out[g.0 as usize] += 1;
        seen[s] = true;
        let mut q = VecDeque::from([s]);
        while let Some(a) = q.pop_front() {
            for c in problem.adjacency.of(AtomIx(a as u32)) {
                let t = c.to.0 as usize;
                if !seen[t] && plan.grid_of[t] == g {
                    seen[t] = true;
                    q.push_back(t);
                }
            }
        }
    }
    out
}

/// The invariants every plan must hold; returns households per grid.
fn check(problem: &Problem, out: &Outcome, q: &Quota) -> Vec<u64> {
    let plan = &out.plan;
    assert_eq!(plan.grid_of.len(), problem.atoms.len(), "every atom has a grid");
    assert!(plan.grid_of.iter().all(|g| (g.0 as usize) < plan.grids()), "grid indices in range");
    let ids: BTreeSet<&String> = plan.grid_ids.iter().collect();
    assert_eq!(ids.len(), plan.grids(), "grid ids are distinct");
    let mut hh = vec![0u64; plan.grids()];
    let mut atoms = vec![0usize; plan.grids()];
    for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
        hh[g.0 as usize] += u64::from(a.households);
        atoms[g.0 as usize] += 1;
    }
    assert!(atoms.iter().all(|&n| n > 0), "no empty grid");
    let p = pieces(problem, plan);
    assert!(p.iter().all(|&n| n == 1), "every grid contiguous: {p:?}");
    let outside: Vec<u64> = hh.iter().copied().filter(|&h| !q.holds(h)).collect();
    assert!(outside.is_empty() || !out.infeasible.is_empty(), "grids out of quota {outside:?} without a reason");
    // Compounds that fit are never split.
    let mut comp: BTreeMap<&str, (u64, BTreeSet<u32>)> = BTreeMap::new();
    for (a, g) in problem.atoms.iter().zip(&plan.grid_of) {
        if let Some(c) = &a.compound {
            let e = comp.entry(c).or_default();
            e.0 += u64::from(a.households);
            e.1.insert(g.0);
        }
    }
    for (c, (h, grids)) in comp {
        if h <= u64::from(q.max) {
            assert_eq!(grids.len(), 1, "compound {c} ({h}) split");
        }
    }
    hh
}

/// A `cols × rows` lattice of buildings 20 m apart, `h` households each.
fn lattice(cols: usize, rows: usize, h: u32) -> Vec<BuildingInput> {
    let mut v = Vec::new();
    for i in 0..cols {
        for j in 0..rows {
            v.push(b(&format!("B{i:02}-{j:02}"), i as f64 * 20.0, j as f64 * 20.0, h, None));
        }
    }
    v
}

#[test]
fn lattice_gets_exact_k_all_in_quota() {
    // 100 buildings × 40 = 4,000 households, 300–500 (target 400): k = 10 (in 8..=13).
    let q = quota(300, 500);
    let p = prepare(community(lattice(10, 10, 40), vec![], vec![]), &q).expect("prepare");
    let out = partition(&p, &opts(q), None);
    let hh = check(&p, &out, &q);
    assert_eq!(hh.len(), 10);
    assert!(hh.iter().all(|&h| q.holds(h)), "{hh:?}");
    assert!(out.infeasible.is_empty());
    // Same seed, same plan; partition_all gives the same outcome.
    let again = partition(&p, &opts(q), None);
    assert_eq!(again.plan, out.plan);
    let all = partition_all(&[p.clone(), p.clone()], &opts(q), None);
    assert_eq!(all[0].plan, out.plan);
    assert_eq!(all[1].plan, out.plan);
}

#[test]
fn compounds_that_fit_stay_whole() {
    // 12 × 12 lattice of 30-household buildings; 3 × 3 blocks are compounds of 270 households.
    let mut bs = lattice(12, 12, 30);
    let mut compounds = Vec::new();
    for (k, bi) in bs.iter_mut().enumerate() {
        let (i, j) = (k / 12, k % 12);
        let c = format!("Q{}{}", i / 3, j / 3);
        bi.compound = Some(c);
    }
    for ci in 0..4 {
        for cj in 0..4 {
            let (x0, y0) = (ci as f64 * 60.0 - 10.0, cj as f64 * 60.0 - 10.0);
            compounds.push(CompoundInput {
                id: format!("Q{ci}{cj}"),
                name: None,
                area: rect(x0, y0, x0 + 60.0, y0 + 60.0),
            });
        }
    }
    let q = quota(300, 600);
    let p = prepare(community(bs, compounds, vec![]), &q).expect("prepare");
    let out = partition(&p, &opts(q), None);
    let hh = check(&p, &out, &q);
    // 16 compounds of 270: each grid is a whole number of compounds, 2 each (540) → 8 grids.
    assert!(hh.iter().all(|&h| h % 270 == 0 && q.holds(h)), "{hh:?}");
    assert_eq!(hh.len(), 8);
}

/// A compound whose two buildings do not touch in the adjacency (the props regression: its
/// buildings sit in opposite corners with outside buildings between them).
fn corners_compound(corner_households: u32) -> Community {
    let mut bs = lattice(6, 4, 40);
    for bi in bs.iter_mut() {
        if bi.id == "B00-00" || bi.id == "B05-03" {
            bi.compound = Some("Q".into());
            bi.households = corner_households;
        }
    }
    community(bs, vec![], vec![])
}

#[test]
fn compound_in_pieces_is_joined_by_the_buildings_between() {
    let q = quota(300, 500);
    let p = prepare(corners_compound(10), &q).expect("prepare");
    let ix = |id: &str| p.atoms.iter().position(|a| a.id.building == id).expect("atom");
    let (a, z) = (ix("B00-00"), ix("B05-03"));
    assert!(p.adjacency.of(AtomIx(a as u32)).iter().all(|c| c.to.0 as usize != z), "the corners do not touch");
    // 22 × 40 + 2 × 10 = 900 households: 2 grids, the compound (20) whole in one of them.
    let out = partition(&p, &opts(q), None);
    let hh = check(&p, &out, &q);
    assert_eq!(out.plan.grid_of[a], out.plan.grid_of[z], "compound Q split: {hh:?}");
    assert!(hh.iter().all(|&h| q.holds(h)), "{hh:?}");
    assert!(
        out.notes
            .iter()
            .any(|n| n.starts_with("compound Q (20 households) lies in 2 pieces") && n.contains("kept in one grid")),
        "{:?}",
        out.notes
    );
    assert_eq!(partition(&p, &opts(q), None).plan, out.plan, "deterministic");
}

#[test]
fn compound_in_pieces_too_heavy_to_join_is_split_and_said() {
    // The corners hold 200 each (400 ≤ 500), but any chain between them passes ≥ 4 buildings of
    // 40 (160 > the 100 left): no grid within the maximum holds the compound whole and connected.
    let q = quota(300, 500);
    let p = prepare(corners_compound(200), &q).expect("prepare");
    let out = partition(&p, &opts(q), None);
    assert!(
        out.notes.iter().any(|n| n.starts_with("compound Q (400 households)") && n.ends_with("it is split")),
        "{:?}",
        out.notes
    );
    let hh = out.plan.households(&p.atoms);
    assert!(pieces(&p, &out.plan).iter().all(|&k| k == 1), "contiguous");
    assert!(hh.iter().all(|&h| q.holds(h)) || !out.infeasible.is_empty(), "{hh:?}");
}

#[test]
fn barrier_is_respected_when_possible() {
    // Two halves of 50 buildings × 40 = 2,000 households each, split by 长江路 at x = 90.
    let q = quota(300, 500);
    let barriers = vec![road("r1", "长江路", &[(90.0, -50.0), (90.0, 250.0)])];
    let p = prepare(community(lattice(10, 10, 40), vec![], barriers), &q).expect("prepare");
    let out = partition(&p, &opts(q), None);
    let hh = check(&p, &out, &q);
    assert!(hh.iter().all(|&h| q.holds(h)));
    for g in 0..out.plan.grids() {
        let sides: BTreeSet<bool> = p
            .atoms
            .iter()
            .zip(&out.plan.grid_of)
            .filter(|(_, x)| x.0 as usize == g)
            .map(|(a, _)| a.point.x() < 90.0)
            .collect();
        assert_eq!(sides.len(), 1, "grid {g} spans 长江路");
    }
    let r = report(&p, &out.plan, &q, &[], &out, std::time::Duration::ZERO);
    assert_eq!(r.barrier_crossings, 0);
    assert_eq!(r.within_quota_share, 1.0);
    assert_eq!(r.contiguous_share, 1.0);
}

#[test]
fn too_small_community_is_one_grid_and_says_why() {
    let q = quota(300, 500);
    let bs = vec![b("A", 0.0, 0.0, 100, None), b("B", 30.0, 0.0, 60, None), b("C", 0.0, 30.0, 52, None)];
    let p = prepare(community(bs, vec![], vec![]), &q).expect("prepare");
    let out = partition(&p, &opts(q), None);
    let hh = check(&p, &out, &q);
    assert_eq!(hh, vec![212]);
    assert_eq!(out.infeasible.len(), 1);
    assert!(out.infeasible[0].contains("212") && out.infeasible[0].contains("300"), "{:?}", out.infeasible);
    assert!(out.infeasible[0].contains("和平社区"));
}

#[test]
fn isolated_compound_joins_across_the_road_and_is_reported() {
    // 幸福里: 4 buildings × 53 = 212 households east of 长江路 (x = 100); 20 × 40 = 800 west of it.
    let q = quota(300, 500);
    let mut bs = lattice(4, 5, 40);
    for (k, (x, y)) in [(120.0, 0.0), (140.0, 0.0), (120.0, 20.0), (140.0, 20.0)].into_iter().enumerate() {
        bs.push(b(&format!("X{k}"), x, y, 53, Some("q-xfl")));
    }
    let compounds =
        vec![CompoundInput {
            id: "q-xfl".into(), name: Some("幸福里".into()), area: rect(110.0, -10.0, 150.0, 30.0)
        }];
    let barriers = vec![road("r1", "长江路", &[(100.0, -100.0), (100.0, 200.0)])];
    let p = prepare(community(bs, compounds, barriers), &q).expect("prepare");
    let out = partition(&p, &opts(q), None);
    let hh = check(&p, &out, &q);
    assert!(hh.iter().all(|&h| q.holds(h)), "{hh:?}");
    assert!(out.infeasible.is_empty());
    let note = out.notes.iter().find(|n| n.contains("幸福里")).expect("a note on 幸福里");
    assert!(note.contains("212") && note.contains("长江路") && note.contains("300"), "{note}");
}

#[test]
fn building_over_max_is_split_by_units_and_floors() {
    let q = quota(300, 500);
    let mut bs = lattice(5, 4, 40); // 800
    let mut big = b("BIG", 200.0, 0.0, 900, None);
    big.units = vec![("1".into(), 300), ("2".into(), 300), ("3".into(), 300)];
    bs.push(big);
    let mut huge = b("HUGE", 200.0, 40.0, 1300, None);
    huge.units = vec![("1".into(), 1100), ("2".into(), 200)];
    bs.push(huge);
    let p = prepare(community(bs, vec![], vec![]), &q).expect("prepare");
    // Atoms: units of BIG, and HUGE's unit 1 in floor slices ≤ 500 that add up to 1,100.
    let big_units: Vec<&str> =
        p.atoms.iter().filter(|a| a.id.building == "BIG").filter_map(|a| a.id.unit.as_deref()).collect();
    assert_eq!(big_units, vec!["1", "2", "3"]);
    let slices: Vec<(&str, u32)> = p
        .atoms
        .iter()
        .filter(|a| a.id.building == "HUGE" && a.id.unit.as_deref().is_some_and(|u| u.starts_with("1#")))
        .map(|a| (a.id.unit.as_deref().unwrap_or_default(), a.households))
        .collect();
    assert_eq!(slices.len(), 3);
    assert!(slices.iter().all(|&(_, h)| h <= 500));
    assert_eq!(slices.iter().map(|s| s.1).sum::<u32>(), 1100);
    assert!(p.floor_splits.iter().any(|n| n.contains("HUGE") && n.contains("1#")), "{:?}", p.floor_splits);
    let out = partition(&p, &opts(q), None);
    assert!(out.notes.iter().any(|n| n.contains("HUGE")));
    let hh = check(&p, &out, &q);
    assert!(hh.iter().all(|&h| q.holds(h)), "{hh:?}");
    assert_eq!(hh.iter().sum::<u64>(), 800 + 900 + 1300);
}

#[test]
fn coarse_parts_that_cannot_fit_are_named() {
    // Three buildings of 450 next to each other, 300–500: 1,350 → k = 3; fine. Two of 450 and one
    // of 150: 1,050 → k in 3..=3 (ceil 1050/500 = 3, floor 1050/300 = 3) but 150 cannot reach 300.
    let q = quota(300, 500);
    let bs = vec![b("A", 0.0, 0.0, 450, None), b("B", 30.0, 0.0, 450, None), b("C", 60.0, 0.0, 150, None)];
    let p = prepare(community(bs, vec![], vec![]), &q).expect("prepare");
    let out = partition(&p, &opts(q), None);
    let hh = check(&p, &out, &q);
    assert!(hh.iter().any(|&h| !q.holds(h)));
    assert!(!out.infeasible.is_empty());
    assert!(out.infeasible.iter().any(|s| s.contains("building")), "{:?}", out.infeasible);
}

#[test]
fn bad_input_is_an_error() {
    use wangge_partition::PartitionError;
    let q = quota(300, 500);
    let zero = prepare(community(vec![b("A", 0.0, 0.0, 0, None)], vec![], vec![]), &q);
    assert!(matches!(zero, Err(PartitionError::NoHouseholds(ref id)) if id == "A"));
    let dup = prepare(community(vec![b("A", 0.0, 0.0, 5, None), b("A", 1.0, 0.0, 5, None)], vec![], vec![]), &q);
    assert!(matches!(dup, Err(PartitionError::DuplicateId(ref id)) if id == "A"));
    let mut bad_units = b("U", 0.0, 0.0, 10, None);
    bad_units.units = vec![("1".into(), 4), ("2".into(), 5)];
    let mis = prepare(community(vec![bad_units], vec![], vec![]), &q);
    assert!(matches!(mis, Err(PartitionError::UnitsMismatch { units: 9, households: 10, .. })));
    let mut c = community(vec![b("IN", 5.0, 5.0, 10, None), b("OUT", 50.0, 5.0, 10, None)], vec![], vec![]);
    c.boundary = rect(0.0, 0.0, 10.0, 10.0).0.into_iter().next();
    match prepare(c, &q) {
        Err(PartitionError::OutsideBoundary { count: 1, examples, .. }) => assert!(examples.contains("OUT")),
        other => panic!("expected OutsideBoundary, got {other:?}"),
    }
}

/// Random-ish synthetic community: `n` points on a jittered lattice, households 20–180.
fn synthetic(n: usize, seed: u64) -> Vec<BuildingInput> {
    let side = (n as f64).sqrt().ceil() as usize;
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|k| {
            let (i, j) = ((k % side) as f64, (k / side) as f64);
            b(&format!("S{k:06}"), i * 25.0 + rnd() * 15.0, j * 25.0 + rnd() * 15.0, 20 + (rnd() * 160.0) as u32, None)
        })
        .collect()
}

#[test]
fn repartition_after_five_percent_change_moves_little() {
    let q = quota(300, 500);
    let bs = synthetic(1500, 3);
    let p = prepare(community(bs.clone(), vec![], vec![]), &q).expect("prepare");
    let first = partition(&p, &opts(q), None);
    check(&p, &first, &q);
    let previous = Previous {
        grid_of: p
            .atoms
            .iter()
            .zip(&first.plan.grid_of)
            .map(|(a, g)| (a.id.clone(), first.plan.grid_ids[g.0 as usize].clone()))
            .collect(),
    };
    // Change 5% of households: 10 buildings removed, 10 new ones, then buildings ±40% until 5%.
    let total: u64 = bs.iter().map(|x| u64::from(x.households)).sum();
    let mut changed = bs.clone();
    let mut delta = 0i64;
    for k in 0..10 {
        let gone = changed.remove(100 + k * 120);
        delta += i64::from(gone.households);
    }
    for k in 0..10 {
        changed.push(b(&format!("NEW{k}"), 12.0 + k as f64 * 90.0, 312.0, 80, None));
        delta += 80;
    }
    let mut k = 3;
    while (delta as f64) < 0.05 * total as f64 {
        let x = &mut changed[k % 1490];
        let d = (i64::from(x.households) * 2 / 5).max(1);
        let d = if k % 2 == 0 { d } else { -d };
        x.households = (i64::from(x.households) + d) as u32;
        delta += d.abs();
        k += 37;
    }
    let share = delta as f64 / total as f64;
    assert!((0.03..=0.08).contains(&share), "change of {share}");
    let p2 = prepare(community(changed, vec![], vec![]), &q).expect("prepare");
    let second = partition(&p2, &opts(q), Some(&previous));
    let hh = check(&p2, &second, &q);
    assert!(hh.iter().all(|&h| q.holds(h)), "{hh:?}");
    // Households moved, measured here: atoms present in both plans whose grid id changed.
    let mut moved = 0u64;
    let mut total2 = 0u64;
    for (a, g) in p2.atoms.iter().zip(&second.plan.grid_of) {
        total2 += u64::from(a.households);
        if previous.grid_of.get(&a.id).is_some_and(|before| *before != second.plan.grid_ids[g.0 as usize]) {
            moved += u64::from(a.households);
        }
    }
    assert_eq!(moved, second.households_moved);
    eprintln!("re-partition: changed {share:.3}, moved {moved} of {total2}, {} grids changed", second.grids_changed);
    assert!((moved as f64) < 0.10 * total2 as f64, "moved {moved} of {total2}");
}

#[test]
fn five_thousand_buildings_in_quota_and_contiguous() {
    let q = quota(300, 500);
    let p = prepare(community(synthetic(5000, 11), vec![], vec![]), &q).expect("prepare");
    let t = std::time::Instant::now();
    let out = partition(&p, &opts(q), None);
    let dt = t.elapsed();
    let hh = check(&p, &out, &q);
    assert!(hh.iter().all(|&h| q.holds(h)), "{:?}", hh.iter().filter(|&&h| !q.holds(h)).collect::<Vec<_>>());
    eprintln!("5,000 buildings: {} grids in {dt:?}", hh.len());
}

/// Scale smoke: 20,000 and 100,000 buildings (run in release: `cargo test --release -p wangge-partition --test districting scale -- --ignored --nocapture`).
#[test]
#[ignore]
fn scale_20k_and_100k() {
    let q = quota(300, 500);
    for n in [5_000usize, 20_000, 100_000] {
        let bs = synthetic(n, 5);
        let t0 = std::time::Instant::now();
        let p = prepare(community(bs, vec![], vec![]), &q).expect("prepare");
        let t1 = std::time::Instant::now();
        let out = partition(&p, &opts(q), None);
        let t2 = std::time::Instant::now();
        let polys = wangge_partition::tessellate::tessellate(&p, &out.plan);
        let t3 = std::time::Instant::now();
        let hh = check(&p, &out, &q);
        let bad = hh.iter().filter(|&&h| !q.holds(h)).count();
        let pp = match &polys {
            Ok(polys) => {
                let r = report(&p, &out.plan, &q, polys, &out, t3 - t0);
                format!(
                    "Polsby-Popper mean {:.3} min {:.3}",
                    r.polsby_popper_mean.unwrap_or(0.0),
                    r.polsby_popper_min.unwrap_or(0.0)
                )
            }
            Err(e) => format!("tessellate failed: {e}"),
        };
        eprintln!(
            "{n} buildings: prepare {:?}, partition {:?}, tessellate {:?}, total {:?}; {} grids, {bad} out of quota; {pp}",
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t3 - t0,
            hh.len()
        );
        assert_eq!(bad, 0);
    }
}

/// The synthetic city (2,000 buildings) read back through wangge-io, each community partitioned on
/// its own with its compounds and its major roads as barriers: every grid within 300–500 unless
/// the outcome proves it infeasible, every grid contiguous, no fitting compound split.
#[test]
fn synthetic_city_per_community() {
    use geo::{Centroid, Intersects};
    use wangge_core::projection::LocalFrame;
    use wangge_core::{RegionLevel, Shape};
    use wangge_io::{ReadOptions, read};
    use wangge_synth::{SynthOptions, generate};

    let dir = tempfile::tempdir().expect("temp dir");
    let so = SynthOptions { buildings: 2000, seed: 4, ..Default::default() };
    generate(&so, dir.path(), &|_| {}).expect("synthetic city");
    let ro = ReadOptions::default();
    let buildings = read(&dir.path().join("buildings.geojson"), &ro).expect("buildings").layers.buildings;
    let bounds = read(&dir.path().join("boundaries.geojson"), &ro).expect("boundaries").layers;
    let edges = read(&dir.path().join("network.geojson"), &ro).expect("network").layers.edges;
    let frame = LocalFrame::for_lonlat(so.origin.0, so.origin.1).expect("frame");
    let barriers: Vec<Barrier> = edges
        .iter()
        .filter(|e| matches!(e.highway.as_str(), "primary" | "secondary" | "tertiary" | "trunk"))
        .map(|e| Barrier {
            id: e.source_id.clone(),
            kind: e.highway.clone(),
            name: e.name.clone(),
            line: frame.project(&e.geometry).expect("project road"),
        })
        .collect();
    let compounds: Vec<CompoundInput> = bounds
        .compounds
        .iter()
        .map(|c| CompoundInput {
            id: c.source_id.clone(),
            name: c.name.clone(),
            area: frame.project(&c.area).expect("project"),
        })
        .collect();
    let mut by_community: BTreeMap<String, Vec<BuildingInput>> = BTreeMap::new();
    for bl in &buildings {
        let p = match &bl.shape {
            Shape::Footprint(mp) => mp.centroid().expect("footprint centroid"),
            Shape::Point(p) => *p,
        };
        let point = frame.project(&p).expect("project building");
        // The community the building lies in (its own field, else the community outline holding it).
        let community = bl.community.clone().or_else(|| {
            bounds
                .regions
                .iter()
                .find(|r| r.level == RegionLevel::Community && r.area.intersects(&p))
                .map(|r| r.source_id.clone())
        });
        by_community.entry(community.unwrap_or_default()).or_default().push(BuildingInput {
            id: bl.source_id.clone(),
            households: bl.households.count,
            units: bl.units.iter().map(|u| (u.label.clone(), u.households)).collect(),
            point,
            footprint: None,
            compound: bl.compound.clone(),
        });
    }
    let q = quota(300, 500);
    let mut problems = Vec::new();
    for (id, bs) in by_community {
        let region = bounds.regions.iter().find(|r| r.level == RegionLevel::Community && r.source_id == id);
        let boundary = region.and_then(|r| frame.project(&r.area).ok()).and_then(|a| a.0.into_iter().next());
        let mine: Vec<Barrier> = match &boundary {
            Some(bd) => barriers.iter().filter(|b| b.line.intersects(bd)).cloned().collect(),
            None => barriers.clone(),
        };
        let c = Community {
            id: id.clone(),
            name: region.map(|r| r.name.clone()).unwrap_or_else(|| id.clone()),
            code: None,
            boundary,
            buildings: bs,
            compounds: compounds.clone(),
            barriers: mine,
        };
        problems.push(prepare(c, &q).expect("prepare community"));
    }
    assert!(problems.len() >= 3, "a few communities: {}", problems.len());
    let outcomes = partition_all(&problems, &opts(q), None);
    let (mut grids, mut within, mut proven) = (0usize, 0usize, 0usize);
    for (p, out) in problems.iter().zip(&outcomes) {
        let hh = check(p, out, &q);
        grids += hh.len();
        let ok = hh.iter().filter(|&&h| q.holds(h)).count();
        // Out of quota only where the outcome proves it; the simplest proof is checked here too
        // (no whole number of grids of 300–500 adds up to the total).
        let total: u64 = hh.iter().sum();
        let by_total = !(1..=total / 300).any(|k| total <= 500 * k);
        if by_total {
            assert!(out.proven, "{}: total {total} proves it, the outcome does not say so", p.community.id);
        }
        let provable = out.proven;
        within += if provable { hh.len() } else { ok };
        if ok < hh.len() {
            assert!(provable, "{}: {:?}", p.community.id, out.infeasible);
            proven += 1;
            if std::env::var("DUMP").is_ok() {
                for (a, g) in p.atoms.iter().zip(&out.plan.grid_of) {
                    eprintln!(
                        "  {} {:?} {} {:?} ({:.0},{:.0}) -> {} ({})",
                        a.id.building,
                        a.id.unit,
                        a.households,
                        a.compound,
                        a.point.x(),
                        a.point.y(),
                        out.plan.grid_ids[g.0 as usize],
                        hh[g.0 as usize]
                    );
                }
                eprintln!("  notes {:?}", out.notes);
            }
            eprintln!("{}: {:?}", p.community.id, out.infeasible);
        }
    }
    eprintln!(
        "synthetic city: {} communities, {grids} grids, {within} within quota, {proven} communities with a proven infeasibility",
        problems.len()
    );
    assert_eq!(within, grids, "every grid within quota on the synthetic city where not proven infeasible");
}

#[test]
fn polsby_popper_and_report_table() {
    use wangge_partition::metrics::polsby_popper;
    let square = rect(0.0, 0.0, 10.0, 10.0).0.remove(0);
    assert!((polsby_popper(&square) - std::f64::consts::FRAC_PI_4).abs() < 1e-9);
    let thin = rect(0.0, 0.0, 100.0, 1.0).0.remove(0);
    assert!(polsby_popper(&thin) < 0.04);
    let q = quota(300, 500);
    let p = prepare(community(lattice(6, 5, 40), vec![], vec![]), &q).expect("prepare");
    let out = partition(&p, &opts(q), None);
    let r = report(&p, &out.plan, &q, &[square.clone(), thin], &out, std::time::Duration::from_millis(3));
    assert_eq!(r.households, 1200);
    assert_eq!(r.grids, out.plan.grids());
    assert!(r.polsby_popper_min.is_some_and(|m| m < 0.04));
    let table = r.to_string();
    assert!(table.contains("within quota") && table.contains("100.0%"), "{table}");
    assert!(serde_json::to_string(&r).expect("json").contains("\"polsby_popper_mean\""));
}
