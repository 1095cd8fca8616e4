//! Masking for published outputs: no full identifier or name of a person
//! ever leaves pdq in a sample, a scorecard or a page (ARCHITECTURE.md,
//! "Privacy by default").
//!
//! - Identifier-like tokens (runs of ASCII or full-width letters and digits):
//!   15 characters or more keep the first 4 and last 4 (`6501**********123X`),
//!   11-digit phone numbers keep 3 and 4 (`138****8000`), other runs of 7–14
//!   digits keep 2 and 2.
//! - Columns that hold a person's name keep only the first character.
//! - Columns that hold an address keep the first 6 characters.
//!
//! Unmasked values are written only with `--failed-rows DIR`, to a directory
//! the operator controls.

/// Masks `value` of column `column` for publication.
///
/// ```
/// use pipeline::mask::mask;
/// assert_eq!(mask("id_number", "65010219900101123X"), "6501**********123X");
/// assert_eq!(mask("phone", "13800138000"), "138****8000");
/// assert_eq!(mask("name", "张三丰"), "张**");
/// assert_eq!(mask("sex_code", "3"), "3");
/// ```
pub fn mask(column: &str, value: &str) -> String {
    let kind = ColumnKind::of(column);
    match kind {
        ColumnKind::PersonName => mask_name(value),
        ColumnKind::Address => mask_address(value),
        ColumnKind::Other => mask_tokens(value),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    PersonName,
    Address,
    Other,
}

impl ColumnKind {
    fn of(column: &str) -> ColumnKind {
        let c = column.to_lowercase();
        const ORG: &[&str] = &[
            "org",
            "entity",
            "company",
            "enterprise",
            "unit",
            "dept",
            "department",
            "单位",
            "机构",
            "企业",
            "公司",
            "部门",
            "名称",
        ];
        const PERSON: &[&str] = &[
            "name",
            "姓名",
            "legal_rep",
            "法定代表人",
            "法人",
            "contact",
            "联系人",
            "spouse",
            "配偶",
            "mother",
            "father",
            "母亲",
            "父亲",
            "applicant",
            "申请人",
            "holder",
            "户主",
            "person",
            "监护人",
            "guardian",
        ];
        const ADDRESS: &[&str] = &["address", "addr", "地址", "住址", "住所"];
        let is_xm = c == "xm" || c.ends_with("_xm");
        // `mother_id`, `legal_rep_no`: identifiers of a person, masked as identifiers.
        let is_identifier = ["_id", "_no", "_code", "id_number", "号码", "编号", "代码"]
            .iter()
            .any(|s| c.ends_with(s));
        if (is_xm || PERSON.iter().any(|p| c.contains(p)))
            && !ORG.iter().any(|o| c.contains(o))
            && !is_identifier
        {
            ColumnKind::PersonName
        } else if ADDRESS.iter().any(|a| c.contains(a)) {
            ColumnKind::Address
        } else {
            ColumnKind::Other
        }
    }
}

fn is_separator(ch: char) -> bool {
    ch.is_whitespace() || matches!(ch, '·' | '•' | '.' | '・' | '-')
}

/// Keeps the first character of a name; every other letter becomes `*`.
fn mask_name(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut first = true;
    for ch in value.chars() {
        if is_separator(ch) {
            out.push(ch);
        } else if first {
            out.push(ch);
            first = false;
        } else {
            out.push('*');
        }
    }
    mask_tokens(&out)
}

/// Keeps the first 6 characters of an address; the rest becomes up to 6 `*`.
fn mask_address(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 6 {
        return mask_tokens(value);
    }
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat((chars.len() - 6).min(6)));
    mask_tokens(&out)
}

fn is_token_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ')
}

fn is_digit(ch: char) -> bool {
    ch.is_ascii_digit() || matches!(ch, '０'..='９')
}

/// Masks the middle of identifier-like tokens.
fn mask_tokens(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_token_char(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_token_char(chars[i]) {
            i += 1;
        }
        let token = &chars[start..i];
        let digits = token.iter().filter(|c| is_digit(**c)).count();
        let (keep_head, keep_tail) = if token.len() >= 15 {
            (4, 4)
        } else if token.len() == 11 && digits == 11 {
            (3, 4)
        } else if (7..=14).contains(&token.len()) && digits >= 7 {
            (2, 2)
        } else {
            (token.len(), 0)
        };
        for (k, ch) in token.iter().enumerate() {
            if k < keep_head || k >= token.len() - keep_tail {
                out.push(*ch);
            } else {
                out.push('*');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(
            mask("id_number", "65010219900101123X"),
            "6501**********123X"
        );
        assert_eq!(mask("x", " 650102900101123 "), " 6501*******1123 ");
        assert_eq!(
            mask("credit_code", "91350100M000100Y43"),
            "9135**********0Y43"
        );
        // Full-width digits are identifiers too.
        assert_eq!(
            mask("id", "６５０１０２１９９００１０１１２３Ｘ"),
            "６５０１**********１２３Ｘ"
        );
        // An identifier inside free text.
        assert_eq!(
            mask("note", "身份证65010219900101123X有误"),
            "身份证6501**********123X有误"
        );
    }

    #[test]
    fn phones_and_short_numbers() {
        assert_eq!(mask("phone", "13800138000"), "138****8000");
        assert_eq!(mask("tel", "0991-1234567"), "0991-12***67");
        assert_eq!(mask("amount", "-12.5"), "-12.5");
        assert_eq!(mask("code", "650102"), "650102");
    }

    #[test]
    fn names_and_addresses() {
        assert_eq!(mask("name", "张三"), "张*");
        assert_eq!(mask("legal_rep", "阿卜杜拉·买买提"), "阿***·***");
        assert_eq!(mask("spouse_name", "Li Wei"), "L* ***");
        // Organisation names are public.
        assert_eq!(mask("org_name", "乌鲁木齐市数据局"), "乌鲁木齐市数据局");
        assert_eq!(
            mask("address", "新疆乌鲁木齐市天山区解放南路1号"),
            "新疆乌鲁木齐******"
        );
        assert_eq!(mask("xm", "王五"), "王*");
        // Identifier columns named after a person keep the identifier masking.
        assert_eq!(
            mask("mother_id", "65010219900101123X"),
            "6501**********123X"
        );
        assert_eq!(
            mask("legal_rep_id", "65010219900101123X"),
            "6501**********123X"
        );
    }
}
