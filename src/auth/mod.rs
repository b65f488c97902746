//! Access tokens and bridge sessions: who is calling, and whether they may.

mod sessions;
mod tokens;

pub use sessions::{Session, SessionStore};
pub use tokens::{now_secs, Claims, TokenError, TokenIssuer};
