//! Credentials: from an environment variable or a file, never from the
//! command line, never printed.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SourceError;

/// Where a secret (a connection URL with its password, a token) is kept.
/// Exactly one of `env` and `file` is given. `Debug` never shows the value.
///
/// ```
/// use connectors::source::Secret;
/// let s = Secret { env: Some("PDQ_DOC_EXAMPLE_URL".into()), file: None };
/// assert!(s.resolve(std::path::Path::new(".")).is_err()); // unset: a clear error
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// An environment variable holding it.
    #[serde(default)]
    pub env: Option<String>,
    /// A file holding it (first line; relative to the workspace).
    #[serde(default)]
    pub file: Option<String>,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.env, &self.file) {
            (Some(e), _) => write!(f, "Secret(env {e})"),
            (None, Some(p)) => write!(f, "Secret(file {p})"),
            (None, None) => f.write_str("Secret(none)"),
        }
    }
}

impl Secret {
    /// Reads the secret's value.
    pub fn resolve(&self, base_dir: &Path) -> Result<String, SourceError> {
        match (&self.env, &self.file) {
            (Some(var), None) => std::env::var(var).map_err(|_| {
                SourceError::Config(format!(
                    "environment variable {var} is not set (it should hold the credential)"
                ))
            }),
            (None, Some(file)) => {
                let path = base_dir.join(file);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    SourceError::Config(format!(
                        "{}: cannot read credential file: {e}",
                        path.display()
                    ))
                })?;
                let value = text.lines().next().unwrap_or("").trim().to_string();
                if value.is_empty() {
                    return Err(SourceError::Config(format!(
                        "{}: the credential file is empty",
                        path.display()
                    )));
                }
                Ok(value)
            }
            _ => Err(SourceError::Config(
                "a credential needs exactly one of `env` (a variable name) or `file` (a path)"
                    .into(),
            )),
        }
    }
}

/// A URL without its password (and user), for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.to_string()
        }
        Err(_) => "<unparsable URL>".to_string(),
    }
}
