//! `pdq init DIR`: a new bureau workspace with a commented `pdq.toml` and
//! the folders it uses.

use anyhow::{Result, bail};

use super::Outcome;
use crate::cli::InitArgs;

/// The `pdq.toml` a new workspace starts with; every key is shown with its default.
pub const PDQ_TOML: &str = r#"# pdq 工作区配置 / pdq workspace configuration
# 所有键都有默认值；删除一行即使用默认值。Every key has a default; delete a line to use it.

bureau = "示例数据局"            # the bureau's name, for reports
# profile = "xinjiang-2023"     # jurisdiction profile (xinjiang-2023, xpcc-2025, tibet-2025, ganzi-2025, wuzhong-2024)
time_zone = "Asia/Shanghai"     # naive timestamps and schedules are in this zone

[lake]
location = "lake"               # a directory (relative to this file) or s3://bucket/prefix
# [lake.s3]
# endpoint = "http://127.0.0.1:9000"
# access_key = { env = "PDQ_S3_KEY" }
# secret_key = { env = "PDQ_S3_SECRET" }

[sweep]
parallelism = 2                 # datasets worked on at once

[files]
xlsx_max_bytes = 536870912      # 512 MiB: the most an XLSX workbook may unpack to, and the most cell
                                # text a row (or a sheet kept whole) may hold; past it the delivery fails

[schedule]
cron = "30 2 * * *"             # pdq daemon: every night at 02:30 (min hour day month weekday)
max_catch_up = 1                # runs missed while the daemon was down are caught up as one run
retries = 3                     # retries of a sweep that could not run, with backoff

[alerts]
# webhook = "http://alerts.example/pdq"   # JSON POST on sweep failure or new `fail` results

[retention]
audit_years = 3                 # the audit log is kept at least this long (regulations: 3 years)
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
    for sub in ["datasets", "rules", "catalogs", "published", "audit"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    crate::util::write_atomic(&dir.join("pdq.toml"), PDQ_TOML.as_bytes())?;
    crate::util::write_atomic(&dir.join("README.txt"), README.as_bytes())?;
    // What was written must load: the template is checked like any config.
    pipeline::workspace::Workspace::load(dir)?;
    println!("工作区已创建 Workspace created: {}", dir.display());
    println!(
        "下一步 Next: add datasets/<department>/<dataset>.toml, then `pdq sweep -w {}`",
        dir.display()
    );
    Ok(Outcome::Clean)
}
