//! Sinergi's data standard (after Satu Data Indonesia): the canonical tables every agency's
//! native export is mapped into, with their fields, types and meaning.
//!
//! The standard is *data*: each [`Table`] has a static list of [`FieldSpec`]s. Ingestion maps a
//! source's columns onto these field names (mapping files, not code), storage creates one
//! SQL table per [`Table`] from the same list, and a [`Record`] is a row of [`Value`]s in the
//! order of [`Table::fields`]. Provenance (source agency, dataset, snapshot id, load time) is
//! kept beside every row by storage; it is not part of the field list.

use serde::{Deserialize, Serialize};

/// The type of a canonical field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text (UTF-8).
    Text,
    /// A validated 16-digit NIK, stored as its 16 digits.
    Nik,
    /// A 16-digit KK number, stored as its 16 digits.
    Kk,
    /// A Kemendagri region code, stored as digits without dots.
    Region,
    /// A calendar date, stored as `YYYY-MM-DD`.
    Date,
    /// A whole number (money in rupiah, deciles, counts).
    Integer,
    /// True or false.
    Bool,
}

/// One field of a canonical table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    /// Column name, lower snake case, stable.
    pub name: &'static str,
    /// Value type.
    pub ty: FieldType,
    /// Whether a row without it is rejected.
    pub required: bool,
    /// What the field means, in English.
    pub description: &'static str,
}

const fn f(
    name: &'static str,
    ty: FieldType,
    required: bool,
    description: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required,
        description,
    }
}

use FieldType::*;

/// The canonical tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// One row per person in the population registry (Dukcapil), with the KK they are on.
    Person,
    /// Recorded deaths (Dukcapil).
    Death,
    /// Welfare decile per person and family (DTSEN, BPS).
    Decile,
    /// Health-insurance memberships (BPJS Kesehatan).
    HealthMembership,
    /// Civil servants, military and police (BKN, TNI/Polri).
    Employment,
    /// Formal monthly wages (BPJS Ketenagakerjaan).
    Wage,
    /// Rows of a programme's recipient list (roster) as sent by Dinas Sosial.
    RosterEntry,
}

impl Table {
    /// Every table, in a stable order.
    pub const ALL: [Table; 7] = [
        Table::Person,
        Table::Death,
        Table::Decile,
        Table::HealthMembership,
        Table::Employment,
        Table::Wage,
        Table::RosterEntry,
    ];

    /// Stable snake-case name, used for SQL table names and in mapping files.
    pub const fn name(self) -> &'static str {
        match self {
            Table::Person => "person",
            Table::Death => "death",
            Table::Decile => "decile",
            Table::HealthMembership => "health_membership",
            Table::Employment => "employment",
            Table::Wage => "wage",
            Table::RosterEntry => "roster_entry",
        }
    }

    /// Parses [`Table::name`].
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// What the table holds, in English.
    pub const fn description(self) -> &'static str {
        match self {
            Table::Person => {
                "Population registry: one row per person and the family card (KK) they are on"
            }
            Table::Death => "Deaths recorded by the civil registry",
            Table::Decile => "DTSEN welfare decile (1 poorest to 10 richest) per person and family",
            Table::HealthMembership => "BPJS Kesehatan health-insurance memberships",
            Table::Employment => {
                "Civil servants (ASN: PNS, PPPK), military (TNI) and police (Polri)"
            }
            Table::Wage => "Formal-sector monthly wages reported to BPJS Ketenagakerjaan",
            Table::RosterEntry => "Aid recipient lists (rosters) of social-assistance programmes",
        }
    }

    /// The fields that identify a row within one dataset (used for duplicate detection and
    /// `--delta` upserts).
    pub const fn key(self) -> &'static [&'static str] {
        match self {
            Table::Person => &["nik"],
            Table::Death => &["nik"],
            Table::Decile => &["nik"],
            Table::HealthMembership => &["card_no"],
            Table::Employment => &["employee_id"],
            Table::Wage => &["nik", "employer_id"],
            Table::RosterEntry => &["program", "period", "row_no"],
        }
    }

    /// The fields of the table, in record order.
    pub const fn fields(self) -> &'static [FieldSpec] {
        match self {
            Table::Person => PERSON_FIELDS,
            Table::Death => DEATH_FIELDS,
            Table::Decile => DECILE_FIELDS,
            Table::HealthMembership => HEALTH_MEMBERSHIP_FIELDS,
            Table::Employment => EMPLOYMENT_FIELDS,
            Table::Wage => WAGE_FIELDS,
            Table::RosterEntry => ROSTER_ENTRY_FIELDS,
        }
    }

    /// Index of a field by name.
    pub fn field_index(self, name: &str) -> Option<usize> {
        self.fields().iter().position(|f| f.name == name)
    }
}

const PERSON_FIELDS: &[FieldSpec] = &[
    f("nik", Nik, true, "Population number (NIK)"),
    f("kk", Kk, true, "Family card number (KK) the person is on"),
    f("name", Text, true, "Full name as registered"),
    f("sex", Text, true, "L (male) or P (female)"),
    f("birth_place", Text, false, "Place of birth"),
    f("birth_date", Date, true, "Date of birth"),
    f(
        "family_relationship",
        Text,
        false,
        "Relationship to the head of family (STAT_HBKEL), e.g. KEPALA KELUARGA, ISTRI, ANAK",
    ),
    f("religion", Text, false, "Religion"),
    f("marital_status", Text, false, "Marital status"),
    f(
        "occupation",
        Text,
        false,
        "Occupation as written by Dukcapil (JENIS_PKRJN)",
    ),
    f(
        "region",
        Region,
        true,
        "Village (desa/kelurahan) of domicile, Kemendagri code",
    ),
    f("address", Text, false, "Street address"),
    f("rt", Text, false, "RT (neighbourhood unit)"),
    f("rw", Text, false, "RW (community unit)"),
];

const DEATH_FIELDS: &[FieldSpec] = &[
    f("nik", Nik, true, "NIK of the deceased"),
    f(
        "certificate_no",
        Text,
        false,
        "Death certificate number (akta kematian)",
    ),
    f("death_date", Date, true, "Date of death"),
];

const DECILE_FIELDS: &[FieldSpec] = &[
    f(
        "family_id",
        Text,
        true,
        "DTSEN family identifier (ID_KELUARGA)",
    ),
    f("kk", Kk, false, "Family card number"),
    f("nik", Nik, true, "NIK of the family member"),
    f("name", Text, false, "Name as recorded by DTSEN"),
    f(
        "birth_date",
        Date,
        false,
        "Date of birth as recorded by DTSEN",
    ),
    f("region", Region, false, "Village code as recorded by DTSEN"),
    f("decile", Integer, true, "Welfare decile, 1 (poorest) to 10"),
];

const HEALTH_MEMBERSHIP_FIELDS: &[FieldSpec] = &[
    f(
        "card_no",
        Text,
        true,
        "BPJS Kesehatan card number (noKartu)",
    ),
    f("nik", Nik, true, "NIK of the member"),
    f("name", Text, false, "Name as recorded by BPJS Kesehatan"),
    f(
        "birth_date",
        Date,
        false,
        "Date of birth as recorded by BPJS Kesehatan",
    ),
    f(
        "segment",
        Text,
        true,
        "Membership segment: PBI_APBN, PBI_APBD, PPU, PBPU or BP",
    ),
    f("class", Integer, false, "Care class 1-3"),
    f("active", Bool, true, "Membership is active"),
    f(
        "catastrophic",
        Bool,
        false,
        "Under treatment for a catastrophic illness",
    ),
];

const EMPLOYMENT_FIELDS: &[FieldSpec] = &[
    f(
        "employee_id",
        Text,
        true,
        "NIP (18 digits) for ASN, NRP for TNI/Polri",
    ),
    f("nik", Nik, true, "NIK of the employee"),
    f("name", Text, false, "Name as recorded by the employer"),
    f(
        "employer",
        Text,
        false,
        "Agency (INSTANSI) or unit (SATUAN)",
    ),
    f("kind", Text, true, "PNS, PPPK, TNI or POLRI"),
];

const WAGE_FIELDS: &[FieldSpec] = &[
    f("nik", Nik, true, "NIK of the worker"),
    f(
        "name",
        Text,
        false,
        "Name as recorded by BPJS Ketenagakerjaan",
    ),
    f(
        "monthly_wage",
        Integer,
        true,
        "Reported monthly wage in rupiah",
    ),
    f(
        "employer_id",
        Text,
        true,
        "Employer registration number (NPP)",
    ),
];

const ROSTER_ENTRY_FIELDS: &[FieldSpec] = &[
    f(
        "program",
        Text,
        true,
        "Programme code: PKH, BPNT, PBI_JK, BLT_DD",
    ),
    f(
        "period",
        Text,
        true,
        "Period the list is for, e.g. 2026-Q4 or 2026-11",
    ),
    f(
        "row_no",
        Text,
        true,
        "The row's number or id in the list (No): 12, or a text id such as R00000012",
    ),
    f("nik_raw", Text, false, "NIK exactly as written in the list"),
    f(
        "nik",
        Nik,
        false,
        "NIK when it parses; empty when missing or invalid",
    ),
    f(
        "kk",
        Text,
        false,
        "Family card number as stated in the list (No KK), digits as written: kept even when it is not a valid KK, so a mistyped KK still shows as KK_MISMATCH",
    ),
    f("name", Text, true, "Recipient name as written (Nama KPM)"),
    f("birth_date", Date, false, "Date of birth when it parses"),
    f("address", Text, false, "Address as written"),
    f("region", Region, false, "Village code (Kode Desa)"),
    f(
        "amount",
        Integer,
        false,
        "Benefit amount (Nominal) in rupiah",
    ),
    f("sex", Text, false, "L (male) or P (female), as listed"),
    f("birth_place", Text, false, "Place of birth as listed"),
];

/// A typed value of a canonical field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// Missing.
    Null,
    /// Text, and NIK/KK/region/date in their canonical text form.
    Text(String),
    /// Whole number.
    Integer(i64),
    /// Boolean.
    Bool(bool),
}

impl Value {
    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the value is missing.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// One canonical row: values in the order of `table.fields()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The table this row belongs to.
    pub table: Table,
    /// Values aligned with [`Table::fields`].
    pub values: Vec<Value>,
}

impl Record {
    /// The value of a field by name.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.table.field_index(field).map(|i| &self.values[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_key_names_its_own_fields() {
        for t in Table::ALL {
            for k in t.key() {
                assert!(t.field_index(k).is_some(), "{}: key {k}", t.name());
            }
            assert_eq!(Table::from_name(t.name()), Some(t));
        }
    }
}
