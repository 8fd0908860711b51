//! Test support shared by wangge's crates: paths of the committed samples, and fresh databases on
//! the throwaway PostgreSQL+PostGIS cluster that `scripts/test.sh` starts.
//!
//! PostGIS tests never skip: without `WANGGE_TEST_PG_URL` they fail and say how to start a cluster.
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A file under the repository's `geodata/` folder.
pub fn geodata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../geodata").join(rel)
}

/// The admin URL of the test cluster, from `WANGGE_TEST_PG_URL`.
///
/// # Panics
/// When the variable is not set: the PostGIS tests must run, so they fail instead of skipping.
pub fn pg_admin_url() -> String {
    std::env::var("WANGGE_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "WANGGE_TEST_PG_URL is not set: PostGIS tests need the throwaway cluster. Run the whole suite with \
             ./scripts/test.sh, or start one with `export WANGGE_TEST_PG_URL=$(scripts/pg-cluster.sh start /tmp/wangge-pg)`"
        )
    })
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Creates a new empty database on the test cluster and returns its URL. Each call gives a new
/// name (process id, a counter and the `prefix`), so tests never share state.
pub async fn fresh_pg_database(prefix: &str) -> String {
    use sqlx::Connection;
    let admin = pg_admin_url();
    let name = format!(
        "{}_{}_{}",
        prefix.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connecting to the test cluster");
    sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.expect("creating a test database");
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
    format!("{base}/{name}")
}

/// [`fresh_pg_database`] for tests that have no runtime of their own.
pub fn fresh_pg_database_blocking(prefix: &str) -> String {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for creating the test database")
        .block_on(fresh_pg_database(prefix))
}

pub mod osmscan;
