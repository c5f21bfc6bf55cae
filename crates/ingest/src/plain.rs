//! Plain tables: a CSV or XLSX file read as a header plus rows of text, without a mapping.
//!
//! For tools whose own configuration names the columns (`sinergi link`). The file kind is
//! sniffed (a ZIP container is a workbook; `.xlsx`/`.xlsm` names are workbooks; everything
//! else is delimited text). Text files go through the same opening as mapped CSV: empty and
//! binary files are refused, a BOM decides the encoding, otherwise UTF-8 with a Windows-1252
//! fallback per field. The delimiter is sniffed among `,` `;` `|` and TAB unless given.
//!
//! ```no_run
//! use sinergi_ingest::plain::{PlainOptions, PlainTable};
//! let table = PlainTable::open("daftar.csv".as_ref(), &PlainOptions::default())?;
//! let cols = table.header().resolve(&["nama", "tgl_lahir"])?;
//! let summary = table.rows(
//!     &mut |row| {
//!         println!("row {}: {} {}", row.row, row.get(cols[0]), row.get(cols[1]));
//!         Ok(())
//!     },
//!     &mut |_done, _total| {},
//! )?;
//! println!("{} rows", summary.rows);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Row numbers are what a spreadsheet program shows: 1-based, counting the header, the rows
//! above it and blank rows. Rows that cannot be read as the header's columns (a different
//! number of fields, an unclosed quote) are not handed on: they are counted and reported as
//! [`Problem`]s with the codes `ROW_RAGGED` and `ROW_QUOTE_UNBALANCED`, as in mapped reads.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use calamine::{DataRef, Reader, Xlsx};

use crate::mapping::{Encoding, column_key};
use crate::report::{Problem, cut};
use crate::{IngestError, SinkError, normalize, sniff};

/// Delimiters tried when sniffing, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'|', b'\t'];
/// Bytes of decoded text looked at to sniff the delimiter.
const SNIFF_BYTES: u64 = 64 * 1024;
/// Most lines one record may span before it is taken for an unclosed quote.
const MAX_RECORD_LINES: u64 = 100;
/// Rows searched for the header.
const HEADER_SEARCH_ROWS: u64 = 50;
/// Most problems kept as examples in [`PlainSummary::problems`].
const MAX_PROBLEMS: usize = 1000;
/// Rows between two progress calls.
const PROGRESS_EVERY: u64 = 4096;

/// How to read a plain table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlainOptions {
    /// Worksheet of a workbook (compared case- and space-insensitively); `None` = the first.
    pub sheet: Option<String>,
    /// Field delimiter of a text file; `None` = sniff among `,` `;` `|` TAB.
    pub delimiter: Option<u8>,
    /// 1-based header row; `None` = the first non-blank row.
    pub header_row: Option<u64>,
}

/// What kind of file the table came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlainFormat {
    /// Delimited text.
    Csv {
        /// The delimiter used.
        delimiter: u8,
        /// The encoding detected (`utf-8`, `windows-1252`, `utf-16le`, `utf-16be`).
        encoding: &'static str,
    },
    /// An Excel workbook.
    Xlsx {
        /// The worksheet read.
        sheet: String,
    },
}

/// The header of a plain table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainHeader {
    /// The file, as given.
    pub file: String,
    /// Column names, trimmed, without trailing empty ones.
    pub columns: Vec<String>,
    /// 1-based row of the header.
    pub row: u64,
    /// The file's kind.
    pub format: PlainFormat,
    /// Size of the file in bytes.
    pub bytes: u64,
}

impl PlainHeader {
    /// Index of the column named `name`, compared as mappings compare names
    /// ([`column_key`]: case-insensitive, whitespace runs collapsed); when no column has that
    /// name, `_` and spaces count as the same (`tgl_lahir` finds `Tgl Lahir`).
    pub fn position(&self, name: &str) -> Option<usize> {
        let k = column_key(name);
        let loose = |s: &str| column_key(&s.replace('_', " "));
        self.columns
            .iter()
            .position(|c| column_key(c) == k)
            .or_else(|| {
                let k = loose(name);
                self.columns.iter().position(|c| loose(c) == k)
            })
    }

    /// Indexes of `names`; when any is missing, [`IngestError::ColumnMissing`] naming every
    /// missing one and listing the columns found.
    pub fn resolve(&self, names: &[&str]) -> Result<Vec<usize>, IngestError> {
        let found: Vec<Option<usize>> = names.iter().map(|n| self.position(n)).collect();
        let missing: Vec<String> = names
            .iter()
            .zip(&found)
            .filter(|(_, i)| i.is_none())
            .map(|(n, _)| n.to_string())
            .collect();
        if missing.is_empty() {
            return Ok(found.into_iter().flatten().collect());
        }
        Err(IngestError::ColumnMissing {
            file: self.file.clone(),
            missing,
            found: self
                .columns
                .iter()
                .filter(|c| !c.is_empty())
                .cloned()
                .collect(),
            hint: None,
        })
    }
}

/// One data row.
#[derive(Debug, Clone, Copy)]
pub struct PlainRow<'a> {
    /// 1-based spreadsheet row.
    pub row: u64,
    /// For text files, the 1-based line where the record starts.
    pub line: Option<u64>,
    /// One value per header column (missing trailing cells are empty).
    pub cells: &'a [String],
}

impl<'a> PlainRow<'a> {
    /// The value of column `i`, or `""`.
    pub fn get(&self, i: usize) -> &'a str {
        self.cells.get(i).map(String::as_str).unwrap_or("")
    }
}

/// What a read saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlainSummary {
    /// Data rows handed on.
    pub rows: u64,
    /// Blank rows after the header (not handed on).
    pub blank_rows: u64,
    /// Rows not handed on because they could not be read (see `problems`).
    pub skipped_rows: u64,
    /// Examples of the problems, at most 1000, in file order.
    pub problems: Vec<Problem>,
}

impl PlainSummary {
    fn skip(
        &mut self,
        file: &str,
        row: u64,
        line: Option<u64>,
        raw: &str,
        code: &'static str,
        message: String,
    ) {
        self.skipped_rows += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                file: file.to_owned(),
                row,
                line,
                field: String::new(),
                raw_value: cut(raw),
                code,
                message,
            });
        }
    }
}

/// A plain table whose header has been read; [`PlainTable::rows`] streams the rest.
pub struct PlainTable {
    header: PlainHeader,
    source: Source,
}

enum Source {
    Csv {
        cursor: Box<TextRows>,
        width: usize,
    },
    Xlsx {
        workbook: Box<Xlsx<BufReader<File>>>,
        /// 0-based row of the header.
        header_row: u32,
    },
}

impl PlainTable {
    /// Opens `path` and reads its header. Errors: unreadable, empty or binary files, a
    /// workbook that cannot be read, a sheet that is not there.
    pub fn open(path: &Path, opts: &PlainOptions) -> Result<PlainTable, IngestError> {
        let file = path.display().to_string();
        if is_workbook(path, &file)? {
            open_xlsx(path, &file, opts)
        } else {
            open_csv(path, &file, opts)
        }
    }

    /// The header.
    pub fn header(&self) -> &PlainHeader {
        &self.header
    }

    /// Streams the data rows to `on_row` in file order; `progress` gets (bytes done, bytes in
    /// the file) now and then. An error from `on_row` stops the read
    /// ([`IngestError::Sink`]).
    pub fn rows(
        self,
        on_row: &mut dyn FnMut(PlainRow<'_>) -> Result<(), SinkError>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<PlainSummary, IngestError> {
        let PlainTable { header, source } = self;
        match source {
            Source::Csv { cursor, width } => csv_rows(&header, *cursor, width, on_row, progress),
            Source::Xlsx {
                mut workbook,
                header_row,
            } => xlsx_rows(&header, &mut workbook, header_row, on_row, progress),
        }
    }
}

/// Every data row of a table: (spreadsheet row, cells).
pub type AllRows = Vec<(u64, Vec<String>)>;

/// Reads every row of `path` into memory: the header and (row, cells) pairs. For small files
/// and tests.
pub fn read_all(
    path: &Path,
    opts: &PlainOptions,
) -> Result<(PlainHeader, AllRows, PlainSummary), IngestError> {
    let table = PlainTable::open(path, opts)?;
    let header = table.header().clone();
    let mut rows = Vec::new();
    let summary = table.rows(
        &mut |r| {
            rows.push((r.row, r.cells.to_vec()));
            Ok(())
        },
        &mut |_, _| {},
    )?;
    Ok((header, rows, summary))
}

fn is_workbook(path: &Path, file: &str) -> Result<bool, IngestError> {
    let mut head = [0u8; 4];
    let mut f = File::open(path).map_err(crate::io_err(file))?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]).map_err(crate::io_err(file))? {
            0 => break,
            k => n += k,
        }
    }
    if head[..n] == *b"PK\x03\x04" {
        return Ok(true);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(matches!(ext.as_deref(), Some("xlsx" | "xlsm")))
}

// ---------------------------------------------------------------------------------------------
// Delimited text

/// Reads records with csv-core, seeing every consumed byte so that rows and lines stay exact
/// across CRLF, blank lines and quoted line breaks (as the mapped CSV reader does).
struct TextRows {
    input: BufReader<Box<dyn Read + Send>>,
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    newlines: u64,
    prev_end_line: u64,
    /// Spreadsheet row of the last record.
    row: u64,
    /// Bytes consumed of the decoded stream.
    consumed: u64,
}

impl TextRows {
    fn new(reader: Box<dyn Read + Send>, delimiter: u8) -> TextRows {
        TextRows {
            input: BufReader::with_capacity(256 * 1024, reader),
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            len: 0,
            newlines: 0,
            prev_end_line: 0,
            row: 0,
            consumed: 0,
        }
    }

    fn field(&self, i: usize) -> &[u8] {
        if i >= self.len {
            return &[];
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.out[start..self.ends[i]]
    }

    fn text(&self, i: usize) -> String {
        let b = self.field(i);
        match std::str::from_utf8(b) {
            Ok(s) => s.to_owned(),
            Err(_) => encoding_rs::WINDOWS_1252.decode(b).0.into_owned(),
        }
    }

    fn raw(&self) -> String {
        let end = if self.len == 0 {
            0
        } else {
            self.ends[self.len - 1]
        };
        String::from_utf8_lossy(&self.out[..end.min(800)]).into_owned()
    }

    fn is_blank(&self) -> bool {
        (0..self.len).all(|i| self.field(i).iter().all(u8::is_ascii_whitespace))
    }

    /// The next record: (start line, lines spanned, blank lines skipped before it), or
    /// `None` at the end.
    fn next(&mut self, file: &str) -> Result<Option<(u64, u64, u64)>, IngestError> {
        use std::io::BufRead;
        let (mut outlen, mut endlen) = (0usize, 0usize);
        let base = self.newlines;
        let (mut pre, mut post) = (0u64, 0u64);
        let mut started = false;
        loop {
            let input = self.input.fill_buf().map_err(crate::io_err(file))?;
            let (res, nin, nout, nend) =
                self.core
                    .read_record(input, &mut self.out[outlen..], &mut self.ends[endlen..]);
            let consumed = &input[..nin];
            let mut i = 0;
            while !started && i < consumed.len() {
                match consumed[i] {
                    b'\n' => pre += 1,
                    b'\r' => {}
                    _ => started = true,
                }
                if !started {
                    i += 1;
                }
            }
            post += consumed[i..].iter().filter(|&&b| b == b'\n').count() as u64;
            self.input.consume(nin);
            self.consumed += nin as u64;
            outlen += nout;
            endlen += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    self.len = endlen;
                    break;
                }
                csv_core::ReadRecordResult::End => {
                    self.newlines = base + pre + post;
                    self.len = 0;
                    return Ok(None);
                }
            }
        }
        self.newlines = base + pre + post;
        let start = base + pre + 1;
        let end = if self.len == 0 {
            0
        } else {
            self.ends[self.len - 1]
        };
        let inner = self.out[..end].iter().filter(|&&b| b == b'\n').count() as u64;
        let blank = start.saturating_sub(self.prev_end_line + 1);
        self.prev_end_line = start + inner;
        self.row += blank + 1;
        Ok(Some((start, inner + 1, blank)))
    }
}

/// Counts `delimiter` outside double quotes in one line.
fn count_outside_quotes(line: &[u8], delimiter: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            n += 1;
        }
    }
    n
}

/// The delimiter of a text sample: among the candidates present in the first non-blank line,
/// the one whose count repeats on the most following lines, then the most frequent, then the
/// first in `,` `;` `|` TAB. `,` when none occurs (a one-column file).
pub fn sniff_delimiter(sample: &[u8]) -> u8 {
    let mut lines: Vec<&[u8]> = sample
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(21)
        .collect();
    if lines.len() > 1 && sample.len() as u64 >= SNIFF_BYTES {
        lines.pop(); // possibly cut
    }
    let Some((head, rest)) = lines.split_first() else {
        return b',';
    };
    let mut best: Option<(usize, usize, u8)> = None;
    for d in CANDIDATES {
        let h = count_outside_quotes(head, d);
        if h == 0 {
            continue;
        }
        let same = rest
            .iter()
            .filter(|l| count_outside_quotes(l, d) == h)
            .count();
        if best.is_none_or(|(s, n, _)| (same, h) > (s, n)) {
            best = Some((same, h, d));
        }
    }
    best.map_or(b',', |(_, _, d)| d)
}

fn open_csv(path: &Path, file: &str, opts: &PlainOptions) -> Result<PlainTable, IngestError> {
    let opened = sniff::open_text(path, file, Encoding::Auto, false)?;
    let (encoding, size) = (opened.encoding, opened.size);
    let mut reader = opened.reader;
    let mut sample = Vec::new();
    (&mut reader)
        .take(SNIFF_BYTES)
        .read_to_end(&mut sample)
        .map_err(crate::io_err(file))?;
    let delimiter = opts.delimiter.unwrap_or_else(|| sniff_delimiter(&sample));
    let reader: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(sample).chain(reader));
    let mut cursor = Box::new(TextRows::new(reader, delimiter));
    loop {
        if cursor.next(file)?.is_none()
            || cursor.row > HEADER_SEARCH_ROWS.max(opts.header_row.unwrap_or(0))
        {
            return Err(IngestError::Empty {
                file: file.to_owned(),
            });
        }
        let take = match opts.header_row {
            Some(n) => cursor.row >= n,
            None => !cursor.is_blank(),
        };
        if take {
            break;
        }
    }
    let mut columns: Vec<String> = (0..cursor.len)
        .map(|i| {
            cursor
                .text(i)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_owned()
        })
        .collect();
    while columns.last().is_some_and(String::is_empty) {
        columns.pop();
    }
    if columns.is_empty() {
        return Err(IngestError::Empty {
            file: file.to_owned(),
        });
    }
    let width = columns.len();
    Ok(PlainTable {
        header: PlainHeader {
            file: file.to_owned(),
            columns,
            row: cursor.row,
            format: PlainFormat::Csv {
                delimiter,
                encoding,
            },
            bytes: size,
        },
        source: Source::Csv { cursor, width },
    })
}

fn csv_rows(
    header: &PlainHeader,
    mut cur: TextRows,
    width: usize,
    on_row: &mut dyn FnMut(PlainRow<'_>) -> Result<(), SinkError>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<PlainSummary, IngestError> {
    let file = header.file.as_str();
    let delimiter = match header.format {
        PlainFormat::Csv { delimiter, .. } => delimiter,
        PlainFormat::Xlsx { .. } => b',',
    };
    let mut summary = PlainSummary::default();
    let mut cells: Vec<String> = Vec::with_capacity(width);
    let mut seen = 0u64;
    progress(0, header.bytes);
    while let Some((start, span, blank)) = cur.next(file)? {
        seen += 1;
        summary.blank_rows += blank;
        if seen % PROGRESS_EVERY == 0 {
            progress(cur.consumed.min(header.bytes), header.bytes);
        }
        let (row, line) = (cur.row, Some(start));
        if cur.is_blank() {
            summary.blank_rows += 1;
            continue;
        }
        if span > MAX_RECORD_LINES {
            let raw = cur.raw();
            summary.skip(
                file,
                row,
                line,
                &raw,
                "ROW_QUOTE_UNBALANCED",
                format!("the record starting at line {start} spans {span} lines; a quote (\") is probably not closed"),
            );
            continue;
        }
        let n = cur.len;
        let extra_empty =
            n > width && (width..n).all(|i| cur.field(i).iter().all(u8::is_ascii_whitespace));
        if n != width && !extra_empty {
            let raw = cur.raw();
            summary.skip(
                file,
                row,
                line,
                &raw,
                "ROW_RAGGED",
                format!(
                    "the row has {n} fields but the header has {width}; a delimiter ({}) inside an unquoted value, or a value missing?",
                    if delimiter == b'\t' { "TAB".to_string() } else { (delimiter as char).to_string() }
                ),
            );
            continue;
        }
        cells.clear();
        cells.extend((0..width).map(|i| cur.text(i).trim().to_owned()));
        summary.rows += 1;
        on_row(PlainRow {
            row,
            line,
            cells: &cells,
        })
        .map_err(IngestError::Sink)?;
    }
    progress(header.bytes, header.bytes);
    Ok(summary)
}

// ---------------------------------------------------------------------------------------------
// Workbooks

fn xlsx_err(file: &str, e: impl std::fmt::Display) -> IngestError {
    IngestError::Xlsx {
        file: file.to_owned(),
        message: format!("{e} (is this an .xlsx workbook?)"),
    }
}

fn cell_text(d: &DataRef<'_>) -> String {
    match d {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.trim().to_owned(),
        DataRef::SharedString(s) => s.trim().to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => normalize::number_text(*f),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => {
            if dt.is_datetime() {
                normalize::from_excel_serial(dt.as_f64())
                    .map(normalize::iso_date)
                    .unwrap_or_else(|_| normalize::number_text(dt.as_f64()))
            } else {
                normalize::number_text(dt.as_f64())
            }
        }
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.trim().to_owned(),
        DataRef::Error(e) => format!("#{e}"),
    }
}

/// Receives a sheet row (0-based row, cells); returns whether to go on.
type RowVisitor<'a> = dyn FnMut(u32, &mut Vec<String>) -> Result<bool, IngestError> + 'a;

/// Streams a sheet's rows: (0-based row, cells as text), rows without cells skipped.
fn for_each_row(
    workbook: &mut Xlsx<BufReader<File>>,
    sheet: &str,
    file: &str,
    f: &mut RowVisitor<'_>,
) -> Result<(), IngestError> {
    let mut cells = workbook
        .worksheet_cells_reader(sheet)
        .map_err(|e| xlsx_err(file, e))?;
    let mut current: Option<u32> = None;
    let mut out: Vec<String> = Vec::new();
    while let Some(c) = cells.next_cell().map_err(|e| xlsx_err(file, e))? {
        let (r, col) = c.get_position();
        if current.is_some_and(|cur| cur != r) {
            let go = f(current.unwrap_or(0), &mut out)?;
            out.clear();
            if !go {
                return Ok(());
            }
        }
        current = Some(r);
        let col = col as usize;
        if col > 16_384 {
            continue;
        }
        let text = cell_text(c.get_value());
        if text.is_empty() {
            continue;
        }
        if out.len() <= col {
            out.resize(col + 1, String::new());
        }
        out[col] = text;
    }
    if let Some(r) = current {
        f(r, &mut out)?;
    }
    Ok(())
}

fn open_xlsx(path: &Path, file: &str, opts: &PlainOptions) -> Result<PlainTable, IngestError> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut workbook: Xlsx<BufReader<File>> =
        calamine::open_workbook(path).map_err(|e| xlsx_err(file, e))?;
    let names = workbook.sheet_names();
    let sheet = match &opts.sheet {
        Some(want) => names
            .iter()
            .find(|s| column_key(s) == column_key(want))
            .cloned()
            .ok_or_else(|| IngestError::SheetNotFound {
                file: file.to_owned(),
                sheet: format!("{want:?}"),
                sheets: names.clone(),
            })?,
        None => names.first().cloned().ok_or_else(|| IngestError::Empty {
            file: file.to_owned(),
        })?,
    };
    let limit = HEADER_SEARCH_ROWS.max(opts.header_row.unwrap_or(0));
    let mut found: Option<(u32, Vec<String>)> = None;
    for_each_row(&mut workbook, &sheet, file, &mut |r, cells| {
        if u64::from(r) >= limit {
            return Ok(false);
        }
        let take = match opts.header_row {
            Some(n) => u64::from(r) + 1 >= n,
            None => cells.iter().any(|c| !c.is_empty()),
        };
        if take {
            found = Some((r, std::mem::take(cells)));
        }
        Ok(!take)
    })?;
    let Some((header_row, mut columns)) = found else {
        return Err(IngestError::Empty {
            file: file.to_owned(),
        });
    };
    while columns.last().is_some_and(String::is_empty) {
        columns.pop();
    }
    if columns.is_empty() {
        return Err(IngestError::Empty {
            file: file.to_owned(),
        });
    }
    Ok(PlainTable {
        header: PlainHeader {
            file: file.to_owned(),
            columns,
            row: u64::from(header_row) + 1,
            format: PlainFormat::Xlsx {
                sheet: sheet.clone(),
            },
            bytes: size,
        },
        source: Source::Xlsx {
            workbook: Box::new(workbook),
            header_row,
        },
    })
}

fn xlsx_rows(
    header: &PlainHeader,
    workbook: &mut Xlsx<BufReader<File>>,
    header_row: u32,
    on_row: &mut dyn FnMut(PlainRow<'_>) -> Result<(), SinkError>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<PlainSummary, IngestError> {
    let PlainFormat::Xlsx { sheet } = &header.format else {
        return Err(IngestError::Invariant(
            "a workbook source without a sheet".into(),
        ));
    };
    let file = header.file.as_str();
    let width = header.columns.len();
    let mut summary = PlainSummary::default();
    let mut last = header_row;
    progress(0, header.bytes);
    for_each_row(workbook, sheet, file, &mut |r, cells| {
        if r <= header_row {
            return Ok(true);
        }
        summary.blank_rows += u64::from((r - last).saturating_sub(1));
        last = r;
        cells.resize(width, String::new());
        if cells.iter().all(String::is_empty) {
            summary.blank_rows += 1;
            return Ok(true);
        }
        summary.rows += 1;
        on_row(PlainRow {
            row: u64::from(r) + 1,
            line: None,
            cells,
        })
        .map_err(IngestError::Sink)?;
        Ok(true)
    })?;
    progress(header.bytes, header.bytes);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn cells(rows: &[(u64, Vec<String>)]) -> Vec<(u64, Vec<&str>)> {
        rows.iter()
            .map(|(r, c)| (*r, c.iter().map(String::as_str).collect()))
            .collect()
    }

    #[test]
    fn sniffs_the_delimiter_among_comma_semicolon_pipe_and_tab() {
        let table: &[(&[u8], u8)] = &[
            (b"a,b,c\n1,2,3\n", b','),
            (b"a;b;c\n1;2,5;3\n", b';'),
            (b"nama;tgl\n\"Budi, S.Pd\";1990-01-01\n", b';'),
            (b"a|b\n1|2\n", b'|'),
            (b"a\tb\tc\n1\t2\t3\n", b'\t'),
            (b"\n\nNIK|NAMA\n1|x\n", b'|'),
            (b"satu kolom\nx\n", b','),
            (b"", b','),
        ];
        for (sample, want) in table {
            assert_eq!(
                sniff_delimiter(sample),
                *want,
                "{:?}",
                String::from_utf8_lossy(sample)
            );
        }
    }

    #[test]
    fn reads_a_bom_semicolon_file_with_spreadsheet_row_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "a.csv",
            "\u{feff}Nama Lengkap;Tgl Lahir\r\n\r\nSiti Aminah;1990-01-02\r\n\"Budi\r\nSantoso\";1985-12-31\r\nAgus;1970-05-05\r\n"
                .as_bytes(),
        );
        let (h, rows, s) = read_all(&p, &PlainOptions::default()).unwrap();
        assert_eq!(h.columns, ["Nama Lengkap", "Tgl Lahir"]);
        assert_eq!(h.row, 1);
        assert_eq!(
            h.format,
            PlainFormat::Csv {
                delimiter: b';',
                encoding: "utf-8"
            }
        );
        assert_eq!(h.position("  nama   LENGKAP "), Some(0));
        assert_eq!(h.position("tgl_lahir"), Some(1));
        assert_eq!(h.position("tgl"), None);
        assert_eq!(
            cells(&rows),
            vec![
                (3, vec!["Siti Aminah", "1990-01-02"]),
                (4, vec!["Budi\r\nSantoso", "1985-12-31"]),
                (5, vec!["Agus", "1970-05-05"]),
            ]
        );
        assert_eq!(s.rows, 3);
        assert_eq!(s.blank_rows, 1);
    }

    #[test]
    fn windows_1252_and_utf16_files_are_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "w.csv", b"nama,kota\nJos\xe9,Bandung\n");
        let (_, rows, _) = read_all(&p, &PlainOptions::default()).unwrap();
        assert_eq!(rows[0].1[0], "José");

        let mut utf16 = vec![0xFF, 0xFE];
        for u in "nama|kota\nSiti|Medan\n".encode_utf16() {
            utf16.extend(u.to_le_bytes());
        }
        let p = write(&dir, "u.csv", &utf16);
        let (h, rows, _) = read_all(&p, &PlainOptions::default()).unwrap();
        assert_eq!(
            h.format,
            PlainFormat::Csv {
                delimiter: b'|',
                encoding: "utf-16le"
            }
        );
        assert_eq!(rows[0].1, ["Siti", "Medan"]);
    }

    #[test]
    fn broken_rows_are_reported_not_handed_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("a,b\n1,2\n1,2,3\n4,5,,\n");
        text.push_str("\"open,6\n");
        for _ in 0..150 {
            text.push_str("x,y\n");
        }
        let p = write(&dir, "r.csv", text.as_bytes());
        let (_, rows, s) = read_all(&p, &PlainOptions::default()).unwrap();
        assert_eq!(cells(&rows), vec![(2, vec!["1", "2"]), (4, vec!["4", "5"])]);
        assert_eq!(s.skipped_rows, 2);
        let codes: Vec<(&str, u64)> = s.problems.iter().map(|p| (p.code, p.row)).collect();
        assert_eq!(codes, [("ROW_RAGGED", 3), ("ROW_QUOTE_UNBALANCED", 5)]);
    }

    #[test]
    fn missing_columns_are_named_with_the_columns_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "m.csv", b"NAMA,TGL_LAHIR\nx,y\n");
        let t = PlainTable::open(&p, &PlainOptions::default()).unwrap();
        assert_eq!(t.header().resolve(&["tgl_lahir", "nama"]).unwrap(), [1, 0]);
        let e = t.header().resolve(&["nama", "desa", "kode"]).unwrap_err();
        assert_eq!(e.code(), "MAPPING_COLUMN_MISSING");
        let msg = e.to_string();
        assert!(
            msg.contains("desa, kode") && msg.contains("NAMA, TGL_LAHIR"),
            "{msg}"
        );
    }

    #[test]
    fn empty_binary_and_old_excel_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes, code) in [
            ("e.csv", &b""[..], "FILE_EMPTY"),
            ("ws.csv", &b"  \r\n\n"[..], "FILE_EMPTY"),
            ("bom.csv", &b"\xef\xbb\xbf"[..], "FILE_EMPTY"),
            (
                "g.csv",
                &[0u8, 1, 2, 3, 200, 7, 8, 0, 0, 9, 1, 2][..],
                "FILE_NOT_TEXT",
            ),
            (
                "x.csv",
                &[0xD0, 0xCF, 0x11, 0xE0, 0, 0][..],
                "FILE_NOT_TEXT",
            ),
            ("z.xlsx", &b"PK\x03\x04garbage"[..], "XLSX_UNREADABLE"),
            ("t.xlsx", &b"nama,tgl\n"[..], "XLSX_UNREADABLE"),
        ] {
            let p = write(&dir, name, bytes);
            let e = PlainTable::open(&p, &PlainOptions::default())
                .err()
                .unwrap_or_else(|| panic!("{name} is refused"));
            assert_eq!(e.code(), code, "{name}: {e}");
        }
        let e = PlainTable::open(&dir.path().join("none.csv"), &PlainOptions::default())
            .err()
            .unwrap();
        assert_eq!(e.code(), "FILE_UNREADABLE");
    }

    #[test]
    fn a_header_row_can_be_given_to_skip_titles() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "t.csv", b"DAFTAR PENERIMA\n\nnama,umur\nA,1\n");
        let opts = PlainOptions {
            header_row: Some(3),
            ..PlainOptions::default()
        };
        let (h, rows, _) = read_all(&p, &opts).unwrap();
        assert_eq!(
            (h.row, h.columns.clone()),
            (3, vec!["nama".into(), "umur".into()])
        );
        assert_eq!(cells(&rows), vec![(4, vec!["A", "1"])]);
    }

    #[test]
    fn reads_a_workbook_by_first_or_named_sheet_with_dates_as_iso() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daftar.dat");
        let mut wb = Workbook::new();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        let s = wb.add_worksheet().set_name("Pertama").unwrap();
        s.write_string(0, 0, "Nama").unwrap();
        s.write_string(0, 1, "Tgl Lahir").unwrap();
        s.write_string(0, 2, "Kode Desa").unwrap();
        s.write_string(1, 0, " Siti ").unwrap();
        s.write_datetime_with_format(1, 1, ExcelDateTime::from_ymd(1990, 1, 2).unwrap(), &date)
            .unwrap();
        s.write_number(1, 2, 3201012001.0).unwrap();
        s.write_string(3, 0, "Budi").unwrap();
        s.write_string(3, 5, "beyond the header").unwrap();
        s.write_string(4, 4, "only beyond").unwrap();
        let s2 = wb.add_worksheet().set_name("Data Kedua").unwrap();
        s2.write_string(1, 0, "x").unwrap();
        s2.write_string(2, 0, "y").unwrap();
        wb.save(&path).unwrap();

        let (h, rows, s) = read_all(&path, &PlainOptions::default()).unwrap();
        assert_eq!(h.columns, ["Nama", "Tgl Lahir", "Kode Desa"]);
        assert_eq!(
            h.format,
            PlainFormat::Xlsx {
                sheet: "Pertama".into()
            }
        );
        assert_eq!(
            cells(&rows),
            vec![
                (2, vec!["Siti", "1990-01-02", "3201012001"]),
                (4, vec!["Budi", "", ""]),
            ]
        );
        assert_eq!(s.blank_rows, 2);

        let opts = PlainOptions {
            sheet: Some("data  kedua".into()),
            ..PlainOptions::default()
        };
        let (h, rows, _) = read_all(&path, &opts).unwrap();
        assert_eq!((h.row, h.columns.clone()), (2, vec!["x".to_string()]));
        assert_eq!(cells(&rows), vec![(3, vec!["y"])]);

        let opts = PlainOptions {
            sheet: Some("Tidak Ada".into()),
            ..PlainOptions::default()
        };
        let e = PlainTable::open(&path, &opts).err().unwrap();
        assert_eq!(e.code(), "SHEET_NOT_FOUND");
        assert!(e.to_string().contains("Data Kedua"), "{e}");
    }

    #[test]
    fn the_row_receiver_can_stop_the_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "s.csv", b"a\n1\n2\n3\n");
        let t = PlainTable::open(&p, &PlainOptions::default()).unwrap();
        let mut n = 0;
        let e = t
            .rows(
                &mut |_| {
                    n += 1;
                    Err("full".into())
                },
                &mut |_, _| {},
            )
            .unwrap_err();
        assert_eq!((n, e.code()), (1, "SINK_FAILED"));
    }

    #[test]
    fn a_huge_field_and_a_long_file_are_streamed() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = format!("a,b\n{},1\n", "x".repeat(3 << 20));
        for i in 0..20_000 {
            text.push_str(&format!("{i},{i}\n"));
        }
        let p = write(&dir, "h.csv", text.as_bytes());
        let t = PlainTable::open(&p, &PlainOptions::default()).unwrap();
        let (mut n, mut last, mut calls) = (0u64, 0u64, 0);
        let s = t
            .rows(
                &mut |r| {
                    n += 1;
                    last = r.row;
                    Ok(())
                },
                &mut |_, _| calls += 1,
            )
            .unwrap();
        assert_eq!((n, last, s.rows), (20_001, 20_002, 20_001));
        assert!(calls >= 3);
    }
}
