//! GeoPackage population grids: the real Helsinki grid, a hand-built grid in EPSG:3879, and bad files.

use geo::MultiPolygon;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use wangge_io::{IoError, ReadOptions, gpkg};

fn helsinki() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../geodata/helsinki/helsinki_population_grid_2020.gpkg")
}

#[test]
fn the_helsinki_grid_has_92_cells_of_250_m() {
    let (l, _) = gpkg::read(&helsinki(), &ReadOptions::default(), "grid").expect("reads");
    assert_eq!(l.cells.len(), 92);
    // The total, independently: straight from SQLite.
    let conn = Connection::open(helsinki()).expect("open");
    let sum: i64 = conn.query_row("SELECT SUM(population) FROM population_grid_2020", [], |r| r.get(0)).expect("sum");
    assert_eq!(sum, 71_724, "documented in the data README");
    let total: f64 = l.cells.iter().map(|c| c.population).sum();
    assert_eq!(total, 71_724.0);
    for c in &l.cells {
        let a = wangge_core::geometry::area_m2(&MultiPolygon(vec![c.area.clone()]));
        assert!((a - 62_500.0).abs() < 625.0, "{}: {a} m²", c.source_id);
        assert!(c.source_id.starts_with("population_grid_2020:"), "{}", c.source_id);
        assert!(c.population >= 5.0 && c.population <= 2136.0, "README: min 5, max 2136");
        assert!(
            (24.90..=24.96).contains(&c.area.exterior().0[0].x) && (60.15..=60.18).contains(&c.area.exterior().0[0].y)
        );
        assert_eq!(c.dataset, "grid");
    }
    // Source ids follow the fid; fid 1 is the row with id 0 and population 389 (see the file).
    let fid1: i64 =
        conn.query_row("SELECT population FROM population_grid_2020 WHERE fid = 1", [], |r| r.get(0)).expect("fid 1");
    let c1 = l.cells.iter().find(|c| c.source_id == "population_grid_2020:1").expect("cell 1");
    assert_eq!(c1.population, fid1 as f64);
}

#[test]
fn the_population_field_can_be_named() {
    let opts = ReadOptions { population_field: Some("id".into()), ..ReadOptions::default() };
    let (l, _) = gpkg::read(&helsinki(), &opts, "grid").expect("reads");
    // ids run 0..91, so the "population" is their sum: 91 × 92 / 2.
    assert_eq!(l.cells.iter().map(|c| c.population).sum::<f64>(), 4186.0);
    let opts = ReadOptions { population_field: Some("nope".into()), ..ReadOptions::default() };
    let e = gpkg::read(&helsinki(), &opts, "grid").expect_err("no such column");
    assert!(e.to_string().contains("nope") && e.to_string().contains("population_grid_2020"), "{e}");
}

/// A GeoPackage polygon blob by hand: header (big-endian srs_id, no envelope) then little-endian WKB.
fn gp_polygon(srs_id: i32, ring: &[(f64, f64)]) -> Vec<u8> {
    let mut b = vec![b'G', b'P', 0, 0b0000_0000];
    b.extend_from_slice(&srs_id.to_be_bytes());
    b.push(1);
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&(ring.len() as u32).to_le_bytes());
    for (x, y) in ring {
        b.extend_from_slice(&x.to_le_bytes());
        b.extend_from_slice(&y.to_le_bytes());
    }
    b
}

/// A minimal GeoPackage with one table `cells` in `srs_id` (defined as `org:code`).
fn make_gpkg(path: &Path, srs_id: i32, org: &str, code: i32, cells: &[(i64, f64, Vec<u8>)]) {
    let c = Connection::open(path).expect("create");
    c.execute_batch(
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
           organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT, description TEXT,
           last_change TEXT, min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
         CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT, srs_id INTEGER, z TINYINT, m TINYINT);
         CREATE TABLE cells (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom BLOB, asukkaita REAL);",
    )
    .expect("schema");
    c.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('test', ?1, ?2, ?3, 'undefined', NULL)",
        rusqlite::params![srs_id, org, code],
    )
    .expect("srs");
    c.execute("INSERT INTO gpkg_contents (table_name, data_type, srs_id) VALUES ('cells', 'features', ?1)", [srs_id])
        .expect("contents");
    c.execute("INSERT INTO gpkg_geometry_columns VALUES ('cells', 'geom', 'POLYGON', ?1, 0, 0)", [srs_id])
        .expect("columns");
    for (fid, pop, blob) in cells {
        c.execute("INSERT INTO cells (fid, geom, asukkaita) VALUES (?1, ?2, ?3)", rusqlite::params![fid, blob, pop])
            .expect("cell");
    }
}

fn square(x0: f64, y0: f64, side: f64) -> Vec<(f64, f64)> {
    vec![(x0, y0), (x0 + side, y0), (x0 + side, y0 + side), (x0, y0 + side), (x0, y0)]
}

#[test]
fn a_grid_in_etrs_gk25_is_transformed_to_wgs84() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("gk25.gpkg");
    let cells = vec![
        (7, 120.0, gp_polygon(3879, &square(25_496_000.0, 6_672_500.0, 250.0))),
        (9, 33.5, gp_polygon(3879, &square(25_496_250.0, 6_672_500.0, 250.0))),
    ];
    make_gpkg(&p, 3879, "EPSG", 3879, &cells);
    let (l, _) = gpkg::read(&p, &ReadOptions::default(), "gk25").expect("reads");
    let ids: Vec<&str> = l.cells.iter().map(|c| c.source_id.as_str()).collect();
    assert_eq!(ids, ["cells:7", "cells:9"]);
    assert_eq!(l.cells[1].population, 33.5, "the `asukkaita` column is found by name");
    for c in &l.cells {
        let a = wangge_core::geometry::area_m2(&MultiPolygon(vec![c.area.clone()]));
        // A Gauss-Krüger zone with scale 1 distorts areas by under 0.1 % this close to its meridian.
        assert!((a - 62_500.0).abs() < 125.0, "{a}");
    }
    // PROJ (`echo 6672500 25496000 | cs2cs EPSG:3879 EPSG:4326`) gives 60.165375 N, 24.927956 E for
    // the south-west corner; by hand, 4 km west of 25°E at 60.17°N is 4000 / (111,320 × cos 60.17°) ≈ 0.0722°.
    let sw = l.cells[0].area.exterior().0[0];
    assert!((sw.x - 24.927956).abs() < 1e-5 && (sw.y - 60.165375).abs() < 1e-5, "{sw:?}");
    // The second cell starts where the first one's south-east corner is.
    let se = l.cells[0].area.exterior().0[1];
    let sw2 = l.cells[1].area.exterior().0[0];
    assert!((se.x - sw2.x).abs() < 1e-9 && (se.y - sw2.y).abs() < 1e-9);
}

#[test]
fn a_truncated_geopackage_is_malformed() {
    let bytes = std::fs::read(helsinki()).expect("real file");
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("cut.gpkg");
    std::fs::write(&p, &bytes[..4096]).expect("write");
    let e = gpkg::read(&p, &ReadOptions::default(), "cut").expect_err("truncated");
    assert!(matches!(e, IoError::Malformed { .. }), "{e}");
    assert!(e.to_string().contains("cut.gpkg"), "{e}");
}

#[test]
fn a_sqlite_file_that_is_not_a_geopackage_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("plain.sqlite");
    Connection::open(&p)
        .expect("create")
        .execute_batch("CREATE TABLE people (name TEXT, population INTEGER);")
        .expect("t");
    let e = gpkg::read(&p, &ReadOptions::default(), "plain").expect_err("not a gpkg");
    let m = e.to_string();
    assert!(m.contains("plain.sqlite") && m.contains("not a GeoPackage"), "{m}");
}

#[test]
fn an_unknown_srs_id_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    // An organisation other than EPSG.
    let p = dir.path().join("local.gpkg");
    make_gpkg(&p, 990_001, "CITY", 17, &[(1, 10.0, gp_polygon(990_001, &square(1000.0, 1000.0, 250.0)))]);
    let e = gpkg::read(&p, &ReadOptions::default(), "local").expect_err("unknown");
    assert!(matches!(e, IoError::UnknownCrs { .. }), "{e}");
    assert!(e.to_string().contains("local.gpkg") && e.to_string().contains("990001"), "{e}");
    // An EPSG code proj4rs does not know.
    let p = dir.path().join("epsg.gpkg");
    make_gpkg(&p, 3, "EPSG", 3, &[(1, 10.0, gp_polygon(3, &square(1000.0, 1000.0, 250.0)))]);
    let e = gpkg::read(&p, &ReadOptions::default(), "epsg").expect_err("unknown");
    assert!(matches!(e, IoError::UnknownCrs { .. }) && e.to_string().contains("EPSG:3"), "{e}");
    // An srs_id the table of reference systems does not hold.
    let p = dir.path().join("missing.gpkg");
    make_gpkg(&p, 4326, "EPSG", 4326, &[(1, 10.0, gp_polygon(4326, &square(24.9, 60.1, 0.001)))]);
    Connection::open(&p).expect("open").execute("UPDATE gpkg_geometry_columns SET srs_id = 31337", []).expect("update");
    let e = gpkg::read(&p, &ReadOptions::default(), "missing").expect_err("undefined srs");
    assert!(matches!(e, IoError::UnknownCrs { .. }) && e.to_string().contains("31337"), "{e}");
}

#[test]
fn a_negative_population_names_the_fid_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("neg.gpkg");
    make_gpkg(
        &p,
        4326,
        "EPSG",
        4326,
        &[
            (1, 10.0, gp_polygon(4326, &square(24.9, 60.1, 0.001))),
            (2, -1.0, gp_polygon(4326, &square(24.901, 60.1, 0.001))),
        ],
    );
    let e = gpkg::read(&p, &ReadOptions::default(), "neg").expect_err("negative");
    let m = e.to_string();
    assert!(m.contains("neg.gpkg") && m.contains("fid 2") && m.contains("`asukkaita`"), "{m}");
}

#[test]
fn the_geometry_header_is_parsed_by_its_flags() {
    // Little-endian srs_id, 32-byte envelope (code 1).
    let mut b = vec![b'G', b'P', 0, 0b0000_0011];
    b.extend_from_slice(&4326i32.to_le_bytes());
    b.extend_from_slice(&[0u8; 32]);
    b.push(1);
    let h = gpkg::parse_header(&b).expect("header");
    assert_eq!((h.srs_id, h.empty, h.wkb_offset), (4326, false, 40));
    // Big-endian, 48-byte envelope (code 2), empty flag.
    let mut b = vec![b'G', b'P', 0, 0b0001_0100];
    b.extend_from_slice(&3879i32.to_be_bytes());
    b.extend_from_slice(&[0u8; 48]);
    let h = gpkg::parse_header(&b).expect("header");
    assert_eq!((h.srs_id, h.empty, h.wkb_offset), (3879, true, 56));
    assert!(gpkg::parse_header(b"XX\0\0\0\0\0\0").is_err());
    assert!(gpkg::parse_header(&[b'G', b'P', 0, 0b0000_1010, 0, 0, 0, 0]).is_err(), "envelope code 5 is invalid");
}
