//! OANDA refusing the access token a session uses: what the user reads and what the log says, by login
//! mode.
//!
//! In pass-through mode the token is what the user typed as password, so a refusal at login is their
//! wrong password and a token revoked later sends them back to the login with a 401. In mapped mode the
//! bridge already accepted the user's own password and OANDA refused the token the operator configured:
//! the user is told so, the log names the bridge user and the variable holding the token (never its
//! value), and there is no 401, because logging in again cannot fix the operator's configuration and
//! TradingView would only loop through its login form.

use super::registry::Session;
use crate::broker::BrokerError;
use crate::upstream::refusal::COOL_DOWN;

/// What a mapped user reads when OANDA refuses the configured token.
pub const MAPPED_REFUSED: &str = "OANDA refused the access token the bridge uses for your account. Your \
     own password was accepted; the bridge operator must check the configured token.";

/// Where a mapped session's token comes from: the bridge login and the variable's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedToken {
    pub login: String,
    pub token_env: String,
}

/// A failure while logging in: a refused token is a wrong password (pass-through) or the operator's
/// configuration (mapped); anything else is passed on.
pub fn at_login(mapped: Option<&MappedToken>, login: &str, e: BrokerError) -> BrokerError {
    let BrokerError::Unauthorized(detail) = e else {
        return e;
    };
    match mapped {
        Some(m) => {
            tracing::warn!(
                user = %m.login,
                token_env = %m.token_env,
                %detail,
                "OANDA refused the configured token of a mapped user at login; check this environment variable"
            );
            BrokerError::Rejected(MAPPED_REFUSED.into())
        }
        None => {
            tracing::info!(account = %login, %detail, "OANDA refused the access token at login");
            BrokerError::Rejected("Invalid login or password: OANDA refused the access token".into())
        }
    }
}

/// A failure of a call made for `session` after login. In mapped mode a refused token becomes the
/// operator's problem (and is remembered, so calls answer at once for a while); otherwise it is passed on.
pub fn later(session: &Session, e: BrokerError) -> BrokerError {
    let (BrokerError::Unauthorized(detail), Some(m)) = (&e, &session.mapped) else {
        return e;
    };
    if !session.refused.holds(COOL_DOWN) {
        tracing::warn!(
            user = %m.login,
            token_env = %m.token_env,
            %detail,
            "OANDA refused the configured token of a mapped user; check this environment variable"
        );
    }
    session.refused.trip();
    BrokerError::Rejected(MAPPED_REFUSED.into())
}

/// Whether a mapped session's token was refused so recently that calls answer at once, without OANDA.
pub fn recently_refused(session: &Session) -> Option<BrokerError> {
    (session.mapped.is_some() && session.refused.holds(COOL_DOWN))
        .then(|| BrokerError::Rejected(MAPPED_REFUSED.into()))
}
