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

/// Runs `sinergi` in `dir` with the embedded database at `dir/db.sqlite`.
fn sinergi_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sinergi"))
        .args(args)
        .current_dir(dir)
        .env("SINERGI_DATABASE_URL", dir.join("db.sqlite"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

const SOURCES: &[(&str, &str)] = &[
    ("dukcapil-penduduk", "dukcapil/penduduk.csv"),
    ("dukcapil-kematian", "dukcapil/kematian.csv"),
    ("dtsen", "dtsen/dtsen.csv"),
    ("bpjs-kesehatan", "bpjs-kesehatan/peserta.jsonl"),
    ("bkn-asn", "bkn/asn.xlsx"),
    ("tni-polri", "tni-polri/personel.csv"),
    ("bpjs-ketenagakerjaan-upah", "bpjs-ketenagakerjaan/upah.csv"),
    ("roster", "rosters/PKH.xlsx"),
    ("roster", "rosters/BPNT.xlsx"),
    ("roster", "rosters/PBI_JK.xlsx"),
    ("roster", "rosters/BLT_DD.xlsx"),
];

#[test]
fn every_shipped_mapping_loads_the_generator_output_and_accounts_for_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world");
    let out = sinergi_in(
        dir.path(),
        &[
            "synth",
            "--people",
            "3000",
            "--seed",
            "7",
            "--out",
            world.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(world.join("manifest.json")).unwrap()).unwrap();
    let rows_in = |path: &str| -> u64 {
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{path} in manifest"))["rows"]
            .as_u64()
            .unwrap()
    };
    for (source, file) in SOURCES {
        let path = world.join(file);
        let out = sinergi_in(
            dir.path(),
            &["ingest", "--source", source, path.to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "{source} {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = sinergi_in(dir.path(), &["datasets", "--json"]);
    assert!(out.status.success());
    let datasets: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let datasets = datasets.as_array().unwrap();
    assert_eq!(
        datasets.len(),
        SOURCES.len(),
        "one dataset per source, one per roster"
    );
    for (source, file) in SOURCES {
        let name = if *source == "roster" {
            format!(
                "roster-{}",
                file.trim_start_matches("rosters/")
                    .trim_end_matches(".xlsx")
            )
        } else {
            source.to_string()
        };
        let d = datasets
            .iter()
            .find(|d| d["meta"]["name"] == name.as_str())
            .expect(&name);
        let cur = &d["current"];
        let (read, loaded, rejected) = (
            cur["rows_read"].as_u64().unwrap(),
            cur["rows_loaded"].as_u64().unwrap(),
            cur["rows_rejected"].as_u64().unwrap(),
        );
        assert_eq!(read, rows_in(file), "{name}: every input row is read");
        assert_eq!(loaded + rejected, read, "{name}: loaded + rejected = read");
        if *source == "roster" {
            assert_eq!(
                rejected, 0,
                "{name}: a roster keeps every row for its verdict"
            );
        }
    }
}

#[test]
fn ingesting_the_same_file_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mati.csv");
    std::fs::write(
        &file,
        "NIK,NO_AKTA_KEMATIAN,TGL_KEMATIAN\r\n3201014508900001,AKT-1,2025-01-02\r\n",
    )
    .unwrap();
    let args = [
        "ingest",
        "--source",
        "dukcapil-kematian",
        file.to_str().unwrap(),
    ];
    assert!(sinergi_in(dir.path(), &args).status.success());
    let again = sinergi_in(dir.path(), &args);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("tidak ada yang berubah"));
    let out = sinergi_in(dir.path(), &["datasets", "--json"]);
    let datasets: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(datasets[0]["current"]["version_label"], "v1");
    assert_eq!(datasets[0]["current"]["row_count"], 1);
}

#[test]
fn ingest_refuses_a_file_missing_a_required_column_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mati.csv");
    std::fs::write(
        &file,
        "NIK;NO_AKTA_KEMATIAN;TGL_KEMATIAN\n3201014508900001;AKT-1;2025-01-02\n",
    )
    .unwrap();
    let out = sinergi_in(
        dir.path(),
        &[
            "ingest",
            "--source",
            "dukcapil-kematian",
            file.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NIK"), "{err}");
    assert!(
        err.contains(";"),
        "the hint names the delimiter the header seems to use: {err}"
    );
    let out = sinergi_in(dir.path(), &["datasets", "--json"]);
    let datasets: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        datasets
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["current"].is_null()),
        "nothing was loaded: {datasets}"
    );
}

#[test]
fn ingest_of_an_unknown_source_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = sinergi_in(dir.path(), &["ingest", "--source", "kemenkeu", "x.csv"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kemenkeu") && err.contains("dukcapil-penduduk"),
        "{err}"
    );
}
