//! Admission of commands (docs/resilience.md): at most `MAX_CONCURRENT_COMMANDS` state-changing
//! requests run at once in this process; the others wait in arrival order, for at most
//! `COMMAND_QUEUE_TIMEOUT_MS`, then are answered 503 `overloaded` with `Retry-After`.
//!
//! Without it a burst (a flash sale: thousands of buyers in the same second) starts every request
//! at once; they share the cores and the connections to Redis, PostgreSQL and the upstreams, and
//! all finish near the end of the burst. Admitted in order, the first buyers are answered at full
//! speed while the rest wait without using anything but their socket.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The gate every command passes (one per process, shared by the workers).
#[derive(Debug, Clone)]
pub struct CommandGate {
    /// Tokio's semaphore is fair: waiters are served first come, first served.
    permits: Arc<Semaphore>,
    size: usize,
    wait: Duration,
}

/// Refused: every place was taken for longer than the queue may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the service is at its limit of {0} commands at once; retry shortly")]
pub struct Overloaded(pub usize);

impl CommandGate {
    /// `concurrent` commands at once (at least one), each waiter waiting `wait` at most.
    pub fn new(concurrent: usize, wait: Duration) -> Self {
        let size = concurrent.max(1);
        Self {
            permits: Arc::new(Semaphore::new(size)),
            size,
            wait,
        }
    }

    /// A place, held until the permit is dropped (when the command has answered).
    ///
    /// # Errors
    /// [`Overloaded`] when no place came free within the wait.
    pub async fn admit(&self) -> Result<OwnedSemaphorePermit, Overloaded> {
        match tokio::time::timeout(self.wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a closed one would admit nothing either.
            Ok(Err(_)) | Err(_) => Err(Overloaded(self.size)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waiters_are_admitted_in_arrival_order_as_places_come_free() {
        let gate = CommandGate::new(1, Duration::from_secs(5));
        let first = gate.admit().await.expect("a free place");
        let (order_tx, mut order_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut waiting = Vec::new();
        for n in 0..3 {
            let gate = gate.clone();
            let order_tx = order_tx.clone();
            waiting.push(tokio::spawn(async move {
                let permit = gate.admit().await.expect("admitted within the wait");
                order_tx.send(n).expect("listening");
                tokio::time::sleep(Duration::from_millis(10)).await;
                drop(permit);
            }));
            // Each waiter queues before the next arrives.
            tokio::task::yield_now().await;
        }
        drop(first);
        for task in waiting {
            task.await.expect("waiter");
        }
        drop(order_tx);
        let mut admitted = Vec::new();
        while let Some(n) = order_rx.recv().await {
            admitted.push(n);
        }
        assert_eq!(admitted, [0, 1, 2]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_is_refused_when_no_place_comes_free_within_the_wait() {
        let gate = CommandGate::new(2, Duration::from_millis(500));
        let _one = gate.admit().await.expect("a place");
        let _two = gate.admit().await.expect("a place");
        let started = tokio::time::Instant::now();
        let refused = gate.admit().await.expect_err("every place is taken");
        assert_eq!(started.elapsed(), Duration::from_millis(500));
        assert_eq!(refused, Overloaded(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_place_given_back_admits_the_next_command() {
        let gate = CommandGate::new(1, Duration::from_millis(500));
        let held = gate.admit().await.expect("a place");
        drop(held);
        assert!(gate.admit().await.is_ok());
    }
}
