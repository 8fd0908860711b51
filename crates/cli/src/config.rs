//! `--config FILE` (or `WANGGE_CONFIG`): settings from a TOML file. A value given on the command line
//! or in the environment wins over the file, and the file wins over the built-in default.
//!
//! ```toml
//! db = "postgres://wangge@127.0.0.1/wangge"
//! catalogue = "catalogue.toml"
//!
//! [serve]
//! bind = "0.0.0.0:8080"
//! web = "web/dist"
//! cors_origins = ["https://map.example.cn"]
//! anonymous_role = "resident"
//! body_limit = 1048576
//! rate_limit = 100
//! rate_burst = 400
//! ```

use anyhow::{Context, Result};
use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The file's settings; unknown keys are refused (naming them), so a typo is never ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Store URL.
    pub db: Option<String>,
    /// Facility catalogue file.
    pub catalogue: Option<PathBuf>,
    /// `wangge serve` / `wangge demo` settings.
    #[serde(default)]
    pub serve: ServeConfig,
}

/// The `[serve]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    pub bind: Option<SocketAddr>,
    pub web: Option<PathBuf>,
    pub cors_origins: Option<Vec<String>>,
    pub anonymous_role: Option<String>,
    pub body_limit: Option<usize>,
    pub rate_limit: Option<u32>,
    pub rate_burst: Option<u32>,
}

impl Config {
    /// Reads and checks `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the config file {}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("config file {}: {}", path.display(), e.message()))
    }
}

/// True when `id` was not given on the command line nor in the environment.
pub fn unset(m: &ArgMatches, id: &str) -> bool {
    !matches!(m.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
}
