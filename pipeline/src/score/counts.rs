//! Stored counts in a compact form for evaluating a whole year: every
//! string interned once, one small row per count. A year of a large bureau
//! is millions of counts; as owned strings they cost gigabytes.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::score::RuleCount;

/// One stored count, with interned keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Index into [`Counts::runs`].
    pub run: u32,
    /// Index into [`Counts::datasets`].
    pub dataset: u32,
    /// Index into [`Counts::departments`].
    pub department: u32,
    /// Index into [`Counts::rules`].
    pub rule: u32,
    /// Index into [`Counts::dimensions`].
    pub dimension: u32,
    /// Evaluated.
    pub evaluated: i64,
    /// Failed.
    pub failed: i64,
    /// 0 pass, 1 warn, 2 fail.
    pub status: u8,
}

/// Interned strings.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    /// The strings, by index.
    pub values: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    /// The index of `s`, adding it if new.
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        let i = self.values.len() as u32;
        self.values.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }

    /// The index of `s`, if known.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.index.get(s).copied()
    }

    /// The string at `i`.
    pub fn name(&self, i: u32) -> &str {
        &self.values[i as usize]
    }
}

/// A set of stored counts.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    /// Run ids.
    pub runs: Interner,
    /// Each run's as-of time, by run index.
    pub run_as_of: Vec<DateTime<Utc>>,
    /// Datasets.
    pub datasets: Interner,
    /// Departments.
    pub departments: Interner,
    /// Rule ids.
    pub rules: Interner,
    /// Rule dimensions.
    pub dimensions: Interner,
    /// Rule-set versions seen, per run index.
    pub rules_versions: Vec<BTreeSet<String>>,
    /// The counts.
    pub rows: Vec<Row>,
}

impl Counts {
    /// Adds one count.
    #[allow(clippy::too_many_arguments)] // one stored row, field by field
    pub fn push(
        &mut self,
        run_id: &str,
        as_of: DateTime<Utc>,
        dataset: &str,
        department: &str,
        rule: &str,
        dimension: &str,
        evaluated: i64,
        failed: i64,
        status: &str,
        rules_version: &str,
    ) {
        let run = self.runs.id(run_id);
        if run as usize == self.run_as_of.len() {
            self.run_as_of.push(as_of);
            self.rules_versions.push(BTreeSet::new());
        }
        let versions = &mut self.rules_versions[run as usize];
        if !versions.contains(rules_version) {
            versions.insert(rules_version.to_string());
        }
        let row = Row {
            run,
            dataset: self.datasets.id(dataset),
            department: self.departments.id(department),
            rule: self.rules.id(rule),
            dimension: self.dimensions.id(dimension),
            evaluated,
            failed,
            status: match status {
                "fail" => 2,
                "warn" => 1,
                _ => 0,
            },
        };
        self.rows.push(row);
    }

    /// Puts the rows in a canonical order — run (as-of, id), dataset, rule —
    /// so that sums are made in the same order whatever order storage
    /// returned them in.
    pub fn normalize(&mut self) {
        let rank = |names: &Interner| -> Vec<u32> {
            let mut idx: Vec<u32> = (0..names.values.len() as u32).collect();
            idx.sort_by(|a, b| names.name(*a).cmp(names.name(*b)));
            let mut r = vec![0u32; idx.len()];
            for (pos, i) in idx.into_iter().enumerate() {
                r[i as usize] = pos as u32;
            }
            r
        };
        let mut run_idx: Vec<u32> = (0..self.runs.values.len() as u32).collect();
        run_idx.sort_by(|a, b| {
            (self.run_as_of[*a as usize], self.runs.name(*a))
                .cmp(&(self.run_as_of[*b as usize], self.runs.name(*b)))
        });
        let mut run_rank = vec![0u32; run_idx.len()];
        for (pos, i) in run_idx.into_iter().enumerate() {
            run_rank[i as usize] = pos as u32;
        }
        let (ds, rl) = (rank(&self.datasets), rank(&self.rules));
        self.rows.sort_by_key(|r| {
            (
                run_rank[r.run as usize],
                ds[r.dataset as usize],
                rl[r.rule as usize],
            )
        });
    }

    /// Each run's range of rows (rows must be normalized: a run's rows are contiguous).
    pub fn run_ranges(&self) -> std::collections::BTreeMap<u32, (usize, usize)> {
        let mut out = std::collections::BTreeMap::new();
        let mut i = 0;
        while i < self.rows.len() {
            let run = self.rows[i].run;
            let mut j = i;
            while j < self.rows.len() && self.rows[j].run == run {
                j += 1;
            }
            out.insert(run, (i, j));
            i = j;
        }
        out
    }

    /// Runs in order (as-of, then id): indexes.
    pub fn run_order(&self) -> Vec<u32> {
        let mut idx: Vec<u32> = (0..self.runs.values.len() as u32).collect();
        idx.sort_by(|a, b| {
            (self.run_as_of[*a as usize], self.runs.name(*a))
                .cmp(&(self.run_as_of[*b as usize], self.runs.name(*b)))
        });
        idx
    }

    /// From owned counts.
    pub fn from_counts(history: &[RuleCount]) -> Counts {
        let mut c = Counts::default();
        for r in history {
            c.push(
                &r.run_id,
                r.as_of,
                &r.dataset,
                &r.department,
                &r.rule,
                &r.dimension,
                r.evaluated,
                r.failed,
                &r.status,
                &r.rules_version,
            );
        }
        c.normalize();
        c
    }
}
