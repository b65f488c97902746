//! The three-legged OAuth 1.0a grant (request token with the bridge's callback, the user at IBKR's
//! authorization page, access token with the verifier) as the core's [`Federation`]: the grant is stored
//! with [`Links`] against the bridge user.

use super::config::ResolvedConfig;
use super::credentials::Links;
use super::session::Sessions;
use crate::broker::federation::{Federation, FederationStart};
use crate::broker::{BrokerError, BrokerResult};
use crate::upstream::transport::Transport;
use async_trait::async_trait;
use std::sync::Arc;

/// IBKR's third-party grant.
pub struct IbkrFederation {
    _transport: Arc<Transport>,
    _config: ResolvedConfig,
    links: Arc<Links>,
    _sessions: Arc<Sessions>,
}

impl IbkrFederation {
    pub fn new(
        transport: Arc<Transport>,
        config: ResolvedConfig,
        links: Arc<Links>,
        sessions: Arc<Sessions>,
    ) -> IbkrFederation {
        IbkrFederation {
            _transport: transport,
            _config: config,
            links,
            _sessions: sessions,
        }
    }
}

#[async_trait]
impl Federation for IbkrFederation {
    fn upstream_name(&self) -> &'static str {
        "Interactive Brokers"
    }

    async fn is_linked(&self, user: &str) -> BrokerResult<bool> {
        Ok(self.links.get(user).await?.is_some())
    }

    async fn begin(&self, _user: &str, _callback: &str) -> BrokerResult<FederationStart> {
        // SKELETON (helper AUTH).
        Err(BrokerError::Unavailable("not built yet".into()))
    }

    async fn complete(
        &self,
        _user: &str,
        _start: &FederationStart,
        _query: &[(String, String)],
    ) -> BrokerResult<()> {
        // SKELETON (helper AUTH).
        Err(BrokerError::Unavailable("not built yet".into()))
    }

    async fn unlink(&self, user: &str) -> BrokerResult<()> {
        self.links.delete(user).await
    }
}
