//! A small map of canonical field → text, for the many small maps a
//! harvest makes: a data item has three to seven fields, and a catalog of
//! 100,000 entries has a million items. A `BTreeMap` gave each item a
//! 544-byte node and a heap string per key; this is a sorted vector whose
//! canonical keys ([`super::ITEM_FIELDS`]) are static strings, not copies
//! (issue #19: harvest memory).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FIELDS, ITEM_FIELDS};

/// Canonical field → text, sorted by field as a `BTreeMap` would be (so
/// iteration and serialisation keep their order).
///
/// ```
/// use connectors::catalog::FieldMap;
/// let mut m = FieldMap::default();
/// m.insert("type".into(), "字符型".into());
/// m.insert("name".into(), "姓名".into());
/// assert_eq!(m.get("name").map(String::as_str), Some("姓名"));
/// assert_eq!(m.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["name", "type"]);
/// assert_eq!(m.insert("name".into(), "性别".into()).as_deref(), Some("姓名"));
/// assert_eq!(m.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMap(Vec<(Cow<'static, str>, String)>);

/// The static copy of a canonical field's name, if `k` is one.
fn canonical(k: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .chain(ITEM_FIELDS)
        .map(|(f, _)| *f)
        .find(|f| *f == k)
}

impl FieldMap {
    fn find(&self, k: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(f, _)| f.as_ref().cmp(k))
    }

    /// The text of field `k`.
    pub fn get(&self, k: &str) -> Option<&String> {
        self.find(k).ok().map(|i| &self.0[i].1)
    }

    /// Whether field `k` has a value.
    pub fn contains_key(&self, k: &str) -> bool {
        self.find(k).is_ok()
    }

    /// Sets field `k`; the value it had.
    pub fn insert(&mut self, k: String, v: String) -> Option<String> {
        match self.find(&k) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, v)),
            Err(i) => {
                let k = canonical(&k).map_or(Cow::Owned(k), Cow::Borrowed);
                self.0.insert(i, (k, v));
                None
            }
        }
    }

    /// The text of field `k`, to change in place.
    pub fn get_mut(&mut self, k: &str) -> Option<&mut String> {
        self.find(k).ok().map(|i| &mut self.0[i].1)
    }

    /// Removes field `k`; the value it had.
    pub fn remove(&mut self, k: &str) -> Option<String> {
        self.find(k).ok().map(|i| self.0.remove(i).1)
    }

    /// How many fields have a value.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no field has a value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields and their text, in field order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &String)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The fields that have a value, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }

    /// The values, in field order.
    pub fn values(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl<'a> IntoIterator for &'a FieldMap {
    type Item = (&'a str, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Cow<'static, str>, String)>,
        fn(&'a (Cow<'static, str>, String)) -> (&'a str, &'a String),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl std::ops::Index<&str> for FieldMap {
    type Output = String;
    fn index(&self, k: &str) -> &String {
        self.get(k)
            .unwrap_or_else(|| panic!("no field `{k}` in this map"))
    }
}

impl FromIterator<(String, String)> for FieldMap {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut m = FieldMap::default();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m.0.shrink_to_fit();
        m
    }
}

impl From<BTreeMap<String, String>> for FieldMap {
    fn from(m: BTreeMap<String, String>) -> Self {
        // Already sorted and unique.
        FieldMap(
            m.into_iter()
                .map(|(k, v)| (canonical(&k).map_or(Cow::Owned(k), Cow::Borrowed), v))
                .collect(),
        )
    }
}

impl Serialize for FieldMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for FieldMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(d).map(FieldMap::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_btreemaps_order_and_values_whatever_the_insertion_order() {
        let pairs = [
            ("type", "字符型"),
            ("name", "公民身份号码"),
            ("column", "id_number"),
            ("x-extra", "1"),
            ("length", "18"),
        ];
        let mut m = FieldMap::default();
        let mut b = BTreeMap::new();
        for (k, v) in pairs {
            m.insert(k.into(), v.into());
            b.insert(k.to_string(), v.to_string());
        }
        let got: Vec<(String, String)> =
            m.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let want: Vec<(String, String)> = b.clone().into_iter().collect();
        assert_eq!(got, want);
        assert_eq!(FieldMap::from(b.clone()), m);
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let back: FieldMap = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(m.remove("name").as_deref(), Some("公民身份号码"));
        assert!(!m.contains_key("name") && m.contains_key("x-extra"));
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn canonical_keys_are_not_copied() {
        let mut m = FieldMap::default();
        m.insert("name".into(), "姓名".into());
        m.insert("x-extra".into(), "1".into());
        assert!(matches!(m.0[0].0, Cow::Borrowed("name")));
        assert!(matches!(m.0[1].0, Cow::Owned(_)));
    }
}
