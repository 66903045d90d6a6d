//! itemized renewal. A member sees the open renewal proposed to them and may add or
//! remove optional items and edit voluntary amounts before paying. Choosing a different
//! primary fee cancels every primary item billed before on that renewal.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use entity::invoice as i;
use entity::invoice_adjustment as a;
use entity::invoice_line as l;
use entity::product as p;
use entity::subscription as s;

use crate::billing::invoices::{self, DRAFT, InvoiceView, OPEN};
use crate::billing::lines::{Pricing, Role};
use crate::billing_cycles::{self, Cycle};
use crate::contacts::Actor;
use crate::customer_types::{self, PrimaryFee, in_formula_family};
use crate::db::Db;
use crate::error::{Error, Errors, Result};
use crate::pricing::{self, PriceBook};
use crate::products::{ProductType, TAX_SUFFIX};
use crate::{clock, settings, terms};

/// The open renewal a member may itemize, with what they may choose.
#[derive(Debug, Clone)]
pub struct Itemized {
    pub invoice: InvoiceView,
    /// Add-ons of the cycle not on the renewal.
    pub optional: Vec<String>,
    /// Primary fee products the member may choose instead.
    pub primary_choices: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Choice {
    pub primary_product: Option<String>,
    pub add_ons: Vec<String>,
    pub remove: Vec<String>,
    pub voluntary: HashMap<String, i64>,
}

async fn open_renewal(
    conn: &impl ConnectionTrait,
    contact_id: i64,
) -> Result<(InvoiceView, Cycle)> {
    let inv = i::Entity::find()
        .filter(i::Column::ContactId.eq(contact_id))
        .filter(i::Column::Kind.eq("renewal"))
        .filter(i::Column::Status.is_in([OPEN, DRAFT]))
        .filter(i::Column::PaidCents.eq(0))
        .order_by_desc(i::Column::Id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("open renewal", format!("of contact {contact_id}")))?;
    let cycle_id = inv
        .cycle_id
        .ok_or_else(|| Error::Internal("renewal without a cycle".into()))?;
    let cycle = billing_cycles::get(conn, cycle_id).await?;
    if !cycle.fields.itemized_renewals {
        return Err(Error::conflict(format!(
            "billing cycle {:?} does not offer itemized renewals",
            cycle.fields.name
        )));
    }
    let view = invoices::get(conn, Actor::Staff, inv.id).await?;
    Ok((view, cycle))
}

async fn choices(
    conn: &impl ConnectionTrait,
    view: &InvoiceView,
    cycle: &Cycle,
) -> Result<Vec<String>> {
    let type_code = view.invoice.customer_type.clone().unwrap_or_default();
    let ty = customer_types::get(conn, &type_code).await?;
    Ok(match &ty.primary_fee {
        Some(PrimaryFee::Products(list)) => list.clone(),
        Some(PrimaryFee::Formula { designator, .. }) => {
            if cycle.fields.use_primary_fee_term_length {
                // with a formula primary fee and T-2 the itemized screen is not used.
                return Err(Error::conflict(
                    "this renewal's length follows its formula primary product, so it is not itemized; staff can renew in advance with another product",
                ));
            }
            p::Entity::find()
                .filter(p::Column::Code.starts_with(designator.as_str()))
                .filter(p::Column::Active.eq(true))
                .order_by_asc(p::Column::Code)
                .all(conn)
                .await?
                .into_iter()
                .map(|m| m.code)
                .filter(|c| in_formula_family(designator, c))
                .collect()
        }
        None => Vec::new(),
    })
}

pub async fn current(conn: &impl ConnectionTrait, contact_id: i64) -> Result<Itemized> {
    let (invoice, cycle) = open_renewal(conn, contact_id).await?;
    let primary_choices = choices(conn, &invoice, &cycle).await?;
    let optional = cycle
        .fields
        .products
        .iter()
        .filter(|c| !invoice.lines.iter().any(|l| &l.product == *c))
        .cloned()
        .collect();
    Ok(Itemized {
        invoice,
        optional,
        primary_choices,
    })
}

/// Applies the member's choices to their open renewal and prices it again.
pub async fn choose(db: &Db, contact_id: i64, user_id: i64, choice: Choice) -> Result<Itemized> {
    let txn = db.write().await?;
    let (view, cycle) = open_renewal(&txn, contact_id).await?;
    let primary_choices = choices(&txn, &view, &cycle).await?;
    let inv = &view.invoice;
    let lines: Vec<&l::Model> = view
        .lines
        .iter()
        .filter(|l| !crate::billing::lines::is_tax_line(l, &view.lines))
        .collect();
    let mut items: Vec<(String, Role)> = lines
        .iter()
        .map(|l| {
            let role = if l.is_primary {
                Role::Primary
            } else if l.is_chapter {
                Role::Chapter
            } else {
                Role::AddOn
            };
            (l.product.clone(), role)
        })
        .collect();
    let mut errors = Errors::new();
    let mut voluntary: HashMap<String, i64> = lines
        .iter()
        .filter(|l| l.voluntary)
        .map(|l| (l.product.clone(), l.amount_cents))
        .collect();
    for r in &choice.remove {
        match items.iter().position(|(c, _)| c == r) {
            Some(n) if items[n].1 == Role::Primary => errors.add(
                "remove",
                format!("{r} is the primary fee; choose another with primary_product"),
            ),
            Some(n) => {
                items.remove(n);
                voluntary.remove(r);
            }
            None => errors.add("remove", format!("{r} is not on your renewal")),
        }
    }
    let products = crate::billing::lines::product_infos(&txn, None).await?;
    for add in &choice.add_ons {
        if !cycle.fields.products.contains(add) {
            errors.add("add_ons", format!("{add} is not offered with this renewal"));
        } else if items.iter().any(|(c, _)| c == add) {
            errors.add("add_ons", format!("{add} is already on your renewal"));
        } else {
            let chapter = products
                .get(add)
                .is_some_and(|p| p.product_type == ProductType::Chapter);
            items.push((
                add.clone(),
                if chapter { Role::Chapter } else { Role::AddOn },
            ));
        }
    }
    if let Some(primary) = &choice.primary_product {
        if primary_choices.contains(primary) {
            // every primary item billed before is cancelled, not only one of them.
            items.retain(|(_, r)| *r != Role::Primary);
            items.insert(0, (primary.clone(), Role::Primary));
        } else {
            errors.add(
                "primary_product",
                format!("choose one of {}", primary_choices.join(", ")),
            );
        }
    }
    for (code, amount) in &choice.voluntary {
        let is_voluntary = products
            .get(code)
            .is_some_and(|p| p.product_type == ProductType::Voluntary);
        if !is_voluntary || !items.iter().any(|(c, _)| c == code) {
            errors.add(
                "voluntary",
                format!("{code} is not a voluntary item of your renewal"),
            );
        } else if *amount < 0 {
            errors.add(
                "voluntary",
                format!("the amount for {code} must not be negative"),
            );
        } else {
            voluntary.insert(code.clone(), *amount);
        }
    }
    errors.into_result()?;

    // Same term and pricing date as when it was billed.
    let settings = settings::get(&txn).await?;
    let (Some(begin), Some(months)) = (inv.term_begin, inv.term_months) else {
        return Err(Error::Internal("renewal without a term".into()));
    };
    let months = u32::try_from(months).unwrap_or(12);
    let term = terms::renewal_term(
        begin.pred_opt(),
        begin,
        months,
        cycle.fields.billing_time.resolve(&settings),
        settings.fiscal_year_start_month,
    );
    let as_of: NaiveDate = match inv.renewal_run_id {
        Some(run) => crate::renewals::get(&txn, run).await?.effective_date,
        None => inv.created_at.date_naive(),
    };
    let codes: Vec<String> = items.iter().map(|(c, _)| c.clone()).collect();
    let book = PriceBook::load_for(&txn, &codes).await?;
    let mut buyer = pricing::buyers(&txn, &[contact_id])
        .await?
        .remove(&contact_id)
        .unwrap_or_default();
    buyer.customer_type = inv.customer_type.clone();
    let mut drafts = Pricing {
        book: &book,
        buyer: &buyer,
        as_of,
        products: &products,
        term: &term,
        term_length: months,
    }
    .build(&items, &voluntary);
    let held = s::Entity::find()
        .filter(s::Column::ContactId.eq(contact_id))
        .all(&txn)
        .await?;
    let now = clock::now();
    let mut rows = Vec::with_capacity(drafts.len());
    for (n, d) in drafts.iter_mut().enumerate() {
        let base = d
            .product
            .strip_suffix(TAX_SUFFIX)
            .filter(|b| codes.iter().any(|c| c == b));
        let sub = held
            .iter()
            .find(|h| h.product == base.unwrap_or(&d.product));
        // complimentary items stay at 0, with their tax line.
        if sub.is_some_and(|h| h.is_complimentary) {
            d.amount_cents = 0;
        }
        let sub_id = if base.is_some() {
            None
        } else {
            sub.map(|h| h.id)
        };
        rows.push(l::ActiveModel {
            invoice_id: Set(inv.id),
            position: Set(n as i32),
            product: Set(d.product.clone()),
            subscription_id: Set(sub_id),
            term_begin: Set(d.term_begin),
            term_end: Set(d.term_end),
            amount_cents: Set(d.amount_cents),
            paid_cents: Set(0),
            voluntary: Set(d.voluntary),
            is_primary: Set(d.is_primary),
            is_chapter: Set(d.is_chapter),
            billed_term: Set(sub_id.map(|_| term.begin)),
            ..Default::default()
        });
    }
    // SEC-3: checked before the old lines go.
    let total = crate::money::invoice_total(drafts.iter().map(|d| d.amount_cents))?;
    l::Entity::delete_many()
        .filter(l::Column::InvoiceId.eq(inv.id))
        .exec(&txn)
        .await?;
    if !rows.is_empty() {
        l::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    i::Entity::update_many()
        .col_expr(i::Column::TotalCents, Expr::val(total))
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(now))
        .filter(i::Column::Id.eq(inv.id))
        .exec(&txn)
        .await?;
    a::ActiveModel {
        invoice_id: Set(inv.id),
        at: Set(now),
        user_id: Set(user_id),
        reason: Set("itemized renewal by the member".into()),
        details: Set(serde_json::json!({
            "add": choice.add_ons,
            "remove": choice.remove,
            "primary_product": choice.primary_product,
            "total_before": crate::money::format_cents(inv.total_cents),
            "total_after": crate::money::format_cents(total),
        })
        .to_string()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let result = current(&txn, contact_id).await?;
    txn.commit().await?;
    Ok(result)
}
