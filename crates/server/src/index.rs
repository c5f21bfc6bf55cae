//! The in-memory index the verification services answer from: the current snapshot of each
//! registry in the node's store, keyed by NIK, loaded at start and swapped whole when a new
//! snapshot lands (readers keep the `Arc` they took: never a half-loaded index).

use std::collections::HashMap;

use sinergi_model::normalize_name;
use sinergi_model::standard::{Record, Table, Value};
use sinergi_store::Store;

/// A person in the population registry.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: Box<str>,
    pub name_norm: Box<str>,
    /// `YYYY-MM-DD`.
    pub birth_date: Box<str>,
    pub sex: Box<str>,
    pub kk: Box<str>,
    /// Kemendagri code, 10 digits.
    pub region: Box<str>,
    pub address: Option<Box<str>>,
}

/// A BPJS Kesehatan membership.
#[derive(Debug, Clone)]
pub struct Health {
    pub segment: Box<str>,
    pub class: Option<i64>,
    pub active: bool,
    pub catastrophic: bool,
}

/// A DTSEN record.
#[derive(Debug, Clone)]
pub struct Decile {
    pub decile: u8,
    pub region: Option<Box<str>>,
    pub family_id: Box<str>,
}

/// Everything the services read, by NIK as u64.
#[derive(Debug, Default)]
pub struct Index {
    pub persons: HashMap<u64, Person>,
    /// Date of death `YYYY-MM-DD`.
    pub deaths: HashMap<u64, Box<str>>,
    pub health: HashMap<u64, Health>,
    /// Employment kind (PNS, PPPK, TNI, POLRI).
    pub employment: HashMap<u64, Box<str>>,
    pub deciles: HashMap<u64, Decile>,
    /// Current snapshot ids of the datasets the index was built from (to detect changes).
    pub snapshots: Vec<(String, i64)>,
}

/// A NIK as the index key: exactly 16 ASCII digits, with ASCII white space around them
/// allowed (a no-break space or an ideographic space is not white space in a NIK).
pub fn nik_key(nik: &str) -> Option<u64> {
    let nik = nik.trim_matches(|c: char| c.is_ascii_whitespace());
    if nik.len() != 16 || !nik.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    nik.parse().ok()
}

fn text(r: &Record, f: &str) -> Option<Box<str>> {
    match r.get(f) {
        Some(Value::Text(s)) if !s.is_empty() => Some(s.as_str().into()),
        _ => None,
    }
}

fn int(r: &Record, f: &str) -> Option<i64> {
    match r.get(f) {
        Some(Value::Integer(i)) => Some(*i),
        _ => None,
    }
}

fn boolean(r: &Record, f: &str) -> Option<bool> {
    match r.get(f) {
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    }
}

impl Index {
    /// The snapshot ids a store currently serves, sorted by dataset name.
    pub async fn current_snapshots(store: &Store) -> Result<Vec<(String, i64)>, String> {
        let ds = store.datasets().await.map_err(|e| e.to_string())?;
        Ok(ds
            .into_iter()
            .filter_map(|d| d.current.map(|s| (d.meta.name, s.snapshot_id)))
            .collect())
    }

    /// Builds the index from the store's current snapshots.
    pub async fn load(store: &Store) -> Result<Index, String> {
        let mut ix = Index {
            snapshots: Index::current_snapshots(store).await?,
            ..Index::default()
        };
        let e = |e: sinergi_store::StoreError| e.to_string();
        store
            .scan(Table::Person, |r| {
                if let Some(k) = text(&r, "nik").and_then(|n| nik_key(&n)) {
                    let name = text(&r, "name").unwrap_or_default();
                    ix.persons.insert(
                        k,
                        Person {
                            name_norm: normalize_name(&name).into(),
                            name,
                            birth_date: text(&r, "birth_date").unwrap_or_default(),
                            sex: text(&r, "sex").unwrap_or_default(),
                            kk: text(&r, "kk").unwrap_or_default(),
                            region: text(&r, "region").unwrap_or_default(),
                            address: text(&r, "address"),
                        },
                    );
                }
            })
            .await
            .map_err(e)?;
        store
            .scan(Table::Death, |r| {
                if let Some(k) = text(&r, "nik").and_then(|n| nik_key(&n)) {
                    ix.deaths
                        .insert(k, text(&r, "death_date").unwrap_or_default());
                }
            })
            .await
            .map_err(e)?;
        store
            .scan(Table::HealthMembership, |r| {
                if let Some(k) = text(&r, "nik").and_then(|n| nik_key(&n)) {
                    let h = Health {
                        segment: text(&r, "segment").unwrap_or_default(),
                        class: int(&r, "class"),
                        active: boolean(&r, "active").unwrap_or(false),
                        catastrophic: boolean(&r, "catastrophic").unwrap_or(false),
                    };
                    // Several cards per NIK: an active one wins.
                    match ix.health.get(&k) {
                        Some(old) if old.active && !h.active => {}
                        _ => {
                            ix.health.insert(k, h);
                        }
                    }
                }
            })
            .await
            .map_err(e)?;
        store
            .scan(Table::Employment, |r| {
                if let Some(k) = text(&r, "nik").and_then(|n| nik_key(&n)) {
                    ix.employment
                        .insert(k, text(&r, "kind").unwrap_or_default());
                }
            })
            .await
            .map_err(e)?;
        store
            .scan(Table::Decile, |r| {
                if let Some(k) = text(&r, "nik").and_then(|n| nik_key(&n)) {
                    let d = int(&r, "decile").unwrap_or(0).clamp(0, 255) as u8;
                    ix.deciles.insert(
                        k,
                        Decile {
                            decile: d,
                            region: text(&r, "region"),
                            family_id: text(&r, "family_id").unwrap_or_default(),
                        },
                    );
                }
            })
            .await
            .map_err(e)?;
        Ok(ix)
    }

    /// The subject's registered region, for the agreement's region scope: the population
    /// registry's domicile, else the DTSEN record's region.
    pub fn region_of(&self, nik: u64) -> Option<&str> {
        self.persons
            .get(&nik)
            .map(|p| &*p.region)
            .filter(|r| !r.is_empty())
            .or_else(|| self.deciles.get(&nik).and_then(|d| d.region.as_deref()))
    }
}
