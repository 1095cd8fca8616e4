//! The check stage of a sweep: a dataset's rule file over what is in the
//! lake (its last landed version, even when tonight's delivery failed: the
//! data officers see the state of their data), samples traced back to the
//! delivered file and line, and the report kept in the lake
//! (`_pdq/check_reports`, exactly as published).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use quality_rules::RuleFile;

use crate::land::{
    DatasetDef, DeliveryRecord, DeliveryStatus, Lake, LandError, LoadMode, read_ledger,
};
use crate::outputs::{self, StageOutput};
use crate::run::Step;
use crate::score::RuleCount;
use crate::workspace::Workspace;
use crate::{CheckOptions, CheckReport};

/// Each run's check report per dataset.
pub const REPORTS: &str = crate::tables::CHECK_REPORTS.path;

/// What checking one dataset gave.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The report.
    pub report: CheckReport,
    /// The rule counts scoring reads.
    pub counts: Vec<RuleCount>,
}

/// Checks dataset `d` as a step of run `run_id`; `None` when the dataset
/// has no rule file. `ledger`: the dataset's delivery records as they are
/// now (the land step's, see [`crate::land::step::land_step`]); read from
/// the lake when not given.
pub async fn check_step(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    d: &DatasetDef,
    ledger: Option<&[DeliveryRecord]>,
    as_of: DateTime<FixedOffset>,
) -> Option<(Step, Option<Checked>)> {
    let rules_path = d.rules.as_ref()?;
    let mut step = Step::start(run_id, "check", &d.id());
    match check_landed(ws, lake, d, ledger, &ws.dir.join(rules_path), as_of).await {
        Ok((report, version)) => {
            step.rows = Some(report.rows as i64);
            step.inputs = serde_json::json!({"table_version": version, "rules_version": report.rules_version}).to_string();
            step.outputs = serde_json::json!({"rules": report.results.len(), "fail": report.count(quality_rules::Status::Fail)}).to_string();
            let counts = rule_counts(d, &report, run_id, as_of.with_timezone(&Utc), version);
            Some((step.finish(), Some(Checked { report, counts })))
        }
        Err(e) => {
            step.fail(e);
            Some((step.finish(), None))
        }
    }
}

/// A report's results as rule counts.
pub fn rule_counts(
    d: &DatasetDef,
    report: &CheckReport,
    run_id: &str,
    as_of: DateTime<Utc>,
    table_version: Option<i64>,
) -> Vec<RuleCount> {
    report
        .results
        .iter()
        .map(|r| RuleCount {
            run_id: run_id.to_string(),
            as_of,
            dataset: d.id(),
            department: d.department.clone(),
            rule: r.id.clone(),
            dimension: r.dimension.as_str().to_string(),
            check: r.check.to_string(),
            evaluated: r.evaluated as i64,
            failed: r.failed as i64,
            status: r.status.as_str().to_string(),
            rules_version: report.rules_version.clone(),
            table_version,
        })
        .collect()
}

/// Keeps a run's reports (by dataset) in the lake.
pub async fn record_reports(
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
    reports: &[(DatasetDef, CheckReport)],
) -> Result<(), LandError> {
    let rows: Vec<StageOutput> = reports
        .iter()
        .map(|(d, r)| StageOutput {
            run_id: run_id.into(),
            as_of,
            subject: d.id(),
            document: r.to_json(),
        })
        .collect();
    outputs::record(lake, REPORTS, &rows).await
}

/// A stored report: the dataset's latest up to a run.
#[derive(Debug, Clone)]
pub struct StoredReport {
    /// The run that checked it.
    pub run_id: String,
    /// The report as published (JSON).
    pub json: String,
    /// The report.
    pub report: CheckReport,
}

/// For every dataset of the workspace, its report from the latest run up
/// to `run_id` that checked it, by dataset id.
pub async fn latest_reports(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
) -> Result<Vec<(DatasetDef, StoredReport)>, LandError> {
    let mut by_id: HashMap<String, StageOutput> = outputs::latest(lake, REPORTS, run_id)
        .await?
        .into_iter()
        .map(|o| (o.subject.clone(), o))
        .collect();
    let mut out = vec![];
    for d in &ws.datasets {
        if let Some(o) = by_id.remove(&d.id()) {
            let report = outputs::parse(REPORTS, &o)?;
            out.push((
                d.clone(),
                StoredReport {
                    run_id: o.run_id,
                    json: o.document,
                    report,
                },
            ));
        }
    }
    out.sort_by_key(|(d, _)| d.id());
    Ok(out)
}

async fn check_landed(
    ws: &Workspace,
    lake: &Lake,
    d: &DatasetDef,
    ledger: Option<&[DeliveryRecord]>,
    rules_path: &Path,
    as_of: DateTime<FixedOffset>,
) -> Result<(CheckReport, Option<i64>), String> {
    let rules = RuleFile::load(rules_path).map_err(|e| e.to_string())?;
    let table = lake
        .open_table(&d.data_path())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{}: nothing landed yet", d.id()))?;
    let version = table.version().map(|v| v as i64);
    let files = lake
        .local_files(&d.data_path())
        .await
        .map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err(format!("{}: the landed table is empty", d.id()));
    }
    let read;
    let ledger = match ledger {
        Some(l) => l,
        None => {
            read = read_ledger(lake, Some(&d.id()))
                .await
                .map_err(|e| e.to_string())?;
            &read[..]
        }
    };
    let files = in_delivered_order(files, ledger)?;
    let mut check = CheckOptions::new(as_of);
    check.time_zone = ws.tz();
    // `[sweep] memory_limit` (checked when the workspace was loaded).
    if let Some(limit) = ws
        .config
        .sweep
        .memory_limit_bytes()
        .map_err(|e| e.to_string())?
    {
        check.memory_limit = limit;
    }
    // `[engine]` (checked when the workspace was loaded; `pdq sweep
    // --engine` overrides it there).
    check.engine = ws
        .config
        .engine
        .resolve()
        .map_err(|e| format!("engine: {e}"))?;
    let mut report = crate::check_paths(&files, &rules, &check)
        .await
        .map_err(|e| e.to_string())?;
    locate_samples(&ws.dir, d, ledger, &files, &mut report)?;
    Ok((report, version))
}

/// The lake's data files in the order of what they hold as delivered: by
/// the location of their first row's delivery, then its delivered line.
/// Samples are the first failures in file order, so they are the same
/// whatever names and commits the files got: a re-run after a crash lands
/// the same deliveries into other files and publishes the same samples
/// (issue #18).
fn in_delivered_order(
    files: Vec<PathBuf>,
    ledger: &[DeliveryRecord],
) -> Result<Vec<PathBuf>, String> {
    use crate::land::conform::{DELIVERY_COLUMN, ROW_COLUMN};
    use arrow::array::AsArray;
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let location: HashMap<&str, &str> = ledger
        .iter()
        .map(|r| (r.delivery.as_str(), r.location.as_str()))
        .collect();
    let mut keyed = Vec::with_capacity(files.len());
    for f in files {
        let shown = f.display().to_string();
        let file = std::fs::File::open(&f).map_err(|e| format!("{shown}: {e}"))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| format!("{shown}: {e}"))?;
        let schema = builder.schema().clone();
        let first = match (
            schema.index_of(DELIVERY_COLUMN),
            schema.index_of(ROW_COLUMN),
        ) {
            (Ok(di), Ok(ri)) => {
                let mask = ProjectionMask::roots(builder.parquet_schema(), [di, ri]);
                let batch = builder
                    .with_projection(mask)
                    .with_batch_size(1)
                    .with_limit(1)
                    .build()
                    .map_err(|e| format!("{shown}: {e}"))?
                    .next()
                    .transpose()
                    .map_err(|e| format!("{shown}: {e}"))?;
                batch.filter(|b| b.num_rows() > 0).and_then(|b| {
                    let d = arrow::compute::cast(
                        b.column_by_name(DELIVERY_COLUMN)?,
                        &arrow::datatypes::DataType::Utf8,
                    )
                    .ok()?;
                    let delivery = d.as_string::<i32>().value(0).to_string();
                    let row = b
                        .column_by_name(ROW_COLUMN)?
                        .as_primitive::<arrow::datatypes::Int64Type>()
                        .value(0);
                    Some((delivery, row))
                })
            }
            _ => None,
        };
        let key = match first {
            Some((delivery, row)) => (
                location
                    .get(delivery.as_str())
                    .map_or_else(|| format!("delivery {delivery}"), |l| l.to_string()),
                row,
            ),
            None => (String::new(), -1),
        };
        keyed.push((key, f));
    }
    keyed.sort();
    Ok(keyed.into_iter().map(|(_, f)| f).collect())
}

/// The engine locates samples in the lake's data files; people need them
/// where the department delivered them. Every landed row carries its
/// delivery and line (`_pdq_delivery`, `_pdq_row`), and the ledger maps a
/// delivery to its location, so each sample is moved back to its
/// delivered file and line (and the report lists delivered files).
fn locate_samples(
    ws_dir: &Path,
    d: &DatasetDef,
    ledger: &[DeliveryRecord],
    files: &[PathBuf],
    report: &mut CheckReport,
) -> Result<(), String> {
    use crate::land::conform::{DELIVERY_COLUMN, ROW_COLUMN};
    use arrow::array::{Array, AsArray};
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    // Published as a department recognises it, without credentials or the
    // server's layout (issue #18, 8).
    let shown = |location: &str| crate::mask::location::published(location, Some(ws_dir));
    // Each delivery's shown location, worked out once (the first record of
    // a delivery says where it came from), not once per landed row.
    let mut locations: HashMap<&str, Arc<str>> = HashMap::new();
    for r in ledger {
        locations
            .entry(r.delivery.as_str())
            .or_insert_with(|| shown(&r.location).into());
    }
    let mut unknown: HashMap<String, Arc<str>> = HashMap::new();
    let mut lineage: HashMap<String, Vec<(Arc<str>, u64)>> = Default::default();
    let wanted: BTreeSet<String> = report
        .results
        .iter()
        .flat_map(|r| r.samples.iter().map(|s| s.file.clone()))
        .collect();
    for f in files {
        let shown = f.display().to_string();
        if !wanted.contains(&shown) {
            continue;
        }
        let file = std::fs::File::open(f).map_err(|e| format!("{shown}: {e}"))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| format!("{shown}: {e}"))?;
        let schema = builder.schema().clone();
        let (Ok(di), Ok(ri)) = (
            schema.index_of(DELIVERY_COLUMN),
            schema.index_of(ROW_COLUMN),
        ) else {
            continue;
        };
        let mask = ProjectionMask::roots(builder.parquet_schema(), [di, ri]);
        let reader = builder
            .with_projection(mask)
            .build()
            .map_err(|e| format!("{shown}: {e}"))?;
        let mut rows = vec![];
        for b in reader {
            let b = b.map_err(|e| format!("{shown}: {e}"))?;
            let dcol = arrow::compute::cast(
                b.column_by_name(DELIVERY_COLUMN).ok_or("lineage")?,
                &arrow::datatypes::DataType::Utf8,
            )
            .map_err(|e| e.to_string())?;
            let dcol = dcol.as_string::<i32>();
            let rcol = b.column_by_name(ROW_COLUMN).ok_or("lineage")?;
            let rcol = rcol.as_primitive::<arrow::datatypes::Int64Type>();
            for i in 0..dcol.len() {
                let delivery = dcol.value(i);
                let location = match locations.get(delivery) {
                    Some(l) => l.clone(),
                    None => unknown
                        .entry(delivery.to_string())
                        .or_insert_with(|| format!("delivery {delivery}").into())
                        .clone(),
                };
                rows.push((location, rcol.value(i).max(0) as u64));
            }
        }
        lineage.insert(shown, rows);
    }
    for r in &mut report.results {
        for s in &mut r.samples {
            if let Some((loc, line)) = lineage
                .get(&s.file)
                .and_then(|rows| rows.get(s.row as usize))
            {
                s.file = loc.to_string();
                s.row = *line;
            }
        }
        r.samples.sort();
    }
    // The deliveries whose rows are in the table: all of an appended
    // dataset's, only the last of a fully replaced one.
    let mut landed = ledger.iter().filter(|r| r.status == DeliveryStatus::Landed);
    let mut delivered: Vec<String> = match d.mode {
        LoadMode::Append => landed.map(|r| shown(&r.location)).collect(),
        LoadMode::Full => landed
            .next_back()
            .map(|r| shown(&r.location))
            .into_iter()
            .collect(),
    };
    delivered.sort();
    delivered.dedup();
    report.files = delivered;
    Ok(())
}
