//! Sinergi Web: the officers' application, served by the node next to the exchange's routes.
//!
//! - [`mount`] opens the web database ([`db::WebDb`]), starts the validation job runner
//!   ([`jobs`]) and returns the axum [`Router`] that `sinergi serve` and `sinergi demo --serve`
//!   merge into the node's router (`sinergi_server::spawn_with`).
//! - [`auth`]: accounts (argon2id), roles (operator scoped to a kabupaten/kota, pengawas,
//!   pengelola data, auditor), sessions in `HttpOnly; SameSite=Strict` cookies, CSRF tokens,
//!   login throttling.
//! - [`pages`]: login, logout, language switch; [`beranda`]: the dashboard; [`validasi`]:
//!   upload a roster, the job's progress, the results table (paged, filtered and sorted in
//!   SQL), downloads, the detail of one row; [`kasus`]: the case of a TINJAU row.
//! - Every login, failed login, refusal and action is written to the node's hash-chained
//!   audit log ([`audit`]) before the answer leaves.
//!
//! Pages are HTML rendered on the server (askama templates in `templates/`, escaped by
//! default), usable without JavaScript; the one stylesheet is our own (`static/`). Text is in
//! Bahasa Indonesia unless the language switch (cookie) or `WebOptions::lang` says English.

pub mod audit;
pub mod auth;
pub mod beranda;
pub mod db;
pub mod jobs;
pub mod kasus;
pub mod pages;
pub mod region;
pub mod validasi;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sinergi_model::Lang;
use sinergi_server::AppState;

pub use auth::{Role, User};
pub use db::WebDb;

/// Largest roster upload (bytes): 200 MB, about a million rows of XLSX.
pub const MAX_UPLOAD_BYTES: usize = 200 * 1024 * 1024;

/// What the binary hands the web application.
#[derive(Clone)]
pub struct WebOptions {
    /// The programmes validations run against (the CLI's shipped or configured rules).
    pub programs: Vec<sinergi_rules::Program>,
    /// The roster mapping uploads are read through (the CLI's shipped one).
    pub roster_mapping: sinergi_ingest::Mapping,
    /// The default language of pages (`SINERGI_LANG`); a user's switch overrides it.
    pub lang: Lang,
    /// Where uploaded lists and job outputs are kept (`<data_dir>/web`).
    pub work_dir: PathBuf,
    /// The web database URL (default: [`db::url_for`] the node's store).
    pub database_url: Option<String>,
    /// Largest roster upload in bytes ([`MAX_UPLOAD_BYTES`]).
    pub max_upload_bytes: usize,
}

/// Why the web application could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("the node has no store: the web application needs the node's registries")]
    NoStore,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The application's shared state.
pub struct Web {
    pub node: Arc<AppState>,
    pub db: WebDb,
    pub opts: WebOptions,
    pub throttle: auth::Throttle,
    pub jobs: jobs::Jobs,
    /// Cookies carry `Secure` (the node serves TLS itself).
    pub secure: bool,
}

/// Opens the web database, starts the job runner and returns the routes.
pub async fn mount(node: Arc<AppState>, opts: WebOptions) -> Result<Router, WebError> {
    let web = start(node, opts).await?;
    Ok(router(web))
}

/// [`mount`] on a node with a store; no routes on a node without one (a node that only
/// calls others' services has no registries to validate against). The error as text, for
/// `sinergi_server::spawn_with`.
pub async fn mount_if_store(node: Arc<AppState>, opts: WebOptions) -> Result<Router, String> {
    match mount(node, opts).await {
        Ok(r) => Ok(r),
        Err(WebError::NoStore) => Ok(Router::new()),
        Err(e) => Err(e.to_string()),
    }
}

/// The started application (tests reach the database through it).
pub async fn start(node: Arc<AppState>, opts: WebOptions) -> Result<Arc<Web>, WebError> {
    if node.store.is_none() {
        return Err(WebError::NoStore);
    }
    let url = opts
        .database_url
        .clone()
        .unwrap_or_else(|| db::url_for(&node.config.store_url()));
    let db = WebDb::open(&url).await?;
    std::fs::create_dir_all(&opts.work_dir)?;
    let secure = node.config.tls_serving().is_some();
    let web = Arc::new(Web {
        node,
        db,
        opts,
        throttle: auth::Throttle::default(),
        jobs: jobs::Jobs::default(),
        secure,
    });
    jobs::spawn_runner(web.clone()).await?;
    Ok(web)
}

/// The routes over a started application.
pub fn router(web: Arc<Web>) -> Router {
    let upload_limit = web.opts.max_upload_bytes + 64 * 1024;
    Router::new()
        .route("/", get(pages::beranda))
        .route("/masuk", get(pages::login_form).post(pages::login))
        .route("/keluar", post(pages::logout))
        .route("/bahasa", get(pages::language))
        .route(
            "/validasi",
            get(validasi::index)
                .post(validasi::upload)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/validasi/{job}", get(validasi::job))
        .route("/validasi/{job}/hasil", get(validasi::results))
        .route("/validasi/{job}/unduh/{file}", get(validasi::download))
        .route("/validasi/{job}/baris/{seq}", get(validasi::row))
        .route(
            "/kasus/{job}/{seq}",
            post(kasus::record_case)
                .layer(DefaultBodyLimit::max(kasus::MAX_ATTACHMENT + 64 * 1024)),
        )
        .route("/aset/gaya.css", get(pages::stylesheet))
        .layer(axum::middleware::map_response(security_headers))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(web)
}

/// Pages carry personal data: never cached, never framed, no inline script, no referrer.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// The language of this request: the switch's cookie, else the node's default.
pub fn lang_of(web: &Web, headers: &HeaderMap) -> Lang {
    match cookie(headers, pages::LANG_COOKIE) {
        Some(v) => Lang::from_setting(Some(v)),
        None => web.opts.lang,
    }
}

/// What every page's layout needs.
pub struct Page {
    pub lang: Lang,
    pub title: String,
    pub user: Option<User>,
    pub csrf: String,
    /// The path of this page (for the language switch to come back to).
    pub here: String,
}

impl Page {
    /// The text in this page's language.
    pub fn t<'a>(&self, id: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(id, en)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    /// The other language's code and name, for the switch.
    pub fn other_lang(&self) -> (&'static str, &'static str) {
        match self.lang {
            Lang::Id => ("en", "English"),
            Lang::En => ("id", "Bahasa Indonesia"),
        }
    }

    pub fn user_name(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.display_name.as_str())
    }

    pub fn role_label(&self) -> String {
        match &self.user {
            Some(u) => match &u.region {
                Some(r) => format!(
                    "{} · {}",
                    u.role.label(self.lang),
                    region::regency_name(r).unwrap_or_else(|| r.clone())
                ),
                None => u.role.label(self.lang).to_string(),
            },
            None => String::new(),
        }
    }

    pub fn can_validate(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.can_validate())
    }

    pub fn can_see_results(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.can_see_results())
    }

    pub fn here_encoded(&self) -> String {
        pages::url_encode(&self.here)
    }
}

/// An askama template as a response (askama ≥ 0.13 has no axum integration of its own).
pub struct Rendered<T>(pub StatusCode, pub T);

impl<T: askama::Template> IntoResponse for Rendered<T> {
    fn into_response(self) -> Response {
        match self.1.render() {
            Ok(html) => (self.0, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
            }
        }
    }
}

/// A signed-in user's request: the user, the session's CSRF token and the language.
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub lang: Lang,
    pub path: String,
}

impl Session {
    /// The layout data of a page with this title.
    pub fn page(&self, title: impl Into<String>) -> Page {
        Page {
            lang: self.lang,
            title: title.into(),
            user: Some(self.user.clone()),
            csrf: self.csrf.clone(),
            here: self.path.clone(),
        }
    }

    /// Whether a submitted CSRF token is this session's (constant time).
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        subtle_eq(self.csrf.as_bytes(), submitted.as_bytes())
    }
}

/// Constant-time byte comparison.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<Arc<Web>> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, Response> {
        let lang = lang_of(web, &parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        let to_login = || {
            Redirect::to(&format!("/masuk?kembali={}", pages::url_encode(&path))).into_response()
        };
        let Some(token) = cookie(&parts.headers, auth::SESSION_COOKIE) else {
            return Err(to_login());
        };
        match web.db.session(token).await {
            Ok(Some((user, csrf))) => Ok(Session {
                user,
                csrf,
                lang,
                path,
            }),
            Ok(None) => Err(to_login()),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                Err(pages::error_page(
                    lang,
                    StatusCode::SERVICE_UNAVAILABLE,
                    lang.pick(
                        "Basis data aplikasi tidak dapat dibaca. Coba lagi sebentar lagi.",
                        "The application's database cannot be read. Try again shortly.",
                    ),
                ))
            }
        }
    }
}
