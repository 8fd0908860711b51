//! CSV household registers: per unit (Chinese headers), per building, semicolon and tab variants,
//! and one test per kind of bad input.

use std::path::{Path, PathBuf};
use wangge_core::{Layers, RegisterEntry};
use wangge_io::{IoError, ReadOptions, register};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../geodata/fixtures/register").join(name)
}

fn read_fixture(name: &str) -> Layers {
    let p = fixture(name);
    let bytes = std::fs::read(&p).expect("fixture");
    register::read(&p, &bytes, &ReadOptions::default(), name).expect("reads").0
}

fn read_text(text: &str) -> Result<Layers, IoError> {
    register::read(Path::new("reg.csv"), text.as_bytes(), &ReadOptions::default(), "reg").map(|r| r.0)
}

fn rows(l: &Layers) -> Vec<(&str, Option<&str>, u32)> {
    l.register.iter().map(|r| (r.building.as_str(), r.unit.as_deref(), r.households)).collect()
}

#[test]
fn a_register_per_unit_with_chinese_headers() {
    let l = read_fixture("per_unit_zh.csv");
    assert_eq!(
        rows(&l),
        [("b1", Some("1"), 24), ("b1", Some("2"), 24), ("b2", Some("1单元"), 12), ("b2", Some("2单元"), 18)]
    );
    assert!(l.register.iter().all(|r| r.dataset == "per_unit_zh.csv"));
    assert!(l.buildings.is_empty(), "only register rows are filled");
}

#[test]
fn a_register_per_building_ignores_other_columns_and_honours_quotes() {
    let l = read_fixture("per_building.csv");
    assert_eq!(rows(&l), [("osm:w123456", None, 36), ("b3", None, 0), ("b,4", None, 7)]);
}

#[test]
fn semicolon_and_tab_registers_with_columns_in_any_order() {
    let l = read_fixture("semicolon.csv");
    assert_eq!(rows(&l), [("osm:w42", Some("1"), 10), ("osm:w42", Some("2"), 14), ("osm:w43", None, 5)]);
    let l = read_fixture("tab.csv");
    assert_eq!(
        l.register,
        vec![
            RegisterEntry { building: "b1".into(), unit: None, households: 48, dataset: "tab.csv".into() },
            RegisterEntry { building: "b2".into(), unit: None, households: 30, dataset: "tab.csv".into() },
        ]
    );
}

#[test]
fn a_missing_households_column_is_an_error() {
    let e = read_text("building_id,unit,residents\nb1,1,24\n").expect_err("no households");
    let m = e.to_string();
    assert!(m.contains("reg.csv") && m.contains("row 1") && m.contains("`households`") && m.contains("户数"), "{m}");
}

#[test]
fn negative_households_name_the_row() {
    let e = read_text("building_id,households\nb1,3\nb2,-4\n").expect_err("negative");
    assert!(matches!(e, IoError::Field { .. }), "{e}");
    let m = e.to_string();
    assert!(
        m.contains("reg.csv") && m.contains("row 3") && m.contains("`households`") && m.contains("negative"),
        "{m}"
    );
}

#[test]
fn non_integer_households_name_the_row() {
    for v in ["3.5", "abc", ""] {
        let e = read_text(&format!("户数;楼栋\n{v};b1\n")).expect_err("not an integer");
        let m = e.to_string();
        assert!(m.contains("reg.csv") && m.contains("row 2") && m.contains("`户数`"), "{v:?}: {m}");
    }
}

#[test]
fn a_duplicate_building_and_unit_is_an_error() {
    let e = read_text("building,unit,households\nb1,1,10\nb1,2,12\nb2,1,3\nb1,1,11\n").expect_err("duplicate");
    let m = e.to_string();
    assert!(m.contains("reg.csv") && m.contains("row 5") && m.contains("row 2") && m.contains("\"b1\""), "{m}");
    // The same building twice without units too.
    let e = read_text("building,households\nb1,10\nb1,12\n").expect_err("duplicate");
    assert!(e.to_string().contains("row 3"), "{e}");
}

#[test]
fn an_empty_register_is_an_error() {
    for text in ["", "\n\n", "building_id,households\n"] {
        let e = read_text(text).expect_err("empty");
        assert!(matches!(e, IoError::Malformed { .. }), "{text:?}: {e}");
        assert!(e.to_string().contains("reg.csv"), "{e}");
    }
}
