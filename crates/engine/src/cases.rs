//! The final status of case work in the results an officer downloads. The web application
//! records, for TINJAU rows, the outcome of the field check (and a supervisor's override);
//! the next download of the results carries each case's final status: `verdicts.xlsx` with a
//! sheet "Kasus" ([`CASE_COLUMNS`]) added after the run's sheets, `verdicts.csv` with the
//! `case_*` columns appended to every row (empty for rows that are no case). Both are made
//! from the files the run wrote, which stay as they are; with no case, the download is those
//! files byte for byte.

use std::collections::HashMap;
use std::io::{Cursor, Read as _, Write as _};

use sinergi_model::Lang;

use crate::layout::{CASE_COLUMNS, CaseStatus, Cell, Column};

/// Why a download with cases could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CaseExportError {
    #[error("verdicts.xlsx: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("verdicts.xlsx: {0}")]
    Io(#[from] std::io::Error),
    #[error("verdicts.csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("verdicts.xlsx: {0}")]
    Workbook(&'static str),
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `verdicts.csv` (as the run wrote it) with the `case_*` columns of [`CASE_COLUMNS`]
/// appended; `cases` by the row's position among the data rows (1 = the first row).
pub fn csv_with_cases(
    csv: &[u8],
    cases: &HashMap<u64, CaseStatus>,
    lang: Lang,
) -> Result<Vec<u8>, CaseExportError> {
    let columns: Vec<&Column<CaseStatus>> = CASE_COLUMNS
        .iter()
        .filter(|c| c.key.starts_with("case_"))
        .collect();
    let body = csv.strip_prefix(BOM).unwrap_or(csv);
    let mut rd = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut out = BOM.to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .from_writer(&mut out);
        let mut rec = csv::ByteRecord::new();
        let mut n: u64 = 0;
        while rd.read_byte_record(&mut rec)? {
            if n == 0 {
                for c in &columns {
                    rec.push_field(c.header(lang).as_bytes());
                }
            } else {
                match cases.get(&n) {
                    Some(case) => {
                        for c in &columns {
                            rec.push_field((c.value)(case, &(), lang).csv_text(lang).as_bytes());
                        }
                    }
                    None => {
                        for _ in &columns {
                            rec.push_field(b"");
                        }
                    }
                }
            }
            w.write_byte_record(&rec)?;
            n += 1;
        }
        w.flush()?;
    }
    Ok(out)
}

/// `verdicts.xlsx` (as the run wrote it) with a sheet of the cases' final status added after
/// its sheets ("Kasus", "Cases" in English): every other part of the workbook is copied as it
/// is. Cells are inline text (never formulas) and numbers; the header row has the results
/// sheet's header style.
pub fn workbook_with_cases(
    xlsx: &[u8],
    cases: &[CaseStatus],
    lang: Lang,
) -> Result<Vec<u8>, CaseExportError> {
    let mut zin = zip::ZipArchive::new(Cursor::new(xlsx))?;
    let read =
        |zin: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str| -> Result<String, CaseExportError> {
            let mut s = String::new();
            zin.by_name(name)?.read_to_string(&mut s)?;
            Ok(s)
        };
    let workbook = read(&mut zin, "xl/workbook.xml")?;
    let rels = read(&mut zin, "xl/_rels/workbook.xml.rels")?;
    let types = read(&mut zin, "[Content_Types].xml")?;
    // The results sheet is the second (after the summary): its header cells' style.
    let header_style = read(&mut zin, "xl/worksheets/sheet2.xml")
        .ok()
        .and_then(|s| {
            let i = s.find("<c r=\"A1\" s=\"")? + "<c r=\"A1\" s=\"".len();
            let n: String = s[i..].chars().take_while(|c| c.is_ascii_digit()).collect();
            (!n.is_empty()).then_some(n)
        });
    let names: Vec<String> = zin
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .collect();
    let mut k = 1;
    while names
        .iter()
        .any(|n| n == &format!("xl/worksheets/sheet{k}.xml"))
    {
        k += 1;
    }
    let sheet_id = workbook
        .match_indices("sheetId=\"")
        .filter_map(|(i, m)| {
            workbook[i + m.len()..]
                .split('"')
                .next()
                .and_then(|d| d.parse::<u32>().ok())
        })
        .max()
        .unwrap_or(0)
        + 1;
    let rid = "rIdSinergiKasus";
    let insert = |doc: &str, before: &str, what: &str| -> Result<String, CaseExportError> {
        let i = doc
            .rfind(before)
            .ok_or(CaseExportError::Workbook("not a workbook sinergi wrote"))?;
        Ok(format!("{}{what}{}", &doc[..i], &doc[i..]))
    };
    let workbook = insert(
        &workbook,
        "</sheets>",
        &format!(
            "<sheet name=\"{}\" sheetId=\"{sheet_id}\" r:id=\"{rid}\"/>",
            lang.pick("Kasus", "Cases")
        ),
    )?;
    let rels = insert(
        &rels,
        "</Relationships>",
        &format!(
            "<Relationship Id=\"{rid}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{k}.xml\"/>"
        ),
    )?;
    let types = insert(
        &types,
        "</Types>",
        &format!(
            "<Override PartName=\"/xl/worksheets/sheet{k}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        ),
    )?;
    let sheet = case_sheet(cases, lang, header_style.as_deref());

    let mut zout = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(xlsx.len() + 4096)));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for i in 0..zin.len() {
        let file = zin.by_index_raw(i)?;
        let name = file.name()?.into_owned();
        let replaced = match name.as_str() {
            "xl/workbook.xml" => Some(&workbook),
            "xl/_rels/workbook.xml.rels" => Some(&rels),
            "[Content_Types].xml" => Some(&types),
            _ => None,
        };
        match replaced {
            Some(text) => {
                drop(file);
                zout.start_file(name, opts)?;
                zout.write_all(text.as_bytes())?;
            }
            None => zout.raw_copy_file(file)?,
        }
    }
    zout.start_file(format!("xl/worksheets/sheet{k}.xml"), opts)?;
    zout.write_all(sheet.as_bytes())?;
    Ok(zout.finish()?.into_inner())
}

/// The case sheet's XML: a frozen header row, the columns' widths, one row per case.
fn case_sheet(cases: &[CaseStatus], lang: Lang, header_style: Option<&str>) -> String {
    let cols = CASE_COLUMNS.len();
    let last = format!("{}{}", col_name(cols - 1), cases.len() + 1);
    let mut x = String::with_capacity(256 + cases.len() * 256);
    x.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet \
         xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
         xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">",
    );
    x.push_str(&format!(
        "<dimension ref=\"A1:{last}\"/><sheetViews><sheetView workbookViewId=\"0\"><pane \
         ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>\
         </sheetView></sheetViews><sheetFormatPr defaultRowHeight=\"15\"/><cols>"
    ));
    for (i, c) in CASE_COLUMNS.iter().enumerate() {
        x.push_str(&format!(
            "<col min=\"{n}\" max=\"{n}\" width=\"{}\" customWidth=\"1\"/>",
            c.width,
            n = i + 1
        ));
    }
    x.push_str("</cols><sheetData><row r=\"1\">");
    let style = header_style
        .map(|s| format!(" s=\"{s}\""))
        .unwrap_or_default();
    for (i, c) in CASE_COLUMNS.iter().enumerate() {
        x.push_str(&format!(
            "<c r=\"{}1\"{style} t=\"inlineStr\"><is><t>{}</t></is></c>",
            col_name(i),
            xml_text(c.header(lang))
        ));
    }
    x.push_str("</row>");
    for (r, case) in cases.iter().enumerate() {
        let r = r + 2;
        x.push_str(&format!("<row r=\"{r}\">"));
        for (i, c) in CASE_COLUMNS.iter().enumerate() {
            let at = format!("{}{r}", col_name(i));
            match (c.value)(case, &(), lang) {
                Cell::Empty => {}
                Cell::Int(n) => x.push_str(&format!("<c r=\"{at}\"><v>{n}</v></c>")),
                cell => {
                    let text = match cell {
                        Cell::Text(t) => t,
                        other => other.csv_text(lang),
                    };
                    x.push_str(&format!(
                        "<c r=\"{at}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
                        xml_text(&text)
                    ));
                }
            }
        }
        x.push_str("</row>");
    }
    x.push_str("</sheetData></worksheet>");
    x
}

/// `A`, `B`, … `Z`, `AA`, … for a 0-based column.
fn col_name(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

/// Text for XML: escaped, without the characters XML 1.0 cannot hold.
fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(row: &str, outcome: &str, note: &str) -> CaseStatus {
        CaseStatus {
            row_id: row.into(),
            nik: "3301010101010001".into(),
            name: "SITI".into(),
            outcome: outcome.into(),
            note: note.into(),
            by: "petugas".into(),
            at: "08-12-2026 10:00 WIB".into(),
        }
    }

    #[test]
    fn csv_rows_get_their_case_and_others_empty_columns() {
        let csv = b"\xEF\xBB\xBFNo;NIK;Alasan\n1;330;\"a\nb\"\n2;331;x\n";
        let mut cases = HashMap::new();
        cases.insert(2, case("2", "dikeluarkan", "=HYPERLINK(\"x\")"));
        let out = csv_with_cases(csv, &cases, Lang::Id).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "\u{feff}No;NIK;Alasan;Hasil cek lapangan;Catatan kasus;Diputuskan oleh;Waktu putusan\n\
             1;330;\"a\nb\";;;;\n\
             2;331;x;Dikeluarkan;\"'=HYPERLINK(\"\"x\"\")\";petugas;08-12-2026 10:00 WIB\n"
        );
    }

    #[test]
    fn column_names() {
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(25), "Z");
        assert_eq!(col_name(26), "AA");
        assert_eq!(col_name(27), "AB");
    }

    #[test]
    fn xml_text_is_escaped_and_control_characters_dropped() {
        assert_eq!(
            xml_text("<script>&\"\u{1}x\n"),
            "&lt;script&gt;&amp;&quot;x\n"
        );
    }
}
