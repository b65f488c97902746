//! The grant each bridge user gave the bridge at IBKR (access token and its encrypted secret), kept in the
//! store encrypted with `link_key` (AES-256-GCM, the bridge user as associated data) so every replica and
//! every restart finds it, and no store reader can trade with it.
//!
//! A record is `version (1 byte) | nonce (12 random bytes) | AES-256-GCM(JSON of the grant)`, under the key
//! `ibkr-tp-grant:<digest of the user>`. The associated data binds the record to its user and version, so
//! a record copied under another user's key does not decrypt. A record that does not decrypt (the link
//! key changed) counts as no grant: the user grants access again, which replaces it.

use super::config::link_key_bytes;
use crate::broker::{BrokerError, BrokerResult};
use crate::secret::Secret;
use crate::store::{self, Expect, Store, StoreError};
use crate::sync::MutexExt;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The record format this version writes and reads.
const VERSION: u8 = 1;
/// AES-GCM's 96-bit nonce.
const NONCE_BYTES: usize = 12;
/// A grant lasts until the user or IBKR revokes it; the store wants a time to live on every write.
const GRANT_TTL: Duration = Duration::from_secs(10 * 365 * 86_400);
/// The first segment of every grant's store key.
const KEY_KIND: &str = "ibkr-tp-grant";

/// A user's IBKR access token and the token secret as IBKR sent it (base64, encrypted to the consumer's
/// encryption key). `Debug` shows neither.
#[derive(Clone)]
pub struct Grant {
    pub access_token: Secret,
    pub access_token_secret: Secret,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant").finish_non_exhaustive()
    }
}

/// The plaintext of a record.
#[derive(serde::Serialize, serde::Deserialize)]
struct Plain {
    access_token: String,
    access_token_secret: String,
}

/// The store of grants, by bridge user.
pub struct Links {
    store: Arc<dyn Store>,
    /// `None` when the configured key is not 32 bytes of base64 (`resolve_with` refuses that first).
    cipher: Option<Aes256Gcm>,
    /// The users whose record did not decrypt, already logged (once each).
    unreadable: Mutex<HashSet<String>>,
}

impl Links {
    pub fn new(store: Arc<dyn Store>, key: Secret) -> Links {
        let cipher = link_key_bytes(&key)
            .ok()
            .and_then(|bytes| Aes256Gcm::new_from_slice(&bytes).ok());
        Links {
            store,
            cipher,
            unreadable: Mutex::new(HashSet::new()),
        }
    }

    /// `user`'s grant, `None` when there is none.
    pub async fn get(&self, user: &str) -> BrokerResult<Option<Grant>> {
        Ok(self.read(user).await?.map(|(_, grant)| grant))
    }

    /// Stores `user`'s grant, replacing any older one.
    pub async fn put(&self, user: &str, grant: &Grant) -> BrokerResult<()> {
        let record = self.seal(user, grant)?;
        self.store
            .swap(&key(user), Expect::Any, Some(&record), GRANT_TTL)
            .await
            .map_err(store_failed)?;
        self.unreadable.locked().remove(user);
        Ok(())
    }

    /// Forgets `user`'s grant.
    pub async fn delete(&self, user: &str) -> BrokerResult<()> {
        self.store
            .swap(&key(user), Expect::Any, None, Duration::from_secs(1))
            .await
            .map_err(store_failed)?;
        Ok(())
    }

    /// Forgets `user`'s grant if it is still the one of `access_token` (IBKR refused that one): a grant
    /// the user gave meanwhile, on this replica or another, is kept. Whether a grant was deleted.
    pub async fn delete_if(&self, user: &str, access_token: &Secret) -> BrokerResult<bool> {
        let Some((version, grant)) = self.read(user).await? else {
            return Ok(false);
        };
        if !grant.access_token.constant_time_eq(access_token.expose()) {
            return Ok(false);
        }
        let deleted = self
            .store
            .swap(&key(user), Expect::Version(version), None, Duration::from_secs(1))
            .await
            .map_err(store_failed)?;
        Ok(deleted.is_some())
    }

    /// The record of `user` with its store version, decrypted; `None` when absent or unreadable.
    async fn read(&self, user: &str) -> BrokerResult<Option<(u64, Grant)>> {
        let Some(entry) = self.store.get(&key(user)).await.map_err(store_failed)? else {
            return Ok(None);
        };
        match self.open(user, &entry.value) {
            Ok(grant) => Ok(Some((entry.version, grant))),
            Err(why) => {
                if self.unreadable.locked().insert(user.to_string()) {
                    tracing::warn!(
                        user,
                        why,
                        "a stored IBKR grant cannot be read (was backend.link_key_env's key changed?); the user must grant access again"
                    );
                }
                Ok(None)
            }
        }
    }

    fn cipher(&self) -> BrokerResult<&Aes256Gcm> {
        self.cipher.as_ref().ok_or_else(|| {
            BrokerError::Internal("backend.link_key_env does not hold 32 bytes of base64".into())
        })
    }

    /// The record of `grant` for `user`: a fresh random nonce every time.
    fn seal(&self, user: &str, grant: &Grant) -> BrokerResult<Vec<u8>> {
        let plain = serde_json::to_vec(&Plain {
            access_token: grant.access_token.expose().to_string(),
            access_token_secret: grant.access_token_secret.expose().to_string(),
        })
        .map_err(|e| BrokerError::Internal(format!("encoding a grant: {e}")))?;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()?
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &associated_data(VERSION, user),
                },
            )
            .map_err(|_| BrokerError::Internal("encrypting a grant failed".into()))?;
        let mut record = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
        record.push(VERSION);
        record.extend_from_slice(&nonce);
        record.extend_from_slice(&sealed);
        Ok(record)
    }

    /// The grant in `record` of `user`; the error says why not, never with a secret.
    fn open(&self, user: &str, record: &[u8]) -> Result<Grant, &'static str> {
        let cipher = self.cipher().map_err(|_| "no usable link key")?;
        let (&version, rest) = record.split_first().ok_or("empty record")?;
        if version != VERSION {
            return Err("unknown record version");
        }
        if rest.len() < NONCE_BYTES {
            return Err("truncated record");
        }
        let (nonce, sealed) = rest.split_at(NONCE_BYTES);
        let plain = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &associated_data(version, user),
                },
            )
            .map_err(|_| "it does not decrypt with the link key for this user")?;
        let plain: Plain =
            serde_json::from_slice(&plain).map_err(|_| "the decrypted record is not a grant")?;
        Ok(Grant {
            access_token: Secret::new(plain.access_token),
            access_token_secret: Secret::new(plain.access_token_secret),
        })
    }
}

/// What the record's authentication tag also covers: its purpose, its version and its user
/// (length-prefixed), so a record moved to another user's key, or read as another format, fails.
fn associated_data(version: u8, user: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + user.len());
    aad.extend_from_slice(b"tvbridge ibkr-third-party grant");
    aad.push(version);
    aad.extend_from_slice(&(user.len() as u64).to_be_bytes());
    aad.extend_from_slice(user.as_bytes());
    aad
}

/// The store key of `user`'s grant: a digest, so the store shows no login.
fn key(user: &str) -> String {
    format!("{KEY_KIND}:{}", store::digest(&[KEY_KIND, user]))
}

fn store_failed(e: StoreError) -> BrokerError {
    BrokerError::Unavailable(format!("IBKR grants: {e}"))
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
