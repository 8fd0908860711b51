//! What both stores share for grid plans: the SQL (with `$n` parameters, which both SQLite and
//! PostgreSQL accept, and `{…}` markers for the few expressions that differ), the checks and rows
//! of a plan to write, and the conversion of loaded rows back into [`PlanRecord`]s.

use crate::error::{Result, StoreError};
use crate::rows::{Table, Value};
use geo::{Geometry, LineString, Polygon};
use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use std::collections::HashSet;
use wangge_core::plan::{PlanAssignment, PlanGrid, PlanRecord, PlanStatus};

/// Assignment rows, `unit` '' for a whole building.
pub(crate) static PLAN_ASSIGNMENTS: Table = Table {
    name: "plan_assignments",
    key: &["plan", "building_id", "unit"],
    cols: &["plan", "building_id", "unit", "grid_id"],
};

/// Grid rows with their outline (NULL when there is none).
pub(crate) static PLAN_GRIDS: Table = Table {
    name: "plan_grids",
    key: &["plan", "grid_id"],
    cols: &["plan", "grid_id", "community", "households", "buildings", "geom"],
};

/// The expressions that differ between the two stores.
pub(crate) struct Dialect {
    /// The current time in the type of the time columns.
    pub now: &'static str,
    /// A time column as RFC 3339 UTC text with whole seconds; `{}` stands for the column.
    pub time: &'static str,
    /// `plan_grids.geom` as OGC WKB.
    pub geom: &'static str,
}

impl Dialect {
    /// `template` with `{now}`, `{geom}` and `{created_at}` / `{at}` (time columns) filled in.
    pub fn sql(&self, template: &str) -> String {
        template
            .replace("{now}", self.now)
            .replace("{geom}", self.geom)
            .replace("{created_at}", &self.time.replace("{}", "created_at"))
            .replace("{at}", &self.time.replace("{}", "at"))
    }
}

/// Retires the plan in force unless it is `$1`.
pub(crate) const RETIRE_ACTIVE: &str =
    "UPDATE plans SET status = 'retired', version = version + 1 WHERE status = 'active' AND name <> $1";

/// Inserts or replaces a plan's own row, returning its version and creation time.
pub(crate) const UPSERT_PLAN: &str = "INSERT INTO plans \
     (name, status, version, quota_min, quota_max, quota_target, metrics, created_at) \
     VALUES ($1, $2, 1, $3, $4, $5, $6, {now}) \
     ON CONFLICT (name) DO UPDATE SET status = excluded.status, version = plans.version + 1, \
     quota_min = excluded.quota_min, quota_max = excluded.quota_max, quota_target = excluded.quota_target, \
     metrics = excluded.metrics \
     RETURNING version, {created_at}";

/// Removes a plan's assignments (before writing new ones).
pub(crate) const DELETE_ASSIGNMENTS: &str = "DELETE FROM plan_assignments WHERE plan = $1";
/// Removes a plan's grids (before writing new ones).
pub(crate) const DELETE_GRIDS: &str = "DELETE FROM plan_grids WHERE plan = $1";

/// Columns of a plan's own row, in the order of [`PlanRow`].
const PLAN_COLS: &str = "name, status, version, quota_min, quota_max, quota_target, metrics, {created_at}";
/// Every plan's own row.
pub(crate) fn select_plans() -> String {
    format!("SELECT {PLAN_COLS} FROM plans")
}
/// One plan's own row, by name (`$1`).
pub(crate) fn select_plan() -> String {
    format!("SELECT {PLAN_COLS} FROM plans WHERE name = $1")
}
/// The name of the plan in force.
pub(crate) const SELECT_ACTIVE_NAME: &str = "SELECT name FROM plans WHERE status = 'active'";
/// A plan's status, by name (`$1`): whether it exists.
pub(crate) const SELECT_STATUS: &str = "SELECT status FROM plans WHERE name = $1";
/// A plan's assignments.
pub(crate) const SELECT_ASSIGNMENTS: &str = "SELECT building_id, unit, grid_id FROM plan_assignments WHERE plan = $1";
/// A plan's grids.
pub(crate) const SELECT_GRIDS: &str =
    "SELECT grid_id, community, households, buildings, {geom} FROM plan_grids WHERE plan = $1";

/// Puts `$1` in force (after [`RETIRE_ACTIVE`]).
pub(crate) const ACTIVATE: &str = "UPDATE plans SET status = 'active', version = version + 1 WHERE name = $1";
/// Deletes a plan; its other rows go by cascade.
pub(crate) const DELETE_PLAN: &str = "DELETE FROM plans WHERE name = $1";

/// The sequence number of a plan's next edit.
pub(crate) const NEXT_EDIT_SEQ: &str = "SELECT COALESCE(MAX(seq), 0) + 1 FROM plan_edits WHERE plan = $1";
/// Appends an edit.
pub(crate) const INSERT_EDIT: &str =
    "INSERT INTO plan_edits (plan, seq, at, author, edit) VALUES ($1, $2, {now}, $3, $4)";
/// Compare-and-set of a plan's version (`$2` expected), writing its metrics (`$3`): returns the
/// new version, or no row when the plan is at another version (or missing).
pub(crate) const BUMP_VERSION: &str =
    "UPDATE plans SET version = version + 1, metrics = $3 WHERE name = $1 AND version = $2 RETURNING version";
/// A plan's version, by name (`$1`).
pub(crate) const SELECT_VERSION: &str = "SELECT version FROM plans WHERE name = $1";

/// The error of a compare-and-set that found `current` (or no plan) instead of `expected`.
pub(crate) fn stale(name: &str, expected: i64, current: Option<i64>) -> StoreError {
    match current {
        Some(current) => StoreError::Stale { name: name.to_string(), expected, current },
        None => StoreError::NotFound { what: "plan", name: name.to_string() },
    }
}

/// A plan's edits, oldest first.
pub(crate) const SELECT_EDITS: &str = "SELECT seq, {at}, author, edit FROM plan_edits WHERE plan = $1 ORDER BY seq";

/// A plan checked and flattened into rows, ready to write.
#[derive(Debug)]
pub(crate) struct EncodedPlan {
    /// The metrics as JSON text.
    pub metrics: String,
    /// Rows of [`PLAN_ASSIGNMENTS`].
    pub assignments: Vec<Vec<Value>>,
    /// Rows of [`PLAN_GRIDS`].
    pub grids: Vec<Vec<Value>>,
}

/// What was being done, for errors about plan `name`.
pub(crate) fn saving(name: &str) -> String {
    format!("saving plan `{name}`")
}

fn invalid(name: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid { doing: saving(name), reason: reason.into() }
}

/// Checks one ring of a grid outline: finite, closed, at least 4 points (what PostGIS demands).
fn check_ring(name: &str, grid: &str, ring: &LineString<f64>) -> Result<()> {
    if ring.0.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
        return Err(invalid(name, format!("grid `{grid}`: the outline has a non-finite coordinate")));
    }
    if ring.0.len() < 4 || !ring.is_closed() {
        return Err(invalid(
            name,
            format!("grid `{grid}`: every ring of the outline needs at least 4 points and must be closed"),
        ));
    }
    Ok(())
}

fn polygon_wkb(name: &str, grid: &str, p: &Polygon<f64>) -> Result<Vec<u8>> {
    check_ring(name, grid, p.exterior())?;
    for ring in p.interiors() {
        check_ring(name, grid, ring)?;
    }
    Geometry::Polygon(p.clone())
        .to_wkb(CoordDimensions::xy())
        .map_err(|e| invalid(name, format!("grid `{grid}`: cannot encode the outline: {e}")))
}

/// Checks a plan and flattens it into rows. Empty building and grid ids are left to the
/// database's CHECK constraints.
pub(crate) fn encode(plan: &PlanRecord) -> Result<EncodedPlan> {
    let name = plan.name.as_str();
    if name.is_empty() {
        return Err(invalid(name, "a plan needs a name"));
    }
    let metrics = serde_json::to_string(&plan.metrics).map_err(|e| invalid(name, format!("metrics: {e}")))?;

    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(plan.assignments.len());
    let mut assignments = Vec::with_capacity(plan.assignments.len());
    for a in &plan.assignments {
        let unit = match a.unit.as_deref() {
            Some("") => {
                return Err(invalid(
                    name,
                    format!("building `{}`: an empty unit label (use no unit for the whole building)", a.building),
                ));
            }
            Some(u) => u,
            None => "",
        };
        if !seen.insert((a.building.as_str(), unit)) {
            let what = if unit.is_empty() { String::new() } else { format!(" unit `{unit}`") };
            return Err(invalid(name, format!("building `{}`{what} is assigned twice", a.building)));
        }
        assignments.push(vec![
            Value::Text(name.to_string()),
            Value::Text(a.building.clone()),
            Value::Text(unit.to_string()),
            Value::Text(a.grid.clone()),
        ]);
    }

    let mut seen: HashSet<&str> = HashSet::with_capacity(plan.grids.len());
    let mut grids = Vec::with_capacity(plan.grids.len());
    for g in &plan.grids {
        if !seen.insert(g.grid.as_str()) {
            return Err(invalid(name, format!("grid `{}` appears twice", g.grid)));
        }
        let households = i64::try_from(g.households)
            .map_err(|_| invalid(name, format!("grid `{}`: {} households is too many", g.grid, g.households)))?;
        let geom = g.area.as_ref().map(|p| polygon_wkb(name, &g.grid, p)).transpose()?;
        grids.push(vec![
            Value::Text(name.to_string()),
            Value::Text(g.grid.clone()),
            Value::Text(g.community.clone()),
            Value::Int(households),
            Value::Int(i64::from(g.buildings)),
            Value::OptGeom(geom),
        ]);
    }
    Ok(EncodedPlan { metrics, assignments, grids })
}

/// Sorts assignments by (building, unit) and grids by id, byte for byte.
fn sort(plan: &mut PlanRecord) {
    plan.assignments.sort_by(|a, b| (&a.building, &a.unit).cmp(&(&b.building, &b.unit)));
    plan.grids.sort_by(|a, b| a.grid.cmp(&b.grid));
}

/// The record [`crate::Store::save_plan`] returns: what was given, sorted, with the stored
/// version and creation time.
pub(crate) fn stored(plan: &PlanRecord, version: i64, created_at: String) -> PlanRecord {
    let mut out = plan.clone();
    out.version = version;
    out.created_at = created_at;
    sort(&mut out);
    out
}

// ---- loading -------------------------------------------------------------------------------

/// A loaded `plans` row.
pub(crate) type PlanRow = (String, String, i64, i64, i64, i64, String, String);
/// A loaded `plan_assignments` row.
pub(crate) type AssignmentRow = (String, String, String);
/// A loaded `plan_grids` row.
pub(crate) type GridRow = (String, String, i64, i64, Option<Vec<u8>>);
/// A loaded `plan_edits` row.
pub(crate) type EditRow = (i64, String, String, String);
/// An edit as the store gives it: `(seq, at, author, edit)`.
pub(crate) type PlanEdit = (i64, String, String, serde_json::Value);

fn corrupt(plan: &str, id: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { doing: format!("loading plan `{plan}`"), id: id.to_string(), reason: reason.to_string() }
}

fn u32_of(plan: &str, id: &str, field: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(plan, id, format!("{field} {v} is out of range")))
}

/// A plan's own row as a record without assignments and grids.
pub(crate) fn header(r: PlanRow) -> Result<PlanRecord> {
    let (name, status, version, quota_min, quota_max, quota_target, metrics, created_at) = r;
    let status =
        PlanStatus::parse(&status).ok_or_else(|| corrupt(&name, &name, format!("unknown status `{status}`")))?;
    let metrics = serde_json::from_str(&metrics).map_err(|e| corrupt(&name, &name, format!("metrics: {e}")))?;
    Ok(PlanRecord {
        status,
        version,
        quota_min: u32_of(&name, &name, "quota_min", quota_min)?,
        quota_max: u32_of(&name, &name, "quota_max", quota_max)?,
        quota_target: u32_of(&name, &name, "quota_target", quota_target)?,
        metrics,
        assignments: Vec::new(),
        grids: Vec::new(),
        created_at,
        name,
    })
}

/// Every plan's own row as a listing, sorted by name.
pub(crate) fn listing(rows: Vec<PlanRow>) -> Result<Vec<PlanRecord>> {
    let mut out = rows.into_iter().map(header).collect::<Result<Vec<_>>>()?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// A whole plan from its rows, sorted.
pub(crate) fn assemble(plan: PlanRow, assignments: Vec<AssignmentRow>, grids: Vec<GridRow>) -> Result<PlanRecord> {
    let mut p = header(plan)?;
    p.assignments = assignments
        .into_iter()
        .map(|(building, unit, grid)| PlanAssignment { building, unit: (!unit.is_empty()).then_some(unit), grid })
        .collect();
    p.grids = Vec::with_capacity(grids.len());
    for (grid, community, households, buildings, geom) in grids {
        let households =
            u64::try_from(households).map_err(|_| corrupt(&p.name, &grid, format!("households {households}")))?;
        let buildings = u32_of(&p.name, &grid, "buildings", buildings)?;
        let area = match geom {
            None => None,
            Some(blob) => match Wkb(blob).to_geo() {
                Ok(Geometry::Polygon(poly)) => Some(poly),
                Ok(other) => return Err(corrupt(&p.name, &grid, format!("expected a polygon, found {other:?}"))),
                Err(e) => return Err(corrupt(&p.name, &grid, format!("geometry: {e}"))),
            },
        };
        p.grids.push(PlanGrid { grid, community, households, buildings, area });
    }
    sort(&mut p);
    Ok(p)
}

/// An edit from its row.
pub(crate) fn edit(plan: &str, r: EditRow) -> Result<PlanEdit> {
    let (seq, at, author, edit) = r;
    let edit = serde_json::from_str(&edit).map_err(|e| corrupt(plan, &format!("edit {seq}"), e))?;
    Ok((seq, at, author, edit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> PlanRecord {
        PlanRecord {
            name: "p".into(),
            status: PlanStatus::Draft,
            version: 0,
            quota_min: 1,
            quota_max: 3,
            quota_target: 2,
            metrics: serde_json::json!({}),
            assignments: vec![],
            grids: vec![],
            created_at: String::new(),
        }
    }

    fn grid(id: &str, area: Option<Polygon<f64>>) -> PlanGrid {
        PlanGrid { grid: id.into(), community: "c".into(), households: 1, buildings: 1, area }
    }

    fn invalid_reason(p: &PlanRecord) -> String {
        match encode(p) {
            Err(StoreError::Invalid { reason, .. }) => reason,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn dialect_fills_markers() {
        let d = Dialect { now: "NOW", time: "t({})", geom: "G" };
        assert_eq!(d.sql("SELECT {created_at}, {at}, {geom}, {now}"), "SELECT t(created_at), t(at), G, NOW");
    }

    #[test]
    fn bad_plans_are_rejected_before_writing() {
        let mut p = plan();
        p.name.clear();
        assert!(invalid_reason(&p).contains("name"));

        let a =
            |b: &str, u: Option<&str>| PlanAssignment { building: b.into(), unit: u.map(Into::into), grid: "g".into() };
        let mut p = plan();
        p.assignments = vec![a("b", Some(""))];
        assert!(invalid_reason(&p).contains("empty unit"));
        p.assignments = vec![a("b", None), a("b", Some("1")), a("b", None)];
        assert!(invalid_reason(&p).contains("assigned twice"));
        p.assignments = vec![a("b", None), a("b", Some("1"))];
        assert_eq!(encode(&p).map(|e| e.assignments.len()).ok(), Some(2));

        let sq = Polygon::new(LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]), vec![]);
        let mut p = plan();
        p.grids = vec![grid("g", Some(sq.clone())), grid("g", None)];
        assert!(invalid_reason(&p).contains("appears twice"));
        let nan = Polygon::new(LineString::from(vec![(0.0, 0.0), (f64::NAN, 0.0), (1.0, 1.0), (0.0, 0.0)]), vec![]);
        p.grids = vec![grid("g", Some(nan))];
        assert!(invalid_reason(&p).contains("non-finite"));
        let short = Polygon::new(LineString::from(vec![(0.0, 0.0), (1.0, 0.0)]), vec![]);
        p.grids = vec![grid("g", Some(short))];
        assert!(invalid_reason(&p).contains("at least 4 points"));
        p.grids = vec![grid("g", Some(Polygon::new(LineString::new(vec![]), vec![])))];
        assert!(invalid_reason(&p).contains("at least 4 points"));
        p.grids = vec![PlanGrid { households: u64::MAX, ..grid("g", None) }];
        assert!(invalid_reason(&p).contains("too many"));
        p.grids = vec![grid("g", Some(sq))];
        assert_eq!(encode(&p).map(|e| e.grids.len()).ok(), Some(1));
    }

    #[test]
    fn assembling_sorts_and_maps_units() {
        let row: PlanRow = ("p".into(), "active".into(), 3, 1, 3, 2, "{\"a\":1}".into(), "2025-01-01T00:00:00Z".into());
        let p = assemble(
            row,
            vec![
                ("b".into(), "2".into(), "g1".into()),
                ("b".into(), "".into(), "g1".into()),
                ("a".into(), "".into(), "g2".into()),
            ],
            vec![("g2".into(), "c".into(), 5, 1, None), ("g1".into(), "c".into(), 7, 2, None)],
        )
        .expect("assemble");
        assert_eq!(p.status, PlanStatus::Active);
        assert_eq!(p.metrics, serde_json::json!({"a": 1}));
        let keys: Vec<(&str, Option<&str>)> =
            p.assignments.iter().map(|a| (a.building.as_str(), a.unit.as_deref())).collect();
        assert_eq!(keys, [("a", None), ("b", None), ("b", Some("2"))]);
        assert_eq!(p.grids.iter().map(|g| g.grid.as_str()).collect::<Vec<_>>(), ["g1", "g2"]);

        let bad: PlanRow = ("p".into(), "gone".into(), 1, 1, 1, 1, "{}".into(), String::new());
        assert!(matches!(header(bad), Err(StoreError::Corrupt { .. })));
    }
}
