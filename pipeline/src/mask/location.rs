//! Where a delivery or a catalog record came from, as published: a URL
//! without its user, password, query (tokens travel there) or fragment,
//! and a server path relative to the workspace (or only its last two
//! parts when it lies outside), so that published results name the place
//! a department recognises without giving away credentials or the
//! server's layout (issue #18, 8).

use std::path::Path;

/// `location` (a URL, or a path with an optional `: sheet …`-style
/// suffix) as published; `workspace`: the workspace directory, when known.
///
/// ```
/// use pipeline::mask::location::published;
/// use std::path::Path;
/// let ws = Path::new("/srv/pdq/bureau");
/// assert_eq!(
///     published("https://bob:s3cret@api.example.gov/v1/people?access_token=abc", Some(ws)),
///     "https://api.example.gov/v1/people"
/// );
/// assert_eq!(published("/srv/pdq/bureau/in/gongan/p.csv", Some(ws)), "in/gongan/p.csv");
/// assert_eq!(published("/data/exports/gongan/p.csv", Some(ws)), "…/gongan/p.csv");
/// assert_eq!(published("in/p.csv", Some(ws)), "in/p.csv");
/// ```
pub fn published(location: &str, workspace: Option<&Path>) -> String {
    if let Some((scheme, _)) = location.split_once("://")
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        // A place within the document may follow after a space (`… page 2`).
        let (url, rest) = location
            .split_once(char::is_whitespace)
            .map_or((location, ""), |(u, r)| (u, r));
        let url = match url::Url::parse(url) {
            Ok(mut u) => {
                let _ = u.set_password(None);
                let _ = u.set_username("");
                u.set_query(None);
                u.set_fragment(None);
                u.to_string()
            }
            Err(_) => format!("{scheme}://…"),
        };
        return if rest.is_empty() {
            url
        } else {
            format!("{url} {rest}")
        };
    }
    let path = Path::new(location);
    if !path.is_absolute() {
        return location.to_string();
    }
    if let Some(rel) = workspace.and_then(|w| path.strip_prefix(w).ok()) {
        return rel.display().to_string();
    }
    let parts: Vec<String> = path
        .components()
        .rev()
        .take(2)
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    let tail: Vec<&str> = parts.iter().rev().map(String::as_str).collect();
    format!("…/{}", tail.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_credential_or_server_path_is_published() {
        let ws = Path::new("/srv/pdq/ws");
        for (given, shown) in [
            (
                "s3://key:secret@bucket/dept/x.csv",
                "s3://bucket/dept/x.csv",
            ),
            ("http://h:8080/a?token=t#f", "http://h:8080/a"),
            ("/srv/pdq/ws/in/x.csv", "in/x.csv"),
            ("/home/ops/secret-share/x.csv", "…/secret-share/x.csv"),
            ("delivery 1a2b", "delivery 1a2b"),
            (
                "https://u:p@portal.gov/api/list?key=k page 2 item 5",
                "https://portal.gov/api/list page 2 item 5",
            ),
        ] {
            assert_eq!(published(given, Some(ws)), shown, "{given}");
        }
        assert_eq!(published("/a/b/c.csv", None), "…/b/c.csv");
    }
}
