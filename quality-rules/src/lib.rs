//! pdq rule language and checks.

pub mod ids;
