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

fn box_index(items: impl Iterator<Item = Option<Bbox>>) -> BoxIndex {
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
        let facilities_ix = box_index(layers.facilities.iter().map(|f| {
            Some(Bbox {
                min_lon: f.location.x(),
                min_lat: f.location.y(),
                max_lon: f.location.x(),
                max_lat: f.location.y(),
            })
        }));
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

    /// The box around the buildings and facilities (the network's long ways reach far beyond the
    /// area of interest), or around the network when there are neither; `None` for an empty atlas.
    pub fn extent(&self) -> Option<Bbox> {
        let core = [&self.buildings_ix, &self.facilities_ix];
        let any_core = core.iter().any(|ix| ix.size() > 0);
        let sets: Vec<&BoxIndex> = if any_core { core.to_vec() } else { vec![&self.edges_ix] };
        sets.into_iter()
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
            network_length_km: l.edges.iter().map(|e| e.length_m).sum::<f64>() / 1000.0 + 0.0,
            basemap_features: l.basemap.len(),
            population_cells: l.cells.len(),
            population: l.cells.iter().map(|c| c.population).sum::<f64>() + 0.0,
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

/// An R-tree of polygons for point-in-polygon look-ups (communities, compounds, boundaries),
/// built once; answers with the polygons' indexes.
pub struct AreaIndex<'a> {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    areas: Vec<&'a geo::MultiPolygon<f64>>,
}

impl<'a> AreaIndex<'a> {
    /// Indexes `areas` (the answers are positions in this vector).
    pub fn new(areas: Vec<&'a geo::MultiPolygon<f64>>) -> Self {
        let tree = box_index(areas.iter().map(|a| Bbox::of(*a)));
        Self { tree, areas }
    }

    /// Indexes of the areas containing the point (on the outline counts), smallest area first
    /// (ties by index).
    pub fn containing(&self, p: geo::Point<f64>) -> Vec<usize> {
        use geo::{Area, Intersects};
        let mut hits: Vec<usize> = self
            .tree
            .locate_all_at_point(&[p.x(), p.y()])
            .map(|g| g.data)
            .filter(|&i| self.areas[i].intersects(&p))
            .collect();
        hits.sort_by(|&a, &b| self.areas[a].unsigned_area().total_cmp(&self.areas[b].unsigned_area()).then(a.cmp(&b)));
        hits
    }
}

/// An owned R-tree of bounding boxes, built once (per snapshot, per plan version) and kept: which
/// boxes contain a point, as positions in the input order. Exact tests are the caller's (the
/// geometry is not kept here, so the index can live beside the data it indexes).
#[derive(Debug, Clone, Default)]
pub struct BoxTree {
    tree: BoxIndex,
}

impl BoxTree {
    /// Indexes the boxes (`None`: an empty geometry, never found).
    pub fn new(boxes: impl Iterator<Item = Option<Bbox>>) -> Self {
        Self { tree: box_index(boxes) }
    }

    /// Positions of the boxes containing `p` (outline included), in no particular order.
    pub fn at(&self, p: geo::Point<f64>) -> impl Iterator<Item = usize> + '_ {
        self.tree.locate_all_at_point(&[p.x(), p.y()]).map(|g| g.data)
    }
}

impl Layers {
    /// Fills in containment the sources did not state, from geometry: a building's compound and
    /// community, a compound's community, and a region's parent (the smallest enclosing region of a
    /// higher level). A building belongs to the area containing its interior point; a compound or
    /// region to the area containing its interior point. Values already set are kept.
    pub fn assign_containers(&mut self) {
        let communities: Vec<&Region> = self.regions.iter().filter(|r| r.level == RegionLevel::Community).collect();
        let community_ix = AreaIndex::new(communities.iter().map(|r| &r.area).collect());
        let compound_ix = AreaIndex::new(self.compounds.iter().map(|c| &c.area).collect());
        let region_ix = AreaIndex::new(self.regions.iter().map(|r| &r.area).collect());

        let mut building_updates = Vec::new();
        for (i, b) in self.buildings.iter().enumerate() {
            if b.compound.is_some() && b.community.is_some() {
                continue;
            }
            let Some(p) = b.shape.point() else { continue };
            let compound = b
                .compound
                .clone()
                .or_else(|| compound_ix.containing(p).first().map(|&c| self.compounds[c].source_id.clone()));
            let community = b
                .community
                .clone()
                .or_else(|| community_ix.containing(p).first().map(|&c| communities[c].source_id.clone()));
            building_updates.push((i, compound, community));
        }
        let mut compound_updates = Vec::new();
        for (i, c) in self.compounds.iter().enumerate() {
            if c.community.is_some() {
                continue;
            }
            if let Some(p) = crate::geometry::inside_point(&c.area) {
                compound_updates
                    .push((i, community_ix.containing(p).first().map(|&k| communities[k].source_id.clone())));
            }
        }
        let mut region_updates = Vec::new();
        for (i, r) in self.regions.iter().enumerate() {
            if r.parent.is_some() {
                continue;
            }
            let Some(p) = crate::geometry::inside_point(&r.area) else { continue };
            let parent = region_ix
                .containing(p)
                .into_iter()
                .find(|&k| self.regions[k].level < r.level)
                .map(|k| self.regions[k].source_id.clone());
            region_updates.push((i, parent));
        }
        for (i, compound, community) in building_updates {
            self.buildings[i].compound = compound;
            self.buildings[i].community = community;
        }
        for (i, community) in compound_updates {
            self.compounds[i].community = community;
        }
        for (i, parent) in region_updates {
            self.regions[i].parent = parent;
        }
    }
}

impl Layers {
    /// The rows of one dataset (network nodes: the endpoints of its edges), sorted.
    pub fn dataset_part(&self, dataset: &str) -> Layers {
        fn pick<T: InDataset + Clone>(v: &[T], d: &str) -> Vec<T> {
            v.iter().filter(|x| x.dataset() == d).cloned().collect()
        }
        let edges = pick(&self.edges, dataset);
        let ends: std::collections::HashSet<&str> =
            edges.iter().flat_map(|e| [e.from.as_str(), e.to.as_str()]).collect();
        let mut part = Layers {
            buildings: pick(&self.buildings, dataset),
            compounds: pick(&self.compounds, dataset),
            regions: pick(&self.regions, dataset),
            facilities: pick(&self.facilities, dataset),
            nodes: self.nodes.iter().filter(|n| ends.contains(n.source_id.as_str())).cloned().collect(),
            edges: Vec::new(),
            basemap: pick(&self.basemap, dataset),
            cells: pick(&self.cells, dataset),
            register: pick(&self.register, dataset),
        };
        part.edges = edges;
        part.sort();
        part
    }

    /// The names of all datasets that have rows, sorted.
    pub fn dataset_names(&self) -> Vec<String> {
        let mut names: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        names.extend(self.buildings.iter().map(|x| x.dataset()));
        names.extend(self.compounds.iter().map(|x| x.dataset()));
        names.extend(self.regions.iter().map(|x| x.dataset()));
        names.extend(self.facilities.iter().map(|x| x.dataset()));
        names.extend(self.edges.iter().map(|x| x.dataset()));
        names.extend(self.basemap.iter().map(|x| x.dataset()));
        names.extend(self.cells.iter().map(|x| x.dataset()));
        names.extend(self.register.iter().map(|x| x.dataset()));
        names.into_iter().map(String::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, Point, polygon};

    fn square(x: f64, y: f64, s: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![(x: x, y: y), (x: x + s, y: y), (x: x + s, y: y + s), (x: x, y: y + s)]])
    }

    fn building(id: &str, x: f64, y: f64, ds: &str) -> Building {
        Building {
            source_id: id.into(),
            dataset: ds.into(),
            shape: Shape::Point(Point::new(x, y)),
            kind: "residential".into(),
            name: None,
            levels: None,
            households: Households::default(),
            units: vec![],
            compound: None,
            community: None,
            residential: true,
        }
    }

    fn region(id: &str, level: RegionLevel, area: MultiPolygon<f64>) -> Region {
        Region { source_id: id.into(), dataset: "b".into(), level, name: id.into(), code: None, parent: None, area }
    }

    #[test]
    fn containment_picks_the_smallest_enclosing_area_of_each_kind() {
        let mut l = Layers {
            buildings: vec![
                building("b1", 0.5, 0.5, "a"),
                building("b2", 5.5, 5.5, "a"),
                building("b3", 50.0, 50.0, "a"),
            ],
            compounds: vec![Compound {
                source_id: "c1".into(),
                dataset: "b".into(),
                name: None,
                area: square(0.0, 0.0, 1.0),
                community: None,
            }],
            regions: vec![
                region("street", RegionLevel::Street, square(0.0, 0.0, 20.0)),
                region("comm1", RegionLevel::Community, square(0.0, 0.0, 4.0)),
                region("comm2", RegionLevel::Community, square(4.0, 4.0, 4.0)),
            ],
            ..Default::default()
        };
        l.assign_containers();
        assert_eq!(l.buildings[0].compound.as_deref(), Some("c1"));
        assert_eq!(l.buildings[0].community.as_deref(), Some("comm1"));
        assert_eq!(l.buildings[1].compound, None);
        assert_eq!(l.buildings[1].community.as_deref(), Some("comm2"));
        assert_eq!(l.buildings[2].community, None);
        assert_eq!(l.compounds[0].community.as_deref(), Some("comm1"));
        assert_eq!(l.regions[1].parent.as_deref(), Some("street"));
        assert_eq!(l.regions[0].parent, None);
    }

    #[test]
    fn replacing_a_dataset_removes_its_old_rows_and_takes_over_shared_ids() {
        let mut l = Layers {
            buildings: vec![
                building("b1", 0.0, 0.0, "a"),
                building("b2", 0.0, 0.0, "a"),
                building("x", 0.0, 0.0, "other"),
            ],
            ..Default::default()
        };
        let new = Layers {
            buildings: vec![building("b2", 1.0, 1.0, "a"), building("x", 2.0, 2.0, "a")],
            ..Default::default()
        };
        l.replace_dataset("a", new);
        l.sort();
        let ids: Vec<(&str, &str)> = l.buildings.iter().map(|b| (b.source_id.as_str(), b.dataset.as_str())).collect();
        assert_eq!(ids, [("b2", "a"), ("x", "a")]);
    }

    #[test]
    fn register_rows_override_households_per_unit_or_per_building() {
        let reg = |b: &str, u: Option<&str>, n: u32| RegisterEntry {
            building: b.into(),
            unit: u.map(Into::into),
            households: n,
            dataset: "r".into(),
        };
        let mut b1 = building("b1", 0.0, 0.0, "a");
        b1.households = Households::new(99, HouseholdSource::EstimateFloorArea);
        let l = Layers {
            buildings: vec![b1, building("b2", 0.0, 0.0, "a"), building("b3", 0.0, 0.0, "a")],
            register: vec![reg("b1", Some("2"), 10), reg("b1", Some("1"), 12), reg("b2", None, 7)],
            ..Default::default()
        };
        let a = Atlas::new(l);
        let b = &a.layers().buildings;
        assert_eq!(b[0].households, Households::new(22, HouseholdSource::Register));
        assert_eq!(b[0].units.iter().map(|u| u.label.as_str()).collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(b[1].households, Households::new(7, HouseholdSource::Register));
        assert_eq!(b[2].households.source, HouseholdSource::None);
        let s = a.stats();
        assert_eq!((s.households, s.households_estimated, s.register_rows), (29, 0, 3));
    }
}
