//! Trace export (OpenTelemetry's own variable names): off unless an OTLP endpoint is given.

use serde::Deserialize;

use super::values::ConfigError;

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct TraceVars {
    otel_exporter_otlp_endpoint: Option<String>,
    otel_exporter_otlp_traces_endpoint: Option<String>,
    otel_service_name: Option<String>,
}

/// Where spans go (OTLP over HTTP, protobuf).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceExport {
    /// The collector's traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, or
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces` (the OpenTelemetry convention).
    pub endpoint: String,
    /// `OTEL_SERVICE_NAME` (`order-service`).
    pub service_name: String,
}

impl TraceVars {
    pub(super) fn resolve(self) -> Result<Option<TraceExport>, ConfigError> {
        let endpoint = match (
            non_empty(self.otel_exporter_otlp_traces_endpoint),
            non_empty(self.otel_exporter_otlp_endpoint),
        ) {
            (Some(traces), _) => checked("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces)?,
            (None, Some(base)) => {
                let base = checked("OTEL_EXPORTER_OTLP_ENDPOINT", base)?;
                format!("{}/v1/traces", base.trim_end_matches('/'))
            }
            (None, None) => return Ok(None),
        };
        Ok(Some(TraceExport {
            endpoint,
            service_name: non_empty(self.otel_service_name)
                .unwrap_or_else(|| super::SERVICE.into()),
        }))
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn checked(variable: &'static str, url: String) -> Result<String, ConfigError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url)
    } else {
        Err(ConfigError::new(
            variable,
            format!("must be an http:// or https:// URL of an OTLP collector, got {url:?}"),
        ))
    }
}
