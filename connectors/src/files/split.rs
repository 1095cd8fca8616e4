//! One read of a large CSV file typed from a sample, by every partition at once.
//!
//! ```text
//!  file:  header │ range 0 │ range 1 │ range 2 │ …      (RANGE_BYTES each)
//!                    ▲ exact   ▲ guess   ▲ guess
//!  partition A: claim 0 ─ parse ─ confirm ─ send │ claim 2 ─ parse ─ wait for 1 ─ confirm ─ send
//!  partition B: claim 1 ─ parse from its guess ─ wait for 0 ─ confirm (or parse again) ─ send │ …
//! ```
//!
//! The records after the header are cut into byte ranges. A range's first
//! record is *guessed*: the first byte after a line end at or after the
//! range's start, past any further line ends (blank lines). A partition
//! claims the next range, parses it from its guess (the values checked
//! against the sampled types), then waits for the range before it. That
//! range, parsed from a start known to be right, read on until the first
//! record the csv reader reports at or after the guess's run of line ends:
//! if that record is reported inside the run, the guess was right; if
//! beyond it, the guess fell inside a quoted field, and the range is parsed
//! again from where the one before it really ended. So the records, their
//! numbers and the lines named in errors are exactly those of reading the
//! file from its start; a wrong guess costs one range read twice. An error
//! found from a guess counts only once the guess is confirmed (a wrong
//! guess reads garbage), and a guessed parse that runs far past its range
//! (one enormous record, or a guess inside one) gives up and waits.
//!
//! A range is confirmed (its end, record count and line handed on) before
//! its batches are sent, and a partition claims a range only after sending
//! the one before, so a partition never waits on one that is blocked on its
//! consumer: the lowest unconfirmed range is always being parsed.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use arrow::array::{ArrayRef, UInt64Array};
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::error::DataFusionError;

use super::csv::{self, CsvSpec, SpanStop};
use super::infer::{self, CellBuilder};
use super::text::Cells;
use super::{FileError, Inner, Stamp};

/// Bytes of the file per range (small in unit tests, to have many ranges).
const RANGE_BYTES: u64 = if cfg!(test) { 2 * 1024 } else { 8 << 20 };

/// How far past the next range's guess a parse from a guess may read
/// before it gives up and waits to be told where its range starts.
const GUESS_SLACK: u64 = if cfg!(test) { 8 * 1024 } else { 32 << 20 };

/// What a scan checks of a column's values against the sampled types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Nothing: text that the sample already showed to be text (or a
    /// column this file does not have).
    None,
    /// Every non-blank value must parse as the column's type.
    Typed,
    /// Text only because the sample had no value in it: a value that would
    /// be typed on its own contradicts the sample.
    Unvoted,
}

/// A CSV file typed from a sample, read at scan time in ranges.
#[derive(Debug)]
pub(crate) struct Split {
    pub spec: CsvSpec,
    pub stamp: Stamp,
    /// Where the csv reader reports the first record after the header
    /// (after a BOM), and its line.
    pub data_start: u64,
    pub first_line: u64,
    /// The file's length.
    pub len: u64,
    /// The file's number of columns.
    pub width: usize,
    /// For each dataset column: its index in the file, the type its text is
    /// converted to, and what is checked.
    pub columns: Vec<Option<usize>>,
    pub types: Vec<DataType>,
    pub guards: Vec<Guard>,
    pub time_zone: chrono_tz::Tz,
    /// The encoding was found from the sample (UTF-8, neither given nor a
    /// BOM): bytes that are not UTF-8 later on contradict it.
    pub encoding_from_sample: bool,
    /// Records in the sample.
    pub sample: u64,
}

impl Split {
    fn ranges(&self) -> usize {
        self.len
            .saturating_sub(self.data_start)
            .div_ceil(RANGE_BYTES)
            .max(1) as usize
    }

    /// Where range `k` starts in the file (`ranges()` → the end).
    fn range_start(&self, k: usize) -> u64 {
        (self.data_start + k as u64 * RANGE_BYTES).min(self.len)
    }
}

/// A range's guessed first record: the first byte `start` after a line
/// end at or after the range's start, past the run of CR and LF bytes
/// `run` that begins at `run_start`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Guess {
    run_start: u64,
    start: u64,
    run: Vec<u8>,
}

impl Guess {
    /// The end of the file: nothing more to read.
    fn end(len: u64) -> Guess {
        Guess {
            run_start: len,
            start: len,
            run: Vec::new(),
        }
    }

    /// Line ends from a position in the run up to `start`.
    fn newlines_from(&self, at: u64) -> u64 {
        let from = at.saturating_sub(self.run_start) as usize;
        self.run
            .get(from..)
            .map_or(0, |r| r.iter().filter(|b| **b == b'\n').count() as u64)
    }
}

fn is_line_end(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

fn io_error(path: &Path, e: std::io::Error) -> FileError {
    FileError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Reads up to `n` bytes at `at`.
fn read_at(path: &Path, file: &mut std::fs::File, at: u64, n: usize) -> Result<Vec<u8>, FileError> {
    file.seek(SeekFrom::Start(at))
        .map_err(|e| io_error(path, e))?;
    let mut buf = Vec::with_capacity(n);
    file.take(n as u64)
        .read_to_end(&mut buf)
        .map_err(|e| io_error(path, e))?;
    Ok(buf)
}

/// The guess for a range starting at `from` (> `floor`, the first record's
/// position), in a file of `len` bytes.
fn guess(
    path: &Path,
    file: &mut std::fs::File,
    from: u64,
    floor: u64,
    len: u64,
) -> Result<Guess, FileError> {
    const BLOCK: usize = 64 * 1024;
    // The first line end at or after `from - 1`.
    let mut at = from.saturating_sub(1).max(floor);
    let newline = loop {
        if at >= len {
            return Ok(Guess::end(len));
        }
        let block = read_at(path, file, at, BLOCK)?;
        if block.is_empty() {
            return Ok(Guess::end(len));
        }
        if let Some(i) = block.iter().position(|b| *b == b'\n') {
            break at + i as u64;
        }
        at += block.len() as u64;
    };
    // Past the line ends that follow it.
    let mut start = newline + 1;
    loop {
        let block = read_at(path, file, start, BLOCK)?;
        let run = block.iter().take_while(|b| is_line_end(**b)).count();
        start += run as u64;
        if run < block.len() || block.is_empty() {
            break;
        }
    }
    // Back over the line ends before it.
    let mut run_start = newline;
    while run_start > floor {
        let from = run_start.saturating_sub(BLOCK as u64).max(floor);
        let block = read_at(path, file, from, (run_start - from) as usize)?;
        let run = block.iter().rev().take_while(|b| is_line_end(**b)).count();
        run_start -= run as u64;
        if run < block.len() {
            break;
        }
    }
    let run = read_at(path, file, run_start, (start - run_start) as usize)?;
    Ok(Guess {
        run_start,
        start,
        run,
    })
}

/// Where a range's records end, as far as the next range is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// The next range's guess is its first record.
    Guess,
    /// The next range's first record is reported here (its guess was inside a record).
    At(u64),
    /// The file ended: the ranges after have no records.
    End,
}

/// A range as the one after it needs it: where it ended, the records of
/// every range up to it, and the line the next range's first record is on.
#[derive(Debug, Clone, Copy)]
struct Confirmed {
    next: Next,
    rows_after: u64,
    next_line: u64,
}

#[derive(Debug, Clone)]
enum Slot {
    Pending,
    Done(Confirmed),
    Failed(Arc<DataFusionError>),
}

/// One scan's shared state of a split file.
#[derive(Debug)]
pub(crate) struct SplitRun {
    split: Arc<Split>,
    claimed: AtomicUsize,
    slots: Mutex<Vec<Slot>>,
    confirmed: Condvar,
}

impl SplitRun {
    pub(crate) fn new(split: Arc<Split>) -> SplitRun {
        let n = split.ranges();
        SplitRun {
            split,
            claimed: AtomicUsize::new(0),
            slots: Mutex::new(vec![Slot::Pending; n]),
            confirmed: Condvar::new(),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until range `k` is confirmed or failed.
    fn wait(&self, k: usize) -> Result<Confirmed, Arc<DataFusionError>> {
        let mut slots = self.slots();
        loop {
            match &slots[k] {
                Slot::Done(c) => return Ok(*c),
                Slot::Failed(e) => return Err(Arc::clone(e)),
                Slot::Pending => {
                    slots = self
                        .confirmed
                        .wait(slots)
                        .unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }

    fn settle(&self, k: usize, slot: Slot) {
        self.slots()[k] = slot;
        self.confirmed.notify_all();
    }
}

/// How a parse of a range ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// At the next range's guess; `lines` line ends from the parse's start to it.
    Guess { lines: u64 },
    /// At a record reported beyond the next guess, at `at`, `lines` lines on.
    Beyond { at: u64, lines: u64 },
    /// At the end of the file.
    End,
    /// Past the slack without reaching the next guess (a parse from a guess only).
    GaveUp,
}

/// One range's parsed records, converted to the dataset's columns.
struct Parsed {
    /// (projected columns, rows) per batch; rows are numbered from 0 in the range.
    batches: Vec<(Vec<ArrayRef>, usize)>,
    records: u64,
    stop: Stop,
}

/// A parse error, its line counted from the parse's start.
struct Failed(FileError);

/// What reads the ranges of one split file for one partition.
pub(crate) struct RangeReader<'a> {
    pub inner: &'a Inner,
    pub file: usize,
    pub split: &'a Split,
    pub run: &'a SplitRun,
    /// (dataset column, file column) of each projected column the file has.
    pub wanted: Vec<(usize, usize)>,
    pub batch_size: usize,
}

impl RangeReader<'_> {
    fn path(&self) -> &Path {
        &self.inner.files[self.file].path
    }

    /// Claims ranges until none is left, sending each one's batches (made
    /// by `assemble` from the projected columns, the rows and the record
    /// numbers) in file order. Returns false when the consumer stopped.
    pub(crate) fn read(
        &self,
        mut send: impl FnMut(&[ArrayRef], usize, ArrayRef) -> Result<bool>,
    ) -> Result<bool> {
        let n = self.run.split.ranges();
        loop {
            let k = self.run.claimed.fetch_add(1, Ordering::SeqCst);
            if k >= n {
                return Ok(true);
            }
            let (parsed, first_row) = match self.range(k) {
                Ok(p) => p,
                Err(e) => {
                    let e = Arc::new(e);
                    self.run.settle(k, Slot::Failed(Arc::clone(&e)));
                    return Err(DataFusionError::Shared(e));
                }
            };
            let mut next_row = first_row;
            for (arrays, len) in parsed.batches {
                let rows: ArrayRef = Arc::new(UInt64Array::from_iter_values(
                    next_row..next_row + len as u64,
                ));
                next_row += len as u64;
                if !send(&arrays, len, rows)? {
                    return Ok(false);
                }
            }
        }
    }

    /// Parses range `k`, confirms it, and returns its batches with the
    /// record number of its first record. The batches' record numbers are
    /// consecutive from there.
    fn range(&self, k: usize) -> Result<(Parsed, u64), DataFusionError> {
        let split = self.split;
        let path = self.path().to_path_buf();
        let external = |e: FileError| DataFusionError::External(Box::new(e));
        if Stamp::of(&path).map_err(external)? != split.stamp {
            return Err(external(FileError::Changed { path }));
        }
        let mut file = std::fs::File::open(&path).map_err(|e| external(io_error(&path, e)))?;
        let n = split.ranges();
        let next_guess = if k + 1 >= n {
            Guess::end(split.len)
        } else {
            guess(
                &path,
                &mut file,
                split.range_start(k + 1),
                split.data_start,
                split.len,
            )
            .map_err(external)?
        };
        // Parse from the guess while the range before is being read.
        let (own_guess, early) = if k == 0 {
            (None, None)
        } else {
            let g = guess(
                &path,
                &mut file,
                split.range_start(k),
                split.data_start,
                split.len,
            )
            .map_err(external)?;
            let limit = next_guess.start.saturating_add(GUESS_SLACK);
            let early = self.parse(&mut file, g.start, Some(limit), &next_guess);
            (Some(g), Some(early))
        };
        let before = if k == 0 {
            Confirmed {
                next: Next::At(split.data_start),
                rows_after: 0,
                next_line: split.first_line,
            }
        } else {
            self.run.wait(k - 1).map_err(DataFusionError::Shared)?
        };
        let start = match (before.next, &own_guess) {
            (Next::Guess, Some(g)) => Some(g.start),
            (Next::At(at), _) => Some(at),
            (Next::Guess, None) => Some(split.data_start),
            (Next::End, _) => None,
        };
        let Some(start) = start else {
            self.run.settle(
                k,
                Slot::Done(Confirmed {
                    next: Next::End,
                    ..before
                }),
            );
            return Ok((
                Parsed {
                    batches: Vec::new(),
                    records: 0,
                    stop: Stop::End,
                },
                before.rows_after,
            ));
        };
        let guessed_right = matches!(before.next, Next::Guess)
            && own_guess.as_ref().is_some_and(|g| g.start == start);
        let outcome = match early {
            Some(early)
                if guessed_right
                    && !matches!(
                        early,
                        Ok(Parsed {
                            stop: Stop::GaveUp,
                            ..
                        })
                    ) =>
            {
                early
            }
            _ => self.parse(&mut file, start, None, &next_guess),
        };
        let parsed = match outcome {
            Ok(p) => p,
            Err(Failed(e)) => {
                let e = rebase(e, before.next_line);
                self.note_contradiction(&e);
                return Err(external(e));
            }
        };
        let (next, next_line) = match parsed.stop {
            Stop::Guess { lines } => (Next::Guess, before.next_line + lines),
            Stop::Beyond { at, lines } => (Next::At(at), before.next_line + lines),
            Stop::End | Stop::GaveUp => (Next::End, before.next_line),
        };
        self.run.settle(
            k,
            Slot::Done(Confirmed {
                next,
                rows_after: before.rows_after + parsed.records,
                next_line,
            }),
        );
        if k + 1 >= n && Stamp::of(&path).map_err(external)? != split.stamp {
            return Err(external(FileError::Changed { path }));
        }
        Ok((parsed, before.rows_after))
    }

    /// Notes on the dataset that the sample was contradicted, when it was.
    fn note_contradiction(&self, e: &FileError) {
        let why = match e {
            FileError::Contradiction { .. } => e.to_string(),
            FileError::Encoding { .. } if self.split.encoding_from_sample => e.to_string(),
            _ => return,
        };
        let mut slot = self
            .inner
            .contradiction
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(why);
    }

    /// Parses records from `start` (a record's reported position, or a
    /// guess) up to the next range's guess: at most to `limit` when given.
    fn parse(
        &self,
        file: &mut std::fs::File,
        start: u64,
        limit: Option<u64>,
        next: &Guess,
    ) -> Result<Parsed, Failed> {
        let split = self.split;
        let path = self.path();
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Failed(io_error(path, e)))?;
        let input: Box<dyn Read + '_> = match limit {
            Some(l) => Box::new(Read::by_ref(file).take(l.saturating_sub(start))),
            None => Box::new(Read::by_ref(file)),
        };
        let mut builders = self.builders();
        let mut rows = 0usize;
        let mut batches = Vec::new();
        let mut settled = vec![false; self.wanted.len()];
        let mut failed: Option<FileError> = None;
        let read = csv::read_csv_span(
            path,
            input,
            split.spec,
            split.width,
            next.run_start.saturating_sub(start),
            |_, line, cells: Cells<'_>| {
                for (w, ((p, fc), b)) in self.wanted.iter().zip(builders.iter_mut()).enumerate() {
                    let cell = cells.get(*fc);
                    let fits = match split.guards[*p] {
                        Guard::Unvoted if !settled[w] => match cell.filter(|v| !infer::is_blank(v))
                        {
                            // A value of no type: the column is text whatever follows.
                            Some(v) if !infer::has_a_type(v) => {
                                settled[w] = true;
                                true
                            }
                            Some(_) => false,
                            None => true,
                        },
                        _ => true,
                    };
                    if !(b.append(cell) && fits) {
                        let expected = if fits {
                            type_name(&split.types[*p])
                        } else {
                            "blank"
                        };
                        failed = Some(FileError::Contradiction {
                            path: path.to_path_buf(),
                            line,
                            column: self.inner.schema.field(*p).name().clone(),
                            expected: expected.to_string(),
                            sample: split.sample,
                        });
                        return Ok(false);
                    }
                }
                rows += 1;
                if rows >= self.batch_size {
                    batches.push((builders.iter_mut().map(CellBuilder::finish).collect(), rows));
                    // Fresh builders: a finished string-view builder keeps
                    // its grown block size, so later batches would each
                    // hold megabytes for kilobytes of text and exhaust a
                    // small memory limit downstream.
                    builders = self.builders();
                    rows = 0;
                }
                Ok(true)
            },
        );
        if let Some(e) = failed {
            return Err(Failed(e));
        }
        let (stop, records) = read.map_err(Failed)?;
        if rows > 0 {
            batches.push((builders.iter_mut().map(CellBuilder::finish).collect(), rows));
        }
        let stop = match stop {
            SpanStop::At { byte, line } => {
                let at = start + byte;
                if at <= next.start {
                    Stop::Guess {
                        lines: line - 1 + next.newlines_from(at),
                    }
                } else {
                    Stop::Beyond {
                        at,
                        lines: line - 1,
                    }
                }
            }
            SpanStop::End { byte } => {
                if limit.is_some() && start + byte < split.len {
                    Stop::GaveUp
                } else {
                    Stop::End
                }
            }
        };
        Ok(Parsed {
            batches,
            records,
            stop,
        })
    }

    /// A builder per projected column, of the column's (sampled) type.
    fn builders(&self) -> Vec<CellBuilder> {
        self.wanted
            .iter()
            .map(|(p, _)| {
                CellBuilder::new(&self.split.types[*p], self.split.time_zone, self.batch_size)
            })
            .collect()
    }
}

/// How a type is named in a contradiction.
fn type_name(t: &DataType) -> &'static str {
    match t {
        DataType::Int64 => "an integer",
        DataType::Float64 => "a number",
        DataType::Date32 => "a date",
        DataType::Timestamp(_, _) => "a timestamp",
        _ => "text",
    }
}

/// An error's line counted from the start of the file, given the line the
/// parse started on.
fn rebase(e: FileError, start_line: u64) -> FileError {
    let shift = start_line.saturating_sub(1);
    match e {
        FileError::Csv {
            path,
            line,
            message,
        } => FileError::Csv {
            path,
            line: line + shift,
            message,
        },
        FileError::Encoding {
            path,
            line,
            encoding,
        } => FileError::Encoding {
            path,
            line: line + shift as usize,
            encoding,
        },
        FileError::Contradiction {
            path,
            line,
            column,
            expected,
            sample,
        } => FileError::Contradiction {
            path,
            line: line + shift,
            column,
            expected,
            sample,
        },
        other => other,
    }
}
