//! What both stores share: the table layout, model rows flattened into column values (with
//! validation and de-duplication), the SELECT lists and the conversion of loaded rows back into
//! the model. Geometry travels as OGC WKB in both stores.

use crate::error::{Result, StoreError};
use geo::{CoordsIter, Geometry};
use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use std::collections::HashMap;
use wangge_core::{
    BasemapFeature, BasemapKind, Building, Compound, Facility, HouseholdSource, Households, Layers, NetEdge, NetNode,
    PopulationCell, Region, RegionLevel, RegisterEntry, Shape, Unit,
};

/// One column value of a row to write.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// Text.
    Text(String),
    /// Nullable text.
    OptText(Option<String>),
    /// Integer.
    Int(i64),
    /// Nullable integer.
    OptInt(Option<i64>),
    /// Double.
    Real(f64),
    /// Nullable double.
    OptReal(Option<f64>),
    /// Boolean.
    Bool(bool),
    /// Geometry as OGC WKB (SRID 4326 implied).
    Geom(Vec<u8>),
    /// Nullable geometry as OGC WKB (SRID 4326 implied).
    OptGeom(Option<Vec<u8>>),
}

/// A table rows are upserted into.
#[derive(Debug)]
pub(crate) struct Table {
    /// Table name.
    pub name: &'static str,
    /// Conflict target (the primary key).
    pub key: &'static [&'static str],
    /// Columns in the order of [`Value`]s of a row.
    pub cols: &'static [&'static str],
}

impl Table {
    /// `INSERT INTO t (a, b)` (`QueryBuilder::push_values` appends ` VALUES (…), …`).
    pub fn insert_head(&self) -> String {
        format!("INSERT INTO {} ({})", self.name, self.cols.join(", "))
    }

    /// ` ON CONFLICT (key) DO UPDATE SET c = excluded.c, …` for every non-key column.
    pub fn upsert_tail(&self) -> String {
        let set: Vec<String> =
            self.cols.iter().filter(|c| !self.key.contains(c)).map(|c| format!("{c} = excluded.{c}")).collect();
        format!(" ON CONFLICT ({}) DO UPDATE SET {}", self.key.join(", "), set.join(", "))
    }

    /// Rows per INSERT so that the bind parameters stay under `max_params` (and statements stay
    /// a reasonable size).
    pub fn rows_per_statement(&self, max_params: usize) -> usize {
        (max_params / self.cols.len()).clamp(1, 4000)
    }
}

const SID: &[&str] = &["source_id"];

pub(crate) static BUILDINGS: Table = Table {
    name: "buildings",
    key: SID,
    cols: &[
        "source_id",
        "dataset",
        "kind",
        "name",
        "levels",
        "households",
        "households_source",
        "residential",
        "compound",
        "community",
        "units",
        "geom",
    ],
};
pub(crate) static COMPOUNDS: Table =
    Table { name: "compounds", key: SID, cols: &["source_id", "dataset", "name", "community", "geom"] };
pub(crate) static REGIONS: Table =
    Table { name: "regions", key: SID, cols: &["source_id", "dataset", "level", "name", "code", "parent", "geom"] };
pub(crate) static FACILITIES: Table =
    Table { name: "facilities", key: SID, cols: &["source_id", "dataset", "category", "name", "geom"] };
pub(crate) static NET_NODES: Table = Table { name: "net_nodes", key: SID, cols: &["source_id", "dataset", "geom"] };
pub(crate) static NET_EDGES: Table = Table {
    name: "net_edges",
    key: SID,
    cols: &["source_id", "dataset", "from_node", "to_node", "length_m", "highway", "name", "private", "geom"],
};
pub(crate) static BASEMAP: Table =
    Table { name: "basemap", key: SID, cols: &["source_id", "dataset", "kind", "class", "name", "geom"] };
pub(crate) static POPULATION_CELLS: Table =
    Table { name: "population_cells", key: SID, cols: &["source_id", "dataset", "population", "geom"] };
pub(crate) static REGISTER: Table =
    Table { name: "register", key: &["building_id", "unit"], cols: &["building_id", "unit", "households", "dataset"] };

/// Tables whose rows belong to one dataset and are deleted when it is replaced (nodes are shared
/// by id and cleaned up by reference instead).
pub(crate) static DATASET_TABLES: [&Table; 8] =
    [&BUILDINGS, &COMPOUNDS, &REGIONS, &FACILITIES, &NET_EDGES, &BASEMAP, &POPULATION_CELLS, &REGISTER];

/// Deletes the nodes no edge refers to.
pub(crate) const DELETE_ORPHAN_NODES: &str = "DELETE FROM net_nodes WHERE \
     NOT EXISTS (SELECT 1 FROM net_edges e WHERE e.from_node = net_nodes.source_id) AND \
     NOT EXISTS (SELECT 1 FROM net_edges e WHERE e.to_node = net_nodes.source_id)";

/// Sets households of buildings from a list of `(id, households, source)` given as VALUES rows.
pub(crate) const UPDATE_HOUSEHOLDS_HEAD: &str = "WITH v(id, h, s) AS (VALUES ";
/// The end of the statement started by [`UPDATE_HOUSEHOLDS_HEAD`].
pub(crate) const UPDATE_HOUSEHOLDS_TAIL: &str =
    ") UPDATE buildings SET households = v.h, households_source = v.s FROM v WHERE buildings.source_id = v.id";

fn invalid(dataset: &str, what: &str, id: &str, reason: &str) -> StoreError {
    StoreError::Query {
        doing: format!("writing dataset `{dataset}`"),
        source: sqlx::Error::Encode(format!("{what} `{id}`: {reason}").into()),
    }
}

/// Encodes a geometry as WKB after checking its coordinates are finite.
fn wkb(g: &Geometry<f64>, dataset: &str, what: &str, id: &str) -> Result<Value> {
    if g.coords_iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
        return Err(invalid(dataset, what, id, "geometry has a non-finite coordinate"));
    }
    g.to_wkb(CoordDimensions::xy())
        .map(Value::Geom)
        .map_err(|e| invalid(dataset, what, id, &format!("cannot encode geometry: {e}")))
}

fn finite(x: f64, dataset: &str, what: &str, id: &str, field: &str) -> Result<Value> {
    if x.is_finite() { Ok(Value::Real(x)) } else { Err(invalid(dataset, what, id, &format!("{field} is {x}"))) }
}

/// Keeps the last row of every key, in the order of first appearance (a table cannot hold two
/// rows with one key, and a multi-row upsert must not touch a row twice).
fn dedup<T>(items: &[T], key: impl Fn(&T) -> String) -> Vec<&T> {
    let mut at: HashMap<String, usize> = HashMap::with_capacity(items.len());
    let mut out: Vec<&T> = Vec::with_capacity(items.len());
    for it in items {
        match at.entry(key(it)) {
            std::collections::hash_map::Entry::Occupied(e) => out[*e.get()] = it,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(it);
            }
        }
    }
    out
}

/// Rows to upsert into one table.
pub(crate) type TableRows = (&'static Table, Vec<Vec<Value>>);

/// The rows of one dataset's layers, table by table, ready to upsert. Nodes are written with the
/// importing dataset's name. Fails on non-finite coordinates or numbers.
pub(crate) fn encode(dataset: &str, l: &Layers) -> Result<Vec<TableRows>> {
    let t = Value::Text;
    let o = |s: &Option<String>| Value::OptText(s.clone());
    let mut out: Vec<TableRows> = Vec::new();

    let mut rows = Vec::with_capacity(l.buildings.len());
    for b in dedup(&l.buildings, |b| b.source_id.clone()) {
        let units = serde_json::to_string(&b.units)
            .map_err(|e| invalid(dataset, "building", &b.source_id, &format!("units: {e}")))?;
        rows.push(vec![
            t(b.source_id.clone()),
            t(b.dataset.clone()),
            t(b.kind.clone()),
            o(&b.name),
            Value::OptInt(b.levels.map(i64::from)),
            Value::Int(i64::from(b.households.count)),
            t(b.households.source.as_str().to_string()),
            Value::Bool(b.residential),
            o(&b.compound),
            o(&b.community),
            t(units),
            wkb(&b.shape.to_geometry(), dataset, "building", &b.source_id)?,
        ]);
    }
    out.push((&BUILDINGS, rows));

    let mut rows = Vec::with_capacity(l.compounds.len());
    for c in dedup(&l.compounds, |c| c.source_id.clone()) {
        rows.push(vec![
            t(c.source_id.clone()),
            t(c.dataset.clone()),
            o(&c.name),
            o(&c.community),
            wkb(&Geometry::MultiPolygon(c.area.clone()), dataset, "compound", &c.source_id)?,
        ]);
    }
    out.push((&COMPOUNDS, rows));

    let mut rows = Vec::with_capacity(l.regions.len());
    for r in dedup(&l.regions, |r| r.source_id.clone()) {
        rows.push(vec![
            t(r.source_id.clone()),
            t(r.dataset.clone()),
            t(r.level.as_str().to_string()),
            t(r.name.clone()),
            o(&r.code),
            o(&r.parent),
            wkb(&Geometry::MultiPolygon(r.area.clone()), dataset, "region", &r.source_id)?,
        ]);
    }
    out.push((&REGIONS, rows));

    let mut rows = Vec::with_capacity(l.facilities.len());
    for f in dedup(&l.facilities, |f| f.source_id.clone()) {
        rows.push(vec![
            t(f.source_id.clone()),
            t(f.dataset.clone()),
            t(f.category.clone()),
            o(&f.name),
            wkb(&Geometry::Point(f.location), dataset, "facility", &f.source_id)?,
        ]);
    }
    out.push((&FACILITIES, rows));

    let mut rows = Vec::with_capacity(l.edges.len());
    for e in dedup(&l.edges, |e| e.source_id.clone()) {
        rows.push(vec![
            t(e.source_id.clone()),
            t(e.dataset.clone()),
            t(e.from.clone()),
            t(e.to.clone()),
            finite(e.length_m, dataset, "edge", &e.source_id, "length_m")?,
            t(e.highway.clone()),
            o(&e.name),
            Value::Bool(e.private),
            wkb(&Geometry::LineString(e.geometry.clone()), dataset, "edge", &e.source_id)?,
        ]);
    }
    out.push((&NET_EDGES, rows));

    let mut rows = Vec::with_capacity(l.nodes.len());
    for n in dedup(&l.nodes, |n| n.source_id.clone()) {
        rows.push(vec![
            t(n.source_id.clone()),
            t(dataset.to_string()),
            wkb(&Geometry::Point(n.location), dataset, "node", &n.source_id)?,
        ]);
    }
    out.push((&NET_NODES, rows));

    let mut rows = Vec::with_capacity(l.basemap.len());
    for f in dedup(&l.basemap, |f| f.source_id.clone()) {
        rows.push(vec![
            t(f.source_id.clone()),
            t(f.dataset.clone()),
            t(f.kind.as_str().to_string()),
            t(f.class.clone()),
            o(&f.name),
            wkb(&f.geometry, dataset, "basemap feature", &f.source_id)?,
        ]);
    }
    out.push((&BASEMAP, rows));

    let mut rows = Vec::with_capacity(l.cells.len());
    for c in dedup(&l.cells, |c| c.source_id.clone()) {
        rows.push(vec![
            t(c.source_id.clone()),
            t(c.dataset.clone()),
            finite(c.population, dataset, "population cell", &c.source_id, "population")?,
            wkb(&Geometry::Polygon(c.area.clone()), dataset, "population cell", &c.source_id)?,
        ]);
    }
    out.push((&POPULATION_CELLS, rows));

    let mut rows = Vec::with_capacity(l.register.len());
    let reg_key = |r: &RegisterEntry| format!("{}\u{1f}{}", r.building, r.unit.as_deref().unwrap_or(""));
    for r in dedup(&l.register, reg_key) {
        rows.push(vec![
            t(r.building.clone()),
            t(r.unit.clone().unwrap_or_default()),
            Value::Int(i64::from(r.households)),
            t(r.dataset.clone()),
        ]);
    }
    out.push((&REGISTER, rows));

    Ok(out)
}

/// Household updates, last one per building wins, as `(id, count, source)`.
pub(crate) fn household_rows(updates: &[(String, Households)]) -> Vec<(String, i64, String)> {
    dedup(updates, |(id, _)| id.clone())
        .into_iter()
        .map(|(id, h)| (id.clone(), i64::from(h.count), h.source.as_str().to_string()))
        .collect()
}

// ---- loading -------------------------------------------------------------------------------

/// SELECT of every table, with `{geom}` standing for the expression that yields WKB.
pub(crate) const SELECT_BUILDINGS: &str = "SELECT source_id, dataset, kind, name, CAST(levels AS BIGINT), households, \
     households_source, residential, compound, community, units, {geom} FROM buildings";
pub(crate) const SELECT_COMPOUNDS: &str = "SELECT source_id, dataset, name, community, {geom} FROM compounds";
pub(crate) const SELECT_REGIONS: &str = "SELECT source_id, dataset, level, name, code, parent, {geom} FROM regions";
pub(crate) const SELECT_FACILITIES: &str = "SELECT source_id, dataset, category, name, {geom} FROM facilities";
pub(crate) const SELECT_NODES: &str = "SELECT source_id, {geom} FROM net_nodes";
pub(crate) const SELECT_EDGES: &str =
    "SELECT source_id, dataset, from_node, to_node, length_m, highway, name, private, {geom} FROM net_edges";
pub(crate) const SELECT_BASEMAP: &str = "SELECT source_id, dataset, kind, class, name, {geom} FROM basemap";
pub(crate) const SELECT_CELLS: &str = "SELECT source_id, dataset, population, {geom} FROM population_cells";
pub(crate) const SELECT_REGISTER: &str = "SELECT building_id, unit, households, dataset FROM register";

type S = String;
type OS = Option<String>;
type G = Vec<u8>;
/// A loaded `buildings` row.
pub(crate) type BuildingRow = (S, S, S, OS, Option<i64>, i64, S, bool, OS, OS, S, G);
/// A loaded `compounds` row.
pub(crate) type CompoundRow = (S, S, OS, OS, G);
/// A loaded `regions` row.
pub(crate) type RegionRow = (S, S, S, S, OS, OS, G);
/// A loaded `facilities` row.
pub(crate) type FacilityRow = (S, S, S, OS, G);
/// A loaded `net_nodes` row.
pub(crate) type NodeRow = (S, G);
/// A loaded `net_edges` row.
pub(crate) type EdgeRow = (S, S, S, S, f64, S, OS, bool, G);
/// A loaded `basemap` row.
pub(crate) type BasemapRow = (S, S, S, S, OS, G);
/// A loaded `population_cells` row.
pub(crate) type CellRow = (S, S, f64, G);
/// A loaded `register` row.
pub(crate) type RegisterRow = (S, S, i64, S);

fn corrupt(table: &str, id: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { doing: format!("loading {table}"), id: id.to_string(), reason: reason.to_string() }
}

fn geometry(table: &str, id: &str, blob: &[u8]) -> Result<Geometry<f64>> {
    Wkb(blob).to_geo().map_err(|e| corrupt(table, id, format!("geometry: {e}")))
}

fn u32_of(table: &str, id: &str, field: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(table, id, format!("{field} {v} is out of range")))
}

fn multipolygon(table: &str, id: &str, blob: &[u8]) -> Result<geo::MultiPolygon<f64>> {
    match geometry(table, id, blob)? {
        Geometry::MultiPolygon(mp) => Ok(mp),
        other => Err(corrupt(table, id, format!("expected a multipolygon, found {other:?}"))),
    }
}

fn point(table: &str, id: &str, blob: &[u8]) -> Result<geo::Point<f64>> {
    match geometry(table, id, blob)? {
        Geometry::Point(p) => Ok(p),
        other => Err(corrupt(table, id, format!("expected a point, found {other:?}"))),
    }
}

/// A building from its row.
pub(crate) fn building(r: BuildingRow) -> Result<Building> {
    let (source_id, dataset, kind, name, levels, households, hsource, residential, compound, community, units, g) = r;
    let tb = "buildings";
    let shape = match geometry(tb, &source_id, &g)? {
        Geometry::MultiPolygon(mp) => Shape::Footprint(mp),
        Geometry::Point(p) => Shape::Point(p),
        other => return Err(corrupt(tb, &source_id, format!("expected a point or multipolygon, found {other:?}"))),
    };
    let levels = levels
        .map(|v| u16::try_from(v).map_err(|_| corrupt(tb, &source_id, format!("levels {v} is out of range"))))
        .transpose()?;
    let source = HouseholdSource::parse(&hsource)
        .ok_or_else(|| corrupt(tb, &source_id, format!("unknown households source `{hsource}`")))?;
    let count = u32_of(tb, &source_id, "households", households)?;
    let units: Vec<Unit> = serde_json::from_str(&units).map_err(|e| corrupt(tb, &source_id, format!("units: {e}")))?;
    Ok(Building {
        source_id,
        dataset,
        shape,
        kind,
        name,
        levels,
        households: Households::new(count, source),
        units,
        compound,
        community,
        residential,
    })
}

/// A compound from its row.
pub(crate) fn compound(r: CompoundRow) -> Result<Compound> {
    let (source_id, dataset, name, community, g) = r;
    let area = multipolygon("compounds", &source_id, &g)?;
    Ok(Compound { source_id, dataset, name, area, community })
}

/// A region from its row.
pub(crate) fn region(r: RegionRow) -> Result<Region> {
    let (source_id, dataset, level, name, code, parent, g) = r;
    let level =
        RegionLevel::parse(&level).ok_or_else(|| corrupt("regions", &source_id, format!("unknown level `{level}`")))?;
    let area = multipolygon("regions", &source_id, &g)?;
    Ok(Region { source_id, dataset, level, name, code, parent, area })
}

/// A facility from its row.
pub(crate) fn facility(r: FacilityRow) -> Result<Facility> {
    let (source_id, dataset, category, name, g) = r;
    let location = point("facilities", &source_id, &g)?;
    Ok(Facility { source_id, dataset, category, name, location })
}

/// A network node from its row.
pub(crate) fn node(r: NodeRow) -> Result<NetNode> {
    let (source_id, g) = r;
    let location = point("net_nodes", &source_id, &g)?;
    Ok(NetNode { source_id, location })
}

/// A network edge from its row.
pub(crate) fn edge(r: EdgeRow) -> Result<NetEdge> {
    let (source_id, dataset, from, to, length_m, highway, name, private, g) = r;
    let geometry = match geometry("net_edges", &source_id, &g)? {
        Geometry::LineString(ls) => ls,
        other => return Err(corrupt("net_edges", &source_id, format!("expected a linestring, found {other:?}"))),
    };
    Ok(NetEdge { source_id, dataset, from, to, length_m, highway, name, private, geometry })
}

/// A basemap feature from its row.
pub(crate) fn basemap(r: BasemapRow) -> Result<BasemapFeature> {
    let (source_id, dataset, kind, class, name, g) = r;
    let kind =
        BasemapKind::parse(&kind).ok_or_else(|| corrupt("basemap", &source_id, format!("unknown kind `{kind}`")))?;
    let geometry = geometry("basemap", &source_id, &g)?;
    Ok(BasemapFeature { source_id, dataset, kind, class, name, geometry })
}

/// A population cell from its row.
pub(crate) fn cell(r: CellRow) -> Result<PopulationCell> {
    let (source_id, dataset, population, g) = r;
    let area = match geometry("population_cells", &source_id, &g)? {
        Geometry::Polygon(p) => p,
        other => return Err(corrupt("population_cells", &source_id, format!("expected a polygon, found {other:?}"))),
    };
    Ok(PopulationCell { source_id, dataset, population, area })
}

/// A register row from its row (`unit` '' is a whole-building row).
pub(crate) fn register(r: RegisterRow) -> Result<RegisterEntry> {
    let (building, unit, households, dataset) = r;
    let households = u32_of("register", &building, "households", households)?;
    Ok(RegisterEntry { building, unit: (!unit.is_empty()).then_some(unit), households, dataset })
}

/// Loads every table through `$conn` (an executor usable several times, e.g. `&mut *tx`), with
/// `$geom` the SQL expression that yields a row's geometry as WKB, and returns sorted [`Layers`].
macro_rules! load_layers {
    ($conn:expr, $geom:expr) => {{
        use $crate::rows;
        async {
            let mut l = wangge_core::Layers::default();
            macro_rules! fetch {
                ($sql:expr, $row:ty, $conv:path, $what:literal) => {{
                    let rs: Vec<$row> = sqlx::query_as(&$sql.replace("{geom}", $geom))
                        .fetch_all(&mut *$conn)
                        .await
                        .map_err(|source| $crate::StoreError::Query { doing: format!("loading {}", $what), source })?;
                    rs.into_iter().map($conv).collect::<$crate::Result<Vec<_>>>()?
                }};
            }
            l.buildings = fetch!(rows::SELECT_BUILDINGS, rows::BuildingRow, rows::building, "buildings");
            l.compounds = fetch!(rows::SELECT_COMPOUNDS, rows::CompoundRow, rows::compound, "compounds");
            l.regions = fetch!(rows::SELECT_REGIONS, rows::RegionRow, rows::region, "regions");
            l.facilities = fetch!(rows::SELECT_FACILITIES, rows::FacilityRow, rows::facility, "facilities");
            l.nodes = fetch!(rows::SELECT_NODES, rows::NodeRow, rows::node, "network nodes");
            l.edges = fetch!(rows::SELECT_EDGES, rows::EdgeRow, rows::edge, "network edges");
            l.basemap = fetch!(rows::SELECT_BASEMAP, rows::BasemapRow, rows::basemap, "basemap features");
            l.cells = fetch!(rows::SELECT_CELLS, rows::CellRow, rows::cell, "population cells");
            l.register = fetch!(rows::SELECT_REGISTER, rows::RegisterRow, rows::register, "register rows");
            l.sort();
            $crate::Result::Ok(l)
        }
        .await
    }};
}
pub(crate) use load_layers;

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, MultiPolygon, Point, Polygon};

    #[test]
    fn dedup_keeps_last_in_first_position() {
        let v = vec![("a", 1), ("b", 2), ("a", 3)];
        let d: Vec<_> = dedup(&v, |x| x.0.to_string()).into_iter().copied().collect();
        assert_eq!(d, vec![("a", 3), ("b", 2)]);
    }

    #[test]
    fn upsert_sql() {
        assert_eq!(
            REGISTER.upsert_tail(),
            " ON CONFLICT (building_id, unit) DO UPDATE SET households = excluded.households, dataset = excluded.dataset"
        );
        assert_eq!(BUILDINGS.rows_per_statement(32766), 2730);
        assert_eq!(NET_NODES.rows_per_statement(65535), 4000);
    }

    #[test]
    fn wkb_round_trip_is_exact() {
        let poly = Polygon::new(
            LineString::from(vec![(114.1, 30.1), (114.2, 30.1), (114.2, 30.2 + 1e-12), (114.1, 30.1)]),
            vec![],
        );
        for g in [
            Geometry::MultiPolygon(MultiPolygon(vec![poly.clone()])),
            Geometry::MultiPolygon(MultiPolygon(vec![])),
            Geometry::Polygon(poly),
            Geometry::Point(Point::new(0.1 + 0.2, -0.0)),
            Geometry::LineString(LineString::from(vec![(1.0 / 3.0, 2.0), (3.0, 4.0)])),
        ] {
            let Ok(Value::Geom(blob)) = wkb(&g, "d", "x", "x") else { panic!("encode {g:?}") };
            let back = geometry("t", "x", &blob).expect("decode");
            assert_eq!(back, g);
        }
    }

    #[test]
    fn non_finite_is_rejected() {
        let g = Geometry::Point(Point::new(f64::NAN, 1.0));
        assert!(wkb(&g, "d", "x", "x").is_err());
        assert!(finite(f64::INFINITY, "d", "x", "x", "f").is_err());
    }
}
