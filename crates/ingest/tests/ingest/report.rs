//! The report and the reject file.

use sinergi_ingest::{write_rejects_csv, write_report_json};

use crate::common::*;

#[test]
fn report_counts_completeness_and_renders_json_and_indonesian_text() {
    let t = Tmp::new();
    let rows = [
        dukcapil_row(0, "A"),
        dukcapil_row(1, "B").replace("|ISLAM|", "||"),
        dukcapil_row(2, "C").replace("|2|BOGOR", "|X|BOGOR"),
        dukcapil_row(0, "A"),
    ];
    let p = t.write("penduduk.csv", dukcapil_file(&rows, "\n"));
    let r = load(&mapping("dukcapil-penduduk"), &p);
    let rep = &r.report;
    assert_eq!((rep.rows_read, rep.loaded, rep.rejected), (4, 2, 2));
    assert_eq!(rep.reject_codes.get("VALUE_NOT_IN_MAP"), Some(&1));
    assert_eq!(rep.reject_codes.get("DUPLICATE_KEY"), Some(&1));
    let religion = rep
        .completeness
        .iter()
        .find(|c| c.field == "religion")
        .unwrap();
    assert_eq!(religion.filled, 1);
    assert!((religion.share - 0.5).abs() < 1e-9);
    let expected_sha = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(std::fs::read(&p).unwrap());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert_eq!(rep.files[0].sha256, expected_sha);
    assert_eq!(rep.files[0].bytes, std::fs::metadata(&p).unwrap().len());

    let json = rep.to_json();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["rows_read"], 4);
    assert_eq!(v["table"], "person");
    let txt = rep.to_text(sinergi_model::Lang::Id);
    assert!(
        txt.contains("Baris dibaca") && txt.contains("Ditolak") && txt.contains("Validitas NIK"),
        "{txt}"
    );
    let en = rep.to_text(sinergi_model::Lang::En);
    assert!(
        en.contains("Rows read") && en.contains("Rejected") && !en.contains("Ditolak"),
        "{en}"
    );

    let out = t.path("report.json");
    write_report_json(&out, rep).unwrap();
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("\"loaded\": 2")
    );

    let rej = t.path("rejects.csv");
    write_rejects_csv(&rej, &r.rejects).unwrap();
    let got = std::fs::read_to_string(&rej).unwrap();
    let mut lines = got.lines();
    assert_eq!(
        lines.next(),
        Some("file,row,line,field,raw_value,code,message")
    );
    let first = lines.next().unwrap();
    assert!(first.contains(",4,4,sex,X,VALUE_NOT_IN_MAP,"), "{first}");
}

#[test]
fn same_input_gives_the_same_report() {
    let t = Tmp::new();
    let rows: Vec<String> = (0..50).map(|i| dukcapil_row(i % 40, "X")).collect();
    let p = t.write("penduduk.csv", dukcapil_file(&rows, "\n"));
    let a = load(&mapping("dukcapil-penduduk"), &p).report.to_json();
    let b = load(&mapping("dukcapil-penduduk"), &p).report.to_json();
    assert_eq!(a, b);
}

#[test]
fn a_digest_the_caller_already_took_is_reported_instead_of_hashing_again() {
    let t = Tmp::new();
    let rows = [
        dukcapil_row(0, "A"),
        dukcapil_row(1, "B").replace("|2|BOGOR", "|X|BOGOR"),
    ];
    let p = t.write("penduduk.csv", dukcapil_file(&rows, "\n"));
    let hashed = load(&mapping("dukcapil-penduduk"), &p);
    // A digest that is not the file's own shows that the reader took it as given.
    let given = "ab".repeat(32);
    let opts = sinergi_ingest::ReadOptions {
        file_sha256: vec![given.clone()],
        ..Default::default()
    };
    let r = sinergi_ingest::read_all(
        &mapping("dukcapil-penduduk"),
        std::slice::from_ref(&p),
        &opts,
    )
    .unwrap();
    assert_eq!(r.report.files[0].sha256, given);
    assert_eq!(
        r.report.files[0].bytes,
        std::fs::metadata(&p).unwrap().len()
    );
    // Everything else is as when the reader hashes: rows, rejects with row and reason.
    assert_eq!(r.records, hashed.records);
    assert_eq!(
        (r.report.rows_read, r.report.loaded, r.report.rejected),
        (2, 1, 1)
    );
    assert_eq!(codes(&r.rejects), vec![(3, "VALUE_NOT_IN_MAP")]);
    assert_eq!(codes(&r.rejects), codes(&hashed.rejects));
    // An empty entry means "hash while reading".
    let opts = sinergi_ingest::ReadOptions {
        file_sha256: vec![String::new()],
        ..Default::default()
    };
    let r = sinergi_ingest::read_all(&mapping("dukcapil-penduduk"), &[p], &opts).unwrap();
    assert_eq!(r.report.files[0].sha256, hashed.report.files[0].sha256);
    assert_eq!(r.report.files[0].sha256.len(), 64);
}
