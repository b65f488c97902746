//! The registered OAuth clients, loaded once at start: secrets resolved from the environment, the
//! ServerOAuth2Bearer certificates read and checked, redirect URIs ready for exact comparison.

use super::assertion::AssertionVerifier;
use super::config::{ClientConfig, Flow};
use crate::secret::Secret;
use std::collections::HashMap;

/// One client.
pub struct Client {
    pub id: String,
    pub name: String,
    secret: Secret,
    redirect_uris: Vec<String>,
    logout_redirect_uris: Vec<String>,
    pub flows: Vec<Flow>,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    /// ServerOAuth2Bearer: the grant type URN and the verifier of the registered certificate.
    pub assertion: Option<(String, AssertionVerifier)>,
    /// The bridge users an assertion may act for; empty: any.
    pub assertion_users: Vec<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("flows", &self.flows)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Whether `uri` is one of the registered redirect URIs, compared exactly (RFC 9700 §4.1.3).
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    /// Whether `/oauth/logout` may send the browser to `uri`.
    pub fn logs_out_to(&self, uri: &str) -> bool {
        self.redirects_to(uri) || self.logout_redirect_uris.iter().any(|r| r == uri)
    }

    /// Whether `secret` is this client's (compared in constant time).
    pub fn authenticates(&self, secret: &str) -> bool {
        self.secret.constant_time_eq(secret)
    }
}

/// Every client, by id.
#[derive(Debug, Default)]
pub struct Clients {
    by_id: HashMap<String, Client>,
}

impl Clients {
    /// Loads `configs`; `token_url` is the audience of assertions. Fails naming the client and the problem.
    pub fn load(
        configs: &[ClientConfig],
        token_url: &str,
        leeway_secs: u64,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Clients, String> {
        let mut by_id = HashMap::new();
        for config in configs {
            let at = format!("oauth client {:?}", config.client_id);
            let secret = config.secret(env).map_err(|e| format!("{at}: {e}"))?;
            let assertion = if config.flows.contains(&Flow::ServerBearer) {
                let pem = std::fs::read_to_string(&config.certificate_file).map_err(|e| {
                    format!(
                        "{at}: cannot read certificate_file {:?}: {e}",
                        config.certificate_file
                    )
                })?;
                let verifier =
                    AssertionVerifier::from_certificate_pem(&pem, &config.client_id, token_url, leeway_secs)
                        .map_err(|e| format!("{at}: certificate_file {:?}: {e}", config.certificate_file))?;
                tracing::info!(client = %config.client_id, x5t = %verifier.thumbprint(),
                    "ServerOAuth2Bearer certificate loaded");
                Some((config.assertion_grant_type.clone(), verifier))
            } else {
                None
            };
            let client = Client {
                id: config.client_id.clone(),
                name: config.name.clone(),
                secret,
                redirect_uris: config.redirect_uris.clone(),
                logout_redirect_uris: config.logout_redirect_uris.clone(),
                flows: config.flows.clone(),
                access_token_ttl_secs: config.access_token_ttl_secs,
                refresh_token_ttl_secs: config.refresh_token_ttl_secs,
                assertion,
                assertion_users: config.assertion_users.clone(),
            };
            by_id.insert(client.id.clone(), client);
        }
        Ok(Clients { by_id })
    }

    pub fn get(&self, id: &str) -> Option<&Client> {
        self.by_id.get(id)
    }

    /// The client whose ServerOAuth2Bearer grant type is `grant_type`, if `client_id` names it.
    pub fn by_assertion_grant(&self, grant_type: &str) -> bool {
        self.by_id
            .values()
            .any(|c| c.assertion.as_ref().is_some_and(|(urn, _)| urn == grant_type))
    }

    /// Whether any client is registered (the OAuth endpoints answer only then).
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}
