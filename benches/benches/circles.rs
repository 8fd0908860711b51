//! Service-circle benchmarks: the Helsinki sample (every catalogue category for every building,
//! graph build included), a synthetic network of 1,000,000 nodes (graph build, building placement
//! and one category for every building, measured apart), isochrones and nearest-service queries (by
//! search and from the per-category nearest-facility trees the server keeps).
//!
//! Run: `cargo bench -p wangge-benches --bench circles`.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use wangge_circles::synth::{SynthOptions, generate};
use wangge_circles::{IsochroneOptions, Network, NetworkOptions, ReachOptions, ServiceQuery, WalkProfile};
use wangge_core::{Catalogue, Layers};

fn helsinki() -> Layers {
    let mut l =
        wangge_io::read(&wangge_testkit::geodata("helsinki/Helsinki.osm.pbf"), &Default::default()).unwrap().layers;
    wangge_io::estimate::estimate_households(&mut l, &Default::default());
    l
}

fn bench(c: &mut Criterion) {
    let catalogue = Catalogue::default_catalogue();
    let profile = WalkProfile::default();
    let reach = ReachOptions::default();

    // Helsinki: everything from the layers to every category for every building.
    let hel = helsinki();
    let mut g = c.benchmark_group("circles_helsinki");
    g.sample_size(20);
    g.bench_function("all_categories_all_buildings_with_graph_build", |b| {
        b.iter(|| {
            let net = Network::from_layers(&hel, &NetworkOptions::default()).unwrap();
            let origins = net.snap_buildings(&hel.buildings);
            let fs = net.place_facilities(&hel.facilities, &catalogue).unwrap();
            black_box(net.accessibility(&origins, &fs, &reach, &profile).unwrap())
        })
    });
    let net = Network::from_layers(&hel, &NetworkOptions::default()).unwrap();
    let origins = net.snap_buildings(&hel.buildings);
    let fs = net.place_facilities(&hel.facilities, &catalogue).unwrap();
    g.bench_function("all_categories_all_buildings_prepared", |b| {
        b.iter(|| black_box(net.accessibility(&origins, &fs, &reach, &profile).unwrap()))
    });
    let sources: Vec<_> = origins.snaps().iter().filter_map(|s| s.ok()).collect();
    let mut searcher = net.searcher();
    let mut i = 0;
    let iso = IsochroneOptions::default();
    g.sample_size(100);
    g.bench_function("isochrone_15min_polygon", |b| {
        b.iter(|| {
            i = (i + 1) % sources.len();
            black_box(searcher.isochrones(&sources[i], &[15.0], &profile, &iso).unwrap())
        })
    });
    g.bench_function("isochrones_5_10_15min", |b| {
        b.iter(|| {
            i = (i + 1) % sources.len();
            black_box(searcher.isochrones(&sources[i], &[5.0, 10.0, 15.0], &profile, &iso).unwrap())
        })
    });
    let every = ServiceQuery::default();
    g.bench_function("nearest_services_every_category", |b| {
        b.iter(|| {
            i = (i + 1) % sources.len();
            black_box(searcher.nearest_services(&sources[i], &fs, &every, &profile).unwrap())
        })
    });
    // What one `GET /api/v1/nearest` costs in the engine: before (a new searcher per request, as
    // the server did) and now (the nearest-facility trees, snap included).
    let points: Vec<_> = hel.buildings.iter().filter_map(|b| b.shape.point()).collect();
    g.bench_function("nearest_request_new_searcher", |b| {
        b.iter(|| {
            i = (i + 1) % points.len();
            let snap = net.snap_point(points[i]);
            black_box(snap.and_then(|s| net.searcher().nearest_services(&s, &fs, &every, &profile)).ok())
        })
    });
    g.bench_function("service_fields_build", |b| b.iter(|| black_box(net.service_fields(&fs))));
    let fields = net.service_fields(&fs);
    eprintln!(
        "helsinki nearest-facility trees: {} junctions, {} bytes",
        net.graph().stats().junctions,
        fields.heap_bytes()
    );
    g.bench_function("nearest_request_fields", |b| {
        b.iter(|| {
            i = (i + 1) % points.len();
            black_box(fields.nearest_services(&net, points[i], &fs, &every, &profile).ok())
        })
    });
    g.finish();

    // A synthetic city of about 1,000,000 network nodes.
    let t = std::time::Instant::now();
    let city = generate(&SynthOptions::with_nodes(1_000_000, 7), &catalogue);
    eprintln!(
        "synthetic (generated in {:.2} s): {} nodes, {} edges, {} buildings, {} facilities",
        t.elapsed().as_secs_f64(),
        city.nodes.len(),
        city.edges.len(),
        city.buildings.len(),
        city.facilities.len()
    );
    let mut g = c.benchmark_group("circles_synth_1m");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.bench_function("graph_build", |b| {
        b.iter(|| black_box(Network::build(&city.nodes, &city.edges, &[], &NetworkOptions::default()).unwrap()))
    });
    let net = Network::build(&city.nodes, &city.edges, &[], &NetworkOptions::default()).unwrap();
    eprintln!("synthetic graph: {:?}", net.graph().stats());
    g.bench_function("snap_buildings", |b| b.iter(|| black_box(net.snap_buildings(&city.buildings))));
    let origins = net.snap_buildings(&city.buildings);
    let fs = net.place_facilities(&city.facilities, &catalogue).unwrap();
    let mut scratch = wangge_circles::ReachScratch::default();
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("one_category_all_buildings", |b| {
        b.iter(|| black_box(net.nearest_facilities_with(&origins, &fs, "kindergarten", &reach, &mut scratch).unwrap()))
    });
    g.bench_function("one_category_all_buildings_k3", |b| {
        let k3 = ReachOptions { k: 3, cutoff_m: None };
        b.iter(|| black_box(net.nearest_facilities_with(&origins, &fs, "kindergarten", &k3, &mut scratch).unwrap()))
    });
    g.bench_function("all_categories_all_buildings", |b| {
        b.iter(|| black_box(net.accessibility(&origins, &fs, &reach, &profile).unwrap()))
    });
    let sources: Vec<_> = origins.snaps().iter().filter_map(|s| s.ok()).collect();
    let mut searcher = net.searcher();
    let mut i = 0;
    g.sample_size(50);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("nearest_services_every_category", |b| {
        b.iter(|| {
            i = (i + 7919) % sources.len();
            black_box(searcher.nearest_services(&sources[i], &fs, &every, &profile).unwrap())
        })
    });
    g.bench_function("isochrone_15min_polygon", |b| {
        b.iter(|| {
            i = (i + 7919) % sources.len();
            black_box(searcher.isochrones(&sources[i], &[15.0], &profile, &iso).unwrap())
        })
    });
    let t = std::time::Instant::now();
    let fields = net.service_fields(&fs);
    eprintln!(
        "synthetic nearest-facility trees: built in {:.2} s, {} junctions, {} bytes",
        t.elapsed().as_secs_f64(),
        net.graph().stats().junctions,
        fields.heap_bytes()
    );
    g.bench_function("nearest_services_every_category_fields", |b| {
        b.iter(|| {
            i = (i + 7919) % sources.len();
            black_box(fields.nearest_from(&net, &sources[i], &fs, &every, &profile).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
