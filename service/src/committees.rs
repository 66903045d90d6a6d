//! C-8: committees (the board, committees, task forces) and the terms their members serve in
//! a position. A committee's roster is the terms that cover a date; a contact's service is
//! every term they served or serve. Staff manage all; a member reads their own service.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Set,
};
use serde::Serialize;

use entity::committee as cm;
use entity::committee_member as m;
use entity::contact as c;
pub use entity::words::CommitteeKind;

use crate::access::{self, Actor};
use crate::contacts::display_name;
use crate::error::{Error, Errors, Result, check_version};
use crate::events::{self, Event};
use crate::page::{self, Page, PageRequest};
use crate::{clock, db::Db, sql};

/// A committee as stored.
pub type Committee = cm::Model;

const NAME_MAX: usize = 100;
const DESCRIPTION_MAX: usize = 500;
const POSITION_MAX: usize = 60;

#[derive(Debug, Clone, Default)]
pub struct NewCommittee {
    pub name: String,
    /// Default `committee`.
    pub kind: Option<CommitteeKind>,
    pub description: Option<String>,
    /// Default `true`.
    pub active: Option<bool>,
}

/// The fields a PATCH changes; `description: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct CommitteePatch {
    pub name: Option<String>,
    pub kind: Option<CommitteeKind>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

/// One term of a contact on a committee, with the names a reader wants beside the ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub id: i64,
    pub committee_id: i64,
    pub committee_name: String,
    pub contact_id: i64,
    pub contact_name: String,
    pub position: String,
    pub begin: NaiveDate,
    pub end: Option<NaiveDate>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Term {
    /// Whether the term covers `date`: begun on or before it, not ended before it.
    pub fn covers(&self, date: NaiveDate) -> bool {
        covers(self.begin, self.end, date)
    }
}

fn covers(begin: NaiveDate, end: Option<NaiveDate>, date: NaiveDate) -> bool {
    begin <= date && end.is_none_or(|e| e >= date)
}

#[derive(Debug, Clone)]
pub struct NewTerm {
    pub contact_id: i64,
    pub position: String,
    /// Required; `None` is refused naming the field.
    pub begin: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

/// The fields a PATCH changes; `end: Some(None)` makes the term open-ended again.
#[derive(Debug, Clone, Default)]
pub struct TermPatch {
    pub position: Option<String>,
    pub begin: Option<NaiveDate>,
    pub end: Option<Option<NaiveDate>>,
}

/// Which terms of a committee a roster lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roster {
    /// The terms that cover the date.
    AsOf(NaiveDate),
    /// Every term, past, current and future.
    All,
}

/// Which terms of a contact a service list shows, judged on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    All,
    Current(NaiveDate),
    Past(NaiveDate),
}

// ---- committees ----------------------------------------------------------------------------

fn validate_name(name: &str, errors: &mut Errors) {
    let n = name.trim().chars().count();
    if n == 0 || n > NAME_MAX {
        errors.add("name", format!("must be 1 to {NAME_MAX} characters"));
    }
}

fn validate_description(description: Option<&str>, errors: &mut Errors) {
    if description.is_some_and(|d| d.chars().count() > DESCRIPTION_MAX) {
        errors.add(
            "description",
            format!("must be at most {DESCRIPTION_MAX} characters"),
        );
    }
}

/// The unique index on the lower-cased name decides; the message names the name.
fn name_taken(e: sea_orm::DbErr, name: &str) -> Error {
    match Error::from(e) {
        Error::Conflict { .. } => {
            Error::conflict(format!("a committee named {:?} exists", name.trim()))
        }
        other => other,
    }
}

pub async fn create(db: &Db, input: NewCommittee) -> Result<Committee> {
    let mut errors = Errors::new();
    validate_name(&input.name, &mut errors);
    validate_description(input.description.as_deref(), &mut errors);
    errors.into_result()?;
    let txn = db.write().await?;
    let now = clock::now();
    let saved = cm::ActiveModel {
        name: Set(input.name.trim().to_owned()),
        kind: Set(input.kind.unwrap_or(CommitteeKind::Committee)),
        description: Set(input.description),
        active: Set(input.active.unwrap_or(true)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| name_taken(e, &input.name))?;
    txn.commit().await?;
    Ok(saved)
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Committee> {
    cm::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("committee", id))
}

/// Committees by id; `active` narrows to active or inactive ones.
pub async fn list(
    conn: &impl ConnectionTrait,
    active: Option<bool>,
    req: &PageRequest,
) -> Result<Page<Committee>> {
    let limit = req.limit()?;
    let mut q = cm::Entity::find()
        .order_by_asc(cm::Column::Id)
        .limit(limit + 1);
    if let Some(after) = req.after_id()? {
        q = q.filter(cm::Column::Id.gt(after));
    }
    if let Some(active) = active {
        q = q.filter(cm::Column::Active.eq(active));
    }
    Ok(page::build(q.all(conn).await?, limit, |r| r.id.to_string()))
}

/// Changes the fields given. `expected_version` from `If-Match`.
pub async fn update(
    db: &Db,
    id: i64,
    patch: CommitteePatch,
    expected_version: Option<i32>,
) -> Result<Committee> {
    let mut errors = Errors::new();
    if let Some(name) = &patch.name {
        validate_name(name, &mut errors);
    }
    validate_description(
        patch.description.as_ref().and_then(Option::as_deref),
        &mut errors,
    );
    let txn = db.write().await?;
    let current = get(&txn, id).await?;
    errors.into_result()?;
    check_version(expected_version, current.version)?;
    let name = patch.name.map(|n| n.trim().to_owned());
    let res = cm::Entity::update_many()
        .set(cm::ActiveModel {
            name: name.clone().map_or(sea_orm::NotSet, Set),
            kind: patch.kind.map_or(sea_orm::NotSet, Set),
            description: patch.description.map_or(sea_orm::NotSet, Set),
            active: patch.active.map_or(sea_orm::NotSet, Set),
            version: Set(current.version + 1),
            updated_at: Set(clock::now()),
            ..Default::default()
        })
        .filter(cm::Column::Id.eq(id))
        .filter(cm::Column::Version.eq(current.version))
        .exec(&txn)
        .await
        .map_err(|e| name_taken(e, name.as_deref().unwrap_or(&current.name)))?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    let saved = get(&txn, id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Deletes a committee that never had members; one with terms, even past ones, keeps its
/// history and is refused (409): set `active` to false instead.
pub async fn delete(db: &Db, id: i64, expected_version: Option<i32>) -> Result<()> {
    let txn = db.write().await?;
    let current = get(&txn, id).await?;
    check_version(expected_version, current.version)?;
    let terms = m::Entity::find()
        .filter(m::Column::CommitteeId.eq(id))
        .count(&txn)
        .await?;
    if terms > 0 {
        return Err(Error::conflict(format!(
            "committee {id} has {terms} member record(s); deactivate it (active: false) to keep its history, or delete the records first"
        )));
    }
    cm::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

// ---- terms ---------------------------------------------------------------------------------

fn validate_position(position: &str, errors: &mut Errors) {
    let n = position.trim().chars().count();
    if n == 0 || n > POSITION_MAX {
        errors.add(
            "position",
            format!("must be 1 to {POSITION_MAX} characters (e.g. chair, member)"),
        );
    }
}

fn validate_span(begin: NaiveDate, end: Option<NaiveDate>, errors: &mut Errors) {
    if end.is_some_and(|e| e < begin) {
        errors.add("end", format!("must not be before begin ({begin})"));
    }
}

async fn validate_contact(conn: &impl ConnectionTrait, id: i64, errors: &mut Errors) -> Result<()> {
    if c::Entity::find_by_id(id).count(conn).await? == 0 {
        errors.add("contact_id", format!("contact {id} does not exist"));
    }
    Ok(())
}

/// One seat per person per committee at a time: a term of the same contact on the same
/// committee that overlaps `[begin, end]` is a conflict (end the earlier term first).
async fn refuse_overlap(
    conn: &impl ConnectionTrait,
    committee_id: i64,
    contact_id: i64,
    (begin, end): (NaiveDate, Option<NaiveDate>),
    except: Option<i64>,
) -> Result<()> {
    let mut q = m::Entity::find()
        .filter(m::Column::CommitteeId.eq(committee_id))
        .filter(m::Column::ContactId.eq(contact_id))
        .filter(
            Condition::any()
                .add(m::Column::EndDate.is_null())
                .add(m::Column::EndDate.gte(begin)),
        );
    if let Some(end) = end {
        q = q.filter(m::Column::BeginDate.lte(end));
    }
    if let Some(id) = except {
        q = q.filter(m::Column::Id.ne(id));
    }
    match q.order_by_asc(m::Column::Id).one(conn).await? {
        Some(other) => Err(Error::conflict(format!(
            "contact {contact_id} already serves on committee {committee_id} as {} from {} to {} (member record {}): end that term first",
            other.position,
            other.begin_date,
            other.end_date.map_or("open".to_owned(), |d| d.to_string()),
            other.id
        ))),
        None => Ok(()),
    }
}

/// Adds a contact's term on a committee (404 for an unknown committee).
pub async fn add_member(db: &Db, committee_id: i64, input: NewTerm) -> Result<Term> {
    let mut errors = Errors::new();
    validate_position(&input.position, &mut errors);
    match input.begin {
        Some(begin) => validate_span(begin, input.end, &mut errors),
        None => errors.add("begin", "is required"),
    }
    let txn = db.write().await?;
    get(&txn, committee_id).await?;
    validate_contact(&txn, input.contact_id, &mut errors).await?;
    errors.into_result()?;
    let begin = input
        .begin
        .ok_or_else(|| Error::invalid("begin", "is required"))?;
    refuse_overlap(
        &txn,
        committee_id,
        input.contact_id,
        (begin, input.end),
        None,
    )
    .await?;
    let now = clock::now();
    let saved = m::ActiveModel {
        committee_id: Set(committee_id),
        contact_id: Set(input.contact_id),
        position: Set(input.position.trim().to_owned()),
        begin_date: Set(begin),
        end_date: Set(input.end),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    events::emit(&txn, [changed(&saved, "created")]).await?;
    let term = with_names(&txn, vec![saved]).await?.into_iter().next();
    txn.commit().await?;
    term.ok_or_else(|| Error::Internal("the new member record has no committee".into()))
}

/// A term of a committee; 404 when the committee or the record is unknown, or the record
/// belongs to another committee.
pub async fn get_member(conn: &impl ConnectionTrait, committee_id: i64, id: i64) -> Result<Term> {
    let row = stored_member(conn, committee_id, id).await?;
    with_names(conn, vec![row])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("committee member", id))
}

async fn stored_member(
    conn: &impl ConnectionTrait,
    committee_id: i64,
    id: i64,
) -> Result<m::Model> {
    get(conn, committee_id).await?;
    m::Entity::find_by_id(id)
        .filter(m::Column::CommitteeId.eq(committee_id))
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("committee member", id))
}

/// Changes a term's position or dates (e.g. `end` when someone steps down). `If-Match`.
pub async fn update_member(
    db: &Db,
    committee_id: i64,
    id: i64,
    patch: TermPatch,
    expected_version: Option<i32>,
) -> Result<Term> {
    let txn = db.write().await?;
    let current = stored_member(&txn, committee_id, id).await?;
    let begin = patch.begin.unwrap_or(current.begin_date);
    let end = patch.end.unwrap_or(current.end_date);
    let mut errors = Errors::new();
    if let Some(p) = &patch.position {
        validate_position(p, &mut errors);
    }
    validate_span(begin, end, &mut errors);
    errors.into_result()?;
    check_version(expected_version, current.version)?;
    refuse_overlap(
        &txn,
        committee_id,
        current.contact_id,
        (begin, end),
        Some(id),
    )
    .await?;
    let res = m::Entity::update_many()
        .set(m::ActiveModel {
            position: patch
                .position
                .map_or(sea_orm::NotSet, |p| Set(p.trim().to_owned())),
            begin_date: Set(begin),
            end_date: Set(end),
            version: Set(current.version + 1),
            updated_at: Set(clock::now()),
            ..Default::default()
        })
        .filter(m::Column::Id.eq(id))
        .filter(m::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    let saved = stored_member(&txn, committee_id, id).await?;
    events::emit(&txn, [changed(&saved, "updated")]).await?;
    let term = with_names(&txn, vec![saved]).await?.into_iter().next();
    txn.commit().await?;
    term.ok_or_else(|| Error::not_found("committee member", id))
}

/// Deletes a term entered by mistake (a term that ended is history: set its `end` instead).
pub async fn delete_member(
    db: &Db,
    committee_id: i64,
    id: i64,
    expected_version: Option<i32>,
) -> Result<()> {
    let txn = db.write().await?;
    let current = stored_member(&txn, committee_id, id).await?;
    check_version(expected_version, current.version)?;
    m::Entity::delete_by_id(id).exec(&txn).await?;
    events::emit(&txn, [changed(&current, "deleted")]).await?;
    txn.commit().await?;
    Ok(())
}

/// `committee_member.changed`'s data.
#[derive(Serialize)]
struct TermChange<'a> {
    committee_member_id: i64,
    committee_id: i64,
    contact_id: i64,
    position: &'a str,
    begin: NaiveDate,
    end: Option<NaiveDate>,
    change: &'a str,
}

/// `change` is `created`, `updated` or `deleted`; the subject is the record's path.
fn changed(row: &m::Model, change: &str) -> Event {
    let data = TermChange {
        committee_member_id: row.id,
        committee_id: row.committee_id,
        contact_id: row.contact_id,
        position: &row.position,
        begin: row.begin_date,
        end: row.end_date,
        change,
    };
    Event::new(
        events::COMMITTEE_MEMBER_CHANGED,
        &format!("committees/{}/members", row.committee_id),
        row.id,
        &data,
    )
}

// ---- lists ---------------------------------------------------------------------------------

/// A committee's roster (404 for an unknown committee), by record id.
pub async fn roster(
    conn: &impl ConnectionTrait,
    committee_id: i64,
    which: Roster,
    req: &PageRequest,
) -> Result<Page<Term>> {
    get(conn, committee_id).await?;
    let mut q = m::Entity::find().filter(m::Column::CommitteeId.eq(committee_id));
    if let Roster::AsOf(date) = which {
        q = q.filter(covering(date));
    }
    terms_page(conn, q, req).await
}

/// A contact's committee service, current and past, by record id. A member sees only their
/// own (another contact's is "not found", SEC-1).
pub async fn service_of(
    conn: &impl ConnectionTrait,
    actor: Actor,
    contact_id: i64,
    which: Service,
    req: &PageRequest,
) -> Result<Page<Term>> {
    access::check(actor, "contact", contact_id, &[contact_id])?;
    if c::Entity::find_by_id(contact_id).count(conn).await? == 0 {
        return Err(Error::not_found("contact", contact_id));
    }
    let mut q = m::Entity::find().filter(m::Column::ContactId.eq(contact_id));
    q = match which {
        Service::All => q,
        Service::Current(today) => q.filter(covering(today)),
        Service::Past(today) => q.filter(m::Column::EndDate.lt(today)),
    };
    terms_page(conn, q, req).await
}

/// Terms that cover `date`.
fn covering(date: NaiveDate) -> Condition {
    Condition::all().add(m::Column::BeginDate.lte(date)).add(
        Condition::any()
            .add(m::Column::EndDate.is_null())
            .add(m::Column::EndDate.gte(date)),
    )
}

async fn terms_page(
    conn: &impl ConnectionTrait,
    q: Select<m::Entity>,
    req: &PageRequest,
) -> Result<Page<Term>> {
    let limit = req.limit()?;
    let mut q = q.order_by_asc(m::Column::Id).limit(limit + 1);
    if let Some(after) = req.after_id()? {
        q = q.filter(m::Column::Id.gt(after));
    }
    let page = page::build(q.all(conn).await?, limit, |r| r.id.to_string());
    Ok(Page {
        items: with_names(conn, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

/// The rows with their committee's and contact's names: one query for each kind of name.
async fn with_names(conn: &impl ConnectionTrait, rows: Vec<m::Model>) -> Result<Vec<Term>> {
    let committee_ids = distinct(rows.iter().map(|r| r.committee_id));
    let contact_ids = distinct(rows.iter().map(|r| r.contact_id));
    let committees: HashMap<i64, String> = cm::Entity::find()
        .select_only()
        .column(cm::Column::Id)
        .column(cm::Column::Name)
        .filter(sql::in_ids(cm::Column::Id, &committee_ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let contacts: HashMap<i64, String> = c::Entity::find()
        .select_only()
        .column(c::Column::Id)
        .column(c::Column::FirstName)
        .column(c::Column::LastName)
        .column(c::Column::OrganizationName)
        .filter(sql::in_ids(c::Column::Id, &contact_ids))
        .into_tuple::<(i64, Option<String>, Option<String>, Option<String>)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, first, last, org)| {
            (
                id,
                display_name(first.as_deref(), last.as_deref(), org.as_deref()),
            )
        })
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| Term {
            committee_name: committees.get(&r.committee_id).cloned().unwrap_or_default(),
            contact_name: contacts.get(&r.contact_id).cloned().unwrap_or_default(),
            id: r.id,
            committee_id: r.committee_id,
            contact_id: r.contact_id,
            position: r.position,
            begin: r.begin_date,
            end: r.end_date,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut seen = HashSet::new();
    ids.filter(|id| seen.insert(*id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn c8_a_term_covers_its_first_and_last_day_and_open_terms_run_on() {
        let (b, e) = (d("2025-01-01"), Some(d("2025-12-31")));
        assert!(!covers(b, e, d("2024-12-31")));
        assert!(covers(b, e, d("2025-01-01")));
        assert!(covers(b, e, d("2025-12-31")));
        assert!(!covers(b, e, d("2026-01-01")));
        assert!(covers(b, None, d("2999-12-31")));
    }

    #[test]
    fn c8_a_term_may_not_end_before_it_begins() {
        let mut errors = Errors::new();
        validate_span(d("2025-01-02"), Some(d("2025-01-01")), &mut errors);
        let err = errors.into_result().unwrap_err();
        assert!(matches!(&err, Error::Validation(f) if f[0].field == "end"));
        let mut ok = Errors::new();
        validate_span(d("2025-01-01"), Some(d("2025-01-01")), &mut ok);
        assert!(ok.is_empty());
    }

    #[test]
    fn c8_names_are_the_organization_or_the_person() {
        assert_eq!(display_name(Some("Ana"), Some("Silva"), None), "Ana Silva");
        assert_eq!(
            display_name(None, None, Some("General Hospital")),
            "General Hospital"
        );
        assert_eq!(display_name(None, Some("Silva"), None), "Silva");
    }
}
