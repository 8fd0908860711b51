//! Bad input and edge cases: speeds, unknown categories, categories without facilities, points
//! off the network, islands, gated compounds, bad parameters.
#![allow(clippy::unwrap_used, missing_docs)]

use geo::{LineString, MultiPolygon, Point, polygon};
use wangge_circles::{
    CirclesError, Network, NetworkOptions, ReachOptions, ReachStatus, ServiceQuery, SnapFailure, WalkProfile,
};
use wangge_core::{Building, Catalogue, Compound, Facility, HouseholdSource, Households, NetEdge, NetNode, Shape};

const LON0: f64 = 116.3;
const LAT0: f64 = 39.9;

/// Local metres east/north of (LON0, LAT0) → lon/lat.
fn ll(x: f64, y: f64) -> (f64, f64) {
    let r = 6_371_008.8;
    (
        LON0 + x / (r * LAT0.to_radians().cos()) * 180.0 / std::f64::consts::PI,
        LAT0 + y / r * 180.0 / std::f64::consts::PI,
    )
}

fn pt(x: f64, y: f64) -> Point<f64> {
    Point::from(ll(x, y))
}

fn node(id: &str, x: f64, y: f64) -> NetNode {
    NetNode { source_id: id.into(), location: pt(x, y) }
}

fn edge(id: &str, a: &NetNode, b: &NetNode, private: bool) -> NetEdge {
    let geometry = LineString::from(vec![a.location.0, b.location.0]);
    NetEdge {
        source_id: id.into(),
        dataset: "t".into(),
        from: a.source_id.clone(),
        to: b.source_id.clone(),
        length_m: wangge_core::geometry::length_m(&geometry),
        highway: if private { "footway" } else { "residential" }.into(),
        name: None,
        private,
        geometry,
    }
}

fn building(id: &str, x: f64, y: f64, compound: Option<&str>) -> Building {
    Building {
        source_id: id.into(),
        dataset: "t".into(),
        shape: Shape::Point(pt(x, y)),
        kind: "apartments".into(),
        name: None,
        levels: None,
        households: Households::new(50, HouseholdSource::Declared),
        units: vec![],
        compound: compound.map(str::to_string),
        community: None,
        residential: true,
    }
}

fn facility(id: &str, category: &str, x: f64, y: f64) -> Facility {
    Facility { source_id: id.into(), dataset: "t".into(), category: category.into(), name: None, location: pt(x, y) }
}

/// A street (y = 0) with a gated compound north of it (x 20..180, y 20..120): a gate path up
/// x = 100 to an inner path at y = 70. An island edge far off at y = 400.
fn town() -> (Vec<NetNode>, Vec<NetEdge>, Vec<Compound>) {
    let n = vec![
        node("s0", 0.0, 0.0),
        node("s1", 100.0, 0.0),
        node("s2", 200.0, 0.0),
        node("g1", 100.0, 70.0),
        node("p0", 40.0, 70.0),
        node("p1", 160.0, 70.0),
        node("i0", 400.0, 400.0),
        node("i1", 450.0, 400.0),
    ];
    let e = vec![
        edge("street-a", &n[0], &n[1], false),
        edge("street-b", &n[1], &n[2], false),
        edge("gate", &n[1], &n[3], true),
        edge("inner-a", &n[4], &n[3], true),
        edge("inner-b", &n[3], &n[5], true),
        edge("island", &n[6], &n[7], false),
    ];
    let (a, b, c, d) = (ll(20.0, 20.0), ll(180.0, 20.0), ll(180.0, 120.0), ll(20.0, 120.0));
    let area = polygon![(x: a.0, y: a.1), (x: b.0, y: b.1), (x: c.0, y: c.1), (x: d.0, y: d.1)];
    let compound = Compound {
        source_id: "compound".into(),
        dataset: "t".into(),
        name: None,
        area: MultiPolygon(vec![area]),
        community: None,
    };
    (n, e, vec![compound])
}

#[test]
fn walking_speeds_must_be_positive_and_finite() {
    for s in [0.0, -1.2, f64::NAN, f64::INFINITY] {
        assert!(matches!(WalkProfile::new("x", s), Err(CirclesError::InvalidSpeed { .. })), "{s}");
    }
    assert_eq!(WalkProfile::by_name("elderly").unwrap().speed_mps(), 0.8);
    assert_eq!(WalkProfile::default().speed_mps(), 1.2);
    assert!(WalkProfile::by_name("runner").is_err());
    assert!((WalkProfile::elderly().distance_m(15.0) - 720.0).abs() < 1e-9);
}

#[test]
fn gated_compounds_decide_which_paths_a_point_may_use() {
    let (nodes, edges, compounds) = town();
    let net = Network::build(&nodes, &edges, &compounds, &NetworkOptions::default()).unwrap();
    let open =
        Network::build(&nodes, &edges, &compounds, &NetworkOptions { respect_compounds: false, ..Default::default() })
            .unwrap();
    assert_eq!(net.edge_compound(2), Some("compound"));
    assert_eq!(net.edge_compound(0), None);
    let inside = building("in", 60.0, 28.0, None);
    let outside = building("out", 60.0, 140.0, None);
    let placed = net.snap_buildings(&[inside.clone(), outside.clone()]);
    let loose = open.snap_buildings(&[inside, outside]);
    // Inside: its own compound's paths (the gate path, 40 m) rather than the street 28 m away.
    let s = placed.snaps()[0].unwrap();
    assert_eq!(edges[s.edge].source_id, "gate");
    assert!((s.distance_m - 40.0).abs() < 0.3, "{}", s.distance_m); // the helper's sphere vs the frame's ellipsoid
    assert_eq!(edges[loose.snaps()[0].unwrap().edge].source_id, "street-a");
    // Outside: not through the wall onto the inner path 70 m away, but the street 140 m away.
    let s = placed.snaps()[1].unwrap();
    assert!(edges[s.edge].source_id.starts_with("street"), "{}", edges[s.edge].source_id);
    assert!((s.distance_m - 140.0).abs() < 0.6);
    assert!(edges[loose.snaps()[1].unwrap().edge].source_id.starts_with("inner"));
    // The walk out goes through the gate: 40 + 28 up the gate path to the street, 40 along it, 20 across.
    let fs = net.place_facilities(&[facility("f", "pharmacy", 60.0, -20.0)], &Catalogue::default_catalogue()).unwrap();
    let r = net.nearest_facilities(&placed, &fs, "pharmacy", &ReachOptions::default()).unwrap();
    let d = r.distance_m(0).unwrap();
    assert!((d - 128.0).abs() < 0.5, "{d}");
    // A building told its compound by the source snaps inside even when geometry says otherwise.
    let told = net.snap_buildings(&[building("told", 60.0, 10.0, Some("compound"))]);
    assert_eq!(edges[told.snaps()[0].unwrap().edge].source_id, "gate");
}

#[test]
fn islands_far_points_and_missing_facilities_are_unreachable_never_zero() {
    let (nodes, edges, compounds) = town();
    let net = Network::build(&nodes, &edges, &compounds, &NetworkOptions::default()).unwrap();
    let g = net.graph();
    assert_eq!(g.components().len(), 2);
    assert_eq!(g.islands().len(), 1);
    assert_eq!(g.islands()[0].nodes, 2);
    assert_eq!(g.islands()[0].edges, 1);
    let buildings = [
        building("main", 50.0, -10.0, None),
        building("island", 425.0, 410.0, None),
        building("far", 5000.0, 5000.0, None),
    ];
    let origins = net.snap_buildings(&buildings);
    assert!(matches!(origins.snaps()[2], Err(SnapFailure::TooFar { nearest_m: Some(d) }) if d > 4000.0));
    assert_eq!(origins.failures().len(), 1);
    let catalogue = Catalogue::default_catalogue();
    let fs = net
        .place_facilities(
            &[facility("f", "pharmacy", 150.0, -5.0), facility("far", "pharmacy", 9000.0, 0.0)],
            &catalogue,
        )
        .unwrap();
    assert_eq!(fs.failures().len(), 1);
    let r = net.nearest_facilities(&origins, &fs, "pharmacy", &ReachOptions::default()).unwrap();
    assert!((r.distance_m(0).unwrap() - (10.0 + 100.0 + 5.0)).abs() < 0.5);
    assert_eq!(r.status(1), Some(ReachStatus::NoPath));
    assert_eq!(r.distance_m(1), None);
    assert!(matches!(r.status(2), Some(ReachStatus::NotOnNetwork(SnapFailure::TooFar { .. }))));
    assert!(!r.covered(1) && !r.covered(2));
    // A category without any facility: explicit, for everyone.
    let none = net.nearest_facilities(&origins, &fs, "kindergarten", &ReachOptions::default()).unwrap();
    assert_eq!(none.facilities_placed, 0);
    assert_eq!(none.status(0), Some(ReachStatus::NoFacility));
    assert_eq!(none.distance_m(0), None);
    // A lone point off the network is an error naming it.
    let e = net.snap_point(pt(5000.0, 5000.0)).unwrap_err();
    assert!(matches!(e, CirclesError::NotOnNetwork { .. }), "{e}");
    let e =
        net.nearest_services(pt(5000.0, 5000.0), &fs, &ServiceQuery::default(), &WalkProfile::default()).unwrap_err();
    assert!(e.to_string().contains("not on the walking network"), "{e}");
    // The snap limit is configurable.
    let tight =
        Network::build(&nodes, &edges, &compounds, &NetworkOptions { max_snap_m: 5.0, ..Default::default() }).unwrap();
    assert!(tight.snap_buildings(&buildings[..1]).snaps()[0].is_err());
}

#[test]
fn unknown_categories_and_bad_parameters_are_errors_naming_them() {
    let (nodes, edges, compounds) = town();
    let net = Network::build(&nodes, &edges, &compounds, &NetworkOptions::default()).unwrap();
    let catalogue = Catalogue::default_catalogue();
    let e = net.place_facilities(&[facility("c", "cinema", 0.0, 0.0)], &catalogue).unwrap_err();
    assert!(e.to_string().contains("cinema") && e.to_string().contains("kindergarten"), "{e}");
    let fs = net.place_facilities(&[], &catalogue).unwrap();
    let origins = net.snap_buildings(&[building("b", 10.0, 10.0, None)]);
    let e = net.nearest_facilities(&origins, &fs, "cinema", &ReachOptions::default()).unwrap_err();
    assert!(matches!(e, CirclesError::UnknownCategory { .. }), "{e}");
    for o in [
        ReachOptions { k: 0, cutoff_m: None },
        ReachOptions { k: 6, cutoff_m: None },
        ReachOptions { k: 1, cutoff_m: Some(-1.0) },
    ] {
        assert!(matches!(
            net.nearest_facilities(&origins, &fs, "pharmacy", &o),
            Err(CirclesError::InvalidParameter { .. })
        ));
    }
    let q = ServiceQuery { categories: vec!["cinema".into()], ..Default::default() };
    assert!(net.nearest_services(pt(10.0, 0.0), &fs, &q, &WalkProfile::default()).is_err());
    assert!(matches!(
        Network::build(&nodes, &edges, &[], &NetworkOptions { max_snap_m: f64::NAN, ..Default::default() }),
        Err(CirclesError::InvalidParameter { .. })
    ));
    assert!(matches!(Network::build(&[], &[], &[], &NetworkOptions::default()), Err(CirclesError::EmptyNetwork)));
}

#[test]
fn edges_naming_unknown_nodes_and_empty_geometries_are_handled() {
    let (nodes, mut edges, _) = town();
    edges.push(NetEdge { geometry: LineString::new(vec![]), from: "nowhere".into(), ..edges[0].clone() });
    let net = Network::build(&nodes[..2], &edges, &[], &NetworkOptions::default()).unwrap();
    let st = net.graph().stats();
    assert_eq!(st.edges_skipped, 1);
    assert!(st.nodes_added >= 6, "{st:?}");
    assert_eq!(net.graph().components().iter().map(|c| c.edges).sum::<usize>(), 6);
}
