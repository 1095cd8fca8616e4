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
            // `{:#}` prints the context chain on one line: "what: why".
            let text = format!("{err:#}");
            eprintln!("pdq: error: {}", text.replace('\n', " "));
            ExitCode::from(1)
        }
    }
}
