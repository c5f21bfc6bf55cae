//! `sinergi datasets`: list datasets with versions, row counts and quality figures; show a
//! dataset's versions and history; restore a kept previous version.

use std::process::ExitCode;

use sinergi_store::{Store, StoreError, VersionState};

use crate::lang::num;
use crate::tr;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Cetak sebagai JSON. [en] Print as JSON.
    #[arg(long, global = true)]
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

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Versi suatu dataset (yang berlaku, yang disimpan dan dapat dipulihkan, yang sudah
    /// dihapus) dan riwayat pemuatannya.
    /// [en] A dataset's versions (current, kept and restorable, dropped) and its load history.
    #[command(alias = "versions")]
    Versi {
        /// Nama dataset, mis. dukcapil-kematian. [en] Dataset name, e.g. dukcapil-kematian.
        name: String,
    },
    /// Jadikan versi sebelumnya yang disimpan berlaku kembali (dicatat di riwayat dataset).
    /// [en] Make a kept previous version current again (recorded in the dataset's history).
    #[command(alias = "restore")]
    Pulihkan {
        /// Nama dataset. [en] Dataset name.
        name: String,
        /// Versi yang dipulihkan, mis. v3 (lihat `sinergi datasets versi NAMA`).
        /// [en] The version to restore, e.g. v3 (see `sinergi datasets versi NAME`).
        version: String,
        /// Siapa yang memulihkan. [en] Who restores.
        #[arg(long, value_name = "NAMA")]
        oleh: String,
        /// Alasan pemulihan. [en] Why.
        #[arg(long, value_name = "TEKS")]
        alasan: String,
    },
}

/// Builds and writes the registry snapshot for the store's current datasets.
async fn prepare(store: &Store) -> anyhow::Result<ExitCode> {
    if store.cache_dir().is_none() {
        println!(
            "{}",
            tr!(
                "Basis data PostgreSQL tidak punya folder snapshot registri; setiap validasi \
                 membangun registri dari basis data.",
                "PostgreSQL stores keep no registry snapshot; every validation builds the \
                 registries from the database."
            )
        );
        return Ok(ExitCode::SUCCESS);
    }
    let bar = crate::progress::counter(&tr!("Menyiapkan registri", "Preparing registries"));
    let loaded = sinergi_engine::Registries::load(store, &[]).await;
    bar.finish_and_clear();
    let (reg, t) = loaded.map_err(|e| anyhow::anyhow!("{e}"))?;
    if reg.provenance.is_empty() {
        println!("{}", no_datasets());
        return Ok(ExitCode::SUCCESS);
    }
    let persons = reg.index.len();
    println!(
        "{}",
        tr!(
            "Registri siap ({} penduduk) dalam {:.1} detik: {}",
            "Registries prepared ({} people) in {:.1} s: {}",
            num(persons as u64),
            t.total_s,
            t.snapshot
        )
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

fn no_datasets() -> String {
    tr!(
        "Belum ada dataset. Muat data dengan `sinergi ingest --source NAMA BERKAS`.",
        "No datasets yet. Load data with `sinergi ingest --source NAME FILE`."
    )
}

pub async fn run(db: Option<&str>, args: Args) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(db).await?;
    let code = match args.action {
        Some(Action::Versi { name }) => versions(&store, &name, args.json).await,
        Some(Action::Pulihkan {
            name,
            version,
            oleh,
            alasan,
        }) => restore(&store, &name, &version, &oleh, &alasan).await,
        None if args.siapkan => prepare(&store).await,
        None => list(&store, args.json).await,
    };
    store.close().await;
    code
}

async fn list(store: &Store, json: bool) -> anyhow::Result<ExitCode> {
    let datasets = store.datasets().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&datasets)?);
        return Ok(ExitCode::SUCCESS);
    }
    if datasets.is_empty() {
        println!("{}", no_datasets());
        return Ok(ExitCode::SUCCESS);
    }
    let h = |id: &'static str, en: &'static str| crate::lang::lang().pick(id, en);
    println!(
        "{:<28} {:<22} {:<18} {:>8} {:>11} {:>9} {:>9} {:>8}  {}",
        "dataset",
        h("instansi", "agency"),
        h("tabel", "table"),
        h("versi", "version"),
        h("baris", "rows"),
        h("ditolak", "rejected"),
        h("peringat", "warned"),
        h("NIK sah", "NIK ok"),
        h("dimuat", "loaded")
    );
    for d in &datasets {
        let Some(s) = &d.current else {
            println!(
                "{:<28} {:<22} {}",
                d.meta.name,
                short(&d.meta.owner_agency, 22),
                h("(belum ada versi)", "(no version yet)")
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
            num(s.row_count),
            num(s.rows_rejected),
            num(s.rows_warned),
            nik_valid,
            crate::wib::from_rfc3339(&s.loaded_at)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A store error a person can act on, in the current language; other errors as they are.
fn store_error(e: StoreError) -> anyhow::Error {
    match &e {
        StoreError::NoSuchDataset { dataset, known } => anyhow::anyhow!(tr!(
            "Dataset {dataset} tidak ada. Dataset yang ada: {}.",
            "There is no dataset {dataset}. Datasets: {}.",
            known.join(", ")
        )),
        StoreError::NoSuchVersion {
            dataset,
            version,
            known,
        } => anyhow::anyhow!(tr!(
            "Dataset {dataset} tidak punya versi {version}. Versinya: {}. Lihat `sinergi \
             datasets versi {dataset}`.",
            "Dataset {dataset} has no version {version}. Its versions: {}. See `sinergi \
             datasets versi {dataset}`.",
            known.join(", ")
        )),
        StoreError::NotRestorable {
            dataset,
            version,
            state,
        } => anyhow::anyhow!(match state {
            VersionState::Current => tr!(
                "Versi {version} dari {dataset} sudah berlaku; tidak ada yang dipulihkan.",
                "Version {version} of {dataset} is already current; nothing to restore."
            ),
            VersionState::Dropped => tr!(
                "Versi {version} dari {dataset} sudah dihapus (hanya beberapa versi terakhir \
                 yang disimpan, lihat --simpan-versi); muat ulang berkasnya.",
                "Version {version} of {dataset} was dropped (only the last few versions are \
                 kept, see --simpan-versi); load its file again."
            ),
            VersionState::ChangedByDelta { by } => tr!(
                "Versi {version} dari {dataset} telah diubah oleh pembaruan (delta) {by}; \
                 pulihkan {by} sebagai gantinya.",
                "Version {version} of {dataset} was changed by the delta {by}; restore {by} \
                 instead."
            ),
            VersionState::Kept => e.to_string(),
        }),
        _ => e.into(),
    }
}

fn state_text(s: &VersionState) -> String {
    match s {
        VersionState::Current => tr!("BERLAKU", "CURRENT"),
        VersionState::Kept => tr!("disimpan, dapat dipulihkan", "kept, restorable"),
        VersionState::Dropped => tr!("dihapus", "dropped"),
        VersionState::ChangedByDelta { by } => {
            tr!("diubah oleh delta {by}", "changed by the delta {by}")
        }
    }
}

async fn versions(store: &Store, name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let versions = store.versions(name).await.map_err(store_error)?;
    let events = store.events(name).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "versions": versions,
                "events": events,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let h = |id: &'static str, en: &'static str| crate::lang::lang().pick(id, en);
    println!(
        "{:<8} {:<9} {:>11} {:>9}  {:<20}  {}",
        h("versi", "version"),
        "mode",
        h("baris", "rows"),
        h("ditolak", "rejected"),
        h("dimuat", "loaded"),
        h("keadaan", "state")
    );
    for v in &versions {
        println!(
            "{:<8} {:<9} {:>11} {:>9}  {:<20}  {}",
            v.info.version_label,
            if v.info.mode == sinergi_store::LoadMode::Delta {
                "delta"
            } else {
                "snapshot"
            },
            num(v.info.row_count),
            num(v.info.rows_rejected),
            crate::wib::from_rfc3339(&v.info.loaded_at),
            state_text(&v.state)
        );
    }
    if !events.is_empty() {
        println!("\n{}:", h("Riwayat", "History"));
        for e in &events {
            let what = match e.action.as_str() {
                "refused" => h("DITOLAK", "REFUSED"),
                "restore" => h("dipulihkan", "restored"),
                "delta" => h("dimuat (delta)", "loaded (delta)"),
                _ => h("dimuat", "loaded"),
            };
            let codes: Vec<String> = ["refused", "confirmed_despite"]
                .iter()
                .filter_map(|k| e.detail.get(*k))
                .filter_map(|v| v.as_array())
                .flatten()
                .filter_map(|g| {
                    serde_json::from_value::<sinergi_store::GuardReason>(g.clone()).ok()
                })
                .map(|g| g.code().to_string())
                .collect();
            let mut line = format!("  {}  {what}", crate::wib::from_rfc3339(&e.at));
            if let Some(to) = e.detail.get("to_version").and_then(|v| v.as_str()) {
                line.push_str(&format!(" → {to}"));
            }
            if !codes.is_empty() {
                line.push_str(&format!(" [{}]", codes.join(", ")));
            }
            if !e.actor.is_empty() {
                line.push_str(&tr!(" oleh {}", " by {}", e.actor));
            }
            if let Some(r) = e.detail.get("reason").and_then(|v| v.as_str()) {
                line.push_str(&format!(": {r}"));
            }
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn restore(
    store: &Store,
    name: &str,
    version: &str,
    by: &str,
    reason: &str,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !by.trim().is_empty() && !reason.trim().is_empty(),
        tr!(
            "--oleh dan --alasan wajib diisi: pemulihan dicatat di riwayat dataset.",
            "--oleh and --alasan are required: a restore is recorded in the dataset's history."
        )
    );
    let info = store
        .restore(name, version, by.trim(), reason.trim())
        .await
        .map_err(store_error)?;
    println!(
        "{}",
        tr!(
            "Versi {} dari {} berlaku kembali ({} baris, dimuat {}). Dicatat atas nama {}.",
            "Version {} of {} is current again ({} rows, loaded {}). Recorded for {}.",
            info.version_label,
            info.dataset,
            num(info.row_count),
            crate::wib::from_rfc3339(&info.loaded_at),
            by.trim()
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// Cuts a long agency name for the table at a character boundary (the full name is in
/// `--json`).
fn short(s: &str, max: usize) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(max.saturating_sub(1)).collect();
    if chars.next().is_some() && s.chars().count() > max {
        format!("{head}…")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_cuts_at_a_character_never_inside_one() {
        assert_eq!(super::short("Dukcapil", 22), "Dukcapil");
        let long = "Dinas Sosial Kabupaten Bandung Barat";
        assert_eq!(super::short(long, 22).chars().count(), 22);
        // A multi-byte character right at the cut (the panic of issue 15).
        let name = "Dinas Kependudukan dan Pencatatan Sipil — Kota Bogor";
        for max in 1..name.chars().count() + 2 {
            let s = super::short(name, max);
            assert!(s.chars().count() <= max.max(1), "{max}: {s}");
        }
        assert_eq!(super::short("ÉÉÉÉ", 4), "ÉÉÉÉ");
        assert_eq!(super::short("ÉÉÉÉÉ", 4), "ÉÉÉ…");
    }
}
