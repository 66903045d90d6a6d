//! Payments (M-1), refunds (M-2) and reversals (M-3).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use service::billing::{payment_import, payment_list, refunds};
use service::column_map::ColumnMap;
use service::idempotency::Outcome;
use service::online::{self, refunds::Asked};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Caller, Member, Staff};
use crate::csv_export;
use crate::dto::Money;
use crate::dto::payments::{
    NewRefundDto, PaymentDto, PaymentList, PaymentQuery, PendingRefundDto, RefundDto, RefundList,
    RefundResponseDto, ReversalDto,
};
use crate::dto::subscriptions::{
    ImportAction, ImportQuery, ImportReportDto, ImportRequestDto, XlsxUpload,
};
use crate::extract::{Body, Upload};
use crate::idempotent;
use crate::import_upload::{self, RowParser};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// A page of payments, or with `Accept: text/csv` every matching payment.
async fn list_for(
    state: web::Data<AppState>,
    q: &PaymentQuery,
    party: Option<i64>,
    req: &HttpRequest,
) -> ApiResult<HttpResponse> {
    let filter = payment_list::Filter {
        party: party.or(q.contact_id),
        invoice_id: q.invoice_id,
        method: q.method.clone(),
        from: q.from.as_ref().map(|d| d.0),
        to: q.to.as_ref().map(|d| d.0),
        updated_since: q.updated_since,
    };
    let page = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.as_ref().map(|c| c.0.clone()),
    };
    if csv_export::wanted(req) {
        return csv_export::pages("payments", page, move |page| {
            let (state, filter) = (state.clone(), filter.clone());
            async move {
                let p = payment_list::list(&state.db.conn, &filter, &page).await?;
                Ok(p.map(PaymentDto::from))
            }
        })
        .await;
    }
    let page = payment_list::list(&state.db.conn, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(PaymentList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// List payments (M-1), or export them as CSV with `Accept: text/csv`.
#[utoipa::path(tag = "payments", operation_id = "listPayments", params(PaymentQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = PaymentList)))]
#[get("/payments")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<PaymentQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    list_for(state, &q, None, &req).await
}

/// My payments: those on invoices I hold or pay.
#[utoipa::path(tag = "self-service", operation_id = "listMyPayments", params(PaymentQuery),
    security(("bearer" = ["member"])), responses((status = 200, body = PaymentList)))]
#[get("/me/payments")]
pub async fn mine(
    me: Member,
    state: web::Data<AppState>,
    q: web::Query<PaymentQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    list_for(state, &q, Some(me.contact_id), &req).await
}

/// Get a payment. Members may read only payments of their own invoices (others: 404).
#[utoipa::path(tag = "payments", operation_id = "getPayment", params(("id" = i64, Path)),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = PaymentDto)))]
#[get("/payments/{id}")]
pub async fn get(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let view = payment_list::get(&state.db.conn, caller.actor()?, *id).await?;
    Ok(HttpResponse::Ok().json(PaymentDto::from(view)))
}

/// The refunds and reversals of a payment, oldest first.
#[utoipa::path(tag = "payments", operation_id = "listPaymentRefunds", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = RefundList)))]
#[get("/payments/{id}/refunds")]
pub async fn list_refunds(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    payment_list::get(&state.db.conn, service::access::Actor::Staff, *id).await?;
    let items = refunds::of_payment(&state.db.conn, *id).await?;
    Ok(HttpResponse::Ok().json(RefundList {
        items: items.into_iter().map(RefundDto::from).collect(),
    }))
}

/// Refund all or part of a payment, with a reason (M-2). Refunds of a payment never exceed
/// it. When the invoice was paid in full and no longer is, it reopens and what paying it did
/// (paid-through, the term in the history, customer type and category, a first join's date,
/// linked persons' types) is put back as it was; a later paid term that builds on it is a 409
/// naming that invoice. With `Idempotency-Key` a retry returns the first result.
///
/// A payment made online (G-7) goes back to the card through the payment provider, once the
/// same checks pass: 201 when the provider confirms the refund at once, 202 while it has not
/// (its event records the refund later), 502 when it fails and 409 when it is canceled; a
/// retry with the same `Idempotency-Key` asks the provider for nothing more.
#[utoipa::path(tag = "payments", operation_id = "refundPayment", request_body = NewRefundDto,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = ["staff"])),
    responses((status = 201, body = RefundResponseDto),
        (status = 202, description = "Refunded through the payment provider, not yet confirmed by it",
            body = PendingRefundDto),
        (status = 502, description = "The payment provider did not refund the payment",
            content_type = "application/problem+json", body = Problem)))]
#[post("/payments/{id}/refunds")]
pub async fn refund(
    staff: Staff,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<NewRefundDto>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let key = idempotent::key(&req, format!("refund:payment/{id}"), &body)?;
    let new = refunds::NewRefund {
        amount_cents: body.amount.0,
        reason: body.reason,
        method: body.method,
        recorded_by: Some(staff.0.user_id),
    };
    let render = |r: &refunds::Returned| {
        idempotent::stored(StatusCode::CREATED, &RefundResponseDto::from(r.clone()))
    };
    let provider = state.stripe.as_ref();
    Ok(
        match online::refunds::refund(&state.db, provider, *id, new, key, render).await? {
            Outcome::Replayed(s) => idempotent::replay(s, None),
            Outcome::Done(Asked::Recorded(r)) => {
                HttpResponse::Created().json(RefundResponseDto::from(*r))
            }
            Outcome::Done(Asked::Pending {
                provider_id,
                amount_cents,
            }) => HttpResponse::Accepted().json(PendingRefundDto {
                status: "pending".into(),
                provider_refund_id: provider_id,
                amount: Money(amount_cents),
            }),
        },
    )
}

/// Reverse a payment that failed afterwards (a bounced cheque, a chargeback), with a reason
/// (M-3): what is left of it is returned with the effects of a refund, and it is reported as a
/// reversal, not as money paid out.
#[utoipa::path(tag = "payments", operation_id = "reversePayment", request_body = ReversalDto,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 201, body = RefundResponseDto)))]
#[post("/payments/{id}/reverse")]
pub async fn reverse(
    staff: Staff,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<ReversalDto>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let key = idempotent::key(&req, format!("reversal:payment/{id}"), &body)?;
    let render = |r: &refunds::Returned| {
        idempotent::stored(StatusCode::CREATED, &RefundResponseDto::from(r.clone()))
    };
    let user = Some(staff.0.user_id);
    Ok(
        match refunds::reverse(&state.db, *id, &body.reason, user, key, render).await? {
            Outcome::Replayed(s) => idempotent::replay(s, None),
            Outcome::Done(r) => HttpResponse::Created().json(RefundResponseDto::from(*r)),
        },
    )
}

/// Import payments (MG-4) from the payments list's CSV export, JSON rows (`{action, mode,
/// rows, map?}`) or an XLSX workbook. A row without `id` records a new payment on its
/// `invoice_id` (`amount`, `paid_on`, `method`, `reference?`), exactly as
/// `POST /invoices/{id}/payments` does (a payment in full starts or extends the membership);
/// one that repeats a recorded payment (same invoice, amount, date, method and reference) is
/// `unchanged`, so a bank file can be imported twice without paying twice. A row with `id` is
/// `unchanged` as exported; with `update` or `upsert` only its `reference` may change
/// (`payment.updated`): a recorded payment's invoice, amount, date and method are corrected by
/// refund or reversal, and the columns the server sets (`receipt_number`, `contact_id`,
/// `holder_id`, `refunded`, `reversed`, `recorded_by`) must agree. `created_at` and
/// `updated_at` are read past and listed in `ignored_columns`. All-or-nothing (the default)
/// records nothing when a row fails.
#[utoipa::path(tag = "payments", operation_id = "importPayments", params(ImportQuery),
    request_body(content(
        (ImportRequestDto = "application/json"),
        (String = "text/csv", example = "invoice_id,amount,paid_on,method,reference\n1001,450.00,2026-01-15,cheque,CHQ 20417\n"),
        (XlsxUpload = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )),
    security(("bearer" = ["staff"])), responses((status = 200, body = ImportReportDto)))]
#[post("/payments/import")]
pub async fn import_rows(
    staff: Staff,
    state: web::Data<AppState>,
    q: web::Query<ImportQuery>,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    let (action, mode, rows) =
        import_upload::read::<PaymentRows>(upload, &q, Some(ImportAction::Insert)).await?;
    let ignored = payment_import::ignored_columns(&rows);
    let started = std::time::Instant::now();
    let report = payment_import::run(
        &state.db,
        action.into(),
        mode.into(),
        rows,
        Some(staff.0.user_id),
    )
    .await?;
    crate::metrics::observe_operation("payment_import", started.elapsed());
    Ok(crate::import_report::respond(report, ignored))
}

/// Payment rows (MG-4) in each shape an import takes.
struct PaymentRows;

impl RowParser for PaymentRows {
    type Rows = service::row_reader::Source;
    fn json(rows: Vec<serde_json::Value>, map: &ColumnMap) -> service::Result<Self::Rows> {
        payment_import::parse_json_rows(rows, map)
    }
    fn csv(bytes: Vec<u8>, map: &ColumnMap) -> service::Result<Self::Rows> {
        payment_import::parse_csv(bytes, map)
    }
    fn xlsx(bytes: &[u8], map: &ColumnMap) -> service::Result<Self::Rows> {
        payment_import::parse_xlsx(bytes, map)
    }
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(import_rows)
        .service(mine)
        .service(get)
        .service(list_refunds)
        .service(refund)
        .service(reverse);
}
