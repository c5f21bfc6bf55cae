//! `sinergi link`: generic linkage of two lists (or deduplication of one) that have no NIK,
//! over the fields a TOML configuration names. The scoring is
//! `sinergi_linkage::generic::GenericLinker`; this module reads the files and the
//! configuration, and writes the scored pairs as CSV. See `docs/LINK.md`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use sinergi_ingest::IngestError;
use sinergi_ingest::plain::{PlainOptions, PlainSummary, PlainTable};
use sinergi_linkage::generic::{
    ConfigError, GenericConfig, GenericLinker, GenericRecord, GenericStats, ScoredPair,
};

use crate::progress;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("masukan").required(true).args(["left", "dedup"])))]
pub struct Args {
    /// Daftar kiri (CSV atau XLSX); pasangannya dicari di --right.
    /// [en] Left list (CSV or XLSX); its matches are looked for in --right.
    #[arg(long, requires = "right", value_name = "BERKAS")]
    pub left: Option<PathBuf>,
    /// Daftar kanan (CSV atau XLSX). [en] Right list (CSV or XLSX).
    #[arg(long, requires = "left", value_name = "BERKAS")]
    pub right: Option<PathBuf>,
    /// Cari duplikat di dalam satu daftar ini (pengganti --left/--right).
    /// [en] Look for duplicates within this one list (instead of --left/--right).
    #[arg(long, conflicts_with_all = ["left", "right"], value_name = "BERKAS")]
    pub dedup: Option<PathBuf>,
    /// Konfigurasi TOML: kolom yang dibandingkan, blocking dan ambang (lihat docs/LINK.md,
    /// contoh: config/link/example.toml).
    /// [en] TOML configuration: compared columns, blocking and thresholds (see docs/LINK.md,
    /// example: config/link/example.toml).
    #[arg(long, value_name = "BERKAS")]
    pub config: PathBuf,
    /// Tulis pasangan (CSV) ke berkas ini (bawaan: keluaran standar).
    /// [en] Write the pairs (CSV) to this file (default: standard output).
    #[arg(long, value_name = "BERKAS")]
    pub out: Option<PathBuf>,
    /// Bobot minimum untuk "cocok" (menimpa match_threshold di konfigurasi).
    /// [en] Minimum weight for "match" (overrides match_threshold in the configuration).
    #[arg(long, value_name = "BOBOT")]
    pub threshold: Option<f64>,
    /// Lembar kerja XLSX yang dibaca (bawaan: lembar pertama).
    /// [en] XLSX worksheet to read (default: the first sheet).
    #[arg(long, value_name = "NAMA")]
    pub sheet: Option<String>,
}

/// One list read into records, with the spreadsheet row of each.
struct Side {
    file: String,
    records: Vec<GenericRecord>,
    rows: Vec<u64>,
    summary: PlainSummary,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.config, args.threshold)?;
    let linker = GenericLinker::new(config.clone()).map_err(|e| {
        anyhow::anyhow!(
            "{}: {} [{}]",
            args.config.display(),
            config_msg(&e),
            e.code()
        )
    })?;
    let fields: Vec<&str> = config.fields.iter().map(|f| f.name.as_str()).collect();
    let opts = PlainOptions {
        sheet: args.sheet.clone(),
        ..PlainOptions::default()
    };
    let inputs: Vec<&Path> = match (&args.left, &args.right, &args.dedup) {
        (_, _, Some(d)) => vec![d],
        (Some(l), Some(r), None) => vec![l, r],
        _ => bail!("Berikan --left dan --right, atau --dedup."),
    };
    // Every header first: a missing column stops before any row is read.
    let mut tables = Vec::new();
    for path in &inputs {
        let table = PlainTable::open(path, &opts).map_err(|e| ingest_err(&e, &args.config))?;
        let cols = table
            .header()
            .resolve(&fields)
            .map_err(|e| ingest_err(&e, &args.config))?;
        tables.push((table, cols));
    }
    let mut sides = Vec::new();
    for (table, cols) in tables {
        sides.push(read_side(table, &cols)?);
    }
    let dedup = args.dedup.is_some();
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(if dedup {
        "Mencari duplikat…"
    } else {
        "Mencocokkan pasangan…"
    });
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let (mut pairs, stats) = if dedup {
        linker.dedup(&sides[0].records)
    } else {
        linker.link(&sides[0].records, &sides[1].records)
    };
    spinner.finish_and_clear();
    let left = &sides[0];
    let right = sides.get(1).unwrap_or(left);
    pairs.sort_by_key(|p| (left.rows[p.left as usize], right.rows[p.right as usize]));

    match &args.out {
        Some(path) => {
            let f = std::fs::File::create(path).with_context(|| {
                format!("Berkas keluaran {} tidak dapat dibuat", path.display())
            })?;
            let mut w = std::io::BufWriter::new(f);
            write_pairs(&mut w, &fields, &pairs, left, right)
                .and_then(|()| w.flush())
                .with_context(|| format!("Gagal menulis {}", path.display()))?;
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            write_pairs(&mut w, &fields, &pairs, left, right)
                .and_then(|()| w.flush())
                .context("Gagal menulis ke keluaran standar")?;
        }
    }
    summary(&args, &config, &sides, &pairs, stats, dedup);
    Ok(ExitCode::SUCCESS)
}

/// Reads and checks the configuration; errors name the file and, for TOML errors, the line.
fn load_config(path: &Path, threshold: Option<f64>) -> anyhow::Result<GenericConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "Berkas konfigurasi {} tidak dapat dibaca: {e}. Periksa jalurnya (contoh: config/link/example.toml). [LINK_CONFIG_UNREADABLE]",
            path.display()
        )
    })?;
    let mut config: GenericConfig = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| {
                let end = s.start.min(text.len());
                format!(
                    ":{}",
                    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
                )
            })
            .unwrap_or_default();
        anyhow::anyhow!(
            "{}{line}: konfigurasi tidak valid: {}. Lihat docs/LINK.md untuk formatnya. [LINK_CONFIG_SYNTAX]",
            path.display(),
            e.message().trim_end()
        )
    })?;
    if let Some(t) = threshold {
        if !t.is_finite() {
            bail!("--threshold harus berupa angka, bukan {t}");
        }
        config.match_threshold = t;
        config.possible_threshold = config.possible_threshold.min(t);
    }
    Ok(config)
}

fn config_msg(e: &ConfigError) -> String {
    match e {
        ConfigError::UnknownField(f) => format!(
            "aturan blocking memakai kolom `{f}` yang tidak ada di `fields`; tambahkan ke `fields` atau perbaiki namanya"
        ),
        ConfigError::WrongLevels(f, k) => {
            format!("kolom `{f}`: m dan u harus berisi {k} nilai, satu per tingkat")
        }
        ConfigError::NoFields => {
            "konfigurasi tidak membandingkan kolom apa pun; tambahkan minimal satu [[fields]]"
                .to_string()
        }
    }
}

/// An ingest error in Bahasa Indonesia, with its stable code.
fn ingest_err(e: &IngestError, config: &Path) -> anyhow::Error {
    let msg = match e {
        IngestError::ColumnMissing {
            file,
            missing,
            found,
            ..
        } => format!(
            "{file}: kolom {} tidak ditemukan. Kolom dalam berkas: {}. Samakan nama kolom di berkas dengan `name` di {} (huruf besar/kecil dan spasi tidak berpengaruh).",
            missing.join(", "),
            found.join(", "),
            config.display()
        ),
        IngestError::Empty { file } => {
            format!("{file}: berkas kosong (tidak ada baris judul kolom); ekspor ulang datanya.")
        }
        IngestError::NotText { file, reason, .. } => format!(
            "{file}: bukan berkas CSV yang dapat dibaca ({reason}); simpan sebagai CSV atau XLSX."
        ),
        IngestError::Io { file, source } => {
            format!("{file}: berkas tidak dapat dibaca: {source}; periksa jalurnya.")
        }
        IngestError::Xlsx { file, message } => format!(
            "{file}: buku kerja tidak dapat dibaca: {message}; simpan ulang sebagai .xlsx atau CSV."
        ),
        IngestError::SheetNotFound {
            file,
            sheet,
            sheets,
        } => format!(
            "{file}: lembar {sheet} tidak ada; lembar yang ada: {}. Pilih dengan --sheet.",
            sheets.join(", ")
        ),
        other => other.to_string(),
    };
    anyhow::anyhow!("{msg} [{}]", e.code())
}

fn read_side(table: PlainTable, cols: &[usize]) -> anyhow::Result<Side> {
    let file = table.header().file.clone();
    let bar = progress::bytes_bar(&format!("Membaca {}", short(&file)));
    let mut records = Vec::new();
    let mut rows = Vec::new();
    let b = bar.clone();
    let summary = table.rows(
        &mut |row| {
            if records.len() >= u32::MAX as usize {
                return Err("more than 4,294,967,295 rows".into());
            }
            records.push(GenericRecord {
                values: cols
                    .iter()
                    .map(|&i| {
                        Some(row.get(i))
                            .filter(|v| !v.is_empty())
                            .map(str::to_owned)
                    })
                    .collect(),
            });
            rows.push(row.row);
            Ok(())
        },
        &mut move |done, total| {
            b.set_length(total);
            b.set_position(done);
        },
    );
    bar.finish_and_clear();
    let summary = match summary {
        Ok(s) => s,
        Err(IngestError::Sink(_)) => {
            bail!("{file}: lebih dari 4.294.967.295 baris; pecah berkas menjadi beberapa bagian.")
        }
        Err(e) => return Err(ingest_err(&e, Path::new(""))),
    };
    Ok(Side {
        file,
        records,
        rows,
        summary,
    })
}

fn short(file: &str) -> &str {
    Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file)
}

/// A CSV field, quoted when it must be.
fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

fn write_pairs(
    w: &mut dyn Write,
    fields: &[&str],
    pairs: &[ScoredPair],
    left: &Side,
    right: &Side,
) -> std::io::Result<()> {
    let mut header = vec![
        "left_row".to_string(),
        "right_row".into(),
        "score".into(),
        "match".into(),
        "evidence".into(),
    ];
    header.extend(fields.iter().map(|f| format!("left_{f}")));
    header.extend(fields.iter().map(|f| format!("right_{f}")));
    let header: Vec<_> = header.iter().map(|h| csv_field(h).into_owned()).collect();
    writeln!(w, "{}", header.join(","))?;
    let value = |side: &Side, i: u32, f: usize| -> String {
        side.records[i as usize].values[f]
            .as_deref()
            .map(|v| csv_field(v).into_owned())
            .unwrap_or_default()
    };
    for p in pairs {
        let evidence: Vec<String> = p
            .evidence
            .iter()
            .map(|e| format!("{}:{}:{:.2}", e.field, e.level, e.weight))
            .collect();
        write!(
            w,
            "{},{},{:.3},{},{}",
            left.rows[p.left as usize],
            right.rows[p.right as usize],
            p.score,
            if p.is_match { "MATCH" } else { "POSSIBLE" },
            csv_field(&evidence.join(";"))
        )?;
        for f in 0..fields.len() {
            write!(w, ",{}", value(left, p.left, f))?;
        }
        for f in 0..fields.len() {
            write!(w, ",{}", value(right, p.right, f))?;
        }
        writeln!(w)?;
    }
    Ok(())
}

fn summary(
    args: &Args,
    config: &GenericConfig,
    sides: &[Side],
    pairs: &[ScoredPair],
    stats: GenericStats,
    dedup: bool,
) {
    let matches = pairs.iter().filter(|p| p.is_match).count();
    let mut err = std::io::stderr().lock();
    let mut lines = Vec::new();
    for (label, s) in ["kiri", "kanan"].iter().zip(sides) {
        let label = if dedup { "daftar" } else { label };
        lines.push(format!(
            "Dibaca ({label}): {} baris dari {}{}",
            s.records.len(),
            s.file,
            if s.summary.skipped_rows > 0 {
                format!("; {} baris rusak dilewati", s.summary.skipped_rows)
            } else {
                String::new()
            }
        ));
        for p in s.summary.problems.iter().take(5) {
            lines.push(format!("  baris {}: {} ({})", p.row, p.message, p.code));
        }
    }
    lines.push(format!("Pasangan dibandingkan: {}", stats.compared));
    lines.push(format!(
        "Cocok: {matches} (bobot ≥ {}); mungkin cocok: {} (bobot ≥ {})",
        config.match_threshold,
        pairs.len() - matches,
        config.possible_threshold
    ));
    if stats.skipped_blocks > 0 {
        lines.push(format!(
            "Blok terlalu besar dilewati: {} (lebih dari max_block = {} catatan); tambahkan kolom ke aturan blocking atau naikkan max_block.",
            stats.skipped_blocks, config.max_block
        ));
    } else {
        lines.push("Blok terlalu besar dilewati: 0".to_string());
    }
    if let Some(out) = &args.out {
        lines.push(format!("Pasangan ditulis ke {}", out.display()));
    }
    for l in lines {
        let _ = writeln!(err, "{l}");
    }
}
