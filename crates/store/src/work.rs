//! Background jobs and the audit log of register changes: the [`WorkStore`] part of the store.
//!
//! A job is a row written when it starts (`running`), updated with its progress, and finished once
//! (`done` with a result summary, `failed` with the reason, or `cancelled`). Finishing is
//! compare-and-set on `running`, so a job finished (or failed by a restart) stays as it is.

use crate::error::{Result, StoreError};
use geozero::{CoordDimensions, ToWkb};
use wangge_core::Facility;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Started, not finished.
    Running,
    /// Finished; the result is stored.
    Done,
    /// Stopped by an error (or interrupted by a restart); the message says why.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl JobStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses [`JobStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// Whether the job is over.
    pub fn is_finished(self) -> bool {
        self != Self::Running
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JobRecord {
    /// Id given by the store (1, 2, …).
    pub id: i64,
    /// What the job does, e.g. `partition`.
    pub kind: String,
    /// The request that started it.
    pub params: serde_json::Value,
    /// Where it stands.
    pub status: JobStatus,
    /// Fraction done, 0..1.
    pub progress: f64,
    /// The last progress message, or why it failed.
    pub message: String,
    /// A summary of what a finished job produced.
    pub result: Option<serde_json::Value>,
    /// Who started it.
    pub author: String,
    /// When it started (RFC 3339, UTC).
    pub created_at: String,
    /// When it finished (RFC 3339, UTC).
    pub finished_at: Option<String>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    /// Sequence number, increasing.
    pub seq: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who.
    pub author: String,
    /// What was changed, e.g. `building:osm:w1` or `facility:f1`.
    pub target: String,
    /// The change (before and after).
    pub change: serde_json::Value,
}

/// Jobs and the audit log, implemented by both stores.
#[async_trait::async_trait]
pub trait WorkStore: Send + Sync {
    /// Records a new running job (progress 0) and returns it with its id.
    async fn create_job(&self, kind: &str, params: &serde_json::Value, author: &str) -> Result<JobRecord>;

    /// Sets the progress (clamped to 0..1) and message of a running job; `false` when the job is
    /// not running (or does not exist).
    async fn job_progress(&self, id: i64, progress: f64, message: &str) -> Result<bool>;

    /// Finishes a running job with `status` (not `Running`), a message and, when done, a result.
    /// `false` when the job was not running (already finished, or failed by a restart).
    async fn finish_job(
        &self,
        id: i64,
        status: JobStatus,
        message: &str,
        result: Option<&serde_json::Value>,
    ) -> Result<bool>;

    /// One job; `None` when there is none with that id.
    async fn job(&self, id: i64) -> Result<Option<JobRecord>>;

    /// Every job, newest first.
    async fn jobs(&self) -> Result<Vec<JobRecord>>;

    /// Marks every running job failed with `message` (at start-up: they were interrupted) and
    /// returns how many there were.
    async fn fail_running_jobs(&self, message: &str) -> Result<u64>;

    /// Appends an audit entry stamped with the current time and returns its sequence number.
    async fn append_audit(&self, author: &str, target: &str, change: &serde_json::Value) -> Result<i64>;

    /// The audit log, oldest first; only entries whose target starts with `prefix` when given.
    async fn audit(&self, prefix: Option<&str>) -> Result<Vec<AuditEntry>>;

    /// Sets a building's households in the register (a whole-building row of dataset
    /// [`API_DATASET`], which outranks declared and estimated numbers when the model is built) and
    /// appends the change (before, after) to the audit log (target `building:<id>`), in one
    /// transaction. Fails with [`StoreError::NotFound`] (nothing written) when no building has that id.
    async fn set_building_households(&self, building: &str, households: u32, author: &str) -> Result<AuditEntry>;

    /// Inserts (`create`) or replaces a facility and audits it (target `facility:<id>`), in one
    /// transaction. A new facility belongs to the dataset [`API_DATASET`]; a replaced one keeps its
    /// dataset. Fails, writing nothing, with [`StoreError::Invalid`] when creating an id that
    /// exists, a non-finite location, or an empty id or category, and with [`StoreError::NotFound`]
    /// when replacing an id that does not exist.
    async fn put_facility(&self, facility: &Facility, create: bool, author: &str) -> Result<AuditEntry>;

    /// Deletes a facility and audits it, in one transaction; [`StoreError::NotFound`] when there is none.
    async fn delete_facility(&self, id: &str, author: &str) -> Result<AuditEntry>;
}

/// The dataset of register rows and facilities written through the API.
pub const API_DATASET: &str = "api";

/// A loaded `jobs` row.
type JobRow = (i64, String, String, String, f64, String, Option<String>, String, String, Option<String>);

fn corrupt(id: i64, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { doing: "loading jobs".into(), id: id.to_string(), reason: reason.to_string() }
}

fn job_of(r: JobRow) -> Result<JobRecord> {
    let (id, kind, params, status, progress, message, result, author, created_at, finished_at) = r;
    Ok(JobRecord {
        id,
        kind,
        params: serde_json::from_str(&params).map_err(|e| corrupt(id, format!("params: {e}")))?,
        status: JobStatus::parse(&status).ok_or_else(|| corrupt(id, format!("unknown status `{status}`")))?,
        progress,
        message,
        result: result
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(|e| corrupt(id, format!("result: {e}")))?,
        author,
        created_at,
        finished_at,
    })
}

fn json_text(doing: &str, v: &serde_json::Value) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid { doing: doing.to_string(), reason: e.to_string() })
}

fn query_err(doing: &str) -> impl FnOnce(sqlx::Error) -> StoreError {
    let doing = doing.to_string();
    move |source| StoreError::Query { doing, source }
}

/// The SQL that differs between the stores.
struct Sql {
    /// The current time as stored.
    now: &'static str,
    /// A time column as RFC 3339 UTC text (`{}` stands for the column).
    time: &'static str,
    /// How a write transaction begins.
    begin: &'static str,
    /// A WKB parameter as a geometry (`{}` stands for the parameter).
    geom_in: &'static str,
    /// A geometry column as WKB (`{}` stands for the column).
    geom_out: &'static str,
}

/// A facility row: (dataset, category, name, WKB).
type FacilityRow = (String, String, Option<String>, Vec<u8>);

fn facility_json(f: &FacilityRow) -> serde_json::Value {
    use geozero::ToGeo;
    let location = geozero::wkb::Wkb(f.3.clone()).to_geo().ok().and_then(|g| match g {
        geo::Geometry::Point(p) => Some([p.x(), p.y()]),
        _ => None,
    });
    serde_json::json!({ "dataset": f.0, "category": f.1, "name": f.2, "location": location })
}

/// Writes an audit entry inside the open transaction.
macro_rules! audit_in {
    ($tx:expr, $sql:expr, $author:expr, $target:expr, $change:expr, $doing:expr) => {{
        let q = format!(
            "INSERT INTO audit (at, author, target, change) VALUES ({}, $1, $2, $3) RETURNING seq, {}",
            $sql.now,
            $sql.t("at")
        );
        let change: serde_json::Value = $change;
        let (seq, at): (i64, String) = sqlx::query_as(&q)
            .bind($author)
            .bind($target)
            .bind(json_text($doing, &change)?)
            .fetch_one(&mut *$tx)
            .await
            .map_err(query_err($doing))?;
        AuditEntry { seq, at, author: $author.to_string(), target: $target.to_string(), change }
    }};
}

impl Sql {
    fn t(&self, col: &str) -> String {
        self.time.replace("{}", col)
    }
    fn job_cols(&self) -> String {
        format!(
            "id, kind, params, status, progress, message, result, author, {}, {}",
            self.t("created_at"),
            self.t("finished_at")
        )
    }
}

const SQLITE: Sql = Sql {
    now: "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
    time: "{}",
    begin: "BEGIN IMMEDIATE",
    geom_in: "{}",
    geom_out: "{}",
};
const POSTGRES: Sql = Sql {
    now: "now()",
    time: "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
    begin: "BEGIN",
    geom_in: "ST_SetSRID(ST_GeomFromWKB({}), 4326)",
    geom_out: "ST_AsBinary({})",
};

/// The one implementation, written once for both stores.
macro_rules! impl_work_store {
    ($store:ty, $sql:expr) => {
        #[async_trait::async_trait]
        impl WorkStore for $store {
            async fn create_job(&self, kind: &str, params: &serde_json::Value, author: &str) -> Result<JobRecord> {
                let doing = format!("starting a `{kind}` job");
                if kind.is_empty() {
                    return Err(StoreError::Invalid { doing, reason: "an empty kind".into() });
                }
                let sql = $sql;
                let q = format!(
                    "INSERT INTO jobs (kind, params, status, progress, message, author, created_at) \
                     VALUES ($1, $2, 'running', 0, '', $3, {}) RETURNING {}",
                    sql.now,
                    sql.job_cols()
                );
                let row: JobRow = sqlx::query_as(&q)
                    .bind(kind)
                    .bind(json_text(&doing, params)?)
                    .bind(author)
                    .fetch_one(self.pool())
                    .await
                    .map_err(query_err(&doing))?;
                job_of(row)
            }

            async fn job_progress(&self, id: i64, progress: f64, message: &str) -> Result<bool> {
                let p = if progress.is_finite() { progress.clamp(0.0, 1.0) } else { 0.0 };
                let done = sqlx::query(
                    "UPDATE jobs SET progress = $2, message = $3 WHERE id = $1 AND status = 'running'",
                )
                .bind(id)
                .bind(p)
                .bind(message)
                .execute(self.pool())
                .await
                .map_err(query_err(&format!("recording the progress of job {id}")))?;
                Ok(done.rows_affected() > 0)
            }

            async fn finish_job(
                &self,
                id: i64,
                status: JobStatus,
                message: &str,
                result: Option<&serde_json::Value>,
            ) -> Result<bool> {
                let doing = format!("finishing job {id}");
                if status == JobStatus::Running {
                    return Err(StoreError::Invalid { doing, reason: "a job cannot finish as running".into() });
                }
                let result = result.map(|r| json_text(&doing, r)).transpose()?;
                let q = format!(
                    "UPDATE jobs SET status = $2, message = $3, result = $4, finished_at = {}, \
                     progress = CASE WHEN $2 = 'done' THEN 1 ELSE progress END \
                     WHERE id = $1 AND status = 'running'",
                    $sql.now
                );
                let done = sqlx::query(&q)
                    .bind(id)
                    .bind(status.as_str())
                    .bind(message)
                    .bind(result)
                    .execute(self.pool())
                    .await
                    .map_err(query_err(&doing))?;
                Ok(done.rows_affected() > 0)
            }

            async fn job(&self, id: i64) -> Result<Option<JobRecord>> {
                let q = format!("SELECT {} FROM jobs WHERE id = $1", $sql.job_cols());
                let row: Option<JobRow> = sqlx::query_as(&q)
                    .bind(id)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(query_err(&format!("loading job {id}")))?;
                row.map(job_of).transpose()
            }

            async fn jobs(&self) -> Result<Vec<JobRecord>> {
                let q = format!("SELECT {} FROM jobs ORDER BY id DESC", $sql.job_cols());
                let rows: Vec<JobRow> =
                    sqlx::query_as(&q).fetch_all(self.pool()).await.map_err(query_err("listing jobs"))?;
                rows.into_iter().map(job_of).collect()
            }

            async fn fail_running_jobs(&self, message: &str) -> Result<u64> {
                let q = format!(
                    "UPDATE jobs SET status = 'failed', message = $1, finished_at = {} WHERE status = 'running'",
                    $sql.now
                );
                let done = sqlx::query(&q)
                    .bind(message)
                    .execute(self.pool())
                    .await
                    .map_err(query_err("failing interrupted jobs"))?;
                Ok(done.rows_affected())
            }

            async fn append_audit(&self, author: &str, target: &str, change: &serde_json::Value) -> Result<i64> {
                let doing = format!("recording a change of `{target}`");
                if target.is_empty() {
                    return Err(StoreError::Invalid { doing, reason: "an empty target".into() });
                }
                let q = format!(
                    "INSERT INTO audit (at, author, target, change) VALUES ({}, $1, $2, $3) RETURNING seq",
                    $sql.now
                );
                sqlx::query_scalar(&q)
                    .bind(author)
                    .bind(target)
                    .bind(json_text(&doing, change)?)
                    .fetch_one(self.pool())
                    .await
                    .map_err(query_err(&doing))
            }

            async fn audit(&self, prefix: Option<&str>) -> Result<Vec<AuditEntry>> {
                let q = format!(
                    "SELECT seq, {}, author, target, change FROM audit \
                     WHERE substr(target, 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT) ORDER BY seq",
                    $sql.t("at")
                );
                let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(&q)
                    .bind(prefix.unwrap_or(""))
                    .fetch_all(self.pool())
                    .await
                    .map_err(query_err("loading the audit log"))?;
                rows.into_iter()
                    .map(|(seq, at, author, target, change)| {
                        let change = serde_json::from_str(&change).map_err(|e| StoreError::Corrupt {
                            doing: "loading the audit log".into(),
                            id: seq.to_string(),
                            reason: e.to_string(),
                        })?;
                        Ok(AuditEntry { seq, at, author, target, change })
                    })
                    .collect()
            }

            async fn set_building_households(
                &self,
                building: &str,
                households: u32,
                author: &str,
            ) -> Result<AuditEntry> {
                let doing = format!("setting the households of building `{building}`");
                let sql = $sql;
                let mut tx = self.pool().begin_with(sql.begin).await.map_err(query_err(&doing))?;
                let before: Option<i64> = sqlx::query_scalar("SELECT households FROM buildings WHERE source_id = $1")
                    .bind(building)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_err(&doing))?;
                let Some(before) = before else {
                    return Err(StoreError::NotFound { what: "building", name: building.to_string() });
                };
                let register: Option<i64> =
                    sqlx::query_scalar("SELECT households FROM register WHERE building_id = $1 AND unit = ''")
                        .bind(building)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(query_err(&doing))?;
                sqlx::query(
                    "INSERT INTO register (building_id, unit, households, dataset) VALUES ($1, '', $2, $3) \
                     ON CONFLICT (building_id, unit) DO UPDATE SET households = excluded.households, \
                     dataset = excluded.dataset",
                )
                .bind(building)
                .bind(i64::from(households))
                .bind(API_DATASET)
                .execute(&mut *tx)
                .await
                .map_err(query_err(&doing))?;
                let target = format!("building:{building}");
                let change = serde_json::json!({
                    "households": { "before": register.unwrap_or(before), "after": households },
                    "register_before": register,
                });
                let entry = audit_in!(tx, sql, author, target.as_str(), change, &doing);
                tx.commit().await.map_err(query_err(&doing))?;
                Ok(entry)
            }

            async fn put_facility(&self, f: &Facility, create: bool, author: &str) -> Result<AuditEntry> {
                let doing = format!("writing facility `{}`", f.source_id);
                let invalid = |reason: &str| StoreError::Invalid { doing: doing.clone(), reason: reason.to_string() };
                if f.source_id.is_empty() {
                    return Err(invalid("an empty id"));
                }
                if f.category.is_empty() {
                    return Err(invalid("an empty category"));
                }
                if !f.location.x().is_finite() || !f.location.y().is_finite() {
                    return Err(invalid("a non-finite location"));
                }
                let wkb = geo::Geometry::Point(f.location)
                    .to_wkb(CoordDimensions::xy())
                    .map_err(|e| invalid(&format!("location: {e}")))?;
                let sql = $sql;
                let mut tx = self.pool().begin_with(sql.begin).await.map_err(query_err(&doing))?;
                let q = format!(
                    "SELECT dataset, category, name, {} FROM facilities WHERE source_id = $1",
                    sql.geom_out.replace("{}", "geom")
                );
                let before: Option<FacilityRow> =
                    sqlx::query_as(&q).bind(&f.source_id).fetch_optional(&mut *tx).await.map_err(query_err(&doing))?;
                let dataset = match (&before, create) {
                    (Some(_), true) => return Err(invalid("a facility with this id exists")),
                    (None, false) => {
                        return Err(StoreError::NotFound { what: "facility", name: f.source_id.clone() });
                    }
                    (Some(b), false) => b.0.clone(),
                    (None, true) => API_DATASET.to_string(),
                };
                let q = format!(
                    "INSERT INTO facilities (source_id, dataset, category, name, geom) VALUES ($1, $2, $3, $4, {}) \
                     ON CONFLICT (source_id) DO UPDATE SET category = excluded.category, name = excluded.name, \
                     geom = excluded.geom",
                    sql.geom_in.replace("{}", "$5")
                );
                sqlx::query(&q)
                    .bind(&f.source_id)
                    .bind(&dataset)
                    .bind(&f.category)
                    .bind(&f.name)
                    .bind(wkb.clone())
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err(&doing))?;
                let after: FacilityRow = (dataset, f.category.clone(), f.name.clone(), wkb);
                let target = format!("facility:{}", f.source_id);
                let change = serde_json::json!({
                    "before": before.as_ref().map(facility_json),
                    "after": facility_json(&after),
                });
                let entry = audit_in!(tx, sql, author, target.as_str(), change, &doing);
                tx.commit().await.map_err(query_err(&doing))?;
                Ok(entry)
            }

            async fn delete_facility(&self, id: &str, author: &str) -> Result<AuditEntry> {
                let doing = format!("deleting facility `{id}`");
                let sql = $sql;
                let mut tx = self.pool().begin_with(sql.begin).await.map_err(query_err(&doing))?;
                let q = format!(
                    "SELECT dataset, category, name, {} FROM facilities WHERE source_id = $1",
                    sql.geom_out.replace("{}", "geom")
                );
                let before: Option<FacilityRow> =
                    sqlx::query_as(&q).bind(id).fetch_optional(&mut *tx).await.map_err(query_err(&doing))?;
                let Some(before) = before else {
                    return Err(StoreError::NotFound { what: "facility", name: id.to_string() });
                };
                sqlx::query("DELETE FROM facilities WHERE source_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err(&doing))?;
                let target = format!("facility:{id}");
                let change = serde_json::json!({ "before": facility_json(&before), "after": null });
                let entry = audit_in!(tx, sql, author, target.as_str(), change, &doing);
                tx.commit().await.map_err(query_err(&doing))?;
                Ok(entry)
            }
        }
    };
}

impl_work_store!(crate::sqlite::SqliteStore, SQLITE);
impl_work_store!(crate::postgres::PgStore, POSTGRES);
