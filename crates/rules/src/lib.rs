//! Programme rules as data, and explained verdicts.
//!
//! A programme's rules are a TOML file (docs/RULES.md): which catalogue checks apply with
//! which severity, the decile cut, benefit, region scope, programmes it may not be combined
//! with, exceptions, and custom conditions written in CEL. [`Program::parse`] validates a file
//! and reports every problem with file, line and column and a stable code;
//! [`evaluate`] turns the [`Facts`] the engine gathered about one row into a [`Verdict`]
//! carrying every reason that applies, each with its source and a message for the citizen in
//! Bahasa Indonesia and English.
//!
//! Architecture invariant: this crate does no I/O and knows nothing of HTTP, SQL or files. It
//! parses rule text given to it and evaluates facts given to it.

mod catalogue;
mod celview;
mod eval;
mod facts;
mod program;

pub use catalogue::{Decision, ReasonCode};
pub use eval::{NIK_STORED_AS_NUMBER, Note, Reason, Verdict, evaluate};
pub use facts::{
    BpjsMembership, BpjsSegment, CivilServant, CivilServantKind, Death, Dtsen, Facts, FamilyFacts,
    IdentityFacts, Link, Lookup, NikStatus, Observed, PersonFacts, RowFacts, Slip, Source, Wage,
};
pub use program::{
    Benefit, CustomRule, FactSource, Period, Program, RegionScope, RulesError, RulesErrorKind,
    RulesErrors, Text, Unit,
};
pub use sinergi_model::minwage::WageLevel;
pub use sinergi_model::{RegionCode, Sex};

#[cfg(test)]
mod send_sync {
    fn assert<T: Send + Sync>() {}
    #[test]
    fn program_is_shareable_across_threads() {
        assert::<super::Program>();
        assert::<super::Verdict>();
    }
}
