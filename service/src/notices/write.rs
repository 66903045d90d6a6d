//! N-3: notices written in the cause's transaction, one statement per cause whatever the
//! number of contacts (a renewal page writes its thousands at once).

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, CaseStatement, Expr, ExprTrait, Query, SelectStatement};

use entity::contact as c;
use entity::invoice as i;
use entity::notice as n;

use crate::error::{Error, Result};
use crate::sql::rows_per_statement;

use super::{PENDING, SKIPPED};

/// Whom an invoice's notice goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// Who pays it (S-10): renewal notices, reminders, receipts, failed payments.
    Payer,
    /// Whose membership it is: a welcome.
    Holder,
}

/// One notice of `kind` per invoice of `invoice_ids` with something to pay (a total above zero).
pub async fn for_invoices(
    conn: &impl ConnectionTrait,
    kind: &'static str,
    invoice_ids: &[i64],
    to: Recipient,
    now: DateTime<Utc>,
) -> Result<()> {
    let to_column = match to {
        Recipient::Payer => i::Column::BillToId,
        Recipient::Holder => i::Column::ContactId,
    };
    for chunk in invoice_ids.chunks(rows_per_statement(1)) {
        let inv = Alias::new("inv");
        let select = Query::select()
            .expr(Expr::val(kind))
            .column((c::Entity, c::Column::Id))
            .column((inv.clone(), i::Column::Id))
            .expr(Expr::val(None::<i64>))
            .column((c::Entity, c::Column::Email))
            .expr(status())
            .expr(Expr::val(0))
            .expr(Expr::val(now))
            .expr(Expr::val(now))
            .from_as(i::Entity, inv.clone())
            .inner_join(
                c::Entity,
                Expr::col((c::Entity, c::Column::Id)).equals((inv.clone(), to_column)),
            )
            .and_where(Expr::col((inv.clone(), i::Column::Id)).is_in(chunk.iter().copied()))
            .and_where(Expr::col((inv, i::Column::TotalCents)).gt(0))
            .to_owned();
        insert(conn, select).await?;
    }
    Ok(())
}

/// A receipt for payment `payment_id` of invoice `invoice_id`, to its payer.
pub async fn for_payment(
    conn: &impl ConnectionTrait,
    kind: &'static str,
    payment_id: i64,
    invoice_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let inv = Alias::new("inv");
    let select = Query::select()
        .expr(Expr::val(kind))
        .column((c::Entity, c::Column::Id))
        .column((inv.clone(), i::Column::Id))
        .expr(Expr::val(payment_id))
        .column((c::Entity, c::Column::Email))
        .expr(status())
        .expr(Expr::val(0))
        .expr(Expr::val(now))
        .expr(Expr::val(now))
        .from_as(i::Entity, inv.clone())
        .inner_join(
            c::Entity,
            Expr::col((c::Entity, c::Column::Id)).equals((inv.clone(), i::Column::BillToId)),
        )
        .and_where(Expr::col((inv, i::Column::Id)).eq(invoice_id))
        .to_owned();
    insert(conn, select).await
}

/// One notice of `kind` per contact of `contact_ids`.
pub async fn for_contacts(
    conn: &impl ConnectionTrait,
    kind: &'static str,
    contact_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    for chunk in contact_ids.chunks(rows_per_statement(1)) {
        let select = Query::select()
            .expr(Expr::val(kind))
            .column(c::Column::Id)
            .expr(Expr::val(None::<i64>))
            .expr(Expr::val(None::<i64>))
            .column(c::Column::Email)
            .expr(status())
            .expr(Expr::val(0))
            .expr(Expr::val(now))
            .expr(Expr::val(now))
            .from(c::Entity)
            .and_where(Expr::col(c::Column::Id).is_in(chunk.iter().copied()))
            .to_owned();
        insert(conn, select).await?;
    }
    Ok(())
}

/// `skipped` for a contact without an email address, else `pending`.
fn status() -> CaseStatement {
    let email = || Expr::col((c::Entity, c::Column::Email));
    Expr::case(email().is_null().or(email().eq("")), Expr::val(SKIPPED)).finally(Expr::val(PENDING))
}

async fn insert(conn: &impl ConnectionTrait, select: SelectStatement) -> Result<()> {
    let insert = Query::insert()
        .into_table(n::Entity)
        .columns([
            n::Column::Kind,
            n::Column::ContactId,
            n::Column::InvoiceId,
            n::Column::PaymentId,
            n::Column::ToAddress,
            n::Column::Status,
            n::Column::Attempts,
            n::Column::NextAttemptAt,
            n::Column::CreatedAt,
        ])
        .select_from(select)
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}
