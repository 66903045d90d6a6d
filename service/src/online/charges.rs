//! G-5, G-6: AutoPay charges and dunning. Posting an AutoPay batch schedules one charge of
//! each of its invoices; an instalment part (S-11) of an AutoPay payer is scheduled on its
//! day. Each charge is an attempt row: a server takes it under a lease, charges the payer's
//! default card off-session with a provider idempotency key made of invoice, part and attempt
//! (a repeated post, a retried run or two servers never charge twice), and records what the
//! provider answered. A success records the payment (I-3); a decline schedules the next
//! attempt on the dunning schedule, until the last, after which the invoice is an ordinary
//! open invoice. While an attempt waits, expiry (L-1) leaves the member alone.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, OnConflict, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};

use entity::charge_attempt as a;
use entity::contact as c;
use entity::instalment as p;
use entity::invoice as i;
use entity::payment_customer as pc;
use entity::payment_intent as pi;
use entity::saved_payment_method as m;

use crate::access::Actor;
use crate::billing::batches::{self, BatchView};
use crate::billing::invoices::{self, InvoiceView, OPEN};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::{clock, money, notices, settings};

use super::settle::{self, Received};
use super::{Charged, OffSession, Stripe, dunning};

/// Waiting for its day (or for a server to take it over).
pub const SCHEDULED: &str = "scheduled";
/// A server is charging it.
pub const PROCESSING: &str = "processing";
/// The provider accepted it and is still processing; its event ends it.
pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
/// Nothing was left to charge when its day came (paid otherwise, voided, planned).
pub const NOT_NEEDED: &str = "not_needed";
/// The attempt of a payer without a saved card.
pub const NO_METHOD: &str = "no_payment_method";

/// The states in which an attempt holds expiry (G-6).
const WAITING: [&str; 3] = [SCHEDULED, PROCESSING, PENDING];
/// How long a server may take over a charge before another takes it over.
const LEASE_MINUTES: i64 = 10;
/// Attempts taken per round of a run.
const PAGE: u64 = 200;

/// I-5, G-5: posts batch `batch_id`; with a provider, the first charge of each of its invoices
/// is scheduled in the same transaction, due today. Returns the batch and how many charges
/// were scheduled (charged by [`run_due`], which the caller starts).
pub async fn post_batch(
    db: &Db,
    provider: Option<&Stripe>,
    batch_id: i64,
) -> Result<(BatchView, u64)> {
    let now = clock::now();
    let txn = db.write().await?;
    let view = batches::post_in(&txn, batch_id, now).await?;
    let scheduled = match provider {
        Some(_) => schedule_batch(&txn, batch_id, now.date_naive(), now).await?,
        None => 0,
    };
    txn.commit().await?;
    Ok((view, scheduled))
}

/// G-5: in the transaction posting batch `batch_id`, the first charge of each of its open
/// invoices, due `today`. One statement, whatever the batch's size; an invoice already
/// scheduled is left as it is.
pub async fn schedule_batch(
    conn: &impl ConnectionTrait,
    batch_id: i64,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<u64> {
    let select = Query::select()
        .column(i::Column::Id)
        .expr(Expr::val(0))
        .expr(Expr::val(1))
        .column(i::Column::BillToId)
        .expr(Expr::val(today))
        .expr(Expr::val(SCHEDULED))
        .expr(Expr::val(now))
        .from(i::Entity)
        .and_where(Expr::col(i::Column::BatchId).eq(batch_id))
        .and_where(Expr::col(i::Column::Status).eq(OPEN))
        .to_owned();
    insert_first_attempts(conn, select).await
}

/// S-11, G-5: the first charge of each instalment part due by `as_of`, unpaid, of a payer on
/// AutoPay with a saved card, not yet scheduled. One statement.
pub async fn schedule_due_parts(
    conn: &impl ConnectionTrait,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<u64> {
    let (part, inv, payer) = (Alias::new("part"), Alias::new("inv"), Alias::new("payer"));
    let has_card = Query::select()
        .expr(Expr::val(1))
        .from(m::Entity)
        .and_where(
            Expr::col((m::Entity, m::Column::ContactId)).equals((inv.clone(), i::Column::BillToId)),
        )
        .to_owned();
    let scheduled = Query::select()
        .expr(Expr::val(1))
        .from(a::Entity)
        .and_where(
            Expr::col((a::Entity, a::Column::InvoiceId))
                .equals((part.clone(), p::Column::InvoiceId)),
        )
        .and_where(
            Expr::col((a::Entity, a::Column::Part)).equals((part.clone(), p::Column::Number)),
        )
        .to_owned();
    let select = Query::select()
        .column((part.clone(), p::Column::InvoiceId))
        .column((part.clone(), p::Column::Number))
        .expr(Expr::val(1))
        .column((inv.clone(), i::Column::BillToId))
        .column((part.clone(), p::Column::DueOn))
        .expr(Expr::val(SCHEDULED))
        .expr(Expr::val(now))
        .from_as(p::Entity, part.clone())
        .join_as(
            JoinType::InnerJoin,
            i::Entity,
            inv.clone(),
            Expr::col((inv.clone(), i::Column::Id)).equals((part.clone(), p::Column::InvoiceId)),
        )
        .join_as(
            JoinType::InnerJoin,
            c::Entity,
            payer.clone(),
            Expr::col((payer.clone(), c::Column::Id)).equals((inv.clone(), i::Column::BillToId)),
        )
        .and_where(Expr::col((inv.clone(), i::Column::Status)).eq(OPEN))
        .and_where(Expr::col((part.clone(), p::Column::DueOn)).lte(as_of))
        .and_where(
            Expr::col((inv, i::Column::PaidCents)).lt(Expr::col((
                part.clone(),
                p::Column::CoversFromCents,
            ))
            .add(Expr::col((part, p::Column::AmountCents)))),
        )
        .and_where(Expr::col((payer, c::Column::Autopay)).eq(true))
        .and_where(Expr::exists(has_card))
        .and_where(Expr::exists(scheduled).not())
        .to_owned();
    insert_first_attempts(conn, select).await
}

async fn insert_first_attempts(
    conn: &impl ConnectionTrait,
    select: SelectStatement,
) -> Result<u64> {
    let insert = Query::insert()
        .into_table(a::Entity)
        .columns([
            a::Column::InvoiceId,
            a::Column::Part,
            a::Column::Attempt,
            a::Column::PayerId,
            a::Column::DueOn,
            a::Column::Status,
            a::Column::CreatedAt,
        ])
        .select_from(select)
        .map_err(|e| Error::Internal(e.to_string()))?
        .on_conflict(
            OnConflict::columns([a::Column::InvoiceId, a::Column::Part, a::Column::Attempt])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(conn.execute(&insert).await?.rows_affected())
}

/// G-6: a payer who saved a new card: the retries scheduled for them are due at once.
pub async fn retry_now(
    conn: &impl ConnectionTrait,
    payer_id: i64,
    today: NaiveDate,
) -> Result<u64> {
    let res = a::Entity::update_many()
        .col_expr(a::Column::DueOn, Expr::val(today))
        .filter(a::Column::PayerId.eq(payer_id))
        .filter(a::Column::Status.eq(SCHEDULED))
        .filter(a::Column::Attempt.gt(1))
        .filter(a::Column::DueOn.gt(today))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// G-6, L-1: holders of invoices with a charge still to come; expiry leaves them alone.
pub fn retrying_holders() -> SelectStatement {
    Query::select()
        .column((i::Entity, i::Column::ContactId))
        .from(a::Entity)
        .inner_join(
            i::Entity,
            Expr::col((i::Entity, i::Column::Id)).equals((a::Entity, a::Column::InvoiceId)),
        )
        .and_where(Expr::col((a::Entity, a::Column::Status)).is_in(WAITING))
        .and_where(Expr::col((i::Entity, i::Column::Status)).eq(OPEN))
        .to_owned()
}

/// The charge attempts of an invoice, oldest first (`GET /invoices/{id}/charges`).
pub async fn of_invoice(conn: &impl ConnectionTrait, invoice_id: i64) -> Result<Vec<a::Model>> {
    invoices::get(conn, Actor::Staff, invoice_id).await?;
    Ok(a::Entity::find()
        .filter(a::Column::InvoiceId.eq(invoice_id))
        .order_by_asc(a::Column::Part)
        .order_by_asc(a::Column::Attempt)
        .all(conn)
        .await?)
}

/// What a run of due charges did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub scheduled_parts: u64,
    pub attempted: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub pending: u64,
    pub not_needed: u64,
    /// The provider could not be reached: left for the next run.
    pub deferred: u64,
}

/// G-5, G-6: charges what is due by `as_of` (all payers, or one): instalment parts come due,
/// then every due attempt not taken by another server.
pub async fn run_due(
    db: &Db,
    stripe: &Stripe,
    as_of: NaiveDate,
    payer: Option<i64>,
) -> Result<RunSummary> {
    let mut summary = RunSummary {
        scheduled_parts: schedule_parts(db, as_of).await?,
        ..Default::default()
    };
    let mut after = 0;
    loop {
        let ids = due_ids(&db.conn, as_of, payer, after).await?;
        let Some(last) = ids.last() else { break };
        after = *last;
        for id in ids {
            let outcome = charge_one(db, stripe, id, as_of).await?;
            summary.count(outcome);
        }
    }
    Ok(summary)
}

/// Runs due charges every `every`, for as long as the server runs.
pub async fn run_forever(db: Db, stripe: Stripe, every: std::time::Duration) {
    loop {
        let today = clock::now().date_naive();
        if let Err(e) = run_due(&db, &stripe, today, None).await {
            tracing::warn!(error = %e, "AutoPay charges: run failed; retrying on the next round");
        }
        tokio::time::sleep(every).await;
    }
}

async fn schedule_parts(db: &Db, as_of: NaiveDate) -> Result<u64> {
    let txn = db.write().await?;
    let n = schedule_due_parts(&txn, as_of, clock::now()).await?;
    txn.commit().await?;
    Ok(n)
}

/// Attempts due by `as_of`, or left by a server whose lease ran out, after id `after`.
async fn due_ids(
    conn: &impl ConnectionTrait,
    as_of: NaiveDate,
    payer: Option<i64>,
    after: i64,
) -> Result<Vec<i64>> {
    let mut q = a::Entity::find()
        .select_only()
        .column(a::Column::Id)
        .filter(a::Column::Id.gt(after))
        .filter(due(as_of, clock::now()));
    if let Some(payer) = payer {
        q = q.filter(a::Column::PayerId.eq(payer));
    }
    Ok(q.order_by_asc(a::Column::Id)
        .limit(PAGE)
        .into_tuple()
        .all(conn)
        .await?)
}

fn due(as_of: NaiveDate, now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(a::Column::Status.eq(SCHEDULED))
                .add(a::Column::DueOn.lte(as_of)),
        )
        .add(
            Condition::all()
                .add(a::Column::Status.eq(PROCESSING))
                .add(a::Column::LeaseUntil.lt(now)),
        )
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Another server has it.
    Taken,
    Succeeded,
    Failed,
    Pending,
    NotNeeded,
    Deferred,
}

impl RunSummary {
    fn count(&mut self, outcome: Outcome) {
        if outcome != Outcome::Taken {
            self.attempted += 1;
        }
        match outcome {
            Outcome::Taken => {}
            Outcome::Succeeded => self.succeeded += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Pending => self.pending += 1,
            Outcome::NotNeeded => self.not_needed += 1,
            Outcome::Deferred => self.deferred += 1,
        }
    }
}

/// The steps of one charge: take it, see what is owed and with which card, charge, record.
async fn charge_one(db: &Db, stripe: &Stripe, id: i64, as_of: NaiveDate) -> Result<Outcome> {
    let Some(attempt) = take(&db.conn, id, as_of).await? else {
        return Ok(Outcome::Taken);
    };
    match plan(&db.conn, &attempt).await? {
        Plan::NotNeeded => finish_not_needed(&db.conn, &attempt).await,
        Plan::NoCard => {
            let decline = Decline {
                code: NO_METHOD.into(),
                message: "the payer has no saved card".into(),
                intent_id: None,
            };
            record_decline(db, &attempt, &decline, None, as_of).await
        }
        Plan::Charge(charge) => {
            let key = format!(
                "ams-charge-{}-{}-{}",
                attempt.invoice_id, attempt.part, attempt.attempt
            );
            let asked = OffSession {
                customer: &charge.customer,
                payment_method: &charge.method,
                amount_cents: charge.amount_cents,
                currency: &charge.currency,
                invoice_id: attempt.invoice_id,
                attempt: attempt.attempt,
                idempotency_key: &key,
            };
            match stripe.charge_saved(&asked).await {
                Ok(Charged::Accepted(intent)) => accepted(db, &attempt, &charge, intent).await,
                Ok(Charged::Declined {
                    intent_id,
                    code,
                    message,
                }) => {
                    let decline = Decline {
                        code,
                        message,
                        intent_id,
                    };
                    record_decline(db, &attempt, &decline, Some(&charge), as_of).await
                }
                Err(e) => release(&db.conn, &attempt, &e.to_string()).await,
            }
        }
    }
}

/// Takes attempt `id` under a lease when it is due and no other server holds it.
async fn take(conn: &impl ConnectionTrait, id: i64, as_of: NaiveDate) -> Result<Option<a::Model>> {
    let now = clock::now();
    let res = a::Entity::update_many()
        .col_expr(a::Column::Status, Expr::val(PROCESSING))
        .col_expr(
            a::Column::LeaseUntil,
            Expr::val(now + Duration::minutes(LEASE_MINUTES)),
        )
        .filter(a::Column::Id.eq(id))
        .filter(due(as_of, now))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Ok(None);
    }
    Ok(a::Entity::find_by_id(id).one(conn).await?)
}

/// A charge to make: how much, with which card.
#[derive(Debug, Clone)]
struct Charge {
    customer: String,
    method: String,
    amount_cents: i64,
    currency: String,
}

enum Plan {
    NotNeeded,
    NoCard,
    Charge(Charge),
}

async fn plan(conn: &impl ConnectionTrait, attempt: &a::Model) -> Result<Plan> {
    let view = invoices::get(conn, Actor::Staff, attempt.invoice_id).await?;
    let amount_cents = owed(&view, attempt.part);
    if amount_cents <= 0 {
        return Ok(Plan::NotNeeded);
    }
    let Some((customer, method)) = default_card(conn, attempt.payer_id).await? else {
        return Ok(Plan::NoCard);
    };
    Ok(Plan::Charge(Charge {
        customer,
        method: method.provider_id,
        amount_cents,
        currency: settings::get(conn).await?.currency,
    }))
}

/// G-5: the card AutoPay charges for `contact_id`, with the provider customer it is saved under.
async fn default_card(
    conn: &impl ConnectionTrait,
    contact_id: i64,
) -> Result<Option<(String, m::Model)>> {
    let method = m::Entity::find()
        .filter(m::Column::ContactId.eq(contact_id))
        .filter(m::Column::IsDefault.eq(true))
        .one(conn)
        .await?;
    let customer = pc::Entity::find_by_id(contact_id).one(conn).await?;
    Ok(match (customer, method) {
        (Some(c), Some(m)) => Some((c.provider_id, m)),
        _ => None,
    })
}

/// What the attempt charges: the open balance, or (S-11) what is owed up to its part. A
/// whole-invoice charge of an invoice since planned in instalments is left to its parts.
fn owed(view: &InvoiceView, part: i32) -> i64 {
    if view.invoice.status != OPEN {
        return 0;
    }
    let balance = view.balance();
    if part == 0 {
        return if view.instalments.is_empty() {
            balance
        } else {
            0
        };
    }
    view.instalments
        .iter()
        .find(|p| p.number == part)
        .map_or(0, |p| {
            (p.covers_from_cents + p.amount_cents - view.invoice.paid_cents).clamp(0, balance)
        })
}

async fn finish_not_needed(conn: &impl ConnectionTrait, attempt: &a::Model) -> Result<Outcome> {
    a::Entity::update_many()
        .col_expr(a::Column::Status, Expr::val(NOT_NEEDED))
        .col_expr(a::Column::LeaseUntil, Expr::val(None::<DateTime<Utc>>))
        .col_expr(a::Column::AttemptedAt, Expr::val(clock::now()))
        .filter(a::Column::Id.eq(attempt.id))
        .exec(conn)
        .await?;
    Ok(Outcome::NotNeeded)
}

/// The provider could not be reached or refused the request itself: the attempt waits for the
/// next run, which asks again with the same idempotency key.
async fn release(conn: &impl ConnectionTrait, attempt: &a::Model, error: &str) -> Result<Outcome> {
    tracing::warn!(invoice = attempt.invoice_id, attempt = attempt.attempt, %error,
        "AutoPay charge deferred");
    a::Entity::update_many()
        .col_expr(a::Column::Status, Expr::val(SCHEDULED))
        .col_expr(a::Column::LeaseUntil, Expr::val(None::<DateTime<Utc>>))
        .col_expr(
            a::Column::Message,
            Expr::val(error.chars().take(300).collect::<String>()),
        )
        .filter(a::Column::Id.eq(attempt.id))
        .exec(conn)
        .await?;
    Ok(Outcome::Deferred)
}

/// The provider took the charge: the intent is kept, and its money recorded once (the
/// provider's event for it finds it recorded). Still processing: the event will end it.
async fn accepted(
    db: &Db,
    attempt: &a::Model,
    charge: &Charge,
    intent: super::ChargeIntent,
) -> Result<Outcome> {
    let now = clock::now();
    let txn = db.write().await?;
    pi::Entity::insert(pi::ActiveModel {
        invoice_id: Set(attempt.invoice_id),
        provider_id: Set(intent.id.clone()),
        amount_cents: Set(charge.amount_cents),
        currency: Set(charge.currency.clone()),
        // Confirmed by the server: no client ever confirms it.
        client_secret: Set(String::new()),
        payment_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(pi::Column::ProviderId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let status = if intent.status == "succeeded" {
        PROCESSING
    } else {
        PENDING
    };
    made(
        &txn,
        attempt,
        Some(charge),
        Some(&intent.id),
        status,
        None,
        now,
    )
    .await?;
    let outcome = if intent.status == "succeeded" {
        let received = Received {
            provider_id: intent.id,
            amount_cents: intent.amount,
            currency: intent.currency,
        };
        settle::received(&txn, &received, now).await?;
        // Recorded now, or by the provider's event before: the intent names the payment.
        let payment_id = pi::Entity::find()
            .filter(pi::Column::ProviderId.eq(received.provider_id.as_str()))
            .one(&txn)
            .await?
            .and_then(|kept| kept.payment_id);
        settled(&txn, &received.provider_id, payment_id).await?;
        Outcome::Succeeded
    } else {
        Outcome::Pending
    };
    txn.commit().await?;
    Ok(outcome)
}

/// Records what was asked of the provider on the attempt.
async fn made(
    conn: &impl ConnectionTrait,
    attempt: &a::Model,
    charge: Option<&Charge>,
    intent_id: Option<&str>,
    status: &str,
    decline: Option<&Decline>,
    now: DateTime<Utc>,
) -> Result<()> {
    a::Entity::update_many()
        .col_expr(a::Column::Status, Expr::val(status))
        .col_expr(a::Column::LeaseUntil, Expr::val(None::<DateTime<Utc>>))
        .col_expr(
            a::Column::PaymentMethod,
            Expr::val(charge.map(|c| c.method.clone())),
        )
        .col_expr(
            a::Column::AmountCents,
            Expr::val(charge.map(|c| c.amount_cents)),
        )
        .col_expr(a::Column::ProviderIntentId, Expr::val(intent_id))
        .col_expr(
            a::Column::DeclineCode,
            Expr::val(decline.map(|d| d.code.chars().take(100).collect::<String>())),
        )
        .col_expr(
            a::Column::Message,
            Expr::val(decline.map(|d| d.message.chars().take(300).collect::<String>())),
        )
        .col_expr(a::Column::AttemptedAt, Expr::val(now))
        .filter(a::Column::Id.eq(attempt.id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Why a charge did not go through.
#[derive(Debug, Clone)]
struct Decline {
    code: String,
    message: String,
    intent_id: Option<String>,
}

async fn record_decline(
    db: &Db,
    attempt: &a::Model,
    decline: &Decline,
    charge: Option<&Charge>,
    as_of: NaiveDate,
) -> Result<Outcome> {
    let now = clock::now();
    let txn = db.write().await?;
    let intent_id = decline.intent_id.as_deref();
    made(&txn, attempt, charge, intent_id, FAILED, Some(decline), now).await?;
    dun(&txn, attempt, decline, as_of, now).await?;
    txn.commit().await?;
    Ok(Outcome::Failed)
}

/// G-6: the next attempt on the schedule, or the end of dunning; either way the failure is
/// announced (`invoice.charge_failed`, `final` on the last).
async fn dun(
    conn: &impl ConnectionTrait,
    attempt: &a::Model,
    decline: &Decline,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<()> {
    let days = dunning::retry_days(conn).await?;
    let first_due = first_due(conn, attempt).await?;
    let next = dunning::next_due(first_due, attempt.attempt, &days, as_of);
    if let Some(due) = next {
        a::Entity::insert(a::ActiveModel {
            invoice_id: Set(attempt.invoice_id),
            part: Set(attempt.part),
            attempt: Set(attempt.attempt + 1),
            payer_id: Set(attempt.payer_id),
            due_on: Set(due),
            status: Set(SCHEDULED.into()),
            created_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([a::Column::InvoiceId, a::Column::Part, a::Column::Attempt])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    }
    if next.is_none() {
        // N-1: dunning is over; the member is told to pay otherwise.
        notices::for_invoices(
            conn,
            notices::PAYMENT_FAILED,
            &[attempt.invoice_id],
            notices::Recipient::Payer,
            now,
        )
        .await?;
    }
    let inv = invoices::get(conn, Actor::Staff, attempt.invoice_id)
        .await?
        .invoice;
    let event = Event::invoice(
        events::INVOICE_CHARGE_FAILED,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({
            "payer_id": attempt.payer_id,
            "part": attempt.part,
            "attempt": attempt.attempt,
            "decline_code": decline.code,
            "balance": money::format_cents(inv.total_cents - inv.paid_cents - inv.written_off_cents),
            "next_attempt_on": next,
            "final": next.is_none(),
        }),
    );
    events::emit(conn, vec![event]).await
}

/// The day the first charge of the attempt's invoice (and part) was due: retries count from it.
async fn first_due(conn: &impl ConnectionTrait, attempt: &a::Model) -> Result<NaiveDate> {
    Ok(a::Entity::find()
        .filter(a::Column::InvoiceId.eq(attempt.invoice_id))
        .filter(a::Column::Part.eq(attempt.part))
        .filter(a::Column::Attempt.eq(1))
        .one(conn)
        .await?
        .map_or(attempt.due_on, |first| first.due_on))
}

/// G-5: the AutoPay attempt that made the intent succeeded, once its money is recorded.
pub async fn settled(
    conn: &impl ConnectionTrait,
    provider_id: &str,
    payment_id: Option<i64>,
) -> Result<()> {
    a::Entity::update_many()
        .col_expr(a::Column::Status, Expr::val(SUCCEEDED))
        .col_expr(a::Column::PaymentId, Expr::val(payment_id))
        .col_expr(a::Column::LeaseUntil, Expr::val(None::<DateTime<Utc>>))
        .filter(a::Column::ProviderIntentId.eq(provider_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// G-6: the provider's `payment_intent.payment_failed` for a charge it was still processing.
pub async fn failed_later(
    conn: &impl ConnectionTrait,
    object: &Value,
    now: DateTime<Utc>,
) -> Result<String> {
    let intent_id = object["id"].as_str().unwrap_or_default();
    let attempt = a::Entity::find()
        .filter(a::Column::ProviderIntentId.eq(intent_id))
        .filter(a::Column::Status.is_in([PENDING, PROCESSING]))
        .one(conn)
        .await?;
    let Some(attempt) = attempt else {
        return Ok(format!("{intent_id}: no charge waiting for it"));
    };
    let error = &object["last_payment_error"];
    let decline = Decline {
        code: error["decline_code"]
            .as_str()
            .or(error["code"].as_str())
            .unwrap_or("declined")
            .to_owned(),
        message: error["message"].as_str().unwrap_or_default().to_owned(),
        intent_id: Some(intent_id.to_owned()),
    };
    a::Entity::update_many()
        .col_expr(a::Column::Status, Expr::val(FAILED))
        .col_expr(a::Column::LeaseUntil, Expr::val(None::<DateTime<Utc>>))
        .col_expr(
            a::Column::DeclineCode,
            Expr::val(decline.code.chars().take(100).collect::<String>()),
        )
        .col_expr(
            a::Column::Message,
            Expr::val(decline.message.chars().take(300).collect::<String>()),
        )
        .filter(a::Column::Id.eq(attempt.id))
        .exec(conn)
        .await?;
    dun(conn, &attempt, &decline, now.date_naive(), now).await?;
    Ok(format!(
        "{intent_id}: charge {} of invoice {} failed ({})",
        attempt.attempt, attempt.invoice_id, decline.code
    ))
}
