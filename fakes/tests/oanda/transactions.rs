//! v20 transaction history: single transactions, id ranges, since an id, the pages form and type
//! filters.

use crate::client::{start, Client, NET};
use serde_json::Value;

fn ids(body: &Value) -> Vec<String> {
    body["transactions"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|t| t["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn history_by_id_range_since_id_and_pages() {
    let fake = start().await;
    let c = Client::new(&fake);
    c.market(NET, "EUR_USD", 10).await;
    c.market(NET, "EUR_USD", -10).await;
    let base = format!("/v3/accounts/{NET}/transactions");
    let (status, one) = c.get(&format!("{base}/1")).await;
    assert_eq!(status, 200);
    assert_eq!(one["transaction"]["type"], "CREATE");
    assert_eq!(one["transaction"]["homeCurrency"], "USD");
    assert_eq!(one["transaction"]["accountNumber"], 1);
    let (_, two) = c.get(&format!("{base}/2")).await;
    assert_eq!(two["transaction"]["type"], "TRANSFER_FUNDS");
    assert_eq!(two["transaction"]["amount"], "100000.0000");
    assert_eq!(two["lastTransactionID"], "6");
    let (status, body) = c.get(&format!("{base}/99")).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("NO_SUCH_TRANSACTION"))
    );

    let (_, range) = c.get(&format!("{base}/idrange?from=2&to=4")).await;
    assert_eq!(ids(&range), ["2", "3", "4"]);
    let (_, fills) = c
        .get(&format!("{base}/idrange?from=1&to=6&type=ORDER_FILL"))
        .await;
    assert_eq!(ids(&fills), ["4", "6"]);
    let (_, orders) = c.get(&format!("{base}/idrange?from=1&to=6&type=ORDER")).await;
    assert_eq!(ids(&orders), ["3", "4", "5", "6"]);
    let (_, funding) = c
        .get(&format!("{base}/idrange?from=1&to=6&type=FUNDING%2CADMIN"))
        .await;
    assert_eq!(ids(&funding), ["1", "2"]);
    assert_eq!(c.get(&format!("{base}/idrange?from=1")).await.0, 400);
    assert_eq!(
        c.get(&format!("{base}/idrange?from=1&to=2&type=NOPE")).await.0,
        400
    );
    let (_, since) = c.get(&format!("{base}/sinceid?id=4")).await;
    assert_eq!(ids(&since), ["5", "6"]);
    assert_eq!(since["lastTransactionID"], "6");

    let (status, pages) = c.get(&format!("{base}?pageSize=4")).await;
    assert_eq!(status, 200);
    assert_eq!(pages["count"], 6);
    assert_eq!(pages["pageSize"], 4);
    let urls = pages["pages"].as_array().cloned().unwrap_or_default();
    assert_eq!(urls.len(), 2);
    assert_eq!(
        urls[0],
        format!(
            "{}/v3/accounts/{NET}/transactions/idrange?from=1&to=4",
            fake.rest_url
        )
    );
    // The page URLs work as given.
    let url = urls[1].as_str().unwrap_or_default();
    let (_, page) = c.get(url.trim_start_matches(&fake.rest_url)).await;
    assert_eq!(ids(&page), ["5", "6"]);
    assert_eq!(c.get(&format!("{base}?pageSize=1001")).await.0, 400);
    // Transactions carry the request that created them and share their batch.
    let fill = &fake.transactions(NET)[3];
    assert_eq!(fill["batchID"], "3");
    assert!(fill["requestID"].is_string());
    assert!(fill["time"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-03-04T15:")));
}
