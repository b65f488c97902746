//! The grant each bridge user gave the bridge at IBKR (access token and its encrypted secret), kept in the
//! store encrypted with `link_key` (AES-256-GCM, the bridge user as associated data) so every replica and
//! every restart finds it, and no store reader can trade with it.

use crate::broker::BrokerResult;
use crate::secret::Secret;
use crate::store::Store;
use std::sync::Arc;

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

/// The store of grants, by bridge user.
pub struct Links {
    _store: Arc<dyn Store>,
    _key: Secret,
}

impl Links {
    pub fn new(store: Arc<dyn Store>, key: Secret) -> Links {
        Links {
            _store: store,
            _key: key,
        }
    }

    /// `user`'s grant, `None` when there is none.
    pub async fn get(&self, _user: &str) -> BrokerResult<Option<Grant>> {
        // SKELETON (helper AUTH).
        Ok(None)
    }

    /// Stores `user`'s grant, replacing any older one.
    pub async fn put(&self, _user: &str, _grant: &Grant) -> BrokerResult<()> {
        // SKELETON (helper AUTH).
        Ok(())
    }

    /// Forgets `user`'s grant.
    pub async fn delete(&self, _user: &str) -> BrokerResult<()> {
        // SKELETON (helper AUTH).
        Ok(())
    }
}
