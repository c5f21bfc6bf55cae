//! Helpers: mapping files from config/mappings, temp files, reading into memory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use sinergi_ingest::{Mapping, ReadAll, ReadOptions, Value, read_all};

pub fn mapping(name: &str) -> Mapping {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/mappings")
        .join(format!("{name}.toml"));
    Mapping::from_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

pub struct Tmp {
    pub dir: tempfile::TempDir,
}

impl Tmp {
    pub fn new() -> Tmp {
        Tmp {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).expect("write fixture");
        p
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn load(m: &Mapping, path: &Path) -> ReadAll {
    read_all(m, &[path.to_path_buf()], &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

pub fn text<'a>(r: &'a sinergi_ingest::Record, field: &str) -> Option<&'a str> {
    match r.get(field) {
        Some(Value::Text(s)) => Some(s.as_str()),
        _ => None,
    }
}

pub fn codes(problems: &[sinergi_ingest::Problem]) -> Vec<(u64, &'static str)> {
    problems.iter().map(|p| (p.row, p.code)).collect()
}

/// Dukcapil header and a valid row builder.
pub const DUKCAPIL_HEADER: &str = "NIK|NO_KK|NAMA_LGKP|JENIS_KLMIN|TMPT_LHR|TGL_LHR|STAT_HBKEL|AGAMA|STATUS_KAWIN|JENIS_PKRJN|NO_PROP|NO_KAB|NO_KEC|NO_KEL|ALAMAT|NO_RT|NO_RW";

/// A distinct valid NIK for every `i` below 336 million (Kab. Bogor, varying birth date and
/// serial).
pub fn nik_for(i: u64) -> String {
    let serial = i % 9999 + 1;
    let rest = i / 9999;
    let day = rest % 28 + 1 + 40;
    let rest = rest / 28;
    let month = rest % 12 + 1;
    let year = (rest / 12) % 100;
    format!("320101{day:02}{month:02}{year:02}{serial:04}")
}

/// A valid Dukcapil row with the `i`-th NIK.
pub fn dukcapil_row(i: u64, name: &str) -> String {
    format!(
        "{}|3201010101200001|{name}|2|BOGOR|01-07-1980|ISTRI|ISLAM|KAWIN|MENGURUS RUMAH TANGGA|32|1|1|1001|JL MAWAR 1|1|2",
        nik_for(i)
    )
}

/// A Dukcapil file: header plus the given rows, joined with `eol`.
pub fn dukcapil_file(rows: &[String], eol: &str) -> String {
    let mut s = String::from(DUKCAPIL_HEADER);
    for r in rows {
        s.push_str(eol);
        s.push_str(r);
    }
    s.push_str(eol);
    s
}
