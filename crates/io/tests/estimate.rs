//! Household estimates on a hand-made layer set whose result is worked out by hand.

use geo::{MultiPolygon, Point, Polygon, polygon};
use std::collections::BTreeMap;
use wangge_core::{Building, HouseholdSource, Households, Layers, PopulationCell, Shape};
use wangge_io::estimate::{EstimateParams, EstimateSummary, estimate_households};

fn rect(x0: f64, y0: f64, dx: f64, dy: f64) -> Polygon<f64> {
    polygon![(x: x0, y: y0), (x: x0 + dx, y: y0), (x: x0 + dx, y: y0 + dy), (x: x0, y: y0 + dy), (x: x0, y: y0)]
}

fn cell(id: &str, x0: f64, population: f64) -> PopulationCell {
    PopulationCell { source_id: id.into(), dataset: "grid".into(), population, area: rect(x0, 40.0, 0.01, 0.01) }
}

fn building(
    id: &str,
    shape: Shape,
    kind: &str,
    levels: Option<u16>,
    residential: bool,
    households: Households,
) -> Building {
    Building {
        source_id: id.into(),
        dataset: "city".into(),
        shape,
        kind: kind.into(),
        name: None,
        levels,
        households,
        units: vec![],
        compound: None,
        community: None,
        residential,
    }
}

/// A 0.0002° square footprint (about 17 m × 22 m at 40°N) at (x, y).
fn block(x: f64, y: f64) -> Shape {
    Shape::Footprint(MultiPolygon(vec![rect(x, y, 0.0002, 0.0002)]))
}

fn none() -> Households {
    Households::default()
}

/// Cell A (262 residents = 100 households of 2.62), cell B (100 residents = 38.2 → 38 households),
/// cell C (50 residents, no buildings), and buildings inside and outside them.
fn city() -> Layers {
    let b = vec![
        // Cell A: three residential blocks in one latitude band (equal footprints), 6, 2 and 2 storeys.
        building("a1", block(116.351, 40.004), "apartments", Some(6), true, none()),
        building(
            "a2",
            block(116.353, 40.004),
            "residential",
            Some(2),
            true,
            Households::new(999, HouseholdSource::EstimateFloorArea),
        ),
        building("a3", block(116.355, 40.004), "yes", Some(2), true, none()),
        building("a4", block(116.357, 40.004), "school", None, false, none()),
        building(
            "a5",
            block(116.359, 40.004),
            "apartments",
            Some(6),
            true,
            Households::new(10, HouseholdSource::Declared),
        ),
        // A 4 m × 6 m shed mapped as a home: below the 30 m² minimum.
        building(
            "a6",
            Shape::Footprint(MultiPolygon(vec![rect(116.352, 40.006, 0.00005, 0.00005)])),
            "yes",
            None,
            true,
            none(),
        ),
        // Cell B: 1, 2 and 4 storeys.
        building("b1", block(116.361, 40.004), "yes", Some(1), true, none()),
        building("b2", block(116.363, 40.004), "yes", Some(2), true, none()),
        building("b3", block(116.365, 40.004), "yes", Some(4), true, none()),
        // Outside every cell (north of them).
        building("o1", block(116.351, 40.02), "apartments", None, true, none()),
        building(
            "o2",
            Shape::Footprint(MultiPolygon(vec![rect(116.353, 40.02, 0.0001, 0.0001)])),
            "house",
            None,
            true,
            none(),
        ),
        building("o3", Shape::Point(Point::new(116.355, 40.02)), "apartments", None, true, none()),
        building(
            "o4",
            Shape::Footprint(MultiPolygon(vec![rect(116.357, 40.02, 0.00006, 0.00008)])),
            "yes",
            Some(1),
            true,
            none(),
        ),
        building("r1", block(116.359, 40.02), "apartments", None, true, Households::new(7, HouseholdSource::Register)),
    ];
    Layers {
        buildings: b,
        cells: vec![cell("grid:A", 116.35, 262.0), cell("grid:B", 116.36, 100.0), cell("grid:C", 116.37, 50.0)],
        ..Layers::default()
    }
}

fn result(l: &Layers) -> BTreeMap<String, (u32, HouseholdSource)> {
    l.buildings.iter().map(|b| (b.source_id.clone(), (b.households.count, b.households.source))).collect()
}

/// Metres per degree of latitude and longitude on the WGS84 ellipsoid at `lat` (standard series).
fn degree_m(lat: f64) -> (f64, f64) {
    let p = lat.to_radians();
    let m_lat = 111_132.92 - 559.82 * (2.0 * p).cos() + 1.175 * (4.0 * p).cos();
    let m_lon = 111_412.84 * p.cos() - 93.5 * (3.0 * p).cos();
    (m_lat, m_lon)
}

#[test]
fn the_hand_made_city_is_estimated_as_worked_out_by_hand() {
    let mut l = city();
    let params = EstimateParams::default();
    let s = estimate_households(&mut l, &params);
    let r = result(&l);
    use HouseholdSource::*;
    // Cell A: 100 households less the 10 declared in a5 = 90, shared 6:2:2 → 54, 18, 18.
    assert_eq!(r["a1"], (54, EstimatePopulationGrid));
    assert_eq!(r["a2"], (18, EstimatePopulationGrid), "an earlier estimate is replaced");
    assert_eq!(r["a3"], (18, EstimatePopulationGrid));
    assert_eq!(r["a4"], (0, None), "not residential");
    assert_eq!(r["a5"], (10, Declared), "declared counts are never touched");
    assert_eq!(r["a6"], (0, None), "footprint below the minimum");
    // Cell B: 100 / 2.62 = 38.17 → 38, shared 1:2:4 → 5.43, 10.86, 21.71 → floors 5, 10, 21 (36);
    // the two left go to the largest remainders (b2 .86, b3 .71) → 5, 11, 22.
    assert_eq!(
        (r["b1"], r["b2"], r["b3"]),
        ((5, EstimatePopulationGrid), (11, EstimatePopulationGrid), (22, EstimatePopulationGrid))
    );
    // Outside the grid: floor area / 95 m².
    let (m_lat, m_lon) = degree_m(40.02);
    // o1: 0.0002° square × 6 storeys (apartments default).
    let o1 = (0.0002 * m_lat) * (0.0002 * m_lon) * 6.0 / 95.0;
    assert!((o1 - 23.96).abs() < 0.05, "hand value {o1}");
    assert_eq!(r["o1"], (24, EstimateFloorArea));
    // o2: 0.0001° square (about 95 m²) × 2 storeys (house) / 95 ≈ 2.
    let o2 = (0.0001 * m_lat) * (0.0001 * m_lon) * 2.0 / 95.0;
    assert!((o2 - 2.0).abs() < 0.1, "hand value {o2}");
    assert_eq!(r["o2"], (2, EstimateFloorArea));
    assert_eq!(r["o3"], (0, None), "a point has no floor area");
    // o4: 5.1 m × 8.9 m = 45.5 m², 1 storey: 0.48 dwellings, but at least 1.
    let o4 = (0.00008 * m_lat) * (0.00006 * m_lon) / 95.0;
    assert!(o4 < 0.5 && 0.00008 * m_lat * 0.00006 * m_lon > 30.0, "hand value {o4}");
    assert_eq!(r["o4"], (1, EstimateFloorArea));
    assert_eq!(r["r1"], (7, Register), "register counts are never touched");

    assert_eq!(
        s,
        EstimateSummary {
            kept: 2,
            population_grid_buildings: 6,
            population_grid_households: 128,
            floor_area_buildings: 3,
            floor_area_households: 27,
            not_residential: 1,
            below_min_footprint: 1,
            no_footprint: 1,
            cells_used: 2,
            unassigned_population: 50.0,
            total_estimated_households: 155,
        }
    );
}

#[test]
fn each_cell_adds_up_to_its_rounded_households_whatever_the_order() {
    let params = EstimateParams { household_size: 3.0, ..EstimateParams::default() };
    let mut a = city();
    estimate_households(&mut a, &params);
    // Cell A: 262 / 3 = 87.3 → 87 households in all (10 declared + 77 estimated).
    let in_a = |l: &Layers| -> u32 {
        l.buildings.iter().filter(|b| b.source_id.starts_with('a')).map(|b| b.households.count).sum()
    };
    let in_b = |l: &Layers| -> u32 {
        l.buildings.iter().filter(|b| b.source_id.starts_with('b')).map(|b| b.households.count).sum()
    };
    assert_eq!(in_a(&a), 87);
    assert_eq!(in_b(&a), 33, "100 / 3 = 33.3 → 33");
    // Reversed input order, reversed cells: the same result per building.
    let mut b = city();
    b.buildings.reverse();
    b.cells.reverse();
    estimate_households(&mut b, &params);
    assert_eq!(result(&a), result(&b));
    // Running it again changes nothing (estimates are re-estimated to the same values).
    let before = result(&a);
    estimate_households(&mut a, &params);
    assert_eq!(result(&a), before);
}

#[test]
fn without_cells_every_residential_building_gets_a_floor_area_estimate() {
    let mut l = city();
    l.cells.clear();
    let s = estimate_households(&mut l, &EstimateParams::default());
    assert_eq!(s.population_grid_buildings, 0);
    assert!(
        l.buildings
            .iter()
            .filter(|b| b.households.is_estimated())
            .all(|b| b.households.source == HouseholdSource::EstimateFloorArea)
    );
    // a1: the same 0.0002° block as o1 at 40.004°N, 6 storeys → 24 (as o1 by hand).
    assert_eq!(l.buildings[0].households, Households::new(24, HouseholdSource::EstimateFloorArea));
    // b1: 1 storey → 379 m² / 95 ≈ 4.
    let b1 = l.buildings.iter().find(|b| b.source_id == "b1").expect("b1");
    assert_eq!(b1.households.count, 4);
    assert_eq!(s.floor_area_buildings, 9, "a1 a2 a3 b1 b2 b3 o1 o2 o4");
}

#[test]
fn a_clockwise_footprint_measures_the_same() {
    // The same block with its ring reversed must not be taken for the rest of the globe.
    let mut l = Layers::default();
    let mut ring = rect(116.351, 40.02, 0.0002, 0.0002);
    ring.exterior_mut(|e| e.0.reverse());
    l.buildings.push(building("cw", Shape::Footprint(MultiPolygon(vec![ring])), "apartments", None, true, none()));
    estimate_households(&mut l, &EstimateParams::default());
    assert_eq!(l.buildings[0].households, Households::new(24, HouseholdSource::EstimateFloorArea));
}

#[test]
fn defaults_are_the_documented_ones() {
    let p = EstimateParams::default();
    assert_eq!((p.household_size, p.dwelling_area_m2, p.min_footprint_m2), (2.62, 95.0, 30.0));
    assert_eq!(p.default_levels.get("apartments"), Some(&6));
    assert_eq!(p.default_levels.get("house"), Some(&2));
    assert_eq!(p.default_levels.get("dormitory"), Some(&5));
    assert_eq!(p.default_levels.get("yes"), Some(&4));
}

#[test]
fn registered_households_count_as_known_in_their_cell() {
    // One 100 m cell of 262 residents (100 households at 2.62) holding two identical residential
    // buildings; the register says one of them has 70 households, so the other gets the other 30.
    use geo::{MultiPolygon, polygon};
    use wangge_core::{Building, HouseholdSource, Households, Layers, PopulationCell, RegisterEntry, Shape};
    let d = 0.0009;
    let cell = polygon![(x: 116.0, y: 40.0), (x: 116.0 + 2.0 * d, y: 40.0), (x: 116.0 + 2.0 * d, y: 40.0 + d), (x: 116.0, y: 40.0 + d)];
    let fp = |x: f64| {
        Shape::Footprint(MultiPolygon(vec![
            polygon![(x: x, y: 40.0002), (x: x + 0.0003, y: 40.0002), (x: x + 0.0003, y: 40.0005), (x: x, y: 40.0005)],
        ]))
    };
    let b = |id: &str, x: f64| Building {
        source_id: id.into(),
        dataset: "osm".into(),
        shape: fp(x),
        kind: "apartments".into(),
        name: None,
        levels: Some(6),
        households: Households::default(),
        units: vec![],
        compound: None,
        community: None,
        residential: true,
    };
    let mut layers = Layers {
        buildings: vec![b("a", 116.0002), b("b", 116.0011)],
        cells: vec![PopulationCell { source_id: "c".into(), dataset: "grid".into(), population: 262.0, area: cell }],
        register: vec![RegisterEntry { building: "a".into(), unit: None, households: 70, dataset: "reg".into() }],
        ..Default::default()
    };
    wangge_io::estimate::estimate_households(&mut layers, &wangge_io::estimate::EstimateParams::default());
    assert_eq!(layers.buildings[1].households, Households::new(30, HouseholdSource::EstimatePopulationGrid));
    assert_ne!(layers.buildings[0].households.source, HouseholdSource::EstimatePopulationGrid);
}
