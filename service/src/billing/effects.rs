//! M-2, M-3: what paying an invoice in full changed (I-3, J-5, L-6, CT-6), as the values
//! before, kept with the invoice until a refund or reversal reopens it. Undoing puts back each
//! value in the reverse order of `complete::paid_in_full`, in the refund's transaction.
//!
//! Version and `updated_at` are not put back: they move forward, so a client syncing by
//! `updated_since` sees the undo and an old `ETag` cannot overwrite it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use entity::contact as c;
use entity::contact_history as h;
use entity::invoice_line as l;
use entity::payment_effect as pe;
use entity::subscription as s;

use crate::error::{Error, Result};
use crate::flow_down::Moved;
use crate::paid_through;
use crate::settings::AccountingMethod;
use crate::sql::in_ids;

/// Everything one payment in full changed, each as it was before.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Effects {
    pub contact: ContactBefore,
    /// Held subscriptions the payment extended or retired (S-8).
    pub subscriptions: Vec<SubscriptionBefore>,
    /// Subscriptions the payment opened (lines that billed none).
    pub opened: Vec<i64>,
    /// Lines that took a subscription and a billed term.
    pub lines: Vec<LineBefore>,
    /// History rows written: the term (L-6) and type changes, linked persons' included.
    pub history: Vec<i64>,
    /// Linked persons whose type flowed down (CT-6), with their type before.
    pub linked: Vec<(i64, String)>,
    /// The type they flowed down to.
    pub linked_to: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ContactBefore {
    pub id: i64,
    pub customer_type: String,
    pub billing_category: Option<String>,
    pub renew_months: Option<i32>,
    pub join_date: Option<NaiveDate>,
    pub primary_chapter: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubscriptionBefore {
    pub id: i64,
    pub paid_through: Option<NaiveDate>,
    pub begin_date: Option<NaiveDate>,
    pub active: bool,
    pub billed: bool,
    pub accounting_method: AccountingMethod,
    pub is_membership_component: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LineBefore {
    pub id: i64,
    pub subscription_id: Option<i64>,
    pub billed_term: Option<NaiveDate>,
}

impl Effects {
    /// Starts the record of a payment in full of an invoice held by `contact`.
    pub fn of(contact: &c::Model) -> Self {
        Effects {
            contact: ContactBefore {
                id: contact.id,
                customer_type: contact.customer_type.clone(),
                billing_category: contact.billing_category.clone(),
                renew_months: contact.renew_months,
                join_date: contact.join_date,
                primary_chapter: contact.primary_chapter.clone(),
            },
            ..Default::default()
        }
    }

    /// `sub` as it was, before the payment changed it (recorded once).
    pub fn subscription(&mut self, sub: &s::Model) {
        if self.subscriptions.iter().any(|b| b.id == sub.id) {
            return;
        }
        self.subscriptions.push(SubscriptionBefore {
            id: sub.id,
            paid_through: sub.paid_through,
            begin_date: sub.begin_date,
            active: sub.active,
            billed: sub.billed,
            accounting_method: sub.accounting_method,
            is_membership_component: sub.is_membership_component,
        });
    }

    pub fn line(&mut self, line: &l::Model) {
        self.lines.push(LineBefore {
            id: line.id,
            subscription_id: line.subscription_id,
            billed_term: line.billed_term,
        });
    }

    pub fn flowed_down(&mut self, moved: Moved) {
        if moved.before.is_empty() {
            return;
        }
        self.linked = moved.before;
        self.linked_to = Some(moved.to);
        self.history.extend(moved.history);
    }

    /// Keeps the record with the invoice, replacing an earlier one (an invoice reopened and
    /// paid again).
    pub async fn save(
        &self,
        conn: &impl ConnectionTrait,
        invoice_id: i64,
        payment_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        pe::Entity::delete_by_id(invoice_id).exec(conn).await?;
        let effects = serde_json::to_string(self).map_err(|e| Error::Internal(e.to_string()))?;
        pe::ActiveModel {
            invoice_id: Set(invoice_id),
            payment_id: Set(payment_id),
            effects: Set(effects),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
        Ok(())
    }

    /// Whether `invoice_id` took effect and keeps the record of it.
    pub async fn kept(conn: &impl ConnectionTrait, invoice_id: i64) -> Result<bool> {
        Ok(pe::Entity::find_by_id(invoice_id)
            .one(conn)
            .await?
            .is_some())
    }

    /// The record of the payment that paid `invoice_id` in full, taken off the invoice.
    pub async fn take(conn: &impl ConnectionTrait, invoice_id: i64) -> Result<Option<Self>> {
        let Some(row) = pe::Entity::find_by_id(invoice_id).one(conn).await? else {
            return Ok(None);
        };
        pe::Entity::delete_by_id(invoice_id).exec(conn).await?;
        let effects =
            serde_json::from_str(&row.effects).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Some(effects))
    }

    /// Puts every value back, the last change first.
    pub async fn undo(&self, conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<()> {
        self.remove_history(conn).await?;
        self.restore_linked(conn, now).await?;
        self.restore_lines(conn).await?;
        self.remove_opened(conn).await?;
        self.restore_subscriptions(conn, now).await?;
        self.restore_contact(conn, now).await?;
        paid_through::sync(conn, &[self.contact.id], now).await
    }

    async fn remove_history(&self, conn: &impl ConnectionTrait) -> Result<()> {
        if !self.history.is_empty() {
            h::Entity::delete_many()
                .filter(in_ids(h::Column::Id, &self.history))
                .exec(conn)
                .await?;
        }
        Ok(())
    }

    /// CT-6 undone: linked persons still of the flowed-down type take their own back.
    async fn restore_linked(&self, conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<()> {
        let Some(to) = &self.linked_to else {
            return Ok(());
        };
        let mut by_type: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for (id, before) in &self.linked {
            by_type.entry(before.as_str()).or_default().push(*id);
        }
        for (before, ids) in by_type {
            c::Entity::update_many()
                .col_expr(c::Column::CustomerType, Expr::val(before))
                .col_expr(c::Column::Version, Expr::col(c::Column::Version).add(1))
                .col_expr(c::Column::UpdatedAt, Expr::val(now))
                .filter(in_ids(c::Column::Id, &ids))
                .filter(c::Column::CustomerType.eq(to.as_str()))
                .exec(conn)
                .await?;
        }
        Ok(())
    }

    async fn restore_lines(&self, conn: &impl ConnectionTrait) -> Result<()> {
        for line in &self.lines {
            l::Entity::update_many()
                .col_expr(l::Column::SubscriptionId, Expr::val(line.subscription_id))
                .col_expr(l::Column::BilledTerm, Expr::val(line.billed_term))
                .filter(l::Column::Id.eq(line.id))
                .exec(conn)
                .await?;
        }
        Ok(())
    }

    async fn remove_opened(&self, conn: &impl ConnectionTrait) -> Result<()> {
        if !self.opened.is_empty() {
            s::Entity::delete_many()
                .filter(in_ids(s::Column::Id, &self.opened))
                .exec(conn)
                .await?;
        }
        Ok(())
    }

    async fn restore_subscriptions(
        &self,
        conn: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<()> {
        for b in &self.subscriptions {
            s::Entity::update_many()
                .col_expr(s::Column::PaidThrough, Expr::val(b.paid_through))
                .col_expr(s::Column::BeginDate, Expr::val(b.begin_date))
                .col_expr(s::Column::Active, Expr::val(b.active))
                .col_expr(s::Column::Billed, Expr::val(b.billed))
                .col_expr(
                    s::Column::AccountingMethod,
                    Expr::val(b.accounting_method.as_str()),
                )
                .col_expr(
                    s::Column::IsMembershipComponent,
                    Expr::val(b.is_membership_component),
                )
                .col_expr(s::Column::Version, Expr::col(s::Column::Version).add(1))
                .col_expr(s::Column::UpdatedAt, Expr::val(now))
                .filter(s::Column::Id.eq(b.id))
                .exec(conn)
                .await?;
        }
        Ok(())
    }

    async fn restore_contact(&self, conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<()> {
        let b = &self.contact;
        c::Entity::update_many()
            .col_expr(c::Column::CustomerType, Expr::val(b.customer_type.as_str()))
            .col_expr(
                c::Column::BillingCategory,
                Expr::val(b.billing_category.clone()),
            )
            .col_expr(c::Column::RenewMonths, Expr::val(b.renew_months))
            .col_expr(c::Column::JoinDate, Expr::val(b.join_date))
            .col_expr(
                c::Column::PrimaryChapter,
                Expr::val(b.primary_chapter.clone()),
            )
            .col_expr(c::Column::Version, Expr::col(c::Column::Version).add(1))
            .col_expr(c::Column::UpdatedAt, Expr::val(now))
            .filter(c::Column::Id.eq(b.id))
            .exec(conn)
            .await?;
        Ok(())
    }
}
