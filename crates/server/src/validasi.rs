//! Kemensos `validasi-penerima` (one recipient) and `validasi-penerima-batch` (a list): the
//! engine's [`Validator`] — linkage, facts, rules, the household ledger, explanations — with
//! the exchange as its source of facts ([`Federated`]): Dukcapil answers who each row is
//! (`pencarian-identitas-batch`, the list's model learnt there on its first chunk) and the
//! population facts, BPJS Kesehatan, DTSEN, BKN and BPJS Ketenagakerjaan their `fakta-*-batch`.
//! The same validator `sinergi validate` runs over one store, so a list gets the verdicts it
//! gets there, a mistyped NIK its suggested NIK, a repeated person DUPLICATE_IN_LIST, a family
//! on a non-combinable programme PROGRAM_OVERLAP (`crate::households`).
//!
//! A registry that cannot be asked (no route, refused, unreachable, timed out) leaves its
//! checks "not checked", with the reason, in the verdict and in `sources`.
//!
//! The validator's stages are synchronous: they run on the blocking pool, each stage blocking
//! on its calls through the runtime.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sinergi_engine::facts::RosterRow;
use sinergi_engine::validator::{Judged, Seen};
use sinergi_engine::{Provenance, Validator};
use sinergi_exchange::{AuditRecord, ClientId, ErrorCode, ServiceId};
use sinergi_model::standard::Table;

use crate::federated::{Context, Federated};
use crate::gateway::{BatchGrant, Ctx, Line, Outcome, decide_batch, finish, record, stream_lines};
use crate::households::ListRow;
use crate::refusal::{Code, ServerCode, refuse};
use crate::state::AppState;

/// The programme when the caller names none.
const DEFAULT_PROGRAM: &str = "PBI_JK";
/// List lines per chunk: one round of calls to the registries, one audit message, one flush.
/// While a chunk is validated, Dukcapil is already asked who the next chunk's rows are
/// ([`Validator::prepare`]). A programme's first chunk is also the sample its linkage model
/// is learnt on (larger chunks change that sample, and with it borderline verdicts).
pub const LIST_CHUNK: usize = 2048;

/// The registries a verdict rests on, by their key in `sources`.
const SOURCES: [(&str, &[Table]); 5] = [
    ("dukcapil", &[Table::Person, Table::Death]),
    ("bpjs_kesehatan", &[Table::HealthMembership]),
    ("dtsen", &[Table::Decile]),
    ("bkn", &[Table::Employment]),
    ("bpjs_ketenagakerjaan", &[Table::Wage]),
];

/// One recipient: the single call's body, or one line of a list. What a row of an officer's
/// list holds (`sinergi validasi` sends every column it read).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Recipient {
    /// The NIK as written.
    #[serde(default)]
    pub nik: String,
    /// The 16 digits the caller's reader made of the NIK cell, when it did.
    #[serde(default)]
    pub nik_terbaca: Option<String>,
    /// The row's number or id in the list (`No`).
    #[serde(default)]
    pub no: Option<Value>,
    /// The row's number when `no` is a text id (`R00000012`): its position in the list.
    #[serde(default)]
    pub no_urut: Option<u64>,
    #[serde(default)]
    pub nama: Option<String>,
    #[serde(default)]
    pub tgl_lahir: Option<String>,
    #[serde(default)]
    pub jenis_kelamin: Option<String>,
    #[serde(default)]
    pub tempat_lahir: Option<String>,
    #[serde(default)]
    pub no_kk: Option<String>,
    #[serde(default)]
    pub alamat: Option<String>,
    /// The village the row states (or, for the single call, the region the list is for).
    #[serde(default)]
    pub kode_wilayah: Option<String>,
    #[serde(default)]
    pub program: Option<String>,
    /// The period (`2026-11`, `2026-Q4`); default the current month (WIB).
    #[serde(default)]
    pub periode: Option<Value>,
    /// The benefit amount in rupiah.
    #[serde(default)]
    pub nominal: Option<Value>,
}

/// A JSON value as text (a string as is, a number as written).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Recipient {
    /// The list row the validator takes. `baris`: the line number, the row number when the
    /// line names none.
    pub(crate) fn row(
        &self,
        baris: u64,
        program: &str,
        period: &str,
        region: Option<&str>,
    ) -> RosterRow {
        let no = self.no.as_ref().and_then(text).unwrap_or_default();
        let sex = self
            .jenis_kelamin
            .as_deref()
            .and_then(crate::pencarian::sex);
        RosterRow {
            row_no: self.no_urut.or_else(|| no.parse().ok()).unwrap_or(baris),
            row_id: no,
            sex,
            birth_place: self.tempat_lahir.clone().unwrap_or_default(),
            program: program.to_string(),
            period: self
                .periode
                .as_ref()
                .and_then(text)
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| period.to_string()),
            nik_raw: self.nik.clone(),
            nik: crate::pencarian::listed_nik(&self.nik, self.nik_terbaca.as_deref()),
            kk: self
                .no_kk
                .as_deref()
                .and_then(|k| sinergi_engine::keymap::id16(k.trim())),
            name: self.nama.clone().unwrap_or_default(),
            birth_date: self
                .tgl_lahir
                .as_deref()
                .and_then(crate::services::norm_date),
            address: self.alamat.clone().unwrap_or_default(),
            village: self
                .kode_wilayah
                .as_deref()
                .or(region)
                .and_then(sinergi_engine::registries::region_number),
            amount: self.nominal.as_ref().and_then(|v| match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }),
        }
    }
}

/// A list row as a line of `validasi-penerima-batch` (what [`Recipient::row`] reads back):
/// every column of the row the validator uses, and the row's number.
pub fn recipient_line(row: &RosterRow) -> Value {
    let mut v = json!({
        "no": if row.row_id.is_empty() { json!(row.row_no) } else { json!(row.row_id) },
        "no_urut": row.row_no,
        "nik": row.nik_raw,
        "nama": row.name,
        "program": row.program,
        "periode": row.period,
    });
    let mut put = |k: &str, x: Option<Value>| {
        if let Some(x) = x {
            v[k] = x;
        }
    };
    put("nik_terbaca", row.nik.map(|n| json!(format!("{n:016}"))));
    put("tgl_lahir", row.birth_date.as_ref().map(|d| json!(d)));
    put(
        "jenis_kelamin",
        row.sex.map(|s| {
            json!(match s {
                sinergi_model::Sex::L => "L",
                sinergi_model::Sex::P => "P",
            })
        }),
    );
    put(
        "tempat_lahir",
        (!row.birth_place.is_empty()).then(|| json!(row.birth_place)),
    );
    put("no_kk", row.kk.map(|k| json!(format!("{k:016}"))));
    put(
        "alamat",
        (!row.address.is_empty()).then(|| json!(row.address)),
    );
    put(
        "kode_wilayah",
        row.village.map(|r| json!(format!("{r:010}"))),
    );
    put("nominal", row.amount.map(|a| json!(a)));
    v
}

/// The current month in WIB (`2026-12`): the period of a recipient that names none.
fn current_period() -> String {
    let secs = crate::now().as_secs() + 7 * 3600;
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m").to_string())
        .unwrap_or_default()
}

/// The answer about one recipient: `{nik, program, periode, verdict, nik_tertaut, nik_saran,
/// skor_saran, tidak_diperiksa, sources}`. The verdict's reasons show a registry value only
/// where `granted` (`crate::disclosure`); a suggested NIK (and a linked NIK that is not the
/// one listed) only with `nik_saran`. `sources`: per registry, `ok` or why it could not be
/// asked.
fn answer(j: Judged, nik: &str, granted: &[String], en: bool) -> Value {
    let Judged {
        row,
        mut rules,
        unasked,
        ..
    } = j;
    crate::disclosure::minimise(&mut rules, granted);
    let ident = crate::disclosure::identity(
        &row.nik_listed,
        row.linked_nik.as_deref(),
        row.suggested_nik.as_deref().zip(row.suggested_score),
        granted,
    );
    let mut sources = Map::new();
    for (key, tables) in SOURCES {
        let why = unasked
            .iter()
            .find(|(t, _)| tables.contains(t))
            .map(|(_, u)| format!("{}: {}", u.why, if en { &u.why_en } else { &u.why_id }));
        sources.insert(key.into(), json!(why.as_deref().unwrap_or("ok")));
    }
    json!({
        "nik": nik,
        "program": row.program,
        "periode": row.period,
        "verdict": rules,
        "nik_tertaut": ident.linked,
        "nik_saran": ident.suggested.as_ref().map(|s| &s.0),
        "skor_saran": ident.suggested.as_ref().map(|s| s.1),
        "tidak_diperiksa": row.not_checked,
        "sources": sources,
    })
}

fn context(ctx: &Ctx) -> Context {
    Context {
        request_id: ctx.request_id.clone(),
        user_id: ctx.user_id.clone(),
        issue: ctx.issue.clone(),
        purpose: ctx.purpose.clone(),
    }
}

/// A validator at this node asking as `me`, over the node's household ledger.
fn validator(
    st: &Arc<AppState>,
    me: &ClientId,
    cx: Context,
    ledger: (Arc<sinergi_engine::ledger::Ledger>, Vec<Provenance>),
    rt: tokio::runtime::Handle,
) -> Validator {
    let answerer = Federated::new(st.clone(), me.clone(), cx, rt);
    Validator::with_answerer(
        Box::new(answerer),
        st.programs.values().cloned().collect(),
        ledger.0,
        &ledger.1,
    )
}

/// Validates one recipient. `me`: the member that provides the service here, also the
/// consumer in the calls to the registries; `granted`: the fields the caller asked for and
/// its agreement grants.
pub(crate) async fn validate(
    st: &Arc<AppState>,
    me: &ClientId,
    body: &[u8],
    ctx: &Ctx,
    granted: &[String],
) -> Result<Value, Code> {
    let r: Recipient =
        crate::services::json_object(body).ok_or(Code::Server(ServerCode::RequestInvalid))?;
    let program = r.program.clone().unwrap_or_else(|| DEFAULT_PROGRAM.into());
    let Some(p) = st.programs.get(&program).cloned() else {
        return Err(ErrorCode::ServiceNotCovered.into());
    };
    let cx = context(ctx);
    let ledger = st
        .households
        .ledger(st, me, &cx, &sinergi_engine::run::exclusions(&programs(st)))
        .await;
    let v = validator(st, me, cx, ledger, tokio::runtime::Handle::current());
    let row = r.row(1, &program, &current_period(), None);
    let (nik, granted, en) = (r.nik.clone(), granted.to_vec(), ctx.en);
    tokio::task::spawn_blocking(move || {
        let j = v.judge_block(&p, std::slice::from_ref(&row), None);
        j.into_iter().next().map(|j| answer(j, &nik, &granted, en))
    })
    .await
    .ok()
    .flatten()
    .ok_or(Code::Server(ServerCode::InternalError))
}

fn programs(st: &AppState) -> Vec<sinergi_rules::Program> {
    st.programs.values().cloned().collect()
}

#[derive(serde::Deserialize, Default)]
struct ListParams {
    /// The programme of every line that names none.
    #[serde(default)]
    program: Option<String>,
    /// The period of every line that names none.
    #[serde(default)]
    periode: Option<String>,
    /// The region the list is for, for every line that names none.
    #[serde(default)]
    kode_wilayah: Option<String>,
    /// Values the verdicts may show (`crate::disclosure::FIELDS`), comma-separated; each
    /// must be granted.
    #[serde(default)]
    fields: Option<String>,
}

fn line_invalid_message(en: bool) -> &'static str {
    if en {
        "This line is not a recipient in JSON (an object with nik, nama, tgl_lahir, ...). Fix the line and send it again; the other lines are answered."
    } else {
        "Baris ini bukan data penerima dalam format JSON (objek dengan nik, nama, tgl_lahir, ...). Perbaiki baris ini dan kirim ulang; baris lain tetap diproses."
    }
}

/// A list being validated: one validator per programme its lines name (each learns its
/// model on its first chunk), the first row of each person per programme (DUPLICATE_IN_LIST
/// across chunks).
struct List {
    st: Arc<AppState>,
    ix: Arc<crate::index::Index>,
    grant: Arc<BatchGrant>,
    me: ClientId,
    cx: Context,
    rt: tokio::runtime::Handle,
    ledger: (Arc<sinergi_engine::ledger::Ledger>, Vec<Provenance>),
    program: String,
    period: String,
    region: Option<String>,
    running: BTreeMap<String, (Validator, Seen)>,
    /// The list's lines, and how many of them earlier chunks took.
    all: Vec<Line>,
    pos: usize,
    /// The next chunk's lines decided ahead (at `pos`), their identity asked ahead.
    ahead: Option<(usize, Vec<Item>)>,
}

/// The rows each programme's validator is given, with their place in the chunk.
fn by_program(items: &[Item]) -> BTreeMap<String, (Vec<usize>, Vec<RosterRow>)> {
    let mut out: BTreeMap<String, (Vec<usize>, Vec<RosterRow>)> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        if let Item::Asked { program, row, .. } = it {
            let e = out.entry(program.clone()).or_default();
            e.0.push(i);
            e.1.push((**row).clone());
        }
    }
    out
}

/// One line of a chunk, decided.
enum Item {
    /// Answered as is (not a recipient, or refused).
    Done(Value, Outcome),
    /// To validate: its programme, row and the NIK as written.
    Asked {
        program: String,
        row: Box<RosterRow>,
        nik: String,
        outcome: Outcome,
    },
}

impl List {
    fn item(&self, Line { baris, bytes }: &Line, lang: &str, en: bool) -> Item {
        let Some(r) = crate::services::json_object::<Recipient>(bytes) else {
            let code = ServerCode::RequestInvalid;
            return Item::Done(
                json!({"baris": baris, "code": code.code(), "message": line_invalid_message(en)}),
                Outcome::refused(code.into(), "body"),
            );
        };
        let refused = |code: ErrorCode, o| {
            Item::Done(
                json!({"baris": baris, "nik": r.nik, "code": code.code(), "message": code.message(lang)}),
                o,
            )
        };
        let outcome = match self.grant.line(&self.st, &self.ix, &r.nik) {
            Ok(o) => o,
            Err((code, o)) => return refused(code, o),
        };
        let program = r.program.clone().unwrap_or_else(|| self.program.clone());
        if !self.st.programs.contains_key(&program) {
            let code = ErrorCode::ServiceNotCovered;
            let o = Outcome {
                status: code.http_status(),
                decision: code.code().into(),
                ..outcome
            };
            return refused(code, o);
        }
        let row = r.row(*baris, &program, &self.period, self.region.as_deref());
        Item::Asked {
            program,
            row: Box::new(row),
            nik: r.nik,
            outcome,
        }
    }

    /// The answer lines and audit records of a chunk; its rows go into the ledger.
    fn chunk(&mut self, ctx: &Ctx, chunk: Vec<Line>) -> (Vec<u8>, Vec<AuditRecord>) {
        let lang = if ctx.en { "en" } else { "id" };
        let at_pos = self.all.get(self.pos).map(|l| l.baris) == chunk.first().map(|l| l.baris);
        let items: Vec<Item> = match self.ahead.take() {
            Some((pos, items)) if at_pos && pos == self.pos && items.len() == chunk.len() => items,
            _ => chunk.iter().map(|l| self.item(l, lang, ctx.en)).collect(),
        };
        self.pos = if at_pos {
            self.pos + chunk.len()
        } else {
            usize::MAX
        };
        // Per programme, its rows in list order; a programme's first chunk learns its model.
        let groups = by_program(&items);
        for (program, (_, rows)) in &groups {
            if !self.running.contains_key(program) && self.st.programs.contains_key(program) {
                let mut v = validator(
                    &self.st,
                    &self.me,
                    self.cx.clone(),
                    self.ledger.clone(),
                    self.rt.clone(),
                );
                v.train(rows);
                self.running.insert(program.clone(), (v, Seen::new()));
            }
        }
        // The next chunk: its lines decided now, Dukcapil asked who its rows are while this
        // chunk's facts are gathered.
        if let Some(next) = self.all.get(self.pos..) {
            let next = &next[..next.len().min(LIST_CHUNK)];
            if !next.is_empty() {
                let items: Vec<Item> = next.iter().map(|l| self.item(l, lang, ctx.en)).collect();
                for (program, (_, rows)) in by_program(&items) {
                    if let Some((v, _)) = self.running.get(&program) {
                        v.prepare(&rows);
                    }
                }
                self.ahead = Some((self.pos, items));
            }
        }
        let mut judged: Vec<Option<Judged>> = (0..items.len()).map(|_| None).collect();
        for (program, (at, rows)) in groups {
            let Some(p) = self.st.programs.get(&program).cloned() else {
                continue;
            };
            let Some((v, seen)) = self.running.get_mut(&program) else {
                continue;
            };
            for (i, j) in at.into_iter().zip(v.judge_block(&p, &rows, Some(seen))) {
                judged[i] = Some(j);
            }
        }
        let mut out = Vec::with_capacity(items.len() * 1024);
        let mut recs = Vec::with_capacity(items.len());
        let mut ledger_rows = Vec::with_capacity(items.len());
        for (it, j) in items.iter().zip(&judged) {
            if let (Item::Asked { program, row, .. }, Some(j)) = (it, j) {
                ledger_rows.push(ListRow {
                    program,
                    period: &row.period,
                    household: j.household,
                    amount: row.amount.unwrap_or(0),
                    village: row.village.unwrap_or(0),
                });
            }
        }
        self.st.households.record(&ctx.request_id, &ledger_rows);
        drop(ledger_rows);
        for ((it, j), line) in items.into_iter().zip(judged).zip(&chunk) {
            let (v, o) = match (it, j) {
                (Item::Done(v, o), _) => (v, o),
                (Item::Asked { nik, outcome, .. }, Some(j)) => {
                    let mut v = answer(j, &nik, &self.grant.granted, ctx.en);
                    v["baris"] = json!(line.baris);
                    (v, outcome)
                }
                (Item::Asked { nik, outcome, .. }, None) => {
                    let code = ErrorCode::ServiceNotCovered;
                    (
                        json!({"baris": line.baris, "nik": nik, "code": code.code(), "message": code.message(lang)}),
                        Outcome {
                            status: code.http_status(),
                            decision: code.code().into(),
                            ..outcome
                        },
                    )
                }
            };
            serde_json::to_writer(&mut out, &v).ok();
            out.push(b'\n');
            recs.push(record(&self.st, ctx, &o));
        }
        (out, recs)
    }
}

/// `validasi-penerima-batch`: one call-level decision for the list, then the list's lines in
/// chunks, each validated by the engine's validator (one round of calls to the registries per
/// chunk); every line is answered as the single call answers (plus `baris`), or `{baris,
/// code, message}` when it cannot be validated. One audit entry per line, with its subject
/// hash, durable before the line is sent.
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
    let cx = context(&ctx);
    let ledger = st
        .households
        .ledger(
            &st,
            &me,
            &cx,
            &sinergi_engine::run::exclusions(&programs(&st)),
        )
        .await;
    let list = Arc::new(Mutex::new(List {
        st: st.clone(),
        ix: st.index(),
        grant,
        me,
        cx,
        rt: tokio::runtime::Handle::current(),
        ledger,
        program,
        period: params
            .periode
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(current_period),
        region: params.kode_wilayah,
        running: BTreeMap::new(),
        all: crate::gateway::split_lines(&body),
        pos: 0,
        ahead: None,
    }));
    stream_lines(st, Arc::new(ctx), body, LIST_CHUNK, move |chunk, ctx| {
        let list = list.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut list = list.lock().unwrap_or_else(|e| e.into_inner());
                list.chunk(&ctx, chunk)
            })
            .await
            .ok()
        }
    })
}
