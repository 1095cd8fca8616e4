//! Benchmark data generators.
//!
//! [`people`] makes the rule-engine benchmark's dataset (see
//! `benches/README.md`); [`divisions`] reads the GB/T 2260 code list it
//! draws division codes from.

pub mod divisions;
pub mod people;
