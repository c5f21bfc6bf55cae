//! The audit log on PostgreSQL (`audit_sql.rs`): group commit through the writer thread,
//! checkpoints, `verify` finding an altered, a deleted and a reordered row, the append-only
//! trigger, and "who accessed NIK X". Runs when `SINERGI_TEST_POSTGRES_URL` is set (CI sets
//! it); otherwise each test prints that it was skipped. Every test works in its own schema
//! (`search_path`), dropped at the end, so tests never collide.

use sinergi_exchange::audit::{NodeSecret, ProblemKind, request_hash, subject_hash};
use sinergi_exchange::{AuditRecord, SigningKey, Timestamp, verify, who_accessed};
use sinergi_server::audit_sql::{AuditWriter, Db, WriterConfig};
use sqlx::postgres::PgPoolOptions;

const NODE: &str = "pg-uji";

/// A fresh schema and a URL that uses it; `None` (after printing why) without PostgreSQL.
pub(crate) async fn schema(test: &str) -> Option<(String, String, sqlx::PgPool)> {
    let Ok(base) = std::env::var("SINERGI_TEST_POSTGRES_URL") else {
        eprintln!("{test}: skipped (SINERGI_TEST_POSTGRES_URL is not set)");
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("sinergi_audit_{test}_{}_{nanos}", std::process::id());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&base)
        .await
        .expect("PostgreSQL at SINERGI_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options[search_path]={name}");
    Some((name, url, admin))
}

pub(crate) async fn drop_schema(name: &str, admin: &sqlx::PgPool) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE"
    )))
    .execute(admin)
    .await
    .unwrap();
    admin.close().await;
}

pub(crate) fn secret() -> NodeSecret {
    NodeSecret::from_bytes([5; 32])
}

pub(crate) fn node_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

pub(crate) fn record(i: u64, nik: &str) -> AuditRecord {
    AuditRecord {
        at: Timestamp(1_750_000_000_000_000 + i as i64),
        node: NODE.into(),
        request_id: format!("req-{i}"),
        client: "ID/GOV/DINSOS-3301/BANSOS".into(),
        service: "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA/verifikasi-identitas".into(),
        purpose: "VALIDASI_BANSOS".into(),
        pks_id: Some("PKS-1".into()),
        user_id: format!("petugas{}", i % 3),
        issue: String::new(),
        decision: "ALLOWED".into(),
        clause: "PKS-1#grant".into(),
        subject_hash: Some(subject_hash(&secret(), nik)),
        status: 200,
        latency_us: i,
        request_hash: request_hash("POST", "/r1/x", nik.as_bytes()),
    }
}

pub(crate) fn nik(i: u64) -> String {
    format!("3301010101{:06}", i % 50)
}

/// Starts the writer on `url` (a blocking call: off the test's runtime).
pub(crate) async fn writer(url: &str, every: u64) -> (AuditWriter, std::thread::JoinHandle<()>) {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        AuditWriter::start(WriterConfig {
            url,
            node: NODE.into(),
            key: node_key(),
            checkpoint_every: every,
            checkpoint_secs: 3600,
            signed: None,
        })
    })
    .await
    .unwrap()
    .expect("audit writer starts on PostgreSQL")
}

pub(crate) async fn stop(w: AuditWriter, t: std::thread::JoinHandle<()>) {
    w.shutdown();
    tokio::task::spawn_blocking(move || t.join().unwrap())
        .await
        .unwrap();
}

async fn all_entries(db: &Db) -> Vec<sinergi_exchange::AuditEntry> {
    db.read_range(1, 100_000).await.unwrap()
}

#[tokio::test]
async fn pg_group_commit_checkpoints_verify_and_who_accessed() {
    let Some((name, url, admin)) = schema("commit").await else {
        return;
    };
    let (w, t) = writer(&url, 500).await;
    // 300 concurrent single-record requests and one 2,000-line batch, at once.
    let mut tasks = Vec::new();
    for i in 0..300u64 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            w.append(vec![record(i, &nik(i))]).await.unwrap()
        }));
    }
    let batch: Vec<AuditRecord> = (300..2300u64).map(|i| record(i, &nik(i))).collect();
    let batch_seqs = w.append(batch).await.unwrap();
    let mut seqs: Vec<u64> = batch_seqs.clone();
    for t in tasks {
        let s = t.await.unwrap();
        assert_eq!(s.len(), 1);
        seqs.extend(s);
    }
    // A batch's entries are consecutive; every seq is given once, 1..=2300.
    assert!(batch_seqs.windows(2).all(|w| w[1] == w[0] + 1));
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=2300).collect::<Vec<u64>>());
    stop(w, t).await;

    let db = Db::open(&url, false).await.unwrap();
    assert_eq!(db.count().await.unwrap(), 2300);
    let entries = all_entries(&db).await;
    let cps = db.checkpoints().await.unwrap();
    assert!(!cps.is_empty());
    assert_eq!(
        cps.last().unwrap().seq,
        2300,
        "final checkpoint at shutdown"
    );
    let r = verify(entries.iter(), &cps, &node_key().verifying_key());
    assert!(r.ok, "{r:?}");
    assert_eq!(r.entries, 2300);

    // Who accessed NIK 3301010101000007: requests 7, 57, 107, ... (every 50th).
    let who = db
        .by_subject(&who_accessed(&nik(7), &secret()))
        .await
        .unwrap();
    let ids: Vec<&str> = who.iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(who.len(), 46, "{ids:?}");
    assert!(
        ids.contains(&"req-7") && ids.contains(&"req-2257"),
        "{ids:?}"
    );
    assert!(who.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(
        db.by_subject(&who_accessed("3301010101999999", &secret()))
            .await
            .unwrap()
            .is_empty()
    );

    // A writer restarted on the same database continues the chain.
    let (w, t) = writer(&url, 500).await;
    assert_eq!(
        w.append(vec![record(9999, &nik(1))]).await.unwrap(),
        vec![2301]
    );
    stop(w, t).await;
    let r = verify(
        all_entries(&db).await.iter(),
        &db.checkpoints().await.unwrap(),
        &node_key().verifying_key(),
    );
    assert!(r.ok, "{r:?}");
    db.close().await;
    drop_schema(&name, &admin).await;
}

async fn exec(pool: &sqlx::PgPool, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(pool).await.map(|_| ())
}

#[tokio::test]
async fn pg_verify_finds_altered_deleted_and_reordered_rows() {
    let Some((name, url, admin)) = schema("tamper").await else {
        return;
    };
    let (w, t) = writer(&url, 1_000_000).await;
    for i in 1..=10u64 {
        w.append(vec![record(i, &nik(i))]).await.unwrap();
    }
    stop(w, t).await;
    let db = Db::open(&url, false).await.unwrap();
    let tamper = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let check = |want: &'static str| {
        let db = db.clone();
        async move {
            let r = verify(
                all_entries(&db).await.iter(),
                &db.checkpoints().await.unwrap(),
                &node_key().verifying_key(),
            );
            assert!(!r.ok, "{want}: tampering not found");
            r
        }
    };

    // The append-only trigger refuses UPDATE and DELETE by the application.
    assert!(
        exec(
            &tamper,
            "UPDATE audit_entry SET purpose = 'LAIN' WHERE seq = 3"
        )
        .await
        .is_err()
    );
    assert!(
        exec(&tamper, "DELETE FROM audit_entry WHERE seq = 3")
            .await
            .is_err()
    );
    // An owner who disables it is still caught.
    exec(
        &tamper,
        "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only",
    )
    .await
    .unwrap();

    exec(
        &tamper,
        "UPDATE audit_entry SET purpose = 'LAIN' WHERE seq = 3",
    )
    .await
    .unwrap();
    let r = check("altered").await;
    let p = r.first_problem.unwrap();
    assert_eq!((p.seq, p.kind), (3, ProblemKind::HashMismatch));
    exec(
        &tamper,
        "UPDATE audit_entry SET purpose = 'VALIDASI_BANSOS' WHERE seq = 3",
    )
    .await
    .unwrap();
    assert!(
        verify(
            all_entries(&db).await.iter(),
            &db.checkpoints().await.unwrap(),
            &node_key().verifying_key()
        )
        .ok
    );

    // Reordered: entries 4 and 6 swap places (their seqs swapped).
    for s in [
        "UPDATE audit_entry SET seq = -1 WHERE seq = 4",
        "UPDATE audit_entry SET seq = 4 WHERE seq = 6",
        "UPDATE audit_entry SET seq = 6 WHERE seq = -1",
    ] {
        exec(&tamper, s).await.unwrap();
    }
    let r = check("reordered").await;
    assert_eq!(r.first_problem.as_ref().unwrap().seq, 4, "{r:?}");
    for s in [
        "UPDATE audit_entry SET seq = -1 WHERE seq = 4",
        "UPDATE audit_entry SET seq = 4 WHERE seq = 6",
        "UPDATE audit_entry SET seq = 6 WHERE seq = -1",
    ] {
        exec(&tamper, s).await.unwrap();
    }

    // Deleted: entry 7 removed.
    exec(&tamper, "DELETE FROM audit_entry WHERE seq = 7")
        .await
        .unwrap();
    let r = check("deleted").await;
    assert!(
        r.problems.iter().any(|p| matches!(
            p.kind,
            ProblemKind::Missing {
                expected: 7,
                found: 8
            }
        )),
        "{r:?}"
    );

    tamper.close().await;
    db.close().await;
    drop_schema(&name, &admin).await;
}
