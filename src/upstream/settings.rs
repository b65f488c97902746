//! Configuration pieces every upstream backend shares: reading the secrets a configuration names from the
//! environment (every missing variable named at once), the rules of a bridge symbol name, the data
//! start (`backend.data_start`), and the checks of the keys every upstream backend has (URL overrides,
//! numeric ranges, history pages, login mode and mapped users).

use crate::secret::Secret;
use crate::upstream::data_session::{DataOptions, DataSession};
use crate::upstream::sessions::LoginMode;
use std::collections::HashSet;
use std::fmt::Display;
use std::ops::RangeInclusive;

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
    check_symbol_of("backend.instruments", i, symbol, seen, out)
}

/// [`check_symbol`] for a list of another name (`list`: `backend.symbols`).
pub fn check_symbol_of(
    list: &str,
    i: usize,
    symbol: &str,
    seen: &mut HashSet<String>,
    out: &mut Vec<String>,
) {
    if symbol.is_empty()
        || !symbol
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        out.push(format!(
            "{list}[{i}]: symbol {symbol:?} must be letters, digits, '.', '_' or '-'"
        ));
    }
    if !seen.insert(symbol.to_ascii_uppercase()) {
        out.push(format!("{list}[{i}]: symbol {symbol:?} is listed twice"));
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

/// Checks an optional URL override `key`: it must start with one of `schemes` and not end with `/`
/// (paths are appended to it).
pub fn check_url(key: &str, url: Option<&str>, schemes: [&str; 2], out: &mut Vec<String>) {
    if let Some(url) = url {
        if !schemes.iter().any(|s| url.starts_with(s)) || url.ends_with('/') {
            out.push(format!(
                "{key} must start with {} or {} and not end with '/', got {url:?}",
                schemes[0], schemes[1]
            ));
        }
    }
}

/// Checks that `value` of `key` lies in `range`; `why` (empty, or text starting with a space) follows
/// the range in the message.
pub fn check_range<T: PartialOrd + Display>(
    key: &str,
    value: T,
    range: RangeInclusive<T>,
    why: &str,
    out: &mut Vec<String>,
) {
    if !range.contains(&value) {
        out.push(format!(
            "{key} must be {}..={}{why}, got {value}",
            range.start(),
            range.end()
        ));
    }
}

/// Checks the keys every upstream backend has: `backend.request_timeout_ms` (100..=120000),
/// `backend.data_start` and `backend.history_max_pages` (1..=100).
pub fn check_common(
    request_timeout_ms: u64,
    data_start: &str,
    history_max_pages: usize,
    out: &mut Vec<String>,
) {
    let timeout = request_timeout_ms;
    check_range("backend.request_timeout_ms", timeout, 100..=120_000, "", out);
    if let Err(e) = self::data_start(data_start) {
        out.push(e);
    }
    check_range("backend.history_max_pages", history_max_pages, 1..=100, "", out);
}

/// Checks `backend.login` against the mapped users' logins: mapped mode needs at least one user,
/// pass-through mode none, and no login may be listed twice.
pub fn check_login(login: LoginMode, logins: &[&str], out: &mut Vec<String>) {
    match login {
        LoginMode::Mapped if logins.is_empty() => {
            out.push("backend.login = \"mapped\" needs at least one [[backend.users]] entry".into())
        }
        LoginMode::PassThrough if !logins.is_empty() => out.push(
            "backend.users is only used with backend.login = \"mapped\"; remove it or switch the mode".into(),
        ),
        _ => {}
    }
    let mut seen = HashSet::new();
    for (i, login) in logins.iter().enumerate() {
        if !seen.insert(*login) {
            out.push(format!("backend.users[{i}]: login {login:?} is listed twice"));
        }
    }
}

/// Checks `backend.login` against the mapped users' `logins` ([`check_login`]) and `backend.data_session`
/// against what the backend has: the mapped logins in mapped mode, and `configured`, the key of the
/// backend's own data credentials and whether it is set (`None` when the upstream has no such key).
pub fn check_sessions(
    login: LoginMode,
    logins: &[&str],
    data_session: &DataSession,
    configured: Option<(&str, bool)>,
    upstream: &str,
    out: &mut Vec<String>,
) {
    check_login(login, logins, out);
    out.extend(data_session.problems(DataOptions {
        mapped: (login == LoginMode::Mapped).then_some(logins),
        configured,
        upstream,
    }));
}

/// A test's environment: the variables in `vars`, nothing else.
#[cfg(test)]
pub fn test_env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
}

/// Checks that the variable name `var` of `backend.users[i].key` is not blank.
pub fn check_env_name(i: usize, key: &str, var: &str, out: &mut Vec<String>) {
    if var.trim().is_empty() {
        out.push(format!(
            "backend.users[{i}].{key} must name an environment variable"
        ));
    }
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
    fn sessions_are_checked_against_the_login_mode() {
        let mut out = Vec::new();
        let user = DataSession::User("bob".into());
        check_sessions(LoginMode::Mapped, &["alice"], &user, None, "X", &mut out);
        assert_eq!(
            out,
            ["backend.data_session: \"bob\" is not a [[backend.users]] login"]
        );
        out.clear();
        let alice = DataSession::User("alice".into());
        check_sessions(LoginMode::Mapped, &["alice"], &alice, None, "X", &mut out);
        assert!(out.is_empty(), "{out:?}");
        check_sessions(LoginMode::PassThrough, &[], &alice, None, "X", &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        out.clear();
        let configured = DataSession::Configured;
        check_sessions(
            LoginMode::PassThrough,
            &[],
            &configured,
            Some(("k", false)),
            "X",
            &mut out,
        );
        assert_eq!(out, ["backend.data_session = \"configured\" needs backend.k"]);
        out.clear();
        check_sessions(
            LoginMode::PassThrough,
            &["a", "a"],
            &configured,
            Some(("k", true)),
            "X",
            &mut out,
        );
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].contains("only used with") && out[1].contains("listed twice"));
    }

    #[test]
    fn a_test_environment_holds_only_its_variables() {
        let env = test_env(&[("A", "1")]);
        assert_eq!((env("A").as_deref(), env("B")), (Some("1"), None));
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

    #[test]
    fn urls_need_a_scheme_and_no_trailing_slash() {
        let mut out = Vec::new();
        check_url("k", None, ["http://", "https://"], &mut out);
        check_url("k", Some("https://h/x"), ["http://", "https://"], &mut out);
        assert!(out.is_empty());
        check_url("k", Some("ftp://h"), ["http://", "https://"], &mut out);
        check_url("k", Some("wss://h/"), ["ws://", "wss://"], &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0],
            "k must start with http:// or https:// and not end with '/', got \"ftp://h\""
        );
        assert!(out[1].contains("ws:// or wss://"));
    }

    #[test]
    fn ranges_name_the_key_the_bounds_and_the_value() {
        let mut out = Vec::new();
        check_range("k", 1u32, 1..=10, " (why)", &mut out);
        check_range("k", 10u32, 1..=10, " (why)", &mut out);
        assert!(out.is_empty());
        check_range("k", 11u32, 1..=10, " (why)", &mut out);
        check_range("t", 99u64, 100..=120_000, "", &mut out);
        assert_eq!(
            out,
            ["k must be 1..=10 (why), got 11", "t must be 100..=120000, got 99"]
        );
    }

    #[test]
    fn common_keys_are_checked() {
        let mut out = Vec::new();
        check_common(100, "2005-01-01", 20, &mut out);
        assert!(out.is_empty());
        check_common(120_001, "yesterday", 0, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[0],
            "backend.request_timeout_ms must be 100..=120000, got 120001"
        );
        assert!(out[1].starts_with("backend.data_start"));
        assert_eq!(out[2], "backend.history_max_pages must be 1..=100, got 0");
    }

    #[test]
    fn the_login_mode_must_fit_the_users_and_logins_are_unique() {
        let mut out = Vec::new();
        check_login(LoginMode::PassThrough, &[], &mut out);
        check_login(LoginMode::Mapped, &["a", "b"], &mut out);
        assert!(out.is_empty());
        check_login(LoginMode::Mapped, &[], &mut out);
        check_login(LoginMode::PassThrough, &["a"], &mut out);
        check_login(LoginMode::Mapped, &["a", "b", "a"], &mut out);
        assert_eq!(out.len(), 3);
        assert!(out[0].contains("needs at least one"));
        assert!(out[1].contains("only used with"));
        assert_eq!(out[2], "backend.users[2]: login \"a\" is listed twice");
    }

    #[test]
    fn blank_variable_names_are_refused() {
        let mut out = Vec::new();
        check_env_name(0, "token_env", "T", &mut out);
        assert!(out.is_empty());
        check_env_name(3, "token_env", " ", &mut out);
        assert_eq!(
            out,
            ["backend.users[3].token_env must name an environment variable"]
        );
    }
}
