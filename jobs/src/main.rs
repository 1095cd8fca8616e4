//! `pdq`: a thin binary over the library crates. `main` parses arguments,
//! runs the command and turns its outcome into the contract's exit codes:
//! 0 = ran and no rule at `fail`; 3 = ran and some rule at `fail`;
//! 1 = could not run, with one line on stderr saying what and where.

use std::process::ExitCode;

mod cli;
mod commands;
mod reports;
mod util;

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    util::init_logging(cli.verbose);
    match commands::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            eprintln!("pdq: error: {}", one_line(&err));
            ExitCode::from(1)
        }
    }
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
