//! A realistic association of N members for benchmarks and trying things at scale: E-1's
//! doctors with hospitals, members in three billing categories holding dues, a journal and a
//! chapter, lapsed members still on member types, previous members, tagged prospects, and 1,000
//! pricing rules. Deterministic for a given seed; written in multi-row statements.

use std::time::Instant;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use entity::contact as c;
use entity::contact_tag as tag;
use entity::subscription as s;

use super::common::{Loaded, product, rule};
use crate::error::{Error, Result};
use crate::pricing::{self, Conditions, NewRule};
use crate::products::{self, ProductType};
use crate::settings::AccountingMethod;
use crate::{db::Db, sql, terms};

pub const CHAPTERS: usize = 50;
pub const JOURNAL: &str = "JOURNAL";
/// Contacts written per transaction.
const BATCH: usize = 10_000;

pub fn chapter_code(n: usize) -> String {
    format!("CHAPT/C{n:02}")
}

/// SplitMix64: a small, fixed generator, so that a seed gives the same data on every machine
/// and every version of any crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

#[derive(Debug, Default, Clone)]
pub struct Generated {
    pub contacts: u64,
    pub members: u64,
    pub organizations: u64,
    pub subscriptions: u64,
    pub pricing_rules: u64,
    pub seconds: f64,
}

const FIRST: [&str; 12] = [
    "Ana", "Ben", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivan", "Jia", "Kofi", "Lena",
];
const LAST: [&str; 12] = [
    "Silva", "Okafor", "Wei", "Kowalski", "Novak", "Haddad", "Petrov", "Sato", "Ibrahim", "Lund",
    "Mensah", "Garcia",
];

/// The journal, the chapters and 1,000 pricing rules, on top of E-1.
async fn catalogue(db: &Db) -> Result<u64> {
    products::create(
        db,
        product(
            JOURNAL.into(),
            "Journal of the association".into(),
            ProductType::Subscription,
            4_000,
        ),
    )
    .await?;
    for n in 1..=CHAPTERS {
        let chapter = product(
            chapter_code(n),
            format!("Chapter {n}"),
            ProductType::Chapter,
            2_000,
        );
        products::create(db, chapter).await?;
    }
    let mut rules = Vec::new();
    for n in 1..=CHAPTERS {
        for (k, cat) in ["REG", "FYEAR", "INTL"].into_iter().enumerate() {
            chapter_rules(&mut rules, n, k, cat);
        }
    }
    journal_rules(&mut rules);
    let n = rules.len() as u64;
    pricing::create_many(db, rules).await?;
    Ok(n)
}

/// Per chapter and category (the `k`th): a price per type, a bundle price with the journal,
/// and a price per calendar year from 2025 to 2027. Priorities keep families from tying
/// (P-4).
fn chapter_rules(rules: &mut Vec<NewRule>, n: usize, k: usize, cat: &str) {
    let code = chapter_code(n);
    let base = 1_500 + 100 * (n as i64 % 7) + 250 * k as i64;
    for ty in ["M", "NM"] {
        let cents = if ty == "M" { base } else { base + 1_000 };
        let when = Conditions {
            customer_type: Some(ty.into()),
            billing_category: Some(cat.into()),
            ..Default::default()
        };
        rules.push(rule(code.clone(), cents, when, 0));
    }
    let bundle = Conditions {
        customer_type: Some("M".into()),
        billing_category: Some(cat.into()),
        with_product: Some(JOURNAL.into()),
        ..Default::default()
    };
    rules.push(rule(code.clone(), base - 300, bundle, 1));
    for year in 2025..=2027 {
        let dated = Conditions {
            customer_type: Some("M".into()),
            billing_category: Some(cat.into()),
            valid_from: NaiveDate::from_ymd_opt(year, 1, 1),
            valid_to: NaiveDate::from_ymd_opt(year, 12, 31),
            ..Default::default()
        };
        rules.push(rule(
            code.clone(),
            base + 50 * (year as i64 - 2024),
            dated,
            2,
        ));
    }
}

/// 50 chapters x 3 categories x 6 rules = 900; 97 monthly journal rules bring the total to
/// 1,000 with E-1's three dues rules.
fn journal_rules(rules: &mut Vec<NewRule>) {
    for k in 0..97i64 {
        let valid_from = terms::add_months(
            NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default(),
            k as i32,
        );
        let when = Conditions {
            customer_type: Some("M".into()),
            valid_from: Some(valid_from),
            valid_to: Some(terms::add_months(valid_from, 1) - Days::new(1)),
            ..Default::default()
        };
        rules.push(rule(JOURNAL, 3_000 + 10 * k, when, 0));
    }
}

fn month_end(year: i32, month: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    terms::add_months(first, 1) - Days::new(1)
}

fn instant(d: NaiveDate, seconds: u64) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + chrono::Duration::seconds(seconds as i64)
}

struct Person {
    customer_type: &'static str,
    category: Option<&'static str>,
    paid_through: Option<NaiveDate>,
    join_date: Option<NaiveDate>,
    chapter: Option<String>,
    /// Holds a dues subscription: members and previous members.
    dues: bool,
    tag: Option<&'static str>,
}

fn person(rng: &mut Rng, all_members: bool) -> Person {
    let roll = if all_members { 0 } else { rng.below(100) };
    // 80 % on the member type (a third of them lapsed, not yet expired), 20 % non-members, a
    // third of whom were members once; some non-members are tagged prospects.
    let paid = |rng: &mut Rng, from_year: i32, months: u64| {
        let m = rng.below(months) as i32;
        let first = NaiveDate::from_ymd_opt(from_year, 1, 1).unwrap_or_default();
        let d = terms::add_months(first, m);
        month_end(d.year(), d.month())
    };
    if roll < 80 {
        let category = match rng.below(10) {
            0..=6 => "REG",
            7 => "FYEAR",
            _ => "INTL",
        };
        let pt = paid(rng, 2025, 36);
        let join = pt - Days::new(365 * (1 + rng.below(20)));
        Person {
            customer_type: "M",
            category: Some(category),
            paid_through: Some(pt),
            join_date: Some(join),
            chapter: Some(chapter_code(1 + rng.below(CHAPTERS as u64) as usize)),
            dues: true,
            tag: rng.percent(5).then_some("event-attendee"),
        }
    } else {
        let previous = rng.percent(33);
        let pt = previous.then(|| paid(rng, 2015, 120));
        Person {
            customer_type: "NM",
            category: None,
            paid_through: pt,
            join_date: pt.map(|d| d - Days::new(365 * (1 + rng.below(10)))),
            chapter: None,
            dues: previous,
            tag: match rng.below(10) {
                0 | 1 => Some("event-attendee"),
                2 => Some("interest-form"),
                _ => None,
            },
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub persons: u64,
    pub seed: u64,
    /// Every person on the member type (for renewal benchmarks); else about 80 %.
    pub all_members: bool,
}

/// Generates persons (see [`Options`]) with one hospital per 100 persons, into a database that
/// holds no association yet.
pub async fn generate(db: &Db, opts: Options, progress: &dyn Fn(u64, u64)) -> Result<Generated> {
    let members = opts.persons;
    let started = Instant::now();
    let base: Loaded = super::load(db, super::Example::Doctors).await?;
    let mut out = Generated {
        contacts: base.contacts as u64,
        subscriptions: base.subscriptions as u64,
        pricing_rules: catalogue(db).await? + 3,
        ..Default::default()
    };
    let mut generator = Generator::new(opts);
    let mut done = 0u64;
    while done < members {
        let n = (members - done).min(BATCH as u64);
        generator.write_batch(db, done, n, &mut out).await?;
        done += n;
        progress(done, members);
    }
    // After a bulk load PostgreSQL's planner still sees the tables as they were; without fresh
    // statistics it hash-joins whole tables for lookups an index answers.
    if db.backend() == sea_orm::DatabaseBackend::Postgres {
        db.conn.execute_unprepared("ANALYZE").await?;
    }
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

/// Writes the generated contacts batch by batch; one seeded generator draws everything, in
/// a fixed order, so that a seed always gives the same data.
struct Generator {
    rng: Rng,
    all_members: bool,
    today: NaiveDate,
    ten_years_ago: NaiveDate,
    span: u64,
    /// Hospitals in all, one per 100 persons.
    hospitals: u64,
    hospital_ids: Vec<i64>,
}

impl Generator {
    fn new(opts: Options) -> Self {
        let today = crate::clock::now().date_naive();
        let ten_years_ago = terms::add_months(today, -120);
        let hospitals = (opts.persons / 100).max(1);
        Self {
            rng: Rng(opts.seed),
            all_members: opts.all_members,
            today,
            ten_years_ago,
            span: (today - ten_years_ago).num_seconds().max(1) as u64,
            hospitals,
            hospital_ids: Vec::with_capacity(hospitals as usize),
        }
    }

    /// A creation time within the last ten years.
    fn stamp(&mut self) -> DateTime<Utc> {
        instant(self.ten_years_ago, self.rng.below(self.span))
    }

    /// One transaction: the hospitals due by now, then `n` persons (numbered after `done`),
    /// their subscriptions and tags.
    async fn write_batch(&mut self, db: &Db, done: u64, n: u64, out: &mut Generated) -> Result<()> {
        let people: Vec<Person> = (0..n)
            .map(|_| person(&mut self.rng, self.all_members))
            .collect();
        let txn = db.write().await?;
        let due = self.insert_hospitals(&txn, done + n).await?;
        out.organizations += due;
        let rows: Vec<c::ActiveModel> = people
            .iter()
            .enumerate()
            .map(|(k, p)| self.person_row(p, done + k as u64 + 1))
            .collect();
        let ids = insert_contacts(&txn, rows).await?;
        let held = Holdings::of(&ids, &people, instant(self.today, 0));
        out.members += held.members;
        out.subscriptions += held.subscriptions.len() as u64;
        held.insert(&txn).await?;
        txn.commit().await?;
        out.contacts += n + due;
        Ok(())
    }

    /// Hospitals join over time, one per 100 persons, each batch's before its persons so that
    /// they can link to it: all hospitals first put every organization at the lowest ids, which
    /// no real association's records look like and which every id-ordered list walked past.
    async fn insert_hospitals(&mut self, conn: &impl ConnectionTrait, persons: u64) -> Result<u64> {
        let due = ((persons / 100).max(1)).min(self.hospitals) - self.hospital_ids.len() as u64;
        let rows: Vec<c::ActiveModel> = (0..due)
            .map(|k| {
                let name = format!("Hospital {}", self.hospital_ids.len() as u64 + k + 1);
                let at = self.stamp();
                contact_row("HOSP", None, None, Some(name), None, at)
            })
            .collect();
        self.hospital_ids.extend(insert_contacts(conn, rows).await?);
        Ok(due)
    }

    /// Person number `number`: a name, an e-mail, about 30 % linked to a hospital.
    fn person_row(&mut self, p: &Person, number: u64) -> c::ActiveModel {
        let rng = &mut self.rng;
        let first = FIRST[rng.below(FIRST.len() as u64) as usize];
        let last = format!("{}-{}", LAST[rng.below(LAST.len() as u64) as usize], number);
        let company = rng
            .percent(30)
            .then(|| self.hospital_ids[rng.below(self.hospital_ids.len() as u64) as usize]);
        let at = self.stamp();
        let mut row = contact_row(
            p.customer_type,
            p.category,
            Some(first.into()),
            None,
            company,
            at,
        );
        row.last_name = Set(Some(last.clone()));
        row.sort_name = Set(format!("{}, {}", last.to_lowercase(), first.to_lowercase()));
        let email = format!(
            "{}.{}@example.org",
            first.to_lowercase(),
            last.to_lowercase()
        );
        row.email_key = Set(Some(email.clone()));
        row.email = Set(Some(email));
        row.paid_through = Set(p.paid_through);
        row.join_date = Set(p.join_date);
        row.renew_months = Set(p.dues.then_some(12));
        row.primary_chapter = Set(p.chapter.clone());
        row
    }
}

/// What a batch of persons holds: dues, the journal and a chapter for members, and tags.
struct Holdings {
    subscriptions: Vec<s::ActiveModel>,
    tags: Vec<tag::ActiveModel>,
    members: u64,
}

impl Holdings {
    fn of(ids: &[i64], people: &[Person], at: DateTime<Utc>) -> Self {
        let mut out = Holdings {
            subscriptions: Vec::new(),
            tags: Vec::new(),
            members: 0,
        };
        for (id, p) in ids.iter().zip(people) {
            if p.dues {
                out.subscriptions
                    .push(subscription(*id, "MDUES", p.paid_through, true, at));
            }
            if p.customer_type == "M" {
                out.subscriptions
                    .push(subscription(*id, JOURNAL, p.paid_through, false, at));
                if let Some(ch) = &p.chapter {
                    out.subscriptions
                        .push(subscription(*id, ch, p.paid_through, false, at));
                }
                out.members += 1;
            }
            if let Some(t) = p.tag {
                out.tags.push(tag::ActiveModel {
                    contact_id: Set(*id),
                    tag: Set(t.into()),
                });
            }
        }
        out
    }

    async fn insert(self, conn: &impl ConnectionTrait) -> Result<()> {
        for chunk in self.subscriptions.chunks(sql::rows_per_statement(20)) {
            s::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(conn)
                .await?;
        }
        for chunk in self.tags.chunks(sql::rows_per_statement(2)) {
            tag::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(conn)
                .await?;
        }
        Ok(())
    }
}

fn contact_row(
    customer_type: &str,
    category: Option<&str>,
    first_name: Option<String>,
    organization_name: Option<String>,
    company_id: Option<i64>,
    at: DateTime<Utc>,
) -> c::ActiveModel {
    c::ActiveModel {
        customer_type: Set(customer_type.into()),
        billing_category: Set(category.map(Into::into)),
        status: Set("A".into()),
        first_name: Set(first_name),
        last_name: Set(None),
        sort_name: Set(organization_name
            .as_deref()
            .map(str::to_lowercase)
            .unwrap_or_default()),
        organization_name: Set(organization_name),
        email: Set(None),
        email_key: Set(None),
        phone: Set(None),
        address_line1: Set(None),
        address_line2: Set(None),
        city: Set(None),
        region: Set(None),
        postal_code: Set(None),
        country: Set(None),
        company_id: Set(company_id),
        external_ref: Set(None),
        autopay: Set(false),
        email_opt_in: Set(true),
        mail_opt_in: Set(true),
        ballot_preference: Set(None),
        join_date: Set(None),
        paid_through: Set(None),
        renew_months: Set(None),
        primary_chapter: Set(None),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
}

fn subscription(
    contact: i64,
    product: &str,
    paid_through: Option<NaiveDate>,
    component: bool,
    at: DateTime<Utc>,
) -> s::ActiveModel {
    s::ActiveModel {
        contact_id: Set(contact),
        product: Set(product.into()),
        begin_date: Set(paid_through.map(|d| terms::add_months(d, -12) + Days::new(1))),
        paid_through: Set(paid_through),
        bill_to_id: Set(contact),
        bill_date: Set(None),
        bill_begin: Set(None),
        bill_through: Set(None),
        billed_cents: Set(None),
        active: Set(true),
        cancellation_date: Set(None),
        adjustment_reason: Set(None),
        source_code: Set(Some("generated".into())),
        is_complimentary: Set(false),
        is_membership_component: Set(component),
        bill_subscription: Set(true),
        accounting_method: Set(AccountingMethod::Accrual),
        billed: Set(false),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
}

async fn insert_contacts(
    conn: &impl ConnectionTrait,
    rows: Vec<c::ActiveModel>,
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(sql::rows_per_statement(32)) {
        let keys = c::Entity::insert_many(chunk.to_vec())
            .exec_with_returning_keys(conn)
            .await?;
        if keys.len() != chunk.len() {
            return Err(Error::Internal(
                "not every generated contact was written".into(),
            ));
        }
        ids.extend(keys);
    }
    Ok(ids)
}
