//! `sinergi link`: generic linkage of two lists (or deduplication of one) that have no NIK,
//! over the fields a TOML configuration names. The linkage is
//! `sinergi_linkage::generic::GenericLinker` (prepare, block, learn m/u, score); this module
//! reads the files, the configuration and a saved model, prints what it read and learnt, and
//! writes the pairs (and clusters) as CSV. See `docs/LINK.md`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use sinergi_ingest::IngestError;
use sinergi_ingest::plain::{PlainOptions, PlainSummary, PlainTable};
use sinergi_linkage::generic::select;
use sinergi_linkage::generic::{
    BlockStats, ColumnReport, ConfigError, GenericConfig, GenericLinker, GenericModel,
    GenericRecord, ScoredPair, Threshold, TrainReport,
};

use crate::lang::num;
use crate::progress;
use crate::tr;

fn english() -> bool {
    crate::lang::lang().is_en()
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("masukan").required(true).args(["left", "dedup"])))]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Daftar kiri (CSV atau XLSX); pasangannya dicari di --right. [en] Left list (CSV or
    /// XLSX); its records are looked for in --right.
    #[arg(long, requires = "right", value_name = "BERKAS")]
    pub left: Option<PathBuf>,
    /// Daftar kanan (CSV atau XLSX). [en] Right list (CSV or XLSX).
    #[arg(long, requires = "left", value_name = "BERKAS")]
    pub right: Option<PathBuf>,
    /// Cari duplikat di dalam satu daftar ini (pengganti --left/--right). [en] Find duplicates
    /// within this one list (instead of --left/--right).
    #[arg(long, conflicts_with_all = ["left", "right"], value_name = "BERKAS")]
    pub dedup: Option<PathBuf>,
    /// Konfigurasi TOML: kolom yang dibandingkan, blocking dan ambang (lihat docs/LINK.md,
    /// contoh: config/link/). [en] TOML configuration: compared columns, blocking and
    /// thresholds (see docs/LINK.md; examples in config/link/).
    #[arg(long, value_name = "BERKAS")]
    pub config: PathBuf,
    /// Tulis pasangan (CSV) ke berkas ini (bawaan: keluaran standar). [en] Write the pairs
    /// (CSV) to this file (default: standard output).
    #[arg(long, value_name = "BERKAS")]
    pub out: Option<PathBuf>,
    /// Kolom pengenal yang disalin ke keluaran (boleh diulang), selain id_columns di
    /// konfigurasi. [en] Id column copied to the output (repeatable), besides id_columns in
    /// the configuration.
    #[arg(long = "id", value_name = "KOLOM")]
    pub id: Vec<String>,
    /// Peluang minimum untuk "cocok", 0 sampai 1 (menimpa konfigurasi). [en] Minimum match
    /// probability for MATCH, between 0 and 1 (overrides the configuration).
    #[arg(long, value_name = "PELUANG", conflicts_with = "threshold_weight")]
    pub threshold: Option<f64>,
    /// Bobot minimum untuk "cocok" (jumlah log2 m/u, boleh negatif), pengganti --threshold.
    /// [en] Minimum match weight for MATCH (sum of log2 m/u, may be negative), instead of
    /// --threshold.
    #[arg(long, value_name = "BOBOT")]
    pub threshold_weight: Option<f64>,
    /// Satu-satu: tiap baris muncul paling banyak di satu pasangan (yang terbaik lebih dulu).
    /// [en] One-to-one: every row in at most one pair (best pairs first).
    #[arg(long, visible_alias = "one-to-one", conflicts_with = "terbaik")]
    pub satu_satu: bool,
    /// Hanya kandidat terbaik untuk tiap baris kiri. [en] Only the best candidate of every
    /// left row.
    #[arg(long, visible_alias = "best")]
    pub terbaik: bool,
    /// Tulis semua pasangan yang dibandingkan, bukan hanya yang di atas ambang tinjau.
    /// [en] Write every compared pair, not only those above the review threshold.
    #[arg(long, visible_alias = "all-pairs")]
    pub semua_pasangan: bool,
    /// Dengan --dedup: tulis klaster (baris, pengenal, klaster) ke berkas CSV ini. [en] With
    /// --dedup: write the clusters (row, ids, cluster) to this CSV file.
    #[arg(
        long,
        visible_alias = "clusters",
        conflicts_with_all = ["left", "right"],
        value_name = "BERKAS"
    )]
    pub klaster: Option<PathBuf>,
    /// Pakai model (m, u, prior) yang disimpan dengan --simpan-model; tidak belajar lagi.
    /// [en] Use a model (m, u, prior) saved with --simpan-model; no learning.
    #[arg(long, value_name = "BERKAS")]
    pub model: Option<PathBuf>,
    /// Simpan model yang dipakai (TOML) ke berkas ini. [en] Save the model used (TOML) to
    /// this file.
    #[arg(long, visible_alias = "save-model", value_name = "BERKAS")]
    pub simpan_model: Option<PathBuf>,
    /// Lembar kerja XLSX yang dibaca (bawaan: lembar pertama). [en] XLSX worksheet to read
    /// (default: the first).
    #[arg(long, value_name = "NAMA")]
    pub sheet: Option<String>,
}

/// One list read into records, with the spreadsheet row and the ids of each.
struct Side {
    file: String,
    records: Vec<GenericRecord>,
    rows: Vec<u64>,
    ids: Vec<Vec<String>>,
    summary: PlainSummary,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = load_config(&args.config)?;
    for id in &args.id {
        if !config.id_columns.contains(id) {
            config.id_columns.push(id.clone());
        }
    }
    let mut linker = GenericLinker::new(config.clone()).map_err(|e| {
        anyhow::anyhow!(
            "{}: {} [{}]",
            args.config.display(),
            config_msg(&e),
            e.code()
        )
    })?;
    match (args.threshold, args.threshold_weight) {
        (Some(p), _) if p > 0.0 && p < 1.0 => linker.set_match_threshold(Threshold::Probability(p)),
        (Some(p), _) => bail!(tr!(
            "--threshold {p} bukan peluang (harus di antara 0 dan 1, mis. 0.9). Untuk ambang berupa bobot, pakai --threshold-weight {p}.",
            "--threshold {p} is not a probability (it must be between 0 and 1, e.g. 0.9). For a threshold as a weight, use --threshold-weight {p}."
        )),
        (None, Some(w)) if w.is_finite() => linker.set_match_threshold(Threshold::Weight(w)),
        (None, Some(w)) => bail!(tr!(
            "--threshold-weight harus berupa angka, bukan {w}",
            "--threshold-weight must be a number, not {w}"
        )),
        (None, None) => {}
    }
    let saved = match &args.model {
        Some(path) => Some(load_model(path, &linker)?),
        None => None,
    };
    let fields: Vec<&str> = config.fields.iter().map(|f| f.name.as_str()).collect();
    let id_cols: Vec<&str> = config.id_columns.iter().map(String::as_str).collect();
    let opts = PlainOptions {
        sheet: args.sheet.clone(),
        ..PlainOptions::default()
    };
    let inputs: Vec<&Path> = match (&args.left, &args.right, &args.dedup) {
        (_, _, Some(d)) => vec![d],
        (Some(l), Some(r), None) => vec![l, r],
        _ => bail!(tr!(
            "Berikan --left dan --right, atau --dedup.",
            "Give --left and --right, or --dedup."
        )),
    };
    // Every header first: a missing column stops before any row is read.
    let mut tables = Vec::new();
    for path in &inputs {
        let table = PlainTable::open(path, &opts).map_err(|e| ingest_err(&e, &args.config))?;
        let cols = table
            .header()
            .resolve(&fields)
            .map_err(|e| ingest_err(&e, &args.config))?;
        let ids = table
            .header()
            .resolve(&id_cols)
            .map_err(|e| ingest_err(&e, &args.config))?;
        tables.push((table, cols, ids));
    }
    let mut sides = Vec::new();
    for (table, cols, ids) in tables {
        sides.push(read_side(table, &cols, &ids)?);
    }
    let dedup = args.dedup.is_some();
    let mut out = Summary::default();
    for (label, s) in side_labels(dedup).iter().zip(&sides) {
        out.read(label, s);
    }

    let sp = spinner(&tr!("Membaca nilai…", "Reading values…"));
    let left = &sides[0];
    let right = sides.get(1);
    let prepared = linker.prepare(&left.records, right.map(|r| r.records.as_slice()));
    sp.finish_and_clear();
    let unusable = out.columns(prepared.reports(), &sides, dedup);
    if let Some(msg) = unusable {
        out.print();
        bail!(msg);
    }

    let sp = spinner(&tr!("Blocking…", "Blocking…"));
    let candidates = linker.candidates(&prepared);
    sp.finish_and_clear();
    out.blocking(&candidates.stats, linker.config().max_block);

    let (model, report) = match saved {
        Some(m) => (m, None),
        None if linker.config().learn => {
            let sp = spinner(&tr!("Mempelajari m dan u…", "Learning m and u…"));
            let (m, r) = linker.train(&prepared, &candidates);
            sp.finish_and_clear();
            (m, Some(r))
        }
        None => (linker.default_model(&prepared), None),
    };
    out.model(&model, report.as_ref(), args.model.as_deref());
    if let Some(path) = &args.simpan_model {
        save_model(path, &model)?;
        out.line(tr!(
            "Model disimpan ke {} (pakai lagi dengan --model).",
            "Model saved to {} (reuse it with --model).",
            path.display()
        ));
    }

    let sp = spinner(&tr!("Menilai pasangan…", "Scoring pairs…"));
    let scored = linker.score(&model, &prepared, &candidates, args.semua_pasangan);
    let mut pairs = if args.satu_satu {
        select::one_to_one(scored, dedup)
    } else if args.terbaik {
        select::best_per_left(scored)
    } else {
        let mut s = scored;
        select::sort_best_first(&mut s);
        s
    };
    // Best first; ties in spreadsheet row order.
    let right_side = right.unwrap_or(left);
    pairs.sort_by(|a, b| {
        b.weight.total_cmp(&a.weight).then_with(|| {
            (
                left.rows[a.left as usize],
                right_side.rows[a.right as usize],
            )
                .cmp(&(
                    left.rows[b.left as usize],
                    right_side.rows[b.right as usize],
                ))
        })
    });
    sp.finish_and_clear();

    let write = |w: &mut dyn Write| -> std::io::Result<()> {
        write_pairs(
            w, &linker, &model, &fields, &id_cols, &pairs, left, right_side,
        )
    };
    match &args.out {
        Some(path) => {
            let f = std::fs::File::create(path).with_context(|| {
                tr!(
                    "Berkas keluaran {} tidak dapat dibuat",
                    "Output file {} cannot be created",
                    path.display()
                )
            })?;
            let mut w = std::io::BufWriter::new(f);
            write(&mut w)
                .and_then(|()| w.flush())
                .with_context(|| tr!("Gagal menulis {}", "Failed to write {}", path.display()))?;
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut w).and_then(|()| w.flush()).context(tr!(
                "Gagal menulis ke keluaran standar",
                "Failed to write to standard output"
            ))?;
        }
    }
    let matches = pairs.iter().filter(|p| p.is_match).count();
    out.results(&linker, matches, pairs.len() - matches, &args);
    if let Some(path) = &args.klaster {
        let n = num(write_clusters(path, left, &id_cols, &pairs)? as u64);
        out.line(tr!(
            "Klaster: {n} klaster ditulis ke {}",
            "Clusters: {n} clusters written to {}",
            path.display()
        ));
    }
    out.print();
    Ok(ExitCode::SUCCESS)
}

fn side_labels(dedup: bool) -> Vec<String> {
    if dedup {
        vec![tr!("daftar", "list")]
    } else {
        vec![tr!("kiri", "left"), tr!("kanan", "right")]
    }
}

fn spinner(msg: &str) -> indicatif::ProgressBar {
    let s = indicatif::ProgressBar::new_spinner();
    s.set_message(msg.to_string());
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s
}

/// Reads and parses the configuration; errors name the file and, for TOML errors, the line.
fn load_config(path: &Path) -> anyhow::Result<GenericConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(tr!(
            "Berkas konfigurasi {} tidak dapat dibaca: {e}. Periksa jalurnya (contoh: config/link/febrl.toml). [LINK_CONFIG_UNREADABLE]",
            "The configuration file {} cannot be read: {e}. Check the path (example: config/link/febrl.toml). [LINK_CONFIG_UNREADABLE]",
            path.display()
        ))
    })?;
    toml::from_str(&text).map_err(|e| {
        let line = line_of(&text, e.span());
        anyhow::anyhow!(tr!(
            "{}{line}: konfigurasi tidak valid: {}. Lihat docs/LINK.md untuk formatnya. [LINK_CONFIG_SYNTAX]",
            "{}{line}: invalid configuration: {}. See docs/LINK.md for the format. [LINK_CONFIG_SYNTAX]",
            path.display(),
            e.message().trim_end()
        ))
    })
}

/// `:LINE` of a TOML error's span, or nothing.
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.map(|s| {
        let end = s.start.min(text.len());
        format!(
            ":{}",
            text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
        )
    })
    .unwrap_or_default()
}

fn load_model(path: &Path, linker: &GenericLinker) -> anyhow::Result<GenericModel> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(tr!(
            "Berkas model {} tidak dapat dibaca: {e}. Simpan model dengan --simpan-model lebih dulu. [LINK_MODEL_UNREADABLE]",
            "The model file {} cannot be read: {e}. Save a model with --simpan-model first. [LINK_MODEL_UNREADABLE]",
            path.display()
        ))
    })?;
    let model: GenericModel = toml::from_str(&text).map_err(|e| {
        let line = line_of(&text, e.span());
        anyhow::anyhow!(tr!(
            "{}{line}: model tidak valid: {}. [LINK_MODEL_SYNTAX]",
            "{}{line}: invalid model: {}. [LINK_MODEL_SYNTAX]",
            path.display(),
            e.message().trim_end()
        ))
    })?;
    linker.check_model(&model).map_err(|e| {
        anyhow::anyhow!(
            "{}: {} [{}]",
            path.display(),
            if english() {
                e.to_string()
            } else {
                format!(
                    "model tidak cocok dengan konfigurasi: {}; pelajari model baru (tanpa --model) atau pakai konfigurasi asalnya",
                    match &e {
                        sinergi_linkage::ModelError::Mismatch(d) => d,
                    }
                )
            },
            e.code()
        )
    })?;
    Ok(model)
}

fn save_model(path: &Path, model: &GenericModel) -> anyhow::Result<()> {
    let body = toml::to_string(model).context("model to TOML")?;
    let text = format!(
        "# {}\n{body}",
        tr!(
            "Model sinergi link: prior = peluang dua catatan acak adalah orang yang sama; m dan u per tingkat. Pakai dengan --model.",
            "sinergi link model: prior = probability that two random records are the same person; m and u per level. Use with --model."
        )
    );
    std::fs::write(path, text).with_context(|| {
        tr!(
            "Berkas model {} tidak dapat ditulis",
            "The model file {} cannot be written",
            path.display()
        )
    })
}

fn config_msg(e: &ConfigError) -> String {
    if english() {
        return e.to_string();
    }
    match e {
        ConfigError::UnknownField(f) => format!(
            "aturan blocking (atau swap_with) memakai kolom `{f}` yang tidak ada di `fields`; tambahkan ke `fields` (dengan score = false bila tidak dinilai) atau perbaiki namanya"
        ),
        ConfigError::WrongLevels(f, k) => format!(
            "kolom `{f}`: m dan u harus berisi {k} nilai, satu per tingkat, masing-masing di atas 0 dan paling besar 1"
        ),
        ConfigError::NoFields => {
            "konfigurasi tidak menilai kolom apa pun; tambahkan minimal satu [[fields]]".to_string()
        }
        ConfigError::TransformMismatch {
            field,
            transform,
            comparator,
        } => format!(
            "aturan blocking: transform `{transform}` tidak cocok untuk kolom `{field}` (comparator `{comparator}`); pakai exact, atau phonetic untuk name/text, year untuk date, district untuk region"
        ),
        ConfigError::BadSwap(f) => format!(
            "kolom `{f}`: swap_with harus menyebut kolom `name` lain yang dinilai (nama depan dan nama keluarga)"
        ),
        ConfigError::BadVeto(f) => format!("kolom `{f}`: veto hanya untuk kolom yang dinilai"),
        ConfigError::BadThreshold(what) => format!(
            "{what}: peluang harus di atas 0 dan di bawah 1; berikan match_probability atau match_threshold (bobot), tidak keduanya"
        ),
        ConfigError::BadDateFormat(f) => format!(
            "kolom `{f}`: date_format harus tata letak tanggal seperti YYYYMMDD atau DD/MM/YYYY, pada kolom date"
        ),
        ConfigError::Duplicate(f) => format!("kolom `{f}` disebut dua kali"),
        ConfigError::NoBlocking => {
            "konfigurasi tidak punya aturan blocking; tambahkan minimal satu di `blocking`"
                .to_string()
        }
    }
}

/// An ingest error in the user's language, with its stable code.
fn ingest_err(e: &IngestError, config: &Path) -> anyhow::Error {
    let msg = match e {
        IngestError::ColumnMissing {
            file,
            missing,
            found,
            ..
        } => tr!(
            "{file}: kolom {} tidak ditemukan. Kolom dalam berkas: {}. Samakan nama kolom di berkas dengan `name` (atau id_columns / --id) di {} (huruf besar/kecil dan spasi tidak berpengaruh).",
            "{file}: column {} not found. Columns in the file: {}. Make the file's column names match `name` (or id_columns / --id) in {} (case and spacing do not matter).",
            missing.join(", "),
            found.join(", "),
            config.display()
        ),
        IngestError::Empty { file } => tr!(
            "{file}: berkas kosong (tidak ada baris judul kolom); ekspor ulang datanya.",
            "{file}: the file is empty (no header row); export the data again."
        ),
        IngestError::NotText {
            file,
            reason,
            reason_id,
        } => tr!(
            "{file}: bukan berkas CSV yang dapat dibaca ({reason_id}); simpan sebagai CSV atau XLSX.",
            "{file}: not a readable CSV file ({reason}); save it as CSV or XLSX."
        ),
        IngestError::Io { file, source } => tr!(
            "{file}: berkas tidak dapat dibaca: {source}; periksa jalurnya.",
            "{file}: the file cannot be read: {source}; check the path."
        ),
        IngestError::Xlsx { file, message } => tr!(
            "{file}: buku kerja tidak dapat dibaca: {message}; simpan ulang sebagai .xlsx atau CSV.",
            "{file}: the workbook cannot be read: {message}; save it again as .xlsx or CSV."
        ),
        IngestError::SheetNotFound {
            file,
            sheet,
            sheets,
        } => tr!(
            "{file}: lembar {sheet} tidak ada; lembar yang ada: {}. Pilih dengan --sheet.",
            "{file}: there is no sheet {sheet}; the sheets are: {}. Choose one with --sheet.",
            sheets.join(", ")
        ),
        other => other.message(crate::lang::lang()),
    };
    anyhow::anyhow!("{msg} [{}]", e.code())
}

fn read_side(table: PlainTable, cols: &[usize], id_cols: &[usize]) -> anyhow::Result<Side> {
    let file = table.header().file.clone();
    let bar = progress::bytes_bar(&tr!("Membaca {}", "Reading {}", short(&file)));
    let mut records = Vec::new();
    let mut rows = Vec::new();
    let mut ids = Vec::new();
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
            ids.push(id_cols.iter().map(|&i| row.get(i).to_owned()).collect());
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
        Err(IngestError::Sink(_)) => bail!(tr!(
            "{file}: lebih dari 4.294.967.295 baris; pecah berkas menjadi beberapa bagian.",
            "{file}: more than 4,294,967,295 rows; split the file."
        )),
        Err(e) => return Err(ingest_err(&e, Path::new(""))),
    };
    Ok(Side {
        file,
        records,
        rows,
        ids,
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

/// A field name inside the `evidence` column: `%`, `;` and `:` percent-encoded, so the column
/// splits unambiguously at `;` and `:`.
fn evidence_name(s: &str) -> String {
    s.replace('%', "%25")
        .replace(';', "%3B")
        .replace(':', "%3A")
}

#[allow(clippy::too_many_arguments)]
fn write_pairs(
    w: &mut dyn Write,
    linker: &GenericLinker,
    model: &GenericModel,
    fields: &[&str],
    id_cols: &[&str],
    pairs: &[ScoredPair],
    left: &Side,
    right: &Side,
) -> std::io::Result<()> {
    let mut header = vec!["left_row".to_string(), "right_row".into()];
    header.extend(id_cols.iter().map(|f| format!("left_{f}")));
    header.extend(id_cols.iter().map(|f| format!("right_{f}")));
    header.extend([
        "probability".into(),
        "weight".into(),
        "match".into(),
        "evidence".into(),
    ]);
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
        let evidence: Vec<String> = linker
            .evidence(model, p)
            .iter()
            .map(|e| {
                format!(
                    "{}:{}{}:{:.2}",
                    evidence_name(&e.field),
                    e.level,
                    if e.swapped { "/swapped" } else { "" },
                    e.weight
                )
            })
            .collect();
        write!(
            w,
            "{},{}",
            left.rows[p.left as usize], right.rows[p.right as usize]
        )?;
        for v in &left.ids[p.left as usize] {
            write!(w, ",{}", csv_field(v))?;
        }
        for v in &right.ids[p.right as usize] {
            write!(w, ",{}", csv_field(v))?;
        }
        write!(
            w,
            ",{},{:.3},{},{}",
            probability_text(p.probability),
            p.weight,
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

/// A probability with six decimals, or in scientific notation when tiny.
fn probability_text(p: f64) -> String {
    if p >= 1e-6 || p == 0.0 {
        format!("{p:.6}")
    } else {
        format!("{p:.3e}")
    }
}

/// Writes `row,<ids>,cluster,cluster_size` for every record in a cluster of two or more,
/// by cluster then row; returns the number of clusters.
fn write_clusters(
    path: &Path,
    side: &Side,
    id_cols: &[&str],
    pairs: &[ScoredPair],
) -> anyhow::Result<usize> {
    let of = select::clusters(side.records.len(), pairs);
    let mut size = vec![0u32; side.records.len()];
    for c in of.iter().flatten() {
        size[*c as usize] += 1;
    }
    let mut members: Vec<(u64, u64, usize)> = of
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.map(|c| (side.rows[c as usize], side.rows[i], i)))
        .collect();
    members.sort_unstable();
    let f = std::fs::File::create(path).with_context(|| {
        tr!(
            "Berkas klaster {} tidak dapat dibuat",
            "The cluster file {} cannot be created",
            path.display()
        )
    })?;
    let mut w = std::io::BufWriter::new(f);
    let mut header = vec!["row".to_string()];
    header.extend(id_cols.iter().map(|c| csv_field(c).into_owned()));
    header.extend(["cluster".into(), "cluster_size".into()]);
    writeln!(w, "{}", header.join(","))?;
    for (cluster_row, row, i) in &members {
        write!(w, "{row}")?;
        for v in &side.ids[*i] {
            write!(w, ",{}", csv_field(v))?;
        }
        let root = of[*i].unwrap_or(0) as usize;
        writeln!(w, ",{cluster_row},{}", size[root])?;
    }
    w.flush()?;
    Ok(size.iter().filter(|&&s| s > 0).count())
}

/// The run summary, printed to standard error at the end (or before an error).
#[derive(Default)]
struct Summary {
    lines: Vec<String>,
}

impl Summary {
    fn line(&mut self, l: String) {
        self.lines.push(l);
    }

    fn print(&self) {
        let mut err = std::io::stderr().lock();
        for l in &self.lines {
            let _ = writeln!(err, "{l}");
        }
    }

    fn read(&mut self, label: &str, s: &Side) {
        let skipped = if s.summary.skipped_rows > 0 {
            tr!(
                "; {} baris rusak dilewati",
                "; {} broken rows skipped",
                num(s.summary.skipped_rows)
            )
        } else {
            String::new()
        };
        self.line(tr!(
            "Dibaca ({label}): {} baris dari {}{skipped}",
            "Read ({label}): {} rows from {}{skipped}",
            num(s.records.len() as u64),
            s.file
        ));
        for p in s.summary.problems.iter().take(5) {
            self.line(tr!(
                "  baris {}: {} ({})",
                "  row {}: {} ({})",
                p.row,
                p.message,
                p.code
            ));
        }
    }

    /// Per column: date layouts, unreadable values with examples. Returns the error message
    /// when a column is mostly unreadable.
    fn columns(
        &mut self,
        reports: &[(ColumnReport, Option<ColumnReport>)],
        sides: &[Side],
        dedup: bool,
    ) -> Option<String> {
        let labels = side_labels(dedup);
        let mut error = None;
        for (l, r) in reports {
            for (k, rep) in std::iter::once(l).chain(r.as_ref()).enumerate() {
                let side = &sides[k];
                let label = &labels[k.min(labels.len() - 1)];
                if !rep.date_shapes.is_empty() || (rep.unreadable > 0 && rep.present > 0) {
                    let shapes: Vec<String> = rep
                        .date_shapes
                        .iter()
                        .map(|(s, n)| format!("{} {}", s.name(), num(*n)))
                        .collect();
                    let layouts = if shapes.is_empty() {
                        String::new()
                    } else {
                        tr!("; tata letak: {}", "; layouts: {}", shapes.join(", "))
                    };
                    self.line(tr!(
                        "Kolom {} ({label}): {} terisi, {} tidak terbaca{layouts}",
                        "Column {} ({label}): {} present, {} unreadable{layouts}",
                        rep.field,
                        num(rep.present),
                        num(rep.unreadable)
                    ));
                    for (i, raw, why) in &rep.examples {
                        self.line(tr!(
                            "  baris {}: {:?} ({})",
                            "  row {}: {:?} ({})",
                            side.rows[*i as usize],
                            raw,
                            why.code()
                        ));
                    }
                }
                if rep.is_unusable() && error.is_none() {
                    error = Some(tr!(
                        "{}: kolom {} sebagian besar tidak terbaca ({} dari {} nilai). Periksa comparator kolom ini di konfigurasi (date untuk tanggal, region hanya untuk kode wilayah Kemendagri; kode pos atau nomor lain: code), atau tetapkan date_format. [LINK_COLUMN_UNREADABLE]",
                        "{}: column {} is mostly unreadable ({} of {} values). Check the column's comparator in the configuration (date for dates, region only for Kemendagri region codes; postcodes and other numbers: code), or set date_format. [LINK_COLUMN_UNREADABLE]",
                        side.file,
                        rep.field,
                        num(rep.unreadable),
                        num(rep.present)
                    ));
                }
            }
        }
        error
    }

    fn blocking(&mut self, s: &BlockStats, max_block: usize) {
        let per_rule: Vec<String> = s.per_rule.iter().map(|n| num(*n)).collect();
        self.line(tr!(
            "Pasangan dibandingkan: {} (per aturan blocking: {})",
            "Pairs compared: {} (per blocking rule: {})",
            num(s.compared),
            per_rule.join(", ")
        ));
        if s.skipped_blocks > 0 {
            self.line(tr!(
                "Blok terlalu besar dilewati: {} (terbesar {} catatan, lebih dari max_block = {}; {} pasangan tidak dibandingkan); tambahkan kolom ke aturan blocking atau naikkan max_block.",
                "Oversized blocks skipped: {} (largest {} records, above max_block = {}; {} pairs not compared); add a column to the blocking rule or raise max_block.",
                num(s.skipped_blocks),
                num(s.largest_skipped),
                num(max_block as u64),
                num(s.skipped_pairs)
            ));
        } else {
            self.line(tr!(
                "Blok terlalu besar dilewati: 0",
                "Oversized blocks skipped: 0"
            ));
        }
    }

    fn model(&mut self, m: &GenericModel, r: Option<&TrainReport>, loaded: Option<&Path>) {
        let how = match (loaded, r) {
            (Some(p), _) => tr!("dari {}", "from {}", p.display()),
            (None, Some(r)) if r.em_ran => tr!(
                "dipelajari dari data: u dari {} pasangan acak, m dengan EM atas {} pasangan blocking ({} iterasi{})",
                "learnt from the data: u from {} random pairs, m by EM over {} blocked pairs ({} iterations{})",
                num(r.random_pairs),
                num(r.em_pairs as u64),
                r.iterations,
                if r.converged {
                    String::new()
                } else {
                    tr!(", belum konvergen", ", not converged")
                }
            ),
            (None, Some(r)) => tr!(
                "u dari {} pasangan acak; m bawaan (pasangan blocking terlalu sedikit untuk EM)",
                "u from {} random pairs; default m (too few blocked pairs for EM)",
                num(r.random_pairs)
            ),
            (None, None) => tr!("nilai bawaan (learn = false)", "defaults (learn = false)"),
        };
        self.line(tr!("Model ({how}):", "Model ({how}):"));
        self.line(tr!(
            "  prior (peluang dua catatan acak orang yang sama): {}",
            "  prior (probability two random records are the same person): {}",
            probability_text(m.prior)
        ));
        for f in &m.fields {
            self.line(format!(
                "  {} [{}; m: {}, u: {}]",
                f.name,
                f.comparator.name(),
                f.m_from,
                f.u_from
            ));
            for (k, w) in f.weights().iter().enumerate() {
                self.line(format!(
                    "    {:<26} m {:.4}  u {:.3e}  {} {w:+.2}",
                    f.levels[k],
                    f.m[k],
                    f.u[k],
                    tr!("bobot", "weight")
                ));
            }
        }
        if let Some(r) = r
            && !r.fallback_fields.is_empty()
        {
            self.line(tr!(
                "  m bawaan dipakai untuk {}: taksiran EM tidak tampak seperti perbandingan identitas.",
                "  default m kept for {}: the EM estimate did not look like an identity comparison.",
                r.fallback_fields.join(", ")
            ));
        }
    }

    fn results(&mut self, linker: &GenericLinker, matches: usize, possible: usize, args: &Args) {
        let t = |t: Threshold| match t {
            Threshold::Probability(p) => tr!("peluang ≥ {p}", "probability ≥ {p}"),
            Threshold::Weight(w) => tr!("bobot ≥ {w}", "weight ≥ {w}"),
        };
        let mode = if args.satu_satu {
            tr!(" (satu-satu)", " (one-to-one)")
        } else if args.terbaik {
            tr!(" (kandidat terbaik)", " (best candidate)")
        } else {
            String::new()
        };
        self.line(tr!(
            "Cocok: {matches} ({}); mungkin cocok: {possible} ({}){mode}",
            "Matches: {matches} ({}); possible matches: {possible} ({}){mode}",
            t(linker.match_threshold()),
            t(linker.possible_threshold()),
            matches = num(matches as u64),
            possible = num(possible as u64),
        ));
        if let Some(out) = &args.out {
            self.line(tr!(
                "Pasangan ditulis ke {}",
                "Pairs written to {}",
                out.display()
            ));
        }
    }
}
