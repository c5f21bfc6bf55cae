//! Validation jobs: persisted in `web_job`, run one at a time by one runner task.
//!
//! An upload inserts a `queued` job and wakes the runner. The runner takes the oldest queued
//! job, marks it `running`, runs the engine's validation — `sinergi_engine::validate_tapped`,
//! the call `sinergi validate` makes (`validate_with`) with a tap on the verdict blocks, with
//! the registries of the node's store (the embedded answerer) — on a blocking thread. While
//! the engine writes its files, the tap keeps every verdict row: its JSON in the job's
//! `baris.jsonl`, its columns in `web_result` (written by an importer task, so the results
//! page pages, filters and sorts in SQL), and the job's aggregates (rows and amount per
//! kabupaten/kota and verdict, rows per reason), written once at the end for beranda and the
//! results page's counts. Then the job is `done`, or `failed` with the engine's message (and
//! its rows removed). Progress (stage, rows done) is kept in memory for the running job and
//! shown by the job's page on every reload. When the node starts, a job left `running` by a
//! stopped node is marked `failed` with that reason (its rows removed): its outputs may be
//! half written, and the officer uploads again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sinergi_engine::{OutputFormat, Stage, ValidateRequest, VerdictRow};
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
    // Rows a stopped job had already written are not a result.
    sqlx::query(
        "DELETE FROM web_result WHERE job_id IN (SELECT id FROM web_job WHERE status = 'running')",
    )
    .execute(&web.db.pool)
    .await
    .map_err(crate::db::DbError::from)?;
    sqlx::query(
        "UPDATE web_job SET status = 'failed', error = $1, finished_at = $2 \
         WHERE status = 'running'",
    )
    .bind(RESTARTED)
    .bind(crate::now_us())
    .execute(&web.db.pool)
    .await
    .map_err(crate::db::DbError::from)?;
    backfill_aggregates(&web)
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
    // `verdicts.json`'s rows go to the job's `baris.jsonl` instead (see `Tap`), in the same
    // JSON, where the detail page reads a row at its offset.
    req.formats = vec![OutputFormat::Csv, OutputFormat::Xlsx];
    req.lang = web.opts.lang;
    let store = web.node.store.clone().expect("checked at start");
    let w = web.clone();
    let handle = tokio::runtime::Handle::current();
    // The verdicts go into `web_result` while the engine writes its files: the tap (on the
    // engine's writer thread) keeps each row's JSON in the job's `baris.jsonl`, counts the
    // aggregates and hands batches of table rows to the importer task.
    let (rows_tx, rows_rx) = tokio::sync::mpsc::channel::<Vec<DbRow>>(8);
    let importer = tokio::spawn(import_rows(web.clone(), id, rows_rx));
    let body_path = job.dir.join(BODY_FILE);
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
        let mut tap = Tap::create(&body_path, rows_tx).map_err(|e| format!("{e}"))?;
        let run = handle.block_on(sinergi_engine::validate_tapped(
            &store,
            &req,
            &w.opts.programs,
            &mapping,
            &mut progress,
            &mut |v| tap.take(v),
        ));
        let agg = tap.close();
        Ok::<_, String>((run, agg))
    })
    .await;
    let imported = importer.await;
    let result = match outcome {
        Ok(Ok((Ok(run), agg))) => {
            web.jobs.set(
                id,
                Some(Live {
                    stage: Stage::Finish,
                    rows: run.summary.total.rows,
                }),
            );
            let stored = match (agg, imported) {
                (Ok(agg), Ok(Ok(n))) => write_aggregates(web, id, &agg)
                    .await
                    .map(|_| n)
                    .map_err(|e| e.to_string()),
                (_, Ok(Err(e))) | (Err(e), _) => Err(e),
                (_, Err(e)) => Err(e.to_string()),
            };
            match stored {
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
        Ok(Ok((Err(e), _))) => Err(e.message(web.opts.lang)),
        Ok(Err(e)) => Err(format!("IMPORT_FAILED: {e}")),
        Err(e) => Err(format!("PANIC: {e}")),
    };
    if let Err(msg) = result {
        tracing::warn!(job = id, "validation job failed");
        // A failed job has no results: rows the importer wrote go.
        let _ = sqlx::query("DELETE FROM web_result WHERE job_id = $1")
            .bind(id)
            .execute(&web.db.pool)
            .await;
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

/// The file in a job's folder that keeps each result row's JSON (as `verdicts.json` has it),
/// one row a line; `web_result` keeps each row's offset and length.
pub const BODY_FILE: &str = "baris.jsonl";

/// One row of `web_result`, made from the engine's verdict row.
struct DbRow {
    seq: i64,
    row_id: String,
    nik: String,
    name: String,
    verdict: &'static str,
    codes: String,
    region: String,
    regency: String,
    amount: Option<i64>,
    kk: String,
    body_at: i64,
    body_len: i64,
}

/// A job's aggregates: rows and amount per (kabupaten/kota, verdict); rows per
/// (kabupaten/kota, verdict, reason code), a row counted once per code it has. Verdicts are
/// indexed as [`VERDICTS`]; keys are looked up borrowed, so counting a row allocates nothing
/// once its kabupaten/kota and codes have been seen.
#[derive(Default)]
pub(crate) struct Aggregates {
    regencies: HashMap<String, RegencyAgg>,
}

#[derive(Default)]
struct RegencyAgg {
    /// Rows and amount per verdict.
    verdicts: [(i64, i64); 3],
    /// Rows per reason code and verdict.
    reasons: HashMap<String, [i64; 3]>,
}

/// The verdicts as stored, in the aggregates' order.
const VERDICTS: [&str; 3] = ["LAYAK", "TINJAU", "TIDAK LAYAK"];

impl Aggregates {
    /// Counts one row (`codes`: the reason codes that count, `;A;B;` or "").
    fn add(&mut self, regency: &str, verdict: &str, codes: &str, amount: Option<i64>) {
        let v = VERDICTS.iter().position(|x| *x == verdict).unwrap_or(2);
        if !self.regencies.contains_key(regency) {
            self.regencies
                .insert(regency.to_string(), RegencyAgg::default());
        }
        let agg = self.regencies.get_mut(regency).expect("inserted");
        agg.verdicts[v].0 += 1;
        agg.verdicts[v].1 += amount.unwrap_or(0);
        for (i, c) in codes.split(';').enumerate().filter(|(_, c)| !c.is_empty()) {
            // Once per code a row has.
            if codes.split(';').take(i).any(|d| d == c) {
                continue;
            }
            match agg.reasons.get_mut(c) {
                Some(n) => n[v] += 1,
                None => {
                    let mut n = [0; 3];
                    n[v] = 1;
                    agg.reasons.insert(c.to_string(), n);
                }
            }
        }
    }
}

/// Rows per multi-row insert (12 parameters each). Small on purpose: sqlx's SQLite driver
/// looks each parameter's name up by its index, a search through all of a statement's
/// parameters, so a statement's binding cost grows with the square of its parameters (500
/// rows a statement spent 45% of a 100,000-row job's CPU time there, 32 rows 7%).
const IMPORT_ROWS: usize = 16;

/// Rows per transaction of the importer: short enough that logins and case records, which
/// write the same database, do not wait long behind it.
const IMPORT_TX_ROWS: usize = 20_000;

/// What the engine's writer thread does with each block of verdicts for the web application.
struct Tap {
    file: std::io::BufWriter<std::fs::File>,
    at: u64,
    seq: i64,
    line: Vec<u8>,
    batch: Vec<DbRow>,
    tx: tokio::sync::mpsc::Sender<Vec<DbRow>>,
    agg: Aggregates,
    err: Option<String>,
}

impl Tap {
    fn create(
        path: &std::path::Path,
        tx: tokio::sync::mpsc::Sender<Vec<DbRow>>,
    ) -> std::io::Result<Tap> {
        Ok(Tap {
            file: std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?),
            at: 0,
            seq: 0,
            line: Vec::with_capacity(4096),
            batch: Vec::with_capacity(IMPORT_ROWS),
            tx,
            agg: Aggregates::default(),
            err: None,
        })
    }

    fn take(&mut self, rows: &[VerdictRow]) {
        use std::io::Write as _;
        if self.err.is_some() {
            return;
        }
        for v in rows {
            self.line.clear();
            if let Err(e) = serde_json::to_writer(&mut self.line, v) {
                self.err = Some(e.to_string());
                return;
            }
            self.line.push(b'\n');
            if let Err(e) = self.file.write_all(&self.line) {
                self.err = Some(e.to_string());
                return;
            }
            let codes: Vec<&str> = v
                .reasons
                .iter()
                .filter(|r| r.overridden_by.is_empty())
                .map(|r| r.code.as_str())
                .collect();
            let codes = if codes.is_empty() {
                String::new()
            } else {
                format!(";{};", codes.join(";"))
            };
            let region = v.region.clone().unwrap_or_default();
            let regency = crate::region::regency_of(&region);
            let verdict = v.verdict.as_str();
            self.agg.add(&regency, verdict, &codes, v.amount);
            self.seq += 1;
            self.batch.push(DbRow {
                seq: self.seq,
                row_id: if v.row_id.is_empty() {
                    v.row_no.to_string()
                } else {
                    v.row_id.clone()
                },
                nik: v.nik_listed.clone(),
                name: v.name.clone(),
                verdict,
                codes,
                region,
                regency,
                amount: v.amount,
                kk: v.kk_listed.clone().unwrap_or_default(),
                body_at: self.at as i64,
                body_len: self.line.len() as i64 - 1,
            });
            self.at += self.line.len() as u64;
            if self.batch.len() == IMPORT_ROWS && !self.send() {
                return;
            }
        }
    }

    fn send(&mut self) -> bool {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(IMPORT_ROWS));
        if self.tx.blocking_send(batch).is_err() {
            // The importer stopped; it reports why.
            self.err = Some("import stopped".into());
            return false;
        }
        true
    }

    /// Hands the last rows on, closes the file; the aggregates, or what went wrong.
    fn close(mut self) -> Result<Aggregates, String> {
        use std::io::Write as _;
        if self.err.is_none() && !self.batch.is_empty() {
            self.send();
        }
        if self.err.is_none()
            && let Err(e) = self.file.flush()
        {
            self.err = Some(e.to_string());
        }
        match self.err {
            Some(e) => Err(e),
            None => Ok(self.agg),
        }
    }
}

fn insert_sql(job: i64, rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO web_result (job_id, seq, row_id, nik, name, verdict, codes, region, \
         regency, amount, kk, body_at, body_len, body) VALUES ",
    );
    for i in 0..rows {
        let b = i * 12;
        if i > 0 {
            sql.push(',');
        }
        // The job's id is a number of ours, written in; the rest are parameters.
        sql.push_str(&format!("({job}"));
        for k in 1..=12 {
            sql.push_str(&format!(",${}", b + k));
        }
        sql.push_str(",'')");
    }
    sql
}

/// Writes the batches the tap hands on into `web_result` (one prepared multi-row insert per
/// batch, a transaction per [`IMPORT_TX_ROWS`] rows). Returns the number of rows.
async fn import_rows(
    web: Arc<Web>,
    job: i64,
    mut rx: tokio::sync::mpsc::Receiver<Vec<DbRow>>,
) -> Result<u64, String> {
    let err = |e: sqlx::Error| e.to_string();
    for table in ["web_result", "web_job_agg", "web_job_reason"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE job_id = $1"
        )))
        .bind(job)
        .execute(&web.db.pool)
        .await
        .map_err(err)?;
    }
    let full = insert_sql(job, IMPORT_ROWS);
    let mut n: u64 = 0;
    let mut tx = web.db.pool.begin().await.map_err(err)?;
    let mut in_tx = 0usize;
    while let Some(batch) = rx.recv().await {
        let sql = if batch.len() == IMPORT_ROWS {
            full.clone()
        } else {
            insert_sql(job, batch.len())
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        n += batch.len() as u64;
        in_tx += batch.len();
        for r in batch {
            q = q
                .bind(r.seq)
                .bind(r.row_id)
                .bind(r.nik)
                .bind(r.name)
                .bind(r.verdict)
                .bind(r.codes)
                .bind(r.region)
                .bind(r.regency)
                .bind(r.amount)
                .bind(r.kk)
                .bind(r.body_at)
                .bind(r.body_len);
        }
        q.execute(&mut *tx).await.map_err(err)?;
        if in_tx >= IMPORT_TX_ROWS {
            tx.commit().await.map_err(err)?;
            tx = web.db.pool.begin().await.map_err(err)?;
            in_tx = 0;
        }
    }
    tx.commit().await.map_err(err)?;
    Ok(n)
}

/// Writes a job's aggregates (replacing any) and marks it aggregated.
pub(crate) async fn write_aggregates(
    web: &Web,
    job: i64,
    agg: &Aggregates,
) -> Result<(), sqlx::Error> {
    let mut tx = web.db.pool.begin().await?;
    for table in ["web_job_agg", "web_job_reason"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE job_id = $1"
        )))
        .bind(job)
        .execute(&mut *tx)
        .await?;
    }
    for (regency, a) in &agg.regencies {
        for (v, (n, amount)) in a.verdicts.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            sqlx::query(
                "INSERT INTO web_job_agg (job_id, regency, verdict, n, amount) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(job)
            .bind(regency.as_str())
            .bind(VERDICTS[v])
            .bind(*n)
            .bind(*amount)
            .execute(&mut *tx)
            .await?;
        }
        for (code, per_verdict) in &a.reasons {
            for (v, n) in per_verdict.iter().enumerate() {
                if *n == 0 {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO web_job_reason (job_id, regency, verdict, code, n) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(job)
                .bind(regency.as_str())
                .bind(VERDICTS[v])
                .bind(code.as_str())
                .bind(*n)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    sqlx::query("UPDATE web_job SET aggregated = 1 WHERE id = $1")
        .bind(job)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Aggregates for finished jobs imported before aggregates were kept, from their rows (once,
/// when the node starts).
async fn backfill_aggregates(web: &Web) -> Result<(), sqlx::Error> {
    let jobs: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM web_job WHERE status = 'done' AND aggregated = 0 ORDER BY id",
    )
    .fetch_all(&web.db.pool)
    .await?;
    for job in jobs {
        let rows =
            sqlx::query("SELECT regency, verdict, codes, amount FROM web_result WHERE job_id = $1")
                .bind(job)
                .fetch_all(&web.db.pool)
                .await?;
        let mut agg = Aggregates::default();
        for r in &rows {
            agg.add(
                &r.try_get::<String, _>("regency")?,
                &r.try_get::<String, _>("verdict")?,
                &r.try_get::<String, _>("codes")?,
                r.try_get("amount")?,
            );
        }
        write_aggregates(web, job, &agg).await?;
    }
    Ok(())
}
