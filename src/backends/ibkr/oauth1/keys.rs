//! The key material of IBKR's OAuth 1.0a ([`Oauth1Keys`]) and the configuration that names where it lives
//! ([`Oauth1Settings`]): PEM files or environment variables, never the configuration file itself.

use super::dh::DhGroup;
use crate::secret::Secret;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The realm of consumers IBKR registered (`test_realm` is the one of the TESTCONS consumer).
pub const DEFAULT_REALM: &str = "limited_poa";

/// Where the OAuth 1.0a material comes from (the `oauth1` transport's configuration keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Oauth1Settings {
    /// The consumer key IBKR's self-service portal issued (`TESTCONS` in IBKR's examples).
    pub consumer_key: String,
    /// The environment variable holding the access token.
    pub access_token_env: String,
    /// The environment variable holding the access token secret (base64, as the portal gives it).
    pub access_token_secret_env: String,
    /// The private signature key: a PEM file...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_key_file: Option<PathBuf>,
    /// ...or an environment variable holding the PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_key_env: Option<String>,
    /// The private encryption key: a PEM file...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key_file: Option<PathBuf>,
    /// ...or an environment variable holding the PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key_env: Option<String>,
    /// The Diffie-Hellman prime in hex...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dh_prime: Option<String>,
    /// ...or the `dhparam.pem` file (`DH PARAMETERS`) registered with IBKR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dh_param_file: Option<PathBuf>,
    /// The generator (default: the PEM's, else 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dh_generator: Option<u32>,
    /// `limited_poa` by default; `test_realm` for TESTCONS.
    #[serde(default = "default_realm")]
    pub realm: String,
}

fn default_realm() -> String {
    DEFAULT_REALM.to_string()
}

/// Everything OAuth 1.0a signs with. `Debug` prints the consumer key and realm only.
pub struct Oauth1Keys {
    pub consumer_key: String,
    pub access_token: Secret,
    pub access_token_secret: Secret,
    pub signature_key: RsaPrivateKey,
    pub encryption_key: RsaPrivateKey,
    pub dh: DhGroup,
    pub realm: String,
}

impl std::fmt::Debug for Oauth1Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oauth1Keys")
            .field("consumer_key", &self.consumer_key)
            .field("realm", &self.realm)
            .field("dh", &self.dh)
            .finish_non_exhaustive()
    }
}

impl Oauth1Settings {
    /// Reads the material the settings name, from files and from `env` (the process environment in the
    /// server, a map in tests). Errors name the setting and the file or variable, never a value.
    pub fn load(&self, env: impl Fn(&str) -> Option<String>) -> Result<Oauth1Keys, String> {
        let var = |name: &str, what: &str| {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("the {what} environment variable {name} is not set"))
        };
        if self.consumer_key.trim().is_empty() {
            return Err("consumer_key is empty".into());
        }
        let access_token = var(&self.access_token_env, "access token")?;
        let access_token_secret = var(&self.access_token_secret_env, "access token secret")?;
        let signature_pem = pem_source(
            &self.signature_key_file,
            &self.signature_key_env,
            "signature_key",
            &env,
        )?;
        let encryption_pem = pem_source(
            &self.encryption_key_file,
            &self.encryption_key_env,
            "encryption_key",
            &env,
        )?;
        let dh_text = match (&self.dh_prime, &self.dh_param_file) {
            (Some(hex), None) => hex.clone(),
            (None, Some(path)) => read_file(path, "dh_param_file")?,
            _ => return Err("give exactly one of dh_prime and dh_param_file".into()),
        };
        Ok(Oauth1Keys {
            consumer_key: self.consumer_key.trim().to_string(),
            access_token: Secret::new(access_token.trim()),
            access_token_secret: Secret::new(access_token_secret.trim()),
            signature_key: private_key(&signature_pem).map_err(|e| format!("signature_key: {e}"))?,
            encryption_key: private_key(&encryption_pem).map_err(|e| format!("encryption_key: {e}"))?,
            dh: DhGroup::parse(&dh_text, self.dh_generator).map_err(|e| format!("DH parameters: {e}"))?,
            realm: self.realm.clone(),
        })
    }
}

/// The PEM text of a key given as `<name>_file` or `<name>_env` (exactly one); errors name the setting and
/// the file or variable, never the contents.
pub fn pem_source(
    file: &Option<PathBuf>,
    env_name: &Option<String>,
    name: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    match (file, env_name) {
        (Some(path), None) => read_file(path, &format!("{name}_file")),
        (None, Some(var)) => env(var).ok_or_else(|| format!("the {name}_env variable {var} is not set")),
        _ => Err(format!("give exactly one of {name}_file and {name}_env")),
    }
}

fn read_file(path: &PathBuf, setting: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{setting} {}: {e}", path.display()))
}

/// An RSA private key from PEM: PKCS#8 (`PRIVATE KEY`, OpenSSL 3's default) or PKCS#1 (`RSA PRIVATE KEY`).
pub fn private_key(pem: &str) -> Result<RsaPrivateKey, String> {
    let pem = pem.trim();
    let key = if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
        RsaPrivateKey::from_pkcs1_pem(pem).map_err(|_| "not a valid PKCS#1 RSA private key")?
    } else if pem.contains("-----BEGIN PRIVATE KEY-----") {
        RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| "not a valid PKCS#8 RSA private key")?
    } else {
        return Err("not a PEM private key (RSA PRIVATE KEY or PRIVATE KEY)".into());
    };
    Ok(key)
}
