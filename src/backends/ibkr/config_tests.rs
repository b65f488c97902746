//! The IBKR configuration: every problem named by key, the files and environment read, secrets never
//! echoed.

use super::*;

fn valid() -> IbkrConfig {
    IbkrConfig {
        symbols: vec![SymbolConfig {
            symbol: "AAPL".into(),
            conid: Some(265598),
            search: None,
            sec_type: None,
            tradingview: Some("NASDAQ:AAPL".into()),
        }],
        ..IbkrConfig::default()
    }
}

#[test]
fn the_example_file_is_valid() {
    let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/config/ibkr.example.toml"));
    let config: crate::config::Config = toml::from_str(text).expect("example parses");
    let crate::config::BackendConfig::Ibkr(ibkr) = &config.backend else {
        panic!("the example is not an ibkr backend")
    };
    assert_eq!(ibkr.problems(), Vec::<String>::new());
    assert_eq!(ibkr.base_url(), GATEWAY_URL);
}

#[test]
fn problems_name_their_keys() {
    assert_eq!(valid().problems(), Vec::<String>::new());
    let bad = IbkrConfig {
        requests_per_second: Some(11),
        insecure_tls: true,
        ca_file: Some("gw.pem".into()),
        auto_confirm: vec!["o163".into(), "no way".into()],
        users: vec![
            MappedUser {
                login: "a".into(),
                accounts: vec!["DU1/x".into()],
            },
            MappedUser {
                login: "a".into(),
                accounts: vec![],
            },
        ],
        ..valid()
    };
    let p = bad.problems().join("\n");
    for key in [
        "backend.requests_per_second must be 1..=10",
        "backend.insecure_tls and backend.ca_file",
        "backend.auto_confirm: \"no way\"",
        "backend.users[0].accounts",
        "backend.users[1]: login \"a\" is listed twice",
    ] {
        assert!(p.contains(key), "{key} missing from:\n{p}");
    }
    // OAuth allows 50 per second, and needs its table.
    let oauth = IbkrConfig {
        transport: TransportKind::Oauth1,
        requests_per_second: Some(50),
        ..valid()
    };
    let p = oauth.problems().join("\n");
    assert!(
        !p.contains("requests_per_second") && p.contains("needs a [backend.oauth1] table"),
        "{p}"
    );
    let none = IbkrConfig {
        symbols: vec![],
        ..IbkrConfig::default()
    };
    assert!(none.problems().join("\n").contains("backend.symbols must list"));
}

#[test]
fn resolve_reads_the_files_and_names_what_is_missing() {
    let r = valid().resolve(&|_| unreachable!("no file to read")).unwrap();
    assert_eq!(r.base_url, GATEWAY_URL);
    assert!(matches!(r.auth, ResolvedAuth::Gateway));
    let with_ca = IbkrConfig {
        ca_file: Some("missing.pem".into()),
        ..valid()
    };
    let e = with_ca
        .resolve(&|_| Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")))
        .unwrap_err();
    assert!(e.contains("backend.ca_file \"missing.pem\""), "{e}");
    let no_table = IbkrConfig {
        transport: TransportKind::Oauth2,
        ..valid()
    };
    let e = no_table.resolve(&|_| Ok(Vec::new())).unwrap_err();
    assert!(e.contains("needs a [backend.oauth2] table"), "{e}");
}

fn oauth1() -> IbkrConfig {
    let (_, table) = crate::backends::ibkr::oauth1::tests::consumer();
    IbkrConfig {
        transport: TransportKind::Oauth1,
        oauth1: Some(Box::new(table)),
        ..valid()
    }
}

#[test]
fn oauth1_resolves_with_its_defaults_and_never_echoes_a_secret() {
    let c = oauth1();
    assert_eq!(c.problems(), Vec::<String>::new());
    assert_eq!(
        (c.base_url(), c.requests_per_second()),
        (OAUTH_URL.to_string(), 50)
    );
    let (consumer, _) = crate::backends::ibkr::oauth1::tests::consumer();
    let secret = fakes::ibkr_auth::oauth1::Oauth1Server::new(consumer)
        .unwrap()
        .encrypted_secret();
    let env = crate::backends::ibkr::oauth1::tests::env(&secret);
    let read = |path: &str| std::fs::read(path);
    let r = c.resolve_with(&read, &env).unwrap();
    let ResolvedAuth::Oauth1(keys) = &r.auth else {
        panic!("{:?}", r.auth)
    };
    assert_eq!(
        (keys.consumer_key.as_str(), keys.realm.as_str()),
        ("TESTCONS", "test_realm")
    );
    let shown = format!("{r:?}");
    assert!(
        !shown.contains(&secret) && !shown.contains("6f531f8fd316915af53f"),
        "{shown}"
    );
    // Every missing variable is named, and no value is.
    let e = c
        .resolve_with(&read, &|name| {
            (name == "IBKR_CONSUMER_KEY").then(|| secret.clone())
        })
        .unwrap_err();
    assert!(
        e.contains("IBKR_ACCESS_TOKEN") && e.contains("IBKR_ACCESS_TOKEN_SECRET") && !e.contains(&secret),
        "{e}"
    );
    // A secret the encryption key does not decrypt is found before any handshake, and not shown.
    let other = "c2VjcmV0LXNlY3JldC1zZWNyZXQ=";
    let e = c
        .resolve_with(&read, &crate::backends::ibkr::oauth1::tests::env(other))
        .unwrap_err();
    assert!(
        e.contains("does not decrypt with the encryption key")
            && e.contains("IBKR_ACCESS_TOKEN_SECRET")
            && !e.contains(other),
        "{e}"
    );
    // A table for the other transport is named.
    let mixed = IbkrConfig {
        oauth2: Some(Box::default()),
        ..oauth1()
    };
    assert!(mixed
        .problems()
        .contains(&"backend.oauth2 is only used with backend.transport = \"oauth2\"".to_string()));
}

#[test]
fn oauth2_resolves_and_names_its_keys() {
    let c = IbkrConfig {
        transport: TransportKind::Oauth2,
        oauth2: Some(Box::new(crate::backends::ibkr::oauth2::tests::settings())),
        ..valid()
    };
    assert_eq!(c.problems(), Vec::<String>::new());
    let read = |path: &str| std::fs::read(path);
    let r = c
        .resolve_with(&read, &crate::backends::ibkr::oauth2::tests::env)
        .unwrap();
    let ResolvedAuth::Oauth2 { keys, token_url, .. } = &r.auth else {
        panic!("{:?}", r.auth)
    };
    assert_eq!(
        (keys.client_id.as_str(), token_url.as_str()),
        ("TESTCLIENT", crate::backends::ibkr::oauth2::DEFAULT_TOKEN_URL)
    );
    assert!(!format!("{r:?}").contains("BEGIN"));
    let empty = IbkrConfig {
        transport: TransportKind::Oauth2,
        oauth2: Some(Box::default()),
        requests_per_second: Some(51),
        ..valid()
    };
    let p = empty.problems().join("\n");
    for key in [
        "backend.requests_per_second must be 1..=50",
        "backend.oauth2.client_id_env must be set",
        "backend.oauth2.key_id must be set",
        "backend.oauth2.private_key_file must be set",
        "backend.oauth2.username must be set",
        "backend.oauth2.ip must be",
    ] {
        assert!(p.contains(key), "{key} missing from:\n{p}");
    }
}

#[test]
fn oauth_tables_parse_from_toml() {
    let text = r#"
        kind = "ibkr"
        transport = "oauth1"
        [[symbols]]
        symbol = "AAPL"
        conid = 265598
        [oauth1]
        consumer_key_env = "IBKR_CONSUMER_KEY"
        access_token_env = "IBKR_ACCESS_TOKEN"
        access_token_secret_env = "IBKR_ACCESS_TOKEN_SECRET"
        signature_key_file = "private_signature.pem"
        encryption_key_file = "private_encryption.pem"
        dh_param_file = "dhparam.pem"
    "#;
    let c: IbkrConfig = toml::from_str(&text.replace("kind = \"ibkr\"\n", "")).unwrap();
    assert_eq!(c.problems(), Vec::<String>::new());
    assert_eq!(
        c.oauth1.as_ref().unwrap().realm,
        crate::backends::ibkr::oauth1::DEFAULT_REALM
    );
    let inline = text
        .replace("kind = \"ibkr\"\n", "")
        .replace("consumer_key_env", "consumer_key");
    let e = toml::from_str::<IbkrConfig>(&inline).unwrap_err().to_string();
    assert!(
        e.contains("unknown field `consumer_key`"),
        "secrets are never inline: {e}"
    );
}

#[test]
fn the_bridge_never_sweeps_legs_on_its_own_unless_asked_and_then_not_too_eagerly() {
    // Off by default: IBKR's cached portfolio may lag a fill, and a sweep on it could cancel a stop loss.
    let parsed: IbkrConfig = toml::from_str("").expect("an empty table parses");
    assert_eq!(parsed.orphan_legs_grace_secs, 0);
    assert_eq!(IbkrConfig::default().orphan_legs_grace_secs, 0);
    let resolved = valid()
        .resolve_with(&|_| Err(std::io::Error::other("no files")), &|_| None)
        .expect("the gateway needs no secrets");
    assert_eq!(resolved.orphan_grace, None);
    let on = IbkrConfig {
        orphan_legs_grace_secs: 30,
        ..valid()
    };
    let resolved = on
        .resolve_with(&|_| Err(std::io::Error::other("no files")), &|_| None)
        .unwrap();
    assert_eq!(resolved.orphan_grace, Some(std::time::Duration::from_secs(30)));
    for eager in [1, 4] {
        let problems = IbkrConfig {
            orphan_legs_grace_secs: eager,
            ..valid()
        }
        .problems();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("backend.orphan_legs_grace_secs")),
            "{problems:?}"
        );
    }
}

#[test]
fn a_refusal_hold_out_of_range_is_named() {
    for (hold, bad) in [(0, true), (1, false), (60, false), (3_600, false), (3_601, true)] {
        let problems = IbkrConfig {
            refusal_hold_secs: hold,
            ..valid()
        }
        .problems();
        let named = problems.iter().any(|p| p.contains("backend.refusal_hold_secs"));
        assert_eq!(named, bad, "{hold}: {problems:?}");
    }
    let resolved = valid()
        .resolve_with(&|_| Err(std::io::Error::other("no files")), &|_| None)
        .unwrap();
    assert_eq!(resolved.refusal_hold, std::time::Duration::from_secs(60));
}
