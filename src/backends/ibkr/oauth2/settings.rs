//! `[backend.oauth2]` ([`OAuth2Config`]: the one configuration shape of the `oauth2` transport) and the
//! loaded material ([`Oauth2Keys`]): the client id, the registered key id and RSA private key, the IBKR
//! username and the caller's IP.

use crate::backends::ibkr::oauth1::{private_key, read_pem, ReadFile};
use crate::upstream::settings::{check_url, EnvSecrets};
use jsonwebtoken::EncodingKey;
use serde::{Deserialize, Serialize};

/// IBKR's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://api.ibkr.com/oauth2/api/v1/token";
/// IBKR's SSO-session endpoint.
pub const DEFAULT_SSO_SESSION_URL: &str = "https://api.ibkr.com/gw/api/v1/sso-sessions";
/// The `aud` of client assertions.
pub const DEFAULT_AUDIENCE: &str = "/token";
/// The scope the SSO-session request needs.
pub const SCOPE: &str = "sso-sessions.write";

/// `[backend.oauth2]`: IBKR OAuth 2.0 (server to server) on `api.ibkr.com`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuth2Config {
    /// The environment variable holding the client id IBKR registered.
    pub client_id_env: String,
    /// The id of the registered public key (the assertions' `kid`).
    pub key_id: String,
    /// PEM file of the RSA private key the client assertions are signed with.
    pub private_key_file: String,
    /// The IBKR username the brokerage session is opened for (the SSO JWT's `credential`).
    pub username: String,
    /// The public IP address the bridge calls IBKR from (the SSO JWT's `ip`).
    pub ip: String,
    pub token_url: String,
    pub sso_session_url: String,
    /// The `aud` of the client assertions.
    pub audience: String,
}

impl Default for OAuth2Config {
    fn default() -> Self {
        OAuth2Config {
            client_id_env: String::new(),
            key_id: String::new(),
            private_key_file: String::new(),
            username: String::new(),
            ip: String::new(),
            token_url: DEFAULT_TOKEN_URL.into(),
            sso_session_url: DEFAULT_SSO_SESSION_URL.into(),
            audience: DEFAULT_AUDIENCE.into(),
        }
    }
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

impl OAuth2Config {
    /// Every problem of the table, each naming its key.
    pub fn problems(&self, out: &mut Vec<String>) {
        for (key, value) in [
            ("client_id_env", &self.client_id_env),
            ("key_id", &self.key_id),
            ("private_key_file", &self.private_key_file),
            ("username", &self.username),
            ("audience", &self.audience),
        ] {
            if value.trim().is_empty() {
                out.push(format!("backend.oauth2.{key} must be set"));
            }
        }
        if self.ip.trim().parse::<std::net::IpAddr>().is_err() {
            out.push(format!(
                "backend.oauth2.ip must be the public IP address the bridge calls IBKR from, got {:?}",
                self.ip
            ));
        }
        let schemes = ["https://", "http://"];
        check_url("backend.oauth2.token_url", Some(&self.token_url), schemes, out);
        check_url(
            "backend.oauth2.sso_session_url",
            Some(&self.sso_session_url),
            schemes,
            out,
        );
    }

    /// Reads the client id from the environment and the private key from its file; errors name the key
    /// and the variable or file, never a value.
    pub fn load(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        read: ReadFile<'_>,
    ) -> Result<Oauth2Keys, String> {
        let mut secrets = EnvSecrets::new(env);
        let client_id = secrets.read(&self.client_id_env);
        secrets.finish("IBKR OAuth 2.0")?;
        let pem = read_pem(read, "oauth2.private_key_file", &self.private_key_file)?;
        let bad = |e: String| format!("backend.oauth2.private_key_file {:?}: {e}", self.private_key_file);
        // Parsed by the RSA crate first: jsonwebtoken accepts any PEM here and fails only when signing.
        private_key(&pem).map_err(bad)?;
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| bad("not an RSA PEM key".into()))?;
        Ok(Oauth2Keys {
            client_id: client_id.expose().to_string(),
            key_id: self.key_id.trim().into(),
            key,
            username: self.username.trim().into(),
            ip: self.ip.trim().into(),
            audience: self.audience.clone(),
        })
    }
}
