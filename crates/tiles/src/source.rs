//! Building the layers from the model: [`TileSource::from_atlas`], the per-layer builders, grids
//! from any plan, and per-building extras supplied by the caller.

use crate::TileError;
use crate::attrs::{Attr, Audience};
use crate::encode::{Detail, encode_features, largest_areas_floor};
use crate::heat::{COMPLETENESS, HeatLayer, HeatPoint, encode_cells, encode_heat};
use crate::layer::{Feature, FeatureLayer, Geom, LayerName};
use crate::tilemath::{MercBox, TileId, lonlat_to_merc};
use geo::{Area, Coord, Euclidean, Length, MultiPolygon};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use wangge_core::plan::PlanRecord;
use wangge_core::{Atlas, BasemapKind, RegionLevel, Shape};

/// What the caller knows about a building beyond the model: its grid in the active plan, its
/// completeness score, whether each facility category is within reach, and any other attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildingExtra {
    /// Grid id (code) of the building in the active plan.
    pub grid: Option<String>,
    /// Completeness score, 0..1.
    pub completeness: Option<f64>,
    /// Per facility category id: covered (within the category's walking threshold) or not.
    pub covered: BTreeMap<String, bool>,
    /// Further attributes (marked public or private).
    pub attrs: Vec<Attr>,
}

/// Extras by building source id.
pub type BuildingExtras = HashMap<String, BuildingExtra>;

/// A polygon feature from outside the model (the grids of any plan): id, WGS84 outline, attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaFeature {
    /// Stable id (the grid code).
    pub id: String,
    /// Outline, WGS84 lon/lat.
    pub area: MultiPolygon<f64>,
    /// Attributes (household numbers marked private).
    pub attrs: Vec<Attr>,
}

/// Polsby–Popper compactness 4πA/P² of an outline (1 for a disc), computed in Mercator, where the
/// ratio is the ground one (the local scale cancels).
pub fn compactness(area: &MultiPolygon<f64>) -> Option<f64> {
    let m = MultiPolygon(
        area.0
            .iter()
            .map(|p| {
                let f = |l: &geo::LineString<f64>| {
                    geo::LineString(
                        l.0.iter()
                            .map(|c| {
                                let (x, y) = lonlat_to_merc(c.x, c.y);
                                Coord { x, y }
                            })
                            .collect(),
                    )
                };
                geo::Polygon::new(f(p.exterior()), p.interiors().iter().map(f).collect())
            })
            .collect(),
    );
    let a = m.unsigned_area();
    let perimeter: f64 =
        m.0.iter()
            .map(|p| Euclidean.length(p.exterior()) + p.interiors().iter().map(|r| Euclidean.length(r)).sum::<f64>())
            .sum();
    (a > 0.0 && perimeter > 0.0).then(|| 4.0 * std::f64::consts::PI * a / (perimeter * perimeter))
}

/// The grids of a stored plan as area features: `id`, `community`, `buildings`, `quota_status`
/// (`under`, `within`, `over` against the plan's quota), `compactness`, and `households` (private).
/// Grids without an outline are left out.
pub fn grids_from_plan(plan: &PlanRecord) -> Vec<AreaFeature> {
    plan.grids
        .iter()
        .filter_map(|g| {
            let area = MultiPolygon(vec![g.area.clone()?]);
            let status = if g.households < u64::from(plan.quota_min) {
                "under"
            } else if g.households > u64::from(plan.quota_max) {
                "over"
            } else {
                "within"
            };
            let mut attrs = vec![
                Attr::public("community", g.community.as_str()),
                Attr::public("buildings", g.buildings),
                Attr::public("quota_status", status),
                Attr::private("households", g.households),
            ];
            if let Some(c) = compactness(&area) {
                attrs.push(Attr::public("compactness", (c * 1000.0).round() / 1000.0));
            }
            Some(AreaFeature { id: g.grid.clone(), area, attrs })
        })
        .collect()
}

/// The grids layer from area features.
pub fn grids_layer(grids: &[AreaFeature]) -> FeatureLayer {
    FeatureLayer::new(
        LayerName::Grids,
        grids
            .iter()
            .filter_map(|g| {
                Feature::from_lonlat(g.id.clone(), &geo::Geometry::MultiPolygon(g.area.clone()), g.attrs.clone())
            })
            .collect(),
    )
}

fn opt_str(attrs: &mut Vec<Attr>, key: &'static str, v: &Option<String>) {
    if let Some(s) = v {
        attrs.push(Attr::public(key, s.as_str()));
    }
}

/// The buildings layer: `id`, `kind`, `name`, `levels`, `residential`, `compound`, `community`,
/// `grid` and `completeness` (from the extras); private: `households`, `households_source`,
/// `households_estimated`, `units` and `unit_households` (`label:count;…`).
pub fn buildings_layer(atlas: &Atlas, extras: &BuildingExtras) -> FeatureLayer {
    let feats = atlas
        .layers()
        .buildings
        .iter()
        .filter_map(|b| {
            let mut a = vec![Attr::public("kind", b.kind.as_str()), Attr::public("residential", b.residential)];
            opt_str(&mut a, "name", &b.name);
            if let Some(l) = b.levels {
                a.push(Attr::public("levels", u32::from(l)));
            }
            opt_str(&mut a, "compound", &b.compound);
            opt_str(&mut a, "community", &b.community);
            if let Some(e) = extras.get(&b.source_id) {
                opt_str(&mut a, "grid", &e.grid);
                if let Some(c) = e.completeness.filter(|c| c.is_finite()) {
                    a.push(Attr::public("completeness", (c * 1000.0).round() / 1000.0));
                }
                a.extend(e.attrs.iter().cloned());
            }
            a.push(Attr::private("households", b.households.count));
            a.push(Attr::private("households_source", b.households.source.as_str()));
            a.push(Attr::private("households_estimated", b.households.is_estimated()));
            if !b.units.is_empty() {
                a.push(Attr::private("units", b.units.len() as u64));
                let s: Vec<String> = b.units.iter().map(|u| format!("{}:{}", u.label, u.households)).collect();
                a.push(Attr::private("unit_households", s.join(";")));
            }
            let geom = match &b.shape {
                Shape::Footprint(mp) => Geom::Areas(crate::layer::project_multipolygon(mp)),
                Shape::Point(p) => {
                    let (x, y) = lonlat_to_merc(p.x(), p.y());
                    Geom::Point(Coord { x, y })
                }
            };
            let f = Feature::new(b.source_id.clone(), geom, a)?;
            Some(f.with_weight(f64::from(b.households.count)))
        })
        .collect();
    FeatureLayer::new(LayerName::Buildings, feats)
}

/// Households per compound, community and street (from the buildings).
fn household_totals(atlas: &Atlas) -> HashMap<String, u64> {
    let l = atlas.layers();
    let parent: HashMap<&str, &str> =
        l.regions.iter().filter_map(|r| Some((r.source_id.as_str(), r.parent.as_deref()?))).collect();
    let mut t: HashMap<String, u64> = HashMap::new();
    for b in &l.buildings {
        let h = u64::from(b.households.count);
        if let Some(c) = &b.compound {
            *t.entry(c.clone()).or_default() += h;
        }
        if let Some(c) = &b.community {
            *t.entry(c.clone()).or_default() += h;
            if let Some(s) = parent.get(c.as_str()) {
                *t.entry((*s).to_string()).or_default() += h;
            }
        }
    }
    t
}

/// The compounds layer: `id`, `name`, `community`; private `households`.
pub fn compounds_layer(atlas: &Atlas) -> FeatureLayer {
    compounds_with(atlas, &household_totals(atlas))
}

fn compounds_with(atlas: &Atlas, totals: &HashMap<String, u64>) -> FeatureLayer {
    let feats = atlas
        .layers()
        .compounds
        .iter()
        .filter_map(|c| {
            let mut a = Vec::new();
            opt_str(&mut a, "name", &c.name);
            opt_str(&mut a, "community", &c.community);
            a.push(Attr::private("households", totals.get(&c.source_id).copied().unwrap_or(0)));
            Feature::from_lonlat(c.source_id.clone(), &geo::Geometry::MultiPolygon(c.area.clone()), a)
        })
        .collect();
    FeatureLayer::new(LayerName::Compounds, feats)
}

/// Communities or streets: `id`, `name`, `code`, `parent`; private `households`.
pub fn regions_layer(atlas: &Atlas, level: RegionLevel) -> FeatureLayer {
    regions_with(atlas, level, &household_totals(atlas))
}

fn regions_with(atlas: &Atlas, level: RegionLevel, totals: &HashMap<String, u64>) -> FeatureLayer {
    let name = if level == RegionLevel::Street { LayerName::Streets } else { LayerName::Communities };
    let feats = atlas
        .layers()
        .regions
        .iter()
        .filter(|r| r.level == level)
        .filter_map(|r| {
            let mut a = vec![Attr::public("name", r.name.as_str())];
            opt_str(&mut a, "code", &r.code);
            opt_str(&mut a, "parent", &r.parent);
            a.push(Attr::private("households", totals.get(&r.source_id).copied().unwrap_or(0)));
            Feature::from_lonlat(r.source_id.clone(), &geo::Geometry::MultiPolygon(r.area.clone()), a)
        })
        .collect();
    FeatureLayer::new(name, feats)
}

/// The facilities layer: `id`, `category`, `name`.
pub fn facilities_layer(atlas: &Atlas) -> FeatureLayer {
    let feats = atlas
        .layers()
        .facilities
        .iter()
        .filter_map(|f| {
            let mut a = vec![Attr::public("category", f.category.as_str())];
            opt_str(&mut a, "name", &f.name);
            Feature::from_lonlat(f.source_id.clone(), &geo::Geometry::Point(f.location), a)
        })
        .collect();
    FeatureLayer::new(LayerName::Facilities, feats)
}

/// The zoom from which a road of this OSM `highway` class is drawn.
pub fn road_min_zoom(class: &str) -> u8 {
    match class {
        "motorway" | "trunk" | "primary" | "motorway_link" | "trunk_link" => 8,
        "primary_link" | "secondary" | "secondary_link" => 10,
        "tertiary" | "tertiary_link" => 11,
        "residential" | "unclassified" | "living_street" | "road" => 12,
        "service" | "pedestrian" | "track" | "busway" => 13,
        _ => 14,
    }
}

/// The walking network: `id`, `highway`, `name`, `private`. Paths and service ways from zoom 14.
pub fn network_layer(atlas: &Atlas) -> FeatureLayer {
    let feats = atlas
        .layers()
        .edges
        .iter()
        .filter_map(|e| {
            let mut a = vec![Attr::public("highway", e.highway.as_str()), Attr::public("private", e.private)];
            opt_str(&mut a, "name", &e.name);
            let f = Feature::from_lonlat(e.source_id.clone(), &geo::Geometry::LineString(e.geometry.clone()), a)?;
            Some(f.with_min_zoom(road_min_zoom(&e.highway).max(13)))
        })
        .collect();
    FeatureLayer::new(LayerName::Network, feats)
}

/// The basemap: `id`, `kind` (road, rail, water, waterway, park, landuse), `class`, `name`.
/// Roads appear by class (primary from zoom 8 … paths from 14), small streams from 12.
pub fn basemap_layer(atlas: &Atlas) -> FeatureLayer {
    let feats = atlas
        .layers()
        .basemap
        .iter()
        .filter_map(|b| {
            let mut a = vec![Attr::public("kind", b.kind.as_str()), Attr::public("class", b.class.as_str())];
            opt_str(&mut a, "name", &b.name);
            let z = match b.kind {
                BasemapKind::Road => road_min_zoom(&b.class),
                BasemapKind::Rail => 10,
                BasemapKind::Waterway if matches!(b.class.as_str(), "river" | "canal") => 8,
                BasemapKind::Waterway => 12,
                BasemapKind::Water => 8,
                BasemapKind::Park | BasemapKind::Landuse => 10,
            };
            Some(Feature::from_lonlat(b.source_id.clone(), &b.geometry, a)?.with_min_zoom(z))
        })
        .collect();
    FeatureLayer::new(LayerName::Basemap, feats)
}

/// The heat layer: every building with households, at its representative point, with the metrics
/// `completeness` and one per facility category named in the extras (1 covered, 0 not).
pub fn heat_layer(atlas: &Atlas, extras: &BuildingExtras) -> HeatLayer {
    let mut cats: Vec<String> = extras.values().flat_map(|e| e.covered.keys().cloned()).collect();
    cats.sort();
    cats.dedup();
    cats.retain(|c| c != COMPLETENESS);
    let mut metrics = vec![COMPLETENESS.to_string()];
    metrics.extend(cats);
    let points: Vec<HeatPoint> = atlas
        .layers()
        .buildings
        .iter()
        .filter(|b| b.households.count > 0)
        .filter_map(|b| {
            let p = representative_point(&b.shape)?;
            let e = extras.get(&b.source_id);
            let values = metrics
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let v = match e {
                        None => None,
                        Some(e) if i == 0 => e.completeness,
                        Some(e) => e.covered.get(m).map(|c| if *c { 1.0 } else { 0.0 }),
                    };
                    v.filter(|v| v.is_finite()).map_or(f32::NAN, |v| v.clamp(0.0, 1.0) as f32)
                })
                .collect();
            Some(crate::heat::heat_point(b.source_id.clone(), p.x(), p.y(), b.households.count, values))
        })
        .collect();
    let centre = atlas.extent().map(|b| b.centre().1).unwrap_or(0.0);
    HeatLayer::new(metrics, points, centre)
}

/// A point inside the building: the centre of its box when that lies inside the footprint (almost
/// always, and far cheaper), else core's interior point.
fn representative_point(shape: &Shape) -> Option<geo::Point<f64>> {
    use geo::{BoundingRect, Intersects};
    if let Shape::Footprint(mp) = shape {
        let c = geo::Point(mp.bounding_rect()?.center());
        if mp.intersects(&c) {
            return Some(c);
        }
    }
    shape.point()
}

/// Every layer of a city, ready for per-tile encoding. Cheap to clone (layers are shared).
#[derive(Debug, Clone)]
pub struct TileSource {
    pub(crate) layers: BTreeMap<LayerName, Arc<FeatureLayer>>,
    pub(crate) grids: BTreeMap<String, Arc<FeatureLayer>>,
    pub(crate) active_plan: Option<String>,
    pub(crate) heat: Arc<HeatLayer>,
    pub(crate) extent: Option<MercBox>,
}

impl Default for TileSource {
    fn default() -> Self {
        let mut layers = BTreeMap::new();
        for name in LayerName::ALL {
            if !matches!(name, LayerName::Grids | LayerName::Heat | LayerName::Cells) {
                layers.insert(name, Arc::new(FeatureLayer::new(name, Vec::new())));
            }
        }
        Self {
            layers,
            grids: BTreeMap::new(),
            active_plan: None,
            heat: Arc::new(HeatLayer::new(vec![COMPLETENESS.to_string()], Vec::new(), 0.0)),
            extent: None,
        }
    }
}

impl TileSource {
    /// Builds every layer from the atlas (projected once, R-trees built once) with the caller's
    /// per-building extras. Grids are added with [`TileSource::with_grids`].
    pub fn from_atlas(atlas: &Atlas, extras: &BuildingExtras) -> Self {
        let mut s = Self::default();
        // Two threads: the buildings and the heat points are about half the work.
        let (mut layers, heat) = std::thread::scope(|scope| {
            let other = scope.spawn(|| {
                let totals = household_totals(atlas);
                vec![
                    compounds_with(atlas, &totals),
                    regions_with(atlas, RegionLevel::Community, &totals),
                    regions_with(atlas, RegionLevel::Street, &totals),
                    facilities_layer(atlas),
                    network_layer(atlas),
                    basemap_layer(atlas),
                ]
            });
            let buildings = buildings_layer(atlas, extras);
            let heat = heat_layer(atlas, extras);
            let mut layers = other.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            layers.push(buildings);
            (layers, heat)
        });
        for l in layers.drain(..) {
            s.layers.insert(l.name(), Arc::new(l));
        }
        s.heat = Arc::new(heat);
        s.extent = atlas.extent().map(|b| MercBox::from_bbox(&b));
        s
    }

    /// Adds (or replaces) the grids of a plan; `active` makes it the plan served when none is named.
    pub fn with_grids(mut self, plan: &str, grids: &[AreaFeature], active: bool) -> Self {
        self.grids.insert(plan.to_string(), Arc::new(grids_layer(grids)));
        if active {
            self.active_plan = Some(plan.to_string());
        }
        self
    }

    /// Replaces one of the feature layers (not grids: see [`TileSource::with_grids`]).
    pub fn with_layer(mut self, layer: FeatureLayer) -> Self {
        if layer.name() == LayerName::Grids {
            return self;
        }
        self.layers.insert(layer.name(), Arc::new(layer));
        self
    }

    /// Replaces the heat layer.
    pub fn with_heat(mut self, heat: HeatLayer) -> Self {
        self.heat = Arc::new(heat);
        self
    }

    /// A feature layer (for grids: of the named plan, else the active one).
    pub fn feature_layer(&self, name: LayerName, variant: Option<&str>) -> Result<&Arc<FeatureLayer>, TileError> {
        if name == LayerName::Grids {
            let plan = self.resolve_variant(name, variant)?;
            return self.grids.get(&plan).ok_or_else(|| TileError::UnknownVariant {
                layer: "grids",
                variant: plan,
                known: self.grids.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        }
        self.layers
            .get(&name)
            .ok_or_else(|| TileError::UnknownLayer { name: name.as_str().to_string(), known: layer_list() })
    }

    /// The heat data.
    pub fn heat(&self) -> &Arc<HeatLayer> {
        &self.heat
    }

    /// The plans whose grids are loaded, and the active one.
    pub fn plans(&self) -> (Vec<&str>, Option<&str>) {
        (self.grids.keys().map(String::as_str).collect(), self.active_plan.as_deref())
    }

    /// The concrete variant a request means: the plan for grids (the active one when none is named),
    /// the metric for heat and cells (`completeness` by default), empty for the other layers.
    pub fn resolve_variant(&self, name: LayerName, variant: Option<&str>) -> Result<String, TileError> {
        match name {
            LayerName::Grids => match variant.filter(|v| !v.is_empty()) {
                Some(p) => Ok(p.to_string()),
                None => self.active_plan.clone().ok_or(TileError::NoActivePlan),
            },
            LayerName::Heat | LayerName::Cells => {
                let i = self.heat.metric_index(variant.filter(|v| !v.is_empty()))?;
                Ok(self.heat.metrics()[i].clone())
            }
            _ => match variant.filter(|v| !v.is_empty()) {
                None => Ok(String::new()),
                Some(v) => Err(TileError::UnknownVariant {
                    layer: name.as_str(),
                    variant: v.to_string(),
                    known: String::new(),
                }),
            },
        }
    }

    /// True when public and signed-in tiles of the layer can differ.
    pub fn has_private(&self, name: LayerName, variant: Option<&str>) -> bool {
        match name {
            LayerName::Heat | LayerName::Cells => true,
            _ => self.feature_layer(name, variant).map(|l| l.has_private()).unwrap_or(true),
        }
    }

    /// The box of the city (buildings and facilities, else the network), Mercator.
    pub fn extent(&self) -> Option<MercBox> {
        self.extent.or_else(|| self.layers.values().filter_map(|l| l.bounds()).reduce(|a, b| a.union(&b)))
    }

    /// The box of one layer's data.
    pub fn layer_bounds(&self, name: LayerName, variant: Option<&str>) -> Option<MercBox> {
        match name {
            LayerName::Heat | LayerName::Cells => self.heat.bounds(),
            _ => self.feature_layer(name, variant).ok().and_then(|l| l.bounds()),
        }
    }

    /// Encodes one tile of one layer (no cache): the MVT bytes, empty when the tile has no features
    /// (or lies below the layer's minimum zoom).
    pub fn encode(
        &self,
        name: LayerName,
        variant: Option<&str>,
        tile: TileId,
        audience: Audience,
    ) -> Result<Vec<u8>, TileError> {
        let layer = match name {
            LayerName::Heat => encode_heat(&self.heat, self.heat.metric_index(variant)?, tile, audience)?,
            LayerName::Cells => encode_cells(&self.heat, self.heat.metric_index(variant)?, tile, audience)?,
            _ => {
                // Zoomed out, a tile can cover a whole city: over the byte budget it is encoded
                // again with coarser simplification and fewer small areas, a few times at most.
                // From full zoom on nothing is dropped, so the budget does not apply there.
                // Last, when areas are still too many (each simple, but thousands of them), only
                // the largest that fit in the budget are kept.
                let layer = self.feature_layer(name, variant)?;
                let mut detail = Detail::FULL;
                let mut steps = 0;
                let mut trimmed = false;
                loop {
                    let encoded = encode_features(layer, tile, audience, detail)?;
                    let (size, written) = encoded.as_ref().map_or((0, 0), |(b, n)| (b.len(), *n));
                    if size <= TILE_BUDGET_BYTES || tile.z >= layer.spec().full_zoom || trimmed {
                        break encoded.map(|(b, _)| b);
                    }
                    if steps < MAX_COARSER_STEPS {
                        detail = detail.coarser();
                        steps += 1;
                        continue;
                    }
                    match largest_areas_floor(layer, tile, size, written, TILE_BUDGET_BYTES) {
                        Some(floor) => {
                            detail.min_area_px2 = floor;
                            trimmed = true;
                        }
                        None => break encoded.map(|(b, _)| b),
                    }
                }
            }
        };
        Ok(layer.unwrap_or_default())
    }
}

/// The size a layer's tile should stay under below full zoom (bytes, uncompressed): a map client
/// fetches a dozen tiles per view over a phone connection.
pub const TILE_BUDGET_BYTES: usize = 500_000;

/// At most this many coarser encodings for a tile over the budget (tolerance up to 4 pixels,
/// areas under 32 × 32 pixels dropped).
const MAX_COARSER_STEPS: u32 = 5;

pub(crate) fn layer_list() -> String {
    LayerName::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ")
}

impl Geom {
    /// Number of vertices (for reports and tests).
    pub fn vertex_count(&self) -> usize {
        match self {
            Geom::Point(_) => 1,
            Geom::Lines(m) => m.0.iter().map(|l| l.0.len()).sum(),
            Geom::Areas(m) => {
                m.0.iter().map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()).sum()
            }
        }
    }
}
