//! End-to-end validation runs on a small hand-made world: a real SQLite store, a real XLSX
//! roster read through the roster mapping, the real programme rules.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sinergi_engine::eval::eval;
use sinergi_engine::facts::RosterRow;
use sinergi_engine::run::{find_program, load_ledger, load_programs, required_tables};
use sinergi_engine::{EngineError, OutputFormat, Registries, ValidateRequest, Validator, validate};
use sinergi_model::standard::{Record, Table, Value};
use sinergi_store::{DatasetMeta, LoadMode, LoadStats, Store};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rec(table: Table, pairs: &[(&str, Value)]) -> Record {
    let mut values = vec![Value::Null; table.fields().len()];
    for (k, v) in pairs {
        values[table.field_index(k).unwrap_or_else(|| panic!("{k}"))] = v.clone();
    }
    Record { table, values }
}

fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}

const KK1: &str = "3201010101100001";
const VILLAGE: &str = "3201012001";

/// nik, kk, name, sex, birth, relationship, occupation, village
type PersonRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const PEOPLE: &[PersonRow] = &[
    (
        "3201011203800001",
        KK1,
        "BUDI SANTOSO",
        "L",
        "1980-03-12",
        "KEPALA KELUARGA",
        "PETANI/PEKEBUN",
        VILLAGE,
    ),
    (
        "3201015505850002",
        KK1,
        "SITI AMINAH",
        "P",
        "1985-05-15",
        "ISTRI",
        "MENGURUS RUMAH TANGGA",
        VILLAGE,
    ),
    (
        "3201012007700003",
        "3201010101100002",
        "AHMAD DAHLAN",
        "L",
        "1970-07-20",
        "KEPALA KELUARGA",
        "WIRASWASTA",
        VILLAGE,
    ),
    (
        "3201010101750004",
        "3201010101100003",
        "JOKO PRASETYO",
        "L",
        "1975-01-01",
        "KEPALA KELUARGA",
        "WIRASWASTA",
        VILLAGE,
    ),
    (
        "3201014402900005",
        "3201010101100003",
        "DEWI LESTARI",
        "P",
        "1990-02-04",
        "ISTRI",
        "MENGURUS RUMAH TANGGA",
        VILLAGE,
    ),
    (
        "3201011111880006",
        "3201010101100004",
        "RUDI HARTONO",
        "L",
        "1988-11-11",
        "KEPALA KELUARGA",
        "KARYAWAN SWASTA",
        VILLAGE,
    ),
    (
        "3201016212920007",
        "3201010101100005",
        "ANI SURYANI",
        "P",
        "1992-12-22",
        "KEPALA KELUARGA",
        "PEDAGANG",
        "3271011001",
    ),
    (
        "3201010303600008",
        "3201010101100006",
        "KARTO WIRYO",
        "L",
        "1960-03-03",
        "KEPALA KELUARGA",
        "BURUH HARIAN LEPAS",
        VILLAGE,
    ),
    (
        "3201011506950009",
        "3201010101100007",
        "BAMBANG SUTRISNO",
        "L",
        "1995-06-15",
        "KEPALA KELUARGA",
        "PETANI/PEKEBUN",
        VILLAGE,
    ),
];

fn registry_records() -> Vec<Record> {
    let mut v = Vec::new();
    for (nik, kk, name, sex, birth, rel, occ, village) in PEOPLE {
        v.push(rec(
            Table::Person,
            &[
                ("nik", t(nik)),
                ("kk", t(kk)),
                ("name", t(name)),
                ("sex", t(sex)),
                ("birth_date", t(birth)),
                ("family_relationship", t(rel)),
                ("occupation", t(occ)),
                ("region", t(village)),
            ],
        ));
    }
    v.push(rec(
        Table::Death,
        &[
            ("nik", t("3201012007700003")),
            ("death_date", t("2026-02-01")),
        ],
    ));
    for (i, (nik, kk, decile)) in [
        ("3201011203800001", KK1, 2),
        ("3201015505850002", KK1, 2),
        ("3201012007700003", "3201010101100002", 1),
        ("3201010101750004", "3201010101100003", 3),
        ("3201014402900005", "3201010101100003", 3),
        ("3201011111880006", "3201010101100004", 9),
        ("3201016212920007", "3201010101100005", 2),
        ("3201011506950009", "3201010101100007", 3),
    ]
    .into_iter()
    .enumerate()
    {
        v.push(rec(
            Table::Decile,
            &[
                ("family_id", t(&format!("F{i}"))),
                ("kk", t(kk)),
                ("nik", t(nik)),
                ("decile", Value::Integer(decile)),
            ],
        ));
    }
    v.push(rec(
        Table::Employment,
        &[
            ("employee_id", t("197501012000031001")),
            ("nik", t("3201010101750004")),
            ("kind", t("PNS")),
        ],
    ));
    v.push(rec(
        Table::Wage,
        &[
            ("nik", t("3201011111880006")),
            ("monthly_wage", Value::Integer(10_000_000)),
            ("employer_id", t("NPP1")),
        ],
    ));
    v.push(rec(
        Table::HealthMembership,
        &[
            ("card_no", t("0001")),
            ("nik", t("3201011111880006")),
            ("segment", t("PPU")),
            ("active", Value::Bool(true)),
        ],
    ));
    v
}

fn dataset_of(table: Table) -> (&'static str, &'static str) {
    match table {
        Table::Person => ("dukcapil-penduduk", "Dukcapil"),
        Table::Death => ("dukcapil-kematian", "Dukcapil"),
        Table::Decile => ("dtsen", "BPS"),
        Table::HealthMembership => ("bpjs-kesehatan", "BPJS Kesehatan"),
        Table::Employment => ("bkn-asn", "BKN"),
        Table::Wage => ("bpjs-ketenagakerjaan-upah", "BPJS Ketenagakerjaan"),
        Table::RosterEntry => ("roster", "Dinas Sosial"),
    }
}

async fn load(store: &Store, table: Table, records: &[Record]) {
    let (name, agency) = dataset_of(table);
    let meta = DatasetMeta {
        name: name.into(),
        table,
        owner_agency: agency.into(),
        description: String::new(),
        reference_codes: Vec::new(),
        update_cadence: String::new(),
    };
    let mut l = store.begin_load(&meta, LoadMode::Snapshot).await.unwrap();
    l.insert(records).await.unwrap();
    l.commit(LoadStats {
        read: records.len() as u64,
        loaded: records.len() as u64,
        version_label: Some("2026-10".into()),
        ..LoadStats::default()
    })
    .await
    .unwrap();
}

/// A store with every registry loaded except `skip`.
async fn store_with(dir: &Path, skip: &[Table]) -> Store {
    let store = Store::open(Some(&dir.join("s.db").display().to_string()))
        .await
        .unwrap();
    let all = registry_records();
    for table in [
        Table::Person,
        Table::Death,
        Table::Decile,
        Table::HealthMembership,
        Table::Employment,
        Table::Wage,
    ] {
        if skip.contains(&table) {
            continue;
        }
        let rs: Vec<Record> = all.iter().filter(|r| r.table == table).cloned().collect();
        load(&store, table, &rs).await;
    }
    store
}

type Row<'a> = (u64, &'a str, &'a str, &'a str, &'a str, &'a str, i64);

/// No, NIK, No KK, Nama KPM, Tanggal Lahir, Kode Desa, Nominal
fn write_roster(path: &Path, program: &str, period: &str, rows: &[Row<'_>], with_nik: bool) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let mut header = vec!["No"];
    if with_nik {
        header.push("NIK");
    }
    header.extend([
        "No KK",
        "Nama KPM",
        "Tanggal Lahir",
        "Alamat",
        "Kode Desa",
        "Program",
        "Nominal",
        "Periode",
    ]);
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, (no, nik, kk, name, birth, village, amount)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        let mut cells: Vec<String> = vec![no.to_string()];
        if with_nik {
            cells.push(nik.to_string());
        }
        cells.extend([
            kk.to_string(),
            name.to_string(),
            birth.to_string(),
            "JL. MAWAR".into(),
            village.to_string(),
            program.into(),
            amount.to_string(),
            period.into(),
        ]);
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(r, c as u16, v).unwrap();
        }
    }
    wb.save(path).unwrap();
}

const PKH_ROWS: &[Row<'static>] = &[
    (
        1,
        "3201011203800001",
        KK1,
        "Budi Santoso",
        "1980-03-12",
        VILLAGE,
        750_000,
    ),
    (
        2,
        "3201012007700003",
        "",
        "AHMAD DAHLAN",
        "1970-07-20",
        VILLAGE,
        750_000,
    ),
    (
        3,
        "3201014402900005",
        "",
        "DEWI LESTARI",
        "1990-02-04",
        VILLAGE,
        750_000,
    ),
    (
        4,
        "3201011111880006",
        "",
        "RUDI HARTONO",
        "1988-11-11",
        VILLAGE,
        750_000,
    ),
    (
        5,
        "3201016212920007",
        "",
        "ANI SURYANI",
        "1992-12-22",
        VILLAGE,
        750_000,
    ),
    (
        6,
        "3201010303600008",
        "",
        "KARTO WIRYO",
        "1960-03-03",
        VILLAGE,
        750_000,
    ),
    (
        7,
        "3201011203800001",
        "",
        "BUDI SANTOSO",
        "1980-03-12",
        VILLAGE,
        750_000,
    ),
    (
        8,
        "3201015505850092",
        "",
        "SITI AMINAH",
        "1985-05-15",
        VILLAGE,
        750_000,
    ),
    (
        9,
        "3201010101990099",
        "",
        "SUPARMAN",
        "1999-01-01",
        VILLAGE,
        750_000,
    ),
    (10, "", "", "TONO", "", VILLAGE, 750_000),
    (
        11,
        "3201011506950009",
        "3201010101100099",
        "BAMBANG SUTRISNO",
        "1995-06-15",
        VILLAGE,
        750_000,
    ),
];

fn request(dir: &Path, roster: &Path, program: &str) -> ValidateRequest {
    let mut req = ValidateRequest::new(roster, program, dir.join("out"));
    req.programs_dir = root().join("config/programs");
    req.mapping = root().join("config/mappings/roster.toml");
    req
}

/// The rows of an officer-facing CSV (BOM, `;`, headers in either language), each by the
/// stable column keys of `sinergi_engine::layout`.
fn csv_rows<R: ?Sized, X: ?Sized>(
    path: &Path,
    columns: &[sinergi_engine::layout::Column<R, X>],
) -> Vec<std::collections::BTreeMap<&'static str, String>> {
    let bytes = std::fs::read(path).unwrap();
    let text = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("a BOM for Excel");
    let mut rd = csv::ReaderBuilder::new().delimiter(b';').from_reader(text);
    let keys: Vec<&'static str> = rd
        .headers()
        .unwrap()
        .iter()
        .map(|h| columns[sinergi_engine::layout::find(columns, h).unwrap()].key)
        .collect();
    rd.records()
        .map(|r| {
            let r = r.unwrap();
            keys.iter()
                .copied()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn verdict_rows(out: &Path) -> Vec<std::collections::BTreeMap<&'static str, String>> {
    csv_rows(
        &out.join("verdicts.csv"),
        sinergi_engine::layout::VERDICT_COLUMNS,
    )
}

fn codes_by_row(out: &Path) -> Vec<(u64, String, String)> {
    verdict_rows(out)
        .into_iter()
        .map(|r| {
            (
                r["row_no"].parse().unwrap(),
                r["verdict"].clone(),
                r["reason_codes"].clone(),
            )
        })
        .collect()
}

fn has(rows: &[(u64, String, String)], row: u64, code: &str) -> bool {
    rows.iter()
        .find(|r| r.0 == row)
        .is_some_and(|r| r.2.split(';').any(|c| c == code))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pkh_list_gets_every_reason_it_deserves() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("pkh.xlsx");
    write_roster(&roster, "PKH", "2026-Q4", PKH_ROWS, true);
    let req = request(dir.path(), &roster, "pkh");
    let out = validate(&store, &req, &mut |_| {}).await.unwrap();
    let rows = codes_by_row(&out.out_dir);
    assert_eq!(rows.len(), PKH_ROWS.len());
    assert_eq!(rows[0].1, "LAYAK", "{:?}", rows[0]);
    assert!(has(&rows, 2, "DECEASED"));
    assert!(
        has(&rows, 3, "CIVIL_SERVANT"),
        "head of KK is PNS: {:?}",
        rows[2]
    );
    assert!(has(&rows, 4, "WAGE_ABOVE_MINIMUM"));
    assert!(has(&rows, 4, "DECILE_ABOVE_CUT"));
    assert!(has(&rows, 5, "OUT_OF_REGION"));
    assert!(has(&rows, 6, "NOT_IN_DTSEN"));
    assert!(has(&rows, 7, "DUPLICATE_IN_LIST"));
    assert!(has(&rows, 8, "NIK_NOT_FOUND"));
    assert!(has(&rows, 9, "NIK_NOT_FOUND"));
    assert!(has(&rows, 10, "NIK_INVALID"));
    assert!(has(&rows, 11, "KK_MISMATCH"));
    // The typo'd NIK gets the right one proposed.
    let rows = verdict_rows(&out.out_dir);
    let row8 = rows.iter().find(|r| r["row_no"] == "8").unwrap();
    assert_eq!(row8["suggested_nik"], "3201015505850002", "suggested NIK");
    assert!(!row8["suggested_score"].is_empty(), "suggestion score");
    // Reasons long table and sources.
    let reasons = csv_rows(
        &out.out_dir.join("reasons.csv"),
        sinergi_engine::layout::REASON_COLUMNS,
    );
    assert!(reasons.iter().any(|r| r["code"] == "DECEASED"
        && r["severity"] == "TIDAK LAYAK"
        && r["agency"] == "Dukcapil"
        && r["dataset"] == "dukcapil-kematian"));
    // Summary: budget at risk.
    assert_eq!(out.summary.total.rows, 11);
    assert!(out.summary.total.amount_tidak_layak >= 750_000 * 3);
    assert_eq!(out.manifest.inputs[0].name, "pkh.xlsx");
    assert_eq!(out.manifest.inputs[0].sha256.len(), 64);
    for f in [
        "verdicts.json",
        "verdicts.xlsx",
        "summary.json",
        "summary.txt",
        "manifest.json",
    ] {
        assert!(out.out_dir.join(f).is_file(), "{f}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.out_dir.join("verdicts.json")).unwrap())
            .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_inputs_give_byte_identical_outputs_whatever_the_block_size() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("pkh.xlsx");
    write_roster(&roster, "PKH", "2026-Q4", PKH_ROWS, true);
    let mut a = request(dir.path(), &roster, "PKH");
    a.out_dir = dir.path().join("a");
    let mut b = a.clone();
    b.out_dir = dir.path().join("b");
    // A list larger than a block streams through blocks with the same result.
    b.block_rows = 2;
    validate(&store, &a, &mut |_| {}).await.unwrap();
    validate(&store, &b, &mut |_| {}).await.unwrap();
    for f in [
        "verdicts.csv",
        "reasons.csv",
        "verdicts.json",
        "verdicts.xlsx",
        "summary.json",
        "summary.txt",
        "manifest.json",
        "rejects.csv",
    ] {
        let x = std::fs::read(a.out_dir.join(f)).unwrap();
        let y = std::fs::read(b.out_dir.join(f)).unwrap();
        assert!(x == y, "{f} differs between identical runs");
    }
}

fn snapshots(store_dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(store_dir.join("s.db.cache")) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "snap"))
        .collect();
    v.sort();
    v
}

fn same_outputs(a: &Path, b: &Path) {
    for f in [
        "verdicts.csv",
        "reasons.csv",
        "verdicts.json",
        "summary.json",
        "manifest.json",
    ] {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_snapshot_is_reused_checked_and_replaced_when_data_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("pkh.xlsx");
    write_roster(&roster, "PKH", "2026-Q4", PKH_ROWS, true);
    let run = |name: &str| {
        let mut r = request(dir.path(), &roster, "PKH");
        r.out_dir = dir.path().join(name);
        r
    };
    // First run builds the registries from the store and writes the snapshot.
    let first = validate(&store, &run("1"), &mut |_| {}).await.unwrap();
    assert!(
        first.load.snapshot.starts_with("written "),
        "{}",
        first.load.snapshot
    );
    assert_eq!(snapshots(dir.path()).len(), 1);
    // Second run reads it: nothing scanned, the same verdicts to the byte.
    let second = validate(&store, &run("2"), &mut |_| {}).await.unwrap();
    assert!(
        second.load.snapshot.starts_with("read "),
        "{}",
        second.load.snapshot
    );
    assert!(second.load.scan_s.is_empty(), "no table scanned");
    same_outputs(&first.out_dir, &second.out_dir);
    // A damaged snapshot (one byte flipped, or cut short) is reported and rebuilt, never used.
    let snap = snapshots(dir.path()).remove(0);
    let mut bytes = std::fs::read(&snap).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    std::fs::write(&snap, &bytes).unwrap();
    let third = validate(&store, &run("3"), &mut |_| {}).await.unwrap();
    assert!(
        third.load.snapshot.starts_with("unusable, rebuilt: ")
            && third.load.snapshot.contains("damaged")
            && third.load.snapshot.contains("written "),
        "{}",
        third.load.snapshot
    );
    same_outputs(&first.out_dir, &third.out_dir);
    std::fs::write(&snap, &std::fs::read(&snap).unwrap()[..1000]).unwrap();
    let fourth = validate(&store, &run("4"), &mut |_| {}).await.unwrap();
    assert!(
        fourth.load.snapshot.starts_with("unusable, rebuilt: "),
        "{}",
        fourth.load.snapshot
    );
    same_outputs(&first.out_dir, &fourth.out_dir);
    // A new version of a registry makes the snapshot stale: rebuilt, the old file removed,
    // and the verdicts follow the new data (row 1's person is now recorded as deceased).
    let mut deaths: Vec<Record> = registry_records()
        .into_iter()
        .filter(|r| r.table == Table::Death)
        .collect();
    deaths.push(rec(
        Table::Death,
        &[("nik", t(PKH_ROWS[0].1)), ("death_date", t("2026-09-30"))],
    ));
    load(&store, Table::Death, &deaths).await;
    let fifth = validate(&store, &run("5"), &mut |_| {}).await.unwrap();
    assert!(
        fifth.load.snapshot.starts_with("written "),
        "{}",
        fifth.load.snapshot
    );
    assert_eq!(
        snapshots(dir.path()).len(),
        1,
        "the stale snapshot is removed"
    );
    assert_ne!(snapshots(dir.path())[0], snap);
    let rows = codes_by_row(&fifth.out_dir);
    assert!(has(&rows, 1, "DECEASED"), "{:?}", rows[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blt_dana_desa_overlapping_a_stored_pkh_list_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    // A PKH roster for Q4 is already in the store.
    let pkh = vec![rec(
        Table::RosterEntry,
        &[
            ("program", t("PKH")),
            ("period", t("2026-Q4")),
            ("row_no", t("1")),
            ("nik_raw", t("3201011203800001")),
            ("nik", t("3201011203800001")),
            ("name", t("BUDI SANTOSO")),
            ("region", t(VILLAGE)),
            ("amount", Value::Integer(750_000)),
        ],
    )];
    load(&store, Table::RosterEntry, &pkh).await;
    let roster = dir.path().join("blt.xlsx");
    write_roster(
        &roster,
        "BLT_DD",
        "2026-11",
        &[
            // The wife of the PKH recipient: same KK.
            (
                1,
                "3201015505850002",
                KK1,
                "SITI AMINAH",
                "1985-05-15",
                VILLAGE,
                300_000,
            ),
            (
                2,
                "3201011506950009",
                "",
                "BAMBANG SUTRISNO",
                "1995-06-15",
                VILLAGE,
                300_000,
            ),
        ],
        true,
    );
    let out = validate(&store, &request(dir.path(), &roster, "BLT_DD"), &mut |_| {})
        .await
        .unwrap();
    let rows = codes_by_row(&out.out_dir);
    assert!(has(&rows, 1, "PROGRAM_OVERLAP"), "{rows:?}");
    assert!(!has(&rows, 2, "PROGRAM_OVERLAP"));
    let o = &out.summary.overlaps;
    assert!(
        o.iter()
            .any(|l| l.program == "BLT_DD" && l.impact.amount == 300_000),
        "{o:?}"
    );
    assert!(
        o.iter()
            .any(|l| l.program == "PKH" && l.impact.households == 1),
        "{o:?}"
    );
}

/// Each registry a programme needs, missing in turn: a clear bilingual message naming the
/// ingest command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_missing_registry_names_what_to_ingest_first() {
    let cases = [
        (
            Table::Person,
            "PKH",
            "Data kependudukan (Dukcapil) belum dimuat",
            "dukcapil-penduduk",
        ),
        (
            Table::Death,
            "PKH",
            "Data kematian (Dukcapil) belum dimuat",
            "dukcapil-kematian",
        ),
        (
            Table::Decile,
            "PKH",
            "Data desil DTSEN (BPS) belum dimuat",
            "--source dtsen",
        ),
        (Table::Employment, "PKH", "belum dimuat", "bkn-asn"),
        (
            Table::Wage,
            "PKH",
            "Data upah BPJS Ketenagakerjaan belum dimuat",
            "bpjs-ketenagakerjaan-upah",
        ),
        (
            Table::HealthMembership,
            "PBI_JK",
            "Data kepesertaan BPJS Kesehatan belum dimuat",
            "bpjs-kesehatan",
        ),
    ];
    for (table, program, id_text, source) in cases {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with(dir.path(), &[table]).await;
        let roster = dir.path().join("r.xlsx");
        write_roster(&roster, program, "2026-Q4", &PKH_ROWS[..1], true);
        // Only checks declared mandatory refuse to run without their registry.
        let mut req = request(dir.path(), &roster, program);
        req.programs_dir = mandatory_programs(
            dir.path(),
            &[
                "DECEASED",
                "DECILE_ABOVE_CUT",
                "CIVIL_SERVANT",
                "WAGE_ABOVE_MINIMUM",
                "FORMAL_EMPLOYEE_INSURED",
            ],
        );
        let err = validate(&store, &req, &mut |_| {}).await.unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, EngineError::MissingDataset { table: t, .. } if t == table),
            "{msg}"
        );
        assert!(msg.contains(id_text), "{table:?}: {msg}");
        assert!(msg.contains("has not been loaded"), "{msg}");
        assert!(
            msg.contains(&format!(
                "sinergi ingest --source {}",
                source.trim_start_matches("--source ")
            )),
            "{msg}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_programme_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("r.xlsx");
    write_roster(&roster, "PKH", "2026-Q4", &PKH_ROWS[..1], true);
    let err = validate(
        &store,
        &request(dir.path(), &roster, "BANSOS_X"),
        &mut |_| {},
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("tidak dikenal") && msg.contains("Unknown programme"),
        "{msg}"
    );
    for p in ["BLT_DD", "BPNT", "PBI_JK", "PKH"] {
        assert!(msg.contains(p), "{msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_without_a_nik_column_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("r.xlsx");
    write_roster(&roster, "PKH", "2026-Q4", &PKH_ROWS[..3], false);
    let res = validate(&store, &request(dir.path(), &roster, "PKH"), &mut |_| {}).await;
    match res {
        // The roster mapping requires the NIK column: the read stops naming it.
        Err(e) => assert!(e.to_string().contains("NIK"), "{e}"),
        // Or, if the mapping lets it through, every row is validated by name + birth date.
        Ok(out) => {
            let rows = codes_by_row(&out.out_dir);
            assert_eq!(rows.len(), 3);
            assert!(rows.iter().all(|r| r.2.contains("NIK_INVALID")), "{rows:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_niks_empty_still_links_by_name_and_birth_date() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("r.xlsx");
    let rows: Vec<Row<'_>> = PKH_ROWS[..4]
        .iter()
        .map(|r| (r.0, "", r.2, r.3, r.4, r.5, r.6))
        .collect();
    write_roster(&roster, "PKH", "2026-Q4", &rows, true);
    let out = validate(&store, &request(dir.path(), &roster, "PKH"), &mut |_| {})
        .await
        .unwrap();
    let got = codes_by_row(&out.out_dir);
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|r| r.2.contains("NIK_INVALID")));
    // Linked by name and birth date: the registry facts are still found.
    assert!(has(&got, 2, "DECEASED"), "{got:?}");
    let first = &verdict_rows(&out.out_dir)[0];
    assert_eq!(
        first["suggested_nik"], "3201011203800001",
        "suggested NIK from name + birth date"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_only_rows_are_validated_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("r.xlsx");
    let rows: Vec<Row<'_>> = PKH_ROWS[..3]
        .iter()
        .map(|r| (r.0, "", "", r.3, "", "", 0))
        .collect();
    write_roster(&roster, "PKH", "2026-Q4", &rows, true);
    let out = validate(&store, &request(dir.path(), &roster, "PKH"), &mut |_| {})
        .await
        .unwrap();
    let got = codes_by_row(&out.out_dir);
    assert_eq!(got.len() as u64 + out.summary.rejected_rows, 3);
    assert!(got.iter().all(|r| r.1 != "LAYAK"), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_person_at_a_time_gives_the_same_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let programs = load_programs(&root().join("config/programs")).unwrap();
    let pkh = find_program(&programs, "PKH").unwrap().clone();
    let (reg, _) = Registries::load(&store, &required_tables(&pkh))
        .await
        .unwrap();
    let reg = Arc::new(reg);
    let ledger = load_ledger(&store, &reg, &programs, None).await.unwrap();
    let v = Validator::new(
        reg,
        programs.clone(),
        Arc::new(ledger.finish(Default::default())),
    );
    let row = RosterRow {
        row_no: 1,
        program: "PKH".into(),
        period: "2026-Q4".into(),
        nik_raw: "3201012007700003".into(),
        nik: Some(3_201_012_007_700_003),
        name: "AHMAD DAHLAN".into(),
        birth_date: Some("1970-07-20".into()),
        village: Some(3_201_012_001),
        amount: Some(750_000),
        ..RosterRow::default()
    };
    let out = v.validate_one(&pkh, &row);
    assert_eq!(out.verdict, sinergi_engine::Decision::TidakLayak);
    assert_eq!(out.codes(), "DECEASED");
    assert_eq!(out.reasons[0].dataset_version, "2026-10 (snapshot 2)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_scores_codes_and_suggestions_against_truth() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("pkh.xlsx");
    write_roster(&roster, "PKH", "2026-Q4", &PKH_ROWS[..3], true);
    let mut req = request(dir.path(), &roster, "PKH");
    req.formats = vec![OutputFormat::Csv];
    let out = validate(&store, &req, &mut |_| {}).await.unwrap();
    let truth = dir.path().join("truth");
    std::fs::create_dir_all(&truth).unwrap();
    std::fs::write(
        truth.join("PKH.csv"),
        "row_no,true_nik,codes\n1,3201011203800001,\n2,3201012007700003,DECEASED\n3,3201014402900005,CIVIL_SERVANT;KK_MISMATCH\n",
    )
    .unwrap();
    let r = eval(&truth, &out.out_dir).unwrap();
    assert_eq!(r.rows, 3);
    assert_eq!(r.by_code["DECEASED"].f1, 1.0);
    assert_eq!(r.by_code["CIVIL_SERVANT"].recall, 1.0);
    assert_eq!(r.by_code["KK_MISMATCH"].fn_, 1);
    assert_eq!(r.by_code["KK_MISMATCH"].recall, 0.0);
    assert_eq!(r.linked_nik.precision, 1.0);
}

// ---------------------------------------------------------------------------------------------
// Issue 17: no lost links on a correct NIK, no one declared dead by a guess.
// ---------------------------------------------------------------------------------------------

const SRI: &str = "3201015705610001";
const SRI_NAMESAKE: &str = "3201014101610003";
const BAMBANG: &str = "3201010909700002";
const ANI: &str = "3201015406750004";

/// Four people: SRI WAHYUNI (alive, born 17-05-1961) and her namesake born on 01-01-1961 in
/// the same village (dead), BAMBANG SUSILO (dead), ANI SURYANI.
async fn four_people(dir: &Path) -> Store {
    let store = Store::open(Some(&dir.join("s.db").display().to_string()))
        .await
        .unwrap();
    let people = [
        (SRI, "3201010101100011", "SRI WAHYUNI", "P", "1961-05-17"),
        (
            SRI_NAMESAKE,
            "3201010101100012",
            "SRI WAHYUNI",
            "P",
            "1961-01-01",
        ),
        (
            BAMBANG,
            "3201010101100013",
            "BAMBANG SUSILO",
            "L",
            "1970-09-09",
        ),
        (ANI, "3201010101100014", "ANI SURYANI", "P", "1975-06-14"),
    ];
    let persons: Vec<Record> = people
        .iter()
        .map(|(nik, kk, name, sex, birth)| {
            rec(
                Table::Person,
                &[
                    ("nik", t(nik)),
                    ("kk", t(kk)),
                    ("name", t(name)),
                    ("sex", t(sex)),
                    ("birth_date", t(birth)),
                    ("family_relationship", t("KEPALA KELUARGA")),
                    ("occupation", t("PETANI/PEKEBUN")),
                    ("region", t(VILLAGE)),
                ],
            )
        })
        .collect();
    load(&store, Table::Person, &persons).await;
    let deaths: Vec<Record> = [SRI_NAMESAKE, BAMBANG]
        .iter()
        .map(|nik| {
            rec(
                Table::Death,
                &[("nik", t(nik)), ("death_date", t("2025-03-01"))],
            )
        })
        .collect();
    load(&store, Table::Death, &deaths).await;
    let deciles: Vec<Record> = people
        .iter()
        .enumerate()
        .map(|(i, (nik, kk, ..))| {
            rec(
                Table::Decile,
                &[
                    ("family_id", t(&format!("F{i}"))),
                    ("kk", t(kk)),
                    ("nik", t(nik)),
                    ("decile", Value::Integer(2)),
                ],
            )
        })
        .collect();
    load(&store, Table::Decile, &deciles).await;
    let all = registry_records();
    for table in [Table::HealthMembership, Table::Employment, Table::Wage] {
        let rs: Vec<Record> = all.iter().filter(|r| r.table == table).cloned().collect();
        load(&store, table, &rs).await;
    }
    store
}

/// The verdicts of a run as JSON objects, by row number.
fn verdicts_json(out: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(out.join("verdicts.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn reason<'a>(v: &'a serde_json::Value, code: &str) -> Option<&'a serde_json::Value> {
    v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_nik_with_a_slip_keeps_its_holder_and_gets_a_correction_note() {
    let dir = tempfile::tempdir().unwrap();
    let store = four_people(dir.path()).await;
    let roster = dir.path().join("pbi.xlsx");
    write_roster(
        &roster,
        "PBI_JK",
        "2026-11",
        &[
            // Her own NIK, birth date written as the default 01-01 of her birth year.
            (1, SRI, "", "SRI WAHYUNI", "1961-01-01", VILLAGE, 42_000),
            // Dead; the day typed 10 for 09.
            (
                2,
                BAMBANG,
                "",
                "BAMBANG SUSILO",
                "1970-09-10",
                VILLAGE,
                42_000,
            ),
            // One letter wrong in a short name.
            (3, ANI, "", "AMI SURYANI", "1975-06-14", VILLAGE, 42_000),
        ],
        true,
    );
    let out = validate(&store, &request(dir.path(), &roster, "PBI_JK"), &mut |_| {})
        .await
        .unwrap();
    let v = verdicts_json(&out.out_dir);
    // No one is declared dead by a guess: SRI is alive and her NIK is hers.
    assert_eq!(v[0]["linked_nik"], SRI, "{:#}", v[0]);
    assert!(reason(&v[0], "DECEASED").is_none(), "{:#}", v[0]);
    assert!(reason(&v[0], "IDENTITY_MISMATCH").is_none(), "{:#}", v[0]);
    assert_eq!(v[0]["verdict"], "LAYAK", "{:#}", v[0]);
    // A dead recipient with a day typo is TIDAK LAYAK on their own NIK.
    assert_eq!(v[1]["linked_nik"], BAMBANG, "{:#}", v[1]);
    assert!(reason(&v[1], "IDENTITY_MISMATCH").is_none(), "{:#}", v[1]);
    assert_eq!(
        reason(&v[1], "DECEASED").unwrap()["severity"],
        "TIDAK LAYAK"
    );
    // A name typo on a correct NIK links.
    assert_eq!(v[2]["linked_nik"], ANI, "{:#}", v[2]);
    assert!(reason(&v[2], "IDENTITY_MISMATCH").is_none(), "{:#}", v[2]);
    // Each slip gets a data-correction note, not a reason.
    let notes = |i: usize| -> Vec<String> {
        v[i]["notes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| n["code"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(notes(0), ["BIRTH_DATE_DEFAULT"], "{:#}", v[0]);
    assert_eq!(notes(1), ["BIRTH_DATE_DIFFERS"], "{:#}", v[1]);
    assert_eq!(notes(2), ["NAME_DIFFERS"], "{:#}", v[2]);
    assert!(
        v[2]["notes"][0]["message_id"]
            .as_str()
            .unwrap()
            .contains("KTP-el")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reason_resting_on_a_suggested_nik_is_at_most_tinjau() {
    let dir = tempfile::tempdir().unwrap();
    let store = four_people(dir.path()).await;
    let roster = dir.path().join("pbi.xlsx");
    let typo = "3201010909700092"; // BAMBANG's NIK with a wrong serial digit: nobody's.
    write_roster(
        &roster,
        "PBI_JK",
        "2026-11",
        &[
            (1, typo, "", "BAMBANG SUSILO", "1970-09-09", VILLAGE, 42_000),
            (
                2,
                BAMBANG,
                "",
                "BAMBANG SUSILO",
                "1970-09-09",
                VILLAGE,
                42_000,
            ),
        ],
        true,
    );
    let out = validate(&store, &request(dir.path(), &roster, "PBI_JK"), &mut |_| {})
        .await
        .unwrap();
    let v = verdicts_json(&out.out_dir);
    // Row 1: the registry has no such NIK; linkage suggests BAMBANG, who is dead. The death
    // is reported, for review only.
    assert_eq!(v[0]["suggested_nik"], BAMBANG, "{:#}", v[0]);
    assert_eq!(
        reason(&v[0], "NIK_NOT_FOUND").unwrap()["severity"],
        "TINJAU"
    );
    assert_eq!(
        reason(&v[0], "DECEASED").unwrap()["severity"],
        "TINJAU",
        "{:#}",
        v[0]
    );
    assert_eq!(v[0]["verdict"], "TINJAU", "{:#}", v[0]);
    // Row 2 lists his own NIK: the death counts in full; the duplicate rests on row 1's
    // inferred identity, so it is for review.
    assert_eq!(
        reason(&v[1], "DECEASED").unwrap()["severity"],
        "TIDAK LAYAK"
    );
    assert_eq!(
        reason(&v[1], "DUPLICATE_IN_LIST").unwrap()["severity"],
        "TINJAU"
    );
}

/// Loads a dataset under its own name, with a reference date or none.
async fn load_named(
    store: &Store,
    name: &str,
    table: Table,
    records: &[Record],
    reference_date: Option<&str>,
) -> i64 {
    let meta = DatasetMeta {
        name: name.into(),
        table,
        owner_agency: "Dinas Sosial".into(),
        description: String::new(),
        reference_codes: Vec::new(),
        update_cadence: String::new(),
    };
    let mut l = store.begin_load(&meta, LoadMode::Snapshot).await.unwrap();
    l.insert(records).await.unwrap();
    l.commit(LoadStats {
        read: records.len() as u64,
        loaded: records.len() as u64,
        reference_date: reference_date.map(str::to_string),
        ..LoadStats::default()
    })
    .await
    .unwrap()
    .snapshot_id
}

fn roster_row(program: &str, period: &str, no: i64, nik: &str, name: &str) -> Record {
    rec(
        Table::RosterEntry,
        &[
            ("program", t(program)),
            ("period", t(period)),
            ("row_no", t(&no.to_string())),
            ("nik_raw", t(nik)),
            ("nik", t(nik)),
            ("name", t(name)),
            ("region", t(VILLAGE)),
            ("amount", Value::Integer(750_000)),
        ],
    )
}

/// Issue 15, items 5 and 6: a reason cites the dataset version it was read from, and "as of"
/// is the date the data describes, not the day it was loaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasons_cite_the_version_they_read_and_the_data_s_own_date() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(&dir.path().join("s.db").display().to_string()))
        .await
        .unwrap();
    let all = registry_records();
    for table in [
        Table::Person,
        Table::Decile,
        Table::HealthMembership,
        Table::Employment,
        Table::Wage,
    ] {
        let rs: Vec<Record> = all.iter().filter(|r| r.table == table).cloned().collect();
        load(&store, table, &rs).await;
    }
    // Dukcapil's death extract describes 1 November 2026, whenever it is loaded.
    let deaths: Vec<Record> = all
        .iter()
        .filter(|r| r.table == Table::Death)
        .cloned()
        .collect();
    load_named(
        &store,
        "dukcapil-kematian",
        Table::Death,
        &deaths,
        Some("2026-11-01"),
    )
    .await;
    // Two stored lists: BLT Dana Desa first (a lower snapshot id), then PKH.
    let blt_sid = load_named(
        &store,
        "roster-BLT_DD",
        Table::RosterEntry,
        &[roster_row(
            "BLT_DD",
            "2026-11",
            1,
            "3201016212920007",
            "ANI SURYANI",
        )],
        Some("2026-11-01"),
    )
    .await;
    let pkh_sid = load_named(
        &store,
        "roster-PKH",
        Table::RosterEntry,
        &[roster_row(
            "BPNT",
            "2026-11",
            1,
            "3201011203800001",
            "BUDI SANTOSO",
        )],
        Some("2026-10-15"),
    )
    .await;
    assert!(blt_sid < pkh_sid);
    let roster = dir.path().join("BLT_DD-desa.xlsx");
    write_roster(
        &roster,
        "BLT_DD",
        "2026-11",
        &[
            // Same KK as the BPNT recipient in roster-PKH.
            (
                1,
                "3201015505850002",
                KK1,
                "SITI AMINAH",
                "1985-05-15",
                VILLAGE,
                300_000,
            ),
            (2, "12345", "", "TONO", "1990-01-01", VILLAGE, 300_000),
            (
                3,
                "3201012007700003",
                "",
                "AHMAD DAHLAN",
                "1970-07-20",
                VILLAGE,
                300_000,
            ),
        ],
        true,
    );
    let req = request(dir.path(), &roster, "BLT_DD");
    let out = validate(&store, &req, &mut |_| {}).await.unwrap();
    let v = verdicts_json(&out.out_dir);
    // The overlap cites the list that holds the other programme, with its own version.
    let o = reason(&v[0], "PROGRAM_OVERLAP").expect("overlap with BPNT");
    assert_eq!(o["dataset"], "roster-PKH");
    let version = o["dataset_version"].as_str().unwrap();
    assert!(
        version.contains(&format!("snapshot {pkh_sid}")),
        "cites roster-PKH's snapshot {pkh_sid}: {version}"
    );
    assert_eq!(o["dataset_date"], "2026-10-15");
    // A reason from the list itself cites the list, not a stored roster's version.
    let n = reason(&v[1], "NIK_INVALID").expect("NIK_INVALID");
    assert_eq!(n["dataset"], "BLT_DD-desa.xlsx");
    assert!(
        !n["dataset_version"].as_str().unwrap().contains("snapshot"),
        "{n}"
    );
    // Deaths: "as of" is the extract's date, not today's load.
    let d = reason(&v[2], "DECEASED").expect("DECEASED");
    assert_eq!(d["dataset_date"], "2026-11-01");
    assert!(
        d["message_id"].as_str().unwrap().contains("per 2026-11-01"),
        "{d}"
    );
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(d["dataset_loaded"], today.as_str());
    // Population data loaded without a reference date: the load date is named as such.
    let all_msgs: Vec<&str> = v
        .iter()
        .flat_map(|r| r["reasons"].as_array().unwrap())
        .filter(|r| r["agency"] == "Dukcapil" && r["dataset"] == "dukcapil-penduduk")
        .map(|r| r["message_id"].as_str().unwrap())
        .collect();
    for m in &all_msgs {
        assert!(!m.contains(&format!("per {today}")), "{m}");
    }
}

/// Issue 15, item 7: a NIK typed into an Excel number cell that equals the true NIK was called
/// "not 16 digits" and then the same number was proposed as the right NIK.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nik_in_a_number_cell_is_never_invalid_and_proposed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("pkh.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in [
        "No",
        "NIK",
        "Nama KPM",
        "Tanggal Lahir",
        "Kode Desa",
        "Program",
        "Nominal",
        "Periode",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    // Row 1: the exact NIK of BUDI SANTOSO, as a number. Row 2: SITI AMINAH's NIK as a number
    // whose last digit changed (...0002 became ...0003), still well formed.
    for (r, (nik, name, born)) in [
        (3201011203800001.0, "BUDI SANTOSO", "1980-03-12"),
        (3201015505850003.0, "SITI AMINAH", "1985-05-15"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = r as u32 + 1;
        ws.write_number(r, 0, r as f64).unwrap();
        ws.write_number(r, 1, nik).unwrap();
        ws.write_string(r, 2, name).unwrap();
        ws.write_string(r, 3, born).unwrap();
        ws.write_string(r, 4, VILLAGE).unwrap();
        ws.write_string(r, 5, "PKH").unwrap();
        ws.write_number(r, 6, 750_000.0).unwrap();
        ws.write_string(r, 7, "2026-Q4").unwrap();
    }
    wb.save(&roster).unwrap();
    let out = validate(&store, &request(dir.path(), &roster, "PKH"), &mut |_| {})
        .await
        .unwrap();
    let v = verdicts_json(&out.out_dir);
    // The exact number: the person is known by that NIK; only a note says to format as text.
    assert!(reason(&v[0], "NIK_INVALID").is_none(), "{}", v[0]);
    assert_eq!(v[0]["verdict"], "LAYAK", "{}", v[0]);
    assert!(v[0]["suggested_nik"].is_null(), "{}", v[0]);
    let notes = v[0]["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["code"] == "NIK_STORED_AS_NUMBER"),
        "{}",
        v[0]
    );
    // The changed number: invalid, for the right reason, and the proposal differs from it.
    let r = reason(&v[1], "NIK_INVALID").expect("changed NIK");
    let msg = r["message_id"].as_str().unwrap();
    assert!(
        msg.contains("sebagai angka") && !msg.contains("bukan 16 digit"),
        "{msg}"
    );
    assert_eq!(v[1]["suggested_nik"], "3201015505850002");
    assert_ne!(v[1]["suggested_nik"], v[1]["nik_listed"]);
}

/// Issue 15, item 8: a wage in Kabupaten Bogor is compared with Kabupaten Bogor's UMK and the
/// reason says so (it was the Jawa Barat UMP, called UMK).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wage_is_compared_with_the_regency_umk_and_named_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("pkh.xlsx");
    write_roster(&roster, "PKH", "2026-Q4", PKH_ROWS, true);
    let out = validate(&store, &request(dir.path(), &roster, "PKH"), &mut |_| {})
        .await
        .unwrap();
    let v = verdicts_json(&out.out_dir);
    let rudi = v.iter().find(|r| r["row_no"] == 4).unwrap();
    let w = reason(rudi, "WAGE_ABOVE_MINIMUM").expect("RUDI's wage");
    let msg = w["message_id"].as_str().unwrap();
    assert!(msg.contains("(UMK) Rp4.877.211"), "{msg}");
    assert!(w["detail"].as_str().unwrap().contains("> UMK"));
}

/// Issue 15, item 9: `--program PKH` on a BPNT list relabelled every row as PKH and applied
/// PKH's rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_another_programme_is_refused_and_leaves_no_results() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("BPNT.xlsx");
    write_roster(&roster, "BPNT", "2026-11", PKH_ROWS, true);
    let req = request(dir.path(), &roster, "PKH");
    let err = validate(&store, &req, &mut |_| {}).await.unwrap_err();
    match &err {
        EngineError::ProgramMismatch {
            requested,
            found,
            first_row,
            ..
        } => {
            assert_eq!(requested, "PKH");
            assert!(found.starts_with("BPNT"), "{found}");
            assert_eq!(*first_row, 1);
        }
        e => panic!("expected a programme mismatch, got {e}"),
    }
    assert!(err.to_string().contains("--program"), "{err}");
    assert!(!req.out_dir.join("verdicts.csv").exists());
}

/// Issue 15, item 10: a run into a folder that holds an earlier run left stale files (PKH rows
/// in a BPNT folder's XLSX).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_replaces_every_file_of_the_earlier_run_in_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let pkh = dir.path().join("pkh.xlsx");
    write_roster(&pkh, "PKH", "2026-Q4", PKH_ROWS, true);
    let mut req = request(dir.path(), &pkh, "PKH");
    validate(&store, &req, &mut |_| {}).await.unwrap();
    assert!(req.out_dir.join("verdicts.xlsx").exists());
    std::fs::write(req.out_dir.join("catatan-petugas.txt"), "milik petugas").unwrap();
    // A BPNT list into the same folder, CSV only.
    let bpnt = dir.path().join("bpnt.xlsx");
    write_roster(&bpnt, "BPNT", "2026-11", &PKH_ROWS[..3], true);
    req.roster = vec![bpnt];
    req.program = "BPNT".into();
    req.formats = vec![OutputFormat::Csv];
    validate(&store, &req, &mut |_| {}).await.unwrap();
    let names: Vec<String> = std::fs::read_dir(&req.out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.contains(&"verdicts.xlsx".to_string()), "{names:?}");
    assert!(!names.contains(&"verdicts.json".to_string()), "{names:?}");
    assert!(
        names.contains(&"catatan-petugas.txt".to_string()),
        "{names:?}"
    );
    let rows = verdict_rows(&req.out_dir);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["program"] == "BPNT"), "{rows:?}");
    // No staging folder is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.contains(".tmp-").then_some(n)
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Issue 15, item 11: `verdicts.xlsx` as an officer wants it, read back without a browser or
/// a spreadsheet program: sheets, headers, values of the right types, number formats, filters
/// and frozen headers; and the CSV Excel opens in the Indonesian locale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_xlsx_is_officer_ready_and_the_csv_opens_in_indonesian_excel() {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    use sinergi_engine::layout::{REASON_COLUMNS, REJECT_COLUMNS, VERDICT_COLUMNS};
    use sinergi_model::Lang;
    use std::io::Read;

    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("pkh.xlsx");
    let mut rows = PKH_ROWS.to_vec();
    // A row without a name: rejected by ingest, listed on its own sheet.
    rows.push((
        12,
        "3201011203800001",
        "",
        "",
        "1980-03-12",
        VILLAGE,
        750_000,
    ));
    write_roster(&roster, "PKH", "2026-Q4", &rows, true);
    let out = validate(&store, &request(dir.path(), &roster, "PKH"), &mut |_| {})
        .await
        .unwrap();
    let path = out.out_dir.join("verdicts.xlsx");
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(
        wb.sheet_names(),
        ["Ringkasan", "Hasil", "Alasan", "Ditolak", "Sumber data"]
    );
    let header = |r: &calamine::Range<Data>| -> Vec<String> {
        (0..r.width())
            .map(|c| r.get((0, c)).map(|d| d.to_string()).unwrap_or_default())
            .collect()
    };
    // Results: headers in Bahasa Indonesia, one row per list row, typed cells.
    let hasil = wb.worksheet_range("Hasil").unwrap();
    let want: Vec<&str> = VERDICT_COLUMNS.iter().map(|c| c.id).collect();
    assert_eq!(header(&hasil), want);
    assert_eq!(hasil.height(), PKH_ROWS.len() + 1);
    let col = |key: &str| VERDICT_COLUMNS.iter().position(|c| c.key == key).unwrap();
    let row1 = |key: &str| hasil.get((1, col(key))).cloned().unwrap_or(Data::Empty);
    assert_eq!(row1("name"), Data::String("Budi Santoso".into()));
    assert_eq!(row1("kk_listed"), Data::String(KK1.into()));
    assert!(
        matches!(row1("birth_date"), Data::DateTime(_)),
        "{:?}",
        row1("birth_date")
    );
    assert_eq!(row1("amount"), Data::Float(750_000.0));
    assert_eq!(row1("regency"), Data::String("Kabupaten Bogor".into()));
    assert_eq!(row1("district"), Data::String("Cibinong".into()));
    let dead = hasil.get((2, col("verdict"))).unwrap().to_string();
    assert_eq!(dead, "TIDAK LAYAK");
    let why = hasil.get((2, col("reasons"))).unwrap().to_string();
    assert!(
        why.contains("kematian") || why.contains("meninggal"),
        "{why}"
    );
    let next = hasil.get((2, col("next_steps"))).unwrap().to_string();
    assert!(!next.is_empty() && !next.contains("DECEASED"), "{next}");
    // Reasons and rejected rows.
    let alasan = wb.worksheet_range("Alasan").unwrap();
    let want: Vec<&str> = REASON_COLUMNS.iter().map(|c| c.id).collect();
    assert_eq!(header(&alasan), want);
    assert!(alasan.height() > 5);
    let ditolak = wb.worksheet_range("Ditolak").unwrap();
    let want: Vec<&str> = REJECT_COLUMNS.iter().map(|c| c.id).collect();
    assert_eq!(header(&ditolak), want);
    // Every problem of the nameless row (spreadsheet row 13), each with its reason.
    let rejected: Vec<&[Data]> = ditolak.rows().skip(1).collect();
    assert!(!rejected.is_empty());
    assert!(
        rejected.iter().all(|r| r[1] == Data::Float(13.0)),
        "{rejected:?}"
    );
    assert!(
        rejected
            .iter()
            .any(|r| r[4] == Data::String("FIELD_REQUIRED_MISSING".into())),
        "{rejected:?}"
    );
    // The summary is tables: a verdict, a count, a share, rupiah.
    let ringkasan = wb.worksheet_range("Ringkasan").unwrap();
    let find = |text: &str| {
        ringkasan
            .rows()
            .position(|r| {
                r.first()
                    .is_some_and(|d| matches!(d, Data::String(s) if s == text))
            })
            .unwrap_or_else(|| panic!("{text} in the summary"))
    };
    let layak = find("LAYAK");
    let cells: Vec<Data> = ringkasan.rows().nth(layak).unwrap().to_vec();
    assert!(matches!(cells[2], Data::Float(n) if n >= 1.0), "{cells:?}");
    assert!(
        matches!(cells[3], Data::Float(x) if x > 0.0 && x <= 1.0),
        "{cells:?}"
    );
    find("TIDAK LAYAK");
    find("DECEASED");
    // Formats, filters and frozen headers, from the workbook's XML.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut part = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let styles = part("xl/styles.xml");
    for f in ["&quot;Rp&quot; #,##0", "dd-mm-yyyy", "0.0%"] {
        assert!(styles.contains(f), "number format {f}");
    }
    let sheet2 = part("xl/worksheets/sheet2.xml");
    let last = (b'A' + VERDICT_COLUMNS.len() as u8 - 1) as char;
    assert!(
        sheet2.contains(&format!(
            "<autoFilter ref=\"A1:{last}{}\"",
            PKH_ROWS.len() + 1
        )),
        "autofilter over the results"
    );
    assert!(sheet2.contains("state=\"frozen\""), "frozen header");
    assert!(sheet2.contains("<col "), "column widths");
    assert!(part("xl/worksheets/sheet4.xml").contains("<autoFilter"));
    // The CSV for Excel in the Indonesian locale: BOM, `;`, the same columns.
    let csv = std::fs::read(out.out_dir.join("verdicts.csv")).unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBFNo;NIK;Nama;Putusan;"));
    let rejects = std::fs::read(out.out_dir.join("rejects.csv")).unwrap();
    assert!(rejects.starts_with(b"\xEF\xBB\xBFBerkas;Baris;"));
    // In English, sheet names and headers are English.
    let mut req = request(dir.path(), &roster, "PKH");
    req.out_dir = dir.path().join("out-en");
    req.lang = Lang::En;
    validate(&store, &req, &mut |_| {}).await.unwrap();
    let mut wb: Xlsx<_> = open_workbook(req.out_dir.join("verdicts.xlsx")).unwrap();
    assert_eq!(
        wb.sheet_names(),
        ["Summary", "Results", "Reasons", "Rejected", "Data sources"]
    );
    let results = wb.worksheet_range("Results").unwrap();
    assert_eq!(
        results.get((0, col("verdict"))).unwrap().to_string(),
        "Verdict"
    );
    assert_eq!(
        results.get((2, col("verdict"))).unwrap().to_string(),
        "NOT ELIGIBLE"
    );
}

/// Issue 17, item 4: a stored roster row with a damaged NIK still puts its programme on the
/// right family (linked as validation links), and a row stating another family's KK does not
/// put it on that family.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlaps_follow_the_linked_person_of_a_stored_row_not_its_damaged_nik() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let stored = |no: i64, nik: &str, kk: &str, name: &str, birth: &str| {
        rec(
            Table::RosterEntry,
            &[
                ("program", t("PKH")),
                ("period", t("2026-Q4")),
                ("row_no", t(&no.to_string())),
                ("nik_raw", t(nik)),
                ("nik", t(nik)),
                ("kk", if kk.is_empty() { Value::Null } else { t(kk) }),
                ("name", t(name)),
                ("birth_date", t(birth)),
                ("region", t(VILLAGE)),
                ("amount", Value::Integer(750_000)),
            ],
        )
    };
    let pkh = vec![
        // BUDI SANTOSO (KK1) with a wrong serial digit: nobody's NIK.
        stored(1, "3201011203800091", "", "BUDI SANTOSO", "1980-03-12"),
        // RUDI HARTONO with a wrong digit, stating BAMBANG SUTRISNO's KK.
        stored(
            2,
            "3201011111880096",
            "3201010101100007",
            "RUDI HARTONO",
            "1988-11-11",
        ),
    ];
    load(&store, Table::RosterEntry, &pkh).await;
    let roster = dir.path().join("blt.xlsx");
    write_roster(
        &roster,
        "BLT_DD",
        "2026-11",
        &[
            (
                1,
                "3201015505850002",
                KK1,
                "SITI AMINAH",
                "1985-05-15",
                VILLAGE,
                300_000,
            ),
            (
                2,
                "3201011506950009",
                "3201010101100007",
                "BAMBANG SUTRISNO",
                "1995-06-15",
                VILLAGE,
                300_000,
            ),
        ],
        true,
    );
    let out = validate(&store, &request(dir.path(), &roster, "BLT_DD"), &mut |_| {})
        .await
        .unwrap();
    let rows = codes_by_row(&out.out_dir);
    assert!(has(&rows, 1, "PROGRAM_OVERLAP"), "{rows:?}");
    assert!(!has(&rows, 2, "PROGRAM_OVERLAP"), "{rows:?}");
}

/// Issue 17, item 4: a damaged NIK (a letter for a digit) and a village in another regency,
/// on a row whose name also has a typo: still linked (an inferred identity), so OUT_OF_REGION
/// is found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_nik_and_another_regency_still_find_the_person() {
    let dir = tempfile::tempdir().unwrap();
    let store = four_people(dir.path()).await;
    let roster = dir.path().join("pbi.xlsx");
    let damaged = ANI.replacen('0', "O", 1);
    write_roster(
        &roster,
        "PBI_JK",
        "2026-11",
        &[(
            1,
            &damaged,
            "",
            "AMI SURYANI",
            "1975-06-14",
            "3273011001",
            42_000,
        )],
        true,
    );
    let out = validate(&store, &request(dir.path(), &roster, "PBI_JK"), &mut |_| {})
        .await
        .unwrap();
    let v = verdicts_json(&out.out_dir);
    assert_eq!(v[0]["suggested_nik"], ANI, "{:#}", v[0]);
    assert!(reason(&v[0], "NIK_INVALID").is_some(), "{:#}", v[0]);
    assert_eq!(
        reason(&v[0], "OUT_OF_REGION").unwrap()["severity"],
        "TINJAU"
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 10: the validator runs over any answerer; a registry that cannot be asked leaves its
// checks "not checked" with the answerer's reason.
// ---------------------------------------------------------------------------------------------

use sinergi_engine::answers::Answerer as _;

/// The embedded answerer, except that the death registry refuses every question (as a node
/// of the exchange refuses under its agreement).
struct DeathRefused(sinergi_engine::embedded::Embedded);

impl sinergi_engine::answers::Answerer for DeathRefused {
    fn train(&mut self, sample: &[sinergi_engine::answers::IdentityQuestion]) {
        self.0.train(sample)
    }
    fn identify(
        &self,
        q: &[sinergi_engine::answers::IdentityQuestion],
    ) -> Vec<sinergi_engine::answers::IdentityAnswer> {
        self.0.identify(q)
    }
    fn population(
        &self,
        q: &[sinergi_engine::answers::PopulationQuestion],
    ) -> Vec<Option<sinergi_engine::answers::PopulationAnswer>> {
        let mut a = self.0.population(q);
        for p in a.iter_mut().flatten() {
            p.death = sinergi_rules::Lookup::NotChecked;
        }
        a
    }
    fn registries(
        &self,
        q: &[sinergi_engine::answers::RegistryQuestion],
    ) -> Vec<sinergi_engine::answers::RegistryAnswers> {
        self.0.registries(q)
    }
    fn identity_source(&self) -> sinergi_rules::Source {
        self.0.identity_source()
    }
    fn unavailable(
        &self,
        table: sinergi_model::standard::Table,
    ) -> Option<sinergi_engine::answers::Unasked> {
        if table == sinergi_model::standard::Table::Death {
            return Some(sinergi_engine::answers::Unasked {
                why: "REFUSED",
                why_id: "Dukcapil menolak: NO_AGREEMENT".into(),
                why_en: "Dukcapil refused: NO_AGREEMENT".into(),
            });
        }
        self.0.unavailable(table)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_cannot_be_asked_is_not_checked_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let programs = load_programs(&root().join("config/programs")).unwrap();
    let pkh = find_program(&programs, "PKH").unwrap().clone();
    let (reg, _) = Registries::load(&store, &required_tables(&pkh))
        .await
        .unwrap();
    let reg = Arc::new(reg);
    let ledger = Arc::new(
        load_ledger(&store, &reg, &programs, None)
            .await
            .unwrap()
            .finish(Default::default()),
    );
    let row = RosterRow {
        row_no: 1,
        program: "PKH".into(),
        period: "2026-Q4".into(),
        nik_raw: "3201012007700003".into(),
        nik: Some(3_201_012_007_700_003),
        name: "AHMAD DAHLAN".into(),
        birth_date: Some("1970-07-20".into()),
        village: Some(3_201_012_001),
        amount: Some(750_000),
        ..RosterRow::default()
    };
    let embedded = sinergi_engine::embedded::Embedded::new(reg.clone());
    assert!(
        embedded
            .unavailable(sinergi_model::standard::Table::Death)
            .is_none()
    );
    let v = Validator::with_answerer(
        Box::new(DeathRefused(embedded)),
        programs.clone(),
        ledger,
        reg.provenance
            .get(&sinergi_model::standard::Table::RosterEntry)
            .map(Vec::as_slice)
            .unwrap_or_default(),
    );
    let out = v.validate_one(&pkh, &row);
    // Dead in the registry, but the registry could not be asked: no DECEASED, and the verdict
    // says which check was not made and why.
    assert!(!out.codes().contains("DECEASED"), "{}", out.codes());
    let nc = out
        .not_checked
        .iter()
        .find(|n| n.code == "DECEASED")
        .expect("DECEASED listed as not checked");
    assert_eq!(nc.why, "REFUSED");
    assert!(nc.why_en.contains("NO_AGREEMENT"));
    assert_eq!(out.linked_nik.as_deref(), Some("3201012007700003"));
}

/// Issue 15, item 13: one person's verdict and its full explanation from the store, judged by
/// the validator of list runs: the same verdict and reasons as the person's row of a list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_person_is_checked_from_the_store_as_a_list_run_judges_them() {
    use sinergi_engine::check::{CheckRequest, RowOrigin, check};
    use sinergi_model::Lang;

    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let programs = load_programs(&root().join("config/programs")).unwrap();
    let roster = dir.path().join("pkh.xlsx");
    write_roster(&roster, "PKH", "2026-Q4", &PKH_ROWS[..6], true);
    validate(&store, &request(dir.path(), &roster, "PKH"), &mut |_| {})
        .await
        .unwrap();
    let listed = codes_by_row(&dir.path().join("out"));
    // Row 5 is listed in another regency than the person lives in (OUT_OF_REGION): a check by
    // NIK alone has no listed village to compare, so it is left out here.
    for (no, nik, _, name, birth, _, _) in PKH_ROWS[..6].iter().filter(|r| r.0 != 5) {
        let req = CheckRequest {
            nik: (*nik).into(),
            program: "pkh".into(),
            period: Some("2026-Q4".into()),
            default_period: "2026-11".into(),
            name: Some((*name).into()),
            birth_date: Some((*birth).into()),
        };
        let out = check(&store, &programs, &req).await.unwrap();
        assert_eq!(out.origin, RowOrigin::NikOnly);
        let row = listed.iter().find(|r| r.0 == *no).unwrap();
        assert_eq!(
            (out.verdict.verdict.as_str(), out.verdict.codes()),
            (row.1.as_str(), row.2.clone()),
            "row {no} ({name})"
        );
    }
    // By NIK alone: the dead recipient, every reason with its source and next step.
    let req = CheckRequest {
        nik: "3201-0120-0770-0003".into(),
        program: "PKH".into(),
        default_period: "2026-11".into(),
        ..CheckRequest::default()
    };
    let out = check(&store, &programs, &req).await.unwrap();
    assert_eq!(out.verdict.verdict, sinergi_engine::Decision::TidakLayak);
    assert_eq!(out.verdict.codes(), "DECEASED");
    assert_eq!(out.verdict.period, "2026-11");
    let text = out.render_text(Lang::Id);
    for want in [
        "diperiksa dengan NIK saja",
        "TIDAK LAYAK",
        "Alasan 1 dari 1",
        "DECEASED",
        "Langkah selanjutnya",
        "dukcapil-kematian",
        "Data yang dibaca:",
    ] {
        assert!(text.contains(want), "{want} in:\n{text}");
    }
    let en = out.render_text(Lang::En);
    assert!(
        en.contains("NOT ELIGIBLE") && en.contains("Reason 1 of 1"),
        "{en}"
    );
    assert!(!en.contains("Alasan"), "{en}");
    // A stored list row of the programme is the row judged: its period, name and amount.
    let stored = rec(
        Table::RosterEntry,
        &[
            ("program", t("PKH")),
            ("period", t("2026-12")),
            ("row_no", t("4")),
            ("nik_raw", t("3201011111880006")),
            ("nik", t("3201011111880006")),
            ("name", t("RUDI HARTONO")),
            ("birth_date", t("1988-11-11")),
            ("region", t(VILLAGE)),
            ("amount", Value::Integer(750_000)),
        ],
    );
    load(&store, Table::RosterEntry, &[stored]).await;
    let req = CheckRequest {
        nik: "3201011111880006".into(),
        program: "PKH".into(),
        default_period: "2026-11".into(),
        ..CheckRequest::default()
    };
    let out = check(&store, &programs, &req).await.unwrap();
    assert_eq!(out.origin, RowOrigin::StoredList);
    assert_eq!(
        (
            out.verdict.period.as_str(),
            out.verdict.name.as_str(),
            out.verdict.amount
        ),
        ("2026-12", "RUDI HARTONO", Some(750_000))
    );
    let text = out.render_text(Lang::Id);
    assert!(
        text.contains("Baris daftar PKH tersimpan, periode 2026-12") && text.contains("Rp 750.000"),
        "{text}"
    );
    let rudi = listed.iter().find(|r| r.0 == 4).unwrap();
    assert_eq!(out.verdict.codes(), rudi.2);
    // An unknown programme lists the known ones, as `validate` does.
    let req = CheckRequest {
        program: "BANSOS_X".into(),
        ..req
    };
    let e = check(&store, &programs, &req).await.unwrap_err();
    assert!(matches!(e, EngineError::UnknownProgram { .. }), "{e}");
}

/// A value typed into a template cell.
enum Typed<'a> {
    /// Text (what Excel stores for a text-formatted column).
    Text(&'a str),
    /// A number.
    Num(f64),
    /// A date typed into a date-formatted column (Excel stores its serial number).
    Date(&'a str),
}

/// Fills the data sheet of a template workbook as Excel would store what an officer types:
/// each cell gets its column's style, text as text, numbers and dates as numbers.
fn fill_template(template: &[u8], rows: &[Vec<Typed<'_>>]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(template)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let xml = String::from_utf8(bytes).unwrap();
            // Column styles: <col min="2" max="2" width=".." style="3" .../>.
            let mut styles = std::collections::HashMap::new();
            for col in xml.split("<col ").skip(1) {
                let attr = |a: &str| {
                    col.split(&format!("{a}=\""))
                        .nth(1)
                        .and_then(|s| s.split('"').next())
                        .map(str::to_string)
                };
                if let (Some(min), Some(style)) = (attr("min"), attr("style")) {
                    styles.insert(min.parse::<usize>().unwrap(), style);
                }
            }
            let letter = |c: usize| ((b'A' + c as u8) as char).to_string();
            let mut data = String::new();
            for (r, row) in rows.iter().enumerate() {
                let rn = r + 2;
                data.push_str(&format!("<row r=\"{rn}\">"));
                for (c, v) in row.iter().enumerate() {
                    let s = styles
                        .get(&(c + 1))
                        .map(|s| format!(" s=\"{s}\""))
                        .unwrap_or_default();
                    let at = format!("{}{rn}", letter(c));
                    match v {
                        Typed::Text("") => {}
                        Typed::Text(t) => data.push_str(&format!(
                            "<c r=\"{at}\"{s} t=\"inlineStr\"><is><t>{t}</t></is></c>"
                        )),
                        Typed::Num(n) => data.push_str(&format!("<c r=\"{at}\"{s}><v>{n}</v></c>")),
                        Typed::Date(d) => {
                            let d = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
                            let serial = (d - chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
                                .unwrap())
                            .num_days();
                            data.push_str(&format!("<c r=\"{at}\"{s}><v>{serial}</v></c>"));
                        }
                    }
                }
                data.push_str("</row>");
            }
            let xml = xml.replacen("</sheetData>", &format!("{data}</sheetData>"), 1);
            bytes = xml.into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Issue 15, item 15: the blank template `sinergi templat roster` writes, filled in as an
/// officer fills it, loads through the shipped roster mapping (no mapping written) and
/// validates; a NIK typed into its NIK column keeps all 16 digits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blank_roster_template_filled_in_loads_and_validates_with_no_mapping_written() {
    use calamine::{Reader, Xlsx};
    use sinergi_engine::template::{DATA_SHEET, columns, roster_template};
    use sinergi_ingest::{Mapping, ReadOptions, read_all};
    use sinergi_model::Lang;

    let mapping = Mapping::from_file(root().join("config/mappings/roster.toml")).unwrap();
    let programs = ["BLT_DD", "BPNT", "PBI_JK", "PKH"];
    let blank = roster_template(&mapping, &programs, Lang::Id).unwrap();
    assert_eq!(
        blank,
        roster_template(&mapping, &programs, Lang::Id).unwrap(),
        "deterministic"
    );
    // The data sheet is first (the mapping reads sheet 0), one header row holding every
    // column the mapping reads; the instructions follow.
    let mut wb = Xlsx::new(std::io::Cursor::new(blank.clone())).unwrap();
    assert_eq!(wb.sheet_names(), [DATA_SHEET, "Petunjuk"]);
    let data = wb.worksheet_range(DATA_SHEET).unwrap();
    assert_eq!(data.height(), 1);
    let headers: Vec<String> = data
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    let cols = columns(&mapping);
    assert_eq!(
        headers,
        cols.iter().map(|c| c.header.clone()).collect::<Vec<_>>()
    );
    for c in mapping.columns() {
        assert!(headers.iter().any(|h| h == c), "{c} in {headers:?}");
    }
    assert_eq!(&headers[..3], ["No", "NIK", "No KK"]);
    let petunjuk = wb.worksheet_range("Petunjuk").unwrap();
    assert!(
        petunjuk.rows().any(|r| r
            .first()
            .is_some_and(|d| *d == calamine::Data::String("NIK".into()))),
        "the instructions describe each column"
    );
    // The blank file reads: every required column found, no rows.
    let dir = tempfile::tempdir().unwrap();
    let blank_path = dir.path().join("templat.xlsx");
    std::fs::write(&blank_path, &blank).unwrap();
    let read = read_all(&mapping, &[blank_path], &ReadOptions::default()).unwrap();
    assert_eq!(read.report.rows_read, 0);

    // Filled in: cells typed into the formatted columns.
    let typed = |no: f64, nik: &'static str, kk: &'static str, name: &'static str, born| {
        cols.iter()
            .map(|c| match c.field {
                "row_no" => Typed::Num(no),
                "nik" => Typed::Text(nik),
                "kk" => Typed::Text(kk),
                "name" => Typed::Text(name),
                "birth_date" => Typed::Date(born),
                "address" => Typed::Text("JL. MAWAR NO. 5"),
                "region" => Typed::Text(VILLAGE),
                "program" => Typed::Text("PKH"),
                "amount" => Typed::Num(750_000.0),
                "period" => Typed::Text("2026-11"),
                _ => Typed::Text(""),
            })
            .collect::<Vec<_>>()
    };
    let filled = fill_template(
        &blank,
        &[
            typed(1.0, "3201011203800001", KK1, "BUDI SANTOSO", "1980-03-12"),
            typed(
                2.0,
                "3201012007700003",
                "3201010101100002",
                "AHMAD DAHLAN",
                "1970-07-20",
            ),
        ],
    );
    let list = dir.path().join("daftar-pkh.xlsx");
    std::fs::write(&list, filled).unwrap();
    let read = read_all(
        &mapping,
        std::slice::from_ref(&list),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!((read.report.rows_read, read.report.loaded), (2, 2));
    // The test world's village code is not in the Kemendagri table; nothing else is amiss
    // (no NIK typed as a number, no unreadable date or amount).
    assert!(read.rejects.is_empty(), "{:?}", read.rejects);
    assert!(
        read.warnings.iter().all(|w| w.code == "REGION_UNKNOWN"),
        "{:?}",
        read.warnings
    );

    let store = store_with(dir.path(), &[]).await;
    let out = validate(&store, &request(dir.path(), &list, "PKH"), &mut |_| {})
        .await
        .unwrap();
    let rows = verdict_rows(&out.out_dir);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["nik_listed"], "3201011203800001");
    assert_eq!(rows[0]["birth_date"], "1980-03-12");
    assert_eq!(rows[0]["amount"], "750000");
    assert_eq!(rows[0]["kk_listed"], KK1);
    assert!(!rows[0]["reason_codes"].contains("NIK"), "{:?}", rows[0]);
    assert_eq!(
        (
            rows[1]["verdict"].as_str(),
            rows[1]["reason_codes"].as_str()
        ),
        ("TIDAK LAYAK", "DECEASED")
    );
}

/// The shipped programme rules with every listed check declared `mandatory = true`.
fn mandatory_programs(dir: &Path, codes: &[&str]) -> PathBuf {
    let out = dir.join("programs");
    std::fs::create_dir_all(&out).unwrap();
    for e in std::fs::read_dir(root().join("config/programs")).unwrap() {
        let p = e.unwrap().path();
        let mut text = std::fs::read_to_string(&p).unwrap();
        for c in codes {
            text = text.replace(
                &format!("[reasons.{c}]\n"),
                &format!("[reasons.{c}]\nmandatory = true\n"),
            );
        }
        std::fs::write(out.join(p.file_name().unwrap()), text).unwrap();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkh_and_blt_dd_run_with_only_the_population_registry_saying_per_row_what_was_not_checked()
{
    for program in ["PKH", "BLT_DD"] {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with(
            dir.path(),
            &[
                Table::Death,
                Table::Decile,
                Table::HealthMembership,
                Table::Employment,
                Table::Wage,
            ],
        )
        .await;
        let roster = dir.path().join("r.xlsx");
        write_roster(&roster, program, "2026-Q4", &PKH_ROWS[..6], true);
        let mut req = request(dir.path(), &roster, program);
        req.lang = sinergi_model::Lang::En;
        let out = validate(&store, &req, &mut |_| {}).await.unwrap();
        let rows = verdict_rows(&out.out_dir);
        assert_eq!(rows.len(), 6);
        for r in &rows {
            // Nobody is NOT_IN_DTSEN or DECEASED when those registries are not there.
            for code in ["NOT_IN_DTSEN", "DECEASED", "DECILE_ABOVE_CUT"] {
                assert!(
                    !r["reason_codes"].split(';').any(|c| c == code),
                    "{program}: {r:?}"
                );
            }
            for code in [
                "DECEASED",
                "DECILE_ABOVE_CUT",
                "NOT_IN_DTSEN",
                "WAGE_ABOVE_MINIMUM",
            ] {
                assert!(
                    r["not_checked"].contains(&format!("{code}: ")),
                    "{program} row {}: {}",
                    r["row_no"],
                    r["not_checked"]
                );
            }
            assert!(
                r["not_checked"].contains("not loaded"),
                "{}",
                r["not_checked"]
            );
        }
        // The JSON rows and the summary say the same.
        let json = verdicts_json(&out.out_dir);
        let nc = json[0]["not_checked"].as_array().unwrap();
        assert!(
            nc.iter()
                .any(|n| n["code"] == "DECEASED" && n["why"] == "NOT_LOADED"),
            "{nc:?}"
        );
        assert_eq!(out.summary.not_checked.get("DECEASED NOT_LOADED"), Some(&6));
        assert_eq!(
            out.summary.not_checked.get("NOT_IN_DTSEN NOT_LOADED"),
            Some(&6)
        );
        let summary = std::fs::read_to_string(out.out_dir.join("summary.txt")).unwrap();
        assert!(summary.contains("DECEASED"), "{summary}");
        // The XLSX carries the column too.
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook(out.out_dir.join("verdicts.xlsx")).unwrap();
        let found = wb.worksheets().iter().any(|(_, range)| {
            range
                .rows()
                .any(|row| row.iter().any(|c| c.to_string().contains("DECEASED: ")))
        });
        assert!(found, "{program}: verdicts.xlsx lists the checks not made");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mandatory_check_refuses_naming_every_missing_registry_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[Table::Death, Table::Decile, Table::Wage]).await;
    let roster = dir.path().join("r.xlsx");
    write_roster(&roster, "PKH", "2026-Q4", &PKH_ROWS[..1], true);
    let mut req = request(dir.path(), &roster, "PKH");
    req.programs_dir = mandatory_programs(
        dir.path(),
        &[
            "DECEASED",
            "DECILE_ABOVE_CUT",
            "WAGE_ABOVE_MINIMUM",
            "CIVIL_SERVANT",
        ],
    );
    let err = validate(&store, &req, &mut |_| {}).await.unwrap_err();
    let msg = err.to_string();
    match &err {
        EngineError::MissingDataset { tables, .. } => {
            assert_eq!(
                tables,
                &vec![Table::Death, Table::Decile, Table::Wage],
                "{msg}"
            );
        }
        other => panic!("{other}"),
    }
    for cmd in [
        "sinergi ingest --source dukcapil-kematian <file>",
        "sinergi ingest --source dtsen <file>",
        "sinergi ingest --source bpjs-ketenagakerjaan-upah <file>",
    ] {
        assert!(msg.contains(cmd), "{msg}");
    }
    assert!(!msg.contains("--source bpjs-ketenagakerjaan <"), "{msg}");
    assert!(!msg.contains("bkn-asn"), "employment is loaded: {msg}");
    assert!(msg.contains("3 data belum dimuat"), "{msg}");
    assert!(msg.contains("3 datasets have not been loaded"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_loaded_with_no_rows_is_not_checked_not_everyone_not_in_dtsen() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[Table::Decile]).await;
    // A header-only DTSEN file: the guard refuses it unless confirmed; confirmed, it is a
    // dataset of 0 rows.
    let (name, agency) = dataset_of(Table::Decile);
    let meta = DatasetMeta {
        name: name.into(),
        table: Table::Decile,
        owner_agency: agency.into(),
        description: String::new(),
        reference_codes: Vec::new(),
        update_cadence: String::new(),
    };
    let l = store.begin_load(&meta, LoadMode::Snapshot).await.unwrap();
    let refused = l.commit(LoadStats::default()).await;
    assert!(refused.is_err(), "a 0-row load is refused by the guard");
    let mut l = store.begin_load(&meta, LoadMode::Snapshot).await.unwrap();
    l.set_policy(sinergi_store::LoadPolicy {
        confirmed: true,
        ..sinergi_store::LoadPolicy::default()
    });
    l.commit(LoadStats::default()).await.unwrap();
    let roster = dir.path().join("r.xlsx");
    write_roster(&roster, "PKH", "2026-Q4", &PKH_ROWS[..6], true);
    let out = validate(&store, &request(dir.path(), &roster, "PKH"), &mut |_| {})
        .await
        .unwrap();
    let rows = codes_by_row(&out.out_dir);
    for r in &rows {
        assert!(!r.2.split(';').any(|c| c == "NOT_IN_DTSEN"), "{r:?}");
    }
    assert_eq!(
        out.summary.not_checked.get("NOT_IN_DTSEN NOT_LOADED"),
        Some(&6)
    );
}

/// A PKH list without a Nominal column.
fn write_roster_without_amount(path: &Path, rows: &[Row<'_>]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let header = [
        "No",
        "NIK",
        "No KK",
        "Nama KPM",
        "Tanggal Lahir",
        "Alamat",
        "Kode Desa",
        "Program",
        "Periode",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, (no, nik, kk, name, birth, village, _)) in rows.iter().enumerate() {
        let cells = [
            no.to_string(),
            nik.to_string(),
            kk.to_string(),
            name.to_string(),
            birth.to_string(),
            "JL. MAWAR".into(),
            village.to_string(),
            "PKH".into(),
            "2026-Q4".into(),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(i as u32 + 1, c as u16, v).unwrap();
        }
    }
    wb.save(path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_amount_column_the_budget_uses_the_rules_benefit_amount() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let roster = dir.path().join("pkh.xlsx");
    write_roster_without_amount(&roster, PKH_ROWS);
    let mut req = request(dir.path(), &roster, "PKH");
    req.lang = sinergi_model::Lang::En;
    let out = validate(&store, &req, &mut |_| {}).await.unwrap();
    let tot = &out.summary.total;
    assert_eq!(tot.rows, 11);
    assert!(tot.tidak_layak >= 3);
    // PKH.toml: benefit.amount = 750000 per family per quarter.
    assert_eq!(tot.amount_tidak_layak, 750_000 * tot.tidak_layak as i64);
    assert_eq!(tot.amount_tinjau, 750_000 * tot.tinjau as i64);
    assert_eq!(tot.amount_total, 750_000 * 11);
    assert_eq!(tot.amount_from_rules, 11);
    let summary = std::fs::read_to_string(out.out_dir.join("summary.txt")).unwrap();
    assert!(
        summary.contains("Amount of 11 rows without a Nominal: the programme's benefit.amount"),
        "{summary}"
    );
    let json = verdicts_json(&out.out_dir);
    assert_eq!(json[0]["amount"], 750_000);
    assert_eq!(json[0]["amount_from_rules"], true);
}

const LIST_WITH_TEXT_IDS: &str = r#"
source = "daftar-dinsos"
agency = "Dinas Sosial"
dataset = "Daftar"
table = "roster_entry"

[format]
kind = "csv"
delimiter = ";"

[fields.program]
constant = "PKH"

[fields.row_no]
column = "ID"

[fields.nik]
column = "NIK"
transforms = ["nik"]

[fields.nik_raw]
column = "NIK"

[fields.name]
column = "NAMA"

[fields.birth_date]
column = "TGL_LAHIR"

[fields.region]
column = "KODE_DESA"

[fields.sex]
column = "JK"

[fields.birth_place]
column = "TEMPAT_LAHIR"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_row_ids_sex_and_birth_place_and_a_period_given_only_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[]).await;
    let mapping = dir.path().join("daftar.toml");
    std::fs::write(&mapping, LIST_WITH_TEXT_IDS).unwrap();
    let list = dir.path().join("daftar.csv");
    std::fs::write(
        &list,
        format!(
            "ID;NIK;NAMA;TGL_LAHIR;KODE_DESA;JK;TEMPAT_LAHIR\n\
             R00000012;3201011203800001;BUDI SANTOSO;1980-03-12;{VILLAGE};L;BOGOR\n\
             R00000013;3201016212920007;ANI SURYANI;1992-12-22;{VILLAGE};P;BOGOR\n"
        ),
    )
    .unwrap();
    let mut req = request(dir.path(), &list, "PKH");
    req.mapping = mapping.clone();
    req.period = Some("2026-Q4".into());
    // No period in the mapping: --period supplies it.
    let out = validate(&store, &req, &mut |_| {}).await.unwrap();
    let rows = verdict_rows(&out.out_dir);
    let ids: Vec<&str> = rows.iter().map(|r| r["row_no"].as_str()).collect();
    assert_eq!(ids, vec!["R00000012", "R00000013"]);
    assert_eq!(rows[0]["verdict"], "LAYAK", "{:?}", rows[0]);
    assert_eq!(out.summary.periods, vec!["2026-Q4".to_string()]);
    let json = verdicts_json(&out.out_dir);
    assert_eq!(json[1]["row_id"], "R00000013");
    // Without --period the mapping is incomplete, and says so.
    req.period = None;
    let err = validate(&store, &req, &mut |_| {}).await.unwrap_err();
    assert!(err.to_string().contains("period"), "{err}");

    // Sex and birth place reach the roster row, and sex the linkage query.
    let m = sinergi_ingest::Mapping::from_file_with_defaults(&mapping, &[("period", "2026-Q4")])
        .unwrap();
    let read =
        sinergi_ingest::read_all(&m, &[list], &sinergi_ingest::ReadOptions::default()).unwrap();
    let row = RosterRow::from_record(&read.records[1], read.rows[1]);
    assert_eq!(row.row_id, "R00000013");
    assert_eq!(row.row_no, 3, "a text id keeps the file row as its number");
    assert_eq!(row.sex, Some(sinergi_model::Sex::P));
    assert_eq!(row.birth_place, "BOGOR");
    assert_eq!(
        sinergi_engine::validator::query(&row).sex,
        Some(sinergi_model::Sex::P)
    );
}
