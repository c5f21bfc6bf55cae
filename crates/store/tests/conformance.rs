//! One conformance suite for both backends. Every test runs against SQLite (a temp dir) and
//! against PostgreSQL when `SINERGI_TEST_POSTGRES_URL` is set (each test in a fresh schema,
//! dropped afterwards).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use sinergi_model::standard::{Record, Table, Value};
use sinergi_store::{
    Backend, DatasetMeta, InputFile, LoadMode, LoadPolicy, LoadStats, Loader, Store, StoreError,
    VersionState,
};

const PG_ENV: &str = "SINERGI_TEST_POSTGRES_URL";
const CRASH_ENV: &str = "SINERGI_STORE_CRASH_CHILD_URL";

/// A database for one test.
struct TestDb {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TestDb {
    fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}",
            dir.path().join("nested/sinergi.db").display()
        );
        TestDb {
            url,
            _dir: Some(dir),
            pg_schema: None,
        }
    }

    async fn postgres() -> Option<TestDb> {
        let base = std::env::var(PG_ENV).ok()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let schema = format!(
            "t_{}_{}_{}",
            std::process::id(),
            nanos % 1_000_000_000,
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        admin(&base, &format!("CREATE SCHEMA {schema}")).await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Some(TestDb {
            url,
            _dir: None,
            pg_schema: Some((base, schema)),
        })
    }

    async fn open(&self) -> Store {
        Store::open(Some(&self.url)).await.unwrap()
    }

    async fn cleanup(self) {
        if let Some((base, schema)) = &self.pg_schema {
            admin(base, &format!("DROP SCHEMA {schema} CASCADE")).await;
        }
    }
}

async fn admin(base: &str, sql: &str) {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .unwrap();
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = super::TestDb::sqlite();
                super::$name(&db).await;
                db.cleanup().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = super::TestDb::postgres().await else {
                    println!("skipped: SINERGI_TEST_POSTGRES_URL not set");
                    return;
                };
                super::$name(&db).await;
                db.cleanup().await;
            }
        }
    )*};
}

conformance!(
    migrations_are_idempotent,
    snapshot_round_trips_every_field_type,
    reader_during_load_sees_previous_version,
    dropped_loader_leaves_previous_snapshot,
    delta_upserts_by_key,
    identical_input_changes_nothing,
    datasets_list_counts_and_quality,
    lookups_by_nik_and_key,
    hostile_text_round_trips,
    nul_is_rejected,
    family_history_follows_kk_changes,
    crash_mid_load_keeps_previous_version,
    scan_text_agrees_with_scan,
    load_guard_refuses_empty_shrinking_and_mostly_rejected_loads,
    kept_versions_can_be_restored,
    another_store_opens_and_reads_while_a_load_is_open,
);

fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn person(i: u64, kk: &str, name: &str) -> Record {
    rec(
        Table::Person,
        &[
            ("nik", t(&format!("{:016}", 3201010101900000 + i))),
            ("kk", t(kk)),
            ("name", t(name)),
            ("sex", t(if i.is_multiple_of(2) { "L" } else { "P" })),
            (
                "birth_place",
                if i.is_multiple_of(3) {
                    Value::Null
                } else {
                    t("BOGOR")
                },
            ),
            ("birth_date", t("1990-01-01")),
            ("family_relationship", t("ANAK")),
            ("religion", t("ISLAM")),
            ("marital_status", t("BELUM KAWIN")),
            ("occupation", t("PELAJAR/MAHASISWA")),
            ("region", t("3201012001")),
            ("address", t("JL. MAWAR NO. 1")),
            ("rt", t("001")),
            ("rw", t("002")),
        ],
    )
}

fn set(r: &mut Record, field: &str, v: Value) {
    let i = r.table.field_index(field).unwrap();
    r.values[i] = v;
}

/// A record from (field, value) pairs; other fields are NULL.
fn rec(table: Table, pairs: &[(&str, Value)]) -> Record {
    let mut values = vec![Value::Null; table.fields().len()];
    for (f, v) in pairs {
        values[table.field_index(f).unwrap()] = v.clone();
    }
    Record { table, values }
}

fn nik(i: u64) -> String {
    format!("{:016}", 3201010101900000 + i)
}

fn people(range: std::ops::Range<u64>, name: &str) -> Vec<Record> {
    range
        .map(|i| person(i, &format!("{:016}", 3201010000000000 + i / 4), name))
        .collect()
}

fn meta(name: &str, table: Table) -> DatasetMeta {
    DatasetMeta {
        name: name.to_string(),
        table,
        owner_agency: "Dukcapil".into(),
        description: "test data".into(),
        reference_codes: vec!["kemendagri-wilayah-2025".into()],
        update_cadence: "monthly".into(),
    }
}

fn stats(n: u64, hash: &str) -> LoadStats {
    LoadStats {
        read: n + 1,
        loaded: n,
        rejected: 1,
        warned: 2,
        quality: serde_json::json!({"completeness": 0.99}),
        input_files: if hash.is_empty() {
            vec![]
        } else {
            vec![InputFile {
                name: "penduduk.csv".into(),
                sha256: hash.into(),
            }]
        },
        version_label: None,
        reference_date: None,
    }
}

/// Setup loads are confirmed: the figures of [`stats`] are not what the guard is about (the
/// guard has tests of its own).
fn confirm(l: &mut Loader) {
    l.set_policy(LoadPolicy {
        confirmed: true,
        ..LoadPolicy::default()
    });
}

async fn load(store: &Store, m: &DatasetMeta, mode: LoadMode, rows: &[Record], hash: &str) {
    let mut l = store.begin_load(m, mode).await.unwrap();
    confirm(&mut l);
    for chunk in rows.chunks(3000) {
        l.insert(chunk).await.unwrap();
    }
    l.commit(stats(rows.len() as u64, hash)).await.unwrap();
}

async fn all(store: &Store, table: Table) -> Vec<Record> {
    let mut out = Vec::new();
    store.scan(table, |r| out.push(r)).await.unwrap();
    out.sort_by(|a, b| format!("{:?}", a.values).cmp(&format!("{:?}", b.values)));
    out
}

async fn migrations_are_idempotent(db: &TestDb) {
    let s = db.open().await;
    let v = s.migrate().await.unwrap();
    assert_eq!(s.migrate().await.unwrap(), v);
    load(
        &s,
        &meta("p", Table::Person),
        LoadMode::Snapshot,
        &people(0..10, "A"),
        "",
    )
    .await;
    s.close().await;
    let s = db.open().await;
    assert_eq!(s.migrate().await.unwrap(), v);
    assert_eq!(s.count(Table::Person).await.unwrap(), 10);
    for table in Table::ALL {
        if table != Table::Person {
            assert_eq!(s.count(table).await.unwrap(), 0, "{}", table.name());
        }
    }
}

async fn snapshot_round_trips_every_field_type(db: &TestDb) {
    let s = db.open().await;
    let rows = vec![
        rec(
            Table::HealthMembership,
            &[
                ("card_no", t("0001234567890")),
                ("nik", t(&nik(1))),
                ("name", t("SITI")),
                ("birth_date", t("1985-12-31")),
                ("segment", t("PBI_APBN")),
                ("class", Value::Integer(3)),
                ("active", Value::Bool(true)),
                ("catastrophic", Value::Bool(false)),
            ],
        ),
        rec(
            Table::HealthMembership,
            &[
                ("card_no", t("0009")),
                ("nik", t(&nik(2))),
                ("segment", t("PPU")),
                ("class", Value::Integer(-1)),
                ("active", Value::Bool(false)),
            ],
        ),
    ];
    load(
        &s,
        &meta("bpjs", Table::HealthMembership),
        LoadMode::Snapshot,
        &rows,
        "",
    )
    .await;
    let mut want = rows.clone();
    want.sort_by(|a, b| format!("{:?}", a.values).cmp(&format!("{:?}", b.values)));
    assert_eq!(all(&s, Table::HealthMembership).await, want);
    let wage = rec(
        Table::Wage,
        &[
            ("nik", t(&nik(3))),
            ("name", t("BUDI")),
            ("monthly_wage", Value::Integer(i64::MAX)),
            ("employer_id", t("NPP-1")),
        ],
    );
    load(
        &s,
        &meta("wage", Table::Wage),
        LoadMode::Snapshot,
        std::slice::from_ref(&wage),
        "",
    )
    .await;
    assert_eq!(all(&s, Table::Wage).await, vec![wage]);
}

async fn reader_during_load_sees_previous_version(db: &TestDb) {
    let s = db.open().await;
    let m = meta("p", Table::Person);
    load(&s, &m, LoadMode::Snapshot, &people(0..100, "OLD"), "").await;
    let mut l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
    l.insert(&people(0..50, "NEW")).await.unwrap();
    l.insert(&people(1000..1300, "NEW")).await.unwrap();
    // A reader in the middle of the load sees the old version only.
    assert_eq!(s.count(Table::Person).await.unwrap(), 100);
    let r = s.lookup_nik(Table::Person, &[&nik(1)]).await.unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].get("name"), Some(&t("OLD")));
    assert!(
        s.lookup_nik(Table::Person, &[&nik(1001)])
            .await
            .unwrap()
            .is_empty()
    );
    let info = l.commit(stats(350, "")).await.unwrap();
    assert_eq!(info.row_count, 350);
    assert_eq!(s.count(Table::Person).await.unwrap(), 350);
    let r = s
        .lookup_nik(Table::Person, &[&nik(1), &nik(99)])
        .await
        .unwrap();
    assert_eq!(r.len(), 1, "nik 99 was not in the new snapshot");
    assert_eq!(r[0].get("name"), Some(&t("NEW")));
}

async fn dropped_loader_leaves_previous_snapshot(db: &TestDb) {
    let s = db.open().await;
    let m = meta("p", Table::Person);
    load(&s, &m, LoadMode::Snapshot, &people(0..10, "OLD"), "").await;
    let before = s.datasets().await.unwrap();
    {
        let mut l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
        l.insert(&people(0..500, "NEW")).await.unwrap();
    }
    let l = s.begin_load(&m, LoadMode::Delta).await.unwrap();
    l.abort().await.unwrap();
    assert_eq!(s.count(Table::Person).await.unwrap(), 10);
    assert_eq!(s.datasets().await.unwrap(), before);
    assert!(
        all(&s, Table::Person)
            .await
            .iter()
            .all(|r| r.get("name") == Some(&t("OLD")))
    );
    // And a new load goes through.
    load(&s, &m, LoadMode::Snapshot, &people(0..20, "NEW"), "").await;
    assert_eq!(s.count(Table::Person).await.unwrap(), 20);
}

async fn delta_upserts_by_key(db: &TestDb) {
    let s = db.open().await;
    let m = meta("p", Table::Person);
    load(&s, &m, LoadMode::Snapshot, &people(0..10, "OLD"), "").await;
    let v1 = s.datasets().await.unwrap()[0].current.clone().unwrap();
    let mut delta = people(5..8, "CHANGED");
    delta.extend(people(100..102, "ADDED"));
    let mut l = s.begin_load(&m, LoadMode::Delta).await.unwrap();
    assert_eq!(l.mode(), LoadMode::Delta);
    l.insert(&delta).await.unwrap();
    confirm(&mut l);
    let v2 = l.commit(stats(5, "")).await.unwrap();
    assert_ne!(v2.snapshot_id, v1.snapshot_id);
    assert_ne!(v2.version_label, v1.version_label);
    assert_eq!(v2.mode, LoadMode::Delta);
    assert_eq!(v2.row_count, 12);
    assert_eq!(s.count(Table::Person).await.unwrap(), 12);
    let got = s.get_by_key(Table::Person, &[t(&nik(6))]).await.unwrap();
    assert_eq!(got, people(6..7, "CHANGED"));
    let got = s.get_by_key(Table::Person, &[t(&nik(2))]).await.unwrap();
    assert_eq!(got, people(2..3, "OLD"));
    // Composite keys.
    let roster = |row: i64, name: &str| {
        rec(
            Table::RosterEntry,
            &[
                ("program", t("PKH")),
                ("period", t("2026-Q4")),
                ("row_no", Value::Text(row.to_string())),
                ("nik_raw", t("x")),
                ("name", t(name)),
                ("amount", Value::Integer(750_000)),
            ],
        )
    };
    let rm = meta("roster", Table::RosterEntry);
    load(
        &s,
        &rm,
        LoadMode::Snapshot,
        &[roster(1, "A"), roster(2, "B")],
        "",
    )
    .await;
    load(
        &s,
        &rm,
        LoadMode::Delta,
        &[roster(2, "B2"), roster(3, "C")],
        "",
    )
    .await;
    assert_eq!(
        all(&s, Table::RosterEntry).await,
        vec![roster(1, "A"), roster(2, "B2"), roster(3, "C")]
    );
    let key = [t("PKH"), t("2026-Q4"), t("2")];
    assert_eq!(
        s.get_by_key(Table::RosterEntry, &key).await.unwrap(),
        vec![roster(2, "B2")]
    );
}

async fn identical_input_changes_nothing(db: &TestDb) {
    let s = db.open().await;
    let m = meta("p", Table::Person);
    let rows = people(0..100, "A");
    load(&s, &m, LoadMode::Snapshot, &rows, "abc123").await;
    let before = s.datasets().await.unwrap();
    let data_before = all(&s, Table::Person).await;
    let files = stats(0, "abc123").input_files;
    assert!(s.already_loaded("p", &files).await.unwrap().is_some());
    let mut l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
    l.insert(&rows).await.unwrap();
    let info = l.commit(stats(100, "abc123")).await.unwrap();
    assert!(info.skipped);
    assert_eq!(
        Some(&info.snapshot_id),
        before[0].current.as_ref().map(|c| &c.snapshot_id)
    );
    assert_eq!(s.datasets().await.unwrap(), before);
    assert_eq!(all(&s, Table::Person).await, data_before);
    // Without hashes the same rows give a new version with the same content.
    load(&s, &m, LoadMode::Snapshot, &rows, "").await;
    assert_eq!(all(&s, Table::Person).await, data_before);
}

async fn datasets_list_counts_and_quality(db: &TestDb) {
    let s = db.open().await;
    assert!(s.datasets().await.unwrap().is_empty());
    load(
        &s,
        &meta("p-jabar", Table::Person),
        LoadMode::Snapshot,
        &people(0..30, "A"),
        "h1",
    )
    .await;
    load(
        &s,
        &meta("p-jatim", Table::Person),
        LoadMode::Snapshot,
        &people(500..520, "B"),
        "",
    )
    .await;
    let deaths = vec![rec(
        Table::Death,
        &[
            ("nik", t(&nik(3))),
            ("certificate_no", t("AKTA-1")),
            ("death_date", t("2025-05-05")),
        ],
    )];
    let mut dm = meta("kematian", Table::Death);
    dm.update_cadence = "daily".into();
    load(&s, &dm, LoadMode::Snapshot, &deaths, "").await;
    let ds = s.datasets().await.unwrap();
    let names: Vec<_> = ds.iter().map(|d| d.meta.name.as_str()).collect();
    assert_eq!(names, ["kematian", "p-jabar", "p-jatim"]);
    assert_eq!(ds[0].meta, dm);
    let cur = ds[1].current.as_ref().unwrap();
    assert_eq!(
        (cur.row_count, cur.rows_read, cur.rows_loaded),
        (30, 31, 30)
    );
    assert_eq!((cur.rows_rejected, cur.rows_warned), (1, 2));
    assert_eq!(cur.quality, serde_json::json!({"completeness": 0.99}));
    assert_eq!(cur.input_files[0].sha256, "h1");
    assert_eq!(cur.source_agency, "Dukcapil");
    assert_eq!(cur.version_label, "v1");
    assert!(cur.loaded_at.starts_with("20") && cur.loaded_at.ends_with('Z'));
    assert_eq!(s.count(Table::Person).await.unwrap(), 50);
    assert_eq!(s.count(Table::Death).await.unwrap(), 1);
    let prov = s.provenance().await.unwrap();
    assert_eq!(prov.len(), 3);
    assert_eq!(prov[1].agency, "Dukcapil");
    assert_eq!(prov[1].snapshot_id, cur.snapshot_id);
    // A dataset keeps its table.
    let err = s
        .begin_load(&meta("kematian", Table::Person), LoadMode::Snapshot)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::DatasetTableMismatch { .. }),
        "{err}"
    );
}

async fn lookups_by_nik_and_key(db: &TestDb) {
    let s = db.open().await;
    load(
        &s,
        &meta("p", Table::Person),
        LoadMode::Snapshot,
        &people(0..2000, "A"),
        "",
    )
    .await;
    let wanted: Vec<String> = (0..1500).map(|i| nik(i * 3)).collect();
    let refs: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let got = s.lookup_nik(Table::Person, &refs).await.unwrap();
    assert_eq!(got.len(), 667);
    assert_eq!(
        got[0],
        person(0, &format!("{:016}", 3201010000000000u64), "A")
    );
    assert!(
        got.windows(2)
            .all(|w| w[0].values[0].as_text() <= w[1].values[0].as_text())
    );
    assert!(
        s.lookup_nik(Table::Person, &["0000000000000000"])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.lookup_nik(Table::HealthMembership, &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.get_by_key(Table::Person, &[t(&nik(5))])
            .await
            .unwrap()
            .len()
            == 1
    );
    assert!(s.get_by_key(Table::Person, &[]).await.is_err());
    assert!(matches!(
        s.lookup_nik(Table::Employment, &["1"]).await,
        Ok(v) if v.is_empty()
    ));
}

async fn hostile_text_round_trips(db: &TestDb) {
    let s = db.open().await;
    let hostile = [
        "O'BRIEN \"THE\" NAME",
        "back\\slash \\N \\\\ \\t",
        "tab\there",
        "new\nline\r\nwindows",
        "\\.",
        "emoji 👩‍👩‍👧 ẞ ñ 漢字",
        "",
        " lead and trail ",
        "comma, semicolon; pipe|",
        "NULL",
        "\\N",
    ];
    let long = "Ä".repeat(10_000);
    let mut rows: Vec<Record> = hostile
        .iter()
        .chain(std::iter::once(&long.as_str()))
        .enumerate()
        .map(|(i, h)| {
            let mut r = person(i as u64, h, h);
            set(&mut r, "birth_place", t(h));
            set(&mut r, "address", t(h));
            r
        })
        .collect();
    rows.push(person(99, "x", "plain"));
    load(&s, &meta("p", Table::Person), LoadMode::Snapshot, &rows, "").await;
    let mut want = rows.clone();
    want.sort_by(|a, b| format!("{:?}", a.values).cmp(&format!("{:?}", b.values)));
    assert_eq!(all(&s, Table::Person).await, want);
    // The same values through a delta (SQLite statements, PostgreSQL COPY into the stage).
    let mut delta = rows.clone();
    for r in &mut delta {
        set(r, "rt", t("\t\\\n"));
    }
    load(&s, &meta("p", Table::Person), LoadMode::Delta, &delta, "").await;
    let mut want = delta.clone();
    want.sort_by(|a, b| format!("{:?}", a.values).cmp(&format!("{:?}", b.values)));
    assert_eq!(all(&s, Table::Person).await, want);
}

/// Every field of every current row as `scan_text` should hand it out.
fn as_text(r: &Record, fields: &[&str]) -> Vec<Option<String>> {
    fields
        .iter()
        .map(|f| match r.get(f) {
            None | Some(Value::Null) => None,
            Some(Value::Text(s)) => Some(s.clone()),
            Some(Value::Integer(i)) => Some(i.to_string()),
            Some(Value::Bool(b)) => Some(if *b { "1" } else { "0" }.to_string()),
        })
        .collect()
}

async fn scan_text_all(s: &Store, table: Table, fields: &[&str]) -> Vec<Vec<Option<String>>> {
    let (n, out) = s
        .scan_text(table, fields, Collect::default())
        .await
        .unwrap();
    assert_eq!(out.0.len() as u64, n, "the count is the rows handed out");
    let mut rows = out.0;
    rows.sort();
    rows
}

/// A sink that keeps every row.
#[derive(Default)]
struct Collect(Vec<Vec<Option<String>>>);

impl sinergi_store::RowSink for Collect {
    fn row(&mut self, row: &[Option<&str>]) {
        self.0
            .push(row.iter().map(|c| c.map(str::to_string)).collect());
    }
}

async fn scan_text_agrees_with_scan(db: &TestDb) {
    let s = db.open().await;
    // Booleans, integers, nulls and hostile text, each as the fast scan must render them.
    let health = vec![
        rec(
            Table::HealthMembership,
            &[
                ("card_no", t("0001")),
                ("nik", t(&nik(1))),
                ("segment", t("PBI_APBN")),
                ("class", Value::Integer(-3)),
                ("active", Value::Bool(true)),
                ("catastrophic", Value::Bool(false)),
            ],
        ),
        rec(
            Table::HealthMembership,
            &[("card_no", t("0002")), ("segment", t("PPU"))],
        ),
    ];
    load(
        &s,
        &meta("bpjs", Table::HealthMembership),
        LoadMode::Snapshot,
        &health,
        "",
    )
    .await;
    let mut rows = people(0..200, "WARGA");
    for (i, h) in ["tab\there", "emoji 👩‍👩‍👧 漢字", "", " lead ", "NULL"]
        .iter()
        .enumerate()
    {
        set(&mut rows[i], "name", t(h));
    }
    load(&s, &meta("p", Table::Person), LoadMode::Snapshot, &rows, "").await;
    for (table, fields) in [
        (
            Table::HealthMembership,
            &[
                "nik",
                "segment",
                "class",
                "active",
                "catastrophic",
                "card_no",
            ][..],
        ),
        (
            Table::Person,
            &["nik", "kk", "name", "birth_date", "region", "sex"][..],
        ),
    ] {
        let mut want: Vec<_> = all(&s, table)
            .await
            .iter()
            .map(|r| as_text(r, fields))
            .collect();
        want.sort();
        assert_eq!(
            scan_text_all(&s, table, fields).await,
            want,
            "{}",
            table.name()
        );
    }
    // Each row can say which dataset version it is from.
    let cur = s
        .datasets()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.meta.name == "p")
        .and_then(|d| d.current)
        .unwrap();
    let ids = scan_text_all(&s, Table::Person, &["snapshot_id", "dataset_id"]).await;
    assert_eq!(ids.len(), 200);
    let want = vec![
        Some(cur.snapshot_id.to_string()),
        Some(cur.dataset_id.to_string()),
    ];
    assert!(ids.iter().all(|r| *r == want), "{:?}", ids[0]);
    // A reader in the middle of a load sees the previous version, as `scan` does.
    let m = meta("p", Table::Person);
    let mut l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
    l.insert(&people(1000..1010, "NEW")).await.unwrap();
    assert_eq!(scan_text_all(&s, Table::Person, &["nik"]).await.len(), 200);
    confirm(&mut l);
    l.commit(stats(10, "")).await.unwrap();
    assert_eq!(scan_text_all(&s, Table::Person, &["nik"]).await.len(), 10);
    // A field the table does not have is refused before anything is read.
    match s
        .scan_text(Table::Person, &["nik", "no_such"], Collect::default())
        .await
    {
        Err(StoreError::NoSuchField { field, .. }) => assert_eq!(field, "no_such"),
        other => panic!("expected NoSuchField, got {:?}", other.map(|(n, _)| n)),
    }
}

async fn nul_is_rejected(db: &TestDb) {
    let s = db.open().await;
    let m = meta("p", Table::Person);
    let mut l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
    let mut rows = people(0..3, "A");
    set(&mut rows[2], "name", t("NUL\0HERE"));
    let err = l.insert(&rows).await.unwrap_err();
    match &err {
        StoreError::InvalidRecord { index, field, .. } => {
            assert_eq!((*index, field.as_str()), (2, "name"));
        }
        e => panic!("unexpected {e}"),
    }
    assert_eq!(err.code(), "STORE_INVALID_RECORD");
    // Nothing of the batch went in; the loader is still usable.
    l.insert(&rows[..2]).await.unwrap();
    let mut wrong = people(5..6, "A");
    set(&mut wrong[0], "birth_date", Value::Integer(1));
    assert!(l.insert(&wrong).await.is_err());
    wrong[0].values.pop();
    assert!(l.insert(&wrong).await.is_err());
    confirm(&mut l);
    assert_eq!(l.commit(stats(2, "")).await.unwrap().row_count, 2);
    assert_eq!(s.count(Table::Person).await.unwrap(), 2);
}

async fn family_history_follows_kk_changes(db: &TestDb) {
    let s = db.open().await;
    let m = meta("p", Table::Person);
    let kk_a = "3201010000000001";
    let kk_b = "3201010000000002";
    let v1 = vec![person(1, kk_a, "AYAH"), person(2, kk_a, "ANAK")];
    load(&s, &m, LoadMode::Snapshot, &v1, "").await;
    // The child moves to a new KK.
    let v2 = vec![person(1, kk_a, "AYAH"), person(2, kk_b, "ANAK")];
    load(&s, &m, LoadMode::Snapshot, &v2, "").await;
    let h = s.family_history(&nik(2)).await.unwrap();
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!((h[0].kk.as_str(), h[1].kk.as_str()), (kk_a, kk_b));
    assert!(h[0].valid_to.is_some());
    assert_eq!(h[0].valid_to.as_deref(), Some(h[1].valid_from.as_str()));
    assert_eq!(h[1].valid_to, None);
    assert_eq!(h[0].family_relationship.as_deref(), Some("ANAK"));
    let members_a = s.family_members(kk_a).await.unwrap();
    assert_eq!(members_a.len(), 2);
    assert_eq!(members_a.iter().filter(|m| m.valid_to.is_none()).count(), 1);
    // A delta moving the father too.
    load(&s, &m, LoadMode::Delta, &[person(1, kk_b, "AYAH")], "").await;
    let h = s.family_history(&nik(1)).await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].kk, kk_b);
    assert!(h[0].valid_to.is_some() && h[1].valid_to.is_none());
    assert_eq!(s.family_history(&nik(2)).await.unwrap().len(), 2);
    // Reloading the same people changes no membership.
    let before = s.family_members(kk_b).await.unwrap();
    let v3 = vec![person(1, kk_b, "AYAH"), person(2, kk_b, "ANAK")];
    load(&s, &m, LoadMode::Snapshot, &v3, "").await;
    assert_eq!(s.family_members(kk_b).await.unwrap(), before);
    assert_eq!(s.family_members(kk_a).await.unwrap().len(), 2);
}

/// In the child process: start a load that never ends (the parent kills it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child() {
    let Ok(url) = std::env::var(CRASH_ENV) else {
        return; // Only meaningful when spawned by `crash_mid_load_keeps_previous_version`.
    };
    let s = Store::open(Some(&url)).await.unwrap();
    let mut l = s
        .begin_load(&meta("p", Table::Person), LoadMode::Snapshot)
        .await
        .unwrap();
    let mut i = 0u64;
    loop {
        l.insert(&people(i..i + 2000, "CRASH")).await.unwrap();
        i += 2000;
        if i == 20_000 {
            println!("LOADING");
        }
    }
}

async fn crash_mid_load_keeps_previous_version(db: &TestDb) {
    let s = db.open().await;
    let m = meta("p", Table::Person);
    load(&s, &m, LoadMode::Snapshot, &people(0..100, "OLD"), "").await;
    let before = s.datasets().await.unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CRASH_ENV, &db.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "child ended before loading"
        );
        if line.contains("LOADING") {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(s);
    let s = db.open().await;
    assert_eq!(s.datasets().await.unwrap(), before);
    assert_eq!(s.count(Table::Person).await.unwrap(), 100);
    assert!(
        all(&s, Table::Person)
            .await
            .iter()
            .all(|r| r.get("name") == Some(&t("OLD")))
    );
    load(&s, &m, LoadMode::Snapshot, &people(0..300, "NEW"), "").await;
    assert_eq!(s.count(Table::Person).await.unwrap(), 300);
    if s.backend() == Backend::Sqlite {
        // No leftover generation tables: only the current one remains.
        assert_eq!(
            s.datasets().await.unwrap()[0]
                .current
                .as_ref()
                .unwrap()
                .row_count,
            300
        );
    }
}

/// Exactly these figures: `read` rows, of which `rejected` were rejected.
fn figures(read: u64, rejected: u64) -> LoadStats {
    LoadStats {
        read,
        loaded: read - rejected,
        rejected,
        ..LoadStats::default()
    }
}

fn refusal_codes(err: StoreError) -> (Vec<&'static str>, Option<String>) {
    match err {
        StoreError::LoadRefused(r) => (
            r.reasons.iter().map(|g| g.code()).collect(),
            r.current_version,
        ),
        e => panic!("expected a refusal, got {e}"),
    }
}

async fn load_guard_refuses_empty_shrinking_and_mostly_rejected_loads(db: &TestDb) {
    let s = db.open().await;
    let m = meta("kematian", Table::Person);
    load(&s, &m, LoadMode::Snapshot, &people(0..1000, "OLD"), "").await;
    let before = s.datasets().await.unwrap();
    let unchanged = |s: &Store| {
        let s = s.clone();
        let before = before.clone();
        async move {
            assert_eq!(s.datasets().await.unwrap(), before);
            let rows = all(&s, Table::Person).await;
            assert_eq!(rows.len(), 1000);
            assert!(rows.iter().all(|r| r.get("name") == Some(&t("OLD"))));
        }
    };
    // Every row rejected (Dukcapil changed its date format): nothing inserted.
    let l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
    let err = l.commit(figures(1000, 1000)).await.unwrap_err();
    assert_eq!(err.code(), "LOAD_REFUSED");
    assert_eq!(
        refusal_codes(err),
        (
            vec!["LOAD_EMPTY", "LOAD_MOSTLY_REJECTED"],
            Some("v1".to_string())
        )
    );
    unchanged(&s).await;
    // A file that lost a fifth of its rows.
    let mut l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
    l.insert(&people(0..800, "NEW")).await.unwrap();
    let (codes, _) = refusal_codes(l.commit(figures(800, 0)).await.unwrap_err());
    assert_eq!(codes, ["LOAD_SHRINKS"]);
    unchanged(&s).await;
    // 6% of the rows rejected.
    let mut l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
    l.insert(&people(0..1000, "NEW")).await.unwrap();
    let (codes, _) = refusal_codes(l.commit(figures(1064, 64)).await.unwrap_err());
    assert_eq!(codes, ["LOAD_MOSTLY_REJECTED"]);
    unchanged(&s).await;
    // A delta whose rows were all rejected.
    let l = s.begin_load(&m, LoadMode::Delta).await.unwrap();
    let (codes, _) = refusal_codes(l.commit(figures(40, 40)).await.unwrap_err());
    assert_eq!(codes, ["LOAD_MOSTLY_REJECTED"]);
    unchanged(&s).await;
    // Confirmed by a person, the shrinking load goes through.
    let mut l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
    l.insert(&people(0..800, "NEW")).await.unwrap();
    l.set_policy(LoadPolicy {
        confirmed: true,
        actor: "operator dukcapil".into(),
        ..LoadPolicy::default()
    });
    assert_eq!(l.commit(figures(800, 0)).await.unwrap().row_count, 800);
    assert_eq!(s.count(Table::Person).await.unwrap(), 800);
    // Every attempt is in the event log, the override with who confirmed it.
    let ev = s.events("kematian").await.unwrap();
    let actions: Vec<&str> = ev.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "snapshot", "refused", "refused", "refused", "refused", "snapshot"
        ]
    );
    assert_eq!(ev[1].detail["refused"][0]["reason"], "empty");
    assert_eq!(ev[5].actor, "operator dukcapil");
    assert_eq!(ev[5].detail["confirmed_despite"][0]["reason"], "shrink");
    assert_eq!(ev[5].detail["previous_rows"], 1000);
    // A header-only file is refused even as a first load.
    let l = s
        .begin_load(&meta("baru", Table::Death), LoadMode::Snapshot)
        .await
        .unwrap();
    let (codes, current) = refusal_codes(l.commit(figures(0, 0)).await.unwrap_err());
    assert_eq!((codes, current), (vec!["LOAD_EMPTY"], None));
    assert!(
        s.datasets()
            .await
            .unwrap()
            .iter()
            .all(|d| d.meta.name != "baru")
    );
    assert_eq!(s.events("baru").await.unwrap()[0].action, "refused");
}

async fn kept_versions_can_be_restored(db: &TestDb) {
    let s = db.open().await;
    let m = meta("p", Table::Person);
    let (kk_a, kk_b) = ("3201010000000001", "3201010000000002");
    let version = |n: u64, kk: &str| {
        let mut rows = people(0..10 + n, &format!("V{n}"));
        rows[2] = person(2, kk, &format!("V{n}"));
        rows
    };
    for (n, kk) in [(1, kk_a), (2, kk_a), (3, kk_b), (4, kk_b)] {
        load(&s, &m, LoadMode::Snapshot, &version(n, kk), "").await;
    }
    let states = |v: Vec<sinergi_store::VersionInfo>| -> Vec<(String, VersionState)> {
        v.into_iter()
            .map(|v| (v.info.version_label, v.state))
            .collect()
    };
    // Two previous versions are kept by default; the oldest was dropped.
    assert_eq!(
        states(s.versions("p").await.unwrap()),
        [
            ("v1".to_string(), VersionState::Dropped),
            ("v2".to_string(), VersionState::Kept),
            ("v3".to_string(), VersionState::Kept),
            ("v4".to_string(), VersionState::Current),
        ]
    );
    // Restore v2: its rows are current again, and v4 is kept in turn.
    let info = s
        .restore(
            "p",
            "v2",
            "kepala bidang",
            "v3 dan v4 dari berkas yang salah",
        )
        .await
        .unwrap();
    assert_eq!((info.version_label.as_str(), info.row_count), ("v2", 12));
    let rows = all(&s, Table::Person).await;
    assert_eq!(rows.len(), 12);
    assert!(rows.iter().all(|r| r.get("name") == Some(&t("V2"))));
    assert_eq!(
        s.datasets().await.unwrap()[0]
            .current
            .as_ref()
            .unwrap()
            .version_label,
        "v2"
    );
    let st = states(s.versions("p").await.unwrap());
    assert_eq!(st[1].1, VersionState::Current);
    assert_eq!(
        (st[2].1.clone(), st[3].1.clone()),
        (VersionState::Kept, VersionState::Kept)
    );
    // The family history follows: person 2 is on KK A again.
    let h = s.family_history(&nik(2)).await.unwrap();
    let open: Vec<&str> = h
        .iter()
        .filter(|m| m.valid_to.is_none())
        .map(|m| m.kk.as_str())
        .collect();
    assert_eq!(open, [kk_a], "{h:?}");
    // The restore is audited.
    let ev = s.events("p").await.unwrap();
    let last = ev.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("restore", "kepala bidang")
    );
    assert_eq!(last.detail["reason"], "v3 dan v4 dari berkas yang salah");
    assert_eq!(last.detail["from_version"], "v4");
    // What cannot be restored says why.
    match s.restore("p", "v1", "x", "y").await.unwrap_err() {
        StoreError::NotRestorable { state, .. } => assert_eq!(state, VersionState::Dropped),
        e => panic!("{e}"),
    }
    match s.restore("p", "v2", "x", "y").await.unwrap_err() {
        StoreError::NotRestorable { state, .. } => assert_eq!(state, VersionState::Current),
        e => panic!("{e}"),
    }
    match s.restore("p", "v9", "x", "y").await.unwrap_err() {
        StoreError::NoSuchVersion { known, .. } => assert_eq!(known, ["v1", "v2", "v3", "v4"]),
        e => panic!("{e}"),
    }
    match s.restore("penduduk", "v1", "x", "y").await.unwrap_err() {
        StoreError::NoSuchDataset { known, .. } => assert_eq!(known, ["p"]),
        e => panic!("{e}"),
    }
    // And back to v4.
    s.restore("p", "V4", "x", "kembali").await.unwrap();
    assert_eq!(s.count(Table::Person).await.unwrap(), 14);
    // A delta changes the current table in place: the version before it is not restorable
    // as it was.
    load(&s, &m, LoadMode::Delta, &people(100..101, "D"), "").await;
    let st = states(s.versions("p").await.unwrap());
    assert_eq!(
        st.iter().find(|(l, _)| l == "v4").unwrap().1,
        VersionState::ChangedByDelta { by: "v5".into() }
    );
    // Keeping no previous version drops them at the next load.
    let mut l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
    l.insert(&people(0..20, "V6")).await.unwrap();
    l.set_policy(LoadPolicy {
        keep_previous: 0,
        confirmed: true,
        ..LoadPolicy::default()
    });
    l.commit(figures(20, 0)).await.unwrap();
    let st = states(s.versions("p").await.unwrap());
    assert!(
        st.iter().all(|(_, s)| matches!(
            s,
            VersionState::Current | VersionState::Dropped | VersionState::ChangedByDelta { .. }
        )),
        "{st:?}"
    );
}

async fn another_store_opens_and_reads_while_a_load_is_open(db: &TestDb) {
    let s = db.open().await;
    let m = meta("p", Table::Person);
    load(&s, &m, LoadMode::Snapshot, &people(0..100, "OLD"), "").await;
    let mut l = s.begin_load(&m, LoadMode::Snapshot).await.unwrap();
    l.insert(&people(0..500, "NEW")).await.unwrap();
    // What `sinergi validate` or `sinergi datasets` in another process does: open the store
    // and read. It must not wait for the load's write lock.
    let url = db.url.clone();
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), async move {
        let other = Store::open(Some(&url)).await.unwrap();
        let n = other.count(Table::Person).await.unwrap();
        let d = other.datasets().await.unwrap();
        other.close().await;
        (n, d.len())
    })
    .await
    .expect("opening and reading the store does not wait for a load in progress");
    assert_eq!(read, (100, 1));
    l.commit(figures(500, 0)).await.unwrap();
    assert_eq!(s.count(Table::Person).await.unwrap(), 500);
}

#[test]
fn locations_parse() {
    use sinergi_store::Location;
    use std::path::PathBuf;
    assert_eq!(
        Location::parse(None),
        Location::Sqlite(PathBuf::from("./sinergi-data/sinergi.db"))
    );
    assert_eq!(
        Location::parse(Some("sqlite://a/b.db")),
        Location::Sqlite("a/b.db".into())
    );
    assert_eq!(
        Location::parse(Some("sqlite:b.db")),
        Location::Sqlite("b.db".into())
    );
    assert_eq!(
        Location::parse(Some("/x/y.db")),
        Location::Sqlite("/x/y.db".into())
    );
    for u in ["postgres://u@h/db", "postgresql://h/db"] {
        assert_eq!(Location::parse(Some(u)), Location::Postgres(u.into()));
    }
}
