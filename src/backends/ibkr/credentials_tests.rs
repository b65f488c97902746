//! The client's signing over OAuth against local stubs that check every signature with the fake IBKR's
//! server side (`fakes::ibkr_auth`).
