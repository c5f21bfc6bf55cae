//! Beranda (the dashboard): the latest validation the user may see — counts by verdict, budget
//! at risk, top reasons (SVG), the breakdown by province and then kabupaten/kota, the trend over
//! the programme's runs — and the registries behind the verdicts (agency, version, as of,
//! loaded, rows, rejected). An operator's figures are their kabupaten/kota's.

use axum::response::Response;
use sqlx::Row as _;

use crate::validasi::{Counts, JobLine, counts, line, scope, top_reasons, unavailable};
use crate::{Session, Web};

/// One line of beranda's regional breakdown.
pub struct AreaLine {
    /// Province (2 digits) or kabupaten/kota (4 digits) code.
    pub code: String,
    pub name: String,
    pub counts: Counts,
    /// A province line links to its kabupaten/kota.
    pub drill: bool,
}

/// One registry behind the verdicts: whose, which version, as of when, loaded when, quality.
pub struct Freshness {
    pub agency: String,
    pub dataset: String,
    pub version: String,
    pub as_of: String,
    pub loaded: String,
    pub rows: u64,
    pub rejected: u64,
}

/// Beranda's content: the latest finished job the user may see, its counts and reasons.
pub struct Board {
    pub job: Option<JobLine>,
    pub counts: Counts,
    pub reasons: Vec<(String, i64)>,
    pub jobs: Vec<JobLine>,
    pub region: String,
    /// The province drilled into (`?provinsi=PP`), with its name.
    pub province: Option<(String, String)>,
    pub areas: Vec<AreaLine>,
    /// Earlier runs of the same programme, newest first: the trend.
    pub trend: Vec<(JobLine, Counts)>,
    pub registries: Vec<Freshness>,
}

impl Board {
    /// The width of a reason's bar (of 300 px).
    pub fn bar(&self, n: &i64) -> i64 {
        let max = self.reasons.first().map_or(1, |r| r.1.max(1));
        n * 300 / max
    }
}

/// Counts per province (`province` None) or per kabupaten/kota of one province.
async fn areas(
    web: &Web,
    job: i64,
    region: Option<&str>,
    province: Option<&str>,
) -> Result<Vec<AreaLine>, sqlx::Error> {
    let len = if province.is_some() { 4 } else { 2 };
    let mut sql = format!(
        "SELECT substr(regency, 1, {len}) AS area, verdict, SUM(n) AS n, SUM(amount) AS amt \
         FROM web_job_agg WHERE job_id = $1 AND regency <> ''"
    );
    let mut args: Vec<String> = Vec::new();
    if let Some(r) = region {
        args.push(r.to_string());
        sql.push_str(&format!(" AND regency = ${}", args.len() + 1));
    }
    if let Some(p) = province {
        args.push(format!("{p}%"));
        sql.push_str(&format!(" AND regency LIKE ${}", args.len() + 1));
    }
    sql.push_str(" GROUP BY area, verdict ORDER BY area");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(job);
    for a in args {
        q = q.bind(a);
    }
    let mut out: Vec<AreaLine> = Vec::new();
    for r in q.fetch_all(&web.db.pool).await? {
        let code: String = r.try_get("area")?;
        let v: String = r.try_get("verdict")?;
        let n: i64 = r.try_get("n")?;
        let amt: i64 = r.try_get("amt")?;
        if out.last().is_none_or(|l| l.code != code) {
            out.push(AreaLine {
                name: crate::region::name(&code).unwrap_or_else(|| code.clone()),
                code,
                counts: Counts::default(),
                drill: province.is_none(),
            });
        }
        let c = &mut out.last_mut().expect("pushed").counts;
        c.add(&v, n, amt);
    }
    Ok(out)
}

async fn registries(web: &Web) -> Vec<Freshness> {
    let Some(store) = &web.node.store else {
        return Vec::new();
    };
    let mut v: Vec<Freshness> = store
        .datasets()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.meta.table != sinergi_model::standard::Table::RosterEntry)
        .filter_map(|d| {
            let c = d.current?;
            Some(Freshness {
                agency: d.meta.owner_agency.clone(),
                dataset: d.meta.name.clone(),
                version: c.version_label.clone(),
                as_of: c.reference_date.clone().unwrap_or_default(),
                loaded: c.loaded_at.get(..10).unwrap_or(&c.loaded_at).to_string(),
                rows: c.row_count,
                rejected: c.rows_rejected,
            })
        })
        .collect();
    v.sort_by(|a, b| a.agency.cmp(&b.agency).then(a.dataset.cmp(&b.dataset)));
    v
}

pub async fn board(web: &Web, s: &Session, province: Option<&str>) -> Result<Board, Response> {
    let jobs = web.recent_jobs(50).await.map_err(|_| unavailable(s))?;
    let latest = jobs.iter().find(|j| j.status == "done").cloned();
    let province = province
        .map(|p| p.chars().filter(|c| c.is_ascii_digit()).collect::<String>())
        .filter(|p| p.len() == 2);
    let sees = s.user.role.can_see_results();
    let areas = match (&latest, sees) {
        (Some(j), true) => areas(web, j.id, scope(s), province.as_deref())
            .await
            .map_err(|_| unavailable(s))?,
        _ => Vec::new(),
    };
    let mut trend = Vec::new();
    if let (Some(l), true) = (&latest, sees) {
        for j in jobs
            .iter()
            .filter(|j| j.status == "done" && j.program == l.program)
            .take(6)
        {
            let c = counts(web, j.id, scope(s))
                .await
                .map_err(|_| unavailable(s))?;
            trend.push((line(s.lang, j), c));
        }
    }
    let (counts, reasons) = match (&latest, s.user.role.can_see_results()) {
        (Some(j), true) => (
            counts(web, j.id, scope(s))
                .await
                .map_err(|_| unavailable(s))?,
            top_reasons(web, j.id, scope(s))
                .await
                .map_err(|_| unavailable(s))?
                .into_iter()
                .take(8)
                .collect(),
        ),
        _ => (Counts::default(), Vec::new()),
    };
    Ok(Board {
        job: latest.as_ref().map(|j| line(s.lang, j)),
        counts,
        reasons,
        jobs: jobs.iter().take(10).map(|j| line(s.lang, j)).collect(),
        province: province.map(|p| {
            let n = crate::region::name(&p).unwrap_or_else(|| p.clone());
            (p, n)
        }),
        areas,
        trend,
        registries: registries(web).await,
        region: s
            .user
            .region
            .as_deref()
            .map(|r| crate::region::regency_name(r).unwrap_or_else(|| r.to_string()))
            .unwrap_or_default(),
    })
}
