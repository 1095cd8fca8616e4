//! Reconciliation of the catalog with the lake: entries with no data
//! mounted (挂接), landed datasets with no entry (应编尽编), schema drift
//! between an entry's data items and the landed columns, and deliveries
//! late against the declared update frequency — counted in working days
//! where the profile says so, with the holiday calendar (a date past the
//! calendar's last year is an error, never a guess).

use std::collections::{BTreeMap, BTreeSet};

use arrow::datatypes::DataType;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::checks::CatalogFinding;
use super::model::{CatalogEntry, Frequency};
use super::store::CatalogState;
use crate::calendar::{CalendarError, WorkCalendar};
use crate::land::{Lake, LandError, UpdateFrequency};
use crate::profile::DayUnit;
use crate::workspace::Workspace;

/// A column's kind, for comparing declared and landed types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Text.
    Text,
    /// Any number.
    Number,
    /// A date.
    Date,
    /// A date and time.
    Timestamp,
    /// Yes/no.
    Boolean,
}

impl Kind {
    /// The kind an Arrow type lands as.
    pub fn of_arrow(t: &DataType) -> Option<Kind> {
        Some(match t {
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => Kind::Text,
            t if t.is_numeric() => Kind::Number,
            DataType::Date32 | DataType::Date64 => Kind::Date,
            DataType::Timestamp(..) => Kind::Timestamp,
            DataType::Boolean => Kind::Boolean,
            _ => return None,
        })
    }

    /// The kind a data item's 数据类型 declares, and a length written in it
    /// (`VARCHAR2(18)`); None for a type pdq does not recognise.
    pub fn of_declared(t: &str) -> Option<(Kind, Option<usize>)> {
        let t = super::model::half_width(t).to_lowercase();
        let t = t.trim();
        let (base, len) = match t.split_once('(') {
            Some((b, rest)) => (
                b.trim(),
                rest.trim_end_matches(')')
                    .split(',')
                    .next()
                    .and_then(|n| n.trim().parse().ok()),
            ),
            None => (t, None),
        };
        let kind = match base {
            "字符" | "字符型" | "字符串" | "文本" | "文本型" | "varchar" | "varchar2"
            | "nvarchar" | "char" | "string" | "text" | "c" | "clob" | "字符串型" => Kind::Text,
            "数值" | "数值型" | "数字" | "数字型" | "整数" | "整型" | "int" | "integer"
            | "bigint" | "smallint" | "number" | "numeric" | "decimal" | "float" | "double"
            | "n" | "浮点" | "浮点型" | "小数" | "金额" | "int64" | "float64" => {
                Kind::Number
            }
            "日期" | "日期型" | "date" | "d" => Kind::Date,
            "日期时间" | "日期时间型" | "时间" | "时间戳" | "datetime" | "timestamp" | "t" => {
                Kind::Timestamp
            }
            "布尔" | "布尔型" | "逻辑" | "逻辑型" | "boolean" | "bool" | "l" => {
                Kind::Boolean
            }
            _ => return None,
        };
        Some((kind, len))
    }
}

/// A landed column's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LandedColumn {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: Option<Kind>,
    /// The longest value, in characters (text columns).
    pub max_length: Option<i64>,
}

/// What the lake knows of one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LandedDataset {
    /// `department.dataset`.
    pub id: String,
    /// Its department.
    pub department: String,
    /// Its name.
    pub name: String,
    /// Its title.
    pub title: Option<String>,
    /// The resource code it declares (`catalog` in its definition).
    pub catalog: Option<String>,
    /// Landed columns (lineage columns left out); empty if never landed.
    pub columns: Vec<LandedColumn>,
    /// Rows in the current version.
    pub rows: Option<i64>,
    /// The last delivery that landed or was found unchanged.
    pub last_delivery: Option<DateTime<Utc>>,
}

/// Measured facts per dataset and table version: `lake/_pdq/dataset_facts`.
/// A table version is measured once; later sweeps read the facts back,
/// so reconciling thousands of datasets does not reopen thousands of tables.
pub const DATASET_FACTS: &str = crate::tables::DATASET_FACTS.path;

/// One cached measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFacts {
    /// `department.dataset`.
    pub dataset: String,
    /// The data table's version measured.
    pub table_version: i64,
    /// Its rows.
    pub rows: Option<i64>,
    /// Its columns as JSON (`[LandedColumn]`).
    pub columns: String,
    /// When measured.
    pub measured_at: DateTime<Utc>,
}

/// The facts table's schema.
pub fn facts_schema() -> arrow::datatypes::SchemaRef {
    use arrow::datatypes::{Field, Schema, TimeUnit};
    std::sync::Arc::new(Schema::new(vec![
        Field::new("dataset", DataType::Utf8, false),
        Field::new("table_version", DataType::Int64, false),
        Field::new("rows", DataType::Int64, true),
        Field::new("columns", DataType::Utf8, false),
        Field::new(
            "measured_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
}

/// Measures one table's current version: rows, columns and the longest
/// text value of each text column, in one scan.
async fn measure(
    lake: &Lake,
    path: &str,
) -> Result<Option<(i64, Option<i64>, Vec<LandedColumn>)>, LandError> {
    let Some(table) = lake.open_table(path).await? else {
        return Ok(None);
    };
    let version = table.version().map(|v| v as i64).unwrap_or(0);
    let ctx = datafusion::prelude::SessionContext::new();
    lake.register(&ctx, "t", &table).await?;
    let schema = ctx
        .table("t")
        .await
        .map_err(|e| LandError::lake(path, e))?
        .schema()
        .as_arrow()
        .clone();
    let mut exprs = vec!["count(*)".to_string()];
    let mut cols = vec![];
    for f in schema.fields() {
        if f.name().starts_with("_pdq_") {
            continue;
        }
        let kind = Kind::of_arrow(f.data_type());
        if kind == Some(Kind::Text) {
            exprs.push(format!(
                "max(character_length(\"{}\"))",
                f.name().replace('"', "\"\"")
            ));
        }
        cols.push(LandedColumn {
            name: f.name().clone(),
            kind,
            max_length: None,
        });
    }
    let batches = ctx
        .sql(&format!("SELECT {} FROM t", exprs.join(", ")))
        .await
        .map_err(|e| LandError::lake(path, e))?
        .collect()
        .await
        .map_err(|e| LandError::lake(path, e))?;
    let mut rows = None;
    if let Some(b) = batches.first().filter(|b| b.num_rows() > 0) {
        let num = |i: usize| {
            use arrow::array::Array;
            arrow::compute::cast(b.column(i), &DataType::Int64)
                .ok()
                .and_then(|a| {
                    let a = a
                        .as_any()
                        .downcast_ref::<arrow::array::Int64Array>()?
                        .clone();
                    (!a.is_null(0)).then(|| a.value(0))
                })
        };
        rows = num(0);
        let mut i = 1;
        for c in cols.iter_mut() {
            if c.kind == Some(Kind::Text) {
                c.max_length = num(i);
                i += 1;
            }
        }
    }
    Ok(Some((version, rows, cols)))
}

/// Every workspace dataset's facts: schema, rows and longest text values of
/// the current version (measured once per version, then read from
/// [`DATASET_FACTS`]), and the last delivery from the ledger.
pub async fn landed_facts(ws: &Workspace, lake: &Lake) -> Result<Vec<LandedDataset>, LandError> {
    let ledger = crate::land::read_ledger(lake, None).await?;
    let mut last: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let mut version: BTreeMap<String, i64> = BTreeMap::new();
    for d in &ledger {
        if matches!(
            d.status,
            crate::land::DeliveryStatus::Landed | crate::land::DeliveryStatus::Unchanged
        ) {
            let t = last.entry(d.dataset.clone()).or_insert(d.started_at);
            *t = (*t).max(d.started_at);
        }
        if let Some(v) = d.table_version {
            let e = version.entry(d.dataset.clone()).or_insert(v);
            *e = (*e).max(v);
        }
    }
    let cached: Vec<StoredFacts> = lake
        .read_records(DATASET_FACTS, None, "dataset, table_version")
        .await?;
    let cached: BTreeMap<(String, i64), StoredFacts> = cached
        .into_iter()
        .map(|f| ((f.dataset.clone(), f.table_version), f))
        .collect();
    let mut fresh = vec![];
    let mut out = vec![];
    for def in &ws.datasets {
        let id = def.id();
        let mut ds = LandedDataset {
            id: id.clone(),
            department: def.department.clone(),
            name: def.name.clone(),
            title: def.title.clone(),
            catalog: def.catalog.clone(),
            columns: vec![],
            rows: None,
            last_delivery: last.get(&id).copied(),
        };
        let hit = version.get(&id).and_then(|v| cached.get(&(id.clone(), *v)));
        match hit {
            Some(f) => {
                ds.rows = f.rows;
                ds.columns = serde_json::from_str(&f.columns)
                    .map_err(|e| LandError::lake(DATASET_FACTS, format!("{id}: {e}")))?;
            }
            None => {
                if let Some((v, rows, cols)) = measure(lake, &def.data_path()).await? {
                    ds.rows = rows;
                    ds.columns = cols;
                    fresh.push(StoredFacts {
                        dataset: id.clone(),
                        table_version: v,
                        rows,
                        columns: serde_json::to_string(&ds.columns).unwrap_or_default(),
                        measured_at: Utc::now(),
                    });
                }
            }
        }
        out.push(ds);
    }
    if !fresh.is_empty() {
        lake.append_records(DATASET_FACTS, &facts_schema(), &fresh, None)
            .await?;
    }
    Ok(out)
}

/// When the next delivery is due after one on `last`: one period later,
/// in calendar terms (months for monthly and longer, days otherwise); with
/// working days, daily means the next working day, weekly five working
/// days, and a longer period ending on a rest day moves to the next
/// working day.
pub fn due_after(
    last: NaiveDate,
    f: UpdateFrequency,
    unit: DayUnit,
    cal: &WorkCalendar,
) -> Result<NaiveDate, CalendarError> {
    let months = |m: u32| last.checked_add_months(Months::new(m)).unwrap_or(last);
    match (unit, f) {
        (DayUnit::Working, UpdateFrequency::Daily) => cal.add_working_days(last, 1),
        (DayUnit::Working, UpdateFrequency::Weekly) => cal.add_working_days(last, 5),
        (DayUnit::Calendar, UpdateFrequency::Daily) => Ok(last + chrono::Duration::days(1)),
        (DayUnit::Calendar, UpdateFrequency::Weekly) => Ok(last + chrono::Duration::days(7)),
        (unit, f) => {
            let d = months(match f {
                UpdateFrequency::Monthly => 1,
                UpdateFrequency::Quarterly => 3,
                UpdateFrequency::HalfYearly => 6,
                _ => 12,
            });
            match unit {
                DayUnit::Calendar => Ok(d),
                DayUnit::Working => {
                    if cal.is_working_day(d)? {
                        Ok(d)
                    } else {
                        cal.add_working_days(d, 1)
                    }
                }
            }
        }
    }
}

/// Whether a delivery last made on `last` is late on `today`: the due
/// date and the days late, or None. The calendar is consulted only for
/// dates up to `today`: a quarterly delivery in November is not late, and
/// saying so needs no calendar for next year.
pub fn lateness(
    last: NaiveDate,
    f: UpdateFrequency,
    unit: DayUnit,
    cal: &WorkCalendar,
    today: NaiveDate,
) -> Result<Option<(NaiveDate, i64)>, CalendarError> {
    // The earliest the due date can be: n working days are at least n
    // calendar days, and a rest day only moves a due date later.
    let earliest = match f {
        UpdateFrequency::Daily => last + chrono::Duration::days(1),
        UpdateFrequency::Weekly => last + chrono::Duration::days(5),
        UpdateFrequency::Monthly => last.checked_add_months(Months::new(1)).unwrap_or(last),
        UpdateFrequency::Quarterly => last.checked_add_months(Months::new(3)).unwrap_or(last),
        UpdateFrequency::HalfYearly => last.checked_add_months(Months::new(6)).unwrap_or(last),
        UpdateFrequency::Yearly => last.checked_add_months(Months::new(12)).unwrap_or(last),
    };
    if today <= earliest {
        return Ok(None);
    }
    let due = due_after(last, f, unit, cal)?;
    let late = days_late(due, today, unit, cal)?;
    Ok((late > 0).then_some((due, late)))
}

/// What a message adds when a date was counted on a provisional calendar
/// (a year with no holiday notice yet); empty otherwise.
pub fn provisional_note(date: NaiveDate, cal: &WorkCalendar) -> String {
    if cal.is_provisional(date) {
        format!(
            " (provisional: no holiday notice for {} yet, counted with weekends and fixed-date holidays; `pdq calendar import` makes it final)",
            date.year()
        )
    } else {
        String::new()
    }
}

/// Days from `due` to `today` (0 if not past due), working or calendar.
pub fn days_late(
    due: NaiveDate,
    today: NaiveDate,
    unit: DayUnit,
    cal: &WorkCalendar,
) -> Result<i64, CalendarError> {
    if today <= due {
        return Ok(0);
    }
    match unit {
        DayUnit::Calendar => Ok((today - due).num_days()),
        DayUnit::Working => cal.working_days_between(due, today),
    }
}

fn norm(s: &str) -> String {
    super::model::half_width(s).trim().to_lowercase()
}

/// The dataset an entry is mounted to.
pub fn links<'a>(
    entries: &[&'a CatalogEntry],
    datasets: &'a [LandedDataset],
) -> (BTreeMap<String, usize>, BTreeSet<usize>) {
    let by_id: BTreeMap<&str, usize> = datasets
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let by_code: BTreeMap<&str, usize> = datasets
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.catalog.as_deref().map(|c| (c, i)))
        .collect();
    let mut by_title: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, d) in datasets.iter().enumerate() {
        by_title.insert((d.department.as_str(), d.name.as_str()), i);
        if let Some(t) = &d.title {
            by_title.insert((d.department.as_str(), t.as_str()), i);
        }
    }
    let mut link = BTreeMap::new();
    let mut used = BTreeSet::new();
    for e in entries {
        let hit = e
            .dataset
            .as_deref()
            .and_then(|d| by_id.get(d.replace('/', ".").as_str()).copied())
            .or_else(|| {
                e.resource_code
                    .as_deref()
                    .and_then(|c| by_code.get(c).copied())
            })
            .or_else(|| {
                e.name
                    .as_deref()
                    .and_then(|n| by_title.get(&(e.department.as_str(), n)).copied())
            });
        if let Some(i) = hit {
            link.insert(e.key.clone(), i);
            used.insert(i);
        }
    }
    (link, used)
}

/// Reconciles the catalog in force with the landed datasets as of `now`.
pub fn reconcile(
    state: &CatalogState,
    datasets: &[LandedDataset],
    unit: DayUnit,
    cal: &WorkCalendar,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Vec<CatalogFinding>, CalendarError> {
    let mut out = vec![];
    let entries: Vec<&CatalogEntry> = state.current().collect();
    let (link, used) = links(&entries, datasets);
    let today = now.with_timezone(&tz).date_naive();
    let entry_finding = |e: &CatalogEntry,
                         check: &str,
                         field: Option<String>,
                         location: String,
                         message: String| {
        CatalogFinding {
            check: check.into(),
            department: e.department.clone(),
            key: Some(e.key.clone()),
            code: e.resource_code.clone(),
            name: e.name.clone(),
            field,
            location,
            message,
        }
    };
    for e in &entries {
        let Some(&i) = link.get(&e.key) else {
            out.push(entry_finding(
                e,
                "not_mounted",
                None,
                e.location.clone(),
                "no dataset is mounted to this entry (declare `catalog = \"<resource code>\"` in the dataset's definition, or 挂接资源 in the catalog)".into(),
            ));
            continue;
        };
        let ds = &datasets[i];
        let table = format!("lake/data/{}/{}", ds.department, ds.name);
        if ds.columns.is_empty() {
            out.push(entry_finding(
                e,
                "not_mounted",
                None,
                table.clone(),
                format!("mounted to {} but no data has landed", ds.id),
            ));
            continue;
        }
        if !e.items.is_empty() {
            let landed: BTreeMap<String, &LandedColumn> =
                ds.columns.iter().map(|c| (norm(&c.name), c)).collect();
            let mut declared = BTreeSet::new();
            for it in &e.items {
                let Some(col) = it.column_name() else {
                    continue;
                };
                let k = norm(col);
                declared.insert(k.clone());
                let Some(c) = landed.get(&k) else {
                    out.push(entry_finding(
                        e,
                        "schema_missing",
                        Some(col.to_string()),
                        it.location.clone(),
                        format!(
                            "data item `{col}` is catalogued but {} has no such column",
                            ds.id
                        ),
                    ));
                    continue;
                };
                let declared_type = it.data_type.as_deref().and_then(Kind::of_declared);
                if let (Some((dk, _)), Some(lk)) = (declared_type, c.kind)
                    && dk != lk
                {
                    out.push(entry_finding(
                        e,
                        "schema_type",
                        Some(col.to_string()),
                        it.location.clone(),
                        format!(
                            "data item `{col}` is catalogued as {} ({:?}) but lands as {lk:?} in {}",
                            it.data_type.as_deref().unwrap_or(""),
                            dk,
                            ds.id
                        ),
                    ));
                }
                let len = it
                    .length
                    .as_deref()
                    .and_then(|l| l.trim().parse::<usize>().ok())
                    .or(declared_type.and_then(|(_, l)| l));
                if let (Some(len), Some(max)) = (len, c.max_length)
                    && max as usize > len
                {
                    out.push(entry_finding(
                        e,
                        "schema_length",
                        Some(col.to_string()),
                        it.location.clone(),
                        format!("data item `{col}` is catalogued with length {len} but {} holds values of {max} characters", ds.id),
                    ));
                }
            }
            for c in &ds.columns {
                if !declared.contains(&norm(&c.name)) {
                    out.push(entry_finding(
                        e,
                        "schema_extra",
                        Some(c.name.clone()),
                        table.clone(),
                        format!(
                            "column `{}` of {} is not catalogued as a data item",
                            c.name, ds.id
                        ),
                    ));
                }
            }
        }
        // 实时 is checked as daily; 不定期 and 不更新 are never late.
        if let (Some(f), Some(last)) = (
            e.update_frequency
                .as_deref()
                .and_then(Frequency::parse)
                .and_then(|f| f.late_period()),
            ds.last_delivery,
        ) {
            let last_day = last.with_timezone(&tz).date_naive();
            if let Some((due, late)) = lateness(last_day, f, unit, cal, today)? {
                out.push(entry_finding(
                    e,
                    "late_delivery",
                    Some("update_frequency".into()),
                    table.clone(),
                    format!(
                        "declared {}; last delivery {last_day}, next was due {due}: {late} {} late{}",
                        e.update_frequency.as_deref().unwrap_or(""),
                        unit.words(),
                        // Counting to today crosses the provisional year too.
                        provisional_note(due.max(today), cal)
                    ),
                ));
            }
        }
    }
    for (i, ds) in datasets.iter().enumerate() {
        if !used.contains(&i) {
            out.push(CatalogFinding {
                check: "uncatalogued".into(),
                department: ds.department.clone(),
                key: None,
                code: ds.catalog.clone(),
                name: Some(ds.id.clone()),
                field: None,
                location: format!("datasets/{}/{}.toml", ds.department, ds.name),
                message: match &ds.catalog {
                    Some(c) => format!(
                        "{} declares resource code {c}, which no catalog entry in force has",
                        ds.id
                    ),
                    None => format!("{} has no catalog entry (应编尽编)", ds.id),
                },
            });
        }
    }
    Ok(out)
}
