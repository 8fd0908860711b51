//! GeoJSON reader: a hand-made community fixture whose content is worked out by hand, and one test
//! per kind of bad input.

use std::path::{Path, PathBuf};
use wangge_core::{HouseholdSource, Layers, RegionLevel, Shape};
use wangge_io::{IoError, ReadOptions, geojson_in};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../geodata/fixtures/geojson/community.geojson")
}

fn read_fixture(opts: &ReadOptions) -> (Layers, Vec<String>) {
    let p = fixture();
    let bytes = std::fs::read(&p).expect("fixture");
    geojson_in::read(&p, &bytes, opts, "community.geojson").expect("fixture reads")
}

/// Reads an inline GeoJSON text as if from `bad.geojson`.
fn read_text(text: &str) -> Result<(Layers, Vec<String>), IoError> {
    geojson_in::read(Path::new("bad.geojson"), text.as_bytes(), &ReadOptions::default(), "bad")
}

fn one_feature(props: &str, geometry: &str) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[
        {{"type":"Feature","id":"ok","properties":{{"building":"yes"}},"geometry":{{"type":"Point","coordinates":[116.35,40.0]}}}},
        {{"type":"Feature","id":"b7","properties":{props},"geometry":{geometry}}}]}}"#
    )
}

const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[116.35,40.0],[116.3502,40.0],[116.3502,40.0002],[116.35,40.0002],[116.35,40.0]]]}"#;

/// Haversine distance along a meridian or a parallel, computed by hand (mean Earth radius).
fn meridian_m(dlat_deg: f64) -> f64 {
    6_371_008.8 * dlat_deg.to_radians()
}
fn parallel_m(dlon_deg: f64, lat_deg: f64) -> f64 {
    // Short east-west hop on a sphere: 2R asin(cos(lat) sin(dlon/2)).
    2.0 * 6_371_008.8 * (lat_deg.to_radians().cos() * (dlon_deg.to_radians() / 2.0).sin()).asin()
}

#[test]
fn the_community_fixture_gives_exactly_what_it_holds() {
    let (l, notes) = read_fixture(&ReadOptions::default());

    // Regions: the street and the community, with codes and parent.
    assert_eq!(l.regions.len(), 2);
    let s1 = l.regions.iter().find(|r| r.source_id == "s1").expect("street");
    assert_eq!(
        (s1.level, s1.name.as_str(), s1.code.as_deref()),
        (RegionLevel::Street, "学院路街道", Some("110108012"))
    );
    let c1 = l.regions.iter().find(|r| r.source_id == "c1").expect("community");
    assert_eq!(c1.level, RegionLevel::Community);
    assert_eq!(c1.parent.as_deref(), Some("s1"));
    assert_eq!(c1.code.as_deref(), Some("110108012001"), "a numeric code is kept as text");

    // One compound in c1.
    assert_eq!(l.compounds.len(), 1);
    assert_eq!(l.compounds[0].source_id, "cp1");
    assert_eq!(l.compounds[0].community.as_deref(), Some("c1"));
    assert_eq!(l.compounds[0].name.as_deref(), Some("静淑苑"));

    // Buildings: b1, b2 (id from properties), b3 (school), "4" (numeric id, a point) and the one without an id.
    let ids: Vec<&str> = l.buildings.iter().map(|b| b.source_id.as_str()).collect();
    assert_eq!(ids, ["b1", "b2", "b3", "4", "community.geojson#7"]);
    let b = |id: &str| l.buildings.iter().find(|b| b.source_id == id).expect("building");
    let b1 = b("b1");
    assert_eq!((b1.households.count, b1.households.source), (48, HouseholdSource::Declared));
    assert_eq!(b1.units.len(), 2);
    assert_eq!((b1.levels, b1.compound.as_deref(), b1.kind.as_str()), (Some(6), Some("cp1"), "apartments"));
    assert!(b1.residential);
    let b2 = b("b2");
    assert_eq!((b2.households.count, b2.households.source), (30, HouseholdSource::Declared), "12 + 18 from the units");
    assert_eq!(b2.kind, "residential");
    assert_eq!(b2.units.iter().map(|u| u.label.as_str()).collect::<Vec<_>>(), ["1单元", "2单元"]);
    let b3 = b("b3");
    assert!(!b3.residential, "a school is not a home");
    assert_eq!(b3.households.source, HouseholdSource::None);
    assert!(
        matches!(b("4").shape, Shape::Point(p) if (p.x() - 116.353).abs() < 1e-12 && (p.y() - 39.998).abs() < 1e-12)
    );
    assert!(b("4").residential, "a generic building=yes is taken as residential");
    let unnamed = b("community.geojson#7");
    assert_eq!((unnamed.households.count, unnamed.households.source), (0, HouseholdSource::Declared));
    assert!(unnamed.residential, "a house is residential even with 0 households declared");
    let declared: u32 = l.buildings.iter().map(|b| b.households.count).sum();
    assert_eq!(declared, 78);
    assert!(notes.iter().any(|n| n.contains("1 feature(s) without an id")), "{notes:?}");

    // Facilities: a point, and a polygon's interior point.
    assert_eq!(l.facilities.len(), 2);
    let f2 = l.facilities.iter().find(|f| f.source_id == "f2").expect("f2");
    assert_eq!(f2.category, "health_station");
    assert!((116.3500..=116.3502).contains(&f2.location.x()) && (39.9990..=39.9992).contains(&f2.location.y()));

    // Network: w1 and w2 cross at (116.348, 39.998): each is split there; the motorway is not walkable.
    let mut edges: Vec<(&str, &str, &str)> =
        l.edges.iter().map(|e| (e.source_id.as_str(), e.from.as_str(), e.to.as_str())).collect();
    edges.sort();
    assert_eq!(
        edges,
        [
            ("w1:0", "geo:116.3470000,39.9980000", "geo:116.3480000,39.9980000"),
            ("w1:1", "geo:116.3480000,39.9980000", "geo:116.3490000,39.9980000"),
            ("w2:0", "geo:116.3480000,39.9970000", "geo:116.3480000,39.9980000"),
            ("w2:1", "geo:116.3480000,39.9980000", "geo:116.3480000,39.9990000"),
        ]
    );
    assert_eq!(l.nodes.len(), 5);
    let e = |id: &str| l.edges.iter().find(|e| e.source_id == id).expect("edge");
    let ew = parallel_m(0.001, 39.998);
    let ns = meridian_m(0.001);
    assert!((e("w1:0").length_m - ew).abs() < 0.5, "{} vs {ew}", e("w1:0").length_m);
    assert!((e("w1:1").length_m - ew).abs() < 0.5);
    assert!((e("w2:0").length_m - ns).abs() < 0.5, "{} vs {ns}", e("w2:0").length_m);
    assert!((ns - 111.2).abs() < 0.1 && (ew - 85.2).abs() < 0.1, "hand values: {ns} {ew}");
    assert!(e("w2:1").private && !e("w1:0").private, "service + access=private stays walkable, marked private");
    assert_eq!(e("w1:0").name.as_deref(), Some("东西小路"));
    // Every line is also a road on the basemap, walkable or not.
    let mut roads: Vec<(&str, &str)> = l.basemap.iter().map(|f| (f.source_id.as_str(), f.class.as_str())).collect();
    roads.sort();
    assert_eq!(roads, [("w1", "footway"), ("w2", "service"), ("w3", "motorway")]);
    assert!(l.cells.is_empty() && l.register.is_empty());
    assert!(l.buildings.iter().all(|b| b.dataset == "community.geojson"));
}

#[test]
fn gcj02_input_is_converted_to_wgs84() {
    let opts = ReadOptions { input_coords: wangge_core::chinacoords::CoordSystem::Gcj02, ..ReadOptions::default() };
    let (l, _) = read_fixture(&opts);
    let p = l.facilities.iter().find(|f| f.source_id == "f1").expect("f1").location;
    // Converting back must give the coordinates written in the file.
    let (x, y) = wangge_core::chinacoords::wgs84_to_gcj02(p.x(), p.y());
    assert!((x - 116.349).abs() < 1e-8 && (y - 39.999).abs() < 1e-8, "{x} {y}");
    // The GCJ-02 offset near Beijing is hundreds of metres, so the point did move.
    assert!((p.x() - 116.349).abs() > 0.001, "{}", p.x());
}

#[test]
fn a_known_legacy_crs_is_transformed() {
    // ETRS-GK25 (EPSG:3879): 4000 m west of the central meridian 25°E, about 60.17°N (Helsinki).
    let text = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3879"}},
      "features":[{"type":"Feature","id":"p","properties":{"building":"yes"},"geometry":{"type":"Point","coordinates":[25496000.0,6672500.0]}}]}"#;
    let (l, _) = read_text(text).expect("transformed");
    let Shape::Point(p) = l.buildings[0].shape else { panic!("a point") };
    // By hand: 6,672,500 m of meridian arc is about 60.17°; 4000 m west at that latitude is
    // 4000 / (111,320 × cos 60.17°) ≈ 0.072° west of 25°E.
    assert!((p.x() - 24.928).abs() < 0.002, "{}", p.x());
    assert!((p.y() - 60.17).abs() < 0.01, "{}", p.y());
}

#[test]
fn truncated_geojson_is_malformed_with_line_and_column() {
    let bytes = std::fs::read(fixture()).expect("fixture");
    let e = geojson_in::read(Path::new("cut.geojson"), &bytes[..700], &ReadOptions::default(), "cut")
        .expect_err("truncated");
    assert!(matches!(e, IoError::Malformed { .. }), "{e}");
    let m = e.to_string();
    assert!(m.contains("cut.geojson") && m.contains("line") && m.contains("column"), "{m}");
}

#[test]
fn an_unknown_crs_is_an_error() {
    for crs in ["EPSG:99999", "urn:ogc:def:crs:EPSG::1", "urn:x-city:crs:local-grid"] {
        let text = format!(
            r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"{crs}"}}}},"features":[]}}"#
        );
        let e = read_text(&text).expect_err("unknown crs");
        assert!(matches!(e, IoError::UnknownCrs { .. }), "{e}");
        assert!(e.to_string().contains("bad.geojson") && e.to_string().contains(crs), "{e}");
    }
}

#[test]
fn projected_coordinates_without_crs_name_the_feature() {
    let e =
        read_text(&one_feature(r#"{"building":"yes"}"#, r#"{"type":"Point","coordinates":[25496000.0,6672500.0]}"#))
            .expect_err("out of range");
    let m = e.to_string();
    assert!(m.contains("bad.geojson") && m.contains("feature 1 (id \"b7\")") && m.contains("`geometry`"), "{m}");
    assert!(m.contains("crs"), "the message hints at a missing crs: {m}");
}

#[test]
fn an_unrepairable_polygon_is_an_error() {
    // Two distinct points only: no area to recover.
    let g = r#"{"type":"Polygon","coordinates":[[[116.35,40.0],[116.351,40.0],[116.35,40.0],[116.35,40.0]]]}"#;
    let e = read_text(&one_feature(r#"{"building":"yes"}"#, g)).expect_err("degenerate");
    let m = e.to_string();
    assert!(
        m.contains("bad.geojson") && m.contains("id \"b7\"") && m.contains("`geometry`") && m.contains("repaired"),
        "{m}"
    );
}

#[test]
fn a_bow_tie_is_repaired_and_noted() {
    // A square whose last two corners are swapped: the ring crosses itself in the middle.
    let g = r#"{"type":"Polygon","coordinates":[[[116.35,40.0],[116.351,40.001],[116.351,40.0],[116.35,40.001],[116.35,40.0]]]}"#;
    let (l, notes) = read_text(&one_feature(r#"{"building":"yes"}"#, g)).expect("repaired");
    assert!(notes.iter().any(|n| n.contains("id \"b7\"") && n.contains("repaired")), "{notes:?}");
    let b7 = l.buildings.iter().find(|b| b.source_id == "b7").expect("b7");
    let Shape::Footprint(mp) = &b7.shape else { panic!("footprint") };
    assert_eq!(mp.0.len(), 2, "two triangles");
    // The two triangles are half of the 0.001° square: (85.2 m × 111.2 m) / 2 at 40°N.
    let half = parallel_m(0.001, 40.0005) * meridian_m(0.001) / 2.0;
    let a = wangge_core::geometry::area_m2(mp);
    assert!((a - half).abs() / half < 0.01, "{a} vs {half}");
}

fn field_error(props: &str) -> String {
    let e = read_text(&one_feature(props, SQUARE)).expect_err("bad property");
    assert!(matches!(e, IoError::Field { .. }), "{e}");
    e.to_string()
}

#[test]
fn negative_households_name_the_feature_and_field() {
    let m = field_error(r#"{"households":-3}"#);
    assert!(
        m.contains("bad.geojson")
            && m.contains("feature 1 (id \"b7\")")
            && m.contains("`households`")
            && m.contains("negative"),
        "{m}"
    );
}

#[test]
fn non_integer_households_are_errors() {
    for v in ["3.5", r#""abc""#, "true", "1e12"] {
        let m = field_error(&format!(r#"{{"households":{v}}}"#));
        assert!(m.contains("bad.geojson") && m.contains("id \"b7\"") && m.contains("`households`"), "{v}: {m}");
    }
}

#[test]
fn duplicate_ids_are_errors() {
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","id":"x","properties":{},"geometry":{"type":"Point","coordinates":[116.35,40.0]}},
      {"type":"Feature","id":"y","properties":{},"geometry":{"type":"Point","coordinates":[116.35,40.0]}},
      {"type":"Feature","properties":{"id":"x"},"geometry":{"type":"Point","coordinates":[116.35,40.0]}}]}"#;
    let e = read_text(text).expect_err("duplicate");
    assert!(matches!(e, IoError::DuplicateId { .. }), "{e}");
    let m = e.to_string();
    assert!(
        m.contains("bad.geojson") && m.contains("`x`") && m.contains("feature 0") && m.contains("feature 2"),
        "{m}"
    );
}

#[test]
fn an_unknown_category_lists_the_known_ones() {
    let e = read_text(&one_feature(r#"{"category":"cinema"}"#, r#"{"type":"Point","coordinates":[116.35,40.0]}"#))
        .expect_err("unknown category");
    let m = e.to_string();
    assert!(m.contains("bad.geojson") && m.contains("id \"b7\"") && m.contains("`category`"), "{m}");
    assert!(m.contains("cinema") && m.contains("kindergarten"), "{m}");
}

#[test]
fn units_must_add_up_to_households() {
    let m = field_error(r#"{"households":10,"units":[{"label":"1","households":4},{"label":"2","households":5}]}"#);
    assert!(m.contains("id \"b7\"") && m.contains("`households`") && m.contains("10") && m.contains("9"), "{m}");
}
