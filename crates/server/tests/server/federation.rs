//! THE integration test: three nodes (Dukcapil, BPJS Kesehatan, Kemensos) on loopback with
//! separate databases; Kemensos runs `validasi-penerima` for one person end to end with the
//! engine's validator, reaching the other two over signed HTTP (Dukcapil's
//! `pencarian-identitas-batch` and `fakta-penduduk-batch`, BPJS Kesehatan's
//! `fakta-kepesertaan-batch`).

use serde_json::json;
use tempfile::TempDir;

use crate::common::*;
use crate::validasi_batch::{BPJS_SERVICES, DUKCAPIL_SERVICES, engine_agreement};

const SIKS: &str = "ID/GOV/KEMENSOS/SIKS";

#[tokio::test]
async fn kemensos_validates_one_recipient_across_three_nodes() {
    let (d1, d2, d3) = (
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
    );
    seed_dukcapil(&d1.path().join("sinergi.db"), 0).await;
    seed_bpjs(&d2.path().join("sinergi.db")).await;
    let (kemensos_key, kemensos_key_path) = key_file(d3.path(), "kemensos");

    let mut c1 = config(d1.path(), "dukcapil");
    c1.members.push(member(DUKCAPIL, None, DUKCAPIL_SERVICES));
    c1.peers
        .push(peer("http://127.0.0.1:9", KEMENSOS, &kemensos_key, &[]));
    c1.agreements.push(engine_agreement(
        "PKS-DUKCAPIL-KEMENSOS",
        DUKCAPIL,
        DUKCAPIL_SERVICES,
    ));
    let dukcapil = start(c1).await;

    let mut c2 = config(d2.path(), "bpjs-kesehatan");
    c2.members.push(member(BPJS, None, BPJS_SERVICES));
    c2.peers
        .push(peer("http://127.0.0.1:9", KEMENSOS, &kemensos_key, &[]));
    c2.agreements
        .push(engine_agreement("PKS-BPJS-KEMENSOS", BPJS, BPJS_SERVICES));
    let bpjs = start(c2).await;

    let dukcapil_key = public_of(&dukcapil);
    let bpjs_key = public_of(&bpjs);
    let mut c3 = config(d3.path(), "kemensos");
    c3.members.push(member(
        KEMENSOS,
        Some(kemensos_key_path),
        &["validasi-penerima"],
    ));
    c3.peers.push(peer_pub(
        &dukcapil.base,
        DUKCAPIL,
        &dukcapil_key,
        DUKCAPIL_SERVICES,
    ));
    c3.peers
        .push(peer_pub(&bpjs.base, BPJS, &bpjs_key, BPJS_SERVICES));
    let (siks, t) = token_for(SIKS, 9);
    c3.tokens.push(t);
    c3.agreements.push(agreement(
        "PKS-KEMENSOS-SIKS",
        KEMENSOS,
        SIKS,
        "validasi-penerima",
        &["nik_saran"],
    ));
    let kemensos = start(c3).await;

    let http = http();
    let url = format!("{}/r1/{KEMENSOS}/validasi-penerima", kemensos.base);
    let h = vec![
        (
            "authorization".to_string(),
            format!("Bearer {}", siks.plaintext),
        ),
        ("x-road-client".to_string(), SIKS.to_string()),
        ("x-road-id".to_string(), "val-1".to_string()),
        ("x-road-userid".to_string(), "operator.siks".to_string()),
        (
            "x-sinergi-purpose".to_string(),
            "VALIDASI_BANSOS".to_string(),
        ),
    ];
    let body = json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH", "tgl_lahir": "1990-05-15",
                      "program": "PBI_JK", "kode_wilayah": "3301012001"});
    let r = send(&http, "POST", &url, &h, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    assert_eq!(j["sources"]["dukcapil"], "ok", "{j}");
    assert_eq!(j["sources"]["bpjs_kesehatan"], "ok", "{j}");
    // DTSEN and BKN are not reachable from this federation: their checks are listed as not
    // checked rather than guessed.
    assert!(
        j["sources"]["dtsen"]
            .as_str()
            .unwrap()
            .starts_with("NO_ROUTE"),
        "{j}"
    );
    let verdict = &j["verdict"];
    assert_eq!(verdict["program"], "PBI_JK");
    assert!(verdict["verdict"].is_string(), "{j}");
    let reasons: Vec<&str> = verdict["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(
        !reasons.contains(&"DECEASED") && !reasons.contains(&"NIK_NOT_FOUND"),
        "{j}"
    );
    let not_checked = verdict["not_checked"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        not_checked
            .iter()
            .any(|c| c.as_str().unwrap().contains("DECILE")),
        "{j}"
    );

    // Each provider audited Kemensos's signed call, with the same X-Road-Id and user.
    for node in [&dukcapil, &bpjs] {
        let e = entry_for(&http, &node.base, "val-1").await;
        assert_eq!(e["decision"], "ALLOWED", "{e}");
        assert_eq!(e["client"], KEMENSOS);
        assert_eq!(e["user_id"], "operator.siks");
    }
    let e = entry_for(&http, &kemensos.base, "val-1").await;
    assert_eq!(e["client"], SIKS);
    assert_eq!(e["decision"], "ALLOWED");

    // A deceased person is TIDAK LAYAK, from Dukcapil's answer.
    let body = json!({"nik": NIK_SURABAYA, "nama": "BUDI SANTOSO", "program": "PBI_JK"});
    let mut h2 = h.clone();
    h2[2].1 = "val-2".into();
    let r = send(&http, "POST", &url, &h2, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["verdict"]["verdict"], "TIDAK_LAYAK", "{j}");
    assert!(
        j["verdict"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "DECEASED"),
        "{j}"
    );

    // A mistyped NIK: Dukcapil's linkage finds the person by name and birth date, and the
    // verdict proposes the right NIK, shown because the agreement grants nik_saran.
    let typo = "3301015505900007";
    let body = json!({"nik": typo, "nama": "SITI AMINAH", "tgl_lahir": "1990-05-15",
                      "program": "PBI_JK", "fields": ["nik_saran"]});
    let mut h3 = h.clone();
    h3[2].1 = "val-3".into();
    let r = send(&http, "POST", &url, &h3, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    assert_eq!(j["nik_saran"], NIK_CILACAP, "{j}");
    let reason = j["verdict"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["suggested_nik"] == NIK_CILACAP)
        .unwrap_or_else(|| panic!("no reason proposes the right NIK: {j}"));
    assert_eq!(reason["code"], "NIK_NOT_FOUND", "{j}");
    // Without asking for nik_saran, the same rule applies and no NIK is shown.
    let mut body = body;
    body["fields"] = json!([]);
    h3[2].1 = "val-4".into();
    let r = send(&http, "POST", &url, &h3, serde_json::to_vec(&body).unwrap()).await;
    let j = r.json();
    assert!(
        j["nik_saran"].is_null() && j["nik_tertaut"].is_null(),
        "{j}"
    );
    assert!(!j.to_string().contains(NIK_CILACAP), "{j}");
    assert!(
        j["verdict"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "NIK_NOT_FOUND"),
        "{j}"
    );

    for n in [kemensos, bpjs, dukcapil] {
        n.running.stop().await.unwrap();
    }
}

pub(crate) fn public_of(n: &Node) -> String {
    let h = n.running.state.hosted.values().next().unwrap();
    sinergi_server::config::public_key_b64(&h.key)
}

pub(crate) fn peer_pub(
    base: &str,
    id: &str,
    public_key: &str,
    services: &[&str],
) -> sinergi_server::config::PeerConfig {
    sinergi_server::config::PeerConfig {
        base_url: base.into(),
        members: vec![sinergi_server::config::PeerMember {
            id: cid(id),
            name: id.into(),
            key_id: format!("{id}#1"),
            public_key: public_key.into(),
            services: services.iter().map(|s| s.to_string()).collect(),
        }],
    }
}
