//! B-2, T-2, T-5, L-5: what one due contact is billed. Pure: the caller loads the
//! contact's subscriptions, the price book and the cycle once per page.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::DerivePartialModel;

use entity::contact as c;
use entity::subscription as s;

use crate::billing::lines::{LineDraft, Pricing, ProductInfo, Role};
use crate::billing_cycles::CycleFields;
use crate::customer_types::{CustomerType, PrimaryFee, in_formula_family};
use crate::pricing::{Buyer, PriceBook};
use crate::products::{ProductType, TAX_SUFFIX};
use crate::settings::{BillingTime, Settings};
use crate::terms::{self, Term};

/// The contact columns a renewal reads: a run fetches only these, a page at a time.
#[derive(Debug, Clone, DerivePartialModel)]
#[sea_orm(entity = "c::Entity")]
pub struct Renewing {
    pub id: i64,
    pub customer_type: String,
    pub billing_category: Option<String>,
    pub renew_months: Option<i32>,
    pub paid_through: Option<NaiveDate>,
    pub autopay: bool,
}

impl From<&c::Model> for Renewing {
    fn from(m: &c::Model) -> Self {
        Renewing {
            id: m.id,
            customer_type: m.customer_type.clone(),
            billing_category: m.billing_category.clone(),
            renew_months: m.renew_months,
            paid_through: m.paid_through,
            autopay: m.autopay,
        }
    }
}

/// The subscription columns a renewal reads.
#[derive(Debug, Clone, DerivePartialModel)]
#[sea_orm(entity = "s::Entity")]
pub struct Held {
    pub id: i64,
    pub contact_id: i64,
    pub product: String,
    pub active: bool,
    pub bill_subscription: bool,
    pub billed_cents: Option<i64>,
    pub is_complimentary: bool,
    /// The term a run last billed.
    pub bill_begin: Option<NaiveDate>,
    pub paid_through: Option<NaiveDate>,
    /// S-10: who pays for it.
    pub bill_to_id: i64,
}

impl From<&s::Model> for Held {
    fn from(m: &s::Model) -> Self {
        Held {
            id: m.id,
            contact_id: m.contact_id,
            product: m.product.clone(),
            active: m.active,
            bill_subscription: m.bill_subscription,
            billed_cents: m.billed_cents,
            is_complimentary: m.is_complimentary,
            bill_begin: m.bill_begin,
            paid_through: m.paid_through,
            bill_to_id: m.bill_to_id,
        }
    }
}

/// Everything a page of contacts is billed against, loaded once per run.
pub struct Context<'a> {
    pub cycle: &'a CycleFields,
    pub settings: &'a Settings,
    pub billing_time: BillingTime,
    pub types: &'a HashMap<String, CustomerType>,
    pub products: &'a HashMap<String, ProductInfo>,
    pub book: &'a PriceBook,
    pub effective_date: NaiveDate,
}

/// A contact's bill: lines in order, with the subscription each bills (`None`: not held
/// yet, or a tax line).
#[derive(Debug, Clone)]
pub struct Bill {
    pub contact_id: i64,
    /// L-5: the type the contact takes when paid (a phased-out type's successor).
    pub customer_type: String,
    pub billing_category: Option<String>,
    /// Paid by AutoPay: billed into the run's batch (I-5).
    pub autopay: bool,
    pub term: Term,
    pub term_months: u32,
    pub lines: Vec<LineDraft>,
    pub held: Vec<Option<i64>>,
    /// S-10: who each line bills: its subscription's bill-to, else the contact (a tax line
    /// follows its product).
    pub payers: Vec<i64>,
    /// Primary products billed that the contact does not hold yet (B-2: created at billing).
    pub new_primaries: Vec<String>,
    /// Complimentary subscriptions billed at 0.
    pub complimentary: HashSet<i64>,
    /// Whether an invoice records the bill: not for a zero total when the cycle does not
    /// print zero balances, whose complimentary subscriptions are paid through all the same
    ///
    pub printed: bool,
    /// The sum of the lines, checked (SEC-3).
    pub total_cents: i64,
}

impl Bill {
    pub fn total(&self) -> i64 {
        self.total_cents
    }

    /// S-10: one invoice per payer: each payer with its lines' total, the contact first (when
    /// it pays any line), then the others in line order. The parts of a checked total.
    pub fn by_payer(&self) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        let mut payers: Vec<i64> = self.payers.clone();
        payers.sort_by_key(|p| *p != self.contact_id);
        for payer in payers {
            if !out.iter().any(|(p, _)| *p == payer) {
                out.push((payer, 0));
            }
        }
        for (line, payer) in self.lines.iter().zip(&self.payers) {
            if let Some(part) = out.iter_mut().find(|(p, _)| p == payer) {
                part.1 += line.amount_cents;
            }
        }
        out
    }
}

/// Why a due contact is not billed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    NoPrimaryProduct(String),
    NothingToBill,
    AlreadyBilled(NaiveDate),
    ZeroBalance,
    /// B-9, B-14: the cycle requires a chapter and none would be billed.
    NoChapter,
    /// SEC-3: the lines would add up past the largest invoice total.
    TotalOutOfRange,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::NoPrimaryProduct(t) => write!(
                f,
                "customer type {t} has no primary fee product to bill (no held family product and no default)"
            ),
            Skip::NothingToBill => write!(
                f,
                "nothing to bill: no primary fee and no held add-on in this cycle"
            ),
            Skip::AlreadyBilled(d) => write!(f, "already billed for the term beginning {d}"),
            Skip::ZeroBalance => write!(f, "zero total and the cycle does not print zero balances"),
            Skip::NoChapter => write!(
                f,
                "the cycle requires a chapter and the contact holds none it would bill"
            ),
            Skip::TotalOutOfRange => f.write_str(&crate::money::total_out_of_range_message()),
        }
    }
}

fn is_type(ctx: &Context<'_>, code: &str, t: ProductType) -> bool {
    ctx.products.get(code).is_some_and(|p| p.product_type == t)
}

/// What a contact holds: its subscriptions, and the chapters its last paid dues invoice billed
/// (B-14).
#[derive(Debug, Clone, Copy)]
pub struct Holding<'a> {
    pub held: &'a [Held],
    pub billed_chapters: &'a [String],
}

/// Plans one contact's renewal. `billed_terms` are the live (subscription, term begin)
/// billings; `primary` replaces the formula family product held (renew in advance, R-8).
pub fn bill(
    ctx: &Context<'_>,
    contact: &Renewing,
    holding: Holding<'_>,
    buyer: &Buyer,
    billed_terms: &HashSet<(i64, NaiveDate)>,
    primary: Option<&str>,
) -> Result<Bill, Skip> {
    let billing_type = billing_type(ctx, contact);
    let type_code = billing_type.map_or(contact.customer_type.clone(), |t| t.code.clone());
    let mut items = Vec::new();
    let held = holding.held;
    if ctx.cycle.membership {
        add_primary_fee(&mut items, billing_type, held, primary, &type_code)?;
        add_billed_chapters(&mut items, ctx, held, holding.billed_chapters);
    }
    add_held_add_ons(&mut items, ctx, held);
    if items.is_empty() {
        return Err(Skip::NothingToBill);
    }
    check_chapter(ctx, &items)?;
    let continues = if ctx.cycle.membership {
        contact.paid_through
    } else {
        earliest_paid_through(&items, held)
    };
    let (term, term_months) = renewal_term(ctx, contact, continues);
    check_not_billed(&items, held, billed_terms, term.begin)?;
    let mut lines = price(ctx, buyer, held, &items, &term, term_months);
    let (held_ids, complimentary) = complimentary_at_zero(&mut lines, held);
    let payers = payers(&lines, held, contact.id);
    let bill = Bill {
        contact_id: contact.id,
        customer_type: type_code,
        billing_category: contact.billing_category.clone(),
        autopay: contact.autopay,
        term,
        term_months,
        new_primaries: new_primaries(&items, held),
        total_cents: crate::money::checked_total(lines.iter().map(|l| l.amount_cents))
            .ok_or(Skip::TotalOutOfRange)?,
        lines,
        held: held_ids,
        payers,
        printed: true,
        complimentary,
    };
    if bill.total() == 0 && !ctx.cycle.print_zero_balance {
        return unprinted(bill);
    }
    Ok(bill)
}

/// a zero bill the cycle does not print still renews its complimentary subscriptions;
/// one with none has nothing to do.
fn unprinted(bill: Bill) -> Result<Bill, Skip> {
    if bill.complimentary.is_empty() {
        return Err(Skip::ZeroBalance);
    }
    Ok(Bill {
        printed: false,
        new_primaries: Vec::new(),
        ..bill
    })
}

/// L-5: a phased-out type is billed as the type it renews into.
fn billing_type<'a>(ctx: &Context<'a>, contact: &Renewing) -> Option<&'a CustomerType> {
    let own = ctx.types.get(&contact.customer_type);
    own.and_then(|t| t.renews_as.as_ref())
        .and_then(|r| ctx.types.get(r))
        .or(own)
}

/// R-3, CT-3: the primary fee: the type's products, or of a formula family the product
/// chosen, else the one held, else the default; a contact with none is skipped.
fn add_primary_fee(
    items: &mut Vec<(String, Role)>,
    billing_type: Option<&CustomerType>,
    held: &[Held],
    primary: Option<&str>,
    type_code: &str,
) -> Result<(), Skip> {
    match billing_type.and_then(|t| t.primary_fee.as_ref()) {
        Some(PrimaryFee::Products(list)) => {
            items.extend(list.iter().map(|p| (p.clone(), Role::Primary)));
        }
        Some(PrimaryFee::Formula {
            designator,
            default_product,
        }) => {
            let held_family = held.iter().find(|h| {
                h.active
                    && in_formula_family(designator, &h.product)
                    && !h.product.ends_with(TAX_SUFFIX)
            });
            let chosen = primary
                .filter(|p| in_formula_family(designator, p))
                .map(str::to_owned);
            match chosen
                .or(held_family.map(|h| h.product.clone()))
                .or(default_product.clone())
            {
                Some(p) => items.push((p, Role::Primary)),
                None => return Err(Skip::NoPrimaryProduct(type_code.to_owned())),
            }
        }
        None => {}
    }
    Ok(())
}

/// B-2, B-10: whether a cycle bills a held product, and whether it bills an inactive
/// subscription to it too.
struct Billed {
    wanted: bool,
    inactive_too: bool,
}

fn billed(f: &CycleFields, code: &str, product_type: Option<ProductType>) -> Billed {
    let section = product_type == Some(ProductType::Section);
    let chapter = product_type == Some(ProductType::Chapter);
    Billed {
        wanted: f.products.iter().any(|p| p == code)
            || (section && f.include_all_sections)
            || (chapter && f.include_all_chapters),
        inactive_too: section && f.include_inactive_sections,
    }
}

/// The products a cycle bills to holders, and those of them it bills even when inactive.
pub fn billed_products(
    f: &CycleFields,
    products: &HashMap<String, ProductInfo>,
) -> (Vec<String>, Vec<String>) {
    let mut wanted = Vec::new();
    let mut inactive_too = Vec::new();
    for (code, info) in products {
        let b = billed(f, code, Some(info.product_type));
        if b.wanted {
            wanted.push(code.clone());
            if b.inactive_too {
                inactive_too.push(code.clone());
            }
        }
    }
    (wanted, inactive_too)
}

/// B-15: a non-dues cycle bills only the subscriptions not paid through the effective date.
fn is_due(ctx: &Context<'_>, h: &Held) -> bool {
    ctx.cycle.membership || h.paid_through.is_none_or(|p| p < ctx.effective_date)
}

/// B-2, B-10, B-11: add-ons only where the contact already holds them.
fn add_held_add_ons(items: &mut Vec<(String, Role)>, ctx: &Context<'_>, held: &[Held]) {
    for h in held {
        if !h.bill_subscription || !is_due(ctx, h) || items.iter().any(|(p, _)| *p == h.product) {
            continue;
        }
        let product_type = ctx.products.get(&h.product).map(|p| p.product_type);
        let b = billed(ctx.cycle, &h.product, product_type);
        if b.wanted && (h.active || b.inactive_too) {
            let chapter = product_type == Some(ProductType::Chapter);
            items.push((
                h.product.clone(),
                if chapter { Role::Chapter } else { Role::AddOn },
            ));
        }
    }
}

/// B-14: with "require billed chapters on renewal", every chapter the last paid dues invoice
/// billed is billed again, active or not, while the contact holds it.
fn add_billed_chapters(
    items: &mut Vec<(String, Role)>,
    ctx: &Context<'_>,
    held: &[Held],
    billed_chapters: &[String],
) {
    if !ctx.cycle.require_billed_chapters_on_renewal {
        return;
    }
    for chapter in billed_chapters {
        let holds = held.iter().any(|h| h.product == *chapter);
        if holds && !items.iter().any(|(p, _)| p == chapter) {
            items.push((chapter.clone(), Role::Chapter));
        }
    }
}

/// B-9, B-14: a cycle that requires a chapter bills no renewal without one.
fn check_chapter(ctx: &Context<'_>, items: &[(String, Role)]) -> Result<(), Skip> {
    if ctx.cycle.require_chapter && !items.iter().any(|(_, r)| *r == Role::Chapter) {
        return Err(Skip::NoChapter);
    }
    Ok(())
}

/// B-15: a non-dues cycle continues the subscriptions it bills, from the earliest
/// paid-through among them (none yet: from the effective date).
fn earliest_paid_through(items: &[(String, Role)], held: &[Held]) -> Option<NaiveDate> {
    let dates: Vec<Option<NaiveDate>> = items
        .iter()
        .filter_map(|(p, _)| sub_of(held, p))
        .map(|h| h.paid_through)
        .collect();
    dates
        .iter()
        .copied()
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .min()
}

/// T-2, T-5: the next term and its length, after `paid_through` (the membership's in a dues
/// cycle).
fn renewal_term(
    ctx: &Context<'_>,
    contact: &Renewing,
    paid_through: Option<NaiveDate>,
) -> (Term, u32) {
    let term_months = terms::renewal_term_length(
        ctx.cycle.use_primary_fee_term_length,
        contact.renew_months.and_then(|m| u32::try_from(m).ok()),
        ctx.settings.standard_billing_interval_months,
    );
    let term = terms::renewal_term(
        paid_through,
        ctx.effective_date,
        term_months,
        ctx.billing_time,
        ctx.settings.fiscal_year_start_month,
    );
    (term, term_months)
}

fn sub_of<'a>(held: &'a [Held], code: &str) -> Option<&'a Held> {
    held.iter().find(|h| h.product == code)
}

/// a term billed once is never billed again.
fn check_not_billed(
    items: &[(String, Role)],
    held: &[Held],
    billed_terms: &HashSet<(i64, NaiveDate)>,
    begin: NaiveDate,
) -> Result<(), Skip> {
    if items
        .iter()
        .filter_map(|(p, _)| sub_of(held, p))
        .any(|h| billed_terms.contains(&(h.id, begin)))
    {
        return Err(Skip::AlreadyBilled(begin));
    }
    Ok(())
}

/// R-3, P-3, T-4: the items priced as of the effective date, voluntary ones at the amount
/// billed before.
fn price(
    ctx: &Context<'_>,
    buyer: &Buyer,
    held: &[Held],
    items: &[(String, Role)],
    term: &Term,
    term_months: u32,
) -> Vec<LineDraft> {
    let voluntary: HashMap<String, i64> = held
        .iter()
        .filter(|h| is_type(ctx, &h.product, ProductType::Voluntary))
        .filter_map(|h| h.billed_cents.map(|c| (h.product.clone(), c)))
        .collect();
    Pricing {
        book: ctx.book,
        buyer,
        as_of: ctx.effective_date,
        products: ctx.products,
        term,
        term_length: term_months,
    }
    .build(items, &voluntary)
}

/// complimentary subscriptions bill at 0, their tax line with them. Returns the
/// subscription each line bills (`None` for tax lines and products not held) and the
/// complimentary ones.
fn complimentary_at_zero(
    lines: &mut [LineDraft],
    held: &[Held],
) -> (Vec<Option<i64>>, HashSet<i64>) {
    let mut complimentary = HashSet::new();
    let mut held_ids = Vec::with_capacity(lines.len());
    for line in lines {
        let base = line
            .product
            .strip_suffix(TAX_SUFFIX)
            .filter(|b| sub_of(held, b).is_some());
        let sub = sub_of(held, base.unwrap_or(&line.product));
        if sub.is_some_and(|h| h.is_complimentary) {
            line.amount_cents = 0;
            if base.is_none()
                && let Some(h) = sub
            {
                complimentary.insert(h.id);
            }
        }
        held_ids.push(if base.is_some() {
            None
        } else {
            sub.map(|h| h.id)
        });
    }
    (held_ids, complimentary)
}

/// S-10: each line's payer: the bill-to of the subscription it bills (of its product, for a
/// tax line), else the contact itself.
fn payers(lines: &[LineDraft], held: &[Held], contact_id: i64) -> Vec<i64> {
    lines
        .iter()
        .map(|l| {
            let product = l.product.strip_suffix(TAX_SUFFIX).unwrap_or(&l.product);
            sub_of(held, product).map_or(contact_id, |h| h.bill_to_id)
        })
        .collect()
}

/// B-2: primary products billed that the contact does not hold yet.
fn new_primaries(items: &[(String, Role)], held: &[Held]) -> Vec<String> {
    items
        .iter()
        .filter(|(p, r)| *r == Role::Primary && sub_of(held, p).is_none())
        .map(|(p, _)| p.clone())
        .collect()
}
