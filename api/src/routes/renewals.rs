//! Renewal runs (R-1..R-6). Staff only.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use service::access::Actor;
use service::idempotency::Outcome;
use service::jobs;
use service::renewals::{self as svc, RunRequest};

use crate::auth::{Member, Staff};
use crate::dto::ListQuery;
use crate::dto::contacts::ContactDto;
use crate::dto::invoices::{InvoiceDto, PdfDocument, PrintQuery};
use crate::dto::jobs::JobDto;
use crate::dto::renewals::{
    ItemizedChoiceDto, ItemizedDto, PreviewDto, PreviewInvoiceList, ReminderList, ReminderQuery,
    RemindersSentDto, RenewInAdvanceDto, RenewMonthsDto, RenewNowDto, RunDto, RunInvoiceDto,
    RunList, RunRequestDto, RunResultDto, SendRemindersDto, run_dto,
};
use crate::extract::{Body, IfMatch};
use crate::idempotent;
use crate::jobs as jobs_api;
use crate::problem::ApiResult;
use crate::respond::{self, versioned};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Generate renewals for a cycle (R-1..R-6), or preview them with `dry_run`. Runs page
/// by page; `GET /renewal-runs/{id}` shows progress meanwhile. Running the same generation
/// again bills nobody twice. With `Idempotency-Key` a retry returns the first answer. With
/// `Prefer: respond-async` the run is a job (JB-1): 202 and `Location: /api/v1/jobs/{id}`.
/// Either way the run is a job, which another server finishes if this one dies (JB-4).
#[utoipa::path(tag = "billing", operation_id = "createRenewalRun", request_body = RunRequestDto,
    params(("Idempotency-Key" = Option<String>, Header),
        ("Prefer" = Option<String>, Header, description = "`respond-async`: run as a job")),
    security(("bearer" = ["staff"])),
    responses((status = 201, body = RunResultDto), (status = 200, description = "Preview (dry_run)", body = RunResultDto),
        (status = 202, description = "Started as a job (`Prefer: respond-async`)", body = JobDto)))]
#[post("/renewal-runs")]
pub async fn create(
    staff: Staff,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body<RunRequestDto>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let run = RunRequest {
        cycle: body.billing_cycle.clone().into(),
        effective_date: body.effective_date.map(Into::into),
        autopay_option: body.autopay_option.map(Into::into),
        dry_run: body.dry_run,
        preview_id: body.preview_id,
    };
    let today = service::clock::now().date_naive();
    let user = staff.0.user_id;
    if body.dry_run {
        let result = svc::run(&state.db, run, user, today, &|_| {}).await?;
        return Ok(HttpResponse::Ok().json(RunResultDto::new(result, true)));
    }
    let key = idempotent::key(&req, "renewal-run".into(), &body)?;
    if let Some(k) = &key
        && let Some(stored) = service::idempotency::replay(&state.db.conn, k).await?
    {
        return Ok(idempotent::replay(stored, Some("/api/v1/renewal-runs")));
    }
    let params = svc::RunJob::new(&state.db, &run, user, today).await?;
    let params_json = params.to_json()?;
    if jobs_api::prefers_async(&req) {
        let job =
            jobs_api::start_in_background(&state, jobs::RENEWAL_RUN, &params_json, user).await?;
        return Ok(jobs_api::accepted(job));
    }
    let started = std::time::Instant::now();
    let timing = state.job_timing.clone();
    let (job, control) = jobs::start(
        &state.db,
        jobs::RENEWAL_RUN,
        &params_json,
        user,
        &state.server_id,
        timing.lease,
    )
    .await?;
    let in_job = svc::InJob {
        id: job.id,
        control: &control,
    };
    let render = |r: &svc::RunResult| {
        idempotent::stored(StatusCode::CREATED, &RunResultDto::new(r.clone(), false))
    };
    let work = async {
        match &key {
            None => svc::run_in_job(&state.db, run, user, today, in_job, &|_| {}).await,
            Some(k) => {
                match svc::run_once(&state.db, run, user, today, k, &render, Some(in_job)).await? {
                    Outcome::Done(done) => Ok(done),
                    Outcome::Replayed(_) => Err(service::Error::Internal(
                        "a run checked for its key was replayed".into(),
                    )),
                }
            }
        }
    };
    let (result, flow) =
        jobs::runner::execute(&state.db, control.clone(), &timing, work, |(r, f)| {
            jobs_api::ended(r, *f)
        })
        .await?;
    if flow == svc::Flow::Left {
        // Another server holds the run's job now and finishes it.
        return Ok(jobs_api::accepted(jobs::get(&state.db.conn, job.id).await?));
    }
    crate::metrics::observe_operation("renewal_run", started.elapsed());
    let dto = RunResultDto::new(result, false);
    let mut res = HttpResponse::build(StatusCode::CREATED);
    if let Some(id) = dto.id {
        res.insert_header((header::LOCATION, format!("/api/v1/renewal-runs/{id}")));
    }
    Ok(res.json(dto))
}

/// A saved renewal preview (JB-2): its inputs and counts. 410 after its 24 hours.
#[utoipa::path(tag = "billing", operation_id = "getRenewalPreview", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])),
    responses((status = 200, body = PreviewDto),
        (status = 410, description = "The preview expired", content_type = "application/problem+json", body = crate::problem::Problem)))]
#[get("/renewal-runs/previews/{id}")]
pub async fn get_preview(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let preview = svc::preview::get(&state.db.conn, *id).await?;
    Ok(HttpResponse::Ok().json(PreviewDto::from(preview)))
}

/// A saved preview's bills, by contact, a page at a time (JB-2).
#[utoipa::path(tag = "billing", operation_id = "listRenewalPreviewInvoices",
    params(("id" = i64, Path), ListQuery),
    security(("bearer" = ["staff"])),
    responses((status = 200, body = PreviewInvoiceList),
        (status = 410, description = "The preview expired", content_type = "application/problem+json", body = crate::problem::Problem)))]
#[get("/renewal-runs/previews/{id}/invoices")]
pub async fn preview_invoices(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = svc::preview::bills(&state.db.conn, *id, &q.page()).await?;
    Ok(HttpResponse::Ok().json(PreviewInvoiceList {
        items: page
            .items
            .into_iter()
            .map(RunInvoiceDto::previewed)
            .collect::<service::Result<_>>()?,
        next_cursor: page.next_cursor,
    }))
}

/// Recorded runs, newest first.
#[utoipa::path(tag = "billing", operation_id = "listRenewalRuns", params(ListQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = RunList)))]
#[get("/renewal-runs")]
pub async fn list(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let page = svc::list(&state.db.conn, &q.page()).await?;
    Ok(HttpResponse::Ok().json(RunList {
        items: page
            .items
            .into_iter()
            .map(|m| run_dto(m, Vec::new(), None))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A run with its counts and the first skipped contacts; while it runs, its progress.
#[utoipa::path(tag = "billing", operation_id = "getRenewalRun", params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 200, body = RunDto)))]
#[get("/renewal-runs/{id}")]
pub async fn get(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let m = svc::get(&state.db.conn, *id).await?;
    let skipped = svc::skips(&state.db.conn, *id, svc::LISTED as u64).await?;
    let batch = service::billing::batches::of_run(&state.db.conn, *id).await?;
    Ok(HttpResponse::Ok().json(run_dto(m, skipped, batch)))
}

/// A run's invoices as one PDF for printing (N-4), streamed as it is drawn. Zero-total
/// invoices are left out unless the cycle prints zero balances (B-10), and so are void and
/// cancelled ones; `suppress_zero_lines` leaves out lines of no amount.
#[utoipa::path(tag = "billing", operation_id = "printRenewalRunInvoices",
    params(("id" = i64, Path), PrintQuery),
    security(("bearer" = ["staff"])),
    responses((status = 200, content((PdfDocument = "application/pdf")))))]
#[get("/renewal-runs/{id}/invoices.pdf")]
pub async fn print_invoices(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<PrintQuery>,
) -> ApiResult<HttpResponse> {
    let lines = service::documents::Lines {
        suppress_zero: q.suppress_zero_lines,
    };
    let print =
        service::documents::RunPrint::new(&state.db, *id, lines, state.stripe.is_some()).await?;
    let parts = futures_util::stream::try_unfold(print, |mut print| async move {
        let part = print.next().await.map_err(|e| {
            tracing::error!(error = %e, "a run's print stopped");
            actix_web::error::ErrorInternalServerError("the print stopped")
        })?;
        Ok::<_, actix_web::Error>(part.map(|bytes| (web::Bytes::from(bytes), print)))
    });
    Ok(respond::pdf_response(&format!("renewal-run-{id}-invoices.pdf")).streaming(parts))
}

/// Change a contact's renew months (T-6): later renewals bill the new length, the primary
/// product stays. A dedicated staff action (C-5). Honours `If-Match`.
#[utoipa::path(tag = "billing", operation_id = "setRenewMonths", request_body = RenewMonthsDto,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = ["staff"])), responses((status = 200, body = ContactDto, headers(("ETag" = String)))))]
#[put("/contacts/{id}/renew-months")]
pub async fn renew_months(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: Body<RenewMonthsDto>,
) -> ApiResult<HttpResponse> {
    let view =
        service::membership::set_renew_months(&state.db, *id, body.0.renew_months, if_match.0)
            .await?;
    let dto = ContactDto::from(view);
    Ok(versioned(StatusCode::OK, dto.version, &dto))
}

/// Open renewal invoices of a cycle to remind of (I-7, B-13): those billed at least the
/// cycle's `reminder_days` before `as_of`; voluntary lines only while a non-voluntary line of
/// the same invoice is open.
#[utoipa::path(tag = "billing", operation_id = "listRenewalReminders", params(ReminderQuery),
    security(("bearer" = ["staff"])), responses((status = 200, body = ReminderList)))]
#[get("/renewal-reminders")]
pub async fn reminders(
    _s: Staff,
    state: web::Data<AppState>,
    q: web::Query<ReminderQuery>,
) -> ApiResult<HttpResponse> {
    let as_of = crate::dto::Date::or_today(q.as_of);
    let req = service::page::PageRequest {
        limit: q.limit,
        cursor: q.cursor.as_ref().map(|c| c.0.clone()),
    };
    let page =
        service::billing::reminders::list(&state.db.conn, q.billing_cycle, as_of, &req).await?;
    Ok(HttpResponse::Ok().json(ReminderList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Remind by email (I-7, N-1): a `reminder` notice to the payer of each invoice
/// `GET /renewal-reminders` shows for the cycle and day; an invoice reminded of already today
/// is left out, so sending twice reminds once.
#[utoipa::path(tag = "billing", operation_id = "sendRenewalReminders", request_body = SendRemindersDto,
    security(("bearer" = ["staff"])), responses((status = 200, body = RemindersSentDto),
        (status = 404, description = "No such billing cycle", content_type = "application/problem+json",
            body = crate::problem::Problem)))]
#[post("/renewal-reminders/send")]
pub async fn send_reminders(
    _s: Staff,
    state: web::Data<AppState>,
    body: Body<SendRemindersDto>,
) -> ApiResult<HttpResponse> {
    let as_of = crate::dto::Date::or_today(body.0.as_of);
    let written = service::billing::reminders::send(&state.db, body.0.billing_cycle, as_of).await?;
    Ok(HttpResponse::Ok().json(RemindersSentDto { written }))
}

/// Renew in advance: bill the contact's next term now, before it is due; a formula
/// primary fee may change to another product of its family.
#[utoipa::path(tag = "billing", operation_id = "renewInAdvance", request_body = RenewInAdvanceDto,
    params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 201, body = InvoiceDto, headers(("Location" = String)))))]
#[post("/contacts/{id}/renew-in-advance")]
pub async fn renew_in_advance(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<RenewInAdvanceDto>,
) -> ApiResult<HttpResponse> {
    let d = body.0;
    let cycle = d.billing_cycle.into();
    let as_of = crate::dto::Date::or_today(d.as_of);
    let view = svc::renew_in_advance(&state.db, *id, cycle, d.primary_product, as_of).await?;
    let dto = InvoiceDto::from(view);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/invoices/{}", dto.id)))
        .json(dto))
}

/// Renew now: start the renewal of a due contact without an open renewal invoice, billed
/// as a renewal run of that one contact would bill it.
#[utoipa::path(tag = "billing", operation_id = "renewNow", request_body = RenewNowDto,
    params(("id" = i64, Path)),
    security(("bearer" = ["staff"])), responses((status = 201, body = InvoiceDto, headers(("Location" = String)))))]
#[post("/contacts/{id}/renewal")]
pub async fn renew_now(
    _s: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<RenewNowDto>,
) -> ApiResult<HttpResponse> {
    let cycle = body.0.billing_cycle.map(Into::into);
    started(&state, Actor::Staff, *id, cycle).await
}

/// the renewal started, as `201 Created` with the invoice.
async fn started(
    state: &AppState,
    actor: Actor,
    contact_id: i64,
    cycle: Option<service::billing_cycles::CycleRef>,
) -> ApiResult<HttpResponse> {
    let today = service::clock::now().date_naive();
    let view = svc::now::renew_now(&state.db, actor, contact_id, cycle, today).await?;
    let dto = InvoiceDto::from(view);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/invoices/{}", dto.id)))
        .json(dto))
}

/// My open renewal, itemized: the proposed lines, the optional items of the cycle and
/// the primary fee products to choose from.
#[utoipa::path(tag = "self-service", operation_id = "getMyRenewal",
    security(("bearer" = ["member"])), responses((status = 200, body = ItemizedDto)))]
#[get("/me/renewal")]
pub async fn my_renewal(me: Member, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let it = service::renewals::itemized::current(&state.db.conn, me.contact_id).await?;
    Ok(HttpResponse::Ok().json(ItemizedDto::from(it)))
}

/// Change my open renewal before paying: add or remove optional items, edit voluntary
/// amounts, or choose another primary fee (which cancels every primary item billed before).
/// Without an open renewal, `{}` starts one when I am due: `201` with the invoice.
#[utoipa::path(tag = "self-service", operation_id = "itemizeMyRenewal", request_body = ItemizedChoiceDto,
    security(("bearer" = ["member"])), responses((status = 200, body = ItemizedDto),
        (status = 201, description = "No open renewal: one was started (R-9)", body = InvoiceDto, headers(("Location" = String)))))]
#[post("/me/renewal")]
pub async fn itemize_my_renewal(
    me: Member,
    state: web::Data<AppState>,
    body: Body<ItemizedChoiceDto>,
) -> ApiResult<HttpResponse> {
    let d = body.0;
    let open = svc::now::open_renewal_of(&state.db.conn, me.contact_id).await?;
    if open.is_none() && d.is_empty() {
        let actor = Actor::Member {
            contact_id: me.contact_id,
        };
        return started(&state, actor, me.contact_id, None).await;
    }
    let choice = service::renewals::itemized::Choice {
        primary_product: d.primary_product,
        add_ons: d.add_ons,
        remove: d.remove,
        voluntary: d.voluntary.into_iter().map(|(k, v)| (k, v.0)).collect(),
    };
    let it =
        service::renewals::itemized::choose(&state.db, me.contact_id, me.caller.user_id, choice)
            .await?;
    Ok(HttpResponse::Ok().json(ItemizedDto::from(it)))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_preview)
        .service(preview_invoices)
        .service(get)
        .service(print_invoices)
        .service(renew_months)
        .service(renew_in_advance)
        .service(renew_now)
        .service(my_renewal)
        .service(itemize_my_renewal)
        .service(reminders)
        .service(send_reminders);
}
