//! `tvbridge health`: asks a running server's `/readyz` (or `/healthz`) and says whether it is healthy, for
//! Docker's HEALTHCHECK (the image has no curl). Healthy means HTTP 200.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// The URL of the server listening on `listen`: its readiness (`/readyz`), or its liveness (`/healthz`)
/// when `live`. A wildcard address is asked on loopback.
pub fn default_url(listen: SocketAddr, live: bool) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let path = if live { "/healthz" } else { "/readyz" };
    format!("http://{}{path}", SocketAddr::new(ip, listen.port()))
}

/// Asks `url` once: `Ok` with the body when it answers 200, `Err` naming what went wrong otherwise.
pub async fn check(url: &str, timeout: Duration) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url}: no answer: {}", root_cause(&e)))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!("{url}: HTTP {}: {}", status.as_u16(), body.trim()))
    }
}

/// Runs [`check`] on its own small runtime; the process exit code is 0 when healthy, 1 otherwise.
pub fn run(url: &str, timeout: Duration) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tvbridge health: cannot start the runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(check(url, timeout)) {
        Ok(body) => {
            println!("{}", body.trim());
            0
        }
        Err(e) => {
            eprintln!("tvbridge health: {e}");
            1
        }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_addresses_are_asked_on_loopback() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(default_url(any, false), "http://127.0.0.1:8080/readyz");
        let any6: SocketAddr = "[::]:9000".parse().unwrap();
        assert_eq!(default_url(any6, true), "http://[::1]:9000/healthz");
        let host: SocketAddr = "10.0.0.5:80".parse().unwrap();
        assert_eq!(default_url(host, false), "http://10.0.0.5:80/readyz");
    }
}
