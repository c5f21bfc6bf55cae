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
