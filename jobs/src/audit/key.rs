//! The audit key: where it is found, how it is checked, how a new one is
//! made, and the HMAC-SHA256 that signs heads and anchors with it.
//!
//! The key lives outside the workspace, so that whoever can rewrite the
//! log cannot re-sign it (issue #18, 4). First found wins:
//!
//! 1. `$CREDENTIALS_DIRECTORY/pdq-audit-key` (systemd `LoadCredential=`);
//! 2. `$PDQ_AUDIT_KEY_FILE` (it must then exist);
//! 3. `/etc/pdq/audit.key`;
//! 4. the user's own key, `$XDG_CONFIG_HOME/pdq/audit.key` or
//!    `~/.config/pdq/audit.key` (what `pdq demo` creates on a machine
//!    with no key).
//!
//! None found: the log is written with unsigned heads and `pdq audit
//! verify` fails, saying so. A key found but inside the workspace,
//! readable by group or others, or shorter than 32 bytes is refused.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::AuditError;

/// The systemd credential's name (`LoadCredential=pdq-audit-key:…`).
pub const CREDENTIAL: &str = "pdq-audit-key";
/// The system-wide key file.
pub const SYSTEM_KEY: &str = "/etc/pdq/audit.key";
/// Names the key file explicitly.
pub const KEY_ENV: &str = "PDQ_AUDIT_KEY_FILE";

/// A loaded audit key (never printed: `Debug` shows only its id).
#[derive(Clone)]
pub struct AuditKey {
    bytes: Vec<u8>,
    /// Where it was read from.
    pub path: PathBuf,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({}, id {})", self.path.display(), self.id())
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The user's own key file: `$XDG_CONFIG_HOME/pdq/audit.key`, else
/// `~/.config/pdq/audit.key`; `None` without a home.
pub fn user_key_path() -> Option<PathBuf> {
    env_path("XDG_CONFIG_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| env_path("HOME").map(|h| h.join(".config")))
        .map(|d| d.join("pdq").join("audit.key"))
}

/// The key file to use, by the order above; `None` when there is none.
pub fn locate() -> Option<PathBuf> {
    if let Some(dir) = env_path("CREDENTIALS_DIRECTORY") {
        let p = dir.join(CREDENTIAL);
        if p.exists() {
            return Some(p);
        }
    }
    if let Some(p) = env_path(KEY_ENV) {
        return Some(p);
    }
    let system = PathBuf::from(SYSTEM_KEY);
    if std::fs::symlink_metadata(&system).is_ok() {
        return Some(system);
    }
    user_key_path().filter(|p| p.exists())
}

/// How to set a key up, for messages.
pub const SET_UP: &str = "create one with `pdq audit key-init` (writes /etc/pdq/audit.key, or --out PATH and set PDQ_AUDIT_KEY_FILE=PATH; under systemd: LoadCredential=pdq-audit-key:/etc/pdq/audit.key)";

/// Whether `path` is inside `workspace` (both resolved; a path that does
/// not exist yet is judged by its parent).
pub fn inside(path: &Path, workspace: &Path) -> bool {
    let Ok(ws) = workspace.canonicalize() else {
        return false;
    };
    let resolved = path.canonicalize().ok().or_else(|| {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty())?;
        Some(parent.canonicalize().ok()?.join(path.file_name()?))
    });
    resolved.is_some_and(|p| p.starts_with(&ws))
}

impl AuditKey {
    /// The key from [`locate`], checked against `workspace`; `None` when no
    /// key is configured.
    pub fn find(workspace: &Path) -> Result<Option<AuditKey>, AuditError> {
        locate()
            .map(|p| AuditKey::load(&p, Some(workspace)))
            .transpose()
    }

    /// Reads and checks the key at `path`: outside `workspace` (if any), not
    /// readable by group or others, at least 32 bytes (64 hex digits, as
    /// `pdq audit key-init` writes, or raw bytes).
    pub fn load(path: &Path, workspace: Option<&Path>) -> Result<AuditKey, AuditError> {
        let bad = |what: String| AuditError::Config {
            path: path.to_path_buf(),
            what,
        };
        if let Some(ws) = workspace
            && inside(path, ws)
        {
            return Err(bad(format!(
                "the audit key is inside the workspace {}: anyone who can edit the log could re-sign it; move it outside (e.g. /etc/pdq/audit.key) and set PDQ_AUDIT_KEY_FILE",
                ws.canonicalize()
                    .unwrap_or_else(|_| ws.to_path_buf())
                    .display()
            )));
        }
        let mut file = std::fs::File::open(path).map_err(|e| {
            bad(match e.kind() {
                std::io::ErrorKind::NotFound => format!("no such key file; {SET_UP}"),
                _ => format!("cannot read the audit key: {e}"),
            })
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let mode = file.metadata().map_err(|e| bad(e.to_string()))?.mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(bad(format!(
                    "the audit key is open to group or others (mode {mode:04o}): chmod 600 {}",
                    path.display()
                )));
            }
        }
        let mut raw = vec![];
        file.read_to_end(&mut raw)
            .map_err(|e| bad(format!("cannot read the audit key: {e}")))?;
        let text = String::from_utf8_lossy(&raw);
        let bytes = match hex::decode(text.trim()) {
            Ok(b) if text.trim().len() >= 64 => b,
            _ => raw,
        };
        if bytes.len() < 32 {
            return Err(bad(format!(
                "the audit key is {} bytes; it needs at least 32 ({SET_UP})",
                bytes.len()
            )));
        }
        Ok(AuditKey {
            bytes,
            path: path.to_path_buf(),
        })
    }

    /// A key from bytes (tests, and keys made in memory).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> AuditKey {
        AuditKey {
            bytes: bytes.to_vec(),
            path: path.to_path_buf(),
        }
    }

    /// A short public name for the key (not secret; shown in heads so that
    /// a wrong key is told apart from a forged signature).
    pub fn id(&self) -> String {
        hex::encode(&hmac_sha256(&self.bytes, b"pdq-audit-key-id")[..6])
    }

    /// HMAC-SHA256 of `msg`, hex.
    pub fn sign(&self, msg: &str) -> String {
        hex::encode(hmac_sha256(&self.bytes, msg.as_bytes()))
    }

    /// Whether `mac` is the signature of `msg` (compared in constant time).
    pub fn check(&self, msg: &str, mac: &str) -> bool {
        let want = self.sign(msg);
        want.len() == mac.len()
            && want
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// HMAC-SHA256 (RFC 2104) over SHA-256's 64-byte block; written out here
/// because the `hmac` crate in the lock file needs a newer `digest` than the
/// `sha2` we build on.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.map(|x| x ^ b);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// `n` random bytes from the OS.
pub fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut b = [0u8; N];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b)
}

/// Writes a new random 32-byte key (64 hex digits) to `path`, mode 0600,
/// atomically, and never over an existing file: the key is written to a
/// temporary file in the same directory, synced, then hard-linked into
/// place (which fails if the name exists).
pub fn init(path: &Path) -> Result<(), AuditError> {
    let bad = |what: String| AuditError::Config {
        path: path.to_path_buf(),
        what,
    };
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(bad(
            "a key file is already there; refusing to overwrite it (a new key makes every signed head unverifiable)".into(),
        ));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| bad(format!("cannot create {}: {e}", dir.display())))?;
    let key = random_bytes::<32>().map_err(|e| bad(format!("no randomness: {e}")))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        std::process::id()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(format!("{}\n", hex::encode(key)).as_bytes())?;
            f.sync_all()
        })
        .and_then(|_| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    written.map_err(|e| {
        bad(if e.kind() == std::io::ErrorKind::AlreadyExists {
            "a key file is already there; refusing to overwrite it".into()
        } else {
            format!("cannot write the key: {e}")
        })
    })?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The key a new log would be signed with, for `pdq demo`: the configured
/// one, or else a new key in the user's own location (returned with
/// `true`). `None` when neither can be had.
pub fn ensure_user_key() -> Result<Option<(PathBuf, bool)>, AuditError> {
    if let Some(p) = locate() {
        return Ok(Some((p, false)));
    }
    let Some(p) = user_key_path() else {
        return Ok(None);
    };
    init(&p)?;
    Ok(Some((p, true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn init_writes_0600_once_and_load_refuses_bad_keys() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(&ws).unwrap();
        let p = dir.path().join("keys/audit.key");
        init(&p).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let before = std::fs::read(&p).unwrap();
        let e = init(&p).unwrap_err().to_string();
        assert!(e.contains("refusing to overwrite"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), before, "the key is unchanged");
        let k = AuditKey::load(&p, Some(&ws)).unwrap();
        assert!(k.check("x", &k.sign("x")) && !k.check("y", &k.sign("x")));
        // Inside the workspace: refused.
        let inner = ws.join("audit.key");
        init(&inner).unwrap();
        let e = AuditKey::load(&inner, Some(&ws)).unwrap_err().to_string();
        assert!(e.contains("inside the workspace"), "{e}");
        // Too short, and open to others.
        let short = dir.path().join("short.key");
        init(&short).unwrap();
        std::fs::write(&short, "abcd\n").unwrap();
        assert!(
            AuditKey::load(&short, Some(&ws))
                .unwrap_err()
                .to_string()
                .contains("at least 32")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = AuditKey::load(&p, Some(&ws)).unwrap_err().to_string();
            assert!(e.contains("chmod 600"), "{e}");
        }
    }
}
