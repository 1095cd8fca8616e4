//! `--failed-rows DIR`: every failing row, unmasked, as Parquet, written to a
//! temporary file and renamed into place when the check completes, so a
//! crash never leaves half a file under the final name.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{StringBuilder, UInt64Builder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::CheckError;

const FLUSH_ROWS: usize = 64 * 1024;

/// One failing row as written.
pub(crate) struct FailedRow<'a> {
    pub rule_id: &'a str,
    pub check: quality_rules::RuleKind,
    pub file: &'a str,
    pub row: u64,
    pub key: Option<&'a str>,
    pub column: Option<&'a str>,
    pub value: Option<&'a str>,
}

pub(crate) struct FailedRowsWriter {
    path: PathBuf,
    tmp: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<File>,
    rule_id: StringBuilder,
    check: StringBuilder,
    file: StringBuilder,
    row: UInt64Builder,
    key: StringBuilder,
    column: StringBuilder,
    value: StringBuilder,
    buffered: usize,
}

/// The file name for a dataset's failed rows: its name with anything that is
/// not a letter, digit, `-` or `_` replaced.
pub fn failed_rows_file(dir: &Path, dataset: &str) -> PathBuf {
    let safe: String = dataset
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}.failed_rows.parquet"))
}

impl FailedRowsWriter {
    pub(crate) fn create(dir: &Path, dataset: &str) -> Result<Self, CheckError> {
        let path = failed_rows_file(dir, dataset);
        let fail = |message: String| CheckError::FailedRows {
            path: path.clone(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        let tmp = path.with_extension(format!("parquet.tmp-{}", std::process::id()));
        let schema = Arc::new(Schema::new(vec![
            Field::new("rule_id", DataType::Utf8, false),
            Field::new("check", DataType::Utf8, false),
            Field::new("file", DataType::Utf8, false),
            Field::new("row", DataType::UInt64, false),
            Field::new("key", DataType::Utf8, true),
            Field::new("column", DataType::Utf8, true),
            Field::new("value", DataType::Utf8, true),
        ]));
        let file = File::create(&tmp).map_err(|e| fail(e.to_string()))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props))
            .map_err(|e| fail(e.to_string()))?;
        Ok(FailedRowsWriter {
            path,
            tmp,
            schema,
            writer,
            rule_id: StringBuilder::new(),
            check: StringBuilder::new(),
            file: StringBuilder::new(),
            row: UInt64Builder::new(),
            key: StringBuilder::new(),
            column: StringBuilder::new(),
            value: StringBuilder::new(),
            buffered: 0,
        })
    }

    pub(crate) fn push(&mut self, r: FailedRow<'_>) -> Result<(), DataFusionError> {
        self.rule_id.append_value(r.rule_id);
        self.check.append_value(r.check.name());
        self.file.append_value(r.file);
        self.row.append_value(r.row);
        self.key.append_option(r.key);
        self.column.append_option(r.column);
        self.value.append_option(r.value);
        self.buffered += 1;
        if self.buffered >= FLUSH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DataFusionError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let batch = RecordBatch::try_new(
            Arc::clone(&self.schema),
            vec![
                Arc::new(self.rule_id.finish()),
                Arc::new(self.check.finish()),
                Arc::new(self.file.finish()),
                Arc::new(self.row.finish()),
                Arc::new(self.key.finish()),
                Arc::new(self.column.finish()),
                Arc::new(self.value.finish()),
            ],
        )?;
        self.buffered = 0;
        self.writer
            .write(&batch)
            .map_err(|e| DataFusionError::External(Box::new(e)))
    }

    /// Flushes, closes and renames the file into place.
    pub(crate) fn finish(mut self) -> Result<PathBuf, CheckError> {
        let path = self.path.clone();
        let fail = |message: String| CheckError::FailedRows {
            path: path.clone(),
            message,
        };
        self.flush().map_err(|e| fail(e.to_string()))?;
        let file = self.writer.into_inner().map_err(|e| fail(e.to_string()))?;
        file.sync_all().map_err(|e| fail(e.to_string()))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| fail(e.to_string()))?;
        Ok(self.path)
    }
}
