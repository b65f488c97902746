//! The WebSocket's messages without a socket: frames rendered exactly, IBKR's documented samples
//! (`testdata/ibkr/ws/`) classified, partial market-data updates merged into whole quotes.

use super::feed::read;
use super::frames::{classify, session, subscribe, unsubscribe, Merged, Message, KEEP_ALIVE};
use super::{unusable, ws_url, StreamOptions};
use crate::backends::ibkr::testing::fixture;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn sample(name: &str) -> String {
    fixture(&format!("ws/{name}"))
}

#[test]
fn topics_are_rendered_as_ibkr_documents_them() {
    assert_eq!(
        subscribe("265598").unwrap(),
        r#"smd+265598+{"fields":["31","84","85","86","88"]}"#
    );
    assert_eq!(unsubscribe("265598").unwrap(), "umd+265598+{}");
    assert_eq!(subscribe("sor").unwrap(), "sor+{}");
    assert_eq!(unsubscribe("sor").unwrap(), "uor+{}");
    assert_eq!(subscribe("spl").unwrap(), "spl+{}");
    assert_eq!(unsubscribe("spl").unwrap(), "upl+{}");
    assert_eq!(KEEP_ALIVE, "tic");
    assert_eq!(session("abc123"), r#"{"session":"abc123"}"#);
    // Nothing but a conid or a known topic becomes a message.
    assert_eq!(subscribe("26x"), None);
    assert_eq!(subscribe("265598+{}"), None);
    assert_eq!(unsubscribe(""), None);
}

#[test]
fn documented_order_and_pnl_samples_name_their_accounts() {
    for name in ["sor.json", "sor_status.json", "sor_fill.json"] {
        assert_eq!(
            classify(&sample(name)),
            Message::Orders(vec!["DU1234".into()]),
            "{name}"
        );
    }
    assert_eq!(classify(&sample("spl.json")), Message::Pnl(vec!["DU1234".into()]));
    // A push without an account concerns every account.
    assert_eq!(
        classify(r#"{"topic":"sor","args":[{"orderId":1,"status":"Filled"}]}"#),
        Message::Orders(vec![])
    );
}

#[test]
fn session_messages_are_told_apart() {
    assert_eq!(classify(&sample("sts.json")), Message::Authenticated);
    assert_eq!(classify(&sample("system.json")), Message::Authenticated);
    assert!(matches!(
        classify(&sample("waiting.json")),
        Message::SessionGone(_)
    ));
    assert!(matches!(
        classify(r#"{"topic":"sts","args":{"authenticated":false,"competing":true}}"#),
        Message::SessionGone(_)
    ));
    // The heartbeat and the `tic` answer need no action; text that is not a JSON object is malformed.
    assert_eq!(
        classify(r#"{"topic":"system","hb":1702334859712}"#),
        Message::Other
    );
    assert_eq!(
        classify(r#"{"topic":"tic","alive":true,"lastAccessed":1}"#),
        Message::Other
    );
    assert_eq!(classify("smd+1"), Message::Malformed);
    assert_eq!(classify("[1]"), Message::Malformed);
    assert_eq!(classify(r#"{"topic":"smd+abc","84":"1"}"#), Message::Malformed);
}

/// Folds a sample into `merged` and returns the quote the stream would hand out.
fn fold(merged: &mut Merged, text: &str) -> Option<super::frames::QuoteState> {
    let Message::MarketData {
        conid,
        fields,
        updated_ms,
    } = classify(text)
    else {
        panic!("not market data: {text}");
    };
    merged.update(conid, fields, updated_ms).unwrap()
}

#[test]
fn a_partial_update_keeps_the_other_fields_of_the_contract() {
    let mut merged = Merged::default();
    let first = fold(&mut merged, &sample("smd_first.json")).expect("a whole quote");
    let q = read(&first, Decimal::ONE).unwrap();
    assert_eq!(
        (q.t, q.bid, q.ask, q.bid_size, q.ask_size),
        (1_702_334_859, dec!(193.06), dec!(193.20), dec!(3400), dec!(1200))
    );
    // A US stock's sizes are shown in hundreds.
    let q = read(&first, Decimal::ONE_HUNDRED).unwrap();
    assert_eq!((q.bid_size, q.ask_size), (dec!(340000), dec!(120000)));
    // Only the bid changed: the ask and sizes are the ones sent before.
    let second = fold(&mut merged, &sample("smd_update.json")).unwrap();
    let q = read(&second, Decimal::ONE).unwrap();
    assert_eq!(
        (q.t, q.bid, q.ask, q.bid_size, q.ask_size),
        (1_702_334_860, dec!(193.10), dec!(193.20), dec!(3400), dec!(1200))
    );
    // The `C` (previous close) mark on the last price is read, not refused.
    assert_eq!(
        second.row.value("31").unwrap().map(|(v, _)| v),
        Some(dec!(193.18))
    );
}

#[test]
fn no_quote_before_both_sides_and_a_forgotten_contract_starts_over() {
    let mut merged = Merged::default();
    let bid_only = r#"{"topic":"smd+8314","84":"156.28","_updated":5000}"#;
    assert!(fold(&mut merged, bid_only).is_none(), "no ask yet");
    let ask = r#"{"topic":"smd+8314","86":"156.30","84":""}"#;
    let q = read(&fold(&mut merged, ask).unwrap(), Decimal::ONE).unwrap();
    assert_eq!(
        (q.bid, q.ask, q.t),
        (dec!(156.28), dec!(156.30), 5),
        "an empty value erases nothing"
    );
    merged.forget(8314);
    assert!(fold(&mut merged, r#"{"topic":"smd+8314","86":"156.31"}"#).is_none());
    // A price that is not a number is an error, not a quote.
    assert!(merged
        .update(8314, vec![("84".into(), "n/a".into())], None)
        .is_err());
}

#[test]
fn the_socket_url_follows_the_base_url_on_every_transport() {
    assert_eq!(
        ws_url("https://localhost:5000/v1/api").as_deref(),
        Some("wss://localhost:5000/v1/api/ws")
    );
    assert_eq!(
        ws_url("http://127.0.0.1:8080/v1/api/").as_deref(),
        Some("ws://127.0.0.1:8080/v1/api/ws")
    );
    assert_eq!(ws_url("ftp://x"), None);
    let mut config = crate::backends::ibkr::IbkrConfig::default()
        .resolve(&|_| unreachable!())
        .unwrap();
    assert_eq!(config.base_url, "https://localhost:5000/v1/api");
    config.insecure_tls = true;
    assert_eq!(
        unusable(&config),
        None,
        "the socket trusts what the REST client trusts"
    );
    use crate::backends::ibkr::config::TransportKind;
    for transport in [TransportKind::Oauth1, TransportKind::Oauth2] {
        config.transport = transport;
        config.base_url = "https://api.ibkr.com/v1/api".into();
        assert_eq!(unusable(&config), None, "{transport:?}");
        assert_eq!(
            ws_url(&config.base_url).as_deref(),
            Some("wss://api.ibkr.com/v1/api/ws")
        );
    }
    config.base_url = "ftp://api.ibkr.com/v1/api".into();
    assert!(unusable(&config).is_some());
    // `tic` within IBKR's advised minute, and the silence watch past its 10 s heartbeat.
    let options = StreamOptions::default();
    assert!(options.keep_alive <= std::time::Duration::from_secs(60));
    assert!(options.silence > std::time::Duration::from_secs(20));
}

fn protocol() -> super::protocol::GatewayProtocol {
    let api = std::sync::Arc::new(crate::backends::ibkr::testing::ScriptedApi::default());
    super::protocol::GatewayProtocol {
        url: "ws://127.0.0.1:1/v1/api/ws".into(),
        tls: Default::default(),
        gateway: std::sync::Arc::new(crate::backends::ibkr::session::Gateway::new(api)),
        connect_timeout: std::time::Duration::from_secs(1),
        merged: Default::default(),
    }
}

#[test]
fn the_pool_gets_whole_quotes_per_conid_account_pushes_and_lost_sessions() {
    use super::Push;
    use crate::upstream::stream::{Incoming, Protocol};
    let p = protocol();
    let decode = |name: &str| p.decode(&(), sample(name).as_bytes());
    match decode("smd_first.json") {
        Incoming::Data {
            key,
            event: Push::Quote(q),
        } => assert_eq!((key.as_str(), q.row.fields.len()), ("265598", 7)),
        other => panic!("{other:?}"),
    }
    match decode("sor_fill.json") {
        Incoming::Data {
            key,
            event: Push::Orders(accounts),
        } => assert_eq!((key.as_str(), accounts), ("sor", vec!["DU1234".to_string()])),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        decode("spl.json"),
        Incoming::Data { key, event: Push::Pnl(_) } if key == "spl"
    ));
    assert!(matches!(decode("waiting.json"), Incoming::SessionInvalid { .. }));
    assert!(matches!(decode("sts.json"), Incoming::Alive));
    assert!(matches!(p.decode(&(), b"\xff\xfe"), Incoming::Malformed));
    // Unsubscribing forgets the contract: a later partial update is not a whole quote.
    assert_eq!(
        p.unsubscribe(&(), 1, &["265598".to_string()]).as_deref(),
        Some("umd+265598+{}")
    );
    assert!(matches!(decode("smd_update.json"), Incoming::Alive));
    assert_eq!(
        p.subscribe(&(), 2, &["sor".to_string()]).as_deref(),
        Some("sor+{}")
    );
    assert_eq!(p.keep_alive(&(), 3).as_deref(), Some("tic"));
    assert!(p.check_key("265598").is_ok() && p.check_key("spl").is_ok());
    assert!(p.check_key("AAPL").is_err());
}

#[test]
fn each_transport_upgrades_with_its_own_pass_and_no_error_text_shows_a_secret() {
    use super::upgrade::Upgrade;
    use crate::backends::ibkr::credentials::SocketPass;
    use crate::secret::{Secret, MASK};
    let base = "wss://api.ibkr.com/v1/api/ws";
    // The gateway: the socket as it is, nothing on the upgrade.
    let gateway = Upgrade::new(base, &SocketPass::default(), "sess1").unwrap();
    assert_eq!(gateway.url, base);
    assert!(gateway.headers.is_empty());
    // OAuth 1.0a: `oauth_token` in the query (form-encoded), the session as the `api` cookie.
    let oauth1 = SocketPass {
        query: vec![("oauth_token", Secret::new("ab+c/1="))],
        headers: Vec::new(),
        session_cookie: true,
    };
    let up = Upgrade::new(base, &oauth1, "sess1").unwrap();
    assert_eq!(up.url, format!("{base}?oauth_token=ab%2Bc%2F1%3D"));
    assert_eq!(up.headers, [("cookie", "api=sess1".to_string())]);
    let error = format!("connection failed to {} with ab+c/1= in session sess1", up.url);
    let masked = up.mask(&error);
    assert!(
        !masked.contains("ab") && !masked.contains("sess1") && masked.contains(MASK),
        "{masked}"
    );
    // OAuth 2.0: the bearer in `Authorization`, the URL bare.
    let oauth2 = SocketPass {
        query: Vec::new(),
        headers: vec![("authorization", Secret::new("Bearer tok-123"))],
        session_cookie: true,
    };
    let up = Upgrade::new(base, &oauth2, "sess2").unwrap();
    assert_eq!(up.url, base);
    assert_eq!(
        up.headers,
        [
            ("authorization", "Bearer tok-123".to_string()),
            ("cookie", "api=sess2".to_string())
        ]
    );
    assert_eq!(up.mask("refused Bearer tok-123"), format!("refused {MASK}"));
    assert_eq!(up.mask("token tok-123"), format!("token {MASK}"));
    assert!(
        !format!("{oauth2:?}").contains("tok-123"),
        "the pass prints names only"
    );
    assert!(Upgrade::new("not a url", &oauth2, "s").is_err());
}
