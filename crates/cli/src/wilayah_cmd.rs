//! `sinergi wilayah CODE|NAME`: look a Kemendagri region up.

use std::process::ExitCode;

use serde_json::json;
use sinergi_model::{Region, RegionCode, wilayah};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Kode wilayah (32.01, 3201010001) atau nama (KAB. BOGOR, Kota Bogor).
    /// [en] Region code (32.01, 3201010001) or name (KAB. BOGOR, Kota Bogor).
    pub query: Vec<String>,
}

fn to_json(r: &Region) -> serde_json::Value {
    let w = wilayah();
    let parent = r
        .parent()
        .map(|p| json!({"code": p.to_string(), "name": w.name(p)}));
    json!({
        "code": r.code.to_string(),
        "level": r.code.level(),
        "name": r.name,
        "parent": parent,
        "children": w.children(r.code).count(),
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        anyhow::bail!(crate::tr!(
            "Berikan kode atau nama wilayah, mis. `sinergi wilayah 32.01` atau `sinergi wilayah \"Kota Bogor\"`.",
            "Give a region code or name, e.g. `sinergi wilayah 32.01` or `sinergi wilayah \"Kota Bogor\"`."
        ));
    }
    let w = wilayah();
    let hits: Vec<&Region> = match RegionCode::parse(&query) {
        Ok(code) => w.get(code).into_iter().collect(),
        Err(_)
            if query
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c.is_whitespace()) =>
        {
            anyhow::bail!(crate::tr!(
                "`{query}` bukan kode wilayah: kode terdiri dari 2, 4, 6 atau 10 digit (PP.KK.CC.VVVV).",
                "`{query}` is not a region code: a code has 2, 4, 6 or 10 digits (PP.KK.CC.VVVV)."
            ))
        }
        Err(_) => w.find_by_name(&query, None),
    };
    if hits.is_empty() {
        eprintln!(
            "{}",
            crate::tr!(
                "Wilayah `{query}` tidak ditemukan di tabel Kemendagri 2025.",
                "No region `{query}` in the Kemendagri 2025 table."
            )
        );
        return Ok(ExitCode::from(1));
    }
    for r in hits {
        println!("{}", to_json(r));
    }
    Ok(ExitCode::SUCCESS)
}
