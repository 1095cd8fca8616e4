//! # pipeline
//!
//! The bureau's domain model and the stages of pdq. This crate holds the
//! vocabulary (`RuleResult`, `CheckReport`, later `CatalogEntry`, `Delivery`,
//! `Scorecard`) and the stages that turn sources into published results:
//!
//! - [`land`]: every delivery of a dataset into the lake (Delta Lake), with
//!   quarantine and a delivery ledger;
//! - [`workspace`]: the bureau workspace (`pdq.toml`, dataset definitions);
//! - [`check`]: one rule file over one dataset in one scan;
//! - [`mask`]: masking of identifiers and names for everything published;
//! - [`leak`]: the scanner that proves nothing published leaks them.

pub mod atomic;
pub mod calendar;
pub mod catalog;
pub mod check;
pub mod dataset;
pub mod demo;
pub mod evaluate;
pub mod html;
pub mod land;
pub mod leak;
pub mod mask;
pub mod model;
pub mod objection;
pub mod onesource;
pub mod outputs;
pub mod profile;
pub mod publish;
pub mod run;
pub mod score;
pub mod site;
pub mod tables;
pub mod usage;
pub mod workspace;

pub use check::{CheckError, CheckOptions, check_paths};
pub use model::{CheckReport, RuleResult, Sample};
