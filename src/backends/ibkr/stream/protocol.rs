//! [`GatewayProtocol`]: what the shared stream pool ([`crate::upstream::stream`]) needs to speak the IBKR
//! WebSocket, on every transport. Opening a connection takes a session id from `/tickle` (signed over
//! OAuth), then the transport's pass for the upgrade from the credential held at that moment (paced like
//! every REST call), connects, sends the session, and waits for IBKR to confirm it (`sts` authenticated,
//! or the `system` greeting); then every topic is its own message, `tic` keeps the session alive, and a
//! socket that loses its session is replaced with a fresh tickle and a fresh pass.

use super::frames::{self, classify, is_conid, Merged, Message, QuoteState};
use super::upgrade::Upgrade;
use crate::backends::ibkr::session::Gateway;
use crate::broker::BrokerError;
use crate::sync::MutexExt;
use crate::upstream::stream::ws::WsLink;
use crate::upstream::stream::{Frame, Incoming, Link, OpenError, Opened, Protocol};
use crate::upstream::transport::Tls;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{timeout_at, Instant};

/// Longest message accepted; IBKR's are a few kilobytes (a day's orders), anything near this is not IBKR.
const MAX_MESSAGE: usize = 4 << 20;

/// What the pool hands the receivers of a key.
#[derive(Debug, Clone)]
pub enum Push {
    /// The contract's whole quote after an update (keys: conids).
    Quote(QuoteState),
    /// Orders changed on these accounts (key [`frames::ORDERS`]; empty: not said).
    Orders(Vec<String>),
    /// Profit and loss changed on these accounts (key [`frames::PNL`]).
    Pnl(Vec<String>),
}

/// The IBKR WebSocket at `<base>/ws` of the host the REST calls go to (the gateway's, or `api.ibkr.com`).
pub struct GatewayProtocol {
    /// `ws://` or `wss://` URL of the socket, without credentials.
    pub url: String,
    /// Where the session id comes from (`/tickle` on the open brokerage session).
    pub gateway: Arc<Gateway>,
    /// Limit of the handshake, of every send, and of the wait for IBKR to confirm the session.
    pub connect_timeout: Duration,
    /// The REST client's trust (`ca_file`, `insecure_tls`), for `wss://`.
    pub tls: Tls,
    /// The latest value of every field per contract (updates carry only changes).
    pub merged: Mutex<Merged>,
}

impl GatewayProtocol {
    /// A session id from `/tickle` (which also opens the brokerage session when it is not open).
    async fn session_id(&self) -> Result<String, OpenError> {
        let tickle = self
            .gateway
            .call("opening the stream", |api| async move { api.tickle().await })
            .await
            .map_err(|e| OpenError::retry(format!("no session for the stream: {e}")))?;
        let authenticated = tickle
            .iserver
            .and_then(|i| i.auth_status)
            .is_none_or(|s| s.authenticated);
        if !authenticated {
            self.gateway.forget().await;
            return Err(OpenError::retry(
                "the tickle says the session is not authenticated",
            ));
        }
        tickle
            .session
            .map(|s| s.expose().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| OpenError::retry("the tickle answer has no session id"))
    }

    /// Sends the session and reads until IBKR confirms it. A socket may greet with "waiting for session"
    /// before it reads the session; the same answer once more means the session was refused.
    async fn authenticate(&self, link: &mut WsLink, session: &str) -> Result<(), OpenError> {
        link.send(frames::session(session))
            .await
            .map_err(OpenError::retry)?;
        let deadline = Instant::now() + self.connect_timeout;
        let mut waiting = 0;
        loop {
            let frame = match timeout_at(deadline, link.recv()).await {
                Err(_) => {
                    return Err(OpenError::retry(
                        "IBKR did not confirm the stream's session in time",
                    ))
                }
                Ok(None) => {
                    return Err(OpenError::retry(
                        "the socket closed before the session was confirmed",
                    ))
                }
                Ok(Some(Err(e))) => return Err(OpenError::retry(e)),
                Ok(Some(Ok(frame))) => frame,
            };
            let text = match frame {
                Frame::Text(bytes) => bytes,
                Frame::Closed(code) => {
                    return Err(OpenError::retry(format!(
                        "the socket closed before the session was confirmed (close code {code:?})"
                    )))
                }
                Frame::Life => continue,
            };
            match classify(&String::from_utf8_lossy(&text)) {
                Message::Authenticated => return Ok(()),
                Message::SessionGone(_) if waiting == 0 => waiting += 1,
                Message::SessionGone(why) => {
                    return Err(OpenError::retry(format!(
                        "IBKR refused the stream's session: {why}"
                    )))
                }
                _ => {}
            }
        }
    }
}

#[async_trait::async_trait]
impl Protocol for GatewayProtocol {
    type Event = Push;
    type Session = ();

    fn name(&self) -> &'static str {
        "IBKR WebSocket"
    }

    fn check_key(&self, key: &str) -> Result<(), BrokerError> {
        if key == frames::ORDERS || key == frames::PNL || is_conid(key) {
            Ok(())
        } else {
            Err(BrokerError::Rejected(format!(
                "'{}' is not an IBKR contract id",
                key.chars().take(40).collect::<String>()
            )))
        }
    }

    async fn open(&self, _keys: &[String], _reopened: bool) -> Result<Opened<()>, OpenError> {
        let session = self.session_id().await?;
        // Taken at every opening, after the tickle: a renewed credential is the one the socket gets.
        let pass = self
            .gateway
            .api()
            .socket_pass()
            .await
            .map_err(|e| OpenError::retry(format!("no credential for the stream: {e}")))?;
        let upgrade = Upgrade::new(&self.url, &pass, &session).map_err(OpenError::retry)?;
        let connected = WsLink::connect_with_tls(
            &upgrade.url,
            &upgrade.headers,
            self.connect_timeout,
            MAX_MESSAGE,
            &self.tls,
        )
        .await;
        let mut link = connected.map_err(|e| OpenError::retry(upgrade.mask(&e)))?;
        if let Err(e) = self.authenticate(&mut link, &session).await {
            link.close().await;
            return Err(e);
        }
        Ok(Opened {
            session: (),
            link: Box::new(link),
        })
    }

    fn subscribe(&self, _: &(), _seq: u64, keys: &[String]) -> Option<String> {
        // The pool names one key per frame (`per_frame: 1`): IBKR reads one topic per message.
        keys.first().and_then(|k| frames::subscribe(k))
    }

    fn unsubscribe(&self, _: &(), _seq: u64, keys: &[String]) -> Option<String> {
        let key = keys.first()?;
        if let Ok(conid) = key.parse::<i64>() {
            self.merged.locked().forget(conid);
        }
        frames::unsubscribe(key)
    }

    fn keep_alive(&self, _: &(), _seq: u64) -> Option<String> {
        Some(frames::KEEP_ALIVE.to_string())
    }

    fn decode(&self, _: &(), frame: &[u8]) -> Incoming<Push> {
        let Ok(text) = std::str::from_utf8(frame) else {
            return Incoming::Malformed;
        };
        match classify(text) {
            Message::MarketData {
                conid,
                fields,
                updated_ms,
            } => match self.merged.locked().update(conid, fields, updated_ms) {
                Ok(Some(state)) => Incoming::Data {
                    key: conid.to_string(),
                    event: Push::Quote(state),
                },
                Ok(None) => Incoming::Alive,
                Err(why) => {
                    tracing::warn!(conid, error = %why, "IBKR streamed a price the bridge could not read");
                    Incoming::Alive
                }
            },
            Message::Orders(accounts) => Incoming::Data {
                key: frames::ORDERS.to_string(),
                event: Push::Orders(accounts),
            },
            Message::Pnl(accounts) => Incoming::Data {
                key: frames::PNL.to_string(),
                event: Push::Pnl(accounts),
            },
            Message::SessionGone(why) => Incoming::SessionInvalid {
                reason: why.to_string(),
            },
            Message::Authenticated | Message::Other => Incoming::Alive,
            Message::Malformed => Incoming::Malformed,
        }
    }
}
