//! Turns rows of cells into canonical records through a mapping: the part every format shares.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};
use sinergi_model::Lang;
use sinergi_model::standard::{FieldType, Record, Table, Value};

use crate::mapping::{FieldSource, Mapping, TemplatePart, Transform, Unmapped, column_key};
use crate::normalize::{self, Issue};
use crate::report::{
    Batch, FieldCompleteness, FileReport, IngestReport, NikValidity, Problem, ProgressEvent, cut,
};
use crate::{IngestError, ReadOptions, SinkError};

/// One cell as a reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CellRef<'a> {
    Empty,
    Text(Cow<'a, str>),
    /// A spreadsheet or JSON number.
    Number(f64),
    /// A JSON integer (exact).
    Int(i64),
    Bool(bool),
    /// A spreadsheet date cell, as an Excel serial day number.
    Date(f64),
}

impl CellRef<'_> {
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            CellRef::Empty => true,
            CellRef::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    fn text(&self) -> Cow<'_, str> {
        match self {
            CellRef::Empty => Cow::Borrowed(""),
            CellRef::Text(t) => Cow::Borrowed(t),
            CellRef::Number(v) => Cow::Owned(normalize::number_text(*v)),
            CellRef::Int(i) => Cow::Owned(i.to_string()),
            CellRef::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            CellRef::Date(v) => Cow::Owned(
                normalize::from_excel_serial(*v)
                    .map(normalize::iso_date)
                    .unwrap_or_else(|_| normalize::number_text(*v)),
            ),
        }
    }
}

/// The columns a mapping needs, resolved against one file's header.
#[derive(Debug, Clone)]
pub(crate) struct Slots {
    /// Mapping column names (see [`Mapping::columns`]).
    pub names: Vec<String>,
    /// For each, the index of the file column, when present.
    pub index: Vec<Option<usize>>,
}

impl Slots {
    /// Resolves mapping columns against header names. Fails when a required column is missing.
    pub(crate) fn resolve(
        mapping: &Mapping,
        file: &str,
        header: &[String],
        delimiter: Option<u8>,
    ) -> Result<(Slots, Vec<String>), IngestError> {
        let keys: Vec<String> = header.iter().map(|h| column_key(h)).collect();
        let names: Vec<String> = mapping.columns().iter().map(|c| c.to_string()).collect();
        let index: Vec<Option<usize>> = names
            .iter()
            .map(|n| {
                let k = column_key(n);
                keys.iter().position(|h| *h == k)
            })
            .collect();
        let required = mapping.required_columns();
        let missing: Vec<String> = required
            .iter()
            .filter(|r| !keys.contains(&column_key(r)))
            .map(|r| r.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(IngestError::ColumnMissing {
                file: file.to_owned(),
                missing,
                found: header
                    .iter()
                    .filter(|h| !h.trim().is_empty())
                    .cloned()
                    .collect(),
                hint: delimiter_hint(header, delimiter),
            });
        }
        let optional_missing = names
            .iter()
            .zip(&index)
            .filter(|(_, i)| i.is_none())
            .map(|(n, _)| n.clone())
            .collect();
        Ok((Slots { names, index }, optional_missing))
    }

    /// Whether every mapping column is found in `header` (used to detect the header row).
    pub(crate) fn score(mapping: &Mapping, header: &[String]) -> (usize, usize) {
        let keys: Vec<String> = header.iter().map(|h| column_key(h)).collect();
        let req = mapping.required_columns();
        let found = req.iter().filter(|r| keys.contains(&column_key(r))).count();
        (found, req.len())
    }
}

fn delimiter_hint(header: &[String], delimiter: Option<u8>) -> Option<String> {
    let delimiter = delimiter?;
    let joined = header.join("");
    let mut best: Option<(char, usize)> = None;
    for c in [';', '|', ',', '\t'] {
        if c as u32 == delimiter as u32 {
            continue;
        }
        let n = joined.matches(c).count();
        if n >= 1 && best.is_none_or(|(_, b)| n > b) {
            best = Some((c, n));
        }
    }
    let (c, _) = best?;
    if header.len() <= 2 {
        let name = match c {
            '\t' => "tab".to_string(),
            other => format!("`{other}`"),
        };
        Some(format!(
            "wrong delimiter? the header looks {name}-delimited but the mapping says `{}`",
            delimiter as char
        ))
    } else {
        None
    }
}

/// Packs a file index and row into the duplicate index.
fn pack(file: usize, row: u64) -> u64 {
    ((file as u64) << 48) | (row & 0xFFFF_FFFF_FFFF)
}

fn unpack(v: u64) -> (usize, u64) {
    ((v >> 48) as usize, v & 0xFFFF_FFFF_FFFF)
}

pub(crate) struct FileState {
    pub index: usize,
    pub path: String,
    pub report: FileReport,
    /// The duplicate index needs the file names of earlier files.
    pub slots: Slots,
    /// Bytes consumed so far, for progress (decoded bytes for CSV; 0 for XLSX).
    pub bytes_read: u64,
}

/// Shared state of one read: the current batch, counters and the duplicate index.
pub(crate) struct Engine<'s> {
    pub mapping: &'s Mapping,
    pub opts: &'s ReadOptions,
    table: Table,
    sink: &'s mut dyn FnMut(Batch) -> Result<(), SinkError>,
    pub progress: &'s mut dyn FnMut(ProgressEvent),
    batch: Batch,
    batch_rows: usize,
    files: Vec<FileReport>,
    file_paths: Vec<String>,
    filled: Vec<u64>,
    reject_codes: BTreeMap<&'static str, u64>,
    warning_codes: BTreeMap<&'static str, u64>,
    first_rejects: Vec<Problem>,
    first_warnings: Vec<Problem>,
    /// Keys of up to 18 digits, exactly (NIK, card numbers): 16 bytes per entry.
    seen_exact: HashMap<u64, u64, KeyHasher>,
    /// Other keys, as 128 bits of SHA-256.
    seen_hashed: HashMap<u128, u64, KeyHasher>,
    duplicate_keys: u64,
    nik_field: Option<usize>,
    nik_present: u64,
    nik_valid: u64,
    key_fields: Vec<usize>,
    /// For each mapped field, the slots it reads (one per column, template order).
    field_slots: Vec<Vec<usize>>,
    /// The slot of each `[[where]]` filter's column.
    filter_slots: Vec<usize>,
    /// Warnings handed to the sink so far, against `ReadOptions::max_warnings`.
    warnings_written: u64,
    warnings_not_written: BTreeMap<&'static str, u64>,
    /// Region codes already checked (at most the ~84,000 villages; cleared past 200,000).
    regions: HashMap<String, normalize::Checked>,
    /// Region names already looked up (`region_names`), by the names joined; cleared past
    /// 200,000.
    region_names: HashMap<String, Result<String, Issue>>,
    // Per-row scratch.
    row_problems: Vec<Problem>,
    row_warnings: Vec<Problem>,
}

/// A row's key in the duplicate index.
enum Key {
    Exact(u64),
    Hashed(u128),
}

enum FieldOutcome {
    Value(Value),
    /// The raw text and the problem.
    Problem(String, Issue),
}

impl<'s> Engine<'s> {
    pub(crate) fn new(
        mapping: &'s Mapping,
        opts: &'s ReadOptions,
        sink: &'s mut dyn FnMut(Batch) -> Result<(), SinkError>,
        progress: &'s mut dyn FnMut(ProgressEvent),
    ) -> Engine<'s> {
        let table = mapping.table;
        let nik_field = mapping
            .fields
            .iter()
            .find(|f| f.spec.ty == FieldType::Nik)
            .map(|f| f.index);
        let cols: Vec<String> = mapping.columns().iter().map(|c| column_key(c)).collect();
        let slot = |c: &str| {
            cols.iter()
                .position(|k| *k == column_key(c))
                .expect("mapping columns are slots")
        };
        let field_slots = mapping
            .fields
            .iter()
            .map(|f| f.source.columns().into_iter().map(slot).collect())
            .collect();
        let filter_slots = mapping.filters.iter().map(|f| slot(&f.column)).collect();
        let key_fields = table
            .key()
            .iter()
            .map(|k| table.field_index(k).expect("standard keys name fields"))
            .collect();
        Engine {
            mapping,
            opts,
            table,
            sink,
            progress,
            batch: Batch {
                table,
                file: 0,
                records: Vec::new(),
                rows: Vec::new(),
                rejects: Vec::new(),
                warnings: Vec::new(),
            },
            batch_rows: 0,
            files: Vec::new(),
            file_paths: Vec::new(),
            filled: vec![0; table.fields().len()],
            reject_codes: BTreeMap::new(),
            warning_codes: BTreeMap::new(),
            first_rejects: Vec::new(),
            first_warnings: Vec::new(),
            seen_exact: HashMap::with_hasher(KeyHasher),
            seen_hashed: HashMap::with_hasher(KeyHasher),
            duplicate_keys: 0,
            nik_field,
            nik_present: 0,
            nik_valid: 0,
            key_fields,
            field_slots,
            filter_slots,
            warnings_written: 0,
            warnings_not_written: BTreeMap::new(),
            regions: HashMap::new(),
            region_names: HashMap::new(),
            row_problems: Vec::new(),
            row_warnings: Vec::new(),
        }
    }

    /// Sizes the duplicate index for `rows` more rows, so that it is allocated once instead
    /// of doubling (which briefly holds old and new tables) while a large file is read.
    pub(crate) fn expect_rows(&mut self, rows: u64) {
        if self.opts.check_duplicates {
            let want = rows.min(500_000_000) as usize;
            let exact = self.key_fields.len() == 1
                && matches!(
                    self.table.fields()[self.key_fields[0]].ty,
                    FieldType::Nik | FieldType::Kk
                );
            if exact {
                let free = self.seen_exact.capacity() - self.seen_exact.len();
                if want > free {
                    self.seen_exact.reserve(want);
                }
            }
        }
    }

    /// The digest of file `index` when the caller gave it ([`ReadOptions::file_sha256`]).
    pub(crate) fn known_sha256(&self, index: usize) -> Option<String> {
        self.opts
            .file_sha256
            .get(index)
            .filter(|d| !d.is_empty())
            .cloned()
    }

    pub(crate) fn begin_file(&mut self, index: usize, path: &str) {
        self.batch.file = index;
        if self.file_paths.len() <= index {
            self.file_paths.resize(index + 1, String::new());
        }
        self.file_paths[index] = path.to_owned();
    }

    pub(crate) fn end_file(&mut self, st: FileState) -> Result<(), IngestError> {
        self.flush(&st)?;
        (self.progress)(ProgressEvent::FileFinished {
            file: st.index,
            rows_read: st.report.rows_read,
        });
        self.files.push(st.report);
        Ok(())
    }

    pub(crate) fn flush(&mut self, st: &FileState) -> Result<(), IngestError> {
        if self.batch_rows == 0 && self.batch.warnings.is_empty() {
            return Ok(());
        }
        let cap = self.opts.batch_size;
        let next = Batch {
            table: self.table,
            file: st.index,
            records: Vec::with_capacity(cap),
            rows: Vec::with_capacity(cap),
            rejects: Vec::new(),
            warnings: Vec::new(),
        };
        let batch = std::mem::replace(&mut self.batch, next);
        self.batch_rows = 0;
        (self.sink)(batch).map_err(IngestError::Sink)?;
        (self.progress)(ProgressEvent::Rows {
            file: st.index,
            rows_read: st.report.rows_read,
            bytes_read: st.bytes_read,
        });
        Ok(())
    }

    fn after_row(&mut self, st: &FileState) -> Result<(), IngestError> {
        self.batch_rows += 1;
        if self.batch_rows >= self.opts.batch_size {
            self.flush(st)?;
        }
        Ok(())
    }

    /// Records one problem. `counted`: whether its code counts in the report's table of
    /// its kind (a rejected row's warnings go to the rejects with the row, so nothing is
    /// lost, but they are not reasons for the rejection).
    fn record_problem(&mut self, p: Problem, reject: bool, counted: bool) {
        let (codes, first) = if reject {
            (&mut self.reject_codes, &mut self.first_rejects)
        } else {
            (&mut self.warning_codes, &mut self.first_warnings)
        };
        if counted {
            *codes.entry(p.code).or_insert(0) += 1;
        }
        if first.len() < self.opts.max_examples {
            first.push(p.clone());
        }
        if reject {
            self.batch.rejects.push(p);
        } else if self.warnings_written >= self.opts.max_warnings {
            *self.warnings_not_written.entry(p.code).or_insert(0) += 1;
        } else {
            self.warnings_written += 1;
            self.batch.warnings.push(p);
        }
    }

    /// Rejects a whole row for a reason found before field mapping (ragged, encoding, …).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reject_row(
        &mut self,
        st: &mut FileState,
        row: u64,
        line: Option<u64>,
        field: &str,
        raw: &str,
        code: &'static str,
        message: String,
    ) -> Result<(), IngestError> {
        st.report.rows_read += 1;
        st.report.rejected += 1;
        let p = Problem {
            file: st.path.clone(),
            row,
            line,
            field: field.to_owned(),
            raw_value: cut(raw),
            code,
            message,
        };
        self.record_problem(p, true, true);
        self.after_row(st)
    }

    /// Adds a warning to the row being built (used by readers, e.g. encoding fallback).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn warn_current_row(
        &mut self,
        st: &FileState,
        row: u64,
        line: Option<u64>,
        field: &str,
        raw: &str,
        code: &'static str,
        message: String,
    ) {
        self.row_warnings.push(Problem {
            file: st.path.clone(),
            row,
            line,
            field: field.to_owned(),
            raw_value: cut(raw),
            code,
            message,
        });
    }

    /// Maps one data row. `cells[i]` is the value of slot `i` (see [`Slots`]).
    pub(crate) fn process_row(
        &mut self,
        st: &mut FileState,
        row: u64,
        line: Option<u64>,
        cells: &[CellRef<'_>],
    ) -> Result<(), IngestError> {
        st.report.rows_read += 1;
        let mapping = self.mapping;
        for (f, &s) in mapping.filters.iter().zip(&self.filter_slots) {
            if !f.keeps(&cells.get(s).unwrap_or(&CellRef::Empty).text()) {
                st.report.filtered += 1;
                // Problems the reader noted for this row (encoding) go with it.
                self.row_warnings.clear();
                return self.after_row(st);
            }
        }
        let table = self.table;
        let mut values = vec![Value::Null; table.fields().len()];
        let field_slots = std::mem::take(&mut self.field_slots);
        for (fm, slots) in mapping.fields.iter().zip(&field_slots) {
            let outcome = self.eval_field(fm, slots, cells, row, st, line);
            let (raw, issue) = match outcome {
                FieldOutcome::Value(v) => {
                    if Some(fm.index) == self.nik_field && !v.is_null() {
                        self.nik_present += 1;
                        self.nik_valid += 1;
                    }
                    values[fm.index] = v;
                    continue;
                }
                FieldOutcome::Problem(raw, issue) => (raw, issue),
            };
            if Some(fm.index) == self.nik_field && !raw.trim().is_empty() {
                self.nik_present += 1;
            }
            let p = Problem {
                file: st.path.clone(),
                row,
                line,
                field: fm.field.to_owned(),
                raw_value: cut(&raw),
                code: issue.code,
                message: issue.message(self.opts.lang).to_owned(),
            };
            if fm.required {
                self.row_problems.push(p);
            } else {
                self.row_warnings.push(p);
            }
        }
        self.field_slots = field_slots;
        if self.row_problems.is_empty() && self.opts.check_duplicates {
            if let Some(key) = self.key_of(&values) {
                let here = pack(st.index, row);
                let first = match key {
                    Key::Exact(k) => match self.seen_exact.entry(k) {
                        std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(here);
                            None
                        }
                    },
                    Key::Hashed(k) => match self.seen_hashed.entry(k) {
                        std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(here);
                            None
                        }
                    },
                };
                if let Some(first) = first {
                    let (ffile, frow) = unpack(first);
                    let lang = self.opts.lang;
                    let where_ = if ffile == st.index {
                        format!("{} {frow}", lang.pick("baris", "row"))
                    } else {
                        format!(
                            "{} {frow} {} {}",
                            lang.pick("baris", "row"),
                            lang.pick("dari", "of"),
                            self.file_paths[ffile]
                        )
                    };
                    let key_text: Vec<String> = self
                        .key_fields
                        .iter()
                        .map(|&i| value_text(&values[i]))
                        .collect();
                    let names = table.key().join("+");
                    self.duplicate_keys += 1;
                    self.row_problems.push(Problem {
                        file: st.path.clone(),
                        row,
                        line,
                        field: names.clone(),
                        raw_value: cut(&key_text.join("+")),
                        code: "DUPLICATE_KEY",
                        message: if lang.is_en() {
                            format!(
                                "{names} {} already appeared in {where_}; the first row is kept",
                                key_text.join("+")
                            )
                        } else {
                            format!(
                                "{names} {} sudah ada di {where_}; baris pertama yang dipakai",
                                key_text.join("+")
                            )
                        },
                    });
                }
            }
        }
        if !self.row_problems.is_empty() {
            st.report.rejected += 1;
            // Warnings of a rejected row are reported as rejects too: nothing is lost.
            for p in std::mem::take(&mut self.row_problems) {
                self.record_problem(p, true, true);
            }
            for p in std::mem::take(&mut self.row_warnings) {
                self.record_problem(p, true, false);
            }
        } else {
            st.report.loaded += 1;
            for (i, v) in values.iter().enumerate() {
                if !v.is_null() {
                    self.filled[i] += 1;
                }
            }
            if !self.row_warnings.is_empty() {
                st.report.warned += 1;
                for p in std::mem::take(&mut self.row_warnings) {
                    self.record_problem(p, false, true);
                }
            }
            self.batch.records.push(Record { table, values });
            self.batch.rows.push(row);
        }
        self.after_row(st)
    }

    fn key_of(&self, values: &[Value]) -> Option<Key> {
        if self.key_fields.len() == 1 {
            let v = &values[self.key_fields[0]];
            if let Value::Text(s) = v {
                if s.len() <= 18 && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                    // Exact: a leading 1 keeps leading zeros apart.
                    let mut k: u64 = 1;
                    for b in s.bytes() {
                        k = k * 10 + (b - b'0') as u64;
                    }
                    return Some(Key::Exact(k));
                }
            }
        }
        let mut h = Sha256::new();
        for &i in &self.key_fields {
            match &values[i] {
                Value::Null => return None,
                v => h.update(value_text(v).as_bytes()),
            }
            h.update([0x1f]);
        }
        let d = h.finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        Some(Key::Hashed(u128::from_be_bytes(b)))
    }

    fn eval_field(
        &mut self,
        fm: &crate::mapping::FieldMapping,
        slots: &[usize],
        cells: &[CellRef<'_>],
        row: u64,
        st: &FileState,
        line: Option<u64>,
    ) -> FieldOutcome {
        let slot_cell =
            |k: usize| -> &CellRef<'_> { cells.get(slots[k]).unwrap_or(&CellRef::Empty) };
        let ty = fm.spec.ty;
        // 1. The raw value.
        let raw: Cow<'_, str> = match &fm.source {
            FieldSource::Constant(c) => Cow::Borrowed(c.as_str()),
            FieldSource::Column(c) => {
                let _ = c;
                let cell = slot_cell(0);
                match (cell, ty) {
                    (CellRef::Date(v), FieldType::Date) | (CellRef::Number(v), FieldType::Date) => {
                        return match normalize::from_excel_serial(*v) {
                            Ok(d) => FieldOutcome::Value(Value::Text(normalize::iso_date(d))),
                            Err(e) => FieldOutcome::Problem(normalize::number_text(*v), e),
                        };
                    }
                    (CellRef::Number(v), FieldType::Nik | FieldType::Kk) => {
                        let what = if ty == FieldType::Nik { "NIK" } else { "KK" };
                        let code = if ty == FieldType::Nik {
                            "NIK_STORED_AS_NUMBER"
                        } else {
                            "KK_STORED_AS_NUMBER"
                        };
                        let shown = normalize::number_text(*v);
                        return FieldOutcome::Problem(
                            shown.clone(),
                            Issue::new(
                                code,
                                format!(
                                    "sel {what} berisi angka, bukan teks; spreadsheet hanya menyimpan 15 digit, sehingga digit terakhir bisa hilang (tertulis {shown}). Format kolom sebagai Teks lalu ketik ulang {what}"
                                ),
                                format!(
                                    "the {what} cell is a number, not text; a spreadsheet keeps only 15 significant digits, so the last digit may be lost (shown {shown}). Format the column as Text and type the {what} again"
                                ),
                            ),
                        );
                    }
                    (CellRef::Number(v), FieldType::Integer)
                        if fm.transforms.iter().all(|t| matches!(t, Transform::Trim)) =>
                    {
                        return self.check_int(
                            fm,
                            Value::Integer(*v as i64),
                            *v,
                            normalize::number_text(*v),
                        );
                    }
                    (CellRef::Bool(b), FieldType::Bool) => {
                        return FieldOutcome::Value(Value::Bool(*b));
                    }
                    _ => cell.text(),
                }
            }
            FieldSource::RegionNames { columns, levels } => {
                let mut names = Vec::with_capacity(columns.len());
                for k in 0..columns.len() {
                    let cell = slot_cell(k).text();
                    let mut v: Cow<'_, str> = Cow::Borrowed(cell.trim());
                    for t in &fm.transforms {
                        match apply(t, v) {
                            Ok(next) => v = next,
                            Err(issue) => return FieldOutcome::Problem(cell.into_owned(), issue),
                        }
                    }
                    names.push(v.trim().to_owned());
                }
                if names.iter().any(|n| n.is_empty()) {
                    // Handled as an empty value below (default, required).
                    Cow::Borrowed("")
                } else {
                    return self.region_by_names(levels, names);
                }
            }
            FieldSource::Template { columns, parts } => {
                let mut out = String::new();
                let mut empty = false;
                for part in parts {
                    match part {
                        TemplatePart::Literal(l) => out.push_str(l),
                        TemplatePart::Column { column, width } => {
                            let t = slot_cell(*column).text();
                            let t = t.trim();
                            if t.is_empty() {
                                empty = true;
                            } else if *width > t.len() {
                                if !t.bytes().all(|b| b.is_ascii_digit()) {
                                    return FieldOutcome::Problem(
                                        t.to_owned(),
                                        Issue::new(
                                            "VALUE_NOT_DIGITS",
                                            format!(
                                                "kolom {} harus berisi angka agar dapat diberi nol di depan, ditemukan {t:?}",
                                                columns[*column]
                                            ),
                                            format!(
                                                "column {} must be digits to be zero-padded, found {t:?}",
                                                columns[*column]
                                            ),
                                        ),
                                    );
                                }
                                for _ in 0..(*width - t.len()) {
                                    out.push('0');
                                }
                                out.push_str(t);
                            } else {
                                out.push_str(t);
                            }
                        }
                    }
                }
                if empty {
                    Cow::Borrowed("")
                } else {
                    Cow::Owned(out)
                }
            }
        };
        if raw.len() > self.opts.max_field_bytes {
            let len = raw.len();
            return FieldOutcome::Problem(
                raw.into_owned(),
                Issue::new(
                    "FIELD_TOO_LONG",
                    format!(
                        "nilai ini {len} bita; batasnya {} bita",
                        self.opts.max_field_bytes
                    ),
                    format!(
                        "the value is {len} bytes; the limit is {} bytes",
                        self.opts.max_field_bytes
                    ),
                ),
            );
        }
        if let Some(c) = raw
            .bytes()
            .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f)
            .then(|| {
                raw.chars()
                    .find(|c| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'))
            })
            .flatten()
        {
            return FieldOutcome::Problem(
                raw.into_owned(),
                Issue::new(
                    "VALUE_CONTROL_CHAR",
                    format!(
                        "nilai berisi karakter kendali U+{:04X}; berkas mungkin rusak",
                        c as u32
                    ),
                    format!(
                        "the value contains the control character U+{:04X}; the file may be damaged",
                        c as u32
                    ),
                ),
            );
        }
        // 2. Transforms.
        let mut v: Cow<'_, str> = Cow::Borrowed(raw.as_ref());
        for t in &fm.transforms {
            match apply(t, v) {
                Ok(next) => v = next,
                Err(issue) => return FieldOutcome::Problem(raw.into_owned(), issue),
            }
        }
        // 3. Empty: default, fallback, required.
        let mut v: Cow<'_, str> = if v.trim().is_empty() {
            match (&fm.default, fm.fallback_row_number) {
                (Some(d), _) => Cow::Owned(d.clone()),
                (None, true) => Cow::Owned(row.to_string()),
                (None, false) => {
                    if fm.required {
                        let (id, en) = match &fm.source {
                            FieldSource::Column(c) => (
                                format!("kolom {c:?} kosong"),
                                format!("column {c:?} is empty"),
                            ),
                            FieldSource::Template { columns, .. }
                            | FieldSource::RegionNames { columns, .. } => (
                                format!("salah satu kolom {columns:?} kosong"),
                                format!("one of the columns {columns:?} is empty"),
                            ),
                            FieldSource::Constant(_) => {
                                ("konstantanya kosong".into(), "the constant is empty".into())
                            }
                        };
                        return FieldOutcome::Problem(
                            raw.into_owned(),
                            Issue::new(
                                "FIELD_REQUIRED_MISSING",
                                format!("{} wajib diisi, tetapi {id}", fm.field),
                                format!("{} is required but {en}", fm.field),
                            ),
                        );
                    }
                    return FieldOutcome::Value(Value::Null);
                }
            }
        } else {
            v
        };
        // 4. Type.
        let _ = (line, row);
        let text_trim = |v: &mut Cow<'_, str>| {
            let t = v.trim();
            if t.len() != v.len() {
                *v = Cow::Owned(t.to_owned());
            }
        };
        match ty {
            FieldType::Text => FieldOutcome::Value(Value::Text(v.into_owned())),
            FieldType::Nik | FieldType::Kk => {
                text_trim(&mut v);
                let checked = if ty == FieldType::Nik {
                    normalize::check_nik(&v)
                } else {
                    normalize::check_kk(&v)
                };
                self.checked(fm, st, row, line, raw.as_ref(), checked)
            }
            FieldType::Region => {
                text_trim(&mut v);
                let checked = match self.regions.get(v.as_ref()) {
                    Some(c) => c.clone(),
                    None => {
                        let c = normalize::check_region(&v);
                        if self.regions.len() >= 200_000 {
                            self.regions.clear();
                        }
                        self.regions.insert(v.to_string(), c.clone());
                        c
                    }
                };
                self.checked(fm, st, row, line, raw.as_ref(), checked)
            }
            FieldType::Date => match normalize::parse_date(&v, fm.date_format) {
                Ok(d) => FieldOutcome::Value(Value::Text(normalize::iso_date(d))),
                Err(e) => FieldOutcome::Problem(raw.into_owned(), e),
            },
            FieldType::Integer => match normalize::parse_integer(&v) {
                Ok(i) => self.check_int(fm, Value::Integer(i), i as f64, raw.into_owned()),
                Err(e) => FieldOutcome::Problem(raw.into_owned(), e),
            },
            FieldType::Bool => match normalize::parse_bool(&v) {
                Ok(b) => FieldOutcome::Value(Value::Bool(b)),
                Err(e) => FieldOutcome::Problem(raw.into_owned(), e),
            },
        }
    }

    /// The code of the one region the names designate; a problem naming the level when the
    /// names fit none or several (never a guess).
    fn region_by_names(
        &mut self,
        levels: &[sinergi_model::Level],
        names: Vec<String>,
    ) -> FieldOutcome {
        let shown = names.join(" / ");
        let found = match self.region_names.get(&shown) {
            Some(r) => r.clone(),
            None => {
                let pairs: Vec<(sinergi_model::Level, &str)> = levels
                    .iter()
                    .copied()
                    .zip(names.iter().map(String::as_str))
                    .collect();
                let r = sinergi_model::wilayah()
                    .resolve_names(&pairs)
                    .map(|r| r.code.digits())
                    .map_err(|e| Issue::new(e.code(), e.message(Lang::Id), e.message(Lang::En)));
                if self.region_names.len() >= 200_000 {
                    self.region_names.clear();
                }
                self.region_names.insert(shown.clone(), r.clone());
                r
            }
        };
        match found {
            Ok(code) => FieldOutcome::Value(Value::Text(code)),
            Err(issue) => FieldOutcome::Problem(shown, issue),
        }
    }

    fn check_int(
        &self,
        fm: &crate::mapping::FieldMapping,
        value: Value,
        as_f64: f64,
        raw: String,
    ) -> FieldOutcome {
        if as_f64.fract() != 0.0 || !as_f64.is_finite() {
            return FieldOutcome::Problem(
                raw.clone(),
                Issue::new(
                    "NUMBER_NOT_WHOLE",
                    format!("{raw:?} memiliki pecahan; yang diharapkan bilangan bulat"),
                    format!("{raw:?} has a fraction; a whole number is expected"),
                ),
            );
        }
        let lo = fm.min.map(|m| as_f64 < m as f64).unwrap_or(false);
        let hi = fm.max.map(|m| as_f64 > m as f64).unwrap_or(false);
        if lo || hi {
            return FieldOutcome::Problem(
                raw.clone(),
                Issue::new(
                    "NUMBER_OUT_OF_RANGE",
                    format!(
                        "{raw} di luar rentang yang diizinkan {}..={}",
                        fm.min.map(|m| m.to_string()).unwrap_or_default(),
                        fm.max.map(|m| m.to_string()).unwrap_or_default()
                    ),
                    format!(
                        "{raw} is outside the allowed range {}..={}",
                        fm.min.map(|m| m.to_string()).unwrap_or_default(),
                        fm.max.map(|m| m.to_string()).unwrap_or_default()
                    ),
                ),
            );
        }
        FieldOutcome::Value(value)
    }

    fn checked(
        &mut self,
        fm: &crate::mapping::FieldMapping,
        st: &FileState,
        row: u64,
        line: Option<u64>,
        raw: &str,
        c: normalize::Checked,
    ) -> FieldOutcome {
        for w in c.warnings {
            self.row_warnings.push(Problem {
                file: st.path.clone(),
                row,
                line,
                field: fm.field.to_owned(),
                raw_value: cut(raw),
                code: w.code,
                message: w.message(self.opts.lang).to_owned(),
            });
        }
        match c.value {
            Some(v) => FieldOutcome::Value(Value::Text(v)),
            None => {
                let mut errors = c.errors.into_iter();
                let first = errors.next().unwrap_or_else(|| {
                    Issue::new("VALUE_INVALID", "nilai tidak sah", "the value is not valid")
                });
                // Further errors of the same value go with the first one's message.
                let rest: Vec<Issue> = errors.collect();
                let join = |lang: Lang, first: &str| {
                    if rest.is_empty() {
                        first.to_owned()
                    } else {
                        let more: Vec<String> = rest
                            .iter()
                            .map(|e| format!("{}: {}", e.code, e.message(lang)))
                            .collect();
                        format!("{first}; {} {}", lang.pick("juga", "also"), more.join("; "))
                    }
                };
                FieldOutcome::Problem(
                    raw.to_owned(),
                    Issue::new(
                        first.code,
                        join(Lang::Id, &first.message_id),
                        join(Lang::En, &first.message_en),
                    ),
                )
            }
        }
    }

    pub(crate) fn finish(self) -> Result<IngestReport, IngestError> {
        let rows_read: u64 = self.files.iter().map(|f| f.rows_read).sum();
        let loaded: u64 = self.files.iter().map(|f| f.loaded).sum();
        let rejected: u64 = self.files.iter().map(|f| f.rejected).sum();
        let filtered: u64 = self.files.iter().map(|f| f.filtered).sum();
        if rows_read != loaded + rejected + filtered {
            return Err(IngestError::Invariant(format!(
                "rows read {rows_read} != loaded {loaded} + rejected {rejected} + filtered {filtered}"
            )));
        }
        let table = self.table;
        let completeness = table
            .fields()
            .iter()
            .zip(&self.filled)
            .map(|(f, &n)| FieldCompleteness {
                field: f.name,
                filled: n,
                share: if loaded == 0 {
                    0.0
                } else {
                    n as f64 / loaded as f64
                },
            })
            .collect();
        let nik_validity = self.nik_field.map(|i| NikValidity {
            field: table.fields()[i].name,
            present: self.nik_present,
            valid: self.nik_valid,
            rate: if self.nik_present == 0 {
                0.0
            } else {
                self.nik_valid as f64 / self.nik_present as f64
            },
        });
        Ok(IngestReport {
            source: self.mapping.source.clone(),
            table: table.name(),
            mapping: self.mapping.origin.clone(),
            rows_read,
            loaded,
            rejected,
            filtered,
            warned: self.files.iter().map(|f| f.warned).sum(),
            blank_rows: self.files.iter().map(|f| f.blank_rows).sum(),
            files: self.files,
            duplicate_keys: self.duplicate_keys,
            reject_codes: self.reject_codes,
            warning_codes: self.warning_codes,
            completeness,
            nik_validity,
            first_rejects: self.first_rejects,
            first_warnings: self.first_warnings,
            warnings_not_written: self.warnings_not_written.values().sum(),
            warnings_not_written_codes: self.warnings_not_written,
            warnings_cap: (self.opts.max_warnings != u64::MAX).then_some(self.opts.max_warnings),
        })
    }
}

/// Keys are exact digits or already SHA-256 output: a multiply-xorshift mix is enough and
/// much cheaper than SipHash on the 10-million-row path.
#[derive(Clone, Copy, Default)]
pub(crate) struct KeyHasher;

pub(crate) struct KeyHash(u64);

impl std::hash::BuildHasher for KeyHasher {
    type Hasher = KeyHash;
    fn build_hasher(&self) -> KeyHash {
        KeyHash(0)
    }
}

impl std::hash::Hasher for KeyHash {
    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(29) ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_u128(&mut self, v: u128) {
        self.write_u64(v as u64);
        self.write_u64((v >> 64) as u64);
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Text(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
    }
}

fn apply<'a>(t: &Transform, v: Cow<'a, str>) -> Result<Cow<'a, str>, Issue> {
    Ok(match t {
        Transform::Trim => match v {
            Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
            Cow::Owned(s) => {
                let t = s.trim();
                if t.len() == s.len() {
                    Cow::Owned(s)
                } else {
                    Cow::Owned(t.to_owned())
                }
            }
        },
        Transform::Upper => {
            if v.is_ascii() {
                if v.bytes().any(|b| b.is_ascii_lowercase()) {
                    Cow::Owned(v.to_ascii_uppercase())
                } else {
                    v
                }
            } else if v.chars().any(|c| c.is_lowercase()) {
                Cow::Owned(v.to_uppercase())
            } else {
                v
            }
        }
        Transform::Lower => {
            if v.chars().any(|c| c.is_uppercase()) {
                Cow::Owned(v.to_lowercase())
            } else {
                v
            }
        }
        Transform::CollapseSpaces => {
            let t = v.trim();
            let needs = t.len() != v.len()
                || t.as_bytes()
                    .windows(2)
                    .any(|w| w[0].is_ascii_whitespace() && w[1].is_ascii_whitespace())
                || t.chars().any(|c| c.is_whitespace() && c != ' ');
            if needs {
                Cow::Owned(t.split_whitespace().collect::<Vec<_>>().join(" "))
            } else {
                v
            }
        }
        Transform::Nik => {
            let t = v.trim().trim_start_matches('\'');
            if t.bytes().all(|b| b.is_ascii_digit()) {
                if t.len() == v.len() {
                    v
                } else {
                    Cow::Owned(t.to_owned())
                }
            } else {
                Cow::Owned(
                    t.chars()
                        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
                        .collect(),
                )
            }
        }
        Transform::DigitsOnly => {
            if v.bytes().all(|b| b.is_ascii_digit()) {
                v
            } else {
                Cow::Owned(v.chars().filter(char::is_ascii_digit).collect())
            }
        }
        Transform::Substring { start, len } => {
            let mut chars = v.chars().skip(*start);
            let out: String = match len {
                Some(n) => chars.by_ref().take(*n).collect(),
                None => chars.collect(),
            };
            if out.len() == v.len() {
                v
            } else {
                Cow::Owned(out)
            }
        }
        Transform::Replace { from, to } => {
            if v.contains(from.as_str()) {
                Cow::Owned(v.replace(from.as_str(), to))
            } else {
                v
            }
        }
        Transform::Map { map, unmapped } => {
            if v.is_empty() {
                return Ok(v);
            }
            match map.get(v.as_ref()) {
                Some(m) => Cow::Owned(m.clone()),
                None => match unmapped {
                    Unmapped::Keep => v,
                    Unmapped::Reject => {
                        let mut keys: Vec<&String> = map.keys().collect();
                        keys.sort();
                        let known = keys
                            .iter()
                            .map(|k| format!("{k:?}"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        return Err(Issue::new(
                            "VALUE_NOT_IN_MAP",
                            format!("{v:?} bukan salah satu nilai yang dikenal: {known}"),
                            format!("{v:?} is not one of the mapped values: {known}"),
                        ));
                    }
                },
            }
        }
        Transform::Contains { rules, unmapped } => {
            if v.is_empty() {
                return Ok(v);
            }
            match rules.iter().find(|(needle, _)| v.contains(needle.as_str())) {
                Some((_, r)) => Cow::Owned(r.clone()),
                None => match unmapped {
                    Unmapped::Keep => v,
                    Unmapped::Reject => {
                        let known = rules
                            .iter()
                            .map(|(n, _)| format!("{n:?}"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        return Err(Issue::new(
                            "VALUE_NOT_IN_MAP",
                            format!("{v:?} tidak memuat satu pun dari: {known}"),
                            format!("{v:?} contains none of: {known}"),
                        ));
                    }
                },
            }
        }
    })
}
