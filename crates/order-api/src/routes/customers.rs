//! A customer's personal data (docs/personal-data.md): the export, for the customer themselves
//! and for admins, and erasure.

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, post, web};
use order_domain::actor::RequestContext;
use order_domain::cause::Chain;
use order_domain::ids::{OrderId, UserId};
use order_domain::ports::{GuardError, RateCheck};

use super::{AppState, order_answer};
use crate::caller::User;
use crate::dto::{CustomerExportSchema, ErasureResponse, export_head, export_order};
use crate::error::ApiError;
use crate::extract::path_id;
use crate::guards::{Command, WhenStoreDown::FailOpen, rate_limit};
use crate::spans;

/// Exports one caller may start per hour (each reads every order of the customer).
const EXPORTS_PER_HOUR: u32 = 10;

/// The caller's own data in the tenant: every order (addresses opened) with its history,
/// ledger, documents and notifications, and the cart, as one JSON document streamed order by
/// order.
#[utoipa::path(
    operation_id = "exportMyData",
    tag = "orders",
    responses(
        (status = 200, description = "The document (streamed)", body = CustomerExportSchema),
        (status = 404, description = "not_found: the shop holds nothing about the caller"),
        (status = 429, description = "rate_limited: 10 exports per hour per caller"),
    ),
    security(("bearer" = [])),
)]
#[get("/me/export")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "export_my_data", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn export_mine(
    state: web::Data<AppState>,
    User(ctx): User,
) -> Result<HttpResponse, ApiError> {
    let Some(user) = ctx.actor.user_id() else {
        return Err(ApiError::UseCase(
            order_domain::use_cases::UseCaseError::Forbidden,
        ));
    };
    export(state, ctx, user).await
}

/// Admins: everything the tenant holds about the customer, as `GET /me/export` gives it to them.
#[utoipa::path(
    operation_id = "exportCustomerData",
    tag = "admin",
    params(("userId" = uuid::Uuid, Path, description = "The customer")),
    responses(
        (status = 200, description = "The document (streamed)", body = CustomerExportSchema),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found: the shop holds nothing about this customer"),
        (status = 429, description = "rate_limited: 10 exports per hour per caller"),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/customers/{userId}/export")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "export_customer_data", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn export_customer(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user: UserId = path_id(&path, "customer")?;
    export(state, ctx, user).await
}

async fn export(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: UserId,
) -> Result<HttpResponse, ApiError> {
    let check = RateCheck {
        key: format!(
            "{}:export:{}:{}",
            state.redis_key_prefix,
            ctx.tenant_id,
            spans::caller(&ctx)
        ),
        limit: EXPORTS_PER_HOUR,
        window: time::Duration::HOUR,
    };
    rate_limit(&state, &check).await?;
    // Every refusal (role, unknown customer) is answered before the first byte.
    let cart = state.service.customer_export(&ctx, user).await?;
    let head = export_head(
        ctx.tenant_id,
        user,
        time::OffsetDateTime::now_utc(),
        cart.as_ref(),
    );
    let mut opening = serde_json::to_vec(&head)
        .map_err(|e| ApiError::Internal(order_domain::cause::Cause::new(e)))?;
    // `{"tenantId":…,"cart":…}` becomes `{"tenantId":…,"cart":…,"orders":[`.
    opening.pop();
    opening.extend_from_slice(b",\"orders\":[");
    let start = Export {
        state,
        ctx,
        user,
        after: None,
        first: true,
        stage: Stage::Opening(opening),
    };
    let body = futures_util::stream::unfold(start, Export::next);
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"export-{user}.json\""),
        ))
        .streaming(body))
}

/// Where a streamed export is.
struct Export {
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: UserId,
    after: Option<OrderId>,
    first: bool,
    stage: Stage,
}

enum Stage {
    Opening(Vec<u8>),
    Orders,
    Closing,
    Done,
}

impl Export {
    /// The next chunk: the opening, then one page of orders at a time, then the closing.
    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Opening(bytes) => {
                self.stage = Stage::Orders;
                Some((Ok(Bytes::from(bytes)), self))
            }
            Stage::Orders => match self.page().await {
                Ok((chunk, more)) => {
                    self.stage = if more { Stage::Orders } else { Stage::Closing };
                    Some((Ok(Bytes::from(chunk)), self))
                }
                Err(error) => {
                    // The status went out with the first byte: the client sees a cut document.
                    tracing::warn!(error = %error, "export stopped half-way");
                    Some((
                        Err(actix_web::error::ErrorServiceUnavailable("export stopped")),
                        self,
                    ))
                }
            },
            Stage::Closing => Some((Ok(Bytes::from_static(b"]}")), self)),
            Stage::Done => None,
        }
    }

    async fn page(&mut self) -> Result<(Vec<u8>, bool), String> {
        let page = self
            .state
            .service
            .customer_export_page(&self.ctx, self.user, self.after)
            .await
            .map_err(|e| Chain(&e).to_string())?;
        let mut chunk = Vec::new();
        for (order, records) in page.orders {
            if !self.first {
                chunk.push(b',');
            }
            self.first = false;
            let answer = order_answer(&self.state, &order);
            let item = export_order(answer, records, &self.ctx.actor).map_err(|e| e.to_string())?;
            serde_json::to_writer(&mut chunk, &item).map_err(|e| e.to_string())?;
        }
        self.after = page.next;
        Ok((chunk, page.next.is_some()))
    }
}

/// Admins: erase the customer's personal data — names, addresses, phone, e-mail, notes and
/// metadata of every order, the buyer on its invoices and credit notes, the addresses in its
/// audit trail, the customer's carts and stored answers. Amounts, the ledger and document
/// numbers stay; each order's audit gets `CUSTOMER_ERASED`. Refused while an order is open.
/// Idempotent.
#[utoipa::path(
    operation_id = "eraseCustomerData",
    tag = "admin",
    params(("userId" = uuid::Uuid, Path, description = "The customer")),
    responses(
        (status = 200, description = "What was erased", body = ErasureResponse),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found: the shop holds nothing about this customer"),
        (status = 409, description = "customer_has_open_orders: an order is unpaid, unshipped or owed a refund (the problem lists them)"),
        (status = 503, description = "guard_unavailable: stored in the database, but the stored answers could not be deleted yet; erase again"),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/customers/{userId}/erase", wrap = "Command::user(FailOpen)")]
#[tracing::instrument(name = "use_case", skip_all, fields(
    otel.name = "erase_customer", tenant_id = %ctx.tenant_id, user_id = spans::user_id(&ctx),
    caller = %spans::caller(&ctx), order_id = spans::LATER,
))]
pub(super) async fn erase(
    state: web::Data<AppState>,
    User(ctx): User,
    path: web::Path<String>,
) -> Result<web::Json<ErasureResponse>, ApiError> {
    let user: UserId = path_id(&path, "customer")?;
    let mut report = state.service.erase_customer(&ctx, user).await?;
    // The customer's own stored answers (their orders' answers hold their addresses).
    let prefix = format!(
        "{}:idem:{}:user:{user}:",
        state.redis_key_prefix, ctx.tenant_id
    );
    report.stored_answers_deleted =
        state
            .idempotency
            .forget_prefix(&prefix)
            .await
            .map_err(|error| {
                let GuardError::Unavailable(cause) = &error;
                tracing::warn!(error = %Chain(cause), "stored answers not erased; erase again");
                ApiError::UseCase(error.into())
            })?;
    Ok(web::Json(report.into()))
}
