//! `sinergi`: the one binary. Glue code: it parses the command line, calls the library
//! crates and prints results. No domain logic lives here.

use clap::{Parser, Subcommand};

mod nik_cmd;
mod progress;
mod synth_cmd;
mod wilayah_cmd;

/// Sinergi: pertukaran data antarinstansi dan validasi penerima bantuan sosial.
#[derive(Debug, Parser)]
#[command(name = "sinergi", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Periksa NIK dan cetak satu objek JSON per masukan (check NIKs).
    Nik(nik_cmd::Args),
    /// Buat data sintetis Indonesia dalam format asli tiap instansi (synthetic data).
    Synth(synth_cmd::Args),
    /// Cari wilayah Kemendagri menurut kode atau nama (look a region up by code or name).
    Wilayah(wilayah_cmd::Args),
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Nik(args) => nik_cmd::run(args),
        Command::Synth(args) => synth_cmd::run(args),
        Command::Wilayah(args) => wilayah_cmd::run(args),
    }
}

/// Today's date in local time: the default reference date for ages and NIK centuries.
pub(crate) fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}
