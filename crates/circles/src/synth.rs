//! A synthetic walking network for benchmarks and property tests (deterministic for a seed).
//!
//! A perturbed street lattice: junctions on a jittered square grid; each street between two
//! neighbouring junctions is cut into edges by degree-two nodes that wander off the straight line
//! (as mapped streets bend); a share of streets is removed (dead ends, and sometimes islands).
//! Buildings are points inside the blocks with 20–200 households; facilities of every catalogue
//! category are spread at random, about one per (spacing × category distance)² of area.
//! A million nodes take a few seconds.
//!
//! ```
//! use wangge_circles::synth::{SynthOptions, generate};
//! let city = generate(&SynthOptions { streets_x: 5, streets_y: 4, ..Default::default() },
//!     &wangge_core::Catalogue::default_catalogue());
//! assert!(city.nodes.len() > 20 && !city.buildings.is_empty());
//! ```

use geo::{LineString, Point};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wangge_core::{Building, Catalogue, Facility, HouseholdSource, Households, NetEdge, NetNode, Shape};

/// Parameters of the synthetic city.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    /// Random seed.
    pub seed: u64,
    /// Junction columns.
    pub streets_x: usize,
    /// Junction rows.
    pub streets_y: usize,
    /// Distance between neighbouring junctions, metres. Default 100.
    pub spacing_m: f64,
    /// Degree-two nodes inside each street. Default 3.
    pub nodes_per_street: usize,
    /// Largest displacement of a node, metres. Default 10.
    pub jitter_m: f64,
    /// Share of streets removed. Default 0.05.
    pub removed_share: f64,
    /// Buildings per block. Default 2.
    pub buildings_per_block: usize,
    /// One facility of a category per (this × category distance)² square metres. Default 2.
    pub facility_spacing: f64,
    /// South-west corner (lon, lat). Default Beijing (116.3, 39.9).
    pub origin: (f64, f64),
}

impl Default for SynthOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            streets_x: 20,
            streets_y: 20,
            spacing_m: 100.0,
            nodes_per_street: 3,
            jitter_m: 10.0,
            removed_share: 0.05,
            buildings_per_block: 2,
            facility_spacing: 2.0,
            origin: (116.3, 39.9),
        }
    }
}

impl SynthOptions {
    /// A square lattice of about `nodes` network nodes with the other options at their defaults.
    pub fn with_nodes(nodes: usize, seed: u64) -> Self {
        let d = Self::default();
        // nodes ≈ g² + 2g(g − 1)·c·(1 − removed)
        let per = 1.0 + 2.0 * d.nodes_per_street as f64 * (1.0 - d.removed_share);
        let g = ((nodes as f64 / per).sqrt().ceil() as usize).max(2);
        Self { seed, streets_x: g, streets_y: g, ..d }
    }
}

/// The generated city.
#[derive(Debug, Clone, Default)]
pub struct SynthCity {
    /// Network nodes (ids `s:n…`).
    pub nodes: Vec<NetNode>,
    /// Network edges (ids `s:e…`), two-point lines.
    pub edges: Vec<NetEdge>,
    /// Buildings (points, residential, with households).
    pub buildings: Vec<Building>,
    /// Facilities of every catalogue category.
    pub facilities: Vec<Facility>,
}

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Generates the city (see the [module docs](self)).
pub fn generate(options: &SynthOptions, catalogue: &Catalogue) -> SynthCity {
    let o = options;
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let (lon0, lat0) = o.origin;
    let kx = 180.0 / (std::f64::consts::PI * EARTH_RADIUS_M * lat0.to_radians().cos());
    let ky = 180.0 / (std::f64::consts::PI * EARTH_RADIUS_M);
    let to_lonlat = |x: f64, y: f64| geo::Coord { x: lon0 + x * kx, y: lat0 + y * ky };
    let (gx, gy) = (o.streets_x.max(1), o.streets_y.max(1));
    let s = o.spacing_m;
    let jit = o.jitter_m.max(0.0);
    let jitter = |rng: &mut ChaCha8Rng| if jit > 0.0 { rng.random_range(-jit..jit) } else { 0.0 };

    let mut city = SynthCity::default();
    let mut xy: Vec<(f64, f64)> = Vec::new();
    let add_node = |city: &mut SynthCity, xy: &mut Vec<(f64, f64)>, x: f64, y: f64| -> usize {
        let i = city.nodes.len();
        city.nodes.push(NetNode { source_id: format!("s:n{i}"), location: Point::from(to_lonlat(x, y)) });
        xy.push((x, y));
        i
    };
    for j in 0..gy {
        for i in 0..gx {
            let (x, y) = (i as f64 * s + jitter(&mut rng), j as f64 * s + jitter(&mut rng));
            add_node(&mut city, &mut xy, x, y);
        }
    }
    let add_edge = |city: &mut SynthCity, a: usize, b: usize| {
        let geometry = LineString::from(vec![city.nodes[a].location.0, city.nodes[b].location.0]);
        let i = city.edges.len();
        city.edges.push(NetEdge {
            source_id: format!("s:e{i}"),
            dataset: "synth".into(),
            from: city.nodes[a].source_id.clone(),
            to: city.nodes[b].source_id.clone(),
            length_m: wangge_core::geometry::length_m(&geometry),
            highway: "residential".into(),
            name: None,
            private: false,
            geometry,
        });
    };
    let c = o.nodes_per_street;
    for j in 0..gy {
        for i in 0..gx {
            let a = j * gx + i;
            for (ni, nj) in [(i + 1, j), (i, j + 1)] {
                if ni >= gx || nj >= gy || rng.random_bool(o.removed_share.clamp(0.0, 1.0)) {
                    continue;
                }
                let b = nj * gx + ni;
                let (pa, pb) = (xy[a], xy[b]);
                let (dx, dy) = (pb.0 - pa.0, pb.1 - pa.1);
                let len = (dx * dx + dy * dy).sqrt().max(1e-9);
                let (nx, ny) = (-dy / len, dx / len);
                let mut prev = a;
                for k in 1..=c {
                    let t = k as f64 / (c + 1) as f64;
                    let off = jitter(&mut rng) * 0.5;
                    let v = add_node(&mut city, &mut xy, pa.0 + dx * t + nx * off, pa.1 + dy * t + ny * off);
                    add_edge(&mut city, prev, v);
                    prev = v;
                }
                add_edge(&mut city, prev, b);
            }
        }
    }
    // Buildings inside the blocks, 15 m or more from the block's streets.
    let inner = (s - 30.0).max(1.0);
    for j in 0..gy.saturating_sub(1) {
        for i in 0..gx.saturating_sub(1) {
            for _ in 0..o.buildings_per_block {
                let x = i as f64 * s + 15.0 + rng.random_range(0.0..inner);
                let y = j as f64 * s + 15.0 + rng.random_range(0.0..inner);
                let n = city.buildings.len();
                city.buildings.push(Building {
                    source_id: format!("s:b{n}"),
                    dataset: "synth".into(),
                    shape: Shape::Point(Point::from(to_lonlat(x, y))),
                    kind: "apartments".into(),
                    name: None,
                    levels: Some(6),
                    households: Households::new(rng.random_range(20..=200), HouseholdSource::Declared),
                    units: Vec::new(),
                    compound: None,
                    community: Some(format!("c{}-{}", i / 10, j / 10)),
                    residential: true,
                });
            }
        }
    }
    // Facilities.
    let (w, h) = ((gx.max(2) - 1) as f64 * s, (gy.max(2) - 1) as f64 * s);
    for cat in &catalogue.categories {
        let cell = (o.facility_spacing * cat.distance_m).max(1.0);
        let count = ((w * h) / (cell * cell)).round().max(1.0) as usize;
        for _ in 0..count {
            let (x, y) = (rng.random_range(0.0..w.max(1.0)), rng.random_range(0.0..h.max(1.0)));
            let n = city.facilities.len();
            city.facilities.push(Facility {
                source_id: format!("s:f{n}"),
                dataset: "synth".into(),
                category: cat.id.clone(),
                name: None,
                location: Point::from(to_lonlat(x, y)),
            });
        }
    }
    city
}
