//! The per-row result of a validation run, independent of how it was computed, so writers,
//! summaries and evaluation work on one shape.

use serde::{Deserialize, Serialize, Serializer};

/// The verdict of one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    /// Eligible.
    Layak,
    /// Needs review by an officer.
    Tinjau,
    /// Not eligible.
    TidakLayak,
}

impl Decision {
    /// `LAYAK`, `TINJAU`, `TIDAK LAYAK` (as officers write it).
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Layak => "LAYAK",
            Decision::Tinjau => "TINJAU",
            Decision::TidakLayak => "TIDAK LAYAK",
        }
    }

    /// The label in `lang`: `TIDAK LAYAK` or `NOT ELIGIBLE`.
    pub const fn label(self, lang: sinergi_model::Lang) -> &'static str {
        match lang {
            sinergi_model::Lang::Id => self.as_str(),
            sinergi_model::Lang::En => self.as_en(),
        }
    }

    /// English label.
    pub const fn as_en(self) -> &'static str {
        match self {
            Decision::Layak => "ELIGIBLE",
            Decision::Tinjau => "REVIEW",
            Decision::TidakLayak => "NOT ELIGIBLE",
        }
    }

    /// Parses [`Decision::as_str`] (also `TIDAK_LAYAK`).
    pub fn parse(s: &str) -> Option<Decision> {
        match s.trim().to_ascii_uppercase().replace('_', " ").as_str() {
            "LAYAK" => Some(Decision::Layak),
            "TINJAU" => Some(Decision::Tinjau),
            "TIDAK LAYAK" => Some(Decision::TidakLayak),
            _ => None,
        }
    }

    /// The rules' decision.
    pub const fn of(d: sinergi_rules::Decision) -> Decision {
        match d {
            sinergi_rules::Decision::Layak => Decision::Layak,
            sinergi_rules::Decision::Tinjau => Decision::Tinjau,
            sinergi_rules::Decision::TidakLayak => Decision::TidakLayak,
        }
    }

    /// All decisions in report order.
    pub const ALL: [Decision; 3] = [Decision::Layak, Decision::Tinjau, Decision::TidakLayak];
}

impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One reason of a verdict, with its source and bilingual explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonOut {
    /// Stable reason code (`DECEASED`, ...).
    pub code: String,
    /// The verdict this reason implies on its own.
    pub severity: Decision,
    /// Agency whose data gave the reason (`Dukcapil`, ..., or `Daftar` for the list itself).
    pub agency: String,
    /// Dataset the fact was read from.
    pub dataset: String,
    /// Dataset snapshot/version.
    pub dataset_version: String,
    /// The date the data describes (`YYYY-MM-DD`; for the list itself, its period), or empty
    /// when the load did not say.
    pub dataset_date: String,
    /// When that version was loaded (`YYYY-MM-DD`); not the date the data describes.
    pub dataset_loaded: String,
    /// Message in Bahasa Indonesia.
    pub message_id: String,
    /// Message in English.
    pub message_en: String,
    /// Next step for the citizen/officer in Bahasa Indonesia.
    pub next_step_id: String,
    /// Next step in English.
    pub next_step_en: String,
    /// Short technical detail for officers (`desil 7 > batas 4`).
    pub detail: String,
    /// The exception that cancels this reason ("" when it counts).
    pub overridden_by: String,
}

/// The result for one roster row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictRow {
    /// Row number in the list (`No`, or the data row's position when absent).
    pub row_no: u64,
    /// The row's id as listed (`No`): the same number, or a text id such as `R00000012`
    /// (then shown in the `No` column instead of `row_no`).
    pub row_id: String,
    /// Programme code.
    pub program: String,
    /// Period as written.
    pub period: String,
    /// NIK exactly as listed.
    pub nik_listed: String,
    /// Name as listed.
    pub name: String,
    /// KK number as listed (16 digits), when the list has one.
    pub kk_listed: Option<String>,
    /// Birth date as listed (`YYYY-MM-DD`), when readable.
    pub birth_date: Option<String>,
    /// Address as listed.
    pub address: String,
    /// Verdict.
    pub verdict: Decision,
    /// Every reason that applies (empty for a clean LAYAK).
    pub reasons: Vec<ReasonOut>,
    /// The registry person the row was linked to, when linked.
    pub linked_nik: Option<String>,
    /// Suggested NIK (likely right NIK for a mistyped or mismatched one).
    pub suggested_nik: Option<String>,
    /// Linkage score of the suggestion (0–1, rounded to 4 decimals).
    pub suggested_score: Option<f64>,
    /// Benefit amount (Nominal), rupiah: as listed, or the programme's `benefit.amount` when
    /// the list gives none (then `amount_from_rules`).
    pub amount: Option<i64>,
    /// The list gave no amount: `amount` is the rules' `benefit.amount`.
    pub amount_from_rules: bool,
    /// Village code as listed (digits).
    pub region: Option<String>,
    /// Checks the programme enables that were not made for this row, and why.
    pub not_checked: Vec<NotChecked>,
    /// Data-correction notes: the row is the linked person, but its name or birth date is
    /// written differently from the population registry.
    pub notes: Vec<NoteOut>,
}

/// A check that was not made for a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotChecked {
    /// The check's reason code (`DECEASED`, `DECILE_ABOVE_CUT`, ...).
    pub code: String,
    /// Why, as a stable code: `NOT_LOADED` (the registry is not loaded), `NO_PERSON` (the row
    /// is not linked to anyone in the population registry), `NOT_IN_ROW` (the list does not
    /// state what the check compares, e.g. No KK or Kode Desa), `NO_MINIMUM_WAGE` (no UMK for
    /// the domicile); over the exchange also `NO_ROUTE`, `REFUSED`, `TIMEOUT`, `UNREACHABLE`.
    pub why: String,
    /// Why, in Bahasa Indonesia.
    pub why_id: String,
    /// Why, in English.
    pub why_en: String,
}

/// A data-correction note of a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteOut {
    /// `NAME_DIFFERS`, `BIRTH_DATE_DEFAULT`, `BIRTH_DATE_DIFFERS`.
    pub code: String,
    /// Bahasa Indonesia.
    pub message_id: String,
    /// English.
    pub message_en: String,
}

impl VerdictRow {
    /// The output row of a list row from the rules' verdict and what the identity stage
    /// concluded (`person`: the linked NIK, `suggestion`: a different NIK and its probability):
    /// the one place a [`sinergi_rules::Verdict`] becomes a row of the verdict files, whether
    /// the validator ran here or at a node (`sinergi validasi` rebuilds its rows with it).
    pub fn from_rules(
        program: &sinergi_rules::Program,
        row: &crate::facts::RosterRow,
        v: sinergi_rules::Verdict,
        person: Option<u64>,
        suggestion: Option<(u64, f64)>,
        not_checked: Vec<NotChecked>,
    ) -> VerdictRow {
        use crate::keymap::fmt16;
        VerdictRow {
            row_no: row.row_no,
            row_id: row.row_id.clone(),
            program: program.code().to_string(),
            period: row.period.clone(),
            nik_listed: row.nik_raw.clone(),
            name: row.name.clone(),
            kk_listed: row.kk.map(fmt16),
            birth_date: row.birth_date.clone(),
            address: row.address.clone(),
            verdict: Decision::of(v.verdict),
            reasons: v
                .reasons
                .into_iter()
                .map(|r| ReasonOut {
                    code: r.code,
                    severity: Decision::of(r.severity),
                    agency: r.source.agency,
                    dataset: r.source.dataset,
                    dataset_version: r.source.version,
                    dataset_date: r.source.as_of,
                    dataset_loaded: r.source.loaded,
                    message_id: r.message.id,
                    message_en: r.message.en,
                    next_step_id: r.next_step.id,
                    next_step_en: r.next_step.en,
                    detail: r.detail,
                    overridden_by: r.overridden_by.unwrap_or_default(),
                })
                .collect(),
            linked_nik: person.map(fmt16),
            suggested_nik: suggestion.map(|(n, _)| fmt16(n)),
            suggested_score: suggestion.map(|(_, p)| round4(p)),
            amount: row
                .amount
                .or_else(|| i64::try_from(program.benefit().amount).ok()),
            amount_from_rules: row.amount.is_none(),
            region: row.village.map(|v| format!("{v:010}")),
            not_checked,
            notes: v
                .notes
                .into_iter()
                .map(|n| NoteOut {
                    code: n.code,
                    message_id: n.message.id,
                    message_en: n.message.en,
                })
                .collect(),
        }
    }

    /// The `No` cell of the outputs: the listed id when it is not a plain number.
    pub fn no_cell(&self) -> crate::layout::Cell {
        if !self.row_id.is_empty() && !self.row_id.bytes().all(|b| b.is_ascii_digit()) {
            crate::layout::Cell::Text(self.row_id.clone())
        } else {
            crate::layout::Cell::Int(self.row_no as i64)
        }
    }

    /// The codes of the checks not made, joined with `;`.
    pub fn not_checked_codes(&self) -> String {
        self.not_checked
            .iter()
            .map(|n| n.code.as_str())
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The data-correction note codes joined with `;`.
    pub fn note_codes(&self) -> String {
        self.notes
            .iter()
            .map(|n| n.code.as_str())
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The reason codes joined with `;`, in reason order.
    pub fn codes(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// Rounds a score for output (stable text in every format).
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
