//! Reading a platform export: CSV (UTF-8, with or without a BOM, or
//! GB18030) with a header row, or JSON lines (one object per line). Each
//! record keeps its line; a header or key no [`Element`] names is reported
//! as unmapped and ignored. A line that cannot be read refuses the file:
//! `FILE line N: what was expected`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Element, Quarantined, UsageError, UsageRow};

/// The export's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }
}

/// One record as read: its line, each element's text (absent: the export
/// has no such column or key), and the record as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its (first) line, 1-based.
    pub line: i64,
    /// Element → (the column as the file names it, the text).
    pub values: BTreeMap<Element, (String, String)>,
    /// The record as written.
    pub raw: String,
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// CSV or JSON lines.
    pub format: Format,
    /// Its records.
    pub records: Vec<Record>,
    /// Headers or keys no element names.
    pub unmapped: Vec<String>,
}

fn bad<T>(file: &str, line: i64, what: impl std::fmt::Display) -> Result<T, UsageError> {
    Err(UsageError::Invalid(format!("{file} line {line}: {what}")))
}

/// The text of a file: UTF-8 (a BOM dropped), else GB18030.
fn text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// Reads an export; `file` names it in errors. JSON lines when its first
/// non-blank character is `{`, else CSV.
pub fn read(bytes: &[u8], file: &str) -> Result<Export, UsageError> {
    let text = text(bytes);
    if text.trim_start().starts_with('{') {
        json_lines(&text, file)
    } else {
        csv(&text, file)
    }
}

fn json_lines(text: &str, file: &str) -> Result<Export, UsageError> {
    let mut records = vec![];
    let mut unmapped: Vec<String> = vec![];
    for (i, l) in text.lines().enumerate() {
        let line = i as i64 + 1;
        if l.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(l.trim()) {
            Ok(v) => v,
            Err(e) => {
                return bad(
                    file,
                    line,
                    format!("not a JSON object ({e}); expected one object per line"),
                );
            }
        };
        let Some(obj) = v.as_object() else {
            return bad(
                file,
                line,
                "not a JSON object; expected one object per line",
            );
        };
        let mut values = BTreeMap::new();
        for (k, v) in obj {
            let Some(e) = Element::of_header(k) else {
                if !unmapped.contains(k) {
                    unmapped.push(k.clone());
                }
                continue;
            };
            let t = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => other.to_string(),
            };
            if values.insert(e, (k.clone(), t)).is_some() {
                return bad(
                    file,
                    line,
                    format!("two keys for {} ({}); expected one", e.key(), e.zh()),
                );
            }
        }
        records.push(Record {
            line,
            values,
            raw: l.trim().to_string(),
        });
    }
    Ok(Export {
        format: Format::JsonLines,
        records,
        unmapped,
    })
}

/// RFC 4180 fields: quoted fields may hold commas, quotes (`""`) and line
/// breaks. Each row with the line it starts on.
fn csv_rows(text: &str, file: &str) -> Result<Vec<(i64, Vec<String>, String)>, UsageError> {
    let mut rows = vec![];
    let mut line = 1i64;
    let mut start = 1i64;
    let mut field = String::new();
    let mut fields: Vec<String> = vec![];
    let mut raw = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if (quoted || c != '\n') && c != '\r' {
            raw.push(c);
        }
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    raw.push('"');
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                    rows.push((start, std::mem::take(&mut fields), std::mem::take(&mut raw)));
                }
                fields.clear();
                raw.clear();
                line += 1;
                start = line;
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return bad(
            file,
            start,
            "a quoted field is not closed; expected a closing \"",
        );
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        if !(fields.len() == 1 && fields[0].trim().is_empty()) {
            rows.push((start, fields, raw));
        }
    }
    Ok(rows)
}

fn csv(text: &str, file: &str) -> Result<Export, UsageError> {
    let mut rows = csv_rows(text, file)?.into_iter();
    let Some((_, header, _)) = rows.next() else {
        return Ok(Export {
            format: Format::Csv,
            records: vec![],
            unmapped: vec![],
        });
    };
    let mut columns: Vec<Option<Element>> = vec![];
    let mut unmapped = vec![];
    for h in &header {
        let e = Element::of_header(h);
        if let Some(e) = e
            && columns.contains(&Some(e))
        {
            return bad(
                file,
                1,
                format!(
                    "two columns for {} ({}): `{}`; expected one",
                    e.key(),
                    e.zh(),
                    h.trim()
                ),
            );
        }
        if e.is_none() && !h.trim().is_empty() {
            unmapped.push(h.trim().to_string());
        }
        columns.push(e);
    }
    for need in [Element::When, Element::Consumer, Element::Resource] {
        if !columns.contains(&Some(need)) {
            return bad(
                file,
                1,
                format!(
                    "no column for {} ({}); expected a header such as {}",
                    need.key(),
                    need.zh(),
                    need.headers()
                        .iter()
                        .filter(|h| !h.is_ascii())
                        .take(2)
                        .chain(need.headers().iter().take(1))
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
    let mut records = vec![];
    for (line, fields, raw) in rows {
        if fields.len() != header.len() {
            return bad(
                file,
                line,
                format!(
                    "{} fields, the header has {}; expected one field per column",
                    fields.len(),
                    header.len()
                ),
            );
        }
        let values = columns
            .iter()
            .zip(&header)
            .zip(fields)
            .filter_map(|((e, h), v)| e.map(|e| (e, (h.trim().to_string(), v))))
            .collect();
        records.push(Record { line, values, raw });
    }
    Ok(Export {
        format: Format::Csv,
        records,
        unmapped,
    })
}

/// A time as exports write it: RFC 3339, `YYYY-MM-DD HH:MM[:SS]`,
/// `YYYY/MM/DD HH:MM[:SS]`, or a day (its midnight), in `tz` unless it
/// says its offset.
///
/// ```
/// use pipeline::usage::parse::time;
/// let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
/// assert_eq!(time("2026-03-01 09:30", tz).unwrap().to_rfc3339(), "2026-03-01T01:30:00+00:00");
/// assert!(time("2026-13-01", tz).is_none());
/// ```
pub fn time(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    .or_else(|| {
        ["%Y-%m-%d", "%Y/%m/%d"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

/// Where a record goes: a row, or the quarantine with its reason.
/// `known` tells whether a dataset or catalog entry is the workspace's.
pub fn classify(
    r: &Record,
    import: &str,
    file: &str,
    imported_at: DateTime<Utc>,
    tz: Tz,
    known: &dyn Fn(&str) -> bool,
) -> Result<UsageRow, Box<Quarantined>> {
    let quarantine = |column: &str, reason: String| {
        Box::new(Quarantined {
            import: import.to_string(),
            file: file.to_string(),
            line: r.line,
            column: column.to_string(),
            reason: format!("{file} line {}, column {column}: {reason}", r.line),
            raw: r.raw.clone(),
            imported_at,
        })
    };
    let get = |e: Element| -> Option<String> {
        r.values
            .get(&e)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let column = |e: Element| -> String {
        r.values
            .get(&e)
            .map(|(c, _)| c.clone())
            .unwrap_or_else(|| e.key().to_string())
    };
    let Some(when) = get(Element::When) else {
        return Err(quarantine(
            &column(Element::When),
            "blank; expected when the data was used (使用时间)".into(),
        ));
    };
    let Some(at) = time(&when, tz) else {
        return Err(quarantine(
            &column(Element::When),
            format!("`{when}` is not a time; expected YYYY-MM-DD HH:MM[:SS] or RFC 3339"),
        ));
    };
    let Some(consumer) = get(Element::Consumer) else {
        return Err(quarantine(
            &column(Element::Consumer),
            "blank; expected the consuming department (使用部门)".into(),
        ));
    };
    let Some(resource) = get(Element::Resource) else {
        return Err(quarantine(
            &column(Element::Resource),
            "blank; expected the dataset or catalog entry used (数据资源)".into(),
        ));
    };
    if !known(&resource) {
        return Err(quarantine(
            &column(Element::Resource),
            format!(
                "`{resource}` is not a dataset or catalog entry of this workspace; expected DEPT.NAME, an entry's key or its resource code"
            ),
        ));
    }
    let mut row = UsageRow {
        hash: String::new(),
        import: import.to_string(),
        file: file.to_string(),
        line: r.line,
        at,
        consumer,
        resource,
        purpose: get(Element::Purpose),
        operator: get(Element::Operator),
        scenario: get(Element::Scenario),
        outcome: get(Element::Outcome),
        process: get(Element::Process),
        quantity: get(Element::Quantity),
        interface: get(Element::Interface),
        storage: get(Element::Storage),
        disposal: get(Element::Disposal),
        imported_at,
    };
    row.hash = row.content_hash();
    Ok(row)
}
