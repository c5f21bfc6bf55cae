//! Web actions in the node's hash-chained audit log.
//!
//! One entry per login, failed login, logout, upload, page of personal data seen, case
//! decision and refusal, through the node's group-commit writer (the same chain the exchange
//! writes): `client` is `web`, `user_id` the user name (or the name tried, for a failed
//! login), `service` `web/<action>`, `decision` `ALLOWED` or the refusal's code, `clause`
//! `web#<role>` (who may), `issue` the job and row concerned, `subject_hash` the keyed hash of
//! the NIK whose data was shown or changed, `request_hash` the SHA-256 of method, path and the
//! submitted fields. An action whose entry cannot be written is not carried out.

use sinergi_exchange::AuditRecord;
use sinergi_exchange::audit::{request_hash, subject_hash};

use crate::Web;

/// What happened, for [`Web::audit`].
pub struct Event<'a> {
    pub user: &'a str,
    pub role: &'a str,
    /// `masuk`, `masuk-gagal`, `keluar`, `validasi/unggah`, `hasil/lihat`, ...
    pub action: &'a str,
    /// `ALLOWED` or a refusal code (`WEB_FORBIDDEN`, `WEB_NOT_FOUND`, `WEB_CSRF`, ...).
    pub decision: &'a str,
    pub status: u16,
    /// The job and row (`job=3 row=17`), or a short reason.
    pub issue: String,
    /// The NIK whose data was shown or changed.
    pub nik: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    pub body: &'a [u8],
}

/// The audit log could not take the entry: the action is not carried out.
#[derive(Debug, thiserror::Error)]
#[error("audit log unavailable: {0}")]
pub struct AuditFailed(pub String);

impl Web {
    /// Writes one entry and waits until it is durable.
    pub async fn audit(&self, e: Event<'_>) -> Result<u64, AuditFailed> {
        let rec = AuditRecord {
            at: sinergi_server::now(),
            node: self.node.config.node_name.clone(),
            request_id: crate::auth::random_token()[..22].to_string(),
            client: "web".into(),
            service: format!("web/{}", e.action),
            purpose: String::new(),
            pks_id: None,
            user_id: e.user.chars().take(64).collect(),
            issue: e.issue.chars().take(200).collect(),
            decision: e.decision.into(),
            clause: format!("web#{}", e.role),
            subject_hash: e.nik.map(|n| subject_hash(&self.node.secret, n)),
            status: e.status,
            latency_us: 0,
            request_hash: request_hash(e.method, e.path, e.body),
        };
        self.node
            .audit
            .append(vec![rec])
            .await
            .map_err(|e| AuditFailed(e.to_string()))?
            .first()
            .copied()
            .ok_or_else(|| AuditFailed("no sequence number".into()))
    }
}
