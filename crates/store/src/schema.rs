//! SQL generated from the data standard, and the versioned migrations.
//!
//! Layout (both backends):
//! - `sinergi_schema_version`: applied migrations.
//! - `sinergi_dataset`, `sinergi_snapshot`: dataset metadata and every loaded version
//!   (`status`: `current`, `superseded` with its table kept for restore, `dropped`).
//! - `sinergi_dataset_event`: every load, refused load and restore, with who and why.
//! - per canonical table `T` (from [`Table::ALL`]):
//!   - `T__base`: an empty physical table with the canonical columns (the type template);
//!   - `T__g<snapshot_id>`: one physical table per full snapshot ("generation") of a dataset;
//!     delta loads upsert into the current generation;
//!   - view `T__current`: `UNION ALL` of `T__base` and every dataset's current generation
//!     (fields + `dataset_id`, `snapshot_id`); rebuilt when a snapshot becomes current;
//!   - view `T`: `T__current` joined with its snapshot, so every row carries its provenance
//!     (`dataset_id`, `snapshot_id`, `source_agency`, `loaded_at`).
//! - `family_membership`: dated KK memberships that changed since a person dataset's first
//!   snapshot (ended ones, and ones that began later); view `family_history` adds the implicit
//!   memberships unchanged since that first snapshot (valid from its load time), so a first
//!   load of 10 million people writes no membership rows.

use sinergi_model::standard::{FieldType, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// Quotes an SQL identifier (all ours are ASCII snake case, but quote anyway).
pub(crate) fn q(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

pub(crate) fn col_type(d: Dialect, ty: FieldType) -> &'static str {
    match (d, ty) {
        (_, FieldType::Integer) => "BIGINT",
        (Dialect::Sqlite, FieldType::Bool) => "INTEGER",
        (Dialect::Postgres, FieldType::Bool) => "BOOLEAN",
        _ => "TEXT",
    }
}

fn id_type(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "INTEGER",
        Dialect::Postgres => "BIGINT",
    }
}

pub(crate) fn base_table(t: Table) -> String {
    format!("{}__base", t.name())
}

pub(crate) fn generation_table(t: Table, snapshot_id: i64) -> String {
    format!("{}__g{}", t.name(), snapshot_id)
}

pub(crate) fn current_view(t: Table) -> String {
    format!("{}__current", t.name())
}

/// Comma-separated quoted field columns, optionally prefixed (`t.`).
pub(crate) fn field_cols(t: Table, prefix: &str) -> String {
    t.fields()
        .iter()
        .map(|f| format!("{prefix}{}", q(f.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CREATE TABLE` for a physical data table. `dataset_id` and `snapshot_id` default to the
/// given constants so bulk inserts only carry the canonical fields.
pub(crate) fn create_data_table(
    d: Dialect,
    name: &str,
    t: Table,
    dataset_id: i64,
    snapshot_id: i64,
    temp: bool,
) -> String {
    let mut cols: Vec<String> = t
        .fields()
        .iter()
        .map(|f| format!("{} {}", q(f.name), col_type(d, f.ty)))
        .collect();
    cols.push(format!("dataset_id BIGINT NOT NULL DEFAULT {dataset_id}"));
    cols.push(format!("snapshot_id BIGINT NOT NULL DEFAULT {snapshot_id}"));
    let temp = if temp { "TEMP " } else { "" };
    format!("CREATE {temp}TABLE {} ({})", q(name), cols.join(", "))
}

/// Lookup indexes of a physical table: NIK, KK, and the table key when it is not just NIK.
pub(crate) fn index_ddl(name: &str, t: Table) -> Vec<String> {
    let mut out = Vec::new();
    if t.field_index("nik").is_some() {
        out.push(format!(
            "CREATE INDEX {} ON {} (\"nik\")",
            q(&format!("{name}_nik")),
            q(name)
        ));
    }
    if t.field_index("kk").is_some() {
        out.push(format!(
            "CREATE INDEX {} ON {} (\"kk\")",
            q(&format!("{name}_kk")),
            q(name)
        ));
    }
    if t.key() != ["nik"] {
        let cols = t.key().iter().map(|k| q(k)).collect::<Vec<_>>().join(", ");
        out.push(format!(
            "CREATE INDEX {} ON {} ({cols})",
            q(&format!("{name}_key")),
            q(name)
        ));
    }
    out
}

/// Statements that (re)define `T__current` over the given physical tables.
pub(crate) fn current_view_ddl(d: Dialect, t: Table, generations: &[String]) -> Vec<String> {
    let cols = format!("{}, dataset_id, snapshot_id", field_cols(t, ""));
    let mut parts = vec![format!("SELECT {cols} FROM {}", q(&base_table(t)))];
    for g in generations {
        parts.push(format!("SELECT {cols} FROM {}", q(g)));
    }
    let body = parts.join(" UNION ALL ");
    let view = q(&current_view(t));
    match d {
        Dialect::Sqlite => vec![
            format!("DROP VIEW IF EXISTS {view}"),
            format!("CREATE VIEW {view} AS {body}"),
        ],
        Dialect::Postgres => vec![format!("CREATE OR REPLACE VIEW {view} AS {body}")],
    }
}

/// One migration: a version, what it does, and its statements.
pub(crate) struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub statements: Vec<String>,
}

/// The versioned migrations, in order. Never edit a released migration: add a new one (a new
/// field in the standard becomes `ALTER TABLE .. ADD COLUMN` on `T__base` and every generation
/// plus a view rebuild).
pub(crate) fn migrations(d: Dialect) -> Vec<Migration> {
    let id = id_type(d);
    let pk = match d {
        Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    };
    let mut v1 = vec![
        format!(
            "CREATE TABLE sinergi_dataset (
                dataset_id {pk},
                name TEXT NOT NULL UNIQUE,
                table_name TEXT NOT NULL,
                owner_agency TEXT NOT NULL,
                description TEXT NOT NULL,
                fields_json TEXT NOT NULL,
                reference_codes_json TEXT NOT NULL,
                update_cadence TEXT NOT NULL,
                current_snapshot_id {id},
                family_baseline_at TEXT,
                family_baseline_snapshot {id},
                created_at TEXT NOT NULL
            )"
        ),
        format!(
            "CREATE TABLE sinergi_snapshot (
                snapshot_id {pk},
                dataset_id {id} NOT NULL REFERENCES sinergi_dataset (dataset_id),
                version_label TEXT NOT NULL,
                mode TEXT NOT NULL,
                storage_table TEXT NOT NULL,
                source_agency TEXT NOT NULL,
                loaded_at TEXT NOT NULL,
                rows_read BIGINT NOT NULL,
                rows_loaded BIGINT NOT NULL,
                rows_rejected BIGINT NOT NULL,
                rows_warned BIGINT NOT NULL,
                row_count BIGINT NOT NULL,
                quality_json TEXT NOT NULL,
                input_files_json TEXT NOT NULL,
                input_digest TEXT NOT NULL,
                status TEXT NOT NULL
            )"
        ),
        "CREATE INDEX sinergi_snapshot_dataset ON sinergi_snapshot (dataset_id)".to_string(),
        format!(
            "CREATE TABLE family_membership (
                dataset_id {id} NOT NULL,
                kk TEXT NOT NULL,
                nik TEXT NOT NULL,
                family_relationship TEXT,
                valid_from TEXT NOT NULL,
                valid_to TEXT,
                snapshot_from {id} NOT NULL,
                snapshot_to {id}
            )"
        ),
        "CREATE INDEX family_membership_nik ON family_membership (nik, kk)".to_string(),
        "CREATE INDEX family_membership_kk ON family_membership (kk)".to_string(),
    ];
    for t in Table::ALL {
        v1.push(create_data_table(d, &base_table(t), t, 0, 0, false));
        v1.extend(current_view_ddl(d, t, &[]));
        v1.push(format!(
            "CREATE VIEW {} AS SELECT {}, t.dataset_id, t.snapshot_id, s.source_agency, s.loaded_at \
             FROM {} t JOIN sinergi_snapshot s ON s.snapshot_id = t.snapshot_id",
            q(t.name()),
            field_cols(t, "t."),
            q(&current_view(t)),
        ));
    }
    // Memberships: the explicit rows, plus the implicit ones (present in the dataset's first
    // person snapshot and unchanged since), read from the current person rows.
    v1.push(format!(
        "CREATE VIEW family_history AS \
         SELECT dataset_id, kk, nik, family_relationship, valid_from, valid_to, snapshot_from \
         FROM family_membership \
         UNION ALL \
         SELECT c.dataset_id, c.\"kk\", c.\"nik\", c.\"family_relationship\", \
         d.family_baseline_at, NULL, d.family_baseline_snapshot \
         FROM {} c JOIN sinergi_dataset d ON d.dataset_id = c.dataset_id \
         WHERE c.\"kk\" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM family_membership f \
         WHERE f.dataset_id = c.dataset_id AND f.nik = c.\"nik\" AND f.kk = c.\"kk\" \
         AND f.valid_to IS NULL)",
        q(&current_view(Table::Person))
    ));
    let v2 = vec![
        // Every load, refusal and restore of a dataset: who, when, from which version to
        // which, and the figures (by name, so a refused first load has its entry too).
        format!(
            "CREATE TABLE sinergi_dataset_event (
                event_id {pk},
                dataset TEXT NOT NULL,
                at TEXT NOT NULL,
                action TEXT NOT NULL,
                snapshot_id {id},
                previous_snapshot_id {id},
                actor TEXT NOT NULL,
                detail_json TEXT NOT NULL
            )"
        ),
        "CREATE INDEX sinergi_dataset_event_dataset ON sinergi_dataset_event (dataset, event_id)"
            .to_string(),
        // The date the data describes (from the file, the mapping or --per), apart from when
        // it was loaded.
        "ALTER TABLE sinergi_snapshot ADD COLUMN reference_date TEXT".to_string(),
        // When a version stopped being current: the kept versions are the most recent ones.
        "ALTER TABLE sinergi_snapshot ADD COLUMN superseded_at TEXT".to_string(),
        // Before version 2 a superseded snapshot's table was dropped at once.
        "UPDATE sinergi_snapshot SET status = 'dropped' WHERE status = 'superseded'".to_string(),
    ];
    vec![
        Migration {
            version: 1,
            description: "metadata, family membership, canonical tables and views (standard v1)",
            statements: v1,
        },
        Migration {
            version: 2,
            description: "dataset event log, kept previous versions, reference dates",
            statements: v2,
        },
    ]
}
