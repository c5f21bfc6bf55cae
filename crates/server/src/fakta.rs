//! The registries' side of federated validation: each registry's node answers the engine's
//! questions about a linked person with the engine's own functions over its own data
//! ([`sinergi_engine::embedded::Embedded`]), so a Kemensos node validating over the exchange
//! reaches the verdicts `sinergi validate` reaches over one store.
//!
//! - `fakta-penduduk-batch` (Dukcapil): [`PopulationQuestion`] lines → `{"ditemukan", "jawaban":
//!   PopulationAnswer}` (KK, village, head, sex, age, family size, the head's NIK when asked,
//!   death).
//! - `fakta-kepesertaan-batch` (BPJS Kesehatan), `fakta-desil-batch` (BPS DTSEN),
//!   `fakta-asn-batch` (BKN, TNI/Polri), `fakta-upah-batch` (BPJS Ketenagakerjaan):
//!   [`RegistryQuestion`] lines → `{"jawaban": ...}` holding only that registry's part of
//!   `RegistryAnswers`.
//!
//! Decided like every batch (one call-level decision, the region per line against the
//! subject's registered region), one audit entry per line with the subject's keyed hash,
//! durable before the line leaves. The single codes answer as a batch of the lines sent.

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use serde::Serialize;
use serde_json::json;
use sinergi_engine::answers::{
    PopulationAnswer, PopulationQuestion, RegistryAnswers, RegistryQuestion,
};
use sinergi_engine::embedded::Embedded;
use sinergi_exchange::{AuditRecord, ClientId, ServiceId};

use crate::gateway::{BatchGrant, Ctx, Line, Outcome, decide_batch, record, stream_lines};
use crate::refusal::ServerCode;
use crate::services::Kind;
use crate::state::AppState;

const CHUNK: usize = 2048;

/// Answers a batch of fact questions for `kind` (one of the `fakta-*` services).
pub(crate) async fn facts_batch(
    st: Arc<AppState>,
    mut ctx: Ctx,
    client: ClientId,
    service: ServiceId,
    kind: Kind,
    body: Bytes,
) -> Response {
    let persons = crate::gateway::count_lines(&body);
    let grant = match decide_batch(&st, &mut ctx, client, service, Vec::new(), persons).await {
        Ok(g) => Arc::new(g),
        Err(refused) => return refused,
    };
    let Some(reg) = st.identity() else {
        return crate::gateway::refuse_audited(&st, &ctx, ServerCode::InternalError, "index").await;
    };
    let st2 = st.clone();
    stream_lines(st, Arc::new(ctx), body, CHUNK, move |chunk, ctx| {
        let (st, reg, grant) = (st2.clone(), reg.clone(), grant.clone());
        async move {
            tokio::task::spawn_blocking(move || answer_chunk(&st, &ctx, &reg, &grant, kind, chunk))
                .await
                .ok()
        }
    })
}

fn answer_chunk(
    st: &AppState,
    ctx: &Ctx,
    reg: &Embedded,
    grant: &BatchGrant,
    kind: Kind,
    chunk: Vec<Line>,
) -> (Vec<u8>, Vec<AuditRecord>) {
    use rayon::prelude::*;
    let ix = st.index();
    let lang = if ctx.en { "en" } else { "id" };
    // Each line answered and written out on its own (in parallel), then joined in order.
    let answers: Vec<(Vec<u8>, Outcome)> = chunk
        .par_iter()
        .map(|Line { baris, bytes }| {
            let mut out = Vec::with_capacity(256);
            let o = match answer_line(st, &ix, reg, grant, kind, bytes) {
                Ok((Answer::Population(a), o)) => {
                    let line = PopulationLine {
                        ditemukan: a.is_some(),
                        jawaban: a.as_ref(),
                        baris: *baris,
                    };
                    serde_json::to_writer(&mut out, &line).ok();
                    o
                }
                Ok((Answer::Registry(a), o)) => {
                    let line = RegistryLine {
                        jawaban: &a,
                        baris: *baris,
                    };
                    serde_json::to_writer(&mut out, &line).ok();
                    o
                }
                Err(Refused::Line(code, o)) => {
                    let v = json!({"code": code.code(), "message": code.message(lang), "baris": baris});
                    serde_json::to_writer(&mut out, &v).ok();
                    o
                }
                Err(Refused::Invalid) => {
                    let code = ServerCode::RequestInvalid;
                    let v = json!({"code": code.code(), "message": code.message(ctx.en), "baris": baris});
                    serde_json::to_writer(&mut out, &v).ok();
                    Outcome::refused(code.into(), "body")
                }
            };
            out.push(b'\n');
            (out, o)
        })
        .collect();
    let mut out = Vec::with_capacity(answers.iter().map(|(l, _)| l.len()).sum());
    let mut recs = Vec::with_capacity(answers.len());
    for (line, o) in answers {
        out.extend_from_slice(&line);
        recs.push(record(st, ctx, &o));
    }
    (out, recs)
}

/// `fakta-penduduk-batch`'s answer line.
#[derive(Serialize)]
struct PopulationLine<'a> {
    ditemukan: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    jawaban: Option<&'a PopulationAnswer>,
    baris: u64,
}

/// The other `fakta-*-batch` services' answer line.
#[derive(Serialize)]
struct RegistryLine<'a> {
    jawaban: &'a RegistryAnswers,
    baris: u64,
}

/// What a line is answered.
enum Answer {
    Population(Option<PopulationAnswer>),
    Registry(Box<RegistryAnswers>),
}

/// Why a line is not answered.
enum Refused {
    /// Not a question of this service.
    Invalid,
    /// Refused under the agreement (the region).
    Line(sinergi_exchange::ErrorCode, Outcome),
}

fn answer_line(
    st: &AppState,
    ix: &crate::index::Index,
    reg: &Embedded,
    grant: &BatchGrant,
    kind: Kind,
    bytes: &[u8],
) -> Result<(Answer, Outcome), Refused> {
    let invalid = || Refused::Invalid;
    if kind == Kind::FaktaPenduduk {
        let q: PopulationQuestion = crate::services::json_object(bytes).ok_or_else(invalid)?;
        let o = grant
            .line(st, ix, &format!("{:016}", q.nik))
            .map_err(|(c, o)| Refused::Line(c, o))?;
        return Ok((Answer::Population(reg.population_one(&q)), o));
    }
    let q: RegistryQuestion = crate::services::json_object(bytes).ok_or_else(invalid)?;
    let o = grant
        .line(st, ix, &format!("{:016}", q.nik))
        .map_err(|(c, o)| Refused::Line(c, o))?;
    let a = reg.registries_one(&q);
    Ok((Answer::Registry(Box::new(part(kind, a))), o))
}

/// Only the asked registry's part of the answers.
pub(crate) fn part(kind: Kind, a: RegistryAnswers) -> RegistryAnswers {
    let mut p = RegistryAnswers::default();
    take_part(&mut p, kind, a);
    p
}

/// Moves the part of `from` that registry service `kind` answers into `into`: the one place
/// that says which answer fields belong to which registry (the node answering a `fakta-*`
/// service sends only its part; the asking node merges the parts).
pub(crate) fn take_part(into: &mut RegistryAnswers, kind: Kind, from: RegistryAnswers) {
    match kind {
        Kind::FaktaKepesertaan => into.bpjs = from.bpjs,
        Kind::FaktaDesil => into.dtsen = from.dtsen,
        Kind::FaktaAsn => {
            into.civil_servant = from.civil_servant;
            into.head_civil_servant = from.head_civil_servant;
        }
        Kind::FaktaUpah => {
            into.wage = from.wage;
            into.head_wage = from.head_wage;
        }
        _ => {}
    }
}
