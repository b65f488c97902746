//! Bridge users (`[[auth.users]]`) and the one place their passwords are checked: every backend that takes
//! bridge logins receives a [`Login::Bridge`] the core has verified here, never a password to compare.

use crate::broker::{BridgeUser, BrokerError, BrokerResult, Credentials, Login, LoginKind, INVALID_LOGIN};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

/// One bridge user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub login: String,
    pub password: Secret,
    /// Display name for `/userInfo`; the login when absent.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// The data-feed groups (ids as `/groups` lists them) this user's tokens, and TradingView's servers
    /// acting for them (ServerOAuth2Bearer), may read; absent: every group.
    #[serde(default)]
    pub datafeed_groups: Option<Vec<String>>,
}

/// Compared against when no user has the login, so that an unknown login costs the same comparison as a
/// wrong password and the answer's timing does not tell which logins exist.
const NO_SUCH_USER: &str = "\u{0}no such bridge user\u{0}";

/// The bridge user `credentials` name, when the password matches (compared in constant time).
pub fn verify(users: &[UserConfig], credentials: &Credentials) -> BrokerResult<BridgeUser> {
    let typed = credentials.password.expose();
    let user = users.iter().find(|u| u.login == credentials.login);
    let no_such_user = Secret::new(NO_SUCH_USER);
    let matches = user
        .map_or(&no_such_user, |u| &u.password)
        .constant_time_eq(typed);
    match user {
        Some(u) if matches => Ok(BridgeUser {
            login: u.login.clone(),
            display_name: u.name.clone().unwrap_or_else(|| u.login.clone()),
        }),
        _ => Err(BrokerError::Rejected(INVALID_LOGIN.into())),
    }
}

/// What the backend is handed for `credentials`: a verified bridge user when it takes bridge logins (a
/// wrong password is refused here, before any backend work), the credentials as typed otherwise.
pub fn resolve(kind: LoginKind, users: &[UserConfig], credentials: Credentials) -> BrokerResult<Login> {
    match kind {
        LoginKind::Bridge => verify(users, &credentials).map(Login::Bridge),
        LoginKind::PassThrough => Ok(Login::PassThrough(credentials)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Vec<UserConfig> {
        vec![
            UserConfig {
                login: "demo".into(),
                password: Secret::new("demo"),
                name: Some("Demo Trader".into()),
                email: None,
                datafeed_groups: None,
            },
            UserConfig {
                login: "other".into(),
                password: Secret::new("other-pass"),
                name: None,
                email: None,
                datafeed_groups: None,
            },
        ]
    }

    fn typed(login: &str, password: &str) -> Credentials {
        Credentials {
            login: login.into(),
            password: Secret::new(password),
        }
    }

    #[test]
    fn a_bridge_user_is_verified_with_its_display_name() {
        let user = verify(&users(), &typed("demo", "demo")).unwrap();
        assert_eq!(
            user,
            BridgeUser {
                login: "demo".into(),
                display_name: "Demo Trader".into()
            }
        );
        let other = verify(&users(), &typed("other", "other-pass")).unwrap();
        assert_eq!(other.display_name, "other", "no name: the login");
    }

    #[test]
    fn a_wrong_password_and_an_unknown_login_get_the_same_refusal() {
        let refused = BrokerError::Rejected(INVALID_LOGIN.into());
        for (login, password) in [
            ("demo", "wrong"),
            ("demo", "other-pass"),
            ("nobody", "demo"),
            ("Demo", "demo"),
            ("nobody", NO_SUCH_USER),
            ("", ""),
        ] {
            assert_eq!(
                verify(&users(), &typed(login, password)),
                Err(refused.clone()),
                "{login}"
            );
        }
    }

    #[test]
    fn pass_through_logins_are_handed_on_unchecked() {
        let login = resolve(LoginKind::PassThrough, &[], typed("alice@example.com", "key")).unwrap();
        assert!(matches!(login, Login::PassThrough(c) if c.login == "alice@example.com"));
        let bridge = resolve(LoginKind::Bridge, &users(), typed("demo", "demo")).unwrap();
        assert!(matches!(bridge, Login::Bridge(u) if u.login == "demo"));
        assert!(resolve(LoginKind::Bridge, &users(), typed("demo", "x")).is_err());
    }
}
