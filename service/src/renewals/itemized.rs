//! itemized renewal. A member sees the open renewal proposed to them and may add or
//! remove optional items and edit voluntary amounts before paying. Choosing a different
//! primary fee cancels every primary item billed before on that renewal.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use entity::invoice as i;
use entity::invoice_line as l;
use entity::product as p;
use entity::subscription as s;

use crate::access::Actor;
use crate::billing::invoices::{self, DRAFT, InvoiceKind, InvoiceView, OPEN};
use crate::billing::lines::{LineDraft, Pricing, ProductInfo, Role};
use crate::billing::{adjust, billed};
use crate::billing_cycles::{self, Cycle};
use crate::customer_types::{self, PrimaryFee, in_formula_family};
use crate::db::Db;
use crate::error::{Error, Errors, Result};
use crate::pricing::{self, PriceBook};
use crate::products::{ProductType, TAX_SUFFIX};
use crate::terms::Term;
use crate::{clock, settings, terms};

type Infos = HashMap<String, ProductInfo>;

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
    // S-10: the renewal the member pays; lines billed to someone else are theirs.
    let inv = i::Entity::find()
        .filter(i::Column::ContactId.eq(contact_id))
        .filter(i::Column::BillToId.eq(contact_id))
        .filter(i::Column::Kind.eq(InvoiceKind::Renewal))
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

/// B-14: the chapters a renewal keeps: with "require billed chapters on renewal", those the
/// last paid dues invoice billed.
async fn kept_chapters(
    conn: &impl ConnectionTrait,
    contact_id: i64,
    cycle: &Cycle,
) -> Result<Vec<String>> {
    if !cycle.fields.require_billed_chapters_on_renewal {
        return Ok(Vec::new());
    }
    let mut chapters = super::billed_chapters(conn, &[contact_id]).await?;
    Ok(chapters.remove(&contact_id).unwrap_or_default())
}

/// Applies the member's choices to their open renewal and prices it again.
pub async fn choose(db: &Db, contact_id: i64, user_id: i64, choice: Choice) -> Result<Itemized> {
    let txn = db.write().await?;
    let (view, cycle) = open_renewal(&txn, contact_id).await?;
    crate::billing::instalments::check_no_plan(&view)?;
    let primary_choices = choices(&txn, &view, &cycle).await?;
    let inv = &view.invoice;
    let mut chosen = Chosen::from_lines(&view.lines);
    let kept = kept_chapters(&txn, contact_id, &cycle).await?;
    chosen.remove(&choice.remove, &kept);
    let products = crate::billing::lines::product_infos(&txn, None).await?;
    chosen.add(&choice.add_ons, &cycle, &products);
    chosen.primary(choice.primary_product.as_ref(), &primary_choices);
    chosen.voluntary_amounts(&choice.voluntary, &products);
    chosen.require_chapter(&cycle);
    std::mem::take(&mut chosen.errors).into_result()?;

    let billed = BilledAs::load(&txn, inv, &cycle).await?;
    let codes: Vec<String> = chosen.items.iter().map(|(c, _)| c.clone()).collect();
    let mut drafts = price(&txn, inv, &chosen, &codes, &products, &billed).await?;
    let held = s::Entity::find()
        .filter(s::Column::ContactId.eq(contact_id))
        .all(&txn)
        .await?;
    let now = clock::now();
    zero_complimentary(&mut drafts, &codes, &held);
    // SEC-3: checked before the old lines go.
    let total = crate::money::invoice_total(drafts.iter().map(|d| d.amount_cents))?;
    let subs = rebill(&txn, &view, &drafts, now).await?;
    let rows = line_rows(inv.id, &drafts, &subs, billed.term.begin);
    insert_lines(&txn, rows).await?;
    set_total(&txn, inv.id, total, now).await?;
    record(&txn, inv, user_id, &choice, total, now).await?;
    let result = current(&txn, contact_id).await?;
    txn.commit().await?;
    Ok(result)
}

/// The items of the open renewal (tax lines aside) and its voluntary amounts, as the member
/// changes them; every refused change is collected.
struct Chosen {
    items: Vec<(String, Role)>,
    voluntary: HashMap<String, i64>,
    errors: Errors,
}

impl Chosen {
    fn from_lines(all: &[l::Model]) -> Self {
        let lines: Vec<&l::Model> = all
            .iter()
            .filter(|l| !crate::billing::lines::is_tax_line(l, all))
            .collect();
        let items = lines
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
        let voluntary = lines
            .iter()
            .filter(|l| l.voluntary)
            .map(|l| (l.product.clone(), l.amount_cents))
            .collect();
        Self {
            items,
            voluntary,
            errors: Errors::new(),
        }
    }

    fn has(&self, code: &str) -> bool {
        self.items.iter().any(|(c, _)| c == code)
    }

    /// Optional items may be removed; the primary fee is replaced, never removed.
    /// B-9, B-14: a cycle that requires a chapter keeps at least one on the renewal.
    fn require_chapter(&mut self, cycle: &Cycle) {
        if cycle.fields.require_chapter && !self.items.iter().any(|(_, r)| *r == Role::Chapter) {
            self.errors.add(
                "remove",
                "this renewal requires a chapter: keep one, or add another first",
            );
        }
    }

    fn remove(&mut self, remove: &[String], kept: &[String]) {
        for r in remove {
            match self.items.iter().position(|(c, _)| c == r) {
                Some(n) if self.items[n].1 == Role::Primary => self.errors.add(
                    "remove",
                    format!("{r} is the primary fee; choose another with primary_product"),
                ),
                Some(_) if kept.contains(r) => self.errors.add(
                    "remove",
                    format!("{r} was billed with your last membership and this renewal keeps it"),
                ),
                Some(n) => {
                    self.items.remove(n);
                    self.voluntary.remove(r);
                }
                None => self
                    .errors
                    .add("remove", format!("{r} is not on your renewal")),
            }
        }
    }

    /// Add-ons of the cycle not yet on the renewal are added, chapters as chapters.
    fn add(&mut self, add_ons: &[String], cycle: &Cycle, products: &Infos) {
        for add in add_ons {
            if !cycle.fields.products.contains(add) {
                self.errors
                    .add("add_ons", format!("{add} is not offered with this renewal"));
            } else if self.has(add) {
                self.errors
                    .add("add_ons", format!("{add} is already on your renewal"));
            } else {
                let chapter = products
                    .get(add)
                    .is_some_and(|p| p.product_type == ProductType::Chapter);
                self.items.push((
                    add.clone(),
                    if chapter { Role::Chapter } else { Role::AddOn },
                ));
            }
        }
    }

    /// choosing another primary fee cancels every primary item billed before, not
    /// only one of them.
    fn primary(&mut self, primary: Option<&String>, primary_choices: &[String]) {
        let Some(primary) = primary else {
            return;
        };
        if primary_choices.contains(primary) {
            self.items.retain(|(_, r)| *r != Role::Primary);
            self.items.insert(0, (primary.clone(), Role::Primary));
        } else {
            self.errors.add(
                "primary_product",
                format!("choose one of {}", primary_choices.join(", ")),
            );
        }
    }

    /// Voluntary amounts of voluntary items on the renewal, never negative.
    fn voluntary_amounts(&mut self, amounts: &HashMap<String, i64>, products: &Infos) {
        for (code, amount) in amounts {
            let is_voluntary = products
                .get(code)
                .is_some_and(|p| p.product_type == ProductType::Voluntary);
            if !is_voluntary || !self.has(code) {
                self.errors.add(
                    "voluntary",
                    format!("{code} is not a voluntary item of your renewal"),
                );
            } else if *amount < 0 {
                self.errors.add(
                    "voluntary",
                    format!("the amount for {code} must not be negative"),
                );
            } else {
                self.voluntary.insert(code.clone(), *amount);
            }
        }
    }
}

/// The renewal's term and pricing date, the same as when it was billed.
struct BilledAs {
    term: Term,
    months: u32,
    as_of: NaiveDate,
}

impl BilledAs {
    async fn load(conn: &impl ConnectionTrait, inv: &i::Model, cycle: &Cycle) -> Result<Self> {
        let settings = settings::get(conn).await?;
        let (Some(begin), Some(months)) = (inv.term_begin, inv.term_months) else {
            return Err(Error::Internal("renewal without a term".into()));
        };
        let months = u32::try_from(months).unwrap_or(12);
        let term = terms::renewal_term(
            begin.pred_opt(),
            begin,
            months,
            cycle.fields.effective_billing_time(&settings),
            settings.fiscal_year_start_month,
        );
        let as_of: NaiveDate = match inv.renewal_run_id {
            Some(run) => crate::renewals::get(conn, run).await?.effective_date,
            None => inv.created_at.date_naive(),
        };
        Ok(Self {
            term,
            months,
            as_of,
        })
    }
}

/// P-3: the chosen items priced for the renewal's customer type, as when it was billed.
async fn price(
    conn: &impl ConnectionTrait,
    inv: &i::Model,
    chosen: &Chosen,
    codes: &[String],
    products: &Infos,
    billed: &BilledAs,
) -> Result<Vec<LineDraft>> {
    let book = PriceBook::load_for(conn, codes).await?;
    let mut buyer = pricing::buyers(conn, &[inv.contact_id])
        .await?
        .remove(&inv.contact_id)
        .unwrap_or_default();
    buyer.customer_type = inv.customer_type.clone();
    Ok(Pricing {
        book: &book,
        buyer: &buyer,
        as_of: billed.as_of,
        products,
        term: &billed.term,
        term_length: billed.months,
    }
    .build(&chosen.items, &chosen.voluntary))
}

/// The new lines, linked to the subscriptions the contact holds (tax lines follow their
/// product unlinked). R-4: complimentary items stay at 0, with their tax line.
/// complimentary items stay at 0, with their tax line.
fn zero_complimentary(drafts: &mut [LineDraft], codes: &[String], held: &[s::Model]) {
    for d in drafts.iter_mut() {
        let base = d
            .product
            .strip_suffix(TAX_SUFFIX)
            .filter(|b| codes.iter().any(|c| c == b));
        let sub = held
            .iter()
            .find(|h| h.product == base.unwrap_or(&d.product));
        if sub.is_some_and(|h| h.is_complimentary) {
            d.amount_cents = 0;
        }
    }
}

/// J-6: the old lines go and release the subscriptions of items removed; the new lines'
/// subscriptions are billed (an item added opens its own). The subscription of each product.
async fn rebill(
    conn: &impl ConnectionTrait,
    view: &InvoiceView,
    drafts: &[LineDraft],
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>> {
    let inv = &view.invoice;
    let gone: Vec<i64> = view
        .lines
        .iter()
        .filter(|l| !drafts.iter().any(|d| d.product == l.product))
        .filter_map(|l| l.subscription_id)
        .collect();
    l::Entity::delete_many()
        .filter(l::Column::InvoiceId.eq(inv.id))
        .exec(conn)
        .await?;
    billed::release(conn, inv, &gone, now).await?;
    billed::bill(conn, billed::Billing::of(inv, now), drafts).await
}

fn line_rows(
    invoice_id: i64,
    drafts: &[LineDraft],
    subs: &HashMap<String, i64>,
    term_begin: NaiveDate,
) -> Vec<l::ActiveModel> {
    let mut rows = Vec::with_capacity(drafts.len());
    for (n, d) in drafts.iter().enumerate() {
        let sub_id = subs.get(&d.product).copied();
        rows.push(l::ActiveModel {
            invoice_id: Set(invoice_id),
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
            billed_term: Set(sub_id.map(|_| term_begin)),
            ..Default::default()
        });
    }
    rows
}

async fn insert_lines(conn: &impl ConnectionTrait, rows: Vec<l::ActiveModel>) -> Result<()> {
    if !rows.is_empty() {
        l::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

async fn set_total(
    conn: &impl ConnectionTrait,
    invoice_id: i64,
    total: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    i::Entity::update_many()
        .col_expr(i::Column::TotalCents, Expr::val(total))
        .col_expr(i::Column::Version, Expr::col(i::Column::Version).add(1))
        .col_expr(i::Column::UpdatedAt, Expr::val(now))
        .filter(i::Column::Id.eq(invoice_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// I-8: the member's change is recorded like a staff adjustment.
async fn record(
    conn: &impl ConnectionTrait,
    inv: &i::Model,
    user_id: i64,
    choice: &Choice,
    total: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let details = serde_json::json!({
        "add": choice.add_ons,
        "remove": choice.remove,
        "primary_product": choice.primary_product,
        "total_before": crate::money::format_cents(inv.total_cents),
        "total_after": crate::money::format_cents(total),
    });
    let change = adjust::Recorded {
        user_id,
        reason: "itemized renewal by the member".into(),
        details: details.to_string(),
        total_after: total,
    };
    adjust::record(conn, inv, change, now).await
}
