//! Capital.com refusing the credentials a session logs in with: what the user reads and what the log says,
//! by login mode.
//!
//! In pass-through mode the credentials are what the user typed, so a refusal at login is their wrong
//! password and a refusal later (the password changed) sends them back to the login with a 401. In mapped
//! mode the bridge already accepted the user's own password and Capital.com refused the credentials the
//! operator configured: the user is told so, the log names the bridge user and the variables to check
//! (never their values), and there is no 401, because logging in again cannot fix the operator's
//! configuration and TradingView would only loop through its login form.

use super::config::UpstreamCredentials;
use super::errors::error_code;
use crate::broker::BrokerError;

/// What a mapped user reads when Capital.com refuses the configured credentials.
pub const MAPPED_REFUSED: &str = "Capital.com refused the login the bridge uses for your account. Your own \
     password was accepted; the bridge operator must check the configured Capital.com credentials.";

/// When the refusal happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// At `/authorize` (or when the market-data session opens).
    Login,
    /// Logging in again for a session that expired or was refused.
    Later,
}

/// A `POST /session` answered with client error `status` and `body`.
pub fn refused(credentials: &UpstreamCredentials, status: u16, body: &str, when: When) -> BrokerError {
    let code = error_code(body).unwrap_or_default();
    match code.as_str() {
        "error.null.api.key" | "error.invalid.api.key" => {
            tracing::warn!(status, %code, "Capital.com refused the bridge's API key");
            return BrokerError::Rejected(
                "The bridge's Capital.com API key is missing or invalid; contact the bridge operator.".into(),
            );
        }
        "error.too-many.requests" => {
            return BrokerError::Rejected("Too many login attempts; try again in a few seconds.".into())
        }
        _ => {}
    }
    match (&credentials.source, when) {
        (Some(source), _) => {
            // The operator's configuration is wrong: a warning naming what to fix, never the values.
            tracing::warn!(
                user = %source.login,
                identifier_env = %source.identifier_env,
                password_env = %source.password_env,
                status,
                %code,
                "Capital.com refused the configured credentials of a mapped user; check these environment variables"
            );
            BrokerError::Rejected(MAPPED_REFUSED.into())
        }
        (None, When::Login) => {
            tracing::info!(status, %code, "Capital.com refused the login");
            BrokerError::Rejected("Invalid login or password".into())
        }
        (None, When::Later) => {
            tracing::info!(status, %code, "Capital.com refused the stored login; the user must log in again");
            session_lost()
        }
    }
}

/// A new session refused again at once, by login mode (pass-through: log in again).
pub fn refused_again(credentials: &UpstreamCredentials) -> BrokerError {
    match &credentials.source {
        Some(source) => {
            tracing::warn!(
                user = %source.login,
                identifier_env = %source.identifier_env,
                password_env = %source.password_env,
                "Capital.com refused a session it had just opened for a mapped user"
            );
            BrokerError::Rejected(MAPPED_REFUSED.into())
        }
        None => session_lost(),
    }
}

/// The session is gone and the user must log in again (HTTP 401).
pub fn session_lost() -> BrokerError {
    BrokerError::Unauthorized(
        "the Capital.com session ended and could not be re-established; log in again".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::capital::config::MappedSource;
    use crate::secret::Secret;

    fn credentials(mapped: bool) -> UpstreamCredentials {
        UpstreamCredentials {
            identifier: Secret::new("alice@example.com"),
            password: Secret::new("s3cret-value"),
            source: mapped.then(|| MappedSource {
                login: "alice".into(),
                identifier_env: "ALICE_CAPITAL_ID".into(),
                password_env: "ALICE_CAPITAL_PASSWORD".into(),
            }),
        }
    }

    const INVALID: &str = r#"{"errorCode":"error.invalid.details"}"#;

    #[test]
    fn pass_through_refusals_are_the_users_password() {
        let c = credentials(false);
        assert_eq!(
            refused(&c, 401, INVALID, When::Login),
            BrokerError::Rejected("Invalid login or password".into())
        );
        assert!(matches!(
            refused(&c, 401, INVALID, When::Later),
            BrokerError::Unauthorized(_)
        ));
        assert!(matches!(refused_again(&c), BrokerError::Unauthorized(_)));
    }

    #[test]
    fn mapped_refusals_blame_the_configuration_and_never_ask_for_a_new_login() {
        let c = credentials(true);
        for when in [When::Login, When::Later] {
            assert_eq!(
                refused(&c, 401, INVALID, when),
                BrokerError::Rejected(MAPPED_REFUSED.into())
            );
        }
        assert_eq!(refused_again(&c), BrokerError::Rejected(MAPPED_REFUSED.into()));
        assert!(!MAPPED_REFUSED.contains("s3cret") && !MAPPED_REFUSED.contains("Invalid login"));
    }

    #[test]
    fn the_api_key_is_the_operators_in_both_modes() {
        for mapped in [false, true] {
            let e = refused(
                &credentials(mapped),
                400,
                r#"{"errorCode":"error.invalid.api.key"}"#,
                When::Login,
            );
            assert!(matches!(e, BrokerError::Rejected(m) if m.contains("API key")));
        }
    }
}
