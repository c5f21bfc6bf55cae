//! The embedded default (`config/node.example.toml`, what `sinergi serve` runs without a
//! configuration and `sinergi demo --serve` serves): every demo agency in one process,
//! Kemensos reaching the registries through the same signed service interfaces it uses across
//! nodes.

use serde_json::{Value, json};
use sinergi_server::NodeConfig;
use tempfile::TempDir;

use crate::common::*;

const APLIKASI: &str = "ID/GOV/KEMENSOS/APLIKASI";

#[tokio::test]
async fn embedded_default_validates_one_person_and_a_list_in_one_process() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("sinergi.db");
    seed_dukcapil(&db, 0).await;
    seed_bpjs(&db).await;

    let mut c = NodeConfig::embedded_default();
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.data_dir = dir.path().to_path_buf();
    c.reload_secs = 0;
    let (token, t) = token_for(APLIKASI, 31);
    c.tokens.push(t);
    let mut a = agreement("PKS-APLIKASI", KEMENSOS, APLIKASI, "validasi-penerima", &[]);
    let mut batch = a.services[0].clone();
    batch.service_code = "validasi-penerima-batch".into();
    a.services.push(batch);
    c.agreements.push(a);
    let node = start(c).await;
    let http = http();
    let h = |rid: &str| {
        vec![
            (
                "authorization".into(),
                format!("Bearer {}", token.plaintext),
            ),
            ("x-road-client".into(), APLIKASI.into()),
            ("x-road-id".into(), rid.into()),
            ("x-sinergi-purpose".into(), "VALIDASI_BANSOS".into()),
        ]
    };
    let url = |s: &str| format!("{}/r1/{KEMENSOS}/{s}", node.base);

    // One person: alive, found, insured as PBI: every registry hosted here was asked.
    let one = json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH", "program": "PBI_JK",
                     "kode_wilayah": "3301012001"});
    let r = send(
        &http,
        "POST",
        &url("validasi-penerima"),
        &h("one"),
        serde_json::to_vec(&one).unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let single = r.json();
    for registry in ["dukcapil", "bpjs_kesehatan", "dtsen", "bkn"] {
        assert_eq!(single["sources"][registry], "ok", "{single}");
    }

    // A list: the same person, the deceased one, and the same person again.
    let dead = json!({"nik": NIK_SURABAYA, "nama": "BUDI SANTOSO", "program": "PBI_JK"});
    let mut body = Vec::new();
    for q in [&one, &dead, &one] {
        body.extend(serde_json::to_vec(q).unwrap());
        body.push(b'\n');
    }
    let r = send(
        &http,
        "POST",
        &url("validasi-penerima-batch"),
        &h("list"),
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let lines: Vec<Value> = r.ndjson();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["baris"], 1);
    assert_eq!(lines[0]["verdict"], single["verdict"]);
    let codes = |v: &Value| -> Vec<String> {
        v["verdict"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        codes(&lines[1]).contains(&"DECEASED".to_string()),
        "{}",
        lines[1]
    );
    assert!(
        codes(&lines[2]).contains(&"DUPLICATE_IN_LIST".to_string()),
        "{}",
        lines[2]
    );
    node.running.stop().await.unwrap();
}
