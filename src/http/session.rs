//! `/authorize` and `/logout`: password login that opens a bridge session and issues an access token,
//! throttled per login and client address, audited, and capped per user.

use crate::auth::sessions::REVOKED;
use crate::auth::throttle_shared;
use crate::auth::{Grant, Session, SessionRecord};
use crate::broker::{BridgeUser, BrokerError, Credentials, Login, LoginOutcome, SessionCtx};
use crate::error::{ApiError, ApiResult, TvDone, TvOk};
use crate::http::audit::{self, RequestId};
use crate::http::client_addr::ClientAddr;
use crate::http::extract::{Authed, TvForm};
use crate::http::AppState;
use crate::secret::Secret;
use crate::store::Notice;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use serde::Serialize;
use std::time::Instant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/authorize", post(authorize))
        .route("/logout", post(logout))
}

#[derive(Serialize)]
struct AccessToken {
    access_token: String,
    expiration: u64,
}

/// Longest accepted login name: longer is no login (an e-mail address is at most 254 characters).
const MAX_LOGIN_LEN: usize = 256;

async fn authorize(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    ClientAddr(address): ClientAddr,
    TvForm(f): TvForm,
) -> ApiResult<TvOk<AccessToken>> {
    if !state.config().oauth.password_login {
        return Err(ApiError::bad(
            "Password login is turned off on this bridge (oauth.password_login); log in through OAuth",
        ));
    }
    let login = f.str_req("login")?.to_owned();
    if login.chars().count() > MAX_LOGIN_LEN {
        return Err(ApiError::bad(format!(
            "form field 'login' is too long: at most {MAX_LOGIN_LEN} characters"
        )));
    }
    let password = Secret::new(f.str_exact_req("password")?);
    let session_id = new_session_id();
    let opened = password_login(&state, &request_id, address, login, password, &session_id)
        .await
        .map_err(ApiError::from)?;
    let expiration = state.now() + state.tokens().ttl_secs();
    let session = open_session(&state, &request_id, opened, expiration, Grant::default()).await?;
    let access_token = state
        .tokens()
        .issue_until(&session.ctx.user, &session.ctx.session_id, 0, expiration);
    Ok(TvOk(AccessToken {
        access_token,
        expiration,
    }))
}

/// A new bridge session id (122 random bits).
pub fn new_session_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A login the credentials opened upstream, not yet a bridge session.
pub struct Opened {
    pub session_id: String,
    pub outcome: LoginOutcome,
    /// The bridge user to resume the session as elsewhere (`None` for the upstream's own credentials).
    pub resume_as: Option<String>,
    /// The login as typed, for the audit line.
    pub login: String,
    pub address: Option<std::net::IpAddr>,
}

/// Why a password login failed, told apart for the login page; the API answers each with its text.
#[derive(Debug)]
pub enum LoginRefused {
    /// Wrong login or password (or the upstream refused them).
    Credentials(String),
    /// Too many failures lately.
    Throttled(String),
    /// Anything else (upstream down, state store down): says nothing about the password.
    Unavailable(ApiError),
    /// The password was right, but the backend is federated and this user has not granted the bridge
    /// access at the upstream yet: the login page sends the browser there; the API cannot.
    NeedsGrant(BridgeUser),
}

impl From<LoginRefused> for ApiError {
    fn from(refused: LoginRefused) -> ApiError {
        match refused {
            LoginRefused::Credentials(m) | LoginRefused::Throttled(m) => ApiError::bad(m),
            LoginRefused::Unavailable(e) => e,
            LoginRefused::NeedsGrant(user) => ApiError::bad(format!(
                "{} has not yet allowed this bridge to trade at the broker: log in once through TradingView's login page (OAuth), which sends you to the broker to allow it",
                user.login
            )),
        }
    }
}

/// The password step every login shares (`/authorize` and the OAuth login form): the throttle (checked
/// before anything else, with failures counted by every replica), the bridge password or the upstream's
/// own check, and the audit line of a failure.
pub async fn password_login(
    state: &AppState,
    request_id: &str,
    address: Option<std::net::IpAddr>,
    login: String,
    password: Secret,
    session_id: &str,
) -> Result<Opened, LoginRefused> {
    // Checked before the backend is asked: a throttled guess costs the upstream nothing. Failures counted
    // by other replicas, or before a restart, count here too.
    let store = state.store().as_ref();
    throttle_shared::load(store, state.login_throttle(), &login, address).await;
    let attempt = state
        .login_throttle()
        .begin(&login, address, Instant::now())
        .map_err(|throttled| {
            let message = throttled.message();
            audit::login_throttled(request_id, &login, address, &message);
            LoginRefused::Throttled(message)
        })?;
    let credentials = Credentials {
        login: login.clone(),
        password,
    };
    // Bridge passwords are checked here, once, for every backend that takes bridge users.
    let mut resume_as = None;
    let outcome = match crate::auth::users::resolve(
        state.broker().login_kind(),
        &state.config().auth.users,
        credentials,
    ) {
        Ok(resolved) => {
            if let Login::Bridge(user) = &resolved {
                resume_as = Some(user.login.clone());
                match needs_grant(state, user).await {
                    Ok(false) => {}
                    Ok(true) => {
                        // The password was right: the throttle counts a success.
                        attempt.succeeded(Instant::now());
                        throttle_shared::succeeded(store, &login).await;
                        return Err(LoginRefused::NeedsGrant(user.clone()));
                    }
                    Err(e) => return Err(LoginRefused::Unavailable(e.into())),
                }
            }
            state.broker().login(session_id, &resolved).await
        }
        Err(refused) => Err(refused),
    };
    match outcome {
        Ok(outcome) => {
            attempt.succeeded(Instant::now());
            throttle_shared::succeeded(store, &login).await;
            Ok(Opened {
                session_id: session_id.to_owned(),
                outcome,
                resume_as,
                login,
                address,
            })
        }
        Err(e) => {
            // Only a refusal of the credentials counts against the login; an upstream that is down or
            // busy says nothing about the password.
            let counts = matches!(
                e,
                BrokerError::Rejected(_) | BrokerError::Unauthorized(_) | BrokerError::LogInAgain(_)
            );
            audit::login_failed(request_id, &login, address, &e.to_string());
            if counts {
                attempt.failed(Instant::now());
                throttle_shared::failed(store, &state.config().auth.login_throttle, &login, address).await;
                Err(LoginRefused::Credentials(e.to_string()))
            } else {
                Err(LoginRefused::Unavailable(e.into()))
            }
        }
    }
}

/// Whether `user` must first grant the bridge access at the upstream (a federated backend without a
/// stored grant for them).
async fn needs_grant(state: &AppState, user: &BridgeUser) -> Result<bool, BrokerError> {
    match state.broker().federation() {
        Some(federation) => Ok(!federation.is_linked(&user.login).await?),
        None => Ok(false),
    }
}

/// Opens the upstream side of a bridge user's session without a password: the user's bridge login (a
/// browser session, an OAuth grant) already proved who they are. `None` when the user is no longer
/// configured.
pub async fn open_bridge_user(state: &AppState, login: &str, session_id: &str) -> ApiResult<Option<Opened>> {
    let Some(user) = state.config().auth.users.iter().find(|u| u.login == login) else {
        return Ok(None);
    };
    let bridge_user = BridgeUser {
        login: user.login.clone(),
        display_name: user.name.clone().unwrap_or_else(|| user.login.clone()),
    };
    let outcome = match state
        .broker()
        .login(session_id, &Login::Bridge(bridge_user))
        .await
    {
        Ok(outcome) => outcome,
        Err(BrokerError::Rejected(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(Opened {
        session_id: session_id.to_owned(),
        outcome,
        resume_as: Some(login.to_owned()),
        login: login.to_owned(),
        address: None,
    }))
}

/// Makes a bridge session of an upstream login: lists its accounts, stores the session (living until
/// `expires_at`, with `grant`), ends the user's oldest sessions beyond the cap, and writes the audit line.
pub async fn open_session(
    state: &AppState,
    request_id: &str,
    opened: Opened,
    expires_at: u64,
    grant: Grant,
) -> ApiResult<Session> {
    let Opened {
        session_id,
        outcome,
        resume_as,
        login,
        address,
    } = opened;
    let ctx = SessionCtx {
        session_id,
        user: outcome.user_id.clone(),
    };
    let accounts = match state.broker().accounts(&ctx).await {
        Ok(accounts) => accounts,
        Err(e) => {
            release_upstream(state, &ctx).await;
            return Err(e.into());
        }
    };
    if accounts.is_empty() {
        audit::login_failed(request_id, &login, address, "no trading account");
        release_upstream(state, &ctx).await;
        return Err(ApiError::bad("this login has no trading account"));
    }
    let session = Session {
        ctx,
        display_name: outcome.display_name,
        accounts,
        expires_at,
        grant,
    };
    let ctx = session.ctx.clone();
    let over_cap = match state
        .sessions()
        .insert(session.clone(), resume_as, state.now())
        .await
    {
        Ok(over_cap) => over_cap,
        Err(e) => {
            // Without its record the token would not work on other replicas or after a restart.
            tracing::error!(error = %e, "login: the session could not be stored");
            release_upstream(state, &ctx).await;
            audit::login_failed(request_id, &login, address, "state store unavailable");
            return Err(ApiError::bad(
                "The bridge cannot reach its state store right now; please try logging in again in a moment.",
            ));
        }
    };
    audit::login_ok(request_id, &outcome.user_id, address);
    for old in over_cap {
        tracing::info!(target: audit::TARGET, user = %audit::clean(&outcome.user_id), request_id = %request_id,
            "session limit reached (auth.max_sessions_per_user): ending the user's oldest session");
        // Ended in the background: the new login need not wait for the old session's upstream logout.
        let state = state.clone();
        tokio::spawn(async move {
            if let Some(old) = state.sessions().revoke(&old).await {
                end_session(&state, &old).await;
            }
        });
    }
    Ok(session)
}

/// Logs out the upstream side of a login that did not become a session.
async fn release_upstream(state: &AppState, ctx: &SessionCtx) {
    if let Err(e) = state.broker().logout(ctx).await {
        tracing::warn!(error = %e, "upstream logout after a failed login failed");
    }
}

async fn logout(State(state): State<AppState>, authed: Authed) -> ApiResult<TvDone> {
    let session = authed.0;
    // The token dies whatever the upstream says: a logout the user asked for must take effect.
    state.sessions().revoke(&session.ctx.session_id).await;
    end_session(&state, &session).await;
    Ok(TvDone)
}

/// Opens, in this process, the backend's side of a live session that another process opened (another
/// replica, or this bridge before a restart), so that its token keeps working here. Only sessions of
/// bridge users can be resumed: the upstream's own credentials are never kept.
pub async fn resume(state: &AppState, sid: &str, record: SessionRecord) -> ApiResult<Session> {
    let Some(login) = record.resume_as.clone() else {
        return Err(ApiError::Unauthorized(
            "This session was opened with your broker login on another instance of the bridge (or before it restarted); please log in again".into(),
        ));
    };
    let _one_at_a_time = state.sessions().resume_lock(sid).await;
    if let Some(session) = state.sessions().get_local(sid, state.now()) {
        return Ok(session);
    }
    let gone = || ApiError::Unauthorized("the session has ended; please log in again".into());
    // The user may have been removed from the configuration since: then the session ends here.
    let user = state
        .config()
        .auth
        .users
        .iter()
        .find(|u| u.login == login)
        .ok_or_else(gone)?;
    let bridge_user = BridgeUser {
        login: user.login.clone(),
        display_name: record.display_name.clone(),
    };
    let outcome = state
        .broker()
        .login(sid, &Login::Bridge(bridge_user))
        .await
        .map_err(|e| match e {
            BrokerError::Rejected(_) => gone(),
            other => ApiError::Broker(other),
        })?;
    if outcome.user_id != record.user {
        tracing::warn!("resume: the backend mapped the login to another user; ending the session");
        return Err(gone());
    }
    let ctx = SessionCtx {
        session_id: sid.to_owned(),
        user: record.user.clone(),
    };
    let accounts = state.broker().accounts(&ctx).await?;
    let session = Session {
        ctx,
        display_name: record.display_name,
        accounts,
        expires_at: record.expires_at,
        grant: record.grant,
    };
    state.sessions().attach(session.clone(), state.now());
    tracing::info!(user = %audit::clean(&session.ctx.user), "session resumed in this process");
    Ok(session)
}

/// Ends here the sessions revoked by other processes sharing the store (their logouts, their session
/// caps): streams end with the logout line, hubs stop, the upstream side is released. Runs for the life
/// of the state.
pub fn spawn_revocation_listener(state: &AppState) {
    let mut notices = state.store().subscribe();
    let weak = state.downgrade();
    tokio::spawn(async move {
        while let Some(notice) = crate::store::events::next(&mut notices).await {
            let Some(state) = weak.upgrade() else { return };
            match notice {
                Notice::Message { channel, payload } if &*channel == REVOKED => {
                    let Ok(sid) = std::str::from_utf8(&payload) else {
                        continue;
                    };
                    if let Some(session) = state.sessions().forget_local(sid) {
                        end_session(&state, &session).await;
                    }
                }
                Notice::Gap => state.sessions().recheck_all(),
                Notice::Message { .. } => {}
            }
        }
    });
}

/// Ends a session already removed from the store: its account hubs stop (ending their streams with an
/// error line) and its upstream session is logged out.
pub async fn end_session(state: &AppState, session: &Session) {
    // Streams first: each ends with the logout line (the hubs' own error line would say less).
    state.streams().end_session(&session.ctx.session_id);
    state.hubs().remove_session(&session.ctx.session_id);
    if let Err(e) = state.broker().logout(&session.ctx).await {
        tracing::warn!(error = %e, "upstream logout failed; the bridge session is revoked anyway");
    }
}
