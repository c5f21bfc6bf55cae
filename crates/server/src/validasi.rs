//! Kemensos `validasi-penerima`: the eligibility of one recipient, gathered over signed HTTP
//! from the registries' nodes (Dukcapil, BPJS Kesehatan, DTSEN, BKN) and evaluated with the
//! programme's rules (`sinergi_rules::evaluate`).
//!
//! The engine's `Validator` works on a whole roster against registries in one store; a
//! federated node holds none of the other agencies' data, so here each fact is asked of its
//! owner under the agreements, and a registry that cannot be asked (no route, refused,
//! unreachable) leaves its fact `NotChecked`, which the rules list in `not_checked` rather
//! than guessing.
//!
//! The answers become [`Facts`] in one place ([`Recipient::facts`]), whatever asked them.

use serde_json::{Map, Value, json};
use sinergi_exchange::{ClientId, ErrorCode};
use sinergi_model::{Nik, NikParse, RegionCode};
use sinergi_rules::{
    BpjsMembership, BpjsSegment, CivilServant, CivilServantKind, Death, Dtsen, Facts, Lookup,
    NikStatus, Source, evaluate,
};

use crate::client::{CallError, CallMeta, call};
use crate::gateway::Ctx;
use crate::services::Query;
use crate::state::AppState;

/// The programme when the caller names none.
const DEFAULT_PROGRAM: &str = "PBI_JK";

/// A registry asked about each recipient: its service, its key in `sources`, and the fields
/// asked of it (granted under Kemensos's agreement with its owner).
struct Registry {
    service: &'static str,
    source: &'static str,
    fields: &'static [&'static str],
}

/// In the order of [`Answers`].
const REGISTRIES: [Registry; 4] = [
    Registry {
        service: "verifikasi-identitas",
        source: "dukcapil",
        fields: &["kode_wilayah", "tgl_kematian"],
    },
    Registry {
        service: "status-kepesertaan",
        source: "bpjs_kesehatan",
        fields: &["segmen", "katastropik"],
    },
    Registry {
        service: "desil",
        source: "dtsen",
        fields: &["desil"],
    },
    Registry {
        service: "status-asn",
        source: "bkn",
        fields: &["jenis"],
    },
];

/// What one registry said about one recipient, or the note (for `sources`) on why it could
/// not be asked: the refusal code, or the failure.
type Asked<'a> = Result<&'a Value, String>;

/// The answers of Dukcapil, BPJS Kesehatan, DTSEN and BKN (the order of [`REGISTRIES`]).
type Answers<'a> = [Asked<'a>; 4];

/// The `sources` note for a registry that could not be asked: its refusal code, or what went
/// wrong (a refusal without a code, e.g. a body over its limit, says its HTTP status).
fn note(e: &CallError) -> String {
    match e {
        CallError::Refused { code, .. } if !code.is_empty() => code.clone(),
        e => e.to_string(),
    }
}

fn src(agency: &str, dataset: &str) -> Source {
    Source::new(agency, dataset, "", "")
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn b(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

/// One recipient (the single call's body, or one list line) under its programme.
struct Recipient {
    q: Query,
    parsed: NikParse,
    program_code: String,
}

impl Recipient {
    fn new(q: Query, program_code: String) -> Recipient {
        let parsed = Nik::parse(&q.nik);
        Recipient {
            q,
            parsed,
            program_code,
        }
    }

    /// The NIK the registries are asked about; `None` (nothing is asked) when it is missing
    /// or invalid.
    fn nik(&self) -> Option<&str> {
        (!self.q.nik.trim().is_empty() && self.parsed.is_valid()).then(|| self.q.nik.trim())
    }

    /// The question to registry `i` about this recipient (without `fields`).
    fn question(&self, i: usize, nik: &str) -> Value {
        if i == 0 {
            json!({"nik": nik, "nama": self.q.nama, "tgl_lahir": self.q.tgl_lahir})
        } else {
            json!({"nik": nik})
        }
    }

    /// The rules' facts from the registries' answers (`None`: nothing was asked, the NIK is
    /// missing or invalid). `row` is the row number, `duplicate_of_row` the earlier row of the
    /// same person in a list, `list_region` the region the list is for.
    fn facts(
        &self,
        row: u64,
        duplicate_of_row: Option<u64>,
        list_region: Option<&str>,
        answers: Option<&Answers<'_>>,
    ) -> Facts {
        let mut facts = Facts::new(row, src("Daftar (list itself)", &self.program_code));
        facts.row.duplicate_of_row = duplicate_of_row;
        facts.row.list_region = list_region.and_then(|r| RegionCode::parse(r).ok());
        if self.q.nik.trim().is_empty() {
            facts.identity.nik_status = NikStatus::Missing;
            return facts;
        }
        if !self.parsed.is_valid() {
            facts.identity.nik_status = NikStatus::Invalid {
                problems: self
                    .parsed
                    .errors
                    .iter()
                    .map(|e| e.code().to_string())
                    .collect(),
            };
            return facts;
        }
        let Some([ident, bpjs, desil, asn]) = answers else {
            return facts;
        };
        let dukcapil = src("Dukcapil", "penduduk");
        facts.identity.source = dukcapil.clone();
        if let Ok(v) = ident {
            if b(v, "ditemukan") == Some(false) {
                facts.identity.nik_status = NikStatus::NotFound;
            } else {
                let mismatch = s(v, "nama") == Some("tidak sesuai")
                    || s(v, "tgl_lahir") == Some("tidak sesuai");
                facts.identity.nik_status = if mismatch {
                    NikStatus::ExactMismatch
                } else {
                    NikStatus::Valid
                };
                let data = v.get("data").cloned().unwrap_or(Value::Null);
                facts.person.death = if s(v, "status") == Some("meninggal") {
                    Lookup::Found {
                        value: Death {
                            date: s(&data, "tgl_kematian").unwrap_or("").to_owned(),
                        },
                        source: src("Dukcapil", "kematian"),
                    }
                } else {
                    Lookup::Absent {
                        source: src("Dukcapil", "kematian"),
                    }
                };
                if let Some(r) = s(&data, "kode_wilayah").and_then(|r| RegionCode::parse(r).ok()) {
                    facts.person.domicile = Lookup::Found {
                        value: r,
                        source: dukcapil.clone(),
                    };
                }
                facts.person.sex = self.parsed.nik.as_ref().map(|n| n.sex());
            }
        }
        let found_person = facts.identity.nik_status == NikStatus::Valid
            || facts.identity.nik_status == NikStatus::ExactMismatch;
        if !found_person {
            return facts;
        }
        if let Ok(v) = bpjs {
            let source = src("BPJS Kesehatan", "kepesertaan");
            facts.person.bpjs = if b(v, "terdaftar") == Some(true) {
                let data = v.get("data").cloned().unwrap_or(Value::Null);
                let segment = match s(&data, "segmen").unwrap_or("") {
                    "PBI_APBN" => Some(BpjsSegment::PbiApbn),
                    "PBI_APBD" => Some(BpjsSegment::PbiApbd),
                    "PPU" => Some(BpjsSegment::Ppu),
                    "PBPU" => Some(BpjsSegment::Pbpu),
                    "BP" => Some(BpjsSegment::Bp),
                    _ => None,
                };
                match segment {
                    Some(segment) => Lookup::Found {
                        value: BpjsMembership {
                            segment,
                            active: b(v, "aktif").unwrap_or(false),
                            catastrophic: b(&data, "katastropik").unwrap_or(false),
                        },
                        source,
                    },
                    None => Lookup::NotChecked,
                }
            } else {
                Lookup::Absent { source }
            };
        }
        if let Ok(v) = desil {
            let source = src("DTSEN (BPS)", "dtsen");
            facts.family.dtsen = match v.pointer("/data/desil").and_then(Value::as_u64) {
                Some(d) if b(v, "terdaftar") == Some(true) => Lookup::Found {
                    value: Dtsen { decile: d as u8 },
                    source,
                },
                _ if b(v, "terdaftar") == Some(false) => Lookup::Absent { source },
                _ => Lookup::NotChecked,
            };
        }
        if let Ok(v) = asn {
            let source = src("BKN", "asn");
            facts.person.civil_servant = if b(v, "asn") == Some(true) {
                let kind = match v.pointer("/data/jenis").and_then(Value::as_str) {
                    Some("PPPK") => CivilServantKind::Pppk,
                    Some("TNI") => CivilServantKind::Tni,
                    Some("POLRI") => CivilServantKind::Polri,
                    _ => CivilServantKind::Pns,
                };
                Lookup::Found {
                    value: CivilServant { kind },
                    source,
                }
            } else {
                Lookup::Absent { source }
            };
        }
        facts
    }

    /// The answer: `{nik, program, verdict, sources}`; `sources` says, per registry asked,
    /// `ok` or why not. The programme was checked when the recipient was taken.
    fn answer(&self, st: &AppState, facts: &Facts, answers: Option<&Answers<'_>>) -> Value {
        let mut sources = Map::new();
        for (r, a) in REGISTRIES.iter().zip(answers.into_iter().flatten()) {
            let v = match a {
                Ok(_) => json!("ok"),
                Err(why) => json!(why),
            };
            sources.insert(r.source.into(), v);
        }
        let verdict = st
            .programs
            .get(&self.program_code)
            .map(|p| evaluate(p, facts));
        json!({
            "nik": self.q.nik,
            "program": self.program_code,
            "verdict": verdict,
            "sources": sources,
        })
    }
}

fn meta(ctx: &Ctx) -> CallMeta<'_> {
    CallMeta {
        request_id: &ctx.request_id,
        user_id: &ctx.user_id,
        issue: &ctx.issue,
        purpose: &ctx.purpose,
        pks: None,
    }
}

/// Runs the validation of one recipient. `me` is the Kemensos member that provides the
/// service here; it is also the consumer in the calls to the registries.
pub(crate) async fn validate(
    st: &AppState,
    me: &ClientId,
    q: &Query,
    ctx: &Ctx,
) -> Result<Value, ErrorCode> {
    let program_code = q.program.clone().unwrap_or_else(|| DEFAULT_PROGRAM.into());
    if !st.programs.contains_key(&program_code) {
        return Err(ErrorCode::ServiceNotCovered);
    }
    let r = Recipient::new(q.clone(), program_code);
    let meta = meta(ctx);
    let asked = match r.nik() {
        None => None,
        Some(nik) => {
            let ask = |i: usize| {
                let mut body = r.question(i, nik);
                body["fields"] = json!(REGISTRIES[i].fields);
                let meta = &meta;
                async move { call(st, me, REGISTRIES[i].service, &body, meta).await }
            };
            Some(tokio::join!(ask(0), ask(1), ask(2), ask(3)))
        }
    };
    let owned: Option<[Result<Value, String>; 4]> =
        asked.map(|(a, b, c, d)| [a, b, c, d].map(|r| r.map_err(|e| note(&e))));
    let answers: Option<Answers<'_>> = owned
        .as_ref()
        .map(|o| [0, 1, 2, 3].map(|i| o[i].as_ref().map_err(Clone::clone)));
    let facts = r.facts(1, None, r.q.kode_wilayah.as_deref(), answers.as_ref());
    Ok(r.answer(st, &facts, answers.as_ref()))
}
