//! Approval records (审核记录) for lowering a share or open attribute.
//!
//! 甘孜 第十六条 and 第二十四条: without the review of the 同级公共数据管理机构
//! no 无条件 resource may become 有条件 or 不予, and no 有条件 one 不予, for
//! sharing and for opening alike. pdq also counts blanking a previously set
//! attribute as lowering it (issue #17, 8). A change is approved only by a
//! record that names this entry, this change of this attribute (from, to)
//! and a date on or before the harvest that found the change.
//!
//! Records come from two places:
//! - the workspace file [`FILE`], one `[[approval]]` per decision (the
//!   preferred form);
//! - the entry's own harvested `approval_record` (审核记录) field, when it
//!   parses as `YYYY-MM-DD … FROM→TO` (several separated by `;`), e.g.
//!   `2025-03-01 同意 共享属性 无条件共享→有条件共享`; `→空` approves
//!   blanking. The attribute is the one whose values FROM and TO are.

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{CatalogEntry, OPEN_VALUES, SHARE_VALUES};
use super::store::{AttributeChange, CatalogState, Stored};
use super::workfile::{InputError, load_records};

/// The workspace file of approval records.
pub const FILE: &str = "catalog-approvals.toml";

/// One approval of one attribute change of one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The catalog entry's key.
    pub entry: String,
    /// `share_attribute` (共享属性) or `open_attribute` (开放属性).
    pub field: String,
    /// The attribute before.
    pub from: String,
    /// The attribute after (`""`: blanked).
    #[serde(default)]
    pub to: String,
    /// The day of the review, `YYYY-MM-DD`.
    #[serde(deserialize_with = "super::workfile::day")]
    pub date: NaiveDate,
    /// The record's reference (文号), for people.
    #[serde(default)]
    pub record: Option<String>,
}

/// A checked approval.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    field: &'static str,
    from: String,
    to: Option<String>,
    date: NaiveDate,
}

fn field_of(name: &str) -> Option<&'static str> {
    match name.trim() {
        "share_attribute" | "共享属性" => Some("share_attribute"),
        "open_attribute" | "开放属性" => Some("open_attribute"),
        _ => None,
    }
}

fn values(field: &str) -> &'static [&'static str; 3] {
    if field == "share_attribute" {
        &SHARE_VALUES
    } else {
        &OPEN_VALUES
    }
}

/// Rank of an attribute value: 0 most open.
fn rank(field: &str, v: &str) -> Option<usize> {
    values(field).iter().position(|x| *x == v)
}

fn decision(a: &Approval) -> Result<Decision, String> {
    let field = field_of(&a.field).ok_or_else(|| {
        format!(
            "field: `{}` is not an attribute; expected share_attribute (共享属性) or open_attribute (开放属性)",
            a.field
        )
    })?;
    let allowed = values(field).join(", ");
    if rank(field, a.from.trim()).is_none() {
        return Err(format!("from: `{}` is not one of {allowed}", a.from));
    }
    let to = a.to.trim();
    if !to.is_empty() && rank(field, to).is_none() {
        return Err(format!(
            "to: `{}` is not one of {allowed}, or \"\" for blanking",
            a.to
        ));
    }
    Ok(Decision {
        field,
        from: a.from.trim().to_string(),
        to: (!to.is_empty()).then(|| to.to_string()),
        date: a.date,
    })
}

/// Reads [`FILE`] from the workspace directory (none: no approvals); each
/// approval must name an entry of the catalog.
pub fn load(dir: &Path, state: &CatalogState) -> Result<Vec<Approval>, InputError> {
    load_records(&dir.join(FILE), "approval", |a: &Approval| {
        if let Err(what) = decision(a) {
            return Some(what);
        }
        (!state.entries.contains_key(&a.entry)).then(|| {
            format!(
                "entry: `{}` is not a catalog entry's key; expected a key as `pdq harvest --format json` lists it",
                a.entry
            )
        })
    })
}

/// The approvals an entry's `approval_record` text holds, or None when it
/// holds none in the documented form.
fn from_text(text: &str) -> Vec<Decision> {
    let mut out = vec![];
    for part in text.split([';', '；']) {
        let part = super::model::half_width(part);
        let Some(date) = part
            .split_whitespace()
            .find_map(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok())
        else {
            continue;
        };
        let arrow = part.replace("->", "→");
        let Some((before, after)) = arrow.split_once('→') else {
            continue;
        };
        let Some(from) = before.split_whitespace().last() else {
            continue;
        };
        let to = after.split_whitespace().next().unwrap_or("");
        let to = match to {
            "" | "空" | "(空)" | "（空）" => None,
            t => Some(t.to_string()),
        };
        for field in ["share_attribute", "open_attribute"] {
            if rank(field, from).is_some() && to.as_deref().is_none_or(|t| rank(field, t).is_some())
            {
                out.push(Decision {
                    field,
                    from: from.to_string(),
                    to: to.clone(),
                    date,
                });
            }
        }
    }
    out
}

/// A lowering of an attribute no record approves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unapproved {
    /// The change.
    pub change: AttributeChange,
    /// Why no record approves it.
    pub reason: String,
}

/// Whether a change lowers its attribute: 无条件→有条件/不予, 有条件→不予,
/// or a set value blanked (a value no vocabulary maps is not blank).
pub fn lowers(c: &AttributeChange, entry: &CatalogEntry) -> bool {
    match (&c.old, &c.new) {
        (Some(o), Some(n)) => matches!(
            (rank(&c.field, o), rank(&c.field, n)),
            (Some(ro), Some(rn)) if rn > ro
        ),
        (Some(o), None) => rank(&c.field, o).is_some() && !entry.unmapped.contains_key(&c.field),
        _ => false,
    }
}

/// The latest change of each attribute of a stored entry that lowers it
/// without an approval naming this entry, this change and a date on or
/// before the harvest that found it.
pub fn unapproved(stored: &Stored, approvals: &[Approval], tz: chrono_tz::Tz) -> Vec<Unapproved> {
    let e = &stored.entry;
    let mut last: std::collections::BTreeMap<&str, &AttributeChange> = Default::default();
    for c in &stored.attribute_changes {
        last.insert(c.field.as_str(), c);
    }
    let own = e
        .approval_record
        .as_deref()
        .map(from_text)
        .unwrap_or_default();
    let filed = approvals
        .iter()
        .filter(|a| a.entry == e.key)
        .filter_map(|a| decision(a).ok());
    let decisions: Vec<Decision> = own.into_iter().chain(filed).collect();
    let mut out = vec![];
    for c in last.into_values().filter(|c| lowers(c, e)) {
        let day = c.at.with_timezone(&tz).date_naive();
        let same: Vec<&Decision> = decisions
            .iter()
            .filter(|d| d.field == c.field && Some(&d.from) == c.old.as_ref() && d.to == c.new)
            .collect();
        if same.iter().any(|d| d.date <= day) {
            continue;
        }
        let reason = match same.iter().map(|d| d.date).min() {
            Some(d) => format!("the approval of it is dated {d}, after the change"),
            None => match &e.approval_record {
                Some(t) => format!(
                    "no approval record names this change: approval_record `{t}` names none (expected e.g. `2025-03-01 同意 无条件共享→有条件共享`), nor does {FILE}"
                ),
                None => format!(
                    "no approval record names this change ({FILE} or the entry's approval_record)"
                ),
            },
        };
        out.push(Unapproved {
            change: c.clone(),
            reason,
        });
    }
    out
}
