//! Per bridge user: the live session token obtained with the user's grant (from [`Links`]), renewed
//! before it expires, and the signer every resource call for that user carries. A token IBKR refuses is
//! dropped and obtained again once; a grant IBKR refuses (revoked at IBKR) is deleted, and the user is
//! told to log in again.

use super::credentials::Links;
use crate::backends::ibkr::oauth1::Oauth1Keys;
use crate::broker::{BrokerError, BrokerResult};
use crate::upstream::transport::{SignError, Signer, Transport};
use std::sync::Arc;

/// Signs one user's calls with their live session token (HMAC-SHA256).
pub struct UserSigner {}

impl Signer for UserSigner {
    fn sign(&self, _req: &mut reqwest::Request) -> Result<(), SignError> {
        // SKELETON (helper AUTH).
        Err(SignError("not built yet".into()))
    }
}

/// Every user's live session, by bridge user.
pub struct Sessions {
    _transport: Arc<Transport>,
    _keys: Arc<Oauth1Keys>,
    _links: Arc<Links>,
}

impl Sessions {
    pub fn new(transport: Arc<Transport>, keys: Arc<Oauth1Keys>, links: Arc<Links>) -> Sessions {
        Sessions {
            _transport: transport,
            _keys: keys,
            _links: links,
        }
    }

    /// The signer for `user`'s calls, obtaining or renewing the live session token first.
    /// `Err(BrokerError::LogInAgain)` when the user has no grant (never given, or revoked at IBKR: then
    /// the grant is deleted and the message says so).
    pub async fn signer(&self, _user: &str) -> BrokerResult<Arc<UserSigner>> {
        // SKELETON (helper AUTH).
        Err(BrokerError::LogInAgain("not built yet".into()))
    }

    /// IBKR answered 401 to a call signed with `stale`: the next [`Sessions::signer`] obtains a new token.
    pub fn invalidate(&self, _user: &str, _stale: &Arc<UserSigner>) {
        // SKELETON (helper AUTH).
    }
}
