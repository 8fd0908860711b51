//! wangge-server: the HTTP service. [`app`] builds the whole router; the CLI's `serve` adds the
//! listener. Handlers are thin: they parse, ask the in-memory [`Atlas`] (loaded from the store at
//! start) and encode.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod auth;
pub mod circles;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod ops;
pub mod routes;
pub mod tiles;

use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use wangge_core::plan::PlanRecord;
use wangge_core::{Atlas, Catalogue};
use wangge_store::Store;

/// How long a login's token works unless the server is told otherwise (12 hours).
pub const DEFAULT_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The model: an immutable snapshot shared by requests, replaced whole by register updates
    /// (see [`AppState::atlas`] and [`AppState::replace_atlas`]).
    atlas: Arc<std::sync::RwLock<(Arc<Atlas>, Arc<routes::responsible::RegionIndex>)>>,
    /// Vector tiles of the model and of the plans, cached and invalidated by changes.
    pub tiles: Arc<wangge_tiles::TileService>,
    /// The walking network and facilities of the current atlas (nearest services, isochrones).
    circles: Arc<std::sync::RwLock<Arc<circles::Engine>>>,
    /// The facility catalogue.
    pub catalogue: Arc<Catalogue>,
    /// The store the atlas was loaded from.
    pub store: Arc<dyn Store>,
    /// A display name for the dataset (e.g. the sample's name).
    pub name: String,
    /// Largest number of features one GeoJSON answer holds.
    pub feature_limit: usize,
    /// How long a login's bearer token works.
    pub token_ttl: std::time::Duration,
    /// What anonymous callers may read: resident (the default: no household numbers). Only a
    /// local demo over public sample data should raise it.
    pub anonymous_role: wangge_store::Role,
    /// Request counts and timings served at `/metrics`.
    pub metrics: ops::Metrics,
    /// Background jobs running in this process.
    pub jobs: Arc<jobs::Jobs>,
    /// The active plan as last loaded (see [`AppState::active_plan`]).
    plan_cache: Arc<routes::responsible::PlanCache>,
    /// Grid workers in force as last read (see [`routes::responsible::WorkersCache`]).
    pub(crate) workers_cache: Arc<routes::responsible::WorkersCache>,
}

impl AppState {
    /// Loads the atlas from the store.
    pub async fn load(
        store: Arc<dyn Store>,
        catalogue: Catalogue,
        name: String,
    ) -> Result<Self, wangge_store::StoreError> {
        jobs::fail_interrupted(&*store).await?;
        let layers = store.load().await?;
        let atlas = tokio::task::spawn_blocking(move || Atlas::new(layers)).await.map_err(|e| {
            wangge_store::StoreError::Corrupt {
                doing: "building the in-memory atlas".into(),
                id: "-".into(),
                reason: e.to_string(),
            }
        })?;
        let catalogue = Arc::new(catalogue);
        let atlas = Arc::new(atlas);
        let tiles = tiles::load(&*store, &atlas).await?;
        let (engine, regions) = {
            let (atlas, catalogue) = (atlas.clone(), catalogue.clone());
            tokio::task::spawn_blocking(move || {
                (circles::Engine::build(&atlas, &catalogue), routes::responsible::RegionIndex::new(&atlas))
            })
            .await
            .map_err(|e| wangge_store::StoreError::Corrupt {
                doing: "building the walking network".into(),
                id: "-".into(),
                reason: e.to_string(),
            })?
        };
        let state = Self {
            atlas: Arc::new(std::sync::RwLock::new((atlas, Arc::new(regions)))),
            tiles: Arc::new(tiles),
            circles: Arc::new(std::sync::RwLock::new(Arc::new(engine))),
            catalogue,
            store,
            name,
            feature_limit: 50_000,
            token_ttl: DEFAULT_TOKEN_TTL,
            anonymous_role: wangge_store::Role::Resident,
            metrics: ops::Metrics::new(),
            jobs: Arc::default(),
            plan_cache: Arc::default(),
            workers_cache: Arc::default(),
        };
        // The active plan and its grid index, loaded now rather than by the first requests.
        if let Err(e) = state.active_plan().await {
            tracing::warn!("loading the active plan: {e}");
        }
        Ok(state)
    }

    /// The current model snapshot (cheap: an `Arc` clone).
    pub fn atlas(&self) -> Arc<Atlas> {
        self.atlas.read().unwrap_or_else(std::sync::PoisonError::into_inner).0.clone()
    }

    /// The current model snapshot with its region index (the two always belong together).
    pub fn atlas_and_regions(&self) -> (Arc<Atlas>, Arc<routes::responsible::RegionIndex>) {
        self.atlas.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The walking network and facilities of the current model.
    pub fn circles(&self) -> Arc<circles::Engine> {
        self.circles.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Installs a new model snapshot (after a register or facility update): the circles engine is
    /// rebuilt and the tiles of the changed features are dropped from the cache.
    pub async fn replace_atlas(&self, atlas: Atlas) -> Result<(), ApiError> {
        let atlas = Arc::new(atlas);
        let catalogue = self.catalogue.clone();
        let for_engine = atlas.clone();
        let (engine, regions) = tokio::task::spawn_blocking(move || {
            (circles::Engine::build(&for_engine, &catalogue), routes::responsible::RegionIndex::new(&for_engine))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("rebuilding the walking network: {e}")))?;
        tiles::atlas_changed(self, &atlas).await?;
        *self.circles.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(engine);
        *self.atlas.write().unwrap_or_else(std::sync::PoisonError::into_inner) = (atlas, Arc::new(regions));
        Ok(())
    }

    /// Tells the tiles (and the cached active plan) that a plan changed: an edit, a new plan, a
    /// publication. Only the tiles the changed grids touch are re-encoded.
    pub async fn plan_changed(&self, plan: &PlanRecord) -> Result<(), ApiError> {
        self.plan_cache.invalidate();
        tiles::plan_changed(self, plan).await
    }

    /// The plan in force with its grid outlines. This server's own plan changes are seen at once
    /// ([`AppState::plan_changed`]); other writers' (`wangge plan activate` while serving, another
    /// server on the same PostGIS) within [`routes::responsible::STORE_TTL`]. The plan is loaded
    /// again only when the plan in force or its version changed.
    pub async fn active_plan(&self) -> Result<Option<Arc<PlanRecord>>, ApiError> {
        Ok(self.active_plan_indexed().await?.map(|p| p.record.clone()))
    }

    /// [`AppState::active_plan`] with an R-tree of its grids.
    pub async fn active_plan_indexed(&self) -> Result<Option<Arc<routes::responsible::ActivePlan>>, ApiError> {
        self.plan_cache.get(&self.store).await
    }
}

/// The whole application: the API under `/api/v1`, `/healthz`, and the web app's files from
/// `web_dir` (when given) at `/`.
pub fn app(state: AppState, web_dir: Option<PathBuf>) -> Router {
    app_with(state, web_dir, &Options::default())
}

/// Default largest request body (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// Default requests per second per client: a map loading a screen of tiles is a burst, not a rate.
pub const DEFAULT_RATE_LIMIT: u32 = 100;
/// Default burst per client.
pub const DEFAULT_RATE_BURST: u32 = 400;

/// How the HTTP layer is set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// Origins allowed by CORS (`*` for any); none: no CORS headers (same-origin only).
    pub cors_origins: Vec<String>,
    /// Largest request body in bytes; a larger one is answered 413 with a JSON error.
    pub body_limit: usize,
    /// Requests per second each client (bearer token, else IP address) may make; 0: no limit.
    pub rate_limit: u32,
    /// Requests a client may make at once above its rate (at least the rate).
    pub rate_burst: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            rate_limit: DEFAULT_RATE_LIMIT,
            rate_burst: DEFAULT_RATE_BURST,
        }
    }
}

/// The CORS layer for `origins`; `Err` names an origin that is not a valid header value.
fn cors(origins: &[String]) -> Result<Option<tower_http::cors::CorsLayer>, String> {
    use axum::http::{HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|o| HeaderValue::from_str(o.trim_end_matches('/')).map_err(|_| format!("CORS origin `{o}`")))
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_NONE_MATCH])
            .expose_headers([header::ETAG]),
    ))
}

/// Checks `options` (e.g. the CORS origins are valid header values) before serving.
pub fn check_options(options: &Options) -> Result<(), String> {
    if options.body_limit == 0 {
        return Err("the body limit must be at least 1 byte".into());
    }
    cors(&options.cors_origins).map(|_| ())
}

/// [`app`] with CORS and the body limit from `options` (an invalid CORS origin is left out and
/// logged; call [`check_options`] first to refuse it).
pub fn app_with(state: AppState, web_dir: Option<PathBuf>, options: &Options) -> Router {
    let (api, _doc) = routes::router();
    let metrics = state.metrics.clone();
    let api = api
        .route_layer(axum::middleware::from_fn_with_state(metrics.clone(), ops::track))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::extract::DefaultBodyLimit::max(options.body_limit))
        .with_state(state);
    let api = match ops::Limiter::new(options.rate_limit, options.rate_burst, metrics.clone()) {
        Some(limiter) => api.layer(axum::middleware::from_fn_with_state(limiter, ops::limit)),
        None => api,
    };
    let router = Router::new().route("/metrics", axum::routing::get(ops::metrics).with_state(metrics)).merge(api);
    let router = match web_dir {
        Some(dir) => {
            let index = dir.join("index.html");
            router.fallback_service(
                tower_http::services::ServeDir::new(dir).fallback(tower_http::services::ServeFile::new(index)),
            )
        }
        None => router,
    };
    // Tiles come gzipped from the tile cache (compressed once) or raw: never compressed per request.
    let router = router.layer(tower_http::compression::CompressionLayer::new().compress_when({
        use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
        DefaultPredicate::new().and(NotForContentType::const_new(routes::tiles::MVT_CONTENT_TYPE))
    }));
    let router = match cors(&options.cors_origins) {
        Ok(Some(layer)) => router.layer(layer),
        Ok(None) => router,
        Err(e) => {
            tracing::error!("{e} is not valid: serving without CORS");
            router
        }
    };
    router.layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves `app` on `addr` until Ctrl-C / SIGTERM; `ready` is told the bound address (useful with port 0).
pub async fn serve(app: Router, addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
