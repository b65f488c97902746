//! ServerOAuth2Bearer: verifying the RS256 JWT assertion TradingView's servers present at the token endpoint.
//!
//! The operator registers an X.509 certificate with TradingView and gives the bridge the same certificate.
//! TradingView then signs, with the certificate's private key, a JWT whose header names that certificate by
//! its SHA-1 thumbprint (`x5t`) and whose claims say which client (`iss`), which token endpoint (`aud`) and
//! which user (`sub`) the token is wanted for. This module checks all of that and nothing else: it fetches
//! nothing (`x5u`, `jku`, `jwk` and `x5c` headers are ignored; the only key is the pinned certificate's), and
//! it keeps no state (replay within the assertion's lifetime is for the caller's token policy).
//!
//! Every error's Display is one line without `"` or `\`, fit for an OAuth `error_description` (RFC 6749
//! §5.2 allows neither), and never repeats the token or anything secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use rsa::pkcs1::der::Decode as _;
use rsa::traits::PublicKeyParts as _;
use serde::Deserialize;
use serde_json::Value;
use sha1::{Digest as _, Sha1};
use x509_cert::Certificate;

/// Larger assertions are refused before any parsing: TradingView's are a few hundred bytes, and nothing
/// legitimate needs more than this, while parsing and hashing attacker-sized input costs the bridge.
pub const MAX_ASSERTION_BYTES: usize = 8 * 1024;

/// The longest `sub` accepted: it becomes the user id of the issued token and ends up in logs and keys.
pub const MAX_SUBJECT_CHARS: usize = 256;

/// RS256 through ring (jsonwebtoken's backend) verifies moduli of 2048 to 8192 bits only; a key outside that
/// range could never verify, so it is refused when the certificate is loaded rather than at every request.
const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 8192;

/// The checker for one registered certificate, client id and token endpoint.
pub struct AssertionVerifier {
    key: DecodingKey,
    sha1: [u8; 20],
    thumbprint: String,
    client_id: String,
    audience: String,
    leeway_secs: u64,
    /// The certificate's notAfter, unix seconds: a bridge that runs past it refuses assertions as a restart
    /// would refuse the certificate.
    not_after: u64,
}

/// What a verified assertion asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// `sub`: the TradingView user the token is for.
    pub subject: String,
    /// `spurl`: the broker's app URL, when TradingView sent one.
    pub app_url: Option<String>,
    /// `exp`, unix seconds.
    pub expires_at: u64,
}

/// Why an assertion was refused. All of them are the token endpoint's `invalid_grant` (RFC 7523 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("the assertion is larger than {max} bytes", max = MAX_ASSERTION_BYTES)]
    TooLarge,
    #[error("the assertion is not a signed JWT: {0}")]
    Malformed(&'static str),
    /// Carries the header's `alg` when it is a short plain name, otherwise a placeholder.
    #[error("the assertion's alg is {0}; only RS256 is accepted")]
    UnsupportedAlgorithm(String),
    #[error("the assertion has a crit header, which this server does not support")]
    CriticalHeader,
    #[error("the assertion's header has no x5t certificate thumbprint")]
    MissingThumbprint,
    #[error("the assertion's x5t does not match the certificate registered with TradingView")]
    ThumbprintMismatch,
    #[error("the assertion's signature does not verify with the certificate registered with TradingView")]
    BadSignature,
    #[error("the certificate registered with TradingView has expired; the operator must register a new one")]
    CertificateExpired,
    #[error("the assertion has no {0} claim")]
    MissingClaim(&'static str),
    #[error("the assertion's {claim} claim {reason}")]
    InvalidClaim {
        claim: &'static str,
        reason: &'static str,
    },
    #[error("the assertion's iss is not this server's client id")]
    WrongIssuer,
    #[error("the assertion's aud does not name this token endpoint")]
    WrongAudience,
    #[error("the assertion has expired")]
    Expired,
    #[error("the assertion's {0} is in the future")]
    NotYetValid(&'static str),
}

impl AssertionError {
    /// The OAuth error code for the token endpoint's response.
    pub fn oauth_error(&self) -> &'static str {
        "invalid_grant"
    }
}

impl std::fmt::Debug for AssertionVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionVerifier")
            .field("thumbprint", &self.thumbprint)
            .field("client_id", &self.client_id)
            .field("audience", &self.audience)
            .field("leeway_secs", &self.leeway_secs)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl AssertionVerifier {
    /// From the PEM certificate the operator registered with TradingView (one CERTIFICATE block; an RSA
    /// key), checked against the current time.
    pub fn from_certificate_pem(
        pem: &str,
        client_id: &str,
        audience: &str,
        leeway_secs: u64,
    ) -> Result<Self, String> {
        Self::from_certificate_pem_at(pem, client_id, audience, leeway_secs, unix_now())
    }

    /// As [`Self::from_certificate_pem`], with the current time given (unix seconds).
    pub fn from_certificate_pem_at(
        pem: &str,
        client_id: &str,
        audience: &str,
        leeway_secs: u64,
        now_secs: u64,
    ) -> Result<Self, String> {
        if client_id.is_empty() {
            return Err("the ServerOAuth2Bearer client id is empty".into());
        }
        if audience.is_empty() {
            return Err("the ServerOAuth2Bearer audience (the token URL) is empty".into());
        }
        let der = certificate_der(pem)?;
        let cert = Certificate::from_der(&der)
            .map_err(|e| format!("the certificate PEM does not hold a valid X.509 certificate: {e}"))?;

        let validity = &cert.tbs_certificate.validity;
        let not_before = validity.not_before.to_unix_duration().as_secs();
        let not_after = validity.not_after.to_unix_duration().as_secs();
        if now_secs < not_before {
            return Err(format!(
                "the certificate is not valid before {} (now {})",
                rfc3339(not_before),
                rfc3339(now_secs)
            ));
        }
        if now_secs >= not_after {
            return Err(format!(
                "the certificate expired at {} (now {}); make and register a new one",
                rfc3339(not_after),
                rfc3339(now_secs)
            ));
        }

        let key = rsa_key(&cert)?;
        let sha1: [u8; 20] = Sha1::digest(&der).into();
        Ok(Self {
            key,
            sha1,
            thumbprint: URL_SAFE_NO_PAD.encode(sha1),
            client_id: client_id.to_owned(),
            audience: audience.to_owned(),
            leeway_secs,
            not_after,
        })
    }

    /// The certificate's `x5t`: base64url (no padding) of the SHA-1 of its DER, as RFC 7515 §4.1.7 defines it.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The same SHA-1 in lowercase hex, the form TradingView's documentation example resembles.
    pub fn thumbprint_hex(&self) -> String {
        hex(&self.sha1)
    }

    /// Checks one assertion at `now_secs` (unix seconds). The order matters: size, shape, `alg`, `x5t` and
    /// only then the signature, and the claims only once the signature holds.
    pub fn verify(&self, assertion: &str, now_secs: u64) -> Result<Assertion, AssertionError> {
        if assertion.len() > MAX_ASSERTION_BYTES {
            return Err(AssertionError::TooLarge);
        }
        if assertion.is_empty() {
            return Err(AssertionError::Malformed("it is empty"));
        }
        if now_secs >= self.not_after {
            return Err(AssertionError::CertificateExpired);
        }
        let mut parts = assertion.split('.');
        let (header_b64, payload_b64, signature_b64) =
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(h), Some(p), Some(s), None) => (h, p, s),
                _ => {
                    return Err(AssertionError::Malformed(
                        "it does not have three dot-separated parts",
                    ))
                }
            };

        let header: Header = json_object(header_b64, "its header is not a base64url-encoded JSON object")?;
        match &header.alg {
            Some(Value::String(alg)) if alg == "RS256" => {}
            Some(other) => return Err(AssertionError::UnsupportedAlgorithm(printable_alg(other))),
            None => return Err(AssertionError::Malformed("its header has no alg")),
        }
        // RFC 7515 §4.1.11: a recipient that does not understand a listed extension must refuse; this one
        // understands none.
        if header.crit.is_some() {
            return Err(AssertionError::CriticalHeader);
        }
        match &header.x5t {
            None => return Err(AssertionError::MissingThumbprint),
            Some(Value::String(x5t)) if self.thumbprint_matches(x5t) => {}
            Some(Value::String(_)) => return Err(AssertionError::ThumbprintMismatch),
            Some(_) => return Err(AssertionError::Malformed("its x5t is not a string")),
        }

        if URL_SAFE_NO_PAD.decode(signature_b64).is_err() {
            return Err(AssertionError::Malformed("its signature is not base64url"));
        }
        // The signed input is the first two segments exactly as sent.
        let signed_len = header_b64.len() + 1 + payload_b64.len();
        let signed = &assertion.as_bytes()[..signed_len];
        // The algorithm is fixed here, never taken from the header: that is what makes HS256-with-the-public-
        // key (key confusion) and `none` impossible rather than merely refused above.
        match jsonwebtoken::crypto::verify(signature_b64, signed, &self.key, Algorithm::RS256) {
            Ok(true) => {}
            Ok(false) | Err(_) => return Err(AssertionError::BadSignature),
        }

        let claims: Claims = json_object(payload_b64, "its payload is not a base64url-encoded JSON object")?;
        self.check_claims(claims, now_secs)
    }

    fn check_claims(&self, claims: Claims, now: u64) -> Result<Assertion, AssertionError> {
        match claims.iss {
            None => return Err(AssertionError::MissingClaim("iss")),
            Some(Value::String(iss)) if iss == self.client_id => {}
            Some(Value::String(_)) => return Err(AssertionError::WrongIssuer),
            Some(_) => return Err(invalid("iss", "is not a string")),
        }
        match claims.aud {
            None => return Err(AssertionError::MissingClaim("aud")),
            Some(Value::String(aud)) if aud == self.audience => {}
            Some(Value::String(_)) => return Err(AssertionError::WrongAudience),
            Some(Value::Array(auds)) => {
                if auds.iter().any(|a| !a.is_string()) {
                    return Err(invalid("aud", "is not a string or an array of strings"));
                }
                if !auds.iter().any(|a| a.as_str() == Some(self.audience.as_str())) {
                    return Err(AssertionError::WrongAudience);
                }
            }
            Some(_) => return Err(invalid("aud", "is not a string or an array of strings")),
        }

        let exp = match claims.exp {
            None => return Err(AssertionError::MissingClaim("exp")),
            // A fractional exp is rounded down: the earlier of the two readings.
            Some(v) => numeric_date(&v, f64::floor).ok_or_else(|| invalid("exp", "is not a NumericDate"))?,
        };
        // RFC 7519 §4.1.4: not accepted on or after exp.
        if now >= exp.saturating_add(self.leeway_secs) {
            return Err(AssertionError::Expired);
        }
        for (name, value) in [("nbf", &claims.nbf), ("iat", &claims.iat)] {
            if let Some(v) = value {
                // Rounded up: the later reading, so a fraction never makes a future time look present.
                let t = numeric_date(v, f64::ceil).ok_or_else(|| invalid(name, "is not a NumericDate"))?;
                if t > now.saturating_add(self.leeway_secs) {
                    return Err(AssertionError::NotYetValid(name));
                }
            }
        }

        let subject = match claims.sub {
            None => return Err(AssertionError::MissingClaim("sub")),
            Some(Value::String(sub)) => sub,
            Some(_) => return Err(invalid("sub", "is not a string")),
        };
        if subject.is_empty() {
            return Err(invalid("sub", "is empty"));
        }
        if subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(invalid("sub", "is longer than 256 characters"));
        }
        // The subject becomes a user id in logs and store keys: no line breaks or other control characters.
        if subject.chars().any(char::is_control) {
            return Err(invalid("sub", "contains control characters"));
        }

        let app_url = match claims.spurl {
            None => None,
            Some(Value::String(url)) => Some(url),
            Some(_) => return Err(invalid("spurl", "is not a string")),
        };
        Ok(Assertion {
            subject,
            app_url,
            expires_at: exp,
        })
    }

    /// `x5t` as RFC 7515 has it (base64url SHA-1, padding tolerated), or the 40-digit hex SHA-1 of
    /// TradingView's example, in either case.
    fn thumbprint_matches(&self, x5t: &str) -> bool {
        let presented = if x5t.len() == 40 && x5t.bytes().all(|b| b.is_ascii_hexdigit()) {
            unhex(x5t)
        } else {
            URL_SAFE_NO_PAD.decode(x5t.strip_suffix('=').unwrap_or(x5t)).ok()
        };
        presented.is_some_and(|bytes| bytes == self.sha1)
    }
}

/// The JOSE header fields this module reads. Values stay untyped so that a wrong type gets its own error,
/// while serde still refuses a duplicated `alg`, `x5t` or `crit` (a parser-differential trick).
#[derive(Deserialize)]
struct Header {
    alg: Option<Value>,
    x5t: Option<Value>,
    crit: Option<Value>,
}

/// The claims this module reads; others are ignored. As with [`Header`], duplicates are refused.
#[derive(Deserialize)]
struct Claims {
    iss: Option<Value>,
    sub: Option<Value>,
    aud: Option<Value>,
    exp: Option<Value>,
    nbf: Option<Value>,
    iat: Option<Value>,
    spurl: Option<Value>,
}

fn invalid(claim: &'static str, reason: &'static str) -> AssertionError {
    AssertionError::InvalidClaim { claim, reason }
}

/// Decodes one base64url segment holding a JSON object. A JSON array would also fill a derived struct, so
/// the object shape is checked first.
fn json_object<T: for<'de> Deserialize<'de>>(segment: &str, what: &'static str) -> Result<T, AssertionError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AssertionError::Malformed(what))?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AssertionError::Malformed(what));
    }
    serde_json::from_slice(&bytes).map_err(|_| AssertionError::Malformed(what))
}

/// A JWT NumericDate (RFC 7519 §2): non-negative seconds, possibly fractional; `round` picks the safe side.
fn numeric_date(value: &Value, round: fn(f64) -> f64) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let f = value.as_f64()?;
    // `as` saturates, so an absurdly large date stays absurdly large instead of wrapping.
    (f.is_finite() && f >= 0.0).then(|| round(f) as u64)
}

/// The header's `alg` for the error message, only when it is a short plain name (no quoting, no echo of
/// arbitrary attacker text).
fn printable_alg(alg: &Value) -> String {
    match alg.as_str() {
        Some(s)
            if !s.is_empty()
                && s.len() <= 16
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            s.to_owned()
        }
        _ => "not a supported value".to_owned(),
    }
}

/// The DER of the one CERTIFICATE block in `pem`. Text around the block (openssl's "Bag Attributes",
/// comments) is ignored, but a second block of any kind is refused: a chain leaves unclear which certificate
/// TradingView holds, and a private key does not belong in the bridge at all.
fn certificate_der(pem: &str) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN ";
    let labels: Vec<&str> = pem
        .match_indices(BEGIN)
        .map(|(i, _)| {
            let rest = &pem[i + BEGIN.len()..];
            rest.find("-----").map_or("", |end| &rest[..end])
        })
        .collect();
    match labels.as_slice() {
        [] => return Err("the certificate file holds no PEM block (expected -----BEGIN CERTIFICATE-----)".into()),
        ["CERTIFICATE"] => {}
        [label] if label.contains("PRIVATE KEY") => {
            return Err("the certificate file holds a private key; give the bridge only the certificate".into())
        }
        [label] => return Err(format!("the certificate file holds a {label} block, not a CERTIFICATE")),
        more if more.iter().any(|l| l.contains("PRIVATE KEY")) => {
            return Err(
                "the certificate file also holds a private key; give the bridge only the certificate".into()
            )
        }
        more => {
            return Err(format!(
                "the certificate file holds {} PEM blocks; give exactly the one CERTIFICATE registered with TradingView",
                more.len()
            ))
        }
    }
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN).unwrap_or(0);
    let end = pem[start..]
        .find(END)
        .map(|i| start + i + END.len())
        .ok_or("the certificate PEM has no -----END CERTIFICATE----- line")?;
    let (_, der) = x509_cert::der::pem::decode_vec(&pem.as_bytes()[start..end])
        .map_err(|e| format!("the certificate PEM is not valid base64 PEM: {e}"))?;
    Ok(der)
}

/// The certificate's RSA public key as jsonwebtoken wants it, refusing any other key type or an RSA size
/// RS256 cannot verify with.
fn rsa_key(cert: &Certificate) -> Result<DecodingKey, String> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
        return Err(format!(
            "the certificate's key is not an RSA key (algorithm {}); TradingView signs assertions with RS256, \
             so the certificate needs an RSA key",
            spki.algorithm.oid
        ));
    }
    let raw = spki
        .subject_public_key
        .as_bytes()
        .ok_or("the certificate's RSA public key is not a whole number of bytes")?;
    let pkcs1 = rsa::pkcs1::RsaPublicKey::from_der(raw)
        .map_err(|e| format!("the certificate's RSA public key does not parse: {e}"))?;
    let n = rsa::BigUint::from_bytes_be(pkcs1.modulus.as_bytes());
    let e = rsa::BigUint::from_bytes_be(pkcs1.public_exponent.as_bytes());
    // rsa checks the exponent's range and the modulus' upper size; the lower bound is ours.
    let key = rsa::RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS)
        .map_err(|e| format!("the certificate's RSA public key is not usable: {e}"))?;
    let bits = key.n().bits();
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "the certificate's RSA key has {bits} bits; RS256 here needs {MIN_RSA_BITS} to {MAX_RSA_BITS}"
        ));
    }
    Ok(DecodingKey::from_rsa_raw_components(
        &key.n().to_bytes_be(),
        &key.e().to_bytes_be(),
    ))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn rfc3339(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(|| format!("{secs} (unix seconds)"), |t| t.to_rfc3339())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests;
