//! One read of the full account (`GET /accounts/{id}`): pending orders, trades, positions and balances
//! with the last transaction id the answer reflects. Never cached here: the account hub serves the polls
//! (one read per refresh), and writes read the account as it is now.

use super::client::Client;
use super::model::Account;
use crate::backends::oanda::errors::broker_error;
use crate::backends::oanda::venue::Conn;
use crate::broker::BrokerResult;

/// One account as OANDA answered, with the id of the last transaction the answer reflects.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub account: Account,
    pub last_transaction_id: Option<String>,
}

impl Snapshot {
    /// The last transaction id as a number (OANDA's ids are decimal integers).
    pub fn last_transaction(&self) -> Option<u64> {
        self.last_transaction_id.as_deref()?.trim().parse().ok()
    }
}

/// `GET /accounts/{id}`.
pub async fn read(conn: &Conn, account: &str) -> BrokerResult<Snapshot> {
    Client::new(&conn.http, &conn.token)
        .account(account)
        .await
        .map(|answer| Snapshot {
            last_transaction_id: answer.last_transaction_id().map(str::to_string),
            account: answer.account,
        })
        .map_err(|e| broker_error(&e, &format!("account {account}")))
}
