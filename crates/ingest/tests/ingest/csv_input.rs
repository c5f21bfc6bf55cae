//! CSV: the Dukcapil, deaths, DTSEN, TNI/Polri and wage formats, and the dirt real exports
//! carry.

use sinergi_ingest::{IngestError, ReadOptions, Value, read, read_all};

use crate::common::*;

#[test]
fn dukcapil_rows_map_to_person_records() {
    let t = Tmp::new();
    let p = t.write(
        "penduduk.csv",
        dukcapil_file(
            &[dukcapil_row(0, "SITI  AMINAH"), dukcapil_row(1, "budi")],
            "\n",
        ),
    );
    let r = load(&mapping("dukcapil-penduduk"), &p);
    assert_eq!(r.report.rows_read, 2);
    assert_eq!(r.report.loaded, 2);
    assert!(r.rejects.is_empty(), "{:?}", r.rejects);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let rec = &r.records[0];
    assert_eq!(text(rec, "nik"), Some("3201014101000001"));
    assert_eq!(text(rec, "name"), Some("SITI AMINAH"));
    assert_eq!(text(&r.records[1], "name"), Some("BUDI"));
    assert_eq!(text(rec, "sex"), Some("P"));
    assert_eq!(text(rec, "birth_date"), Some("1980-07-01"));
    assert_eq!(text(rec, "region"), Some("3201011001"));
    assert_eq!(text(rec, "rt"), Some("1"));
    assert_eq!(r.rows, vec![2, 3]);
    let nik = r.report.nik_validity.as_ref().unwrap();
    assert_eq!((nik.present, nik.valid), (2, 2));
}

#[test]
fn wrong_delimiter_fails_before_loading_with_a_hint() {
    let t = Tmp::new();
    let body = dukcapil_file(&[dukcapil_row(0, "A")], "\n").replace('|', ";");
    let p = t.write("penduduk.csv", body);
    let mut batches = 0;
    let e = read(
        &mapping("dukcapil-penduduk"),
        &[p],
        &ReadOptions::default(),
        &mut |_| {
            batches += 1;
            Ok(())
        },
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(batches, 0);
    assert_eq!(e.code(), "MAPPING_COLUMN_MISSING");
    let msg = e.to_string();
    assert!(msg.contains("wrong delimiter"), "{msg}");
    assert!(msg.contains("`;`-delimited"), "{msg}");
}

#[test]
fn missing_required_column_names_it_and_lists_found_columns_loading_nothing() {
    let t = Tmp::new();
    let good = t.write("a.csv", dukcapil_file(&[dukcapil_row(0, "A")], "\n"));
    let body = dukcapil_file(&[dukcapil_row(1, "B")], "\n").replacen("TGL_LHR", "TANGGAL", 1);
    let bad = t.write("b.csv", body);
    let mut batches = 0;
    // The good file comes first: still nothing may be loaded.
    let e = read(
        &mapping("dukcapil-penduduk"),
        &[good, bad],
        &ReadOptions::default(),
        &mut |_| {
            batches += 1;
            Ok(())
        },
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(batches, 0);
    match &e {
        IngestError::ColumnMissing {
            file,
            missing,
            found,
            hint,
        } => {
            assert!(file.ends_with("b.csv"));
            assert_eq!(missing, &["TGL_LHR"]);
            assert!(found.contains(&"TANGGAL".to_string()));
            assert!(hint.is_none());
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("TGL_LHR"));
}

#[test]
fn bom_semicolons_and_crlf_dtsen() {
    let t = Tmp::new();
    let body = "\u{feff}ID_KELUARGA;NO_KK;NIK;NAMA;TGL_LAHIR;KODE_WILAYAH;DESIL\r\n\
        K001;3201010101200001;3201014101000001; Siti ;01-01-2000;3201011001;3\r\n\
        K001;3201010101200001;3201010101000002;Budi;2000-01-01;3201011001;11\r\n";
    let p = t.write("dtsen.csv", body);
    let r = load(&mapping("dtsen"), &p);
    assert_eq!(r.report.files[0].encoding, "utf-8");
    assert_eq!(r.report.loaded, 1);
    assert_eq!(text(&r.records[0], "family_id"), Some("K001"));
    assert_eq!(text(&r.records[0], "name"), Some("SITI"));
    assert_eq!(r.records[0].get("decile"), Some(&Value::Integer(3)));
    assert_eq!(codes(&r.rejects), vec![(3, "NUMBER_OUT_OF_RANGE")]);
    assert_eq!(r.rejects[0].line, Some(3));
}

#[test]
fn windows_1252_is_transcoded() {
    let t = Tmp::new();
    let mut body = b"NRP,NIK,NAMA,SATUAN\r\n".to_vec();
    body.extend_from_slice(b"31090123,3201014101000001,Andr\xe9 Wijaya,POLRES BOGOR\r\n");
    body.extend_from_slice(b"11950012,3201014101000002,Ren\xe9,KODAM III/SILIWANGI\r\n");
    body.extend_from_slice(b"11950013,3201014101000003,X,DINAS PERHUBUNGAN\r\n");
    let p = t.write("tnipolri.csv", &body);
    let r = load(&mapping("tni-polri"), &p);
    assert_eq!(r.report.files[0].encoding, "windows-1252");
    assert_eq!(text(&r.records[0], "name"), Some("ANDRÉ WIJAYA"));
    assert_eq!(text(&r.records[0], "kind"), Some("POLRI"));
    assert_eq!(text(&r.records[1], "kind"), Some("TNI"));
    assert_eq!(text(&r.records[1], "employer"), Some("KODAM III/SILIWANGI"));
    assert_eq!(codes(&r.rejects), vec![(4, "VALUE_NOT_IN_MAP")]);
}

#[test]
fn auto_encoding_detects_windows_1252_and_falls_back_per_field() {
    let t = Tmp::new();
    // Invalid UTF-8 at the start: the whole file is read as Windows-1252.
    let mut body = b"NIK,NAMA,UPAH_BULANAN,NPP_PERUSAHAAN\n".to_vec();
    body.extend_from_slice(b"3201014101000001,Andr\xe9,Rp 4.500.000,NPP01\n");
    let p = t.write("upah.csv", &body);
    let r = load(&mapping("bpjs-ketenagakerjaan-upah"), &p);
    assert_eq!(r.report.files[0].encoding, "windows-1252");
    assert_eq!(text(&r.records[0], "name"), Some("ANDRÉ"));
    assert_eq!(
        r.records[0].get("monthly_wage"),
        Some(&Value::Integer(4_500_000))
    );

    // Valid UTF-8 for the first megabyte, one bad byte later: that field falls back, with a
    // warning; nothing is rejected.
    let mut body = b"NIK,NAMA,UPAH_BULANAN,NPP_PERUSAHAAN\n".to_vec();
    for i in 0..30_000u64 {
        body.extend_from_slice(format!("{},Nama Ä,1500000,NPP{i}\n", nik_for(i)).as_bytes());
    }
    body.extend_from_slice(format!("{},Andr\u{e9},1.500.000,NPPX\n", nik_for(99_999)).as_bytes());
    body.extend_from_slice(nik_for(99_998).as_bytes());
    body.extend_from_slice(b",Ren\xe9,1.500.000,NPPY\n");
    let bytes = body;
    let p = t.write("upah2.csv", &bytes);
    let r = load(&mapping("bpjs-ketenagakerjaan-upah"), &p);
    assert_eq!(r.report.files[0].encoding, "utf-8");
    assert_eq!(r.report.rejected, 0);
    assert_eq!(r.report.loaded, 30_002);
    assert_eq!(codes(&r.warnings), vec![(30_003, "ENCODING_FALLBACK")]);
    assert_eq!(text(r.records.last().unwrap(), "name"), Some("RENÉ"));
}

#[test]
fn invalid_utf8_in_a_declared_utf8_file_rejects_that_row_only() {
    let t = Tmp::new();
    let m = mapping("dukcapil-kematian");
    let text_m = std::fs::read_to_string(&m.origin)
        .unwrap()
        .replace("encoding = \"auto\"", "encoding = \"utf-8\"");
    let m = sinergi_ingest::Mapping::from_str(&text_m, "kematian-utf8.toml").unwrap();
    let mut body = b"NIK,NO_AKTA_KEMATIAN,TGL_KEMATIAN\n".to_vec();
    body.extend_from_slice(b"3201014101000001,AKTA-1,2024-01-02\n");
    body.extend_from_slice(b"3201014101000002,AKTA\xff2,2024-01-02\n");
    body.extend_from_slice(b"3201014101000003,AKTA-3,2024-01-02\n");
    let p = t.write("mati.csv", &body);
    let r = load(&m, &p);
    assert_eq!(r.report.loaded, 2);
    assert_eq!(codes(&r.rejects), vec![(3, "ENCODING_INVALID")]);
    assert_eq!(r.rejects[0].field, "NO_AKTA_KEMATIAN");
    assert!(r.rejects[0].message.contains("0xFF"));
}

#[test]
fn quoted_delimiters_and_newlines_keep_row_and_line_numbers_right() {
    let t = Tmp::new();
    let rows = [
        dukcapil_row(0, "A"),
        dukcapil_row(1, "B").replace("JL MAWAR 1", "\"JL MAWAR | GANG 2\nRT 1\r\nBLOK C\""),
        dukcapil_row(2, "C"),
        dukcapil_row(3, "D").replace("01-07-1980", "31-02-1980"),
    ];
    let p = t.write("penduduk.csv", dukcapil_file(&rows, "\r\n"));
    let r = load(&mapping("dukcapil-penduduk"), &p);
    assert_eq!(r.report.loaded, 3);
    assert_eq!(
        text(&r.records[1], "address"),
        Some("JL MAWAR | GANG 2 RT 1 BLOK C")
    );
    // Spreadsheet rows: header 1, A 2, B 3 (three lines), C 4, D 5 (on line 7).
    assert_eq!(r.rows, vec![2, 3, 4]);
    assert_eq!(r.rejects.len(), 1);
    assert_eq!((r.rejects[0].row, r.rejects[0].line), (5, Some(7)));
    assert_eq!(r.rejects[0].code, "DATE_IMPOSSIBLE");
    assert_eq!(r.rejects[0].field, "birth_date");
    assert_eq!(r.rejects[0].raw_value, "31-02-1980");
}

#[test]
fn blank_lines_are_counted_not_loaded_and_rows_stay_aligned() {
    let t = Tmp::new();
    let body = format!(
        "{DUKCAPIL_HEADER}\n{}\n\n\n{}\n||||||||||||||||\n{}\n\n",
        dukcapil_row(0, "A"),
        dukcapil_row(1, "B"),
        dukcapil_row(2, "C").replace("|2|BOGOR", "|9|BOGOR")
    );
    let p = t.write("penduduk.csv", body);
    let r = load(&mapping("dukcapil-penduduk"), &p);
    assert_eq!(r.rows, vec![2, 5]);
    assert_eq!(codes(&r.rejects), vec![(7, "VALUE_NOT_IN_MAP")]);
    assert_eq!(r.rejects[0].line, Some(7));
    // Two blank lines, one all-empty row, one trailing blank line.
    assert_eq!(r.report.blank_rows, 4);
    assert_eq!(r.report.rows_read, 3);
}

#[test]
fn ragged_rows_are_rejected_and_the_rest_loads() {
    let t = Tmp::new();
    let rows = [
        dukcapil_row(0, "A"),
        dukcapil_row(1, "B") + "|EXTRA",
        dukcapil_row(2, "C").replacen("|BOGOR", "", 1),
        dukcapil_row(3, "D") + "||",
        dukcapil_row(4, "E"),
    ];
    let p = t.write("penduduk.csv", dukcapil_file(&rows, "\n"));
    let r = load(&mapping("dukcapil-penduduk"), &p);
    assert_eq!(
        codes(&r.rejects),
        vec![(3, "ROW_RAGGED"), (4, "ROW_RAGGED")]
    );
    assert!(
        r.rejects[0]
            .message
            .contains("18 kolom, sedangkan judul kolom 17"),
        "{}",
        r.rejects[0].message
    );
    // Empty trailing columns are tolerated.
    assert_eq!(r.rows, vec![2, 5, 6]);
    assert_eq!(r.report.rows_read, r.report.loaded + r.report.rejected);
}

#[test]
fn empty_and_header_only_files() {
    let t = Tmp::new();
    let m = mapping("dukcapil-penduduk");
    for body in ["", "\u{feff}", "\n\n  \n"] {
        let p = t.write("empty.csv", body);
        let e = read_all(&m, &[p], &ReadOptions::default()).unwrap_err();
        assert_eq!(e.code(), "FILE_EMPTY", "{body:?}");
        assert!(e.to_string().contains("empty"));
    }
    let p = t.write("header.csv", format!("{DUKCAPIL_HEADER}\n"));
    let r = load(&m, &p);
    assert_eq!(r.report.rows_read, 0);
    assert!(r.records.is_empty());
}

#[test]
fn binary_garbage_is_a_clear_error() {
    let t = Tmp::new();
    // A deterministic pseudo-random byte stream.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let p = t.write("garbage.csv", &bytes);
    let e = read_all(&mapping("dukcapil-penduduk"), &[p], &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "FILE_NOT_TEXT", "{e}");
    // An XLSX renamed to .csv.
    let p = t.write("book.csv", b"PK\x03\x04rest-of-zip");
    let e = read_all(&mapping("dukcapil-penduduk"), &[p], &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("xlsx"), "{e}");
}

#[test]
fn duplicate_keys_keep_the_first_and_reject_later_ones_naming_it() {
    let t = Tmp::new();
    let rows = [
        dukcapil_row(0, "A"),
        dukcapil_row(1, "B"),
        dukcapil_row(0, "A AGAIN"),
        dukcapil_row(0, "A THIRD"),
    ];
    let p = t.write("penduduk.csv", dukcapil_file(&rows, "\n"));
    let r = load(&mapping("dukcapil-penduduk"), &p);
    assert_eq!(r.report.loaded, 2);
    assert_eq!(r.report.duplicate_keys, 2);
    assert_eq!(
        codes(&r.rejects),
        vec![(4, "DUPLICATE_KEY"), (5, "DUPLICATE_KEY")]
    );
    assert!(
        r.rejects[0].message.contains("baris 2"),
        "{}",
        r.rejects[0].message
    );
    assert_eq!(r.rejects[0].field, "nik");

    // Across two files of one dataset.
    let p2 = t.write(
        "penduduk2.csv",
        dukcapil_file(&[dukcapil_row(1, "B")], "\n"),
    );
    let r = read_all(
        &mapping("dukcapil-penduduk"),
        &[p.clone(), p2],
        &ReadOptions::default(),
    )
    .unwrap();
    let last = r.rejects.last().unwrap();
    assert!(last.file.ends_with("penduduk2.csv"));
    assert!(last.message.contains("penduduk.csv"), "{}", last.message);

    // Switched off: everything loads.
    let opts = ReadOptions {
        check_duplicates: false,
        ..ReadOptions::default()
    };
    let r = read_all(&mapping("dukcapil-penduduk"), &[p], &opts).unwrap();
    assert_eq!(r.report.loaded, 4);
}

#[test]
fn hostile_values_are_rejected_per_row() {
    let t = Tmp::new();
    let huge = "X".repeat(1 << 20);
    let rows = [
        dukcapil_row(0, &huge),
        dukcapil_row(1, "NUL\0BYTE"),
        dukcapil_row(2, "OK"),
        dukcapil_row(3, "B").replacen("3201014", "32O1014", 1),
    ];
    let p = t.write("penduduk.csv", dukcapil_file(&rows, "\n"));
    let r = load(&mapping("dukcapil-penduduk"), &p);
    assert_eq!(
        codes(&r.rejects),
        vec![
            (2, "FIELD_TOO_LONG"),
            (3, "VALUE_CONTROL_CHAR"),
            (5, "NIK_NON_DIGIT")
        ]
    );
    assert!(r.rejects[0].raw_value.chars().count() <= 201);
    assert_eq!(r.report.loaded, 1);
}

#[test]
fn unbalanced_quote_does_not_swallow_the_file_silently() {
    let t = Tmp::new();
    let mut rows = vec![dukcapil_row(0, "\"OPEN QUOTE")];
    for i in 1..300 {
        rows.push(dukcapil_row(i, "X"));
    }
    let p = t.write("penduduk.csv", dukcapil_file(&rows, "\n"));
    let r = load(&mapping("dukcapil-penduduk"), &p);
    assert_eq!(codes(&r.rejects), vec![(2, "ROW_QUOTE_UNBALANCED")]);
    assert_eq!(r.report.rows_read, 300);
    assert_eq!(r.report.loaded, 299, "reading resumes at the next line");
}

/// The issue's case: one `"` unbalanced at line 102 of a 1,576-line file swallowed the other
/// 1,475 rows (neither loaded nor rejected).
#[test]
fn a_stray_quote_costs_one_row_and_reading_resumes_at_the_next_line() {
    let t = Tmp::new();
    let m = mapping("dukcapil-kematian");
    for eol in ["\n", "\r\n"] {
        let mut body = String::from("NIK,NO_AKTA_KEMATIAN,TGL_KEMATIAN");
        for i in 0..1575u64 {
            body.push_str(eol);
            let cert = if i == 100 {
                "\"AKT-100".to_string()
            } else {
                format!("AKT-{i}")
            };
            body.push_str(&format!("{},{cert},2025-07-26", nik_for(i)));
        }
        body.push_str(eol);
        let p = t.write("kematian.csv", &body);
        let r = load(&m, &p);
        assert_eq!(r.report.rows_read, 1575, "{eol:?}");
        assert_eq!(r.report.loaded, 1574, "{eol:?}");
        assert_eq!(codes(&r.rejects), vec![(102, "ROW_QUOTE_UNBALANCED")]);
        assert_eq!(r.rejects[0].line, Some(102));
        assert!(r.rejects[0].raw_value.starts_with(&nik_for(100)));
        // Rows after the stray quote keep their own row numbers.
        assert_eq!(r.rows[100], 103);
        assert_eq!(*r.rows.last().unwrap(), 1576);
    }
}

#[test]
fn a_stray_quote_closed_by_another_later_rejects_only_its_line() {
    let t = Tmp::new();
    let mut rows: Vec<String> = (0..20).map(|i| dukcapil_row(i, "X")).collect();
    rows[3] = dukcapil_row(3, "\"SITI");
    rows[9] = dukcapil_row(9, "BUDI\"").replacen("|2|BOGOR", "|2|\"BOGOR", 1);
    let p = t.write("penduduk.csv", dukcapil_file(&rows, "\n"));
    let r = load(&mapping("dukcapil-penduduk"), &p);
    assert_eq!(r.report.rows_read, 20);
    assert_eq!(r.report.rows_read, r.report.loaded + r.report.rejected);
    assert_eq!(r.rejects[0].code, "ROW_QUOTE_UNBALANCED");
    assert_eq!(r.rejects[0].row, 5);
    assert!(r.report.loaded >= 18, "{:?}", codes(&r.rejects));
}

#[test]
fn a_file_cut_off_mid_row_says_so() {
    let t = Tmp::new();
    let rows: Vec<String> = (0..5).map(|i| dukcapil_row(i, "X")).collect();
    let mut body = dukcapil_file(&rows, "\n");
    body.push_str(&dukcapil_row(5, "Y")[..40]);
    let p = t.write("penduduk.csv", body);
    let r = load(&mapping("dukcapil-penduduk"), &p);
    assert_eq!(r.report.loaded, 5);
    assert_eq!(codes(&r.rejects), vec![(7, "FILE_TRUNCATED")]);
    assert!(
        r.rejects[0].message.contains("terpotong"),
        "{}",
        r.rejects[0].message
    );
}

#[test]
fn two_hundred_thousand_rows_stream_in_bounded_batches() {
    let t = Tmp::new();
    let path = t.path("big.csv");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(w, "{DUKCAPIL_HEADER}").unwrap();
        for i in 0..200_000u64 {
            if i % 10_000 == 7 {
                writeln!(
                    w,
                    "{}",
                    dukcapil_row(i, "BAD").replace("|2|BOGOR", "|3|BOGOR")
                )
                .unwrap();
            } else {
                writeln!(w, "{}", dukcapil_row(i, "WARGA")).unwrap();
            }
        }
    }
    let opts = ReadOptions {
        batch_size: 1000,
        ..ReadOptions::default()
    };
    let (mut batches, mut max_rows, mut records, mut rejects) = (0, 0, 0, 0);
    let mut progress = 0;
    let report = read(
        &mapping("dukcapil-penduduk"),
        &[path],
        &opts,
        &mut |b| {
            batches += 1;
            max_rows = max_rows.max(b.row_count());
            records += b.records.len();
            rejects += b.rejects.len();
            assert!(b.records.capacity() <= 1000 || batches == 1);
            Ok(())
        },
        &mut |_| progress += 1,
    )
    .unwrap();
    assert!(max_rows <= 1000, "{max_rows}");
    assert_eq!(batches, 200);
    assert_eq!(records, 199_980);
    assert_eq!(rejects, 20);
    assert_eq!(report.rows_read, 200_000);
    assert_eq!(report.loaded + report.rejected, report.rows_read);
    assert!(progress >= 200);
}

#[test]
fn a_sink_error_stops_the_read() {
    let t = Tmp::new();
    let p = t.write("penduduk.csv", dukcapil_file(&[dukcapil_row(0, "A")], "\n"));
    let e = read(
        &mapping("dukcapil-penduduk"),
        &[p],
        &ReadOptions::default(),
        &mut |_| Err("disk full".into()),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(e.code(), "SINK_FAILED");
    assert!(e.to_string().contains("disk full"));
}

#[test]
fn deaths_and_wages() {
    let t = Tmp::new();
    let p = t.write(
        "mati.csv",
        "NIK,NO_AKTA_KEMATIAN,TGL_KEMATIAN\n 3201014101000001 ,AKTA/1,2024-02-29\n3201014101000002,,02-03-2024\n",
    );
    let r = load(&mapping("dukcapil-kematian"), &p);
    assert_eq!(text(&r.records[0], "death_date"), Some("2024-02-29"));
    assert_eq!(text(&r.records[0], "nik"), Some("3201014101000001"));
    assert_eq!(codes(&r.rejects), vec![(3, "DATE_UNRECOGNISED")]);

    let p = t.write(
        "upah.csv",
        "NIK,NAMA,UPAH_BULANAN,NPP_PERUSAHAAN\n\
         3201014101000001,A,\"Rp 1.500.000\",NPP1\n\
         3201014101000001,A,2500000,NPP2\n\
         3201014101000001,A,\"1.500.000,50\",NPP3\n\
         3201014101000001,A,satu juta,NPP4\n\
         3201014101000001,A,3000000,NPP1\n",
    );
    let r = load(&mapping("bpjs-ketenagakerjaan-upah"), &p);
    assert_eq!(
        r.records[0].get("monthly_wage"),
        Some(&Value::Integer(1_500_000))
    );
    assert_eq!(r.report.loaded, 2);
    assert_eq!(
        codes(&r.rejects),
        vec![
            (4, "NUMBER_NOT_WHOLE"),
            (5, "NUMBER_INVALID"),
            (6, "DUPLICATE_KEY")
        ]
    );
}
