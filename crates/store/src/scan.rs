//! Fast read-only table scans for SQLite through the C API, on a connection of their own.
//!
//! [`crate::Store::scan`] goes through sqlx: every value of every row is decoded into an owned
//! [`sinergi_model::standard::Value`] and every row crosses from sqlx's worker thread to the
//! caller. For the registry load at validation time (tens of millions of rows, a handful of the
//! columns needed) that per-value work was most of the run (docs/BENCHMARKS.md, "The CLI
//! path"). Here a blocking thread opens its own read-only connection to the same file, steps
//! one statement and hands the caller each row as borrowed `&str` columns, valid until the next
//! row: no allocation per value.
//!
//! Consistency is SQLite's: the statement reads one snapshot of the WAL database from its first
//! step to its last, whatever loads commit meanwhile — the same guarantee the sqlx path gives.

use std::ffi::{CString, c_int};
use std::path::Path;
use std::ptr;

use libsqlite3_sys as ffi;

use crate::StoreError;
use crate::bulk::{Stmt, error};

/// An open read-only connection, closed on drop.
struct ReadOnly(*mut ffi::sqlite3);

impl Drop for ReadOnly {
    fn drop(&mut self) {
        // SAFETY: the handle came from sqlite3_open_v2 and its one statement is finalized
        // before the connection is dropped (`scan_text` drops the statement first).
        unsafe { ffi::sqlite3_close(self.0) };
    }
}

fn open(path: &Path) -> Result<ReadOnly, StoreError> {
    let location_error = |reason: String| StoreError::Location {
        location: path.display().to_string(),
        reason,
    };
    let c_path = CString::new(path.to_string_lossy().as_bytes())
        .map_err(|_| location_error("path contains a NUL byte".into()))?;
    let mut db = ptr::null_mut();
    // SAFETY: `c_path` is NUL-terminated; `db` receives a handle (also on most errors, which
    // must then be closed, done by the guard).
    let rc = unsafe {
        ffi::sqlite3_open_v2(
            c_path.as_ptr(),
            &mut db,
            ffi::SQLITE_OPEN_READONLY | ffi::SQLITE_OPEN_NOMUTEX,
            ptr::null(),
        )
    };
    let conn = ReadOnly(db);
    if rc != ffi::SQLITE_OK {
        return Err(if db.is_null() {
            location_error(format!("sqlite3_open_v2 failed with code {rc}"))
        } else {
            error(db, rc)
        });
    }
    // SAFETY: `db` is open; the pragma strings are NUL-terminated literals.
    unsafe {
        ffi::sqlite3_busy_timeout(db, 30_000);
        // A 64 MiB page cache and memory-mapped reads: a full scan touches every page once.
        for pragma in [
            c"PRAGMA cache_size = -65536",
            c"PRAGMA mmap_size = 1073741824",
        ] {
            let rc = ffi::sqlite3_exec(db, pragma.as_ptr(), None, ptr::null_mut(), ptr::null_mut());
            if rc != ffi::SQLITE_OK {
                return Err(error(db, rc));
            }
        }
    }
    Ok(conn)
}

/// Steps `sql` over the database at `path` and calls `f` with each row's columns as text
/// (`None` for SQL NULL; integers as their decimal text). Returns the number of rows.
///
/// Blocking: call it from a blocking thread.
pub(crate) fn scan_text(
    path: &Path,
    sql: &str,
    columns: usize,
    mut f: impl FnMut(&[Option<&str>]),
) -> Result<u64, StoreError> {
    let conn = open(path)?;
    let stmt = Stmt::prepare(conn.0, sql)?;
    // SAFETY: `stmt.raw` is a live statement.
    let have = unsafe { ffi::sqlite3_column_count(stmt.raw) } as usize;
    assert_eq!(have, columns, "scan statement has the columns asked for");
    let mut row: Vec<Option<&str>> = Vec::with_capacity(columns);
    let mut n = 0u64;
    loop {
        // SAFETY: `stmt.raw` is live; nothing else uses this connection.
        let rc = unsafe { ffi::sqlite3_step(stmt.raw) };
        match rc {
            ffi::SQLITE_ROW => {}
            ffi::SQLITE_DONE => break,
            _ => return Err(error(stmt.db, rc)),
        }
        row.clear();
        for i in 0..columns as c_int {
            // SAFETY: the statement is positioned on a row; column_text converts the value to
            // UTF-8 text in place and the pointer stays valid until the next step or reset,
            // which happens only after `f` returns and `row` is cleared.
            let col: Option<&str> = unsafe {
                if ffi::sqlite3_column_type(stmt.raw, i) == ffi::SQLITE_NULL {
                    None
                } else {
                    let p = ffi::sqlite3_column_text(stmt.raw, i);
                    let len = ffi::sqlite3_column_bytes(stmt.raw, i) as usize;
                    if p.is_null() {
                        Some("")
                    } else {
                        let bytes = std::slice::from_raw_parts(p, len);
                        match std::str::from_utf8(bytes) {
                            Ok(s) => Some(s),
                            Err(e) => {
                                return Err(StoreError::Metadata(format!(
                                    "row {} column {} is not valid UTF-8 ({e}); the store \
                                     was written outside Sinergi: reload the dataset",
                                    n + 1,
                                    i + 1
                                )));
                            }
                        }
                    }
                }
            };
            row.push(col);
        }
        f(&row);
        n += 1;
    }
    drop(row);
    drop(stmt);
    drop(conn);
    Ok(n)
}
