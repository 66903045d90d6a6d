//! P-3: pricing groups, named groups of contacts (a consortium, a hospital network) that
//! pricing rules can name. A group is a code-and-name list entry; its members are contacts.

use std::collections::{BTreeSet, HashSet};

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Set,
};

use entity::contact as c;
use entity::pricing_group_member as gm;

use crate::error::{Error, Result};
use crate::lookup::LookupTable;
use crate::page::{self, Page, PageRequest};
use crate::usage::uses;
use crate::{codes, db::Db};

/// Ids per statement; far below the bind-parameter limits of SQLite and PostgreSQL.
const CHUNK: usize = 2_000;

/// Most contact ids one request may add.
pub const MAX_ADD: usize = 10_000;

pub const TABLE: LookupTable = LookupTable {
    table: "pricing_groups",
    what: "pricing group",
    check_code: codes::check_pricing_group_code,
    uses: &[uses("pricing_rules", "pricing_group", "pricing rules")],
    protected: &[],
};

/// What adding members did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    /// Contacts that were not members before.
    pub added: u64,
    /// Contacts that were members already (left as they were).
    pub already_members: u64,
}

/// The group's member contact ids, ascending, a page at a time.
pub async fn members(
    conn: &impl ConnectionTrait,
    code: &str,
    req: &PageRequest,
) -> Result<Page<i64>> {
    let limit = req.limit()?;
    TABLE.get(conn, code).await?;
    let mut q = gm::Entity::find()
        .select_only()
        .column(gm::Column::ContactId)
        .filter(gm::Column::GroupCode.eq(code))
        .order_by_asc(gm::Column::ContactId)
        .limit(limit + 1);
    if let Some(after) = req.after_id()? {
        q = q.filter(gm::Column::ContactId.gt(after));
    }
    let ids = q.into_tuple::<i64>().all(conn).await?;
    Ok(page::build(ids, limit, |id| id.to_string()))
}

/// Adds contacts to the group in one transaction. Every id must name a contact (a 422 names
/// the unknown ones); contacts already in the group are fine and stay as they are.
pub async fn add_members(db: &Db, code: &str, contact_ids: &[i64]) -> Result<Added> {
    let wanted: BTreeSet<i64> = contact_ids.iter().copied().collect();
    if wanted.is_empty() {
        return Err(Error::invalid(
            "contact_ids",
            "give at least one contact id",
        ));
    }
    if wanted.len() > MAX_ADD {
        return Err(Error::invalid(
            "contact_ids",
            format!("at most {MAX_ADD} contact ids per request"),
        ));
    }
    let wanted: Vec<i64> = wanted.into_iter().collect();
    let txn = db.write().await?;
    TABLE.get(&txn, code).await?;
    let mut found: HashSet<i64> = HashSet::with_capacity(wanted.len());
    for chunk in wanted.chunks(CHUNK) {
        let ids = c::Entity::find()
            .select_only()
            .column(c::Column::Id)
            .filter(c::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple::<i64>()
            .all(&txn)
            .await?;
        found.extend(ids);
    }
    let missing: Vec<String> = wanted
        .iter()
        .filter(|id| !found.contains(id))
        .map(i64::to_string)
        .collect();
    if !missing.is_empty() {
        return Err(Error::invalid(
            "contact_ids",
            format!("unknown contact(s): {}", missing.join(", ")),
        ));
    }
    let mut added = 0;
    for chunk in wanted.chunks(CHUNK) {
        let rows = chunk.iter().map(|id| gm::ActiveModel {
            group_code: Set(code.to_owned()),
            contact_id: Set(*id),
        });
        let stmt = gm::Entity::insert_many(rows)
            .into_query()
            .on_conflict(
                OnConflict::columns([gm::Column::GroupCode, gm::Column::ContactId])
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        added += txn.execute(&stmt).await?.rows_affected();
    }
    txn.commit().await?;
    Ok(Added {
        added,
        already_members: wanted.len() as u64 - added,
    })
}

/// Takes a contact out of the group; 404 when the group or the membership does not exist.
pub async fn remove_member(db: &Db, code: &str, contact_id: i64) -> Result<()> {
    let txn = db.write().await?;
    TABLE.get(&txn, code).await?;
    let res = gm::Entity::delete_many()
        .filter(gm::Column::GroupCode.eq(code))
        .filter(gm::Column::ContactId.eq(contact_id))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::not_found(
            "pricing group member",
            format!("{contact_id} (group {code})"),
        ));
    }
    txn.commit().await?;
    Ok(())
}
