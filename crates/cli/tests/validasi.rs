//! `sinergi validasi`: a list sent to a running node's `validasi-penerima-batch` with an API
//! token gets the verdicts `sinergi validate` gives over the same data, written as the same
//! files; a bad node address, an unreachable node, a refused token and a malformed list each
//! end with a clear message (Bahasa Indonesia, English under SINERGI_LANG=en) and no files.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sinergi_exchange::token::{NewToken, token_from_bytes};
use sinergi_exchange::{Agreement, Quota, RegionScope, ServiceGrant};
use sinergi_server::NodeConfig;
use sinergi_server::config::{TokenConfig, token_hash_hex};

const SIKS: &str = "ID/GOV/KEMENSOS/SIKS";
const KEMENSOS: &str = "ID/GOV/KEMENSOS/BANSOS";

fn sinergi(dir: &Path, lang: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sinergi"));
    c.args(args)
        .current_dir(dir)
        .env("SINERGI_DATABASE_URL", dir.join("data/sinergi.db"))
        .env_remove("SINERGI_TOKEN")
        .env_remove("SINERGI_NODE")
        .stdin(Stdio::null());
    match lang {
        Some(l) => c.env("SINERGI_LANG", l),
        None => c.env_remove("SINERGI_LANG"),
    };
    c.output().unwrap()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn cid(s: &str) -> sinergi_exchange::ClientId {
    sinergi_exchange::ClientId::parse_header(s).unwrap()
}

/// The node: the embedded default over `dir/data`, a token for SIKS and SIKS's agreement
/// for Kemensos's list service (suggested NIKs granted).
fn node_config(dir: &Path, token: &NewToken) -> NodeConfig {
    let mut c = NodeConfig::embedded_default();
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.data_dir = dir.join("data");
    c.reload_secs = 0;
    c.tokens.push(TokenConfig {
        hash: token_hash_hex(&token.hash),
        client: cid(SIKS),
        label: "uji".into(),
        expires_at: None,
        revoked_at: None,
    });
    c.agreements.push(
        Agreement {
            id: "PKS-KEMENSOS-SIKS".into(),
            provider: cid(KEMENSOS),
            consumer: cid(SIKS),
            services: vec![ServiceGrant {
                service_code: "validasi-penerima-batch".into(),
                fields: vec!["nik_saran".into()],
            }],
            purposes: vec!["VALIDASI_BANSOS".into()],
            legal_basis: "uji".into(),
            region_scope: RegionScope::National,
            valid_from: sinergi_exchange::Timestamp(0),
            valid_until: sinergi_exchange::Timestamp(1),
            quota: Quota {
                per_second: 100_000,
                per_day: 100_000_000,
            },
            status_history: vec![],
        }
        .with_dates("2025-01-01", "2030-12-31")
        .unwrap(),
    );
    c
}

/// Per row: what must agree between the node's verdicts and `sinergi validate`'s.
fn rows(dir: &Path) -> Vec<(u64, String, String, Value, Value)> {
    let v: Value =
        serde_json::from_slice(&std::fs::read(dir.join("verdicts.json")).unwrap()).unwrap();
    let rows = v
        .as_array()
        .or_else(|| v["rows"].as_array())
        .or_else(|| v["verdicts"].as_array())
        .unwrap_or_else(|| panic!("verdicts.json: {v}"));
    rows.iter()
        .map(|r| {
            let codes: Vec<&str> = r["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["code"].as_str().unwrap())
                .collect();
            (
                r["row_no"].as_u64().unwrap(),
                r["verdict"].as_str().unwrap().to_string(),
                codes.join(";"),
                r["linked_nik"].clone(),
                r["suggested_nik"].clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_list_validated_at_a_node_gets_the_verdicts_and_files_of_sinergi_validate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let world = dir.join("world");
    let w = world.to_str().unwrap();
    ok(&sinergi(
        dir,
        None,
        &["synth", "--people", "3000", "--seed", "7", "--out", w],
    ));
    for (source, file) in [
        ("dukcapil-penduduk", "dukcapil/penduduk.csv"),
        ("dukcapil-kematian", "dukcapil/kematian.csv"),
        ("dtsen", "dtsen/dtsen.csv"),
        ("bpjs-kesehatan", "bpjs-kesehatan/peserta.jsonl"),
        ("bkn-asn", "bkn/asn.xlsx"),
        ("tni-polri", "tni-polri/personel.csv"),
        ("bpjs-ketenagakerjaan-upah", "bpjs-ketenagakerjaan/upah.csv"),
    ] {
        let path = world.join(file);
        ok(&sinergi(
            dir,
            None,
            &["ingest", "--source", source, path.to_str().unwrap()],
        ));
    }
    let list = world.join("rosters/PBI_JK.xlsx");
    let list = list.to_str().unwrap();
    ok(&sinergi(
        dir,
        None,
        &[
            "validate",
            "--program",
            "PBI_JK",
            "--list",
            list,
            "--out",
            "lokal",
        ],
    ));

    let token = token_from_bytes(&[42; 32]);
    let node = sinergi_server::spawn(node_config(dir, &token))
        .await
        .unwrap();
    let url = format!("http://{}", node.addr);
    let args = |t: &str, out: &str| -> Vec<String> {
        [
            "validasi",
            "--daftar",
            list,
            "--program",
            "PBI_JK",
            "--node",
            &url,
            "--token",
            t,
            "--klien",
            SIKS,
            "--fields",
            "nik_saran",
            "--out",
            out,
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |lang: Option<&'static str>, a: Vec<String>| {
        let d = dir.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            sinergi(&d, lang, &a)
        })
    };
    let o = run(None, args(&token.plaintext, "node")).await.unwrap();
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("divalidasi di"), "{stdout}");
    for f in [
        "verdicts.csv",
        "reasons.csv",
        "verdicts.xlsx",
        "verdicts.json",
        "summary.json",
        "summary.txt",
        "manifest.json",
    ] {
        assert!(dir.join("node").join(f).is_file(), "{f}");
    }
    let (local, remote) = (rows(&dir.join("lokal")), rows(&dir.join("node")));
    assert_eq!(local.len(), remote.len());
    let differ: Vec<String> = local
        .iter()
        .zip(&remote)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("{a:?}\n   vs {b:?}"))
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(
        remote.iter().any(|r| !r.4.is_null()),
        "the list has mistyped NIKs, suggested over the network"
    );

    // A refused token: the node's code and what to check; no result folder.
    let o = run(None, args("salah", "ditolak")).await.unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("TOKEN_INVALID") && e.contains("--token"), "{e}");
    assert!(!dir.join("ditolak").exists());
    let o = run(Some("en"), args("salah", "ditolak")).await.unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("The node refused the list"), "{e}");

    node.stop().await.unwrap();

    // The node is gone: unreachable, said so.
    let o = run(None, args(&token.plaintext, "mati")).await.unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("tidak dapat dihubungi"), "{e}");
    assert!(!dir.join("mati").exists());
}

#[test]
fn bad_addresses_and_malformed_lists_are_refused_before_anything_is_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("rusak.xlsx"),
        b"PK\x03\x04 bukan xlsx \x00\xff\xfe",
    )
    .unwrap();
    std::fs::write(dir.join("kosong.xlsx"), b"").unwrap();
    let base = |node: &str, file: &str| -> Vec<String> {
        [
            "validasi",
            "--daftar",
            file,
            "--program",
            "PKH",
            "--node",
            node,
            "--token",
            "t",
        ]
        .map(String::from)
        .to_vec()
    };
    for node in [
        "ftp://10.0.0.5",
        "10.0.0.5:8480",
        "http://",
        "http://host/jalan?x=1",
        "http://user@host",
        "http://host:99999",
        "http://ho st",
        "https://host:0",
    ] {
        let a = base(node, "rusak.xlsx");
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = sinergi(dir, None, &a);
        assert!(!o.status.success(), "{node}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("Alamat node tidak sah"), "{node}: {e}");
        let o = sinergi(dir, Some("en"), &a);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("Invalid node address"), "{node}: {e}");
    }
    // A list that is not a spreadsheet, an empty one, a missing one: the reader's message,
    // nothing sent (the address is unreachable and never tried).
    for file in ["rusak.xlsx", "kosong.xlsx", "tidak-ada.xlsx"] {
        let a = base("http://127.0.0.1:9", file);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = sinergi(dir, None, &a);
        assert!(!o.status.success(), "{file}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            !e.contains("tidak dapat dihubungi") && !e.contains("panicked"),
            "{file}: {e}"
        );
        assert!(e.contains("Galat"), "{file}: {e}");
    }
    // Unknown programme: said before anything is read or sent.
    let o = sinergi(
        dir,
        None,
        &[
            "validasi",
            "--daftar",
            "rusak.xlsx",
            "--program",
            "BANSOS_X",
            "--node",
            "http://127.0.0.1:9",
            "--token",
            "t",
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("BANSOS_X"));
}
