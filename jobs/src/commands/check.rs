//! `pdq check`: one rule file over one dataset.

use crate::util::outln;
use std::io::IsTerminal;

use anyhow::{Context, Result, anyhow};
use connectors::files::ReadOptions;
use connectors::files::sheet::XlsxLimits;
use pipeline::check::{EngineConfig, EngineKind};
use pipeline::{CheckOptions, check_paths};
use quality_rules::RuleFile;

use super::Outcome;
use crate::cli::{CheckArgs, EngineArgs, RunArgs};
use crate::util::{parse_as_of, parse_size, parse_time_zone};

/// Check options from the shared run flags.
pub(crate) fn options(run: &RunArgs) -> Result<CheckOptions> {
    let tz = parse_time_zone(&run.time_zone)?;
    let mut opts = CheckOptions::new(parse_as_of(run.as_of.as_deref(), tz)?);
    opts.time_zone = tz;
    opts.memory_limit = parse_size(&run.memory_limit)?;
    opts.target_partitions = run.threads;
    Ok(opts)
}

/// `[engine]` with `--engine`, `--scheduler` and `--stall-timeout-secs`
/// over it, checked.
pub(crate) fn engine_config(args: &EngineArgs, file: EngineConfig) -> Result<EngineConfig> {
    let kind = args
        .engine
        .as_deref()
        .map(EngineKind::parse)
        .transpose()
        .context("--engine")?;
    let config = file
        .with_overrides(kind, args.scheduler.clone())
        .with_stall_timeout(args.stall_timeout_secs);
    config.resolve().context("--engine")?;
    Ok(config)
}

pub fn run(args: CheckArgs) -> Result<Outcome> {
    let mut opts = options(&args.run)?;
    opts.engine = engine_config(&args.engine, EngineConfig::default())?
        .resolve()
        .context("--engine")?;
    opts.failed_rows_dir = args.failed_rows.clone();
    opts.read = ReadOptions {
        encoding: match &args.encoding {
            Some(label) => Some(
                encoding_rs::Encoding::for_label(label.as_bytes()).ok_or_else(|| {
                    anyhow!("unknown --encoding `{label}` (expected utf-8, gbk or gb18030)")
                })?,
            ),
            None => None,
        },
        delimiter: match args.delimiter {
            Some(c) if c.is_ascii() => Some(c as u8),
            Some(c) => {
                return Err(anyhow!(
                    "--delimiter must be one ASCII character, found `{c}`"
                ));
            }
            None => None,
        },
        sheet: args.sheet.clone(),
        time_zone: opts.time_zone,
        xlsx: match &args.xlsx_max_bytes {
            Some(size) => XlsxLimits {
                max_bytes: parse_size(size).context("--xlsx-max-bytes")? as u64,
            },
            None => XlsxLimits::default(),
        },
        ..ReadOptions::default()
    };
    let format = args.format.clone().unwrap_or_else(|| {
        if std::io::stdout().is_terminal() {
            "table".into()
        } else {
            "json".into()
        }
    });
    let report_kind =
        crate::reports::by_name(&format).ok_or_else(|| anyhow!("unknown --format `{format}`"))?;
    let rules = RuleFile::load(&args.rules)?;
    let rt = super::runtime(args.run.threads)?;
    let report = rt
        .block_on(check_paths(&args.data, &rules, &opts))
        .with_context(|| format!("check of dataset `{}` could not run", rules.spec.dataset))?;
    outln!("{}", report_kind.render(std::slice::from_ref(&report)));
    Ok(if report.has_failures() {
        Outcome::RulesFailed
    } else {
        Outcome::Clean
    })
}
