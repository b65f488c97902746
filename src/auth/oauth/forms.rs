//! Login forms in progress, kept in the form itself: the checked authorization request, the browser it
//! was shown to and its expiry, sealed with an HMAC. Showing a form writes nothing anywhere, so an
//! unauthenticated flood of authorize requests costs the bridge no memory and no store space; a sealed
//! form cannot be altered, outlive its expiry, or be submitted from another browser (login CSRF).

use super::request::AuthRequest;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A login form shown to a browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginForm {
    pub request: AuthRequest,
    /// The digest of the browser's binding cookie.
    pub browser: String,
    /// Unix seconds.
    pub expires_at: u64,
}

/// Seals and opens forms with one key (derived from the token key: every replica shares it).
pub struct FormSealer {
    key: [u8; 32],
}

impl std::fmt::Debug for FormSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormSealer")
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

impl FormSealer {
    /// A sealer whose key is derived from `token_key` (a different key for a different purpose).
    pub fn new(token_key: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"tvbridge login form seal v1\0");
        hasher.update(token_key);
        FormSealer {
            key: hasher.finalize().into(),
        }
    }

    fn mac(&self, purpose: &[u8], data: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(purpose);
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// The form's hidden `request` field for `request`, shown to the browser with binding cookie
    /// `browser`, valid until `expires_at`; and its `csrf` field.
    pub fn seal(&self, request: AuthRequest, browser: &str, expires_at: u64) -> (String, String) {
        let form = LoginForm {
            request,
            browser: binding_digest(browser),
            expires_at,
        };
        let payload = B64.encode(serde_json::to_vec(&form).expect("forms serialize"));
        let sealed = format!(
            "{payload}.{}",
            B64.encode(self.mac(b"form\0", payload.as_bytes()))
        );
        let csrf = self.csrf(&sealed, browser);
        (sealed, csrf)
    }

    /// The form `sealed` if it is one this bridge sealed, unaltered and unexpired, and `csrf` and the
    /// browser's binding cookie are the ones it was shown with.
    pub fn open(
        &self,
        sealed: &str,
        csrf: &str,
        browser: Option<&str>,
        now: u64,
    ) -> Result<LoginForm, FormRefused> {
        let (payload, mac) = sealed.split_once('.').ok_or(FormRefused::Forged)?;
        let expected = self.mac(b"form\0", payload.as_bytes());
        let given = B64.decode(mac).map_err(|_| FormRefused::Forged)?;
        if !constant_time_eq(&expected, &given) {
            return Err(FormRefused::Forged);
        }
        let form: LoginForm = B64
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(FormRefused::Forged)?;
        let Some(browser) = browser else {
            return Err(FormRefused::OtherBrowser);
        };
        if binding_digest(browser) != form.browser
            || !constant_time_eq(self.csrf(sealed, browser).as_bytes(), csrf.as_bytes())
        {
            return Err(FormRefused::OtherBrowser);
        }
        if form.expires_at <= now {
            return Err(FormRefused::Expired);
        }
        Ok(form)
    }

    fn csrf(&self, sealed: &str, browser: &str) -> String {
        let mut data = sealed.as_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(browser.as_bytes());
        B64.encode(self.mac(b"csrf\0", &data))
    }
}

/// Why a submitted form is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormRefused {
    /// Not sealed by this bridge, or altered.
    Forged,
    /// Shown to another browser, or the CSRF token does not match.
    OtherBrowser,
    /// Older than `oauth.login_form_ttl_secs`.
    Expired,
}

fn binding_digest(browser: &str) -> String {
    crate::store::digest(&["browser-binding", browser])
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oauth::request::{Prompt, ResponseType};

    fn request() -> AuthRequest {
        AuthRequest {
            client_id: "tv".into(),
            redirect_uri: "https://tv.example/cb".into(),
            response_type: ResponseType::Code,
            state: Some("s".into()),
            scope: None,
            code_challenge: None,
            prompt: Prompt::Default,
            lang: None,
        }
    }

    #[test]
    fn a_sealed_form_opens_only_unaltered_in_its_browser_with_its_csrf_and_in_time() {
        let sealer = FormSealer::new(b"token key");
        let (sealed, csrf) = sealer.seal(request(), "browser-a", 100);
        assert_eq!(
            sealer
                .open(&sealed, &csrf, Some("browser-a"), 99)
                .unwrap()
                .request,
            request()
        );
        assert_eq!(
            sealer.open(&sealed, &csrf, Some("browser-a"), 100),
            Err(FormRefused::Expired)
        );
        assert_eq!(
            sealer.open(&sealed, &csrf, Some("browser-b"), 99),
            Err(FormRefused::OtherBrowser)
        );
        assert_eq!(
            sealer.open(&sealed, &csrf, None, 99),
            Err(FormRefused::OtherBrowser)
        );
        assert_eq!(
            sealer.open(&sealed, "wrong", Some("browser-a"), 99),
            Err(FormRefused::OtherBrowser)
        );
        // Another key (another bridge), an altered payload, garbage: forged.
        let other = FormSealer::new(b"another key");
        assert_eq!(
            other.open(&sealed, &csrf, Some("browser-a"), 99),
            Err(FormRefused::Forged)
        );
        let (payload, mac) = sealed.split_once('.').unwrap();
        let mut form: LoginForm = serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap();
        form.request.redirect_uri = "https://evil.example/cb".into();
        let altered = format!("{}.{mac}", B64.encode(serde_json::to_vec(&form).unwrap()));
        assert_eq!(
            sealer.open(&altered, &csrf, Some("browser-a"), 99),
            Err(FormRefused::Forged)
        );
        for garbage in ["", ".", "a.b", "no-dot"] {
            assert_eq!(
                sealer.open(garbage, &csrf, Some("browser-a"), 99),
                Err(FormRefused::Forged)
            );
        }
    }
}
