//! `pdq harvest --suggest-mapping SOURCE` (issue #19, 1): reads one catalog
//! source as configured, without changing the catalog, and proposes a
//! ready mapping: for each catalog field the key that gave it to the most
//! records, and for fields nothing gave, a key that resembles the field —
//! each line with its coverage — plus the keys left unmapped.

use std::path::Path;

use serde::Serialize;

use connectors::catalog::mapping::{MappingReport, Suggestion, suggest, suggestion_toml};

use super::harvest::{load_sources, read_sources};
use crate::land::LandError;

/// A suggested mapping for one source.
#[derive(Debug, Clone, Serialize)]
pub struct MappingSuggestion {
    /// The source.
    pub source: String,
    /// What its records gave, with no mapping beyond the configured one.
    pub report: MappingReport,
    /// One line per field.
    pub suggestions: Vec<Suggestion>,
    /// The same as a `[source.mapping]` table to append to the source file.
    pub toml: String,
}

/// Reads catalog source `name` of the workspace at `dir` and suggests its
/// mapping. Errors: no such source (naming those there are), or the source
/// could not be read (its reason).
pub async fn suggest_mapping(
    dir: &Path,
    name: &str,
    xlsx: connectors::files::sheet::XlsxLimits,
) -> Result<MappingSuggestion, LandError> {
    let mut defs = load_sources(dir)?;
    let known: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
    defs.retain(|d| d.name == name);
    if defs.is_empty() {
        return Err(LandError::Config(format!(
            "no catalog source `{name}` (sources: {})",
            if known.is_empty() {
                "none under catalogs/".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    let (def, result) = read_sources(&defs, dir, xlsx)
        .await
        .into_iter()
        .next()
        .ok_or_else(|| LandError::Config(format!("catalog source `{name}` was not read")))?;
    let harvest = result.map_err(|e| {
        LandError::Config(format!("catalog source `{name}` could not be read: {e}"))
    })?;
    let report = harvest.mapping_report();
    let suggestions = suggest(&report);
    let toml = suggestion_toml(&def.name, &report, &suggestions);
    Ok(MappingSuggestion {
        source: def.name,
        report,
        suggestions,
        toml,
    })
}
