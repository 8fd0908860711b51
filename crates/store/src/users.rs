//! Users, bearer tokens and grid workers.
//!
//! Passwords are kept as argon2id PHC strings; bearer tokens are 32 random bytes (hex) handed to
//! the client once and kept only as their SHA-256. Grid workers (网格员) are kept per grid id,
//! independent of any plan: each time a grid's workers are set a new numbered set is added, and
//! the earlier sets stay as history.
//!
//! [`UserStore`] is a supertrait of [`crate::Store`], so every store has these methods.

use crate::error::{Result, StoreError};
use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use std::time::Duration;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The public: anonymous callers are residents.
    #[default]
    Resident,
    /// Community leaders: read everything, household numbers included.
    Leader,
    /// Planners: read everything and edit plans, registers and grid workers.
    Planner,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Resident, Role::Leader, Role::Planner];

    /// `resident`, `leader` or `planner`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Leader => "leader",
            Role::Planner => "planner",
        }
    }

    /// The role of that name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may see per-building household numbers.
    pub fn sees_households(self) -> bool {
        self >= Role::Leader
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user as the store gives it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Unique login name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// When the user was added (RFC 3339, UTC).
    pub created_at: String,
}

/// A successful login: the bearer token (shown once) and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The opaque bearer token (64 hex characters); the store keeps only its SHA-256.
    pub token: String,
    /// Who logged in.
    pub user: User,
    /// When the token stops working (RFC 3339, UTC).
    pub expires_at: String,
}

/// One grid worker (网格员).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridWorker {
    /// Name (not empty).
    pub name: String,
    /// Phone number as given.
    pub phone: String,
    /// Role in the grid, e.g. `专职网格员`.
    pub role: String,
}

/// The workers of one grid as set at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerSet {
    /// The grid id (plan-independent).
    pub grid: String,
    /// 1 for the grid's first set, then increasing by one.
    pub version: i64,
    /// From when this set holds, as given (an RFC 3339 date or time).
    pub valid_from: String,
    /// When the set was stored (RFC 3339, UTC).
    pub set_at: String,
    /// Who stored it.
    pub set_by: String,
    /// The workers, in the order given (may be empty: the grid has nobody).
    pub workers: Vec<GridWorker>,
}

// ---- secrets ---------------------------------------------------------------------------------

fn invalid(doing: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid { doing: doing.to_string(), reason: reason.into() }
}

/// The argon2id PHC string of `password` with a fresh random salt (CPU-heavy: call off the
/// async threads, as the store methods do).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| invalid("hashing a password", e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (false for a hash that does not parse).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash checked against when the user does not exist, so that a wrong name takes as long as a
/// wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("wangge: no such user").unwrap_or_else(|_| String::from("$argon2id$")));

/// A new random bearer token: 32 bytes from the OS, as 64 hex characters.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The hex SHA-256 of a token: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

async fn blocking<T: Send + 'static>(doing: &str, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| invalid(doing, e.to_string()))
}

/// Checks a user name: not empty, at most 64 characters, no control characters or spaces at its ends.
fn check_name(doing: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err(invalid(doing, "a user name has 1 to 64 characters"));
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err(invalid(doing, "a user name has no control characters and no spaces at its ends"));
    }
    Ok(())
}

/// Checks a set of grid workers.
fn check_workers(doing: &str, grid: &str, workers: &[GridWorker], valid_from: Option<&str>) -> Result<()> {
    if grid.is_empty() {
        return Err(invalid(doing, "an empty grid id"));
    }
    if valid_from.is_some_and(|v| v.trim().is_empty()) {
        return Err(invalid(doing, "an empty valid_from"));
    }
    for (i, w) in workers.iter().enumerate() {
        if w.name.trim().is_empty() {
            return Err(invalid(doing, format!("worker {}: an empty name", i + 1)));
        }
    }
    Ok(())
}

// ---- the trait -------------------------------------------------------------------------------

/// Users, tokens and grid workers: part of every [`crate::Store`].
#[async_trait::async_trait]
pub trait UserStore: Send + Sync {
    /// Adds a user with an argon2id hash of `password`. Fails with [`StoreError::Invalid`] (and
    /// writes nothing) on a bad name, an empty password, or a name already taken.
    async fn add_user(&self, name: &str, password: &str, role: Role) -> Result<User>;

    /// Every user, sorted by name.
    async fn users(&self) -> Result<Vec<User>>;

    /// Checks the credentials and, when they match, stores a new token valid for `ttl`. `None` when
    /// the name or the password is wrong (both take an argon2 verification, so the answer's timing
    /// does not tell which).
    async fn login(&self, name: &str, password: &str, ttl: Duration) -> Result<Option<Session>>;

    /// The user holding `token`, when it exists and has not expired.
    async fn token_user(&self, token: &str) -> Result<Option<User>>;

    /// Forgets `token`; `false` when it was not stored.
    async fn revoke_token(&self, token: &str) -> Result<bool>;

    /// Stores a new set of workers for `grid` (the previous sets stay as history) and returns it.
    /// `valid_from` defaults to the time of storing. Fails with [`StoreError::Invalid`] on an
    /// empty grid id, an empty `valid_from` or a worker without a name.
    async fn set_grid_workers(
        &self,
        grid: &str,
        workers: &[GridWorker],
        valid_from: Option<&str>,
        set_by: &str,
    ) -> Result<WorkerSet>;

    /// The set in force for `grid` (its latest), if it was ever set.
    async fn grid_workers(&self, grid: &str) -> Result<Option<WorkerSet>>;

    /// Every set of `grid`, oldest first.
    async fn grid_worker_history(&self, grid: &str) -> Result<Vec<WorkerSet>>;
}

/// The SQL that differs between the stores.
struct Sql {
    /// The current time as stored.
    now: &'static str,
    /// The current time plus `$n` seconds (`{}` stands for the parameter).
    now_plus: &'static str,
    /// A time column as RFC 3339 UTC text (`{}` stands for the column).
    time: &'static str,
    /// Run first in a grid-workers write (a lock), if any.
    lock: Option<&'static str>,
}

impl Sql {
    fn t(&self, col: &str) -> String {
        self.time.replace("{}", col)
    }
}

const SQLITE: Sql = Sql {
    now: "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
    now_plus: "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+' || {} || ' seconds')",
    time: "{}",
    lock: None,
};

const POSTGRES: Sql = Sql {
    now: "now()",
    now_plus: "(now() + ({}::float8) * interval '1 second')",
    time: "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
    // `wkrs` in ASCII: grid-worker writes queue instead of racing for the next version.
    lock: Some("SELECT pg_advisory_xact_lock(2003530355)"),
};

type UserRow = (String, String, String);
type SetRow = (String, i64, String, String, String);
type WorkerRow = (i64, String, String, String);

fn user_of(row: UserRow, doing: &str) -> Result<User> {
    let (name, role, created_at) = row;
    let role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt {
        doing: doing.to_string(),
        id: name.clone(),
        reason: format!("unknown role `{role}`"),
    })?;
    Ok(User { name, role, created_at })
}

fn sets_of(sets: Vec<SetRow>, workers: Vec<WorkerRow>) -> Vec<WorkerSet> {
    let mut out: Vec<WorkerSet> = sets
        .into_iter()
        .map(|(grid, version, valid_from, set_at, set_by)| WorkerSet {
            grid,
            version,
            valid_from,
            set_at,
            set_by,
            workers: Vec::new(),
        })
        .collect();
    out.sort_by_key(|s| s.version);
    for (version, name, phone, role) in workers {
        if let Ok(i) = out.binary_search_by_key(&version, |s| s.version) {
            out[i].workers.push(GridWorker { name, phone, role });
        }
    }
    out
}

fn query_err(doing: &str) -> impl FnOnce(sqlx::Error) -> StoreError {
    let doing = doing.to_string();
    move |source| StoreError::Query { doing, source }
}

/// The one implementation, written once for both stores (their SQL differs only in [`Sql`]).
macro_rules! impl_user_store {
    ($store:ty, $sql:expr) => {
        #[async_trait::async_trait]
        impl UserStore for $store {
            async fn add_user(&self, name: &str, password: &str, role: Role) -> Result<User> {
                let doing = format!("adding user `{name}`");
                check_name(&doing, name)?;
                if password.is_empty() {
                    return Err(invalid(&doing, "an empty password"));
                }
                let pw = password.to_string();
                let hash = blocking(&doing, move || hash_password(&pw)).await??;
                let sql = $sql;
                let q = format!(
                    "INSERT INTO users (name, password_hash, role, created_at) VALUES ($1, $2, $3, {}) \
                     ON CONFLICT (name) DO NOTHING RETURNING name, role, {}",
                    sql.now,
                    sql.t("created_at")
                );
                let row: Option<UserRow> = sqlx::query_as(&q)
                    .bind(name)
                    .bind(&hash)
                    .bind(role.as_str())
                    .fetch_optional(self.pool())
                    .await
                    .map_err(query_err(&doing))?;
                match row {
                    Some(r) => user_of(r, &doing),
                    None => Err(invalid(&doing, format!("a user named `{name}` already exists"))),
                }
            }

            async fn users(&self) -> Result<Vec<User>> {
                let doing = "listing users";
                let q = format!("SELECT name, role, {} FROM users", $sql.t("created_at"));
                let rows: Vec<UserRow> =
                    sqlx::query_as(&q).fetch_all(self.pool()).await.map_err(query_err(doing))?;
                let mut out = rows.into_iter().map(|r| user_of(r, doing)).collect::<Result<Vec<_>>>()?;
                out.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(out)
            }

            async fn login(&self, name: &str, password: &str, ttl: Duration) -> Result<Option<Session>> {
                let doing = "logging in";
                let sql = $sql;
                let q = format!("SELECT name, role, {}, password_hash FROM users WHERE name = $1", sql.t("created_at"));
                let row: Option<(String, String, String, String)> =
                    sqlx::query_as(&q).bind(name).fetch_optional(self.pool()).await.map_err(query_err(doing))?;
                let (user, hash) = match row {
                    Some((n, r, c, h)) => (Some(user_of((n, r, c), doing)?), h),
                    None => (None, DUMMY_HASH.clone()),
                };
                let pw = password.to_string();
                let ok = blocking(doing, move || verify_password(&hash, &pw)).await?;
                let Some(user) = user.filter(|_| ok) else { return Ok(None) };
                let token = new_token();
                let secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).clamp(1, 10 * 366 * 86_400);
                let q = format!(
                    "INSERT INTO tokens (token_hash, user_name, created_at, expires_at) VALUES ($1, $2, {}, {}) \
                     RETURNING {}",
                    sql.now,
                    sql.now_plus.replace("{}", "$3"),
                    sql.t("expires_at")
                );
                let expires_at: String = sqlx::query_scalar(&q)
                    .bind(token_hash(&token))
                    .bind(&user.name)
                    .bind(secs)
                    .fetch_one(self.pool())
                    .await
                    .map_err(query_err(doing))?;
                Ok(Some(Session { token, user, expires_at }))
            }

            async fn token_user(&self, token: &str) -> Result<Option<User>> {
                let doing = "checking a token";
                let sql = $sql;
                let q = format!(
                    "SELECT u.name, u.role, {} FROM tokens t JOIN users u ON u.name = t.user_name \
                     WHERE t.token_hash = $1 AND t.expires_at > {}",
                    sql.t("u.created_at"),
                    sql.now
                );
                let row: Option<UserRow> = sqlx::query_as(&q)
                    .bind(token_hash(token))
                    .fetch_optional(self.pool())
                    .await
                    .map_err(query_err(doing))?;
                row.map(|r| user_of(r, doing)).transpose()
            }

            async fn revoke_token(&self, token: &str) -> Result<bool> {
                let r = sqlx::query("DELETE FROM tokens WHERE token_hash = $1")
                    .bind(token_hash(token))
                    .execute(self.pool())
                    .await
                    .map_err(query_err("revoking a token"))?;
                Ok(r.rows_affected() > 0)
            }

            async fn set_grid_workers(
                &self,
                grid: &str,
                workers: &[GridWorker],
                valid_from: Option<&str>,
                set_by: &str,
            ) -> Result<WorkerSet> {
                let doing = format!("setting the workers of grid `{grid}`");
                check_workers(&doing, grid, workers, valid_from)?;
                let sql = $sql;
                let mut tx = self.pool().begin().await.map_err(query_err(&doing))?;
                if let Some(lock) = sql.lock {
                    sqlx::query(lock).execute(&mut *tx).await.map_err(query_err(&doing))?;
                }
                let q = format!(
                    "INSERT INTO grid_worker_sets (grid_id, version, valid_from, set_at, set_by) \
                     SELECT $1, COALESCE(MAX(version), 0) + 1, COALESCE($2, {}), {}, $3 FROM grid_worker_sets \
                     WHERE grid_id = $1 RETURNING version, valid_from, {}",
                    sql.t(sql.now),
                    sql.now,
                    sql.t("set_at")
                );
                let (version, valid_from, set_at): (i64, String, String) = sqlx::query_as(&q)
                    .bind(grid)
                    .bind(valid_from)
                    .bind(set_by)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(query_err(&doing))?;
                for (seq, w) in workers.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO grid_workers (grid_id, version, seq, name, phone, role) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(grid)
                    .bind(version)
                    .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                    .bind(&w.name)
                    .bind(&w.phone)
                    .bind(&w.role)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err(&doing))?;
                }
                tx.commit().await.map_err(query_err(&doing))?;
                Ok(WorkerSet {
                    grid: grid.to_string(),
                    version,
                    valid_from,
                    set_at,
                    set_by: set_by.to_string(),
                    workers: workers.to_vec(),
                })
            }

            async fn grid_workers(&self, grid: &str) -> Result<Option<WorkerSet>> {
                Ok(self.worker_sets(grid, true).await?.pop())
            }

            async fn grid_worker_history(&self, grid: &str) -> Result<Vec<WorkerSet>> {
                self.worker_sets(grid, false).await
            }
        }

        impl $store {
            /// The sets of `grid`, oldest first (only the latest when `latest`).
            async fn worker_sets(&self, grid: &str, latest: bool) -> Result<Vec<WorkerSet>> {
                let doing = format!("loading the workers of grid `{grid}`");
                let sql = $sql;
                let filter = if latest {
                    " AND version = (SELECT MAX(version) FROM grid_worker_sets WHERE grid_id = $1)"
                } else {
                    ""
                };
                let mut tx = self.pool().begin().await.map_err(query_err(&doing))?;
                let q = format!(
                    "SELECT grid_id, version, valid_from, {}, set_by FROM grid_worker_sets WHERE grid_id = $1{filter}",
                    sql.t("set_at")
                );
                let sets: Vec<SetRow> =
                    sqlx::query_as(&q).bind(grid).fetch_all(&mut *tx).await.map_err(query_err(&doing))?;
                let q = format!(
                    "SELECT version, name, phone, role FROM grid_workers WHERE grid_id = $1{filter} ORDER BY version, seq"
                );
                let workers: Vec<WorkerRow> =
                    sqlx::query_as(&q).bind(grid).fetch_all(&mut *tx).await.map_err(query_err(&doing))?;
                tx.commit().await.map_err(query_err(&doing))?;
                Ok(sets_of(sets, workers))
            }
        }
    };
}

impl_user_store!(crate::sqlite::SqliteStore, SQLITE);
impl_user_store!(crate::postgres::PgStore, POSTGRES);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens() {
        let h = hash_password("秘密 pass").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "秘密 pass"));
        assert!(!verify_password(&h, "秘密 pasS"));
        assert!(!verify_password("not a hash", "x"));
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn roles_parse_and_order() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
        assert!(!Role::Resident.sees_households());
        assert!(Role::Leader.sees_households() && Role::Planner.sees_households());
    }
}
