//! Life-circle results (15分钟生活圈) as the store keeps them: plain rows that `wangge circles
//! compute` writes in one go ([`CirclesRun`]) and `wangge circles report` reads back, plus siting
//! suggestions. Both stores share the SQL here (`$n` parameters, `{…}` markers for what differs),
//! the checks of what is written and the conversion of loaded rows.
//!
//! Building, facility and region ids are source id strings, as everywhere in the store.

use crate::error::{Result, StoreError};
use crate::rows::{Table, Value};
use geo::{Geometry, Point};
use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use wangge_core::catalogue::CircleLevel;

// ---- the rows ------------------------------------------------------------------------------

/// The nearest facility of one category for one building.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CircleResult {
    /// Building source id.
    pub building: String,
    /// Category id (one of the run's categories).
    pub category: String,
    /// Walking distance in metres; `None` when unreachable or beyond the cut-off.
    pub distance_m: Option<f64>,
    /// Walking time in seconds at the run's speed; `None` when unreachable or beyond the cut-off.
    pub time_s: Option<f64>,
    /// Source id of the nearest facility, if one was found.
    pub facility: Option<String>,
}

/// A building's completeness score: the weighted share of the run's categories it is covered for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildingScore {
    /// Building source id.
    pub building: String,
    /// 0..1.
    pub completeness: f64,
}

/// The level a coverage summary is taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CoverageLevel {
    /// One grid (网格) of the active plan.
    Grid,
    /// One community (社区).
    Community,
    /// One street (街道).
    Street,
    /// The whole city (one summary per category).
    City,
}

impl CoverageLevel {
    /// Every level, finest first.
    pub const ALL: [Self; 4] = [Self::Grid, Self::Community, Self::Street, Self::City];

    /// `grid`, `community`, `street` or `city`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grid => "grid",
            Self::Community => "community",
            Self::Street => "street",
            Self::City => "city",
        }
    }

    /// The level named by [`CoverageLevel::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// How many households and buildings of one region are covered for one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageSummary {
    /// Category id (one of the run's categories).
    pub category: String,
    /// Level of the region.
    pub level: CoverageLevel,
    /// Grid id, community or street source id, or the city's id (any non-empty text, e.g. `city`).
    pub region: String,
    /// Households within the category's distance.
    pub households_covered: u64,
    /// Households in the region.
    pub households_total: u64,
    /// Buildings within the category's distance.
    pub buildings_covered: u64,
    /// Buildings in the region.
    pub buildings_total: u64,
}

/// A catalogue category as used by a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CircleCategory {
    /// Category id.
    pub id: String,
    /// Life-circle level.
    pub level: CircleLevel,
    /// Walking distance within which a building counts as covered, in metres.
    pub distance_m: f64,
    /// Weight in the completeness score.
    pub weight: f64,
}

/// The walking graph a run used. Fields the engine adds beyond these are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GraphSummary {
    /// Nodes.
    pub nodes: u64,
    /// Edges.
    pub edges: u64,
    /// Connected components apart from the largest.
    pub islands: u64,
    /// Buildings that reach no node of the graph.
    pub unreachable_buildings: u64,
    /// Anything else the engine reports.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// What a run was: when, at which speed and profile, with which categories, on which graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CirclesMeta {
    /// When the results were saved (RFC 3339, UTC, whole seconds); set by the store.
    pub computed_at: String,
    /// Walking speed, m/s.
    pub speed_mps: f64,
    /// Profile name, e.g. `default` or `elderly`.
    pub profile: String,
    /// Categories with their thresholds, in catalogue order.
    pub categories: Vec<CircleCategory>,
    /// The walking graph.
    pub graph: GraphSummary,
}

/// Everything one `wangge circles compute` stores; [`crate::Store::save_circles`] replaces the
/// previous run with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CirclesRun {
    /// The run's metadata (`computed_at` is ignored on save).
    pub meta: CirclesMeta,
    /// One row per building and category.
    pub results: Vec<CircleResult>,
    /// One score per building.
    pub scores: Vec<BuildingScore>,
    /// Coverage per category, level and region.
    pub coverage: Vec<CoverageSummary>,
}

/// A suggested site for a new facility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSuggestion {
    /// Category id.
    pub category: String,
    /// 1 for the best site of the category, then 2, 3, …
    pub rank: u32,
    /// WGS84 longitude.
    pub lon: f64,
    /// WGS84 latitude.
    pub lat: f64,
    /// Households newly covered if a facility is built there.
    pub households_gained: u64,
    /// Whatever else the siting engine reports (buildings gained, candidate node, …).
    pub detail: serde_json::Value,
}

// ---- SQL -----------------------------------------------------------------------------------

pub(crate) static RESULTS: Table = Table {
    name: "circle_results",
    key: &["building_id", "category"],
    cols: &["building_id", "category", "distance_m", "time_s", "facility_id"],
};
pub(crate) static SCORES: Table =
    Table { name: "circle_scores", key: &["building_id"], cols: &["building_id", "completeness"] };
pub(crate) static COVERAGE: Table = Table {
    name: "circle_coverage",
    key: &["category", "level", "region_id"],
    cols: &[
        "category",
        "level",
        "region_id",
        "households_covered",
        "households_total",
        "buildings_covered",
        "buildings_total",
    ],
};
pub(crate) static SITES: Table = Table {
    name: "circle_sites",
    key: &["category", "rank"],
    cols: &["category", "rank", "households_gained", "detail", "geom"],
};

/// Everything a new run replaces (sites too: they were found against the previous results).
pub(crate) const CLEAR_RUN: [&str; 5] = [
    "DELETE FROM circle_results",
    "DELETE FROM circle_scores",
    "DELETE FROM circle_coverage",
    "DELETE FROM circle_sites",
    "DELETE FROM circle_runs",
];

/// Writes the run's row (after [`CLEAR_RUN`]); `{now}` is the dialect's current time.
pub(crate) const INSERT_RUN: &str = "INSERT INTO circle_runs (id, computed_at, speed_mps, profile, categories, graph) \
     VALUES (1, {now}, $1, $2, $3, $4)";

/// The run's row; `{computed_at}` is the dialect's RFC 3339 text of the column.
pub(crate) const SELECT_RUN: &str =
    "SELECT {computed_at}, speed_mps, profile, categories, graph FROM circle_runs WHERE id = 1";

/// Results, all or of category `$1`.
pub(crate) fn select_results(by_category: bool) -> String {
    let mut q = "SELECT building_id, category, distance_m, time_s, facility_id FROM circle_results".to_string();
    if by_category {
        q.push_str(" WHERE category = $1");
    }
    q
}

/// Scores.
pub(crate) const SELECT_SCORES: &str = "SELECT building_id, completeness FROM circle_scores";

/// Coverage, filtered by level and/or category (`$1`, `$2` in that order of those given).
pub(crate) fn select_coverage(by_level: bool, by_category: bool) -> String {
    let mut q = "SELECT category, level, region_id, households_covered, households_total, buildings_covered, \
                 buildings_total FROM circle_coverage"
        .to_string();
    match (by_level, by_category) {
        (true, true) => q.push_str(" WHERE level = $1 AND category = $2"),
        (true, false) => q.push_str(" WHERE level = $1"),
        (false, true) => q.push_str(" WHERE category = $1"),
        (false, false) => {}
    }
    q
}

/// Removes the sites of category `$1` (before writing new ones).
pub(crate) const DELETE_SITES: &str = "DELETE FROM circle_sites WHERE category = $1";

/// Sites, all or of category `$1`; `{geom}` is the dialect's WKB of the column.
pub(crate) fn select_sites(by_category: bool) -> String {
    let mut q = "SELECT category, rank, households_gained, detail, {geom} FROM circle_sites".to_string();
    if by_category {
        q.push_str(" WHERE category = $1");
    }
    q
}

/// `template` with `{now}`, `{geom}` and `{computed_at}` filled in for a store's dialect.
pub(crate) fn sql(d: &crate::plans::Dialect, template: &str) -> String {
    template
        .replace("{now}", d.now)
        .replace("{geom}", d.geom)
        .replace("{computed_at}", &d.time.replace("{}", "computed_at"))
}

// ---- checks and rows to write --------------------------------------------------------------

/// What is being done, for errors.
pub(crate) const SAVING: &str = "saving life-circle results";

fn invalid(doing: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid { doing: doing.to_string(), reason: reason.into() }
}

fn count(doing: &str, what: &str, field: &str, v: u64) -> Result<Value> {
    i64::try_from(v).map(Value::Int).map_err(|_| invalid(doing, format!("{what}: {field} {v} is too large")))
}

/// A metre/second value that must be finite and not negative (`what`: the row, `field`: the column).
fn non_negative(what: &str, field: &str, v: f64) -> Result<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(invalid(SAVING, format!("{what}: {field} is {v} (must be a finite number ≥ 0)")))
    }
}

/// A run checked and flattened into rows, ready to write.
#[derive(Debug)]
pub(crate) struct EncodedRun {
    /// `categories` as JSON text.
    pub categories: String,
    /// `graph` as JSON text.
    pub graph: String,
    /// Rows of [`RESULTS`].
    pub results: Vec<Vec<Value>>,
    /// Rows of [`SCORES`].
    pub scores: Vec<Vec<Value>>,
    /// Rows of [`COVERAGE`].
    pub coverage: Vec<Vec<Value>>,
}

/// Checks a run and flattens it into rows. Fails with [`StoreError::Invalid`] naming the row and
/// field: a non-finite or negative distance, time or speed; a completeness outside 0..1; more
/// covered than total; a category the run does not list; an empty id; a row given twice.
pub(crate) fn encode_run(run: &CirclesRun) -> Result<EncodedRun> {
    let m = &run.meta;
    if !(m.speed_mps.is_finite() && m.speed_mps > 0.0) {
        return Err(invalid(SAVING, format!("speed_mps is {} (must be a positive number of m/s)", m.speed_mps)));
    }
    if m.profile.is_empty() {
        return Err(invalid(SAVING, "the profile needs a name"));
    }
    let mut categories: HashSet<&str> = HashSet::with_capacity(m.categories.len());
    for c in &m.categories {
        let what = format!("category `{}`", c.id);
        if c.id.is_empty() {
            return Err(invalid(SAVING, "a category has an empty id"));
        }
        if !categories.insert(c.id.as_str()) {
            return Err(invalid(SAVING, format!("{what} is listed twice")));
        }
        if !(c.distance_m.is_finite() && c.distance_m > 0.0) {
            return Err(invalid(SAVING, format!("{what}: distance_m is {} (must be > 0)", c.distance_m)));
        }
        non_negative(&what, "weight", c.weight)?;
    }
    let known = |what: &str, category: &str| -> Result<()> {
        if categories.contains(category) {
            Ok(())
        } else {
            let mut list: Vec<&str> = categories.iter().copied().collect();
            list.sort_unstable();
            Err(invalid(
                SAVING,
                format!("{what}: category `{category}` is not one of the run's categories ({})", list.join(", ")),
            ))
        }
    };
    let json = |field: &str, v: serde_json::Result<String>| v.map_err(|e| invalid(SAVING, format!("{field}: {e}")));
    let categories_json = json("categories", serde_json::to_string(&m.categories))?;
    let graph = json("graph", serde_json::to_string(&m.graph))?;

    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(run.results.len());
    let mut results = Vec::with_capacity(run.results.len());
    for r in &run.results {
        let what = format!("building `{}` category `{}`", r.building, r.category);
        if r.building.is_empty() {
            return Err(invalid(SAVING, format!("{what}: empty building id")));
        }
        known(&what, &r.category)?;
        if !seen.insert((&r.building, &r.category)) {
            return Err(invalid(SAVING, format!("{what} is given twice")));
        }
        let distance = r.distance_m.map(|d| non_negative(&what, "distance_m", d)).transpose()?;
        let time = r.time_s.map(|t| non_negative(&what, "time_s", t)).transpose()?;
        if r.facility.as_deref() == Some("") {
            return Err(invalid(SAVING, format!("{what}: empty facility id (use none)")));
        }
        results.push(vec![
            Value::Text(r.building.clone()),
            Value::Text(r.category.clone()),
            Value::OptReal(distance),
            Value::OptReal(time),
            Value::OptText(r.facility.clone()),
        ]);
    }

    let mut seen: HashSet<&str> = HashSet::with_capacity(run.scores.len());
    let mut scores = Vec::with_capacity(run.scores.len());
    for s in &run.scores {
        let what = format!("building `{}`", s.building);
        if s.building.is_empty() {
            return Err(invalid(SAVING, "a score has an empty building id"));
        }
        if !seen.insert(&s.building) {
            return Err(invalid(SAVING, format!("{what} has two scores")));
        }
        if !(0.0..=1.0).contains(&s.completeness) {
            return Err(invalid(SAVING, format!("{what}: completeness is {} (must be within 0..1)", s.completeness)));
        }
        scores.push(vec![Value::Text(s.building.clone()), Value::Real(s.completeness)]);
    }

    let mut seen: HashSet<(&str, CoverageLevel, &str)> = HashSet::with_capacity(run.coverage.len());
    let mut coverage = Vec::with_capacity(run.coverage.len());
    for c in &run.coverage {
        let what = format!("coverage of {} `{}` category `{}`", c.level.as_str(), c.region, c.category);
        if c.region.is_empty() {
            return Err(invalid(SAVING, format!("{what}: empty region id")));
        }
        known(&what, &c.category)?;
        if !seen.insert((&c.category, c.level, &c.region)) {
            return Err(invalid(SAVING, format!("{what} is given twice")));
        }
        if c.households_covered > c.households_total {
            return Err(invalid(
                SAVING,
                format!(
                    "{what}: households_covered {} exceeds households_total {}",
                    c.households_covered, c.households_total
                ),
            ));
        }
        if c.buildings_covered > c.buildings_total {
            return Err(invalid(
                SAVING,
                format!(
                    "{what}: buildings_covered {} exceeds buildings_total {}",
                    c.buildings_covered, c.buildings_total
                ),
            ));
        }
        coverage.push(vec![
            Value::Text(c.category.clone()),
            Value::Text(c.level.as_str().to_string()),
            Value::Text(c.region.clone()),
            count(SAVING, &what, "households_covered", c.households_covered)?,
            count(SAVING, &what, "households_total", c.households_total)?,
            count(SAVING, &what, "buildings_covered", c.buildings_covered)?,
            count(SAVING, &what, "buildings_total", c.buildings_total)?,
        ]);
    }
    Ok(EncodedRun { categories: categories_json, graph, results, scores, coverage })
}

/// What was being done, for errors about the sites of `category`.
pub(crate) fn saving_sites(category: &str) -> String {
    format!("saving sites of category `{category}`")
}

/// Checks the sites of one category and flattens them into rows of [`SITES`].
pub(crate) fn encode_sites(category: &str, sites: &[SiteSuggestion]) -> Result<Vec<Vec<Value>>> {
    let doing = saving_sites(category);
    if category.is_empty() {
        return Err(invalid(&doing, "empty category id"));
    }
    let mut seen: HashSet<u32> = HashSet::with_capacity(sites.len());
    let mut rows = Vec::with_capacity(sites.len());
    for s in sites {
        let what = format!("site of rank {}", s.rank);
        if s.category != category {
            return Err(invalid(&doing, format!("{what} is of category `{}`", s.category)));
        }
        if s.rank == 0 {
            return Err(invalid(&doing, "rank 0: ranks start at 1"));
        }
        if !seen.insert(s.rank) {
            return Err(invalid(&doing, format!("rank {} is given twice", s.rank)));
        }
        if !(s.lon.is_finite() && (-180.0..=180.0).contains(&s.lon)) {
            return Err(invalid(&doing, format!("{what}: lon is {} (must be within -180..180)", s.lon)));
        }
        if !(s.lat.is_finite() && (-90.0..=90.0).contains(&s.lat)) {
            return Err(invalid(&doing, format!("{what}: lat is {} (must be within -90..90)", s.lat)));
        }
        let detail = serde_json::to_string(&s.detail).map_err(|e| invalid(&doing, format!("{what}: detail: {e}")))?;
        let geom = Geometry::Point(Point::new(s.lon, s.lat))
            .to_wkb(CoordDimensions::xy())
            .map_err(|e| invalid(&doing, format!("{what}: cannot encode the point: {e}")))?;
        rows.push(vec![
            Value::Text(category.to_string()),
            Value::Int(i64::from(s.rank)),
            count(&doing, &what, "households_gained", s.households_gained)?,
            Value::Text(detail),
            Value::Geom(geom),
        ]);
    }
    Ok(rows)
}

// ---- loading -------------------------------------------------------------------------------

/// A loaded `circle_runs` row.
pub(crate) type RunRow = (String, f64, String, String, String);
/// A loaded `circle_results` row.
pub(crate) type ResultRow = (String, String, Option<f64>, Option<f64>, Option<String>);
/// A loaded `circle_scores` row.
pub(crate) type ScoreRow = (String, f64);
/// A loaded `circle_coverage` row.
pub(crate) type CoverageRow = (String, String, String, i64, i64, i64, i64);
/// A loaded `circle_sites` row.
pub(crate) type SiteRow = (String, i64, i64, String, Vec<u8>);

fn corrupt(table: &str, id: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { doing: format!("loading {table}"), id: id.to_string(), reason: reason.to_string() }
}

fn u64_of(table: &str, id: &str, field: &str, v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt(table, id, format!("{field} {v} is negative")))
}

/// The run's metadata from its row.
pub(crate) fn meta(r: RunRow) -> Result<CirclesMeta> {
    let (computed_at, speed_mps, profile, categories, graph) = r;
    let categories =
        serde_json::from_str(&categories).map_err(|e| corrupt("circle_runs", "1", format!("categories: {e}")))?;
    let graph = serde_json::from_str(&graph).map_err(|e| corrupt("circle_runs", "1", format!("graph: {e}")))?;
    Ok(CirclesMeta { computed_at, speed_mps, profile, categories, graph })
}

/// Results from their rows, sorted by (building, category) byte for byte.
pub(crate) fn results(rows: Vec<ResultRow>) -> Vec<CircleResult> {
    let mut out: Vec<CircleResult> = rows
        .into_iter()
        .map(|(building, category, distance_m, time_s, facility)| CircleResult {
            building,
            category,
            distance_m,
            time_s,
            facility,
        })
        .collect();
    out.sort_by(|a, b| (&a.building, &a.category).cmp(&(&b.building, &b.category)));
    out
}

/// Scores from their rows, sorted by building.
pub(crate) fn scores(rows: Vec<ScoreRow>) -> Vec<BuildingScore> {
    let mut out: Vec<BuildingScore> =
        rows.into_iter().map(|(building, completeness)| BuildingScore { building, completeness }).collect();
    out.sort_by(|a, b| a.building.cmp(&b.building));
    out
}

/// Coverage from its rows, sorted by (category, level, region).
pub(crate) fn coverage(rows: Vec<CoverageRow>) -> Result<Vec<CoverageSummary>> {
    let mut out = Vec::with_capacity(rows.len());
    for (category, level, region, hc, ht, bc, bt) in rows {
        let id = format!("{category}/{level}/{region}");
        let t = "circle_coverage";
        let level = CoverageLevel::parse(&level).ok_or_else(|| corrupt(t, &id, format!("unknown level `{level}`")))?;
        out.push(CoverageSummary {
            households_covered: u64_of(t, &id, "households_covered", hc)?,
            households_total: u64_of(t, &id, "households_total", ht)?,
            buildings_covered: u64_of(t, &id, "buildings_covered", bc)?,
            buildings_total: u64_of(t, &id, "buildings_total", bt)?,
            category,
            level,
            region,
        });
    }
    out.sort_by(|a, b| (&a.category, a.level, &a.region).cmp(&(&b.category, b.level, &b.region)));
    Ok(out)
}

/// Sites from their rows, sorted by (category, rank).
pub(crate) fn sites(rows: Vec<SiteRow>) -> Result<Vec<SiteSuggestion>> {
    let mut out = Vec::with_capacity(rows.len());
    for (category, rank, households, detail, geom) in rows {
        let t = "circle_sites";
        let id = format!("{category}/{rank}");
        let rank = u32::try_from(rank).map_err(|_| corrupt(t, &id, format!("rank {rank} is out of range")))?;
        let households_gained = u64_of(t, &id, "households_gained", households)?;
        let detail = serde_json::from_str(&detail).map_err(|e| corrupt(t, &id, format!("detail: {e}")))?;
        let p = match Wkb(geom).to_geo() {
            Ok(Geometry::Point(p)) => p,
            Ok(other) => return Err(corrupt(t, &id, format!("expected a point, found {other:?}"))),
            Err(e) => return Err(corrupt(t, &id, format!("geometry: {e}"))),
        };
        out.push(SiteSuggestion { category, rank, lon: p.x(), lat: p.y(), households_gained, detail });
    }
    out.sort_by(|a, b| (&a.category, a.rank).cmp(&(&b.category, b.rank)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> CirclesRun {
        CirclesRun {
            meta: CirclesMeta {
                computed_at: String::new(),
                speed_mps: 1.2,
                profile: "default".into(),
                categories: vec![CircleCategory {
                    id: "park".into(),
                    level: CircleLevel::Min5,
                    distance_m: 300.0,
                    weight: 1.0,
                }],
                graph: GraphSummary::default(),
            },
            results: vec![CircleResult {
                building: "b".into(),
                category: "park".into(),
                distance_m: Some(10.0),
                time_s: Some(8.3),
                facility: Some("f".into()),
            }],
            scores: vec![BuildingScore { building: "b".into(), completeness: 1.0 }],
            coverage: vec![CoverageSummary {
                category: "park".into(),
                level: CoverageLevel::City,
                region: "city".into(),
                households_covered: 1,
                households_total: 2,
                buildings_covered: 1,
                buildings_total: 1,
            }],
        }
    }

    fn reason(r: &CirclesRun) -> String {
        match encode_run(r) {
            Err(StoreError::Invalid { reason, .. }) => reason,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_good_run_encodes() {
        let e = encode_run(&run()).map_err(|e| e.to_string());
        assert_eq!(e.map(|e| (e.results.len(), e.scores.len(), e.coverage.len())), Ok((1, 1, 1)));
    }

    #[test]
    fn bad_values_name_the_field() {
        let mut r = run();
        r.results[0].distance_m = Some(f64::NAN);
        assert!(reason(&r).contains("distance_m is NaN"), "{}", reason(&r));
        let mut r = run();
        r.results[0].time_s = Some(-1.0);
        assert!(reason(&r).contains("time_s is -1"));
        let mut r = run();
        r.scores[0].completeness = 1.5;
        assert!(reason(&r).contains("completeness"));
        let mut r = run();
        r.coverage[0].households_covered = 3;
        assert!(reason(&r).contains("households_covered 3 exceeds households_total 2"));
        let mut r = run();
        r.coverage[0].households_total = u64::MAX;
        assert!(reason(&r).contains("households_total"));
        let mut r = run();
        r.meta.speed_mps = 0.0;
        assert!(reason(&r).contains("speed_mps"));
        let mut r = run();
        r.results[0].category = "zoo".into();
        assert!(reason(&r).contains("`zoo` is not one of the run's categories (park)"));
    }

    #[test]
    fn levels_round_trip() {
        for l in CoverageLevel::ALL {
            assert_eq!(CoverageLevel::parse(l.as_str()), Some(l));
            assert_eq!(serde_json::to_value(l).ok(), Some(serde_json::json!(l.as_str())));
        }
        assert_eq!(CoverageLevel::parse("district"), None);
    }

    #[test]
    fn dialect_markers_are_filled() {
        let d = crate::plans::Dialect { now: "NOW", time: "t({})", geom: "G" };
        assert_eq!(sql(&d, "{computed_at} {now} {geom}"), "t(computed_at) NOW G");
    }
}
