//! The IBKR third-party Web API row: `/depth` maps to one `GET /marketdata/snapshot`, signed for the user
//! with their live session token; no cache of the bridge answers it (the quote hub serves `/quotes`, not
//! `/depth`), and IBKR's lock of a resource polled more than once a second is on `/accounts/*` only (the
//! fake keeps its 1 s lock on: previews, orders and account reads would be locked).
//!
//! The bridge user's grant comes as TradingView and a browser get it, over HTTP: the Code flow to the
//! bridge's login page, on to the fake's IBKR authorization page (the form submitted), back through the
//! bridge's federated callback, and the code exchanged for a token. The direct calls are signed by the fakes
//! crate's own consumer (`fakes/tests/ibkr_third_party/client.rs`) with a live session token of its own
//! grant for the same IBKR user, never with the bridge's signer.

use super::tp_consumer::{Consumer, Session};
use super::{bearer, fixed, serve, Backend, Limits, Target, NO_HUB_CACHE};
use anyhow::{anyhow, bail, Context};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;

const ACCOUNT: &str = "U1234567";
const IBKR_USER: (&str, &str) = ("alice", "alice-pass-1");
/// The bridge's public URL as IBKR knows it; the callback is sent to the loopback server instead.
const PUBLIC: &str = "https://bridge.example.com/api";
const CLIENT: &str = "tv-overhead";
const SECRET: &str = "tv-overhead-secret-0123456789";
const REDIRECT: &str = "https://www.tradingview.com/oauth-redirect/overhead";
/// Environment variables only this tool sets (in its own process).
const CONSUMER_KEY_ENV: &str = "TVB_OVERHEAD_TP_CONSUMER_KEY";
const LINK_KEY_ENV: &str = "TVB_OVERHEAD_TP_LINK_KEY";

pub async fn target() -> anyhow::Result<Target> {
    use fakes::ibkr_third_party::{FakeIbkrThirdParty, FakeIbkrThirdPartyOptions};
    let fake = FakeIbkrThirdParty::start(
        FakeIbkrThirdPartyOptions {
            // IBKR's 50 per second over the consumer would be the figure measured otherwise; the 1 s lock
            // of `/accounts/*` stays.
            requests_per_second: 0,
            ..FakeIbkrThirdPartyOptions::default()
        }
        .all_refreshed(),
    )
    .await;
    let c = fake.consumer();
    std::env::set_var(CONSUMER_KEY_ENV, &c.consumer_key);
    // 32 bytes, base64: a throw-away key for this process's memory store.
    std::env::set_var(LINK_KEY_ENV, "b3ZlcmhlYWQtb25seS1saW5rLWtleS0zMi1ieXRlcyE=");
    let text = format!(
        r#"{NO_HUB_CACHE}
[auth]
token_secret = "overhead-tool-token-secret-0123456789abcdef"

[[auth.users]]
login = "demo"
password = "demo"

[oauth]
public_url = "{PUBLIC}"

[[oauth.clients]]
client_id = "{CLIENT}"
name = "TradingView (overhead tool)"
client_secret = "{SECRET}"
redirect_uris = ["{REDIRECT}"]

[backend]
kind = "ibkr-third-party"
base_url = "{base}"
authorize_url = "{authorize}"
consumer_key_env = "{CONSUMER_KEY_ENV}"
signature_key_file = "{sig}"
encryption_key_file = "{enc}"
dh_param_file = "{dh}"
realm = "{realm}"
link_key_env = "{LINK_KEY_ENV}"

[[backend.symbols]]
symbol = "AAPL"
conid = 265598
tradingview = "NASDAQ:AAPL"
"#,
        base = fake.base_url,
        authorize = fake.authorize_url,
        sig = c.signature_key_file.display(),
        enc = c.encryption_key_file.display(),
        dh = c.dh_param_file.display(),
        realm = c.realm,
    );
    let mut config = tvbridge::config::Config::from_toml(&text).map_err(|e| anyhow!("{e}"))?;
    let tvbridge::config::BackendConfig::IbkrThirdParty(tp) = &mut config.backend else {
        bail!("ibkr-third-party configuration expected");
    };
    // IBKR's 50 per second for an OAuth consumer would be the figure measured otherwise (set after the
    // configuration was checked, for this measurement only).
    tp.requests_per_second = 1_000_000;
    let store = Arc::new(tvbridge::store::MemoryStore::new());
    let broker =
        Arc::new(tvbridge::backends::ibkr_third_party::IbkrThirdPartyBroker::start(tp, store).await?);
    let (api, server) = serve(config, broker).await?;
    let token = grant(&api, &fake).await.context("the bridge user's grant")?;

    // The direct side: the same IBKR user's grant, held and signed by the independent consumer.
    // It only signs: the measured requests go through the tool's one client, as the bridge's do.
    let consumer = Consumer::new(&fake);
    let session = consumer.granted(&fake, IBKR_USER.0).await;
    let signer = Arc::new((consumer, session));
    let direct: super::Headers = Arc::new(move |url: &str| sign(&signer.0, &signer.1, url));

    let shared = Arc::new(fake);
    let log_of = shared.clone();
    Ok(Target {
        backend: Backend::IbkrThirdParty,
        bridge_url: format!("{api}/depth?accountId={ACCOUNT}&symbol=AAPL"),
        bridge_headers: fixed(bearer(&token)?),
        why: "/depth reads one market data snapshot (GET /marketdata/snapshot) each time: the quote hub \
              serves /quotes only, and IBKR's 1 s lock is on /accounts/* only",
        upstream_base: shared.base_url.clone(),
        direct_headers: direct,
        limits: Limits::default(),
        log: Box::new(move || {
            log_of
                .requests()
                .into_iter()
                .map(|r| (r.method, r.path, r.query))
                .collect()
        }),
        _keep: vec![Box::new(server), Box::new(shared)],
    })
}

/// The headers of a direct GET of `url`: the consumer's OAuth 1.0a HMAC-SHA256 signature with the live
/// session token (a fresh nonce each time) and the `User-Agent` IBKR requires.
fn sign(consumer: &Consumer, session: &Session, url: &str) -> anyhow::Result<HeaderMap> {
    let mut h = HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        HeaderValue::from_str(&consumer.authorization(session, "GET", url))?,
    );
    h.insert(
        reqwest::header::USER_AGENT,
        HeaderValue::from_static("tvbridge-overhead/direct"),
    );
    Ok(h)
}

/// A browser's cookies, by hand: set ones replace those of the same name.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn keep(&mut self, headers: &HeaderMap) {
        let set = headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .filter_map(|pair| pair.split_once('='));
        for (k, v) in set {
            self.0.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.0.push((k.to_owned(), v.to_owned()));
            }
        }
    }

    fn header(&self) -> anyhow::Result<(HeaderName, HeaderValue)> {
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Ok((reqwest::header::COOKIE, HeaderValue::from_str(&pairs.join("; "))?))
    }
}

/// An answer's status, headers and text.
struct Page {
    status: reqwest::StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Page {
    async fn of(response: reqwest::Response) -> anyhow::Result<Page> {
        Ok(Page {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await?,
        })
    }

    /// Where a redirect goes.
    fn location(&self) -> anyhow::Result<String> {
        if !self.status.is_redirection() {
            bail!(
                "expected a redirect, got {}: {}",
                self.status,
                self.text.chars().take(300).collect::<String>()
            );
        }
        self.headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("a redirect without a Location"))
    }
}

/// The `value` of the `<input>` named `name` in `html`.
fn hidden(html: &str, name: &str) -> anyhow::Result<String> {
    let marker = format!("name=\"{name}\"");
    let at = html
        .find(&marker)
        .ok_or_else(|| anyhow!("the page has no input {name}"))?;
    let start = html[..at].rfind('<').unwrap_or(0);
    let end = at + html[at..].find('>').unwrap_or(html.len() - at);
    let value = html[start..end]
        .split("value=\"")
        .nth(1)
        .ok_or_else(|| anyhow!("the input {name} has no value"))?;
    Ok(value[..value.find('"').unwrap_or(value.len())].to_owned())
}

/// A query parameter of a URL.
fn param(url: &str, name: &str) -> anyhow::Result<String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .ok_or_else(|| anyhow!("no {name} in {url}"))
}

/// The first login of bridge user demo as IBKR user alice, over HTTP as a browser makes it: the access
/// token TradingView gets.
async fn grant(api: &str, fake: &fakes::ibkr_third_party::FakeIbkrThirdParty) -> anyhow::Result<String> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut jar = Jar::default();
    // TradingView sends the browser to the bridge's authorization endpoint.
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", REDIRECT),
        ("scope", "read trade"),
        ("state", "overhead"),
    ])?;
    let page = Page::of(
        browser
            .get(format!("{api}/oauth/authorize?{query}"))
            .send()
            .await?,
    )
    .await?;
    jar.keep(&page.headers);
    if !page.status.is_success() {
        bail!("the login page answered {}: {}", page.status, page.text);
    }
    // The login form: the bridge sends the browser on to IBKR.
    let form = serde_urlencoded::to_string([
        ("request", hidden(&page.text, "request")?.as_str()),
        ("csrf", hidden(&page.text, "csrf")?.as_str()),
        ("login", "demo"),
        ("password", "demo"),
    ])?;
    let (name, value) = jar.header()?;
    let sent = Page::of(
        browser
            .post(format!("{api}/oauth/login"))
            .header(name, value)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await?,
    )
    .await?;
    jar.keep(&sent.headers);
    let to_ibkr = sent.location()?;
    if !to_ibkr.starts_with(&fake.authorize_url) {
        bail!("the login did not go on to IBKR: {to_ibkr}");
    }
    // IBKR's page: alice allows the bridge; IBKR sends her back to the bridge's callback.
    let approved = Page::of(
        browser
            .post(&fake.authorize_url)
            .header(reqwest::header::USER_AGENT, "Mozilla/5.0 (overhead tool)")
            .form(&[
                ("oauth_token", param(&to_ibkr, "oauth_token")?.as_str()),
                ("username", IBKR_USER.0),
                ("password", IBKR_USER.1),
                ("action", "allow"),
            ])
            .send()
            .await?,
    )
    .await?;
    let callback = approved.location()?;
    let local = callback
        .strip_prefix(PUBLIC)
        .ok_or_else(|| anyhow!("IBKR did not send the browser to the bridge: {callback}"))?;
    let (name, value) = jar.header()?;
    let back = Page::of(
        browser
            .get(format!("{api}{local}"))
            .header(name, value)
            .send()
            .await?,
    )
    .await?;
    let to_tradingview = back.location()?;
    let code = param(&to_tradingview, "code")?;
    // TradingView exchanges the code.
    let answer: serde_json::Value = browser
        .post(format!("{api}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await?
        .json()
        .await?;
    answer["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the token endpoint refused the code: {answer}"))
}
