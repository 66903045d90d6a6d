//! Writes a batch of a planned contact import in the caller's transaction with multi-row
//! statements: new contacts, then changed contacts in one `UPDATE ... FROM` per chunk, then
//! tags, history of type and status changes (L-6), flow-down of changed organization types
//! (CT-6) and events.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryTrait, Set};
use serde_json::{Value, json};

use entity::contact as c;
use entity::contact_tag as tag;

use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::flow_down::FlowDown;
use crate::history;
use crate::sql::{Sql, in_ids, rows_per_statement};

use super::plan::{Planned, Record};

/// A planned row and its 0-based index in the file.
pub type Accepted = (usize, Planned);

/// Writes `accepted`; returns each row's contact id, in order.
pub async fn apply(
    conn: &impl ConnectionTrait,
    accepted: &[Accepted],
    flow_down: &FlowDown,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut ids: HashMap<usize, i64> = HashMap::with_capacity(accepted.len());
    insert(conn, accepted, &mut ids, now).await?;
    for (i, p) in accepted {
        if let Planned::Update { id, .. } = p {
            ids.insert(*i, *id);
        }
    }
    let updates = changed(accepted);
    update(conn, &updates, now).await?;
    write_tags(conn, accepted, &ids).await?;
    record_history(conn, &updates, flow_down, now).await?;
    emit_events(conn, accepted, &ids, &updates).await?;
    accepted
        .iter()
        .map(|(i, _)| {
            ids.get(i)
                .copied()
                .ok_or_else(|| Error::Internal(format!("no contact id for row {}", i + 1)))
        })
        .collect()
}

/// Inserts the new contacts.
async fn insert(
    conn: &impl ConnectionTrait,
    accepted: &[Accepted],
    ids: &mut HashMap<usize, i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let rows: Vec<(usize, c::ActiveModel)> = accepted
        .iter()
        .filter_map(|(i, p)| match p {
            Planned::Insert { record } => Some((*i, new_row((**record).clone(), now))),
            Planned::Update { .. } => None,
        })
        .collect();
    for chunk in rows.chunks(rows_per_statement(34)) {
        let mut stmt = c::Entity::insert_many(chunk.iter().map(|(_, m)| m.clone())).into_query();
        stmt.returning(Query::returning().column(c::Column::Id));
        let mut new_ids = Vec::with_capacity(chunk.len());
        for row in conn.query_all(&stmt).await? {
            new_ids.push(row.try_get_by_index::<i64>(0)?);
        }
        if new_ids.len() != chunk.len() {
            return Err(Error::Internal(
                "contact insert returned too few ids".into(),
            ));
        }
        // Ids are drawn in the order of the VALUES rows; RETURNING need not keep that order.
        new_ids.sort_unstable();
        for ((i, _), id) in chunk.iter().zip(new_ids) {
            ids.insert(*i, id);
        }
    }
    Ok(())
}

fn new_row(record: Record, now: DateTime<Utc>) -> c::ActiveModel {
    c::ActiveModel {
        join_date: Set(record.actions.join_date),
        paid_through: Set(None),
        renew_months: Set(record.actions.renew_months),
        primary_chapter: Set(record.actions.primary_chapter),
        merged_into: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..record.draft.into_columns()
    }
}

/// A contact whose record changes.
struct Change<'a> {
    id: i64,
    version: i32,
    before: &'a Record,
    after: &'a Record,
}

fn changed(accepted: &[Accepted]) -> Vec<Change<'_>> {
    accepted
        .iter()
        .filter_map(|(_, p)| match p {
            Planned::Update {
                id,
                version,
                before,
                after,
                ..
            } if before != after => Some(Change {
                id: *id,
                version: *version,
                before,
                after,
            }),
            _ => None,
        })
        .collect()
}

/// The columns an update writes, with their PostgreSQL types, in `values` order.
const UPDATED: [(&str, &str); 27] = [
    ("id", "bigint"),
    ("version", "integer"),
    ("customer_type", "text"),
    ("billing_category", "text"),
    ("status", "text"),
    ("first_name", "text"),
    ("last_name", "text"),
    ("organization_name", "text"),
    ("sort_name", "text"),
    ("email", "text"),
    ("email_key", "text"),
    ("phone", "text"),
    ("address_line1", "text"),
    ("address_line2", "text"),
    ("city", "text"),
    ("region", "text"),
    ("postal_code", "text"),
    ("country", "text"),
    ("company_id", "bigint"),
    ("external_ref", "text"),
    ("autopay", "boolean"),
    ("email_opt_in", "boolean"),
    ("mail_opt_in", "boolean"),
    ("ballot_preference", "text"),
    ("join_date", "date"),
    ("renew_months", "integer"),
    ("primary_chapter", "text"),
];

fn values(ch: &Change) -> Value {
    let (d, a) = (&ch.after.draft, &ch.after.actions);
    json!([
        ch.id,
        ch.version,
        d.customer_type,
        d.billing_category,
        d.status,
        d.first_name,
        d.last_name,
        d.organization_name,
        d.sort_name(),
        d.email,
        d.email.as_deref().map(crate::contacts::email_key),
        d.phone,
        d.address.line1,
        d.address.line2,
        d.address.city,
        d.address.region,
        d.address.postal_code,
        d.address.country,
        d.company_id,
        d.external_ref,
        d.autopay,
        d.email_opt_in,
        d.mail_opt_in,
        d.ballot_preference,
        a.join_date,
        a.renew_months,
        a.primary_chapter,
    ])
}

/// Writes the changed contacts, each only at the version planned against (409 otherwise).
async fn update(
    conn: &impl ConnectionTrait,
    changes: &[Change<'_>],
    now: DateTime<Utc>,
) -> Result<()> {
    for chunk in changes.chunks(5_000) {
        let rows: Vec<Value> = chunk.iter().map(values).collect();
        let mut q = Sql::new(conn.get_database_backend());
        q.push("UPDATE contacts SET ");
        for (col, _) in &UPDATED[2..] {
            q.push(&format!("{col} = v.{col}, "));
        }
        q.push("version = contacts.version + 1, updated_at = ")
            .bind(now)
            .push(" FROM ");
        q.json_rows(&rows, &UPDATED)?;
        q.push(" AS v WHERE contacts.id = v.id AND contacts.version = v.version");
        let res = conn.execute_raw(q.build()).await?;
        if res.rows_affected() != chunk.len() as u64 {
            return Err(Error::conflict(
                "a contact changed while this import ran; nothing was written, retry",
            ));
        }
    }
    Ok(())
}

/// Tags of new contacts, and of changed contacts whose tags change.
async fn write_tags(
    conn: &impl ConnectionTrait,
    accepted: &[Accepted],
    ids: &HashMap<usize, i64>,
) -> Result<()> {
    let mut replaced: Vec<i64> = Vec::new();
    let mut rows: Vec<(i64, String)> = Vec::new();
    for (i, p) in accepted {
        let Some(&id) = ids.get(i) else { continue };
        match p {
            Planned::Insert { record, .. } => {
                rows.extend(record.tags.iter().map(|t| (id, t.clone())));
            }
            Planned::Update { before, after, .. } if before.tags != after.tags => {
                replaced.push(id);
                rows.extend(after.tags.iter().map(|t| (id, t.clone())));
            }
            Planned::Update { .. } => {}
        }
    }
    for chunk in replaced.chunks(crate::sql::IN_CHUNK) {
        tag::Entity::delete_many()
            .filter(in_ids(tag::Column::ContactId, chunk))
            .exec(conn)
            .await?;
    }
    for chunk in rows.chunks(rows_per_statement(2)) {
        tag::Entity::insert_many(chunk.iter().map(|(id, t)| tag::ActiveModel {
            contact_id: Set(*id),
            tag: Set(t.clone()),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// L-6: type and status changes are history; CT-6: an organization's new type flows down.
async fn record_history(
    conn: &impl ConnectionTrait,
    changes: &[Change<'_>],
    flow_down: &FlowDown,
    now: DateTime<Utc>,
) -> Result<()> {
    let of = |field: fn(&Record) -> &str| -> Vec<(i64, &str, &str)> {
        changes
            .iter()
            .filter(|ch| field(ch.before) != field(ch.after))
            .map(|ch| (ch.id, field(ch.before), field(ch.after)))
            .collect()
    };
    let types = of(|r| &r.draft.customer_type);
    history::record_changes(conn, history::TYPE_CHANGE, &types, now).await?;
    history::record_changes(conn, history::STATUS_CHANGE, &of(|r| &r.draft.status), now).await?;
    for (id, _, to) in types {
        if flow_down.is_organization_type(to) {
            flow_down.apply_to_linked(conn, id, to, now).await?;
        }
    }
    Ok(())
}

/// The names of the fields that differ between two records.
fn changed_fields(before: &Record, after: &Record) -> Vec<&'static str> {
    let (b, a) = (&before.draft, &after.draft);
    let mut out = Vec::new();
    let mut add = |name: &'static str, differs: bool| {
        if differs {
            out.push(name);
        }
    };
    add("customer_type", b.customer_type != a.customer_type);
    add("billing_category", b.billing_category != a.billing_category);
    add("status", b.status != a.status);
    add("first_name", b.first_name != a.first_name);
    add("last_name", b.last_name != a.last_name);
    add(
        "organization_name",
        b.organization_name != a.organization_name,
    );
    add("email", b.email != a.email);
    add("phone", b.phone != a.phone);
    add("address", b.address != a.address);
    add("company_id", b.company_id != a.company_id);
    add("external_ref", b.external_ref != a.external_ref);
    add("tags", before.tags != after.tags);
    add("autopay", b.autopay != a.autopay);
    add("email_opt_in", b.email_opt_in != a.email_opt_in);
    add("mail_opt_in", b.mail_opt_in != a.mail_opt_in);
    add(
        "ballot_preference",
        b.ballot_preference != a.ballot_preference,
    );
    let (ba, aa) = (&before.actions, &after.actions);
    add("join_date", ba.join_date != aa.join_date);
    add("renew_months", ba.renew_months != aa.renew_months);
    add("primary_chapter", ba.primary_chapter != aa.primary_chapter);
    out
}

async fn emit_events(
    conn: &impl ConnectionTrait,
    accepted: &[Accepted],
    ids: &HashMap<usize, i64>,
    changes: &[Change<'_>],
) -> Result<()> {
    let created = accepted.iter().filter_map(|(i, p)| match p {
        Planned::Insert { record, .. } => ids.get(i).map(|&id| {
            Event::contact(
                events::CONTACT_CREATED,
                id,
                json!({
                    "customer_type": record.draft.customer_type,
                    "status": record.draft.status,
                    "source": "import",
                }),
            )
        }),
        Planned::Update { .. } => None,
    });
    let updated = changes.iter().map(|ch| {
        Event::contact(
            events::CONTACT_UPDATED,
            ch.id,
            json!({ "changed": changed_fields(ch.before, ch.after), "source": "import" }),
        )
    });
    events::emit(conn, created.chain(updated).collect::<Vec<_>>()).await
}
