//! The durable audit log: an SQL [`AuditStore`] (SQLite or PostgreSQL, schema of
//! docs/EXCHANGE.md) and the group-commit writer thread.
//!
//! One writer thread owns the chain head ([`AuditLog`]). Request handlers send their records
//! with a one-shot reply channel over a bounded queue; the writer takes whatever is queued
//! (up to [`MAX_BATCH`] records) as soon as the previous commit finished, writes it in one
//! transaction, commits (SQLite WAL `synchronous=FULL`, PostgreSQL `synchronous_commit=on`),
//! and answers every waiting handler. Handlers answer their client only after that. A full
//! queue or a failed commit is AUDIT_UNAVAILABLE: nothing is served unaudited.

use std::str::FromStr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sinergi_exchange::audit::{ChainHead, StoreError as ChainError};
use sinergi_exchange::{
    AuditEntry, AuditLog, AuditRecord, AuditStore, Checkpoint, HashValue, SigningKey, Timestamp,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::oneshot;

/// Most records one transaction takes (beyond one message, which is never split).
pub const MAX_BATCH: usize = 512;
/// Rows per multi-row `INSERT` statement on PostgreSQL (one round trip per statement; at most
/// 65,535 parameters). SQLite inserts one prepared row at a time through the C API instead
/// (audit_sqlite.rs).
const PG_ROWS_PER_INSERT: usize = 256;
/// Queue length in messages; full → AUDIT_UNAVAILABLE.
pub const QUEUE_LEN: usize = 10_000;

/// Errors of the SQL audit store.
#[derive(Debug, thiserror::Error)]
pub enum AuditDbError {
    #[error("audit database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("audit chain: {0}")]
    Chain(#[from] ChainError),
    #[error("audit database: {0}")]
    Other(String),
}

/// A pool on SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

const ENTRY_COLS: &str = "seq, at_us, node, request_id, client, service, purpose, pks_id, \
    user_id, issue, decision, clause, subject_hash, status, latency_us, request_hash, prev_hash, hash";

/// The audit schema. `hash` carries no UNIQUE index (it did until the batch work): no query
/// looks entries up by hash, the `seq` primary key already turns a second writer into a failed
/// transaction rather than a fork, and `audit verify` recomputes every hash and link. A
/// unique index on 32 random bytes was the costliest of the entry's B-trees to maintain
/// (every insert lands on a random page). Databases created before keep their index.
fn schema(pg: bool) -> Vec<String> {
    let blob = if pg { "BYTEA" } else { "BLOB" };
    let mut v = vec![
        format!(
            "CREATE TABLE IF NOT EXISTS audit_entry (
  seq BIGINT PRIMARY KEY, at_us BIGINT NOT NULL, node TEXT NOT NULL, request_id TEXT NOT NULL,
  client TEXT NOT NULL, service TEXT NOT NULL, purpose TEXT NOT NULL, pks_id TEXT,
  user_id TEXT NOT NULL, issue TEXT NOT NULL, decision TEXT NOT NULL, clause TEXT NOT NULL,
  subject_hash {blob}, status SMALLINT NOT NULL, latency_us BIGINT NOT NULL,
  request_hash {blob} NOT NULL, prev_hash {blob} NOT NULL, hash {blob} NOT NULL)"
        ),
        "CREATE INDEX IF NOT EXISTS audit_entry_subject ON audit_entry (subject_hash, seq) \
         WHERE subject_hash IS NOT NULL"
            .into(),
        "CREATE INDEX IF NOT EXISTS audit_entry_client_at ON audit_entry (client, at_us)".into(),
        "CREATE INDEX IF NOT EXISTS audit_entry_pks_at ON audit_entry (pks_id, at_us)".into(),
        format!(
            "CREATE TABLE IF NOT EXISTS audit_checkpoint (seq BIGINT NOT NULL, node TEXT NOT NULL,
  head_hash {blob} NOT NULL, at_us BIGINT NOT NULL, signature {blob} NOT NULL,
  PRIMARY KEY (node, seq))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS api_token (hash {blob} PRIMARY KEY, client TEXT NOT NULL,
  label TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT)"
        ),
        "CREATE TABLE IF NOT EXISTS pks_agreement (id TEXT PRIMARY KEY, provider TEXT NOT NULL,
  consumer TEXT NOT NULL, body TEXT NOT NULL, updated_at_us BIGINT NOT NULL)"
            .into(),
    ];
    if pg {
        v.push(
            "CREATE OR REPLACE FUNCTION sinergi_audit_append_only() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END; $$ LANGUAGE plpgsql"
                .into(),
        );
        v.push(
            "CREATE OR REPLACE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON \
             audit_entry FOR EACH ROW EXECUTE FUNCTION sinergi_audit_append_only()"
                .into(),
        );
    } else {
        for op in ["UPDATE", "DELETE"] {
            v.push(format!(
                "CREATE TRIGGER IF NOT EXISTS audit_entry_no_{} BEFORE {op} ON audit_entry \
                 BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
                op.to_lowercase()
            ));
        }
    }
    v
}

fn is_pg(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

impl Db {
    /// Opens (and migrates) the audit database. `writer`: one connection with
    /// `synchronous=FULL` (the group-commit writer); otherwise a small read/write pool.
    pub async fn open(url: &str, writer: bool) -> Result<Db, AuditDbError> {
        let db = if is_pg(url) {
            let opts = PgConnectOptions::from_str(url)?;
            Db::Pg(
                PgPoolOptions::new()
                    .max_connections(if writer { 1 } else { 4 })
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(opts)
                    .await?,
            )
        } else {
            let path = sqlite_path(url);
            if let Some(dir) = std::path::Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|e| AuditDbError::Other(e.to_string()))?;
            }
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                // The hash and subject indexes take random keys: keep their pages cached.
                .pragma("cache_size", "-65536")
                // Checkpoint the WAL every 64 MiB instead of SQLite's 4 MiB: a checkpoint
                // runs inside a commit (and fsyncs the database file), and the audit's hot
                // index pages are rewritten by every commit, so rarer checkpoints write each
                // page back once instead of many times (100,000-NIK batch: 3.9 s -> 2.5 s).
                .pragma("wal_autocheckpoint", "16384");
            Db::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(if writer { 1 } else { 4 })
                    .connect_with(opts)
                    .await?,
            )
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), AuditDbError> {
        match self {
            Db::Sqlite(p) => {
                let mut tx = p.begin().await?;
                for s in schema(false) {
                    sqlx::query(AssertSqlSafe(s)).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Db::Pg(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(7215470002)")
                    .execute(&mut *tx)
                    .await?;
                for s in schema(true) {
                    sqlx::query(AssertSqlSafe(s)).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Pg(p) => p.close().await,
        }
    }

    /// `$n` placeholders → `?n` for SQLite.
    fn sql(&self, s: &str) -> String {
        match self {
            Db::Pg(_) => s.to_owned(),
            Db::Sqlite(_) => {
                let b = s.as_bytes();
                let mut out = String::with_capacity(s.len());
                for (i, c) in s.char_indices() {
                    if c == '$' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                        out.push('?');
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }

    pub async fn head(&self) -> Result<ChainHead, AuditDbError> {
        let sql = "SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1";
        let row: Option<(i64, Vec<u8>)> = match self {
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_optional(p).await?,
            Db::Pg(p) => sqlx::query_as(sql).fetch_optional(p).await?,
        };
        Ok(match row {
            None => ChainHead::default(),
            Some((seq, hash)) => ChainHead {
                seq: seq as u64,
                hash: hash32(&hash)?,
            },
        })
    }

    async fn append(&self, entries: &[AuditEntry]) -> Result<(), AuditDbError> {
        if entries.is_empty() {
            return Ok(());
        }
        let head_sql = "SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1";
        let head_of = |row: Option<(i64, Vec<u8>)>| -> Result<ChainHead, AuditDbError> {
            Ok(match row {
                None => ChainHead::default(),
                Some((s, h)) => ChainHead {
                    seq: s as u64,
                    hash: hash32(&h)?,
                },
            })
        };
        match self {
            Db::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                // sqlx's worker is parked while we hold its handle lock: same connection,
                // one hand-off for the whole transaction (see audit_sqlite.rs). The writer
                // thread runs its own current-thread runtime, so blocking here blocks nobody.
                let mut handle = conn.lock_handle().await?;
                let db = handle.as_raw_handle();
                // SAFETY: we hold the handle lock until the call returns; the pool's
                // connections are in autocommit between uses.
                unsafe { crate::audit_sqlite::append(db, &insert_sql(1, false), entries)? };
            }
            Db::Pg(p) => {
                let mut tx = p.begin().await?;
                let head = sqlx::query_as(head_sql).fetch_optional(&mut *tx).await?;
                check_continues(head_of(head)?, entries)?;
                for chunk in entries.chunks(PG_ROWS_PER_INSERT) {
                    let sql = insert_sql(chunk.len(), true);
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for e in chunk {
                        q = q
                            .bind(e.seq as i64)
                            .bind(e.at.0)
                            .bind(e.node.clone())
                            .bind(e.request_id.clone())
                            .bind(e.client.clone())
                            .bind(e.service.clone())
                            .bind(e.purpose.clone())
                            .bind(e.pks_id.clone())
                            .bind(e.user_id.clone())
                            .bind(e.issue.clone())
                            .bind(e.decision.clone())
                            .bind(e.clause.clone())
                            .bind(e.subject_hash.map(|h| h.0.to_vec()))
                            .bind(e.status as i16)
                            .bind(e.latency_us.min(i64::MAX as u64) as i64)
                            .bind(e.request_hash.0.to_vec())
                            .bind(e.prev_hash.0.to_vec())
                            .bind(e.hash.0.to_vec());
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    pub async fn read_range(
        &self,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, AuditDbError> {
        let sql = self.sql(&format!(
            "SELECT {ENTRY_COLS} FROM audit_entry WHERE seq >= $1 ORDER BY seq LIMIT $2"
        ));
        match self {
            Db::Sqlite(p) => sqlx::query(AssertSqlSafe(sql))
                .bind(from_seq as i64)
                .bind(limit as i64)
                .fetch_all(p)
                .await?
                .iter()
                .map(entry_sqlite)
                .collect(),
            Db::Pg(p) => sqlx::query(AssertSqlSafe(sql))
                .bind(from_seq as i64)
                .bind(limit as i64)
                .fetch_all(p)
                .await?
                .iter()
                .map(entry_pg)
                .collect(),
        }
    }

    pub async fn by_subject(&self, subject: &HashValue) -> Result<Vec<AuditEntry>, AuditDbError> {
        let sql = self.sql(&format!(
            "SELECT {ENTRY_COLS} FROM audit_entry WHERE subject_hash = $1 ORDER BY seq"
        ));
        match self {
            Db::Sqlite(p) => sqlx::query(AssertSqlSafe(sql))
                .bind(subject.0.to_vec())
                .fetch_all(p)
                .await?
                .iter()
                .map(entry_sqlite)
                .collect(),
            Db::Pg(p) => sqlx::query(AssertSqlSafe(sql))
                .bind(subject.0.to_vec())
                .fetch_all(p)
                .await?
                .iter()
                .map(entry_pg)
                .collect(),
        }
    }

    pub async fn put_checkpoint(&self, c: &Checkpoint) -> Result<(), AuditDbError> {
        let sql = self.sql(
            "INSERT INTO audit_checkpoint (seq, node, head_hash, at_us, signature) \
             VALUES ($1, $2, $3, $4, $5)",
        );
        macro_rules! run {
            ($p:expr) => {{
                sqlx::query(AssertSqlSafe(sql))
                    .bind(c.seq as i64)
                    .bind(c.node.clone())
                    .bind(c.head_hash.0.to_vec())
                    .bind(c.at.0)
                    .bind(c.signature.to_vec())
                    .execute($p)
                    .await?;
            }};
        }
        match self {
            Db::Sqlite(p) => run!(p),
            Db::Pg(p) => run!(p),
        };
        Ok(())
    }

    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>, AuditDbError> {
        let sql =
            "SELECT node, seq, head_hash, at_us, signature FROM audit_checkpoint ORDER BY seq";
        let rows: Vec<CheckpointRow> = match self {
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await?,
            Db::Pg(p) => sqlx::query_as(sql).fetch_all(p).await?,
        };
        rows.into_iter()
            .map(|(node, seq, h, at, sig)| {
                Ok(Checkpoint {
                    node,
                    seq: seq as u64,
                    head_hash: hash32(&h)?,
                    at: Timestamp(at),
                    signature: sig
                        .try_into()
                        .map_err(|_| AuditDbError::Other("checkpoint signature length".into()))?,
                })
            })
            .collect()
    }

    /// Number of entries.
    pub async fn count(&self) -> Result<u64, AuditDbError> {
        let sql = "SELECT COUNT(*) FROM audit_entry";
        let (n,): (i64,) = match self {
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await?,
            Db::Pg(p) => sqlx::query_as(sql).fetch_one(p).await?,
        };
        Ok(n as u64)
    }

    /// Stored agreements (JSON bodies), by id.
    pub async fn agreements(&self) -> Result<Vec<String>, AuditDbError> {
        let sql = "SELECT body FROM pks_agreement ORDER BY id";
        let rows: Vec<(String,)> = match self {
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await?,
            Db::Pg(p) => sqlx::query_as(sql).fetch_all(p).await?,
        };
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The stored body of agreement `id`, as written.
    pub async fn agreement_body(&self, id: &str) -> Result<Option<String>, AuditDbError> {
        let sql = self.sql("SELECT body FROM pks_agreement WHERE id = $1");
        let row: Option<(String,)> = match self {
            Db::Sqlite(p) => {
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(id.to_owned())
                    .fetch_optional(p)
                    .await?
            }
            Db::Pg(p) => {
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(id.to_owned())
                    .fetch_optional(p)
                    .await?
            }
        };
        Ok(row.map(|r| r.0))
    }

    /// Replaces agreement `id`'s body with `body` only if it is still `expected` (compare and
    /// set): `false` when another writer changed it since it was read, and nothing is written.
    pub async fn replace_agreement_if(
        &self,
        id: &str,
        expected: &str,
        body: &str,
        at_us: i64,
    ) -> Result<bool, AuditDbError> {
        let sql = self.sql(
            "UPDATE pks_agreement SET body = $1, updated_at_us = $2 WHERE id = $3 AND body = $4",
        );
        macro_rules! run {
            ($p:expr) => {
                sqlx::query(AssertSqlSafe(sql))
                    .bind(body.to_owned())
                    .bind(at_us)
                    .bind(id.to_owned())
                    .bind(expected.to_owned())
                    .execute($p)
                    .await?
                    .rows_affected()
            };
        }
        let n = match self {
            Db::Sqlite(p) => run!(p),
            Db::Pg(p) => run!(p),
        };
        Ok(n == 1)
    }

    /// Inserts an agreement; `false` (nothing written) when one with this id exists. Changes
    /// to a stored agreement go through [`Db::replace_agreement_if`].
    pub async fn put_agreement(
        &self,
        id: &str,
        provider: &str,
        consumer: &str,
        body: &str,
        at_us: i64,
    ) -> Result<bool, AuditDbError> {
        let sql = self.sql(
            "INSERT INTO pks_agreement (id, provider, consumer, body, updated_at_us) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        );
        macro_rules! run {
            ($p:expr) => {
                sqlx::query(AssertSqlSafe(sql))
                    .bind(id.to_owned())
                    .bind(provider.to_owned())
                    .bind(consumer.to_owned())
                    .bind(body.to_owned())
                    .bind(at_us)
                    .execute($p)
                    .await?
                    .rows_affected()
            };
        }
        let n = match self {
            Db::Sqlite(p) => run!(p),
            Db::Pg(p) => run!(p),
        };
        Ok(n > 0)
    }
}

type CheckpointRow = (String, i64, Vec<u8>, i64, Vec<u8>);

/// A multi-row INSERT: `$n` placeholders for PostgreSQL, anonymous `?` for SQLite.
fn insert_sql(rows: usize, pg: bool) -> String {
    let mut s = format!("INSERT INTO audit_entry ({ENTRY_COLS}) VALUES ");
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..18 {
            if c > 0 {
                s.push(',');
            }
            if pg {
                s.push('$');
                s.push_str(&n.to_string());
            } else {
                s.push('?');
            }
            n += 1;
        }
        s.push(')');
    }
    s
}

pub(crate) fn check_continues(head: ChainHead, entries: &[AuditEntry]) -> Result<(), ChainError> {
    let mut h = head;
    for e in entries {
        if e.seq != h.seq + 1 {
            return Err(ChainError::NotContinuing {
                expected: h.seq + 1,
                found: e.seq,
            });
        }
        if e.prev_hash != h.hash || e.compute_hash() != e.hash {
            return Err(ChainError::NotLinked { seq: e.seq });
        }
        h = ChainHead {
            seq: e.seq,
            hash: e.hash,
        };
    }
    Ok(())
}

fn hash32(b: &[u8]) -> Result<HashValue, AuditDbError> {
    let arr: [u8; 32] = b
        .try_into()
        .map_err(|_| AuditDbError::Other("stored hash is not 32 bytes".into()))?;
    Ok(HashValue(arr))
}

macro_rules! entry_from_row {
    ($name:ident, $row:ty) => {
        fn $name(r: &$row) -> Result<AuditEntry, AuditDbError> {
            let subject: Option<Vec<u8>> = r.try_get(12)?;
            Ok(AuditEntry {
                seq: r.try_get::<i64, _>(0)? as u64,
                at: Timestamp(r.try_get(1)?),
                node: r.try_get(2)?,
                request_id: r.try_get(3)?,
                client: r.try_get(4)?,
                service: r.try_get(5)?,
                purpose: r.try_get(6)?,
                pks_id: r.try_get(7)?,
                user_id: r.try_get(8)?,
                issue: r.try_get(9)?,
                decision: r.try_get(10)?,
                clause: r.try_get(11)?,
                subject_hash: subject.map(|s| hash32(&s)).transpose()?,
                status: r.try_get::<i16, _>(13)? as u16,
                latency_us: r.try_get::<i64, _>(14)? as u64,
                request_hash: hash32(&r.try_get::<Vec<u8>, _>(15)?)?,
                prev_hash: hash32(&r.try_get::<Vec<u8>, _>(16)?)?,
                hash: hash32(&r.try_get::<Vec<u8>, _>(17)?)?,
            })
        }
    };
}
entry_from_row!(entry_sqlite, SqliteRow);
entry_from_row!(entry_pg, PgRow);

/// The [`AuditStore`] over SQL, synchronous as the trait is: it owns a single-threaded tokio
/// runtime and blocks on it. Used from the writer thread only, never from async code.
pub struct SqlAuditStore {
    rt: tokio::runtime::Runtime,
    db: Db,
}

impl std::fmt::Debug for SqlAuditStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlAuditStore").finish_non_exhaustive()
    }
}

impl SqlAuditStore {
    /// Opens the store on its own runtime. Call from a thread that is not a runtime worker.
    pub fn open(url: &str) -> Result<SqlAuditStore, AuditDbError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AuditDbError::Other(e.to_string()))?;
        let db = rt.block_on(Db::open(url, true))?;
        Ok(SqlAuditStore { rt, db })
    }

    pub(crate) fn close(&self) {
        self.rt.block_on(self.db.close());
    }
}

impl AuditStore for SqlAuditStore {
    type Error = AuditDbError;

    fn append_batch(&mut self, entries: &[AuditEntry]) -> Result<(), AuditDbError> {
        self.rt.block_on(self.db.append(entries))
    }
    fn head(&self) -> Result<ChainHead, AuditDbError> {
        self.rt.block_on(self.db.head())
    }
    fn read_range(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditDbError> {
        self.rt.block_on(self.db.read_range(from_seq, limit))
    }
    fn put_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), AuditDbError> {
        self.rt.block_on(self.db.put_checkpoint(checkpoint))
    }
    fn checkpoints(&self) -> Result<Vec<Checkpoint>, AuditDbError> {
        self.rt.block_on(self.db.checkpoints())
    }
    fn by_subject(&self, subject: &HashValue) -> Result<Vec<AuditEntry>, AuditDbError> {
        self.rt.block_on(self.db.by_subject(subject))
    }
}

/// The answer to a handler: the seq of each of its records, or why the write failed.
pub type AppendReply = Result<Vec<u64>, String>;

enum Msg {
    Append(Vec<AuditRecord>, oneshot::Sender<AppendReply>),
    Shutdown,
}

/// Handle to the writer thread. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AuditWriter {
    tx: mpsc::SyncSender<Msg>,
}

/// Records queued with [`AuditWriter::submit`], not yet known to be durable.
#[derive(Debug)]
pub struct Receipt(oneshot::Receiver<AppendReply>);

impl Receipt {
    /// Waits until the records are durable; returns their seqs.
    pub async fn wait(self) -> Result<Vec<u64>, AuditSendError> {
        match self.0.await {
            Ok(Ok(seqs)) => Ok(seqs),
            Ok(Err(e)) => Err(AuditSendError::Failed(e)),
            Err(_) => Err(AuditSendError::Stopped),
        }
    }
}

/// Why a record could not be queued or written.
#[derive(Debug, thiserror::Error)]
pub enum AuditSendError {
    #[error("audit queue full")]
    Full,
    #[error("audit writer stopped")]
    Stopped,
    #[error("audit write failed: {0}")]
    Failed(String),
}

impl AuditWriter {
    /// Starts the writer thread on `url`. Returns the handle and the thread to join at
    /// shutdown (after [`AuditWriter::shutdown`]).
    pub fn start(
        url: &str,
        node: &str,
        key: SigningKey,
        checkpoint_every: u64,
        checkpoint_secs: u64,
    ) -> Result<(AuditWriter, std::thread::JoinHandle<()>), AuditDbError> {
        let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUE_LEN);
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), AuditDbError>>();
        let url = url.to_owned();
        let node = node.to_owned();
        let handle = std::thread::Builder::new()
            .name("sinergi-audit-writer".into())
            .spawn(move || {
                let store = match SqlAuditStore::open(&url) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let log = match AuditLog::open(&node, store) {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                writer_loop(log, rx, &key, checkpoint_every.max(1), checkpoint_secs);
            })
            .map_err(|e| AuditDbError::Other(e.to_string()))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok((AuditWriter { tx }, handle)),
            Ok(Err(e)) => {
                let _ = handle.join();
                Err(e)
            }
            Err(_) => Err(AuditDbError::Other("audit writer died at start".into())),
        }
    }

    /// Queues records and waits until they are durable. Returns their seqs.
    pub async fn append(&self, records: Vec<AuditRecord>) -> Result<Vec<u64>, AuditSendError> {
        self.submit(records)?.wait().await
    }

    /// Queues records now (so records submitted one after another are written in that
    /// order) and returns the receipt to await their durability. Lets a caller prepare its
    /// next records while these are being committed.
    pub fn submit(&self, records: Vec<AuditRecord>) -> Result<Receipt, AuditSendError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .try_send(Msg::Append(records, tx))
            .map_err(|e| match e {
                mpsc::TrySendError::Full(_) => AuditSendError::Full,
                mpsc::TrySendError::Disconnected(_) => AuditSendError::Stopped,
            })?;
        Ok(Receipt(rx))
    }

    /// Asks the writer to finish: everything queued before is written, then a final
    /// checkpoint is signed and the thread ends.
    pub fn shutdown(&self) {
        // Blocking send: the shutdown message must not be lost to a full queue.
        let _ = self.tx.send(Msg::Shutdown);
    }
}

fn writer_loop(
    mut log: AuditLog<SqlAuditStore>,
    rx: mpsc::Receiver<Msg>,
    key: &SigningKey,
    every: u64,
    secs: u64,
) {
    let mut since_cp: u64 = 0;
    let mut last_cp = Instant::now();
    let period = Duration::from_secs(secs.max(1));
    let checkpoint = |log: &mut AuditLog<SqlAuditStore>, since: &mut u64, last: &mut Instant| {
        if log.head().seq == 0 {
            return;
        }
        match log.checkpoint(key, crate::now()) {
            Ok(_) => {
                *since = 0;
                *last = Instant::now();
            }
            Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
        }
    };
    loop {
        let wait = period
            .saturating_sub(last_cp.elapsed())
            .max(Duration::from_millis(10));
        let first = match rx.recv_timeout(wait) {
            Ok(m) => m,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if since_cp > 0 {
                    checkpoint(&mut log, &mut since_cp, &mut last_cp);
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut shutdown = false;
        let mut records: Vec<AuditRecord> = Vec::new();
        let mut waiters: Vec<(usize, oneshot::Sender<AppendReply>)> = Vec::new();
        let mut take = |m: Msg, records: &mut Vec<AuditRecord>, shutdown: &mut bool| match m {
            Msg::Append(r, tx) => {
                waiters.push((r.len(), tx));
                records.extend(r);
            }
            Msg::Shutdown => *shutdown = true,
        };
        take(first, &mut records, &mut shutdown);
        while !shutdown && records.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => take(m, &mut records, &mut shutdown),
                Err(_) => break,
            }
        }
        if !records.is_empty() {
            let n = records.len() as u64;
            match log.append_or_resync(records, None) {
                Ok(entries) => {
                    let mut it = entries.iter().map(|e| e.seq);
                    for (k, tx) in waiters {
                        let _ = tx.send(Ok(it.by_ref().take(k).collect()));
                    }
                    since_cp += n;
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit append failed");
                    let msg = e.to_string();
                    for (_, tx) in waiters {
                        let _ = tx.send(Err(msg.clone()));
                    }
                }
            }
        }
        if since_cp >= every || (since_cp > 0 && last_cp.elapsed() >= period) {
            checkpoint(&mut log, &mut since_cp, &mut last_cp);
        }
        if shutdown {
            // Drain whatever raced in after the shutdown message.
            while let Ok(Msg::Append(r, tx)) = rx.try_recv() {
                let n = r.len() as u64;
                let reply = log
                    .append_or_resync(r, None)
                    .map(|es| es.iter().map(|e| e.seq).collect())
                    .map_err(|e| e.to_string());
                if reply.is_ok() {
                    since_cp += n;
                }
                let _ = tx.send(reply);
            }
            if since_cp > 0 {
                checkpoint(&mut log, &mut since_cp, &mut last_cp);
            }
            break;
        }
    }
    log.store().close();
}
