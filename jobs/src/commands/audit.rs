//! `pdq audit verify|show|prune|anchor|seal|key-init`: thin wrappers over
//! `jobs::audit`. A log that does not verify (tampered, or unsigned) is
//! exit 3 with one stderr line naming the problem; a log that cannot be
//! read, or a key or anchor file set up wrongly, is exit 1.

use anyhow::{Result, bail};
use chrono::Utc;
use jobs::audit::{AuditError, AuditKey, AuditLog, Sealed, Verified, actor, key};

use super::Outcome;
use crate::cli::AuditArgs;
use crate::util::outln;

pub fn run(args: AuditArgs) -> Result<Outcome> {
    if args.action == "key-init" {
        return key_init(&args);
    }
    let (ws, _) = super::ops::load(&args.workspace)?;
    let log = AuditLog::new(&ws.dir.join("audit"));
    match args.action.as_str() {
        "verify" => match log.verify() {
            Ok(v) => {
                outln!("{}", intact(&v));
                Ok(Outcome::Clean)
            }
            Err(e) => verdict(e),
        },
        "show" => {
            let recs = log.records()?;
            for r in recs.iter().skip(recs.len().saturating_sub(args.last)) {
                outln!(
                    "{:>6} {} {:<24} {:<12} {} {}",
                    r.seq,
                    r.time.to_rfc3339(),
                    r.actor,
                    r.action,
                    r.target,
                    r.detail
                );
            }
            Ok(Outcome::Clean)
        }
        "anchor" => match log.anchor() {
            Ok(Some(a)) => {
                outln!(
                    "已锚定 anchored: record {} (hash {}) as anchor {} of log {} in {}",
                    a.seq,
                    &a.hash[..16.min(a.hash.len())],
                    a.n,
                    a.log,
                    log.anchor_file()?.unwrap_or_default().display()
                );
                Ok(Outcome::Clean)
            }
            Ok(None) => bail!(
                "no audit key is configured, so there is no signed head to anchor; {}",
                key::SET_UP
            ),
            Err(e) => verdict(e),
        },
        "seal" => match log.seal(&actor("cli:audit"), args.restart_anchors) {
            Ok(Sealed::Already(v)) => {
                outln!("已签名，无需封存 nothing to seal: {}", intact(&v));
                Ok(Outcome::Clean)
            }
            Ok(Sealed::Sealed(r)) => {
                outln!(
                    "已封存 sealed: records up to {} (previous head: {}); seal recorded as record {}; the head is signed (key id {})",
                    r.detail["sealed_seq"],
                    r.detail["previous_head"].as_str().unwrap_or("?"),
                    r.seq,
                    r.detail["key_id"].as_str().unwrap_or("?")
                );
                Ok(Outcome::Clean)
            }
            Err(e) => verdict(e),
        },
        _ => {
            let years = ws.audit_retention_years()?;
            let gone = log.prune(years, Utc::now())?;
            log.append(
                &actor("cli:audit"),
                "prune",
                "audit",
                serde_json::json!({"files": gone.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()}),
            )?;
            outln!(
                "删除 pruned {} file(s) older than {years} years",
                gone.len()
            );
            Ok(Outcome::Clean)
        }
    }
}

/// The one line for a log that verified.
fn intact(v: &Verified) -> String {
    let mut line = format!(
        "审计日志完整 audit log intact: {} records ({}–{}), head signed (key id {})",
        v.records,
        v.first.unwrap_or(0),
        v.last.unwrap_or(0),
        v.key_id
    );
    match &v.anchors {
        Some(a) => line += &format!("; {} anchor(s) checked in {}", a.checked, a.file.display()),
        None => line += "; no anchor file",
    }
    if let Some(at) = &v.incomplete {
        line += &format!(
            "; 末条记录不完整 incomplete final record at {at} (a crash in the middle of a write, not tampering; the next append removes it)"
        );
    }
    line
}

/// A verdict on the log is exit 3 and one line; anything else is an error.
fn verdict(e: AuditError) -> Result<Outcome> {
    match &e {
        AuditError::Broken {
            path,
            line,
            seq,
            what,
        } => eprintln!(
            "pdq: 审计日志被篡改 audit log broken: {}:{line}: record {seq}: {what}",
            path.display()
        ),
        AuditError::Unsigned { what } => {
            eprintln!("pdq: 审计日志未签名 audit log unsigned: {what}")
        }
        e if e.is_verdict() => eprintln!("pdq: 审计日志被篡改 audit log broken: {e}"),
        _ => return Err(e.into()),
    }
    Ok(Outcome::Broken)
}

/// `pdq audit key-init [--out PATH]`.
fn key_init(args: &AuditArgs) -> Result<Outcome> {
    let out = match &args.out {
        Some(p) => p.clone(),
        None => std::env::var_os(key::KEY_ENV)
            .filter(|v| !v.is_empty())
            .map(Into::into)
            .unwrap_or_else(|| key::SYSTEM_KEY.into()),
    };
    let ws = Some(args.workspace.dir.as_path()).filter(|w| w.join("pdq.toml").exists());
    if let Some(ws) = ws
        && key::inside(&out, ws)
    {
        bail!(
            "{}: the audit key must not be inside the workspace {} (anyone who can edit the log could re-sign it); choose a path outside it",
            out.display(),
            ws.display()
        );
    }
    key::init(&out)?;
    let id = AuditKey::load(&out, ws)?.id();
    let out = out.canonicalize().unwrap_or(out);
    outln!(
        "已生成审计密钥 audit key created: {} (mode 0600, key id {id}). Use it: PDQ_AUDIT_KEY_FILE={0}, or /etc/pdq/audit.key, or under systemd LoadCredential=pdq-audit-key:{0}; then `pdq audit seal -w DIR` signs an existing, checked log.",
        out.display()
    );
    Ok(Outcome::Clean)
}
