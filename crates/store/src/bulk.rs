//! SQLite bulk insert through the C API, on the raw handle of sqlx's own writer connection
//! ([`sqlx::sqlite::SqliteConnection::lock_handle`]).
//!
//! Same connection, same `BEGIN IMMEDIATE` transaction as the rest of the load, so every
//! guarantee of the sqlx path holds unchanged (all-or-nothing visibility, rollback on drop, a
//! killed process leaves the previous snapshot). What it saves is sqlx's per-value work: no
//! argument is copied or reference-counted — text is bound with `SQLITE_STATIC` straight from
//! the caller's records, which outlive the statements (finalized before [`insert`] returns) —
//! and no message crosses to sqlx's worker thread per statement.
//!
//! `libsqlite3-sys` is the crate sqlx-sqlite links (same version, bundled through sqlx's
//! `sqlite-bundled` feature); sqlx documents the raw handle as semver-exempt, so the two move
//! together when sqlx is upgraded.

use std::borrow::Cow;
use std::ffi::{CStr, c_int};
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;
use sinergi_model::standard::{Record, Value};

use crate::StoreError;

/// An SQLite error from the C API, as a [`sqlx::error::DatabaseError`] so it surfaces as
/// [`StoreError::Db`] like any other database error.
#[derive(Debug)]
struct BulkError {
    code: c_int,
    message: String,
}

impl std::fmt::Display for BulkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for BulkError {}

impl sqlx::error::DatabaseError for BulkError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                sqlx::error::ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_NOTNULL => sqlx::error::ErrorKind::NotNullViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}

pub(crate) fn error(db: *mut ffi::sqlite3, rc: c_int) -> StoreError {
    // SAFETY: `db` is the open handle we hold the lock of; errmsg returns a NUL-terminated
    // string owned by SQLite, copied out at once.
    let (code, message) = unsafe {
        let m = ffi::sqlite3_errmsg(db);
        let message = if m.is_null() {
            String::new()
        } else {
            CStr::from_ptr(m).to_string_lossy().into_owned()
        };
        (ffi::sqlite3_extended_errcode(db), message)
    };
    let code = if code == ffi::SQLITE_OK { rc } else { code };
    StoreError::Db(sqlx::Error::Database(Box::new(BulkError { code, message })))
}

/// A prepared statement, finalized on drop.
pub(crate) struct Stmt {
    pub(crate) db: *mut ffi::sqlite3,
    pub(crate) raw: *mut ffi::sqlite3_stmt,
}

impl Stmt {
    pub(crate) fn prepare(db: *mut ffi::sqlite3, sql: &str) -> Result<Stmt, StoreError> {
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

    /// Binds `values` from parameter `first` (1-based) on. Text is bound `SQLITE_STATIC`: the
    /// caller keeps the values alive until this statement is finalized.
    fn bind(&mut self, first: c_int, values: &[Value]) -> Result<(), StoreError> {
        for (i, v) in values.iter().enumerate() {
            let n = first + i as c_int;
            // SAFETY: `raw` is a live statement; text pointers stay valid (see above).
            let rc = unsafe {
                match v {
                    Value::Null => ffi::sqlite3_bind_null(self.raw, n),
                    Value::Integer(x) => ffi::sqlite3_bind_int64(self.raw, n, *x),
                    Value::Bool(b) => ffi::sqlite3_bind_int64(self.raw, n, i64::from(*b)),
                    Value::Text(s) => ffi::sqlite3_bind_text64(
                        self.raw,
                        n,
                        s.as_ptr().cast(),
                        s.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(error(self.db, rc));
            }
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), StoreError> {
        // SAFETY: `raw` is a live statement with every parameter bound.
        let rc = unsafe { ffi::sqlite3_step(self.raw) };
        // SAFETY: as above; reset returns the step's error again, already handled.
        unsafe { ffi::sqlite3_reset(self.raw) };
        if rc != ffi::SQLITE_DONE {
            return Err(error(self.db, rc));
        }
        Ok(())
    }
}

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: `raw` came from prepare and is finalized exactly once.
        unsafe { ffi::sqlite3_finalize(self.raw) };
    }
}

/// Inserts `records` (already validated) with `chunk_sql` (`rows_per_statement` rows of
/// `width` parameters) and `single_sql` (one row) for the remainder.
///
/// # Safety
/// `db` must be an open connection handle that nothing else uses until this returns (the
/// caller holds sqlx's handle lock).
pub(crate) unsafe fn insert(
    db: NonNull<ffi::sqlite3>,
    chunk_sql: &str,
    single_sql: &str,
    rows_per_statement: usize,
    width: usize,
    records: &[Record],
) -> Result<(), StoreError> {
    let db = db.as_ptr();
    let mut chunks = records.chunks_exact(rows_per_statement);
    if records.len() >= rows_per_statement {
        let mut stmt = Stmt::prepare(db, chunk_sql)?;
        for chunk in &mut chunks {
            for (j, r) in chunk.iter().enumerate() {
                stmt.bind((j * width + 1) as c_int, &r.values)?;
            }
            stmt.run()?;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut stmt = Stmt::prepare(db, single_sql)?;
        for r in rest {
            stmt.bind(1, &r.values)?;
            stmt.run()?;
        }
    }
    Ok(())
}
