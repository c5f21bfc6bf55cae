//! A dataset's versions, its event log, and restoring a kept previous version.
//!
//! A full snapshot load writes a new physical table; at commit the previous version's table
//! is kept (status `superseded`) instead of dropped, up to [`crate::LoadPolicy::keep_previous`]
//! of them, so a bad load can be undone: [`Store::restore`] makes a kept version current again
//! in one transaction (view, pointer, family history) and records who did it and why. A delta
//! changes the current table in place, so the versions before a delta on the same table are not
//! restorable as they were; [`VersionState::ChangedByDelta`] says so.

use serde::{Deserialize, Serialize};
use sinergi_model::standard::{Table, Value};

use crate::Pools;
use crate::conn::{Conn, Kind};
use crate::schema::q;
use crate::{
    SNAPSHOT_COLS, SNAPSHOT_KINDS, SnapshotInfo, Store, StoreError, current_snapshot,
    family_update, int, meta_err, now_rfc3339, parse_table, rebuild_current_view,
    snapshot_from_row, text,
};

/// What can be done with a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum VersionState {
    /// The version readers see now.
    Current,
    /// A previous version whose rows are kept: it can be restored.
    Kept,
    /// A previous version whose rows were dropped (beyond the kept number).
    Dropped,
    /// A previous version whose table a later delta changed in place; restore that later
    /// version instead.
    ChangedByDelta {
        /// The later version that holds this table now.
        by: String,
    },
}

/// One version of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Its figures, as for the current version.
    #[serde(flatten)]
    pub info: SnapshotInfo,
    /// Whether it is current, restorable, or gone.
    #[serde(flatten)]
    pub state: VersionState,
}

/// One entry of a dataset's event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetEvent {
    /// Increasing id.
    pub event_id: i64,
    /// Dataset name.
    pub dataset: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// `snapshot`, `delta`, `refused` or `restore`.
    pub action: String,
    /// The version that became current (none for a refusal).
    pub snapshot_id: Option<i64>,
    /// The version that was current before.
    pub previous_snapshot_id: Option<i64>,
    /// Who (as given; may be empty for loads).
    pub actor: String,
    /// Figures and reasons: rows, guard reasons (refused, or overridden when confirmed), the
    /// restore's reason.
    pub detail: serde_json::Value,
}

/// Writes one event inside the caller's transaction.
pub(crate) async fn insert_event(
    c: &mut Conn<'_>,
    dataset: &str,
    action: &str,
    snapshot_id: Option<i64>,
    previous_snapshot_id: Option<i64>,
    actor: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    // Absent ids are written as a NULL literal: binding a typed NULL would give one SQL text
    // two parameter types, which PostgreSQL's prepared-statement cache does not allow.
    let id = |v: Option<i64>| v.map_or("NULL".to_string(), |i| i.to_string());
    c.exec(
        &format!(
            "INSERT INTO sinergi_dataset_event (dataset, at, action, snapshot_id, \
             previous_snapshot_id, actor, detail_json) VALUES ($1, $2, $3, {}, {}, $4, $5)",
            id(snapshot_id),
            id(previous_snapshot_id)
        ),
        &[
            Value::Text(dataset.to_string()),
            Value::Text(now_rfc3339()),
            Value::Text(action.to_string()),
            Value::Text(actor.to_string()),
            Value::Text(serde_json::to_string(detail).map_err(meta_err)?),
        ],
    )
    .await?;
    Ok(())
}

/// The versions of a dataset (oldest first) with their states, and the storage table of each.
async fn versions_in(
    c: &mut Conn<'_>,
    dataset: &str,
) -> Result<Vec<(VersionInfo, String)>, StoreError> {
    let sql = format!(
        "SELECT {SNAPSHOT_COLS}, s.status, d.table_name FROM sinergi_snapshot s \
         JOIN sinergi_dataset d ON d.dataset_id = s.dataset_id \
         WHERE d.name = $1 AND s.status <> 'loading' ORDER BY s.snapshot_id"
    );
    let mut kinds = SNAPSHOT_KINDS.to_vec();
    kinds.extend([Kind::Text, Kind::Text]);
    let rows = c
        .rows(&sql, &[Value::Text(dataset.to_string())], &kinds)
        .await?;
    let n = SNAPSHOT_KINDS.len();
    let mut out: Vec<(SnapshotInfo, String, String)> = Vec::with_capacity(rows.len());
    for r in &rows {
        let table = parse_table(&r[n + 1])?;
        out.push((
            snapshot_from_row(dataset, table, &r[..n])?,
            text(&r[n - 1]),
            text(&r[n]),
        ));
    }
    let mut versions = Vec::with_capacity(out.len());
    for (i, (info, storage, status)) in out.iter().enumerate() {
        let later = out[i + 1..].iter().rfind(|(_, s, _)| s == storage);
        let state = match status.as_str() {
            "current" => VersionState::Current,
            "dropped" => VersionState::Dropped,
            _ => match later {
                Some((l, _, _)) => VersionState::ChangedByDelta {
                    by: l.version_label.clone(),
                },
                None => VersionState::Kept,
            },
        };
        versions.push((
            VersionInfo {
                info: info.clone(),
                state,
            },
            storage.clone(),
        ));
    }
    Ok(versions)
}

impl Store {
    /// Every version of a dataset, oldest first, with what can be done with it.
    pub async fn versions(&self, dataset: &str) -> Result<Vec<VersionInfo>, StoreError> {
        let v = with_read_conn!(self, c => versions_in(&mut c, dataset).await?);
        if v.is_empty() {
            self.require_dataset(dataset).await?;
        }
        Ok(v.into_iter().map(|(v, _)| v).collect())
    }

    /// The event log of a dataset (loads, refused loads, restores), oldest first.
    pub async fn events(&self, dataset: &str) -> Result<Vec<DatasetEvent>, StoreError> {
        let sql = "SELECT event_id, dataset, at, action, snapshot_id, previous_snapshot_id, \
                   actor, detail_json FROM sinergi_dataset_event WHERE dataset = $1 \
                   ORDER BY event_id";
        let kinds = [
            Kind::Int,
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Int,
            Kind::Int,
            Kind::Text,
            Kind::Text,
        ];
        let rows = with_read_conn!(self, c => c
            .rows(sql, &[Value::Text(dataset.to_string())], &kinds)
            .await?);
        rows.iter()
            .map(|r| {
                let opt = |v: &Value| match v {
                    Value::Integer(i) => Some(*i),
                    _ => None,
                };
                Ok(DatasetEvent {
                    event_id: int(&r[0]),
                    dataset: text(&r[1]),
                    at: text(&r[2]),
                    action: text(&r[3]),
                    snapshot_id: opt(&r[4]),
                    previous_snapshot_id: opt(&r[5]),
                    actor: text(&r[6]),
                    detail: serde_json::from_str(&text(&r[7])).map_err(meta_err)?,
                })
            })
            .collect()
    }

    /// Fails with [`StoreError::NoSuchDataset`] naming the known datasets when `dataset` is not
    /// one of them.
    async fn require_dataset(&self, dataset: &str) -> Result<(), StoreError> {
        let known: Vec<String> = self
            .datasets()
            .await?
            .into_iter()
            .map(|d| d.meta.name)
            .collect();
        if known.iter().any(|k| k == dataset) {
            Ok(())
        } else {
            Err(StoreError::NoSuchDataset {
                dataset: dataset.to_string(),
                known,
            })
        }
    }

    /// Makes a kept previous version of `dataset` current again, in one transaction: readers
    /// see the version before or the restored one, never half. The version that was current is
    /// kept in turn (it can be restored back). Recorded in the event log with `actor` and
    /// `reason`.
    pub async fn restore(
        &self,
        dataset: &str,
        version: &str,
        actor: &str,
        reason: &str,
    ) -> Result<SnapshotInfo, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut c = tx.conn();
        let versions = versions_in(&mut c, dataset).await?;
        if versions.is_empty() {
            tx.rollback().await?;
            self.require_dataset(dataset).await?;
            return Err(StoreError::NoSuchVersion {
                dataset: dataset.to_string(),
                version: version.to_string(),
                known: Vec::new(),
            });
        }
        let Some((target, target_table)) = versions
            .iter()
            .find(|(v, _)| v.info.version_label.eq_ignore_ascii_case(version.trim()))
        else {
            return Err(StoreError::NoSuchVersion {
                dataset: dataset.to_string(),
                version: version.to_string(),
                known: versions
                    .iter()
                    .map(|(v, _)| v.info.version_label.clone())
                    .collect(),
            });
        };
        if target.state != VersionState::Kept {
            return Err(StoreError::NotRestorable {
                dataset: dataset.to_string(),
                version: target.info.version_label.clone(),
                state: target.state.clone(),
            });
        }
        let (current, current_table) = versions
            .iter()
            .find(|(v, _)| v.state == VersionState::Current)
            .ok_or_else(|| meta_err("dataset has kept versions but none current"))?;
        let t: Table = target.info.table;
        let ds = Value::Integer(target.info.dataset_id);
        let sid = Value::Integer(target.info.snapshot_id);
        let now = now_rfc3339();
        if t == Table::Person {
            family_update(
                &mut c,
                &q(current_table),
                &q(target_table),
                None,
                &now,
                &sid,
                &ds,
            )
            .await?;
        }
        c.exec(
            "UPDATE sinergi_snapshot SET status = 'superseded', superseded_at = $1 \
             WHERE snapshot_id = $2",
            &[
                Value::Text(now.clone()),
                Value::Integer(current.info.snapshot_id),
            ],
        )
        .await?;
        c.exec(
            "UPDATE sinergi_snapshot SET status = 'current', superseded_at = NULL \
             WHERE snapshot_id = $1",
            std::slice::from_ref(&sid),
        )
        .await?;
        c.exec(
            "UPDATE sinergi_dataset SET current_snapshot_id = $1 WHERE dataset_id = $2",
            &[sid, ds],
        )
        .await?;
        rebuild_current_view(&mut c, t).await?;
        insert_event(
            &mut c,
            dataset,
            "restore",
            Some(target.info.snapshot_id),
            Some(current.info.snapshot_id),
            actor,
            &serde_json::json!({
                "reason": reason,
                "from_version": current.info.version_label,
                "to_version": target.info.version_label,
                "rows": target.info.row_count,
            }),
        )
        .await?;
        let info = current_snapshot(&mut c, target.info.dataset_id)
            .await?
            .ok_or_else(|| meta_err("restored snapshot not found"))?
            .info;
        tx.commit().await?;
        Ok(info)
    }

    /// Writes one event in a transaction of its own (a refused load, after its rollback).
    pub(crate) async fn record_event(
        &self,
        dataset: &str,
        action: &str,
        previous_snapshot_id: Option<i64>,
        actor: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut c = tx.conn();
        insert_event(
            &mut c,
            dataset,
            action,
            None,
            previous_snapshot_id,
            actor,
            detail,
        )
        .await?;
        tx.commit().await
    }
}
