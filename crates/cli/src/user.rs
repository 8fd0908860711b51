//! `wangge user add|list` (accounts for the API) and `wangge workers import|show` (grid workers).

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use wangge_store::{GridWorker, Role};

/// `wangge user …`.
#[derive(clap::Subcommand, Debug)]
pub enum UserAction {
    /// Add a user (the password is stored as an argon2id hash).
    Add {
        /// Login name (unique).
        name: String,
        /// What the user may do.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input (its first line).
        #[arg(long, conflicts_with = "password")]
        password_stdin: bool,
        /// The password on the command line (visible to other local users: prefer --password-stdin).
        #[arg(long, env = "WANGGE_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List the users and their roles.
    List,
}

/// `wangge workers …`.
#[derive(clap::Subcommand, Debug)]
pub enum WorkersAction {
    /// Set grid workers from a CSV with the header `grid_id,name,phone,role[,valid_from]`: every
    /// grid named in the file gets the file's rows as its new set of workers (earlier sets stay as history).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// `valid_from` for rows that give none (default: the time of the import).
        #[arg(long)]
        valid_from: Option<String>,
    },
    /// Print a grid's workers in force and its history.
    Show {
        /// The grid id.
        grid: String,
    },
}

pub(crate) fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("`{s}` is not one of resident, leader, planner"))
}

/// Runs `wangge user …`.
pub async fn run(db: &str, action: UserAction) -> Result<()> {
    let store = wangge_store::open(db).await?;
    match action {
        UserAction::Add { name, role, password_stdin, password } => {
            let password = match (password_stdin, password) {
                (true, _) => {
                    let mut s = String::new();
                    std::io::stdin().read_to_string(&mut s).context("reading the password from standard input")?;
                    s.lines().next().unwrap_or("").to_string()
                }
                (false, Some(p)) => p,
                (false, None) => bail!("give the password with --password-stdin (or --password)"),
            };
            if password.is_empty() {
                bail!("the password is empty");
            }
            let user = store.add_user(&name, &password, role).await?;
            println!("added user {} ({})", user.name, user.role);
        }
        UserAction::List => {
            for u in store.users().await? {
                println!("{}\t{}\t{}", u.name, u.role, u.created_at);
            }
        }
    }
    Ok(())
}

/// One row of the workers CSV.
#[derive(Debug, serde::Deserialize)]
struct WorkerRow {
    grid_id: String,
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    valid_from: Option<String>,
}

/// Runs `wangge workers …`.
pub async fn workers(db: &str, action: WorkersAction) -> Result<()> {
    let store = wangge_store::open(db).await?;
    match action {
        WorkersAction::Import { file, valid_from } => {
            let mut reader = csv::Reader::from_path(&file).with_context(|| format!("opening {}", file.display()))?;
            let mut grids: BTreeMap<String, (Option<String>, Vec<GridWorker>)> = BTreeMap::new();
            for (i, row) in reader.deserialize::<WorkerRow>().enumerate() {
                let line = i + 2;
                let row = row.with_context(|| format!("{} line {line}", file.display()))?;
                if row.grid_id.trim().is_empty() || row.name.trim().is_empty() {
                    bail!("{} line {line}: grid_id and name must not be empty", file.display());
                }
                let entry = grids.entry(row.grid_id.trim().to_string()).or_default();
                if let Some(v) = row.valid_from.filter(|v| !v.trim().is_empty()) {
                    entry.0 = Some(v.trim().to_string());
                }
                entry.1.push(GridWorker {
                    name: row.name.trim().into(),
                    phone: row.phone.trim().into(),
                    role: row.role.trim().into(),
                });
            }
            let by = format!("cli:{}", file.display());
            for (grid, (from, list)) in &grids {
                let set = store.set_grid_workers(grid, list, from.as_deref().or(valid_from.as_deref()), &by).await?;
                println!("grid {grid}: {} worker(s), version {}", set.workers.len(), set.version);
            }
            println!("{} grid(s) set", grids.len());
        }
        WorkersAction::Show { grid } => {
            let history = store.grid_worker_history(&grid).await?;
            if history.is_empty() {
                bail!("grid `{grid}` has no workers set");
            }
            println!("{}", serde_json::to_string_pretty(&history)?);
        }
    }
    Ok(())
}
