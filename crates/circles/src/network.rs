//! The network as the engine uses it: the [`WalkGraph`] plus an R-tree of its edge segments in the
//! local metric frame for snapping, and the compounds that decide which paths a point may use.
//!
//! # Snapping
//! A point (a building's representative point — its entrance once the model has one — a facility,
//! a resident's location) joins the network at the nearest point of the nearest walkable edge
//! *segment*, measured in the local frame. The snap distance is kept and walked at both ends.
//! Points farther than [`NetworkOptions::max_snap_m`] (default 300 m) from every edge they may use
//! are not placed ([`SnapFailure::TooFar`]) and count as unreachable.
//!
//! **Gated compounds.** A segment lies inside a compound when its midpoint is strictly inside the
//! compound's outline (the smallest such compound). A point inside a compound snaps to a segment
//! inside that compound when one is within the limit (the compound's own, often private, paths);
//! otherwise, like a point outside every compound, to the nearest segment that lies in no compound
//! other than the ones containing the point. Nobody walks through a compound's wall: entry is where
//! the compound's paths meet the street, so the graph itself stays as imported.

use crate::CirclesError;
use crate::graph::{NONE, WalkGraph};
use geo::{Contains, Coord, Intersects, MultiPolygon, Point};
use rayon::prelude::*;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line, Rectangle};
use wangge_core::geometry::Bbox;
use wangge_core::projection::LocalFrame;
use wangge_core::{Building, Catalogue, Compound, Facility, Layers};

/// Components shorter than this (metres of ways, in all) are islands that a point asked about
/// directly steps over ([`Network::snap_point`]).
pub const ISLAND_M: f64 = 1000.0;

/// Options of the network.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkOptions {
    /// Points farther than this from every edge they may use are not placed, metres. Default 300.
    pub max_snap_m: f64,
    /// Apply the gated-compound rule (see the [module docs](self)). Default true.
    pub respect_compounds: bool,
    /// The local metric frame as a proj string; by default the one for the network's centre.
    pub frame: Option<String>,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        Self { max_snap_m: 300.0, respect_compounds: true, frame: None }
    }
}

/// Why a point was not placed on the network.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum SnapFailure {
    /// The building has no location (an empty footprint).
    #[error("it has no location")]
    NoLocation,
    /// No edge the point may use lies within the snap limit.
    #[error("no walkable edge it may use lies within the snap limit (nearest edge of any kind: {})",
        nearest_m.map(|d| format!("{d:.0} m")).unwrap_or_else(|| "none".into()))]
    TooFar {
        /// Distance to the nearest edge of any kind, metres.
        nearest_m: Option<f64>,
    },
}

/// A point placed on the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// The original edge (index into the `edges` the network was built from).
    pub edge: usize,
    /// Distance along that edge from its `from` node to the snapped point, metres (on the same
    /// scale as the edge's `length_m`).
    pub offset_m: f64,
    /// Straight distance from the point to the snapped point, metres (local frame).
    pub distance_m: f64,
    /// The snapped point on the edge (lon/lat).
    pub point: Point<f64>,
    /// The point that was placed (lon/lat).
    pub location: Point<f64>,
    pub(crate) chain: u32,
    pub(crate) chain_offset: f64,
}

/// Many points placed at once: one result per point, in input order.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    snaps: Vec<Result<Snap, SnapFailure>>,
}

impl Origins {
    /// Wraps placements (e.g. made one by one with [`Network::snap_point`]).
    pub fn from_snaps(snaps: Vec<Result<Snap, SnapFailure>>) -> Self {
        Self { snaps }
    }
    /// Number of points.
    pub fn len(&self) -> usize {
        self.snaps.len()
    }
    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.snaps.is_empty()
    }
    /// The placement of point `i`.
    pub fn get(&self, i: usize) -> Option<&Result<Snap, SnapFailure>> {
        self.snaps.get(i)
    }
    /// All placements.
    pub fn snaps(&self) -> &[Result<Snap, SnapFailure>] {
        &self.snaps
    }
    /// Indexes of the points that could not be placed, with why.
    pub fn failures(&self) -> Vec<(usize, SnapFailure)> {
        self.snaps.iter().enumerate().filter_map(|(i, s)| s.as_ref().err().map(|f| (i, *f))).collect()
    }
}

/// A category of the catalogue as the engine keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryInfo {
    /// Stable id, e.g. `kindergarten`.
    pub id: String,
    /// Coverage threshold (walking-network distance), metres.
    pub distance_m: f64,
    /// Weight in the completeness score.
    pub weight: f64,
}

/// A facility placed on the network.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedFacility {
    /// Source id.
    pub source_id: String,
    /// Name, if any.
    pub name: Option<String>,
    /// Index of its category in [`FacilitySet::categories`].
    pub category: usize,
    /// Location (lon/lat).
    pub location: Point<f64>,
    /// Where it joins the network.
    pub snap: Result<Snap, SnapFailure>,
}

/// The facilities of a city placed on a network, by category.
#[derive(Debug, Clone)]
pub struct FacilitySet {
    categories: Vec<CategoryInfo>,
    facilities: Vec<PlacedFacility>,
    by_category: Vec<Vec<u32>>,
    /// Per category, the sorted components holding a placed facility of it.
    components: Vec<Vec<u32>>,
    /// Placed facilities by chain (CSR).
    chain_first: Vec<u32>,
    chain_fac: Vec<u32>,
}

impl FacilitySet {
    /// The catalogue's categories, in catalogue order.
    pub fn categories(&self) -> &[CategoryInfo] {
        &self.categories
    }
    /// Index of category `id`, or an error naming it and listing the known ones.
    pub fn category_index(&self, id: &str) -> Result<usize, CirclesError> {
        self.categories.iter().position(|c| c.id == id).ok_or_else(|| CirclesError::UnknownCategory {
            id: id.to_string(),
            known: self.categories.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", "),
        })
    }
    /// Every facility, in input order.
    pub fn facilities(&self) -> &[PlacedFacility] {
        &self.facilities
    }
    /// Indexes of the facilities of category `c` (placed or not).
    pub fn of_category(&self, c: usize) -> &[u32] {
        self.by_category.get(c).map(Vec::as_slice).unwrap_or(&[])
    }
    /// Facilities that could not be placed, with why.
    pub fn failures(&self) -> Vec<(usize, SnapFailure)> {
        self.facilities.iter().enumerate().filter_map(|(i, f)| f.snap.as_ref().err().map(|e| (i, *e))).collect()
    }
    pub(crate) fn has_in_component(&self, c: usize, comp: usize) -> bool {
        self.components.get(c).is_some_and(|v| v.binary_search(&(comp as u32)).is_ok())
    }
    pub(crate) fn placed_count(&self, c: usize) -> usize {
        self.of_category(c).iter().filter(|&&f| self.facilities[f as usize].snap.is_ok()).count()
    }
    /// Placed facilities on chain `ch`.
    #[inline]
    pub(crate) fn on_chain(&self, ch: u32) -> &[u32] {
        let ch = ch as usize;
        match (self.chain_first.get(ch), self.chain_first.get(ch + 1)) {
            (Some(&a), Some(&b)) => &self.chain_fac[a as usize..b as usize],
            _ => &[],
        }
    }
    pub(crate) fn snap_of(&self, f: u32) -> Option<&Snap> {
        self.facilities[f as usize].snap.as_ref().ok()
    }
    pub(crate) fn category_of(&self, f: u32) -> usize {
        self.facilities[f as usize].category
    }
}

/// Owned compound outlines with an R-tree of their boxes.
#[derive(Debug, Default)]
struct CompoundIndex {
    ids: Vec<String>,
    areas: Vec<MultiPolygon<f64>>,
    size: Vec<f64>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
}

impl CompoundIndex {
    fn new(compounds: &[Compound]) -> Self {
        use geo::Area;
        let mut s = Self::default();
        let mut boxes = Vec::new();
        for c in compounds {
            let Some(b) = Bbox::of(&c.area) else { continue };
            let i = s.ids.len() as u32;
            s.ids.push(c.source_id.clone());
            s.size.push(c.area.unsigned_area());
            s.areas.push(c.area.clone());
            boxes.push(GeomWithData::new(Rectangle::from_corners([b.min_lon, b.min_lat], [b.max_lon, b.max_lat]), i));
        }
        s.tree = RTree::bulk_load(boxes);
        s
    }

    /// Compounds containing `p` (outline included), smallest first.
    fn containing(&self, p: Point<f64>) -> Vec<u32> {
        let mut hits: Vec<u32> = self
            .tree
            .locate_all_at_point(&[p.x(), p.y()])
            .map(|g| g.data)
            .filter(|&i| self.areas[i as usize].intersects(&p))
            .collect();
        hits.sort_by(|&a, &b| self.size[a as usize].total_cmp(&self.size[b as usize]).then(a.cmp(&b)));
        hits
    }

    /// The smallest compound strictly containing `p`.
    fn strictly_containing(&self, p: Point<f64>) -> u32 {
        self.tree
            .locate_all_at_point(&[p.x(), p.y()])
            .map(|g| g.data)
            .filter(|&i| self.areas[i as usize].contains(&p))
            .min_by(|&a, &b| self.size[a as usize].total_cmp(&self.size[b as usize]).then(a.cmp(&b)))
            .unwrap_or(NONE)
    }
}

type SegmentTree = RTree<GeomWithData<Line<[f64; 2]>, u32>>;

/// The walking network with its snapping index. See the [module docs](self).
#[derive(Debug)]
pub struct Network {
    graph: WalkGraph,
    segments: SegmentTree,
    /// Per segment start vertex: the compound it lies in, or NONE. Empty when there are no compounds.
    seg_compound: Vec<u32>,
    compounds: CompoundIndex,
    options: NetworkOptions,
    /// Idle searchers (see [`Network::with_searcher`]).
    pub(crate) pool: std::sync::Mutex<Vec<crate::services::SearchBuffers>>,
}

impl Network {
    /// Builds the network from the walking network's nodes and edges and the city's compounds.
    pub fn build(
        nodes: &[wangge_core::NetNode],
        edges: &[wangge_core::NetEdge],
        compounds: &[Compound],
        options: &NetworkOptions,
    ) -> Result<Self, CirclesError> {
        if !(options.max_snap_m.is_finite() && options.max_snap_m >= 0.0) {
            return Err(CirclesError::InvalidParameter {
                name: "max_snap_m",
                reason: format!("must be a non-negative number of metres, got {}", options.max_snap_m),
            });
        }
        let frame = options.frame.as_deref().map(LocalFrame::from_definition).transpose()?;
        let graph = WalkGraph::build(nodes, edges, frame)?;
        let mut segs = Vec::with_capacity(graph.xy.len());
        for e in 0..graph.edge_count() {
            if graph.edge_chain[e] == NONE {
                continue;
            }
            for v in graph.edge_vertices(e).start..graph.edge_vertices(e).end - 1 {
                let (p, q) = (graph.xy[v], graph.xy[v + 1]);
                segs.push(GeomWithData::new(Line::new([p.x, p.y], [q.x, q.y]), v as u32));
            }
        }
        let segments = RTree::bulk_load(segs);
        let compounds = CompoundIndex::new(if options.respect_compounds { compounds } else { &[] });
        let seg_compound = if compounds.ids.is_empty() {
            Vec::new()
        } else {
            (0..graph.lonlat.len())
                .into_par_iter()
                .with_min_len(1024)
                .map(|v| {
                    let e = graph.edge_of_vertex(v);
                    if v + 1 >= graph.edge_vertices(e).end {
                        return NONE;
                    }
                    let (p, q) = (graph.lonlat[v], graph.lonlat[v + 1]);
                    compounds.strictly_containing(Point::new((p.x + q.x) / 2.0, (p.y + q.y) / 2.0))
                })
                .collect()
        };
        Ok(Self { graph, segments, seg_compound, compounds, options: options.clone(), pool: Default::default() })
    }

    /// Builds the network of a city's layers (its nodes, edges and compounds).
    pub fn from_layers(layers: &Layers, options: &NetworkOptions) -> Result<Self, CirclesError> {
        Self::build(&layers.nodes, &layers.edges, &layers.compounds, options)
    }

    /// The walking graph.
    pub fn graph(&self) -> &WalkGraph {
        &self.graph
    }

    /// The options the network was built with.
    pub fn options(&self) -> &NetworkOptions {
        &self.options
    }

    /// Source id of a compound by its index (as reported for segments).
    pub fn compound_id(&self, i: usize) -> Option<&str> {
        self.compounds.ids.get(i).map(String::as_str)
    }

    /// The compound original edge `e` lies in (its first segment's), if any.
    pub fn edge_compound(&self, e: usize) -> Option<&str> {
        if *self.graph.edge_chain.get(e)? == NONE {
            return None;
        }
        let v = self.graph.edge_vertices(e).start;
        let c = *self.seg_compound.get(v)?;
        (c != NONE).then(|| self.compounds.ids[c as usize].as_str())
    }

    fn snap_xy(&self, location: Point<f64>, own: &[u32]) -> Result<Snap, SnapFailure> {
        let Ok((x, y)) = self.graph.frame().forward(location.x(), location.y()) else {
            return Err(SnapFailure::TooFar { nearest_m: None });
        };
        let q = [x, y];
        let limit2 = self.options.max_snap_m * self.options.max_snap_m;
        let label = |v: u32| self.seg_compound.get(v as usize).copied().unwrap_or(NONE);
        let found = if self.seg_compound.is_empty() {
            self.segments.nearest_neighbor_iter_with_distance_2(&q).next().filter(|(_, d2)| *d2 <= limit2)
        } else {
            let mut own_path = None;
            if let Some(&mine) = own.first() {
                own_path = self
                    .segments
                    .nearest_neighbor_iter_with_distance_2(&q)
                    .take_while(|(_, d2)| *d2 <= limit2)
                    .find(|(s, _)| label(s.data) == mine);
            }
            own_path.or_else(|| {
                self.segments.nearest_neighbor_iter_with_distance_2(&q).take_while(|(_, d2)| *d2 <= limit2).find(
                    |(s, _)| {
                        let l = label(s.data);
                        l == NONE || own.contains(&l)
                    },
                )
            })
        };
        let Some((seg, _)) = found else {
            let nearest_m = self.segments.nearest_neighbor_iter_with_distance_2(&q).next().map(|(_, d2)| d2.sqrt());
            return Err(SnapFailure::TooFar { nearest_m });
        };
        Ok(self.snap_on_segment(seg.data, Coord { x, y }, location))
    }

    /// The snap of local point `q` onto the segment starting at vertex `v`.
    fn snap_on_segment(&self, v: u32, q: Coord<f64>, location: Point<f64>) -> Snap {
        let g = &self.graph;
        let vi = v as usize;
        let e = g.edge_of_vertex(vi);
        let (p0, p1) = (g.xy[vi], g.xy[vi + 1]);
        let d = p1 - p0;
        let l2 = d.x * d.x + d.y * d.y;
        let t = if l2 > 0.0 { (((q.x - p0.x) * d.x + (q.y - p0.y) * d.y) / l2).clamp(0.0, 1.0) } else { 0.0 };
        let on = Coord { x: p0.x + d.x * t, y: p0.y + d.y * t };
        let distance_m = ((q.x - on.x).powi(2) + (q.y - on.y).powi(2)).sqrt();
        let offset_m = (g.cum[vi] + t * (g.cum[vi + 1] - g.cum[vi])).clamp(0.0, g.edge_len[e]);
        let (a, b) = (g.lonlat[vi], g.lonlat[vi + 1]);
        let point = Point::new(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
        Snap {
            edge: e,
            offset_m,
            distance_m,
            point,
            location,
            chain: g.edge_chain[e],
            chain_offset: g.chain_offset(e, offset_m),
        }
    }

    /// Places one point. `compound` names the compound the point belongs to when known (a
    /// building's `compound`); the compounds containing the point are found from geometry anyway.
    pub fn snap(&self, p: Point<f64>, compound: Option<&str>) -> Result<Snap, SnapFailure> {
        if !(p.x().is_finite() && p.y().is_finite()) {
            return Err(SnapFailure::NoLocation);
        }
        let mut own = if self.seg_compound.is_empty() { Vec::new() } else { self.compounds.containing(p) };
        if let Some(id) = compound
            && let Some(i) = self.compounds.ids.iter().position(|c| c == id)
            && !own.contains(&(i as u32))
        {
            own.insert(0, i as u32);
        }
        self.snap_xy(p, &own)
    }

    /// Places one point asked about directly (a resident's position), or fails with
    /// [`CirclesError::NotOnNetwork`]. Unlike [`Network::snap`], it steps over islands: a scrap of
    /// path cut off from the rest in the data (shorter than [`ISLAND_M`] and not the main
    /// component) is skipped when a larger component is within the snapping limit, so a resident
    /// standing beside one is not told nothing can be reached.
    pub fn snap_point(&self, p: Point<f64>) -> Result<Snap, CirclesError> {
        let first =
            self.snap(p, None).map_err(|failure| CirclesError::NotOnNetwork { lon: p.x(), lat: p.y(), failure })?;
        if !self.is_island(self.component_of(&first)) {
            return Ok(first);
        }
        let Ok((x, y)) = self.graph.frame().forward(p.x(), p.y()) else { return Ok(first) };
        let limit2 = self.options.max_snap_m * self.options.max_snap_m;
        let own = if self.seg_compound.is_empty() { Vec::new() } else { self.compounds.containing(p) };
        let label = |v: u32| self.seg_compound.get(v as usize).copied().unwrap_or(NONE);
        let better = self
            .segments
            .nearest_neighbor_iter_with_distance_2(&[x, y])
            .take_while(|(_, d2)| *d2 <= limit2)
            .filter(|(s, _)| {
                let l = label(s.data);
                l == NONE || own.contains(&l)
            })
            .map(|(s, _)| self.snap_on_segment(s.data, Coord { x, y }, p))
            .find(|snap| !self.is_island(self.component_of(snap)));
        Ok(better.unwrap_or(first))
    }

    /// True for a component other than the main one whose ways are shorter than [`ISLAND_M`] in all.
    fn is_island(&self, component: usize) -> bool {
        component != 0 && self.graph.components().get(component).is_some_and(|c| c.length_m < ISLAND_M)
    }

    /// Places many points (in parallel).
    pub fn snap_points(&self, points: &[Point<f64>]) -> Origins {
        Origins { snaps: points.par_iter().with_min_len(256).map(|p| self.snap(*p, None)).collect() }
    }

    /// Places buildings at their representative point ([`wangge_core::Shape::point`]; the
    /// entrance once the model has one), using their `compound` when set.
    pub fn snap_buildings(&self, buildings: &[Building]) -> Origins {
        Origins {
            snaps: buildings
                .par_iter()
                .with_min_len(256)
                .map(|b| match b.shape.point() {
                    Some(p) => self.snap(p, b.compound.as_deref()),
                    None => Err(SnapFailure::NoLocation),
                })
                .collect(),
        }
    }

    /// Places facilities and groups them by the catalogue's categories. A facility whose category
    /// the catalogue does not define is an error naming it.
    pub fn place_facilities(
        &self,
        facilities: &[Facility],
        catalogue: &Catalogue,
    ) -> Result<FacilitySet, CirclesError> {
        let categories: Vec<CategoryInfo> = catalogue
            .categories
            .iter()
            .map(|c| CategoryInfo { id: c.id.clone(), distance_m: c.distance_m, weight: c.weight })
            .collect();
        let mut index = std::collections::HashMap::new();
        for (i, c) in categories.iter().enumerate() {
            index.insert(c.id.as_str(), i);
        }
        let cats: Vec<usize> = facilities
            .iter()
            .map(|f| {
                index.get(f.category.as_str()).copied().ok_or_else(|| CirclesError::UnknownCategory {
                    id: f.category.clone(),
                    known: categories.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", "),
                })
            })
            .collect::<Result<_, _>>()?;
        let placed: Vec<PlacedFacility> = facilities
            .par_iter()
            .zip(cats.par_iter())
            .map(|(f, &category)| PlacedFacility {
                source_id: f.source_id.clone(),
                name: f.name.clone(),
                category,
                location: f.location,
                snap: self.snap(f.location, None),
            })
            .collect();
        Ok(self.facility_set(categories, placed))
    }

    /// Groups placed facilities (used by [`Network::place_facilities`] and by siting).
    pub(crate) fn facility_set(&self, categories: Vec<CategoryInfo>, facilities: Vec<PlacedFacility>) -> FacilitySet {
        let mut by_category = vec![Vec::new(); categories.len()];
        let mut components = vec![Vec::new(); categories.len()];
        let nc = self.graph.chain_len.len();
        let mut chain_first = vec![0u32; nc + 1];
        for (i, f) in facilities.iter().enumerate() {
            by_category[f.category].push(i as u32);
            if let Ok(s) = &f.snap {
                chain_first[s.chain as usize + 1] += 1;
                components[f.category].push(self.graph.chain_component(s.chain) as u32);
            }
        }
        for c in 0..nc {
            chain_first[c + 1] += chain_first[c];
        }
        let mut fill = chain_first.clone();
        let mut chain_fac = vec![0u32; chain_first[nc] as usize];
        for (i, f) in facilities.iter().enumerate() {
            if let Ok(s) = &f.snap {
                chain_fac[fill[s.chain as usize] as usize] = i as u32;
                fill[s.chain as usize] += 1;
            }
        }
        for c in &mut components {
            c.sort_unstable();
            c.dedup();
        }
        FacilitySet { categories, facilities, by_category, components, chain_first, chain_fac }
    }

    /// The component a snap lies in.
    pub fn component_of(&self, snap: &Snap) -> usize {
        self.graph.chain_component(snap.chain)
    }
}
