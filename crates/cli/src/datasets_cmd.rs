//! `sinergi datasets`: list datasets with versions, row counts and quality figures.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Cetak sebagai JSON. [en] Print as JSON.
    #[arg(long)]
    pub json: bool,
    /// Siapkan registri untuk validasi sekarang: bangun dan simpan snapshot registri, agar
    /// validasi berikutnya langsung mulai darinya.
    /// [en] Prepare the registries for validation now: build and keep the registry snapshot,
    /// so the next validation starts from it.
    #[arg(long, alias = "prepare")]
    pub siapkan: bool,
    #[command(flatten)]
    pub db: crate::DbArgs,
}

/// Builds and writes the registry snapshot for the store's current datasets.
async fn prepare(store: &sinergi_store::Store) -> anyhow::Result<ExitCode> {
    if store.cache_dir().is_none() {
        println!(
            "Basis data PostgreSQL tidak punya folder snapshot registri; setiap validasi \
             membangun registri dari basis data (PostgreSQL stores keep no registry snapshot)."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let bar = crate::progress::bar(0, "Menyiapkan registri");
    let loaded = sinergi_engine::Registries::load(store, &[]).await;
    bar.finish_and_clear();
    let (reg, t) = loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
    if reg.provenance.is_empty() {
        println!(
            "Belum ada dataset registri. Muat data dengan `sinergi ingest --source NAMA BERKAS`."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let persons = reg.index.len();
    println!(
        "Registri siap ({persons} penduduk) dalam {:.1} detik: {} (registries prepared)",
        t.total_s, t.snapshot
    );
    Ok(
        // A damaged snapshot reads "unusable, rebuilt: ...; written FILE": what counts is
        // the last step.
        if t.snapshot
            .rsplit("; ")
            .next()
            .is_some_and(|s| s.starts_with("written ") || s.starts_with("read "))
        {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

pub async fn run(db: Option<&str>, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(db).await?;
    if args.siapkan {
        let code = prepare(&store).await;
        store.close().await;
        return code;
    }
    let datasets = store.datasets().await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&datasets)?);
        return Ok(ExitCode::SUCCESS);
    }
    if datasets.is_empty() {
        println!("Belum ada dataset. Muat data dengan `sinergi ingest --source NAMA BERKAS`.");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<28} {:<22} {:<18} {:>8} {:>11} {:>9} {:>9} {:>8}  dimuat",
        "dataset", "instansi", "tabel", "versi", "baris", "ditolak", "peringat", "NIK sah"
    );
    for d in &datasets {
        let Some(s) = &d.current else {
            println!(
                "{:<28} {:<22} (belum ada versi)",
                d.meta.name, d.meta.owner_agency
            );
            continue;
        };
        let nik_valid = s
            .quality
            .get("nik_validity")
            .and_then(|v| v.get("rate"))
            .and_then(|v| v.as_f64())
            .map(|r| format!("{:.2}%", r * 100.0))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<28} {:<22} {:<18} {:>8} {:>11} {:>9} {:>9} {:>8}  {}",
            d.meta.name,
            short(&d.meta.owner_agency, 22),
            d.meta.table.name(),
            s.version_label,
            s.row_count,
            s.rows_rejected,
            s.rows_warned,
            nik_valid,
            s.loaded_at
        );
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Cuts a long agency name for the table (the full name is in `--json`).
fn short(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i - 1]),
        None => s.to_string(),
    }
}
