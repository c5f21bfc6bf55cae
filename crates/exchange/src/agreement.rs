//! Data-sharing agreements (PKS) and the access decision. Deny by default.
//!
//! A request is allowed only when an agreement between the consumer and the provider of the
//! service is in force at the request's time, not suspended or revoked, covers the service
//! and the purpose, covers the data subject's region, grants every requested field, and has
//! quota left. Every decision names the clause that decided it.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use crate::{ClientId, ErrorCode, ServiceId, Timestamp, WIB_OFFSET_MINUTES};

/// The fields granted for one service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceGrant {
    pub service_code: String,
    /// Attribute names the consumer may receive, e.g. `nama`, `tgl_lahir`, `alamat`, `desil`.
    /// Empty: yes/no answers only (data minimisation).
    pub fields: Vec<String>,
}

/// Which data subjects the consumer may ask about, by the subject's registered region.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionScope {
    /// Anyone (national programmes). Must be chosen explicitly.
    National,
    /// Subjects registered in one of these Kemendagri regions (`PP`, `PP.KK`, `PP.KK.CC` or
    /// `PP.KK.CC.VVVV`); a region covers everything beneath it.
    Regions(Vec<String>),
}

/// Request quota of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Quota {
    /// Sustained requests per second (also the burst size). 0 refuses everything.
    pub per_second: u32,
    /// Persons looked up per calendar day (WIB by default): a single request counts one, a
    /// batch one per line. 0 refuses everything.
    pub per_day: u64,
}

/// Status of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementStatus {
    Active,
    Suspended,
    Revoked,
}

/// One status change, with who, when and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusChange {
    pub status: AgreementStatus,
    pub by: String,
    pub at: Timestamp,
    pub reason: String,
}

/// A data-sharing agreement (Perjanjian Kerja Sama).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Agreement {
    /// The PKS number, e.g. `PKS-DUKCAPIL-DINSOS3301-2025-001`.
    pub id: String,
    pub provider: ClientId,
    pub consumer: ClientId,
    pub services: Vec<ServiceGrant>,
    /// Purpose codes, e.g. `VALIDASI_BANSOS`.
    pub purposes: Vec<String>,
    /// The legal basis, as text (laws, regulations, the PKS itself).
    pub legal_basis: String,
    pub region_scope: RegionScope,
    /// In force from this instant (inclusive).
    pub valid_from: Timestamp,
    /// In force until this instant (exclusive). For an agreement "until 31 December 2025"
    /// use midnight WIB of 1 January 2026, see [`Agreement::with_dates`].
    pub valid_until: Timestamp,
    pub quota: Quota,
    /// Status changes in time order; before the first, the agreement is active.
    pub status_history: Vec<StatusChange>,
}

/// Why an agreement record or status change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementError {
    #[error("agreement id must be 1 to 128 characters of letters, digits, '.', '_', '-', '/'")]
    BadId,
    #[error("region code {0:?} is not PP, PP.KK, PP.KK.CC or PP.KK.CC.VVVV")]
    BadRegion(String),
    #[error("purpose code {0:?} must be upper-case letters, digits and '_'")]
    BadPurpose(String),
    #[error("validity period is empty (valid_from must be before valid_until)")]
    EmptyValidity,
    #[error("a revoked agreement cannot change status")]
    AlreadyRevoked,
    #[error("status changes must be in time order")]
    OutOfOrder,
    #[error("the date {0:?} is not YYYY-MM-DD")]
    BadDate(String),
}

impl Agreement {
    /// Sets the validity from calendar dates in WIB: from `from` 00:00 until the end of
    /// `until_inclusive`.
    pub fn with_dates(mut self, from: &str, until_inclusive: &str) -> Result<Self, AgreementError> {
        let f = Timestamp::parse_date(from, WIB_OFFSET_MINUTES)
            .ok_or_else(|| AgreementError::BadDate(from.to_owned()))?;
        let u = Timestamp::parse_date(until_inclusive, WIB_OFFSET_MINUTES)
            .ok_or_else(|| AgreementError::BadDate(until_inclusive.to_owned()))?;
        self.valid_from = f;
        self.valid_until = Timestamp(u.0 + 86_400_000_000);
        Ok(self)
    }

    /// Checks the record's own consistency.
    pub fn validate(&self) -> Result<(), AgreementError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 128
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'));
        if !id_ok {
            return Err(AgreementError::BadId);
        }
        for p in &self.purposes {
            let ok = !p.is_empty()
                && p.len() <= 64
                && p.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                return Err(AgreementError::BadPurpose(p.clone()));
            }
        }
        if let RegionScope::Regions(rs) = &self.region_scope {
            for r in rs {
                if normalize_region(r).as_deref() != Some(r.as_str()) {
                    return Err(AgreementError::BadRegion(r.clone()));
                }
            }
        }
        if self.valid_from >= self.valid_until {
            return Err(AgreementError::EmptyValidity);
        }
        Ok(())
    }

    /// Whether the agreement's region scope covers a subject registered in `subject_region`
    /// (Kemendagri code, dotted or not). Unknown or unparseable regions are covered only by a
    /// national scope.
    pub fn covers_region(&self, subject_region: Option<&str>) -> bool {
        match &self.region_scope {
            RegionScope::National => true,
            RegionScope::Regions(scope) => subject_region
                .and_then(normalize_region)
                .is_some_and(|s| scope.iter().any(|r| region_covers(r, &s))),
        }
    }

    /// The status in force at `at`, and the change that set it (`None`: active since the start).
    pub fn status_at(&self, at: Timestamp) -> (AgreementStatus, Option<&StatusChange>) {
        let mut current: Option<&StatusChange> = None;
        for c in &self.status_history {
            if c.at <= at && current.is_none_or(|p| c.at >= p.at) {
                current = Some(c);
            }
        }
        (
            current.map_or(AgreementStatus::Active, |c| c.status),
            current,
        )
    }

    /// Records a status change (suspend, reinstate, revoke). Revocation is final.
    pub fn set_status(
        &mut self,
        status: AgreementStatus,
        by: &str,
        at: Timestamp,
        reason: &str,
    ) -> Result<(), AgreementError> {
        if let Some(last) = self.status_history.last() {
            if last.status == AgreementStatus::Revoked {
                return Err(AgreementError::AlreadyRevoked);
            }
            if at < last.at {
                return Err(AgreementError::OutOfOrder);
            }
        }
        self.status_history.push(StatusChange {
            status,
            by: by.to_owned(),
            at,
            reason: reason.to_owned(),
        });
        Ok(())
    }
}

/// Normalises a Kemendagri region code to its dotted form (`3301` → `33.01`,
/// `3301022001` → `33.01.02.2001`). `None` when it is not a region code.
pub fn normalize_region(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(|c| *c != '.').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let widths: &[usize] = match digits.len() {
        2 => &[2],
        4 => &[2, 2],
        6 => &[2, 2, 2],
        10 => &[2, 2, 2, 4],
        _ => return None,
    };
    // Dots, when present, must be exactly where the levels split.
    if s.contains('.') {
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() != widths.len() || parts.iter().zip(widths).any(|(p, w)| p.len() != *w) {
            return None;
        }
    }
    let mut out = String::with_capacity(13);
    let mut at = 0;
    for (i, w) in widths.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(&digits[at..at + w]);
        at += w;
    }
    Some(out)
}

fn region_covers(scope: &str, subject: &str) -> bool {
    subject == scope
        || (subject.len() > scope.len()
            && subject.starts_with(scope)
            && subject.as_bytes()[scope.len()] == b'.')
}

/// A request for access, as the decision sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessRequest {
    pub consumer: ClientId,
    pub service: ServiceId,
    pub purpose: String,
    /// The PKS the consumer cites, if any; then only that agreement is considered.
    pub pks_id: Option<String>,
    /// The data subject's registered region (Kemendagri code, dotted or not), when known.
    pub subject_region: Option<String>,
    pub fields_requested: Vec<String>,
    pub at: Timestamp,
}

/// The outcome code of a decision: `ALLOWED` or a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionCode {
    Allowed,
    Denied(ErrorCode),
}

impl DecisionCode {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionCode::Allowed => "ALLOWED",
            DecisionCode::Denied(c) => c.code(),
        }
    }

    /// The refusal code, if any.
    pub fn error(self) -> Option<ErrorCode> {
        match self {
            DecisionCode::Allowed => None,
            DecisionCode::Denied(c) => Some(c),
        }
    }
}

impl fmt::Display for DecisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for DecisionCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Which clause decided. Rendered as `default-deny` or `{pks_id}#{part}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// No agreement between this consumer and provider (with the cited PKS id, if any).
    DefaultDeny,
    /// A part of an agreement: `status`, `valid_from`, `valid_until`, `services`, `purposes`,
    /// `region_scope`, `fields.{service}`, `quota.per_second`, `quota.per_day`, `grant`.
    Agreement { id: String, part: String },
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clause::DefaultDeny => f.write_str("default-deny"),
            Clause::Agreement { id, part } => write!(f, "{id}#{part}"),
        }
    }
}

impl serde::Serialize for Clause {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An access decision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    pub allowed: bool,
    pub code: DecisionCode,
    pub clause: Clause,
    /// The fields the consumer receives (empty: yes/no only, or refused).
    pub fields_granted: Vec<String>,
    /// For QUOTA_EXCEEDED: seconds until a retry can succeed.
    pub retry_after_secs: Option<u64>,
    /// A human-readable detail for the operator (no personal data).
    pub detail: String,
}

impl Decision {
    fn deny(code: ErrorCode, clause: Clause, detail: String) -> Decision {
        Decision {
            allowed: false,
            code: DecisionCode::Denied(code),
            clause,
            fields_granted: Vec::new(),
            retry_after_secs: None,
            detail,
        }
    }
}

/// The order in which an agreement's clauses are checked; a refusal from a later stage is
/// more specific and is the one reported when several agreements refuse.
type Refusal = Box<(u8, Decision)>;

/// Checks every clause but quota. `check_region`: false for a call-level decision whose
/// subjects are checked one by one afterwards ([`decide_call`]).
fn check_agreement(
    a: &Agreement,
    req: &AccessRequest,
    check_region: bool,
) -> Result<Vec<String>, Refusal> {
    let clause = |part: &str| Clause::Agreement {
        id: a.id.clone(),
        part: part.to_owned(),
    };
    let (status, change) = a.status_at(req.at);
    let by = |c: Option<&StatusChange>| {
        c.map(|c| format!(" by {} at {}: {}", c.by, c.at, c.reason))
            .unwrap_or_default()
    };
    match status {
        AgreementStatus::Revoked => {
            return Err(Box::new((
                1,
                Decision::deny(
                    ErrorCode::AgreementRevoked,
                    clause("status"),
                    format!("revoked{}", by(change)),
                ),
            )));
        }
        AgreementStatus::Suspended => {
            return Err(Box::new((
                1,
                Decision::deny(
                    ErrorCode::AgreementSuspended,
                    clause("status"),
                    format!("suspended{}", by(change)),
                ),
            )));
        }
        AgreementStatus::Active => {}
    }
    if req.at < a.valid_from {
        return Err(Box::new((
            2,
            Decision::deny(
                ErrorCode::AgreementNotYetValid,
                clause("valid_from"),
                format!("in force from {}", a.valid_from),
            ),
        )));
    }
    if req.at >= a.valid_until {
        return Err(Box::new((
            2,
            Decision::deny(
                ErrorCode::AgreementExpired,
                clause("valid_until"),
                format!("in force until {}", a.valid_until),
            ),
        )));
    }
    let Some(grant) = a
        .services
        .iter()
        .find(|g| g.service_code == req.service.service_code)
    else {
        return Err(Box::new((
            3,
            Decision::deny(
                ErrorCode::ServiceNotCovered,
                clause("services"),
                format!(
                    "service {} is not in the agreement",
                    req.service.service_code
                ),
            ),
        )));
    };
    if !a.purposes.contains(&req.purpose) {
        return Err(Box::new((
            4,
            Decision::deny(
                ErrorCode::PurposeNotAllowed,
                clause("purposes"),
                format!("purpose {:?} is not in the agreement", req.purpose),
            ),
        )));
    }
    if let (true, RegionScope::Regions(scope)) = (check_region, &a.region_scope) {
        let subject = req.subject_region.as_deref().and_then(normalize_region);
        let covered = subject
            .as_deref()
            .is_some_and(|s| scope.iter().any(|r| region_covers(r, s)));
        if !covered {
            let detail = match (&req.subject_region, &subject) {
                (None, _) => "the subject's region is unknown".to_owned(),
                (Some(_), None) => "the subject's region is not a region code".to_owned(),
                (Some(_), Some(s)) => format!("region {s} is outside {}", scope.join(", ")),
            };
            return Err(Box::new((
                5,
                Decision::deny(ErrorCode::OutOfRegion, clause("region_scope"), detail),
            )));
        }
    }
    let mut granted: Vec<String> = Vec::with_capacity(req.fields_requested.len());
    for f in &req.fields_requested {
        if !grant.fields.iter().any(|g| g == f) {
            return Err(Box::new((
                6,
                Decision::deny(
                    ErrorCode::FieldNotGranted,
                    clause(&format!("fields.{}", grant.service_code)),
                    format!("field {f:?} is not granted"),
                ),
            )));
        }
        if !granted.contains(f) {
            granted.push(f.clone());
        }
    }
    Ok(granted)
}

fn candidates<'a>(agreements: &'a [Agreement], req: &AccessRequest) -> Vec<&'a Agreement> {
    let mut c: Vec<&Agreement> = agreements
        .iter()
        .filter(|a| {
            a.consumer == req.consumer
                && a.provider == req.service.client
                && req.pks_id.as_deref().is_none_or(|id| a.id == id)
        })
        .collect();
    c.sort_by(|a, b| a.id.cmp(&b.id));
    c
}

fn no_agreement(req: &AccessRequest) -> Decision {
    let detail = match &req.pks_id {
        Some(id) => format!(
            "no agreement {id} between {} and {}",
            req.consumer, req.service.client
        ),
        None => format!(
            "no agreement between {} and {}",
            req.consumer, req.service.client
        ),
    };
    Decision::deny(ErrorCode::NoAgreement, Clause::DefaultDeny, detail)
}

fn evaluate_with(
    agreements: &[Agreement],
    req: &AccessRequest,
    check_region: bool,
    mut quota: impl FnMut(&Agreement) -> Result<(), QuotaDenial>,
) -> Decision {
    let mut cands = candidates(agreements, req);
    if cands.is_empty() {
        return no_agreement(req);
    }
    if !check_region {
        // A call whose subjects are checked one by one: an agreement that covers every
        // region is tried before a regional one, so no line is refused OUT_OF_REGION that
        // another agreement would allow. Stable: id order within each group.
        cands.sort_by_key(|a| !matches!(a.region_scope, RegionScope::National));
    }
    let mut best: Option<(u8, Decision)> = None;
    for a in cands {
        let outcome = check_agreement(a, req, check_region).and_then(|fields| match quota(a) {
            Ok(()) => Ok(fields),
            Err(q) => {
                let mut d = Decision::deny(
                    ErrorCode::QuotaExceeded,
                    Clause::Agreement {
                        id: a.id.clone(),
                        part: q.clause().to_owned(),
                    },
                    match q {
                        QuotaDenial::PerSecond { .. } => {
                            format!("more than {} requests per second", a.quota.per_second)
                        }
                        QuotaDenial::PerDay { .. } => {
                            format!("more than {} persons looked up per day", a.quota.per_day)
                        }
                    },
                );
                d.retry_after_secs = Some(q.retry_after_secs());
                Err(Box::new((7, d)))
            }
        });
        match outcome {
            Ok(fields) => {
                return Decision {
                    allowed: true,
                    code: DecisionCode::Allowed,
                    clause: Clause::Agreement {
                        id: a.id.clone(),
                        part: "grant".to_owned(),
                    },
                    fields_granted: fields,
                    retry_after_secs: None,
                    detail: String::new(),
                };
            }
            Err(refusal) => {
                let (stage, d) = *refusal;
                if best.as_ref().is_none_or(|(s, _)| stage > *s) {
                    best = Some((stage, d));
                }
            }
        }
    }
    best.map(|(_, d)| d).unwrap_or_else(|| no_agreement(req))
}

/// Decides a request against the agreements, consuming quota of the agreement that allows it.
/// Agreements are tried in id order; when all refuse, the most specific refusal is returned
/// (status < validity < service < purpose < region < fields < quota), ties by id.
pub fn decide(agreements: &[Agreement], quotas: &QuotaTracker, req: &AccessRequest) -> Decision {
    evaluate_with(agreements, req, true, |a| {
        quotas.try_acquire(&a.id, &a.quota, req.at)
    })
}

/// The call-level decision of a batch about `persons` subjects: every clause of
/// [`decide`] (status, validity, service, purpose, fields, quota) except the region, which
/// the caller then checks for each subject against the granting agreement
/// ([`Agreement::covers_region`]). The field decision is the same as for a single request:
/// an ungranted field refuses the whole call. Quota: one request of the per-second rate, and
/// `persons` units of the per-day quota (each person looked up counts), all or nothing.
/// `req.subject_region` is ignored. An agreement covering every region is preferred to a
/// regional one.
pub fn decide_call(
    agreements: &[Agreement],
    quotas: &QuotaTracker,
    req: &AccessRequest,
    persons: u64,
) -> Decision {
    evaluate_with(agreements, req, false, |a| {
        quotas.try_acquire_n(&a.id, &a.quota, req.at, persons)
    })
}

/// Like [`decide`] without quota: whether the agreements would allow the request (a dry run,
/// e.g. for a rule-change simulation). Pure.
pub fn evaluate(agreements: &[Agreement], req: &AccessRequest) -> Decision {
    evaluate_with(agreements, req, true, |_| Ok(()))
}

// ---------------------------------------------------------------------------------------------
// Quota

/// Why quota was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaDenial {
    PerSecond { retry_after_us: u64 },
    PerDay { retry_after_us: u64 },
}

impl QuotaDenial {
    pub fn clause(self) -> &'static str {
        match self {
            QuotaDenial::PerSecond { .. } => "quota.per_second",
            QuotaDenial::PerDay { .. } => "quota.per_day",
        }
    }

    /// Whole seconds until a retry can succeed (at least 1), for `Retry-After`.
    pub fn retry_after_secs(self) -> u64 {
        let us = match self {
            QuotaDenial::PerSecond { retry_after_us } | QuotaDenial::PerDay { retry_after_us } => {
                retry_after_us
            }
        };
        us.div_ceil(1_000_000).max(1)
    }
}

#[derive(Debug, Clone, Copy)]
struct QuotaState {
    /// Token-bucket level in millionths of a request.
    level: u64,
    last: Timestamp,
    day: i64,
    day_count: u64,
}

const MICRO: u64 = 1_000_000;

/// Per-agreement quota: a token bucket for the per-second rate (burst = rate) and a counter
/// per calendar day. In memory and exact (integer arithmetic on injected time), so the same
/// request times give the same decisions. One node only: several nodes serving one
/// agreement need shared state (see docs/EXCHANGE.md).
#[derive(Debug)]
pub struct QuotaTracker {
    state: Mutex<HashMap<String, QuotaState>>,
    day_offset_minutes: i32,
}

impl Default for QuotaTracker {
    fn default() -> Self {
        QuotaTracker::new(WIB_OFFSET_MINUTES)
    }
}

impl QuotaTracker {
    /// Days are counted in this UTC offset (WIB: [`WIB_OFFSET_MINUTES`]).
    pub fn new(day_offset_minutes: i32) -> QuotaTracker {
        QuotaTracker {
            state: Mutex::new(HashMap::new()),
            day_offset_minutes,
        }
    }

    /// Takes one request about one person from an agreement's quota at `at`, or says why
    /// not. Nothing is consumed when refused.
    pub fn try_acquire(&self, id: &str, quota: &Quota, at: Timestamp) -> Result<(), QuotaDenial> {
        self.try_acquire_n(id, quota, at, 1)
    }

    /// Takes one request about `persons` persons: one token of the per-second bucket (the
    /// rate limits requests) and `persons` of the day's count (the day limits people looked
    /// up). All or nothing: a request that would pass the day's quota is refused whole,
    /// with `Retry-After` at the next day.
    pub fn try_acquire_n(
        &self,
        id: &str,
        quota: &Quota,
        at: Timestamp,
        persons: u64,
    ) -> Result<(), QuotaDenial> {
        let capacity = u64::from(quota.per_second) * MICRO;
        let day = at.day_index(self.day_offset_minutes);
        let mut map = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let st = map.entry(id.to_owned()).or_insert(QuotaState {
            level: capacity,
            last: at,
            day,
            day_count: 0,
        });
        let elapsed = u64::try_from(at.0.saturating_sub(st.last.0)).unwrap_or(0);
        let level = st
            .level
            .saturating_add(elapsed.saturating_mul(u64::from(quota.per_second)))
            .min(capacity);
        let day_count = if day == st.day { st.day_count } else { 0 };
        if day_count.saturating_add(persons.max(1)) > quota.per_day {
            let next_day_start = (day + 1) * 86_400 * 1_000_000
                - i64::from(self.day_offset_minutes) * 60 * 1_000_000;
            let wait = u64::try_from(next_day_start - at.0).unwrap_or(0);
            return Err(QuotaDenial::PerDay {
                retry_after_us: wait,
            });
        }
        if level < MICRO {
            let wait = if quota.per_second == 0 {
                u64::MAX / 2
            } else {
                (MICRO - level).div_ceil(u64::from(quota.per_second))
            };
            return Err(QuotaDenial::PerSecond {
                retry_after_us: wait,
            });
        }
        st.level = level - MICRO;
        if at > st.last {
            st.last = at;
        }
        st.day = day;
        st.day_count = day_count.saturating_add(persons.max(1));
        Ok(())
    }
}
