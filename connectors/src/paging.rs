//! Paging through a JSON API, for landing (`source::http_api`) and for
//! catalog harvesting (`catalog::json_api`): the query of each page, the
//! guard against APIs that never stop, and whether a response asks for
//! another page.

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
    /// `?page=N&size=S`, N from `start`; ends at a short or empty page.
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
    },
    /// `?offset=K&limit=S`; ends at a short or empty page.
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

impl Paging {
    /// The query parameters of page `page_no` (from 0), given the cursor
    /// the previous response returned.
    pub fn query(&self, page_no: u64, cursor: Option<&str>) -> Vec<(String, String)> {
        match self {
            Paging::None => vec![],
            Paging::Page {
                param,
                size_param,
                size,
                start,
            } => vec![
                (param.clone(), (start + page_no).to_string()),
                (size_param.clone(), size.to_string()),
            ],
            Paging::Offset {
                param,
                limit_param,
                size,
            } => vec![
                (param.clone(), (page_no * *size as u64).to_string()),
                (limit_param.clone(), size.to_string()),
            ],
            Paging::Cursor { param, .. } => cursor
                .map(|c| (param.clone(), c.to_string()))
                .into_iter()
                .collect(),
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

/// Walks the pages of a paged API: the number and query of the next page,
/// and after each response whether there is another.
pub(crate) struct Pager<'a> {
    paging: &'a Paging,
    max_pages: u64,
    page_no: u64,
    cursor: Option<String>,
}

impl<'a> Pager<'a> {
    /// From the first page; at most `max_pages` pages.
    pub(crate) fn new(paging: &'a Paging, max_pages: u64) -> Self {
        Pager {
            paging,
            max_pages,
            page_no: 0,
            cursor: None,
        }
    }

    /// The number (from 0) and query parameters of the next page; `None`
    /// once `max_pages` pages have been read (the API is still paging).
    pub(crate) fn next_page(&self) -> Option<(u64, Vec<(String, String)>)> {
        (self.page_no < self.max_pages).then(|| {
            (
                self.page_no,
                self.paging.query(self.page_no, self.cursor.as_deref()),
            )
        })
    }

    /// Moves past the page just read, which held `records` records in the
    /// response `doc`; true if the API has another page: a full page (page
    /// or offset paging), or a next cursor (`cursor_text` reads it from the
    /// value at `next`) after a page that was not empty.
    pub(crate) fn advance(
        &mut self,
        doc: &serde_json::Value,
        records: usize,
        cursor_text: impl Fn(&serde_json::Value) -> Option<String>,
    ) -> bool {
        self.page_no += 1;
        match self.paging {
            Paging::None => false,
            Paging::Page { size, .. } | Paging::Offset { size, .. } => records >= *size,
            Paging::Cursor { next, .. } => {
                self.cursor = at_path(doc, next).and_then(cursor_text);
                self.cursor.is_some() && records > 0
            }
        }
    }
}
