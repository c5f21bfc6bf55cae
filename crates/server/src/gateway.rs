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
    decide_call,
};

use crate::audit_sql::Replay;

use crate::index::nik_key;
use crate::refusal::{Code, ServerCode, method_not_allowed, refuse, wants_english};
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

pub(crate) fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
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
    /// The request's time: when it arrived, then, once authenticated, when it was decided
    /// (taken under the decision lock, so it is ordered with agreement changes).
    pub at: sinergi_exchange::Timestamp,
    pub request_hash: HashValue,
    pub service_raw: String,
    pub metric: String,
    /// The verified signature's replay key, persisted with the request's first audit entry.
    pub replay: Replay,
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
    let resp = match st.audit.append_with(vec![rec], ctx.replay).await {
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

pub(crate) async fn refuse_audited(
    st: &AppState,
    ctx: &Ctx,
    code: impl Into<Code>,
    clause: &str,
) -> Response {
    let code = code.into();
    finish(
        st,
        ctx,
        Outcome::refused(code, clause),
        refuse(code, ctx.en, None),
    )
    .await
}

/// `@target-uri` as the node rebuilds it: `{scheme}://{Host}{path?query}`.
pub(crate) fn target_uri(st: &AppState, uri: &Uri, headers: &HeaderMap) -> String {
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!("{}://{}{}", st.config.scheme(), header(headers, "host"), pq)
}

/// The client a request claims to be: `X-Road-Client`, or GovStack's
/// `Information-Mediator-Client` (`X-GovStack-Client` in its older API), same syntax.
pub(crate) fn claimed_client(headers: &HeaderMap) -> &str {
    [
        "x-road-client",
        "information-mediator-client",
        "x-govstack-client",
    ]
    .iter()
    .map(|h| header(headers, h))
    .find(|v| !v.is_empty())
    .unwrap_or("")
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
    let target_uri = target_uri(&st, &uri, &headers);
    let req_id = match header(&headers, "x-road-id") {
        "" => new_request_id(),
        v => bounded(v),
    };
    let mut ctx = Ctx {
        request_id: req_id,
        user_id: bounded(header(&headers, "x-road-userid")),
        issue: bounded(header(&headers, "x-road-issue")),
        client_raw: bounded(claimed_client(&headers)),
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
        replay: None,
    };

    // 1. Which service.
    let sp = match ServiceId::parse_path_prefix(&pq) {
        Ok(sp) => sp,
        Err(_) => {
            // `/r1/{instance}/listClients`
            let parts: Vec<&str> = uri.path().split('/').collect();
            if parts.len() == 4 && parts[3] == "listClients" {
                return crate::directory::list_clients_at(&st, &method, &headers, Some(parts[2]));
            }
            if unread.is_none() && is_directory_path(uri.path()) {
                // A directory call with a malformed provider: not a service request.
                return refuse(ErrorCode::ServiceIdInvalid, ctx.en, None);
            }
            return refuse_audited(&st, &ctx, ErrorCode::ServiceIdInvalid, "path").await;
        }
    };
    let service = sp.service.clone();
    if let Some(meta) = crate::directory::Meta::parse(&service.service_code) {
        return crate::directory::meta(
            &st,
            crate::directory::Call {
                meta,
                method: &method,
                target_uri: &target_uri,
                headers: &headers,
                body: &body,
                provider: &service.client,
                query: sp.query,
                resource: sp.resource,
                govstack_path: false,
            },
        )
        .await;
    }
    ctx.service_raw = service.to_string();
    if let Some(status) = unread {
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            ServerCode::RequestTooLarge
        } else {
            ServerCode::RequestInvalid
        };
        return refuse_audited(&st, &ctx, code, "body").await;
    }
    // Nothing after the service code: no service here declares sub-paths, and a path a
    // proxy in front of the node would read otherwise (dot-segments, `//`, escapes) is
    // refused before anything else.
    if sp.check_resource().is_err() {
        ctx.service_raw = bounded(uri.path());
        return refuse_audited(&st, &ctx, ErrorCode::ServiceIdInvalid, "path").await;
    }
    let hosted = st
        .hosted
        .get(&service.client)
        .filter(|h| h.services.contains(&service.service_code));
    let kind = Kind::parse(&service.service_code);
    let (Some(_hosted), Some((kind, batch)), true) = (hosted, kind, sp.resource.is_empty()) else {
        return refuse_audited(&st, &ctx, ServerCode::ServiceNotFound, "service").await;
    };
    ctx.metric = service.service_code.clone();
    if method != Method::POST {
        let o = Outcome::refused(ServerCode::MethodNotAllowed.into(), "method");
        return finish(&st, &ctx, o, method_not_allowed("POST", ctx.en)).await;
    }

    // 2. Who is calling.
    let client = match ClientId::parse_header(&ctx.client_raw) {
        Ok(c) => c,
        Err(_) => {
            return refuse_audited(&st, &ctx, ErrorCode::ClientIdInvalid, "x-road-client").await;
        }
    };
    match authenticate(
        &st,
        &method,
        &target_uri,
        &headers,
        &body,
        &client,
        &service.client,
    )
    .await
    {
        Ok(replay) => ctx.replay = replay,
        Err((code, clause)) => return refuse_audited(&st, &ctx, code, clause).await,
    }

    if kind.is_fakta() {
        return crate::fakta::facts_batch(st, ctx, client, service, kind, body).await;
    }
    if kind == Kind::PencarianIdentitas {
        return if batch {
            crate::pencarian::search_batch(
                st,
                ctx,
                client,
                service,
                sp.query.map(str::to_owned),
                body,
            )
            .await
        } else {
            crate::pencarian::search(st, ctx, client, service, body).await
        };
    }
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
    let Some(q) = services::json_object::<Query>(&body) else {
        return refuse_audited(&st, &ctx, ServerCode::RequestInvalid, "body").await;
    };
    let subject = nik_key(&q.nik).map(|_| subject_hash(&st.secret, &q.nik));
    let ix = st.index();
    let region = nik_key(&q.nik).and_then(|k| ix.region_of(k).map(str::to_owned));
    let mut req = AccessRequest {
        consumer: client.clone(),
        service: service.clone(),
        purpose: ctx.purpose.clone(),
        pks_id: ctx.pks.clone(),
        subject_region: region,
        fields_requested: q.fields.clone(),
        at,
    };
    // 4. Decide, ordered with agreement changes (see `AppState::decisions`).
    let d = {
        let _epoch = st.decisions.read().await;
        ctx.at = crate::now();
        req.at = ctx.at;
        decide(&st.agreements(), &st.quotas, &req)
    };
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
        match crate::validasi::validate(&st, &service.client, &body, &ctx, &d.fields_granted).await
        {
            Ok(v) => (200, v),
            Err(code) => {
                let o = Outcome {
                    status: code.status(),
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

/// A path ending in a directory metaservice (`.../listMethods` etc.).
fn is_directory_path(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| crate::directory::Meta::parse(last).is_some())
}

/// Authenticates a request from `client` to a service of `provider`: an API token of a
/// system inside the provider's own agency, or an RFC 9421 signature by `client`'s key.
/// Returns the signature's replay key to persist, or the refusal code and audit clause.
pub(crate) async fn authenticate(
    st: &Arc<AppState>,
    method: &Method,
    target_uri: &str,
    headers: &HeaderMap,
    body: &Bytes,
    client: &ClientId,
    provider: &ClientId,
) -> Result<Replay, (ErrorCode, &'static str)> {
    if headers.contains_key("authorization") {
        return authenticate_token(st, headers, client, provider, crate::now())
            .map(|()| None)
            .map_err(|c| (c, "authorization"));
    }
    let verified = if body.len() > INLINE_VERIFY_MAX {
        let st2 = st.clone();
        let (m, t, h, b) = (
            method.clone(),
            target_uri.to_owned(),
            headers.clone(),
            body.clone(),
        );
        tokio::task::spawn_blocking(move || verify_with(&st2.verifier, &st2.keys, &m, &t, &h, &b))
            .await
            .unwrap_or(Err(ErrorCode::SignatureInvalid))
    } else {
        verify_with(&st.verifier, &st.keys, method, target_uri, headers, body)
    };
    match verified.and_then(|v| {
        v.check_client(client)
            .map(|()| (v.replay_key, v.replay_until))
            .map_err(|e| e.code())
    }) {
        Ok(replay) => Ok(Some(replay)),
        Err(code) => Err((code, "signature")),
    }
}

fn pks_of(d: &Decision) -> Option<String> {
    match &d.clause {
        sinergi_exchange::Clause::Agreement { id, .. } => Some(id.clone()),
        sinergi_exchange::Clause::DefaultDeny => None,
    }
}

/// Verifies an RFC 9421 signature with `verifier` against `keys`.
pub(crate) fn verify_with<K: sinergi_exchange::httpsig::KeyResolver + ?Sized>(
    verifier: &sinergi_exchange::Verifier,
    keys: &K,
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
    verifier
        .verify(&req, keys, crate::now().as_secs())
        .map_err(|e| e.code())
}

/// A token is accepted only from a system of the provider's own agency (same instance,
/// member class and member code), and only for the client it was issued to.
fn authenticate_token(
    st: &AppState,
    headers: &HeaderMap,
    client: &ClientId,
    provider: &ClientId,
    at: sinergi_exchange::Timestamp,
) -> Result<(), ErrorCode> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    let hash = hash_presented(auth).map_err(|e| e.code())?;
    let rec = st.tokens.get(&hash.0).ok_or(ErrorCode::TokenInvalid)?;
    let who = rec.check_status(at).map_err(|e| e.code())?;
    let p = provider;
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

/// A query string (`a=1&b=2`) as `P`: the defaults when absent, `None` when it does not
/// parse.
pub(crate) fn query_params<P: serde::de::DeserializeOwned + Default>(
    query: Option<&str>,
) -> Option<P> {
    match query {
        None | Some("") => Some(P::default()),
        Some(q) => QueryParams::<P>::try_from_uri(&format!("/?{q}").parse().ok()?)
            .ok()
            .map(|p| p.0),
    }
}

/// A batch call's query string (`fields=a,b&...`) as `P`; the defaults when absent or
/// unreadable.
pub(crate) fn batch_params<P: serde::de::DeserializeOwned + Default>(query: Option<&str>) -> P {
    query_params(query).unwrap_or_default()
}

/// `fields=a,b` as a list (empty parts dropped).
pub(crate) fn field_list(fields: Option<&str>) -> Vec<String> {
    fields
        .map(|f| {
            f.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// What every line of an allowed batch call is decided under.
pub(crate) struct BatchGrant {
    /// The agreement that granted the call.
    agreement: sinergi_exchange::Agreement,
    /// The fields granted for the whole call.
    pub granted: Vec<String>,
}

impl BatchGrant {
    /// The decision on one line's subject (`nik` as the caller wrote it): the allowed outcome,
    /// or the refusal code and its outcome when the subject is outside the granting
    /// agreement's region. The outcome carries the subject's keyed hash, for `who-accessed`.
    pub(crate) fn line(
        &self,
        st: &AppState,
        ix: &crate::index::Index,
        nik: &str,
    ) -> Result<Outcome, (ErrorCode, Outcome)> {
        let k = nik_key(nik);
        let subject = k.map(|_| subject_hash(&st.secret, nik));
        let region = k.and_then(|k| ix.region_of(k));
        if let Err((code, mut o)) = self.region(region) {
            o.subject = subject;
            return Err((code, o));
        }
        Ok(self.allowed(subject))
    }

    /// The region scope of the granting agreement for a subject registered in `region`:
    /// OUT_OF_REGION and its outcome (without subject) when outside.
    pub(crate) fn region(&self, region: Option<&str>) -> Result<(), (ErrorCode, Outcome)> {
        if self.agreement.covers_region(region) {
            return Ok(());
        }
        let code = ErrorCode::OutOfRegion;
        Err((
            code,
            Outcome {
                status: code.http_status(),
                decision: code.code().into(),
                clause: format!("{}#region_scope", self.agreement.id),
                pks_id: Some(self.agreement.id.clone()),
                subject: None,
            },
        ))
    }

    /// The outcome of an allowed line.
    pub(crate) fn allowed(&self, subject: Option<HashValue>) -> Outcome {
        Outcome {
            status: 200,
            decision: "ALLOWED".into(),
            clause: format!("{}#grant", self.agreement.id),
            pks_id: Some(self.agreement.id.clone()),
            subject,
        }
    }
}

/// The number of non-blank lines of a batch body: the persons it asks about, for the quota.
pub(crate) fn count_lines(body: &[u8]) -> u64 {
    body.split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count() as u64
}

/// The call-level decision of a batch (`sinergi_exchange::decide_call`: status, validity,
/// service, purpose, fields, and quota: one request, and `persons` persons of the day's
/// quota), taken under the decision lock; the region is left to each line. A refusal is
/// audited and returned as the response to send.
pub(crate) async fn decide_batch(
    st: &AppState,
    ctx: &mut Ctx,
    client: ClientId,
    service: ServiceId,
    fields: Vec<String>,
    persons: u64,
) -> Result<BatchGrant, Response> {
    let mut base = AccessRequest {
        consumer: client,
        service,
        purpose: ctx.purpose.clone(),
        pks_id: ctx.pks.clone(),
        subject_region: None,
        fields_requested: fields,
        at: ctx.at,
    };
    let agreements = st.agreements();
    let d = {
        let _epoch = st.decisions.read().await;
        ctx.at = crate::now();
        base.at = ctx.at;
        decide_call(&agreements, &st.quotas, &base, persons)
    };
    if let DecisionCode::Denied(code) = d.code {
        let o = Outcome {
            status: code.http_status(),
            decision: code.code().into(),
            clause: d.clause.to_string(),
            pks_id: pks_of(&d),
            subject: None,
        };
        return Err(finish(st, ctx, o, refuse(code, ctx.en, d.retry_after_secs)).await);
    }
    let id = pks_of(&d).unwrap_or_default();
    let Some(agreement) = agreements.iter().find(|a| a.id == id).cloned() else {
        return Err(refuse_audited(st, ctx, ErrorCode::NoAgreement, "default-deny").await);
    };
    Ok(BatchGrant {
        agreement,
        granted: d.fields_granted,
    })
}

/// Streaming NDJSON batch: one line in, one line out, in order. One call-level decision
/// ([`decide_batch`]), then per line the region scope; one audit entry per line (with its
/// subject hash), written before the line's chunk is sent.
async fn batch(
    st: Arc<AppState>,
    mut ctx: Ctx,
    client: ClientId,
    service: ServiceId,
    kind: Kind,
    query: Option<String>,
    body: Bytes,
) -> Response {
    let params: BatchParams = batch_params(query.as_deref());
    let fields = field_list(params.fields.as_deref());
    let persons = count_lines(&body);
    let grant = match decide_batch(&st, &mut ctx, client, service, fields, persons).await {
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
pub(crate) fn split_lines(body: &Bytes) -> Vec<Line> {
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
        let mut replay = ctx.replay;
        while lines.peek().is_some() {
            let group: Vec<Line> = lines.by_ref().take(chunk.max(1)).collect();
            let Some((out, recs)) = work(group, ctx.clone()).await else {
                let _ = tx
                    .send(Err(std::io::Error::other("batch worker failed")))
                    .await;
                return;
            };
            let receipt = st.audit.submit_with(recs, replay.take());
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
    let q: Query = match services::json_object::<Query>(line) {
        Some(q) => q,
        None => {
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
