//! Reference correctness on the real samples (Beijing Liudaokou and central Helsinki).
//!
//! How snapping enters the comparison: the engine places every building and facility (nearest
//! allowed segment, compounds respected); the reference takes those same placements — edge index,
//! offset along the edge from its `from` node, and snap distance — and computes the walk on its
//! own: a plain f64 Dijkstra (BinaryHeap) over the raw `NetEdge` list, seeded at both ends of every
//! facility's edge with `snap + offset` and `snap + length − offset`, then read at both ends of the
//! building's edge (plus the building's snap and offset), or directly along a shared edge. The two
//! must agree within 1 m (in practice within a millimetre), and agree on what is unreachable.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{Reference, sample};
use wangge_circles::{Network, NetworkOptions, ReachOptions, ReachStatus, Snap, WalkProfile};
use wangge_core::Catalogue;

fn check_city(rel: &str) {
    let layers = sample(rel);
    let net = Network::from_layers(&layers, &NetworkOptions::default()).unwrap();
    let catalogue = Catalogue::default_catalogue();
    let origins = net.snap_buildings(&layers.buildings);
    let fs = net.place_facilities(&layers.facilities, &catalogue).unwrap();
    let access = net.accessibility(&origins, &fs, &ReachOptions::default(), &WalkProfile::default()).unwrap();
    let reference = Reference::new(&layers.nodes, &layers.edges);
    let n = layers.buildings.len().min(10_000);
    assert!(n >= 250, "{rel}: only {n} buildings");
    let mut compared = 0;
    let mut worst: f64 = 0.0;
    let mut unreachable = 0;
    let present: std::collections::BTreeSet<&str> = layers.facilities.iter().map(|f| f.category.as_str()).collect();
    for (c, info) in fs.categories().iter().enumerate() {
        let result = &access.categories[c];
        let sources: Vec<Snap> =
            fs.of_category(c).iter().filter_map(|&f| fs.facilities()[f as usize].snap.ok()).collect();
        if !present.contains(info.id.as_str()) {
            assert!(sources.is_empty());
            for i in 0..n {
                assert!(matches!(result.status(i), Some(ReachStatus::NoFacility | ReachStatus::NotOnNetwork(_))));
                assert_eq!(result.distance_m(i), None, "no facility must never give a distance");
            }
            continue;
        }
        let seeds: Vec<(usize, f64)> = sources.iter().flat_map(|s| reference.seeds_of(s)).collect();
        let dist = reference.dijkstra(&seeds);
        for i in 0..n {
            let Ok(snap) = &origins.snaps()[i] else {
                assert!(matches!(result.status(i), Some(ReachStatus::NotOnNetwork(_))));
                continue;
            };
            let want = reference.to_snap(&dist, snap, &sources);
            match result.distance_m(i) {
                Some(got) => {
                    assert!(want.is_finite(), "{rel} {} {}: engine {got}, reference unreachable", info.id, i);
                    worst = worst.max((got - want).abs());
                    assert!((got - want).abs() < 1.0, "{rel} {} building {i}: engine {got} reference {want}", info.id);
                    // The reported facility is at the reported distance.
                    let f = result.nearest(i).unwrap().facility;
                    let fsnap = fs.facilities()[f].snap.unwrap();
                    let one = reference.dijkstra(&reference.seeds_of(&fsnap));
                    let via = reference.to_snap(&one, snap, &[fsnap]);
                    assert!((via - got).abs() < 1e-3, "{rel} {}: facility {f} is {via} away, not {got}", info.id);
                    compared += 1;
                }
                None => {
                    assert!(want.is_infinite(), "{rel} {} building {i}: engine unreachable, reference {want}", info.id);
                    assert_eq!(result.status(i), Some(ReachStatus::NoPath));
                    unreachable += 1;
                }
            }
        }
    }
    eprintln!("{rel}: {compared} distances compared (worst difference {worst:.2e} m), {unreachable} unreachable agree");
    assert!(worst < 1e-3, "{rel}: worst difference {worst} m exceeds a millimetre");
    assert!(compared > 1000);
}

#[test]
fn beijing_distances_match_a_plain_dijkstra() {
    check_city("beijing/haidian-liudaokou.osm.pbf");
}

#[test]
fn helsinki_distances_match_a_plain_dijkstra() {
    check_city("helsinki/Helsinki.osm.pbf");
}

#[test]
fn helsinki_k_nearest_match_per_facility_searches() {
    let layers = sample("helsinki/Helsinki.osm.pbf");
    let net = Network::from_layers(&layers, &NetworkOptions::default()).unwrap();
    let catalogue = Catalogue::default_catalogue();
    let origins = net.snap_buildings(&layers.buildings);
    let fs = net.place_facilities(&layers.facilities, &catalogue).unwrap();
    let reference = Reference::new(&layers.nodes, &layers.edges);
    let c = fs.category_index("bus_stop").unwrap();
    let k3 = net.nearest_facilities(&origins, &fs, "bus_stop", &ReachOptions { k: 3, cutoff_m: None }).unwrap();
    let cut = net.nearest_facilities(&origins, &fs, "bus_stop", &ReachOptions { k: 1, cutoff_m: Some(150.0) }).unwrap();
    // Distance from every facility to every building, one search per facility.
    let mut per_building: Vec<Vec<(f64, usize)>> = vec![Vec::new(); origins.len()];
    for &f in fs.of_category(c) {
        let Ok(fsnap) = fs.facilities()[f as usize].snap else { continue };
        let dist = reference.dijkstra(&reference.seeds_of(&fsnap));
        for (i, s) in origins.snaps().iter().enumerate() {
            if let Ok(s) = s {
                let d = reference.to_snap(&dist, s, &[fsnap]);
                if d.is_finite() {
                    per_building[i].push((d, f as usize));
                }
            }
        }
    }
    let mut checked = 0;
    for (i, mut list) in per_building.into_iter().enumerate() {
        list.sort_by(|a, b| a.0.total_cmp(&b.0));
        let got = k3.k_nearest(i);
        assert_eq!(got.len(), list.len().min(3), "building {i}");
        for (g, w) in got.iter().zip(&list) {
            assert!((g.distance_m - w.0).abs() < 1e-3, "building {i}: {} vs {}", g.distance_m, w.0);
        }
        // Distinct facilities, nearest first.
        assert!(got.windows(2).all(|p| p[0].distance_m <= p[1].distance_m && p[0].facility != p[1].facility));
        // Cut-off: reached exactly when the nearest is within 150 m.
        match list.first() {
            Some(&(d, _)) if d <= 150.0 - 1e-6 => assert!((cut.distance_m(i).unwrap() - d).abs() < 1e-3),
            Some(&(d, _)) if d > 150.0 + 1e-6 => {
                assert_eq!(cut.distance_m(i), None);
                assert_eq!(cut.status(i), Some(ReachStatus::BeyondCutoff));
            }
            _ => {}
        }
        checked += usize::from(!got.is_empty());
    }
    assert!(checked > 300, "{checked}");
}

#[test]
fn helsinki_snaps_are_the_nearest_segment_without_compounds() {
    use geo::{Distance, Euclidean};
    let layers = sample("helsinki/Helsinki.osm.pbf");
    let opts = NetworkOptions { respect_compounds: false, ..Default::default() };
    let net = Network::from_layers(&layers, &opts).unwrap();
    let frame = net.graph().frame();
    let segs: Vec<geo::Line<f64>> = layers
        .edges
        .iter()
        .flat_map(|e| e.geometry.lines().collect::<Vec<_>>())
        .map(|l| frame.project(&l).unwrap())
        .collect();
    let origins = net.snap_buildings(&layers.buildings);
    for (b, s) in layers.buildings.iter().zip(origins.snaps()).take(200) {
        let p = frame.project(&b.shape.point().unwrap()).unwrap();
        let best = segs.iter().map(|l| Euclidean.distance(&p, l)).fold(f64::INFINITY, f64::min);
        match s {
            Ok(s) => assert!((s.distance_m - best).abs() < 1e-6, "{} vs {best}", s.distance_m),
            Err(_) => assert!(best > 300.0),
        }
    }
}
