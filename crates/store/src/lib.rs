//! wangge-store: where wangge keeps its model. One [`Store`] trait, two implementations with the
//! same behaviour: the embedded default ([`sqlite::SqliteStore`], one local file, nothing to
//! install) and PostGIS ([`postgres::PgStore`], geometry columns in SRID 4326 with GiST indexes so
//! QGIS and psql users can query the same tables). Migrations live in `migrations/` and run on open.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;
pub mod postgres;
mod rows;
pub mod sqlite;

pub use error::{Result, StoreError};
use std::sync::Arc;
use wangge_core::{DatasetInfo, Households, Layers};

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
/// the same `Layers` whichever store holds it.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
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
