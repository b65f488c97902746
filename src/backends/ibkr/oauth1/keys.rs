//! `[backend.oauth1]` ([`OAuth1Config`]: the one configuration shape of the `oauth1` transport) and the key
//! material it names ([`Oauth1Keys`]): secrets come from environment variables and PEM files, never from
//! the configuration file itself.

use super::dh::DhGroup;
use crate::secret::Secret;
use crate::upstream::settings::{check_range, EnvSecrets};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};

/// The realm of consumers IBKR registered (`test_realm` is the one of the TESTCONS consumer).
pub const DEFAULT_REALM: &str = "limited_poa";

/// `[backend.oauth1]`: first-party OAuth 1.0a on `api.ibkr.com`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuth1Config {
    /// The environment variable holding the consumer key IBKR's self-service portal issued.
    pub consumer_key_env: String,
    /// The environment variable holding the access token.
    pub access_token_env: String,
    /// The environment variable holding the access token secret (base64, as the portal gives it).
    pub access_token_secret_env: String,
    /// PEM file of the private signature key.
    pub signature_key_file: String,
    /// PEM file of the private encryption key.
    pub encryption_key_file: String,
    /// The Diffie-Hellman prime, hex (or the `dhparam.pem` file in `dh_param_file`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dh_prime: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dh_param_file: String,
    /// The generator (default: the PEM's, else 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dh_generator: Option<u32>,
    /// `limited_poa` by default; `test_realm` for the TESTCONS consumer.
    pub realm: String,
}

impl Default for OAuth1Config {
    fn default() -> Self {
        OAuth1Config {
            consumer_key_env: String::new(),
            access_token_env: String::new(),
            access_token_secret_env: String::new(),
            signature_key_file: String::new(),
            encryption_key_file: String::new(),
            dh_prime: String::new(),
            dh_param_file: String::new(),
            dh_generator: None,
            realm: DEFAULT_REALM.to_string(),
        }
    }
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

/// Reads a file the configuration names (the process's file system in the server, a map in tests).
pub type ReadFile<'a> = &'a dyn Fn(&str) -> std::io::Result<Vec<u8>>;

impl OAuth1Config {
    /// Every problem of the table, each naming its key (`check-config` and `serve` both refuse them).
    pub fn problems(&self, out: &mut Vec<String>) {
        for (key, value) in [
            ("consumer_key_env", &self.consumer_key_env),
            ("access_token_env", &self.access_token_env),
            ("access_token_secret_env", &self.access_token_secret_env),
        ] {
            if value.trim().is_empty() {
                out.push(format!("backend.oauth1.{key} must be set"));
            }
        }
        self.key_files().problems(out);
        if self.realm.trim().is_empty() {
            out.push("backend.oauth1.realm must be set".into());
        }
    }

    /// The consumer's key files as this table names them.
    fn key_files(&self) -> KeyFiles<'_> {
        KeyFiles {
            table: "oauth1.",
            signature_key_file: &self.signature_key_file,
            encryption_key_file: &self.encryption_key_file,
            dh_prime: &self.dh_prime,
            dh_param_file: &self.dh_param_file,
            dh_generator: self.dh_generator,
        }
    }

    /// Reads the material the table names. Errors name the key and the file or variable, never a value.
    pub fn load(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        read: ReadFile<'_>,
    ) -> Result<Oauth1Keys, String> {
        let mut secrets = EnvSecrets::new(env);
        let consumer_key = secrets.read(&self.consumer_key_env);
        let access_token = secrets.read(&self.access_token_env);
        let access_token_secret = secrets.read(&self.access_token_secret_env);
        secrets.finish("IBKR OAuth 1.0a")?;
        let files = self.key_files().load(read)?;
        // Checked here so that `check-config` finds a secret and a key that do not belong together, rather
        // than the first handshake.
        super::lst::decrypt_secret(&files.encryption_key, access_token_secret.expose()).map_err(|e| {
            format!(
                "backend.oauth1: {e} (the variable {} and the file {:?} do not belong together)",
                self.access_token_secret_env, self.encryption_key_file
            )
        })?;
        Ok(Oauth1Keys {
            consumer_key: consumer_key.expose().to_string(),
            access_token,
            access_token_secret,
            signature_key: files.signature_key,
            encryption_key: files.encryption_key,
            dh: files.dh,
            realm: self.realm.trim().to_string(),
        })
    }
}

/// The consumer's key files and Diffie-Hellman group as a table names them: `[backend.oauth1]` (first
/// party) or `[backend]` of `kind = "ibkr-third-party"`, which share these keys.
pub struct KeyFiles<'a> {
    /// The table's prefix within `backend.` in messages: `"oauth1."`, or `""` for `[backend]` itself.
    pub table: &'a str,
    pub signature_key_file: &'a str,
    pub encryption_key_file: &'a str,
    pub dh_prime: &'a str,
    pub dh_param_file: &'a str,
    pub dh_generator: Option<u32>,
}

/// The private keys and DH group [`KeyFiles`] name, read.
pub struct ConsumerKeyFiles {
    pub signature_key: RsaPrivateKey,
    pub encryption_key: RsaPrivateKey,
    pub dh: DhGroup,
}

impl KeyFiles<'_> {
    /// `backend.oauth1`, or `backend`.
    fn table_name(&self) -> String {
        format!("backend.{}", self.table)
            .trim_end_matches('.')
            .to_string()
    }

    /// Every problem of these keys, each naming its key.
    pub fn problems(&self, out: &mut Vec<String>) {
        let t = self.table;
        for (key, value) in [
            ("signature_key_file", self.signature_key_file),
            ("encryption_key_file", self.encryption_key_file),
        ] {
            if value.trim().is_empty() {
                out.push(format!("backend.{t}{key} must be set"));
            }
        }
        if self.dh_prime.trim().is_empty() == self.dh_param_file.trim().is_empty() {
            out.push(format!(
                "{}: give exactly one of dh_prime and dh_param_file",
                self.table_name()
            ));
        }
        if let Some(g) = self.dh_generator {
            check_range(&format!("backend.{t}dh_generator"), g, 2..=65_537, "", out);
        }
    }

    /// Reads and parses the files. Errors name the key and the file, never the contents.
    pub fn load(&self, read: ReadFile<'_>) -> Result<ConsumerKeyFiles, String> {
        let t = self.table;
        let signature_pem = read_pem(read, &format!("{t}signature_key_file"), self.signature_key_file)?;
        let encryption_pem = read_pem(read, &format!("{t}encryption_key_file"), self.encryption_key_file)?;
        let dh_text = if self.dh_param_file.trim().is_empty() {
            self.dh_prime.to_string()
        } else {
            read_pem(read, &format!("{t}dh_param_file"), self.dh_param_file)?
        };
        let key = |key: &str, path: &str, pem: &str| {
            private_key(pem).map_err(|e| format!("backend.{t}{key} {path:?}: {e}"))
        };
        Ok(ConsumerKeyFiles {
            signature_key: key("signature_key_file", self.signature_key_file, &signature_pem)?,
            encryption_key: key("encryption_key_file", self.encryption_key_file, &encryption_pem)?,
            dh: DhGroup::parse(&dh_text, self.dh_generator)
                .map_err(|e| format!("{} Diffie-Hellman parameters: {e}", self.table_name()))?,
        })
    }
}

/// The text of a PEM file a key names; the error names the key and the file, never the contents.
pub fn read_pem(read: ReadFile<'_>, key: &str, path: &str) -> Result<String, String> {
    let bytes = read(path).map_err(|e| format!("backend.{key} {path:?}: {e}"))?;
    String::from_utf8(bytes).map_err(|_| format!("backend.{key} {path:?} is not a PEM text file"))
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
