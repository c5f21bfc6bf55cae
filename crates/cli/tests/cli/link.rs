//! `sinergi link`: generic linkage of lists without NIK, and deduplication of one list.
//!
//! The tests named `problem_N_…` are issue 16's numbered problems: each failed on the code
//! before it (dates read as missing, the name veto, fixed m/u, row numbers as the only key,
//! and the smaller faults of problem 5).

use super::sinergi_in;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use sinergi_febrl::{Record, entity};

const EXAMPLE: &str = include_str!("../../../../config/link/example.toml");
const FEBRL: &str = include_str!("../../../../config/link/febrl.toml");
const LINK_DOC: &str = include_str!("../../../../docs/LINK.md");

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

fn write_records(dir: &Path, name: &str, records: &[Record]) {
    let mut out = Vec::new();
    sinergi_febrl::write_csv(&mut out, records).unwrap();
    write(dir, name, &out);
}

fn link(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["link"];
    all.extend_from_slice(args);
    sinergi_in(dir, &all)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The output CSV as (header, rows by column name).
fn table(csv: &[u8]) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut r = csv::Reader::from_reader(csv);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect();
    (header, rows)
}

/// Data rows of the output CSV as (left_row, right_row, match), columns found by name.
fn pairs(csv: &[u8]) -> Vec<(u64, u64, String)> {
    let (_, rows) = table(csv);
    rows.iter()
        .map(|r| {
            (
                r["left_row"].parse().unwrap(),
                r["right_row"].parse().unwrap(),
                r["match"].clone(),
            )
        })
        .collect()
}

/// Pairwise precision, recall and F1 of the MATCH pairs against the truth in FEBRL ids.
fn f1(out: &[u8], left: &[Record], right: Option<&[Record]>) -> (f64, f64, f64) {
    let (_, rows) = table(out);
    let dedup = right.is_none();
    let key = |a: &str, b: &str| {
        if dedup && a > b {
            (b.to_string(), a.to_string())
        } else {
            (a.to_string(), b.to_string())
        }
    };
    let predicted: HashSet<(String, String)> = rows
        .iter()
        .filter(|r| r["match"] == "MATCH")
        .map(|r| key(&r["left_rec_id"], &r["right_rec_id"]))
        .collect();
    let mut truth = HashSet::new();
    let right = right.unwrap_or(left);
    let mut by_entity: HashMap<u64, Vec<&str>> = HashMap::new();
    for r in right {
        by_entity
            .entry(entity(&r.rec_id).unwrap())
            .or_default()
            .push(&r.rec_id);
    }
    for l in left {
        for r in &by_entity[&entity(&l.rec_id).unwrap()] {
            if !dedup || l.rec_id.as_str() != *r {
                truth.insert(key(&l.rec_id, r));
            }
        }
    }
    let correct = predicted.intersection(&truth).count() as f64;
    let p = correct / predicted.len().max(1) as f64;
    let r = correct / truth.len().max(1) as f64;
    (p, r, 2.0 * p * r / (p + r).max(1e-12))
}

// ---------------------------------------------------------------------------------------
// The documented quick start.

/// The `sinergi link` lines of the quick-start block of docs/LINK.md, split into arguments
/// (the block has no quoting).
fn quick_start_commands() -> Vec<Vec<String>> {
    let start = LINK_DOC
        .find("<!-- quick-start:")
        .expect("docs/LINK.md has the quick-start marker");
    let block = &LINK_DOC[start..];
    let open = block.find("```sh\n").unwrap() + 6;
    let close = open + block[open..].find("```").unwrap();
    block[open..close]
        .lines()
        .filter(|l| l.starts_with("sinergi link "))
        .map(|l| l.split_whitespace().skip(2).map(str::to_string).collect())
        .collect()
}

/// Issue 16, "Done when" 1: on FEBRL-like lists generated here (FEBRL's fields, formats and
/// kinds of corruption; nothing downloaded), in the linkage and the deduplication shape, the
/// quick start of docs/LINK.md run exactly as written reaches F1 ≥ 0.995, with m and u
/// learnt (the configuration sets none).
#[test]
fn the_documented_quick_start_links_and_deduplicates_febrl_like_lists() {
    assert!(
        !FEBRL
            .lines()
            .any(|l| l.trim_start().starts_with("m =") || l.trim_start().starts_with("u =")),
        "the quick-start configuration sets no m/u"
    );
    let commands = quick_start_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "config/link/febrl.toml", FEBRL.as_bytes());
    // Seeds other than the ones the configuration was tried on.
    let (a, b) = sinergi_febrl::link_pair(5_000, 1601);
    let list = sinergi_febrl::dedup_list(2_000, 3_000, 1602);
    write_records(d, "febrl4_a.csv", &a);
    write_records(d, "febrl4_b.csv", &b);
    write_records(d, "febrl3.csv", &list);
    for args in &commands {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = link(d, &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("m: em, u: random_pairs"), "m/u learnt: {err}");
        let out_file = args[args.iter().position(|a| *a == "--out").unwrap() + 1];
        let csv = std::fs::read(d.join(out_file)).unwrap();
        let (p, r, f) = if args.contains(&"--dedup") {
            f1(&csv, &list, None)
        } else {
            f1(&csv, &a, Some(&b))
        };
        assert!(
            f >= 0.995,
            "{args:?}: precision {p:.5} recall {r:.5} F1 {f:.5}\n{err}"
        );
    }
    // The clusters of the deduplicated list: every record of a cluster is one person, mostly.
    let (_, clusters) = table(&std::fs::read(d.join("klaster.csv")).unwrap());
    assert!(clusters.len() > 2_000, "{}", clusters.len());
    let mut people: HashMap<&str, HashSet<u64>> = HashMap::new();
    for c in &clusters {
        people
            .entry(c["cluster"].as_str())
            .or_default()
            .insert(entity(&c["rec_id"]).unwrap());
    }
    let pure = people.values().filter(|p| p.len() == 1).count();
    assert!(
        pure as f64 >= 0.99 * people.len() as f64,
        "{pure} of {}",
        people.len()
    );
}

// ---------------------------------------------------------------------------------------
// Problem 1: dates.

/// FEBRL's `YYYYMMDD` dates were read as missing, so date blocking compared nothing, silently.
#[test]
fn problem_1_yyyymmdd_dates_are_read_blocked_on_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    write(
        d,
        "kiri.csv",
        b"nama,tgl_lahir,kode_desa\nSiti Aminah,19850102,3201012002\nAgus Salim,19600707,3201012005\nBudi Santoso,19701399,3201012003\n",
    );
    write(
        d,
        "kanan.csv",
        b"nama,tgl_lahir,kode_desa\nAgus Salim,07/07/1960,3201012005\nSiti Aminah,1985-01-02,3201012002\n",
    );
    let out = link(
        d,
        &[
            "--left",
            "kiri.csv",
            "--right",
            "kanan.csv",
            "--config",
            "cfg.toml",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let p = pairs(&out.stdout);
    assert!(p.contains(&(2, 3, "MATCH".into())), "{p:?}");
    assert!(p.contains(&(3, 2, "MATCH".into())), "{p:?}");
    let err = stderr(&out);
    assert!(
        err.contains("Kolom tgl_lahir (kiri): 3 terisi, 1 tidak terbaca; tata letak: YYYYMMDD 2"),
        "{err}"
    );
    assert!(
        err.contains("baris 4: \"19701399\" (DATE_IMPOSSIBLE)"),
        "{err}"
    );
    assert!(!err.contains("Pasangan dibandingkan: 0"), "{err}");
}

/// `15/05/85` was read as the year 0085; two-digit years now use the documented pivot 30.
#[test]
fn problem_1_two_digit_years_use_the_pivot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    write(
        d,
        "kiri.csv",
        b"nama,tgl_lahir,kode_desa\nSiti Aminah,15/05/85,3201012002\nDewi Lestari,03-02-07,3201012003\n",
    );
    write(
        d,
        "kanan.csv",
        b"nama,tgl_lahir,kode_desa\nSiti Aminah,1985-05-15,3201012002\nDewi Lestari,2007-02-03,3201012003\n",
    );
    let out = link(
        d,
        &[
            "--left",
            "kiri.csv",
            "--right",
            "kanan.csv",
            "--config",
            "cfg.toml",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let p = pairs(&out.stdout);
    assert!(p.contains(&(2, 2, "MATCH".into())), "{text}");
    assert!(p.contains(&(3, 3, "MATCH".into())), "{text}");
    assert!(text.contains("tgl_lahir:exact:"), "{text}");
    assert!(stderr(&out).contains("DD-MM-YY 2"), "{}", stderr(&out));
}

/// A date column that is mostly unreadable is an error naming the file, column and rows, not
/// an exit 0 with nothing compared.
#[test]
fn problem_1_a_mostly_unreadable_date_column_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    write(
        d,
        "daftar.csv",
        b"nama,tgl_lahir,kode_desa\nSiti,tidak tahu,3201012002\nAgus,1960/13/45,3201012005\nBudi,2 Mei,3201012003\nDewi,1980-01-02,3201012003\n",
    );
    let out = link(d, &["--dedup", "daftar.csv", "--config", "cfg.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("LINK_COLUMN_UNREADABLE"), "{err}");
    assert!(
        err.contains("daftar.csv") && err.contains("tgl_lahir") && err.contains("3 dari 4"),
        "{err}"
    );
    assert!(
        err.contains("baris 2: \"tidak tahu\" (DATE_UNRECOGNISED)"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

// ---------------------------------------------------------------------------------------
// Problem 2: names.

/// Name fields learnt as usual; the birth date and an identity number with stated m/u, so the
/// pairs weigh what they would in a list of a million (these three rows are too few to learn
/// from).
const NAMES_CONFIG: &str = r#"
blocking = [[{ field = "tgl_lahir", transform = "exact" }]]
[[fields]]
name = "nama_depan"
comparator = "name"
[[fields]]
name = "nama_keluarga"
comparator = "name"
[[fields]]
name = "tgl_lahir"
comparator = "date"
m = [0.92, 0.02, 0.02, 0.02, 0.02]
u = [0.00003, 0.00003, 0.0001, 0.0008, 0.99907]
[[fields]]
name = "kode"
comparator = "exact"
m = [0.95, 0.05]
u = [0.0000001, 0.9999999]
"#;

/// Given name and surname in separate columns: a swap or a replaced given name with
/// everything else agreeing is a MATCH (it was POSSIBLE whatever the weight: any name field
/// that disagreed vetoed it). A veto happens only where configured.
#[test]
fn problem_2_a_disagreeing_name_field_does_not_veto_a_match_unless_configured() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", NAMES_CONFIG.as_bytes());
    write(
        d,
        "kiri.csv",
        b"nama_depan,nama_keluarga,tgl_lahir,kode\nmichaela,neumann,1915-11-11,5304218\ncourtney,painter,1916-12-14,4066625\nvanessa,parr,1995-11-19,9239102\n",
    );
    write(
        d,
        "kanan.csv",
        b"nama_depan,nama_keluarga,tgl_lahir,kode\nneumann,michaela,1915-11-11,5304218\njessica,painter,1916-12-14,4066625\nvanessa,parr,1995-11-19,9239102\n",
    );
    let args = [
        "--left",
        "kiri.csv",
        "--right",
        "kanan.csv",
        "--config",
        "cfg.toml",
    ];
    let out = link(d, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let p = pairs(&out.stdout);
    for pair in [(2, 2), (3, 3), (4, 4)] {
        assert!(
            p.contains(&(pair.0, pair.1, "MATCH".into())),
            "{pair:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    // swap_with compares the swapped names crosswise: both agree exactly.
    let swap = NAMES_CONFIG.replace(
        "name = \"nama_depan\"\ncomparator = \"name\"",
        "name = \"nama_depan\"\ncomparator = \"name\"\nswap_with = \"nama_keluarga\"",
    );
    write(d, "swap.toml", swap.as_bytes());
    let out = link(
        d,
        &[
            "--left",
            "kiri.csv",
            "--right",
            "kanan.csv",
            "--config",
            "swap.toml",
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("nama_depan:exact/swapped:") && text.contains("nama_keluarga:exact/swapped:"),
        "{text}"
    );

    // veto = true on the given name: the replaced given name is no longer a MATCH.
    let veto = NAMES_CONFIG.replace(
        "name = \"nama_depan\"\ncomparator = \"name\"",
        "name = \"nama_depan\"\ncomparator = \"name\"\nveto = true",
    );
    write(d, "veto.toml", veto.as_bytes());
    let out = link(
        d,
        &[
            "--left",
            "kiri.csv",
            "--right",
            "kanan.csv",
            "--config",
            "veto.toml",
        ],
    );
    let p = pairs(&out.stdout);
    assert!(p.contains(&(3, 3, "POSSIBLE".into())), "{p:?}");
    assert!(p.contains(&(4, 4, "MATCH".into())), "{p:?}");
}

// ---------------------------------------------------------------------------------------
// Problem 3: m and u learnt from the data.

/// The same configuration, with no m/u and the default threshold, keeps its precision and
/// recall on a small and a ten times larger list (a weight threshold fitted on one size lost
/// precision on another), prints the learnt parameters, and a saved model gives the same
/// pairs when reused.
#[test]
fn problem_3_learnt_m_u_and_a_probability_threshold_transfer_between_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", FEBRL.as_bytes());
    for (n, seed) in [(500, 31), (5_000, 32)] {
        let (a, b) = sinergi_febrl::link_pair(n, seed);
        write_records(d, "a.csv", &a);
        write_records(d, "b.csv", &b);
        let out = link(
            d,
            &[
                "--left",
                "a.csv",
                "--right",
                "b.csv",
                "--config",
                "cfg.toml",
                "--out",
                "p.csv",
                "--simpan-model",
                "model.toml",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        let csv = std::fs::read(d.join("p.csv")).unwrap();
        let (p, r, _) = f1(&csv, &a, Some(&b));
        assert!(
            p >= 0.995 && r >= 0.99,
            "{n}: precision {p} recall {r}\n{err}"
        );
        assert!(err.contains("Model (dipelajari dari data"), "{err}");
        assert!(
            err.contains("soc_sec_id [code; m: em, u: random_pairs]"),
            "{err}"
        );
        assert!(err.contains("prior (peluang dua catatan acak"), "{err}");
        // The saved model, reused, gives the same pairs without learning.
        let again = link(
            d,
            &[
                "--left",
                "a.csv",
                "--right",
                "b.csv",
                "--config",
                "cfg.toml",
                "--out",
                "q.csv",
                "--model",
                "model.toml",
            ],
        );
        assert!(again.status.success(), "{}", stderr(&again));
        assert!(stderr(&again).contains("Model (dari model.toml)"));
        assert_eq!(csv, std::fs::read(d.join("q.csv")).unwrap());
    }
    // A model that does not fit the configuration is refused.
    write(d, "other.toml", EXAMPLE.as_bytes());
    let out = link(
        d,
        &[
            "--dedup",
            "a.csv",
            "--config",
            "other.toml",
            "--model",
            "model.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("LINK_MODEL_MISMATCH"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------------------
// Problem 4: output.

/// Ids pass through, pairs come best first, `--satu-satu` and `--terbaik` keep one pair per
/// row, the default output holds only pairs above the review threshold (`--semua-pasangan`
/// every compared pair), a column can serve blocking only, and `--dedup` writes clusters.
#[test]
fn problem_4_ids_order_one_to_one_best_compact_blocking_only_and_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", FEBRL.as_bytes());
    let (a, b) = sinergi_febrl::link_pair(1_000, 41);
    write_records(d, "a.csv", &a);
    write_records(d, "b.csv", &b);
    let base = [
        "--left", "a.csv", "--right", "b.csv", "--config", "cfg.toml",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        let out = link(d, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        out
    };
    let out = run(&[]);
    let (header, rows) = table(&out.stdout);
    assert_eq!(
        &header[..8],
        [
            "left_row",
            "right_row",
            "left_rec_id",
            "right_rec_id",
            "probability",
            "weight",
            "match",
            "evidence"
        ]
    );
    assert!(rows.iter().all(|r| r["left_rec_id"].starts_with("rec-")));
    let weights: Vec<f64> = rows.iter().map(|r| r["weight"].parse().unwrap()).collect();
    assert!(weights.windows(2).all(|w| w[0] >= w[1]), "best first");
    let probability: Vec<f64> = rows
        .iter()
        .map(|r| r["probability"].parse().unwrap())
        .collect();
    assert!(
        probability.iter().all(|p| *p >= 0.01),
        "compact: only pairs above review"
    );
    let all = run(&["--semua-pasangan"]);
    let (_, all_rows) = table(&all.stdout);
    assert!(
        all_rows.len() > rows.len(),
        "{} {}",
        all_rows.len(),
        rows.len()
    );
    assert!(
        all_rows
            .iter()
            .any(|r| r["probability"].parse::<f64>().unwrap() < 0.01)
    );

    for flag in ["--satu-satu", "--terbaik"] {
        let out = run(&[flag, "--semua-pasangan"]);
        let (_, kept) = table(&out.stdout);
        let lefts: HashSet<&str> = kept.iter().map(|r| r["left_row"].as_str()).collect();
        assert_eq!(lefts.len(), kept.len(), "{flag}: one pair per left row");
        if flag == "--satu-satu" {
            let rights: HashSet<&str> = kept.iter().map(|r| r["right_row"].as_str()).collect();
            assert_eq!(rights.len(), kept.len(), "one pair per right row");
        }
        let right = kept
            .iter()
            .filter(|r| entity(&r["left_rec_id"]) == entity(&r["right_rec_id"]))
            .count();
        assert!(right as f64 >= 0.99 * 1_000.0, "{flag}: {right}");
    }

    // A blocking-only column: blocks pairs, never scored or in the evidence.
    let only = FEBRL.replace(
        "[[fields]]\nname = \"given_name\"",
        "[[fields]]\nname = \"suburb\"\ncomparator = \"text\"\nscore = false\n\n[[fields]]\nname = \"given_name\"",
    )
    .replace(
        "blocking = [\n",
        "blocking = [\n    [{ field = \"suburb\", transform = \"exact\" }, { field = \"street_number\", transform = \"exact\" }],\n",
    );
    write(d, "only.toml", only.as_bytes());
    let out = link(
        d,
        &[
            "--left",
            "a.csv",
            "--right",
            "b.csv",
            "--config",
            "only.toml",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (header, rows) = table(&out.stdout);
    assert!(header.contains(&"left_suburb".to_string()));
    assert!(rows.iter().all(|r| !r["evidence"].contains("suburb:")));
    assert!(!stderr(&out).contains("suburb [text"), "not in the model");

    // Clusters of a deduplicated list.
    let list = sinergi_febrl::dedup_list(300, 400, 42);
    write_records(d, "list.csv", &list);
    let out = link(
        d,
        &[
            "--dedup",
            "list.csv",
            "--config",
            "cfg.toml",
            "--klaster",
            "k.csv",
            "--out",
            "p.csv",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (header, clusters) = table(&std::fs::read(d.join("k.csv")).unwrap());
    assert_eq!(header, ["row", "rec_id", "cluster", "cluster_size"]);
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for c in &clusters {
        *sizes.entry(c["cluster"].as_str()).or_default() += 1;
    }
    for c in &clusters {
        assert_eq!(
            c["cluster_size"].parse::<usize>().unwrap(),
            sizes[c["cluster"].as_str()]
        );
    }
    let truth: HashMap<u64, usize> = list.iter().fold(HashMap::new(), |mut m, r| {
        *m.entry(entity(&r.rec_id).unwrap()).or_default() += 1;
        m
    });
    let in_clusters = truth.values().filter(|&&n| n > 1).copied().sum::<usize>();
    assert!(
        clusters.len() as f64 >= 0.97 * in_clusters as f64,
        "{} of {in_clusters}",
        clusters.len()
    );
}

// ---------------------------------------------------------------------------------------
// Problem 5: the smaller faults.

/// `--threshold-weight -5` with a space works (a negative number was taken for a flag), and
/// `--threshold -5` says what to use instead.
#[test]
fn problem_5_a_negative_threshold_is_read_with_a_space() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    write(d, "daftar.csv", LIST.as_bytes());
    let spaced = link(
        d,
        &[
            "--dedup",
            "daftar.csv",
            "--config",
            "cfg.toml",
            "--threshold-weight",
            "-5",
        ],
    );
    assert!(spaced.status.success(), "{}", stderr(&spaced));
    let joined = link(
        d,
        &[
            "--dedup",
            "daftar.csv",
            "--config",
            "cfg.toml",
            "--threshold-weight=-5",
        ],
    );
    assert_eq!(spaced.stdout, joined.stdout);
    assert!(
        stderr(&spaced).contains("bobot ≥ -5"),
        "{}",
        stderr(&spaced)
    );
    let wrong = link(
        d,
        &[
            "--dedup",
            "daftar.csv",
            "--config",
            "cfg.toml",
            "--threshold",
            "-5",
        ],
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("--threshold-weight -5"),
        "{}",
        stderr(&wrong)
    );
}

/// One oversized block is one skipped block (it was counted once per record that looked it up).
#[test]
fn problem_5_one_oversized_block_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = EXAMPLE.replace("blocking = [", "max_block = 10\nblocking = [");
    write(d, "cfg.toml", cfg.as_bytes());
    let mut list = String::from("nama,tgl_lahir,kode_desa\n");
    // Fifty different names (no two share a phonetic key), one birth date: one block of 50.
    let c = ['B', 'D', 'K', 'L', 'M', 'N', 'P', 'R', 'S', 'J'];
    for i in 0..50 {
        list.push_str(&format!(
            "{}a{}o,1970-01-01,32010120{:02}\n",
            c[i % 10],
            c[i / 10].to_ascii_lowercase(),
            i % 30 + 1
        ));
    }
    write(d, "daftar.csv", list.as_bytes());
    let out = link(d, &["--dedup", "daftar.csv", "--config", "cfg.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Blok terlalu besar dilewati: 1 (terbesar 50 catatan, lebih dari max_block = 10; 1.225 pasangan tidak dibandingkan)"),
        "{err}"
    );
}

/// A transform that does not fit its field (phonetic on a date) is refused.
#[test]
fn problem_5_a_transform_that_does_not_fit_the_field_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = EXAMPLE.replace(
        "[{ field = \"tgl_lahir\", transform = \"exact\" }]",
        "[{ field = \"tgl_lahir\", transform = \"phonetic\" }]",
    );
    write(d, "cfg.toml", cfg.as_bytes());
    write(d, "daftar.csv", LIST.as_bytes());
    let out = link(d, &["--dedup", "daftar.csv", "--config", "cfg.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("LINK_CONFIG_TRANSFORM")
            && err.contains("phonetic")
            && err.contains("tgl_lahir"),
        "{err}"
    );
}

/// The evidence column splits unambiguously even when a column name has `;` or `:`.
#[test]
fn problem_5_evidence_escapes_field_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = EXAMPLE
        .replace("name = \"nama\"", "name = \"nama;lengkap:ktp\"")
        .replace("field = \"nama\"", "field = \"nama;lengkap:ktp\"");
    write(d, "cfg.toml", cfg.as_bytes());
    write(
        d,
        "daftar.csv",
        LIST.replacen("nama,", "\"nama;lengkap:ktp\",", 1)
            .as_bytes(),
    );
    let out = link(d, &["--dedup", "daftar.csv", "--config", "cfg.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, rows) = table(&out.stdout);
    let ev = &rows[0]["evidence"];
    let fields: Vec<Vec<&str>> = ev.split(';').map(|e| e.split(':').collect()).collect();
    assert!(fields.iter().all(|f| f.len() == 3), "{ev}");
    assert_eq!(fields[0][0], "nama%3Blengkap%3Aktp", "{ev}");
}

/// Postcodes are not region codes: a `region` field of 4-digit postcodes is an error (two equal
/// postcodes were `same_regency`).
#[test]
fn problem_5_postcodes_are_not_region_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = EXAMPLE.replace("name = \"kode_desa\"", "name = \"postcode\"");
    write(d, "cfg.toml", cfg.as_bytes());
    write(
        d,
        "daftar.csv",
        b"nama,tgl_lahir,postcode\nSiti Aminah,1985-01-02,2135\nSiti Aminah,1985-01-02,2135\nAgus Salim,1960-07-07,4223\n",
    );
    let out = link(d, &["--dedup", "daftar.csv", "--config", "cfg.toml"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = stderr(&out);
    assert!(
        err.contains("LINK_COLUMN_UNREADABLE")
            && err.contains("postcode")
            && err.contains("REGION_NOT_KEMENDAGRI"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Reading files, configuration errors, determinism.

const LIST: &str = "nama,tgl_lahir,kode_desa\n\
    Muhammad Rizki,1990-05-12,3201012001\n\
    Siti Aminah,1985-01-02,3201012002\n\
    Budi Santoso,1970-03-04,3201012003\n\
    Budi Santoso,1978-08-09,3201012003\n\
    Muhamad Rizky,12-05-1990,32.01.01.2001\n\
    Budi Santoso,1970-11-20,3302022004\n\
    Budi Santoso,1970-09-15,3201012003\n";

#[test]
fn dedup_finds_spelling_variants_with_the_same_birth_date_but_not_namesakes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    write(d, "daftar.csv", LIST.as_bytes());
    let out = link(
        d,
        &[
            "--dedup",
            "daftar.csv",
            "--config",
            "cfg.toml",
            "--out",
            "p.csv",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let p = pairs(&std::fs::read(d.join("p.csv")).unwrap());
    assert!(
        p.contains(&(2, 6, "MATCH".into())),
        "Muhammad Rizki / Muhamad Rizky, same birth date: {p:?}"
    );
    for namesake in [(4, 5), (4, 7), (5, 7), (4, 8), (7, 8)] {
        assert!(
            !p.iter()
                .any(|(l, r, m)| (*l, *r) == namesake && m == "MATCH"),
            "two Budi Santoso born on different dates are not one person: {p:?}"
        );
    }
    let err = stderr(&out);
    assert!(err.contains("Dibaca (daftar): 7 baris"), "{err}");
    assert!(err.contains("Pasangan dibandingkan:"), "{err}");
    assert!(err.contains("Cocok: 1"), "{err}");
    assert!(err.contains("Blok terlalu besar dilewati: 0"), "{err}");
}

#[test]
fn links_a_bom_semicolon_file_against_a_comma_file_and_names_rows_as_in_a_spreadsheet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    write(
        d,
        "kiri.csv",
        "\u{feff}Nama;Tgl Lahir;Kode Desa;Alamat\r\n\r\nSiti Aminah;02/01/1985;3201012002;\"Jl. Mawar; 3\"\r\nAgus Salim;1960-07-07;3201012005;-\r\n"
            .as_bytes(),
    );
    write(d, "kanan.csv", LIST.as_bytes());
    let out = link(
        d,
        &[
            "--left",
            "kiri.csv",
            "--right",
            "kanan.csv",
            "--config",
            "cfg.toml",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let p = pairs(&out.stdout);
    assert_eq!(
        p,
        [(3, 3, "MATCH".to_string())],
        "row 3 of the left file (after a blank row) is row 3 of the right"
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        text.contains("nama:exact:") && text.contains(";tgl_lahir:exact:"),
        "{text}"
    );
    assert!(
        text.contains(",Siti Aminah,02/01/1985,3201012002,Siti Aminah,1985-01-02,3201012002"),
        "both sides' values are shown: {text}"
    );
    let err = stderr(&out);
    assert!(err.contains("Dibaca (kiri): 2 baris"), "{err}");
    assert!(err.contains("Dibaca (kanan): 7 baris"), "{err}");
}

#[test]
fn same_inputs_give_byte_identical_output_best_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    let mut big = String::from("nama,tgl_lahir,kode_desa\n");
    let names = [
        "Budi Santoso",
        "Siti Aminah",
        "Muhammad Rizki",
        "Dewi Lestari",
    ];
    for i in 0..400 {
        big.push_str(&format!(
            "{},{}-0{}-1{},32010120{:02}\n",
            names[i % 4],
            1960 + i % 7,
            1 + i % 9,
            i % 10,
            i % 13 + 1
        ));
    }
    write(d, "a.csv", big.as_bytes());
    write(d, "b.csv", big.as_bytes());
    let args = |out: &'static str| {
        [
            "--left", "a.csv", "--right", "b.csv", "--config", "cfg.toml", "--out", out,
        ]
    };
    assert!(link(d, &args("1.csv")).status.success());
    assert!(link(d, &args("2.csv")).status.success());
    let (one, two) = (
        std::fs::read(d.join("1.csv")).unwrap(),
        std::fs::read(d.join("2.csv")).unwrap(),
    );
    assert_eq!(one, two);
    let (_, rows) = table(&one);
    assert!(
        rows.len() >= 400,
        "every row finds at least itself: {}",
        rows.len()
    );
    let keys: Vec<(f64, u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                -r["weight"].parse::<f64>().unwrap(),
                r["left_row"].parse().unwrap(),
                r["right_row"].parse().unwrap(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "sorted by weight, then rows"
    );
}

#[test]
fn threshold_on_the_command_line_overrides_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    write(d, "daftar.csv", LIST.as_bytes());
    let out = link(
        d,
        &[
            "--dedup",
            "daftar.csv",
            "--config",
            "cfg.toml",
            "--threshold-weight",
            "1000",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let p = pairs(&out.stdout);
    assert!(p.contains(&(2, 6, "POSSIBLE".into())), "{p:?}");
    assert!(p.iter().all(|(_, _, m)| m == "POSSIBLE"));
    let strict = link(
        d,
        &[
            "--dedup",
            "daftar.csv",
            "--config",
            "cfg.toml",
            "--threshold",
            "0.9999999999",
        ],
    );
    assert!(
        pairs(&strict.stdout)
            .iter()
            .all(|(_, _, m)| m == "POSSIBLE")
    );
}

#[test]
fn a_missing_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "daftar.csv", LIST.as_bytes());
    let out = link(d, &["--dedup", "daftar.csv", "--config", "tidak-ada.toml"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("tidak-ada.toml") && err.contains("LINK_CONFIG_UNREADABLE"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_config_syntax_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "daftar.csv", LIST.as_bytes());
    write(
        d,
        "rusak.toml",
        b"match_probability = 0.5\nblocking = []\n[[fields]]\nname = \"nama\"\ncomparator = \"nama_orang\"\n",
    );
    let out = link(d, &["--dedup", "daftar.csv", "--config", "rusak.toml"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("rusak.toml:5:") && err.contains("LINK_CONFIG_SYNTAX"),
        "{err}"
    );

    write(d, "rusak2.toml", b"match_probability = \n");
    let out = link(d, &["--dedup", "daftar.csv", "--config", "rusak2.toml"]);
    assert!(stderr(&out).contains("rusak2.toml:1:"), "{}", stderr(&out));

    write(
        d,
        "blok.toml",
        b"blocking = [[{ field = \"desa\", transform = \"exact\" }]]\n[[fields]]\nname = \"nama\"\ncomparator = \"name\"\n",
    );
    let out = link(d, &["--dedup", "daftar.csv", "--config", "blok.toml"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("desa") && err.contains("LINK_CONFIG_UNKNOWN_FIELD"),
        "{err}"
    );

    write(
        d,
        "prob.toml",
        b"match_probability = 1.5\nblocking = [[{ field = \"nama\", transform = \"exact\" }]]\n[[fields]]\nname = \"nama\"\ncomparator = \"name\"\n",
    );
    let out = link(d, &["--dedup", "daftar.csv", "--config", "prob.toml"]);
    assert!(
        stderr(&out).contains("LINK_CONFIG_THRESHOLD"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_field_or_id_column_absent_from_a_file_is_named_with_the_columns_found_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    write(d, "kiri.csv", LIST.as_bytes());
    write(
        d,
        "kanan.csv",
        b"NAMA|TGL_LAHIR|DESA\nSiti|1985-01-02|3201012002\n",
    );
    let out = link(
        d,
        &[
            "--left",
            "kiri.csv",
            "--right",
            "kanan.csv",
            "--config",
            "cfg.toml",
            "--out",
            "p.csv",
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("kanan.csv"), "{err}");
    assert!(err.contains("kolom kode_desa tidak ditemukan"), "{err}");
    assert!(err.contains("NAMA, TGL_LAHIR, DESA"), "{err}");
    assert!(err.contains("MAPPING_COLUMN_MISSING"), "{err}");
    assert!(!d.join("p.csv").exists(), "nothing was written");

    let out = link(
        d,
        &[
            "--dedup", "kiri.csv", "--config", "cfg.toml", "--id", "no_kk",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("kolom no_kk tidak ditemukan"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn empty_and_binary_files_are_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    write(d, "kosong.csv", b"");
    let out = link(d, &["--dedup", "kosong.csv", "--config", "cfg.toml"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("kosong.csv") && err.contains("kosong") && err.contains("FILE_EMPTY"),
        "{err}"
    );

    // Deterministic garbage (xorshift), no BOM at the start.
    let mut x: u32 = 0x2545_F491;
    let garbage: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    write(d, "sampah.csv", &garbage);
    write(d, "daftar.csv", LIST.as_bytes());
    let out = link(
        d,
        &[
            "--left",
            "daftar.csv",
            "--right",
            "sampah.csv",
            "--config",
            "cfg.toml",
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("sampah.csv") && err.contains("FILE_NOT_TEXT"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    write(d, "palsu.xlsx", &garbage);
    let out = link(d, &["--dedup", "palsu.xlsx", "--config", "cfg.toml"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("XLSX_UNREADABLE"), "{}", stderr(&out));
}

/// Hostile values: huge cells, binary noise and odd dates are read (or reported), never a
/// crash; the output stays a valid CSV.
#[test]
fn hostile_values_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    let huge = "A".repeat(200_000);
    let list = format!(
        "nama,tgl_lahir,kode_desa\n{huge},1985-01-02,3201012002\n\"x\u{0}y\",29-02-1900,3201012002\n\"Siti, Aminah\",1985-01-02,32.01.01.2002\nSiti Aminah,02/01/85,3201012002\n,, \n"
    );
    write(d, "daftar.csv", list.as_bytes());
    let out = link(d, &["--dedup", "daftar.csv", "--config", "cfg.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, rows) = table(&out.stdout);
    assert!(
        rows.iter()
            .any(|r| r["left_row"] == "4" && r["right_row"] == "5" && r["match"] == "MATCH"),
        "{rows:?}"
    );
    assert!(stderr(&out).contains("DATE_IMPOSSIBLE"), "{}", stderr(&out));
}

#[test]
fn left_without_right_or_with_dedup_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = link(d, &["--left", "a.csv", "--config", "c.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = link(
        d,
        &[
            "--left", "a.csv", "--right", "b.csv", "--dedup", "c.csv", "--config", "c.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = link(d, &["--config", "c.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = link(
        d,
        &[
            "--left",
            "a.csv",
            "--right",
            "b.csv",
            "--config",
            "c.toml",
            "--klaster",
            "k.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "--klaster needs --dedup");
}

/// With `SINERGI_LANG=en` the summary and the errors are in English (Bahasa Indonesia is the
/// default, as every test above reads it).
#[test]
fn the_summary_and_errors_are_in_english_with_sinergi_lang_en() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cfg.toml", EXAMPLE.as_bytes());
    write(d, "daftar.csv", LIST.as_bytes());
    let en = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sinergi"))
            .arg("link")
            .args(args)
            .current_dir(d)
            .env("SINERGI_LANG", "en")
            .output()
            .unwrap()
    };
    let out = en(&["--dedup", "daftar.csv", "--config", "cfg.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    for text in [
        "Read (list): 7 rows from daftar.csv",
        "Column tgl_lahir (list): 7 present, 0 unreadable; layouts:",
        "Pairs compared:",
        "Oversized blocks skipped: 0",
        "prior (probability two random records are the same person)",
        "Matches: 1 (probability ≥ 0.5)",
    ] {
        assert!(err.contains(text), "{text}: {err}");
    }
    assert!(!err.contains("Dibaca"), "{err}");
    let out = en(&[
        "--dedup",
        "daftar.csv",
        "--config",
        "cfg.toml",
        "--threshold",
        "7",
    ]);
    assert!(
        stderr(&out).contains("is not a probability")
            && stderr(&out).contains("--threshold-weight 7"),
        "{}",
        stderr(&out)
    );
}
