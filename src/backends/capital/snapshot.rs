//! One account refresh on Capital.com with the fewest requests: `GET /workingorders`, `GET /positions`
//! and `GET /accounts`, concurrently, each once; orders, positions (netting or hedging views) and state
//! are all built from those three answers.

use super::session::Kind;
use super::{convert, orders, positions, Inner};
use crate::broker::{AccountSnapshot, BrokerAccount, BrokerError, BrokerResult, SessionCtx};

pub(super) async fn snapshot(
    inner: &Inner,
    session: &SessionCtx,
    account: &BrokerAccount,
) -> BrokerResult<AccountSnapshot> {
    let id = account.id.as_str();
    let hedging = inner.account_info(session, id)?.hedging;
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(id).await?;
    let accounts = async {
        upstream
            .call(Kind::Read, |c, t| async move { c.accounts(&t).await })
            .await
            .map_err(BrokerError::from)
    };
    let (working, deals, list) =
        tokio::try_join!(orders::working_orders(&scope), inner.deals(&scope), accounts)?;
    let found = list
        .accounts
        .iter()
        .find(|a| a.account_id == id)
        .ok_or_else(|| BrokerError::NotFound(format!("Unknown account '{id}'")))?;
    let state = convert::account_state(found);
    let tagged = positions::with_symbols(inner, &deals);
    let orders = orders::listed(inner, session, &upstream, &scope, working, deals).await?;
    let mut out = AccountSnapshot {
        orders,
        positions: Vec::new(),
        net_positions: Vec::new(),
        individual_positions: Vec::new(),
        state,
    };
    if hedging {
        out.net_positions = convert::net_positions(&tagged);
        out.individual_positions = positions::individual(&tagged);
    } else {
        out.positions = convert::positions(&tagged);
    }
    Ok(out)
}
