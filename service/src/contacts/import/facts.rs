//! Loads what planning a contact import needs, in chunked queries whatever the row count:
//! the contacts the rows name or may match (by id, external reference, e-mail, or name at a
//! postal code), their tags, chapter products, and the flow-down of organization types.

use std::collections::{BTreeSet, HashMap, HashSet};

use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use entity::contact as c;
use entity::contact_tag as tag;

use crate::contacts::draft::sort_name;
use crate::contacts::email_key;
use crate::duplicates::postal_key;
use crate::error::Result;
use crate::flow_down::FlowDown;
use crate::import::Action;
use crate::sql::{IN_CHUNK, in_ids, in_values};

use super::input::{ADDRESS, ContactRow};

#[derive(Debug, Default)]
pub struct Facts {
    /// Every contact loaded, merged ones included (to name their survivor).
    pub contacts: HashMap<i64, c::Model>,
    pub by_external_ref: HashMap<String, i64>,
    /// Contacts by e-mail key, oldest first.
    pub by_email: HashMap<String, Vec<i64>>,
    /// Contacts by (sort name, postal key), oldest first.
    pub by_name_postal: HashMap<(String, String), Vec<i64>>,
    pub tags: HashMap<i64, Vec<String>>,
    pub products: HashSet<String>,
    pub flow_down: FlowDown,
}

/// The matching keys of rows.
#[derive(Default)]
struct Keys {
    ids: BTreeSet<i64>,
    refs: BTreeSet<String>,
    emails: BTreeSet<String>,
    names: BTreeSet<String>,
}

fn keys<'a>(action: Action, rows: impl Iterator<Item = &'a ContactRow>) -> Keys {
    let mut k = Keys::default();
    let matching = action == Action::InsertWithMatching;
    for r in rows {
        k.ids.extend(r.id);
        k.ids.extend(r.patch.company_id.flatten());
        k.refs.extend(r.patch.external_ref.clone().flatten());
        k.refs.extend(r.company_ref.clone());
        if matching {
            if let Some(Some(e)) = &r.patch.email {
                k.emails.insert(email_key(e));
            }
            if let Some(name) = row_sort_name(r) {
                k.names.insert(name);
            }
        }
    }
    k
}

/// The sort name a row's names give, when it gives any.
pub fn row_sort_name(r: &ContactRow) -> Option<String> {
    let p = &r.patch;
    let name = sort_name(
        p.first_name.clone().flatten().as_deref(),
        p.last_name.clone().flatten().as_deref(),
        p.organization_name.clone().flatten().as_deref(),
    );
    (!name.is_empty()).then_some(name)
}

/// The postal key a row gives, when it gives a postal code.
pub fn row_postal_key(r: &ContactRow) -> Option<String> {
    let i = ADDRESS.iter().position(|k| *k == "postal_code")?;
    r.address[i]
        .clone()
        .flatten()
        .map(|p| postal_key(&p))
        .filter(|k| !k.is_empty())
}

pub async fn load<'a>(
    conn: &impl ConnectionTrait,
    action: Action,
    rows: impl Iterator<Item = &'a ContactRow> + Clone,
) -> Result<Facts> {
    let k = keys(action, rows);
    let mut f = Facts {
        flow_down: FlowDown::load(conn).await?,
        products: crate::products::codes(conn).await?,
        ..Default::default()
    };
    let ids: Vec<i64> = k.ids.into_iter().collect();
    for chunk in ids.chunks(IN_CHUNK) {
        add(&mut f, fetch(conn, in_ids(c::Column::Id, chunk)).await?);
    }
    let refs: Vec<String> = k.refs.into_iter().collect();
    for chunk in refs.chunks(IN_CHUNK) {
        let cond = in_values(c::Column::ExternalRef, chunk.iter().cloned());
        add(&mut f, fetch(conn, cond).await?);
    }
    let emails: Vec<String> = k.emails.into_iter().collect();
    for chunk in emails.chunks(IN_CHUNK) {
        let cond = in_values(c::Column::EmailKey, chunk.iter().cloned())
            .and(c::Column::MergedInto.is_null());
        add(&mut f, fetch(conn, cond).await?);
    }
    let names: Vec<String> = k.names.into_iter().collect();
    for chunk in names.chunks(IN_CHUNK) {
        let cond = in_values(c::Column::SortName, chunk.iter().cloned())
            .and(c::Column::PostalCode.is_not_null())
            .and(c::Column::MergedInto.is_null());
        add(&mut f, fetch(conn, cond).await?);
    }
    index(&mut f);
    load_tags(conn, &mut f).await?;
    Ok(f)
}

async fn fetch(
    conn: &impl ConnectionTrait,
    cond: sea_orm::sea_query::SimpleExpr,
) -> Result<Vec<c::Model>> {
    Ok(c::Entity::find().filter(cond).all(conn).await?)
}

fn add(f: &mut Facts, rows: Vec<c::Model>) {
    for m in rows {
        f.contacts.insert(m.id, m);
    }
}

/// The matching maps over every loaded contact that is not merged.
fn index(f: &mut Facts) {
    let mut live: Vec<&c::Model> = f
        .contacts
        .values()
        .filter(|m| m.merged_into.is_none())
        .collect();
    live.sort_by_key(|m| m.id);
    for m in live {
        if let Some(x) = &m.external_ref {
            f.by_external_ref.insert(x.clone(), m.id);
        }
        if let Some(e) = &m.email_key {
            f.by_email.entry(e.clone()).or_default().push(m.id);
        }
        if let Some(pc) = m.postal_code.as_deref().map(postal_key)
            && !pc.is_empty()
            && !m.sort_name.is_empty()
        {
            f.by_name_postal
                .entry((m.sort_name.clone(), pc))
                .or_default()
                .push(m.id);
        }
    }
}

async fn load_tags(conn: &impl ConnectionTrait, f: &mut Facts) -> Result<()> {
    let ids: Vec<i64> = f.contacts.keys().copied().collect();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows = tag::Entity::find()
            .filter(in_ids(tag::Column::ContactId, chunk))
            .order_by_asc(tag::Column::Tag)
            .all(conn)
            .await?;
        for t in rows {
            f.tags.entry(t.contact_id).or_default().push(t.tag);
        }
    }
    Ok(())
}
