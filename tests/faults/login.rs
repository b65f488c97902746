//! TradingView's OAuth2 Code flow over plain HTTP, as a user's browser and TradingView's server go
//! through it, without a browser: the bridge's authorization request and login page (its hidden fields and
//! cookies kept by hand), IBKR's authorization page when the bridge sends the browser there (a user whose
//! grant the bridge does not hold), the federated callback back at the bridge, and the code exchanged at
//! the token endpoint. The same steps as `tests/ibkr_third_party/flow.rs`, over sockets.

use crate::backends::CodeFlow;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use std::time::Duration;

/// How one login through the Code flow went.
#[derive(Debug)]
pub struct Granted {
    pub access_token: String,
    /// Whether the bridge sent the browser to IBKR (no grant held for the user) rather than straight back
    /// to TradingView.
    pub went_to_ibkr: bool,
}

/// One browser: its cookies per origin are not needed (the bridge's and IBKR's are separate jars).
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn keep(&mut self, resp: &reqwest::Response) {
        for v in resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let Some((k, v)) = v.split(';').next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            self.0.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.0.push((k.to_owned(), v.to_owned()));
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The `value` of the `<input>` named `name` in `html`.
fn hidden(html: &str, name: &str) -> Result<String, String> {
    let marker = format!("name=\"{name}\"");
    let at = html
        .find(&marker)
        .ok_or_else(|| format!("no input {name} on the page"))?;
    let start = html[..at].rfind('<').ok_or("a broken tag")?;
    let end = at + html[at..].find('>').ok_or("a broken tag")?;
    let tag = &html[start..end];
    let value = tag
        .split("value=\"")
        .nth(1)
        .ok_or_else(|| format!("no value in {tag}"))?;
    let value = &value[..value.find('"').ok_or("an unterminated value")?];
    Ok(value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&"))
}

/// The query parameter `name` of `url`.
fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn location(resp: &reqwest::Response) -> Option<String> {
    resp.headers().get(LOCATION)?.to_str().ok().map(str::to_owned)
}

/// The whole flow for bridge user `login` at the bridge under `base` (`http://host:port/api`); `Err`
/// says which step failed (the caller tries again: the bridge may be restarting, IBKR failing).
pub async fn code_flow(base: &str, flow: &CodeFlow, login: &str, password: &str) -> Result<Granted, String> {
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let mut bridge_jar = Jar::default();
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", flow.client_id),
        ("redirect_uri", flow.redirect_uri),
        ("scope", "read trade"),
        ("state", "faults"),
    ])
    .map_err(|e| e.to_string())?;
    // The authorization request: the login page.
    let page = browser
        .get(format!("{base}/oauth/authorize?{query}"))
        .send()
        .await
        .map_err(|e| format!("authorize: {e}"))?;
    bridge_jar.keep(&page);
    if page.status() != 200 {
        return Err(format!("authorize answered {}", page.status()));
    }
    let html = page.text().await.map_err(|e| format!("authorize page: {e}"))?;
    let form = serde_urlencoded::to_string([
        ("request", hidden(&html, "request")?.as_str()),
        ("csrf", hidden(&html, "csrf")?.as_str()),
        ("login", login),
        ("password", password),
    ])
    .map_err(|e| e.to_string())?;
    let submitted = browser
        .post(format!("{base}/oauth/login"))
        .header(COOKIE, bridge_jar.header())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| format!("login form: {e}"))?;
    bridge_jar.keep(&submitted);
    let mut next = location(&submitted).ok_or_else(|| {
        format!(
            "the login form answered {} without a redirect",
            submitted.status()
        )
    })?;
    let went_to_ibkr = !next.starts_with(flow.redirect_uri);
    if went_to_ibkr {
        // IBKR's page: the user logs in there and allows the bridge.
        let token = param(&next, "oauth_token").ok_or_else(|| format!("no oauth_token in {next}"))?;
        let page_url = next.split('?').next().unwrap_or_default().to_owned();
        let form = serde_urlencoded::to_string([
            ("oauth_token", token.as_str()),
            ("username", flow.ibkr_user),
            ("password", flow.ibkr_password),
            ("action", "allow"),
        ])
        .map_err(|e| e.to_string())?;
        let allowed = browser
            .post(&page_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| format!("IBKR's page: {e}"))?;
        let callback = location(&allowed)
            .ok_or_else(|| format!("IBKR's page answered {} without a redirect", allowed.status()))?;
        // Back at the bridge: the federated callback, with the bridge's cookies.
        let back = browser
            .get(&callback)
            .header(COOKIE, bridge_jar.header())
            .send()
            .await
            .map_err(|e| format!("callback: {e}"))?;
        bridge_jar.keep(&back);
        next = match location(&back) {
            Some(l) => l,
            None => {
                let status = back.status();
                let text = back.text().await.unwrap_or_default();
                return Err(format!(
                    "the callback answered {status}: {}",
                    text.chars().take(300).collect::<String>()
                ));
            }
        };
    }
    if !next.starts_with(flow.redirect_uri) {
        return Err(format!("not sent back to TradingView: {next}"));
    }
    let code = param(&next, "code").ok_or_else(|| format!("no code in {next}"))?;
    // TradingView's server exchanges the code.
    let form = serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("client_id", flow.client_id),
        ("client_secret", flow.client_secret),
        ("code", code.as_str()),
        ("redirect_uri", flow.redirect_uri),
    ])
    .map_err(|e| e.to_string())?;
    let answer = browser
        .post(format!("{base}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| format!("token endpoint: {e}"))?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.map_err(|e| format!("token answer: {e}"))?;
    let access_token = body["access_token"]
        .as_str()
        .ok_or_else(|| format!("the token endpoint answered {status}: {body}"))?
        .to_owned();
    Ok(Granted {
        access_token,
        went_to_ibkr,
    })
}
