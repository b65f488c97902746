//! The request counter and latency histogram of every route: one middleware, labelled by axum's route
//! template (`/api/accounts/{account_id}/orders`; `unmatched` for unknown paths), the method and the
//! outcome. Handles are cached per route, so a request costs a read lock, a hash lookup and a few atomics,
//! no allocation.

use super::names;
use ::metrics::{Counter, Histogram};
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Marks a response as a TradingView error envelope (`{"s":"error"}`), which answers HTTP 200: the
/// error type sets it, so the middleware need not read bodies.
#[derive(Debug, Clone, Copy)]
pub struct TvError;

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "other",
];
const OUTCOMES: [&str; 4] = ["ok", "tv_error", "4xx", "5xx"];

fn method_index(m: &Method) -> usize {
    match *m {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::DELETE => 3,
        Method::PATCH => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

fn outcome_index(response: &Response) -> usize {
    let status = response.status();
    if status.is_server_error() {
        3
    } else if status.is_client_error() {
        2
    } else if response.extensions().get::<TvError>().is_some() {
        1
    } else {
        0
    }
}

/// The handles of one route: one (counter, histogram) pair per method and outcome, made on first use.
struct RouteHandles {
    route: &'static str,
    slots: [OnceLock<(Counter, Histogram)>; METHODS.len() * OUTCOMES.len()],
}

impl RouteHandles {
    fn new(route: &'static str) -> RouteHandles {
        RouteHandles {
            route,
            slots: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    fn get(&self, method: usize, outcome: usize) -> &(Counter, Histogram) {
        self.slots[method * OUTCOMES.len() + outcome].get_or_init(|| {
            let labels = [
                ("endpoint", self.route),
                ("method", METHODS[method]),
                ("outcome", OUTCOMES[outcome]),
            ];
            (
                ::metrics::counter!(names::HTTP_REQUESTS, &labels),
                ::metrics::histogram!(names::HTTP_DURATION, &labels),
            )
        })
    }
}

/// Route templates seen so far. Bounded by the router's own routes (plus [`UNMATCHED`]).
static ROUTES: RwLock<Option<HashMap<Box<str>, Arc<RouteHandles>>>> = RwLock::new(None);

fn handles(route: &str) -> Arc<RouteHandles> {
    if let Ok(map) = ROUTES.read() {
        if let Some(h) = map.as_ref().and_then(|m| m.get(route)) {
            return h.clone();
        }
    }
    let mut map = ROUTES.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    let map = map.get_or_insert_with(HashMap::new);
    map.entry(route.into())
        .or_insert_with(|| {
            // Leaked once per route template: the router's routes are fixed at start-up.
            let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
            Arc::new(RouteHandles::new(leaked))
        })
        .clone()
}

/// The middleware: counts and times every request by route, method and outcome.
pub async fn track(request: Request, next: Next) -> Response {
    if !super::recorder::installed() {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = method_index(request.method());
    let route = handles(
        request
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, MatchedPath::as_str),
    );
    let response = next.run(request).await;
    let (counter, histogram) = route.get(method, outcome_index(&response));
    counter.increment(1);
    histogram.record(started.elapsed().as_secs_f64());
    response
}
