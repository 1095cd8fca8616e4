//! `--format json`: the contract's JSON (CONTRACT.md); an array when several
//! datasets are rendered together.

use pipeline::CheckReport;

use super::Report;

/// The JSON report.
pub struct Json;

impl Report for Json {
    fn name(&self) -> &'static str {
        "json"
    }
    fn help(&self) -> &'static str {
        "the contract's result JSON"
    }
    fn render(&self, reports: &[CheckReport]) -> String {
        match reports {
            [one] => one.to_json(),
            many => {
                let items: Vec<String> = many.iter().map(CheckReport::to_json).collect();
                format!("[\n{}\n]", items.join(",\n"))
            }
        }
    }
}
