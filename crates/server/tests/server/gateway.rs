//! One provider node (Dukcapil): the allowed path, every refusal with its code and its audit
//! entry, batches, metaservices, admin API, audit verification, graceful shutdown.

use serde_json::{Value, json};
use sinergi_exchange::{Agreement, Quota, RegionScope, ServiceGrant};
use tempfile::TempDir;

use crate::common::*;

const OTHER: &str = "ID/GOV/DINSOS-3578/BANSOS";
const LOKET: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/LOKET";
const BPJS_APP: &str = "ID/GOV/BPJS-KESEHATAN/APLIKASI";
const SVC: &str = "verifikasi-identitas";

fn agreement(
    id: &str,
    consumer: &str,
    from: &str,
    until: &str,
    quota: Quota,
    scope: RegionScope,
) -> Agreement {
    Agreement {
        id: id.into(),
        provider: cid(DUKCAPIL),
        consumer: cid(consumer),
        services: vec![
            ServiceGrant {
                service_code: SVC.into(),
                fields: vec!["nama".into(), "tgl_lahir".into()],
            },
            ServiceGrant {
                service_code: format!("{SVC}-batch"),
                fields: vec!["nama".into()],
            },
        ],
        purposes: vec!["VALIDASI_BANSOS".into()],
        legal_basis: "test".into(),
        region_scope: scope,
        valid_from: sinergi_exchange::Timestamp(0),
        valid_until: sinergi_exchange::Timestamp(1),
        quota,
        status_history: vec![],
    }
    .with_dates(from, until)
    .unwrap()
}

const Q: Quota = Quota {
    per_second: 10_000,
    per_day: 10_000_000,
};

struct Fixture {
    _dir: TempDir,
    node: Node,
    http: HttpClient,
    dinsos: sinergi_exchange::SigningKey,
    other: sinergi_exchange::SigningKey,
    loket: sinergi_exchange::token::NewToken,
    bpjs_app: sinergi_exchange::token::NewToken,
}

impl Fixture {
    fn url(&self) -> String {
        format!("{}/r1/{DUKCAPIL}/{SVC}", self.node.base)
    }

    async fn signed(&self, body: &Value, purpose: &str, pks: Option<&str>, rid: &str) -> Resp {
        let s = Signer::new(DINSOS, &self.dinsos);
        self.signed_with(&s, body, purpose, pks, rid).await
    }

    async fn signed_with(
        &self,
        s: &Signer<'_>,
        body: &Value,
        purpose: &str,
        pks: Option<&str>,
        rid: &str,
    ) -> Resp {
        let url = self.url();
        let b = serde_json::to_vec(body).unwrap();
        let h = signed_headers(s, &url, purpose, pks, rid, &b);
        send(&self.http, "POST", &url, &h, b).await
    }

    /// Asserts the refusal's status and code, and that its audit entry says the same.
    async fn assert_refused(&self, r: &Resp, status: u16, code: &str, rid: &str) {
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
        let j = r.json();
        assert_eq!(j["code"], code);
        for k in ["message", "type", "link"] {
            assert!(j[k].is_string(), "refusal lacks {k}: {j}");
        }
        // Never leaks data.
        let text = String::from_utf8_lossy(&r.body);
        assert!(
            !text.contains("SITI") && !text.contains(NIK_CILACAP),
            "{text}"
        );
        let e = entry_for(&self.http, &self.node.base, rid).await;
        assert_eq!(e["decision"], code, "{e}");
        assert_eq!(e["status"], status);
    }
}

async fn fixture() -> Fixture {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 1000).await;
    let mut c = config(dir.path(), "dukcapil");
    c.members
        .push(member(DUKCAPIL, None, &[SVC, "verifikasi-identitas-batch"]));
    let (dinsos, _) = key_file(dir.path(), "dinsos");
    let (other, _) = key_file(dir.path(), "other");
    c.peers
        .push(peer("http://127.0.0.1:9", DINSOS, &dinsos, &[]));
    c.peers.push(peer("http://127.0.0.1:9", OTHER, &other, &[]));
    let (loket, t1) = token_for(LOKET, 1);
    let (bpjs_app, t2) = token_for(BPJS_APP, 2);
    c.tokens = vec![t1, t2];
    let regional = RegionScope::Regions(vec!["33.01".into()]);
    c.agreements = vec![
        agreement(
            "PKS-A",
            DINSOS,
            "2025-01-01",
            "2030-12-31",
            Q,
            regional.clone(),
        ),
        agreement("PKS-EXP", DINSOS, "2020-01-01", "2020-12-31", Q, regional),
        agreement(
            "PKS-Q",
            DINSOS,
            "2025-01-01",
            "2030-12-31",
            Quota {
                per_second: 1,
                per_day: 1,
            },
            RegionScope::National,
        ),
        agreement(
            "PKS-LOKET",
            LOKET,
            "2025-01-01",
            "2030-12-31",
            Q,
            RegionScope::National,
        ),
        agreement(
            "PKS-BPJSAPP",
            BPJS_APP,
            "2025-01-01",
            "2030-12-31",
            Q,
            RegionScope::National,
        ),
    ];
    let node = start(c).await;
    Fixture {
        _dir: dir,
        node,
        http: http(),
        dinsos,
        other,
        loket,
        bpjs_app,
    }
}

#[tokio::test]
async fn allowed_signed_request_answers_minimised_and_is_audited() {
    let f = fixture().await;
    let body = json!({"nik": NIK_CILACAP, "nama": "Siti  Aminah", "tgl_lahir": "15-05-1990", "fields": ["nama"]});
    let r = f.signed(&body, "VALIDASI_BANSOS", None, "req-ok-1").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    assert_eq!(j["ditemukan"], true);
    assert_eq!(j["nama"], "sesuai");
    assert_eq!(j["tgl_lahir"], "sesuai");
    assert_eq!(j["status"], "hidup");
    assert_eq!(j["data"]["nama"], "SITI AMINAH");
    assert!(
        j["data"].get("alamat").is_none(),
        "only requested, granted fields: {j}"
    );
    assert_eq!(r.headers["x-road-id"], "req-ok-1");
    assert_eq!(r.headers["x-road-request-hash"].len(), 64);
    let e = entry_for(&f.http, &f.node.base, "req-ok-1").await;
    assert_eq!(e["decision"], "ALLOWED");
    assert_eq!(e["clause"], "PKS-A#grant");
    assert_eq!(e["client"], DINSOS);
    assert_eq!(e["pks_id"], "PKS-A");
    assert!(e["subject_hash"].is_string());
    assert_eq!(
        e["request_hash"],
        r.headers["x-road-request-hash"].to_str().unwrap()
    );
    // The audit log holds no NIK and no name.
    let all = serde_json::to_string(&last_entries(&f.http, &f.node.base, 100).await).unwrap();
    assert!(!all.contains(NIK_CILACAP) && !all.contains("SITI"));

    // Without fields: yes/no only.
    let r = f
        .signed(
            &json!({"nik": NIK_CILACAP, "nama": "BUDI"}),
            "VALIDASI_BANSOS",
            None,
            "req-ok-2",
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["nama"], "tidak sesuai");
    assert!(r.json().get("data").is_none());
    f.node.running.stop().await.unwrap();
}

#[tokio::test]
async fn every_refusal_has_its_code_and_an_audit_entry() {
    let f = fixture().await;
    let url = f.url();
    let body = json!({"nik": NIK_CILACAP});
    let bytes = serde_json::to_vec(&body).unwrap();

    // Unsigned.
    let h = vec![
        ("x-road-client".to_string(), DINSOS.to_string()),
        ("x-road-id".to_string(), "r-unsigned".to_string()),
    ];
    let r = send(&f.http, "POST", &url, &h, bytes.clone()).await;
    f.assert_refused(&r, 401, "SIGNATURE_MISSING", "r-unsigned")
        .await;

    // Badly signed: another key under DINSOS's keyid.
    let s = Signer::new(DINSOS, &f.other);
    let r = f
        .signed_with(&s, &body, "VALIDASI_BANSOS", None, "r-badsig")
        .await;
    f.assert_refused(&r, 401, "SIGNATURE_INVALID", "r-badsig")
        .await;

    // Body altered after signing.
    let s = Signer::new(DINSOS, &f.dinsos);
    let mut h = signed_headers(&s, &url, "VALIDASI_BANSOS", None, "r-digest", &bytes);
    h.retain(|(k, _)| k != "content-length");
    let r = send(
        &f.http,
        "POST",
        &url,
        &h,
        serde_json::to_vec(&json!({"nik": NIK_SURABAYA})).unwrap(),
    )
    .await;
    f.assert_refused(&r, 400, "DIGEST_MISMATCH", "r-digest")
        .await;

    // Replayed.
    let s = Signer::new(DINSOS, &f.dinsos);
    let h = signed_headers(&s, &url, "VALIDASI_BANSOS", None, "r-replay", &bytes);
    let first = send(&f.http, "POST", &url, &h, bytes.clone()).await;
    assert_eq!(first.status, 200);
    let r = send(&f.http, "POST", &url, &h, bytes.clone()).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "SIGNATURE_REPLAYED");
    let entries = last_entries(&f.http, &f.node.base, 2).await;
    assert_eq!(entries[1]["request_id"], "r-replay");
    assert_eq!(entries[1]["decision"], "SIGNATURE_REPLAYED");

    // Expired signature.
    let mut s = Signer::new(DINSOS, &f.dinsos);
    s.created -= 400;
    s.expires = s.created + 60;
    let r = f
        .signed_with(&s, &body, "VALIDASI_BANSOS", None, "r-expired")
        .await;
    f.assert_refused(&r, 401, "SIGNATURE_EXPIRED", "r-expired")
        .await;

    // Unknown key.
    let mut s = Signer::new(DINSOS, &f.dinsos);
    s.key_id = "ID/GOV/DINSOS-3301/BANSOS#999".into();
    let r = f
        .signed_with(&s, &body, "VALIDASI_BANSOS", None, "r-unknown")
        .await;
    f.assert_refused(&r, 401, "SIGNATURE_UNKNOWN_KEY", "r-unknown")
        .await;

    // Key of another member than X-Road-Client claims.
    let mut s = Signer::new(DINSOS, &f.other);
    s.key_id = format!("{OTHER}#1");
    let r = f
        .signed_with(&s, &body, "VALIDASI_BANSOS", None, "r-mismatch")
        .await;
    f.assert_refused(&r, 401, "SIGNATURE_KEY_MISMATCH", "r-mismatch")
        .await;

    // No agreement (a correctly signed member without a PKS).
    let s = Signer::new(OTHER, &f.other);
    let r = f
        .signed_with(&s, &body, "VALIDASI_BANSOS", None, "r-noagr")
        .await;
    f.assert_refused(&r, 403, "NO_AGREEMENT", "r-noagr").await;

    // Expired agreement.
    let r = f
        .signed(&body, "VALIDASI_BANSOS", Some("PKS-EXP"), "r-agrexp")
        .await;
    f.assert_refused(&r, 403, "AGREEMENT_EXPIRED", "r-agrexp")
        .await;
    assert_eq!(
        entry_for(&f.http, &f.node.base, "r-agrexp").await["clause"],
        "PKS-EXP#valid_until"
    );

    // Wrong purpose.
    let r = f
        .signed(&body, "PENAGIHAN_PAJAK", Some("PKS-A"), "r-purpose")
        .await;
    f.assert_refused(&r, 403, "PURPOSE_NOT_ALLOWED", "r-purpose")
        .await;

    // Out of region: a Surabaya resident under a Cilacap-only PKS.
    let r = f
        .signed(
            &json!({"nik": NIK_SURABAYA}),
            "VALIDASI_BANSOS",
            Some("PKS-A"),
            "r-region",
        )
        .await;
    f.assert_refused(&r, 403, "OUT_OF_REGION", "r-region").await;

    // Field not granted.
    let r = f
        .signed(
            &json!({"nik": NIK_CILACAP, "fields": ["alamat"]}),
            "VALIDASI_BANSOS",
            Some("PKS-A"),
            "r-field",
        )
        .await;
    f.assert_refused(&r, 403, "FIELD_NOT_GRANTED", "r-field")
        .await;

    // Over quota: PKS-Q allows one request per day.
    let r = f
        .signed(&body, "VALIDASI_BANSOS", Some("PKS-Q"), "r-q1")
        .await;
    assert_eq!(r.status, 200);
    let r = f
        .signed(&body, "VALIDASI_BANSOS", Some("PKS-Q"), "r-q2")
        .await;
    assert!(r.headers.contains_key("retry-after"));
    f.assert_refused(&r, 429, "QUOTA_EXCEEDED", "r-q2").await;

    // Revoked agreement: created and revoked through the admin API.
    let a = agreement(
        "PKS-REV",
        DINSOS,
        "2025-01-01",
        "2030-12-31",
        Q,
        RegionScope::National,
    );
    let r = send(
        &f.http,
        "POST",
        &format!("{}/admin/pks", f.node.base),
        &admin_headers(),
        serde_json::to_vec(&a).unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = send(
        &f.http,
        "POST",
        &format!("{}/admin/pks", f.node.base),
        &admin_headers(),
        serde_json::to_vec(&a).unwrap(),
    )
    .await;
    assert_eq!(r.status, 409);
    let r = f
        .signed(&body, "VALIDASI_BANSOS", Some("PKS-REV"), "r-rev-before")
        .await;
    assert_eq!(r.status, 200);
    let r = send(
        &f.http,
        "POST",
        &format!("{}/admin/pks/PKS-REV/suspend", f.node.base),
        &admin_headers(),
        serde_json::to_vec(&json!({"by": "admin.dukcapil", "reason": "audit BPK"})).unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = f
        .signed(&body, "VALIDASI_BANSOS", Some("PKS-REV"), "r-susp")
        .await;
    f.assert_refused(&r, 403, "AGREEMENT_SUSPENDED", "r-susp")
        .await;
    let r = send(
        &f.http,
        "POST",
        &format!("{}/admin/pks/PKS-REV/revoke", f.node.base),
        &admin_headers(),
        serde_json::to_vec(&json!({"by": "admin.dukcapil", "reason": "PKS ended"})).unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = f
        .signed(&body, "VALIDASI_BANSOS", Some("PKS-REV"), "r-rev")
        .await;
    f.assert_refused(&r, 403, "AGREEMENT_REVOKED", "r-rev")
        .await;
    let list = send(
        &f.http,
        "GET",
        &format!("{}/admin/pks", f.node.base),
        &admin_headers(),
        vec![],
    )
    .await;
    let rev = list.json()["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "PKS-REV")
        .cloned()
        .unwrap();
    assert_eq!(rev["status_history"].as_array().unwrap().len(), 2);

    // Invalid client id and unknown service.
    let h = vec![
        ("x-road-client".to_string(), "ID/GOV/../X".to_string()),
        ("x-road-id".to_string(), "r-cid".to_string()),
    ];
    let r = send(&f.http, "POST", &url, &h, bytes.clone()).await;
    f.assert_refused(&r, 400, "CLIENT_ID_INVALID", "r-cid")
        .await;
    let h = vec![
        ("x-road-client".to_string(), DINSOS.to_string()),
        ("x-road-id".to_string(), "r-svc".to_string()),
    ];
    let r = send(
        &f.http,
        "POST",
        &format!("{}/r1/{DUKCAPIL}/tidak-ada", f.node.base),
        &h,
        bytes.clone(),
    )
    .await;
    f.assert_refused(&r, 404, "SERVICE_NOT_FOUND", "r-svc")
        .await;

    // API tokens: inside the provider's agency only.
    let tok = |t: &sinergi_exchange::token::NewToken, client: &str, rid: &str| {
        vec![
            (
                "authorization".to_string(),
                format!("Bearer {}", t.plaintext),
            ),
            ("x-road-client".to_string(), client.to_string()),
            ("x-road-id".to_string(), rid.to_string()),
            (
                "x-sinergi-purpose".to_string(),
                "VALIDASI_BANSOS".to_string(),
            ),
        ]
    };
    let r = send(
        &f.http,
        "POST",
        &url,
        &tok(&f.loket, LOKET, "r-tok"),
        bytes.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = send(
        &f.http,
        "POST",
        &url,
        &tok(&f.bpjs_app, BPJS_APP, "r-tok-other"),
        bytes.clone(),
    )
    .await;
    f.assert_refused(&r, 401, "TOKEN_INVALID", "r-tok-other")
        .await;
    let r = send(
        &f.http,
        "POST",
        &url,
        &tok(&f.loket, DINSOS, "r-tok-claim"),
        bytes.clone(),
    )
    .await;
    f.assert_refused(&r, 401, "TOKEN_INVALID", "r-tok-claim")
        .await;

    // Admin API needs the admin token.
    let r = send(
        &f.http,
        "GET",
        &format!("{}/admin/pks", f.node.base),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "ADMIN_TOKEN_INVALID");
    f.node.running.stop().await.unwrap();
}

#[tokio::test]
async fn audit_verifies_after_a_burst_and_survives_shutdown() {
    let f = fixture().await;
    let url = f.url();
    let mut tasks = Vec::new();
    for i in 0..300 {
        let (http, url, key) = (f.http.clone(), url.clone(), f.dinsos.clone());
        tasks.push(tokio::spawn(async move {
            let s = Signer::new(DINSOS, &key);
            let nik = if i % 3 == 0 {
                NIK_SURABAYA
            } else {
                NIK_CILACAP
            };
            let b = serde_json::to_vec(&json!({"nik": nik})).unwrap();
            let h = signed_headers(
                &s,
                &url,
                "VALIDASI_BANSOS",
                Some("PKS-A"),
                &format!("burst-{i}"),
                &b,
            );
            send(&http, "POST", &url, &h, b).await.status
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let st = t.await.unwrap();
        assert!(st == 200 || st == 403, "{st}");
        ok += 1;
    }
    assert_eq!(ok, 300);
    let r = send(
        &f.http,
        "GET",
        &format!("{}/admin/audit/verify", f.node.base),
        &admin_headers(),
        vec![],
    )
    .await;
    let j = r.json();
    assert_eq!(j["ok"], true, "{j}");
    assert_eq!(j["entries"], 300);
    assert!(j["checkpoints_verified"].as_u64().unwrap() >= 1, "{j}");

    // Shutdown drains; a restarted node continues the same chain.
    let dir_path = f._dir.path().to_path_buf();
    f.node.running.stop().await.unwrap();
    let mut c = config(&dir_path, "dukcapil");
    c.members.push(member(DUKCAPIL, None, &[SVC]));
    let node = start(c).await;
    let r = send(
        &f.http,
        "GET",
        &format!("{}/admin/audit/verify", node.base),
        &admin_headers(),
        vec![],
    )
    .await;
    let j = r.json();
    assert_eq!(j["ok"], true, "{j}");
    assert_eq!(j["entries"], 300);
    node.running.stop().await.unwrap();
}

#[tokio::test]
async fn batch_streams_ndjson_with_one_audit_entry_per_line() {
    let f = fixture().await;
    let url = format!("{}/r1/{DUKCAPIL}/{SVC}-batch?fields=nama", f.node.base);
    let mut body = String::new();
    for i in 0..1000 {
        body.push_str(&format!(
            "{{\"nik\":\"330101010190{i:04}\",\"nama\":\"warga uji\"}}\n"
        ));
    }
    body.push_str(&format!("{{\"nik\":\"{NIK_SURABAYA}\"}}\nnot json\n"));
    let s = Signer::new(DINSOS, &f.dinsos);
    let h = signed_headers(
        &s,
        &url,
        "VALIDASI_BANSOS",
        Some("PKS-A"),
        "batch-1",
        body.as_bytes(),
    );
    let r = send(&f.http, "POST", &url, &h, body.into_bytes()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let lines: Vec<Value> = r.ndjson();
    assert_eq!(lines.len(), 1002);
    assert_eq!(lines[0]["nama"], "sesuai");
    assert_eq!(lines[0]["data"]["nama"], "WARGA UJI");
    assert_eq!(lines[1000]["code"], "OUT_OF_REGION");
    assert_eq!(lines[1001]["code"], "REQUEST_INVALID");
    let entries = last_entries(&f.http, &f.node.base, 1002).await;
    assert_eq!(entries.len(), 1002);
    assert!(entries.iter().all(|e| e["request_id"] == "batch-1"));
    assert_eq!(entries[1000]["decision"], "OUT_OF_REGION");
    f.node.running.stop().await.unwrap();
}

#[tokio::test]
async fn metaservices_metrics_openapi_health() {
    let f = fixture().await;
    let b = &f.node.base;
    let r = send(&f.http, "GET", &format!("{b}/listClients"), &[], vec![]).await;
    let members = r.json()["member"].as_array().unwrap().clone();
    assert!(
        members
            .iter()
            .any(|m| m["id"]["member_code"] == "KEMENDAGRI-DUKCAPIL"
                && m["id"]["object_type"] == "SUBSYSTEM")
    );
    let r = send(
        &f.http,
        "GET",
        &format!("{b}/r1/{DUKCAPIL}/listMethods"),
        &[],
        vec![],
    )
    .await;
    let svcs = r.json()["service"].as_array().unwrap().clone();
    assert_eq!(svcs.len(), 2);
    assert_eq!(svcs[0]["service_code"], SVC);
    assert_eq!(svcs[0]["object_type"], "SERVICE");
    // allowedMethods answers only for a proven client (trust.rs); anonymous: nothing.
    let r = send(
        &f.http,
        "GET",
        &format!("{b}/r1/{DUKCAPIL}/allowedMethods"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.json()["service"].as_array().unwrap().len(), 0);
    let r = send(
        &f.http,
        "GET",
        &format!("{b}/r1/{DUKCAPIL}/getOpenAPI?serviceCode={SVC}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.json()["openapi"], "3.1.0");
    let r = send(&f.http, "GET", &format!("{b}/openapi.json"), &[], vec![]).await;
    assert!(
        r.json()["paths"]
            .as_object()
            .unwrap()
            .contains_key(&format!("/r1/{DUKCAPIL}/{SVC}"))
    );
    let r = send(&f.http, "GET", &format!("{b}/healthz"), &[], vec![]).await;
    assert_eq!(r.json()["persons"], 1002);
    let _ = f
        .signed(&json!({"nik": NIK_CILACAP}), "VALIDASI_BANSOS", None, "m-1")
        .await;
    let r = send(&f.http, "GET", &format!("{b}/metrics"), &[], vec![]).await;
    let text = String::from_utf8_lossy(&r.body);
    assert!(
        text.contains("sinergi_requests_total{service=\"verifikasi-identitas\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains(
        "sinergi_request_duration_seconds_bucket{service=\"verifikasi-identitas\",le=\"+Inf\"} 1"
    ));
    f.node.running.stop().await.unwrap();
}
