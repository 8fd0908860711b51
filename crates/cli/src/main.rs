//! `wangge`: import city data, inspect and export it, generate synthetic cities, and serve the map.
//!
//! Run `wangge --help` for the commands; `wangge demo` imports the Beijing sample into a fresh
//! embedded store and serves it on http://127.0.0.1:8080.
#![forbid(unsafe_code)]

/// mimalloc instead of the system allocator: tile encoding, JSON answers and partitioning allocate
/// many small short-lived buffers, where glibc's allocator spent a fifth of the time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod circles;
mod config;
mod import;
mod partition;
mod user;

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use wangge_core::Catalogue;
use wangge_core::chinacoords::CoordSystem;
use wangge_core::features::{self, HouseholdPrivacy};

#[derive(Parser)]
#[command(name = "wangge", version, about = "Community grids and 15-minute life circles for Chinese cities")]
struct Cli {
    /// Store URL: sqlite://path/to/file.db (embedded, the default) or postgres://user@host/db.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = wangge_store::DEFAULT_URL)]
    db: String,
    /// Facility catalogue (TOML); the built-in GB 50180-2018 catalogue when not given.
    #[arg(long, global = true, env = "WANGGE_CATALOGUE")]
    catalogue: Option<PathBuf>,
    /// Settings file (TOML: `db`, `catalogue`, and a `[serve]` table with the serve options); the
    /// command line and the environment win over it.
    #[arg(long, global = true, env = "WANGGE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import OpenStreetMap (PBF/XML), GeoJSON, CSV registers and GeoPackage population grids.
    Import(import::ImportArgs),
    /// Divide communities into grids of whole buildings within a household quota.
    Partition(partition::PartitionArgs),
    /// 15-minute life circles: walking distance to the nearest facility of each category,
    /// coverage, isochrones and where to add facilities.
    Circles(circles::CirclesArgs),
    /// List the grid plans in the store.
    Plans,
    /// Act on one plan.
    Plan {
        #[command(subcommand)]
        action: PlanAction,
    },
    /// Print the store's counts.
    Stats {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write one layer of the store as GeoJSON.
    Export {
        /// The layer to write.
        #[arg(long, value_enum)]
        layer: Layer,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Coordinate system of the output: wgs84, gcj02 or bd09.
        #[arg(long, default_value = "wgs84", value_parser = parse_coords)]
        coords: CoordSystem,
    },
    /// Generate a deterministic synthetic city as GeoJSON files.
    Synth {
        /// Number of buildings.
        #[arg(long)]
        buildings: u64,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// South-west corner as lon,lat.
        #[arg(long, value_parser = parse_lonlat)]
        origin: Option<(f64, f64)>,
    },
    /// Serve the API and the web map.
    Serve(ServeArgs),
    /// Import a bundled sample into a fresh embedded store (once) and serve it.
    Demo {
        /// Which sample.
        #[arg(long, value_enum, default_value = "beijing")]
        sample: Sample,
        /// Folder for the demo store.
        #[arg(long, default_value = ".wangge")]
        dir: PathBuf,
        /// Folder holding the samples (default: the repository's geodata/).
        #[arg(long, env = "WANGGE_GEODATA")]
        geodata: Option<PathBuf>,
        #[command(flatten)]
        serve: ServeOpts,
    },
    /// Print the built-in facility catalogue (a starting point for a city's own file).
    Catalogue,
    /// Manage the users who sign in to the API.
    User {
        #[command(subcommand)]
        action: user::UserAction,
    },
    /// Grid workers (网格员): set them from a CSV, show a grid's history.
    Workers {
        #[command(subcommand)]
        action: user::WorkersAction,
    },
}

#[derive(Subcommand)]
enum PlanAction {
    /// Make a plan the active one (the previous active plan is kept, retired).
    Activate {
        /// Plan name.
        name: String,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    opts: ServeOpts,
}

#[derive(clap::Args, Clone)]
struct ServeOpts {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "WANGGE_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Folder of the built web app (default: the repository's web/dist).
    #[arg(long, env = "WANGGE_WEB")]
    web: Option<PathBuf>,
    /// Origins allowed to call the API from a browser (CORS), e.g. https://map.example.cn; `*` for
    /// any; repeat or separate with commas. None: same-origin only.
    #[arg(long = "cors-origin", env = "WANGGE_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// What anonymous callers may read: `resident` (no per-building household numbers) unless
    /// given. Raise it only for public sample data shown locally.
    #[arg(long, env = "WANGGE_ANONYMOUS_ROLE", value_parser = user::parse_role)]
    anonymous_role: Option<wangge_store::Role>,
    /// Largest request body in bytes (larger ones get 413).
    #[arg(long, env = "WANGGE_BODY_LIMIT", default_value_t = wangge_server::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// Requests per second each client (bearer token, else IP address) may make; over it: 429.
    /// 0 turns the limit off (e.g. for load tests).
    #[arg(long, env = "WANGGE_RATE_LIMIT", default_value_t = wangge_server::DEFAULT_RATE_LIMIT)]
    rate_limit: u32,
    /// Requests a client may make at once above its rate.
    #[arg(long, env = "WANGGE_RATE_BURST", default_value_t = wangge_server::DEFAULT_RATE_BURST)]
    rate_burst: u32,
    /// Mebibytes of encoded vector tiles kept in memory (with their gzip copies); 0 turns the tile
    /// cache off, so every tile is encoded on every request (e.g. to load-test the encoder).
    #[arg(long, env = "WANGGE_TILE_CACHE_MB", default_value_t = wangge_server::tiles::DEFAULT_CACHE_MB)]
    tile_cache: usize,
}

impl ServeOpts {
    /// Fills what the command line and environment left unset from the config file's `[serve]`.
    fn apply(&mut self, m: &clap::ArgMatches, c: &config::ServeConfig) -> Result<()> {
        use config::unset;
        if let (true, Some(v)) = (unset(m, "bind"), c.bind) {
            self.bind = v;
        }
        if let (true, Some(v)) = (unset(m, "web"), &c.web) {
            self.web = Some(v.clone());
        }
        if let (true, Some(v)) = (unset(m, "cors_origins"), &c.cors_origins) {
            self.cors_origins = v.clone();
        }
        if let (true, Some(v)) = (unset(m, "anonymous_role"), &c.anonymous_role) {
            self.anonymous_role =
                Some(user::parse_role(v).map_err(|e| anyhow::anyhow!("config file: serve.anonymous_role: {e}"))?);
        }
        if let (true, Some(v)) = (unset(m, "body_limit"), c.body_limit) {
            self.body_limit = v;
        }
        if let (true, Some(v)) = (unset(m, "rate_limit"), c.rate_limit) {
            self.rate_limit = v;
        }
        if let (true, Some(v)) = (unset(m, "rate_burst"), c.rate_burst) {
            self.rate_burst = v;
        }
        Ok(())
    }
}

/// Parses the command line, then fills unset values from `--config` (command line > environment >
/// file > default).
fn parse_cli() -> Result<Cli> {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let Some(path) = cli.config.clone() else { return Ok(cli) };
    let file = config::Config::read(&path)?;
    if let (true, Some(db)) = (config::unset(&matches, "db"), &file.db) {
        cli.db = db.clone();
    }
    if let (true, Some(c)) = (config::unset(&matches, "catalogue"), &file.catalogue) {
        cli.catalogue = Some(c.clone());
    }
    match &mut cli.command {
        Command::Serve(args) => {
            let m = matches.subcommand_matches("serve").unwrap_or(&matches);
            args.opts.apply(m, &file.serve)?;
        }
        Command::Demo { serve, .. } => {
            let m = matches.subcommand_matches("demo").unwrap_or(&matches);
            serve.apply(m, &file.serve)?;
        }
        _ => {}
    }
    Ok(cli)
}

#[derive(Clone, Copy, ValueEnum)]
enum Layer {
    Buildings,
    Facilities,
    Compounds,
    Communities,
    Streets,
    Network,
    Basemap,
}

#[derive(Clone, Copy, ValueEnum)]
enum Sample {
    Beijing,
    Helsinki,
}

fn parse_coords(s: &str) -> Result<CoordSystem, String> {
    CoordSystem::parse(s).ok_or_else(|| format!("`{s}` is not one of wgs84, gcj02, bd09"))
}

fn parse_lonlat(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(',').ok_or("expected lon,lat")?;
    let lon: f64 = a.trim().parse().map_err(|_| format!("`{a}` is not a number"))?;
    let lat: f64 = b.trim().parse().map_err(|_| format!("`{b}` is not a number"))?;
    if !(-180.0..=180.0).contains(&lon) || !(-85.0..=85.0).contains(&lat) {
        return Err(format!("{lon},{lat} is not a lon,lat"));
    }
    Ok((lon, lat))
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "wangge=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(cli)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn load_catalogue(path: Option<&Path>) -> Result<Catalogue> {
    match path {
        None => Ok(Catalogue::default_catalogue()),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading catalogue {}", p.display()))?;
            Catalogue::from_toml(&text).with_context(|| format!("catalogue {}", p.display()))
        }
    }
}

async fn open_store(url: &str) -> Result<std::sync::Arc<dyn wangge_store::Store>> {
    Ok(wangge_store::open(url).await?)
}

async fn run(cli: Cli) -> Result<()> {
    let catalogue = load_catalogue(cli.catalogue.as_deref())?;
    match cli.command {
        Command::Import(args) => import::run(&cli.db, catalogue, args).await,
        Command::Partition(args) => partition::run(&cli.db, catalogue, args).await,
        Command::Circles(args) => circles::run(&cli.db, catalogue, args).await,
        Command::Plans => partition::list(&cli.db).await,
        Command::User { action } => user::run(&cli.db, action).await,
        Command::Workers { action } => user::workers(&cli.db, action).await,
        Command::Plan { action: PlanAction::Activate { name } } => partition::activate(&cli.db, &name).await,
        Command::Stats { json } => {
            let store = open_store(&cli.db).await?;
            let atlas = wangge_core::Atlas::new(store.load().await?);
            let stats = atlas.stats();
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                print!("{}", import::format_stats(&stats, &catalogue));
            }
            Ok(())
        }
        Command::Export { layer, out, coords } => {
            let store = open_store(&cli.db).await?;
            let atlas = wangge_core::Atlas::new(store.load().await?);
            let l = atlas.layers();
            let feats: Vec<geojson::Feature> = match layer {
                Layer::Buildings => {
                    l.buildings.iter().map(|b| features::building(b, coords, HouseholdPrivacy::Show)).collect()
                }
                Layer::Facilities => l.facilities.iter().map(|f| features::facility(f, coords)).collect(),
                Layer::Compounds => l.compounds.iter().map(|c| features::compound(c, coords)).collect(),
                Layer::Communities => l
                    .regions
                    .iter()
                    .filter(|r| r.level == wangge_core::RegionLevel::Community)
                    .map(|r| features::region(r, coords))
                    .collect(),
                Layer::Streets => l
                    .regions
                    .iter()
                    .filter(|r| r.level == wangge_core::RegionLevel::Street)
                    .map(|r| features::region(r, coords))
                    .collect(),
                Layer::Network => l.edges.iter().map(|e| features::edge(e, coords)).collect(),
                Layer::Basemap => l.basemap.iter().map(|f| features::basemap(f, coords)).collect(),
            };
            let n = feats.len();
            wangge_io::export::write_json_atomic(&out, &features::collection(feats))?;
            eprintln!("wrote {n} features to {}", out.display());
            Ok(())
        }
        Command::Synth { buildings, seed, out, origin } => synth(buildings, seed, &out, origin),
        Command::Serve(args) => serve(&cli.db, catalogue, "wangge".into(), args.opts).await,
        Command::Demo { sample, dir, geodata, serve: opts } => demo(sample, &dir, geodata, catalogue, opts).await,
        Command::Catalogue => {
            print!("{}", Catalogue::default_toml());
            Ok(())
        }
    }
}

fn synth(buildings: u64, seed: u64, out: &Path, origin: Option<(f64, f64)>) -> Result<()> {
    if buildings == 0 {
        bail!("--buildings must be at least 1");
    }
    let mut opts = wangge_synth::SynthOptions { buildings, seed, ..Default::default() };
    if let Some(o) = origin {
        opts.origin = o;
    }
    let bar = indicatif::ProgressBar::new(buildings);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} buildings ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let summary = wangge_synth::generate(&opts, out, &|n| bar.set_position(n))
        .with_context(|| format!("generating a synthetic city into {}", out.display()))?;
    bar.finish_and_clear();
    println!(
        "synthetic city (seed {seed}) in {:.1} s: {} buildings, {} units, {} households, {} compounds, {} communities, {} streets, {} network ways",
        started.elapsed().as_secs_f64(),
        summary.buildings,
        summary.units,
        summary.households,
        summary.compounds,
        summary.communities,
        summary.streets,
        summary.network_ways
    );
    for (cat, n) in &summary.facilities_by_category {
        println!("  {cat:<28} {n:>8}");
    }
    for f in &summary.files {
        println!("wrote {}", f.display());
    }
    Ok(())
}

/// The repository folder a relative resource lives in, when the binary runs from a checkout.
fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

fn web_dir(opt: Option<PathBuf>) -> Option<PathBuf> {
    let dir = opt.unwrap_or_else(|| {
        let local = PathBuf::from("web/dist");
        if local.join("index.html").exists() { local } else { repo_path("web/dist") }
    });
    if dir.join("index.html").exists() {
        Some(dir)
    } else {
        tracing::warn!(
            "web app not found in {} (build it with `npm run build` in web/); serving the API only",
            dir.display()
        );
        None
    }
}

async fn serve(db: &str, catalogue: Catalogue, name: String, opts: ServeOpts) -> Result<()> {
    let store = open_store(db).await?;
    let mut state = wangge_server::AppState::load(store, catalogue, name).await.context("loading the store")?;
    state.anonymous_role = opts.anonymous_role.unwrap_or(wangge_store::Role::Resident);
    if state.anonymous_role != wangge_store::Role::Resident {
        tracing::warn!(role = %state.anonymous_role, "anonymous callers see household numbers");
    }
    wangge_server::tiles::set_cache_megabytes(&state, opts.tile_cache);
    let stats = state.atlas().stats();
    tracing::info!(
        buildings = stats.buildings,
        facilities = stats.facilities,
        edges = stats.network_edges,
        "atlas loaded"
    );
    let options = wangge_server::Options {
        cors_origins: opts.cors_origins,
        body_limit: opts.body_limit,
        rate_limit: opts.rate_limit,
        rate_burst: opts.rate_burst,
    };
    wangge_server::check_options(&options).map_err(|e| anyhow::anyhow!("{e} is not valid"))?;
    let app = wangge_server::app_with(state, web_dir(opts.web), &options);
    wangge_server::serve(app, opts.bind, |addr| {
        println!("wangge listening on http://{addr}");
    })
    .await
    .with_context(|| format!("serving on {}", opts.bind))
}

async fn demo(
    sample: Sample,
    dir: &Path,
    geodata: Option<PathBuf>,
    catalogue: Catalogue,
    opts: ServeOpts,
) -> Result<()> {
    let geodata = geodata.unwrap_or_else(|| {
        let local = PathBuf::from("geodata");
        if local.is_dir() { local } else { repo_path("geodata") }
    });
    let (name, files): (&str, Vec<PathBuf>) = match sample {
        Sample::Beijing => ("beijing", vec![geodata.join("beijing/haidian-liudaokou.osm.pbf")]),
        Sample::Helsinki => (
            "helsinki",
            vec![
                geodata.join("helsinki/Helsinki.osm.pbf"),
                geodata.join("helsinki/helsinki_population_grid_2020.gpkg"),
            ],
        ),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let db_path = dir.join(format!("demo-{name}.db"));
    let url = format!("sqlite://{}", db_path.display());
    let store = open_store(&url).await?;
    if store.datasets().await?.is_empty() {
        eprintln!("importing the {name} sample into {}", db_path.display());
        let args = import::ImportArgs::for_files(files);
        import::run(&url, catalogue.clone(), args).await?;
    }
    demo_users(&*store, dir).await?;
    serve(&url, catalogue, format!("{name} sample"), opts).await
}

/// The demo's sign-in: users `planner` and `leader` with a password made on the first run, kept in
/// `DIR/demo-credentials.txt` (readable by the owner only) and printed at every start.
async fn demo_users(store: &dyn wangge_store::Store, dir: &Path) -> Result<()> {
    use wangge_store::Role;
    let path = dir.join("demo-credentials.txt");
    let password = match std::fs::read_to_string(&path) {
        Ok(text) => text.lines().find_map(|l| l.strip_prefix("password: ")).map(str::to_string),
        Err(_) => None,
    };
    let password = match password {
        Some(p) => p,
        None => {
            let p: String = wangge_store::users::new_token().chars().take(16).collect();
            for (name, role) in [("planner", Role::Planner), ("leader", Role::Leader)] {
                store.add_user(name, &p, role).await.with_context(|| {
                    format!("adding the demo user `{name}` ({} is gone: use a fresh --dir)", path.display())
                })?;
            }
            let text = format!("users: planner, leader\npassword: {p}\n");
            wangge_io::export::write_bytes_atomic(&path, text.as_bytes())?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
            p
        }
    };
    eprintln!("demo sign-in: `planner` or `leader`, password {password} (kept in {})", path.display());
    Ok(())
}
