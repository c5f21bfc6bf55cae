//! Record linkage for validating aid-recipient rosters against the population registry
//! (Dukcapil), and generic linkage of lists without NIK.
//!
//! Architecture invariant: this crate does no I/O and knows nothing of HTTP, SQL or files. It
//! receives data as Rust values ([`RegistryPerson`], [`Query`], [`GenericRecord`]) and returns
//! values ([`Link`], [`ScoredPair`]).
//!
//! # Pipeline
//!
//! 1. **Index** ([`RegistryIndex::build`]): columnar arrays (NIK, KK, birth day number, sex,
//!    interned village, canonical name in one string arena, a 64-bit name signature) plus
//!    compressed posting lists (`Vec<u32>`): NIKs sorted (exact, neighbour and 15-digit-prefix
//!    lookups by binary search), birth date + sex, phonetic name token + birth year, village.
//!    About 100 bytes per person.
//! 2. **Blocking** (candidate generation), in two stages. Stage 1: the listed NIK's
//!    neighbours (all 144 one-digit substitutions and the adjacent transpositions looked up in
//!    the NIK array), the 15-digit truncation (first 15 digits equal, any last digit, when the
//!    NIK has 15 digits, scientific notation or a trailing 0), and birth date + sex (plus the
//!    day/month-swapped date); a garbled NIK cell is read as a clerk garbled it
//!    ([`adapter::nik_repairs`]: letters for digits, a digit left out or typed twice). Stage
//!    2, only when stage 1 found nobody convincing: the two
//!    rarest phonetic name tokens with birth year ±1, or, without a birth date, the village.
//!    Non-NIK blocks pass a name-signature pre-filter; blocks are capped
//!    ([`LinkConfig::max_block`]); the number of compared candidates is reported.
//! 3. **Comparison** on the canonical name form ([`names`]): titles and degrees removed
//!    (`H.`, `HJ.`, `DRS.`, `S.PD.`), old spellings folded (`OE`→`U`, `DJ`→`J`, `TJ`→`C`,
//!    `CH`→`KH`), every MUHAMMAD spelling unified; then exact (order-insensitive),
//!    Jaro-Winkler per token, token subsets (a dropped marga or middle name, single-name
//!    people; a single token only when it is the same) and initials (`M. SOLEH` ~ `MUHAMMAD
//!    SOLEH`, and ~ `MARYAM SOLEH`: a leading `M.` stays an initial); tokens one keystroke
//!    apart are a typo even when short (`ANI` ~ `AMI`), looked for in the name as written too,
//!    because the folds can turn one keystroke into two (`TTIIN` folds to `TIN`). Birth
//!    dates ([`compare::compare_birth_dates`]): exact, day/month swapped, year off by one, one
//!    digit off, day off by one or written as the 1st/15th, a default date (01-01, 31-12,
//!    01-07) in the right year. Sex. Region: same village, district, regency.
//!    NIK: exact, one substitution, adjacent transposition, truncated-15, other.
//! 4. **Scoring** (Fellegi–Sunter): `score = log2 prior odds + Σ log2(m/u)`, the posterior
//!    log2 odds that this registry person is the row's person. The prior is one in the registry
//!    size times the share of the list's rows that are in the registry at all; `probability`
//!    divides the candidate's odds by `a + Σ odds` over all candidates, `a` being the share
//!    that is not (the person is in nobody's record), so several equally good candidates (ten
//!    BUDI SANTOSO born the same day) share the probability and none is linked. The absent
//!    share `a` is estimated per list in training ([`Params::absent`]); without an estimate
//!    (too few rows, an older model) the prior keeps a fixed 0.9 and "nobody" odds of one,
//!    the stricter bar. A listed KK equal to the candidate's counts as evidence of the
//!    household (m from the rows that keep their NIK's holder, u one over the number of
//!    families), and the village agreement it implies is not counted again; a different KK
//!    counts against a candidate other than the listed NIK's holder, as rarely as the rows
//!    that keep their holder list another card (for the holder it weighs nothing: an old card
//!    is a KK_MISMATCH of its own, not a reason to doubt a NIK that agrees).
//! 5. **Decision**: when the listed NIK exists, its holder is scored like any candidate (the
//!    exact NIK weighed against name and birth date, no veto). `ExactNik` when the holder's
//!    posterior log2 odds stay ≥ [`LinkConfig::holder_min_score`]: a name typo, a default
//!    birth date (01-01, 31-12, 01-07) or a day typo on a correct NIK still links, and the
//!    difference is reported in [`Link::slips`] for a data-correction note; nobody else is even
//!    considered, so a namesake born on the default date can never take the holder's place.
//!    Only below it is the row `ExactNikMismatch`: the search runs and the best other
//!    candidate is offered as [`Link::suggestion`] ("propose the likely right NIK").
//!    `Probable` when the best candidate's odds against "nobody" are ≥
//!    2^[`LinkConfig::match_threshold`] (score ≥ threshold + log2 `a`), its probability ≥
//!    [`LinkConfig::min_probability`] *and its name agrees at least at the subset/initials
//!    level*, and — when the row lists a well-formed NIK that nobody holds — the candidate is a
//!    NIK near miss of it (or the NIK column holds their KK): such a NIK is a slip on the
//!    right person's NIK or the NIK of someone the registry does not know, never a licence to
//!    take a namesake found by name and birth date. A suggestion for a NIK someone else holds
//!    is held to odds of one against "nobody". `Possible` above
//!    [`LinkConfig::possible_threshold`]; else `NotFound`. Every link keeps its score and per-field [`FieldEvidence`]. A suggested or
//!    probable person is an *inferred* identity: the engine never lets a reason resting on it
//!    be more than TINJAU.
//!
//! # Not counting the NIK's contents twice
//!
//! A NIK is `PP KK CC DD MM YY SSSS`: region of first registration, birth day (+40 for women,
//! so it also carries sex), month, year, serial. Fellegi–Sunter assumes fields independent
//! given match status, and that is false here: the registry is dense in NIK space (most
//! one-serial-digit neighbours of a real NIK are real people, registered in the same district,
//! born the same day, of the same sex). A scorer that adds "NIK one digit off" *and* "birth
//! date equal" *and* "sex equal" *and* "same district" counts one piece of evidence three or
//! four times, and a person absent from the registry links to their NIK neighbour despite a
//! wholly different name — the failure seen in Splink on Indonesian rosters.
//!
//! So the NIK comparison works on digits and segments. [`compare::compare_nik`] returns the
//! level *and which segments the difference touches* (region, day/sex, month, year, serial).
//! For every other field, agreement that is already implied by segments the candidate's NIK
//! shares with the listed NIK gets weight 0 (evidence level `exact_implied_by_nik`,
//! `agree_implied_by_nik`, `implied_by_nik`; for region only the step from "same district" to
//! "same village" still counts, `same_village_beyond_nik`). Disagreement still counts in
//! full: a row whose stated birth date contradicts the birth date embedded in its own NIK is
//! evidence about the NIK (a typo, or another person's NIK), and it lowers every candidate
//! that shares those digits while candidates whose NIK differs exactly in the date digits and
//! whose birth date equals the stated one gain the full date weight (independent evidence from
//! the row's other column). Implied agreements are also left out of the EM (as missing), so m
//! and u are not learnt from dependent data.
//!
//! The u of a NIK near miss is not "one in 10^16": training measures how many registry persons
//! actually sit one substitution (in the serial, the date or the region digits: a registry is
//! far more crowded around a NIK's date and region digits than around its serial) /
//! transposition / truncation / insertion or deletion away from the listed NIKs and divides by
//! the registry size. A candidate whose NIK differs in the date digits, on a row whose birth
//! date is the one its *listed* NIK carries, is no typo of the candidate's NIK: the dates then
//! differ by the same digit, and that is one discrepancy, scored as a different date. With the prior, a near-miss NIK alone leaves the candidate
//! at roughly `log2(m_typo / neighbours)` ≈ −7 bits: the name must carry the identity. A
//! neighbour with a different name lands near −13 bits (`NotFound`); the right person with the
//! same name lands well above the match threshold. As a last guard, `Probable` requires a name
//! agreement of at least the subset/initials level.
//!
//! # Training
//!
//! [`Linker::train`] samples the roster deterministically, gathers candidate pairs by
//! blocking and runs EM ([`fs::em`]) for m (and, for information, u among candidates and the
//! match share λ). m of name, birth date, sex and region is then read from the rows that keep
//! their listed NIK's holder (a large sample of near-certain matches; EM sees few matches with
//! these fields observed, since the NIK settles most of them). The u used for scoring is
//! estimated from random pairs (cheap here: no database) for name, date, sex and region, from
//! the measured NIK-neighbour density for the NIK near misses, and from the share of listed
//! NIKs that exist but belong to someone else for the exact NIK. An exact name is weighed by
//! how many registry persons bear it (term frequency, shrunk towards the average in a small
//! registry): a name held by one person in a million says far more than SITI. With fewer than 1,000 candidate pairs the defaults of
//! [`fs::Params::defaults`] stay, and so does the default m of any field whose estimated
//! weights fail [`fs::sane_weights`] (EM on blocked pairs of very common names can model "same
//! birth date and village" instead of "same person"). Weights can be overridden per level
//! ([`LinkConfig::weight_overrides`]).
//!
//! # Determinism
//!
//! Candidates are sorted by (score desc, person index asc); batch linking ([`Linker::link_all`])
//! maps in parallel with rayon but collects in input order; EM sums in a fixed order; the
//! index build sorts. Same input → same output, whatever the thread count.
//!
//! # Generic linkage
//!
//! [`GenericLinker`] links two lists (or deduplicates one) over fields described by a
//! [`GenericConfig`] (serde, read from TOML by the CLI): name, date, text, code, exact and
//! region comparators, blocking rules built from field keys, m learnt by the same EM
//! ([`fs::em_levels`]) and u from random pairs, a match probability; one-to-one, best-candidate
//! and cluster selection ([`generic::select`]). See the [`generic`] module.

pub mod adapter;
pub mod codec;
pub mod compare;
pub mod fs;
pub mod generic;
pub mod index;
pub mod linker;
pub mod names;

pub use compare::{BirthDateLevel, DateLevel, NikLevel, RegionLevel};
pub use fs::{EmReport, Field, Params};
pub use generic::{
    BlockStats, Candidates, ColumnReport, Comparator, ConfigError, FieldModel, FieldSpec,
    GenericConfig, GenericEvidence, GenericLinker, GenericModel, GenericRecord, KeyPart,
    KeyTransform, ModelError, Prepared, ScoredPair, Threshold, TrainReport,
};
pub use index::{IndexStats, RegistryIndex, RegistryPerson};
pub use linker::{
    Candidate, FieldEvidence, Link, LinkConfig, LinkOutcome, Linker, Query, Slip, Suggestion, Via,
    WeightOverride,
};
pub use names::NameLevel;
pub use sinergi_model::Sex;
