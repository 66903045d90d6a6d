//! Joins (J-1..J-5), invoices (I-1, I-2) and payments (I-3, I-4).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use service::access::Actor;
use service::billing::{adjust, invoices as inv, join, payments};
use service::online::charges;

use crate::auth::{Caller, Member, Staff};
use crate::csv_export;
use crate::dto::invoices::{
    AdjustmentDto, AdjustmentList, BatchDto, InstalmentPlanDto, InvoiceAdjustmentDto, InvoiceDto,
    InvoiceList, InvoiceQuery, JoinRequestDto, JoinResponseDto, NewOneOffInvoiceDto, NewPaymentDto,
    PaymentResponseDto, PdfDocument, ReasonDto,
};
use crate::extract::{Body, IfMatch};
use crate::idempotent;
use crate::problem::ApiResult;
use crate::respond::{self, versioned};
use crate::state::AppState;
use service::idempotency::Outcome;
use utoipa_actix_web::service_config::ServiceConfig;

/// A page of invoices, or with `Accept: text/csv` every matching invoice (its lines as JSON
/// in one cell).
async fn list_for(
    state: web::Data<AppState>,
    q: &InvoiceQuery,
    contact: Option<i64>,
    req: &HttpRequest,
) -> ApiResult<HttpResponse> {
    let filter = inv::Filter {
        contact_id: q.contact_id,
        party: contact,
        status: q.status.clone(),
        cycle_id: q.billing_cycle,
        renewal_run: q.renewal_run,
        updated_since: q.updated_since,
    };
    let page = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.as_ref().map(|c| c.0.clone()),
    };
    if csv_export::wanted(req) {
        return csv_export::pages("invoices", page, move |page| {
            let (state, filter) = (state.clone(), filter.clone());
            async move {
                let p = inv::list(&state.db.conn, &filter, &page).await?;
                Ok(p.map(InvoiceDto::from))
            }
        })
        .await;
    }
    let page = inv::list(&state.db.conn, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(InvoiceList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// List invoices (staff).
#[utoipa::path(tag = "invoices", operation_id = "listInvoices", params(InvoiceQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = InvoiceList)))]
#[get("/invoices")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<InvoiceQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    list_for(state, &q, None, &req).await
}

/// Get an invoice. Members may read only their own (others: 404). With
/// `Accept: application/pdf`, the invoice as a document (N-4).
#[utoipa::path(tag = "invoices", operation_id = "getInvoice", params(("id" = i64, Path)),
    security(("bearer" = ["staff", "member"])),
    responses((status = 200, headers(("ETag" = String)),
        content((InvoiceDto = "application/json"), (PdfDocument = "application/pdf")))))]
#[get("/invoices/{id}")]
pub async fn get(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    one_invoice(&state, caller.actor()?, *id, &req).await
}

/// One of my invoices (those I hold or pay; others: 404); with `Accept: application/pdf`, as a
/// document (N-4).
#[utoipa::path(tag = "self-service", operation_id = "getMyInvoice", params(("id" = i64, Path)),
    security(("bearer" = ["member"])),
    responses((status = 200, headers(("ETag" = String)),
        content((InvoiceDto = "application/json"), (PdfDocument = "application/pdf")))))]
#[get("/me/invoices/{id}")]
pub async fn get_mine(
    me: Member,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    one_invoice(&state, me.caller.actor()?, *id, &req).await
}

/// JSON, or the PDF when the client asks for it.
async fn one_invoice(
    state: &AppState,
    actor: Actor,
    id: i64,
    req: &HttpRequest,
) -> ApiResult<HttpResponse> {
    if respond::accepts(req, respond::PDF) {
        let pays_online = state.stripe.is_some();
        let bytes = service::documents::invoice_pdf(&state.db.conn, actor, id, pays_online).await?;
        return Ok(respond::pdf(&format!("invoice-{id}.pdf"), bytes));
    }
    let dto = InvoiceDto::from(inv::get(&state.db.conn, actor, id).await?);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// A contact's invoices: those it holds and those billed to it (S-10). Members may list only
/// their own (others: 404).
#[utoipa::path(tag = "contacts", operation_id = "listContactInvoices", params(("id" = i64, Path), InvoiceQuery),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = InvoiceList)))]
#[get("/contacts/{id}/invoices")]
pub async fn for_contact(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<InvoiceQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let contact = service::contacts::get(&state.db.conn, caller.actor()?, *id).await?;
    list_for(state, &q, Some(contact.contact.id), &req).await
}

/// My invoices: those I hold and those billed to me (S-10, e.g. my staff's dues).
#[utoipa::path(tag = "self-service", operation_id = "listMyInvoices", params(InvoiceQuery),
    security(("bearer" = ["member"])), responses((status = 200, body = InvoiceList)))]
#[get("/me/invoices")]
pub async fn mine(
    me: Member,
    state: web::Data<AppState>,
    q: web::Query<InvoiceQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    list_for(state, &q, Some(me.contact_id), &req).await
}

async fn do_join(
    state: &AppState,
    req: &HttpRequest,
    actor: Actor,
    contact_id: i64,
    body: JoinRequestDto,
) -> ApiResult<HttpResponse> {
    let key = if body.dry_run {
        None
    } else {
        idempotent::key(req, format!("join:contact/{contact_id}"), &body)?
    };
    let today = service::clock::now().date_naive();
    let outcome = join::join(&state.db, actor, contact_id, body.into(), today, key, |j| {
        let status = if j.is_preview() {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        idempotent::stored(status, &JoinResponseDto::from(j.clone()))
    })
    .await?;
    Ok(match outcome {
        Outcome::Replayed(s) => idempotent::replay(s, Some("/api/v1/invoices")),
        Outcome::Done(j) => {
            let dto = JoinResponseDto::from(*j);
            match dto.id {
                Some(id) => HttpResponse::Created()
                    .insert_header((header::LOCATION, format!("/api/v1/invoices/{id}")))
                    .json(dto),
                None => HttpResponse::Ok().json(dto),
            }
        }
    })
}

/// Join (J-1..J-5) through a cycle with `join_item_set`: returns the invoice (201), or with
/// `dry_run` its preview (200, nothing written). Membership starts when the invoice is paid.
/// `Idempotency-Key` makes a retry return the first invoice.
#[utoipa::path(tag = "billing", operation_id = "joinContact", request_body = JoinRequestDto,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = ["staff"])),
    responses((status = 201, body = JoinResponseDto), (status = 200, description = "Preview (dry_run)", body = JoinResponseDto)))]
#[post("/contacts/{id}/join")]
pub async fn join_contact(
    _s: Staff,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<JoinRequestDto>,
) -> ApiResult<HttpResponse> {
    do_join(&state, &req, Actor::Staff, *id, body.0).await
}

/// Join as the signed-in member (same body as `/contacts/{id}/join`).
#[utoipa::path(tag = "self-service", operation_id = "joinMe", request_body = JoinRequestDto,
    params(("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = ["member"])),
    responses((status = 201, body = JoinResponseDto), (status = 200, description = "Preview (dry_run)", body = JoinResponseDto)))]
#[post("/me/join")]
pub async fn join_me(
    me: Member,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body<JoinRequestDto>,
) -> ApiResult<HttpResponse> {
    let actor = Actor::Member {
        contact_id: me.contact_id,
    };
    do_join(&state, &req, actor, me.contact_id, body.0).await
}

/// Record a payment (I-3). Partial payments are kept; a payment above the open balance is
/// rejected; paying in full starts or extends the membership. With `Idempotency-Key` a retry
/// returns the first result and records nothing new (I-4).
#[utoipa::path(tag = "invoices", operation_id = "payInvoice", request_body = NewPaymentDto,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 201, body = PaymentResponseDto)))]
#[post("/invoices/{id}/payments")]
pub async fn pay(
    staff: Staff,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<NewPaymentDto>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let key = idempotent::key(&req, format!("payment:invoice/{id}"), &body)?;
    let new = payments::NewPayment {
        amount_cents: body.amount.0,
        paid_on: body.paid_on.into(),
        method: body.method,
        reference: body.reference,
        recorded_by: Some(staff.0.user_id),
    };
    let render = |p: &payments::Paid| idempotent::stored(StatusCode::CREATED, &payment_response(p));
    Ok(
        match payments::pay(&state.db, *id, new, key, render).await? {
            Outcome::Replayed(s) => idempotent::replay(s, None),
            Outcome::Done(p) => HttpResponse::Created().json(payment_response(&p)),
        },
    )
}

/// A payment and the invoice it left.
pub fn payment_response(p: &payments::Paid) -> PaymentResponseDto {
    let view = service::billing::payment_list::PaymentView {
        payment: p.payment.clone(),
        payer_id: p.invoice.invoice.bill_to_id,
        holder_id: p.invoice.invoice.contact_id,
    };
    PaymentResponseDto {
        payment: view.into(),
        invoice: InvoiceDto::from(p.invoice.clone()),
    }
}

/// Invoice any contact for any active products (M-8): a one-off invoice of kind `other` for
/// store sales, advertising, booth sales or donations, priced by the pricing rules unless an
/// amount is given with a reason. Paying it pays through only the subscription products on it
/// (subscriptions, chapters, sections: one term from the day after their paid-through).
#[utoipa::path(tag = "invoices", operation_id = "createInvoice", request_body = NewOneOffInvoiceDto,
    security(("bearer" = ["staff"])), responses((status = 201, body = InvoiceDto, headers(("Location" = String)))))]
#[post("/invoices")]
pub async fn create(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<NewOneOffInvoiceDto>,
) -> ApiResult<HttpResponse> {
    let view = service::billing::one_off::create(&state.db, body.0.into()).await?;
    let dto = InvoiceDto::from(view);
    let location = format!("/api/v1/invoices/{}", dto.id);
    Ok(crate::respond::created(location, dto.version, &dto))
}

async fn plan_instalments(
    state: &AppState,
    actor: Actor,
    id: i64,
    body: InstalmentPlanDto,
) -> ApiResult<HttpResponse> {
    let new = service::billing::instalments::NewPlan {
        parts: body.parts,
        day_of_month: body.day_of_month,
    };
    let today = service::clock::now().date_naive();
    let view = service::billing::instalments::plan(&state.db, actor, id, new, today).await?;
    let dto = InvoiceDto::from(view);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Spread the open balance of a join or renewal invoice over 2 to 12 monthly parts due on a
/// day of the month (S-11). Parts differ by at most one cent; the membership takes effect once
/// the first part is paid, and the invoice is paid once every part is.
#[utoipa::path(tag = "invoices", operation_id = "planInstalments", request_body = InstalmentPlanDto,
    params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = InvoiceDto)))]
#[post("/invoices/{id}/instalments")]
pub async fn instalments(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<InstalmentPlanDto>,
) -> ApiResult<HttpResponse> {
    plan_instalments(&state, Actor::Staff, *id, body.0).await
}

/// Pay one of my invoices in instalments (S-11), where its billing cycle allows members to
/// (`member_instalments`; otherwise 403).
#[utoipa::path(tag = "self-service", operation_id = "planMyInstalments", request_body = InstalmentPlanDto,
    params(("id" = i64, Path)),
    security(("bearer" = ["member"])), responses((status = 200, body = InvoiceDto)))]
#[post("/me/invoices/{id}/instalments")]
pub async fn my_instalments(
    me: Member,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<InstalmentPlanDto>,
) -> ApiResult<HttpResponse> {
    plan_instalments(&state, me.caller.actor()?, *id, body.0).await
}

/// Void an unpaid accrual invoice, with a reason (I-2). Invoices are never deleted.
#[utoipa::path(tag = "invoices", operation_id = "voidInvoice", request_body = ReasonDto,
    params(("id" = i64, Path)), security(("bearer" = ["staff"])), responses((status = 200, body = InvoiceDto)))]
#[post("/invoices/{id}/void")]
pub async fn void(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<ReasonDto>,
) -> ApiResult<HttpResponse> {
    let reason = body.0.reason.unwrap_or_default();
    let dto = InvoiceDto::from(inv::void(&state.db, *id, &reason).await?);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Cancel an unpaid cash invoice (I-2).
#[utoipa::path(tag = "invoices", operation_id = "cancelInvoice", request_body = ReasonDto,
    params(("id" = i64, Path)), security(("bearer" = ["staff"])), responses((status = 200, body = InvoiceDto)))]
#[post("/invoices/{id}/cancel")]
pub async fn cancel(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<ReasonDto>,
) -> ApiResult<HttpResponse> {
    let dto = InvoiceDto::from(inv::cancel(&state.db, *id, body.0.reason.as_deref()).await?);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Adjust an open join invoice before payment (I-8): add or remove optional lines, change
/// voluntary amounts or the formula primary product. Lines are priced again as at billing;
/// the adjustment is recorded with who and why.
#[utoipa::path(tag = "invoices", operation_id = "adjustInvoice", request_body = InvoiceAdjustmentDto,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = InvoiceDto, headers(("ETag" = String)))))]
#[patch("/invoices/{id}")]
pub async fn adjust_invoice(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Body<InvoiceAdjustmentDto>,
) -> ApiResult<HttpResponse> {
    let d = body.0;
    let adj = adjust::Adjustment {
        add: d.add,
        remove: d.remove,
        voluntary: d.voluntary.into_iter().map(|(k, v)| (k, v.0)).collect(),
        primary_product: d.primary_product,
        reason: d.reason,
    };
    let today = service::clock::now().date_naive();
    let view = adjust::adjust(&state.db, *id, adj, staff.0.user_id, if_match.0, today).await?;
    let dto = InvoiceDto::from(view);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// The adjustments of an invoice, oldest first (I-8).
#[utoipa::path(tag = "invoices", operation_id = "listInvoiceAdjustments", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = AdjustmentList)))]
#[get("/invoices/{id}/adjustments")]
pub async fn adjustments(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    inv::get(&state.db.conn, Actor::Staff, *id).await?;
    let items = adjust::list(&state.db.conn, *id)
        .await?
        .into_iter()
        .map(|a| AdjustmentDto {
            id: a.id,
            invoice_id: a.invoice_id,
            at: a.at,
            user_id: a.user_id,
            reason: a.reason,
            details: serde_json::from_str(&a.details).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(HttpResponse::Ok().json(AdjustmentList {
        items,
        next_cursor: None,
    }))
}

/// An AutoPay batch of a renewal run (I-5).
#[utoipa::path(tag = "invoices", operation_id = "getBatch", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = BatchDto)))]
#[get("/batches/{id}")]
pub async fn get_batch(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let view = service::billing::batches::get(&state.db.conn, *id).await?;
    Ok(HttpResponse::Ok().json(BatchDto::from(view)))
}

/// Post a batch: its invoices become open receivables (I-5). With online payments configured,
/// each invoice is charged once to its payer's default saved card (G-5), right after the
/// answer; `GET /invoices/{id}/charges` shows each attempt. A batch posts once: posting it
/// again (or from two servers at once) is 409 and charges nothing more.
#[utoipa::path(tag = "invoices", operation_id = "postBatch", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = BatchDto)))]
#[post("/batches/{id}/post")]
pub async fn post_batch(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let stripe = state.stripe.clone();
    let (view, scheduled) = charges::post_batch(&state.db, stripe.as_ref(), *id).await?;
    if let (Some(stripe), true) = (stripe, scheduled > 0) {
        // A large batch is charged after the answer; a charge cut off here is taken over by
        // the next run once its lease runs out.
        let db = state.db.clone();
        actix_web::rt::spawn(async move {
            let today = service::clock::now().date_naive();
            if let Err(e) = charges::run_due(&db, &stripe, today, None).await {
                tracing::warn!(error = %e, "AutoPay charges of a posted batch: left for the next run");
            }
        });
    }
    Ok(HttpResponse::Ok().json(BatchDto::from(view)))
}

/// Delete an unposted batch: its invoices leave the run and the subscriptions they billed are
/// reset as if never billed (I-5).
#[utoipa::path(tag = "invoices", operation_id = "deleteBatch", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/batches/{id}")]
pub async fn delete_batch(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    service::billing::batches::delete(&state.db, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(for_contact)
        .service(mine)
        .service(get_mine)
        .service(join_contact)
        .service(join_me)
        .service(pay)
        .service(instalments)
        .service(my_instalments)
        .service(void)
        .service(cancel)
        .service(adjust_invoice)
        .service(adjustments)
        .service(get_batch)
        .service(post_batch)
        .service(delete_batch);
}
