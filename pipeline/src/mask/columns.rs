//! Which masking a column's values get, from the column's name alone.
//!
//! A column holds persons' names when its name carries a person's role —
//! 联系人, 法定代表人, 负责人, 姓名, contact, legal_rep, guardian, or the
//! pinyin abbreviations bureaus use (`lxr`, `fddbr`, `xm` …) — whatever else
//! it says: `单位联系人`, `企业法定代表人`, `company_contact` and
//! `org_legal_rep_name` hold persons' names. Only the generic word `name`
//! (名字) gives way to a word for an organisation or a thing (`org_name`,
//! `entity_name` are public), and a column named as an identifier of a
//! person (`mother_id`, `legal_rep_no`, `联系人电话`) is masked as an
//! identifier.

/// How a column's values are masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ColumnKind {
    PersonName,
    Address,
    Other,
}

/// Chinese words for a person's role: a column naming one holds names.
const ROLE_ZH: &[&str] = &[
    "联系人",
    "法定代表人",
    "法人代表",
    "负责人",
    "姓名",
    "经办人",
    "申请人",
    "户主",
    "监护人",
    "配偶",
    "母亲",
    "父亲",
    "丈夫",
    "妻子",
    "男方",
    "女方",
    "代理人",
    "委托人",
    "当事人",
    "收件人",
    "持卡人",
    "持有人",
    "投保人",
    "被保险人",
    "受益人",
    "担保人",
    "签收人",
    "填报人",
    "审核人",
];

/// English words (parts of the name) for a person's role.
const ROLE_EN: &[&str] = &[
    "contact",
    "legal_rep",
    "legalrep",
    "representative",
    "applicant",
    "guardian",
    "spouse",
    "husband",
    "wife",
    "mother",
    "father",
    "holder",
    "person",
    "responsible",
    "operator_name",
    "beneficiary",
    "recipient",
    "surname",
    "given_name",
    "full_name",
    "fullname",
    "realname",
    "real_name",
];

/// Pinyin words (whole words of a snake_case or camelCase name) for a
/// person's name or role.
const ROLE_PINYIN: &[&str] = &[
    "xm",
    "xingming",
    "lxr",
    "lxrxm",
    "lianxiren",
    "fddbr",
    "fddbrxm",
    "fadingdaibiaoren",
    "frdb",
    "fzr",
    "fzrxm",
    "fuzeren",
    "jbr",
    "jbrxm",
    "jingbanren",
    "sqr",
    "sqrxm",
    "shenqingren",
    "hzxm",
    "huzhu",
    "jhr",
    "jhrxm",
    "jianhuren",
    "poxm",
    "peiou",
    "mqxm",
    "fqxm",
    "muqin",
    "fuqin",
    "dlr",
    "dlrxm",
];

/// The generic word for a name: a person's, unless the column names an
/// organisation or a thing.
const NAME: &[&str] = &["name", "名字", "法人"];

/// Words for an organisation or a thing, which make a generic `name` public.
const ORG: &[&str] = &[
    "org",
    "entity",
    "company",
    "enterprise",
    "corp",
    "unit",
    "dept",
    "department",
    "bureau",
    "agency",
    "institution",
    "hospital",
    "school",
    "bank",
    "shop",
    "store",
    "region",
    "district",
    "city",
    "county",
    "province",
    "street",
    "village",
    "project",
    "product",
    "item",
    "file",
    "dataset",
    "resource",
    "catalog",
    "brand",
    "building",
    "table",
    "column",
    "field",
    "rule",
    "单位",
    "机构",
    "企业",
    "公司",
    "部门",
    "名称",
    "医院",
    "学校",
    "银行",
];

/// Endings of a column that holds a person's identifier, masked as one.
const IDENTIFIER_SUFFIX: &[&str] = &[
    "_id",
    "_no",
    "_code",
    "_number",
    "_num",
    "_phone",
    "_tel",
    "_mobile",
    "id_number",
    "号码",
    "编号",
    "代码",
    "身份证号",
    "证件号",
    "电话",
    "手机",
    "手机号",
];

/// Pinyin last words of a column that holds an identifier (身份证号, 证件号码, 电话).
const IDENTIFIER_PINYIN: &[&str] = &["sfzh", "sfzhm", "zjhm", "dh", "lxdh", "sjh", "sjhm"];

const ADDRESS: &[&str] = &["address", "addr", "地址", "住址", "住所"];

/// The words of a column name: snake_case, kebab-case, spaces and camelCase
/// split, lowercase.
fn words(column: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for ch in column.chars() {
        if !ch.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_uppercase() && prev_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
        word.extend(ch.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

impl ColumnKind {
    pub(super) fn of(column: &str) -> ColumnKind {
        let words = words(column);
        // `Legal Rep ID` reads as `legal_rep_id`.
        let snake = words.join("_");
        let has = |list: &[&str]| list.iter().any(|w| snake.contains(w));
        let has_word = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
        // `mother_id`, `legal_rep_no`: identifiers of a person, masked as identifiers.
        let identifier = IDENTIFIER_SUFFIX.iter().any(|s| snake.ends_with(s))
            || words
                .last()
                .is_some_and(|w| IDENTIFIER_PINYIN.contains(&w.as_str()));
        let address_last = ADDRESS.iter().any(|a| snake.ends_with(a));
        let role = has(ROLE_ZH) || has(ROLE_EN) || has_word(ROLE_PINYIN);
        if identifier {
            ColumnKind::Other
        } else if address_last {
            ColumnKind::Address
        } else if role || (has(NAME) && !has(ORG)) {
            ColumnKind::PersonName
        } else if has(ADDRESS) {
            ColumnKind::Address
        } else {
            ColumnKind::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_column_names() {
        assert_eq!(words("legalRepName"), ["legal", "rep", "name"]);
        assert_eq!(words("LXR_XM"), ["lxr", "xm"]);
        assert_eq!(words("单位联系人"), ["单位联系人"]);
        assert_eq!(words("Contact Person"), ["contact", "person"]);
    }

    #[test]
    fn kinds() {
        use ColumnKind::*;
        for (c, want) in [
            ("name", PersonName),
            ("org_name", Other),
            ("单位名称", Other),
            ("entity_name", Other),
            ("单位联系人", PersonName),
            ("企业法定代表人", PersonName),
            ("company_contact", PersonName),
            ("org_legal_rep_name", PersonName),
            ("companyContactName", PersonName),
            ("dw_lxr", PersonName),
            ("qy_fddbr", PersonName),
            ("xingming", PersonName),
            ("lxrXm", PersonName),
            ("fzr", PersonName),
            ("mother_id", Other),
            ("legal_rep_no", Other),
            ("联系人电话", Other),
            ("lxr_sfzh", Other),
            ("address", Address),
            ("联系人地址", Address),
            ("sex_code", Other),
            // Pinyin words match whole, not inside other words.
            ("xmmc", Other),
            ("taxmode", Other),
            ("fzrq", Other),
        ] {
            assert_eq!(ColumnKind::of(c), want, "{c}");
        }
    }
}
