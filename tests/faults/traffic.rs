//! TradingView-like traffic against the bridge: tabs polling orders, positions and state; streams held
//! open and read line by line (reopened when they break); traders placing market and limit buys under
//! `requestId`s, modifying, cancelling and closing. A placement with no answer within the client timeout
//! is sent again with the same `requestId`, as TradingView does, until it is answered or the run's
//! resolve limit passes. Everything the client was told is recorded for the checker.

use crate::checker::{Attempt, Outcome, Recovery, StreamStatus};
use futures_util::StreamExt;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A client gives up waiting for an order's answer after this long and sends it again.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(4);
/// Modifications, cancellations and closes are not resent; the client waits this long for them (IBKR
/// answers a modification after its next order read, which it allows once per 5 s).
pub const CHANGE_TIMEOUT: Duration = Duration::from_secs(10);
/// A placement still unanswered this long after its first send is reported as unknown.
pub const RESOLVE_LIMIT: Duration = Duration::from_secs(30);

/// Counters of what the client did and saw.
#[derive(Default, Debug)]
pub struct Counts {
    pub polls_ok: u64,
    pub polls_failed: u64,
    pub modifies_ok: u64,
    pub modifies_failed: u64,
    pub cancels_ok: u64,
    pub cancels_failed: u64,
    pub closes_ok: u64,
    pub closes_failed: u64,
    pub stream_lines: u64,
    pub stream_reopens: u64,
    pub relogins: u64,
    /// Logins (Code flow) the bridge sent to IBKR's page: 1 (the first) unless a grant was lost.
    pub grants_at_ibkr: u64,
    /// Errors answered to placements, by message (first 80 characters), for the report.
    pub place_errors: std::collections::BTreeMap<String, u32>,
    /// The longest silence between two lines of one open stream: (gap, stream, when it ended).
    pub max_gap: (Duration, usize, Duration),
    /// The slowest reopen of a stream the bridge ended by itself (not after a restart).
    pub slowest_other_reopen: Duration,
    /// Failed modifications, cancellations and closes, each with its answer and when it was sent and
    /// answered (the report groups them by answer and by the fault injected just before).
    pub failed_changes: Vec<FailedChange>,
    /// Failed polls, by answer.
    pub poll_errors: std::collections::BTreeMap<String, u32>,
}

/// A modification, cancellation or close that TradingView would have shown as failed.
#[derive(Debug, Clone)]
pub struct FailedChange {
    /// `modify`, `cancel` or `close`.
    pub action: &'static str,
    /// The answer: `HTTP <status> <errmsg>`, or what happened instead of an answer.
    pub answer: String,
    pub sent: Instant,
    pub answered: Instant,
}

/// What the client recorded.
#[derive(Default)]
pub struct Record {
    pub attempts: Vec<Attempt>,
    pub statuses: Vec<StreamStatus>,
    pub recoveries: Vec<Recovery>,
    pub counts: Counts,
}

/// The client side of a campaign, shared by its tasks.
pub struct Client {
    pub base: String,
    http: reqwest::Client,
    token: Mutex<String>,
    login_form: String,
    login_flow: crate::backends::Login,
    login: String,
    password: String,
    pub account: String,
    instrument: String,
    far_limit: String,
    modified_limit: String,
    qty_step: u64,
    key_base: u64,
    positions: &'static str,
    pub started: Instant,
    pub stop: AtomicBool,
    next_n: AtomicU64,
    run: String,
    pub record: Mutex<Record>,
    /// Acknowledged limit orders not yet cancelled: (orderId, qty).
    working: Mutex<Vec<(String, u64)>>,
    /// Open positions as far as the client can tell: the last listing, plus market orders acknowledged
    /// since (the soak's cap on them keeps the account's state bounded).
    open_positions: AtomicUsize,
    /// Bumped by each bridge restart; `healthy_at` is when the restarted bridge answered /healthz.
    pub restart_seq: AtomicU64,
    pub healthy_at: Mutex<Instant>,
    /// When the last restart began (just before the kill).
    pub restart_began: Mutex<Option<Instant>>,
    /// Per held stream: when its recent lines came (the last 64), newest last.
    pub last_line: Vec<Mutex<std::collections::VecDeque<Instant>>>,
    /// Per held stream: whether it is open now, and how many times it was opened.
    pub held: Vec<AtomicBool>,
    pub opened: Vec<AtomicU64>,
}

/// An HTTP exchange that got no answer.
#[derive(Debug)]
enum NoAnswer {
    Timeout,
    Broken(String),
}

impl Client {
    pub fn new(base: String, setup: &crate::backends::Setup, streams: usize, run: String) -> Client {
        Client {
            base,
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(1))
                .pool_max_idle_per_host(4)
                .build()
                .expect("an HTTP client"),
            token: Mutex::new(String::new()),
            login_form: format!("login={}&password={}&locale=en", setup.login, setup.password),
            login_flow: setup.login_flow.clone(),
            login: setup.login.clone(),
            password: setup.password.clone(),
            account: setup.account.clone(),
            instrument: setup.instrument.to_owned(),
            far_limit: setup.far_limit.to_owned(),
            modified_limit: setup.modified_limit.to_owned(),
            qty_step: setup.qty_step,
            key_base: setup.key_base,
            positions: setup.positions,
            started: Instant::now(),
            stop: AtomicBool::new(false),
            next_n: AtomicU64::new(0),
            run,
            record: Mutex::new(Record::default()),
            working: Mutex::new(Vec::new()),
            open_positions: AtomicUsize::new(0),
            restart_seq: AtomicU64::new(0),
            healthy_at: Mutex::new(Instant::now()),
            restart_began: Mutex::new(None),
            last_line: (0..streams)
                .map(|_| Mutex::new(std::collections::VecDeque::new()))
                .collect(),
            held: (0..streams).map(|_| AtomicBool::new(false)).collect(),
            opened: (0..streams).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn rec(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn token(&self) -> String {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Logs in (again); retried until the bridge answers with a token (it may be restarting).
    pub async fn login(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        if let crate::backends::Login::CodeFlow(flow) = &self.login_flow {
            loop {
                match crate::login::code_flow(&self.base, flow, &self.login, &self.password).await {
                    Ok(granted) => {
                        if granted.went_to_ibkr {
                            self.rec().counts.grants_at_ibkr += 1;
                        }
                        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = granted.access_token;
                        return;
                    }
                    Err(e) => {
                        if std::env::var("TVBRIDGE_FAULTS_DEBUG").is_ok() {
                            eprintln!("DEBUG login t={:?} {e}", self.started.elapsed());
                        }
                        assert!(Instant::now() < deadline, "no login within 60 s: {e}");
                    }
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        loop {
            let r = self
                .exchange(
                    reqwest::Method::POST,
                    "/authorize",
                    Some(self.login_form.clone()),
                    Duration::from_secs(5),
                    false,
                )
                .await;
            if let Ok((200, body)) = &r {
                if let Some(t) = body["d"]["access_token"].as_str() {
                    *self.token.lock().unwrap_or_else(|e| e.into_inner()) = t.to_owned();
                    return;
                }
            }
            assert!(Instant::now() < deadline, "no login within 60 s: {r:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn exchange(
        &self,
        method: reqwest::Method,
        path: &str,
        form: Option<String>,
        timeout: Duration,
        authed: bool,
    ) -> Result<(u16, Value), NoAnswer> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(timeout);
        if authed {
            req = req.bearer_auth(self.token());
        }
        if let Some(f) = form {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(f);
        }
        match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.bytes().await {
                    Ok(b) => Ok((status, serde_json::from_slice(&b).unwrap_or(Value::Null))),
                    Err(e) if e.is_timeout() => Err(NoAnswer::Timeout),
                    Err(e) => Err(NoAnswer::Broken(e.to_string())),
                }
            }
            Err(e) if e.is_timeout() => Err(NoAnswer::Timeout),
            Err(e) => Err(NoAnswer::Broken(e.to_string())),
        }
    }

    /// An authorised call; logs in again once on a 401.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        form: Option<String>,
        timeout: Duration,
    ) -> Result<(u16, Value), NoAnswer> {
        let r = self
            .exchange(method.clone(), path, form.clone(), timeout, true)
            .await;
        if let Ok((401, _)) = r {
            self.rec().counts.relogins += 1;
            self.login().await;
            return self.exchange(method, path, form, timeout, true).await;
        }
        r
    }

    /// One tab: polls orders, positions and state until the run stops.
    pub async fn tab(self: Arc<Self>, seed: u64) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let a = self.account.clone();
        let paths = [
            format!("/accounts/{a}/orders?locale=en"),
            format!("/accounts/{a}/{}?locale=en", self.positions),
            format!("/accounts/{a}/state?locale=en"),
        ];
        while !self.stopped() {
            for p in &paths {
                let r = self
                    .call(reqwest::Method::GET, p, None, Duration::from_secs(5))
                    .await;
                let mut rec = self.rec();
                match &r {
                    Ok((200, b)) if b["s"] == "ok" => rec.counts.polls_ok += 1,
                    other => {
                        rec.counts.polls_failed += 1;
                        let what = match other {
                            Ok((status, b)) => {
                                format!("HTTP {status} {}", b["errmsg"].as_str().unwrap_or_default())
                            }
                            Err(e) => format!("{e:?}"),
                        };
                        *rec.counts
                            .poll_errors
                            .entry(what.chars().take(80).collect())
                            .or_default() += 1;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(rng.gen_range(400..900))).await;
        }
    }

    /// One held stream (`index` in `last_line`): read line by line, reopened when it breaks; order
    /// statuses recorded, and how long a reopen after a bridge restart took to deliver its first line.
    pub async fn stream(self: Arc<Self>, index: usize, kind: &'static str) {
        let path = format!("{}/accounts/{}/stream/{kind}?locale=en", self.base, self.account);
        let mut first_open = true;
        // When the open stream last broke, and the restart count then.
        let mut broke_at = Instant::now();
        let mut seq_before = self.restart_seq.load(Ordering::SeqCst);
        while !self.stopped() {
            let resp = self.http.get(&path).bearer_auth(self.token()).send().await;
            let resp = match resp {
                Ok(r) if r.status() == 200 => r,
                Ok(r) => {
                    if std::env::var("TVBRIDGE_FAULTS_DEBUG").is_ok() {
                        eprintln!(
                            "DEBUG stream {index} t={:?} HTTP {}",
                            self.started.elapsed(),
                            r.status()
                        );
                    }
                    if r.status() == 401 {
                        self.login().await;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => {
                    if std::env::var("TVBRIDGE_FAULTS_DEBUG").is_ok() {
                        eprintln!("DEBUG stream {index} t={:?} {e}", self.started.elapsed());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            if std::env::var("TVBRIDGE_FAULTS_DEBUG").is_ok() {
                eprintln!("DEBUG stream {index} t={:?} open", self.started.elapsed());
            }
            if !first_open {
                self.rec().counts.stream_reopens += 1;
            }
            self.opened[index].fetch_add(1, Ordering::SeqCst);
            self.held[index].store(true, Ordering::SeqCst);
            let mut body = resp.bytes_stream();
            let mut buf: Vec<u8> = Vec::new();
            let mut got_first = false;
            loop {
                if self.stopped() {
                    return;
                }
                let chunk = tokio::time::timeout(Duration::from_millis(500), body.next()).await;
                let chunk = match chunk {
                    Err(_) => continue,
                    Ok(Some(Ok(c))) => c,
                    Ok(Some(Err(_)) | None) => break,
                };
                buf.extend_from_slice(&chunk);
                while let Some(i) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=i).collect();
                    let now = Instant::now();
                    let previous = {
                        let mut times = self.last_line[index].lock().unwrap_or_else(|e| e.into_inner());
                        let previous = times.back().copied();
                        if times.len() >= 64 {
                            times.pop_front();
                        }
                        times.push_back(now);
                        previous
                    };
                    let value: Value = serde_json::from_slice(&line[..line.len() - 1]).unwrap_or(Value::Null);
                    let mut rec = self.rec();
                    rec.counts.stream_lines += 1;
                    if let Some(p) = previous.filter(|_| got_first) {
                        let gap = now - p;
                        if gap > rec.counts.max_gap.0 {
                            rec.counts.max_gap = (gap, index, now - self.started);
                        }
                    }
                    if !got_first && !first_open {
                        // The first line of a reopened stream: after a restart, measured from the moment
                        // the restarted bridge answered /healthz; otherwise from when the stream broke.
                        let seq_now = self.restart_seq.load(Ordering::SeqCst);
                        let healthy = *self.healthy_at.lock().unwrap_or_else(|e| e.into_inner());
                        let began = *self.restart_began.lock().unwrap_or_else(|e| e.into_inner());
                        if seq_now != seq_before || began.is_some_and(|b| broke_at >= b) {
                            // Measured from the restarted bridge's first /healthz answer; a stream back
                            // before the campaign noted that answer took no time at all.
                            let from = if began.is_some_and(|b| healthy > b) {
                                healthy
                            } else {
                                now
                            };
                            rec.recoveries.push(Recovery {
                                after: format!("bridge restart {seq_now} (stream {index} reopened)"),
                                took: now.saturating_duration_since(from),
                                window: Some((from, now)),
                                upstream_errors: 0,
                            });
                        } else {
                            // Ended by the bridge itself (an upstream session gone, say): a figure only,
                            // since the reopen may need a new login.
                            let took = now.saturating_duration_since(broke_at);
                            rec.counts.slowest_other_reopen = rec.counts.slowest_other_reopen.max(took);
                        }
                    }
                    got_first = true;
                    let at = now.duration_since(self.started);
                    let mut orders = Vec::new();
                    collect_orders(&value, &mut orders);
                    for (id, status) in orders {
                        rec.statuses.push(StreamStatus {
                            at,
                            stream: index,
                            order_id: id,
                            status,
                        });
                    }
                }
            }
            self.held[index].store(false, Ordering::SeqCst);
            broke_at = Instant::now();
            seq_before = self.restart_seq.load(Ordering::SeqCst);
            first_open = false;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// One trader: places, modifies, cancels and closes until the run stops.
    /// Trades until stopped. With `cap`, a trader that sees that many working limit orders cancels one
    /// instead of placing another, and one that sees that many open positions closes one instead of
    /// buying at market, so the account's state stays bounded (the soak measures memory).
    pub async fn trader(self: Arc<Self>, seed: u64, cap: Option<usize>) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        while !self.stopped() {
            let roll: u32 = rng.gen_range(0..100);
            let full =
                cap.is_some_and(|cap| self.working.lock().unwrap_or_else(|e| e.into_inner()).len() >= cap);
            let crowded = cap.is_some_and(|cap| self.open_positions.load(Ordering::SeqCst) >= cap);
            match roll {
                0..=24 if crowded => self.close().await,
                0..=24 => self.place("market").await,
                25..=64 if full => self.cancel(&mut rng).await,
                25..=64 => self.place("limit").await,
                65..=79 => self.modify(&mut rng).await,
                80..=91 => self.cancel(&mut rng).await,
                _ => self.close().await,
            }
            tokio::time::sleep(Duration::from_millis(rng.gen_range(100..400))).await;
        }
    }

    async fn place(&self, kind: &'static str) {
        let n = self.next_n.fetch_add(1, Ordering::SeqCst);
        if n >= self.key_base {
            return;
        }
        let qty = self.qty_step * (self.key_base + n);
        let request_id = format!("{}-{n}", self.run);
        let mut form = format!("{}&side=buy&type={kind}&qty={qty}", self.instrument);
        if kind == "limit" {
            form.push_str(&format!("&limitPrice={}", self.far_limit));
        }
        let path = format!(
            "/accounts/{}/orders?locale=en&requestId={request_id}",
            self.account
        );
        let first = Instant::now();
        let mut sends = 0u32;
        let outcome = loop {
            sends += 1;
            let r = self
                .call(reqwest::Method::POST, &path, Some(form.clone()), CLIENT_TIMEOUT)
                .await;
            let last = match r {
                Ok((200, body)) if body["s"] == "ok" => match body["d"]["orderId"].as_str() {
                    Some(id) => break Outcome::Acked(id.to_owned()),
                    None => format!("ok without an orderId: {body}"),
                },
                Ok((200, body)) => {
                    let msg = body["errmsg"].as_str().unwrap_or_default().to_owned();
                    if msg.contains("still being placed") {
                        msg
                    } else if crate::checker::reads_as_unknown(&msg) {
                        // Told the outcome is not known (OANDA v1 cannot look an order up by a client
                        // id): TradingView shows it and does not send the order again.
                        break Outcome::Unknown(msg);
                    } else {
                        break Outcome::Failed(msg);
                    }
                }
                // A bridge that cannot answer now (restarting, overloaded): the client tries again.
                Ok((status, body)) => format!("HTTP {status}: {body}"),
                Err(NoAnswer::Timeout) => "no answer within the client timeout".to_owned(),
                Err(NoAnswer::Broken(e)) => format!("connection broken: {e}"),
            };
            if first.elapsed() > RESOLVE_LIMIT {
                break Outcome::Unknown(last);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        let mut rec = self.rec();
        match &outcome {
            Outcome::Acked(_) if kind == "market" => {
                self.open_positions.fetch_add(1, Ordering::SeqCst);
            }
            Outcome::Acked(id) if kind == "limit" => self
                .working
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((id.clone(), qty)),
            Outcome::Failed(m) | Outcome::Unknown(m) => {
                *rec.counts
                    .place_errors
                    .entry(m.chars().take(80).collect())
                    .or_default() += 1
            }
            _ => {}
        }
        rec.attempts.push(Attempt {
            request_id,
            qty,
            kind,
            resends: sends - 1,
            outcome,
        });
    }

    fn pick_working(&self, rng: &mut rand::rngs::StdRng, remove: bool) -> Option<(String, u64)> {
        let mut w = self.working.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_empty() {
            return None;
        }
        let i = rng.gen_range(0..w.len());
        Some(if remove { w.swap_remove(i) } else { w[i].clone() })
    }

    async fn modify(&self, rng: &mut rand::rngs::StdRng) {
        let Some((id, qty)) = self.pick_working(rng, false) else {
            return;
        };
        let form = format!("qty={qty}&limitPrice={}", self.modified_limit);
        let path = format!("/accounts/{}/orders/{id}?locale=en", self.account);
        let sent = Instant::now();
        let r = self
            .call(reqwest::Method::PUT, &path, Some(form), CHANGE_TIMEOUT)
            .await;
        let ok = matches!(&r, Ok((200, b)) if b["s"] == "ok");
        let mut rec = self.rec();
        if ok {
            rec.counts.modifies_ok += 1;
        } else {
            rec.counts.modifies_failed += 1;
            rec.counts.failed_changes.push(failed("modify", &r, sent));
        }
    }

    async fn cancel(&self, rng: &mut rand::rngs::StdRng) {
        let Some((id, qty)) = self.pick_working(rng, true) else {
            return;
        };
        let path = format!("/accounts/{}/orders/{id}?locale=en", self.account);
        let sent = Instant::now();
        let r = self
            .call(reqwest::Method::DELETE, &path, None, CHANGE_TIMEOUT)
            .await;
        let ok = matches!(&r, Ok((200, b)) if b["s"] == "ok");
        if !ok {
            // Still working as far as the client knows: it may try again later.
            self.working
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((id, qty));
        }
        let mut rec = self.rec();
        if ok {
            rec.counts.cancels_ok += 1;
        } else {
            rec.counts.cancels_failed += 1;
            rec.counts.failed_changes.push(failed("cancel", &r, sent));
        }
    }

    async fn close(&self) {
        let path = format!("/accounts/{}/{}?locale=en", self.account, self.positions);
        let Ok((200, body)) = self.call(reqwest::Method::GET, &path, None, CLIENT_TIMEOUT).await else {
            return;
        };
        let listed = body["d"].as_array().map_or(0, Vec::len);
        self.open_positions.store(listed, Ordering::SeqCst);
        let Some(id) = body["d"]
            .as_array()
            .and_then(|p| p.first())
            .and_then(|p| p["id"].as_str())
        else {
            return;
        };
        let path = format!("/accounts/{}/{}/{id}?locale=en", self.account, self.positions);
        let sent = Instant::now();
        let r = self
            .call(reqwest::Method::DELETE, &path, None, CHANGE_TIMEOUT)
            .await;
        let ok = matches!(&r, Ok((200, b)) if b["s"] == "ok");
        if ok {
            let _ = self
                .open_positions
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        }
        let mut rec = self.rec();
        if ok {
            rec.counts.closes_ok += 1;
        } else {
            rec.counts.closes_failed += 1;
            rec.counts.failed_changes.push(failed("close", &r, sent));
        }
    }

    /// `GET path` answered with `s: ok` (retried for a while: the bridge may be settling); `d`.
    pub async fn get_ok(&self, path: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self
                .call(reqwest::Method::GET, path, None, Duration::from_secs(5))
                .await;
            if let Ok((200, body)) = &r {
                if body["s"] == "ok" {
                    return body["d"].clone();
                }
            }
            assert!(Instant::now() < deadline, "GET {path} failed for 30 s: {r:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

/// A failed change as recorded: its answer in words (numbers of four digits or more, such as order ids,
/// as `#`, so that the same answer about different orders counts as one), bounded.
fn failed(action: &'static str, r: &Result<(u16, Value), NoAnswer>, sent: Instant) -> FailedChange {
    let what = match r {
        Ok((status, b)) => format!("HTTP {status} {}", b["errmsg"].as_str().unwrap_or_default()),
        Err(NoAnswer::Timeout) => "no answer within the client timeout".to_owned(),
        Err(NoAnswer::Broken(e)) => format!("connection broken: {e}"),
    };
    FailedChange {
        action,
        answer: without_ids(&what).chars().take(160).collect(),
        sent,
        answered: Instant::now(),
    }
}

/// `text` with each run of four or more digits replaced by `#`.
fn without_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 4 {
            out.push('#');
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// The (id, status) of every order object in a stream line (a snapshot array, one order, or `{d: ...}`).
pub fn collect_orders(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect_orders(i, out)),
        Value::Object(o) => {
            if let (Some(id), Some(status)) = (o.get("id").and_then(Value::as_str), o.get("status")) {
                let status = match status {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push((id.to_owned(), status));
            } else if let Some(d) = o.get("d") {
                collect_orders(d, out);
            }
        }
        _ => {}
    }
}
