//! `sinergi templat roster --out FILE`: write the blank recipient-list template, built by the
//! engine from the shipped roster mapping, so a list filled in it loads with no mapping to
//! write.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// Daftar penerima bantuan (roster). [en] Aid recipient list (roster).
    Roster,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Jenis templat: roster (daftar penerima). [en] Template kind: roster (recipient list).
    #[arg(value_enum, default_value = "roster")]
    pub kind: Kind,
    /// Berkas XLSX yang ditulis (bawaan: templat-daftar-penerima.xlsx).
    /// [en] The XLSX file to write (default: templat-daftar-penerima.xlsx).
    #[arg(long, value_name = "BERKAS")]
    pub out: Option<PathBuf>,
    /// Timpa berkas yang sudah ada. [en] Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Kind::Roster = args.kind;
    let mapping = crate::load::resolve_mapping("roster", None)?;
    let programs: Vec<&str> = crate::builtin::PROGRAMS.iter().map(|(c, _)| *c).collect();
    let bytes = sinergi_engine::template::roster_template(&mapping, &programs, crate::lang::lang())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("templat-daftar-penerima.xlsx"));
    if out.exists() && !args.force {
        anyhow::bail!(crate::tr!(
            "{} sudah ada; pilih nama lain dengan --out atau timpa dengan --force.",
            "{} already exists; choose another name with --out or overwrite with --force.",
            out.display()
        ));
    }
    std::fs::write(&out, bytes).map_err(|e| {
        anyhow::anyhow!(crate::tr!(
            "{} tidak dapat ditulis: {e}",
            "{} cannot be written: {e}",
            out.display()
        ))
    })?;
    println!(
        "{}",
        crate::tr!(
            "Templat ditulis: {}. Isi lembar \"{}\", lalu: sinergi validate --program PKH --list {}",
            "Template written: {}. Fill the \"{}\" sheet, then: sinergi validate --program PKH --list {}",
            out.display(),
            sinergi_engine::template::DATA_SHEET,
            out.display()
        )
    );
    Ok(ExitCode::SUCCESS)
}
