//! The `/r1/...` gateway: parse, authenticate, decide, serve, audit.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query as QueryParams, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sinergi_exchange::audit::{HashValue, request_hash, subject_hash};
use sinergi_exchange::httpsig::{Headers, Request as SigRequest};
use sinergi_exchange::token::hash_presented;
use sinergi_exchange::{
    AccessRequest, AuditRecord, ClientId, Decision, DecisionCode, ErrorCode, ServiceId, decide,
};

use crate::index::nik_key;
use crate::refusal::{Code, ServerCode, refuse, wants_english};
use crate::services::{self, Kind, Query};
use crate::state::AppState;

/// Longest raw value kept in the audit log for a header or path that did not parse.
const MAX_RAW: usize = 256;
/// Lines per batch chunk (one audit message, one output flush).
const BATCH_CHUNK: usize = 2048;
/// Bodies larger than this are verified on the blocking pool (digest over many bytes).
const INLINE_VERIFY_MAX: usize = 64 * 1024;

struct HeaderLookup<'a>(&'a HeaderMap);

impl Headers for HeaderLookup<'_> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        let mut found: Option<Cow<'_, str>> = None;
        for v in self.0.get_all(name) {
            let v = v.to_str().ok()?.trim_matches(|c| c == ' ' || c == '\t');
            found = Some(match found {
                None => Cow::Borrowed(v),
                Some(prev) => Cow::Owned(format!("{prev}, {v}")),
            });
        }
        found
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn bounded(s: &str) -> String {
    let mut end = s.len().min(MAX_RAW);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// The request's X-Road context, carried into audit and responses.
pub(crate) struct Ctx {
    pub request_id: String,
    pub user_id: String,
    pub issue: String,
    pub client_raw: String,
    pub purpose: String,
    pub pks: Option<String>,
    pub en: bool,
    pub started: Instant,
    pub at: sinergi_exchange::Timestamp,
    pub request_hash: HashValue,
    pub service_raw: String,
    pub metric: String,
}

fn new_request_id() -> String {
    sinergi_exchange::httpsig::new_nonce().unwrap_or_else(|_| format!("{}", crate::now().0))
}

/// What the audit entry of an attempt says.
pub(crate) struct Outcome {
    pub status: u16,
    pub decision: String,
    pub clause: String,
    pub pks_id: Option<String>,
    pub subject: Option<HashValue>,
}

impl Outcome {
    pub(crate) fn refused(code: Code, clause: &str) -> Outcome {
        Outcome {
            status: code.status(),
            decision: code.code().to_owned(),
            clause: clause.to_owned(),
            pks_id: None,
            subject: None,
        }
    }
}

pub(crate) fn record(st: &AppState, ctx: &Ctx, o: &Outcome) -> AuditRecord {
    AuditRecord {
        at: ctx.at,
        node: st.config.node_name.clone(),
        request_id: ctx.request_id.clone(),
        client: ctx.client_raw.clone(),
        service: ctx.service_raw.clone(),
        purpose: ctx.purpose.clone(),
        pks_id: o.pks_id.clone(),
        user_id: ctx.user_id.clone(),
        issue: ctx.issue.clone(),
        decision: o.decision.clone(),
        clause: o.clause.clone(),
        subject_hash: o.subject,
        status: o.status,
        latency_us: ctx.started.elapsed().as_micros() as u64,
        request_hash: ctx.request_hash,
    }
}

fn with_xroad_headers(mut resp: Response, ctx: &Ctx) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        h.insert("x-road-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.request_hash.to_string()) {
        h.insert("x-road-request-hash", v);
    }
    if !ctx.user_id.is_empty()
        && let Ok(v) = HeaderValue::from_str(&ctx.user_id)
    {
        h.insert("x-road-userid", v);
    }
    if !ctx.issue.is_empty()
        && let Ok(v) = HeaderValue::from_str(&ctx.issue)
    {
        h.insert("x-road-issue", v);
    }
    resp
}

/// Audits the outcome, then returns the response (or AUDIT_UNAVAILABLE if the write failed).
pub(crate) async fn finish(st: &AppState, ctx: &Ctx, o: Outcome, resp: Response) -> Response {
    let rec = record(st, ctx, &o);
    let resp = match st.audit.append(vec![rec]).await {
        Ok(_) => resp,
        Err(e) => {
            tracing::error!(error = %e, "audit write failed; request refused");
            refuse(ErrorCode::AuditUnavailable, ctx.en, None)
        }
    };
    let status = resp.status().as_u16();
    st.metrics
        .record(&ctx.metric, status, ctx.started.elapsed().as_secs_f64());
    with_xroad_headers(resp, ctx)
}

async fn refuse_audited(st: &AppState, ctx: &Ctx, code: impl Into<Code>, clause: &str) -> Response {
    let code = code.into();
    finish(
        st,
        ctx,
        Outcome::refused(code, clause),
        refuse(code, ctx.en, None),
    )
    .await
}

/// The identity behind a request.
enum Caller {
    Signed,
    Token,
}

/// `ANY /r1/{*rest}`.
pub async fn r1(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    // A body over `max_body_bytes` (or one that could not be read) is refused below, with a
    // code and an audit entry like every other refusal; its request hash is the empty body's.
    let (body, unread) = match body {
        Ok(b) => (b, None),
        Err(rejection) => (Bytes::new(), Some(rejection.status())),
    };
    let at = crate::now();
    let pq = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_owned();
    let host = header(&headers, "host");
    let target_uri = format!("{}://{}{}", st.config.scheme(), host, pq);
    let req_id = match header(&headers, "x-road-id") {
        "" => new_request_id(),
        v => bounded(v),
    };
    let mut ctx = Ctx {
        request_id: req_id,
        user_id: bounded(header(&headers, "x-road-userid")),
        issue: bounded(header(&headers, "x-road-issue")),
        client_raw: bounded(header(&headers, "x-road-client")),
        purpose: bounded(header(&headers, "x-sinergi-purpose")),
        pks: match header(&headers, "x-sinergi-pks") {
            "" => None,
            v => Some(bounded(v)),
        },
        en: wants_english(&headers),
        started,
        at,
        request_hash: request_hash(method.as_str(), &target_uri, &body),
        service_raw: bounded(uri.path()),
        metric: "invalid".into(),
    };

    if let Some(status) = unread {
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            ServerCode::RequestTooLarge
        } else {
            ServerCode::RequestInvalid
        };
        return refuse_audited(&st, &ctx, code, "body").await;
    }

    // 1. Which service.
    let sp = match ServiceId::parse_path_prefix(&pq) {
        Ok(sp) => sp,
        Err(_) => {
            // `/r1/{instance}/listClients`
            let parts: Vec<&str> = uri.path().split('/').collect();
            if parts.len() == 4 && parts[3] == "listClients" {
                return list_clients_for(&st, Some(parts[2])).into_response();
            }
            return refuse_audited(&st, &ctx, ErrorCode::ServiceIdInvalid, "path").await;
        }
    };
    let service = sp.service.clone();
    ctx.service_raw = service.to_string();
    match service.service_code.as_str() {
        "listMethods" => return list_methods(&st, &service.client, None).into_response(),
        "allowedMethods" => {
            let client = ClientId::parse_header(&ctx.client_raw).ok();
            return list_methods(&st, &service.client, Some(client)).into_response();
        }
        "getOpenAPI" => {
            let code = sp
                .query
                .and_then(|q| {
                    q.split('&')
                        .find_map(|kv| kv.strip_prefix("serviceCode="))
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            return crate::openapi::for_service(&st, &service.client, &code);
        }
        _ => {}
    }
    let hosted = st
        .hosted
        .get(&service.client)
        .filter(|h| h.services.contains(&service.service_code));
    let kind = Kind::parse(&service.service_code);
    let (Some(_hosted), Some((kind, batch))) = (hosted, kind) else {
        return refuse_audited(&st, &ctx, ServerCode::ServiceNotFound, "service").await;
    };
    ctx.metric = service.service_code.clone();

    // 2. Who is calling.
    let client = match ClientId::parse_header(&ctx.client_raw) {
        Ok(c) => c,
        Err(_) => {
            return refuse_audited(&st, &ctx, ErrorCode::ClientIdInvalid, "x-road-client").await;
        }
    };
    let caller = if headers.contains_key("authorization") {
        match authenticate_token(&st, &headers, &client, &service, at) {
            Ok(()) => Caller::Token,
            Err(code) => return refuse_audited(&st, &ctx, code, "authorization").await,
        }
    } else {
        let verified = if body.len() > INLINE_VERIFY_MAX {
            let st2 = st.clone();
            let (m, t, h, b) = (
                method.clone(),
                target_uri.clone(),
                headers.clone(),
                body.clone(),
            );
            tokio::task::spawn_blocking(move || verify_signature(&st2, &m, &t, &h, &b))
                .await
                .unwrap_or(Err(ErrorCode::SignatureInvalid))
        } else {
            verify_signature(&st, &method, &target_uri, &headers, &body)
        };
        match verified.and_then(|v| v.check_client(&client).map_err(|e| e.code())) {
            Ok(()) => Caller::Signed,
            Err(code) => return refuse_audited(&st, &ctx, code, "signature").await,
        }
    };
    let _ = caller;

    if batch && kind == Kind::ValidasiPenerima {
        return crate::validasi::validate_batch(
            st,
            ctx,
            client,
            service,
            sp.query.map(str::to_owned),
            body,
        )
        .await;
    }
    if batch {
        return crate::gateway::batch(
            st,
            ctx,
            client,
            service,
            kind,
            sp.query.map(str::to_owned),
            body,
        )
        .await;
    }

    // 3. What is asked.
    let q: Query = match serde_json::from_slice(&body) {
        Ok(q) => q,
        Err(_) => return refuse_audited(&st, &ctx, ServerCode::RequestInvalid, "body").await,
    };
    let subject = nik_key(&q.nik).map(|_| subject_hash(&st.secret, &q.nik));
    let ix = st.index();
    let region = nik_key(&q.nik).and_then(|k| ix.region_of(k).map(str::to_owned));
    let req = AccessRequest {
        consumer: client.clone(),
        service: service.clone(),
        purpose: ctx.purpose.clone(),
        pks_id: ctx.pks.clone(),
        subject_region: region,
        fields_requested: q.fields.clone(),
        at,
    };
    // 4. Decide.
    let d = decide(&st.agreements(), &st.quotas, &req);
    let pks_id = pks_of(&d);
    if let DecisionCode::Denied(code) = d.code {
        let o = Outcome {
            status: code.http_status(),
            decision: d.code.as_str().to_owned(),
            clause: d.clause.to_string(),
            pks_id,
            subject,
        };
        return finish(&st, &ctx, o, refuse(code, ctx.en, d.retry_after_secs)).await;
    }
    // 5. Serve.
    let (status, answer) = if kind == Kind::ValidasiPenerima {
        match crate::validasi::validate(&st, &service.client, &q, &ctx).await {
            Ok(v) => (200, v),
            Err(code) => {
                let o = Outcome {
                    status: code.http_status(),
                    decision: code.code().to_owned(),
                    clause: d.clause.to_string(),
                    pks_id,
                    subject,
                };
                return finish(&st, &ctx, o, refuse(code, ctx.en, None)).await;
            }
        }
    } else {
        (200, services::answer(&ix, kind, &q, &d.fields_granted))
    };
    let o = Outcome {
        status,
        decision: "ALLOWED".into(),
        clause: d.clause.to_string(),
        pks_id,
        subject,
    };
    // 6. Audit, then answer.
    finish(&st, &ctx, o, axum::Json(answer).into_response()).await
}

fn pks_of(d: &Decision) -> Option<String> {
    match &d.clause {
        sinergi_exchange::Clause::Agreement { id, .. } => Some(id.clone()),
        sinergi_exchange::Clause::DefaultDeny => None,
    }
}

fn verify_signature(
    st: &AppState,
    method: &Method,
    target_uri: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<sinergi_exchange::httpsig::Verified, ErrorCode> {
    let lookup = HeaderLookup(headers);
    let req = SigRequest {
        method: method.as_str(),
        target_uri,
        headers: &lookup,
        body,
    };
    st.verifier
        .verify(&req, &st.keys, crate::now().as_secs())
        .map_err(|e| e.code())
}

/// A token is accepted only from a system of the provider's own agency (same instance,
/// member class and member code), and only for the client it was issued to.
fn authenticate_token(
    st: &AppState,
    headers: &HeaderMap,
    client: &ClientId,
    service: &ServiceId,
    at: sinergi_exchange::Timestamp,
) -> Result<(), ErrorCode> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    let hash = hash_presented(auth).map_err(|e| e.code())?;
    let rec = st.tokens.get(&hash.0).ok_or(ErrorCode::TokenInvalid)?;
    let who = rec.check_status(at).map_err(|e| e.code())?;
    let p = &service.client;
    let same_agency = who.instance == p.instance
        && who.member_class == p.member_class
        && who.member_code == p.member_code;
    if who != client || !same_agency {
        return Err(ErrorCode::TokenInvalid);
    }
    Ok(())
}

#[derive(serde::Deserialize, Default)]
struct BatchParams {
    #[serde(default)]
    fields: Option<String>,
}

/// A batch call's query string (`fields=a,b&...`) as `P`; the defaults when absent or
/// unreadable.
pub(crate) fn batch_params<P: serde::de::DeserializeOwned + Default>(query: Option<&str>) -> P {
    query
        .and_then(|q| QueryParams::<P>::try_from_uri(&format!("/?{q}").parse().ok()?).ok())
        .map(|p| p.0)
        .unwrap_or_default()
}

/// What every line of an allowed batch call is decided under.
pub(crate) struct BatchGrant {
    agreements: Arc<Vec<sinergi_exchange::Agreement>>,
    base: AccessRequest,
    /// The fields granted for the whole call.
    pub granted: Vec<String>,
    /// The agreement is regional: each line's subject region is checked.
    regional: bool,
    pks_id: Option<String>,
}

impl BatchGrant {
    /// The decision on one line's subject (`nik` as the caller wrote it): the allowed outcome,
    /// or the refusal code and its outcome when the subject is outside the agreement's region.
    /// The outcome carries the subject's keyed hash, for `who-accessed`.
    pub(crate) fn line(
        &self,
        st: &AppState,
        ix: &crate::index::Index,
        nik: &str,
    ) -> Result<Outcome, (ErrorCode, Outcome)> {
        let k = nik_key(nik);
        let subject = k.map(|_| subject_hash(&st.secret, nik));
        if self.regional {
            let mut req = self.base.clone();
            req.subject_region = k.and_then(|k| ix.region_of(k).map(str::to_owned));
            let d = sinergi_exchange::evaluate(&self.agreements, &req);
            if let DecisionCode::Denied(code) = d.code {
                return Err((
                    code,
                    Outcome {
                        status: code.http_status(),
                        decision: code.code().into(),
                        clause: d.clause.to_string(),
                        pks_id: pks_of(&d),
                        subject,
                    },
                ));
            }
        }
        Ok(self.allowed(subject))
    }

    /// The outcome of an allowed line.
    pub(crate) fn allowed(&self, subject: Option<HashValue>) -> Outcome {
        Outcome {
            status: 200,
            decision: "ALLOWED".into(),
            clause: self
                .pks_id
                .as_ref()
                .map(|p| format!("{p}#grant"))
                .unwrap_or_default(),
            pks_id: self.pks_id.clone(),
            subject,
        }
    }
}

/// The call-level decision of a batch (status, validity, service, purpose, fields, quota: one
/// unit per call; the region is left to each line). A refusal is audited and returned as the
/// response to send.
pub(crate) async fn decide_batch(
    st: &AppState,
    ctx: &Ctx,
    client: ClientId,
    service: ServiceId,
    fields: Vec<String>,
) -> Result<BatchGrant, Response> {
    let base = AccessRequest {
        consumer: client,
        service,
        purpose: ctx.purpose.clone(),
        pks_id: ctx.pks.clone(),
        subject_region: None,
        fields_requested: fields.clone(),
        at: ctx.at,
    };
    let agreements = st.agreements();
    let d = decide(&agreements, &st.quotas, &base);
    let regional = match d.code {
        DecisionCode::Allowed => false,
        DecisionCode::Denied(ErrorCode::OutOfRegion) => {
            // Everything but the region passed: take the call's quota unit from that
            // agreement, then check each line's region.
            let id = pks_of(&d).unwrap_or_default();
            let a = agreements.iter().find(|a| a.id == id);
            match a.map(|a| st.quotas.try_acquire(&a.id, &a.quota, ctx.at)) {
                Some(Ok(())) => true,
                Some(Err(q)) => {
                    let o = Outcome {
                        status: 429,
                        decision: ErrorCode::QuotaExceeded.code().into(),
                        clause: format!("{id}#{}", q.clause()),
                        pks_id: Some(id),
                        subject: None,
                    };
                    let r = refuse(ErrorCode::QuotaExceeded, ctx.en, Some(q.retry_after_secs()));
                    return Err(finish(st, ctx, o, r).await);
                }
                None => {
                    return Err(
                        refuse_audited(st, ctx, ErrorCode::NoAgreement, "default-deny").await,
                    );
                }
            }
        }
        DecisionCode::Denied(code) => {
            let o = Outcome {
                status: code.http_status(),
                decision: code.code().into(),
                clause: d.clause.to_string(),
                pks_id: pks_of(&d),
                subject: None,
            };
            return Err(finish(st, ctx, o, refuse(code, ctx.en, d.retry_after_secs)).await);
        }
    };
    let granted = if regional {
        fields
    } else {
        d.fields_granted.clone()
    };
    Ok(BatchGrant {
        agreements,
        base,
        granted,
        regional,
        pks_id: pks_of(&d),
    })
}

/// Streaming NDJSON batch: one line in, one line out, in order. One call-level decision
/// (status, validity, service, purpose, fields, quota: one unit per call), then per line the
/// region scope; one audit entry per line (with its subject hash), written before the line's
/// chunk is sent.
async fn batch(
    st: Arc<AppState>,
    ctx: Ctx,
    client: ClientId,
    service: ServiceId,
    kind: Kind,
    query: Option<String>,
    body: Bytes,
) -> Response {
    let params: BatchParams = batch_params(query.as_deref());
    let fields: Vec<String> = params
        .fields
        .map(|f| {
            f.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let grant = match decide_batch(&st, &ctx, client, service, fields).await {
        Ok(g) => Arc::new(g),
        Err(refused) => return refused,
    };
    let ix = st.index();
    let st2 = st.clone();
    stream_lines(st, Arc::new(ctx), body, BATCH_CHUNK, move |chunk, ctx| {
        let (st, ix, grant) = (st2.clone(), ix.clone(), grant.clone());
        async move {
            // CPU work off the async workers.
            tokio::task::spawn_blocking(move || {
                let mut out = Vec::with_capacity(chunk.len() * 96);
                let mut recs = Vec::with_capacity(chunk.len());
                for line in &chunk {
                    let (val, o) = batch_line(&st, &ix, kind, &line.bytes, &grant);
                    serde_json::to_writer(&mut out, &val).ok();
                    out.push(b'\n');
                    recs.push(record(&st, &ctx, &o));
                }
                (out, recs)
            })
            .await
            .ok()
        }
    })
}

/// One non-blank line of a batch body.
pub(crate) struct Line {
    /// 1-based line number in the body (blank lines counted).
    pub baris: u64,
    pub bytes: Bytes,
}

/// The non-blank lines of a batch body, numbered from 1 (blank lines counted).
fn split_lines(body: &Bytes) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    let ends = body
        .iter()
        .enumerate()
        .filter_map(|(i, b)| (*b == b'\n').then_some(i))
        .chain(std::iter::once(body.len()));
    for (baris, end) in (1..).zip(ends) {
        if !body[start..end].iter().all(u8::is_ascii_whitespace) {
            lines.push(Line {
                baris,
                bytes: body.slice(start..end),
            });
        }
        start = end + 1;
    }
    lines
}

/// The streaming half of every batch service: splits `body` into its non-blank lines, hands
/// them to `work` in chunks of `chunk` lines, in order, and streams each chunk's answer
/// lines once its audit records are durable. Pipelined: chunk k+1 is computed while chunk
/// k's records are being committed. `work` answering `None` ends the stream with an error.
pub(crate) fn stream_lines<W, F>(
    st: Arc<AppState>,
    ctx: Arc<Ctx>,
    body: Bytes,
    chunk: usize,
    mut work: W,
) -> Response
where
    W: FnMut(Vec<Line>, Arc<Ctx>) -> F + Send + 'static,
    F: std::future::Future<Output = Option<(Vec<u8>, Vec<AuditRecord>)>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let ctx2 = ctx.clone();
    tokio::spawn(async move {
        let ctx = ctx2;
        let lines = split_lines(&body);
        let mut pending: Option<(crate::audit_sql::Receipt, Vec<u8>)> = None;
        let audit_failed = |e: crate::audit_sql::AuditSendError| {
            tracing::error!(error = %e, "audit write failed; batch stopped");
            let line = json!({"code": ErrorCode::AuditUnavailable.code(), "message": ErrorCode::AuditUnavailable.message(if ctx.en {"en"} else {"id"})});
            Bytes::from(format!("{line}\n"))
        };
        let mut lines = lines.into_iter().peekable();
        while lines.peek().is_some() {
            let group: Vec<Line> = lines.by_ref().take(chunk.max(1)).collect();
            let Some((out, recs)) = work(group, ctx.clone()).await else {
                let _ = tx
                    .send(Err(std::io::Error::other("batch worker failed")))
                    .await;
                return;
            };
            let receipt = st.audit.submit(recs);
            if let Some((prev, prev_out)) = pending.take()
                && !send_when_durable(prev, prev_out, &tx, &audit_failed).await
            {
                return;
            }
            match receipt {
                Ok(r) => pending = Some((r, out)),
                Err(e) => {
                    let _ = tx.send(Ok(audit_failed(e))).await;
                    return;
                }
            }
        }
        if let Some((prev, prev_out)) = pending.take()
            && !send_when_durable(prev, prev_out, &tx, &audit_failed).await
        {
            return;
        }
        st.metrics
            .record(&ctx.metric, 200, ctx.started.elapsed().as_secs_f64());
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let resp = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/x-ndjson")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| refuse(ServerCode::InternalError, ctx.en, None));
    with_xroad_headers(resp, &ctx)
}

fn batch_line(
    st: &AppState,
    ix: &crate::index::Index,
    kind: Kind,
    line: &[u8],
    grant: &BatchGrant,
) -> (Value, Outcome) {
    let q: Query = match serde_json::from_slice::<Query>(line) {
        Ok(q) => q,
        Err(_) => {
            let code = ServerCode::RequestInvalid;
            return (
                json!({"code": code.code()}),
                Outcome::refused(code.into(), "body"),
            );
        }
    };
    match grant.line(st, ix, &q.nik) {
        Ok(o) => (services::answer(ix, kind, &q, &grant.granted), o),
        Err((code, o)) => (json!({"nik": q.nik, "code": code.code()}), o),
    }
}

// ---------------------------------------------------------------------------------------------
// Metaservices

fn id_json(c: &ClientId) -> Value {
    json!({
        "xroad_instance": c.instance,
        "member_class": c.member_class,
        "member_code": c.member_code,
        "subsystem_code": c.subsystem_code,
        "object_type": "SUBSYSTEM",
    })
}

fn list_clients_for(st: &AppState, instance: Option<&str>) -> axum::Json<Value> {
    let mut members: Vec<(ClientId, String)> = st
        .hosted
        .values()
        .map(|h| (h.id.clone(), h.name.clone()))
        .chain(st.peer_members.iter().cloned())
        .filter(|(c, _)| instance.is_none_or(|i| c.instance == i))
        .collect();
    members.sort();
    members.dedup_by(|a, b| a.0 == b.0);
    let member: Vec<Value> = members
        .iter()
        .map(|(c, name)| json!({"id": id_json(c), "name": name}))
        .collect();
    axum::Json(json!({ "member": member }))
}

#[derive(serde::Deserialize)]
pub struct ListClientsParams {
    #[serde(rename = "xRoadInstance")]
    x_road_instance: Option<String>,
}

/// `GET /listClients[?xRoadInstance=ID]` (X-Road metaservice, JSON form).
pub async fn list_clients(
    State(st): State<Arc<AppState>>,
    QueryParams(p): QueryParams<ListClientsParams>,
) -> axum::Json<Value> {
    list_clients_for(&st, p.x_road_instance.as_deref())
}

/// `listMethods` (every REST service of the provider) or, with a client,
/// `allowedMethods` (those an agreement in force lets that client call).
fn list_methods(
    st: &AppState,
    provider: &ClientId,
    allowed_for: Option<Option<ClientId>>,
) -> Response {
    let Some(h) = st.hosted.get(provider) else {
        return refuse(ServerCode::ServiceNotFound, false, None);
    };
    let at = crate::now();
    let agreements = st.agreements();
    let mut services: Vec<Value> = Vec::new();
    let mut codes = h.services.clone();
    codes.sort();
    for code in codes {
        if let Some(client) = &allowed_for {
            let Some(client) = client else { continue };
            let ok = agreements.iter().any(|a| {
                &a.consumer == client
                    && &a.provider == provider
                    && a.status_at(at).0 == sinergi_exchange::AgreementStatus::Active
                    && a.valid_from <= at
                    && at < a.valid_until
                    && a.services.iter().any(|s| s.service_code == code)
            });
            if !ok {
                continue;
            }
        }
        services.push(json!({
            "xroad_instance": provider.instance,
            "member_class": provider.member_class,
            "member_code": provider.member_code,
            "subsystem_code": provider.subsystem_code,
            "service_code": code,
            "object_type": "SERVICE",
            "service_type": "REST",
            "endpoint_list": [{"method": "POST", "path": "/"}],
        }));
    }
    axum::Json(json!({ "service": services })).into_response()
}

/// `GET /healthz`.
pub async fn healthz(State(st): State<Arc<AppState>>) -> axum::Json<Value> {
    let ix = st.index();
    axum::Json(json!({
        "status": "ok",
        "node": st.config.node_name,
        "persons": ix.persons.len(),
        "snapshots": ix.snapshots.len(),
    }))
}

/// Sends a batch chunk's answer lines once its audit entries are durable; on an audit failure
/// sends the AUDIT_UNAVAILABLE line instead. `false`: the batch stops (audit failed or the
/// client went away).
async fn send_when_durable(
    receipt: crate::audit_sql::Receipt,
    out: Vec<u8>,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    audit_failed: &impl Fn(crate::audit_sql::AuditSendError) -> Bytes,
) -> bool {
    if let Err(e) = receipt.wait().await {
        let _ = tx.send(Ok(audit_failed(e))).await;
        return false;
    }
    tx.send(Ok(Bytes::from(out))).await.is_ok()
}
