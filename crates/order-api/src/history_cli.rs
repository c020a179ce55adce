//! The command line's history tools: `order-api audit verify` (docs/audit.md),
//! `order-api archive-due` (docs/personal-data.md) and `order-api events rebuild`
//! (docs/events.md).

use std::process::ExitCode;

use order_domain::actor::{Actor, RequestContext};
use order_domain::audit_chain::AuditScope;
use order_domain::cause::Chain;
use order_domain::ids::{OrderId, TenantId};
use time::OffsetDateTime;

use crate::config::Config;
use crate::dto::AuditVerificationResponse;

/// What `audit verify` checks: one order, or a range.
#[derive(Debug, Clone, Copy)]
pub struct VerifyArgs {
    /// The tenant whose audit is checked.
    pub tenant: TenantId,
    /// One order's chain…
    pub order: Option<OrderId>,
    /// …or the chains with an entry in `from..to` and the anchors of those days.
    pub from: Option<OffsetDateTime>,
    /// End of the range, exclusive.
    pub to: Option<OffsetDateTime>,
}

/// Prints the check's report as JSON; exit code 0 when every link held, 1 at the first break,
/// 2 when the check could not run.
pub async fn audit_verify(config: &Config, args: VerifyArgs) -> ExitCode {
    let scope = match (args.order, args.from, args.to) {
        (Some(order), None, None) => AuditScope::Order(order),
        (None, Some(from), Some(to)) => AuditScope::Range { from, to },
        _ => {
            eprintln!("error: give --order ID, or --from and --to (RFC 3339), not both");
            return ExitCode::from(2);
        }
    };
    let service = match crate::startup::build_service(config).await {
        Ok((service, _, _)) => service,
        Err(error) => {
            eprintln!("error: {error}; check DATABASE_URL");
            return ExitCode::from(2);
        }
    };
    let ctx = RequestContext {
        tenant_id: args.tenant,
        actor: Actor::System {
            name: "audit-verify".into(),
        },
        ip: None,
    };
    match service.verify_audit(&ctx, scope).await {
        Ok(report) => {
            let intact = report.intact();
            let body = AuditVerificationResponse::from(report);
            match serde_json::to_string_pretty(&body) {
                Ok(json) => println!("{json}"),
                Err(error) => eprintln!("error: {error}"),
            }
            if intact {
                ExitCode::SUCCESS
            } else {
                eprintln!("the audit trail is broken: see firstBreak");
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: the check could not run: {}", Chain(&error));
            ExitCode::from(2)
        }
    }
}

/// Archives every order due now, pass after pass, and prints how many and how fast; exit code 1
/// when a pass failed (what was archived before stays archived).
pub async fn archive_due(config: &Config) -> ExitCode {
    let service = match crate::startup::build_service(config).await {
        Ok((service, _, _)) => service,
        Err(error) => {
            eprintln!("error: {error}; check DATABASE_URL");
            return ExitCode::FAILURE;
        }
    };
    let metrics = crate::metrics::AppMetrics::new();
    let started = std::time::Instant::now();
    let mut archived = 0u64;
    loop {
        match crate::jobs::archive_due_orders(&service, config.order_retention, &metrics).await {
            Ok(0) => break,
            Ok(n) => archived += n,
            Err(error) => {
                eprintln!(
                    "error: archiving stopped after {archived} orders: {}",
                    Chain(&error)
                );
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "archived {archived} orders in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

/// Orders read per page by `events rebuild --all`.
const REBUILD_PAGE: u32 = 500;

/// Rebuilds `order` (or every order when `None`) from its stored events and prints each order's
/// differences; exit code 0 when every order agrees with its events, 1 when one does not, 2
/// when the check could not run.
pub async fn events_rebuild(config: &Config, order: Option<OrderId>) -> ExitCode {
    let service = match crate::startup::build_service(config).await {
        Ok((service, _, _)) => service,
        Err(error) => {
            eprintln!("error: {error}; check DATABASE_URL");
            return ExitCode::from(2);
        }
    };
    let mut checked = 0u64;
    let mut differing = 0u64;
    let mut after = None;
    loop {
        let page = match order {
            Some(order) => vec![order],
            None => match service.orders_to_rebuild(after, REBUILD_PAGE).await {
                Ok(page) => page,
                Err(error) => {
                    eprintln!("error: the orders could not be listed: {}", Chain(&error));
                    return ExitCode::from(2);
                }
            },
        };
        for id in &page {
            match service.rebuild_order(*id).await {
                Ok(report) => {
                    checked += 1;
                    if !report.differences.is_empty() {
                        differing += 1;
                        println!(
                            "order {} (tenant {}, {} events) differs from its events:",
                            report.order_id, report.tenant_id, report.events
                        );
                        for line in &report.differences {
                            println!("  {line}");
                        }
                    } else if order.is_some() {
                        println!(
                            "order {}: agrees with its {} events",
                            report.order_id, report.events
                        );
                    }
                }
                Err(error) => {
                    eprintln!("error: order {id} could not be rebuilt: {}", Chain(&error));
                    return ExitCode::from(2);
                }
            }
        }
        if order.is_some() || page.len() < REBUILD_PAGE as usize {
            break;
        }
        after = page.last().copied();
    }
    println!("{checked} orders rebuilt from their events, {differing} differ");
    if differing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
