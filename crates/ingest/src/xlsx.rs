//! Excel workbooks, read with calamine's streaming cell reader (one row in memory at a
//! time; the workbook's shared-string table is held in memory by calamine).
//!
//! The header is found among the first 50 rows: the first row holding every required column
//! (title rows above it are skipped), or two rows together when the header is split (a
//! merged group cell above, sub-headers below). Merged header cells are filled from their
//! top-left cell, which is the only one calamine gives a value.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{DataRef, Dimensions, Reader, Xlsx, XlsxCellReader};

use crate::engine::{CellRef, Engine, FileState, Slots};
use crate::mapping::{HeaderRow, Mapping, SheetRef, XlsxFormat, column_key};
use crate::report::FileReport;
use crate::{FormatProblem, IngestError, ProgressEvent, sniff};

const HEADER_SEARCH_ROWS: usize = 50;

type Wb = Xlsx<BufReader<File>>;

fn open(path: &Path, file: &str) -> Result<Wb, IngestError> {
    // What a file given as a workbook really is, before calamine's own error says "invalid
    // Zip archive": an old .xls, a CSV renamed .xlsx, a workbook cut off while copying.
    let wrong = |problem| IngestError::WrongFormat {
        file: file.to_owned(),
        problem,
    };
    let mut head = [0u8; 512];
    let n = {
        use std::io::Read;
        let mut f = File::open(path).map_err(crate::io_err(file))?;
        let mut n = 0;
        while n < head.len() {
            let k = f.read(&mut head[n..]).map_err(crate::io_err(file))?;
            if k == 0 {
                break;
            }
            n += k;
        }
        n
    };
    let head = &head[..n];
    if head.is_empty() {
        return Err(IngestError::Empty {
            file: file.to_owned(),
        });
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(wrong(FormatProblem::OldXls));
    }
    if !head.starts_with(b"PK\x03\x04") {
        let text = head
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'));
        return Err(wrong(if text {
            FormatProblem::Text
        } else {
            FormatProblem::NotWorkbook
        }));
    }
    calamine::open_workbook::<Wb, _>(path).map_err(|e| {
        if zip_is_cut_off(path) {
            wrong(FormatProblem::Truncated)
        } else {
            xlsx_err(file, e)
        }
    })
}

/// Whether a ZIP file lacks its end-of-central-directory record (the last thing a ZIP writer
/// writes), within the 64 KiB + 22 bytes it must sit in.
fn zip_is_cut_off(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let tail = len.min(65_557);
    if f.seek(SeekFrom::Start(len - tail)).is_err() {
        return false;
    }
    let mut buf = Vec::with_capacity(tail as usize);
    if f.read_to_end(&mut buf).is_err() {
        return false;
    }
    !buf.windows(4).any(|w| w == b"PK\x05\x06")
}

fn xlsx_err(file: &str, e: impl std::fmt::Display) -> IngestError {
    IngestError::Xlsx {
        file: file.to_owned(),
        message: format!("{e} (is this an .xlsx workbook?)"),
    }
}

fn sheet_name(wb: &Wb, f: &XlsxFormat, file: &str) -> Result<String, IngestError> {
    let names = wb.sheet_names();
    let found = match &f.sheet {
        SheetRef::Name(n) => names
            .iter()
            .find(|s| column_key(s) == column_key(n))
            .cloned(),
        SheetRef::Index(i) => names.get(*i).cloned(),
    };
    found.ok_or_else(|| IngestError::SheetNotFound {
        file: file.to_owned(),
        sheet: match &f.sheet {
            SheetRef::Name(n) => format!("{n:?}"),
            SheetRef::Index(i) => format!("number {i} (0-based)"),
        },
        sheets: names,
    })
}

fn to_cell<'a>(d: DataRef<'a>) -> CellRef<'a> {
    match d {
        DataRef::Empty => CellRef::Empty,
        DataRef::String(s) => CellRef::Text(Cow::Owned(s)),
        DataRef::SharedString(s) => CellRef::Text(Cow::Borrowed(s)),
        DataRef::Int(i) => CellRef::Number(i as f64),
        DataRef::Float(f) => CellRef::Number(f),
        DataRef::Bool(b) => CellRef::Bool(b),
        DataRef::DateTime(dt) => {
            if dt.is_datetime() {
                CellRef::Date(dt.as_f64())
            } else {
                CellRef::Number(dt.as_f64())
            }
        }
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => CellRef::Text(Cow::Owned(s)),
        DataRef::Error(e) => CellRef::Text(Cow::Owned(format!("#{e}"))),
    }
}

/// Rows of a sheet, assembled from the cell stream.
struct Rows<'a> {
    cells: XlsxCellReader<'a, BufReader<File>>,
    pending: Option<(u32, u32, CellRef<'a>)>,
    done: bool,
}

impl<'a> Rows<'a> {
    /// The next row with at least one cell: (0-based row, dense cells).
    fn next(&mut self, file: &str) -> Result<Option<(u32, Vec<CellRef<'a>>)>, IngestError> {
        let mut row: Option<u32> = None;
        let mut out: Vec<CellRef<'a>> = Vec::new();
        loop {
            let next = match self.pending.take() {
                Some(p) => Some(p),
                None if self.done => None,
                None => match self.cells.next_cell().map_err(|e| xlsx_err(file, e))? {
                    Some(c) => {
                        let (r, col) = c.get_position();
                        Some((r, col, to_cell(c.get_value().clone())))
                    }
                    None => {
                        self.done = true;
                        None
                    }
                },
            };
            let Some((r, col, v)) = next else {
                return Ok(row.map(|r| (r, out)));
            };
            match row {
                Some(cur) if cur != r => {
                    self.pending = Some((r, col, v));
                    return Ok(Some((cur, out)));
                }
                _ => {
                    row = Some(r);
                    let col = col as usize;
                    if col > 16_384 {
                        continue;
                    }
                    if out.len() <= col {
                        out.resize(col + 1, CellRef::Empty);
                    }
                    out[col] = v;
                }
            }
        }
    }
}

fn text_of(c: &CellRef<'_>) -> String {
    match c {
        CellRef::Empty => String::new(),
        CellRef::Text(t) => t.trim().to_owned(),
        CellRef::Number(v) => crate::normalize::number_text(*v),
        CellRef::Int(i) => i.to_string(),
        CellRef::Bool(b) => b.to_string(),
        CellRef::Date(v) => crate::normalize::number_text(*v),
    }
}

/// Header names of row `r` with merged regions filled from their top-left cell.
fn filled_names(
    rows: &VecDeque<(u32, Vec<CellRef<'_>>)>,
    r: u32,
    merges: &[Dimensions],
) -> Vec<String> {
    let get = |rr: u32, cc: u32| -> String {
        rows.iter()
            .find(|(n, _)| *n == rr)
            .and_then(|(_, cells)| cells.get(cc as usize))
            .map(text_of)
            .unwrap_or_default()
    };
    let width = rows
        .iter()
        .filter(|(n, _)| *n == r)
        .map(|(_, c)| c.len())
        .max()
        .unwrap_or(0);
    let width = merges
        .iter()
        .filter(|m| m.start.0 <= r && r <= m.end.0)
        .map(|m| m.end.1 as usize + 1)
        .fold(width, usize::max);
    (0..width as u32)
        .map(|c| {
            match merges
                .iter()
                .find(|m| m.start.0 <= r && r <= m.end.0 && m.start.1 <= c && c <= m.end.1)
            {
                Some(m) => get(m.start.0, m.start.1),
                None => get(r, c),
            }
        })
        .collect()
}

/// Two header rows: the lower name where there is one, else the upper (vertically merged
/// cells fill both). The combined form "upper lower" is also accepted by matching.
fn two_row_names(top: &[String], bottom: &[String]) -> Vec<String> {
    let w = top.len().max(bottom.len());
    (0..w)
        .map(|c| {
            let t = top.get(c).map(String::as_str).unwrap_or("");
            let b = bottom.get(c).map(String::as_str).unwrap_or("");
            if b.is_empty() {
                t.to_owned()
            } else {
                b.to_owned()
            }
        })
        .collect()
}

fn combined_names(top: &[String], bottom: &[String]) -> Vec<String> {
    let w = top.len().max(bottom.len());
    (0..w)
        .map(|c| {
            let t = top.get(c).map(String::as_str).unwrap_or("");
            let b = bottom.get(c).map(String::as_str).unwrap_or("");
            match (t.is_empty(), b.is_empty()) {
                (false, false) if t != b => format!("{t} {b}"),
                (_, true) => t.to_owned(),
                _ => b.to_owned(),
            }
        })
        .collect()
}

/// The header: its first row (0-based), how many rows it spans, and its names.
struct Header {
    row: u32,
    rows: u32,
    names: Vec<String>,
}

/// `None` unless every required column is present; else how many mapped columns are.
fn quality(mapping: &Mapping, names: &[String]) -> Option<usize> {
    let (f, w) = Slots::score(mapping, names);
    if f < w {
        return None;
    }
    let keys: Vec<String> = names.iter().map(|n| column_key(n)).collect();
    Some(
        mapping
            .columns()
            .iter()
            .filter(|c| keys.contains(&column_key(c)))
            .count(),
    )
}

/// Picks, for each column, the first of the two-row forms that makes the mapping resolve.
fn merge_forms(mapping: &Mapping, a: Vec<String>, b: Vec<String>) -> Vec<String> {
    let wanted: Vec<String> = mapping.columns().iter().map(|c| column_key(c)).collect();
    a.into_iter()
        .zip(b)
        .map(|(x, y)| {
            if wanted.contains(&column_key(&x)) || !wanted.contains(&column_key(&y)) {
                x
            } else {
                y
            }
        })
        .collect()
}

fn find_header(
    mapping: &Mapping,
    f: &XlsxFormat,
    buffered: &VecDeque<(u32, Vec<CellRef<'_>>)>,
    merges: &[Dimensions],
    file: &str,
) -> Result<Header, IngestError> {
    let row_ids: Vec<u32> = buffered.iter().map(|(r, _)| *r).collect();
    // A candidate must hold every required column; among the one- and two-row readings of
    // a row, the one naming more of the mapping's columns wins; a row whose next row alone
    // is as good a header is a title row.
    let try_at = |r: u32, spans: Option<u8>| -> Option<Header> {
        let single = filled_names(buffered, r, merges);
        let next = filled_names(buffered, r + 1, merges);
        let two = merge_forms(
            mapping,
            two_row_names(&single, &next),
            combined_names(&single, &next),
        );
        let s1 = (spans != Some(2))
            .then(|| quality(mapping, &single))
            .flatten();
        let s2 = (spans != Some(1)).then(|| quality(mapping, &two)).flatten();
        let best = match (s1, s2) {
            (None, None) => return None,
            (Some(a), Some(b)) if b > a => (b, 2),
            (Some(a), _) => (a, 1),
            (None, Some(b)) => (b, 2),
        };
        if spans.is_none() && f.header_row == HeaderRow::Auto {
            if let Some(n) = quality(mapping, &next) {
                if n >= best.0 {
                    return None;
                }
            }
        }
        Some(Header {
            row: r,
            rows: best.1,
            names: if best.1 == 1 { single } else { two },
        })
    };
    let found = match f.header_row {
        HeaderRow::Row(n) => try_at(n - 1, f.header_rows),
        HeaderRow::Auto => row_ids.iter().find_map(|&r| try_at(r, f.header_rows)),
    };
    if let Some(h) = found {
        return Ok(h);
    }
    // Report the candidate with the most required columns.
    let candidates: Vec<u32> = match f.header_row {
        HeaderRow::Row(n) => vec![n - 1],
        HeaderRow::Auto => row_ids,
    };
    let best = candidates
        .iter()
        .map(|&r| filled_names(buffered, r, merges))
        .max_by_key(|n| Slots::score(mapping, n).0)
        .unwrap_or_default();
    match Slots::resolve(mapping, file, &best, None) {
        Err(e) => Err(e),
        Ok(_) => Err(IngestError::Empty {
            file: file.to_owned(),
        }),
    }
}

struct Prepared<'a> {
    rows: Rows<'a>,
    buffered: VecDeque<(u32, Vec<CellRef<'a>>)>,
    header: Header,
}

fn prepare<'a>(
    wb: &'a mut Wb,
    sheet: &str,
    merges: &[Dimensions],
    mapping: &Mapping,
    f: &XlsxFormat,
    file: &str,
) -> Result<Prepared<'a>, IngestError> {
    let cells = wb
        .worksheet_cells_reader(sheet)
        .map_err(|e| xlsx_err(file, e))?;
    let mut rows = Rows {
        cells,
        pending: None,
        done: false,
    };
    let limit = match f.header_row {
        HeaderRow::Row(n) => n + 1,
        HeaderRow::Auto => HEADER_SEARCH_ROWS as u32,
    };
    let mut buffered = VecDeque::new();
    while let Some((r, cells)) = rows.next(file)? {
        let stop = r >= limit;
        buffered.push_back((r, cells));
        if stop {
            break;
        }
    }
    if buffered.is_empty() {
        return Err(IngestError::Empty {
            file: file.to_owned(),
        });
    }
    let header = find_header(mapping, f, &buffered, merges, file)?;
    Ok(Prepared {
        rows,
        buffered,
        header,
    })
}

pub(crate) fn check(
    mapping: &Mapping,
    f: &XlsxFormat,
    path: &Path,
    file: &str,
) -> Result<(), IngestError> {
    let mut wb = open(path, file)?;
    let sheet = sheet_name(&wb, f, file)?;
    let merges = wb
        .merge_cells_by_sheet_name(&sheet)
        .map_err(|e| xlsx_err(file, e))?;
    let found = prepare(&mut wb, &sheet, &merges, mapping, f, file)
        .and_then(|p| Slots::resolve(mapping, file, &p.header.names, None).map(|_| ()));
    let Err(e) = found else {
        return Ok(());
    };
    if !matches!(
        e,
        IngestError::ColumnMissing { .. } | IngestError::Empty { .. }
    ) {
        return Err(e);
    }
    // The columns are not on the mapping's sheet: say which sheet has them, if one does
    // (a cover or instructions sheet in front is common in the lists Dinas Sosial send).
    let sheets = wb.sheet_names();
    for other in sheets.iter().filter(|s| **s != sheet) {
        let merges = wb
            .merge_cells_by_sheet_name(other)
            .map_err(|e| xlsx_err(file, e))?;
        let ok = prepare(&mut wb, other, &merges, mapping, f, file)
            .and_then(|p| Slots::resolve(mapping, file, &p.header.names, None).map(|_| ()))
            .is_ok();
        if ok {
            return Err(IngestError::DataOnOtherSheet {
                file: file.to_owned(),
                sheet,
                found_on: other.clone(),
                sheets,
            });
        }
    }
    Err(e)
}

pub(crate) fn read(
    engine: &mut Engine<'_>,
    f: &XlsxFormat,
    index: usize,
    path: &Path,
    file: &str,
) -> Result<(), IngestError> {
    let (sha256, size) = match engine.known_sha256(index) {
        // The caller hashed the file already: only its size is needed.
        Some(known) => (
            known,
            std::fs::metadata(path).map_err(crate::io_err(file))?.len(),
        ),
        None => sniff::hash_file(path, file)?,
    };
    (engine.progress)(ProgressEvent::FileStarted {
        file: index,
        bytes: size,
    });
    let mut wb = open(path, file)?;
    let sheet = sheet_name(&wb, f, file)?;
    let merges = wb
        .merge_cells_by_sheet_name(&sheet)
        .map_err(|e| xlsx_err(file, e))?;
    let mut p = prepare(&mut wb, &sheet, &merges, engine.mapping, f, file)?;
    let (slots, optional_missing) = Slots::resolve(engine.mapping, file, &p.header.names, None)?;
    let mut st = FileState {
        index,
        path: file.to_owned(),
        report: FileReport {
            path: file.to_owned(),
            sha256,
            bytes: size,
            encoding: "xlsx".into(),
            header_row: p.header.row as u64 + 1,
            rows_read: 0,
            loaded: 0,
            rejected: 0,
            warned: 0,
            filtered: 0,
            blank_rows: 0,
            missing_optional_columns: optional_missing,
        },
        slots,
        bytes_read: 0,
    };
    let first_data = p.header.row + p.header.rows;
    let mut last_row = first_data.saturating_sub(1);
    loop {
        let next = match p.buffered.pop_front() {
            Some(r) => Some(r),
            None => p.rows.next(file)?,
        };
        let Some((r, cells)) = next else {
            break;
        };
        if r < first_data {
            continue;
        }
        // Rows with no cells at all are blank rows between data rows.
        st.report.blank_rows += (r - last_row).saturating_sub(1) as u64;
        last_row = r;
        if cells.iter().all(CellRef::is_blank) {
            st.report.blank_rows += 1;
            continue;
        }
        let row_cells: Vec<CellRef<'_>> = st
            .slots
            .index
            .iter()
            .map(|i| {
                i.and_then(|i| cells.get(i))
                    .cloned()
                    .unwrap_or(CellRef::Empty)
            })
            .collect();
        engine.process_row(&mut st, r as u64 + 1, None, &row_cells)?;
    }
    engine.end_file(st)
}
