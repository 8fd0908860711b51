//! Errors of reading and writing files. Each names the file and, where it applies, the feature,
//! row and field.

use std::path::PathBuf;

/// Result alias.
pub type Result<T, E = IoError> = std::result::Result<T, E>;

/// What went wrong reading or writing a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The content is not a format wangge reads.
    #[error("{path}: unrecognised format: {reason}")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// What was seen.
        reason: String,
    },
    /// The file is malformed or truncated as a whole.
    #[error("{path}: malformed {format}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The format it was read as.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// One feature or row is wrong.
    #[error("{path}: {location}: field `{field}`: {reason}")]
    Field {
        /// The file.
        path: PathBuf,
        /// The feature or row, e.g. `feature 12 (id "b7")` or `row 5`.
        location: String,
        /// The field, e.g. `households`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The same id appears twice.
    #[error("{path}: duplicate id `{id}` ({first} and {second})")]
    DuplicateId {
        /// The file.
        path: PathBuf,
        /// The id.
        id: String,
        /// Where it first appeared.
        first: String,
        /// Where it appeared again.
        second: String,
    },
    /// A coordinate reference system wangge cannot transform.
    #[error("{path}: unsupported coordinate reference system {crs}: {reason}")]
    UnknownCrs {
        /// The file.
        path: PathBuf,
        /// The CRS as given.
        crs: String,
        /// Why.
        reason: String,
    },
}
