//! A first end-to-end pass: login, accounts, a market order, its position.

use crate::support;

use support::*;

#[tokio::test]
async fn login_place_and_see_the_position() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    assert_eq!(accounts.as_array().unwrap().len(), 2);
    let id = app
        .place(&token, NET, "instrument=EURUSD&qty=10000&side=buy&type=market")
        .await;
    let order = app.order(&token, NET, &id).await;
    assert_eq!(order["status"], "filled");
    let positions = app.positions(&token, NET).await;
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0]["qty"], 10000.0);
}
