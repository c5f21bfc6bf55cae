//! Dukcapil `pencarian-identitas` and `pencarian-identitas-batch`: what a list row holds (the
//! NIK as written, name, birth date, sex, birth place, region) in, at most
//! [`sinergi_engine::embedded::MAX_CANDIDATES`] candidate NIKs out, each with its match
//! probability (and per-field agreement levels when the agreement grants `bukti`), plus the
//! engine's identity answer that validation uses. Never a name, address or any other value of
//! the registry: the caller learns which NIK belongs to the person it already described, not
//! what the registry holds (docs/EXCHANGE.md, "NIK recovery").
//!
//! The linkage model (Fellegi–Sunter weights) stays here, with the data: a list's first
//! call may ask to learn it on its lines (`latih=true`); the model is kept at this node under
//! an id every answer line of that call carries (`model`), which later calls of the same list
//! name (`model=`). The caller never sees the weights.
//!
//! Access: one call-level decision under the agreements (status, validity, service, purpose,
//! fields, quota: one person per line), then per line the region scope, against the registry
//! domicile of the person found (or the region the row states when nobody is found): a
//! person outside the agreement's regions is refused OUT_OF_REGION with no candidate. Every
//! line is audited with the keyed hash of the person it is about (the person found, else the
//! NIK as written), durable before the answer leaves.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sinergi_engine::answers::IdentityQuestion;
use sinergi_engine::embedded::{Embedded, Search};
use sinergi_exchange::audit::subject_hash;
use sinergi_exchange::{AuditRecord, ClientId, ErrorCode, ServiceId};
use sinergi_linkage::Params;

use crate::gateway::{BatchGrant, Ctx, Line, Outcome, decide_batch, finish, record, stream_lines};
use crate::refusal::{ServerCode, refuse};
use crate::state::AppState;

/// Lines per chunk of a batch (one audit message, one flush).
const CHUNK: usize = 2048;
/// Models kept per node (the oldest goes first).
const MODELS_KEPT: usize = 64;
/// The field that shows each candidate's per-field evidence.
const EVIDENCE: &str = "bukti";

/// One search: what a list row holds.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchQuery {
    /// The NIK as written.
    #[serde(default)]
    pub nik: String,
    /// The 16 digits the caller's reader made of the cell, when it did (a list read through
    /// Sinergi's roster mapping); else the node parses `nik`.
    #[serde(default)]
    pub nik_terbaca: Option<String>,
    #[serde(default)]
    pub nama: String,
    /// `YYYY-MM-DD` (other layouts agencies write are read too).
    #[serde(default)]
    pub tgl_lahir: Option<String>,
    #[serde(default)]
    pub jenis_kelamin: Option<String>,
    /// Accepted, not used by the linkage model (the registry's birth place is free text).
    #[serde(default)]
    pub tempat_lahir: Option<String>,
    /// The village code the row states.
    #[serde(default)]
    pub kode_wilayah: Option<String>,
    /// The family card number (KK) the row states.
    #[serde(default)]
    pub no_kk: Option<String>,
    /// `bukti`: show each candidate's evidence (must be granted).
    #[serde(default)]
    pub fields: Vec<String>,
}

/// The NIK a list row states, as a number: the 16 digits the caller's reader made of the
/// cell (`nik_terbaca`), else the cell itself when it is a valid NIK.
pub(crate) fn listed_nik(nik: &str, terbaca: Option<&str>) -> Option<u64> {
    match terbaca {
        Some(n) => crate::index::nik_key(n),
        None => sinergi_model::Nik::parse(nik.trim())
            .nik
            .and_then(|n| n.as_str().parse().ok()),
    }
}

/// `L`/`P` (also `1`/`2`, `LAKI-LAKI`/`PEREMPUAN`) as a sex; anything else is not stated.
pub(crate) fn sex(s: &str) -> Option<sinergi_model::Sex> {
    match crate::services::norm_sex(s).as_str() {
        "L" => Some(sinergi_model::Sex::L),
        "P" => Some(sinergi_model::Sex::P),
        _ => None,
    }
}

impl SearchQuery {
    /// The engine's identity question.
    pub fn question(&self) -> IdentityQuestion {
        IdentityQuestion {
            nik_raw: self.nik.clone(),
            nik: listed_nik(&self.nik, self.nik_terbaca.as_deref()),
            name: self.nama.clone(),
            birth_date: self
                .tgl_lahir
                .as_deref()
                .and_then(crate::services::norm_date),
            region: self
                .kode_wilayah
                .as_deref()
                .and_then(sinergi_engine::registries::region_number),
            sex: self.jenis_kelamin.as_deref().and_then(sex),
            kk: self.no_kk.as_deref().and_then(crate::index::nik_key),
        }
    }
}

/// The models lists taught this node, by id.
#[derive(Default)]
pub struct Models {
    kept: std::sync::Mutex<VecDeque<(String, Arc<Params>)>>,
}

impl Models {
    fn get(&self, id: &str) -> Option<Arc<Params>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter().find(|(k, _)| k == id).map(|(_, p)| p.clone())
    }

    fn put(&self, params: Params) -> (String, Arc<Params>) {
        let id = sinergi_exchange::httpsig::new_nonce()
            .unwrap_or_else(|_| format!("{}", crate::now().0));
        let params = Arc::new(params);
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= MODELS_KEPT {
            kept.pop_front();
        }
        kept.push_back((id.clone(), params.clone()));
        (id, params)
    }
}

#[derive(Deserialize, Default)]
struct BatchQuery {
    #[serde(default)]
    fields: Option<String>,
    #[serde(default)]
    latih: Option<bool>,
    #[serde(default)]
    model: Option<String>,
}

/// The person a search found (linked or suggested), for the region scope and the audit.
fn found(s: &Search) -> Option<u64> {
    s.answer
        .person
        .or(s.answer.suggestion.map(|x| x.0))
        .or_else(|| s.candidates.first().and_then(|c| c.nik.parse().ok()))
}

/// The answer of one search line, and its audit outcome: refused OUT_OF_REGION (with no
/// candidate) when the person found lives outside the agreement's regions.
fn answer_line(
    st: &AppState,
    ix: &Embedded,
    grant: &BatchGrant,
    q: &SearchQuery,
    params: Option<&Params>,
) -> Result<(Value, Outcome), (ErrorCode, Outcome)> {
    let question = q.question();
    let s = ix.search(&question, params);
    let person = found(&s);
    let subject = person
        .or(question.nik)
        .map(|n| subject_hash(&st.secret, &format!("{n:016}")));
    let region = match person {
        Some(n) => ix
            .data()
            .persons
            .get(n)
            .map(|p| format!("{:010}", p.village())),
        None => q.kode_wilayah.clone(),
    };
    if let Err((code, mut o)) = grant.region(region.as_deref()) {
        o.subject = subject;
        return Err((code, o));
    }
    let evidence =
        grant.granted.iter().any(|f| f == EVIDENCE) && q.fields.iter().any(|f| f == EVIDENCE);
    let kandidat: Vec<Value> = s
        .candidates
        .iter()
        .map(|c| {
            let mut v = json!({"nik": c.nik, "skor": c.score});
            if evidence {
                v["bukti"] = json!(c.evidence);
            }
            v
        })
        .collect();
    let status = if s.answer.person.is_some() && s.answer.suggestion.is_none() {
        "DITEMUKAN"
    } else if s.answer.suggestion.is_some() {
        "SARAN"
    } else if !s.candidates.is_empty() {
        "MUNGKIN"
    } else {
        "TIDAK_DITEMUKAN"
    };
    let v = json!({"status": status, "identitas": s.answer, "kandidat": kandidat});
    Ok((v, grant.allowed(subject)))
}

/// `pencarian-identitas`: one row.
pub(crate) async fn search(
    st: Arc<AppState>,
    mut ctx: Ctx,
    client: ClientId,
    service: ServiceId,
    body: Bytes,
) -> Response {
    let Some(q) = crate::services::json_object::<SearchQuery>(&body) else {
        return crate::gateway::refuse_audited(&st, &ctx, ServerCode::RequestInvalid, "body").await;
    };
    let grant = match decide_batch(&st, &mut ctx, client, service, q.fields.clone(), 1).await {
        Ok(g) => g,
        Err(refused) => return refused,
    };
    let Some(ix) = st.identity() else {
        return crate::gateway::refuse_audited(&st, &ctx, ServerCode::InternalError, "index").await;
    };
    let st2 = st.clone();
    let done = tokio::task::spawn_blocking(move || answer_line(&st2, &ix, &grant, &q, None)).await;
    match done {
        Ok(Ok((v, o))) => finish(&st, &ctx, o, axum::Json(v).into_response()).await,
        Ok(Err((code, o))) => finish(&st, &ctx, o, refuse(code, ctx.en, None)).await,
        Err(_) => {
            crate::gateway::refuse_audited(&st, &ctx, ServerCode::InternalError, "search").await
        }
    }
}

/// `pencarian-identitas-batch`: NDJSON rows in, one answer line per row out (`baris` added),
/// or `{baris, code, message}` for a line that is refused or not a row.
pub(crate) async fn search_batch(
    st: Arc<AppState>,
    mut ctx: Ctx,
    client: ClientId,
    service: ServiceId,
    query: Option<String>,
    body: Bytes,
) -> Response {
    let params: BatchQuery = crate::gateway::batch_params(query.as_deref());
    let fields = crate::gateway::field_list(params.fields.as_deref());
    let persons = crate::gateway::count_lines(&body);
    let grant = match decide_batch(&st, &mut ctx, client, service, fields, persons).await {
        Ok(g) => Arc::new(g),
        Err(refused) => return refused,
    };
    let Some(ix) = st.identity() else {
        return crate::gateway::refuse_audited(&st, &ctx, ServerCode::InternalError, "index").await;
    };
    // The list's model: learnt on this call's rows, or one an earlier call learnt.
    let mut model_id = None;
    let model: Option<Arc<Params>> = if params.latih == Some(true) {
        let (ix2, body2) = (ix.clone(), body.clone());
        let learnt = tokio::task::spawn_blocking(move || {
            let sample: Vec<IdentityQuestion> = body2
                .split(|b| *b == b'\n')
                .filter_map(crate::services::json_object::<SearchQuery>)
                .map(|q| q.question())
                .collect();
            ix2.learn(&sample)
        })
        .await;
        match learnt {
            Ok(p) => {
                let (id, p) = st.models.put(p);
                model_id = Some(id);
                Some(p)
            }
            Err(_) => None,
        }
    } else {
        params.model.as_deref().and_then(|id| st.models.get(id))
    };
    let st2 = st.clone();
    stream_lines(st, Arc::new(ctx), body, CHUNK, move |chunk, ctx| {
        let (st, ix, grant) = (st2.clone(), ix.clone(), grant.clone());
        let (model, model_id) = (model.clone(), model_id.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let model = model.as_deref().map(|m| (m, model_id.as_deref()));
                answer_chunk(&st, &ctx, &ix, &grant, model, chunk)
            })
            .await
            .ok()
        }
    })
}

fn answer_chunk(
    st: &AppState,
    ctx: &Ctx,
    ix: &Embedded,
    grant: &BatchGrant,
    model: Option<(&Params, Option<&str>)>,
    chunk: Vec<Line>,
) -> (Vec<u8>, Vec<AuditRecord>) {
    let (params, model_id) = match model {
        Some((p, id)) => (Some(p), id),
        None => (None, None),
    };
    use rayon::prelude::*;
    let lang = if ctx.en { "en" } else { "id" };
    let answers: Vec<(Value, Outcome)> = chunk
        .par_iter()
        .map(|Line { baris, bytes }| {
            let Some(q) = crate::services::json_object::<SearchQuery>(bytes) else {
                let code = ServerCode::RequestInvalid;
                return (
                    json!({"baris": baris, "code": code.code()}),
                    Outcome::refused(code.into(), "body"),
                );
            };
            match answer_line(st, ix, grant, &q, params) {
                Ok((mut v, o)) => {
                    v["baris"] = json!(baris);
                    if let Some(id) = model_id {
                        v["model"] = json!(id);
                    }
                    (v, o)
                }
                Err((code, o)) => (
                    json!({"baris": baris, "code": code.code(), "message": code.message(lang)}),
                    o,
                ),
            }
        })
        .collect();
    let mut out = Vec::with_capacity(answers.len() * 200);
    let mut recs = Vec::with_capacity(answers.len());
    for (v, o) in answers {
        serde_json::to_writer(&mut out, &v).ok();
        out.push(b'\n');
        recs.push(record(st, ctx, &o));
    }
    (out, recs)
}
