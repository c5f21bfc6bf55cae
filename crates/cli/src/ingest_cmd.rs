//! `sinergi ingest`: load an agency's native files into the store through a mapping.

use std::path::PathBuf;
use std::process::ExitCode;

use sinergi_store::{LoadMode, LoadPolicy};

use crate::load::{
    DateOrigin, LoadOptions, ProblemFiles, load_files, refusal_message, resolve_mapping,
};
use crate::progress;

/// `--source`'s help in both languages, naming every shipped source.
fn source_help() -> String {
    let names = crate::builtin::mapping_names().join(", ");
    format!(
        "Nama sumber: {names}; atau nama lain dengan --mapping FILE.\n[en] Source name: {names}; or another name with --mapping FILE."
    )
}

#[derive(Debug, clap::Args)]
pub struct Args {
    // The help lists every shipped source, from the one list of them (`builtin::MAPPINGS`).
    #[arg(long, help = source_help())]
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
    /// Berkas baris yang ditolak (bawaan: <dataset>-ditolak-<waktu>.csv di folder kerja, satu
    /// per pemuatan).
    /// [en] File of rejected rows (default: <dataset>-ditolak-<time>.csv in the working folder,
    /// one per run).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Berkas peringatan (bawaan: <dataset>-peringatan-<waktu>.csv, satu per pemuatan).
    /// [en] File of warnings (default: <dataset>-peringatan-<time>.csv, one per run).
    #[arg(long)]
    pub warnings: Option<PathBuf>,
    /// Jumlah peringatan terbanyak yang ditulis ke berkas peringatan; sisanya dihitung di
    /// laporan dan di baris terakhir berkas.
    /// [en] Most warnings written to the warnings file; the rest are counted in the report and
    /// in the file's last row.
    #[arg(
        long,
        alias = "max-warnings",
        default_value_t = crate::load::DEFAULT_MAX_WARNINGS,
        env = "SINERGI_BATAS_PERINGATAN",
        value_name = "N"
    )]
    pub batas_peringatan: u64,
    /// Muat walaupun dataset menjadi kosong, menyusut melebihi --batas-susut, atau baris yang
    /// ditolak melebihi --batas-tolak (dicatat di riwayat dataset).
    /// [en] Load even when the dataset would become empty, shrink beyond --batas-susut, or
    /// reject more rows than --batas-tolak (recorded in the dataset's history).
    #[arg(long, alias = "allow-shrink")]
    pub izinkan_susut: bool,
    /// Persen baris yang boleh hilang dari versi sekarang tanpa --izinkan-susut.
    /// [en] Percent of the current version's rows a load may lose without --izinkan-susut.
    #[arg(
        long,
        default_value_t = 10.0,
        env = "SINERGI_BATAS_SUSUT",
        value_name = "PERSEN"
    )]
    pub batas_susut: f64,
    /// Persen baris dibaca yang boleh ditolak tanpa --izinkan-susut.
    /// [en] Percent of the rows read that may be rejected without --izinkan-susut.
    #[arg(
        long,
        default_value_t = 5.0,
        env = "SINERGI_BATAS_TOLAK",
        value_name = "PERSEN"
    )]
    pub batas_tolak: f64,
    /// Jumlah versi sebelumnya yang disimpan untuk `sinergi datasets pulihkan`.
    /// [en] Previous versions kept for `sinergi datasets pulihkan` (restore).
    #[arg(long, default_value_t = sinergi_store::DEFAULT_KEEP_PREVIOUS, env = "SINERGI_SIMPAN_VERSI", value_name = "N")]
    pub simpan_versi: usize,
    /// Tanggal keadaan data menurut instansi (YYYY-MM-DD), yang dikutip putusan sebagai "data
    /// per"; bawaan: tanggal pada nama berkas atau pemetaan.
    /// [en] The date the agency's extract describes (YYYY-MM-DD), which verdicts cite as "data
    /// as of"; default: a date in the file name or the mapping.
    #[arg(long, value_name = "TANGGAL")]
    pub per: Option<chrono::NaiveDate>,
    /// Siapa yang memuat (dicatat di riwayat dataset; bawaan: pengguna sistem).
    /// [en] Who loads (recorded in the dataset's history; default: the system user).
    #[arg(long, value_name = "NAMA")]
    pub oleh: Option<String>,
    /// Berkas masukan. [en] Input files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub db: crate::DbArgs,
}

pub async fn run(db: Option<&str>, args: Args) -> anyhow::Result<ExitCode> {
    use crate::tr;
    let mut mapping = resolve_mapping(&args.source, args.mapping.as_deref())?;
    if args.mapping.is_some() && mapping.source != args.source {
        anyhow::bail!(tr!(
            "Pemetaan {} adalah untuk sumber `{}`, bukan `{}` yang diminta --source. Berikan --source {} (atau pemetaan yang benar).",
            "The mapping {} is for source `{}`, not `{}` as --source says. Give --source {} (or the right mapping).",
            mapping.origin,
            mapping.source,
            args.source,
            mapping.source
        ));
    }
    mapping.source = crate::load::dataset_name(&mapping, args.dataset.as_deref(), &args.paths);
    let store = crate::open_store(db).await?;
    let run_files = ProblemFiles::per_run(std::path::Path::new("."), &mapping.source);
    let problems = ProblemFiles {
        rejects: args.rejects.unwrap_or(run_files.rejects),
        warnings: args.warnings.unwrap_or(run_files.warnings),
    };
    let mode = if args.delta {
        LoadMode::Delta
    } else {
        LoadMode::Snapshot
    };
    let percent = |name: &str, v: f64| -> anyhow::Result<f64> {
        anyhow::ensure!(
            (0.0..=100.0).contains(&v),
            tr!(
                "--{name} harus antara 0 dan 100 (persen), bukan {v}",
                "--{name} must be between 0 and 100 (percent), not {v}"
            )
        );
        Ok(v / 100.0)
    };
    let policy = LoadPolicy {
        max_shrink: percent("batas-susut", args.batas_susut)?,
        max_rejected: percent("batas-tolak", args.batas_tolak)?,
        confirmed: args.izinkan_susut,
        keep_previous: args.simpan_versi,
        actor: args.oleh.unwrap_or_else(crate::load::system_user),
    };
    let reference = crate::load::reference_date(args.per, &mapping, &args.paths)?;
    match &reference {
        Some((d, origin)) => {
            let from = match origin {
                DateOrigin::Flag => "--per".to_string(),
                DateOrigin::Mapping => tr!("pemetaan", "the mapping"),
                DateOrigin::FileName => tr!("nama berkas", "the file name"),
            };
            println!(
                "{}",
                tr!(
                    "Data per {d} (dari {from}).",
                    "Data as of {d} (from {from})."
                )
            );
        }
        None => println!(
            "{}",
            tr!(
                "Tanggal acuan data tidak diketahui: putusan akan menyebut tanggal muat. Berikan \
                 --per TANGGAL (tanggal keadaan data menurut instansi).",
                "The data's reference date is unknown: verdicts will name the load date. Give \
                 --per DATE (the date the agency's extract describes)."
            )
        ),
    }
    let bar = progress::bytes_bar(&tr!("Memuat {}", "Loading {}", mapping.source));
    let b = bar.clone();
    let outcome = load_files(
        &store,
        &mapping,
        &args.paths,
        LoadOptions {
            mode,
            problems: &problems,
            policy,
            reference_date: reference.as_ref().map(|(d, _)| d.clone()),
            max_warnings: args.batas_peringatan,
        },
        move |done, total| {
            b.set_length(total);
            b.set_position(done);
        },
    )
    .await;
    bar.finish_and_clear();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            store.close().await;
            if let Some(sinergi_store::StoreError::LoadRefused(r)) =
                e.downcast_ref::<sinergi_store::StoreError>()
            {
                eprintln!("{}", refusal_message(r, &problems.rejects));
                return Ok(ExitCode::FAILURE);
            }
            return Err(e);
        }
    };
    let snap = &outcome.snapshot;
    let Some(report) = outcome.report else {
        println!(
            "{}",
            tr!(
                "Berkas sama dengan versi {} dari {} (dimuat {}): tidak ada yang berubah.",
                "The files are those of version {} of {} (loaded {}): nothing changed.",
                snap.version_label,
                snap.dataset,
                crate::wib::from_rfc3339(&snap.loaded_at)
            )
        );
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    };
    print!("{}", report.to_text(crate::lang::lang()));
    println!(
        "{}",
        tr!(
            "Dataset {} versi {} (snapshot {}): {} baris saat ini.",
            "Dataset {} version {} (snapshot {}): {} rows now.",
            snap.dataset,
            snap.version_label,
            snap.snapshot_id,
            crate::lang::num(snap.row_count)
        )
    );
    if report.rejected > 0 {
        println!(
            "{}",
            tr!(
                "Baris ditolak ditulis ke {}",
                "Rejected rows written to {}",
                problems.rejects.display()
            )
        );
    }
    if report.warned > 0 {
        println!(
            "{}",
            tr!(
                "Peringatan ditulis ke {}",
                "Warnings written to {}",
                problems.warnings.display()
            )
        );
    }
    if let Some(path) = args.report {
        sinergi_ingest::write_report_json(&path, &report)?;
        println!(
            "{}",
            tr!(
                "Laporan mutu JSON: {}",
                "Quality report (JSON): {}",
                path.display()
            )
        );
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
