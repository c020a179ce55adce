//! Fault injection (`PUT /_admin/faults`): per service, a share of requests answered 503 and a
//! delay added to every request.
//!
//! Failures are spread deterministically, not randomly: with `errorPercent` = 30, requests
//! 1–30 of every hundred fail. Tests then know exactly what they get.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::Simulator;

/// The faults of one service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// Share of requests answered `503 injected_fault`, 0–100.
    #[serde(default)]
    pub error_percent: u8,
    /// Delay added before answering, milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
}

/// A service's faults and how many requests it has served since they were set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultStatus {
    /// The faults.
    #[serde(flatten)]
    pub fault: Fault,
    /// Requests seen since `PUT /_admin/faults`.
    pub requests: u64,
}

/// What one request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Injected {
    pub(crate) latency: Duration,
    pub(crate) fail: bool,
}

/// Faults per service (`events`, `tickets`, `payments`, `products`, `inventory`, `shipping`,
/// `notifications`) and a request counter for each. A
/// service without faults still counts its requests.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<HashMap<String, (Fault, u64)>>>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Fault, u64)>> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces every service's faults (counters restart).
    pub fn set(&self, faults: HashMap<String, Fault>) {
        *self.lock() = faults
            .into_iter()
            .map(|(service, fault)| (service, (fault, 0)))
            .collect();
    }

    /// The current faults and request counts.
    pub fn current(&self) -> HashMap<String, FaultStatus> {
        self.lock()
            .iter()
            .map(|(service, (fault, requests))| {
                (
                    service.clone(),
                    FaultStatus {
                        fault: *fault,
                        requests: *requests,
                    },
                )
            })
            .collect()
    }

    pub(crate) fn next(&self, service: &str) -> Injected {
        let mut faults = self.lock();
        let (fault, count) = faults.entry(service.to_owned()).or_default();
        let position = *count % 100;
        *count += 1;
        Injected {
            latency: Duration::from_millis(fault.latency_ms),
            fail: position < u64::from(fault.error_percent.min(100)),
        }
    }
}

const SERVICES: [&str; 7] = [
    "events",
    "tickets",
    "payments",
    "products",
    "inventory",
    "shipping",
    "notifications",
];

pub(crate) async fn put_faults(
    sim: web::Data<Simulator>,
    body: web::Json<HashMap<String, Fault>>,
) -> HttpResponse {
    let faults = body.into_inner();
    if let Some(unknown) = faults.keys().find(|s| !SERVICES.contains(&s.as_str())) {
        return HttpResponse::UnprocessableEntity().json(serde_json::json!({
            "code": "unknown_service",
            "message": format!("no service {unknown:?}; use one of {}", SERVICES.join(", ")),
        }));
    }
    if faults.values().any(|f| f.error_percent > 100) {
        return HttpResponse::UnprocessableEntity().json(serde_json::json!({
            "code": "invalid_fault",
            "message": "errorPercent is 0-100",
        }));
    }
    sim.faults.set(faults);
    HttpResponse::Ok().json(sim.faults.current())
}

pub(crate) async fn get_faults(sim: web::Data<Simulator>) -> HttpResponse {
    HttpResponse::Ok().json(sim.faults.current())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_share_is_exact_per_hundred_requests() {
        let faults = Faults::default();
        faults.set(HashMap::from([(
            "tickets".to_owned(),
            Fault {
                error_percent: 30,
                latency_ms: 5,
            },
        )]));
        let injected: Vec<Injected> = (0..200).map(|_| faults.next("tickets")).collect();
        assert_eq!(injected.iter().filter(|i| i.fail).count(), 60);
        assert!(
            injected
                .iter()
                .all(|i| i.latency == Duration::from_millis(5))
        );
        assert!(
            !faults.next("payments").fail,
            "other services are untouched"
        );
    }
}
