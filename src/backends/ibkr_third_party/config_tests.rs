//! The `[backend]` table of `kind = "ibkr-third-party"`: every key checked, the key material read, and
//! the transport every call goes through.

use super::*;
use crate::backends::ibkr_third_party::session::test_ibkr::{
    config, env, resolved, serve, testdata, FakeIbkr,
};

fn symbol(symbol: &str) -> SymbolConfig {
    SymbolConfig {
        symbol: symbol.into(),
        conid: None,
        instrument_type: None,
        ticker: None,
        exchange: None,
        currency: None,
        tradingview: None,
    }
}

fn has(out: &[String], text: &str) -> bool {
    out.iter().any(|p| p.contains(text))
}

#[test]
fn a_complete_table_has_no_problems_and_defaults_name_what_is_missing() {
    assert_eq!(config(BASE_URL).problems(), Vec::<String>::new());
    let out = IbkrThirdPartyConfig::default().problems();
    for key in [
        "backend.consumer_key_env must name an environment variable",
        "backend.link_key_env must name an environment variable",
        "backend.signature_key_file must be set",
        "backend.encryption_key_file must be set",
        "backend: give exactly one of dh_prime and dh_param_file",
        "backend.symbols must list at least one symbol",
    ] {
        assert!(has(&out, key), "{key} missing from {out:#?}");
    }
    assert_eq!(out.len(), 6, "{out:#?}");
}

#[test]
fn every_key_is_checked_with_a_message_naming_it() {
    let mut c = config(BASE_URL);
    c.base_url = "ftp://x".into();
    c.authorize_url = "https://ibkr.example/authorize/".into();
    c.consumer_key_env = "NOT A NAME".into();
    c.link_key_env = "1ABC".into();
    c.dh_prime = "ff".into();
    c.dh_generator = Some(1);
    c.realm = " ".into();
    c.requests_per_second = 0;
    c.request_timeout_ms = 99;
    c.quote_interval_ms = 10;
    c.locked_backoff_ms = 60_000;
    c.accepted_retry_ms = 0;
    c.accepted_attempts = 21;
    let out = c.problems();
    for key in [
        "backend.base_url must start with https:// or http://",
        "backend.authorize_url must start with",
        "backend.consumer_key_env must name an environment variable",
        "backend.link_key_env must name an environment variable",
        "backend: give exactly one of dh_prime and dh_param_file",
        "backend.dh_generator must be 2..=65537",
        "backend.realm must be set",
        "backend.requests_per_second must be 1..=50",
        "backend.request_timeout_ms must be 100..=120000",
        "backend.quote_interval_ms must be",
        "backend.locked_backoff_ms must be",
        "backend.accepted_retry_ms must be",
        "backend.accepted_attempts must be 1..=20",
    ] {
        assert!(has(&out, key), "{key} missing from {out:#?}");
    }
    assert_eq!(out.len(), 13, "{out:#?}");
    let mut query = config(BASE_URL);
    query.base_url = "https://api.ibkr.com/v1/api?x=1".into();
    assert!(has(&query.problems(), "backend.base_url must not carry a query"));
}

#[test]
fn symbols_need_what_secdef_resolves_them_with() {
    let mut c = config(BASE_URL);
    let stock = symbol("AAPL");
    let fx = SymbolConfig {
        instrument_type: Some("CASH".into()),
        ..symbol("EURUSD")
    };
    let twice = SymbolConfig {
        exchange: Some("NYSE".into()),
        ..symbol("aapl")
    };
    let bad = SymbolConfig {
        conid: Some(0),
        instrument_type: Some("FUT".into()),
        ..symbol("ES/Z")
    };
    let mixed = SymbolConfig {
        conid: Some(1),
        currency: Some("usd".into()),
        ticker: Some(" ".into()),
        ..symbol("MSFT")
    };
    let fx_with_exchange = SymbolConfig {
        instrument_type: Some("CASH".into()),
        currency: Some("USD".into()),
        exchange: Some("IDEALPRO".into()),
        ..symbol("GBPUSD")
    };
    c.symbols = vec![stock, fx, twice, bad, mixed, fx_with_exchange];
    let out = c.problems();
    for text in [
        "backend.symbols[0]: a stock (STK) needs exchange",
        "backend.symbols[1]: an FX pair (CASH) needs currency",
        "backend.symbols[2]: symbol \"aapl\" is listed twice",
        "backend.symbols[3]: symbol \"ES/Z\" must be letters",
        "backend.symbols[3].conid must be positive",
        "backend.symbols[3].instrument_type must be \"STK\" or \"CASH\", got \"FUT\"",
        "backend.symbols[4].currency must be an ISO currency code",
        "backend.symbols[4].currency is only used with instrument_type = \"CASH\"",
        "backend.symbols[4].ticker must not be empty",
        "backend.symbols[5].exchange is only used with instrument_type = \"STK\"",
    ] {
        assert!(has(&out, text), "{text} missing from {out:#?}");
    }
    assert_eq!(out.len(), 10, "{out:#?}");
    c.symbols = vec![
        SymbolConfig {
            conid: Some(265598),
            ..symbol("AAPL")
        },
        SymbolConfig {
            instrument_type: Some("CASH".into()),
            currency: Some("USD".into()),
            ticker: Some("EUR".into()),
            ..symbol("EURUSD")
        },
    ];
    assert_eq!(c.problems(), Vec::<String>::new());
}

#[test]
fn resolve_reads_the_consumer_and_the_link_key_and_shows_no_secret() {
    let r = resolved(BASE_URL);
    assert_eq!(r.keys.consumer_key, "TESTCONS");
    assert_eq!(r.keys.realm, "test_realm");
    assert!(r.keys.access_token.is_empty() && r.keys.access_token_secret.is_empty());
    assert_eq!(r.keys.dh.prime.bits(), 2048);
    assert_eq!(
        link_key_bytes(&r.link_key).unwrap().to_vec(),
        (0u8..32).collect::<Vec<_>>()
    );
    assert!(!format!("{r:?}").contains("AAECAwQF"));
    assert_eq!(r.request_timeout, Duration::from_secs(10));
    assert_eq!(r.accepted_attempts, 6);

    let read = |path: &str| std::fs::read(path);
    // Missing variables are all named at once.
    let e = config(BASE_URL)
        .resolve_with(&read, &|_| None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("IBKR_TP_CONSUMER_KEY") && e.contains("IBKR_TP_LINK_KEY"),
        "{e}"
    );
    // A link key of the wrong length or not base64: the variable is named, the value never.
    for bad in [
        "c2hvcnQ=",
        "not base64 at all!",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==",
    ] {
        let env = |name: &str| match name {
            "IBKR_TP_LINK_KEY" => Some(bad.to_string()),
            other => env(other),
        };
        let e = config(BASE_URL)
            .resolve_with(&read, &env)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("backend.link_key_env: the variable IBKR_TP_LINK_KEY"),
            "{e}"
        );
        assert!(!e.contains(bad), "{e}");
    }
    // URL-safe base64 without padding is accepted too.
    assert!(link_key_bytes(&Secret::new("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")).is_ok());
    // Key files: named with the key, never shown.
    let mut gone = config(BASE_URL);
    gone.signature_key_file = "/no/such/key.pem".into();
    let e = gone.resolve_with(&read, &env).unwrap_err().to_string();
    assert!(
        e.starts_with("backend.signature_key_file \"/no/such/key.pem\""),
        "{e}"
    );
    let mut public = config(BASE_URL);
    public.encryption_key_file = testdata("encryption.pub.pem");
    let e = public.resolve_with(&read, &env).unwrap_err().to_string();
    assert!(
        e.contains("backend.encryption_key_file") && !e.contains("BEGIN"),
        "{e}"
    );
    let mut hex = config(BASE_URL);
    hex.dh_param_file = String::new();
    hex.dh_prime = r.keys.dh.prime.to_str_radix(16);
    assert_eq!(hex.resolve_with(&read, &env).unwrap().keys.dh, r.keys.dh);
    hex.dh_prime = "ff".into();
    let e = hex.resolve_with(&read, &env).unwrap_err().to_string();
    assert!(e.starts_with("backend Diffie-Hellman parameters"), "{e}");
}

#[tokio::test]
async fn the_transport_sends_a_user_agent_and_parses_ibkr_error_bodies() {
    let fake = FakeIbkr::new();
    let base = serve(fake.clone()).await;
    let transport = resolved(&base).transport().unwrap();
    assert_eq!(transport.base(), base);
    // Unsigned: IBKR's 401 with its error body, parsed once.
    let e = transport
        .json::<serde_json::Value>(&crate::upstream::transport::Call::get("/accounts"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert_eq!(
        e.upstream::<TpError>().and_then(|b| b.message.clone()).as_deref(),
        Some("invalid token")
    );
    let agents = &fake.seen.lock().unwrap().user_agents;
    assert!(
        agents
            .iter()
            .all(|a| a.as_deref().is_some_and(|a| a.starts_with("tvbridge/"))),
        "{agents:?}"
    );
}

#[test]
fn the_example_configuration_is_valid_and_needs_oauth() {
    let text = include_str!(concat!(
        std::env!("CARGO_MANIFEST_DIR"),
        "/config/ibkr-third-party.example.toml"
    ));
    // The example names its OAuth client's secret by variable, which start-up checks is set.
    std::env::set_var("TV_STAGING_CLIENT_SECRET", "example-test-secret-0123456789");
    let config = crate::config::Config::from_toml(text).expect("the example parses");
    let crate::config::BackendConfig::IbkrThirdParty(tp) = &config.backend else {
        panic!("the example is an ibkr-third-party configuration");
    };
    assert_eq!(tp.problems(), Vec::<String>::new());
    assert_eq!(tp.symbols.len(), 3);
    // Without its OAuth client nobody could allow the bridge at IBKR: refused at start.
    let without_oauth: String = text
        .split("[oauth]")
        .next()
        .expect("the part before [oauth]")
        .to_owned()
        + "[backend]"
        + text.split("[backend]").nth(1).expect("the backend table");
    let err = crate::config::Config::from_toml(&without_oauth)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("oauth.clients") && err.contains("oauth.public_url"),
        "{err}"
    );
}
