//! Market data as a TradingView user reads it over IBKR: the depth of book is the top of IBKR's book (one
//! level a side, the snapshot's bid and ask with their sizes), a US stock's sizes counted in shares
//! (IBKR shows them in hundreds), a currency pair's as they come; the account flags offer it.

use crate::support::{self, dec};
use rust_decimal::Decimal;
use support::ibkr::{self, AAPL, ACCT, EURUSD};

#[tokio::test]
async fn depth_is_the_top_of_ibkrs_book_with_a_us_stocks_sizes_in_shares() {
    let (fake, app) = ibkr::start().await;
    let token = app.login().await;
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    assert_eq!(accounts[0]["config"]["supportLevel2Data"], true, "{accounts}");

    for (symbol, conid, shown_size, scale) in [("AAPL", AAPL, 300, 100), ("EURUSD", EURUSD, 2_500_000, 1)] {
        let depth = app
            .get(
                &token,
                &format!("/depth?locale=en&accountId={ACCT}&symbol={symbol}"),
                "DepthResponse",
            )
            .await;
        let (bid, ask) = fake.quote(conid).unwrap();
        let level = |side: &str| -> Vec<Decimal> {
            let levels = depth[side].as_array().unwrap_or_else(|| panic!("{depth}"));
            assert_eq!(levels.len(), 1, "one level a side: {depth}");
            levels[0].as_array().unwrap().iter().map(dec).collect()
        };
        let size = Decimal::from(shown_size * scale);
        assert_eq!(level("asks"), [ask, size], "{symbol}: {depth}");
        assert_eq!(level("bids"), [bid, size], "{symbol}: {depth}");
    }

    // A symbol the bridge does not offer is named in the refusal, and IBKR is not asked.
    let before = fake.calls("GET", "/iserver/marketdata/snapshot");
    let r = app
        .send(
            axum::http::Method::GET,
            &format!("/depth?locale=en&accountId={ACCT}&symbol=NOPE"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.body["s"], "error", "{}", r.body);
    assert!(r.body["errmsg"].as_str().unwrap().contains("NOPE"), "{}", r.body);
    assert_eq!(fake.calls("GET", "/iserver/marketdata/snapshot"), before);
}
