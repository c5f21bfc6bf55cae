//! `febrl-like`: writes FEBRL-like CSV files (for the peer benchmarks in `bench/peers`).
//!
//! ```text
//! febrl-like link  RECORDS SEED OUT_DIR     # OUT_DIR/a.csv, OUT_DIR/b.csv (one duplicate each)
//! febrl-like dedup ORIGINALS DUPLICATES SEED OUT_DIR   # OUT_DIR/dedup.csv
//! ```

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

fn write(path: &Path, records: &[sinergi_febrl::Record]) -> std::io::Result<()> {
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    sinergi_febrl::write_csv(&mut w, records)?;
    w.flush()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |s: &str| s.replace(['_', '.'], "").parse::<usize>().ok();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["link", n, seed, out] => match (num(n), num(seed)) {
            (Some(n), Some(seed)) => {
                let (a, b) = sinergi_febrl::link_pair(n, seed as u64);
                std::fs::create_dir_all(out)
                    .and_then(|()| write(&Path::new(out).join("a.csv"), &a))
                    .and_then(|()| write(&Path::new(out).join("b.csv"), &b))
            }
            _ => return usage(),
        },
        ["dedup", orig, dups, seed, out] => match (num(orig), num(dups), num(seed)) {
            (Some(o), Some(d), Some(seed)) => {
                let list = sinergi_febrl::dedup_list(o, d, seed as u64);
                std::fs::create_dir_all(out)
                    .and_then(|()| write(&Path::new(out).join("dedup.csv"), &list))
            }
            _ => return usage(),
        },
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("febrl-like: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: febrl-like link RECORDS SEED OUT_DIR | febrl-like dedup ORIGINALS DUPLICATES SEED OUT_DIR"
    );
    ExitCode::from(2)
}
