//! Partition benchmarks: one community of 5,000 buildings, the Helsinki sample, a 100,000-building
//! street, each end to end (atoms, adjacency, districting with repair and polish, codes, polygons).
//!
//! Run: `cargo bench -p wangge-benches --bench partition`. The 1,000,000-building synthetic city
//! (`city_1m_per_community`: every community partitioned on its own, on all cores, with its
//! compounds and major roads) is generated and read once (about a minute) before it is timed; run
//! it alone with `cargo bench -p wangge-benches --bench partition -- city_1m`.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use geo::Point;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use wangge_partition::districting::{Options, partition};
use wangge_partition::{BuildingInput, Community, Quota};

/// A jittered lattice of `n` buildings 30 m apart with 20–180 households each.
fn lattice(n: usize, seed: u64) -> Community {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let side = (n as f64).sqrt().ceil() as usize;
    let buildings = (0..n)
        .map(|i| BuildingInput {
            id: format!("b{i:07}"),
            households: rng.random_range(20..=180),
            units: vec![],
            point: Point::new(
                (i % side) as f64 * 30.0 + rng.random_range(-8.0..8.0),
                (i / side) as f64 * 30.0 + rng.random_range(-8.0..8.0),
            ),
            footprint: None,
            compound: None,
        })
        .collect();
    Community {
        id: "c".into(),
        name: "c".into(),
        code: None,
        boundary: None,
        buildings,
        compounds: vec![],
        barriers: vec![],
    }
}

fn end_to_end(c: Community, quota: &Quota) -> usize {
    let problem = wangge_partition::atoms::prepare(c, quota).unwrap();
    let mut out = partition(&problem, &Options { quota: *quota, seed: 1 }, None);
    wangge_partition::codes::assign_codes(&problem, &mut out.plan, None);
    let polygons = wangge_partition::tessellate::tessellate(&problem, &out.plan).unwrap();
    polygons.len()
}

fn helsinki() -> Community {
    use wangge_core::projection::LocalFrame;
    use wangge_io::{ReadOptions, read};
    let opts = ReadOptions::default();
    let mut l = read(&wangge_testkit::geodata("helsinki/Helsinki.osm.pbf"), &opts).unwrap().layers;
    let grid = read(&wangge_testkit::geodata("helsinki/helsinki_population_grid_2020.gpkg"), &opts).unwrap().layers;
    l.replace_dataset("grid", grid);
    wangge_io::estimate::estimate_households(&mut l, &Default::default());
    let frame = LocalFrame::for_lonlat(24.944, 60.171).unwrap();
    let buildings = l
        .buildings
        .iter()
        .filter(|b| b.households.count > 0)
        .filter_map(|b| {
            let (p, fp) = match &b.shape {
                wangge_core::Shape::Footprint(mp) => {
                    (wangge_core::geometry::inside_point(mp)?, Some(frame.project(mp).unwrap()))
                }
                wangge_core::Shape::Point(p) => (*p, None),
            };
            Some(BuildingInput {
                id: b.source_id.clone(),
                households: b.households.count,
                units: vec![],
                point: frame.project(&p).unwrap(),
                footprint: fp,
                compound: None,
            })
        })
        .collect();
    Community {
        id: "helsinki".into(),
        name: "helsinki".into(),
        code: None,
        boundary: None,
        buildings,
        compounds: vec![],
        barriers: vec![],
    }
}

/// The synthetic city of `n` buildings, read back through wangge-io and cut into communities
/// (local metric frame, compounds, major roads as barriers), as the CLI's file mode does.
fn synthetic_city(n: u64) -> Vec<Community> {
    use std::collections::BTreeMap;
    use wangge_core::RegionLevel;
    use wangge_core::atlas::AreaIndex;
    use wangge_core::projection::LocalFrame;
    use wangge_io::{ReadOptions, read};
    use wangge_partition::{Barrier, CompoundInput};
    use wangge_synth::{SynthOptions, generate};

    let dir = tempfile::tempdir().unwrap();
    let so = SynthOptions { buildings: n, seed: 1, ..Default::default() };
    generate(&so, dir.path(), &|_| {}).unwrap();
    let ro = ReadOptions::default();
    let buildings = read(&dir.path().join("buildings.geojson"), &ro).unwrap().layers.buildings;
    let bounds = read(&dir.path().join("boundaries.geojson"), &ro).unwrap().layers;
    let edges = read(&dir.path().join("network.geojson"), &ro).unwrap().layers.edges;
    let frame = LocalFrame::for_lonlat(so.origin.0, so.origin.1).unwrap();
    let communities: Vec<&wangge_core::Region> =
        bounds.regions.iter().filter(|r| r.level == RegionLevel::Community).collect();
    let index = AreaIndex::new(communities.iter().map(|r| &r.area).collect());
    let barriers: Vec<(geo::Rect<f64>, Barrier)> = edges
        .iter()
        .filter(|e| matches!(e.highway.as_str(), "primary" | "secondary" | "tertiary" | "trunk"))
        .map(|e| {
            let line = frame.project(&e.geometry).unwrap();
            (
                geo::BoundingRect::bounding_rect(&line).unwrap(),
                Barrier { id: e.source_id.clone(), kind: e.highway.clone(), name: e.name.clone(), line },
            )
        })
        .collect();
    let compounds: BTreeMap<&str, CompoundInput> = bounds
        .compounds
        .iter()
        .map(|c| {
            (
                c.source_id.as_str(),
                CompoundInput { id: c.source_id.clone(), name: c.name.clone(), area: frame.project(&c.area).unwrap() },
            )
        })
        .collect();
    let mut by_community: BTreeMap<usize, Vec<BuildingInput>> = BTreeMap::new();
    for bl in &buildings {
        let p = bl.shape.point().unwrap();
        let Some(&k) = index.containing(p).first() else { continue };
        by_community.entry(k).or_default().push(BuildingInput {
            id: bl.source_id.clone(),
            households: bl.households.count,
            units: bl.units.iter().map(|u| (u.label.clone(), u.households)).collect(),
            point: frame.project(&p).unwrap(),
            footprint: None,
            compound: bl.compound.clone(),
        });
    }
    by_community
        .into_iter()
        .map(|(k, bs)| {
            let region = communities[k];
            let boundary = frame.project(&region.area).ok().and_then(|a| a.0.into_iter().next());
            let rect = boundary.as_ref().and_then(geo::BoundingRect::bounding_rect);
            let mine = barriers
                .iter()
                .filter(|(r, _)| rect.is_some_and(|b| geo::Intersects::intersects(&b, r)))
                .map(|(_, b)| b.clone())
                .collect();
            let own: Vec<CompoundInput> = bs
                .iter()
                .filter_map(|b| b.compound.as_deref())
                .collect::<std::collections::BTreeSet<&str>>()
                .into_iter()
                .filter_map(|c| compounds.get(c).cloned())
                .collect();
            Community {
                id: region.source_id.clone(),
                name: region.name.clone(),
                code: region.code.clone(),
                boundary,
                buildings: bs,
                compounds: own,
                barriers: mine,
            }
        })
        .collect()
}

fn city(c: &mut Criterion) {
    use rayon::prelude::*;
    let quota = Quota::new(300, 500, None).unwrap();
    let communities = synthetic_city(1_000_000);
    let mut g = c.benchmark_group("partition");
    g.sample_size(10);
    g.bench_function("city_1m_per_community", |b| {
        b.iter_batched(
            || communities.clone(),
            |cs| black_box(cs.into_par_iter().map(|c| end_to_end(c, &quota)).sum::<usize>()),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let quota = Quota::new(300, 500, None).unwrap();
    let mut g = c.benchmark_group("partition");
    g.sample_size(10);
    let c5k = lattice(5_000, 1);
    g.bench_function("community_5k_buildings", |b| {
        b.iter_batched(|| c5k.clone(), |c| black_box(end_to_end(c, &quota)), BatchSize::LargeInput)
    });
    let hel = helsinki();
    g.bench_function("helsinki_sample", |b| {
        b.iter_batched(|| hel.clone(), |c| black_box(end_to_end(c, &quota)), BatchSize::LargeInput)
    });
    let c20k = lattice(20_000, 2);
    g.bench_function("community_20k_buildings", |b| {
        b.iter_batched(|| c20k.clone(), |c| black_box(end_to_end(c, &quota)), BatchSize::LargeInput)
    });
    let c100k = lattice(100_000, 3);
    g.bench_function("street_100k_buildings", |b| {
        b.iter_batched(|| c100k.clone(), |c| black_box(end_to_end(c, &quota)), BatchSize::LargeInput)
    });
    g.finish();
}

criterion_group!(benches, bench, city);
criterion_main!(benches);
