//! The OAuth 1.0a text as IBKR's guide defines it, as the server rebuilds it: percent-encoding, the
//! `Authorization: OAuth ...` header's pairs, and the signature base string.

use std::collections::BTreeMap;

/// RFC 5849 percent-encoding: unreserved characters stay, every other byte becomes `%XX` (upper case).
pub fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result is not UTF-8.
pub fn pct_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The pairs of an `OAuth k="v", k="v"` header, values decoded. `None` when it is not an OAuth header or a
/// pair is malformed or repeated.
pub fn parse_oauth_header(value: &str) -> Option<BTreeMap<String, String>> {
    let rest = value.trim().strip_prefix("OAuth ")?;
    let mut pairs = BTreeMap::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let v = v.strip_prefix('"')?.strip_suffix('"')?;
        if pairs.insert(pct_decode(k)?, pct_decode(v)?).is_some() {
            return None;
        }
    }
    Some(pairs)
}

/// `METHOD&pct(url)&pct(sorted k=v joined by &)`: every pair once, the list encoded once as a whole, as in
/// the guide's examples.
pub fn base_string(method: &str, url: &str, pairs: &[(String, String)]) -> String {
    let mut sorted = pairs.to_vec();
    sorted.sort();
    let list: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{method}&{}&{}", pct(url), pct(&list.join("&")))
}
