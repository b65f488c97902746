//! The OAuth 2.0 endpoints (authorize, login form, token, logout) and the pages a browser sees.

pub mod locale;
pub mod page;
