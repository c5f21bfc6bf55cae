//! The facts as CEL variables (`row`, `person`, `family`, `program`) for custom conditions.
//!
//! Unknown values are left out of the maps rather than set to null, so a condition tests them
//! with `has(family.decile)`. Numbers are CEL `int`; codes are strings. docs/RULES.md lists
//! every variable.

use std::sync::Arc;

use serde::Serialize;

use crate::facts::{CivilServantKind, Facts, Lookup};
use crate::program::Program;

/// The CEL environment and the constant `program` variable of one programme.
#[derive(Clone)]
pub(crate) struct ProgramCel {
    pub(crate) env: Arc<cel::Env>,
    program: cel::Value,
    /// Which of `row`, `person`, `family` any custom condition references: only those are
    /// built for a row (building them dominates the cost of a condition).
    needs: [bool; 3],
}

impl std::fmt::Debug for ProgramCel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgramCel")
    }
}

#[derive(Serialize)]
struct CelProgram<'a> {
    code: &'a str,
    version: &'a str,
    unit: &'a str,
    decile_cut: i64,
    region_scope: &'a str,
    benefit_amount: i64,
    benefit_period: &'a str,
    not_combinable_with: &'a [String],
}

#[derive(Serialize)]
struct CelRow<'a> {
    number: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_of_row: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    list_region: Option<String>,
    list: &'a str,
}

#[derive(Serialize)]
struct CelPerson<'a> {
    nik_status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nik_problems: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggested_nik: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kk_stated_matches: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sex: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    age: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_family_head: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domicile_region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deceased: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    death_date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    civil_servant: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    civil_servant_kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    occupation: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    monthly_wage: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    umk: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bpjs_segment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bpjs_active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    catastrophic: Option<bool>,
}

#[derive(Serialize)]
struct CelFamily<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    kk: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_dtsen: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decile: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    head_civil_servant: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    head_monthly_wage: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_programs: Option<&'a [String]>,
}

/// `Some(true)` found, `Some(false)` absent, `None` not checked.
fn present<T>(l: &Lookup<T>) -> Option<bool> {
    match l {
        Lookup::NotChecked => None,
        Lookup::Absent { .. } => Some(false),
        Lookup::Found { .. } => Some(true),
    }
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl ProgramCel {
    pub(crate) fn with_env(p: &Program, env: Arc<cel::Env>) -> ProgramCel {
        let view = CelProgram {
            code: &p.code,
            version: &p.version,
            unit: p.unit.as_str(),
            decile_cut: p.decile_cut.into(),
            region_scope: p.region_scope.as_str(),
            benefit_amount: int(p.benefit.amount),
            benefit_period: p.benefit.period.as_str(),
            not_combinable_with: &p.not_combinable_with,
        };
        // Plain strings, ints and lists: serialisation cannot fail.
        let program = cel::to_value(view).unwrap_or(cel::Value::Null);
        let mut needs = [false; 3];
        for rule in &p.custom {
            for v in rule.compiled.references().variables() {
                for (i, name) in ["row", "person", "family"].into_iter().enumerate() {
                    needs[i] |= v == name;
                }
            }
        }
        ProgramCel {
            env,
            program,
            needs,
        }
    }

    /// Rebuilds the `program` variable after an override, keeping the environment.
    pub(crate) fn new(p: &Program) -> ProgramCel {
        let env = p
            .cel
            .as_ref()
            .map_or_else(|| Arc::new(cel::Env::stdlib()), |c| c.env.clone());
        ProgramCel::with_env(p, env)
    }

    /// A context holding the four variables for one row.
    pub(crate) fn context(&self, facts: &Facts) -> Result<cel::Context<'static, 'static>, String> {
        let mut ctx = cel::Context::with_env(self.env.clone());
        ctx.add_variable_from_value("program", self.program.clone());
        let f = facts;
        let [need_row, need_person, need_family] = self.needs;
        if need_row {
            self.add_row(&mut ctx, f)?;
        }
        if need_person {
            self.add_person(&mut ctx, f)?;
        }
        if need_family {
            self.add_family(&mut ctx, f)?;
        }
        Ok(ctx)
    }

    fn add_row(&self, ctx: &mut cel::Context<'static, 'static>, f: &Facts) -> Result<(), String> {
        let row = CelRow {
            number: int(f.row.number),
            duplicate_of_row: f.row.duplicate_of_row.map(int),
            list_region: f.row.list_region.map(|r| r.to_string()),
            list: &f.row.source.dataset,
        };
        ctx.add_variable_from_value("row", cel::to_value(row).map_err(|e| e.to_string())?);
        Ok(())
    }

    fn add_person(
        &self,
        ctx: &mut cel::Context<'static, 'static>,
        f: &Facts,
    ) -> Result<(), String> {
        let (cs_kind, occupation) = match f.person.civil_servant.value().map(|c| &c.kind) {
            Some(CivilServantKind::Occupation(t)) => (Some("OCCUPATION"), Some(t.as_str())),
            Some(k) => (Some(k.as_str()), None),
            None => (None, None),
        };
        let bpjs = f.person.bpjs.value();
        let person = CelPerson {
            nik_status: f.identity.nik_status.as_str(),
            nik_problems: match &f.identity.nik_status {
                crate::facts::NikStatus::Invalid { problems } => Some(problems),
                _ => None,
            },
            suggested_nik: f.identity.link.as_ref().map(|l| l.suggested_nik.as_str()),
            link_score: f
                .identity
                .link
                .as_ref()
                .map(|l| l.score)
                .filter(|s| s.is_finite()),
            kk_stated_matches: f.identity.kk_stated_matches,
            sex: f.person.sex.map(|s| s.as_str()),
            age: f.person.age.map(i64::from),
            is_family_head: f.person.is_family_head,
            domicile_region: f.person.domicile.value().map(|r| r.to_string()),
            deceased: present(&f.person.death),
            death_date: f.person.death.value().map(|d| d.date.as_str()),
            civil_servant: present(&f.person.civil_servant),
            civil_servant_kind: cs_kind,
            occupation,
            monthly_wage: match &f.person.wage {
                Lookup::NotChecked => None,
                Lookup::Absent { .. } => Some(0),
                Lookup::Found { value, .. } => Some(int(value.monthly)),
            },
            umk: f.person.umk.as_ref().map(|u| int(u.value)),
            bpjs_segment: bpjs.map(|b| b.segment.as_str()),
            bpjs_active: bpjs.map(|b| b.active),
            catastrophic: bpjs.map(|b| b.catastrophic),
        };
        ctx.add_variable_from_value("person", cel::to_value(person).map_err(|e| e.to_string())?);
        Ok(())
    }

    fn add_family(
        &self,
        ctx: &mut cel::Context<'static, 'static>,
        f: &Facts,
    ) -> Result<(), String> {
        let family = CelFamily {
            kk: f.family.kk.as_deref(),
            size: f.family.size.map(i64::from),
            in_dtsen: present(&f.family.dtsen),
            decile: f.family.dtsen.value().map(|d| i64::from(d.decile)),
            head_civil_servant: present(&f.family.head_civil_servant),
            head_monthly_wage: match &f.family.head_wage {
                Lookup::NotChecked => None,
                Lookup::Absent { .. } => Some(0),
                Lookup::Found { value, .. } => Some(int(value.monthly)),
            },
            other_programs: f.family.other_programs.as_ref().map(|o| o.value.as_slice()),
        };
        ctx.add_variable_from_value("family", cel::to_value(family).map_err(|e| e.to_string())?);
        Ok(())
    }
}
