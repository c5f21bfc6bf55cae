//! The household (KK) overlap ledger at the node that validates lists (Kemensos): which
//! family receives which programme in which period, from every list the node validates
//! (`validasi-penerima-batch`) and every roster stored in its own store (`sinergi ingest
//! --source roster` at the node), so PROGRAM_OVERLAP holds for lists that arrive over the API
//! as for lists `sinergi validate` checks against its store.
//!
//! A validated list's rows count for the household its validation found (the linked
//! person's KK as Dukcapil answered it, else the KK the list states). A stored roster's rows
//! are resolved the same way — the identity and population stages asked of Dukcapil through
//! [`Federated`] — once per set of stored snapshots (a reload of the index forgets them). A
//! list validated again for the same programme and period replaces the earlier one, and
//! replaces a stored roster of that programme and period, as `sinergi validate` replaces
//! the stored rows of the list it validates.
//!
//! The ledger holds KKs, programme codes, periods, amounts and village codes only: no NIK,
//! no name.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sinergi_engine::Provenance;
use sinergi_engine::facts::RosterRow;
use sinergi_engine::ledger::{Exclusions, Ledger, LedgerBuilder, households_of};
use sinergi_exchange::ClientId;
use sinergi_model::standard::Table;

use crate::federated::{Context, Federated};
use crate::state::AppState;

/// Rows per identity call when resolving stored rosters.
const BLOCK: usize = 2048;

/// The ledger's sources.
#[derive(Default)]
pub struct Households {
    inner: Mutex<Inner>,
    /// Held while stored rosters are being resolved (one resolution at a time).
    loading: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Inner {
    /// Stored rosters, resolved; `None` until first needed (and after a reload).
    stored: Option<Stored>,
    /// Lists validated here, by (programme, period).
    lists: BTreeMap<(String, String), Validated>,
    /// Validated lists so far (their citation ids are negative, apart from stored snapshots).
    validated: i64,
    /// The ledger built from the above, until one of them changes.
    built: Option<(Arc<Ledger>, Vec<Provenance>)>,
}

struct Stored {
    rows: Vec<(RosterRow, Option<i64>, Option<u64>)>,
    provenance: Vec<Provenance>,
}

/// One list validated here: its citation and its rows' households.
struct Validated {
    /// The request that sent it (`X-Road-Id`).
    request: String,
    provenance: Provenance,
    /// (KK, amount, village); `None` KK: the row has no household key.
    rows: Vec<(Option<u64>, i64, u64)>,
}

/// One row of a validated list, for the ledger.
pub(crate) struct ListRow<'a> {
    pub program: &'a str,
    pub period: &'a str,
    pub household: Option<u64>,
    pub amount: i64,
    pub village: u64,
}

impl Households {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets the stored rosters (new snapshots were loaded): resolved again when next
    /// needed.
    pub fn forget_stored(&self) {
        let mut i = self.lock();
        i.stored = None;
        i.built = None;
    }

    /// Records rows of a list validated under `request` (called chunk by chunk, in order):
    /// the first row of a programme and period from a new request replaces what an earlier
    /// list of that programme and period left.
    pub(crate) fn record(&self, request: &str, rows: &[ListRow<'_>]) {
        if rows.is_empty() {
            return;
        }
        let mut i = self.lock();
        for r in rows {
            if r.program.is_empty() || r.period.trim().is_empty() {
                continue;
            }
            let key = (r.program.to_string(), r.period.trim().to_string());
            if i.lists.get(&key).is_none_or(|l| l.request != request) {
                i.validated += 1;
                let n = i.validated;
                let provenance = Provenance {
                    table: Table::RosterEntry.name().to_string(),
                    agency: "Kemensos".into(),
                    dataset: format!("validasi-penerima-batch {} {}", key.0, key.1),
                    snapshot: request.to_string(),
                    snapshot_id: -n,
                    loaded_at: rfc3339_now(),
                    rows: 0,
                    reference_date: None,
                };
                i.lists.insert(
                    key.clone(),
                    Validated {
                        request: request.to_string(),
                        provenance,
                        rows: Vec::new(),
                    },
                );
            }
            if let Some(l) = i.lists.get_mut(&key) {
                l.rows.push((r.household, r.amount, r.village));
                l.provenance.rows += 1;
            }
        }
        i.built = None;
    }

    /// The ledger of every list validated here and every roster stored here, with the lists'
    /// citations (none: no list is known, PROGRAM_OVERLAP is not checked). Resolves the stored
    /// rosters first when they are not yet, asking as `me` in `cx`.
    pub(crate) async fn ledger(
        &self,
        st: &Arc<AppState>,
        me: &ClientId,
        cx: &Context,
        exclusions: &Exclusions,
    ) -> (Arc<Ledger>, Vec<Provenance>) {
        if self.lock().stored.is_none() {
            let _one = self.loading.lock().await;
            if self.lock().stored.is_none() {
                let stored = load_stored(st, me, cx).await;
                let mut i = self.lock();
                i.stored = Some(stored);
                i.built = None;
            }
        }
        let mut i = self.lock();
        if let Some((l, p)) = &i.built {
            return (l.clone(), p.clone());
        }
        let mut b = LedgerBuilder::new();
        let mut provenance = Vec::new();
        for (program, period) in i.lists.keys() {
            b.replace(program, period);
        }
        if let Some(s) = &i.stored {
            for (row, snapshot, kk) in &s.rows {
                if b.counts(&row.program, &row.period) {
                    b.add_list_row(row, *snapshot, *kk);
                }
            }
            provenance.extend(s.provenance.iter().cloned());
        }
        for ((program, period), l) in &i.lists {
            let row = RosterRow {
                program: program.clone(),
                period: period.clone(),
                ..RosterRow::default()
            };
            for (kk, amount, village) in &l.rows {
                let row = RosterRow {
                    amount: Some(*amount),
                    village: Some(*village),
                    ..row.clone()
                };
                b.add_list_row(&row, Some(l.provenance.snapshot_id), *kk);
            }
            provenance.push(l.provenance.clone());
        }
        let built = (Arc::new(b.finish(exclusions.clone())), provenance);
        i.built = Some(built.clone());
        built
    }
}

/// The rosters in the node's store, each row with its household as validation finds it.
async fn load_stored(st: &Arc<AppState>, me: &ClientId, cx: &Context) -> Stored {
    let empty = || Stored {
        rows: Vec::new(),
        provenance: Vec::new(),
    };
    let Some(store) = &st.store else {
        return empty();
    };
    let provenance = match sinergi_engine::run::store_provenance(store).await {
        Ok(mut p) => p.remove(&Table::RosterEntry).unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "stored rosters not read for the household ledger");
            return empty();
        }
    };
    if provenance.is_empty() {
        return empty();
    }
    struct Sink(Vec<RosterRow>, Vec<Option<i64>>);
    impl sinergi_store::RowSink for Sink {
        fn row(&mut self, row: &[Option<&str>]) {
            let (row, snapshot) = sinergi_engine::ledger::stored_row(row);
            self.0.push(row);
            self.1.push(snapshot);
        }
    }
    let Sink(rows, snapshots) = match store
        .scan_text(
            Table::RosterEntry,
            &LedgerBuilder::STORED_FIELDS,
            Sink(Vec::new(), Vec::new()),
        )
        .await
    {
        Ok((_, sink)) => sink,
        Err(e) => {
            tracing::warn!(error = %e, "stored rosters not read for the household ledger");
            return empty();
        }
    };
    let (st2, me2, cx2) = (st.clone(), me.clone(), cx.clone());
    let rt = tokio::runtime::Handle::current();
    let resolved = tokio::task::spawn_blocking(move || {
        let mut answerer = Federated::new(st2, me2, cx2, rt);
        let kk = households_of(&mut answerer, &rows, BLOCK);
        rows.into_iter()
            .zip(snapshots)
            .zip(kk)
            .map(|((r, s), k)| (r, s, k))
            .collect()
    })
    .await
    .unwrap_or_default();
    Stored {
        rows: resolved,
        provenance,
    }
}

/// Now, RFC 3339 UTC (stored times stay UTC).
fn rfc3339_now() -> String {
    let micros = crate::now().0;
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
