//! Logs and traces. `LOG_LEVEL` (or `RUST_LOG`) filters both; `LOG_FORMAT=json` writes one JSON
//! object per line with the ticketing API's fields — `timestamp`, `level`, `service`, `traceId`,
//! `spanId`, `userId`, `orderId`, `message` — plus the event's other fields; text otherwise.
//!
//! Spans (every request, use case, database transaction, upstream call, published and consumed
//! message) go to an OTLP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: the W3C
//! propagator is installed then, so `traceparent` is read from requests and messages and
//! written on everything that leaves (`order-trace-context`). With no endpoint there is no
//! OpenTelemetry layer and no propagator, and nothing is recorded for traces.
//!
//! `userId` and `orderId` come from the event or the innermost span that names them (`user_id`,
//! `order_id`, `order`, …); `traceId` and `spanId` from the current span's trace while traces are
//! exported. Secrets and personal data never reach a log line in the first place: configuration
//! secrets are `SecretString`s, tokens and keys are never recorded, addresses are only sealed or
//! answered.

use std::fmt;

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

pub use tracing_subscriber::fmt::writer::BoxMakeWriter;

use crate::config::TraceExport;

pub use crate::config::SERVICE;

/// Keeps trace export running; [`Telemetry::shutdown`] (or dropping it) sends the spans still
/// buffered before the process ends.
#[derive(Debug, Default)]
#[must_use = "dropping it stops trace export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops trace export.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("warning: spans may be lost: {error}");
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
#[error("the OTLP trace exporter for {endpoint} could not be built: {source}")]
pub struct TelemetryError {
    endpoint: String,
    source: opentelemetry_otlp::ExporterBuildError,
}

/// Installs the global subscriber once (a second call, in tests, is harmless), with an OTLP
/// exporter when `traces` names a collector.
///
/// # Errors
/// When the exporter cannot be built from the configured endpoint.
pub fn init(
    level: &str,
    json: bool,
    traces: Option<&TraceExport>,
) -> Result<Telemetry, TelemetryError> {
    let provider = traces.map(otlp_provider).transpose()?;
    init_with_provider(level, json, provider.clone());
    Ok(Telemetry { provider })
}

/// Spans batched to the collector over OTLP/HTTP (protobuf). The blocking client runs on the
/// batch processor's own thread, never on the runtime's workers.
fn otlp_provider(traces: &TraceExport) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces.endpoint.clone())
        .build()
        .map_err(|source| TelemetryError {
            endpoint: traces.endpoint.clone(),
            source,
        })?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(traces.service_name.clone())
                .build(),
        )
        .build())
}

/// Installs the global subscriber with spans going to `provider`, when there is one (tests give
/// one with an in-memory exporter), and the W3C propagator with it. `level` filters the log
/// lines only: spans of INFO and above are exported whatever the log level.
pub fn init_with_provider(level: &str, json: bool, provider: Option<SdkTracerProvider>) {
    init_into(level, json, provider, BoxMakeWriter::new(std::io::stdout));
}

/// [`init_with_provider`] writing the log lines to `sink` instead of standard output (a test
/// reads them back from memory).
pub fn init_into(
    level: &str,
    json: bool,
    provider: Option<SdkTracerProvider>,
    sink: BoxMakeWriter,
) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let logs: Box<dyn Layer<Registry> + Send + Sync> = if json {
        SpanFieldsLayer
            .and_then(
                tracing_subscriber::fmt::layer()
                    .event_format(JsonLines { service: SERVICE })
                    .with_writer(sink),
            )
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .event_format(TextLines)
            .with_writer(sink)
            .with_filter(filter)
            .boxed()
    };
    let mut layers = vec![logs];
    if let Some(provider) = provider {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        layers.push(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("order-api"))
                .with_filter(LevelFilter::INFO)
                .boxed(),
        );
    }
    let _ = Registry::default().with(layers).try_init();
}

/// Log lines kept in memory, for tests that read what was logged: give a clone to
/// [`init_into`] (as `BoxMakeWriter::new(sink.clone())`) or to a subscriber's `with_writer`.
#[derive(Debug, Clone, Default)]
pub struct MemorySink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl MemorySink {
    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for MemorySink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for MemorySink {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// A span's fields as JSON, kept in its extensions so that log lines can carry them.
struct SpanFields(Map<String, Value>);

/// Records every span's fields into [`SpanFields`].
struct SpanFieldsLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for SpanFieldsLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        attrs.record(&mut JsonVisitor(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            if let Some(fields) = extensions.get_mut::<SpanFields>() {
                values.record(&mut JsonVisitor(&mut fields.0));
            }
        }
    }
}

/// Collects fields as JSON values (numbers and booleans stay typed).
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
}

/// The names a user or an order goes by in our fields, first match wins.
const USER_FIELDS: [&str; 3] = ["user_id", "userId", "user"];
const ORDER_FIELDS: [&str; 3] = ["order_id", "orderId", "order"];

/// One JSON object per event.
struct JsonLines {
    service: &'static str,
}

/// The text format (`just run`): one short line per event — time, level, message and the
/// event's own fields. The spans' fields (a request's dozen `http.*` attributes, its trace id)
/// are for JSON lines and traces, so a request reads as one line a person can scan.
struct TextLines;

impl<S, N> FormatEvent<S, N> for TextLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let now = time::OffsetDateTime::now_utc();
        let (hour, minute, second) = now.time().as_hms();
        write!(
            writer,
            "{hour:02}:{minute:02}:{second:02}.{:03} {:>5} ",
            now.millisecond(),
            event.metadata().level()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        let message = fields
            .remove("message")
            .unwrap_or_else(|| Value::String(String::new()));
        // The spans' fields, the innermost winning.
        let mut context = Map::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(span_fields) = span.extensions().get::<SpanFields>() {
                    context.extend(span_fields.0.clone());
                }
            }
        }
        let pick = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| fields.get(*name).or_else(|| context.get(*name)))
                .cloned()
        };
        let mut line = Map::new();
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        line.insert("timestamp".into(), Value::String(now));
        line.insert(
            "level".into(),
            Value::String(event.metadata().level().as_str().to_owned()),
        );
        line.insert("service".into(), Value::String(self.service.to_owned()));
        let (trace_id, span_id) = current_trace();
        for (key, value) in [
            ("traceId", trace_id),
            ("spanId", span_id),
            ("userId", pick(&USER_FIELDS)),
            ("orderId", pick(&ORDER_FIELDS)),
        ] {
            if let Some(value) = value {
                line.insert(key.into(), value);
            }
        }
        line.insert("message".into(), message);
        line.insert(
            "target".into(),
            Value::String(event.metadata().target().to_owned()),
        );
        for name in USER_FIELDS.iter().chain(&ORDER_FIELDS) {
            fields.remove(*name);
        }
        if !fields.is_empty() {
            line.insert("fields".into(), Value::Object(fields));
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// The current span's trace and span id (hex), while traces are recorded.
fn current_trace() -> (Option<Value>, Option<Value>) {
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    if !span_context.is_valid() {
        return (None, None);
    }
    (
        Some(Value::String(format!("{:032x}", span_context.trace_id()))),
        Some(Value::String(format!("{:016x}", span_context.span_id()))),
    )
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn a_text_line_is_the_event_alone_without_its_spans_fields() {
        let captured = MemorySink::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .event_format(TextLines)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!(
                "HTTP request",
                http.method = "GET",
                http.route = "/api/v1/orders",
                trace_id = "00000000000000000000000000000000",
            );
            let _entered = request.enter();
            tracing::info!(
                method = "GET",
                route = "/api/v1/orders",
                status = 200,
                "request"
            );
        });
        let text = captured.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line = lines[0];
        assert!(
            line.contains(" INFO request method=\"GET\" route=\"/api/v1/orders\" status=200"),
            "{line}"
        );
        assert!(
            !line.contains("http.") && !line.contains("trace_id"),
            "{line}"
        );
        assert!(line.len() < 120, "{} characters: {line}", line.len());
    }
}
