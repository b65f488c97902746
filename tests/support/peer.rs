//! Requests from a given client address: the app is driven without a socket, so the peer address a
//! server would record (`ConnectInfo<SocketAddr>`) is set on the request by hand.

use super::{Reply, TestApp};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request};
use http_body_util::BodyExt;
use serde_json::Value;
use std::net::SocketAddr;
use tower::ServiceExt;

impl TestApp {
    /// A form request as if it came over TCP from `peer` (`"203.0.113.5:40000"`), with extra headers.
    pub async fn send_from(
        &self,
        peer: &str,
        method: Method,
        path: &str,
        form: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let peer: SocketAddr = peer.parse().expect("a socket address");
        let mut req = Request::builder().method(method).uri(format!("/api{path}"));
        if form.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req
            .body(Body::from(form.unwrap_or_default().to_owned()))
            .expect("request builds");
        req.extensions_mut().insert(ConnectInfo(peer));
        let res = self.router.clone().oneshot(req).await.expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body reads").to_bytes();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// `POST /authorize` from `peer`.
    pub async fn login_from(&self, peer: &str, login: &str, password: &str) -> Reply {
        let form = format!("login={login}&password={password}&locale=en");
        self.send_from(peer, Method::POST, "/authorize", Some(&form), &[])
            .await
    }
}
