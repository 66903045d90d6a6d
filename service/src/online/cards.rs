//! G-4: saved cards. A member saves a card through the provider's setup intent; the server
//! keeps the provider's ids and the card's brand, last four digits and expiry, never its
//! number. The newest card is the default, which AutoPay charges (G-5); removing the last one
//! turns AutoPay off. Saving a card retries at once a charge that dunning had scheduled (G-6).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use entity::contact as c;
use entity::payment_customer as pc;
use entity::saved_payment_method as m;

use crate::clock;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::events::{self, Event};

use super::{Stripe, charges};

/// What the front end needs to collect a card with the provider's own form.
#[derive(Debug, Clone)]
pub struct SetupView {
    pub setup_intent_id: String,
    pub client_secret: String,
    pub customer_id: String,
}

/// G-4: a setup intent for `contact_id` to save a card for off-session charges.
pub async fn setup_intent(
    db: &Db,
    provider: Option<&Stripe>,
    contact_id: i64,
) -> Result<SetupView> {
    let stripe = super::require(provider)?;
    let customer = customer_of(db, stripe, contact_id).await?;
    let key = format!("ams-setup-{contact_id}-{}", clock::now().timestamp_micros());
    let intent = stripe
        .create_setup_intent(&customer, contact_id, &key)
        .await?;
    Ok(SetupView {
        setup_intent_id: intent.id,
        client_secret: intent.client_secret,
        customer_id: customer,
    })
}

/// G-4: keeps the card of a confirmed setup intent of `contact_id`'s (what the front end calls
/// once the provider's form succeeded; the provider's `setup_intent.succeeded` event does the
/// same). Returns the saved method and how many scheduled charges were retried at once.
pub async fn save(
    db: &Db,
    provider: Option<&Stripe>,
    contact_id: i64,
    setup_intent_id: &str,
) -> Result<Saved> {
    let stripe = super::require(provider)?;
    let intent = stripe.setup_intent(setup_intent_id).await?;
    let customer = known_customer(&db.conn, contact_id).await?;
    if intent.customer.as_deref() != Some(customer.as_str()) {
        return Err(Error::not_found("setup intent", setup_intent_id));
    }
    let pm = match (intent.status.as_str(), intent.payment_method) {
        ("succeeded", Some(pm)) => pm,
        (status, _) => {
            return Err(Error::conflict(format!(
                "setup intent {setup_intent_id} is {status}: the card is not confirmed yet"
            )));
        }
    };
    keep_method(db, stripe, contact_id, &customer, &pm).await
}

/// G-3, G-4: the provider's `setup_intent.succeeded`: the card is kept for the customer's
/// contact. A customer unknown here is acknowledged and left alone.
pub async fn from_event(db: &Db, stripe: &Stripe, object: &serde_json::Value) -> Result<String> {
    let customer = object["customer"].as_str().unwrap_or_default();
    let pm = object["payment_method"].as_str().unwrap_or_default();
    let contact = pc::Entity::find()
        .filter(pc::Column::ProviderId.eq(customer))
        .one(&db.conn)
        .await?;
    let (Some(contact), false) = (contact, pm.is_empty()) else {
        return Ok(format!("setup intent for customer {customer:?}: not ours"));
    };
    let saved = keep_method(db, stripe, contact.contact_id, customer, pm).await?;
    Ok(format!(
        "card {} saved for contact {}",
        saved.method.id, contact.contact_id
    ))
}

/// A kept card and the dunning retries it pulled forward.
#[derive(Debug, Clone)]
pub struct Saved {
    pub method: m::Model,
    pub retried: u64,
}

/// The contact's saved methods, the default first, then the newest.
pub async fn list(conn: &impl ConnectionTrait, contact_id: i64) -> Result<Vec<m::Model>> {
    Ok(m::Entity::find()
        .filter(m::Column::ContactId.eq(contact_id))
        .order_by_desc(m::Column::IsDefault)
        .order_by_desc(m::Column::Id)
        .all(conn)
        .await?)
}

/// Makes method `method_id` of `contact_id` the one AutoPay charges.
pub async fn make_default(db: &Db, contact_id: i64, method_id: i64) -> Result<m::Model> {
    let txn = db.write().await?;
    let method = own(&txn, contact_id, method_id).await?;
    set_default(&txn, contact_id, method.id, clock::now()).await?;
    let method = own(&txn, contact_id, method_id).await?;
    txn.commit().await?;
    Ok(method)
}

/// G-4: removes a saved card, at the provider too. The newest other card becomes the default;
/// with none left, AutoPay is off.
pub async fn remove(
    db: &Db,
    provider: Option<&Stripe>,
    contact_id: i64,
    method_id: i64,
) -> Result<()> {
    let stripe = super::require(provider)?;
    let method = own(&db.conn, contact_id, method_id).await?;
    let key = format!("ams-detach-{}", method.provider_id);
    stripe
        .detach_payment_method(&method.provider_id, &key)
        .await?;
    let txn = db.write().await?;
    let now = clock::now();
    m::Entity::delete_by_id(method.id).exec(&txn).await?;
    let newest = m::Entity::find()
        .filter(m::Column::ContactId.eq(contact_id))
        .order_by_desc(m::Column::Id)
        .one(&txn)
        .await?;
    match newest {
        Some(next) if method.is_default => set_default(&txn, contact_id, next.id, now).await?,
        Some(_) => {}
        None => {
            // G-4: no card left, nothing for AutoPay to charge.
            let changed =
                json!({ "changed": ["autopay"], "why": "its last saved card was removed" });
            write_autopay(&txn, contact_id, false, changed, now).await?
        }
    }
    txn.commit().await?;
    Ok(())
}

/// G-4: the contact turns AutoPay on (with a default saved card) or off.
pub async fn set_autopay(db: &Db, contact_id: i64, on: bool) -> Result<bool> {
    let txn = db.write().await?;
    if on && !has_default(&txn, contact_id).await? {
        return Err(Error::conflict(
            "AutoPay charges a saved card: save one first (POST /me/payment-methods/setup-intent)",
        ));
    }
    let changed = json!({ "changed": ["autopay"] });
    write_autopay(&txn, contact_id, on, changed, clock::now()).await?;
    txn.commit().await?;
    Ok(on)
}

/// Whether `contact_id` has a card AutoPay can charge (G-4: needed to turn AutoPay on).
pub async fn has_default(conn: &impl ConnectionTrait, contact_id: i64) -> Result<bool> {
    Ok(m::Entity::find()
        .filter(m::Column::ContactId.eq(contact_id))
        .filter(m::Column::IsDefault.eq(true))
        .count(conn)
        .await?
        > 0)
}

/// The provider customer of `contact_id`, made at the provider the first time.
async fn customer_of(db: &Db, stripe: &Stripe, contact_id: i64) -> Result<String> {
    if let Some(kept) = pc::Entity::find_by_id(contact_id).one(&db.conn).await? {
        return Ok(kept.provider_id);
    }
    let contact = c::Entity::find_by_id(contact_id)
        .one(&db.conn)
        .await?
        .ok_or_else(|| Error::not_found("contact", contact_id))?;
    let key = format!("ams-customer-{contact_id}");
    let made = stripe
        .create_customer(contact_id, contact.email.as_deref(), &key)
        .await?;
    // Two requests at once may both make one; the first kept is the one used.
    pc::Entity::insert(pc::ActiveModel {
        contact_id: Set(contact_id),
        provider_id: Set(made.id),
        created_at: Set(clock::now()),
    })
    .on_conflict(
        OnConflict::column(pc::Column::ContactId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&db.conn)
    .await?;
    known_customer(&db.conn, contact_id).await
}

async fn known_customer(conn: &impl ConnectionTrait, contact_id: i64) -> Result<String> {
    pc::Entity::find_by_id(contact_id)
        .one(conn)
        .await?
        .map(|c| c.provider_id)
        .ok_or_else(|| {
            Error::conflict(format!(
                "contact {contact_id} has no customer at the payment provider: start with a setup intent"
            ))
        })
}

/// Reads the card at the provider (attaching it to the customer where the provider has not),
/// keeps it as the default and pulls forward the retries dunning scheduled.
async fn keep_method(
    db: &Db,
    stripe: &Stripe,
    contact_id: i64,
    customer: &str,
    pm_id: &str,
) -> Result<Saved> {
    let mut pm = stripe.payment_method(pm_id).await?;
    match pm.customer.as_deref() {
        None => {
            let key = format!("ams-attach-{pm_id}");
            pm = stripe.attach_payment_method(pm_id, customer, &key).await?;
        }
        Some(c) if c != customer => {
            return Err(Error::conflict(format!(
                "payment method {pm_id} belongs to another customer"
            )));
        }
        Some(_) => {}
    }
    let card = pm
        .card
        .ok_or_else(|| Error::invalid("payment_method", "only cards are saved for AutoPay"))?;
    let now = clock::now();
    let txn = db.write().await?;
    m::Entity::insert(m::ActiveModel {
        contact_id: Set(contact_id),
        provider_id: Set(pm.id.clone()),
        brand: Set(card.brand.chars().take(40).collect()),
        last4: Set(card.last4.chars().take(4).collect()),
        exp_month: Set(card.exp_month),
        exp_year: Set(card.exp_year),
        is_default: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(m::Column::ProviderId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let method = m::Entity::find()
        .filter(m::Column::ProviderId.eq(pm.id.as_str()))
        .filter(m::Column::ContactId.eq(contact_id))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::conflict(format!("payment method {pm_id} is another contact's")))?;
    set_default(&txn, contact_id, method.id, now).await?;
    let retried = charges::retry_now(&txn, contact_id, today(now)).await?;
    let method = own(&txn, contact_id, method.id).await?;
    txn.commit().await?;
    Ok(Saved { method, retried })
}

fn today(now: DateTime<Utc>) -> NaiveDate {
    now.date_naive()
}

async fn own(conn: &impl ConnectionTrait, contact_id: i64, method_id: i64) -> Result<m::Model> {
    m::Entity::find_by_id(method_id)
        .filter(m::Column::ContactId.eq(contact_id))
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("payment method", method_id))
}

/// One default per contact: this one.
async fn set_default(
    conn: &impl ConnectionTrait,
    contact_id: i64,
    method_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    m::Entity::update_many()
        .col_expr(m::Column::IsDefault, Expr::col(m::Column::Id).eq(method_id))
        .col_expr(m::Column::UpdatedAt, Expr::val(now))
        .filter(m::Column::ContactId.eq(contact_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// G-4: the contact's AutoPay flag, with its `contact.updated` event when it changes.
async fn write_autopay(
    conn: &impl ConnectionTrait,
    contact_id: i64,
    on: bool,
    changed: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let res = c::Entity::update_many()
        .col_expr(c::Column::Autopay, Expr::val(on))
        .col_expr(c::Column::Version, Expr::col(c::Column::Version).add(1))
        .col_expr(c::Column::UpdatedAt, Expr::val(now))
        .filter(c::Column::Id.eq(contact_id))
        .filter(c::Column::Autopay.ne(on))
        .exec(conn)
        .await?;
    if res.rows_affected > 0 {
        events::emit(
            conn,
            vec![Event::contact(events::CONTACT_UPDATED, contact_id, changed)],
        )
        .await?;
    }
    Ok(())
}
