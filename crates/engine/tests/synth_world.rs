//! The whole chain on a generated world: `sinergi_synth::generate` → ingest every agency file
//! through its mapping into a SQLite store → validate every programme's roster → `eval`
//! against the generator's truth. Prints the accuracy table.

use std::path::{Path, PathBuf};

use sinergi_engine::eval::eval;
use sinergi_engine::{ValidateRequest, validate};
use sinergi_ingest::{Batch, Mapping, ReadOptions};
use sinergi_store::{DatasetMeta, LoadMode, LoadStats, Store};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn ingest(store: &Store, mapping: &str, files: &[PathBuf]) {
    let m = Mapping::from_file(
        root()
            .join("config/mappings")
            .join(format!("{mapping}.toml")),
    )
    .unwrap();
    let meta = DatasetMeta {
        name: m.source.clone(),
        table: m.table,
        owner_agency: m.agency.clone(),
        description: m.description.clone(),
        reference_codes: Vec::new(),
        update_cadence: String::new(),
    };
    let mut records = Vec::new();
    let report = sinergi_ingest::read(
        &m,
        files,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_world_validates_close_to_its_truth() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world");
    let people: u64 = std::env::var("SINERGI_WORLD_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    // SINERGI_WORLD_KEEP=<dir>: keep every programme's outputs (CSV and JSON) there.
    let keep = std::env::var_os("SINERGI_WORLD_KEEP").map(PathBuf::from);
    let cfg = sinergi_synth::SynthConfig {
        people,
        ..sinergi_synth::SynthConfig::default()
    };
    sinergi_synth::generate(&cfg, &world, &mut |_| {}).unwrap();
    let store = Store::open(Some(&dir.path().join("s.db").display().to_string()))
        .await
        .unwrap();
    for (mapping, file) in [
        ("dukcapil-penduduk", "dukcapil/penduduk.csv"),
        ("dukcapil-kematian", "dukcapil/kematian.csv"),
        ("dtsen", "dtsen/dtsen.csv"),
        ("bpjs-kesehatan", "bpjs-kesehatan/peserta.jsonl"),
        ("bkn-asn", "bkn/asn.xlsx"),
        ("tni-polri", "tni-polri/personel.csv"),
        ("bpjs-ketenagakerjaan-upah", "bpjs-ketenagakerjaan/upah.csv"),
    ] {
        ingest(&store, mapping, &[world.join(file)]).await;
    }
    let programs = ["PKH", "BPNT", "PBI_JK", "BLT_DD"];
    let rosters: Vec<PathBuf> = programs
        .iter()
        .map(|p| world.join(format!("rosters/{p}.xlsx")))
        .collect();
    ingest(&store, "roster", &rosters).await;
    let out = dir.path().join("out");
    for (p, roster) in programs.iter().zip(&rosters) {
        let mut req = ValidateRequest::new(roster, p, out.join(p));
        req.programs_dir = root().join("config/programs");
        req.mapping = root().join("config/mappings/roster.toml");
        req.formats = vec![sinergi_engine::OutputFormat::Csv];
        if keep.is_some() {
            req.formats.push(sinergi_engine::OutputFormat::Json);
        }
        req.period = Some(cfg.period.clone());
        let run = validate(&store, &req, &mut |_| {}).await.unwrap();
        assert!(run.summary.total.rows > 0, "{p}");
    }
    if let Some(keep) = &keep {
        // Outputs kept for comparing two builds (performance work must not change them).
        for p in programs {
            let dst = keep.join(p);
            std::fs::create_dir_all(&dst).unwrap();
            for e in std::fs::read_dir(out.join(p)).unwrap() {
                let e = e.unwrap();
                std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
            }
        }
    }
    let report = eval(&world.join("truth"), &out).unwrap();
    println!("{}", report.render_table());
    assert_eq!(report.missing_rows, 0, "every roster row gets a verdict");
    for code in ["DECEASED", "NOT_IN_DTSEN", "DECILE_ABOVE_CUT"] {
        if let Some(s) = report.by_code.get(code) {
            assert!(s.f1 >= 0.9, "{code}: {s:?}");
        }
    }
}
