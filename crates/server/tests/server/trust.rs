//! Exchange trust, part two (issue 14): each hole a reviewer found, as the request that
//! exposed it. Every test here failed on the node before the fix.

use std::time::Duration;

use serde_json::{Value, json};
use sinergi_exchange::httpsig::{SignOptions, sign_request};
use sinergi_exchange::{Quota, RegionScope, ServiceGrant};
use sinergi_model::standard::{Record, Table, Value as V};
use tempfile::TempDir;

use crate::common::*;

const SVC: &str = "verifikasi-identitas";
const LOKET: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/LOKET";
const APLIKASI: &str = "ID/GOV/KEMENSOS/APLIKASI";

/// A free port on 127.0.0.1 (a node restarted on it keeps the signed `@target-uri`).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Dukcapil node: DINSOS under a regional (33.01) agreement, LOKET (own agency, token)
/// under a national one with `per_day` persons a day.
fn dukcapil_config(
    dir: &std::path::Path,
    dinsos: &sinergi_exchange::SigningKey,
) -> (
    sinergi_server::NodeConfig,
    sinergi_exchange::token::NewToken,
) {
    let mut c = config(dir, "dukcapil");
    c.members
        .push(member(DUKCAPIL, None, &[SVC, "verifikasi-identitas-batch"]));
    c.peers
        .push(peer("http://127.0.0.1:9", DINSOS, dinsos, &[]));
    let (loket, t) = token_for(LOKET, 1);
    c.tokens.push(t);
    let mut regional = agreement("PKS-DINSOS", DUKCAPIL, DINSOS, SVC, &["nama"]);
    regional.services.push(ServiceGrant {
        service_code: format!("{SVC}-batch"),
        fields: vec!["nama".into()],
    });
    regional.region_scope = RegionScope::Regions(vec!["33.01".into()]);
    c.agreements.push(regional);
    let mut national = agreement("PKS-LOKET", DUKCAPIL, LOKET, SVC, &["nama"]);
    national.services.push(ServiceGrant {
        service_code: format!("{SVC}-batch"),
        fields: vec!["nama".into()],
    });
    c.agreements.push(national);
    (c, loket)
}

fn token_headers(
    t: &sinergi_exchange::token::NewToken,
    client: &str,
    rid: &str,
) -> Vec<(String, String)> {
    vec![
        ("authorization".into(), format!("Bearer {}", t.plaintext)),
        ("x-road-client".into(), client.into()),
        ("x-road-id".into(), rid.into()),
        ("x-sinergi-purpose".into(), "VALIDASI_BANSOS".into()),
    ]
}

/// Hole 2: the nonce cache was in memory only; a signed request replayed to the restarted
/// node was answered with data.
#[tokio::test]
async fn a_signed_request_is_not_replayable_after_a_restart() {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 0).await;
    let (dinsos, _) = key_file(dir.path(), "dinsos");
    let port = free_port();
    let (mut c, _) = dukcapil_config(dir.path(), &dinsos);
    c.listen = format!("127.0.0.1:{port}").parse().unwrap();
    let node = start(c.clone()).await;
    let http = http();
    let url = format!("{}/r1/{DUKCAPIL}/{SVC}", node.base);
    let body = serde_json::to_vec(&json!({"nik": NIK_CILACAP, "fields": ["nama"]})).unwrap();
    let s = Signer::new(DINSOS, &dinsos);
    let h = signed_headers(&s, &url, "VALIDASI_BANSOS", None, "replay-1", &body);
    let r = send(&http, "POST", &url, &h, body.clone()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    node.running.stop().await.unwrap();

    let node = start(c).await;
    let r = send(&http, "POST", &url, &h, body).await;
    assert_eq!(r.status, 401, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.code(), "SIGNATURE_REPLAYED");
    assert!(!String::from_utf8_lossy(&r.body).contains("SITI"));
    node.running.stop().await.unwrap();
}

/// Hole 4: quotas counted calls; a `per_day = 10` agreement answered a 1,000-NIK batch.
/// Hole 7: under a regional agreement an ungranted field in a batch was answered 200 with
/// FIELD_NOT_GRANTED per line (and spent quota), under a national one refused at call level.
#[tokio::test]
async fn batches_count_persons_and_refuse_ungranted_fields_at_call_level() {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 1000).await;
    let (dinsos, _) = key_file(dir.path(), "dinsos");
    let (mut c, loket) = dukcapil_config(dir.path(), &dinsos);
    for a in &mut c.agreements {
        a.quota = Quota {
            per_second: 100,
            per_day: 10,
        };
    }
    let node = start(c).await;
    let http = http();
    let lines = |n: usize| {
        let mut b = String::new();
        for i in 0..n {
            b.push_str(&format!("{{\"nik\":\"330101010190{i:04}\"}}\n"));
        }
        b.into_bytes()
    };
    let batch = |q: &str| format!("{}/r1/{DUKCAPIL}/{SVC}-batch{q}", node.base);

    // 1,000 persons under 10 a day: refused whole, with Retry-After, nothing answered.
    let r = send(
        &http,
        "POST",
        &batch(""),
        &token_headers(&loket, LOKET, "q-1000"),
        lines(1000),
    )
    .await;
    assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.code(), "QUOTA_EXCEEDED");
    assert!(r.headers.contains_key("retry-after"));
    // Ten persons fit; the eleventh does not.
    let r = send(
        &http,
        "POST",
        &batch(""),
        &token_headers(&loket, LOKET, "q-10"),
        lines(10),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.ndjson().len(), 10);
    let one = serde_json::to_vec(&json!({"nik": NIK_CILACAP})).unwrap();
    let r = send(
        &http,
        "POST",
        &format!("{}/r1/{DUKCAPIL}/{SVC}", node.base),
        &token_headers(&loket, LOKET, "q-11"),
        one,
    )
    .await;
    assert_eq!(r.status, 429);

    // Regional agreement, ungranted field: refused at call level (as under the national one)
    // and no quota spent: the same batch with a granted field then passes.
    let url = batch("?fields=alamat");
    let body = lines(3);
    let s = Signer::new(DINSOS, &dinsos);
    let h = signed_headers(&s, &url, "VALIDASI_BANSOS", None, "f-regional", &body);
    let r = send(&http, "POST", &url, &h, body.clone()).await;
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.code(), "FIELD_NOT_GRANTED");
    let e = entry_for(&http, &node.base, "f-regional").await;
    assert_eq!(e["clause"], "PKS-DINSOS#fields.verifikasi-identitas-batch");
    let url = batch("?fields=nama");
    let s = Signer::new(DINSOS, &dinsos);
    let h = signed_headers(&s, &url, "VALIDASI_BANSOS", None, "f-ok", &body);
    let r = send(&http, "POST", &url, &h, body).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let out = r.ndjson();
    assert_eq!(out.len(), 3);
    assert!(out.iter().all(|l| l.get("code").is_none()), "{out:?}");
    node.running.stop().await.unwrap();
}

/// One raw HTTP/1.1 exchange over TCP (for paths and methods a client library would
/// normalise or refuse); the status and the whole response text. `None`: the connection was
/// dropped without a status line.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = s.split();
    // Write and read at once: a server may answer (and close) before the request is sent.
    let write = async {
        let _ = wr.write_all(request).await;
    };
    let read = async {
        let mut buf = Vec::new();
        let _ = rd.read_to_end(&mut buf).await;
        buf
    };
    let (_, buf) =
        tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(write, read) })
            .await
            .ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

/// Sends the whole request, then reads the answer; `None` when the connection was reset or
/// closed without a status line.
async fn send_then_read(addr: std::net::SocketAddr, request: &[u8]) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.ok()?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

fn token_request(
    method: &str,
    path: &str,
    t: &sinergi_exchange::token::NewToken,
    body: &str,
) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nX-Road-Client: {LOKET}\r\n\
         X-Sinergi-Purpose: VALIDASI_BANSOS\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        t.plaintext,
        body.len()
    )
    .into_bytes()
}

/// Holes 5 and 6: routing accepted anything after the service code, dot-segments included,
/// and every method was served.
#[tokio::test]
async fn only_post_to_the_exact_service_path_is_served() {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 0).await;
    let (dinsos, _) = key_file(dir.path(), "dinsos");
    let (c, loket) = dukcapil_config(dir.path(), &dinsos);
    let node = start(c).await;
    let addr = node.running.addr;
    let body = format!("{{\"nik\":\"{NIK_CILACAP}\",\"fields\":[\"nama\"]}}");
    let path = format!("/r1/{DUKCAPIL}/{SVC}");
    let (st, _) = raw(addr, &token_request("POST", &path, &loket, &body))
        .await
        .unwrap();
    assert_eq!(st, 200);

    for bad in [
        format!("{path}/../../../BPS/DTSEN/desil"),
        format!("{path}/."),
        format!("{path}/"),
        format!("{path}//x"),
        format!("{path}/%2e%2e/desil"),
        format!("{path}/orang/123"),
    ] {
        let (st, text) = raw(addr, &token_request("POST", &bad, &loket, &body))
            .await
            .unwrap();
        assert!(st == 400 || st == 404, "{bad}: {st}\n{text}");
        assert!(!text.contains("SITI"), "{bad}: {text}");
    }
    for m in ["GET", "PUT", "DELETE", "TRACE", "PATCH", "OPTIONS"] {
        let (st, text) = raw(addr, &token_request(m, &path, &loket, &body))
            .await
            .unwrap();
        assert_eq!(st, 405, "{m}: {text}");
        assert!(
            text.to_ascii_lowercase().contains("\r\nallow: post\r\n"),
            "{m}: {text}"
        );
        assert!(text.contains("METHOD_NOT_ALLOWED"), "{m}: {text}");
        assert!(!text.contains("SITI"), "{m}: {text}");
    }
    // The directory answers GET only.
    let (st, text) = raw(addr,
        format!("POST /r1/{DUKCAPIL}/listMethods HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(st, 405, "{text}");
    assert!(
        text.to_ascii_lowercase().contains("\r\nallow: get"),
        "{text}"
    );
    // Refusals are audited like every other.
    let http = http();
    let entries = last_entries(&http, &node.base, 100).await;
    assert!(
        entries
            .iter()
            .any(|e| e["decision"] == "METHOD_NOT_ALLOWED"),
        "{entries:?}"
    );
    node.running.stop().await.unwrap();
}

/// Hole 9: `allowedMethods` answered for any claimed `X-Road-Client` without authentication.
#[tokio::test]
async fn allowed_methods_answers_only_for_a_proven_client() {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 0).await;
    let (dinsos, _) = key_file(dir.path(), "dinsos");
    let (c, loket) = dukcapil_config(dir.path(), &dinsos);
    let node = start(c).await;
    let http = http();
    let url = format!("{}/r1/{DUKCAPIL}/allowedMethods", node.base);
    // A claim without proof: refused, nothing listed.
    let h = vec![("x-road-client".to_string(), DINSOS.to_string())];
    let r = send(&http, "GET", &url, &h, vec![]).await;
    assert_eq!(r.status, 401, "{}", String::from_utf8_lossy(&r.body));
    assert!(!String::from_utf8_lossy(&r.body).contains(SVC));
    // The same claim signed by DINSOS's key: its two services.
    let s = Signer::new(DINSOS, &dinsos);
    let signed = sign_request(
        s.key,
        "GET",
        &url,
        &[("x-road-client", DINSOS)][..],
        b"",
        &SignOptions {
            label: "sig1",
            key_id: &s.key_id,
            created: s.created,
            expires: s.expires,
            nonce: &s.nonce,
            extra_components: &["x-road-client"],
        },
    )
    .unwrap();
    let h = vec![
        ("x-road-client".to_string(), DINSOS.to_string()),
        ("content-digest".to_string(), signed.content_digest),
        ("signature-input".to_string(), signed.signature_input),
        ("signature".to_string(), signed.signature),
    ];
    let r = send(&http, "GET", &url, &h, vec![]).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["service"].as_array().unwrap().len(), 2);
    // A token of the provider's own agency proves its client too.
    let r = send(
        &http,
        "GET",
        &url,
        &token_headers(&loket, LOKET, "am-1"),
        vec![],
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["service"].as_array().unwrap().len(), 2);
    // No claim at all: the services an anonymous caller may call, which is none.
    let r = send(&http, "GET", &url, &[], vec![]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["service"].as_array().unwrap().len(), 0);
    node.running.stop().await.unwrap();
}

/// Hole 10, the smaller items: `Cache-Control: no-store` on personal data; a JSON array body
/// read as positional fields; the purpose header outside the signature; `audit.db` readable
/// by everyone; a 1 MiB header dropping the connection; a NIK padded with Unicode spaces
/// accepted as found.
#[tokio::test]
async fn the_smaller_holes() {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 0).await;
    let (dinsos, _) = key_file(dir.path(), "dinsos");
    let (c, loket) = dukcapil_config(dir.path(), &dinsos);
    let node = start(c).await;
    let http = http();
    let addr = node.running.addr;
    let url = format!("{}/r1/{DUKCAPIL}/{SVC}", node.base);
    let path = format!("/r1/{DUKCAPIL}/{SVC}");

    // Personal data is not to be cached; refusals neither.
    let b = serde_json::to_vec(&json!({"nik": NIK_CILACAP, "fields": ["nama"]})).unwrap();
    let r = send(
        &http,
        "POST",
        &url,
        &token_headers(&loket, LOKET, "cc-1"),
        b,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["cache-control"], "no-store");
    let r = send(
        &http,
        "POST",
        &url,
        &token_headers(&loket, LOKET, "cc-2"),
        b"{".to_vec(),
    )
    .await;
    assert_eq!(r.headers["cache-control"], "no-store");

    // A JSON array is not a question.
    for body in [
        format!("[\"{NIK_CILACAP}\"]"),
        format!("[\"{NIK_CILACAP}\", \"x\", null, 1]"),
        "\"x\"".into(),
        "1".into(),
    ] {
        let r = send(
            &http,
            "POST",
            &url,
            &token_headers(&loket, LOKET, "arr"),
            body.clone().into_bytes(),
        )
        .await;
        assert_eq!(
            r.status,
            400,
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.code(), "REQUEST_INVALID");
    }
    let batch = format!("{}/r1/{DUKCAPIL}/{SVC}-batch", node.base);
    let r = send(
        &http,
        "POST",
        &batch,
        &token_headers(&loket, LOKET, "arr-b"),
        format!("[\"{NIK_CILACAP}\"]\n").into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.ndjson()[0]["code"], "REQUEST_INVALID");

    // The purpose decides the request: a signature that does not cover it is refused.
    let b = serde_json::to_vec(&json!({"nik": NIK_CILACAP})).unwrap();
    let s = Signer::new(DINSOS, &dinsos);
    let mut h: Vec<(String, String)> = vec![
        ("x-road-client".into(), DINSOS.into()),
        ("x-road-id".into(), "uncovered".into()),
    ];
    let signed = sign_request(
        s.key,
        "POST",
        &url,
        h.as_slice(),
        &b,
        &SignOptions {
            label: "sig1",
            key_id: &s.key_id,
            created: s.created,
            expires: s.expires,
            nonce: &s.nonce,
            extra_components: &["x-road-client", "x-road-id"],
        },
    )
    .unwrap();
    h.push(("x-sinergi-purpose".into(), "VALIDASI_BANSOS".into()));
    h.push(("content-digest".into(), signed.content_digest));
    h.push(("signature-input".into(), signed.signature_input));
    h.push(("signature".into(), signed.signature));
    let r = send(&http, "POST", &url, &h, b).await;
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.code(), "SIGNATURE_MALFORMED");

    // The audit database holds who asked about whom: owner only, as the keys.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for f in ["audit.db", "audit.db-wal", "audit-secret.key", "node.key"] {
            let p = dir.path().join(f);
            if p.exists() {
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{f} is {mode:o}");
            }
        }
    }

    // A 1 MiB header is answered 431, not dropped, for a client that sends its whole
    // request before it reads (as most do): the node drains what it refused to read. Over
    // loopback the kernel buffers 1 MiB, so the bigger header is what showed the drop here.
    for mib in [1usize, 8] {
        let big = "a".repeat(mib << 20);
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        );
        let got = send_then_read(addr, req.as_bytes()).await;
        assert_eq!(
            got.as_ref().map(|g| g.0),
            Some(431),
            "{mib} MiB: {:?}",
            got.map(|g| g.1.chars().take(300).collect::<String>())
        );
    }

    // A NIK padded with a no-break space or an ideographic space is not a NIK.
    for padded in [
        format!("{NIK_CILACAP}\u{a0}"),
        format!("\u{3000}{NIK_CILACAP}"),
    ] {
        let b = serde_json::to_vec(&json!({"nik": padded, "fields": ["nama"]})).unwrap();
        let r = send(&http, "POST", &url, &token_headers(&loket, LOKET, "pad"), b).await;
        assert_eq!(r.status, 200);
        let j = r.json();
        assert_eq!(j["ditemukan"], false, "{j}");
        assert!(j.get("data").is_none(), "{j}");
    }
    node.running.stop().await.unwrap();
}

/// A DTSEN record (decile) and a civil servant, for the composite service.
async fn seed_decile_and_asn(db: &std::path::Path, nik: &str, decile: i64) {
    let store = sinergi_store::Store::open(Some(&format!("sqlite://{}", db.display())))
        .await
        .unwrap();
    let t = Table::Decile;
    let mut v = vec![V::Null; t.fields().len()];
    let i = |t: Table, f: &str| t.field_index(f).unwrap();
    v[i(t, "family_id")] = text("KEL-0001");
    v[i(t, "nik")] = text(nik);
    v[i(t, "region")] = text("3301012001");
    v[i(t, "decile")] = V::Integer(decile);
    load(
        &store,
        "dtsen",
        t,
        "BPS",
        vec![Record {
            table: t,
            values: v,
        }],
    )
    .await;
    let t = Table::Employment;
    let mut v = vec![V::Null; t.fields().len()];
    v[i(t, "employee_id")] = text("199001012015011001");
    v[i(t, "nik")] = text(nik);
    v[i(t, "kind")] = text("PPPK");
    load(
        &store,
        "bkn-asn",
        t,
        "BKN",
        vec![Record {
            table: t,
            values: v,
        }],
    )
    .await;
    store.close().await;
}

/// Hole 3: a consumer granted no fields got, inside the verdict's reasons, the death date,
/// the DTSEN decile and the civil-servant kind, while asking for `tgl_kematian` outright was
/// refused FIELD_NOT_GRANTED.
#[tokio::test]
async fn a_verdict_explains_itself_only_with_granted_fields() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("sinergi.db");
    seed_dukcapil(&db, 0).await;
    seed_bpjs(&db).await;
    seed_decile_and_asn(&db, NIK_CILACAP, 6).await;
    let mut c = sinergi_server::NodeConfig::embedded_default();
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.data_dir = dir.path().to_path_buf();
    c.reload_secs = 0;
    let (token, t) = token_for(APLIKASI, 31);
    c.tokens.push(t);
    let mut a = agreement("PKS-APLIKASI", KEMENSOS, APLIKASI, "validasi-penerima", &[]);
    let mut b = a.services[0].clone();
    b.service_code = "validasi-penerima-batch".into();
    a.services.push(b);
    c.agreements.push(a);
    const WITH: &str = "ID/GOV/KEMENSOS/PUSDATIN";
    let (token_with, t) = token_for(WITH, 32);
    c.tokens.push(t);
    c.agreements.push(agreement(
        "PKS-PUSDATIN",
        KEMENSOS,
        WITH,
        "validasi-penerima",
        &["tgl_kematian", "desil", "jenis"],
    ));
    let node = start(c).await;
    let http = http();
    let url = format!("{}/r1/{KEMENSOS}/validasi-penerima", node.base);
    let ask = |t: &sinergi_exchange::token::NewToken, client: &str, body: Value| {
        let h = token_headers(t, client, "min");
        let (http, url) = (http.clone(), url.clone());
        async move { send(&http, "POST", &url, &h, serde_json::to_vec(&body).unwrap()).await }
    };

    // The deceased person: DECEASED, from Dukcapil, without the date.
    let r = ask(
        &token,
        APLIKASI,
        json!({"nik": NIK_SURABAYA, "nama": "BUDI SANTOSO", "program": "PKH"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let text = String::from_utf8_lossy(&r.body).into_owned();
    let j = r.json();
    assert_eq!(j["verdict"]["verdict"], "TIDAK_LAYAK", "{j}");
    let dead = j["verdict"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "DECEASED")
        .cloned()
        .unwrap_or_else(|| panic!("{j}"));
    assert_eq!(dead["source"]["agency"], "Dukcapil");
    assert!(!text.contains("2025-03-01"), "the death date leaks: {text}");
    assert!(
        dead["message"]["id"].as_str().unwrap().contains("DECEASED"),
        "{dead}"
    );
    // A person in DTSEN decile 6 (cut 4 for PKH) who is a PPPK.
    let r = ask(
        &token,
        APLIKASI,
        json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH", "program": "PKH"}),
    )
    .await;
    let text = String::from_utf8_lossy(&r.body).into_owned();
    let j = r.json();
    let codes: Vec<&str> = j["verdict"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"DECILE_ABOVE_CUT") && codes.contains(&"CIVIL_SERVANT"),
        "{j}"
    );
    for leaked in ["desil 6", "decile 6", "PPPK", "contract employee"] {
        assert!(!text.contains(leaked), "{leaked} leaks: {text}");
    }
    // Asking for a value outright stays refused, consistently.
    let r = ask(
        &token,
        APLIKASI,
        json!({"nik": NIK_SURABAYA, "program": "PKH", "fields": ["tgl_kematian"]}),
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.code(), "FIELD_NOT_GRANTED");

    // A consumer whose agreement grants the values and who asks for them sees them.
    let r = ask(
        &token_with,
        WITH,
        json!({"nik": NIK_SURABAYA, "program": "PKH", "fields": ["tgl_kematian"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(String::from_utf8_lossy(&r.body).contains("2025-03-01"));
    let r = ask(
        &token_with,
        WITH,
        json!({"nik": NIK_CILACAP, "program": "PKH", "fields": ["desil", "jenis"]}),
    )
    .await;
    let text = String::from_utf8_lossy(&r.body).into_owned();
    assert!(text.contains("desil 6") && text.contains("PPPK"), "{text}");

    // The list: the same minimisation per line.
    let list = format!(
        "{}/r1/{KEMENSOS}/validasi-penerima-batch?program=PKH",
        node.base
    );
    let body = format!("{{\"nik\":\"{NIK_SURABAYA}\"}}\n{{\"nik\":\"{NIK_CILACAP}\"}}\n");
    let r = send(
        &http,
        "POST",
        &list,
        &token_headers(&token, APLIKASI, "min-list"),
        body.into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let text = String::from_utf8_lossy(&r.body).into_owned();
    for leaked in ["2025-03-01", "desil 6", "PPPK"] {
        assert!(
            !text.contains(leaked),
            "{leaked} leaks from the list: {text}"
        );
    }
    node.running.stop().await.unwrap();
}
