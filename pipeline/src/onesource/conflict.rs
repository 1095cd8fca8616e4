//! Conflicts: a non-authoritative copy of an attribute that disagrees with
//! the authoritative value. Each finding names both departments, the copy's
//! dataset and row, and both values; [`Conflict::masked`] is the form that is
//! published (values masked like every other published sample).
//!
//! Conflicts count against the copying department's scorecard: as
//! `consistency` (its copy is inconsistent with the source) and `accuracy`
//! (its copy is wrong by the source's account), see [`counts_by_dataset`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::golden::{GoldenValue, Observations, Survivorship, members, same_value};
use super::registry::{AttributeKind, AuthorityRegistry};
use crate::mask::mask;

/// A copy that disagrees with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// The subject's normalised key, when known.
    pub subject_key: Option<String>,
    /// Attribute id.
    pub attribute: String,
    /// The authoritative department,
    pub authority_department: String,
    /// its dataset,
    pub authority_dataset: String,
    /// and value.
    pub authority_value: String,
    /// The copying department,
    pub department: String,
    /// its dataset,
    pub dataset: String,
    /// row,
    pub row: u64,
    /// and value.
    pub value: String,
}

impl Conflict {
    /// The published form: subject key and both values masked.
    pub fn masked(&self, registry: &AuthorityRegistry) -> Conflict {
        let column = mask_column(registry, &self.attribute);
        Conflict {
            subject_key: self.subject_key.as_deref().map(|k| mask("id_number", k)),
            authority_value: mask(column, &self.authority_value),
            value: mask(column, &self.value),
            ..self.clone()
        }
    }
}

/// The column name whose masking rule fits an attribute's kind.
fn mask_column<'a>(registry: &AuthorityRegistry, attribute: &'a str) -> &'a str {
    match registry.attributes.get(attribute).map(|a| a.kind) {
        Some(AttributeKind::Name) => "name",
        Some(AttributeKind::Address) => "address",
        _ => attribute,
    }
}

/// Every conflict between the golden (authoritative) values and the other
/// departments' copies. `subject_key(s)` is subject `s`'s key, if known.
pub fn conflicts(
    cluster: &[u32],
    golden: &[GoldenValue],
    obs: &Observations,
    registry: &AuthorityRegistry,
    subject_key: impl Fn(u32) -> Option<String>,
) -> Vec<Conflict> {
    let (order, starts) = members(cluster);
    let mut out = Vec::new();
    for g in golden.iter().filter(|g| g.rule == Survivorship::Authority) {
        let a = g.attribute as usize;
        let attribute = g.attribute(obs);
        let Some(owner) = registry.owner_of(attribute) else {
            continue;
        };
        let kind = registry
            .attributes
            .get(attribute)
            .map(|d| d.kind)
            .unwrap_or_default();
        let value = g.value(obs);
        let authority = obs.source(g.record as usize);
        let c = g.subject as usize;
        for &r in &order[starts[c]..starts[c + 1]] {
            let r = r as usize;
            if registry.is_authority(owner, obs.department(r)) {
                continue;
            }
            let Some(v) = obs.value(a, r) else {
                continue;
            };
            if same_value(kind, v, value) {
                continue;
            }
            let ds = obs.source(r);
            out.push(Conflict {
                subject_key: subject_key(g.subject),
                attribute: attribute.to_string(),
                authority_department: authority.department.clone(),
                authority_dataset: authority.id.clone(),
                authority_value: value.to_string(),
                department: ds.department.clone(),
                dataset: ds.id.clone(),
                row: obs.row[r],
                value: v.to_string(),
            });
        }
    }
    out
}

/// Per copying dataset: (copies compared with an authority, conflicting
/// copies). These become the `consistency` and `accuracy` counts of the
/// dataset's scorecard.
pub fn counts_by_dataset(
    cluster: &[u32],
    golden: &[GoldenValue],
    obs: &Observations,
    registry: &AuthorityRegistry,
    found: &[Conflict],
) -> BTreeMap<String, (u64, u64)> {
    let (order, starts) = members(cluster);
    let mut compared = vec![0u64; obs.datasets.len()];
    for g in golden.iter().filter(|g| g.rule == Survivorship::Authority) {
        let a = g.attribute as usize;
        let Some(owner) = registry.owner_of(g.attribute(obs)) else {
            continue;
        };
        let c = g.subject as usize;
        for &r in &order[starts[c]..starts[c + 1]] {
            let r = r as usize;
            if registry.is_authority(owner, obs.department(r)) || obs.value(a, r).is_none() {
                continue;
            }
            compared[obs.dataset[r] as usize] += 1;
        }
    }
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (ds, n) in obs.datasets.iter().zip(compared) {
        if n > 0 {
            out.entry(ds.id.clone()).or_default().0 += n;
        }
    }
    for f in found {
        out.entry(f.dataset.clone()).or_default().1 += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onesource::golden::golden_records;
    use crate::onesource::golden::tests::fixture;

    #[test]
    fn a_disagreeing_copy_is_a_conflict_naming_both_sides() {
        let reg = AuthorityRegistry::for_profile("xinjiang-2023").unwrap();
        let (cluster, obs) = fixture();
        let key = |s: u32| (s == 0).then(|| "11010519900102001X".to_string());
        let g = golden_records(&cluster, &obs, &reg);
        let c = conflicts(&cluster, &g, &obs, &reg, key);
        // renshe's marital status (10) disagrees with minzheng's (20); its
        // birth date agrees in another notation; subject 1 has no authority.
        assert_eq!(c.len(), 1, "{c:?}");
        let f = &c[0];
        assert_eq!(f.attribute, "marital_status");
        assert_eq!(
            (f.authority_department.as_str(), f.authority_value.as_str()),
            ("minzheng", "20")
        );
        assert_eq!(
            (f.department.as_str(), f.dataset.as_str(), f.row),
            ("renshe", "renshe.insured", 9)
        );
        assert_eq!(f.value, "10");
        assert_eq!(f.subject_key.as_deref(), Some("11010519900102001X"));
        let counts = counts_by_dataset(&cluster, &g, &obs, &reg, &c);
        assert_eq!(counts["renshe.insured"], (2, 1));
        assert!(!counts.contains_key("minzheng.marriage"));
    }

    #[test]
    fn published_conflicts_are_masked() {
        let reg = AuthorityRegistry::for_profile("xinjiang-2023").unwrap();
        let c = Conflict {
            subject_key: Some("11010519900102001X".into()),
            attribute: "name".into(),
            authority_department: "gongan".into(),
            authority_dataset: "gongan.household".into(),
            authority_value: "张三丰".into(),
            department: "renshe".into(),
            dataset: "renshe.insured".into(),
            row: 3,
            value: "张三峰".into(),
        };
        let m = c.masked(&reg);
        assert_eq!(m.subject_key.as_deref(), Some("1101**********001X"));
        assert_eq!(
            (m.authority_value.as_str(), m.value.as_str()),
            ("张**", "张**")
        );
    }
}
