//! The embedded store: one SQLite file (WAL journal), geometry as OGC WKB in BLOB columns.

use crate::circles::{
    self, BuildingScore, CircleResult, CirclesMeta, CirclesRun, CoverageLevel, CoverageSummary, SiteSuggestion,
};
use crate::error::{Result, StoreError, redact};
use crate::plans::{self, AssignmentRow, Dialect, EditRow, GridRow, PlanEdit, PlanRow};
use crate::rows::{self, Table, Value};
use crate::{DatasetRecord, ImportCommit, SQLITE_MIGRATOR, Store};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::str::FromStr;
use std::time::Duration;
use wangge_core::DatasetInfo;
use wangge_core::plan::{PlanRecord, PlanStatus};

/// How long opening the file (and waiting for a connection) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a writer waits for another writer's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite's bind parameter limit (SQLITE_MAX_VARIABLE_NUMBER of the bundled SQLite).
const MAX_PARAMS: usize = 32766;

/// Plan SQL: times are stored as RFC 3339 UTC text already, geometry as WKB.
const DIALECT: Dialect = Dialect { now: "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", time: "{}", geom: "geom" };

/// The embedded store (`sqlite://path/file.db`).
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    url: String,
}

impl std::fmt::Debug for SqliteStore {
    // By hand: the pool's options hold the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("url", &self.url).finish_non_exhaustive()
    }
}

fn query_err(doing: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    let doing = doing.into();
    move |source| StoreError::Query { doing, source }
}

impl SqliteStore {
    /// The connection pool (for the user and grid-worker queries in `users.rs`).
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Opens (creating it if missing) the database file named by `url`, with a WAL journal and
    /// foreign keys on, and runs the migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let redacted = redact(url);
        let connect_err = |source| StoreError::Connect { url: redacted.clone(), source };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(connect_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // An in-memory database lives as long as its one connection: keep exactly one, forever.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut pool_options = SqlitePoolOptions::new().acquire_timeout(CONNECT_TIMEOUT);
        pool_options = if in_memory {
            pool_options.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            pool_options.max_connections(4)
        };
        let pool = tokio::time::timeout(CONNECT_TIMEOUT, pool_options.connect_with(options))
            .await
            .map_err(|_| {
                connect_err(sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out opening")))
            })?
            .map_err(connect_err)?;
        SQLITE_MIGRATOR.run(&pool).await.map_err(|source| StoreError::Migrate { url: redacted.clone(), source })?;
        Ok(Self { pool, url: redacted })
    }
}

/// Upserts `rows` into `table`, as many rows per statement as the parameter limit allows.
async fn upsert(conn: &mut SqliteConnection, table: &Table, rows: Vec<Vec<Value>>, dataset: &str) -> Result<()> {
    let doing = format!("writing {} of dataset `{dataset}`", table.name);
    insert(conn, table, rows, &table.upsert_tail(), &doing).await
}

/// Inserts `rows` into `table` with `tail` after each statement's VALUES (e.g. an upsert clause),
/// as many rows per statement as the parameter limit allows.
async fn insert(
    conn: &mut SqliteConnection,
    table: &Table,
    rows: Vec<Vec<Value>>,
    tail: &str,
    doing: &str,
) -> Result<()> {
    let per = table.rows_per_statement(MAX_PARAMS);
    let head = table.insert_head();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(&head);
        qb.push_values(rows.by_ref().take(per), |mut b, row| {
            for v in row {
                match v {
                    Value::Text(s) => b.push_bind(s),
                    Value::OptText(s) => b.push_bind(s),
                    Value::Int(i) => b.push_bind(i),
                    Value::OptInt(i) => b.push_bind(i),
                    Value::Real(x) => b.push_bind(x),
                    Value::OptReal(x) => b.push_bind(x),
                    Value::Bool(x) => b.push_bind(x),
                    Value::Geom(g) => b.push_bind(g),
                    Value::OptGeom(g) => b.push_bind(g),
                };
            }
        });
        qb.push(tail);
        qb.build().execute(&mut *conn).await.map_err(query_err(doing))?;
    }
    Ok(())
}

/// Replaces one dataset inside the open transaction `conn`.
async fn replace_dataset(conn: &mut SqliteConnection, info: &DatasetInfo, layers: &wangge_core::Layers) -> Result<()> {
    let name = info.name.as_str();
    for t in rows::DATASET_TABLES {
        sqlx::query(&format!("DELETE FROM {} WHERE dataset = ?", t.name))
            .bind(name)
            .execute(&mut *conn)
            .await
            .map_err(query_err(format!("removing {} of dataset `{name}`", t.name)))?;
    }
    for (table, rows) in rows::encode(name, layers)? {
        upsert(conn, table, rows, name).await?;
    }
    sqlx::query(rows::DELETE_ORPHAN_NODES)
        .execute(&mut *conn)
        .await
        .map_err(query_err(format!("removing unused network nodes after dataset `{name}`")))?;
    sqlx::query(
        "INSERT INTO datasets (name, format, source, sha256, imported_at) \
         VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) \
         ON CONFLICT (name) DO UPDATE SET format = excluded.format, source = excluded.source, \
         sha256 = excluded.sha256, imported_at = excluded.imported_at",
    )
    .bind(name)
    .bind(&info.format)
    .bind(&info.source)
    .bind(&info.sha256)
    .execute(&mut *conn)
    .await
    .map_err(query_err(format!("recording dataset `{name}`")))?;
    Ok(())
}

/// Applies household updates inside the open transaction `conn`.
async fn update_households(conn: &mut SqliteConnection, commit: &ImportCommit) -> Result<()> {
    let updates = rows::household_rows(&commit.households);
    for chunk in updates.chunks(MAX_PARAMS / 3) {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(rows::UPDATE_HOUSEHOLDS_HEAD);
        let mut sep = qb.separated(", ");
        for (id, count, source) in chunk {
            sep.push("(").push_bind_unseparated(id).push_unseparated(", ");
            sep.push_bind_unseparated(count).push_unseparated(", ");
            sep.push_bind_unseparated(source).push_unseparated(")");
        }
        qb.push(rows::UPDATE_HOUSEHOLDS_TAIL);
        qb.build().execute(&mut *conn).await.map_err(query_err("updating households"))?;
    }
    Ok(())
}

/// Loads a whole plan inside the open transaction `conn`.
async fn load_plan_in(conn: &mut SqliteConnection, name: &str) -> Result<Option<PlanRecord>> {
    let doing = format!("loading plan `{name}`");
    let head: Option<PlanRow> = sqlx::query_as(&DIALECT.sql(&plans::select_plan()))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_err(doing.clone()))?;
    let Some(head) = head else { return Ok(None) };
    let assignments: Vec<AssignmentRow> = sqlx::query_as(plans::SELECT_ASSIGNMENTS)
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_err(format!("{doing}: assignments")))?;
    let grids: Vec<GridRow> = sqlx::query_as(&DIALECT.sql(plans::SELECT_GRIDS))
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_err(format!("{doing}: grids")))?;
    plans::assemble(head, assignments, grids).map(Some)
}

/// The status of plan `name` inside the open transaction `conn`, or [`StoreError::NotFound`].
async fn plan_status(conn: &mut SqliteConnection, name: &str, doing: &str) -> Result<String> {
    let status: Option<String> = sqlx::query_scalar(plans::SELECT_STATUS)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_err(doing))?;
    status.ok_or_else(|| StoreError::NotFound { what: "plan", name: name.to_string() })
}

/// A plan's version (`None` when there is no such plan).
async fn plan_version(conn: &mut SqliteConnection, name: &str, doing: &str) -> Result<Option<i64>> {
    sqlx::query_scalar(plans::SELECT_VERSION).bind(name).fetch_optional(&mut *conn).await.map_err(query_err(doing))
}

/// Appends an edit (JSON text) to a plan's history; returns its sequence number.
async fn insert_edit(conn: &mut SqliteConnection, plan: &str, author: &str, text: String, doing: &str) -> Result<i64> {
    let seq: i64 =
        sqlx::query_scalar(plans::NEXT_EDIT_SEQ).bind(plan).fetch_one(&mut *conn).await.map_err(query_err(doing))?;
    sqlx::query(&DIALECT.sql(plans::INSERT_EDIT))
        .bind(plan)
        .bind(seq)
        .bind(author)
        .bind(text)
        .execute(&mut *conn)
        .await
        .map_err(query_err(doing))?;
    Ok(seq)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn redacted_url(&self) -> String {
        self.url.clone()
    }

    async fn load(&self) -> Result<wangge_core::Layers> {
        let mut tx = self.pool.begin().await.map_err(query_err("starting to load"))?;
        let layers = rows::load_layers!(tx, "geom")?;
        tx.commit().await.map_err(query_err("finishing the load"))?;
        Ok(layers)
    }

    async fn commit_import(&self, commit: &ImportCommit) -> Result<()> {
        // IMMEDIATE: take the write lock up front so that two writers queue on the busy timeout
        // instead of failing when a read transaction tries to become a write transaction.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err("starting the import"))?;
        for (info, layers) in &commit.datasets {
            replace_dataset(&mut tx, info, layers).await?;
        }
        update_households(&mut tx, commit).await?;
        tx.commit().await.map_err(query_err("committing the import"))?;
        Ok(())
    }

    async fn datasets(&self) -> Result<Vec<DatasetRecord>> {
        let rows: Vec<(String, String, String, String, String)> =
            sqlx::query_as("SELECT name, format, source, sha256, imported_at FROM datasets ORDER BY name")
                .fetch_all(&self.pool)
                .await
                .map_err(query_err("listing datasets"))?;
        let mut out: Vec<DatasetRecord> = rows
            .into_iter()
            .map(|(name, format, source, sha256, imported_at)| DatasetRecord {
                info: DatasetInfo { name, format, source, sha256 },
                imported_at,
            })
            .collect();
        out.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        Ok(out)
    }

    async fn save_plan(&self, plan: &PlanRecord) -> Result<PlanRecord> {
        let enc = plans::encode(plan)?;
        let name = plan.name.as_str();
        let doing = plans::saving(name);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err(doing.clone()))?;
        if plan.status == PlanStatus::Active {
            sqlx::query(plans::RETIRE_ACTIVE)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(query_err(format!("{doing}: retiring the plan in force")))?;
        }
        let (version, created_at): (i64, String) = sqlx::query_as(&DIALECT.sql(plans::UPSERT_PLAN))
            .bind(name)
            .bind(plan.status.as_str())
            .bind(i64::from(plan.quota_min))
            .bind(i64::from(plan.quota_max))
            .bind(i64::from(plan.quota_target))
            .bind(&enc.metrics)
            .fetch_one(&mut *tx)
            .await
            .map_err(query_err(doing.clone()))?;
        for q in [plans::DELETE_ASSIGNMENTS, plans::DELETE_GRIDS] {
            sqlx::query(q)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(query_err(format!("{doing}: removing the previous version")))?;
        }
        insert(&mut tx, &plans::PLAN_ASSIGNMENTS, enc.assignments, "", &format!("{doing}: assignments")).await?;
        insert(&mut tx, &plans::PLAN_GRIDS, enc.grids, "", &format!("{doing}: grids")).await?;
        tx.commit().await.map_err(query_err(format!("{doing}: committing")))?;
        Ok(plans::stored(plan, version, created_at))
    }

    async fn plans(&self) -> Result<Vec<PlanRecord>> {
        let rows: Vec<PlanRow> = sqlx::query_as(&DIALECT.sql(&plans::select_plans()))
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("listing plans"))?;
        plans::listing(rows)
    }

    async fn load_plan(&self, name: &str) -> Result<Option<PlanRecord>> {
        let mut tx = self.pool.begin().await.map_err(query_err(format!("loading plan `{name}`")))?;
        let plan = load_plan_in(&mut tx, name).await?;
        tx.commit().await.map_err(query_err(format!("loading plan `{name}`")))?;
        Ok(plan)
    }

    async fn active_plan(&self) -> Result<Option<PlanRecord>> {
        let doing = "loading the active plan";
        let mut tx = self.pool.begin().await.map_err(query_err(doing))?;
        let name: Option<String> =
            sqlx::query_scalar(plans::SELECT_ACTIVE_NAME).fetch_optional(&mut *tx).await.map_err(query_err(doing))?;
        let plan = match name {
            Some(name) => load_plan_in(&mut tx, &name).await?,
            None => None,
        };
        tx.commit().await.map_err(query_err(doing))?;
        Ok(plan)
    }

    async fn activate_plan(&self, name: &str) -> Result<()> {
        self.activate_plan_at(name, None).await
    }

    async fn activate_plan_at(&self, name: &str, expected_version: Option<i64>) -> Result<()> {
        let doing = format!("activating plan `{name}`");
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err(doing.clone()))?;
        let status = plan_status(&mut tx, name, &doing).await?;
        if let Some(expected) = expected_version {
            let current = plan_version(&mut tx, name, &doing).await?;
            if current != Some(expected) {
                return Err(plans::stale(name, expected, current));
            }
        }
        if status != PlanStatus::Active.as_str() {
            sqlx::query(plans::RETIRE_ACTIVE)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(query_err(format!("{doing}: retiring the plan in force")))?;
            sqlx::query(plans::ACTIVATE).bind(name).execute(&mut *tx).await.map_err(query_err(doing.clone()))?;
        }
        tx.commit().await.map_err(query_err(doing))?;
        Ok(())
    }

    async fn delete_plan(&self, name: &str) -> Result<bool> {
        let doing = format!("deleting plan `{name}`");
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err(doing.clone()))?;
        let done =
            sqlx::query(plans::DELETE_PLAN).bind(name).execute(&mut *tx).await.map_err(query_err(doing.clone()))?;
        tx.commit().await.map_err(query_err(doing))?;
        Ok(done.rows_affected() > 0)
    }

    async fn append_plan_edit(&self, plan: &str, author: &str, edit: &serde_json::Value) -> Result<i64> {
        let doing = format!("recording an edit of plan `{plan}`");
        let text = serde_json::to_string(edit)
            .map_err(|e| StoreError::Invalid { doing: doing.clone(), reason: format!("edit: {e}") })?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err(doing.clone()))?;
        plan_status(&mut tx, plan, &doing).await?;
        let seq = insert_edit(&mut tx, plan, author, text, &doing).await?;
        tx.commit().await.map_err(query_err(doing))?;
        Ok(seq)
    }

    async fn commit_plan_edit(
        &self,
        plan: &PlanRecord,
        expected: i64,
        author: &str,
        edit: &serde_json::Value,
    ) -> Result<(i64, i64)> {
        let enc = plans::encode(plan)?;
        let name = plan.name.as_str();
        let doing = format!("writing an edit of plan `{name}`");
        let text = serde_json::to_string(edit)
            .map_err(|e| StoreError::Invalid { doing: doing.clone(), reason: format!("edit: {e}") })?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err(doing.clone()))?;
        let version: Option<i64> = sqlx::query_scalar(plans::BUMP_VERSION)
            .bind(name)
            .bind(expected)
            .bind(&enc.metrics)
            .fetch_optional(&mut *tx)
            .await
            .map_err(query_err(doing.clone()))?;
        let Some(version) = version else {
            let current = plan_version(&mut tx, name, &doing).await?;
            return Err(plans::stale(name, expected, current));
        };
        for q in [plans::DELETE_ASSIGNMENTS, plans::DELETE_GRIDS] {
            sqlx::query(q)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(query_err(format!("{doing}: removing the previous version")))?;
        }
        insert(&mut tx, &plans::PLAN_ASSIGNMENTS, enc.assignments, "", &format!("{doing}: assignments")).await?;
        insert(&mut tx, &plans::PLAN_GRIDS, enc.grids, "", &format!("{doing}: grids")).await?;
        let seq = insert_edit(&mut tx, name, author, text, &doing).await?;
        tx.commit().await.map_err(query_err(doing))?;
        Ok((version, seq))
    }

    async fn plan_edits(&self, plan: &str) -> Result<Vec<PlanEdit>> {
        let doing = format!("loading the edits of plan `{plan}`");
        let mut tx = self.pool.begin().await.map_err(query_err(doing.clone()))?;
        plan_status(&mut tx, plan, &doing).await?;
        let rows: Vec<EditRow> = sqlx::query_as(&DIALECT.sql(plans::SELECT_EDITS))
            .bind(plan)
            .fetch_all(&mut *tx)
            .await
            .map_err(query_err(doing.clone()))?;
        tx.commit().await.map_err(query_err(doing))?;
        rows.into_iter().map(|r| plans::edit(plan, r)).collect()
    }

    async fn save_circles(&self, run: &CirclesRun) -> Result<CirclesMeta> {
        let enc = circles::encode_run(run)?;
        let doing = circles::SAVING;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err(doing))?;
        for q in circles::CLEAR_RUN {
            sqlx::query(q)
                .execute(&mut *tx)
                .await
                .map_err(query_err(format!("{doing}: removing the previous results")))?;
        }
        sqlx::query(&circles::sql(&DIALECT, circles::INSERT_RUN))
            .bind(run.meta.speed_mps)
            .bind(&run.meta.profile)
            .bind(&enc.categories)
            .bind(&enc.graph)
            .execute(&mut *tx)
            .await
            .map_err(query_err(format!("{doing}: the run")))?;
        insert(&mut tx, &circles::RESULTS, enc.results, "", &format!("{doing}: results")).await?;
        insert(&mut tx, &circles::SCORES, enc.scores, "", &format!("{doing}: scores")).await?;
        insert(&mut tx, &circles::COVERAGE, enc.coverage, "", &format!("{doing}: coverage")).await?;
        let row: circles::RunRow = sqlx::query_as(&circles::sql(&DIALECT, circles::SELECT_RUN))
            .fetch_one(&mut *tx)
            .await
            .map_err(query_err(format!("{doing}: reading the run back")))?;
        tx.commit().await.map_err(query_err(format!("{doing}: committing")))?;
        circles::meta(row)
    }

    async fn circles_run(&self) -> Result<Option<CirclesMeta>> {
        let row: Option<circles::RunRow> = sqlx::query_as(&circles::sql(&DIALECT, circles::SELECT_RUN))
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("loading the life-circle run"))?;
        row.map(circles::meta).transpose()
    }

    async fn circle_results(&self, category: Option<&str>) -> Result<Vec<CircleResult>> {
        let sql = circles::select_results(category.is_some());
        let mut q = sqlx::query_as::<_, circles::ResultRow>(&sql);
        if let Some(c) = category {
            q = q.bind(c);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(query_err("loading life-circle results"))?;
        Ok(circles::results(rows))
    }

    async fn circle_scores(&self) -> Result<Vec<BuildingScore>> {
        let rows: Vec<circles::ScoreRow> = sqlx::query_as(circles::SELECT_SCORES)
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("loading life-circle scores"))?;
        Ok(circles::scores(rows))
    }

    async fn coverage_summaries(
        &self,
        level: Option<CoverageLevel>,
        category: Option<&str>,
    ) -> Result<Vec<CoverageSummary>> {
        let sql = circles::select_coverage(level.is_some(), category.is_some());
        let mut q = sqlx::query_as::<_, circles::CoverageRow>(&sql);
        if let Some(l) = level {
            q = q.bind(l.as_str());
        }
        if let Some(c) = category {
            q = q.bind(c);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(query_err("loading life-circle coverage"))?;
        circles::coverage(rows)
    }

    async fn save_sites(&self, category: &str, sites: &[SiteSuggestion]) -> Result<()> {
        let rows = circles::encode_sites(category, sites)?;
        let doing = circles::saving_sites(category);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err(doing.clone()))?;
        sqlx::query(circles::DELETE_SITES)
            .bind(category)
            .execute(&mut *tx)
            .await
            .map_err(query_err(format!("{doing}: removing the previous sites")))?;
        insert(&mut tx, &circles::SITES, rows, "", &doing).await?;
        tx.commit().await.map_err(query_err(format!("{doing}: committing")))?;
        Ok(())
    }

    async fn sites(&self, category: Option<&str>) -> Result<Vec<SiteSuggestion>> {
        let sql = circles::sql(&DIALECT, &circles::select_sites(category.is_some()));
        let mut q = sqlx::query_as::<_, circles::SiteRow>(&sql);
        if let Some(c) = category {
            q = q.bind(c);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(query_err("loading siting suggestions"))?;
        circles::sites(rows)
    }
}
