//! `wangge circles …`: 15-minute life circles (15分钟生活圈). Walking-network distance from homes to
//! the nearest facility of every catalogue category, coverage, isochrones and where to add
//! facilities, on top of the `wangge-circles` engine.
//!
//! - Store mode ([`store`]): `compute` (results, scores and coverage saved in the store),
//!   `report` (coverage per category and region), `site` (where to add facilities, saved).
//! - File mode ([`files`]), no store: `nearest` (a CSV of points), `isochrones` (facilities),
//!   `coverage` (buildings GeoJSON), all from an OpenStreetMap file's walking network.
//!
//! Inputs are checked before anything is written; outputs are written atomically
//! (`wangge_io::export`), so a failure leaves no file behind. Points, buildings and facilities that
//! cannot be placed on the network, or sit on an island without the facility, are *unreachable*:
//! empty distances, never a number.

mod files;
mod store;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use geo::Point;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::Path;
use std::time::Duration;
use wangge_circles::{FacilitySet, Network, NetworkOptions, Origins, SnapFailure, WalkProfile};
use wangge_core::chinacoords::CoordSystem;
use wangge_core::{Catalogue, Facility, Layers};
use wangge_io::{IoError, ReadOptions};

/// Arguments of `wangge circles`.
#[derive(Args, Debug)]
pub struct CirclesArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Store mode: walk from every building with households to the nearest facility of each
    /// category; save per-building results, completeness scores and coverage (grid, community,
    /// street, city) in the store.
    Compute(store::ComputeArgs),
    /// Store mode: print the stored coverage per category for the city and per community.
    Report(store::ReportArgs),
    /// Store mode: choose sites for new facilities of a category covering the most households
    /// not covered now; print and save them.
    Site(store::SiteArgs),
    /// File mode: walking distance and time from every point of a CSV to the nearest facility of
    /// each category (`id,category,distance_m,time_s`).
    Nearest(files::NearestArgs),
    /// File mode: walking isochrones (5/10/15 minutes…) around facilities, as GeoJSON.
    Isochrones(files::IsochronesArgs),
    /// File mode: buildings as GeoJSON with their distance, time and coverage per category and a
    /// completeness score; a summary on stderr.
    Coverage(files::CoverageArgs),
}

/// Runs `wangge circles …`.
pub async fn run(db: &str, catalogue: Catalogue, args: CirclesArgs) -> Result<()> {
    match args.action {
        Action::Compute(a) => store::compute(db, catalogue, a).await,
        Action::Report(a) => store::report(db, catalogue, a).await,
        Action::Site(a) => store::site(db, catalogue, a).await,
        Action::Nearest(a) => files::nearest(catalogue, a),
        Action::Isochrones(a) => files::isochrones(catalogue, a),
        Action::Coverage(a) => files::coverage(catalogue, a),
    }
}

// ---- options shared by the commands ---------------------------------------------------------

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Profile {
    /// 1.2 m/s, the planning standard's assumption.
    Default,
    /// 0.8 m/s.
    Elderly,
}

/// How people walk and how points join the network.
#[derive(Args, Debug, Clone)]
pub(crate) struct WalkArgs {
    /// Walking profile: default (1.2 m/s) or elderly (0.8 m/s).
    #[arg(long, value_enum, default_value = "default")]
    profile: Profile,
    /// Walking speed in metres per second (replaces the profile's speed).
    #[arg(long, allow_negative_numbers = true)]
    speed: Option<f64>,
    /// Points, buildings and facilities farther than this from every walkable way they may use are
    /// not placed on the network (unreachable), metres.
    #[arg(long, default_value_t = 300.0, allow_negative_numbers = true)]
    max_snap: f64,
}

impl WalkArgs {
    pub(crate) fn profile(&self) -> Result<WalkProfile> {
        let name = match self.profile {
            Profile::Default => "default",
            Profile::Elderly => "elderly",
        };
        let base = WalkProfile::by_name(name)?;
        match self.speed {
            None => Ok(base),
            Some(s) => WalkProfile::new(name, s).context("--speed"),
        }
    }

    pub(crate) fn network_options(&self, respect_compounds: bool) -> Result<NetworkOptions> {
        if !(self.max_snap.is_finite() && self.max_snap >= 0.0) {
            bail!("--max-snap: must be a non-negative number of metres, got {}", self.max_snap);
        }
        Ok(NetworkOptions { max_snap_m: self.max_snap, respect_compounds, frame: None })
    }
}

/// The catalogue reduced to the categories asked for: `all`, or ids separated by commas (kept in
/// catalogue order). An unknown id is an error listing the known ones.
pub(crate) fn select_categories(catalogue: &Catalogue, spec: &str) -> Result<Catalogue> {
    let spec = spec.trim();
    if spec.is_empty() || spec == "all" {
        return Ok(catalogue.clone());
    }
    let mut wanted = Vec::new();
    for id in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        wanted.push(catalogue.require(id).context("--category")?.id.clone());
    }
    Ok(Catalogue { categories: catalogue.categories.iter().filter(|c| wanted.contains(&c.id)).cloned().collect() })
}

// ---- inputs ---------------------------------------------------------------------------------

/// Reads the city file (OpenStreetMap PBF/XML, or anything `wangge import` reads) that gives the
/// walking network; fails when it has no walkable way.
pub(crate) fn read_city(path: &Path, catalogue: &Catalogue) -> Result<Layers> {
    let imported = wangge_io::read(path, &ReadOptions { catalogue: catalogue.clone(), ..ReadOptions::default() })?;
    for n in &imported.notes {
        tracing::debug!("{}: {n}", path.display());
    }
    if imported.layers.edges.is_empty() {
        bail!("{}: no walking network (no way with a walkable `highway` tag)", path.display());
    }
    Ok(imported.layers)
}

/// Reads a facilities GeoJSON (points or polygons with `id`, `category`, optional `name`). Every
/// feature must be a facility of a catalogue category; errors name the file, feature and field.
pub(crate) fn read_facilities(path: &Path, catalogue: &Catalogue, coords: CoordSystem) -> Result<Vec<Facility>> {
    let opts = ReadOptions { catalogue: catalogue.clone(), input_coords: coords, ..ReadOptions::default() };
    let imported = wangge_io::read(path, &opts)?;
    if imported.dataset.format != "geojson" {
        bail!("{}: expected a GeoJSON file of facilities, found {}", path.display(), imported.dataset.format);
    }
    let l = &imported.layers;
    if !(l.buildings.is_empty()
        && l.regions.is_empty()
        && l.compounds.is_empty()
        && l.edges.is_empty()
        && l.basemap.is_empty())
    {
        return Err(not_a_facility(path, catalogue));
    }
    if l.facilities.is_empty() {
        bail!("{}: no facilities (features with `id` and `category`)", path.display());
    }
    Ok(imported.layers.facilities)
}

/// The error for a facilities file holding a feature without a category: finds the first one.
fn not_a_facility(path: &Path, catalogue: &Catalogue) -> anyhow::Error {
    let known = catalogue.categories.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ");
    let reason = format!("missing: every feature of a facilities file needs a category (one of: {known})");
    let text = std::fs::read(path).unwrap_or_default();
    let root: serde_json::Value = serde_json::from_slice(&text).unwrap_or_default();
    let features = match root.get("features").and_then(|f| f.as_array()) {
        Some(a) => a.clone(),
        None => vec![root.clone()],
    };
    for (i, f) in features.iter().enumerate() {
        let props = f.get("properties");
        if props.and_then(|p| p.get("category")).is_none_or(serde_json::Value::is_null) {
            let id = match f.get("id") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => props.and_then(|p| p.get("id")).and_then(|v| v.as_str()).unwrap_or("").to_string(),
            };
            return IoError::Field {
                path: path.to_path_buf(),
                location: format!("feature {i} (id {id:?})"),
                field: "category".into(),
                reason,
            }
            .into();
        }
    }
    anyhow::anyhow!("{}: holds features that are not facilities ({reason})", path.display())
}

/// A point of a points CSV.
#[derive(Debug, Clone)]
pub(crate) struct InputPoint {
    pub id: String,
    pub location: Point<f64>,
}

/// Reads a points CSV: a header naming `id`, `lon` and `lat` (any order, other columns ignored),
/// then one row per point; comma, semicolon or tab separated. Coordinates in `coords` are
/// converted to WGS84. Errors name the file, row (the header is row 1) and field.
pub(crate) fn read_points(path: &Path, coords: CoordSystem) -> Result<Vec<InputPoint>> {
    let bytes = std::fs::read(path).map_err(|e| IoError::Read { path: path.to_path_buf(), source: e })?;
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let delimiter =
        [b',', b';', b'\t'].into_iter().max_by_key(|d| first.iter().filter(|b| *b == d).count()).unwrap_or(b',');
    let mut r =
        csv::ReaderBuilder::new().has_headers(true).delimiter(delimiter).trim(csv::Trim::All).from_reader(bytes);
    let malformed = |reason: String| IoError::Malformed { path: path.to_path_buf(), format: "CSV", reason };
    let headers = r.headers().map_err(|e| malformed(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(ci), Some(cx), Some(cy)) = (col("id"), col("lon"), col("lat")) else {
        return Err(malformed(format!(
            "the header must name `id`, `lon` and `lat` (found: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        ))
        .into());
    };
    let field = |row: usize, field: &str, reason: String| IoError::Field {
        path: path.to_path_buf(),
        location: format!("row {row}"),
        field: field.into(),
        reason,
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, rec) in r.records().enumerate() {
        let row = i + 2;
        let rec = rec.map_err(|e| field(row, "-", e.to_string()))?;
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let id = rec.get(ci).unwrap_or("").to_string();
        if id.is_empty() {
            return Err(field(row, "id", "empty".into()).into());
        }
        if let Some(first) = seen.insert(id.clone(), row) {
            return Err(field(row, "id", format!("`{id}` is given twice (rows {first} and {row})")).into());
        }
        let number = |c: usize, name: &str, range: f64| -> Result<f64> {
            let text = rec.get(c).unwrap_or("");
            let v: f64 = text.parse().map_err(|_| field(row, name, format!("`{text}` is not a number")))?;
            if !(v.is_finite() && v.abs() <= range) {
                return Err(field(row, name, format!("{v} is outside -{range}..{range}")).into());
            }
            Ok(v)
        };
        let (lon, lat) = (number(cx, "lon", 180.0)?, number(cy, "lat", 90.0)?);
        let (lon, lat) = coords.to_wgs84(lon, lat);
        out.push(InputPoint { id, location: Point::new(lon, lat) });
    }
    if out.is_empty() {
        bail!("{}: no points (expected a header `id,lon,lat` and one row per point)", path.display());
    }
    Ok(out)
}

// ---- facilities and the network -------------------------------------------------------------

/// Keeps the facilities of the categories in `catalogue` (the selected ones); facilities whose
/// category the `full` catalogue does not define (a store imported with another catalogue) are
/// left out and reported.
pub(crate) fn facilities_of(catalogue: &Catalogue, facilities: &[Facility], full: &Catalogue) -> Vec<Facility> {
    let mut unknown = std::collections::BTreeMap::<&str, usize>::new();
    let kept = facilities
        .iter()
        .filter(|f| {
            if catalogue.get(&f.category).is_some() {
                true
            } else {
                if full.get(&f.category).is_none() {
                    *unknown.entry(f.category.as_str()).or_default() += 1;
                }
                false
            }
        })
        .cloned()
        .collect();
    if !unknown.is_empty() {
        eprintln!(
            "note: facilities of categories the catalogue does not define are left out: {}",
            unknown.iter().map(|(c, n)| format!("{c} ({n})")).collect::<Vec<_>>().join(", ")
        );
    }
    kept
}

/// One line per problem with the network and the placed points, on stderr: islands and the points
/// on them, points and facilities not on the network, categories without a facility.
pub(crate) fn report_network(net: &Network, origins: &Origins, what: &str, ids: &dyn Fn(usize) -> String) {
    let g = net.graph();
    let s = g.stats();
    let main_km = g.components().first().map_or(0.0, |c| c.length_m / 1000.0);
    eprintln!(
        "network: {} nodes, {} edges, {:.1} km in the main part; {} island(s) (parts not connected to it)",
        s.nodes,
        s.edges,
        main_km,
        g.islands().len()
    );
    let on_islands: Vec<usize> = origins
        .snaps()
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().ok().filter(|snap| net.component_of(snap) != 0).map(|_| i))
        .collect();
    if !on_islands.is_empty() {
        eprintln!(
            "note: {} {what} lie on islands of the network: they reach only facilities on the same island \
             (others are unreachable), e.g. {}",
            on_islands.len(),
            on_islands.iter().take(5).map(|&i| ids(i)).collect::<Vec<_>>().join(", ")
        );
    }
    let failures = origins.failures();
    if !failures.is_empty() {
        eprintln!(
            "note: {} {what} are not on the walking network and are unreachable (empty distances): {}",
            failures.len(),
            examples(&failures, ids)
        );
    }
}

/// Notes on stderr about facilities not placed on the network and categories without any.
pub(crate) fn report_facilities(fs: &FacilitySet) {
    let failures = fs.failures();
    if !failures.is_empty() {
        let facs = fs.facilities();
        eprintln!(
            "note: {} facilities are not on the walking network and are left out: {}",
            failures.len(),
            examples(&failures, &|i| facs[i].source_id.clone())
        );
    }
    let none: Vec<&str> = fs
        .categories()
        .iter()
        .enumerate()
        .filter(|(c, _)| !fs.of_category(*c).iter().any(|&f| fs.facilities()[f as usize].snap.is_ok()))
        .map(|(_, c)| c.id.as_str())
        .collect();
    if !none.is_empty() {
        eprintln!(
            "note: no facility on the network for {}: those categories are unreachable everywhere",
            none.join(", ")
        );
    }
}

fn examples(failures: &[(usize, SnapFailure)], ids: &dyn Fn(usize) -> String) -> String {
    let mut s: Vec<String> = failures.iter().take(5).map(|(i, f)| format!("{} ({f})", ids(*i))).collect();
    if failures.len() > 5 {
        s.push("…".into());
    }
    s.join(", ")
}

// ---- progress -------------------------------------------------------------------------------

/// A progress bar on stderr that appears only when a run lasts over a second (and only on a terminal).
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub(crate) fn new(len: u64) -> Self {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let later = bar.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(1));
            if !later.is_finished() {
                later.set_draw_target(ProgressDrawTarget::stderr());
                later.enable_steady_tick(Duration::from_millis(200));
            }
        });
        Self { bar }
    }

    /// Starts a phase (shown as the bar's message).
    pub(crate) fn phase(&self, msg: &'static str) {
        self.bar.set_message(msg);
    }

    pub(crate) fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    pub(crate) fn set_length(&self, len: u64) {
        self.bar.set_length(len);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// A number with thousands separators.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `covered / total (share)` for a table.
pub(crate) fn share(covered: u64, total: u64) -> String {
    if total == 0 { "–".to_string() } else { format!("{:.1}%", covered as f64 * 100.0 / total as f64) }
}
