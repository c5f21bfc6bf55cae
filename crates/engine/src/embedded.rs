//! The embedded [`Answerer`]: validation's questions answered from [`Registries`] in memory.
//! `sinergi validate` uses it over every registry of one store; a registry's node uses the
//! same functions over its own data to answer the exchange (the population registry's node
//! the identity and population questions, the others their part of [`RegistryAnswers`]).
//! No I/O.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sinergi_linkage::{LinkConfig, Linker, Params, Query};
use sinergi_model::standard::Table;
use sinergi_rules::{
    BpjsMembership, BpjsSegment, CivilServant as RCivilServant, CivilServantKind, Death, Dtsen,
    Lookup, Source, Wage,
};

use crate::answers::{
    Answerer, IdentityAnswer, IdentityQuestion, PopulationAnswer, PopulationQuestion,
    RegistryAnswers, RegistryQuestion, Unasked,
};
use crate::provenance::{Provenance, citizen_agency};
use crate::registries::{EmploymentKind, Registries, Segment, fmt_date};
use crate::validator::{link_config, period_start, resolve};

/// The citation of each registry table's datasets, built once.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    by_table: BTreeMap<Table, Vec<Source>>,
}

impl Sources {
    /// From the registries' provenance.
    pub fn new(provenance: &BTreeMap<Table, Vec<Provenance>>) -> Sources {
        let mut by_table = BTreeMap::new();
        for (t, list) in provenance {
            by_table.insert(
                *t,
                list.iter()
                    .map(|p| Source {
                        loaded: p.loaded_on().to_string(),
                        ..Source::new(
                            citizen_agency(*t, &p.dataset),
                            &p.dataset,
                            &p.snapshot,
                            p.as_of(),
                        )
                    })
                    .collect(),
            );
        }
        Sources { by_table }
    }

    /// A table's main dataset.
    pub fn get(&self, t: Table) -> Option<&Source> {
        self.by_table.get(&t).and_then(|v| v.first())
    }

    /// A table's `i`-th dataset (the main one when there is no such).
    pub fn nth(&self, t: Table, i: usize) -> Option<&Source> {
        self.by_table.get(&t).and_then(|v| v.get(i).or(v.first()))
    }
}

/// Most candidates a search answers.
pub const MAX_CANDIDATES: usize = 3;

/// One field's agreement between the question and a candidate's registry record: the field
/// and the level (`exact`, `jaro_winkler>=0.92`, `day_month_swapped`, ...), never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// `nik`, `name`, `birth_date`, `sex`, `region`.
    pub field: String,
    /// The agreement level.
    pub level: String,
}

/// A candidate NIK for an identity question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The candidate's NIK.
    pub nik: String,
    /// Probability that the candidate is the row's person (4 decimals).
    pub score: f64,
    /// Per-field evidence.
    pub evidence: Vec<Evidence>,
}

/// What a search of the population registry answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// The identity answer validation uses.
    pub answer: IdentityAnswer,
    /// The candidates behind it.
    pub candidates: Vec<Candidate>,
}

/// Answers from registries in memory.
pub struct Embedded {
    registries: Arc<Registries>,
    sources: Sources,
    link_config: LinkConfig,
    params: Option<Params>,
}

impl Embedded {
    /// An answerer over loaded registries.
    pub fn new(registries: Arc<Registries>) -> Embedded {
        let sources = Sources::new(&registries.provenance);
        Embedded {
            registries,
            sources,
            link_config: link_config(),
            params: None,
        }
    }

    /// The registries answered from.
    pub fn data(&self) -> &Registries {
        &self.registries
    }

    /// The linkage parameters learnt so far.
    pub fn params(&self) -> Option<&Params> {
        self.params.as_ref()
    }

    /// Replaces the linkage parameters (e.g. learnt on an earlier block of the same list).
    pub fn set_params(&mut self, params: Params) {
        self.params = Some(params);
    }

    /// Searches the population registry for the person one identity question describes: the
    /// identity answer validation uses, and the candidates behind it (at most
    /// [`MAX_CANDIDATES`], best first) with their probability and per-field evidence. The
    /// answer of Dukcapil's `pencarian-identitas`: NIKs and decisions, never a registry
    /// value. `params`: a model learnt on the caller's list, else this answerer's own.
    pub fn search(&self, q: &IdentityQuestion, params: Option<&Params>) -> Search {
        let mut linker = self.linker();
        if let Some(p) = params {
            linker.set_params(p.clone());
        }
        let link = linker.link(&q.query());
        let index = &self.registries.index;
        let answer = resolve(index, q, &link);
        let evidence = |e: &[sinergi_linkage::FieldEvidence]| -> Vec<Evidence> {
            e.iter()
                .filter(|f| f.field != sinergi_linkage::Field::Prior)
                .map(|f| Evidence {
                    field: f.field.label().to_string(),
                    level: f.level.to_string(),
                })
                .collect()
        };
        let mut candidates = Vec::new();
        if let Some(nik) = answer.person {
            let (score, ev) = match &link.suggestion {
                Some(s) if s.candidate.nik == nik => {
                    (s.candidate.probability, evidence(&s.evidence))
                }
                _ => (link.probability, evidence(&link.evidence)),
            };
            candidates.push(Candidate {
                nik: crate::keymap::fmt16(nik),
                score: crate::verdict::round4(score),
                evidence: ev,
            });
        } else if matches!(link.outcome, sinergi_linkage::LinkOutcome::Possible) {
            // Not enough to link: the best candidate, for a person to look at.
            if let Some(i) = link.person {
                candidates.push(Candidate {
                    nik: crate::keymap::fmt16(index.nik(i)),
                    score: crate::verdict::round4(link.probability),
                    evidence: evidence(&link.evidence),
                });
            }
        }
        candidates.truncate(MAX_CANDIDATES);
        Search { answer, candidates }
    }

    /// Learns the identity model on a sample of a list and returns it (the caller's own
    /// model, kept by the registry's owner).
    pub fn learn(&self, sample: &[IdentityQuestion]) -> Params {
        let queries: Vec<Query> = sample.iter().map(IdentityQuestion::query).collect();
        let mut linker = self.linker();
        linker.train(&queries);
        linker.params().clone()
    }

    fn linker(&self) -> Linker<'_> {
        let mut l = Linker::new(&self.registries.index, self.link_config.clone());
        if let Some(p) = &self.params {
            l.set_params(p.clone());
        }
        l
    }

    /// The population answer about one person.
    pub fn population_one(&self, q: &PopulationQuestion) -> Option<PopulationAnswer> {
        let reg = &*self.registries;
        let p = reg.persons.get(q.nik)?;
        let mut a = PopulationAnswer {
            kk: p.kk,
            village: p.village(),
            is_head: p.is_head(),
            family_size: reg.members.range(p.kk).len() as u32,
            ..PopulationAnswer::default()
        };
        if let Some(i) = reg.index.lookup_nik(q.nik).first() {
            a.sex = Some(reg.index.sex(*i));
            let born = reg.index.birth_date(*i);
            if born != NaiveDate::MIN {
                if let Some(start) = period_start(&q.period) {
                    let mut age = start.year() - born.year();
                    if (start.month(), start.day()) < (born.month(), born.day()) {
                        age -= 1;
                    }
                    a.age = u32::try_from(age).ok();
                }
            }
        }
        if let Some(src) = self.sources.get(Table::Death) {
            a.death = match reg.deaths.get(q.nik).copied() {
                Some(d) => Lookup::Found {
                    value: Death {
                        date: if d == 0 { String::new() } else { fmt_date(d) },
                    },
                    source: src.clone(),
                },
                None => Lookup::Absent {
                    source: src.clone(),
                },
            };
        }
        if q.head {
            a.head = reg.head_of(p.kk);
        }
        Some(a)
    }

    /// The other registries' answers about one person.
    pub fn registries_one(&self, q: &RegistryQuestion) -> RegistryAnswers {
        let reg = &*self.registries;
        let mut a = RegistryAnswers {
            civil_servant: self.civil_servant(q.nik),
            wage: self.wage(q.nik),
            ..RegistryAnswers::default()
        };
        if let Some(src) = self.sources.get(Table::HealthMembership) {
            a.bpjs = match reg.health.get(q.nik) {
                Some(h) => Lookup::Found {
                    value: BpjsMembership {
                        segment: segment(h.segment),
                        active: h.active,
                        catastrophic: h.catastrophic,
                    },
                    source: src.clone(),
                },
                None => Lookup::Absent {
                    source: src.clone(),
                },
            };
        }
        if let Some(src) = self.sources.get(Table::Decile) {
            let d = reg
                .decile_by_kk
                .get(q.kk)
                .or_else(|| reg.decile_by_nik.get(q.nik))
                .copied();
            a.dtsen = match d {
                Some(decile) => Lookup::Found {
                    value: Dtsen { decile },
                    source: src.clone(),
                },
                None => Lookup::Absent {
                    source: src.clone(),
                },
            };
        }
        if let Some(head) = q.head {
            a.head_civil_servant = self.civil_servant(head);
            a.head_wage = self.wage(head);
        }
        a
    }

    fn civil_servant(&self, nik: u64) -> Lookup<RCivilServant> {
        let reg = &*self.registries;
        match reg.employment.get(nik) {
            Some(e) => Lookup::Found {
                value: RCivilServant {
                    kind: match e.kind {
                        EmploymentKind::Pns => CivilServantKind::Pns,
                        EmploymentKind::Pppk => CivilServantKind::Pppk,
                        EmploymentKind::Tni => CivilServantKind::Tni,
                        EmploymentKind::Polri => CivilServantKind::Polri,
                    },
                },
                source: self
                    .sources
                    .nth(Table::Employment, e.dataset as usize)
                    .cloned()
                    .unwrap_or_default(),
            },
            None => Lookup::Absent {
                // Without the employment registry only the occupation text could be asked.
                source: self
                    .sources
                    .get(Table::Employment)
                    .or_else(|| self.sources.get(Table::Person))
                    .cloned()
                    .unwrap_or_default(),
            },
        }
    }

    fn wage(&self, nik: u64) -> Lookup<Wage> {
        match self.sources.get(Table::Wage) {
            None => Lookup::NotChecked,
            Some(src) => match self.registries.wages.get(nik) {
                Some(w) => Lookup::Found {
                    value: Wage { monthly: w.total },
                    source: src.clone(),
                },
                None => Lookup::Absent {
                    source: src.clone(),
                },
            },
        }
    }
}

impl Answerer for Embedded {
    fn train(&mut self, sample: &[IdentityQuestion]) {
        self.params = Some(self.learn(sample));
    }

    fn identify(&self, questions: &[IdentityQuestion]) -> Vec<IdentityAnswer> {
        let linker = self.linker();
        let index = &self.registries.index;
        if questions.len() == 1 {
            let q = &questions[0];
            return vec![resolve(index, q, &linker.link(&q.query()))];
        }
        questions
            .par_iter()
            .map(|q| resolve(index, q, &linker.link(&q.query())))
            .collect()
    }

    fn population(&self, questions: &[PopulationQuestion]) -> Vec<Option<PopulationAnswer>> {
        questions
            .par_iter()
            .map(|q| self.population_one(q))
            .collect()
    }

    fn registries(&self, questions: &[RegistryQuestion]) -> Vec<RegistryAnswers> {
        questions
            .par_iter()
            .map(|q| self.registries_one(q))
            .collect()
    }

    fn identity_source(&self) -> Source {
        self.sources.get(Table::Person).cloned().unwrap_or_default()
    }

    fn unavailable(&self, table: Table) -> Option<Unasked> {
        (!self.registries.has(table)).then(|| Unasked::not_loaded(table))
    }
}

fn segment(s: Segment) -> BpjsSegment {
    match s {
        Segment::PbiApbn => BpjsSegment::PbiApbn,
        Segment::PbiApbd => BpjsSegment::PbiApbd,
        Segment::Ppu => BpjsSegment::Ppu,
        Segment::Pbpu => BpjsSegment::Pbpu,
        Segment::Bp => BpjsSegment::Bp,
    }
}
