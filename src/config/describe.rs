//! Configuration errors in words an operator can act on: the key, what is wrong, and where the value came
//! from (the file's path or the environment variable's name) — and never the value itself, which may be a
//! password, a token or a whole `TVBRIDGE__AUTH__USERS` list.

use super::ENV_PREFIX;
use figment::error::{Actual, Kind};
use figment::{Figment, Source};

/// Every problem of figment's `error`, one per line's worth, joined by `; `.
pub fn figment_error(error: figment::Error, env: &dyn Fn(&str) -> Option<String>) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", e.path.join("."))
            };
            let what = match &e.kind {
                Kind::UnknownField(found, expected) => {
                    format!("unknown key '{found}' (expected one of: {})", expected.join(", "))
                }
                // Variant names (`kind`, `environment`, `log_format`...) are never secrets, and echoing the
                // typo is what makes the message useful.
                Kind::UnknownVariant(found, expected) => format!(
                    "unknown value '{}' (expected one of: {})",
                    clip(found),
                    expected.join(", ")
                ),
                Kind::MissingField(name) => format!("missing key '{name}'"),
                Kind::InvalidType(actual, expected) => {
                    format!("expected {expected}, found {}", kind_of(actual))
                }
                Kind::InvalidValue(actual, expected) => {
                    format!("invalid {}: expected {expected}", kind_of(actual))
                }
                Kind::Unsupported(actual) => format!("unsupported {}", kind_of(actual)),
                Kind::UnsupportedKey(actual, _) => format!("unsupported key type {}", kind_of(actual)),
                Kind::Message(text) => without_snippets(text),
                other => other.to_string(),
            };
            let source = e.metadata.as_ref().map(|m| match &m.source {
                Some(Source::File(path)) => format!(" (in {})", path.display()),
                _ if m.name.contains("environment") => {
                    format!(" (from environment variable {})", env_var_of(&e.path, env))
                }
                _ => format!(" (in the {})", m.name),
            });
            format!("{key}{what}{}", source.unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A problem found after loading (`"<key> must ..."`), with where its key's value came from, so an error
/// about a key set in a file names that file and one set in the environment names the variable.
pub fn with_source(problem: &str, figment: &Figment, env: &dyn Fn(&str) -> Option<String>) -> String {
    let key: String = problem
        .split([' ', ':'])
        .next()
        .unwrap_or_default()
        .replace('[', ".")
        .replace(']', "");
    if key.is_empty() || !key.contains('.') {
        return problem.to_owned();
    }
    let Some(metadata) = figment.find_metadata(&key) else {
        return problem.to_owned();
    };
    match &metadata.source {
        Some(Source::File(path)) => format!("{problem} (in {})", path.display()),
        _ if metadata.name.contains("environment") => {
            let path: Vec<String> = key.split('.').map(str::to_owned).collect();
            format!("{problem} (from environment variable {})", env_var_of(&path, env))
        }
        _ => problem.to_owned(),
    }
}

/// The environment variable that set the value at `path`: the longest `TVBRIDGE__A__B..` prefix of it that
/// is set (a whole list or table may come from one variable, e.g. `TVBRIDGE__AUTH__USERS`).
fn env_var_of(path: &[String], env: &dyn Fn(&str) -> Option<String>) -> String {
    let name = |n: usize| format!("{ENV_PREFIX}{}", path[..n].join("__").to_uppercase());
    (1..=path.len())
        .rev()
        .map(name)
        .find(|var| env(var).is_some())
        .unwrap_or_else(|| name(path.len()))
}

/// What kind of value was found, never the value: a rejected value may be a secret.
fn kind_of(actual: &Actual) -> &'static str {
    match actual {
        Actual::Bool(_) => "a boolean",
        Actual::Unsigned(_) | Actual::Signed(_) => "an integer",
        Actual::Float(_) => "a decimal number",
        Actual::Char(_) | Actual::Str(_) | Actual::Other(_) => "text",
        Actual::Bytes(_) => "bytes",
        Actual::Unit | Actual::Option => "nothing",
        Actual::Seq => "a list",
        Actual::Map => "a table",
        _ => "a value of another type",
    }
}

/// A parser's message without the source excerpt it quotes (`3 | password = "..`), which would print
/// whatever secret stands on the offending line.
fn without_snippets(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains('|'))
        .collect::<Vec<_>>()
        .join(": ")
}

fn clip(v: &str) -> String {
    if v.chars().count() > 40 {
        format!("{}…", v.chars().take(40).collect::<String>())
    } else {
        v.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_excerpt_is_dropped_but_the_position_and_reason_stay() {
        let text = "TOML parse error at line 3, column 12\n  |\n3 | password = \"hunter2\n  |            ^\ninvalid basic string\n";
        let out = without_snippets(text);
        assert_eq!(out, "TOML parse error at line 3, column 12: invalid basic string");
        assert!(!out.contains("hunter2"));
    }

    #[test]
    fn the_variable_named_is_the_one_that_is_set() {
        let env = |k: &str| (k == "TVBRIDGE__AUTH__USERS").then(|| "x".to_string());
        let path: Vec<String> = ["auth", "users", "0", "passwd"].map(String::from).to_vec();
        assert_eq!(env_var_of(&path, &env), "TVBRIDGE__AUTH__USERS");
        let none = |_: &str| None;
        assert_eq!(env_var_of(&path[..2], &none), "TVBRIDGE__AUTH__USERS");
    }
}
