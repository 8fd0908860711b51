//! `wangge partition` in file mode, checked on its outputs only: every grid within quota unless the
//! report proves it infeasible, every grid one polygon, the polygons tiling the community, every
//! building inside its grid, no fitting compound split; stability under a 5% change.

use geo::{Area, BooleanOps, BoundingRect, Contains, Intersects, MultiPolygon, Point, Polygon};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wangge_core::projection::LocalFrame;
use wangge_testkit::geodata;

fn wangge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wangge")).args(args).env_remove("DATABASE_URL").output().expect("run wangge")
}

fn ok(args: &[&str]) -> String {
    let out = wangge(args);
    assert!(out.status.success(), "wangge {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

struct Run {
    grids: Vec<(String, u64, Polygon<f64>)>,
    assignment: Vec<(String, String, String)>,
    report: serde_json::Value,
}

fn partition(dir: &Path, tag: &str, extra: &[&str], min: u32, max: u32) -> Run {
    let out = dir.join(format!("{tag}-grids.geojson"));
    let asg = dir.join(format!("{tag}-assignment.csv"));
    let rep = dir.join(format!("{tag}-report.json"));
    let (mn, mx) = (min.to_string(), max.to_string());
    let mut args =
        vec!["partition", "--min", &mn, "--max", &mx, "--out", s(&out), "--assignment", s(&asg), "--report", s(&rep)];
    args.extend_from_slice(extra);
    ok(&args);
    let fc: geojson::FeatureCollection = std::fs::read_to_string(&out).expect("grids").parse().expect("geojson");
    let grids = fc
        .features
        .iter()
        .map(|f| {
            let p = f.properties.as_ref().expect("properties");
            let g: geo::Geometry<f64> = f.geometry.clone().expect("geometry").try_into().expect("geometry");
            let geo::Geometry::Polygon(poly) = g else { panic!("grid {:?} is not a single polygon", p["grid_id"]) };
            (p["grid_id"].as_str().expect("grid_id").to_string(), p["households"].as_u64().expect("households"), poly)
        })
        .collect();
    let text = std::fs::read_to_string(&asg).expect("assignment");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("building_id,unit,grid_id"));
    let assignment = lines
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            (v[0].to_string(), v[1].to_string(), v[2].to_string())
        })
        .collect();
    let report = serde_json::from_str(&std::fs::read_to_string(&rep).expect("report")).expect("report json");
    Run { grids, assignment, report }
}

/// Buildings of a GeoJSON file: id → (households, compound, interior point).
fn buildings(path: &Path) -> BTreeMap<String, (u64, Option<String>, Point<f64>)> {
    let fc: geojson::FeatureCollection = std::fs::read_to_string(path).expect("read").parse().expect("geojson");
    fc.features
        .iter()
        .map(|f| {
            let id = match &f.id {
                Some(geojson::feature::Id::String(s)) => s.clone(),
                Some(geojson::feature::Id::Number(n)) => n.to_string(),
                None => f.property("id").and_then(|v| v.as_str()).expect("id").to_string(),
            };
            let g: geo::Geometry<f64> = f.geometry.clone().expect("geometry").try_into().expect("geometry");
            let p = match g {
                geo::Geometry::Point(p) => p,
                geo::Geometry::Polygon(p) => geo::InteriorPoint::interior_point(&p).expect("point"),
                geo::Geometry::MultiPolygon(p) => geo::InteriorPoint::interior_point(&p).expect("point"),
                other => panic!("unexpected {other:?}"),
            };
            let hh = f.property("households").and_then(|v| v.as_u64()).unwrap_or(0);
            let compound = f.property("compound").and_then(|v| v.as_str()).map(str::to_string);
            (id, (hh, compound, p))
        })
        .collect()
}

/// Communities with grids out of quota whose report neither explains nor proves why.
fn unproven(report: &serde_json::Value) -> Vec<String> {
    report.as_object().map_or(Vec::new(), |m| {
        m.iter()
            .filter(|(_, r)| r["within_quota_share"].as_f64() != Some(1.0))
            .filter(|(_, r)| {
                r["infeasibility_proven"] != serde_json::Value::Bool(true)
                    || r["infeasible"].as_array().is_none_or(Vec::is_empty)
            })
            .map(|(k, _)| k.clone())
            .collect()
    })
}

/// Checks every property on the outputs. `area` is the region the grids must tile (WGS84).
fn check(
    run: &Run,
    bs: &BTreeMap<String, (u64, Option<String>, Point<f64>)>,
    area: &MultiPolygon<f64>,
    min: u64,
    max: u64,
) {
    let centre = area.bounding_rect().expect("area").center();
    let frame = LocalFrame::for_lonlat(centre.x, centre.y).expect("frame");
    let grids: Vec<(String, u64, Polygon<f64>)> =
        run.grids.iter().map(|(id, h, p)| (id.clone(), *h, frame.project(p).expect("project"))).collect();
    let area_m = frame.project(area).expect("project");

    // Quota: all in, or the report says why not.
    let outside = grids.iter().filter(|(_, h, _)| !(min..=max).contains(h)).count();
    let unproven = unproven(&run.report);
    assert!(
        outside == 0 || unproven.is_empty(),
        "{outside} grids outside quota; not proven infeasible in {unproven:?}"
    );

    // Assignment: every building exactly once (or once per unit), households add up per grid.
    let mut per_grid: BTreeMap<&str, u64> = BTreeMap::new();
    let mut whole: BTreeMap<&str, &str> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (b, unit, g) in &run.assignment {
        assert!(seen.insert((b.as_str(), unit.as_str())), "{b}/{unit} assigned twice");
        if unit.is_empty() {
            *per_grid.entry(g.as_str()).or_default() += bs[b].0;
            whole.insert(b.as_str(), g.as_str());
        }
    }
    assert!(
        bs.keys().all(|b| run.assignment.iter().any(|(x, _, _)| x == b)),
        "a building is missing from the assignment"
    );
    for (id, h, _) in &grids {
        assert!(
            per_grid.get(id.as_str()).copied().unwrap_or(0) <= *h,
            "grid {id} holds fewer households than its buildings"
        );
    }

    // Tiling: areas add up to the region, no overlaps.
    let total: f64 = grids.iter().map(|(_, _, p)| p.unsigned_area()).sum();
    let target = area_m.unsigned_area();
    assert!((total - target).abs() < 1.0 + 1e-6 * target, "grids cover {total} m² of {target} m²");
    let mut overlap = 0.0;
    for i in 0..grids.len() {
        for j in i + 1..grids.len() {
            if grids[i].2.bounding_rect().expect("r").intersects(&grids[j].2.bounding_rect().expect("r")) {
                overlap += grids[i].2.intersection(&grids[j].2).unsigned_area();
            }
        }
    }
    assert!(overlap < 1.0, "grids overlap by {overlap} m²");

    // Every whole building inside its own grid's polygon.
    let poly_of: BTreeMap<&str, &Polygon<f64>> = grids.iter().map(|(id, _, p)| (id.as_str(), p)).collect();
    for (b, g) in &whole {
        let p = frame.project(&bs[*b].2).expect("project");
        assert!(poly_of[g].contains(&p) || poly_of[g].intersects(&p), "building {b} lies outside its grid {g}");
    }

    // Compounds that fit in one grid are never split.
    let mut compound_grids: BTreeMap<&str, (u64, BTreeSet<&str>)> = BTreeMap::new();
    for (b, (h, c, _)) in bs {
        if let (Some(c), Some(g)) = (c, whole.get(b.as_str())) {
            let e = compound_grids.entry(c.as_str()).or_default();
            e.0 += h;
            e.1.insert(g);
        }
    }
    for (c, (h, gs)) in compound_grids {
        if h <= max {
            assert_eq!(gs.len(), 1, "compound {c} ({h} households) is split across {gs:?}");
        }
    }
}

/// The polygons of one level of a boundary file (communities do not overlap, so their areas add
/// up; a union in degrees would lose area to rounding).
fn polygons_of(path: &Path, level: &str) -> MultiPolygon<f64> {
    let fc: geojson::FeatureCollection = std::fs::read_to_string(path).expect("read").parse().expect("geojson");
    let mut acc = Vec::new();
    for f in &fc.features {
        if f.property("level").and_then(|v| v.as_str()) == Some(level) {
            let g: geo::Geometry<f64> = f.geometry.clone().expect("g").try_into().expect("g");
            match g {
                geo::Geometry::Polygon(p) => acc.push(p),
                geo::Geometry::MultiPolygon(m) => acc.extend(m.0),
                _ => continue,
            }
        }
    }
    MultiPolygon(acc)
}

#[test]
fn a_synthetic_street_is_partitioned_into_valid_grids_per_community() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let city = tmp.path().join("city");
    ok(&["synth", "--buildings", "600", "--seed", "3", "--out", s(&city)]);
    let b = city.join("buildings.geojson");
    let bounds = city.join("boundaries.geojson");
    let net = city.join("network.geojson");
    let run = partition(
        tmp.path(),
        "synth",
        &["--buildings", s(&b), "--boundary", s(&bounds), "--barriers", s(&net)],
        300,
        500,
    );
    let communities = polygons_of(&bounds, "community");
    check(&run, &buildings(&b), &communities, 300, 500);
    // Grid ids carry their community's code (CJ/T 349 style: 12-digit community code + sequence).
    assert!(
        run.grids.iter().all(|(id, _, _)| id.len() >= 15 && id.chars().all(|c| c.is_ascii_digit())),
        "{:?}",
        run.grids.first()
    );
}

fn export_buildings(dir: &Path, sample: &[PathBuf]) -> PathBuf {
    let db = format!("sqlite://{}", dir.join("s.db").display());
    let mut args = vec!["--db", &db, "import"];
    let paths: Vec<&str> = sample.iter().map(|p| s(p)).collect();
    args.extend(paths);
    ok(&args);
    let out = dir.join("buildings.geojson");
    ok(&["--db", &db, "export", "--layer", "buildings", "--out", s(&out)]);
    // Only buildings with households take part.
    let mut fc: geojson::FeatureCollection = std::fs::read_to_string(&out).expect("read").parse().expect("geojson");
    fc.features.retain(|f| f.property("households").and_then(|v| v.as_u64()).unwrap_or(0) > 0);
    let path = dir.join("residential.geojson");
    std::fs::write(&path, fc.to_string()).expect("write");
    path
}

/// The area the grids must tile without a boundary: what the report says it used is not trusted;
/// the union of the grids must contain every building and cover each building's point.
fn grids_union(run: &Run) -> MultiPolygon<f64> {
    run.grids.iter().fold(MultiPolygon(vec![]), |acc, (_, _, p)| acc.union(&MultiPolygon(vec![p.clone()])))
}

#[test]
fn the_beijing_sample_is_partitioned_with_osm_barriers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pbf = geodata("beijing/haidian-liudaokou.osm.pbf");
    let b = export_buildings(tmp.path(), std::slice::from_ref(&pbf));
    let run = partition(tmp.path(), "bj", &["--buildings", s(&b), "--osm", s(&pbf)], 300, 500);
    let area = grids_union(&run);
    check(&run, &buildings(&b), &area, 300, 500);
    assert!(run.grids.len() >= 10, "{} grids", run.grids.len());
}

#[test]
fn the_helsinki_sample_is_partitioned() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pbf = geodata("helsinki/Helsinki.osm.pbf");
    let gpkg = geodata("helsinki/helsinki_population_grid_2020.gpkg");
    let b = export_buildings(tmp.path(), &[pbf.clone(), gpkg]);
    let run = partition(tmp.path(), "hel", &["--buildings", s(&b), "--osm", s(&pbf)], 300, 500);
    check(&run, &buildings(&b), &grids_union(&run), 300, 500);
}

#[test]
fn a_five_percent_change_moves_under_ten_percent_of_households() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let city = tmp.path().join("city");
    ok(&["synth", "--buildings", "800", "--seed", "5", "--out", s(&city)]);
    let b = city.join("buildings.geojson");
    let first = partition(tmp.path(), "first", &["--buildings", s(&b)], 300, 500);
    // Change 5% of the households: every 10th building gains or loses about half of its households
    // (units scaled to match).
    let mut fc: geojson::FeatureCollection = std::fs::read_to_string(&b).expect("read").parse().expect("geojson");
    let total: u64 = fc.features.iter().map(|f| f.property("households").and_then(|v| v.as_u64()).unwrap_or(0)).sum();
    let mut changed = 0u64;
    for (i, f) in fc.features.iter_mut().enumerate() {
        if changed >= total / 20 || i % 10 != 0 {
            continue;
        }
        let props = f.properties.as_mut().expect("props");
        let units = props.get_mut("units").and_then(|u| u.as_array_mut()).expect("units");
        let mut sum = 0u64;
        for (k, u) in units.iter_mut().enumerate() {
            let h = u["households"].as_u64().expect("hh");
            let new = if (i / 10 + k) % 2 == 0 { h + h / 2 } else { (h / 2).max(1) };
            changed += h.abs_diff(new);
            u["households"] = new.into();
            sum += new;
        }
        props.insert("households".into(), sum.into());
    }
    let b2 = tmp.path().join("changed.geojson");
    std::fs::write(&b2, fc.to_string()).expect("write");
    let prev = tmp.path().join("first-assignment.csv");
    let second = partition(tmp.path(), "second", &["--buildings", s(&b2), "--previous", s(&prev)], 300, 500);
    let hh = buildings(&b2);
    let before: BTreeMap<&str, &str> = first.assignment.iter().map(|(b, _, g)| (b.as_str(), g.as_str())).collect();
    let moved: u64 = second
        .assignment
        .iter()
        .filter(|(b, u, g)| u.is_empty() && before.get(b.as_str()).is_some_and(|old| old != g))
        .map(|(b, _, _)| hh[b].0)
        .sum();
    let total2: u64 = hh.values().map(|v| v.0).sum();
    assert!(moved * 10 < total2, "{moved} of {total2} households moved");
}

#[test]
fn bad_partition_input_is_one_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let b = tmp.path().join("b.geojson");
    std::fs::write(
        &b,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"a","properties":{"households":120},"geometry":{"type":"Point","coordinates":[116.35,40.0]}},
        {"type":"Feature","id":"z","properties":{},"geometry":{"type":"Point","coordinates":[116.351,40.0]}}]}"#,
    )
    .expect("write");
    let out = tmp.path().join("o.geojson");
    let asg = tmp.path().join("a.csv");
    let run = |args: &[&str]| {
        let mut v = vec!["partition", "--buildings", s(&b), "--out", s(&out), "--assignment", s(&asg)];
        v.extend_from_slice(args);
        wangge(&v)
    };
    let r = run(&["--min", "500", "--max", "300"]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("min"), "{}", String::from_utf8_lossy(&r.stderr));
    let r = run(&["--min", "300", "--max", "500"]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("`z`") && err.contains("households"), "{err}");
    assert!(!out.exists() && !asg.exists(), "nothing may be written on error");

    // A boundary that does not contain the buildings names them.
    std::fs::write(&b, r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"a","properties":{"households":120},"geometry":{"type":"Point","coordinates":[116.35,40.0]}}]}"#).expect("write");
    let bd = tmp.path().join("boundary.geojson");
    std::fs::write(&bd, r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"c1","properties":{"name":"和平社区"},
        "geometry":{"type":"Polygon","coordinates":[[[116.0,39.0],[116.01,39.0],[116.01,39.01],[116.0,39.01],[116.0,39.0]]]}}]}"#).expect("write");
    let r = run(&["--min", "300", "--max", "500", "--boundary", s(&bd)]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("boundary.geojson") && err.contains("a"), "{err}");
}
