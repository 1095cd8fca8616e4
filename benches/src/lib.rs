//! Benchmark data generators.
