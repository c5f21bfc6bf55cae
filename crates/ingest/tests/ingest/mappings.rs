//! Mapping files: the shipped ones load; bad ones fail with file, line and what is wrong.

use sinergi_ingest::Mapping;
use sinergi_ingest::mapping::{FieldSource, Format, TemplatePart};
use sinergi_model::standard::Table;

use crate::common::mapping;

const SHIPPED: &[(&str, Table)] = &[
    ("dukcapil-penduduk", Table::Person),
    ("dukcapil-kematian", Table::Death),
    ("dtsen", Table::Decile),
    ("bpjs-kesehatan", Table::HealthMembership),
    ("bkn-asn", Table::Employment),
    ("tni-polri", Table::Employment),
    ("bpjs-ketenagakerjaan-upah", Table::Wage),
    ("roster", Table::RosterEntry),
];

#[test]
fn every_shipped_mapping_loads_and_targets_its_table() {
    for (name, table) in SHIPPED {
        let m = mapping(name);
        assert_eq!(m.source, *name);
        assert_eq!(m.table, *table, "{name}");
        assert!(!m.metadata.owner.is_empty(), "{name}: metadata.owner");
    }
    // Every mapping file in the directory is one of the above.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/mappings");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".toml") {
            assert!(SHIPPED.iter().any(|(s, _)| *s == stem), "{name} untested");
            n += 1;
        }
    }
    assert_eq!(n, SHIPPED.len());
}

#[test]
fn dukcapil_region_is_a_zero_padded_template() {
    let m = mapping("dukcapil-penduduk");
    let f = m.fields.iter().find(|f| f.field == "region").unwrap();
    match &f.source {
        FieldSource::Template { columns, parts } => {
            assert_eq!(columns, &["NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL"]);
            assert!(parts.contains(&TemplatePart::Column {
                column: 3,
                width: 4
            }));
        }
        other => panic!("{other:?}"),
    }
    match &m.format {
        Format::Csv(c) => assert_eq!(c.delimiter, b'|'),
        other => panic!("{other:?}"),
    }
}

const MINIMAL: &str = r#"
source = "t"
agency = "a"
dataset = "d"
table = "death"

[format]
kind = "csv"

[fields.nik]
column = "NIK"

[fields.death_date]
column = "TGL"
"#;

#[test]
fn minimal_mapping_loads() {
    let m = Mapping::from_str(MINIMAL, "minimal.toml").unwrap();
    assert_eq!(m.fields.len(), 2);
    assert_eq!(m.columns(), vec!["NIK", "TGL"]);
}

#[test]
fn syntax_error_names_file_and_line() {
    let text = MINIMAL.replace("column = \"TGL\"", "column = \"TGL");
    let e = Mapping::from_str(&text, "config/mappings/x.toml").unwrap_err();
    assert_eq!(e.code, "MAPPING_SYNTAX");
    assert_eq!(e.origin, "config/mappings/x.toml");
    let line = text.lines().position(|l| l.contains("\"TGL")).unwrap() + 1;
    assert_eq!(e.line, Some(line));
    assert!(
        e.to_string()
            .starts_with(&format!("config/mappings/x.toml:{line}:")),
        "{e}"
    );
}

#[test]
fn unknown_canonical_field_lists_the_valid_ones() {
    let text = format!("{MINIMAL}\n[fields.tanggal_meninggal]\ncolumn = \"X\"\n");
    let e = Mapping::from_str(&text, "m.toml").unwrap_err();
    assert_eq!(e.code, "MAPPING_UNKNOWN_FIELD");
    assert!(e.message.contains("nik, certificate_no, death_date"), "{e}");
    let line = text
        .lines()
        .position(|l| l.contains("tanggal_meninggal"))
        .unwrap()
        + 1;
    assert_eq!(e.line, Some(line), "{e}");
}

#[test]
fn unknown_table_unknown_key_and_bad_transform_are_errors() {
    let e = Mapping::from_str(&MINIMAL.replace("\"death\"", "\"deaths\""), "m").unwrap_err();
    assert_eq!(e.code, "MAPPING_UNKNOWN_TABLE");
    assert!(e.message.contains("roster_entry"));

    let e = Mapping::from_str(
        &MINIMAL.replace("kind = \"csv\"", "kind = \"csv\"\ndelimeter = \";\""),
        "m",
    )
    .unwrap_err();
    assert_eq!(e.code, "MAPPING_SYNTAX");
    assert!(e.message.contains("delimeter"), "{e}");
    assert_eq!(e.line, Some(9));

    let text = MINIMAL.replace(
        "column = \"NIK\"",
        "column = \"NIK\"\ntransforms = [\"uppercase\"]",
    );
    let e = Mapping::from_str(&text, "m").unwrap_err();
    assert_eq!(e.code, "MAPPING_INVALID");
    assert!(
        e.message.contains("uppercase") && e.message.contains("collapse_spaces"),
        "{e}"
    );
    assert_eq!(e.line, Some(12));
}

#[test]
fn a_mapping_cannot_relax_or_omit_a_required_field() {
    let e = Mapping::from_str(
        &MINIMAL.replace("column = \"TGL\"", "column = \"TGL\"\nrequired = false"),
        "m",
    )
    .unwrap_err();
    assert_eq!(e.code, "MAPPING_INVALID");
    let text = MINIMAL.replace("[fields.death_date]\ncolumn = \"TGL\"\n", "");
    let e = Mapping::from_str(&text, "m").unwrap_err();
    assert_eq!(e.code, "MAPPING_REQUIRED_FIELD_UNMAPPED");
    assert!(e.message.contains("death_date"));
}

#[test]
fn template_must_use_its_columns() {
    let text = MINIMAL.replace(
        "[fields.nik]\ncolumn = \"NIK\"",
        "[fields.nik]\ncolumns = [\"A\", \"B\"]\ntemplate = \"{A}{C}\"",
    );
    let e = Mapping::from_str(&text, "m").unwrap_err();
    assert_eq!(e.code, "MAPPING_INVALID");
    assert!(e.message.contains("{C}"), "{e}");
}

#[test]
fn missing_mapping_file_is_an_error_not_a_panic() {
    let e = Mapping::from_file("/nonexistent/mapping.toml").unwrap_err();
    assert_eq!(e.code, "MAPPING_IO");
}
