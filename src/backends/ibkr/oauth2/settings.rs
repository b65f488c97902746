//! The configuration of IBKR's OAuth 2.0 ([`Oauth2Settings`]) and the loaded material ([`Oauth2Keys`]):
//! the client id, the registered key id and RSA private key, the IBKR username and the caller's IP.

use crate::backends::ibkr::oauth1::{pem_source, private_key};
use jsonwebtoken::EncodingKey;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// IBKR's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://api.ibkr.com/oauth2/api/v1/token";
/// IBKR's SSO-session endpoint.
pub const DEFAULT_SSO_SESSION_URL: &str = "https://api.ibkr.com/gw/api/v1/sso-sessions";
/// The `aud` of client assertions.
pub const DEFAULT_AUDIENCE: &str = "/token";
/// The scope the SSO-session request needs.
pub const SCOPE: &str = "sso-sessions.write";

/// The `oauth2` transport's configuration keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Oauth2Settings {
    /// The client id IBKR registered.
    pub client_id: String,
    /// The id of the registered public key (the assertions' `kid`).
    pub key_id: String,
    /// The RSA private key: a PEM file...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_file: Option<PathBuf>,
    /// ...or an environment variable holding the PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_env: Option<String>,
    /// The IBKR username the brokerage session is opened for (the SSO JWT's `credential`).
    pub username: String,
    /// The public IP address the bridge calls IBKR from (the SSO JWT's `ip`).
    pub ip: String,
    #[serde(default = "default_token_url")]
    pub token_url: String,
    #[serde(default = "default_sso_session_url")]
    pub sso_session_url: String,
    #[serde(default = "default_audience")]
    pub audience: String,
}

fn default_token_url() -> String {
    DEFAULT_TOKEN_URL.into()
}

fn default_sso_session_url() -> String {
    DEFAULT_SSO_SESSION_URL.into()
}

fn default_audience() -> String {
    DEFAULT_AUDIENCE.into()
}

/// What the OAuth 2.0 flow signs with. `Debug` leaves the key out.
pub struct Oauth2Keys {
    pub client_id: String,
    pub key_id: String,
    pub key: EncodingKey,
    pub username: String,
    pub ip: String,
    pub audience: String,
}

impl std::fmt::Debug for Oauth2Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oauth2Keys")
            .field("client_id", &self.client_id)
            .field("key_id", &self.key_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Oauth2Settings {
    /// Reads the private key from its file or from `env`; errors name the setting, never the key.
    pub fn load(&self, env: impl Fn(&str) -> Option<String>) -> Result<Oauth2Keys, String> {
        for (name, value) in [
            ("client_id", &self.client_id),
            ("key_id", &self.key_id),
            ("username", &self.username),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{name} is empty"));
            }
        }
        if self.ip.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("ip {:?} is not an IP address", self.ip));
        }
        let pem = pem_source(&self.private_key_file, &self.private_key_env, "private_key", &env)?;
        // Parsed by the RSA crate first: jsonwebtoken accepts any PEM here and fails only when signing.
        private_key(&pem).map_err(|e| format!("private key: {e}"))?;
        let key = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|_| "private key: not an RSA PEM key".to_string())?;
        Ok(Oauth2Keys {
            client_id: self.client_id.trim().into(),
            key_id: self.key_id.trim().into(),
            key,
            username: self.username.trim().into(),
            ip: self.ip.clone(),
            audience: self.audience.clone(),
        })
    }
}
