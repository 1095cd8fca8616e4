//! The demo bureau's content: people, departments, datasets, rule files, and
//! the bookkeeping of every planted defect.

mod births;
mod household;
mod housing_fund;
mod market;
mod marriage;
mod people;
mod rules;
mod social_insurance;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::{DateTime, FixedOffset};

use super::write::{self, Kind, Table};
use super::{DemoDataset, DemoDepartment, DemoError, DemoPerson, ExpectedCount};
use births::birth_certificates;
use household::household_registration;
use housing_fund::housing_provident_fund;
use market::market_entities;
use marriage::marriage_registration;
use people::{Person, Rng, people};
use social_insurance::social_insurance;

/// What a planted cell is, for the bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Valid,
    Missing,
    Invalid,
}

/// The ways a value can be missing (CONTRACT.md): NULL, empty, blanks, markers.
fn missing(k: usize) -> Option<String> {
    [
        None,
        Some(""),
        Some("  "),
        Some("\u{3000}"),
        Some("无"),
        Some("NULL"),
    ][k % 6]
        .map(str::to_string)
}

#[derive(Default)]
struct Book(BTreeMap<String, ExpectedCount>);

impl Book {
    fn set(&mut self, rule: &str, evaluated: u64, failed: u64) {
        self.0
            .insert(rule.to_string(), ExpectedCount { evaluated, failed });
    }
    /// A validity check over planted cells: missing not evaluated, invalid failed.
    fn validity(&mut self, rule: &str, cells: &[Cell]) {
        let evaluated = cells.iter().filter(|c| **c != Cell::Missing).count() as u64;
        let failed = cells.iter().filter(|c| **c == Cell::Invalid).count() as u64;
        self.set(rule, evaluated, failed);
    }
    fn not_null(&mut self, rule: &str, cells: &[Cell]) {
        let failed = cells.iter().filter(|c| **c == Cell::Missing).count() as u64;
        self.set(rule, cells.len() as u64, failed);
    }
    /// `unique`: every copy of a raw value that occurs twice or more among non-missing cells.
    fn unique(&mut self, rule: &str, values: &[Option<&str>], cells: &[Cell]) {
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for (v, c) in values.iter().zip(cells) {
            if let (Some(v), false) = (v, *c == Cell::Missing) {
                *counts.entry(v).or_default() += 1;
            }
        }
        let evaluated = counts.values().sum();
        let failed = counts.values().filter(|n| **n > 1).sum();
        self.set(rule, evaluated, failed);
    }
    /// `reference`: non-missing raw values absent from `base`.
    fn reference(
        &mut self,
        rule: &str,
        values: &[Option<&str>],
        cells: &[Cell],
        base: &BTreeSet<String>,
    ) {
        let mut evaluated = 0;
        let mut failed = 0;
        for (v, c) in values.iter().zip(cells) {
            if *c == Cell::Missing {
                continue;
            }
            evaluated += 1;
            if !v.is_some_and(|v| base.contains(v)) {
                failed += 1;
            }
        }
        self.set(rule, evaluated, failed);
    }
}

fn s(v: impl Into<String>) -> Option<String> {
    Some(v.into())
}

fn ts(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

#[allow(clippy::too_many_arguments)] // one call per dataset, each argument named at the call
fn dataset(
    root: &Path,
    name: &str,
    title_zh: &str,
    department: &str,
    format: &str,
    data: Vec<&str>,
    rules: &str,
    book: Book,
    columns: &[(&'static str, Kind)],
) -> Result<DemoDataset, DemoError> {
    let rules_path = root.join("rules").join(format!("{name}.yaml"));
    write::text(&rules_path, rules)?;
    Ok(DemoDataset {
        name: name.into(),
        title_zh: title_zh.into(),
        department: department.into(),
        data: data.into_iter().map(|d| root.join(d)).collect(),
        rules: rules_path,
        format: format.into(),
        expected: book.0,
        columns: columns
            .iter()
            .map(|(c, k)| {
                let ty = match k {
                    Kind::Text => "string",
                    Kind::Date => "date",
                    Kind::Timestamp => "timestamp",
                    Kind::Number => "float64",
                };
                (c.to_string(), ty.to_string())
            })
            .collect(),
        onesource: None,
    })
}

/// What [`build`] made: departments, datasets and the persons in them.
pub(super) type Built = (Vec<DemoDepartment>, Vec<DemoDataset>, Vec<DemoPerson>);

/// Builds the whole demo bureau under `root`, as delivered `week` weeks
/// before the final night (0: the final night, the demo's as-of). One seeded
/// generator feeds every dataset in a fixed order, so the output is the same
/// on every run; the earlier weeks differ from the final one only in the
/// defects their departments had not yet rectified (see [`super::history`]).
pub(super) fn build(
    root: &Path,
    as_of: DateTime<FixedOffset>,
    week: u32,
) -> Result<Built, DemoError> {
    let mut rng = Rng(20_261_120);
    let now = as_of.naive_local();
    let pop = people(&mut rng, 2400);
    let registered = &pop[..2000];
    let base = population_base(root, registered)?;
    let mut datasets = vec![household_registration(
        root, &mut rng, now, registered, week,
    )?];
    let (marriage, husband_status) = marriage_registration(root, &mut rng, now, &pop, &base)?;
    datasets.push(marriage);
    datasets.push(birth_certificates(root, &mut rng, as_of, &pop, week)?);
    datasets.push(social_insurance(root, &mut rng, &pop, &husband_status)?);
    datasets.push(market_entities(root, &mut rng, &pop)?);
    datasets.push(housing_provident_fund(root, &mut rng, &pop, &base)?);
    mark_one_source(&mut datasets);
    let persons = pop
        .iter()
        .map(|p| DemoPerson {
            name: p.name.clone(),
            id: p.id.clone(),
        })
        .collect();
    Ok((departments(), datasets, persons))
}

/// The six departments that deliver data.
fn departments() -> Vec<DemoDepartment> {
    [
        ("gongan", "公安局", "Public Security Bureau"),
        ("minzheng", "民政局", "Civil Affairs Bureau"),
        ("weijian", "卫生健康委员会", "Health Commission"),
        (
            "renshe",
            "人力资源和社会保障局",
            "Human Resources and Social Security Bureau",
        ),
        (
            "shichang",
            "市场监督管理局",
            "Market Regulation Administration",
        ),
        (
            "zhujian",
            "住房和城乡建设局",
            "Housing and Urban-Rural Development Bureau",
        ),
    ]
    .iter()
    .map(|(c, z, e)| DemoDepartment {
        code: (*c).into(),
        name_zh: (*z).into(),
        name_en: (*e).into(),
    })
    .collect()
}

/// Writes the population base (the registered persons' numbers) and returns
/// those numbers for the reference checks' bookkeeping.
fn population_base(root: &Path, registered: &[Person]) -> Result<BTreeSet<String>, DemoError> {
    let base: BTreeSet<String> = registered.iter().map(|p| p.id.clone()).collect();
    let mut base_table = Table::new(&[("id_number", Kind::Text)]);
    for p in registered {
        base_table.push(vec![s(p.id.clone())]);
    }
    write::parquet(&root.join("base/population.parquet"), &base_table)?;
    Ok(base)
}

/// One data, one source (issue #5): public security and civil affairs are
/// the sources; social insurance re-collects birth dates and marital status.
fn mark_one_source(datasets: &mut [DemoDataset]) {
    for d in datasets {
        d.onesource = match d.name.as_str() {
            "household_registration" => Some(
                "key = \"id_number\"\nname = \"name\"\nsex = \"sex_code\"\nbirth_date = \"birth_date\"\naddress = \"address\"\nupdated_at = \"updated_at\"",
            ),
            "marriage_registration" => {
                Some("key = \"husband_id\"\nname = \"husband_name\"\nupdated_at = \"updated_at\"")
            }
            "social_insurance" => {
                Some("key = \"id_number\"\nname = \"name\"\nbirth_date = \"birth_date\"")
            }
            _ => None,
        }
        .map(str::to_string);
    }
}
