//! P-1, P-2: billing products. Prices here are defaults; pricing rules refine them (P-3).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use entity::product as p;

use crate::error::{Error, Errors, Result, check_version};
use crate::page::{self, Page, PageRequest};
use crate::usage::{self, Use, uses};
use crate::{clock, codes, db::Db};

pub const CHAPTER_PREFIX: &str = "CHAPT/";
pub const TAX_SUFFIX: &str = "_GST";
pub const DEFAULT_TERM_MONTHS: u32 = 12;

/// P-2.
pub use entity::words::ProductType;

const USES: &[Use] = &[
    uses(
        "customer_type_products",
        "product",
        "customer types (primary fee)",
    ),
    uses(
        "customer_types",
        "formula_default_product",
        "customer types (formula default)",
    ),
    uses("subscriptions", "product", "subscriptions"),
    uses("billing_cycle_products", "product", "billing cycles"),
    uses("pricing_rules", "product", "pricing rules"),
    uses(
        "pricing_rules",
        "with_product",
        "pricing rules (with_product)",
    ),
];

#[derive(Debug, Clone)]
pub struct NewProduct {
    pub code: String,
    pub name: String,
    pub product_type: ProductType,
    pub price_cents: i64,
    pub term_months: Option<u32>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub product_type: Option<ProductType>,
    pub price_cents: Option<i64>,
    pub term_months: Option<u32>,
    pub active: Option<bool>,
}

/// P-2: chapter products, and only they, are coded `CHAPT/<chapter>`.
fn check_chapter_code(errors: &mut Errors, code: &str, product_type: ProductType) {
    let chapter_code = code.starts_with(CHAPTER_PREFIX);
    if product_type == ProductType::Chapter && !chapter_code {
        errors.add("code", format!("a chapter product's code is {CHAPTER_PREFIX} followed by the chapter code, e.g. CHAPT/EAST"));
    }
    if product_type != ProductType::Chapter && chapter_code {
        errors.add("product_type", format!("codes beginning with {CHAPTER_PREFIX} are chapter products; use product_type chapter"));
    }
}

fn check_fields(
    errors: &mut Errors,
    name: Option<&str>,
    price_cents: Option<i64>,
    term: Option<u32>,
) {
    if let Some(name) = name
        && (name.trim().is_empty() || name.chars().count() > 200)
    {
        errors.add("name", "must be 1 to 200 characters");
    }
    if price_cents.is_some_and(|c| c < 0) {
        errors.add("price", "must not be negative");
    }
    if let Some(t) = term
        && !(1..=120).contains(&t)
    {
        errors.add("term_months", "must be between 1 and 120");
    }
}

/// Every product code: what import checks compare product columns with.
pub async fn codes(conn: &impl ConnectionTrait) -> Result<std::collections::HashSet<String>> {
    Ok(p::Entity::find()
        .select_only()
        .column(p::Column::Code)
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

pub async fn find(conn: &impl ConnectionTrait, code: &str) -> Result<Option<p::Model>> {
    Ok(p::Entity::find_by_id(code.to_owned()).one(conn).await?)
}

pub async fn get(conn: &impl ConnectionTrait, code: &str) -> Result<p::Model> {
    find(conn, code)
        .await?
        .ok_or_else(|| Error::not_found("product", code))
}

pub async fn list(
    conn: &impl ConnectionTrait,
    req: &PageRequest,
    product_type: Option<ProductType>,
    active: Option<bool>,
) -> Result<Page<p::Model>> {
    let limit = req.limit()?;
    let mut q = p::Entity::find()
        .order_by_asc(p::Column::Code)
        .limit(limit + 1);
    if let Some(after) = req.after_text()? {
        q = q.filter(p::Column::Code.gt(after));
    }
    if let Some(t) = product_type {
        q = q.filter(p::Column::ProductType.eq(t));
    }
    if let Some(a) = active {
        q = q.filter(p::Column::Active.eq(a));
    }
    let rows = q.all(conn).await?;
    Ok(page::build(rows, limit, |r| r.code.clone()))
}

pub async fn create(db: &Db, new: NewProduct) -> Result<p::Model> {
    let txn = db.write().await?;
    let out = create_in(&txn, new).await?;
    txn.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction (an import writes many in one).
pub async fn create_in(txn: &sea_orm::DatabaseTransaction, new: NewProduct) -> Result<p::Model> {
    let mut errors = Errors::new();
    if let Err(m) = codes::check_product_code(&new.code) {
        errors.add("code", m);
    }
    check_chapter_code(&mut errors, &new.code, new.product_type);
    check_fields(
        &mut errors,
        Some(&new.name),
        Some(new.price_cents),
        new.term_months,
    );
    errors.into_result()?;
    // P-6: a product code never equals a billing cycle name.
    check_not_a_cycle_name(txn, &new.code).await?;
    if find(txn, &new.code).await?.is_some() {
        return Err(Error::conflict(format!(
            "product {} already exists",
            new.code
        )));
    }
    let now = clock::now();
    let model = p::ActiveModel {
        code: Set(new.code),
        name: Set(new.name.trim().to_owned()),
        product_type: Set(new.product_type),
        price_cents: Set(new.price_cents),
        term_months: Set(new.term_months.unwrap_or(DEFAULT_TERM_MONTHS) as i32),
        active: Set(new.active.unwrap_or(true)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    Ok(model)
}

pub async fn update(
    db: &Db,
    code: &str,
    patch: ProductPatch,
    expected_version: Option<i32>,
) -> Result<p::Model> {
    let txn = db.write().await?;
    let out = update_in(&txn, code, patch, expected_version).await?;
    txn.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction (an import writes many in one).
pub async fn update_in(
    txn: &sea_orm::DatabaseTransaction,
    code: &str,
    patch: ProductPatch,
    expected_version: Option<i32>,
) -> Result<p::Model> {
    let current = get(txn, code).await?;
    let mut errors = Errors::new();
    let product_type = patch.product_type.unwrap_or(current.product_type);
    check_chapter_code(&mut errors, code, product_type);
    check_fields(
        &mut errors,
        patch.name.as_deref(),
        patch.price_cents,
        patch.term_months,
    );
    errors.into_result()?;
    check_version(expected_version, current.version)?;
    let mut am: p::ActiveModel = current.clone().into();
    if let Some(name) = patch.name {
        am.name = Set(name.trim().to_owned());
    }
    am.product_type = Set(product_type);
    if let Some(c) = patch.price_cents {
        am.price_cents = Set(c);
    }
    if let Some(t) = patch.term_months {
        am.term_months = Set(t as i32);
    }
    if let Some(a) = patch.active {
        am.active = Set(a);
    }
    am.version = Set(current.version + 1);
    am.updated_at = Set(clock::now());
    let res = p::Entity::update_many()
        .set(am)
        .filter(p::Column::Code.eq(code))
        .filter(p::Column::Version.eq(current.version))
        .exec(txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    let saved = get(txn, code).await?;
    Ok(saved)
}

pub async fn delete(db: &Db, code: &str, expected_version: Option<i32>) -> Result<()> {
    let txn = db.write().await?;
    let current = get(&txn, code).await?;
    check_version(expected_version, current.version)?;
    usage::ensure_unused(&txn, "product", code, USES).await?;
    p::Entity::delete_by_id(code.to_owned()).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Loads the products named in `codes`; reports every missing code by name.
pub async fn require_all(
    conn: &impl ConnectionTrait,
    field: &str,
    codes: &[String],
) -> Result<Vec<p::Model>> {
    let found = p::Entity::find()
        .filter(p::Column::Code.is_in(codes.iter().cloned()))
        .all(conn)
        .await?;
    let missing: Vec<&str> = codes
        .iter()
        .filter(|c| !found.iter().any(|f| &f.code == *c))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(Error::invalid(
            field,
            format!("unknown product(s): {}", missing.join(", ")),
        ))
    }
}

/// P-6, the other direction of B-1: a product code never equals a billing cycle's name,
/// whatever the letter case.
async fn check_not_a_cycle_name(conn: &impl ConnectionTrait, code: &str) -> Result<()> {
    let cycle = entity::billing_cycle::Entity::find()
        .filter(entity::billing_cycle::Column::NameKey.eq(codes::name_key(code)))
        .one(conn)
        .await?;
    match cycle {
        Some(cycle) => Err(Error::invalid(
            "code",
            format!(
                "billing cycle {:?} has this name; a product code may not equal a cycle name",
                cycle.name
            ),
        )),
        None => Ok(()),
    }
}
