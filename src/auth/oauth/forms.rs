//! Login forms in progress: the checked authorization request a form continues, its CSRF token, and the
//! browser it was shown to (so that a form cannot be submitted from another browser: login CSRF).

use super::request::AuthRequest;
use super::secrets;
use crate::store::{json, Expect, Store, StoreResult};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A login form shown to a browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginForm {
    pub request: AuthRequest,
    /// The CSRF token in the form's hidden field.
    pub csrf: String,
    /// The digest of the browser's binding cookie.
    pub browser: String,
    /// Unix seconds.
    pub expires_at: u64,
}

/// Stores a form for `request`, shown to the browser with binding cookie `browser`; returns the form id.
pub async fn create(
    store: &dyn Store,
    request: AuthRequest,
    browser: &str,
    ttl_secs: u64,
    now: u64,
) -> StoreResult<(String, LoginForm)> {
    let id = secrets::new_secret();
    let form = LoginForm {
        request,
        csrf: secrets::new_secret(),
        browser: binding_digest(browser),
        expires_at: now + ttl_secs,
    };
    let ttl = Duration::from_secs(ttl_secs);
    json::put(store, &secrets::key("form", &id), Expect::Absent, &form, ttl).await?;
    Ok((id, form))
}

/// The live form `id`.
pub async fn find(store: &dyn Store, id: &str, now: u64) -> StoreResult<Option<LoginForm>> {
    if !secrets::well_formed(id) {
        return Ok(None);
    }
    let found = json::get::<LoginForm>(store, &secrets::key("form", id)).await?;
    Ok(found.map(|(_, f)| f).filter(|f| f.expires_at > now))
}

/// Forgets form `id` (used: a form logs in once).
pub async fn remove(store: &dyn Store, id: &str) -> StoreResult<()> {
    store
        .swap(
            &secrets::key("form", id),
            Expect::Any,
            None,
            Duration::from_secs(1),
        )
        .await
        .map(|_| ())
}

/// Whether the submission's CSRF token and binding cookie are the ones the form was shown with.
pub fn verifies(form: &LoginForm, csrf: &str, browser: Option<&str>) -> bool {
    let csrf_ok = crate::secret::Secret::new(form.csrf.clone()).constant_time_eq(csrf);
    let browser_ok = browser.is_some_and(|b| binding_digest(b) == form.browser);
    csrf_ok && browser_ok
}

fn binding_digest(browser: &str) -> String {
    crate::store::digest(&["browser-binding", browser])
}
