//! `pdq init DIR`: a new bureau workspace with a commented `pdq.toml` and
//! the folders it uses.

use crate::util::outln;
use anyhow::{Result, bail};

use super::Outcome;
use crate::cli::InitArgs;

/// The `pdq.toml` a new workspace starts with; every key is shown with its default.
pub const PDQ_TOML: &str = r#"# pdq 工作区配置 / pdq workspace configuration
# 所有键都有默认值；删除一行即使用默认值。Every key has a default; delete a line to use it.

bureau = "示例数据局"            # the bureau's name, for reports
# profile = "xpcc-2025"         # jurisdiction profile: `pdq init --profile ID` writes it (pdq profile list)
time_zone = "Asia/Shanghai"     # naive timestamps and schedules are in this zone

[lake]
location = "lake"               # a directory (relative to this file) or s3://bucket/prefix
# [lake.s3]
# endpoint = "http://127.0.0.1:9000"
# access_key = { env = "PDQ_S3_KEY" }
# secret_key = { env = "PDQ_S3_SECRET" }

[sweep]
parallelism = 2                 # datasets worked on at once
# memory_limit = "2GiB"         # memory one dataset's check may use before spilling to disk (default 2GiB)
wait_for_earlier_minutes = 120  # before scoring, wait this long for sweeps started earlier and still going

[engine]                        # which engine runs the checks
kind = "embedded"               # in this process; "ballista": a Ballista cluster (pdq built with --features jobs/ballista)
# scheduler = "df://127.0.0.1:50050"  # kind = "ballista": the scheduler (`standalone`: one in this process)
# staging = "/srv/pdq/staging"  # kind = "ballista": where a check stages its dataset for the executors (a mount they all see)
# stall_timeout_secs = 300      # kind = "ballista": a cluster job with no progress this long (no task started or finished) is cancelled and the check fails

[files]
xlsx_max_bytes = "512MiB"       # the most an XLSX workbook may unpack to, and the most cell
                                # text a row (or a sheet kept whole) may hold; past it the delivery fails

[serve]                         # pdq serve
session_idle_seconds = 1800     # a session unused this long ends (30 minutes)
session_max_seconds = 28800     # a session ends this long after sign-in, used or not (8 hours)
header_timeout_seconds = 10     # time to send a request's line and headers (also the keep-alive idle limit)
idle_timeout_seconds = 60       # a connection that sends and receives nothing this long is closed
max_body = "64KiB"              # larger request bodies get 413
max_header = "16KiB"            # larger request lines and headers get 431
trust_proxy = false             # true behind a TLS proxy that sets X-Forwarded-Proto (cookies get Secure)

[schedule]
cron = "30 2 * * *"             # pdq daemon: every night at 02:30 (min hour day month weekday)
max_catch_up = 1                # runs missed while the daemon was down are caught up as one run
retries = 3                     # retries of a sweep that could not run, with backoff

[alerts]
# webhook = "http://alerts.example/pdq"   # JSON POST on sweep failure or new `fail` results

[retention]
audit_years = 3                 # the audit log is kept at least this long (regulations: 3 years)
lake_days = 7                   # earlier versions of lake tables stay readable this long, then their files are deleted
onesource_runs = 7              # one-source runs whose golden records, links and conflicts are kept

[departments]                   # 部门代码与名称 / department codes (folders under datasets/) and their names
# gongan = "公安局"

[calendar]
files = []                      # more holiday notices (CSV), read after the embedded 2020–2026 and calendar/ (`pdq calendar import`)

[scoring]                       # 评分 / scorecards
# weight of each regulation dimension in a dataset's score
dimension_weights = { completeness = 1.0, validity = 1.0, timeliness = 1.0, consistency = 1.0, accuracy = 1.0 }
# dataset_weights = { "gongan.population" = 2.0 }   # a dataset's weight in its department's score (default 1)
grades = [                      # grade bands, highest first
  { name = "优秀", en = "excellent", min = 90.0 },
  { name = "良好", en = "good", min = 80.0 },
  { name = "合格", en = "pass", min = 60.0 },
  { name = "不合格", en = "fail", min = 0.0 },
]

[evaluation]                    # 年度评估 / the annual evaluation
weights = { quality = 0.4, timeliness = 0.2, rectification = 0.2, catalog = 0.1, one_source = 0.1, objections = 0.1 }
# grades = [ { name = "优秀", en = "excellent", min = 90.0 } ]   # default: the scoring grades
"#;

const README: &str = "pdq 工作区 / pdq workspace\n\n\
datasets/<部门>/<数据集>.toml   每个数据集的来源、字段类型和规则文件 / each dataset's source, columns and rule file\n\
rules/                          规则文件 (YAML) / rule files\n\
catalogs/                       部门目录 / department catalogs\n\
lake/                           数据湖 (Delta Lake) / the lake\n\
published/                      发布的结果 / published results\n\
audit/                          审计日志 / the audit log\n";

pub fn run(args: InitArgs) -> Result<Outcome> {
    let dir = &args.dir;
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{}: exists and is not empty; pdq init creates a new workspace",
            dir.display()
        );
    }
    // No silent default profile (issue #17): the bureau names the
    // regulation it works under.
    let id = match args.profile {
        Some(id) => id,
        None => ask_profile()?,
    };
    let profile = pipeline::profile::profile(&id).map_err(anyhow::Error::msg)?;
    let status = profile.status(chrono::Local::now().date_naive());
    for sub in ["datasets", "rules", "catalogs", "published", "audit"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    crate::util::write_atomic(&dir.join("pdq.toml"), with_profile(&id).as_bytes())?;
    crate::util::write_atomic(&dir.join("README.txt"), README.as_bytes())?;
    // What was written must load: the template is checked like any config.
    pipeline::workspace::Workspace::load(dir)?;
    outln!("工作区已创建 Workspace created: {}", dir.display());
    outln!(
        "法规 Profile: {id} ({}) — {}",
        profile.title,
        status.words()
    );
    if !status.applies() {
        eprintln!(
            "pdq init: warning: {id} is not in force today ({}); every run and scorecard will say so",
            status.words()
        );
    }
    // Only 新疆 and 兵团 list 数源部门 (issue #17, 4): elsewhere the bureau
    // brings its own registry before one data, one source can run.
    if pipeline::onesource::registry::embedded(&id).is_none() {
        outln!(
            "一数一源 One source: the text of {id} lists no 数源部门; datasets that declare [onesource] need the bureau's registry in {}",
            dir.join("authority.toml").display()
        );
    }
    outln!(
        "下一步 Next: add datasets/<department>/<dataset>.toml, then `pdq sweep -w {}`",
        dir.display()
    );
    Ok(Outcome::Clean)
}

/// The template's profile line, replaced by the chosen profile.
const PROFILE_LINE: &str = "# profile = \"xpcc-2025\"         # jurisdiction profile: `pdq init --profile ID` writes it (pdq profile list)";

/// The template with `profile = "ID"` set.
fn with_profile(id: &str) -> String {
    PDQ_TOML.replacen(
        PROFILE_LINE,
        &format!("profile = \"{id}\"   # jurisdiction profile (pdq profile show {id})"),
        1,
    )
}

/// On a terminal, the profile is asked for; elsewhere it is an error that
/// lists them.
fn ask_profile() -> Result<String> {
    use std::io::IsTerminal;
    let today = chrono::Local::now().date_naive();
    let mut list = vec![];
    for id in pipeline::profile::ids() {
        let p = pipeline::profile::profile(id).map_err(anyhow::Error::msg)?;
        list.push(format!("{id} ({}, {})", p.name, p.status(today).words()));
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "pdq init: choose the jurisdiction profile with --profile ID: {}",
            list.join("; ")
        );
    }
    eprintln!("法规配置 Jurisdiction profiles:");
    for (i, l) in list.iter().enumerate() {
        eprintln!("  {}. {l}", i + 1);
    }
    eprint!("选择 Choose 1–{}: ", list.len());
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let ids = pipeline::profile::ids();
    match line.trim().parse::<usize>() {
        Ok(n) if (1..=ids.len()).contains(&n) => Ok(ids[n - 1].to_string()),
        _ => match ids.iter().find(|i| **i == line.trim()) {
            Some(i) => Ok(i.to_string()),
            None => bail!("pdq init: `{}` is not a profile", line.trim()),
        },
    }
}

#[cfg(test)]
mod tests {
    use pipeline::workspace::WorkspaceConfig;

    use super::{PDQ_TOML, with_profile};

    #[test]
    fn the_chosen_profile_is_written_in_place_of_the_template_line() {
        let text = with_profile("tibet-2025");
        let live: WorkspaceConfig = toml::from_str(&text).expect("parses");
        assert_eq!(live.profile.as_deref(), Some("tibet-2025"));
        assert_ne!(text, PDQ_TOML);
    }

    /// The template with its commented-out keys (`# key = …`, `# [table]`)
    /// made live.
    fn uncommented() -> String {
        PDQ_TOML
            .lines()
            .map(|l| {
                let t = l.trim_start_matches("# ");
                let is_key = t.split_once('=').is_some_and(|(k, _)| {
                    !k.trim().is_empty()
                        && k.trim()
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '"' || c == '.')
                });
                if l.starts_with("# ") && (is_key || t.starts_with('[')) {
                    t.to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn keys(v: &toml::Value, prefix: &str, out: &mut Vec<String>) {
        if let toml::Value::Table(t) = v {
            for (k, v) in t {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push(path.clone());
                keys(v, &path, out);
            }
        }
    }

    /// What `pdq init` writes shows every key pdq.toml has, live or commented
    /// (issue #23, 12), with the defaults as values.
    #[test]
    fn the_template_shows_every_key_with_its_default() {
        let live: WorkspaceConfig = toml::from_str(PDQ_TOML).expect("the template parses");
        let defaults: WorkspaceConfig = toml::from_str("").expect("defaults");
        assert_eq!(live.scoring, defaults.scoring);
        assert_eq!(live.evaluation, defaults.evaluation);
        assert_eq!(live.schedule, defaults.schedule);
        assert_eq!(live.sweep, defaults.sweep);
        assert_eq!(live.retention, defaults.retention);
        assert_eq!(live.calendar, defaults.calendar);
        assert_eq!(live.serve, defaults.serve);
        assert_eq!(live.engine, defaults.engine);
        assert_eq!(
            live.files, defaults.files,
            "\"512MiB\" is the default in bytes"
        );
        // Every commented key is a real one (pdq.toml denies unknown keys)…
        let text = uncommented();
        let full: WorkspaceConfig = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        // …and every key the configuration has is in the template.
        let shown: toml::Value = toml::from_str(&text).expect("toml");
        let mut want = vec![];
        keys(
            &toml::Value::try_from(&full).expect("serializes"),
            "",
            &mut want,
        );
        let mut have = vec![];
        keys(&shown, "", &mut have);
        let missing: Vec<&String> = want.iter().filter(|k| !have.contains(k)).collect();
        assert!(
            missing.is_empty(),
            "keys missing from the template: {missing:?}"
        );
    }
}
