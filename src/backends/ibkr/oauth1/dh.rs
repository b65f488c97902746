//! The Diffie-Hellman side of IBKR's live session token: the registered group (a hex prime, or the
//! `DH PARAMETERS` PEM file IBKR's self-service portal hands out), the challenge `A = g^a mod p`, and the
//! shared secret `K = B^a mod p` as the bytes IBKR's Java server hashes.

use base64::Engine;
use num_bigint::BigUint;
use rand::RngCore;

/// The registered group: prime `p` and generator `g`.
#[derive(Clone, PartialEq, Eq)]
pub struct DhGroup {
    pub prime: BigUint,
    pub generator: BigUint,
}

impl std::fmt::Debug for DhGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Public values, but long: the size says enough.
        write!(f, "DhGroup({} bits, g={})", self.prime.bits(), self.generator)
    }
}

impl DhGroup {
    /// Reads the prime from `text`: a PEM `DH PARAMETERS` block (PKCS#3: prime, generator, optional
    /// length), or hex digits (whitespace and `:` separators allowed, as `openssl dhparam -text` prints
    /// them). `generator` overrides the PEM's; the default is 2.
    pub fn parse(text: &str, generator: Option<u32>) -> Result<DhGroup, String> {
        let (prime, pem_generator) = if text.contains("-----BEGIN DH PARAMETERS-----") {
            let (p, g) = parse_pem(text)?;
            (p, Some(g))
        } else {
            (parse_hex(text)?, None)
        };
        let generator = match (generator, pem_generator) {
            (Some(g), _) => BigUint::from(g),
            (None, Some(g)) => g,
            (None, None) => BigUint::from(2u32),
        };
        if prime.bits() < 512 {
            return Err(format!("the DH prime has {} bits; IBKR's are 2048", prime.bits()));
        }
        if generator < BigUint::from(2u32) || generator >= prime {
            return Err("the DH generator must lie between 2 and the prime".into());
        }
        Ok(DhGroup { prime, generator })
    }

    /// A fresh challenge with a random 256-bit exponent.
    pub fn challenge(&self) -> DhChallenge {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        self.challenge_with(BigUint::from_bytes_be(&bytes))
    }

    /// The challenge of a given exponent `a` (tests).
    pub fn challenge_with(&self, a: BigUint) -> DhChallenge {
        let public = self.generator.modpow(&a, &self.prime);
        DhChallenge {
            a,
            public,
            group: self.clone(),
        }
    }
}

/// One exchange's secret exponent `a` and public challenge `A`.
pub struct DhChallenge {
    a: BigUint,
    public: BigUint,
    group: DhGroup,
}

impl std::fmt::Debug for DhChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DhChallenge(********)")
    }
}

impl DhChallenge {
    /// `A` in lower-case hex, the `diffie_hellman_challenge` value.
    pub fn challenge_hex(&self) -> String {
        self.public.to_str_radix(16)
    }

    /// `K = B^a mod p` from the server's hex `diffie_hellman_response`, as [`k_bytes`]. A response outside
    /// `2..p-1` would make K guessable (0, 1 or ±1): it is refused.
    pub fn shared_secret(&self, response_hex: &str) -> Result<Vec<u8>, String> {
        let b = BigUint::parse_bytes(response_hex.trim().as_bytes(), 16)
            .ok_or_else(|| "diffie_hellman_response is not hex".to_string())?;
        let p_minus_1 = &self.group.prime - 1u32;
        if b < BigUint::from(2u32) || b >= p_minus_1 {
            return Err("diffie_hellman_response is outside the group".into());
        }
        Ok(k_bytes(&b.modpow(&self.a, &self.group.prime)))
    }
}

/// K as big-endian bytes the way Java's `BigInteger.toByteArray()` gives them, which is what IBKR hashes:
/// a leading 0x00 sign byte when K's bit length is a multiple of 8 (the top bit of the first byte is set).
pub fn k_bytes(k: &BigUint) -> Vec<u8> {
    let bytes = k.to_bytes_be();
    if k.bits().is_multiple_of(8) {
        let mut signed = Vec::with_capacity(bytes.len() + 1);
        signed.push(0);
        signed.extend_from_slice(&bytes);
        signed
    } else {
        bytes
    }
}

fn parse_hex(text: &str) -> Result<BigUint, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    let digits = digits.strip_prefix("0x").unwrap_or(&digits);
    if digits.is_empty() {
        return Err("the DH prime is empty".into());
    }
    BigUint::parse_bytes(digits.as_bytes(), 16).ok_or_else(|| "the DH prime is not hex".to_string())
}

/// `SEQUENCE { INTEGER prime, INTEGER generator, INTEGER length OPTIONAL }` inside the PEM block.
fn parse_pem(text: &str) -> Result<(BigUint, BigUint), String> {
    let body = text
        .split("-----BEGIN DH PARAMETERS-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END DH PARAMETERS-----").next())
        .ok_or("the DH PARAMETERS block has no end line")?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| "the DH PARAMETERS block is not base64")?;
    let mut outer = Der(&der);
    let mut seq = Der(outer.take(0x30)?);
    let prime = BigUint::from_bytes_be(seq.take(0x02)?);
    let generator = BigUint::from_bytes_be(seq.take(0x02)?);
    Ok((prime, generator))
}

/// A minimal DER reader: enough for the two integers of PKCS#3.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The contents of the next element, which must carry `tag`.
    fn take(&mut self, tag: u8) -> Result<&'a [u8], String> {
        const BAD: &str = "the DH PARAMETERS block is not PKCS#3 DER";
        let (&found, rest) = self.0.split_first().ok_or(BAD)?;
        if found != tag {
            return Err(BAD.into());
        }
        let (&first, mut rest) = rest.split_first().ok_or(BAD)?;
        let len = if first < 0x80 {
            first as usize
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return Err(BAD.into());
            }
            let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return Err(BAD.into());
        }
        let (contents, after) = rest.split_at(len);
        self.0 = after;
        Ok(contents)
    }
}
