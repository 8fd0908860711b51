//! `wangge import` of the real samples reports counts that agree with the data itself (an
//! independent scan of the OpenStreetMap files) and with the documented estimate method.

use std::collections::HashMap;
use std::process::Command;
use wangge_testkit::geodata;
use wangge_testkit::osmscan::{Scan, scan_pbf, scan_xml};

fn wangge(db: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_wangge")).args(args).env("DATABASE_URL", db).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

fn has(t: &HashMap<String, String>, k: &str, v: &str) -> bool {
    t.get(k).is_some_and(|x| x == v)
}

/// Elements (tagged nodes and complete closed ways) whose tags pass `f`.
fn count(s: &Scan, f: impl Fn(&HashMap<String, String>) -> bool + Copy) -> u64 {
    (s.nodes_where(f).len() + s.ways_where(f).len()) as u64
}

/// Relations whose tags pass `f` and whose way members are all present and complete.
fn complete_relations(s: &Scan, f: impl Fn(&HashMap<String, String>) -> bool) -> u64 {
    s.relations
        .iter()
        .filter(|(_, members, tags)| {
            f(tags) && members.iter().filter(|m| m.0 == "way").all(|m| s.way(m.1).is_some_and(|w| s.complete(&w.1)))
        })
        .count() as u64
}

fn check_counts(report: &serde_json::Value, s: &Scan) {
    let c = &report["files"][0]["counts"];
    let building = |t: &HashMap<String, String>| t.get("building").is_some_and(|v| v != "no");
    assert_eq!(c["buildings"].as_u64(), Some(count(s, building) + complete_relations(s, building)), "buildings");
    let conv = count(s, |t| has(t, "shop", "convenience"));
    assert_eq!(c["facilities_by_category"]["convenience"].as_u64().unwrap_or(0), conv, "convenience stores");
    let bus =
        count(s, |t| has(t, "highway", "bus_stop") || (has(t, "public_transport", "platform") && has(t, "bus", "yes")));
    assert_eq!(c["facilities_by_category"]["bus_stop"].as_u64().unwrap_or(0), bus, "bus stops");
    let pharm = count(s, |t| has(t, "amenity", "pharmacy") || has(t, "healthcare", "pharmacy"));
    assert_eq!(c["facilities_by_category"]["pharmacy"].as_u64().unwrap_or(0), pharm, "pharmacies");
    let (walk_m, _) = s.walkable_length_m();
    let km = report["store"]["network_length_km"].as_f64().expect("km");
    assert!((km * 1000.0 - walk_m).abs() < 1e-6 * walk_m, "network {km} km vs {walk_m} m from the data");
    // Every edge joins two nodes; a network of E edges that is a forest of trees and loops has at
    // least E+1-loops nodes… keep to what must hold: nodes ≤ 2 × edges and both non-zero.
    let (n, e) = (c["network_nodes"].as_u64().unwrap_or(0), c["network_edges"].as_u64().unwrap_or(0));
    assert!(n > 0 && e > 0 && n <= 2 * e, "{n} nodes, {e} edges");
}

#[test]
fn the_beijing_import_reports_what_the_extract_holds() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", tmp.path().join("b.db").display());
    let path = geodata("beijing/haidian-liudaokou.osm");
    let report = wangge(&db, &["import", "--json", path.to_str().expect("path")]);
    let s = scan_xml(&path);
    check_counts(&report, &s);
    let landuse = |t: &HashMap<String, String>| has(t, "landuse", "residential");
    let rel = s.relations.iter().filter(|r| landuse(&r.2)).count() as u64;
    assert_eq!(report["files"][0]["counts"]["compounds"].as_u64(), Some(s.ways_where(landuse).len() as u64 + rel));

    // No population grid: every household is a floor-area estimate, and each building's count is
    // its geodesic footprint × storeys ÷ the default dwelling area (95 m²), at least 1.
    let st = &report["store"];
    assert!(st["households"].as_u64().unwrap_or(0) > 0);
    assert_eq!(st["households"], st["households_estimated"]);
    assert_eq!(st["households_by_source"]["estimate_floor_area"], st["households"]);
    let out = tmp.path().join("b.geojson");
    wangge(&db, &["export", "--layer", "buildings", "--out", out.to_str().expect("path")]);
    let fc: geojson::FeatureCollection = std::fs::read_to_string(&out).expect("export").parse().expect("geojson");
    let params = wangge_io_defaults();
    let mut checked = 0;
    for f in &fc.features {
        let p = f.properties.as_ref().expect("properties");
        if p.get("households_source").and_then(|v| v.as_str()) != Some("estimate_floor_area") {
            continue;
        }
        let g: geo::Geometry<f64> = f.geometry.clone().expect("geometry").try_into().expect("geometry");
        use geo::GeodesicArea;
        let area = match g {
            geo::Geometry::MultiPolygon(mp) => mp.0.iter().map(|p| p.geodesic_area_signed().abs()).sum::<f64>(),
            geo::Geometry::Polygon(p) => p.geodesic_area_signed().abs(),
            _ => continue,
        };
        let kind = p["kind"].as_str().unwrap_or("yes");
        let levels = p.get("levels").and_then(|v| v.as_u64()).unwrap_or_else(|| params(kind));
        let want = ((area * levels as f64) / 95.0).round().max(1.0) as u64;
        let got = p["households"].as_u64().expect("households");
        assert!(got.abs_diff(want) <= 1, "{:?}: {got} households, expected {want}", f.id);
        checked += 1;
    }
    assert!(checked > 100, "only {checked} estimated buildings checked");
}

/// Default storeys by building type, as documented in docs and the estimate's defaults.
fn wangge_io_defaults() -> impl Fn(&str) -> u64 {
    |kind: &str| match kind {
        "apartments" | "residential" => 6,
        "dormitory" => 5,
        "house" | "detached" | "semidetached_house" | "terrace" | "farm" => 2,
        "bungalow" | "houseboat" | "static_caravan" => 1,
        _ => 4,
    }
}

#[test]
fn the_helsinki_import_shares_the_population_grid_to_buildings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", tmp.path().join("h.db").display());
    let pbf = geodata("helsinki/Helsinki.osm.pbf");
    let grid = geodata("helsinki/helsinki_population_grid_2020.gpkg");
    let report = wangge(&db, &["import", "--json", pbf.to_str().expect("path"), grid.to_str().expect("path")]);
    check_counts(&report, &scan_pbf(&pbf));
    let st = &report["store"];
    assert_eq!(st["population_cells"].as_u64(), Some(92));
    assert_eq!(st["population"].as_f64(), Some(71_724.0));
    let grid_hh = st["households_by_source"]["estimate_population_grid"].as_u64().unwrap_or(0);
    // Only cells that hold residential buildings are shared out, so at most all residents / 2.62.
    assert!(grid_hh > 0 && grid_hh <= (71_724.0f64 / 2.62).round() as u64, "{grid_hh}");
    assert!(st["households_by_source"]["estimate_floor_area"].as_u64().unwrap_or(0) > 0, "buildings outside the grid");
    assert_eq!(st["households"], st["households_estimated"]);
}
