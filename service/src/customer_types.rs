//! CT-1..CT-7: customer types decide benefits (member or not) and record kind (person or
//! organization), the primary fee, where lapsed members go and what linked persons become.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use entity::customer_type as ct;
use entity::customer_type_product as ctp;

use crate::error::{Error, Errors, Result, check_version};
use crate::page::{self, Page, PageRequest};
use crate::products::TAX_SUFFIX;
use crate::usage::{self, Use, uses};
use crate::{clock, codes, db::Db, products, settings};

/// CT-3: how a type's primary fee is found. A type never stores an amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrimaryFee {
    Products(Vec<String>),
    Formula {
        designator: String,
        default_product: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerType {
    pub code: String,
    pub name: String,
    pub is_member: bool,
    pub is_organization: bool,
    pub primary_fee: Option<PrimaryFee>,
    pub expires_to: Option<String>,
    pub renews_as: Option<String>,
    pub flow_down_type: Option<String>,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone)]
pub struct NewCustomerType {
    pub code: String,
    pub name: String,
    pub is_member: bool,
    pub is_organization: bool,
    pub primary_fee: Option<PrimaryFee>,
    pub expires_to: Option<String>,
    pub renews_as: Option<String>,
    pub flow_down_type: Option<String>,
}

/// Absent fields stay as they are; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct CustomerTypePatch {
    pub name: Option<String>,
    pub is_member: Option<bool>,
    pub is_organization: Option<bool>,
    pub primary_fee: Option<Option<PrimaryFee>>,
    pub expires_to: Option<Option<String>>,
    pub renews_as: Option<Option<String>>,
    pub flow_down_type: Option<Option<String>>,
}

const USES: &[Use] = &[
    uses("contacts", "customer_type", "contacts"),
    uses(
        "customer_types",
        "expires_to",
        "customer types (expires_to)",
    ),
    uses("customer_types", "renews_as", "customer types (renews_as)"),
    uses(
        "customer_types",
        "flow_down_type",
        "customer types (flow_down_type)",
    ),
    uses("pricing_rules", "customer_type", "pricing rules"),
    uses(
        "billing_cycle_customer_types",
        "customer_type",
        "billing cycles",
    ),
];

/// CT-3: the primary-fee family of a formula: every product whose code begins with the
/// designator, tax companions (`_GST`, P-5) excluded.
pub fn in_formula_family(designator: &str, product_code: &str) -> bool {
    product_code.starts_with(designator) && !product_code.ends_with(TAX_SUFFIX)
}

impl CustomerType {
    pub fn has_primary_fee(&self) -> bool {
        self.primary_fee.is_some()
    }
}

fn assemble(m: ct::Model, products: Vec<String>) -> CustomerType {
    let primary_fee = match m.primary_fee_kind.as_str() {
        "products" => Some(PrimaryFee::Products(products)),
        "formula" => Some(PrimaryFee::Formula {
            designator: m.formula_designator.clone().unwrap_or_default(),
            default_product: m.formula_default_product.clone(),
        }),
        _ => None,
    };
    CustomerType {
        code: m.code,
        name: m.name,
        is_member: m.is_member,
        is_organization: m.is_organization,
        primary_fee,
        expires_to: m.expires_to,
        renews_as: m.renews_as,
        flow_down_type: m.flow_down_type,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn products_of(
    conn: &impl ConnectionTrait,
    types: &[String],
) -> Result<HashMap<String, Vec<String>>> {
    let rows = ctp::Entity::find()
        .filter(ctp::Column::CustomerType.is_in(types.iter().cloned()))
        .order_by_asc(ctp::Column::CustomerType)
        .order_by_asc(ctp::Column::Position)
        .all(conn)
        .await?;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        map.entry(r.customer_type).or_default().push(r.product);
    }
    Ok(map)
}

pub async fn find(conn: &impl ConnectionTrait, code: &str) -> Result<Option<CustomerType>> {
    let Some(m) = ct::Entity::find_by_id(code.to_owned()).one(conn).await? else {
        return Ok(None);
    };
    let mut products = products_of(conn, std::slice::from_ref(&m.code)).await?;
    let list = products.remove(&m.code).unwrap_or_default();
    Ok(Some(assemble(m, list)))
}

pub async fn get(conn: &impl ConnectionTrait, code: &str) -> Result<CustomerType> {
    find(conn, code)
        .await?
        .ok_or_else(|| Error::not_found("customer type", code))
}

/// The named types with their primary fees, in two queries; unknown codes are left out.
pub async fn find_many(conn: &impl ConnectionTrait, codes: &[String]) -> Result<Vec<CustomerType>> {
    let models = ct::Entity::find()
        .filter(ct::Column::Code.is_in(codes.iter().cloned()))
        .all(conn)
        .await?;
    let mut products = products_of(conn, codes).await?;
    Ok(models
        .into_iter()
        .map(|m| {
            let list = products.remove(&m.code).unwrap_or_default();
            assemble(m, list)
        })
        .collect())
}

pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<ct::Model>> {
    Ok(ct::Entity::find().all(conn).await?)
}

pub async fn list(
    conn: &impl ConnectionTrait,
    req: &PageRequest,
    is_member: Option<bool>,
    is_organization: Option<bool>,
) -> Result<Page<CustomerType>> {
    let limit = req.limit()?;
    let mut q = ct::Entity::find()
        .order_by_asc(ct::Column::Code)
        .limit(limit + 1);
    if let Some(after) = req.after_text()? {
        q = q.filter(ct::Column::Code.gt(after));
    }
    if let Some(m) = is_member {
        q = q.filter(ct::Column::IsMember.eq(m));
    }
    if let Some(o) = is_organization {
        q = q.filter(ct::Column::IsOrganization.eq(o));
    }
    let rows = q.all(conn).await?;
    let codes: Vec<String> = rows.iter().map(|r| r.code.clone()).collect();
    let mut products = products_of(conn, &codes).await?;
    let items = rows
        .into_iter()
        .map(|m| {
            let list = products.remove(&m.code).unwrap_or_default();
            assemble(m, list)
        })
        .collect();
    Ok(page::build(items, limit, |t: &CustomerType| t.code.clone()))
}

/// The full state a type would have after a create or patch; validated as a whole.
struct State<'a> {
    code: &'a str,
    name: &'a str,
    is_member: bool,
    is_organization: bool,
    primary_fee: Option<&'a PrimaryFee>,
    expires_to: Option<&'a str>,
    renews_as: Option<&'a str>,
    flow_down_type: Option<&'a str>,
}

async fn validate(conn: &impl ConnectionTrait, s: &State<'_>, existing: bool) -> Result<()> {
    let mut errors = Errors::new();
    check_code_and_name(s, existing, &mut errors);
    check_primary_fee(conn, s, &mut errors).await?;
    check_expires_to(conn, s, &mut errors).await?;
    check_renews_as(conn, s, &mut errors).await?;
    check_flow_down_type(conn, s, &mut errors).await?;
    if existing {
        check_dependents(conn, s, &mut errors).await?;
    }
    errors.into_result()
}

fn kind_word(org: bool) -> &'static str {
    if org { "an organization" } else { "a person" }
}

/// CT-1: the code's shape (set once, at creation) and a name.
fn check_code_and_name(s: &State<'_>, existing: bool, errors: &mut Errors) {
    if !existing && let Err(m) = codes::check_customer_type_code(s.code) {
        errors.add("code", m);
    }
    if s.name.trim().is_empty() || s.name.chars().count() > 200 {
        errors.add("name", "must be 1 to 200 characters");
    }
}

/// CT-3: a primary fee is a list of existing products, each once, or a formula over a product
/// family with an optional default product of that family.
async fn check_primary_fee(
    conn: &impl ConnectionTrait,
    s: &State<'_>,
    errors: &mut Errors,
) -> Result<()> {
    match s.primary_fee {
        None => Ok(()),
        Some(PrimaryFee::Products(list)) => check_fee_products(conn, list, errors).await,
        Some(PrimaryFee::Formula {
            designator,
            default_product,
        }) => check_fee_formula(conn, designator, default_product.as_deref(), errors).await,
    }
}

async fn check_fee_products(
    conn: &impl ConnectionTrait,
    list: &[String],
    errors: &mut Errors,
) -> Result<()> {
    if list.is_empty() {
        errors.add(
            "primary_fee.products",
            "list at least one product, or set primary_fee to null",
        );
    }
    let mut seen = std::collections::HashSet::new();
    for code in list {
        if !seen.insert(code) {
            errors.add(
                "primary_fee.products",
                format!("product {code} is listed twice"),
            );
        }
    }
    match products::require_all(conn, "primary_fee.products", list).await {
        Ok(_) => Ok(()),
        Err(Error::Validation(found)) => {
            for e in found {
                errors.add(e.field, e.message);
            }
            Ok(())
        }
        Err(other) => Err(other),
    }
}

async fn check_fee_formula(
    conn: &impl ConnectionTrait,
    designator: &str,
    default_product: Option<&str>,
    errors: &mut Errors,
) -> Result<()> {
    if let Err(m) = codes::check_designator(designator) {
        errors.add("primary_fee.designator", m);
    }
    let Some(d) = default_product else {
        return Ok(());
    };
    if !in_formula_family(designator, d) {
        errors.add("primary_fee.default_product", format!("product {d} is not in the {designator} family (its code must begin with {designator} and not end with {TAX_SUFFIX})"));
    } else if products::find(conn, d).await?.is_none() {
        errors.add(
            "primary_fee.default_product",
            format!("unknown product: {d}"),
        );
    }
    Ok(())
}

/// CT-4: a member type names the non-member type of the same kind its lapsed members move
/// to; a non-member type names none.
async fn check_expires_to(
    conn: &impl ConnectionTrait,
    s: &State<'_>,
    errors: &mut Errors,
) -> Result<()> {
    match (s.is_member, s.expires_to) {
        (true, None) => errors.add("expires_to", "a member type must name the non-member type its lapsed members move to"),
        (false, Some(_)) => errors.add("expires_to", "only member types expire; leave expires_to empty for a non-member type"),
        (true, Some(target)) => match find(conn, target).await? {
            None => errors.add("expires_to", format!("customer type {target} does not exist")),
            Some(t) if t.is_member => errors.add("expires_to", format!("customer type {target} is a member type; lapsed members must move to a non-member type")),
            Some(t) if t.is_organization != s.is_organization => errors.add("expires_to", format!("customer type {target} is not {} type", kind_word(s.is_organization))),
            Some(_) => {}
        },
        (false, None) => {}
    }
    Ok(())
}

/// CT-5: a type renews as another member type of the same kind.
async fn check_renews_as(
    conn: &impl ConnectionTrait,
    s: &State<'_>,
    errors: &mut Errors,
) -> Result<()> {
    let Some(target) = s.renews_as else {
        return Ok(());
    };
    match find(conn, target).await? {
        _ if target == s.code => errors.add("renews_as", "a type cannot renew as itself"),
        None => errors.add(
            "renews_as",
            format!("customer type {target} does not exist"),
        ),
        Some(t) if t.is_organization != s.is_organization => errors.add(
            "renews_as",
            format!(
                "customer type {target} is not {} type",
                kind_word(s.is_organization)
            ),
        ),
        Some(t) if !t.is_member => errors.add(
            "renews_as",
            format!("customer type {target} is not a member type"),
        ),
        Some(_) => {}
    }
    Ok(())
}

/// CT-6: only an organization type flows down, to a person type that bills no primary fee.
async fn check_flow_down_type(
    conn: &impl ConnectionTrait,
    s: &State<'_>,
    errors: &mut Errors,
) -> Result<()> {
    let Some(target) = s.flow_down_type else {
        return Ok(());
    };
    if !s.is_organization {
        errors.add(
            "flow_down_type",
            "only organization types flow down to linked persons",
        );
        return Ok(());
    }
    match find(conn, target).await? {
        None => errors.add("flow_down_type", format!("customer type {target} does not exist")),
        Some(t) if t.is_organization => errors.add("flow_down_type", format!("customer type {target} is an organization type; linked persons need a person type")),
        Some(t) if t.has_primary_fee() => errors.add("flow_down_type", format!("customer type {target} bills a primary fee; a flow-down type is given, not paid for")),
        Some(_) => {}
    }
    Ok(())
}

/// Other records point at this type; a change must keep their rules true.
async fn check_dependents(
    conn: &impl ConnectionTrait,
    s: &State<'_>,
    errors: &mut Errors,
) -> Result<()> {
    let others = ct::Entity::find()
        .filter(ct::Column::Code.ne(s.code))
        .all(conn)
        .await?;
    for o in &others {
        if o.expires_to.as_deref() == Some(s.code)
            && (s.is_member || s.is_organization != o.is_organization)
        {
            errors.add("is_member", format!("customer type {} expires to {}; it must stay a non-member type of the same record kind", o.code, s.code));
        }
        if o.flow_down_type.as_deref() == Some(s.code)
            && (s.is_organization || s.primary_fee.is_some())
        {
            errors.add("is_organization", format!("customer type {} flows down to {}; it must stay a person type without a primary fee", o.code, s.code));
        }
        if o.renews_as.as_deref() == Some(s.code)
            && (!s.is_member || s.is_organization != o.is_organization)
        {
            errors.add("is_member", format!("customer type {} renews as {}; it must stay a member type of the same record kind", o.code, s.code));
        }
    }
    let st = settings::get(conn).await?;
    for (field, code, org) in [
        (
            "default_person_type",
            st.default_person_type.as_deref(),
            false,
        ),
        (
            "default_organization_type",
            st.default_organization_type.as_deref(),
            true,
        ),
    ] {
        if code == Some(s.code) && (s.is_member || s.is_organization != org) {
            errors.add(
                "is_member",
                format!(
                    "{} is the settings' {field}; it must stay a non-member {} type",
                    s.code,
                    if org { "organization" } else { "person" }
                ),
            );
        }
    }
    Ok(())
}

async fn write_products(
    conn: &impl ConnectionTrait,
    code: &str,
    fee: Option<&PrimaryFee>,
) -> Result<()> {
    ctp::Entity::delete_many()
        .filter(ctp::Column::CustomerType.eq(code))
        .exec(conn)
        .await?;
    if let Some(PrimaryFee::Products(list)) = fee
        && !list.is_empty()
    {
        let rows = list.iter().enumerate().map(|(i, p)| ctp::ActiveModel {
            customer_type: Set(code.to_owned()),
            product: Set(p.clone()),
            position: Set(i as i32),
        });
        ctp::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

fn fee_columns(fee: Option<&PrimaryFee>) -> (String, Option<String>, Option<String>) {
    match fee {
        None => ("none".into(), None, None),
        Some(PrimaryFee::Products(_)) => ("products".into(), None, None),
        Some(PrimaryFee::Formula {
            designator,
            default_product,
        }) => (
            "formula".into(),
            Some(designator.clone()),
            default_product.clone(),
        ),
    }
}

pub async fn create(db: &Db, new: NewCustomerType) -> Result<CustomerType> {
    let txn = db.write().await?;
    let out = create_in(&txn, new).await?;
    txn.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction (an import writes many in one).
pub async fn create_in(
    txn: &sea_orm::DatabaseTransaction,
    new: NewCustomerType,
) -> Result<CustomerType> {
    if find(txn, &new.code).await?.is_some() {
        return Err(Error::conflict(format!(
            "customer type {} already exists",
            new.code
        )));
    }
    let state = State {
        code: &new.code,
        name: &new.name,
        is_member: new.is_member,
        is_organization: new.is_organization,
        primary_fee: new.primary_fee.as_ref(),
        expires_to: new.expires_to.as_deref(),
        renews_as: new.renews_as.as_deref(),
        flow_down_type: new.flow_down_type.as_deref(),
    };
    validate(txn, &state, false).await?;
    let (kind, designator, default_product) = fee_columns(new.primary_fee.as_ref());
    let now = clock::now();
    ct::ActiveModel {
        code: Set(new.code.clone()),
        name: Set(new.name.trim().to_owned()),
        is_member: Set(new.is_member),
        is_organization: Set(new.is_organization),
        primary_fee_kind: Set(kind),
        formula_designator: Set(designator),
        formula_default_product: Set(default_product),
        expires_to: Set(new.expires_to.clone()),
        renews_as: Set(new.renews_as.clone()),
        flow_down_type: Set(new.flow_down_type.clone()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    write_products(txn, &new.code, new.primary_fee.as_ref()).await?;
    let saved = get(txn, &new.code).await?;
    Ok(saved)
}

pub async fn update(
    db: &Db,
    code: &str,
    patch: CustomerTypePatch,
    expected_version: Option<i32>,
) -> Result<CustomerType> {
    let txn = db.write().await?;
    let out = update_in(&txn, code, patch, expected_version).await?;
    txn.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction (an import writes many in one).
pub async fn update_in(
    txn: &sea_orm::DatabaseTransaction,
    code: &str,
    patch: CustomerTypePatch,
    expected_version: Option<i32>,
) -> Result<CustomerType> {
    let current = get(txn, code).await?;
    check_version(expected_version, current.version)?;
    let name = patch.name.clone().unwrap_or_else(|| current.name.clone());
    let is_member = patch.is_member.unwrap_or(current.is_member);
    let is_organization = patch.is_organization.unwrap_or(current.is_organization);
    let primary_fee = patch
        .primary_fee
        .clone()
        .unwrap_or_else(|| current.primary_fee.clone());
    let expires_to = patch
        .expires_to
        .clone()
        .unwrap_or_else(|| current.expires_to.clone());
    let renews_as = patch
        .renews_as
        .clone()
        .unwrap_or_else(|| current.renews_as.clone());
    let flow_down_type = patch
        .flow_down_type
        .clone()
        .unwrap_or_else(|| current.flow_down_type.clone());

    if is_organization != current.is_organization {
        let n = usage::count(txn, "contacts", "customer_type", code).await?;
        if n > 0 {
            return Err(Error::conflict(format!(
                "customer type {code} is used by {n} contacts; its record kind (is_organization) cannot change"
            )));
        }
    }
    let state = State {
        code,
        name: &name,
        is_member,
        is_organization,
        primary_fee: primary_fee.as_ref(),
        expires_to: expires_to.as_deref(),
        renews_as: renews_as.as_deref(),
        flow_down_type: flow_down_type.as_deref(),
    };
    validate(txn, &state, true).await?;
    let (kind, designator, default_product) = fee_columns(primary_fee.as_ref());
    let res = ct::Entity::update_many()
        .set(ct::ActiveModel {
            name: Set(name.trim().to_owned()),
            is_member: Set(is_member),
            is_organization: Set(is_organization),
            primary_fee_kind: Set(kind),
            formula_designator: Set(designator),
            formula_default_product: Set(default_product),
            expires_to: Set(expires_to),
            renews_as: Set(renews_as),
            flow_down_type: Set(flow_down_type),
            version: Set(current.version + 1),
            updated_at: Set(clock::now()),
            ..Default::default()
        })
        .filter(ct::Column::Code.eq(code))
        .filter(ct::Column::Version.eq(current.version))
        .exec(txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    if patch.primary_fee.is_some() {
        write_products(txn, code, primary_fee.as_ref()).await?;
    }
    let saved = get(txn, code).await?;
    Ok(saved)
}

/// CT-7: a type in use cannot be deleted; the error gives the counts.
pub async fn delete(db: &Db, code: &str, expected_version: Option<i32>) -> Result<()> {
    let txn = db.write().await?;
    let current = get(&txn, code).await?;
    check_version(expected_version, current.version)?;
    usage::ensure_unused(&txn, "customer type", code, USES).await?;
    let st = settings::get(&txn).await?;
    if st.default_person_type.as_deref() == Some(code)
        || st.default_organization_type.as_deref() == Some(code)
    {
        return Err(Error::conflict(format!(
            "customer type {code} is a default type in the membership settings and cannot be deleted"
        )));
    }
    ct::Entity::delete_by_id(code.to_owned()).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct3_formula_family_is_the_designator_prefix_without_tax_companions() {
        assert!(in_formula_family("AM", "AM_1"));
        assert!(in_formula_family("AM", "AM_3"));
        assert!(!in_formula_family("AM", "AM_1_GST"));
        assert!(!in_formula_family("AM", "M_1"));
        assert!(!in_formula_family("AM", "RM_1"));
    }
}
