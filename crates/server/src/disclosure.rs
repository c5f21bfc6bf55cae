//! Data minimisation of a finished verdict: what a composite answer may tell a consumer.
//!
//! A verdict's reasons explain themselves with the registries' values ("meninggal
//! 2024-05-21", "desil 6 > batas 4", "PPPK"). A consumer of Kemensos's `validasi-penerima`
//! may see a value only when its agreement grants the attribute for the service and it asks
//! for it (`fields`), exactly as with the registries' own services. Without it, the reason
//! still says which rule applies, with which severity and on which agency's data, and what
//! the person can do, but not the value.
//!
//! This works on the finished [`Verdict`] and the granted fields only, not on how the facts
//! were gathered, so it holds whichever validator produced the verdict (the federated
//! fact-gathering here, or the engine's `Validator`).

use sinergi_rules::{Reason, Text, Verdict};

/// The attributes a `validasi-penerima` agreement can grant: each is the value some reason
/// shows.
pub const FIELDS: &[&str] = &[
    "tgl_kematian",
    "jenis",
    "upah",
    "segmen",
    "desil",
    "katastropik",
    "kode_wilayah",
    "program_lain",
    "nik_saran",
];

/// The attributes whose values a reason's explanation shows. A reason not listed shows no
/// registry value (its facts are the caller's own list, or a yes/no the service answers
/// anyway).
fn shows(r: &Reason) -> &'static [&'static str] {
    match r.code.as_str() {
        "DECEASED" => &["tgl_kematian"],
        "CIVIL_SERVANT" => &["jenis"],
        "WAGE_ABOVE_MINIMUM" => &["upah"],
        "FORMAL_EMPLOYEE_INSURED" => &["segmen"],
        "DECILE_ABOVE_CUT" => &["desil"],
        "EXCEPTION_CATASTROPHIC" => &["katastropik", "desil"],
        "OUT_OF_REGION" => &["kode_wilayah"],
        "PROGRAM_OVERLAP" => &["program_lain"],
        "NIK_INVALID" | "NIK_NOT_FOUND" | "IDENTITY_MISMATCH" if r.suggested_nik.is_some() => {
            &["nik_saran"]
        }
        // An evaluation error may quote any fact.
        "RULE_ERROR" => FIELDS,
        _ => &[],
    }
}

/// Removes from `verdict` every value the consumer was not granted: a reason that would show
/// one is rendered with its rule, severity, agency and next step only.
pub fn minimise(verdict: &mut Verdict, granted: &[String]) {
    for r in &mut verdict.reasons {
        let withheld: Vec<&str> = shows(r)
            .iter()
            .copied()
            .filter(|f| !granted.iter().any(|g| g == f))
            .collect();
        if withheld.is_empty() {
            continue;
        }
        withhold(r, &withheld);
    }
}

/// The NIKs the identity stage found that a consumer may see.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    /// The linked NIK: shown when it is the NIK listed, else only with `nik_saran`.
    pub linked: Option<String>,
    /// A suggested NIK and its score, only with `nik_saran`.
    pub suggested: Option<(String, f64)>,
}

/// The linked and suggested NIKs of a verdict as `granted` lets them be shown: a NIK other
/// than the one listed is a value of the registry (`nik_saran`).
pub fn identity(
    listed: &str,
    linked: Option<&str>,
    suggested: Option<(&str, f64)>,
    granted: &[String],
) -> Identity {
    let saran = granted.iter().any(|g| g == "nik_saran");
    Identity {
        linked: linked
            .filter(|l| saran || *l == listed.trim())
            .map(str::to_owned),
        suggested: suggested.filter(|_| saran).map(|(n, s)| (n.to_owned(), s)),
    }
}

fn withhold(r: &mut Reason, withheld: &[&str]) {
    let fields = withheld.join(", ");
    let (code, agency, dataset) = (&r.code, &r.source.agency, &r.source.dataset);
    r.message = Text {
        id: format!(
            "Aturan {code} berlaku menurut data {agency} ({dataset}). Nilainya ({fields}) tidak \
             dibuka untuk instansi Anda: PKS tidak memberikan atribut tersebut untuk layanan \
             ini, atau atribut itu tidak diminta (fields)."
        ),
        en: format!(
            "Rule {code} applies according to {agency} data ({dataset}). Its value ({fields}) \
             is not disclosed to your agency: your agreement (PKS) does not grant it for this \
             service, or it was not asked for (fields)."
        ),
    };
    r.detail = format!("{code}; nilai tidak dibuka: {fields}");
    if withheld.contains(&"nik_saran") {
        r.suggested_nik = None;
        r.score = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sinergi_rules::{Decision, Source};

    fn reason(code: &str, detail: &str, message: &str) -> Reason {
        Reason {
            code: code.into(),
            severity: Decision::TidakLayak,
            overridden_by: None,
            source: Source::new("Dukcapil", "kematian", "7", "2026-11-01"),
            message: Text {
                id: message.into(),
                en: message.into(),
            },
            next_step: Text {
                id: "ajukan sanggah".into(),
                en: "file an objection".into(),
            },
            detail: detail.into(),
            suggested_nik: None,
            score: None,
        }
    }

    fn verdict(reasons: Vec<Reason>) -> Verdict {
        Verdict {
            verdict: Decision::TidakLayak,
            reasons,
            not_checked: vec![],
            notes: vec![],
            rules_version: "1".into(),
            program: "PKH".into(),
        }
    }

    #[test]
    fn values_stay_only_where_granted() {
        let mut v = verdict(vec![
            reason(
                "DECEASED",
                "meninggal 2024-05-21",
                "tanggal kematian 2024-05-21",
            ),
            reason("DECILE_ABOVE_CUT", "desil 6 > batas 4", "desil 6"),
            reason("DUPLICATE_IN_LIST", "sama dengan baris 1", "baris 1"),
        ]);
        let before = v.clone();
        minimise(&mut v, &["desil".into()]);
        let text = serde_json::to_string(&v).unwrap();
        assert!(!text.contains("2024-05-21"), "{text}");
        assert!(text.contains("desil 6 > batas 4"), "granted: kept");
        assert_eq!(v.reasons[2], before.reasons[2], "nothing to withhold");
        let dead = &v.reasons[0];
        assert_eq!(dead.code, "DECEASED");
        assert_eq!(dead.severity, before.reasons[0].severity);
        assert_eq!(dead.source, before.reasons[0].source);
        assert_eq!(dead.next_step, before.reasons[0].next_step);
        assert!(dead.message.id.contains("Dukcapil") && dead.message.id.contains("tgl_kematian"));
        assert_eq!(v.verdict, before.verdict);
        // Everything granted: unchanged.
        let mut all = before.clone();
        let granted: Vec<String> = FIELDS.iter().map(|f| f.to_string()).collect();
        minimise(&mut all, &granted);
        assert_eq!(all, before);
    }

    #[test]
    fn a_suggested_nik_is_a_value_too() {
        let mut r = reason(
            "NIK_NOT_FOUND",
            "NIK tidak ditemukan",
            "Kemungkinan NIK 3301",
        );
        r.suggested_nik = Some("3301015505900001".into());
        r.score = Some(0.97);
        let mut v = verdict(vec![r]);
        minimise(&mut v, &[]);
        assert_eq!(v.reasons[0].suggested_nik, None);
        assert_eq!(v.reasons[0].score, None);
        assert!(
            !serde_json::to_string(&v)
                .unwrap()
                .contains("3301015505900001")
        );
    }

    #[test]
    fn a_nik_other_than_the_listed_one_needs_nik_saran() {
        let listed = "3301015505900002";
        let other = "3301015505900001";
        let none = identity(listed, Some(other), Some((other, 0.97)), &[]);
        assert_eq!(none, Identity::default());
        let same = identity(listed, Some(listed), None, &[]);
        assert_eq!(same.linked.as_deref(), Some(listed));
        let all = identity(
            listed,
            Some(other),
            Some((other, 0.97)),
            &["nik_saran".into()],
        );
        assert_eq!(all.linked.as_deref(), Some(other));
        assert_eq!(all.suggested, Some((other.to_string(), 0.97)));
    }

    #[test]
    fn a_rule_error_keeps_its_rule_only() {
        let mut v = verdict(vec![reason("RULE_ERROR", "X: desil is Int(6)", "Aturan X")]);
        minimise(&mut v, &["desil".into()]);
        assert!(!v.reasons[0].detail.contains("Int(6)"));
    }
}
