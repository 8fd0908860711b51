//! Tile layers: their names and zoom policies, and [`FeatureLayer`], features projected to Web
//! Mercator once and kept in an R-tree for per-tile look-ups.

use crate::attrs::{Attr, is_private_key};
use crate::tilemath::{MercBox, lonlat_to_merc};
use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use std::collections::BTreeMap;

/// The tile layers served at `/tiles/{layer}/{z}/{x}/{y}.mvt`. Each tile of a layer holds one MVT
/// layer of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LayerName {
    /// Building footprints (or points) with households, grid and completeness.
    Buildings,
    /// Grid polygons of a plan (the active one unless a plan is named).
    Grids,
    /// Compounds (小区).
    Compounds,
    /// Communities (社区).
    Communities,
    /// Streets (街道).
    Streets,
    /// Facilities by category.
    Facilities,
    /// The walking network.
    Network,
    /// Roads by class, rail, water, waterways, parks and land use, so the map needs no outside tiles.
    Basemap,
    /// Coverage heatmap points (for MapLibre's `heatmap` layer), per metric.
    Heat,
    /// Coverage heatmap as square cells (100 m and coarser when zoomed out), per metric.
    Cells,
}

impl LayerName {
    /// Every layer, in drawing order from the bottom.
    pub const ALL: [LayerName; 10] = [
        Self::Basemap,
        Self::Streets,
        Self::Communities,
        Self::Compounds,
        Self::Cells,
        Self::Heat,
        Self::Grids,
        Self::Network,
        Self::Buildings,
        Self::Facilities,
    ];

    /// The name in URLs and the MVT layer name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buildings => "buildings",
            Self::Grids => "grids",
            Self::Compounds => "compounds",
            Self::Communities => "communities",
            Self::Streets => "streets",
            Self::Facilities => "facilities",
            Self::Network => "network",
            Self::Basemap => "basemap",
            Self::Heat => "heat",
            Self::Cells => "cells",
        }
    }

    /// Parses [`LayerName::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// What the layer shows (TileJSON `description`).
    pub fn description(self) -> &'static str {
        match self {
            Self::Buildings => "Buildings with households (signed-in only), grid and completeness score",
            Self::Grids => "Grids (网格) of a plan with households (signed-in only), quota status and compactness",
            Self::Compounds => "Residential compounds (小区)",
            Self::Communities => "Communities (社区)",
            Self::Streets => "Street offices (街道)",
            Self::Facilities => "Service facilities by category",
            Self::Network => "Walking network",
            Self::Basemap => "Basemap: roads by class, rail, water, waterways, parks and land use",
            Self::Heat => "Coverage heatmap points (weights: households signed-in only, coverage share for all)",
            Self::Cells => "Coverage as square cells with household-weighted values",
        }
    }

    /// The zoom policy of the layer.
    pub fn spec(self) -> LayerSpec {
        let base = LayerSpec { min_zoom: 0, full_zoom: 0, max_zoom: 16, point_thin_px: 0, min_area_px2: 1.0 };
        match self {
            Self::Buildings => LayerSpec { min_zoom: 14, full_zoom: 14, ..base },
            Self::Grids => LayerSpec { min_zoom: 11, full_zoom: 13, ..base },
            Self::Compounds => LayerSpec { min_zoom: 12, full_zoom: 14, ..base },
            Self::Communities => LayerSpec { min_zoom: 9, full_zoom: 12, ..base },
            Self::Streets => LayerSpec { min_zoom: 8, full_zoom: 11, ..base },
            Self::Facilities => LayerSpec { min_zoom: 12, full_zoom: 15, point_thin_px: 64, ..base },
            Self::Network => LayerSpec { min_zoom: 13, full_zoom: 15, ..base },
            Self::Basemap => LayerSpec { min_zoom: 8, full_zoom: 15, min_area_px2: 4.0, ..base },
            Self::Heat => LayerSpec { min_zoom: 8, full_zoom: 16, point_thin_px: 16, ..base },
            Self::Cells => LayerSpec { min_zoom: 8, full_zoom: 16, ..base },
        }
    }
}

impl std::fmt::Display for LayerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a layer thins and simplifies with zoom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerSpec {
    /// Below this zoom the layer's tiles are empty.
    pub min_zoom: u8,
    /// From this zoom on nothing is dropped (every feature of the tile is in it); below it small
    /// polygons are dropped and points thinned.
    pub full_zoom: u8,
    /// The zoom up to which the TileJSON advertises tiles (clients over-zoom beyond).
    pub max_zoom: u8,
    /// Below `full_zoom`, at most one point per square of this many tile pixels (the heaviest).
    pub point_thin_px: u32,
    /// Below `full_zoom`, polygons smaller than this many square tile pixels are dropped.
    pub min_area_px2: f64,
}

impl LayerSpec {
    /// The side of the point-thinning square at zoom `z`, in tile pixels (0: no thinning):
    /// `point_thin_px` just below full zoom, doubling with each level further out (at most 8×).
    pub fn thin_px(&self, z: u8) -> u32 {
        if z >= self.full_zoom || self.point_thin_px == 0 {
            return 0;
        }
        self.point_thin_px << (self.full_zoom - 1 - z).min(3)
    }

    /// [`LayerSpec::thin_px`] in Mercator metres.
    pub fn thin_m(&self, z: u8) -> f64 {
        f64::from(self.thin_px(z)) * crate::tilemath::pixel_size_m(z)
    }
}

/// A feature's geometry in Web Mercator metres.
#[derive(Debug, Clone, PartialEq)]
pub enum Geom {
    /// A point.
    Point(Coord<f64>),
    /// Lines.
    Lines(MultiLineString<f64>),
    /// Areas.
    Areas(MultiPolygon<f64>),
}

/// One feature of a [`FeatureLayer`], in Web Mercator metres.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Stable id (the source id), written as the `id` attribute; the MVT feature id is a hash of it.
    pub key: String,
    /// Geometry.
    pub geom: Geom,
    /// Attributes (besides `id`).
    pub attrs: Vec<Attr>,
    /// The feature appears from this zoom on (at least the layer's `min_zoom`).
    pub min_zoom: u8,
    /// Priority when points are thinned (heaviest kept).
    pub weight: f64,
    /// A point on the feature (interior point of areas), Mercator.
    pub anchor: Coord<f64>,
    /// Bounding box, Mercator.
    pub bbox: MercBox,
}

fn project_coord(c: Coord<f64>) -> Coord<f64> {
    let (x, y) = lonlat_to_merc(c.x, c.y);
    Coord { x, y }
}

fn project_line(l: &LineString<f64>) -> LineString<f64> {
    LineString(l.0.iter().map(|c| project_coord(*c)).collect())
}

fn project_poly(p: &Polygon<f64>) -> Polygon<f64> {
    Polygon::new(project_line(p.exterior()), p.interiors().iter().map(project_line).collect())
}

/// Projects lon/lat polygons to Web Mercator metres.
pub fn project_multipolygon(m: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    MultiPolygon(m.0.iter().map(project_poly).collect())
}

impl Feature {
    /// A feature from a WGS84 lon/lat geometry. Points and multipoints give a point (the first);
    /// lines and polygons keep their parts; an empty geometry or a collection gives `None`.
    pub fn from_lonlat(key: impl Into<String>, g: &geo::Geometry<f64>, attrs: Vec<Attr>) -> Option<Self> {
        use geo::Geometry as G;
        let geom = match g {
            G::Point(p) => Geom::Point(project_coord(p.0)),
            G::MultiPoint(mp) => Geom::Point(project_coord(mp.0.first()?.0)),
            G::Line(l) => {
                Geom::Lines(MultiLineString(vec![LineString(vec![project_coord(l.start), project_coord(l.end)])]))
            }
            G::LineString(l) => Geom::Lines(MultiLineString(vec![project_line(l)])),
            G::MultiLineString(m) => Geom::Lines(MultiLineString(m.0.iter().map(project_line).collect())),
            G::Polygon(p) => Geom::Areas(MultiPolygon(vec![project_poly(p)])),
            G::MultiPolygon(m) => Geom::Areas(project_multipolygon(m)),
            G::Rect(r) => Geom::Areas(MultiPolygon(vec![project_poly(&r.to_polygon())])),
            G::Triangle(t) => Geom::Areas(MultiPolygon(vec![project_poly(&t.to_polygon())])),
            G::GeometryCollection(_) => return None,
        };
        Self::new(key, geom, attrs)
    }

    /// A feature from a Mercator geometry; `None` when it has no coordinates.
    pub fn new(key: impl Into<String>, geom: Geom, attrs: Vec<Attr>) -> Option<Self> {
        use geo::BoundingRect;
        let (bbox, anchor) = match &geom {
            Geom::Point(c) => (MercBox::new(c.x, c.y, c.x, c.y), *c),
            Geom::Lines(m) => {
                let r = m.bounding_rect()?;
                let mid = m.0.iter().find(|l| !l.0.is_empty()).map(|l| l.0[l.0.len() / 2])?;
                (MercBox::new(r.min().x, r.min().y, r.max().x, r.max().y), mid)
            }
            // The anchor of an area only places a one-pixel stand-in when its outline collapses,
            // so the box centre does (an interior point costs more than the whole projection).
            Geom::Areas(m) => {
                let r = m.bounding_rect()?;
                (MercBox::new(r.min().x, r.min().y, r.max().x, r.max().y), r.center())
            }
        };
        Some(Self { key: key.into(), geom, attrs, min_zoom: 0, weight: 0.0, anchor, bbox })
    }

    /// Sets the feature's own minimum zoom.
    pub fn with_min_zoom(mut self, z: u8) -> Self {
        self.min_zoom = z;
        self
    }

    /// Sets the thinning weight.
    pub fn with_weight(mut self, w: f64) -> Self {
        self.weight = w;
        self
    }

    /// The attribute of that key, if any.
    pub fn attr(&self, key: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.key == key)
    }
}

type BoxTree = RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>;

/// The features of one layer in Mercator, with an R-tree of their boxes.
#[derive(Debug)]
pub struct FeatureLayer {
    name: LayerName,
    spec: LayerSpec,
    features: Vec<Feature>,
    tree: BoxTree,
    fields: BTreeMap<String, (&'static str, bool)>,
    packed: crate::packed::Packed,
}

impl FeatureLayer {
    /// Indexes the features of a layer (sorted by key, the order they are written in).
    pub fn new(name: LayerName, mut features: Vec<Feature>) -> Self {
        features.sort_by(|a, b| a.key.cmp(&b.key));
        // Keys that name households are private whatever the caller said: marked once here, so the
        // encoder only reads the flag.
        let mut named: BTreeMap<String, bool> = BTreeMap::new();
        for f in &mut features {
            for a in &mut f.attrs {
                let private = match named.get(a.key.as_ref()) {
                    Some(p) => *p,
                    None => *named.entry(a.key.to_string()).or_insert_with(|| is_private_key(&a.key)),
                };
                a.private = a.private || private;
            }
        }
        let tree = RTree::bulk_load(
            features
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    GeomWithData::new(
                        Rectangle::from_corners([f.bbox.min_x, f.bbox.min_y], [f.bbox.max_x, f.bbox.max_y]),
                        i as u32,
                    )
                })
                .collect(),
        );
        let mut fields = BTreeMap::new();
        fields.insert("id".to_string(), ("String", false));
        for f in &features {
            for a in &f.attrs {
                if !fields.contains_key(a.key.as_ref()) {
                    fields.insert(a.key.to_string(), (a.value.type_name(), a.private));
                }
            }
        }
        let packed = crate::packed::Packed::new(&features);
        Self { name, spec: name.spec(), features, tree, fields, packed }
    }

    /// The layer's name.
    pub fn name(&self) -> LayerName {
        self.name
    }

    /// The zoom policy.
    pub fn spec(&self) -> LayerSpec {
        self.spec
    }

    /// The features, sorted by key.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// The flat view the encoder reads.
    pub(crate) fn packed(&self) -> &crate::packed::Packed {
        &self.packed
    }

    /// Indexes of the features whose box meets `b`, ascending.
    pub fn query(&self, b: &MercBox) -> Vec<usize> {
        let mut hits: Vec<usize> =
            self.tree.locate_in_envelope_intersecting(&b.envelope()).map(|g| g.data as usize).collect();
        hits.sort_unstable();
        hits
    }

    /// The box around every feature, if any.
    pub fn bounds(&self) -> Option<MercBox> {
        (self.tree.size() > 0).then(|| {
            let e = self.tree.root().envelope();
            MercBox::new(e.lower()[0], e.lower()[1], e.upper()[0], e.upper()[1])
        })
    }

    /// The attribute keys with their TileJSON type and whether they are private (signed-in only).
    pub fn fields(&self) -> &BTreeMap<String, (&'static str, bool)> {
        &self.fields
    }

    /// True when some attribute is private, so public and signed-in tiles differ.
    pub fn has_private(&self) -> bool {
        self.fields.values().any(|(_, p)| *p)
    }

    /// The boxes of features that differ between `self` (old) and `new`, by key: changed, added and
    /// removed features (old and new boxes both). What an update must invalidate.
    pub fn changed_boxes(&self, new: &FeatureLayer) -> Vec<MercBox> {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.features, &new.features);
        while i < a.len() || j < b.len() {
            match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x.key == y.key => {
                    if x != y {
                        out.push(x.bbox);
                        out.push(y.bbox);
                    }
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x.key < y.key => {
                    out.push(x.bbox);
                    i += 1;
                }
                (Some(_), Some(y)) => {
                    out.push(y.bbox);
                    j += 1;
                }
                (Some(x), None) => {
                    out.push(x.bbox);
                    i += 1;
                }
                (None, Some(y)) => {
                    out.push(y.bbox);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        out
    }
}
