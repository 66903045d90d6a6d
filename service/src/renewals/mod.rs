//! R-1..R-6: renewal runs. Due contacts are read in pages by id; prices and rules are loaded
//! once; each page's invoices are built in memory and written with multi-row statements in one
//! transaction, so a run killed mid-way leaves whole pages only and the next run finishes the
//! rest. On PostgreSQL two pages are written at once, each in its own transaction on its own
//! connection: one page's writes keep a single database core busy. A unique (subscription,
//! term) billing key makes billing twice impossible, whatever runs at the same time.

pub mod build;
pub mod itemized;
pub mod now;
pub mod preview;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use futures_util::{FutureExt, StreamExt, TryStreamExt};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde_json::json;

use entity::contact as c;
use entity::invoice as i;
use entity::invoice_line as l;
use entity::renewal_run as r;
use entity::renewal_run_page as rp;
use entity::renewal_run_skip as rs;
use entity::subscription as s;

use crate::billing::invoices::InvoiceKind;
use crate::billing::join::TreatedAs;
use crate::billing::lines::ProductInfo;
use crate::billing_cycles::CycleRef;
use crate::billing_cycles::{self, AutopayOption, Cycle, CycleFields};
use crate::customer_types::{self, CustomerType};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::history;
use crate::idempotency::{self, Key, Outcome, Stored};
use crate::page::{self, Page, PageRequest};
use crate::pricing::{self, PriceBook};
use crate::settings::{self, AccountingMethod};
use crate::sql::{Sql, in_ids, rows_per_page_statement};
use crate::{clock, notices, paid_through, terms};

use build::{Bill, Context, Held, Renewing};

pub const PAGE: u64 = 1_000;
/// Pages a run writes at once on PostgreSQL, each in its own transaction.
const WRITERS: usize = 2;
/// Invoices and skips listed in a run's answer; every one is in the database.
pub const LISTED: usize = 1_000;

#[derive(Debug, Clone)]
pub struct RunRequest {
    pub cycle: CycleRef,
    pub effective_date: Option<NaiveDate>,
    /// B-16: this run's AutoPay option instead of the cycle's.
    pub autopay_option: Option<AutopayOption>,
    pub dry_run: bool,
    /// JB-2: commit this saved preview (its contacts, date and AutoPay option).
    pub preview_id: Option<i64>,
}

/// JB-1: a renewal run as a job's parameters, fixed when it was asked for: the cycle by id,
/// and the day it was asked on, which gives the default effective date.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunJob {
    pub billing_cycle: i64,
    pub effective_date: Option<NaiveDate>,
    pub autopay_option: Option<AutopayOption>,
    pub run_by: i64,
    pub today: NaiveDate,
    /// JB-2: the preview the run commits.
    #[serde(default)]
    pub preview_id: Option<i64>,
}

impl RunJob {
    /// Checks the request now (an unknown cycle is refused before any job exists).
    pub async fn new(db: &Db, req: &RunRequest, run_by: i64, today: NaiveDate) -> Result<RunJob> {
        let cycle = billing_cycles::resolve(&db.conn, &req.cycle).await?;
        Ok(RunJob {
            billing_cycle: cycle.id,
            effective_date: req.effective_date,
            autopay_option: req.autopay_option,
            run_by,
            today,
            preview_id: req.preview_id,
        })
    }

    /// The parameters as a job stores them.
    pub fn to_json(&self) -> Result<serde_json::Value> {
        serde_json::to_value(self).map_err(|e| Error::Internal(e.to_string()))
    }

    pub fn request(&self) -> RunRequest {
        RunRequest {
            cycle: CycleRef::Id(self.billing_cycle),
            effective_date: self.effective_date,
            autopay_option: self.autopay_option,
            dry_run: false,
            preview_id: self.preview_id,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunResult {
    pub id: Option<i64>,
    pub cycle_id: i64,
    pub effective_date: Option<NaiveDate>,
    /// The AutoPay option the run bills by (B-16).
    pub autopay_option: AutopayOption,
    pub considered: u64,
    pub billed: u64,
    pub skipped: Vec<(i64, String)>,
    pub skipped_count: u64,
    pub total_cents: i64,
    /// The bills (first `LISTED`), with invoice ids when written.
    pub invoices: Vec<(Option<i64>, Bill)>,
    /// JB-2: a dry run's saved preview.
    pub preview_id: Option<i64>,
    /// JB-2, committing a preview: contacts billed otherwise than previewed (first `LISTED`).
    pub changed_since_preview: Vec<i64>,
    /// JB-2, committing a preview: previewed contacts billed by nobody (first `LISTED`).
    pub no_longer_due: Vec<i64>,
}

/// who a cycle selects: customer type, category, status and AutoPay, and due.
fn selection(cycle: &Cycle, loaded: &Loaded, effective: NaiveDate) -> Condition {
    let f = &cycle.fields;
    let types = selected_types(cycle, &loaded.types);
    let due = if f.membership {
        membership_due(effective)
    } else {
        product_due(f, &loaded.products, effective)
    };
    let mut cond = Condition::all()
        .add(c::Column::CustomerType.is_in(types))
        .add(due);
    if !f.billing_categories.is_empty() {
        cond = cond.add(c::Column::BillingCategory.is_in(f.billing_categories.iter().cloned()));
    }
    // B-10: status by its first letter; `D` is never billed.
    let mut statuses = Condition::any().add(c::Column::Status.starts_with("A"));
    if f.include_inactive_members {
        statuses = statuses.add(c::Column::Status.starts_with("I"));
    }
    if f.include_suspended_members {
        statuses = statuses.add(c::Column::Status.starts_with("S"));
    }
    cond = cond.add(statuses);
    match f.autopay_option {
        AutopayOption::BillAll => cond,
        AutopayOption::OnlyAutopay => cond.add(c::Column::Autopay.eq(true)),
        AutopayOption::OnlyNonAutopay => cond.add(c::Column::Autopay.eq(false)),
    }
}

/// in a dues cycle a contact is due when its membership paid-through is before the
/// effective date.
fn membership_due(effective: NaiveDate) -> Condition {
    Condition::any()
        .add(c::Column::PaidThrough.is_null())
        .add(c::Column::PaidThrough.lt(effective))
}

/// B-15: in another cycle a contact is due when it holds a subscription the cycle bills whose
/// own paid-through is before the effective date; the membership plays no part.
fn product_due(
    f: &CycleFields,
    products: &HashMap<String, ProductInfo>,
    effective: NaiveDate,
) -> Condition {
    let (billed, inactive_too) = build::billed_products(f, products);
    let col = |c: s::Column| Expr::col((s::Entity, c));
    let live = Condition::any()
        .add(col(s::Column::Active).eq(true))
        .add(col(s::Column::Product).is_in(inactive_too));
    let unpaid = Condition::any()
        .add(col(s::Column::PaidThrough).is_null())
        .add(col(s::Column::PaidThrough).lt(effective));
    let due = Query::select()
        .expr(Expr::val(1))
        .from(s::Entity)
        .and_where(col(s::Column::ContactId).equals((c::Entity, c::Column::Id)))
        .and_where(col(s::Column::Product).is_in(billed))
        .and_where(col(s::Column::BillSubscription).eq(true))
        .cond_where(live)
        .cond_where(unpaid)
        .to_owned();
    Condition::all().add(Expr::exists(due))
}

/// the date given, else the run date plus the cycle's months prior to expiration.
fn effective_date(cycle: &Cycle, given: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
    given.unwrap_or_else(|| {
        terms::add_months(
            today,
            i32::try_from(cycle.fields.months_prior_to_expiration).unwrap_or(0),
        )
    })
}

/// The cycle's customer types, and the phased-out types that renew into them (L-5).
fn selected_types(cycle: &Cycle, types: &HashMap<String, CustomerType>) -> Vec<String> {
    let f = &cycle.fields;
    let mut out = f.customer_types.clone();
    out.extend(
        types
            .values()
            .filter(|t| {
                t.renews_as
                    .as_ref()
                    .is_some_and(|r| f.customer_types.contains(r))
            })
            .map(|t| t.code.clone()),
    );
    out
}

/// How many contacts a run would consider (for progress): one count over the same selection.
pub async fn due_count(db: &Db, req: &RunRequest, today: NaiveDate) -> Result<u64> {
    let cycle = cycle_of(&db.conn, req).await?;
    let effective = effective_date(&cycle, req.effective_date, today);
    let loaded = load(&db.conn).await?;
    Ok(c::Entity::find()
        .filter(selection(&cycle, &loaded, effective))
        .count(&db.conn)
        .await?)
}

struct Loaded {
    types: HashMap<String, CustomerType>,
    products: HashMap<String, ProductInfo>,
    book: PriceBook,
}

async fn load(conn: &impl ConnectionTrait) -> Result<Loaded> {
    let all: Vec<String> = customer_types::all(conn)
        .await?
        .into_iter()
        .map(|t| t.code)
        .collect();
    let types = customer_types::find_many(conn, &all)
        .await?
        .into_iter()
        .map(|t| (t.code.clone(), t))
        .collect();
    let products = crate::billing::lines::product_infos(conn, None).await?;
    Ok(Loaded {
        types,
        products,
        book: PriceBook::load(conn).await?,
    })
}

/// A page of a run: the due contacts with ids after `after`, through `upto` (the last page has
/// no end). Fixed before the page is planned, so that pages can be written side by side.
#[derive(Debug, Clone, Copy)]
struct Range {
    after: i64,
    upto: Option<i64>,
}

/// The pages of a run one at a time: each ends at the `PAGE`-th due contact after the last.
async fn next_range(conn: &impl ConnectionTrait, facts: RunFacts<'_>, after: i64) -> Result<Range> {
    let upto: Option<i64> = c::Entity::find()
        .select_only()
        .column(c::Column::Id)
        .filter(facts.selection())
        .filter(c::Column::Id.gt(after))
        .order_by_asc(c::Column::Id)
        .offset(PAGE - 1)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(Range { after, upto })
}

/// A page's contacts, their bills and their skips (contact, reason).
type PagePlan = (Vec<Renewing>, Vec<Bill>, Vec<(i64, String)>);

/// Plans one page: the contacts of `range`, their bills and skips.
async fn plan_page(
    conn: &impl ConnectionTrait,
    facts: RunFacts<'_>,
    range: Range,
    thorough: bool,
) -> Result<PagePlan> {
    let cycle = facts.cycle;
    let started = std::time::Instant::now();
    let contacts = page_contacts(conn, facts, range).await?;
    if contacts.is_empty() {
        return Ok((contacts, Vec::new(), Vec::new()));
    }
    let read_contacts = started.elapsed();
    let ids: Vec<i64> = contacts.iter().map(|c| c.id).collect();
    let held = held_by_contact(conn, &ids).await?;
    let read_subs = started.elapsed();
    let buyers = pricing::buyers(conn, &ids).await?;
    let read_buyers = started.elapsed();
    let billed_chapters = if cycle.fields.require_billed_chapters_on_renewal {
        billed_chapters(conn, &ids).await?
    } else {
        HashMap::new()
    };
    let planner = PagePlanner {
        ctx: facts.context(),
        held,
        buyers,
        billed_chapters,
    };
    let planned = planner.plan_all(conn, &contacts, thorough).await?;
    let mut bills = Vec::new();
    let mut skips = Vec::new();
    for (contact, bill) in planned {
        match bill {
            Ok(b) => bills.push(b),
            Err(skip) => skips.push((contact.id, skip.to_string())),
        }
    }
    tracing::debug!(
        contacts = ?read_contacts,
        subscriptions = ?(read_subs - read_contacts),
        buyers = ?(read_buyers - read_subs),
        build = ?(started.elapsed() - read_buyers),
        "renewal page planned"
    );
    Ok((contacts, bills, skips))
}

/// The due contacts of `range`, by id.
async fn page_contacts(
    conn: &impl ConnectionTrait,
    facts: RunFacts<'_>,
    range: Range,
) -> Result<Vec<Renewing>> {
    let mut query = c::Entity::find()
        .filter(facts.selection())
        .filter(c::Column::Id.gt(range.after));
    if let Some(upto) = range.upto {
        query = query.filter(c::Column::Id.lte(upto));
    }
    Ok(query
        .order_by_asc(c::Column::Id)
        .into_partial_model()
        .all(conn)
        .await?)
}

/// B-14: the chapters each contact's last paid dues invoice (a join or renewal with a primary
/// fee line) billed. Two statements per page: the invoices, then their chapter lines.
async fn billed_chapters(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>> {
    let dues_line = Query::select()
        .expr(Expr::val(1))
        .from(l::Entity)
        .and_where(Expr::col((l::Entity, l::Column::InvoiceId)).equals((i::Entity, i::Column::Id)))
        .and_where(Expr::col((l::Entity, l::Column::IsPrimary)).eq(true))
        .to_owned();
    let last_paid: Vec<(i64, i64)> = i::Entity::find()
        .select_only()
        .column(i::Column::ContactId)
        .column_as(i::Column::Id.max(), "last")
        .filter(in_ids(i::Column::ContactId, ids))
        .filter(i::Column::Status.eq(crate::billing::invoices::PAID))
        .filter(i::Column::Kind.is_in([InvoiceKind::Join, InvoiceKind::Renewal]))
        .filter(Expr::exists(dues_line))
        .group_by(i::Column::ContactId)
        .into_tuple()
        .all(conn)
        .await?;
    let contact_of: HashMap<i64, i64> = last_paid.iter().map(|(c, inv)| (*inv, *c)).collect();
    let invoices: Vec<i64> = contact_of.keys().copied().collect();
    let lines: Vec<(i64, String)> = l::Entity::find()
        .select_only()
        .column(l::Column::InvoiceId)
        .column(l::Column::Product)
        .filter(in_ids(l::Column::InvoiceId, &invoices))
        .filter(l::Column::IsChapter.eq(true))
        .order_by_asc(l::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for (invoice, product) in lines {
        if let Some(contact) = contact_of.get(&invoice) {
            out.entry(*contact).or_default().push(product);
        }
    }
    Ok(out)
}

/// The subscriptions of the contacts `ids`, by contact, each contact's by id.
async fn held_by_contact(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<Held>>> {
    let subs: Vec<Held> = s::Entity::find()
        .filter(in_ids(s::Column::ContactId, ids))
        .order_by_asc(s::Column::Id)
        .into_partial_model()
        .all(conn)
        .await?;
    let mut held: HashMap<i64, Vec<Held>> = HashMap::new();
    for sub in subs {
        held.entry(sub.contact_id).or_default().push(sub);
    }
    Ok(held)
}

/// Plans the bills of one page from what the page read.
struct PagePlanner<'a> {
    ctx: Context<'a>,
    held: HashMap<i64, Vec<Held>>,
    buyers: HashMap<i64, pricing::Buyer>,
    billed_chapters: HashMap<i64, Vec<String>>,
}

type Planned<'c> = (&'c Renewing, std::result::Result<Bill, build::Skip>);

impl PagePlanner<'_> {
    fn held_by(&self, id: i64) -> &[Held] {
        self.held.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    fn plan(
        &self,
        contact: &Renewing,
        billed: &HashSet<(i64, NaiveDate)>,
    ) -> std::result::Result<Bill, build::Skip> {
        let mut buyer = self.buyers.get(&contact.id).cloned().unwrap_or_default();
        // Priced as the type billed (L-5).
        if let Some(next) = renews_as(self.ctx.types, &contact.customer_type) {
            buyer.customer_type = Some(next);
        }
        let holding = build::Holding {
            held: self.held_by(contact.id),
            billed_chapters: self
                .billed_chapters
                .get(&contact.id)
                .map_or(&[], Vec::as_slice),
        };
        build::bill(&self.ctx, contact, holding, &buyer, billed, None)
    }

    /// terms billed already. Reading every billing line of the page's subscriptions
    /// costs more as the lines table grows. A run records the term it bills on the
    /// subscription (`bill_begin`), so only subscriptions that point at the term planned are
    /// looked up; a term billed some other way is caught by the unique billing key, and the
    /// page is then planned again against every line (`thorough`).
    async fn plan_all<'c>(
        &self,
        conn: &impl ConnectionTrait,
        contacts: &'c [Renewing],
        thorough: bool,
    ) -> Result<Vec<Planned<'c>>> {
        let mut billed_terms = HashSet::new();
        if thorough {
            let all: Vec<i64> = self.held.values().flatten().map(|h| h.id).collect();
            billed_terms = billed_terms_of(conn, &all).await?;
        }
        let mut planned: Vec<Planned<'c>> = contacts
            .iter()
            .map(|contact| (contact, self.plan(contact, &billed_terms)))
            .collect();
        if !thorough {
            self.plan_suspects_again(conn, &mut planned).await?;
        }
        Ok(planned)
    }

    /// The contacts whose subscriptions a run already marked with the term planned are
    /// planned again against those subscriptions' billing lines.
    async fn plan_suspects_again(
        &self,
        conn: &impl ConnectionTrait,
        planned: &mut [Planned<'_>],
    ) -> Result<()> {
        let suspects: Vec<i64> = planned
            .iter()
            .filter_map(|(contact, bill)| Some((contact, bill.as_ref().ok()?)))
            .flat_map(|(contact, bill)| {
                self.held_by(contact.id)
                    .iter()
                    .filter(|h| h.bill_begin == Some(bill.term.begin))
                    .map(|h| h.id)
            })
            .collect();
        if suspects.is_empty() {
            return Ok(());
        }
        let billed_terms = billed_terms_of(conn, &suspects).await?;
        let suspect: HashSet<i64> = billed_terms.iter().map(|(sub, _)| *sub).collect();
        for (contact, bill) in planned.iter_mut() {
            if self
                .held_by(contact.id)
                .iter()
                .any(|h| suspect.contains(&h.id))
            {
                *bill = self.plan(contact, &billed_terms);
            }
        }
        Ok(())
    }
}

/// the (subscription, term begin) pairs billed on live invoices.
async fn billed_terms_of(
    conn: &impl ConnectionTrait,
    sub_ids: &[i64],
) -> Result<HashSet<(i64, NaiveDate)>> {
    let mut out = HashSet::new();
    for chunk in sub_ids.chunks(10_000) {
        let rows: Vec<(Option<i64>, Option<NaiveDate>)> = l::Entity::find()
            .select_only()
            .column(l::Column::SubscriptionId)
            .column(l::Column::BilledTerm)
            .filter(in_ids(l::Column::SubscriptionId, chunk))
            .filter(l::Column::BilledTerm.is_not_null())
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(rows.into_iter().filter_map(|(s, t)| Some((s?, t?))));
    }
    Ok(out)
}

/// Writes one page in the caller's transaction; returns the invoice id of each bill (`None`
/// for a bill without an invoice, R-10).
async fn write_page(
    conn: &impl ConnectionTrait,
    run_id: Option<i64>,
    cycle: &Cycle,
    settings: &settings::Settings,
    bills: &[Bill],
    skips: &[(i64, String)],
) -> Result<Vec<Option<i64>>> {
    let started = std::time::Instant::now();
    let page = PageWrite {
        run_id,
        cycle,
        bills,
        method: cycle.fields.run_accounting_method(settings),
        now: clock::now(),
    };
    let created = page.create_new_primaries(conn).await?;
    let batch_id = page.autopay_batch(conn).await?;
    let invoice_of = page.insert_invoices(conn, batch_id).await?;
    let wrote_invoices = started.elapsed();
    let billed = page.lines(&invoice_of, &created);
    billed.insert_lines(conn).await?;
    let wrote_lines = started.elapsed();
    mark_billed(conn, &billed.marks, page.now).await?;
    let wrote_subs = started.elapsed();
    paid_through::sync(conn, &billed.complimentary_contacts, page.now).await?;
    history::record_terms(conn, &billed.terms, page.now).await?;
    record_skips(conn, run_id, skips).await?;
    let wrote_rest = started.elapsed();
    let ids = page.invoice_ids(&invoice_of);
    let mut written: Vec<i64> = invoice_of.values().copied().collect();
    written.sort_unstable();
    events::emit_renewal_invoices(conn, &written).await?;
    notices::for_invoices(
        conn,
        notices::RENEWAL_NOTICE,
        &written,
        notices::Recipient::Payer,
        page.now,
    )
    .await?;
    tracing::debug!(
        invoices = ?wrote_invoices,
        lines = ?(wrote_lines - wrote_invoices),
        subscriptions = ?(wrote_subs - wrote_lines),
        rest = ?(wrote_rest - wrote_subs),
        events = ?(started.elapsed() - wrote_rest),
        "renewal page written"
    );
    Ok(ids)
}

/// One page of bills being written.
struct PageWrite<'a> {
    run_id: Option<i64>,
    cycle: &'a Cycle,
    bills: &'a [Bill],
    method: AccountingMethod,
    now: chrono::DateTime<chrono::Utc>,
}

/// The invoice of each (contact, payer) a page wrote (S-10).
type InvoiceOf = HashMap<(i64, i64), i64>;

/// A subscription a bill creates: (contact, product) to its id.
type Created = HashMap<(i64, String), i64>;

/// What a page's lines write: the lines, the subscriptions they mark billed (id, term begin,
/// term end, paid through now as complimentary) and the contacts whose paid-through follows.
struct PageLines {
    lines: Vec<l::ActiveModel>,
    marks: Vec<(i64, NaiveDate, NaiveDate, bool)>,
    complimentary_contacts: Vec<i64>,
    /// R-10, MG-3: complimentary membership terms moved without an invoice.
    terms: Vec<history::NewTerm>,
}

impl PageWrite<'_> {
    /// B-2: primary-fee subscriptions a contact does not hold yet are created at billing.
    async fn create_new_primaries(&self, conn: &impl ConnectionTrait) -> Result<Created> {
        let new_subs: Vec<s::ActiveModel> = self
            .bills
            .iter()
            .flat_map(|b| {
                b.new_primaries
                    .iter()
                    .map(move |prod| self.new_primary(b, prod))
            })
            .collect();
        let mut created = Created::new();
        for chunk in new_subs.chunks(rows_per_page_statement(22)) {
            for m in s::Entity::insert_many(chunk.to_vec())
                .exec_with_returning(conn)
                .await?
            {
                created.insert((m.contact_id, m.product), m.id);
            }
        }
        Ok(created)
    }

    fn new_primary(&self, b: &Bill, product: &str) -> s::ActiveModel {
        s::ActiveModel {
            contact_id: Set(b.contact_id),
            product: Set(product.to_owned()),
            begin_date: Set(Some(b.term.begin)),
            paid_through: Set(None),
            bill_to_id: Set(b.contact_id),
            // Active once paid (`complete`), so a family never holds two active (S-8).
            active: Set(false),
            is_complimentary: Set(false),
            is_membership_component: Set(true),
            bill_subscription: Set(true),
            accounting_method: Set(self.method),
            billed: Set(false),
            version: Set(1),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            ..Default::default()
        }
    }

    /// I-5: a run's AutoPay invoices wait in its batch until posted (always accrual).
    async fn autopay_batch(&self, conn: &impl ConnectionTrait) -> Result<Option<i64>> {
        Ok(match self.run_id {
            Some(run) if self.bills.iter().any(|b| b.autopay) => {
                Some(crate::billing::batches::for_run(conn, run, self.now).await?)
            }
            _ => None,
        })
    }

    /// Inserts one invoice per bill; returns each contact's invoice id. Only the two
    /// columns the lines need come back: decoding whole invoices cost a third of the insert.
    async fn insert_invoices(
        &self,
        conn: &impl ConnectionTrait,
        batch_id: Option<i64>,
    ) -> Result<InvoiceOf> {
        let invoices: Vec<i::ActiveModel> = self
            .bills
            .iter()
            .filter(|b| b.printed)
            .flat_map(|b| {
                b.by_payer()
                    .into_iter()
                    .map(move |(payer, total)| self.invoice(b, payer, total, batch_id))
            })
            .collect();
        let mut invoice_of = InvoiceOf::with_capacity(self.bills.len());
        let columns = [i::Column::Id, i::Column::ContactId, i::Column::BillToId];
        for chunk in invoices.chunks(rows_per_page_statement(22)) {
            let mut stmt = i::Entity::insert_many(chunk.to_vec()).into_query();
            stmt.returning(Query::returning().columns(columns));
            for row in conn.query_all(&stmt).await? {
                let id: i64 = row.try_get_by_index(0)?;
                let contact_id: i64 = row.try_get_by_index(1)?;
                let payer: i64 = row.try_get_by_index(2)?;
                invoice_of.insert((contact_id, payer), id);
            }
        }
        Ok(invoice_of)
    }

    /// S-10: the invoice of `b`'s lines that `payer` pays. AutoPay (the holder's) batches only
    /// what the holder pays.
    fn invoice(&self, b: &Bill, payer: i64, total: i64, batch_id: Option<i64>) -> i::ActiveModel {
        let autopay = b.autopay && payer == b.contact_id;
        let batched = autopay && batch_id.is_some();
        i::ActiveModel {
            contact_id: Set(b.contact_id),
            bill_to_id: Set(payer),
            kind: Set(InvoiceKind::Renewal),
            cycle_id: Set(Some(self.cycle.id)),
            accounting_method: Set(if batched {
                AccountingMethod::Accrual
            } else {
                self.method
            }),
            status: Set(if batched {
                crate::billing::invoices::DRAFT.into()
            } else {
                crate::billing::invoices::OPEN.into()
            }),
            batch_id: Set(batch_id.filter(|_| autopay)),
            total_cents: Set(total),
            paid_cents: Set(0),
            term_begin: Set(Some(b.term.begin)),
            term_end: Set(Some(b.term.end)),
            term_months: Set(Some(b.term_months as i32)),
            customer_type: Set(Some(b.customer_type.clone())),
            billing_category: Set(b.billing_category.clone()),
            treated_as: Set(TreatedAs::Renewal),
            join_date: Set(None),
            first_join: Set(false),
            void_reason: Set(None),
            renewal_run_id: Set(self.run_id),
            version: Set(1),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            ..Default::default()
        }
    }

    /// The lines of every bill, linked to the subscription each bills (held or created).
    /// complimentary subscriptions are paid through at billing, unless a cash cycle
    /// says at payment (B-11).
    fn lines(&self, invoice_of: &InvoiceOf, created: &Created) -> PageLines {
        let mut out = PageLines {
            lines: Vec::new(),
            marks: Vec::new(),
            complimentary_contacts: Vec::new(),
            terms: Vec::new(),
        };
        let comp_now = self.method == AccountingMethod::Accrual
            || !self
                .cycle
                .fields
                .update_complimentary_paid_through_at_payment;
        for b in self.bills.iter().filter(|b| !b.printed) {
            out.renew_unprinted(b);
        }
        for b in self.bills.iter().filter(|b| b.printed) {
            for (n, (line, held)) in b.lines.iter().zip(&b.held).enumerate() {
                let payer = b.payers.get(n).copied().unwrap_or(b.contact_id);
                let invoice_id = invoice_of
                    .get(&(b.contact_id, payer))
                    .copied()
                    .unwrap_or_default();
                let sub =
                    held.or_else(|| created.get(&(b.contact_id, line.product.clone())).copied());
                if let Some(sid) = sub {
                    let comp = b.complimentary.contains(&sid) && comp_now;
                    if comp {
                        out.complimentary_contacts.push(b.contact_id);
                    }
                    out.marks.push((sid, b.term.begin, b.term.end, comp));
                }
                out.lines.push(l::ActiveModel {
                    invoice_id: Set(invoice_id),
                    position: Set(n as i32),
                    product: Set(line.product.clone()),
                    subscription_id: Set(sub),
                    term_begin: Set(line.term_begin),
                    term_end: Set(line.term_end),
                    amount_cents: Set(line.amount_cents),
                    paid_cents: Set(0),
                    voluntary: Set(line.voluntary),
                    is_primary: Set(line.is_primary),
                    is_chapter: Set(line.is_chapter),
                    billed_term: Set(sub.map(|_| b.term.begin)),
                    ..Default::default()
                });
            }
        }
        out
    }

    /// The invoice of each bill, in bill order: the one the contact pays, else the first
    /// payer's (S-10); `None` for a bill without an invoice.
    fn invoice_ids(&self, invoice_of: &InvoiceOf) -> Vec<Option<i64>> {
        self.bills
            .iter()
            .map(|b| {
                let first = b.by_payer().first().map(|(payer, _)| *payer);
                first
                    .and_then(|payer| invoice_of.get(&(b.contact_id, payer)).copied())
                    .filter(|_| b.printed)
            })
            .collect()
    }
}

impl PageLines {
    /// an unprinted bill pays its complimentary subscriptions through the term now:
    /// no payment will come.
    /// A complimentary membership (its primary fee) enters the term ledger (L-6) here, as no
    /// payment will record it.
    fn renew_unprinted(&mut self, b: &Bill) {
        for (line, held) in b.lines.iter().zip(&b.held) {
            let Some(sid) = held.filter(|s| b.complimentary.contains(s)) else {
                continue;
            };
            self.marks.push((sid, b.term.begin, b.term.end, true));
            if line.is_primary {
                self.terms.push(history::NewTerm {
                    contact_id: b.contact_id,
                    begin: b.term.begin,
                    end: b.term.end,
                    customer_type: Some(b.customer_type.clone()),
                    product: Some(line.product.clone()),
                    invoice_id: None,
                    amount_cents: Some(0),
                    imported: false,
                });
            }
        }
        self.complimentary_contacts.push(b.contact_id);
    }

    async fn insert_lines(&self, conn: &impl ConnectionTrait) -> Result<()> {
        for chunk in self.lines.chunks(rows_per_page_statement(13)) {
            l::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(conn)
                .await?;
        }
        Ok(())
    }
}

/// a run records each contact it skipped, with the reason.
async fn record_skips(
    conn: &impl ConnectionTrait,
    run_id: Option<i64>,
    skips: &[(i64, String)],
) -> Result<()> {
    let Some(run_id) = run_id else {
        return Ok(());
    };
    let skip_rows: Vec<rs::ActiveModel> = skips
        .iter()
        .map(|(cid, reason)| rs::ActiveModel {
            run_id: Set(run_id),
            contact_id: Set(*cid),
            reason: Set(reason.chars().take(200).collect()),
        })
        .collect();
    for chunk in skip_rows.chunks(rows_per_page_statement(3)) {
        rs::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// I-2: billed subscriptions lock; complimentary ones are paid through the term. One
/// statement per page whatever its terms, of one text whatever its size: the rows travel as one
/// JSON parameter. Statements that differed with each page's mix of terms and sizes were each
/// prepared anew, and pushed the page's inserts out of the connection's statement cache.
async fn mark_billed(
    conn: &impl ConnectionTrait,
    marks: &[(i64, NaiveDate, NaiveDate, bool)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if marks.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new(conn.get_database_backend());
    q.push("UPDATE subscriptions AS s SET billed = ")
        .bind(true)
        .push(", bill_begin = v.b, bill_through = v.e, ")
        .push("paid_through = CASE WHEN v.c THEN v.e ELSE s.paid_through END, ")
        .push("version = s.version + 1, updated_at = ")
        .bind(now)
        .push(" FROM ")
        .json_rows(
            &marks,
            &[
                ("id", "bigint"),
                ("b", "date"),
                ("e", "date"),
                ("c", "boolean"),
            ],
        )?
        .push(" AS v WHERE s.id = v.id");
    conn.execute_raw(q.build()).await?;
    Ok(())
}

/// R-1..R-6: generates renewals for a cycle. `today` gives the default effective date.
pub async fn run(
    db: &Db,
    req: RunRequest,
    run_by: i64,
    today: NaiveDate,
    progress: &(dyn Fn(&RunResult) + Sync),
) -> Result<RunResult> {
    let (result, _) = done(execute(db, req, run_by, today, progress, None, None).await?)?;
    Ok(result)
}

/// JB-1: a run as the work of a job. A job taken over resumes its run after the pages already
/// committed; its counts are the whole run's. The run stops at a page boundary when the job is
/// cancelled (the run is then `cancelled`) or held by another server now (left to it).
pub async fn run_in_job(
    db: &Db,
    req: RunRequest,
    run_by: i64,
    today: NaiveDate,
    job: InJob<'_>,
    progress: &(dyn Fn(&RunResult) + Sync),
) -> Result<(RunResult, Flow)> {
    done(execute(db, req, run_by, today, progress, None, Some(job)).await?)
}

fn done(outcome: Outcome<(RunResult, Flow)>) -> Result<(RunResult, Flow)> {
    match outcome {
        Outcome::Done(done) => Ok(done),
        Outcome::Replayed(_) => Err(Error::Internal("a run without a key was replayed".into())),
    }
}

/// The job a run is the work of.
#[derive(Clone, Copy)]
pub struct InJob<'a> {
    pub id: i64,
    pub control: &'a crate::jobs::Control,
}

/// Whether a run went through all its pages or stopped at a page boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Finished,
    /// Cancelling was asked.
    Cancelled,
    /// Another server holds the run's job now.
    Left,
}

/// I-4 for renewal runs: [`run`] under an idempotency key, as joins and payments are: a retry
/// gets the first response, stored by the transaction that completes the run. A run that
/// failed stored nothing, so a retry runs again (R-2 keeps that from billing anybody twice).
pub async fn run_once(
    db: &Db,
    req: RunRequest,
    run_by: i64,
    today: NaiveDate,
    key: &Key,
    render: &(dyn Fn(&RunResult) -> Stored + Sync),
    job: Option<InJob<'_>>,
) -> Result<Outcome<(RunResult, Flow)>> {
    let keyed = Keyed { key, render };
    execute(db, req, run_by, today, &|_| {}, Some(keyed), job).await
}

/// A run's idempotency key and how its response is stored.
#[derive(Clone, Copy)]
struct Keyed<'a> {
    key: &'a Key,
    render: &'a (dyn Fn(&RunResult) -> Stored + Sync),
}

async fn execute(
    db: &Db,
    req: RunRequest,
    run_by: i64,
    today: NaiveDate,
    progress: &(dyn Fn(&RunResult) + Sync),
    keyed: Option<Keyed<'_>>,
    job: Option<InJob<'_>>,
) -> Result<Outcome<(RunResult, Flow)>> {
    if let Some(k) = keyed
        && let Some(stored) = idempotency::replay(&db.conn, k.key).await?
    {
        return Ok(Outcome::Replayed(stored));
    }
    let mut cycle = cycle_of(&db.conn, &req).await?;
    let settings = settings::get(&db.conn).await?;
    let loaded = load(&db.conn).await?;
    let earlier = match job {
        Some(j) => resumed(&db.conn, j.id).await?,
        None => None,
    };
    // JB-2: a preview is committed at its date, by its AutoPay option, once.
    let committing = match (req.preview_id, req.dry_run, &earlier) {
        (Some(id), false, None) => Some(preview::to_commit(&db.conn, id, &cycle).await?),
        (Some(id), false, Some(_)) => Some(preview::claimed(&db.conn, id).await?),
        _ => None,
    };
    if let Some(option) = committing.as_ref().and_then(|p| p.autopay_option) {
        cycle.fields.autopay_option = option;
    }
    // the default effective date is the run date plus the months prior to expiration; a
    // run resumed keeps the date it began with.
    let effective = match (&earlier, &committing) {
        (Some(e), _) => e.run.effective_date,
        (None, Some(p)) => p.effective_date,
        (None, None) => effective_date(&cycle, req.effective_date, today),
    };
    let mut result = RunResult {
        cycle_id: cycle.id,
        effective_date: Some(effective),
        autopay_option: cycle.fields.autopay_option,
        ..Default::default()
    };
    let committing = committing.map(|p| p.id);
    let target = match (&earlier, req.dry_run) {
        (Some(e), _) => Target::Run(e.run.id),
        (None, true) => {
            let id = preview::start(&db.conn, &cycle, effective, run_by, clock::now()).await?;
            result.preview_id = Some(id);
            Target::Preview(id)
        }
        (None, false) => {
            let job_id = job.map(|j| j.id);
            Target::Run(start_run(db, &cycle, effective, run_by, job_id, committing).await?)
        }
    };
    let run_id = match target {
        Target::Run(id) => Some(id),
        Target::Preview(_) => None,
    };
    result.id = run_id;
    if let Some(e) = &earlier {
        // Progress counts the pages written before too.
        result.count_as(&e.run);
    }
    if let Some(e) = &earlier
        && e.run.status != "running"
    {
        // The run ended; only its job's end was not recorded.
        return Ok(Outcome::Done((
            whole_run(&db.conn, e.run.id, result).await?,
            Flow::Finished,
        )));
    }
    let facts = RunFacts {
        cycle: &cycle,
        loaded: &loaded,
        settings: &settings,
        effective,
        committing,
    };
    let committed = earlier.map(|e| e.pages).unwrap_or_default();
    let stop = || match job {
        Some(j) if j.control.lost() => Some(Flow::Left),
        Some(j) if j.control.cancelled() => Some(Flow::Cancelled),
        _ => None,
    };
    let mut paged = write_pages(db, target, facts, &committed, &mut result, progress, &stop).await;
    if let (Some(p), Ok(Flow::Finished)) = (committing, &paged) {
        // Previewed contacts the selection no longer takes were billed by nobody either.
        let room = (LISTED - result.no_longer_due.len().min(LISTED)) as u64;
        match preview::not_selected(&db.conn, p, facts.selection(), room).await {
            Ok(gone) => {
                result.no_longer_due.extend(gone);
                result.no_longer_due.sort_unstable();
            }
            Err(e) => paged = Err(e),
        }
    }
    let flow = match &paged {
        Ok(flow) => *flow,
        Err(_) => Flow::Finished,
    };
    if let Some(id) = run_id
        && flow != Flow::Left
    {
        match &paged {
            Err(e) => finish(db, id, "failed", Some(e.to_string()), None).await?,
            Ok(Flow::Cancelled) => finish(db, id, "cancelled", None, None).await?,
            Ok(_) => {
                let response = keyed.map(|k| (k.key, (k.render)(&result)));
                finish(db, id, "completed", None, response).await?
            }
        }
    }
    let flow = paged?;
    if let (Some(_), Some(id)) = (job, run_id) {
        result = whole_run(&db.conn, id, result).await?;
    }
    Ok(Outcome::Done((result, flow)))
}

/// A run a job began before: the run and the pages it committed (after → through).
struct Earlier {
    run: r::Model,
    pages: HashMap<i64, Option<i64>>,
}

async fn resumed(conn: &impl ConnectionTrait, job_id: i64) -> Result<Option<Earlier>> {
    let Some(run) = r::Entity::find()
        .filter(r::Column::JobId.eq(job_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let pages: Vec<(i64, Option<i64>)> = rp::Entity::find()
        .select_only()
        .columns([rp::Column::AfterId, rp::Column::UptoId])
        .filter(rp::Column::RunId.eq(run.id))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(Some(Earlier {
        run,
        pages: pages.into_iter().collect(),
    }))
}

/// The result's counts and skips as the whole run recorded them, whichever servers wrote its
/// pages; its invoices stay those this server wrote.
async fn whole_run(
    conn: &impl ConnectionTrait,
    id: i64,
    mut result: RunResult,
) -> Result<RunResult> {
    result.count_as(&get(conn, id).await?);
    result.skipped = skips(conn, id, LISTED as u64)
        .await?
        .into_iter()
        .map(|s| (s.contact_id, s.reason))
        .collect();
    Ok(result)
}

/// What renewals bill against: every page of a run, and a renewal in advance.
#[derive(Clone, Copy)]
struct RunFacts<'a> {
    cycle: &'a Cycle,
    loaded: &'a Loaded,
    settings: &'a settings::Settings,
    effective: NaiveDate,
    /// JB-2: a run committing this preview bills its contacts only.
    committing: Option<i64>,
}

impl<'a> RunFacts<'a> {
    /// who the run selects; committing a preview (JB-2), only its contacts.
    fn selection(&self) -> Condition {
        let cond = selection(self.cycle, self.loaded, self.effective);
        match self.committing {
            Some(p) => cond.add(preview::contacts_of(p)),
            None => cond,
        }
    }

    fn context(&self) -> Context<'a> {
        let f = &self.cycle.fields;
        Context {
            cycle: f,
            settings: self.settings,
            billing_time: f.effective_billing_time(self.settings),
            types: &self.loaded.types,
            products: &self.loaded.products,
            book: &self.loaded.book,
            effective_date: self.effective,
        }
    }
}

/// Plans (or, with a run, writes) the pages of contacts in turn, adding each to `result`;
/// pages in `committed` (after → through) were written before and are passed over. After each
/// page, `stop` may end the run there.
async fn write_pages(
    db: &Db,
    target: Target,
    facts: RunFacts<'_>,
    committed: &HashMap<i64, Option<i64>>,
    result: &mut RunResult,
    progress: &(dyn Fn(&RunResult) + Sync),
    stop: &(dyn Fn() -> Option<Flow> + Sync),
) -> Result<Flow> {
    // PostgreSQL writes pages side by side, a core each; SQLite has one writer at a time.
    let writers = match db.backend() {
        sea_orm::DatabaseBackend::Postgres => WRITERS,
        _ => 1,
    };
    // Boxed as `Send` streams and futures: the compiler cannot prove unboxed ones `Send` for
    // a job's work, which runs on any thread.
    let ranges = futures_util::stream::try_unfold(Some(0i64), move |after| {
        async move {
            let Some(after) = after else {
                return Ok(None);
            };
            if let Some(upto) = committed.get(&after) {
                return Ok(Some((RunPage::Written, *upto)));
            }
            let range = next_range(&db.conn, facts, after).await?;
            Ok(Some((RunPage::Due(range), range.upto)))
        }
        .boxed()
    })
    .boxed();
    let pages = ranges
        .map_ok(|page| {
            async move {
                match (page, target) {
                    (RunPage::Written, _) => Ok(PageOutcome::default()),
                    (RunPage::Due(range), Target::Preview(id)) => {
                        let (contacts, bills, skips) =
                            plan_page(&db.conn, facts, range, false).await?;
                        preview::record_page(&db.conn, id, contacts.len(), &bills, skips.len())
                            .await?;
                        Ok((contacts, bills, skips, Vec::new(), Vec::new()))
                    }
                    (RunPage::Due(range), Target::Run(id)) => {
                        write_one_page(db, id, facts, range).await
                    }
                }
            }
            .boxed()
        })
        .try_buffered(writers);
    // Pages still in flight are dropped, their transactions rolled back, before a failed or
    // stopped run is marked: it keeps whole pages only.
    let mut pages = std::pin::pin!(pages);
    while let Some(page) = pages.try_next().await? {
        result.add_page(page, facts.committing.is_some())?;
        progress(result);
        if let Some(flow) = stop() {
            return Ok(flow);
        }
    }
    Ok(Flow::Finished)
}

/// What a run's pages go to: a saved preview (a dry run, JB-2), or the run's invoices.
#[derive(Clone, Copy)]
enum Target {
    Preview(i64),
    Run(i64),
}

/// A page of a run: one to plan and write, or one an earlier server of its job committed.
#[derive(Clone, Copy)]
enum RunPage {
    Due(Range),
    Written,
}

/// The cycle a run bills by: the one named, with the run's own AutoPay option (B-16).
async fn cycle_of(conn: &impl ConnectionTrait, req: &RunRequest) -> Result<Cycle> {
    let mut cycle = billing_cycles::resolve(conn, &req.cycle).await?;
    if let Some(option) = req.autopay_option {
        cycle.fields.autopay_option = option;
    }
    Ok(cycle)
}

/// the run is recorded, in its own transaction, so that it is audited as it starts.
async fn start_run(
    db: &Db,
    cycle: &Cycle,
    effective: NaiveDate,
    run_by: i64,
    job_id: Option<i64>,
    committing: Option<i64>,
) -> Result<i64> {
    let txn = db.write().await?;
    let m = r::ActiveModel {
        cycle_id: Set(cycle.id),
        autopay_option: Set(Some(cycle.fields.autopay_option)),
        effective_date: Set(effective),
        status: Set("running".into()),
        run_by: Set(run_by),
        started_at: Set(clock::now()),
        job_id: Set(job_id),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let Some(p) = committing {
        preview::claim(&txn, p, m.id).await?;
    }
    txn.commit().await?;
    Ok(m.id)
}

impl RunResult {
    /// The counts and total the run recorded.
    fn count_as(&mut self, run: &r::Model) {
        self.considered = u64::try_from(run.considered).unwrap_or(0);
        self.billed = u64::try_from(run.billed).unwrap_or(0);
        self.skipped_count = u64::try_from(run.skipped).unwrap_or(0);
        self.total_cents = run.total_cents;
    }

    /// a page's counts and total; its first bills and skips up to `LISTED`.
    fn add_page(
        &mut self,
        (contacts, bills, skips, ids, changed): PageOutcome,
        committing: bool,
    ) -> Result<()> {
        self.considered += contacts.len() as u64;
        self.billed += bills.len() as u64;
        self.skipped_count += skips.len() as u64;
        self.total_cents = crate::money::checked_sum(
            std::iter::once(self.total_cents).chain(bills.iter().map(Bill::total)),
        )?;
        for (n, b) in bills.into_iter().enumerate() {
            if self.invoices.len() < LISTED {
                self.invoices.push((ids.get(n).copied().flatten(), b));
            }
        }
        if committing {
            let room = LISTED - self.no_longer_due.len().min(LISTED);
            self.no_longer_due
                .extend(skips.iter().map(|(id, _)| *id).take(room));
            let room = LISTED - self.changed_since_preview.len().min(LISTED);
            self.changed_since_preview
                .extend(changed.into_iter().take(room));
        }
        for s in skips {
            if self.skipped.len() < LISTED {
                self.skipped.push(s);
            }
        }
        Ok(())
    }
}

/// A page's contacts, bills, skips, invoice ids and, committing a preview, the contacts whose
/// bill changed since it.
type PageOutcome = (
    Vec<Renewing>,
    Vec<Bill>,
    Vec<(i64, String)>,
    Vec<Option<i64>>,
    Vec<i64>,
);

/// Plans and writes one page in one transaction. When another run billed some of the same
/// contacts meanwhile, the unique billing key rejects the page; it is planned again, and those
/// contacts now show as already billed.
async fn write_one_page(
    db: &Db,
    run_id: i64,
    facts: RunFacts<'_>,
    range: Range,
) -> Result<PageOutcome> {
    let RunFacts {
        cycle, settings, ..
    } = facts;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let txn = db.write().await?;
        // A page rejected by the billing key is planned again against every billing line.
        let (contacts, bills, skips) = plan_page(&txn, facts, range, attempt > 1).await?;
        let written = write_page(&txn, Some(run_id), cycle, settings, &bills, &skips).await;
        let ids = match written {
            Ok(ids) => ids,
            Err(Error::Conflict { message }) if attempt < 3 => {
                tracing::debug!(attempt, %message, "renewal page planned again");
                continue;
            }
            Err(e) => return Err(e),
        };
        record_page(&txn, run_id, range, &contacts, &bills, &skips).await?;
        let changed = changed_since_preview(&txn, facts.committing, &bills).await?;
        let committing = std::time::Instant::now();
        txn.commit().await?;
        tracing::debug!(commit = ?committing.elapsed(), "renewal page committed");
        return Ok((contacts, bills, skips, ids, changed));
    }
}

/// JB-2: the page's contacts whose bill differs from the preview's.
async fn changed_since_preview(
    conn: &impl ConnectionTrait,
    committing: Option<i64>,
    bills: &[Bill],
) -> Result<Vec<i64>> {
    let Some(p) = committing else {
        return Ok(Vec::new());
    };
    let ids: Vec<i64> = bills.iter().map(|b| b.contact_id).collect();
    let saved = preview::fingerprints(conn, p, &ids).await?;
    Ok(bills
        .iter()
        .filter(|b| saved.get(&b.contact_id) != Some(&preview::fingerprint(b)))
        .map(|b| b.contact_id)
        .collect())
}

/// the run's counts grow by the page's, and its last contact moves on.
async fn record_page(
    conn: &impl ConnectionTrait,
    run_id: i64,
    range: Range,
    contacts: &[Renewing],
    bills: &[Bill],
    skips: &[(i64, String)],
) -> Result<()> {
    // JB-1: the page is committed with what it wrote, so a run taken over passes it.
    rp::ActiveModel {
        run_id: Set(run_id),
        after_id: Set(range.after),
        upto_id: Set(range.upto),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let Some(last) = contacts.last() else {
        return Ok(());
    };
    let total = crate::money::checked_sum(bills.iter().map(Bill::total))?;
    r::Entity::update_many()
        .col_expr(
            r::Column::Considered,
            Expr::col(r::Column::Considered).add(contacts.len() as i64),
        )
        .col_expr(
            r::Column::Billed,
            Expr::col(r::Column::Billed).add(bills.len() as i64),
        )
        .col_expr(
            r::Column::Skipped,
            Expr::col(r::Column::Skipped).add(skips.len() as i64),
        )
        .col_expr(
            r::Column::TotalCents,
            Expr::col(r::Column::TotalCents).add(total),
        )
        // Pages written side by side commit in either order.
        .col_expr(
            r::Column::LastContactId,
            Expr::case(
                Expr::col(r::Column::LastContactId).lt(last.id),
                Expr::val(last.id),
            )
            .finally(Expr::col(r::Column::LastContactId))
            .into(),
        )
        .filter(r::Column::Id.eq(run_id))
        .exec(conn)
        .await?;
    Ok(())
}

async fn finish(
    db: &Db,
    id: i64,
    status: &str,
    error: Option<String>,
    keyed_response: Option<(&Key, Stored)>,
) -> Result<()> {
    let txn = db.write().await?;
    if let Some((key, response)) = keyed_response {
        idempotency::store_first(&txn, key, &response).await?;
    }
    r::Entity::update_many()
        .col_expr(r::Column::Status, Expr::val(status))
        .col_expr(r::Column::FinishedAt, Expr::val(clock::now()))
        .col_expr(
            r::Column::Error,
            Expr::val(error.map(|e| e.chars().take(500).collect::<String>())),
        )
        .filter(r::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if status == "completed" {
        let run = get(&txn, id).await?;
        let data = json!({
            "renewal_run_id": run.id,
            "cycle_id": run.cycle_id,
            "effective_date": run.effective_date,
            "considered": run.considered,
            "billed": run.billed,
            "skipped": run.skipped,
            "total": crate::money::format_cents(run.total_cents),
        });
        let ev = Event::new(events::RENEWAL_RUN_COMPLETED, "renewal-runs", id, &data);
        events::emit(&txn, vec![ev]).await?;
    }
    txn.commit().await?;
    Ok(())
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<r::Model> {
    r::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("renewal run", id))
}

pub async fn skips(conn: &impl ConnectionTrait, id: i64, limit: u64) -> Result<Vec<rs::Model>> {
    Ok(rs::Entity::find()
        .filter(rs::Column::RunId.eq(id))
        .order_by_asc(rs::Column::ContactId)
        .limit(limit)
        .all(conn)
        .await?)
}

pub async fn list(conn: &impl ConnectionTrait, req: &PageRequest) -> Result<Page<r::Model>> {
    let limit = req.limit()?;
    let mut q = r::Entity::find()
        .order_by_desc(r::Column::Id)
        .limit(limit + 1);
    if let Some(after) = req.after_id()? {
        q = q.filter(r::Column::Id.lt(after));
    }
    let rows = q.all(conn).await?;
    Ok(page::build(rows, limit, |m| m.id.to_string()))
}

impl RunFacts<'_> {
    /// Renewing in advance: the contact's next term as of the effective date, priced as `billed_as`, with `primary` instead
    /// of the formula product held; refused when it cannot be billed.
    async fn bill_in_advance(
        &self,
        conn: &impl ConnectionTrait,
        contact: &c::Model,
        billed_as: String,
        primary: Option<&str>,
    ) -> Result<Bill> {
        let held = s::Entity::find()
            .filter(s::Column::ContactId.eq(contact.id))
            .all(conn)
            .await?;
        let sub_ids: Vec<i64> = held.iter().map(|h| h.id).collect();
        let billed_terms = billed_terms_of(conn, &sub_ids).await?;
        let mut buyer = pricing::buyers(conn, &[contact.id])
            .await?
            .remove(&contact.id)
            .unwrap_or_default();
        buyer.customer_type = Some(billed_as);
        let ctx = self.context();
        let held: Vec<Held> = held.iter().map(Held::from).collect();
        let chapters = billed_chapters(conn, &[contact.id]).await?;
        let holding = build::Holding {
            held: &held,
            billed_chapters: chapters.get(&contact.id).map_or(&[], Vec::as_slice),
        };
        let renewing = Renewing::from(contact);
        let refused =
            |skip| Error::conflict(format!("contact {} cannot be renewed: {skip}", contact.id));
        // Renewing in advance answers with the invoice: one that would not be printed is
        // refused as before R-10, not renewed silently.
        build::bill(&ctx, &renewing, holding, &buyer, &billed_terms, primary)
            .and_then(|bill| match bill.printed {
                true => Ok(bill),
                false => Err(build::Skip::ZeroBalance),
            })
            .map_err(refused)
    }
}

/// L-5: the type a phased-out type renews into, if it is one.
fn renews_as(types: &HashMap<String, CustomerType>, customer_type: &str) -> Option<String> {
    types.get(customer_type).and_then(|t| t.renews_as.clone())
}

/// L-5: a phased-out type is billed as the type it renews into.
fn billed_as(loaded: &Loaded, customer_type: &str) -> String {
    renews_as(&loaded.types, customer_type).unwrap_or(customer_type.to_owned())
}

/// renewing in advance goes through a dues cycle of the type billed.
fn check_dues_cycle(cycle: &Cycle, billed_as: &str) -> Result<()> {
    if !cycle.fields.membership || !cycle.fields.customer_types.iter().any(|t| t == billed_as) {
        return Err(Error::invalid(
            "billing_cycle",
            format!(
                "renewing in advance needs a dues cycle for customer type {billed_as}; {:?} is not one",
                cycle.fields.name
            ),
        ));
    }
    Ok(())
}

/// a new primary product is one of the type's formula family.
fn check_formula_product(loaded: &Loaded, billed_as: &str, p: &str) -> Result<()> {
    let family = match loaded
        .types
        .get(billed_as)
        .and_then(|t| t.primary_fee.as_ref())
    {
        Some(crate::customer_types::PrimaryFee::Formula { designator, .. }) => {
            crate::customer_types::in_formula_family(designator, p)
        }
        _ => false,
    };
    if !family || !loaded.products.contains_key(p) {
        return Err(Error::invalid(
            "primary_product",
            format!("{p} is not a product of customer type {billed_as}'s formula family"),
        ));
    }
    Ok(())
}

/// bills a contact's next term now, before it is due, through a dues cycle of its type;
/// a formula primary fee may be changed to another product of the family.
pub async fn renew_in_advance(
    db: &Db,
    contact_id: i64,
    cycle: CycleRef,
    primary_product: Option<String>,
    as_of: NaiveDate,
) -> Result<crate::billing::invoices::InvoiceView> {
    let txn = db.write().await?;
    let cycle = billing_cycles::resolve(&txn, &cycle).await?;
    let settings = settings::get(&txn).await?;
    let loaded = load(&txn).await?;
    let mut contact = crate::contacts::require(&txn, contact_id).await?;
    let billed_as = billed_as(&loaded, &contact.customer_type);
    check_dues_cycle(&cycle, &billed_as)?;
    if let Some(p) = &primary_product {
        check_formula_product(&loaded, &billed_as, p)?;
    }
    // J-2 for a new primary: its term span sets the term (and, once paid, renew months).
    if let Some(p) = &primary_product
        && cycle.fields.use_primary_fee_term_length
        && let Some(info) = loaded.products.get(p)
    {
        contact.renew_months = Some(info.term_months as i32);
    }
    let advance = RunFacts {
        cycle: &cycle,
        settings: &settings,
        loaded: &loaded,
        effective: as_of,
        committing: None,
    };
    let bill = advance
        .bill_in_advance(&txn, &contact, billed_as, primary_product.as_deref())
        .await?;
    let ids = write_page(
        &txn,
        None,
        &cycle,
        &settings,
        std::slice::from_ref(&bill),
        &[],
    )
    .await?;
    let id = ids
        .first()
        .copied()
        .flatten()
        .ok_or_else(|| Error::Internal("no invoice written".into()))?;
    let view = crate::billing::invoices::get(&txn, crate::access::Actor::Staff, id).await?;
    txn.commit().await?;
    Ok(view)
}
