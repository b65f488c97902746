//! The `requestId` records in the state store, so that idempotency outlives the process and spans replicas.
//!
//! A placement first claims its record (`pending`, with a lease that its owner renews while the upstream
//! call runs), then writes the outcome (`done`). A resend finds the outcome and answers it; a resend that
//! finds another live claim waits for it; a claim whose lease ran out belongs to an attempt that died
//! mid-flight (a crash, a kill -9), and is only retried when the backend finds the first attempt's order by
//! its `requestId` (client order id) instead of placing a second one. Otherwise the record is marked
//! unresolved and the resend refused with what to check: a lost answer is recoverable, a doubled order is
//! not.

use super::{Fingerprint, IdempotencyKey};
use crate::broker::{BrokerError, BrokerResult};
use crate::error::{ApiError, ApiResult};
use crate::store::{self, json, Expect, Store, StoreError};
use crate::tv::PlacedOrder;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long a resend waits at most for a placement running elsewhere before it is told to try again (a
/// client waiting much longer for an answer would give up on its own).
const WAIT_FOR_OTHER: Duration = Duration::from_secs(20);
const POLL_OTHER: Duration = Duration::from_millis(200);

/// One `requestId`'s record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Record {
    /// Being placed by `owner` (an instance id) until at least `lease_until_ms`.
    Pending {
        fingerprint: String,
        owner: String,
        lease_until_ms: u64,
    },
    /// Placed: every resend gets this answer.
    Done {
        fingerprint: String,
        placed: PlacedOrder,
    },
    /// The first attempt died mid-flight and the backend cannot look its order up by `requestId`.
    Unresolved { fingerprint: String },
}

impl Record {
    fn fingerprint(&self) -> &str {
        match self {
            Record::Pending { fingerprint, .. }
            | Record::Done { fingerprint, .. }
            | Record::Unresolved { fingerprint } => fingerprint,
        }
    }
}

/// What the durable layer needs to know of its surroundings.
#[derive(Clone)]
pub struct Durable {
    pub store: Arc<dyn Store>,
    /// This process's id, as the owner of its claims.
    pub instance: String,
    pub ttl: Duration,
    /// How long a claim lives without renewal (renewed every third of it).
    pub lease: Duration,
}

/// How a durable placement ended.
pub enum Placed {
    /// Placed by this call.
    Fresh(PlacedOrder),
    /// Answered from an earlier placement (here or on another replica, before or after a restart).
    Replayed(PlacedOrder),
}

impl Durable {
    /// Runs `place` at most once for `key` across every process sharing the store.
    pub async fn place<F, Fut, L, LFut>(
        &self,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
        place: F,
        lookup: L,
    ) -> ApiResult<Placed>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<PlacedOrder>>,
        L: FnOnce() -> LFut,
        LFut: Future<Output = BrokerResult<Option<String>>>,
    {
        let mut lookup = Some(lookup);
        let rkey = record_key(key);
        let mine = fingerprint.as_str();
        // Long enough for a dead owner's lease to lapse, when it is short, so that one resend resolves it.
        let wait = WAIT_FOR_OTHER.min(self.lease + Duration::from_secs(2));
        let deadline = tokio::time::Instant::now() + wait;
        use crate::metrics::record::idempotency as record;
        let mut waited = false;
        let claimed = loop {
            let now = store::now_ms();
            let current = json::get::<Record>(self.store.as_ref(), &rkey)
                .await
                .map_err(unavailable)?;
            let claim = Record::Pending {
                fingerprint: mine.to_owned(),
                owner: self.instance.clone(),
                lease_until_ms: now + self.lease.as_millis() as u64,
            };
            let expect = match current {
                None => Expect::Absent,
                Some((_, stored)) if stored.fingerprint() != mine => {
                    record("refused_conflict");
                    return Err(conflict(key));
                }
                Some((_, Record::Done { placed, .. })) => return Ok(Placed::Replayed(placed)),
                Some((_, Record::Unresolved { .. })) => {
                    record("refused_unknown");
                    return Err(unresolved(key));
                }
                Some((_, Record::Pending { lease_until_ms, .. })) if lease_until_ms > now => {
                    if !waited {
                        waited = true;
                        record("waited");
                    }
                    if tokio::time::Instant::now() >= deadline {
                        record("refused_pending");
                        return Err(ApiError::bad(format!(
                            "The order with requestId '{}' is still being placed; send it again in a few seconds to get its result",
                            key.request_id
                        )));
                    }
                    tokio::time::sleep(POLL_OTHER).await;
                    continue;
                }
                Some((version, Record::Pending { .. })) => {
                    // The first attempt died mid-flight: its order may or may not exist upstream. Claim
                    // the record first, so that only one resend looks it up.
                    let claimed = json::put(
                        self.store.as_ref(),
                        &rkey,
                        Expect::Version(version),
                        &claim,
                        self.ttl,
                    )
                    .await
                    .map_err(unavailable)?;
                    let Some(claimed) = claimed else { continue };
                    let Some(lookup) = lookup.take() else { continue };
                    tracing::info!(request_id = %key.request_id, account = %key.account,
                        "requestId: an earlier attempt was interrupted; looking its order up before anything is sent");
                    match lookup().await {
                        Ok(Some(order_id)) => {
                            let placed = PlacedOrder {
                                order_id,
                                transaction_id: None,
                            };
                            self.finish(&rkey, mine, &placed, key).await;
                            record("recovered");
                            return Ok(Placed::Replayed(placed));
                        }
                        // Complete answer, no such order: the first attempt never reached the upstream.
                        Ok(None) => break claimed,
                        Err(BrokerError::Unsupported(_)) => {
                            let mark = Record::Unresolved {
                                fingerprint: mine.to_owned(),
                            };
                            json::put(
                                self.store.as_ref(),
                                &rkey,
                                Expect::Version(claimed),
                                &mark,
                                self.ttl,
                            )
                            .await
                            .map_err(unavailable)?;
                            tracing::warn!(request_id = %key.request_id, account = %key.account,
                                "requestId: an earlier attempt was interrupted and the backend cannot look its order up; refusing to place it again");
                            record("refused_unknown");
                            return Err(unresolved(key));
                        }
                        Err(e) => {
                            // Unknown yet: end the claim but keep the record, so that the next resend looks
                            // again (deleting it would let that resend place a second order).
                            let _ = self.lapse(&rkey, mine).await;
                            tracing::warn!(request_id = %key.request_id, error = %e, "requestId: looking up an interrupted attempt failed");
                            return Err(match e {
                                // The backend's own statement about that order (found, but refused at once;
                                // another user's): told as it is.
                                BrokerError::Rejected(_) | BrokerError::NotFound(_) => ApiError::Broker(e),
                                _ => ApiError::bad(format!(
                                    "An earlier attempt of the order with requestId '{}' was not confirmed, and the broker could not be asked whether it was placed (nothing was sent now). Check your orders before placing it again; a resend of this requestId looks again first",
                                    key.request_id
                                )),
                            });
                        }
                    }
                }
            };
            match json::put(self.store.as_ref(), &rkey, expect, &claim, self.ttl)
                .await
                .map_err(unavailable)?
            {
                Some(version) => break version,
                // Someone else wrote in between: look again.
                None => continue,
            }
        };
        let renewal = self.spawn_renewal(rkey.clone(), mine.to_owned(), claimed);
        let outcome = place().await;
        renewal.abort();
        match outcome {
            Ok(placed) => {
                self.finish(&rkey, mine, &placed, key).await;
                Ok(Placed::Fresh(placed))
            }
            Err(e @ ApiError::Broker(BrokerError::OutcomeUnknown(_))) => {
                // The order may exist upstream: keep the id, with its claim lapsed now, so that the resend
                // looks the order up before anything is sent (and answers it, or places it if the
                // upstream settles that it is not there), instead of placing a second one.
                let _ = self.lapse(&rkey, mine).await;
                tracing::warn!(request_id = %key.request_id, account = %key.account,
                    "requestId: the placement's outcome is unknown; a resend will look the order up first");
                Err(e)
            }
            Err(e) => {
                // No order was created (backends settle ambiguous failures before answering, and say
                // `OutcomeUnknown` when they cannot): free the id.
                let _ = self.release(&rkey, mine).await;
                Err(e)
            }
        }
    }

    /// Ends this process's claim at once after a placement whose outcome is unknown, keeping the record
    /// (only if it is still this claim).
    async fn lapse(&self, rkey: &str, fingerprint: &str) -> Result<(), StoreError> {
        let ttl = self.ttl;
        json::update::<Record, ()>(self.store.as_ref(), rkey, |current| match current {
            Some(Record::Pending {
                fingerprint: f,
                owner,
                ..
            }) if f == fingerprint && owner == self.instance => (
                json::Change::Put(
                    Record::Pending {
                        fingerprint: f,
                        owner,
                        lease_until_ms: 0,
                    },
                    ttl,
                ),
                (),
            ),
            _ => (json::Change::Keep, ()),
        })
        .await
    }

    /// Records the outcome. Unconditional: whoever may have claimed the record meanwhile found this same
    /// order by its `requestId`.
    async fn finish(&self, rkey: &str, fingerprint: &str, placed: &PlacedOrder, key: &IdempotencyKey) {
        let done = Record::Done {
            fingerprint: fingerprint.to_owned(),
            placed: placed.clone(),
        };
        if let Err(e) = json::put(self.store.as_ref(), rkey, Expect::Any, &done, self.ttl).await {
            // The order exists; the claim will lapse and a resend will be resolved by lookup.
            tracing::error!(request_id = %key.request_id, order_id = %placed.order_id, error = %e,
                "requestId: the order was placed but its record could not be written");
        }
    }

    /// Keeps the claim alive while the placement runs; stops when aborted or when the claim is lost.
    fn spawn_renewal(
        &self,
        rkey: String,
        fingerprint: String,
        mut version: u64,
    ) -> tokio::task::JoinHandle<()> {
        let (store, owner, ttl, lease) = (self.store.clone(), self.instance.clone(), self.ttl, self.lease);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let claim = Record::Pending {
                    fingerprint: fingerprint.clone(),
                    owner: owner.clone(),
                    lease_until_ms: store::now_ms() + lease.as_millis() as u64,
                };
                match json::put(store.as_ref(), &rkey, Expect::Version(version), &claim, ttl).await {
                    Ok(Some(v)) => version = v,
                    Ok(None) => return,
                    // A store hiccup: try again at the next tick; the lease is three ticks long.
                    Err(_) => {}
                }
            }
        })
    }

    /// Deletes this process's claim after a failed placement (only if it is still a claim).
    async fn release(&self, rkey: &str, fingerprint: &str) -> Result<(), StoreError> {
        json::update::<Record, ()>(self.store.as_ref(), rkey, |current| match current {
            Some(Record::Pending {
                fingerprint: f,
                owner,
                ..
            }) if f == fingerprint && owner == self.instance => (json::Change::Delete, ()),
            _ => (json::Change::Keep, ()),
        })
        .await
    }
}

/// The store key of a `requestId`: user, account and id are user input, so they are hashed.
fn record_key(key: &IdempotencyKey) -> String {
    format!(
        "idem:{}",
        store::digest(&[&key.user, &key.account, &key.request_id])
    )
}

fn unavailable(e: StoreError) -> ApiError {
    crate::metrics::record::idempotency("refused_store");
    tracing::warn!(error = %e, "requestId: the state store is unavailable; refusing the order");
    ApiError::bad(
        "The bridge cannot reach its state store right now, so it cannot make sure this order is not placed twice; nothing was sent. Try again in a moment",
    )
}

fn conflict(key: &IdempotencyKey) -> ApiError {
    ApiError::bad(format!(
        "requestId '{}' was already used for a different order on this account; a new order needs a new requestId",
        key.request_id
    ))
}

fn unresolved(key: &IdempotencyKey) -> ApiError {
    ApiError::bad(format!(
        "An earlier attempt of the order with requestId '{}' was interrupted or not confirmed by the broker, and its outcome is unknown; check your orders and positions before placing it again (with a new requestId)",
        key.request_id
    ))
}
