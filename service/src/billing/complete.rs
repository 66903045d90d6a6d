//! I-3, J-5, L-6, C-7: what a payment in full does. Each line's subscription is paid through
//! the line's term end; a join gives the contact its new customer type, category, renew
//! months and (the first time) join date; the term is recorded in the contact's history.
//!
//! [`paid_in_full`] lists the effects in the order they are written; each is one step below,
//! and each records what it changed in [`Effects`], so that a refund (M-2) can undo exactly
//! these steps.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use entity::contact as c;
use entity::invoice as i;
use entity::invoice_line as l;
use entity::subscription as s;

use crate::billing::invoices::InvoiceKind;
use crate::customer_types::in_formula_family;
use crate::error::Result;
use crate::events::{self, Event};
use crate::flow_down::FlowDown;
use crate::history::{self, TermRecord};
use crate::products::TAX_SUFFIX;
use crate::{contacts, notices, paid_through};

use super::effects::Effects;
use super::invoices::{InvoiceView, OPEN, PAID};

/// Everything paying `view` in full does, in one transaction (`conn`): the invoice is paid and
/// takes effect. `view` is the invoice as the payment left it, before it is marked paid.
/// Returns what it changed, as it was before.
pub async fn paid_in_full(
    conn: &impl ConnectionTrait,
    view: &InvoiceView,
    now: DateTime<Utc>,
) -> Result<Effects> {
    mark_paid(conn, view).await?;
    take_effect(conn, view, now).await
}

/// I-3, S-11 after what `view` received went up (a payment, a credit note): it takes effect
/// once paid in full, or once its first instalment is paid; it is marked paid once paid in
/// full. What taking effect changed is kept with `payment_id` for a refund to undo (M-2).
pub async fn settle(
    conn: &impl ConnectionTrait,
    view: &InvoiceView,
    payment_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let inv = &view.invoice;
    let full = inv.paid_cents == inv.total_cents;
    if full && inv.status == OPEN {
        mark_paid(conn, view).await?;
    }
    let due = full || super::instalments::first_part_paid(view);
    if due && !Effects::kept(conn, inv.id).await? {
        let effects = take_effect(conn, view, now).await?;
        effects.save(conn, inv.id, payment_id, now).await?;
    }
    Ok(())
}

/// What a paid invoice does, in this order (J-5, I-3, L-6, CT-6); returns what it changed.
pub async fn take_effect(
    conn: &impl ConnectionTrait,
    view: &InvoiceView,
    now: DateTime<Utc>,
) -> Result<Effects> {
    let mut payment = FullPayment::load(conn, view, now).await?;
    payment.retire_replaced_primaries(conn).await?;
    let moved = payment.advance_subscriptions(conn).await?;
    payment.sync_contact_paid_through(conn).await?;
    let mut contact = payment.contact_update();
    if payment.renews_membership() {
        payment.take_type_and_category(&mut contact);
        payment.take_renew_months(&mut contact);
    }
    payment.set_first_join_date(&mut contact);
    payment.set_primary_chapter(&mut contact);
    payment.update_contact(conn, contact).await?;
    if payment.renews_membership() {
        payment.record_type_change(conn).await?;
        payment.record_term(conn).await?;
    }
    payment.emit_events(conn, moved).await?;
    payment.welcome(conn).await?;
    Ok(payment.effects)
}

/// I-3: the invoice is paid: `invoice.paid`.
async fn mark_paid(conn: &impl ConnectionTrait, view: &InvoiceView) -> Result<()> {
    let inv = &view.invoice;
    i::Entity::update_many()
        .col_expr(i::Column::Status, Expr::val(PAID))
        .filter(i::Column::Id.eq(inv.id))
        .exec(conn)
        .await?;
    let event = Event::invoice(
        events::INVOICE_PAID,
        inv.id,
        inv.contact_id,
        inv.total_cents,
        json!({"kind": inv.kind}),
    );
    events::emit(conn, vec![event]).await
}

/// A payment in full being applied: the invoice, its contact and the subscriptions the
/// contact held, both as they were before the payment.
struct FullPayment<'a> {
    view: &'a InvoiceView,
    contact: c::Model,
    /// Codes of the customer types with a formula primary fee (`CT-3`).
    designators: Vec<String>,
    held: Vec<s::Model>,
    now: DateTime<Utc>,
    effects: Effects,
}

impl<'a> FullPayment<'a> {
    async fn load(
        conn: &impl ConnectionTrait,
        view: &'a InvoiceView,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let contact_id = view.invoice.contact_id;
        let contact = contacts::require(conn, contact_id).await?;
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
        Ok(Self {
            view,
            effects: Effects::of(&contact),
            contact,
            designators,
            held,
            now,
        })
    }

    fn primary_lines(&self) -> impl Iterator<Item = &l::Model> {
        self.view.lines.iter().filter(|l| l.is_primary)
    }

    /// B-15, S-10: the membership effects (type, category, renew months, the term ledger)
    /// come from a primary fee line, or from the membership invoice of a join (the one that
    /// carries the joined type). An invoice of a non-dues cycle, or a join's invoice to another
    /// payer, pays its subscriptions only.
    fn renews_membership(&self) -> bool {
        let inv = &self.view.invoice;
        self.primary_lines().next().is_some()
            || (inv.kind == InvoiceKind::Join && inv.customer_type.is_some())
    }

    /// S-8: a new primary product of a formula family replaces the one held before: the
    /// other active subscriptions of that family are deactivated.
    async fn retire_replaced_primaries(&mut self, conn: &impl ConnectionTrait) -> Result<()> {
        let view = self.view;
        for line in view.lines.iter().filter(|l| l.is_primary) {
            let designators: Vec<String> = self
                .designators
                .iter()
                .filter(|d| in_formula_family(d, &line.product))
                .cloned()
                .collect();
            for d in designators {
                let others = self.held_in_family_besides(&d, &line.product);
                for h in self.held.iter().filter(|h| others.contains(&h.id)) {
                    self.effects.subscription(h);
                }
                if !others.is_empty() {
                    s::Entity::update_many()
                        .col_expr(s::Column::Active, Expr::val(false))
                        .col_expr(s::Column::Version, Expr::col(s::Column::Version).add(1))
                        .col_expr(s::Column::UpdatedAt, Expr::val(self.now))
                        .filter(s::Column::Id.is_in(others))
                        .exec(conn)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Ids of the active held subscriptions of family `designator` to a product other than
    /// `product`.
    fn held_in_family_besides(&self, designator: &str, product: &str) -> Vec<i64> {
        self.held
            .iter()
            .filter(|h| {
                h.active && h.product != product && in_formula_family(designator, &h.product)
            })
            .map(|h| h.id)
            .collect()
    }

    /// I-3: each line (tax companions aside) moves its subscription's paid-through to the
    /// line's term end, opening the subscription if the contact held none, and the line
    /// records the subscription and the term it paid. Returns one event per subscription.
    async fn advance_subscriptions(&mut self, conn: &impl ConnectionTrait) -> Result<Vec<Event>> {
        let mut moved = Vec::new();
        let view = self.view;
        // M-8: a one-off invoice pays through only the subscriptions it billed.
        let one_off = view.invoice.kind == InvoiceKind::Other;
        for line in view
            .lines
            .iter()
            .filter(|l| !l.product.ends_with(TAX_SUFFIX))
            .filter(|l| !one_off || l.subscription_id.is_some())
        {
            let held = self.held.iter().find(|h| h.product == line.product);
            let (sub_id, event) = match held {
                Some(h) => {
                    self.effects.subscription(h);
                    self.extend_held(conn, h, line).await?
                }
                None => {
                    let opened = self.open_subscription(conn, line).await?;
                    self.effects.opened.push(opened.0);
                    opened
                }
            };
            moved.push(event);
            self.effects.line(line);
            mark_line_billed(conn, line, sub_id).await?;
        }
        Ok(moved)
    }

    /// I-3: a held subscription is paid through the later of its paid-through and the
    /// line's term end, and becomes active and billed.
    async fn extend_held(
        &self,
        conn: &impl ConnectionTrait,
        h: &s::Model,
        line: &l::Model,
    ) -> Result<(i64, Event)> {
        let through = h
            .paid_through
            .map_or(line.term_end, |p| Ord::max(p, line.term_end));
        let event =
            Event::subscription(h.id, self.contact.id, &line.product, "paid", Some(through));
        let mut am: s::ActiveModel = h.clone().into();
        am.paid_through = Set(Some(through));
        if h.begin_date.is_none() {
            am.begin_date = Set(Some(line.term_begin));
        }
        am.active = Set(true);
        am.billed = Set(true);
        am.accounting_method = Set(self.view.invoice.accounting_method);
        am.is_membership_component = Set(h.is_membership_component || line.is_primary);
        am.version = Set(h.version + 1);
        am.updated_at = Set(self.now);
        Ok((am.update(conn).await?.id, event))
    }

    /// I-3: a line for a product the contact did not hold opens its subscription, paid
    /// through the line's term end.
    async fn open_subscription(
        &self,
        conn: &impl ConnectionTrait,
        line: &l::Model,
    ) -> Result<(i64, Event)> {
        let inv = &self.view.invoice;
        let id = s::ActiveModel {
            contact_id: Set(self.contact.id),
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
            accounting_method: Set(inv.accounting_method),
            billed: Set(true),
            version: Set(1),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            ..Default::default()
        }
        .insert(conn)
        .await?
        .id;
        let event = Event::subscription(
            id,
            self.contact.id,
            &line.product,
            "created",
            Some(line.term_end),
        );
        Ok((id, event))
    }

    /// C-7: the contact's membership paid-through follows its primary dues subscription.
    async fn sync_contact_paid_through(&self, conn: &impl ConnectionTrait) -> Result<()> {
        paid_through::sync(conn, &[self.contact.id], self.now).await
    }

    /// J-5: the contact's changes start as a new version; the steps below add the fields,
    /// and [`Self::update_contact`] writes them in one statement.
    fn contact_update(&self) -> c::ActiveModel {
        c::ActiveModel {
            version: Set(self.contact.version + 1),
            updated_at: Set(self.now),
            ..Default::default()
        }
    }

    /// J-5: the contact takes what it joined (or renewed) as, in one update.
    async fn update_contact(&self, conn: &impl ConnectionTrait, am: c::ActiveModel) -> Result<()> {
        c::Entity::update_many()
            .set(am)
            .filter(c::Column::Id.eq(self.contact.id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// J-1, J-5, L-5: the customer type and billing category the invoice was billed for.
    fn take_type_and_category(&self, am: &mut c::ActiveModel) {
        let inv = &self.view.invoice;
        if let Some(t) = &inv.customer_type {
            am.customer_type = Set(t.clone());
        }
        if inv.billing_category.is_some() {
            am.billing_category = Set(inv.billing_category.clone());
        }
    }

    /// J-2, J-5: the renew months of the paid term.
    fn take_renew_months(&self, am: &mut c::ActiveModel) {
        if let Some(m) = self.view.invoice.term_months {
            am.renew_months = Set(Some(m));
        }
    }

    /// I-3, J-5: a first join sets the join date, unless the contact already has one.
    fn set_first_join_date(&self, am: &mut c::ActiveModel) {
        let inv = &self.view.invoice;
        if inv.first_join && self.contact.join_date.is_none() {
            am.join_date = Set(inv.join_date.or(inv.term_begin));
        }
    }

    /// B-9: a contact without a primary chapter takes the first chapter it paid for.
    fn set_primary_chapter(&self, am: &mut c::ActiveModel) {
        if let Some(ch) = self.view.lines.iter().find(|l| l.is_chapter)
            && self.contact.primary_chapter.is_none()
        {
            am.primary_chapter = Set(Some(ch.product.clone()));
        }
    }

    /// L-6, CT-6: a new customer type is recorded in the contact's history, and an
    /// organization's linked persons follow it.
    async fn record_type_change(&mut self, conn: &impl ConnectionTrait) -> Result<()> {
        let Some(t) = self
            .view
            .invoice
            .customer_type
            .as_ref()
            .filter(|t| **t != self.contact.customer_type)
        else {
            return Ok(());
        };
        let contact = &self.contact;
        let row = history::record_change(
            conn,
            contact.id,
            history::TYPE_CHANGE,
            &contact.customer_type,
            t,
            self.now,
        )
        .await?;
        let fd = FlowDown::load(conn).await?;
        let moved = fd.apply_to_linked(conn, contact.id, t, self.now).await?;
        self.effects.history.push(row);
        self.effects.flowed_down(moved);
        Ok(())
    }

    /// L-6: the paid term, with the primary product, enters the term ledger.
    async fn record_term(&mut self, conn: &impl ConnectionTrait) -> Result<()> {
        let inv = &self.view.invoice;
        let (Some(begin), Some(end)) = (inv.term_begin, inv.term_end) else {
            return Ok(());
        };
        let primary = self.primary_lines().next().map(|l| l.product.as_str());
        let row = history::record_term(
            conn,
            TermRecord {
                contact_id: self.contact.id,
                begin,
                end,
                customer_type: inv.customer_type.as_deref(),
                product: primary,
                invoice_id: inv.id,
            },
            self.now,
        )
        .await?;
        self.effects.history.push(row);
        Ok(())
    }

    /// Its subscriptions moved, and a join or renewal took effect: `moved`, then the
    /// membership event (if any), in that order (after `invoice.paid` when it is paid).
    async fn emit_events(&self, conn: &impl ConnectionTrait, moved: Vec<Event>) -> Result<()> {
        let mut all = Vec::with_capacity(moved.len() + 1);
        all.extend(moved);
        if let Some(e) = self.membership_event(conn).await? {
            all.push(e);
        }
        events::emit(conn, all).await
    }

    /// N-1: a paid join is a welcome to its member.
    async fn welcome(&self, conn: &impl ConnectionTrait) -> Result<()> {
        let inv = &self.view.invoice;
        if inv.kind != InvoiceKind::Join || !self.renews_membership() {
            return Ok(());
        }
        notices::for_invoices(
            conn,
            notices::WELCOME,
            &[inv.id],
            notices::Recipient::Holder,
            self.now,
        )
        .await
    }

    /// `membership.joined` or `membership.renewed` for a join or renewal with a primary
    /// line, carrying the contact as the payment left it.
    async fn membership_event(&self, conn: &impl ConnectionTrait) -> Result<Option<Event>> {
        let inv = &self.view.invoice;
        let kind = match inv.kind {
            InvoiceKind::Join => events::MEMBERSHIP_JOINED,
            InvoiceKind::Renewal => events::MEMBERSHIP_RENEWED,
            InvoiceKind::Other => return Ok(None),
        };
        if !self.renews_membership() {
            return Ok(None);
        }
        let after = contacts::require(conn, inv.contact_id).await?;
        Ok(Some(Event::contact(
            kind,
            after.id,
            json!({
                "invoice_id": inv.id,
                "customer_type": after.customer_type,
                "join_date": after.join_date,
                "paid_through": after.paid_through,
            }),
        )))
    }
}

/// I-3: the line records the subscription it paid and the term it billed.
async fn mark_line_billed(conn: &impl ConnectionTrait, line: &l::Model, sub_id: i64) -> Result<()> {
    l::Entity::update_many()
        .col_expr(l::Column::SubscriptionId, Expr::val(sub_id))
        .col_expr(l::Column::BilledTerm, Expr::val(line.term_begin))
        .filter(l::Column::Id.eq(line.id))
        .exec(conn)
        .await?;
    Ok(())
}
