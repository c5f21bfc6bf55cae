//! Issue 10: one validation engine for the embedded and the federated deployment. A generated
//! world's four programme lists are validated twice with the engine's `Validator`: over one
//! store holding every registry (as `sinergi validate` does), and from a Kemensos node asking
//! separate nodes over signed HTTP on loopback — Dukcapil, BPJS Kesehatan, BKN (with TNI/Polri),
//! DTSEN and BPJS Ketenagakerjaan, each with its own database, each answering with the engine's
//! own functions over its own data. Per row, the verdict, the reason codes, the linked NIK and
//! the suggested NIK must be the same; the checks that were not made must be the same.
//!
//! Runs on loopback (no network namespaces: the test needs no privileges).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sinergi_engine::facts::RosterRow;
use sinergi_engine::ledger::LedgerBuilder;
use sinergi_engine::{Registries, Validator, VerdictRow};
use sinergi_exchange::Quota;
use sinergi_ingest::{Batch, Mapping, ReadOptions};
use sinergi_store::{DatasetMeta, LoadMode, LoadStats, Store};
use tempfile::TempDir;

use crate::common::*;
use crate::federation::{peer_pub, public_of};

const DTSEN: &str = "ID/GOV/BPS/DTSEN";
const BKN: &str = "ID/GOV/BKN/ASN";
const UPAH: &str = "ID/GOV/BPJS-KETENAGAKERJAAN/UPAH";
const SIKS: &str = "ID/GOV/KEMENSOS/SIKS";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mapping(name: &str) -> Mapping {
    Mapping::from_file(root().join(format!("config/mappings/{name}.toml"))).unwrap()
}

async fn ingest(store: &Store, name: &str, file: &Path) {
    ingest_as(store, name, None, file).await
}

/// Loads `file` through mapping `name`, as dataset `dataset` (default: the mapping's source).
async fn ingest_as(store: &Store, name: &str, dataset: Option<&str>, file: &Path) {
    let m = mapping(name);
    let meta = DatasetMeta {
        name: dataset.map_or_else(|| m.source.clone(), str::to_owned),
        table: m.table,
        owner_agency: m.agency.clone(),
        description: m.description.clone(),
        reference_codes: Vec::new(),
        update_cadence: String::new(),
    };
    let mut records = Vec::new();
    let report = sinergi_ingest::read(
        &m,
        &[file.to_path_buf()],
        &ReadOptions::default(),
        &mut |b: Batch| {
            records.extend(b.records);
            Ok(())
        },
        &mut |_| {},
    )
    .unwrap();
    let mut l = store.begin_load(&meta, LoadMode::Snapshot).await.unwrap();
    for chunk in records.chunks(10_000) {
        l.insert(chunk).await.unwrap();
    }
    l.commit(LoadStats {
        read: report.rows_read,
        loaded: report.loaded,
        rejected: report.rejected,
        ..LoadStats::default()
    })
    .await
    .unwrap();
}

async fn open(db: &Path) -> Store {
    Store::open(Some(&format!("sqlite://{}", db.display())))
        .await
        .unwrap()
}

/// A list's rows, read through the roster mapping as `sinergi validate` reads them.
fn roster_rows(file: &Path) -> Vec<RosterRow> {
    let m = mapping("roster");
    let mut rows = Vec::new();
    sinergi_ingest::read(
        &m,
        &[file.to_path_buf()],
        &ReadOptions::default(),
        &mut |b: Batch| {
            for (rec, row) in b.records.iter().zip(&b.rows) {
                rows.push(RosterRow::from_record(rec, *row));
            }
            Ok(())
        },
        &mut |_| {},
    )
    .unwrap();
    rows
}

/// Validates a list in blocks the way a bulk run does: the model learnt on the first block,
/// duplicates carried across blocks.
fn run(v: &mut Validator, program: &str, rows: &[RosterRow]) -> Vec<VerdictRow> {
    run_in(v, program, rows, 1_000)
}

/// [`run`] in blocks of `block` rows.
fn run_in(v: &mut Validator, program: &str, rows: &[RosterRow], block: usize) -> Vec<VerdictRow> {
    let p = v.program(program).unwrap().clone();
    let mut seen = sinergi_engine::validator::Seen::new();
    let mut out = Vec::new();
    for (i, block) in rows.chunks(block).enumerate() {
        if i == 0 {
            v.train(block);
        }
        out.extend(v.validate_block(&p, block, &mut seen));
    }
    out
}

fn big(mut a: sinergi_exchange::Agreement) -> sinergi_exchange::Agreement {
    a.quota = Quota {
        per_second: 1_000_000,
        per_day: 1_000_000_000,
    };
    a
}

/// What must agree between the two deployments, per row.
fn key(v: &VerdictRow) -> (u64, String, String, Option<String>, Option<String>, String) {
    let mut nc: Vec<&str> = v.not_checked.iter().map(|n| n.code.as_str()).collect();
    nc.sort_unstable();
    (
        v.row_no,
        format!("{:?}", v.verdict),
        v.codes(),
        v.linked_nik.clone(),
        v.suggested_nik.clone(),
        nc.join(";"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_list_gets_the_same_verdicts_embedded_and_federated() {
    let dir = TempDir::new().unwrap();
    let world = dir.path().join("world");
    let people: u64 = std::env::var("SINERGI_WORLD_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8_000);
    // SINERGI_WORLD_PBI_ROWS=100000: size the PBI_JK list (the benchmark of docs/BENCHMARKS.md).
    let mut sizes = std::collections::BTreeMap::new();
    if let Some(n) = std::env::var("SINERGI_WORLD_PBI_ROWS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        sizes.insert("PBI_JK".to_string(), n);
    }
    let cfg = sinergi_synth::SynthConfig {
        people,
        roster_rows: sizes,
        ..sinergi_synth::SynthConfig::default()
    };
    sinergi_synth::generate(&cfg, &world, &mut |_| {}).unwrap();

    // The agencies' data: every registry in one store, and each agency's in its own.
    let sources: [(&str, &str, &str); 7] = [
        ("dukcapil", "dukcapil-penduduk", "dukcapil/penduduk.csv"),
        ("dukcapil", "dukcapil-kematian", "dukcapil/kematian.csv"),
        ("dtsen", "dtsen", "dtsen/dtsen.csv"),
        ("bpjs", "bpjs-kesehatan", "bpjs-kesehatan/peserta.jsonl"),
        ("bkn", "bkn-asn", "bkn/asn.xlsx"),
        ("bkn", "tni-polri", "tni-polri/personel.csv"),
        (
            "upah",
            "bpjs-ketenagakerjaan-upah",
            "bpjs-ketenagakerjaan/upah.csv",
        ),
    ];
    let all = open(&dir.path().join("all.db")).await;
    let nodes = ["dukcapil", "dtsen", "bpjs", "bkn", "upah", "kemensos"];
    let node_dirs: Vec<TempDir> = nodes.iter().map(|_| TempDir::new().unwrap()).collect();
    for (node, name, file) in sources {
        ingest(&all, name, &world.join(file)).await;
        let i = nodes.iter().position(|n| *n == node).unwrap();
        let s = open(&node_dirs[i].path().join("sinergi.db")).await;
        ingest(&s, name, &world.join(file)).await;
        s.close().await;
    }

    // The federation: each registry's node serves its facts to Kemensos under an agreement.
    let (kemensos_key, kemensos_key_path) = key_file(node_dirs[5].path(), "kemensos");
    let registries: [(&str, &str, &[&str]); 5] = [
        (
            "dukcapil",
            DUKCAPIL,
            &["pencarian-identitas-batch", "fakta-penduduk-batch"],
        ),
        ("dtsen", DTSEN, &["fakta-desil-batch"]),
        ("bpjs", BPJS, &["fakta-kepesertaan-batch"]),
        ("bkn", BKN, &["fakta-asn-batch"]),
        ("upah", UPAH, &["fakta-upah-batch"]),
    ];
    let mut running = Vec::new();
    let mut kc = config(node_dirs[5].path(), "kemensos");
    kc.members
        .push(member(KEMENSOS, Some(kemensos_key_path), &[]));
    for (i, (name, id, services)) in registries.iter().enumerate() {
        let mut c = config(node_dirs[i].path(), name);
        c.members.push(member(id, None, services));
        c.peers
            .push(peer("http://127.0.0.1:9", KEMENSOS, &kemensos_key, &[]));
        for s in *services {
            c.agreements.push(big(agreement(
                &format!("PKS-{name}-{s}"),
                id,
                KEMENSOS,
                s,
                &[],
            )));
        }
        let node = start(c).await;
        kc.peers
            .push(peer_pub(&node.base, id, &public_of(&node), services));
        running.push(node);
    }
    kc.members.last_mut().unwrap().services = vec![
        "validasi-penerima".to_string(),
        "validasi-penerima-batch".to_string(),
    ];
    let (siks, t) = token_for(SIKS, 41);
    kc.tokens.push(t);
    let mut a = agreement(
        "PKS-KEMENSOS-SIKS",
        KEMENSOS,
        SIKS,
        "validasi-penerima-batch",
        &["nik_saran"],
    );
    let mut single = a.services[0].clone();
    single.service_code = "validasi-penerima".into();
    a.services.push(single);
    kc.agreements.push(big(a));
    let kemensos = start(kc).await;

    let programs = sinergi_engine::run::load_programs(&root().join("config/programs")).unwrap();
    let exclusions = sinergi_engine::run::exclusions(&programs);
    let (reg, _) = Registries::load(&all, &[]).await.unwrap();
    let reg = Arc::new(reg);
    let mut mismatches = Vec::new();
    let (mut rows_total, mut suggested) = (0usize, 0usize);
    for program in ["PKH", "BPNT", "PBI_JK", "BLT_DD"] {
        let rows = roster_rows(&world.join(format!("rosters/{program}.xlsx")));
        assert!(!rows.is_empty(), "{program}");
        let mut embedded = Validator::new(
            reg.clone(),
            programs.clone(),
            Arc::new(LedgerBuilder::new().finish(exclusions.clone())),
        );
        let t0 = std::time::Instant::now();
        let local = run(&mut embedded, program, &rows);
        let t_local = t0.elapsed().as_secs_f64();
        let st = kemensos.running.state.clone();
        let (programs2, rows2, ex2) = (programs.clone(), rows.clone(), exclusions.clone());
        let rt = tokio::runtime::Handle::current();
        let t0 = std::time::Instant::now();
        let remote = tokio::task::spawn_blocking(move || {
            let answerer = sinergi_server::federated::Federated::new(
                st,
                cid(KEMENSOS),
                sinergi_server::federated::Context {
                    request_id: format!("one-engine-{program}"),
                    user_id: "test".into(),
                    issue: String::new(),
                    purpose: "VALIDASI_BANSOS".into(),
                },
                rt,
            );
            let mut v = Validator::with_answerer(
                Box::new(answerer),
                programs2,
                Arc::new(LedgerBuilder::new().finish(ex2)),
                &[],
            );
            run(&mut v, program, &rows2)
        })
        .await
        .unwrap();
        let t_remote = t0.elapsed().as_secs_f64();
        // Figures only (no timed assertion): docs/BENCHMARKS.md, "One engine".
        println!(
            "{program}: {} rows, embedded {t_local:.2} s, federated {t_remote:.2} s ({:.2}x)",
            rows.len(),
            t_remote / t_local.max(1e-9)
        );
        assert_eq!(local.len(), remote.len(), "{program}");
        for (a, b) in local.iter().zip(&remote) {
            if key(a) != key(b) {
                mismatches.push(format!("{program}: {:?}\n   vs {:?}", key(a), key(b)));
            }
            if a.suggested_nik.is_some() {
                suggested += 1;
            }
        }
        rows_total += rows.len();
        // Nothing was left unchecked for want of a registry: every node answered.
        assert!(
            remote
                .iter()
                .flat_map(|v| &v.not_checked)
                .all(|n| !matches!(
                    n.why.as_str(),
                    "REFUSED" | "UNREACHABLE" | "NO_ROUTE" | "TIMEOUT"
                )),
            "{program}: a registry was not asked"
        );
    }
    println!(
        "{rows_total} rows, {suggested} with a suggested NIK, {} mismatches",
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {rows_total} rows differ:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(20)].join("\n")
    );
    assert!(suggested > 0, "the lists have mistyped NIKs to recover");

    // The household ledger: BLT Dana Desa may not be combined with PKH or BPNT. Embedded, the
    // PKH and BPNT lists are stored rosters (as `sinergi ingest` loads them) and
    // `sinergi validate` checks the BLT_DD list against them; over the API, Kemensos has
    // validated the PKH and BPNT lists before the BLT_DD list arrives. Per row, the same
    // verdicts, PROGRAM_OVERLAP and DUPLICATE_IN_LIST included.
    for program in ["PKH", "BPNT"] {
        ingest_as(
            &all,
            "roster",
            Some(&format!("roster-{program}")),
            &world.join(format!("rosters/{program}.xlsx")),
        )
        .await;
    }
    let (reg, _) = Registries::load(&all, &[]).await.unwrap();
    let reg = Arc::new(reg);
    let blt = roster_rows(&world.join("rosters/BLT_DD.xlsx"));
    let period = blt[0].period.clone();
    let stored = sinergi_engine::run::load_ledger(&all, &reg, &programs, Some(("BLT_DD", &period)))
        .await
        .unwrap();
    let mut embedded = Validator::new(
        reg.clone(),
        programs.clone(),
        Arc::new(stored.finish(exclusions.clone())),
    );
    let local = run_in(&mut embedded, "BLT_DD", &blt, 2048);
    let http = http();
    let mut remote = Vec::new();
    for program in ["PKH", "BPNT", "BLT_DD"] {
        let rows = roster_rows(&world.join(format!("rosters/{program}.xlsx")));
        let mut body = Vec::new();
        for r in &rows {
            serde_json::to_writer(&mut body, &sinergi_server::validasi::recipient_line(r)).unwrap();
            body.push(b'\n');
        }
        let h = vec![
            (
                "authorization".to_string(),
                format!("Bearer {}", siks.plaintext),
            ),
            ("x-road-client".to_string(), SIKS.to_string()),
            ("x-road-id".to_string(), format!("ledger-{program}")),
            (
                "x-sinergi-purpose".to_string(),
                "VALIDASI_BANSOS".to_string(),
            ),
        ];
        let url = format!(
            "{}/r1/{KEMENSOS}/validasi-penerima-batch?program={program}&fields=nik_saran",
            kemensos.base
        );
        let r = send(&http, "POST", &url, &h, body).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        remote = r.ndjson();
        assert_eq!(remote.len(), rows.len(), "{program}");
    }
    let codes_of = |v: &serde_json::Value| -> String {
        v["verdict"]["reasons"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| r["code"].as_str().unwrap_or("").to_string())
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_default()
    };
    let (mut overlaps, mut dups, mut differ) = (0, 0, Vec::new());
    for (a, b) in local.iter().zip(&remote) {
        let mut nc: Vec<String> = b["tidak_diperiksa"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| n["code"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        nc.sort_unstable();
        let theirs = (
            a.row_no,
            sinergi_engine::Decision::parse(b["verdict"]["verdict"].as_str().unwrap_or(""))
                .map(|d| format!("{d:?}"))
                .unwrap_or_default(),
            codes_of(b),
            b["nik_tertaut"].as_str().map(str::to_owned),
            b["nik_saran"].as_str().map(str::to_owned),
            nc.join(";"),
        );
        if key(a) != theirs {
            differ.push(format!("{:?}\n   vs {theirs:?}", key(a)));
        }
        overlaps += usize::from(a.codes().contains("PROGRAM_OVERLAP"));
        dups += usize::from(a.codes().contains("DUPLICATE_IN_LIST"));
    }
    println!(
        "BLT_DD: {} rows, {overlaps} PROGRAM_OVERLAP, {dups} DUPLICATE_IN_LIST, {} differ",
        blt.len(),
        differ.len()
    );
    assert!(
        overlaps > 0 && dups > 0,
        "the world has overlaps and duplicates"
    );
    assert!(
        differ.is_empty(),
        "{} of {} BLT_DD rows differ:\n{}",
        differ.len(),
        blt.len(),
        differ[..differ.len().min(20)].join("\n")
    );

    // SINERGI_BENCH=1: the figures of docs/BENCHMARKS.md, "One engine" (printed; no timed
    // assertion): the PBI_JK list through the federated batch path against the embedded
    // validator in the same run, and one person with a mistyped NIK through validasi-penerima.
    if std::env::var_os("SINERGI_BENCH").is_some() {
        let rows = roster_rows(&world.join("rosters/PBI_JK.xlsx"));
        let mut body = Vec::new();
        for r in &rows {
            serde_json::to_writer(&mut body, &sinergi_server::validasi::recipient_line(r)).unwrap();
            body.push(b'\n');
        }
        let h = |rid: &str| {
            vec![
                (
                    "authorization".to_string(),
                    format!("Bearer {}", siks.plaintext),
                ),
                ("x-road-client".to_string(), SIKS.to_string()),
                ("x-road-id".to_string(), rid.to_string()),
                (
                    "x-sinergi-purpose".to_string(),
                    "VALIDASI_BANSOS".to_string(),
                ),
            ]
        };
        for round in 0..2 {
            let mut embedded = Validator::new(
                reg.clone(),
                programs.clone(),
                Arc::new(LedgerBuilder::new().finish(exclusions.clone())),
            );
            let t0 = std::time::Instant::now();
            let local = run_in(
                &mut embedded,
                "PBI_JK",
                &rows,
                sinergi_engine::run::BLOCK_ROWS,
            );
            let t_local = t0.elapsed().as_secs_f64();
            let url = format!(
                "{}/r1/{KEMENSOS}/validasi-penerima-batch?program=PBI_JK&fields=nik_saran",
                kemensos.base
            );
            let t0 = std::time::Instant::now();
            let r = send(
                &http,
                "POST",
                &url,
                &h(&format!("bench-{round}")),
                body.clone(),
            )
            .await;
            let t_api = t0.elapsed().as_secs_f64();
            assert_eq!(r.status, 200);
            assert_eq!(r.ndjson().len(), local.len());
            println!(
                "bench round {round}: PBI_JK {} rows: embedded validator {t_local:.2} s, validasi-penerima-batch over loopback {t_api:.2} s ({:.2}x)",
                rows.len(),
                t_api / t_local.max(1e-9)
            );
        }
        // One person whose NIK is mistyped (a row the engine recovers with a suggestion).
        let embedded = Validator::new(
            reg.clone(),
            programs.clone(),
            Arc::new(LedgerBuilder::new().finish(exclusions.clone())),
        );
        let p = embedded.program("PBI_JK").unwrap().clone();
        let typo = rows
            .iter()
            .find(|r| {
                r.nik.is_some() && {
                    let v = embedded.validate_one(&p, r);
                    v.suggested_nik.is_some() && v.linked_nik != r.nik.map(|n| format!("{n:016}"))
                }
            })
            .expect("a mistyped NIK the engine recovers");
        let mut q = sinergi_server::validasi::recipient_line(typo);
        q["fields"] = serde_json::json!(["nik_saran"]);
        let q = serde_json::to_vec(&q).unwrap();
        let url = format!("{}/r1/{KEMENSOS}/validasi-penerima", kemensos.base);
        let mut times = Vec::new();
        for i in 0..1_100 {
            let t0 = std::time::Instant::now();
            let r = send(&http, "POST", &url, &h(&format!("one-{i}")), q.clone()).await;
            let t = t0.elapsed().as_secs_f64() * 1e3;
            assert_eq!(r.status, 200);
            if i == 0 {
                assert!(r.json()["nik_saran"].is_string(), "{}", r.json());
            }
            if i >= 100 {
                times.push(t);
            }
        }
        times.sort_by(f64::total_cmp);
        let q = |f: f64| times[((times.len() as f64 * f) as usize).min(times.len() - 1)];
        println!(
            "bench validasi-penerima, one mistyped-NIK person, {} sequential requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            times.len(),
            q(0.50),
            q(0.99),
            times[times.len() - 1]
        );
    }

    // The registries audited Kemensos's calls.
    let e = last_entries(&http, &running[0].base, 5).await;
    assert!(
        e.iter()
            .all(|e| e["client"] == KEMENSOS && e["decision"] == "ALLOWED"),
        "{e:?}"
    );
    kemensos.running.stop().await.unwrap();
    for n in running {
        n.running.stop().await.unwrap();
    }
}
