//! The generated files read back through wangge-io's GeoJSON reader with the same counts.

use std::collections::BTreeMap;
use wangge_core::RegionLevel;
use wangge_io::{ReadOptions, read};
use wangge_synth::{SynthOptions, generate};

#[test]
fn outputs_read_back_with_the_same_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = SynthOptions { buildings: 1500, seed: 21, ..Default::default() };
    let s = generate(&opts, dir.path(), &|_| {}).expect("generation succeeds");
    let ro = ReadOptions::default();

    let b = read(&dir.path().join("buildings.geojson"), &ro).expect("buildings read back");
    assert_eq!(b.dataset.format, "geojson");
    assert_eq!(b.layers.buildings.len() as u64, s.buildings);
    assert_eq!(b.layers.buildings.iter().map(|x| u64::from(x.households.count)).sum::<u64>(), s.households);
    assert_eq!(b.layers.buildings.iter().map(|x| x.units.len() as u64).sum::<u64>(), s.units);
    assert!(b.layers.buildings.iter().all(|x| x.residential && x.levels.is_some()));
    assert!(b.notes.is_empty(), "{:?}", b.notes);

    let r = read(&dir.path().join("boundaries.geojson"), &ro).expect("boundaries read back");
    assert_eq!(r.layers.compounds.len() as u64, s.compounds);
    let mut levels = BTreeMap::new();
    for region in &r.layers.regions {
        *levels.entry(region.level).or_insert(0u64) += 1;
    }
    assert_eq!(levels.get(&RegionLevel::District).copied(), Some(s.districts));
    assert_eq!(levels.get(&RegionLevel::Street).copied(), Some(s.streets));
    assert_eq!(levels.get(&RegionLevel::Community).copied(), Some(s.communities));
    assert!(r.notes.is_empty(), "{:?}", r.notes);

    let f = read(&dir.path().join("facilities.geojson"), &ro).expect("facilities read back");
    let mut cats: BTreeMap<String, u64> = BTreeMap::new();
    for fac in &f.layers.facilities {
        *cats.entry(fac.category.clone()).or_default() += 1;
    }
    assert_eq!(cats, s.facilities_by_category);

    let n = read(&dir.path().join("network.geojson"), &ro).expect("network read back");
    // Ways are split at shared vertices into edges: at least one edge per way.
    assert!(
        n.layers.edges.len() as u64 >= s.network_ways,
        "{} edges for {} ways",
        n.layers.edges.len(),
        s.network_ways
    );
    assert!(n.layers.edges.iter().any(|e| e.private));
    assert!(n.layers.edges.iter().all(|e| e.length_m > 0.0));
    assert!(!n.layers.nodes.is_empty());
}
