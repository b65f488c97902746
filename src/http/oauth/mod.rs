//! The OAuth 2.0 endpoints (authorize, login form, token, logout) and the pages a browser sees. They exist
//! only when `[[oauth.clients]]` registers a client.

mod assertion_grant;
mod authorize;
pub mod cookies;
mod federated;
mod grant;
pub mod locale;
mod login;
mod logout;
pub mod page;
pub mod token;

use crate::http::AppState;
use axum::routing::{get, post};
use axum::Router;

/// The OAuth routes, at their configured paths (none without a registered client).
pub fn router(config: &crate::auth::oauth::config::OAuthConfig) -> Router<AppState> {
    if !config.enabled() {
        return Router::new();
    }
    Router::new()
        .route(&config.authorize_path, get(authorize::authorize))
        .route(&config.login_path, post(login::submit))
        .route(&config.token_path, post(token::token))
        .route(&config.logout_path, get(logout::logout))
        .route(&config.federated_callback_path, get(federated::callback))
}
