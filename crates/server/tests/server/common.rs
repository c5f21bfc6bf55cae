//! Test harness: real nodes on 127.0.0.1:0 with temporary SQLite stores (zero2prod style).

use std::path::Path;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use sinergi_exchange::httpsig::{SignOptions, generate_signing_key, new_nonce, sign_request};
use sinergi_exchange::token::{NewToken, token_from_bytes};
use sinergi_exchange::{Agreement, ClientId, Quota, RegionScope, ServiceGrant, SigningKey};
use sinergi_model::standard::{Record, Table, Value as V};
use sinergi_server::config::{MemberConfig, NodeConfig, PeerConfig, PeerMember, TokenConfig};
use sinergi_server::config::{public_key_b64, token_hash_hex};
use sinergi_server::{Running, spawn};
use sinergi_store::{DatasetMeta, LoadMode, LoadStats, Store};

pub const DUKCAPIL: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA";
pub const BPJS: &str = "ID/GOV/BPJS-KESEHATAN/KEPESERTAAN";
pub const KEMENSOS: &str = "ID/GOV/KEMENSOS/BANSOS";
pub const DINSOS: &str = "ID/GOV/DINSOS-3301/BANSOS";

/// A person in Cilacap (33.01), female, born 1990-05-15.
pub const NIK_CILACAP: &str = "3301015505900001";
/// A person in Surabaya (35.78), male, born 1985-01-02, deceased.
pub const NIK_SURABAYA: &str = "3578010201850002";

pub fn cid(s: &str) -> ClientId {
    ClientId::parse_header(s).unwrap()
}

pub fn admin_token() -> NewToken {
    token_from_bytes(&[7; 32])
}

pub fn text(s: &str) -> V {
    V::Text(s.into())
}

fn meta(name: &str, table: Table, agency: &str) -> DatasetMeta {
    DatasetMeta {
        name: name.into(),
        table,
        owner_agency: agency.into(),
        description: "test".into(),
        reference_codes: vec![],
        update_cadence: "monthly".into(),
    }
}

pub fn person(nik: &str, kk: &str, name: &str, sex: &str, birth: &str, region: &str) -> Record {
    let mut values = vec![V::Null; Table::Person.fields().len()];
    let set =
        |values: &mut Vec<V>, f: &str, v: V| values[Table::Person.field_index(f).unwrap()] = v;
    set(&mut values, "nik", text(nik));
    set(&mut values, "kk", text(kk));
    set(&mut values, "name", text(name));
    set(&mut values, "sex", text(sex));
    set(&mut values, "birth_date", text(birth));
    set(&mut values, "region", text(region));
    set(&mut values, "address", text("JL. MAWAR 1"));
    Record {
        table: Table::Person,
        values,
    }
}

pub async fn load(store: &Store, name: &str, table: Table, agency: &str, rows: Vec<Record>) {
    let mut l = store
        .begin_load(&meta(name, table, agency), LoadMode::Snapshot)
        .await
        .unwrap();
    l.insert(&rows).await.unwrap();
    l.commit(LoadStats::default()).await.unwrap();
}

/// Dukcapil's registry: two persons (one deceased) and `extra` more in Cilacap.
pub async fn seed_dukcapil(db: &Path, extra: usize) {
    let store = Store::open(Some(&format!("sqlite://{}", db.display())))
        .await
        .unwrap();
    let mut rows = vec![
        person(
            NIK_CILACAP,
            "3301010101100001",
            "SITI AMINAH",
            "P",
            "1990-05-15",
            "3301012001",
        ),
        person(
            NIK_SURABAYA,
            "3578010101100002",
            "BUDI SANTOSO",
            "L",
            "1985-01-02",
            "3578011001",
        ),
    ];
    for i in 0..extra {
        let nik = format!("330101010190{:04}", i % 10_000);
        if i >= 10_000 {
            break;
        }
        rows.push(person(
            &nik,
            "3301010101100009",
            "WARGA UJI",
            "L",
            "1990-01-01",
            "3301012001",
        ));
    }
    load(&store, "dukcapil-penduduk", Table::Person, "Dukcapil", rows).await;
    let mut death = vec![V::Null; Table::Death.fields().len()];
    death[Table::Death.field_index("nik").unwrap()] = text(NIK_SURABAYA);
    death[Table::Death.field_index("death_date").unwrap()] = text("2025-03-01");
    load(
        &store,
        "dukcapil-kematian",
        Table::Death,
        "Dukcapil",
        vec![Record {
            table: Table::Death,
            values: death,
        }],
    )
    .await;
    store.close().await;
}

pub async fn seed_bpjs(db: &Path) {
    let store = Store::open(Some(&format!("sqlite://{}", db.display())))
        .await
        .unwrap();
    let t = Table::HealthMembership;
    let mut v = vec![V::Null; t.fields().len()];
    let i = |f: &str| t.field_index(f).unwrap();
    v[i("card_no")] = text("0001234567890");
    v[i("nik")] = text(NIK_CILACAP);
    v[i("segment")] = text("PBI_APBN");
    v[i("active")] = V::Bool(true);
    v[i("catastrophic")] = V::Bool(false);
    load(
        &store,
        "bpjs-kesehatan",
        t,
        "BPJS Kesehatan",
        vec![Record {
            table: t,
            values: v,
        }],
    )
    .await;
    store.close().await;
}

/// A key for a member, written to a file the node reads.
pub fn key_file(dir: &Path, name: &str) -> (SigningKey, std::path::PathBuf) {
    let key = generate_signing_key().unwrap();
    let path = dir.join(format!("{name}.key"));
    use base64::Engine as _;
    std::fs::write(
        &path,
        base64::engine::general_purpose::STANDARD.encode(key.to_bytes()),
    )
    .unwrap();
    (key, path)
}

pub fn member(id: &str, key: Option<std::path::PathBuf>, services: &[&str]) -> MemberConfig {
    MemberConfig {
        id: cid(id),
        name: id.into(),
        key_file: key,
        key_id: None,
        services: services.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn peer(base_url: &str, id: &str, key: &SigningKey, services: &[&str]) -> PeerConfig {
    PeerConfig {
        base_url: base_url.into(),
        members: vec![PeerMember {
            id: cid(id),
            name: id.into(),
            key_id: format!("{id}#1"),
            public_key: public_key_b64(key),
            services: services.iter().map(|s| s.to_string()).collect(),
        }],
    }
}

pub fn token_for(client: &str, seed: u8) -> (NewToken, TokenConfig) {
    let t = token_from_bytes(&[seed; 32]);
    let cfg = TokenConfig {
        hash: token_hash_hex(&t.hash),
        client: cid(client),
        label: "test".into(),
        expires_at: None,
        revoked_at: None,
    };
    (t, cfg)
}

/// A configuration for a node with its data in `dir`.
pub fn config(dir: &Path, name: &str) -> NodeConfig {
    let mut c = NodeConfig::parse("test", "").unwrap();
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.node_name = name.into();
    c.data_dir = dir.to_path_buf();
    c.reload_secs = 0;
    c.checkpoint_every = 100;
    c.admin_token_hashes = vec![token_hash_hex(&admin_token().hash)];
    c
}

pub struct Node {
    pub running: Running,
    pub base: String,
}

pub async fn start(c: NodeConfig) -> Node {
    let running = spawn(c).await.expect("node starts");
    let base = format!("http://{}", running.addr);
    Node { running, base }
}

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn http() -> HttpClient {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

pub struct Resp {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
    /// The body as NDJSON: one value per non-empty line.
    pub fn ndjson(&self) -> Vec<Value> {
        self.body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_slice(l)
                    .unwrap_or_else(|_| panic!("line not JSON: {}", String::from_utf8_lossy(l)))
            })
            .collect()
    }
}

pub async fn send(
    c: &HttpClient,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Resp {
    let mut b = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let resp = c
        .request(b.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body,
    }
}

/// How to sign a test request.
pub struct Signer<'a> {
    pub client: &'a str,
    pub key: &'a SigningKey,
    pub key_id: String,
    pub created: i64,
    pub expires: i64,
    pub nonce: String,
}

impl<'a> Signer<'a> {
    pub fn new(client: &'a str, key: &'a SigningKey) -> Signer<'a> {
        let now = sinergi_server::now().as_secs();
        Signer {
            client,
            key,
            key_id: format!("{client}#1"),
            created: now,
            expires: now + 60,
            nonce: new_nonce().unwrap(),
        }
    }
}

/// Headers of a signed POST: X-Road headers, purpose, optional PKS, and the signature.
pub fn signed_headers(
    s: &Signer<'_>,
    url: &str,
    purpose: &str,
    pks: Option<&str>,
    request_id: &str,
    body: &[u8],
) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = vec![
        ("x-road-client".into(), s.client.into()),
        ("x-road-id".into(), request_id.into()),
        ("x-sinergi-purpose".into(), purpose.into()),
        ("content-type".into(), "application/json".into()),
    ];
    let mut covered = vec!["x-road-client", "x-road-id", "x-sinergi-purpose"];
    if let Some(p) = pks {
        h.push(("x-sinergi-pks".into(), p.into()));
        covered.push("x-sinergi-pks");
    }
    let signed = sign_request(
        s.key,
        "POST",
        url,
        h.as_slice(),
        body,
        &SignOptions {
            label: "sig1",
            key_id: &s.key_id,
            created: s.created,
            expires: s.expires,
            nonce: &s.nonce,
            extra_components: &covered,
        },
    )
    .unwrap();
    h.push(("content-digest".into(), signed.content_digest));
    h.push(("signature-input".into(), signed.signature_input));
    h.push(("signature".into(), signed.signature));
    h
}

pub fn admin_headers() -> Vec<(String, String)> {
    vec![(
        "authorization".into(),
        format!("Bearer {}", admin_token().plaintext),
    )]
}

/// The last `n` audit entries of a node.
pub async fn last_entries(c: &HttpClient, base: &str, n: usize) -> Vec<Value> {
    let r = send(
        c,
        "GET",
        &format!("{base}/admin/audit/entries?limit={n}"),
        &admin_headers(),
        vec![],
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["entries"].as_array().unwrap().clone()
}

/// The audit entry written for a request id.
pub async fn entry_for(c: &HttpClient, base: &str, request_id: &str) -> Value {
    let entries = last_entries(c, base, 1000).await;
    entries
        .into_iter()
        .rev()
        .find(|e| e["request_id"] == request_id)
        .unwrap_or_else(|| panic!("no audit entry for {request_id}"))
}

/// A national agreement granting one service (and `fields`) for VALIDASI_BANSOS, valid
/// 2025–2030, 100/s and 10,000/day.
pub fn agreement(
    id: &str,
    provider: &str,
    consumer: &str,
    service: &str,
    fields: &[&str],
) -> Agreement {
    Agreement {
        id: id.into(),
        provider: cid(provider),
        consumer: cid(consumer),
        services: vec![ServiceGrant {
            service_code: service.into(),
            fields: fields.iter().map(|s| s.to_string()).collect(),
        }],
        purposes: vec!["VALIDASI_BANSOS".into()],
        legal_basis: "test".into(),
        region_scope: RegionScope::National,
        valid_from: sinergi_exchange::Timestamp(0),
        valid_until: sinergi_exchange::Timestamp(1),
        quota: Quota {
            per_second: 100,
            per_day: 10_000,
        },
        status_history: vec![],
    }
    .with_dates("2025-01-01", "2030-12-31")
    .unwrap()
}
