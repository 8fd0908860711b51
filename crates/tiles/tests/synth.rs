//! The layers the OpenStreetMap samples lack (communities, streets, walled compounds) on the
//! project's synthetic city, generated to files and read back with wangge-io like an import.
#![allow(clippy::unwrap_used)]

mod common;

use common::decode;
use std::collections::BTreeMap;
use wangge_core::{Atlas, Layers, RegionLevel};
use wangge_io::{ReadOptions, read};
use wangge_tiles::{Audience, LayerName, TileId, TileSource};

fn synthetic(n: u64) -> Atlas {
    let dir = tempfile::tempdir().unwrap();
    let so = wangge_synth::SynthOptions { buildings: n, seed: 7, ..Default::default() };
    wangge_synth::generate(&so, dir.path(), &|_| {}).unwrap();
    let mut l = Layers::default();
    for f in wangge_synth::FILE_NAMES {
        let imported = read(&dir.path().join(f), &ReadOptions::default()).unwrap();
        l.replace_dataset(&imported.dataset.name, imported.layers);
    }
    l.assign_containers();
    Atlas::new(l)
}

#[test]
fn communities_and_streets_carry_names_codes_and_private_household_totals() {
    let a = synthetic(3000);
    let s = TileSource::from_atlas(&a, &Default::default());
    let e = s.extent().unwrap();
    let mut expected: BTreeMap<String, f64> = BTreeMap::new();
    for b in &a.layers().buildings {
        if let Some(c) = &b.community {
            *expected.entry(c.clone()).or_default() += f64::from(b.households.count);
        }
    }
    assert!(expected.len() >= 3);
    for (layer, level, z) in
        [(LayerName::Communities, RegionLevel::Community, 11u8), (LayerName::Streets, RegionLevel::Street, 9)]
    {
        let want = a.layers().regions.iter().filter(|r| r.level == level).count();
        let (xs, ys) = TileId::range(&e, z);
        let mut seen: BTreeMap<String, f64> = BTreeMap::new();
        for x in xs {
            for y in ys.clone() {
                let t = TileId { z, x, y };
                for l in decode(&s.encode(layer, None, t, Audience::Full).unwrap()) {
                    for f in l.features {
                        assert!(f.str("name").is_some() && f.str("code").is_some());
                        seen.insert(f.str("id").unwrap().to_string(), f.num("households").unwrap());
                    }
                }
                for l in decode(&s.encode(layer, None, t, Audience::Public).unwrap()) {
                    assert!(!l.keys.iter().any(|k| k.contains("household")));
                }
            }
        }
        assert_eq!(seen.len(), want, "{layer}: every region is in some tile");
        if level == RegionLevel::Community {
            for (id, h) in &seen {
                assert_eq!(*h, expected.get(id).copied().unwrap_or(0.0), "{id}");
            }
        } else {
            let total: f64 = seen.values().sum();
            assert_eq!(total, expected.values().sum::<f64>(), "streets add up their communities");
        }
    }
    // Compounds: every compound in the z14 tiles, with its community (a public attribute).
    let (xs, ys) = TileId::range(&e, 14);
    let mut compounds = 0;
    for x in xs {
        for y in ys.clone() {
            for l in decode(&s.encode(LayerName::Compounds, None, TileId { z: 14, x, y }, Audience::Public).unwrap()) {
                compounds += l.features.iter().filter(|f| f.str("community").is_some()).count();
            }
        }
    }
    assert!(compounds >= a.layers().compounds.len(), "{compounds} of {}", a.layers().compounds.len());
}
