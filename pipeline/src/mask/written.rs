//! Identifiers as people write them: groups of letters and digits (full-width
//! forms read as their ASCII forms) separated by spaces, zero-width
//! characters, hyphens, dashes or dots — `6501 0219 8001 0112 34`,
//! `138-0013-8000`, `６５０１…`. The masker and the leak scanner
//! ([`crate::leak`]) read text through this one module, so whatever the
//! scanner would call an identifier, the masker has masked.
//!
//! Two things written with separators are never identifiers: a decimal
//! number (two digit groups around one dot, `87.53333333333333`) and a
//! date (`2024-01-01`, `2024.01.01`): a date never joins other groups into
//! an identifier's shape, so `2024-01-01 12:00:00` or a date range stays as
//! written. (A resident ID that happens to contain a date written with
//! hyphens still has its check digit, which [`resident_ids`] finds.)

use std::ops::Range;

/// The longest run of separators that still joins two groups (` - `).
const MAX_GAP: usize = 3;

/// The longest joined form any identifier shape has (a 19-digit bank card).
pub(crate) const MAX_JOINED: usize = 19;

/// A character as identifiers read it: ASCII letters and digits as they are,
/// full-width ones as their ASCII forms, `None` for anything else.
pub(crate) fn fold(ch: char) -> Option<u8> {
    match ch {
        '0'..='9' | 'A'..='Z' | 'a'..='z' => Some(ch as u8),
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => u8::try_from(u32::from(ch) - 0xFEE0).ok(),
        _ => None,
    }
}

/// Characters that may stand between the groups of a written identifier:
/// white space (including U+3000 and NBSP), zero-width characters, hyphens
/// and dashes, dots and middle dots.
pub(crate) fn is_separator(ch: char) -> bool {
    ch.is_whitespace()
        || matches!(
            ch,
            '\u{200B}'..='\u{200D}'
                | '\u{2060}'
                | '\u{FEFF}'
                | '-'
                | '\u{2010}'..='\u{2015}'
                | '\u{2212}'
                | '\u{FF0D}'
                | '.'
                | '\u{FF0E}'
                | '\u{00B7}'
                | '\u{30FB}'
        )
}

/// A maximal run of letters and digits.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Where it is, in chars of the text.
    pub chars: Range<usize>,
    /// Its characters, folded to ASCII.
    pub text: Vec<u8>,
    /// Part of a written date (`2024-01-01`): never joined into an identifier.
    pub in_date: bool,
}

impl Group {
    fn all_digits(&self) -> bool {
        self.text.iter().all(u8::is_ascii_digit)
    }
}

/// Groups joined by short runs of separators: where one written identifier
/// can be.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chain {
    /// Its groups, in order.
    pub groups: Vec<Group>,
    /// A decimal number (`12.5`): holds no identifier.
    pub decimal: bool,
}

impl Chain {
    /// The joined form of groups `from..=to` and, per joined character, its
    /// char index in the text.
    pub(crate) fn joined(&self, from: usize, to: usize) -> (Vec<u8>, Vec<usize>) {
        let mut text = Vec::new();
        let mut at = Vec::new();
        for g in &self.groups[from..=to] {
            text.extend_from_slice(&g.text);
            at.extend(g.chars.clone());
        }
        (text, at)
    }
}

/// The chains of `chars`, in order.
pub(crate) fn chains(chars: &[char]) -> Vec<Chain> {
    let mut out = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    // gaps[k] stands between groups[k] and groups[k + 1].
    let mut gaps: Vec<Vec<char>> = Vec::new();
    // The separators since the last group, and whether only separators came.
    let mut gap: Vec<char> = Vec::new();
    let mut gap_joins = true;
    let mut i = 0;
    while i < chars.len() {
        let Some(first) = fold(chars[i]) else {
            if is_separator(chars[i]) {
                gap.push(chars[i]);
            } else {
                gap_joins = false;
            }
            i += 1;
            continue;
        };
        let start = i;
        let mut text = vec![first];
        i += 1;
        while let Some(b) = chars.get(i).and_then(|c| fold(*c)) {
            text.push(b);
            i += 1;
        }
        if !groups.is_empty() {
            if gap_joins && gap.len() <= MAX_GAP {
                gaps.push(std::mem::take(&mut gap));
            } else {
                out.push(finish(std::mem::take(&mut groups), &gaps));
                gaps.clear();
            }
        }
        groups.push(Group {
            chars: start..i,
            text,
            in_date: false,
        });
        gap.clear();
        gap_joins = true;
    }
    if !groups.is_empty() {
        out.push(finish(groups, &gaps));
    }
    out
}

/// A chain of `groups`, with its dates and decimal numbers marked.
fn finish(mut groups: Vec<Group>, gaps: &[Vec<char>]) -> Chain {
    let is_dot = |g: &[char]| matches!(g, ['.'] | ['\u{FF0E}']);
    let decimal = groups.len() == 2 && is_dot(&gaps[0]) && groups.iter().all(Group::all_digits);
    for k in 0..groups.len().saturating_sub(2) {
        let same_gap = gaps[k] == gaps[k + 1] && gaps[k].len() == 1;
        let (y, m, d) = (&groups[k], &groups[k + 1], &groups[k + 2]);
        if same_gap
            && [y, m, d].iter().all(|g| g.all_digits())
            && (y.text.len(), m.text.len(), d.text.len()) == (4, 2, 2)
            && is_date(&y.text, &m.text, &d.text)
        {
            for g in &mut groups[k..k + 3] {
                g.in_date = true;
            }
        }
    }
    Chain { groups, decimal }
}

fn number(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
}

fn is_date(y: &[u8], m: &[u8], d: &[u8]) -> bool {
    (1900..=2099).contains(&number(y))
        && (1..=12).contains(&number(m))
        && (1..=31).contains(&number(d))
}

/// The kinds of personal identifier pdq recognises in written text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdKind {
    /// 公民身份号码 (GB 11643).
    ResidentId,
    /// 统一社会信用代码 (GB 32100).
    Uscc,
    /// A mainland mobile number, with or without +86.
    Mobile,
    /// A bank card number (16–19 digits).
    BankCard,
}

impl IdKind {
    /// A short name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::ResidentId => "resident ID",
            IdKind::Uscc => "USCC",
            IdKind::Mobile => "mobile number",
            IdKind::BankCard => "bank card number",
        }
    }
}

/// How many leading and trailing joined characters stay readable.
pub(crate) fn kept(kind: IdKind, len: usize) -> (usize, usize) {
    match kind {
        // A prefix (86, 0086) stays with the first three digits.
        IdKind::Mobile => (len - 11 + 3, 4),
        _ => (4, 4),
    }
}

fn uscc_char(b: u8) -> bool {
    quality_rules::ids::uscc::value(b.to_ascii_uppercase()).is_some()
}

fn is_mobile(d: &[u8]) -> bool {
    let body = match d.len() {
        11 => d,
        13 if d.starts_with(b"86") => &d[2..],
        15 if d.starts_with(b"0086") => &d[4..],
        _ => return false,
    };
    body[0] == b'1' && (b'3'..=b'9').contains(&body[1]) && body.iter().all(u8::is_ascii_digit)
}

/// The identifier shape of a joined form, if it has one: a resident ID (17
/// digits and a digit or X, or 15 digits), a USCC (18 characters of its
/// alphabet, digits at positions 3–8), a mobile number (11 digits starting
/// 1[3-9], optionally after 86 or 0086), a bank card (16–19 digits).
pub(crate) fn shape(j: &[u8]) -> Option<IdKind> {
    let digits = j.iter().all(u8::is_ascii_digit);
    if is_mobile(j) {
        return Some(IdKind::Mobile);
    }
    if (j.len() == 18
        && j[..17].iter().all(u8::is_ascii_digit)
        && matches!(j[17], b'0'..=b'9' | b'X' | b'x'))
        || (j.len() == 15 && digits)
    {
        return Some(IdKind::ResidentId);
    }
    if j.len() == 18 && j.iter().all(|b| uscc_char(*b)) && j[2..8].iter().all(u8::is_ascii_digit) {
        return Some(IdKind::Uscc);
    }
    if digits && (16..=MAX_JOINED).contains(&j.len()) {
        return Some(IdKind::BankCard);
    }
    None
}

/// True for a digit string passing the Luhn check (bank cards).
pub(crate) fn luhn(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (k, b) in d.iter().rev().enumerate() {
        let mut v = u32::from(b.wrapping_sub(b'0'));
        if v > 9 {
            return false;
        }
        if k % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Windows of whole groups (`from..=to`) of a chain that `classify` calls an
/// identifier (the masker: [`shape`]; the scanner: shapes with a valid
/// check): from each group, the longest such window, then on after it. With
/// `min_groups` 2, single groups are left to the caller.
pub(crate) fn shaped_windows(
    chain: &Chain,
    min_groups: usize,
    classify: impl Fn(&[u8]) -> Option<IdKind>,
) -> Vec<(usize, usize, IdKind)> {
    let mut out = Vec::new();
    if chain.decimal {
        return out;
    }
    let mut from = 0;
    while from < chain.groups.len() {
        let mut best = None;
        let mut joined: Vec<u8> = Vec::new();
        for to in from..chain.groups.len() {
            let g = &chain.groups[to];
            if g.in_date {
                break;
            }
            joined.extend_from_slice(&g.text);
            if joined.len() > MAX_JOINED {
                break;
            }
            if to + 1 - from >= min_groups
                && let Some(kind) = classify(&joined)
            {
                best = Some((to, kind));
            }
        }
        match best {
            Some((to, kind)) => {
                out.push((from, to, kind));
                from = to + 1;
            }
            None => from += 1,
        }
    }
    out
}

/// A province code (11–82) and a birth date that could be one: what tells a
/// resident ID from a zero-padded counter (`000000000000000001`) whose
/// check digit happens to fit.
fn plausible_resident_id(w: &[u8]) -> bool {
    (11..=82).contains(&number(&w[..2]))
        && (1800..=2099).contains(&number(&w[6..10]))
        && (1..=12).contains(&number(&w[10..12]))
        && (1..=31).contains(&number(&w[12..14]))
}

/// Resident IDs (with a plausible province and birth date) and USCCs with a
/// valid check character anywhere in a chain's joined form (inside longer
/// runs too): positions in the joined form.
pub(crate) fn resident_ids(joined: &[u8]) -> Vec<(Range<usize>, IdKind)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k + 18 <= joined.len() {
        let w: Vec<u8> = joined[k..k + 18]
            .iter()
            .map(u8::to_ascii_uppercase)
            .collect();
        let kind = if w[..17].iter().all(u8::is_ascii_digit)
            && plausible_resident_id(&w)
            && quality_rules::ids::resident_id::check_digit(&w[..17]) == Some(w[17])
        {
            Some(IdKind::ResidentId)
        } else if quality_rules::ids::uscc::validate(&w).is_ok() {
            Some(IdKind::Uscc)
        } else {
            None
        };
        match kind {
            Some(kind) => {
                out.push((k..k + 18, kind));
                k += 18;
            }
            None => k += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups_of(s: &str) -> Vec<Vec<String>> {
        let chars: Vec<char> = s.chars().collect();
        chains(&chars)
            .iter()
            .map(|c| {
                c.groups
                    .iter()
                    .map(|g| String::from_utf8_lossy(&g.text).into_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn chains_join_short_separator_runs() {
        assert_eq!(
            groups_of("6501 0219\u{200B}8001－0112．34"),
            [["6501", "0219", "8001", "0112", "34"]]
        );
        assert_eq!(groups_of("１３８ 0013"), [["138", "0013"]]);
        // Anything but a separator, or a long run of them, breaks the chain.
        assert_eq!(groups_of("138:0013"), [["138"], ["0013"]]);
        assert_eq!(groups_of("138    0013"), [["138"], ["0013"]]);
        assert_eq!(groups_of("138, 0013"), [["138"], ["0013"]]);
    }

    #[test]
    fn dates_and_decimals_are_marked() {
        let chars: Vec<char> = "87.53333333333333".chars().collect();
        assert!(chains(&chars)[0].decimal);
        let chars: Vec<char> = "2024-01-01 12".chars().collect();
        let c = &chains(&chars)[0];
        assert!(c.groups[..3].iter().all(|g| g.in_date) && !c.groups[3].in_date);
        let chars: Vec<char> = "6501.0219.8001".chars().collect();
        assert!(!chains(&chars)[0].decimal);
    }

    #[test]
    fn shapes() {
        assert_eq!(shape(b"65010219900101123X"), Some(IdKind::ResidentId));
        assert_eq!(shape(b"650102900101123"), Some(IdKind::ResidentId));
        assert_eq!(shape(b"91350100M000100Y43"), Some(IdKind::Uscc));
        assert_eq!(shape(b"13800138000"), Some(IdKind::Mobile));
        assert_eq!(shape(b"8613800138000"), Some(IdKind::Mobile));
        assert_eq!(shape(b"008613800138000"), Some(IdKind::Mobile));
        assert_eq!(shape(b"6222021234567890123"), Some(IdKind::BankCard));
        assert_eq!(shape(b"09911234567"), None);
        assert_eq!(shape(b"20240101"), None);
        assert!(luhn(b"4539578763621486"));
        assert!(!luhn(b"4539578763621487"));
    }
}
