//! HTML helpers shared by every page pdq writes (the site, the evaluation
//! report, `pdq check --format html`): one escaping function, so that no
//! page escapes differently from another.

/// Escapes text for HTML element content and quoted attribute values.
///
/// ```
/// use pipeline::html::esc;
/// assert_eq!(esc("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
/// assert_eq!(esc("公安局"), "公安局");
/// ```
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
