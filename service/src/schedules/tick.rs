//! Running what is due (JB-3): each enabled schedule whose next run has come is claimed by
//! moving its next run on, in one conditional update: of several servers ticking at once, one
//! claims each due time. The claimed due time is run with its own date.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use entity::schedule as s;

use crate::db::Db;
use crate::error::Result;

use super::{Kind, Timing};

/// A due time claimed by this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub kind: Kind,
    /// The date it runs as of: its due time's.
    pub as_of: NaiveDate,
    /// The staff user who set the schedule.
    pub by: Option<i64>,
}

/// Claims every schedule due at `now`.
pub async fn claim_due(db: &Db, now: DateTime<Utc>) -> Result<Vec<Due>> {
    let due = s::Entity::find()
        .filter(s::Column::Enabled.eq(true))
        .filter(s::Column::NextRun.lte(now))
        .all(&db.conn)
        .await?;
    let mut claimed = Vec::new();
    for row in due {
        let (Some(kind), Some(timing), Some(at)) =
            (Kind::parse(&row.name), Timing::of(&row), row.next_run)
        else {
            continue;
        };
        let next = timing.next_after(now)?;
        let won = s::Entity::update_many()
            .col_expr(s::Column::LastRun, Expr::val(at))
            .col_expr(s::Column::NextRun, Expr::val(next))
            .filter(s::Column::Name.eq(row.name.as_str()))
            .filter(s::Column::NextRun.eq(at))
            .exec(&db.conn)
            .await?;
        if won.rows_affected == 1 {
            claimed.push(Due {
                kind,
                as_of: at.date_naive(),
                by: row.updated_by,
            });
        }
    }
    Ok(claimed)
}
