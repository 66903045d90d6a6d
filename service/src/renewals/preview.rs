//! JB-2: saved renewal previews. A dry run saves its bills for 24 hours (each with a
//! fingerprint: type, term, lines, payers and whether it is printed), page by page as it
//! plans them. Committing the preview runs the renewals for its contacts only, at its
//! effective date, once: the run reports the contacts whose bill changed since the preview
//! (billed as they are now) and those no longer due (billed by nobody).

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use entity::contact as c;
use entity::renewal_preview as p;
use entity::renewal_preview_bill as pb;

use crate::billing_cycles::Cycle;
use crate::error::{Error, Result};
use crate::page::{self, Page, PageRequest};
use crate::sql::rows_per_statement;

use super::build::Bill;

/// A saved preview as stored.
pub use entity::renewal_preview::Model as Preview;
/// A saved preview's bill as stored.
pub use entity::renewal_preview_bill::Model as PreviewBill;

/// How long a preview can be committed.
pub const KEPT_HOURS: i64 = 24;

/// Saves a new preview's header; sweeps the bills of previews that expired (their headers stay,
/// so that their ids answer 410).
pub async fn start(
    conn: &impl ConnectionTrait,
    cycle: &Cycle,
    effective: chrono::NaiveDate,
    created_by: i64,
    now: DateTime<Utc>,
) -> Result<i64> {
    let expired = Query::select()
        .column(p::Column::Id)
        .from(p::Entity)
        .and_where(Expr::col(p::Column::ExpiresAt).lt(now))
        .to_owned();
    pb::Entity::delete_many()
        .filter(pb::Column::PreviewId.in_subquery(expired))
        .exec(conn)
        .await?;
    let m = p::ActiveModel {
        cycle_id: Set(cycle.id),
        effective_date: Set(effective),
        autopay_option: Set(Some(cycle.fields.autopay_option)),
        created_by: Set(created_by),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(KEPT_HOURS)),
        considered: Set(0),
        billed: Set(0),
        skipped: Set(0),
        total_cents: Set(0),
        committed_run_id: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(m.id)
}

/// What a bill is, as a commit compares it with its preview.
pub fn fingerprint(bill: &Bill) -> String {
    serde_json::json!({
        "customer_type": bill.customer_type,
        "term": [bill.term.begin, bill.term.end],
        "lines": bill.lines,
        "payers": bill.payers,
        "printed": bill.printed,
    })
    .to_string()
}

/// Saves a planned page of the preview: its bills, and its counts.
pub async fn record_page(
    conn: &impl ConnectionTrait,
    preview: i64,
    considered: usize,
    bills: &[Bill],
    skipped: usize,
) -> Result<()> {
    let rows: Vec<pb::ActiveModel> = bills
        .iter()
        .map(|b| {
            Ok(pb::ActiveModel {
                preview_id: Set(preview),
                contact_id: Set(b.contact_id),
                printed: Set(b.printed),
                customer_type: Set(b.customer_type.clone()),
                term_begin: Set(b.term.begin),
                term_end: Set(b.term.end),
                total_cents: Set(b.total()),
                lines: Set(
                    serde_json::to_string(&b.lines).map_err(|e| Error::Internal(e.to_string()))?
                ),
                fingerprint: Set(fingerprint(b)),
                ..Default::default()
            })
        })
        .collect::<Result<_>>()?;
    for chunk in rows.chunks(rows_per_statement(10)) {
        pb::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    let total = crate::money::checked_sum(bills.iter().map(Bill::total))?;
    p::Entity::update_many()
        .col_expr(
            p::Column::Considered,
            Expr::col(p::Column::Considered).add(considered as i64),
        )
        .col_expr(
            p::Column::Billed,
            Expr::col(p::Column::Billed).add(bills.len() as i64),
        )
        .col_expr(
            p::Column::Skipped,
            Expr::col(p::Column::Skipped).add(skipped as i64),
        )
        .col_expr(
            p::Column::TotalCents,
            Expr::col(p::Column::TotalCents).add(total),
        )
        .filter(p::Column::Id.eq(preview))
        .exec(conn)
        .await?;
    Ok(())
}

/// A preview that can still be read: 404 when unknown, 410 after its 24 hours.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<p::Model> {
    let preview = p::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("renewal preview", id))?;
    if preview.expires_at <= crate::clock::now() {
        return Err(Error::Gone {
            message: format!(
                "renewal preview {id} expired at {}: preview again",
                preview.expires_at.to_rfc3339()
            ),
        });
    }
    Ok(preview)
}

/// A preview's bills, by contact, a page at a time.
pub async fn bills(
    conn: &impl ConnectionTrait,
    id: i64,
    req: &PageRequest,
) -> Result<Page<pb::Model>> {
    get(conn, id).await?;
    let limit = req.limit()?;
    let mut q = pb::Entity::find()
        .filter(pb::Column::PreviewId.eq(id))
        .order_by_asc(pb::Column::ContactId)
        .limit(limit + 1);
    if let Some(after) = req.after_id()? {
        q = q.filter(pb::Column::ContactId.gt(after));
    }
    let rows = q.all(conn).await?;
    Ok(page::build(rows, limit, |m| m.contact_id.to_string()))
}

/// The preview a run commits, checked: it exists, has not expired, was not committed, and
/// is of the run's cycle.
pub async fn to_commit(conn: &impl ConnectionTrait, id: i64, cycle: &Cycle) -> Result<p::Model> {
    let preview = get(conn, id).await?;
    if let Some(run) = preview.committed_run_id {
        return Err(committed(id, run));
    }
    if preview.cycle_id != cycle.id {
        return Err(Error::invalid(
            "preview_id",
            format!(
                "renewal preview {id} is of billing cycle {}, not {}",
                preview.cycle_id, cycle.id
            ),
        ));
    }
    Ok(preview)
}

/// The preview a run resumed by its job commits (already claimed by that run).
pub async fn claimed(conn: &impl ConnectionTrait, id: i64) -> Result<p::Model> {
    p::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("renewal preview", id))
}

fn committed(id: i64, run: i64) -> Error {
    Error::conflict(format!(
        "renewal preview {id} was committed by renewal run {run}; committing it again bills nobody"
    ))
}

/// Marks the preview committed by `run`, in the run's first transaction: of two commits,
/// one wins and the other bills nobody.
pub async fn claim(conn: &impl ConnectionTrait, id: i64, run: i64) -> Result<()> {
    let claimed = p::Entity::update_many()
        .col_expr(p::Column::CommittedRunId, Expr::val(run))
        .filter(p::Column::Id.eq(id))
        .filter(p::Column::CommittedRunId.is_null())
        .exec(conn)
        .await?;
    if claimed.rows_affected == 1 {
        return Ok(());
    }
    let winner = p::Entity::find_by_id(id)
        .one(conn)
        .await?
        .and_then(|p| p.committed_run_id)
        .unwrap_or_default();
    Err(committed(id, winner))
}

/// Contacts with a bill in the preview.
pub fn contacts_of(preview: i64) -> Condition {
    let billed = Query::select()
        .column(pb::Column::ContactId)
        .from(pb::Entity)
        .and_where(Expr::col(pb::Column::PreviewId).eq(preview))
        .to_owned();
    Condition::all().add(c::Column::Id.in_subquery(billed))
}

/// The fingerprints the preview saved for `contacts`.
pub async fn fingerprints(
    conn: &impl ConnectionTrait,
    preview: i64,
    contacts: &[i64],
) -> Result<std::collections::HashMap<i64, String>> {
    let mut out = std::collections::HashMap::with_capacity(contacts.len());
    for chunk in contacts.chunks(crate::sql::IN_CHUNK) {
        let rows: Vec<(i64, String)> = pb::Entity::find()
            .select_only()
            .columns([pb::Column::ContactId, pb::Column::Fingerprint])
            .filter(pb::Column::PreviewId.eq(preview))
            .filter(pb::Column::ContactId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Previewed contacts that the run's selection no longer takes (`selected`: the run's
/// selection, the preview's contacts within it), up to `limit`.
pub async fn not_selected(
    conn: &impl ConnectionTrait,
    preview: i64,
    selected: Condition,
    limit: u64,
) -> Result<Vec<i64>> {
    let still = Query::select()
        .column((c::Entity, c::Column::Id))
        .from(c::Entity)
        .cond_where(selected)
        .to_owned();
    Ok(pb::Entity::find()
        .select_only()
        .column(pb::Column::ContactId)
        .filter(pb::Column::PreviewId.eq(preview))
        .filter(pb::Column::ContactId.not_in_subquery(still))
        .order_by_asc(pb::Column::ContactId)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?)
}
