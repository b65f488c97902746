//! The tokens this process verified lately, so that a client polling every second pays for one signature
//! check and one claims decode per token, not per request.
//!
//! Only the pure part of the check is remembered: a token's signature and claims cannot change, so a token
//! once verified stays verified until its expiry, which is judged again on every hit. Everything that can
//! end a token earlier (logout, revocation on another replica, a refresh that retires its generation) is
//! checked per request after this, on the session (`http::extract`), exactly as before. No token text is
//! kept: entries are found by two 64-bit hashes under keys drawn at random per process, so nobody can
//! craft another token that lands on a remembered one.

use super::tokens::Claims;
use crate::sync::RwLockExt;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::RwLock;

/// Most tokens remembered; past it the cache starts over (one extra verification per live token).
pub const CAPACITY: usize = 10_000;

/// Verified tokens by hash.
#[derive(Debug)]
pub struct VerifiedTokens {
    /// Finds the entry.
    slot: RandomState,
    /// Confirms it is the same token (an independent key: both hashes must match).
    check: RandomState,
    map: RwLock<HashMap<u64, (u64, Claims)>>,
    capacity: usize,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl VerifiedTokens {
    /// An empty cache of at most `capacity` tokens.
    pub fn with_capacity(capacity: usize) -> Self {
        VerifiedTokens {
            slot: RandomState::new(),
            check: RandomState::new(),
            map: RwLock::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn keys(&self, token: &str) -> (u64, u64) {
        (self.slot.hash_one(token), self.check.hash_one(token))
    }

    /// The claims of `token` if it was verified here and has not expired at `now` (unix seconds). An
    /// expired one is forgotten.
    pub fn get(&self, token: &str, now: u64) -> Option<Result<Claims, Expired>> {
        let (slot, check) = self.keys(token);
        {
            let map = self.map.read_locked();
            let (c, claims) = map.get(&slot)?;
            if *c != check {
                return None;
            }
            if claims.exp > now {
                return Some(Ok(claims.clone()));
            }
        }
        self.map.write_locked().remove(&slot);
        Some(Err(Expired))
    }

    /// Remembers that `token` verified with `claims`.
    pub fn insert(&self, token: &str, claims: &Claims) {
        let (slot, check) = self.keys(token);
        let mut map = self.map.write_locked();
        if map.len() >= self.capacity && !map.contains_key(&slot) {
            map.clear();
        }
        map.insert(slot, (check, claims.clone()));
    }

    /// Tokens remembered (tests).
    pub fn len(&self) -> usize {
        self.map.read_locked().len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A remembered token reached its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expired;

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "demo".into(),
            sid: "s".into(),
            jti: "j".into(),
            iat: 1,
            exp,
            gen: 0,
        }
    }

    #[test]
    fn a_token_is_remembered_until_its_expiry_and_no_other_token_matches_it() {
        let cache = VerifiedTokens::default();
        assert!(cache.get("a.b.c", 10).is_none());
        cache.insert("a.b.c", &claims(20));
        assert_eq!(cache.get("a.b.c", 19), Some(Ok(claims(20))));
        assert!(
            cache.get("a.b.d", 19).is_none(),
            "another token is not the remembered one"
        );
        assert_eq!(cache.get("a.b.c", 20), Some(Err(Expired)), "expiry is exact");
        assert!(cache.is_empty(), "an expired token is forgotten");
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = VerifiedTokens::with_capacity(3);
        for i in 0..10 {
            cache.insert(&format!("token-{i}"), &claims(100));
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.get("token-9", 1), Some(Ok(claims(100))));
    }
}
