//! `wangge circles …` run as the real binary: file mode (`nearest`, `isochrones`, `coverage`)
//! checked against pen-and-paper distances on a drawn network, a plain Dijkstra on the Beijing
//! sample and the engine on Helsinki; bad inputs fail naming file, feature/row and field and write
//! nothing; store mode (`compute`, `report`, `site`) on SQLite and PostGIS.

use geo::{Area, BooleanOps, Contains, Haversine, Length, MultiPolygon, Point};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wangge_circles::{Network, NetworkOptions, ReachOptions, WalkProfile};
use wangge_core::Catalogue;
use wangge_testkit::geodata;

fn wangge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("WANGGE_CATALOGUE")
        .output()
        .expect("run wangge")
}

fn ok(args: &[&str]) -> (String, String) {
    let out = wangge(args);
    let (o, e) = (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string());
    assert!(out.status.success(), "wangge {args:?} failed:\n{o}\n{e}");
    (o, e)
}

/// Runs a command that must fail; returns its stderr.
fn fails(args: &[&str]) -> String {
    let out = wangge(args);
    let e = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "wangge {args:?} should have failed:\n{e}");
    assert_ne!(out.status.code(), Some(0));
    e
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Metres along a meridian for `deg` degrees of latitude (exactly what haversine gives).
fn meridian_m(deg: f64) -> f64 {
    EARTH_RADIUS_M * deg.to_radians()
}

/// A network drawn by hand: a main footway along the meridian 116.35 E (40.000 → 40.003 N), an
/// island footway along 116.36 E (40.000 → 40.001 N, not connected), a kindergarten at the main
/// way's south end and a pharmacy half way along the island.
const DRAWN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
 <node id="1" lat="40.000" lon="116.35"/>
 <node id="2" lat="40.001" lon="116.35"/>
 <node id="3" lat="40.002" lon="116.35"/>
 <node id="4" lat="40.003" lon="116.35"/>
 <node id="11" lat="40.000" lon="116.36"/>
 <node id="12" lat="40.001" lon="116.36"/>
 <node id="21" lat="40.000" lon="116.35"><tag k="amenity" v="kindergarten"/></node>
 <node id="22" lat="40.0005" lon="116.36"><tag k="amenity" v="pharmacy"/></node>
 <way id="100"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><tag k="highway" v="footway"/></way>
 <way id="101"><nd ref="11"/><nd ref="12"/><tag k="highway" v="footway"/></way>
</osm>
"#;

fn drawn(dir: &Path) -> PathBuf {
    let p = dir.join("drawn.osm");
    std::fs::write(&p, DRAWN).expect("write osm");
    p
}

/// `id,category,distance_m,time_s` rows: (id, category) → (distance, time), checking the header
/// and that every point × category row is there exactly once, in order.
type Rows = BTreeMap<(String, String), (Option<f64>, Option<f64>)>;

fn read_d(path: &Path, ids: &[&str], categories: &[&str]) -> Rows {
    let text = std::fs::read_to_string(path).expect("D.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,category,distance_m,time_s"));
    let mut out = BTreeMap::new();
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), ids.len() * categories.len(), "one row per point and category");
    for (k, line) in rows.iter().enumerate() {
        let v: Vec<&str> = line.split(',').collect();
        assert_eq!(v.len(), 4, "{line}");
        assert_eq!(v[0], ids[k / categories.len()], "rows by point, in input order");
        assert_eq!(v[1], categories[k % categories.len()], "then by category, in catalogue order");
        let num = |t: &str| (!t.is_empty()).then(|| t.parse::<f64>().expect("number"));
        let (d, t) = (num(v[2]), num(v[3]));
        assert_eq!(d.is_some(), t.is_some(), "{line}: distance and time are empty together");
        assert!(out.insert((v[0].to_string(), v[1].to_string()), (d, t)).is_none());
    }
    out
}

fn all_categories() -> Vec<String> {
    Catalogue::default_catalogue().categories.iter().map(|c| c.id.clone()).collect()
}

#[test]
fn nearest_on_a_drawn_network_gives_pen_and_paper_distances_and_empty_for_islands_and_far_points() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let osm = drawn(tmp.path());
    let points = tmp.path().join("P.csv");
    // On the main way at 40.002; on the island's south end; 8.5 km east of everything.
    std::fs::write(&points, "id,lon,lat\nmain,116.35,40.002\nisland,116.36,40.000\nfar,116.45,40.0\n").expect("P");
    let out = tmp.path().join("D.csv");
    let (_, err) = ok(&["circles", "nearest", "--osm", s(&osm), "--points", s(&points), "--out", s(&out)]);
    let cats = all_categories();
    let cat_refs: Vec<&str> = cats.iter().map(String::as_str).collect();
    let d = read_d(&out, &["main", "island", "far"], &cat_refs);
    let get = |id: &str, c: &str| d[&(id.to_string(), c.to_string())];

    let (dist, time) = get("main", "kindergarten");
    let want = meridian_m(0.002);
    assert!((dist.expect("reached") - want).abs() < 1e-3, "{dist:?} vs {want}");
    assert!((time.expect("time") - want / 1.2).abs() < 1e-3);
    // The pharmacy is on the island: unreachable from the main way, 55.6 m from the island's end.
    assert_eq!(get("main", "pharmacy"), (None, None));
    let (dist, _) = get("island", "pharmacy");
    assert!((dist.expect("reached") - meridian_m(0.0005)).abs() < 1e-3, "{dist:?}");
    assert_eq!(get("island", "kindergarten"), (None, None), "an island point is unreachable, not at 0 m");
    for c in &cats {
        assert_eq!(get("far", c), (None, None), "the far point has no distance for {c}");
        if c != "kindergarten" && c != "pharmacy" {
            assert_eq!(get("main", c), (None, None), "no facility of {c}");
        }
    }
    assert!(err.contains("island"), "islands are reported:\n{err}");
    assert!(err.contains("far"), "the point off the network is named:\n{err}");

    // The elderly profile and an explicit speed change times, not distances.
    ok(&["circles", "nearest", "--osm", s(&osm), "--points", s(&points), "--out", s(&out), "--profile", "elderly"]);
    let (dist, time) = read_d(&out, &["main", "island", "far"], &cat_refs)[&("main".into(), "kindergarten".into())];
    assert!((dist.expect("d") - want).abs() < 1e-3);
    assert!((time.expect("t") - want / 0.8).abs() < 1e-3);
    ok(&["circles", "nearest", "--osm", s(&osm), "--points", s(&points), "--out", s(&out), "--speed", "1.5"]);
    let (_, time) = read_d(&out, &["main", "island", "far"], &cat_refs)[&("main".into(), "kindergarten".into())];
    assert!((time.expect("t") - want / 1.5).abs() < 1e-3);

    // A cut-off below the distance leaves it empty.
    ok(&["circles", "nearest", "--osm", s(&osm), "--points", s(&points), "--out", s(&out), "--cutoff", "200"]);
    assert_eq!(
        read_d(&out, &["main", "island", "far"], &cat_refs)[&("main".into(), "kindergarten".into())],
        (None, None)
    );
}

/// Plain Dijkstra over the imported edges (by node id) from several sources, up to `limit` metres.
fn dijkstra(adj: &HashMap<&str, Vec<(&str, f64)>>, sources: &[&str], limit: f64) -> HashMap<String, f64> {
    #[derive(PartialEq)]
    struct Item(f64, String);
    impl Eq for Item {}
    impl PartialOrd for Item {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Item {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            o.0.total_cmp(&self.0)
        }
    }
    let mut dist: HashMap<String, f64> = HashMap::new();
    let mut heap = BinaryHeap::new();
    for s in sources {
        dist.insert(s.to_string(), 0.0);
        heap.push(Item(0.0, s.to_string()));
    }
    while let Some(Item(d, v)) = heap.pop() {
        if d > dist[&v] {
            continue;
        }
        for &(w, len) in adj.get(v.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
            let nd = d + len;
            if nd <= limit && dist.get(w).is_none_or(|&old| nd < old) {
                dist.insert(w.to_string(), nd);
                heap.push(Item(nd, w.to_string()));
            }
        }
    }
    dist
}

fn facility_feature(id: &str, category: &str, p: Point<f64>) -> serde_json::Value {
    serde_json::json!({
        "type": "Feature", "id": id,
        "geometry": {"type": "Point", "coordinates": [p.x(), p.y()]},
        "properties": {"category": category, "name": format!("{category} {id}")},
    })
}

fn write_facilities(path: &Path, features: Vec<serde_json::Value>) {
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    std::fs::write(path, serde_json::to_string(&fc).expect("json")).expect("write F");
}

#[test]
fn nearest_from_network_nodes_equals_a_plain_dijkstra_on_beijing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pbf = geodata("beijing/haidian-liudaokou.osm.pbf");
    let layers = wangge_io::read(&pbf, &Default::default()).expect("read").layers;
    // Positions of every vertex: a node is unambiguous when nothing but itself lies there.
    let key = |p: geo::Coord<f64>| (p.x.to_bits(), p.y.to_bits());
    let mut owners: HashMap<(u64, u64), BTreeSet<String>> = HashMap::new();
    let mut adj: HashMap<&str, Vec<(&str, f64)>> = HashMap::new();
    for e in &layers.edges {
        let n = e.geometry.0.len();
        for (i, c) in e.geometry.0.iter().enumerate() {
            let owner = match i {
                0 => e.from.clone(),
                i if i == n - 1 => e.to.clone(),
                i => format!("{}#{i}", e.source_id),
            };
            owners.entry(key(*c)).or_default().insert(owner);
        }
        adj.entry(&e.from).or_default().push((&e.to, e.length_m));
        adj.entry(&e.to).or_default().push((&e.from, e.length_m));
    }
    let safe: Vec<&wangge_core::NetNode> = layers
        .nodes
        .iter()
        .filter(|n| adj.contains_key(n.source_id.as_str()))
        .filter(|n| owners.get(&key(n.location.0)).is_some_and(|o| o.len() == 1 && o.contains(&n.source_id)))
        .collect();
    assert!(safe.len() > 300, "{}", safe.len());
    let mut facilities = Vec::new();
    let mut sources: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, n) in safe.iter().enumerate() {
        let cat = match k {
            k if k % 41 == 3 => "park",
            k if k % 97 == 10 => "kindergarten",
            k if k == safe.len() / 2 => "police",
            _ => continue,
        };
        facilities.push(facility_feature(&format!("f{k}"), cat, n.location));
        sources.entry(cat).or_default().push(&n.source_id);
    }
    let f = tmp.path().join("F.geojson");
    write_facilities(&f, facilities);
    let chosen: Vec<&&wangge_core::NetNode> = safe.iter().step_by(4).collect();
    let mut csv = String::from("id,lon,lat\n");
    for n in &chosen {
        // Rust prints the shortest text that reads back as the same f64.
        csv.push_str(&format!("{},{},{}\n", n.source_id, n.location.x(), n.location.y()));
    }
    let p = tmp.path().join("P.csv");
    std::fs::write(&p, csv).expect("P");
    let out = tmp.path().join("D.csv");
    ok(&[
        "circles",
        "nearest",
        "--osm",
        s(&pbf),
        "--facilities",
        s(&f),
        "--points",
        s(&p),
        "--out",
        s(&out),
        "--speed",
        "1.2",
    ]);
    let cats = all_categories();
    let ids: Vec<&str> = chosen.iter().map(|n| n.source_id.as_str()).collect();
    let d = read_d(&out, &ids, &cats.iter().map(String::as_str).collect::<Vec<_>>());
    let mut compared = 0;
    for c in &cats {
        let reference = sources.get(c.as_str()).map(|src| dijkstra(&adj, src, 2000.0)).unwrap_or_default();
        for id in &ids {
            let (got, time) = d[&(id.to_string(), c.clone())];
            match reference.get(*id) {
                Some(&want) if want < 2000.0 - 1e-6 => {
                    let got = got.unwrap_or_else(|| panic!("{id} {c}: empty, Dijkstra says {want}"));
                    assert!((got - want).abs() <= 1e-3, "{id} {c}: {got} vs Dijkstra {want}");
                    assert!((time.expect("time") - got / 1.2).abs() <= 1e-3);
                    compared += 1;
                }
                Some(_) => {}
                None => assert_eq!(got, None, "{id} {c}: Dijkstra reaches nothing within 2,000 m"),
            }
        }
    }
    assert!(compared > 200, "{compared}");
}

#[test]
fn nearest_matches_the_engine_for_helsinki_buildings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pbf = geodata("helsinki/Helsinki.osm.pbf");
    let layers = wangge_io::read(&pbf, &Default::default()).expect("read").layers;
    let points: Vec<(String, Point<f64>)> =
        layers.buildings.iter().filter_map(|b| Some((b.source_id.clone(), b.shape.point()?))).collect();
    let mut csv = String::from("id,lon,lat\n");
    for (id, p) in &points {
        csv.push_str(&format!("{id},{},{}\n", p.x(), p.y()));
    }
    let p = tmp.path().join("P.csv");
    std::fs::write(&p, csv).expect("P");
    let out = tmp.path().join("D.csv");
    ok(&["circles", "nearest", "--osm", s(&pbf), "--points", s(&p), "--out", s(&out), "--profile", "elderly"]);
    let cats = all_categories();
    let ids: Vec<&str> = points.iter().map(|(id, _)| id.as_str()).collect();
    let d = read_d(&out, &ids, &cats.iter().map(String::as_str).collect::<Vec<_>>());

    let catalogue = Catalogue::default_catalogue();
    let net = Network::from_layers(&layers, &NetworkOptions { respect_compounds: false, ..Default::default() })
        .expect("network");
    let origins = net.snap_points(&points.iter().map(|(_, p)| *p).collect::<Vec<_>>());
    let fs = net.place_facilities(&layers.facilities, &catalogue).expect("facilities");
    let access = net
        .accessibility(&origins, &fs, &ReachOptions { k: 1, cutoff_m: Some(2000.0) }, &WalkProfile::elderly())
        .expect("access");
    let mut reached = 0;
    for c in &access.categories {
        for (i, id) in ids.iter().enumerate() {
            let (got, time) = d[&(id.to_string(), c.category.clone())];
            match (c.distance_m(i), got) {
                (Some(want), Some(got)) => {
                    assert!((got - want).abs() <= 5e-4 + 1e-9, "{id} {}: {got} vs {want}", c.category);
                    assert!((time.expect("time") - want / 0.8).abs() <= 5e-4 + 1e-9);
                    reached += 1;
                }
                (None, None) => {}
                (want, got) => panic!("{id} {}: engine {want:?}, CLI {got:?}", c.category),
            }
        }
    }
    assert!(reached > 1000, "{reached}");
    // Helsinki has no kindergarten: every row of it is empty.
    assert!(ids.iter().all(|id| d[&(id.to_string(), "kindergarten".to_string())] == (None, None)));
}

#[test]
fn bad_inputs_fail_naming_file_feature_and_field_and_write_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let osm = drawn(tmp.path());
    let p = tmp.path().join("P.csv");
    std::fs::write(&p, "id,lon,lat\nmain,116.35,40.002\n").expect("P");
    let out = tmp.path().join("D.csv");
    let base = |f: &Path| -> Vec<String> {
        ["circles", "nearest", "--osm", s(&osm), "--points", s(&p), "--out", s(&out), "--facilities", s(f)]
            .iter()
            .map(|x| x.to_string())
            .collect()
    };
    let run_fail = |args: Vec<String>| fails(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // A facility of an unknown category.
    let bad = tmp.path().join("bad-category.geojson");
    write_facilities(
        &bad,
        vec![
            facility_feature("a", "park", Point::new(116.35, 40.001)),
            facility_feature("b", "bakery", Point::new(116.35, 40.002)),
        ],
    );
    let e = run_fail(base(&bad));
    assert!(e.contains("bad-category.geojson") && e.contains("feature 1") && e.contains("`category`"), "{e}");
    assert!(e.contains("bakery") && e.contains("kindergarten"), "names the id and lists the known ones: {e}");
    assert!(!out.exists(), "nothing written");

    // A feature without a category.
    let none = tmp.path().join("no-category.geojson");
    let mut features = vec![facility_feature("a", "park", Point::new(116.35, 40.001))];
    features.push(serde_json::json!({"type": "Feature", "id": "x",
        "geometry": {"type": "Point", "coordinates": [116.35, 40.0]}, "properties": {"name": "?"}}));
    write_facilities(&none, features);
    let e = run_fail(base(&none));
    assert!(e.contains("no-category.geojson") && e.contains("feature 1") && e.contains("`category`"), "{e}");
    assert!(!out.exists());

    // Speeds of zero or below, a negative cut-off.
    let good = tmp.path().join("F.geojson");
    write_facilities(&good, vec![facility_feature("a", "park", Point::new(116.35, 40.001))]);
    for speed in ["0", "-1.2", "NaN"] {
        let mut args = base(&good);
        args.extend(["--speed".to_string(), speed.to_string()]);
        let e = run_fail(args);
        assert!(e.contains("--speed") && e.contains("positive"), "{speed}: {e}");
        assert!(!out.exists());
    }
    let mut args = base(&good);
    args.extend(["--cutoff".to_string(), "-5".to_string()]);
    assert!(run_fail(args).contains("--cutoff"));

    // Points: a bad number, a duplicate id, a missing column.
    for (text, row, field) in [
        ("id,lon,lat\na,116.35,40.0\nb,116.35,abc\n", "row 3", "`lat`"),
        ("id,lon,lat\na,116.35,40.0\na,116.35,40.001\n", "row 3", "`id`"),
        ("id,lon,lat\na,200,40.0\n", "row 2", "`lon`"),
    ] {
        std::fs::write(&p, text).expect("P");
        let e = run_fail(base(&good));
        assert!(e.contains("P.csv") && e.contains(row) && e.contains(field), "{text}: {e}");
        assert!(!out.exists());
    }
    std::fs::write(&p, "name,x,y\na,1,2\n").expect("P");
    assert!(run_fail(base(&good)).contains("`id`, `lon` and `lat`"));

    // A failing run leaves an existing output as it was.
    std::fs::write(&p, "id,lon,lat\nmain,116.35,40.002\n").expect("P");
    std::fs::write(&out, "previous").expect("out");
    run_fail(base(&bad));
    assert_eq!(std::fs::read_to_string(&out).expect("out"), "previous");
    std::fs::remove_file(&out).expect("rm");

    // Isochrones: no minutes worth drawing; an unknown category asked for.
    let iso = tmp.path().join("iso.geojson");
    for minutes in ["0", "5,-1"] {
        let e = fails(&[
            "circles",
            "isochrones",
            "--osm",
            s(&osm),
            "--facilities",
            s(&good),
            "--minutes",
            minutes,
            "--out",
            s(&iso),
        ]);
        assert!(e.contains("--minutes"), "{e}");
    }
    let e = fails(&[
        "circles",
        "isochrones",
        "--osm",
        s(&osm),
        "--facilities",
        s(&good),
        "--minutes",
        "5",
        "--out",
        s(&iso),
        "--category",
        "bakery",
    ]);
    assert!(e.contains("bakery") && e.contains("--category"), "{e}");
    assert!(!iso.exists());

    // Coverage: a buildings file without buildings.
    let cov = tmp.path().join("cov.geojson");
    let e = fails(&["circles", "coverage", "--osm", s(&osm), "--buildings", s(&good), "--out", s(&cov)]);
    assert!(e.contains("F.geojson") && e.contains("no buildings"), "{e}");
    assert!(!cov.exists());

    // A city file without a walkable way.
    let empty = tmp.path().join("empty.osm");
    std::fs::write(&empty, "<?xml version=\"1.0\"?><osm version=\"0.6\"><node id=\"1\" lat=\"40\" lon=\"116\"/></osm>")
        .expect("osm");
    let e = fails(&["circles", "nearest", "--osm", s(&empty), "--points", s(&p), "--out", s(&out)]);
    assert!(e.contains("empty.osm") && e.contains("walking network"), "{e}");
    assert!(!out.exists());
}

fn geometry_of(f: &geojson::Feature) -> Option<MultiPolygon<f64>> {
    let g: geo::Geometry<f64> = f.geometry.clone()?.try_into().expect("geometry");
    match g {
        geo::Geometry::MultiPolygon(m) => Some(m),
        geo::Geometry::Polygon(p) => Some(MultiPolygon(vec![p])),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn isochrones_are_nested_per_facility_and_unplaced_facilities_say_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pbf = geodata("beijing/haidian-liudaokou.osm.pbf");
    let layers = wangge_io::read(&pbf, &Default::default()).expect("read").layers;
    let n = layers.nodes.len();
    let picks = [n / 5, n / 2, 4 * n / 5];
    let mut features: Vec<serde_json::Value> = picks
        .iter()
        .zip(["kindergarten", "park", "pharmacy"])
        .map(|(&k, c)| facility_feature(&format!("f{k}"), c, layers.nodes[k].location))
        .collect();
    features.push(facility_feature("far", "park", Point::new(116.5, 40.2)));
    let f = tmp.path().join("F.geojson");
    write_facilities(&f, features);
    let out = tmp.path().join("iso.geojson");
    let (_, err) = ok(&[
        "circles",
        "isochrones",
        "--osm",
        s(&pbf),
        "--facilities",
        s(&f),
        "--minutes",
        "5,10,15",
        "--out",
        s(&out),
    ]);
    assert!(err.contains("far"), "{err}");
    let fc: geojson::FeatureCollection = std::fs::read_to_string(&out).expect("iso").parse().expect("geojson");
    assert_eq!(fc.features.len(), 4 * 3, "one feature per facility and minutes");
    let mut by: BTreeMap<(String, u64), &geojson::Feature> = BTreeMap::new();
    for feat in &fc.features {
        let id = feat.property("facility_id").and_then(|v| v.as_str()).expect("facility_id").to_string();
        assert!(feat.property("category").and_then(|v| v.as_str()).is_some());
        let m = feat.property("minutes").and_then(|v| v.as_f64()).expect("minutes");
        by.insert((id, m as u64), feat);
    }
    for m in [5, 10, 15] {
        let far = by[&("far".to_string(), m)];
        assert!(far.geometry.is_none(), "no area for a facility off the network");
        assert!(
            far.property("unreachable")
                .and_then(|v| v.as_str())
                .is_some_and(|r| r.contains("not on the walking network"))
        );
    }
    for &k in &picks {
        let id = format!("f{k}");
        let a: Vec<MultiPolygon<f64>> =
            [5, 10, 15].iter().map(|&m| geometry_of(by[&(id.clone(), m)]).expect("area")).collect();
        let here = layers.nodes[k].location;
        assert!(a[0].contains(&here), "{id}: the facility lies in its 5-minute area");
        for w in a.windows(2) {
            let (small, big) = (&w[0], &w[1]);
            assert!(small.unsigned_area() > 0.0 && small.unsigned_area() < big.unsigned_area(), "{id}: areas grow");
            // Outputs are rounded to 1e-7° (about 1 cm): what sticks out must be slivers under 1 cm
            // wide along the smaller area's outline. In square metres (degrees² near 40° N).
            let m2 = 111_320.0f64.powi(2) * 40f64.to_radians().cos();
            let outside = small.difference(big).unsigned_area() * m2;
            let outline: f64 = small
                .0
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .map(|r| Haversine.length(r))
                .sum();
            assert!(outside <= 0.01 * outline, "{id}: {outside} m² of the smaller area lies outside the larger");
        }
        // Categories come from the file.
        assert_eq!(
            by[&(id.clone(), 5)].property("category").and_then(|v| v.as_str()),
            Some(["kindergarten", "park", "pharmacy"][picks.iter().position(|&x| x == k).expect("pick")])
        );
    }
}

fn sqlite(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}

#[test]
fn coverage_file_agrees_with_the_store_and_scores_lie_in_0_1() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pbf = geodata("beijing/haidian-liudaokou.osm.pbf");
    let db = sqlite(tmp.path(), "b.db");
    ok(&["--db", &db, "import", s(&pbf)]);
    let b = tmp.path().join("B.geojson");
    ok(&["--db", &db, "export", "--layer", "buildings", "--out", s(&b)]);
    let out = tmp.path().join("coverage.geojson");
    let (_, err) = ok(&["circles", "coverage", "--osm", s(&pbf), "--buildings", s(&b), "--out", s(&out)]);
    let catalogue = Catalogue::default_catalogue();
    for c in &catalogue.categories {
        assert!(err.contains(&c.id), "the summary lists {}:\n{err}", c.id);
    }
    let fc: geojson::FeatureCollection = std::fs::read_to_string(&out).expect("coverage").parse().expect("geojson");
    let exported: geojson::FeatureCollection = std::fs::read_to_string(&b).expect("B").parse().expect("geojson");
    assert_eq!(fc.features.len(), exported.features.len());
    let mut file: HashMap<(String, String), Option<f64>> = HashMap::new();
    let mut scored = 0;
    for f in &fc.features {
        let id = match &f.id {
            Some(geojson::feature::Id::String(s)) => s.clone(),
            other => panic!("id {other:?}"),
        };
        let on = f.property("on_network").and_then(|v| v.as_bool()).expect("on_network");
        let score = f.property("completeness").and_then(|v| v.as_f64());
        assert_eq!(score.is_some(), on, "{id}: a score exactly for buildings on the network");
        let mut covered = 0;
        for c in &catalogue.categories {
            let d = f.property(format!("{}_distance_m", c.id)).expect("distance property").as_f64();
            let t = f.property(format!("{}_time_s", c.id)).expect("time property").as_f64();
            let cov = f.property(format!("{}_covered", c.id)).and_then(|v| v.as_bool()).expect("covered");
            assert_eq!(cov, d.is_some_and(|d| d <= c.distance_m), "{id} {}", c.id);
            assert_eq!(d.is_some(), t.is_some());
            if let (Some(d), Some(t)) = (d, t) {
                assert!((t - d / 1.2).abs() < 2e-3);
            }
            covered += usize::from(cov);
            file.insert((id.clone(), c.id.clone()), d);
        }
        if let Some(s) = score {
            assert!((0.0..=1.0).contains(&s), "{id}: {s}");
            assert!((s - covered as f64 / catalogue.categories.len() as f64).abs() < 1e-3, "{id}: {s} vs {covered}");
            scored += 1;
        }
    }
    assert!(scored > 100, "{scored}");

    // The store computes the same distances for its buildings with households.
    ok(&["--db", &db, "circles", "compute"]);
    let results = block_on(async {
        let store = wangge_store::open(&db).await.expect("store");
        store.circle_results(None).await.expect("results")
    });
    assert!(results.len() > 100 * catalogue.categories.len());
    for r in &results {
        let want = file[&(r.building.clone(), r.category.clone())];
        match (r.distance_m, want) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-3, "{} {}: {a} vs {b}", r.building, r.category),
            (None, None) => {}
            (a, b) => panic!("{} {}: store {a:?}, file {b:?}", r.building, r.category),
        }
    }
}

/// Two community rectangles (west, east) inside one street, covering the layers' buildings.
fn communities(path: &Path, layers: &wangge_core::Layers) {
    let pts: Vec<Point<f64>> = layers.buildings.iter().filter_map(|b| b.shape.point()).collect();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in &pts {
        (x0, x1, y0, y1) = (x0.min(p.x()), x1.max(p.x()), y0.min(p.y()), y1.max(p.y()));
    }
    let (x0, x1, y0, y1) = (x0 - 0.01, x1 + 0.01, y0 - 0.01, y1 + 0.01);
    let xm = (x0 + x1) / 2.0;
    let rect = |a: f64, b: f64| serde_json::json!({"type": "Polygon", "coordinates": [[[a, y0], [b, y0], [b, y1], [a, y1], [a, y0]]]});
    let fc = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "st1", "properties": {"level": "street", "name": "街道一"}, "geometry": rect(x0 - 0.001, x1 + 0.001)},
        {"type": "Feature", "id": "c-west", "properties": {"level": "community", "name": "西社区"}, "geometry": rect(x0, xm)},
        {"type": "Feature", "id": "c-east", "properties": {"level": "community", "name": "东社区"}, "geometry": rect(xm, x1)},
    ]});
    std::fs::write(path, serde_json::to_string(&fc).expect("json")).expect("write communities");
}

#[test]
fn store_mode_computes_reports_and_sites_on_helsinki() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = sqlite(tmp.path(), "h.db");
    let pbf = geodata("helsinki/Helsinki.osm.pbf");
    let grid = geodata("helsinki/helsinki_population_grid_2020.gpkg");
    let layers = wangge_io::read(&pbf, &Default::default()).expect("read").layers;
    let comm = tmp.path().join("communities.geojson");
    communities(&comm, &layers);
    ok(&["--db", &db, "import", s(&pbf), s(&grid)]);
    ok(&["--db", &db, "import", s(&comm)]);
    let e = fails(&["--db", &db, "circles", "report"]);
    assert!(e.contains("wangge circles compute"), "{e}");
    assert!(fails(&["--db", &db, "circles", "compute", "--speed", "0"]).contains("--speed"));

    // A grid plan in force, so coverage is also kept per grid.
    ok(&["--db", &db, "partition", "--community", "all", "--min", "300", "--max", "500"]);
    ok(&["--db", &db, "plan", "activate", "draft"]);
    let (out, _) = ok(&["--db", &db, "circles", "compute", "--profile", "elderly"]);
    assert!(out.contains("saved") && out.contains("grids") && out.contains("2 communities"), "{out}");

    let (text, _) = ok(&["--db", &db, "circles", "report"]);
    let catalogue = Catalogue::default_catalogue();
    for block in ["city", "community 西社区 (c-west)", "community 东社区 (c-east)"] {
        let body: String =
            text.split("\n\n").find(|b| b.starts_with(block)).unwrap_or_else(|| panic!("{block}:\n{text}")).into();
        for c in &catalogue.categories {
            assert!(body.lines().any(|l| l.trim_start().starts_with(&format!("{} ", c.id))), "{block} lacks {}", c.id);
        }
    }
    assert!(text.contains("0.8 m/s") && text.contains("elderly"), "{text}");

    let (json, _) = ok(&["--db", &db, "circles", "report", "--json", "--level", "all"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["profile"], "elderly");
    let rows = v["coverage"].as_array().expect("coverage");
    let total = |level: &str, cat: &str| -> (u64, u64, usize) {
        rows.iter().filter(|r| r["level"] == level && r["category"] == cat).fold((0, 0, 0), |(a, b, n), r| {
            (a + r["households_covered"].as_u64().unwrap_or(0), b + r["households_total"].as_u64().unwrap_or(0), n + 1)
        })
    };
    for c in &catalogue.categories {
        let city = total("city", &c.id);
        assert_eq!(city.2, 1);
        assert!(city.1 > 5000, "{c:?}: {city:?}");
        assert_eq!(total("community", &c.id).1, city.1, "the two communities hold every household");
        assert_eq!(total("street", &c.id), city, "one street");
        let grids = total("grid", &c.id);
        assert!(grids.2 >= 10, "{grids:?}");
        assert_eq!((grids.0, grids.1), (city.0, city.1), "grids add up to the city");
    }
    for r in rows {
        if let Some(share) = r["share"].as_f64() {
            assert!((0.0..=1.0).contains(&share));
        }
    }
    let city_of = |cat: &str| rows.iter().find(|r| r["level"] == "city" && r["category"] == cat).expect("row").clone();
    assert_eq!(city_of("kindergarten")["households_covered"], 0, "Helsinki's sample has no kindergarten");
    assert!(city_of("bus_stop")["households_covered"].as_u64().expect("n") > 0);

    // Two kindergartens: each covers households nobody covers now.
    let (out, _) = ok(&["--db", &db, "circles", "site", "--category", "kindergarten", "--count", "2"]);
    let gains: Vec<u64> = out
        .lines()
        .filter_map(|l| {
            let v: Vec<&str> = l.split_whitespace().collect();
            (v.len() >= 5 && (v[0] == "1" || v[0] == "2") && v[1].parse::<f64>().is_ok())
                .then(|| v[3].replace(',', "").parse().expect("households"))
        })
        .collect();
    assert_eq!(gains.len(), 2, "{out}");
    assert!(gains[0] > 0 && gains[1] > 0 && gains[0] >= gains[1], "{gains:?}");
    let sites = block_on(async {
        wangge_store::open(&db).await.expect("store").sites(Some("kindergarten")).await.expect("sites")
    });
    assert_eq!(sites.iter().map(|s| s.households_gained).collect::<Vec<_>>(), gains);
    assert_eq!(sites.iter().map(|s| s.rank).collect::<Vec<_>>(), vec![1, 2]);

    // Given candidates: the far one covers nobody and is reported; an unknown category fails.
    let cands = tmp.path().join("candidates.csv");
    let b = layers.buildings.iter().find_map(|b| b.shape.point()).expect("point");
    std::fs::write(&cands, format!("id,lon,lat\nnear,{},{}\nfar,25.5,60.5\n", b.x(), b.y())).expect("cands");
    let out = wangge(&[
        "--db",
        &db,
        "circles",
        "site",
        "--category",
        "kindergarten",
        "--count",
        "2",
        "--candidates",
        s(&cands),
    ]);
    let (o, e) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{e}");
    assert!(o.contains("candidate near") && !o.contains("candidate far"), "{o}");
    assert!(e.contains("far"), "{e}");
    let e = fails(&["--db", &db, "circles", "site", "--category", "bakery", "--count", "1"]);
    assert!(e.contains("bakery") && e.contains("kindergarten"), "{e}");
}

#[test]
fn store_mode_reports_the_same_on_postgis_as_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pbf = geodata("beijing/haidian-liudaokou.osm.pbf");
    let lite = sqlite(tmp.path(), "b.db");
    let pg = wangge_testkit::fresh_pg_database_blocking("cli_circles");
    let mut reports = Vec::new();
    for db in [&lite, &pg] {
        ok(&["--db", db, "import", s(&pbf)]);
        ok(&["--db", db, "circles", "compute", "--category", "kindergarten,park,bus_stop"]);
        ok(&["--db", db, "circles", "site", "--category", "park", "--count", "1"]);
        let (json, _) = ok(&["--db", db, "circles", "report", "--json"]);
        let mut v: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(v["categories"].as_array().map(Vec::len), Some(3));
        v["computed_at"] = serde_json::Value::Null;
        let sites = block_on(async { wangge_store::open(db).await.expect("store").sites(None).await.expect("sites") });
        assert_eq!(sites.len(), 1);
        reports.push((v, sites[0].households_gained));
    }
    assert_eq!(reports[0], reports[1]);
}
