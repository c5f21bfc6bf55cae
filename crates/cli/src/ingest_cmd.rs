//! `sinergi ingest`: load an agency's native files into the store through a mapping.

use std::path::PathBuf;
use std::process::ExitCode;

use sinergi_store::LoadMode;

use crate::load::{ProblemFiles, load_files, resolve_mapping};
use crate::progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Nama sumber, mis. dukcapil-penduduk, dtsen, bpjs-kesehatan, roster.
    /// [en] Source name, e.g. dukcapil-penduduk, dtsen, bpjs-kesehatan, roster.
    #[arg(long)]
    pub source: String,
    /// Berkas pemetaan TOML (bawaan: pemetaan yang dikirim bersama Sinergi untuk --source).
    /// [en] TOML mapping file (default: the mapping shipped with Sinergi for --source).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Nama dataset (bawaan: nama sumber; untuk daftar penerima: roster-<nama berkas>, mis.
    /// roster-PKH, agar daftar tiap program tersimpan terpisah).
    /// [en] Dataset name (default: the source name; for recipient lists roster-<file name>,
    /// e.g. roster-PKH, so each programme's list is kept apart).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Perbarui per kunci (upsert) alih-alih mengganti seluruh snapshot.
    /// [en] Update by key (upsert) instead of replacing the whole snapshot.
    #[arg(long)]
    pub delta: bool,
    /// Tulis laporan mutu sebagai JSON ke berkas ini.
    /// [en] Write the quality report as JSON to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Berkas baris yang ditolak (bawaan: <source>-ditolak.csv di folder kerja).
    /// [en] File of rejected rows (default: <source>-ditolak.csv in the working folder).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Berkas peringatan (bawaan: <source>-peringatan.csv).
    /// [en] File of warnings (default: <source>-peringatan.csv).
    #[arg(long)]
    pub warnings: Option<PathBuf>,
    /// Berkas masukan. [en] Input files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub db: crate::DbArgs,
}

pub async fn run(db: Option<&str>, args: Args) -> anyhow::Result<ExitCode> {
    let mut mapping = resolve_mapping(&args.source, args.mapping.as_deref())?;
    mapping.source = crate::load::dataset_name(&mapping, args.dataset.as_deref(), &args.paths);
    let store = crate::open_store(db).await?;
    let problems = ProblemFiles {
        rejects: args
            .rejects
            .unwrap_or_else(|| format!("{}-ditolak.csv", mapping.source).into()),
        warnings: args
            .warnings
            .unwrap_or_else(|| format!("{}-peringatan.csv", mapping.source).into()),
    };
    let mode = if args.delta {
        LoadMode::Delta
    } else {
        LoadMode::Snapshot
    };
    let bar = progress::bytes_bar(&format!("Memuat {}", mapping.source));
    let b = bar.clone();
    let outcome = load_files(
        &store,
        &mapping,
        &args.paths,
        mode,
        &problems,
        move |done, total| {
            b.set_length(total);
            b.set_position(done);
        },
    )
    .await;
    bar.finish_and_clear();
    let outcome = outcome?;
    let snap = &outcome.snapshot;
    let Some(report) = outcome.report else {
        println!(
            "Berkas sama dengan versi {} dari {} (dimuat {}): tidak ada yang berubah.",
            snap.version_label, snap.dataset, snap.loaded_at
        );
        return Ok(ExitCode::SUCCESS);
    };
    print!("{}", report.to_text_id());
    println!(
        "Dataset {} versi {} (snapshot {}): {} baris saat ini.",
        snap.dataset, snap.version_label, snap.snapshot_id, snap.row_count
    );
    if report.rejected > 0 {
        println!("Baris ditolak ditulis ke {}", problems.rejects.display());
    }
    if report.warned > 0 {
        println!("Peringatan ditulis ke {}", problems.warnings.display());
    }
    if let Some(path) = args.report {
        sinergi_ingest::write_report_json(&path, &report)?;
        println!("Laporan mutu JSON: {}", path.display());
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
