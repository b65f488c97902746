//! Bridge users, access tokens and bridge sessions: who is calling, and whether they may.

pub mod sessions;
pub mod throttle;
pub mod throttle_shared;
pub mod oauth;
pub mod tokens;
pub mod users;

pub use sessions::{Lookup, Record as SessionRecord, Session, SessionStore};
pub use throttle::{LoginThrottle, LoginThrottleConfig};
pub use tokens::{now_secs, Claims, TokenError, TokenIssuer};
pub use users::UserConfig;
