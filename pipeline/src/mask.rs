//! Masking for published outputs: no full identifier or name of a person
//! ever leaves pdq in a sample, a scorecard or a page (ARCHITECTURE.md,
//! "Privacy by default").
//!
//! - Identifiers however they are written: spaces, zero-width characters,
//!   hyphens, dashes and dots between groups of digits, full-width forms
//!   ([`written`]). A resident ID, USCC or bank card keeps its first 4 and
//!   last 4 characters (`6501 **** **** **12 34`), a mobile number its first
//!   3 and last 4 (`138-****-8000`); the separators stay where they were.
//!   Dates, times, amounts and short codes stay as written.
//! - Other identifier-like tokens (runs of ASCII or full-width letters and
//!   digits): 15 characters or more keep the first 4 and last 4, 11-digit
//!   numbers keep 3 and 4, other runs of 7–14 digits keep 2 and 2.
//! - Columns that hold a person's name keep only the first character
//!   ([`columns`]): any column whose name carries a person's role (联系人,
//!   法定代表人, contact, `lxr` …), whatever else it says.
//! - Columns that hold an address keep the first 6 characters.
//!
//! Unmasked values are written only with `--failed-rows DIR`, to a directory
//! the operator controls.

mod columns;
pub mod location;
pub(crate) mod written;

use columns::ColumnKind;
pub use written::IdKind;

/// Masks `value` of column `column` for publication.
///
/// ```
/// use pipeline::mask::mask;
/// assert_eq!(mask("id_number", "65010219900101123X"), "6501**********123X");
/// assert_eq!(mask("id_number", "6501 0219 9001 0112 3X"), "6501 **** **** **12 3X");
/// assert_eq!(mask("phone", "13800138000"), "138****8000");
/// assert_eq!(mask("phone", "138-0013-8000"), "138-****-8000");
/// assert_eq!(mask("name", "张三丰"), "张**");
/// assert_eq!(mask("单位联系人", "张三丰"), "张**");
/// assert_eq!(mask("org_name", "乌鲁木齐市数据局"), "乌鲁木齐市数据局");
/// assert_eq!(mask("updated_at", "2024-01-01 12:00:00"), "2024-01-01 12:00:00");
/// assert_eq!(mask("sex_code", "3"), "3");
/// ```
pub fn mask(column: &str, value: &str) -> String {
    match ColumnKind::of(column) {
        ColumnKind::PersonName => mask_name(value),
        ColumnKind::Address => mask_address(value),
        ColumnKind::Other => mask_tokens(value),
    }
}

/// Separators inside a name (`阿卜杜拉·买买提`, `Li Wei`): kept as written.
fn is_name_separator(ch: char) -> bool {
    written::is_separator(ch) || matches!(ch, '•' | '‧')
}

/// Keeps the first character of a name; every other letter becomes `*`.
fn mask_name(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut first = true;
    for ch in value.chars() {
        if is_name_separator(ch) {
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

/// Masks only identifiers — a resident ID, USCC, mobile or bank card
/// number, written with separators or not — in free text whose other
/// numbers must stay readable: harvested catalog text, with its resource
/// codes, volumes and dates.
///
/// ```
/// use pipeline::mask::mask_identifiers;
/// assert_eq!(
///     mask_identifiers("联系电话 138-0013-8000，约 1234567 条，A0101-0001"),
///     "联系电话 138-****-8000，约 1234567 条，A0101-0001"
/// );
/// ```
pub fn mask_identifiers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut hide = vec![false; chars.len()];
    for chain in written::chains(&chars) {
        hide_identifiers(&chain, 1, &mut hide);
    }
    apply(&chars, &hide)
}

/// Hides the middle of every identifier in `chain`: windows of at least
/// `min_groups` groups with an identifier's shape, and whatever still reads
/// as a valid resident ID or USCC (its digits split across a date, say).
/// Returns which groups were part of a shaped window.
fn hide_identifiers(chain: &written::Chain, min_groups: usize, hide: &mut [bool]) -> Vec<bool> {
    let mut grouped = vec![false; chain.groups.len()];
    for (from, to, kind) in written::shaped_windows(chain, min_groups, written::shape) {
        let (_, at) = chain.joined(from, to);
        let (head, tail) = written::kept(kind, at.len());
        for &c in &at[head..at.len() - tail] {
            hide[c] = true;
        }
        grouped[from..=to].fill(true);
    }
    if !chain.decimal && !chain.groups.is_empty() {
        let (joined, at) = chain.joined(0, chain.groups.len() - 1);
        for (r, _) in written::resident_ids(&joined) {
            if at[r.clone()].iter().all(|c| !hide[*c]) {
                for &c in &at[r.start + 4..r.end - 4] {
                    hide[c] = true;
                }
            }
        }
    }
    grouped
}

fn apply(chars: &[char], hide: &[bool]) -> String {
    chars
        .iter()
        .zip(hide)
        .map(|(ch, h)| if *h { '*' } else { *ch })
        .collect()
}

/// Masks identifiers, written with separators or not, and the middle of
/// other identifier-like tokens.
fn mask_tokens(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut hide = vec![false; chars.len()];
    for chain in written::chains(&chars) {
        // Identifiers written across groups (`6501 0219 …`, `138-0013-8000`).
        let grouped = hide_identifiers(&chain, 2, &mut hide);
        // Other tokens, one by one.
        for (g, _) in chain
            .groups
            .iter()
            .zip(&grouped)
            .filter(|(_, done)| !**done)
        {
            let len = g.text.len();
            let digits = g.text.iter().filter(|b| b.is_ascii_digit()).count();
            let (head, tail) = if len >= 15 {
                (4, 4)
            } else if len == 11 && digits == 11 {
                (3, 4)
            } else if (7..=14).contains(&len) && digits >= 7 {
                (2, 2)
            } else {
                (len, 0)
            };
            hide[g.chars.start + head..g.chars.end - tail].fill(true);
        }
    }
    apply(&chars, &hide)
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
    #[test]
    fn identifiers_written_with_separators() {
        // Spaced, hyphenated, dotted, with ideographic and no-break spaces.
        for (written, masked) in [
            ("6501 0219 8001 0112 34", "6501 **** **** **12 34"),
            ("650102-19900101-123X", "6501**-********-123X"),
            ("650102 19900101 123X", "6501** ******** 123X"),
            ("6501.0219.9001.0112.3X", "6501.****.****.**12.3X"),
            (
                "6501\u{3000}0219\u{3000}9001\u{3000}0112\u{3000}3X",
                "6501\u{3000}****\u{3000}****\u{3000}**12\u{3000}3X",
            ),
            (
                "6501\u{a0}0219\u{a0}9001\u{a0}0112\u{a0}3X",
                "6501\u{a0}****\u{a0}****\u{a0}**12\u{a0}3X",
            ),
            ("650102 — 19900101 — 123X", "6501** — ******** — 123X"),
        ] {
            assert_eq!(mask("id_number", written), masked, "{written}");
        }
        // Zero-width characters between the digits.
        assert_eq!(
            mask("note", "6501\u{200b}0219\u{200c}9001\u{200d}0112\u{2060}3X"),
            "6501\u{200b}****\u{200c}****\u{200d}**12\u{2060}3X"
        );
        assert_eq!(
            mask("note", "65010219\u{feff}90010112\u{feff}3X"),
            "6501****\u{feff}******12\u{feff}3X"
        );
        // Full-width digits and full-width hyphens.
        assert_eq!(
            mask("id_number", "６５０１０２－１９９００１０１－１２３Ｘ"),
            "６５０１**－********－１２３Ｘ"
        );
        // Inside free text, next to Chinese.
        assert_eq!(
            mask("remark", "身份证6501 0219 9001 0112 3X有误"),
            "身份证6501 **** **** **12 3X有误"
        );
        // A USCC in groups, upper or lower case.
        assert_eq!(
            mask("credit_code", "9135 0100 M000 100Y 43"),
            "9135 **** **** **0Y 43"
        );
        assert_eq!(
            mask("credit_code", "9135-0100-m000-100y-43"),
            "9135-****-****-**0y-43"
        );
        // The legal representative's ID, whatever the column is called.
        assert_eq!(
            mask("legal_rep_id", "6501 0219 9001 0112 3X"),
            "6501 **** **** **12 3X"
        );
    }

    #[test]
    fn phones_and_bank_cards_written_with_separators() {
        for (written, masked) in [
            ("138 0013 8000", "138 **** 8000"),
            ("138-0013-8000", "138-****-8000"),
            ("138.0013.8000", "138.****.8000"),
            ("１３８　００１３　８０００", "１３８　****　８０００"),
            ("138\u{200b}0013\u{200b}8000", "138\u{200b}****\u{200b}8000"),
            ("+86 138 0013 8000", "+86 138 **** 8000"),
            ("0086-138-0013-8000", "0086-138-****-8000"),
            ("(+86) 138 0013 8000", "(+86) 138 **** 8000"),
        ] {
            assert_eq!(mask("联系电话", written), masked, "{written}");
        }
        assert_eq!(
            mask("card", "6222 0212 3456 7890 123"),
            "6222 **** **** ***0 123"
        );
        assert_eq!(mask("card", "6222-0212-3456-7890"), "6222-****-****-7890");
        assert_eq!(
            mask("card", "６２２２ ０２１２ ３４５６ ７８９０"),
            "６２２２ **** **** ７８９０"
        );
    }

    #[test]
    fn ordinary_values_stay_as_written() {
        for v in [
            "2024-01-01",
            "2024.01.01",
            "2024-01-01 12:00:00",
            "2024-01-01 12:00:00.123456",
            "2024-01-01T12:00:00+08:00",
            "2024-01-01 — 2024-12-31",
            "12:30",
            "-12.5",
            "12.5",
            "1234.56",
            "0.466666",
            "1 234 567.50",
            "650102",
            "J123456",
            "0991-",
            "第 3 页",
        ] {
            assert_eq!(mask("value", v), v, "{v}");
        }
    }

    #[test]
    fn names_in_columns_that_mention_an_organisation() {
        assert_eq!(mask("单位联系人", "王伟"), "王*");
        assert_eq!(mask("企业法定代表人", "阿依古丽·司马义"), "阿***·***");
        assert_eq!(mask("company_contact", "Li Wei"), "L* ***");
        assert_eq!(mask("org_legal_rep_name", "张三丰"), "张**");
        assert_eq!(mask("单位负责人", "李娜"), "李*");
        assert_eq!(mask("企业联系人姓名", "赵敏"), "赵*");
        assert_eq!(mask("unitContactPerson", "周杰"), "周*");
        // A name with a phone number in the same cell.
        assert_eq!(
            mask("单位联系人", "王伟 138-0013-8000"),
            "王* ***-****-****"
        );
        // Organisation names stay public.
        assert_eq!(mask("单位名称", "乌鲁木齐市数据局"), "乌鲁木齐市数据局");
        assert_eq!(
            mask("entity_name", "乌鲁木齐科技有限公司"),
            "乌鲁木齐科技有限公司"
        );
    }

    #[test]
    fn names_in_pinyin_columns() {
        for c in [
            "xm",
            "XM",
            "xingming",
            "lxr",
            "lianxiren",
            "fddbr",
            "fadingdaibiaoren",
            "fzr",
            "fuzeren",
            "jbr",
            "sqr",
            "dw_lxr",
            "qyFddbr",
            "lxr_xm",
            "hzxm",
        ] {
            assert_eq!(mask(c, "王伟"), "王*", "{c}");
        }
        // Whole words only: `xmmc` (项目名称) and `fzrq` are not names.
        assert_eq!(mask("xmmc", "数据治理"), "数据治理");
        assert_eq!(mask("fzrq", "2024-01-01"), "2024-01-01");
    }

    #[test]
    fn identifiers_only_in_free_text() {
        assert_eq!(
            mask_identifiers(
                "法人 6501 0219 9001 0112 3X，电话 13800138000，卡号 6222021234567890"
            ),
            "法人 6501 **** **** **12 3X，电话 138****8000，卡号 6222********7890"
        );
        // Codes, volumes, dates and amounts stay readable.
        for v in [
            "A0101-0001",
            "约 1234567 条",
            "2024-03-05",
            "1704038400000",
            "-12.5",
        ] {
            assert_eq!(mask_identifiers(v), v);
        }
    }
}
