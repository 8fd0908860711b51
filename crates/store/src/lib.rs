//! wangge-store: where wangge keeps its model. One [`Store`] trait, two implementations with the
//! same behaviour: the embedded default ([`sqlite::SqliteStore`], one local file, nothing to
//! install) and PostGIS ([`postgres::PgStore`], geometry columns in SRID 4326 with GiST indexes so
//! QGIS and psql users can query the same tables). Migrations live in `migrations/` and run on open.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod circles;
pub mod error;
mod plans;
pub mod postgres;
mod rows;
pub mod sqlite;
pub mod users;
pub mod work;

pub use circles::{
    BuildingScore, CircleCategory, CircleResult, CirclesMeta, CirclesRun, CoverageLevel, CoverageSummary, GraphSummary,
    SiteSuggestion,
};
pub use error::{Result, StoreError};
use std::sync::Arc;
pub use users::{GridWorker, Role, Session, User, UserStore, WorkerSet};
use wangge_core::plan::PlanRecord;
use wangge_core::{DatasetInfo, Households, Layers};
pub use work::{API_DATASET, AuditEntry, JobRecord, JobStatus, WorkStore};

/// Migrations of the PostGIS store.
pub static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");
/// Migrations of the embedded store.
pub static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// One import, written in one transaction: either all of it lands or the store is unchanged.
#[derive(Debug, Clone, Default)]
pub struct ImportCommit {
    /// Datasets to replace: everything a dataset of the same name brought before is removed,
    /// then these rows are written (a row of another dataset with the same source id is taken over).
    pub datasets: Vec<(DatasetInfo, Layers)>,
    /// New household values for buildings already in the store (e.g. estimates recomputed because a
    /// population grid arrived), by building source id.
    pub households: Vec<(String, Households)>,
}

/// A dataset as recorded in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRecord {
    /// What was imported.
    pub info: DatasetInfo,
    /// When (RFC 3339, UTC).
    pub imported_at: String,
}

/// The store. Both implementations return layers sorted by source id, so the same content gives
/// the same `Layers` whichever store holds it. Users, tokens and grid workers come from the
/// supertrait [`UserStore`].
#[async_trait::async_trait]
pub trait Store: UserStore + WorkStore + Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// The URL with any password replaced by `***`.
    fn redacted_url(&self) -> String;
    /// Everything in the store (register rows not yet applied to buildings).
    async fn load(&self) -> Result<Layers>;
    /// Writes an import in one transaction.
    async fn commit_import(&self, commit: &ImportCommit) -> Result<()>;
    /// The datasets imported so far, by name.
    async fn datasets(&self) -> Result<Vec<DatasetRecord>>;

    // ---- grid plans ----------------------------------------------------------------------------
    //
    // Every plan write runs in one transaction, and plan writes are serialised against each other.
    // Plan names, ids and texts are compared byte for byte (sorting does not follow a collation).

    /// Saves a plan in one transaction: inserts it, or replaces everything of the plan with the
    /// same name (its assignments and grids; its edit history stays). The store sets `version`
    /// (1 for a new plan, the stored version + 1 on a replace; the given one is ignored) and
    /// `created_at` (on first save; a replace keeps it). Saving with status
    /// [`Active`](wangge_core::plan::PlanStatus::Active) retires the plan in force, as
    /// [`Store::activate_plan`] does. Returns the record as [`Store::load_plan`] would give it.
    ///
    /// Fails with [`StoreError::Invalid`] (and writes nothing) on an empty name, a non-finite or
    /// unclosed polygon (every ring needs at least 4 points), households above `i64::MAX`, an
    /// empty unit label (`None` is the whole building), or two assignments of one building and
    /// unit, or two grids with one id. Empty building or grid ids are refused by the database
    /// ([`StoreError::Query`]), which undoes the whole save as well.
    async fn save_plan(&self, plan: &PlanRecord) -> Result<PlanRecord>;

    /// Every plan, sorted by name, without assignments and grids (empty vectors): a listing.
    async fn plans(&self) -> Result<Vec<PlanRecord>>;

    /// The whole plan of that name, with assignments sorted by (building, unit) and grids sorted by
    /// grid id, each with its outline; `None` when there is no such plan.
    async fn load_plan(&self, name: &str) -> Result<Option<PlanRecord>>;

    /// The plan in force, in full (as [`Store::load_plan`]), if there is one.
    async fn active_plan(&self) -> Result<Option<PlanRecord>>;

    /// Puts a plan in force in one transaction: the plan in force becomes
    /// [`Retired`](wangge_core::plan::PlanStatus::Retired) and this one
    /// [`Active`](wangge_core::plan::PlanStatus::Active), the version of both going up by one.
    /// Activating the plan already in force changes nothing. Fails with [`StoreError::NotFound`]
    /// when there is no plan of that name.
    async fn activate_plan(&self, name: &str) -> Result<()>;

    /// [`Store::activate_plan`] as a compare-and-set: with `Some(version)`, only when the plan is
    /// still at that version (else [`StoreError::Stale`], writing nothing), so a planner publishes
    /// exactly the version they reviewed.
    async fn activate_plan_at(&self, name: &str, expected_version: Option<i64>) -> Result<()>;

    /// Deletes a plan with its assignments, grids and edit history; `false` when there was none.
    async fn delete_plan(&self, name: &str) -> Result<bool>;

    /// Appends an edit to a plan's history, stamped with the current time (RFC 3339, UTC), and
    /// returns its sequence number (1 for a plan's first edit, then increasing by one). The plan's
    /// version is not changed. Fails with [`StoreError::NotFound`] when there is no such plan.
    async fn append_plan_edit(&self, plan: &str, author: &str, edit: &serde_json::Value) -> Result<i64>;

    /// Writes an edited plan only if the stored one is still at version `expected`
    /// (compare-and-set), in one transaction: replaces the assignments, grids and metrics of the
    /// plan named `plan.name` (its status, quota and creation time stay as stored), sets its
    /// version to `expected + 1` and appends `edit` by `author` to its history, as
    /// [`Store::append_plan_edit`] does. Returns `(new version, edit sequence number)`. Two writes
    /// based on the same version never both succeed.
    ///
    /// Fails, writing nothing, with [`StoreError::Stale`] when the stored version is another,
    /// [`StoreError::NotFound`] when there is no such plan, and as [`Store::save_plan`] on an
    /// invalid plan.
    async fn commit_plan_edit(
        &self,
        plan: &PlanRecord,
        expected: i64,
        author: &str,
        edit: &serde_json::Value,
    ) -> Result<(i64, i64)>;

    /// A plan's edit history as `(seq, at, author, edit)`, oldest first (`at` in RFC 3339, UTC).
    /// Fails with [`StoreError::NotFound`] when there is no such plan.
    async fn plan_edits(&self, plan: &str) -> Result<Vec<(i64, String, String, serde_json::Value)>>;

    // ---- life circles --------------------------------------------------------------------------
    //
    // The store holds the results of one run: each save replaces the previous run wholesale, in
    // one transaction, and saves are serialised against each other. Ids are compared byte for byte.

    /// Replaces the stored life-circle results (results, scores, coverage, metadata, and the sites,
    /// which were found against the previous results) with `run`, in one transaction. The store
    /// sets `computed_at` (the given one is ignored) and returns the metadata as
    /// [`Store::circles_run`] will give it.
    ///
    /// Fails with [`StoreError::Invalid`] naming the row and field, writing nothing, on: a
    /// non-finite or negative `distance_m`, `time_s` or weight; a speed that is not a positive
    /// number; an empty profile name; a completeness outside 0..1; covered households or buildings
    /// above the total; a count above `i64::MAX`; a result or coverage row whose category the run
    /// does not list; an empty building, facility, region or category id; a row given twice.
    async fn save_circles(&self, run: &CirclesRun) -> Result<CirclesMeta>;

    /// The stored run's metadata; `None` when circles were never computed.
    async fn circles_run(&self) -> Result<Option<CirclesMeta>>;

    /// Nearest-facility results, all or of one category, sorted by (building, category).
    async fn circle_results(&self, category: Option<&str>) -> Result<Vec<CircleResult>>;

    /// Completeness scores, sorted by building.
    async fn circle_scores(&self) -> Result<Vec<BuildingScore>>;

    /// Coverage summaries, all or of one level and/or category, sorted by (category, level, region).
    async fn coverage_summaries(
        &self,
        level: Option<CoverageLevel>,
        category: Option<&str>,
    ) -> Result<Vec<CoverageSummary>>;

    /// Replaces the siting suggestions of one category (an empty list removes them), in one
    /// transaction. Fails with [`StoreError::Invalid`], writing nothing, when a site is of another
    /// category, has rank 0 or a rank given twice, a longitude/latitude out of range or not finite,
    /// or households above `i64::MAX`.
    async fn save_sites(&self, category: &str, sites: &[SiteSuggestion]) -> Result<()>;

    /// Siting suggestions, all or of one category, sorted by (category, rank).
    async fn sites(&self, category: Option<&str>) -> Result<Vec<SiteSuggestion>>;
}

/// The embedded store's default location when no URL is given.
pub const DEFAULT_URL: &str = "sqlite://wangge.db";

/// Opens a store by URL (`sqlite://path/file.db` or `postgres://…`), creating the embedded file on
/// first use and running migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(url).await?))
    } else {
        Err(StoreError::BadUrl(error::redact(url)))
    }
}
