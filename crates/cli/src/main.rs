//! `sinergi`: the one binary. Glue code: it parses the command line, calls the library
//! crates and prints results. No domain logic lives here.

use clap::{Parser, Subcommand};

mod audit_cmd;
mod builtin;
mod cek_cmd;
mod datasets_cmd;
mod demo_cmd;
mod eval_cmd;
mod ingest_cmd;
mod lang;
mod link_cmd;
mod load;
mod nik_cmd;
mod pengguna_cmd;
mod pks_cmd;
mod progress;
mod serve_cmd;
mod synth_cmd;
mod templat_cmd;
mod validasi_cmd;
mod validate_cmd;
mod wib;
mod wilayah_cmd;

/// Sinergi: pertukaran data antarinstansi dan validasi penerima bantuan sosial.
/// [en] Sinergi: inter-agency data exchange and social-aid recipient validation.
#[derive(Debug, Parser)]
#[command(name = "sinergi", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `--db`, on the commands that open the store.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// Basis data: postgres://... untuk PostgreSQL, atau jalur berkas SQLite (bawaan:
    /// ./sinergi-data/sinergi.db).
    /// [en] Database: postgres://... for PostgreSQL, or the path of an SQLite file (default:
    /// ./sinergi-data/sinergi.db).
    #[arg(long, env = "SINERGI_DATABASE_URL", value_name = "URL")]
    pub db: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Demo lengkap: data sintetis, pemuatan, validasi empat program, akurasi.
    /// [en] Full demo: synthetic data, loading, validation of four programmes, accuracy.
    Demo(demo_cmd::Args),
    /// Periksa NIK dan cetak satu objek JSON per masukan.
    /// [en] Check NIKs and print one JSON object per input.
    Nik(nik_cmd::Args),
    /// Cari wilayah Kemendagri menurut kode atau nama.
    /// [en] Look a Kemendagri region up by code or name.
    Wilayah(wilayah_cmd::Args),
    /// Buat data sintetis Indonesia dalam format asli tiap instansi.
    /// [en] Generate synthetic Indonesian data in each agency's native format.
    Synth(synth_cmd::Args),
    /// Muat berkas instansi ke basis data melalui pemetaan.
    /// [en] Load agency files into the database through a mapping.
    Ingest(ingest_cmd::Args),
    /// Validasi daftar penerima terhadap semua registri.
    /// [en] Validate a recipient list against every registry.
    Validate(validate_cmd::Args),
    /// Kirim daftar penerima ke layanan validasi sebuah node dan tulis hasilnya.
    /// [en] Send a recipient list to a node's validation service and write the results.
    Validasi(validasi_cmd::Args),
    /// Putusan dan penjelasan lengkap untuk satu orang, dari basis data.
    /// [en] One person's verdict and full explanation, from the database.
    Cek(cek_cmd::Args),
    /// Presisi dan recall putusan terhadap truth/ generator.
    /// [en] Precision and recall of verdicts against the generator's truth/.
    Eval(eval_cmd::Args),
    /// Daftar dataset, versi, jumlah baris dan mutu.
    /// [en] List datasets, versions, row counts and quality.
    Datasets(datasets_cmd::Args),
    /// Cocokkan dua daftar tanpa NIK, atau cari duplikat dalam satu daftar.
    /// [en] Link two lists without NIK, or find duplicates within one list.
    Link(link_cmd::Args),
    /// Tulis templat XLSX kosong daftar penerima yang langsung dapat dimuat.
    /// [en] Write a blank XLSX recipient-list template that loads as it is.
    Templat(templat_cmd::Args),
    /// Jalankan node pertukaran data sampai Ctrl-C.
    /// [en] Run an exchange node until Ctrl-C.
    Serve(serve_cmd::Args),
    /// Periksa log audit node dan siapa mengakses suatu NIK.
    /// [en] Check the node's audit log and who accessed a NIK.
    Audit(audit_cmd::Args),
    /// Kelola PKS: buat, daftar, bekukan, cabut.
    /// [en] Manage data-sharing agreements (PKS): create, list, suspend, revoke.
    Pks(pks_cmd::Args),
    /// Kelola akun aplikasi web: tambah, daftar, nonaktifkan.
    /// [en] Manage the web application's accounts: add, list, deactivate.
    Pengguna(pengguna_cmd::Args),
}

fn main() -> std::process::ExitCode {
    // Printing into a closed pipe (`sinergi datasets | head`) ends the program quietly, as
    // for every Unix tool, instead of panicking in `println!`.
    #[cfg(unix)]
    // SAFETY: called first thing, before any thread exists; SIG_DFL is always a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli: Cli = lang::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // In the user's words; no debug formatting, no backtrace.
            let text = lang::error_text_of(&e);
            eprintln!("{}", tr!("Galat: {text}", "Error: {text}"));
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    match cli.command {
        Command::Demo(args) => {
            let db = args.db.db.clone();
            runtime()?.block_on(demo_cmd::run(db.as_deref(), args))
        }
        Command::Validate(args) => {
            let db = args.db.db.clone();
            runtime()?.block_on(validate_cmd::run(db.as_deref(), args))
        }
        Command::Validasi(args) => runtime()?.block_on(validasi_cmd::run(args)),
        Command::Cek(args) => {
            let db = args.db.db.clone();
            runtime()?.block_on(cek_cmd::run(db.as_deref(), args))
        }
        Command::Eval(args) => eval_cmd::run(args),
        Command::Nik(args) => nik_cmd::run(args),
        Command::Wilayah(args) => wilayah_cmd::run(args),
        Command::Synth(args) => synth_cmd::run(args),
        Command::Ingest(args) => {
            let db = args.db.db.clone();
            runtime()?.block_on(ingest_cmd::run(db.as_deref(), args))
        }
        Command::Datasets(args) => {
            let db = args.db.db.clone();
            runtime()?.block_on(datasets_cmd::run(db.as_deref(), args))
        }
        Command::Link(args) => link_cmd::run(args),
        Command::Templat(args) => templat_cmd::run(args),
        Command::Serve(args) => {
            let db = args.db.db.clone();
            runtime()?.block_on(serve_cmd::run(db.as_deref(), args))
        }
        Command::Audit(args) => runtime()?.block_on(audit_cmd::run(args)),
        Command::Pks(args) => runtime()?.block_on(pks_cmd::run(args)),
        Command::Pengguna(args) => runtime()?.block_on(pengguna_cmd::run(args)),
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
        let db = db.unwrap_or(sinergi_store::DEFAULT_SQLITE_PATH);
        anyhow::anyhow!(tr!(
            "Basis data {db} tidak dapat dibuka: {e}",
            "The database {db} cannot be opened: {e}"
        ))
    })
}

/// Today's date in local time: the default reference date for ages and NIK centuries.
pub(crate) fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command and argument a user can ask `--help` about carries its English half, so
    /// `SINERGI_LANG=en` never falls back to Indonesian (and the default never shows English).
    #[test]
    fn every_command_and_argument_is_documented_in_both_languages() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            let about = cmd.get_about().map(|s| s.to_string()).unwrap_or_default();
            if path != "sinergi" && !about.contains(crate::lang::EN_MARKER) {
                missing.push(path.clone());
            }
            for a in cmd.get_arguments() {
                let help = a.get_help().map(|s| s.to_string()).unwrap_or_default();
                if !help.contains(crate::lang::EN_MARKER) {
                    missing.push(format!("{path} --{}", a.get_id()));
                }
            }
            for s in cmd.get_subcommands() {
                walk(s, &path, missing);
            }
        }
        let mut missing = Vec::new();
        let root = super::Cli::command();
        let about = root.get_about().map(|s| s.to_string()).unwrap_or_default();
        assert!(about.contains(crate::lang::EN_MARKER), "{about}");
        walk(&root, "", &mut missing);
        assert!(
            missing.is_empty(),
            "no `[en]` half in the doc comment of: {missing:#?}"
        );
    }

    #[test]
    fn the_localized_tree_passes_clap_checks_in_both_languages() {
        for lang in [crate::lang::Lang::Id, crate::lang::Lang::En] {
            crate::lang::localize(super::Cli::command(), lang).debug_assert();
        }
    }
}
