//! The data-feed suite (`tests/datafeed_suite/`) on Interactive Brokers through the fake Client Portal
//! gateway (moving prices, each contract on its usual hours, the fake's clock lent to the bridge).

use crate::suite;

suite::suite!(suite::Feed::ibkr);
