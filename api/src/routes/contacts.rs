//! Contacts (C-1..C-6, CT-6 flow-down).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use service::contacts::{self as svc, ContactFilter};

use crate::app::AppState;
use crate::auth::{Caller, Staff};
use crate::csv_export;
use crate::dto::ListQuery;
use crate::dto::contacts::{
    ContactDto, ContactList, ContactPatchDto, ContactQuery, HistoryList, NewContactDto,
};
use crate::extract::{Body, IfMatch};
use crate::problem::ApiResult;
use crate::routes::{created, versioned};

/// List contacts with filters and keyset pagination (staff).
#[utoipa::path(tag = "contacts", operation_id = "listContacts", params(ContactQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = ContactList)))]
#[get("/contacts")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ContactQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    contacts_page(state, q.filter(), &q, &req).await
}

/// A page of contacts, or with `Accept: text/csv` every matching contact: the list and the
/// segments share it.
pub async fn contacts_page(
    state: web::Data<AppState>,
    filter: ContactFilter,
    q: &ContactQuery,
    req: &HttpRequest,
) -> ApiResult<HttpResponse> {
    if csv_export::wanted(req) {
        return csv_export::pages("contacts", q.page(), move |page| {
            let (state, filter) = (state.clone(), filter.clone());
            async move {
                let p = svc::list(&state.db.conn, &filter, &page).await?;
                Ok(p.map(ContactDto::from))
            }
        })
        .await;
    }
    let page = svc::list(&state.db.conn, &filter, &q.page()).await?;
    Ok(HttpResponse::Ok().json(ContactList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a contact (staff). A linked person may take the organization's flow-down type.
#[utoipa::path(tag = "contacts", operation_id = "createContact", request_body = NewContactDto,
    security(("bearer" = ["staff"])), responses((status = 201, body = ContactDto, headers(("ETag" = String), ("Location" = String)))))]
#[post("/contacts")]
pub async fn create(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<NewContactDto>,
) -> ApiResult<HttpResponse> {
    let view = svc::create(&state.db, body.0.into()).await?;
    let dto = ContactDto::from(view);
    Ok(created(
        format!("/api/v1/contacts/{}", dto.id),
        dto.version,
        &dto,
    ))
}

/// Get a contact. Members may read only their own (others: 404).
#[utoipa::path(tag = "contacts", operation_id = "getContact", params(("id" = i64, Path)),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = ContactDto, headers(("ETag" = String)))))]
#[get("/contacts/{id}")]
pub async fn get(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let view = svc::get(&state.db.conn, caller.actor()?, *id).await?;
    let dto = ContactDto::from(view);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Update profile fields (C-5); members only their own profile (C-6). Honours `If-Match`.
#[utoipa::path(tag = "contacts", operation_id = "updateContact", request_body = ContactPatchDto,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = ContactDto, headers(("ETag" = String)))))]
#[patch("/contacts/{id}")]
pub async fn update(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Body<ContactPatchDto>,
) -> ApiResult<HttpResponse> {
    let view = svc::update(&state.db, caller.actor()?, *id, body.0.into(), if_match.0).await?;
    let dto = ContactDto::from(view);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// A contact's history (L-6), oldest first: terms, type and status changes.
#[utoipa::path(tag = "contacts", operation_id = "getContactHistory", params(("id" = i64, Path), ListQuery),
    security(("bearer" = ["staff", "member"])), responses((status = 200, body = HistoryList)))]
#[get("/contacts/{id}/history")]
pub async fn history(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let contact = svc::get(&state.db.conn, caller.actor()?, *id).await?;
    history_page(&state, contact.contact.id, &q).await
}

pub async fn history_page(
    state: &AppState,
    contact_id: i64,
    q: &ListQuery,
) -> ApiResult<HttpResponse> {
    let page = service::history::list(&state.db.conn, contact_id, &q.page()).await?;
    Ok(HttpResponse::Ok().json(HistoryList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}
