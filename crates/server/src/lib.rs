//! Sinergi exchange node: the HTTP server around the trust core of `sinergi-exchange`.
//!
//! - [`NodeConfig`]: the node's TOML configuration (hosted members, keys, peers, databases,
//!   tokens); [`NodeConfig::embedded_default`] runs every demo agency in one process.
//! - [`app`]: the axum [`Router`] (X-Road / GovStack IM compatible `/r1/...` gateway,
//!   metaservices, admin API for agreements, `/metrics`, `/openapi.json`, `/healthz`).
//! - [`serve`]: binds, serves, and on shutdown drains in-flight requests and the audit writer
//!   so no audit entry is lost.
//!
//! Every request to a service is authenticated (RFC 9421 signature between nodes, or an API
//! token from a system inside the provider's own agency), decided under the agreements (deny
//! by default), answered from an in-memory index of the node's store, and audited in the
//! hash-chained log (`audit_sql`) before the answer leaves.

pub mod admin;
pub mod audit_sql;
mod audit_sqlite;
pub mod client;
pub mod config;
pub mod conn;
pub mod directory;
pub mod disclosure;
pub mod fakta;
pub mod federated;
pub mod gateway;
pub mod households;
pub mod index;
pub mod metrics;
pub mod openapi;
pub mod operator;
pub mod pencarian;
pub mod pks;
pub mod refusal;
pub mod services;
pub mod state;
pub mod tls;
pub mod validasi;
pub mod witness;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, any, get, post};
use sinergi_exchange::Timestamp;

pub use config::{ConfigError, NodeConfig};
pub use state::{AppState, StartError};

/// The current time as an exchange [`Timestamp`].
pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(d.as_micros() as i64)
}

/// Only `allow` (e.g. `GET, HEAD`) at this route: anything else is 405 with `Allow`.
fn only(allow: &'static str, r: MethodRouter<Arc<AppState>>) -> MethodRouter<Arc<AppState>> {
    r.fallback(move |headers: axum::http::HeaderMap| async move {
        refusal::method_not_allowed(allow, refusal::wants_english(&headers))
    })
}

/// Every answer of the node may carry personal data or decisions about it: never cached.
async fn no_store(mut r: axum::response::Response) -> axum::response::Response {
    r.headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
    r
}

async fn not_found(headers: axum::http::HeaderMap) -> axum::response::Response {
    refusal::refuse(
        refusal::ServerCode::NotFound,
        refusal::wants_english(&headers),
        None,
    )
}

/// The node's routes over a started state (docs/API.md, "Routes"; every one is in
/// `/openapi.json`).
pub fn app(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    const GET: &str = "GET, HEAD";
    const POST: &str = "POST";
    Router::new()
        .route("/r1/{*rest}", any(gateway::r1))
        .route("/listClients", only(GET, get(directory::list_clients)))
        .route(
            "/r1/listClients",
            only(GET, get(directory::r1_list_clients)),
        )
        .route(
            "/{instance}/{class}/{member}/{application}/{meta}",
            any(directory::govstack),
        )
        .route("/healthz", only(GET, get(gateway::healthz)))
        .route("/metrics", only(GET, get(metrics::handler)))
        .route("/openapi.json", only(GET, get(openapi::handler)))
        .route(
            "/admin/pks",
            only(
                "GET, HEAD, POST",
                get(admin::list_agreements).post(admin::create_agreement),
            ),
        )
        .route(
            "/admin/pks/{id}/{action}",
            only(POST, post(admin::change_status)),
        )
        .route("/admin/audit/verify", only(GET, get(admin::audit_verify)))
        .route("/admin/audit/entries", only(GET, get(admin::audit_entries)))
        .route(
            "/admin/audit/checkpoints",
            only(GET, get(admin::audit_checkpoints)),
        )
        .route(
            "/admin/audit/checkpoint",
            only(POST, post(admin::audit_checkpoint)),
        )
        .route(
            "/admin/audit/subject",
            only(POST, post(admin::audit_subject)),
        )
        .route("/admin/snapshot/reload", only(POST, post(admin::reload)))
        .route(
            "/witness/checkpoints",
            only("GET, HEAD, POST", get(witness::list).post(witness::receive)),
        )
        .fallback(not_found)
        .layer(axum::middleware::map_response(no_store))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// A running node (for tests and embedding): its address, and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), StartError>>,
}

impl Running {
    /// Stops the node gracefully and waits until every audit entry is written.
    pub async fn stop(self) -> Result<(), StartError> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| StartError::Io(std::io::Error::other(e.to_string())))?
    }
}

/// Routes a binary mounts next to the node's own (the officers' web application,
/// `sinergi-web`), built once the node's state has started.
pub type ExtraRoutes = Box<
    dyn FnOnce(
            Arc<AppState>,
        ) -> std::pin::Pin<Box<dyn Future<Output = Result<Router, String>> + Send>>
        + Send,
>;

/// Starts a node in the background (binds first, so the address is known).
pub async fn spawn(config: NodeConfig) -> Result<Running, StartError> {
    spawn_with(config, None).await
}

/// [`spawn`] with more routes merged into the node's router (they must not use the node's
/// paths; the node's fallback answers anything neither knows).
pub async fn spawn_with(
    config: NodeConfig,
    extra: Option<ExtraRoutes>,
) -> Result<Running, StartError> {
    let tls = tls_config(&config)?;
    let state = AppState::start(config).await?;
    let extra = match extra {
        Some(f) => f(state.clone()).await.map_err(StartError::Extra)?,
        None => Router::new(),
    };
    let listener = tokio::net::TcpListener::bind(state.config.listen).await?;
    let addr = listener.local_addr()?;
    let _ = state.local_addr.set(addr);
    let (stop, mut rx) = tokio::sync::watch::channel(false);
    let st = state.clone();
    let task = tokio::spawn(async move {
        run(listener, tls, st, extra, async move {
            let _ = rx.wait_for(|v| *v).await;
        })
        .await
    });
    Ok(Running {
        addr,
        state,
        stop,
        task,
    })
}

impl Running {
    /// The node's base URL (`https://` when it serves TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.state.config.scheme(), self.addr)
    }
}

/// Runs a node until `shutdown` completes, then drains: in-flight requests finish (each
/// waits for its audit entry), the audit writer writes everything queued, signs a final
/// checkpoint and stops.
pub async fn serve(
    config: NodeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let tls = tls_config(&config)?;
    let state = AppState::start(config).await?;
    let listener = tokio::net::TcpListener::bind(state.config.listen).await?;
    let addr = listener.local_addr()?;
    let _ = state.local_addr.set(addr);
    tracing::info!(%addr, node = %state.config.node_name, tls = tls.is_some(), "sinergi node listening");
    run(listener, tls, state, Router::new(), shutdown).await
}

/// The rustls server configuration when `[tls]` names a certificate and key (read before
/// anything starts, so a bad file stops the node with its name).
fn tls_config(config: &NodeConfig) -> Result<Option<Arc<rustls::ServerConfig>>, StartError> {
    Ok(match config.tls_serving() {
        Some((cert, key)) => Some(tls::server_config(cert, key)?),
        None => None,
    })
}

async fn run(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    state: Arc<AppState>,
    extra: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let reload = state::spawn_reloader(state.clone());
    let watch = state::spawn_agreement_watcher(state.clone());
    let witness = witness::spawn_sender(state.clone());
    let router = app(state.clone()).merge(extra);
    let served = match tls {
        Some(cfg) => {
            let l = conn::LingeringListener(tls::TlsListener::new(listener, cfg)?);
            axum::serve(l, router)
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            // Answers stream in chunks (batches): without TCP_NODELAY a chunk can wait for
            // the peer's delayed ACK (40 ms on Linux), once per chunk and call.
            use axum::serve::ListenerExt as _;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(conn::LingeringListener(listener), router)
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    reload.abort();
    watch.abort();
    state.finish().await;
    // The final checkpoint reached the sender before the writer stopped; let it go out.
    let _ = tokio::time::timeout(witness::WITNESS_TIMEOUT, witness).await;
    served.map_err(StartError::Io)
}
