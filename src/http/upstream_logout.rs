//! Ends the bridge session of a user whose grant at the upstream is gone (federated backends: IBKR's
//! third-party API after the user revoked the bridge at IBKR). The backend answers `LogInAgain`; the
//! answer goes out as the 401 that tells TradingView why, and the session it was made for ends here too, on
//! every replica, so its refresh token cannot bring it back and its streams close.

use crate::http::session::end_session;
use crate::http::AppState;
use crate::sync::MutexExt;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, Mutex};

/// Where the authenticating extractor notes whose session a request is (request extension).
#[derive(Clone, Default)]
pub struct SessionSlot(Arc<Mutex<Option<String>>>);

impl SessionSlot {
    /// Notes the session the request authenticated as.
    pub fn set(&self, session_id: &str) {
        *self.0.locked() = Some(session_id.to_owned());
    }

    fn take(&self) -> Option<String> {
        self.0.locked().take()
    }
}

/// Marks a response whose upstream said the user must log in again (response extension).
#[derive(Clone, Copy, Debug)]
pub struct UpstreamLoggedOut;

/// The middleware: on a federated backend, a request whose answer is [`UpstreamLoggedOut`] ends its session.
pub async fn end_when_grant_gone(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if state.broker().federation().is_none() {
        return next.run(req).await;
    }
    let slot = SessionSlot::default();
    req.extensions_mut().insert(slot.clone());
    let response = next.run(req).await;
    if response.extensions().get::<UpstreamLoggedOut>().is_some() {
        if let Some(sid) = slot.take() {
            if let Some(session) = state.sessions().revoke(&sid).await {
                tracing::info!(target: crate::http::audit::TARGET, user = %crate::http::audit::clean(&session.ctx.user),
                    "the upstream no longer accepts the user's grant: session ended");
                end_session(&state, &session).await;
            }
        }
    }
    response
}
