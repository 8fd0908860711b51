//! Facility siting: greedy + swap against exact enumeration on random small instances, and an
//! end-to-end run on the Helsinki sample checked by recomputing distances with the new sites.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::sample;
use rand::{Rng, SeedableRng};
use wangge_circles::siting::{EXACT_LIMIT, solve, solve_exact, solve_with};
use wangge_circles::{Candidates, CoverProblem, Network, NetworkOptions, ReachOptions};
use wangge_core::{Catalogue, Facility};

/// Random geometric instance: demand and candidates in a square, a candidate covers demand within r.
fn instance(seed: u64) -> (CoverProblem, usize) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let nd = rng.random_range(5..40);
    let nc = rng.random_range(3..16);
    let r = rng.random_range(0.1..0.5);
    let d: Vec<(f64, f64)> = (0..nd).map(|_| (rng.random(), rng.random())).collect();
    let weights = (0..nd).map(|_| rng.random_range(1..200)).collect();
    let covers = (0..nc)
        .map(|_| {
            let (x, y): (f64, f64) = (rng.random(), rng.random());
            (0..nd as u32).filter(|&b| (d[b as usize].0 - x).hypot(d[b as usize].1 - y) <= r).collect()
        })
        .collect();
    (CoverProblem { weights, covers }, rng.random_range(1..5))
}

const SEEDS: u64 = 3000;

#[test]
fn greedy_and_swap_stay_within_five_percent_of_exact() {
    let mut worst: f64 = 1.0;
    let mut optimal = 0;
    for seed in 0..SEEDS {
        let (problem, p) = instance(seed);
        let exact = solve_exact(&problem, p, EXACT_LIMIT).unwrap();
        let heur = solve(&problem, p).unwrap();
        assert!(heur.sites.len() <= p);
        assert_eq!(problem.value(&heur.sites), heur.total);
        assert_eq!(problem.value(&exact.sites), exact.total);
        assert!(heur.total <= exact.total);
        assert!(heur.marginal.windows(2).all(|w| w[0] >= w[1]), "marginals come in greedy order");
        let ratio = if exact.total == 0 { 1.0 } else { heur.total as f64 / exact.total as f64 };
        assert!(ratio >= 0.95, "seed {seed}: {} vs exact {}", heur.total, exact.total);
        worst = worst.min(ratio);
        optimal += usize::from(heur.total == exact.total);
    }
    eprintln!("greedy + swap: worst {worst:.4} of exact, optimal in {optimal}/{SEEDS}");
    // Without restarts (greedy start and swaps only), for the record.
    let plain = (0..SEEDS).filter(|&s| {
        let (problem, p) = instance(s);
        solve_with(&problem, p, 0).unwrap().total == solve_exact(&problem, p, EXACT_LIMIT).unwrap().total
    });
    eprintln!("greedy + swap without restarts: optimal in {}/{SEEDS}", plain.count());
}

#[test]
fn helsinki_siting_gains_the_households_it_reports() {
    let layers = sample("helsinki/Helsinki.osm.pbf");
    let net = Network::from_layers(&layers, &NetworkOptions::default()).unwrap();
    let catalogue = Catalogue::default_catalogue();
    let origins = net.snap_buildings(&layers.buildings);
    let fs = net.place_facilities(&layers.facilities, &catalogue).unwrap();
    let hh: Vec<u32> = layers.buildings.iter().map(|b| b.households.count).collect();
    for (cat, p) in [("pharmacy", 3), ("kindergarten", 2)] {
        let threshold = catalogue.get(cat).unwrap().distance_m;
        let current = net.nearest_facilities(&origins, &fs, cat, &ReachOptions::default()).unwrap();
        let inst = net.siting_instance(&origins, &hh, &current, threshold, &Candidates::AllNodes).unwrap();
        let sol = solve(&inst.problem, p).unwrap();
        eprintln!(
            "{cat}: {} households uncovered in {} buildings; {} candidate nodes; sites {:?} gain {:?} (total {}, {} swaps)",
            inst.problem.weights.iter().sum::<u64>(),
            inst.demand_origin.len(),
            inst.candidates.len(),
            sol.sites,
            sol.marginal,
            sol.total,
            sol.swaps
        );
        assert_eq!(sol.sites.len(), p);
        assert!(sol.total > 0);
        // Put facilities at the chosen nodes and measure again: the newly covered households match.
        let mut more = layers.facilities.clone();
        for (k, &s) in sol.sites.iter().enumerate() {
            more.push(Facility {
                source_id: format!("new{k}"),
                dataset: "t".into(),
                category: cat.into(),
                name: None,
                location: inst.candidates[s].location,
            });
        }
        let fs2 = net.place_facilities(&more, &catalogue).unwrap();
        let after = net.nearest_facilities(&origins, &fs2, cat, &ReachOptions::default()).unwrap();
        let gained: u64 =
            (0..hh.len()).filter(|&i| after.covered(i) && !current.covered(i)).map(|i| u64::from(hh[i])).sum();
        assert_eq!(gained, sol.total, "{cat}");
    }
    // Given candidate points instead of nodes.
    let current = net.nearest_facilities(&origins, &fs, "pharmacy", &ReachOptions::default()).unwrap();
    let pts: Vec<_> = layers.buildings.iter().step_by(25).filter_map(|b| b.shape.point()).collect();
    let inst = net.siting_instance(&origins, &hh, &current, 500.0, &Candidates::Points(pts)).unwrap();
    let s = solve(&inst.problem, 2).unwrap();
    assert!(s.total > 0);
}
