//! JSON Lines (BPJS Kesehatan).

use sinergi_ingest::Value;

use crate::common::*;

fn line(card: &str, nik: &str, segmen: &str, status: &str) -> String {
    format!(
        r#"{{"noKartu":"{card}","nik":"{nik}","nama":"siti","tglLahir":"01/01/2000","segmen":"{segmen}","kelas":"KELAS 3","status":"{status}","katastropik":false}}"#
    )
}

#[test]
fn bpjs_membership_maps_segments_and_status() {
    let t = Tmp::new();
    let body = [
        line("0001", "3201014101000001", "PBI APBN", "AKTIF"),
        line("0002", "3201014101000002", "pbi-apbd", "NONAKTIF"),
        String::new(),
        r#"{"noKartu":3,"nik":"3201014101000003","segmen":"PPU","status":"AKTIF","kelas":1,"katastropik":true}"#.into(),
        line("0004", "3201014101000004", "PEKERJA", "AKTIF"),
    ]
    .join("\n");
    let p = t.write("bpjs.jsonl", body);
    let r = load(&mapping("bpjs-kesehatan"), &p);
    assert_eq!(r.report.loaded, 3);
    let a = &r.records[0];
    assert_eq!(text(a, "segment"), Some("PBI_APBN"));
    assert_eq!(a.get("active"), Some(&Value::Bool(true)));
    assert_eq!(a.get("class"), Some(&Value::Integer(3)));
    assert_eq!(a.get("catastrophic"), Some(&Value::Bool(false)));
    assert_eq!(text(a, "birth_date"), Some("2000-01-01"));
    assert_eq!(text(&r.records[1], "segment"), Some("PBI_APBD"));
    assert_eq!(r.records[1].get("active"), Some(&Value::Bool(false)));
    let c = &r.records[2];
    assert_eq!(text(c, "card_no"), Some("3"));
    assert_eq!(c.get("catastrophic"), Some(&Value::Bool(true)));
    assert_eq!(codes(&r.rejects), vec![(5, "VALUE_NOT_IN_MAP")]);
    assert_eq!(r.report.blank_rows, 1);
    assert_eq!(r.rows, vec![1, 2, 4]);
}

#[test]
fn malformed_lines_are_rejected_and_reading_goes_on() {
    let t = Tmp::new();
    let mut body = Vec::new();
    body.extend_from_slice(line("0001", "3201014101000001", "PPU", "AKTIF").as_bytes());
    body.extend_from_slice(b"\r\n{\"noKartu\": \"0002\", \"nik\": \r\n");
    body.extend_from_slice(b"[1,2,3]\n");
    body.extend_from_slice(b"{\"noKartu\":\"0005\",\"nama\":\"Andr\xe9\"}\n");
    body.extend_from_slice(line("0006", "3201014101000006", "BP", "AKTIF").as_bytes());
    let p = t.write("bpjs.jsonl", &body);
    let r = load(&mapping("bpjs-kesehatan"), &p);
    assert_eq!(
        codes(&r.rejects),
        vec![
            (2, "JSON_INVALID"),
            (3, "JSON_INVALID"),
            (4, "ENCODING_INVALID")
        ]
    );
    assert!(r.rejects[1].message.contains("array"));
    assert_eq!(r.report.loaded, 2);
    assert_eq!(r.rows, vec![1, 5]);
}

#[test]
fn a_missing_required_key_in_the_first_object_fails_before_loading() {
    let t = Tmp::new();
    let p = t.write("bpjs.jsonl", r#"{"kartu":"1","nik":"3201014101000001"}"#);
    let e = sinergi_ingest::read_all(
        &mapping("bpjs-kesehatan"),
        &[p],
        &sinergi_ingest::ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "MAPPING_COLUMN_MISSING");
    assert!(e.to_string().contains("noKartu"), "{e}");
    assert!(e.to_string().contains("kartu"), "{e}");
}

#[test]
fn an_overlong_line_is_rejected_without_holding_it() {
    let t = Tmp::new();
    let long = format!(r#"{{"noKartu":"{}"}}"#, "9".repeat(5000));
    let body = format!(
        "{long}\n{}\n",
        line("0001", "3201014101000001", "PPU", "AKTIF")
    );
    let p = t.write("bpjs.jsonl", body);
    let opts = sinergi_ingest::ReadOptions {
        max_line_bytes: 1000,
        ..Default::default()
    };
    let r = sinergi_ingest::read_all(&mapping("bpjs-kesehatan"), &[p], &opts).unwrap();
    assert_eq!(codes(&r.rejects), vec![(1, "ROW_TOO_LONG")]);
    assert_eq!(r.report.loaded, 1);
}
