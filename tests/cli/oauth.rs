//! OAuth logins outlive the process and span replicas: a Code-flow user whose bridge is killed with
//! SIGKILL and restarted (embedded store) keeps their access token, refresh token and browser login; with
//! two replicas on one Redis, a code issued on one is exchanged on the other, a refresh on either works
//! on both, and a reused refresh token revokes the login on every replica.

use crate::commands::{free_port, Server};
use fakes::redis_server::RedisServer;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const CLIENT: &str = "tv-staging";
const SECRET: &str = "tv-staging-secret-0123456789";
const REDIRECT: &str = "https://www.tradingview.com/oauth-redirect/staging";

/// A configuration file with the demo user and one OAuth client.
fn config_file(dir: &std::path::Path) -> String {
    let path = dir.join("oauth.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[server]
base_path = "/api"

[[auth.users]]
login = "demo"
password = "demo"

[[oauth.clients]]
client_id = "{CLIENT}"
client_secret = "{SECRET}"
redirect_uris = ["{REDIRECT}"]
"#
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

fn start(config: &str, port: u16, env: &[(&str, &str)]) -> Server {
    let listen = format!("127.0.0.1:{port}");
    Server::start_with(&["serve", "--config", config, "--listen", &listen], port, env)
}

/// One request: (status, headers, body).
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    form: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the bridge listens");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = form.unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if form.is_some() {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `name=value` pairs of the `Set-Cookie` headers.
fn cookies(headers: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next().map(str::to_owned))
        .collect()
}

fn hidden(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).expect("the input");
    let start = html[..at].rfind('<').unwrap();
    let tag = &html[start..at + html[at..].find('>').unwrap()];
    let value = tag.split("value=\"").nth(1).unwrap();
    value[..value.find('"').unwrap()].to_owned()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn authorize_path(extra: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", REDIRECT),
        ("state", "s1"),
    ])
    .unwrap();
    format!("/api/oauth/authorize?{query}{extra}")
}

/// The browser part on `port`: the form, the login; returns the code and the browser's cookies.
fn log_in(port: u16) -> (String, String) {
    let (status, headers, page) = request(port, "GET", &authorize_path(""), &[], None);
    assert_eq!(status, 200, "{page}");
    let mut jar = cookies(&headers);
    let form = serde_urlencoded::to_string([
        ("request", hidden(&page, "request")),
        ("csrf", hidden(&page, "csrf")),
        ("login", "demo".into()),
        ("password", "demo".into()),
    ])
    .unwrap();
    let cookie = jar.join("; ");
    let (status, headers, body) = request(
        port,
        "POST",
        "/api/oauth/login",
        &[("Cookie", &cookie)],
        Some(&form),
    );
    assert_eq!(status, 303, "{body}");
    jar.extend(cookies(&headers));
    let location = header(&headers, "location").unwrap();
    (query_param(location, "code").expect("a code"), jar.join("; "))
}

fn token(port: u16, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let body = serde_urlencoded::to_string(form).unwrap();
    let (status, _, text) = request(port, "POST", "/api/oauth/token", &[], Some(&body));
    (status, serde_json::from_str(&text).unwrap_or_default())
}

fn exchange(port: u16, code: &str) -> serde_json::Value {
    let (status, body) = token(
        port,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(status, 200, "{body}");
    body
}

fn refresh(port: u16, refresh_token: &str) -> (u16, serde_json::Value) {
    token(
        port,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_secret", SECRET),
        ],
    )
}

fn accounts_status(port: u16, access: &str) -> u16 {
    let auth = format!("Bearer {access}");
    request(port, "GET", "/api/accounts", &[("Authorization", &auth)], None).0
}

fn text<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[test]
fn a_code_flow_login_survives_a_kill_9_of_the_bridge() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path());
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let port = free_port();
    let mut bridge = start(&config, port, &[("TVBRIDGE__STORE__DATA_DIR", data)]);
    let (code, browser) = log_in(port);
    let tokens = exchange(port, &code);
    assert_eq!(accounts_status(port, text(&tokens, "access_token")), 200);

    bridge.kill_9();
    let _bridge = start(&config, port, &[("TVBRIDGE__STORE__DATA_DIR", data)]);
    // The access token of before still works, the refresh token rotates, the browser login answers
    // prompt=none: nobody logs in again.
    assert_eq!(accounts_status(port, text(&tokens, "access_token")), 200);
    let (status, refreshed) = refresh(port, text(&tokens, "refresh_token"));
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(accounts_status(port, text(&refreshed, "access_token")), 200);
    let (status, headers, _) = request(
        port,
        "GET",
        &authorize_path("&prompt=none"),
        &[("Cookie", &browser)],
        None,
    );
    assert_eq!(status, 303);
    assert!(query_param(header(&headers, "location").unwrap(), "code").is_some());
}

#[test]
fn oauth_logins_span_replicas_and_a_reused_refresh_token_revokes_everywhere() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path());
    let url = redis.url();
    let env = [
        ("TVBRIDGE__STORE__KIND", "redis"),
        ("TVBRIDGE__STORE__URL", url.as_str()),
    ];
    let (a, b) = (free_port(), free_port());
    let _replica_a = start(&config, a, &env);
    let _replica_b = start(&config, b, &env);
    // The code is issued on A and exchanged on B; the tokens work on both.
    let (code, _browser) = log_in(a);
    let first = exchange(b, &code);
    assert_eq!(accounts_status(a, text(&first, "access_token")), 200);
    assert_eq!(accounts_status(b, text(&first, "access_token")), 200);
    // Refreshed on A, used on B.
    let (status, second) = refresh(a, text(&first, "refresh_token"));
    assert_eq!(status, 200, "{second}");
    assert_eq!(accounts_status(b, text(&second, "access_token")), 200);
    // The spent refresh token again, on B: refused, and the login ends on A too, at once or within the
    // replicas' re-check interval.
    let (status, reused) = refresh(b, text(&first, "refresh_token"));
    assert_eq!(status, 400, "{reused}");
    assert_eq!(text(&reused, "error"), "invalid_grant");
    let deadline = Instant::now() + Duration::from_secs(5);
    while accounts_status(a, text(&second, "access_token")) != 401 {
        assert!(
            Instant::now() < deadline,
            "the revoked token still works on replica A"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(accounts_status(b, text(&second, "access_token")), 401);
}
