//! Coverage heatmaps: household-weighted building points with one value per metric (the
//! completeness score, or covered/not for a facility category), served as points for MapLibre's
//! `heatmap` layer and as square cells for zoomed-out views.
//!
//! Points are binned (16 tile pixels at z15, doubling per zoom level out to 128) below the layer's
//! full zoom; bins and cells are anchored to
//! the Mercator origin, so tiles agree on their edges. Signed-in tiles carry `households`,
//! `covered` and `gap` (households not covered); public tiles carry only the household-weighted
//! `value` (a share, 0..1) and the number of `buildings`.

use crate::TileError;
use crate::attrs::{AttrValue, Audience};
use crate::encode::{CLIP, Commands, LayerWriter, Val, align_out, feature_id, square_of};
use crate::geom;
use crate::layer::LayerName;
use crate::tilemath::{MercBox, TileId, lonlat_to_merc};
use geo::Coord;
use geozero::mvt::tile;
use rstar::RTree;
use rstar::primitives::GeomWithData;
use std::collections::BTreeMap;

/// The metric every heat layer has: the completeness score of the building (0..1).
pub const COMPLETENESS: &str = "completeness";

/// Ground size of the cells at zoom 13 and deeper, metres; each zoom level out doubles it.
pub const CELL_M: f64 = 100.0;

/// One building of the heatmap.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatPoint {
    /// Building source id.
    pub key: String,
    /// Web Mercator position.
    pub at: Coord<f64>,
    /// Households (the weight).
    pub households: u32,
    /// One value per metric of the layer, 0..1; NaN where the building has none.
    pub values: Vec<f32>,
}

/// The heatmap data: points, their metrics, and an R-tree.
#[derive(Debug)]
pub struct HeatLayer {
    metrics: Vec<String>,
    points: Vec<HeatPoint>,
    tree: RTree<GeomWithData<[f64; 2], u32>>,
    merc_per_ground_m: f64,
}

impl HeatLayer {
    /// Indexes the points. `metrics` names the entries of every point's `values` (the first is the
    /// default metric). `centre_lat` fixes the ground-metre size of the cells (rounded to a whole
    /// degree, so that small data changes do not move every cell).
    pub fn new(metrics: Vec<String>, mut points: Vec<HeatPoint>, centre_lat: f64) -> Self {
        points.sort_by(|a, b| a.key.cmp(&b.key));
        let tree = RTree::bulk_load(
            points.iter().enumerate().map(|(i, p)| GeomWithData::new([p.at.x, p.at.y], i as u32)).collect(),
        );
        let lat = centre_lat.round().clamp(-85.0, 85.0);
        Self { metrics, points, tree, merc_per_ground_m: 1.0 / lat.to_radians().cos() }
    }

    /// The metric names (the first is the default).
    pub fn metrics(&self) -> &[String] {
        &self.metrics
    }

    /// The points, by key.
    pub fn points(&self) -> &[HeatPoint] {
        &self.points
    }

    /// The index of a metric (`None` picks the default one).
    pub fn metric_index(&self, metric: Option<&str>) -> Result<usize, TileError> {
        match metric {
            None if !self.metrics.is_empty() => Ok(0),
            None => Err(TileError::UnknownVariant { layer: "heat", variant: String::new(), known: String::new() }),
            Some(m) => self.metrics.iter().position(|x| x == m).ok_or_else(|| TileError::UnknownVariant {
                layer: "heat",
                variant: m.to_string(),
                known: self.metrics.join(", "),
            }),
        }
    }

    /// Cell size at zoom `z` in Mercator metres: [`CELL_M`] on the ground at z ≥ 13, doubling with
    /// each zoom level out.
    pub fn cell_size_m(&self, z: u8) -> f64 {
        CELL_M * f64::from(1u32 << 13u8.saturating_sub(z).min(20)) * self.merc_per_ground_m
    }

    /// The box grown outwards to whole cells at zoom `z`.
    pub fn cell_aligned(&self, b: &MercBox, z: u8) -> MercBox {
        let s = self.cell_size_m(z);
        MercBox {
            min_x: (b.min_x / s).floor() * s,
            min_y: (b.min_y / s).floor() * s,
            max_x: ((b.max_x / s).floor() + 1.0) * s,
            max_y: ((b.max_y / s).floor() + 1.0) * s,
        }
    }

    /// The box around every point, if any.
    pub fn bounds(&self) -> Option<MercBox> {
        (self.tree.size() > 0).then(|| {
            let e = self.tree.root().envelope();
            MercBox::new(e.lower()[0], e.lower()[1], e.upper()[0], e.upper()[1])
        })
    }

    fn query(&self, b: &MercBox) -> Vec<usize> {
        let mut v: Vec<usize> = self.tree.locate_in_envelope(&b.envelope()).map(|g| g.data as usize).collect();
        v.sort_unstable();
        v
    }

    /// The boxes of points that differ between `self` (old) and `new`, by key.
    pub fn changed_boxes(&self, new: &HeatLayer) -> Vec<MercBox> {
        if self.metrics != new.metrics {
            return [self.bounds(), new.bounds()].into_iter().flatten().collect();
        }
        let pt = |p: &HeatPoint| MercBox::new(p.at.x, p.at.y, p.at.x, p.at.y);
        let old: BTreeMap<&str, &HeatPoint> = self.points.iter().map(|p| (p.key.as_str(), p)).collect();
        let mut out = Vec::new();
        for p in &new.points {
            match old.get(p.key.as_str()) {
                Some(o) if values_eq(o, p) => {}
                Some(o) => {
                    out.push(pt(o));
                    out.push(pt(p));
                }
                None => out.push(pt(p)),
            }
        }
        let new_keys: std::collections::HashSet<&str> = new.points.iter().map(|p| p.key.as_str()).collect();
        out.extend(self.points.iter().filter(|p| !new_keys.contains(p.key.as_str())).map(pt));
        out
    }
}

fn values_eq(a: &HeatPoint, b: &HeatPoint) -> bool {
    a.at == b.at
        && a.households == b.households
        && a.values.len() == b.values.len()
        && a.values.iter().zip(&b.values).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

/// Households, household-weighted value sum and buildings of a bin or cell.
#[derive(Default, Clone, Copy)]
struct Agg {
    households: f64,
    weighted: f64,
    buildings: u32,
    x: f64,
    y: f64,
}

impl Agg {
    fn add(&mut self, p: &HeatPoint, v: f64) {
        let h = f64::from(p.households);
        self.households += h;
        self.weighted += h * v;
        self.buildings += 1;
        self.x += p.at.x;
        self.y += p.at.y;
    }

    fn attrs(&self, audience: Audience) -> Vec<(&'static str, AttrValue)> {
        let value = if self.households > 0.0 { self.weighted / self.households } else { 0.0 };
        let mut v = vec![
            ("value", AttrValue::Float((value * 1000.0).round() / 1000.0)),
            ("buildings", AttrValue::Int(i64::from(self.buildings))),
        ];
        if audience == Audience::Full {
            let covered = self.weighted.round();
            v.push(("households", AttrValue::Int(self.households as i64)));
            v.push(("covered", AttrValue::Int(covered as i64)));
            v.push(("gap", AttrValue::Int((self.households - covered).max(0.0) as i64)));
        }
        v
    }
}

/// Attributes made for one tile as writer values (non-finite numbers left out).
fn owned(attrs: Vec<(&'static str, AttrValue)>) -> impl Iterator<Item = (&'static str, Val<'static>)> {
    attrs.into_iter().filter_map(|(k, v)| Some((k, Val::owned(v)?)))
}

/// Points of the heat layer for one tile and metric.
pub(crate) fn encode_heat(
    heat: &HeatLayer,
    metric: usize,
    tile: TileId,
    audience: Audience,
) -> Result<Option<Vec<u8>>, TileError> {
    let spec = LayerName::Heat.spec();
    if tile.z < spec.min_zoom {
        return Ok(None);
    }
    let tr = tile.transform();
    let mut w = LayerWriter::new(LayerName::Heat.as_str());
    let mut cmds = Commands::default();
    let hits = heat.query(&tile.buffered_bounds());
    let value = |p: &HeatPoint| p.values.get(metric).map(|v| f64::from(*v)).filter(|v| v.is_finite());
    if tile.z >= spec.full_zoom {
        for i in hits {
            let p = &heat.points[i];
            let Some(v) = value(p) else { continue };
            let (x, y) = tr.apply(p.at.x, p.at.y);
            let mut a = Agg::default();
            a.add(p, v);
            cmds.clear();
            cmds.point([x.round() as i32, y.round() as i32]);
            w.add(tile::GeomType::Point, cmds.as_slice(), feature_id(&p.key), owned(a.attrs(audience)));
        }
        return Ok(w.finish());
    }
    // Bins of `thin_px` tile pixels anchored to the tile grid; every bin that meets the buffered
    // tile is looked up whole, so neighbouring tiles agree on each bin's total and centre.
    let bin_m = spec.thin_m(tile.z);
    let mut bins: BTreeMap<(i64, i64), Agg> = BTreeMap::new();
    for i in heat.query(&align_out(&tile.buffered_bounds(), bin_m)) {
        let p = &heat.points[i];
        let Some(v) = value(p) else { continue };
        bins.entry(square_of(p.at.x, p.at.y, bin_m)).or_default().add(p, v);
    }
    for ((bx, by), a) in bins {
        let n = f64::from(a.buildings);
        let (x, y) = tr.apply(a.x / n, a.y / n);
        if !CLIP.contains([x, y]) {
            continue;
        }
        cmds.clear();
        cmds.point([x.round() as i32, y.round() as i32]);
        w.add(
            tile::GeomType::Point,
            cmds.as_slice(),
            feature_id(&format!("{}:{bx}:{by}", tile.z)),
            owned(a.attrs(audience)),
        );
    }
    Ok(w.finish())
}

/// Square cells of the heat layer for one tile and metric.
pub(crate) fn encode_cells(
    heat: &HeatLayer,
    metric: usize,
    tile: TileId,
    audience: Audience,
) -> Result<Option<Vec<u8>>, TileError> {
    let spec = LayerName::Cells.spec();
    if tile.z < spec.min_zoom {
        return Ok(None);
    }
    let tr = tile.transform();
    let s = heat.cell_size_m(tile.z);
    let area = heat.cell_aligned(&tile.buffered_bounds(), tile.z);
    let mut cells: BTreeMap<(i64, i64), Agg> = BTreeMap::new();
    for i in heat.query(&area) {
        let p = &heat.points[i];
        let Some(v) = p.values.get(metric).map(|v| f64::from(*v)).filter(|v| v.is_finite()) else { continue };
        cells.entry(((p.at.x / s).floor() as i64, (p.at.y / s).floor() as i64)).or_default().add(p, v);
    }
    let ground = s / heat.merc_per_ground_m;
    let mut w = LayerWriter::new(LayerName::Cells.as_str());
    let (mut cmds, mut clipped, mut tmp, mut q) = (Commands::default(), Vec::new(), Vec::new(), Vec::new());
    for ((cx, cy), a) in cells {
        let (x0, y0) = tr.apply(cx as f64 * s, (cy + 1) as f64 * s);
        let (x1, y1) = tr.apply((cx + 1) as f64 * s, cy as f64 * s);
        // Clockwise on screen (y down): x0,y0 top-left → top-right → bottom-right → bottom-left.
        // A square is convex: Sutherland–Hodgman cuts it exactly.
        let ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];
        geom::clip_ring_into(&ring, CLIP, &mut clipped, &mut tmp);
        if !geom::snap_ring_into(&clipped, &mut q) {
            continue;
        }
        if geom::area2(&q) < 0 {
            q.reverse();
        }
        cmds.clear();
        cmds.ring(&q);
        let mut attrs = a.attrs(audience);
        attrs.push(("cell_m", AttrValue::Int(ground.round() as i64)));
        w.add(tile::GeomType::Polygon, cmds.as_slice(), feature_id(&format!("{}:{cx}:{cy}", tile.z)), owned(attrs));
    }
    Ok(w.finish())
}

/// A heat point from a lon/lat position.
pub fn heat_point(key: impl Into<String>, lon: f64, lat: f64, households: u32, values: Vec<f32>) -> HeatPoint {
    let (x, y) = lonlat_to_merc(lon, lat);
    HeatPoint { key: key.into(), at: Coord { x, y }, households, values }
}
