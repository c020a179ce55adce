//! W3C trace context (`traceparent`) for everything that crosses the service's edge: upstream
//! calls, webhook deliveries, AMQP messages published and consumed, and the outbox rows that
//! carry a request's context to the relay that publishes after the commit.
//!
//! The adapters never talk to OpenTelemetry themselves; they ask for [`current`] when something
//! leaves and call [`adopt`] when something arrives. Both go through the globally installed
//! propagator and the `tracing-opentelemetry` layer, so while trace export is off (no layer, the
//! no-op propagator) [`current`] answers `None` and [`adopt`] does nothing: tracing costs nothing
//! then.

use std::collections::HashMap;

use opentelemetry::propagation::Injector;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header (and AMQP header, and outbox column) the context travels in.
pub const TRACEPARENT: &str = "traceparent";

/// The current span's context as W3C headers (`traceparent`, and `tracestate` when there is
/// one); empty while trace export is off or outside any traced span.
pub fn current() -> Vec<(&'static str, String)> {
    let context = tracing::Span::current().context();
    let mut carrier = Carrier::default();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut carrier);
    });
    carrier.0
}

/// The current span's `traceparent` alone (what a stored row keeps).
pub fn current_traceparent() -> Option<String> {
    current()
        .into_iter()
        .find_map(|(name, value)| (name == TRACEPARENT).then_some(value))
}

/// Makes the remote context in `traceparent` the parent of `span` (a message consumed, a
/// delivery sent later): one trace follows the order across processes. A missing or malformed
/// value leaves `span` the root of a trace of its own.
pub fn adopt(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let headers = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let parent =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&headers));
    // An error means no OpenTelemetry layer is installed: nothing to adopt into.
    let _ = span.set_parent(parent);
}

/// The names and values a propagator writes.
#[derive(Default)]
struct Carrier(Vec<(&'static str, String)>);

impl Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        // The W3C propagator writes only these two; anything else is not ours to forward.
        let name = match key {
            TRACEPARENT => TRACEPARENT,
            "tracestate" => "tracestate",
            _ => return,
        };
        self.0.push((name, value));
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{TraceContextExt, TracerProvider};
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    const REMOTE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn traced<T>(run: impl FnOnce() -> T) -> T {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, run)
    }

    #[test]
    fn a_span_that_adopts_a_remote_traceparent_passes_on_its_trace_id_with_its_own_span_id() {
        let passed_on = traced(|| {
            let span = tracing::info_span!("consume");
            adopt(&span, Some(REMOTE));
            let _entered = span.enter();
            current_traceparent()
        })
        .expect("a traceparent inside a traced span");
        assert!(
            passed_on.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{passed_on}"
        );
        assert!(
            !passed_on.contains("00f067aa0ba902b7"),
            "the span's own id: {passed_on}"
        );
    }

    #[test]
    fn without_a_remote_parent_a_span_starts_a_trace_of_its_own() {
        let (trace_id, passed_on) = traced(|| {
            let span = tracing::info_span!("request");
            adopt(&span, Some("not a traceparent"));
            let trace_id = span.context().span().span_context().trace_id();
            let _entered = span.enter();
            (trace_id, current_traceparent())
        });
        let passed_on = passed_on.expect("a traceparent");
        assert!(
            passed_on.contains(&format!("{trace_id:032x}")),
            "{passed_on}"
        );
    }

    #[test]
    fn while_trace_export_is_off_nothing_is_passed_on() {
        let span = tracing::info_span!("request");
        adopt(&span, Some(REMOTE));
        let _entered = span.enter();
        assert_eq!(current(), Vec::new());
    }
}
