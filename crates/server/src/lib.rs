//! wangge-server: the HTTP service. [`app`] builds the whole router; the CLI's `serve` adds the
//! listener. Handlers are thin: they parse, ask the in-memory [`Atlas`] (loaded from the store at
//! start) and encode.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;
pub mod routes;

use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use wangge_core::{Atlas, Catalogue};
use wangge_store::Store;

pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The model, an immutable snapshot shared by all requests.
    pub atlas: Arc<Atlas>,
    /// The facility catalogue.
    pub catalogue: Arc<Catalogue>,
    /// The store the atlas was loaded from.
    pub store: Arc<dyn Store>,
    /// A display name for the dataset (e.g. the sample's name).
    pub name: String,
    /// Largest number of features one GeoJSON answer holds.
    pub feature_limit: usize,
}

impl AppState {
    /// Loads the atlas from the store.
    pub async fn load(
        store: Arc<dyn Store>,
        catalogue: Catalogue,
        name: String,
    ) -> Result<Self, wangge_store::StoreError> {
        let layers = store.load().await?;
        let atlas = tokio::task::spawn_blocking(move || Atlas::new(layers)).await.map_err(|e| {
            wangge_store::StoreError::Corrupt {
                doing: "building the in-memory atlas".into(),
                id: "-".into(),
                reason: e.to_string(),
            }
        })?;
        Ok(Self { atlas: Arc::new(atlas), catalogue: Arc::new(catalogue), store, name, feature_limit: 50_000 })
    }
}

/// The whole application: the API under `/api/v1`, `/healthz`, and the web app's files from
/// `web_dir` (when given) at `/`.
pub fn app(state: AppState, web_dir: Option<PathBuf>) -> Router {
    let api = routes::router().with_state(state);
    let router = Router::new().merge(api);
    let router = match web_dir {
        Some(dir) => {
            let index = dir.join("index.html");
            router.fallback_service(
                tower_http::services::ServeDir::new(dir).fallback(tower_http::services::ServeFile::new(index)),
            )
        }
        None => router,
    };
    router.layer(tower_http::compression::CompressionLayer::new()).layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves `app` on `addr` until Ctrl-C / SIGTERM; `ready` is told the bound address (useful with port 0).
pub async fn serve(app: Router, addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await
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
