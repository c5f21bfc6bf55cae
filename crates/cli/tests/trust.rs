//! `sinergi audit verify` against a log cut short, re-hashed or extended behind the node's
//! back (its witness's copies catch it), and `sinergi pks revoke` in force for every request
//! after it returns, with a node under load (issue 14, holes 1 and 8). Both failed before.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use sinergi_exchange::SigningKey;
use sinergi_exchange::httpsig::generate_signing_key;
use sinergi_exchange::token::token_from_bytes;
use sinergi_server::audit_sql::Db;

const DUKCAPIL: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA";
const BPJS: &str = "ID/GOV/BPJS-KESEHATAN/KEPESERTAAN";
const LOKET: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/LOKET";
const PKS: &str = "PKS-DUKCAPIL-LOKET-2025-001";
const NIK: &str = "3301015505900001";

fn sinergi(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sinergi"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the sinergi binary starts")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn b64(k: &SigningKey) -> String {
    base64::engine::general_purpose::STANDARD.encode(k.to_bytes())
}

fn public(k: &SigningKey) -> String {
    base64::engine::general_purpose::STANDARD.encode(k.verifying_key().as_bytes())
}

fn write_key(path: &Path) -> SigningKey {
    let k = generate_signing_key().unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b64(&k)).unwrap();
    k
}

/// Dukcapil's node: a token for its own counter system and an agreement with it, a
/// checkpoint every 4 entries, and optionally a witness.
fn dukcapil_toml(
    data_dir: &Path,
    port: u16,
    token_hash: &str,
    member_key: &Path,
    witness: Option<(u16, &SigningKey)>,
) -> String {
    let witness = witness
        .map(|(port, key)| {
            format!(
                "\n[[witnesses]]\nname = \"saksi\"\nbase_url = \"http://127.0.0.1:{port}\"\npublic_key = \"{}\"\n",
                public(key)
            )
        })
        .unwrap_or_default();
    format!(
        r#"listen = "127.0.0.1:{port}"
node_name = "uji-saksi"
data_dir = {data_dir:?}
checkpoint_every = 4
reload_secs = 0

[[members]]
id = "{DUKCAPIL}"
name = "Ditjen Dukcapil"
key_file = {member_key:?}
services = ["verifikasi-identitas"]

[[tokens]]
hash = "{token_hash}"
client = "{LOKET}"
label = "loket uji"

[[agreements]]
id = "{PKS}"
provider = "{DUKCAPIL}"
consumer = "{LOKET}"
services = [{{ service_code = "verifikasi-identitas", fields = [] }}]
purposes = ["VALIDASI_BANSOS"]
legal_basis = "UU 24/2013"
region_scope = "national"
valid_from = 1735664400000000
valid_until = 1924966800000000
quota = {{ per_second = 100000, per_day = 50000000 }}
status_history = []
{witness}"#
    )
}

/// One token POST over a plain TCP connection; the HTTP status.
fn post(addr: SocketAddr, token: &str) -> u16 {
    let body = format!(r#"{{"nik":"{NIK}"}}"#);
    let req = format!(
        "POST /r1/{DUKCAPIL}/verifikasi-identitas HTTP/1.1\r\nHost: {addr}\r\n\
         X-Road-Client: {LOKET}\r\nAuthorization: Bearer {token}\r\n\
         X-Sinergi-Purpose: VALIDASI_BANSOS\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split(' ').nth(1).unwrap().parse().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An attacker with write access to the node's audit file: the append-only triggers
/// dropped first.
async fn pool(data_dir: &Path) -> sqlx::SqlitePool {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(data_dir.join("audit.db"));
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    for s in [
        "DROP TRIGGER IF EXISTS audit_entry_no_update",
        "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    ] {
        sqlx::query(s).execute(&pool).await.unwrap();
    }
    pool
}

fn verify_json(dir: &Path, config: &Path) -> (Option<i32>, serde_json::Value, String) {
    let out = sinergi(
        dir,
        &[
            "audit",
            "verify",
            "--config",
            config.to_str().unwrap(),
            "--json",
        ],
    );
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), report, text(&out))
}

fn kinds(report: &serde_json::Value) -> Vec<String> {
    report["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_log_cut_short_rehashed_or_extended_is_caught_against_the_witness() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rt = runtime();
    let token = token_from_bytes(&[42; 32]);
    let hash: String = token.hash.0.iter().map(|b| format!("{b:02x}")).collect();

    // The witness: BPJS Kesehatan's node, which knows Dukcapil's member as a peer.
    let member_key_path = dir.join("dukcapil-member.key");
    let member_key = write_key(&member_key_path);
    let witness_port = free_port();
    let witness_dir = dir.join("saksi");
    let witness_key = write_key(&witness_dir.join("node.key"));
    let witness_toml = dir.join("saksi.toml");
    std::fs::write(
        &witness_toml,
        format!(
            "listen = \"127.0.0.1:{witness_port}\"\nnode_name = \"saksi\"\ndata_dir = {:?}\nreload_secs = 0\n\n\
             [[members]]\nid = \"{BPJS}\"\nservices = []\n\n\
             [[peers]]\nbase_url = \"http://127.0.0.1:9\"\n[[peers.members]]\nid = \"{DUKCAPIL}\"\n\
             key_id = \"{DUKCAPIL}#1\"\npublic_key = \"{}\"\n",
            witness_dir,
            public(&member_key)
        ),
    )
    .unwrap();
    let witness = rt
        .block_on(sinergi_server::spawn(
            sinergi_server::NodeConfig::load(&witness_toml).unwrap(),
        ))
        .unwrap();

    // Dukcapil's node: ten requests, then a clean stop (a final checkpoint, witnessed).
    let node_dir = dir.join("node");
    let node_toml = dir.join("node.toml");
    let toml = |data: &Path| {
        dukcapil_toml(
            data,
            0,
            &hash,
            &member_key_path,
            Some((witness_port, &witness_key)),
        )
    };
    std::fs::write(&node_toml, toml(&node_dir)).unwrap();
    let node = rt
        .block_on(sinergi_server::spawn(
            sinergi_server::NodeConfig::load(&node_toml).unwrap(),
        ))
        .unwrap();
    for _ in 0..10 {
        assert_eq!(post(node.addr, &token.plaintext), 200);
    }
    rt.block_on(node.stop()).unwrap();

    let (code, report, out) = verify_json(dir, &node_toml);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(report["last_seq"], 10, "{out}");
    assert_eq!(report["witnessed_seq"], 10, "{out}");

    // Each tampering on its own copy of the node's data (the witness holds the copies).
    let variant = |name: &str| -> PathBuf {
        let data = dir.join(name);
        copy_dir(&node_dir, &data);
        let cfg = dir.join(format!("{name}.toml"));
        std::fs::write(&cfg, toml(&data)).unwrap();
        cfg
    };

    // 1. The tail cut off, with every checkpoint and receipt after the cut.
    let cfg = variant("dipotong");
    rt.block_on(async {
        let p = pool(&dir.join("dipotong")).await;
        for s in [
            "DELETE FROM audit_entry WHERE seq > 6",
            "DELETE FROM audit_checkpoint WHERE seq > 6",
            "DELETE FROM audit_witness_receipt WHERE seq > 6",
        ] {
            sqlx::query(s).execute(&p).await.unwrap();
        }
        p.close().await;
    });
    let (code, report, out) = verify_json(dir, &cfg);
    assert_eq!(code, Some(1), "{out}");
    assert!(kinds(&report).contains(&"TRUNCATED".to_owned()), "{out}");

    // 2. An entry altered, every checkpoint and receipt deleted, the whole log re-hashed.
    let cfg = variant("dihitung-ulang");
    rt.block_on(async {
        let data = dir.join("dihitung-ulang");
        let url = format!("sqlite://{}", data.join("audit.db").display());
        let db = Db::open(&url, false).await.unwrap();
        let mut entries = db.read_range(1, 1000).await.unwrap();
        db.close().await;
        entries[2].purpose = "PENAGIHAN_PAJAK".into();
        let mut prev = sinergi_exchange::audit::GENESIS;
        for e in &mut entries {
            e.prev_hash = prev;
            e.hash = e.compute_hash();
            prev = e.hash;
        }
        let p = pool(&data).await;
        for s in [
            "DELETE FROM audit_checkpoint",
            "DELETE FROM audit_witness_receipt",
        ] {
            sqlx::query(s).execute(&p).await.unwrap();
        }
        for e in &entries {
            sqlx::query(
                "UPDATE audit_entry SET purpose = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            )
            .bind(&e.purpose)
            .bind(e.prev_hash.0.to_vec())
            .bind(e.hash.0.to_vec())
            .bind(e.seq as i64)
            .execute(&p)
            .await
            .unwrap();
        }
        p.close().await;
    });
    let (code, report, out) = verify_json(dir, &cfg);
    assert_eq!(code, Some(1), "{out}");
    let k = kinds(&report);
    assert!(k.contains(&"CHECKPOINT_MISSING".to_owned()), "{out}");
    assert!(k.contains(&"CHECKPOINT_MISMATCH".to_owned()), "{out}");

    // 3. A forged, correctly linked entry appended after the last checkpoint.
    let cfg = variant("ditambah");
    rt.block_on(async {
        let data = dir.join("ditambah");
        let url = format!("sqlite://{}", data.join("audit.db").display());
        let db = Db::open(&url, false).await.unwrap();
        let last = db.read_range(10, 1).await.unwrap().remove(0);
        db.close().await;
        let mut forged = last.clone().into_record();
        forged.request_id = "palsu".into();
        let e = sinergi_exchange::AuditEntry::new(11, last.hash, forged);
        let p = pool(&data).await;
        sqlx::query(
            "INSERT INTO audit_entry SELECT ?, at_us, node, ?, client, service, purpose, pks_id, \
             user_id, issue, decision, clause, subject_hash, status, latency_us, request_hash, ?, ? \
             FROM audit_entry WHERE seq = 10",
        )
        .bind(11i64)
        .bind("palsu")
        .bind(e.prev_hash.0.to_vec())
        .bind(e.hash.0.to_vec())
        .execute(&p)
        .await
        .unwrap();
        p.close().await;
    });
    let (code, report, out) = verify_json(dir, &cfg);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(report["last_seq"], 11, "{out}");
    let k = kinds(&report);
    assert!(k.contains(&"UNANCHORED".to_owned()), "{out}");
    assert!(k.contains(&"UNWITNESSED".to_owned()), "{out}");
    // The node restarted on that log covers the forged entry with its next checkpoint, but
    // writes first that it found it unanchored: still caught.
    let node = rt
        .block_on(sinergi_server::spawn(
            sinergi_server::NodeConfig::load(&cfg).unwrap(),
        ))
        .unwrap();
    assert_eq!(post(node.addr, &token.plaintext), 200);
    rt.block_on(node.stop()).unwrap();
    let (code, report, out) = verify_json(dir, &cfg);
    assert_eq!(code, Some(1), "{out}");
    assert!(kinds(&report).contains(&"UNANCHORED".to_owned()), "{out}");
    let human = text(&sinergi(
        dir,
        &["audit", "verify", "--config", cfg.to_str().unwrap()],
    ));
    assert!(human.contains("entri 11..11 tidak dicakup"), "{human}");

    // 4. Cut back exactly to a checkpoint (seq 4), with every later checkpoint and receipt:
    // what is left is consistent, and only the witness's copies show the cut.
    let cfg = variant("dipotong-rapi");
    rt.block_on(async {
        let p = pool(&dir.join("dipotong-rapi")).await;
        for s in [
            "DELETE FROM audit_entry WHERE seq > 4",
            "DELETE FROM audit_checkpoint WHERE seq > 4",
            "DELETE FROM audit_witness_receipt WHERE seq > 4",
        ] {
            sqlx::query(s).execute(&p).await.unwrap();
        }
        p.close().await;
    });
    let (code, report, out) = verify_json(dir, &cfg);
    assert_eq!(code, Some(1), "{out}");
    assert!(kinds(&report).contains(&"TRUNCATED".to_owned()), "{out}");

    // With the witness unreachable that cut cannot be seen: never INTACT (exit 0), but 3,
    // naming the witness. (The untouched log is not 0 either: the receipt of the final
    // checkpoint is held by the witness only.)
    rt.block_on(witness.stop()).unwrap();
    let (code, report, out) = verify_json(dir, &cfg);
    assert_eq!(code, Some(3), "{out}");
    assert_eq!(report["ok"], true, "{out}");
    assert_eq!(
        report["witnesses_unreached"].as_array().unwrap().len(),
        1,
        "{out}"
    );
    let (code, report, out) = verify_json(dir, &node_toml);
    assert_ne!(code, Some(0), "{out}");
    assert_eq!(
        report["witnesses_unreached"].as_array().unwrap().len(),
        1,
        "{out}"
    );
    let human = text(&sinergi(
        dir,
        &["audit", "verify", "--config", cfg.to_str().unwrap()],
    ));
    assert!(human.contains("BELUM PASTI"), "{human}");
    assert!(!human.contains("UTUH"), "{human}");
}

#[test]
fn pks_revoke_is_in_force_for_every_request_after_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rt = runtime();
    let token = token_from_bytes(&[43; 32]);
    let hash: String = token.hash.0.iter().map(|b| format!("{b:02x}")).collect();
    let data = dir.join("node");
    let cfg = dir.join("node.toml");
    let port = free_port();
    let key_path = dir.join("member.key");
    write_key(&key_path);
    std::fs::write(&cfg, dukcapil_toml(&data, port, &hash, &key_path, None)).unwrap();
    let node = rt
        .block_on(sinergi_server::spawn(
            sinergi_server::NodeConfig::load(&cfg).unwrap(),
        ))
        .unwrap();
    let addr = node.addr;
    assert_eq!(post(addr, &token.plaintext), 200);

    // Four clients keep asking while the officer revokes the agreement.
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (stop, token) = (stop.clone(), token.plaintext.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    post(addr, &token);
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let out = sinergi(
        dir,
        &[
            "pks",
            "revoke",
            PKS,
            "--config",
            cfg.to_str().unwrap(),
            "--by",
            "kepala.dinas",
            "--reason",
            "PKS berakhir",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Diterapkan oleh node"),
        "{}",
        text(&out)
    );
    std::thread::sleep(std::time::Duration::from_millis(2500));
    stop.store(true, Ordering::Relaxed);
    let sent: u64 = load.into_iter().map(|t| t.join().unwrap()).sum();
    rt.block_on(node.stop()).unwrap();

    rt.block_on(async {
        let url = format!("sqlite://{}", data.join("audit.db").display());
        let db = Db::open(&url, false).await.unwrap();
        let entries = db.read_range(1, 1_000_000).await.unwrap();
        let agreements = db.agreements().await.unwrap();
        db.close().await;
        let a: sinergi_exchange::Agreement = serde_json::from_str(&agreements[0]).unwrap();
        let revoked_at = a.status_history.last().expect("revoked").at;
        let late: Vec<_> = entries
            .iter()
            .filter(|e| e.decision == "ALLOWED" && e.pks_id.as_deref() == Some(PKS))
            .filter(|e| !e.service.starts_with("admin/") && e.at > revoked_at)
            .collect();
        assert!(
            late.is_empty(),
            "{} of {sent} requests allowed after the revocation at {}: first at {}",
            late.len(),
            revoked_at.0,
            late[0].at.0
        );
        let before = entries
            .iter()
            .filter(|e| e.decision == "ALLOWED" && e.at < revoked_at)
            .count();
        let after = entries
            .iter()
            .filter(|e| e.decision == "AGREEMENT_REVOKED")
            .count();
        assert!(
            before > 1 && after > 1,
            "load ran on both sides: {before} / {after}"
        );
        // The revocation itself is in the log, through the node, from the command line.
        assert!(entries.iter().any(|e| e.service == "admin/pks/revoke"
            && e.client == "admin:cli"
            && e.user_id == "kepala.dinas"));
    });
}
