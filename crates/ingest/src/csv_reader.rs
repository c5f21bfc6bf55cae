//! Delimited text.
//!
//! Row numbering: `row` is the spreadsheet row (header = its row, blank lines counted, a
//! record with quoted line breaks is one row); `line` is the physical line where the record
//! starts. Blank lines and rows whose every field is empty are counted as blank rows, not data.

use std::borrow::Cow;
use std::path::Path;

use crate::engine::{CellRef, Engine, FileState, Slots};
use crate::mapping::{CsvFormat, HeaderRow, Mapping};
use crate::report::FileReport;
use crate::sniff::{self, Opened};
use crate::{IngestError, ProgressEvent};

/// Most lines one record may span before it is taken for an unbalanced quote.
const MAX_RECORD_LINES: u64 = 100;

struct Header {
    names: Vec<String>,
    /// Header length without trailing empty names.
    width: usize,
    row: u64,
    /// Spreadsheet row counter and the line expected next, after the header.
    next_line: u64,
}

/// Records per chunk sent from the reader thread.
const CHUNK_RECORDS: usize = 1024;

/// Where a record sits in the file.
struct Meta {
    blank: u64,
    start: u64,
    row: u64,
    consumed: u64,
    /// What the cursor found wrong with the record's shape, if anything.
    broken: Broken,
    /// Where its bytes start in `Chunk::data`.
    base: usize,
    /// Index of its first field end in `Chunk::ends`.
    first_end: usize,
    fields: usize,
}

/// Records split by the reader thread, owned.
#[derive(Default)]
struct Chunk {
    data: Vec<u8>,
    ends: Vec<usize>,
    meta: Vec<Meta>,
}

impl Chunk {
    fn push(&mut self, rec: &Rec, next: Next, row: u64, consumed: u64) {
        let Next {
            blank,
            start,
            broken,
        } = next;
        let base = self.data.len();
        self.data.extend_from_slice(rec.as_slice());
        let first_end = self.ends.len();
        self.ends
            .extend(rec.ends[..rec.len].iter().map(|e| base + e));
        self.meta.push(Meta {
            blank,
            start,
            row,
            consumed,
            broken,
            base,
            first_end,
            fields: rec.len,
        });
    }

    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
        self.meta.clear();
    }

    fn record(&self, k: usize) -> RecRef<'_> {
        let m = &self.meta[k];
        RecRef {
            data: &self.data,
            base: m.base,
            ends: &self.ends[m.first_end..m.first_end + m.fields],
        }
    }
}

/// A record inside a [`Chunk`].
struct RecRef<'a> {
    data: &'a [u8],
    base: usize,
    ends: &'a [usize],
}

impl<'a> RecRef<'a> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> Option<&'a [u8]> {
        if i >= self.ends.len() {
            return None;
        }
        let start = if i == 0 { self.base } else { self.ends[i - 1] };
        Some(&self.data[start..self.ends[i]])
    }

    fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.ends.len()).map(|i| self.get(i).unwrap_or_default())
    }

    fn as_slice(&self) -> &'a [u8] {
        let end = self.ends.last().copied().unwrap_or(self.base);
        &self.data[self.base..end]
    }
}

/// A parsed record: fields are `out[ends[i-1]..ends[i]]`.
#[derive(Default)]
struct Rec {
    out: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
}

impl Rec {
    fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.out[start..self.ends[i]])
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len).map(|i| self.get(i).unwrap_or_default())
    }

    fn as_slice(&self) -> &[u8] {
        &self.out[..if self.len == 0 {
            0
        } else {
            self.ends[self.len - 1]
        }]
    }
}

/// What is wrong with a record's shape, found while splitting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    No,
    /// A quote opened and not closed where it should be: the record spanned too many lines or
    /// came out with the wrong number of fields. Only its first line is returned (and
    /// rejected); reading resumes at the next line.
    Quote,
    /// The file ends inside this record (no line end, fewer fields than the header): a
    /// truncated file.
    Truncated,
}

/// One record as the cursor returns it.
#[derive(Debug, Clone, Copy)]
struct Next {
    /// Blank lines skipped before it.
    blank: u64,
    /// Its first line.
    start: u64,
    broken: Broken,
}

/// Whether a record of `n` fields fits a header of `width` fields: the same count, or more with
/// every extra field empty (trailing delimiters Excel leaves).
fn fits<'a>(width: usize, n: usize, field: impl Fn(usize) -> Option<&'a [u8]>) -> bool {
    n == width
        || (n > width
            && (width..n).all(|i| {
                field(i)
                    .unwrap_or_default()
                    .iter()
                    .all(u8::is_ascii_whitespace)
            }))
}

/// Reads records with csv-core directly so that every consumed byte is seen: line numbers
/// stay exact across CRLF, blank lines and quoted line breaks.
///
/// Quote resynchronisation: the raw bytes a record consumes after its first line are kept
/// while it is read. When the record turns out broken by a quote (it spans more than
/// [`MAX_RECORD_LINES`] lines, or has the wrong number of fields although a quoted field ran
/// over line ends), only its first line is returned as a broken record and the kept bytes are
/// read again from the start of the next line. One stray quote costs one row, not the rest of
/// the file.
struct Cursor {
    input: std::io::BufReader<Box<dyn std::io::Read + Send>>,
    core: csv_core::Reader,
    record: Rec,
    /// Newlines consumed so far.
    newlines: u64,
    /// Last line of the previous record.
    prev_end_line: u64,
    /// Spreadsheet row of the last record read.
    row: u64,
    /// Bytes consumed (of the decoded stream; replayed bytes are not counted twice).
    consumed: u64,
    /// The header's width, once known (records are checked against it for quote damage).
    width: Option<usize>,
    /// Raw bytes of the current record after its first line end.
    tail: Vec<u8>,
    /// Bytes to read again before the input (after a broken quote), and how far.
    replay: Vec<u8>,
    replay_pos: usize,
}

impl Cursor {
    fn new(opened: Opened, f: &CsvFormat) -> Cursor {
        let core = csv_core::ReaderBuilder::new()
            .delimiter(f.delimiter)
            .quote(f.quote)
            .build();
        Cursor {
            input: std::io::BufReader::with_capacity(256 * 1024, opened.reader),
            core,
            record: Rec {
                out: vec![0; 4096],
                ends: vec![0; 64],
                len: 0,
            },
            newlines: 0,
            prev_end_line: 0,
            row: 0,
            consumed: 0,
            width: None,
            tail: Vec::new(),
            replay: Vec::new(),
            replay_pos: 0,
        }
    }

    /// Reads the next record.
    fn next(&mut self, file: &str) -> Result<Option<Next>, IngestError> {
        use std::io::BufRead;
        let rec = &mut self.record;
        let (mut outlen, mut endlen) = (0usize, 0usize);
        let base = self.newlines;
        let mut pre = 0u64;
        let mut post = 0u64;
        let mut started = false;
        let mut at_eof;
        self.tail.clear();
        loop {
            let from_replay = self.replay_pos < self.replay.len();
            let input: &[u8] = if from_replay {
                &self.replay[self.replay_pos..]
            } else {
                self.input.fill_buf().map_err(crate::io_err(file))?
            };
            at_eof = input.is_empty();
            let (res, nin, nout, nend) =
                self.core
                    .read_record(input, &mut rec.out[outlen..], &mut rec.ends[endlen..]);
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
            // Keep the raw bytes after the record's first line end, for a resynchronisation.
            let body = &consumed[i..];
            if post > 0 {
                self.tail.extend_from_slice(body);
            } else if let Some(k) = body.iter().position(|&b| b == b'\n') {
                self.tail.extend_from_slice(&body[k + 1..]);
            }
            post += body.iter().filter(|&&b| b == b'\n').count() as u64;
            if from_replay {
                self.replay_pos += nin;
            } else {
                self.input.consume(nin);
                self.consumed += nin as u64;
            }
            outlen += nout;
            endlen += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => continue,
                csv_core::ReadRecordResult::OutputFull => {
                    let n = rec.out.len() * 2;
                    rec.out.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let n = rec.ends.len() * 2;
                    rec.ends.resize(n, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    rec.len = endlen;
                    break;
                }
                csv_core::ReadRecordResult::End => {
                    self.newlines = base + pre + post;
                    return Ok(None);
                }
            }
        }
        // Newlines before the record's first byte (terminators of the previous record and
        // blank lines) give its start line; its quoted line breaks give its span.
        let start = base + pre + 1;
        let inner = self
            .record
            .as_slice()
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        let blank = start.saturating_sub(self.prev_end_line + 1);
        self.row += blank + 1;
        let rec = &self.record;
        let shape_ok = self.width.is_none_or(|w| fits(w, rec.len, |i| rec.get(i)));
        let broken = if inner > 0 && (inner + 1 > MAX_RECORD_LINES || !shape_ok) {
            Broken::Quote
        } else if at_eof && !shape_ok && self.width.is_some_and(|w| rec.len < w) {
            Broken::Truncated
        } else {
            Broken::No
        };
        if broken == Broken::Quote {
            self.resync_after_first_line(start);
            return Ok(Some(Next {
                blank,
                start,
                broken,
            }));
        }
        self.newlines = base + pre + post;
        self.prev_end_line = start + inner;
        Ok(Some(Next {
            blank,
            start,
            broken,
        }))
    }

    /// After a record broken by a quote that started on line `start`: cut the record to its
    /// first line and read everything after that line again, with a fresh parser.
    fn resync_after_first_line(&mut self, start: u64) {
        let rec = &mut self.record;
        // The record's fields up to the first line break (the quoted field that ran over it
        // is cut there), for the reject's raw value.
        let bytes = rec.as_slice();
        let cut = bytes
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(bytes.len());
        let keep = rec.ends[..rec.len].iter().take_while(|&&e| e < cut).count();
        rec.ends[keep] = cut;
        rec.len = keep + 1;
        let mut replay = std::mem::take(&mut self.tail);
        replay.extend_from_slice(&self.replay[self.replay_pos.min(self.replay.len())..]);
        self.replay = replay;
        self.replay_pos = 0;
        self.core.reset();
        self.newlines = start;
        self.prev_end_line = start;
    }

    /// Blank lines after the last record (the last record's own line break is not one).
    fn trailing_blank(&self) -> u64 {
        self.newlines.saturating_sub(self.prev_end_line)
    }
}
fn header_names(record: &Rec) -> Vec<String> {
    record
        .iter()
        .map(|b| {
            let s = match std::str::from_utf8(b) {
                Ok(s) => s.to_owned(),
                Err(_) => encoding_rs::WINDOWS_1252.decode(b).0.into_owned(),
            };
            s.trim_start_matches('\u{feff}').to_owned()
        })
        .collect()
}

fn find_header(
    mapping: &Mapping,
    f: &CsvFormat,
    cur: &mut Cursor,
    file: &str,
) -> Result<Header, IngestError> {
    let mut best: Option<(usize, Vec<String>)> = None;
    loop {
        let Some(_) = cur.next(file)? else {
            break;
        };
        let names = header_names(&cur.record);
        let take = match f.header_row {
            HeaderRow::Row(n) => cur.row >= n as u64,
            HeaderRow::Auto => {
                let (found, want) = Slots::score(mapping, &names);
                if best.as_ref().is_none_or(|(b, _)| found > *b) {
                    best = Some((found, names.clone()));
                }
                found == want || cur.row >= 50
            }
        };
        if take {
            let width = names.len()
                - names
                    .iter()
                    .rev()
                    .take_while(|n| n.trim().is_empty())
                    .count();
            if f.header_row == HeaderRow::Auto
                && Slots::score(mapping, &names).0 < Slots::score(mapping, &names).1
            {
                let names = best.map(|b| b.1).unwrap_or(names);
                return Err(missing(mapping, f, file, &names));
            }
            return Ok(Header {
                names,
                width,
                row: cur.row,
                next_line: cur.prev_end_line + 1,
            });
        }
    }
    match best {
        Some((_, names)) => Err(missing(mapping, f, file, &names)),
        None => Err(IngestError::Empty {
            file: file.to_owned(),
        }),
    }
}

fn missing(mapping: &Mapping, f: &CsvFormat, file: &str, names: &[String]) -> IngestError {
    match Slots::resolve(mapping, file, names, Some(f.delimiter)) {
        Err(e) => e,
        Ok(_) => IngestError::Empty {
            file: file.to_owned(),
        },
    }
}

/// Checks the header only.
pub(crate) fn check(
    mapping: &Mapping,
    f: &CsvFormat,
    path: &Path,
    file: &str,
) -> Result<(), IngestError> {
    let opened = sniff::open_text(path, file, f.encoding, false)?;
    let mut cur = Cursor::new(opened, f);
    let header = find_header(mapping, f, &mut cur, file)?;
    Slots::resolve(mapping, file, &header.names, Some(f.delimiter))?;
    Ok(())
}

pub(crate) fn read(
    engine: &mut Engine<'_>,
    f: &CsvFormat,
    index: usize,
    path: &Path,
    file: &str,
) -> Result<(), IngestError> {
    let known = engine.known_sha256(index);
    let opened = sniff::open_text(path, file, f.encoding, known.is_none())?;
    let (tally, size, encoding) = (opened.tally.clone(), opened.size, opened.encoding);
    let (fallback, raw_utf8) = (opened.fallback_1252, opened.raw_utf8);
    (engine.progress)(ProgressEvent::FileStarted {
        file: index,
        bytes: size,
    });
    let mut cur = Cursor::new(opened, f);
    let header = find_header(engine.mapping, f, &mut cur, file)?;
    cur.width = Some(header.width);
    let (slots, optional_missing) =
        Slots::resolve(engine.mapping, file, &header.names, Some(f.delimiter))?;
    let _ = header.next_line;
    let mut st = FileState {
        index,
        path: file.to_owned(),
        report: FileReport {
            path: file.to_owned(),
            sha256: String::new(),
            bytes: size,
            encoding: encoding.to_owned(),
            header_row: header.row,
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
    let n_slots = st.slots.index.len();
    let header_bytes = cur.consumed;
    let mut estimated = false;
    // A reader thread splits records (I/O, transcoding, hashing, CSV parsing) while this
    // thread maps them: two cores for the 10-million-row files. Chunks go through a bounded
    // channel, so memory stays bounded.
    let trailing = std::thread::scope(|scope| -> Result<u64, IngestError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Chunk, IngestError>>(4);
        // Processed chunks go back to the reader to be refilled: buffers are reused, not
        // freed on one thread and allocated on the other.
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Chunk>();
        let reader = scope.spawn(move || -> u64 {
            loop {
                let mut chunk = back_rx.try_recv().unwrap_or_default();
                let mut done = false;
                while chunk.meta.len() < CHUNK_RECORDS {
                    match cur.next(file) {
                        Ok(Some(next)) => chunk.push(&cur.record, next, cur.row, cur.consumed),
                        Ok(None) => {
                            done = true;
                            break;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return 0;
                        }
                    }
                }
                if !chunk.meta.is_empty() && tx.send(Ok(chunk)).is_err() {
                    return 0;
                }
                if done {
                    return cur.trailing_blank();
                }
            }
        });
        for msg in rx.iter() {
            let mut chunk = msg?;
            // One cell vector per chunk, cleared for each record (not one allocation a row).
            let mut cells: Vec<CellRef<'_>> = Vec::with_capacity(n_slots);
            for (k, m) in chunk.meta.iter().enumerate() {
                let rec = chunk.record(k);
                let (blank, start, row) = (m.blank, m.start, m.row);
                st.report.blank_rows += blank;
                if !estimated && st.report.rows_read == 10_000 {
                    // Estimate the file's row count from the first 10,000 rows to size the
                    // duplicate index once.
                    estimated = true;
                    let per_row = (m.consumed - header_bytes).max(1) as f64 / 10_000.0;
                    let total = size as f64 / per_row;
                    engine.expect_rows((total * 1.05) as u64);
                }
                let line = Some(start);
                st.bytes_read = m.consumed;
                if rec.iter().all(|b| b.iter().all(u8::is_ascii_whitespace)) {
                    st.report.blank_rows += 1;
                    continue;
                }
                let lang = engine.opts.lang;
                let raw = || {
                    String::from_utf8_lossy(&rec.as_slice()[..rec.as_slice().len().min(800)])
                        .into_owned()
                };
                let n = rec.len();
                match m.broken {
                    Broken::Quote => {
                        engine.reject_row(
                            &mut st,
                            row,
                            line,
                            "",
                            &raw(),
                            "ROW_QUOTE_UNBALANCED",
                            if lang.is_en() {
                                format!(
                                    "a quote ({q}) opened on line {start} is not closed on that line \
                                     (the record ran over {MAX_RECORD_LINES} lines or came out with the \
                                     wrong number of fields); this line is rejected and reading went on \
                                     at the next line. Remove the stray {q} or close it",
                                    q = f.quote as char
                                )
                            } else {
                                format!(
                                    "tanda kutip ({q}) yang dibuka di baris {start} tidak ditutup di \
                                     baris itu (rekamannya melewati {MAX_RECORD_LINES} baris atau \
                                     jumlah kolomnya salah); baris ini ditolak dan pembacaan \
                                     dilanjutkan dari baris berikutnya. Hapus {q} yang tersesat atau \
                                     tutup tanda kutipnya",
                                    q = f.quote as char
                                )
                            },
                        )?;
                        continue;
                    }
                    Broken::Truncated => {
                        engine.reject_row(
                            &mut st,
                            row,
                            line,
                            "",
                            &raw(),
                            "FILE_TRUNCATED",
                            if lang.is_en() {
                                format!(
                                    "the file ends in the middle of this row ({n} of {} fields, no \
                                     line end): it was probably cut off while copying or \
                                     downloading; get the whole file again",
                                    header.width
                                )
                            } else {
                                format!(
                                    "berkas berakhir di tengah baris ini ({n} dari {} kolom, tanpa \
                                     akhir baris): kemungkinan terpotong saat disalin atau diunduh; \
                                     ambil ulang berkas yang utuh",
                                    header.width
                                )
                            },
                        )?;
                        continue;
                    }
                    Broken::No => {}
                }
                if !fits(header.width, n, |i| rec.get(i)) {
                    engine.reject_row(
                        &mut st,
                        row,
                        line,
                        "",
                        &raw(),
                        "ROW_RAGGED",
                        if lang.is_en() {
                            format!(
                                "the row has {n} fields but the header has {}; a delimiter ({}) inside an unquoted value, or a value missing?",
                                header.width, f.delimiter as char
                            )
                        } else {
                            format!(
                                "baris ini memiliki {n} kolom, sedangkan judul kolom {}; ada pemisah ({}) di dalam nilai tanpa tanda kutip, atau ada nilai yang hilang?",
                                header.width, f.delimiter as char
                            )
                        },
                    )?;
                    continue;
                }
                cells.clear();
                let mut bad: Option<(String, String, String)> = None;
                let mut fallbacks: Vec<(String, String)> = Vec::new();
                for (k, idx) in st.slots.index.iter().enumerate() {
                    let cell = match idx.and_then(|i| rec.get(i)) {
                        None => CellRef::Empty,
                        Some(b) => match std::str::from_utf8(b) {
                            Ok(s) => CellRef::Text(Cow::Borrowed(s)),
                            Err(e) => {
                                let lossy = encoding_rs::WINDOWS_1252.decode(b).0.into_owned();
                                if fallback && raw_utf8 {
                                    fallbacks.push((st.slots.names[k].clone(), lossy.clone()));
                                    CellRef::Text(Cow::Owned(lossy))
                                } else {
                                    let pos = e.valid_up_to();
                                    bad = Some((
                                        st.slots.names[k].clone(),
                                        lossy,
                                        if lang.is_en() {
                                            format!(
                                                "byte 0x{:02X} at position {} of column {} is not valid UTF-8; save the file as UTF-8, or set encoding = \"windows-1252\" in the mapping",
                                                b[pos],
                                                pos + 1,
                                                st.slots.names[k]
                                            )
                                        } else {
                                            format!(
                                                "bita 0x{:02X} pada posisi {} kolom {} bukan UTF-8 yang sah; simpan berkas sebagai UTF-8, atau tulis encoding = \"windows-1252\" di pemetaan",
                                                b[pos],
                                                pos + 1,
                                                st.slots.names[k]
                                            )
                                        },
                                    ));
                                    break;
                                }
                            }
                        },
                    };
                    cells.push(cell);
                }
                if let Some((col, raw, msg)) = bad {
                    engine.reject_row(&mut st, row, line, &col, &raw, "ENCODING_INVALID", msg)?;
                    continue;
                }
                for (col, raw) in fallbacks {
                    engine.warn_current_row(
                        &st,
                        row,
                        line,
                        &col,
                        &raw,
                        "ENCODING_FALLBACK",
                        if lang.is_en() {
                            format!("column {col} is not valid UTF-8 here; read as Windows-1252")
                        } else {
                            format!("kolom {col} di sini bukan UTF-8 yang sah; dibaca sebagai Windows-1252")
                        },
                    );
                }
                engine.process_row(&mut st, row, line, &cells)?;
            }
            drop(cells);
            chunk.clear();
            let _ = back_tx.send(chunk);
        }
        Ok(reader.join().expect("the CSV reader thread does not panic"))
    })?;
    st.report.blank_rows += trailing;
    st.report.sha256 = known.unwrap_or_else(|| tally.hex());
    st.report.bytes = tally.bytes();
    engine.end_file(st)
}
