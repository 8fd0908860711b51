//! Property tests on random synthetic networks (perturbed lattices with removed streets, so with
//! dead ends and islands).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::Reference;
use proptest::prelude::*;
use wangge_circles::synth::{SynthOptions, generate};
use wangge_circles::{Network, NetworkOptions, ReachOptions};
use wangge_core::{Catalogue, Facility};

fn options(seed: u64, gx: usize, gy: usize, per: usize, removed: f64) -> SynthOptions {
    SynthOptions {
        seed,
        streets_x: gx,
        streets_y: gy,
        nodes_per_street: per,
        removed_share: removed,
        facility_spacing: 1.0,
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn node_to_node_distances_equal_a_plain_dijkstra(
        seed in 0u64..10_000, gx in 2usize..9, gy in 2usize..9, per in 0usize..4, removed in 0.0f64..0.4, pick in 0usize..1000,
    ) {
        let city = generate(&options(seed, gx, gy, per, removed), &Catalogue::default_catalogue());
        let net = Network::build(&city.nodes, &city.edges, &[], &NetworkOptions::default()).unwrap();
        let g = net.graph();
        let reference = Reference::new(&city.nodes, &city.edges);
        let src = pick % city.nodes.len();
        let got = g.distances_from_node(src);
        let want = reference.dijkstra(&[(reference.index[&city.nodes[src].source_id], 0.0)]);
        for (v, node) in city.nodes.iter().enumerate() {
            let w = want[reference.index[&node.source_id]];
            match got[v] {
                Some(d) => prop_assert!((d - w).abs() < 1e-3, "node {v}: {d} vs {w}"),
                None => prop_assert!(w.is_infinite() || g.component_of_node(v).is_none(), "node {v}: none vs {w}"),
            }
        }
        // Components: nodes in the same component as the source are exactly the reached ones.
        let cs = g.component_of_node(src);
        for (v, d) in got.iter().enumerate() {
            if g.component_of_node(v).is_some() {
                prop_assert_eq!(d.is_some(), g.component_of_node(v) == cs);
            }
        }
    }

    #[test]
    fn triangle_inequality_holds_along_every_edge(
        seed in 0u64..10_000, gx in 2usize..9, gy in 2usize..9, per in 0usize..4, removed in 0.0f64..0.4,
    ) {
        let catalogue = Catalogue::default_catalogue();
        let city = generate(&options(seed, gx, gy, per, removed), &catalogue);
        let net = Network::build(&city.nodes, &city.edges, &[], &NetworkOptions::default()).unwrap();
        let fs = net.place_facilities(&city.facilities, &catalogue).unwrap();
        let points: Vec<_> = city.nodes.iter().map(|n| n.location).collect();
        let at_nodes = net.snap_points(&points);
        let idx: std::collections::HashMap<&str, usize> =
            city.nodes.iter().enumerate().map(|(i, n)| (n.source_id.as_str(), i)).collect();
        for cat in ["kindergarten", "middle_school"] {
            let r = net.nearest_facilities(&at_nodes, &fs, cat, &ReachOptions::default()).unwrap();
            for e in &city.edges {
                let (u, v) = (idx[e.from.as_str()], idx[e.to.as_str()]);
                match (r.distance_m(u), r.distance_m(v)) {
                    (Some(a), Some(b)) => prop_assert!((a - b).abs() <= e.length_m + 1e-6, "{a} {b} {}", e.length_m),
                    (None, None) => {}
                    (a, b) => prop_assert!(false, "one end reached, the other not: {a:?} {b:?}"),
                }
            }
        }
    }

    #[test]
    fn adding_a_facility_never_increases_a_distance(
        seed in 0u64..10_000, gx in 2usize..9, gy in 2usize..9, per in 0usize..4, removed in 0.0f64..0.4,
        fx in 0.0f64..1.0, fy in 0.0f64..1.0, k in 1usize..4,
    ) {
        let catalogue = Catalogue::default_catalogue();
        let city = generate(&options(seed, gx, gy, per, removed), &catalogue);
        let net = Network::build(&city.nodes, &city.edges, &[], &NetworkOptions::default()).unwrap();
        let origins = net.snap_buildings(&city.buildings);
        let before_fs = net.place_facilities(&city.facilities, &catalogue).unwrap();
        let mut more = city.facilities.clone();
        let (a, b) = (city.nodes[0].location, city.nodes[city.nodes.len() - 1].location);
        more.push(Facility {
            source_id: "extra".into(),
            dataset: "t".into(),
            category: "pharmacy".into(),
            name: None,
            location: geo::Point::new(a.x() + (b.x() - a.x()) * fx, a.y() + (b.y() - a.y()) * fy),
        });
        let after_fs = net.place_facilities(&more, &catalogue).unwrap();
        let opts = ReachOptions { k, cutoff_m: None };
        let before = net.nearest_facilities(&origins, &before_fs, "pharmacy", &opts).unwrap();
        let after = net.nearest_facilities(&origins, &after_fs, "pharmacy", &opts).unwrap();
        for i in 0..origins.len() {
            let (x, y) = (before.k_nearest(i), after.k_nearest(i));
            prop_assert!(y.len() >= x.len());
            for (p, q) in x.iter().zip(y) {
                prop_assert!(q.distance_m <= p.distance_m + 1e-9, "building {i}: {} > {}", q.distance_m, p.distance_m);
            }
        }
    }
}
