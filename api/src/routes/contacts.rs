//! Contacts (C-1..C-6, CT-6 flow-down).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use service::column_map::ColumnMap;
use service::contacts::{self as svc, import};
use service::history_import;

use crate::auth::{Caller, Staff};
use crate::contact_pages::{contacts_page, history_page};
use crate::csv_export;
use crate::dto::ListQuery;
use crate::dto::contacts::{
    ContactDto, ContactList, ContactPatchDto, ContactQuery, DuplicateList, DuplicateQuery,
    HistoryList, LedgerQuery, LedgerTermDto, LedgerTermList, MergeDto, NewContactDto,
};
use crate::dto::subscriptions::{
    ImportAction, ImportQuery, ImportReportDto, ImportRequestDto, XlsxUpload,
};
use crate::extract::{Body, IfMatch, Query, Upload};
use crate::import_upload::{self, RowParser};
use crate::problem::ApiResult;
use crate::respond::{created, versioned};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// List contacts with filters and keyset pagination (staff).
#[utoipa::path(tag = "contacts", operation_id = "listContacts", params(ContactQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = ContactList)))]
#[get("/contacts")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: Query<ContactQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    contacts_page(state, q.filter(), &q, &req).await
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

/// Likely duplicate contacts (MG-2), found by the database: pairs with one email address, or
/// one name and postal code, the older contact first.
#[utoipa::path(tag = "contacts", operation_id = "listDuplicateContacts", params(DuplicateQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = DuplicateList)))]
#[get("/contacts/duplicates")]
pub async fn duplicates(
    _s: Staff,
    state: web::Data<AppState>,
    q: Query<DuplicateQuery>,
) -> ApiResult<HttpResponse> {
    let page = service::duplicates::list(&state.db.conn, &q.page()).await?;
    Ok(HttpResponse::Ok().json(DuplicateList::from(page)))
}

/// Every term of the ledger (MG-4), oldest recorded first, billed and imported, with each
/// contact's `external_ref`: with `Accept: text/csv` the whole ledger as a file that
/// `POST /contacts/import-history` takes back. Re-imported, a row as exported is `unchanged`;
/// with `action=upsert` an edited imported term takes the row's values, and an edited billed
/// term is refused (it changes only through its invoice).
#[utoipa::path(tag = "contacts", operation_id = "listLedgerTerms", params(LedgerQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = LedgerTermList)))]
#[get("/contacts/history")]
pub async fn ledger(
    _s: Staff,
    state: web::Data<AppState>,
    q: Query<LedgerQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let filter = q.filter();
    if csv_export::wanted(&req) {
        return csv_export::pages("history", q.page(), move |page| {
            let (state, filter) = (state.clone(), filter.clone());
            async move {
                let p = history_import::ledger::list(&state.db.conn, &filter, &page).await?;
                Ok(p.map(LedgerTermDto::from))
            }
        })
        .await;
    }
    let page = history_import::ledger::list(&state.db.conn, &filter, &q.page()).await?;
    Ok(HttpResponse::Ok().json(LedgerTermList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Merge this contact into another (MG-2), in one audited transaction: its subscriptions,
/// invoices, credit, history, logins, links to persons, tags, pricing groups and committee
/// service move to the survivor, which keeps the earlier join date and, when it has none,
/// takes this contact's external reference. This contact's id then answers 404 with
/// `merged_into`. Refused: a merge into itself or into a merged contact, a person into an
/// organization (422), and two subscriptions to one product or two payment-provider
/// customers (409, naming them): resolve those first. Answers the survivor.
#[utoipa::path(tag = "contacts", operation_id = "mergeContact", request_body = MergeDto,
    params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = ContactDto, headers(("ETag" = String)))))]
#[post("/contacts/{id}/merge")]
pub async fn merge(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<MergeDto>,
) -> ApiResult<HttpResponse> {
    let view = svc::merge::merge(&state.db, *id, body.0.into).await?;
    let dto = ContactDto::from(view);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Import contacts (MG-1) from JSON (`{action, mode, rows, map?}`), `text/csv` or an XLSX
/// workbook with `?action=&mode=&map=`. Rows take every field of `POST /contacts` (the
/// address nested, or flat as `address_city` like the list's CSV export), plus `id` for
/// `update` and `upsert`, `join_date`, `renew_months`, `primary_chapter`, and `company_ref`
/// (the organization's `external_ref`, an existing contact's or a row of the same file).
/// Actions: `insert`; `insert_with_matching` (MG-2: an existing contact found by
/// `external_ref`, then `email`, then name and postal code is updated, and the row reports
/// `matched_by`); `update` (by `id`, else `external_ref`); `upsert`. A column mapping renames
/// another system's columns; unknown columns are refused by name; columns the server sets
/// (`is_member`, `version`, ...) are reported in `ignored_columns`. Two rows for one contact
/// are refused. All-or-nothing (the default) writes nothing when a row fails.
#[utoipa::path(tag = "contacts", operation_id = "importContacts", params(ImportQuery),
    request_body(content(
        (ImportRequestDto = "application/json"),
        (String = "text/csv", example = "external_ref,customer_type,billing_category,first_name,last_name,email,address_postal_code,join_date,company_ref\nM-1001,M,REG,Ana,Ng,ana@example.org,K1A 0B1,2004-02-29,\n"),
        (XlsxUpload = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )),
    security(("bearer" = ["staff"])), responses((status = 200, body = ImportReportDto)))]
#[post("/contacts/import")]
pub async fn import_rows(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ImportQuery>,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    let (action, mode, parsed) = import_upload::read::<ContactRows>(upload, &q, None).await?;
    let started = std::time::Instant::now();
    let out = import::run(&state.db, action.into(), mode.into(), parsed).await?;
    crate::metrics::observe_operation("contact_import", started.elapsed());
    Ok(crate::import_report::respond(
        out.report,
        out.ignored_columns,
    ))
}

/// Import past terms (MG-3) from another system: rows `{contact_ref, begin, end,
/// customer_type, product?, amount?}` (`contact_ref` is the contact's `external_ref`;
/// `contact_id` may be given instead) as JSON (`{rows, mode?, map?}`), `text/csv` or an XLSX
/// workbook. The terms enter the term ledger marked imported, so previous members, gaps in a
/// contact's history and the counts at a date work on migrated data. A term already recorded
/// (same contact, dates and product) is reported `unchanged`, so a migration can run again.
/// A term that ends before it begins, an unknown contact, customer type or product, and a
/// term repeated in the file fail their row. The ledger's export (`GET /contacts/history`)
/// imports back: its `id` names a term, `unchanged` as exported; with `action=update` or
/// `upsert` an edited imported term takes the row's values, while a billed term (one with an
/// `invoice_id`) changes only through its invoice, and `imported` and `invoice_id`, set by the
/// server, must agree with the ledger.
#[utoipa::path(tag = "contacts", operation_id = "importContactHistory", params(ImportQuery),
    request_body(content(
        (ImportRequestDto = "application/json"),
        (String = "text/csv", example = "contact_ref,begin,end,customer_type,product,amount\nM-1001,2019-01-01,2019-12-31,M,MDUES,450.00\n"),
        (XlsxUpload = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )),
    security(("bearer" = ["staff"])), responses((status = 200, body = ImportReportDto)))]
#[post("/contacts/import-history")]
pub async fn import_history(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ImportQuery>,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    let (action, mode, rows) =
        import_upload::read::<HistoryRows>(upload, &q, Some(ImportAction::Insert)).await?;
    let started = std::time::Instant::now();
    let report = history_import::run(&state.db, action.into(), mode.into(), rows).await?;
    crate::metrics::observe_operation("history_import", started.elapsed());
    Ok(crate::import_report::respond(report, Vec::new()))
}

/// History rows (MG-3) in each shape an import takes.
struct HistoryRows;

impl RowParser for HistoryRows {
    type Rows = service::row_reader::Source;
    fn json(rows: Vec<serde_json::Value>, map: &ColumnMap) -> service::Result<Self::Rows> {
        history_import::parse_json_rows(rows, map)
    }
    fn csv(bytes: Vec<u8>, map: &ColumnMap) -> service::Result<Self::Rows> {
        history_import::parse_csv(bytes, map)
    }
    fn xlsx(bytes: &[u8], map: &ColumnMap) -> service::Result<Self::Rows> {
        history_import::parse_xlsx(bytes, map)
    }
}

/// Contact rows (MG-1) in each shape an import takes.
struct ContactRows;

impl RowParser for ContactRows {
    type Rows = import::input::Parsed;
    fn json(rows: Vec<serde_json::Value>, map: &ColumnMap) -> service::Result<Self::Rows> {
        import::input::parse_json_rows(rows, map)
    }
    fn csv(bytes: Vec<u8>, map: &ColumnMap) -> service::Result<Self::Rows> {
        import::input::parse_csv(bytes, map)
    }
    fn xlsx(bytes: &[u8], map: &ColumnMap) -> service::Result<Self::Rows> {
        import::input::parse_xlsx(bytes, map)
    }
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(duplicates)
        .service(ledger)
        .service(import_rows)
        .service(import_history)
        .service(merge)
        .service(get)
        .service(update)
        .service(history);
}
