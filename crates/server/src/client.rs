//! Node-to-node calls: signed with the calling member's Ed25519 key (RFC 9421, Sinergi
//! profile), over HTTP/1.1 or HTTPS (hyper-util's client with hyper-rustls, ring provider;
//! peers' certificates checked against `[tls] ca_file`, else the Mozilla roots).

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sinergi_exchange::httpsig::{SignOptions, new_nonce, sign_request};
use sinergi_exchange::{ClientId, ServiceId};

use crate::config::ConfigError;
use crate::state::{AppState, Hosted};

/// The HTTP client type (`http://` and `https://` URLs).
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client trusting `tls.ca_file` of the configuration (else the Mozilla roots).
pub fn new_client(tls: Option<&crate::config::TlsConfig>) -> Result<HttpClient, ConfigError> {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    let tls = crate::tls::client_config(tls.and_then(|t| t.ca_file.as_deref()))?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(64)
        .build(https))
}

/// Why a call to another node failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("no node provides service {0}")]
    NoRoute(String),
    #[error("calling member {0} is not hosted here")]
    NotHosted(String),
    #[error("signing: {0}")]
    Sign(String),
    #[error("http: {0}")]
    Http(String),
    #[error("no complete answer within {0} s")]
    Timeout(u64),
    #[error("provider refused with {status}: {code}")]
    Refused { status: u16, code: String },
    #[error("answer is not JSON: {0}")]
    BadAnswer(String),
}

/// What a call says about the request, for the X-Road headers.
#[derive(Debug, Clone, Default)]
pub struct CallMeta<'a> {
    pub request_id: &'a str,
    pub user_id: &'a str,
    pub issue: &'a str,
    pub purpose: &'a str,
    pub pks: Option<&'a str>,
}

/// Signs and sends `body` (JSON) from a hosted member to whichever node provides
/// `service_code`; returns the JSON answer of a 2xx response.
pub async fn call(
    st: &AppState,
    from: &ClientId,
    service_code: &str,
    body: &serde_json::Value,
    meta: &CallMeta<'_>,
) -> Result<serde_json::Value, CallError> {
    let (hosted, url) = resolve(st, from, service_code)?;
    let bytes = serde_json::to_vec(body).map_err(|e| CallError::Sign(e.to_string()))?;
    let timeout = st.config.peer_timeout();
    let (status, answer) =
        send_signed(&st.client, hosted, "POST", &url, bytes, meta, timeout).await?;
    if !(200..300).contains(&status) {
        return Err(refused(status, &answer));
    }
    serde_json::from_slice(&answer).map_err(|e| CallError::BadAnswer(e.to_string()))
}

/// Signs and sends `lines` as NDJSON to whichever node provides the batch service
/// `service_code` (`...-batch`), with `query` (e.g. `fields=nama,tgl_lahir`) on the URL;
/// returns the answer lines of a 2xx response, in order. A provider answers one line per line
/// asked; an answer with more lines than asked is not believed. It may have fewer (its audit
/// failed mid-way and it stopped): the caller treats the missing lines as not asked.
pub async fn call_batch<L: serde::Serialize>(
    st: &AppState,
    from: &ClientId,
    service_code: &str,
    query: &str,
    lines: &[L],
    meta: &CallMeta<'_>,
) -> Result<Vec<serde_json::Value>, CallError> {
    let answer = send_batch(st, from, service_code, query, lines, meta).await?;
    let mut out = Vec::with_capacity(lines.len());
    for l in answer_lines(&answer) {
        out.push(serde_json::from_slice(l).map_err(|e| CallError::BadAnswer(e.to_string()))?);
    }
    believed(out, lines.len())
}

/// [`call_batch`], each answer line read straight into `T` (no JSON tree in between): `None`
/// for a line that is JSON but not a `T`; an answer line that is not JSON fails the call, as
/// in [`call_batch`].
pub async fn call_batch_as<L: serde::Serialize, T: serde::de::DeserializeOwned>(
    st: &AppState,
    from: &ClientId,
    service_code: &str,
    query: &str,
    lines: &[L],
    meta: &CallMeta<'_>,
) -> Result<Vec<Option<T>>, CallError> {
    let answer = send_batch(st, from, service_code, query, lines, meta).await?;
    let mut out = Vec::with_capacity(lines.len());
    for l in answer_lines(&answer) {
        out.push(match serde_json::from_slice::<T>(l) {
            Ok(t) => Some(t),
            Err(e) => {
                serde_json::from_slice::<serde::de::IgnoredAny>(l)
                    .map_err(|_| CallError::BadAnswer(e.to_string()))?;
                None
            }
        });
    }
    believed(out, lines.len())
}

/// The non-blank lines of an NDJSON answer.
fn answer_lines(answer: &[u8]) -> impl Iterator<Item = &[u8]> {
    answer
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
}

fn believed<T>(out: Vec<T>, asked: usize) -> Result<Vec<T>, CallError> {
    if out.len() > asked {
        return Err(CallError::BadAnswer(format!(
            "{} lines answered for {asked} asked",
            out.len(),
        )));
    }
    Ok(out)
}

/// Sends a batch call; the body of its 2xx answer.
async fn send_batch<L: serde::Serialize>(
    st: &AppState,
    from: &ClientId,
    service_code: &str,
    query: &str,
    lines: &[L],
    meta: &CallMeta<'_>,
) -> Result<Bytes, CallError> {
    let (hosted, url) = resolve(st, from, service_code)?;
    let url = if query.is_empty() {
        url
    } else {
        format!("{url}?{query}")
    };
    let mut body = Vec::with_capacity(lines.len() * 96);
    for l in lines {
        serde_json::to_writer(&mut body, l).map_err(|e| CallError::Sign(e.to_string()))?;
        body.push(b'\n');
    }
    let (status, answer) = send_signed_as(
        &st.client,
        hosted,
        "POST",
        &url,
        "application/x-ndjson",
        body,
        meta,
        st.config.peer_timeout(),
    )
    .await?;
    if !(200..300).contains(&status) {
        return Err(refused(status, &answer));
    }
    Ok(answer)
}

/// The hosted member that calls, and the URL of the node providing `service_code`.
fn resolve<'a>(
    st: &'a AppState,
    from: &ClientId,
    service_code: &str,
) -> Result<(&'a Hosted, String), CallError> {
    let route = st
        .routes
        .get(service_code)
        .ok_or_else(|| CallError::NoRoute(service_code.into()))?;
    let hosted = st
        .hosted
        .get(from)
        .ok_or_else(|| CallError::NotHosted(from.to_string()))?;
    let base = match &route.base_url {
        Some(b) => b.clone(),
        None => match st.local_addr.get() {
            Some(a) => format!("{}://{a}", st.config.scheme()),
            None => return Err(CallError::NoRoute(service_code.into())),
        },
    };
    let service = ServiceId::new(route.provider.clone(), service_code)
        .map_err(|e| CallError::NoRoute(e.to_string()))?;
    Ok((hosted, format!("{base}{}", service.to_path())))
}

/// The refusal of a non-2xx answer, with the provider's code when it sent one.
fn refused(status: u16, answer: &[u8]) -> CallError {
    let code = serde_json::from_slice::<serde_json::Value>(answer)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .unwrap_or_default();
    CallError::Refused { status, code }
}

/// Sends a signed JSON request; returns status and body (see [`send_signed_as`]).
pub async fn send_signed(
    client: &HttpClient,
    from: &Hosted,
    method: &str,
    url: &str,
    body: Vec<u8>,
    meta: &CallMeta<'_>,
    timeout: std::time::Duration,
) -> Result<(u16, Bytes), CallError> {
    send_signed_as(
        client,
        from,
        method,
        url,
        "application/json",
        body,
        meta,
        timeout,
    )
    .await
}

/// Sends a signed request with the given content type; returns status and body, or
/// [`CallError::Timeout`] when the whole answer has not arrived within `timeout`.
#[allow(clippy::too_many_arguments)]
pub async fn send_signed_as(
    client: &HttpClient,
    from: &Hosted,
    method: &str,
    url: &str,
    content_type: &str,
    body: Vec<u8>,
    meta: &CallMeta<'_>,
    timeout: std::time::Duration,
) -> Result<(u16, Bytes), CallError> {
    let mut headers: Vec<(&str, String)> = vec![
        ("x-road-client", from.id.to_string()),
        ("x-road-id", meta.request_id.to_owned()),
        ("x-sinergi-purpose", meta.purpose.to_owned()),
    ];
    if !meta.user_id.is_empty() {
        headers.push(("x-road-userid", meta.user_id.to_owned()));
    }
    if !meta.issue.is_empty() {
        headers.push(("x-road-issue", meta.issue.to_owned()));
    }
    if let Some(p) = meta.pks {
        headers.push(("x-sinergi-pks", p.to_owned()));
    }
    let covered: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
    let now = crate::now().as_secs();
    let nonce = new_nonce().map_err(|e| CallError::Sign(e.to_string()))?;
    let signed = sign_request(
        &from.key,
        method,
        url,
        headers.as_slice(),
        &body,
        &SignOptions {
            label: "sig1",
            key_id: &from.key_id,
            created: now,
            expires: now + 60,
            nonce: &nonce,
            extra_components: &covered,
        },
    )
    .map_err(|e| CallError::Sign(e.to_string()))?;
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", content_type)
        .header("content-digest", signed.content_digest)
        .header("signature-input", signed.signature_input)
        .header("signature", signed.signature);
    for (k, v) in &headers {
        req = req.header(*k, v);
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| CallError::Http(e.to_string()))?;
    let exchange = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| CallError::Http(e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| CallError::Http(e.to_string()))?
            .to_bytes();
        Ok((status, bytes))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| CallError::Timeout(timeout.as_secs()))?
}

/// Sends `body` (NDJSON) to a node's batch service with an API token (a system inside the
/// provider's agency: `sinergi validasi`), `headers` naming the client, request id, purpose
/// and language; hands the number of answer lines received so far to `on_lines` as the
/// answer streams in. Returns the status and the whole answer. No overall time limit: a
/// list of a million rows takes minutes; a node that stops sending for `idle` fails.
pub async fn post_with_token(
    client: &HttpClient,
    url: &str,
    token: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    idle: std::time::Duration,
    on_lines: &mut (dyn FnMut(u64) + Send),
) -> Result<(u16, Bytes), CallError> {
    let mut req = hyper::Request::builder()
        .method("POST")
        .uri(url)
        .header("content-type", "application/x-ndjson")
        .header("authorization", format!("Bearer {token}"));
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| CallError::Http(e.to_string()))?;
    let resp = tokio::time::timeout(idle, client.request(req))
        .await
        .map_err(|_| CallError::Timeout(idle.as_secs()))?
        .map_err(|e| CallError::Http(causes(&e)))?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut out = Vec::new();
    let mut lines = 0u64;
    loop {
        let frame = tokio::time::timeout(idle, body.frame())
            .await
            .map_err(|_| CallError::Timeout(idle.as_secs()))?;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| CallError::Http(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            lines += data.iter().filter(|b| **b == b'\n').count() as u64;
            out.extend_from_slice(&data);
            on_lines(lines);
        }
    }
    Ok((status, Bytes::from(out)))
}

/// An error and its causes, `a: b: c` (hyper's own message alone says only "client error").
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(c) = next {
        out.push_str(": ");
        out.push_str(&c.to_string());
        next = c.source();
    }
    out
}
