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

use sinergi_exchange::audit::{ChainHead, ResyncError, StoreError as ChainError, WitnessReceipt};
use sinergi_exchange::httpsig::ReplayKey;
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

/// Log entries the subject index takes per step (`Db::index_subjects`): the writer indexes
/// when this many wait, or when it has been idle for [`SUBJECT_IDLE`].
pub const SUBJECT_BATCH: u64 = 32_768;
/// Idle time after which the writer indexes whatever waits.
pub const SUBJECT_IDLE: Duration = Duration::from_secs(1);

/// The audit schema. `hash` carries no UNIQUE index (it did until the batch work): no query
/// looks entries up by hash, the `seq` primary key already turns a second writer into a failed
/// transaction rather than a fork, and `audit verify` recomputes every hash and link. A
/// unique index on 32 random bytes was the costliest of the entry's B-trees to maintain
/// (every insert lands on a random page). Databases created before keep their index.
///
/// Nor does it carry the subject index any more (`audit_entry_subject`, until issue 10's
/// profile): its key is a keyed hash, so each of a 2,048-line batch's entries dirtied a page of
/// its own and every commit rewrote most of the index (at 400,000 entries, 137 ms instead of 60
/// ms per 2,048-entry commit: docs/BENCHMARKS.md, "One engine"). `audit_subject` takes the same pairs in sorted batches of up to
/// [`SUBJECT_BATCH`] instead, off the path of the answer; a database that still has the old
/// index is indexed at once and loses it on open (`Db::migrate`).
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
        // "Who looked at NIK X": entry seqs by subject, filled behind the log in sorted
        // batches (`Db::index_subjects`), not per append. The entries after the mark are
        // found by scanning the log's tail (`Db::by_subject`).
        format!(
            "CREATE TABLE IF NOT EXISTS audit_subject (subject_hash {blob} NOT NULL,
  seq BIGINT NOT NULL, PRIMARY KEY (subject_hash, seq)){}",
            if pg { "" } else { " WITHOUT ROWID" }
        ),
        "CREATE TABLE IF NOT EXISTS audit_subject_mark (id SMALLINT PRIMARY KEY, seq BIGINT NOT NULL)"
            .into(),
        "INSERT INTO audit_subject_mark (id, seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING".into(),
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
        // Replay keys of verified signatures, written in the audit transaction of their
        // request, so a restarted node still refuses a replay (docs/EXCHANGE.md section 2).
        format!(
            "CREATE TABLE IF NOT EXISTS replay_nonce (key {blob} PRIMARY KEY,
  valid_until BIGINT NOT NULL)"
        ),
        "CREATE INDEX IF NOT EXISTS replay_nonce_until ON replay_nonce (valid_until)".into(),
        // Witnesses' receipts for this node's checkpoints (WitnessReceipt as JSON).
        "CREATE TABLE IF NOT EXISTS audit_witness_receipt (witness TEXT NOT NULL, seq BIGINT NOT NULL,
  body TEXT NOT NULL, PRIMARY KEY (witness, seq))"
            .into(),
        // Checkpoints of other nodes this node witnesses, and who may send them.
        format!(
            "CREATE TABLE IF NOT EXISTS audit_witnessed (node TEXT NOT NULL, seq BIGINT NOT NULL,
  head_hash {blob} NOT NULL, at_us BIGINT NOT NULL, signature {blob} NOT NULL,
  received_at_us BIGINT NOT NULL, sender TEXT NOT NULL, PRIMARY KEY (node, seq))"
        ),
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

/// Creates the SQLite file readable and writable by its owner only (the log says who looked
/// at whom; the keys beside it are 0600 too), or narrows an existing file to that. SQLite
/// gives its `-wal` and `-shm` files the database file's mode.
fn owner_only(path: &std::path::Path) -> Result<(), AuditDbError> {
    if path.as_os_str().is_empty() || path.to_str() == Some(":memory:") {
        return Ok(());
    }
    let err = |e: std::io::Error| AuditDbError::Other(format!("{}: {e}", path.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                for p in [
                    path.to_path_buf(),
                    std::path::PathBuf::from(format!("{}-wal", path.display())),
                    std::path::PathBuf::from(format!("{}-shm", path.display())),
                ] {
                    if let Ok(m) = std::fs::metadata(&p)
                        && m.permissions().mode() & 0o077 != 0
                    {
                        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                            .map_err(err)?;
                    }
                }
            }
            Err(e) => return Err(err(e)),
        }
    }
    #[cfg(not(unix))]
    let _ = err;
    Ok(())
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
            owner_only(std::path::Path::new(path))?;
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
                let (old,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' \
                     AND name = 'audit_entry_subject'",
                )
                .fetch_one(p)
                .await?;
                if old > 0 {
                    self.index_subjects(u64::MAX).await?;
                    sqlx::query("DROP INDEX IF EXISTS audit_entry_subject")
                        .execute(p)
                        .await?;
                }
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
                let (old,): (bool,) =
                    sqlx::query_as("SELECT to_regclass('audit_entry_subject') IS NOT NULL")
                        .fetch_one(p)
                        .await?;
                if old {
                    self.index_subjects(u64::MAX).await?;
                    sqlx::query("DROP INDEX IF EXISTS audit_entry_subject")
                        .execute(p)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// The subject mark: every entry up to it is in `audit_subject`.
    pub async fn subject_mark(&self) -> Result<u64, AuditDbError> {
        let sql = "SELECT seq FROM audit_subject_mark WHERE id = 1";
        let (mark,): (i64,) = match self {
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await?,
            Db::Pg(p) => sqlx::query_as(sql).fetch_one(p).await?,
        };
        Ok(mark as u64)
    }

    /// Indexes by subject the entries after the subject mark, at most `max` of them, in one
    /// transaction, in key order (each index page written once per step, not once per entry);
    /// returns the new mark (every entry up to it is in `audit_subject`). A log that ends
    /// before the mark (cut behind the node's back) takes the mark back to its end.
    pub async fn index_subjects(&self, max: u64) -> Result<u64, AuditDbError> {
        let mark_sql = "SELECT seq FROM audit_subject_mark WHERE id = 1";
        let head_sql = "SELECT COALESCE(MAX(seq), 0) FROM audit_entry";
        let stale = self.sql("DELETE FROM audit_subject WHERE seq > $1");
        let insert = self.sql(
            "INSERT INTO audit_subject (subject_hash, seq) SELECT subject_hash, seq \
             FROM audit_entry WHERE seq > $1 AND seq <= $2 AND subject_hash IS NOT NULL \
             ORDER BY subject_hash, seq",
        );
        let set = self.sql("UPDATE audit_subject_mark SET seq = $1 WHERE id = 1");
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        macro_rules! run {
            ($p:expr) => {{
                let mut tx = $p.begin().await?;
                let (mark,): (i64,) = sqlx::query_as(mark_sql).fetch_one(&mut *tx).await?;
                let (head,): (i64,) = sqlx::query_as(head_sql).fetch_one(&mut *tx).await?;
                if head == mark {
                    return Ok(mark as u64);
                }
                let upto = if head < mark {
                    sqlx::query(AssertSqlSafe(stale))
                        .bind(head)
                        .execute(&mut *tx)
                        .await?;
                    head
                } else {
                    let upto = head.min(mark.saturating_add(max));
                    sqlx::query(AssertSqlSafe(insert))
                        .bind(mark)
                        .bind(upto)
                        .execute(&mut *tx)
                        .await?;
                    upto
                };
                sqlx::query(AssertSqlSafe(set))
                    .bind(upto)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(upto as u64)
            }};
        }
        match self {
            Db::Sqlite(p) => run!(p),
            Db::Pg(p) => run!(p),
        }
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

    async fn append(
        &self,
        entries: &[AuditEntry],
        replay: &[(ReplayKey, i64)],
    ) -> Result<(), AuditDbError> {
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
                unsafe { crate::audit_sqlite::append(db, &insert_sql(1, false), entries, replay)? };
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
                for (key, until) in replay {
                    sqlx::query(
                        "INSERT INTO replay_nonce (key, valid_until) VALUES ($1, $2) \
                         ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(key.to_vec())
                    .bind(*until)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Deletes replay keys expired before `now` (unix seconds).
    pub async fn purge_replay(&self, now: i64) -> Result<(), AuditDbError> {
        let del = self.sql("DELETE FROM replay_nonce WHERE valid_until < $1");
        match self {
            Db::Sqlite(p) => {
                sqlx::query(AssertSqlSafe(del)).bind(now).execute(p).await?;
            }
            Db::Pg(p) => {
                sqlx::query(AssertSqlSafe(del)).bind(now).execute(p).await?;
            }
        }
        Ok(())
    }

    /// Replay keys still valid at `now` (unix seconds), for the verifier at start; expired
    /// ones are deleted.
    pub async fn replay_keys(&self, now: i64) -> Result<Vec<(ReplayKey, i64)>, AuditDbError> {
        self.purge_replay(now).await?;
        let sel = self.sql("SELECT key, valid_until FROM replay_nonce WHERE valid_until >= $1");
        let rows: Vec<(Vec<u8>, i64)> = match self {
            Db::Sqlite(p) => {
                sqlx::query_as(AssertSqlSafe(sel))
                    .bind(now)
                    .fetch_all(p)
                    .await?
            }
            Db::Pg(p) => {
                sqlx::query_as(AssertSqlSafe(sel))
                    .bind(now)
                    .fetch_all(p)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .filter_map(|(k, until)| Some((<ReplayKey>::try_from(k.as_slice()).ok()?, until)))
            .collect())
    }

    /// Stores a witness's receipt for one of this node's checkpoints.
    pub async fn put_receipt(&self, r: &WitnessReceipt) -> Result<(), AuditDbError> {
        let body = serde_json::to_string(r).map_err(|e| AuditDbError::Other(e.to_string()))?;
        let sql = self.sql(
            "INSERT INTO audit_witness_receipt (witness, seq, body) VALUES ($1, $2, $3) \
             ON CONFLICT (witness, seq) DO NOTHING",
        );
        macro_rules! run {
            ($p:expr) => {{
                sqlx::query(AssertSqlSafe(sql))
                    .bind(r.witness.clone())
                    .bind(r.checkpoint.seq as i64)
                    .bind(body)
                    .execute($p)
                    .await?;
            }};
        }
        match self {
            Db::Sqlite(p) => run!(p),
            Db::Pg(p) => run!(p),
        }
        Ok(())
    }

    /// Every stored witness receipt, by witness and seq.
    pub async fn receipts(&self) -> Result<Vec<WitnessReceipt>, AuditDbError> {
        let sql = "SELECT body FROM audit_witness_receipt ORDER BY witness, seq";
        let rows: Vec<(String,)> = match self {
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await?,
            Db::Pg(p) => sqlx::query_as(sql).fetch_all(p).await?,
        };
        Ok(rows
            .into_iter()
            .filter_map(|(b,)| serde_json::from_str(&b).ok())
            .collect())
    }

    /// Records a checkpoint of another node, received from `sender`, as its witness.
    /// [`Witnessed::Conflict`] when a different checkpoint for that node and seq is held (the
    /// node equivocates) or when another sender already speaks for that node.
    pub async fn put_witnessed(
        &self,
        c: &Checkpoint,
        sender: &str,
        received_at_us: i64,
    ) -> Result<Witnessed, AuditDbError> {
        let owner_sql = self.sql("SELECT sender FROM audit_witnessed WHERE node = $1 LIMIT 1");
        let held_sql = self.sql(
            "SELECT head_hash, received_at_us FROM audit_witnessed WHERE node = $1 AND seq = $2",
        );
        let ins = self.sql(
            "INSERT INTO audit_witnessed (node, seq, head_hash, at_us, signature, received_at_us, \
             sender) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (node, seq) DO NOTHING",
        );
        macro_rules! run {
            ($p:expr) => {{
                let owner: Option<(String,)> = sqlx::query_as(AssertSqlSafe(owner_sql))
                    .bind(c.node.clone())
                    .fetch_optional($p)
                    .await?;
                if owner.is_some_and(|(o,)| o != sender) {
                    return Ok(Witnessed::Conflict);
                }
                let held: Option<(Vec<u8>, i64)> = sqlx::query_as(AssertSqlSafe(held_sql))
                    .bind(c.node.clone())
                    .bind(c.seq as i64)
                    .fetch_optional($p)
                    .await?;
                if let Some((h, at)) = held {
                    return Ok(if h == c.head_hash.0 {
                        Witnessed::Held(at)
                    } else {
                        Witnessed::Conflict
                    });
                }
                sqlx::query(AssertSqlSafe(ins))
                    .bind(c.node.clone())
                    .bind(c.seq as i64)
                    .bind(c.head_hash.0.to_vec())
                    .bind(c.at.0)
                    .bind(c.signature.to_vec())
                    .bind(received_at_us)
                    .bind(sender.to_owned())
                    .execute($p)
                    .await?;
                Ok(Witnessed::New(received_at_us))
            }};
        }
        match self {
            Db::Sqlite(p) => run!(p),
            Db::Pg(p) => run!(p),
        }
    }

    /// The checkpoints of `node` this node holds as its witness, and who sent them.
    pub async fn witnessed(
        &self,
        node: &str,
    ) -> Result<(Vec<Checkpoint>, Option<String>), AuditDbError> {
        let sql = self.sql(
            "SELECT node, seq, head_hash, at_us, signature, sender FROM audit_witnessed \
             WHERE node = $1 ORDER BY seq",
        );
        let rows: Vec<WitnessedRow> = match self {
            Db::Sqlite(p) => {
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(node.to_owned())
                    .fetch_all(p)
                    .await?
            }
            Db::Pg(p) => {
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(node.to_owned())
                    .fetch_all(p)
                    .await?
            }
        };
        let sender = rows.first().map(|r| r.5.clone());
        let cps = rows
            .into_iter()
            .map(|(node, seq, h, at, sig, _)| checkpoint_row((node, seq, h, at, sig)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((cps, sender))
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
        // The indexed entries, then the log's tail after the mark (one statement: one
        // snapshot, so an index step between the two halves cannot show an entry twice).
        let sql = self.sql(&format!(
            "SELECT {ENTRY_COLS} FROM audit_entry WHERE subject_hash = $1 \
             AND seq IN (SELECT seq FROM audit_subject WHERE subject_hash = $1) \
             UNION ALL SELECT {ENTRY_COLS} FROM audit_entry WHERE subject_hash = $1 \
             AND seq > (SELECT seq FROM audit_subject_mark WHERE id = 1) ORDER BY seq"
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
        rows.into_iter().map(checkpoint_row).collect()
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
/// A checkpoint held as witness, and its sender.
type WitnessedRow = (String, i64, Vec<u8>, i64, Vec<u8>, String);

fn checkpoint_row((node, seq, h, at, sig): CheckpointRow) -> Result<Checkpoint, AuditDbError> {
    Ok(Checkpoint {
        node,
        seq: seq as u64,
        head_hash: hash32(&h)?,
        at: Timestamp(at),
        signature: sig
            .try_into()
            .map_err(|_| AuditDbError::Other("checkpoint signature length".into()))?,
    })
}

/// What a witness did with a checkpoint it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Witnessed {
    /// Stored now, received at this instant (µs).
    New(i64),
    /// The same checkpoint was held already, received at this instant.
    Held(i64),
    /// Another checkpoint for that seq is held, or another sender speaks for that node.
    Conflict,
}

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
    /// Replay keys to write in the next append's transaction ([`SqlAuditStore::set_replay`]).
    replay: Vec<(ReplayKey, i64)>,
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
        Ok(SqlAuditStore {
            rt,
            db,
            replay: Vec::new(),
        })
    }

    /// Replay keys the next successful append writes in its own transaction, so a nonce is
    /// durable exactly when the audit entry of its request is.
    pub fn set_replay(&mut self, replay: Vec<(ReplayKey, i64)>) {
        self.replay = replay;
    }

    /// Deletes replay keys expired at `now` (unix seconds).
    fn purge_replay(&self, now: i64) {
        if let Err(e) = self.rt.block_on(self.db.purge_replay(now)) {
            tracing::warn!(error = %e, "expired replay keys not purged");
        }
    }

    pub(crate) fn close(&self) {
        self.rt.block_on(self.db.close());
    }

    /// One step of the subject index ([`Db::index_subjects`]); the new mark.
    fn index_subjects(&self, max: u64) -> Result<u64, AuditDbError> {
        self.rt.block_on(self.db.index_subjects(max))
    }

    fn subject_mark(&self) -> Result<u64, AuditDbError> {
        self.rt.block_on(self.db.subject_mark())
    }
}

impl AuditStore for SqlAuditStore {
    type Error = AuditDbError;

    fn append_batch(&mut self, entries: &[AuditEntry]) -> Result<(), AuditDbError> {
        self.rt.block_on(self.db.append(entries, &self.replay))?;
        self.replay.clear();
        Ok(())
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

/// A verified signature's replay key and the last second it must be remembered.
pub type Replay = Option<(ReplayKey, i64)>;

enum Msg {
    Append(Vec<AuditRecord>, Replay, oneshot::Sender<AppendReply>),
    /// Sign a checkpoint of the head now (unless the head is checkpointed already) and
    /// answer with the latest checkpoint (`None`: the log is empty).
    Checkpoint(oneshot::Sender<Result<Option<Checkpoint>, String>>),
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

/// What the writer thread needs.
pub struct WriterConfig {
    pub url: String,
    pub node: String,
    /// The node's checkpoint key.
    pub key: SigningKey,
    /// Sign a checkpoint at every multiple of this seq...
    pub checkpoint_every: u64,
    /// ... and after this many seconds with new entries.
    pub checkpoint_secs: u64,
    /// Every checkpoint signed is also sent here (to the witnesses).
    pub signed: Option<tokio::sync::mpsc::UnboundedSender<Checkpoint>>,
}

/// The entry a node writes at start when its log ends after its last matching checkpoint:
/// the range goes into the chain, so the next checkpoint cannot hide it
/// (`sinergi_exchange::audit::START_MARKER_SERVICE`).
fn start_marker(node: &str, from: u64, to: u64) -> AuditRecord {
    AuditRecord {
        at: crate::now(),
        node: node.to_owned(),
        request_id: sinergi_exchange::httpsig::new_nonce()
            .unwrap_or_else(|_| crate::now().0.to_string()),
        client: "node".into(),
        service: sinergi_exchange::audit::START_MARKER_SERVICE.into(),
        purpose: "AUDIT".into(),
        pks_id: None,
        user_id: String::new(),
        issue: format!("{from}..{to}"),
        decision: sinergi_exchange::audit::START_MARKER_DECISION.into(),
        clause: "audit#start".into(),
        subject_hash: None,
        status: 0,
        latency_us: 0,
        request_hash: sinergi_exchange::audit::request_hash("AUDIT", "start", b""),
    }
}

impl AuditWriter {
    /// Starts the writer thread. Returns the handle and the thread to join at shutdown
    /// (after [`AuditWriter::shutdown`]). When the log ends after its last checkpoint that
    /// matches (a crash, or entries written behind the node's back while it was stopped), a
    /// start marker naming the range is written first, then a checkpoint.
    pub fn start(
        cfg: WriterConfig,
    ) -> Result<(AuditWriter, std::thread::JoinHandle<()>), AuditDbError> {
        let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUE_LEN);
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), AuditDbError>>();
        let handle = std::thread::Builder::new()
            .name("sinergi-audit-writer".into())
            .spawn(move || {
                let opened = SqlAuditStore::open(&cfg.url)
                    .and_then(|store| AuditLog::open(&cfg.node, store))
                    .and_then(|mut log| {
                        let head = log.head().seq;
                        let anchored = log.anchored_seq(&cfg.key.verifying_key())?;
                        if head > anchored {
                            tracing::warn!(
                                from = anchored + 1,
                                to = head,
                                "audit entries after the last checkpoint found at start; \
                                 recorded as unanchored"
                            );
                            log.append(vec![start_marker(&cfg.node, anchored + 1, head)])?;
                            let cp = log.checkpoint(&cfg.key, crate::now())?;
                            if let Some(w) = &cfg.signed {
                                let _ = w.send(cp);
                            }
                        }
                        Ok(log)
                    });
                let log = match opened {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                writer_loop(log, rx, &cfg);
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

    /// [`AuditWriter::append`] with the replay key of the request's signature, written in
    /// the same transaction.
    pub async fn append_with(
        &self,
        records: Vec<AuditRecord>,
        replay: Replay,
    ) -> Result<Vec<u64>, AuditSendError> {
        self.submit_with(records, replay)?.wait().await
    }

    /// Queues records now (so records submitted one after another are written in that
    /// order) and returns the receipt to await their durability. Lets a caller prepare its
    /// next records while these are being committed.
    pub fn submit(&self, records: Vec<AuditRecord>) -> Result<Receipt, AuditSendError> {
        self.submit_with(records, None)
    }

    /// [`AuditWriter::submit`] with a replay key written in the same transaction.
    pub fn submit_with(
        &self,
        records: Vec<AuditRecord>,
        replay: Replay,
    ) -> Result<Receipt, AuditSendError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .try_send(Msg::Append(records, replay, tx))
            .map_err(|e| match e {
                mpsc::TrySendError::Full(_) => AuditSendError::Full,
                mpsc::TrySendError::Disconnected(_) => AuditSendError::Stopped,
            })?;
        Ok(Receipt(rx))
    }

    /// Signs a checkpoint of everything written so far (unless one covers the head already)
    /// and returns the latest checkpoint; `None` when the log is empty.
    pub async fn checkpoint_now(&self) -> Result<Option<Checkpoint>, AuditSendError> {
        let (tx, rx) = oneshot::channel();
        self.tx.try_send(Msg::Checkpoint(tx)).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => AuditSendError::Full,
            mpsc::TrySendError::Disconnected(_) => AuditSendError::Stopped,
        })?;
        match rx.await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(AuditSendError::Failed(e)),
            Err(_) => Err(AuditSendError::Stopped),
        }
    }

    /// Asks the writer to finish: everything queued before is written, then a final
    /// checkpoint is signed and the thread ends.
    pub fn shutdown(&self) {
        // Blocking send: the shutdown message must not be lost to a full queue.
        let _ = self.tx.send(Msg::Shutdown);
    }
}

/// The writer's checkpoint bookkeeping: the last checkpoint, when, and where it goes.
struct Checkpoints<'a> {
    cfg: &'a WriterConfig,
    last: Option<Checkpoint>,
    last_at: Instant,
}

impl Checkpoints<'_> {
    fn publish(&mut self, cp: Checkpoint) {
        if let Some(w) = &self.cfg.signed {
            let _ = w.send(cp.clone());
        }
        self.last = Some(cp);
        self.last_at = Instant::now();
    }

    fn last_seq(&self) -> u64 {
        self.last.as_ref().map_or(0, |c| c.seq)
    }

    /// Checkpoints the head unless it is checkpointed already.
    fn head(&mut self, log: &mut AuditLog<SqlAuditStore>) -> Result<(), AuditDbError> {
        if log.head().seq == 0 || log.head().seq == self.last_seq() {
            return Ok(());
        }
        let cp = log.checkpoint(&self.cfg.key, crate::now())?;
        self.publish(cp);
        log.store().purge_replay(crate::now().as_secs());
        Ok(())
    }

    /// Checkpoints every appended entry at a multiple of the interval.
    fn multiples(
        &mut self,
        log: &mut AuditLog<SqlAuditStore>,
        entries: &[AuditEntry],
    ) -> Result<(), AuditDbError> {
        let every = self.cfg.checkpoint_every.max(1);
        for e in entries.iter().filter(|e| e.seq % every == 0) {
            let cp = log.checkpoint_entry(e, &self.cfg.key, crate::now())?;
            self.publish(cp);
        }
        Ok(())
    }
}

fn writer_loop(mut log: AuditLog<SqlAuditStore>, rx: mpsc::Receiver<Msg>, cfg: &WriterConfig) {
    let period = Duration::from_secs(cfg.checkpoint_secs.max(1));
    let anchor = cfg.key.verifying_key();
    let mut cps = Checkpoints {
        cfg,
        last: log
            .store()
            .checkpoints()
            .ok()
            .and_then(|c| c.into_iter().max_by_key(|c| c.seq)),
        last_at: Instant::now(),
    };
    let checkpoint_head = |log: &mut AuditLog<SqlAuditStore>, cps: &mut Checkpoints<'_>| {
        if let Err(e) = cps.head(log) {
            tracing::error!(error = %e, "audit checkpoint failed");
        }
    };
    // Links and writes one batch; answers every waiter.
    let write = |log: &mut AuditLog<SqlAuditStore>,
                 cps: &mut Checkpoints<'_>,
                 records: Vec<AuditRecord>,
                 replay: Vec<(ReplayKey, i64)>,
                 waiters: Vec<(usize, oneshot::Sender<AppendReply>)>| {
        if records.is_empty() {
            return;
        }
        log.store_mut().set_replay(replay);
        match log.append_or_resync(records, Some(&anchor)) {
            Ok(entries) => {
                let mut it = entries.iter().map(|e| e.seq);
                for (k, tx) in waiters {
                    let _ = tx.send(Ok(it.by_ref().take(k).collect()));
                }
                if let Err(e) = cps.multiples(log, &entries) {
                    tracing::error!(error = %e, "audit checkpoint failed");
                }
            }
            Err(e) => {
                match &e {
                    ResyncError::Unanchored { .. } => tracing::error!(
                        error = %e,
                        "audit log changed behind the node's back; nothing is served until an \
                         administrator checks it (sinergi audit verify)"
                    ),
                    ResyncError::Store(_) => tracing::error!(error = %e, "audit append failed"),
                }
                let msg = e.to_string();
                for (_, tx) in waiters {
                    let _ = tx.send(Err(msg.clone()));
                }
            }
        }
    };
    // The subject index follows the log in sorted steps: when SUBJECT_BATCH entries wait, or
    // when the writer has been idle for SUBJECT_IDLE (a failed step is tried again later;
    // `by_subject` finds the entries after the mark in the log itself meanwhile).
    let mut mark = log.store().subject_mark().unwrap_or(0);
    let index_step = |log: &AuditLog<SqlAuditStore>, mark: &mut u64| match log
        .store()
        .index_subjects(SUBJECT_BATCH)
    {
        Ok(m) => *mark = m,
        Err(e) => tracing::warn!(error = %e, "audit subject index step failed"),
    };
    loop {
        let backlog = log.head().seq.saturating_sub(mark);
        let mut wait = period
            .saturating_sub(cps.last_at.elapsed())
            .max(Duration::from_millis(10));
        if backlog > 0 {
            wait = wait.min(SUBJECT_IDLE);
        }
        let first = match rx.recv_timeout(wait) {
            Ok(m) => m,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if backlog > 0 {
                    index_step(&log, &mut mark);
                }
                if cps.last_at.elapsed() >= period {
                    checkpoint_head(&mut log, &mut cps);
                    cps.last_at = Instant::now();
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut shutdown = false;
        let mut records: Vec<AuditRecord> = Vec::new();
        let mut replay: Vec<(ReplayKey, i64)> = Vec::new();
        let mut waiters: Vec<(usize, oneshot::Sender<AppendReply>)> = Vec::new();
        let mut asked: Vec<oneshot::Sender<Result<Option<Checkpoint>, String>>> = Vec::new();
        let mut take = |m: Msg, records: &mut Vec<AuditRecord>, shutdown: &mut bool| match m {
            Msg::Append(r, nonce, tx) => {
                waiters.push((r.len(), tx));
                records.extend(r);
                replay.extend(nonce);
            }
            Msg::Checkpoint(tx) => asked.push(tx),
            Msg::Shutdown => *shutdown = true,
        };
        take(first, &mut records, &mut shutdown);
        while !shutdown && records.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => take(m, &mut records, &mut shutdown),
                Err(_) => break,
            }
        }
        write(&mut log, &mut cps, records, replay, waiters);
        if log.head().seq.saturating_sub(mark) >= SUBJECT_BATCH {
            index_step(&log, &mut mark);
        }
        if !asked.is_empty() {
            let reply = cps.head(&mut log).map(|()| cps.last.clone());
            for tx in asked {
                let _ = tx.send(reply.as_ref().map(Clone::clone).map_err(|e| e.to_string()));
            }
        }
        if cps.last_at.elapsed() >= period {
            checkpoint_head(&mut log, &mut cps);
        }
        if shutdown {
            // Drain whatever raced in after the shutdown message.
            while let Ok(m) = rx.try_recv() {
                match m {
                    Msg::Append(r, nonce, tx) => {
                        let n = r.len();
                        write(
                            &mut log,
                            &mut cps,
                            r,
                            nonce.into_iter().collect(),
                            vec![(n, tx)],
                        );
                    }
                    Msg::Checkpoint(tx) => {
                        let _ = tx.send(Err("the node is stopping".into()));
                    }
                    Msg::Shutdown => {}
                }
            }
            checkpoint_head(&mut log, &mut cps);
            break;
        }
    }
    log.store().close();
}
