//! Tile benchmarks: every layer of every tile over the Helsinki sample at z14–z16 (uncached
//! encoding, reported as tiles/s), and low-zoom tiles of a 100,000-building synthetic city
//! (generated to files and read back through wangge-io, as an import would), plus a cache hit.
//!
//! Run: `cargo bench -p wangge-benches --bench tiles`.
#![allow(missing_docs, clippy::unwrap_used)]

/// The allocator of the `wangge` binary, so these figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::hint::black_box;
use wangge_core::{Atlas, Layers};
use wangge_io::{ReadOptions, read};
use wangge_tiles::{
    AreaFeature, Attr, Audience, BuildingExtra, BuildingExtras, CacheOptions, LayerName, TileId, TileService,
    TileSource,
};

/// Deterministic extras: a completeness score and kindergarten coverage per building.
fn extras(a: &Atlas) -> BuildingExtras {
    a.layers()
        .buildings
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut covered = BTreeMap::new();
            covered.insert("kindergarten".to_string(), i % 3 == 0);
            let e = BuildingExtra {
                grid: Some(format!("G{}", i % 50)),
                completeness: Some((i % 11) as f64 / 10.0),
                covered,
                attrs: vec![],
            };
            (b.source_id.clone(), e)
        })
        .collect()
}

/// A plan of 8 × 8 rectangular grids over the extent (stand-in outlines for the grids layer).
fn block_grids(a: &Atlas) -> Vec<AreaFeature> {
    let e = a.extent().unwrap();
    let (w, h) = ((e.max_lon - e.min_lon) / 8.0, (e.max_lat - e.min_lat) / 8.0);
    (0..64)
        .map(|i| {
            let (x, y) = (e.min_lon + w * f64::from(i % 8), e.min_lat + h * f64::from(i / 8));
            AreaFeature {
                id: format!("G{i:02}"),
                area: geo::MultiPolygon(vec![geo::Rect::new((x, y), (x + w, y + h)).to_polygon()]),
                attrs: vec![Attr::public("quota_status", "within"), Attr::private("households", 400u32)],
            }
        })
        .collect()
}

fn source(a: &Atlas) -> TileSource {
    TileSource::from_atlas(a, &extras(a)).with_grids("blocks", &block_grids(a), true)
}

fn helsinki() -> Atlas {
    let mut l = read(&wangge_testkit::geodata("helsinki/Helsinki.osm.pbf"), &ReadOptions::default()).unwrap().layers;
    l.assign_containers();
    wangge_io::estimate::estimate_households(&mut l, &Default::default());
    Atlas::new(l)
}

fn synthetic(n: u64) -> Atlas {
    let dir = tempfile::tempdir().unwrap();
    let so = wangge_synth::SynthOptions { buildings: n, seed: 1, ..Default::default() };
    wangge_synth::generate(&so, dir.path(), &|_| {}).unwrap();
    let mut l = Layers::default();
    for f in wangge_synth::FILE_NAMES {
        let imported = read(&dir.path().join(f), &ReadOptions::default()).unwrap();
        l.replace_dataset(&imported.dataset.name, imported.layers);
    }
    l.assign_containers();
    Atlas::new(l)
}

fn tiles_over(s: &TileSource, z: u8) -> Vec<TileId> {
    let (xs, ys) = TileId::range(&s.extent().unwrap(), z);
    xs.flat_map(|x| ys.clone().map(move |y| TileId { z, x, y })).collect()
}

fn encode_all(s: &TileSource, tiles: &[TileId], layers: &[LayerName]) -> usize {
    let mut bytes = 0;
    for t in tiles {
        for l in layers {
            bytes += s.encode(*l, None, *t, Audience::Full).unwrap().len();
        }
    }
    bytes
}

fn helsinki_bench(c: &mut Criterion) {
    let a = helsinki();
    let s = source(&a);
    let tiles: Vec<TileId> = (14..=16).flat_map(|z| tiles_over(&s, z)).collect();
    let bytes = encode_all(&s, &tiles, &LayerName::ALL);
    eprintln!("helsinki z14-16: {} tiles x {} layers, {bytes} bytes", tiles.len(), LayerName::ALL.len());
    for l in LayerName::ALL {
        let t0 = std::time::Instant::now();
        let n = encode_all(&s, &tiles, &[l]);
        eprintln!("helsinki z14-16 {l}: {n} bytes in {:?}", t0.elapsed());
    }
    let mut g = c.benchmark_group("tiles_helsinki");
    g.sample_size(20);
    g.throughput(Throughput::Elements(tiles.len() as u64));
    g.bench_function("z14_16_all_layers", |b| b.iter(|| black_box(encode_all(&s, &tiles, &LayerName::ALL))));
    g.bench_function("z14_16_buildings", |b| b.iter(|| black_box(encode_all(&s, &tiles, &[LayerName::Buildings]))));
    g.throughput(Throughput::Elements(1));
    g.bench_function("source_build", |b| b.iter(|| black_box(source(&a))));
    g.finish();

    // What the HTTP load benchmark asks for uncached (benches/load/run.sh): the buildings+basemap
    // composite for an anonymous caller, every tile over the buildings at z12-z16, through the
    // tile service with its cache off (encoding and ETag of every layer, then the composite).
    let svc = TileService::new(s.clone(), CacheOptions::OFF);
    let parts = [(LayerName::Buildings, None), (LayerName::Basemap, None)];
    let over = s.layer_bounds(LayerName::Buildings, None).unwrap();
    let mut g = c.benchmark_group("tiles_helsinki_composite_uncached");
    g.sample_size(20);
    for z in 12..=16u8 {
        let (xs, ys) = TileId::range(&over, z);
        let list: Vec<TileId> = xs.flat_map(|x| ys.clone().map(move |y| TileId { z, x, y })).collect();
        g.throughput(Throughput::Elements(list.len() as u64));
        g.bench_function(format!("z{z}"), |b| {
            b.iter(|| {
                list.iter().map(|t| svc.composite(&parts, *t, Audience::Public).unwrap().bytes.len()).sum::<usize>()
            })
        });
    }
    g.finish();
}

fn synthetic_bench(c: &mut Criterion) {
    let a = synthetic(100_000);
    {
        use wangge_tiles::source::*;
        let ex = extras(&a);
        let time = |what: &str, f: &dyn Fn() -> usize| {
            let t0 = std::time::Instant::now();
            let n = f();
            eprintln!("synthetic 100k build {what}: {n} features in {:?}", t0.elapsed());
        };
        time("buildings", &|| buildings_layer(&a, &ex).features().len());
        time("compounds", &|| compounds_layer(&a).features().len());
        time("communities", &|| regions_layer(&a, wangge_core::RegionLevel::Community).features().len());
        time("facilities", &|| facilities_layer(&a).features().len());
        time("network", &|| network_layer(&a).features().len());
        time("basemap", &|| basemap_layer(&a).features().len());
        time("heat", &|| heat_layer(&a, &ex).points().len());
        time("extras", &|| extras(&a).len());
    }
    let s = source(&a);
    let e = s.extent().unwrap();
    let (cx, cy) = ((e.min_x + e.max_x) / 2.0, (e.min_y + e.max_y) / 2.0);
    let t12 = TileId::containing_merc(cx, cy, 12);
    let t14 = TileId::containing_merc(cx, cy, 14);
    for l in LayerName::ALL {
        let n = s.encode(l, None, t12, Audience::Full).unwrap().len();
        eprintln!("synthetic 100k {t12} {l}: {n} bytes");
    }
    eprintln!(
        "synthetic 100k {t14} buildings: {} bytes",
        s.encode(LayerName::Buildings, None, t14, Audience::Full).unwrap().len()
    );
    let mut g = c.benchmark_group("tiles_synthetic_100k");
    g.sample_size(10);
    g.bench_function("z12_all_layers", |b| b.iter(|| black_box(encode_all(&s, &[t12], &LayerName::ALL))));
    for l in [LayerName::Heat, LayerName::Cells, LayerName::Compounds, LayerName::Grids] {
        g.bench_function(format!("z12_{l}"), |b| b.iter(|| black_box(encode_all(&s, &[t12], &[l]))));
    }
    g.bench_function("z14_buildings", |b| b.iter(|| black_box(encode_all(&s, &[t14], &[LayerName::Buildings]))));
    g.bench_function("source_build", |b| b.iter(|| black_box(source(&a))));
    let svc = TileService::new(s.clone(), CacheOptions::default());
    svc.tile_of(LayerName::Heat, None, t12, Audience::Full).unwrap();
    g.bench_function("cache_hit", |b| {
        b.iter(|| black_box(svc.tile_of(LayerName::Heat, None, t12, Audience::Full).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, helsinki_bench, synthetic_bench);
criterion_main!(benches);
