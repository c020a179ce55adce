//! The background jobs: whether this process runs them, how often, how much at a time, and how
//! long their records are kept.

use std::time::Duration;

use serde::Deserialize;

use super::values::{ConfigError, Count, Days, Flag, Minutes, Seconds, in_range};

#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct JobVars {
    run_jobs: Option<Flag>,
    expiration_check_interval_minutes: Option<Minutes>,
    expiry_batch_size: Option<Count>,
    metrics_aggregation_interval_minutes: Option<Minutes>,
    housekeeping_interval_minutes: Option<Minutes>,
    inbox_retention_days: Option<Days>,
    order_retention_days: Option<Days>,
    refund_retry_interval_seconds: Option<Seconds>,
    reconciliation_interval_minutes: Option<Minutes>,
    analytics_window_days: Option<Days>,
}

pub(super) struct Jobs {
    pub(super) run_jobs: bool,
    pub(super) expiry_interval: Duration,
    pub(super) expiry_batch_size: u32,
    pub(super) metrics_interval: Duration,
    pub(super) housekeeping_interval: Duration,
    pub(super) inbox_retention: time::Duration,
    pub(super) order_retention: time::Duration,
    pub(super) refund_retry_interval: Duration,
    pub(super) reconciliation_interval: Duration,
    pub(super) analytics_window: time::Duration,
}

fn every(minutes: Option<Minutes>, default_minutes: u64) -> Duration {
    minutes.map_or(Duration::from_secs(default_minutes * 60), Minutes::std)
}

impl JobVars {
    pub(super) fn resolve(self) -> Result<Jobs, ConfigError> {
        let days = |variable: &str, value: Option<Days>| {
            in_range(
                variable,
                value.map_or(30, |d| d.0),
                1..=3_650,
                "a number of days from 1 to 3650",
            )
            .map(time::Duration::days)
        };
        Ok(Jobs {
            run_jobs: self.run_jobs.is_none_or(|f| f.0),
            expiry_interval: every(self.expiration_check_interval_minutes, 1),
            expiry_batch_size: self.expiry_batch_size.map_or(500, |c| c.0),
            metrics_interval: every(self.metrics_aggregation_interval_minutes, 5),
            housekeeping_interval: every(self.housekeeping_interval_minutes, 10),
            reconciliation_interval: every(self.reconciliation_interval_minutes, 60),
            inbox_retention: days("INBOX_RETENTION_DAYS", self.inbox_retention_days)?,
            order_retention: in_range(
                "ORDER_RETENTION_DAYS",
                self.order_retention_days.map_or(2_557, |d| d.0),
                1..=36_500,
                "a number of days from 1 to 36500",
            )
            .map(time::Duration::days)?,
            refund_retry_interval: Duration::from_secs(in_range(
                "REFUND_RETRY_INTERVAL_SECONDS",
                self.refund_retry_interval_seconds.map_or(60, |s| s.0),
                1..=3_600,
                "a number of seconds from 1 to 3600",
            )?),
            analytics_window: days("ANALYTICS_WINDOW_DAYS", self.analytics_window_days)?,
        })
    }
}
