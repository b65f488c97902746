//! Streaming bodies shared by the four streams: chunked NDJSON (one JSON object per line, each ending
//! with `\n`), heartbeats every `heartbeat`, registered for `open_streams`, ended by `drop_streams`,
//! `revoke_token` and dropping the fake (the body just stops, without a final line or error).

use super::state::{Shared, State, StreamConn, StreamMsg, Sub};
use super::wire::{status_error, time1, time20, Api};
use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::sync::watch;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

/// Most streams one token may hold open (OANDA: 20).
pub(super) const MAX_STREAMS: usize = 20;

/// Removes the stream from the registry when its body goes away (client gone or stream ended).
struct Registration {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.shared.lock().streams.remove(&self.id);
    }
}

/// What the body task owns.
struct Task {
    rx: UnboundedReceiver<StreamMsg>,
    ticker: Interval,
    stop: watch::Receiver<bool>,
    sub: Sub,
    registration: Registration,
}

/// The heartbeat line of a stream.
fn heartbeat(st: &State, sub: &Sub) -> String {
    let now = st.now();
    match sub {
        Sub::Pricing { .. } => serde_json::json!({ "type": "HEARTBEAT", "time": time20(now) }),
        Sub::Transactions { account } => {
            let last = st.account_index(account).map_or(0, |a| st.accounts[a].last_id());
            serde_json::json!({
                "type": "HEARTBEAT",
                "lastTransactionID": last.to_string(),
                "time": time20(now),
            })
        }
        Sub::V1Prices { .. } | Sub::V1Events { .. } => {
            serde_json::json!({ "heartbeat": { "time": time1(now) } })
        }
    }
    .to_string()
}

/// Opens a stream for `token`: `initial` lines first, then pushed lines and heartbeats. 429 when the
/// token already holds [`MAX_STREAMS`] streams.
pub(super) fn open(
    shared: &Arc<Shared>,
    st: &mut State,
    token: &str,
    sub: Sub,
    initial: Vec<String>,
) -> Response {
    let api = match sub {
        Sub::V1Prices { .. } | Sub::V1Events { .. } => Api::V1,
        _ => Api::V20,
    };
    if st.streams_of(token) >= MAX_STREAMS {
        return status_error(api, 429);
    }
    let (tx, rx) = unbounded_channel();
    for line in initial {
        let _ = tx.send(StreamMsg::Line(line));
    }
    st.next_stream += 1;
    let id = st.next_stream;
    st.stream_connections += 1;
    st.streams.insert(
        id,
        StreamConn {
            token: token.to_string(),
            sub: sub.clone(),
            tx,
        },
    );
    let mut ticker = interval_at(Instant::now() + shared.heartbeat, shared.heartbeat);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let task = Task {
        rx,
        ticker,
        stop: shared.shutdown.subscribe(),
        sub,
        registration: Registration {
            shared: shared.clone(),
            id,
        },
    };
    let body = futures_util::stream::unfold(task, |mut t| async move {
        let line = {
            let Task {
                rx,
                ticker,
                stop,
                sub,
                registration,
            } = &mut t;
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(StreamMsg::Line(l)) => l,
                    Some(StreamMsg::End) | None => return None,
                },
                _ = ticker.tick() => heartbeat(&registration.shared.lock(), sub),
                _ = stop.wait_for(|s| *s) => return None,
            }
        };
        Some((Ok::<Bytes, Infallible>(Bytes::from(line + "\n")), t))
    });
    ([(CONTENT_TYPE, "application/json")], Body::from_stream(body)).into_response()
}
