//! I-3, J-5, L-6, C-7: what a payment in full does. Each line's subscription is paid through
//! the line's term end; a join gives the contact its new customer type, category, renew
//! months and (the first time) join date; the term is recorded in the contact's history.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use entity::contact as c;
use entity::invoice_line as l;
use entity::subscription as s;

use crate::customer_types::in_formula_family;
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::flow_down::FlowDown;
use crate::history::{self, TermRecord};
use crate::paid_through;
use crate::products::TAX_SUFFIX;

use super::invoices::InvoiceView;

pub async fn paid_in_full(
    conn: &impl ConnectionTrait,
    view: &InvoiceView,
    _paid_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<()> {
    let inv = &view.invoice;
    let contact = c::Entity::find_by_id(inv.contact_id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("contact", inv.contact_id))?;
    let designators: Vec<String> = entity::customer_type::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|t| t.formula_designator)
        .collect();
    let held = s::Entity::find()
        .filter(s::Column::ContactId.eq(contact.id))
        .all(conn)
        .await?;
    // S-8: a new primary product of a formula family replaces the one held before.
    for line in view.lines.iter().filter(|l| l.is_primary) {
        for d in designators
            .iter()
            .filter(|d| in_formula_family(d, &line.product))
        {
            let others: Vec<i64> = held
                .iter()
                .filter(|h| {
                    h.active && h.product != line.product && in_formula_family(d, &h.product)
                })
                .map(|h| h.id)
                .collect();
            if !others.is_empty() {
                s::Entity::update_many()
                    .col_expr(s::Column::Active, Expr::val(false))
                    .col_expr(s::Column::Version, Expr::col(s::Column::Version).add(1))
                    .col_expr(s::Column::UpdatedAt, Expr::val(now))
                    .filter(s::Column::Id.is_in(others))
                    .exec(conn)
                    .await?;
            }
        }
    }
    let mut changed = Vec::new();
    for line in view
        .lines
        .iter()
        .filter(|l| !l.product.ends_with(TAX_SUFFIX))
    {
        let sub_id = match held.iter().find(|h| h.product == line.product) {
            Some(h) => {
                let mut am: s::ActiveModel = h.clone().into();
                let through = h
                    .paid_through
                    .map_or(line.term_end, |p| Ord::max(p, line.term_end));
                changed.push(Event::subscription(
                    h.id,
                    contact.id,
                    &line.product,
                    "paid",
                    Some(through),
                ));
                am.paid_through = Set(Some(through));
                if h.begin_date.is_none() {
                    am.begin_date = Set(Some(line.term_begin));
                }
                am.active = Set(true);
                am.billed = Set(true);
                am.accounting_method = Set(inv.accounting_method.clone());
                am.is_membership_component = Set(h.is_membership_component || line.is_primary);
                am.version = Set(h.version + 1);
                am.updated_at = Set(now);
                am.update(conn).await?.id
            }
            None => {
                let id = s::ActiveModel {
                    contact_id: Set(contact.id),
                    product: Set(line.product.clone()),
                    begin_date: Set(Some(line.term_begin)),
                    paid_through: Set(Some(line.term_end)),
                    bill_to_id: Set(inv.bill_to_id),
                    bill_date: Set(None),
                    bill_begin: Set(None),
                    bill_through: Set(None),
                    billed_cents: Set(None),
                    active: Set(true),
                    cancellation_date: Set(None),
                    adjustment_reason: Set(None),
                    source_code: Set(None),
                    is_complimentary: Set(false),
                    is_membership_component: Set(line.is_primary),
                    bill_subscription: Set(true),
                    accounting_method: Set(inv.accounting_method.clone()),
                    billed: Set(true),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(conn)
                .await?
                .id;
                changed.push(Event::subscription(
                    id,
                    contact.id,
                    &line.product,
                    "created",
                    Some(line.term_end),
                ));
                id
            }
        };
        l::Entity::update_many()
            .col_expr(l::Column::SubscriptionId, Expr::val(sub_id))
            .col_expr(l::Column::BilledTerm, Expr::val(line.term_begin))
            .filter(l::Column::Id.eq(line.id))
            .exec(conn)
            .await?;
    }
    paid_through::sync(conn, &[contact.id], now).await?;

    // J-5: the contact takes the type and category it joined (or rejoined) as.
    let mut am = c::ActiveModel {
        version: Set(contact.version + 1),
        updated_at: Set(now),
        ..Default::default()
    };
    if let Some(t) = &inv.customer_type {
        am.customer_type = Set(t.clone());
    }
    if inv.billing_category.is_some() {
        am.billing_category = Set(inv.billing_category.clone());
    }
    if let Some(m) = inv.term_months {
        am.renew_months = Set(Some(m));
    }
    if inv.first_join && contact.join_date.is_none() {
        am.join_date = Set(inv.join_date.or(inv.term_begin));
    }
    if let Some(ch) = view.lines.iter().find(|l| l.is_chapter)
        && contact.primary_chapter.is_none()
    {
        am.primary_chapter = Set(Some(ch.product.clone()));
    }
    c::Entity::update_many()
        .set(am)
        .filter(c::Column::Id.eq(contact.id))
        .exec(conn)
        .await?;
    if let Some(t) = &inv.customer_type
        && *t != contact.customer_type
    {
        history::record_change(
            conn,
            contact.id,
            history::TYPE_CHANGE,
            &contact.customer_type,
            t,
            now,
        )
        .await?;
        // CT-6: an organization's linked persons follow its new type.
        let fd = FlowDown::load(conn).await?;
        fd.apply_to_linked(conn, contact.id, t, now).await?;
    }
    // L-6: the paid term, with the primary product.
    if let (Some(begin), Some(end)) = (inv.term_begin, inv.term_end) {
        let primary = view
            .lines
            .iter()
            .find(|l| l.is_primary)
            .map(|l| l.product.as_str());
        history::record_term(
            conn,
            TermRecord {
                contact_id: contact.id,
                begin,
                end,
                customer_type: inv.customer_type.as_deref(),
                product: primary,
                invoice_id: inv.id,
            },
            now,
        )
        .await?;
    }
    emit(conn, view, changed).await
}

/// The invoice is paid, its subscriptions moved, and a join or renewal took effect.
async fn emit(conn: &impl ConnectionTrait, view: &InvoiceView, mut all: Vec<Event>) -> Result<()> {
    let inv = &view.invoice;
    let paid = Event::invoice(
        events::INVOICE_PAID,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({"kind": inv.kind}),
    );
    all.insert(0, paid);
    let membership = match inv.kind.as_str() {
        "join" => Some(events::MEMBERSHIP_JOINED),
        "renewal" => Some(events::MEMBERSHIP_RENEWED),
        _ => None,
    };
    if let Some(kind) = membership.filter(|_| view.lines.iter().any(|l| l.is_primary)) {
        let after = c::Entity::find_by_id(inv.contact_id)
            .one(conn)
            .await?
            .ok_or_else(|| Error::not_found("contact", inv.contact_id))?;
        all.push(Event::contact(
            kind,
            after.id,
            json!({
                "invoice_id": inv.id,
                "customer_type": after.customer_type,
                "join_date": after.join_date,
                "paid_through": after.paid_through,
            }),
        ));
    }
    events::emit(conn, all).await
}
