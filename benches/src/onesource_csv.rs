//! Loads entity-resolution records from CSV files (one source each) for the
//! `onesource_match` benchmark, on every core.
//!
//! ```text
//! reader thread: file after file, CSV records in batches ──▶ workers (threads)
//!   UTF-8, trim, resident-ID key, field preparation ──▶ caller: batches appended
//!   in reading order
//! ```
//!
//! The result is the same as reading each file with `csv::Trim::All` and
//! [`Records::push`]ing row after row on one thread: the same records, ids
//! and truth values in the same order, whatever the thread count or batch
//! size, and the first bad row in file order is the error, naming its file
//! and row. Preparing the fields (names, addresses, dates, identifiers) is
//! most of the work of loading; CSV parsing alone stays on the reader.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use csv::ByteRecord;
use pipeline::onesource::OneSourceError;
use pipeline::onesource::normalize::normalize_resident_id;
use pipeline::onesource::resolve::{MatchConfig, Records};

/// Which columns to read.
#[derive(Debug, Clone)]
pub struct Columns {
    /// Read a field from a differently named column (field → column).
    pub renames: HashMap<String, String>,
    /// The column that names each record.
    pub id: String,
    /// A resident-ID column whose valid values become exact keys.
    pub key: Option<String>,
    /// The true entity of each record.
    pub truth: Option<String>,
    /// As-of date for resident-ID validation.
    pub as_of: NaiveDate,
}

/// How to spread the work.
#[derive(Debug, Clone, Copy)]
pub struct Parallelism {
    /// Worker threads preparing records (0 = one per core); the reader is
    /// one more thread.
    pub workers: usize,
    /// Records per batch handed to a worker.
    pub batch: usize,
}

impl Default for Parallelism {
    fn default() -> Parallelism {
        Parallelism {
            workers: 0,
            batch: 4096,
        }
    }
}

/// What was loaded: records and, per record, its id and truth value (empty
/// without a truth column).
#[derive(Debug)]
pub struct Loaded {
    /// The prepared records, source = the file's position in the list.
    pub records: Records,
    /// The id column's value of each record.
    pub ids: Vec<String>,
    /// The truth column's value of each record (none without a truth column).
    pub truth: Vec<String>,
}

/// Why loading failed; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened or its header read.
    #[error("opening {path}: {source}")]
    Open {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: csv::Error,
    },
    /// A column is not in the header.
    #[error("{path}: no column `{column}`")]
    NoColumn {
        /// Which file.
        path: PathBuf,
        /// The missing column.
        column: String,
    },
    /// A row could not be read as CSV.
    #[error("{path} row {row}: {source}")]
    Csv {
        /// Which file.
        path: PathBuf,
        /// The data row, from 1 (the header is not counted).
        row: u64,
        /// What the CSV reader said.
        source: csv::Error,
    },
    /// A row is not UTF-8.
    #[error("{path} row {row} (line {line}): invalid UTF-8 in field {field} near byte index {at}")]
    Utf8 {
        /// Which file.
        path: PathBuf,
        /// The data row, from 1.
        row: u64,
        /// Line in the file, from 1.
        line: u64,
        /// The field, from 0.
        field: usize,
        /// Valid bytes before the error in that field.
        at: usize,
    },
    /// The records could not take a row.
    #[error("{path} row {row}: {source}")]
    Records {
        /// Which file.
        path: PathBuf,
        /// The data row, from 1.
        row: u64,
        /// Why.
        source: OneSourceError,
    },
    /// Joining the batches failed.
    #[error(transparent)]
    Append(#[from] OneSourceError),
}

/// Column positions in one file.
#[derive(Debug)]
struct FileColumns {
    path: PathBuf,
    source: u32,
    fields: Vec<usize>,
    id: usize,
    key: Option<usize>,
    truth: Option<usize>,
}

/// One batch of rows for a worker.
struct Job {
    file: Arc<FileColumns>,
    /// Data row number of the batch's first row, from 1.
    first_row: u64,
    rows: Vec<ByteRecord>,
    done: SyncSender<Result<Loaded, LoadError>>,
}

/// Loads `paths` (header row each; file `i` is source `i`) for `config`.
pub fn load(
    paths: &[PathBuf],
    config: &MatchConfig,
    columns: &Columns,
    par: Parallelism,
) -> Result<Loaded, LoadError> {
    let workers = match par.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let batch = par.batch.max(1);
    // Batches in flight: enough to keep every worker busy while the caller
    // appends, few enough to bound memory.
    let in_flight = 4 * workers;
    let (job_tx, job_rx) = sync_channel::<Job>(in_flight);
    // Shared by the workers only: when every worker has stopped, the
    // reader's next send fails instead of waiting for ever.
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (order_tx, order_rx) = sync_channel::<Receiver<Result<Loaded, LoadError>>>(in_flight);
    // Emptied batches go back to the reader, which reuses their records'
    // buffers instead of allocating for every row.
    let (spare_tx, spare_rx) = std::sync::mpsc::channel::<Vec<ByteRecord>>();
    std::thread::scope(|s| {
        s.spawn(move || read_all(paths, config, columns, batch, &job_tx, &order_tx, &spare_rx));
        for _ in 0..workers {
            let (job_rx, spare_tx) = (Arc::clone(&job_rx), spare_tx.clone());
            s.spawn(move || {
                loop {
                    // The lock is held only to take the next job.
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(mut job) = job else { return };
                    let out = prepare(&job, config, columns);
                    // The caller may have stopped at an earlier error.
                    let _ = job.done.send(out);
                    let _ = spare_tx.send(std::mem::take(&mut job.rows));
                }
            });
        }
        drop((job_rx, spare_tx));
        collect(config, columns, order_rx)
    })
}

/// The caller's part: each batch's result in reading order, appended.
/// Returning drops `order`, which stops the reader at its next batch.
fn collect(
    config: &MatchConfig,
    columns: &Columns,
    order: Receiver<Receiver<Result<Loaded, LoadError>>>,
) -> Result<Loaded, LoadError> {
    let mut all = Loaded {
        records: Records::new(config),
        ids: Vec::new(),
        truth: Vec::new(),
    };
    for done in order {
        // A worker that panicked dropped its sender: the scope re-raises
        // its panic when this returns.
        let Ok(part) = done.recv() else { break };
        let part = part?;
        all.records.append(&part.records)?;
        all.ids.extend(part.ids);
        if columns.truth.is_some() {
            all.truth.extend(part.truth);
        }
    }
    Ok(all)
}

/// The reader: every file in order, in batches. Errors go into the order
/// as the batch that failed, so the caller reports the first in file order.
fn read_all(
    paths: &[PathBuf],
    config: &MatchConfig,
    columns: &Columns,
    batch: usize,
    jobs: &SyncSender<Job>,
    order: &SyncSender<Receiver<Result<Loaded, LoadError>>>,
    spare: &Receiver<Vec<ByteRecord>>,
) {
    let fail = |e: LoadError| {
        let (tx, rx) = sync_channel(1);
        let _ = tx.send(Err(e));
        let _ = order.send(rx);
    };
    for (source, path) in paths.iter().enumerate() {
        let (mut rdr, file) = match open(path, source, config, columns) {
            Ok(x) => x,
            Err(e) => return fail(e),
        };
        let file = Arc::new(file);
        let mut row = 0u64;
        loop {
            let mut rows = spare.try_recv().unwrap_or_default();
            rows.resize_with(batch, ByteRecord::new);
            let first_row = row + 1;
            let mut n = 0;
            let mut error = None;
            while n < batch {
                match rdr.read_byte_record(&mut rows[n]) {
                    Ok(true) => {
                        n += 1;
                        row += 1;
                    }
                    Ok(false) => break,
                    Err(source) => {
                        error = Some(LoadError::Csv {
                            path: path.clone(),
                            row: row + 1,
                            source,
                        });
                        break;
                    }
                }
            }
            rows.truncate(n);
            if n > 0 {
                let (done, rx) = sync_channel(1);
                let job = Job {
                    file: Arc::clone(&file),
                    first_row,
                    rows,
                    done,
                };
                if order.send(rx).is_err() || jobs.send(job).is_err() {
                    return; // the caller stopped
                }
            }
            if let Some(e) = error {
                return fail(e);
            }
            if n < batch {
                break;
            }
        }
    }
}

/// Opens one file and finds its columns.
fn open(
    path: &Path,
    source: usize,
    config: &MatchConfig,
    columns: &Columns,
) -> Result<(csv::Reader<std::fs::File>, FileColumns), LoadError> {
    let open_err = |source| LoadError::Open {
        path: path.to_path_buf(),
        source,
    };
    // Fields are trimmed by the workers (`str::trim`, which is what
    // `Trim::All` leaves: ASCII and then Unicode white space); the header
    // here, as `Trim::All` trims it.
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .buffer_capacity(1 << 20)
        .from_path(path)
        .map_err(open_err)?;
    let header = rdr.headers().map_err(open_err)?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| LoadError::NoColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
            })
    };
    let fields = config
        .fields
        .iter()
        .map(|f| col(columns.renames.get(&f.name).unwrap_or(&f.name)))
        .collect::<Result<_, _>>()?;
    let file = FileColumns {
        path: path.to_path_buf(),
        source: u32::try_from(source).map_err(|_| LoadError::Records {
            path: path.to_path_buf(),
            row: 0,
            source: OneSourceError::Config(format!("more than {} sources", u32::MAX)),
        })?,
        fields,
        id: col(&columns.id)?,
        key: columns.key.as_deref().map(col).transpose()?,
        truth: columns.truth.as_deref().map(col).transpose()?,
    };
    Ok((rdr, file))
}

/// A worker's part: one batch prepared, as `Trim::All` and one
/// [`Records::push`] per row would have it.
fn prepare(job: &Job, config: &MatchConfig, columns: &Columns) -> Result<Loaded, LoadError> {
    let file = &job.file;
    let mut out = Loaded {
        records: Records::new(config),
        ids: Vec::with_capacity(job.rows.len()),
        truth: Vec::new(),
    };
    // Both borrow from `job.rows`, so they are reused from row to row.
    let mut text: Vec<&str> = Vec::new();
    let mut values: Vec<Option<&str>> = Vec::with_capacity(file.fields.len());
    for (k, br) in job.rows.iter().enumerate() {
        let row = job.first_row + k as u64;
        // Every field must be UTF-8, as for a `StringRecord`.
        text.clear();
        for (field, f) in br.iter().enumerate() {
            let f = std::str::from_utf8(f).map_err(|e| LoadError::Utf8 {
                path: file.path.clone(),
                row,
                line: br.position().map_or(0, |p| p.line()),
                field,
                at: e.valid_up_to(),
            })?;
            text.push(f);
        }
        let get = |c: usize| text.get(c).copied().map_or("", str::trim);
        let key = file
            .key
            .and_then(|c| normalize_resident_id(get(c), columns.as_of).ok())
            .map_or(0, |n| u128::from(n.resident_key()));
        values.clear();
        values.extend(
            file.fields
                .iter()
                .map(|&c| Some(get(c)).filter(|v| !v.is_empty())),
        );
        out.records
            .push(file.source, key, &values)
            .map_err(|source| LoadError::Records {
                path: file.path.clone(),
                row,
                source,
            })?;
        out.ids.push(get(file.id).to_string());
        if let Some(c) = file.truth {
            out.truth.push(get(c).to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
