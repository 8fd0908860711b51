//! Communities of the 1,000,000-building synthetic city (`wangge synth --buildings 1000000`, seed 1)
//! where the engine once left grids out of quota without proving that no plan could do better.
//! They were cut out by `tests/fixtures/cut_communities.py` into `tests/fixtures/city1m_hard/` and
//! are read here as `wangge partition --buildings … --boundary …` reads them (compounds from the
//! boundary file, no barriers). Every grid must be within the quota, or the outcome must prove it
//! impossible; and every grid contiguous, every fitting compound whole.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use geo::{BoundingRect, Contains, MultiPoint, MultiPolygon, Polygon};
use wangge_core::projection::LocalFrame;
use wangge_core::{RegionLevel, Shape};
use wangge_io::{GeoJsonRole, ReadOptions, read};
use wangge_partition::atoms::prepare;
use wangge_partition::districting::{Options, partition_all};
use wangge_partition::{AtomIx, BuildingInput, Community, CompoundInput, Problem, Quota};

fn fixture_problems(dir: &Path, q: &Quota) -> Vec<Problem> {
    let ro = ReadOptions::default();
    let buildings = read(&dir.join("buildings.geojson"), &ro).expect("buildings").layers.buildings;
    let bounds = read(&dir.join("boundaries.geojson"), &ReadOptions { geojson_role: GeoJsonRole::Boundaries, ..ro })
        .expect("boundaries")
        .layers;
    let points: Vec<geo::Point<f64>> = buildings.iter().filter_map(|b| b.shape.point()).collect();
    let extent = MultiPoint(points).bounding_rect().expect("extent");
    let frame = LocalFrame::for_lonlat(extent.center().x, extent.center().y).expect("frame");
    let communities: Vec<&wangge_core::Region> =
        bounds.regions.iter().filter(|r| r.level == RegionLevel::Community).collect();
    let mut groups: Vec<Vec<&wangge_core::Building>> = vec![Vec::new(); communities.len()];
    for b in &buildings {
        let p = b.shape.point().expect("building point");
        let i = communities.iter().position(|r| r.area.contains(&p)).expect("building in a community");
        groups[i].push(b);
    }
    let compound_areas: BTreeMap<&str, (&wangge_core::Compound, MultiPolygon<f64>)> = bounds
        .compounds
        .iter()
        .map(|c| (c.source_id.as_str(), (c, frame.project(&c.area).expect("project compound"))))
        .collect();
    communities
        .iter()
        .zip(groups)
        .map(|(r, bs)| {
            let mut used: BTreeSet<&str> = BTreeSet::new();
            let buildings: Vec<BuildingInput> = bs
                .iter()
                .map(|b| {
                    if let Some(c) = &b.compound {
                        used.insert(c.as_str());
                    }
                    BuildingInput {
                        id: b.source_id.clone(),
                        households: b.households.count,
                        units: b.units.iter().map(|u| (u.label.clone(), u.households)).collect(),
                        point: frame.project(&b.shape.point().expect("point")).expect("project point"),
                        footprint: match &b.shape {
                            Shape::Footprint(mp) => Some(frame.project(mp).expect("project footprint")),
                            Shape::Point(_) => None,
                        },
                        compound: b.compound.clone(),
                    }
                })
                .collect();
            let compounds = used
                .iter()
                .map(|id| {
                    let (c, area) = &compound_areas[id];
                    CompoundInput { id: id.to_string(), name: c.name.clone(), area: area.clone() }
                })
                .collect();
            let area = frame.project(&r.area).expect("project community");
            let boundary: Option<Polygon<f64>> =
                area.0.into_iter().max_by(|a, b| geo::Area::unsigned_area(a).total_cmp(&geo::Area::unsigned_area(b)));
            let c = Community {
                id: r.code.clone().unwrap_or_else(|| r.name.clone()),
                name: r.name.clone(),
                code: r.code.clone(),
                boundary,
                buildings,
                compounds,
                barriers: Vec::new(),
            };
            prepare(c, q).expect("prepare")
        })
        .collect()
}

/// Grids of the plan that are not connected in the adjacency.
fn disconnected(p: &Problem, grid_of: &[u32], grids: usize) -> usize {
    let n = p.atoms.len();
    let mut seen = vec![false; n];
    let mut pieces = vec![0usize; grids];
    for s in 0..n {
        if seen[s] {
            continue;
        }
        pieces[grid_of[s] as usize] += 1;
        seen[s] = true;
        let mut queue = VecDeque::from([s]);
        while let Some(a) = queue.pop_front() {
            for ct in p.adjacency.of(AtomIx(a as u32)) {
                let t = ct.to.0 as usize;
                if !seen[t] && grid_of[t] == grid_of[s] {
                    seen[t] = true;
                    queue.push_back(t);
                }
            }
        }
    }
    pieces.iter().filter(|&&k| k != 1).count()
}

#[test]
fn hard_communities_of_the_1m_city_are_within_quota_or_proven() {
    let q = Quota::new(300, 500, None).expect("quota");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/city1m_hard");
    let problems = fixture_problems(&dir, &q);
    assert_eq!(problems.len(), 10, "the fixture holds ten communities");
    let outcomes = partition_all(&problems, &Options { quota: q, seed: 0 }, None);
    let mut failures = Vec::new();
    let (mut grids, mut within, mut proven) = (0, 0, 0);
    for (p, out) in problems.iter().zip(&outcomes) {
        let grid_of: Vec<u32> = out.plan.grid_of.iter().map(|g| g.0).collect();
        let mut hh = vec![0u64; out.plan.grids()];
        for (a, &g) in p.atoms.iter().zip(&grid_of) {
            hh[g as usize] += u64::from(a.households);
        }
        assert_eq!(disconnected(p, &grid_of, hh.len()), 0, "{}: every grid contiguous", p.community.id);
        let mut compounds: BTreeMap<&str, (u64, BTreeSet<u32>)> = BTreeMap::new();
        for (a, &g) in p.atoms.iter().zip(&grid_of) {
            if let Some(c) = &a.compound {
                let e = compounds.entry(c.as_str()).or_default();
                e.0 += u64::from(a.households);
                e.1.insert(g);
            }
        }
        for (c, (h, gs)) in &compounds {
            if *h <= u64::from(q.max) && gs.len() > 1 {
                let said = out.notes.iter().any(|n| n.contains("it is split"));
                assert!(said, "{}: compound {c} ({h}) split without a note", p.community.id);
            }
        }
        let ok = hh.iter().filter(|&&h| q.holds(h)).count();
        grids += hh.len();
        within += ok;
        if ok < hh.len() {
            if out.proven {
                proven += 1;
                assert!(!out.infeasible.is_empty(), "{}: a proof names its reason", p.community.id);
                eprintln!("{}: {}", p.community.id, out.infeasible.join("; "));
            } else {
                failures.push(format!("{}: {hh:?} {:?}", p.community.id, out.infeasible));
            }
        }
    }
    eprintln!("{grids} grids, {within} within quota, {proven} communities proven infeasible");
    assert!(failures.is_empty(), "out of quota without a proof:\n{}", failures.join("\n"));
}
