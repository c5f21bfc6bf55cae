//! `sinergi pks`: create, list, suspend, reinstate, revoke on a node's database, with bad
//! input (unknown PKS id, malformed dates, revoking twice, provider not hosted, duplicate id,
//! malformed ids and files) refused with clear messages, and every action in an audit log
//! that `sinergi audit verify` finds intact.

use std::path::{Path, PathBuf};
use std::process::Command;

const DUKCAPIL: &str = "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA";
const DINSOS: &str = "ID/GOV/DINSOS-3301/BANSOS";

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn sinergi(args: &[&str]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_sinergi"))
        .args(args)
        .output()
        .expect("sinergi runs");
    Out {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// A node hosting Dukcapil, its data in `dir/data`.
fn node_config(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    let path = dir.join("node.toml");
    std::fs::write(
        &path,
        format!(
            "node_name = \"dukcapil-uji\"\ndata_dir = {:?}\n\n[[members]]\nid = \"{DUKCAPIL}\"\n\
             name = \"Dukcapil\"\nservices = [\"verifikasi-identitas\"]\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    path
}

fn create_args<'a>(cfg: &'a str, id: &'a str, from: &'a str, until: &'a str) -> Vec<&'a str> {
    vec![
        "pks",
        "create",
        "--config",
        cfg,
        "--id",
        id,
        "--provider",
        DUKCAPIL,
        "--consumer",
        DINSOS,
        "--service",
        "verifikasi-identitas:nama,tgl_lahir",
        "--purpose",
        "VALIDASI_BANSOS",
        "--legal-basis",
        "UU 24/2013; PKS uji",
        "--region",
        "33.01",
        "--from",
        from,
        "--until",
        until,
        "--by",
        "admin.dukcapil",
    ]
}

/// `sinergi pks ACTION ID --config CFG --by BY --reason REASON`.
fn change(cfg: &str, action: &str, id: &str, by: &str, reason: &str) -> Out {
    sinergi(&[
        "pks", action, id, "--config", cfg, "--by", by, "--reason", reason,
    ])
}

fn list_json(cfg: &str) -> serde_json::Value {
    let o = sinergi(&["pks", "list", "--config", cfg, "--json"]);
    assert!(o.ok, "{}", o.stderr);
    serde_json::from_str(&o.stdout).unwrap()
}

fn status_of(cfg: &str, id: &str) -> String {
    list_json(cfg)["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .map(|a| a["status_now"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{id} not listed"))
}

#[test]
fn agreements_lifecycle_with_bad_input_and_audit() {
    let dir = tempfile::TempDir::new().unwrap();
    let cfg_path = node_config(dir.path());
    let cfg = cfg_path.to_str().unwrap();

    let o = sinergi(&["pks", "list", "--config", cfg]);
    assert!(o.ok, "{}", o.stderr);
    assert!(o.stdout.contains("Belum ada PKS"), "{}", o.stdout);

    let o = sinergi(&create_args(cfg, "PKS-UJI-001", "2025-01-01", "2030-12-31"));
    assert!(o.ok, "{}", o.stderr);
    assert!(o.stdout.contains("PKS PKS-UJI-001 dibuat"), "{}", o.stdout);
    assert!(
        o.stdout.contains("2025-01-01 s.d. 2030-12-31"),
        "{}",
        o.stdout
    );

    let o = sinergi(&["pks", "list", "--config", cfg]);
    assert!(o.ok, "{}", o.stderr);
    for want in [
        "PKS-UJI-001  AKTIF",
        DINSOS,
        "verifikasi-identitas (nama, tgl_lahir)",
        "33.01",
    ] {
        assert!(
            o.stdout.contains(want),
            "{want:?} missing in:\n{}",
            o.stdout
        );
    }

    // Malformed and impossible dates, each named.
    for (from, until, bad) in [
        ("2025-13-01", "2030-12-31", "2025-13-01"),
        ("01-01-2025", "2030-12-31", "01-01-2025"),
        ("2025-01-01", "2030-02-30", "2030-02-30"),
    ] {
        let o = sinergi(&create_args(cfg, "PKS-UJI-TGL", from, until));
        assert!(!o.ok, "accepted {from}..{until}");
        assert!(
            o.stderr.contains(bad) && o.stderr.contains("YYYY-MM-DD"),
            "{}",
            o.stderr
        );
    }
    // An end before the start.
    let o = sinergi(&create_args(cfg, "PKS-UJI-TGL", "2026-01-01", "2025-12-31"));
    assert!(!o.ok);
    assert!(o.stderr.contains("PKS tidak sah"), "{}", o.stderr);
    // The same id twice.
    let o = sinergi(&create_args(cfg, "PKS-UJI-001", "2025-01-01", "2030-12-31"));
    assert!(!o.ok);
    assert!(o.stderr.contains("sudah ada"), "{}", o.stderr);
    // A provider this node does not host.
    let mut args = create_args(cfg, "PKS-UJI-BPJS", "2025-01-01", "2030-12-31");
    args[7] = "ID/GOV/BPJS-KESEHATAN/KEPESERTAAN";
    let o = sinergi(&args);
    assert!(!o.ok);
    assert!(
        o.stderr.contains("tidak di-host node ini") && o.stderr.contains(DUKCAPIL),
        "{}",
        o.stderr
    );
    // A consumer that is not a member id.
    let mut args = create_args(cfg, "PKS-UJI-X", "2025-01-01", "2030-12-31");
    args[9] = "DINSOS";
    let o = sinergi(&args);
    assert!(!o.ok);
    assert!(o.stderr.contains("--consumer"), "{}", o.stderr);
    // A lower-case purpose code.
    let mut args = create_args(cfg, "PKS-UJI-X", "2025-01-01", "2030-12-31");
    args[13] = "validasi";
    let o = sinergi(&args);
    assert!(!o.ok);
    assert!(o.stderr.contains("purpose"), "{}", o.stderr);

    // Unknown id.
    let o = change(cfg, "suspend", "PKS-TIDAK-ADA", "admin", "uji");
    assert!(!o.ok);
    assert!(
        o.stderr.contains("PKS PKS-TIDAK-ADA tidak ada"),
        "{}",
        o.stderr
    );
    // Who and why are required.
    let o = change(cfg, "suspend", "PKS-UJI-001", " ", "uji");
    assert!(!o.ok);
    assert!(o.stderr.contains("--by dan --reason"), "{}", o.stderr);

    let o = change(cfg, "suspend", "PKS-UJI-001", "admin.dukcapil", "audit BPK");
    assert!(o.ok, "{}", o.stderr);
    assert!(o.stdout.contains("dibekukan"), "{}", o.stdout);
    assert_eq!(status_of(cfg, "PKS-UJI-001"), "DIBEKUKAN");
    let o = sinergi(&["pks", "list", "--config", cfg]);
    assert!(
        o.stdout.contains("oleh admin.dukcapil: audit BPK"),
        "{}",
        o.stdout
    );

    let o = change(
        cfg,
        "reinstate",
        "PKS-UJI-001",
        "admin.dukcapil",
        "audit selesai",
    );
    assert!(o.ok, "{}", o.stderr);
    assert_eq!(status_of(cfg, "PKS-UJI-001"), "AKTIF");

    let revoke = || change(cfg, "revoke", "PKS-UJI-001", "kepala.dinas", "PKS diakhiri");
    let o = revoke();
    assert!(o.ok, "{}", o.stderr);
    assert!(o.stdout.contains("dicabut"), "{}", o.stdout);
    assert_eq!(status_of(cfg, "PKS-UJI-001"), "DICABUT");
    // Revoking twice: refused, final.
    let o = revoke();
    assert!(!o.ok);
    assert!(
        o.stderr.contains("sudah dicabut") && o.stderr.contains("final"),
        "{}",
        o.stderr
    );
    // Nor can it be reinstated.
    let o = change(cfg, "reinstate", "PKS-UJI-001", "admin", "x");
    assert!(!o.ok);
    assert!(o.stderr.contains("sudah dicabut"), "{}", o.stderr);

    // From a JSON file, the admin API's format.
    let mut a = list_json(cfg)["agreements"][0].clone();
    a["id"] = "PKS-UJI-002".into();
    a["status_history"] = serde_json::json!([]);
    a.as_object_mut().unwrap().remove("status_now");
    let file = dir.path().join("pks.json");
    std::fs::write(&file, a.to_string()).unwrap();
    let o = sinergi(&[
        "pks",
        "create",
        "--config",
        cfg,
        "--file",
        file.to_str().unwrap(),
    ]);
    assert!(o.ok, "{}", o.stderr);
    assert_eq!(status_of(cfg, "PKS-UJI-002"), "AKTIF");
    std::fs::write(&file, "{\"id\": 1}").unwrap();
    let o = sinergi(&[
        "pks",
        "create",
        "--config",
        cfg,
        "--file",
        file.to_str().unwrap(),
    ]);
    assert!(!o.ok);
    assert!(o.stderr.contains("bukan PKS dalam JSON"), "{}", o.stderr);

    // Every decision is in the audit log, and the log verifies.
    let o = sinergi(&["audit", "verify", "--config", cfg, "--json"]);
    assert!(o.ok, "{}\n{}", o.stdout, o.stderr);
    let report: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    // create, end before start, duplicate, not hosted, lower-case purpose, unknown id,
    // suspend, reinstate, revoke, revoke again, reinstate revoked, create from file.
    // Malformed dates, ids, files and a missing --by never reach a decision (they are
    // refused while the command line is read).
    assert_eq!(report["entries"], 12, "{report}");
}
