//! M-6: staff write off the open balance of an accrual invoice as bad debt, with a reason. The
//! invoice is `written_off`; it takes no more payments, and the membership is as it was (a
//! write-off pays nothing).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use entity::invoice as i;

use crate::access::Actor;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::settings::AccountingMethod;
use crate::{clock, money};

use super::invoices::{self, InvoiceView, OPEN, WRITTEN_OFF};

pub async fn write_off(db: &Db, invoice_id: i64, reason: &str) -> Result<InvoiceView> {
    let reason = invoices::checked_reason(reason)?;
    let txn = db.write().await?;
    let current = invoices::get(&txn, Actor::Staff, invoice_id).await?;
    let inv = &current.invoice;
    check_writable_off(&current)?;
    let now = clock::now();
    let balance = current.balance();
    let res = i::Entity::update_many()
        .col_expr(i::Column::Status, Expr::val(WRITTEN_OFF))
        .col_expr(i::Column::WrittenOffCents, Expr::val(balance))
        .col_expr(i::Column::WrittenOffReason, Expr::val(reason.as_str()))
        .col_expr(i::Column::WrittenOffAt, Expr::val(now))
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(now))
        .filter(i::Column::Id.eq(invoice_id))
        .filter(i::Column::Version.eq(inv.version))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::conflict(
            "the invoice changed meanwhile (a payment?); read it again",
        ));
    }
    let event = Event::invoice(
        events::INVOICE_WRITTEN_OFF,
        invoice_id,
        inv.contact_id,
        inv.total_cents,
        json!({"written_off": money::format_cents(balance), "reason": reason}),
    );
    events::emit(&txn, vec![event]).await?;
    let view = invoices::get(&txn, Actor::Staff, invoice_id).await?;
    txn.commit().await?;
    Ok(view)
}

/// Only an open accrual invoice with a balance is written off; a cash invoice is cancelled.
fn check_writable_off(current: &InvoiceView) -> Result<()> {
    let inv = &current.invoice;
    if inv.status != OPEN {
        return Err(Error::conflict(format!(
            "invoice {} is {}; only open invoices are written off",
            inv.id, inv.status
        )));
    }
    if inv.accounting_method != AccountingMethod::Accrual {
        return Err(Error::conflict(format!(
            "invoice {} is a cash invoice: nothing is receivable, cancel it instead",
            inv.id
        )));
    }
    if current.balance() <= 0 {
        return Err(Error::conflict(format!(
            "invoice {} has no balance to write off",
            inv.id
        )));
    }
    Ok(())
}
