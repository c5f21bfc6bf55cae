//! Contract test: the node against its own `/openapi.json`.
//!
//! Walks every operation of the document and calls it with generated inputs (path, query and
//! header parameters valid or hostile, bodies valid, malformed or of the wrong kind), with and
//! without credentials (none, the admin token, an API token, an RFC 9421 signature, a wrong
//! token), and asserts of every answer: no 5xx; the status is declared for that operation; the
//! content type is one declared for that status; a JSON (or NDJSON) body validates against
//! the declared schema. `contract_holds` runs in `cargo test`; `contract_fuzz_long` (ignored)
//! is the longer run, `CONTRACT_CASES=N` cases, and prints its figures (docs/EXCHANGE.md,
//! "Contract test and fuzzing").

use std::collections::BTreeMap;
use std::sync::Mutex;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use sinergi_exchange::httpsig::{SignOptions, new_nonce, sign_request};
use sinergi_exchange::token::NewToken;
use sinergi_exchange::{Quota, RegionScope, ServiceGrant, SigningKey};
use tempfile::TempDir;

use crate::common::*;

const SVC: &str = "verifikasi-identitas";
const LOKET: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/LOKET";

/// One operation of the document.
#[derive(Debug, Clone)]
struct Op {
    method: String,
    path: String,
    params: Vec<Value>,
    body: Option<Value>,
    responses: Value,
}

fn operations(doc: &Value) -> Vec<Op> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let mut params = shared.clone();
            params.extend(op["parameters"].as_array().cloned().unwrap_or_default());
            ops.push(Op {
                method: method.to_uppercase(),
                path: path.clone(),
                params,
                body: op.get("requestBody").cloned(),
                responses: op["responses"].clone(),
            });
        }
    }
    ops
}

// ---------------------------------------------------------------------------------------------
// A JSON Schema subset (what the document uses): $ref, anyOf, oneOf, type, enum, required,
// properties, items, minimum, maximum.

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let mut v = doc;
            for part in r.trim_start_matches("#/").split('/') {
                v = &v[part];
            }
            assert!(!v.is_null(), "dangling $ref {r}");
            resolve(doc, v)
        }
        None => schema,
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn validate(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let s = resolve(doc, schema);
    if let Some(any) = s
        .get("anyOf")
        .or_else(|| s.get("oneOf"))
        .and_then(Value::as_array)
    {
        let errors: Vec<String> = any
            .iter()
            .filter_map(|alt| validate(doc, alt, v, at).err())
            .collect();
        if errors.len() == any.len() {
            return Err(format!("{at}: matches no alternative: {errors:?}"));
        }
    }
    match s.get("type") {
        Some(Value::String(t)) if !type_ok(t, v) => {
            return Err(format!("{at}: not {t}: {v}"));
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_ok(t.as_str().unwrap_or(""), v)) => {
            return Err(format!("{at}: none of {ts:?}: {v}"));
        }
        _ => {}
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        return Err(format!("{at}: {v} not in enum {e:?}"));
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64())
        && n < min
    {
        return Err(format!("{at}: {n} < minimum {min}"));
    }
    if let (Some(max), Some(n)) = (s.get("maximum").and_then(Value::as_f64), v.as_f64())
        && n > max
    {
        return Err(format!("{at}: {n} > maximum {max}"));
    }
    if let Some(o) = v.as_object() {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap_or_default();
            if !o.contains_key(r) {
                return Err(format!("{at}: required {r} missing: {v}"));
            }
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (k, ps) in props {
                if let Some(x) = o.get(k) {
                    validate(doc, ps, x, &format!("{at}.{k}"))?;
                }
            }
            if s.get("additionalProperties") == Some(&Value::Bool(false))
                && let Some(k) = o.keys().find(|k| !props.contains_key(*k))
            {
                return Err(format!("{at}: property {k} not declared"));
            }
        }
    }
    if let (Some(items), Some(a)) = (s.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            validate(doc, items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The node under test

struct Under {
    _dir: TempDir,
    node: Node,
    http: HttpClient,
    doc: Value,
    ops: Vec<Op>,
    dinsos: SigningKey,
    loket: NewToken,
}

async fn node() -> Under {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 50).await;
    let mut c = config(dir.path(), "kontrak");
    c.members.push(member(
        DUKCAPIL,
        None,
        &[SVC, "verifikasi-identitas-batch", "layanan-lain"],
    ));
    let (dinsos, _) = key_file(dir.path(), "dinsos");
    c.peers
        .push(peer("http://127.0.0.1:9", DINSOS, &dinsos, &[]));
    let (loket, t) = token_for(LOKET, 1);
    c.tokens.push(t);
    let quota = Quota {
        per_second: 1_000_000,
        per_day: 1_000_000_000,
    };
    for (id, consumer, scope) in [
        (
            "PKS-DINSOS",
            DINSOS,
            RegionScope::Regions(vec!["33.01".into()]),
        ),
        ("PKS-LOKET", LOKET, RegionScope::National),
    ] {
        let mut a = agreement(id, DUKCAPIL, consumer, SVC, &["nama", "tgl_lahir"]);
        a.services.push(ServiceGrant {
            service_code: format!("{SVC}-batch"),
            fields: vec!["nama".into()],
        });
        a.region_scope = scope;
        a.quota = quota;
        c.agreements.push(a);
    }
    let node = start(c).await;
    let http = http();
    let r = send(
        &http,
        "GET",
        &format!("{}/openapi.json", node.base),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    let ops = operations(&doc);
    Under {
        _dir: dir,
        node,
        http,
        doc,
        ops,
        dinsos,
        loket,
    }
}

// ---------------------------------------------------------------------------------------------
// Generated inputs

/// A value for one parameter or body field: the index picks a valid one or a hostile one.
#[derive(Debug, Clone)]
enum Input {
    Valid(usize),
    Absent,
    Text(String),
    /// Sent as it is in a path or query (escapes that do not decode to UTF-8, a lone `%`).
    Raw(&'static str),
}

#[derive(Debug, Clone, Copy)]
enum Creds {
    None,
    Admin,
    Token,
    Signed,
    WrongToken,
}

#[derive(Debug, Clone)]
enum Body {
    Valid(usize),
    Json(Value),
    Bytes(Vec<u8>),
    Empty,
}

#[derive(Debug, Clone)]
struct Case {
    op: usize,
    creds: Creds,
    inputs: Vec<Input>,
    body: Body,
    content_type: Option<String>,
}

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._~-]{1,12}",
        Just("..".to_owned()),
        Just("%2e%2e".to_owned()),
        Just("ID/GOV/X/Y".to_owned()),
        Just("-1".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("3301015505900001\u{a0}".to_owned()),
        ".{0,24}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,16}".prop_map(Value::String),
        Just(json!("3301015505900001")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("nik".to_owned()),
                    Just("fields".to_owned()),
                    Just("nama".to_owned()),
                    Just("id".to_owned()),
                    Just("seq".to_owned()),
                    "[a-z_]{1,8}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => (0usize..8).prop_map(Input::Valid),
        1 => Just(Input::Absent),
        2 => hostile_text().prop_map(Input::Text),
        1 => prop_oneof![Just("%FF"), Just("%C3%28"), Just("%"), Just("a%2"), Just("%00")]
            .prop_map(Input::Raw),
    ]
}

fn case(n_ops: usize) -> impl Strategy<Value = Case> {
    (
        0..n_ops,
        prop_oneof![
            Just(Creds::None),
            Just(Creds::Admin),
            Just(Creds::Token),
            Just(Creds::Signed),
            Just(Creds::WrongToken)
        ],
        prop::collection::vec(input(), 8),
        prop_oneof![
            4 => (0usize..8).prop_map(Body::Valid),
            2 => json_value().prop_map(Body::Json),
            1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Body::Bytes),
            1 => Just(Body::Empty),
        ],
        prop_oneof![
            6 => Just(None),
            1 => Just(Some("text/plain".to_owned())),
            1 => Just(Some("application/x-ndjson".to_owned())),
        ],
    )
        .prop_map(|(op, creds, inputs, body, content_type)| Case {
            op,
            creds,
            inputs,
            body,
            content_type,
        })
}

/// Valid values for a parameter, by name.
fn valid_values(name: &str, schema: &Value) -> Vec<String> {
    if let Some(e) = schema["enum"].as_array() {
        return e
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect();
    }
    let v: &[&str] = match name {
        "instance" | "instanceId" | "xRoadInstance" => &["ID"],
        "memberClass" => &["GOV"],
        "memberCode" => &["KEMENDAGRI-DUKCAPIL", "DINSOS-3301"],
        "subsystemCode" | "applicationCode" => &["DATA", "BANSOS"],
        "serviceCode" => &[SVC, "verifikasi-identitas-batch", "layanan-lain"],
        "id" => &["PKS-DINSOS", "PKS-LOKET", "PKS-TIDAK-ADA"],
        "from" | "limit" => &["0", "1", "5", "100000"],
        "node" => &["kontrak", "dukcapil"],
        "X-Road-Client" | "Information-Mediator-Client" => &[DINSOS, LOKET],
        "X-Road-Id" => &["kontrak-1"],
        "X-Road-UserId" => &["petugas"],
        "X-Sinergi-Purpose" => &["VALIDASI_BANSOS", "PENAGIHAN"],
        "X-Sinergi-PKS" => &["PKS-DINSOS", "PKS-LOKET"],
        "fields" => &["nama", "nama,tgl_lahir", "alamat"],
        _ => match schema["type"].as_str() {
            Some("integer") => &["0", "7"],
            Some("boolean") => &["true", "false"],
            _ => &["x"],
        },
    };
    v.iter().map(|s| s.to_string()).collect()
}

/// Valid bodies for an operation.
fn valid_bodies(op: &Op) -> Vec<Vec<u8>> {
    let one = |v: Value| serde_json::to_vec(&v).unwrap();
    match (op.method.as_str(), op.path.as_str()) {
        (_, p) if p.ends_with("-batch") => vec![
            format!("{{\"nik\":\"{NIK_CILACAP}\"}}\n{{\"nik\":\"{NIK_SURABAYA}\"}}\n").into_bytes(),
            b"{\"nik\":\"123\"}\n\n".to_vec(),
        ],
        (_, p) if p.starts_with("/r1/") => vec![
            one(json!({"nik": NIK_CILACAP})),
            one(json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH", "fields": ["nama"]})),
            one(json!({"nik": NIK_SURABAYA, "fields": ["alamat"]})),
        ],
        ("POST", "/admin/pks") => {
            let mut a = agreement("PKS-BARU", DUKCAPIL, LOKET, SVC, &["nama"]);
            a.quota = Quota {
                per_second: 5,
                per_day: 5,
            };
            vec![serde_json::to_vec(&a).unwrap(), one(json!({"id": "PKS-X"}))]
        }
        ("POST", "/admin/pks/{id}/{action}") => {
            vec![one(json!({"by": "uji", "reason": "kontrak"})), Vec::new()]
        }
        ("POST", "/admin/audit/subject") => {
            vec![one(json!({"nik": NIK_CILACAP})), one(json!({"nik": "12"}))]
        }
        ("POST", "/witness/checkpoints") => vec![one(json!({
            "node": "dukcapil", "seq": 1, "head_hash": "00".repeat(32), "at": 0,
            "signature": "AA=="}))],
        _ => vec![one(json!({}))],
    }
}

/// Characters a path segment or query value may carry as they are; anything else escaped.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A header value (visible ASCII only; anything else replaced).
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

struct Built {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn build(u: &Under, c: &Case) -> Built {
    let op = &u.ops[c.op];
    let mut path = op.path.clone();
    let mut query: Vec<String> = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    for (i, p) in op.params.iter().enumerate() {
        let name = p["name"].as_str().unwrap_or_default();
        let place = p["in"].as_str().unwrap_or_default();
        let valid = valid_values(name, &p["schema"]);
        let value = match (&c.inputs[i % c.inputs.len()], place) {
            (Input::Absent, "path") => Some(valid[0].clone()),
            (Input::Absent, _) => None,
            (Input::Valid(k), _) => Some(valid[k % valid.len()].clone()),
            (Input::Text(t), "path") if t.is_empty() => Some(valid[0].clone()),
            (Input::Text(t), _) => Some(t.clone()),
            (Input::Raw(r), "path" | "query") => {
                if place == "path" {
                    path = path.replace(&format!("{{{name}}}"), r);
                } else {
                    query.push(format!("{name}={r}"));
                }
                continue;
            }
            (Input::Raw(_), _) => None,
        };
        let Some(v) = value else { continue };
        match place {
            "path" => path = path.replace(&format!("{{{name}}}"), &escape(&v)),
            "query" => query.push(format!("{name}={}", escape(&v))),
            "header" => headers.push((name.to_owned(), header_safe(&v))),
            _ => {}
        }
    }
    let mut url = format!("{}{path}", u.node.base);
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    let (body, declared_ct) = match &op.body {
        None => (Vec::new(), None),
        Some(rb) => {
            let ct = rb["content"]
                .as_object()
                .and_then(|m| m.keys().next().cloned());
            let body = match &c.body {
                Body::Valid(k) => {
                    let v = valid_bodies(op);
                    v[k % v.len()].clone()
                }
                Body::Json(v) => serde_json::to_vec(v).unwrap(),
                Body::Bytes(b) => b.clone(),
                Body::Empty => Vec::new(),
            };
            (body, ct)
        }
    };
    if let Some(ct) = c.content_type.clone().or(declared_ct)
        && (!body.is_empty() || c.content_type.is_some())
    {
        headers.push(("content-type".into(), ct));
    }
    let client_claimed = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-road-client"))
        .map(|(_, v)| v.clone());
    match c.creds {
        Creds::None => {}
        Creds::Admin => headers.push((
            "authorization".into(),
            format!("Bearer {}", admin_token().plaintext),
        )),
        Creds::Token => {
            headers.push((
                "authorization".into(),
                format!("Bearer {}", u.loket.plaintext),
            ));
            if client_claimed.is_none() {
                headers.push(("x-road-client".into(), LOKET.into()));
            }
        }
        Creds::WrongToken => headers.push(("authorization".into(), "Bearer salah".into())),
        Creds::Signed => {
            if client_claimed.is_none() {
                headers.push(("x-road-client".into(), DINSOS.into()));
            }
            let covered: Vec<String> = headers
                .iter()
                .map(|(k, _)| k.to_ascii_lowercase())
                .filter(|k| k.starts_with("x-"))
                .collect();
            let covered: Vec<&str> = covered.iter().map(String::as_str).collect();
            let pairs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let now = sinergi_server::now().as_secs();
            let key_id = format!("{DINSOS}#1");
            let nonce = new_nonce().unwrap();
            if let Ok(s) = sign_request(
                &u.dinsos,
                &op.method,
                &url,
                pairs.as_slice(),
                &body,
                &SignOptions {
                    label: "sig1",
                    key_id: &key_id,
                    created: now,
                    expires: now + 60,
                    nonce: &nonce,
                    extra_components: &covered,
                },
            ) {
                headers.push(("content-digest".into(), s.content_digest));
                headers.push(("signature-input".into(), s.signature_input));
                headers.push(("signature".into(), s.signature));
            }
        }
    }
    Built {
        method: op.method.clone(),
        url,
        headers,
        body,
    }
}

/// The media type without parameters, lower case.
fn media(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Checks one answer against the operation; the reason when it contradicts the document.
fn check(u: &Under, op: &Op, status: u16, ct: &str, body: &[u8]) -> Result<(), String> {
    if status >= 500 {
        return Err(format!(
            "server error {status}: {}",
            String::from_utf8_lossy(body)
        ));
    }
    let declared = op
        .responses
        .get(status.to_string())
        .or_else(|| op.responses.get("default"))
        .ok_or_else(|| {
            format!(
                "status {status} not declared: {}",
                String::from_utf8_lossy(body)
            )
        })?;
    let Some(content) = declared.get("content").and_then(Value::as_object) else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(format!("{status}: a body where none is declared"))
        };
    };
    let m = media(ct);
    let Some(schema) = content.get(&m).map(|c| &c["schema"]) else {
        return Err(format!(
            "{status}: content type {ct:?} not among {:?}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    match m.as_str() {
        "application/json" => {
            let v: Value = serde_json::from_slice(body).map_err(|e| {
                format!(
                    "{status}: not JSON ({e}): {}",
                    String::from_utf8_lossy(body)
                )
            })?;
            validate(&u.doc, schema, &v, "$")
        }
        "application/x-ndjson" => {
            for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let v: Value = serde_json::from_slice(line)
                    .map_err(|e| format!("{status}: an NDJSON line is not JSON ({e})"))?;
                validate(&u.doc, schema, &v, "$line")?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Figures of a run.
#[derive(Default, Debug)]
struct Tally {
    requests: u64,
    by_op: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
}

fn run(cases: u32) -> (Tally, usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let u = rt.block_on(node());
    // Every route the router serves (crates/server/src/lib.rs, `app`) is in the document,
    // each with its path parameters declared, and every admin operation says what an
    // unauthenticated caller gets.
    let mut routes: Vec<String> = [
        "/listClients",
        "/r1/listClients",
        "/r1/{instance}/listClients",
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/admin/pks",
        "/admin/pks/{id}/{action}",
        "/admin/audit/verify",
        "/admin/audit/entries",
        "/admin/audit/checkpoints",
        "/admin/audit/checkpoint",
        "/admin/audit/subject",
        "/admin/snapshot/reload",
        "/witness/checkpoints",
    ]
    .map(String::from)
    .to_vec();
    for meta in ["listMethods", "allowedMethods", "getOpenAPI"] {
        routes.push(format!(
            "/r1/{{instance}}/{{memberClass}}/{{memberCode}}/{{subsystemCode}}/{meta}"
        ));
        routes.push(format!(
            "/{{instanceId}}/{{memberClass}}/{{memberCode}}/{{applicationCode}}/{meta}"
        ));
    }
    for code in [SVC, "verifikasi-identitas-batch", "layanan-lain"] {
        routes.push(format!("/r1/{DUKCAPIL}/{code}"));
    }
    for r in &routes {
        assert!(
            u.doc["paths"].get(r).is_some(),
            "{r} is not in /openapi.json"
        );
    }
    for op in &u.ops {
        for seg in op.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                assert!(
                    op.params
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path"),
                    "{} {}: path parameter {name} undeclared",
                    op.method,
                    op.path
                );
            }
        }
        if op.path.starts_with("/admin/") {
            assert!(
                op.responses.get("401").is_some(),
                "{} {}: no 401",
                op.method,
                op.path
            );
        }
    }
    let tally = Mutex::new(Tally::default());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(u.ops.len()), |c| {
        let op = &u.ops[c.op];
        // The same request with the generated credentials and with none.
        for creds in [c.creds, Creds::None] {
            let b = build(&u, &Case { creds, ..c.clone() });
            if b.url.parse::<hyper::Uri>().is_err() {
                // Not a request a client could send.
                continue;
            }
            let r = rt.block_on(send(&u.http, &b.method, &b.url, &b.headers, b.body));
            let ct = r
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            {
                let mut t = tally.lock().unwrap();
                t.requests += 1;
                *t.by_op
                    .entry(format!("{} {}", op.method, op.path))
                    .or_default() += 1;
                *t.by_status.entry(r.status).or_default() += 1;
            }
            check(&u, op, r.status, &ct, &r.body).map_err(|e| {
                TestCaseError::fail(format!("{} {} ({creds:?}): {e}", b.method, b.url))
            })?;
        }
        Ok(())
    });
    let n_ops = u.ops.len();
    rt.block_on(u.node.running.stop()).unwrap();
    if let Err(e) = result {
        panic!("{e}");
    }
    (tally.into_inner().unwrap(), n_ops)
}

fn report(t: &Tally) {
    println!(
        "contract: {} requests, {} operations called",
        t.requests,
        t.by_op.len()
    );
    for (s, n) in &t.by_status {
        println!("  status {s}: {n}");
    }
    for (o, n) in &t.by_op {
        println!("  {o}: {n}");
    }
}

#[test]
fn contract_holds() {
    let (t, doc_ops) = run(400);
    report(&t);
    // Every operation of the document was called.
    assert!(doc_ops >= 25, "{doc_ops} operations");
    assert_eq!(t.by_op.len(), doc_ops, "{:?}", t.by_op.keys());
}

/// The longer run: `CONTRACT_CASES=20000 cargo test -p sinergi-server --test server --release
/// contract_fuzz_long -- --ignored --nocapture`.
#[test]
#[ignore]
fn contract_fuzz_long() {
    let cases = std::env::var("CONTRACT_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let started = std::time::Instant::now();
    let (t, _) = run(cases);
    report(&t);
    println!("  in {:.1} s", started.elapsed().as_secs_f64());
}
