//! The data-feed session: whose upstream login serves TradingView's data-feed calls (`/symbol_info`,
//! `/history`, quote streams). Those come from TradingView's servers, not from a logged-in user, so the
//! choice is the operator's (`[backend] data_session`), made once here for every upstream backend.

use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// `backend.data_session`: where the data feed's upstream login comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DataSession {
    /// `"first-login"` (the default): the first bridge session to log in lends its upstream login; when it
    /// logs out, another live session's takes over. A backend's configured credentials still serve while
    /// nobody lends (Capital.com in mapped mode: the first mapped user; OANDA: `data_token_env`).
    #[default]
    FirstLogin,
    /// `"user:<login>"`: always the configured upstream credentials of this mapped user (mapped mode).
    User(String),
    /// `"configured"`: only the backend's own data credentials (OANDA: `data_token_env`).
    Configured,
}

const USER_PREFIX: &str = "user:";

impl TryFrom<String> for DataSession {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        match value.as_str() {
            "first-login" => Ok(DataSession::FirstLogin),
            "configured" => Ok(DataSession::Configured),
            v if v.starts_with(USER_PREFIX) && !v[USER_PREFIX.len()..].trim().is_empty() => {
                Ok(DataSession::User(v[USER_PREFIX.len()..].to_string()))
            }
            v => Err(format!(
                "backend.data_session must be \"first-login\", \"configured\" or \"user:<login>\", got {:?}",
                v.chars().take(64).collect::<String>()
            )),
        }
    }
}

impl From<DataSession> for String {
    fn from(value: DataSession) -> String {
        match value {
            DataSession::FirstLogin => "first-login".into(),
            DataSession::Configured => "configured".into(),
            DataSession::User(login) => format!("{USER_PREFIX}{login}"),
        }
    }
}

/// What a backend offers for [`DataSession::problems`].
#[derive(Debug, Clone, Copy)]
pub struct DataOptions<'a> {
    /// The mapped users' logins, or `None` when the backend is not in mapped mode.
    pub mapped: Option<&'a [&'a str]>,
    /// The key holding the backend's own data credentials and whether it is set; `None` when the backend
    /// has no such key.
    pub configured: Option<(&'a str, bool)>,
    /// The upstream's name, for messages.
    pub upstream: &'a str,
}

impl DataSession {
    /// Problems of the choice against what the backend has, each naming `backend.data_session`.
    pub fn problems(&self, options: DataOptions<'_>) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            DataSession::FirstLogin => {}
            DataSession::User(login) => match options.mapped {
                None => out.push(format!(
                    "backend.data_session = \"user:{login}\" needs backend.login = \"mapped\""
                )),
                Some(logins) if !logins.contains(&login.as_str()) => out.push(format!(
                    "backend.data_session: {login:?} is not a [[backend.users]] login"
                )),
                Some(_) => {}
            },
            DataSession::Configured => match options.configured {
                None => out.push(format!(
                    "backend.data_session = \"configured\": {} has no data credentials of its own; use \
                     \"first-login\" or \"user:<login>\"",
                    options.upstream
                )),
                Some((key, false)) => out.push(format!(
                    "backend.data_session = \"configured\" needs backend.{key}"
                )),
                Some((_, true)) => {}
            },
        }
        out
    }

    /// Whether logged-in sessions lend the data feed their login.
    fn lends(&self) -> bool {
        *self == DataSession::FirstLogin
    }
}

/// Credentials serving the data feed, and where they come from.
#[derive(Debug, Clone)]
struct Source<L> {
    /// The bridge session that lent them (`None`: configured credentials).
    owner: Option<String>,
    /// Who they belong to, for the log (a user's login or the configuration key; never a secret).
    who: String,
    credentials: L,
}

#[derive(Debug)]
struct State<L, D> {
    current: Option<Source<L>>,
    /// Configured credentials used while nobody lends (taken on first use).
    fallback: Option<Source<L>>,
    /// Bumped on every change of `current`, so a session opened with credentials withdrawn meanwhile is
    /// not kept.
    generation: u64,
    session: Option<Arc<D>>,
}

/// Where a backend's data-feed credentials may come from.
#[derive(Debug, Clone)]
pub struct DataSources<L> {
    /// The mapped users' logins and credentials, in configuration order (mapped mode; empty otherwise).
    pub mapped: Vec<(String, L)>,
    /// The backend's own data credentials with the key that configures them, when set.
    pub configured: Option<(String, L)>,
    /// Under `first-login`, whether the first mapped user serves from the start (their credentials need
    /// no login; Capital.com's behaviour) rather than the first login.
    pub first_mapped_serves: bool,
}

/// The data feed's credentials (`L`) and the upstream session opened with them (`D`).
pub struct DataFeed<L, D> {
    upstream: &'static str,
    choice: DataSession,
    /// The refusal while no credentials serve the feed.
    missing: BrokerError,
    state: Mutex<State<L, D>>,
    /// Serialises opening the session, so a burst of data-feed calls opens it once.
    opening: tokio::sync::Mutex<()>,
}

impl<L: Clone, D> DataFeed<L, D> {
    /// The data feed of `upstream` under `choice`: `seed` serves from the start (a mapped user's
    /// credentials), `fallback` only while nobody lends (configured data credentials); each comes with who
    /// it belongs to, for the log. `missing` answers data-feed calls while nothing serves.
    pub fn new(
        upstream: &'static str,
        choice: DataSession,
        seed: Option<(String, L)>,
        fallback: Option<(String, L)>,
        missing: BrokerError,
    ) -> Self {
        let source = |(who, credentials)| Source {
            owner: None,
            who,
            credentials,
        };
        let current = seed.map(source);
        let fallback = fallback.map(source);
        match (&current, &fallback) {
            (Some(s), _) => tracing::info!(data_session = %String::from(choice.clone()), source = %s.who,
                "the {upstream} data feed uses these credentials"),
            (None, Some(f)) => tracing::info!(data_session = %String::from(choice.clone()), source = %f.who,
                "the {upstream} data feed uses the first login's credentials, or these while nobody is logged in"),
            (None, None) => tracing::info!(data_session = %String::from(choice.clone()),
                "the {upstream} data feed uses the first login's credentials"),
        }
        DataFeed {
            upstream,
            choice,
            missing,
            state: Mutex::new(State {
                current,
                fallback,
                generation: 0,
                session: None,
            }),
            opening: tokio::sync::Mutex::new(()),
        }
    }

    /// The data feed `choice` makes of `sources` (a choice naming what the sources lack serves nothing:
    /// configuration checks refuse it at start-up).
    pub fn choose(
        upstream: &'static str,
        choice: DataSession,
        sources: DataSources<L>,
        missing: BrokerError,
    ) -> Self {
        let mapped =
            |(login, credentials): &(String, L)| (format!("mapped user {login}"), credentials.clone());
        let (seed, fallback) = match &choice {
            DataSession::FirstLogin => {
                let first = sources.mapped.first().filter(|_| sources.first_mapped_serves);
                (first.map(mapped), sources.configured)
            }
            DataSession::User(login) => (sources.mapped.iter().find(|(l, _)| l == login).map(mapped), None),
            DataSession::Configured => (sources.configured, None),
        };
        Self::new(upstream, choice, seed, fallback, missing)
    }

    /// A bridge session of `user` logged in: under `first-login` it lends its credentials when nobody does.
    pub fn offer(&self, session_id: &str, user: &str, credentials: impl FnOnce() -> L) {
        if !self.choice.lends() {
            return;
        }
        let mut state = self.lock();
        if state.current.is_none() {
            state.current = Some(Source {
                owner: Some(session_id.to_string()),
                who: format!("user {user}"),
                credentials: credentials(),
            });
            state.generation += 1;
            tracing::info!(user = %user, "the {} data feed now uses this user's login", self.upstream);
        }
    }

    /// Bridge session `session_id` ended. When it lent the feed its credentials, `next` (another live
    /// session: id, user, credentials) takes over, and the session opened with the old credentials is
    /// returned for the caller to close.
    pub fn withdraw(
        &self,
        session_id: &str,
        next: impl FnOnce() -> Option<(String, String, L)>,
    ) -> Option<Arc<D>> {
        let mut state = self.lock();
        let lent = matches!(&state.current, Some(Source { owner: Some(o), .. }) if o == session_id);
        if !lent {
            return None;
        }
        state.current = next().map(|(owner, user, credentials)| Source {
            owner: Some(owner),
            who: format!("user {user}"),
            credentials,
        });
        state.generation += 1;
        match &state.current {
            Some(s) => {
                tracing::info!(source = %s.who, "the {} data feed's lender logged out; another login serves it", self.upstream)
            }
            None => tracing::info!(
                "the {} data feed's lender logged out; no login serves it now",
                self.upstream
            ),
        }
        state.session.take()
    }

    /// The open data-feed session, opening it with `open` from the serving credentials when there is none.
    pub async fn session<F, Fut>(&self, open: F) -> BrokerResult<Arc<D>>
    where
        F: FnOnce(L) -> Fut,
        Fut: Future<Output = BrokerResult<D>>,
    {
        if let Some(s) = self.open_session() {
            return Ok(s);
        }
        let _turn = self.opening.lock().await;
        if let Some(s) = self.open_session() {
            return Ok(s);
        }
        let (source, from_fallback, generation) = {
            let state = self.lock();
            match (&state.current, &state.fallback) {
                (Some(s), _) => (s.clone(), false, state.generation),
                (None, Some(f)) => (f.clone(), true, state.generation),
                (None, None) => return Err(self.missing.clone()),
            }
        };
        let session = Arc::new(open(source.credentials.clone()).await?);
        let mut state = self.lock();
        if state.generation == generation {
            if from_fallback {
                tracing::info!(source = %source.who, "the {} data feed uses the configured credentials", self.upstream);
                state.current = Some(source);
                state.generation += 1;
            }
            state.session = Some(session.clone());
        }
        Ok(session)
    }

    /// The data-feed session if one is open.
    pub fn open_session(&self) -> Option<Arc<D>> {
        self.lock().session.clone()
    }

    /// Forgets the open session (the keep-alive found it idle); the next data-feed call opens another.
    pub fn take_session(&self) -> Option<Arc<D>> {
        self.lock().session.take()
    }

    /// The credentials serving the feed now, if any (tests and diagnostics).
    pub fn credentials(&self) -> Option<L> {
        let state = self.lock();
        state.current.as_ref().map(|s| s.credentials.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<L, D>> {
        self.state.locked()
    }
}

#[cfg(test)]
mod tests;
