//! Withdrawing a shared resource (资源下线, issue #21, 5): 新疆 第二十四条 and
//! 西藏 第十七条 let a department take a shared resource offline only once
//! the new resource can be shared, and have its users notified (新疆: the
//! 共享平台 notifies; 西藏: the unit, which also updates the 数据—系统
//! 关联关系). 兵团, 甘孜 and 吴忠 say nothing of it and nothing is checked
//! (`catalog.withdrawal` in `pdq profile show`).
//!
//! A harvest that no longer finds a shared entry (无条件/有条件共享) records
//! it as withdrawn ([`super::store::ChangeKind::Withdrawn`]); a source that
//! still lists it but writes its 共享属性 or 开放属性 as 下线/停用 (no value
//! of the attribute, so kept as the source wrote it) marks it offline. When the usage
//! log shows consumers of it (under its key, resource code or mounted
//! dataset), it is a `withdrawn_with_consumers` finding of its department
//! unless the bureau's record in [`FILE`] (`pdq catalog withdrawal record`)
//! names a replacement that is in the current catalog and shareable, and
//! every consumer is recorded as notified. Neither text gives a period
//! (及时通知), so the finding has no deadline.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::checks::CatalogFinding;
use super::store::{CatalogState, Stored};
use super::vocab::{Kind, rank};
use super::workfile::{InputError, append_record, load_records};
use crate::profile::Profile;
use crate::usage::UsageRow;

/// The workspace file of withdrawal records.
pub const FILE: &str = "catalog-withdrawals.toml";

/// One record about a withdrawn (or to be withdrawn) entry; several
/// records of one entry add up (the last replacement named, every
/// consumer notified).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// The entry's key (or resource code).
    pub entry: String,
    /// The day of the record.
    #[serde(deserialize_with = "super::workfile::day")]
    pub date: NaiveDate,
    /// The replacement entry's key or resource code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// Consumers told of the withdrawal (and of the replacement).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notified: Vec<String>,
}

/// The key of the entry a key or resource code names.
fn resolve<'a>(state: &'a CatalogState, name: &str) -> Option<&'a str> {
    state
        .entries
        .values()
        .find(|s| s.entry.key == name || s.entry.resource_code.as_deref() == Some(name))
        .map(|s| s.entry.key.as_str())
}

fn invalid(w: &Withdrawal, state: &CatalogState) -> Option<String> {
    let Some(key) = resolve(state, &w.entry) else {
        return Some(format!(
            "entry: `{}` is not a catalog entry's key or resource code; expected one as `pdq harvest --format json` lists it",
            w.entry
        ));
    };
    if let Some(r) = &w.replacement {
        match resolve(state, r) {
            None => {
                return Some(format!(
                    "replacement: `{r}` is not a catalog entry's key or resource code; expected the entry that replaces {}",
                    w.entry
                ));
            }
            Some(k) if k == key => {
                return Some(format!("replacement: `{r}` is the withdrawn entry itself"));
            }
            Some(_) => {}
        }
    }
    if w.replacement.is_none() && w.notified.is_empty() {
        return Some("neither a replacement nor a notified consumer; expected at least one".into());
    }
    if let Some(c) = w.notified.iter().find(|c| c.trim().is_empty()) {
        return Some(format!(
            "notified: `{c}` is blank; expected a department's code"
        ));
    }
    None
}

/// Reads [`FILE`] (none: no records).
pub fn load(dir: &Path, state: &CatalogState) -> Result<Vec<Withdrawal>, InputError> {
    load_records(&dir.join(FILE), "withdrawal", |w| invalid(w, state))
}

/// Appends a record after checking it and the file; returns the file.
pub fn record(dir: &Path, w: &Withdrawal, state: &CatalogState) -> Result<PathBuf, InputError> {
    let path = dir.join(FILE);
    let earlier = load(dir, state)?;
    if let Some(what) = invalid(w, state) {
        return Err(InputError::new(&path, format!("new withdrawal: {what}")));
    }
    let key = resolve(state, &w.entry);
    let already: BTreeSet<&str> = earlier
        .iter()
        .filter(|e| resolve(state, &e.entry) == key)
        .flat_map(|e| e.notified.iter().map(String::as_str))
        .collect();
    if let Some(c) = w.notified.iter().find(|c| already.contains(c.as_str())) {
        return Err(InputError::new(
            &path,
            format!(
                "new withdrawal: notified: `{c}` was already recorded as notified of {}",
                w.entry
            ),
        ));
    }
    append_record(
        &path,
        "withdrawal",
        w,
        "Withdrawals of shared resources (资源下线): replacement and consumers notified. pdq catalog withdrawal record appends here.",
    )?;
    Ok(path)
}

/// Still listed, but its share or open attribute written as 下线/停用.
fn marked_offline(s: &Stored) -> Option<String> {
    if s.withdrawn {
        return None;
    }
    ["share_attribute", "open_attribute"].iter().find_map(|f| {
        s.entry
            .unmapped
            .get(*f)
            .filter(|v| v.contains("下线") || v.contains("停用"))
            .map(|v| format!("marked offline by its source ({f} `{v}`)"))
    })
}

/// The share attribute it had in service: the current one, else the one
/// the change to 下线/停用 replaced.
fn share_in_service(s: &Stored) -> Option<&str> {
    s.entry.share_attribute.as_deref().or_else(|| {
        s.attribute_changes
            .iter()
            .rev()
            .filter(|c| c.field == "share_attribute")
            .find_map(|c| c.old.as_deref())
    })
}

/// `withdrawn_with_consumers` findings (none when the profile's text says
/// nothing of withdrawals).
pub fn unresolved(
    records: &[Withdrawal],
    state: &CatalogState,
    usage: &[UsageRow],
    profile: &Profile,
) -> Vec<CatalogFinding> {
    if !profile.catalog.withdrawal_notice {
        return vec![];
    }
    let cites = format!("{} {}", profile.name, profile.quote("catalog.withdrawal"));
    let shared = |v: Option<&str>| v.and_then(|v| rank(Kind::Share, v)).is_some_and(|r| r < 2);
    let mut out = vec![];
    for s in state.entries.values() {
        let how = match marked_offline(s) {
            Some(how) => how,
            None if s.withdrawn => "withdrawn (no longer published by its source)".to_string(),
            None => continue,
        };
        let e = &s.entry;
        if !shared(share_in_service(s)) {
            continue;
        }
        let names = crate::usage::stage::aliases(state, &e.key);
        let consumers: BTreeSet<&str> = usage
            .iter()
            .filter(|r| names.contains(&r.resource))
            .map(|r| r.consumer.as_str())
            .collect();
        if consumers.is_empty() {
            continue;
        }
        let mine: Vec<&Withdrawal> = records
            .iter()
            .filter(|w| resolve(state, &w.entry) == Some(e.key.as_str()))
            .collect();
        let notified: BTreeSet<&str> = mine
            .iter()
            .flat_map(|w| w.notified.iter().map(String::as_str))
            .collect();
        let mut problems = vec![];
        match mine.iter().rev().find_map(|w| w.replacement.as_deref()) {
            None => problems.push(format!(
                "no replacement is named (`pdq catalog withdrawal record {} --replacement KEY`)",
                e.key
            )),
            Some(r) => {
                let current = state
                    .current()
                    .find(|c| c.key == r || c.resource_code.as_deref() == Some(r));
                match current {
                    None => problems.push(format!(
                        "its replacement `{r}` is not in the current catalog"
                    )),
                    Some(c) if !shared(c.share_attribute.as_deref()) => problems.push(format!(
                        "its replacement `{r}` is not shareable (共享属性 {})",
                        c.share_attribute.as_deref().unwrap_or("blank")
                    )),
                    Some(_) => {}
                }
            }
        }
        let pending: Vec<&str> = consumers
            .iter()
            .copied()
            .filter(|c| !notified.contains(c))
            .collect();
        if !pending.is_empty() {
            problems.push(format!("consumers not notified: {}", pending.join(", ")));
        }
        if problems.is_empty() {
            continue;
        }
        out.push(CatalogFinding {
            check: "withdrawn_with_consumers".into(),
            department: e.department.clone(),
            key: Some(e.key.clone()),
            code: e.resource_code.clone(),
            name: e.name.clone(),
            field: None,
            location: FILE.into(),
            message: format!(
                "共享资源下线 — the shared entry was {how} while the usage log shows {} consumer(s) ({}): {}; a shared resource goes offline only once its replacement can be shared, and its users are notified; 条文未规定期限 the text sets no period ({cites})",
                consumers.len(),
                consumers.iter().copied().collect::<Vec<_>>().join(", "),
                problems.join("; ")
            ),
        });
    }
    out
}
