//! The authorization request (RFC 6749 §4.1.1 and §4.2.1, with PKCE and OpenID Connect's `prompt`) checked
//! against the registered clients: what may be redirected back to, and the error when it may not.

use super::clients::{Client, Clients};
use super::config::Flow;
use super::pkce;
use crate::http::oauth::page::ErrorKind;
use serde::{Deserialize, Serialize};

/// What the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    /// A code in the query of the redirect (Code flow).
    Code,
    /// An access token in the fragment of the redirect (Implicit flow).
    Token,
}

/// OpenID Connect's `prompt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// Skip the form when the browser is logged in.
    Default,
    /// Never show a form: answer at once, or redirect with `login_required`.
    None,
    /// Always show the form.
    Login,
}

/// A checked authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: ResponseType,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub lang: Option<String>,
}

/// Why a request cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The client or redirect URI cannot be trusted: shown on a page, never redirected (RFC 6749 §4.1.2.1).
    Page(ErrorKind, String),
    /// Sent back to the (checked) redirect URI as `error` and `error_description`.
    Redirect {
        redirect_uri: String,
        response_type: ResponseType,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

/// Longest `state` and `scope` echoed back.
const MAX_ECHO: usize = 2048;

/// Checks an authorization request given as `field(name)` lookups.
pub fn parse<'a>(field: impl Fn(&str) -> Option<&'a str>, clients: &Clients) -> Result<AuthRequest, Refusal> {
    let client_id = field("client_id").ok_or_else(|| {
        Refusal::Page(
            ErrorKind::BadRequest,
            "The request names no client (client_id is missing).".into(),
        )
    })?;
    let client: &Client = clients.get(client_id).ok_or_else(|| {
        Refusal::Page(
            ErrorKind::UnknownClient,
            "The request names a client this bridge does not know.".into(),
        )
    })?;
    let redirect_uri = field("redirect_uri")
        .ok_or_else(|| Refusal::Page(ErrorKind::BadRequest, "The request has no redirect_uri.".into()))?;
    if !client.redirects_to(redirect_uri) {
        return Err(Refusal::Page(
            ErrorKind::BadRedirectUri,
            "The redirect_uri is not registered for this client, so the bridge will not send you there."
                .into(),
        ));
    }
    let state = field("state").map(str::to_owned);
    // From here on errors go back to the client. The response type decides where they go (query or
    // fragment): an unknown one is answered in the query.
    let response_type = match field("response_type") {
        Some("token") => ResponseType::Token,
        _ => ResponseType::Code,
    };
    let refuse = |error: &'static str, description: String| Refusal::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        response_type,
        state: state.clone().filter(|s| s.len() <= MAX_ECHO),
        error,
        description,
    };
    match field("response_type") {
        Some("code" | "token") => {}
        None => return Err(refuse("invalid_request", "response_type is missing".into())),
        Some(other) => {
            return Err(refuse(
                "unsupported_response_type",
                format!(
                    "response_type {:?} is not supported; use code or token",
                    short(other)
                ),
            ))
        }
    }
    let flow = match response_type {
        ResponseType::Code => Flow::Code,
        ResponseType::Token => Flow::Implicit,
    };
    if !client.flows.contains(&flow) {
        return Err(refuse(
            "unauthorized_client",
            format!(
                "this client may not use response_type={}",
                field("response_type").unwrap_or("")
            ),
        ));
    }
    if state.as_ref().is_some_and(|s| s.len() > MAX_ECHO) {
        return Err(refuse(
            "invalid_request",
            format!("state is longer than {MAX_ECHO} characters"),
        ));
    }
    let scope = field("scope").map(str::to_owned);
    if scope.as_ref().is_some_and(|s| s.len() > MAX_ECHO) {
        return Err(refuse(
            "invalid_scope",
            format!("scope is longer than {MAX_ECHO} characters"),
        ));
    }
    let prompt = match field("prompt") {
        None => Prompt::Default,
        Some("none") => Prompt::None,
        Some("login" | "consent" | "select_account") => Prompt::Login,
        Some(other) if other.split(' ').any(|p| p == "none") => {
            return Err(refuse(
                "invalid_request",
                "prompt=none cannot be combined with other values".into(),
            ))
        }
        Some(other)
            if other
                .split(' ')
                .all(|p| matches!(p, "login" | "consent" | "select_account")) =>
        {
            Prompt::Login
        }
        Some(other) => {
            return Err(refuse(
                "invalid_request",
                format!("prompt {:?} is not supported", short(other)),
            ))
        }
    };
    let code_challenge = match field("code_challenge") {
        None if field("code_challenge_method").is_some() => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method without code_challenge".into(),
            ))
        }
        None => None,
        Some(challenge) => {
            if response_type == ResponseType::Token {
                return Err(refuse(
                    "invalid_request",
                    "PKCE applies to the code flow only".into(),
                ));
            }
            pkce::check_challenge(challenge, field("code_challenge_method"))
                .map_err(|e| refuse("invalid_request", e))?;
            Some(challenge.to_owned())
        }
    };
    let lang = field("lang").filter(|l| l.len() <= 16).map(str::to_owned);
    Ok(AuthRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        response_type,
        state,
        scope,
        code_challenge,
        prompt,
        lang,
    })
}

/// `uri` with `params` added: to the query for the code flow (keeping a query the URI has), to the
/// fragment for the implicit flow (RFC 6749 §4.2.2).
pub fn redirect_with(uri: &str, response_type: ResponseType, params: &[(&str, &str)]) -> String {
    let encoded = serde_urlencoded::to_string(params).unwrap_or_default();
    let separator = match response_type {
        ResponseType::Token => '#',
        ResponseType::Code if uri.contains('?') => '&',
        ResponseType::Code => '?',
    };
    format!("{uri}{separator}{encoded}")
}

/// A value quoted in a message, cut short.
fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oauth::config::ClientConfig;
    use crate::secret::Secret;
    use std::collections::HashMap;

    fn clients() -> Clients {
        let config = ClientConfig {
            client_id: "tv".into(),
            name: "TradingView".into(),
            client_secret: Secret::new("0123456789abcdef"),
            client_secret_env: String::new(),
            redirect_uris: vec!["https://tv.example/cb?env=staging".into()],
            logout_redirect_uris: vec![],
            flows: vec![Flow::Code],
            access_token_ttl_secs: 600,
            refresh_token_ttl_secs: 86_400,
            assertion_grant_type: String::new(),
            certificate_file: String::new(),
            assertion_users: vec![],
        };
        Clients::load(&[config], "", 0, &|_| None).unwrap()
    }

    fn ask(pairs: &[(&str, &str)]) -> Result<AuthRequest, Refusal> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        parse(|name| map.get(name).copied(), &clients())
    }

    const OK: [(&str, &str); 4] = [
        ("client_id", "tv"),
        ("redirect_uri", "https://tv.example/cb?env=staging"),
        ("response_type", "code"),
        ("state", "xyz"),
    ];

    #[test]
    fn a_sound_request_is_accepted_and_its_state_kept() {
        let request = ask(&OK).unwrap();
        assert_eq!(request.state.as_deref(), Some("xyz"));
        assert_eq!(request.prompt, Prompt::Default);
        let url = redirect_with(
            &request.redirect_uri,
            ResponseType::Code,
            &[("code", "c d"), ("state", "x&y")],
        );
        assert_eq!(url, "https://tv.example/cb?env=staging&code=c+d&state=x%26y");
        assert_eq!(
            redirect_with("https://a/cb", ResponseType::Token, &[("a", "1")]),
            "https://a/cb#a=1"
        );
    }

    #[test]
    fn an_unknown_client_or_unlisted_redirect_is_a_page_never_a_redirect() {
        for bad in [
            vec![("redirect_uri", "https://tv.example/cb?env=staging")],
            vec![
                ("client_id", "other"),
                ("redirect_uri", "https://tv.example/cb?env=staging"),
            ],
            vec![("client_id", "tv"), ("redirect_uri", "https://evil.example/cb")],
            vec![
                ("client_id", "tv"),
                ("redirect_uri", "https://tv.example/cb?env=staging&x=1"),
            ],
            vec![("client_id", "tv"), ("redirect_uri", "https://tv.example/cb")],
            vec![("client_id", "tv")],
        ] {
            assert!(matches!(ask(&bad), Err(Refusal::Page(..))), "{bad:?}");
        }
    }

    #[test]
    fn other_errors_go_back_to_the_client_with_the_rfc_codes() {
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs: Vec<(&str, &str)> = OK.to_vec();
            for (k, v) in extra {
                pairs.retain(|(key, _)| key != k);
                pairs.push((k, v));
            }
            match ask(&pairs) {
                Err(Refusal::Redirect { error, state, .. }) => {
                    assert_eq!(state.as_deref(), Some("xyz"));
                    error
                }
                other => panic!("{extra:?}: {other:?}"),
            }
        };
        assert_eq!(
            with(&[("response_type", "id_token")]),
            "unsupported_response_type"
        );
        assert_eq!(with(&[("response_type", "token")]), "unauthorized_client");
        assert_eq!(with(&[("prompt", "none login")]), "invalid_request");
        assert_eq!(with(&[("prompt", "sideways")]), "invalid_request");
        assert_eq!(
            with(&[("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")]),
            "invalid_request"
        );
        assert_eq!(
            with(&[
                ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                ("code_challenge_method", "plain")
            ]),
            "invalid_request"
        );
        let request = ask(&[
            OK.as_slice(),
            &[
                ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                ("code_challenge_method", "S256"),
                ("prompt", "none"),
            ],
        ]
        .concat())
        .unwrap();
        assert_eq!(request.prompt, Prompt::None);
        assert!(request.code_challenge.is_some());
    }
}
