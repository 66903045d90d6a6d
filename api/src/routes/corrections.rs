//! Credit notes (M-4), credit balances (M-5) and write-offs (M-6).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use service::access::Actor;
use service::billing::{credit, credit_notes, write_off};
use service::idempotency::Outcome;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Staff;
use crate::dto::corrections::{
    ApplyCreditDto, CreditDto, CreditNoteDto, CreditNoteList, CreditNoteQuery, CreditedDto,
    NewCreditNoteDto, WriteOffDto,
};
use crate::dto::invoices::{InvoiceDto, PaymentResponseDto};
use crate::extract::Body;
use crate::idempotent;
use crate::problem::ApiResult;
use crate::respond::versioned;
use crate::state::AppState;

/// Issue a credit note (M-4): take whole lines or amounts off an open or paid invoice, with a
/// reason. A paid invoice stays paid; what was paid above its new total goes to the payer's
/// credit (M-5). An open invoice whose payments now cover it is paid in full.
#[utoipa::path(tag = "payments", operation_id = "createCreditNote", request_body = NewCreditNoteDto,
    params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 201, body = CreditedDto)))]
#[post("/invoices/{id}/credit-notes")]
pub async fn create(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<NewCreditNoteDto>,
) -> ApiResult<HttpResponse> {
    let new = credit_notes::NewCreditNote {
        lines: body.0.lines(),
        reason: body.0.reason.clone(),
        created_by: Some(staff.0.user_id),
    };
    let credited = credit_notes::issue(&state.db, *id, new).await?;
    Ok(HttpResponse::Created().json(CreditedDto::from(credited)))
}

/// List credit notes, oldest first.
#[utoipa::path(tag = "payments", operation_id = "listCreditNotes", params(CreditNoteQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = CreditNoteList)))]
#[get("/credit-notes")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<CreditNoteQuery>,
) -> ApiResult<HttpResponse> {
    let page = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.as_ref().map(|c| c.0.clone()),
    };
    let page = credit_notes::list(&state.db.conn, q.invoice_id, q.contact_id, &page).await?;
    Ok(HttpResponse::Ok().json(CreditNoteList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Get a credit note.
#[utoipa::path(tag = "payments", operation_id = "getCreditNote", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = CreditNoteDto)))]
#[get("/credit-notes/{id}")]
pub async fn get(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let note = credit_notes::get(&state.db.conn, *id).await?;
    Ok(HttpResponse::Ok().json(CreditNoteDto::from(note)))
}

/// A contact's credit balance and its movements (M-5).
#[utoipa::path(tag = "payments", operation_id = "getContactCredit", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = CreditDto)))]
#[get("/contacts/{id}/credit")]
pub async fn balance(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let credit = credit::get(&state.db.conn, Actor::Staff, *id).await?;
    Ok(HttpResponse::Ok().json(CreditDto::from(credit)))
}

/// Apply a contact's credit to one of its open invoices (M-5): a payment of method `credit`,
/// with a receipt number; never more than the balance.
#[utoipa::path(tag = "payments", operation_id = "applyContactCredit", request_body = ApplyCreditDto,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 201, body = PaymentResponseDto)))]
#[post("/contacts/{id}/credit/apply")]
pub async fn apply(
    staff: Staff,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<ApplyCreditDto>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let key = idempotent::key(&req, format!("credit:contact/{id}"), &body)?;
    let ask = credit::Apply {
        contact_id: *id,
        invoice_id: body.invoice_id,
        amount_cents: body.amount.0,
        recorded_by: Some(staff.0.user_id),
    };
    let render = |p: &service::billing::payments::Paid| {
        idempotent::stored(StatusCode::CREATED, &super::invoices::payment_response(p))
    };
    Ok(match credit::apply(&state.db, ask, key, render).await? {
        Outcome::Replayed(s) => idempotent::replay(s, None),
        Outcome::Done(p) => HttpResponse::Created().json(super::invoices::payment_response(&p)),
    })
}

/// Write off the open balance of an accrual invoice as bad debt, with a reason (M-6). The
/// invoice is `written_off`; the membership is as it was.
#[utoipa::path(tag = "invoices", operation_id = "writeOffInvoice", request_body = WriteOffDto,
    params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = InvoiceDto)))]
#[post("/invoices/{id}/write-off")]
pub async fn write_off_invoice(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<WriteOffDto>,
) -> ApiResult<HttpResponse> {
    let dto = InvoiceDto::from(write_off::write_off(&state.db, *id, &body.0.reason).await?);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(balance)
        .service(apply)
        .service(write_off_invoice);
}
