//! Agreement administration: the admin API and the direct path `sinergi pks` uses
//! (`sinergi_server::pks` with `AuditSink::Direct`) decide alike, audit every action, and a
//! change written straight into the database takes effect in a running node, whose audit
//! chain stays intact although two writers appended to it.

use serde_json::json;
use sinergi_exchange::Agreement;
use sinergi_server::audit_sql::Db;
use sinergi_server::pks::{self, Action, AuditSink, Ctx, PksError};
use tempfile::TempDir;

use crate::common::*;

fn pks_for(id: &str) -> Agreement {
    agreement(id, DUKCAPIL, DINSOS, "verifikasi-identitas", &[])
}

async fn verify_ok(http: &HttpClient, base: &str) -> serde_json::Value {
    let r = send(
        http,
        "GET",
        &format!("{base}/admin/audit/verify"),
        &admin_headers(),
        vec![],
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    v
}

#[tokio::test]
async fn direct_changes_take_effect_in_a_running_node_and_every_action_is_audited() {
    let dir = TempDir::new().unwrap();
    seed_dukcapil(&dir.path().join("sinergi.db"), 0).await;
    let (dinsos_key, _) = key_file(dir.path(), "dinsos");
    let mut c = config(dir.path(), "dukcapil");
    c.members
        .push(member(DUKCAPIL, None, &["verifikasi-identitas"]));
    c.peers
        .push(peer("http://127.0.0.1:9", DINSOS, &dinsos_key, &[]));
    let node_key = dir.path().join("node.key");
    let audit_url = c.audit_url();
    let node = start(c).await;
    let http = http();
    let url = format!("{}/r1/{DUKCAPIL}/verifikasi-identitas", node.base);
    let body = serde_json::to_vec(&json!({"nik": NIK_CILACAP, "nama": "SITI AMINAH"})).unwrap();
    let ask = |n: &str| {
        let s = Signer::new(DINSOS, &dinsos_key);
        let h = signed_headers(&s, &url, "VALIDASI_BANSOS", None, n, &body);
        let (http, url, body) = (http.clone(), url.clone(), body.clone());
        async move { send(&http, "POST", &url, &h, body).await }
    };
    assert_eq!(ask("before").await.code(), "NO_AGREEMENT");

    // What `sinergi pks` does: the node's audit database, written directly.
    let db = Db::open(&audit_url, false).await.unwrap();
    let key = {
        use base64::Engine as _;
        let text = std::fs::read_to_string(&node_key).unwrap();
        let b: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .unwrap()
            .try_into()
            .unwrap();
        sinergi_exchange::SigningKey::from_bytes(&b)
    };
    let cx = |by: &'static str, reason: &'static str| Ctx {
        db: &db,
        node: "dukcapil",
        audit: AuditSink::Direct {
            url: audit_url.clone(),
            node: "dukcapil".into(),
            key: Box::new(key.clone()),
        },
        by,
        reason,
    };
    let hosted = vec![cid(DUKCAPIL)];
    pks::create(&cx("admin.dukcapil", ""), &hosted, pks_for("PKS-T-1"))
        .await
        .unwrap();
    // The node picks the new agreement up within its poll interval.
    let mut allowed = false;
    for i in 0..40 {
        if ask(&format!("after-create-{i}")).await.status == 200 {
            allowed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        allowed,
        "the running node never saw the agreement created directly"
    );

    // Bad input through the same code path: unknown id, provider not hosted, duplicate id.
    let e = pks::change_status(&cx("admin.dukcapil", "x"), "PKS-NOPE", Action::Suspend)
        .await
        .unwrap_err();
    assert!(matches!(e, PksError::NotFound(_)), "{e}");
    let mut foreign = pks_for("PKS-T-2");
    foreign.provider = cid(BPJS);
    let e = pks::create(&cx("admin.dukcapil", ""), &hosted, foreign)
        .await
        .unwrap_err();
    assert!(matches!(e, PksError::NotHosted(_)), "{e}");
    let e = pks::create(&cx("admin.dukcapil", ""), &hosted, pks_for("PKS-T-1"))
        .await
        .unwrap_err();
    assert!(matches!(e, PksError::Exists(_)), "{e}");

    pks::change_status(
        &cx("admin.dukcapil", "audit BPK"),
        "PKS-T-1",
        Action::Suspend,
    )
    .await
    .unwrap();
    let mut suspended = false;
    for i in 0..40 {
        if ask(&format!("after-suspend-{i}")).await.code() == "AGREEMENT_SUSPENDED" {
            suspended = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(suspended, "the running node never saw the suspension");

    // Through the API: revoke, then revoke again (final: 409, audited as well).
    let revoke = format!("{}/admin/pks/PKS-T-1/revoke", node.base);
    let b = serde_json::to_vec(&json!({"by": "kepala.dinas", "reason": "PKS berakhir"})).unwrap();
    let r = send(&http, "POST", &revoke, &admin_headers(), b.clone()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = send(&http, "POST", &revoke, &admin_headers(), b.clone()).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "AGREEMENT_STATUS_CONFLICT");
    // The CLI path refuses the same way.
    let e = pks::change_status(&cx("admin.dukcapil", ""), "PKS-T-1", Action::Revoke)
        .await
        .unwrap_err();
    assert!(matches!(e, PksError::Conflict { .. }), "{e}");
    assert_eq!(ask("after-revoke").await.code(), "AGREEMENT_REVOKED");

    // Every action is in the log, from both channels, with who, why and the outcome.
    let entries = last_entries(&http, &node.base, 1000).await;
    let admin: Vec<(String, String, String, String)> = entries
        .iter()
        .filter(|e| e["purpose"] == "ADMIN_PKS")
        .map(|e| {
            (
                e["client"].as_str().unwrap().to_owned(),
                e["service"].as_str().unwrap().to_owned(),
                e["decision"].as_str().unwrap().to_owned(),
                e["user_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("admin:cli", "admin/pks/create", "ALLOWED", "admin.dukcapil"),
        (
            "admin:cli",
            "admin/pks/suspend",
            "AGREEMENT_NOT_FOUND",
            "admin.dukcapil",
        ),
        (
            "admin:cli",
            "admin/pks/create",
            "REQUEST_INVALID",
            "admin.dukcapil",
        ),
        (
            "admin:cli",
            "admin/pks/create",
            "AGREEMENT_EXISTS",
            "admin.dukcapil",
        ),
        (
            "admin:cli",
            "admin/pks/suspend",
            "ALLOWED",
            "admin.dukcapil",
        ),
        ("admin:api", "admin/pks/revoke", "ALLOWED", "kepala.dinas"),
        (
            "admin:api",
            "admin/pks/revoke",
            "AGREEMENT_STATUS_CONFLICT",
            "kepala.dinas",
        ),
        (
            "admin:cli",
            "admin/pks/revoke",
            "AGREEMENT_STATUS_CONFLICT",
            "admin.dukcapil",
        ),
    ];
    let got: Vec<(&str, &str, &str, &str)> = admin
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
        .collect();
    assert_eq!(got, want);
    assert!(entries.iter().any(|e| e["service"] == "admin/pks/suspend"
        && e["issue"] == "audit BPK"
        && e["pks_id"] == "PKS-T-1"));

    // Two writers (the node and the direct path) appended to one chain: still intact.
    let v = verify_ok(&http, &node.base).await;
    assert!(v["entries"].as_u64().unwrap() >= 8 + 3, "{v}");
    db.close().await;
    node.running.stop().await.unwrap();
}

/// Two administrators changing one agreement at the same moment: the status change writes
/// only over the body it read (compare and set), so neither change is silently lost.
#[tokio::test]
async fn a_status_change_only_lands_on_the_body_it_read() {
    let dir = TempDir::new().unwrap();
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    let db = Db::open(&url, false).await.unwrap();
    let a = pks_for("PKS-CAS");
    let first = serde_json::to_string(&a).unwrap();
    let p = a.provider.to_string();
    let c = a.consumer.to_string();
    assert!(db.put_agreement(&a.id, &p, &c, &first, 1).await.unwrap());
    assert_eq!(
        db.agreement_body("PKS-CAS").await.unwrap().as_deref(),
        Some(first.as_str())
    );
    assert_eq!(db.agreement_body("NO-SUCH").await.unwrap(), None);
    // Administrator B writes first.
    let mut b = a.clone();
    b.legal_basis = "changed by B".into();
    let by_b = serde_json::to_string(&b).unwrap();
    assert!(
        db.replace_agreement_if("PKS-CAS", &first, &by_b, 2)
            .await
            .unwrap()
    );
    // Administrator A, who read `first`, is refused and B's change stays.
    let mut late = a.clone();
    late.legal_basis = "changed by A".into();
    let by_a = serde_json::to_string(&late).unwrap();
    assert!(
        !db.replace_agreement_if("PKS-CAS", &first, &by_a, 3)
            .await
            .unwrap()
    );
    assert_eq!(
        db.agreement_body("PKS-CAS").await.unwrap().as_deref(),
        Some(by_b.as_str())
    );
    // Re-reading and retrying succeeds; an unknown id changes nothing.
    assert!(
        db.replace_agreement_if("PKS-CAS", &by_b, &by_a, 4)
            .await
            .unwrap()
    );
    assert!(
        !db.replace_agreement_if("NO-SUCH", &by_b, &by_a, 5)
            .await
            .unwrap()
    );
}
