//! `[store]`: which state store the bridge keeps its sessions, `requestId` outcomes, throttle counters and
//! paper books in, and how it reaches it.

use crate::secret::{Secret, MASK};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The kinds of store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// In this process only: a restart forgets everything (tests, or by explicit choice).
    Memory,
    /// A crash-safe file under `data_dir` (the default): one instance, nothing lost by a restart.
    Embedded,
    /// A Redis server shared by several replicas.
    Redis,
}

/// `[store]`. `Debug` and `Serialize` (`check-config`) print the URL with its password masked.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub kind: StoreKind,
    /// Where the embedded store keeps its file (`tvbridge.redb`), created when missing.
    pub data_dir: PathBuf,
    /// `redis://host:port/db` or `rediss://` for TLS. A password in the URL works, but prefer `password`.
    #[serde(serialize_with = "serialize_masked_url")]
    pub url: String,
    /// The Redis password (`TVBRIDGE__STORE__PASSWORD`), used when the URL carries none.
    pub password: Secret,
    /// The Redis user for ACLs (Redis 6+); empty for the default user.
    pub username: String,
    /// Prefix of every Redis key and channel, so several bridges can share one Redis.
    pub key_prefix: String,
    /// Connections to Redis (each multiplexes many requests).
    pub pool_size: usize,
    /// A Redis command that takes longer fails; the caller refuses what needed it.
    pub timeout_ms: u64,
    /// Connecting (and reconnecting) to Redis gives up after this long per attempt.
    pub connect_timeout_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            kind: StoreKind::Embedded,
            data_dir: PathBuf::from("data"),
            url: String::new(),
            password: Secret::default(),
            username: String::new(),
            key_prefix: "tvbridge:".into(),
            pool_size: 4,
            timeout_ms: 2_000,
            connect_timeout_ms: 3_000,
        }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("kind", &self.kind)
            .field("data_dir", &self.data_dir)
            .field("url", &masked_url(&self.url))
            .field("password", &self.password)
            .field("username", &self.username)
            .field("key_prefix", &self.key_prefix)
            .field("pool_size", &self.pool_size)
            .field("timeout_ms", &self.timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .finish()
    }
}

fn serialize_masked_url<S: serde::Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&masked_url(url))
}

/// `url` with the password of its user-info part replaced by the mask, for messages, logs, `Debug` and
/// `check-config`. Everything between the scheme's `//` and the last `@` is user info (a password may hold
/// an unescaped `@` or `/`); without a `:` in it, the whole part is masked (a bare `redis://secret@host`).
pub fn masked_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some(at) = rest.rfind('@') else {
        return url.to_owned();
    };
    let (user_info, host) = (&rest[..at], &rest[at + 1..]);
    let user = match user_info.split_once(':') {
        Some((user, _)) => format!("{user}:{MASK}"),
        None => MASK.to_owned(),
    };
    format!("{scheme}://{user}@{host}")
}

impl StoreConfig {
    /// What is wrong with these settings, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self.kind {
            StoreKind::Redis if !(self.url.starts_with("redis://") || self.url.starts_with("rediss://")) => {
                out.push(
                    "store.url must be redis://host:port[/db] or rediss://... when store.kind = \"redis\""
                        .into(),
                );
            }
            StoreKind::Redis => {}
            _ if !self.url.is_empty() => out.push(format!(
                "store.url is set but store.kind is \"{}\"; set store.kind = \"redis\" to use it",
                self.kind_name()
            )),
            _ => {}
        }
        if self.kind == StoreKind::Embedded && self.data_dir.as_os_str().is_empty() {
            out.push("store.data_dir must not be empty".into());
        }
        if !(1..=64).contains(&self.pool_size) {
            out.push(format!("store.pool_size must be 1..=64, got {}", self.pool_size));
        }
        if !(10..=60_000).contains(&self.timeout_ms) {
            out.push(format!(
                "store.timeout_ms must be 10..=60000, got {}",
                self.timeout_ms
            ));
        }
        if !(10..=60_000).contains(&self.connect_timeout_ms) {
            out.push(format!(
                "store.connect_timeout_ms must be 10..=60000, got {}",
                self.connect_timeout_ms
            ));
        }
        let prefix_ok = self.key_prefix.len() <= 64 && self.key_prefix.bytes().all(|b| b.is_ascii_graphic());
        if !prefix_ok {
            out.push("store.key_prefix must be at most 64 printable ASCII characters without spaces".into());
        }
        out
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            StoreKind::Memory => "memory",
            StoreKind::Embedded => "embedded",
            StoreKind::Redis => "redis",
        }
    }
}
