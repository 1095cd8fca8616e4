//! # connectors
//!
//! Every way data comes into pdq, all yielding Arrow record batches and
//! knowing nothing of the bureau's domain. Today: [`files`], datasets of
//! CSV / JSON / XLSX / Parquet files as DataFusion tables that locate every
//! row in its source file.

pub mod catalog;
pub mod files;
pub mod http;
pub mod paging;
pub mod source;
