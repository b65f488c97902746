//! The gateway session's state machine against the scripted API.

use super::*;
use crate::backends::ibkr::testing::{fixture, ScriptedApi};

fn gateway(api: &Arc<ScriptedApi>) -> Gateway {
    Gateway::new(api.clone())
}

#[tokio::test]
async fn an_authenticated_gateway_opens_with_its_accounts_once() {
    let api = Arc::new(ScriptedApi::default());
    api.open_session();
    let g = gateway(&api);
    let accounts = g.accounts().await.unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(
        accounts[0],
        AccountInfo {
            id: "DU1234567".into(),
            name: "Main".into(),
            currency: "USD".into(),
            kind: tv::AccountType::Demo
        }
    );
    assert_eq!(accounts[1].currency, "EUR");
    g.accounts().await.unwrap();
    assert_eq!(
        api.calls(),
        ["auth_status", "accounts", "portfolio_accounts"],
        "opened once"
    );
}

#[tokio::test]
async fn connected_but_not_authenticated_calls_ssodh_init_then_checks_again() {
    let api = Arc::new(ScriptedApi::default());
    api.ok("auth_status", &fixture("auth_status_connected_only.json"))
        .ok("ssodh_init", &fixture("auth_status.json"))
        .open_session();
    let g = gateway(&api);
    g.accounts().await.unwrap();
    assert_eq!(
        api.calls(),
        [
            "auth_status",
            "ssodh_init",
            "auth_status",
            "accounts",
            "portfolio_accounts"
        ]
    );
}

#[tokio::test]
async fn a_gateway_nobody_logged_in_to_is_a_401_saying_so() {
    let api = Arc::new(ScriptedApi::default());
    api.ok(
        "auth_status",
        r#"{"authenticated":false,"connected":false,"competing":false}"#,
    );
    match gateway(&api).accounts().await {
        Err(BrokerError::LogInAgain(m)) => assert!(m.contains("log in to the Client Portal gateway again")),
        other => panic!("{other:?}"),
    }
    assert_eq!(api.count("ssodh_init"), 0, "ssodh/init only when connected");
    // Still not authenticated after ssodh/init: the same 401.
    let api = Arc::new(ScriptedApi::default());
    api.ok("auth_status", &fixture("auth_status_connected_only.json"))
        .ok("ssodh_init", "{}")
        .ok("auth_status", &fixture("auth_status_connected_only.json"));
    assert!(matches!(
        gateway(&api).accounts().await,
        Err(BrokerError::LogInAgain(_))
    ));
    // A gateway that is not running is unavailable, not a login problem.
    let api = Arc::new(ScriptedApi::default());
    api.fail("auth_status", CallError::NotSent("connection refused".into()));
    match gateway(&api).accounts().await {
        Err(BrokerError::Unavailable(m)) => assert!(m.contains("is it running"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_401_reopens_the_session_once_and_repeats_the_call() {
    let api = Arc::new(ScriptedApi::default());
    api.open_session().open_session();
    api.status("summary", 401, &fixture("error_401.json"))
        .ok("summary", &fixture("summary.json"));
    let g = gateway(&api);
    let s = g
        .call("reading", |api| async move { api.summary("DU1234567").await })
        .await
        .unwrap();
    assert!(s.amount("netliquidation").is_some());
    assert_eq!(api.count("auth_status"), 2, "re-opened once");
    assert_eq!(api.count("summary"), 2);
    // Refused again after re-opening: the user is told to log in to the gateway again.
    let api = Arc::new(ScriptedApi::default());
    api.open_session().open_session();
    api.status("summary", 401, "").status("summary", 401, "");
    let g = gateway(&api);
    match g
        .call("reading", |api| async move { api.summary("DU1234567").await })
        .await
    {
        Err(BrokerError::LogInAgain(m)) => assert!(m.contains("Client Portal gateway")),
        other => panic!("{other:?}"),
    }
    assert_eq!(api.count("summary"), 2, "no third attempt");
    assert!(!g.is_open().await);
}

#[tokio::test]
async fn a_tickle_saying_unauthenticated_forgets_the_session() {
    let api = Arc::new(ScriptedApi::default());
    api.open_session();
    let g = gateway(&api);
    g.tickle().await;
    assert_eq!(api.count("tickle"), 0, "no session, no tickle");
    g.accounts().await.unwrap();
    api.ok("tickle", &fixture("tickle.json"));
    g.tickle().await;
    assert!(g.is_open().await);
    api.ok(
        "tickle",
        r#"{"session":"x","iserver":{"authStatus":{"authenticated":false,"connected":true}}}"#,
    );
    g.tickle().await;
    assert!(!g.is_open().await);
}

#[tokio::test]
async fn account_dependent_calls_switch_only_when_another_is_selected() {
    let api = Arc::new(ScriptedApi::default());
    api.open_session();
    api.ok("trades", "[]")
        .ok("trades", "[]")
        .ok("switch_account", "{}")
        .ok("trades", "[]");
    let g = gateway(&api);
    let read = |acct: &'static str| {
        let g = &g;
        async move {
            g.on_account(acct, "reading", |api| async move { api.trades(acct).await })
                .await
        }
    };
    read("DU1234567").await.unwrap();
    read("DU1234567").await.unwrap();
    assert_eq!(
        api.count("switch_account"),
        0,
        "the selected account needs no switch"
    );
    read("DU7654321").await.unwrap();
    assert!(api.calls().contains(&"switch_account:DU7654321".to_string()));
    // A failed switch leaves the selection unknown, and the call is not made.
    api.status("switch_account", 500, "");
    assert!(read("DU1234567").await.is_err());
    assert_eq!(api.count("trades"), 3);
}

#[tokio::test]
async fn over_oauth_the_session_opens_with_ssodh_init_and_a_refusal_names_the_credentials() {
    let oauth = |api: &Arc<ScriptedApi>| Gateway::over(api.clone(), TransportKind::Oauth1);
    let api = Arc::new(ScriptedApi::default());
    api.ok("ssodh_init", &fixture("auth_status.json"))
        .ok("accounts", &fixture("iserver_accounts.json"))
        .ok("portfolio_accounts", &fixture("portfolio_accounts.json"));
    oauth(&api).accounts().await.unwrap();
    assert_eq!(api.calls(), ["ssodh_init", "accounts", "portfolio_accounts"]);
    // Accepted credentials but no brokerage session: unavailable, saying why.
    let api = Arc::new(ScriptedApi::default());
    api.ok(
        "ssodh_init",
        r#"{"authenticated":false,"connected":true,"competing":true}"#,
    )
    .ok(
        "auth_status",
        r#"{"authenticated":false,"connected":true,"competing":true}"#,
    );
    match oauth(&api).accounts().await {
        Err(BrokerError::Unavailable(m)) => {
            assert!(m.contains("another session of the same IBKR user"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    // Refused credentials: a refusal naming them (not a 401), answered for a minute without asking again.
    let api = Arc::new(ScriptedApi::default());
    api.status("ssodh_init", 401, &fixture("error_401.json"));
    let g = oauth(&api);
    assert_eq!(
        g.accounts().await.unwrap_err(),
        BrokerError::Rejected(OAUTH1_REFUSED.into())
    );
    assert_eq!(
        g.accounts().await.unwrap_err(),
        BrokerError::Rejected(OAUTH1_REFUSED.into())
    );
    assert_eq!(api.count("ssodh_init"), 1);
    // IBKR out of reach is not blamed on a gateway.
    let api = Arc::new(ScriptedApi::default());
    api.fail("ssodh_init", CallError::NotSent("connection refused".into()));
    match Gateway::over(api.clone(), TransportKind::Oauth2).accounts().await {
        Err(BrokerError::Unavailable(m)) => assert!(m.starts_with("IBKR cannot be reached"), "{m}"),
        other => panic!("{other:?}"),
    }
}
