//! The leak scanner: finds what must never be published — a person's full
//! identifier in any written form, or a known person's name — in text, a
//! file or a whole directory of published artefacts.
//!
//! It reads identifiers exactly as the masker does ([`crate::mask`]):
//! groups of letters and digits joined by spaces (U+3000 and NBSP too),
//! zero-width characters, hyphens, dashes or dots, full-width forms read as
//! ASCII. What it reports:
//!
//! - a resident ID with a valid GB 11643 check digit, and a USCC with a valid
//!   GB 32100 check character, anywhere (inside longer runs too);
//! - a mobile number (11 digits starting 1[3-9], optionally after 86 or
//!   0086), and a bank card number of 16–19 digits passing the Luhn check,
//!   written as whole groups;
//! - every occurrence of a name from the list it was given, with separators
//!   and full-width forms ignored (`王 伟`, `阿依古丽·司马义`).
//!
//! Each [`Leak`] names the file, line and column and the kind, and shows the
//! value masked: a failing test never prints what it protects.
//!
//! Files are read as text (HTML, JSON, CSV, XML, DCAT, logs — any UTF-8
//! file); XLSX workbooks by reading every XML part of the archive; Parquet
//! by formatting every value, one line per row. Files that are neither (a
//! PDF) are listed in [`DirScan::unread`], so a caller decides about them.
//!
//! ```
//! use pipeline::leak::{LeakKind, LeakScanner};
//! use pipeline::mask::IdKind;
//!
//! let scanner = LeakScanner::with_names(["王伟"]);
//! let leaks = scanner.scan_text(
//!     "page.html",
//!     "<td>1101 0519 4912 3100 2X</td>\n<td>王 伟</td><td>138-0013-8000</td>",
//! );
//! let kinds: Vec<LeakKind> = leaks.iter().map(|l| l.kind).collect();
//! assert_eq!(
//!     kinds,
//!     [LeakKind::Id(IdKind::ResidentId), LeakKind::Name, LeakKind::Id(IdKind::Mobile)]
//! );
//! // Reported masked, with where it is.
//! assert_eq!(leaks[0].to_string(), "page.html:1:5: resident ID 1101**********002X");
//! assert_eq!(leaks[1].to_string(), "page.html:2:5: name 王*");
//! // What the masker publishes is clean.
//! let masked = pipeline::mask::mask("id_number", "1101 0519 4912 3100 2X");
//! assert!(scanner.scan_text("sample", &masked).is_empty());
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::mask::IdKind;
use crate::mask::written::{self, Chain};

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeakKind {
    /// A full identifier.
    Id(IdKind),
    /// A known person's name.
    Name,
}

impl fmt::Display for LeakKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeakKind::Id(k) => f.write_str(k.as_str()),
            LeakKind::Name => f.write_str("name"),
        }
    }
}

/// One leak: where, what kind, and the value masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// The file (or the name the text was given), with the part of an
    /// archive (`scorecards.xlsx!xl/sharedStrings.xml`).
    pub source: String,
    /// 1-based line (a row, for Parquet).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What was found.
    pub kind: LeakKind,
    /// The value as it may be shown: masked.
    pub masked: String,
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {} {}",
            self.source, self.line, self.column, self.kind, self.masked
        )
    }
}

/// A file the scanner could not read.
#[derive(Debug, thiserror::Error)]
pub enum LeakScanError {
    /// Reading failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A workbook or Parquet file that does not open.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The result of scanning a directory.
#[derive(Debug, Clone, Default)]
pub struct DirScan {
    /// Every leak, by file.
    pub leaks: Vec<Leak>,
    /// Every file scanned.
    pub scanned: Vec<PathBuf>,
    /// Files that are neither text, a workbook nor Parquet (PDF, images):
    /// not scanned.
    pub unread: Vec<PathBuf>,
}

/// Finds identifiers and known names in published text.
#[derive(Debug, Clone, Default)]
pub struct LeakScanner {
    /// Known names, folded, by their first character.
    names: HashMap<char, Vec<Vec<char>>>,
}

/// A character as names are compared: full-width letters and digits as
/// ASCII, ASCII lowercase; `None` for a separator, which is skipped.
fn name_char(ch: char) -> Option<char> {
    if written::is_separator(ch) || matches!(ch, '•' | '‧') {
        return None;
    }
    Some(
        written::fold(ch)
            .map(|b| char::from(b.to_ascii_lowercase()))
            .unwrap_or(ch),
    )
}

impl LeakScanner {
    /// A scanner for identifiers only.
    pub fn new() -> Self {
        LeakScanner::default()
    }

    /// A scanner for identifiers and these persons' names.
    pub fn with_names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut by_first: HashMap<char, Vec<Vec<char>>> = HashMap::new();
        for n in names {
            let folded: Vec<char> = n.as_ref().chars().filter_map(name_char).collect();
            if let Some(first) = folded.first() {
                let list = by_first.entry(*first).or_default();
                if !list.contains(&folded) {
                    list.push(folded);
                }
            }
        }
        // Longest first, so `阿依古丽·司马义` is reported rather than a shorter name inside it.
        for list in by_first.values_mut() {
            list.sort_by_key(|n| std::cmp::Reverse(n.len()));
        }
        LeakScanner { names: by_first }
    }

    /// Every leak in `text`; `source` names it in the findings.
    pub fn scan_text(&self, source: &str, text: &str) -> Vec<Leak> {
        let chars: Vec<char> = text.chars().collect();
        let lines = Lines::new(&chars);
        let mut found: Vec<(usize, LeakKind, String)> = Vec::new();
        for chain in written::chains(&chars) {
            if !chain.decimal {
                identifiers(&chain, &mut found);
            }
        }
        self.names_in(&chars, &mut found);
        found.sort_by_key(|(at, kind, _)| (*at, *kind));
        found
            .into_iter()
            .map(|(at, kind, masked)| {
                let (line, column) = lines.locate(at);
                Leak {
                    source: source.to_string(),
                    line,
                    column,
                    kind,
                    masked,
                }
            })
            .collect()
    }

    fn names_in(&self, chars: &[char], found: &mut Vec<(usize, LeakKind, String)>) {
        if self.names.is_empty() {
            return;
        }
        let (folded, at): (Vec<char>, Vec<usize>) = chars
            .iter()
            .enumerate()
            .filter_map(|(i, c)| name_char(*c).map(|f| (f, i)))
            .unzip();
        let mut k = 0;
        while k < folded.len() {
            let hit = self
                .names
                .get(&folded[k])
                .and_then(|list| list.iter().find(|n| folded[k..].starts_with(n.as_slice())));
            match hit {
                Some(name) => {
                    let masked: String = std::iter::once(name[0])
                        .chain(std::iter::repeat_n('*', name.len() - 1))
                        .collect();
                    found.push((at[k], LeakKind::Name, masked));
                    k += name.len();
                }
                None => k += 1,
            }
        }
    }

    /// Every leak in the file at `path`, or `None` when it is neither text,
    /// a workbook nor Parquet.
    pub fn scan_file(&self, path: &Path) -> Result<Option<Vec<Leak>>, LeakScanError> {
        let io = |source| LeakScanError::Io {
            path: path.to_path_buf(),
            source,
        };
        let shown = path.display().to_string();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "xlsx" | "xlsm" | "docx" | "ods" => {
                let file = std::fs::File::open(path).map_err(io)?;
                self.scan_zip(path, &shown, file).map(Some)
            }
            "parquet" => self.scan_parquet(path, &shown).map(Some),
            _ => {
                let bytes = std::fs::read(path).map_err(io)?;
                Ok(String::from_utf8(bytes)
                    .ok()
                    .map(|text| self.scan_text(&shown, &text)))
            }
        }
    }

    fn scan_zip(
        &self,
        path: &Path,
        shown: &str,
        file: std::fs::File,
    ) -> Result<Vec<Leak>, LeakScanError> {
        let bad = |e: zip::result::ZipError| LeakScanError::Format {
            path: path.to_path_buf(),
            message: format!("not a readable workbook: {e}"),
        };
        let mut archive = zip::ZipArchive::new(file).map_err(bad)?;
        let mut out = Vec::new();
        for i in 0..archive.len() {
            let mut part = archive.by_index(i).map_err(bad)?;
            let name = part.name().map_err(bad)?.into_owned();
            let mut bytes = Vec::new();
            part.read_to_end(&mut bytes)
                .map_err(|source| LeakScanError::Io {
                    path: path.join(&name),
                    source,
                })?;
            // Every part that is text (XML, relationships); images are not.
            if let Ok(text) = String::from_utf8(bytes) {
                out.extend(self.scan_text(&format!("{shown}!{name}"), &text));
            }
        }
        Ok(out)
    }

    fn scan_parquet(&self, path: &Path, shown: &str) -> Result<Vec<Leak>, LeakScanError> {
        use arrow::util::display::{ArrayFormatter, FormatOptions};
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let bad = |e: &dyn fmt::Display| LeakScanError::Format {
            path: path.to_path_buf(),
            message: format!("not readable Parquet: {e}"),
        };
        let file = std::fs::File::open(path).map_err(|source| LeakScanError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| bad(&e))?;
        let mut text = String::new();
        for batch in reader {
            let batch = batch.map_err(|e| bad(&e))?;
            let opts = FormatOptions::default().with_null("");
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(&e))?;
            for row in 0..batch.num_rows() {
                let cells: Vec<String> = formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect();
                text.push_str(&cells.join("\t"));
                text.push('\n');
            }
        }
        Ok(self.scan_text(shown, &text))
    }

    /// Every file under `dir` (recursively, in path order), scanned.
    pub fn scan_dir(&self, dir: &Path) -> Result<DirScan, LeakScanError> {
        let mut files = Vec::new();
        walk(dir, &mut files)?;
        files.sort();
        let mut out = DirScan::default();
        for f in files {
            match self.scan_file(&f)? {
                Some(leaks) => {
                    out.leaks.extend(leaks);
                    out.scanned.push(f);
                }
                None => out.unread.push(f),
            }
        }
        Ok(out)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LeakScanError> {
    let io = |source| LeakScanError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for e in std::fs::read_dir(dir).map_err(io)? {
        let p = e.map_err(io)?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Full identifiers in one chain: (char index, kind, masked form).
fn identifiers(chain: &Chain, found: &mut Vec<(usize, LeakKind, String)>) {
    let Some(last) = chain.groups.len().checked_sub(1) else {
        return;
    };
    let (joined, at) = chain.joined(0, last);
    let mut covered = vec![false; joined.len()];
    for (r, kind) in written::resident_ids(&joined) {
        found.push((
            at[r.start],
            LeakKind::Id(kind),
            masked(&joined[r.clone()], kind),
        ));
        covered[r].fill(true);
    }
    // Where each group starts in the joined form.
    let mut offsets = Vec::with_capacity(chain.groups.len());
    let mut n = 0;
    for g in &chain.groups {
        offsets.push(n);
        n += g.text.len();
    }
    let kind_of = |j: &[u8]| {
        if written::shape(j) == Some(IdKind::Mobile) {
            Some(IdKind::Mobile)
        } else if j.iter().all(u8::is_ascii_digit)
            && (16..=written::MAX_JOINED).contains(&j.len())
            && written::luhn(j)
        {
            Some(IdKind::BankCard)
        } else {
            None
        }
    };
    for (from, to, kind) in written::shaped_windows(chain, 1, kind_of) {
        let start = offsets[from];
        let end = offsets[to] + chain.groups[to].text.len();
        if covered[start..end].iter().any(|c| *c) {
            continue;
        }
        found.push((
            at[start],
            LeakKind::Id(kind),
            masked(&joined[start..end], kind),
        ));
    }
}

/// The joined form of an identifier, masked for a message.
fn masked(j: &[u8], kind: IdKind) -> String {
    let (head, tail) = written::kept(kind, j.len());
    j.iter()
        .enumerate()
        .map(|(k, b)| {
            if k < head || k + tail >= j.len() {
                char::from(*b)
            } else {
                '*'
            }
        })
        .collect()
}

/// Line and column of a char index.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(chars: &[char]) -> Self {
        let mut starts = vec![0];
        starts.extend(
            chars
                .iter()
                .enumerate()
                .filter(|(_, c)| **c == '\n')
                .map(|(i, _)| i + 1),
        );
        Lines { starts }
    }

    fn locate(&self, at: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|s| *s <= at);
        (line, at - self.starts[line - 1] + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<LeakKind> {
        LeakScanner::with_names(["王伟", "阿依古丽·司马义"])
            .scan_text("t", text)
            .iter()
            .map(|l| l.kind)
            .collect()
    }

    const ID: LeakKind = LeakKind::Id(IdKind::ResidentId);
    const USCC: LeakKind = LeakKind::Id(IdKind::Uscc);
    const MOBILE: LeakKind = LeakKind::Id(IdKind::Mobile);
    const CARD: LeakKind = LeakKind::Id(IdKind::BankCard);

    #[test]
    fn identifiers_in_every_written_form() {
        for text in [
            "11010519491231002X",
            "x 11010519491231002x y",
            "ID11010519491231002X",
            "1101 0519 4912 3100 2X",
            "110105-19491231-002X",
            "110105.19491231.002X",
            "１１０１０５１９４９１２３１００２Ｘ",
            "1101\u{200b}0519\u{200b}4912\u{200b}3100\u{200b}2X",
            "110105\u{3000}19491231\u{3000}002X",
            "110105 1949-12-31 002X",
        ] {
            assert_eq!(kinds(text), [ID], "{text:?}");
        }
        assert_eq!(kinds("91350100M000100Y43"), [USCC]);
        assert_eq!(kinds("9135 0100 M000 100Y 43"), [USCC]);
        for text in [
            "13800138000",
            "138 0013 8000",
            "138-0013-8000",
            "１３８－００１３－８０００",
            "+86 138 0013 8000",
            "电话13800138000。",
        ] {
            assert_eq!(kinds(text), [MOBILE], "{text:?}");
        }
        assert_eq!(kinds("4539 5787 6362 1486"), [CARD]);
        assert_eq!(kinds("4539-5787-6362-1487"), []);
    }

    #[test]
    fn masked_output_and_ordinary_numbers_are_clean() {
        for text in [
            "6501**********123X",
            "138****8000",
            "1101 **** **** **10 2X",
            "2026-11-20T08:00:00+08:00",
            "2024-01-01 — 2024-12-31",
            "\"score\": 87.53333333333333,",
            "\"pass_rate\": 0.466666",
            "a3f5e9d0c1b2",
            "_delta_log/00000000000000000001.json",
            "650102",
        ] {
            assert_eq!(kinds(text), [], "{text:?}");
        }
    }

    #[test]
    fn names_with_separators_and_locations() {
        assert_eq!(kinds("联系人：王 伟"), [LeakKind::Name]);
        assert_eq!(kinds("阿依古丽 · 司马义"), [LeakKind::Name]);
        assert_eq!(kinds("王*"), []);
        let leaks = LeakScanner::with_names(["王伟"]).scan_text("f.csv", "a,b\nx,王伟\n");
        assert_eq!(leaks[0].to_string(), "f.csv:2:3: name 王*");
    }

    #[test]
    fn directories_workbooks_and_parquet() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("site")).unwrap();
        std::fs::write(dir.path().join("site/a.html"), "<p>138 0013 8000</p>").unwrap();
        std::fs::write(dir.path().join("b.pdf"), [0xff, 0xfe, 0x00]).unwrap();
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write(0, 0, "王伟").unwrap();
        sheet.write(1, 0, "1101-0519-4912-3100-2X").unwrap();
        book.save(dir.path().join("c.xlsx")).unwrap();
        let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("v", arrow::datatypes::DataType::Utf8, true),
        ]));
        let batch = arrow::record_batch::RecordBatch::try_new(
            schema.clone(),
            vec![std::sync::Arc::new(arrow::array::StringArray::from(vec![
                Some("ok"),
                None,
                Some("13800138000"),
            ]))],
        )
        .unwrap();
        let file = std::fs::File::create(dir.path().join("d.parquet")).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();

        let scan = LeakScanner::with_names(["王伟"])
            .scan_dir(dir.path())
            .unwrap();
        let got: Vec<(String, LeakKind)> = scan
            .leaks
            .iter()
            .map(|l| {
                let file = l.source.rsplit(['/', '\\']).next().unwrap_or_default();
                (file.to_string(), l.kind)
            })
            .collect();
        assert!(got.contains(&("a.html".into(), MOBILE)), "{got:?}");
        // The workbook's parts are named after it: `c.xlsx!xl/sharedStrings.xml`.
        let in_book = |k: LeakKind| {
            got.iter()
                .any(|(f, kind)| *kind == k && f.ends_with(".xml"))
        };
        assert!(in_book(LeakKind::Name), "{got:?}");
        assert!(in_book(ID), "{got:?}");
        assert!(scan.leaks.iter().any(|l| l.source.contains("c.xlsx!xl/")));
        let parquet: Vec<&Leak> = scan
            .leaks
            .iter()
            .filter(|l| l.source.ends_with("d.parquet"))
            .collect();
        assert_eq!(parquet.len(), 1);
        assert_eq!((parquet[0].line, parquet[0].kind), (3, MOBILE));
        assert_eq!(scan.unread, [dir.path().join("b.pdf")]);
        assert_eq!(scan.scanned.len(), 3);
    }
}
