//! Glue between ingestion (synchronous, streaming, knows no storage) and the store
//! (asynchronous): one function that loads files into a dataset snapshot.
//!
//! The reader runs on a blocking thread and hands batches over a bounded channel, so memory
//! stays flat whatever the file size; rejects and warnings are written to their files as they
//! come. If anything fails before the commit, the loader is dropped and the store keeps the
//! previous snapshot.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sinergi_ingest::{IngestReport, Mapping, ProblemWriter, ProgressEvent, ReadOptions};
use sinergi_store::{DatasetMeta, InputFile, LoadMode, LoadStats, SnapshotInfo, Store};

/// Where rejects and warnings go.
pub struct ProblemFiles {
    pub rejects: PathBuf,
    pub warnings: PathBuf,
}

/// What a load did.
pub struct LoadOutcome {
    pub report: Option<IngestReport>,
    pub snapshot: SnapshotInfo,
}

/// Dataset metadata from a mapping.
pub fn dataset_meta(mapping: &Mapping) -> DatasetMeta {
    DatasetMeta {
        name: mapping.source.clone(),
        table: mapping.table,
        owner_agency: mapping.agency.clone(),
        description: mapping.description.clone(),
        reference_codes: mapping.metadata.reference_codes.clone(),
        update_cadence: mapping.metadata.update_cadence.clone(),
    }
}

/// SHA-256 of each input file, to skip loading what is already the current snapshot.
pub fn hash_files(paths: &[PathBuf]) -> anyhow::Result<Vec<InputFile>> {
    use sha2::{Digest, Sha256};
    paths
        .iter()
        .map(|p| {
            let mut f = std::fs::File::open(p)
                .with_context(|| format!("Berkas {} tidak dapat dibuka", p.display()))?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = std::io::Read::read(&mut f, &mut buf)
                    .with_context(|| format!("Berkas {} tidak dapat dibaca", p.display()))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            Ok(InputFile {
                name: p.display().to_string(),
                sha256: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            })
        })
        .collect()
}

/// Loads `paths` through `mapping` into the store. `on_progress(bytes_done, bytes_total)`.
pub async fn load_files(
    store: &Store,
    mapping: &Mapping,
    paths: &[PathBuf],
    mode: LoadMode,
    problems: &ProblemFiles,
    on_progress: impl Fn(u64, u64) + Send + 'static,
) -> anyhow::Result<LoadOutcome> {
    let input_files = hash_files(paths)?;
    if mode == LoadMode::Snapshot
        && let Some(current) = store.already_loaded(&mapping.source, &input_files).await?
    {
        return Ok(LoadOutcome {
            report: None,
            snapshot: SnapshotInfo {
                skipped: true,
                ..current
            },
        });
    }
    let total_bytes: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();

    let mut loader = store.begin_load(&dataset_meta(mapping), mode).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<sinergi_ingest::Record>>(4);
    let reader = {
        let mapping = mapping.clone();
        let paths = paths.to_vec();
        let rejects_path = problems.rejects.clone();
        let warnings_path = problems.warnings.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<IngestReport> {
            let mut rejects = ProblemWriter::create(&rejects_path).with_context(|| {
                format!(
                    "Berkas penolakan {} tidak dapat ditulis",
                    rejects_path.display()
                )
            })?;
            let mut warnings = ProblemWriter::create(&warnings_path).with_context(|| {
                format!(
                    "Berkas peringatan {} tidak dapat ditulis",
                    warnings_path.display()
                )
            })?;
            let mut done_before = 0u64;
            let mut current_file_bytes = 0u64;
            let report = sinergi_ingest::read(
                &mapping,
                &paths,
                &ReadOptions::default(),
                &mut |batch| {
                    for r in &batch.rejects {
                        rejects.write(r)?;
                    }
                    for w in &batch.warnings {
                        warnings.write(w)?;
                    }
                    tx.blocking_send(batch.records)
                        .map_err(|_| "store writer stopped")?;
                    Ok(())
                },
                &mut |event| match event {
                    ProgressEvent::FileStarted { bytes, .. } => {
                        done_before += current_file_bytes;
                        current_file_bytes = bytes;
                        on_progress(done_before, total_bytes);
                    }
                    ProgressEvent::Rows { bytes_read, .. } => {
                        on_progress(done_before + bytes_read, total_bytes)
                    }
                    ProgressEvent::FileFinished { .. } => {}
                },
            )?;
            rejects.finish()?;
            warnings.finish()?;
            Ok(report)
        })
    };
    while let Some(records) = rx.recv().await {
        loader.insert(&records).await?;
    }
    let report = reader
        .await
        .context("pembaca berkas berhenti tiba-tiba")??;
    let stats = LoadStats {
        read: report.rows_read,
        loaded: report.loaded,
        rejected: report.rejected,
        warned: report.warned,
        quality: serde_json::to_value(&report)?,
        input_files,
        version_label: None,
    };
    let snapshot = loader.commit(stats).await?;
    Ok(LoadOutcome {
        report: Some(report),
        snapshot,
    })
}

/// The dataset a load goes into: `--dataset` when given; for rosters `roster-<file stem>`
/// (one dataset per programme list); otherwise the mapping's source name.
pub fn dataset_name(mapping: &Mapping, explicit: Option<&str>, paths: &[PathBuf]) -> String {
    if let Some(name) = explicit {
        return name.to_string();
    }
    if mapping.table == sinergi_ingest::Table::RosterEntry
        && let Some(stem) = paths
            .first()
            .and_then(|p| p.file_stem())
            .and_then(|s| s.to_str())
    {
        return format!("{}-{stem}", mapping.source);
    }
    mapping.source.clone()
}

/// Resolves `--mapping FILE` or the shipped mapping of `--source NAME`.
pub fn resolve_mapping(source: &str, file: Option<&Path>) -> anyhow::Result<Mapping> {
    let mapping = match file {
        Some(path) => Mapping::from_file(path).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => {
            let Some((origin, text)) = crate::builtin::mapping(source) else {
                anyhow::bail!(
                    "Sumber `{source}` tidak dikenal. Sumber bawaan: {}. Untuk format lain, berikan berkas pemetaan dengan --mapping FILE (lihat docs/MAPPINGS.md).",
                    crate::builtin::mapping_names().join(", ")
                );
            };
            Mapping::from_str(text, &origin).map_err(|e| anyhow::anyhow!("{e}"))?
        }
    };
    Ok(mapping)
}
