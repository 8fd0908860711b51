//! Store errors: each says what was being done.

/// Result alias.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no supported store.
    #[error("database URL `{0}` is not supported: use sqlite://path/to/file.db or postgres://user@host/db")]
    BadUrl(String),
    /// The database could not be reached or opened.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// Redacted URL.
        url: String,
        /// Cause.
        #[source]
        source: sqlx::Error,
    },
    /// Migrations failed.
    #[error("migrating {url}: {source}")]
    Migrate {
        /// Redacted URL.
        url: String,
        /// Cause.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed while doing something.
    #[error("{doing}: {source}")]
    Query {
        /// What was being done, e.g. "loading buildings".
        doing: String,
        /// Cause.
        #[source]
        source: sqlx::Error,
    },
    /// Stored data could not be decoded.
    #[error("{doing}: stored row `{id}` is corrupt: {reason}")]
    Corrupt {
        /// What was being done.
        doing: String,
        /// Row id.
        id: String,
        /// Why.
        reason: String,
    },
    /// The named thing is not in the store.
    #[error("{what} `{name}` not found")]
    NotFound {
        /// What kind of thing, e.g. "plan".
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A compare-and-set write found another version than the one it was based on (nothing was
    /// written).
    #[error("plan `{name}` is at version {current}, not {expected}")]
    Stale {
        /// The plan.
        name: String,
        /// The version the write was based on.
        expected: i64,
        /// The version in the store.
        current: i64,
    },
    /// What was given to store breaks a rule of the store (nothing was written).
    #[error("{doing}: {reason}")]
    Invalid {
        /// What was being done, e.g. "saving plan `p`".
        doing: String,
        /// What is wrong.
        reason: String,
    },
}

/// Replaces the password in a URL by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
