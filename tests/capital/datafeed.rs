//! The data-feed suite (`tests/datafeed_suite/`) on Capital.com through the fake Capital.com (moving prices, usual opening hours).

use crate::suite;

suite::suite!(suite::Feed::capital);
