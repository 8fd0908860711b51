//! The `wangge` binary against both stores: the same imports give identical counts and exports,
//! re-imports do not duplicate, failures leave the store unchanged.

use std::path::Path;
use std::process::{Command, Output};
use wangge_testkit::{fresh_pg_database_blocking, geodata};

fn wangge(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("WANGGE_CATALOGUE")
        .output()
        .expect("running wangge")
}

fn ok(db: &str, args: &[&str]) -> String {
    let out = wangge(db, args);
    assert!(
        out.status.success(),
        "wangge {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn stats(db: &str) -> serde_json::Value {
    serde_json::from_str(&ok(db, &["stats", "--json"])).expect("stats JSON")
}

fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

const LAYERS: &[&str] = &["buildings", "facilities", "compounds", "communities", "streets", "network", "basemap"];

fn exports(db: &str, dir: &Path, tag: &str) -> Vec<(String, Vec<u8>)> {
    LAYERS
        .iter()
        .map(|layer| {
            let out = dir.join(format!("{tag}-{layer}.geojson"));
            ok(db, &["export", "--layer", layer, "--out", out.to_str().expect("utf-8 path")]);
            (layer.to_string(), std::fs::read(&out).expect("export written"))
        })
        .collect()
}

#[test]
fn the_same_imports_give_identical_counts_and_exports_in_both_stores() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lite = sqlite_url(tmp.path(), "a.db");
    let pg = fresh_pg_database_blocking("cli_same");
    let beijing = geodata("beijing/haidian-liudaokou.osm.pbf");
    let helsinki = geodata("helsinki/Helsinki.osm.pbf");
    let grid = geodata("helsinki/helsinki_population_grid_2020.gpkg");
    for db in [&lite, &pg] {
        ok(db, &["import", beijing.to_str().expect("path")]);
        ok(db, &["import", helsinki.to_str().expect("path"), grid.to_str().expect("path")]);
    }
    let (a, b) = (stats(&lite), stats(&pg));
    assert_eq!(a, b, "stats differ between the embedded store and PostGIS");
    assert!(a["buildings"].as_u64().unwrap_or(0) > 500, "{a}");
    assert!(a["households_estimated"].as_u64().unwrap_or(0) > 0, "{a}");
    let ea = exports(&lite, tmp.path(), "lite");
    let eb = exports(&pg, tmp.path(), "pg");
    for ((layer, x), (_, y)) in ea.iter().zip(&eb) {
        assert!(x == y, "export of {layer} differs between stores");
        let fc: serde_json::Value = serde_json::from_slice(x).expect("valid JSON");
        assert_eq!(fc["type"], "FeatureCollection");
        assert!(fc["attribution"].as_str().unwrap_or("").contains("OpenStreetMap"), "{layer} lacks attribution");
    }
}

#[test]
fn reimporting_a_source_does_not_duplicate_anything() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = sqlite_url(tmp.path(), "re.db");
    let beijing = geodata("beijing/haidian-liudaokou.osm");
    ok(&db, &["import", beijing.to_str().expect("path")]);
    let first = stats(&db);
    ok(&db, &["import", beijing.to_str().expect("path")]);
    assert_eq!(first, stats(&db));
}

#[test]
fn a_failing_import_leaves_the_store_exactly_as_it_was() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pg = fresh_pg_database_blocking("cli_fail");
    let lite = sqlite_url(tmp.path(), "f.db");
    let bad = tmp.path().join("bad.geojson");
    std::fs::write(
        &bad,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"b1","properties":{"households":12},"geometry":{"type":"Point","coordinates":[116.35,40.0]}},
        {"type":"Feature","id":"b2","properties":{"households":-3},"geometry":{"type":"Point","coordinates":[116.35,40.001]}}]}"#,
    )
    .expect("write");
    let orphan = tmp.path().join("register.csv");
    std::fs::write(&orphan, "building_id,households\nosm:w1,10\n").expect("write");
    let beijing = geodata("beijing/haidian-liudaokou.osm.pbf");
    for db in [&lite, &pg] {
        ok(db, &["import", beijing.to_str().expect("path")]);
        let before = stats(db);
        let out = wangge(db, &["import", bad.to_str().expect("path")]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("bad.geojson") && err.contains("households") && err.contains("b2"), "{err}");
        assert_eq!(before, stats(db));
        let out = wangge(db, &["import", orphan.to_str().expect("path")]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("register.csv") && err.contains("row 2") && err.contains("osm:w1"), "{err}");
        assert_eq!(before, stats(db));
    }
}

#[test]
fn an_unreachable_database_is_one_clear_error_without_the_password() {
    let out = wangge("postgres://planner:s3cret@127.0.0.1:1/wangge", &["stats"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect") && err.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains("s3cret"), "password leaked: {err}");
    let out = wangge("mysql://x@y/z", &["stats"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not supported"));
}

#[test]
fn a_bad_file_creates_no_store_and_names_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db_path = tmp.path().join("never.db");
    let db = format!("sqlite://{}", db_path.display());
    let junk = tmp.path().join("junk.pbf");
    std::fs::write(&junk, b"\x89PNG\r\n\x1a\nnot osm at all").expect("write");
    let out = wangge(&db, &["import", junk.to_str().expect("path")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.pbf") && err.contains("unrecognised format"), "{err}");
    assert!(!db_path.exists(), "a failed first import must not leave a store behind");
}

#[test]
fn every_kind_of_bad_input_is_one_clear_error_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = sqlite_url(tmp.path(), "bad.db");
    let beijing = geodata("beijing/haidian-liudaokou.osm.pbf");
    ok(&db, &["import", beijing.to_str().expect("path")]);
    let before = stats(&db);
    let pbf = std::fs::read(&beijing).expect("sample");
    let gpkg = std::fs::read(geodata("helsinki/helsinki_population_grid_2020.gpkg")).expect("sample");
    let point = |id: &str, props: &str| {
        format!(
            r#"{{"type":"Feature","id":"{id}","properties":{props},"geometry":{{"type":"Point","coordinates":[116.35,40.0]}}}}"#
        )
    };
    let fc = |features: &[String]| format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","));
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("truncated.osm.pbf", pbf[..pbf.len() / 2].to_vec(), &["truncated.osm.pbf"]),
        ("cut.geojson", br#"{"type":"FeatureCollection","features":[{"type":"Feature","#.to_vec(), &["cut.geojson", "line"]),
        (
            "crs.geojson",
            br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::999999"}},"features":[]}"#.to_vec(),
            &["crs.geojson", "999999"],
        ),
        (
            "flat.geojson",
            fc(&[r#"{"type":"Feature","id":"p1","properties":{},"geometry":{"type":"Polygon","coordinates":[[[116.35,40.0],[116.351,40.0],[116.35,40.0],[116.35,40.0]]]}}"#.to_string()]).into_bytes(),
            &["flat.geojson", "p1"],
        ),
        ("half.geojson", fc(&[point("h1", r#"{"households":3.5}"#)]).into_bytes(), &["half.geojson", "h1", "households"]),
        ("dup.geojson", fc(&[point("d1", "{}"), point("d1", "{}")]).into_bytes(), &["dup.geojson", "d1"]),
        (
            "category.geojson",
            fc(&[point("f1", r#"{"category":"cinema"}"#)]).into_bytes(),
            &["category.geojson", "f1", "category", "kindergarten"],
        ),
        ("negative.csv", b"building_id,households\nosm:w1003840127,-4\n".to_vec(), &["negative.csv", "row 2", "households"]),
        ("truncated.gpkg", gpkg[..4096].to_vec(), &["truncated.gpkg"]),
    ];
    for (name, bytes, must_name) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let out = wangge(&db, &["import", path.to_str().expect("path")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} was accepted");
        assert_eq!(err.matches("error:").count(), 1, "{name}: expected one error, got:\n{err}");
        for m in must_name {
            assert!(err.contains(m), "{name}: the error should name `{m}`:\n{err}");
        }
        assert_eq!(before, stats(&db), "{name} changed the store");
    }
}
