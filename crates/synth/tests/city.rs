//! End-to-end checks of the generated files: determinism, counts, codes, geometry and network.

use geo::{Area, BoundingRect, Contains, Coord, LineString, Polygon};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use wangge_synth::{FILE_NAMES, SynthOptions, SynthSummary, generate};

fn run(buildings: u64, seed: u64) -> (tempfile::TempDir, SynthSummary) {
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = SynthOptions { buildings, seed, ..Default::default() };
    let summary = generate(&opts, dir.path(), &|_| {}).expect("generation succeeds");
    (dir, summary)
}

fn features(dir: &Path, name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join(name)).expect("output file");
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["type"], "FeatureCollection");
    v["features"].as_array().expect("features").clone()
}

fn id(f: &Value) -> &str {
    f["id"].as_str().expect("string id")
}

fn polygon(f: &Value) -> Polygon<f64> {
    assert_eq!(f["geometry"]["type"], "Polygon", "{}", id(f));
    let rings = f["geometry"]["coordinates"].as_array().expect("rings");
    assert_eq!(rings.len(), 1);
    let ring: Vec<Coord<f64>> = rings[0]
        .as_array()
        .expect("ring")
        .iter()
        .map(|c| Coord { x: c[0].as_f64().expect("lon"), y: c[1].as_f64().expect("lat") })
        .collect();
    assert_eq!(ring.first(), ring.last(), "closed ring in {}", id(f));
    Polygon::new(LineString(ring), vec![])
}

fn file_bytes(dir: &Path) -> Vec<Vec<u8>> {
    FILE_NAMES.iter().map(|n| std::fs::read(dir.join(n)).expect("file")).collect()
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let (a, sa) = run(700, 42);
    let (b, sb) = run(700, 42);
    let (c, _) = run(700, 43);
    assert_eq!(file_bytes(a.path()), file_bytes(b.path()));
    assert_eq!(sa.households, sb.households);
    let (ba, bc) = (file_bytes(a.path()), file_bytes(c.path()));
    for i in 0..FILE_NAMES.len() {
        assert_ne!(ba[i], bc[i], "{} should differ between seeds", FILE_NAMES[i]);
    }
    // No temporary files are left behind.
    let names: BTreeSet<String> = std::fs::read_dir(a.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into())
        .collect();
    let expected: BTreeSet<String> = FILE_NAMES.iter().map(|s| s.to_string()).collect();
    assert_eq!(names, expected);
}

#[test]
fn exact_building_counts_and_consistent_households() {
    for n in [1u64, 2, 37, 2000] {
        let (dir, s) = run(n, 5);
        let blds = features(dir.path(), "buildings.geojson");
        assert_eq!(blds.len() as u64, n);
        assert_eq!(s.buildings, n);
        let (mut units, mut households) = (0u64, 0u64);
        for b in &blds {
            let p = &b["properties"];
            assert_eq!(p["building"], "residential");
            let levels = p["levels"].as_u64().expect("levels");
            assert!((2..=33).contains(&levels), "{} levels {levels}", id(b));
            let us = p["units"].as_array().expect("units");
            assert!((1..=6).contains(&us.len()), "{} has {} units", id(b), us.len());
            let mut sum = 0;
            for (i, u) in us.iter().enumerate() {
                assert_eq!(u["label"].as_str(), Some((i + 1).to_string().as_str()));
                let h = u["households"].as_u64().expect("unit households");
                // Floors × households per floor (2–4).
                assert!(h % levels == 0 && (2..=4).contains(&(h / levels)), "{} unit {i}: {h}", id(b));
                sum += h;
            }
            assert_eq!(p["households"].as_u64(), Some(sum), "{}", id(b));
            units += us.len() as u64;
            households += sum;
        }
        assert_eq!((s.units, s.households), (units, households));
        assert_eq!(s.files.len(), 4);
        let bounds = features(dir.path(), "boundaries.geojson");
        let level = |l: &str| bounds.iter().filter(|f| f["properties"]["level"] == l).count() as u64;
        assert_eq!(level("compound"), s.compounds);
        assert_eq!(level("community"), s.communities);
        assert_eq!(level("street"), s.streets);
        assert_eq!(level("district"), s.districts);
        assert_eq!(features(dir.path(), "network.geojson").len() as u64, s.network_ways);
        let facs = features(dir.path(), "facilities.geojson");
        assert_eq!(facs.len() as u64, s.facilities_by_category.values().sum::<u64>());
    }
}

#[test]
fn zero_buildings_gives_empty_collections() {
    let (dir, s) = run(0, 1);
    assert_eq!(s.buildings, 0);
    for name in FILE_NAMES {
        assert!(features(dir.path(), name).is_empty(), "{name}");
    }
}

#[test]
fn realistic_mix_of_buildings_and_households() {
    let (dir, s) = run(2000, 11);
    let blds = features(dir.path(), "buildings.geojson");
    let levels: Vec<u64> = blds.iter().map(|b| b["properties"]["levels"].as_u64().expect("levels")).collect();
    assert!(levels.iter().any(|&l| l <= 6), "some old low-rise buildings");
    assert!(levels.iter().any(|&l| l >= 24), "some high-rise towers");
    assert!(blds.iter().any(|b| b["properties"].get("compound").is_none()), "some unwalled old areas");
    // Per community: a few thousand households.
    let mut by_community: BTreeMap<String, u64> = BTreeMap::new();
    for b in &blds {
        let community = id(b).rsplitn(3, '-').nth(2).expect("community prefix").to_string();
        *by_community.entry(community).or_default() += b["properties"]["households"].as_u64().expect("households");
    }
    let full: Vec<u64> = by_community.values().copied().collect();
    let mean = full.iter().sum::<u64>() as f64 / full.len() as f64;
    assert!((1000.0..=8000.0).contains(&mean), "mean households per community {mean}");
    assert_eq!(s.communities as usize, by_community.len());
}

#[test]
fn every_category_present_with_gaps() {
    let catalogue = wangge_core::Catalogue::default_catalogue();
    // Even the smallest city has every category (the first community gets them all).
    let (dir, _) = run(1, 3);
    let cats: BTreeSet<String> = features(dir.path(), "facilities.geojson")
        .iter()
        .map(|f| f["properties"]["category"].as_str().expect("category").to_string())
        .collect();
    let all: BTreeSet<String> = catalogue.categories.iter().map(|c| c.id.clone()).collect();
    assert_eq!(cats, all);

    let (dir, s) = run(2000, 3);
    let facs = features(dir.path(), "facilities.geojson");
    let mut by_community: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &facs {
        let cat = f["properties"]["category"].as_str().expect("category");
        assert!(catalogue.get(cat).is_some(), "{cat} is a catalogue id");
        let name = f["properties"]["name"].as_str().expect("name");
        assert!(name.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "Chinese name {name}");
        assert_eq!(f["geometry"]["type"], "Point");
        let community = id(f).rsplit_once('-').expect("facility id").0.to_string();
        by_community.entry(community).or_default().insert(cat.to_string());
    }
    assert_eq!(s.facilities_by_category.keys().cloned().collect::<BTreeSet<_>>(), all);
    // Holes in 5-minute coverage: some communities lack a kindergarten, clinic or day care.
    for cat in ["kindergarten", "health_station", "elderly_day_care"] {
        let having = by_community.values().filter(|c| c.contains(cat)).count() as u64;
        let lacking = s.communities - having;
        assert!(lacking > 0, "some community lacks {cat}");
    }
}

#[test]
fn hierarchy_codes_and_geometry() {
    let (dir, _) = run(2000, 9);
    let bounds = features(dir.path(), "boundaries.geojson");
    let mut ids = BTreeSet::new();
    let mut polys: BTreeMap<String, (String, Polygon<f64>, Value)> = BTreeMap::new();
    for f in &bounds {
        assert!(ids.insert(id(f).to_string()), "duplicate id {}", id(f));
        let level = f["properties"]["level"].as_str().expect("level").to_string();
        polys.insert(id(f).to_string(), (level, polygon(f), f["properties"].clone()));
    }
    let mut area = BTreeMap::<&str, f64>::new();
    for (fid, (level, poly, p)) in &polys {
        *area.entry(level.as_str()).or_default() += poly.unsigned_area();
        assert!(poly.signed_area() > 0.0, "{fid} is counter-clockwise");
        match level.as_str() {
            "district" => assert_eq!(p["code"].as_str().map(str::len), Some(6)),
            "street" | "community" => {
                let parent = p["parent"].as_str().expect("parent");
                let (plevel, ppoly, pp) = &polys[parent];
                assert_eq!(plevel, if level == "street" { "district" } else { "street" });
                let code = p["code"].as_str().expect("code");
                assert_eq!(code.len(), if level == "street" { 9 } else { 12 });
                assert!(code.starts_with(pp["code"].as_str().expect("parent code")));
                assert!(code.chars().all(|c| c.is_ascii_digit()));
                assert!(ppoly.contains(&interior(poly)), "{fid} inside {parent}");
                assert!(p["name"].as_str().expect("name").ends_with(if level == "street" {
                    "街道"
                } else {
                    "社区"
                }));
            }
            "compound" => {
                let community = p["community"].as_str().expect("community");
                let (clevel, cpoly, _) = &polys[community];
                assert_eq!(clevel, "community");
                assert!(cpoly.contains(poly), "{fid} inside {community}");
            }
            other => panic!("unexpected level {other}"),
        }
    }
    // Districts, streets and communities tile the same area.
    let (d, s, c) = (area["district"], area["street"], area["community"]);
    assert!((d - s).abs() < 1e-9 * d && (s - c).abs() < 1e-9 * s, "{d} {s} {c}");

    // Buildings lie inside their compound (or community when unwalled) and do not overlap.
    let blds = features(dir.path(), "buildings.geojson");
    let mut by_parent: BTreeMap<String, Vec<geo::Rect<f64>>> = BTreeMap::new();
    for b in &blds {
        assert!(ids.insert(id(b).to_string()), "duplicate id {}", id(b));
        let poly = polygon(b);
        let parent = match b["properties"]["compound"].as_str() {
            Some(q) => q.to_string(),
            None => id(b).rsplitn(3, '-').nth(2).expect("community").to_string(),
        };
        assert!(polys[&parent].1.contains(&poly), "{} inside {parent}", id(b));
        by_parent
            .entry(polys[&parent].2["community"].as_str().unwrap_or(&parent).to_string())
            .or_default()
            .push(poly.bounding_rect().expect("bbox"));
    }
    for (parent, rects) in &by_parent {
        for (i, a) in rects.iter().enumerate() {
            for b in &rects[i + 1..] {
                let overlap =
                    a.min().x < b.max().x && b.min().x < a.max().x && a.min().y < b.max().y && b.min().y < a.max().y;
                assert!(!overlap, "buildings overlap in {parent}: {a:?} {b:?}");
            }
        }
    }
}

fn interior(p: &Polygon<f64>) -> geo::Point<f64> {
    use geo::InteriorPoint;
    p.interior_point().expect("interior point")
}

#[test]
fn network_is_connected_and_tagged() {
    let (dir, _) = run(2000, 13);
    let ways = features(dir.path(), "network.geojson");
    let mut parent: Vec<usize> = Vec::new();
    let mut index: BTreeMap<(i64, i64), usize> = BTreeMap::new();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut ids = BTreeSet::new();
    let mut classes = BTreeMap::<String, usize>::new();
    for w in &ways {
        assert!(ids.insert(id(w).to_string()));
        assert_eq!(w["geometry"]["type"], "LineString");
        let p = &w["properties"];
        let hw = p["highway"].as_str().expect("highway");
        *classes.entry(hw.to_string()).or_default() += 1;
        match hw {
            "primary" | "secondary" | "tertiary" | "residential" => {
                assert!(p["name"].as_str().is_some_and(|n| !n.is_empty()), "{} named", id(w));
                assert!(p.get("access").is_none());
            }
            "service" => assert_eq!(p["access"], "private"),
            "footway" => {}
            other => panic!("unexpected highway {other}"),
        }
        let walk = wangge_core::tags::walkability(|k| p.get(k).and_then(Value::as_str));
        assert!(matches!(walk, wangge_core::tags::Walkability::Yes { .. }), "{} walkable", id(w));
        let coords = w["geometry"]["coordinates"].as_array().expect("coords");
        assert!(coords.len() >= 2);
        let mut prev = None;
        for c in coords {
            let key = (
                (c[0].as_f64().expect("lon") * 1e7).round() as i64,
                (c[1].as_f64().expect("lat") * 1e7).round() as i64,
            );
            let n = *index.entry(key).or_insert_with(|| {
                parent.push(parent.len());
                parent.len() - 1
            });
            if let Some(m) = prev {
                let (a, b) = (find(&mut parent, m), find(&mut parent, n));
                parent[a] = b;
            }
            prev = Some(n);
        }
    }
    for hw in ["primary", "secondary", "tertiary", "residential", "service", "footway"] {
        assert!(classes.get(hw).copied().unwrap_or(0) > 0, "some {hw} ways: {classes:?}");
    }
    let roots: BTreeSet<usize> = (0..parent.len()).map(|i| find(&mut parent, i)).collect();
    assert_eq!(roots.len(), 1, "the walking network is one connected piece");
}

#[test]
fn bad_options_and_unwritable_directories_are_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = SynthOptions { origin: (f64::NAN, 30.0), ..Default::default() };
    assert!(matches!(generate(&opts, dir.path(), &|_| {}), Err(wangge_synth::SynthError::Options(_))));
    let opts = SynthOptions { origin: (114.3, 89.0), ..Default::default() };
    assert!(generate(&opts, dir.path(), &|_| {}).is_err());
    // The output directory is an existing file.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let err = generate(&SynthOptions::default(), &file, &|_| {}).expect_err("cannot write into a file");
    assert!(matches!(err, wangge_synth::SynthError::Io { .. }), "{err}");
}

#[test]
fn progress_reaches_the_total() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seen = std::cell::RefCell::new(Vec::new());
    let opts = SynthOptions { buildings: 300, ..Default::default() };
    generate(&opts, dir.path(), &|n| seen.borrow_mut().push(n)).expect("generation succeeds");
    let seen = seen.into_inner();
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "monotone");
    assert_eq!(seen.last().copied(), Some(300));
    assert!(seen.len() > 2);
}
