//! Loads what the checks of a request or an import need: a bounded number of queries in
//! chunks, never one per row.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use entity::contact as c;
use entity::customer_type as ct;
use entity::subscription as s;

use crate::contacts::email_key;
use crate::customer_types::in_formula_family;
use crate::error::Result;
use crate::settings;
use crate::sql::{in_ids, in_values};

use super::input::{ContactRef, Row};
use super::plan::{ContactFacts, Facts};

pub use crate::sql::IN_CHUNK;

/// What the checks of `rows` need: the contacts they name (by id, external reference or
/// e-mail), products, formula families, the default accounting method and the
/// subscriptions the rows may meet.
pub async fn load<'a>(
    conn: &impl ConnectionTrait,
    rows: impl Iterator<Item = &'a Row> + Clone,
) -> Result<Facts> {
    let keys = ContactKeys::of(rows.clone());
    let mut facts = Facts::default();
    contacts_by_id(conn, &keys.ids, &mut facts).await?;
    contacts_by_external_ref(conn, &keys.refs, &mut facts).await?;
    contacts_by_email(conn, &keys.emails, &mut facts).await?;
    facts.products = crate::products::codes(conn).await?;
    facts.designators = formula_designators(conn).await?;
    facts.organization_types = ct::Entity::find()
        .select_only()
        .column(ct::Column::Code)
        .filter(ct::Column::IsOrganization.eq(true))
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    facts.default_method = Some(settings::get(conn).await?.default_accounting_method);
    let wanted = wanted_products(&facts, rows);
    existing_subscriptions(conn, &wanted, &mut facts).await?;
    Ok(facts)
}

/// The contact keys rows name, each once and in order (bill-to ids among the ids).
struct ContactKeys {
    ids: Vec<i64>,
    refs: Vec<String>,
    emails: Vec<String>,
}

impl ContactKeys {
    fn of<'a>(rows: impl Iterator<Item = &'a Row>) -> Self {
        let mut ids = BTreeSet::new();
        let mut refs = BTreeSet::new();
        let mut emails = BTreeSet::new();
        for r in rows {
            match &r.contact {
                Some(ContactRef::Id(id)) => {
                    ids.insert(*id);
                }
                Some(ContactRef::ExternalRef(x)) => {
                    refs.insert(x.clone());
                }
                Some(ContactRef::Email(e)) => {
                    emails.insert(email_key(e));
                }
                None => {}
            }
            if let Some(b) = r.fields.bill_to_id {
                ids.insert(b);
            }
        }
        Self {
            ids: ids.into_iter().collect(),
            refs: refs.into_iter().collect(),
            emails: emails.into_iter().collect(),
        }
    }
}

async fn contacts_by_id(conn: &impl ConnectionTrait, ids: &[i64], facts: &mut Facts) -> Result<()> {
    for chunk in ids.chunks(IN_CHUNK) {
        let found: Vec<(i64, String)> = c::Entity::find()
            .select_only()
            .column(c::Column::Id)
            .column(c::Column::CustomerType)
            .filter(in_ids(c::Column::Id, chunk))
            .filter(c::Column::MergedInto.is_null())
            .into_tuple()
            .all(conn)
            .await?;
        for (id, customer_type) in found {
            facts.contacts.insert(id, ContactFacts { customer_type });
        }
    }
    Ok(())
}

async fn contacts_by_external_ref(
    conn: &impl ConnectionTrait,
    refs: &[String],
    facts: &mut Facts,
) -> Result<()> {
    for chunk in refs.chunks(IN_CHUNK) {
        let found: Vec<(i64, Option<String>, String)> = c::Entity::find()
            .select_only()
            .column(c::Column::Id)
            .column(c::Column::ExternalRef)
            .column(c::Column::CustomerType)
            .filter(in_values(c::Column::ExternalRef, chunk.iter().cloned()))
            .filter(c::Column::MergedInto.is_null())
            .into_tuple()
            .all(conn)
            .await?;
        for (id, external_ref, customer_type) in found {
            if let Some(x) = external_ref {
                facts.by_external_ref.insert(x, id);
            }
            facts.contacts.insert(id, ContactFacts { customer_type });
        }
    }
    Ok(())
}

/// Contacts by e-mail key; the contacts sharing one e-mail are listed by id.
async fn contacts_by_email(
    conn: &impl ConnectionTrait,
    emails: &[String],
    facts: &mut Facts,
) -> Result<()> {
    for chunk in emails.chunks(IN_CHUNK) {
        let found: Vec<(i64, Option<String>, String)> = c::Entity::find()
            .select_only()
            .column(c::Column::Id)
            .column(c::Column::EmailKey)
            .column(c::Column::CustomerType)
            .filter(in_values(c::Column::EmailKey, chunk.iter().cloned()))
            .filter(c::Column::MergedInto.is_null())
            .into_tuple()
            .all(conn)
            .await?;
        for (id, email, customer_type) in found {
            if let Some(e) = email {
                facts.by_email.entry(e).or_default().push(id);
            }
            facts.contacts.insert(id, ContactFacts { customer_type });
        }
    }
    for ids in facts.by_email.values_mut() {
        ids.sort_unstable();
    }
    Ok(())
}

/// CT-3: the formula designators of every customer type, sorted, each once.
async fn formula_designators(conn: &impl ConnectionTrait) -> Result<Vec<String>> {
    let mut designators: Vec<String> = ct::Entity::find()
        .select_only()
        .column(ct::Column::FormulaDesignator)
        .filter(ct::Column::FormulaDesignator.is_not_null())
        .into_tuple::<Option<String>>()
        .all(conn)
        .await?
        .into_iter()
        .flatten()
        .collect();
    designators.sort();
    designators.dedup();
    Ok(designators)
}

/// The planner compares a row with the subscription to the same product and, for a formula
/// product, with the others of its family (S-8); subscriptions to other products are not
/// read (an import of one product to 100,000 members read every one they held).
fn wanted_products<'a>(facts: &Facts, rows: impl Iterator<Item = &'a Row>) -> Vec<String> {
    let named: BTreeSet<&str> = rows.filter_map(|r| r.product.as_deref()).collect();
    let families: Vec<&String> = facts
        .designators
        .iter()
        .filter(|d| named.iter().any(|p| in_formula_family(d, p)))
        .collect();
    facts
        .products
        .iter()
        .filter(|p| named.contains(p.as_str()) || families.iter().any(|d| in_formula_family(d, p)))
        .cloned()
        .collect()
}

/// The subscriptions of the contacts found to the wanted products.
async fn existing_subscriptions(
    conn: &impl ConnectionTrait,
    wanted: &[String],
    facts: &mut Facts,
) -> Result<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let mut holders: Vec<i64> = facts.contacts.keys().copied().collect();
    holders.sort_unstable();
    for chunk in holders.chunks(IN_CHUNK) {
        facts.existing.extend(
            s::Entity::find()
                .filter(in_ids(s::Column::ContactId, chunk))
                .filter(s::Column::Product.is_in(wanted.iter().cloned()))
                .all(conn)
                .await?,
        );
    }
    Ok(())
}

/// Whether each contact is an organization (`is_company`, from its customer type).
pub async fn company_flags(
    conn: &impl ConnectionTrait,
    contact_ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, bool>> {
    let org_types: BTreeSet<String> = ct::Entity::find()
        .select_only()
        .column(ct::Column::Code)
        .filter(ct::Column::IsOrganization.eq(true))
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let ids: BTreeSet<i64> = contact_ids.collect();
    let ids: Vec<i64> = ids.into_iter().collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        let found: Vec<(i64, String)> = c::Entity::find()
            .select_only()
            .column(c::Column::Id)
            .column(c::Column::CustomerType)
            .filter(in_ids(c::Column::Id, chunk))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(
            found
                .into_iter()
                .map(|(id, t)| (id, org_types.contains(&t))),
        );
    }
    Ok(out)
}
