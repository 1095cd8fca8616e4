//! `pdq`: a thin binary over the library crates. `main` parses arguments,
//! runs the command and turns its outcome into the contract's exit codes:
//! 0 = ran and no rule at `fail`; 3 = ran and some rule at `fail`;
//! 1 = could not run, with one line on stderr saying what and where.

use std::process::ExitCode;

mod cli;
mod commands;
mod reports;
mod util;

/// mimalloc, as datafusion-cli uses: many small allocations (a catalog's
/// million data items) are faster, and memory freed is given back.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let thp = no_transparent_huge_pages();
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    util::init_logging(cli.verbose);
    if let Err(e) = thp {
        // An old kernel without the flag: huge pages stay as they were.
        tracing::debug!("prctl(PR_SET_THP_DISABLE) failed: {e}");
    }
    quiet_caught_panics();
    match commands::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            eprintln!("pdq: error: {}", one_line(&err));
            ExitCode::from(1)
        }
    }
}

/// Turns transparent huge pages off for this process, unless
/// `MIMALLOC_ALLOW_THP` says otherwise. mimalloc asks the kernel for huge
/// pages on its large regions (`madvise(MADV_HUGEPAGE)`); each first touch
/// of one then zeroes 2 MiB, and that repeats every time the allocator
/// gives freed memory back and takes it again. In a harvest of 100,000
/// catalog entries the kernel's page zeroing was 27% of all CPU
/// (`clear_page_erms`); without huge pages the harvest takes 0.79× the
/// time, and ingest, checks and one-source resolution hold less memory
/// (benches/RESULTS.md, "Transparent huge pages"). The setting is the
/// process's own (inherited by what it starts), never the machine's.
fn no_transparent_huge_pages() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: prctl(PR_SET_THP_DISABLE) only sets a flag of this
        // process; it reads and writes no memory of ours.
        #[allow(unsafe_code)]
        let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// deltalake aborts a Parquet upload that failed at completion (a full
/// disk, a cut connection) with object_store's `BufWriter::abort`, which
/// panics "Already shut down" in that state; deltalake catches the panic
/// (`upload_parquet_file` in deltalake-core's `datafile/writer.rs`) and
/// returns the upload's error, which pdq reports in one line. The default
/// hook would still print that panic, with a backtrace, as if pdq had
/// crashed: it is not printed. Every other panic is.
fn quiet_caught_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let at_abort = info.location().is_some_and(|l| {
            l.file().contains("object_store") && l.file().ends_with("buffered.rs")
        });
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
        if !(at_abort && message == Some("Already shut down")) {
            default(info);
        }
    }));
}

/// The error and its causes on one line, "what: why", each cause once: an
/// error that already shows its source in its own message (`{path}:
/// {source}`) does not get it repeated (issue #23, 9).
fn one_line(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text.replace('\n', " ")
}
