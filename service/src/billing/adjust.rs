//! I-8: staff adjust an open join invoice before payment: add or remove optional lines,
//! change voluntary amounts or the primary product of a formula family. The lines are priced
//! again by the same plan as the join itself, and every adjustment is recorded with who and
//! why. Paid, partly paid and voided invoices are never edited.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use entity::contact as c;
use entity::invoice as i;
use entity::invoice_adjustment as a;
use entity::invoice_line as l;

use crate::contacts::Actor;
use crate::db::Db;
use crate::error::{Error, Errors, Result, check_version};
use crate::{billing_cycles, clock};

use super::invoices::{self, InvoiceView, OPEN};
use super::join::{self, CycleRef, JoinRequest};

#[derive(Debug, Clone, Default)]
pub struct Adjustment {
    pub add: Vec<String>,
    pub remove: Vec<String>,
    pub voluntary: HashMap<String, i64>,
    pub primary_product: Option<String>,
    pub reason: String,
}

pub async fn adjust(
    db: &Db,
    invoice_id: i64,
    adj: Adjustment,
    user_id: i64,
    expected_version: Option<i32>,
    today: NaiveDate,
) -> Result<InvoiceView> {
    let reason = adj.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(Error::invalid(
            "reason",
            "give a reason of 1 to 200 characters",
        ));
    }
    let txn = db.write().await?;
    let current = invoices::get(&txn, Actor::Staff, invoice_id).await?;
    let inv = &current.invoice;
    check_version(expected_version, inv.version)?;
    if inv.status != OPEN || inv.paid_cents > 0 {
        return Err(Error::conflict(format!(
            "invoice {invoice_id} is {}{}; only open invoices without payments are adjusted",
            inv.status,
            if inv.paid_cents > 0 {
                " with payments"
            } else {
                ""
            }
        )));
    }
    let Some(cycle_id) = inv.cycle_id.filter(|_| inv.kind == "join") else {
        return Err(Error::conflict(format!(
            "invoice {invoice_id} is a {} invoice; adjustments apply to join invoices",
            inv.kind
        )));
    };

    // The request the invoice was billed from, changed as asked.
    let lines: Vec<&l::Model> = current
        .lines
        .iter()
        .filter(|l| !super::lines::is_tax_line(l, &current.lines))
        .collect();
    let mut chapters: Vec<String> = lines
        .iter()
        .filter(|l| l.is_chapter)
        .map(|l| l.product.clone())
        .collect();
    let mut add_ons: Vec<String> = lines
        .iter()
        .filter(|l| !l.is_chapter && !l.is_primary)
        .map(|l| l.product.clone())
        .collect();
    let primary = lines
        .iter()
        .find(|l| l.is_primary)
        .map(|l| l.product.clone());
    let mut voluntary: HashMap<String, i64> = lines
        .iter()
        .filter(|l| l.voluntary)
        .map(|l| (l.product.clone(), l.amount_cents))
        .collect();
    let mut errors = Errors::new();
    for r in &adj.remove {
        if lines.iter().any(|l| l.is_primary && &l.product == r) {
            errors.add(
                "remove",
                format!("{r} is the primary fee; change primary_product instead"),
            );
        } else if chapters.contains(r) {
            chapters.retain(|c| c != r);
        } else if add_ons.contains(r) {
            add_ons.retain(|c| c != r);
            voluntary.remove(r);
        } else {
            errors.add("remove", format!("{r} is not on invoice {invoice_id}"));
        }
    }
    let cycle = billing_cycles::get(&txn, cycle_id).await?;
    let chapter_codes = crate::products::require_all(&txn, "add", &adj.add).await?;
    for p in chapter_codes {
        if lines.iter().any(|l| l.product == p.code) {
            errors.add("add", format!("{} is already on the invoice", p.code));
        } else if p.product_type == "chapter" {
            chapters.push(p.code);
        } else {
            add_ons.push(p.code);
        }
    }
    errors.into_result()?;
    voluntary.extend(adj.voluntary.iter().map(|(k, v)| (k.clone(), *v)));
    let req = JoinRequest {
        cycle: Some(CycleRef::Id(cycle_id)),
        billing_category: inv.billing_category.clone(),
        primary_product: adj.primary_product.clone().or(primary.clone()),
        chapters,
        add_ons,
        voluntary,
        join_date: inv.join_date,
        dry_run: true,
    };
    let contact = c::Entity::find_by_id(inv.contact_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("contact", inv.contact_id))?;
    let planned = join::plan(&txn, &contact, &cycle, &req, today).await?;

    let now = clock::now();
    l::Entity::delete_many()
        .filter(l::Column::InvoiceId.eq(invoice_id))
        .exec(&txn)
        .await?;
    let total = planned.total();
    invoices::insert_lines(&txn, invoice_id, planned.lines.clone()).await?;
    let res = i::Entity::update_many()
        .col_expr(i::Column::TotalCents, Expr::val(total))
        .col_expr(i::Column::TermBegin, Expr::val(planned.term.begin))
        .col_expr(i::Column::TermEnd, Expr::val(planned.term.end))
        .col_expr(i::Column::TermMonths, Expr::val(planned.term_months as i32))
        .col_expr(i::Column::TreatedAs, Expr::val(planned.treated_as.as_str()))
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(now))
        .filter(i::Column::Id.eq(invoice_id))
        .filter(i::Column::Version.eq(inv.version))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    a::ActiveModel {
        invoice_id: Set(invoice_id),
        at: Set(now),
        user_id: Set(user_id),
        reason: Set(reason),
        details: Set(json!({
            "add": adj.add,
            "remove": adj.remove,
            "voluntary": adj.voluntary.iter().map(|(k, v)| (k.clone(), crate::money::format_cents(*v))).collect::<HashMap<_, _>>(),
            "primary_product": {"from": primary, "to": adj.primary_product},
            "total_before": crate::money::format_cents(inv.total_cents),
            "total_after": crate::money::format_cents(total),
        })
        .to_string()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let view = invoices::get(&txn, Actor::Staff, invoice_id).await?;
    txn.commit().await?;
    Ok(view)
}

pub async fn list(conn: &impl ConnectionTrait, invoice_id: i64) -> Result<Vec<a::Model>> {
    Ok(a::Entity::find()
        .filter(a::Column::InvoiceId.eq(invoice_id))
        .order_by_asc(a::Column::Id)
        .all(conn)
        .await?)
}
