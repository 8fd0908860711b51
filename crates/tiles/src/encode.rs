//! Encoding one layer of one tile: look-up in the R-tree, thinning, simplification, clipping,
//! snapping, orientation, attributes by audience, and geozero's MVT writer.

use crate::TileError;
use crate::attrs::{AttrValue, Audience, is_private_key};
use crate::geom::{self, Clip, P, Q};
use crate::layer::{FeatureLayer, Geom};
use crate::tilemath::{BUFFER, EXTENT, HALF_WORLD, MercBox, PixelTransform, TileId};
use geozero::ToMvt;
use geozero::mvt::{TagsBuilder, TileValue, tile};
use std::collections::HashMap;

/// Simplification tolerance in tile pixels (one pixel of the tile's 4096 grid).
pub(crate) const SIMPLIFY_PX: f64 = 1.0;

/// The clipping square of every tile: the tile plus [`BUFFER`] pixels.
pub(crate) const CLIP: Clip = Clip { min: -(BUFFER as f64), max: (EXTENT + BUFFER) as f64 };

/// A stable MVT feature id from a string key (FNV-1a, cut to 53 bits so JavaScript keeps it exact).
pub(crate) fn feature_id(key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h & ((1u64 << 53) - 1)
}

/// Builds one MVT layer.
pub(crate) struct LayerWriter {
    name: &'static str,
    features: Vec<tile::Feature>,
    tags: TagsBuilder,
}

impl LayerWriter {
    pub fn new(name: &'static str) -> Self {
        Self { name, features: Vec::new(), tags: TagsBuilder::new() }
    }

    /// Adds a feature whose geometry is already in snapped tile pixels.
    pub fn add<'a>(
        &mut self,
        g: &geo::Geometry<f64>,
        id: u64,
        attrs: impl Iterator<Item = (&'a str, &'a AttrValue)>,
    ) -> Result<(), TileError> {
        let mut f = g.to_mvt_unscaled().map_err(|e| TileError::Encode(format!("layer {}: {e}", self.name)))?;
        f.id = Some(id);
        for (k, v) in attrs {
            let tv = match v {
                AttrValue::Str(s) => TileValue::Str(s.clone()),
                AttrValue::Int(i) => TileValue::Int(*i),
                AttrValue::Float(x) if x.is_finite() => TileValue::Double(*x),
                AttrValue::Float(_) => continue,
                AttrValue::Bool(b) => TileValue::Bool(*b),
            };
            let (ki, vi) = self.tags.insert_ref(k, tv);
            f.tags.push(ki);
            f.tags.push(vi);
        }
        self.features.push(f);
        Ok(())
    }

    /// The layer, or `None` when it has no features.
    pub fn finish(self) -> Option<tile::Layer> {
        if self.features.is_empty() {
            return None;
        }
        let (keys, values) = self.tags.into_tags();
        Some(tile::Layer {
            version: 2,
            name: self.name.to_string(),
            features: self.features,
            keys,
            values: values.into_iter().map(Into::into).collect(),
            extent: Some(EXTENT),
        })
    }
}

fn to_px(tr: &PixelTransform, c: &geo::Coord<f64>) -> P {
    let (x, y) = tr.apply(c.x, c.y);
    [x, y]
}

/// The square of side `s` (anchored to the tile grid) holding a Mercator point.
pub(crate) fn square_of(x: f64, y: f64, s: f64) -> (i64, i64) {
    (((x + HALF_WORLD) / s).floor() as i64, ((HALF_WORLD - y) / s).floor() as i64)
}

/// The box grown outwards to whole squares of side `s` anchored to the tile grid.
pub(crate) fn align_out(b: &MercBox, s: f64) -> MercBox {
    MercBox {
        min_x: ((b.min_x + HALF_WORLD) / s).floor() * s - HALF_WORLD,
        max_x: ((b.max_x + HALF_WORLD) / s).ceil() * s - HALF_WORLD,
        max_y: HALF_WORLD - ((HALF_WORLD - b.max_y) / s).floor() * s,
        min_y: HALF_WORLD - ((HALF_WORLD - b.min_y) / s).ceil() * s,
    }
}

fn snap(p: P) -> Q {
    [p[0].round() as i32, p[1].round() as i32]
}

/// Encodes the features of `layer` that fall in `tile`, for `audience`.
pub(crate) fn encode_features(
    layer: &FeatureLayer,
    tile: TileId,
    audience: Audience,
) -> Result<Option<tile::Layer>, TileError> {
    let spec = layer.spec();
    if tile.z < spec.min_zoom {
        return Ok(None);
    }
    let full = tile.z >= spec.full_zoom;
    let tr = tile.transform();
    let px2_per_m2 = tr.scale() * tr.scale();
    let feats = layer.features();

    // Points: at most one per thinning square (the heaviest, then the first) below full zoom. The
    // squares are anchored to the tile grid and the look-up covers every square that meets the
    // buffered tile, so neighbouring tiles agree on which points survive.
    let thin_m = spec.thin_m(tile.z);
    let chosen: Vec<usize> = if thin_m > 0.0 {
        let area = align_out(&tile.buffered_bounds(), thin_m);
        let mut best: HashMap<(i64, i64), usize> = HashMap::new();
        let mut rest = Vec::new();
        for i in layer.query(&area) {
            let f = &feats[i];
            if tile.z < f.min_zoom {
                continue;
            }
            let Geom::Point(c) = &f.geom else {
                rest.push(i);
                continue;
            };
            best.entry(square_of(c.x, c.y, thin_m))
                .and_modify(|j| {
                    if feats[i].weight > feats[*j].weight {
                        *j = i;
                    }
                })
                .or_insert(i);
        }
        rest.extend(best.into_values());
        rest.sort_unstable();
        rest
    } else {
        layer.query(&tile.buffered_bounds())
    };

    let mut w = LayerWriter::new(layer.name().as_str());
    for i in chosen {
        let f = &feats[i];
        if tile.z < f.min_zoom {
            continue;
        }
        let g = match &f.geom {
            Geom::Point(c) => {
                let p = to_px(&tr, c);
                if !CLIP.contains(p) {
                    continue;
                }
                let q = snap(p);
                geo::Geometry::Point(geo::Point::new(f64::from(q[0]), f64::from(q[1])))
            }
            Geom::Lines(m) => {
                let lines: Vec<Vec<P>> = m
                    .0
                    .iter()
                    .map(|l| geom::simplify_open(&l.0.iter().map(|c| to_px(&tr, c)).collect::<Vec<_>>(), SIMPLIFY_PX))
                    .collect();
                let snapped: Vec<Vec<Q>> =
                    geom::clip_lines(lines, CLIP).iter().map(|l| geom::snap_line(l)).filter(|l| l.len() >= 2).collect();
                if snapped.is_empty() {
                    // At full zoom a line shorter than a pixel stays as a one-pixel dash.
                    let a = to_px(&tr, &f.anchor);
                    if !full || !CLIP.contains(a) {
                        continue;
                    }
                    let q = snap(a);
                    geom::lines_to_geo(vec![vec![q, [q[0] + 1, q[1]]]])
                } else {
                    geom::lines_to_geo(snapped)
                }
            }
            Geom::Areas(m) => {
                if !full && f.bbox.area() * px2_per_m2 < spec.min_area_px2 {
                    continue;
                }
                if !full {
                    use geo::Area;
                    if m.unsigned_area() * px2_per_m2 < spec.min_area_px2 {
                        continue;
                    }
                }
                let polys: Vec<geom::Rings> = m
                    .0
                    .iter()
                    .map(|p| {
                        std::iter::once(p.exterior())
                            .chain(p.interiors())
                            .map(|r| {
                                geom::simplify_ring(&r.0.iter().map(|c| to_px(&tr, c)).collect::<Vec<_>>(), SIMPLIFY_PX)
                            })
                            .collect()
                    })
                    .collect();
                let mut snapped = geom::snap_polygons(&geom::clip_polygons(polys, CLIP));
                if snapped.is_empty() {
                    // At full zoom nothing disappears: an outline that collapsed on the pixel grid
                    // becomes one pixel at the feature's anchor (when the anchor is in the tile).
                    let a = to_px(&tr, &f.anchor);
                    if !full || !CLIP.contains(a) || !m.0.iter().any(|p| !p.exterior().0.is_empty()) {
                        continue;
                    }
                    let q = snap(a);
                    snapped = geom::pixel_square([q[0].min(CLIP.max as i32 - 1), q[1].min(CLIP.max as i32 - 1)]);
                }
                geom::polygons_to_geo(snapped)
            }
        };
        let id = AttrValue::Str(f.key.clone());
        let attrs = std::iter::once(("id", &id)).chain(
            f.attrs
                .iter()
                .filter(|a| audience == Audience::Full || !(a.private || is_private_key(&a.key)))
                .map(|a| (a.key.as_ref(), &a.value)),
        );
        w.add(&g, feature_id(&f.key), attrs)?;
    }
    Ok(w.finish())
}
