//! Admin API: agreements (create, list, suspend, reinstate, revoke), audit verification,
//! checkpoints and witnesses, "who looked at NIK X", index reload.
//!
//! Two credentials: an admin API token (`admin_token_hashes`), or a request signed with the
//! node's own checkpoint key (`node.key`), which is how `sinergi pks` and `sinergi audit`
//! on the node's machine reach the running node: the change is then applied by the node
//! itself, under the lock every decision takes, before the command returns.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sinergi_exchange::audit::{VerifyOptions, verify_anchored};
use sinergi_exchange::token::hash_presented;
use sinergi_exchange::{Agreement, ClientId};
use subtle_free::ct_eq;

use crate::refusal::{ServerCode, refuse, wants_english};
use crate::state::{AppState, load_agreements};

mod subtle_free {
    /// Constant-time equality of two 32-byte hashes.
    pub fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
        let mut d = 0u8;
        for i in 0..32 {
            d |= a[i] ^ b[i];
        }
        d == 0
    }
}

/// The `keyid` of the node's checkpoint key as an admin credential.
pub fn admin_key_id(node_name: &str) -> String {
    format!("node#{node_name}")
}

/// The identity a request signed with the node key stands for (`X-Road-Client`).
pub fn admin_client() -> ClientId {
    ClientId::new("ID", "NODE", "ADMIN", "CLI").expect("a valid constant identifier")
}

/// Who is acting on the admin API: the channel written to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admin {
    /// An admin API token.
    Token,
    /// The node's key: `sinergi pks` / `sinergi audit` on the node's machine.
    NodeKey,
}

impl Admin {
    pub fn channel(self) -> &'static str {
        match self {
            Admin::Token => "admin:api",
            Admin::NodeKey => "admin:cli",
        }
    }
}

/// The request as the admin check sees it.
pub struct AdminRequest<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

fn check_admin(st: &AppState, r: &AdminRequest<'_>) -> Result<Admin, Box<Response>> {
    let en = wants_english(r.headers);
    let denied = || Box::new(refuse(ServerCode::AdminTokenInvalid, en, None));
    if r.headers.contains_key("signature-input") || r.headers.contains_key("signature") {
        let target = crate::gateway::target_uri(st, r.uri, r.headers);
        let claimed = crate::gateway::header(r.headers, "x-road-client");
        let verified = crate::gateway::verify_with(
            &st.admin_verifier,
            &st.admin_keys,
            r.method,
            &target,
            r.headers,
            r.body,
        );
        return match verified {
            Ok(v) if claimed == v.client.to_string() => Ok(Admin::NodeKey),
            _ => Err(denied()),
        };
    }
    if is_admin_token(st, r.headers) {
        Ok(Admin::Token)
    } else {
        Err(denied())
    }
}

/// Whether the request carries a valid admin API token.
pub fn is_admin_token(st: &AppState, headers: &HeaderMap) -> bool {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    hash_presented(auth).is_ok_and(|h| st.admin_tokens.iter().any(|t| ct_eq(&t.0, &h.0)))
}

fn internal(en: bool, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "admin request failed");
    refuse(ServerCode::InternalError, en, None)
}

async fn refresh(st: &AppState) -> Result<(), crate::audit_sql::AuditDbError> {
    let a = load_agreements(&st.db).await?;
    *st.agreements.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(a);
    Ok(())
}

macro_rules! admin {
    ($st:expr, $method:expr, $uri:expr, $headers:expr, $body:expr) => {
        match check_admin(
            &$st,
            &AdminRequest {
                method: &$method,
                uri: &$uri,
                headers: &$headers,
                body: &$body,
            },
        ) {
            Ok(a) => a,
            Err(r) => return *r,
        }
    };
}

/// `GET /admin/pks`.
pub async fn list_agreements(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    admin!(st, method, uri, headers, []);
    Json(json!({ "agreements": &*st.agreements() })).into_response()
}

fn pks_ctx<'a>(st: &'a AppState, who: Admin, by: &'a str, reason: &'a str) -> crate::pks::Ctx<'a> {
    crate::pks::Ctx {
        db: &st.db,
        node: &st.config.node_name,
        audit: crate::pks::AuditSink::Writer(&st.audit, who.channel()),
        by,
        reason,
    }
}

fn pks_refusal(en: bool, e: &crate::pks::PksError) -> Response {
    if let crate::pks::PksError::Db(_) = e {
        tracing::error!(error = %e, "admin request failed");
    }
    refuse(e.code(), en, None)
}

/// `POST /admin/pks` with an agreement (docs/EXCHANGE.md section 4). 201, or 409 when the id
/// exists, 400 when invalid or when its provider is not hosted here. Audited (`pks.rs`).
pub async fn create_agreement(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let who = admin!(st, method, uri, headers, body);
    let en = wants_english(&headers);
    let Some(a) = crate::services::json_object::<Agreement>(&body) else {
        return refuse(ServerCode::RequestInvalid, en, None);
    };
    let _guard = st.agreements_write.lock().await;
    let _epoch = st.decisions.write().await;
    let hosted: Vec<_> = st.hosted.keys().cloned().collect();
    let by = crate::gateway::header(&headers, "x-road-userid");
    let result = crate::pks::create(&pks_ctx(&st, who, by, ""), &hosted, a).await;
    // Refresh whatever happened: the database is the truth.
    if let Err(e) = refresh(&st).await {
        return internal(en, e);
    }
    match result {
        Ok(a) => (axum::http::StatusCode::CREATED, Json(a)).into_response(),
        Err(e) => pks_refusal(en, &e),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct StatusBody {
    #[serde(default)]
    by: String,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/pks/{id}/{suspend|reinstate|revoke}` with `{by, reason}`. 200; 404 unknown id;
/// 409 AGREEMENT_STATUS_CONFLICT when revoked already. Audited (`pks.rs`). The change is
/// recorded, and in force, from a time after every decision already taken and before every
/// decision still to come: decisions wait for it.
pub async fn change_status(
    State(st): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let who = admin!(st, method, uri, headers, body);
    let en = wants_english(&headers);
    // A segment that does not decode to UTF-8 (`%FF`) names no agreement: the declared 400,
    // not axum's plain-text rejection.
    let Ok(Path((id, action))) = path else {
        return refuse(ServerCode::RequestInvalid, en, None);
    };
    let Some(action) = crate::pks::Action::parse_change(&action) else {
        return refuse(ServerCode::ServiceNotFound, en, None);
    };
    let b: StatusBody = if body.is_empty() {
        StatusBody::default()
    } else {
        match crate::services::json_object(&body) {
            Some(b) => b,
            None => return refuse(ServerCode::RequestInvalid, en, None),
        }
    };
    let _guard = st.agreements_write.lock().await;
    let _epoch = st.decisions.write().await;
    let result = crate::pks::change_status(&pks_ctx(&st, who, &b.by, &b.reason), &id, action).await;
    if let Err(e) = refresh(&st).await {
        return internal(en, e);
    }
    match result {
        Ok(a) => Json(a).into_response(),
        Err(e) => pks_refusal(en, &e),
    }
}

/// `POST /admin/audit/checkpoint`: signs a checkpoint of everything written so far, sends
/// it to the witnesses and waits for their receipts. What `sinergi audit verify` asks a
/// running node for, so the log read before is anchored up to its head.
pub async fn audit_checkpoint(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    admin!(st, method, uri, headers, body);
    let en = wants_english(&headers);
    match crate::witness::checkpoint_now(&st).await {
        Ok((cp, receipts, errors)) => Json(json!({
            "checkpoint": cp,
            "receipts": receipts,
            "witness_errors": errors,
        }))
        .into_response(),
        Err(e) => internal(en, e),
    }
}

/// `GET /admin/audit/verify`: signs a fresh checkpoint (sent to the witnesses), then walks
/// the whole log (in pages) against the checkpoints and the witnesses' receipts. Every entry
/// up to the head read before the checkpoint must be anchored (and witnessed, when the node
/// has witnesses).
pub async fn audit_verify(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    admin!(st, method, uri, headers, []);
    let en = wants_english(&headers);
    let head = match st.db.head().await {
        Ok(h) => h.seq,
        Err(e) => return internal(en, e),
    };
    if let Err(e) = crate::witness::checkpoint_now(&st).await {
        return internal(en, e);
    }
    let (cps, receipts) = match (st.db.checkpoints().await, st.db.receipts().await) {
        (Ok(c), Ok(r)) => (c, r),
        (Err(e), _) | (_, Err(e)) => return internal(en, e),
    };
    let copies = crate::witness::receipt_copies(&st.config.witnesses, &receipts);
    // Entries are read page by page into memory here; the verifier itself is streaming.
    let mut all = Vec::new();
    let mut from = 1;
    loop {
        match st.db.read_range(from, 10_000).await {
            Ok(page) if page.is_empty() => break,
            Ok(page) => {
                from = page.last().map(|e| e.seq + 1).unwrap_or(from);
                all.extend(page);
            }
            Err(e) => return internal(en, e),
        }
    }
    let key = st.node_key.verifying_key();
    let opts = VerifyOptions {
        checkpoint_interval: Some(st.config.checkpoint_every.max(1)),
        anchored_through: Some(head),
        witnessed_through: (!st.config.witnesses.is_empty()).then_some(head),
        ..VerifyOptions::default()
    };
    let report =
        tokio::task::spawn_blocking(move || verify_anchored(all.iter(), &cps, &copies, &key, opts))
            .await;
    match report {
        Ok(r) => Json(r).into_response(),
        Err(e) => internal(en, e),
    }
}

/// `GET /admin/audit/checkpoints`.
pub async fn audit_checkpoints(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    admin!(st, method, uri, headers, []);
    match (st.db.checkpoints().await, st.db.receipts().await) {
        (Ok(c), Ok(r)) => Json(json!({
            "node": st.config.node_name,
            "node_public_key": crate::config::public_key_b64(&st.node_key),
            "checkpoints": c,
            "receipts": r,
        }))
        .into_response(),
        (Err(e), _) | (_, Err(e)) => internal(wants_english(&headers), e),
    }
}

#[derive(Deserialize, Default)]
pub struct EntriesParams {
    #[serde(default)]
    from: Option<u64>,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /admin/audit/entries?from=SEQ&limit=N` (default: the last 100; at most 10,000).
pub async fn audit_entries(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    admin!(st, method, uri, headers, []);
    let en = wants_english(&headers);
    let Some(p) = crate::gateway::query_params::<EntriesParams>(uri.query()) else {
        return refuse(ServerCode::RequestInvalid, en, None);
    };
    let limit = p.limit.unwrap_or(100).clamp(1, 10_000);
    let from = match p.from {
        Some(f) => f,
        None => match st.db.head().await {
            Ok(h) => h.seq.saturating_sub(limit as u64 - 1).max(1),
            Err(e) => return internal(en, e),
        },
    };
    match st.db.read_range(from, limit).await {
        Ok(entries) => Json(json!({ "entries": entries })).into_response(),
        Err(e) => internal(en, e),
    }
}

#[derive(Deserialize)]
pub struct SubjectBody {
    nik: String,
}

/// `POST /admin/audit/subject` `{nik}`: every entry about that person (UU PDP art. 32).
pub async fn audit_subject(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    admin!(st, method, uri, headers, body);
    let en = wants_english(&headers);
    let Some(b) = crate::services::json_object::<SubjectBody>(&body) else {
        return refuse(ServerCode::RequestInvalid, en, None);
    };
    let h = sinergi_exchange::who_accessed(&b.nik, &st.secret);
    match st.db.by_subject(&h).await {
        Ok(entries) => Json(json!({ "entries": entries })).into_response(),
        Err(e) => internal(en, e),
    }
}

/// `POST /admin/snapshot/reload`: rebuilds the index from the store now.
pub async fn reload(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    admin!(st, method, uri, headers, body);
    match st.reload_index(true).await {
        Ok(_) => {
            Json(json!({"reloaded": true, "persons": st.index().persons.len()})).into_response()
        }
        Err(e) => internal(wants_english(&headers), e),
    }
}
