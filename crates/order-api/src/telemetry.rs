//! Logs and spans: `LOG_LEVEL` (or `RUST_LOG`) filters; `LOG_FORMAT=json` writes one JSON object
//! per line with seed 002's fields — `timestamp`, `level`, `service`, `traceId`, `spanId`,
//! `userId`, `orderId`, `message` — plus the event's other fields; text otherwise.
//!
//! `userId` and `orderId` come from the event or the innermost span that names them (`user_id`,
//! `order_id`, `order`, …). `traceId` and `spanId` are written when the span carries an
//! OpenTelemetry context (issue 13's trace export); until then they are absent. Secrets and
//! personal data never reach a log line in the first place: configuration secrets are
//! `SecretString`s, tokens and keys are never recorded, addresses are only sealed or answered.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// The `service` of every JSON line.
pub const SERVICE: &str = "order-service";

/// Installs the global subscriber once; a second call (tests) is harmless.
pub fn init(level: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = if json {
        Registry::default()
            .with(filter)
            .with(SpanFields::layer())
            .with(
                tracing_subscriber::fmt::layer()
                    .event_format(JsonLines { service: SERVICE })
                    .with_writer(std::io::stdout),
            )
            .try_init()
    } else {
        Registry::default()
            .with(filter)
            .with(tracing_subscriber::fmt::layer().with_target(false))
            .try_init()
    };
}

/// A span's fields as JSON, kept in its extensions so that log lines can carry them.
struct SpanFields(Map<String, Value>);

impl SpanFields {
    fn layer() -> SpanFieldsLayer {
        SpanFieldsLayer
    }
}

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
        for (key, value) in [
            ("traceId", context.get("trace_id").cloned()),
            ("spanId", context.get("span_id").cloned()),
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
