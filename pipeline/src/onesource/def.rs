//! What a dataset definition declares for one-source resolution
//! (`[onesource]`): the subject kind, the key column and the attribute
//! columns. Read by the dataset definition; depends on nothing else.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What identifies an item's subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A natural person, by 公民身份号码 (GB 11643) or another lawful
    /// identity document (permanent-residence card, residence permit,
    /// travel permit, passport), each keyed with its type.
    Person,
    /// A legal person or other organisation, by 统一社会信用代码 (GB 32100).
    Organisation,
}

fn person() -> SubjectKind {
    SubjectKind::Person
}

/// `[onesource]` of a dataset definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneSourceDef {
    /// Whose records these are.
    #[serde(default = "person")]
    pub subject: SubjectKind,
    /// The subject key column.
    pub key: String,
    /// Persons: the column holding each row's identity document type
    /// (`居民身份证`, `外国人永久居留身份证`, `港澳居民来往内地通行证`,
    /// `台湾居民来往大陆通行证`, `港澳台居民居住证`, `护照`, or their ids);
    /// without it the number's shape tells the documents it can.
    #[serde(default)]
    pub document_type: Option<String>,
    /// Persons: the nationality column (3 letters), part of a passport's key.
    #[serde(default)]
    pub nationality: Option<String>,
    /// The person's (or organisation's) name column.
    #[serde(default)]
    pub name: Option<String>,
    /// Birth date column (persons).
    #[serde(default)]
    pub birth_date: Option<String>,
    /// Sex column (persons).
    #[serde(default)]
    pub sex: Option<String>,
    /// Address column.
    #[serde(default)]
    pub address: Option<String>,
    /// A date or timestamp column: newer copies win among equals.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Attribute id → column, for columns the registry does not know by name.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}
