//! The text OAuth 1.0a signs and sends: percent-encoding, the signature base string and the
//! `Authorization: OAuth ...` header, and the parameters of a built request that go into the base string.

use reqwest::header::CONTENT_TYPE;

/// Percent-encodes `s` as RFC 5849 section 3.6 asks: the unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// stay, every other byte of the UTF-8 text becomes `%XX` in upper-case hex: the toolkit's path-segment
/// encoding is exactly that.
pub fn pct(s: &str) -> String {
    crate::upstream::call::segment(s)
}

/// The signature base string `METHOD&pct(url)&pct(k=v&k=v...)`: `url` without its query, the pairs sorted
/// by name then value and joined, then encoded once as a whole. IBKR's guide builds it that way (its
/// example encodes a `|` in a form value once, as `%7C`), rather than encoding each pair first.
pub fn base_string(method: &str, url: &str, pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    let joined = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!("{}&{}&{}", method.to_ascii_uppercase(), pct(url), pct(&joined))
}

/// `OAuth realm="...", k="pct(v)", ...`: the realm first, then the pairs sorted by name, each value
/// percent-encoded and quoted, separated by `, ` as in IBKR's examples.
pub fn authorization_header(realm: &str, pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    let mut out = format!("OAuth realm=\"{}\"", pct(realm));
    for (k, v) in sorted {
        out.push_str(&format!(", {}=\"{}\"", pct(k), pct(v)));
    }
    out
}

/// The URL of `url` as the base string names it: scheme, host, a port only when not the scheme's default,
/// and the path; no query, no fragment.
pub fn url_without_query(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{}:{}{}", url.scheme(), host, port, url.path()),
        None => format!("{}://{}{}", url.scheme(), host, url.path()),
    }
}

/// The request's own parameters that the base string includes: the decoded query pairs and, when the body
/// is `application/x-www-form-urlencoded`, the decoded form pairs. A JSON body is never included.
pub fn request_pairs(req: &reqwest::Request) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = req
        .url()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let bytes = req
            .body()
            .and_then(|b| b.as_bytes())
            .ok_or_else(|| "a streamed form body cannot be signed".to_string())?;
        let form: Vec<(String, String)> =
            serde_urlencoded::from_bytes(bytes).map_err(|e| format!("the form body does not parse: {e}"))?;
        pairs.extend(form);
    }
    Ok(pairs)
}
