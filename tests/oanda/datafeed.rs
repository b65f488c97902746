//! The data-feed suite (`tests/datafeed_suite/`) on OANDA through the fake OANDA (moving prices, the FX
//! weekend closed), with the data feed on a v20 account and, in `v1`, on a legacy v1 account.

use crate::suite;

suite::suite!(suite::Feed::oanda);

/// The same properties with the data feed on a legacy (v1) account.
mod v1 {
    use crate::suite;

    suite::suite!(suite::Feed::oanda_v1);
}
