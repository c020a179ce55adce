//! End-to-end tests through HTTP: the API with a fresh real database and the upstream simulator,
//! both on loopback ports.

mod helpers;
mod messaging;

mod analytics;
mod audit_chain;
mod browser;
mod business_errors;
mod cli;
mod commit_cut;
mod concurrency;
mod console;
mod console_fuzz;
mod contract;
mod crash;
mod documents;
mod edits;
mod errors;
mod guards;
mod jobs;
mod lifecycle;
mod line_cancellation;
mod messages;
mod metrics;
mod money;
mod notifications;
mod personal_data;
mod pricing;
mod reconciliation;
mod refunds_once;
mod replays;
mod resilience;
mod returns;
mod roles;
mod shop;
mod webhooks;
