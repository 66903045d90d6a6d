//! Reports A-1..A-3. Staff only.

use actix_web::{HttpRequest, HttpResponse, get, web};
use service::contacts::ContactFilter;
use service::reports::{billing, counts, mix};

use crate::auth::Staff;
use crate::csv_export;
use crate::dto::reports::{
    BillingReportDto, BillingReportQuery, CountsDto, CountsQuery, MixQuery, MixRowDto, PeriodDto,
};
use crate::problem::ApiResult;
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Contacts per (customer type, billing category) with each combination's share of all counted
/// records; combinations above 20 % are flagged. `recent=true` or `active_within_years`
/// counts only records changed or with activity in that many years (default 5); `segment` and
/// the list filters narrow the records counted.
#[utoipa::path(tag = "reports", operation_id = "membershipMixReport", params(MixQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = Vec<MixRowDto>)))]
#[get("/reports/membership-mix")]
pub async fn membership_mix(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<MixQuery>,
    http: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let years = match (q.active_within_years, q.recent) {
        (Some(y), _) => Some(y),
        (None, Some(true)) => Some(mix::DEFAULT_ACTIVE_YEARS),
        _ => None,
    };
    let req = mix::MixRequest {
        filter: ContactFilter {
            segment: q.segment,
            customer_type: q.customer_type,
            billing_category: q.billing_category,
            status: q.status,
            is_member: q.is_member,
            ..Default::default()
        },
        active_within_years: years,
        as_of: q.as_of.map(Into::into),
    };
    let today = service::clock::now().date_naive();
    let rows = mix::membership_mix(&state.db.conn, &req, today).await?;
    let out: Vec<MixRowDto> = rows.into_iter().map(Into::into).collect();
    if csv_export::wanted(&http) {
        return Ok(csv_export::rows("membership-mix", &out));
    }
    Ok(HttpResponse::Ok().json(out))
}

/// Members, non-members, organizations and staff at a date, from each contact's type on
/// that date (its type history).
#[utoipa::path(tag = "reports", operation_id = "membershipCountsReport", params(CountsQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = CountsDto)))]
#[get("/reports/membership-counts")]
pub async fn membership_counts(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<CountsQuery>,
    http: HttpRequest,
) -> ApiResult<HttpResponse> {
    let as_of = crate::dto::Date::or_today(q.as_of);
    let c = CountsDto::from(counts::membership_counts(&state.db.conn, as_of).await?);
    if csv_export::wanted(&http) {
        return Ok(csv_export::rows("membership-counts", &c.by_customer_type));
    }
    Ok(HttpResponse::Ok().json(c))
}

/// Renewal run results, invoices issued, cash received and open accrual receivables, by month,
/// quarter or year.
#[utoipa::path(tag = "reports", operation_id = "billingReport", params(BillingReportQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = BillingReportDto)))]
#[get("/reports/billing")]
pub async fn billing_report(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<BillingReportQuery>,
    http: HttpRequest,
) -> ApiResult<HttpResponse> {
    let period: billing::Period = q.period.unwrap_or(PeriodDto::Month).into();
    let to = crate::dto::Date::or_today(q.to);
    // Twelve periods up to `to`, none before the first date the server knows (SEC-4).
    let from = q.from.map(Into::into).unwrap_or_else(|| {
        service::terms::add_months(period.start_containing(to), -11 * period.months())
            .max(service::dates::MIN)
    });
    let r =
        BillingReportDto::from(billing::billing_report(&state.db.conn, period, from, to).await?);
    if csv_export::wanted(&http) {
        return Ok(csv_export::rows("billing-report", &r.periods));
    }
    Ok(HttpResponse::Ok().json(r))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(membership_mix)
        .service(membership_counts)
        .service(billing_report);
}
