//! String and date comparators for probabilistic matching. They work on
//! `char`s in fixed stack buffers (values longer than [`MAX_CHARS`] are
//! compared on their first `MAX_CHARS` characters) and never allocate.

/// Characters compared per value.
pub const MAX_CHARS: usize = 48;

fn load(s: &str, buf: &mut [char; MAX_CHARS]) -> usize {
    let mut n = 0;
    for c in s.chars().take(MAX_CHARS) {
        buf[n] = c;
        n += 1;
    }
    n
}

/// Jaro–Winkler similarity (prefix scale 0.1, up to 4 characters).
///
/// ```
/// use pipeline::onesource::compare::jaro_winkler;
/// assert!((jaro_winkler("martha", "marhta") - 0.9611).abs() < 1e-3);
/// assert_eq!(jaro_winkler("张伟", "张伟"), 1.0);
/// assert_eq!(jaro_winkler("", "a"), 0.0);
/// ```
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    if a == b {
        return if a.is_empty() { 0.0 } else { 1.0 };
    }
    let mut ab = ['\0'; MAX_CHARS];
    let mut bb = ['\0'; MAX_CHARS];
    let la = load(a, &mut ab);
    let lb = load(b, &mut bb);
    let (a, b) = (&ab[..la], &bb[..lb]);
    let j = jaro(a, b);
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    j + prefix as f64 * 0.1 * (1.0 - j)
}

fn jaro(a: &[char], b: &[char]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut am = [false; MAX_CHARS];
    let mut bm = [false; MAX_CHARS];
    let mut matches = 0usize;
    for (i, &c) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !bm[j] && b[j] == c {
                am[i] = true;
                bm[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut t = 0usize;
    let mut k = 0usize;
    for (i, &c) in a.iter().enumerate() {
        if am[i] {
            while !bm[k] {
                k += 1;
            }
            if c != b[k] {
                t += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (t / 2) as f64) / m) / 3.0
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent
/// transpositions), capped: any distance above `cap` is `cap + 1`.
///
/// ```
/// use pipeline::onesource::compare::osa_distance;
/// assert_eq!(osa_distance("110105194912310021", "110105194912310012", 3), 1);
/// assert_eq!(osa_distance("abc", "xyz", 1), 2);
/// ```
pub fn osa_distance(a: &str, b: &str, cap: usize) -> usize {
    if a == b {
        return 0;
    }
    let mut ab = ['\0'; MAX_CHARS];
    let mut bb = ['\0'; MAX_CHARS];
    let la = load(a, &mut ab);
    let lb = load(b, &mut bb);
    if la.abs_diff(lb) > cap {
        return cap + 1;
    }
    let (a, b) = (&ab[..la], &bb[..lb]);
    // three rolling rows
    let mut prev2 = [0usize; MAX_CHARS + 1];
    let mut prev = [0usize; MAX_CHARS + 1];
    let mut cur = [0usize; MAX_CHARS + 1];
    for (j, p) in prev.iter_mut().enumerate().take(lb + 1) {
        *p = j;
    }
    for i in 1..=la {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=lb {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > cap {
            return cap + 1;
        }
        prev2 = prev;
        prev = cur;
    }
    prev[lb].min(cap + 1)
}

/// Levels of a date comparison of two `yyyymmdd` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateLevel {
    /// Equal.
    Exact,
    /// One digit wrong, two adjacent digits swapped, or month and day swapped.
    Typo,
    /// Same year and month, or within a year with the same month and day.
    Close,
    /// Anything else.
    Different,
}

/// Compares two `yyyymmdd` strings (other strings: equal or different).
pub fn compare_dates(a: &str, b: &str) -> DateLevel {
    if a == b {
        return DateLevel::Exact;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != 8 || b.len() != 8 {
        return DateLevel::Different;
    }
    let mut diff = [0usize; 8];
    let mut nd = 0;
    for i in 0..8 {
        if a[i] != b[i] {
            diff[nd] = i;
            nd += 1;
        }
    }
    let swapped_md = a[..4] == b[..4] && a[4..6] == b[6..8] && a[6..8] == b[4..6];
    let adjacent_swap =
        nd == 2 && diff[1] == diff[0] + 1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]];
    if nd == 1 || adjacent_swap || swapped_md {
        return DateLevel::Typo;
    }
    if a[..6] == b[..6] || a[4..8] == b[4..8] {
        return DateLevel::Close;
    }
    DateLevel::Different
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaro_winkler_reference_values() {
        // Winkler's examples
        assert!((jaro_winkler("dwayne", "duane") - 0.84).abs() < 1e-2);
        assert!((jaro_winkler("dixon", "dicksonx") - 0.813).abs() < 1e-2);
        assert_eq!(jaro_winkler("abc", "xyz"), 0.0);
        assert!(jaro_winkler("买买提艾力", "买买提艾利") > 0.9);
    }

    #[test]
    fn osa_distances() {
        assert_eq!(osa_distance("kitten", "sitting", 5), 3);
        assert_eq!(osa_distance("ca", "ac", 3), 1);
        assert_eq!(osa_distance("", "abc", 5), 3);
        assert_eq!(osa_distance("abcdef", "uvwxyz", 2), 3);
    }

    #[test]
    fn date_levels() {
        assert_eq!(compare_dates("19900102", "19900102"), DateLevel::Exact);
        assert_eq!(compare_dates("19900102", "19900103"), DateLevel::Typo);
        assert_eq!(compare_dates("19900102", "19900201"), DateLevel::Typo);
        assert_eq!(compare_dates("19900112", "19900121"), DateLevel::Typo);
        assert_eq!(compare_dates("19900102", "19900125"), DateLevel::Close);
        assert_eq!(compare_dates("19900102", "19910102"), DateLevel::Typo);
        assert_eq!(compare_dates("19900102", "19850102"), DateLevel::Close);
        assert_eq!(compare_dates("19900102", "19751231"), DateLevel::Different);
    }
}
