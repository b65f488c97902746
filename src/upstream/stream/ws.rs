//! The WebSocket transport (tokio-tungstenite): connect with a bounded handshake and message size, send
//! text frames with a bounded wait, and report pings and pongs as proof of life only. Binary frames are
//! proof of life too, unless the upstream sends its messages as binary frames ([`WsLink::binary_messages`]).

use super::link::{Frame, Link};
use crate::upstream::transport::Tls;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async_tls_with_config, Connector, MaybeTlsStream, WebSocketStream};

/// Time allowed for a polite close handshake before the socket is just dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// An open WebSocket.
pub struct WsLink {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    send_timeout: Duration,
    /// Whether binary frames carry messages (decoded like text) rather than nothing of use.
    binary_messages: bool,
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
        Self::open(url, headers, wait, max_message, None).await
    }

    /// [`WsLink::connect`] trusting what `tls` says (a gateway's CA file, or any certificate), as the
    /// REST transport of the same upstream does.
    pub async fn connect_with_tls(
        url: &str,
        headers: &[(&'static str, String)],
        wait: Duration,
        max_message: usize,
        tls: &Tls,
    ) -> Result<WsLink, String> {
        let config = super::tls::client_config(tls)?;
        let connector = Connector::Rustls(std::sync::Arc::new(config));
        Self::open(url, headers, wait, max_message, Some(connector)).await
    }

    async fn open(
        url: &str,
        headers: &[(&'static str, String)],
        wait: Duration,
        max_message: usize,
        connector: Option<Connector>,
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
        let connect = connect_async_tls_with_config(request, Some(config), true, connector);
        match timeout(wait, connect).await {
            Ok(Ok((ws, _response))) => Ok(WsLink {
                ws,
                send_timeout: wait,
                binary_messages: false,
            }),
            Ok(Err(e)) => Err(format!("connection failed: {e}")),
            Err(_) => Err(format!("connection timed out after {wait:?}")),
        }
    }

    /// This link with binary frames handed to the protocol's decoder like text frames, for upstreams that
    /// send their (UTF-8 JSON) messages as binary frames.
    pub fn binary_messages(self) -> WsLink {
        WsLink {
            binary_messages: true,
            ..self
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
            Ok(Message::Binary(bytes)) if self.binary_messages => Some(Ok(Frame::Text(bytes.to_vec()))),
            Ok(Message::Close(frame)) => Some(Ok(Frame::Closed(frame.map(|f| u16::from(f.code))))),
            // WebSocket pings are answered by tungstenite itself; they only prove the socket alive.
            Ok(_) => Some(Ok(Frame::Life)),
        }
    }

    async fn close(&mut self) {
        let _ = timeout(CLOSE_WAIT, self.ws.close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ws::{CloseFrame, Message as AxMessage, WebSocketUpgrade};
    use axum::http::HeaderMap;
    use axum::routing::get;

    /// A local WebSocket server that echoes the `cookie` header, then sends a binary frame, a ping and a
    /// close frame with code 1000.
    async fn server() -> String {
        let app = axum::Router::new().route(
            "/ws",
            get(|ws: WebSocketUpgrade, headers: HeaderMap| async move {
                let cookie = headers
                    .get("cookie")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_string();
                ws.on_upgrade(move |mut socket| async move {
                    let _ = socket.send(AxMessage::Text(cookie.into())).await;
                    let _ = socket.send(AxMessage::Binary(b"{\"a\":1}".to_vec().into())).await;
                    let _ = socket.send(AxMessage::Ping(Vec::new().into())).await;
                    let close = CloseFrame {
                        code: 1000,
                        reason: "bye".into(),
                    };
                    let _ = socket.send(AxMessage::Close(Some(close))).await;
                    // Wait for the client's side of the close handshake.
                    while let Some(Ok(_)) = socket.recv().await {}
                })
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("ws://{addr}/ws")
    }

    async fn frames(link: &mut WsLink) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(Ok(frame)) = link.recv().await {
            let end = matches!(frame, Frame::Closed(_));
            out.push(frame);
            if end {
                break;
            }
        }
        out
    }

    #[tokio::test]
    async fn headers_go_on_the_upgrade_and_binary_frames_are_messages_only_when_asked() {
        let url = server().await;
        let wait = Duration::from_secs(5);
        let headers = [("cookie", "api=s1".to_string())];
        let mut plain = WsLink::connect(&url, &headers, wait, 1024).await.unwrap();
        assert_eq!(
            frames(&mut plain).await,
            [
                Frame::Text(b"api=s1".to_vec()),
                Frame::Life,
                Frame::Life,
                Frame::Closed(Some(1000))
            ]
        );
        let mut binary = WsLink::connect(&url, &[], wait, 1024)
            .await
            .unwrap()
            .binary_messages();
        assert_eq!(
            frames(&mut binary).await,
            [
                Frame::Text(b"none".to_vec()),
                Frame::Text(b"{\"a\":1}".to_vec()),
                Frame::Life,
                Frame::Closed(Some(1000))
            ]
        );
        let bad = WsLink::connect(&url, &[("cookie", "a\nb".to_string())], wait, 1024).await;
        assert_eq!(bad.err().unwrap(), "bad value for header cookie");
    }
}
