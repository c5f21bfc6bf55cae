//! JSON Lines: one object per line. `row` and `line` are the line number. A malformed line is
//! rejected (`JSON_INVALID`) and reading goes on; blank lines are counted, not data.

use std::borrow::Cow;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::{Map, Value as Json};

use crate::engine::{CellRef, Engine, FileState, Slots};
use crate::mapping::{Encoding, Mapping, column_key};
use crate::report::FileReport;
use crate::{IngestError, ProgressEvent, ReadOptions, sniff};

/// Reads one line into `buf` (without the terminator). Lines longer than `max` are consumed
/// but not kept: returns `Some(true)` for those. `None` at end of file.
fn next_line(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> std::io::Result<Option<bool>> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(if any { Some(too_long) } else { None });
        }
        any = true;
        let (part, consumed, found) = match memchr_nl(chunk) {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        if !too_long {
            if buf.len() + part.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(part);
            }
        }
        r.consume(consumed);
        if found {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(too_long));
        }
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

fn lookup<'a>(obj: &'a Map<String, Json>, name: &str) -> Option<&'a Json> {
    obj.get(name).or_else(|| {
        let k = column_key(name);
        obj.iter()
            .find(|(key, _)| column_key(key) == k)
            .map(|(_, v)| v)
    })
}

fn cell(v: Option<&Json>) -> CellRef<'_> {
    match v {
        None | Some(Json::Null) => CellRef::Empty,
        Some(Json::String(s)) => CellRef::Text(Cow::Borrowed(s)),
        Some(Json::Bool(b)) => CellRef::Bool(*b),
        Some(Json::Number(n)) => match n.as_i64() {
            Some(i) => CellRef::Int(i),
            None => CellRef::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Some(other) => CellRef::Text(Cow::Owned(other.to_string())),
    }
}

/// Checks the keys of the first well-formed object against the mapping's required columns.
pub(crate) fn check(
    mapping: &Mapping,
    path: &Path,
    file: &str,
    opts: &ReadOptions,
) -> Result<(), IngestError> {
    let opened = sniff::open_text(path, file, Encoding::Utf8, false)?;
    let mut r = BufReader::with_capacity(64 * 1024, opened.reader);
    let mut buf = Vec::new();
    for _ in 0..1000 {
        match next_line(&mut r, &mut buf, opts.max_line_bytes).map_err(crate::io_err(file))? {
            None => break,
            Some(true) => continue,
            Some(false) => {
                if let Ok(obj) = serde_json::from_slice::<Map<String, Json>>(&buf) {
                    let keys: Vec<String> = obj.keys().cloned().collect();
                    Slots::resolve(mapping, file, &keys, None)?;
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn read(
    engine: &mut Engine<'_>,
    index: usize,
    path: &Path,
    file: &str,
) -> Result<(), IngestError> {
    let known = engine.known_sha256(index);
    let opened = sniff::open_text(path, file, Encoding::Utf8, known.is_none())?;
    let (tally, size) = (opened.tally.clone(), opened.size);
    (engine.progress)(ProgressEvent::FileStarted {
        file: index,
        bytes: size,
    });
    let names: Vec<String> = engine
        .mapping
        .columns()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let slots = Slots {
        index: (0..names.len()).map(Some).collect(),
        names,
    };
    let mut st = FileState {
        index,
        path: file.to_owned(),
        report: FileReport {
            path: file.to_owned(),
            sha256: String::new(),
            bytes: size,
            encoding: "utf-8".into(),
            header_row: 0,
            rows_read: 0,
            loaded: 0,
            rejected: 0,
            warned: 0,
            filtered: 0,
            blank_rows: 0,
            missing_optional_columns: Vec::new(),
        },
        slots,
        bytes_read: 0,
    };
    let max = engine.opts.max_line_bytes;
    let mut r = BufReader::with_capacity(256 * 1024, opened.reader);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let lang = engine.opts.lang;
    while let Some(too_long) = next_line(&mut r, &mut buf, max).map_err(crate::io_err(file))? {
        line_no += 1;
        st.bytes_read += buf.len() as u64 + 1;
        let line = Some(line_no);
        if too_long {
            engine.reject_row(
                &mut st,
                line_no,
                line,
                "",
                "",
                "ROW_TOO_LONG",
                if lang.is_en() {
                    format!("the line is longer than {max} bytes")
                } else {
                    format!("baris ini lebih panjang dari {max} bita")
                },
            )?;
            continue;
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            st.report.blank_rows += 1;
            continue;
        }
        if let Err(e) = std::str::from_utf8(&buf) {
            let pos = e.valid_up_to();
            engine.reject_row(
                &mut st,
                line_no,
                line,
                "",
                &String::from_utf8_lossy(&buf[..buf.len().min(200)]),
                "ENCODING_INVALID",
                if lang.is_en() {
                    format!(
                        "byte 0x{:02X} at position {} is not valid UTF-8; JSON Lines must be UTF-8",
                        buf[pos],
                        pos + 1
                    )
                } else {
                    format!(
                        "bita 0x{:02X} pada posisi {} bukan UTF-8 yang sah; JSON Lines harus UTF-8",
                        buf[pos],
                        pos + 1
                    )
                },
            )?;
            continue;
        }
        let obj = match serde_json::from_slice::<Json>(&buf) {
            Ok(Json::Object(o)) => o,
            Ok(other) => {
                let kind = match other {
                    Json::Array(_) => lang.pick("sebuah array", "an array"),
                    Json::String(_) => lang.pick("sebuah teks", "a string"),
                    Json::Number(_) => lang.pick("sebuah angka", "a number"),
                    Json::Bool(_) => lang.pick("sebuah boolean", "a boolean"),
                    _ => "null",
                };
                engine.reject_row(
                    &mut st,
                    line_no,
                    line,
                    "",
                    &String::from_utf8_lossy(&buf),
                    "JSON_INVALID",
                    if lang.is_en() {
                        format!("the line is {kind}, not a JSON object")
                    } else {
                        format!("baris ini {kind}, bukan objek JSON")
                    },
                )?;
                continue;
            }
            Err(e) => {
                engine.reject_row(
                    &mut st,
                    line_no,
                    line,
                    "",
                    &String::from_utf8_lossy(&buf),
                    "JSON_INVALID",
                    if lang.is_en() {
                        format!("malformed JSON at column {}: {e}", e.column())
                    } else {
                        format!("JSON rusak pada kolom {}: {e}", e.column())
                    },
                )?;
                continue;
            }
        };
        let cells: Vec<CellRef<'_>> = st
            .slots
            .names
            .iter()
            .map(|n| cell(lookup(&obj, n)))
            .collect();
        engine.process_row(&mut st, line_no, line, &cells)?;
    }
    drop(r);
    st.report.sha256 = known.unwrap_or_else(|| tally.hex());
    st.report.bytes = tally.bytes();
    engine.end_file(st)
}
