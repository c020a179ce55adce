//! What the workspace's integration tests share. A test that waits for something another task,
//! process or server does (a consumer applying a message, a lease lapsing in Redis, a span being
//! exported) asks [`eventually`] for it by name, with a deadline, instead of sleeping for a
//! guessed time; where the time is the service's own, tests move its clock instead.

use std::future::Future;
use std::time::Duration;

/// How often [`eventually`] looks again.
pub const POLL: Duration = Duration::from_millis(50);

/// Tries `check` until it answers `Some` and returns that; after `within` the test fails naming
/// `what`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
///
/// let tries = AtomicU32::new(0);
/// let third = order_test_support::eventually("a third try", Duration::from_secs(1), || async {
///     (tries.fetch_add(1, Ordering::SeqCst) == 2).then_some("done")
/// })
/// .await;
/// assert_eq!(third, "done");
/// # }
/// ```
///
/// # Panics
/// When `check` has not answered `Some` within `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    let mut polls = tokio::time::interval(POLL);
    polls.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        polls.tick().await;
        if let Some(done) = check().await {
            return done;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn what_never_happens_fails_the_test_naming_it_at_the_deadline() {
        let waited = tokio::spawn(eventually(
            "the impossible",
            Duration::from_secs(2),
            || async { None::<()> },
        ))
        .await
        .expect_err("it panics");
        let message = waited.into_panic();
        let message = message.downcast_ref::<String>().expect("a message");
        assert_eq!(message, "the impossible did not happen within 2s");
    }

    #[tokio::test(start_paused = true)]
    async fn what_happens_is_returned_at_the_first_look_that_sees_it() {
        let start = tokio::time::Instant::now();
        let mut looks = 0;
        let seen = eventually("the fourth look", Duration::from_secs(2), || {
            looks += 1;
            let answer = (looks == 4).then_some(looks);
            async move { answer }
        })
        .await;
        assert_eq!(seen, 4);
        assert_eq!(start.elapsed(), POLL * 3, "the first look is at once");
    }
}
