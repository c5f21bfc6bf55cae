//! Mapping and programme files shipped inside the binary, so `sinergi` works from any folder
//! with no configuration. A file given on the command line always takes precedence.

/// Shipped mappings (`config/mappings/*.toml`), by source name.
pub const MAPPINGS: &[(&str, &str)] = &[
    (
        "dukcapil-penduduk",
        include_str!("../../../config/mappings/dukcapil-penduduk.toml"),
    ),
    (
        "dukcapil-kematian",
        include_str!("../../../config/mappings/dukcapil-kematian.toml"),
    ),
    ("dtsen", include_str!("../../../config/mappings/dtsen.toml")),
    (
        "bpjs-kesehatan",
        include_str!("../../../config/mappings/bpjs-kesehatan.toml"),
    ),
    (
        "bkn-asn",
        include_str!("../../../config/mappings/bkn-asn.toml"),
    ),
    (
        "tni-polri",
        include_str!("../../../config/mappings/tni-polri.toml"),
    ),
    (
        "bpjs-ketenagakerjaan-upah",
        include_str!("../../../config/mappings/bpjs-ketenagakerjaan-upah.toml"),
    ),
    (
        "roster",
        include_str!("../../../config/mappings/roster.toml"),
    ),
];

/// The shipped mapping of a source, with its origin label for error messages.
pub fn mapping(source: &str) -> Option<(String, &'static str)> {
    MAPPINGS
        .iter()
        .find(|(name, _)| *name == source)
        .map(|(name, text)| {
            (
                format!(
                    "config/mappings/{name}.toml ({})",
                    crate::tr!("bawaan", "built in")
                ),
                *text,
            )
        })
}

/// Names of the shipped sources, for error messages.
pub fn mapping_names() -> Vec<&'static str> {
    MAPPINGS.iter().map(|(n, _)| *n).collect()
}

/// Shipped programme rules (`config/programs/*.toml`).
pub const PROGRAMS: &[(&str, &str)] = &[
    (
        "BLT_DD",
        include_str!("../../../config/programs/BLT_DD.toml"),
    ),
    ("BPNT", include_str!("../../../config/programs/BPNT.toml")),
    (
        "PBI_JK",
        include_str!("../../../config/programs/PBI_JK.toml"),
    ),
    ("PKH", include_str!("../../../config/programs/PKH.toml")),
];

/// The programmes to validate against: every `*.toml` in `dir` when given, else the shipped
/// ones. Errors name the file and line.
pub fn programs(dir: Option<&std::path::Path>) -> anyhow::Result<Vec<sinergi_rules::Program>> {
    if let Some(dir) = dir {
        return sinergi_engine::run::load_programs(dir).map_err(|e| anyhow::anyhow!("{e}"));
    }
    PROGRAMS
        .iter()
        .map(|(code, text)| {
            let origin = format!(
                "config/programs/{code}.toml ({})",
                crate::tr!("bawaan", "built in")
            );
            sinergi_rules::Program::parse(&origin, text).map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect()
}
