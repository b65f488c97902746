//! The WebSocket upgrade request of each transport: the socket URL with the OAuth 1.0a access token in its
//! query, the upgrade headers (the OAuth 2.0 bearer, the session cookie), and the masking of every secret
//! they carry in any text about the connection, since a failed connection's reason reaches the log.

use crate::backends::ibkr::credentials::SocketPass;
use crate::secret::MASK;

/// One upgrade request. Deliberately not `Debug`: its URL and headers carry secrets.
pub(super) struct Upgrade {
    /// The socket URL with the pass's query pairs (may carry a secret: never logged).
    pub url: String,
    /// The upgrade request's headers (may carry secrets: never logged).
    pub headers: Vec<(&'static str, String)>,
    /// Every secret value above, as given and as the URL encodes it.
    secrets: Vec<String>,
}

impl Upgrade {
    /// The upgrade of `base` (the socket's `ws://` or `wss://` URL) with `pass`, for the brokerage
    /// session `session` (from `/tickle`). The error names the problem, never a value.
    pub fn new(base: &str, pass: &SocketPass, session: &str) -> Result<Upgrade, String> {
        let mut url = reqwest::Url::parse(base).map_err(|e| format!("the stream URL is not a URL ({e})"))?;
        if !pass.query.is_empty() {
            let mut query = url.query_pairs_mut();
            for (name, value) in &pass.query {
                query.append_pair(name, value.expose());
            }
        }
        let mut headers: Vec<(&'static str, String)> = pass
            .headers
            .iter()
            .map(|(name, value)| (*name, value.expose().to_string()))
            .collect();
        if pass.session_cookie {
            headers.push(("cookie", format!("api={session}")));
        }
        let mut secrets = Vec::new();
        for value in pass.secrets().chain([session]) {
            if value.is_empty() {
                continue;
            }
            // The URL's query is form-encoded, as serde_urlencoded encodes.
            let encoded = serde_urlencoded::to_string([("v", value)]).unwrap_or_default();
            if let Some(encoded) = encoded.strip_prefix("v=").filter(|e| *e != value) {
                secrets.push(encoded.to_string());
            }
            secrets.push(value.to_string());
        }
        Ok(Upgrade {
            url: url.into(),
            headers,
            secrets,
        })
    }

    /// `text` with every secret of this upgrade masked.
    pub fn mask(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), MASK)
        })
    }
}
