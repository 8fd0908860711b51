//! Partition benchmarks: one community of 5,000 buildings, the Helsinki sample, a 100,000-building
//! street, each end to end (atoms, adjacency, districting with repair and polish, codes, polygons).
//!
//! Run: `cargo bench -p wangge-benches --bench partition`. The 1,000,000-building city is measured
//! with the CLI (see README): `wangge synth --buildings 1000000` then `wangge partition --boundary`.
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

criterion_group!(benches, bench);
criterion_main!(benches);
