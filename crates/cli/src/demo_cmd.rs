//! `sinergi demo`: the whole job in one command on the embedded default — a synthetic
//! Indonesia, every agency's files ingested, the four programme lists validated, accuracy
//! measured against the generator's truth, and a summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sinergi_engine::ValidateRequest;
use sinergi_engine::output::format_rupiah;
use sinergi_synth::SynthConfig;

use crate::lang::num;
use crate::load::{LoadOptions, ProblemFiles, load_files, resolve_mapping};
use crate::tr;
use sinergi_engine::Decision;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Jumlah penduduk sintetis. [en] Number of synthetic people.
    #[arg(long, default_value_t = 100_000)]
    pub people: u64,
    /// Benih acak. [en] Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder kerja demo (data sintetis, laporan, hasil).
    /// [en] The demo's working folder (synthetic data, reports, results).
    #[arg(long, default_value = "sinergi-data/demo")]
    pub dir: PathBuf,
    /// Setelah demo, jalankan node pertukaran (konfigurasi tertanam) atas basis data yang sama
    /// sampai Ctrl-C.
    /// [en] After the demo, serve the exchange node (embedded configuration) over the same
    /// database until Ctrl-C.
    #[arg(long)]
    pub serve: bool,
    #[command(flatten)]
    pub db: crate::DbArgs,
}

/// Agency sources and their files in the generator's layout.
const SOURCES: &[(&str, &str)] = &[
    ("dukcapil-penduduk", "dukcapil/penduduk.csv"),
    ("dukcapil-kematian", "dukcapil/kematian.csv"),
    ("dtsen", "dtsen/dtsen.csv"),
    ("bpjs-kesehatan", "bpjs-kesehatan/peserta.jsonl"),
    ("bkn-asn", "bkn/asn.xlsx"),
    ("tni-polri", "tni-polri/personel.csv"),
    ("bpjs-ketenagakerjaan-upah", "bpjs-ketenagakerjaan/upah.csv"),
];

const PROGRAMS: &[&str] = &["PKH", "BPNT", "PBI_JK", "BLT_DD"];

pub async fn run(db: Option<&str>, args: Args) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let world = args.dir.join("dunia");
    let reports = args.dir.join("laporan-muat");
    let results = args.dir.join("hasil");
    std::fs::create_dir_all(&reports)?;

    println!(
        "{}",
        tr!(
            "1/4 Membuat Indonesia sintetis: {} orang (benih {})",
            "1/4 Generating a synthetic Indonesia: {} people (seed {})",
            num(args.people),
            args.seed
        )
    );
    let cfg = SynthConfig {
        people: args.people,
        seed: args.seed,
        ..SynthConfig::default()
    };
    let w = world.clone();
    let summary =
        tokio::task::spawn_blocking(move || crate::synth_cmd::generate_with_progress(&cfg, &w))
            .await??;
    println!(
        "{}",
        tr!(
            "    {} orang dalam {} keluarga → {}",
            "    {} people in {} families → {}",
            num(summary.people),
            num(summary.families),
            world.display()
        )
    );

    let store = crate::open_store(db).await?;
    println!(
        "{}",
        tr!(
            "2/4 Memuat data instansi ke {}",
            "2/4 Loading the agencies' data into {}",
            db.unwrap_or(sinergi_store::DEFAULT_SQLITE_PATH)
        )
    );
    let mut loads: Vec<(String, String)> = Vec::new();
    for &(source, file) in SOURCES {
        loads.push((source.to_string(), file.to_string()));
    }
    for p in PROGRAMS {
        loads.push(("roster".into(), format!("rosters/{p}.xlsx")));
    }
    for (source, file) in &loads {
        let mut mapping = resolve_mapping(source, None)?;
        let path = world.join(file);
        mapping.source = crate::load::dataset_name(&mapping, None, std::slice::from_ref(&path));
        let problems = ProblemFiles::per_run(&reports, &mapping.source);
        let bar = crate::progress::bytes_bar(&tr!("Memuat {}", "Loading {}", mapping.source));
        let b = bar.clone();
        let outcome = load_files(
            &store,
            &mapping,
            &[path],
            LoadOptions {
                mode: sinergi_store::LoadMode::Snapshot,
                problems: &problems,
                // The demo regenerates its world: a smaller one replaces a larger one on purpose.
                policy: sinergi_store::LoadPolicy {
                    confirmed: true,
                    actor: "sinergi demo".into(),
                    ..sinergi_store::LoadPolicy::default()
                },
                // The synthetic world describes one day, as an agency's extract does.
                reference_date: Some(summary.config.reference_date.to_string()),
                max_warnings: crate::load::DEFAULT_MAX_WARNINGS,
            },
            move |done, total| {
                b.set_length(total);
                b.set_position(done);
            },
        )
        .await;
        bar.finish_and_clear();
        let outcome = outcome?;
        let s = &outcome.snapshot;
        match &outcome.report {
            Some(r) => println!(
                "{}",
                tr!(
                    "    {:<28} {:>9} baris dimuat, {:>6} ditolak, {:>6} peringatan (versi {})",
                    "    {:<28} {:>9} rows loaded, {:>6} rejected, {:>6} warnings (version {})",
                    s.dataset,
                    num(r.loaded),
                    num(r.rejected),
                    num(r.warned),
                    s.version_label
                )
            ),
            None => println!(
                "{}",
                tr!(
                    "    {:<28} {:>9} baris, tidak berubah (versi {})",
                    "    {:<28} {:>9} rows, unchanged (version {})",
                    s.dataset,
                    num(s.row_count),
                    s.version_label
                )
            ),
        }
    }

    println!(
        "{}",
        tr!(
            "3/4 Memvalidasi daftar penerima",
            "3/4 Validating the recipient lists"
        )
    );
    let programs = crate::builtin::programs(None)?;
    let roster_mapping = resolve_mapping("roster", None)?;
    let mut table = Vec::new();
    for p in PROGRAMS {
        let out = results.join(p);
        let mut req = ValidateRequest::new(world.join(format!("rosters/{p}.xlsx")), p, out);
        req.lang = crate::lang::lang();
        let run =
            crate::validate_cmd::run_validation(&store, &req, &roster_mapping, &programs).await?;
        table.push((p.to_string(), run));
    }
    store.close().await;

    let lang = crate::lang::lang();
    println!();
    println!(
        "{:<8} {:>8} {:>8} {:>8} {:>12} {:>20} {:>20}",
        tr!("program", "programme"),
        tr!("baris", "rows"),
        Decision::Layak.label(lang),
        Decision::Tinjau.label(lang),
        Decision::TidakLayak.label(lang),
        tr!("anggaran ditinjau", "budget to review"),
        tr!("anggaran berisiko", "budget at risk")
    );
    for (p, run) in &table {
        let t = &run.summary.total;
        println!(
            "{:<8} {:>8} {:>8} {:>8} {:>12} {:>20} {:>20}",
            p,
            num(t.rows),
            num(t.layak),
            num(t.tinjau),
            num(t.tidak_layak),
            format_rupiah(t.amount_tinjau),
            format_rupiah(t.amount_tidak_layak)
        );
    }

    println!();
    println!(
        "{}",
        tr!(
            "4/4 Akurasi terhadap kebenaran generator (truth/):",
            "4/4 Accuracy against the generator's truth (truth/):"
        )
    );
    let eval = sinergi_engine::eval::eval(&world.join("truth"), &results)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", eval.render_table());

    println!();
    println!(
        "{}",
        tr!(
            "Hasil per baris, ringkasan dan manifest: {}/<PROGRAM>/ (lihat docs/OUTPUTS.md)",
            "Per-row results, summaries and manifests: {}/<PROGRAM>/ (see docs/OUTPUTS.md)",
            results.display()
        )
    );
    println!(
        "{}",
        tr!(
            "Laporan pemuatan (baris ditolak dan peringatan): {}",
            "Load reports (rejected rows and warnings): {}",
            reports.display()
        )
    );
    println!(
        "{}",
        tr!(
            "Selesai dalam {:.1} detik.",
            "Done in {:.1} s.",
            t0.elapsed().as_secs_f64()
        )
    );
    if args.serve {
        return crate::serve_cmd::serve_demo(
            db,
            &world.join("dukcapil/penduduk.csv"),
            &results.join("PKH/summary.json"),
        )
        .await;
    }
    Ok(ExitCode::SUCCESS)
}
