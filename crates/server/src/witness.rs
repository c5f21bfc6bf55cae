//! Witnesses: other nodes that countersign and keep a copy of this node's audit checkpoints
//! (docs/EXCHANGE.md section 5, "Anchoring").
//!
//! A checkpoint signed with the node's key pins the log up to its seq, but it lives in the
//! node's own database: whoever can rewrite the log can delete the checkpoints after a point
//! too, and then the log cut short verifies. So every checkpoint is also sent to the
//! configured witnesses (`[[witnesses]]`), as a request signed by one of this node's members,
//! whose public key the witness already holds as a peer. The witness stores its copy (it
//! refuses a second, different checkpoint for the same seq) and answers with a receipt signed
//! with its own node key, which the node stores. `sinergi audit verify` fetches the
//! witnesses' copies and checks the log against them.
//!
//! - `POST /witness/checkpoints` (signed by a peer's member): store a checkpoint, answer the
//!   receipt. The first member that sends checkpoints for a node name speaks for it from then
//!   on.
//! - `GET /witness/checkpoints?node=NAME` (signed by the member speaking for that node, or the
//!   admin token): the copies held.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sinergi_exchange::{Checkpoint, ClientId, ErrorCode, Timestamp, WitnessReceipt};

use crate::audit_sql::Witnessed;
use crate::client::{CallMeta, HttpClient, send_signed};
use crate::config::WitnessConfig;
use crate::refusal::{ServerCode, refuse, wants_english};
use crate::state::{AppState, Hosted};

/// How long one witness has to answer one checkpoint.
pub const WITNESS_TIMEOUT: Duration = Duration::from_secs(5);

/// The member that speaks for this node towards its witnesses: the first hosted member.
pub fn speaker(st: &AppState) -> Option<&Hosted> {
    st.hosted.values().next()
}

fn meta<'a>() -> CallMeta<'a> {
    CallMeta {
        request_id: "",
        user_id: "",
        issue: "",
        purpose: "AUDIT_WITNESS",
        pks: None,
    }
}

/// Sends one checkpoint to one witness; the receipt when its countersignature verifies
/// with the witness's configured key.
pub async fn send(
    client: &HttpClient,
    from: &Hosted,
    w: &WitnessConfig,
    cp: &Checkpoint,
) -> Result<WitnessReceipt, String> {
    let key = crate::config::decode_public_key(&w.public_key).map_err(|e| e.to_string())?;
    let url = format!("{}/witness/checkpoints", w.base_url.trim_end_matches('/'));
    let body = serde_json::to_vec(cp).map_err(|e| e.to_string())?;
    let (status, answer) = send_signed(client, from, "POST", &url, body, &meta(), WITNESS_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!(
            "witness {} answered {status}: {}",
            w.name,
            String::from_utf8_lossy(&answer)
        ));
    }
    let r: WitnessReceipt = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
    if r.checkpoint != *cp || r.witness != w.name || !r.verify_signature(&key) {
        return Err(format!("witness {}: the receipt does not verify", w.name));
    }
    Ok(r)
}

/// Sends a checkpoint to every witness, stores the receipts; the receipts and the errors.
pub async fn publish(st: &AppState, cp: &Checkpoint) -> (Vec<WitnessReceipt>, Vec<String>) {
    let Some(from) = speaker(st) else {
        return (
            Vec::new(),
            vec!["no hosted member to speak for this node".into()],
        );
    };
    let mut receipts = Vec::new();
    let mut errors = Vec::new();
    for w in &st.config.witnesses {
        match send(&st.client, from, w, cp).await {
            Ok(r) => {
                if let Err(e) = st.db.put_receipt(&r).await {
                    errors.push(format!("receipt of {} not stored: {e}", w.name));
                }
                receipts.push(r);
            }
            Err(e) => errors.push(e),
        }
    }
    (receipts, errors)
}

/// Sends every checkpoint the audit writer signs to the witnesses, the latest first: a
/// witnessed checkpoint pins every entry before it through the chain, so when a witness is
/// slow, older queued checkpoints are skipped rather than sent late.
pub fn spawn_sender(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    let rx = state
        .signed_checkpoints
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    tokio::spawn(async move {
        let Some(mut rx) = rx else { return };
        while let Some(mut cp) = rx.recv().await {
            while let Ok(newer) = rx.try_recv() {
                cp = newer;
            }
            let (_, errors) = publish(&state, &cp).await;
            for e in errors {
                tracing::warn!(seq = cp.seq, error = %e, "checkpoint not witnessed");
            }
        }
    })
}

/// Signs a checkpoint now and has the witnesses countersign it: what `sinergi audit verify`
/// asks a running node for.
pub async fn checkpoint_now(
    st: &AppState,
) -> Result<(Option<Checkpoint>, Vec<WitnessReceipt>, Vec<String>), String> {
    let cp = st.audit.checkpoint_now().await.map_err(|e| e.to_string())?;
    let Some(cp) = cp else {
        return Ok((None, Vec::new(), Vec::new()));
    };
    let (receipts, errors) = if st.config.witnesses.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        publish(st, &cp).await
    };
    Ok((Some(cp), receipts, errors))
}

/// The checkpoints that stored receipts prove a configured witness received (receipts whose
/// countersignature does not verify with the witness's key are ignored).
pub fn receipt_copies(witnesses: &[WitnessConfig], receipts: &[WitnessReceipt]) -> Vec<Checkpoint> {
    receipts
        .iter()
        .filter(|r| {
            witnesses.iter().any(|w| {
                w.name == r.witness
                    && crate::config::decode_public_key(&w.public_key)
                        .is_ok_and(|k| r.verify_signature(&k))
            })
        })
        .map(|r| r.checkpoint.clone())
        .collect()
}

/// Fetches the copies of `node`'s checkpoints a witness holds (`GET /witness/checkpoints`),
/// signed as `from`.
pub async fn fetch(
    client: &HttpClient,
    from: &Hosted,
    base_url: &str,
    node: &str,
) -> Result<Vec<Checkpoint>, String> {
    let url = format!(
        "{}/witness/checkpoints?node={}",
        base_url.trim_end_matches('/'),
        percent(node)
    );
    let (status, answer) = send_signed(
        client,
        from,
        "GET",
        &url,
        Vec::new(),
        &meta(),
        WITNESS_TIMEOUT,
    )
    .await
    .map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!(
            "{url} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
    serde_json::from_value(v["checkpoints"].clone()).map_err(|e| e.to_string())
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The peer member a witness request is signed by (hosted members are this node itself).
fn signer(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<ClientId, ErrorCode> {
    let target = crate::gateway::target_uri(st, uri, headers);
    let v = crate::gateway::verify_with(&st.verifier, &st.keys, method, &target, headers, body)?;
    let claimed = ClientId::parse_header(crate::gateway::claimed_client(headers))
        .map_err(|_| ErrorCode::ClientIdInvalid)?;
    v.check_client(&claimed).map_err(|e| e.code())?;
    if st.hosted.contains_key(&v.client) {
        return Err(ErrorCode::SignatureKeyMismatch);
    }
    Ok(v.client)
}

/// `POST /witness/checkpoints`.
pub async fn receive(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let en = wants_english(&headers);
    let sender = match signer(&st, &method, &uri, &headers, &body) {
        Ok(c) => c,
        Err(code) => return refuse(code, en, None),
    };
    let Some(cp) = crate::services::json_object::<Checkpoint>(&body) else {
        return refuse(ServerCode::RequestInvalid, en, None);
    };
    if cp.node == st.config.node_name {
        return refuse(ServerCode::WitnessConflict, en, None);
    }
    let now = crate::now();
    let received = match st.db.put_witnessed(&cp, &sender.to_string(), now.0).await {
        Ok(Witnessed::New(at) | Witnessed::Held(at)) => Timestamp(at),
        Ok(Witnessed::Conflict) => {
            tracing::error!(node = %cp.node, seq = cp.seq, %sender,
                "witness: a different checkpoint for a seq already held, or another sender");
            return refuse(ServerCode::WitnessConflict, en, None);
        }
        Err(e) => {
            tracing::error!(error = %e, "witness: checkpoint not stored");
            return refuse(ServerCode::InternalError, en, None);
        }
    };
    let r = WitnessReceipt::sign(&cp, &st.config.node_name, received, &st.node_key);
    axum::Json(r).into_response()
}

#[derive(serde::Deserialize, Default)]
struct ListParams {
    node: Option<String>,
}

/// `GET /witness/checkpoints?node=NAME`.
pub async fn list(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let en = wants_english(&headers);
    let Some(node) = crate::gateway::query_params::<ListParams>(uri.query()).and_then(|p| p.node)
    else {
        return refuse(ServerCode::RequestInvalid, en, None);
    };
    let (cps, owner) = match st.db.witnessed(&node).await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "witness: copies not read");
            return refuse(ServerCode::InternalError, en, None);
        }
    };
    let admin =
        headers.contains_key("authorization") && crate::admin::is_admin_token(&st, &headers);
    if !admin {
        match signer(&st, &method, &uri, &headers, &[]) {
            Ok(c) if owner.is_none() || owner.as_deref() == Some(&c.to_string()) => {}
            Ok(_) => return refuse(ErrorCode::SignatureKeyMismatch, en, None),
            Err(code) => return refuse(code, en, None),
        }
    }
    axum::Json(json!({
        "node": node,
        "witness": st.config.node_name,
        "checkpoints": cps,
    }))
    .into_response()
}
