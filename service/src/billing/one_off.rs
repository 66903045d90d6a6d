//! M-8: one-off invoices (kind `other`): store sales, advertising, booth sales, donations. Any
//! active product, priced by the pricing rules (P-3, with tax companions, P-5) as of the day the
//! invoice is written, unless staff give an amount with a reason. Subscription products
//! (subscriptions, chapters, sections) bill their subscription for one term from the day after
//! the contact's paid-through (or from today), and paying the invoice pays only those through;
//! nothing else of the membership moves.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use entity::invoice as i;
use entity::subscription as s;

use crate::access::Actor;
use crate::db::Db;
use crate::error::{Error, Errors, Result};
use crate::pricing::{self, PriceBook};
use crate::products::ProductType;
use crate::settings::{self, AccountingMethod};
use crate::{clock, money, terms};

use super::invoices::{self, InvoiceKind, InvoiceView, OPEN};
use super::lines::{LineDraft, ProductInfo, product_infos};

/// The most of one product on one line.
pub const MAX_QUANTITY: i32 = 10_000;

#[derive(Debug, Clone)]
pub struct OneOffLine {
    pub product: String,
    pub quantity: Option<i32>,
    /// The price of one, given by hand; needs a reason.
    pub amount_cents: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewOneOff {
    pub contact_id: i64,
    pub bill_to_id: Option<i64>,
    pub lines: Vec<OneOffLine>,
}

/// Whether a product is held as a subscription that a one-off sale pays through.
pub fn is_subscription_product(t: ProductType) -> bool {
    matches!(
        t,
        ProductType::Subscription | ProductType::Chapter | ProductType::Section
    )
}

/// M-8: writes the invoice, in one transaction.
pub async fn create(db: &Db, new: NewOneOff) -> Result<InvoiceView> {
    let txn = db.write().await?;
    let contact = crate::contacts::find(&txn, new.contact_id)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                "contact_id",
                format!("contact {} does not exist", new.contact_id),
            )
        })?;
    let bill_to = check_bill_to(&txn, &new).await?;
    let codes: Vec<String> = new.lines.iter().map(|l| l.product.clone()).collect();
    let infos = product_infos(&txn, Some(&codes)).await?;
    check_lines(&new.lines, &infos)?;

    let today = clock::now().date_naive();
    let held = paid_through_of(&txn, contact.id, &codes).await?;
    let lines = price(&txn, &contact, &new.lines, &infos, &held, today).await?;
    let total = money::invoice_total(lines.iter().map(|l| l.amount_cents))?;
    let settings = settings::get(&txn).await?;
    let row = invoice_row(&contact, bill_to, total, settings.default_accounting_method);
    let subscription_products: Vec<String> = new
        .lines
        .iter()
        .filter(|l| {
            infos
                .get(&l.product)
                .is_some_and(|i| is_subscription_product(i.product_type))
        })
        .map(|l| l.product.clone())
        .collect();
    let id = invoices::insert_billing(&txn, row, lines, |l| {
        subscription_products.contains(&l.product)
    })
    .await?;
    let mut view = invoices::get(&txn, Actor::Staff, id).await?;
    // Nothing to pay (a free item): it is paid at once.
    if total == 0 {
        super::complete::paid_in_full(&txn, &view, clock::now()).await?;
        view = invoices::get(&txn, Actor::Staff, id).await?;
    }
    txn.commit().await?;
    Ok(view)
}

/// S-10: the payer, the contact itself unless another existing contact is named.
async fn check_bill_to(conn: &impl ConnectionTrait, new: &NewOneOff) -> Result<i64> {
    match new.bill_to_id {
        None => Ok(new.contact_id),
        Some(id) => match crate::contacts::find(conn, id).await? {
            Some(c) => Ok(c.id),
            None => Err(Error::invalid(
                "bill_to_id",
                format!("contact {id} does not exist"),
            )),
        },
    }
}

/// Each line: an active product named once, a quantity of 1 to [`MAX_QUANTITY`] (1 for a
/// subscription product: one term), and a hand-given price only with a reason, never negative.
fn check_lines(lines: &[OneOffLine], infos: &HashMap<String, ProductInfo>) -> Result<()> {
    let mut errors = Errors::new();
    if lines.is_empty() {
        errors.add("lines", "name at least one product");
    }
    for (k, line) in lines.iter().enumerate() {
        let field = |f: &str| format!("lines[{k}].{f}");
        match infos.get(&line.product) {
            None => errors.add(
                field("product"),
                format!("product {} does not exist", line.product),
            ),
            Some(info) if !info.active => errors.add(
                field("product"),
                format!("product {} is not active", line.product),
            ),
            Some(info) => {
                let quantity = line.quantity.unwrap_or(1);
                if !(1..=MAX_QUANTITY).contains(&quantity) {
                    errors.add(field("quantity"), format!("must be 1 to {MAX_QUANTITY}"));
                } else if quantity != 1 && is_subscription_product(info.product_type) {
                    errors.add(
                        field("quantity"),
                        "a subscription product is sold one term at a time",
                    );
                }
            }
        }
        if lines[..k].iter().any(|o| o.product == line.product) {
            errors.add(field("product"), format!("{} is named twice", line.product));
        }
        let reason = line.reason.as_deref().map(str::trim).unwrap_or_default();
        match line.amount_cents {
            Some(a) if a < 0 => errors.add(field("amount"), "must not be negative"),
            Some(_) if reason.is_empty() || reason.chars().count() > 200 => errors.add(
                field("reason"),
                "a price given by hand needs a reason of 1 to 200 characters",
            ),
            None if !reason.is_empty() => errors.add(
                field("reason"),
                "a reason goes with an amount given by hand",
            ),
            _ => {}
        }
    }
    errors.into_result()
}

/// The paid-through of the subscriptions the contact holds among `codes`.
async fn paid_through_of(
    conn: &impl ConnectionTrait,
    contact_id: i64,
    codes: &[String],
) -> Result<HashMap<String, Option<NaiveDate>>> {
    Ok(s::Entity::find()
        .filter(s::Column::ContactId.eq(contact_id))
        .filter(s::Column::Product.is_in(codes.iter().cloned()))
        .all(conn)
        .await?
        .into_iter()
        .map(|h| (h.product, h.paid_through))
        .collect())
}

/// P-3, P-5: each line priced as of `today` (or at the price given), times its quantity, with
/// its tax companion after it.
async fn price(
    conn: &impl ConnectionTrait,
    contact: &entity::contact::Model,
    asked: &[OneOffLine],
    infos: &HashMap<String, ProductInfo>,
    held: &HashMap<String, Option<NaiveDate>>,
    today: NaiveDate,
) -> Result<Vec<LineDraft>> {
    let mut codes: Vec<String> = asked.iter().map(|l| l.product.clone()).collect();
    let book = PriceBook::load_for(conn, &codes).await?;
    for l in asked {
        if let Some(tax) = book.tax_companion(&l.product) {
            codes.push(tax.to_owned());
        }
    }
    let buyer = pricing::buyers(conn, &[contact.id])
        .await?
        .remove(&contact.id)
        .unwrap_or_default();
    let quote = |code: &str| {
        book.quote(code, &buyer, today, &codes)
            .map_or(0, |q| q.price_cents)
    };
    let mut lines = Vec::with_capacity(codes.len());
    for l in asked {
        let info = infos.get(&l.product);
        let (begin, end) = term_of(info, held.get(&l.product).copied().flatten(), today);
        let quantity = l.quantity.unwrap_or(1);
        let unit = l.amount_cents.unwrap_or_else(|| quote(&l.product));
        lines.push(LineDraft {
            product: l.product.clone(),
            term_begin: begin,
            term_end: end,
            amount_cents: times(unit, quantity)?,
            voluntary: info.is_some_and(|i| i.product_type == ProductType::Voluntary),
            is_primary: false,
            is_chapter: info.is_some_and(|i| i.product_type == ProductType::Chapter),
            quantity,
            price_reason: l
                .amount_cents
                .and(l.reason.as_ref().map(|r| r.trim().to_owned())),
        });
        if let Some(tax) = book.tax_companion(&l.product) {
            lines.push(LineDraft {
                product: tax.to_owned(),
                term_begin: begin,
                term_end: end,
                amount_cents: times(quote(tax), quantity)?,
                voluntary: false,
                is_primary: false,
                is_chapter: false,
                quantity,
                price_reason: None,
            });
        }
    }
    Ok(lines)
}

/// A subscription product's term: its length from the day after the paid-through (or from
/// today, when it lapsed or was never held); anything else is sold on the day.
fn term_of(
    info: Option<&ProductInfo>,
    paid_through: Option<NaiveDate>,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    match info.filter(|i| is_subscription_product(i.product_type)) {
        Some(i) => {
            let begin = paid_through
                .and_then(|p| p.succ_opt())
                .filter(|next| *next >= today)
                .unwrap_or(today);
            (begin, terms::term_end(begin, i.term_months.max(1)))
        }
        None => (today, today),
    }
}

fn times(unit: i64, quantity: i32) -> Result<i64> {
    unit.checked_mul(i64::from(quantity))
        .ok_or_else(|| Error::invalid("total", money::total_out_of_range_message()))
}

fn invoice_row(
    contact: &entity::contact::Model,
    bill_to: i64,
    total: i64,
    method: AccountingMethod,
) -> i::ActiveModel {
    let now = clock::now();
    i::ActiveModel {
        contact_id: Set(contact.id),
        bill_to_id: Set(bill_to),
        kind: Set(InvoiceKind::Other),
        cycle_id: Set(None),
        accounting_method: Set(method),
        status: Set(OPEN.into()),
        total_cents: Set(total),
        paid_cents: Set(0),
        term_begin: Set(None),
        term_end: Set(None),
        term_months: Set(None),
        customer_type: Set(None),
        billing_category: Set(None),
        treated_as: Set(entity::words::TreatedAs::Join),
        join_date: Set(None),
        first_join: Set(false),
        void_reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}
