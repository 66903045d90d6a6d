//! Pages of contacts and of a contact's history: the contact list, the segments and `/me`
//! answer with them.

use actix_web::{HttpRequest, HttpResponse, web};
use service::contacts::{self as svc, ContactFilter};

use crate::csv_export;
use crate::dto::ListQuery;
use crate::dto::contacts::{ContactDto, ContactList, ContactQuery, HistoryList};
use crate::problem::ApiResult;
use crate::state::AppState;

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

/// A contact's history, oldest first.
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
