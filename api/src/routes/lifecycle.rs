//! Membership lifecycle over many contacts: expiry (L-1), mass change (L-4), purge (CS-4), and
//! the audit trail they write. Staff only.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, post, web};
use service::audit::{self, Who};
use service::lifecycle::{expire, mass_change as mass, purge};

use crate::auth::Staff;
use crate::dto::lifecycle::{
    AuditList, AuditQuery, ExpireDto, ExpireResultDto, MassChangeDto, MassChangeResultDto,
    PurgeDto, PurgeResultDto,
};
use crate::extract::Body;
use crate::middleware::RequestId;
use crate::problem::ApiResult;
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// The staff user and request behind an audited action.
pub fn who(staff: &Staff, req: &HttpRequest) -> Who {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    Who::user(staff.0.user_id, request_id)
}

/// Expire members as of a date (L-1): every contact of a dues-paying member type whose
/// paid-through plus the grace period (settings) is before `as_of` takes its type's
/// `expires_to`; statuses stay as they are (CS-3: lapsed members become active non-members),
/// and persons linked to an expiring organization follow it (CT-6). `dry_run` previews who
/// would change. One transaction, recorded in contact history and the audit trail.
#[utoipa::path(tag = "lifecycle", operation_id = "expireMembers", request_body = ExpireDto,
    security(("bearer" = ["staff"])), responses((status = 200, body = ExpireResultDto)))]
#[post("/membership/expire")]
pub async fn expire_members(
    staff: Staff,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body<ExpireDto>,
) -> ApiResult<HttpResponse> {
    let r = expire::run(
        &state.db,
        body.0.as_of.into(),
        body.0.dry_run,
        &who(&staff, &req),
    )
    .await?;
    Ok(HttpResponse::Ok().json(ExpireResultDto::from(r)))
}

/// Change the customer type and/or status of every contact the filter selects (L-4), or
/// preview it with `dry_run`. Organizations that change type take their linked persons along
/// (CT-6). A type of the other record kind (person vs organization) than a selected contact is
/// refused. One transaction, recorded in contact history and the audit trail.
#[utoipa::path(tag = "lifecycle", operation_id = "massChangeContacts", request_body = MassChangeDto,
    security(("bearer" = ["staff"])), responses((status = 200, body = MassChangeResultDto)))]
#[post("/contacts/mass-change")]
pub async fn mass_change(
    staff: Staff,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body<MassChangeDto>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let change = mass::MassChange {
        filter: b.filter.into(),
        customer_type: b.set.customer_type,
        status: b.set.status,
        dry_run: b.dry_run,
    };
    let r = mass::run(&state.db, change, &who(&staff, &req)).await?;
    Ok(HttpResponse::Ok().json(MassChangeResultDto::from(r)))
}

/// Purge contacts marked for deletion (status beginning with `D`, CS-4). A contact with any
/// invoice, subscription or dues history, a staff login, or linked contacts that stay, is kept
/// and listed with the reason; nothing financial is ever deleted. `dry_run` previews.
#[utoipa::path(tag = "lifecycle", operation_id = "purgeContacts", request_body = PurgeDto,
    security(("bearer" = ["staff"])), responses((status = 200, body = PurgeResultDto)))]
#[post("/contacts/purge")]
pub async fn purge_contacts(
    staff: Staff,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body<PurgeDto>,
) -> ApiResult<HttpResponse> {
    let r = purge::run(&state.db, body.0.dry_run, &who(&staff, &req)).await?;
    if !body.0.dry_run {
        state.login_status.forget_all();
    }
    Ok(HttpResponse::Ok().json(PurgeResultDto::from(r)))
}

/// The audit trail, newest first: every write request (its operation id as `action`, the
/// caller, the request id and the body, secrets redacted), and the staff actions that say
/// more (`membership.expire`, `contacts.mass_change`, `contacts.purge`).
#[utoipa::path(tag = "lifecycle", operation_id = "listAuditEvents", params(AuditQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = AuditList)))]
#[get("/audit-events")]
pub async fn audit_events(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let page_req = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.as_ref().map(|c| c.0.clone()),
    };
    let page = audit::list(&state.db.conn, q.action.as_deref(), &page_req).await?;
    Ok(HttpResponse::Ok().json(AuditList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(mass_change)
        .service(purge_contacts)
        .service(expire_members)
        .service(audit_events);
}
