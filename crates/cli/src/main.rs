//! `sinergi`: the one binary. Glue code: it parses the command line, calls the library
//! crates and prints results. No domain logic lives here.

use clap::{Parser, Subcommand};

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
    /// Cari wilayah Kemendagri menurut kode atau nama (look a region up by code or name).
    Wilayah(wilayah_cmd::Args),
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Wilayah(args) => wilayah_cmd::run(args),
    }
}
