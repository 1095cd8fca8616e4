//! Auto-mapping (issue #19, 1): the machine keys that portals, CKAN and
//! DCAT use for each catalog field, recognised with no mapping written;
//! what a harvest mapped ([`MappingReport`]: per field, the key each record
//! took it from and how many records had it); and, for `pdq harvest
//! --suggest-mapping`, a ready `[source.mapping]` table for the keys that
//! only resemble a field.
//!
//! Keys are compared as [`machine_key`] writes them: without case, `_`, `-`,
//! `.`, spaces or a namespace prefix, so `update_frequency`,
//! `updateFrequency` and `dct:accrualPeriodicity` each meet one alias.
//! Chinese keys and headers are matched by [`super::FIELDS`] first.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FIELDS, Harvest, header_key};

/// Machine keys per catalog field, in priority order (the first key a
/// record has wins, so CKAN's `title` beats its URL slug `name`). Sources:
/// CKAN's package fields, DCAT/DCAT-AP property names, the camelCase and
/// snake_case keys of Chinese open-data portal APIs, and the pinyin
/// initials some portals use (资源名称 → `zymc`). Field names themselves
/// match too, after these.
pub const KEYS: &[(&str, &[&str])] = &[
    (
        "resource_code",
        &[
            "resourcecode",
            "catalogcode",
            "cataloguecode",
            "dircode",
            "rescode",
            "zydm",
            "mlbm",
            "zybm",
            "mldm",
        ],
    ),
    (
        "classification",
        &[
            "theme",
            "themes",
            "topic",
            "topics",
            "category",
            "categories",
            "catalogtype",
            "subject",
            "domain",
            "groups",
            "zyfl",
            "mlfl",
            "ssly",
        ],
    ),
    (
        "name",
        &[
            "title",
            "resourcename",
            "resname",
            "datasetname",
            "dataname",
            "catalogname",
            "cataloguename",
            "zymc",
            "mlmc",
            "sjmc",
        ],
    ),
    (
        "provider",
        &[
            "publisher",
            "publishername",
            "provider",
            "providername",
            "organization",
            "organisation",
            "organizationname",
            "orgname",
            "orgtitle",
            "department",
            "departmentname",
            "deptname",
            "sourcedept",
            "sourcedepartment",
            "creator",
            "tgbm",
            "tgdw",
            "tgf",
            "zytgf",
            "sjbm",
        ],
    ),
    (
        "summary",
        &[
            "description",
            "notes",
            "abstract",
            "desc",
            "intro",
            "introduction",
            "resourcedesc",
            "zyzy",
            "mlzy",
        ],
    ),
    (
        "format",
        &[
            "formats",
            "fileformat",
            "resformat",
            "dataformat",
            "filetype",
            "mediatype",
            "zygs",
            "sjgs",
        ],
    ),
    (
        "update_frequency",
        &[
            "updatefrequency",
            "frequency",
            "accrualperiodicity",
            "updatecycle",
            "updateperiod",
            "updatefreq",
            "gxpl",
            "gxzq",
        ],
    ),
    (
        "share_attribute",
        &[
            "shareattribute",
            "sharetype",
            "shareattr",
            "sharelevel",
            "sharingtype",
            "gxsx",
            "gxlx",
        ],
    ),
    (
        "share_conditions",
        &["shareconditions", "sharecondition", "gxtj"],
    ),
    ("share_reason", &["sharereason", "gxly"]),
    ("share_basis", &["sharebasis", "gxyj"]),
    (
        "open_attribute",
        &[
            "openattribute",
            "opentype",
            "openattr",
            "openlevel",
            "openmode",
            "accessrights",
            "accesslevel",
            "kfsx",
            "kflx",
        ],
    ),
    (
        "open_conditions",
        &["openconditions", "opencondition", "kftj"],
    ),
    ("source_system", &["sourcesystem", "systemname", "sysname"]),
    (
        "data_volume",
        &["datavolume", "recordcount", "datacount", "datasize", "sjl"],
    ),
    (
        "online_date",
        &[
            "issued",
            "created",
            "publishdate",
            "publishtime",
            "releasedate",
            "releasetime",
            "metadatacreated",
            "createtime",
            "createdate",
            "onlinedate",
            "fbrq",
            "fbsj",
            "sxrq",
        ],
    ),
    (
        "data_updated",
        &[
            "modified",
            "updated",
            "updatetime",
            "updatedate",
            "lastmodified",
            "lastupdated",
            "lastupdate",
            "metadatamodified",
            "dataupdatetime",
            "gxrq",
            "gxsj",
        ],
    ),
    (
        "landing_page",
        &[
            "url",
            "landingpage",
            "link",
            "accessurl",
            "homepage",
            "detailurl",
            "dataurl",
            "href",
        ],
    ),
    (
        "security_marking",
        &["securitylevel", "classified", "secret", "mj"],
    ),
];

/// Keys that only resemble a field: never mapped on their own, offered by
/// [`suggest`] when a key contains one (`title_cn` → `name`).
const RESEMBLES: &[(&str, &[&str])] = &[
    (
        "provider",
        &["dept", "org", "publisher", "provider", "unit", "agency"],
    ),
    ("name", &["title", "name"]),
    ("update_frequency", &["freq", "rate", "cycle", "period"]),
    ("open_attribute", &["open", "access"]),
    ("share_attribute", &["share"]),
    ("summary", &["desc", "summary", "abstract", "intro"]),
    ("format", &["format"]),
    ("online_date", &["issue", "publish", "release", "create"]),
    ("data_updated", &["modif", "update"]),
    ("landing_page", &["url", "link"]),
    ("classification", &["theme", "topic", "categ", "domain"]),
];

/// A machine key as matched: ASCII lowercase, without `_ - .` and spaces,
/// and without a namespace prefix (`dct:title` → `title`).
///
/// ```
/// use connectors::catalog::mapping::machine_key;
/// assert_eq!(machine_key("update_frequency"), "updatefrequency");
/// assert_eq!(machine_key("updateFrequency"), "updatefrequency");
/// assert_eq!(machine_key("dct:accrualPeriodicity"), "accrualperiodicity");
/// ```
pub fn machine_key(key: &str) -> String {
    let k = header_key(key);
    let local = k.rsplit(':').next().unwrap_or(&k);
    local
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a machine key names, with its rank in [`KEYS`] (lower wins).
pub(crate) fn machine_field(key: &str) -> Option<(&'static str, usize)> {
    let k = machine_key(key);
    if k.is_empty() {
        return None;
    }
    KEYS.iter().find_map(|(field, keys)| {
        keys.iter()
            .position(|a| a.eq_ignore_ascii_case(&k))
            .map(|i| (*field, i))
    })
}

/// What a harvest mapped: how many records it read (kept and skipped),
/// per catalog field the keys it was taken from with the number of records
/// each gave it, and the keys no field took with their counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MappingReport {
    /// Records read.
    pub records: usize,
    /// Field → source key (or column) → records that gave the field from it.
    pub fields: BTreeMap<String, BTreeMap<String, usize>>,
    /// Source keys no field took → records that had them.
    pub unmapped: BTreeMap<String, usize>,
    /// Data-item field → the column or keys its values came from
    /// ([`Harvest::item_origins`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub items: BTreeMap<String, String>,
}

impl MappingReport {
    /// Records that have `field` (from any key).
    pub fn covered(&self, field: &str) -> usize {
        self.fields.get(field).map_or(0, |k| k.values().sum())
    }
}

impl Harvest {
    /// What this harvest mapped (its kept and skipped records).
    pub fn mapping_report(&self) -> MappingReport {
        let mut out = MappingReport::default();
        for r in self.records.iter().chain(&self.skipped) {
            out.records += 1;
            for (field, key) in &r.origins {
                *out.fields
                    .entry(field.to_string())
                    .or_default()
                    .entry(key.clone())
                    .or_default() += 1;
            }
            for k in &r.unmapped {
                *out.unmapped.entry(k.clone()).or_default() += 1;
            }
        }
        out.items = self.item_origins.clone();
        out
    }
}

/// One line of a suggested mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The catalog field.
    pub field: String,
    /// The source key to map to it.
    pub key: String,
    /// Records that have the key.
    pub records: usize,
    /// `recognised` (pdq maps it with no mapping) or `resembles KEYWORD`.
    pub how: String,
}

/// A mapping for every field the report shows: the key that gave it to
/// the most records, and for fields no key gave, an unmapped key that
/// resembles the field ([`RESEMBLES`]; the most frequent, one key per field,
/// one field per key).
pub fn suggest(report: &MappingReport) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = vec![];
    for (field, keys) in &report.fields {
        if let Some((key, n)) = keys
            .iter()
            .max_by_key(|(k, n)| (**n, std::cmp::Reverse(*k)))
        {
            out.push(Suggestion {
                field: field.clone(),
                key: key.clone(),
                records: *n,
                how: "recognised".into(),
            });
        }
    }
    let mut unmapped: Vec<(&String, &usize)> = report.unmapped.iter().collect();
    unmapped.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (key, n) in unmapped {
        let k = machine_key(key);
        let hit = RESEMBLES
            .iter()
            .find_map(|(field, words)| words.iter().find(|w| k.contains(*w)).map(|w| (*field, *w)));
        let Some((field, word)) = hit else { continue };
        if out.iter().any(|s| s.field == field) {
            continue;
        }
        out.push(Suggestion {
            field: field.into(),
            key: key.clone(),
            records: *n,
            how: format!("resembles `{word}`"),
        });
    }
    let order = |f: &str| {
        FIELDS
            .iter()
            .position(|(n, _)| *n == f)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(|s| order(&s.field));
    out
}

/// The suggestions as a `[source.mapping]` table to append to the source's
/// file, each line with its coverage, and the keys left unmapped as
/// comments.
pub fn suggestion_toml(source: &str, report: &MappingReport, suggestions: &[Suggestion]) -> String {
    let mut out = format!(
        "# 来源 source `{source}`: {} records read; 建议映射 suggested mapping (append to catalogs/{source}.toml)\n[source.mapping]\n",
        report.records
    );
    let quote = |s: &str| toml_string(s);
    for s in suggestions {
        out.push_str(&format!(
            "{} = {}{}# {}/{} records, {}\n",
            s.field,
            quote(&s.key),
            " ".repeat(28usize.saturating_sub(s.field.len() + s.key.chars().count() + 5)),
            s.records,
            report.records,
            s.how
        ));
    }
    let taken: Vec<&str> = suggestions.iter().map(|s| s.key.as_str()).collect();
    let mut left: Vec<(&String, &usize)> = report
        .unmapped
        .iter()
        .filter(|(k, _)| !taken.contains(&k.as_str()))
        .collect();
    left.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    if !left.is_empty() {
        out.push_str("# 未映射的键 keys no field takes:\n");
        for (k, n) in left {
            out.push_str(&format!("#   {} ({n})\n", quote(k)));
        }
    }
    let required = ["name", "provider"];
    for f in required {
        if !suggestions.iter().any(|s| s.field == f) {
            out.push_str(&format!(
                "# 缺少必填字段 no key found for required field `{f}`: map it by hand\n"
            ));
        }
    }
    out
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::HarvestedRecord;

    #[test]
    fn machine_keys_of_portals_ckan_and_dcat_are_recognised() {
        for (key, field) in [
            ("title", "name"),
            ("resourceName", "name"),
            ("zymc", "name"),
            ("dct:title", "name"),
            ("orgName", "provider"),
            ("publisher", "provider"),
            ("update_frequency", "update_frequency"),
            ("accrualPeriodicity", "update_frequency"),
            ("openType", "open_attribute"),
            ("share_type", "share_attribute"),
            ("metadata_modified", "data_updated"),
            ("issued", "online_date"),
            ("notes", "summary"),
            ("landingPage", "landing_page"),
            ("theme", "classification"),
        ] {
            assert_eq!(machine_field(key).map(|f| f.0), Some(field), "{key}");
        }
        for key in ["title_cn", "rate", "dept", "备注", ""] {
            assert_eq!(machine_field(key), None, "{key}");
        }
    }

    #[test]
    fn a_report_counts_keys_and_a_suggestion_maps_what_resembles() {
        let rec = |i: usize| {
            let mut r = HarvestedRecord {
                unmapped: vec!["title_cn".into(), "dept".into(), "rate".into(), "x1".into()],
                ..Default::default()
            };
            r.origins.insert("format".into(), "fileFormat".into());
            if i.is_multiple_of(2) {
                r.origins.insert("summary".into(), "notes".into());
            }
            r
        };
        let h = Harvest {
            records: vec![],
            skipped: (0..4).map(rec).collect(),
            problems: vec![],
            item_origins: Default::default(),
        };
        let report = h.mapping_report();
        assert_eq!(report.records, 4);
        assert_eq!(report.covered("summary"), 2);
        assert_eq!(report.unmapped["title_cn"], 4);
        let s = suggest(&report);
        let pairs: Vec<(&str, &str, &str)> = s
            .iter()
            .map(|s| (s.field.as_str(), s.key.as_str(), s.how.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("name", "title_cn", "resembles `title`"),
                ("provider", "dept", "resembles `dept`"),
                ("summary", "notes", "recognised"),
                ("format", "fileFormat", "recognised"),
                ("update_frequency", "rate", "resembles `rate`"),
            ]
        );
        let toml_text = suggestion_toml("zz", &report, &s);
        assert!(toml_text.contains("name = \"title_cn\""), "{toml_text}");
        assert!(toml_text.contains("#   \"x1\" (4)"), "{toml_text}");
        assert!(
            toml_text.contains("update_frequency = \"rate\""),
            "{toml_text}"
        );
    }
}
