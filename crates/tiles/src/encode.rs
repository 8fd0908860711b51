//! Encoding one layer of one tile: look-up in the R-tree, thinning, simplification, clipping,
//! snapping, orientation, attributes by audience, and geozero's MVT writer.

use crate::TileError;
use crate::attrs::{AttrValue, Audience};
use crate::geom::{self, Clip, DpBuffers, P, Parts, Q};
use crate::layer::{FeatureLayer, Geom};
use crate::packed::{Kind, Packed, Tag};
use crate::tilemath::{BUFFER, EXTENT, HALF_WORLD, MercBox, PixelTransform, TileId};
use geozero::mvt::{Message, tile};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

/// Simplification tolerance in tile pixels (one pixel of the tile's 4096 grid).
pub(crate) const SIMPLIFY_PX: f64 = 1.0;

/// The coarsest simplification a tile over its budget gets, in tile pixels.
pub(crate) const MAX_SIMPLIFY_PX: f64 = 4.0;

/// How much detail a tile keeps: the simplification tolerance, and the smallest area kept below
/// full zoom as a multiple of the layer's own minimum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Detail {
    pub simplify_px: f64,
    pub min_area_scale: f64,
    /// Lines with the same attributes (but for their ids) become one feature: a zoomed-out
    /// street network is thousands of short ways, each paying for its own id and tags.
    pub merge_lines: bool,
    /// Areas smaller than this (square pixels) are dropped below full zoom, whatever the layer's
    /// own minimum.
    pub min_area_px2: f64,
}

impl Detail {
    /// Every tile starts here.
    pub const FULL: Detail =
        Detail { simplify_px: SIMPLIFY_PX, min_area_scale: 1.0, merge_lines: false, min_area_px2: 0.0 };

    /// The next coarser step for a tile over its byte budget: lines merged by attributes, twice
    /// the tolerance (at most [`MAX_SIMPLIFY_PX`]: beyond it outlines visibly warp), four times
    /// the smallest area (a polygon twice as wide).
    pub fn coarser(self) -> Self {
        Detail {
            simplify_px: (2.0 * self.simplify_px).min(MAX_SIMPLIFY_PX),
            min_area_scale: 4.0 * self.min_area_scale,
            merge_lines: true,
            min_area_px2: self.min_area_px2,
        }
    }
}

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

/// The geometry commands of one feature (MVT 2.1 §4.3: command integers and zigzag-encoded
/// deltas from a cursor that runs on across the feature's parts), written straight from snapped
/// pixels. The protobuf around them is geozero's.
#[derive(Debug, Default)]
pub(crate) struct Commands {
    buf: Vec<u32>,
    cursor: Q,
}

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

impl Commands {
    /// Starts a new feature.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.cursor = [0, 0];
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn as_slice(&self) -> &[u32] {
        &self.buf
    }

    fn command(&mut self, id: u32, count: usize) {
        // Counts are far below 2^29 (a part never has more points than a tile's pixels).
        self.buf.push((id & 0x7) | ((count as u32) << 3));
    }

    fn step(&mut self, q: Q) {
        for (v, c) in q.into_iter().zip(self.cursor) {
            let d = v.wrapping_sub(c);
            self.buf.push(((d << 1) ^ (d >> 31)) as u32);
        }
        self.cursor = q;
    }

    /// One point.
    pub fn point(&mut self, q: Q) {
        self.command(MOVE_TO, 1);
        self.step(q);
    }

    /// A line of at least two points, no point repeated in a row.
    pub fn line(&mut self, pts: &[Q]) {
        debug_assert!(pts.len() >= 2);
        self.command(MOVE_TO, 1);
        self.step(pts[0]);
        self.command(LINE_TO, pts.len() - 1);
        for &q in &pts[1..] {
            self.step(q);
        }
    }

    /// A ring of at least three points, open (the first point not repeated), already oriented.
    pub fn ring(&mut self, pts: &[Q]) {
        self.line(pts);
        self.command(CLOSE_PATH, 1);
    }

    /// Polygons as rings (exterior first, then its holes), oriented.
    pub fn polygons(&mut self, polys: &[Vec<Vec<Q>>]) {
        for p in polys {
            for r in p {
                self.ring(r);
            }
        }
    }
}

/// An attribute value as a key of the layer's value table (floats by their bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Val<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Double(u64),
    Bool(bool),
}

impl<'a> Val<'a> {
    /// The value of an attribute, borrowed; `None` for a non-finite number (not written).
    pub fn of(v: &'a AttrValue) -> Option<Self> {
        Some(match v {
            AttrValue::Str(s) => Val::Str(Cow::Borrowed(s)),
            AttrValue::Int(i) => Val::Int(*i),
            AttrValue::Float(x) if x.is_finite() => Val::Double(x.to_bits()),
            AttrValue::Float(_) => return None,
            AttrValue::Bool(b) => Val::Bool(*b),
        })
    }

    /// An attribute value made for this tile only.
    pub fn owned(v: AttrValue) -> Option<Val<'static>> {
        Some(match v {
            AttrValue::Str(s) => Val::Str(Cow::Owned(s)),
            other => Val::of(&other)?.into_static(),
        })
    }

    fn into_static(self) -> Val<'static> {
        match self {
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Int(i) => Val::Int(i),
            Val::Double(d) => Val::Double(d),
            Val::Bool(b) => Val::Bool(b),
        }
    }

    fn into_value(self) -> tile::Value {
        let mut v = tile::Value::default();
        match self {
            Val::Str(s) => v.string_value = Some(s.into_owned()),
            Val::Int(i) => v.int_value = Some(i),
            Val::Double(d) => v.double_value = Some(f64::from_bits(d)),
            Val::Bool(b) => v.bool_value = Some(b),
        }
        v
    }
}

/// Builds one MVT layer: features with their geometry commands, and the key and value tables
/// (each key and value written once, in the order first used).
pub(crate) struct LayerWriter<'a> {
    name: &'static str,
    out: FeatureBytes,
    tags: Vec<u32>,
    keys: Vec<&'a str>,
    values: HashMap<Val<'a>, u32, foldhash::fast::RandomState>,
}

impl<'a> LayerWriter<'a> {
    pub fn new(name: &'static str) -> Self {
        Self::with_capacity(name, 0)
    }

    /// A writer with room for `n` features (and their ids among the values).
    pub fn with_capacity(name: &'static str, n: usize) -> Self {
        let values = HashMap::with_capacity_and_hasher(n + 16, foldhash::fast::RandomState::default());
        Self { name, out: FeatureBytes::default(), tags: Vec::new(), keys: Vec::new(), values }
    }

    fn key(&mut self, k: &'a str) -> u32 {
        // Layers have a handful of keys: a scan beats hashing.
        match self.keys.iter().position(|x| *x == k) {
            Some(i) => i as u32,
            None => {
                self.keys.push(k);
                (self.keys.len() - 1) as u32
            }
        }
    }

    fn value(&mut self, v: Val<'a>) -> u32 {
        let next = self.values.len() as u32;
        *self.values.entry(v).or_insert(next)
    }

    /// Adds a feature: its type, its geometry commands (see [`Commands`]), id and attributes.
    pub fn add(
        &mut self,
        kind: tile::GeomType,
        geometry: &[u32],
        id: u64,
        attrs: impl Iterator<Item = (&'a str, Val<'a>)>,
    ) {
        let mut tags = std::mem::take(&mut self.tags);
        tags.clear();
        for (k, v) in attrs {
            tags.push(self.key(k));
            tags.push(self.value(v));
        }
        self.out.push(id, kind, &tags, geometry);
        self.tags = tags;
    }

    /// The tile holding this layer (MVT bytes), or `None` when it has no features.
    pub fn finish(self) -> Option<Vec<u8>> {
        let mut values: Vec<Option<tile::Value>> = vec![None; self.values.len()];
        for (v, i) in self.values {
            values[i as usize] = Some(v.into_value());
        }
        let keys = self.keys.into_iter().map(str::to_string).collect();
        self.out.finish(self.name, keys, values.into_iter().flatten().collect())
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

/// Buffers reused from one feature to the next while a tile is encoded: per feature, the work
/// allocates only its own command vector and tags.
#[derive(Debug, Default)]
struct Scratch {
    px: Vec<P>,
    dp: DpBuffers,
    simplified: Vec<P>,
    rings: Parts<P>,
    clipped: Vec<P>,
    tmp: Vec<P>,
    lines: Parts<P>,
    q: Vec<Q>,
    slow: Vec<geom::Rings>,
}

impl Scratch {
    fn project(&mut self, tr: &PixelTransform, cs: &[[f64; 2]]) {
        self.px.clear();
        self.px.extend(cs.iter().map(|c| {
            let (x, y) = tr.apply(c[0], c[1]);
            [x, y]
        }));
    }

    /// Lines (parts `parts` of the packed layer): simplified, clipped to the buffered tile,
    /// snapped; into the commands.
    fn lines(&mut self, pk: &Packed, parts: Range<usize>, tr: &PixelTransform, eps: f64, cmds: &mut Commands) {
        self.lines.clear();
        for j in parts {
            self.project(tr, pk.part(j));
            self.simplified.clear();
            geom::simplify_open_into(&self.px, eps, &mut self.dp, &mut self.simplified);
            if self.simplified.len() < 2 {
                continue;
            }
            let b = geom::bbox_of(&self.simplified);
            if CLIP.contains_box(&b) {
                self.lines.open().extend_from_slice(&self.simplified);
                self.lines.finish(2);
            } else if !CLIP.misses_box(&b) {
                geom::clip_line_into(&self.simplified, CLIP, &mut self.lines);
            }
        }
        for part in self.lines.iter() {
            geom::snap_line_into(part, &mut self.q);
            if self.q.len() >= 2 {
                cmds.line(&self.q);
            }
        }
    }

    /// Areas (parts `parts` of the packed layer: each exterior ring followed by its holes): rings
    /// simplified, clipped to the buffered tile (Sutherland–Hodgman when a ring meets the tile in
    /// one piece, a boolean intersection otherwise), snapped and oriented; into the commands.
    fn areas(&mut self, pk: &Packed, parts: Range<usize>, tr: &PixelTransform, eps: f64, cmds: &mut Commands) {
        let mut next = parts.start;
        while next < parts.end {
            let first = next;
            next += 1;
            while next < parts.end && !pk.parts[next].outer {
                next += 1;
            }
            self.rings.clear();
            for j in first..next {
                self.project(tr, pk.part(j));
                geom::simplify_ring_into(&self.px, eps, &mut self.dp, self.rings.open());
                self.rings.finish(0);
            }
            self.polygon(cmds);
        }
        if !self.slow.is_empty() {
            let cut = geom::clip_polygons(std::mem::take(&mut self.slow), CLIP);
            cmds.polygons(&geom::snap_polygons(&cut));
        }
    }

    /// One polygon of [`Scratch::areas`], its rings (exterior first) in `self.rings`.
    fn polygon(&mut self, cmds: &mut Commands) {
        let ext = self.rings.get(0);
        if ext.len() < 4 {
            return;
        }
        let b = geom::bbox_of(ext);
        if CLIP.misses_box(&b) {
            return;
        }
        let snapped = if CLIP.contains_box(&b) {
            geom::snap_ring_into(ext, &mut self.q)
        } else {
            let hole_cut = (1..self.rings.len()).any(|i| {
                let hb = geom::bbox_of(self.rings.get(i));
                !CLIP.contains_box(&hb) && !CLIP.misses_box(&hb)
            });
            if hole_cut || geom::entries(ext, CLIP) > 1 {
                self.slow.push(self.rings.iter().map(<[P]>::to_vec).collect());
                return;
            }
            geom::clip_ring_into(ext, CLIP, &mut self.clipped, &mut self.tmp);
            geom::snap_ring_into(&self.clipped, &mut self.q)
        };
        if !snapped {
            return;
        }
        if geom::area2(&self.q) < 0 {
            self.q.reverse();
        }
        cmds.ring(&self.q);
        for i in 1..self.rings.len() {
            let hole = self.rings.get(i);
            if hole.len() < 4 || CLIP.misses_box(&geom::bbox_of(hole)) {
                continue;
            }
            if geom::snap_ring_into(hole, &mut self.q) {
                if geom::area2(&self.q) > 0 {
                    self.q.reverse();
                }
                cmds.ring(&self.q);
            }
        }
    }
}

/// Builds one MVT layer from a packed feature layer: the layer's keys and values that the tile
/// uses are given tile-local indexes in the order first used.
struct PackedWriter<'a> {
    name: &'static str,
    pk: &'a Packed,
    out: FeatureBytes,
    tags: Vec<u32>,
    key_of: Vec<u32>,
    keys: Vec<u32>,
    value_of: HashMap<u32, u32, foldhash::fast::RandomState>,
    values: Vec<u32>,
}

impl<'a> PackedWriter<'a> {
    fn new(name: &'static str, pk: &'a Packed, n: usize) -> Self {
        Self {
            name,
            pk,
            out: FeatureBytes::default(),
            tags: Vec::new(),
            key_of: vec![u32::MAX; pk.keys.len()],
            keys: Vec::new(),
            value_of: HashMap::with_capacity_and_hasher(2 * n + 16, foldhash::fast::RandomState::default()),
            values: Vec::with_capacity(2 * n + 16),
        }
    }

    /// Adds feature `i` of the packed layer with its geometry commands; private attributes only
    /// for [`Audience::Full`].
    fn add(&mut self, kind: tile::GeomType, geometry: &[u32], i: usize, audience: Audience) {
        self.add_tagged(kind, geometry, self.pk.features[i].mvt_id, self.pk.tags_of(i), audience);
    }

    /// Adds a feature with these packed tags (private ones only for [`Audience::Full`]).
    fn add_tagged(&mut self, kind: tile::GeomType, geometry: &[u32], mvt_id: u64, all: &[Tag], audience: Audience) {
        let tags = &mut self.tags;
        tags.clear();
        for t in all {
            if t.private && audience != Audience::Full {
                continue;
            }
            let k = &mut self.key_of[t.key as usize];
            if *k == u32::MAX {
                *k = self.keys.len() as u32;
                self.keys.push(t.key);
            }
            tags.push(*k);
            let next = self.values.len() as u32;
            let values = &mut self.values;
            tags.push(*self.value_of.entry(t.value).or_insert_with(|| {
                values.push(t.value);
                next
            }));
        }
        self.out.push(mvt_id, kind, &self.tags, geometry);
    }

    fn finish(self) -> Option<Vec<u8>> {
        let pk = self.pk;
        self.out.finish(
            self.name,
            self.keys.iter().map(|k| pk.keys[*k as usize].clone()).collect(),
            self.values.iter().map(|v| pk.values[*v as usize].to_tile()).collect(),
        )
    }
}

/// Keys of the length-delimited fields of `vector_tile.proto` (field number << 3 | wire type 2):
/// `Tile.layers` (3) and `Layer.features` (2).
const TILE_LAYERS_KEY: u8 = (3 << 3) | 2;
const LAYER_FEATURES_KEY: u8 = (2 << 3) | 2;

/// The features of one layer, each encoded by prost as soon as it is made (one message reused,
/// so no allocation per feature and no second pass over them), then the tile around them.
#[derive(Debug, Default)]
struct FeatureBytes {
    buf: Vec<u8>,
    count: usize,
    msg: tile::Feature,
}

impl FeatureBytes {
    fn push(&mut self, id: u64, kind: tile::GeomType, tags: &[u32], geometry: &[u32]) {
        let m = &mut self.msg;
        m.id = Some(id);
        m.r#type = Some(kind as i32);
        m.tags.clear();
        m.tags.extend_from_slice(tags);
        m.geometry.clear();
        m.geometry.extend_from_slice(geometry);
        self.buf.push(LAYER_FEATURES_KEY);
        // Encoding into a vector cannot run out of room.
        let _ = m.encode_length_delimited(&mut self.buf);
        self.count += 1;
    }

    /// A tile holding this one layer (version 2, extent [`EXTENT`]): the layer's other fields
    /// from prost, then the features; `None` without features.
    fn finish(self, name: &str, keys: Vec<String>, values: Vec<tile::Value>) -> Option<Vec<u8>> {
        if self.count == 0 {
            return None;
        }
        let head = tile::Layer {
            version: 2,
            name: name.to_string(),
            features: Vec::new(),
            keys,
            values,
            extent: Some(EXTENT),
        };
        let len = head.encoded_len() + self.buf.len();
        let mut out = Vec::with_capacity(len + 11);
        out.push(TILE_LAYERS_KEY);
        let _ = prost::encode_length_delimiter(len, &mut out);
        let _ = head.encode(&mut out);
        out.extend_from_slice(&self.buf);
        Some(out)
    }
}

/// For a tile of `layer` whose `written` features took `size` bytes, over `budget`: the area
/// (square pixels) above which the largest areas of the tile fit in the budget at the average
/// bytes per feature (a tenth to spare), assuming the features written were the largest (the
/// ones left out were dropped for being small); `None` when the layer has no areas there.
pub(crate) fn largest_areas_floor(
    layer: &FeatureLayer,
    tile: TileId,
    size: usize,
    written: usize,
    budget: usize,
) -> Option<f64> {
    let pk = layer.packed();
    let scale = tile.transform().scale();
    let mut areas: Vec<f64> = Vec::new();
    let mut others = 0usize;
    for i in layer.query(&tile.buffered_bounds()) {
        let pf = &pk.features[i];
        if tile.z < pf.min_zoom {
            continue;
        }
        match pf.kind {
            Kind::Areas => areas.push(pf.area_m2 * scale * scale),
            _ => others += 1,
        }
    }
    if areas.is_empty() || written == 0 {
        return None;
    }
    let per_feature = size as f64 / written as f64;
    let fit = ((0.9 * budget as f64 / per_feature) as usize).saturating_sub(others);
    areas.sort_by(|a, b| b.total_cmp(a));
    // Keep the `fit` largest: the floor sits just above the first one left out.
    Some(areas.get(fit).map_or(0.0, |a| a.next_up()))
}

/// A 1-pixel square at `q` (inside the clipping square), oriented for MVT, for features that must
/// stay visible when their outline collapses.
pub(crate) fn pixel_square(q: Q) -> [Q; 4] {
    let [x, y] = [q[0].min(CLIP.max as i32 - 1), q[1].min(CLIP.max as i32 - 1)];
    [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1]]
}

/// Encodes the features of `layer` that fall in `tile`, for `audience`, at `detail`.
pub(crate) fn encode_features(
    layer: &FeatureLayer,
    tile: TileId,
    audience: Audience,
    detail: Detail,
) -> Result<Option<(Vec<u8>, usize)>, TileError> {
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

    let pk = layer.packed();
    let mut w = PackedWriter::new(layer.name().as_str(), pk, chosen.len());
    let mut s = Scratch::default();
    let mut cmds = Commands::default();
    // Merged lines: per attribute set (without the id), the feature id and tags of its first line
    // and the commands of all.
    let mut merged: HashMap<&[Tag], (u64, Commands)> = HashMap::new();
    let mut merged_order: Vec<&[Tag]> = Vec::new();
    for i in chosen {
        let pf = &pk.features[i];
        if tile.z < pf.min_zoom {
            continue;
        }
        let parts = pk.part_range(i);
        cmds.clear();
        let kind = match pf.kind {
            Kind::Point => {
                let c = pk.part(parts.start)[0];
                let (x, y) = tr.apply(c[0], c[1]);
                if !CLIP.contains([x, y]) {
                    continue;
                }
                cmds.point(snap([x, y]));
                tile::GeomType::Point
            }
            Kind::Lines if detail.merge_lines && !full => {
                // The id is the first tag (see `Packed::new`); the others name the group.
                let tags = &pk.tags_of(i)[1..];
                let group = merged.entry(tags).or_insert_with(|| {
                    merged_order.push(tags);
                    (pf.mvt_id, Commands::default())
                });
                s.lines(pk, parts, &tr, detail.simplify_px, &mut group.1);
                continue;
            }
            Kind::Lines => {
                s.lines(pk, parts, &tr, detail.simplify_px, &mut cmds);
                if cmds.is_empty() {
                    // At full zoom a line shorter than a pixel stays as a one-pixel dash.
                    let a = to_px(&tr, &feats[i].anchor);
                    if !full || !CLIP.contains(a) {
                        continue;
                    }
                    let q = snap(a);
                    cmds.line(&[q, [q[0] + 1, q[1]]]);
                }
                tile::GeomType::Linestring
            }
            Kind::Areas => {
                // Below full zoom, areas smaller than the layer's minimum are dropped.
                let min_px2 = (spec.min_area_px2 * detail.min_area_scale).max(detail.min_area_px2);
                if !full && pf.area_m2 * px2_per_m2 < min_px2 {
                    continue;
                }
                s.areas(pk, parts.clone(), &tr, detail.simplify_px, &mut cmds);
                if cmds.is_empty() {
                    // At full zoom nothing disappears: an outline that collapsed on the pixel grid
                    // becomes one pixel at the feature's anchor (when the anchor is in the tile).
                    let a = to_px(&tr, &feats[i].anchor);
                    if !full || !CLIP.contains(a) || !parts.clone().any(|j| pk.parts[j].outer && !pk.part(j).is_empty())
                    {
                        continue;
                    }
                    cmds.ring(&pixel_square(snap(a)));
                }
                tile::GeomType::Polygon
            }
        };
        w.add(kind, cmds.as_slice(), i, audience);
    }
    for tags in merged_order {
        let (id, group) = &merged[tags];
        if !group.is_empty() {
            w.add_tagged(tile::GeomType::Linestring, group.as_slice(), *id, tags, audience);
        }
    }
    let written = w.out.count;
    Ok(w.finish().map(|b| (b, written)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Geometry, LineString, MultiLineString, MultiPolygon, Point, Polygon};
    use geozero::ToGeo;
    use geozero::mvt::Tile;

    fn round_trip(w: LayerWriter<'_>) -> tile::Layer {
        let bytes = w.finish().expect("features");
        let mut t = Tile::decode(&bytes[..]).expect("decodes");
        assert_eq!(t.layers.len(), 1);
        t.layers.remove(0)
    }

    fn ls(pts: &[[i32; 2]]) -> LineString<f64> {
        LineString::from(pts.iter().map(|q| (f64::from(q[0]), f64::from(q[1]))).collect::<Vec<_>>())
    }

    #[test]
    fn geometry_commands_decode_with_geozero() {
        let mut w = LayerWriter::new("t");
        let mut c = Commands::default();
        c.point([5, -7]);
        w.add(tile::GeomType::Point, c.as_slice(), 1, std::iter::empty());
        c.clear();
        c.line(&[[0, 0], [10, 0], [10, 10]]);
        c.line(&[[-5, 3], [4, 4]]);
        w.add(tile::GeomType::Linestring, c.as_slice(), 2, std::iter::empty());
        c.clear();
        // Clockwise on screen (y down) exterior, counter-clockwise hole, then a second polygon.
        let ext = [[0, 0], [100, 0], [100, 100], [0, 100]];
        let hole = [[10, 10], [10, 20], [20, 20], [20, 10]];
        let other = [[200, 200], [300, 200], [300, 300], [200, 300]];
        assert!(geom::area2(&ext) > 0 && geom::area2(&hole) < 0);
        c.ring(&ext);
        c.ring(&hole);
        c.ring(&other);
        w.add(tile::GeomType::Polygon, c.as_slice(), 3, std::iter::empty());
        let layer = round_trip(w);
        assert_eq!(layer.extent, Some(EXTENT));
        let g: Vec<Geometry<f64>> = layer.features.iter().map(|f| f.to_geo().expect("geometry")).collect();
        assert_eq!(g[0], Geometry::Point(Point::new(5.0, -7.0)));
        let lines = MultiLineString(vec![ls(&[[0, 0], [10, 0], [10, 10]]), ls(&[[-5, 3], [4, 4]])]);
        assert_eq!(g[1], Geometry::MultiLineString(lines));
        let close = |r: &[[i32; 2]]| {
            let mut v = r.to_vec();
            v.push(r[0]);
            ls(&v)
        };
        let polys =
            MultiPolygon(vec![Polygon::new(close(&ext), vec![close(&hole)]), Polygon::new(close(&other), vec![])]);
        assert_eq!(g[2], Geometry::MultiPolygon(polys));
        assert_eq!(layer.features.iter().map(|f| f.id).collect::<Vec<_>>(), vec![Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn keys_and_values_are_written_once_and_tags_point_at_them() {
        let mut w = LayerWriter::new("t");
        let mut c = Commands::default();
        c.point([1, 1]);
        let values = [
            AttrValue::Str("a".into()),
            AttrValue::Int(-3),
            AttrValue::Float(0.25),
            AttrValue::Bool(true),
            AttrValue::Float(f64::NAN),
        ];
        for i in 0..3u64 {
            let attrs =
                [("name", &values[0]), ("n", &values[1]), ("x", &values[2]), ("ok", &values[3]), ("bad", &values[4])];
            let id = AttrValue::Str(format!("f{i}"));
            let id = Val::owned(id).map(|v| ("id", v));
            w.add(
                tile::GeomType::Point,
                c.as_slice(),
                i,
                id.into_iter().chain(attrs.into_iter().filter_map(|(k, v)| Some((k, Val::of(v)?)))),
            );
        }
        let layer = round_trip(w);
        assert_eq!(layer.keys, vec!["id", "name", "n", "x", "ok"], "a non-finite number is left out");
        // Three ids and four shared values.
        assert_eq!(layer.values.len(), 3 + 4);
        for (i, f) in layer.features.iter().enumerate() {
            let got: Vec<(String, tile::Value)> = f
                .tags
                .chunks(2)
                .map(|kv| (layer.keys[kv[0] as usize].clone(), layer.values[kv[1] as usize].clone()))
                .collect();
            assert_eq!(got.len(), 5);
            assert_eq!(got[0].1.string_value.as_deref(), Some(format!("f{i}").as_str()));
            assert_eq!(got[1].1.string_value.as_deref(), Some("a"));
            assert_eq!(got[2].1.int_value, Some(-3));
            assert_eq!(got[3].1.double_value, Some(0.25));
            assert_eq!(got[4].1.bool_value, Some(true));
        }
    }
}
