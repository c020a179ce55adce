//! Bulk cancellation as a durable job: the event service asks for it
//! (`POST /internal/v1/orders/bulk/cancel`), reads how it went (`GET /internal/v1/jobs/{id}`),
//! and the background jobs work it with [`OrderService::run_bulk_jobs`] (see
//! [`crate::bulk_cancel`] for how a job pages, saves and resumes).

use time::Duration;

use super::{OrderService, UseCaseError};
use crate::actor::{Actor, RequestContext};
use crate::bulk_cancel::{BulkCancelJob, FailedOrder};
use crate::ids::{BulkJobId, EventId};
use crate::policy::RefundReason;

/// How a runner works the jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkRunner {
    /// How long a job stays leased without being saved (a runner that died is taken over after
    /// it).
    pub lease: Duration,
    /// Orders read per page.
    pub page: u32,
    /// Orders tried per call, over every job (the job loop calls again).
    pub max_orders: u32,
}

impl Default for BulkRunner {
    fn default() -> Self {
        Self {
            lease: Duration::seconds(60),
            page: 100,
            max_orders: 1_000,
        }
    }
}

/// How the API describes a failure: its status and problem code.
pub type DescribeFailure = dyn Fn(&UseCaseError) -> (u16, &'static str) + Send + Sync;

impl OrderService {
    /// `POST /internal/v1/orders/bulk/cancel`: the organiser cancelled `event`; a job will
    /// cancel its active orders (refunding paid ones in full). Answers the job — the one asked
    /// for before, when the tenant already has one for this event.
    ///
    /// # Ports
    /// `bulk_jobs`.
    ///
    /// # Errors
    /// [`UseCaseError::Forbidden`] for anyone but a service; storage errors.
    pub async fn request_bulk_cancel(
        &self,
        ctx: &RequestContext,
        event: EventId,
        reason: &str,
    ) -> Result<BulkCancelJob, UseCaseError> {
        let Actor::Service { name } = &ctx.actor else {
            return Err(UseCaseError::Forbidden);
        };
        let job = BulkCancelJob::new(
            BulkJobId::from_uuid(self.ports.ids.uuid()),
            ctx.tenant_id,
            event,
            reason,
            name.clone(),
            self.now(),
        );
        Ok(self.ports.bulk_jobs.start(&job).await?)
    }

    /// `GET /internal/v1/jobs/{id}`: a job the calling service asked for.
    ///
    /// # Ports
    /// `bulk_jobs`.
    ///
    /// # Errors
    /// [`UseCaseError::NotFound`] for another tenant's or another service's job.
    pub async fn bulk_job(
        &self,
        ctx: &RequestContext,
        id: BulkJobId,
    ) -> Result<BulkCancelJob, UseCaseError> {
        let Actor::Service { name } = &ctx.actor else {
            return Err(UseCaseError::Forbidden);
        };
        self.ports
            .bulk_jobs
            .job(ctx.tenant_id, id)
            .await?
            .filter(|job| job.requested_by == *name)
            .ok_or(UseCaseError::NotFound { what: "job" })
    }

    /// Works the jobs whose lease ran out, one after another: each is leased, its orders are
    /// cancelled in id order after its position and it is saved before and after every order,
    /// until it is done or `runner.max_orders` orders were tried in this call (the job is then
    /// let go for the next call). `describe` names a failure as the API answers it. Answers how
    /// many orders were tried.
    ///
    /// # Ports
    /// `bulk_jobs`, `events`, `incidents`, `inventory`, `orders`, `payments`, `scans`, `tickets`,
    /// `unit_of_work`.
    ///
    /// # Errors
    /// Storage errors of the jobs or of the scan; each order's own failure is in its job.
    pub async fn run_bulk_jobs(
        &self,
        runner: BulkRunner,
        describe: &DescribeFailure,
    ) -> Result<u32, UseCaseError> {
        let mut tried = 0;
        while tried < runner.max_orders {
            let now = self.now();
            let Some(leased) = self.ports.bulk_jobs.lease(now, now + runner.lease).await? else {
                break;
            };
            tried += self
                .work_job(
                    leased.job,
                    leased.token,
                    runner,
                    runner.max_orders - tried,
                    describe,
                )
                .await?;
        }
        Ok(tried)
    }

    /// Works one leased job for at most `budget` orders; answers how many it tried.
    async fn work_job(
        &self,
        mut job: BulkCancelJob,
        token: uuid::Uuid,
        runner: BulkRunner,
        budget: u32,
        describe: &DescribeFailure,
    ) -> Result<u32, UseCaseError> {
        let ctx = RequestContext {
            tenant_id: job.tenant_id,
            actor: Actor::Service {
                name: job.requested_by.clone(),
            },
            ip: None,
        };
        let jobs = &self.ports.bulk_jobs;
        // The order in hand when the last runner died: done if it is no longer active.
        if let Some(current) = job.current {
            let order = self.ports.orders.find(job.tenant_id, current).await?;
            if !order.is_some_and(|o| o.status().is_active()) {
                job.cancelled(current, self.now());
            }
        }
        let mut tried = 0;
        loop {
            if tried == budget {
                // Let it go at once: the next call (here or on another replica) takes it up.
                let now = self.now();
                jobs.save(&job, token, now).await?;
                return Ok(tried);
            }
            let page = self
                .ports
                .scans
                .active_for_event(
                    job.tenant_id,
                    job.event_id,
                    job.after,
                    runner.page.min(budget - tried),
                )
                .await?;
            if page.is_empty() {
                job.finish(self.now());
                jobs.save(&job, token, self.now()).await?;
                return Ok(tried);
            }
            for order_id in page {
                let now = self.now();
                job.trying(order_id, now);
                if !jobs.save(&job, token, now + runner.lease).await? {
                    // Another runner took the job over: it goes on from what was saved.
                    return Ok(tried);
                }
                let outcome = match self.ports.orders.find(job.tenant_id, order_id).await {
                    Ok(Some(order)) => self
                        .cancel_loaded(
                            &ctx,
                            order,
                            &job.reason,
                            Some(RefundReason::EventCancelled),
                            None,
                        )
                        .await
                        .map(|_| ()),
                    Ok(None) => Err(UseCaseError::NotFound { what: "order" }),
                    Err(error) => Err(error.into()),
                };
                let now = self.now();
                match outcome {
                    Ok(()) => job.cancelled(order_id, now),
                    Err(error) => {
                        let (status, code) = describe(&error);
                        job.not_cancelled(
                            FailedOrder {
                                order_id,
                                status,
                                code: code.to_owned(),
                            },
                            now,
                        );
                    }
                }
                tried += 1;
                if !jobs.save(&job, token, now + runner.lease).await? {
                    return Ok(tried);
                }
            }
        }
    }
}
