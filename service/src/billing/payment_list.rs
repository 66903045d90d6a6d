//! M-1: payments as a resource. Each is read with the invoice it paid: the holder and the
//! payer (S-10). Staff list and filter all; a member reads the payments of invoices they hold
//! or pay.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use entity::invoice as i;
use entity::payment as p;

use crate::access::{self, Actor};
use crate::error::{Error, Result};
use crate::page::{self, Page, PageRequest};

/// A payment with the invoice's holder and payer.
#[derive(Debug, Clone)]
pub struct PaymentView {
    pub payment: p::Model,
    /// Who the invoice bills (S-10): the payer.
    pub payer_id: i64,
    /// Who holds the invoice.
    pub holder_id: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Payments of invoices this contact holds or pays.
    pub party: Option<i64>,
    pub invoice_id: Option<i64>,
    pub method: Option<String>,
    /// `paid_on` from (inclusive).
    pub from: Option<NaiveDate>,
    /// `paid_on` to (inclusive).
    pub to: Option<NaiveDate>,
    pub updated_since: Option<DateTime<Utc>>,
}

/// SEC-1: a member reads only payments of their own invoices; another's is "not found".
pub async fn get(conn: &impl ConnectionTrait, actor: Actor, id: i64) -> Result<PaymentView> {
    let m = p::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("payment", id))?;
    let view = with_parties(conn, vec![m])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("payment", id))?;
    access::check(actor, "payment", id, &[view.holder_id, view.payer_id])?;
    Ok(view)
}

pub async fn list(
    conn: &impl ConnectionTrait,
    f: &Filter,
    req: &PageRequest,
) -> Result<Page<PaymentView>> {
    let limit = req.limit()?;
    check_dates(f)?;
    let mut cond = Condition::all();
    if let Some(after) = req.after_id()? {
        cond = cond.add(p::Column::Id.gt(after));
    }
    if let Some(party) = f.party {
        let invoices = Query::select()
            .column(i::Column::Id)
            .from(i::Entity)
            .cond_where(
                Condition::any()
                    .add(i::Column::ContactId.eq(party))
                    .add(i::Column::BillToId.eq(party)),
            )
            .to_owned();
        cond = cond.add(p::Column::InvoiceId.in_subquery(invoices));
    }
    if let Some(inv) = f.invoice_id {
        cond = cond.add(p::Column::InvoiceId.eq(inv));
    }
    if let Some(m) = &f.method {
        cond = cond.add(p::Column::Method.eq(m.as_str()));
    }
    if let Some(from) = f.from {
        cond = cond.add(p::Column::PaidOn.gte(from));
    }
    if let Some(to) = f.to {
        cond = cond.add(p::Column::PaidOn.lte(to));
    }
    if let Some(since) = f.updated_since {
        cond = cond.add(p::Column::UpdatedAt.gte(since));
    }
    let rows = p::Entity::find()
        .filter(cond)
        .order_by_asc(p::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let page = page::build(rows, limit, |r| r.id.to_string());
    Ok(Page {
        items: with_parties(conn, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

fn check_dates(f: &Filter) -> Result<()> {
    match (f.from, f.to) {
        // Each date is valid alone; together they describe no day (422, as dates out of order
        // are everywhere).
        (Some(from), Some(to)) if to < from => Err(Error::invalid(
            "to",
            format!("{to} is before from ({from})"),
        )),
        _ => Ok(()),
    }
}

/// The holder and payer of each payment's invoice, in one query.
pub(crate) async fn with_parties(
    conn: &impl ConnectionTrait,
    payments: Vec<p::Model>,
) -> Result<Vec<PaymentView>> {
    let ids: Vec<i64> = payments.iter().map(|m| m.invoice_id).collect();
    let parties: HashMap<i64, (i64, i64)> = i::Entity::find()
        .select_only()
        .column(i::Column::Id)
        .column(i::Column::ContactId)
        .column(i::Column::BillToId)
        .filter(crate::sql::in_ids(i::Column::Id, &ids))
        .into_tuple::<(i64, i64, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, holder, payer)| (id, (holder, payer)))
        .collect();
    payments
        .into_iter()
        .map(|payment| {
            let (holder_id, payer_id) = parties
                .get(&payment.invoice_id)
                .copied()
                .ok_or_else(|| Error::Internal("payment without its invoice".into()))?;
            Ok(PaymentView {
                payment,
                payer_id,
                holder_id,
            })
        })
        .collect()
}
