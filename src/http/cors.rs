//! CORS for TradingView's browser calls: echo an allowed origin exactly, allow `Authorization`, answer preflights.

use axum::http::{header, HeaderValue, Method};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Whether `origin` matches `pattern`; a `*` label in the pattern stands for one or more sub-domain labels.
pub fn origin_matches(pattern: &str, origin: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.eq_ignore_ascii_case(origin),
        Some((prefix, suffix)) => {
            let (o, p, s) = (
                origin.to_ascii_lowercase(),
                prefix.to_ascii_lowercase(),
                suffix.to_ascii_lowercase(),
            );
            o.len() > p.len() + s.len()
                && o.starts_with(&p)
                && o.ends_with(&s)
                && o[p.len()..o.len() - s.len()]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                && !o[p.len()..o.len() - s.len()].starts_with('.')
        }
    }
}

/// The CORS layer for the configured origin patterns.
pub fn layer(patterns: &[String]) -> CorsLayer {
    let patterns = patterns.to_vec();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .map(|o| patterns.iter().any(|p| origin_matches(p, o)))
                .unwrap_or(false)
        }))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::origin_matches;

    #[test]
    fn wildcard_matches_subdomains_only() {
        let p = "https://*.tradingview.com";
        assert!(origin_matches(p, "https://www.tradingview.com"));
        assert!(origin_matches(p, "https://a.b.tradingview.com"));
        assert!(!origin_matches(p, "https://tradingview.com"));
        assert!(!origin_matches(p, "https://evil.com/.tradingview.com"));
        assert!(!origin_matches(p, "https://eviltradingview.com"));
        assert!(!origin_matches(p, "http://www.tradingview.com"));
        assert!(origin_matches("http://localhost:3000", "http://localhost:3000"));
    }
}
