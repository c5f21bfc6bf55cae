//! Sinergi's validation engine: the orchestration between storage, ingestion and the pure
//! engine crates (linkage, rules).
//!
//! - [`validator`]: validation in stages around explicit questions ([`answers`]): identity,
//!   population, registries, then the ledger and the rules; [`embedded`] answers them from
//!   [`Registries`] in memory (the exchange answers them from the owners' nodes).
//! - [`registries`]: everything validation needs from the registries, compact in memory.
//! - [`ledger`]: household × programme × period ledger for PROGRAM_OVERLAP and its budget.
//! - [`output`]: verdict files (CSV, JSON, XLSX), summary and manifest; [`layout`]: every
//!   column of the officer-facing files, in one place.
//! - [`cases`]: the final status of case work (web application) in the downloaded results.
//! - [`eval`]: precision/recall against the synthetic generator's truth.

pub mod answers;
pub mod cases;
pub mod check;
pub mod embedded;
pub mod eval;
pub mod facts;
pub mod keymap;
pub mod layout;
pub mod ledger;
pub mod output;
pub mod provenance;
pub mod registries;
pub mod snapshot;
pub mod template;
pub mod validator;
pub mod verdict;

pub use provenance::Provenance;
pub use registries::Registries;
pub mod run;

pub use facts::RosterRow;
pub use output::{Manifest, OutputFormat, Summary};
pub use run::{
    EngineError, Progress, RunOutput, Stage, ValidateRequest, validate, validate_tapped,
    validate_with,
};
pub use validator::Validator;
pub use verdict::{Decision, NotChecked, NoteOut, ReasonOut, VerdictRow};
