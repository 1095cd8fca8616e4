//! Small things the commands share: logging set-up, parsing of times, time
//! zones and sizes, atomic file writes.

use std::io::IsTerminal;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Logs go to stderr: readable on a terminal, JSON lines otherwise (for the
/// bureau's log collector). `RUST_LOG` overrides the level.
pub fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    // `-v` and `-vv` raise pdq's own crates only: the libraries under them
    // (DataFusion, delta-rs, sqlx, hyper …) stay at warn unless `-vvv`, or
    // RUST_LOG, asks for them (issue #23, 13: they were 95% of `-v`).
    let ours = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let default = if verbose >= 3 {
        "debug".to_string()
    } else {
        format!(
            "warn,pdq={ours},jobs={ours},pipeline={ours},connectors={ours},quality_rules={ours}"
        )
    };
    // The Delta kernel logs an error for every table that does not exist
    // yet, which is how every dataset starts; real failures come back as
    // errors anyway.
    // Concurrent appends to the ledger are retried by delta-rs, which warns
    // each time; a conflict that fails still comes back as an error.
    let default = format!(
        "{default},buoyant_kernel::snapshot::builder=off,deltalake_core::kernel::transaction=error"
    );
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        let _ = builder.try_init();
    } else {
        let _ = builder.json().try_init();
    }
}

/// Whether to print JSON: `--format json`, or no `--format` and stdout is
/// not a terminal (a pipe or a file gets JSON, a person gets a table).
pub fn wants_json(format: Option<&str>) -> bool {
    match format {
        Some(f) => f == "json",
        None => !std::io::stdout().is_terminal(),
    }
}

/// Parses a time-zone name such as `Asia/Shanghai`.
pub fn parse_time_zone(name: &str) -> Result<Tz> {
    Tz::from_str(name).map_err(|_| {
        anyhow!("unknown time zone `{name}` (expected an IANA name such as Asia/Shanghai)")
    })
}

/// Parses `--as-of`: RFC 3339, or a date / naive date-time in `tz`; default now.
pub fn parse_as_of(text: Option<&str>, tz: Tz) -> Result<DateTime<FixedOffset>> {
    let Some(text) = text.map(str::trim) else {
        let now = Utc::now().with_timezone(&tz);
        let secs = now.timestamp();
        let now = tz.timestamp_opt(secs, 0).single().unwrap_or(now);
        return Ok(now.fixed_offset());
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t);
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    });
    let Some(naive) = naive else {
        bail!(
            "invalid --as-of `{text}` (expected RFC 3339 such as 2026-11-22T00:00:00+08:00, or YYYY-MM-DD[ HH:MM:SS])"
        );
    };
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.fixed_offset())
        .ok_or_else(|| anyhow!("--as-of `{text}` does not exist in time zone {tz}"))
}

/// Parses a size such as `2GiB`, `512MiB`, `1G`, `1000000`
/// ([`pipeline::workspace::parse_size`], the one definition).
pub fn parse_size(text: &str) -> Result<usize> {
    pipeline::workspace::parse_size(text).map_err(|e| anyhow!(e))
}

/// Writes a file atomically: a temporary file in the same directory, synced,
/// then renamed over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(pipeline::atomic::write(path, bytes)?)
}

/// Writes to standard output, like `println!`, but a closed pipe
/// (`pdq check … | head -3`) ends the process quietly with exit code 0, as
/// ripgrep and other command-line tools do, instead of panicking; any other
/// write error is one line on stderr and exit code 1 (CONTRACT.md, "Exit
/// codes": never a panic for a closed output pipe).
macro_rules! outln {
    () => { $crate::util::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::util::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}
pub(crate) use outln;

/// What [`outln!`] calls: one write of `args`, then a flush.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("pdq: error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_forms() {
        let tz = parse_time_zone("Asia/Shanghai").unwrap();
        assert_eq!(
            parse_as_of(Some("2026-11-22"), tz).unwrap().to_rfc3339(),
            "2026-11-22T00:00:00+08:00"
        );
        assert_eq!(
            parse_as_of(Some("2026-11-22 13:05:00"), tz)
                .unwrap()
                .to_rfc3339(),
            "2026-11-22T13:05:00+08:00"
        );
        assert_eq!(
            parse_as_of(Some("2026-11-22T00:00:00Z"), tz)
                .unwrap()
                .to_rfc3339(),
            "2026-11-22T00:00:00+00:00"
        );
        let err = parse_as_of(Some("22/11/2026"), tz).unwrap_err().to_string();
        assert!(err.contains("22/11/2026"), "{err}");
        assert!(parse_time_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("1 parsec").is_err());
    }

    #[test]
    fn atomic_write_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
