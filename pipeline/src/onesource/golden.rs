//! Golden records: one value per subject and attribute, taken from the
//! attribute's authoritative department (survivorship by authority, then
//! recency), with the lineage of where it came from.
//!
//! For each cluster of resolved records and each attribute the registry
//! knows, the candidates are the cluster's non-missing values. The winner is
//! the one whose department ranks first among the owning item's authorities;
//! among equals, the most recent; then the first in input order. A value
//! from a non-authoritative department survives only when no authority
//! supplied one, and its rule says so (`recency`).

use serde::{Deserialize, Serialize};

use super::normalize::{half_width, normalize_date, normalize_name, normalize_text};
use super::registry::{AttributeKind, AuthorityRegistry};

/// A dataset that took part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceDataset {
    /// `department.name`.
    pub id: String,
    /// Its department.
    pub department: String,
}

/// What each resolved record says about its subject (parallel to the
/// [`super::resolve::Records`] it was resolved with).
#[derive(Debug, Clone, Default)]
pub struct Observations {
    /// The datasets.
    pub datasets: Vec<SourceDataset>,
    /// Dataset of each record.
    pub dataset: Vec<u32>,
    /// Row of each record in its dataset (0-based, in table order).
    pub row: Vec<u64>,
    /// Recency of each record (larger is newer; 0 unknown), e.g. `yyyymmdd`.
    pub recency: Vec<i64>,
    /// Attribute ids (registry ids).
    pub attributes: Vec<String>,
    /// Values, `[attribute][record]`.
    pub values: Vec<Vec<Option<Box<str>>>>,
}

impl Observations {
    /// Adds an attribute column (all missing) and returns its index.
    pub fn attribute_index(&mut self, id: &str) -> usize {
        if let Some(i) = self.attributes.iter().position(|a| a == id) {
            return i;
        }
        self.attributes.push(id.to_string());
        self.values.push(vec![None; self.dataset.len()]);
        self.attributes.len() - 1
    }

    /// Adds a record with no attribute values; returns its index.
    pub fn push_record(&mut self, dataset: u32, row: u64, recency: i64) -> usize {
        self.dataset.push(dataset);
        self.row.push(row);
        self.recency.push(recency);
        for v in &mut self.values {
            v.push(None);
        }
        self.dataset.len() - 1
    }

    /// The department of record `r`.
    pub fn department(&self, r: usize) -> &str {
        &self.datasets[self.dataset[r] as usize].department
    }
}

/// How a golden value was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Survivorship {
    /// From an authoritative department.
    Authority,
    /// No authority supplied it: the most recent copy.
    Recency,
}

/// One attribute of one golden record, with its lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenValue {
    /// The subject (cluster id of the resolution).
    pub subject: u32,
    /// The subject's normalised key, when any record had a valid one.
    pub subject_key: Option<String>,
    /// Attribute id.
    pub attribute: String,
    /// The surviving value.
    pub value: String,
    /// Where it came from: department,
    pub department: String,
    /// dataset,
    pub dataset: String,
    /// and row.
    pub row: u64,
    /// Why this one.
    pub rule: Survivorship,
    /// Records of the subject with a value for the attribute.
    pub copies: u32,
    /// Of those, how many agree with the surviving value.
    pub agreeing: u32,
    /// The record index the value came from (not stored).
    #[serde(skip)]
    pub record: usize,
}

/// Whether two values of an attribute say the same thing.
pub fn same_value(kind: AttributeKind, a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a == b {
        return true;
    }
    match kind {
        AttributeKind::Date => match (normalize_date(a), normalize_date(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        AttributeKind::Name => normalize_name(a) == normalize_name(b),
        AttributeKind::Address => normalize_text(a) == normalize_text(b),
        AttributeKind::Code | AttributeKind::Text => a
            .chars()
            .map(half_width)
            .filter(|c| !c.is_whitespace())
            .eq(b.chars().map(half_width).filter(|c| !c.is_whitespace())),
    }
}

/// Records grouped by cluster: `(order, starts)` where `order[starts[c]..starts[c+1]]`
/// are cluster `c`'s records in input order.
pub fn members(cluster: &[u32]) -> (Vec<u32>, Vec<usize>) {
    let clusters = cluster.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut starts = vec![0usize; clusters + 1];
    for &c in cluster {
        starts[c as usize + 1] += 1;
    }
    for i in 0..clusters {
        starts[i + 1] += starts[i];
    }
    let mut fill = starts.clone();
    let mut order = vec![0u32; cluster.len()];
    for (r, &c) in cluster.iter().enumerate() {
        order[fill[c as usize]] = r as u32;
        fill[c as usize] += 1;
    }
    (order, starts)
}

/// Builds the golden records. `subject_keys[c]` is cluster `c`'s key, if any.
pub fn golden_records(
    cluster: &[u32],
    subject_keys: &[Option<String>],
    obs: &Observations,
    registry: &AuthorityRegistry,
) -> Vec<GoldenValue> {
    let (order, starts) = members(cluster);
    let mut out = Vec::new();
    for c in 0..starts.len().saturating_sub(1) {
        let recs = &order[starts[c]..starts[c + 1]];
        for (a, attr) in obs.attributes.iter().enumerate() {
            let owner = registry.owner_of(attr);
            let kind = registry
                .attributes
                .get(attr)
                .map(|d| d.kind)
                .unwrap_or_default();
            let rank = |r: usize| -> usize {
                owner
                    .and_then(|it| it.authorities.iter().position(|d| d == obs.department(r)))
                    .unwrap_or(usize::MAX)
            };
            let mut best: Option<(usize, i64, usize)> = None;
            let mut copies = 0u32;
            for &r in recs {
                let r = r as usize;
                if obs.values[a][r]
                    .as_deref()
                    .is_none_or(|v| v.trim().is_empty())
                {
                    continue;
                }
                copies += 1;
                let cand = (rank(r), -obs.recency[r], r);
                if best.is_none_or(|b| cand < b) {
                    best = Some(cand);
                }
            }
            let Some((rk, _, r)) = best else { continue };
            let value = obs.values[a][r]
                .as_deref()
                .unwrap_or_default()
                .trim()
                .to_string();
            let agreeing = recs
                .iter()
                .filter(|&&x| {
                    obs.values[a][x as usize]
                        .as_deref()
                        .is_some_and(|v| same_value(kind, v, &value))
                })
                .count() as u32;
            let ds = &obs.datasets[obs.dataset[r] as usize];
            out.push(GoldenValue {
                subject: c as u32,
                subject_key: subject_keys.get(c).cloned().flatten(),
                attribute: attr.clone(),
                value,
                department: ds.department.clone(),
                dataset: ds.id.clone(),
                row: obs.row[r],
                rule: if rk == usize::MAX {
                    Survivorship::Recency
                } else {
                    Survivorship::Authority
                },
                copies,
                agreeing,
                record: r,
            });
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Three departments hold the marital status and birth date of subject 0:
    /// civil affairs (authority for marriage) and public security (authority
    /// for birth dates) and social insurance (a copy).
    pub(crate) fn fixture() -> (Vec<u32>, Observations) {
        let mut obs = Observations {
            datasets: vec![
                SourceDataset {
                    id: "gongan.household".into(),
                    department: "gongan".into(),
                },
                SourceDataset {
                    id: "minzheng.marriage".into(),
                    department: "minzheng".into(),
                },
                SourceDataset {
                    id: "renshe.insured".into(),
                    department: "renshe".into(),
                },
            ],
            ..Default::default()
        };
        let ms = obs.attribute_index("marital_status");
        let bd = obs.attribute_index("birth_date");
        // subject 0
        let r = obs.push_record(0, 0, 20260101);
        obs.values[bd][r] = Some("1990-01-02".into());
        let r = obs.push_record(1, 5, 20250101);
        obs.values[ms][r] = Some("20".into());
        let r = obs.push_record(2, 9, 20261101);
        obs.values[ms][r] = Some("10".into());
        obs.values[bd][r] = Some("19900102".into());
        // subject 1: only the copy has the marital status, two copies differ in recency
        let r = obs.push_record(2, 10, 20240101);
        obs.values[ms][r] = Some("10".into());
        let r = obs.push_record(2, 11, 20250101);
        obs.values[ms][r] = Some("20".into());
        (vec![0, 0, 0, 1, 1], obs)
    }

    #[test]
    fn survivorship_by_authority_then_recency_with_lineage() {
        let reg = AuthorityRegistry::for_profile("xinjiang-2023").unwrap();
        let (cluster, obs) = fixture();
        let keys = vec![Some("11010519900102001X".to_string()), None];
        let g = golden_records(&cluster, &keys, &obs, &reg);
        let find = |s: u32, a: &str| {
            g.iter()
                .find(|v| v.subject == s && v.attribute == a)
                .unwrap()
        };
        // the newer copy from renshe loses to the authority minzheng
        let m = find(0, "marital_status");
        assert_eq!(
            (m.value.as_str(), m.department.as_str(), m.row),
            ("20", "minzheng", 5)
        );
        assert_eq!(m.rule, Survivorship::Authority);
        assert_eq!((m.copies, m.agreeing), (2, 1));
        assert_eq!(m.subject_key.as_deref(), Some("11010519900102001X"));
        // the birth date: gongan's, and renshe's copy agrees in another notation
        let b = find(0, "birth_date");
        assert_eq!((b.dataset.as_str(), b.agreeing), ("gongan.household", 2));
        // no authority for subject 1: the most recent copy survives
        let m1 = find(1, "marital_status");
        assert_eq!(
            (m1.value.as_str(), m1.row, m1.rule),
            ("20", 11, Survivorship::Recency)
        );
        assert!(
            g.iter()
                .all(|v| !(v.subject == 1 && v.attribute == "birth_date"))
        );
    }

    #[test]
    fn value_equality_by_kind() {
        assert!(same_value(
            AttributeKind::Date,
            "1990-01-02",
            "1990年1月2日"
        ));
        assert!(!same_value(AttributeKind::Date, "1990-01-02", "1990-01-03"));
        assert!(same_value(AttributeKind::Name, "張三", "张三"));
        assert!(same_value(AttributeKind::Code, "２０", "20"));
        assert!(!same_value(AttributeKind::Code, "10", "20"));
    }

    #[test]
    fn members_groups_by_cluster() {
        let (order, starts) = members(&[1, 0, 1, 2]);
        assert_eq!(starts, vec![0, 1, 3, 4]);
        assert_eq!(&order[starts[1]..starts[2]], &[0, 2]);
    }
}
