//! The authority registry (数源部门清单): which department is the legal source
//! of each basic data item, the key that identifies its subjects and the
//! attributes it owns.
//!
//! The registry is data. Each jurisdiction profile has one seeded from its
//! regulation (`pipeline/data/authority/<profile>.toml`, embedded in the
//! binary); the bureau edits it with `authority.toml` in the workspace:
//!
//! ```toml
//! [rename]                       # registry code → the workspace's department code
//! gongjijin = "zhujian"
//!
//! [[item]]                       # replaces the item with the same id, or adds one
//! id = "marriage_registration"
//! name = "婚姻登记数据"
//! subject = "person"
//! authorities = ["minzheng"]
//! attributes = ["marital_status"]
//! ```
//!
//! Raw form ([`RegistryFile`], serde, validated only) → resolved
//! [`AuthorityRegistry`] (lookups by attribute, column name and item name).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::OneSourceError;

pub use super::def::SubjectKind;

impl SubjectKind {
    /// The key's name.
    pub fn key_name(self) -> &'static str {
        match self {
            SubjectKind::Person => "公民身份号码",
            SubjectKind::Organisation => "统一社会信用代码",
        }
    }
}

/// How an attribute's values are compared (for conflicts and golden records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    /// Text, compared after trimming and full-width folding.
    #[default]
    Text,
    /// A date in any common notation, compared as a calendar date.
    Date,
    /// A code (sex, ethnicity, status), compared after trimming.
    Code,
    /// A person's name (traditional/simplified and separators folded).
    Name,
    /// An address (white space and punctuation folded).
    Address,
}

/// One `[[item]]`: a basic data item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataItem {
    /// Stable id (`marriage_registration`).
    pub id: String,
    /// Its name in the regulation (`婚姻登记数据`).
    pub name: String,
    /// Other names departments use for it in catalogs (`婚姻状况`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Person or organisation.
    pub subject: SubjectKind,
    /// The responsible departments; the first is primary in survivorship.
    pub authorities: Vec<String>,
    /// Canonical attribute ids it owns.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Where the regulation says so (`art.13(三)`).
    #[serde(default)]
    pub basis: String,
}

/// One `[[attribute]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeDef {
    /// Canonical id (`marital_status`).
    pub id: String,
    /// Chinese title.
    #[serde(default)]
    pub title: String,
    /// Column names that hold it (matched case-insensitively).
    #[serde(default)]
    pub columns: Vec<String>,
    /// How values compare.
    #[serde(default)]
    pub kind: AttributeKind,
}

/// The raw file shape, shared by the embedded registries and the workspace's
/// `authority.toml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFile {
    /// The profile it belongs to (embedded files only).
    #[serde(default)]
    pub profile: Option<String>,
    /// Department codes and names.
    #[serde(default)]
    pub departments: BTreeMap<String, String>,
    /// Registry department code → the workspace's code (overrides only).
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Data items.
    #[serde(default)]
    pub item: Vec<DataItem>,
    /// Attributes.
    #[serde(default)]
    pub attribute: Vec<AttributeDef>,
}

/// The embedded registry text of a profile.
pub fn embedded(profile: &str) -> Option<&'static str> {
    Some(match profile {
        "xinjiang-2023" => include_str!("../../data/authority/xinjiang-2023.toml"),
        "xpcc-2025" => include_str!("../../data/authority/xpcc-2025.toml"),
        "tibet-2025" => include_str!("../../data/authority/tibet-2025.toml"),
        "ganzi-2025" => include_str!("../../data/authority/ganzi-2025.toml"),
        "wuzhong-2024" => include_str!("../../data/authority/wuzhong-2024.toml"),
        _ => return None,
    })
}

/// The resolved registry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorityRegistry {
    /// Profile id.
    pub profile: String,
    /// Department code → name.
    pub departments: BTreeMap<String, String>,
    /// Items in file order.
    pub items: Vec<DataItem>,
    /// Attributes by id.
    pub attributes: BTreeMap<String, AttributeDef>,
    owner: HashMap<String, usize>,
    column: HashMap<String, String>,
    item_name: HashMap<String, usize>,
}

impl AuthorityRegistry {
    /// The embedded registry of `profile`.
    pub fn for_profile(profile: &str) -> Result<AuthorityRegistry, OneSourceError> {
        let file = format!("data/authority/{profile}.toml");
        let text = embedded(profile).ok_or_else(|| OneSourceError::Registry {
            file: file.clone(),
            message: format!(
                "no authority registry for profile `{profile}` (known: xinjiang-2023, xpcc-2025, tibet-2025, ganzi-2025, wuzhong-2024)"
            ),
        })?;
        AuthorityRegistry::parse(text, &file)?.resolve()
    }

    /// The profile's registry with the workspace's `authority.toml` applied
    /// when it exists.
    pub fn load(profile: &str, workspace_dir: &Path) -> Result<AuthorityRegistry, OneSourceError> {
        let base = AuthorityRegistry::for_profile(profile)?;
        let path = workspace_dir.join("authority.toml");
        if !path.exists() {
            return Ok(base);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| OneSourceError::Registry {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        let over = AuthorityRegistry::parse(&text, &path.display().to_string())?;
        base.with_overrides(over, &path.display().to_string())
    }

    /// Parses (no validation beyond the shape).
    pub fn parse(text: &str, file: &str) -> Result<RegistryFile, OneSourceError> {
        toml::from_str(text).map_err(|e| OneSourceError::Registry {
            file: file.to_string(),
            message: e.message().to_string()
                + &e.span()
                    .map(|s| format!(" (line {})", text[..s.start].lines().count().max(1)))
                    .unwrap_or_default(),
        })
    }

    /// Applies a bureau's overrides: renames, then replaced or added items
    /// and attributes.
    pub fn with_overrides(
        self,
        over: RegistryFile,
        file: &str,
    ) -> Result<AuthorityRegistry, OneSourceError> {
        let mut raw = RegistryFile {
            profile: Some(self.profile),
            departments: self.departments,
            rename: BTreeMap::new(),
            item: self.items,
            attribute: self.attributes.into_values().collect(),
        };
        for (from, to) in &over.rename {
            if let Some(name) = raw.departments.remove(from) {
                raw.departments.entry(to.clone()).or_insert(name);
            }
            for it in &mut raw.item {
                for a in &mut it.authorities {
                    if a == from {
                        a.clone_from(to);
                    }
                }
            }
        }
        raw.departments.extend(over.departments);
        for it in over.item {
            match raw.item.iter_mut().find(|x| x.id == it.id) {
                Some(x) => *x = it,
                None => raw.item.push(it),
            }
        }
        for at in over.attribute {
            match raw.attribute.iter_mut().find(|x| x.id == at.id) {
                Some(x) => *x = at,
                None => raw.attribute.push(at),
            }
        }
        raw.resolve_in(file)
    }

    /// The item that owns `attribute`.
    pub fn owner_of(&self, attribute: &str) -> Option<&DataItem> {
        self.owner.get(attribute).map(|&i| &self.items[i])
    }

    /// The canonical attribute a column name stands for.
    pub fn attribute_for_column(&self, column: &str) -> Option<&AttributeDef> {
        self.column
            .get(&column.trim().to_lowercase())
            .and_then(|a| self.attributes.get(a))
    }

    /// The item a catalog entry's name refers to: its name, id or an alias
    /// equal to the entry name, or contained in it (`婚姻登记信息` → 婚姻登记).
    pub fn item_for_name(&self, name: &str) -> Option<&DataItem> {
        let n = name.trim();
        if let Some(&i) = self.item_name.get(n) {
            return Some(&self.items[i]);
        }
        // Longest contained alias wins, so `死亡登记` beats `登记`.
        self.item_name
            .iter()
            .filter(|(k, _)| k.chars().count() >= 2 && n.contains(k.as_str()))
            .max_by_key(|(k, _)| (k.len(), std::cmp::Reverse(k.as_str())))
            .map(|(_, &i)| &self.items[i])
    }

    /// Whether `department` is an authority for `item`.
    pub fn is_authority(&self, item: &DataItem, department: &str) -> bool {
        item.authorities.iter().any(|a| a == department)
    }

    /// A department's name, or its code.
    pub fn department_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.departments.get(code).map_or(code, String::as_str)
    }
}

impl AuthorityRegistry {
    /// Validated resolved form of a raw file.
    fn resolve_from(raw: RegistryFile, file: &str) -> Result<AuthorityRegistry, OneSourceError> {
        raw.resolve_in(file)
    }
}

impl RegistryFile {
    /// Validates and resolves (file name `<embedded>`).
    pub fn resolve(self) -> Result<AuthorityRegistry, OneSourceError> {
        let file = format!(
            "data/authority/{}.toml",
            self.profile.as_deref().unwrap_or("<unknown>")
        );
        AuthorityRegistry::resolve_from(self, &file)
    }

    fn resolve_in(self, file: &str) -> Result<AuthorityRegistry, OneSourceError> {
        let err = |message: String| OneSourceError::Registry {
            file: file.to_string(),
            message,
        };
        let mut attributes = BTreeMap::new();
        let mut column = HashMap::new();
        for a in self.attribute {
            if a.id.trim().is_empty() {
                return Err(err("an [[attribute]] has an empty id".into()));
            }
            for c in a.columns.iter().chain(std::iter::once(&a.id)) {
                let c = c.trim().to_lowercase();
                if let Some(prev) = column.insert(c.clone(), a.id.clone())
                    && prev != a.id
                {
                    return Err(err(format!(
                        "column name `{c}` is listed for attributes `{prev}` and `{}`",
                        a.id
                    )));
                }
            }
            if attributes.insert(a.id.clone(), a).is_some() {
                return Err(err("duplicate [[attribute]] id".into()));
            }
        }
        let mut owner = HashMap::new();
        let mut item_name = HashMap::new();
        for (i, it) in self.item.iter().enumerate() {
            if it.authorities.is_empty() {
                return Err(err(format!("item `{}` names no authority", it.id)));
            }
            if self.item[..i].iter().any(|x| x.id == it.id) {
                return Err(err(format!("item `{}` is defined twice", it.id)));
            }
            for a in &it.attributes {
                if !attributes.contains_key(a) {
                    return Err(err(format!(
                        "item `{}` owns attribute `{a}`, which has no [[attribute]]",
                        it.id
                    )));
                }
                if let Some(&j) = owner.get(a) {
                    let other: &DataItem = &self.item[j];
                    return Err(err(format!(
                        "attribute `{a}` is owned by both `{}` and `{}` (one data, one source)",
                        other.id, it.id
                    )));
                }
                owner.insert(a.clone(), i);
            }
            for n in std::iter::once(&it.name)
                .chain(std::iter::once(&it.id))
                .chain(&it.aliases)
            {
                item_name.entry(n.trim().to_string()).or_insert(i);
            }
        }
        Ok(AuthorityRegistry {
            profile: self.profile.unwrap_or_default(),
            departments: self.departments,
            items: self.item,
            attributes,
            owner,
            column,
            item_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_has_a_registry_that_loads() {
        for p in crate::profile::ids() {
            let r = AuthorityRegistry::for_profile(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(r.profile, p);
            let hh = r.owner_of("marital_status").unwrap();
            assert_eq!(hh.authorities, vec!["minzheng".to_string()]);
            assert_eq!(
                r.owner_of("birth_date").unwrap().id,
                "household_registration"
            );
            assert_eq!(
                r.owner_of("entity_name").unwrap().subject,
                SubjectKind::Organisation
            );
        }
    }

    #[test]
    fn profiles_differ_where_regulations_differ() {
        let xj = AuthorityRegistry::for_profile("xinjiang-2023").unwrap();
        let xpcc = AuthorityRegistry::for_profile("xpcc-2025").unwrap();
        let ss = |r: &AuthorityRegistry| {
            r.items
                .iter()
                .find(|i| i.id == "social_security")
                .unwrap()
                .authorities
                .clone()
        };
        assert!(ss(&xj).contains(&"shuiwu".to_string()));
        assert!(ss(&xpcc).contains(&"yibao".to_string()));
    }

    #[test]
    fn lookups_by_column_and_name() {
        let r = AuthorityRegistry::for_profile("xinjiang-2023").unwrap();
        assert_eq!(r.attribute_for_column("HYZK").unwrap().id, "marital_status");
        assert_eq!(
            r.attribute_for_column(" 出生日期 ").unwrap().id,
            "birth_date"
        );
        assert!(r.attribute_for_column("amount").is_none());
        assert_eq!(
            r.item_for_name("婚姻登记").unwrap().id,
            "marriage_registration"
        );
        assert_eq!(
            r.item_for_name("全区婚姻登记信息表").unwrap().id,
            "marriage_registration"
        );
        assert_eq!(
            r.item_for_name("死亡登记").unwrap().id,
            "birth_death_registration"
        );
        assert!(r.item_for_name("道路养护").is_none());
    }

    #[test]
    fn unknown_profile_names_the_file() {
        let e = AuthorityRegistry::for_profile("atlantis")
            .unwrap_err()
            .to_string();
        assert!(e.contains("data/authority/atlantis.toml"), "{e}");
    }

    #[test]
    fn overrides_rename_replace_and_add() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("authority.toml"),
            r#"
[rename]
gongjijin = "zhujian"

[[item]]
id = "marriage_registration"
name = "婚姻登记数据"
subject = "person"
authorities = ["minzheng", "gongan"]
attributes = ["marital_status"]

[[attribute]]
id = "vehicle_plate"
columns = ["plate"]

[[item]]
id = "vehicles"
name = "机动车登记数据"
subject = "person"
authorities = ["gongan"]
attributes = ["vehicle_plate"]
"#,
        )
        .unwrap();
        let r = AuthorityRegistry::load("xinjiang-2023", dir.path()).unwrap();
        assert_eq!(
            r.owner_of("provident_fund_account").unwrap().authorities,
            vec!["zhujian"]
        );
        assert_eq!(r.owner_of("marital_status").unwrap().authorities.len(), 2);
        assert_eq!(r.owner_of("vehicle_plate").unwrap().id, "vehicles");
        assert_eq!(r.attribute_for_column("plate").unwrap().id, "vehicle_plate");
    }

    #[test]
    fn bad_overrides_are_one_line_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("authority.toml");
        std::fs::write(
            &path,
            "[[item]]\nid = \"x\"\nname = \"x\"\nsubject = \"robot\"\nauthorities = [\"a\"]\n",
        )
        .unwrap();
        let e = AuthorityRegistry::load("xinjiang-2023", dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("authority.toml") && e.contains("line"), "{e}");
        assert!(!e.contains('\n'), "{e}");

        std::fs::write(
            &path,
            "[[item]]\nid = \"dup\"\nname = \"重复\"\nsubject = \"person\"\nauthorities = [\"renshe\"]\nattributes = [\"marital_status\"]\n",
        )
        .unwrap();
        let e = AuthorityRegistry::load("xinjiang-2023", dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("marital_status") && e.contains("one data, one source"),
            "{e}"
        );

        std::fs::write(
            &path,
            "[[item]]\nid = \"x\"\nname = \"x\"\nsubject = \"person\"\nauthorities = []\n",
        )
        .unwrap();
        let e = AuthorityRegistry::load("xinjiang-2023", dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("names no authority"), "{e}");
    }
}
