//! Configuration pieces every upstream backend shares: reading the secrets a configuration names from the
//! environment (every missing variable named at once), the rules of a bridge symbol name, and the data
//! start (`backend.data_start`).

use crate::secret::Secret;
use std::collections::HashSet;

/// Reads environment variables holding secrets, remembering every one that is missing or empty.
pub struct EnvSecrets<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    missing: Vec<String>,
}

impl<'a> EnvSecrets<'a> {
    pub fn new(env: &'a dyn Fn(&str) -> Option<String>) -> EnvSecrets<'a> {
        EnvSecrets {
            env,
            missing: Vec::new(),
        }
    }

    /// The trimmed value of `var`; an empty secret (and `var` noted as missing) when unset or blank.
    pub fn read(&mut self, var: &str) -> Secret {
        match (self.env)(var).filter(|v| !v.trim().is_empty()) {
            Some(v) => Secret::new(v.trim().to_string()),
            None => {
                self.missing.push(var.to_string());
                Secret::default()
            }
        }
    }

    /// `Err` naming every missing variable, for the backend called `backend`.
    pub fn finish(self, backend: &str) -> Result<(), String> {
        if self.missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the {backend} backend needs these environment variables: {}",
                self.missing.join(", ")
            ))
        }
    }
}

/// Checks the bridge symbol of `backend.instruments[i]`: letters, digits, `.`, `_` or `-`, and not listed
/// twice (case-insensitively, `seen` holds the earlier ones).
pub fn check_symbol(i: usize, symbol: &str, seen: &mut HashSet<String>, out: &mut Vec<String>) {
    if symbol.is_empty()
        || !symbol
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        out.push(format!(
            "backend.instruments[{i}]: symbol {symbol:?} must be letters, digits, '.', '_' or '-'"
        ));
    }
    if !seen.insert(symbol.to_ascii_uppercase()) {
        out.push(format!(
            "backend.instruments[{i}]: symbol {symbol:?} is listed twice"
        ));
    }
}

/// The unix time of `backend.data_start`, a date `YYYY-MM-DD` (00:00 UTC) from 1970 on and not in the
/// future: the oldest bar the upstream is asked for. `Err` names the key.
pub fn data_start(value: &str) -> Result<i64, String> {
    let bad = || {
        format!("backend.data_start must be a date YYYY-MM-DD between 1970-01-01 and today, got {value:?}")
    };
    let date = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    let t = date.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc().timestamp();
    if t < 0 || t > chrono::Utc::now().timestamp() {
        return Err(bad());
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_start_is_a_past_date() {
        assert_eq!(data_start("2005-01-01"), Ok(1_104_537_600));
        assert_eq!(data_start(" 1970-01-01 "), Ok(0));
        for bad in ["2005-13-01", "01/01/2005", "", "1800-01-01", "2999-01-01"] {
            let e = data_start(bad).unwrap_err();
            assert!(e.starts_with("backend.data_start must be"), "{bad}: {e}");
        }
    }

    #[test]
    fn every_missing_variable_is_named_once_read() {
        let env = |k: &str| (k == "A").then(|| " a ".to_string());
        let mut secrets = EnvSecrets::new(&env);
        assert_eq!(secrets.read("A").expose(), "a");
        assert!(secrets.read("B").is_empty());
        secrets.read("C");
        assert_eq!(
            secrets.finish("X").unwrap_err(),
            "the X backend needs these environment variables: B, C"
        );
    }

    #[test]
    fn symbols_are_checked_for_characters_and_repeats() {
        let (mut seen, mut out) = (HashSet::new(), Vec::new());
        check_symbol(0, "EURUSD", &mut seen, &mut out);
        check_symbol(1, "eurusd", &mut seen, &mut out);
        check_symbol(2, "EUR/USD", &mut seen, &mut out);
        assert_eq!(out.len(), 2);
        assert!(out[0].contains("[1]") && out[0].contains("twice"));
        assert!(out[1].contains("[2]") && out[1].contains("must be letters"));
    }
}
