//! Client order ids the bridge gives upstream orders (IBKR's `cOID`, OANDA's `clientExtensions.id`), derived
//! from TradingView's `requestId` and the bridge user who sent it.
//!
//! Why derived, not random: a request TradingView resends (or one whose answer was lost) must find the order
//! the first attempt placed, so the id must be the same for the same request. Why the user is in it: bridge
//! users may share one upstream login and account, TradingView's request ids are only unique per user, and a
//! look-up that found another user's order would report an order as placed that never was.

/// Every id the bridge makes starts with this, so its orders are told apart from orders placed elsewhere.
pub const PREFIX: &str = "tvb-";

/// Characters kept from a request id: the ones every upstream accepts in a client id.
fn kept(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

/// The client id of the order bridge user `owner` sent with `request_id`, at most `max_len` characters
/// (at least 40): `tvb-<requestId>-<8 hex digits of the user>` when the request id is short and plain
/// enough, else `tvb-<start of it>-<16 hex digits of user and whole id>` so that ids cut or cleaned to the
/// same text stay apart. Without a request id (a close, a preview), a fresh one.
pub fn derived(owner: &str, request_id: Option<&str>, max_len: usize) -> String {
    let Some(id) = request_id.map(str::trim).filter(|r| !r.is_empty()) else {
        return fresh();
    };
    let room = max_len.max(40) - PREFIX.len();
    let plain: String = id.chars().filter(|c| kept(*c)).take(room - 9).collect();
    if plain.len() == id.len() {
        return format!("{PREFIX}{plain}-{}", owner_mark(owner));
    }
    let mut whole = owner.as_bytes().to_vec();
    whole.push(0);
    whole.extend_from_slice(id.as_bytes());
    let head: String = plain.chars().take(room - 17).collect();
    format!("{PREFIX}{head}-{:016x}", fnv1a(&whole))
}

/// A short mark of bridge user `owner` (8 hex digits of a fixed digest): for upstreams whose client id is
/// kept as TradingView's order id (OANDA), the mark goes beside the id instead of into it, and tells whose
/// order an id found upstream is. Not secret and not reversible to the login in practice.
pub fn owner_mark(owner: &str) -> String {
    format!("{:08x}", fnv1a(owner.as_bytes()) as u32)
}

/// A client id no request names: random, never reused.
pub fn fresh() -> String {
    format!("{PREFIX}{}", uuid::Uuid::new_v4().simple())
}

/// FNV-1a, 64 bits: a digest that is the same in every build and on every machine (unlike the standard
/// library's hasher), so an id derived before a restart is derived again after it.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_request_of_the_same_user_gets_the_same_id_and_other_users_another() {
        let a = derived("alice", Some("req-1"), 40);
        assert_eq!(a, derived("alice", Some("req-1"), 40));
        assert!(
            a.starts_with("tvb-req-1-") && a.len() == "tvb-req-1-".len() + 8,
            "{a}"
        );
        assert_ne!(a, derived("bob", Some("req-1"), 40));
        assert_ne!(a, derived("alice", Some("req-2"), 40));
    }

    #[test]
    fn the_digest_is_fixed_across_builds() {
        // FNV-1a's published test vectors: an id derived before an upgrade is derived again after it.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            derived("alice", Some("r"), 40),
            format!("tvb-r-{:08x}", fnv1a(b"alice") as u32)
        );
    }

    #[test]
    fn long_or_odd_ids_are_cut_cleaned_and_kept_apart_by_a_digest_of_the_whole() {
        for max in [40, 100] {
            let long = "x".repeat(300);
            let longer = format!("{long}y");
            let (a, b) = (derived("u", Some(&long), max), derived("u", Some(&longer), max));
            assert!(a.len() <= max && b.len() <= max, "{a} {b}");
            assert_ne!(a, b);
            let (c, d) = (
                derived("u", Some("a b"), max),
                derived("u", Some("a\u{e9}b"), max),
            );
            assert!(c.chars().all(kept) && d.chars().all(kept), "{c} {d}");
            assert_ne!(c, d, "ids cleaned to the same text stay apart");
            assert_ne!(derived("u", Some("ab"), max), derived("u", Some("a b"), max));
        }
    }

    #[test]
    fn without_a_request_id_every_id_is_new() {
        for none in [None, Some(""), Some("   ")] {
            let id = derived("u", none, 40);
            assert!(id.starts_with(PREFIX) && id.len() == 36, "{id}");
            assert_ne!(id, derived("u", none, 40));
        }
    }
}
