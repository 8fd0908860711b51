//! The hand-drawn fixture `geodata/fixtures/osm/walk_rules.osm` (see its README for the drawing):
//! every expected number below is worked out from the coordinates written in the fixture.

use geo::{Area, Centroid, Contains, Geometry, Point, Polygon};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use wangge_core::{BasemapKind, HouseholdSource, Layers, RegionLevel, Shape};
use wangge_io::{ReadOptions, read};

/// Mean earth radius used by the haversine formula (the IUGG mean radius, as in `geo`).
const R: f64 = 6_371_008.8;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../geodata/fixtures/osm").join(name)
}

fn load(name: &str) -> (Layers, Vec<String>) {
    let imp = read(&fixture(name), &ReadOptions { dataset: Some("fixture".into()), ..ReadOptions::default() })
        .expect("the fixture reads");
    (imp.layers, imp.notes)
}

/// Length of `deg` degrees along a meridian: exactly R·Δφ on the sphere.
fn meridian(deg: f64) -> f64 {
    R * deg.to_radians()
}

/// Length of `dlon` degrees along the parallel at latitude `lat` (haversine with equal latitudes:
/// sin²(d/2R) = cos²φ·sin²(Δλ/2)).
fn parallel(dlon: f64, lat: f64) -> f64 {
    2.0 * R * (lat.to_radians().cos() * (dlon.to_radians() / 2.0).sin()).asin()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

#[test]
fn osm_walk_rules_network_follows_the_walkable_rule_and_splits_at_junctions() {
    let (l, notes) = load("walk_rules.osm");
    let m = meridian(0.001);
    // (id, from, to, length, highway, private) worked out from the drawing.
    let expected: Vec<(&str, &str, &str, f64, &str, bool)> = vec![
        // w100 runs n1-n2-n3-n9-n4 north; w101 crosses at n2, w102 leaves at n3; the motorway
        // through n9 is not walkable so n9 is no junction: three edges of 0.001° each.
        ("osm:w100:0", "osm:n1", "osm:n2", m, "footway", false),
        ("osm:w100:1", "osm:n2", "osm:n3", m, "footway", false),
        ("osm:w100:2", "osm:n3", "osm:n4", m, "footway", false),
        ("osm:w101:0", "osm:n5", "osm:n2", parallel(0.001, 40.001), "residential", false),
        ("osm:w101:1", "osm:n2", "osm:n6", parallel(0.001, 40.001), "residential", false),
        // access=private service: kept, marked private.
        ("osm:w102:0", "osm:n3", "osm:n8", parallel(0.001, 40.002), "service", true),
        // access=private residential with foot=yes: walkable and not private.
        ("osm:w107:0", "osm:n4", "osm:n20", m, "residential", false),
        // access=private footway: kept, marked private.
        ("osm:w108:0", "osm:n21", "osm:n22", m, "footway", true),
        // n999 is not in the file: the way falls into its two present runs.
        ("osm:w109:0", "osm:n23", "osm:n24", m, "footway", false),
        ("osm:w109:1", "osm:n25", "osm:n26", m, "footway", false),
    ];
    let mut edges = l.edges.clone();
    edges.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    let got: Vec<&str> = edges.iter().map(|e| e.source_id.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|e| e.0).collect();
    assert_eq!(got, want, "motorway w103, foot=no w104, area=yes w105, private residential w106 must not be edges");
    for (e, (id, from, to, len, hw, private)) in edges.iter().zip(&expected) {
        assert_eq!((e.from.as_str(), e.to.as_str()), (*from, *to), "{id}");
        assert!(close(e.length_m, *len), "{id}: {} m, expected {len} m", e.length_m);
        assert_eq!(e.highway, *hw, "{id}");
        assert_eq!(e.private, *private, "{id}");
        assert_eq!(e.dataset, "fixture");
    }
    assert_eq!(edges[2].geometry.0.len(), 3, "w100's last edge keeps its middle node n9");
    assert_eq!(edges[0].name.as_deref(), Some("主路"));
    let nodes: BTreeSet<&str> = l.nodes.iter().map(|n| n.source_id.as_str()).collect();
    let ends: BTreeSet<&str> = edges.iter().flat_map(|e| [e.from.as_str(), e.to.as_str()]).collect();
    assert_eq!(nodes, ends);
    assert_eq!(nodes.len(), 14);
    let n2 = l.nodes.iter().find(|n| n.source_id == "osm:n2").expect("junction n2");
    assert_eq!((n2.location.x(), n2.location.y()), (116.35, 40.001));
    assert!(
        notes.iter().any(|n| n.contains("walkable ways cut at the extract edge") && n.contains("w109")),
        "{notes:#?}"
    );
}

fn footprint<'a>(l: &'a Layers, id: &str) -> &'a geo::MultiPolygon<f64> {
    match &l.buildings.iter().find(|b| b.source_id == id).unwrap_or_else(|| panic!("building {id}")).shape {
        Shape::Footprint(mp) => mp,
        Shape::Point(_) => panic!("{id} should be a footprint"),
    }
}

#[test]
fn osm_walk_rules_buildings_multipolygon_repair_and_skips() {
    let (l, notes) = load("walk_rules.osm");
    let ids: BTreeSet<&str> = l.buildings.iter().map(|b| b.source_id.as_str()).collect();
    // w301 (a-b-a) is degenerate and w302 misses node n998: both skipped.
    assert_eq!(ids, BTreeSet::from(["osm:n900", "osm:r200", "osm:w300", "osm:w400"]));

    // r200: outer ring joined from w201 and the reversed w202 (0.001° square), inner w203 (0.0004° square).
    let r200 = footprint(&l, "osm:r200");
    assert_eq!(r200.0.len(), 1);
    assert_eq!(r200.0[0].interiors().len(), 1);
    let want = 0.001f64 * 0.001 - 0.0004 * 0.0004;
    assert!((r200.unsigned_area() - want).abs() < 1e-12, "{} vs {want}", r200.unsigned_area());
    let b = l.buildings.iter().find(|b| b.source_id == "osm:r200").expect("r200");
    assert_eq!(
        (b.kind.as_str(), b.name.as_deref(), b.levels),
        ("apartments", Some("带内院楼"), Some(6)),
        "levels `6;7` → 6"
    );
    assert_eq!((b.households.count, b.households.source), (24, HouseholdSource::Declared));
    assert!(b.residential);
    assert_eq!((b.compound.as_deref(), b.community.as_deref()), (None, None));

    // w300 is a bow-tie over a 0.0005° square: repaired into two triangles of a quarter square each.
    let w300 = footprint(&l, "osm:w300");
    assert_eq!(w300.0.len(), 2);
    assert!((w300.unsigned_area() - 0.5 * 0.0005 * 0.0005).abs() < 1e-12, "{}", w300.unsigned_area());
    let b = l.buildings.iter().find(|b| b.source_id == "osm:w300").expect("w300");
    assert_eq!(b.levels, Some(6), "levels `6.5` → 6");
    assert_eq!(b.households.source, HouseholdSource::None);

    let b = l.buildings.iter().find(|b| b.source_id == "osm:w400").expect("w400");
    assert_eq!((b.kind.as_str(), b.levels, b.residential), ("kindergarten", None, false));
    let b = l.buildings.iter().find(|b| b.source_id == "osm:n900").expect("n900");
    assert_eq!(b.shape, Shape::Point(Point::new(116.356, 40.01)));
    assert!(!b.residential, "a building with a shop is not taken as residential");

    let has = |words: &[&str]| notes.iter().any(|n| words.iter().all(|w| n.contains(w)));
    assert!(has(&["w300", "蝴蝶楼", "repaired"]), "{notes:#?}");
    assert!(has(&["w301", "degenerate"]), "{notes:#?}");
    assert!(has(&["building ways cut at the extract edge", "w302"]), "{notes:#?}");
    assert!(has(&["w400", "building:levels", "abc"]), "{notes:#?}");
}

#[test]
fn osm_walk_rules_areas_facilities_compounds_regions_basemap() {
    let (l, notes) = load("walk_rules.osm");
    // The C-shaped kindergarten: its centroid lies in the notch, outside; the facility point must be inside.
    let c: Vec<(f64, f64)> = [(0., 0.), (3., 0.), (3., 1.), (1., 1.), (1., 2.), (3., 2.), (3., 3.), (0., 3.)]
        .iter()
        .map(|(x, y)| (116.354 + x * 0.0003, 40.01 + y * 0.0003))
        .collect();
    let c_shape = Polygon::new(c.into(), vec![]);
    let centroid = c_shape.centroid().expect("has a centroid");
    assert!(!c_shape.contains(&centroid), "fixture sanity: the centroid of the C is outside it");
    let mut fac: Vec<(&str, &str)> = l.facilities.iter().map(|f| (f.source_id.as_str(), f.category.as_str())).collect();
    fac.sort();
    assert_eq!(fac, vec![("osm:n900", "convenience"), ("osm:w400", "kindergarten"), ("osm:w802", "park")]);
    let k = l.facilities.iter().find(|f| f.source_id == "osm:w400").expect("kindergarten");
    assert!(c_shape.contains(&k.location), "{:?}", k.location);
    assert_eq!(k.name.as_deref(), Some("阳光幼儿园"));

    assert_eq!(l.compounds.len(), 1, "r700 misses w702 and its ring does not close");
    assert_eq!((l.compounds[0].source_id.as_str(), l.compounds[0].name.as_deref()), ("osm:w500", Some("测试小区")));
    assert!((l.compounds[0].area.unsigned_area() - 0.002 * 0.002).abs() < 1e-12);
    assert!(notes.iter().any(|n| n.contains("r700") && n.contains("缺边小区") && n.contains("w702")), "{notes:#?}");

    assert_eq!(l.regions.len(), 1);
    let r = &l.regions[0];
    assert_eq!(
        (r.source_id.as_str(), r.level, r.name.as_str(), r.code.as_deref(), r.parent.as_deref()),
        ("osm:r600", RegionLevel::Community, "测试社区", Some("110108001001"), None)
    );
    assert!((r.area.unsigned_area() - 0.017 * 0.016).abs() < 1e-12);

    let mut bm: Vec<(&str, BasemapKind, &str)> =
        l.basemap.iter().map(|f| (f.source_id.as_str(), f.kind, f.class.as_str())).collect();
    bm.sort();
    use BasemapKind::*;
    assert_eq!(
        bm,
        vec![
            ("osm:w100", Road, "footway"),
            ("osm:w101", Road, "residential"),
            ("osm:w102", Road, "service"),
            ("osm:w103", Road, "motorway"),
            ("osm:w104", Road, "footway"),
            ("osm:w105", Road, "pedestrian"),
            ("osm:w106", Road, "residential"),
            ("osm:w107", Road, "residential"),
            ("osm:w108", Road, "footway"),
            ("osm:w109", Road, "footway"),
            ("osm:w500", Landuse, "residential"),
            ("osm:w800", Rail, "rail"),
            ("osm:w801", Waterway, "river"),
            ("osm:w802:landuse", Landuse, "grass"),
            ("osm:w802:park", Park, "park"),
            ("osm:w803", Water, "water"),
        ]
    );
    let geom = |id: &str| &l.basemap.iter().find(|f| f.source_id == id).expect("feature").geometry;
    assert!(matches!(geom("osm:w105"), Geometry::Polygon(_)), "area=yes highway is drawn as an area");
    assert!(matches!(geom("osm:w109"), Geometry::MultiLineString(m) if m.0.len() == 2), "cut way: two present runs");
    assert!(matches!(geom("osm:w103"), Geometry::LineString(ls) if ls.0.len() == 3));
    for f in &l.basemap {
        assert_eq!(f.dataset, "fixture");
    }
}

#[test]
fn osm_walk_rules_xml_and_pbf_give_the_same_layers() {
    let (mut x, _) = load("walk_rules.osm");
    let (mut p, _) = load("walk_rules.osm.pbf");
    x.sort();
    p.sort();
    assert_eq!(x, p);
}
