//! Kemensos `validasi-penerima-batch`: a list of recipients validated across three nodes
//! (Dukcapil, BPJS Kesehatan, Kemensos) on loopback with separate databases by the engine's
//! validator, asking Dukcapil's `pencarian-identitas-batch` and `fakta-penduduk-batch` and
//! BPJS Kesehatan's `fakta-kepesertaan-batch`; every line's verdict checked against the
//! single `validasi-penerima` call; bad lines, refusals, timeouts and the body limit.

use serde_json::{Value, json};
use sinergi_exchange::token::NewToken;
use sinergi_exchange::{Agreement, ServiceGrant};
use tempfile::TempDir;

use crate::common::*;
use crate::federation::{peer_pub, public_of};

/// Kemensos's own system, allowed both services.
const SIKS: &str = "ID/GOV/KEMENSOS/SIKS";
/// Allowed `validasi-penerima` only.
const LOKET: &str = "ID/GOV/KEMENSOS/LOKET";
/// No agreement at all.
const TANPA: &str = "ID/GOV/KEMENSOS/TANPA";

/// A person in Cilacap unknown to BPJS Kesehatan (seeded by `seed_dukcapil(_, 3)`; the
/// first extra person's serial 0000 is not a valid NIK).
const NIK_NO_BPJS: &str = "3301010101900001";
/// A person in Cilacap insured by BPJS Kesehatan as a formal employee (PPU).
const NIK_PPU: &str = "3301010101900002";
/// A well-formed NIK that Dukcapil does not know.
const NIK_UNKNOWN: &str = "3301014101950003";

/// `agreement` granting `service` and `{service}-batch` with the same fields.
fn both(id: &str, provider: &str, consumer: &str, service: &str, fields: &[&str]) -> Agreement {
    let mut a = agreement(id, provider, consumer, service, fields);
    a.services.push(ServiceGrant {
        service_code: format!("{service}-batch"),
        fields: fields.iter().map(|s| s.to_string()).collect(),
    });
    a
}

/// BPJS Kesehatan's members: NIK_CILACAP (PBI APBN) and NIK_PPU (formal employee).
async fn seed_bpjs_members(db: &std::path::Path) {
    use sinergi_model::standard::{Record, Table, Value as V};
    let store = sinergi_store::Store::open(Some(&format!("sqlite://{}", db.display())))
        .await
        .unwrap();
    let t = Table::HealthMembership;
    let i = |f: &str| t.field_index(f).unwrap();
    let row = |card: &str, nik: &str, segment: &str| {
        let mut v = vec![V::Null; t.fields().len()];
        v[i("card_no")] = text(card);
        v[i("nik")] = text(nik);
        v[i("segment")] = text(segment);
        v[i("active")] = V::Bool(true);
        v[i("catastrophic")] = V::Bool(false);
        Record {
            table: t,
            values: v,
        }
    };
    let rows = vec![
        row("0001234567890", NIK_CILACAP, "PBI_APBN"),
        row("0001234567891", NIK_PPU, "PPU"),
    ];
    load(&store, "bpjs-kesehatan", t, "BPJS Kesehatan", rows).await;
    store.close().await;
}

/// What Kemensos's validator asks of Dukcapil and of BPJS Kesehatan.
pub(crate) const DUKCAPIL_SERVICES: &[&str] =
    &["pencarian-identitas-batch", "fakta-penduduk-batch"];
pub(crate) const BPJS_SERVICES: &[&str] = &["fakta-kepesertaan-batch"];

/// An agreement from `provider` to Kemensos for every one of `services` (no fields: the
/// services answer facts, never registry values).
pub(crate) fn engine_agreement(id: &str, provider: &str, services: &[&str]) -> Agreement {
    let mut a = agreement(id, provider, KEMENSOS, services[0], &[]);
    for s in &services[1..] {
        a.services.push(ServiceGrant {
            service_code: s.to_string(),
            fields: Vec::new(),
        });
    }
    a
}

struct Fed {
    _dirs: [TempDir; 3],
    dukcapil: Node,
    bpjs: Node,
    kemensos: Node,
    http: HttpClient,
    siks: NewToken,
    loket: NewToken,
    tanpa: NewToken,
}

#[derive(Clone, Copy)]
struct Opts {
    /// Kemensos's `max_body_bytes` (default when `None`).
    body_limit: Option<usize>,
    /// Whether BPJS Kesehatan has an agreement with Kemensos at all.
    bpjs_agrees: bool,
    /// Kemensos reaches "BPJS Kesehatan" at an address that accepts connections and never
    /// answers, with `peer_timeout_secs = 1`.
    bpjs_hangs: bool,
}

const DEFAULT: Opts = Opts {
    body_limit: None,
    bpjs_agrees: true,
    bpjs_hangs: false,
};

/// An address that accepts TCP connections and never answers on them.
async fn silent_peer() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = l.accept().await {
            held.push(sock);
        }
    });
    format!("http://{addr}")
}

async fn federation(o: Opts) -> Fed {
    let dirs = [
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
    ];
    seed_dukcapil(&dirs[0].path().join("sinergi.db"), 3).await;
    seed_bpjs_members(&dirs[1].path().join("sinergi.db")).await;
    let (kemensos_key, kemensos_key_path) = key_file(dirs[2].path(), "kemensos");

    let mut c1 = config(dirs[0].path(), "dukcapil");
    c1.members.push(member(DUKCAPIL, None, DUKCAPIL_SERVICES));
    c1.peers
        .push(peer("http://127.0.0.1:9", KEMENSOS, &kemensos_key, &[]));
    c1.agreements.push(engine_agreement(
        "PKS-DUKCAPIL-KEMENSOS",
        DUKCAPIL,
        DUKCAPIL_SERVICES,
    ));
    let dukcapil = start(c1).await;

    let mut c2 = config(dirs[1].path(), "bpjs-kesehatan");
    c2.members.push(member(BPJS, None, BPJS_SERVICES));
    c2.peers
        .push(peer("http://127.0.0.1:9", KEMENSOS, &kemensos_key, &[]));
    if o.bpjs_agrees {
        c2.agreements
            .push(engine_agreement("PKS-BPJS-KEMENSOS", BPJS, BPJS_SERVICES));
    }
    let bpjs = start(c2).await;

    let mut c3 = config(dirs[2].path(), "kemensos");
    if let Some(limit) = o.body_limit {
        c3.max_body_bytes = limit;
    }
    c3.members.push(member(
        KEMENSOS,
        Some(kemensos_key_path),
        &["validasi-penerima", "validasi-penerima-batch"],
    ));
    c3.peers.push(peer_pub(
        &dukcapil.base,
        DUKCAPIL,
        &public_of(&dukcapil),
        DUKCAPIL_SERVICES,
    ));
    let bpjs_base = if o.bpjs_hangs {
        c3.peer_timeout_secs = 1;
        silent_peer().await
    } else {
        bpjs.base.clone()
    };
    c3.peers
        .push(peer_pub(&bpjs_base, BPJS, &public_of(&bpjs), BPJS_SERVICES));
    let (siks, t1) = token_for(SIKS, 9);
    let (loket, t2) = token_for(LOKET, 10);
    let (tanpa, t3) = token_for(TANPA, 11);
    c3.tokens = vec![t1, t2, t3];
    c3.agreements.push(both(
        "PKS-KEMENSOS-SIKS",
        KEMENSOS,
        SIKS,
        "validasi-penerima",
        &[],
    ));
    c3.agreements.push(agreement(
        "PKS-KEMENSOS-LOKET",
        KEMENSOS,
        LOKET,
        "validasi-penerima",
        &[],
    ));
    let kemensos = start(c3).await;
    Fed {
        _dirs: dirs,
        dukcapil,
        bpjs,
        kemensos,
        http: http(),
        siks,
        loket,
        tanpa,
    }
}

fn headers(token: &NewToken, client: &str, rid: &str) -> Vec<(String, String)> {
    vec![
        (
            "authorization".to_string(),
            format!("Bearer {}", token.plaintext),
        ),
        ("x-road-client".to_string(), client.to_string()),
        ("x-road-id".to_string(), rid.to_string()),
        ("x-road-userid".to_string(), "operator.siks".to_string()),
        (
            "x-sinergi-purpose".to_string(),
            "VALIDASI_BANSOS".to_string(),
        ),
    ]
}

impl Fed {
    fn list_url(&self, query: &str) -> String {
        format!(
            "{}/r1/{KEMENSOS}/validasi-penerima-batch{query}",
            self.kemensos.base
        )
    }

    /// Sends a list as SIKS; the answer lines.
    async fn list(&self, query: &str, rid: &str, body: Vec<u8>) -> (Resp, Vec<Value>) {
        let h = headers(&self.siks, SIKS, rid);
        self.list_as(h, query, body).await
    }

    async fn list_as(
        &self,
        h: Vec<(String, String)>,
        query: &str,
        body: Vec<u8>,
    ) -> (Resp, Vec<Value>) {
        let r = send(&self.http, "POST", &self.list_url(query), &h, body).await;
        let lines = if r.status == 200 {
            r.ndjson()
        } else {
            Vec::new()
        };
        (r, lines)
    }

    /// The single `validasi-penerima` answer for one recipient.
    async fn single(&self, body: &Value, rid: &str) -> Value {
        let url = format!("{}/r1/{KEMENSOS}/validasi-penerima", self.kemensos.base);
        let h = headers(&self.siks, SIKS, rid);
        let r = send(
            &self.http,
            "POST",
            &url,
            &h,
            serde_json::to_vec(body).unwrap(),
        )
        .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json()
    }

    async fn metrics(&self, n: &Node) -> String {
        let r = send(
            &self.http,
            "GET",
            &format!("{}/metrics", n.base),
            &[],
            vec![],
        )
        .await;
        String::from_utf8_lossy(&r.body).into_owned()
    }

    async fn stop(self) {
        for n in [self.kemensos, self.bpjs, self.dukcapil] {
            n.running.stop().await.unwrap();
        }
    }
}

fn ndjson(lines: &[&str]) -> Vec<u8> {
    let mut b = lines.join("\n").into_bytes();
    b.push(b'\n');
    b
}

fn codes(v: &Value) -> Vec<String> {
    v["verdict"]["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons: {v}"))
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

/// `requests_total` of a service with status 200 in a node's metrics (0 when absent).
fn served(metrics: &str, service: &str) -> u64 {
    let key = format!("sinergi_requests_total{{service=\"{service}\",status=\"200\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test]
async fn kemensos_validates_a_list_through_the_registries_batch_services() {
    let f = federation(DEFAULT).await;
    let recipients = [
        json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH", "tgl_lahir": "1990-05-15",
               "kode_wilayah": "3301012001"}),
        json!({"nik": NIK_SURABAYA, "nama": "BUDI SANTOSO"}),
        json!({"nik": NIK_NO_BPJS, "nama": "WARGA UJI", "tgl_lahir": "1990-01-01"}),
        json!({"nik": "12345", "nama": "SALAH KETIK"}),
        json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH", "tgl_lahir": "1990-05-15",
               "kode_wilayah": "3301012001"}),
        json!({"nik": NIK_UNKNOWN, "nama": "TIDAK ADA"}),
        json!({"nik": NIK_PPU, "nama": "WARGA UJI", "tgl_lahir": "1990-01-01"}),
    ];
    let r = |i: usize| recipients[i].to_string();
    // Line 3 is blank, line 6 is not JSON.
    let body = ndjson(&[
        &r(0),
        &r(1),
        "",
        &r(2),
        &r(3),
        "{\"nik\": \"3301015505900001\", nama",
        &r(4),
        &r(5),
        &r(6),
    ]);
    let (resp, lines) = f.list("?program=PBI_JK", "list-1", body).await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(
        resp.headers["content-type"],
        "application/x-ndjson",
        "{resp:?}",
        resp = resp.headers
    );
    let baris: Vec<u64> = lines.iter().map(|l| l["baris"].as_u64().unwrap()).collect();
    assert_eq!(baris, [1, 2, 4, 5, 6, 7, 8, 9], "{lines:?}");

    // The registries were asked once per stage, through their batch services: the list's
    // model learnt on its lines and who each line is in one call.
    let m = f.metrics(&f.dukcapil).await;
    assert_eq!(served(&m, "pencarian-identitas-batch"), 1, "{m}");
    assert_eq!(served(&m, "fakta-penduduk-batch"), 1, "{m}");
    let m = f.metrics(&f.bpjs).await;
    assert_eq!(served(&m, "fakta-kepesertaan-batch"), 1, "{m}");
    // Dukcapil audited one search per recipient line (the invalid NIK too: the engine looks
    // for its person by name and birth date), same X-Road-Id and user.
    let asked: Vec<Value> = last_entries(&f.http, &f.dukcapil.base, 100)
        .await
        .into_iter()
        .filter(|e| e["request_id"] == "list-1")
        .collect();
    let searched = asked
        .iter()
        .filter(|e| {
            e["service"]
                .as_str()
                .unwrap()
                .ends_with("pencarian-identitas-batch")
        })
        .count();
    assert_eq!(searched, 7, "{asked:?}");
    assert!(asked.iter().all(|e| {
        e["client"] == KEMENSOS && e["user_id"] == "operator.siks" && e["decision"] == "ALLOWED"
    }));

    // Each line, by what it is.
    let by = |b: u64| lines.iter().find(|l| l["baris"] == b).unwrap();
    let l1 = by(1);
    assert_eq!(l1["nik"], NIK_CILACAP);
    assert_eq!(l1["program"], "PBI_JK");
    assert_eq!(l1["nik_tertaut"], NIK_CILACAP, "{l1}");
    assert_eq!(l1["sources"]["dukcapil"], "ok", "{l1}");
    assert_eq!(l1["sources"]["bpjs_kesehatan"], "ok", "{l1}");
    assert!(
        l1["sources"]["dtsen"]
            .as_str()
            .unwrap()
            .starts_with("NO_ROUTE"),
        "{l1}"
    );
    let c1 = codes(l1);
    assert!(
        !c1.iter()
            .any(|c| c == "DECEASED" || c == "NIK_NOT_FOUND" || c == "DUPLICATE_IN_LIST"),
        "{l1}"
    );
    assert!(
        l1["verdict"]["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("DECILE")),
        "{l1}"
    );
    // Why, per check: the registry no node provides.
    let why = l1["tidak_diperiksa"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "DECILE_ABOVE_CUT")
        .unwrap_or_else(|| panic!("{l1}"));
    assert_eq!(why["why"], "NO_ROUTE", "{why}");
    assert!(
        !l1["verdict"]["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "FORMAL_EMPLOYEE_INSURED"),
        "BPJS Kesehatan answered: {l1}"
    );
    let l2 = by(2);
    assert_eq!(l2["verdict"]["verdict"], "TIDAK_LAYAK", "{l2}");
    assert!(codes(l2).contains(&"DECEASED".to_string()), "{l2}");
    // Line 4's person is unknown to BPJS Kesehatan: an answer (not a check left undone),
    // and no insurance reason; line 9's is insured as a formal employee.
    let l4 = by(4);
    assert_eq!(l4["sources"]["bpjs_kesehatan"], "ok", "{l4}");
    assert!(!codes(l4).contains(&"NIK_NOT_FOUND".to_string()), "{l4}");
    assert!(
        !codes(l4).contains(&"FORMAL_EMPLOYEE_INSURED".to_string())
            && !l4["verdict"]["not_checked"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "FORMAL_EMPLOYEE_INSURED"),
        "{l4}"
    );
    let l9 = by(9);
    assert_eq!(l9["verdict"]["verdict"], "TIDAK_LAYAK", "{l9}");
    assert!(
        codes(l9).contains(&"FORMAL_EMPLOYEE_INSURED".to_string()),
        "{l9}"
    );
    let l5 = by(5);
    assert!(codes(l5).contains(&"NIK_INVALID".to_string()), "{l5}");
    assert!(l5["nik_tertaut"].is_null(), "nobody is SALAH KETIK: {l5}");
    let l6 = by(6);
    assert_eq!(l6["code"], "REQUEST_INVALID", "{l6}");
    assert!(
        l6["message"].as_str().unwrap().contains("Baris ini"),
        "{l6}"
    );
    assert!(l6.get("verdict").is_none());
    let l7 = by(7);
    assert!(codes(l7).contains(&"DUPLICATE_IN_LIST".to_string()), "{l7}");
    let dup = l7["verdict"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "DUPLICATE_IN_LIST")
        .unwrap();
    assert_eq!(dup["detail"], "sama dengan baris 1", "{dup}");
    let l8 = by(8);
    assert!(codes(l8).contains(&"NIK_NOT_FOUND".to_string()), "{l8}");

    // Every validated line says what the single call says about the same person.
    for (b, i) in [(1, 0), (2, 1), (4, 2), (5, 3), (8, 5), (9, 6)] {
        let mut q = recipients[i].clone();
        q["program"] = json!("PBI_JK");
        let single = f.single(&q, &format!("single-{b}")).await;
        assert_eq!(
            by(b)["verdict"]["verdict"],
            single["verdict"]["verdict"],
            "line {b}"
        );
        assert_eq!(codes(by(b)), codes(&single), "line {b}");
        assert_eq!(by(b)["nik"], single["nik"], "line {b}");
        assert_eq!(by(b)["program"], single["program"], "line {b}");
        assert_eq!(by(b)["sources"], single["sources"], "line {b}");
    }
    // The duplicate: the first line's verdict plus DUPLICATE_IN_LIST.
    let mut c7 = codes(l7);
    c7.retain(|c| c != "DUPLICATE_IN_LIST");
    assert_eq!(c7, c1);

    // Kemensos: one audit entry per answered line, with the subject's keyed hash.
    let entries: Vec<Value> = last_entries(&f.http, &f.kemensos.base, 100)
        .await
        .into_iter()
        .filter(|e| e["request_id"] == "list-1")
        .collect();
    assert_eq!(entries.len(), 8, "{entries:?}");
    let decisions: Vec<&str> = entries
        .iter()
        .map(|e| e["decision"].as_str().unwrap())
        .collect();
    assert_eq!(
        decisions,
        [
            "ALLOWED",
            "ALLOWED",
            "ALLOWED",
            "ALLOWED",
            "REQUEST_INVALID",
            "ALLOWED",
            "ALLOWED",
            "ALLOWED"
        ]
    );
    assert!(entries.iter().all(|e| {
        e["client"] == SIKS
            && e["user_id"] == "operator.siks"
            && e["service"]
                .as_str()
                .unwrap()
                .ends_with("validasi-penerima-batch")
    }));
    assert!(entries[0]["subject_hash"].is_string(), "{}", entries[0]);
    assert!(entries[4]["subject_hash"].is_null(), "{}", entries[4]);
    let r = send(
        &f.http,
        "POST",
        &format!("{}/admin/audit/subject", f.kemensos.base),
        &admin_headers(),
        serde_json::to_vec(&json!({"nik": NIK_CILACAP})).unwrap(),
    )
    .await;
    let who: Vec<Value> = r.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["request_id"] == "list-1")
        .cloned()
        .collect();
    assert_eq!(who.len(), 2, "lines 1 and 7 are about NIK_CILACAP: {who:?}");
    let m = f.metrics(&f.kemensos).await;
    assert_eq!(served(&m, "validasi-penerima-batch"), 1, "{m}");
    f.stop().await;
}

#[tokio::test]
async fn list_lines_that_are_not_recipients_are_answered_with_a_reason() {
    let f = federation(DEFAULT).await;
    let long_name = "A".repeat(1 << 20);
    let long_nik = "3".repeat(100_000);
    let mut body = Vec::new();
    body.extend_from_slice(b"not json\n");
    body.extend_from_slice(b"{\"nik\":\"33010155\xff\xfe0001\"}\n");
    body.extend_from_slice(b"\xc3\x28\x00\x01\n");
    body.extend_from_slice(b"[1,2,3]\n");
    body.extend_from_slice(format!("{{\"nik\":{NIK_CILACAP}}}\n").as_bytes());
    body.extend_from_slice(b"   \r\n");
    body.extend_from_slice(
        json!({"nik": NIK_CILACAP, "nama": long_name})
            .to_string()
            .as_bytes(),
    );
    body.push(b'\n');
    body.extend_from_slice(json!({"nik": long_nik}).to_string().as_bytes());
    body.push(b'\n');
    body.extend_from_slice(json!({"nik": NIK_SURABAYA}).to_string().as_bytes());
    let (r, lines) = f.list("", "bad-1", body.clone()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let baris: Vec<u64> = lines.iter().map(|l| l["baris"].as_u64().unwrap()).collect();
    assert_eq!(baris, [1, 2, 3, 4, 5, 7, 8, 9], "{lines:?}");
    for l in &lines[..5] {
        assert_eq!(l["code"], "REQUEST_INVALID", "{l}");
        assert!(
            l["message"].as_str().unwrap().starts_with("Baris ini"),
            "{l}"
        );
    }
    // The long name is asked and answered (it does not match).
    assert_eq!(lines[5]["sources"]["dukcapil"], "ok");
    assert_eq!(lines[5]["program"], "PBI_JK", "the default programme");
    assert!(
        codes(&lines[5]).contains(&"IDENTITY_MISMATCH".to_string()),
        "{}",
        lines[5]["verdict"]
    );
    assert!(
        codes(&lines[6]).contains(&"NIK_INVALID".to_string()),
        "long NIK"
    );
    // The lines after the bad ones are still answered, by the validator.
    assert_eq!(lines[7]["nik"], NIK_SURABAYA, "{}", lines[7]);
    assert!(lines[7]["verdict"]["verdict"].is_string(), "{}", lines[7]);
    // Refused lines and answered lines alike are audited.
    let n = last_entries(&f.http, &f.kemensos.base, 100)
        .await
        .into_iter()
        .filter(|e| e["request_id"] == "bad-1")
        .count();
    assert_eq!(n, 8);

    // English with Accept-Language, as every refusal.
    let mut h = headers(&f.siks, SIKS, "bad-2");
    h.push(("accept-language".into(), "en-US,en;q=0.9".into()));
    let (_, lines) = f.list_as(h, "", b"not json\n".to_vec()).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["code"], "REQUEST_INVALID");
    assert!(
        lines[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("This line"),
        "{}",
        lines[0]
    );

    // The node is still up.
    let (r, lines) = f
        .list(
            "",
            "bad-3",
            ndjson(&[&json!({"nik": NIK_CILACAP}).to_string()]),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(lines[0]["sources"]["dukcapil"], "ok");
    let (_, lines) = f
        .list(
            "",
            "bad-4",
            ndjson(&[&json!({"nik": NIK_SURABAYA, "nama": "BUDI SANTOSO"}).to_string()]),
        )
        .await;
    assert!(
        codes(&lines[0]).contains(&"DECEASED".to_string()),
        "{}",
        lines[0]
    );
    f.stop().await;
}

#[tokio::test]
async fn unknown_programme_refuses_the_whole_list() {
    let f = federation(DEFAULT).await;
    let body = ndjson(&[&json!({"nik": NIK_CILACAP}).to_string()]);
    let (r, _) = f.list("?program=BANSOS_X", "prog-1", body.clone()).await;
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.code(), "SERVICE_NOT_COVERED");
    let e = entry_for(&f.http, &f.kemensos.base, "prog-1").await;
    assert_eq!(e["decision"], "SERVICE_NOT_COVERED", "{e}");
    assert_eq!(e["client"], SIKS);
    // Nothing was asked of the registries.
    let m = f.metrics(&f.dukcapil).await;
    assert_eq!(served(&m, "pencarian-identitas-batch"), 0, "{m}");

    // A line naming an unknown programme is refused alone; the list's programme is kept
    // for the others.
    let body = ndjson(&[
        &json!({"nik": NIK_CILACAP, "program": "BANSOS_X"}).to_string(),
        &json!({"nik": NIK_CILACAP}).to_string(),
    ]);
    let (r, lines) = f.list("?program=PKH", "prog-2", body).await;
    assert_eq!(r.status, 200);
    assert_eq!(lines[0]["code"], "SERVICE_NOT_COVERED", "{}", lines[0]);
    assert_eq!(lines[1]["program"], "PKH", "{}", lines[1]);
    assert_eq!(lines[1]["verdict"]["program"], "PKH");
    f.stop().await;
}

#[tokio::test]
async fn list_over_the_body_limit_is_refused() {
    let f = federation(Opts {
        body_limit: Some(64 * 1024),
        ..DEFAULT
    })
    .await;
    let line = json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH"}).to_string();
    let n = 64 * 1024 / (line.len() + 1) + 10;
    let big = ndjson(&vec![line.as_str(); n]);
    assert!(big.len() > 64 * 1024);
    let (r, _) = f.list("", "big-1", big).await;
    assert_eq!(r.status, 413, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.code(), "REQUEST_TOO_LARGE");
    // Refused like every other refusal: with its code, in the node's audit log.
    let e = entry_for(&f.http, &f.kemensos.base, "big-1").await;
    assert_eq!(e["decision"], "REQUEST_TOO_LARGE", "{e}");
    assert_eq!(e["status"], 413, "{e}");
    let m = f.metrics(&f.dukcapil).await;
    assert_eq!(served(&m, "pencarian-identitas-batch"), 0, "{m}");
    // Under the limit the same lines are answered, every one.
    let small = ndjson(&vec![line.as_str(); n - 20]);
    assert!(small.len() < 64 * 1024);
    let (r, lines) = f.list("", "big-2", small).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(lines.len(), n - 20);
    assert!(
        lines[1..]
            .iter()
            .all(|l| codes(l).contains(&"DUPLICATE_IN_LIST".to_string()))
    );
    f.stop().await;
}

#[tokio::test]
async fn list_without_an_agreement_for_the_batch_service_is_refused_and_audited() {
    let f = federation(DEFAULT).await;
    let body = ndjson(&[&json!({"nik": NIK_CILACAP}).to_string()]);
    // LOKET may ask about one person, not about a list.
    let (r, _) = f
        .list_as(headers(&f.loket, LOKET, "ref-1"), "", body.clone())
        .await;
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.code(), "SERVICE_NOT_COVERED");
    let e = entry_for(&f.http, &f.kemensos.base, "ref-1").await;
    assert_eq!(e["decision"], "SERVICE_NOT_COVERED", "{e}");
    assert_eq!(e["pks_id"], "PKS-KEMENSOS-LOKET", "{e}");
    assert_eq!(e["client"], LOKET);
    // TANPA has no agreement at all.
    let (r, _) = f
        .list_as(headers(&f.tanpa, TANPA, "ref-2"), "", body.clone())
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.code(), "NO_AGREEMENT");
    let e = entry_for(&f.http, &f.kemensos.base, "ref-2").await;
    assert_eq!(e["decision"], "NO_AGREEMENT", "{e}");
    assert_eq!(e["clause"], "default-deny", "{e}");
    let m = f.metrics(&f.dukcapil).await;
    assert_eq!(served(&m, "pencarian-identitas-batch"), 0, "{m}");
    f.stop().await;
}

/// One recipient asked as a one-line list and as a single call while BPJS Kesehatan cannot
/// answer (bounded at 8 s: the node must give up, not wait): the list line and the single
/// answer. Both must have asked Dukcapil and left BPJS's check not done, the same way.
async fn without_bpjs(f: &Fed, rid: &str) -> (Value, Value) {
    let q = json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH", "tgl_lahir": "1990-05-15",
                   "kode_wilayah": "3301012001", "program": "PBI_JK"});
    let ((r, lines), single) = tokio::time::timeout(std::time::Duration::from_secs(8), async {
        let list = f
            .list("", &format!("{rid}-list"), ndjson(&[&q.to_string()]))
            .await;
        (list, f.single(&q, &format!("{rid}-single")).await)
    })
    .await
    .expect("Kemensos still waits for a registry that cannot answer");
    assert_eq!(r.status, 200);
    let l = lines[0].clone();
    assert_eq!(l["sources"]["dukcapil"], "ok", "{l}");
    assert!(
        l["verdict"]["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "FORMAL_EMPLOYEE_INSURED"),
        "{l}"
    );
    assert_eq!(l["verdict"]["verdict"], single["verdict"]["verdict"]);
    assert_eq!(codes(&l), codes(&single));
    (l, single)
}

#[tokio::test]
async fn registry_that_refuses_leaves_its_facts_not_checked_as_for_one_person() {
    let f = federation(Opts {
        bpjs_agrees: false,
        ..DEFAULT
    })
    .await;
    let (l, single) = without_bpjs(&f, "nobpjs").await;
    for s in [
        &l["sources"]["bpjs_kesehatan"],
        &single["sources"]["bpjs_kesehatan"],
    ] {
        let s = s.as_str().unwrap();
        assert!(
            s.starts_with("REFUSED") && s.contains("NO_AGREEMENT"),
            "{s}"
        );
    }
    // The refusal is in BPJS Kesehatan's audit log, under Kemensos's name.
    let e = last_entries(&f.http, &f.bpjs.base, 10).await;
    assert!(
        e.iter()
            .any(|e| e["client"] == KEMENSOS && e["decision"] == "NO_AGREEMENT"),
        "{e:?}"
    );
    f.stop().await;
}

#[tokio::test]
async fn registry_that_never_answers_is_given_up_after_the_peer_timeout() {
    let f = federation(Opts {
        bpjs_hangs: true,
        ..DEFAULT
    })
    .await;
    // peer_timeout_secs = 1: each call is given up after a second, not held for ever.
    let (l, single) = without_bpjs(&f, "hang").await;
    for s in [
        &l["sources"]["bpjs_kesehatan"],
        &single["sources"]["bpjs_kesehatan"],
    ] {
        let s = s.as_str().unwrap();
        assert!(s.starts_with("TIMEOUT") && s.contains("1 detik"), "{s}");
    }
    f.stop().await;
}

#[tokio::test]
async fn node_documents_the_list_service() {
    let f = federation(DEFAULT).await;
    let b = &f.kemensos.base;
    let r = send(
        &f.http,
        "GET",
        &format!("{b}/r1/{KEMENSOS}/listMethods"),
        &[],
        vec![],
    )
    .await;
    let codes: Vec<String> = r.json()["service"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["validasi-penerima", "validasi-penerima-batch"]);
    let r = send(
        &f.http,
        "GET",
        &format!("{b}/r1/{KEMENSOS}/getOpenAPI?serviceCode=validasi-penerima-batch"),
        &[],
        vec![],
    )
    .await;
    let doc = r.json();
    let op = &doc["paths"][format!("/r1/{KEMENSOS}/validasi-penerima-batch")]["post"];
    assert!(
        op["requestBody"]["content"]["application/x-ndjson"].is_object(),
        "{doc}"
    );
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        params.contains(&"program") && params.contains(&"kode_wilayah"),
        "{params:?}"
    );
    assert!(
        op["responses"]["200"]["content"]["application/x-ndjson"]["schema"]["properties"]["baris"]
            .is_object(),
        "{doc}"
    );
    f.stop().await;
}

#[tokio::test]
async fn long_list_is_asked_in_chunks_and_keeps_duplicates_across_them() {
    let f = federation(DEFAULT).await;
    let a = json!({"nik": NIK_CILACAP}).to_string();
    let b = json!({"nik": NIK_SURABAYA}).to_string();
    let chunk = sinergi_server::validasi::LIST_CHUNK;
    let n = chunk + 52;
    let list: Vec<&str> = (0..n)
        .map(|i| if i % 2 == 0 { a.as_str() } else { b.as_str() })
        .collect();
    let (r, lines) = f.list("", "long-1", ndjson(&list)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(lines.len(), n);
    assert!(
        lines
            .iter()
            .enumerate()
            .all(|(i, l)| l["baris"] == i as u64 + 1)
    );
    // Two chunks (LIST_CHUNK lines, then 52): two batch calls to each registry. Dukcapil is
    // asked about the second chunk's rows while the first one's facts are gathered, once.
    let m = f.metrics(&f.dukcapil).await;
    assert_eq!(served(&m, "pencarian-identitas-batch"), 2, "{m}");
    let m = f.metrics(&f.bpjs).await;
    assert_eq!(served(&m, "fakta-kepesertaan-batch"), 2, "{m}");
    assert!(!codes(&lines[0]).contains(&"DUPLICATE_IN_LIST".to_string()));
    assert!(!codes(&lines[1]).contains(&"DUPLICATE_IN_LIST".to_string()));
    // The second chunk's second line repeats line 2's person, and is known dead as line 2 is.
    let second = chunk + 1;
    let dup = lines[second]["verdict"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "DUPLICATE_IN_LIST")
        .unwrap_or_else(|| panic!("{}", lines[second]));
    assert_eq!(dup["detail"], "sama dengan baris 2");
    assert!(codes(&lines[second]).contains(&"DECEASED".to_string()));
    // Rows whose identity was asked ahead get what the same rows got in the first chunk.
    assert_eq!(codes(&lines[chunk + 1]), codes(&lines[3]));
    assert_eq!(codes(&lines[chunk]), codes(&lines[2]));
    f.stop().await;
}

/// Kemensos's household ledger: a PKH roster stored in Kemensos's own store (its row's family
/// found through Dukcapil, as validation finds it) and a BPNT list Kemensos validated both
/// count, so a BLT Dana Desa list (not combinable with either) gets PROGRAM_OVERLAP over the
/// API, citing the list it rests on; another family does not.
#[tokio::test]
async fn stored_rosters_and_validated_lists_feed_the_household_ledger() {
    use sinergi_model::standard::{Record, Table, Value as V};
    let f = federation(DEFAULT).await;
    // The PKH roster at Kemensos: the second WARGA UJI (KK 3301010101100009).
    let store = sinergi_store::Store::open(Some(&format!(
        "sqlite://{}",
        f._dirs[2].path().join("sinergi.db").display()
    )))
    .await
    .unwrap();
    let t = Table::RosterEntry;
    let mut v = vec![V::Null; t.fields().len()];
    let i = |name: &str| t.field_index(name).unwrap();
    v[i("program")] = text("PKH");
    v[i("period")] = text("2026-11");
    v[i("row_no")] = text("1");
    v[i("nik_raw")] = text(NIK_PPU);
    v[i("nik")] = text(NIK_PPU);
    v[i("name")] = text("WARGA UJI");
    v[i("birth_date")] = text("1990-01-01");
    v[i("region")] = text("3301012001");
    load(
        &store,
        "roster-PKH",
        t,
        "Kemensos",
        vec![Record {
            table: t,
            values: v,
        }],
    )
    .await;
    store.close().await;

    // A BPNT list for the same period, with SITI AMINAH (KK 3301010101100001).
    let siti = json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH", "tgl_lahir": "1990-05-15"});
    let (r, lines) = f
        .list(
            "?program=BPNT&periode=2026-11",
            "ledger-bpnt",
            ndjson(&[&siti.to_string()]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(!codes(&lines[0]).contains(&"PROGRAM_OVERLAP".to_string()));

    // BLT Dana Desa: SITI AMINAH (BPNT, validated here), the first WARGA UJI (same family as
    // the stored PKH row), and a third person of neither list's family.
    let warga = json!({"nik": NIK_NO_BPJS, "nama": "WARGA UJI", "tgl_lahir": "1990-01-01"});
    let budi = json!({"nik": NIK_SURABAYA, "nama": "BUDI SANTOSO", "tgl_lahir": "1985-01-02"});
    let (r, lines) = f
        .list(
            "?program=BLT_DD&periode=2026-11",
            "ledger-blt",
            ndjson(&[&siti.to_string(), &warga.to_string(), &budi.to_string()]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let overlap = |l: &Value| -> Option<Value> {
        l["verdict"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "PROGRAM_OVERLAP")
            .cloned()
    };
    let o = overlap(&lines[0]).unwrap_or_else(|| panic!("{}", lines[0]));
    assert!(
        o["source"]["dataset"]
            .as_str()
            .unwrap()
            .contains("validasi-penerima-batch BPNT 2026-11"),
        "{o}"
    );
    let o = overlap(&lines[1]).unwrap_or_else(|| panic!("{}", lines[1]));
    assert!(
        o["source"]["dataset"]
            .as_str()
            .unwrap()
            .contains("roster-PKH"),
        "{o}"
    );
    assert!(overlap(&lines[2]).is_none(), "{}", lines[2]);
    // The check was made for every line (a ledger exists), not left undone.
    assert!(
        lines.iter().all(|l| !l["verdict"]["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "PROGRAM_OVERLAP")),
        "{lines:?}"
    );
    f.stop().await;
}
