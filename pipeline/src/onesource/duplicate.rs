//! Duplicate collection (重复收集、多头采集): a department collecting a data
//! item whose legal source is another department.
//!
//! Two kinds of evidence:
//!
//! - **catalogs**: a department declares, in its catalog, an item the
//!   registry assigns to someone else. The input is a plain list of
//!   (department, item name) declarations, so the catalog harvest (issue #4)
//!   can feed it without this module knowing its types;
//! - **landed data**: a non-authoritative dataset has a column that holds an
//!   authority's attribute of the same subjects. A column qualifies by its
//!   name (the registry's column names) and type (dates must parse as dates),
//!   or, whatever its name, by its values (at least `min_agreement` of the
//!   shared subjects carry the authority's value). Each finding reports how
//!   many of the copy's subjects the authority also holds.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::golden::same_value;
use super::normalize::normalize_date;
use super::registry::{AttributeKind, AuthorityRegistry, Origin};
use super::text::TextColumn;

/// One catalog line: a department says it collects `item_name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogDeclaration {
    /// The declaring department.
    pub department: String,
    /// The catalog entry's name (matched to a registry item by name or alias).
    pub item_name: String,
}

/// Why a collection is a duplicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum DuplicateEvidence {
    /// Declared in the department's catalog.
    Catalog {
        /// The catalog entry's name.
        entry: String,
    },
    /// Found in its landed data.
    Data {
        /// `department.name`.
        dataset: String,
        /// The column.
        column: String,
        /// `name` (and type) or `values`.
        matched_by: String,
        /// Subjects (valid keys) in the copy.
        subjects: u64,
        /// Of those, held by the authority too.
        shared: u64,
        /// Share of shared subjects whose values agree with the authority.
        agreement: f64,
    },
}

/// A department collecting what another department is the source of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateFinding {
    /// Registry item id.
    pub item: String,
    /// Its name.
    pub item_name: String,
    /// The attribute (data evidence only).
    pub attribute: Option<String>,
    /// The authoritative department (primary).
    pub authority: String,
    /// Where the item that makes it the source comes from (the text's
    /// article, or the workspace's file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority_origin: Option<Origin>,
    /// The duplicating department.
    pub department: String,
    /// The evidence.
    pub evidence: DuplicateEvidence,
}

/// Findings from catalog declarations.
pub fn from_catalogs(
    declarations: &[CatalogDeclaration],
    registry: &AuthorityRegistry,
) -> Vec<DuplicateFinding> {
    declarations
        .iter()
        .filter_map(|d| {
            let item = registry.item_for_name(&d.item_name)?;
            (!registry.is_authority(item, &d.department)).then(|| DuplicateFinding {
                item: item.id.clone(),
                item_name: item.name.clone(),
                attribute: None,
                authority: item.authorities[0].clone(),
                authority_origin: item.origin.clone(),
                department: d.department.clone(),
                evidence: DuplicateEvidence::Catalog {
                    entry: d.item_name.clone(),
                },
            })
        })
        .collect()
}

/// One landed dataset's subject keys and candidate columns.
#[derive(Debug, Clone)]
pub struct DatasetColumns {
    /// `department.name`.
    pub dataset: String,
    /// Its department.
    pub department: String,
    /// The normalised subject key of each row (0 = none).
    pub keys: Vec<u128>,
    /// Columns: name and values (same length as `keys`).
    pub columns: Vec<(String, TextColumn)>,
}

/// Thresholds for data evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataThresholds {
    /// Minimum subjects shared with the authority.
    pub min_shared: u64,
    /// Minimum agreement for a column matched only by its values.
    pub min_agreement: f64,
}

impl Default for DataThresholds {
    fn default() -> Self {
        DataThresholds {
            min_shared: 10,
            min_agreement: 0.8,
        }
    }
}

/// Findings from landed data.
pub fn from_data(
    datasets: &[DatasetColumns],
    registry: &AuthorityRegistry,
    t: DataThresholds,
) -> Vec<DuplicateFinding> {
    // Authority values per attribute: key → value, from authoritative datasets'
    // columns named for the attribute.
    let mut authority: HashMap<&str, HashMap<u128, &str>> = HashMap::new();
    for ds in datasets {
        for (col, values) in &ds.columns {
            let Some(attr) = registry.attribute_for_column(col) else {
                continue;
            };
            let Some(owner) = registry.owner_of(&attr.id) else {
                continue;
            };
            if !registry.is_authority(owner, &ds.department) {
                continue;
            }
            let map = authority.entry(attr.id.as_str()).or_default();
            for (&k, v) in ds.keys.iter().zip(values.values()) {
                if let (true, Some(v)) = (k != 0, v) {
                    map.entry(k).or_insert(v);
                }
            }
        }
    }
    let mut out = Vec::new();
    for ds in datasets {
        let subjects = ds.keys.iter().filter(|&&k| k != 0).count() as u64;
        for (col, values) in &ds.columns {
            let by_name = registry.attribute_for_column(col).map(|a| a.id.as_str());
            let candidates: Vec<&str> = match by_name {
                Some(a) => vec![a],
                None => authority.keys().copied().collect(),
            };
            let mut best: Option<(&str, u64, f64)> = None;
            for attr in candidates {
                let Some(owner) = registry.owner_of(attr) else {
                    continue;
                };
                if registry.is_authority(owner, &ds.department) {
                    continue;
                }
                let kind = registry.attributes[attr].kind;
                if by_name.is_some() && !type_fits(kind, values) {
                    continue;
                }
                let Some(map) = authority.get(attr) else {
                    continue;
                };
                let (mut shared, mut agree) = (0u64, 0u64);
                for (k, v) in ds.keys.iter().zip(values.values()) {
                    let (Some(a), Some(v)) = (map.get(k), v) else {
                        continue;
                    };
                    shared += 1;
                    agree += u64::from(same_value(kind, a, v));
                }
                if shared < t.min_shared {
                    continue;
                }
                let agreement = agree as f64 / shared as f64;
                if by_name.is_none() && agreement < t.min_agreement {
                    continue;
                }
                if best.is_none_or(|b| agreement > b.2) {
                    best = Some((attr, shared, agreement));
                }
            }
            let Some((attr, shared, agreement)) = best else {
                continue;
            };
            let Some(item) = registry.owner_of(attr) else {
                continue;
            };
            out.push(DuplicateFinding {
                item: item.id.clone(),
                item_name: item.name.clone(),
                attribute: Some(attr.to_string()),
                authority: item.authorities[0].clone(),
                authority_origin: item.origin.clone(),
                department: ds.department.clone(),
                evidence: DuplicateEvidence::Data {
                    dataset: ds.dataset.clone(),
                    column: col.clone(),
                    matched_by: if by_name.is_some() { "name" } else { "values" }.into(),
                    subjects,
                    shared,
                    agreement,
                },
            });
        }
    }
    out
}

/// Whether a column's values can be the attribute: dates must mostly parse.
fn type_fits(kind: AttributeKind, values: &TextColumn) -> bool {
    if kind != AttributeKind::Date {
        return true;
    }
    let present: Vec<&str> = values.values().flatten().take(1000).collect();
    let dates = present
        .iter()
        .filter(|v| normalize_date(v).is_some())
        .count();
    !present.is_empty() && dates * 10 >= present.len() * 8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> AuthorityRegistry {
        AuthorityRegistry::for_profile("xinjiang-2023").unwrap()
    }

    #[test]
    fn catalog_declarations_by_non_authorities_are_duplicates() {
        let decl = |d: &str, n: &str| CatalogDeclaration {
            department: d.into(),
            item_name: n.into(),
        };
        let f = from_catalogs(
            &[
                decl("minzheng", "婚姻登记信息"), // the authority itself
                decl("renshe", "职工婚姻状况"),   // a re-collection
                decl("weijian", "出生医学证明"),  // a co-authority
                decl("jiaoyu", "学生户籍信息"),   // a re-collection
                decl("jiaotong", "道路养护记录"), // not a basic data item
            ],
            &reg(),
        );
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(
            (f[0].department.as_str(), f[0].authority.as_str()),
            ("renshe", "minzheng")
        );
        assert_eq!(f[0].item, "marriage_registration");
        assert_eq!(
            (f[1].department.as_str(), f[1].authority.as_str()),
            ("jiaoyu", "gongan")
        );
    }

    fn col(name: &str, values: &[&str]) -> (String, TextColumn) {
        (
            name.into(),
            TextColumn::from_values(values.iter().map(|v| Some(*v))),
        )
    }

    #[test]
    fn landed_columns_matched_by_name_and_by_values() {
        let keys: Vec<u128> = (1..=20).collect();
        let births: Vec<String> = (1..=20).map(|i| format!("1990-01-{i:02}")).collect();
        let births_compact: Vec<String> = (1..=20).map(|i| format!("199001{i:02}")).collect();
        let b: Vec<&str> = births.iter().map(String::as_str).collect();
        let bc: Vec<&str> = births_compact.iter().map(String::as_str).collect();
        let statuses: Vec<&str> = (0..20)
            .map(|i| if i % 2 == 0 { "10" } else { "20" })
            .collect();
        let datasets = vec![
            DatasetColumns {
                dataset: "gongan.household".into(),
                department: "gongan".into(),
                keys: keys.clone(),
                columns: vec![col("birth_date", &b)],
            },
            DatasetColumns {
                dataset: "minzheng.marriage".into(),
                department: "minzheng".into(),
                keys: keys.clone(),
                columns: vec![col("marital_status", &statuses)],
            },
            DatasetColumns {
                dataset: "renshe.insured".into(),
                department: "renshe".into(),
                keys: keys.clone(),
                // named for the attribute; and an oddly named column holding birth dates
                columns: vec![
                    col("hyzk", &statuses),
                    col("sr", &bc),
                    col("amount", &b[..20].iter().map(|_| "5").collect::<Vec<_>>()),
                ],
            },
        ];
        let f = from_data(&datasets, &reg(), DataThresholds::default());
        assert_eq!(f.len(), 2, "{f:?}");
        let by_col = |c: &str| {
            f.iter()
                .find(|x| matches!(&x.evidence, DuplicateEvidence::Data { column, .. } if column == c))
                .unwrap()
        };
        let h = by_col("hyzk");
        assert_eq!(
            (
                h.attribute.as_deref(),
                h.authority.as_str(),
                h.department.as_str()
            ),
            (Some("marital_status"), "minzheng", "renshe")
        );
        let s = by_col("sr");
        assert_eq!(s.attribute.as_deref(), Some("birth_date"));
        match &s.evidence {
            DuplicateEvidence::Data {
                matched_by,
                shared,
                agreement,
                ..
            } => {
                assert_eq!((matched_by.as_str(), *shared), ("values", 20));
                assert_eq!(*agreement, 1.0);
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_date_named_column_without_dates_is_not_a_copy() {
        let keys: Vec<u128> = (1..=20).collect();
        let dates: Vec<String> = (1..=20).map(|i| format!("1990-01-{i:02}")).collect();
        let d: Vec<&str> = dates.iter().map(String::as_str).collect();
        let junk: Vec<&str> = (0..20).map(|_| "n/a").collect();
        let datasets = vec![
            DatasetColumns {
                dataset: "gongan.h".into(),
                department: "gongan".into(),
                keys: keys.clone(),
                columns: vec![col("birth_date", &d)],
            },
            DatasetColumns {
                dataset: "renshe.i".into(),
                department: "renshe".into(),
                keys,
                columns: vec![col("csrq", &junk)],
            },
        ];
        assert!(from_data(&datasets, &reg(), DataThresholds::default()).is_empty());
    }
}
