//! # jobs
//!
//! The orchestration behind the `pdq` binary: the nightly sweep, which
//! sequences the stages of `pipeline` ([`sweep`]), the scheduler's
//! arithmetic ([`schedule`]), the tamper-evident audit log ([`audit`]),
//! per-dataset locks ([`lock`]), alerts ([`alerts`]) and the scorecard
//! server ([`serve`]). The command-line front end (`src/main.rs`,
//! `src/commands/`) is a thin layer over these. No stage logic, SQL or
//! lake table lives here (ARCHITECTURE.md, "One stage, one owner").

pub mod alerts;
pub mod audit;
pub mod evaluation;
pub mod lock;
pub mod schedule;
pub mod serve;
pub mod sweep;
