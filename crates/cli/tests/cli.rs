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
    // After the loads, the registries are prepared once; preparing again reads them back.
    let out = sinergi_in(dir.path(), &["datasets", "--siapkan"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Registri siap") && text.contains("written"),
        "{text}"
    );
    let snaps: Vec<_> = std::fs::read_dir(dir.path().join("db.sqlite.cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".snap"))
        .collect();
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    let again = sinergi_in(dir.path(), &["datasets", "--prepare"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("read"));
    // A damaged snapshot is rebuilt, and preparing still succeeds.
    let snap = dir.path().join("db.sqlite.cache").join(&snaps[0]);
    std::fs::write(&snap, b"not a snapshot").unwrap();
    let rebuilt = sinergi_in(dir.path(), &["datasets", "--siapkan"]);
    let text = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(rebuilt.status.success(), "{text}");
    assert!(
        text.contains("unusable, rebuilt") && text.contains("written"),
        "{text}"
    );
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
fn a_load_records_the_files_own_sha256_in_the_dataset_record_and_the_quality_report() {
    // The file is hashed once, before reading; the same digest must land in both places.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mati.csv");
    let body = "NIK,NO_AKTA_KEMATIAN,TGL_KEMATIAN\r\n3201014508900001,AKT-1,2025-01-02\r\n\
                3201014508900002,AKT-2,2025-13-02\r\n";
    std::fs::write(&file, body).unwrap();
    let expected: String = {
        use sha2::Digest;
        sha2::Sha256::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let report = dir.path().join("laporan.json");
    let rejects = dir.path().join("ditolak.csv");
    let out = sinergi_in(
        dir.path(),
        &[
            "ingest",
            "--source",
            "dukcapil-kematian",
            "--izinkan-susut",
            "--report",
            report.to_str().unwrap(),
            "--rejects",
            rejects.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(rep["files"][0]["sha256"], expected.as_str());
    assert_eq!(rep["files"][0]["bytes"], body.len() as u64);
    let current = &datasets_json(dir.path())[0]["current"];
    assert_eq!(current["input_files"][0]["sha256"], expected.as_str());
    assert_eq!(current["quality"]["files"][0]["sha256"], expected.as_str());
    // The rejected row is still reported with its row number and reason.
    assert_eq!(current["rows_rejected"], 1);
    let rej = std::fs::read_to_string(&rejects).unwrap();
    assert!(rej.contains(",3,3,"), "{rej}");
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

/// `sinergi link`: generic linkage of lists without NIK (`tests/cli/link.rs`).
#[path = "cli/link.rs"]
mod link;

mod validate {
    use super::*;

    #[test]
    fn demo_runs_the_whole_job_and_measures_itself_against_the_truth() {
        let dir = tempfile::tempdir().unwrap();
        let out = sinergi_in(
            dir.path(),
            &[
                "demo",
                "--people",
                "3000",
                "--dir",
                dir.path().join("demo").to_str().unwrap(),
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for p in ["PKH", "BPNT", "PBI_JK", "BLT_DD"] {
            let verdicts = dir.path().join(format!("demo/hasil/{p}/verdicts.csv"));
            assert!(verdicts.is_file(), "{p} verdicts written");
            assert!(
                stdout.lines().any(|l| l.starts_with(p)),
                "{p} in the summary table"
            );
        }
        assert!(stdout.contains("precision"), "{stdout}");
        // A second run changes no dataset: every agency file is recognised by its hash.
        let again = sinergi_in(
            dir.path(),
            &[
                "demo",
                "--people",
                "3000",
                "--dir",
                dir.path().join("demo").to_str().unwrap(),
            ],
        );
        assert!(again.status.success());
        let again = String::from_utf8_lossy(&again.stdout);
        assert!(again.contains("tidak berubah"), "{again}");
        assert!(!again.contains("(versi v2)"), "{again}");
    }

    #[test]
    fn validate_names_the_registry_to_ingest_first() {
        let dir = tempfile::tempdir().unwrap();
        let world = dir.path().join("w");
        assert!(
            sinergi_in(
                dir.path(),
                &["synth", "--people", "500", "--out", world.to_str().unwrap()]
            )
            .status
            .success()
        );
        let list = world.join("rosters/PKH.xlsx");
        let out = sinergi_in(
            dir.path(),
            &[
                "validate",
                "--program",
                "PKH",
                "--list",
                list.to_str().unwrap(),
            ],
        );
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("sinergi ingest --source dukcapil-penduduk"),
            "{err}"
        );
    }

    #[test]
    fn validate_lists_the_known_programmes_for_an_unknown_one() {
        let dir = tempfile::tempdir().unwrap();
        let out = sinergi_in(
            dir.path(),
            &["validate", "--program", "BANSOS_X", "--list", "x.xlsx"],
        );
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("BANSOS_X") && err.contains("PBI_JK"), "{err}");
    }

    #[test]
    fn validate_reports_a_rules_file_error_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let programs = dir.path().join("programs");
        std::fs::create_dir(&programs).unwrap();
        std::fs::write(programs.join("PKH.toml"), "code = \"PKH\"\nversion = \n").unwrap();
        let out = sinergi_in(
            dir.path(),
            &[
                "validate",
                "--program",
                "PKH",
                "--list",
                "x.xlsx",
                "--programs",
                programs.to_str().unwrap(),
            ],
        );
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("PKH.toml") && err.contains(":2"), "{err}");
    }
}

mod exchange {
    //! `sinergi serve` / `sinergi audit`: a node produces audit entries, then the log is
    //! tampered with directly in its SQLite file, as an attacker with file access would.

    use super::*;
    use std::io::Read;
    use std::net::TcpStream;
    use std::path::Path;

    use sinergi_exchange::token::token_from_bytes;

    const LOKET: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/LOKET";
    const NIK_ASKED: &str = "3301015505900001";
    const NIK_ALSO_ASKED: &str = "3301010101900002";
    const NIK_NEVER_ASKED: &str = "3578010201850002";
    const PKS: &str = "PKS-DUKCAPIL-LOKET-2025-001";

    /// A node hosting Dukcapil with a token for its own counter system and an agreement.
    fn node_toml(data_dir: &Path, token_hash: &str) -> String {
        format!(
            r#"listen = "127.0.0.1:0"
node_name = "uji-audit"
data_dir = {data_dir:?}
checkpoint_every = 2
reload_secs = 0

[[members]]
id = "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA"
name = "Ditjen Dukcapil Kemendagri"
services = ["verifikasi-identitas"]

[[tokens]]
hash = "{token_hash}"
client = "{LOKET}"
label = "loket uji"

[[agreements]]
id = "{PKS}"
provider = "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA"
consumer = "{LOKET}"
services = [{{ service_code = "verifikasi-identitas", fields = ["nama"] }}]
purposes = ["VALIDASI_BANSOS"]
legal_basis = "UU 24/2013"
region_scope = "national"
valid_from = 1735664400000000
valid_until = 1924966800000000
quota = {{ per_second = 5000, per_day = 50000000 }}
status_history = []
"#
        )
    }

    fn write_config(dir: &Path, data_dir: &Path, token_hash: &str) -> std::path::PathBuf {
        let path = dir.join(format!(
            "{}.toml",
            data_dir.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&path, node_toml(data_dir, token_hash)).unwrap();
        path
    }

    /// One POST over a plain TCP connection; the HTTP status.
    fn post(addr: std::net::SocketAddr, token: &str, nik: &str) -> u16 {
        let body = format!(r#"{{"nik":"{nik}","nama":"SITI AMINAH"}}"#);
        let req = format!(
            "POST /r1/ID/GOV/KEMENDAGRI-DUKCAPIL/DATA/verifikasi-identitas HTTP/1.1\r\n\
             Host: {addr}\r\nX-Road-Client: {LOKET}\r\nAuthorization: Bearer {token}\r\n\
             X-Sinergi-Purpose: VALIDASI_BANSOS\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        resp.split(' ').nth(1).unwrap().parse().unwrap()
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_dir(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }

    /// Runs statements on a node's audit file after dropping the append-only triggers.
    fn tamper(rt: &tokio::runtime::Runtime, data_dir: &Path, statements: &[&'static str]) {
        rt.block_on(async {
            let opts =
                sqlx::sqlite::SqliteConnectOptions::new().filename(data_dir.join("audit.db"));
            let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
            for s in [
                "DROP TRIGGER IF EXISTS audit_entry_no_update",
                "DROP TRIGGER IF EXISTS audit_entry_no_delete",
            ]
            .iter()
            .chain(statements)
            {
                sqlx::query(*s).execute(&pool).await.unwrap();
            }
            pool.close().await;
        });
    }

    fn text(out: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    #[test]
    fn audit_verify_reports_altered_deleted_and_reordered_rows_and_who_accessed_finds_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let token = token_from_bytes(&[42; 32]);
        let hash: String = token.hash.0.iter().map(|b| format!("{b:02x}")).collect();
        let node = dir.join("node");
        let config = write_config(dir, &node, &hash);

        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let cfg = sinergi_server::NodeConfig::load(&config).unwrap();
        let running = rt.block_on(sinergi_server::spawn(cfg)).unwrap();
        for nik in [
            NIK_ASKED,
            NIK_ALSO_ASKED,
            NIK_ASKED,
            NIK_ALSO_ASKED,
            NIK_ASKED,
        ] {
            assert_eq!(post(running.addr, &token.plaintext, nik), 200);
        }
        rt.block_on(running.stop()).unwrap();

        let cfg = config.to_str().unwrap();
        let out = sinergi_in(dir, &["audit", "verify", "--config", cfg]);
        assert!(out.status.success(), "{}", text(&out));
        let report = text(&out);
        assert!(report.contains("Entri diperiksa: 5"), "{report}");
        assert!(report.contains("UTUH"), "{report}");

        // who-accessed: three accesses of the NIK asked about, none of another.
        let out = sinergi_in(dir, &["audit", "who-accessed", NIK_ASKED, "--config", cfg]);
        assert!(out.status.success(), "{}", text(&out));
        let table = text(&out);
        assert!(table.contains("3 akses") && table.contains(PKS), "{table}");
        assert!(
            table.contains(LOKET) && table.contains("ALLOWED"),
            "{table}"
        );
        let out = sinergi_in(
            dir,
            &[
                "audit",
                "who-accessed",
                NIK_ASKED,
                "--config",
                cfg,
                "--json",
            ],
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let entries = v["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        assert!(entries.iter().all(|e| e["client"] == LOKET
            && e["pks_id"] == PKS
            && e["purpose"] == "VALIDASI_BANSOS"));
        let out = sinergi_in(
            dir,
            &["audit", "who-accessed", NIK_NEVER_ASKED, "--config", cfg],
        );
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("Tidak ada akses"), "{}", text(&out));

        // Each tampering on its own copy of the node's data: exit 1, naming the seq.
        let cases: &[(&str, &[&'static str], &str)] = &[
            (
                "diubah",
                &["UPDATE audit_entry SET purpose = 'LAIN' WHERE seq = 3"],
                "seq 3",
            ),
            (
                "dihapus",
                &["DELETE FROM audit_entry WHERE seq = 3"],
                "seq 3",
            ),
            (
                "ditukar",
                &[
                    "UPDATE audit_entry SET seq = -1 WHERE seq = 2",
                    "UPDATE audit_entry SET seq = 2 WHERE seq = 4",
                    "UPDATE audit_entry SET seq = 4 WHERE seq = -1",
                ],
                "seq 2",
            ),
        ];
        for (name, statements, seq) in cases {
            let copy = dir.join(name);
            copy_dir(&node, &copy);
            let config = write_config(dir, &copy, &hash);
            tamper(&rt, &copy, statements);
            let out = sinergi_in(
                dir,
                &["audit", "verify", "--config", config.to_str().unwrap()],
            );
            let report = text(&out);
            assert_eq!(out.status.code(), Some(1), "{name}: {report}");
            assert!(report.contains("TIDAK UTUH"), "{name}: {report}");
            assert!(
                report.contains(&format!("Masalah pertama: {seq}")),
                "{name}: {report}"
            );
        }
    }

    #[test]
    fn serve_names_the_file_and_line_of_a_bad_configuration() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("rusak.toml");
        std::fs::write(&path, "instance = \"ID\"\nlisten = 5\n").unwrap();
        let out = sinergi_in(tmp.path(), &["serve", "--config", path.to_str().unwrap()]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("rusak.toml") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn audit_verify_says_when_the_node_never_ran() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("node.toml");
        std::fs::write(
            &path,
            format!("data_dir = {:?}\n", tmp.path().join("kosong")),
        )
        .unwrap();
        let out = sinergi_in(
            tmp.path(),
            &["audit", "verify", "--config", path.to_str().unwrap()],
        );
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("belum pernah dijalankan"), "{err}");
    }
}

/// `sinergi` with `SINERGI_LANG` set to `lang` (or unset).
fn sinergi_lang(lang: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sinergi"));
    cmd.args(args).env_remove("SINERGI_LANG");
    if let Some(l) = lang {
        cmd.env("SINERGI_LANG", l);
    }
    cmd.stdin(Stdio::null()).output().unwrap()
}

#[test]
fn help_is_in_bahasa_indonesia_by_default_and_in_english_with_sinergi_lang_en() {
    for args in [&["--help"][..], &["validate", "--help"], &["ingest", "-h"]] {
        let id = sinergi_lang(None, args);
        assert!(id.status.success());
        let id = String::from_utf8(id.stdout).unwrap();
        for word in ["Penggunaan:", "Opsi:", "Tampilkan bantuan"] {
            assert!(id.contains(word), "{args:?} lacks {word}: {id}");
        }
        for word in [
            "Usage:",
            "Options:",
            "Print help",
            "[en]",
            "[default:",
            "(English",
        ] {
            assert!(!id.contains(word), "{args:?} shows {word}: {id}");
        }
        let en = sinergi_lang(Some("en_US.UTF-8"), args);
        assert!(en.status.success());
        let en = String::from_utf8(en.stdout).unwrap();
        for word in ["Usage:", "Options:", "Print help"] {
            assert!(en.contains(word), "{args:?} lacks {word}: {en}");
        }
        for word in ["Penggunaan", "Opsi:", "[en]", "bawaan", "Tampilkan"] {
            assert!(!en.contains(word), "{args:?} shows {word}: {en}");
        }
    }
}

#[test]
fn usage_errors_are_in_the_chosen_language_and_exit_two() {
    let id = sinergi_lang(None, &["validate", "--progrm", "PKH"]);
    assert_eq!(id.status.code(), Some(2));
    let err = String::from_utf8(id.stderr).unwrap();
    assert!(
        err.contains("tidak dikenal") && err.contains("--program"),
        "names the wrong argument and suggests the right one: {err}"
    );
    assert!(!err.contains("unexpected argument"), "{err}");
    let id = sinergi_lang(None, &["validate"]);
    let err = String::from_utf8(id.stderr).unwrap();
    assert!(
        err.contains("argumen wajib") && err.contains("--list"),
        "{err}"
    );
    let en = sinergi_lang(Some("en"), &["validate"]);
    assert_eq!(en.status.code(), Some(2));
    let err = String::from_utf8(en.stderr).unwrap();
    assert!(
        err.contains("required arguments") && err.contains("--list"),
        "{err}"
    );
}

#[test]
fn db_is_offered_only_by_commands_that_open_a_database() {
    for (cmd, has_db) in [
        ("validate", true),
        ("ingest", true),
        ("datasets", true),
        ("demo", true),
        ("serve", true),
        ("nik", false),
        ("wilayah", false),
        ("synth", false),
        ("eval", false),
        ("link", false),
        ("cek", true),
        ("templat", false),
        ("pks", false),
        ("audit", false),
    ] {
        let out = sinergi_lang(None, &[cmd, "--help"]);
        let help = String::from_utf8(out.stdout).unwrap();
        assert_eq!(help.contains("--db"), has_db, "{cmd}: {help}");
    }
}

/// Deaths as Dukcapil sends them, `n` rows, dates in `date` form (`iso` or `dmy`).
fn deaths_csv(n: u64, dmy: bool) -> String {
    let mut s = String::from("NIK,NO_AKTA_KEMATIAN,TGL_KEMATIAN\r\n");
    for i in 0..n {
        let nik = 3201014508900001 + i * 10;
        let date = if dmy { "26/07/2025" } else { "2025-07-26" };
        s.push_str(&format!("{nik},AKT-{i},{date}\r\n"));
    }
    s
}

fn datasets_json(dir: &std::path::Path) -> serde_json::Value {
    let out = sinergi_in(dir, &["datasets", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_load_that_rejects_every_row_is_refused_and_the_previous_version_stays_current() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("mati.csv"), deaths_csv(200, false)).unwrap();
    let ok = sinergi_in(d, &["ingest", "--source", "dukcapil-kematian", "mati.csv"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // Dukcapil changes its date format: every row is rejected.
    std::fs::write(d.join("mati-baru.csv"), deaths_csv(200, true)).unwrap();
    let out = sinergi_in(
        d,
        &["ingest", "--source", "dukcapil-kematian", "mati-baru.csv"],
    );
    assert_eq!(out.status.code(), Some(1), "a refused load exits non-zero");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DITOLAK") && err.contains("LOAD_EMPTY") && err.contains("v1"),
        "{err}"
    );
    assert!(
        err.contains("--izinkan-susut"),
        "says how to go ahead: {err}"
    );
    // The rejects of the refused run are kept and named.
    let named = err
        .split_whitespace()
        .find(|w| w.contains("ditolak-") && w.ends_with(".csv"))
        .expect("the message names the rejects file");
    let rejects = std::fs::read_to_string(d.join(named)).unwrap();
    assert_eq!(rejects.lines().count(), 201, "every row with its reason");
    let ds = datasets_json(d);
    assert_eq!(ds[0]["current"]["version_label"], "v1");
    assert_eq!(ds[0]["current"]["row_count"], 200);
    // A file that lost a quarter of its deaths is refused as well.
    std::fs::write(d.join("mati-kurang.csv"), deaths_csv(150, false)).unwrap();
    let out = sinergi_in(
        d,
        &["ingest", "--source", "dukcapil-kematian", "mati-kurang.csv"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LOAD_SHRINKS"));
    // Confirmed by an officer it goes through, and can be undone.
    let out = sinergi_in(
        d,
        &[
            "ingest",
            "--source",
            "dukcapil-kematian",
            "mati-kurang.csv",
            "--izinkan-susut",
            "--oleh",
            "operator",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(datasets_json(d)[0]["current"]["row_count"], 150);
    let out = sinergi_in(
        d,
        &[
            "datasets",
            "pulihkan",
            "dukcapil-kematian",
            "v1",
            "--oleh",
            "kabid",
            "--alasan",
            "berkas salah",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ds = datasets_json(d);
    assert_eq!(ds[0]["current"]["version_label"], "v1");
    assert_eq!(ds[0]["current"]["row_count"], 200);
    let out = sinergi_in(d, &["datasets", "versi", "dukcapil-kematian"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DITOLAK") && text.contains("dipulihkan") && text.contains("kabid"),
        "the history shows refusals and the restore: {text}"
    );
}

#[test]
fn a_failed_load_leaves_earlier_rejects_reports_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 1 bad row in 40: loaded, with a rejects report.
    let mut csv = deaths_csv(40, false);
    csv.push_str("32010145089,AKT-X,2025-07-26\r\n");
    std::fs::write(d.join("mati.csv"), csv).unwrap();
    let out = sinergi_in(d, &["ingest", "--source", "dukcapil-kematian", "mati.csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout
        .split_whitespace()
        .find(|w| w.contains("ditolak") && w.ends_with(".csv"))
        .expect("the rejects file is named")
        .to_string();
    let before = std::fs::read(d.join(&first)).unwrap();
    assert!(String::from_utf8_lossy(&before).contains("NIK_WRONG_LENGTH"));
    // A file without the NIK column fails before any row.
    std::fs::write(d.join("rusak.csv"), "NO_AKTA,TGL\r\nA,2025-01-01\r\n").unwrap();
    let out = sinergi_in(d, &["ingest", "--source", "dukcapil-kematian", "rusak.csv"]);
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read(d.join(&first)).unwrap(),
        before,
        "the earlier report is untouched"
    );
}

#[test]
fn datasets_survives_multibyte_agency_names_and_a_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mapping = include_str!("../../../config/mappings/dukcapil-kematian.toml").replace(
        "agency = \"Ditjen Kependudukan dan Pencatatan Sipil (Dukcapil), Kemendagri\"",
        // The 22nd character, where the table cuts the name, is a 3-byte dash.
        "agency = \"Dinas Dukcapil Bogor —Seksi Kematian\"",
    );
    std::fs::write(d.join("m.toml"), mapping).unwrap();
    std::fs::write(d.join("mati.csv"), deaths_csv(30, false)).unwrap();
    let out = sinergi_in(
        d,
        &[
            "ingest",
            "--source",
            "dukcapil-kematian",
            "--mapping",
            "m.toml",
            "mati.csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sinergi_in(d, &["datasets"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Dinas Dukcapil Bogor"));
    // Output into a pipe the reader already closed (`| head`): no panic.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sinergi"))
        .arg("nik")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all("3201014508900001\n".repeat(20_000).as_bytes());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
}

/// Runs `sinergi` in `dir` (database `dir/db.sqlite`) with `SINERGI_LANG` set or unset.
fn sinergi_in_lang(dir: &std::path::Path, lang: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sinergi"));
    cmd.args(args)
        .current_dir(dir)
        .env("SINERGI_DATABASE_URL", dir.join("db.sqlite"))
        .env_remove("SINERGI_LANG");
    if let Some(l) = lang {
        cmd.env("SINERGI_LANG", l);
    }
    cmd.stdin(Stdio::null()).output().unwrap()
}

/// Issue 15, item 12: messages, reports, rejects and errors follow SINERGI_LANG.
#[test]
fn loads_report_reject_and_fail_in_the_chosen_language() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut csv = deaths_csv(40, false);
    csv.push_str("32010145089,AKT-X,2025-07-26\r\n");
    std::fs::write(d.join("mati.csv"), &csv).unwrap();
    let rejects_of = |out: &Output| -> String {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let name = text
            .split_whitespace()
            .find(|w| w.contains("ditolak-") && w.ends_with(".csv"))
            .unwrap_or_else(|| panic!("rejects file named: {text}"))
            .to_string();
        std::fs::read_to_string(d.join(name)).unwrap()
    };
    let id = sinergi_in_lang(
        d,
        None,
        &["ingest", "--source", "dukcapil-kematian", "mati.csv"],
    );
    assert!(
        id.status.success(),
        "{}",
        String::from_utf8_lossy(&id.stderr)
    );
    let out = String::from_utf8_lossy(&id.stdout);
    assert!(
        out.contains("Baris dibaca") && !out.contains("Rows read"),
        "{out}"
    );
    assert!(rejects_of(&id).contains("NIK harus 16 digit"));
    std::fs::write(d.join("mati2.csv"), csv.replace("AKT-0,", "AKT-00,")).unwrap();
    let en = sinergi_in_lang(
        d,
        Some("en"),
        &["ingest", "--source", "dukcapil-kematian", "mati2.csv"],
    );
    assert!(
        en.status.success(),
        "{}",
        String::from_utf8_lossy(&en.stderr)
    );
    let out = String::from_utf8_lossy(&en.stdout);
    assert!(
        out.contains("Rows read") && !out.contains("Baris dibaca"),
        "{out}"
    );
    assert!(rejects_of(&en).contains("A NIK has 16 digits"));
    // Errors, too.
    let id = sinergi_in_lang(d, None, &["ingest", "--source", "bps", "x.csv"]);
    let err = String::from_utf8_lossy(&id.stderr);
    assert!(
        err.starts_with("Galat: Sumber `bps` tidak dikenal"),
        "{err}"
    );
    let en = sinergi_in_lang(d, Some("en"), &["ingest", "--source", "bps", "x.csv"]);
    let err = String::from_utf8_lossy(&en.stderr);
    assert!(err.starts_with("Error: Unknown source `bps`"), "{err}");
    std::fs::write(d.join("daftar.xlsx"), "No;NIK\n1;2\n").unwrap();
    let id = sinergi_in_lang(d, None, &["ingest", "--source", "roster", "daftar.xlsx"]);
    let err = String::from_utf8_lossy(&id.stderr);
    assert!(
        err.contains("bukan buku kerja .xlsx") && err.contains("FILE_IS_TEXT"),
        "{err}"
    );
    // Times in WIB.
    let ds = sinergi_in_lang(d, None, &["datasets"]);
    assert!(String::from_utf8_lossy(&ds.stdout).contains(" WIB"));
}

/// Issue 15, item 12: `ingest --help` names every shipped source, in both languages.
#[test]
fn ingest_help_lists_every_shipped_source() {
    for lang in [None, Some("en")] {
        let out = sinergi_lang(lang, &["ingest", "--help"]);
        assert!(out.status.success());
        let help = String::from_utf8(out.stdout).unwrap();
        for source in [
            "dukcapil-penduduk",
            "dukcapil-kematian",
            "dtsen",
            "bpjs-kesehatan",
            "bkn-asn",
            "tni-polri",
            "bpjs-ketenagakerjaan-upah",
            "roster",
        ] {
            assert!(help.contains(source), "{lang:?}: {source} in {help}");
        }
    }
}

/// Issue 15, items 13 and 15 from the command line: `templat roster` writes the workbook and
/// never overwrites one silently; `cek` opens the store like `validate` (naming the registry
/// to load first) and speaks the chosen language.
#[test]
fn templat_writes_the_roster_template_and_cek_checks_one_person_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = sinergi_in(d, &["templat", "roster", "--out", "daftar.xlsx"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(d.join("daftar.xlsx")).unwrap();
    assert!(bytes.starts_with(b"PK"), "an XLSX (zip) file");
    let again = sinergi_in(d, &["templat", "roster", "--out", "daftar.xlsx"]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        sinergi_in(d, &["templat", "--out", "daftar.xlsx", "--force"])
            .status
            .success()
    );
    // The blank template loads through the shipped roster mapping: every column is found
    // (no MISSING_COLUMN), and an empty list is refused by the load guard, not read wrongly.
    let out = sinergi_in(d, &["ingest", "--source", "roster", "daftar.xlsx"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("COLUMN"), "{err}");

    let out = sinergi_in(d, &["cek", "3201012007700003", "--program", "PKH"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sinergi ingest --source dukcapil-penduduk"),
        "{err}"
    );
    let out = sinergi_lang(Some("en"), &["cek", "--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains("--program") && help.contains("Usage:"),
        "{help}"
    );
}

/// Issue 15, item 12: `pks` and `audit` messages follow SINERGI_LANG (no sentence in both
/// languages at once).
#[test]
fn pks_and_audit_messages_follow_the_chosen_language() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("node.toml");
    std::fs::write(
        &cfg,
        format!(
            "node_name = \"uji\"\ndata_dir = {:?}\n\n[[members]]\nid = \"ID/GOV/KEMENDAGRI-DUKCAPIL/DATA\"\nname = \"Dukcapil\"\nservices = [\"verifikasi-identitas\"]\n",
            tmp.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let en = sinergi_lang(Some("en"), &["pks", "list", "--config", cfg]);
    let text = String::from_utf8_lossy(&en.stdout);
    assert!(
        text.contains("No agreements"),
        "{text}{}",
        String::from_utf8_lossy(&en.stderr)
    );
    assert!(!text.contains("Belum ada"), "{text}");
    let id = sinergi_lang(None, &["pks", "list", "--config", cfg]);
    let text = String::from_utf8_lossy(&id.stdout);
    assert!(
        text.contains("Belum ada PKS") && !text.contains("no agreements"),
        "{text}"
    );
    let en = sinergi_lang(
        Some("en"),
        &["audit", "who-accessed", "123", "--config", cfg],
    );
    let err = String::from_utf8_lossy(&en.stderr);
    assert!(err.contains("A NIK has 16 digits"), "{err}");
    let id = sinergi_lang(None, &["audit", "who-accessed", "123", "--config", cfg]);
    let err = String::from_utf8_lossy(&id.stderr);
    assert!(err.contains("NIK harus 16 angka"), "{err}");
}

/// Runs `sinergi` in `dir` against the database `url`.
fn sinergi_db(dir: &std::path::Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sinergi"))
        .args(args)
        .current_dir(dir)
        .env("SINERGI_DATABASE_URL", url)
        .env_remove("SINERGI_LANG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// One SQL statement on PostgreSQL (schema set-up for a test).
fn pg_admin(base: &str, sql: &str) {
    use sqlx::Connection;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut c = sqlx::PgConnection::connect(base).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .unwrap();
        });
}

/// Issue 15, items 1, 2 and 4 through the command line on both backends: a load that rejects
/// every row is refused and the previous version stays current; a stray quote costs one row
/// (`read == loaded + rejected`); a failed load leaves the earlier rejects report as it was.
/// PostgreSQL when `SINERGI_TEST_POSTGRES_URL` is set (a schema of its own, dropped after).
#[test]
fn data_safety_holds_from_the_command_line_on_sqlite_and_postgresql() {
    let mut backends = vec![None];
    if let Ok(base) = std::env::var("SINERGI_TEST_POSTGRES_URL") {
        backends.push(Some(base));
    } else {
        println!("PostgreSQL skipped: SINERGI_TEST_POSTGRES_URL not set");
    }
    for base in backends {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (url, schema) = match &base {
            Some(base) => {
                let schema = format!("cli_{}", std::process::id());
                pg_admin(base, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                pg_admin(base, &format!("CREATE SCHEMA {schema}"));
                let sep = if base.contains('?') { '&' } else { '?' };
                (
                    format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    Some(schema),
                )
            }
            None => (d.join("db.sqlite").display().to_string(), None),
        };
        let run = |args: &[&str]| sinergi_db(d, &url, args);
        let row_count = || {
            let out = run(&["datasets", "--json"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v[0]["current"]["row_count"].as_u64().unwrap()
        };
        // 200 deaths, one of them with a stray quote: 199 loaded, 1 rejected, none lost.
        let mut csv = deaths_csv(200, false);
        csv = csv.replacen(",AKT-10,", ",\"AKT-10,", 1);
        std::fs::write(d.join("mati.csv"), &csv).unwrap();
        let out = run(&["ingest", "--source", "dukcapil-kematian", "mati.csv"]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{base:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(row_count(), 199, "{base:?}: {stdout}");
        let first = stdout
            .split_whitespace()
            .find(|w| w.contains("ditolak") && w.ends_with(".csv"))
            .expect("the rejects file is named")
            .to_string();
        let before = std::fs::read(d.join(&first)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&before).lines().count(),
            2,
            "{base:?}: header and the one row"
        );
        // Every date in another format: every row rejected, the load refused, v1 stays.
        std::fs::write(d.join("mati-dmy.csv"), deaths_csv(200, true)).unwrap();
        let out = run(&["ingest", "--source", "dukcapil-kematian", "mati-dmy.csv"]);
        assert_eq!(out.status.code(), Some(1), "{base:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("LOAD_EMPTY"),
            "{base:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(row_count(), 199, "{base:?}");
        // A file without the NIK column fails before any row; the first report is untouched.
        std::fs::write(d.join("rusak.csv"), "NO_AKTA,TGL\r\nA,2025-01-01\r\n").unwrap();
        let out = run(&["ingest", "--source", "dukcapil-kematian", "rusak.csv"]);
        assert!(!out.status.success());
        assert_eq!(std::fs::read(d.join(&first)).unwrap(), before, "{base:?}");
        assert_eq!(row_count(), 199, "{base:?}");
        if let (Some(base), Some(schema)) = (&base, schema) {
            pg_admin(base, &format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

const DESIL_MAPPING: &str = r#"
source = "desil-daerah"
agency = "Bappeda"
dataset = "Desil daerah"
table = "decile"

[format]
kind = "csv"

[fields.family_id]
column = "ID_KEL"

[fields.nik]
column = "NIK"
transforms = ["nik"]

[fields.decile]
column = "DESIL"

[fields.region]
column = "KODE_DESA"
"#;

fn desil_csv(n: u64) -> String {
    // Every row's village code is not in the Kemendagri table: a warning per row.
    let mut s = String::from("ID_KEL,NIK,DESIL,KODE_DESA\n");
    for i in 0..n {
        let nik = 3201014508900001 + i * 10;
        s.push_str(&format!("F{i},{nik},2,3201019999\n"));
    }
    s
}

#[test]
fn ingest_refuses_a_mapping_of_another_source_than_source_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("desil.toml"), DESIL_MAPPING).unwrap();
    std::fs::write(d.join("desil.csv"), desil_csv(3)).unwrap();
    let out = sinergi_in(
        d,
        &[
            "ingest",
            "--source",
            "dtsen",
            "--mapping",
            "desil.toml",
            "desil.csv",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("desil-daerah") && err.contains("dtsen"),
        "{err}"
    );
    let datasets = datasets_json(d);
    assert!(
        datasets
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["current"].is_null()),
        "nothing was loaded: {datasets}"
    );
    let out = sinergi_in(
        d,
        &[
            "ingest",
            "--source",
            "desil-daerah",
            "--mapping",
            "desil.toml",
            "desil.csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_warnings_file_stops_at_its_cap_and_says_how_many_were_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("desil.toml"), DESIL_MAPPING).unwrap();
    std::fs::write(d.join("desil.csv"), desil_csv(5)).unwrap();
    let out = sinergi_in_lang(
        d,
        Some("en"),
        &[
            "ingest",
            "--source",
            "desil-daerah",
            "--mapping",
            "desil.toml",
            "--batas-peringatan",
            "2",
            "--warnings",
            "w.csv",
            "desil.csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("The warnings file holds the first 2 warnings; 3 more were not written"),
        "{stdout}"
    );
    let w = std::fs::read_to_string(d.join("w.csv")).unwrap();
    let lines: Vec<&str> = w.lines().collect();
    assert_eq!(lines.len(), 1 + 2 + 1, "{w}");
    assert!(lines[1].contains("REGION_UNKNOWN") && lines[2].contains("REGION_UNKNOWN"));
    let last = lines[3];
    assert!(last.contains("WARNINGS_NOT_WRITTEN"), "{last}");
    assert!(last.contains("3 more warnings were not written"), "{last}");
    assert!(last.contains("REGION_UNKNOWN 3"), "{last}");
}

#[test]
fn a_header_only_registry_file_is_refused_and_nothing_becomes_current() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("mati.csv"), "NIK,NO_AKTA_KEMATIAN,TGL_KEMATIAN\r\n").unwrap();
    let out = sinergi_in(d, &["ingest", "--source", "dukcapil-kematian", "mati.csv"]);
    assert!(!out.status.success(), "a 0-row load is refused");
    let datasets = datasets_json(d);
    assert!(
        datasets
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["current"].is_null()),
        "no empty registry becomes current: {datasets}"
    );
}
