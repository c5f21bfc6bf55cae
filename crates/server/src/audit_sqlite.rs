//! SQLite audit insert through the C API, on the raw handle of sqlx's own writer connection
//! ([`sqlx::sqlite::SqliteConnection::lock_handle`]), inside the transaction the caller opened.
//!
//! Why (measured, docs/BENCHMARKS.md "Exchange server"): a 100,000-NIK batch writes 100,000
//! audit rows. Through sqlx, every value was copied into sqlx's argument buffer and every
//! statement crossed to sqlx's worker thread; and a multi-row `INSERT ... VALUES (..),(..)`
//! is a "multi-write" statement, for which SQLite keeps a statement journal (a temporary file)
//! so that a constraint failure on row 9 can undo rows 1-8: `perf` showed the kernel copying
//! pages into that file as the largest single cost. One prepared single-row `INSERT`, stepped
//! once per entry with every value bound `SQLITE_STATIC` from the caller's entries, needs no
//! statement journal (SQLite checks a single row's constraints before it writes) and no copy.
//!
//! The whole append runs under one lock of the handle: `BEGIN IMMEDIATE`, the head check
//! (does the batch continue the stored chain?), the inserts and `COMMIT`, with `ROLLBACK` on any
//! error, so nothing of a failed batch is stored. Through sqlx each of those four steps was a
//! round trip to sqlx's worker thread (two thread hand-offs each), on the latency of every
//! audited request; now the batch costs one. The connection is back in autocommit when the
//! lock is released, as sqlx expects.

use std::ffi::{CStr, c_int};
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;
use sinergi_exchange::AuditEntry;

use sinergi_exchange::audit::ChainHead;
use sinergi_exchange::httpsig::ReplayKey;

use crate::audit_sql::AuditDbError;

fn error(db: *mut ffi::sqlite3, rc: c_int) -> AuditDbError {
    // SAFETY: `db` is the open handle whose lock the caller holds; errmsg returns a
    // NUL-terminated string owned by SQLite, copied out at once.
    let message = unsafe {
        let m = ffi::sqlite3_errmsg(db);
        if m.is_null() {
            String::new()
        } else {
            CStr::from_ptr(m).to_string_lossy().into_owned()
        }
    };
    AuditDbError::Other(format!("sqlite error {rc}: {message}"))
}

/// A prepared statement, finalized on drop.
struct Stmt {
    db: *mut ffi::sqlite3,
    raw: *mut ffi::sqlite3_stmt,
}

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: `raw` came from prepare and is finalized exactly once.
        unsafe { ffi::sqlite3_finalize(self.raw) };
    }
}

impl Stmt {
    fn prepare(db: *mut ffi::sqlite3, sql: &str) -> Result<Stmt, AuditDbError> {
        let mut raw = ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| error(db, ffi::SQLITE_TOOBIG))?;
        // SAFETY: `sql` is valid for `len` bytes; `raw` receives the statement or NULL.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT as _,
                &mut raw,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK || raw.is_null() {
            return Err(error(db, rc));
        }
        Ok(Stmt { db, raw })
    }

    fn check(&self, rc: c_int) -> Result<(), AuditDbError> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error(self.db, rc))
        }
    }

    /// Binds text `SQLITE_STATIC`: `s` must outlive the statement's use of it (the caller
    /// keeps the entries alive until the statement is finalized).
    fn text(&mut self, n: c_int, s: &str) -> Result<(), AuditDbError> {
        // SAFETY: live statement; the pointer stays valid (see above).
        let rc = unsafe {
            ffi::sqlite3_bind_text64(
                self.raw,
                n,
                s.as_ptr().cast(),
                s.len() as u64,
                ffi::SQLITE_STATIC(),
                ffi::SQLITE_UTF8 as u8,
            )
        };
        self.check(rc)
    }

    fn blob(&mut self, n: c_int, b: &[u8]) -> Result<(), AuditDbError> {
        // SAFETY: as for `text`.
        let rc = unsafe {
            ffi::sqlite3_bind_blob64(
                self.raw,
                n,
                b.as_ptr().cast(),
                b.len() as u64,
                ffi::SQLITE_STATIC(),
            )
        };
        self.check(rc)
    }

    fn int(&mut self, n: c_int, v: i64) -> Result<(), AuditDbError> {
        // SAFETY: live statement.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.raw, n, v) };
        self.check(rc)
    }

    fn null(&mut self, n: c_int) -> Result<(), AuditDbError> {
        // SAFETY: live statement.
        let rc = unsafe { ffi::sqlite3_bind_null(self.raw, n) };
        self.check(rc)
    }

    fn run(&mut self) -> Result<(), AuditDbError> {
        // SAFETY: live statement with every parameter bound.
        let rc = unsafe { ffi::sqlite3_step(self.raw) };
        // SAFETY: as above; reset repeats the step's error, already handled.
        unsafe { ffi::sqlite3_reset(self.raw) };
        if rc != ffi::SQLITE_DONE {
            return Err(error(self.db, rc));
        }
        Ok(())
    }
}

fn exec(db: *mut ffi::sqlite3, sql: &CStr) -> Result<(), AuditDbError> {
    // SAFETY: open handle held by the caller; `sql` is NUL-terminated; no callback.
    let rc = unsafe { ffi::sqlite3_exec(db, sql.as_ptr(), None, ptr::null_mut(), ptr::null_mut()) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(error(db, rc))
    }
}

/// The stored chain's head, read inside the transaction.
fn head(db: *mut ffi::sqlite3) -> Result<ChainHead, AuditDbError> {
    let s = Stmt::prepare(
        db,
        "SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1",
    )?;
    // SAFETY: live statement; column values are read before the next step or finalize.
    unsafe {
        match ffi::sqlite3_step(s.raw) {
            ffi::SQLITE_DONE => Ok(ChainHead::default()),
            ffi::SQLITE_ROW => {
                let seq = ffi::sqlite3_column_int64(s.raw, 0);
                let p = ffi::sqlite3_column_blob(s.raw, 1).cast::<u8>();
                let n = ffi::sqlite3_column_bytes(s.raw, 1);
                if p.is_null() || n != 32 {
                    return Err(AuditDbError::Other("stored hash is not 32 bytes".into()));
                }
                let mut hash = [0u8; 32];
                hash.copy_from_slice(std::slice::from_raw_parts(p, 32));
                Ok(ChainHead {
                    seq: seq as u64,
                    hash: sinergi_exchange::HashValue(hash),
                })
            }
            rc => Err(error(db, rc)),
        }
    }
}

/// Appends `entries` in one transaction: `BEGIN IMMEDIATE`, checks that they continue the
/// stored head, inserts them with one prepared single-row statement (`sql`, 18 anonymous
/// parameters in `ENTRY_COLS` order) and the requests' replay keys, `COMMIT`; `ROLLBACK` on
/// any error.
///
/// # Safety
/// `db` must be an open connection handle in autocommit mode that nothing else uses until this
/// returns (the caller holds sqlx's handle lock).
pub(crate) unsafe fn append(
    db: NonNull<ffi::sqlite3>,
    sql: &str,
    entries: &[AuditEntry],
    replay: &[(ReplayKey, i64)],
) -> Result<(), AuditDbError> {
    let raw = db.as_ptr();
    exec(raw, c"BEGIN IMMEDIATE")?;
    let result = (|| {
        crate::audit_sql::check_continues(head(raw)?, entries)?;
        // SAFETY: as this function's.
        unsafe { insert(db, sql, entries)? };
        if !replay.is_empty() {
            let mut s = Stmt::prepare(
                raw,
                "INSERT OR IGNORE INTO replay_nonce (key, valid_until) VALUES (?, ?)",
            )?;
            for (key, until) in replay {
                s.blob(1, key)?;
                s.int(2, *until)?;
                s.run()?;
            }
        }
        exec(raw, c"COMMIT")
    })();
    if result.is_err() {
        // Still in the transaction (a failed COMMIT leaves it open too): undo it all.
        let _ = exec(raw, c"ROLLBACK");
    }
    result
}

/// Inserts `entries` with one prepared single-row statement.
///
/// # Safety
/// As [`append`], inside its transaction.
unsafe fn insert(
    db: NonNull<ffi::sqlite3>,
    sql: &str,
    entries: &[AuditEntry],
) -> Result<(), AuditDbError> {
    let mut s = Stmt::prepare(db.as_ptr(), sql)?;
    for e in entries {
        s.int(1, e.seq as i64)?;
        s.int(2, e.at.0)?;
        s.text(3, &e.node)?;
        s.text(4, &e.request_id)?;
        s.text(5, &e.client)?;
        s.text(6, &e.service)?;
        s.text(7, &e.purpose)?;
        match &e.pks_id {
            Some(p) => s.text(8, p)?,
            None => s.null(8)?,
        }
        s.text(9, &e.user_id)?;
        s.text(10, &e.issue)?;
        s.text(11, &e.decision)?;
        s.text(12, &e.clause)?;
        match &e.subject_hash {
            Some(h) => s.blob(13, &h.0)?,
            None => s.null(13)?,
        }
        s.int(14, i64::from(e.status))?;
        s.int(15, e.latency_us.min(i64::MAX as u64) as i64)?;
        s.blob(16, &e.request_hash.0)?;
        s.blob(17, &e.prev_hash.0)?;
        s.blob(18, &e.hash.0)?;
        s.run()?;
    }
    Ok(())
}
