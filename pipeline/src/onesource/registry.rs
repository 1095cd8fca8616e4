//! The authority registry (数源部门清单): which department is the legal source
//! of each basic data item, the key that identifies its subjects and the
//! attributes it owns.
//!
//! The registry is data, and every item says where it comes from
//! ([`Origin`]). Only two texts have a list: 新疆 art.13 and 兵团 art.17
//! (`pipeline/data/authority/<profile>.toml`, embedded in the binary, item
//! by item as the text words it, each with its article, clause and quoted
//! words). The other profiles' texts name no departments, so pdq ships no
//! items for them: the bureau supplies its registry in the workspace's
//! `authority.toml`, which also edits a text's list:
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
//! The attributes (canonical ids, the column names that hold them, how
//! values compare) are pdq's own mapping, shared by every profile
//! (`pipeline/data/authority/attributes.toml`); the workspace may add some.
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

/// Where an item of the effective registry comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Origin {
    /// A profile's regulation text lists it.
    Text {
        /// The profile.
        profile: String,
        /// Article and clause (`第十三条第三款（三）`).
        article: String,
    },
    /// The bureau's own registry, `authority.toml` in the workspace.
    Workspace {
        /// The file.
        file: String,
    },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Text { profile, article } => write!(f, "条文 text {profile} {article}"),
            Origin::Workspace { file } => write!(f, "工作区 workspace {file}"),
        }
    }
}

/// One `[[item]]`: a basic data item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataItem {
    /// Stable id (`marriage_registration`; pdq's).
    pub id: String,
    /// Its name, as the regulation words it (`居民婚姻登记数据`).
    pub name: String,
    /// Other names departments use for it in catalogs (`婚姻状况`; pdq's).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Person or organisation; none for an item the text gives no
    /// identifier (natural resources and spatial data).
    #[serde(default)]
    pub subject: Option<SubjectKind>,
    /// The responsible departments, every one the text names, in its order;
    /// the first is primary in survivorship (pdq's convention).
    pub authorities: Vec<String>,
    /// The text's list of authorities ends in 等 (“…、气象等主管部门”): others
    /// of the kind may be sources too.
    #[serde(default)]
    pub open_ended: bool,
    /// Canonical attribute ids it owns (pdq's mapping).
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Article, paragraph and clause (`第十三条第三款（三）`): required of a
    /// text's item; a workspace item may cite the bureau's own document.
    #[serde(default)]
    pub basis: String,
    /// The clause's words, verbatim (text items).
    #[serde(default)]
    pub says: String,
    /// Where the item comes from: set when loading, never read from a file.
    #[serde(skip_deserializing, default)]
    pub origin: Option<Origin>,
}

impl DataItem {
    /// The article label of [`DataItem::basis`] (`第十三条`), if it has one.
    pub fn article(&self) -> Option<&str> {
        let b = self.basis.trim();
        let end = b.find('条')? + '条'.len_utf8();
        b.starts_with('第').then(|| &b[..end])
    }
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

/// The embedded registry text of a profile whose regulation has a list
/// (新疆 art.13, 兵团 art.17); None for every other profile.
pub fn embedded(profile: &str) -> Option<&'static str> {
    Some(match profile {
        "xinjiang-2023" => include_str!("../../data/authority/xinjiang-2023.toml"),
        "xpcc-2025" => include_str!("../../data/authority/xpcc-2025.toml"),
        _ => return None,
    })
}

/// pdq's attribute mapping, shared by every profile.
pub const ATTRIBUTES: &str = include_str!("../../data/authority/attributes.toml");

/// What to do when no registry item is the source of what a dataset holds.
pub const ADD_TO_WORKSPACE: &str =
    "add the items that hold them, with their authorities, to authority.toml in the workspace";

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
    /// The registry `profile`'s text supplies: its list, item by item, for
    /// 新疆 and 兵团; no items for the profiles whose text has none. Every
    /// item's origin is the text and its article.
    pub fn for_profile(profile: &str) -> Result<AuthorityRegistry, OneSourceError> {
        let file = format!("data/authority/{profile}.toml");
        if !crate::profile::ids().contains(&profile) {
            return Err(OneSourceError::Registry {
                file,
                message: format!(
                    "no profile `{profile}` (known: {})",
                    crate::profile::ids().join(", ")
                ),
            });
        }
        let mut raw = AuthorityRegistry::parse(ATTRIBUTES, "data/authority/attributes.toml")?;
        raw.profile = Some(profile.to_string());
        if let Some(text) = embedded(profile) {
            let list = AuthorityRegistry::parse(text, &file)?;
            raw.departments = list.departments;
            raw.item = list.item;
            raw.attribute.extend(list.attribute);
        }
        for it in &mut raw.item {
            let Some(article) = it.article() else {
                return Err(OneSourceError::Registry {
                    file,
                    message: format!("item `{}` cites no article (basis)", it.id),
                });
            };
            if it.says.trim().is_empty() {
                return Err(OneSourceError::Registry {
                    file,
                    message: format!("item `{}` quotes nothing of {article} (says)", it.id),
                });
            }
            it.origin = Some(Origin::Text {
                profile: profile.to_string(),
                article: it.basis.clone(),
            });
        }
        raw.resolve_in(&file)
    }

    /// The profile's registry with the workspace's `authority.toml` applied
    /// when it exists (for a profile whose text has no list, the workspace's
    /// is the whole registry).
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

    /// Whether it has no items (a profile without a list, no workspace
    /// registry).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Where the registry's items come from, in one line: the profile's text
    /// or the workspace's file, or that there is none.
    pub fn provenance(&self) -> String {
        let text = self
            .items
            .iter()
            .filter(|i| matches!(i.origin, Some(Origin::Text { .. })))
            .count();
        let ws: Vec<&str> = self
            .items
            .iter()
            .filter_map(|i| match &i.origin {
                Some(Origin::Workspace { file }) => Some(file.as_str()),
                _ => None,
            })
            .collect();
        if self.items.is_empty() {
            return format!(
                "no items: the text of profile `{}` lists no 数源部门 and the workspace has no authority.toml items",
                self.profile
            );
        }
        let mut parts = vec![];
        if text > 0 {
            parts.push(format!(
                "{text} from the text of profile `{}`",
                self.profile
            ));
        }
        if let Some(f) = ws.first() {
            parts.push(format!("{} from the workspace ({f})", ws.len()));
        }
        parts.join(", ")
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
        for mut it in over.item {
            it.origin = Some(Origin::Workspace {
                file: file.to_string(),
            });
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

impl RegistryFile {
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

    // Only the two texts with a list (新疆 art.13, 兵团 art.17) give owners;
    // this test asserted them for all five profiles, which the other three
    // texts contradict (they name no departments). 新疆's (三) names 民政部门
    // and 乡镇人民政府 for marriage data.
    #[test]
    fn every_profile_has_a_registry_that_loads() {
        for p in crate::profile::ids() {
            let r = AuthorityRegistry::for_profile(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(r.profile, p);
            if embedded(p).is_none() {
                continue;
            }
            let hh = r.owner_of("marital_status").unwrap();
            assert_eq!(hh.authorities[0], "minzheng");
            assert_eq!(
                r.owner_of("birth_date").unwrap().id,
                "household_registration"
            );
            assert_eq!(
                r.owner_of("entity_name").unwrap().subject,
                Some(SubjectKind::Organisation)
            );
        }
        let xj = AuthorityRegistry::for_profile("xinjiang-2023").unwrap();
        assert_eq!(
            xj.owner_of("marital_status").unwrap().authorities,
            ["minzheng", "xiangzhen"]
        );
        let xpcc = AuthorityRegistry::for_profile("xpcc-2025").unwrap();
        assert_eq!(
            xpcc.owner_of("marital_status").unwrap().authorities,
            ["minzheng"]
        );
    }

    /// The words an authority's name must have in its clause: the whole
    /// name, or, in a list the text ends with “等主管部门” (自然资源、水利、
    /// …、气象等主管部门), the name without its “(主管)部门”.
    fn names_authority(says: &str, department: &str) -> bool {
        if says.contains(department) {
            return true;
        }
        let stem = department
            .strip_suffix("主管部门")
            .or_else(|| department.strip_suffix("部门"))
            .unwrap_or(department);
        says.contains("等主管部门") && says.contains(stem)
    }

    /// Every item of a text's list against the text: its article and clause
    /// exist and say the item's name and each authority's name, every clause
    /// of the article that assigns a source is an item, and nothing else is.
    fn check_list(profile: &str, file: &str, article: &str, bases: &[String]) {
        let text = crate::profile::text::RegulationText::embedded(file).unwrap();
        let raw = match file {
            "xinjiang-2023.txt" => include_str!("../../data/regulations/xinjiang-2023.txt"),
            _ => include_str!("../../data/regulations/xpcc-2025.txt"),
        };
        let r = AuthorityRegistry::for_profile(profile).unwrap();
        let got: Vec<&str> = r.items.iter().map(|i| i.basis.as_str()).collect();
        assert_eq!(got, bases, "{profile}: the items, in the text's order");
        for it in &r.items {
            let at = it
                .article()
                .unwrap_or_else(|| panic!("{}: no article", it.id));
            assert_eq!(at, article, "{profile} {}", it.id);
            assert!(
                text.says(at, &it.says),
                "{profile} {}: {at} does not say “{}”",
                it.id,
                it.says
            );
            assert!(it.says.contains(&it.name), "{profile} {}: name", it.id);
            // 等 closing the list of departments (not the 等 inside a data
            // name, “基金会等非营利组织”): an open list.
            let open = ["等登记管理部门", "等部门", "等主管部门"]
                .iter()
                .any(|w| it.says.contains(w));
            assert_eq!(it.open_ended, open, "{profile} {}: 等", it.id);
            // The paragraph cited is the one the words are in: paragraphs
            // (款) are the article's lines that do not start a clause “(…)”.
            let para = paragraph_of(raw, article, &it.says)
                .unwrap_or_else(|| panic!("{profile} {}: words not found", it.id));
            let cited = format!("{article}第{}款", crate::profile::text::numeral(para));
            assert!(
                it.basis.starts_with(&cited),
                "{profile} {}: {} but the words are in {cited}",
                it.id,
                it.basis
            );
            // The clause quoted is the one cited: （三） → “(三)…”.
            if let Some(clause) = it
                .basis
                .split_once('（')
                .map(|(_, c)| c.trim_end_matches('）'))
            {
                assert!(
                    it.says.starts_with(&format!("({clause})")),
                    "{profile} {}: {} quotes another clause: {}",
                    it.id,
                    it.basis,
                    it.says
                );
            }
            assert!(!it.authorities.is_empty());
            for a in &it.authorities {
                let name = r
                    .departments
                    .get(a)
                    .unwrap_or_else(|| panic!("{profile} {}: department `{a}` unnamed", it.id));
                assert!(
                    names_authority(&it.says, name),
                    "{profile} {}: “{}” does not name {name}",
                    it.id,
                    it.says
                );
            }
            // and the clause names no department the item lacks (outside
            // its authorities' own names; 公安机关 in “受公安机关委托的…机构”
            // delegates, it is not itself an authority).
            let mut rest = it.says.clone();
            for a in &it.authorities {
                rest = rest.replace(r.department_name(a), "");
            }
            for (code, name) in &r.departments {
                if !it.authorities.contains(code) {
                    assert!(
                        !rest.contains(name.as_str()),
                        "{profile} {}: “{}” also names {name}",
                        it.id,
                        it.says
                    );
                }
            }
            assert_eq!(
                it.origin,
                Some(Origin::Text {
                    profile: profile.into(),
                    article: it.basis.clone()
                })
            );
        }
        // Complete: every clause of the article that assigns data to a
        // source (…负责, …提供) is quoted by an item.
        let body = text.article(article).unwrap();
        for clause in body.split(['；', ';', '。', ':', '：']) {
            if clause.ends_with("负责") || clause.contains("核准与提供") {
                assert!(
                    r.items.iter().any(|i| clause.contains(&i.says)),
                    "{profile}: no item quotes “{clause}”"
                );
            }
        }
    }

    /// The paragraph (款, from 1) of `article` in the raw text whose line
    /// holds `says` (white space ignored).
    fn paragraph_of(raw: &str, article: &str, says: &str) -> Option<u32> {
        let strip = |l: &str| l.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        let mut para = 0;
        let mut inside = false;
        for line in raw.lines().map(strip).filter(|l| !l.is_empty()) {
            if line.starts_with('第') && line.find('条').is_some_and(|i| i < 24) {
                if inside {
                    return None;
                }
                inside = line.starts_with(article);
            }
            if !inside {
                continue;
            }
            if !line.starts_with('(') && !line.starts_with('（') {
                para += 1;
            }
            if line.contains(says) {
                return Some(para);
            }
        }
        None
    }

    fn bases(article: &str, persons: u32, orgs: u32, rest: u32) -> Vec<String> {
        let n = crate::profile::text::numeral;
        let mut out: Vec<String> = (1..=11)
            .map(|i| format!("{article}第{}款（{}）", n(persons), n(i)))
            .collect();
        out.extend((1..=4).map(|i| format!("{article}第{}款（{}）", n(orgs), n(i))));
        out.push(format!("{article}第{}款", n(rest)));
        out
    }

    #[test]
    fn xinjiang_art_13_item_by_item() {
        check_list(
            "xinjiang-2023",
            "xinjiang-2023.txt",
            "第十三条",
            &bases("第十三条", 3, 4, 5),
        );
        let r = AuthorityRegistry::for_profile("xinjiang-2023").unwrap();
        let by = |id: &str| {
            r.items
                .iter()
                .find(|i| i.id == id)
                .unwrap()
                .authorities
                .clone()
        };
        // The items the seeded list lacked or had wrong (issue #17, 4).
        assert_eq!(by("floating_population"), ["liudong", "liudong_weituo"]);
        assert_eq!(by("health"), ["weijian", "xiangzhen", "jiedao"]);
        assert_eq!(by("education"), ["jiaoyu", "renshe", "yuanxiao", "keyan"]);
        assert_eq!(by("qualification_certificates"), ["fazheng"]);
        assert_eq!(
            by("credit_code"),
            ["shichang", "shehuizuzhi", "shiyedanwei"]
        );
        assert_eq!(by("natural_resources_spatial").len(), 6);
        assert_eq!(
            r.items
                .iter()
                .find(|i| i.id == "natural_resources_spatial")
                .unwrap()
                .subject,
            None
        );
    }

    #[test]
    fn xpcc_art_17_item_by_item() {
        check_list(
            "xpcc-2025",
            "xpcc-2025.txt",
            "第十七条",
            &bases("第十七条", 2, 3, 4),
        );
        let r = AuthorityRegistry::for_profile("xpcc-2025").unwrap();
        let by = |id: &str| {
            r.items
                .iter()
                .find(|i| i.id == id)
                .unwrap()
                .authorities
                .clone()
        };
        assert_eq!(by("floating_population"), ["liudong", "liudong_weituo"]);
        assert_eq!(by("health"), ["weijian"]);
        assert_eq!(by("social_security"), ["renshe", "yibao", "minzheng"]);
    }

    #[test]
    fn the_three_texts_without_a_list_ship_no_items() {
        for p in ["tibet-2025", "ganzi-2025", "wuzhong-2024"] {
            assert!(embedded(p).is_none(), "{p}");
            let r = AuthorityRegistry::for_profile(p).unwrap();
            assert!(r.is_empty(), "{p}: {:?}", r.items);
            assert!(r.departments.is_empty(), "{p}");
            // pdq's own attribute mapping is there for the bureau's items.
            assert!(r.attributes.contains_key("marital_status"));
            assert!(r.owner_of("marital_status").is_none());
            assert!(r.provenance().contains("no items"), "{}", r.provenance());
        }
    }

    #[test]
    fn a_workspace_item_shows_origin_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("authority.toml");
        std::fs::write(
            &path,
            "[departments]\nminzheng = \"民政厅\"\n\n[[item]]\nid = \"marriage_registration\"\nname = \"婚姻登记数据\"\nsubject = \"person\"\nauthorities = [\"minzheng\"]\nattributes = [\"marital_status\"]\n",
        )
        .unwrap();
        let file = path.display().to_string();
        // A profile without a list: the workspace's is the whole registry.
        let r = AuthorityRegistry::load("tibet-2025", dir.path()).unwrap();
        assert_eq!(r.items.len(), 1);
        let it = r.owner_of("marital_status").unwrap();
        assert_eq!(it.origin, Some(Origin::Workspace { file: file.clone() }));
        assert!(
            it.origin
                .as_ref()
                .unwrap()
                .to_string()
                .contains("authority.toml")
        );
        assert!(
            r.provenance().contains("1 from the workspace"),
            "{}",
            r.provenance()
        );
        // A profile with one: the replaced item is the workspace's, the
        // others stay the text's.
        let r = AuthorityRegistry::load("xinjiang-2023", dir.path()).unwrap();
        assert_eq!(
            r.owner_of("marital_status").unwrap().origin,
            Some(Origin::Workspace { file })
        );
        assert!(matches!(
            r.owner_of("birth_date").unwrap().origin,
            Some(Origin::Text { ref article, .. }) if article == "第十三条第三款（一）"
        ));
        // A file cannot claim the text as its origin.
        std::fs::write(
            &path,
            "[[item]]\nid = \"x\"\nname = \"x\"\nauthorities = [\"a\"]\norigin = { from = \"text\", profile = \"tibet-2025\", article = \"第十四条\" }\n",
        )
        .unwrap();
        assert!(AuthorityRegistry::load("tibet-2025", dir.path()).is_err());
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
