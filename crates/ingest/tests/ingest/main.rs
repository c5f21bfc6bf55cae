//! Integration tests of ingestion: one binary, one module per concern. Fixtures are written
//! by the tests into temporary directories (XLSX with rust_xlsxwriter).

mod common;
mod csv_input;
mod jsonl_input;
mod mappings;
mod real_registries;
mod report;
mod xlsx_input;
