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
use sinergi_store::{
    DatasetMeta, GuardReason, InputFile, LoadMode, LoadPolicy, LoadRefusal, LoadStats,
    SnapshotInfo, Store,
};

/// Where rejects and warnings go. A file is created only when its first problem is written,
/// so a load that fails before any row (a missing column, an unreadable file) leaves every
/// earlier report as it was.
pub struct ProblemFiles {
    pub rejects: PathBuf,
    pub warnings: PathBuf,
}

impl ProblemFiles {
    /// Files of this run only, in `dir`: `<dataset>-ditolak-<WIB stamp>.csv` and
    /// `<dataset>-peringatan-<WIB stamp>.csv`, so no run overwrites another's report.
    pub fn per_run(dir: &Path, dataset: &str) -> ProblemFiles {
        let stamp = crate::wib::file_stamp();
        let free = |kind: &str| {
            let mut n = 1;
            loop {
                let suffix = if n == 1 {
                    String::new()
                } else {
                    format!("-{n}")
                };
                let p = dir.join(format!("{dataset}-{kind}-{stamp}{suffix}.csv"));
                if !p.exists() {
                    return p;
                }
                n += 1;
            }
        };
        ProblemFiles {
            rejects: free("ditolak"),
            warnings: free("peringatan"),
        }
    }
}

/// A problem file opened at its first problem.
struct LazyProblems {
    path: PathBuf,
    what: &'static str,
    writer: Option<ProblemWriter>,
}

impl LazyProblems {
    fn new(path: PathBuf, what: &'static str) -> LazyProblems {
        LazyProblems {
            path,
            what,
            writer: None,
        }
    }

    fn write(&mut self, p: &sinergi_ingest::Problem) -> anyhow::Result<()> {
        if self.writer.is_none() {
            let w = ProblemWriter::create(&self.path).with_context(|| {
                crate::tr!(
                    "Berkas {} {} tidak dapat ditulis",
                    "The {} file {} cannot be written",
                    self.what,
                    self.path.display()
                )
            })?;
            self.writer = Some(w);
        }
        self.writer.as_mut().expect("opened above").write(p)?;
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        if let Some(w) = self.writer {
            w.finish()?;
        }
        Ok(())
    }
}

/// How to load.
pub struct LoadOptions<'a> {
    /// Snapshot or delta.
    pub mode: LoadMode,
    /// Where rejects and warnings go.
    pub problems: &'a ProblemFiles,
    /// The load guard and who loads.
    pub policy: LoadPolicy,
    /// The date the data describes (see [`reference_date`]).
    pub reference_date: Option<String>,
    /// Most warnings written to the warnings file (the rest are counted in the report and in
    /// a last line of the file).
    pub max_warnings: u64,
}

/// The default cap on a warnings file: 100,000 rows (about 20 MB), enough to see every kind
/// of problem; the report counts them all.
pub const DEFAULT_MAX_WARNINGS: u64 = 100_000;

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

/// SHA-256 and byte count of each input file, to skip loading what is already the current
/// snapshot. The reader is given these digests and does not hash the files again.
pub fn hash_files(paths: &[PathBuf]) -> anyhow::Result<Vec<(InputFile, u64)>> {
    use sha2::{Digest, Sha256};
    paths
        .iter()
        .map(|p| {
            let mut f = std::fs::File::open(p).with_context(|| {
                crate::tr!(
                    "Berkas {} tidak dapat dibuka",
                    "The file {} cannot be opened",
                    p.display()
                )
            })?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut bytes = 0u64;
            loop {
                let n = std::io::Read::read(&mut f, &mut buf).with_context(|| {
                    crate::tr!(
                        "Berkas {} tidak dapat dibaca",
                        "The file {} cannot be read",
                        p.display()
                    )
                })?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
                bytes += n as u64;
            }
            Ok((
                InputFile {
                    name: p.display().to_string(),
                    sha256: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
                },
                bytes,
            ))
        })
        .collect()
}

/// Loads `paths` through `mapping` into the store under `policy` (the load guard).
/// `on_progress(bytes_done, bytes_total)`. A refused load fails with
/// [`sinergi_store::StoreError::LoadRefused`] (see [`refusal_message`]) after its rejects were
/// written.
pub async fn load_files(
    store: &Store,
    mapping: &Mapping,
    paths: &[PathBuf],
    how: LoadOptions<'_>,
    on_progress: impl Fn(u64, u64) + Send + 'static,
) -> anyhow::Result<LoadOutcome> {
    let LoadOptions {
        mode,
        problems,
        policy,
        reference_date,
        max_warnings,
    } = how;
    let (input_files, hashed_bytes): (Vec<InputFile>, Vec<u64>) =
        hash_files(paths)?.into_iter().unzip();
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
    loader.set_policy(policy);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<sinergi_ingest::Record>>(4);
    let reader = {
        let file_sha256: Vec<String> = input_files.iter().map(|f| f.sha256.clone()).collect();
        let mapping = mapping.clone();
        let paths = paths.to_vec();
        let rejects_path = problems.rejects.clone();
        let warnings_path = problems.warnings.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<IngestReport> {
            let mut rejects = LazyProblems::new(rejects_path, "penolakan");
            let mut warnings = LazyProblems::new(warnings_path, "peringatan");
            let mut done_before = 0u64;
            let mut current_file_bytes = 0u64;
            let report = sinergi_ingest::read(
                &mapping,
                &paths,
                &ReadOptions {
                    lang: crate::lang::lang(),
                    max_warnings,
                    // Hashed above: the digest in the report is the one the store records.
                    file_sha256,
                    ..ReadOptions::default()
                },
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
            if report.warnings_not_written > 0 {
                // The file says itself that it is cut, in a row of its own format.
                let by_code: Vec<String> = report
                    .warnings_not_written_codes
                    .iter()
                    .map(|(c, n)| format!("{c} {n}"))
                    .collect();
                warnings.write(&sinergi_ingest::Problem {
                    file: String::new(),
                    row: 0,
                    line: None,
                    field: String::new(),
                    raw_value: String::new(),
                    code: "WARNINGS_NOT_WRITTEN",
                    message: crate::tr!(
                        "{} peringatan lain tidak ditulis (batas {} baris; --batas-peringatan): {}",
                        "{} more warnings were not written (cap {} rows; --batas-peringatan): {}",
                        report.warnings_not_written,
                        max_warnings,
                        by_code.join(", ")
                    ),
                })?;
            }
            rejects.finish()?;
            warnings.finish()?;
            Ok(report)
        })
    };
    while let Some(records) = rx.recv().await {
        loader.insert(&records).await?;
    }
    let report = reader.await.context(crate::tr!(
        "pembaca berkas berhenti tiba-tiba",
        "the file reader stopped unexpectedly"
    ))??;
    // The digests were taken before reading: a file that changed in between is not loaded
    // under a digest that is not its own.
    for (f, (input, hashed)) in report
        .files
        .iter()
        .zip(input_files.iter().zip(&hashed_bytes))
    {
        if f.bytes != *hashed {
            anyhow::bail!(crate::tr!(
                "Berkas {} berubah selama dimuat ({} bita saat di-hash, {} bita saat dibaca); tidak ada yang dimuat. Muat ulang setelah berkas selesai ditulis.",
                "The file {} changed while it was being loaded ({} bytes when hashed, {} bytes when read); nothing was loaded. Load it again once the file is completely written.",
                input.name,
                hashed,
                f.bytes
            ));
        }
    }
    let stats = LoadStats {
        read: report.rows_read,
        loaded: report.loaded,
        rejected: report.rejected,
        warned: report.warned,
        quality: serde_json::to_value(&report)?,
        input_files,
        version_label: None,
        reference_date,
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
    resolve_mapping_with(source, file, &[])
}

/// [`resolve_mapping`] with values known for every row (`validate --period`): see
/// `Mapping::from_str_with_defaults`.
pub fn resolve_mapping_with(
    source: &str,
    file: Option<&Path>,
    defaults: &[(&str, &str)],
) -> anyhow::Result<Mapping> {
    let mapping = match file {
        Some(path) => {
            Mapping::from_file_with_defaults(path, defaults).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        None => {
            let Some((origin, text)) = crate::builtin::mapping(source) else {
                anyhow::bail!(crate::tr!(
                    "Sumber `{source}` tidak dikenal. Sumber bawaan: {}. Untuk format lain, berikan berkas pemetaan dengan --mapping FILE (lihat docs/MAPPINGS.md).",
                    "Unknown source `{source}`. Shipped sources: {}. For another format, give a mapping file with --mapping FILE (see docs/MAPPINGS.md).",
                    crate::builtin::mapping_names().join(", ")
                ));
            };
            Mapping::from_str_with_defaults(text, &origin, defaults)
                .map_err(|e| anyhow::anyhow!("{e}"))?
        }
    };
    Ok(mapping)
}

/// What an officer reads when the guard refused a load: what stays current, every reason with
/// its figures, where the rejected rows are, and how to go ahead if the change is right.
pub fn refusal_message(r: &LoadRefusal, rejects: &Path) -> String {
    use crate::tr;
    let n = crate::lang::num;
    let pct = crate::lang::pct;
    let mut out = match &r.current_version {
        Some(v) => tr!(
            "Pemuatan {} DITOLAK: tidak ada yang berubah, versi {v} tetap berlaku.",
            "Loading {} was REFUSED: nothing changed, version {v} stays current.",
            r.dataset
        ),
        None => tr!(
            "Pemuatan {} DITOLAK: tidak ada yang dimuat.",
            "Loading {} was REFUSED: nothing was loaded.",
            r.dataset
        ),
    };
    for g in &r.reasons {
        let line = match g {
            GuardReason::Empty { read, rejected } => tr!(
                "tidak ada baris yang dapat dimuat ({} dibaca, {} ditolak); berkas kosong atau \
                 semua barisnya ditolak",
                "no row could be loaded ({} read, {} rejected); the file is empty or every row \
                 was rejected",
                n(*read),
                n(*rejected)
            ),
            GuardReason::Shrink {
                from,
                to,
                max_shrink,
            } => tr!(
                "jumlah baris turun dari {} menjadi {} ({} lebih sedikit; batas {})",
                "the row count falls from {} to {} ({} fewer; the limit is {})",
                n(*from),
                n(*to),
                pct(1.0 - *to as f64 / *from as f64),
                pct(*max_shrink)
            ),
            GuardReason::Rejected {
                rejected,
                read,
                max_rejected,
            } => tr!(
                "{} dari {} baris ditolak ({}; batas {})",
                "{} of {} rows were rejected ({}; the limit is {})",
                n(*rejected),
                n(*read),
                pct(*rejected as f64 / (*read).max(1) as f64),
                pct(*max_rejected)
            ),
        };
        out.push_str(&format!("\n  - {line} [{}]", g.code()));
    }
    if rejects.exists() {
        out.push_str(&tr!(
            "\nBaris yang ditolak dan alasannya: {}",
            "\nRejected rows and their reasons: {}",
            rejects.display()
        ));
    }
    out.push_str(&tr!(
        "\nPeriksa berkasnya (format tanggal, pemisah kolom, berkas yang terpotong). Bila \
         perubahan ini memang benar, ulangi dengan --izinkan-susut.",
        "\nCheck the file (date format, delimiter, a truncated file). If the change is right, \
         run again with --izinkan-susut (--allow-shrink)."
    ));
    out
}

/// The name of the person running `sinergi` as the system knows it (for the event log when no
/// `--oleh` is given); empty when unknown.
pub fn system_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_default()
}

/// Where a load's reference date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrigin {
    /// `--per`.
    Flag,
    /// The mapping's `[metadata] reference_date`.
    Mapping,
    /// A date in the file name (`penduduk-2026-11-01.csv`, `dtsen_20261101.csv`).
    FileName,
}

/// The date the data describes: `--per`, else the mapping's `reference_date`, else a date in
/// the file names (the latest when they differ). `None` when nobody says: verdicts then name
/// the load date as a load date, never as the data's date.
pub fn reference_date(
    per: Option<chrono::NaiveDate>,
    mapping: &Mapping,
    paths: &[PathBuf],
) -> anyhow::Result<Option<(String, DateOrigin)>> {
    if let Some(d) = per {
        return Ok(Some((d.to_string(), DateOrigin::Flag)));
    }
    if let Some(d) = &mapping.metadata.reference_date {
        let parsed = chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
            anyhow::anyhow!(crate::tr!(
                "{}: reference_date = {d:?} bukan tanggal YYYY-MM-DD",
                "{}: reference_date = {d:?} is not a YYYY-MM-DD date",
                mapping.origin
            ))
        })?;
        return Ok(Some((parsed.to_string(), DateOrigin::Mapping)));
    }
    Ok(paths
        .iter()
        .filter_map(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(date_in_name)
        })
        .max()
        .map(|d| (d.to_string(), DateOrigin::FileName)))
}

/// A calendar date written in a file name: `2026-11-01`, `2026_11_01` or `20261101`, between
/// 1990 and 2100.
pub fn date_in_name(name: &str) -> Option<chrono::NaiveDate> {
    let b = name.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let make = |y: &[u8], m: &[u8], d: &[u8]| -> Option<chrono::NaiveDate> {
        let n = |x: &[u8]| std::str::from_utf8(x).ok()?.parse::<u32>().ok();
        let y = n(y)? as i32;
        (1990..=2100).contains(&y).then_some(())?;
        chrono::NaiveDate::from_ymd_opt(y, n(m)?, n(d)?)
    };
    // Digits must not continue on either side (a NIK is not a date).
    let bounded = |i: usize, len: usize| {
        (i == 0 || !b[i - 1].is_ascii_digit()) && b.get(i + len).is_none_or(|c| !c.is_ascii_digit())
    };
    for i in 0..b.len() {
        if i + 10 <= b.len()
            && bounded(i, 10)
            && matches!(b[i + 4], b'-' | b'_')
            && b[i + 7] == b[i + 4]
            && digits(&b[i..i + 4])
            && digits(&b[i + 5..i + 7])
            && digits(&b[i + 8..i + 10])
            && let Some(d) = make(&b[i..i + 4], &b[i + 5..i + 7], &b[i + 8..i + 10])
        {
            return Some(d);
        }
        if i + 8 <= b.len()
            && bounded(i, 8)
            && digits(&b[i..i + 8])
            && let Some(d) = make(&b[i..i + 4], &b[i + 4..i + 6], &b[i + 6..i + 8])
        {
            return Some(d);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::date_in_name;

    #[test]
    fn dates_in_file_names_are_found_and_numbers_are_not_dates() {
        let d = |s: &str| date_in_name(s).map(|d| d.to_string());
        assert_eq!(d("penduduk-2026-11-01"), Some("2026-11-01".into()));
        assert_eq!(d("dtsen_20261101"), Some("2026-11-01".into()));
        assert_eq!(d("KEMATIAN_2026_10_31_final"), Some("2026-10-31".into()));
        assert_eq!(d("penduduk"), None);
        assert_eq!(d("roster-3201014508900001"), None, "a NIK is not a date");
        assert_eq!(d("data-20261341"), None, "month 13");
        assert_eq!(
            d("v2-1985-01-01"),
            None,
            "before 1990 is a birth date, not an extract"
        );
    }
}
