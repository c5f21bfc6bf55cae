//! `sinergi cek NIK --program P`: one person's verdict and its full explanation, from the
//! store, with no list file, server or token. The engine judges (`sinergi_engine::check`,
//! the validator of list runs); this prints.

use std::process::ExitCode;

use sinergi_engine::check::{CheckRequest, check};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// NIK orang yang diperiksa. [en] The NIK of the person to check.
    pub nik: String,
    /// Kode program: PKH, BPNT, PBI_JK, BLT_DD. [en] Programme code: PKH, BPNT, PBI_JK, BLT_DD.
    #[arg(long)]
    pub program: String,
    /// Periode, mis. 2026-11 (bawaan: periode baris di daftar tersimpan, atau bulan ini).
    /// [en] Period, e.g. 2026-11 (default: the period of the stored list's row, or this month).
    #[arg(long, alias = "periode")]
    pub period: Option<String>,
    /// Nama yang dibandingkan dengan data kependudukan (bawaan: nama di daftar tersimpan).
    /// [en] A name to compare with the population registry (default: the stored list's).
    #[arg(long, alias = "nama")]
    pub name: Option<String>,
    /// Tanggal lahir YYYY-MM-DD yang dibandingkan (bawaan: yang di daftar tersimpan).
    /// [en] A birth date YYYY-MM-DD to compare (default: the stored list's).
    #[arg(long, alias = "tanggal-lahir", value_name = "TANGGAL")]
    pub birth_date: Option<chrono::NaiveDate>,
    /// Folder aturan program (bawaan: aturan yang dikirim bersama Sinergi).
    /// [en] Folder of programme rules (default: the rules shipped with Sinergi).
    #[arg(long)]
    pub programs: Option<std::path::PathBuf>,
    /// Cetak satu objek JSON (putusan dengan kedua bahasa, data yang dibaca).
    /// [en] Print one JSON object (the verdict in both languages, the data read).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: crate::DbArgs,
}

pub async fn run(db: Option<&str>, args: Args) -> anyhow::Result<ExitCode> {
    let programs = crate::builtin::programs(args.programs.as_deref())?;
    let store = crate::open_store(db).await?;
    let req = CheckRequest {
        nik: args.nik,
        program: args.program,
        period: args.period,
        default_period: crate::wib::today().format("%Y-%m").to_string(),
        name: args.name,
        birth_date: args.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
    };
    let out = check(&store, &programs, &req).await;
    store.close().await;
    let out = out?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", out.render_text(crate::lang::lang()));
    }
    Ok(ExitCode::SUCCESS)
}
