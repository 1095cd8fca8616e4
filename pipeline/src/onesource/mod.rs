//! One data, one source (一数一源一标准, issue #5): every basic data item has
//! one legal source department; pdq shows who collects what, which copies
//! disagree with the source, and builds golden records from the sources.
//!
//! ```text
//! registry (profile + authority.toml) ─┐
//! landed datasets ─ normalize ─ resolve (exact keys, blocking, Fellegi–Sunter)
//!                                      ├─▶ golden records + lineage
//!                                      ├─▶ conflicts (copy ≠ authority)
//! catalog declarations, landed columns ┴─▶ duplicate collection
//! ```
//!
//! - [`normalize`]: identifiers, names, dates before matching;
//! - [`registry`]: the authority registry;
//! - [`compare`]: string and date comparators;
//! - [`resolve`]: entity resolution;
//! - [`text`]: landed columns as text, read once and shared.
//! - `read` (private): a dataset read from the lake, in table order;
//! - `output` (private): the stage's lake tables, written a batch at a time.

pub mod compare;
pub mod conflict;
pub mod def;
pub mod duplicate;
pub mod golden;
pub mod normalize;
mod output;
mod read;
pub mod registry;
pub mod resolve;
pub mod stage;
pub mod step;
pub mod text;

/// Why a one-source step failed. One line, naming the file, dataset or column.
#[derive(Debug, thiserror::Error)]
pub enum OneSourceError {
    /// The authority registry (embedded or `authority.toml`) is wrong.
    #[error("authority registry {file}: {message}")]
    Registry {
        /// Which file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A configuration value is wrong.
    #[error("{0}")]
    Config(String),
    /// A dataset could not be read as declared.
    #[error("dataset {dataset}: {message}")]
    Data {
        /// `department.name`.
        dataset: String,
        /// What is wrong (naming the column).
        message: String,
    },
    /// The lake failed.
    #[error(transparent)]
    Land(#[from] crate::land::error::LandError),
}
