//! Black-box tests of the exchange node: real servers on 127.0.0.1:0, HTTP in, audit checked
//! through the admin API.

mod audit_subject;
mod common;
mod contract;
mod embedded;
mod federation;
mod gateway;
mod govstack;
mod one_engine;
mod pencarian;
mod pg;
mod pks;
mod tls;
mod trust;
mod validasi_batch;
