//! J-1..J-5: joining through a cycle with `join_item_set`. The join produces an invoice; the
//! membership starts when it is paid in full (`complete`). A rejoin inside the cycle's window
//! is a renewal (J-4).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use entity::invoice as i;
use entity::subscription as s;

use crate::access::Actor;
use crate::billing::invoices::InvoiceKind;
use crate::billing_cycles::{self, Cycle, CycleFields, proration};
use crate::customer_types::{self, CustomerType, PrimaryFee, in_formula_family};
use crate::db::Db;
use crate::error::{Error, Errors, Result};
use crate::idempotency::{self, Key, Outcome, Stored};
use crate::pricing::{self, PriceBook};
use crate::products::{ProductType, TAX_SUFFIX};
use crate::settings::{self, AccountingMethod, BillingTime, Settings};
use crate::terms::{self, Ratio, Term};
use crate::{billing_categories, clock};

use super::complete;
use super::invoices::{self, InvoiceView, OPEN};
use super::lines::{LineDraft, Pricing, ProductInfo, Role};

type Infos = HashMap<String, ProductInfo>;

pub use crate::billing_cycles::CycleRef;

#[derive(Debug, Clone, Default)]
pub struct JoinRequest {
    pub cycle: Option<CycleRef>,
    pub billing_category: Option<String>,
    pub primary_product: Option<String>,
    pub chapters: Vec<String>,
    pub add_ons: Vec<String>,
    pub voluntary: HashMap<String, i64>,
    pub join_date: Option<NaiveDate>,
    pub dry_run: bool,
}

pub use entity::words::TreatedAs;

/// What a join bills (or, with `dry_run`, would bill).
#[derive(Debug, Clone)]
pub struct Joined {
    pub contact_id: i64,
    pub cycle_id: i64,
    pub join_date: NaiveDate,
    pub treated_as: TreatedAs,
    pub term: Term,
    pub term_months: u32,
    pub customer_type: String,
    pub billing_category: Option<String>,
    pub accounting_method: AccountingMethod,
    /// S-10: one invoice per payer, the membership's first (see [`Joined::membership`]).
    pub bills: Vec<JoinBill>,
}

/// S-10: one invoice of a join: the lines one payer is billed.
#[derive(Debug, Clone)]
pub struct JoinBill {
    pub bill_to_id: i64,
    pub lines: Vec<LineDraft>,
    /// The sum of the lines, checked (SEC-3).
    pub total_cents: i64,
    /// The saved invoice; `None` for a dry run.
    pub invoice: Option<InvoiceView>,
}

impl Joined {
    /// The invoice the membership starts with (J-5): the one with the primary fee, else the
    /// joiner's own. A join's response is this invoice.
    pub fn membership(&self) -> &JoinBill {
        &self.bills[0]
    }

    /// The join's invoices billed to other payers than the membership's (S-10).
    pub fn others(&self) -> &[JoinBill] {
        &self.bills[1..]
    }

    /// Whether this is a preview: nothing was saved.
    pub fn is_preview(&self) -> bool {
        self.membership().invoice.is_none()
    }

    /// The lines `bill_to_id` is billed, and their total.
    pub fn bill_of(&self, bill_to_id: i64) -> Option<&JoinBill> {
        self.bills.iter().find(|b| b.bill_to_id == bill_to_id)
    }
}

/// Plans and (unless `dry_run`) bills a join for `contact_id`, as of `today` when no join
/// date is given.
pub async fn join(
    db: &Db,
    actor: Actor,
    contact_id: i64,
    req: JoinRequest,
    today: NaiveDate,
    key: Option<Key>,
    render: impl FnOnce(&Joined) -> Stored,
) -> Result<Outcome<Box<Joined>>> {
    check_join_date(actor, &req, today)?;
    let txn = db.write().await?;
    if !req.dry_run
        && let Some(k) = &key
        && let Some(stored) = idempotency::begin(&txn, k).await?
    {
        return Ok(Outcome::Replayed(stored));
    }
    let contact = crate::contacts::get(&txn, actor, contact_id).await?.contact;
    let Some(cycle_ref) = &req.cycle else {
        return Err(Error::invalid("billing_cycle", "is required"));
    };
    let cycle = billing_cycles::resolve(&txn, cycle_ref).await?;
    let mut joined = plan(&txn, &contact, &cycle, &req, today).await?;
    if req.dry_run {
        return Ok(Outcome::Done(Box::new(joined)));
    }

    save_invoices(&txn, &contact, &mut joined).await?;
    if let Some(k) = &key {
        idempotency::finish(&txn, k, &render(&joined)).await?;
    }
    txn.commit().await?;
    Ok(Outcome::Done(Box::new(joined)))
}

/// J-5, J-6, S-10: each of the join's invoices, with its subscriptions billed. An invoice with
/// nothing to pay (a complimentary join) is paid at once: the membership starts.
async fn save_invoices(
    txn: &impl sea_orm::ConnectionTrait,
    contact: &entity::contact::Model,
    joined: &mut Joined,
) -> Result<()> {
    let now = clock::now();
    for n in 0..joined.bills.len() {
        let bill = &joined.bills[n];
        let row = invoice_row(contact, joined, bill, n == 0, now);
        let invoice_id = invoices::insert(txn, row, bill.lines.clone()).await?;
        let mut view = invoices::get(txn, Actor::Staff, invoice_id).await?;
        if bill.total_cents == 0 {
            complete::paid_in_full(txn, &view, now).await?;
            view = invoices::get(txn, Actor::Staff, invoice_id).await?;
        }
        joined.bills[n].invoice = Some(view);
    }
    Ok(())
}

/// J-5: one of the join's open invoices. Only the membership's carries what the contact
/// takes once it is paid (type, category, a first join's date); the others pay their
/// subscriptions (S-10).
fn invoice_row(
    contact: &entity::contact::Model,
    joined: &Joined,
    bill: &JoinBill,
    membership: bool,
    now: DateTime<Utc>,
) -> i::ActiveModel {
    i::ActiveModel {
        contact_id: Set(joined.contact_id),
        bill_to_id: Set(bill.bill_to_id),
        kind: Set(InvoiceKind::Join),
        cycle_id: Set(Some(joined.cycle_id)),
        accounting_method: Set(joined.accounting_method),
        status: Set(OPEN.into()),
        total_cents: Set(bill.total_cents),
        paid_cents: Set(0),
        term_begin: Set(Some(joined.term.begin)),
        term_end: Set(Some(joined.term.end)),
        term_months: Set(Some(joined.term_months as i32)),
        customer_type: Set(Some(joined.customer_type.clone()).filter(|_| membership)),
        billing_category: Set(joined.billing_category.clone().filter(|_| membership)),
        treated_as: Set(joined.treated_as),
        join_date: Set(Some(joined.join_date)),
        first_join: Set(membership && contact.join_date.is_none()),
        void_reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// SEC-6: a member joins on the day the server records the join; only staff backdate or
/// postdate one (a member's own date could buy a longer first term or a forged seniority).
fn check_join_date(actor: Actor, req: &JoinRequest, today: NaiveDate) -> Result<()> {
    match (actor, req.join_date) {
        (Actor::Member { .. }, Some(date)) if date != today => Err(Error::Forbidden {
            message: format!(
                "members join on the day the join is recorded ({today}); only staff may give another join_date"
            ),
            fields: vec!["join_date".into()],
        }),
        _ => Ok(()),
    }
}

/// Everything a join bills, checked and priced, without writing: used by joins, their
/// previews and staff adjustments of an open join invoice (I-8).
pub(super) async fn plan(
    txn: &impl sea_orm::ConnectionTrait,
    contact: &entity::contact::Model,
    cycle: &Cycle,
    req: &JoinRequest,
    today: NaiveDate,
) -> Result<Joined> {
    let f = &cycle.fields;
    let type_code = joined_type_code(f)?;
    let ty = customer_types::get(txn, &type_code).await?;
    let settings = settings::get(txn).await?;
    check_same_kind(txn, contact, &ty, &type_code).await?;

    let mut checks = Checks {
        req,
        cycle: f,
        type_code: &type_code,
        errors: Errors::new(),
    };
    let category = checks.category(txn, contact, &ty).await?;
    let primaries = checks.primaries(&ty);
    let infos = super::lines::product_infos(txn, Some(&offered_codes(&primaries, req, f))).await?;
    checks.primaries_exist(&primaries, &infos);
    checks.chapters(&infos);
    checks.add_ons(&infos);
    checks.voluntary(&infos);
    checks.errors.into_result()?;

    let join_date = req.join_date.unwrap_or(today);
    let term_months = term_length(f, &settings, &primaries, &infos);
    let (treated_as, term) = join_or_rejoin(contact, f, &settings, join_date, term_months);
    let mut joined = Joined {
        contact_id: contact.id,
        cycle_id: cycle.id,
        join_date,
        treated_as,
        term,
        term_months,
        customer_type: type_code,
        billing_category: category,
        accounting_method: f.effective_accounting_method(&settings),
        bills: Vec::new(),
    };
    let items = line_items(&primaries, req);
    let lines = price_lines(txn, contact, &joined, &items, &infos, &req.voluntary).await?;
    let payers = payers(txn, contact.id, &lines).await?;
    joined.bills = bills_by_payer(contact.id, lines, &payers)?;
    Ok(joined)
}

/// S-10: who pays each product the contact already holds, where that is someone else.
async fn payers(
    txn: &impl sea_orm::ConnectionTrait,
    contact_id: i64,
    lines: &[LineDraft],
) -> Result<HashMap<String, i64>> {
    let codes: Vec<&str> = lines.iter().map(|l| l.product.as_str()).collect();
    let held = s::Entity::find()
        .filter(s::Column::ContactId.eq(contact_id))
        .filter(s::Column::BillToId.ne(contact_id))
        .filter(s::Column::Product.is_in(codes))
        .all(txn)
        .await?;
    Ok(held
        .into_iter()
        .map(|h| (h.product, h.bill_to_id))
        .collect())
}

/// S-10: the lines split by payer (a tax line follows its product), in line order; the bill
/// with the primary fee comes first, else the joiner's own, else the first.
fn bills_by_payer(
    contact_id: i64,
    lines: Vec<LineDraft>,
    payers: &HashMap<String, i64>,
) -> Result<Vec<JoinBill>> {
    let payer_of = |product: &str| {
        let base = product.strip_suffix(TAX_SUFFIX).unwrap_or(product);
        payers
            .get(product)
            .or_else(|| payers.get(base))
            .copied()
            .unwrap_or(contact_id)
    };
    let mut bills: Vec<JoinBill> = Vec::new();
    for line in lines {
        let payer = payer_of(&line.product);
        match bills.iter_mut().find(|b| b.bill_to_id == payer) {
            Some(b) => b.lines.push(line),
            None => bills.push(JoinBill {
                bill_to_id: payer,
                lines: vec![line],
                total_cents: 0,
                invoice: None,
            }),
        }
    }
    if bills.is_empty() {
        bills.push(JoinBill {
            bill_to_id: contact_id,
            lines: Vec::new(),
            total_cents: 0,
            invoice: None,
        });
    }
    let first = bills
        .iter()
        .position(|b| b.lines.iter().any(|l| l.is_primary))
        .or_else(|| bills.iter().position(|b| b.bill_to_id == contact_id))
        .unwrap_or(0);
    let membership = bills.remove(first);
    bills.insert(0, membership);
    for b in &mut bills {
        // SEC-3: a total that could wrap is refused before anything is written, dry run or not.
        b.total_cents = crate::money::invoice_total(b.lines.iter().map(|l| l.amount_cents))?;
    }
    Ok(bills)
}

/// J-1: a join cycle (`join_item_set`) joins its single customer type.
fn joined_type_code(f: &CycleFields) -> Result<String> {
    if !f.join_item_set {
        return Err(Error::invalid(
            "billing_cycle",
            format!(
                "billing cycle {:?} is not a join cycle (join_item_set)",
                f.name
            ),
        ));
    }
    f.customer_types
        .first()
        .cloned()
        .ok_or_else(|| Error::Internal("join cycle without a customer type".into()))
}

/// A person joins a person's type and an organization an organization's.
async fn check_same_kind(
    txn: &impl sea_orm::ConnectionTrait,
    contact: &entity::contact::Model,
    ty: &CustomerType,
    type_code: &str,
) -> Result<()> {
    let current = customer_types::get(txn, &contact.customer_type).await?;
    if ty.is_organization == current.is_organization {
        return Ok(());
    }
    Err(Error::invalid(
        "billing_cycle",
        format!("the cycle joins customer type {type_code}, which is for another kind of record"),
    ))
}

/// Every product the join may bill: the primaries, the chosen chapters and add-ons, and the
/// cycle's products.
fn offered_codes(primaries: &[String], req: &JoinRequest, f: &CycleFields) -> Vec<String> {
    let mut codes: Vec<String> = primaries.to_vec();
    codes.extend(req.chapters.iter().cloned());
    codes.extend(req.add_ons.iter().cloned());
    codes.extend(f.products.iter().cloned());
    codes
}

/// The checks of a join request against its cycle (J-1..J-3), collecting every error in
/// the order they are made.
struct Checks<'a> {
    req: &'a JoinRequest,
    cycle: &'a CycleFields,
    type_code: &'a str,
    errors: Errors,
}

impl Checks<'_> {
    /// J-1, C-4: the category chosen (or kept) must be one the cycle bills; a type with a
    /// primary fee needs one.
    async fn category(
        &mut self,
        txn: &impl sea_orm::ConnectionTrait,
        contact: &entity::contact::Model,
        ty: &CustomerType,
    ) -> Result<Option<String>> {
        let category = self
            .req
            .billing_category
            .clone()
            .or(contact.billing_category.clone());
        match &category {
            Some(cat) => self.category_billed(txn, cat).await?,
            None if ty.primary_fee.is_some() => self.errors.add(
                "billing_category",
                format!(
                    "customer type {} bills a primary fee: choose a billing category",
                    self.type_code
                ),
            ),
            None => {}
        }
        Ok(category)
    }

    async fn category_billed(
        &mut self,
        txn: &impl sea_orm::ConnectionTrait,
        cat: &str,
    ) -> Result<()> {
        let billed = &self.cycle.billing_categories;
        if billing_categories::TABLE.find(txn, cat).await?.is_none() {
            self.errors.add(
                "billing_category",
                format!("billing category {cat} does not exist"),
            );
        } else if !billed.is_empty() && !billed.iter().any(|b| b == cat) {
            self.errors.add(
                "billing_category",
                format!("the cycle bills categories {} only", billed.join(", ")),
            );
        }
        Ok(())
    }

    /// J-2: the primary fee: the type's products, or the chosen (else default) product of
    /// its formula family.
    fn primaries(&mut self, ty: &CustomerType) -> Vec<String> {
        match &ty.primary_fee {
            None => Vec::new(),
            Some(PrimaryFee::Products(list)) => {
                if self
                    .req
                    .primary_product
                    .as_ref()
                    .is_some_and(|p| !list.contains(p))
                {
                    self.errors.add(
                        "primary_product",
                        format!("customer type {} bills {}", self.type_code, list.join(", ")),
                    );
                }
                list.clone()
            }
            Some(PrimaryFee::Formula {
                designator,
                default_product,
            }) => self.formula_primary(designator, default_product.as_ref()),
        }
    }

    fn formula_primary(&mut self, designator: &str, default: Option<&String>) -> Vec<String> {
        match self.req.primary_product.as_ref().or(default) {
            Some(p) if in_formula_family(designator, p) => vec![p.clone()],
            Some(p) => {
                self.errors.add(
                    "primary_product",
                    format!("{p} is not in the {designator} family"),
                );
                Vec::new()
            }
            None => {
                self.errors.add(
                    "primary_product",
                    format!("choose a product of the {designator} family (no default)"),
                );
                Vec::new()
            }
        }
    }

    /// The primary products exist and are active.
    fn primaries_exist(&mut self, primaries: &[String], infos: &Infos) {
        for pcode in primaries {
            match infos.get(pcode) {
                None => self
                    .errors
                    .add("primary_product", format!("product {pcode} does not exist")),
                Some(info) if !info.active => self
                    .errors
                    .add("primary_product", format!("product {pcode} is not active")),
                _ => {}
            }
        }
    }

    /// B-9, J-3: chapters of the cycle only, as many as the cycle requires and allows.
    fn chapters(&mut self, infos: &Infos) {
        let f = self.cycle;
        let cycle_chapters: Vec<&String> = f
            .products
            .iter()
            .filter(|c| {
                infos
                    .get(*c)
                    .is_some_and(|i| i.product_type == ProductType::Chapter)
            })
            .collect();
        for ch in &self.req.chapters {
            if !cycle_chapters.contains(&ch) {
                self.errors
                    .add("chapters", format!("{ch} is not a chapter of this cycle"));
            }
        }
        if f.require_chapter && self.req.chapters.is_empty() {
            self.errors
                .add("chapters", "this cycle requires at least one chapter");
        }
        if !f.allow_multiple_chapters && self.req.chapters.len() > 1 {
            self.errors.add("chapters", "this cycle allows one chapter");
        }
    }

    /// J-3: add-ons are products the cycle offers, chapters aside.
    fn add_ons(&mut self, infos: &Infos) {
        for a in &self.req.add_ons {
            match infos.get(a) {
                _ if !self.cycle.products.contains(a) => self
                    .errors
                    .add("add_ons", format!("{a} is not offered by this cycle")),
                Some(i) if i.product_type == ProductType::Chapter => self.errors.add(
                    "add_ons",
                    format!("{a} is a chapter: list it under chapters"),
                ),
                _ => {}
            }
        }
    }

    /// J-3: voluntary amounts only for voluntary add-ons chosen, never negative.
    fn voluntary(&mut self, infos: &Infos) {
        for (code, amount) in &self.req.voluntary {
            let voluntary = infos
                .get(code)
                .is_some_and(|i| i.product_type == ProductType::Voluntary);
            if !voluntary || !self.req.add_ons.contains(code) {
                self.errors.add(
                    "voluntary",
                    format!("{code} is not a voluntary add-on chosen in add_ons"),
                );
            }
            if *amount < 0 {
                self.errors.add(
                    "voluntary",
                    format!("the amount for {code} must not be negative"),
                );
            }
        }
    }
}

/// T-2, J-2: the term length, from the primary product's span when the cycle says so.
fn term_length(f: &CycleFields, settings: &Settings, primaries: &[String], infos: &Infos) -> u32 {
    let primary_span = primaries
        .first()
        .and_then(|p| infos.get(p))
        .map_or(settings.standard_billing_interval_months, |i| i.term_months);
    terms::join_term_length(
        f.use_primary_fee_term_length,
        primary_span,
        settings.standard_billing_interval_months,
    )
}

/// J-4: inside the rejoin window (annual billing only) a join is a renewal continuing the
/// old term at full price; otherwise a new term, prorated by T-3.
fn join_or_rejoin(
    contact: &entity::contact::Model,
    f: &CycleFields,
    settings: &Settings,
    join_date: NaiveDate,
    term_months: u32,
) -> (TreatedAs, Term) {
    let billing_time = f.effective_billing_time(settings);
    let window = if billing_time == BillingTime::Annual {
        f.rejoin_as_renewal_months
    } else {
        0
    };
    let rejoin = contact
        .paid_through
        .filter(|pt| terms::rejoin_is_renewal(*pt, window, join_date));
    let fy_start = settings.fiscal_year_start_month;
    match rejoin {
        Some(pt) => {
            let mut t =
                terms::renewal_term(Some(pt), join_date, term_months, billing_time, fy_start);
            t.scale = Ratio::ONE;
            (TreatedAs::Renewal, t)
        }
        None => (
            TreatedAs::Join,
            join_term(f, billing_time, join_date, term_months, fy_start),
        ),
    }
}

/// T-8 for an annual join of whole years when the cycle's table has the join month; else T-3.
fn join_term(
    f: &CycleFields,
    billing_time: BillingTime,
    join_date: NaiveDate,
    term_months: u32,
    fy_start: u32,
) -> Term {
    let annual = billing_time == BillingTime::Annual && term_months.is_multiple_of(12);
    match proration::rule_for(&f.proration_rules, join_date).filter(|_| annual) {
        Some(rule) => proration::join_term(rule, join_date, fy_start),
        None => terms::join_term(join_date, term_months, billing_time, fy_start),
    }
}

/// What the join bills, in line order: primaries, chapters, add-ons.
fn line_items(primaries: &[String], req: &JoinRequest) -> Vec<(String, Role)> {
    let mut items: Vec<(String, Role)> = primaries
        .iter()
        .map(|p| (p.clone(), Role::Primary))
        .collect();
    items.extend(req.chapters.iter().map(|c| (c.clone(), Role::Chapter)));
    items.extend(req.add_ons.iter().map(|a| (a.clone(), Role::AddOn)));
    items
}

/// P-7: the join date pricing sees. A contact who joined before keeps that date (paying a
/// rejoin does not change it, `billing/complete.rs`); on a first join it is the date of the
/// join being made, which paying the invoice records.
fn pricing_join_date(contact: &entity::contact::Model, joined: &Joined) -> Option<NaiveDate> {
    contact.join_date.or(Some(joined.join_date))
}

/// P-3, T-3: the lines, priced as what the contact becomes (J-1): the joined type and
/// category, as of the join date, scaled to the term.
async fn price_lines(
    txn: &impl sea_orm::ConnectionTrait,
    contact: &entity::contact::Model,
    joined: &Joined,
    items: &[(String, Role)],
    infos: &Infos,
    voluntary: &HashMap<String, i64>,
) -> Result<Vec<LineDraft>> {
    let item_codes: Vec<String> = items.iter().map(|(c, _)| c.clone()).collect();
    let book = PriceBook::load_for(txn, &item_codes).await?;
    let mut buyer = pricing::buyers(txn, &[contact.id])
        .await?
        .remove(&contact.id)
        .unwrap_or_default();
    buyer.customer_type = Some(joined.customer_type.clone());
    buyer.billing_category = joined.billing_category.clone();
    buyer.join_date = pricing_join_date(contact, joined);
    Ok(Pricing {
        book: &book,
        buyer: &buyer,
        as_of: joined.join_date,
        products: infos,
        term: &joined.term,
        term_length: joined.term_months,
    }
    .build(items, voluntary))
}
