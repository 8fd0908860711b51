//! The one conversion from the element model to [`Layers`]: buildings, compounds, regions,
//! facilities, the walking network and basemap features.

use super::area::{Area2, AreaError, Assembled, Resolver, finish};
use super::model::{OsmData, Tags, tag};
use super::network;
use super::notes::Notes;
use geo::{Geometry, LineString, MultiLineString, MultiPolygon, Point};
use wangge_core::geometry::inside_point;
use wangge_core::tags::is_residential;
use wangge_core::{
    BasemapFeature, BasemapKind, Building, Catalogue, Compound, Facility, HouseholdSource, Households, Layers, Region,
    RegionLevel, Shape,
};

/// An element as notes and ids name it.
struct Elem<'a> {
    /// `n`, `w` or `r`.
    letter: char,
    id: i64,
    tags: &'a Tags,
}

impl Elem<'_> {
    fn t(&self, key: &str) -> Option<&str> {
        tag(self.tags, key)
    }
    /// `w123`.
    fn short(&self) -> String {
        format!("{}{}", self.letter, self.id)
    }
    /// `osm:w123`.
    fn sid(&self) -> String {
        format!("osm:{}", self.short())
    }
    /// `way w123 名字` for notes.
    fn label(&self) -> String {
        let kind = match self.letter {
            'n' => "node",
            'w' => "way",
            _ => "relation",
        };
        match self.t("name") {
            Some(n) => format!("{kind} {} {n}", self.short()),
            None => format!("{kind} {}", self.short()),
        }
    }
    fn name(&self) -> Option<String> {
        self.t("name").map(str::to_string)
    }
}

/// What an area element is wanted for.
#[derive(Default)]
struct Wants<'c> {
    building: bool,
    compound: bool,
    region: Option<RegionLevel>,
    facility: Option<&'c wangge_core::Category>,
    basemap: Vec<(BasemapKind, String)>,
}

impl Wants<'_> {
    fn any(&self) -> bool {
        self.building || self.compound || self.region.is_some() || self.facility.is_some() || !self.basemap.is_empty()
    }
    fn purposes(&self) -> String {
        let mut p = Vec::new();
        if self.building {
            p.push("building");
        }
        if self.compound {
            p.push("compound");
        }
        if self.region.is_some() {
            p.push("boundary");
        }
        if self.facility.is_some() {
            p.push("facility");
        }
        if !self.basemap.is_empty() {
            p.push("basemap");
        }
        p.join("/")
    }
}

fn is_building(e: &Elem<'_>) -> bool {
    e.t("building").is_some_and(|v| v != "no")
}

/// `landuse=residential`, or a named `place=neighbourhood` / `residential=*` area that is not a building.
fn is_compound(e: &Elem<'_>) -> bool {
    e.t("landuse") == Some("residential")
        || (e.t("name").is_some()
            && !is_building(e)
            && (e.t("place") == Some("neighbourhood") || e.t("residential").is_some()))
}

/// `boundary=administrative` with `admin_level` 6 (district), 7–8 (street) or 9–10 (community).
fn region_level(e: &Elem<'_>) -> Option<RegionLevel> {
    if e.t("boundary") != Some("administrative") {
        return None;
    }
    match e.t("admin_level")?.trim() {
        "6" => Some(RegionLevel::District),
        "7" | "8" => Some(RegionLevel::Street),
        "9" | "10" => Some(RegionLevel::Community),
        _ => None,
    }
}

fn classify<'c>(catalogue: &'c Catalogue, tags: &Tags) -> Option<&'c wangge_core::Category> {
    catalogue.classify(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

const RAIL: &[&str] = &["rail", "subway", "light_rail", "tram", "narrow_gauge", "monorail"];
const WATERWAY: &[&str] = &["river", "stream", "canal", "drain", "ditch"];
const PARK: &[&str] = &["park", "garden", "playground", "nature_reserve"];
const GREEN: &[&str] = &["wood", "scrub", "grassland"];

/// Basemap areas an element makes (water, park, land use; a highway with `area=yes`).
fn basemap_areas(e: &Elem<'_>) -> Vec<(BasemapKind, String)> {
    let mut out = Vec::new();
    if let (Some(hw), Some("yes")) = (e.t("highway"), e.t("area")) {
        out.push((BasemapKind::Road, hw.to_string()));
    }
    let landuse = e.t("landuse");
    if e.t("natural") == Some("water") || e.t("water").is_some() || matches!(landuse, Some("reservoir" | "basin")) {
        let class = e.t("water").or(landuse.filter(|l| matches!(*l, "reservoir" | "basin"))).unwrap_or("water");
        out.push((BasemapKind::Water, class.to_string()));
    }
    if let Some(l) = e.t("leisure").filter(|l| PARK.contains(l)) {
        out.push((BasemapKind::Park, l.to_string()));
    }
    if let Some(l) = landuse.filter(|l| !matches!(*l, "reservoir" | "basin")) {
        out.push((BasemapKind::Landuse, l.to_string()));
    } else if let Some(n) = e.t("natural").filter(|n| GREEN.contains(n)) {
        out.push((BasemapKind::Landuse, n.to_string()));
    }
    out
}

/// Basemap lines a way makes (roads, railways, waterways).
fn basemap_lines(e: &Elem<'_>) -> Vec<(BasemapKind, String)> {
    let mut out = Vec::new();
    if let Some(hw) = e.t("highway").filter(|_| e.t("area") != Some("yes")) {
        out.push((BasemapKind::Road, hw.to_string()));
    }
    if let Some(r) = e.t("railway").filter(|r| RAIL.contains(r)) {
        out.push((BasemapKind::Rail, r.to_string()));
    }
    if let Some(w) = e.t("waterway").filter(|w| WATERWAY.contains(w)) {
        out.push((BasemapKind::Waterway, w.to_string()));
    }
    out
}

/// Parses `building:levels`: the first number of a list, floored; must be at least 1.
fn parse_levels(raw: &str) -> Option<u16> {
    let first = raw.split([';', ',']).next()?.trim();
    let v: f64 = first.parse().ok()?;
    (v.is_finite() && (1.0..=500.0).contains(&v)).then(|| v.floor() as u16)
}

struct Converter<'a> {
    catalogue: &'a Catalogue,
    dataset: &'a str,
    resolver: Resolver<'a>,
    layers: Layers,
    notes: Notes,
}

fn single_or_multi(mp: MultiPolygon<f64>) -> Geometry<f64> {
    if mp.0.len() == 1 {
        let mut mp = mp;
        Geometry::Polygon(mp.0.remove(0))
    } else {
        Geometry::MultiPolygon(mp)
    }
}

impl<'a> Converter<'a> {
    fn building(&mut self, e: &Elem<'_>, shape: Shape) {
        let levels = e.t("building:levels").and_then(|raw| {
            let v = parse_levels(raw);
            if v.is_none() {
                self.notes.line(format!(
                    "{}: building:levels `{raw}` is not a positive number; levels left unknown",
                    e.label()
                ));
            }
            v
        });
        let households = match e.t("building:flats") {
            None => Households::default(),
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(n) => Households::new(n, HouseholdSource::Declared),
                Err(_) => {
                    self.notes.line(format!(
                        "{}: building:flats `{raw}` is not a whole number ≥ 0; households left unknown",
                        e.label()
                    ));
                    Households::default()
                }
            },
        };
        self.layers.buildings.push(Building {
            source_id: e.sid(),
            dataset: self.dataset.to_string(),
            shape,
            kind: e.t("building").unwrap_or("yes").to_string(),
            name: e.name(),
            levels,
            households,
            units: Vec::new(),
            compound: None,
            community: None,
            residential: is_residential(|k| e.t(k)),
        });
    }

    fn facility(&mut self, e: &Elem<'_>, cat: &wangge_core::Category, location: Point<f64>) {
        self.layers.facilities.push(Facility {
            source_id: e.sid(),
            dataset: self.dataset.to_string(),
            category: cat.id.clone(),
            name: e.name(),
            location,
        });
    }

    fn basemap(&mut self, e: &Elem<'_>, feats: Vec<(BasemapKind, String, Geometry<f64>)>, total: usize) {
        for (kind, class, geometry) in feats {
            let source_id = if total > 1 { format!("{}:{}", e.sid(), kind.as_str()) } else { e.sid() };
            self.layers.basemap.push(BasemapFeature {
                source_id,
                dataset: self.dataset.to_string(),
                kind,
                class,
                name: e.name(),
                geometry,
            });
        }
    }

    /// Everything an area element (closed way or assembled relation) gives.
    fn area_products(
        &mut self,
        e: &Elem<'_>,
        wants: &Wants<'_>,
        area: &MultiPolygon<f64>,
        lines: Vec<(BasemapKind, String, Geometry<f64>)>,
    ) {
        if wants.building {
            self.building(e, Shape::Footprint(area.clone()));
        }
        if wants.compound {
            self.layers.compounds.push(Compound {
                source_id: e.sid(),
                dataset: self.dataset.to_string(),
                name: e.name(),
                area: area.clone(),
                community: None,
            });
        }
        if let Some(level) = wants.region {
            let code = ["ref:gb2260", "gb2260", "ref"].iter().find_map(|k| e.t(k)).map(str::to_string);
            self.layers.regions.push(Region {
                source_id: e.sid(),
                dataset: self.dataset.to_string(),
                level,
                name: e.name().unwrap_or_else(|| e.sid()),
                code,
                parent: None,
                area: area.clone(),
            });
        }
        if let Some(cat) = wants.facility {
            match inside_point(area) {
                Some(p) => self.facility(e, cat, p),
                None => self.notes.line(format!("{}: facility area has no interior point; skipped", e.label())),
            }
        }
        let total = wants.basemap.len() + lines.len();
        let mut feats = lines;
        feats.extend(wants.basemap.iter().map(|(k, c)| (*k, c.clone(), single_or_multi(area.clone()))));
        self.basemap(e, feats, total);
    }

    fn nodes(&mut self, data: &OsmData) {
        for (id, loc, tags) in &data.tagged_nodes {
            let e = Elem { letter: 'n', id: *id, tags };
            let p = Point::from(loc.coord());
            if is_building(&e) {
                self.building(&e, Shape::Point(p));
            }
            if let Some(cat) = classify(self.catalogue, tags) {
                self.facility(&e, cat, p);
            }
        }
    }

    fn line_geometry(&self, refs: &[i64]) -> Option<Geometry<f64>> {
        let mut runs: Vec<LineString<f64>> = self
            .resolver
            .present_runs(refs)
            .into_iter()
            .filter(|r| r.len() >= 2)
            .map(|r| LineString::from(r.into_iter().map(|(_, c)| c).collect::<Vec<_>>()))
            .collect();
        match runs.len() {
            0 => None,
            1 => runs.pop().map(Geometry::LineString),
            _ => Some(Geometry::MultiLineString(MultiLineString(runs))),
        }
    }

    fn ways(&mut self, data: &'a OsmData) {
        for way in &data.ways {
            let e = Elem { letter: 'w', id: way.id, tags: &way.tags };
            let closed = Resolver::is_closed(way);
            let line_kinds = basemap_lines(&e);
            let mut lines = Vec::new();
            if !line_kinds.is_empty() {
                match self.line_geometry(&way.refs) {
                    Some(g) => lines.extend(line_kinds.into_iter().map(|(k, c)| (k, c, g.clone()))),
                    None => self
                        .notes
                        .group("basemap line ways without two consecutive nodes in the file skipped", e.short()),
                }
            }
            let wants = Wants {
                building: is_building(&e),
                compound: is_compound(&e),
                region: region_level(&e),
                facility: classify(self.catalogue, &way.tags),
                basemap: basemap_areas(&e),
            };
            if !wants.any() {
                let n = lines.len();
                self.basemap(&e, lines, n);
                continue;
            }
            let area = self.resolver.way_area(way);
            match area {
                Ok(Area2 { area, repaired }) => {
                    if repaired {
                        self.notes.line(format!(
                            "{} ({}): invalid polygon (self-intersecting) repaired",
                            e.label(),
                            wants.purposes()
                        ));
                    }
                    self.area_products(&e, &wants, &area, lines);
                }
                Err(err) => {
                    let n = lines.len();
                    self.basemap(&e, lines, n);
                    self.area_failed(&e, &wants, closed, err);
                }
            }
        }
    }

    /// Notes a way whose area could not be made, once per purpose.
    fn area_failed(&mut self, e: &Elem<'_>, wants: &Wants<'_>, closed: bool, err: AreaError) {
        let mut purposes: Vec<&str> = Vec::new();
        if wants.building {
            purposes.push("building");
        }
        if wants.compound {
            purposes.push("compound");
        }
        if wants.region.is_some() {
            purposes.push("boundary");
        }
        if wants.facility.is_some() {
            purposes.push("facility");
        }
        if !wants.basemap.is_empty() {
            purposes.push("basemap area");
        }
        match err {
            AreaError::Cut => {
                for p in purposes {
                    self.notes.group(&format!("{p} ways cut at the extract edge skipped"), e.short());
                }
            }
            AreaError::NotClosed => {
                // Boundary member ways carry the boundary's tags and basemap tags often sit on lines:
                // only buildings, compounds and facilities are expected to be closed.
                if !closed {
                    for p in purposes.into_iter().filter(|p| matches!(*p, "building" | "compound" | "facility")) {
                        self.notes.group(&format!("{p} ways that are not closed skipped"), e.short());
                    }
                }
            }
            AreaError::Bad(reason) => {
                self.notes.line(format!("{} ({}): {reason}; skipped", e.label(), wants.purposes()));
            }
        }
    }

    fn relations(&mut self, data: &'a OsmData) {
        for rel in &data.relations {
            let e = Elem { letter: 'r', id: rel.id, tags: &rel.tags };
            let kind = e.t("type");
            let is_mp = kind == Some("multipolygon");
            if !is_mp && kind != Some("boundary") {
                continue;
            }
            let wants = if is_mp {
                Wants {
                    building: is_building(&e),
                    compound: is_compound(&e),
                    region: region_level(&e),
                    facility: classify(self.catalogue, &rel.tags),
                    basemap: basemap_areas(&e),
                }
            } else {
                Wants { region: region_level(&e), ..Wants::default() }
            };
            if !wants.any() {
                continue;
            }
            let assembled = self.resolver.assemble(rel);
            let problems = relation_problems(&assembled);
            let result = if assembled.polygons.is_empty() {
                Err("no outer ring closes".to_string())
            } else {
                finish(assembled.polygons)
            };
            match result {
                Ok(Area2 { area, repaired }) => {
                    if !problems.is_empty() {
                        self.notes.line(format!(
                            "{} ({}): {}; imported the rings that close",
                            e.label(),
                            wants.purposes(),
                            problems.join("; ")
                        ));
                    }
                    if repaired {
                        self.notes.line(format!(
                            "{} ({}): invalid polygon (self-intersecting) repaired",
                            e.label(),
                            wants.purposes()
                        ));
                    }
                    self.area_products(&e, &wants, &area, Vec::new());
                }
                Err(reason) => {
                    let mut all = problems;
                    all.push(reason);
                    self.notes.line(format!("{} ({}): {}; skipped", e.label(), wants.purposes(), all.join("; ")));
                }
            }
        }
    }
}

/// `w1, w2, w3` (at most 10, then `… (N in all)`).
fn way_list(ids: &[i64]) -> String {
    let listed = ids.iter().take(10).map(|id| format!("w{id}")).collect::<Vec<_>>().join(", ");
    if ids.len() > 10 { format!("{listed}, … ({} in all)", ids.len()) } else { listed }
}

/// What went wrong assembling a relation, as note fragments.
fn relation_problems(a: &Assembled) -> Vec<String> {
    let mut out = Vec::new();
    let mut missing = a.missing_ways.clone();
    missing.extend(&a.cut_ways);
    for (role, ways) in &a.open_rings {
        let why =
            if missing.is_empty() { String::new() } else { format!(", member way(s) {} missing", way_list(&missing)) };
        out.push(format!("{role} ring not closed (through {}{why})", way_list(ways)));
    }
    if a.open_rings.is_empty() && !missing.is_empty() {
        out.push(format!("member way(s) {} missing", way_list(&missing)));
    } else if !a.cut_ways.is_empty() {
        out.push(format!("member way(s) {} cut at the extract edge", way_list(&a.cut_ways)));
    }
    for ways in &a.stray_inners {
        out.push(format!("inner ring (through {}) lies in no outer ring, dropped", way_list(ways)));
    }
    out
}

/// Converts the element model into layers and notes.
pub(crate) fn convert(data: &OsmData, catalogue: &Catalogue, dataset: &str) -> (Layers, Vec<String>) {
    let mut c = Converter {
        catalogue,
        dataset,
        resolver: Resolver::new(data),
        layers: Layers::default(),
        notes: Notes::default(),
    };
    c.nodes(data);
    c.ways(data);
    c.relations(data);
    let (nodes, edges) = network::build(data, &c.resolver, dataset, &mut c.notes);
    c.layers.nodes = nodes;
    c.layers.edges = edges;
    (c.layers, c.notes.into_lines())
}
