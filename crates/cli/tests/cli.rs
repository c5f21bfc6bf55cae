//! Black-box tests of the `sinergi` binary: what a user types, what they see, and the exit
//! status scripts depend on.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn sinergi(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sinergi"))
        .args(args)
        .env("SINERGI_REFERENCE_DATE", "2026-11-01")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sinergi binary starts");
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect()
}

#[test]
fn nik_prints_one_json_object_per_input_in_the_documented_field_order() {
    let out = sinergi(&["nik", "3201014508900001"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let keys = [
        "\"input\"",
        "\"nik\"",
        "\"valid\"",
        "\"errors\"",
        "\"warnings\"",
        "\"sex\"",
        "\"birth_date\"",
        "\"province\"",
        "\"regency\"",
        "\"district\"",
    ];
    let positions: Vec<usize> = keys.iter().map(|k| text.find(k).expect(k)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["sex"], "P");
    assert_eq!(v["birth_date"], "1990-08-05");
    assert_eq!(v["province"]["name"], "Jawa Barat");
    assert_eq!(v["regency"]["code"], "32.01");
    assert_eq!(v["district"]["name"], "Cibinong");
}

#[test]
fn nik_exit_status_is_one_when_any_input_is_invalid() {
    let out = sinergi(&["nik", "3201014508900001", "3201013102900001"], None);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["valid"], false);
    assert_eq!(lines[1]["errors"][0], "NIK_IMPOSSIBLE_DATE");
    assert!(lines[1]["province"].is_null());
}

#[test]
fn nik_reads_standard_input_one_per_line_when_given_no_arguments() {
    let input = "3201014508900001\r\n\n9101011203850002\n3201.0145.0890.0001\n";
    let out = sinergi(&["nik"], Some(input));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(
        lines.len(),
        3,
        "blank lines are skipped, CR is not part of the NIK"
    );
    assert_eq!(lines[1]["warnings"][0], "NIK_REGENCY_NOT_IN_TABLE");
    assert!(
        lines[1]["regency"].is_null(),
        "91.01 is no longer in the table"
    );
    assert_eq!(lines[2]["warnings"][0], "NIK_SEPARATORS_STRIPPED");
}

#[test]
fn nik_survives_hostile_input() {
    let huge = "9".repeat(1 << 20);
    let out = sinergi(
        &["nik"],
        Some(&format!("{huge}\n\u{0}\u{7}abc\n٣٢٠١٠١٤٥٠٨٩٠٠٠٠١\n")),
    );
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["valid"] == false));
    assert_eq!(
        lines[2]["errors"][0], "NIK_NON_DIGIT",
        "Arabic-Indic digits are not NIK digits"
    );
}

#[test]
fn wilayah_finds_regions_by_code_and_by_name() {
    let out = sinergi(&["wilayah", "KAB.", "BOGOR"], None);
    assert!(out.status.success());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["code"], "32.01");
    assert_eq!(lines[0]["parent"]["name"], "Jawa Barat");

    let out = sinergi(&["wilayah", "3271"], None);
    assert_eq!(json_lines(&out)[0]["name"], "Kota Bogor");
}

#[test]
fn wilayah_says_what_was_not_found_and_exits_one() {
    let out = sinergi(&["wilayah", "Atlantis"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Atlantis"));
    let out = sinergi(&["wilayah", "32.0"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bukan kode wilayah"));
}
