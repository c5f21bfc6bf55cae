//! XLSX: rosters as Dinas Sosial sends them (title rows, merged and split headers, dates as
//! Excel dates or text, NIKs typed into number cells) and BKN's ASN list.

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};
use sinergi_ingest::{ReadOptions, Value, read_all};

use crate::common::*;

/// One roster cell value.
enum C {
    S(&'static str),
    N(f64),
    D(u16, u8, u8),
    E,
}

fn put(ws: &mut Worksheet, row: u32, col: u16, c: &C) {
    let date = Format::new().set_num_format("dd/mm/yyyy");
    match c {
        C::S(s) => {
            ws.write_string(row, col, *s).unwrap();
        }
        C::N(n) => {
            ws.write_number(row, col, *n).unwrap();
        }
        C::D(y, m, d) => {
            ws.write_datetime_with_format(
                row,
                col,
                ExcelDateTime::from_ymd(*y, *m, *d).unwrap(),
                &date,
            )
            .unwrap();
        }
        C::E => {}
    }
}

const HEADER: [&str; 11] = [
    "No",
    "NIK",
    "No KK",
    "Nama KPM",
    "Tanggal Lahir",
    "Alamat",
    "Kode Desa",
    "Program",
    "Nominal",
    "Periode",
    "Keterangan",
];

fn data_rows() -> Vec<Vec<C>> {
    use C::*;
    vec![
        // A clean row with an Excel date cell.
        vec![
            N(1.0),
            S("3201014101000001"),
            S("3201010101200001"),
            S("Hj. Siti Aminah"),
            D(2000, 1, 1),
            S("Jl. Mawar 1"),
            S("32.01.01.1001"),
            S("PKH"),
            S("Rp 750.000"),
            S("2026-Q4"),
            E,
        ],
        // NIK typed into a number cell (15 significant digits kept), date as text.
        vec![
            N(2.0),
            N(3201014101000020.0),
            E,
            S("Budi"),
            S("12-08-1985"),
            S("Jl. Melati"),
            S("3201011001"),
            S("pkh"),
            N(750000.0),
            S("2026-Q4"),
            E,
        ],
        // A mistyped NIK and a date in words: warned, loaded.
        vec![
            N(3.0),
            S("320101410100003"),
            E,
            S("Ani"),
            S("3 Januari 1990"),
            E,
            S("3201011001"),
            S("PKH"),
            S("750000"),
            S("2026-Q4"),
            E,
        ],
        // No NIK at all: still loaded.
        vec![
            N(4.0),
            E,
            E,
            S("Tanpa NIK"),
            E,
            E,
            E,
            S("BPNT"),
            E,
            S("2026-Q4"),
            S("catatan"),
        ],
        // No name: rejected (the standard requires it).
        vec![
            N(5.0),
            S("3201014101000005"),
            E,
            E,
            E,
            E,
            E,
            S("PKH"),
            E,
            S("2026-Q4"),
            E,
        ],
        // Same No as row 1 in the same programme and period: duplicate key.
        vec![
            N(1.0),
            S("3201014101000006"),
            E,
            S("Dobel"),
            E,
            E,
            E,
            S("PKH"),
            E,
            S("2026-Q4"),
            E,
        ],
    ]
}

fn check_roster(r: &sinergi_ingest::ReadAll, first_data_row: u64) {
    let f = first_data_row;
    assert_eq!(r.report.rows_read, 6, "{:?}", r.rejects);
    assert_eq!(r.report.loaded, 4);
    assert_eq!(
        codes(&r.rejects),
        vec![(f + 4, "FIELD_REQUIRED_MISSING"), (f + 5, "DUPLICATE_KEY")]
    );
    let a = &r.records[0];
    assert_eq!(text(a, "program"), Some("PKH"));
    assert_eq!(text(a, "period"), Some("2026-Q4"));
    assert_eq!(a.get("row_no"), Some(&Value::Text("1".into())));
    assert_eq!(text(a, "nik"), Some("3201014101000001"));
    assert_eq!(text(a, "kk"), Some("3201010101200001"));
    assert_eq!(text(a, "name"), Some("Hj. Siti Aminah"));
    assert_eq!(text(a, "birth_date"), Some("2000-01-01"));
    assert_eq!(text(a, "region"), Some("3201011001"));
    assert_eq!(a.get("amount"), Some(&Value::Integer(750_000)));
    // NIK in a number cell: raw kept, NIK empty, a warning (not a reject).
    let b = &r.records[1];
    assert_eq!(text(b, "nik_raw"), Some("3201014101000020"));
    assert_eq!(b.get("nik"), Some(&Value::Null));
    assert_eq!(text(b, "birth_date"), Some("1985-08-12"));
    assert_eq!(b.get("amount"), Some(&Value::Integer(750_000)));
    let c = &r.records[2];
    assert_eq!(text(c, "nik_raw"), Some("320101410100003"));
    assert_eq!(c.get("nik"), Some(&Value::Null));
    assert_eq!(text(c, "birth_date"), Some("1990-01-03"));
    assert_eq!(text(&r.records[3], "program"), Some("BPNT"));
    assert_eq!(
        codes(&r.warnings),
        vec![(f + 1, "NIK_STORED_AS_NUMBER"), (f + 2, "NIK_WRONG_LENGTH")]
    );
    assert_eq!(r.rows, vec![f, f + 1, f + 2, f + 3]);
    let nik = r.report.nik_validity.as_ref().unwrap();
    assert_eq!((nik.present, nik.valid), (5, 3));
}

#[test]
fn roster_with_title_rows_above_the_header() {
    let t = Tmp::new();
    let path = t.path("roster.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "DAFTAR KPM PKH TAHAP IV 2026")
        .unwrap();
    ws.write_string(1, 0, "Dinas Sosial Kabupaten Bogor")
        .unwrap();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(3, c as u16, *h).unwrap();
    }
    for (i, row) in data_rows().iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            put(ws, 4 + i as u32, c as u16, v);
        }
    }
    wb.save(&path).unwrap();
    let r = load(&mapping("roster"), &path);
    assert_eq!(r.report.files[0].header_row, 4);
    check_roster(&r, 5);
    assert_eq!(r.report.files[0].sha256.len(), 64);
}

#[test]
fn roster_with_a_header_split_over_two_rows_and_merged_cells() {
    let t = Tmp::new();
    let path = t.path("roster-merged.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let f = Format::new();
    ws.merge_range(0, 0, 0, 10, "DAFTAR PENERIMA", &f).unwrap();
    // Row 2-3: "No" merged vertically; "Identitas" merged over NIK and No KK with the
    // sub-headers below; the rest merged vertically.
    ws.merge_range(1, 0, 2, 0, "No", &f).unwrap();
    ws.merge_range(1, 1, 1, 2, "Identitas", &f).unwrap();
    ws.write_string(2, 1, "NIK").unwrap();
    ws.write_string(2, 2, "No  KK").unwrap();
    ws.merge_range(1, 3, 2, 3, "nama kpm", &f).unwrap();
    // "Tanggal" over "Lahir": the combined name matches.
    ws.write_string(1, 4, "Tanggal").unwrap();
    ws.write_string(2, 4, "Lahir").unwrap();
    for (c, h) in HEADER.iter().enumerate().skip(5) {
        ws.merge_range(1, c as u16, 2, c as u16, h, &f).unwrap();
    }
    for (i, row) in data_rows().iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            put(ws, 3 + i as u32, c as u16, v);
        }
    }
    wb.save(&path).unwrap();
    let r = load(&mapping("roster"), &path);
    assert_eq!(r.report.files[0].header_row, 2);
    check_roster(&r, 4);
}

#[test]
fn roster_missing_a_required_column_lists_what_was_found() {
    let t = Tmp::new();
    let path = t.path("roster-bad.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["No", "NIK", "Nama", "Program", "Periode"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 1, "3201014101000001").unwrap();
    wb.save(&path).unwrap();
    let e = read_all(&mapping("roster"), &[path], &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "MAPPING_COLUMN_MISSING");
    let msg = e.to_string();
    assert!(
        msg.contains("Nama KPM") && msg.contains("Nama, Program"),
        "{msg}"
    );
}

#[test]
fn bkn_asn_and_sheet_by_name() {
    let t = Tmp::new();
    let path = t.path("asn.xlsx");
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("Ringkasan").unwrap();
    let ws = wb.add_worksheet().set_name("Data ASN").unwrap();
    for (c, h) in ["NIP", "NIK", "NAMA", "INSTANSI", "JENIS"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [
        [
            "198001012005011001",
            "3201014101000001",
            "Dr. Andi",
            "Kementerian Sosial",
            "pns",
        ],
        [
            "199002022020122002",
            "3201014101000002",
            "Budi",
            "Pemkab Bogor",
            "PPPK",
        ],
        [
            "199002022020122003",
            "3201014101000003",
            "Cici",
            "Pemkab Bogor",
            "HONORER",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    wb.save(&path).unwrap();
    let text_m = std::fs::read_to_string(&mapping("bkn-asn").origin)
        .unwrap()
        .replace("sheet = 0", "sheet = \"data asn\"");
    let m = sinergi_ingest::Mapping::from_str(&text_m, "bkn.toml").unwrap();
    let r = load(&m, &path);
    assert_eq!(r.report.loaded, 2);
    assert_eq!(text(&r.records[0], "kind"), Some("PNS"));
    assert_eq!(
        text(&r.records[0], "employee_id"),
        Some("198001012005011001")
    );
    assert_eq!(text(&r.records[1], "kind"), Some("PPPK"));
    assert_eq!(codes(&r.rejects), vec![(4, "VALUE_NOT_IN_MAP")]);

    let text_m = text_m.replace("sheet = \"data asn\"", "sheet = \"Pegawai\"");
    let m = sinergi_ingest::Mapping::from_str(&text_m, "bkn.toml").unwrap();
    let e = read_all(&m, &[path], &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "SHEET_NOT_FOUND");
    assert!(e.to_string().contains("Ringkasan, Data ASN"), "{e}");
}

#[test]
fn a_csv_named_xlsx_or_garbage_is_a_clear_error() {
    let t = Tmp::new();
    let p = t.write("roster.xlsx", "No,NIK\n1,2\n");
    let e = read_all(&mapping("roster"), &[p], &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "FILE_IS_TEXT", "{e}");
    let p = t.write("empty.xlsx", "");
    let e = read_all(&mapping("roster"), &[p], &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "FILE_EMPTY", "{e}");
    let p = t.write("garbage.xlsx", [0u8, 1, 2, 3, 250, 7, 8, 9]);
    let e = read_all(&mapping("roster"), &[p], &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "FILE_NOT_XLSX", "{e}");
}

/// A small valid roster workbook, optionally behind a first sheet of instructions.
fn roster_book(path: &std::path::Path, cover: bool) {
    let mut wb = Workbook::new();
    if cover {
        let ws = wb.add_worksheet();
        ws.set_name("Petunjuk").unwrap();
        ws.write_string(0, 0, "Isi lembar Data KPM. Jangan ubah judul kolom.")
            .unwrap();
    }
    let ws = wb.add_worksheet();
    ws.set_name("Data KPM").unwrap();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..40u32 {
        let row = [
            C::N(r as f64),
            C::S("3201014101000001"),
            C::S("3201010101200001"),
            C::S("Siti Aminah"),
            C::S("2000-01-01"),
            C::S("Jl. Mawar"),
            C::S("3201011001"),
            C::S("PKH"),
            C::N(750_000.0),
            C::S("2026-Q4"),
            C::E,
        ];
        for (c, v) in row.iter().enumerate() {
            put(ws, r, c as u16, v);
        }
    }
    wb.save(path).unwrap();
}

/// Issue 15, item 14: clearer file errors for what officers actually send.
#[test]
fn wrong_files_given_as_workbooks_say_what_they_are_and_what_to_do() {
    use sinergi_ingest::IngestError;
    use sinergi_model::Lang;
    let t = Tmp::new();
    let m = mapping("roster");
    let err = |p: std::path::PathBuf| {
        read_all(&m, &[p], &ReadOptions::default()).expect_err("the file is refused")
    };
    // An old .xls (OLE2 compound file).
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.extend(std::iter::repeat_n(0u8, 4000));
    let e = err(t.write("daftar.xls", &xls));
    assert_eq!(e.code(), "FILE_XLS_OLD");
    assert!(
        e.message(Lang::Id).contains("simpan sebagai .xlsx"),
        "{}",
        e.message(Lang::Id)
    );
    assert!(e.message(Lang::En).contains("save it as .xlsx"));
    // A CSV renamed .xlsx.
    let e = err(t.write("daftar.xlsx", "No;NIK;Nama KPM\n1;3201014101000001;SITI\n"));
    assert_eq!(e.code(), "FILE_IS_TEXT");
    assert!(
        e.message(Lang::Id).contains("teks (CSV)"),
        "{}",
        e.message(Lang::Id)
    );
    // A workbook cut off while copying.
    let whole = t.path("utuh.xlsx");
    roster_book(&whole, false);
    let bytes = std::fs::read(&whole).unwrap();
    let e = err(t.write("terpotong.xlsx", &bytes[..bytes.len() * 2 / 3]));
    assert_eq!(e.code(), "FILE_TRUNCATED");
    assert!(
        e.message(Lang::Id).contains("terpotong"),
        "{}",
        e.message(Lang::Id)
    );
    // The data on the second sheet, behind instructions: name it, list the sheets.
    let covered = t.path("bersampul.xlsx");
    roster_book(&covered, true);
    let e = err(covered);
    match &e {
        IngestError::DataOnOtherSheet {
            sheet,
            found_on,
            sheets,
            ..
        } => {
            assert_eq!(
                (sheet.as_str(), found_on.as_str()),
                ("Petunjuk", "Data KPM")
            );
            assert_eq!(sheets, &["Petunjuk", "Data KPM"]);
        }
        other => panic!("expected DataOnOtherSheet, got {other}"),
    }
    assert_eq!(e.code(), "SHEET_WRONG");
    assert!(e.message(Lang::Id).contains("Data KPM"));
    // The whole workbook still reads.
    let ok = read_all(&m, &[whole], &ReadOptions::default()).unwrap();
    assert_eq!(ok.report.rows_read, 39);
}

/// Reject and warning messages are in the read's language; codes never change.
#[test]
fn problem_messages_follow_the_language_and_codes_do_not() {
    use sinergi_model::Lang;
    let t = Tmp::new();
    let p = t.write(
        "kematian.csv",
        "NIK,NO_AKTA_KEMATIAN,TGL_KEMATIAN\n32010145089,AKT-1,2025-07-26\n3201014508900001,AKT-2,31-02-2025\n",
    );
    let m = mapping("dukcapil-kematian");
    let id = read_all(&m, std::slice::from_ref(&p), &ReadOptions::default()).unwrap();
    let en = read_all(
        &m,
        &[p],
        &ReadOptions {
            lang: Lang::En,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let codes =
        |r: &sinergi_ingest::ReadAll| -> Vec<&str> { r.rejects.iter().map(|p| p.code).collect() };
    assert_eq!(codes(&id), codes(&en));
    assert!(
        id.rejects[0].message.contains("NIK harus 16 digit"),
        "{}",
        id.rejects[0].message
    );
    assert!(
        en.rejects[0].message.contains("A NIK has 16 digits"),
        "{}",
        en.rejects[0].message
    );
    assert_ne!(id.rejects[1].message, en.rejects[1].message);
}
