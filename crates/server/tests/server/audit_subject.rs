//! "Who accessed NIK X" while the subject index follows the log behind it (`audit_sql.rs`,
//! `Db::index_subjects`): the same entries, in order, whether none, part or all of the log is
//! indexed; a database that still has the old per-append index is indexed and loses it on
//! open. On SQLite always, on PostgreSQL when `SINERGI_TEST_POSTGRES_URL` is set.

use sinergi_exchange::who_accessed;
use sinergi_server::audit_sql::Db;

use crate::pg::{drop_schema, nik, record, schema, secret, stop, writer};

/// The request ids of the entries about `nik(i)`, in log order.
async fn who(db: &Db, i: u64) -> Vec<String> {
    let entries = db
        .by_subject(&who_accessed(&nik(i), &secret()))
        .await
        .unwrap();
    assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));
    entries.into_iter().map(|e| e.request_id).collect()
}

/// 240 entries about 50 people (request i about nik(i % 50)); each person's accesses
/// must be found whatever the subject mark.
async fn check(url: &str) {
    let (w, t) = writer(url, 1_000).await;
    for chunk in (0..240u64).collect::<Vec<_>>().chunks(64) {
        let records = chunk.iter().map(|i| record(*i, &nik(*i))).collect();
        w.append(records).await.unwrap();
    }
    stop(w, t).await;
    let db = Db::open(url, false).await.unwrap();
    let expect = |i: u64| -> Vec<String> {
        (0..240u64)
            .filter(|j| j % 50 == i % 50)
            .map(|j| format!("req-{j}"))
            .collect()
    };
    let start = db.subject_mark().await.unwrap();
    assert!(start <= 240);
    // Nothing, part, then all of the log indexed (the writer may have indexed some already).
    for max in [0, 100, u64::MAX] {
        let mark = db.index_subjects(max).await.unwrap();
        assert_eq!(
            mark,
            if max == u64::MAX {
                240
            } else {
                (start + max).min(240)
            }
        );
        assert_eq!(db.subject_mark().await.unwrap(), mark);
        for i in [0, 7, 49] {
            assert_eq!(who(&db, i).await, expect(i), "mark {mark}");
        }
        assert!(
            db.by_subject(&who_accessed("3301010101999999", &secret()))
                .await
                .unwrap()
                .is_empty()
        );
    }
    // A database from before: the per-append index, nothing in audit_subject. Opening it
    // indexes every entry and drops the old index.
    let old_index = "CREATE INDEX audit_entry_subject ON audit_entry (subject_hash, seq) \
                     WHERE subject_hash IS NOT NULL";
    let reset = [
        "DELETE FROM audit_subject",
        "UPDATE audit_subject_mark SET seq = 0",
    ];
    let has_old: &str = match &db {
        Db::Sqlite(p) => {
            sqlx::query(old_index).execute(p).await.unwrap();
            for s in reset {
                sqlx::query(s).execute(p).await.unwrap();
            }
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'audit_entry_subject'"
        }
        Db::Pg(p) => {
            sqlx::query(old_index).execute(p).await.unwrap();
            for s in reset {
                sqlx::query(s).execute(p).await.unwrap();
            }
            "SELECT to_regclass('audit_entry_subject') IS NOT NULL"
        }
    };
    db.close().await;
    let db = Db::open(url, false).await.unwrap();
    assert_eq!(db.subject_mark().await.unwrap(), 240);
    let (old,): (bool,) = match &db {
        Db::Sqlite(p) => sqlx::query_as(has_old).fetch_one(p).await.unwrap(),
        Db::Pg(p) => sqlx::query_as(has_old).fetch_one(p).await.unwrap(),
    };
    assert!(!old, "the old subject index is dropped");
    assert_eq!(who(&db, 7).await, expect(7));
    db.close().await;
}

#[tokio::test]
async fn who_accessed_finds_every_entry_whatever_part_of_the_log_is_indexed_sqlite() {
    let dir = tempfile::TempDir::new().unwrap();
    check(&format!(
        "sqlite://{}",
        dir.path().join("audit.db").display()
    ))
    .await;
}

#[tokio::test]
async fn who_accessed_finds_every_entry_whatever_part_of_the_log_is_indexed_pg() {
    let Some((name, url, admin)) = schema("subject").await else {
        return;
    };
    check(&url).await;
    drop_schema(&name, &admin).await;
}
