//! Life circles, one feature by id, search and paging over HTTP, on the real Beijing sample
//! (OpenStreetMap) in both stores.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use geo::{Area, Contains, Distance, Geometry, Haversine, LineString, MultiPolygon, Point};
use serde_json::Value;
use wangge_core::Layers;
use wangge_store::Role;

fn server(backend: &str) -> (TestServer, Layers) {
    let city = beijing();
    assert!(city.facilities.len() > 20 && city.edges.len() > 100, "the Beijing sample lost its facilities or ways");
    (start_city(backend, wangge_server::Options::default(), Role::Resident, Some(city.clone())), city)
}

fn line(geom: &Value) -> LineString<f64> {
    let g: geojson::Geometry = serde_json::from_value(geom.clone()).unwrap();
    match Geometry::<f64>::try_from(g).unwrap() {
        Geometry::LineString(l) => l,
        other => panic!("not a line: {other:?}"),
    }
}

fn area(geom: &Value) -> MultiPolygon<f64> {
    let g: geojson::Geometry = serde_json::from_value(geom.clone()).unwrap();
    match Geometry::<f64>::try_from(g).unwrap() {
        Geometry::MultiPolygon(m) => m,
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        other => panic!("not an area: {other:?}"),
    }
}

fn length_m(l: &LineString<f64>) -> f64 {
    l.lines().map(|s| Haversine.distance(Point::from(s.start), Point::from(s.end))).sum()
}

/// A residential building's representative point.
fn home(city: &Layers) -> Point<f64> {
    let b = city.buildings.iter().filter(|b| b.residential).nth(10).unwrap();
    b.shape.point().unwrap()
}

fn nearest_routes(backend: &str) {
    let (s, city) = server(backend);
    let b = &s.base;
    let p = home(&city);
    let url = format!("{b}/api/v1/nearest?lon={}&lat={}", p.x(), p.y());
    let (status, body) = call("GET", &url, None, None);
    assert_eq!(status, 200, "{body}");
    let speed = body["speed_mps"].as_f64().unwrap();
    let features = body["features"].as_array().unwrap();
    assert!(!features.is_empty());
    let catalogue = wangge_core::Catalogue::default_catalogue();
    let mut seen = Vec::new();
    for f in features {
        let pr = &f["properties"];
        let cat = pr["category"].as_str().unwrap();
        assert!(catalogue.get(cat).is_some(), "{cat}");
        assert!(!seen.contains(&cat.to_string()), "k=1 gives one facility per category");
        seen.push(cat.to_string());
        let d = pr["distance_m"].as_f64().unwrap();
        assert!(d > 0.0 && d <= 2000.0, "{d}");
        assert!((pr["minutes"].as_f64().unwrap() - d / speed / 60.0).abs() < 0.06);
        assert_eq!(pr["within_threshold"].as_bool().unwrap(), d <= catalogue.get(cat).unwrap().distance_m);
        // The route is the walk: it starts near the home, ends near the facility, and its length
        // is the distance given.
        let route = line(&f["geometry"]);
        let start = Point::from(route.0[0]);
        let end = Point::from(*route.0.last().unwrap());
        let facility = Point::new(pr["facility_lon"].as_f64().unwrap(), pr["facility_lat"].as_f64().unwrap());
        assert!(Haversine.distance(start, p) < 300.0, "route starts {} m away", Haversine.distance(start, p));
        assert!(Haversine.distance(end, facility) < 300.0);
        let len = length_m(&route);
        assert!((len - d).abs() <= 0.01 * d + 2.0, "route {len} m vs distance {d} m ({cat})");
        // No walk is shorter than the straight line between its ends.
        assert!(Haversine.distance(start, end) <= d * 1.005 + 1.0);
        // The facility is the one of that id in the data.
        let id = pr["facility_id"].as_str().unwrap();
        let known = city.facilities.iter().find(|x| x.source_id == id).unwrap();
        assert_eq!(known.category, cat);
        assert!(Haversine.distance(known.location, facility) < 0.05);
    }
    // Categories with nothing within the cut-off are listed, the others are not.
    for m in body["missing"].as_array().unwrap() {
        assert!(!seen.contains(&m.as_str().unwrap().to_string()));
    }

    // One category, three facilities: nearest first, the first one as with k=1.
    let cat = seen[0].clone();
    let (status, three) = call("GET", &format!("{url}&categories={cat}&k=3&cutoff_m=5000"), None, None);
    assert_eq!(status, 200, "{three}");
    let ds: Vec<f64> =
        three["features"].as_array().unwrap().iter().map(|f| f["properties"]["distance_m"].as_f64().unwrap()).collect();
    assert!(!ds.is_empty() && ds.len() <= 3);
    assert!(ds.windows(2).all(|w| w[0] <= w[1]), "{ds:?}");
    let first = features.iter().find(|f| f["properties"]["category"] == cat.as_str()).unwrap();
    assert_eq!(ds[0], first["properties"]["distance_m"].as_f64().unwrap());
    assert!(three["features"].as_array().unwrap().iter().all(|f| f["properties"]["category"] == cat.as_str()));

    // The same point in GCJ-02 gives the same walk, answered in GCJ-02.
    let (gx, gy) = wangge_core::chinacoords::CoordSystem::Gcj02.from_wgs84(p.x(), p.y());
    let (status, gcj) =
        call("GET", &format!("{b}/api/v1/nearest?lon={gx}&lat={gy}&coords=gcj02&categories={cat}"), None, None);
    assert_eq!(status, 200, "{gcj}");
    let g = &gcj["features"][0];
    assert_eq!(g["properties"]["distance_m"], first["properties"]["distance_m"]);
    let g0 = line(&g["geometry"]).0[0];
    let (wx, wy) = wangge_core::chinacoords::CoordSystem::Gcj02.to_wgs84(g0.x, g0.y);
    let w0 = line(&first["geometry"]).0[0];
    assert!(Haversine.distance(Point::new(wx, wy), Point::from(w0)) < 0.5);

    // Bad input: one JSON 4xx naming the problem.
    let lonlat = format!("lon={}&lat={}", p.x(), p.y());
    for (q, status, needle) in [
        (format!("lon={}", p.x()), 400, "lat"),
        ("lon=abc&lat=39.9".to_string(), 400, "lon"),
        (format!("{lonlat}&categories=casino"), 400, "casino"),
        (format!("{lonlat}&k=0"), 400, "k"),
        (format!("{lonlat}&k=11"), 400, "k"),
        (format!("{lonlat}&cutoff_m=-5"), 400, "cutoff_m"),
        (format!("{lonlat}&coords=wgs72"), 400, "wgs72"),
        ("lon=0.5&lat=0.5".to_string(), 422, "walking network"),
    ] {
        assert_error(&call("GET", &format!("{b}/api/v1/nearest?{q}"), None, None), status, needle);
    }
}

#[test]
fn sqlite_nearest_routes() {
    nearest_routes("sqlite");
}

#[test]
fn postgres_nearest_routes() {
    nearest_routes("postgres");
}

#[test]
fn isochrones_nest_and_hold_their_start() {
    let (s, city) = server("sqlite");
    let b = &s.base;
    let p = home(&city);
    let (status, body) = call("GET", &format!("{b}/api/v1/isochrones?lon={}&lat={}", p.x(), p.y()), None, None);
    assert_eq!(status, 200, "{body}");
    let fs = body["features"].as_array().unwrap();
    let minutes: Vec<f64> = fs.iter().map(|f| f["properties"]["minutes"].as_f64().unwrap()).collect();
    assert_eq!(minutes, vec![15.0, 10.0, 5.0]);
    let areas: Vec<MultiPolygon<f64>> = fs.iter().map(|f| area(&f["geometry"])).collect();
    let sizes: Vec<f64> = areas.iter().map(|a| a.unsigned_area()).collect();
    assert!(sizes[0] > sizes[1] && sizes[1] > sizes[2] && sizes[2] > 0.0, "{sizes:?}");
    // Every walking area holds the nearest facilities reached within its time: the route's last
    // point on the network (its very end is the facility itself, off the way).
    let (_, near) = call("GET", &format!("{b}/api/v1/nearest?lon={}&lat={}&cutoff_m=5000", p.x(), p.y()), None, None);
    for f in near["features"].as_array().unwrap() {
        let route = line(&f["geometry"]);
        let end = Point::from(route.0[route.0.len().saturating_sub(2)]);
        let m = f["properties"]["minutes"].as_f64().unwrap();
        for (limit, a) in minutes.iter().zip(&areas) {
            if m < limit - 0.2 {
                assert!(a.contains(&end), "a facility {m} min away is outside the {limit}-minute area");
            }
        }
    }

    // From a facility, in GCJ-02.
    let fac = city.facilities.iter().find(|f| f.category == "kindergarten").unwrap_or(&city.facilities[0]);
    let (status, from_fac) =
        call("GET", &format!("{b}/api/v1/isochrones?facility={}&minutes=5&coords=gcj02", fac.source_id), None, None);
    assert_eq!(status, 200, "{from_fac}");
    let a = area(&from_fac["features"][0]["geometry"]);
    let (gx, gy) = wangge_core::chinacoords::CoordSystem::Gcj02.from_wgs84(fac.location.x(), fac.location.y());
    assert!(geo::Euclidean.distance(&Point::new(gx, gy), &a) < 0.0006, "the facility is not in its own area");

    for (q, status, needle) in [
        ("facility=nope".to_string(), 404, "nope"),
        (format!("facility={}&lon=116.3&lat=39.9", fac.source_id), 400, "not both"),
        (format!("lon={}&lat={}&minutes=0", p.x(), p.y()), 400, "minutes"),
        (format!("lon={}&lat={}&minutes=5,abc", p.x(), p.y()), 400, "abc"),
        (format!("lon={}&lat={}&minutes=90", p.x(), p.y()), 400, "minutes"),
        ("minutes=5".to_string(), 400, "lon"),
    ] {
        assert_error(&call("GET", &format!("{b}/api/v1/isochrones?{q}"), None, None), status, needle);
    }
}

/// A stored run in which every other residential building is 1,000 m from a kindergarten (beyond
/// its threshold) and the rest 100 m.
fn save_run(s: &TestServer, city: &Layers) -> Vec<(String, u32)> {
    use wangge_store::{
        CircleCategory, CircleResult, CirclesMeta, CirclesRun, CoverageLevel, CoverageSummary, GraphSummary,
    };
    let cat = wangge_core::Catalogue::default_catalogue();
    let k = cat.get("kindergarten").unwrap();
    let homes: Vec<_> = city.buildings.iter().filter(|b| b.residential).collect();
    let mut far = Vec::new();
    let results: Vec<CircleResult> = homes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let d = if i % 2 == 0 { 1000.0 } else { 100.0 };
            if d > k.distance_m {
                far.push((b.source_id.clone(), b.households.count));
            }
            CircleResult {
                building: b.source_id.clone(),
                category: "kindergarten".into(),
                distance_m: Some(d),
                time_s: Some(d / 1.2),
                facility: Some("f1".into()),
            }
        })
        .collect();
    let total: u64 = homes.iter().map(|b| u64::from(b.households.count)).sum();
    let far_hh: u64 = far.iter().map(|(_, h)| u64::from(*h)).sum();
    let run = CirclesRun {
        meta: CirclesMeta {
            computed_at: String::new(),
            speed_mps: 1.2,
            profile: "default".into(),
            categories: vec![CircleCategory {
                id: k.id.clone(),
                level: k.level,
                distance_m: k.distance_m,
                weight: k.weight,
            }],
            graph: GraphSummary::default(),
        },
        results,
        scores: vec![],
        coverage: vec![CoverageSummary {
            category: "kindergarten".into(),
            level: CoverageLevel::City,
            region: "city".into(),
            households_covered: total - far_hh,
            households_total: total,
            buildings_covered: (homes.len() - far.len()) as u64,
            buildings_total: homes.len() as u64,
        }],
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(s.store.save_circles(&run)).unwrap();
    far
}

fn coverage_tables(backend: &str) {
    let (s, city) = server(backend);
    let b = &s.base;
    let leader = login(b, "leader1");
    let planner = login(b, "planner1");
    let resident = login(b, "resident1");
    // Before any run: empty tables, not errors.
    let (status, empty) = call("GET", &format!("{b}/api/v1/coverage"), Some(&leader), None);
    assert_eq!(status, 200, "{empty}");
    assert!(empty["rows"].as_array().unwrap().is_empty() && empty["computed_at"].is_null());

    let mut far = save_run(&s, &city);
    for path in ["coverage", "uncovered?category=kindergarten", "sites"] {
        let url = format!("{b}/api/v1/{path}");
        assert_error(&call("GET", &url, None, None), 401, "sign in");
        assert_error(&call("GET", &url, Some(&resident), None), 403, "leader");
        assert_eq!(call("GET", &url, Some(&planner), None).0, 200);
    }
    let (_, cov) = call("GET", &format!("{b}/api/v1/coverage?level=city&category=kindergarten"), Some(&leader), None);
    let row = &cov["rows"][0];
    let share = row["share"].as_f64().unwrap();
    let expect = row["households_covered"].as_f64().unwrap() / row["households_total"].as_f64().unwrap();
    assert!((share - expect).abs() < 1e-12 && cov["computed_at"].is_string());

    // Uncovered: exactly the far buildings, most households first.
    let (status, un) =
        call("GET", &format!("{b}/api/v1/uncovered?category=kindergarten&limit=100000"), Some(&leader), None);
    assert_eq!(status, 200, "{un}");
    let got: Vec<(String, u32)> = un["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["building"].as_str().unwrap().to_string(), r["households"].as_u64().unwrap() as u32))
        .collect();
    assert!(got.windows(2).all(|w| w[0].1 >= w[1].1));
    let mut got_sorted = got.clone();
    got_sorted.sort();
    far.sort();
    assert_eq!(got_sorted, far);
    assert_eq!(un["households"].as_u64().unwrap(), far.iter().map(|(_, h)| u64::from(*h)).sum::<u64>());
    let (_, two) = call("GET", &format!("{b}/api/v1/uncovered?category=kindergarten&limit=2"), Some(&leader), None);
    assert_eq!((two["rows"].as_array().unwrap().len(), two["truncated"].as_bool()), (2, Some(true)));

    for (q, needle) in [
        ("coverage?level=planet", "planet"),
        ("coverage?category=casino", "casino"),
        ("uncovered", "category"),
        ("uncovered?category=kindergarten&limit=0", "limit"),
        ("sites?category=casino", "casino"),
    ] {
        assert_error(&call("GET", &format!("{b}/api/v1/{q}"), Some(&leader), None), 400, needle);
    }
}

#[test]
fn sqlite_coverage_tables() {
    coverage_tables("sqlite");
}

#[test]
fn postgres_coverage_tables() {
    coverage_tables("postgres");
}

#[test]
fn features_by_id_search_and_pages() {
    let (s, city) = server("sqlite");
    let b = &s.base;
    let leader = login(b, "leader1");
    let home = city.buildings.iter().find(|b| b.residential).unwrap();
    let url = format!("{b}/api/v1/buildings/{}", home.source_id);
    let (status, anon) = call("GET", &url, None, None);
    assert_eq!(status, 200, "{anon}");
    assert_eq!(anon["id"], home.source_id.as_str());
    assert!(anon["properties"].get("households").is_none(), "residents never get household numbers");
    let (_, full) = call("GET", &url, Some(&leader), None);
    assert_eq!(full["properties"]["households"].as_u64(), Some(u64::from(home.households.count)));
    assert_error(&call("GET", &format!("{b}/api/v1/buildings/nope"), None, None), 404, "nope");
    let fac = &city.facilities[0];
    let (_, f) = call("GET", &format!("{b}/api/v1/facilities/{}", fac.source_id), None, None);
    assert_eq!(f["properties"]["category"], fac.category.as_str());
    assert_error(&call("GET", &format!("{b}/api/v1/facilities/nope"), None, None), 404, "nope");
    if let Some(c) = city.compounds.first() {
        assert_eq!(
            call("GET", &format!("{b}/api/v1/compounds/{}", c.source_id), None, None).1["id"],
            c.source_id.as_str()
        );
    }
    assert_error(&call("GET", &format!("{b}/api/v1/compounds/nope"), None, None), 404, "nope");
    // The test city's active plan has grid c1-01 (72 households).
    let (status, g) = call("GET", &format!("{b}/api/v1/grids/c1-01"), None, None);
    assert_eq!(status, 200, "{g}");
    assert!(g["properties"].get("households").is_none());
    assert_eq!(call("GET", &format!("{b}/api/v1/grids/c1-01"), Some(&leader), None).1["properties"]["households"], 72);
    assert_eq!(call("GET", &format!("{b}/api/v1/grids/c1-99?plan=old"), None, None).0, 200);
    assert_error(&call("GET", &format!("{b}/api/v1/grids/c1-01?plan=none"), None, None), 404, "none");
    assert_error(&call("GET", &format!("{b}/api/v1/grids/zz"), None, None), 404, "zz");

    // Search: a named facility is found by a part of its name, exact names first.
    let named = city.facilities.iter().find(|f| f.name.as_deref().is_some_and(|n| n.chars().count() >= 3)).unwrap();
    let name = named.name.clone().unwrap();
    let part: String = name.chars().skip(1).take(2).collect();
    let (status, hits) = call("GET", &format!("{b}/api/v1/search?q={}", enc(&part)), None, None);
    assert_eq!(status, 200, "{hits}");
    let hs = hits["hits"].as_array().unwrap();
    assert!(hs.iter().any(|h| h["id"] == named.source_id.as_str()));
    assert!(hs.iter().all(|h| {
        let n = h["name"].as_str().unwrap_or_default().to_lowercase();
        n.contains(&part.to_lowercase()) || h["id"].as_str().unwrap().to_lowercase().contains(&part.to_lowercase())
    }));
    let (_, exact) = call("GET", &format!("{b}/api/v1/search?q={}", enc(&name)), None, None);
    assert_eq!(exact["hits"][0]["name"], name.as_str());
    assert_error(&call("GET", &format!("{b}/api/v1/search?q=%20"), None, None), 400, "q");
    assert_error(&call("GET", &format!("{b}/api/v1/search?q=a&limit=1000"), None, None), 400, "limit");

    // Pages: every building exactly once across pages of 40, in a stable order.
    let mut url = format!("{b}/api/v1/buildings?limit=40");
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = call("GET", &url, None, None);
        assert_eq!(status, 200, "{page}");
        pages += 1;
        ids.extend(page["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(next) => {
                assert_eq!(page["truncated"], true);
                url = format!("{b}{next}");
            }
            None => break,
        }
    }
    let mut want: Vec<String> = city.buildings.iter().map(|b| b.source_id.clone()).collect();
    want.sort();
    assert_eq!(pages, want.len().div_ceil(40));
    assert_eq!(ids, want);
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes().map(|c| if c.is_ascii_alphanumeric() { (c as char).to_string() } else { format!("%{c:02X}") }).collect()
}
