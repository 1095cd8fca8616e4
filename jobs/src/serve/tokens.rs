//! Tokens: `tokens.toml` (SHA-256 hashes only) and who a token signs in
//! as. The file is re-read when it changes (one `stat` per request
//! compares its modification and change times, size and inode) and on
//! SIGHUP ([`super::ServeState::reload`]): a revoked token is refused at its
//! next request. A file that no longer parses accepts no token until it is
//! fixed (and says so in the log), rather than keeping tokens someone meant
//! to revoke.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ServeError;

/// A signed-in party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The bureau's data team: everything.
    Bureau,
    /// A department's data officer: its own pages.
    Department(String),
}

/// One entry of `tokens.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// `bureau` or `department`.
    pub role: String,
    /// The department (role `department`).
    #[serde(default)]
    pub department: Option<String>,
    /// Who holds it.
    #[serde(default)]
    pub name: Option<String>,
    /// SHA-256 of the token, hex.
    pub sha256: String,
}

/// `tokens.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFile {
    /// The tokens.
    #[serde(default)]
    pub token: Vec<TokenEntry>,
}

/// SHA-256 of a token, hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// A new random token (32 bytes from the OS, hex).
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(hex::encode(b))
}

impl TokenFile {
    /// Loads the file (absent: no tokens); errors name the file and line.
    pub fn load(path: &Path) -> Result<TokenFile, ServeError> {
        let bad = |message: String| ServeError::Tokens {
            path: path.to_path_buf(),
            message,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TokenFile::default()),
            Err(e) => return Err(bad(e.to_string())),
        };
        let f: TokenFile = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| format!("line {}: ", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            bad(format!("{line}{}", e.message()))
        })?;
        for t in &f.token {
            match (t.role.as_str(), &t.department) {
                ("bureau", _) | ("department", Some(_)) => {}
                _ => {
                    return Err(bad(format!(
                        "a token has role `{}`; expected bureau, or department with `department`",
                        t.role
                    )));
                }
            }
        }
        Ok(f)
    }

    pub(crate) fn identify(&self, token: &str) -> Option<Identity> {
        let h = hash_token(token);
        self.token
            .iter()
            .find(|t| constant_eq(&t.sha256, &h))
            .map(|t| Identity {
                principal: principal_of(t),
                holder: t.name.clone(),
                token_sha256: t.sha256.clone(),
                via: "bearer",
            })
    }

    /// Whether the token with this hash still signs in as `principal`.
    pub(crate) fn still(&self, sha256: &str, principal: &Principal) -> bool {
        self.token
            .iter()
            .any(|t| constant_eq(&t.sha256, sha256) && principal_of(t) == *principal)
    }
}

fn principal_of(t: &TokenEntry) -> Principal {
    match t.department.as_ref() {
        Some(d) if t.role == "department" => Principal::Department(d.clone()),
        _ => Principal::Bureau,
    }
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Who a request is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// The party.
    pub principal: Principal,
    /// The holder's name in `tokens.toml`, if given.
    pub holder: Option<String>,
    /// The token's hash: a session remembers it, so that revoking the
    /// token ends the session.
    pub token_sha256: String,
    /// `bearer` or `session`.
    pub via: &'static str,
}

impl Identity {
    /// The reader as the audit log names it: role, department and holder,
    /// never the token.
    pub fn actor(&self) -> String {
        let who = match &self.principal {
            Principal::Bureau => "bureau".to_string(),
            Principal::Department(d) => format!("department:{d}"),
        };
        match &self.holder {
            Some(h) => format!("{who} ({h})"),
            None => who,
        }
    }
}

/// What a stat of the token file shows; a different stamp means re-read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
    #[cfg(unix)]
    changed: (i64, i64),
}

fn stamp(path: &Path) -> Option<Stamp> {
    #[cfg(unix)]
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: m.modified().ok(),
        len: m.len(),
        #[cfg(unix)]
        inode: m.ino(),
        #[cfg(unix)]
        changed: (m.ctime(), m.ctime_nsec()),
    })
}

/// The token file as last read.
pub(crate) struct Tokens {
    path: PathBuf,
    loaded: RwLock<(Option<Stamp>, Arc<TokenFile>)>,
}

impl Tokens {
    /// Reads the file; at start an invalid file is an error.
    pub fn open(path: &Path) -> Result<Tokens, ServeError> {
        let before = stamp(path);
        let file = TokenFile::load(path)?;
        Ok(Tokens {
            path: path.to_path_buf(),
            loaded: RwLock::new((before, Arc::new(file))),
        })
    }

    /// The tokens in force: re-read first if the file changed.
    pub(crate) fn current(&self) -> Arc<TokenFile> {
        let now = stamp(&self.path);
        if let Ok(l) = self.loaded.read()
            && l.0 == now
        {
            return l.1.clone();
        }
        self.read(now)
    }

    /// Re-reads the file whatever its stamp says (SIGHUP).
    pub fn reload(&self) {
        self.read(stamp(&self.path));
    }

    fn read(&self, now: Option<Stamp>) -> Arc<TokenFile> {
        let file = match TokenFile::load(&self.path) {
            Ok(f) => {
                tracing::info!(tokens = f.token.len(), "tokens.toml read");
                f
            }
            Err(error) => {
                tracing::error!(%error, "tokens.toml is invalid: no token is accepted until it is fixed");
                TokenFile::default()
            }
        };
        let file = Arc::new(file);
        if let Ok(mut l) = self.loaded.write() {
            *l = (now, file.clone());
        }
        file
    }
}
