//! Output formats: one file per report, one line each in [`all`]. The values
//! of `--format` and their help come from this list.

mod html;
mod json;
mod table;

use pipeline::CheckReport;

/// A way to render check results.
pub trait Report: Send + Sync {
    /// The `--format` value.
    fn name(&self) -> &'static str;
    /// One line of help.
    fn help(&self) -> &'static str;
    /// Renders the reports (one for `pdq check`, one per dataset for the demo).
    fn render(&self, reports: &[CheckReport]) -> String;
}

/// Every report, once.
pub fn all() -> Vec<Box<dyn Report>> {
    vec![
        Box::new(json::Json),
        Box::new(table::Table),
        Box::new(html::Html),
    ]
}

/// The report called `name`.
pub fn by_name(name: &str) -> Option<Box<dyn Report>> {
    all().into_iter().find(|r| r.name() == name)
}

/// clap value parser listing the reports with their help.
pub fn format_parser() -> clap::builder::PossibleValuesParser {
    let values: Vec<clap::builder::PossibleValue> = all()
        .iter()
        .map(|r| clap::builder::PossibleValue::new(r.name()).help(r.help()))
        .collect();
    clap::builder::PossibleValuesParser::new(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = all().iter().map(|r| r.name()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(by_name("json").is_some());
    }
}
