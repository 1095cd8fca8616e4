//! Paging through a JSON API, for landing (`source::http_api`) and for
//! catalog harvesting (`catalog::json_api`): the query of each page, the
//! guard against APIs that never stop, and whether a response asks for
//! another page.
//!
//! Portals cap the page size (asked 100, sent 20) and state a total, so a
//! short page is not taken for the end (issue #19, 6):
//!
//! ```text
//! response ─▶ records on this page, stated total, next link
//!   empty page ──────────────────────────────▶ end
//!   next link (same host) ───────────────────▶ GET the link
//!   full page ───────────────────────────────▶ next page
//!   short page, received < stated total ─────▶ next page
//!   short page, no total or total reached ───▶ end
//! end with received < stated total ─────────▶ `Pager::shortfall` (an error for callers)
//! ```
//!
//! The total is read at the configured `total` path, else at the usual keys
//! ([`TOTAL_KEYS`] under [`TOTAL_PARENTS`]); the next link at the configured
//! `next` path, else at [`NEXT_PATHS`]. Offsets advance by the records
//! actually received, not by page number × size.

use serde::{Deserialize, Serialize};

fn page_param() -> String {
    "page".into()
}
fn size_param() -> String {
    "size".into()
}
fn offset_param() -> String {
    "offset".into()
}
fn limit_param() -> String {
    "limit".into()
}
fn cursor_param() -> String {
    "cursor".into()
}
fn hundred() -> usize {
    100
}
fn one() -> u64 {
    1
}

/// How the API pages its records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields)]
pub enum Paging {
    /// One response holds everything.
    #[default]
    None,
    /// `?page=N&size=S`, N from `start`; ends at an empty page, or at a
    /// short one once the stated total is reached (none stated: at a short
    /// page).
    Page {
        /// Page number parameter.
        #[serde(default = "page_param")]
        param: String,
        /// Page size parameter.
        #[serde(default = "size_param")]
        size_param: String,
        /// Records per page.
        #[serde(default = "hundred")]
        size: usize,
        /// The first page's number.
        #[serde(default = "one")]
        start: u64,
        /// Dotted path of the stated total number of records (`data.total`);
        /// none: the usual keys are looked for.
        #[serde(default)]
        total: Option<String>,
        /// Dotted path of a link to the next page (`links.next`); none: the
        /// usual places are looked at.
        #[serde(default)]
        next: Option<String>,
    },
    /// `?offset=K&limit=S`, K the records received so far; ends as `page`.
    Offset {
        /// Offset parameter.
        #[serde(default = "offset_param")]
        param: String,
        /// Limit parameter.
        #[serde(default = "limit_param")]
        limit_param: String,
        /// Records per page.
        #[serde(default = "hundred")]
        size: usize,
        /// Dotted path of the stated total number of records; none: the
        /// usual keys are looked for.
        #[serde(default)]
        total: Option<String>,
        /// Dotted path of a link to the next page; none: the usual places
        /// are looked at.
        #[serde(default)]
        next: Option<String>,
    },
    /// `?cursor=C`, C taken from each response at `next`; ends when absent or empty.
    Cursor {
        /// Cursor parameter.
        #[serde(default = "cursor_param")]
        param: String,
        /// Dotted path of the next cursor in a response.
        next: String,
    },
}

/// Keys at which APIs state the total number of records, looked for under
/// each of [`TOTAL_PARENTS`] (CKAN's is `result.count`).
pub const TOTAL_KEYS: &[&str] = &[
    "total",
    "totalCount",
    "total_count",
    "totalElements",
    "totalRecords",
    "total_records",
    "recordsTotal",
    "totalNum",
    "totalSize",
    "totalRows",
    "recordCount",
    "count",
];

/// Where [`TOTAL_KEYS`] are looked for: the top level, then these objects.
pub const TOTAL_PARENTS: &[&str] = &["", "data", "result", "page", "pagination", "meta"];

/// Where APIs put a link to the next page (CKAN/DRF `next`, JSON:API
/// `links.next`, HAL `_links.next.href`, Hydra `hydra:view.hydra:next`).
pub const NEXT_PATHS: &[&str] = &[
    "next",
    "links.next",
    "_links.next.href",
    "pagination.next",
    "meta.next",
    "result.next",
    "hydra:next",
    "hydra:view.hydra:next",
    "view.next",
];

impl Paging {
    /// The query parameters of page `page_no` (from 0) after `received`
    /// records, given the cursor the previous response returned. Offsets
    /// count the records received, so a portal that sends fewer than asked
    /// loses none.
    ///
    /// ```
    /// use connectors::paging::Paging;
    /// let p: Paging = serde_json::from_str(r#"{"style": "offset", "size": 100}"#).unwrap();
    /// // Asked 100, the portal sent 20: the next page starts at 20.
    /// assert_eq!(
    ///     p.query(1, 20, None),
    ///     [("offset".to_string(), "20".to_string()), ("limit".to_string(), "100".to_string())]
    /// );
    /// ```
    pub fn query(
        &self,
        page_no: u64,
        received: u64,
        cursor: Option<&str>,
    ) -> Vec<(String, String)> {
        match self {
            Paging::None => vec![],
            Paging::Page {
                param,
                size_param,
                size,
                start,
                ..
            } => vec![
                (param.clone(), (start + page_no).to_string()),
                (size_param.clone(), size.to_string()),
            ],
            Paging::Offset {
                param,
                limit_param,
                size,
                ..
            } => vec![
                (param.clone(), received.to_string()),
                (limit_param.clone(), size.to_string()),
            ],
            Paging::Cursor { param, .. } => cursor
                .map(|c| (param.clone(), c.to_string()))
                .into_iter()
                .collect(),
        }
    }

    /// The total number of records a response states: at the configured
    /// `total` path, else at the first of [`TOTAL_KEYS`] under
    /// [`TOTAL_PARENTS`] holding a whole number (or digits as text).
    ///
    /// ```
    /// use connectors::paging::Paging;
    /// let doc = serde_json::json!({"result": {"count": 57, "results": []}});
    /// assert_eq!(Paging::None.stated_total(&doc), Some(57));
    /// ```
    pub fn stated_total(&self, doc: &serde_json::Value) -> Option<u64> {
        let number = |v: &serde_json::Value| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        };
        if let Paging::Page {
            total: Some(path), ..
        }
        | Paging::Offset {
            total: Some(path), ..
        } = self
        {
            return at_path(doc, path).and_then(number);
        }
        TOTAL_PARENTS.iter().find_map(|parent| {
            let obj = at_path(doc, parent)?.as_object()?;
            TOTAL_KEYS.iter().find_map(|k| obj.get(*k).and_then(number))
        })
    }

    /// The link to the next page a response carries: at the configured
    /// `next` path, else at the first of [`NEXT_PATHS`] holding a URL (an
    /// absolute one, or one starting with `/` or `?`). Cursor paging has no
    /// links (its `next` is a cursor).
    pub fn next_link<'v>(&self, doc: &'v serde_json::Value) -> Option<&'v str> {
        let link = |v: &'v serde_json::Value| {
            v.as_str().map(str::trim).filter(|s| {
                s.starts_with("http://")
                    || s.starts_with("https://")
                    || s.starts_with('/')
                    || s.starts_with('?')
            })
        };
        match self {
            Paging::Cursor { .. } => None,
            Paging::Page {
                next: Some(path), ..
            }
            | Paging::Offset {
                next: Some(path), ..
            } => at_path(doc, path).and_then(link),
            _ => NEXT_PATHS
                .iter()
                .find_map(|p| at_path(doc, p).and_then(link)),
        }
    }
}

/// The value at a dotted path (`data.list`; empty = the value itself).
pub(crate) fn at_path<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    if path.is_empty() {
        return Some(v);
    }
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// The request for one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageRequest {
    /// Its number, from 0.
    pub(crate) page_no: u64,
    /// The URL to get: the configured one, or the next link the previous
    /// response gave (then `query` is empty: the link carries its own).
    pub(crate) url: String,
    /// Query parameters to add.
    pub(crate) query: Vec<(String, String)>,
}

/// Walks the pages of a paged API: the request of the next page, and after
/// each response whether there is another; at the end, whether fewer
/// records came than the API stated.
pub(crate) struct Pager<'a> {
    paging: &'a Paging,
    base: &'a str,
    max_pages: u64,
    page_no: u64,
    received: u64,
    total: Option<u64>,
    cursor: Option<String>,
    link: Option<String>,
}

impl<'a> Pager<'a> {
    /// From the first page of `base` (the configured URL, against which
    /// relative next links are resolved); at most `max_pages` pages.
    pub(crate) fn new(paging: &'a Paging, base: &'a str, max_pages: u64) -> Self {
        Pager {
            paging,
            base,
            max_pages,
            page_no: 0,
            received: 0,
            total: None,
            cursor: None,
            link: None,
        }
    }

    /// The request of the next page; `None` once `max_pages` pages have
    /// been read (the API is still paging).
    pub(crate) fn next_page(&self) -> Option<PageRequest> {
        (self.page_no < self.max_pages).then(|| match &self.link {
            Some(url) => PageRequest {
                page_no: self.page_no,
                url: url.clone(),
                query: vec![],
            },
            None => PageRequest {
                page_no: self.page_no,
                url: self.base.to_string(),
                query: self
                    .paging
                    .query(self.page_no, self.received, self.cursor.as_deref()),
            },
        })
    }

    /// Moves past the page just read, which held `records` records in the
    /// response `doc`; true if the API has another page (see the module
    /// docs). `cursor_text` reads a cursor from the value at `next`.
    pub(crate) fn advance(
        &mut self,
        doc: &serde_json::Value,
        records: usize,
        cursor_text: impl Fn(&serde_json::Value) -> Option<String>,
    ) -> bool {
        self.page_no += 1;
        self.received += records as u64;
        if let Some(t) = self.paging.stated_total(doc) {
            self.total = Some(t);
        }
        self.link = None;
        if let Paging::Cursor { next, .. } = self.paging {
            self.cursor = at_path(doc, next).and_then(cursor_text);
            return self.cursor.is_some() && records > 0;
        }
        if records == 0 {
            return false;
        }
        if let Some(link) = self.paging.next_link(doc).and_then(|l| self.same_origin(l)) {
            self.link = Some(link);
            return true;
        }
        match self.paging {
            Paging::Page { size, .. } | Paging::Offset { size, .. } => {
                records >= *size || self.total.is_some_and(|t| self.received < t)
            }
            _ => false,
        }
    }

    /// A next link resolved against the base URL, if it stays on the same
    /// scheme, host and port: a token is never sent to another host.
    fn same_origin(&self, link: &str) -> Option<String> {
        let base = url::Url::parse(self.base).ok()?;
        let to = base.join(link).ok()?;
        if to.origin() == base.origin() {
            Some(to.to_string())
        } else {
            tracing::warn!(base = %crate::source::secret::redact_url(self.base), link = %crate::source::secret::redact_url(to.as_str()), "next link leads to another host; not followed");
            None
        }
    }

    /// Pages read so far.
    pub(crate) fn pages(&self) -> u64 {
        self.page_no
    }

    /// At the end: `(received, stated total)` when fewer records came than
    /// the API stated; the harvest or delivery must then fail, not pass a
    /// truncated set as whole.
    pub(crate) fn shortfall(&self) -> Option<(u64, u64)> {
        self.total
            .filter(|t| self.received < *t)
            .map(|t| (self.received, t))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paging(v: serde_json::Value) -> Paging {
        serde_json::from_value(v).unwrap()
    }

    fn no_cursor(_: &serde_json::Value) -> Option<String> {
        None
    }

    #[test]
    fn a_capped_page_size_is_not_the_end_when_a_total_is_stated() {
        // Asked 100, the portal sends 20 of 57.
        let p = paging(json!({"style": "offset", "size": 100}));
        let mut pager = Pager::new(&p, "http://portal/api", 100);
        let page = |n: usize| json!({"data": {"total": 57, "list": vec![json!({}); n]}});
        assert_eq!(
            pager.next_page().unwrap().query[0],
            ("offset".into(), "0".into())
        );
        assert!(pager.advance(&page(20), 20, no_cursor));
        assert_eq!(
            pager.next_page().unwrap().query[0],
            ("offset".into(), "20".into()),
            "offsets advance by the records received, not by page × size"
        );
        assert!(pager.advance(&page(20), 20, no_cursor));
        assert_eq!(
            pager.next_page().unwrap().query[0],
            ("offset".into(), "40".into())
        );
        assert!(
            !pager.advance(&page(17), 17, no_cursor),
            "57 of 57: the end"
        );
        assert_eq!(pager.shortfall(), None);
        assert_eq!(pager.pages(), 3);
    }

    #[test]
    fn a_missing_last_page_is_a_shortfall() {
        let p = paging(json!({"style": "page", "size": 20}));
        let mut pager = Pager::new(&p, "http://portal/api", 100);
        let page = |n: usize| json!({"totalCount": "57", "rows": vec![json!({}); n]});
        assert!(pager.advance(&page(20), 20, no_cursor));
        assert!(pager.advance(&page(20), 20, no_cursor));
        assert_eq!(
            pager.next_page().unwrap().query,
            [("page".into(), "3".into()), ("size".into(), "20".into())]
        );
        assert!(!pager.advance(&page(0), 0, no_cursor), "an empty page ends");
        assert_eq!(pager.shortfall(), Some((40, 57)));
    }

    #[test]
    fn without_a_total_a_short_page_ends_and_a_full_one_continues() {
        let p = paging(json!({"style": "page", "size": 20}));
        let mut pager = Pager::new(&p, "http://portal/api", 100);
        let doc = json!({"list": []});
        assert!(pager.advance(&doc, 20, no_cursor));
        assert!(!pager.advance(&doc, 7, no_cursor));
        assert_eq!(pager.shortfall(), None);
        // A full page continues even when a (per-page) count says it is reached.
        let mut pager = Pager::new(&p, "http://portal/api", 100);
        assert!(pager.advance(&json!({"count": 20}), 20, no_cursor));
    }

    #[test]
    fn the_total_is_read_at_the_configured_path_or_the_usual_keys() {
        let auto = Paging::None;
        assert_eq!(
            auto.stated_total(&json!({"result": {"count": 57}})),
            Some(57)
        );
        assert_eq!(
            auto.stated_total(&json!({"data": {"totalElements": 9}})),
            Some(9)
        );
        assert_eq!(
            auto.stated_total(&json!({"pagination": {"total": "12"}})),
            Some(12)
        );
        assert_eq!(
            auto.stated_total(&json!({"recordsTotal": 3, "data": []})),
            Some(3)
        );
        assert_eq!(
            auto.stated_total(&json!({"total": "many", "list": []})),
            None
        );
        let set = paging(json!({"style": "page", "total": "body.n"}));
        assert_eq!(
            set.stated_total(&json!({"total": 5, "body": {"n": 8}})),
            Some(8)
        );
        assert_eq!(
            set.stated_total(&json!({"total": 5})),
            None,
            "only the configured path"
        );
    }

    #[test]
    fn next_links_are_followed_on_the_same_host_only() {
        let p = Paging::None;
        let mut pager = Pager::new(&p, "http://portal/api/list?k=1", 100);
        let doc = json!({"count": 3, "next": "/api/list?k=1&page=2", "results": [{}, {}]});
        assert!(pager.advance(&doc, 2, no_cursor));
        let req = pager.next_page().unwrap();
        assert_eq!(req.url, "http://portal/api/list?k=1&page=2");
        assert!(req.query.is_empty(), "the link carries its own query");
        // A link to another host is not followed (a token would go with it);
        // the API stated 3, 2 came: a shortfall.
        let doc =
            json!({"count": 3, "links": {"next": "http://elsewhere/api?page=3"}, "results": []});
        assert!(!pager.advance(&doc, 0, no_cursor));
        let mut pager = Pager::new(&p, "http://portal/api", 100);
        assert!(!pager.advance(
            &json!({"links": {"next": "http://elsewhere/x"}}),
            2,
            no_cursor
        ));
        assert_eq!(pager.next_page().unwrap().url, "http://portal/api");
        // A configured path; `next` as a page number is no link.
        let set = paging(json!({"style": "page", "size": 50, "next": "paging.after"}));
        assert_eq!(
            set.next_link(&json!({"paging": {"after": "?page=2"}})),
            Some("?page=2")
        );
        assert_eq!(Paging::None.next_link(&json!({"next": 2})), None);
    }

    #[test]
    fn cursors_still_end_when_absent() {
        let p = paging(json!({"style": "cursor", "next": "meta.cursor"}));
        let mut pager = Pager::new(&p, "http://portal/api", 100);
        let text = |v: &serde_json::Value| v.as_str().map(String::from);
        assert!(pager.advance(&json!({"meta": {"cursor": "abc"}}), 5, text));
        assert_eq!(
            pager.next_page().unwrap().query,
            [("cursor".into(), "abc".into())]
        );
        assert!(!pager.advance(&json!({"meta": {}}), 5, text));
    }
}
