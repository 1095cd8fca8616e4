//! # jobs
//!
//! The orchestration behind the `pdq` binary: the nightly sweep over every
//! stage ([`sweep`]), the scheduler's arithmetic ([`schedule`]), the run
//! ledger ([`runs`]), the tamper-evident audit log ([`audit`]), per-dataset
//! locks ([`lock`]), alerts ([`alerts`]) and the scorecard server ([`serve`]). The command-line front end
//! (`src/main.rs`, `src/commands/`) is a thin layer over these.

pub mod alerts;
pub mod audit;
pub mod evaluation;
pub mod lock;
pub mod runs;
pub mod schedule;
pub mod serve;
pub mod sweep;
