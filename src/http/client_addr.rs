//! The client's address, for login throttling and the audit trail: the TCP peer, or, when the peer is a
//! trusted reverse proxy (`auth.trusted_proxies`), the address the proxies name in `X-Forwarded-For`.
//!
//! `X-Forwarded-For` is read from the right: each trusted proxy appends the address it received the
//! request from, so the first address from the right that is not a trusted proxy is the client. Anything
//! further left was written by the client itself and is never believed. From an untrusted peer the header
//! is ignored altogether.

use crate::http::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// Address ranges of trusted reverse proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.1`, `::1`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse(list: &[String]) -> Result<TrustedProxies, String> {
        list.iter()
            .map(|item| {
                let (addr, bits) = match item.trim().split_once('/') {
                    Some((a, b)) => (a, Some(b)),
                    None => (item.trim(), None),
                };
                let ip: IpAddr = addr
                    .parse()
                    .map_err(|_| format!("{item:?} is not an IP address or CIDR range"))?;
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let bits = match bits {
                    None => max,
                    Some(b) => b
                        .parse::<u8>()
                        .ok()
                        .filter(|b| *b <= max)
                        .ok_or_else(|| format!("{item:?}: the prefix length must be 0..={max}"))?,
                };
                Ok((ip.to_canonical(), bits))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|(net, bits)| match (net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                u32::from(*net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                u128::from(*net) & mask == u128::from(ip) & mask
            }
            _ => false,
        })
    }

    /// The client of a request from `peer` carrying the `X-Forwarded-For` values `forwarded` (in header
    /// order).
    pub fn client(&self, peer: IpAddr, forwarded: &[&str]) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let hops = forwarded.iter().flat_map(|v| v.split(',')).collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                // Proxies write valid addresses; garbage comes from the client side: stop here.
                break;
            };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:5678`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The client's address when the server knows its peer (`ConnectInfo<SocketAddr>`); `None` when driven
/// without a socket (tests through `oneshot`), in which case per-address throttling does not apply.
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientAddr(None));
        };
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        Ok(ClientAddr(Some(
            state.trusted_proxies().client(peer.ip(), &forwarded),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        let p = proxies(&["10.0.0.0/8", "192.168.1.7", "fd00::/8"]);
        assert!(p.contains(ip("10.200.3.4")));
        assert!(p.contains(ip("192.168.1.7")));
        assert!(!p.contains(ip("192.168.1.8")));
        assert!(p.contains(ip("fd12::1")));
        assert!(
            p.contains(ip("::ffff:10.1.1.1")),
            "IPv4-mapped peers of a dual-stack socket"
        );
        assert!(!p.contains(ip("11.0.0.1")));
        assert!(proxies(&["0.0.0.0/0"]).contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129"] {
            assert!(TrustedProxies::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies_and_read_from_the_right() {
        let p = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        // Not from a proxy: the header is the client's own claim.
        assert_eq!(p.client(ip("203.0.113.9"), &["1.1.1.1"]), ip("203.0.113.9"));
        // Through our proxy: the entry it appended is the client.
        assert_eq!(p.client(ip("127.0.0.1"), &["203.0.113.9"]), ip("203.0.113.9"));
        // A forged entry on the left is ignored; two proxy hops are skipped.
        assert_eq!(
            p.client(ip("127.0.0.1"), &["6.6.6.6, 203.0.113.9", "10.1.2.3"]),
            ip("203.0.113.9")
        );
        // Ports and IPv6 brackets are accepted.
        assert_eq!(
            p.client(ip("127.0.0.1"), &["[2001:db8::1]:443"]),
            ip("2001:db8::1")
        );
        // Garbage stops the walk at the last good hop; no header leaves the proxy itself.
        assert_eq!(p.client(ip("127.0.0.1"), &["junk, 10.0.0.5"]), ip("10.0.0.5"));
        assert_eq!(p.client(ip("127.0.0.1"), &[]), ip("127.0.0.1"));
        // Nothing trusted: always the peer.
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &["1.1.1.1"]),
            ip("127.0.0.1")
        );
    }
}
