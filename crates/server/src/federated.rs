//! The exchange-backed [`Answerer`]: the engine's validation questions asked of the owners'
//! nodes over signed HTTP, as this node's member, under its agreements. Dukcapil answers the
//! identity stage (`pencarian-identitas-batch`, the list's model learnt there on the first
//! block) and the population stage (`fakta-penduduk-batch`); BPJS Kesehatan, DTSEN, BKN and
//! BPJS Ketenagakerjaan their `fakta-*-batch`, the four concurrently. Each answers with the
//! engine's own functions over its own data (`crate::fakta`), so the validator reaches the
//! verdicts it reaches over one store.
//!
//! A registry that cannot be asked (no node provides its service, refused, unreachable, no
//! complete answer within `peer_timeout_secs`) leaves its facts `NotChecked`, the reason in
//! `RegistryAnswers::unasked` (or [`Answerer::unavailable`]), which the verdict lists.
//!
//! The engine's stages are synchronous: run the validator on a blocking thread
//! (`spawn_blocking`); each stage blocks on its calls through the runtime's handle.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sinergi_engine::answers::{
    Answerer, IdentityAnswer, IdentityQuestion, PopulationAnswer, PopulationQuestion,
    RegistryAnswers, RegistryQuestion, Unasked,
};
use sinergi_exchange::ClientId;
use sinergi_model::standard::Table;
use sinergi_rules::{NikStatus, Source};

use crate::client::{CallError, CallMeta, call_batch_as};
use crate::services::Kind;
use crate::state::AppState;

/// The request context the calls carry (X-Road headers).
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub request_id: String,
    pub user_id: String,
    pub issue: String,
    pub purpose: String,
}

/// Asks the registries' nodes.
pub struct Federated {
    st: Arc<AppState>,
    me: ClientId,
    cx: Context,
    rt: tokio::runtime::Handle,
    /// The id of the model Dukcapil learnt on this list's first block.
    model: Option<String>,
    /// The first block's identity answers, from the call that learnt the model.
    trained: Mutex<Option<(Vec<IdentityQuestion>, Vec<IdentityAnswer>)>>,
    /// Why the identity stage could not be asked (the last failure).
    identity_failed: Mutex<Option<Unasked>>,
    /// The identity call for the next block, asked ahead ([`Answerer::prepare`]).
    ahead: Mutex<Option<Ahead>>,
}

type IdentityCall = tokio::task::JoinHandle<Result<Vec<Option<IdentityReply>>, CallError>>;

/// An identity call asked ahead, and its questions.
struct Ahead {
    questions: Vec<IdentityQuestion>,
    call: IdentityCall,
}

impl Drop for Federated {
    fn drop(&mut self) {
        // A block asked ahead that is never validated (the list stopped): stop asking.
        if let Some(a) = self.ahead.get_mut().ok().and_then(Option::take) {
            a.call.abort();
        }
    }
}

/// The batch service answering a registry table's facts.
fn service_of(table: Table) -> Option<&'static str> {
    Some(match table {
        Table::Person | Table::Death => "fakta-penduduk-batch",
        Table::HealthMembership => "fakta-kepesertaan-batch",
        Table::Decile => "fakta-desil-batch",
        Table::Employment => "fakta-asn-batch",
        Table::Wage => "fakta-upah-batch",
        _ => return None,
    })
}

const IDENTITY: &str = "pencarian-identitas-batch";

/// The registries asked in stage 3, their tables and services.
const REGISTRIES: [(Table, Kind, &str); 4] = [
    (
        Table::HealthMembership,
        Kind::FaktaKepesertaan,
        "fakta-kepesertaan-batch",
    ),
    (Table::Decile, Kind::FaktaDesil, "fakta-desil-batch"),
    (Table::Employment, Kind::FaktaAsn, "fakta-asn-batch"),
    (Table::Wage, Kind::FaktaUpah, "fakta-upah-batch"),
];

/// A line of `pencarian-identitas-batch` as this node asks it.
#[derive(Serialize)]
struct IdentityLine {
    nik: String,
    nik_terbaca: String,
    nama: String,
    tgl_lahir: Option<String>,
    kode_wilayah: Option<String>,
    no_kk: Option<String>,
    jenis_kelamin: Option<&'static str>,
}

/// What this node reads of a `pencarian-identitas-batch` answer line (the candidates are for
/// people; validation takes the identity answer).
#[derive(Deserialize)]
struct IdentityReply {
    #[serde(default)]
    identitas: Option<IdentityAnswer>,
    #[serde(default)]
    model: Option<String>,
}

/// A `fakta-penduduk-batch` answer line.
#[derive(Deserialize)]
struct PopulationReply {
    #[serde(default)]
    ditemukan: bool,
    #[serde(default)]
    jawaban: Option<PopulationAnswer>,
}

/// A `fakta-*-batch` answer line of the other registries: the answer, or the refusal's code.
#[derive(Deserialize)]
struct RegistryReply {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    jawaban: Option<RegistryAnswers>,
}

fn why(service: &str, e: &CallError) -> Unasked {
    match e {
        CallError::NoRoute(_) => Unasked {
            why: "NO_ROUTE",
            why_id: format!("tidak ada node yang menyediakan {service}"),
            why_en: format!("no node provides {service}"),
        },
        CallError::Refused { code, status } => Unasked {
            why: "REFUSED",
            why_id: format!("{service} ditolak: {}", refusal(code, *status)),
            why_en: format!("{service} refused: {}", refusal(code, *status)),
        },
        CallError::Timeout(s) => Unasked {
            why: "TIMEOUT",
            why_id: format!("{service} tidak menjawab lengkap dalam {s} detik"),
            why_en: format!("{service} gave no complete answer within {s} s"),
        },
        e => Unasked {
            why: "UNREACHABLE",
            why_id: format!("{service} tidak dapat dihubungi: {e}"),
            why_en: format!("{service} could not be reached: {e}"),
        },
    }
}

fn refusal(code: &str, status: u16) -> String {
    if code.is_empty() {
        format!("HTTP {status}")
    } else {
        code.to_string()
    }
}

impl Federated {
    /// An answerer asking as `me` (a member hosted on `st`'s node) in the context `cx`.
    /// Must be used from a blocking thread of `rt`.
    pub fn new(
        st: Arc<AppState>,
        me: ClientId,
        cx: Context,
        rt: tokio::runtime::Handle,
    ) -> Federated {
        Federated {
            st,
            me,
            cx,
            rt,
            model: None,
            trained: Mutex::new(None),
            identity_failed: Mutex::new(None),
            ahead: Mutex::new(None),
        }
    }

    /// The identity call's query: the list's model, once learnt.
    fn identity_query(&self) -> String {
        match &self.model {
            Some(m) => format!("model={m}"),
            None => String::new(),
        }
    }

    fn meta(&self) -> CallMeta<'_> {
        CallMeta {
            request_id: &self.cx.request_id,
            user_id: &self.cx.user_id,
            issue: &self.cx.issue,
            purpose: &self.cx.purpose,
            pks: None,
        }
    }

    fn ask<L: Serialize, T: serde::de::DeserializeOwned>(
        &self,
        service: &str,
        query: &str,
        lines: &[L],
    ) -> Result<Vec<Option<T>>, CallError> {
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        let meta = self.meta();
        self.rt.block_on(call_batch_as(
            &self.st, &self.me, service, query, lines, &meta,
        ))
    }

    fn identity_lines(questions: &[IdentityQuestion]) -> Vec<IdentityLine> {
        questions
            .iter()
            .map(|q| IdentityLine {
                nik: q.nik_raw.clone(),
                nik_terbaca: q.nik.map(|n| format!("{n:016}")).unwrap_or_default(),
                nama: q.name.clone(),
                tgl_lahir: q.birth_date.clone(),
                kode_wilayah: q.region.map(|r| format!("{r:010}")),
                no_kk: q.kk.map(|k| format!("{k:016}")),
                jenis_kelamin: q.sex.map(|s| match s {
                    sinergi_model::Sex::L => "L",
                    sinergi_model::Sex::P => "P",
                }),
            })
            .collect()
    }

    /// The identity answers of a batch's lines; a line without one (refused, or missing) is
    /// "not checked".
    fn identities(
        &self,
        n: usize,
        got: Result<Vec<Option<IdentityReply>>, CallError>,
    ) -> Vec<IdentityAnswer> {
        let unknown = || IdentityAnswer {
            nik_status: NikStatus::NotChecked,
            person: None,
            suggestion: None,
            inferred: false,
            slips: Vec::new(),
        };
        match got {
            Err(e) => {
                *self
                    .identity_failed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(why(IDENTITY, &e));
                (0..n).map(|_| unknown()).collect()
            }
            Ok(mut lines) => {
                lines.resize_with(n, || None);
                lines
                    .into_iter()
                    .map(|l| l.and_then(|l| l.identitas).unwrap_or_else(unknown))
                    .collect()
            }
        }
    }
}

impl Answerer for Federated {
    fn train(&mut self, sample: &[IdentityQuestion]) {
        let got =
            self.ask::<_, IdentityReply>(IDENTITY, "latih=true", &Self::identity_lines(sample));
        self.model = got.as_ref().ok().and_then(|lines| {
            lines
                .iter()
                .find_map(|l| l.as_ref().and_then(|l| l.model.clone()))
        });
        let answers = self.identities(sample.len(), got);
        *self.trained.lock().unwrap_or_else(|e| e.into_inner()) = Some((sample.to_vec(), answers));
    }

    fn identify(&self, questions: &[IdentityQuestion]) -> Vec<IdentityAnswer> {
        if let Some((q, a)) = self
            .trained
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_if(|(q, _)| q.as_slice() == questions)
        {
            debug_assert_eq!(q.len(), a.len());
            return a;
        }
        let ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(a) = ahead {
            if a.questions.as_slice() == questions {
                let got = match self.rt.block_on(a.call) {
                    Ok(got) => got,
                    Err(e) => Err(CallError::Http(e.to_string())),
                };
                return self.identities(questions.len(), got);
            }
            a.call.abort();
        }
        let got = self.ask(
            IDENTITY,
            &self.identity_query(),
            &Self::identity_lines(questions),
        );
        self.identities(questions.len(), got)
    }

    fn prepare(&self, questions: &[IdentityQuestion]) {
        if questions.is_empty() {
            return;
        }
        let lines = Self::identity_lines(questions);
        let (st, me, cx, query) = (
            self.st.clone(),
            self.me.clone(),
            self.cx.clone(),
            self.identity_query(),
        );
        let call = self.rt.spawn(async move {
            let meta = CallMeta {
                request_id: &cx.request_id,
                user_id: &cx.user_id,
                issue: &cx.issue,
                purpose: &cx.purpose,
                pks: None,
            };
            call_batch_as(&st, &me, IDENTITY, &query, &lines, &meta).await
        });
        let old = self
            .ahead
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(Ahead {
                questions: questions.to_vec(),
                call,
            });
        if let Some(old) = old {
            old.call.abort();
        }
    }

    fn population(&self, questions: &[PopulationQuestion]) -> Vec<Option<PopulationAnswer>> {
        match self.ask::<_, PopulationReply>("fakta-penduduk-batch", "", questions) {
            Err(e) => {
                *self
                    .identity_failed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(why("fakta-penduduk-batch", &e));
                vec![None; questions.len()]
            }
            Ok(mut got) => {
                got.resize_with(questions.len(), || None);
                got.into_iter()
                    .map(|l| l.filter(|l| l.ditemukan).and_then(|l| l.jawaban))
                    .collect()
            }
        }
    }

    fn registries(&self, questions: &[RegistryQuestion]) -> Vec<RegistryAnswers> {
        let meta = self.meta();
        let (st, me) = (&self.st, &self.me);
        let ask = |service: &'static str| {
            let meta = &meta;
            async move {
                if questions.is_empty() {
                    return Ok(Vec::new());
                }
                call_batch_as::<_, RegistryReply>(st, me, service, "", questions, meta).await
            }
        };
        let (a, b, c, d) = self.rt.block_on(async {
            tokio::join!(
                ask(REGISTRIES[0].2),
                ask(REGISTRIES[1].2),
                ask(REGISTRIES[2].2),
                ask(REGISTRIES[3].2)
            )
        });
        let mut out = vec![RegistryAnswers::default(); questions.len()];
        for ((table, kind, service), got) in REGISTRIES.iter().zip([a, b, c, d]) {
            let mut got = got.map(|lines| lines.into_iter());
            for answers in out.iter_mut() {
                let line = match &mut got {
                    Err(e) => Err(why(service, e)),
                    Ok(lines) => match lines.next() {
                        None => Err(why(service, &CallError::BadAnswer("no answer".into()))),
                        Some(None)
                        | Some(Some(RegistryReply {
                            code: None,
                            jawaban: None,
                        })) => Err(why(service, &CallError::BadAnswer("not an answer".into()))),
                        Some(Some(RegistryReply {
                            code: Some(code), ..
                        })) => Err(why(service, &CallError::Refused { status: 403, code })),
                        Some(Some(RegistryReply {
                            jawaban: Some(p), ..
                        })) => Ok(p),
                    },
                };
                match line {
                    Ok(p) => crate::fakta::take_part(answers, *kind, p),
                    Err(u) => answers.unasked.push((*table, u)),
                }
            }
        }
        out
    }

    fn identity_source(&self) -> Source {
        Source::new("Dukcapil", "pencarian-identitas", "", "")
    }

    fn unavailable(&self, table: Table) -> Option<Unasked> {
        if table == Table::Person
            && let Some(u) = self
                .identity_failed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        {
            return Some(u);
        }
        let service = service_of(table)?;
        let routed = self.st.routes.contains_key(service)
            && (table != Table::Person || self.st.routes.contains_key(IDENTITY));
        (!routed).then(|| why(service, &CallError::NoRoute(service.into())))
    }
}
