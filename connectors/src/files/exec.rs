//! The DataFusion side of a file dataset: a [`TableProvider`] whose scan
//! honours the projection, and an [`ExecutionPlan`] whose partitions are
//! contiguous row-group ranges of Parquet files and whole text files.
//!
//! Decoding is blocking work: each partition runs on a blocking thread that
//! sends batches through a channel of two, so memory stays bounded by a few
//! batches per partition whatever the file size.

use std::fmt;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array, UInt64Array, new_null_array,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, project_schema};
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};

use super::split::{RangeReader, SplitRun};
use super::text::Cells;
use super::{FILE_COLUMN, FileError, FilePart, Inner, ROW_COLUMN, Segment, Stamp, TextSpec, infer};
use super::{csv, json};

/// Casts an array to the dataset's type for its column when a file differs.
pub(crate) fn conform(
    array: ArrayRef,
    to: &DataType,
) -> Result<ArrayRef, arrow::error::ArrowError> {
    if array.data_type() == to {
        Ok(array)
    } else if matches!(to, DataType::Utf8View)
        && !matches!(array.data_type(), DataType::Utf8 | DataType::LargeUtf8)
    {
        cast(&cast(&array, &DataType::Utf8)?, to)
    } else {
        cast(&array, to)
    }
}

#[derive(Debug)]
pub(crate) struct FileTable {
    pub inner: Arc<Inner>,
}

#[async_trait]
impl TableProvider for FileTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.inner.full_schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let projection: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.inner.full_schema.fields().len()).collect(),
        };
        let schema = project_schema(&self.inner.full_schema, Some(&projection))?;
        let units = plan_units(&self.inner, state.config().target_partitions().max(1));
        // Each partition reads its units in file order, so its rows come
        // ordered by (file, row): declared, so that a query wanting the first
        // rows in that order can merge the partitions and stop early
        // instead of sorting everything.
        let position = |name: &str| {
            projection
                .iter()
                .position(|&i| self.inner.full_schema.field(i).name() == name)
        };
        let equivalences = match (position(FILE_COLUMN), position(ROW_COLUMN)) {
            (Some(f), Some(r)) => EquivalenceProperties::new_with_orderings(
                Arc::clone(&schema),
                [[
                    PhysicalSortExpr::new_default(Arc::new(Column::new(FILE_COLUMN, f))),
                    PhysicalSortExpr::new_default(Arc::new(Column::new(ROW_COLUMN, r))),
                ]],
            ),
            _ => EquivalenceProperties::new(Arc::clone(&schema)),
        };
        let properties = Arc::new(PlanProperties::new(
            equivalences,
            Partitioning::UnknownPartitioning(units.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        let runs = self
            .inner
            .parts
            .iter()
            .map(|p| match p {
                FilePart::Stream {
                    split: Some(split), ..
                } => Some(Arc::new(SplitRun::new(Arc::clone(split)))),
                _ => None,
            })
            .collect();
        let executed = std::sync::Mutex::new(vec![false; units.len().max(1)]);
        Ok(Arc::new(ScanExec {
            inner: Arc::clone(&self.inner),
            projection,
            schema,
            units,
            properties,
            runs,
            executed,
        }))
    }
}

/// A piece of work: one text file, or a contiguous range of a Parquet file's row groups.
#[derive(Debug, Clone)]
enum Unit {
    Text {
        file: usize,
        /// A segment of a CSV file read in parallel (index into its
        /// segments); None: the whole file.
        segment: Option<usize>,
    },
    Parquet {
        file: usize,
        row_groups: Vec<usize>,
        first_row: u64,
    },
    /// A CSV file typed from a sample: every partition reads its ranges
    /// ([`split`]).
    Shared { file: usize },
}

fn unit_rows(inner: &Inner, u: &Unit) -> u64 {
    match u {
        Unit::Text {
            file,
            segment: Some(k),
        } => match &inner.parts[*file] {
            FilePart::Stream { segments, .. } => segments.get(*k).map_or(0, |s| s.rows),
            _ => 0,
        },
        Unit::Text { file, .. } => inner.files[*file].rows.unwrap_or(0),
        Unit::Shared { .. } => 0,
        Unit::Parquet {
            file, row_groups, ..
        } => match &inner.parts[*file] {
            FilePart::Parquet {
                row_groups: sizes, ..
            } => row_groups.iter().map(|g| sizes[*g]).sum(),
            FilePart::Text { .. } | FilePart::Stream { .. } => 0,
        },
    }
}

/// Splits the files into units and deals them over at most `target` partitions,
/// largest first to the least loaded.
fn plan_units(inner: &Inner, target: usize) -> Vec<Vec<Unit>> {
    let mut units = Vec::new();
    let mut shared = Vec::new();
    for (file, part) in inner.parts.iter().enumerate() {
        match part {
            FilePart::Stream { split: Some(_), .. } => shared.push(file),
            FilePart::Stream { segments, .. } if !segments.is_empty() => {
                units.extend((0..segments.len()).map(|k| Unit::Text {
                    file,
                    segment: Some(k),
                }));
            }
            FilePart::Text { .. } | FilePart::Stream { .. } => units.push(Unit::Text {
                file,
                segment: None,
            }),
            FilePart::Parquet { row_groups, .. } => {
                if row_groups.is_empty() {
                    continue;
                }
                let total: u64 = row_groups.iter().sum();
                let chunks = target.min(row_groups.len()) as u64;
                let per = total.div_ceil(chunks.max(1)).max(1);
                let mut start = 0u64;
                let mut acc = 0u64;
                let mut current = Vec::new();
                let mut first_row = 0u64;
                for (g, rows) in row_groups.iter().enumerate() {
                    if current.is_empty() {
                        first_row = start;
                    }
                    current.push(g);
                    acc += rows;
                    start += rows;
                    if acc >= per {
                        units.push(Unit::Parquet {
                            file,
                            row_groups: std::mem::take(&mut current),
                            first_row,
                        });
                        acc = 0;
                    }
                }
                if !current.is_empty() {
                    units.push(Unit::Parquet {
                        file,
                        row_groups: current,
                        first_row,
                    });
                }
            }
        }
    }
    let n = if shared.is_empty() {
        target.min(units.len()).max(1)
    } else {
        target
    };
    let mut parts: Vec<(u64, Vec<Unit>)> = vec![(0, Vec::new()); n];
    let mut order: Vec<(u64, Unit)> = units
        .into_iter()
        .map(|u| (unit_rows(inner, &u), u))
        .collect();
    // Stable: equal sizes keep file order.
    order.sort_by_key(|u| std::cmp::Reverse(u.0));
    for (rows, u) in order {
        if let Some(p) = parts.iter_mut().min_by_key(|p| p.0) {
            p.0 += rows;
            p.1.push(u);
        }
    }
    // Every partition reads the shared files' ranges.
    for (_, p) in &mut parts {
        p.extend(shared.iter().map(|&file| Unit::Shared { file }));
    }
    // Within a partition, file order: its rows then come ordered by (file, row).
    for (_, p) in &mut parts {
        p.sort_by_key(unit_position);
    }
    parts.into_iter().map(|(_, u)| u).collect()
}

/// Where a unit starts: its file, then its first segment or row.
fn unit_position(u: &Unit) -> (usize, u64) {
    match u {
        Unit::Text { file, segment } => (*file, segment.map_or(0, |k| k as u64)),
        Unit::Shared { file } => (*file, 0),
        Unit::Parquet {
            file, first_row, ..
        } => (*file, *first_row),
    }
}

#[derive(Debug)]
pub(crate) struct ScanExec {
    inner: Arc<Inner>,
    projection: Vec<usize>,
    schema: SchemaRef,
    units: Vec<Vec<Unit>>,
    properties: Arc<PlanProperties>,
    /// This scan's shared reading of each split file (by file index).
    runs: Vec<Option<Arc<SplitRun>>>,
    /// Partitions executed: a split file's ranges are read once per scan.
    executed: std::sync::Mutex<Vec<bool>>,
}

impl DisplayAs for ScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "PdqFileScanExec: files={}, partitions={}",
            self.inner.files.len(),
            self.units.len()
        )
    }
}

impl ExecutionPlan for ScanExec {
    fn name(&self) -> &str {
        "PdqFileScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let units = self.units.get(partition).cloned().unwrap_or_default();
        if units.iter().any(|u| matches!(u, Unit::Shared { .. })) {
            let mut executed = self.executed.lock().unwrap_or_else(|p| p.into_inner());
            match executed.get_mut(partition) {
                Some(done) if !*done => *done = true,
                _ => {
                    return Err(DataFusionError::Internal(format!(
                        "partition {partition} of a CSV scan read in ranges was executed twice"
                    )));
                }
            }
        }
        let runs = self.runs.clone();
        let batch_size = context.session_config().batch_size().max(1);
        let inner = Arc::clone(&self.inner);
        let projection = self.projection.clone();
        let schema = Arc::clone(&self.schema);
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(2);
        let out_schema = Arc::clone(&schema);
        tokio::task::spawn_blocking(move || {
            for unit in units {
                let read = match unit {
                    Unit::Shared { file } => read_shared(
                        &inner,
                        file,
                        &runs,
                        &projection,
                        &out_schema,
                        batch_size,
                        &tx,
                    ),
                    _ => read_unit(&inner, &unit, &projection, &out_schema, batch_size, &tx)
                        .map(|()| true),
                };
                match read {
                    Ok(true) => {}
                    Ok(false) => return, // the consumer stopped
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
        });
        let stream =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

fn external(e: FileError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Assembles an output batch: projected data columns (conformed to the
/// dataset's types, NULL where the file lacks the column) and the location columns.
fn assemble(
    inner: &Inner,
    projection: &[usize],
    schema: &SchemaRef,
    file: usize,
    len: usize,
    column: impl Fn(usize) -> Option<ArrayRef>,
    rows: impl Fn() -> ArrayRef,
) -> Result<RecordBatch> {
    let data_cols = inner.schema.fields().len();
    let mut arrays = Vec::with_capacity(projection.len());
    for &p in projection {
        let a = if p < data_cols {
            let want = inner.schema.field(p).data_type();
            match column(p) {
                Some(a) => conform(a, want)?,
                None => new_null_array(want, len),
            }
        } else if p == data_cols {
            Arc::new(UInt32Array::from_value(file as u32, len)) as ArrayRef
        } else {
            rows()
        };
        arrays.push(a);
    }
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        arrays,
        &RecordBatchOptions::new().with_row_count(Some(len)),
    )?)
}

fn read_unit(
    inner: &Inner,
    unit: &Unit,
    projection: &[usize],
    schema: &SchemaRef,
    batch_size: usize,
    tx: &tokio::sync::mpsc::Sender<Result<RecordBatch>>,
) -> Result<()> {
    match unit {
        Unit::Text { file, segment } => {
            let (batch, rows) = match &inner.parts[*file] {
                FilePart::Text { batch, rows } => (batch, rows),
                FilePart::Stream {
                    spec,
                    stamp,
                    columns,
                    types,
                    time_zone,
                    width,
                    segments,
                    ..
                } => {
                    let stream = Stream {
                        file: *file,
                        spec: *spec,
                        stamp,
                        columns,
                        types,
                        time_zone: *time_zone,
                        width: *width,
                        segment: segment.and_then(|k| segments.get(k).copied()),
                    };
                    return stream.read(inner, projection, schema, batch_size, tx);
                }
                FilePart::Parquet { .. } => {
                    return Err(DataFusionError::Internal(
                        "text unit over a Parquet file".into(),
                    ));
                }
            };
            let mut offset = 0;
            while offset < batch.num_rows() {
                let len = batch_size.min(batch.num_rows() - offset);
                let slice = batch.slice(offset, len);
                let out = assemble(
                    inner,
                    projection,
                    schema,
                    *file,
                    len,
                    |c| Some(Arc::clone(slice.column(c))),
                    || Arc::new(rows.slice(offset, len)) as ArrayRef,
                )?;
                if tx.blocking_send(Ok(out)).is_err() {
                    return Ok(()); // the consumer stopped (e.g. LIMIT): not an error
                }
                offset += len;
            }
            Ok(())
        }
        Unit::Shared { .. } => Err(DataFusionError::Internal(
            "a CSV read in ranges is read by read_shared".into(),
        )),
        Unit::Parquet {
            file,
            row_groups,
            first_row,
        } => {
            let FilePart::Parquet {
                read_schema,
                columns,
                ..
            } = &inner.parts[*file]
            else {
                return Err(DataFusionError::Internal(
                    "Parquet unit over a text file".into(),
                ));
            };
            let source = &inner.files[*file];
            let parquet_err = |e: parquet::errors::ParquetError| {
                external(FileError::Parquet {
                    path: source.path.clone(),
                    message: e.to_string(),
                })
            };
            let f = std::fs::File::open(&source.path).map_err(|e| {
                external(FileError::Io {
                    path: source.path.clone(),
                    source: e,
                })
            })?;
            let options = ArrowReaderOptions::new().with_schema(Arc::clone(read_schema));
            let builder = ParquetRecordBatchReaderBuilder::try_new_with_options(f, options)
                .map_err(parquet_err)?;
            // The file columns this scan needs, in file order.
            let data_cols = inner.schema.fields().len();
            let mut needed: Vec<usize> = projection
                .iter()
                .filter(|p| **p < data_cols)
                .filter_map(|p| columns[*p])
                .collect();
            needed.sort_unstable();
            needed.dedup();
            let mask = ProjectionMask::roots(builder.parquet_schema(), needed.iter().copied());
            let reader = builder
                .with_projection(mask)
                .with_row_groups(row_groups.clone())
                .with_batch_size(batch_size)
                .build()
                .map_err(parquet_err)?;
            let mut next_row = *first_row;
            for batch in reader {
                let batch = batch.map_err(|e| {
                    external(FileError::Parquet {
                        path: source.path.clone(),
                        message: e.to_string(),
                    })
                })?;
                let len = batch.num_rows();
                let start = next_row;
                let out = assemble(
                    inner,
                    projection,
                    schema,
                    *file,
                    len,
                    |c| {
                        columns[c]
                            .and_then(|fc| needed.iter().position(|n| *n == fc))
                            .map(|i| Arc::clone(batch.column(i)))
                    },
                    || {
                        Arc::new(arrow::array::UInt64Array::from_iter_values(
                            start..start + len as u64,
                        )) as ArrayRef
                    },
                )?;
                next_row += len as u64;
                if tx.blocking_send(Ok(out)).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        }
    }
}

/// (dataset column, file column) of each projected data column a file has
/// (`columns`: each dataset column's index in the file).
fn wanted(inner: &Inner, projection: &[usize], columns: &[Option<usize>]) -> Vec<(usize, usize)> {
    let data_cols = inner.schema.fields().len();
    projection
        .iter()
        .filter(|p| **p < data_cols)
        .filter_map(|&p| columns[p].map(|fc| (p, fc)))
        .collect()
}

/// The array read for dataset column `c`, if it was read (`arrays` in
/// the order of `wanted`).
fn projected(wanted: &[(usize, usize)], arrays: &[ArrayRef], c: usize) -> Option<ArrayRef> {
    wanted
        .iter()
        .position(|(p, _)| *p == c)
        .map(|k| Arc::clone(&arrays[k]))
}

/// Reads this partition's share of a CSV file typed from a sample: the
/// ranges it claims, in file order. False when the consumer stopped.
fn read_shared(
    inner: &Inner,
    file: usize,
    runs: &[Option<Arc<SplitRun>>],
    projection: &[usize],
    schema: &SchemaRef,
    batch_size: usize,
    tx: &tokio::sync::mpsc::Sender<Result<RecordBatch>>,
) -> Result<bool> {
    let (
        Some(Some(run)),
        FilePart::Stream {
            split: Some(split), ..
        },
    ) = (runs.get(file), &inner.parts[file])
    else {
        return Err(DataFusionError::Internal(
            "a shared unit over a file not read in ranges".into(),
        ));
    };
    let wanted = wanted(inner, projection, &split.columns);
    let reader = RangeReader {
        inner,
        file,
        split,
        run,
        wanted: wanted.clone(),
        batch_size,
    };
    reader.read(|arrays, len, rows| {
        let out = assemble(
            inner,
            projection,
            schema,
            file,
            len,
            |c| projected(&wanted, arrays, c),
            || Arc::clone(&rows),
        )?;
        Ok(tx.blocking_send(Ok(out)).is_ok())
    })
}

/// A CSV or JSON file read at scan time, converted a batch at a time.
struct Stream<'a> {
    file: usize,
    spec: TextSpec,
    stamp: &'a Stamp,
    columns: &'a [Option<usize>],
    types: &'a [DataType],
    time_zone: chrono_tz::Tz,
    width: usize,
    /// Only these records (a UTF-8 CSV file read by several partitions).
    segment: Option<Segment>,
}

/// The text of up to one batch of records: the projected columns' cells as
/// spans of one buffer (no allocation per cell).
struct Chunk {
    text: String,
    cells: Vec<Vec<Option<(usize, usize)>>>,
    rows: Vec<u64>,
}

impl Stream<'_> {
    fn read(
        &self,
        inner: &Inner,
        projection: &[usize],
        schema: &SchemaRef,
        batch_size: usize,
        tx: &tokio::sync::mpsc::Sender<Result<RecordBatch>>,
    ) -> Result<()> {
        let source = &inner.files[self.file];
        let path = &source.path;
        if Stamp::of(path).map_err(external)? != *self.stamp {
            return Err(external(FileError::Changed { path: path.clone() }));
        }
        let wanted = wanted(inner, projection, self.columns);
        let mut chunk = Chunk {
            text: String::new(),
            cells: vec![Vec::with_capacity(batch_size); wanted.len()],
            rows: Vec::with_capacity(batch_size),
        };
        let mut failed: Option<DataFusionError> = None;
        let mut stopped = false;
        // Sends the chunk as a batch; false when reading should stop.
        let flush = |chunk: &mut Chunk| -> Result<bool> {
            let len = chunk.rows.len();
            let arrays: Vec<ArrayRef> = wanted
                .iter()
                .zip(&chunk.cells)
                .map(|((p, _), cells)| {
                    let text = &chunk.text;
                    infer::convert(
                        cells.iter().map(|c| c.map(|(a, b)| &text[a..b])),
                        &self.types[*p],
                        self.time_zone,
                    )
                })
                .collect();
            let rows = std::mem::take(&mut chunk.rows);
            let out = assemble(
                inner,
                projection,
                schema,
                self.file,
                len,
                |c| projected(&wanted, &arrays, c),
                || Arc::new(UInt64Array::from(rows.clone())) as ArrayRef,
            )?;
            chunk.text.clear();
            chunk.cells.iter_mut().for_each(Vec::clear);
            chunk.rows = rows;
            chunk.rows.clear();
            Ok(tx.blocking_send(Ok(out)).is_ok())
        };
        let mut on_record = |row: u64, cells: Cells<'_>| {
            for ((_, fc), out) in wanted.iter().zip(chunk.cells.iter_mut()) {
                out.push(cells.get(*fc).map(|v| {
                    let start = chunk.text.len();
                    chunk.text.push_str(v);
                    (start, chunk.text.len())
                }));
            }
            chunk.rows.push(row);
            if chunk.rows.len() < batch_size {
                return Ok(true);
            }
            match flush(&mut chunk) {
                Ok(true) => Ok(true),
                Ok(false) => {
                    stopped = true; // the consumer stopped (e.g. LIMIT): not an error
                    Ok(false)
                }
                Err(e) => {
                    failed = Some(e);
                    Ok(false)
                }
            }
        };
        let input = std::fs::File::open(path).map_err(|e| {
            external(FileError::Io {
                path: path.clone(),
                source: e,
            })
        })?;
        let records = match (self.spec, self.segment) {
            (TextSpec::Csv(spec), Some(seg)) => csv::read_csv_range(
                path,
                input,
                spec,
                self.width,
                seg.start,
                seg.first_row,
                seg.rows,
                &mut on_record,
            ),
            (TextSpec::Csv(spec), None) => {
                csv::read_csv(path, input, spec, |_| Ok(()), &mut on_record)
            }
            (TextSpec::Json, _) => {
                let mut columns = Vec::new();
                json::read_json(path, input, &mut columns, &mut on_record)
            }
        };
        if let Some(e) = failed {
            return Err(e);
        }
        if stopped {
            return Ok(());
        }
        let records = records.map_err(external)?;
        let expected = match self.segment {
            Some(seg) => Some(seg.rows),
            None => source.rows,
        };
        if Some(records) != expected || Stamp::of(path).map_err(external)? != *self.stamp {
            return Err(external(FileError::Changed { path: path.clone() }));
        }
        if !chunk.rows.is_empty() {
            flush(&mut chunk)?;
        }
        Ok(())
    }
}
