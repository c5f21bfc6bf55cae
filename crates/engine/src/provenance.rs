//! Where each registry came from: agency, dataset, snapshot and load time, as the store
//! records them. Every reason a verdict gives names its source through one of these.

use serde::Serialize;
use sinergi_model::standard::Table;

/// One loaded dataset (the current snapshot of one source in the store).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Provenance {
    /// Canonical table (`person`, `death`, ...).
    pub table: String,
    /// Owning agency, e.g. `Dukcapil`, `BPS`, `BPJS Kesehatan`.
    pub agency: String,
    /// Dataset (source) name, e.g. `dukcapil-penduduk`.
    pub dataset: String,
    /// Snapshot identifier or version of the dataset as stored.
    pub snapshot: String,
    /// The store's snapshot id (0 for registries built in memory).
    pub snapshot_id: i64,
    /// When the snapshot was loaded (RFC 3339 as the store reports it).
    pub loaded_at: String,
    /// Number of rows in the snapshot, as the store reports it.
    pub rows: u64,
    /// The date the data describes (`YYYY-MM-DD`), when the load said (`--per`, the file
    /// name, the mapping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_date: Option<String>,
}

impl Provenance {
    /// The date the data describes: the "as of" of a reason; empty when unknown (never the
    /// load date, which is [`Provenance::loaded_on`]).
    pub fn as_of(&self) -> &str {
        self.reference_date.as_deref().unwrap_or("")
    }

    /// The date part of [`Provenance::loaded_at`] (`YYYY-MM-DD`).
    pub fn loaded_on(&self) -> &str {
        self.loaded_at.get(..10).unwrap_or(&self.loaded_at)
    }
}

/// What a canonical table is called for users and which ingest sources fill it: used in the
/// "load this first" messages.
#[derive(Debug, Clone, Copy)]
pub struct TableInfo {
    /// The table.
    pub table: Table,
    /// Name in Bahasa Indonesia, starting with a capital.
    pub name_id: &'static str,
    /// Name in English.
    pub name_en: &'static str,
    /// Default owning agency.
    pub agency: &'static str,
    /// Ingest sources (mapping names) that load it.
    pub sources: &'static [&'static str],
}

/// The catalogue of canonical tables as validation sees them.
pub const TABLES: &[TableInfo] = &[
    TableInfo {
        table: Table::Person,
        name_id: "Data kependudukan (Dukcapil)",
        name_en: "Population data (Dukcapil)",
        agency: "Dukcapil",
        sources: &["dukcapil-penduduk"],
    },
    TableInfo {
        table: Table::Death,
        name_id: "Data kematian (Dukcapil)",
        name_en: "Death records (Dukcapil)",
        agency: "Dukcapil",
        sources: &["dukcapil-kematian"],
    },
    TableInfo {
        table: Table::Decile,
        name_id: "Data desil DTSEN (BPS)",
        name_en: "DTSEN decile data (BPS)",
        agency: "DTSEN (BPS)",
        sources: &["dtsen"],
    },
    TableInfo {
        table: Table::HealthMembership,
        name_id: "Data kepesertaan BPJS Kesehatan",
        name_en: "BPJS Kesehatan membership data",
        agency: "BPJS Kesehatan",
        sources: &["bpjs-kesehatan"],
    },
    TableInfo {
        table: Table::Employment,
        name_id: "Data ASN/TNI/Polri (BKN, TNI/Polri)",
        name_en: "Civil servant, military and police data (BKN, TNI/Polri)",
        agency: "BKN",
        sources: &["bkn-asn", "tni-polri"],
    },
    TableInfo {
        table: Table::Wage,
        name_id: "Data upah BPJS Ketenagakerjaan",
        name_en: "BPJS Ketenagakerjaan wage data",
        agency: "BPJS Ketenagakerjaan",
        sources: &["bpjs-ketenagakerjaan-upah"],
    },
    TableInfo {
        table: Table::RosterEntry,
        name_id: "Daftar penerima program",
        name_en: "Programme recipient lists",
        agency: "Daftar (list itself)",
        sources: &["roster"],
    },
];

/// The catalogue entry of a table.
pub fn table_info(table: Table) -> &'static TableInfo {
    TABLES
        .iter()
        .find(|t| t.table == table)
        .expect("every table is in the catalogue")
}

/// The bilingual "not loaded yet" message for a table, naming the command to run first.
pub fn missing_message(table: Table) -> String {
    let info = table_info(table);
    let cmds_id: Vec<String> = info
        .sources
        .iter()
        .map(|s| format!("sinergi ingest --source {s} <file>"))
        .collect();
    let joined = cmds_id.join(" / ");
    format!(
        "{} belum dimuat. Jalankan dulu: {joined}\n{} has not been loaded. Run first: {joined}",
        info.name_id, info.name_en
    )
}

/// The bilingual message for several tables not loaded yet, naming them all and the
/// commands that load each.
pub fn missing_messages(tables: &[Table]) -> String {
    let infos: Vec<&TableInfo> = tables.iter().map(|t| table_info(*t)).collect();
    let cmds: Vec<String> = infos
        .iter()
        .map(|i| {
            i.sources
                .iter()
                .map(|s| format!("sinergi ingest --source {s} <file>"))
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect();
    let names_id: Vec<&str> = infos.iter().map(|i| i.name_id).collect();
    let names_en: Vec<&str> = infos.iter().map(|i| i.name_en).collect();
    format!(
        "{} data belum dimuat: {}. Jalankan dulu: {}\n{} datasets have not been loaded: {}. Run first: {}",
        tables.len(),
        names_id.join("; "),
        cmds.join("; "),
        tables.len(),
        names_en.join("; "),
        cmds.join("; ")
    )
}

/// The agency as citizens know it, for reason messages ("Data Dukcapil per ..."): fixed per
/// table, except employment, which is BKN or TNI/Polri by dataset.
pub fn citizen_agency(table: Table, dataset: &str) -> &'static str {
    if table == Table::Employment {
        let d = dataset.to_ascii_uppercase();
        if d.contains("TNI") || d.contains("POLRI") {
            return "TNI/Polri";
        }
    }
    table_info(table).agency
}
