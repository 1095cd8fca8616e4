//! `unique` inside the one scan: the 64-bit key hash of every evaluated row
//! is collected while the row-level rules run, instead of reading the data
//! again for a GROUP BY.
//!
//! Each partition appends its hashes to a vector whose memory is reserved
//! from the session's memory pool (the same pool DataFusion's operators
//! use, so `--memory-limit` bounds both). When the pool refuses more, the
//! vector is sorted and written to a spill file of the session's disk
//! manager as one sorted run, and collection starts again. At the end of
//! the scan each partition sorts what it holds; [`repeated`] merges every
//! sorted run, in memory and on disk, and returns the hashes seen two or
//! more times — the only keys that can be duplicates. A repeated exact code
//! (`quality_rules::udfs::is_exact`: short key shapes such as ID numbers,
//! numbered one-to-one) is a duplicate already; repeated hashes are
//! confirmed by comparing the real keys (`super::duplicates`), so a hash
//! collision never makes a false duplicate.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanArray, UInt64Array};
use datafusion::arrow::compute::filter;
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SpillFile;
use datafusion::execution::disk_manager::DiskManager;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool, MemoryReservation};
use quality_rules::udfs::is_exact;

const WORD: usize = std::mem::size_of::<u64>();
/// Read and write buffer of a spill file.
const IO_BUFFER: usize = 256 * 1024;

/// The key hashes of one `unique` rule in one partition.
pub(crate) struct KeyHashes {
    hashes: Vec<u64>,
    reservation: MemoryReservation,
    disk: Arc<DiskManager>,
    runs: Vec<Arc<dyn SpillFile>>,
}

impl std::fmt::Debug for KeyHashes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyHashes")
            .field("in_memory", &self.hashes.len())
            .field("spilled_runs", &self.runs.len())
            .finish()
    }
}

impl KeyHashes {
    /// An empty collector drawing memory from `pool` and spilling to `disk`.
    pub(crate) fn new(rule: &str, pool: &Arc<dyn MemoryPool>, disk: &Arc<DiskManager>) -> Self {
        KeyHashes {
            hashes: Vec::new(),
            reservation: MemoryConsumer::new(format!("pdq unique `{rule}`"))
                .with_can_spill(true)
                .register(pool),
            disk: Arc::clone(disk),
            runs: Vec::new(),
        }
    }

    /// Adds the hashes of the rows whose outcome is not NULL (the evaluated rows).
    pub(crate) fn add(&mut self, hashes: &UInt64Array, evaluated: &BooleanArray) -> Result<()> {
        let n = evaluated.len() - evaluated.null_count();
        if n == 0 {
            return Ok(());
        }
        self.reserve(n)?;
        match evaluated.nulls() {
            None => self.hashes.extend_from_slice(hashes.values()),
            Some(valid) => {
                // The filter kernel copies runs of evaluated rows at once.
                let kept = filter(hashes, &BooleanArray::new(valid.inner().clone(), None))?;
                self.hashes
                    .extend_from_slice(kept.as_primitive::<UInt64Type>().values());
            }
        }
        Ok(())
    }

    /// Makes room for `n` more hashes within the memory pool, spilling what
    /// is held when the pool refuses.
    fn reserve(&mut self, n: usize) -> Result<()> {
        let needed = self.hashes.len() + n;
        if needed <= self.hashes.capacity() {
            return Ok(());
        }
        let target = needed.max(self.hashes.capacity() * 2).max(64 * 1024);
        let grow = (target - self.hashes.capacity()) * WORD;
        if self.reservation.try_grow(grow).is_ok() {
            self.hashes.reserve_exact(target - self.hashes.len());
            return Ok(());
        }
        self.spill()?;
        // After spilling, ask for just what this batch needs; if even that is
        // refused the pool is too small to run at all.
        self.reservation.try_grow(n * WORD)?;
        self.hashes.reserve_exact(n);
        Ok(())
    }

    /// Writes the held hashes, sorted, to a new spill file and frees their memory.
    fn spill(&mut self) -> Result<()> {
        if self.hashes.is_empty() {
            return Ok(());
        }
        // In place: no scratch memory outside the reservation (a radix sort
        // measured slower here, and needs a second buffer).
        self.hashes.sort_unstable();
        let file = self.disk.create_tmp_file("pdq unique key hashes")?;
        let mut out = BufWriter::with_capacity(IO_BUFFER, file.open_writer()?);
        for h in &self.hashes {
            out.write_all(&h.to_le_bytes())?;
        }
        let mut writer = out
            .into_inner()
            .map_err(|e| DataFusionError::IoError(e.into_error()))?;
        writer.flush()?;
        writer.finish()?;
        tracing::debug!(hashes = self.hashes.len(), "unique: spilled a sorted run");
        self.runs.push(file);
        self.hashes = Vec::new();
        self.reservation.free();
        Ok(())
    }

    /// Sorts what is held in memory: the partition's last run.
    pub(crate) fn finish(mut self) -> SortedRuns {
        // In place: no scratch memory outside the reservation (a radix sort
        // measured slower here, and needs a second buffer).
        self.hashes.sort_unstable();
        SortedRuns {
            memory: vec![self.hashes],
            files: self.runs,
            _reservations: vec![self.reservation],
        }
    }
}

/// Sorted runs of key hashes, from one partition or (merged) all of them.
#[derive(Default)]
pub(crate) struct SortedRuns {
    memory: Vec<Vec<u64>>,
    files: Vec<Arc<dyn SpillFile>>,
    // Held until the runs are merged, so the pool keeps counting their memory.
    _reservations: Vec<MemoryReservation>,
}

impl std::fmt::Debug for SortedRuns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SortedRuns")
            .field(
                "in_memory",
                &self.memory.iter().map(Vec::len).sum::<usize>(),
            )
            .field("spilled_runs", &self.files.len())
            .finish()
    }
}

impl SortedRuns {
    /// Takes over another partition's runs.
    pub(crate) fn append(&mut self, other: SortedRuns) {
        self.memory.extend(other.memory);
        self.files.extend(other.files);
        self._reservations.extend(other._reservations);
    }

    /// Number of spill files written (for logs and tests).
    pub(crate) fn spilled(&self) -> usize {
        self.files.len()
    }
}

/// One sorted source of hashes.
enum Source<'a> {
    Memory(std::slice::Iter<'a, u64>),
    File(BufReader<std::fs::File>),
}

impl Source<'_> {
    fn next(&mut self) -> Result<Option<u64>> {
        match self {
            Source::Memory(it) => Ok(it.next().copied()),
            Source::File(r) => {
                let mut w = [0u8; WORD];
                match r.read_exact(&mut w) {
                    Ok(()) => Ok(Some(u64::from_le_bytes(w))),
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }
}

/// The repeated key codes of a `unique` rule, or too many to hold.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Repeated {
    Hashes {
        /// Ascending, once each.
        hashes: Vec<u64>,
        /// Rows whose code is exact (`quality_rules::udfs::is_exact`) and
        /// repeated: rows whose key is certainly a duplicate.
        exact_rows: u64,
    },
    /// More than the budget (or the pool) allows: check every row instead.
    TooMany,
}

/// The repeated hashes as they are found, capped at `cap` bytes.
struct Collector {
    out: Vec<u64>,
    exact_rows: u64,
    cap: usize,
    too_many: bool,
}

impl Collector {
    /// Adds a code seen `times` times; false once there are too many (stop looking).
    fn push(&mut self, h: u64, times: u64) -> bool {
        if self.too_many {
            return false;
        }
        if HashIn::memory_size(self.out.len() + 1) > self.cap {
            self.too_many = true;
            self.out = Vec::new();
            return false;
        }
        self.out.push(h);
        if is_exact(h) {
            self.exact_rows += times;
        }
        true
    }

    fn finish(mut self) -> Repeated {
        if self.too_many {
            Repeated::TooMany
        } else {
            self.out.shrink_to_fit();
            Repeated::Hashes {
                hashes: self.out,
                exact_rows: self.exact_rows,
            }
        }
    }
}

/// The hashes that occur two or more times across all runs, ascending, once
/// each, or [`Repeated::TooMany`] when they would take more than `cap`
/// bytes. The caller reserves what is returned once the runs are freed (the
/// runs hold the memory until then).
pub(crate) fn repeated(runs: &SortedRuns, cap: usize) -> Result<Repeated> {
    let mut sources: Vec<Source<'_>> = runs
        .memory
        .iter()
        .filter(|m| !m.is_empty())
        .map(|m| Source::Memory(m.iter()))
        .collect();
    for f in &runs.files {
        let path = f.path().ok_or_else(|| {
            DataFusionError::Execution("unique: spill file has no local path".into())
        })?;
        let file = std::fs::File::open(path)?;
        sources.push(Source::File(BufReader::with_capacity(IO_BUFFER, file)));
    }
    let mut out = Collector {
        out: Vec::new(),
        exact_rows: 0,
        cap,
        too_many: false,
    };
    // The common case, one run per partition and no spill, merges two
    // slices directly; the general case uses a heap.
    if let [Source::Memory(a)] = sources.as_slice() {
        push_repeats(&mut out, a.as_slice().iter().copied());
        return Ok(out.finish());
    }
    if let [Source::Memory(a), Source::Memory(b)] = sources.as_slice() {
        push_repeats(&mut out, merge2(a.as_slice(), b.as_slice()));
        return Ok(out.finish());
    }
    let mut heap = BinaryHeap::with_capacity(sources.len());
    for (i, s) in sources.iter_mut().enumerate() {
        if let Some(h) = s.next()? {
            heap.push(Reverse((h, i)));
        }
    }
    // The heap's merge as a sequence; a read error ends it and is returned.
    let mut error = None;
    let merged = std::iter::from_fn(|| {
        let Reverse((h, i)) = heap.pop()?;
        match sources[i].next() {
            Ok(Some(next)) => heap.push(Reverse((next, i))),
            Ok(None) => {}
            Err(e) => {
                error = Some(e);
                return None;
            }
        }
        Some(h)
    });
    push_repeats(&mut out, merged);
    match error {
        Some(e) => Err(e),
        None => Ok(out.finish()),
    }
}

/// Adds, once each with its count, the values that occur more than once in
/// a sorted sequence, until the collector is full.
fn push_repeats(out: &mut Collector, sorted: impl Iterator<Item = u64>) {
    let mut run: Option<(u64, u64)> = None; // (value, times seen)
    for h in sorted {
        match &mut run {
            Some((prev, n)) if *prev == h => *n += 1,
            _ => {
                if let Some((prev, n)) = run
                    && n >= 2
                    && !out.push(prev, n)
                {
                    return;
                }
                run = Some((h, 1));
            }
        }
    }
    if let Some((prev, n)) = run
        && n >= 2
    {
        out.push(prev, n);
    }
}

/// The merge of two sorted slices.
fn merge2<'a>(a: &'a [u64], b: &'a [u64]) -> impl Iterator<Item = u64> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || match (a.get(i), b.get(j)) {
        (Some(&x), Some(&y)) if x <= y => {
            i += 1;
            Some(x)
        }
        (_, Some(&y)) => {
            j += 1;
            Some(y)
        }
        (Some(&x), None) => {
            i += 1;
            Some(x)
        }
        (None, None) => None,
    })
}

/// Bits of [`HashIn`]'s prefilter per candidate hash, before rounding up to
/// a power of two: about one other hash in 16 (or fewer) passes it to the
/// exact search.
const FILTER_BITS_PER_HASH: usize = 16;

/// `pdq_hash_in(hash)`: whether a key hash is one of a rule's repeated
/// hashes. It carries the hashes of one run of one rule, so it is built for
/// that query and never registered.
///
/// It runs on every evaluated row of the confirming read, so a binary search
/// per row (a chain of dependent loads) dominated that read. A bitmap indexed
/// by the hash's top bits turns most rows away with one load; only the rows
/// whose bit is set are searched for exactly.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct HashIn {
    hashes: Arc<Vec<u64>>,
    bits: Arc<Vec<u64>>,
    /// `spread(hash) >> shift` is the hash's bit in `bits`.
    shift: u32,
    signature: datafusion::logical_expr::Signature,
}

/// Spreads a key code over the top bits (Fibonacci hashing): exact codes
/// of similar keys share their top bits, and the prefilter is indexed by them.
#[inline]
fn spread(h: u64) -> u64 {
    h.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Number of bits of the prefilter for `n` hashes: a power of two, at least 64.
fn filter_bits(n: usize) -> usize {
    n.saturating_mul(FILTER_BITS_PER_HASH)
        .next_power_of_two()
        .max(64)
}

impl HashIn {
    /// `hashes` must be sorted ascending (as [`repeated`] returns them).
    pub(crate) fn new(hashes: Vec<u64>) -> Self {
        debug_assert!(hashes.is_sorted());
        let n_bits = filter_bits(hashes.len());
        let shift = 64 - n_bits.trailing_zeros();
        let mut bits = vec![0u64; n_bits / 64];
        for &h in &hashes {
            let b = (spread(h) >> shift) as usize;
            bits[b / 64] |= 1 << (b % 64);
        }
        HashIn {
            hashes: Arc::new(hashes),
            bits: Arc::new(bits),
            shift,
            signature: datafusion::logical_expr::Signature::exact(
                vec![datafusion::arrow::datatypes::DataType::UInt64],
                datafusion::logical_expr::Volatility::Immutable,
            ),
        }
    }

    /// Bytes a filter of `n` hashes holds: the hashes and the bitmap.
    pub(crate) fn memory_size(n: usize) -> usize {
        n * WORD + filter_bits(n) / 8
    }

    /// Whether `h` is one of the hashes.
    #[inline]
    fn contains(&self, h: u64) -> bool {
        let b = (spread(h) >> self.shift) as usize;
        (self.bits[b / 64] >> (b % 64)) & 1 == 1 && self.hashes.binary_search(&h).is_ok()
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for HashIn {
    fn name(&self) -> &str {
        "pdq_hash_in"
    }
    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }
    fn return_type(
        &self,
        _arg_types: &[datafusion::arrow::datatypes::DataType],
    ) -> Result<datafusion::arrow::datatypes::DataType> {
        Ok(datafusion::arrow::datatypes::DataType::Boolean)
    }
    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<datafusion::logical_expr::ColumnarValue> {
        let array = match args.args.first() {
            Some(a) => a.to_array(args.number_rows)?,
            None => return Err(DataFusionError::Internal("pdq_hash_in: no argument".into())),
        };
        let hashes = array.as_primitive_opt::<UInt64Type>().ok_or_else(|| {
            DataFusionError::Internal(format!(
                "pdq_hash_in: expected UInt64, found {}",
                array.data_type()
            ))
        })?;
        // A NULL hash (a NULL key part) is in no set: false, not NULL, so
        // that an `AND` with this on its left evaluates its right side only
        // on the few rows that pass (DataFusion's pre-selection needs a
        // left side without NULLs).
        let found = datafusion::arrow::buffer::BooleanBuffer::collect_bool(hashes.len(), |i| {
            hashes.is_valid(i) && self.contains(hashes.value(i))
        });
        Ok(datafusion::logical_expr::ColumnarValue::Array(Arc::new(
            BooleanArray::new(found, None),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::memory_pool::{GreedyMemoryPool, UnboundedMemoryPool};

    fn collector(pool: Arc<dyn MemoryPool>) -> KeyHashes {
        KeyHashes::new(
            "t",
            &pool,
            &Arc::new(DiskManager::builder().build().unwrap()),
        )
    }

    fn add(c: &mut KeyHashes, hashes: &[u64], evaluated: &[Option<bool>]) {
        c.add(
            &UInt64Array::from(hashes.to_vec()),
            &BooleanArray::from(evaluated.to_vec()),
        )
        .unwrap();
    }

    /// `repeated` with an unbounded pool and no cap.
    /// The repeated codes and the rows of the exact ones.
    fn all_repeated(runs: &SortedRuns) -> (Vec<u64>, u64) {
        match repeated(runs, usize::MAX).unwrap() {
            Repeated::Hashes { hashes, exact_rows } => (hashes, exact_rows),
            Repeated::TooMany => panic!("no cap, yet too many"),
        }
    }

    /// Reference: count every code.
    fn naive(all: &[u64]) -> (Vec<u64>, u64) {
        let mut counts = std::collections::BTreeMap::new();
        for h in all {
            *counts.entry(*h).or_insert(0u64) += 1;
        }
        let repeated: Vec<(u64, u64)> = counts.into_iter().filter(|(_, n)| *n >= 2).collect();
        let exact_rows = repeated
            .iter()
            .filter(|(h, _)| is_exact(*h))
            .map(|(_, n)| n)
            .sum();
        (repeated.into_iter().map(|(h, _)| h).collect(), exact_rows)
    }

    #[test]
    fn only_evaluated_rows_count() {
        let mut c = collector(Arc::new(UnboundedMemoryPool::default()));
        add(
            &mut c,
            &[5, 5, 7, 7, 9],
            &[Some(false), None, Some(false), Some(false), Some(false)],
        );
        let runs = c.finish();
        assert_eq!(all_repeated(&runs), (vec![7], 2));
    }

    #[test]
    fn partitions_and_spills_give_the_same_answer() {
        // Pseudo-random hashes from a small range, so that repeats occur
        // within and across partitions and spill runs.
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Exact codes and hashes (top bit set) alike.
            (x % 50_000) | ((x & 1) << 63)
        };
        let parts: Vec<Vec<u64>> = (0..3)
            .map(|_| (0..40_000).map(|_| next()).collect())
            .collect();
        let all: Vec<u64> = parts.iter().flatten().copied().collect();
        let expected = naive(&all);
        assert!(!expected.0.is_empty());
        assert!(expected.1 > 0 && expected.0.iter().any(|h| !is_exact(*h)));

        for (pool, must_spill) in [
            (
                Arc::new(UnboundedMemoryPool::default()) as Arc<dyn MemoryPool>,
                false,
            ),
            // Room for 1.5 blocks of 64K hashes: partitions must spill.
            (
                Arc::new(GreedyMemoryPool::new(3 * 64 * 1024 * WORD / 2)),
                true,
            ),
        ] {
            let mut merged = SortedRuns::default();
            let mut spilled = 0;
            for part in &parts {
                let mut c = collector(Arc::clone(&pool));
                for chunk in part.chunks(8192) {
                    add(&mut c, chunk, &vec![Some(false); chunk.len()]);
                }
                let runs = c.finish();
                spilled += runs.spilled();
                merged.append(runs);
            }
            assert_eq!(all_repeated(&merged), expected, "spilled {spilled}");
            assert_eq!(spilled > 0, must_spill, "spilled {spilled}");
        }
    }

    #[test]
    fn a_bounded_pool_spills_to_disk() {
        let pool: Arc<dyn MemoryPool> = Arc::new(GreedyMemoryPool::new(64 * 1024 * WORD));
        let mut c = collector(Arc::clone(&pool));
        let data: Vec<u64> = (0..200_000u64).map(|i| i % 150_000).collect();
        for chunk in data.chunks(8192) {
            add(&mut c, chunk, &vec![Some(false); chunk.len()]);
        }
        let runs = c.finish();
        assert!(runs.spilled() >= 2, "spilled {}", runs.spilled());
        assert!(pool.reserved() <= 64 * 1024 * WORD);
        assert_eq!(
            all_repeated(&runs),
            ((0..50_000).collect::<Vec<_>>(), 100_000)
        );
    }

    /// The repeated hashes are capped: over the cap the answer is "too many".
    #[test]
    fn repeated_hashes_stay_within_the_cap() {
        let pool: Arc<dyn MemoryPool> = Arc::new(UnboundedMemoryPool::default());
        let mut c = collector(Arc::clone(&pool));
        let data: Vec<u64> = (0..100_000u64).map(|i| i % 50_000).collect();
        for chunk in data.chunks(8192) {
            add(&mut c, chunk, &vec![Some(false); chunk.len()]);
        }
        let runs = c.finish();
        // 50,000 repeats and their filter: 400,000 bytes of hashes and a
        // bitmap of 2^20 bits.
        let need = HashIn::memory_size(50_000);
        assert_eq!(need, 400_000 + (1 << 20) / 8);
        assert_eq!(
            repeated(&runs, need).unwrap(),
            Repeated::Hashes {
                hashes: (0..50_000).collect(),
                // Codes 0..50,000 are exact (top bit clear), each seen twice.
                exact_rows: 100_000,
            }
        );
        assert_eq!(repeated(&runs, need - 1).unwrap(), Repeated::TooMany);
    }

    #[test]
    fn hash_in_finds_exactly_the_candidates() {
        // Spread hashes (as `pdq_key_hash` gives) and clustered ones (every
        // candidate on the same filter bit).
        let spread: Vec<u64> = (0..5_000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let clustered: Vec<u64> = (0..5_000u64).collect();
        for all in [spread, clustered] {
            let mut candidates: Vec<u64> = all.iter().copied().step_by(3).collect();
            candidates.sort_unstable();
            let f = HashIn::new(candidates.clone());
            for h in all.iter().copied().chain([0, u64::MAX, 1 << 63]) {
                assert_eq!(
                    f.contains(h),
                    candidates.binary_search(&h).is_ok(),
                    "hash {h:#x}"
                );
            }
        }
        assert!(!HashIn::new(vec![]).contains(0));
    }
}
