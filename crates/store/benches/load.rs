//! Bulk-load benchmark: N synthetic canonical `Person` records (default 10 million, env
//! `SINERGI_BENCH_ROWS`) generated in batches (never all in memory) and loaded as one snapshot
//! into SQLite (a temp dir, or `SINERGI_BENCH_DIR`) and, when `SINERGI_TEST_POSTGRES_URL` is
//! set, into PostgreSQL (a fresh schema, dropped afterwards). Prints rows/s, seconds for the
//! insert and commit (indexes, family membership, flip) phases, and peak RSS (VmHWM).
//!
//! `cargo bench -p sinergi-store --bench load`

use std::time::Instant;

use sinergi_model::standard::{Record, Table, Value};
use sinergi_store::{DatasetMeta, LoadMode, LoadStats, Store};

const BATCH: usize = 5000;

fn person(i: u64) -> Record {
    let t = |s: String| Value::Text(s);
    let sex = if i.is_multiple_of(2) { "L" } else { "P" };
    Record {
        table: Table::Person,
        values: Table::Person
            .fields()
            .iter()
            .map(|f| match f.name {
                // Spread NIKs so index inserts are not sequential.
                "nik" => t(format!(
                    "{:016}",
                    3201_0000_0000_0000u64 + (i.wrapping_mul(2_654_435_761) % 10_000_000_000)
                )),
                "kk" => t(format!("{:016}", 3201_0100_0000_0000u64 + i / 4)),
                "name" => t(format!("NAMA ORANG KE {i}")),
                "sex" => t(sex.into()),
                "birth_place" => t("KABUPATEN BOGOR".into()),
                "birth_date" => t(format!(
                    "19{:02}-{:02}-{:02}",
                    40 + i % 60,
                    1 + i % 12,
                    1 + i % 28
                )),
                "family_relationship" => t(if i.is_multiple_of(4) {
                    "KEPALA KELUARGA"
                } else {
                    "ANAK"
                }
                .into()),
                "religion" => t("ISLAM".into()),
                "marital_status" => t("KAWIN".into()),
                "occupation" => t("WIRASWASTA".into()),
                "region" => t(format!("3201{:06}", 12001 + i % 400)),
                "address" => t(format!("JL. MERDEKA NO. {}", i % 997)),
                "rt" => t(format!("{:03}", i % 20)),
                "rw" => t(format!("{:03}", i % 10)),
                _ => Value::Null,
            })
            .collect(),
    }
}

fn vm_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) of this process so far; includes sqlx's SQLite worker thread,
/// not the PostgreSQL server.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f[11].parse::<f64>().ok()? + f[12].parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

async fn bench(label: &str, store: &Store, rows: u64) {
    let cpu0 = cpu_secs();
    let meta = DatasetMeta {
        name: "bench-penduduk".into(),
        table: Table::Person,
        owner_agency: "Dukcapil".into(),
        description: "synthetic benchmark".into(),
        reference_codes: vec![],
        update_cadence: "monthly".into(),
    };
    let start = Instant::now();
    let mut loader = store.begin_load(&meta, LoadMode::Snapshot).await.unwrap();
    let mut batch = Vec::with_capacity(BATCH);
    let mut i = 0u64;
    while i < rows {
        batch.clear();
        let end = (i + BATCH as u64).min(rows);
        batch.extend((i..end).map(person));
        loader.insert(&batch).await.unwrap();
        i = end;
    }
    let inserted = start.elapsed().as_secs_f64();
    let info = loader
        .commit(LoadStats {
            read: rows,
            loaded: rows,
            ..LoadStats::default()
        })
        .await
        .unwrap();
    let total = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    assert_eq!(info.row_count, rows);
    let t = Instant::now();
    let mut n = 0u64;
    store.scan(Table::Person, |_| n += 1).await.unwrap();
    let scan = t.elapsed().as_secs_f64();
    println!(
        "{label}: {rows} rows in {total:.1} s ({:.0} rows/s); insert {inserted:.1} s, commit \
         (indexes, family membership, flip) {:.1} s; process CPU {cpu:.1} s; scan {scan:.1} s \
         ({:.0} rows/s); peak RSS {:.0} MiB",
        rows as f64 / total,
        total - inserted,
        n as f64 / scan,
        vm_hwm_mib()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rows: u64 = std::env::var("SINERGI_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let base = std::env::var("SINERGI_BENCH_DIR")
        .unwrap_or_else(|_| std::env::temp_dir().display().to_string());
    let dir = tempfile::tempdir_in(base).unwrap();
    let path = dir.path().join("sinergi.db");
    let store = Store::open(Some(path.to_str().unwrap())).await.unwrap();
    bench("sqlite", &store, rows).await;
    store.close().await;
    let size: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("sqlite: files {:.0} MiB", size as f64 / 1048576.0);
    drop(dir);

    if let Ok(url) = std::env::var("SINERGI_TEST_POSTGRES_URL") {
        use sqlx::Connection;
        let schema = format!("bench_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let store = Store::open(Some(&format!(
            "{url}{sep}options=-c%20search_path%3D{schema}"
        )))
        .await
        .unwrap();
        bench("postgres", &store, rows).await;
        store.close().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&mut admin)
            .await
            .unwrap();
    } else {
        println!("postgres: skipped: SINERGI_TEST_POSTGRES_URL not set");
    }
}
