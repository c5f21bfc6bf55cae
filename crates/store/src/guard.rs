//! Load guards: a load that would empty or shrink a dataset, or in which too many rows were
//! rejected, does not become the current version unless someone confirms it.
//!
//! Why: a registry is what every verdict rests on. When Dukcapil changes its death-date
//! format, every death row is rejected; without a guard the deaths dataset silently becomes
//! empty and a dead recipient comes out LAYAK. The figures are checked at commit, before
//! anything changes; a refusal rolls the load back (the previous version stays current) and is
//! recorded in the dataset's event log.

use serde::{Deserialize, Serialize};

use crate::LoadMode;

/// How a load is governed: the guard's thresholds, whether a person confirmed the load, how
/// many previous versions are kept, and who is loading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadPolicy {
    /// Largest share of the current version's rows a full snapshot may lose without
    /// confirmation (0.10: a load with more than 10% fewer rows is refused).
    pub max_shrink: f64,
    /// Largest share of the rows read that may be rejected without confirmation (0.05).
    pub max_rejected: f64,
    /// A person confirmed the load (`sinergi ingest --izinkan-susut`): the checks are recorded
    /// in the event log but do not refuse.
    pub confirmed: bool,
    /// Previous versions whose tables are kept for [`crate::Store::restore`] (2). Older ones
    /// are dropped when a load commits.
    pub keep_previous: usize,
    /// Who loads (recorded in the event log; may be empty).
    pub actor: String,
}

impl Default for LoadPolicy {
    fn default() -> Self {
        LoadPolicy {
            max_shrink: DEFAULT_MAX_SHRINK,
            max_rejected: DEFAULT_MAX_REJECTED,
            confirmed: false,
            keep_previous: DEFAULT_KEEP_PREVIOUS,
            actor: String::new(),
        }
    }
}

/// Default of [`LoadPolicy::max_shrink`].
pub const DEFAULT_MAX_SHRINK: f64 = 0.10;
/// Default of [`LoadPolicy::max_rejected`].
pub const DEFAULT_MAX_REJECTED: f64 = 0.05;
/// Default of [`LoadPolicy::keep_previous`].
pub const DEFAULT_KEEP_PREVIOUS: usize = 2;

/// Why a load was (or, when confirmed, would have been) refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum GuardReason {
    /// The load has no rows at all (every row rejected, or a header-only file).
    Empty {
        /// Rows read from the input.
        read: u64,
        /// Of those, rejected.
        rejected: u64,
    },
    /// A full snapshot with fewer rows than the current version, beyond the threshold.
    Shrink {
        /// Rows of the current version.
        from: u64,
        /// Rows of the new one.
        to: u64,
        /// The threshold that was exceeded (share of `from`).
        max_shrink: f64,
    },
    /// More rows rejected than the threshold allows.
    Rejected {
        /// Rows rejected.
        rejected: u64,
        /// Rows read.
        read: u64,
        /// The threshold that was exceeded (share of `read`).
        max_rejected: f64,
    },
}

impl GuardReason {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            GuardReason::Empty { .. } => "LOAD_EMPTY",
            GuardReason::Shrink { .. } => "LOAD_SHRINKS",
            GuardReason::Rejected { .. } => "LOAD_MOSTLY_REJECTED",
        }
    }
}

/// The figures of a load the guard looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Figures {
    pub mode: LoadMode,
    /// Rows of the current version (`None` for a first load).
    pub previous_rows: Option<u64>,
    /// Rows the load inserted.
    pub inserted: u64,
    /// Rows read and rejected, as ingestion reported them.
    pub read: u64,
    pub rejected: u64,
}

impl LoadPolicy {
    /// Every guard reason that applies to these figures (empty when the load may go ahead
    /// unconfirmed). Deltas are never "empty" or "shrinking" (an upsert removes no rows), but
    /// a delta in which too many rows were rejected is refused like a snapshot.
    pub(crate) fn check(&self, f: Figures) -> Vec<GuardReason> {
        let mut out = Vec::new();
        if f.mode == LoadMode::Snapshot && f.inserted == 0 {
            out.push(GuardReason::Empty {
                read: f.read,
                rejected: f.rejected,
            });
        } else if f.mode == LoadMode::Snapshot
            && let Some(from) = f.previous_rows
            && from > 0
            && (f.inserted as f64) < from as f64 * (1.0 - self.max_shrink)
        {
            out.push(GuardReason::Shrink {
                from,
                to: f.inserted,
                max_shrink: self.max_shrink,
            });
        }
        if f.read > 0 && f.rejected as f64 > f.read as f64 * self.max_rejected {
            out.push(GuardReason::Rejected {
                rejected: f.rejected,
                read: f.read,
                max_rejected: self.max_rejected,
            });
        }
        out
    }
}

/// A load the guard refused: nothing changed, the previous version is still current.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadRefusal {
    /// Dataset name.
    pub dataset: String,
    /// The current version that stays current (`None` when the dataset had none).
    pub current_version: Option<String>,
    /// Every reason.
    pub reasons: Vec<GuardReason>,
}

impl std::fmt::Display for LoadRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let codes: Vec<&str> = self.reasons.iter().map(GuardReason::code).collect();
        write!(
            f,
            "load of {} refused ({}); the current version {} stays current",
            self.dataset,
            codes.join(", "),
            self.current_version.as_deref().unwrap_or("(none)")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(mode: LoadMode, previous: Option<u64>, inserted: u64, read: u64) -> Figures {
        Figures {
            mode,
            previous_rows: previous,
            inserted,
            read,
            rejected: read.saturating_sub(inserted),
        }
    }

    #[test]
    fn the_guard_refuses_empty_shrinking_and_mostly_rejected_loads_only() {
        let p = LoadPolicy::default();
        let codes = |f: Figures| -> Vec<&'static str> {
            p.check(f).iter().map(GuardReason::code).collect()
        };
        let s = LoadMode::Snapshot;
        // Every death rejected: empty and mostly rejected.
        assert_eq!(
            codes(figures(s, Some(1575), 0, 1575)),
            ["LOAD_EMPTY", "LOAD_MOSTLY_REJECTED"]
        );
        // A header-only file, first load or not.
        assert_eq!(codes(figures(s, None, 0, 0)), ["LOAD_EMPTY"]);
        // 10% fewer rows is allowed, 10.1% is not.
        assert!(codes(figures(s, Some(1000), 900, 900)).is_empty());
        assert_eq!(codes(figures(s, Some(1000), 899, 899)), ["LOAD_SHRINKS"]);
        // Growth, and a first load, never shrink.
        assert!(codes(figures(s, Some(10), 5000, 5000)).is_empty());
        assert!(codes(figures(s, None, 7, 7)).is_empty());
        // 5% rejected is allowed, more is not.
        assert!(codes(figures(s, None, 95, 100)).is_empty());
        assert_eq!(codes(figures(s, None, 94, 100)), ["LOAD_MOSTLY_REJECTED"]);
        // A delta is never empty or shrinking, but its rejects count.
        let d = LoadMode::Delta;
        assert!(codes(figures(d, Some(1000), 0, 0)).is_empty());
        assert_eq!(
            codes(figures(d, Some(1000), 0, 3)),
            ["LOAD_MOSTLY_REJECTED"]
        );
    }

    #[test]
    fn thresholds_are_configurable() {
        let p = LoadPolicy {
            max_shrink: 0.5,
            max_rejected: 0.0,
            ..LoadPolicy::default()
        };
        let f = figures(LoadMode::Snapshot, Some(1000), 600, 601);
        assert_eq!(
            p.check(f).len(),
            1,
            "40% fewer is fine at 50%, one reject is not"
        );
    }
}
