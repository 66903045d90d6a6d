//! Pricing rules, pricing groups and the price of a product for a contact (P-3..P-5).
//! Staff only: members never see prices (SEC-1).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use service::lookup::LookupTable;
use service::pricing::{self as svc, Conditions, Decided, NewRule, RuleFilter};

use crate::auth::Staff;
use crate::csv_export;
use crate::dto::pricing::{
    AddPricingGroupMembersDto, NewPricingGroupDto, NewPricingRuleDto, PriceDto, PriceQuery,
    PricingGroupDto, PricingGroupList, PricingGroupMemberList, PricingGroupMembersAdded,
    PricingGroupPatchDto, PricingRuleDto, PricingRuleList, PricingRulePatchDto, PricingRuleQuery,
    TaxCompanionDto,
};
use crate::dto::subscriptions::{ImportQuery, ImportReportDto, ImportRequestDto, XlsxUpload};
use crate::dto::{CodeListQuery, ListQuery};
use crate::extract::{Body, IfMatch, Upload};
use crate::problem::{ApiError, ApiResult};
use crate::reference_import::{self, Collection};
use crate::respond::{created, path_segment, versioned};
use crate::state::AppState;
use service::db::{Connection as DatabaseConnection, Transaction as DatabaseTransaction};
use utoipa_actix_web::service_config::ServiceConfig;

const GROUPS: &LookupTable = &svc::groups::TABLE;

// ---- pricing rules

fn new_rule(d: NewPricingRuleDto) -> NewRule {
    NewRule {
        product: d.product,
        price_cents: d.price.0,
        priority: d.priority.unwrap_or(0),
        conditions: Conditions {
            customer_type: d.customer_type,
            billing_category: d.billing_category,
            company_member: d.company_member,
            pricing_group: d.pricing_group,
            with_product: d.with_product,
            valid_from: d.valid_from.map(Into::into),
            valid_to: d.valid_to.map(Into::into),
            joined_from: d.joined_from.map(Into::into),
            joined_to: d.joined_to.map(Into::into),
        },
    }
}

/// Pricing rules as reference data that exports and imports back (MG-4).
pub struct Rules;

impl Collection for Rules {
    const NAME: &'static str = "pricing rules";
    const KEY: &'static str = "id";
    const NEW: &'static str = "NewPricingRuleDto";
    const PATCH: &'static str = "PricingRulePatchDto";
    type New = NewPricingRuleDto;
    type Patch = PricingRulePatchDto;
    type Item = PricingRuleDto;

    async fn all(conn: &DatabaseConnection) -> service::Result<Vec<PricingRuleDto>> {
        let filter = RuleFilter::default();
        let filter = &filter;
        let all =
            reference_import::all_pages(
                |req| async move { svc::rules::list(conn, filter, &req).await },
            )
            .await?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    async fn create(
        txn: &DatabaseTransaction,
        d: NewPricingRuleDto,
    ) -> service::Result<Option<i64>> {
        let saved = svc::rules::create_many_in(txn, vec![new_rule(d)]).await?;
        Ok(saved.first().map(|r| r.id))
    }

    async fn update(
        txn: &DatabaseTransaction,
        id: &str,
        d: PricingRulePatchDto,
    ) -> service::Result<()> {
        let id = id
            .parse::<i64>()
            .map_err(|_| service::Error::invalid("id", "must be a pricing rule id"))?;
        svc::rules::update_in(txn, id, d.into_patch()?, None).await?;
        Ok(())
    }
}

/// List pricing rules, oldest first (P-3), or export them as CSV with `Accept: text/csv`
/// (the file imports back through `/pricing-rules/import`).
#[utoipa::path(tag = "pricing-rules", operation_id = "listPricingRules", params(PricingRuleQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = PricingRuleList)))]
#[get("/pricing-rules")]
pub async fn list_rules(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<PricingRuleQuery>,
    http: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let req = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.map(|c| c.0),
    };
    let filter = RuleFilter {
        product: q.product,
        customer_type: q.customer_type,
        billing_category: q.billing_category,
        pricing_group: q.pricing_group,
    };
    if csv_export::wanted(&http) {
        return csv_export::pages("pricing-rules", req, move |page| {
            let (state, filter) = (state.clone(), filter.clone());
            async move {
                let p = svc::rules::list(&state.db.conn, &filter, &page).await?;
                Ok(p.map(PricingRuleDto::from))
            }
        })
        .await;
    }
    let page = svc::rules::list(&state.db.conn, &filter, &req).await?;
    Ok(HttpResponse::Ok().json(PricingRuleList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a pricing rule (P-3). A rule that would tie with another (same product,
/// specificity and priority, both able to match one line) is rejected with 409.
#[utoipa::path(tag = "pricing-rules", operation_id = "createPricingRule", request_body = NewPricingRuleDto,
    security(("bearer" = ["staff"])), responses((status = 201, body = PricingRuleDto, headers(("ETag" = String), ("Location" = String)))))]
#[post("/pricing-rules")]
pub async fn create_rule(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<NewPricingRuleDto>,
) -> ApiResult<HttpResponse> {
    let rule = svc::create(&state.db, new_rule(body.0)).await?;
    let v = rule.version;
    Ok(created(
        format!("/api/v1/pricing-rules/{}", rule.id),
        v,
        &PricingRuleDto::from(rule),
    ))
}

/// Get a pricing rule.
#[utoipa::path(tag = "pricing-rules", operation_id = "getPricingRule", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = PricingRuleDto, headers(("ETag" = String)))))]
#[get("/pricing-rules/{id}")]
pub async fn get_rule(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let rule = svc::rules::get(&state.db.conn, *id).await?;
    let v = rule.version;
    Ok(versioned(StatusCode::OK, v, &PricingRuleDto::from(rule)))
}

/// Change a pricing rule; `null` clears a condition. The result is validated and checked for
/// ties like a new rule.
#[utoipa::path(tag = "pricing-rules", operation_id = "updatePricingRule", request_body = PricingRulePatchDto,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = PricingRuleDto, headers(("ETag" = String)))))]
#[patch("/pricing-rules/{id}")]
pub async fn update_rule(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Body<PricingRulePatchDto>,
) -> ApiResult<HttpResponse> {
    let patch = body.0.into_patch()?;
    let rule = svc::rules::update(&state.db, *id, patch, if_match.0).await?;
    let v = rule.version;
    Ok(versioned(StatusCode::OK, v, &PricingRuleDto::from(rule)))
}

/// Delete a pricing rule.
#[utoipa::path(tag = "pricing-rules", operation_id = "deletePricingRule",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/pricing-rules/{id}")]
pub async fn delete_rule(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    svc::rules::delete(&state.db, *id, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- the price of a product

fn decided(d: Decided) -> (String, i64, Option<PricingRuleDto>) {
    (
        d.quote.product,
        d.quote.price_cents,
        d.rule.map(PricingRuleDto::from),
    )
}

/// The price of a product for a contact on a date, with the rule that decided it (P-3, P-4)
/// and the tax companion line (P-5). `CHAPT/EAST` is requested as `CHAPT%2FEAST`.
#[utoipa::path(tag = "pricing-rules", operation_id = "getProductPrice",
    params(("code" = String, Path, description = "Product code, percent-encoded"), PriceQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = PriceDto)))]
#[get("/products/{code}/price")]
pub async fn product_price(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    q: web::Query<PriceQuery>,
) -> ApiResult<HttpResponse> {
    let as_of = match q.as_of.as_deref() {
        None => service::clock::now().date_naive(),
        Some(s) => service::dates::parse(s).map_err(|m| ApiError::bad_parameter("as_of", m))?,
    };
    let with = crate::dto::comma_list(q.with.as_deref());
    let explained = svc::explain(&state.db.conn, &code, q.contact_id, as_of, &with).await?;
    let (product, price, rule) = decided(explained.price);
    let tax_companion = explained.tax_companion.map(|d| {
        let (product, price, rule) = decided(d);
        TaxCompanionDto {
            product,
            price: crate::dto::Money(price),
            rule,
        }
    });
    Ok(HttpResponse::Ok().json(PriceDto {
        product,
        price: crate::dto::Money(price),
        as_of,
        rule,
        tax_companion,
    }))
}

// ---- pricing groups

/// List pricing groups (P-3).
#[utoipa::path(tag = "pricing-groups", operation_id = "listPricingGroups", params(CodeListQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = PricingGroupList)))]
#[get("/pricing-groups")]
pub async fn list_groups(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<CodeListQuery>,
) -> ApiResult<HttpResponse> {
    let page = GROUPS.list(&state.db.conn, &q.page()).await?;
    Ok(HttpResponse::Ok().json(PricingGroupList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a pricing group.
#[utoipa::path(tag = "pricing-groups", operation_id = "createPricingGroup", request_body = NewPricingGroupDto,
    security(("bearer" = ["staff"])), responses((status = 201, body = PricingGroupDto, headers(("ETag" = String), ("Location" = String)))))]
#[post("/pricing-groups")]
pub async fn create_group(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<NewPricingGroupDto>,
) -> ApiResult<HttpResponse> {
    let row = GROUPS.create(&state.db, &body.0.code, &body.0.name).await?;
    let v = row.version;
    Ok(created(
        format!("/api/v1/pricing-groups/{}", path_segment(&row.code)),
        v,
        &PricingGroupDto::from(row),
    ))
}

/// Get a pricing group.
#[utoipa::path(tag = "pricing-groups", operation_id = "getPricingGroup", params(("code" = String, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = PricingGroupDto, headers(("ETag" = String)))))]
#[get("/pricing-groups/{code}")]
pub async fn get_group(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let row = GROUPS.get(&state.db.conn, &code).await?;
    let v = row.version;
    Ok(versioned(StatusCode::OK, v, &PricingGroupDto::from(row)))
}

/// Rename a pricing group.
#[utoipa::path(tag = "pricing-groups", operation_id = "updatePricingGroup", request_body = PricingGroupPatchDto,
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = PricingGroupDto, headers(("ETag" = String)))))]
#[patch("/pricing-groups/{code}")]
pub async fn update_group(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    if_match: IfMatch,
    body: Body<PricingGroupPatchDto>,
) -> ApiResult<HttpResponse> {
    let row = GROUPS
        .rename(&state.db, &code, &body.0.name, if_match.0)
        .await?;
    let v = row.version;
    Ok(versioned(StatusCode::OK, v, &PricingGroupDto::from(row)))
}

/// Delete a pricing group no rule uses (409 with the count); its memberships go with it.
#[utoipa::path(tag = "pricing-groups", operation_id = "deletePricingGroup",
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Deleted")))]
#[delete("/pricing-groups/{code}")]
pub async fn delete_group(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    GROUPS.delete(&state.db, &code, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List the contact ids in a pricing group, ascending.
#[utoipa::path(tag = "pricing-groups", operation_id = "listPricingGroupMembers",
    params(("code" = String, Path), ListQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = PricingGroupMemberList)))]
#[get("/pricing-groups/{code}/members")]
pub async fn list_members(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = svc::groups::members(&state.db.conn, &code, &q.page()).await?;
    Ok(HttpResponse::Ok().json(PricingGroupMemberList {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Add contacts to a pricing group. Unknown contact ids: 422 naming them; contacts already
/// in the group are fine.
#[utoipa::path(tag = "pricing-groups", operation_id = "addPricingGroupMembers",
    params(("code" = String, Path)), request_body = AddPricingGroupMembersDto,
    security(("bearer" = ["staff"])), responses((status = 200, body = PricingGroupMembersAdded)))]
#[post("/pricing-groups/{code}/members")]
pub async fn add_members(
    _s: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: Body<AddPricingGroupMembersDto>,
) -> ApiResult<HttpResponse> {
    let added = svc::groups::add_members(&state.db, &code, &body.0.contact_ids).await?;
    Ok(HttpResponse::Ok().json(PricingGroupMembersAdded {
        added: added.added,
        already_members: added.already_members,
    }))
}

/// Take a contact out of a pricing group (404 when it is not in it).
#[utoipa::path(tag = "pricing-groups", operation_id = "removePricingGroupMember",
    params(("code" = String, Path), ("contact_id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 204, description = "Removed")))]
#[delete("/pricing-groups/{code}/members/{contact_id}")]
pub async fn remove_member(
    _s: Staff,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> ApiResult<HttpResponse> {
    let (code, contact_id) = path.into_inner();
    svc::groups::remove_member(&state.db, &code, contact_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Import pricing rules (MG-4) from their CSV export (or JSON rows, or an XLSX workbook) with
/// `action=insert|update|upsert`: a row as exported is `unchanged`; an edited row is checked
/// and written like `PATCH /pricing-rules/{id}` (ties included), a new one (no `id`) like
/// `POST /pricing-rules`.
#[utoipa::path(tag = "pricing-rules", operation_id = "importPricingRules", params(ImportQuery),
    request_body(content(
        (ImportRequestDto = "application/json"),
        (String = "text/csv"),
        (XlsxUpload = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )),
    security(("bearer" = ["staff"])), responses((status = 200, body = ImportReportDto)))]
#[post("/pricing-rules/import")]
pub async fn import_rules(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ImportQuery>,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    reference_import::run::<Rules>(&state, &q, upload).await
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(product_price)
        .service(list_rules)
        .service(create_rule)
        .service(import_rules)
        .service(get_rule)
        .service(update_rule)
        .service(delete_rule)
        .service(list_groups)
        .service(create_group)
        .service(get_group)
        .service(update_group)
        .service(delete_group)
        .service(list_members)
        .service(add_members)
        .service(remove_member);
}
