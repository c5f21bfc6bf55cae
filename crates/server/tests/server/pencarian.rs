//! Dukcapil `pencarian-identitas`: a mistyped NIK recovered from what the row holds, with the
//! engine's own answer and nothing of the registry; every refusal audited with no candidate.

use serde_json::{Value, json};
use sinergi_exchange::{Agreement, Quota, RegionScope, ServiceGrant};
use tempfile::TempDir;

use crate::common::*;

const SVC: &str = "pencarian-identitas";
const OTHER: &str = "ID/GOV/DINSOS-3578/BANSOS";
/// NIK_CILACAP with its last digit mistyped: nobody's NIK.
const MISTYPED: &str = "3301015505900007";

fn search_agreement(id: &str, consumer: &str, quota: Quota, scope: RegionScope) -> Agreement {
    Agreement {
        id: id.into(),
        provider: cid(DUKCAPIL),
        consumer: cid(consumer),
        services: vec![
            ServiceGrant {
                service_code: SVC.into(),
                fields: vec!["bukti".into()],
            },
            ServiceGrant {
                service_code: format!("{SVC}-batch"),
                fields: vec![],
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
    .with_dates("2025-01-01", "2030-12-31")
    .unwrap()
}

struct Fixture {
    dir: TempDir,
    node: Node,
    http: HttpClient,
    dinsos: sinergi_exchange::SigningKey,
    other: sinergi_exchange::SigningKey,
}

const WIDE: Quota = Quota {
    per_second: 1000,
    per_day: 1_000_000,
};

/// Dukcapil with the search service; DINSOS-3301 may search under a national agreement,
/// OTHER (DINSOS-3578) only for Surabaya with a quota of two persons a day.
async fn fixture() -> Fixture {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 200).await;
    let mut c = config(dir.path(), "dukcapil");
    c.members
        .push(member(DUKCAPIL, None, &[SVC, "pencarian-identitas-batch"]));
    let (dinsos, _) = key_file(dir.path(), "dinsos");
    let (other, _) = key_file(dir.path(), "other");
    c.peers
        .push(peer("http://127.0.0.1:9", DINSOS, &dinsos, &[]));
    c.peers.push(peer("http://127.0.0.1:9", OTHER, &other, &[]));
    c.agreements.push(search_agreement(
        "PKS-CARI-3301",
        DINSOS,
        WIDE,
        RegionScope::National,
    ));
    c.agreements.push(search_agreement(
        "PKS-CARI-3578",
        OTHER,
        Quota {
            per_second: 1000,
            per_day: 2,
        },
        RegionScope::Regions(vec!["35.78".into()]),
    ));
    let node = start(c).await;
    Fixture {
        dir,
        node,
        http: http(),
        dinsos,
        other,
    }
}

impl Fixture {
    async fn ask(&self, who: &str, service: &str, body: Vec<u8>, purpose: &str, rid: &str) -> Resp {
        let key = if who == DINSOS {
            &self.dinsos
        } else {
            &self.other
        };
        let s = Signer::new(who, key);
        let url = format!("{}/r1/{DUKCAPIL}/{service}", self.node.base);
        let h = signed_headers(&s, &url, purpose, None, rid, &body);
        send(&self.http, "POST", &url, &h, body).await
    }

    /// Refused with `code`, audited with the same decision, and nothing about anyone in it.
    async fn assert_refused(&self, r: &Resp, code: &str, rid: &str) {
        let text = String::from_utf8_lossy(&r.body).to_string();
        assert!(r.status >= 400, "{text}");
        assert_eq!(r.json()["code"], code, "{text}");
        no_leak(&text);
        let e = entry_for(&self.http, &self.node.base, rid).await;
        assert_eq!(e["decision"], code, "{e}");
    }
}

/// No candidate, no registry value.
fn no_leak(text: &str) {
    for s in [
        NIK_CILACAP,
        "SITI",
        "AMINAH",
        "MAWAR",
        "kandidat",
        "3301010101100001",
    ] {
        assert!(!text.contains(s), "{s} leaked: {text}");
    }
}

fn row(nik: &str) -> Value {
    json!({"nik": nik, "nama": "SITI AMINAH", "tgl_lahir": "1990-05-15",
           "jenis_kelamin": "P", "tempat_lahir": "CILACAP", "kode_wilayah": "3301012001"})
}

#[tokio::test]
async fn a_mistyped_nik_is_recovered_with_the_engines_answer_and_nothing_else() {
    let f = fixture().await;
    let mut body = row(MISTYPED);
    body["fields"] = json!(["bukti"]);
    let r = f
        .ask(
            DINSOS,
            SVC,
            serde_json::to_vec(&body).unwrap(),
            "VALIDASI_BANSOS",
            "cari-1",
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    assert_eq!(j["status"], "SARAN", "{j}");
    let kandidat = j["kandidat"].as_array().unwrap();
    assert!(!kandidat.is_empty() && kandidat.len() <= 3, "{j}");
    assert_eq!(kandidat[0]["nik"], NIK_CILACAP, "{j}");
    assert!(kandidat[0]["skor"].as_f64().unwrap() > 0.5, "{j}");
    assert!(!kandidat[0]["bukti"].as_array().unwrap().is_empty(), "{j}");
    // The registry's values never travel: not the name, the KK, the address.
    let text = String::from_utf8_lossy(&r.body);
    for s in ["SITI", "AMINAH", "MAWAR", "3301010101100001"] {
        assert!(!text.contains(s), "{s} leaked: {text}");
    }
    // The identity answer is the engine's, over the same data.
    let store = sinergi_store::Store::open(Some(&format!(
        "sqlite://{}",
        f.dir.path().join("sinergi.db").display()
    )))
    .await
    .unwrap();
    let (reg, _) = sinergi_engine::Registries::load(&store, &[]).await.unwrap();
    let embedded = sinergi_engine::embedded::Embedded::new(std::sync::Arc::new(reg));
    let q = sinergi_server::pencarian::SearchQuery {
        nik: MISTYPED.into(),
        nama: "SITI AMINAH".into(),
        tgl_lahir: Some("1990-05-15".into()),
        kode_wilayah: Some("3301012001".into()),
        ..Default::default()
    };
    let local = embedded.search(&q.question(), None);
    let remote: sinergi_engine::answers::IdentityAnswer =
        serde_json::from_value(j["identitas"].clone()).unwrap();
    // The same decision; the probability to the last bits of a double (the node built its
    // index from the store, this test read the snapshot file the node wrote).
    assert_eq!(
        (
            &remote.nik_status,
            remote.person,
            remote.inferred,
            &remote.slips
        ),
        (
            &local.answer.nik_status,
            local.answer.person,
            local.answer.inferred,
            &local.answer.slips
        )
    );
    let (rs, ls) = (remote.suggestion.unwrap(), local.answer.suggestion.unwrap());
    assert_eq!(rs.0, ls.0);
    assert!((rs.1 - ls.1).abs() < 1e-9, "{rs:?} {ls:?}");
    assert_eq!(
        local.answer.suggestion.map(|s| s.0),
        Some(NIK_CILACAP.parse().unwrap())
    );
    // Audited ALLOWED with the keyed hash of the person found, never the NIK itself.
    let e = entry_for(&f.http, &f.node.base, "cari-1").await;
    assert_eq!(e["decision"], "ALLOWED", "{e}");
    assert!(e["subject_hash"].is_string(), "{e}");
    assert!(!e.to_string().contains(NIK_CILACAP), "{e}");

    // Without `bukti` asked: candidates without evidence.
    let r = f
        .ask(
            DINSOS,
            SVC,
            serde_json::to_vec(&row(MISTYPED)).unwrap(),
            "VALIDASI_BANSOS",
            "cari-2",
        )
        .await;
    let j = r.json();
    assert_eq!(j["kandidat"][0]["nik"], NIK_CILACAP, "{j}");
    assert!(j["kandidat"][0].get("bukti").is_none(), "{j}");

    // Somebody the registry does not hold: no candidate.
    let nobody = json!({"nik": "", "nama": "ZZYZX QWERTY", "tgl_lahir": "1931-02-03",
                        "kode_wilayah": "3301012001"});
    let r = f
        .ask(
            DINSOS,
            SVC,
            serde_json::to_vec(&nobody).unwrap(),
            "VALIDASI_BANSOS",
            "cari-3",
        )
        .await;
    let j = r.json();
    assert_eq!(j["status"], "TIDAK_DITEMUKAN", "{j}");
    assert!(j["kandidat"].as_array().unwrap().is_empty(), "{j}");

    // The batch: one answer per line, in order, each audited; a line that is not a row is
    // answered with its code.
    let mut nd = Vec::new();
    for v in [row(MISTYPED), row(NIK_CILACAP)] {
        serde_json::to_writer(&mut nd, &v).unwrap();
        nd.push(b'\n');
    }
    nd.extend_from_slice(b"[1,2]\n");
    let r = f
        .ask(
            DINSOS,
            "pencarian-identitas-batch?latih=true",
            nd,
            "VALIDASI_BANSOS",
            "cari-batch",
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let lines = r.ndjson();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["kandidat"][0]["nik"], NIK_CILACAP);
    assert_eq!(lines[1]["status"], "DITEMUKAN");
    assert_eq!(lines[2]["code"], "REQUEST_INVALID");
    let model = lines[0]["model"].as_str().unwrap().to_string();
    assert_eq!(lines[1]["model"], model.as_str());
    let entries = last_entries(&f.http, &f.node.base, 1000).await;
    let of_batch = entries
        .iter()
        .filter(|e| e["request_id"] == "cari-batch")
        .count();
    assert_eq!(of_batch, 3);
    f.node.running.stop().await.unwrap();
}

#[tokio::test]
async fn refused_searches_are_audited_and_answer_no_candidate() {
    let f = fixture().await;
    let body = |fields: &[&str]| {
        let mut b = row(MISTYPED);
        b["fields"] = json!(fields);
        serde_json::to_vec(&b).unwrap()
    };
    // A purpose the agreement does not list.
    let r = f
        .ask(DINSOS, SVC, body(&[]), "PEMASARAN", "no-purpose")
        .await;
    f.assert_refused(&r, "PURPOSE_NOT_ALLOWED", "no-purpose")
        .await;
    // A field the agreement does not grant (a registry value): refused whole.
    let r = f
        .ask(DINSOS, SVC, body(&["nama"]), "VALIDASI_BANSOS", "no-field")
        .await;
    f.assert_refused(&r, "FIELD_NOT_GRANTED", "no-field").await;
    // The batch grants no evidence.
    let mut nd = body(&[]);
    nd.push(b'\n');
    let r = f
        .ask(
            DINSOS,
            "pencarian-identitas-batch?fields=bukti",
            nd,
            "VALIDASI_BANSOS",
            "no-field-batch",
        )
        .await;
    f.assert_refused(&r, "FIELD_NOT_GRANTED", "no-field-batch")
        .await;
    // Out of region: OTHER may search for Surabaya only; the person found lives in Cilacap.
    let r = f
        .ask(OTHER, SVC, body(&[]), "VALIDASI_BANSOS", "no-region")
        .await;
    f.assert_refused(&r, "OUT_OF_REGION", "no-region").await;
    let e = entry_for(&f.http, &f.node.base, "no-region").await;
    assert!(e["subject_hash"].is_string(), "{e}");
    // Over quota: OTHER's two persons a day are spent (the refused search above counted
    // one); the next search is refused before anything is looked up.
    let r = f
        .ask(OTHER, SVC, body(&[]), "VALIDASI_BANSOS", "quota-1")
        .await;
    assert_eq!(r.json()["code"], "OUT_OF_REGION");
    let r = f
        .ask(OTHER, SVC, body(&[]), "VALIDASI_BANSOS", "quota-2")
        .await;
    f.assert_refused(&r, "QUOTA_EXCEEDED", "quota-2").await;
    f.node.running.stop().await.unwrap();

    // No agreement at all: a node whose only agreement is with someone else.
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 0).await;
    let mut c = config(dir.path(), "dukcapil");
    c.members.push(member(DUKCAPIL, None, &[SVC]));
    let (dinsos, _) = key_file(dir.path(), "dinsos");
    c.peers
        .push(peer("http://127.0.0.1:9", DINSOS, &dinsos, &[]));
    let node = start(c).await;
    let g = Fixture {
        dir,
        node,
        http: http(),
        dinsos,
        other: f.other.clone(),
    };
    let r = g
        .ask(DINSOS, SVC, body(&[]), "VALIDASI_BANSOS", "no-pks")
        .await;
    g.assert_refused(&r, "NO_AGREEMENT", "no-pks").await;
    g.node.running.stop().await.unwrap();
}
