//! The PostGIS store: geometry columns typed with SRID 4326 and GiST-indexed, written from WKB
//! with `ST_SetSRID(ST_GeomFromWKB(…), 4326)` and read back with `ST_AsBinary`.

use crate::error::{Result, StoreError, redact};
use crate::rows::{self, Table, Value};
use crate::{DatasetRecord, ImportCommit, PG_MIGRATOR, Store};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres, QueryBuilder};
use std::str::FromStr;
use std::time::Duration;
use wangge_core::DatasetInfo;

/// How long connecting may take before the store gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Advisory lock key taken by every import transaction (`wangge` in ASCII).
const IMPORT_LOCK: i64 = 0x7761_6e67_6765;
/// PostgreSQL's bind parameter limit per statement.
const MAX_PARAMS: usize = 65535;

/// The PostGIS store (`postgres://user:password@host:port/database`).
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    url: String,
}

impl std::fmt::Debug for PgStore {
    // By hand: the pool's options hold the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("url", &self.url).finish_non_exhaustive()
    }
}

fn query_err(doing: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    let doing = doing.into();
    move |source| StoreError::Query { doing, source }
}

impl PgStore {
    /// Connects to the database named by `url` (failing within a few seconds when it cannot be
    /// reached) and runs the migrations, which create the `postgis` extension if it is missing.
    pub async fn open(url: &str) -> Result<Self> {
        let redacted = redact(url);
        let connect_err = |source| StoreError::Connect { url: redacted.clone(), source };
        let options = PgConnectOptions::from_str(url).map_err(connect_err)?;
        // One plain connection first: the pool would retry a refused connection until its
        // timeout and then report only "pool timed out"; this reports the real cause.
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
            .await
            .map_err(|_| {
                connect_err(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
                )))
            })?
            .map_err(connect_err)?;
        PG_MIGRATOR.run(&mut conn).await.map_err(|source| StoreError::Migrate { url: redacted.clone(), source })?;
        if let Err(e) = conn.close().await {
            tracing::debug!(error = %e, "closing the migration connection");
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        Ok(Self { pool, url: redacted })
    }
}

/// Upserts `rows` into `table`, as many rows per statement as the parameter limit allows.
async fn upsert(conn: &mut PgConnection, table: &Table, rows: Vec<Vec<Value>>, dataset: &str) -> Result<()> {
    let per = table.rows_per_statement(MAX_PARAMS);
    let head = table.insert_head();
    let tail = table.upsert_tail();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(&head);
        qb.push_values(rows.by_ref().take(per), |mut b, row| {
            for v in row {
                match v {
                    Value::Text(s) => b.push_bind(s),
                    Value::OptText(s) => b.push_bind(s),
                    Value::Int(i) => b.push_bind(i),
                    Value::OptInt(i) => b.push_bind(i),
                    Value::Real(x) => b.push_bind(x),
                    Value::Bool(x) => b.push_bind(x),
                    Value::Geom(g) => {
                        b.push("ST_SetSRID(ST_GeomFromWKB(").push_bind_unseparated(g).push_unseparated("), 4326)")
                    }
                };
            }
        });
        qb.push(&tail);
        qb.build()
            .execute(&mut *conn)
            .await
            .map_err(query_err(format!("writing {} of dataset `{dataset}`", table.name)))?;
    }
    Ok(())
}

/// Replaces one dataset inside the open transaction `conn`.
async fn replace_dataset(conn: &mut PgConnection, info: &DatasetInfo, layers: &wangge_core::Layers) -> Result<()> {
    let name = info.name.as_str();
    for t in rows::DATASET_TABLES {
        sqlx::query(&format!("DELETE FROM {} WHERE dataset = $1", t.name))
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
        "INSERT INTO datasets (name, format, source, sha256, imported_at) VALUES ($1, $2, $3, $4, now()) \
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
async fn update_households(conn: &mut PgConnection, commit: &ImportCommit) -> Result<()> {
    let updates = rows::household_rows(&commit.households);
    for chunk in updates.chunks(MAX_PARAMS / 3) {
        let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(rows::UPDATE_HOUSEHOLDS_HEAD);
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

#[async_trait::async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn redacted_url(&self) -> String {
        self.url.clone()
    }

    async fn load(&self) -> Result<wangge_core::Layers> {
        // One snapshot for all tables.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(query_err("starting to load"))?;
        let layers = rows::load_layers!(tx, "ST_AsBinary(geom)")?;
        tx.commit().await.map_err(query_err("finishing the load"))?;
        Ok(layers)
    }

    async fn commit_import(&self, commit: &ImportCommit) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(query_err("starting the import"))?;
        // One import at a time: concurrent upserts of overlapping rows could otherwise deadlock.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(IMPORT_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(query_err("waiting for other imports"))?;
        for (info, layers) in &commit.datasets {
            replace_dataset(&mut tx, info, layers).await?;
        }
        update_households(&mut tx, commit).await?;
        tx.commit().await.map_err(query_err("committing the import"))?;
        Ok(())
    }

    async fn datasets(&self) -> Result<Vec<DatasetRecord>> {
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT name, format, source, sha256, \
             to_char(imported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM datasets",
        )
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
        // Byte order, whatever the database collation.
        out.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        Ok(out)
    }
}
