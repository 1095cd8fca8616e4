//! Parquet for landing: the declared columns, read a row group at a time
//! and handed on as text so every source converts through the same rules.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tokio::sync::mpsc::Sender;

use super::{ColumnDef, RawBatch, RawItem, SourceError};
use crate::files::FileError;

pub(crate) fn read_parquet(
    path: &Path,
    columns: &[ColumnDef],
    batch_rows: usize,
    tx: &Sender<Result<RawItem, SourceError>>,
) -> Result<(), SourceError> {
    let bad = |message: String| {
        SourceError::File(FileError::Parquet {
            path: path.to_path_buf(),
            message,
        })
    };
    let io_err = |e: std::io::Error| {
        SourceError::File(FileError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    };
    let end = {
        let file = std::fs::File::open(path).map_err(io_err)?;
        super::csv_stream::HashingReader::new(file)
            .finish()
            .map_err(io_err)?
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(e.to_string()))?;
    let file_schema = builder.schema().clone();
    let mut indices = vec![];
    for c in columns {
        let i = file_schema.index_of(c.source_name()).map_err(|_| {
            let names: Vec<&str> = file_schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            SourceError::File(FileError::Header {
                path: path.to_path_buf(),
                message: format!(
                    "no column `{}` (declared as `{}`); the file has: {}",
                    c.source_name(),
                    c.name,
                    names.join(", ")
                ),
            })
        })?;
        indices.push(i);
    }
    let mut sorted = indices.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let mask = ProjectionMask::roots(builder.parquet_schema(), sorted.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(batch_rows)
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let out_schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(&c.name, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let mut row = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| bad(e.to_string()))?;
        let n = batch.num_rows();
        let mut arrays: Vec<ArrayRef> = vec![];
        for i in &indices {
            // `sorted` holds every projected index, in the batch's column order.
            let pos = sorted
                .binary_search(i)
                .map_err(|_| bad(format!("column {i} was not projected")))?;
            let col = batch.column(pos);
            let text =
                arrow::compute::cast(col, &DataType::Utf8).map_err(|e| bad(e.to_string()))?;
            arrays.push(text);
        }
        let columns = RecordBatch::try_new_with_options(
            out_schema.clone(),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )
        .map_err(|e| bad(e.to_string()))?;
        let rows = UInt64Array::from_iter_values(row..row + n as u64);
        row += n as u64;
        tx.blocking_send(Ok(RawItem::Batch(RawBatch {
            columns,
            rows,
            rejects: vec![],
            keys: None,
        })))
        .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))?;
    }
    tx.blocking_send(Ok(RawItem::End(end)))
        .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))
}
