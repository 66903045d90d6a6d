//! C-1..C-6: contacts (persons and organizations), their links and profile updates.

pub mod draft;
pub mod import;
pub mod merge;

use std::collections::{HashMap, HashSet};

use serde_json::json;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    JoinType, QueryFilter, QueryOrder, QueryResult, QuerySelect, RelationTrait, Set,
};

use entity::contact as c;
use entity::contact_tag as tag;
use entity::customer_type as ct;

use crate::access::{self, Actor};
use crate::contact_filter;
pub use crate::contact_filter::ContactFilter;
use crate::contact_statuses::DEFAULT_STATUS;
use crate::customer_types::{self, CustomerType};
use crate::error::{Error, Errors, Result, check_version};
use crate::events::{self, Event};
use crate::flow_down::FlowDown;
use crate::page::{self, Page, PageRequest};
use crate::{clock, db::Db, history, tags};

use draft::{Draft, Reference, clean, clean_address};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewContact {
    pub customer_type: String,
    pub billing_category: Option<String>,
    pub status: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organization_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Address>,
    pub company_id: Option<i64>,
    pub external_ref: Option<String>,
    pub tags: Vec<String>,
    pub autopay: Option<bool>,
    pub email_opt_in: Option<bool>,
    pub mail_opt_in: Option<bool>,
    pub ballot_preference: Option<String>,
    /// Fields the request tried to set that are not the contact's to set (C-2, C-5).
    pub attempted_locked: Vec<String>,
}

/// Absent fields stay; `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct ContactPatch {
    pub customer_type: Option<String>,
    pub billing_category: Option<Option<String>>,
    pub status: Option<String>,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub organization_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub address: Option<Option<Address>>,
    pub company_id: Option<Option<i64>>,
    pub external_ref: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub autopay: Option<bool>,
    pub email_opt_in: Option<bool>,
    pub mail_opt_in: Option<bool>,
    pub ballot_preference: Option<Option<String>>,
    pub attempted_locked: Vec<String>,
}

/// C-6: the fields a member may change on their own record.
pub const MEMBER_EDITABLE: &[&str] = &[
    "first_name",
    "last_name",
    "organization_name",
    "email",
    "phone",
    "address",
    "email_opt_in",
    "mail_opt_in",
    "ballot_preference",
];

/// C-2: derived from the customer type, never stored on the contact.
pub const DERIVED_FIELDS: &[&str] = &["is_member", "is_organization"];

/// C-5: changed only by dedicated actions.
pub const ACTION_FIELDS: &[&str] = &[
    "join_date",
    "paid_through",
    "renew_months",
    "primary_chapter",
];

impl ContactPatch {
    /// Names of the fields this patch sets.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        macro_rules! has {
            ($($name:ident),*) => { $( if self.$name.is_some() { f.push(stringify!($name)); } )* };
        }
        has!(
            customer_type,
            billing_category,
            status,
            first_name,
            last_name,
            organization_name,
            email,
            phone,
            address,
            company_id,
            external_ref,
            tags,
            autopay,
            email_opt_in,
            mail_opt_in,
            ballot_preference
        );
        f
    }
}

/// A contact as read: the row, its tags and what its customer type says about it (C-2).
#[derive(Debug, Clone)]
pub struct ContactView {
    pub contact: c::Model,
    pub tags: Vec<String>,
    pub is_member: bool,
    pub is_organization: bool,
}

fn derived_error(field: &str, type_code: &str) -> Error {
    Error::invalid(
        field,
        format!(
            "{field} is not stored on a contact: it comes from the customer type (currently {type_code}); change customer_type instead"
        ),
    )
}

fn check_locked(attempted: &[String], type_code: &str) -> Result<()> {
    if let Some(f) = attempted
        .iter()
        .find(|f| DERIVED_FIELDS.contains(&f.as_str()))
    {
        return Err(derived_error(f, type_code));
    }
    let locked: Vec<String> = attempted
        .iter()
        .filter(|f| ACTION_FIELDS.contains(&f.as_str()))
        .cloned()
        .collect();
    if locked.is_empty() {
        return Ok(());
    }
    Err(Error::LockedFields {
        message: format!(
            "{} cannot be set by a profile update: join date and paid-through change by joining, renewal and payment, renew months by the renew-months action, the primary chapter by chapter subscriptions",
            locked.join(", ")
        ),
        fields: locked,
    })
}

pub fn display_name(first: Option<&str>, last: Option<&str>, org: Option<&str>) -> String {
    match org {
        Some(org) => org.to_owned(),
        None => [first, last]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The checks of C-1..C-4 on one record, and its external reference free (409 when another
/// contact has it). Returns the record's customer type.
async fn validate_draft(
    conn: &impl ConnectionTrait,
    d: &Draft,
    self_id: Option<i64>,
    errors: &mut Errors,
) -> Result<Option<CustomerType>> {
    let reference = Reference::load(conn, std::iter::once(d)).await?;
    let ty = draft::check(d, self_id, &reference, errors).cloned();
    check_external_ref_is_free(conn, d, self_id).await?;
    Ok(ty)
}

/// An external reference names one contact (409 when another has it).
async fn check_external_ref_is_free(
    conn: &impl ConnectionTrait,
    d: &Draft,
    self_id: Option<i64>,
) -> Result<()> {
    let Some(r) = &d.external_ref else {
        return Ok(());
    };
    let mut q = c::Entity::find().filter(c::Column::ExternalRef.eq(r.as_str()));
    if let Some(id) = self_id {
        q = q.filter(c::Column::Id.ne(id));
    }
    match q.one(conn).await? {
        Some(other) => Err(Error::conflict(format!(
            "external_ref {r} is already used by contact {}",
            other.id
        ))),
        None => Ok(()),
    }
}

pub async fn create(db: &Db, new: NewContact) -> Result<ContactView> {
    let txn = db.write().await?;
    let view = create_in(&txn, new).await?;
    txn.commit().await?;
    Ok(view)
}

/// Creates a contact inside the caller's transaction.
pub async fn create_in(txn: &impl ConnectionTrait, new: NewContact) -> Result<ContactView> {
    check_locked(&new.attempted_locked, &new.customer_type)?;
    let mut errors = Errors::new();
    let tags = tags::normalize(&mut errors, &new.tags);
    let address = new.address.unwrap_or_default();
    let mut draft = Draft {
        customer_type: new.customer_type.trim().to_owned(),
        billing_category: clean(new.billing_category),
        status: clean(new.status).unwrap_or_else(|| DEFAULT_STATUS.to_owned()),
        first_name: clean(new.first_name),
        last_name: clean(new.last_name),
        organization_name: clean(new.organization_name),
        email: clean(new.email),
        phone: clean(new.phone),
        address: clean_address(address),
        company_id: new.company_id,
        external_ref: clean(new.external_ref),
        autopay: new.autopay.unwrap_or(false),
        email_opt_in: new.email_opt_in.unwrap_or(true),
        mail_opt_in: new.mail_opt_in.unwrap_or(true),
        ballot_preference: clean(new.ballot_preference),
    };
    let ty = validate_draft(txn, &draft, None, &mut errors).await?;
    errors.into_result()?;
    // CT-6: a follower linked at creation takes the organization's flow-down type.
    if let (Some(company), Some(ty)) = (draft.company_id, &ty)
        && !ty.is_organization
    {
        let fd = FlowDown::load(txn).await?;
        let org_type = org_type_of(txn, company).await?;
        if let Some(t) = fd.linked_type(&draft.customer_type, org_type.as_deref()) {
            draft.customer_type = t;
        }
    }
    let now = clock::now();
    let model = c::ActiveModel {
        join_date: Set(None),
        paid_through: Set(None),
        renew_months: Set(None),
        primary_chapter: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..draft.into_columns()
    }
    .insert(txn)
    .await?;
    write_tags(txn, model.id, &tags).await?;
    let view = get_view(txn, model.id).await?;
    events::emit(
        txn,
        vec![Event::contact(
            events::CONTACT_CREATED,
            model.id,
            json!({
                "customer_type": view.contact.customer_type,
                "status": view.contact.status,
            }),
        )],
    )
    .await?;
    Ok(view)
}

async fn org_type_of(conn: &impl ConnectionTrait, org_id: i64) -> Result<Option<String>> {
    Ok(find(conn, org_id).await?.map(|o| o.customer_type))
}

async fn write_tags(conn: &impl ConnectionTrait, contact_id: i64, tags: &[String]) -> Result<()> {
    tag::Entity::delete_many()
        .filter(tag::Column::ContactId.eq(contact_id))
        .exec(conn)
        .await?;
    if !tags.is_empty() {
        let rows = tags.iter().map(|t| tag::ActiveModel {
            contact_id: Set(contact_id),
            tag: Set(t.clone()),
        });
        tag::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

/// C-5, C-6: a profile update. Staff may change profile and classification fields; a member
/// only the profile fields of their own record.
pub async fn update(
    db: &Db,
    actor: Actor,
    id: i64,
    patch: ContactPatch,
    expected_version: Option<i32>,
) -> Result<ContactView> {
    let txn = db.write().await?;
    let current = visible(&txn, actor, id).await?;
    check_version(expected_version, current.version)?;
    check_locked(&patch.attempted_locked, &current.customer_type)?;
    check_member_may_change(actor, &patch)?;
    let mut errors = Errors::new();
    let tags = patch.tags.as_ref().map(|t| tags::normalize(&mut errors, t));
    let mut draft = Draft::patched(&current, &patch);
    let type_changed = check_type_change(&txn, &current, &draft, &mut errors).await?;
    let ty = validate_draft(&txn, &draft, Some(id), &mut errors).await?;
    errors.into_result()?;
    let ty = ty.ok_or_else(|| Error::Internal("customer type vanished".into()))?;
    let fd = FlowDown::load(&txn).await?;
    if !type_changed {
        follow_new_organization(&txn, &fd, &ty, &current, &mut draft).await?;
    }
    let now = clock::now();
    let (new_type, new_status) = (draft.customer_type.clone(), draft.status.clone());
    write_update(&txn, &current, draft, now).await?;
    record_type_change(&txn, &fd, &ty, &current, &new_type, now).await?;
    record_status_change(&txn, &current, &new_status, now).await?;
    if let Some(tags) = tags {
        write_tags(&txn, id, &tags).await?;
    }
    let view = get_view(&txn, id).await?;
    let changed = json!({ "changed": patch.fields() });
    events::emit(
        &txn,
        vec![Event::contact(events::CONTACT_UPDATED, id, changed)],
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// C-6: a member changes only the profile fields of their record.
fn check_member_may_change(actor: Actor, patch: &ContactPatch) -> Result<()> {
    if let Actor::Staff = actor {
        return Ok(());
    }
    let not_allowed: Vec<String> = patch
        .fields()
        .into_iter()
        .filter(|f| !MEMBER_EDITABLE.contains(f))
        .map(str::to_owned)
        .collect();
    if not_allowed.is_empty() {
        return Ok(());
    }
    Err(Error::Forbidden {
        message: format!(
            "members may change only their profile ({}); {} can be changed by staff",
            MEMBER_EDITABLE.join(", "),
            not_allowed.join(", ")
        ),
        fields: not_allowed,
    })
}

/// C-5: a member's customer type changes only by action; non-member types may be
/// reclassified among themselves, keeping the record kind. Whether the type changes.
async fn check_type_change(
    conn: &impl ConnectionTrait,
    current: &c::Model,
    draft: &Draft,
    errors: &mut Errors,
) -> Result<bool> {
    if draft.customer_type == current.customer_type {
        return Ok(false);
    }
    let old = customer_types::get(conn, &current.customer_type).await?;
    match customer_types::find(conn, &draft.customer_type).await? {
        None => errors.add(
            "customer_type",
            format!("customer type {} does not exist", draft.customer_type),
        ),
        Some(new) => {
            if old.is_member || new.is_member {
                return Err(Error::LockedFields {
                    fields: vec!["customer_type".into()],
                    message: format!(
                        "a member's customer type changes only by joining, renewal, expiry, mass change or flow-down (from {} to {})",
                        old.code, new.code
                    ),
                });
            }
            if old.is_organization != new.is_organization {
                errors.add("customer_type", format!("customer type {} is of another record kind (person vs organization) than {}", new.code, old.code));
            }
        }
    }
    Ok(true)
}

/// CT-6: a follower linked or unlinked takes the new organization's flow-down type.
async fn follow_new_organization(
    conn: &impl ConnectionTrait,
    fd: &FlowDown,
    ty: &CustomerType,
    current: &c::Model,
    draft: &mut Draft,
) -> Result<()> {
    if ty.is_organization || draft.company_id == current.company_id {
        return Ok(());
    }
    let org_type = match draft.company_id {
        Some(org) => org_type_of(conn, org).await?,
        None => None,
    };
    if let Some(t) = fd.linked_type(&draft.customer_type, org_type.as_deref()) {
        draft.customer_type = t;
    }
    Ok(())
}

/// Writes the draft over the version that was read (412 if another write came first).
async fn write_update(
    conn: &impl ConnectionTrait,
    current: &c::Model,
    draft: Draft,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let res = c::Entity::update_many()
        .set(c::ActiveModel {
            version: Set(current.version + 1),
            updated_at: Set(now),
            ..draft.into_columns()
        })
        .filter(c::Column::Id.eq(current.id))
        .filter(c::Column::Version.eq(current.version))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    Ok(())
}

/// L-6: a new type is a line of history; an organization's type flows down to its linked
/// persons (CT-6).
async fn record_type_change(
    conn: &impl ConnectionTrait,
    fd: &FlowDown,
    ty: &CustomerType,
    current: &c::Model,
    new_type: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if new_type == current.customer_type {
        return Ok(());
    }
    let (from, id) = (&current.customer_type, current.id);
    history::record_change(conn, id, history::TYPE_CHANGE, from, new_type, now).await?;
    if ty.is_organization {
        fd.apply_to_linked(conn, id, new_type, now).await?;
    }
    Ok(())
}

/// L-6: a new status is a line of history.
async fn record_status_change(
    conn: &impl ConnectionTrait,
    current: &c::Model,
    new_status: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if new_status == current.status {
        return Ok(());
    }
    let (from, id) = (&current.status, current.id);
    history::record_change(conn, id, history::STATUS_CHANGE, from, new_status, now).await?;
    Ok(())
}

/// The contact `id`, whatever who asks: the one finder of a contact's row. A contact merged
/// into another (MG-2) is not found.
pub async fn find(conn: &impl ConnectionTrait, id: i64) -> Result<Option<c::Model>> {
    Ok(c::Entity::find_by_id(id)
        .filter(c::Column::MergedInto.is_null())
        .one(conn)
        .await?)
}

/// The contact `id`, or "not found" (naming the survivor of a merge, MG-2).
pub async fn require(conn: &impl ConnectionTrait, id: i64) -> Result<c::Model> {
    match c::Entity::find_by_id(id).one(conn).await? {
        Some(m) => match m.merged_into {
            Some(into) => Err(Error::Merged { id, into }),
            None => Ok(m),
        },
        None => Err(Error::not_found("contact", id)),
    }
}

/// SEC-1: the contact `id` if the actor may see it.
async fn visible(conn: &impl ConnectionTrait, actor: Actor, id: i64) -> Result<c::Model> {
    access::check(actor, "contact", id, &[id])?;
    require(conn, id).await
}

/// One contact with its type flags and tags in a single statement: the busiest read of
/// the API, where three round trips cost more than the work.
pub async fn get(conn: &impl ConnectionTrait, actor: Actor, id: i64) -> Result<ContactView> {
    access::check(actor, "contact", id, &[id])?;
    let tags = match conn.get_database_backend() {
        DbBackend::Postgres => "string_agg(tag, ' ')",
        _ => "group_concat(tag, ' ')",
    };
    c::Entity::find_by_id(id)
        .column_as(
            Expr::cust(
                "(SELECT is_member FROM customer_types WHERE code = contacts.customer_type)",
            ),
            "type_is_member",
        )
        .column_as(
            Expr::cust(
                "(SELECT is_organization FROM customer_types WHERE code = contacts.customer_type)",
            ),
            "type_is_organization",
        )
        .column_as(
            Expr::cust(format!(
                "(SELECT {tags} FROM contact_tags WHERE contact_id = contacts.id)"
            )),
            "tag_list",
        )
        .into_model::<ContactView>()
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("contact", id))
        .and_then(|v| match v.contact.merged_into {
            Some(into) => Err(Error::Merged { id, into }),
            None => Ok(v),
        })
}

impl FromQueryResult for ContactView {
    fn from_query_result(row: &QueryResult, pre: &str) -> std::result::Result<Self, DbErr> {
        // Tags cannot hold spaces (`tags::is_valid`), so a space separates them.
        let mut tags: Vec<String> = row
            .try_get::<Option<String>>(pre, "tag_list")?
            .map(|l| l.split(' ').map(str::to_owned).collect())
            .unwrap_or_default();
        tags.sort();
        Ok(ContactView {
            tags,
            is_member: row
                .try_get::<Option<bool>>(pre, "type_is_member")?
                .unwrap_or(false),
            is_organization: row
                .try_get::<Option<bool>>(pre, "type_is_organization")?
                .unwrap_or(false),
            contact: c::Model::from_query_result(row, pre)?,
        })
    }
}

async fn get_view(conn: &impl ConnectionTrait, id: i64) -> Result<ContactView> {
    get(conn, Actor::Staff, id).await
}

/// Adds tags and type flags to a page of rows: two queries, whatever the page size.
async fn views(conn: &impl ConnectionTrait, rows: Vec<c::Model>) -> Result<Vec<ContactView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let type_codes: HashSet<String> = rows.iter().map(|r| r.customer_type.clone()).collect();
    // Only the two flags: decoding whole customer types cost more than the query.
    let types: HashMap<String, (bool, bool)> = ct::Entity::find()
        .select_only()
        .columns([
            ct::Column::Code,
            ct::Column::IsMember,
            ct::Column::IsOrganization,
        ])
        .filter(ct::Column::Code.is_in(type_codes))
        .into_tuple::<(String, bool, bool)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(code, member, organization)| (code, (member, organization)))
        .collect();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    if !ids.is_empty() {
        for t in tag::Entity::find()
            .filter(tag::Column::ContactId.is_in(ids))
            .order_by_asc(tag::Column::ContactId)
            .order_by_asc(tag::Column::Tag)
            .all(conn)
            .await?
        {
            tags.entry(t.contact_id).or_default().push(t.tag);
        }
    }
    Ok(rows
        .into_iter()
        .map(|m| {
            let ty = types.get(&m.customer_type);
            ContactView {
                tags: tags.remove(&m.id).unwrap_or_default(),
                is_member: ty.is_some_and(|t| t.0),
                is_organization: ty.is_some_and(|t| t.1),
                contact: m,
            }
        })
        .collect())
}

pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &ContactFilter,
    req: &PageRequest,
) -> Result<Page<ContactView>> {
    let limit = req.limit()?;
    // A tag filter walks the (tag, contact) index in id order and stops at the page's end;
    // as an `IN (..)` list it read every contact with the tag first, whatever the page.
    let (query, id, mut cond) = match filter.tag.as_deref() {
        Some(t) => {
            let rest = ContactFilter {
                tag: None,
                ..filter.clone()
            };
            (
                c::Entity::find().join(JoinType::InnerJoin, tag::Relation::Contact.def().rev()),
                Expr::col((tag::Entity, tag::Column::ContactId)),
                contact_filter::condition(conn, &rest)
                    .await?
                    .add(tag::Column::Tag.eq(tags::key(t))),
            )
        }
        None => (
            c::Entity::find(),
            Expr::col((c::Entity, c::Column::Id)),
            contact_filter::condition(conn, filter).await?,
        ),
    };
    if let Some(after) = req.after_id()? {
        cond = cond.add(id.clone().gt(after));
    }
    let rows = query
        .filter(cond)
        .order_by_asc(id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let page = page::build(rows, limit, |r| r.id.to_string());
    Ok(Page {
        items: views(conn, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use draft::sort_name;

    #[test]
    fn c2_is_member_and_is_organization_are_rejected_naming_the_type() {
        let err = check_locked(&["is_member".into()], "NM").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("customer type (currently NM)"), "{text}");
    }

    #[test]
    fn c5_action_fields_are_locked() {
        match check_locked(&["paid_through".into(), "join_date".into()], "M") {
            Err(Error::LockedFields { fields, .. }) => {
                assert_eq!(fields, vec!["paid_through", "join_date"])
            }
            other => panic!("{other:?}"),
        }
        assert!(check_locked(&[], "M").is_ok());
    }

    #[test]
    fn sort_name_is_lower_case_last_first() {
        assert_eq!(sort_name(Some("Ann"), Some("Lee"), None), "lee, ann");
        assert_eq!(sort_name(None, None, Some("St. Mary's")), "st. mary's");
    }
}
