//! Agreement (PKS) administration: create, list, suspend, reinstate, revoke.
//!
//! One code path for the admin API (`admin.rs`, inside a running node) and `sinergi pks` (the
//! CLI, acting on a node's database directly), so both take the same decisions with the same
//! codes and write the same audit entries. Every change that reaches a decision is audited
//! before it is applied, refused or not: `client` is the channel (`admin:api`, `admin:cli`),
//! `user_id` who acted (`by`), `issue` the reason, `service` `admin/pks/{action}`,
//! `pks_id` the agreement, `decision` `ALLOWED` or the refusal code, `clause`
//! `admin#pks.{action}`, and `request_hash` the SHA-256 of the agreement as it was written (or
//! as it was asked for, when refused). If the audit write fails nothing is changed.

use sinergi_exchange::agreement::AgreementError;
use sinergi_exchange::audit::request_hash;
use sinergi_exchange::{Agreement, AgreementStatus, AuditLog, AuditRecord, ClientId, SigningKey};

use crate::audit_sql::{AuditDbError, AuditWriter, Db, SqlAuditStore};
use crate::refusal::{Code, ServerCode};
use sinergi_exchange::ErrorCode;

/// An administrative action on an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Suspend,
    Reinstate,
    Revoke,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Suspend => "suspend",
            Action::Reinstate => "reinstate",
            Action::Revoke => "revoke",
        }
    }

    /// `suspend`, `reinstate` or `revoke` (the status changes).
    pub fn parse_change(s: &str) -> Option<Action> {
        match s {
            "suspend" => Some(Action::Suspend),
            "reinstate" => Some(Action::Reinstate),
            "revoke" => Some(Action::Revoke),
            _ => None,
        }
    }

    fn status(self) -> AgreementStatus {
        match self {
            Action::Suspend => AgreementStatus::Suspended,
            Action::Revoke => AgreementStatus::Revoked,
            Action::Create | Action::Reinstate => AgreementStatus::Active,
        }
    }
}

/// Why an administrative action was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum PksError {
    #[error("agreement is invalid: {0}")]
    Invalid(String),
    #[error("provider {0} is not hosted on this node")]
    NotHosted(String),
    #[error("agreement {0} already exists")]
    Exists(String),
    #[error("agreement {0} not found")]
    NotFound(String),
    #[error("agreement {id}: {reason}")]
    Conflict { id: String, reason: String },
    #[error("audit log unavailable, nothing changed: {0}")]
    Audit(String),
    #[error(transparent)]
    Db(#[from] AuditDbError),
}

impl PksError {
    /// The refusal code (and so the HTTP status) of the admin API.
    pub fn code(&self) -> Code {
        match self {
            PksError::Invalid(_) | PksError::NotHosted(_) => ServerCode::RequestInvalid.into(),
            PksError::Exists(_) => ServerCode::AgreementExists.into(),
            PksError::NotFound(_) => ServerCode::AgreementNotFound.into(),
            PksError::Conflict { .. } => ServerCode::AgreementStatusConflict.into(),
            PksError::Audit(_) => ErrorCode::AuditUnavailable.into(),
            PksError::Db(_) => ServerCode::InternalError.into(),
        }
    }
}

/// Where the audit entries of administrative actions go.
pub enum AuditSink<'a> {
    /// A running node's group-commit writer (the admin API), with the channel written to
    /// the log: `admin:api` (an admin token) or `admin:cli` (`sinergi pks` through the node).
    Writer(&'a AuditWriter, &'static str),
    /// Straight into the node's audit database (the CLI when the node is not running, or
    /// cannot be reached). A checkpoint signed with the node's key pins the entry at once, so
    /// a running node's writer, finding the log moved, links after it
    /// (`AuditLog::append_or_resync` follows only entries pinned by the node's key).
    Direct {
        url: String,
        node: String,
        /// The node's checkpoint key.
        key: Box<SigningKey>,
    },
}

impl AuditSink<'_> {
    pub async fn append(&self, rec: AuditRecord) -> Result<u64, String> {
        match self {
            AuditSink::Writer(w, _) => w
                .append(vec![rec])
                .await
                .map_err(|e| e.to_string())
                .and_then(|s| s.first().copied().ok_or_else(|| "no seq".to_string())),
            AuditSink::Direct { url, node, key } => {
                let (url, node, key) = (url.clone(), node.clone(), (**key).clone());
                tokio::task::spawn_blocking(move || {
                    let store = SqlAuditStore::open(&url).map_err(|e| e.to_string())?;
                    let mut log = AuditLog::open(&node, store).map_err(|e| e.to_string())?;
                    let seq = log
                        .append_or_resync(vec![rec], None)
                        .map_err(|e| e.to_string())?
                        .first()
                        .map(|e| e.seq)
                        .ok_or_else(|| "no seq".to_string())?;
                    if let Err(e) = log.checkpoint(&key, crate::now()) {
                        // The node's writer checkpoints later entries; this one is pinned
                        // by its next checkpoint instead.
                        tracing::warn!(error = %e, "checkpoint after an admin action failed");
                    }
                    log.store().close();
                    Ok(seq)
                })
                .await
                .map_err(|e| e.to_string())?
            }
        }
    }

    fn channel(&self) -> &'static str {
        match self {
            AuditSink::Writer(_, channel) => channel,
            AuditSink::Direct { .. } => "admin:cli",
        }
    }
}

/// Who acts, why, and where it is recorded.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub node: &'a str,
    pub audit: AuditSink<'a>,
    pub by: &'a str,
    pub reason: &'a str,
}

impl Ctx<'_> {
    async fn audit(
        &self,
        action: Action,
        id: &str,
        outcome: Result<u16, &PksError>,
        body: &[u8],
    ) -> Result<(), PksError> {
        let (status, decision) = match outcome {
            Ok(s) => (s, "ALLOWED".to_string()),
            Err(e) => {
                let c = e.code();
                (c.status(), c.code().to_string())
            }
        };
        let rec = AuditRecord {
            at: crate::now(),
            node: self.node.to_owned(),
            request_id: sinergi_exchange::httpsig::new_nonce()
                .unwrap_or_else(|_| crate::now().0.to_string()),
            client: self.audit.channel().to_owned(),
            service: format!("admin/pks/{}", action.name()),
            purpose: "ADMIN_PKS".into(),
            pks_id: (!id.is_empty()).then(|| id.to_owned()),
            user_id: self.by.to_owned(),
            issue: self.reason.to_owned(),
            decision,
            clause: format!("admin#pks.{}", action.name()),
            subject_hash: None,
            status,
            latency_us: 0,
            request_hash: request_hash("ADMIN", &format!("pks/{}/{id}", action.name()), body),
        };
        self.audit
            .append(rec)
            .await
            .map(|_| ())
            .map_err(PksError::Audit)
    }

    /// Audits a refusal, then returns it (or the audit failure).
    async fn refuse<T>(
        &self,
        action: Action,
        id: &str,
        e: PksError,
        body: &[u8],
    ) -> Result<T, PksError> {
        self.audit(action, id, Err(&e), body).await?;
        Err(e)
    }
}

/// Every stored agreement, by id.
pub async fn list(db: &Db) -> Result<Vec<Agreement>, PksError> {
    Ok(crate::state::load_agreements(db).await?)
}

/// Creates an agreement whose provider is one of `hosted`.
pub async fn create(
    cx: &Ctx<'_>,
    hosted: &[ClientId],
    a: Agreement,
) -> Result<Agreement, PksError> {
    let body = serde_json::to_vec(&a).map_err(|e| PksError::Invalid(e.to_string()))?;
    if let Err(e) = a.validate() {
        return cx
            .refuse(
                Action::Create,
                &a.id,
                PksError::Invalid(e.to_string()),
                &body,
            )
            .await;
    }
    if !hosted.contains(&a.provider) {
        let e = PksError::NotHosted(a.provider.to_string());
        return cx.refuse(Action::Create, &a.id, e, &body).await;
    }
    if cx.db.agreement_body(&a.id).await?.is_some() {
        let e = PksError::Exists(a.id.clone());
        return cx.refuse(Action::Create, &a.id, e, &body).await;
    }
    cx.audit(Action::Create, &a.id, Ok(201), &body).await?;
    let text = String::from_utf8(body).map_err(|e| PksError::Invalid(e.to_string()))?;
    let at = crate::now().0;
    let (provider, consumer) = (a.provider.to_string(), a.consumer.to_string());
    if !cx
        .db
        .put_agreement(&a.id, &provider, &consumer, &text, at)
        .await?
    {
        // Created by someone else between the check and the write.
        return Err(PksError::Exists(a.id));
    }
    Ok(a)
}

/// Suspends, reinstates or revokes agreement `id` as of now.
pub async fn change_status(cx: &Ctx<'_>, id: &str, action: Action) -> Result<Agreement, PksError> {
    let asked = serde_json::to_vec(&serde_json::json!({
        "id": id, "action": action.name(), "by": cx.by, "reason": cx.reason,
    }))
    .unwrap_or_default();
    if action == Action::Create {
        let e = PksError::Invalid("create is not a status change".into());
        return cx.refuse(action, id, e, &asked).await;
    }
    // The body as read: the write below only lands if nobody changed it meanwhile.
    let read = cx.db.agreement_body(id).await?;
    let Some(mut a) = read
        .as_deref()
        .and_then(|b| serde_json::from_str::<Agreement>(b).ok())
    else {
        return cx
            .refuse(action, id, PksError::NotFound(id.to_owned()), &asked)
            .await;
    };
    let read = read.expect("parsed above");
    if let Err(e) = a.set_status(action.status(), cx.by, crate::now(), cx.reason) {
        let reason = match e {
            AgreementError::AlreadyRevoked => "it is revoked, and revocation is final".to_string(),
            other => other.to_string(),
        };
        let e = PksError::Conflict {
            id: id.to_owned(),
            reason,
        };
        return cx.refuse(action, id, e, &asked).await;
    }
    let body = serde_json::to_vec(&a).map_err(|e| PksError::Invalid(e.to_string()))?;
    cx.audit(action, id, Ok(200), &body).await?;
    let text = String::from_utf8(body).map_err(|e| PksError::Invalid(e.to_string()))?;
    if !cx
        .db
        .replace_agreement_if(&a.id, &read, &text, crate::now().0)
        .await?
    {
        // Another administrator (the API or `sinergi pks`) changed it between our read and
        // this write: nothing is written, and the log says so after the attempt above.
        let e = PksError::Conflict {
            id: id.to_owned(),
            reason: "it was changed by another administrator at the same moment; read it \
                     again and retry"
                .into(),
        };
        return cx.refuse(action, id, e, &asked).await;
    }
    Ok(a)
}
