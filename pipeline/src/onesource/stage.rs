//! The one-source stage over a workspace: reads every landed dataset that
//! declares `[onesource]`, resolves subjects across departments, and writes
//! golden records, links, conflicts and duplicate-collection findings.
//!
//! ```text
//! datasets/<dept>/<name>.toml [onesource] ─▶ lake data/<dept>/<name> (landed)
//!     ─▶ keys normalised (invalid ones set aside with their reason)
//!     ─▶ resolve (persons and organisations separately)
//!     ─▶ lake _pdq/onesource/{golden,links,conflicts,duplicates} (one commit each, tagged with the run)
//!     ─▶ OneSourceReport (masked) for published/onesource.json
//! ```
//!
//! A dataset declares its subject columns:
//!
//! ```toml
//! [onesource]
//! subject = "person"            # or "organisation"
//! key = "id_number"             # 公民身份号码 (or another document) / 统一社会信用代码
//! document_type = "zjlx"        # persons: 居民身份证, 外国人永久居留身份证, 护照 … (optional)
//! nationality = "gj"            # persons: 3 letters, part of a passport's key (optional)
//! name = "name"
//! birth_date = "birth_date"
//! sex = "sex_code"
//! address = "address"
//! updated_at = "updated_at"     # orders copies by recency
//! attributes = { marital_status = "hyzk" }   # beyond the registry's column names
//! ```

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use arrow::datatypes::SchemaRef;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::OneSourceError;
use super::conflict::{Conflict, conflicts, counts_by_dataset};
use super::duplicate::{
    CatalogDeclaration, DataThresholds, DatasetColumns, DuplicateFinding, from_catalogs, from_data,
};
use super::golden::{Observations, SourceDataset, golden_records};
use super::normalize::{IdIssue, PersonKey, normalize_person_key, normalize_uscc};
use super::output::{
    BatchOf, ConflictRow, DOCUMENT_KEYS, DuplicateRow, KindBatches, Resolved, RowsOf, SubjectKeys,
    conflict_schema, duplicate_schema, golden_batch, golden_schema, link_batch, link_schema, pack,
};
pub use super::output::{CONFLICTS_TABLE, DUPLICATES_TABLE, GOLDEN_TABLE, LINKS_TABLE};
use super::read::{Loaded, load};
use super::registry::{AuthorityRegistry, SubjectKind};
use super::resolve::{MatchConfig, Records, resolve};
use super::text::TextColumn;
use crate::land::Lake;
use crate::mask::mask;
use crate::workspace::Workspace;

/// What the stage needs besides the workspace.
#[derive(Debug, Clone)]
pub struct OneSourceOptions {
    /// Identifiers are validated as of this date.
    pub as_of: NaiveDate,
    /// The run id stored with every row written.
    pub run: String,
    /// Catalog declarations (from the catalog harvest or a file).
    pub declarations: Vec<CatalogDeclaration>,
    /// Person matching (default [`MatchConfig::persons`]).
    pub matching: MatchConfig,
    /// Runs whose golden records, links and conflicts are kept, this one
    /// included (`[retention] onesource_runs`); older runs' rows are
    /// removed once this run's are written.
    pub keep_runs: usize,
}

/// Identifiers set aside in one dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SetAside {
    /// Count per reason.
    pub reasons: BTreeMap<String, u64>,
    /// Up to 10 masked examples (`row`, `value`, `reason`).
    pub samples: Vec<(u64, String, String)>,
}

/// Per dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetSummary {
    /// Rows read.
    pub rows: u64,
    /// Rows whose key was valid after normalisation.
    pub valid_keys: u64,
    /// Of those, keys that needed repair (trim, full width, lowercase x, 15→18).
    pub repaired_keys: u64,
    /// Keys set aside.
    pub set_aside: SetAside,
    /// Copies of authority attributes compared with the authority.
    pub compared: u64,
    /// Of those, copies in conflict.
    pub conflicts: u64,
}

/// The stage's result (everything in it is safe to publish: masked).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OneSourceReport {
    /// The run.
    pub run: String,
    /// The registry's profile.
    pub profile: String,
    /// Where the registry's items come from (the profile's text, the
    /// workspace's authority.toml); each duplicate finding names its own.
    #[serde(default)]
    pub registry: String,
    /// Per dataset (`department.name`).
    pub datasets: BTreeMap<String, DatasetSummary>,
    /// Records resolved.
    pub records: u64,
    /// Subjects (clusters).
    pub subjects: u64,
    /// Links made by probabilistic matching.
    pub probabilistic_links: u64,
    /// Golden attribute values written.
    pub golden_values: u64,
    /// Conflicts found.
    pub conflicts: u64,
    /// Up to 100 conflicts, masked.
    pub conflict_samples: Vec<Conflict>,
    /// Duplicate collection.
    pub duplicates: Vec<DuplicateFinding>,
    /// Per dataset, the attributes it holds (found by column name) that no
    /// item of the registry owns: compared by recency only, with no source
    /// to be held to, until authority.toml names one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub no_source: BTreeMap<String, Vec<String>>,
}

const ORGS: &str = r#"
threshold = 0.99
fields = [
  { name = "name", prepare = "text", comparison = { type = "jaro_winkler", thresholds = [0.95, 0.88] } },
  { name = "birth_date", prepare = "date", comparison = { type = "date" } },
  { name = "sex", prepare = "sex", comparison = { type = "exact" } },
  { name = "address", prepare = "text", comparison = { type = "jaro_winkler", thresholds = [0.9, 0.75] } },
  { name = "id", prepare = "trim", comparison = { type = "distance", max = 2 }, m = [0.05, 0.8, 0.1, 0.05] },
]
blocking = [[{ field = "name" }], [{ field = "id", prefix = 8 }]]
"#;

/// Runs the stage: reads, resolves, writes the lake tables, and returns the
/// masked report.
pub async fn run_onesource(
    ws: &Workspace,
    lake: &Lake,
    registry: &AuthorityRegistry,
    opts: &OneSourceOptions,
) -> Result<OneSourceReport, OneSourceError> {
    let mut loaded = Vec::new();
    for def in &ws.datasets {
        if let Some(os) = &def.onesource
            && let Some(l) = load(lake, def, os, registry).await?
        {
            loaded.push(l);
        }
    }
    let mut report = OneSourceReport {
        run: opts.run.clone(),
        profile: registry.profile.clone(),
        registry: registry.provenance(),
        ..Default::default()
    };
    for l in &loaded {
        let orphans: Vec<String> = l
            .attributes
            .iter()
            .filter(|(a, _, _)| registry.owner_of(a).is_none())
            .map(|(a, _, _)| a.clone())
            .collect();
        if !orphans.is_empty() {
            report.no_source.insert(l.def.id(), orphans);
        }
    }
    let orgs: MatchConfig = toml::from_str(ORGS)
        .map_err(|e| OneSourceError::Config(format!("embedded organisation matching: {e}")))?;
    let mut conflicts_all: Vec<Conflict> = Vec::new();
    let run = opts.run.as_str();
    let kind_name = |k: SubjectKind| match k {
        SubjectKind::Person => "person",
        SubjectKind::Organisation => "organisation",
    };
    let mut resolved: Vec<Resolved> = Vec::new();
    let mut columns_for_dup: Vec<DatasetColumns> = Vec::new();
    for kind in [SubjectKind::Person, SubjectKind::Organisation] {
        let config = match kind {
            SubjectKind::Person => &opts.matching,
            SubjectKind::Organisation => &orgs,
        };
        let mut part: Vec<&mut Loaded> =
            loaded.iter_mut().filter(|l| l.os.subject == kind).collect();
        if part.is_empty() {
            continue;
        }
        let mut records = Records::new(config);
        let sizes: Vec<usize> = part.iter().map(|l| l.keys.len()).collect();
        records.reserve(sizes.iter().sum());
        let mut obs = Observations::default();
        // Keys of documents other than the 公民身份号码, numbered as met:
        // equal `type:number` texts get one key, different ones never do.
        let mut documents: HashMap<String, u128> = HashMap::new();
        let mut document_texts: Vec<String> = Vec::new();
        // Each dataset's records, to give duplicate collection their keys.
        let mut dup_records: Vec<(usize, Range<usize>)> = Vec::new();
        for (d, l) in part.iter_mut().enumerate() {
            let summary = report.datasets.entry(l.def.id()).or_default();
            let attr_idx: Vec<usize> = l
                .attributes
                .iter()
                .map(|(a, _, _)| obs.attribute_index(a))
                .collect();
            // Keys and matching values are prepared on every core, a chunk
            // of rows each; what depends on record order (numbering other
            // documents, counts, lineage) follows here, in row order.
            let chunks = prepare_dataset(l, d as u32, kind, opts.as_of, config)?;
            let incoming: Vec<&Records> = chunks.iter().map(|c| &c.records).collect();
            records.reserve_for(&incoming, sizes[d + 1..].iter().sum());
            let first = records.len();
            let mut i = 0;
            for chunk in chunks {
                let base = records.len();
                records.append(&chunk.records)?;
                for (j, norm) in chunk.keys.into_iter().enumerate() {
                    summary.rows += 1;
                    let key = match norm {
                        Ok(k) => {
                            summary.valid_keys += 1;
                            if k.repaired {
                                summary.repaired_keys += 1;
                            }
                            match k.number {
                                KeyNumber::Packed(p) => p,
                                KeyNumber::Document(text) => {
                                    let next = DOCUMENT_KEYS | (documents.len() as u128 + 1);
                                    *documents.entry(text).or_insert_with_key(|text| {
                                        document_texts.push(text.clone());
                                        next
                                    })
                                }
                            }
                        }
                        Err(reason) => {
                            let raw = l.keys.get(i).unwrap_or("");
                            set_aside(&mut summary.set_aside, l.rows[i], raw, reason);
                            0
                        }
                    };
                    records.key[base + j] = key;
                    i += 1;
                }
            }
            // Prepared: what only matching needed is let go (the raw keys,
            // a matching column that is no attribute); rows and recency
            // move to the observations.
            l.keys = TextColumn::missing(0);
            l.matching = std::array::from_fn(|_| TextColumn::missing(0));
            l.document_types = TextColumn::missing(0);
            l.nationalities = TextColumn::missing(0);
            obs.push_dataset(
                SourceDataset {
                    id: l.def.id(),
                    department: l.def.department.clone(),
                },
                std::mem::take(&mut l.rows),
                std::mem::take(&mut l.recency),
                attr_idx
                    .iter()
                    .zip(&l.attributes)
                    .map(|(&a, (_, _, values))| (a, values.clone())),
            );
            dup_records.push((columns_for_dup.len(), first..records.len()));
            columns_for_dup.push(DatasetColumns {
                dataset: l.def.id(),
                department: l.def.department.clone(),
                keys: Vec::new(),
                columns: l
                    .attributes
                    .iter()
                    .map(|(_, c, v)| (c.clone(), v.clone()))
                    .collect(),
            });
        }
        let res = resolve(&records, config)?;
        for (at, range) in dup_records {
            columns_for_dup[at].keys = records.key[range].to_vec();
        }
        report.records += records.len() as u64;
        report.subjects += res.stats.clusters as u64;
        report.probabilistic_links += res.evidence.len() as u64;
        let mut subject_keys = SubjectKeys {
            packed: vec![0; res.stats.clusters],
            documents: document_texts,
        };
        for (&k, &c) in records.key.iter().zip(&res.cluster) {
            if let Some(first) = subject_keys.packed.get_mut(c as usize)
                && *first == 0
            {
                *first = k;
            }
        }
        let mut evidence_of: BTreeMap<u32, (f64, String)> = BTreeMap::new();
        for e in &res.evidence {
            let unkeyed = if records.key[e.b as usize] == 0 {
                e.b
            } else {
                e.a
            };
            evidence_of
                .entry(unkeyed)
                .or_insert((e.probability, e.explain()));
        }
        let golden = golden_records(&res.cluster, &obs, registry);
        let found = conflicts(&res.cluster, &golden, &obs, registry, |s| {
            subject_keys.text(s)
        });
        for (ds, (compared, conflicted)) in
            counts_by_dataset(&res.cluster, &golden, &obs, registry, &found)
        {
            let s = report.datasets.entry(ds).or_default();
            s.compared += compared;
            s.conflicts += conflicted;
        }
        resolved.push(Resolved {
            kind: kind_name(kind),
            obs,
            keyed: records.key.iter().map(|&k| k != 0).collect(),
            cluster: res.cluster,
            subject_keys,
            evidence_of,
            golden,
        });
        conflicts_all.extend(found);
    }
    let mut dups = from_catalogs(&opts.declarations, registry);
    dups.extend(from_data(
        &columns_for_dup,
        registry,
        DataThresholds::default(),
    ));

    // Lake writes: one commit per table, once per run.
    let once = format!("onesource-{run}");
    // Golden values and lineage rows are made a batch at a time as they are
    // written.
    let per_kind: [(&'static str, SchemaRef, RowsOf, BatchOf); 2] = [
        (
            GOLDEN_TABLE,
            golden_schema(),
            |p| p.golden.len(),
            golden_batch,
        ),
        (LINKS_TABLE, link_schema(), |p| p.cluster.len(), link_batch),
    ];
    for (table, schema, rows, batch) in per_kind {
        let batches = KindBatches {
            table,
            run,
            schema: schema.clone(),
            resolved: &resolved,
            rows,
            batch,
            kind: 0,
            start: 0,
        };
        lake.append_batches(table, &schema, batches, Some(&once))
            .await?;
    }
    let rows: Vec<ConflictRow> = conflicts_all
        .iter()
        .map(|c| ConflictRow { run, c })
        .collect();
    lake.append_records(CONFLICTS_TABLE, &conflict_schema(), &rows, Some(&once))
        .await?;
    let rows: Vec<DuplicateRow> = dups
        .iter()
        .map(|d| DuplicateRow {
            run,
            item: &d.item,
            attribute: d.attribute.as_deref(),
            authority: &d.authority,
            department: &d.department,
            evidence: serde_json::to_string(&d.evidence).unwrap_or_default(),
        })
        .collect();
    lake.append_records(DUPLICATES_TABLE, &duplicate_schema(), &rows, Some(&once))
        .await?;

    // Retention: the per-subject tables keep the stage's last runs only
    // (each run writes every subject again), the same runs in all three:
    // a run's conflicts go with its golden values and links, even when
    // later runs found none. The removal is one commit per table, of whole
    // files; a failure leaves older rows for the next run to remove, and
    // this run's output stands.
    let tables = [GOLDEN_TABLE, LINKS_TABLE, CONFLICTS_TABLE];
    match lake
        .keep_latest_runs_of(&tables, "run", opts.keep_runs.max(1))
        .await
    {
        Ok(gone) if !gone.is_empty() => {
            tracing::info!(runs = gone.len(), oldest = %gone[0], "older one-source runs removed")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "older one-source runs could not be removed"),
    }

    report.golden_values = resolved.iter().map(|p| p.golden.len() as u64).sum();
    report.conflicts = conflicts_all.len() as u64;
    report.conflict_samples = conflicts_all
        .iter()
        .take(100)
        .map(|c| c.masked(registry))
        .collect();
    report.duplicates = dups;
    Ok(report)
}

/// A valid key as a worker normalised it.
struct PreparedKey {
    /// Whether anything was repaired to get it.
    repaired: bool,
    number: KeyNumber,
}

/// How a key becomes the number records are resolved by.
enum KeyNumber {
    /// A resident ID or credit code, packed (never 0; its text is
    /// [`unpack`]ed when written, not held).
    Packed(u128),
    /// Another identity document's `type:number` text: numbered in record
    /// order, so equal texts share a number (done after the workers, in row
    /// order).
    Document(String),
}

/// A chunk of one dataset's rows, prepared: matching values as [`Records`]
/// (keys still 0, numbered afterwards) and each row's normalised key or why it has none.
struct PreparedChunk {
    records: Records,
    keys: Vec<Result<PreparedKey, IdIssue>>,
}

/// Normalises the keys and prepares the matching values of `l`'s rows on
/// every core (`threads` of the [`MatchConfig`]), a contiguous chunk each; the
/// chunks come back in row order.
fn prepare_dataset(
    l: &Loaded,
    source: u32,
    kind: SubjectKind,
    as_of: NaiveDate,
    config: &MatchConfig,
) -> Result<Vec<PreparedChunk>, OneSourceError> {
    let n = l.keys.len();
    // Below this many rows a second thread costs more than it saves.
    const MIN_CHUNK: usize = 16_384;
    let threads = crate::onesource::resolve::threads(config)
        .min(n.div_ceil(MIN_CHUNK))
        .max(1);
    let chunk = n.div_ceil(threads).max(1);
    let prepare = |range: std::ops::Range<usize>| -> Result<PreparedChunk, OneSourceError> {
        let mut records = Records::new(config);
        let mut keys = Vec::with_capacity(range.len());
        for i in range {
            let raw = l.keys.get(i).unwrap_or("");
            keys.push(match kind {
                SubjectKind::Person => normalize_person_key(
                    raw,
                    l.document_types.get(i),
                    l.nationalities.get(i),
                    as_of,
                )
                .map(|k| PreparedKey {
                    repaired: k.fixes().0 != 0,
                    number: match k {
                        PersonKey::Resident(n) => KeyNumber::Packed(pack(&n.id)),
                        PersonKey::Document { key, .. } => KeyNumber::Document(key),
                    },
                }),
                SubjectKind::Organisation => normalize_uscc(raw).map(|n| PreparedKey {
                    repaired: n.fixes.0 != 0,
                    number: KeyNumber::Packed(pack(&n.id)),
                }),
            });
            let m = &l.matching;
            records.push(
                source,
                0,
                &[
                    m[0].get(i),
                    m[1].get(i),
                    m[2].get(i),
                    m[3].get(i),
                    Some(raw),
                ],
            )?;
        }
        Ok(PreparedChunk { records, keys })
    };
    if threads == 1 {
        return Ok(vec![prepare(0..n)?]);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let prepare = &prepare;
                s.spawn(move || prepare(start..(start + chunk).min(n)))
            })
            .collect();
        handles
            .into_iter()
            .map(crate::onesource::resolve::joined)
            .collect()
    })
}

fn set_aside(s: &mut SetAside, row: u64, raw: &str, reason: IdIssue) {
    *s.reasons.entry(reason.as_str().to_string()).or_default() += 1;
    if s.samples.len() < 10 {
        s.samples
            .push((row, mask("id_number", raw), reason.as_str().to_string()));
    }
}

/// Writes the masked report to `dir/onesource.json`.
pub fn write_published(
    dir: &std::path::Path,
    report: &OneSourceReport,
) -> Result<std::path::PathBuf, OneSourceError> {
    let path = dir.join("onesource.json");
    let io = |e: std::io::Error| OneSourceError::Config(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let text = serde_json::to_vec_pretty(report)
        .map_err(|e| OneSourceError::Config(format!("{}: {e}", path.display())))?;
    std::fs::write(&path, text).map_err(io)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::DatasetDef;
    use crate::onesource::def::OneSourceDef;
    use crate::onesource::output::unpack;

    fn loaded(rows: usize) -> Loaded {
        let def: DatasetDef = toml::from_str(
            r#"
name = "people"
department = "gongan"
[source]
kind = "file"
path = "in/people.csv"
[[columns]]
name = "id_number"
type = "string"
"#,
        )
        .unwrap();
        let os: OneSourceDef = toml::from_str("key = \"id_number\"").unwrap();
        let mut keys = Vec::new();
        let mut document_types = Vec::new();
        let mut matching: [Vec<Option<String>>; 4] = Default::default();
        for i in 0..rows {
            let body = format!(
                "1101051980{:02}{:02}{:03}",
                1 + i % 12,
                1 + i % 28,
                i % 1000
            );
            let check = quality_rules::ids::resident_id::check_digit(body.as_bytes()).unwrap();
            // Every seventh row a passport (numbered later, in row order),
            // every eleventh a damaged number, every thirteenth none.
            let (key, doc) = match i % 143 {
                x if x % 13 == 0 => (None, None),
                x if x % 11 == 0 => (Some(format!("{body}?")), None),
                x if x % 7 == 0 => (Some(format!("E{:08}", i % 5000)), Some("护照")),
                _ => (Some(format!(" {body}{} ", check as char)), None),
            };
            keys.push(key);
            document_types.push(doc.map(str::to_string));
            matching[0].push(Some(format!("王{}", i % 97)));
            matching[1].push(Some(format!("1980-{:02}-{:02}", 1 + i % 12, 1 + i % 28)));
            matching[2].push((i % 5 != 0).then(|| (1 + i % 2).to_string()));
            matching[3].push(Some(format!("解放路{}号", i % 301)));
        }
        let text = |v: &[Option<String>]| TextColumn::from_values(v.iter().map(Option::as_deref));
        Loaded {
            def,
            os,
            keys: text(&keys),
            matching: std::array::from_fn(|k| text(&matching[k])),
            attributes: vec![],
            document_types: text(&document_types),
            nationalities: TextColumn::missing(rows),
            recency: vec![0; rows],
            rows: (0..rows as u64).collect(),
        }
    }

    fn flat(chunks: Vec<PreparedChunk>, config: &MatchConfig) -> (Records, Vec<String>) {
        let mut records = Records::new(config);
        let mut keys = Vec::new();
        for c in chunks {
            records.append(&c.records).unwrap();
            keys.extend(c.keys.into_iter().map(|k| match k {
                Ok(k) => match k.number {
                    KeyNumber::Packed(p) => {
                        let text = String::from_utf8(unpack(p).to_vec()).unwrap();
                        format!("{text} {} {p}", k.repaired)
                    }
                    KeyNumber::Document(text) => format!("{text} {} document", k.repaired),
                },
                Err(reason) => reason.as_str().to_string(),
            }));
        }
        (records, keys)
    }

    #[test]
    fn rows_prepared_on_several_workers_equal_rows_prepared_on_one() {
        let rows = 3 * 16_384 + 77;
        let l = loaded(rows);
        let as_of = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let mut one = MatchConfig::persons();
        one.threads = 1;
        let mut four = MatchConfig::persons();
        four.threads = 4;
        let chunks = prepare_dataset(&l, 3, SubjectKind::Person, as_of, &four).unwrap();
        assert_eq!(chunks.len(), 4, "the rows are split among the workers");
        let (records, keys) = flat(chunks, &four);
        let single = prepare_dataset(&l, 3, SubjectKind::Person, as_of, &one).unwrap();
        assert_eq!(single.len(), 1);
        let (records_one, keys_one) = flat(single, &one);
        assert_eq!(records.len(), rows);
        assert!(records == records_one, "same records, same order");
        assert_eq!(keys, keys_one);
        assert!(records.source.iter().all(|&s| s == 3));
        assert!(
            records.key.iter().all(|&k| k == 0),
            "keys are numbered afterwards"
        );
        // Each kind of key where the rows put it, across chunk boundaries.
        for i in [0, 7, 11, 14, 16_383, 16_384, 16_385, rows - 1] {
            let expected = match i % 143 {
                x if x % 13 == 0 => "missing".to_string(),
                x if x % 11 == 0 => keys[i].clone(),
                x if x % 7 == 0 => format!("passport:CHN:E{:08} false document", i % 5000),
                _ => l.keys.get(i).unwrap().to_string(),
            };
            assert!(
                keys[i].starts_with(&expected),
                "row {i}: {} is not {expected}",
                keys[i]
            );
            assert_eq!(records.fields[0].get(i), format!("王{}", i % 97));
        }
        assert!(
            keys[11].len() < 20 && !keys[11].contains(' '),
            "a damaged key has a reason: {}",
            keys[11]
        );
    }
}
