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
//!
//! A golden value is held as numbers (subject, attribute, the record it
//! came from); its text is read from the landed column when it is written
//! or published, so a province's millions of golden values hold no string
//! of their own.

use serde::{Deserialize, Serialize};

use super::normalize::{half_width, normalize_date, normalize_name, normalize_text};
use super::registry::{AttributeKind, AuthorityRegistry};
use super::text::TextColumn;

/// A dataset that took part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceDataset {
    /// `department.name`.
    pub id: String,
    /// Its department.
    pub department: String,
}

/// What each resolved record says about its subject (parallel to the
/// [`super::resolve::Records`] it was resolved with). A dataset's records
/// are consecutive, and its attribute values are its landed columns
/// (shared, not copied).
#[derive(Debug, Clone, Default)]
pub struct Observations {
    /// The datasets, in the order their records were added.
    pub datasets: Vec<SourceDataset>,
    /// Dataset of each record.
    pub dataset: Vec<u32>,
    /// Row of each record in its dataset (0-based, in table order).
    pub row: Vec<u64>,
    /// Recency of each record (larger is newer; 0 unknown), e.g. `yyyymmdd`.
    pub recency: Vec<i64>,
    /// Attribute ids (registry ids).
    pub attributes: Vec<String>,
    /// `[attribute][dataset]`: the dataset's column for the attribute, if it
    /// has one (its row `i` is the value of the dataset's `i`-th record).
    columns: Vec<Vec<Option<TextColumn>>>,
    /// Index of each dataset's first record.
    first: Vec<usize>,
}

impl Observations {
    /// Adds an attribute (held by no dataset yet) and returns its index.
    pub fn attribute_index(&mut self, id: &str) -> usize {
        if let Some(i) = self.attributes.iter().position(|a| a == id) {
            return i;
        }
        self.attributes.push(id.to_string());
        self.columns.push(vec![None; self.datasets.len()]);
        self.attributes.len() - 1
    }

    /// Adds a dataset and its records, one per row of `rows` (with its
    /// recency: `recency[i]`, 0 when short), after every record added so
    /// far; `values` are its columns by attribute index (see
    /// [`Observations::attribute_index`]), as long as `rows`. Returns the
    /// dataset's index.
    pub fn push_dataset(
        &mut self,
        dataset: SourceDataset,
        rows: Vec<u64>,
        mut recency: Vec<i64>,
        values: impl IntoIterator<Item = (usize, TextColumn)>,
    ) -> u32 {
        let d = self.datasets.len() as u32;
        let n = rows.len();
        self.datasets.push(dataset);
        self.first.push(self.dataset.len());
        self.dataset.extend(std::iter::repeat_n(d, n));
        recency.resize(n, 0);
        if self.row.is_empty() {
            self.row = rows;
            self.recency = recency;
        } else {
            self.row.extend(rows);
            self.recency.extend(recency);
        }
        for c in &mut self.columns {
            c.push(None);
        }
        for (a, column) in values {
            if let Some(c) = self.columns.get_mut(a) {
                c[d as usize] = Some(column);
            }
        }
        d
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.dataset.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.dataset.is_empty()
    }

    /// Record `r`'s value of attribute `a`, trimmed; `None` when missing.
    #[inline]
    pub fn value(&self, a: usize, r: usize) -> Option<&str> {
        let d = *self.dataset.get(r)? as usize;
        self.columns
            .get(a)?
            .get(d)?
            .as_ref()?
            .get(r - self.first[d])
    }

    /// The dataset of record `r`.
    pub fn source(&self, r: usize) -> &SourceDataset {
        &self.datasets[self.dataset[r] as usize]
    }

    /// The department of record `r`.
    pub fn department(&self, r: usize) -> &str {
        &self.source(r).department
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

impl Survivorship {
    /// As stored and published.
    pub fn as_str(self) -> &'static str {
        match self {
            Survivorship::Authority => "authority",
            Survivorship::Recency => "recency",
        }
    }
}

/// One attribute of one golden record, with its lineage: the value is
/// record `record`'s (see [`GoldenValue::value`]), and the record names its
/// department, dataset and row ([`Observations::source`], `row`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoldenValue {
    /// The subject (cluster id of the resolution).
    pub subject: u32,
    /// Attribute index in [`Observations::attributes`].
    pub attribute: u32,
    /// The record the surviving value came from.
    pub record: u32,
    /// Why this one.
    pub rule: Survivorship,
    /// Records of the subject with a value for the attribute.
    pub copies: u32,
    /// Of those, how many agree with the surviving value.
    pub agreeing: u32,
}

impl GoldenValue {
    /// The surviving value.
    pub fn value<'a>(&self, obs: &'a Observations) -> &'a str {
        obs.value(self.attribute as usize, self.record as usize)
            .unwrap_or_default()
    }

    /// The attribute's id.
    pub fn attribute<'a>(&self, obs: &'a Observations) -> &'a str {
        &obs.attributes[self.attribute as usize]
    }
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

/// What survivorship needs to know of one attribute, looked up once.
struct AttributeRule {
    kind: AttributeKind,
    /// Per dataset: its department's rank among the owning item's
    /// authorities (`usize::MAX`: not an authority).
    rank: Vec<usize>,
}

fn attribute_rules(obs: &Observations, registry: &AuthorityRegistry) -> Vec<AttributeRule> {
    obs.attributes
        .iter()
        .map(|attr| {
            let owner = registry.owner_of(attr);
            AttributeRule {
                kind: registry
                    .attributes
                    .get(attr)
                    .map(|d| d.kind)
                    .unwrap_or_default(),
                rank: obs
                    .datasets
                    .iter()
                    .map(|ds| {
                        owner
                            .and_then(|it| it.authorities.iter().position(|d| *d == ds.department))
                            .unwrap_or(usize::MAX)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Builds the golden records, by subject and then attribute.
pub fn golden_records(
    cluster: &[u32],
    obs: &Observations,
    registry: &AuthorityRegistry,
) -> Vec<GoldenValue> {
    let (order, starts) = members(cluster);
    let rules = attribute_rules(obs, registry);
    // Counted first: millions of values are not grown into (a growing
    // vector is briefly held twice).
    let clusters = starts.len().saturating_sub(1);
    let mut count = 0;
    let mut seen = vec![false; clusters];
    for a in 0..rules.len() {
        seen.fill(false);
        for (r, &c) in cluster.iter().enumerate() {
            if let Some(s) = seen.get_mut(c as usize)
                && !*s
                && obs.value(a, r).is_some()
            {
                *s = true;
                count += 1;
            }
        }
    }
    drop(seen);
    let mut out = Vec::with_capacity(count);
    for c in 0..clusters {
        let recs = &order[starts[c]..starts[c + 1]];
        for (a, rule) in rules.iter().enumerate() {
            let mut best: Option<(usize, i64, usize)> = None;
            let mut copies = 0u32;
            for &r in recs {
                let r = r as usize;
                if obs.value(a, r).is_none() {
                    continue;
                }
                copies += 1;
                let rank = rule.rank[obs.dataset[r] as usize];
                let cand = (rank, -obs.recency[r], r);
                if best.is_none_or(|b| cand < b) {
                    best = Some(cand);
                }
            }
            let Some((rk, _, r)) = best else { continue };
            let value = obs.value(a, r).unwrap_or_default();
            let agreeing = recs
                .iter()
                .filter(|&&x| {
                    obs.value(a, x as usize)
                        .is_some_and(|v| same_value(rule.kind, v, value))
                })
                .count() as u32;
            out.push(GoldenValue {
                subject: c as u32,
                attribute: a as u32,
                record: r as u32,
                rule: if rk == usize::MAX {
                    Survivorship::Recency
                } else {
                    Survivorship::Authority
                },
                copies,
                agreeing,
            });
        }
    }
    out
}
#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn text(values: &[Option<&str>]) -> TextColumn {
        TextColumn::from_values(values.iter().copied())
    }

    /// Three departments hold the marital status and birth date of subject 0:
    /// civil affairs (authority for marriage) and public security (authority
    /// for birth dates) and social insurance (a copy).
    pub(crate) fn fixture() -> (Vec<u32>, Observations) {
        let mut obs = Observations::default();
        let ms = obs.attribute_index("marital_status");
        let bd = obs.attribute_index("birth_date");
        let dataset = |id: &str, department: &str| SourceDataset {
            id: id.into(),
            department: department.into(),
        };
        // subject 0: record 0
        obs.push_dataset(
            dataset("gongan.household", "gongan"),
            vec![0],
            vec![20260101],
            [(bd, text(&[Some("1990-01-02")]))],
        );
        // subject 0: record 1
        obs.push_dataset(
            dataset("minzheng.marriage", "minzheng"),
            vec![5],
            vec![20250101],
            [(ms, text(&[Some("20")]))],
        );
        // subject 0: record 2; subject 1: records 3 and 4, where only the
        // copy has the marital status and two copies differ in recency
        obs.push_dataset(
            dataset("renshe.insured", "renshe"),
            vec![9, 10, 11],
            vec![20261101, 20240101, 20250101],
            [
                (ms, text(&[Some("10"), Some(" 10 "), Some("20")])),
                (bd, text(&[Some("19900102"), None, Some("  ")])),
            ],
        );
        (vec![0, 0, 0, 1, 1], obs)
    }

    #[test]
    fn records_read_their_dataset_columns() {
        let (_, obs) = fixture();
        assert_eq!(obs.len(), 5);
        assert_eq!(obs.dataset, vec![0, 1, 2, 2, 2]);
        assert_eq!(obs.row, vec![0, 5, 9, 10, 11]);
        assert_eq!(obs.value(1, 0), Some("1990-01-02"));
        assert_eq!(obs.value(0, 0), None, "gongan holds no marital status");
        assert_eq!(obs.value(0, 3), Some("10"), "trimmed");
        assert_eq!(obs.value(1, 4), None, "blank is missing");
        assert_eq!(obs.value(0, 5), None, "past the end");
        assert_eq!(obs.source(3).id, "renshe.insured");
    }

    #[test]
    fn survivorship_by_authority_then_recency_with_lineage() {
        let reg = AuthorityRegistry::for_profile("xinjiang-2023").unwrap();
        let (cluster, obs) = fixture();
        let g = golden_records(&cluster, &obs, &reg);
        let find = |s: u32, a: &str| {
            *g.iter()
                .find(|v| v.subject == s && v.attribute(&obs) == a)
                .unwrap()
        };
        let lineage = |v: GoldenValue| {
            let r = v.record as usize;
            let ds = obs.source(r);
            (
                v.value(&obs),
                ds.department.as_str(),
                ds.id.as_str(),
                obs.row[r],
            )
        };
        // the newer copy from renshe loses to the authority minzheng
        let m = find(0, "marital_status");
        assert_eq!(lineage(m), ("20", "minzheng", "minzheng.marriage", 5));
        assert_eq!(m.rule, Survivorship::Authority);
        assert_eq!((m.copies, m.agreeing), (2, 1));
        // the birth date: gongan's, and renshe's copy agrees in another notation
        let b = find(0, "birth_date");
        assert_eq!(lineage(b).2, "gongan.household");
        assert_eq!((b.copies, b.agreeing), (2, 2));
        // no authority for subject 1: the most recent copy survives
        let m1 = find(1, "marital_status");
        assert_eq!((lineage(m1).0, lineage(m1).3), ("20", 11));
        assert_eq!(m1.rule, Survivorship::Recency);
        assert!(
            g.iter()
                .all(|v| !(v.subject == 1 && v.attribute(&obs) == "birth_date")),
            "a blank birth date is no value"
        );
        assert_eq!(g.len(), 3);
        assert_eq!(g.capacity(), 3, "counted before they are made");
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
