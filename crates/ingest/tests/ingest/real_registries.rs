//! Mappings for registries as agencies really export them: region names instead of codes,
//! substrings, row filters (issue 17).

use sinergi_ingest::Mapping;

use crate::common::{Tmp, codes, load, nik_for, text};

const PERSON_BY_NAMES: &str = r#"
source = "penduduk-nama-wilayah"
agency = "Dinas Dukcapil"
dataset = "Penduduk"
table = "person"

[format]
kind = "csv"
delimiter = ";"

[fields.nik]
column = "NIK"
transforms = ["nik"]

[fields.kk]
column = "NO_KK"
transforms = ["nik"]

[fields.name]
column = "NAMA"

[fields.sex]
column = "JK"
transforms = ["trim", { substring = [0, 1] }, "upper"]

[fields.birth_date]
column = "TGL_LAHIR"

[fields.region]
region_names = { province = "PROVINSI", regency = "KAB_KOTA", district = "KECAMATAN", village = "DESA_KEL" }
"#;

#[test]
fn region_names_give_the_kemendagri_code_and_unknown_or_ambiguous_names_are_reported_per_row() {
    let m = Mapping::from_str(PERSON_BY_NAMES, "nama.toml").unwrap_or_else(|e| panic!("{e}"));
    let tmp = Tmp::new();
    let rows = [
        // 2: every variant at once, found.
        "JAWA BARAT;KAB. BOGOR;KEC. CIBINONG;KEL. PONDOK RAJEG",
        // 3: DKI, KOTA ADM., a district and a kelurahan of Jakarta Pusat.
        "DKI JAKARTA;KOTA ADM. JAKARTA PUSAT;GAMBIR;GAMBIR",
        // 4: a village that is not in this district.
        "JAWA BARAT;KAB. BOGOR;SUKARAJA;PONDOK RAJEG",
        // 5: BOGOR without KAB./KOTA is two regencies; only one has a Cibinong.
        "JAWA BARAT;BOGOR;CIBINONG;PONDOK RAJEG",
        // 6: an unknown province.
        "ATLANTIS;KAB. BOGOR;CIBINONG;PONDOK RAJEG",
    ];
    let mut csv =
        String::from("NIK;NO_KK;NAMA;JK;TGL_LAHIR;PROVINSI;KAB_KOTA;KECAMATAN;DESA_KEL\n");
    for (i, r) in rows.iter().enumerate() {
        csv.push_str(&format!(
            "{};3201010101200001;ANI;perempuan;01-07-1980;{r}\n",
            nik_for(i as u64)
        ));
    }
    let path = tmp.write("penduduk.csv", csv);
    let out = load(&m, &path);
    assert_eq!(out.rows, vec![2, 3, 5]);
    let regions: Vec<&str> = out
        .records
        .iter()
        .map(|r| text(r, "region").unwrap())
        .collect();
    assert_eq!(regions, vec!["3201011001", "3171011001", "3201011001"]);
    assert_eq!(text(&out.records[0], "sex"), Some("P"));
    assert_eq!(
        codes(&out.rejects),
        vec![(4, "REGION_NAME_UNKNOWN"), (6, "REGION_NAME_UNKNOWN")]
    );
    let r = &out.rejects[0];
    assert_eq!(r.field, "region");
    assert_eq!(
        r.raw_value,
        "JAWA BARAT / KAB. BOGOR / SUKARAJA / PONDOK RAJEG"
    );
    assert!(r.message.contains("desa/kelurahan"), "{}", r.message);
    assert_eq!(
        out.report.rows_read,
        out.report.loaded + out.report.rejected
    );
}

#[test]
fn an_ambiguous_region_name_is_rejected_listing_the_candidates() {
    let m = Mapping::from_str(
        &PERSON_BY_NAMES.replace(
            r#"region_names = { province = "PROVINSI", regency = "KAB_KOTA", district = "KECAMATAN", village = "DESA_KEL" }"#,
            r#"region_names = { province = "PROVINSI", regency = "KAB_KOTA" }"#,
        ),
        "nama.toml",
    )
    .unwrap();
    let tmp = Tmp::new();
    let csv = format!(
        "NIK;NO_KK;NAMA;JK;TGL_LAHIR;PROVINSI;KAB_KOTA\n{};3201010101200001;ANI;P;01-07-1980;JAWA BARAT;BOGOR\n{};3201010101200001;BUDI;L;01-07-1980;JAWA BARAT;KOTA BOGOR\n",
        nik_for(1),
        nik_for(2)
    );
    let out = load(&m, &tmp.write("p.csv", csv));
    assert_eq!(codes(&out.rejects), vec![(2, "REGION_NAME_AMBIGUOUS")]);
    assert!(
        out.rejects[0].message.contains("32.01"),
        "{}",
        out.rejects[0].message
    );
    assert!(
        out.rejects[0].message.contains("32.71"),
        "{}",
        out.rejects[0].message
    );
    assert_eq!(text(&out.records[0], "region"), Some("3271"));
}

#[test]
fn region_names_are_for_region_fields_and_substring_is_checked() {
    let bad = PERSON_BY_NAMES.replace(
        "[fields.name]\ncolumn = \"NAMA\"",
        "[fields.name]\nregion_names = { province = \"NAMA\" }",
    );
    let e = Mapping::from_str(&bad, "x.toml").unwrap_err();
    assert_eq!(e.code, "MAPPING_INVALID");
    assert!(e.message.contains("region fields only"), "{e}");
    let bad = PERSON_BY_NAMES.replace("substring = [0, 1]", "substring = [0, 0]");
    let e = Mapping::from_str(&bad, "x.toml").unwrap_err();
    assert!(e.message.contains("substring"), "{e}");
    let empty = PERSON_BY_NAMES.replace(
        r#"region_names = { province = "PROVINSI", regency = "KAB_KOTA", district = "KECAMATAN", village = "DESA_KEL" }"#,
        "region_names = {}",
    );
    assert!(Mapping::from_str(&empty, "x.toml").is_err());
}

const POPULATION_WITH_DEATHS: &str = r#"
source = "penduduk-dengan-kematian"
agency = "Dinas Dukcapil"
dataset = "Penduduk"
table = "person"

[format]
kind = "csv"
delimiter = ";"

[[where]]
column = "TGL_MATI"
empty = true

[fields.nik]
column = "NIK"
transforms = ["nik"]

[fields.kk]
column = "NO_KK"
transforms = ["nik"]

[fields.name]
column = "NAMA"

[fields.sex]
column = "JK"

[fields.birth_date]
column = "TGL_LAHIR"

[fields.region]
column = "KODE_DESA"
"#;

const DEATHS_FROM_POPULATION: &str = r#"
source = "kematian-dari-penduduk"
agency = "Dinas Dukcapil"
dataset = "Kematian"
table = "death"

[format]
kind = "csv"
delimiter = ";"

[[where]]
column = "TGL_MATI"
empty = false

[[where]]
column = "STATUS"
not_in = ["batal"]

[fields.nik]
column = "NIK"
transforms = ["nik"]

[fields.death_date]
column = "TGL_MATI"
"#;

fn population_with_deaths(tmp: &Tmp) -> std::path::PathBuf {
    let mut csv = String::from("NIK;NO_KK;NAMA;JK;TGL_LAHIR;KODE_DESA;TGL_MATI;STATUS\n");
    for i in 0..10u64 {
        let death = match i {
            3 => "05-05-2024;",
            7 => "06-06-2025;",
            8 => "07-07-2025;BATAL",
            _ => ";",
        };
        csv.push_str(&format!(
            "{};3201010101200001;ORANG {i};P;01-07-1980;3201011001;{death}\n",
            nik_for(i)
        ));
    }
    tmp.write("penduduk.csv", csv)
}

#[test]
fn where_filters_keep_the_living_or_the_dead_of_one_population_file_counting_the_rest_as_filtered()
{
    let tmp = Tmp::new();
    let path = population_with_deaths(&tmp);
    let living =
        Mapping::from_str(POPULATION_WITH_DEATHS, "p.toml").unwrap_or_else(|e| panic!("{e}"));
    let out = load(&living, &path);
    assert_eq!(out.report.rows_read, 10);
    assert_eq!(out.report.loaded, 7, "rows 5, 9 and 10 carry a death date");
    assert_eq!(out.report.rejected, 0, "a filtered row is not a reject");
    assert_eq!(out.report.filtered, 3);
    assert_eq!(out.report.files[0].filtered, 3);
    assert!(out.rejects.is_empty());
    assert_eq!(
        out.report.rows_read,
        out.report.loaded + out.report.rejected + out.report.filtered
    );
    assert!(!out.rows.contains(&5) && !out.rows.contains(&9));
    let text = out.report.to_text(sinergi_model::Lang::En);
    assert!(
        text.contains("Filtered by [[where]] (not rejected)"),
        "{text}"
    );

    let dead =
        Mapping::from_str(DEATHS_FROM_POPULATION, "d.toml").unwrap_or_else(|e| panic!("{e}"));
    let out = load(&dead, &path);
    assert_eq!(
        out.rows,
        vec![5, 9],
        "the cancelled death (row 10) is filtered too"
    );
    assert_eq!(out.report.filtered, 8);
    assert_eq!(out.report.rejected, 0);
    assert_eq!(text_of(&out.records[0], "death_date"), "2024-05-05");
}

fn text_of(r: &sinergi_ingest::Record, f: &str) -> String {
    text(r, f).unwrap_or("").to_owned()
}

#[test]
fn a_where_column_missing_from_the_file_stops_the_read_and_bad_conditions_are_mapping_errors() {
    let tmp = Tmp::new();
    let m = Mapping::from_str(POPULATION_WITH_DEATHS, "p.toml").unwrap();
    let csv = format!(
        "NIK;NO_KK;NAMA;JK;TGL_LAHIR;KODE_DESA\n{};3201010101200001;A;P;01-07-1980;3201011001\n",
        nik_for(1)
    );
    let e = sinergi_ingest::read_all(
        &m,
        &[tmp.write("p.csv", csv)],
        &sinergi_ingest::ReadOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("TGL_MATI"), "{e}");
    for bad in [
        "[[where]]\ncolumn = \"TGL_MATI\"\n",
        "[[where]]\ncolumn = \"TGL_MATI\"\nempty = true\nin = [\"X\"]\n",
        "[[where]]\ncolumn = \"TGL_MATI\"\nin = []\n",
        "[[where]]\ncolumn = \"TGL_MATI\"\nequals = \"X\"\n",
    ] {
        let text =
            POPULATION_WITH_DEATHS.replace("[[where]]\ncolumn = \"TGL_MATI\"\nempty = true\n", bad);
        let e = Mapping::from_str(&text, "p.toml").unwrap_err();
        assert!(
            matches!(e.code, "MAPPING_INVALID" | "MAPPING_SYNTAX"),
            "{bad}: {e}"
        );
        assert!(e.line.is_some(), "{e}");
    }
}

const SMALL_ROSTER: &str = r#"
source = "daftar"
agency = "Dinas Sosial"
dataset = "Daftar"
table = "roster_entry"

[format]
kind = "csv"

[fields.program]
constant = "PKH"

[fields.period]
constant = "2026-Q4"

[fields.row_no]
column = "NO"

[fields.nik]
column = "NIK"
transforms = ["nik"]

[fields.name]
column = "NAMA"
"#;

#[test]
fn warnings_of_rejected_rows_are_not_counted_as_reasons_for_rejection() {
    let tmp = Tmp::new();
    let m = Mapping::from_str(SMALL_ROSTER, "r.toml").unwrap();
    // Row 2: a short NIK (a warning: nik is optional) and no name (the reject).
    let csv = "NO,NIK,NAMA\n1,3201,\n2,3201,BUDI\n";
    let out = load(&m, &tmp.write("r.csv", csv));
    assert_eq!(out.report.rejected, 1);
    let reasons: Vec<&str> = out.report.reject_codes.keys().copied().collect();
    assert_eq!(reasons, vec!["FIELD_REQUIRED_MISSING"]);
    // Nothing is lost: the rejected row's NIK problem is in the rejects with it.
    assert_eq!(
        codes(&out.rejects),
        vec![(2, "FIELD_REQUIRED_MISSING"), (2, "NIK_WRONG_LENGTH")]
    );
    assert_eq!(out.report.warning_codes.get("NIK_WRONG_LENGTH"), Some(&1));
    let text = out.report.to_text(sinergi_model::Lang::En);
    let reasons = text
        .split("Reasons for rejection:")
        .nth(1)
        .and_then(|t| t.split("\n\n").next())
        .unwrap();
    assert!(!reasons.contains("NIK_WRONG_LENGTH"), "{text}");
}

#[test]
fn warnings_beyond_the_cap_are_counted_not_handed_on() {
    let tmp = Tmp::new();
    let m = Mapping::from_str(SMALL_ROSTER, "r.toml").unwrap();
    let mut csv = String::from("NO,NIK,NAMA\n");
    for i in 1..=5 {
        csv.push_str(&format!("{i},12345,ORANG {i}\n"));
    }
    let opts = sinergi_ingest::ReadOptions {
        max_warnings: 2,
        ..Default::default()
    };
    let out = sinergi_ingest::read_all(&m, &[tmp.write("r.csv", csv)], &opts).unwrap();
    assert_eq!(out.report.loaded, 5);
    assert_eq!(out.warnings.len(), 2);
    assert_eq!(out.report.warnings_not_written, 3);
    assert_eq!(out.report.warnings_cap, Some(2));
    assert_eq!(out.report.warning_codes.get("NIK_WRONG_LENGTH"), Some(&5));
    assert_eq!(
        out.report
            .warnings_not_written_codes
            .get("NIK_WRONG_LENGTH"),
        Some(&3)
    );
    let text = out.report.to_text(sinergi_model::Lang::En);
    assert!(
        text.contains("The warnings file holds the first 2 warnings; 3 more were not written"),
        "{text}"
    );
    let json = out.report.to_json();
    assert!(json.contains("\"warnings_not_written\": 3"), "{json}");
}
