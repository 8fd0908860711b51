//! Nearest services for a resident, and coverage/completeness, on the Helsinki sample.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::sample;
use std::collections::HashMap;
use wangge_circles::coverage::{Grouping, completeness, coverage};
use wangge_circles::{Network, NetworkOptions, ReachOptions, ServiceQuery, WalkProfile};
use wangge_core::Catalogue;

#[test]
fn nearest_services_agree_with_the_city_wide_pass_and_their_routes_walk_that_far() {
    let layers = sample("helsinki/Helsinki.osm.pbf");
    let net = Network::from_layers(&layers, &NetworkOptions::default()).unwrap();
    let catalogue = Catalogue::default_catalogue();
    let origins = net.snap_buildings(&layers.buildings);
    let fs = net.place_facilities(&layers.facilities, &catalogue).unwrap();
    let profile = WalkProfile::elderly();
    let access = net.accessibility(&origins, &fs, &ReachOptions::default(), &profile).unwrap();
    let mut searcher = net.searcher();
    let query = ServiceQuery { cutoff_m: 1500.0, ..Default::default() };
    let mut hits_seen = 0;
    for i in (0..origins.len()).step_by(7) {
        let Ok(snap) = origins.snaps()[i] else { continue };
        let hits = searcher.nearest_services(&snap, &fs, &query, &profile).unwrap();
        for cat in &access.categories {
            let hit = hits.iter().find(|h| h.category == cat.category);
            match (cat.distance_m(i), hit) {
                (Some(d), Some(h)) => {
                    assert!((d - h.distance_m).abs() < 1e-3, "{} {i}: {d} vs {}", cat.category, h.distance_m);
                    assert!((h.time_s - d / 0.8).abs() < 1e-2);
                    let walked = wangge_core::geometry::length_m(&h.route);
                    assert!(
                        (walked - h.distance_m).abs() < 0.5 + 2e-3 * h.distance_m,
                        "route {walked} vs {}",
                        h.distance_m
                    );
                    assert_eq!(h.route.0.first(), Some(&snap.location.0));
                    assert_eq!(h.route.0.last(), Some(&fs.facilities()[h.facility].location.0));
                    hits_seen += 1;
                }
                (Some(d), None) => assert!(d > 1500.0 - 1e-6, "{} {i}: missed a facility {d} m away", cat.category),
                (None, Some(h)) => panic!("{} {i}: hit {} m but the pass found none", cat.category, h.distance_m),
                (None, None) => {}
            }
        }
        assert!(hits.windows(2).all(|w| w[0].distance_m <= w[1].distance_m));
    }
    assert!(hits_seen > 300, "{hits_seen}");
    // Two nearest of one category.
    let q2 = ServiceQuery { categories: vec!["bus_stop".into()], k: 2, cutoff_m: 3000.0 };
    let k2 = net.nearest_facilities(&origins, &fs, "bus_stop", &ReachOptions { k: 2, cutoff_m: None }).unwrap();
    let snap = origins.snaps()[0].unwrap();
    let hits = searcher.nearest_services(&snap, &fs, &q2, &profile).unwrap();
    assert_eq!(hits.len(), 2);
    for (h, r) in hits.iter().zip(k2.k_nearest(0)) {
        assert!((h.distance_m - r.distance_m).abs() < 1e-3);
    }
}

#[test]
fn coverage_and_completeness_add_up() {
    let layers = sample("helsinki/Helsinki.osm.pbf");
    let net = Network::from_layers(&layers, &NetworkOptions::default()).unwrap();
    let catalogue = Catalogue::default_catalogue();
    let origins = net.snap_buildings(&layers.buildings);
    let fs = net.place_facilities(&layers.facilities, &catalogue).unwrap();
    let access = net.accessibility(&origins, &fs, &ReachOptions::default(), &WalkProfile::default()).unwrap();
    let hh: Vec<u32> = layers.buildings.iter().map(|b| b.households.count).collect();
    let total: u64 = hh.iter().map(|&h| u64::from(h)).sum();
    assert!(total > 1000, "households are estimated from floor area: {total}");
    let n = hh.len();
    let halves = Grouping::by("half", (0..n).map(|i| (i % 2 == 0).then(|| "even".to_string())).collect());
    let rows = coverage(&access, &hh, &[Grouping::city("helsinki", n), halves]).unwrap();
    let ncat = catalogue.categories.len();
    assert_eq!(rows.len(), ncat * 3);
    for (c, cat) in access.categories.iter().enumerate() {
        let city = &rows[c];
        assert_eq!(city.category, cat.category);
        assert_eq!(city.households_covered + city.households_not_covered, total);
        assert!(city.households_unreachable <= city.households_not_covered);
        // The two halves add up to the city.
        let (even, rest) = (&rows[ncat + c], &rows[2 * ncat + c]);
        assert_eq!(even.group.as_deref(), Some("even"));
        assert_eq!(rest.group, None);
        assert_eq!(even.households_covered + rest.households_covered, city.households_covered);
        let covered: u64 = (0..n).filter(|&i| cat.covered(i)).map(|i| u64::from(hh[i])).sum();
        assert_eq!(covered, city.households_covered);
        if cat.facilities_placed == 0 {
            assert_eq!(city.households_covered, 0);
            assert_eq!(city.households_unreachable, total);
        }
    }
    let score = completeness(&access, &HashMap::new()).unwrap();
    for (i, s) in score.iter().enumerate() {
        match s {
            Some(s) => {
                let k = access.categories.iter().filter(|c| c.covered(i)).count();
                assert!((s - k as f64 / ncat as f64).abs() < 1e-12);
            }
            None => assert!(origins.snaps()[i].is_err()),
        }
    }
    // Only bus stops count: the score is 1 exactly where a bus stop is within 500 m.
    let only: HashMap<String, f64> =
        catalogue.categories.iter().map(|c| (c.id.clone(), f64::from(u8::from(c.id == "bus_stop")))).collect();
    let bus = completeness(&access, &only).unwrap();
    let cat = access.category("bus_stop").unwrap();
    for (i, s) in bus.iter().enumerate() {
        if let Some(s) = s {
            assert_eq!(*s == 1.0, cat.covered(i));
        }
    }
    assert!(completeness(&access, &HashMap::from([("cinema".to_string(), 1.0)])).is_err());
    assert!(coverage(&access, &hh[1..], &[]).is_err());
}
