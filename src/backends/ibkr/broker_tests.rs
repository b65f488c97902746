//! The thin `Broker` impl against the scripted API: logins mapped to accounts, the refresh policy, a
//! placed bracket order and a refused question end to end through the trait.

use super::*;
use crate::backends::ibkr::testing::{fixture, ScriptedApi};
use crate::broker::BridgeUser;
use rust_decimal_macros::dec;

fn config(users: Vec<config::MappedUser>) -> config::ResolvedConfig {
    let c = IbkrConfig {
        users,
        auto_confirm: vec!["o163".into()],
        symbols: vec![config::SymbolConfig {
            symbol: "AAPL".into(),
            conid: Some(265598),
            search: None,
            sec_type: None,
            tradingview: Some("NASDAQ:AAPL".into()),
        }],
        ..IbkrConfig::default()
    };
    c.resolve(&|_| unreachable!()).unwrap()
}

fn bridge(login: &str) -> Login {
    Login::Bridge(BridgeUser {
        login: login.into(),
        display_name: login.into(),
    })
}

fn ctx() -> SessionCtx {
    SessionCtx {
        session_id: "s1".into(),
        user: "alice".into(),
    }
}

#[tokio::test]
async fn users_see_only_their_accounts_and_unmapped_users_are_refused() {
    let api = Arc::new(ScriptedApi::default());
    api.open_session();
    let users = vec![config::MappedUser {
        login: "alice".into(),
        accounts: vec!["DU7654321".into()],
    }];
    let broker = IbkrBroker::with_api(config(users), api.clone());
    assert_eq!(
        broker.login("s0", &bridge("mallory")).await,
        Err(BrokerError::Rejected(INVALID_LOGIN.into()))
    );
    broker.login("s1", &bridge("alice")).await.unwrap();
    let accounts = broker.accounts(&ctx()).await.unwrap();
    assert_eq!(
        accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["DU7654321"]
    );
    assert_eq!(
        (accounts[0].currency.as_str(), accounts[0].kind),
        ("EUR", tv::AccountType::Demo)
    );
    assert_eq!(broker.refresh_policy(&accounts[0]).min_interval, MIN_REFRESH);
    // After logout the bridge session has no IBKR session: TradingView's 401.
    broker.logout(&ctx()).await.unwrap();
    assert!(matches!(
        broker.accounts(&ctx()).await,
        Err(BrokerError::Unauthorized(_))
    ));
    let mapping = broker.symbol_mapping().await.unwrap();
    assert_eq!(
        (mapping[0].f[0].as_str(), mapping[0].s.as_str()),
        ("AAPL", "NASDAQ:AAPL")
    );
}

#[tokio::test]
async fn a_bracket_order_goes_out_as_one_submission_with_an_allow_listed_question_confirmed() {
    let api = Arc::new(ScriptedApi::default());
    api.open_session()
        .ok("place", &fixture("place_question.json"))
        .ok("reply", &fixture("place_bracket_success.json"));
    let broker = IbkrBroker::with_api(config(vec![]), api.clone());
    broker.login("s1", &bridge("alice")).await.unwrap();
    let mut order = tv::PlaceOrder::new("AAPL", tv::Side::Buy, tv::OrderType::Limit, dec!(5));
    order.limit_price = Some(dec!(150));
    order.brackets = tv::Brackets {
        stop_loss: Some(dec!(140)),
        take_profit: Some(dec!(160)),
        ..Default::default()
    };
    let id = broker
        .place_order(&ctx(), "DU1234567", order, Some("req-9"))
        .await
        .unwrap();
    assert_eq!(id, "1234567890", "the parent's id");
    let body = api.bodies.lock().unwrap()[0].clone();
    let orders = body["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 3);
    let coid = crate::backends::ibkr::convert::orders::coid(&ctx().user, Some("req-9"));
    assert!(coid.starts_with("tvb-req-9-"), "{coid}");
    assert_eq!(orders[0]["cOID"], coid.as_str());
    assert_eq!(orders[0]["conid"], 265598);
    assert_eq!(
        (orders[1]["parentId"].as_str(), orders[2]["parentId"].as_str()),
        (Some(coid.as_str()), Some(coid.as_str()))
    );
    assert_eq!(api.count("place"), 1);
}

#[tokio::test]
async fn an_unknown_symbol_is_refused_before_anything_is_sent() {
    let api = Arc::new(ScriptedApi::default());
    api.open_session();
    let broker = IbkrBroker::with_api(config(vec![]), api.clone());
    broker.login("s1", &bridge("alice")).await.unwrap();
    let order = tv::PlaceOrder::new("TSLA", tv::Side::Buy, tv::OrderType::Market, dec!(1));
    assert!(matches!(
        broker.place_order(&ctx(), "DU1234567", order, None).await,
        Err(BrokerError::NotFound(_))
    ));
    assert_eq!(api.count("place"), 0);
}
