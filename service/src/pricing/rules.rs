//! P-3, P-4: storing pricing rules. Every save validates the references (one query per
//! referenced table, whatever the number of rules) and rejects ambiguous ties (`ties`).
//! Many rules are inserted with multi-row statements in one transaction.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockType, Order, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, NotSet, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
};

use entity::pricing_rule as pr;

use super::conditions::Conditions;
use super::ties::{self, Candidate, RuleRef, Tie};
use crate::error::{Error, Errors, Result, check_version};
use crate::page::{self, Page, PageRequest};
use crate::{clock, db::Db};

/// Rows per INSERT: 15 values each, far below the bind-parameter limits (PostgreSQL 65,535;
/// SQLite 32,766).
const INSERT_CHUNK: usize = 500;
/// Codes per `IN (...)` list.
const IN_CHUNK: usize = 2_000;

/// A pricing rule to create: `product` costs `price_cents` when `conditions` hold; `priority`
/// breaks ties of equal specificity (higher wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRule {
    pub product: String,
    pub price_cents: i64,
    pub conditions: Conditions,
    pub priority: i32,
}

/// A change to a rule. Absent fields stay; `Some(None)` clears a condition.
#[derive(Debug, Clone, Default)]
pub struct RulePatch {
    pub product: Option<String>,
    pub price_cents: Option<i64>,
    pub customer_type: Option<Option<String>>,
    pub billing_category: Option<Option<String>>,
    pub company_member: Option<Option<bool>>,
    pub pricing_group: Option<Option<String>>,
    pub with_product: Option<Option<String>>,
    pub valid_from: Option<Option<chrono::NaiveDate>>,
    pub valid_to: Option<Option<chrono::NaiveDate>>,
    pub joined_from: Option<Option<chrono::NaiveDate>>,
    pub joined_to: Option<Option<chrono::NaiveDate>>,
    pub priority: Option<i32>,
}

/// List filters; each one set must equal.
#[derive(Debug, Clone, Default)]
pub struct RuleFilter {
    pub product: Option<String>,
    pub customer_type: Option<String>,
    pub billing_category: Option<String>,
    pub pricing_group: Option<String>,
}

/// P-3: the rule's specificity (see [`Conditions::specificity`]).
pub fn specificity(m: &pr::Model) -> u8 {
    Conditions::from(m).specificity()
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<pr::Model> {
    pr::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("pricing rule", id))
}

pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &RuleFilter,
    req: &PageRequest,
) -> Result<Page<pr::Model>> {
    let limit = req.limit()?;
    let mut cond = Condition::all();
    if let Some(after) = req.after_id()? {
        cond = cond.add(pr::Column::Id.gt(after));
    }
    for (col, value) in [
        (pr::Column::Product, &filter.product),
        (pr::Column::CustomerType, &filter.customer_type),
        (pr::Column::BillingCategory, &filter.billing_category),
        (pr::Column::PricingGroup, &filter.pricing_group),
    ] {
        if let Some(v) = value {
            cond = cond.add(col.eq(v.as_str()));
        }
    }
    let rows = pr::Entity::find()
        .filter(cond)
        .order_by_asc(pr::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    Ok(page::build(rows, limit, |r| r.id.to_string()))
}

/// The codes of `table` among `codes`: one query per chunk of codes. With `lock`, the rows
/// found stay locked until the transaction ends (PostgreSQL; SQLite write transactions are
/// serialized already), so that two transactions saving rules of the same product check for
/// ties one after the other.
async fn existing(
    conn: &impl ConnectionTrait,
    table: &str,
    codes: BTreeSet<&str>,
    lock: bool,
) -> Result<HashSet<String>> {
    let codes: Vec<&str> = codes.into_iter().collect();
    let mut found = HashSet::with_capacity(codes.len());
    for chunk in codes.chunks(IN_CHUNK) {
        let mut stmt = Query::select()
            .column(Alias::new("code"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("code")).is_in(chunk.iter().copied()))
            .order_by(Alias::new("code"), Order::Asc)
            .to_owned();
        if lock {
            stmt.lock(LockType::Update);
        }
        for row in conn.query_all(&stmt).await? {
            found.insert(row.try_get_by_index::<String>(0)?);
        }
    }
    Ok(found)
}

/// The referenced codes that exist, per table.
struct Known {
    products: HashSet<String>,
    customer_types: HashSet<String>,
    categories: HashSet<String>,
    groups: HashSet<String>,
}

async fn known(conn: &impl ConnectionTrait, rules: &[NewRule]) -> Result<Known> {
    let collect = |f: fn(&NewRule) -> Option<&str>| -> BTreeSet<&str> {
        rules.iter().filter_map(f).collect()
    };
    let products = collect(|r| Some(r.product.as_str()))
        .into_iter()
        .chain(collect(|r| r.conditions.with_product.as_deref()))
        .collect();
    Ok(Known {
        products: existing(conn, "products", products, true).await?,
        customer_types: existing(
            conn,
            "customer_types",
            collect(|r| r.conditions.customer_type.as_deref()),
            false,
        )
        .await?,
        categories: existing(
            conn,
            "billing_categories",
            collect(|r| r.conditions.billing_category.as_deref()),
            false,
        )
        .await?,
        groups: existing(
            conn,
            "pricing_groups",
            collect(|r| r.conditions.pricing_group.as_deref()),
            false,
        )
        .await?,
    })
}

/// Every problem of one rule, with field names after `prefix`.
fn check(errors: &mut Errors, prefix: &str, rule: &NewRule, known: &Known) {
    let c = &rule.conditions;
    if !known.products.contains(&rule.product) {
        errors.add(
            format!("{prefix}product"),
            format!("unknown product {}", rule.product),
        );
    }
    if rule.price_cents < 0 {
        errors.add(format!("{prefix}price"), "must not be negative");
    }
    let refs = [
        (
            "customer_type",
            "customer type",
            &c.customer_type,
            &known.customer_types,
        ),
        (
            "billing_category",
            "billing category",
            &c.billing_category,
            &known.categories,
        ),
        (
            "pricing_group",
            "pricing group",
            &c.pricing_group,
            &known.groups,
        ),
        ("with_product", "product", &c.with_product, &known.products),
    ];
    for (field, what, value, set) in refs {
        if let Some(v) = value
            && !set.contains(v)
        {
            errors.add(format!("{prefix}{field}"), format!("unknown {what} {v}"));
        }
    }
    if c.with_product.as_deref() == Some(rule.product.as_str()) {
        errors.add(
            format!("{prefix}with_product"),
            format!(
                "must be another product than the rule's own ({})",
                rule.product
            ),
        );
    }
    if let (Some(from), Some(to)) = (c.valid_from, c.valid_to)
        && from > to
    {
        errors.add(
            format!("{prefix}valid_to"),
            format!("must not be before valid_from ({from})"),
        );
    }
    if let (Some(from), Some(to)) = (c.joined_from, c.joined_to)
        && from > to
    {
        errors.add(
            format!("{prefix}joined_to"),
            format!("must not be before joined_from ({from})"),
        );
    }
}

/// The saved rules of the given products, except `except`.
async fn saved_rules(
    conn: &impl ConnectionTrait,
    products: BTreeSet<&str>,
    except: Option<i64>,
) -> Result<Vec<pr::Model>> {
    let products: Vec<&str> = products.into_iter().collect();
    let mut out = Vec::new();
    for chunk in products.chunks(IN_CHUNK) {
        let mut q = pr::Entity::find()
            .filter(pr::Column::Product.is_in(chunk.iter().copied()))
            .order_by_asc(pr::Column::Id);
        if let Some(id) = except {
            q = q.filter(pr::Column::Id.ne(id));
        }
        out.extend(q.all(conn).await?);
    }
    Ok(out)
}

/// Words for a rule in a message: saved ones by id, new ones by position in the request.
fn describe(r: RuleRef, batch: bool) -> String {
    match r {
        RuleRef::Saved(id) => format!("pricing rule {id}"),
        RuleRef::New(i) if batch => format!("rule {i} of this request"),
        RuleRef::New(_) => "this rule".to_owned(),
    }
}

/// P-3: the 409 for a tie that specificity and priority cannot break. `tie.rule` is the rule
/// being saved.
fn tie_error(tie: Tie, product: &str, batch: bool) -> Error {
    let rule = match tie.rule {
        RuleRef::New(i) if batch => format!("rule {i} of this request"),
        _ => "this rule".to_owned(),
    };
    Error::conflict(format!(
        "{rule} and {} for product {product} have the same specificity ({}) and priority ({}) \
         and could both match one invoice line; give one of them a different priority",
        describe(tie.other, batch),
        tie.specificity,
        tie.priority
    ))
}

/// Saved rules as tie-check candidates (`conds` are their conditions, in the same order).
fn saved_candidates<'a>(saved: &'a [pr::Model], conds: &'a [Conditions]) -> Vec<Candidate<'a>> {
    saved
        .iter()
        .zip(conds)
        .map(|(s, c)| Candidate {
            rule: RuleRef::Saved(s.id),
            product: &s.product,
            conditions: c,
            priority: s.priority,
        })
        .collect()
}

/// Creates one rule.
pub async fn create(db: &Db, rule: NewRule) -> Result<pr::Model> {
    create_many(db, vec![rule])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("a created pricing rule was not returned".into()))
}

/// Creates many rules in one transaction: all are validated first (every problem reported,
/// fields named `rules[i].field` when more than one rule is given), ties among them and with
/// saved rules are rejected, then they are inserted with multi-row statements. Returns the
/// saved rules in the order given.
pub async fn create_many(db: &Db, rules: Vec<NewRule>) -> Result<Vec<pr::Model>> {
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let txn = db.write().await?;
    let saved = create_many_in(&txn, rules).await?;
    txn.commit().await?;
    Ok(saved)
}

/// [`create_many`] inside a transaction the caller holds.
pub async fn create_many_in(
    conn: &impl ConnectionTrait,
    rules: Vec<NewRule>,
) -> Result<Vec<pr::Model>> {
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    check_all(conn, &rules).await?;
    check_no_tie(conn, &rules).await?;
    let now = clock::now();
    let mut out = Vec::with_capacity(rules.len());
    for chunk in rules.chunks(INSERT_CHUNK) {
        out.extend(insert_chunk(conn, chunk, now).await?);
    }
    Ok(out)
}

/// Every rule is checked and every problem reported, fields named `rules[i].field` when
/// more than one rule is given.
async fn check_all(conn: &impl ConnectionTrait, rules: &[NewRule]) -> Result<()> {
    let batch = rules.len() > 1;
    let known = known(conn, rules).await?;
    let mut errors = Errors::new();
    for (i, rule) in rules.iter().enumerate() {
        let prefix = if batch {
            format!("rules[{i}].")
        } else {
            String::new()
        };
        check(&mut errors, &prefix, rule, &known);
    }
    errors.into_result()
}

/// P-4: no two rules tie, among the new ones or with the saved rules of their products.
async fn check_no_tie(conn: &impl ConnectionTrait, rules: &[NewRule]) -> Result<()> {
    let saved = saved_rules(
        conn,
        rules.iter().map(|r| r.product.as_str()).collect(),
        None,
    )
    .await?;
    let saved_conds: Vec<Conditions> = saved.iter().map(Conditions::from).collect();
    let saved_cands = saved_candidates(&saved, &saved_conds);
    let new_cands: Vec<Candidate<'_>> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| Candidate {
            rule: RuleRef::New(i),
            product: &r.product,
            conditions: &r.conditions,
            priority: r.priority,
        })
        .collect();
    let Some(tie) = ties::find_tie(&new_cands, &saved_cands) else {
        return Ok(());
    };
    let product = match tie.rule {
        RuleRef::New(i) => rules.get(i).map_or("", |r| r.product.as_str()),
        RuleRef::Saved(_) => "",
    };
    Err(tie_error(tie, product, rules.len() > 1))
}

/// One multi-row insert; returns the saved rules in the order given.
async fn insert_chunk(
    conn: &impl ConnectionTrait,
    chunk: &[NewRule],
    now: DateTime<Utc>,
) -> Result<Vec<pr::Model>> {
    let models: Vec<pr::Model> = chunk.iter().map(|r| model(r, now)).collect();
    let stmt = pr::Entity::insert_many(models.iter().map(active))
        .into_query()
        .returning_col(pr::Column::Id)
        .to_owned();
    let mut ids = Vec::with_capacity(models.len());
    for row in conn.query_all(&stmt).await? {
        ids.push(row.try_get_by_index::<i64>(0)?);
    }
    if ids.len() != models.len() {
        return Err(Error::Internal(format!(
            "inserted {} pricing rules but {} ids came back",
            models.len(),
            ids.len()
        )));
    }
    // Ids of one multi-row INSERT are allocated in row order on both databases; RETURNING
    // need not list them in that order.
    ids.sort_unstable();
    Ok(models
        .into_iter()
        .zip(ids)
        .map(|(m, id)| pr::Model { id, ..m })
        .collect())
}

fn model(r: &NewRule, now: DateTime<Utc>) -> pr::Model {
    pr::Model {
        id: 0,
        product: r.product.clone(),
        price_cents: r.price_cents,
        customer_type: r.conditions.customer_type.clone(),
        billing_category: r.conditions.billing_category.clone(),
        company_member: r.conditions.company_member,
        pricing_group: r.conditions.pricing_group.clone(),
        with_product: r.conditions.with_product.clone(),
        valid_from: r.conditions.valid_from,
        valid_to: r.conditions.valid_to,
        joined_from: r.conditions.joined_from,
        joined_to: r.conditions.joined_to,
        priority: r.priority,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn active(m: &pr::Model) -> pr::ActiveModel {
    pr::ActiveModel {
        id: NotSet,
        product: Set(m.product.clone()),
        price_cents: Set(m.price_cents),
        customer_type: Set(m.customer_type.clone()),
        billing_category: Set(m.billing_category.clone()),
        company_member: Set(m.company_member),
        pricing_group: Set(m.pricing_group.clone()),
        with_product: Set(m.with_product.clone()),
        valid_from: Set(m.valid_from),
        valid_to: Set(m.valid_to),
        joined_from: Set(m.joined_from),
        joined_to: Set(m.joined_to),
        priority: Set(m.priority),
        version: Set(m.version),
        created_at: Set(m.created_at),
        updated_at: Set(m.updated_at),
    }
}

/// The rule as `patch` changes it: what the patch leaves out stays as saved.
fn patched(current: &pr::Model, patch: RulePatch) -> NewRule {
    NewRule {
        product: patch.product.unwrap_or_else(|| current.product.clone()),
        price_cents: patch.price_cents.unwrap_or(current.price_cents),
        priority: patch.priority.unwrap_or(current.priority),
        conditions: Conditions {
            customer_type: patch
                .customer_type
                .unwrap_or_else(|| current.customer_type.clone()),
            billing_category: patch
                .billing_category
                .unwrap_or_else(|| current.billing_category.clone()),
            company_member: patch.company_member.unwrap_or(current.company_member),
            pricing_group: patch
                .pricing_group
                .unwrap_or_else(|| current.pricing_group.clone()),
            with_product: patch
                .with_product
                .unwrap_or_else(|| current.with_product.clone()),
            valid_from: patch.valid_from.unwrap_or(current.valid_from),
            valid_to: patch.valid_to.unwrap_or(current.valid_to),
            joined_from: patch.joined_from.unwrap_or(current.joined_from),
            joined_to: patch.joined_to.unwrap_or(current.joined_to),
        },
    }
}

/// Changes a rule; the result is validated and tie-checked as a whole, like a new rule.
pub async fn update(
    db: &Db,
    id: i64,
    patch: RulePatch,
    expected_version: Option<i32>,
) -> Result<pr::Model> {
    let txn = db.write().await?;
    let out = update_in(&txn, id, patch, expected_version).await?;
    txn.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction (an import writes many in one).
pub async fn update_in(
    txn: &sea_orm::DatabaseTransaction,
    id: i64,
    patch: RulePatch,
    expected_version: Option<i32>,
) -> Result<pr::Model> {
    let current = get(txn, id).await?;
    let rule = patched(&current, patch);
    check_all(txn, std::slice::from_ref(&rule)).await?;
    check_version(expected_version, current.version)?;

    let saved = saved_rules(txn, BTreeSet::from([rule.product.as_str()]), Some(id)).await?;
    let saved_conds: Vec<Conditions> = saved.iter().map(Conditions::from).collect();
    let saved_cands = saved_candidates(&saved, &saved_conds);
    let me = [Candidate {
        rule: RuleRef::Saved(id),
        product: &rule.product,
        conditions: &rule.conditions,
        priority: rule.priority,
    }];
    if let Some(tie) = ties::find_tie(&me, &saved_cands) {
        return Err(tie_error(tie, &rule.product, false));
    }

    let c = rule.conditions;
    let res = pr::Entity::update_many()
        .set(pr::ActiveModel {
            product: Set(rule.product),
            price_cents: Set(rule.price_cents),
            customer_type: Set(c.customer_type),
            billing_category: Set(c.billing_category),
            company_member: Set(c.company_member),
            pricing_group: Set(c.pricing_group),
            with_product: Set(c.with_product),
            valid_from: Set(c.valid_from),
            valid_to: Set(c.valid_to),
            joined_from: Set(c.joined_from),
            joined_to: Set(c.joined_to),
            priority: Set(rule.priority),
            version: Set(current.version + 1),
            updated_at: Set(clock::now()),
            ..Default::default()
        })
        .filter(pr::Column::Id.eq(id))
        .filter(pr::Column::Version.eq(current.version))
        .exec(txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    let saved = get(txn, id).await?;
    Ok(saved)
}

pub async fn delete(db: &Db, id: i64, expected_version: Option<i32>) -> Result<()> {
    let txn = db.write().await?;
    let current = get(&txn, id).await?;
    check_version(expected_version, current.version)?;
    pr::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}
