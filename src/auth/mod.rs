//! Bridge users, access tokens and bridge sessions: who is calling, and whether they may.

pub mod clock;
pub mod oauth;
pub mod sessions;
pub mod throttle;
pub mod throttle_shared;
pub mod tokens;
pub mod users;
pub mod verified;

pub use sessions::{Grant, Lookup, Record as SessionRecord, Rotation, Session, SessionStore};
pub use throttle::{LoginThrottle, LoginThrottleConfig};
pub use tokens::{now_secs, Claims, TokenError, TokenIssuer};
pub use users::UserConfig;
