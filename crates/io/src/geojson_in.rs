//! GeoJSON input: regions, compounds, facilities, walking-network ways and buildings, told apart
//! by their properties as `docs/formats.md` describes.
//!
//! Features are named in messages as `feature N (id "x")`, where `N` is the 0-based index of the
//! feature in the `features` array (a lone Feature is feature 0). A feature without an id gets
//! `<dataset>#<N>`.
//!
//! Coordinates are WGS84 lon/lat. A legacy `crs` member naming another EPSG code is transformed
//! with `proj4rs` when its definition is known; `ReadOptions::input_coords` converts GCJ-02 and
//! BD-09 input to WGS84 after that.

use crate::ReadOptions;
use crate::error::{IoError, Result};
use geo::orient::{Direction, Orient};
use geo::{
    BooleanOps, Coord, Geometry, InteriorPoint, LineString, MultiLineString, MultiPolygon, Point, Polygon, Validation,
};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use wangge_core::chinacoords::CoordSystem;
use wangge_core::geometry::{inside_point, length_m};
use wangge_core::tags::{Walkability, is_residential, walkability};
use wangge_core::{
    BasemapFeature, BasemapKind, Building, Compound, Facility, HouseholdSource, Households, Layers, NetEdge, NetNode,
    Region, RegionLevel, Shape, Unit,
};

/// The largest household count accepted for one building or unit: anything above is a data error.
pub const MAX_HOUSEHOLDS: u64 = 100_000;

/// The largest storey count accepted.
pub const MAX_LEVELS: u64 = 300;

/// A transformation from a source CRS (an EPSG code known to `proj4rs`) to WGS84 lon/lat.
pub(crate) struct CrsTransform {
    src: proj4rs::Proj,
    dst: proj4rs::Proj,
    src_latlong: bool,
    /// The CRS as given, for messages.
    pub(crate) name: String,
}

impl CrsTransform {
    /// The transform for an EPSG code; `Ok(None)` for WGS84 itself (EPSG:4326).
    pub(crate) fn for_epsg(path: &Path, code: i64, given: &str) -> Result<Option<Self>> {
        if code == 4326 {
            return Ok(None);
        }
        let unknown = |reason: String| IoError::UnknownCrs { path: path.to_path_buf(), crs: given.to_string(), reason };
        let code16 = u16::try_from(code).map_err(|_| unknown(format!("EPSG:{code} is not a code wangge knows")))?;
        let src = proj4rs::Proj::from_epsg_code(code16)
            .map_err(|e| unknown(format!("EPSG:{code} is not a code wangge knows ({e})")))?;
        let dst = proj4rs::Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
            .map_err(|e| unknown(format!("cannot set up WGS84: {e}")))?;
        let src_latlong = src.is_latlong();
        Ok(Some(Self { src, dst, src_latlong, name: given.to_string() }))
    }

    /// Transforms one (x, y) in the source CRS to WGS84 (lon, lat) in degrees.
    pub(crate) fn apply(&self, x: f64, y: f64) -> std::result::Result<(f64, f64), String> {
        let mut p = if self.src_latlong { (x.to_radians(), y.to_radians(), 0.0) } else { (x, y, 0.0) };
        proj4rs::transform::transform(&self.src, &self.dst, &mut p).map_err(|e| e.to_string())?;
        Ok((p.0.to_degrees(), p.1.to_degrees()))
    }
}

/// True when (lon, lat) is a plausible WGS84 coordinate.
pub(crate) fn in_lonlat_range(lon: f64, lat: f64) -> bool {
    lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)
}

/// Checks a polygon set and repairs self-intersections when it can. Returns the polygons and,
/// when a repair was made, a description of what was wrong.
pub(crate) fn clean_polygons(
    mp: MultiPolygon<f64>,
) -> std::result::Result<(MultiPolygon<f64>, Option<String>), String> {
    if mp.0.is_empty() {
        return Err("the geometry has no polygon".into());
    }
    // Exterior rings counter-clockwise, holes clockwise (RFC 7946): geodesic areas depend on it.
    let mp = mp.orient(Direction::Default);
    let problems = mp.validation_errors();
    if problems.is_empty() {
        return Ok((mp, None));
    }
    let what = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
    if mp
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .any(|r| r.0.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()))
    {
        return Err(format!("invalid polygon that cannot be repaired: {what}"));
    }
    // A union with nothing under the even-odd rule rebuilds the rings without self-intersections.
    let repaired = mp.union(&MultiPolygon::<f64>::new(vec![])).orient(Direction::Default);
    if repaired.0.is_empty() || !repaired.is_valid() || wangge_core::geometry::area_m2(&repaired) <= 0.0 {
        return Err(format!("invalid polygon that cannot be repaired (it encloses no area): {what}"));
    }
    Ok((repaired, Some(what)))
}

/// Where a feature is, for messages.
fn loc(index: usize, id: &str) -> String {
    format!("feature {index} (id {id:?})")
}

struct Ctx<'a> {
    path: PathBuf,
    crs: Option<CrsTransform>,
    input: CoordSystem,
    opts: &'a ReadOptions,
}

impl Ctx<'_> {
    fn field(&self, location: &str, field: &str, reason: impl Into<String>) -> IoError {
        IoError::Field {
            path: self.path.clone(),
            location: location.to_string(),
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    fn coord(&self, v: &Value, location: &str) -> Result<Coord<f64>> {
        let arr =
            v.as_array().ok_or_else(|| self.field(location, "geometry", "a position is not an array of numbers"))?;
        if arr.len() < 2 {
            return Err(self.field(location, "geometry", "a position has fewer than 2 numbers"));
        }
        let (Some(x), Some(y)) = (arr[0].as_f64(), arr[1].as_f64()) else {
            return Err(self.field(location, "geometry", "a position holds something other than numbers"));
        };
        let (lon, lat) = match &self.crs {
            Some(t) => t.apply(x, y).map_err(|e| {
                self.field(location, "geometry", format!("cannot transform ({x}, {y}) from {}: {e}", t.name))
            })?,
            None => (x, y),
        };
        if !in_lonlat_range(lon, lat) {
            let hint = if self.crs.is_none() {
                " (projected coordinates without a `crs` member? GeoJSON coordinates are WGS84 lon/lat)"
            } else {
                ""
            };
            return Err(self.field(
                location,
                "geometry",
                format!("coordinate ({x}, {y}) is outside the lon/lat range -180..180, -90..90{hint}"),
            ));
        }
        let (lon, lat) = self.input.to_wgs84(lon, lat);
        Ok(Coord { x: lon, y: lat })
    }

    fn line(&self, v: &Value, location: &str) -> Result<LineString<f64>> {
        let arr =
            v.as_array().ok_or_else(|| self.field(location, "geometry", "a line is not an array of positions"))?;
        Ok(LineString(arr.iter().map(|p| self.coord(p, location)).collect::<Result<Vec<_>>>()?))
    }

    fn polygon(&self, v: &Value, location: &str) -> Result<Polygon<f64>> {
        let arr = v.as_array().ok_or_else(|| self.field(location, "geometry", "a polygon is not an array of rings"))?;
        let mut rings = arr.iter().map(|r| self.line(r, location)).collect::<Result<Vec<_>>>()?;
        if rings.is_empty() {
            return Err(self.field(location, "geometry", "a polygon has no rings"));
        }
        let exterior = rings.remove(0);
        Ok(Polygon::new(exterior, rings))
    }

    fn geometry(&self, g: &Value, location: &str) -> Result<Option<Geometry<f64>>> {
        if g.is_null() {
            return Ok(None);
        }
        let obj = g.as_object().ok_or_else(|| self.field(location, "geometry", "not an object"))?;
        let kind = obj.get("type").and_then(Value::as_str).unwrap_or("");
        let coords = || {
            obj.get("coordinates")
                .ok_or_else(|| self.field(location, "geometry", format!("{kind} without coordinates")))
        };
        let items = |v: &Value| -> Result<Vec<Value>> {
            v.as_array()
                .cloned()
                .ok_or_else(|| self.field(location, "geometry", format!("{kind}: coordinates are not an array")))
        };
        Ok(Some(match kind {
            "Point" => Geometry::Point(Point(self.coord(coords()?, location)?)),
            "MultiPoint" => Geometry::MultiPoint(
                items(coords()?)?
                    .iter()
                    .map(|p| self.coord(p, location).map(Point))
                    .collect::<Result<Vec<_>>>()?
                    .into(),
            ),
            "LineString" => Geometry::LineString(self.line(coords()?, location)?),
            "MultiLineString" => Geometry::MultiLineString(MultiLineString(
                items(coords()?)?.iter().map(|l| self.line(l, location)).collect::<Result<Vec<_>>>()?,
            )),
            "Polygon" => Geometry::Polygon(self.polygon(coords()?, location)?),
            "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
                items(coords()?)?.iter().map(|p| self.polygon(p, location)).collect::<Result<Vec<_>>>()?,
            )),
            other => {
                return Err(self.field(
                    location,
                    "geometry",
                    format!(
                        "unsupported geometry type {other:?} (expected Point, LineString, Polygon or their Multi forms)"
                    ),
                ));
            }
        }))
    }

    /// The polygons of an area feature, validated and repaired.
    fn area(&self, g: Option<Geometry<f64>>, location: &str, notes: &mut Vec<String>) -> Result<MultiPolygon<f64>> {
        let mp = match g {
            Some(Geometry::Polygon(p)) => MultiPolygon(vec![p]),
            Some(Geometry::MultiPolygon(mp)) => mp,
            _ => return Err(self.field(location, "geometry", "must be a Polygon or MultiPolygon")),
        };
        let (mp, repaired) = clean_polygons(mp).map_err(|e| self.field(location, "geometry", e))?;
        if let Some(what) = repaired {
            notes.push(format!("{}: {location}: repaired an invalid polygon ({what})", self.path.display()));
        }
        Ok(mp)
    }
}

/// A property as text: strings as they are, numbers written out.
fn text(props: &Map<String, Value>, key: &str) -> Option<String> {
    match props.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses a count (households, levels): a JSON integer or a string holding one.
fn count(v: &Value, max: u64) -> std::result::Result<u64, String> {
    let n: i128 = match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i128::from(i)
            } else if let Some(u) = n.as_u64() {
                i128::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
                    f as i128
                } else {
                    return Err(format!("{n} is not a whole number"));
                }
            }
        }
        Value::String(s) => s.trim().parse::<i128>().map_err(|_| format!("{s:?} is not a whole number"))?,
        other => return Err(format!("{other} is not a whole number")),
    };
    if n < 0 {
        return Err(format!("{n} is negative"));
    }
    if n > i128::from(max) {
        return Err(format!("{n} is more than {max}, not a plausible value"));
    }
    Ok(n as u64)
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "true" | "yes" | "1" | "是" => Some(true),
            "false" | "no" | "0" | "否" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().filter(|i| *i == 0 || *i == 1).map(|i| i == 1),
        _ => None,
    }
}

/// The EPSG code a legacy `crs` member names, with the text as given.
fn legacy_crs(path: &Path, crs: &Value) -> Result<Option<CrsTransform>> {
    let props = crs.get("properties");
    let given = props
        .and_then(|p| p.get("name").or_else(|| p.get("code")))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| crs.to_string());
    let upper = given.trim().to_uppercase();
    if upper.ends_with("CRS84") || upper.ends_with("CRS:84") || upper == "WGS84" {
        return Ok(None);
    }
    // "EPSG:3879", "urn:ogc:def:crs:EPSG::3879", "urn:ogc:def:crs:EPSG:6.3:3879", a bare code.
    let code = if upper.contains("EPSG") || upper.chars().all(|c| c.is_ascii_digit()) {
        upper.rsplit(':').next().and_then(|c| c.trim().parse::<i64>().ok())
    } else {
        None
    };
    match code {
        Some(c) => CrsTransform::for_epsg(path, c, &given),
        None => Err(IoError::UnknownCrs {
            path: path.to_path_buf(),
            crs: given,
            reason: "only EPSG codes and CRS84 are understood".into(),
        }),
    }
}

/// One walkable line waiting to be split at junctions.
struct WayLine {
    id: String,
    highway: String,
    name: Option<String>,
    private: bool,
    lines: Vec<LineString<f64>>,
}

/// The key of a network vertex: its coordinates rounded to 1e-7 degrees.
fn vertex_key(c: Coord<f64>) -> (i64, i64) {
    ((c.x * 1e7).round() as i64, (c.y * 1e7).round() as i64)
}

fn node_id(k: (i64, i64)) -> String {
    format!("geo:{:.7},{:.7}", k.0 as f64 / 1e7, k.1 as f64 / 1e7)
}

/// Splits walkable lines at their ends and at vertices shared by two or more lines (or visited
/// twice by one), as an OpenStreetMap network is split at shared nodes.
fn split_network(
    ways: &[WayLine],
    dataset: &str,
    notes: &mut Vec<String>,
    path: &Path,
) -> (Vec<NetNode>, Vec<NetEdge>) {
    // Drop repeated consecutive vertices first.
    let cleaned: Vec<Vec<Vec<Coord<f64>>>> = ways
        .iter()
        .map(|w| {
            w.lines
                .iter()
                .map(|l| {
                    let mut v: Vec<Coord<f64>> = Vec::with_capacity(l.0.len());
                    for c in &l.0 {
                        if v.last().is_none_or(|p| vertex_key(*p) != vertex_key(*c)) {
                            v.push(*c);
                        }
                    }
                    v
                })
                .collect()
        })
        .collect();
    let mut uses: HashMap<(i64, i64), usize> = HashMap::new();
    for c in cleaned.iter().flatten().flatten() {
        *uses.entry(vertex_key(*c)).or_default() += 1;
    }
    let mut nodes: BTreeMap<(i64, i64), Coord<f64>> = BTreeMap::new();
    let mut edges = Vec::new();
    for (w, lines) in ways.iter().zip(&cleaned) {
        let mut k = 0usize;
        for line in lines {
            if line.len() < 2 {
                notes.push(format!(
                    "{}: way {:?}: a line with fewer than 2 distinct points was skipped",
                    path.display(),
                    w.id
                ));
                continue;
            }
            let mut start = 0usize;
            for i in 1..line.len() {
                let key = vertex_key(line[i]);
                let last = i == line.len() - 1;
                if !last && uses.get(&key).copied().unwrap_or(0) < 2 {
                    continue;
                }
                let piece = LineString(line[start..=i].to_vec());
                let (a, b) = (vertex_key(line[start]), key);
                nodes.entry(a).or_insert(line[start]);
                nodes.entry(b).or_insert(line[i]);
                edges.push(NetEdge {
                    source_id: format!("{}:{k}", w.id),
                    dataset: dataset.to_string(),
                    from: node_id(a),
                    to: node_id(b),
                    length_m: length_m(&piece),
                    highway: w.highway.clone(),
                    name: w.name.clone(),
                    private: w.private,
                    geometry: piece,
                });
                k += 1;
                start = i;
            }
        }
    }
    let nodes = nodes.into_iter().map(|(k, c)| NetNode { source_id: node_id(k), location: Point(c) }).collect();
    (nodes, edges)
}

/// Reads a GeoJSON FeatureCollection (or single Feature) into layers. See the module docs and
/// `docs/formats.md` for how features are recognised.
pub fn read(path: &Path, bytes: &[u8], opts: &ReadOptions, dataset: &str) -> Result<(Layers, Vec<String>)> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut root: Value = serde_json::from_slice(bytes).map_err(|e| IoError::Malformed {
        path: path.to_path_buf(),
        format: "GeoJSON",
        reason: format!("{e} (line {}, column {})", e.line(), e.column()),
    })?;
    let malformed = |reason: String| IoError::Malformed { path: path.to_path_buf(), format: "GeoJSON", reason };
    let kind = root.get("type").and_then(Value::as_str).unwrap_or("").to_string();
    let features: Vec<Value> = match kind.as_str() {
        "FeatureCollection" => match root.get_mut("features").map(Value::take) {
            Some(Value::Array(a)) => a,
            _ => return Err(malformed("a FeatureCollection without a `features` array".into())),
        },
        "Feature" => vec![root.clone()],
        other => return Err(malformed(format!("expected a FeatureCollection or a Feature, found type {other:?}"))),
    };
    let crs = match root.get("crs") {
        Some(c) if !c.is_null() => legacy_crs(path, c)?,
        _ => None,
    };
    let ctx = Ctx { path: path.to_path_buf(), crs, input: opts.input_coords, opts };
    let mut layers = Layers::default();
    let mut notes = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut unnamed = 0usize;
    let mut ways = Vec::new();

    for (index, f) in features.iter().enumerate() {
        let pre = format!("feature {index}");
        let fobj = f.as_object().ok_or_else(|| ctx.field(&pre, "type", "not a Feature object"))?;
        if fobj.get("type").and_then(Value::as_str) != Some("Feature") {
            return Err(ctx.field(&pre, "type", "not a Feature"));
        }
        let empty = Map::new();
        let props = match fobj.get("properties") {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => &empty,
            Some(_) => return Err(ctx.field(&pre, "properties", "not an object")),
        };
        let id = match fobj.get("id") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => text(props, "id"),
        };
        let id = id.unwrap_or_else(|| {
            unnamed += 1;
            format!("{dataset}#{index}")
        });
        let location = loc(index, &id);
        if let Some(first) = seen.insert(id.clone(), index) {
            return Err(IoError::DuplicateId {
                path: path.to_path_buf(),
                id: id.clone(),
                first: format!("feature {first}"),
                second: format!("feature {index}"),
            });
        }
        let geom = ctx.geometry(fobj.get("geometry").unwrap_or(&Value::Null), &location)?;
        let name = text(props, "name");

        let is_area = matches!(geom, Some(Geometry::Polygon(_) | Geometry::MultiPolygon(_)));
        if ctx.opts.geojson_role == crate::GeoJsonRole::Boundaries
            && is_area
            && props.get("level").is_none_or(Value::is_null)
            && props.get("category").is_none_or(Value::is_null)
        {
            // A boundary file: every area is a community, named by `name` (else its id).
            let area = ctx.area(geom, &location, &mut notes)?;
            layers.regions.push(Region {
                source_id: id.clone(),
                dataset: dataset.to_string(),
                level: RegionLevel::Community,
                name: name.unwrap_or(id),
                code: text(props, "code"),
                parent: text(props, "parent"),
                area,
            });
            continue;
        }

        if let Some(level) = props.get("level").filter(|v| !v.is_null()) {
            let lv = level.as_str().unwrap_or("").trim();
            if matches!(lv.to_lowercase().as_str(), "compound" | "小区") {
                let area = ctx.area(geom, &location, &mut notes)?;
                layers.compounds.push(Compound {
                    source_id: id,
                    dataset: dataset.to_string(),
                    name,
                    area,
                    community: text(props, "community"),
                });
                continue;
            }
            let Some(level) = RegionLevel::parse(lv) else {
                return Err(ctx.field(
                    &location,
                    "level",
                    format!("{level} is not a level (district, street, community, compound or 区, 街道, 社区, 小区)"),
                ));
            };
            let name = name.ok_or_else(|| ctx.field(&location, "name", "a region needs a name"))?;
            let area = ctx.area(geom, &location, &mut notes)?;
            layers.regions.push(Region {
                source_id: id,
                dataset: dataset.to_string(),
                level,
                name,
                code: text(props, "code"),
                parent: text(props, "parent"),
                area,
            });
            continue;
        }

        if let Some(cat) = props.get("category").filter(|v| !v.is_null()) {
            let cat = cat.as_str().map(str::trim).unwrap_or("");
            let category =
                ctx.opts.catalogue.require(cat).map_err(|e| ctx.field(&location, "category", e.to_string()))?;
            let location_pt = match &geom {
                Some(Geometry::Point(p)) => Some(*p),
                Some(Geometry::Polygon(_) | Geometry::MultiPolygon(_)) => {
                    let mp = ctx.area(geom.clone(), &location, &mut notes)?;
                    inside_point(&mp)
                }
                Some(g) => g.interior_point(),
                None => None,
            };
            let location_pt =
                location_pt.ok_or_else(|| ctx.field(&location, "geometry", "a facility needs a location"))?;
            layers.facilities.push(Facility {
                source_id: id,
                dataset: dataset.to_string(),
                category: category.id.clone(),
                name,
                location: location_pt,
            });
            continue;
        }

        let is_line = matches!(geom, Some(Geometry::LineString(_) | Geometry::MultiLineString(_)));
        if is_line {
            let other = [("railway", BasemapKind::Rail), ("waterway", BasemapKind::Waterway)]
                .into_iter()
                .find_map(|(k, kind)| props.get(k).and_then(Value::as_str).map(|v| (kind, v.to_string())))
                .or_else(|| {
                    (ctx.opts.geojson_role == crate::GeoJsonRole::Barriers && props.get("highway").is_none())
                        .then(|| (BasemapKind::Road, text(props, "kind").unwrap_or_else(|| "barrier".into())))
                });
            let Some(highway) = props.get("highway").and_then(Value::as_str).map(str::to_string) else {
                match (other, geom) {
                    (Some((kind, class)), Some(g)) => layers.basemap.push(BasemapFeature {
                        source_id: id,
                        dataset: dataset.to_string(),
                        kind,
                        class,
                        name,
                        geometry: g,
                    }),
                    _ => notes.push(format!(
                        "{}: {location}: a line without `highway`, `railway` or `waterway` was skipped",
                        path.display()
                    )),
                }
                continue;
            };
            let tag = |k: &str| props.get(k).and_then(Value::as_str);
            let lines: Vec<LineString<f64>> = match &geom {
                Some(Geometry::LineString(l)) => vec![l.clone()],
                Some(Geometry::MultiLineString(m)) => m.0.clone(),
                _ => vec![],
            };
            if let Some(g) = geom {
                layers.basemap.push(BasemapFeature {
                    source_id: id.clone(),
                    dataset: dataset.to_string(),
                    kind: BasemapKind::Road,
                    class: highway.clone(),
                    name: name.clone(),
                    geometry: g,
                });
            }
            if let Walkability::Yes { private } = walkability(tag) {
                ways.push(WayLine { id, highway, name, private, lines });
            }
            continue;
        }

        // Anything else is a building.
        let shape = match geom {
            Some(Geometry::Point(p)) => Shape::Point(p),
            g @ Some(Geometry::Polygon(_) | Geometry::MultiPolygon(_)) => {
                Shape::Footprint(ctx.area(g, &location, &mut notes)?)
            }
            None => {
                notes.push(format!("{}: {location}: a feature without geometry was skipped", path.display()));
                continue;
            }
            Some(_) => {
                return Err(ctx.field(
                    &location,
                    "geometry",
                    "a building must be a Polygon, MultiPolygon or Point (a line needs `highway`)",
                ));
            }
        };
        let households = match props.get("households").filter(|v| !v.is_null()) {
            Some(v) => Some(count(v, MAX_HOUSEHOLDS).map_err(|e| ctx.field(&location, "households", e))? as u32),
            None => None,
        };
        let mut units = Vec::new();
        if let Some(us) = props.get("units").filter(|v| !v.is_null()) {
            let arr = us
                .as_array()
                .ok_or_else(|| ctx.field(&location, "units", "must be an array of { label, households }"))?;
            for (k, u) in arr.iter().enumerate() {
                let label = u
                    .as_object()
                    .and_then(|o| text(o, "label").or_else(|| text(o, "name")))
                    .ok_or_else(|| ctx.field(&location, &format!("units[{k}].label"), "missing (`label` or `name`)"))?;
                let hh = u
                    .get("households")
                    .ok_or_else(|| ctx.field(&location, &format!("units[{k}].households"), "missing"))?;
                let hh = count(hh, MAX_HOUSEHOLDS)
                    .map_err(|e| ctx.field(&location, &format!("units[{k}].households"), e))?;
                if units.iter().any(|x: &Unit| x.label == label) {
                    return Err(ctx.field(
                        &location,
                        &format!("units[{k}].label"),
                        format!("unit {label:?} appears twice"),
                    ));
                }
                units.push(Unit { label, households: hh as u32 });
            }
        }
        let unit_sum: u64 = units.iter().map(|u| u64::from(u.households)).sum();
        let households = match (households, units.is_empty()) {
            (Some(h), false) if u64::from(h) != unit_sum => {
                return Err(ctx.field(
                    &location,
                    "households",
                    format!("{h} households, but its units add up to {unit_sum}"),
                ));
            }
            (Some(h), _) => Some(h),
            (None, false) => {
                Some(u32::try_from(unit_sum).ok().filter(|s| u64::from(*s) <= MAX_HOUSEHOLDS).ok_or_else(|| {
                    ctx.field(&location, "units", format!("units add up to {unit_sum}, not plausible"))
                })?)
            }
            (None, true) => None,
        };
        let levels = match props.get("levels").filter(|v| !v.is_null()) {
            Some(v) => {
                let n = count(v, MAX_LEVELS).map_err(|e| ctx.field(&location, "levels", e))?;
                if n == 0 {
                    return Err(ctx.field(&location, "levels", "must be at least 1"));
                }
                Some(n as u16)
            }
            None => None,
        };
        let kind = text(props, "building").or_else(|| text(props, "kind")).unwrap_or_else(|| "yes".to_string());
        let residential = match props.get("residential").filter(|v| !v.is_null()) {
            Some(v) => {
                boolean(v).ok_or_else(|| ctx.field(&location, "residential", format!("{v} is not true or false")))?
            }
            None => households.is_some_and(|h| h > 0) || is_residential(|k| (k == "building").then_some(kind.as_str())),
        };
        layers.buildings.push(Building {
            source_id: id,
            dataset: dataset.to_string(),
            shape,
            kind,
            name,
            levels,
            households: households.map(|h| Households::new(h, HouseholdSource::Declared)).unwrap_or_default(),
            units,
            compound: text(props, "compound"),
            community: None,
            residential,
        });
    }
    let (nodes, edges) = split_network(&ways, dataset, &mut notes, path);
    layers.nodes = nodes;
    layers.edges = edges;
    if unnamed > 0 {
        notes.insert(0, format!("{}: {unnamed} feature(s) without an id were named {dataset}#<index>", path.display()));
    }
    Ok((layers, notes))
}
