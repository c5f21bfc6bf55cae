//! Registry snapshots: the in-memory [`Registries`] written to a file once per set of dataset
//! versions, so the next validation against the same data reads them back in seconds instead
//! of scanning tens of millions of rows and rebuilding the linkage index.
//!
//! A snapshot is derived data, like an index: the store stays the only source of truth. Its
//! file name carries a key computed from the provenance of every registry table (dataset,
//! snapshot id, load time, row count) plus this format's version and Sinergi's version, so any
//! new load, delta or upgrade makes the old file unreachable (and it is removed when the new
//! one is written). The file holds a magic header, the key again, the encoded registries
//! ([`sinergi_linkage::codec`]) and a SHA-256 of everything before it; a file that is
//! truncated, altered or written by another version is reported and rebuilt, never trusted.
//! Files are written to a temporary name and renamed, so a reader never sees half a file and
//! two runs writing at once leave one whole file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use sinergi_linkage::RegistryIndex;
use sinergi_linkage::codec::{Dec, Enc};
use sinergi_model::standard::Table;

use crate::keymap::KeyMap;
use crate::provenance::Provenance;
use crate::registries::Registries;

const MAGIC: &[u8; 16] = b"SINERGI-REGSNAP\0";
const FORMAT: u32 = 3;
const PREFIX: &str = "registries-";
const SUFFIX: &str = ".snap";

/// The key of a set of dataset versions: hex SHA-256 over the format, Sinergi's version and
/// every registry table's provenance.
pub fn key(provenance: &BTreeMap<Table, Vec<Provenance>>) -> String {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(FORMAT.to_le_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    for (table, datasets) in provenance {
        if *table == Table::RosterEntry {
            continue;
        }
        for p in datasets {
            for part in [&p.table, &p.agency, &p.dataset, &p.snapshot, &p.loaded_at] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part.as_bytes());
            }
            h.update(p.rows.to_le_bytes());
        }
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

/// The snapshot file for `key` in `dir`.
pub fn path(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{PREFIX}{}{SUFFIX}", &key[..32.min(key.len())]))
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what passes through it.
struct HashingRead<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for HashingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

fn encode_body<W: Write>(e: &mut Enc<W>, r: &Registries) -> io::Result<()> {
    r.index.encode(e)?;
    r.persons.encode(e)?;
    r.members.encode(e)?;
    r.deaths.encode(e)?;
    r.employment.encode(e)?;
    r.wages.encode(e)?;
    r.health.encode(e)?;
    r.decile_by_nik.encode(e)?;
    r.decile_by_kk.encode(e)?;
    for t in Table::ALL {
        match r.skipped.get(&t) {
            Some(n) => {
                e.put(&1u8)?;
                e.put(n)?;
            }
            None => {
                e.put(&0u8)?;
                e.put(&0u64)?;
            }
        }
    }
    Ok(())
}

fn decode_body<R: Read>(
    d: &mut Dec<R>,
    provenance: BTreeMap<Table, Vec<Provenance>>,
) -> io::Result<Registries> {
    let index = RegistryIndex::decode(d)?;
    let persons = KeyMap::decode(d)?;
    let members = KeyMap::decode(d)?;
    let deaths = KeyMap::decode(d)?;
    let employment = KeyMap::decode(d)?;
    let wages = KeyMap::decode(d)?;
    let health = KeyMap::decode(d)?;
    let decile_by_nik = KeyMap::decode(d)?;
    let decile_by_kk = KeyMap::decode(d)?;
    let mut skipped = BTreeMap::new();
    for t in Table::ALL {
        let present: u8 = d.get()?;
        let n: u64 = d.get()?;
        if present == 1 {
            skipped.insert(t, n);
        }
    }
    Ok(Registries {
        index,
        persons,
        members,
        deaths,
        employment,
        wages,
        health,
        decile_by_nik,
        decile_by_kk,
        provenance,
        skipped,
    })
}

/// Writes the snapshot of `r` under `key` in `dir` (created if missing) and removes older
/// snapshots there. Returns the file written.
pub fn write(dir: &Path, key: &str, r: &Registries) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let target = path(dir, key);
    let tmp = dir.join(format!(
        ".{PREFIX}{}-{}.tmp",
        std::process::id(),
        &key[..16.min(key.len())]
    ));
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut w = Hashing {
            inner: BufWriter::with_capacity(1 << 20, file),
            hash: Sha256::new(),
        };
        w.write_all(MAGIC)?;
        w.write_all(&FORMAT.to_le_bytes())?;
        let mut e = Enc::new(w);
        e.str(key)?;
        encode_body(&mut e, r)?;
        let w = e.into_inner();
        let digest = w.hash.finalize();
        let mut inner = w.inner;
        inner.write_all(&digest)?;
        let file = inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &target)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // Older snapshots can no longer be asked for: remove them.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let p = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if p != target && name.starts_with(PREFIX) && name.ends_with(SUFFIX) {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    Ok(target)
}

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not a snapshot of this format (other version, other file).
    #[error("{path}: not a registry snapshot of this Sinergi version")]
    Format {
        /// The file.
        path: PathBuf,
    },
    /// The checksum or the structure does not hold: the file was damaged.
    #[error("{path}: damaged ({reason})")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What did not hold.
        reason: String,
    },
    /// Reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// Reads the snapshot for `key` from `dir`: `Ok(None)` when there is none, an error when there
/// is one that cannot be used (damaged, other format). `provenance` is attached to the result.
pub fn read(
    dir: &Path,
    key: &str,
    provenance: BTreeMap<Table, Vec<Provenance>>,
) -> Result<Option<Registries>, SnapshotError> {
    let p = path(dir, key);
    let file = match File::open(&p) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(SnapshotError::Io { path: p, source }),
    };
    let io_err = |source: io::Error| SnapshotError::Io {
        path: p.clone(),
        source,
    };
    let damaged = |reason: String| SnapshotError::Damaged {
        path: p.clone(),
        reason,
    };
    let len = file.metadata().map_err(io_err)?.len();
    let mut r = HashingRead {
        inner: BufReader::with_capacity(1 << 20, file),
        hash: Sha256::new(),
    };
    let mut head = [0u8; 20];
    if r.read_exact(&mut head).is_err()
        || &head[..16] != MAGIC
        || head[16..20] != FORMAT.to_le_bytes()
    {
        return Err(SnapshotError::Format { path: p });
    }
    let mut d = Dec::new(r, len);
    let stored_key = d.string().map_err(|e| damaged(e.to_string()))?;
    if stored_key != key {
        return Err(damaged("key does not match the file name".into()));
    }
    let reg = decode_body(&mut d, provenance).map_err(|e| damaged(e.to_string()))?;
    let r = d.into_inner();
    let digest = r.hash.finalize();
    let mut inner = r.inner;
    let mut stored = [0u8; 32];
    inner
        .read_exact(&mut stored)
        .map_err(|e| damaged(format!("checksum missing: {e}")))?;
    if stored[..] != digest[..] {
        return Err(damaged("checksum does not match".into()));
    }
    let mut extra = [0u8; 1];
    if inner.read(&mut extra).map_err(io_err)? != 0 {
        return Err(damaged("bytes after the checksum".into()));
    }
    Ok(Some(reg))
}
