//! What a login is by the time it reaches a backend: a bridge user the core has already verified, or the
//! upstream's own credentials for the backend to check upstream.

use super::Credentials;

/// Which logins a backend takes, so the core knows whether to check a bridge password first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    /// Bridge users (`[[auth.users]]`): the core checks the password, then the backend maps the user to
    /// whatever it trades with (the paper broker always; upstream backends in `mapped` mode).
    Bridge,
    /// TradingView's login form carries the upstream's own credentials, which only the upstream can check.
    PassThrough,
}

/// A bridge user whose password the core has checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeUser {
    /// The login as configured (the bridge session's user).
    pub login: String,
    /// The configured display name, or the login when none is set.
    pub display_name: String,
}

/// A login handed to [`super::Broker::login`]; a backend answers a kind it does not take with a refusal,
/// never a panic. Federated backends ([`super::Broker::federation`]) take `Bridge` logins too: who the
/// user is stays the bridge's to check, and the upstream grant is looked up by the bridge user.
#[derive(Debug, Clone)]
pub enum Login {
    /// A bridge user the core verified.
    Bridge(BridgeUser),
    /// Credentials typed into TradingView's login form, unchecked: the backend checks them upstream.
    PassThrough(Credentials),
}

impl Login {
    /// The login name as typed (for logs and messages; never a secret).
    pub fn name(&self) -> &str {
        match self {
            Login::Bridge(user) => &user.login,
            Login::PassThrough(credentials) => &credentials.login,
        }
    }
}

/// The refusal every backend gives a bridge login it cannot use and the core gives a wrong password: the
/// same words, so a caller cannot tell an unknown user from a wrong password.
pub const INVALID_LOGIN: &str = "Invalid login or password";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn a_login_names_its_user_and_never_its_password() {
        let typed = Login::PassThrough(Credentials {
            login: "alice@example.com".into(),
            password: Secret::new("hunter2"),
        });
        assert_eq!(typed.name(), "alice@example.com");
        assert!(!format!("{typed:?}").contains("hunter2"));
        let bridge = Login::Bridge(BridgeUser {
            login: "bob".into(),
            display_name: "Bob".into(),
        });
        assert_eq!(bridge.name(), "bob");
    }
}
