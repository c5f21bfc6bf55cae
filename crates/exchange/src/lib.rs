//! Sinergi exchange core: the trust layer of inter-agency exchange (X-Road / GovStack
//! Information Mediator style), with no I/O and no web framework.
//!
//! - [`id`]: X-Road compatible client and service identifiers.
//! - [`httpsig`]: RFC 9421 HTTP Message Signatures (Ed25519), RFC 9530 `Content-Digest`,
//!   a bounded replay cache.
//! - [`token`]: API tokens for an agency's own systems.
//! - [`agreement`]: data-sharing agreements (PKS), the deny-by-default access decision, quotas.
//! - [`audit`]: the hash-chained audit log, signed checkpoints, verification, storage trait.
//! - [`error`]: the one table of stable error codes.
//!
//! Time is always an argument ([`Timestamp`], or unix seconds for signatures): the same
//! inputs give the same outputs.

pub mod agreement;
pub mod audit;
pub mod error;
pub mod httpsig;
pub mod id;
pub mod time;
pub mod token;

pub use agreement::{
    AccessRequest, Agreement, AgreementStatus, Clause, Decision, DecisionCode, Quota, QuotaTracker,
    RegionScope, ServiceGrant, decide, decide_call, evaluate,
};
pub use audit::{
    AuditEntry, AuditLog, AuditRecord, AuditStore, Checkpoint, HashValue, MemoryAuditStore,
    NodeSecret, VerifyReport, WitnessReceipt, subject_hash, verify, verify_anchored, who_accessed,
};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use error::ErrorCode;
pub use httpsig::{SignatureError, Verifier, VerifyConfig};
pub use id::{ClientId, IdError, ServiceId};
pub use time::{Timestamp, WIB_OFFSET_MINUTES};
