//! Programme rules files: parsing, validation with located errors, and overrides.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::catalogue::{Decision, ReasonCode};
use crate::celview;

/// Who a programme pays: a family (KPM) or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// One benefit per family (KK). CIVIL_SERVANT and WAGE_ABOVE_MINIMUM also look at the
    /// head of the KK.
    Family,
    /// One benefit per person.
    Person,
}

impl Unit {
    /// `family` or `person`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Family => "family",
            Unit::Person => "person",
        }
    }
}

/// The region a list is for, relative to a row's Kode Desa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionScope {
    /// The regency (kabupaten/kota) of the row's Kode Desa.
    Regency,
    /// The village (desa/kelurahan) itself (BLT Dana Desa).
    Village,
}

impl RegionScope {
    /// `regency` or `village`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RegionScope::Regency => "regency",
            RegionScope::Village => "village",
        }
    }
}

/// The period a benefit amount is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Per month.
    Month,
    /// Per quarter (3 months).
    Quarter,
    /// Per year.
    Year,
    /// Once.
    Once,
}

impl Period {
    /// `month`, `quarter`, `year`, `once`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
            Period::Once => "once",
        }
    }

    fn parse(s: &str) -> Option<Period> {
        match s {
            "month" => Some(Period::Month),
            "quarter" => Some(Period::Quarter),
            "year" => Some(Period::Year),
            "once" => Some(Period::Once),
            _ => None,
        }
    }
}

/// What one eligible unit receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefit {
    /// Rupiah per period per unit.
    pub amount: u64,
    /// The period.
    pub period: Period,
    /// Free text, e.g. that the figure is a demo figure.
    pub note: Option<String>,
}

/// A message in both languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Text {
    /// Bahasa Indonesia.
    pub id: String,
    /// English.
    pub en: String,
}

impl Text {
    /// The message in `lang`.
    pub fn get(&self, lang: sinergi_model::Lang) -> &str {
        lang.pick(&self.id, &self.en)
    }
}

/// Which fact's source a custom rule's reason cites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactSource {
    /// The list itself.
    List,
    /// Population registry (Dukcapil).
    Population,
    /// Death records (Dukcapil).
    Death,
    /// BKN / TNI-Polri.
    CivilServant,
    /// BPJS Ketenagakerjaan wages.
    Wage,
    /// BPJS Kesehatan.
    Bpjs,
    /// DTSEN.
    Dtsen,
    /// Other programmes' rosters.
    Rosters,
}

impl FactSource {
    const ALL: [(&'static str, FactSource); 8] = [
        ("list", FactSource::List),
        ("population", FactSource::Population),
        ("death", FactSource::Death),
        ("civil_servant", FactSource::CivilServant),
        ("wage", FactSource::Wage),
        ("bpjs", FactSource::Bpjs),
        ("dtsen", FactSource::Dtsen),
        ("rosters", FactSource::Rosters),
    ];
}

/// A custom condition written in CEL.
#[derive(Clone)]
pub struct CustomRule {
    /// Reason code raised when the condition is true.
    pub code: String,
    /// Its severity.
    pub severity: Decision,
    /// The CEL source.
    pub when: String,
    /// Message for the citizen.
    pub message: Text,
    /// What the citizen can do.
    pub next_step: Text,
    /// Whose data the reason cites; `None`: the programme rules themselves.
    pub source: Option<FactSource>,
    pub(crate) compiled: Arc<cel::Program>,
}

impl fmt::Debug for CustomRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomRule")
            .field("code", &self.code)
            .field("severity", &self.severity)
            .field("when", &self.when)
            .finish_non_exhaustive()
    }
}

/// A programme's rules, parsed and validated. Cheap to share (`Clone`, `Send`, `Sync`).
#[derive(Debug, Clone)]
pub struct Program {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) version: String,
    pub(crate) unit: Unit,
    pub(crate) decile_cut: u8,
    pub(crate) benefit: Benefit,
    pub(crate) region_scope: RegionScope,
    pub(crate) not_combinable_with: Vec<String>,
    /// Severity of each enabled check, indexed by [`ReasonCode`] position.
    pub(crate) checks: [Option<Decision>; ReasonCode::ALL.len()],
    /// Checks declared `mandatory = true`: validation refuses to run without their data.
    pub(crate) mandatory: Vec<ReasonCode>,
    pub(crate) exceptions: Vec<ReasonCode>,
    pub(crate) custom: Vec<CustomRule>,
    pub(crate) origin: String,
    /// The CEL environment and the `program` variable, built once; `None` without custom
    /// conditions (then CEL is never touched).
    pub(crate) cel: Option<celview::ProgramCel>,
}

/// Stable codes of rules-file errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RulesErrorKind {
    /// Not valid TOML.
    Syntax,
    /// A key the format does not have (often a misspelling).
    UnknownField,
    /// A required key is missing.
    MissingField,
    /// A value of the wrong type or out of range.
    BadValue,
    /// A reason or exception code not in the catalogue.
    UnknownReason,
    /// A severity other than `TINJAU` or `TIDAK_LAYAK`.
    BadSeverity,
    /// A CEL expression that does not parse.
    CelSyntax,
    /// Two custom conditions with one code, or a custom code equal to a catalogue code.
    DuplicateCode,
    /// An override key that does not exist.
    OverrideUnknownKey,
}

impl RulesErrorKind {
    /// The stable code, e.g. `RULES_SYNTAX`.
    pub const fn code(self) -> &'static str {
        match self {
            RulesErrorKind::Syntax => "RULES_SYNTAX",
            RulesErrorKind::UnknownField => "RULES_UNKNOWN_FIELD",
            RulesErrorKind::MissingField => "RULES_MISSING_FIELD",
            RulesErrorKind::BadValue => "RULES_BAD_VALUE",
            RulesErrorKind::UnknownReason => "RULES_UNKNOWN_REASON",
            RulesErrorKind::BadSeverity => "RULES_BAD_SEVERITY",
            RulesErrorKind::CelSyntax => "RULES_CEL_SYNTAX",
            RulesErrorKind::DuplicateCode => "RULES_DUPLICATE_CODE",
            RulesErrorKind::OverrideUnknownKey => "RULES_OVERRIDE_UNKNOWN_KEY",
        }
    }
}

/// One problem in a rules file, located by origin (file name), line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{origin}:{line}:{column}: {}: {message}", kind.code())]
pub struct RulesError {
    /// What kind of problem.
    pub kind: RulesErrorKind,
    /// The origin name given to [`Program::parse`] (usually the file name).
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl RulesError {
    /// The stable code, e.g. `RULES_UNKNOWN_REASON`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// Every problem found in one rules file (at least one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct RulesErrors(pub Vec<RulesError>);

impl fmt::Display for RulesErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

// ---- raw file shape -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    code: Spanned<String>,
    name: String,
    #[serde(default)]
    description: Option<String>,
    version: Spanned<String>,
    unit: Spanned<String>,
    decile_cut: Spanned<i64>,
    region_scope: Spanned<String>,
    benefit: RawBenefit,
    #[serde(default)]
    not_combinable_with: Vec<Spanned<String>>,
    #[serde(default)]
    exceptions: Vec<Spanned<String>>,
    #[serde(default)]
    reasons: BTreeMap<Spanned<String>, RawReason>,
    #[serde(default)]
    custom: Vec<RawCustom>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBenefit {
    amount: Spanned<i64>,
    period: Spanned<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReason {
    #[serde(default)]
    severity: Option<Spanned<String>>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    mandatory: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustom {
    code: Spanned<String>,
    severity: Spanned<String>,
    when: Spanned<String>,
    message_id: String,
    message_en: String,
    next_step_id: String,
    next_step_en: String,
    #[serde(default)]
    source: Option<Spanned<String>>,
}

// ---- locating -------------------------------------------------------------------------------

/// 1-based (line, column) of a byte offset; columns count characters.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

struct Ctx<'a> {
    origin: &'a str,
    text: &'a str,
    errors: Vec<RulesError>,
}

impl Ctx<'_> {
    fn at(&mut self, kind: RulesErrorKind, offset: usize, message: String) {
        let (line, column) = line_col(self.text, offset);
        self.errors.push(RulesError {
            kind,
            origin: self.origin.to_owned(),
            line,
            column,
            message,
        });
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn known_checks() -> String {
    ReasonCode::CHECKS.map(|c| c.as_str()).join(", ")
}

/// The byte offset in the file of position (line, col) (1-based) of a CEL expression held in
/// the TOML string at `span`. Falls back to the start of the string when the expression
/// cannot be found verbatim (escape sequences).
fn cel_offset(
    text: &str,
    span: std::ops::Range<usize>,
    expr: &str,
    line: isize,
    col: isize,
) -> usize {
    let raw = text.get(span.clone()).unwrap_or("");
    let Some(start) = raw.find(expr).filter(|_| !expr.is_empty()) else {
        return span.start;
    };
    let mut off = 0usize;
    for (i, l) in expr.split_inclusive('\n').enumerate() {
        if i + 1 == line.max(1) as usize {
            let col = (col.max(1) - 1) as usize;
            off += l.char_indices().nth(col).map_or(l.len(), |(b, _)| b);
            return span.start + start + off;
        }
        off += l.len();
    }
    span.start + start
}

impl Program {
    /// Parses and validates a rules file. `origin` names the text in error messages (the
    /// file name, or `override` for an override).
    pub fn parse(origin: &str, text: &str) -> Result<Program, RulesErrors> {
        let mut ctx = Ctx {
            origin,
            text,
            errors: Vec::new(),
        };
        // Syntax first, so a syntax error is never reported as a schema error.
        if let Err(e) = toml::from_str::<toml::Table>(text) {
            let off = e.span().map_or(0, |s| s.start);
            ctx.at(
                RulesErrorKind::Syntax,
                off,
                format!(
                    "not valid TOML: {}; check quotes, brackets and `key = value` lines",
                    e.message().trim()
                ),
            );
            return Err(RulesErrors(ctx.errors));
        }
        let raw: RawProgram = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let msg = e.message().trim().to_owned();
                let kind = if msg.starts_with("unknown field") {
                    RulesErrorKind::UnknownField
                } else if msg.starts_with("missing field") {
                    RulesErrorKind::MissingField
                } else {
                    RulesErrorKind::BadValue
                };
                let hint = match kind {
                    RulesErrorKind::UnknownField => {
                        "; check the spelling (docs/RULES.md lists every key)"
                    }
                    RulesErrorKind::MissingField => {
                        "; add it (docs/RULES.md lists the required keys)"
                    }
                    _ => "",
                };
                ctx.at(
                    kind,
                    e.span().map_or(0, |s| s.start),
                    format!("{msg}{hint}"),
                );
                return Err(RulesErrors(ctx.errors));
            }
        };
        let program = build(&mut ctx, raw);
        if ctx.errors.is_empty() {
            Ok(program.expect("no errors means a program"))
        } else {
            ctx.errors.sort_by_key(|e| (e.line, e.column));
            Err(RulesErrors(ctx.errors))
        }
    }

    /// Programme code (`PKH`, `BPNT`, `PBI_JK`, `BLT_DD`, ...).
    pub fn code(&self) -> &str {
        &self.code
    }
    /// Name in Bahasa Indonesia.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Optional description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// Rules version recorded in every verdict (with an `+override(...)` suffix after
    /// [`Program::with_override`]).
    pub fn version(&self) -> &str {
        &self.version
    }
    /// Family or person.
    pub fn unit(&self) -> Unit {
        self.unit
    }
    /// Highest eligible DTSEN decile.
    pub fn decile_cut(&self) -> u8 {
        self.decile_cut
    }
    /// Benefit per unit and period.
    pub fn benefit(&self) -> &Benefit {
        &self.benefit
    }
    /// Region scope of a list.
    pub fn region_scope(&self) -> RegionScope {
        self.region_scope
    }
    /// Programmes this one may not be combined with in one period.
    pub fn not_combinable_with(&self) -> &[String] {
        &self.not_combinable_with
    }
    /// The enabled checks declared `mandatory = true`: without their registry, validation
    /// refuses to run instead of marking the check "not checked" on every row.
    pub fn mandatory(&self) -> &[ReasonCode] {
        &self.mandatory
    }

    /// Severity of an enabled catalogue check; `None` when the check is off.
    pub fn severity(&self, code: ReasonCode) -> Option<Decision> {
        self.checks[code.index()]
    }
    /// Enabled catalogue checks with their severities, in catalogue order.
    pub fn checks(&self) -> Vec<(ReasonCode, Decision)> {
        ReasonCode::ALL
            .into_iter()
            .filter_map(|c| self.checks[c.index()].map(|s| (c, s)))
            .collect()
    }
    /// Enabled exceptions.
    pub fn exceptions(&self) -> &[ReasonCode] {
        &self.exceptions
    }
    /// Custom CEL conditions, in file order.
    pub fn custom(&self) -> &[CustomRule] {
        &self.custom
    }
    /// The origin name the rules were parsed from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// A copy with one setting changed, for simulating a rule change before adopting it
    /// ("PBI decile 5 → 4"). The copy's version gets a `+override(key=value)` suffix so its
    /// verdicts are never mistaken for the adopted rules'.
    ///
    /// Keys: `decile_cut`, `version`, `unit`, `region_scope`, `benefit.amount`,
    /// `benefit.period`, `not_combinable_with` (comma-separated codes, may be empty),
    /// `exceptions` (comma-separated), `reasons.CODE.severity` (`TINJAU`/`TIDAK_LAYAK`; also
    /// enables the check), `reasons.CODE.enabled` (`true`/`false`).
    pub fn with_override(&self, key: &str, value: &str) -> Result<Program, RulesError> {
        let origin = format!("override {key}={value}");
        let err = |kind: RulesErrorKind, message: String| RulesError {
            kind,
            origin: origin.clone(),
            line: 1,
            column: 1,
            message,
        };
        let bad = |what: &str| {
            err(
                RulesErrorKind::BadValue,
                format!("`{value}` is not a valid value for `{key}`: expected {what}"),
            )
        };
        let list = |v: &str| -> Vec<String> {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let v = value.trim();
        let mut p = self.clone();
        match key {
            "decile_cut" => {
                p.decile_cut = v
                    .parse::<u8>()
                    .ok()
                    .filter(|d| (1..=10).contains(d))
                    .ok_or_else(|| bad("a decile 1–10"))?;
            }
            "version" => {
                if v.is_empty() {
                    return Err(bad("a non-empty version"));
                }
                p.version = v.to_owned();
                return Ok(p);
            }
            "unit" => {
                p.unit = match v {
                    "family" => Unit::Family,
                    "person" => Unit::Person,
                    _ => return Err(bad("`family` or `person`")),
                }
            }
            "region_scope" => {
                p.region_scope = match v {
                    "regency" => RegionScope::Regency,
                    "village" => RegionScope::Village,
                    _ => return Err(bad("`regency` or `village`")),
                }
            }
            "benefit.amount" => {
                p.benefit.amount = v.parse().map_err(|_| bad("rupiah, a whole number"))?;
            }
            "benefit.period" => {
                p.benefit.period =
                    Period::parse(v).ok_or_else(|| bad("month, quarter, year or once"))?;
            }
            "not_combinable_with" => {
                let codes = list(v);
                if !codes.iter().all(|c| is_code(c)) {
                    return Err(bad("programme codes such as PKH, BPNT"));
                }
                p.not_combinable_with = codes;
                p.not_combinable_with.sort();
                p.not_combinable_with.dedup();
            }
            "exceptions" => {
                let mut ex = Vec::new();
                for c in list(v) {
                    match ReasonCode::parse(&c).filter(|c| ReasonCode::EXCEPTIONS.contains(c)) {
                        Some(c) => ex.push(c),
                        None => {
                            return Err(err(
                                RulesErrorKind::UnknownReason,
                                format!("`{c}` is not an exception; known: EXCEPTION_CATASTROPHIC"),
                            ));
                        }
                    }
                }
                ex.sort();
                ex.dedup();
                p.exceptions = ex;
            }
            _ => {
                let parts: Vec<&str> = key.split('.').collect();
                let [reasons, code, field] = parts[..] else {
                    return Err(err(
                        RulesErrorKind::OverrideUnknownKey,
                        format!(
                            "unknown override key `{key}`; known: decile_cut, version, unit, region_scope, benefit.amount, benefit.period, not_combinable_with, exceptions, reasons.CODE.severity, reasons.CODE.enabled"
                        ),
                    ));
                };
                if reasons != "reasons" || !matches!(field, "severity" | "enabled") {
                    return Err(err(
                        RulesErrorKind::OverrideUnknownKey,
                        format!(
                            "unknown override key `{key}`; expected reasons.CODE.severity or reasons.CODE.enabled"
                        ),
                    ));
                }
                let Some(rc) = ReasonCode::parse(code).filter(|c| ReasonCode::CHECKS.contains(c))
                else {
                    return Err(err(
                        RulesErrorKind::UnknownReason,
                        format!("unknown reason code `{code}`; known: {}", known_checks()),
                    ));
                };
                if field == "severity" {
                    let s = Decision::parse_severity(v).ok_or_else(|| {
                        err(
                            RulesErrorKind::BadSeverity,
                            format!("severity `{v}` is not TINJAU or TIDAK_LAYAK"),
                        )
                    })?;
                    p.checks[rc.index()] = Some(s);
                } else {
                    match v {
                        "true" => {
                            p.checks[rc.index()] =
                                Some(self.checks[rc.index()].unwrap_or(rc.default_severity()))
                        }
                        "false" => p.checks[rc.index()] = None,
                        _ => return Err(bad("true or false")),
                    }
                }
            }
        }
        p.version = format!("{}+override({key}={v})", self.version);
        if p.cel.is_some() {
            p.cel = Some(celview::ProgramCel::new(&p));
        }
        Ok(p)
    }
}

fn build(ctx: &mut Ctx<'_>, raw: RawProgram) -> Option<Program> {
    use RulesErrorKind::*;
    let code = raw.code.get_ref().trim().to_owned();
    if !is_code(&code) {
        ctx.at(
            BadValue,
            raw.code.span().start,
            format!("programme code `{code}` must be upper case letters, digits and `_`, e.g. PKH, PBI_JK"),
        );
    }
    let version = raw.version.get_ref().trim().to_owned();
    if version.is_empty() {
        ctx.at(
            BadValue,
            raw.version.span().start,
            "version must not be empty; use e.g. \"2026.11.1\"".into(),
        );
    }
    let unit = match raw.unit.get_ref().as_str() {
        "family" => Unit::Family,
        "person" => Unit::Person,
        other => {
            ctx.at(
                BadValue,
                raw.unit.span().start,
                format!("unit `{other}` must be \"family\" or \"person\""),
            );
            Unit::Family
        }
    };
    let region_scope = match raw.region_scope.get_ref().as_str() {
        "regency" => RegionScope::Regency,
        "village" => RegionScope::Village,
        other => {
            ctx.at(
                BadValue,
                raw.region_scope.span().start,
                format!("region_scope `{other}` must be \"regency\" or \"village\""),
            );
            RegionScope::Regency
        }
    };
    let cut = *raw.decile_cut.get_ref();
    let decile_cut = if (1..=10).contains(&cut) {
        cut as u8
    } else {
        ctx.at(
            BadValue,
            raw.decile_cut.span().start,
            format!("decile_cut {cut} must be a decile from 1 to 10"),
        );
        10
    };
    let amount = *raw.benefit.amount.get_ref();
    if amount < 0 {
        ctx.at(
            BadValue,
            raw.benefit.amount.span().start,
            format!("benefit amount {amount} must not be negative"),
        );
    }
    let period = Period::parse(raw.benefit.period.get_ref()).unwrap_or_else(|| {
        ctx.at(
            BadValue,
            raw.benefit.period.span().start,
            format!(
                "benefit period `{}` must be \"month\", \"quarter\", \"year\" or \"once\"",
                raw.benefit.period.get_ref()
            ),
        );
        Period::Month
    });
    let mut not_combinable_with = Vec::new();
    for c in &raw.not_combinable_with {
        let s = c.get_ref().trim();
        if !is_code(s) {
            ctx.at(
                BadValue,
                c.span().start,
                format!("`{s}` is not a programme code (e.g. PKH, BPNT)"),
            );
        } else if s == code {
            ctx.at(
                BadValue,
                c.span().start,
                format!("a programme cannot exclude itself (`{s}`)"),
            );
        } else {
            not_combinable_with.push(s.to_owned());
        }
    }
    not_combinable_with.sort();
    not_combinable_with.dedup();

    let mut exceptions = Vec::new();
    for e in &raw.exceptions {
        match ReasonCode::parse(e.get_ref()) {
            Some(rc) if ReasonCode::EXCEPTIONS.contains(&rc) => exceptions.push(rc),
            Some(rc) => ctx.at(
                UnknownReason,
                e.span().start,
                format!("`{rc}` is a check, not an exception: enable it under [reasons.{rc}]; exceptions: EXCEPTION_CATASTROPHIC"),
            ),
            None => ctx.at(
                UnknownReason,
                e.span().start,
                format!("unknown exception `{}`; known: EXCEPTION_CATASTROPHIC", e.get_ref()),
            ),
        }
    }
    exceptions.sort();
    exceptions.dedup();

    let mut checks = [None; ReasonCode::ALL.len()];
    let mut mandatory = Vec::new();
    for (key, r) in &raw.reasons {
        let rc = match ReasonCode::parse(key.get_ref()) {
            Some(rc) if ReasonCode::CHECKS.contains(&rc) => rc,
            Some(rc) => {
                ctx.at(
                    UnknownReason,
                    key.span().start,
                    if rc == ReasonCode::RuleError {
                        "RULE_ERROR is raised by the evaluator and cannot be configured".into()
                    } else {
                        format!("`{rc}` is an exception: list it in `exceptions = [\"{rc}\"]`, not under [reasons]")
                    },
                );
                continue;
            }
            None => {
                ctx.at(
                    UnknownReason,
                    key.span().start,
                    format!(
                        "unknown reason code `{}`; known: {}",
                        key.get_ref(),
                        known_checks()
                    ),
                );
                continue;
            }
        };
        let severity = match &r.severity {
            None => rc.default_severity(),
            Some(s) => match Decision::parse_severity(s.get_ref()) {
                Some(d) => d,
                None => {
                    ctx.at(
                        BadSeverity,
                        s.span().start,
                        format!(
                            "severity `{}` must be \"TINJAU\" or \"TIDAK_LAYAK\"",
                            s.get_ref()
                        ),
                    );
                    rc.default_severity()
                }
            },
        };
        if r.enabled != Some(false) {
            checks[rc.index()] = Some(severity);
            if r.mandatory == Some(true) {
                mandatory.push(rc);
            }
        }
    }

    let env = Arc::new(cel::Env::stdlib());
    let mut custom = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in raw.custom {
        let ccode = c.code.get_ref().trim().to_owned();
        if !is_code(&ccode) {
            ctx.at(
                BadValue,
                c.code.span().start,
                format!("custom code `{ccode}` must be upper case letters, digits and `_`"),
            );
        } else if ReasonCode::parse(&ccode).is_some() {
            ctx.at(
                DuplicateCode,
                c.code.span().start,
                format!("custom code `{ccode}` is a catalogue code; choose another name"),
            );
        } else if !seen.insert(ccode.clone()) {
            ctx.at(
                DuplicateCode,
                c.code.span().start,
                format!("custom code `{ccode}` is used twice"),
            );
        }
        let severity = Decision::parse_severity(c.severity.get_ref()).unwrap_or_else(|| {
            ctx.at(
                BadSeverity,
                c.severity.span().start,
                format!(
                    "severity `{}` must be \"TINJAU\" or \"TIDAK_LAYAK\"",
                    c.severity.get_ref()
                ),
            );
            Decision::Tinjau
        });
        let source = match &c.source {
            None => None,
            Some(s) => match FactSource::ALL.iter().find(|(n, _)| *n == s.get_ref()) {
                Some((_, f)) => Some(*f),
                None => {
                    ctx.at(
                        BadValue,
                        s.span().start,
                        format!(
                            "source `{}` must be one of: {}",
                            s.get_ref(),
                            FactSource::ALL.map(|(n, _)| n).join(", ")
                        ),
                    );
                    None
                }
            },
        };
        for (t, what) in [
            (&c.message_id, "message_id"),
            (&c.message_en, "message_en"),
            (&c.next_step_id, "next_step_id"),
            (&c.next_step_en, "next_step_en"),
        ] {
            if t.trim().is_empty() {
                ctx.at(
                    BadValue,
                    c.code.span().start,
                    format!("custom `{ccode}`: {what} must not be empty; citizens read it"),
                );
            }
        }
        let when = c.when.get_ref().clone();
        match env.compile(&when) {
            Ok(prog) => custom.push(CustomRule {
                code: ccode,
                severity,
                when,
                message: Text {
                    id: c.message_id,
                    en: c.message_en,
                },
                next_step: Text {
                    id: c.next_step_id,
                    en: c.next_step_en,
                },
                source,
                compiled: Arc::new(prog),
            }),
            Err(errs) => {
                for e in errs.errors.iter().take(1) {
                    let off = cel_offset(ctx.text, c.when.span(), &when, e.pos.0, e.pos.1);
                    ctx.at(
                        CelSyntax,
                        off,
                        format!(
                            "custom `{ccode}`: the CEL expression does not parse: {}",
                            e.msg
                        ),
                    );
                }
            }
        }
    }

    if !ctx.errors.is_empty() {
        return None;
    }
    let mut p = Program {
        code,
        name: raw.name,
        description: raw.description,
        version,
        unit,
        decile_cut,
        benefit: Benefit {
            amount: amount.max(0) as u64,
            period,
            note: raw.benefit.note,
        },
        region_scope,
        not_combinable_with,
        checks,
        mandatory,
        exceptions,
        custom,
        origin: ctx.origin.to_owned(),
        cel: None,
    };
    if !p.custom.is_empty() {
        p.cel = Some(celview::ProgramCel::with_env(&p, env));
    }
    Some(p)
}
