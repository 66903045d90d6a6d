//! I-8: staff adjust an open join invoice before payment: add or remove optional lines,
//! change voluntary amounts or the primary product of a formula family. The lines are priced
//! again by the same plan as the join itself, and every adjustment is recorded with who and
//! why. Paid, partly paid and voided invoices are never edited.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use entity::invoice as i;
use entity::invoice_adjustment as a;
use entity::invoice_line as l;

use crate::access::Actor;
use crate::billing::invoices::InvoiceKind;
use crate::db::Db;
use crate::error::{Error, Errors, Result, check_version};
use crate::events::{self, Event};
use crate::products::ProductType;
use crate::{billing_cycles, clock, contacts};

use super::billed;
use super::invoices::{self, InvoiceView, OPEN};
use super::join::{self, CycleRef, JoinRequest};
use super::lines::LineDraft;

#[derive(Debug, Clone, Default)]
pub struct Adjustment {
    pub add: Vec<String>,
    pub remove: Vec<String>,
    pub voluntary: HashMap<String, i64>,
    pub primary_product: Option<String>,
    pub reason: String,
}

/// I-8: re-plans an open join invoice with `adj` applied and records the adjustment, in one
/// transaction.
pub async fn adjust(
    db: &Db,
    invoice_id: i64,
    adj: Adjustment,
    user_id: i64,
    expected_version: Option<i32>,
    today: NaiveDate,
) -> Result<InvoiceView> {
    let reason = invoices::checked_reason(&adj.reason)?;
    let txn = db.write().await?;
    let current = invoices::get(&txn, Actor::Staff, invoice_id).await?;
    let inv = &current.invoice;
    let cycle_id = check_adjustable(inv, expected_version)?;
    super::instalments::check_no_plan(&current)?;
    let siblings = Siblings::load(&txn, inv).await?;
    let mut billed = BilledRequest::from_lines(&current.lines, &siblings.lines);
    billed.remove(&adj.remove, invoice_id);
    let cycle = billing_cycles::get(&txn, cycle_id).await?;
    billed.add(&txn, &adj.add).await?;
    let primary = billed.primary.clone();
    let req = billed.into_request(inv, &siblings, cycle_id, &adj)?;
    let contact = contacts::require(&txn, inv.contact_id).await?;
    let planned = join::plan(&txn, &contact, &cycle, &req, today).await?;
    let bill = own_bill(&planned, inv, &adj)?;

    let now = clock::now();
    replace_lines(&txn, &current, &bill.lines, now).await?;
    update_invoice(&txn, inv, &planned, bill.total_cents, now).await?;
    let details = details(&adj, &primary, inv.total_cents, bill.total_cents);
    let change = Recorded {
        user_id,
        reason,
        details,
        total_after: bill.total_cents,
    };
    record(&txn, inv, change, now).await?;
    let view = invoices::get(&txn, Actor::Staff, invoice_id).await?;
    txn.commit().await?;
    Ok(view)
}

/// Only an open join invoice without payments, at the expected version, is adjusted.
/// Returns the invoice's cycle.
fn check_adjustable(inv: &i::Model, expected_version: Option<i32>) -> Result<i64> {
    check_version(expected_version, inv.version)?;
    if inv.status != OPEN || inv.paid_cents > 0 {
        return Err(Error::conflict(format!(
            "invoice {} is {}{}; only open invoices without payments are adjusted",
            inv.id,
            inv.status,
            if inv.paid_cents > 0 {
                " with payments"
            } else {
                ""
            }
        )));
    }
    inv.cycle_id
        .filter(|_| inv.kind == InvoiceKind::Join)
        .ok_or_else(|| {
            Error::conflict(format!(
                "invoice {} is a {} invoice; adjustments apply to join invoices",
                inv.id,
                inv.kind.as_str()
            ))
        })
}

/// S-10: the other open invoices of the same join (billed to other payers), written with it.
struct Siblings {
    /// The billing category the join was billed for (the membership invoice's).
    category: Option<String>,
    lines: Vec<l::Model>,
}

impl Siblings {
    async fn load(conn: &impl ConnectionTrait, inv: &i::Model) -> Result<Self> {
        let others = i::Entity::find()
            .filter(i::Column::ContactId.eq(inv.contact_id))
            .filter(i::Column::Kind.eq(InvoiceKind::Join))
            .filter(i::Column::CycleId.eq(inv.cycle_id))
            .filter(i::Column::CreatedAt.eq(inv.created_at))
            .filter(i::Column::Id.ne(inv.id))
            .filter(i::Column::Status.eq(OPEN))
            .all(conn)
            .await?;
        let category = others.iter().find_map(|o| o.billing_category.clone());
        let ids: Vec<i64> = others.iter().map(|o| o.id).collect();
        let lines = l::Entity::find()
            .filter(crate::sql::in_ids(l::Column::InvoiceId, &ids))
            .all(conn)
            .await?;
        Ok(Self { category, lines })
    }
}

/// S-10: the planned lines this invoice's payer is billed. What the adjustment adds (or the
/// primary product it chooses) must be billed to that payer: another payer's lines are on
/// their own invoice.
fn own_bill<'a>(
    planned: &'a join::Joined,
    inv: &i::Model,
    adj: &Adjustment,
) -> Result<&'a join::JoinBill> {
    let mut errors = Errors::new();
    let asked = adj
        .add
        .iter()
        .map(|p| ("add", p))
        .chain(adj.primary_product.iter().map(|p| ("primary_product", p)));
    for (field, product) in asked {
        let payer = planned
            .bills
            .iter()
            .find(|b| b.lines.iter().any(|l| &l.product == product))
            .map(|b| b.bill_to_id);
        if let Some(payer) = payer.filter(|p| *p != inv.bill_to_id) {
            errors.add(
                field,
                format!(
                    "{product} is billed to contact {payer}, not to this invoice's bill-to {}",
                    inv.bill_to_id
                ),
            );
        }
    }
    errors.into_result()?;
    planned.bill_of(inv.bill_to_id).ok_or_else(|| {
        Error::conflict(format!(
            "the change leaves invoice {} nothing to bill: cancel or void it instead",
            inv.id
        ))
    })
}

/// The request an invoice was billed from (its lines, tax lines aside), changed as asked.
struct BilledRequest<'a> {
    lines: Vec<&'a l::Model>,
    chapters: Vec<String>,
    add_ons: Vec<String>,
    primary: Option<String>,
    voluntary: HashMap<String, i64>,
    errors: Errors,
}

impl<'a> BilledRequest<'a> {
    /// `all` are the invoice's lines; `joined` those of the join's other invoices (S-10),
    /// which the plan needs whole (a required chapter may be billed to another payer).
    fn from_lines(all: &'a [l::Model], joined: &'a [l::Model]) -> Self {
        let lines: Vec<&l::Model> = all
            .iter()
            .filter(|l| !super::lines::is_tax_line(l, all))
            .collect();
        let whole: Vec<&l::Model> = joined
            .iter()
            .filter(|l| !super::lines::is_tax_line(l, joined))
            .chain(lines.iter().copied())
            .collect();
        let products = |keep: fn(&l::Model) -> bool| -> Vec<String> {
            whole
                .iter()
                .filter(|l| keep(l))
                .map(|l| l.product.clone())
                .collect()
        };
        let chapters = products(|l| l.is_chapter);
        let add_ons = products(|l| !l.is_chapter && !l.is_primary);
        let primary = products(|l| l.is_primary).into_iter().next();
        let voluntary = whole
            .iter()
            .filter(|l| l.voluntary)
            .map(|l| (l.product.clone(), l.amount_cents))
            .collect();
        Self {
            lines,
            chapters,
            add_ons,
            primary,
            voluntary,
            errors: Errors::new(),
        }
    }

    /// Removes chapters and add-ons; the primary fee is changed, never removed.
    fn remove(&mut self, remove: &[String], invoice_id: i64) {
        for r in remove {
            if self.lines.iter().any(|l| l.is_primary && &l.product == r) {
                self.errors.add(
                    "remove",
                    format!("{r} is the primary fee; change primary_product instead"),
                );
            } else if !self.lines.iter().any(|l| &l.product == r) {
                self.errors
                    .add("remove", format!("{r} is not on invoice {invoice_id}"));
            } else if self.chapters.contains(r) {
                self.chapters.retain(|c| c != r);
            } else if self.add_ons.contains(r) {
                self.add_ons.retain(|c| c != r);
                self.voluntary.remove(r);
            } else {
                self.errors
                    .add("remove", format!("{r} is not on invoice {invoice_id}"));
            }
        }
    }

    /// Adds existing products not yet on the invoice, as chapters or add-ons.
    async fn add(&mut self, conn: &impl ConnectionTrait, add: &[String]) -> Result<()> {
        for p in crate::products::require_all(conn, "add", add).await? {
            if self.lines.iter().any(|l| l.product == p.code) {
                self.errors
                    .add("add", format!("{} is already on the invoice", p.code));
            } else if p.product_type == ProductType::Chapter {
                self.chapters.push(p.code);
            } else {
                self.add_ons.push(p.code);
            }
        }
        Ok(())
    }

    /// The changed request, to plan as a dry-run join of the invoice's cycle and date.
    fn into_request(
        self,
        inv: &i::Model,
        siblings: &Siblings,
        cycle_id: i64,
        adj: &Adjustment,
    ) -> Result<JoinRequest> {
        self.errors.into_result()?;
        let mut voluntary = self.voluntary;
        voluntary.extend(adj.voluntary.iter().map(|(k, v)| (k.clone(), *v)));
        Ok(JoinRequest {
            cycle: Some(CycleRef::Id(cycle_id)),
            billing_category: inv.billing_category.clone().or(siblings.category.clone()),
            primary_product: adj.primary_product.clone().or(self.primary),
            chapters: self.chapters,
            add_ons: self.add_ons,
            voluntary,
            join_date: inv.join_date,
            dry_run: true,
        })
    }
}

/// The planned lines replace the invoice's, each billing its subscription (J-6); the
/// subscriptions of lines that went are released.
async fn replace_lines(
    conn: &impl ConnectionTrait,
    current: &InvoiceView,
    planned: &[LineDraft],
    now: DateTime<Utc>,
) -> Result<()> {
    let inv = &current.invoice;
    let gone: Vec<i64> = current
        .lines
        .iter()
        .filter(|l| !planned.iter().any(|p| p.product == l.product))
        .filter_map(|l| l.subscription_id)
        .collect();
    l::Entity::delete_many()
        .filter(l::Column::InvoiceId.eq(inv.id))
        .exec(conn)
        .await?;
    billed::release(conn, inv, &gone, now).await?;
    let subs = billed::bill(conn, billed::Billing::of(inv, now), planned).await?;
    invoices::insert_lines(conn, inv.id, planned.to_vec(), &subs).await?;
    Ok(())
}

/// The invoice takes the planned total and term, if nobody changed it meanwhile.
async fn update_invoice(
    conn: &impl ConnectionTrait,
    inv: &i::Model,
    planned: &join::Joined,
    total_cents: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let res = i::Entity::update_many()
        .col_expr(i::Column::TotalCents, Expr::val(total_cents))
        .col_expr(i::Column::TermBegin, Expr::val(planned.term.begin))
        .col_expr(i::Column::TermEnd, Expr::val(planned.term.end))
        .col_expr(i::Column::TermMonths, Expr::val(planned.term_months as i32))
        .col_expr(i::Column::TreatedAs, Expr::val(planned.treated_as.as_str()))
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(now))
        .filter(i::Column::Id.eq(inv.id))
        .filter(i::Column::Version.eq(inv.version))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    Ok(())
}

/// What the adjustment record says was asked and what it changed.
fn details(adj: &Adjustment, primary: &Option<String>, before: i64, after: i64) -> String {
    let voluntary: HashMap<_, _> = adj
        .voluntary
        .iter()
        .map(|(k, v)| (k.clone(), crate::money::format_cents(*v)))
        .collect();
    json!({
        "add": adj.add,
        "remove": adj.remove,
        "voluntary": voluntary,
        "primary_product": {"from": primary, "to": adj.primary_product},
        "total_before": crate::money::format_cents(before),
        "total_after": crate::money::format_cents(after),
    })
    .to_string()
}

/// An adjustment as recorded: who, why, what it asked and the total it left.
pub(crate) struct Recorded {
    pub user_id: i64,
    pub reason: String,
    /// A JSON object: what was asked, `total_before` and `total_after`.
    pub details: String,
    pub total_after: i64,
}

/// I-8: every adjustment of an invoice, by staff or by the member, is recorded with who
/// and why, and announced as `invoice.adjusted`.
pub(crate) async fn record(
    conn: &impl ConnectionTrait,
    inv: &i::Model,
    change: Recorded,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = a::ActiveModel {
        invoice_id: Set(inv.id),
        at: Set(now),
        user_id: Set(change.user_id),
        reason: Set(change.reason),
        details: Set(change.details),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let event = Event::invoice(
        events::INVOICE_ADJUSTED,
        inv.id,
        inv.contact_id,
        change.total_after,
        json!({
            "adjustment_id": row.id,
            "total_before": crate::money::format_cents(inv.total_cents),
            "reason": row.reason,
        }),
    );
    events::emit(conn, vec![event]).await
}

pub async fn list(conn: &impl ConnectionTrait, invoice_id: i64) -> Result<Vec<a::Model>> {
    Ok(a::Entity::find()
        .filter(a::Column::InvoiceId.eq(invoice_id))
        .order_by_asc(a::Column::Id)
        .all(conn)
        .await?)
}
