//! The consumers against the real RabbitMQ `just services-up` starts: acknowledgement, retries
//! with a delivery limit, and the dead-letter queue. The handler here is a stand-in that records
//! calls; the use cases behind the real handler are tested in order-domain and end to end in
//! order-api.
//!
//! Tests run in parallel and every test's queues are bound to the same exchanges, so each test
//! also sees the others' messages: assertions look at the test's own message ids only.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use lapin::options::{BasicGetOptions, BasicPublishOptions, QueueDeleteOptions};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use order_amqp::consumers::{
    ConsumerTopology, Consumers, MessageHandler, PAYMENT_EXCHANGE, TICKET_EXCHANGE,
};
use order_domain::messages::{InboundMessage, MessageOutcome};
use order_domain::ports::RepositoryError;
use order_domain::use_cases::UseCaseError;
use order_test_support::eventually;
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:56720/%2f".into())
}

/// Answers every message with `answer` and records (queue, message id).
struct Recorder {
    answer: fn(&InboundMessage) -> Result<MessageOutcome, UseCaseError>,
    calls: Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl MessageHandler for Recorder {
    async fn handle(
        &self,
        queue: &str,
        message: &InboundMessage,
    ) -> Result<MessageOutcome, UseCaseError> {
        self.calls
            .lock()
            .expect("lock")
            .push((queue.to_owned(), message.id.clone()));
        (self.answer)(message)
    }
}

struct Running {
    topology: ConsumerTopology,
    recorder: Arc<Recorder>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    channel: Channel,
    _connection: Connection,
}

async fn start(answer: fn(&InboundMessage) -> Result<MessageOutcome, UseCaseError>) -> Running {
    start_with(answer, Duration::from_millis(20)).await
}

/// Consumers answering with `answer` whose retried messages wait `retry_delay` (doubling).
async fn start_with(
    answer: fn(&InboundMessage) -> Result<MessageOutcome, UseCaseError>,
    retry_delay: Duration,
) -> Running {
    let topology = ConsumerTopology {
        prefix: format!("test-{}", Uuid::new_v4().simple()),
        max_attempts: 3,
        idle_expiry: Some(Duration::from_secs(60)),
    };
    let recorder = Arc::new(Recorder {
        answer,
        calls: Mutex::new(Vec::new()),
    });
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("RabbitMQ is not reachable: run `just services-up` first");
    let channel = connection.create_channel().await.expect("channel");
    // Declared before anything is published, so no message is routed nowhere.
    topology.declare(&channel).await.expect("topology");
    let (stop, stopped) = watch::channel(false);
    let consumers = Consumers::new(topology.clone(), recorder.clone(), retry_delay);
    let task = tokio::spawn(consumers.run(amqp_url(), stopped));
    Running {
        topology,
        recorder,
        stop,
        task: Some(task),
        channel,
        _connection: connection,
    }
}

impl Running {
    async fn publish(&self, exchange: &str, routing_key: &str, id: &str, body: &[u8]) {
        self.channel
            .basic_publish(
                exchange.into(),
                routing_key.into(),
                BasicPublishOptions::default(),
                body,
                BasicProperties::default().with_message_id(id.into()),
            )
            .await
            .expect("publish")
            .await
            .expect("published");
    }

    /// Handler calls for message `id`.
    fn calls(&self, id: &str) -> Vec<(String, String)> {
        self.recorder
            .calls
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, message)| message == id)
            .cloned()
            .collect()
    }

    /// Waits until message `id` is in the dead-letter queue, 10 s at most.
    async fn dead_lettered(&self, id: &str) {
        eventually(
            &format!("{id} is dead-lettered"),
            Duration::from_secs(10),
            || async {
                self.dead_letters()
                    .await
                    .iter()
                    .any(|dead| dead == id)
                    .then_some(())
            },
        )
        .await;
    }

    /// Waits until the handler has been called for each of `ids`, 10 s at most.
    async fn handled(&self, ids: &[&str]) {
        eventually(
            &format!("{ids:?} are handled"),
            Duration::from_secs(10),
            || async {
                ids.iter()
                    .all(|id| !self.calls(id).is_empty())
                    .then_some(())
            },
        )
        .await;
    }

    /// Stops the consumers: their channel closes, so a message they left unacknowledged goes
    /// back to its queue.
    async fn stop_consumers(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }

    /// The message ids ready in the consumed queue of `routing_key` (taken out).
    async fn waiting_in(&self, routing_key: &str) -> Vec<String> {
        let queue = format!("{}.{routing_key}", self.topology.prefix);
        let mut ids = Vec::new();
        while let Some(message) = self
            .channel
            .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .expect("get")
        {
            ids.extend(
                message
                    .delivery
                    .properties
                    .message_id()
                    .as_ref()
                    .map(ToString::to_string),
            );
        }
        ids
    }

    /// The message ids waiting in the dead-letter queue (taken out).
    async fn dead_letters(&self) -> Vec<String> {
        let mut ids = Vec::new();
        while let Some(message) = self
            .channel
            .basic_get(
                self.topology.dead_letter().as_str().into(),
                BasicGetOptions { no_ack: true },
            )
            .await
            .expect("get")
        {
            ids.push(
                message
                    .delivery
                    .properties
                    .message_id()
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            );
        }
        ids
    }

    async fn stop(mut self) {
        self.stop_consumers().await;
        let mut queues: Vec<String> = self
            .topology
            .bindings()
            .into_iter()
            .map(|b| b.queue)
            .collect();
        queues.push(self.topology.dead_letter());
        for queue in queues {
            let _ = self
                .channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
    }
}

fn envelope(kind: &str, data: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "body-id",
        "type": kind,
        "version": 1,
        "occurredAt": "2026-11-22T10:00:00Z",
        "tenantId": Uuid::from_u128(1),
        "orderId": Uuid::from_u128(2),
        "data": data,
    }))
    .expect("json")
}

#[tokio::test]
async fn an_applied_message_is_acknowledged_once_under_its_amqp_message_id() {
    let mut running = start(|_| Ok(MessageOutcome::Applied)).await;
    let (paid, tickets) = (unique("m-ok"), unique("m-tickets"));
    running
        .publish(
            PAYMENT_EXCHANGE,
            "payment.succeeded",
            &paid,
            &envelope("payment.succeeded", json!({"paymentIntentId": "pi_1"})),
        )
        .await;
    running
        .publish(
            TICKET_EXCHANGE,
            "ticket.allocated",
            &tickets,
            &envelope("ticket.allocated", json!({"ticketIds": ["t-1"]})),
        )
        .await;
    running.handled(&[&paid, &tickets]).await;
    // A message left unacknowledged would go back to its queue once the consumers stop.
    running.stop_consumers().await;
    assert!(running.waiting_in("payment.succeeded").await.is_empty());
    assert!(running.waiting_in("ticket.allocated").await.is_empty());
    let prefix = running.topology.prefix.clone();
    assert_eq!(
        running.calls(&paid),
        [(format!("{prefix}.payment.succeeded"), paid.clone())]
    );
    assert_eq!(
        running.calls(&tickets),
        [(format!("{prefix}.ticket.allocated"), tickets.clone())]
    );
    let dead = running.dead_letters().await;
    assert!(!dead.contains(&paid) && !dead.contains(&tickets));
    running.stop().await;
}

#[tokio::test]
async fn a_poison_message_goes_straight_to_the_dead_letter_queue() {
    let running = start(|_| Ok(MessageOutcome::Applied)).await;
    let poison = unique("m-poison");
    running
        .publish(PAYMENT_EXCHANGE, "payment.failed", &poison, b"{not json")
        .await;
    running.dead_lettered(&poison).await;
    assert!(
        running.calls(&poison).is_empty(),
        "the handler never saw it"
    );
    running.stop().await;
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_tried_max_attempts_times_then_dead_lettered() {
    let running = start(|_| {
        Err(UseCaseError::Storage(RepositoryError::Unavailable(
            "database restarting".into(),
        )))
    })
    .await;
    let failing = unique("m-retry");
    running
        .publish(
            PAYMENT_EXCHANGE,
            "payment.succeeded",
            &failing,
            &envelope("payment.succeeded", json!({"paymentIntentId": "pi_2"})),
        )
        .await;
    running.dead_lettered(&failing).await;
    assert_eq!(
        running.calls(&failing).len(),
        3,
        "CONSUMER_MAX_ATTEMPTS deliveries"
    );
    running.stop().await;
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_without_retries() {
    let running = start(|_| Err(UseCaseError::NotFound { what: "order" })).await;
    let unknown = unique("m-unknown-order");
    running
        .publish(
            PAYMENT_EXCHANGE,
            "payment.failed",
            &unknown,
            &envelope("payment.failed", json!({"paymentIntentId": "pi_3"})),
        )
        .await;
    running.dead_lettered(&unknown).await;
    assert_eq!(running.calls(&unknown).len(), 1);
    running.stop().await;
}

fn unique(name: &str) -> String {
    format!("{name}-{}", Uuid::new_v4().simple())
}

#[tokio::test]
async fn a_message_waiting_for_its_retry_holds_up_no_other_message_or_queue() {
    // A long pause: before the fix the whole consumer slept through it.
    let running = start_with(
        |message| {
            if message.id.starts_with("m-slow") {
                Err(UseCaseError::Storage(RepositoryError::Unavailable(
                    "not yet".into(),
                )))
            } else {
                Ok(MessageOutcome::Applied)
            }
        },
        Duration::from_secs(30),
    )
    .await;
    let slow = unique("m-slow");
    let same_queue = unique("m-next");
    let other_queue = unique("m-ticket");
    running
        .publish(
            PAYMENT_EXCHANGE,
            "payment.succeeded",
            &slow,
            &envelope("payment.succeeded", json!({"paymentIntentId": "pi_s"})),
        )
        .await;
    running
        .publish(
            PAYMENT_EXCHANGE,
            "payment.succeeded",
            &same_queue,
            &envelope("payment.succeeded", json!({"paymentIntentId": "pi_n"})),
        )
        .await;
    running
        .publish(
            TICKET_EXCHANGE,
            "ticket.allocated",
            &other_queue,
            &envelope(
                "ticket.allocated",
                json!({"ticketIds": ["t1"], "holdId": "h"}),
            ),
        )
        .await;
    // The next message of its queue and another queue's message are handled while the first
    // waits for its retry.
    running.handled(&[&same_queue, &other_queue]).await;
    assert_eq!(running.calls(&slow).len(), 1, "still waiting for its retry");
    running.stop().await;
}
