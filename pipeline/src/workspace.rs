//! The bureau workspace: `pdq.toml` and one definition file per dataset
//! under `datasets/<department>/<dataset>.toml`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::land::{DatasetDef, LakeConfig, LandError, LandOptions, load_dataset};

fn default_tz() -> String {
    "Asia/Shanghai".into()
}

/// `pdq.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceConfig {
    /// Where the lake is.
    #[serde(default)]
    pub lake: LakeConfig,
    /// The bureau's time zone (naive timestamps are read in it).
    #[serde(default = "default_tz")]
    pub time_zone: String,
}

/// A loaded workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Its directory.
    pub dir: PathBuf,
    /// `pdq.toml`.
    pub config: WorkspaceConfig,
    /// The datasets, ordered by id.
    pub datasets: Vec<DatasetDef>,
}

impl Workspace {
    /// Loads `DIR/pdq.toml` and every `DIR/datasets/*/*.toml`; errors name
    /// the file, line and key.
    pub fn load(dir: &Path) -> Result<Workspace, LandError> {
        let path = dir.join("pdq.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            LandError::Config(format!(
                "{}: {e} (is {} a pdq workspace?)",
                path.display(),
                dir.display()
            ))
        })?;
        let mut config: WorkspaceConfig = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            LandError::Config(format!("{}: line {line}: {}", path.display(), e.message()))
        })?;
        config.time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
            LandError::Config(format!(
                "{}: time_zone: unknown zone `{}`",
                path.display(),
                config.time_zone
            ))
        })?;
        if config.lake.location.is_empty() {
            config.lake.location = "lake".into();
        }
        let mut datasets = vec![];
        let root = dir.join("datasets");
        if root.is_dir() {
            let mut files = vec![];
            for dept in std::fs::read_dir(&root)
                .map_err(|e| LandError::Config(format!("{}: {e}", root.display())))?
            {
                let dept = dept
                    .map_err(|e| LandError::Config(format!("{}: {e}", root.display())))?
                    .path();
                if !dept.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(&dept)
                    .map_err(|e| LandError::Config(format!("{}: {e}", dept.display())))?
                {
                    let f = f
                        .map_err(|e| LandError::Config(format!("{}: {e}", dept.display())))?
                        .path();
                    if f.extension().is_some_and(|e| e == "toml") {
                        files.push(f);
                    }
                }
            }
            files.sort();
            for f in files {
                datasets.push(load_dataset(&f)?);
            }
        }
        datasets.sort_by_key(|d| d.id());
        Ok(Workspace {
            dir: dir.to_path_buf(),
            config,
            datasets,
        })
    }

    /// Landing options from the configuration.
    pub fn land_options(&self) -> LandOptions {
        LandOptions {
            time_zone: self
                .config
                .time_zone
                .parse()
                .unwrap_or(chrono_tz::Asia::Shanghai),
            base_dir: self.dir.clone(),
            ..LandOptions::default()
        }
    }
}
