//! Mapping files: how one agency's native export maps onto a canonical [`Table`].
//!
//! The format is documented for people adding an agency in `docs/MAPPINGS.md`. Parsing is
//! strict: unknown keys, unknown canonical fields, unknown transforms and relaxing a field the
//! standard requires are errors naming the file and line.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use sinergi_model::standard::{FieldSpec, FieldType, Table};
use toml::Spanned;

use crate::normalize::DateFormat;

/// A mapping file that could not be used: where and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}{}: {message} [{code}]", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct MappingError {
    /// The file (or other origin) the mapping came from.
    pub origin: String,
    /// 1-based line of the offending text, when known.
    pub line: Option<usize>,
    /// Stable code: `MAPPING_SYNTAX`, `MAPPING_INVALID`, `MAPPING_UNKNOWN_FIELD`,
    /// `MAPPING_UNKNOWN_TABLE`, `MAPPING_REQUIRED_FIELD_UNMAPPED` or `MAPPING_IO`.
    pub code: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// A mapping: one agency's native format and how its columns fill a canonical table.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Source name, e.g. `dukcapil-penduduk`.
    pub source: String,
    /// The agency that owns the data.
    pub agency: String,
    /// The dataset's name at the agency.
    pub dataset: String,
    /// What the source is.
    pub description: String,
    /// Owner, cadence and reference codes (Satu Data Indonesia metadata).
    pub metadata: Metadata,
    /// The canonical table rows go into.
    pub table: Table,
    /// File format.
    pub format: Format,
    /// Mapped fields, in the order of `table.fields()`.
    pub fields: Vec<FieldMapping>,
    /// Row filters (`[[where]]`): a row is loaded only when every one holds; the others are
    /// counted as filtered, neither loaded nor rejected.
    pub filters: Vec<RowFilter>,
    /// Where the mapping came from (file path or a label).
    pub origin: String,
}

/// Satu Data Indonesia metadata of a source.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The unit that owns and answers for the data.
    #[serde(default)]
    pub owner: String,
    /// How often the agency refreshes the export.
    #[serde(default)]
    pub update_cadence: String,
    /// Reference code lists the data uses (e.g. Kemendagri region codes).
    #[serde(default)]
    pub reference_codes: Vec<String>,
    /// Legal basis or agreement under which the data is shared.
    #[serde(default)]
    pub legal_basis: String,
    /// The date the data describes (`YYYY-MM-DD`), when this mapping is for one extract; most
    /// loads take it from the file name or `sinergi ingest --per` instead.
    #[serde(default)]
    pub reference_date: Option<String>,
    /// Anything else a reader should know.
    #[serde(default)]
    pub notes: String,
}

/// File format of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Delimited text.
    Csv(CsvFormat),
    /// An Excel workbook.
    Xlsx(XlsxFormat),
    /// One JSON object per line.
    Jsonl,
}

/// Delimited-text settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFormat {
    /// Field delimiter byte.
    pub delimiter: u8,
    /// Quote byte.
    pub quote: u8,
    /// Text encoding.
    pub encoding: Encoding,
    /// Where the header is.
    pub header_row: HeaderRow,
}

/// Text encoding of a CSV or JSON Lines file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 (a BOM is skipped); invalid bytes reject the row with `ENCODING_INVALID`.
    Utf8,
    /// Windows-1252 (Western European, what Excel on Indonesian Windows writes).
    Windows1252,
    /// A BOM decides; without one, UTF-8 when the first megabyte is valid UTF-8, otherwise
    /// Windows-1252. A field that is not UTF-8 later in a "UTF-8" file is then read as
    /// Windows-1252 with an `ENCODING_FALLBACK` warning.
    Auto,
}

/// Where the header row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderRow {
    /// This 1-based row (the rows above are titles, skipped).
    Row(u32),
    /// The first row (of the first 50) that contains every mapped column name.
    Auto,
}

/// Which worksheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetRef {
    /// By name.
    Name(String),
    /// By 0-based position.
    Index(usize),
}

/// Workbook settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XlsxFormat {
    /// The worksheet.
    pub sheet: SheetRef,
    /// Where the header starts.
    pub header_row: HeaderRow,
    /// How many rows the header spans (1 or 2); `None` = detect (auto header only).
    pub header_rows: Option<u8>,
}

/// One `[[where]]` condition on a column's value (trimmed, compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFilter {
    /// The column tested.
    pub column: String,
    /// The test.
    pub test: FilterTest,
    /// Line of the condition in the mapping file.
    pub line: usize,
}

/// What a `[[where]]` condition requires of the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterTest {
    /// `empty = true`: the value is empty; `empty = false`: it is not.
    Empty(bool),
    /// `in = [...]`: the value is one of these (upper-cased).
    In(Vec<String>),
    /// `not_in = [...]`: the value is none of these (upper-cased).
    NotIn(Vec<String>),
}

impl RowFilter {
    /// Whether a row whose column holds `value` passes.
    pub fn keeps(&self, value: &str) -> bool {
        let v = value.trim();
        match &self.test {
            FilterTest::Empty(want) => v.is_empty() == *want,
            FilterTest::In(list) => list.contains(&v.to_uppercase()),
            FilterTest::NotIn(list) => !list.contains(&v.to_uppercase()),
        }
    }
}

/// How one canonical field is filled.
#[derive(Debug, Clone)]
pub struct FieldMapping {
    /// Canonical field name.
    pub field: &'static str,
    /// Index in `table.fields()`.
    pub index: usize,
    /// The standard's specification of the field.
    pub spec: FieldSpec,
    /// Where the raw value comes from.
    pub source: FieldSource,
    /// String transforms, applied in order before the type conversion.
    pub transforms: Vec<Transform>,
    /// Whether a row without a usable value is rejected.
    pub required: bool,
    /// Value used when the source is empty.
    pub default: Option<String>,
    /// For date fields: the layout of text dates.
    pub date_format: DateFormat,
    /// For integer fields: inclusive bounds.
    pub min: Option<i64>,
    /// For integer fields: inclusive bounds.
    pub max: Option<i64>,
    /// When empty, use the row number in the file (rosters whose `No` column has gaps).
    pub fallback_row_number: bool,
    /// Line of the field's table in the mapping file.
    pub line: usize,
}

/// Where a field's raw value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSource {
    /// One column.
    Column(String),
    /// Several columns assembled by a template.
    Template {
        /// The columns, in the order the parts refer to them.
        columns: Vec<String>,
        /// Literal text and column references.
        parts: Vec<TemplatePart>,
    },
    /// The same value on every row.
    Constant(String),
    /// A Kemendagri region code looked up by the names of its levels
    /// (`sinergi_model::Wilayah::resolve_names`).
    RegionNames {
        /// The name columns, highest level first.
        columns: Vec<String>,
        /// The level of each column.
        levels: Vec<sinergi_model::Level>,
    },
}

impl FieldSource {
    /// The columns this source reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            FieldSource::Column(c) => vec![c.as_str()],
            FieldSource::Template { columns, .. } | FieldSource::RegionNames { columns, .. } => {
                columns.iter().map(String::as_str).collect()
            }
            FieldSource::Constant(_) => vec![],
        }
    }
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Literal(String),
    /// A column's trimmed value, left-padded with zeros to `width` when `width > 0`.
    Column {
        /// Index into the template's columns.
        column: usize,
        /// Zero-pad width (0 = as is).
        width: usize,
    },
}

/// What a code map does with a value it has no entry for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmapped {
    /// A `VALUE_NOT_IN_MAP` problem (a reject for a required field, a warning otherwise).
    Reject,
    /// Keep the value unchanged.
    Keep,
}

/// A string transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    /// Remove surrounding whitespace.
    Trim,
    /// Upper-case.
    Upper,
    /// Lower-case.
    Lower,
    /// Trim and turn every run of whitespace into one space.
    CollapseSpaces,
    /// NIK/KK clean-up: drop whitespace, `.`, `-` and a leading apostrophe (`'3201...`).
    Nik,
    /// Keep digits only.
    DigitsOnly,
    /// Replace every occurrence of `from` with `to`.
    Replace {
        /// Text to find.
        from: String,
        /// Replacement.
        to: String,
    },
    /// Code map: exact match of the whole value.
    Map {
        /// Entries.
        map: HashMap<String, String>,
        /// Unknown values.
        unmapped: Unmapped,
    },
    /// The characters from `start` (0-based), at most `len` of them (`None`: to the end).
    Substring {
        /// First character, 0-based.
        start: usize,
        /// How many characters.
        len: Option<usize>,
    },
    /// Ordered rules: the first rule whose needle occurs in the value gives the result.
    Contains {
        /// `(needle, result)` pairs.
        rules: Vec<(String, String)>,
        /// Values no rule matches.
        unmapped: Unmapped,
    },
}

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Mapping, MappingError> {
        Mapping::from_file_with_defaults(path, &[])
    }

    /// Parses and checks mapping text; `origin` names it in errors (usually the file path).
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str, origin: &str) -> Result<Mapping, MappingError> {
        Mapping::from_str_with_defaults(text, origin, &[])
    }

    /// [`Mapping::from_file`] with values the caller knows for every row (e.g. the period
    /// `sinergi validate --period` gives): see [`Mapping::from_str_with_defaults`].
    pub fn from_file_with_defaults(
        path: impl AsRef<Path>,
        defaults: &[(&str, &str)],
    ) -> Result<Mapping, MappingError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| MappingError {
            origin: origin.clone(),
            line: None,
            code: "MAPPING_IO",
            message: format!("cannot read the mapping file: {e}"),
        })?;
        Mapping::from_str_with_defaults(&text, &origin, defaults)
    }

    /// [`Mapping::from_str`] with `(field, value)` pairs the caller knows for every row: a
    /// field the mapping leaves out becomes that constant (so a required field need not be
    /// mapped), and a mapped field without a `default` takes the value as its default (its
    /// column is then not required, and empty cells get it).
    pub fn from_str_with_defaults(
        text: &str,
        origin: &str,
        defaults: &[(&str, &str)],
    ) -> Result<Mapping, MappingError> {
        let ctx = Ctx { text, origin };
        let raw: RawMapping = toml::from_str(text).map_err(|e| {
            ctx.err(
                e.span(),
                "MAPPING_SYNTAX",
                e.message().trim_end().to_owned(),
            )
        })?;
        build(&ctx, raw, defaults)
    }

    /// The column names this mapping reads, in field order, without duplicates.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let filters = self.filters.iter().map(|f| f.column.as_str());
        for c in self
            .fields
            .iter()
            .flat_map(|f| f.source.columns())
            .chain(filters)
        {
            if !out.iter().any(|o| column_key(o) == column_key(c)) {
                out.push(c);
            }
        }
        out
    }

    /// The columns that must be present in a file (those of required fields without a
    /// default, and those `[[where]]` tests).
    pub fn required_columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in self
            .fields
            .iter()
            .filter(|f| f.required && f.default.is_none() && !f.fallback_row_number)
        {
            for c in f.source.columns() {
                if !out.iter().any(|o| column_key(o) == column_key(c)) {
                    out.push(c);
                }
            }
        }
        for f in &self.filters {
            if !out.iter().any(|o| column_key(o) == column_key(&f.column)) {
                out.push(&f.column);
            }
        }
        out
    }
}

/// How column names are compared: case-insensitive, surrounding whitespace ignored, inner
/// whitespace runs (including newlines in wrapped header cells) collapsed to one space.
pub fn column_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.trim_start_matches('\u{feff}').split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w.to_lowercase());
    }
    out
}

struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn err(&self, span: Option<Range<usize>>, code: &'static str, message: String) -> MappingError {
        MappingError {
            origin: self.origin.to_owned(),
            line: span.map(|s| self.line_of(s.start)),
            code,
            message,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    source: String,
    agency: String,
    dataset: String,
    #[serde(default)]
    description: String,
    table: Spanned<String>,
    #[serde(default)]
    metadata: Metadata,
    format: Spanned<RawFormat>,
    fields: BTreeMap<String, Spanned<RawField>>,
    #[serde(default, rename = "where")]
    filters: Vec<Spanned<RawWhere>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhere {
    column: String,
    empty: Option<bool>,
    #[serde(rename = "in")]
    one_of: Option<Vec<String>>,
    not_in: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFormat {
    kind: Spanned<String>,
    delimiter: Option<Spanned<String>>,
    quote: Option<Spanned<String>>,
    encoding: Option<Spanned<String>>,
    header_row: Option<Spanned<toml::Value>>,
    header_rows: Option<Spanned<i64>>,
    sheet: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    column: Option<String>,
    columns: Option<Vec<String>>,
    template: Option<String>,
    constant: Option<String>,
    region_names: Option<RawRegionNames>,
    default: Option<String>,
    transforms: Option<Vec<Spanned<toml::Value>>>,
    required: Option<bool>,
    date_format: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
    fallback: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegionNames {
    province: Option<String>,
    regency: Option<String>,
    district: Option<String>,
    village: Option<String>,
}

fn build(
    ctx: &Ctx<'_>,
    raw: RawMapping,
    defaults: &[(&str, &str)],
) -> Result<Mapping, MappingError> {
    let table = Table::from_name(raw.table.get_ref()).ok_or_else(|| {
        let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
        ctx.err(
            Some(raw.table.span()),
            "MAPPING_UNKNOWN_TABLE",
            format!(
                "unknown table {:?}; the standard's tables are: {}",
                raw.table.get_ref(),
                names.join(", ")
            ),
        )
    })?;
    let format = build_format(ctx, raw.format)?;
    let mut fields = Vec::new();
    for (name, spanned) in &raw.fields {
        let span = spanned.span();
        let Some(index) = table.field_index(name) else {
            let names: Vec<&str> = table.fields().iter().map(|f| f.name).collect();
            return Err(ctx.err(
                Some(span),
                "MAPPING_UNKNOWN_FIELD",
                format!(
                    "table {} has no field {name:?}; its fields are: {}",
                    table.name(),
                    names.join(", ")
                ),
            ));
        };
        fields.push(build_field(ctx, table, index, span, spanned.get_ref())?);
    }
    for (name, value) in defaults {
        let Some(index) = table.field_index(name) else {
            continue;
        };
        match fields.iter_mut().find(|f| f.index == index) {
            Some(f) => {
                if f.default.is_none() {
                    f.default = Some((*value).to_owned());
                }
            }
            None => {
                let spec = table.fields()[index];
                fields.push(FieldMapping {
                    field: spec.name,
                    index,
                    spec,
                    source: FieldSource::Constant((*value).to_owned()),
                    transforms: vec![Transform::Trim],
                    required: spec.required,
                    default: None,
                    date_format: DateFormat::Auto,
                    min: None,
                    max: None,
                    fallback_row_number: false,
                    line: 0,
                });
            }
        }
    }
    fields.sort_by_key(|f| f.index);
    for spec in table.fields().iter().filter(|s| s.required) {
        if !fields.iter().any(|f| f.field == spec.name) {
            return Err(ctx.err(
                None,
                "MAPPING_REQUIRED_FIELD_UNMAPPED",
                format!(
                    "the standard requires {}.{} ({}), but the mapping has no [fields.{}]",
                    table.name(),
                    spec.name,
                    spec.description,
                    spec.name
                ),
            ));
        }
    }
    let mut filters = Vec::new();
    for w in &raw.filters {
        let span = w.span();
        let r = w.get_ref();
        let upper = |l: &Vec<String>| l.iter().map(|x| x.trim().to_uppercase()).collect();
        let test = match (&r.empty, &r.one_of, &r.not_in) {
            (Some(e), None, None) => FilterTest::Empty(*e),
            (None, Some(l), None) if !l.is_empty() => FilterTest::In(upper(l)),
            (None, None, Some(l)) if !l.is_empty() => FilterTest::NotIn(upper(l)),
            _ => {
                return Err(ctx.err(
                    Some(span),
                    "MAPPING_INVALID",
                    format!(
                        "[[where]] on column {:?}: give exactly one of empty = true|false, in = [\"…\", …], not_in = [\"…\", …]",
                        r.column
                    ),
                ));
            }
        };
        filters.push(RowFilter {
            column: r.column.clone(),
            test,
            line: ctx.line_of(span.start),
        });
    }
    Ok(Mapping {
        filters,
        source: raw.source,
        agency: raw.agency,
        dataset: raw.dataset,
        description: raw.description,
        metadata: raw.metadata,
        table,
        format,
        fields,
        origin: ctx.origin.to_owned(),
    })
}

fn one_byte(ctx: &Ctx<'_>, v: &Spanned<String>, what: &str) -> Result<u8, MappingError> {
    let s = v.get_ref().as_str();
    let s = match s {
        "tab" | "\\t" => "\t",
        other => other,
    };
    if s.len() == 1 && s.is_ascii() {
        Ok(s.as_bytes()[0])
    } else {
        Err(ctx.err(
            Some(v.span()),
            "MAPPING_INVALID",
            format!("{what} must be one ASCII character (or \"tab\"), found {s:?}"),
        ))
    }
}

fn header_row(ctx: &Ctx<'_>, v: &Option<Spanned<toml::Value>>) -> Result<HeaderRow, MappingError> {
    let Some(v) = v else {
        return Ok(HeaderRow::Row(1));
    };
    match v.get_ref() {
        toml::Value::Integer(n) if *n >= 1 && *n <= 1_000_000 => Ok(HeaderRow::Row(*n as u32)),
        toml::Value::String(s) if s == "auto" => Ok(HeaderRow::Auto),
        other => Err(ctx.err(
            Some(v.span()),
            "MAPPING_INVALID",
            format!("header_row must be a row number (1 = first row) or \"auto\", found {other}"),
        )),
    }
}

fn build_format(ctx: &Ctx<'_>, raw: Spanned<RawFormat>) -> Result<Format, MappingError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let kind = raw.kind.get_ref().as_str();
    let not_for = |key: &str, what: &Option<Spanned<String>>| -> Result<(), MappingError> {
        match what {
            Some(v) => Err(ctx.err(
                Some(v.span()),
                "MAPPING_INVALID",
                format!("{key} does not apply to kind = {kind:?}"),
            )),
            None => Ok(()),
        }
    };
    match kind {
        "csv" => {
            if let Some(s) = &raw.sheet {
                return Err(ctx.err(
                    Some(s.span()),
                    "MAPPING_INVALID",
                    "sheet applies to kind = \"xlsx\" only".into(),
                ));
            }
            let delimiter = match &raw.delimiter {
                Some(d) => one_byte(ctx, d, "delimiter")?,
                None => b',',
            };
            let quote = match &raw.quote {
                Some(q) => one_byte(ctx, q, "quote")?,
                None => b'"',
            };
            let encoding = parse_encoding(ctx, &raw.encoding)?;
            Ok(Format::Csv(CsvFormat {
                delimiter,
                quote,
                encoding,
                header_row: header_row(ctx, &raw.header_row)?,
            }))
        }
        "jsonl" => {
            not_for("delimiter", &raw.delimiter)?;
            not_for("quote", &raw.quote)?;
            if raw.header_row.is_some() || raw.sheet.is_some() {
                return Err(ctx.err(
                    Some(span),
                    "MAPPING_INVALID",
                    "JSON Lines has no header row or sheet; remove header_row/sheet".into(),
                ));
            }
            // JSON is UTF-8 by definition; accept an explicit "utf-8" for documentation.
            if let Some(e) = &raw.encoding {
                if parse_encoding(ctx, &raw.encoding)? != Encoding::Utf8 {
                    return Err(ctx.err(
                        Some(e.span()),
                        "MAPPING_INVALID",
                        "JSON Lines files are UTF-8".into(),
                    ));
                }
            }
            Ok(Format::Jsonl)
        }
        "xlsx" => {
            not_for("delimiter", &raw.delimiter)?;
            not_for("quote", &raw.quote)?;
            not_for("encoding", &raw.encoding)?;
            let sheet = match &raw.sheet {
                None => SheetRef::Index(0),
                Some(v) => match v.get_ref() {
                    toml::Value::String(s) => SheetRef::Name(s.clone()),
                    toml::Value::Integer(i) if *i >= 0 => SheetRef::Index(*i as usize),
                    other => {
                        return Err(ctx.err(
                            Some(v.span()),
                            "MAPPING_INVALID",
                            format!("sheet must be a name or a 0-based index, found {other}"),
                        ));
                    }
                },
            };
            let header_rows = match &raw.header_rows {
                None => None,
                Some(n) if matches!(*n.get_ref(), 1 | 2) => Some(*n.get_ref() as u8),
                Some(n) => {
                    return Err(ctx.err(
                        Some(n.span()),
                        "MAPPING_INVALID",
                        "header_rows must be 1 or 2".into(),
                    ));
                }
            };
            let header_row = if raw.header_row.is_none() {
                HeaderRow::Auto
            } else {
                header_row(ctx, &raw.header_row)?
            };
            Ok(Format::Xlsx(XlsxFormat {
                sheet,
                header_row,
                header_rows,
            }))
        }
        other => Err(ctx.err(
            Some(raw.kind.span()),
            "MAPPING_INVALID",
            format!("format kind must be \"csv\", \"xlsx\" or \"jsonl\", found {other:?}"),
        )),
    }
}

fn parse_encoding(ctx: &Ctx<'_>, v: &Option<Spanned<String>>) -> Result<Encoding, MappingError> {
    let Some(v) = v else {
        return Ok(Encoding::Auto);
    };
    match v.get_ref().to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Ok(Encoding::Utf8),
        "windows-1252" | "cp1252" | "latin1" | "iso-8859-1" => Ok(Encoding::Windows1252),
        "auto" => Ok(Encoding::Auto),
        other => Err(ctx.err(
            Some(v.span()),
            "MAPPING_INVALID",
            format!("encoding must be \"utf-8\", \"windows-1252\" or \"auto\", found {other:?}"),
        )),
    }
}

fn parse_template(
    ctx: &Ctx<'_>,
    span: Range<usize>,
    field: &str,
    template: &str,
    columns: &[String],
) -> Result<Vec<TemplatePart>, MappingError> {
    let bad = |m: String| {
        ctx.err(
            Some(span.clone()),
            "MAPPING_INVALID",
            format!("[fields.{field}] template: {m}"),
        )
    };
    let mut parts = Vec::new();
    let mut used = vec![false; columns.len()];
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(TemplatePart::Literal(rest[..open].to_owned()));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| bad(format!("unclosed '{{' in {template:?}")))?;
        let inner = &after[..close];
        let (name, width) = match inner.rsplit_once(':') {
            Some((n, w)) => (
                n,
                w.parse::<usize>()
                    .map_err(|_| bad(format!("width {w:?} in {{{inner}}} is not a number")))?,
            ),
            None => (inner, 0),
        };
        let column = columns
            .iter()
            .position(|c| column_key(c) == column_key(name))
            .ok_or_else(|| bad(format!("{{{name}}} is not one of columns = {columns:?}")))?;
        used[column] = true;
        parts.push(TemplatePart::Column { column, width });
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Literal(rest.to_owned()));
    }
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(bad(format!(
            "column {:?} is listed but not used",
            columns[i]
        )));
    }
    Ok(parts)
}

fn build_field(
    ctx: &Ctx<'_>,
    table: Table,
    index: usize,
    span: Range<usize>,
    raw: &RawField,
) -> Result<FieldMapping, MappingError> {
    let spec = table.fields()[index];
    let name = spec.name;
    let bad = |m: String| {
        ctx.err(
            Some(span.clone()),
            "MAPPING_INVALID",
            format!("[fields.{name}]: {m}"),
        )
    };
    let source = match (
        &raw.column,
        &raw.columns,
        &raw.template,
        &raw.constant,
        &raw.region_names,
    ) {
        (Some(c), None, None, None, None) => FieldSource::Column(c.clone()),
        (None, Some(cols), Some(t), None, None) if !cols.is_empty() => FieldSource::Template {
            parts: parse_template(ctx, span.clone(), name, t, cols)?,
            columns: cols.clone(),
        },
        (None, None, None, Some(v), None) => FieldSource::Constant(v.clone()),
        (None, None, None, None, Some(r)) => {
            if spec.ty != FieldType::Region {
                return Err(bad(
                    "region_names applies to region fields only (a Kemendagri code)".into(),
                ));
            }
            use sinergi_model::Level;
            let mut columns = Vec::new();
            let mut levels = Vec::new();
            for (level, col) in [
                (Level::Province, &r.province),
                (Level::Regency, &r.regency),
                (Level::District, &r.district),
                (Level::Village, &r.village),
            ] {
                if let Some(c) = col {
                    columns.push(c.clone());
                    levels.push(level);
                }
            }
            if columns.is_empty() {
                return Err(bad(
                    "region_names needs at least one of province, regency, district, village = \"COLUMN\"".into(),
                ));
            }
            FieldSource::RegionNames { columns, levels }
        }
        _ => {
            return Err(bad(
                "give exactly one of: column = \"…\"; columns = [\"…\", …] with template = \"…\"; constant = \"…\"; region_names = { province = \"…\", regency = \"…\", district = \"…\", village = \"…\" }".into(),
            ));
        }
    };
    let transforms = match &raw.transforms {
        None => vec![Transform::Trim],
        Some(list) => list
            .iter()
            .map(|t| build_transform(ctx, name, t))
            .collect::<Result<_, _>>()?,
    };
    let required = match raw.required {
        Some(false) if spec.required => {
            return Err(bad(format!(
                "the standard requires {}.{name}; a mapping can make a field stricter (required = true) but not optional",
                table.name()
            )));
        }
        Some(r) => r,
        None => spec.required,
    };
    let date_format = match &raw.date_format {
        None => DateFormat::Auto,
        Some(_) if spec.ty != FieldType::Date => {
            return Err(bad("date_format applies to date fields only".into()));
        }
        Some(f) => DateFormat::from_name(f).ok_or_else(|| {
            bad(format!(
                "date_format {f:?} is not one of {}",
                DateFormat::ALL.map(|f| f.name()).join(", ")
            ))
        })?,
    };
    if (raw.min.is_some() || raw.max.is_some()) && spec.ty != FieldType::Integer {
        return Err(bad("min/max apply to integer fields only".into()));
    }
    let fallback_row_number = match raw.fallback.as_deref() {
        None => false,
        Some("row_number") => true,
        Some(other) => {
            return Err(bad(format!(
                "fallback must be \"row_number\", found {other:?}"
            )));
        }
    };
    Ok(FieldMapping {
        field: name,
        index,
        spec,
        source,
        transforms,
        required,
        default: raw.default.clone(),
        date_format,
        min: raw.min,
        max: raw.max,
        fallback_row_number,
        line: ctx.line_of(span.start),
    })
}

const TRANSFORM_NAMES: &str = "trim, upper, lower, collapse_spaces, nik, digits_only, { map = {…} }, { contains = [[…, …], …] }, { replace = [from, to] }, { substring = [start, length] }";

fn build_transform(
    ctx: &Ctx<'_>,
    field: &str,
    t: &Spanned<toml::Value>,
) -> Result<Transform, MappingError> {
    let bad = |m: String| {
        ctx.err(
            Some(t.span()),
            "MAPPING_INVALID",
            format!("[fields.{field}] transform: {m}; known transforms: {TRANSFORM_NAMES}"),
        )
    };
    let unmapped = |tbl: &toml::Table| -> Result<Unmapped, MappingError> {
        match tbl.get("unmapped") {
            None => Ok(Unmapped::Reject),
            Some(toml::Value::String(s)) if s == "reject" => Ok(Unmapped::Reject),
            Some(toml::Value::String(s)) if s == "keep" => Ok(Unmapped::Keep),
            Some(other) => Err(bad(format!(
                "unmapped must be \"reject\" or \"keep\", found {other}"
            ))),
        }
    };
    match t.get_ref() {
        toml::Value::String(s) => Ok(match s.as_str() {
            "trim" => Transform::Trim,
            "upper" => Transform::Upper,
            "lower" => Transform::Lower,
            "collapse_spaces" => Transform::CollapseSpaces,
            "nik" => Transform::Nik,
            "digits_only" => Transform::DigitsOnly,
            other => return Err(bad(format!("unknown transform {other:?}"))),
        }),
        toml::Value::Table(tbl) => {
            if let Some(m) = tbl.get("map") {
                if let Some(k) = tbl.keys().find(|k| *k != "map" && *k != "unmapped") {
                    return Err(bad(format!("unexpected key {k:?} beside map")));
                }
                let toml::Value::Table(m) = m else {
                    return Err(bad("map must be a table of \"from\" = \"to\"".into()));
                };
                let mut map = HashMap::new();
                for (k, v) in m {
                    let v = match v {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(i) => i.to_string(),
                        toml::Value::Boolean(b) => b.to_string(),
                        other => {
                            return Err(bad(format!(
                                "map value for {k:?} must be text, found {other}"
                            )));
                        }
                    };
                    map.insert(k.clone(), v);
                }
                Ok(Transform::Map {
                    map,
                    unmapped: unmapped(tbl)?,
                })
            } else if let Some(c) = tbl.get("contains") {
                if let Some(k) = tbl.keys().find(|k| *k != "contains" && *k != "unmapped") {
                    return Err(bad(format!("unexpected key {k:?} beside contains")));
                }
                let rules = c
                    .as_array()
                    .and_then(|a| {
                        a.iter()
                            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                                Some([toml::Value::String(n), toml::Value::String(v)]) => {
                                    Some((n.clone(), v.clone()))
                                }
                                _ => None,
                            })
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or_else(|| {
                        bad("contains must be a list of [\"needle\", \"result\"] pairs".into())
                    })?;
                Ok(Transform::Contains {
                    rules,
                    unmapped: unmapped(tbl)?,
                })
            } else if let Some(r) = tbl.get("substring") {
                if tbl.len() != 1 {
                    return Err(bad(
                        "substring stands alone: { substring = [start, length] }".into(),
                    ));
                }
                match r.as_array().map(Vec::as_slice) {
                    Some([toml::Value::Integer(a)]) if *a >= 0 => Ok(Transform::Substring {
                        start: *a as usize,
                        len: None,
                    }),
                    Some([toml::Value::Integer(a), toml::Value::Integer(b)])
                        if *a >= 0 && *b >= 1 =>
                    {
                        Ok(Transform::Substring {
                            start: *a as usize,
                            len: Some(*b as usize),
                        })
                    }
                    _ => Err(bad(
                        "substring must be [start] or [start, length]: start 0-based, length at least 1".into(),
                    )),
                }
            } else if let Some(r) = tbl.get("replace") {
                match r.as_array().map(Vec::as_slice) {
                    Some([toml::Value::String(a), toml::Value::String(b)]) if !a.is_empty() => {
                        Ok(Transform::Replace {
                            from: a.clone(),
                            to: b.clone(),
                        })
                    }
                    _ => Err(bad("replace must be [\"from\", \"to\"]".into())),
                }
            } else {
                Err(bad(format!(
                    "unknown transform table with keys {:?}",
                    tbl.keys().collect::<Vec<_>>()
                )))
            }
        }
        other => Err(bad(format!(
            "a transform is a name or a table, found {other}"
        ))),
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1252 => "windows-1252",
            Encoding::Auto => "auto",
        })
    }
}
