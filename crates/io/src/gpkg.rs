//! GeoPackage population grids: one polygon feature table of residents per cell.
//!
//! The feature table is found through `gpkg_contents` and `gpkg_geometry_columns`, its CRS through
//! `gpkg_spatial_ref_sys` (EPSG:4326 as is, other EPSG codes transformed with `proj4rs` when
//! known). Geometries are GeoPackage binary blobs: the `GP` header (version, flags giving the
//! byte order and envelope size, srs_id) is parsed here, the WKB after it by geozero. The population
//! column is `ReadOptions::population_field`, else the first of `population`, `pop`, `residents`,
//! `asukkaita`, `人口`.

use crate::ReadOptions;
use crate::error::{IoError, Result};
use crate::geojson_in::{CrsTransform, in_lonlat_range};
use geo::orient::{Direction, Orient};
use geo::{Coord, Geometry, MapCoords, Polygon};
use geozero::ToGeo;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use wangge_core::{Layers, PopulationCell};

/// Column names tried, in order, when no population field is given.
pub const POPULATION_FIELDS: &[&str] = &["population", "pop", "residents", "asukkaita", "人口"];

/// The parts of a GeoPackage binary geometry header that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpkgHeader {
    /// The srs_id stored in the blob.
    pub srs_id: i32,
    /// The geometry is flagged empty.
    pub empty: bool,
    /// Offset of the WKB after the header and envelope.
    pub wkb_offset: usize,
}

/// Parses the header of a GeoPackage binary geometry (GeoPackage 1.x, clause 2.1.3).
pub fn parse_header(blob: &[u8]) -> std::result::Result<GpkgHeader, String> {
    if blob.len() < 8 {
        return Err(format!("a geometry blob of {} bytes is too short for a GeoPackage header", blob.len()));
    }
    if &blob[..2] != b"GP" {
        return Err("the geometry blob does not start with the GeoPackage magic `GP`".into());
    }
    if blob[2] != 0 {
        return Err(format!("GeoPackage geometry version {} is not supported (only version 1, stored as 0)", blob[2]));
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err("an extended GeoPackage geometry is not supported".into());
    }
    let empty = flags & 0b0001_0000 != 0;
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        c => return Err(format!("invalid envelope code {c} in the geometry header")),
    };
    let little = flags & 1 == 1;
    let raw = [blob[4], blob[5], blob[6], blob[7]];
    let srs_id = if little { i32::from_le_bytes(raw) } else { i32::from_be_bytes(raw) };
    let wkb_offset = 8 + envelope;
    if blob.len() < wkb_offset {
        return Err(format!("a geometry blob of {} bytes is shorter than its header ({wkb_offset} bytes)", blob.len()));
    }
    Ok(GpkgHeader { srs_id, empty, wkb_offset })
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Reads the population grid of a GeoPackage into `Layers::cells`.
pub fn read(path: &Path, opts: &ReadOptions, dataset: &str) -> Result<(Layers, Vec<String>)> {
    let malformed = |reason: String| IoError::Malformed { path: path.to_path_buf(), format: "GeoPackage", reason };
    let sql = |e: rusqlite::Error| malformed(format!("cannot read the SQLite database: {e}"));
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(sql)?;
    let has_table = |name: &str| -> Result<bool> {
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n > 0)
        .map_err(sql)
    };
    for t in ["gpkg_contents", "gpkg_geometry_columns", "gpkg_spatial_ref_sys"] {
        if !has_table(t)? {
            return Err(malformed(format!("a SQLite database but not a GeoPackage: it has no `{t}` table")));
        }
    }
    let mut stmt = conn
        .prepare(
            "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c \
             JOIN gpkg_geometry_columns g ON c.table_name = g.table_name \
             WHERE c.data_type = 'features' ORDER BY c.table_name",
        )
        .map_err(sql)?;
    let tables: Vec<(String, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)?;
    drop(stmt);
    if tables.is_empty() {
        return Err(malformed("the GeoPackage has no feature table".into()));
    }
    let wanted: Vec<String> = match &opts.population_field {
        Some(f) => vec![f.clone()],
        None => POPULATION_FIELDS.iter().map(|s| s.to_string()).collect(),
    };
    // The first feature table with a population column.
    let mut chosen = None;
    let mut seen_columns = Vec::new();
    for (table, geom, srs) in &tables {
        let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(table))).map_err(sql)?;
        let cols: Vec<(String, i64)> = stmt
            .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)?)))
            .map_err(sql)?
            .collect::<std::result::Result<_, _>>()
            .map_err(sql)?;
        let pop =
            wanted.iter().find_map(|w| cols.iter().find(|(c, _)| c.eq_ignore_ascii_case(w)).map(|(c, _)| c.clone()));
        let fid = cols.iter().find(|(_, pk)| *pk == 1).map(|(c, _)| c.clone());
        seen_columns.push(format!("{table}: {}", cols.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", ")));
        if let Some(pop) = pop {
            chosen = Some((table.clone(), geom.clone(), *srs, pop, fid));
            break;
        }
    }
    let Some((table, geom_col, srs_id, pop_col, fid_col)) = chosen else {
        return Err(IoError::Field {
            path: path.to_path_buf(),
            location: "every feature table".into(),
            field: wanted.join(" | "),
            reason: format!("no population column (use --population-field); columns: {}", seen_columns.join("; ")),
        });
    };
    let mut notes = Vec::new();
    if tables.len() > 1 {
        notes.push(format!(
            "{}: {} feature tables; the population grid is read from `{table}`",
            path.display(),
            tables.len()
        ));
    }

    // The table's CRS.
    let srs: Option<(String, i64)> = conn
        .query_row(
            "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| if matches!(e, rusqlite::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })
        .map_err(sql)?;
    let unknown = |crs: String, reason: String| IoError::UnknownCrs { path: path.to_path_buf(), crs, reason };
    let transform = match srs {
        None => {
            return Err(unknown(
                format!("srs_id {srs_id}"),
                format!("table `{table}` uses srs_id {srs_id}, which gpkg_spatial_ref_sys does not define"),
            ));
        }
        Some((org, code)) if org.eq_ignore_ascii_case("EPSG") => {
            CrsTransform::for_epsg(path, code, &format!("srs_id {srs_id} (EPSG:{code})"))?
        }
        Some((org, code)) => {
            return Err(unknown(
                format!("srs_id {srs_id} ({org}:{code})"),
                "the population grid must be in WGS84 or an EPSG coordinate system".into(),
            ));
        }
    };

    let fid_expr = fid_col.as_deref().map(quote).unwrap_or_else(|| "rowid".to_string());
    let query = format!(
        "SELECT {fid_expr}, {}, {} FROM {} ORDER BY {fid_expr}",
        quote(&geom_col),
        quote(&pop_col),
        quote(&table)
    );
    let mut stmt = conn.prepare(&query).map_err(sql)?;
    let rows: Vec<(i64, Option<Vec<u8>>, SqlValue)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(sql)?
        .collect::<std::result::Result<_, _>>()
        .map_err(sql)?;
    let mut cells = Vec::with_capacity(rows.len());
    for (fid, blob, pop) in rows {
        let location = format!("table `{table}`, fid {fid}");
        let field = |field: &str, reason: String| IoError::Field {
            path: path.to_path_buf(),
            location: location.clone(),
            field: field.to_string(),
            reason,
        };
        let population = match pop {
            SqlValue::Integer(i) => i as f64,
            SqlValue::Real(f) => f,
            SqlValue::Null => return Err(field(&pop_col, "empty (NULL)".into())),
            SqlValue::Text(t) => {
                t.trim().parse::<f64>().map_err(|_| field(&pop_col, format!("{t:?} is not a number")))?
            }
            SqlValue::Blob(_) => return Err(field(&pop_col, "a blob, not a number".into())),
        };
        if !population.is_finite() || population < 0.0 {
            return Err(field(&pop_col, format!("{population} is not a number ≥ 0")));
        }
        let Some(blob) = blob else {
            notes.push(format!("{}: {location}: no geometry, skipped", path.display()));
            continue;
        };
        let header = parse_header(&blob).map_err(|e| field(&geom_col, e))?;
        if header.empty {
            notes.push(format!("{}: {location}: empty geometry, skipped", path.display()));
            continue;
        }
        if i64::from(header.srs_id) != srs_id && header.srs_id != 0 {
            return Err(field(
                &geom_col,
                format!("the geometry's srs_id {} differs from the column's srs_id {srs_id}", header.srs_id),
            ));
        }
        let geom = geozero::wkb::Wkb(&blob[header.wkb_offset..])
            .to_geo()
            .map_err(|e| field(&geom_col, format!("invalid WKB: {e}")))?;
        let poly: Polygon<f64> = match geom {
            Geometry::Polygon(p) => p,
            Geometry::MultiPolygon(mut mp) if mp.0.len() == 1 => mp.0.remove(0),
            other => {
                return Err(field(&geom_col, format!("a cell must be a Polygon, found {}", geometry_name(&other))));
            }
        };
        let poly = match &transform {
            None => poly,
            Some(t) => poly
                .try_map_coords(|c: Coord<f64>| t.apply(c.x, c.y).map(|(x, y)| Coord { x, y }))
                .map_err(|e| field(&geom_col, format!("cannot transform from {}: {e}", t.name)))?,
        };
        // Exterior counter-clockwise (geodesic areas depend on the orientation).
        let poly = poly.orient(Direction::Default);
        if poly.exterior().0.iter().any(|c| !in_lonlat_range(c.x, c.y)) {
            return Err(field(&geom_col, "coordinates outside the lon/lat range after the CRS transform".into()));
        }
        cells.push(PopulationCell {
            source_id: format!("{table}:{fid}"),
            dataset: dataset.to_string(),
            population,
            area: poly,
        });
    }
    if cells.is_empty() {
        return Err(malformed(format!("table `{table}` has no cells")));
    }
    Ok((Layers { cells, ..Layers::default() }, notes))
}

fn geometry_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "a Point",
        Geometry::Line(_) => "a Line",
        Geometry::LineString(_) => "a LineString",
        Geometry::Polygon(_) => "a Polygon",
        Geometry::MultiPoint(_) => "a MultiPoint",
        Geometry::MultiLineString(_) => "a MultiLineString",
        Geometry::MultiPolygon(_) => "a MultiPolygon of several polygons",
        Geometry::GeometryCollection(_) => "a GeometryCollection",
        Geometry::Rect(_) => "a Rect",
        Geometry::Triangle(_) => "a Triangle",
    }
}
