//! The WebSocket transport (tokio-tungstenite): connect with a bounded handshake and message size, send
//! text frames with a bounded wait, and report pings, pongs and binary frames as proof of life only.

use super::link::{Frame, Link};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async_with_config, MaybeTlsStream, WebSocketStream};

/// Time allowed for a polite close handshake before the socket is just dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// An open WebSocket.
pub struct WsLink {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    send_timeout: Duration,
}

impl WsLink {
    /// Connects to `url` (`wss://` or `ws://`) with `headers` on the upgrade request (session cookies,
    /// signatures); the handshake, and later every send, may take `wait` at most. Messages larger than
    /// `max_message` bytes end the connection. The error never contains a header value.
    pub async fn connect(
        url: &str,
        headers: &[(&'static str, String)],
        wait: Duration,
        max_message: usize,
    ) -> Result<WsLink, String> {
        let mut request = url
            .into_client_request()
            .map_err(|e| format!("bad stream URL: {e}"))?;
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).map_err(|_| format!("bad value for header {name}"))?;
            request.headers_mut().insert(*name, value);
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(max_message))
            .max_frame_size(Some(max_message));
        match timeout(wait, connect_async_with_config(request, Some(config), true)).await {
            Ok(Ok((ws, _response))) => Ok(WsLink {
                ws,
                send_timeout: wait,
            }),
            Ok(Err(e)) => Err(format!("connection failed: {e}")),
            Err(_) => Err(format!("connection timed out after {wait:?}")),
        }
    }
}

#[async_trait::async_trait]
impl Link for WsLink {
    async fn send(&mut self, text: String) -> Result<(), String> {
        let wait = self.send_timeout;
        match timeout(wait, self.ws.send(Message::text(text))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("sending failed: {e}")),
            Err(_) => Err(format!("sending timed out after {wait:?}")),
        }
    }

    async fn recv(&mut self) -> Option<Result<Frame, String>> {
        match self.ws.next().await? {
            Err(e) => Some(Err(format!("socket error: {e}"))),
            Ok(Message::Text(text)) => Some(Ok(Frame::Text(text.as_bytes().to_vec()))),
            Ok(Message::Close(frame)) => Some(Ok(Frame::Closed(frame.map(|f| u16::from(f.code))))),
            // WebSocket pings are answered by tungstenite itself; they only prove the socket alive.
            Ok(_) => Some(Ok(Frame::Life)),
        }
    }

    async fn close(&mut self) {
        let _ = timeout(CLOSE_WAIT, self.ws.close(None)).await;
    }
}
