//! A thin dialect-neutral layer over one SQLite or PostgreSQL connection: statements with
//! positional arguments (`$1`, `$2`, ... in the SQL; rewritten to `?1` for SQLite) and rows
//! decoded into the standard's [`Value`]s.

use futures_util::TryStreamExt;
use sinergi_model::standard::{FieldType, Value};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{AssertSqlSafe, Row};

use crate::StoreError;
use crate::schema::Dialect;

/// How to decode one result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Int,
    Bool,
}

impl Kind {
    pub(crate) fn of(ty: FieldType) -> Kind {
        match ty {
            FieldType::Integer => Kind::Int,
            FieldType::Bool => Kind::Bool,
            _ => Kind::Text,
        }
    }
}

pub(crate) enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection),
}

/// `$N` placeholders to SQLite's `?N`.
pub(crate) fn sqlite_sql(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    for (i, c) in sql.char_indices() {
        if c == '$' && b.get(i + 1).is_some_and(|n| n.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Value::Null => q.bind(None::<String>),
                Value::Text(s) => q.bind(s.clone()),
                Value::Integer(i) => q.bind(*i),
                Value::Bool(b) => q.bind(*b),
            };
        }
        q
    }};
}

pub(crate) fn decode_sqlite(row: &SqliteRow, kinds: &[Kind]) -> Result<Vec<Value>, StoreError> {
    let mut out = Vec::with_capacity(kinds.len());
    for (i, k) in kinds.iter().enumerate() {
        out.push(match k {
            Kind::Text => row
                .try_get::<Option<String>, _>(i)?
                .map_or(Value::Null, Value::Text),
            Kind::Int => row
                .try_get::<Option<i64>, _>(i)?
                .map_or(Value::Null, Value::Integer),
            Kind::Bool => row
                .try_get::<Option<i64>, _>(i)?
                .map_or(Value::Null, |v| Value::Bool(v != 0)),
        });
    }
    Ok(out)
}

pub(crate) fn decode_pg(row: &PgRow, kinds: &[Kind]) -> Result<Vec<Value>, StoreError> {
    let mut out = Vec::with_capacity(kinds.len());
    for (i, k) in kinds.iter().enumerate() {
        out.push(match k {
            Kind::Text => row
                .try_get::<Option<String>, _>(i)?
                .map_or(Value::Null, Value::Text),
            Kind::Int => row
                .try_get::<Option<i64>, _>(i)?
                .map_or(Value::Null, Value::Integer),
            Kind::Bool => row
                .try_get::<Option<bool>, _>(i)?
                .map_or(Value::Null, Value::Bool),
        });
    }
    Ok(out)
}

impl Conn<'_> {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Pg(_) => Dialect::Postgres,
        }
    }

    /// Runs one statement; returns the rows affected.
    pub(crate) async fn exec(&mut self, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let q = sqlx::query(AssertSqlSafe(sqlite_sql(sql)));
                bind_all!(q, args).execute(&mut **c).await?.rows_affected()
            }
            Conn::Pg(c) => {
                let q = sqlx::query(AssertSqlSafe(sql.to_string()));
                bind_all!(q, args).execute(&mut **c).await?.rows_affected()
            }
        })
    }

    /// Runs statements without arguments (DDL), one by one.
    pub(crate) async fn exec_all(&mut self, stmts: &[String]) -> Result<(), StoreError> {
        for s in stmts {
            self.exec(s, &[]).await?;
        }
        Ok(())
    }

    /// Fetches every row, decoded by `kinds`.
    pub(crate) async fn rows(
        &mut self,
        sql: &str,
        args: &[Value],
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        match self {
            Conn::Sqlite(c) => {
                let q = sqlx::query(AssertSqlSafe(sqlite_sql(sql)));
                let rows = bind_all!(q, args).fetch_all(&mut **c).await?;
                rows.iter().map(|r| decode_sqlite(r, kinds)).collect()
            }
            Conn::Pg(c) => {
                let q = sqlx::query(AssertSqlSafe(sql.to_string()));
                let rows = bind_all!(q, args).fetch_all(&mut **c).await?;
                rows.iter().map(|r| decode_pg(r, kinds)).collect()
            }
        }
    }

    /// Streams rows to `f`, decoded by `kinds`, without holding them all in memory.
    pub(crate) async fn for_each_row(
        &mut self,
        sql: &str,
        args: &[Value],
        kinds: &[Kind],
        mut f: impl FnMut(Vec<Value>),
    ) -> Result<u64, StoreError> {
        let mut n = 0u64;
        match self {
            Conn::Sqlite(c) => {
                let sql = sqlite_sql(sql);
                let q = sqlx::query(AssertSqlSafe(sql));
                let mut s = bind_all!(q, args).fetch(&mut **c);
                while let Some(r) = s.try_next().await? {
                    f(decode_sqlite(&r, kinds)?);
                    n += 1;
                }
            }
            Conn::Pg(c) => {
                let q = sqlx::query(AssertSqlSafe(sql.to_string()));
                let mut s = bind_all!(q, args).fetch(&mut **c);
                while let Some(r) = s.try_next().await? {
                    f(decode_pg(&r, kinds)?);
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    pub(crate) async fn one_i64(&mut self, sql: &str, args: &[Value]) -> Result<i64, StoreError> {
        let rows = self.rows(sql, args, &[Kind::Int]).await?;
        match rows.first().and_then(|r| r.first()) {
            Some(Value::Integer(i)) => Ok(*i),
            _ => Ok(0),
        }
    }
}
