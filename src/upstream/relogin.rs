//! The re-login rule of upstream sessions that can be re-established (Capital.com's; an OANDA token cannot
//! be, so a refused one goes straight to the 401): a call the upstream refuses because the session is gone
//! (a 401) logs in again once and is repeated, which is safe even for a write because the refusal proves it
//! was not carried out; a second refusal of the same call ends it, and the backend answers a TradingView 401
//! (or, when the operator's configured credentials were refused, a refusal naming them). [`ReloginOnce`] is
//! the budget for call loops that also retry other failures (Capital.com's); [`with_relogin`] the whole
//! rule for calls that retry nothing else.

use std::future::Future;

/// One call's re-login budget.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReloginOnce {
    relogged: bool,
}

/// What to do after the upstream refused the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRefusal {
    /// Log in again and repeat the call.
    Relogin,
    /// The call was refused after a fresh login already: give up.
    GiveUp,
}

impl ReloginOnce {
    /// Spends the budget: the first refusal re-logs in, any later one gives up.
    pub fn refused(&mut self) -> AfterRefusal {
        if self.relogged {
            AfterRefusal::GiveUp
        } else {
            self.relogged = true;
            AfterRefusal::Relogin
        }
    }
}

/// Runs `call`; when it fails with a refusal of the session (`is_refusal`), runs `relogin` and repeats the
/// call, once. A second refusal is passed through `refused_again` (the backend's "log in again" answer);
/// any other failure, or a failed re-login, is returned as it is.
pub async fn with_relogin<T, E, C, CFut, R, RFut>(
    mut call: C,
    is_refusal: impl Fn(&E) -> bool,
    mut relogin: R,
    refused_again: impl FnOnce(E) -> E,
) -> Result<T, E>
where
    C: FnMut() -> CFut,
    CFut: Future<Output = Result<T, E>>,
    R: FnMut() -> RFut,
    RFut: Future<Output = Result<(), E>>,
{
    let mut budget = ReloginOnce::default();
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(e) if is_refusal(&e) => match budget.refused() {
                AfterRefusal::Relogin => relogin().await?,
                AfterRefusal::GiveUp => return Err(refused_again(e)),
            },
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[derive(Debug, PartialEq)]
    enum E {
        Refused,
        Down,
        LogInAgain,
    }

    /// Runs `with_relogin` on a call answering `answers` in turn; returns the outcome, calls and re-logins.
    async fn run(answers: &[Result<u32, E>], relogin_ok: bool) -> (Result<u32, E>, usize, usize) {
        let (calls, relogins) = (Cell::new(0), Cell::new(0));
        let outcome = with_relogin(
            || {
                let i = calls.get();
                calls.set(i + 1);
                let answer = match &answers[i] {
                    Ok(v) => Ok(*v),
                    Err(E::Refused) => Err(E::Refused),
                    Err(_) => Err(E::Down),
                };
                async move { answer }
            },
            |e| *e == E::Refused,
            || {
                relogins.set(relogins.get() + 1);
                async move {
                    if relogin_ok {
                        Ok(())
                    } else {
                        Err(E::Down)
                    }
                }
            },
            |_| E::LogInAgain,
        )
        .await;
        (outcome, calls.get(), relogins.get())
    }

    #[tokio::test]
    async fn a_refused_call_is_repeated_once_after_a_new_login() {
        assert_eq!(run(&[Ok(7)], true).await, (Ok(7), 1, 0));
        assert_eq!(run(&[Err(E::Refused), Ok(7)], true).await, (Ok(7), 2, 1));
    }

    #[tokio::test]
    async fn a_second_refusal_asks_the_user_to_log_in_again() {
        let refused_twice = [Err(E::Refused), Err(E::Refused), Ok(7)];
        assert_eq!(run(&refused_twice, true).await, (Err(E::LogInAgain), 2, 1));
    }

    #[tokio::test]
    async fn other_failures_and_a_failed_relogin_are_not_retried() {
        assert_eq!(run(&[Err(E::Down), Ok(7)], true).await, (Err(E::Down), 1, 0));
        assert_eq!(run(&[Err(E::Refused), Ok(7)], false).await, (Err(E::Down), 1, 1));
    }

    #[test]
    fn the_budget_is_one_relogin() {
        let mut budget = ReloginOnce::default();
        assert_eq!(budget.refused(), AfterRefusal::Relogin);
        assert_eq!(budget.refused(), AfterRefusal::GiveUp);
        assert_eq!(budget.refused(), AfterRefusal::GiveUp);
    }
}
