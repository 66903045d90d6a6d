//! B-1..B-13: billing cycles. A cycle says whom a billing run bills, for what, and how.

pub mod proration;
pub mod rules;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use entity::billing_cycle as b;
use entity::billing_cycle_category as bc;
use entity::billing_cycle_customer_type as bt;
use entity::billing_cycle_product as bp;
use entity::product as p;

use crate::error::{Error, Result, check_version};
use crate::page::{self, Page, PageRequest};
use crate::{billing_categories, clock, customer_types, db::Db, settings};

pub use entity::words::{AccountingMethod, AutopayOption, BillingTime};
pub use rules::CycleFields;

use crate::codes::name_key;

/// A cycle as stored, with the warnings its options deserve.
#[derive(Debug, Clone)]
pub struct Cycle {
    pub id: i64,
    pub fields: CycleFields,
    pub warnings: Vec<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// PATCH: absent fields stay; lists are replaced whole.
#[derive(Debug, Clone, Default)]
pub struct CyclePatch {
    pub name: Option<String>,
    pub membership: Option<bool>,
    pub customer_types: Option<Vec<String>>,
    pub billing_categories: Option<Vec<String>>,
    pub products: Option<Vec<String>>,
    pub billing_time: Option<Option<BillingTime>>,
    pub accounting_method: Option<Option<AccountingMethod>>,
    pub autopay_option: Option<AutopayOption>,
    pub require_chapter: Option<bool>,
    pub allow_multiple_chapters: Option<bool>,
    pub require_billed_chapters_on_renewal: Option<bool>,
    pub include_inactive_members: Option<bool>,
    pub include_inactive_sections: Option<bool>,
    pub include_suspended_members: Option<bool>,
    pub print_zero_balance: Option<bool>,
    pub include_all_sections: Option<bool>,
    pub include_all_chapters: Option<bool>,
    pub update_complimentary_paid_through_at_payment: Option<bool>,
    pub use_primary_fee_term_length: Option<bool>,
    pub months_prior_to_expiration: Option<u32>,
    pub rejoin_as_renewal_months: Option<u32>,
    pub join_item_set: Option<bool>,
    pub itemized_renewals: Option<bool>,
    pub member_instalments: Option<bool>,
    pub reminder_days: Option<Option<u32>>,
    pub proration_rules: Option<Vec<proration::ProrationRule>>,
}

impl CyclePatch {
    fn apply(self, f: &mut CycleFields) {
        macro_rules! set {
            ($($n:ident),*) => { $( if let Some(v) = self.$n { f.$n = v; } )* };
        }
        set!(
            name,
            membership,
            customer_types,
            billing_categories,
            products,
            billing_time,
            accounting_method,
            autopay_option,
            require_chapter,
            allow_multiple_chapters,
            require_billed_chapters_on_renewal,
            include_inactive_members,
            include_inactive_sections,
            include_suspended_members,
            print_zero_balance,
            include_all_sections,
            include_all_chapters,
            update_complimentary_paid_through_at_payment,
            use_primary_fee_term_length,
            months_prior_to_expiration,
            rejoin_as_renewal_months,
            join_item_set,
            itemized_renewals,
            member_instalments,
            reminder_days,
            proration_rules
        );
    }
}

/// A cycle as a request names it: by id or by name.
#[derive(Debug, Clone)]
pub enum CycleRef {
    Id(i64),
    Name(String),
}

/// The cycle a request names; an unknown one is a validation error on `billing_cycle`.
pub async fn resolve(conn: &impl ConnectionTrait, r: &CycleRef) -> Result<Cycle> {
    let id = match r {
        CycleRef::Id(id) => *id,
        CycleRef::Name(name) => b::Entity::find()
            .filter(b::Column::NameKey.eq(name_key(name)))
            .one(conn)
            .await?
            .map(|m| m.id)
            .ok_or_else(|| {
                Error::invalid(
                    "billing_cycle",
                    format!("billing cycle {name:?} does not exist"),
                )
            })?,
    };
    get(conn, id).await.map_err(|e| match e {
        Error::NotFound { .. } => Error::invalid(
            "billing_cycle",
            format!("billing cycle {id} does not exist"),
        ),
        other => other,
    })
}

/// The reference data the checks of these cycles need, in a fixed number of queries.
async fn reference_facts<'a>(
    conn: &impl ConnectionTrait,
    cycles: impl Iterator<Item = &'a CycleFields> + Clone,
) -> Result<rules::Facts> {
    let mut type_codes: Vec<String> = cycles
        .clone()
        .flat_map(|f| f.customer_types.clone())
        .collect();
    type_codes.sort();
    type_codes.dedup();
    let types = customer_types::find_many(conn, &type_codes)
        .await?
        .into_iter()
        .map(|t| (t.code.clone(), t))
        .collect();
    let wanted: Vec<String> = cycles
        .clone()
        .flat_map(|f| f.billing_categories.clone())
        .collect();
    let categories = billing_categories::TABLE.existing(conn, &wanted).await?;
    let products = p::Entity::find()
        .filter(p::Column::Code.is_in(cycles.flat_map(|f| f.products.clone())))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.code, m.product_type))
        .collect();
    Ok(rules::Facts {
        types,
        categories,
        products,
        product_named_like_cycle: None,
        duplicate_name: false,
        settings: settings::get(conn).await?,
    })
}

/// Everything `rules::check` needs to save `f`, including the name checks (B-1, P-6).
async fn facts(
    conn: &impl ConnectionTrait,
    f: &CycleFields,
    self_id: Option<i64>,
) -> Result<rules::Facts> {
    let key = name_key(&f.name);
    let mut facts = reference_facts(conn, std::iter::once(f)).await?;
    facts.product_named_like_cycle = p::Entity::find()
        .select_only()
        .column(p::Column::Code)
        .filter(Expr::expr(Func::upper(Expr::col(p::Column::Code))).eq(key.clone()))
        .into_tuple::<String>()
        .one(conn)
        .await?;
    let mut dup = b::Entity::find().filter(b::Column::NameKey.eq(key));
    if let Some(id) = self_id {
        dup = dup.filter(b::Column::Id.ne(id));
    }
    facts.duplicate_name = dup.one(conn).await?.is_some();
    Ok(facts)
}

fn columns(f: &CycleFields) -> b::ActiveModel {
    b::ActiveModel {
        name: Set(f.name.trim().to_owned()),
        name_key: Set(name_key(&f.name)),
        membership: Set(f.membership),
        billing_time: Set(f.billing_time),
        accounting_method: Set(f.accounting_method),
        autopay_option: Set(f.autopay_option),
        require_chapter: Set(f.require_chapter),
        allow_multiple_chapters: Set(f.allow_multiple_chapters),
        require_billed_chapters_on_renewal: Set(f.require_billed_chapters_on_renewal),
        include_inactive_members: Set(f.include_inactive_members),
        include_inactive_sections: Set(f.include_inactive_sections),
        include_suspended_members: Set(f.include_suspended_members),
        print_zero_balance: Set(f.print_zero_balance),
        include_all_sections: Set(f.include_all_sections),
        include_all_chapters: Set(f.include_all_chapters),
        update_complimentary_paid_through_at_payment: Set(
            f.update_complimentary_paid_through_at_payment
        ),
        use_primary_fee_term_length: Set(f.use_primary_fee_term_length),
        months_prior_to_expiration: Set(f.months_prior_to_expiration as i32),
        rejoin_as_renewal_months: Set(f.rejoin_as_renewal_months as i32),
        join_item_set: Set(f.join_item_set),
        itemized_renewals: Set(f.itemized_renewals),
        member_instalments: Set(f.member_instalments),
        reminder_days: Set(f.reminder_days.map(|d| d as i32)),
        proration_rules: Set(proration::to_stored(&f.proration_rules)),
        ..Default::default()
    }
}

async fn write_lists(conn: &impl ConnectionTrait, id: i64, f: &CycleFields) -> Result<()> {
    bt::Entity::delete_many()
        .filter(bt::Column::CycleId.eq(id))
        .exec(conn)
        .await?;
    bc::Entity::delete_many()
        .filter(bc::Column::CycleId.eq(id))
        .exec(conn)
        .await?;
    bp::Entity::delete_many()
        .filter(bp::Column::CycleId.eq(id))
        .exec(conn)
        .await?;
    if !f.customer_types.is_empty() {
        bt::Entity::insert_many(f.customer_types.iter().enumerate().map(|(i, t)| {
            bt::ActiveModel {
                cycle_id: Set(id),
                customer_type: Set(t.clone()),
                position: Set(i as i32),
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    if !f.billing_categories.is_empty() {
        bc::Entity::insert_many(f.billing_categories.iter().map(|c| bc::ActiveModel {
            cycle_id: Set(id),
            billing_category: Set(c.clone()),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    if !f.products.is_empty() {
        bp::Entity::insert_many(f.products.iter().enumerate().map(|(i, p)| bp::ActiveModel {
            cycle_id: Set(id),
            product: Set(p.clone()),
            position: Set(i as i32),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

fn assemble(m: b::Model, lists: &mut Lists) -> CycleFields {
    CycleFields {
        customer_types: lists.types.remove(&m.id).unwrap_or_default(),
        billing_categories: lists.categories.remove(&m.id).unwrap_or_default(),
        products: lists.products.remove(&m.id).unwrap_or_default(),
        name: m.name,
        membership: m.membership,
        billing_time: m.billing_time,
        accounting_method: m.accounting_method,
        autopay_option: m.autopay_option,
        require_chapter: m.require_chapter,
        allow_multiple_chapters: m.allow_multiple_chapters,
        require_billed_chapters_on_renewal: m.require_billed_chapters_on_renewal,
        include_inactive_members: m.include_inactive_members,
        include_inactive_sections: m.include_inactive_sections,
        include_suspended_members: m.include_suspended_members,
        print_zero_balance: m.print_zero_balance,
        include_all_sections: m.include_all_sections,
        include_all_chapters: m.include_all_chapters,
        update_complimentary_paid_through_at_payment: m
            .update_complimentary_paid_through_at_payment,
        use_primary_fee_term_length: m.use_primary_fee_term_length,
        months_prior_to_expiration: u32::try_from(m.months_prior_to_expiration).unwrap_or(0),
        rejoin_as_renewal_months: u32::try_from(m.rejoin_as_renewal_months).unwrap_or(0),
        join_item_set: m.join_item_set,
        itemized_renewals: m.itemized_renewals,
        member_instalments: m.member_instalments,
        reminder_days: m.reminder_days.map(|d| u32::try_from(d).unwrap_or(0)),
        proration_rules: proration::from_stored(&m.proration_rules),
    }
}

#[derive(Default)]
struct Lists {
    types: HashMap<i64, Vec<String>>,
    categories: HashMap<i64, Vec<String>>,
    products: HashMap<i64, Vec<String>>,
}

async fn lists(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Lists> {
    let mut l = Lists::default();
    for r in bt::Entity::find()
        .filter(bt::Column::CycleId.is_in(ids.iter().copied()))
        .order_by_asc(bt::Column::Position)
        .all(conn)
        .await?
    {
        l.types.entry(r.cycle_id).or_default().push(r.customer_type);
    }
    for r in bc::Entity::find()
        .filter(bc::Column::CycleId.is_in(ids.iter().copied()))
        .order_by_asc(bc::Column::BillingCategory)
        .all(conn)
        .await?
    {
        l.categories
            .entry(r.cycle_id)
            .or_default()
            .push(r.billing_category);
    }
    for r in bp::Entity::find()
        .filter(bp::Column::CycleId.is_in(ids.iter().copied()))
        .order_by_asc(bp::Column::Position)
        .all(conn)
        .await?
    {
        l.products.entry(r.cycle_id).or_default().push(r.product);
    }
    Ok(l)
}

async fn cycles(conn: &impl ConnectionTrait, models: Vec<b::Model>) -> Result<Vec<Cycle>> {
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let mut l = lists(conn, &ids).await?;
    let assembled: Vec<(b::Model, CycleFields)> = models
        .into_iter()
        .map(|m| {
            let fields = assemble(m.clone(), &mut l);
            (m, fields)
        })
        .collect();
    // Warnings describe the options as they stand, so they are worked out on every read, with
    // the reference data of the whole page loaded once. Names were checked when saved.
    let facts = reference_facts(conn, assembled.iter().map(|(_, f)| f)).await?;
    let mut out = Vec::with_capacity(assembled.len());
    for (m, fields) in assembled {
        let (id, version, created_at, updated_at) = (m.id, m.version, m.created_at, m.updated_at);
        // A later change to a product or type can make a saved cycle invalid; say so.
        let warnings = match rules::check(&fields, &facts) {
            Ok(w) => w,
            Err(e) => vec![format!(
                "this cycle no longer passes its checks after a change to its products or types; fix it before billing: {e}"
            )],
        };
        out.push(Cycle {
            id,
            fields,
            warnings,
            version,
            created_at,
            updated_at,
        });
    }
    Ok(out)
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Cycle> {
    let m = b::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("billing cycle", id))?;
    cycles(conn, vec![m])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("billing cycle", id))
}

pub async fn list(conn: &impl ConnectionTrait, req: &PageRequest) -> Result<Page<Cycle>> {
    let limit = req.limit()?;
    let mut q = b::Entity::find()
        .order_by_asc(b::Column::Id)
        .limit(limit + 1);
    if let Some(after) = req.after_id()? {
        q = q.filter(b::Column::Id.gt(after));
    }
    let page = page::build(q.all(conn).await?, limit, |m| m.id.to_string());
    Ok(Page {
        items: cycles(conn, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

pub async fn create(db: &Db, f: CycleFields) -> Result<Cycle> {
    let txn = db.write().await?;
    let out = create_in(&txn, f).await?;
    txn.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction (an import writes many in one).
pub async fn create_in(txn: &sea_orm::DatabaseTransaction, f: CycleFields) -> Result<Cycle> {
    let facts = facts(txn, &f, None).await?;
    rules::check(&f, &facts)?;
    let now = clock::now();
    let mut am = columns(&f);
    am.version = Set(1);
    am.created_at = Set(now);
    am.updated_at = Set(now);
    let m = am.insert(txn).await?;
    write_lists(txn, m.id, &f).await?;
    let cycle = get(txn, m.id).await?;
    Ok(cycle)
}

pub async fn update(
    db: &Db,
    id: i64,
    patch: CyclePatch,
    expected_version: Option<i32>,
) -> Result<Cycle> {
    let txn = db.write().await?;
    let out = update_in(&txn, id, patch, expected_version).await?;
    txn.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction (an import writes many in one).
pub async fn update_in(
    txn: &sea_orm::DatabaseTransaction,
    id: i64,
    patch: CyclePatch,
    expected_version: Option<i32>,
) -> Result<Cycle> {
    let current = get(txn, id).await?;
    check_version(expected_version, current.version)?;
    let mut f = current.fields.clone();
    patch.apply(&mut f);
    let facts = facts(txn, &f, Some(id)).await?;
    rules::check(&f, &facts)?;
    let mut am = columns(&f);
    am.version = Set(current.version + 1);
    am.updated_at = Set(clock::now());
    let res = b::Entity::update_many()
        .set(am)
        .filter(b::Column::Id.eq(id))
        .filter(b::Column::Version.eq(current.version))
        .exec(txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    write_lists(txn, id, &f).await?;
    let cycle = get(txn, id).await?;
    Ok(cycle)
}

pub async fn delete(db: &Db, id: i64, expected_version: Option<i32>) -> Result<()> {
    let txn = db.write().await?;
    let current = get(&txn, id).await?;
    check_version(expected_version, current.version)?;
    b::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}
