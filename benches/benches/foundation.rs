//! Foundation benchmarks: reading the real samples, building the in-memory atlas, answering a
//! map's bbox query, estimating households, and generating a synthetic city.
//!
//! Run: `cargo bench -p wangge-benches` (criterion; 2-core machine: compare medians within one run).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use wangge_core::Atlas;
use wangge_core::geometry::Bbox;
use wangge_io::{ReadOptions, read};
use wangge_testkit::geodata;

fn import(c: &mut Criterion) {
    let mut g = c.benchmark_group("read");
    g.sample_size(10);
    let opts = ReadOptions::default();
    for (name, rel) in [
        ("beijing_pbf", "beijing/haidian-liudaokou.osm.pbf"),
        ("beijing_xml", "beijing/haidian-liudaokou.osm"),
        ("helsinki_pbf", "helsinki/Helsinki.osm.pbf"),
        ("helsinki_gpkg", "helsinki/helsinki_population_grid_2020.gpkg"),
    ] {
        let path = geodata(rel);
        g.bench_function(name, |b| b.iter(|| black_box(read(&path, &opts).unwrap().layers.buildings.len())));
    }
    g.finish();
}

fn helsinki_layers() -> wangge_core::Layers {
    let opts = ReadOptions::default();
    let mut l = read(&geodata("helsinki/Helsinki.osm.pbf"), &opts).unwrap().layers;
    let grid = read(&geodata("helsinki/helsinki_population_grid_2020.gpkg"), &opts).unwrap().layers;
    l.replace_dataset("grid", grid);
    l
}

fn atlas(c: &mut Criterion) {
    let layers = helsinki_layers();
    c.bench_function("atlas_new_helsinki", |b| b.iter(|| black_box(Atlas::new(layers.clone()).stats().buildings)));
    let a = Atlas::new(layers.clone());
    // A typical map viewport at zoom 16 in the centre of the extract.
    let q = Bbox { min_lon: 24.940, min_lat: 60.168, max_lon: 24.948, max_lat: 60.172 };
    c.bench_function("buildings_in_viewport_helsinki", |b| b.iter(|| black_box(a.buildings_in(&q).len())));
    c.bench_function("estimate_households_helsinki", |b| {
        b.iter_batched(
            || layers.clone(),
            |mut l| {
                l.assign_containers();
                black_box(wangge_io::estimate::estimate_households(&mut l, &Default::default()))
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

fn synth(c: &mut Criterion) {
    let mut g = c.benchmark_group("synth");
    g.sample_size(10);
    let dir = tempfile::tempdir().unwrap();
    let opts = wangge_synth::SynthOptions { buildings: 20_000, seed: 7, ..Default::default() };
    g.bench_function("synth_20k_buildings", |b| {
        b.iter(|| black_box(wangge_synth::generate(&opts, dir.path(), &|_| {}).unwrap().households))
    });
    g.finish();
}

criterion_group!(benches, import, atlas, synth);
criterion_main!(benches);
