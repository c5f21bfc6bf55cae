//! Admin API (admin API token): agreements (create, list, suspend, reinstate, revoke), audit
//! verification and checkpoints, "who looked at NIK X", index reload.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sinergi_exchange::Agreement;
use sinergi_exchange::token::hash_presented;
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

fn check_admin(st: &AppState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let en = wants_english(headers);
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    let Ok(h) = hash_presented(auth) else {
        return Err(Box::new(refuse(ServerCode::AdminTokenInvalid, en, None)));
    };
    if st.admin_tokens.iter().any(|t| ct_eq(&t.0, &h.0)) {
        Ok(())
    } else {
        Err(Box::new(refuse(ServerCode::AdminTokenInvalid, en, None)))
    }
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

/// `GET /admin/pks`.
pub async fn list_agreements(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = check_admin(&st, &headers) {
        return *r;
    }
    Json(json!({ "agreements": &*st.agreements() })).into_response()
}

fn pks_ctx<'a>(st: &'a AppState, by: &'a str, reason: &'a str) -> crate::pks::Ctx<'a> {
    crate::pks::Ctx {
        db: &st.db,
        node: &st.config.node_name,
        audit: crate::pks::AuditSink::Writer(&st.audit),
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
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = check_admin(&st, &headers) {
        return *r;
    }
    let en = wants_english(&headers);
    let Ok(a) = serde_json::from_slice::<Agreement>(&body) else {
        return refuse(ServerCode::RequestInvalid, en, None);
    };
    let _guard = st.agreements_write.lock().await;
    let hosted: Vec<_> = st.hosted.keys().cloned().collect();
    let by = headers
        .get("x-road-userid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let result = crate::pks::create(&pks_ctx(&st, by, ""), &hosted, a).await;
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
/// 409 AGREEMENT_STATUS_CONFLICT when revoked already. Audited (`pks.rs`).
pub async fn change_status(
    State(st): State<Arc<AppState>>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = check_admin(&st, &headers) {
        return *r;
    }
    let en = wants_english(&headers);
    let Some(action) = crate::pks::Action::parse_change(&action) else {
        return refuse(ServerCode::RequestInvalid, en, None);
    };
    let b: StatusBody = if body.is_empty() {
        StatusBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(_) => return refuse(ServerCode::RequestInvalid, en, None),
        }
    };
    let _guard = st.agreements_write.lock().await;
    let result = crate::pks::change_status(&pks_ctx(&st, &b.by, &b.reason), &id, action).await;
    if let Err(e) = refresh(&st).await {
        return internal(en, e);
    }
    match result {
        Ok(a) => Json(a).into_response(),
        Err(e) => pks_refusal(en, &e),
    }
}

/// `GET /admin/audit/verify`: walks the whole log (in pages) against the checkpoints.
pub async fn audit_verify(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = check_admin(&st, &headers) {
        return *r;
    }
    let en = wants_english(&headers);
    let cps = match st.db.checkpoints().await {
        Ok(c) => c,
        Err(e) => return internal(en, e),
    };
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
    let report = tokio::task::spawn_blocking(move || {
        sinergi_exchange::audit::verify(all.iter(), &cps, &key)
    })
    .await;
    match report {
        Ok(r) => Json(json!({
            "ok": r.ok,
            "entries": r.entries,
            "last_seq": r.last_seq,
            "head_hash": r.head_hash,
            "checkpoints_verified": r.checkpoints_verified,
            "problems": r.problems.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => internal(en, e),
    }
}

/// `GET /admin/audit/checkpoints`.
pub async fn audit_checkpoints(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = check_admin(&st, &headers) {
        return *r;
    }
    match st.db.checkpoints().await {
        Ok(c) => Json(json!({
            "node_public_key": crate::config::public_key_b64(&st.node_key),
            "checkpoints": c,
        }))
        .into_response(),
        Err(e) => internal(wants_english(&headers), e),
    }
}

#[derive(Deserialize)]
pub struct EntriesParams {
    #[serde(default)]
    from: Option<u64>,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /admin/audit/entries?from=SEQ&limit=N` (default: the last 100; at most 10,000).
pub async fn audit_entries(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    axum::extract::Query(p): axum::extract::Query<EntriesParams>,
) -> Response {
    if let Err(r) = check_admin(&st, &headers) {
        return *r;
    }
    let en = wants_english(&headers);
    let limit = p.limit.unwrap_or(100).min(10_000);
    let from = match p.from {
        Some(f) => f,
        None => match st.db.head().await {
            Ok(h) => h.seq.saturating_sub(limit.max(1) as u64 - 1).max(1),
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
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = check_admin(&st, &headers) {
        return *r;
    }
    let en = wants_english(&headers);
    let Ok(b) = serde_json::from_slice::<SubjectBody>(&body) else {
        return refuse(ServerCode::RequestInvalid, en, None);
    };
    let h = sinergi_exchange::who_accessed(&b.nik, &st.secret);
    match st.db.by_subject(&h).await {
        Ok(entries) => Json(json!({ "entries": entries })).into_response(),
        Err(e) => internal(en, e),
    }
}

/// `POST /admin/snapshot/reload`: rebuilds the index from the store now.
pub async fn reload(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = check_admin(&st, &headers) {
        return *r;
    }
    match st.reload_index(true).await {
        Ok(_) => {
            Json(json!({"reloaded": true, "persons": st.index().persons.len()})).into_response()
        }
        Err(e) => internal(wants_english(&headers), e),
    }
}
