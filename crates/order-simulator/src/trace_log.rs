//! The `traceparent` headers the simulated services received (`GET /_admin/traceparents`), so
//! tests can see that the order service's trace reached its upstreams.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::Simulator;

/// How many of the latest requests are kept.
const KEPT: usize = 256;

/// One request that carried a trace context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TracedRequest {
    /// The simulated service (`tickets`, `payments`, …).
    pub service: String,
    /// Its `traceparent` header.
    pub traceparent: String,
}

/// The latest traced requests, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct TraceLog {
    inner: Arc<Mutex<VecDeque<TracedRequest>>>,
}

impl TraceLog {
    /// Notes `request`'s `traceparent`, when it has one.
    pub(crate) fn record(&self, service: &str, request: &HttpRequest) {
        let Some(traceparent) = request
            .headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
        else {
            return;
        };
        let mut log = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if log.len() == KEPT {
            log.pop_front();
        }
        log.push_back(TracedRequest {
            service: service.to_owned(),
            traceparent: traceparent.to_owned(),
        });
    }

    fn all(&self) -> Vec<TracedRequest> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }
}

pub(crate) async fn get_traceparents(sim: web::Data<Simulator>) -> HttpResponse {
    HttpResponse::Ok().json(sim.traces.all())
}
