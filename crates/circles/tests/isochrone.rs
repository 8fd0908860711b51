//! Isochrone containment: sample points along every edge; those reachable within the time must
//! lie inside the polygon, those farther than offset + cell from anything reachable must lie
//! outside, and every polygon vertex must be within offset + cell of a reachable network point.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{Reference, sample};
use geo::{Distance, Haversine, Intersects, Point};
use rstar::RTree;
use wangge_circles::synth::{SynthOptions, generate};
use wangge_circles::{IsochroneOptions, Network, NetworkOptions, Snap, WalkProfile};
use wangge_core::{NetEdge, NetNode};

const STEP_M: f64 = 3.0;

/// Samples along every edge: (edge, offset from `from`, lon/lat).
fn samples(edges: &[NetEdge]) -> Vec<(usize, f64, Point<f64>)> {
    let mut out = Vec::new();
    for (e, edge) in edges.iter().enumerate() {
        let mut acc = 0.0;
        for w in edge.geometry.0.windows(2) {
            let (p, q) = (Point::from(w[0]), Point::from(w[1]));
            let len = Haversine.distance(p, q);
            let n = (len / STEP_M).ceil().max(1.0) as usize;
            for k in 0..n {
                let t = k as f64 / n as f64;
                out.push((e, acc + t * len, Point::new(p.x() + (q.x() - p.x()) * t, p.y() + (q.y() - p.y()) * t)));
            }
            acc += len;
        }
        if let Some(&last) = edge.geometry.0.last() {
            out.push((e, edge.length_m, Point::from(last)));
        }
    }
    out
}

/// Checks the isochrones from `snap`; returns the number of holes seen.
fn check(nodes: &[NetNode], edges: &[NetEdge], net: &Network, snap: &Snap, minutes: &[f64]) -> usize {
    let profile = WalkProfile::default();
    let opts = IsochroneOptions::default();
    let isos = net.isochrones(snap, minutes, &profile, &opts).unwrap();
    let reference = Reference::new(nodes, edges);
    let dist = reference.dijkstra(&reference.seeds_of(snap));
    let frame = net.graph().frame();
    let pts = samples(edges);
    let walk: Vec<f64> = pts
        .iter()
        .map(|&(e, x, _)| {
            let (a, b, len) = reference.ends[e];
            let mut d = (dist[a] + x).min(dist[b] + len - x);
            if e == snap.edge {
                d = d.min((x - snap.offset_m).abs() + snap.distance_m);
            }
            d
        })
        .collect();
    let local: Vec<[f64; 2]> =
        pts.iter().map(|(_, _, p)| frame.forward(p.x(), p.y()).unwrap()).map(|(x, y)| [x, y]).collect();
    let mut holes = 0;
    for iso in &isos {
        let budget = iso.distance_m;
        let far = opts.offset_m + opts.cell_m + STEP_M;
        let reachable: RTree<[f64; 2]> =
            RTree::bulk_load((0..pts.len()).filter(|&i| walk[i] <= budget + 0.01).map(|i| local[i]).collect());
        let (mut inside, mut outside) = (0, 0);
        for i in 0..pts.len() {
            if walk[i] <= budget - 0.01 {
                assert!(
                    iso.area.intersects(&pts[i].2),
                    "{} min: reachable point {:?} ({} m) outside",
                    iso.minutes,
                    pts[i],
                    walk[i]
                );
                inside += 1;
            } else if reachable
                .nearest_neighbor(&local[i])
                .is_none_or(|q| ((q[0] - local[i][0]).powi(2) + (q[1] - local[i][1]).powi(2)).sqrt() > far)
            {
                assert!(!iso.area.intersects(&pts[i].2), "{} min: far point {:?} inside", iso.minutes, pts[i]);
                outside += 1;
            }
        }
        assert!(inside > 0 && outside > 0, "{inside} inside, {outside} outside");
        for poly in &iso.area.0 {
            holes += poly.interiors().len();
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for c in &ring.0 {
                    let (x, y) = frame.forward(c.x, c.y).unwrap();
                    let q = reachable.nearest_neighbor(&[x, y]).unwrap();
                    let d = ((q[0] - x).powi(2) + (q[1] - y).powi(2)).sqrt();
                    assert!(d <= far, "{} min: polygon vertex {d:.1} m from the reachable network", iso.minutes);
                }
            }
        }
        // Nested: a shorter time's area lies inside a longer one's (checked on the reachable points above).
        let feature = iso.to_feature();
        assert_eq!(feature.properties.as_ref().unwrap()["minutes"], serde_json::json!(iso.minutes));
    }
    holes
}

#[test]
fn helsinki_isochrones_contain_the_reachable_network_and_nothing_far() {
    let layers = sample("helsinki/Helsinki.osm.pbf");
    let net = Network::from_layers(&layers, &NetworkOptions::default()).unwrap();
    let fs = net.place_facilities(&layers.facilities, &wangge_core::Catalogue::default_catalogue()).unwrap();
    let mut holes = 0;
    for f in fs.facilities().iter().filter(|f| f.snap.is_ok()).step_by(40) {
        holes += check(&layers.nodes, &layers.edges, &net, f.snap.as_ref().unwrap(), &[5.0, 10.0, 15.0]);
    }
    let p = net.snap_point(Point::new(24.9410, 60.1700)).unwrap();
    holes += check(&layers.nodes, &layers.edges, &net, &p, &[3.0, 12.0]);
    assert!(holes > 0, "the city's blocks should leave holes in some isochrone");
}

#[test]
fn synthetic_isochrones_hold_the_same_guarantees() {
    let city = generate(
        &SynthOptions {
            streets_x: 14,
            streets_y: 12,
            spacing_m: 180.0,
            removed_share: 0.15,
            seed: 5,
            ..Default::default()
        },
        &wangge_core::Catalogue::default_catalogue(),
    );
    let net = Network::build(&city.nodes, &city.edges, &[], &NetworkOptions::default()).unwrap();
    let holes = (0..4)
        .map(|i| {
            let s = net.snap_point(city.buildings[i * 37].shape.point().unwrap()).unwrap();
            check(&city.nodes, &city.edges, &net, &s, &[4.0, 9.0])
        })
        .sum::<usize>();
    assert!(holes > 0, "180 m blocks leave holes");
}

#[test]
fn bad_isochrone_options_are_rejected_and_a_long_snap_leg_gives_nothing() {
    let city = generate(
        &SynthOptions { streets_x: 4, streets_y: 4, ..Default::default() },
        &wangge_core::Catalogue::default_catalogue(),
    );
    let net = Network::build(&city.nodes, &city.edges, &[], &NetworkOptions::default()).unwrap();
    let s = net.snap_point(city.buildings[0].shape.point().unwrap()).unwrap();
    let p = WalkProfile::default();
    for (m, o) in [
        (vec![5.0], IsochroneOptions { offset_m: 40.0, cell_m: 30.0 }),
        (vec![5.0], IsochroneOptions { offset_m: 0.0, cell_m: 1.0 }),
        (vec![], IsochroneOptions::default()),
        (vec![-1.0], IsochroneOptions::default()),
        (vec![f64::NAN], IsochroneOptions::default()),
    ] {
        assert!(net.isochrones(&s, &m, &p, &o).is_err(), "{m:?} {o:?}");
    }
    // 0.1 minute at 1.2 m/s is 7.2 m: shorter than the building's snap leg (≥ 5 m from the street?).
    let iso = net.isochrones(&s, &[0.001], &p, &IsochroneOptions::default()).unwrap();
    assert!(s.distance_m > 0.072 && iso[0].area.0.is_empty());
}
