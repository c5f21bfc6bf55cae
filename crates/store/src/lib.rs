//! Sinergi storage: the canonical tables of the data standard
//! ([`sinergi_model::standard`]) in embedded SQLite (the default, zero setup) or PostgreSQL,
//! behind one async API.
//!
//! - [`Store::open`] opens (and migrates) a store: `None` is `./sinergi-data/sinergi.db`.
//! - [`Store::begin_load`] / [`Loader::insert`] / [`Loader::commit`] load a dataset snapshot or
//!   delta atomically: readers see the previous version or the new one, never half; a crash or a
//!   dropped [`Loader`] leaves the previous version current.
//! - [`Store::datasets`], [`Store::count`], [`Store::get_by_key`], [`Store::lookup_nik`],
//!   [`Store::scan`], [`Store::provenance`], [`Store::family_history`] read current data.
//!
//! - [`Loader::set_policy`] / [`LoadPolicy`]: the load guard. A load with no rows, a full
//!   snapshot with more than 10% fewer rows than the current one, or a load with more than 5%
//!   of its rows rejected is refused ([`StoreError::LoadRefused`]) unless confirmed.
//! - [`Store::versions`], [`Store::restore`], [`Store::events`]: kept previous versions, making
//!   one current again, and the dataset's event log (loads, refusals, restores, with who).
//!
//! Every load runs in one database transaction. A full snapshot goes into a fresh physical table
//! (`person__g<snapshot_id>`) without indexes; at commit the guard checks the figures, the
//! indexes are built, the dataset's current-snapshot pointer flips, the `T__current` view is
//! redefined, and the previous physical table is kept (the oldest beyond
//! [`LoadPolicy::keep_previous`] are dropped). See `schema.rs` for the layout.
//!
//! Opening a store that is up to date takes no write lock, so on SQLite readers in other
//! processes open and read while a load holds the write lock.

mod bulk;
mod conn;
mod guard;
mod scan;
mod schema;

pub use guard::{
    DEFAULT_KEEP_PREVIOUS, DEFAULT_MAX_REJECTED, DEFAULT_MAX_SHRINK, GuardReason, LoadPolicy,
    LoadRefusal,
};
pub use versions::{DatasetEvent, VersionInfo, VersionState};

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sinergi_model::standard::{FieldType, Record, Table, Value};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};

use conn::{Conn, Kind};
use schema::{Dialect, q};

/// The default embedded database, relative to the working directory.
pub const DEFAULT_SQLITE_PATH: &str = "./sinergi-data/sinergi.db";

/// Rows per multi-row `INSERT` statement on SQLite (measured in `benches/load.rs`).
const SQLITE_ROWS_PER_STATEMENT: usize = 200;
/// Columns of every current row besides the table's fields: where the row comes from.
const PROVENANCE_COLS: [&str; 2] = ["dataset_id", "snapshot_id"];
/// NIKs per `IN (...)` lookup statement.
const LOOKUP_CHUNK: usize = 500;

/// Storage errors. [`StoreError::code`] gives a stable machine-readable code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL or path could not be used.
    #[error("cannot use database location {location:?}: {reason}")]
    Location {
        /// What was given.
        location: String,
        /// Why it failed.
        reason: String,
    },
    /// A database error.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A record handed to [`Loader::insert`] does not fit the table.
    #[error("record {index} of the batch, field {field:?}: {reason}")]
    InvalidRecord {
        /// Position of the record in the batch given to `insert`.
        index: usize,
        /// Field name (empty when the whole record is wrong).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The dataset already exists for another canonical table.
    #[error("dataset {dataset:?} holds table {existing}, not {requested}")]
    DatasetTableMismatch {
        /// Dataset name.
        dataset: String,
        /// Table it was created with.
        existing: String,
        /// Table asked for.
        requested: String,
    },
    /// A lookup used fields the table does not have.
    #[error("table {table} has no field {field:?}")]
    NoSuchField {
        /// Table name.
        table: String,
        /// Missing field.
        field: String,
    },
    /// Stored metadata could not be decoded.
    #[error("corrupt metadata: {0}")]
    Metadata(String),
    /// Stored data could not be read back.
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    /// The load guard refused the load; nothing changed (see [`LoadPolicy`]).
    #[error("{0}")]
    LoadRefused(LoadRefusal),
    /// No dataset of that name.
    #[error("no dataset {dataset:?}; datasets: {}", known.join(", "))]
    NoSuchDataset {
        /// The name asked for.
        dataset: String,
        /// The datasets the store has.
        known: Vec<String>,
    },
    /// No version of that label in the dataset.
    #[error("dataset {dataset:?} has no version {version:?}; versions: {}", known.join(", "))]
    NoSuchVersion {
        /// Dataset.
        dataset: String,
        /// The label asked for.
        version: String,
        /// The dataset's version labels, oldest first.
        known: Vec<String>,
    },
    /// The version exists but cannot be made current again.
    #[error("version {version} of {dataset:?} cannot be restored: {state:?}")]
    NotRestorable {
        /// Dataset.
        dataset: String,
        /// Version label.
        version: String,
        /// Why: already current, its rows were dropped, or a later delta changed them.
        state: VersionState,
    },
}

impl StoreError {
    /// Stable SCREAMING_SNAKE_CASE code.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Location { .. } => "STORE_LOCATION",
            StoreError::Db(_) => "STORE_DATABASE",
            StoreError::InvalidRecord { .. } => "STORE_INVALID_RECORD",
            StoreError::DatasetTableMismatch { .. } => "STORE_DATASET_TABLE_MISMATCH",
            StoreError::NoSuchField { .. } => "STORE_NO_SUCH_FIELD",
            StoreError::Metadata(_) => "STORE_METADATA",
            StoreError::Corrupt(_) => "STORE_CORRUPT",
            StoreError::LoadRefused(_) => "LOAD_REFUSED",
            StoreError::NoSuchDataset { .. } => "DATASET_NOT_FOUND",
            StoreError::NoSuchVersion { .. } => "VERSION_NOT_FOUND",
            StoreError::NotRestorable { .. } => "VERSION_NOT_RESTORABLE",
        }
    }
}

/// Which database a [`Store`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// What a dataset is: written to the `sinergi_dataset` metadata table on every load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetMeta {
    /// Unique dataset name, e.g. `dukcapil-penduduk`.
    pub name: String,
    /// The canonical table its rows go into.
    pub table: Table,
    /// Agency that owns the data, e.g. `Dukcapil`.
    pub owner_agency: String,
    /// Free description.
    pub description: String,
    /// Reference code lists the data uses, e.g. `kemendagri-wilayah-2025`.
    pub reference_codes: Vec<String>,
    /// How often it is refreshed, e.g. `quarterly`.
    pub update_cadence: String,
}

/// How a load changes the dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadMode {
    /// The rows replace the whole current version.
    Snapshot,
    /// The rows are upserted by [`Table::key`] into the current version (a full snapshot when
    /// the dataset has none yet).
    Delta,
}

impl LoadMode {
    fn as_str(self) -> &'static str {
        match self {
            LoadMode::Snapshot => "snapshot",
            LoadMode::Delta => "delta",
        }
    }
}

/// One input file of a load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// File name as given.
    pub name: String,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
}

/// Figures of a load, handed to [`Loader::commit`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadStats {
    /// Rows read from the input.
    pub read: u64,
    /// Rows loaded.
    pub loaded: u64,
    /// Rows rejected (reported by ingestion).
    pub rejected: u64,
    /// Rows loaded with warnings.
    pub warned: u64,
    /// The quality report.
    pub quality: serde_json::Value,
    /// Input files and their hashes. When non-empty and equal to the current snapshot's, the
    /// load is skipped (nothing changes) and [`SnapshotInfo::skipped`] is true.
    pub input_files: Vec<InputFile>,
    /// Version label; `v<n>` (n-th version of the dataset) when `None`.
    pub version_label: Option<String>,
    /// The date the data describes (`YYYY-MM-DD`: the extract's "per" date), when known. Not
    /// the load time: verdicts cite it as "data as of".
    pub reference_date: Option<String>,
}

/// One loaded version of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// Dataset name.
    pub dataset: String,
    /// Dataset id.
    pub dataset_id: i64,
    /// Snapshot id (unique in the store).
    pub snapshot_id: i64,
    /// Version label.
    pub version_label: String,
    /// Canonical table.
    pub table: Table,
    /// Snapshot or delta.
    pub mode: LoadMode,
    /// Agency the data came from.
    pub source_agency: String,
    /// When it was loaded (RFC 3339, UTC).
    pub loaded_at: String,
    /// Rows in the dataset after this version.
    pub row_count: u64,
    /// Figures handed to commit.
    pub rows_read: u64,
    /// Rows loaded by this version.
    pub rows_loaded: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
    /// Rows with warnings.
    pub rows_warned: u64,
    /// Quality report.
    pub quality: serde_json::Value,
    /// Input files.
    pub input_files: Vec<InputFile>,
    /// The date the data describes, when known (see [`LoadStats::reference_date`]).
    #[serde(default)]
    pub reference_date: Option<String>,
    /// True when the commit found the same input as the current version and changed nothing;
    /// the other fields then describe the (unchanged) current version.
    pub skipped: bool,
}

/// A dataset and its current version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Dataset id.
    pub dataset_id: i64,
    /// Metadata as last loaded.
    pub meta: DatasetMeta,
    /// The current version, if one was committed.
    pub current: Option<SnapshotInfo>,
}

/// Which agency's data, as of when: the provenance verdicts cite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Dataset name.
    pub dataset: String,
    /// Canonical table.
    pub table: Table,
    /// Source agency.
    pub agency: String,
    /// Current snapshot id.
    pub snapshot_id: i64,
    /// Its version label.
    pub version_label: String,
    /// When it was loaded.
    pub loaded_at: String,
    /// The date the data describes, when known.
    pub reference_date: Option<String>,
}

/// A person's membership of a KK over time (from person snapshots).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyMembership {
    /// Dataset the membership was derived from.
    pub dataset_id: i64,
    /// KK number.
    pub kk: String,
    /// NIK.
    pub nik: String,
    /// Relationship to the head of family when the membership began.
    pub family_relationship: Option<String>,
    /// Load time of the first snapshot showing it.
    pub valid_from: String,
    /// Load time of the first snapshot no longer showing it; `None` while current.
    pub valid_to: Option<String>,
}

enum Pools {
    Sqlite {
        /// The database file, for [`Store::scan_text`]'s connections of its own.
        path: PathBuf,
        writer: SqlitePool,
        readers: SqlitePool,
    },
    Pg {
        pool: PgPool,
    },
}

/// A Sinergi store. Cheap to clone; all clones share the connection pools.
#[derive(Clone)]
pub struct Store {
    pools: Arc<Pools>,
}

/// What [`Store::scan_text`] hands each row to: the row's fields as text, borrowed for the call.
pub trait RowSink {
    /// One row, in the order of the fields asked for.
    fn row(&mut self, row: &[Option<&str>]);
}

impl<F: FnMut(&[Option<&str>])> RowSink for F {
    fn row(&mut self, row: &[Option<&str>]) {
        self(row)
    }
}

/// Where [`Store::open`] will connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Location {
    /// Parses `None` (default SQLite path), `sqlite://path`, `sqlite:path`, a plain path, or a
    /// `postgres://` / `postgresql://` URL.
    pub fn parse(url: Option<&str>) -> Location {
        match url {
            None => Location::Sqlite(PathBuf::from(DEFAULT_SQLITE_PATH)),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Location::Postgres(u.to_string())
            }
            Some(u) => {
                let p = u
                    .strip_prefix("sqlite://")
                    .or_else(|| u.strip_prefix("sqlite:"))
                    .unwrap_or(u);
                Location::Sqlite(PathBuf::from(p))
            }
        }
    }
}

macro_rules! with_read_conn {
    ($self:expr, $c:ident => $body:expr) => {
        match &*$self.pools {
            Pools::Sqlite { readers, .. } => {
                let mut pc = readers.acquire().await?;
                #[allow(unused_mut)]
                let mut $c = Conn::Sqlite(&mut pc);
                $body
            }
            Pools::Pg { pool } => {
                let mut pc = pool.acquire().await?;
                #[allow(unused_mut)]
                let mut $c = Conn::Pg(&mut pc);
                $body
            }
        }
    };
}

mod versions;

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn sqlite_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true)
}

impl Store {
    /// Opens a store and applies pending migrations. `None` → the embedded SQLite database
    /// [`DEFAULT_SQLITE_PATH`] (folder and file created on first use); `sqlite://path` or a
    /// plain path → that SQLite file; `postgres://…` / `postgresql://…` → PostgreSQL.
    pub async fn open(url: Option<&str>) -> Result<Store, StoreError> {
        match Location::parse(url) {
            Location::Sqlite(path) => Store::open_sqlite(&path).await,
            Location::Postgres(url) => Store::open_postgres(&url).await,
        }
    }

    async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        let loc_err = |reason: String| StoreError::Location {
            location: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| loc_err(e.to_string()))?;
        }
        let base = sqlite_options(path);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            // Loads hold the writer for their whole duration: wait for the previous one.
            .acquire_timeout(Duration::from_secs(24 * 3600))
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .pragma("cache_size", "-65536")
                    .pragma("journal_size_limit", "67108864"),
            )
            .await?;
        let store = Store {
            pools: Arc::new(Pools::Sqlite {
                path: path.to_path_buf(),
                writer,
                readers: SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_lazy_with(base.read_only(true)),
            }),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::Location {
            location: redact(url),
            reason: e.to_string(),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts)
            .await?;
        let store = Store {
            pools: Arc::new(Pools::Pg { pool }),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A folder for files derived from this store's data, such as the engine's registry
    /// snapshots: `<database file>.cache` beside an SQLite file; `None` on PostgreSQL, where no
    /// local folder belongs to the database.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        match &*self.pools {
            Pools::Sqlite { path, .. } => {
                let mut name = path.file_name()?.to_os_string();
                name.push(".cache");
                Some(path.with_file_name(name))
            }
            Pools::Pg { .. } => None,
        }
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        match &*self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Pg { .. } => Backend::Postgres,
        }
    }

    /// Closes all connections (waits for them to be returned).
    pub async fn close(&self) {
        match &*self.pools {
            Pools::Sqlite {
                writer, readers, ..
            } => {
                readers.close().await;
                writer.close().await;
            }
            Pools::Pg { pool } => pool.close().await,
        }
    }

    /// Applies pending migrations (done by [`Store::open`]; idempotent). Returns the schema
    /// version.
    pub async fn migrate(&self) -> Result<i64, StoreError> {
        // An up-to-date store is not locked for writing: on SQLite a load holds the write lock
        // for its whole duration, and opening the store to read (`validate`, `datasets`) must
        // not wait for it.
        let latest = match &*self.pools {
            Pools::Sqlite { .. } => schema::migrations(Dialect::Sqlite),
            Pools::Pg { .. } => schema::migrations(Dialect::Postgres),
        }
        .last()
        .map(|m| m.version)
        .unwrap_or(0);
        if let Some(v) = self.schema_version().await
            && v >= latest
        {
            return Ok(v);
        }
        let mut tx = self.begin_write().await?;
        let mut c = tx.conn();
        if c.dialect() == Dialect::Postgres {
            c.exec("SELECT pg_advisory_xact_lock(7215470001)", &[])
                .await?;
        }
        c.exec(
            "CREATE TABLE IF NOT EXISTS sinergi_schema_version (version BIGINT PRIMARY KEY, \
             description TEXT NOT NULL, applied_at TEXT NOT NULL)",
            &[],
        )
        .await?;
        let mut current = c
            .one_i64(
                "SELECT COALESCE(MAX(version), 0) FROM sinergi_schema_version",
                &[],
            )
            .await?;
        for m in schema::migrations(c.dialect()) {
            if m.version <= current {
                continue;
            }
            c.exec_all(&m.statements).await?;
            c.exec(
                "INSERT INTO sinergi_schema_version (version, description, applied_at) \
                 VALUES ($1, $2, $3)",
                &[
                    Value::Integer(m.version),
                    Value::Text(m.description.into()),
                    Value::Text(now_rfc3339()),
                ],
            )
            .await?;
            current = m.version;
        }
        tx.commit().await?;
        Ok(current)
    }

    /// The applied schema version, read without taking the write lock; `None` when it cannot
    /// be read (a new database).
    async fn schema_version(&self) -> Option<i64> {
        let read = async {
            let v = with_read_conn!(self, c => c
                .one_i64("SELECT COALESCE(MAX(version), 0) FROM sinergi_schema_version", &[])
                .await?);
            Ok::<i64, StoreError>(v)
        };
        read.await.ok()
    }

    async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match &*self.pools {
            Pools::Sqlite { writer, .. } => Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Pools::Pg { pool } => Tx::Pg(pool.begin().await?),
        })
    }

    /// Starts loading a version of `meta.name`. Nothing is visible to readers until
    /// [`Loader::commit`]; dropping the loader rolls everything back. On SQLite a load holds
    /// the single writer connection until it ends (a second load waits).
    pub async fn begin_load(
        &self,
        meta: &DatasetMeta,
        mode: LoadMode,
    ) -> Result<Loader, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut c = tx.conn();
        let d = c.dialect();
        let t = meta.table;

        let existing = c
            .rows(
                "SELECT table_name FROM sinergi_dataset WHERE name = $1",
                &[Value::Text(meta.name.clone())],
                &[Kind::Text],
            )
            .await?;
        if let Some(Value::Text(existing)) = existing.first().and_then(|r| r.first())
            && existing != t.name()
        {
            return Err(StoreError::DatasetTableMismatch {
                dataset: meta.name.clone(),
                existing: existing.clone(),
                requested: t.name().into(),
            });
        }
        let fields_json = serde_json::to_string(t.fields()).map_err(meta_err)?;
        let refs_json = serde_json::to_string(&meta.reference_codes).map_err(meta_err)?;
        let dataset_id = c
            .one_i64(
                "INSERT INTO sinergi_dataset (name, table_name, owner_agency, description, \
                 fields_json, reference_codes_json, update_cadence, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (name) DO UPDATE SET owner_agency = excluded.owner_agency, \
                 description = excluded.description, fields_json = excluded.fields_json, \
                 reference_codes_json = excluded.reference_codes_json, \
                 update_cadence = excluded.update_cadence \
                 RETURNING dataset_id",
                &[
                    Value::Text(meta.name.clone()),
                    Value::Text(t.name().into()),
                    Value::Text(meta.owner_agency.clone()),
                    Value::Text(meta.description.clone()),
                    Value::Text(fields_json),
                    Value::Text(refs_json),
                    Value::Text(meta.update_cadence.clone()),
                    Value::Text(now_rfc3339()),
                ],
            )
            .await?;
        let current = current_snapshot(&mut c, dataset_id).await?;
        let snapshot_id = c
            .one_i64(
                "INSERT INTO sinergi_snapshot (dataset_id, version_label, mode, storage_table, \
                 source_agency, loaded_at, rows_read, rows_loaded, rows_rejected, rows_warned, \
                 row_count, quality_json, input_files_json, input_digest, status) \
                 VALUES ($1, '', $2, '', $3, $4, 0, 0, 0, 0, 0, 'null', '[]', '', 'loading') \
                 RETURNING snapshot_id",
                &[
                    Value::Integer(dataset_id),
                    Value::Text(mode.as_str().into()),
                    Value::Text(meta.owner_agency.clone()),
                    Value::Text(now_rfc3339()),
                ],
            )
            .await?;
        let (mode, target, generation) = match (&current, mode) {
            (Some(cur), LoadMode::Delta) => {
                c.exec("DROP TABLE IF EXISTS sinergi_stage", &[]).await?;
                let mut ddl =
                    schema::create_data_table(d, "sinergi_stage", t, dataset_id, snapshot_id, true);
                if d == Dialect::Postgres {
                    ddl.push_str(" ON COMMIT DROP");
                }
                c.exec(&ddl, &[]).await?;
                (
                    LoadMode::Delta,
                    "sinergi_stage".to_string(),
                    cur.storage_table.clone(),
                )
            }
            _ => {
                let g = schema::generation_table(t, snapshot_id);
                c.exec(
                    &schema::create_data_table(d, &g, t, dataset_id, snapshot_id, false),
                    &[],
                )
                .await?;
                (LoadMode::Snapshot, g.clone(), g)
            }
        };
        c.exec(
            "UPDATE sinergi_snapshot SET storage_table = $1 WHERE snapshot_id = $2",
            &[Value::Text(generation.clone()), Value::Integer(snapshot_id)],
        )
        .await?;
        let cols = schema::field_cols(t, "");
        let one_row = format!("({})", vec!["?"; t.fields().len()].join(", "));
        let insert_prefix = format!("INSERT INTO {} ({cols}) VALUES ", q(&target));
        let chunk_sql: Arc<str> = format!(
            "{insert_prefix}{}",
            vec![one_row.as_str(); SQLITE_ROWS_PER_STATEMENT].join(", ")
        )
        .into();
        let single_sql: Arc<str> = format!("{insert_prefix}{one_row}").into();
        // FREEZE: the target was created in this transaction (a new generation, or the temp
        // stage), so its rows can be written frozen: no hint-bit rewrite of every page at the
        // first read after commit, no anti-wraparound freeze pass over it later.
        let copy_sql = format!("COPY {} ({cols}) FROM STDIN WITH (FREEZE)", q(&target));
        Ok(Loader {
            store: self.clone(),
            policy: LoadPolicy::default(),
            tx,
            meta: meta.clone(),
            mode,
            dataset_id,
            snapshot_id,
            generation,
            previous: current,
            inserted: 0,
            copy_sql,
            chunk_sql,
            single_sql,
            copy_buf: Vec::new(),
        })
    }

    /// Whether these input files are exactly the current snapshot's (then loading them again
    /// would change nothing). Lets callers skip reading the files at all.
    pub async fn already_loaded(
        &self,
        dataset: &str,
        input_files: &[InputFile],
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        let digest = input_digest(input_files);
        if digest.is_empty() {
            return Ok(None);
        }
        let cur = self
            .datasets()
            .await?
            .into_iter()
            .find(|d| d.meta.name == dataset)
            .and_then(|d| d.current);
        Ok(cur.filter(|s| input_digest(&s.input_files) == digest))
    }

    /// Every dataset with its current version, sorted by name.
    pub async fn datasets(&self) -> Result<Vec<DatasetInfo>, StoreError> {
        let sql = format!(
            "SELECT d.dataset_id, d.name, d.table_name, d.owner_agency, d.description, \
             d.reference_codes_json, d.update_cadence, {SNAPSHOT_COLS} \
             FROM sinergi_dataset d LEFT JOIN sinergi_snapshot s \
             ON s.snapshot_id = d.current_snapshot_id ORDER BY d.name"
        );
        let mut kinds = vec![
            Kind::Int,
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Text,
        ];
        kinds.extend_from_slice(SNAPSHOT_KINDS);
        let rows = with_read_conn!(self, c => c.rows(&sql, &[], &kinds).await?);
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let table = parse_table(&r[2])?;
            let meta = DatasetMeta {
                name: text(&r[1]),
                table,
                owner_agency: text(&r[3]),
                description: text(&r[4]),
                reference_codes: serde_json::from_str(&text(&r[5])).map_err(meta_err)?,
                update_cadence: text(&r[6]),
            };
            let current = if r[7].is_null() {
                None
            } else {
                Some(snapshot_from_row(&meta.name, table, &r[7..])?)
            };
            out.push(DatasetInfo {
                dataset_id: int(&r[0]),
                meta,
                current,
            });
        }
        Ok(out)
    }

    /// Provenance of every dataset's current snapshot, sorted by dataset name.
    pub async fn provenance(&self) -> Result<Vec<Provenance>, StoreError> {
        Ok(self
            .datasets()
            .await?
            .into_iter()
            .filter_map(|d| {
                d.current.map(|s| Provenance {
                    dataset: d.meta.name,
                    table: d.meta.table,
                    agency: s.source_agency,
                    snapshot_id: s.snapshot_id,
                    version_label: s.version_label,
                    loaded_at: s.loaded_at,
                    reference_date: s.reference_date,
                })
            })
            .collect())
    }

    /// Rows in the current versions of all datasets of `table`.
    pub async fn count(&self, table: Table) -> Result<u64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {}", q(&schema::current_view(table)));
        let n = with_read_conn!(self, c => c.one_i64(&sql, &[]).await?);
        Ok(n as u64)
    }

    /// Current rows whose [`Table::key`] fields equal `key_values` (in key order). More than
    /// one when several datasets (or duplicate rows) share the key.
    pub async fn get_by_key(
        &self,
        table: Table,
        key_values: &[Value],
    ) -> Result<Vec<Record>, StoreError> {
        let key = table.key();
        if key_values.len() != key.len() {
            return Err(StoreError::InvalidRecord {
                index: 0,
                field: key.join(","),
                reason: format!(
                    "expected {} key values, got {}",
                    key.len(),
                    key_values.len()
                ),
            });
        }
        let cond = key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} = ${}", q(k), i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = format!(
            "SELECT {} FROM {} WHERE {cond} ORDER BY dataset_id",
            schema::field_cols(table, ""),
            q(&schema::current_view(table))
        );
        let kinds = kinds_of(table);
        let rows = with_read_conn!(self, c => c.rows(&sql, key_values, &kinds).await?);
        Ok(rows
            .into_iter()
            .map(|values| Record { table, values })
            .collect())
    }

    /// Current rows of `table` with any of these NIKs, sorted by NIK then dataset. Batched:
    /// pass thousands at once.
    pub async fn lookup_nik(&self, table: Table, niks: &[&str]) -> Result<Vec<Record>, StoreError> {
        if table.field_index("nik").is_none() {
            return Err(StoreError::NoSuchField {
                table: table.name().into(),
                field: "nik".into(),
            });
        }
        let kinds = kinds_of(table);
        let mut out = Vec::new();
        with_read_conn!(self, c => {
            for chunk in niks.chunks(LOOKUP_CHUNK) {
                let ph = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
                let sql = format!(
                    "SELECT {} FROM {} WHERE \"nik\" IN ({ph})",
                    schema::field_cols(table, ""),
                    q(&schema::current_view(table))
                );
                let args: Vec<Value> = chunk.iter().map(|n| Value::Text((*n).to_string())).collect();
                for values in c.rows(&sql, &args, &kinds).await? {
                    out.push(Record { table, values });
                }
            }
        });
        let nik = table.field_index("nik").unwrap_or(0);
        out.sort_by(|a, b| a.values[nik].as_text().cmp(&b.values[nik].as_text()));
        Ok(out)
    }

    /// Streams every current row of `table` to `f` (one consistent version, not held in
    /// memory). Returns the number of rows.
    pub async fn scan(&self, table: Table, f: impl FnMut(Record)) -> Result<u64, StoreError> {
        let mut f = f;
        let sql = format!(
            "SELECT {} FROM {}",
            schema::field_cols(table, ""),
            q(&schema::current_view(table))
        );
        let kinds = kinds_of(table);
        let n = with_read_conn!(self, c => {
            c.for_each_row(&sql, &[], &kinds, |values| f(Record { table, values })).await?
        });
        Ok(n)
    }

    /// Streams the current rows of `table`, only `fields` of each, as text (besides the table's
    /// fields, `dataset_id` and `snapshot_id` say which dataset version a row is from): `f` gets one slice
    /// per row (`None` for a null; integers and booleans as `"1"`/`"0"` and decimal text),
    /// borrowed until it returns. The fast path for reading whole registries: on SQLite a
    /// blocking thread with a read-only connection of its own steps the statement through the
    /// C API without allocating per value (one consistent snapshot, as [`Store::scan`]); on
    /// PostgreSQL it goes through the pool as `scan` does. The sink is handed back with the
    /// row count, so it can own what it builds.
    pub async fn scan_text<F>(
        &self,
        table: Table,
        fields: &[&str],
        f: F,
    ) -> Result<(u64, F), StoreError>
    where
        F: RowSink + Send + 'static,
    {
        let mut f = f;
        for field in fields {
            if table.field_index(field).is_none() && !PROVENANCE_COLS.contains(field) {
                return Err(StoreError::NoSuchField {
                    table: table.name().to_string(),
                    field: (*field).to_string(),
                });
            }
        }
        let cols = fields.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {cols} FROM {}", q(&schema::current_view(table)));
        match &*self.pools {
            Pools::Sqlite { path, .. } => {
                let path = path.clone();
                let width = fields.len();
                tokio::task::spawn_blocking(move || {
                    let n = scan::scan_text(&path, &sql, width, |row| f.row(row))?;
                    Ok((n, f))
                })
                .await
                .expect("scan thread does not panic")
            }
            Pools::Pg { .. } => {
                let kinds: Vec<Kind> = fields
                    .iter()
                    .map(|name| match table.field_index(name) {
                        Some(i) => Kind::of(table.fields()[i].ty),
                        None => Kind::Int, // dataset_id, snapshot_id
                    })
                    .collect();
                let mut texts: Vec<Option<String>> = Vec::with_capacity(fields.len());
                let n = with_read_conn!(self, c => {
                    c.for_each_row(&sql, &[], &kinds, |values| {
                        texts.clear();
                        texts.extend(values.into_iter().map(|v| match v {
                            Value::Null => None,
                            Value::Text(s) => Some(s),
                            Value::Integer(i) => Some(i.to_string()),
                            Value::Bool(b) => Some(if b { "1" } else { "0" }.to_string()),
                        }));
                        let row: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
                        f.row(&row);
                    })
                    .await?
                });
                Ok((n, f))
            }
        }
    }

    /// KK memberships of a NIK over time (every person dataset), oldest first.
    pub async fn family_history(&self, nik: &str) -> Result<Vec<FamilyMembership>, StoreError> {
        self.family_query("nik", nik).await
    }

    /// Everyone who is or was on a KK, oldest membership first.
    pub async fn family_members(&self, kk: &str) -> Result<Vec<FamilyMembership>, StoreError> {
        self.family_query("kk", kk).await
    }

    async fn family_query(&self, col: &str, v: &str) -> Result<Vec<FamilyMembership>, StoreError> {
        let sql = format!(
            "SELECT dataset_id, kk, nik, family_relationship, valid_from, valid_to \
             FROM family_history WHERE {col} = $1 \
             ORDER BY valid_from, snapshot_from, dataset_id, nik, kk"
        );
        let kinds = [
            Kind::Int,
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Text,
        ];
        let rows =
            with_read_conn!(self, c => c.rows(&sql, &[Value::Text(v.into())], &kinds).await?);
        Ok(rows
            .into_iter()
            .map(|r| FamilyMembership {
                dataset_id: int(&r[0]),
                kk: text(&r[1]),
                nik: text(&r[2]),
                family_relationship: r[3].as_text().map(str::to_string),
                valid_from: text(&r[4]),
                valid_to: r[5].as_text().map(str::to_string),
            })
            .collect())
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(a)) if a > s => format!("{}://***{}", &url[..s], &url[a..]),
        _ => url.to_string(),
    }
}

fn meta_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Metadata(e.to_string())
}

fn text(v: &Value) -> String {
    v.as_text().unwrap_or_default().to_string()
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        _ => 0,
    }
}

fn parse_table(v: &Value) -> Result<Table, StoreError> {
    let name = text(v);
    Table::from_name(&name).ok_or_else(|| meta_err(format!("unknown table {name:?}")))
}

fn kinds_of(t: Table) -> Vec<Kind> {
    t.fields().iter().map(|f| Kind::of(f.ty)).collect()
}

fn input_digest(files: &[InputFile]) -> String {
    let mut h: Vec<&str> = files.iter().map(|f| f.sha256.as_str()).collect();
    h.sort_unstable();
    h.join(",")
}

const SNAPSHOT_COLS: &str = "s.snapshot_id, s.dataset_id, s.version_label, s.mode, \
    s.source_agency, s.loaded_at, s.row_count, s.rows_read, s.rows_loaded, s.rows_rejected, \
    s.rows_warned, s.quality_json, s.input_files_json, s.reference_date, s.storage_table";
const SNAPSHOT_KINDS: &[Kind] = &[
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
];

fn snapshot_from_row(dataset: &str, table: Table, r: &[Value]) -> Result<SnapshotInfo, StoreError> {
    Ok(SnapshotInfo {
        dataset: dataset.to_string(),
        snapshot_id: int(&r[0]),
        dataset_id: int(&r[1]),
        version_label: text(&r[2]),
        table,
        mode: if text(&r[3]) == "delta" {
            LoadMode::Delta
        } else {
            LoadMode::Snapshot
        },
        source_agency: text(&r[4]),
        loaded_at: text(&r[5]),
        row_count: int(&r[6]) as u64,
        rows_read: int(&r[7]) as u64,
        rows_loaded: int(&r[8]) as u64,
        rows_rejected: int(&r[9]) as u64,
        rows_warned: int(&r[10]) as u64,
        quality: serde_json::from_str(&text(&r[11])).map_err(meta_err)?,
        input_files: serde_json::from_str(&text(&r[12])).map_err(meta_err)?,
        reference_date: r[13]
            .as_text()
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        skipped: false,
    })
}

/// The current snapshot of a dataset, read inside a write transaction.
struct Current {
    info: SnapshotInfo,
    storage_table: String,
}

impl std::ops::Deref for Current {
    type Target = SnapshotInfo;
    fn deref(&self) -> &SnapshotInfo {
        &self.info
    }
}

async fn current_snapshot(
    c: &mut Conn<'_>,
    dataset_id: i64,
) -> Result<Option<Current>, StoreError> {
    let sql = format!(
        "SELECT {SNAPSHOT_COLS}, d.name, d.table_name FROM sinergi_dataset d \
         JOIN sinergi_snapshot s ON s.snapshot_id = d.current_snapshot_id \
         WHERE d.dataset_id = $1"
    );
    let mut kinds = SNAPSHOT_KINDS.to_vec();
    kinds.extend([Kind::Text, Kind::Text]);
    let rows = c.rows(&sql, &[Value::Integer(dataset_id)], &kinds).await?;
    let Some(r) = rows.into_iter().next() else {
        return Ok(None);
    };
    let n = SNAPSHOT_KINDS.len();
    let table = parse_table(&r[n + 1])?;
    Ok(Some(Current {
        info: snapshot_from_row(&text(&r[n]), table, &r[..n])?,
        storage_table: text(&r[n - 1]),
    }))
}

enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(&mut *t),
            Tx::Pg(t) => Conn::Pg(&mut *t),
        }
    }

    async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }

    async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Pg(t) => t.rollback().await?,
        }
        Ok(())
    }
}

/// An open load: one database transaction. Dropping it without [`Loader::commit`] rolls back.
pub struct Loader {
    store: Store,
    policy: LoadPolicy,
    tx: Tx,
    meta: DatasetMeta,
    mode: LoadMode,
    dataset_id: i64,
    snapshot_id: i64,
    /// Physical table that holds the dataset after commit.
    generation: String,
    previous: Option<Current>,
    inserted: u64,
    copy_sql: String,
    chunk_sql: Arc<str>,
    single_sql: Arc<str>,
    copy_buf: Vec<u8>,
}

impl Loader {
    /// Sets how the load is governed (guard thresholds, confirmation, kept versions, actor).
    /// Without it, [`LoadPolicy::default`] applies: the guard is on.
    pub fn set_policy(&mut self, policy: LoadPolicy) {
        self.policy = policy;
    }

    /// The snapshot id this load will have once committed.
    pub fn snapshot_id(&self) -> i64 {
        self.snapshot_id
    }

    /// The effective mode (a delta into an empty dataset is a snapshot).
    pub fn mode(&self) -> LoadMode {
        self.mode
    }

    /// Rows inserted so far.
    pub fn inserted(&self) -> u64 {
        self.inserted
    }

    /// Adds rows (batches of a few thousand are best). The whole batch is checked first: a
    /// record of another table, of the wrong length, with a value of the wrong type, or with a
    /// NUL character in a text (PostgreSQL text cannot hold NUL, so neither backend accepts it)
    /// fails the call with nothing of the batch inserted; the loader stays usable.
    pub async fn insert(&mut self, records: &[Record]) -> Result<(), StoreError> {
        let t = self.meta.table;
        validate(t, records)?;
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                // sqlx's worker thread is parked while we hold its handle lock: same
                // connection, same transaction (see bulk.rs).
                let mut handle = tx.lock_handle().await?;
                let db = handle.as_raw_handle();
                let width = t.fields().len();
                let (chunk_sql, single_sql) = (&*self.chunk_sql, &*self.single_sql);
                // SAFETY: we hold the handle lock until the closure returns.
                let run = || unsafe {
                    bulk::insert(
                        db,
                        chunk_sql,
                        single_sql,
                        SQLITE_ROWS_PER_STATEMENT,
                        width,
                        records,
                    )
                };
                // Blocking C calls: move other tasks off this worker when the runtime allows.
                let multi = tokio::runtime::Handle::try_current().is_ok_and(|h| {
                    h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
                });
                if multi {
                    tokio::task::block_in_place(run)?;
                } else {
                    run()?;
                }
                drop(handle);
            }
            Tx::Pg(tx) => {
                self.copy_buf.clear();
                for r in records {
                    copy_text_row(&mut self.copy_buf, r);
                }
                let mut copy = tx.copy_in_raw(&self.copy_sql).await?;
                for part in self.copy_buf.chunks(1 << 20) {
                    copy.send(part).await?;
                }
                copy.finish().await?;
            }
        }
        self.inserted += records.len() as u64;
        Ok(())
    }

    /// Abandons the load (same as dropping it, but waits for the rollback).
    pub async fn abort(self) -> Result<(), StoreError> {
        self.tx.rollback().await
    }

    /// Makes the load the dataset's current version, atomically. When `stats.input_files` are
    /// the current version's, nothing changes and the result has `skipped: true`.
    pub async fn commit(mut self, stats: LoadStats) -> Result<SnapshotInfo, StoreError> {
        let digest = input_digest(&stats.input_files);
        if let Some(prev) = &self.previous
            && !digest.is_empty()
            && input_digest(&prev.input_files) == digest
        {
            let mut info = prev.info.clone();
            info.skipped = true;
            self.tx.rollback().await?;
            return Ok(info);
        }
        let guard = self.policy.check(guard::Figures {
            mode: self.mode,
            previous_rows: self.previous.as_ref().map(|p| p.row_count),
            inserted: self.inserted,
            read: stats.read,
            rejected: stats.rejected,
        });
        let figures = serde_json::json!({
            "rows_inserted": self.inserted,
            "rows_read": stats.read,
            "rows_rejected": stats.rejected,
            "previous_rows": self.previous.as_ref().map(|p| p.row_count),
        });
        if !guard.is_empty() && !self.policy.confirmed {
            let refusal = LoadRefusal {
                dataset: self.meta.name.clone(),
                current_version: self.previous.as_ref().map(|p| p.version_label.clone()),
                reasons: guard,
            };
            let previous = self.previous.as_ref().map(|p| p.snapshot_id);
            let (store, actor) = (self.store.clone(), self.policy.actor.clone());
            self.tx.rollback().await?;
            let mut detail = figures;
            detail["refused"] = serde_json::to_value(&refusal.reasons).map_err(meta_err)?;
            store
                .record_event(&refusal.dataset, "refused", previous, &actor, &detail)
                .await?;
            return Err(StoreError::LoadRefused(refusal));
        }
        let t = self.meta.table;
        let (ds, sid) = (
            Value::Integer(self.dataset_id),
            Value::Integer(self.snapshot_id),
        );
        let loaded_at = now_rfc3339();
        let mut c = self.tx.conn();
        let d = c.dialect();
        let generation = q(&self.generation);
        let row_count;
        match self.mode {
            LoadMode::Snapshot => {
                if d == Dialect::Postgres {
                    // Index builds sort in memory up to this (the server default is 64 MB);
                    // reset at the end of the transaction.
                    c.exec("SET LOCAL maintenance_work_mem = '256MB'", &[])
                        .await?;
                }
                c.exec_all(&schema::index_ddl(&self.generation, t)).await?;
                if t == Table::Person {
                    match &self.previous {
                        Some(prev) => {
                            let old = q(&prev.storage_table);
                            family_update(&mut c, &old, &generation, None, &loaded_at, &sid, &ds)
                                .await?;
                        }
                        None => {
                            c.exec(
                                "UPDATE sinergi_dataset SET family_baseline_at = $1, \
                                 family_baseline_snapshot = $2 WHERE dataset_id = $3",
                                &[Value::Text(loaded_at.clone()), sid.clone(), ds.clone()],
                            )
                            .await?;
                        }
                    }
                }
                row_count = self.inserted as i64;
            }
            LoadMode::Delta => {
                let cond = t
                    .key()
                    .iter()
                    .map(|k| format!("s.{k} = {generation}.{k}", k = q(k)))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                if t == Table::Person {
                    let only = "(SELECT \"nik\" FROM sinergi_stage)";
                    let (old, new) = (&generation, "sinergi_stage");
                    family_update(&mut c, old, new, Some(only), &loaded_at, &sid, &ds).await?;
                }
                c.exec(
                    &format!(
                        "DELETE FROM {generation} WHERE EXISTS \
                         (SELECT 1 FROM sinergi_stage s WHERE {cond})"
                    ),
                    &[],
                )
                .await?;
                let cols = schema::field_cols(t, "");
                c.exec(
                    &format!(
                        "INSERT INTO {generation} ({cols}, dataset_id, snapshot_id) \
                         SELECT {cols}, dataset_id, snapshot_id FROM sinergi_stage"
                    ),
                    &[],
                )
                .await?;
                c.exec("DROP TABLE sinergi_stage", &[]).await?;
                row_count = c
                    .one_i64(&format!("SELECT COUNT(*) FROM {generation}"), &[])
                    .await?;
            }
        }
        if d == Dialect::Postgres {
            lock_views(&mut c, t).await?;
            c.exec(&format!("ANALYZE {generation}"), &[]).await?;
        }
        let n_versions = c
            .one_i64(
                "SELECT COUNT(*) FROM sinergi_snapshot WHERE dataset_id = $1",
                std::slice::from_ref(&ds),
            )
            .await?;
        let label = stats
            .version_label
            .clone()
            .unwrap_or_else(|| format!("v{n_versions}"));
        let quality = serde_json::to_string(&stats.quality).map_err(meta_err)?;
        let files = serde_json::to_string(&stats.input_files).map_err(meta_err)?;
        c.exec(
            "UPDATE sinergi_snapshot SET status = 'superseded', superseded_at = $2 \
             WHERE dataset_id = $1 AND status = 'current'",
            &[ds.clone(), Value::Text(loaded_at.clone())],
        )
        .await?;
        c.exec(
            "UPDATE sinergi_snapshot SET status = 'current', version_label = $1, loaded_at = $2, \
             rows_read = $3, rows_loaded = $4, rows_rejected = $5, rows_warned = $6, \
             row_count = $7, quality_json = $8, input_files_json = $9, input_digest = $10, \
             reference_date = $12 WHERE snapshot_id = $11",
            &[
                Value::Text(label),
                Value::Text(loaded_at),
                Value::Integer(stats.read as i64),
                Value::Integer(stats.loaded as i64),
                Value::Integer(stats.rejected as i64),
                Value::Integer(stats.warned as i64),
                Value::Integer(row_count),
                Value::Text(quality),
                Value::Text(files),
                Value::Text(digest),
                sid.clone(),
                // An empty text rather than a typed NULL: one parameter type for PostgreSQL.
                Value::Text(stats.reference_date.clone().unwrap_or_default()),
            ],
        )
        .await?;
        c.exec(
            "UPDATE sinergi_dataset SET current_snapshot_id = $1 WHERE dataset_id = $2",
            &[sid, ds],
        )
        .await?;
        if self.mode == LoadMode::Snapshot {
            rebuild_current_view(&mut c, t).await?;
            prune_versions(
                &mut c,
                self.dataset_id,
                &self.generation,
                self.policy.keep_previous,
            )
            .await?;
        }
        let mut detail = figures;
        detail["row_count"] = serde_json::json!(row_count);
        if !guard.is_empty() {
            detail["confirmed_despite"] = serde_json::to_value(&guard).map_err(meta_err)?;
        }
        versions::insert_event(
            &mut c,
            &self.meta.name,
            self.mode.as_str(),
            Some(self.snapshot_id),
            self.previous.as_ref().map(|p| p.snapshot_id),
            &self.policy.actor,
            &detail,
        )
        .await?;
        let info = current_snapshot(&mut c, self.dataset_id)
            .await?
            .ok_or_else(|| meta_err("committed snapshot not found"))?
            .info;
        self.tx.commit().await?;
        Ok(info)
    }
}

/// PostgreSQL: serialises view rebuilds of one canonical table across concurrent loads and
/// restores (held until the transaction ends).
async fn lock_views(c: &mut Conn<'_>, t: Table) -> Result<(), StoreError> {
    c.exec(
        "SELECT pg_advisory_xact_lock($1)",
        &[Value::Integer(
            7_215_470_100 + Table::ALL.iter().position(|x| *x == t).unwrap_or(0) as i64,
        )],
    )
    .await?;
    Ok(())
}

/// Redefines `T__current` over every dataset's current table of `t` (inside the caller's
/// transaction, after the current pointers moved).
async fn rebuild_current_view(c: &mut Conn<'_>, t: Table) -> Result<(), StoreError> {
    let d = c.dialect();
    if d == Dialect::Postgres {
        lock_views(c, t).await?;
    }
    let gens = c
        .rows(
            "SELECT s.storage_table FROM sinergi_dataset d JOIN sinergi_snapshot s \
             ON s.snapshot_id = d.current_snapshot_id WHERE d.table_name = $1 \
             ORDER BY d.dataset_id",
            &[Value::Text(t.name().into())],
            &[Kind::Text],
        )
        .await?
        .iter()
        .map(|r| text(&r[0]))
        .collect::<Vec<_>>();
    c.exec_all(&schema::current_view_ddl(d, t, &gens)).await
}

/// Keeps the tables of the `keep` most recently superseded versions of a dataset and drops
/// older ones (their snapshot rows stay, marked `dropped`). The current table is never
/// dropped, nor one a kept version shares.
async fn prune_versions(
    c: &mut Conn<'_>,
    dataset_id: i64,
    current_table: &str,
    keep: usize,
) -> Result<(), StoreError> {
    let rows = c
        .rows(
            "SELECT storage_table FROM sinergi_snapshot WHERE dataset_id = $1 \
             AND status = 'superseded' ORDER BY superseded_at DESC, snapshot_id DESC",
            &[Value::Integer(dataset_id)],
            &[Kind::Text],
        )
        .await?;
    let mut tables: Vec<String> = Vec::new();
    for r in &rows {
        let name = text(&r[0]);
        if name != current_table && !tables.contains(&name) {
            tables.push(name);
        }
    }
    for name in tables.iter().skip(keep) {
        c.exec(&format!("DROP TABLE IF EXISTS {}", q(name)), &[])
            .await?;
        c.exec(
            "UPDATE sinergi_snapshot SET status = 'dropped' WHERE dataset_id = $1 \
             AND storage_table = $2 AND status = 'superseded'",
            &[Value::Integer(dataset_id), Value::Text(name.clone())],
        )
        .await?;
    }
    Ok(())
}

/// Records KK membership changes between the previous rows `old` and the new rows `new` of a
/// person dataset (see `family_history` in `schema.rs`). `only_niks` restricts everything to
/// a subquery of NIKs (delta loads, where `new` is the stage).
async fn family_update(
    c: &mut Conn<'_>,
    old: &str,
    new: &str,
    only_niks: Option<&str>,
    loaded_at: &str,
    sid: &Value,
    ds: &Value,
) -> Result<(), StoreError> {
    let (only_fm, only_o, only_p) = match only_niks {
        Some(sub) => (
            format!(" AND family_membership.nik IN {sub}"),
            format!(" AND o.\"nik\" IN {sub}"),
            format!(" AND p.\"nik\" IN {sub}"),
        ),
        None => (String::new(), String::new(), String::new()),
    };
    let args = [Value::Text(loaded_at.into()), sid.clone(), ds.clone()];
    // Explicit open memberships that ended.
    c.exec(
        &format!(
            "UPDATE family_membership SET valid_to = $1, snapshot_to = $2 \
             WHERE dataset_id = $3 AND valid_to IS NULL{only_fm} AND NOT EXISTS \
             (SELECT 1 FROM {new} p WHERE p.\"nik\" = family_membership.nik \
             AND p.\"kk\" = family_membership.kk)"
        ),
        &args,
    )
    .await?;
    // Implicit memberships (since the baseline) that ended.
    c.exec(
        &format!(
            "INSERT INTO family_membership (dataset_id, kk, nik, family_relationship, \
             valid_from, valid_to, snapshot_from, snapshot_to) \
             SELECT $3, o.\"kk\", o.\"nik\", o.\"family_relationship\", \
             d.family_baseline_at, $1, d.family_baseline_snapshot, $2 \
             FROM {old} o JOIN sinergi_dataset d ON d.dataset_id = $3 \
             WHERE o.\"nik\" IS NOT NULL AND o.\"kk\" IS NOT NULL{only_o} \
             AND NOT EXISTS (SELECT 1 FROM {new} p WHERE p.\"nik\" = o.\"nik\" AND p.\"kk\" = o.\"kk\") \
             AND NOT EXISTS (SELECT 1 FROM family_membership f WHERE f.dataset_id = $3 \
             AND f.nik = o.\"nik\" AND f.kk = o.\"kk\" AND f.snapshot_to = $2)"
        ),
        &args,
    )
    .await?;
    // Memberships that began.
    c.exec(
        &format!(
            "INSERT INTO family_membership (dataset_id, kk, nik, family_relationship, \
             valid_from, snapshot_from) \
             SELECT $3, p.\"kk\", p.\"nik\", p.\"family_relationship\", $1, $2 \
             FROM {new} p WHERE p.\"nik\" IS NOT NULL AND p.\"kk\" IS NOT NULL{only_p} \
             AND NOT EXISTS (SELECT 1 FROM {old} o WHERE o.\"nik\" = p.\"nik\" AND o.\"kk\" = p.\"kk\")"
        ),
        &args,
    )
    .await?;
    Ok(())
}

fn validate(t: Table, records: &[Record]) -> Result<(), StoreError> {
    let fields = t.fields();
    for (index, r) in records.iter().enumerate() {
        let bad = |field: &str, reason: String| StoreError::InvalidRecord {
            index,
            field: field.to_string(),
            reason,
        };
        if r.table != t {
            return Err(bad(
                "",
                format!(
                    "record of table {} loaded into {}",
                    r.table.name(),
                    t.name()
                ),
            ));
        }
        if r.values.len() != fields.len() {
            return Err(bad(
                "",
                format!("{} values for {} fields", r.values.len(), fields.len()),
            ));
        }
        for (f, v) in fields.iter().zip(&r.values) {
            let ok = match (f.ty, v) {
                (_, Value::Null) => true,
                (FieldType::Integer, Value::Integer(_)) => true,
                (FieldType::Bool, Value::Bool(_)) => true,
                (FieldType::Integer | FieldType::Bool, _) => false,
                (_, Value::Text(s)) => {
                    if s.as_bytes().contains(&0) {
                        return Err(bad(f.name, "text contains a NUL character".into()));
                    }
                    true
                }
                _ => false,
            };
            if !ok {
                return Err(bad(
                    f.name,
                    format!("value {v:?} is not of type {:?}", f.ty),
                ));
            }
        }
    }
    Ok(())
}

/// Appends one row in PostgreSQL COPY text format: tab-separated, `\N` for NULL, backslash,
/// tab, newline and carriage return escaped.
fn copy_text_row(buf: &mut Vec<u8>, r: &Record) {
    for (i, v) in r.values.iter().enumerate() {
        if i > 0 {
            buf.push(b'\t');
        }
        match v {
            Value::Null => buf.extend_from_slice(b"\\N"),
            Value::Integer(n) => buf.extend_from_slice(n.to_string().as_bytes()),
            Value::Bool(b) => buf.push(if *b { b't' } else { b'f' }),
            Value::Text(s) => {
                let bytes = s.as_bytes();
                if !bytes
                    .iter()
                    .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
                {
                    buf.extend_from_slice(bytes);
                } else {
                    for &b in bytes {
                        match b {
                            b'\\' => buf.extend_from_slice(b"\\\\"),
                            b'\t' => buf.extend_from_slice(b"\\t"),
                            b'\n' => buf.extend_from_slice(b"\\n"),
                            b'\r' => buf.extend_from_slice(b"\\r"),
                            _ => buf.push(b),
                        }
                    }
                }
            }
        }
    }
    buf.push(b'\n');
}
