//! The in-memory model of a city: [`Layers`] (plain data, what the store saves and loads) and
//! [`Atlas`] (layers in a canonical order with the register applied and spatial indexes built once).

use crate::geometry::Bbox;
use crate::model::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Everything wangge knows about a city, as plain vectors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layers {
    /// Buildings.
    pub buildings: Vec<Building>,
    /// Compounds (小区).
    pub compounds: Vec<Compound>,
    /// Districts, streets and communities.
    pub regions: Vec<Region>,
    /// Facilities.
    pub facilities: Vec<Facility>,
    /// Walking network nodes.
    pub nodes: Vec<NetNode>,
    /// Walking network edges.
    pub edges: Vec<NetEdge>,
    /// Basemap features (roads, rail, water, parks, land use).
    pub basemap: Vec<BasemapFeature>,
    /// Population grid cells.
    pub cells: Vec<PopulationCell>,
    /// Household register rows.
    pub register: Vec<RegisterEntry>,
}

/// The dataset of every entity, so that replacement can be written once for all layers.
trait InDataset {
    fn dataset(&self) -> &str;
    fn key(&self) -> String;
}

macro_rules! in_dataset {
    ($($t:ty => |$s:ident| $key:expr),* $(,)?) => {$(
        impl InDataset for $t {
            fn dataset(&self) -> &str { &self.dataset }
            fn key(&self) -> String { let $s = self; $key }
        }
    )*};
}

in_dataset! {
    Building => |s| s.source_id.clone(),
    Compound => |s| s.source_id.clone(),
    Region => |s| s.source_id.clone(),
    Facility => |s| s.source_id.clone(),
    NetEdge => |s| s.source_id.clone(),
    BasemapFeature => |s| s.source_id.clone(),
    PopulationCell => |s| s.source_id.clone(),
    RegisterEntry => |s| format!("{}\u{1f}{}", s.building, s.unit.clone().unwrap_or_default()),
}

/// Drops the rows of `dataset`, then adds `new`, replacing rows of other datasets with the same key.
fn replace<T: InDataset>(old: &mut Vec<T>, dataset: &str, new: Vec<T>) {
    let keys: std::collections::HashSet<String> = new.iter().map(InDataset::key).collect();
    old.retain(|x| x.dataset() != dataset && !keys.contains(&x.key()));
    old.extend(new);
}

impl Layers {
    /// Replaces everything imported from `dataset` by `new` (whose rows must all carry that dataset
    /// name). A row of another dataset with the same source id is taken over by the new one.
    /// Network nodes no edge refers to any more are dropped.
    pub fn replace_dataset(&mut self, dataset: &str, new: Layers) {
        replace(&mut self.buildings, dataset, new.buildings);
        replace(&mut self.compounds, dataset, new.compounds);
        replace(&mut self.regions, dataset, new.regions);
        replace(&mut self.facilities, dataset, new.facilities);
        replace(&mut self.edges, dataset, new.edges);
        replace(&mut self.basemap, dataset, new.basemap);
        replace(&mut self.cells, dataset, new.cells);
        replace(&mut self.register, dataset, new.register);
        let mut nodes: BTreeMap<String, NetNode> =
            self.nodes.drain(..).chain(new.nodes).map(|n| (n.source_id.clone(), n)).collect();
        let used: std::collections::HashSet<&str> =
            self.edges.iter().flat_map(|e| [e.from.as_str(), e.to.as_str()]).collect();
        nodes.retain(|k, _| used.contains(k.as_str()));
        self.nodes = nodes.into_values().collect();
    }

    /// Sorts every layer by source id (register rows by building, then unit), the canonical order
    /// in which stores return and exports write them.
    pub fn sort(&mut self) {
        self.buildings.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        self.compounds.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        self.regions.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        self.facilities.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        self.nodes.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        self.edges.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        self.basemap.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        self.cells.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        self.register.sort_by(|a, b| (&a.building, &a.unit).cmp(&(&b.building, &b.unit)));
    }

    /// Register rows naming a building that does not exist, as (row index, building id).
    pub fn register_orphans(&self) -> Vec<(usize, String)> {
        let ids: std::collections::HashSet<&str> = self.buildings.iter().map(|b| b.source_id.as_str()).collect();
        self.register
            .iter()
            .enumerate()
            .filter(|(_, r)| !ids.contains(r.building.as_str()))
            .map(|(i, r)| (i, r.building.clone()))
            .collect()
    }
}

/// Applies register rows to buildings: a building with register rows takes its households from
/// them (per unit when the rows name units, the building total otherwise), marked `Register`.
fn apply_register(buildings: &mut [Building], register: &[RegisterEntry]) {
    let mut by_building: HashMap<&str, Vec<&RegisterEntry>> = HashMap::new();
    for r in register {
        by_building.entry(r.building.as_str()).or_default().push(r);
    }
    for b in buildings.iter_mut() {
        let Some(rows) = by_building.get(b.source_id.as_str()) else { continue };
        let (whole, units): (Vec<&&RegisterEntry>, Vec<&&RegisterEntry>) = rows.iter().partition(|r| r.unit.is_none());
        if !units.is_empty() {
            let mut us: Vec<Unit> = units
                .iter()
                .map(|r| Unit { label: r.unit.clone().unwrap_or_default(), households: r.households })
                .collect();
            us.sort_by(|a, b| a.label.cmp(&b.label));
            let total: u32 = us.iter().map(|u| u.households).sum();
            b.units = us;
            b.households = Households::new(total, HouseholdSource::Register);
        } else if let Some(r) = whole.last() {
            b.households = Households::new(r.households, HouseholdSource::Register);
        }
    }
}

type BoxIndex = RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>;

fn box_index<'a>(items: impl Iterator<Item = Option<Bbox>>) -> BoxIndex {
    RTree::bulk_load(
        items
            .enumerate()
            .filter_map(|(i, b)| {
                b.map(|b| GeomWithData::new(Rectangle::from_corners([b.min_lon, b.min_lat], [b.max_lon, b.max_lat]), i))
            })
            .collect(),
    )
}

fn shape_bbox(s: &Shape) -> Option<Bbox> {
    match s {
        Shape::Footprint(mp) => Bbox::of(mp),
        Shape::Point(p) => Some(Bbox { min_lon: p.x(), min_lat: p.y(), max_lon: p.x(), max_lat: p.y() }),
    }
}

/// Layers in canonical order with the register applied, and R-trees built once.
#[derive(Debug)]
pub struct Atlas {
    layers: Layers,
    buildings_ix: BoxIndex,
    facilities_ix: BoxIndex,
    basemap_ix: BoxIndex,
    edges_ix: BoxIndex,
}

impl Atlas {
    /// Builds the atlas: sorts the layers, applies the register, builds the spatial indexes.
    pub fn new(mut layers: Layers) -> Self {
        layers.sort();
        apply_register(&mut layers.buildings, &layers.register);
        let buildings_ix = box_index(layers.buildings.iter().map(|b| shape_bbox(&b.shape)));
        let facilities_ix = box_index(
            layers.facilities.iter().map(|f| Some(Bbox { min_lon: f.location.x(), min_lat: f.location.y(), max_lon: f.location.x(), max_lat: f.location.y() })),
        );
        let basemap_ix = box_index(layers.basemap.iter().map(|f| Bbox::of(&f.geometry)));
        let edges_ix = box_index(layers.edges.iter().map(|e| Bbox::of(&e.geometry)));
        Self { layers, buildings_ix, facilities_ix, basemap_ix, edges_ix }
    }

    /// The layers (sorted, register applied).
    pub fn layers(&self) -> &Layers {
        &self.layers
    }

    /// Gives the layers back.
    pub fn into_layers(self) -> Layers {
        self.layers
    }

    fn query<'a, T>(ix: &'a BoxIndex, items: &'a [T], bbox: &Bbox) -> Vec<&'a T> {
        let env: AABB<[f64; 2]> = bbox.envelope();
        let mut hits: Vec<usize> = ix.locate_in_envelope_intersecting(&env).map(|g| g.data).collect();
        hits.sort_unstable();
        hits.into_iter().map(|i| &items[i]).collect()
    }

    /// Buildings whose bounding box meets `bbox`, in source-id order.
    pub fn buildings_in(&self, bbox: &Bbox) -> Vec<&Building> {
        Self::query(&self.buildings_ix, &self.layers.buildings, bbox)
    }

    /// Facilities inside `bbox`, in source-id order.
    pub fn facilities_in(&self, bbox: &Bbox) -> Vec<&Facility> {
        Self::query(&self.facilities_ix, &self.layers.facilities, bbox)
    }

    /// Basemap features whose bounding box meets `bbox`, in source-id order.
    pub fn basemap_in(&self, bbox: &Bbox) -> Vec<&BasemapFeature> {
        Self::query(&self.basemap_ix, &self.layers.basemap, bbox)
    }

    /// Network edges whose bounding box meets `bbox`, in source-id order.
    pub fn edges_in(&self, bbox: &Bbox) -> Vec<&NetEdge> {
        Self::query(&self.edges_ix, &self.layers.edges, bbox)
    }

    /// The box around all buildings, facilities and network edges, if there are any.
    pub fn extent(&self) -> Option<Bbox> {
        [&self.buildings_ix, &self.facilities_ix, &self.edges_ix]
            .iter()
            .filter(|ix| ix.size() > 0)
            .map(|ix| {
                let e = ix.root().envelope();
                Bbox { min_lon: e.lower()[0], min_lat: e.lower()[1], max_lon: e.upper()[0], max_lat: e.upper()[1] }
            })
            .reduce(|a, b| a.union(&b))
    }

    /// Counts of everything in the atlas.
    pub fn stats(&self) -> Stats {
        let l = &self.layers;
        let mut facilities_by_category = BTreeMap::new();
        for f in &l.facilities {
            *facilities_by_category.entry(f.category.clone()).or_insert(0usize) += 1;
        }
        let count_level = |lv: RegionLevel| l.regions.iter().filter(|r| r.level == lv).count();
        let mut households_by_source = BTreeMap::new();
        for b in &l.buildings {
            *households_by_source.entry(b.households.source.as_str().to_string()).or_insert(0u64) +=
                u64::from(b.households.count);
        }
        Stats {
            buildings: l.buildings.len(),
            residential_buildings: l.buildings.iter().filter(|b| b.residential).count(),
            buildings_with_households: l.buildings.iter().filter(|b| b.households.count > 0).count(),
            buildings_estimated: l.buildings.iter().filter(|b| b.households.is_estimated()).count(),
            households: l.buildings.iter().map(|b| u64::from(b.households.count)).sum(),
            households_estimated: l
                .buildings
                .iter()
                .filter(|b| b.households.is_estimated())
                .map(|b| u64::from(b.households.count))
                .sum(),
            households_by_source,
            units: l.buildings.iter().map(|b| b.units.len()).sum(),
            compounds: l.compounds.len(),
            districts: count_level(RegionLevel::District),
            streets: count_level(RegionLevel::Street),
            communities: count_level(RegionLevel::Community),
            facilities: l.facilities.len(),
            facilities_by_category,
            network_nodes: l.nodes.len(),
            network_edges: l.edges.len(),
            network_length_km: l.edges.iter().map(|e| e.length_m).sum::<f64>() / 1000.0,
            basemap_features: l.basemap.len(),
            population_cells: l.cells.len(),
            population: l.cells.iter().map(|c| c.population).sum(),
            register_rows: l.register.len(),
        }
    }
}

/// Counts of an atlas, as `wangge stats` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Buildings.
    pub buildings: usize,
    /// Buildings taken to be residential.
    pub residential_buildings: usize,
    /// Buildings with at least one household.
    pub buildings_with_households: usize,
    /// Buildings whose households are estimated.
    pub buildings_estimated: usize,
    /// Total households.
    pub households: u64,
    /// Households that are estimated.
    pub households_estimated: u64,
    /// Households by source (`register`, `declared`, `estimate_population_grid`, `estimate_floor_area`, `none`).
    pub households_by_source: BTreeMap<String, u64>,
    /// Units across all buildings.
    pub units: usize,
    /// Compounds.
    pub compounds: usize,
    /// Districts.
    pub districts: usize,
    /// Streets.
    pub streets: usize,
    /// Communities.
    pub communities: usize,
    /// Facilities.
    pub facilities: usize,
    /// Facilities by category id.
    pub facilities_by_category: BTreeMap<String, usize>,
    /// Walking network nodes.
    pub network_nodes: usize,
    /// Walking network edges.
    pub network_edges: usize,
    /// Walking network length in km.
    pub network_length_km: f64,
    /// Basemap features.
    pub basemap_features: usize,
    /// Population grid cells.
    pub population_cells: usize,
    /// Residents in population cells.
    pub population: f64,
    /// Household register rows.
    pub register_rows: usize,
}
