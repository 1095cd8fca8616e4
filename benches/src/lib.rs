//! Benchmark data generators and loaders.
//!
//! [`people`] makes the rule-engine benchmark's dataset (see
//! `benches/README.md`); [`divisions`] reads the GB/T 2260 code list it
//! draws division codes from; [`onesource_csv`] loads the entity-resolution
//! benchmark's CSV files.

pub mod divisions;
pub mod onesource_csv;
pub mod people;
