//! `BrokerError`: what went wrong in a backend, in terms the HTTP layer can answer.

use std::time::Duration;

/// A backend failure. Backends map their own upstream errors into this; `ApiError` maps it onto the wire.
///
/// The `String` of `Rejected` and `NotFound` is shown to the user as `errmsg`, so it must be readable and
/// must never contain secrets. `Unavailable` and `Internal` details only go to the log.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BrokerError {
    /// The upstream session is gone and could not be re-established: the user must log in again.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The upstream session is gone and the user must do something before logging in again (log in to
    /// IBKR's Client Portal gateway); the text, written for the user, says what and is shown as it is.
    #[error("unauthorized: {0}")]
    LogInAgain(String),
    /// The broker refused the request (validation, margin, market closed...).
    #[error("{0}")]
    Rejected(String),
    /// A write the upstream may or may not have carried out: it did not confirm it and the bridge could not
    /// find out (the text, written for the user, says to check before trying again). A `requestId` that
    /// ended this way is not freed: its resend looks the order up before anything is sent.
    #[error("{0}")]
    OutcomeUnknown(String),
    /// The named order, position, instrument or account does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Upstream throttling.
    #[error("rate limited by the broker")]
    RateLimited { retry_after: Option<Duration> },
    /// The upstream could not be reached or answered with a server error.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The backend does not offer this feature.
    #[error("{0} is not supported by this broker")]
    Unsupported(&'static str),
    /// A bug or an unexpected upstream answer.
    #[error("internal error: {0}")]
    Internal(String),
}
