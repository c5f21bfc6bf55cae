//! Kemensos `validasi-penerima`: the eligibility of one recipient, gathered over signed HTTP
//! from the registries' nodes (Dukcapil, BPJS Kesehatan, DTSEN, BKN) and evaluated with the
//! programme's rules (`sinergi_rules::evaluate`).
//!
//! The engine's `Validator` works on a whole roster against registries in one store; a
//! federated node holds none of the other agencies' data, so here each fact is asked of its
//! owner under the agreements, and a registry that cannot be asked (no route, refused,
//! unreachable) leaves its fact `NotChecked`, which the rules list in `not_checked` rather
//! than guessing.

use serde_json::{Value, json};
use sinergi_exchange::{ClientId, ErrorCode};
use sinergi_model::{Nik, RegionCode};
use sinergi_rules::{
    BpjsMembership, BpjsSegment, CivilServant, CivilServantKind, Death, Dtsen, Facts, Lookup,
    NikStatus, Source, evaluate,
};

use crate::client::{CallMeta, call};
use crate::gateway::Ctx;
use crate::services::Query;
use crate::state::AppState;

fn src(agency: &str, dataset: &str) -> Source {
    Source::new(agency, dataset, "", "")
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn b(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

/// Runs the validation. `me` is the Kemensos member that provides the service here; it is
/// also the consumer in the calls to the registries.
pub(crate) async fn validate(
    st: &AppState,
    me: &ClientId,
    q: &Query,
    ctx: &Ctx,
) -> Result<Value, ErrorCode> {
    let program_code = q.program.clone().unwrap_or_else(|| "PBI_JK".into());
    let Some(program) = st.programs.get(&program_code) else {
        return Err(ErrorCode::ServiceNotCovered);
    };
    let meta = CallMeta {
        request_id: &ctx.request_id,
        user_id: &ctx.user_id,
        issue: &ctx.issue,
        purpose: &ctx.purpose,
        pks: None,
    };
    let mut facts = Facts::new(1, src("Daftar (list itself)", &program_code));
    facts.row.list_region = q
        .kode_wilayah
        .as_deref()
        .and_then(|r| RegionCode::parse(r).ok());
    let parsed = Nik::parse(&q.nik);
    let mut asked = serde_json::Map::new();
    if q.nik.trim().is_empty() {
        facts.identity.nik_status = NikStatus::Missing;
    } else if !parsed.is_valid() {
        facts.identity.nik_status = NikStatus::Invalid {
            problems: parsed.errors.iter().map(|e| e.code().to_string()).collect(),
        };
    } else {
        let nik = q.nik.trim();
        let q_ident = json!({"nik": nik, "nama": q.nama, "tgl_lahir": q.tgl_lahir,
                             "fields": ["kode_wilayah", "tgl_kematian"]});
        let q_bpjs = json!({"nik": nik, "fields": ["segmen", "katastropik"]});
        let q_desil = json!({"nik": nik, "fields": ["desil"]});
        let q_asn = json!({"nik": nik, "fields": ["jenis"]});
        let (ident, bpjs, desil, asn) = tokio::join!(
            call(st, me, "verifikasi-identitas", &q_ident, &meta),
            call(st, me, "status-kepesertaan", &q_bpjs, &meta),
            call(st, me, "desil", &q_desil, &meta),
            call(st, me, "status-asn", &q_asn, &meta),
        );
        let mut note = |name: &str, r: &Result<Value, crate::client::CallError>| {
            asked.insert(
                name.into(),
                match r {
                    Ok(_) => json!("ok"),
                    Err(crate::client::CallError::Refused { code, .. }) => json!(code),
                    Err(e) => json!(format!("{e}")),
                },
            );
        };
        note("dukcapil", &ident);
        note("bpjs_kesehatan", &bpjs);
        note("dtsen", &desil);
        note("bkn", &asn);

        let dukcapil = src("Dukcapil", "penduduk");
        facts.identity.source = dukcapil.clone();
        if let Ok(v) = &ident {
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
                facts.person.sex = parsed.nik.as_ref().map(|n| n.sex());
            }
        }
        let found_person = facts.identity.nik_status == NikStatus::Valid
            || facts.identity.nik_status == NikStatus::ExactMismatch;
        if found_person {
            if let Ok(v) = &bpjs {
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
            if let Ok(v) = &desil {
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
            if let Ok(v) = &asn {
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
        }
    }
    let verdict = evaluate(program, &facts);
    Ok(json!({
        "nik": q.nik,
        "program": program_code,
        "verdict": verdict,
        "sources": asked,
    }))
}
