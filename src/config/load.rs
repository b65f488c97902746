//! Loading the configuration: the built-in paper demo (embedded in the binary, so the server works from any
//! directory) or the operator's file, then `TVBRIDGE__*` overrides, then one validation shared by `serve` and
//! `check-config` — including the environment variables the backend reads its secrets from.

use super::describe::{figment_error, with_source};
use super::{Config, ConfigError, ENV_PREFIX};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use std::path::{Path, PathBuf};

/// The built-in configuration: the paper broker with its demo user (`config/default.toml`, embedded).
pub const BUILTIN: &str = include_str!("../../config/default.toml");

/// A loaded configuration and where it came from.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// The operator's file, or `None` for the built-in demo configuration.
    pub file: Option<PathBuf>,
    /// Names (never values) of the `TVBRIDGE__*` variables that were applied.
    pub env_vars: Vec<String>,
}

impl Loaded {
    /// One line for the start-up log: which file (or the built-in demo) and which variables were applied.
    pub fn sources(&self) -> String {
        let base = match &self.file {
            Some(path) => format!("file {}", path.display()),
            None => "the built-in paper demo configuration".to_owned(),
        };
        if self.env_vars.is_empty() {
            base
        } else {
            format!("{base}, overridden by {}", self.env_vars.join(", "))
        }
    }
}

impl Config {
    /// Loads `file` (or, without one, the built-in demo configuration), applies the process environment's
    /// `TVBRIDGE__*` variables and validates everything `serve` needs, environment secrets included.
    pub fn load(file: Option<&Path>) -> Result<Loaded, ConfigError> {
        Self::load_with(file, Env::prefixed(ENV_PREFIX).split("__"), &|name| {
            std::env::var(name).ok()
        })
    }

    /// [`Config::load`] with the overrides of `env` (tests use `Env::raw().only(..)`) and `lookup` for the
    /// variables the backend reads its secrets from.
    pub fn load_with(
        file: Option<&Path>,
        env: Env,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Loaded, ConfigError> {
        let figment = Figment::from(Serialized::defaults(serde_json::json!({})));
        let figment = match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )))
            }
            // The operator's file replaces the demo whole: its users and backend, never demo/demo beside them.
            Some(path) => figment.merge(Toml::file(path)),
            None => figment.merge(Toml::string(BUILTIN)),
        };
        let mut env_vars: Vec<String> = env
            .iter()
            .map(|(key, _)| format!("{ENV_PREFIX}{}", key.as_str().replace('.', "__").to_uppercase()))
            .collect();
        env_vars.sort();
        let figment = figment.merge(env);
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError(figment_error(e, lookup)))?;
        let mut problems: Vec<String> = config
            .problems()
            .iter()
            .map(|p| with_source(p, &figment, lookup))
            .collect();
        // Secrets are read only from a configuration that is otherwise right, so their message is the last.
        if problems.is_empty() {
            problems.extend(config.environment_problems(lookup));
        }
        if !problems.is_empty() {
            return Err(ConfigError(problems.join("; ")));
        }
        Ok(Loaded {
            config,
            file: file.map(Path::to_path_buf),
            env_vars,
        })
    }

    /// Parses a TOML string on the built-in defaults (no demo users, no environment), for tests and examples.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(serde_json::json!({})))
            .merge(Toml::string(text))
            .extract()
            .map_err(|e| ConfigError(figment_error(e, &|_| None)))?;
        config.validate()?;
        Ok(config)
    }
}
