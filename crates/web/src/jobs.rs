//! Validation jobs: persisted in `web_job`, run one at a time by one runner task.
//!
//! An upload inserts a `queued` job and wakes the runner. The runner takes the oldest queued
//! job, marks it `running`, runs the engine's validation — `sinergi_engine::validate_with`,
//! the very call `sinergi validate` makes, with the registries of the node's store (the
//! embedded answerer) — on a blocking thread, then imports `verdicts.json` into `web_result`
//! (so the results page pages, filters and sorts in SQL) and marks the job `done`, or
//! `failed` with the engine's message. Progress (stage, rows done) is kept in memory for the
//! running job and shown by the job's page on every reload. When the node starts, a job left
//! `running` by a stopped node is marked `failed` with that reason: its outputs may be half
//! written, and the officer uploads again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use sinergi_engine::{OutputFormat, Stage, ValidateRequest};
use sqlx::Row as _;
use tokio::sync::Notify;

use crate::{Web, WebError};

/// The stopped-node reason a restart writes into jobs it finds running.
pub const RESTARTED: &str = "NODE_RESTARTED";

/// The runner's wake-up call and the running job's progress.
#[derive(Default)]
pub struct Jobs {
    wake: Notify,
    live: Mutex<HashMap<i64, Live>>,
}

/// Progress of a running job.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub stage: Stage,
    pub rows: u64,
}

impl Jobs {
    /// Wakes the runner (a new job is queued).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The progress of a running job.
    pub fn live(&self, id: i64) -> Option<Live> {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .copied()
    }

    fn set(&self, id: i64, live: Option<Live>) {
        let mut m = self.live.lock().unwrap_or_else(|e| e.into_inner());
        match live {
            Some(l) => {
                m.insert(id, l);
            }
            None => {
                m.remove(&id);
            }
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub owner_id: i64,
    pub owner: String,
    pub program: String,
    pub file_name: String,
    /// `queued`, `running`, `done`, `failed`.
    pub status: String,
    pub error: Option<String>,
    pub rows_done: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub dir: PathBuf,
}

impl Job {
    /// The uploaded list inside the job's folder.
    pub fn input(&self) -> Option<PathBuf> {
        std::fs::read_dir(&self.dir)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                p.file_stem().and_then(|s| s.to_str()) == Some("daftar")
                    && p.extension().is_some_and(|e| e == "xlsx" || e == "csv")
            })
    }

    /// The folder the engine writes its outputs into.
    pub fn out_dir(&self) -> PathBuf {
        self.dir.join("hasil")
    }
}

const JOB_COLS: &str = "id, owner_id, owner, program, file_name, status, error, rows_done, created_at, finished_at, dir";

fn job_from_row(r: &sqlx::any::AnyRow) -> Result<Job, sqlx::Error> {
    Ok(Job {
        id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        owner: r.try_get("owner")?,
        program: r.try_get("program")?,
        file_name: r.try_get("file_name")?,
        status: r.try_get("status")?,
        error: r.try_get("error")?,
        rows_done: r.try_get("rows_done")?,
        created_at: r.try_get("created_at")?,
        finished_at: r.try_get("finished_at")?,
        dir: PathBuf::from(r.try_get::<String, _>("dir")?),
    })
}

impl Web {
    /// Queues a job for an uploaded list already written to `dir/daftar.<ext>`.
    pub async fn queue_job(
        &self,
        owner: &crate::User,
        program: &str,
        file_name: &str,
        staged: &std::path::Path,
    ) -> Result<Job, sqlx::Error> {
        let mut tx = self.db.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO web_job (owner_id, owner, program, file_name, status, rows_done, \
             created_at, dir) VALUES ($1, $2, $3, $4, 'queued', 0, $5, '') RETURNING id",
        )
        .bind(owner.id)
        .bind(&owner.username)
        .bind(program)
        .bind(file_name)
        .bind(crate::now_us())
        .fetch_one(&mut *tx)
        .await?;
        let dir = self.opts.work_dir.join("jobs").join(id.to_string());
        let moved = std::fs::create_dir_all(&dir).and_then(|_| {
            let ext = staged
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("xlsx");
            std::fs::rename(staged, dir.join(format!("daftar.{ext}")))
        });
        if let Err(e) = moved {
            return Err(sqlx::Error::Io(e));
        }
        sqlx::query("UPDATE web_job SET dir = $1 WHERE id = $2")
            .bind(dir.display().to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.jobs.wake();
        self.job(id).await?.ok_or_else(|| sqlx::Error::RowNotFound)
    }

    /// One job.
    pub async fn job(&self, id: i64) -> Result<Option<Job>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLS} FROM web_job WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// The latest jobs, newest first.
    pub async fn recent_jobs(&self, limit: i64) -> Result<Vec<Job>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLS} FROM web_job ORDER BY id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// How many queued jobs are ahead of this one (0: next).
    pub async fn queue_position(&self, id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM web_job WHERE id < $1 AND status IN ('queued', 'running')",
        )
        .bind(id)
        .fetch_one(&self.db.pool)
        .await
    }
}

/// Marks jobs a stopped node left running as failed and starts the runner.
pub async fn spawn_runner(web: Arc<Web>) -> Result<(), WebError> {
    sqlx::query(
        "UPDATE web_job SET status = 'failed', error = $1, finished_at = $2 \
         WHERE status = 'running'",
    )
    .bind(RESTARTED)
    .bind(crate::now_us())
    .execute(&web.db.pool)
    .await
    .map_err(crate::db::DbError::from)?;
    tokio::spawn(async move {
        loop {
            match next_queued(&web).await {
                Ok(Some(job)) => run(&web, job).await,
                Ok(None) => {
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_secs(30),
                        web.jobs.wake.notified(),
                    )
                    .await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "job queue unreadable");
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                }
            }
        }
    });
    Ok(())
}

async fn next_queued(web: &Web) -> Result<Option<Job>, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {JOB_COLS} FROM web_job WHERE status = 'queued' ORDER BY id LIMIT 1"
    )))
    .fetch_optional(&web.db.pool)
    .await?;
    row.as_ref().map(job_from_row).transpose()
}

async fn finish(web: &Web, id: i64, status: &str, error: Option<String>, rows: i64) {
    let r = sqlx::query(
        "UPDATE web_job SET status = $1, error = $2, rows_done = $3, finished_at = $4 \
         WHERE id = $5",
    )
    .bind(status)
    .bind(error)
    .bind(rows)
    .bind(crate::now_us())
    .bind(id)
    .execute(&web.db.pool)
    .await;
    if let Err(e) = r {
        tracing::error!(error = %e, job = id, "job status not written");
    }
}

async fn run(web: &Arc<Web>, job: Job) {
    let id = job.id;
    if let Err(e) =
        sqlx::query("UPDATE web_job SET status = 'running', started_at = $1 WHERE id = $2")
            .bind(crate::now_us())
            .bind(id)
            .execute(&web.db.pool)
            .await
    {
        tracing::error!(error = %e, job = id, "job not started");
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        return;
    }
    web.jobs.set(
        id,
        Some(Live {
            stage: Stage::LoadRegistries,
            rows: 0,
        }),
    );
    let Some(input) = job.input() else {
        finish(web, id, "failed", Some("INPUT_MISSING".into()), 0).await;
        web.jobs.set(id, None);
        return;
    };
    let mapping = mapping_for(&web.opts.roster_mapping, &input);
    let mut req = ValidateRequest::new(input, &job.program, job.out_dir());
    req.formats = vec![OutputFormat::Csv, OutputFormat::Xlsx, OutputFormat::Json];
    req.lang = web.opts.lang;
    let store = web.node.store.clone().expect("checked at start");
    let w = web.clone();
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut progress = |p: sinergi_engine::Progress| {
            let rows = if p.stage == Stage::Validate {
                p.done
            } else {
                0
            };
            w.jobs.set(
                id,
                Some(Live {
                    stage: p.stage,
                    rows,
                }),
            );
        };
        handle.block_on(sinergi_engine::validate_with(
            &store,
            &req,
            &w.opts.programs,
            &mapping,
            &mut progress,
        ))
    })
    .await;
    let result = match outcome {
        Ok(Ok(run)) => {
            web.jobs.set(
                id,
                Some(Live {
                    stage: Stage::Finish,
                    rows: run.summary.total.rows,
                }),
            );
            match import(web, &job).await {
                Ok(n) => {
                    let summary = serde_json::to_string(&run.summary).unwrap_or_default();
                    let _ = sqlx::query("UPDATE web_job SET summary = $1 WHERE id = $2")
                        .bind(summary)
                        .bind(id)
                        .execute(&web.db.pool)
                        .await;
                    finish(web, id, "done", None, n as i64).await;
                    Ok(())
                }
                Err(e) => Err(format!("IMPORT_FAILED: {e}")),
            }
        }
        Ok(Err(e)) => Err(e.message(web.opts.lang)),
        Err(e) => Err(format!("PANIC: {e}")),
    };
    if let Err(msg) = result {
        tracing::warn!(job = id, "validation job failed");
        finish(web, id, "failed", Some(msg), 0).await;
    }
    web.jobs.set(id, None);
}

/// The roster mapping for an uploaded file: as it is for a workbook; for a CSV file the same
/// columns read as delimited text (delimiter sniffed as ingest does, encoding detected, header
/// found), since officers export the same list from Excel either way.
fn mapping_for(
    roster: &sinergi_ingest::Mapping,
    input: &std::path::Path,
) -> sinergi_ingest::Mapping {
    use sinergi_ingest::mapping::{CsvFormat, Encoding, Format, HeaderRow};
    let mut m = roster.clone();
    if input.extension().is_some_and(|e| e == "csv") && !matches!(m.format, Format::Csv(_)) {
        let mut head = vec![0u8; 64 * 1024];
        let n = std::fs::File::open(input)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .unwrap_or(0);
        m.format = Format::Csv(CsvFormat {
            delimiter: sinergi_ingest::plain::sniff_delimiter(&head[..n]),
            quote: b'"',
            encoding: Encoding::Auto,
            header_row: HeaderRow::Auto,
        });
    }
    m
}

/// One row of `verdicts.json` as the results table keeps it.
struct ResultRow {
    row_id: String,
    nik: String,
    name: String,
    verdict: String,
    codes: String,
    region: String,
    amount: Option<i64>,
    body: String,
}

fn result_row(v: serde_json::Value) -> ResultRow {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let codes: Vec<String> = v
        .get("reasons")
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .filter(|r| {
                    r.get("overridden_by")
                        .and_then(|o| o.as_str())
                        .unwrap_or("")
                        .is_empty()
                })
                .filter_map(|r| r.get("code").and_then(|c| c.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let row_id = match s("row_id") {
        id if !id.is_empty() => id,
        _ => v
            .get("row_no")
            .and_then(|n| n.as_u64())
            .unwrap_or(0)
            .to_string(),
    };
    ResultRow {
        row_id,
        nik: s("nik_listed"),
        name: s("name"),
        verdict: s("verdict"),
        codes: if codes.is_empty() {
            String::new()
        } else {
            format!(";{};", codes.join(";"))
        },
        region: s("region"),
        amount: v.get("amount").and_then(|a| a.as_i64()),
        body: v.to_string(),
    }
}

/// Rows per multi-row insert (11 parameters each; well under both backends' limits).
const IMPORT_ROWS: usize = 200;

/// Reads the job's `verdicts.json` (streamed, one element at a time) into `web_result`, in
/// one transaction. Returns the number of rows.
async fn import(web: &Web, job: &Job) -> Result<u64, String> {
    let path = job.out_dir().join("verdicts.json");
    let (tx_rows, mut rx) = tokio::sync::mpsc::channel::<Vec<ResultRow>>(4);
    let reader = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let f = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(f));
        EachRow(|batch: Vec<ResultRow>| tx_rows.blocking_send(batch).is_ok())
            .deserialize(&mut de)
            .map_err(|e| e.to_string())
    });
    let mut tx = web.db.pool.begin().await.map_err(|e| e.to_string())?;
    sqlx::query("DELETE FROM web_result WHERE job_id = $1")
        .bind(job.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    let mut seq: i64 = 0;
    while let Some(batch) = rx.recv().await {
        let mut sql = String::from(
            "INSERT INTO web_result (job_id, seq, row_id, nik, name, verdict, codes, region, \
             regency, amount, body) VALUES ",
        );
        for i in 0..batch.len() {
            let b = i * 11;
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for k in 1..=11 {
                if k > 1 {
                    sql.push(',');
                }
                sql.push_str(&format!("${}", b + k));
            }
            sql.push(')');
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in batch {
            seq += 1;
            let regency = crate::region::regency_of(&r.region);
            q = q
                .bind(job.id)
                .bind(seq)
                .bind(r.row_id)
                .bind(r.nik)
                .bind(r.name)
                .bind(r.verdict)
                .bind(r.codes)
                .bind(r.region)
                .bind(regency)
                .bind(r.amount)
                .bind(r.body);
        }
        q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
    }
    reader.await.map_err(|e| e.to_string())??;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(seq as u64)
}

/// Visits a JSON array element by element, handing batches of [`IMPORT_ROWS`] rows on.
struct EachRow<F>(F);

impl<'de, F: FnMut(Vec<ResultRow>) -> bool> DeserializeSeed<'de> for EachRow<F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Vec<ResultRow>) -> bool> Visitor<'de> for EachRow<F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of verdicts")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut batch = Vec::with_capacity(IMPORT_ROWS);
        while let Some(v) = seq.next_element::<serde_json::Value>()? {
            batch.push(result_row(v));
            if batch.len() == IMPORT_ROWS
                && !(self.0)(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(IMPORT_ROWS),
                ))
            {
                return Err(serde::de::Error::custom("import stopped"));
            }
        }
        if !batch.is_empty() && !(self.0)(batch) {
            return Err(serde::de::Error::custom("import stopped"));
        }
        Ok(())
    }
}
