//! The nearest-services fast path (per-category nearest-facility trees built once per snapshot)
//! gives the search's answers on the real Beijing sample: same categories, same distances to the
//! micrometre, the same facility unless two are exactly tied, and a route of the same length
//! between the same end points.
#![allow(clippy::unwrap_used)]

mod common;

use geo::{Distance, Haversine, LineString, Point};
use wangge_circles::ServiceQuery;
use wangge_core::{Atlas, Catalogue};

fn length(l: &LineString<f64>) -> f64 {
    l.lines().map(|s| Haversine.distance(Point::from(s.start), Point::from(s.end))).sum()
}

#[test]
fn the_fast_nearest_path_agrees_with_the_search_on_beijing() {
    let layers = common::beijing();
    let atlas = Atlas::new(layers);
    let engine = wangge_server::circles::Engine::build(&atlas, &Catalogue::default_catalogue());
    let (net, fs) = engine.ready.as_ref().unwrap();
    let fields = engine.fields.as_ref().unwrap();
    let profile = &engine.profile;

    // Random points over the sample's buildings' box (a fixed seed), plus every building centre.
    let pts: Vec<Point<f64>> = atlas.layers().buildings.iter().filter_map(|b| b.shape.point()).collect();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &pts {
        (x0, y0, x1, y1) = (x0.min(p.x()), y0.min(p.y()), x1.max(p.x()), y1.max(p.y()));
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut points: Vec<Point<f64>> =
        (0..1500).map(|_| Point::new(x0 + next() * (x1 - x0), y0 + next() * (y1 - y0))).collect();
    points.extend(pts.iter().step_by(3));

    let queries = [
        ServiceQuery::default(),
        ServiceQuery { cutoff_m: 500.0, ..Default::default() },
        ServiceQuery { categories: vec!["kindergarten".into(), "health_station".into()], ..Default::default() },
    ];
    let (mut hits, mut ties, mut same_route, mut snapped) = (0, 0, 0, 0);
    let mut searcher = net.searcher();
    for p in &points {
        let Ok(snap) = net.snap_point(*p) else { continue };
        snapped += 1;
        for q in &queries {
            let fast = fields.nearest_from(net, &snap, fs, q, profile).unwrap().expect("the fields answer k = 1");
            let slow = searcher.nearest_services(&snap, fs, q, profile).unwrap();
            let mut cats: Vec<&str> = fast.iter().map(|h| h.category.as_str()).collect();
            let mut want: Vec<&str> = slow.iter().map(|h| h.category.as_str()).collect();
            cats.sort_unstable();
            want.sort_unstable();
            assert_eq!(cats, want, "categories found from {p:?} ({q:?})");
            for s in &slow {
                let f = fast.iter().find(|h| h.category == s.category).unwrap();
                assert_eq!(f.distance_m, s.distance_m, "{} from {p:?}", s.category);
                assert_eq!(f.time_s, s.time_s);
                hits += 1;
                if f.facility != s.facility {
                    // Only an exact tie may pick another facility (the distances are equal above).
                    ties += 1;
                    continue;
                }
                assert_eq!((&f.source_id, &f.name), (&s.source_id, &s.name));
                assert_eq!(f.route.0.first(), s.route.0.first());
                assert_eq!(f.route.0.last(), s.route.0.last());
                let (lf, ls) = (length(&f.route), length(&s.route));
                // The same walk drawn (an equal-length alternative path at most): lengths agree.
                assert!((lf - ls).abs() <= 1.0 + 0.01 * ls, "route lengths differ from {p:?}: {lf} vs {ls} m");
                if f.route == s.route {
                    same_route += 1;
                }
            }
        }
    }
    assert!(snapped > 1000 && hits > 10_000, "too little compared: {snapped} points, {hits} hits");
    eprintln!("{snapped} points, {hits} hits, {ties} exact ties, {same_route} identical routes");
    // Equal-length alternative paths are rare on a real network: almost every route is the same.
    assert!(same_route * 100 >= (hits - ties) * 99, "{same_route} identical routes of {}", hits - ties);
}

#[test]
fn the_server_answers_nearest_from_the_fields_and_by_search_alike() {
    // k = 2 goes through the (pooled) search; its first hit per category is the fast path's hit.
    let layers = common::beijing();
    let atlas = Atlas::new(layers);
    let engine = wangge_server::circles::Engine::build(&atlas, &Catalogue::default_catalogue());
    let (net, fs) = engine.ready.as_ref().unwrap();
    let fields = engine.fields.as_ref().unwrap();
    for b in atlas.layers().buildings.iter().step_by(25) {
        let Some(p) = b.shape.point() else { continue };
        let Ok(one) = fields.nearest_services(net, p, fs, &ServiceQuery::default(), &engine.profile) else { continue };
        let two =
            fields.nearest_services(net, p, fs, &ServiceQuery { k: 2, ..Default::default() }, &engine.profile).unwrap();
        for h in &one {
            let first = two.iter().find(|t| t.category == h.category).unwrap();
            assert_eq!(first.distance_m, h.distance_m, "{} at {p:?}", h.category);
        }
    }
}
