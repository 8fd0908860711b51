//! Shared helpers of the integration tests: the samples read with wangge-io, and an independent
//! MVT decoder (commands and zigzag by hand, after prost's protobuf decoding).
#![allow(dead_code, clippy::unwrap_used)]

use geozero::mvt::{Message, Tile, tile};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use wangge_core::Atlas;
use wangge_io::{ReadOptions, read};
use wangge_tiles::{BuildingExtra, BuildingExtras};

/// A sample read as `wangge import` would: OSM, containment, household estimates.
pub fn atlas_of(rel: &str) -> Atlas {
    let mut l = read(&wangge_testkit::geodata(rel), &ReadOptions::default()).unwrap().layers;
    l.assign_containers();
    wangge_io::estimate::estimate_households(&mut l, &Default::default());
    Atlas::new(l)
}

pub fn helsinki() -> &'static Atlas {
    static A: OnceLock<Atlas> = OnceLock::new();
    A.get_or_init(|| atlas_of("helsinki/Helsinki.osm.pbf"))
}

pub fn beijing() -> &'static Atlas {
    static A: OnceLock<Atlas> = OnceLock::new();
    A.get_or_init(|| atlas_of("beijing/haidian-liudaokou.osm.pbf"))
}

/// Deterministic extras: a grid by position in the source-id order, a completeness score, and
/// kindergarten coverage for every third building.
pub fn extras(a: &Atlas) -> BuildingExtras {
    a.layers()
        .buildings
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut covered = BTreeMap::new();
            covered.insert("kindergarten".to_string(), i % 3 == 0);
            (
                b.source_id.clone(),
                BuildingExtra {
                    grid: Some(format!("G{}", i % 7)),
                    completeness: Some((i % 11) as f64 / 10.0),
                    covered,
                    attrs: vec![],
                },
            )
        })
        .collect()
}

/// A decoded geometry in tile pixels.
#[derive(Debug, Clone, PartialEq)]
pub enum G {
    Points(Vec<[i64; 2]>),
    Lines(Vec<Vec<[i64; 2]>>),
    /// Rings as written (open: the first point not repeated).
    Rings(Vec<Vec<[i64; 2]>>),
}

#[derive(Debug, Clone)]
pub struct F {
    pub id: Option<u64>,
    pub geom: G,
    pub props: HashMap<String, tile::Value>,
}

impl F {
    pub fn str(&self, k: &str) -> Option<&str> {
        self.props.get(k).and_then(|v| v.string_value.as_deref())
    }
    pub fn num(&self, k: &str) -> Option<f64> {
        let v = self.props.get(k)?;
        v.int_value
            .map(|x| x as f64)
            .or(v.double_value)
            .or(v.float_value.map(f64::from))
            .or(v.uint_value.map(|x| x as f64))
            .or(v.sint_value.map(|x| x as f64))
    }
    pub fn coords(&self) -> Vec<[i64; 2]> {
        match &self.geom {
            G::Points(p) => p.clone(),
            G::Lines(l) | G::Rings(l) => l.iter().flatten().copied().collect(),
        }
    }
}

pub struct L {
    pub name: String,
    pub version: u32,
    pub extent: Option<u32>,
    pub keys: Vec<String>,
    pub features: Vec<F>,
}

fn zigzag(v: u32) -> i64 {
    i64::from((v >> 1) as i32 ^ -((v & 1) as i32))
}

/// Decodes a feature's command stream by the spec (MoveTo 1, LineTo 2, ClosePath 7).
pub fn decode_geom(f: &tile::Feature) -> G {
    let g = &f.geometry;
    let (mut i, mut x, mut y) = (0usize, 0i64, 0i64);
    let mut parts: Vec<Vec<[i64; 2]>> = Vec::new();
    let mut closed = false;
    while i < g.len() {
        let (cmd, count) = (g[i] & 7, (g[i] >> 3) as usize);
        i += 1;
        match cmd {
            1 | 2 => {
                for _ in 0..count {
                    x += zigzag(g[i]);
                    y += zigzag(g[i + 1]);
                    i += 2;
                    if cmd == 1 {
                        parts.push(vec![[x, y]]);
                    } else {
                        parts.last_mut().expect("LineTo after MoveTo").push([x, y]);
                    }
                }
            }
            7 => {
                assert_eq!(count, 1, "ClosePath count");
                closed = true;
            }
            c => panic!("unknown command {c}"),
        }
    }
    match f.r#type {
        Some(1) => G::Points(parts.into_iter().flatten().collect()),
        Some(2) => G::Lines(parts),
        Some(3) => {
            assert!(closed, "polygon rings end in ClosePath");
            G::Rings(parts)
        }
        t => panic!("geometry type {t:?}"),
    }
}

pub fn decode(bytes: &[u8]) -> Vec<L> {
    let t = Tile::decode(bytes).unwrap();
    t.layers
        .into_iter()
        .map(|l| {
            let features = l
                .features
                .iter()
                .map(|f| {
                    let props = f
                        .tags
                        .chunks(2)
                        .map(|kv| (l.keys[kv[0] as usize].clone(), l.values[kv[1] as usize].clone()))
                        .collect();
                    F { id: f.id, geom: decode_geom(f), props }
                })
                .collect();
            L { name: l.name, version: l.version, extent: l.extent, keys: l.keys, features }
        })
        .collect()
}

/// Twice the shoelace area of an open ring in tile pixels (positive: clockwise on screen, y down).
pub fn area2(r: &[[i64; 2]]) -> i64 {
    (0..r.len()).map(|i| r[i][0] * r[(i + 1) % r.len()][1] - r[(i + 1) % r.len()][0] * r[i][1]).sum()
}
