//! `sinergi validate`: validate a recipient list against every registry in the store.

use std::path::PathBuf;
use std::process::ExitCode;

use sinergi_engine::{OutputFormat, RunOutput, Stage, ValidateRequest, validate_with};
use sinergi_store::Store;

use crate::progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Kode program: PKH, BPNT, PBI_JK, BLT_DD. [en] Programme code: PKH, BPNT, PBI_JK, BLT_DD.
    #[arg(long)]
    pub program: String,
    /// Daftar penerima (XLSX atau CSV sesuai pemetaan).
    /// [en] The recipient list (XLSX or CSV, as the mapping says).
    #[arg(long)]
    pub list: PathBuf,
    /// Pemetaan daftar (bawaan: pemetaan roster yang dikirim bersama Sinergi).
    /// [en] The list's mapping (default: the roster mapping shipped with Sinergi).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Folder aturan program (bawaan: aturan yang dikirim bersama Sinergi).
    /// [en] Folder of programme rules (default: the rules shipped with Sinergi).
    #[arg(long)]
    pub programs: Option<PathBuf>,
    /// Periode daftar bila baris tidak menyebutkannya, mis. 2026-11.
    /// [en] The list's period when its rows do not say, e.g. 2026-11.
    #[arg(long)]
    pub period: Option<String>,
    /// Folder hasil (bawaan: hasil-<PROGRAM>). [en] Result folder (default: hasil-<PROGRAM>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Format hasil: csv, xlsx, json (dipisah koma).
    /// [en] Result formats: csv, xlsx, json (comma-separated).
    #[arg(long, default_value = "csv,xlsx,json")]
    pub format: String,
    #[command(flatten)]
    pub db: crate::DbArgs,
}

/// Runs one validation with a progress bar; used by `validate` and `demo`.
pub async fn run_validation(
    store: &Store,
    req: &ValidateRequest,
    mapping: &sinergi_ingest::Mapping,
    programs: &[sinergi_rules::Program],
) -> anyhow::Result<RunOutput> {
    // The list's row count is known only once it is read: a counter, not a bar to "/0".
    let bar = progress::counter(&crate::tr!("Validasi {}", "Validating {}", req.program));
    let b = bar.clone();
    let mut on_progress = move |p: sinergi_engine::Progress| {
        let msg = match p.stage {
            Stage::LoadRegistries => crate::tr!("Memuat data registri", "Loading registries"),
            Stage::Ledger => crate::tr!(
                "Menyusun buku besar keluarga",
                "Building the household ledger"
            ),
            Stage::Validate => crate::tr!("Memvalidasi baris", "Validating rows"),
            Stage::Finish => crate::tr!("Menulis ringkasan", "Writing the summary"),
        };
        b.set_message(msg);
        if p.stage == Stage::Validate {
            b.set_position(p.done);
        }
    };
    let result = validate_with(store, req, programs, mapping, &mut on_progress).await;
    bar.finish_and_clear();
    Ok(result?)
}

pub async fn run(db: Option<&str>, args: Args) -> anyhow::Result<ExitCode> {
    let formats = OutputFormat::parse_list(&args.format).map_err(|e| anyhow::anyhow!("{e}"))?;
    let programs = crate::builtin::programs(args.programs.as_deref())?;
    // `--period` fills the period of rows (and lists) that do not state one.
    let defaults: Vec<(&str, &str)> = args.period.iter().map(|p| ("period", p.as_str())).collect();
    let mapping = crate::load::resolve_mapping_with("roster", args.mapping.as_deref(), &defaults)?;
    let store = crate::open_store(db).await?;
    let out = args
        .out
        .unwrap_or_else(|| format!("hasil-{}", args.program).into());
    let mut req = ValidateRequest::new(&args.list, &args.program, out);
    req.period = args.period;
    req.formats = formats;
    req.lang = crate::lang::lang();
    let run = run_validation(&store, &req, &mapping, &programs).await?;
    print!("{}", run.summary.render_table(req.lang));
    println!(
        "{}",
        crate::tr!(
            "Selesai dalam {:.1} detik ({} baris lewat NIK persis). Hasil: {}",
            "Done in {:.1} s ({} rows by exact NIK). Results: {}",
            run.total_s,
            crate::lang::num(run.exact_nik_rows),
            run.out_dir.display()
        )
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
