//! The exchange crate's one integration-test binary.

mod agreements;
mod audit;
mod codes;
mod common;
mod ids;
mod signatures;
mod tokens;
