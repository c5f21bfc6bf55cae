//! `sinergi`: the one binary. Glue code: it parses the command line, calls the library
//! crates and prints results. No domain logic lives here.

use clap::{Parser, Subcommand};

mod audit_cmd;
mod builtin;
mod datasets_cmd;
mod demo_cmd;
mod eval_cmd;
mod ingest_cmd;
mod link_cmd;
mod load;
mod nik_cmd;
mod pks_cmd;
mod progress;
mod serve_cmd;
mod synth_cmd;
mod validate_cmd;
mod wilayah_cmd;

/// Sinergi: pertukaran data antarinstansi dan validasi penerima bantuan sosial.
#[derive(Debug, Parser)]
#[command(name = "sinergi", version, about, long_about = None)]
struct Cli {
    /// Basis data: postgres://... untuk PostgreSQL, atau jalur berkas SQLite
    /// (bawaan: ./sinergi-data/sinergi.db).
    #[arg(long, global = true, env = "SINERGI_DATABASE_URL")]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Demo lengkap: data sintetis, pemuatan, validasi empat program, akurasi (full demo).
    Demo(demo_cmd::Args),
    /// Periksa NIK dan cetak satu objek JSON per masukan (check NIKs).
    Nik(nik_cmd::Args),
    /// Cari wilayah Kemendagri menurut kode atau nama (look a region up by code or name).
    Wilayah(wilayah_cmd::Args),
    /// Buat data sintetis Indonesia dalam format asli tiap instansi (synthetic data).
    Synth(synth_cmd::Args),
    /// Muat berkas instansi ke basis data melalui pemetaan (ingest agency files).
    Ingest(ingest_cmd::Args),
    /// Validasi daftar penerima terhadap semua registri (validate a recipient list).
    Validate(validate_cmd::Args),
    /// Presisi dan recall putusan terhadap truth/ generator (evaluate verdicts).
    Eval(eval_cmd::Args),
    /// Daftar dataset, versi, jumlah baris dan mutu (list datasets).
    Datasets(datasets_cmd::Args),
    /// Cocokkan dua daftar tanpa NIK, atau cari duplikat dalam satu daftar (link lists).
    Link(link_cmd::Args),
    /// Jalankan node pertukaran data sampai Ctrl-C (run an exchange node).
    Serve(serve_cmd::Args),
    /// Periksa log audit node dan siapa mengakses suatu NIK (audit log checks).
    Audit(audit_cmd::Args),
    /// Kelola PKS: buat, daftar, bekukan, cabut (manage data-sharing agreements).
    Pks(pks_cmd::Args),
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let db = cli.db.as_deref();
    match cli.command {
        Command::Demo(args) => runtime()?.block_on(demo_cmd::run(db, args)),
        Command::Validate(args) => runtime()?.block_on(validate_cmd::run(db, args)),
        Command::Eval(args) => eval_cmd::run(args),
        Command::Nik(args) => nik_cmd::run(args),
        Command::Wilayah(args) => wilayah_cmd::run(args),
        Command::Synth(args) => synth_cmd::run(args),
        Command::Ingest(args) => runtime()?.block_on(ingest_cmd::run(db, args)),
        Command::Datasets(args) => runtime()?.block_on(datasets_cmd::run(db, args)),
        Command::Link(args) => link_cmd::run(args),
        Command::Serve(args) => runtime()?.block_on(serve_cmd::run(db, args)),
        Command::Audit(args) => runtime()?.block_on(audit_cmd::run(args)),
        Command::Pks(args) => runtime()?.block_on(pks_cmd::run(args)),
    }
}

/// The async runtime for the store. CPU-heavy work runs on blocking threads or rayon.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Opens the store named by `--db` / `SINERGI_DATABASE_URL`, or the embedded default.
pub(crate) async fn open_store(db: Option<&str>) -> anyhow::Result<sinergi_store::Store> {
    sinergi_store::Store::open(db).await.map_err(|e| {
        anyhow::anyhow!(
            "Basis data {} tidak dapat dibuka: {e}",
            db.unwrap_or(sinergi_store::DEFAULT_SQLITE_PATH)
        )
    })
}

/// Today's date in local time: the default reference date for ages and NIK centuries.
pub(crate) fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}
