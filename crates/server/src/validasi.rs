//! Kemensos `validasi-penerima` and `validasi-penerima-batch`: the eligibility of one
//! recipient, or of a list, gathered over signed HTTP from the registries' nodes (Dukcapil,
//! BPJS Kesehatan, DTSEN, BKN) and evaluated with the programme's rules
//! (`sinergi_rules::evaluate`).
//!
//! The engine's `Validator` works on a whole roster against registries in one store; a
//! federated node holds none of the other agencies' data, so here each fact is asked of its
//! owner under the agreements, and a registry that cannot be asked (no route, refused,
//! unreachable) leaves its fact `NotChecked`, which the rules list in `not_checked` rather
//! than guessing.
//!
//! One person asks each registry's single service; a list asks each registry's `-batch`
//! service once per chunk of lines, the four concurrently. Both turn the answers into
//! [`Facts`] with the same code ([`Recipient::facts`]), so a list line's verdict is the one
//! the single call gives, plus `DUPLICATE_IN_LIST` for a NIK already on an earlier line.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use serde_json::{Map, Value, json};
use sinergi_exchange::{AuditRecord, ClientId, ErrorCode, ServiceId};
use sinergi_model::{Nik, NikParse, RegionCode};
use sinergi_rules::{
    BpjsMembership, BpjsSegment, CivilServant, CivilServantKind, Death, Dtsen, Facts, Lookup,
    NikStatus, Source, evaluate,
};

use crate::client::{CallError, CallMeta, call, call_batch};
use crate::gateway::{Ctx, Line, Outcome, decide_batch, finish, record, stream_lines};
use crate::refusal::{ServerCode, refuse};
use crate::services::Query;
use crate::state::AppState;

/// The programme when the caller names none.
const DEFAULT_PROGRAM: &str = "PBI_JK";
/// List lines per chunk: one batch call to each registry, one audit message, one flush.
const LIST_CHUNK: usize = 2048;

/// A registry asked about each recipient: its service, its key in `sources`, and the fields
/// asked of it (granted under Kemensos's agreement with its owner).
struct Registry {
    service: &'static str,
    batch_service: &'static str,
    source: &'static str,
    fields: &'static [&'static str],
}

/// In the order of [`Answers`].
const REGISTRIES: [Registry; 4] = [
    Registry {
        service: "verifikasi-identitas",
        batch_service: "verifikasi-identitas-batch",
        source: "dukcapil",
        fields: &["kode_wilayah", "tgl_kematian"],
    },
    Registry {
        service: "status-kepesertaan",
        batch_service: "status-kepesertaan-batch",
        source: "bpjs_kesehatan",
        fields: &["segmen", "katastropik"],
    },
    Registry {
        service: "desil",
        batch_service: "desil-batch",
        source: "dtsen",
        fields: &["desil"],
    },
    Registry {
        service: "status-asn",
        batch_service: "status-asn-batch",
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
        let nik = self.q.nik.trim_matches(|c: char| c.is_ascii_whitespace());
        (!nik.is_empty() && self.parsed.is_valid()).then_some(nik)
    }

    /// The person, for duplicates in a list: the valid NIK (as the engine keys its rows).
    fn key(&self) -> Option<String> {
        self.parsed.nik.as_ref().map(|n| n.as_str().to_owned())
    }

    /// The question to registry `i` about this recipient; `fields` ride in the body of a
    /// single call and on the URL of a batch.
    fn question(&self, i: usize, nik: &str) -> Value {
        if i == 0 {
            json!({"nik": nik, "nama": self.q.nama, "tgl_lahir": self.q.tgl_lahir})
        } else {
            json!({"nik": nik})
        }
    }

    /// The rules' facts from the registries' answers (`None`: nothing was asked, the NIK is
    /// missing or invalid). `row` is the line number, `duplicate_of_row` the earlier line of
    /// the same person in a list, `list_region` the region the list is for.
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
    /// `ok` or why not. The programme was checked when the recipient was taken. The verdict
    /// shows the registries' values only where `granted` (`crate::disclosure`).
    fn answer(
        &self,
        st: &AppState,
        facts: &Facts,
        answers: Option<&Answers<'_>>,
        granted: &[String],
    ) -> Value {
        let mut sources = Map::new();
        for (r, a) in REGISTRIES.iter().zip(answers.into_iter().flatten()) {
            let v = match a {
                Ok(_) => json!("ok"),
                Err(why) => json!(why),
            };
            sources.insert(r.source.into(), v);
        }
        let verdict = st.programs.get(&self.program_code).map(|p| {
            let mut v = evaluate(p, facts);
            crate::disclosure::minimise(&mut v, granted);
            v
        });
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
/// service here; it is also the consumer in the calls to the registries. `granted`: the
/// fields the caller asked for and its agreement grants.
pub(crate) async fn validate(
    st: &AppState,
    me: &ClientId,
    q: &Query,
    ctx: &Ctx,
    granted: &[String],
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
    Ok(r.answer(st, &facts, answers.as_ref(), granted))
}

#[derive(serde::Deserialize, Default)]
struct ListParams {
    /// The programme of every line that names none.
    #[serde(default)]
    program: Option<String>,
    /// The region the list is for, for every line that names none.
    #[serde(default)]
    kode_wilayah: Option<String>,
    /// Values the verdicts may show (`crate::disclosure::FIELDS`), comma-separated; each
    /// must be granted.
    #[serde(default)]
    fields: Option<String>,
}

/// One list line, decided.
enum Item {
    /// Not a recipient: not JSON, or not the shape of one.
    Invalid { baris: u64 },
    /// Refused under the agreement or the programmes (OUT_OF_REGION, SERVICE_NOT_COVERED).
    Refused {
        baris: u64,
        nik: String,
        code: ErrorCode,
        outcome: Outcome,
    },
    /// To validate.
    Asked {
        baris: u64,
        recipient: Box<Recipient>,
        duplicate_of_row: Option<u64>,
        outcome: Outcome,
    },
}

fn line_invalid_message(en: bool) -> &'static str {
    if en {
        "This line is not a recipient in JSON (an object with nik, nama, tgl_lahir, ...). Fix the line and send it again; the other lines are answered."
    } else {
        "Baris ini bukan data penerima dalam format JSON (objek dengan nik, nama, tgl_lahir, ...). Perbaiki baris ini dan kirim ulang; baris lain tetap diproses."
    }
}

/// `validasi-penerima-batch`: one call-level decision for the list, then the list's lines in
/// chunks; per chunk each registry's batch service is asked once (the four concurrently), and
/// every line is answered `{baris, nik, program, verdict, sources}` (the single answer plus
/// its line number), or `{baris, code, message}` when it cannot be validated. One audit entry
/// per line, with its subject hash, durable before the line is sent.
pub(crate) async fn validate_batch(
    st: Arc<AppState>,
    mut ctx: Ctx,
    client: ClientId,
    service: ServiceId,
    query: Option<String>,
    body: Bytes,
) -> Response {
    let params: ListParams = crate::gateway::batch_params(query.as_deref());
    let me = service.client.clone();
    let fields = crate::gateway::field_list(params.fields.as_deref());
    let persons = crate::gateway::count_lines(&body);
    let grant = match decide_batch(&st, &mut ctx, client, service, fields, persons).await {
        Ok(g) => Arc::new(g),
        Err(refused) => return refused,
    };
    let program = params.program.unwrap_or_else(|| DEFAULT_PROGRAM.into());
    if !st.programs.contains_key(&program) {
        let code = ErrorCode::ServiceNotCovered;
        let o = Outcome {
            status: code.http_status(),
            decision: code.code().into(),
            ..grant.allowed(None)
        };
        return finish(&st, &ctx, o, refuse(code, ctx.en, None)).await;
    }
    let list_region = params.kode_wilayah;
    let ix = st.index();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let st2 = st.clone();
    stream_lines(st, Arc::new(ctx), body, LIST_CHUNK, move |chunk, ctx| {
        // In list order: the line's access, its programme, and the first line of each person.
        let items: Vec<Item> = chunk
            .into_iter()
            .map(|Line { baris, bytes }| {
                let Some(q) = crate::services::json_object::<Query>(&bytes) else {
                    return Item::Invalid { baris };
                };
                let refused = |code, outcome| Item::Refused {
                    baris,
                    nik: q.nik.clone(),
                    code,
                    outcome,
                };
                let outcome = match grant.line(&st2, &ix, &q.nik) {
                    Ok(o) => o,
                    Err((code, o)) => return refused(code, o),
                };
                let program_code = q.program.clone().unwrap_or_else(|| program.clone());
                if !st2.programs.contains_key(&program_code) {
                    let code = ErrorCode::ServiceNotCovered;
                    let o = Outcome {
                        status: code.http_status(),
                        decision: code.code().into(),
                        ..outcome
                    };
                    return refused(code, o);
                }
                let recipient = Recipient::new(q, program_code);
                let duplicate_of_row = recipient.key().and_then(|k| match seen.get(&k) {
                    Some(first) => Some(*first),
                    None => {
                        seen.insert(k, baris);
                        None
                    }
                });
                Item::Asked {
                    baris,
                    recipient: Box::new(recipient),
                    duplicate_of_row,
                    outcome,
                }
            })
            .collect();
        let (st, me, list_region) = (st2.clone(), me.clone(), list_region.clone());
        let grant = grant.clone();
        async move {
            let answers = ask_registries(&st, &me, &ctx, &items).await;
            tokio::task::spawn_blocking(move || {
                let region = list_region.as_deref();
                answer_chunk(&st, &ctx, items, &answers, region, &grant.granted)
            })
            .await
            .ok()
        }
    })
}

/// One registry's batch answer for a chunk: the answer lines (one per asked line, in order)
/// or why the registry could not be asked.
type ChunkAnswer = Result<Vec<Value>, String>;

/// Asks each registry's batch service about the chunk's askable lines, the four concurrently.
async fn ask_registries(
    st: &AppState,
    me: &ClientId,
    ctx: &Ctx,
    items: &[Item],
) -> [ChunkAnswer; 4] {
    let asked: Vec<(&Recipient, &str)> = items
        .iter()
        .filter_map(|i| match i {
            Item::Asked { recipient, .. } => recipient.nik().map(|n| (&**recipient, n)),
            _ => None,
        })
        .collect();
    if asked.is_empty() {
        return std::array::from_fn(|_| Ok(Vec::new()));
    }
    let meta = meta(ctx);
    let ask = |i: usize| {
        let lines: Vec<Value> = asked.iter().map(|(r, nik)| r.question(i, nik)).collect();
        let query = format!("fields={}", REGISTRIES[i].fields.join(","));
        let meta = &meta;
        async move {
            call_batch(st, me, REGISTRIES[i].batch_service, &query, &lines, meta)
                .await
                .map_err(|e| note(&e))
        }
    };
    let (a, b, c, d) = tokio::join!(ask(0), ask(1), ask(2), ask(3));
    [a, b, c, d]
}

/// The answer lines and audit records of a chunk. `answers[r][k]` is registry `r`'s answer
/// about the chunk's `k`-th askable line.
fn answer_chunk(
    st: &AppState,
    ctx: &Ctx,
    items: Vec<Item>,
    answers: &[ChunkAnswer; 4],
    list_region: Option<&str>,
    granted: &[String],
) -> (Vec<u8>, Vec<AuditRecord>) {
    let lang = if ctx.en { "en" } else { "id" };
    let mut out = Vec::with_capacity(items.len() * 1024);
    let mut recs = Vec::with_capacity(items.len());
    let mut k = 0;
    for item in items {
        let (line, o) = match item {
            Item::Invalid { baris } => {
                let code = ServerCode::RequestInvalid;
                (
                    json!({"baris": baris, "code": code.code(), "message": line_invalid_message(ctx.en)}),
                    Outcome::refused(code.into(), "body"),
                )
            }
            Item::Refused {
                baris,
                nik,
                code,
                outcome,
            } => (
                json!({"baris": baris, "nik": nik, "code": code.code(), "message": code.message(lang)}),
                outcome,
            ),
            Item::Asked {
                baris,
                recipient,
                duplicate_of_row,
                outcome,
            } => {
                let line_answers: Option<Answers<'_>> = recipient.nik().map(|_| {
                    let at = k;
                    k += 1;
                    [0, 1, 2, 3].map(|r| match &answers[r] {
                        Err(why) => Err(why.clone()),
                        Ok(lines) => match lines.get(at) {
                            None => Err(ServerCode::UpstreamUnavailable.code().to_owned()),
                            Some(v) => match s(v, "code") {
                                Some(code) => Err(code.to_owned()),
                                None => Ok(v),
                            },
                        },
                    })
                });
                let region = recipient.q.kode_wilayah.as_deref().or(list_region);
                let facts = recipient.facts(baris, duplicate_of_row, region, line_answers.as_ref());
                let mut v = recipient.answer(st, &facts, line_answers.as_ref(), granted);
                v["baris"] = json!(baris);
                (v, outcome)
            }
        };
        serde_json::to_writer(&mut out, &line).ok();
        out.push(b'\n');
        recs.push(record(st, ctx, &o));
    }
    (out, recs)
}
