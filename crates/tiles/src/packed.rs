//! [`Packed`]: what the encoder reads of a feature layer, laid out flat. Every feature's
//! coordinates sit one after the other in one vector, its attributes are indexes into the layer's
//! key and value dictionaries (each value made once, when the layer is built), and its MVT id is
//! computed once. Encoding a tile then walks a few contiguous arrays instead of chasing each
//! feature's strings and vectors around the heap, and never hashes an attribute string.

use crate::attrs::AttrValue;
use crate::layer::{Feature, Geom};
use geozero::mvt::tile;
use std::collections::HashMap;

/// A geometry kind, as the encoder needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Point,
    Lines,
    Areas,
}

/// One feature: where its parts and tags end (each starts where the previous feature's ended).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PackedFeature {
    pub parts_end: u32,
    pub tags_end: u32,
    pub kind: Kind,
    pub min_zoom: u8,
    /// The MVT feature id (a hash of the key).
    pub mvt_id: u64,
    /// Areas: the unsigned area in square Mercator metres (for dropping small ones when zoomed out).
    pub area_m2: f64,
}

/// One part: a point, a line or a ring, ending at `end` in the coordinates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part {
    pub end: u32,
    /// The exterior ring of a polygon (its holes follow it); lines and points: always true.
    pub outer: bool,
}

/// One attribute: key and value as dictionary indexes; `private` ones only for signed-in clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Tag {
    pub key: u32,
    pub value: u32,
    pub private: bool,
}

/// The flat view of a layer's features (in the layer's order).
#[derive(Debug, Default)]
pub(crate) struct Packed {
    pub coords: Vec<[f64; 2]>,
    pub parts: Vec<Part>,
    pub features: Vec<PackedFeature>,
    pub tags: Vec<Tag>,
    pub keys: Vec<String>,
    pub values: Vec<Value>,
}

/// A dictionary value (floats by their bits, so values can be compared and hashed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Value {
    Str(Box<str>),
    Int(i64),
    Double(u64),
    Bool(bool),
}

impl Value {
    /// The MVT value.
    pub fn to_tile(&self) -> tile::Value {
        let mut v = tile::Value::default();
        match self {
            Value::Str(s) => v.string_value = Some(s.to_string()),
            Value::Int(i) => v.int_value = Some(*i),
            Value::Double(d) => v.double_value = Some(f64::from_bits(*d)),
            Value::Bool(b) => v.bool_value = Some(*b),
        }
        v
    }
}

impl Packed {
    /// Packs features whose attributes are already marked private where they name households
    /// (as [`crate::FeatureLayer::new`] marks them).
    pub fn new(features: &[Feature]) -> Self {
        let mut p = Packed { features: Vec::with_capacity(features.len()), ..Default::default() };
        let mut keys: HashMap<String, u32> = HashMap::new();
        let mut values: HashMap<Value, u32> = HashMap::new();
        for f in features {
            let mut tag = |key: &str, value: &AttrValue, private: bool| {
                let k = match keys.get(key) {
                    Some(k) => *k,
                    None => {
                        let k = p.keys.len() as u32;
                        p.keys.push(key.to_string());
                        keys.insert(key.to_string(), k);
                        k
                    }
                };
                let vk = match value {
                    AttrValue::Str(s) => Value::Str(s.as_str().into()),
                    AttrValue::Int(i) => Value::Int(*i),
                    AttrValue::Float(x) if x.is_finite() => Value::Double(x.to_bits()),
                    AttrValue::Float(_) => return,
                    AttrValue::Bool(b) => Value::Bool(*b),
                };
                let next = p.values.len() as u32;
                let v = *values.entry(vk).or_insert_with_key(|vk| {
                    p.values.push(vk.clone());
                    next
                });
                p.tags.push(Tag { key: k, value: v, private });
            };
            tag("id", &AttrValue::Str(f.key.clone()), false);
            for a in &f.attrs {
                tag(&a.key, &a.value, a.private);
            }
            let mut area_m2 = 0.0;
            let kind = match &f.geom {
                Geom::Point(c) => {
                    p.coords.push([c.x, c.y]);
                    p.parts.push(Part { end: p.coords.len() as u32, outer: true });
                    Kind::Point
                }
                Geom::Lines(m) => {
                    for l in &m.0 {
                        p.coords.extend(l.0.iter().map(|c| [c.x, c.y]));
                        p.parts.push(Part { end: p.coords.len() as u32, outer: true });
                    }
                    Kind::Lines
                }
                Geom::Areas(m) => {
                    use geo::Area;
                    area_m2 = m.unsigned_area();
                    for poly in &m.0 {
                        for (i, r) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
                            p.coords.extend(r.0.iter().map(|c| [c.x, c.y]));
                            p.parts.push(Part { end: p.coords.len() as u32, outer: i == 0 });
                        }
                    }
                    Kind::Areas
                }
            };
            p.features.push(PackedFeature {
                parts_end: p.parts.len() as u32,
                tags_end: p.tags.len() as u32,
                kind,
                min_zoom: f.min_zoom,
                mvt_id: crate::encode::feature_id(&f.key),
                area_m2,
            });
        }
        p
    }

    /// The parts of feature `i`, as (first part index, end part index).
    pub fn part_range(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.features[i - 1].parts_end as usize };
        start..self.features[i].parts_end as usize
    }

    /// The coordinates of part `j`.
    pub fn part(&self, j: usize) -> &[[f64; 2]] {
        let start = if j == 0 { 0 } else { self.parts[j - 1].end as usize };
        &self.coords[start..self.parts[j].end as usize]
    }

    /// The tags of feature `i`.
    pub fn tags_of(&self, i: usize) -> &[Tag] {
        let start = if i == 0 { 0 } else { self.features[i - 1].tags_end as usize };
        &self.tags[start..self.features[i].tags_end as usize]
    }
}
