//! JB-3: schedules. The server runs expiry, dunning retries, notice and webhook delivery, and
//! per billing cycle its renewal run and its reminders, each on a schedule staff read and set:
//! a cron expression or a day of the month, in UTC. A schedule never set is listed with its
//! defaults, turned off. Rules never read today themselves: a due time is run with its own
//! date (`tick`), so tests drive schedules with a fixed clock.

pub mod tick;
pub mod timing;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, Set};

use entity::billing_cycle as bc;
use entity::schedule as s;

use crate::error::{Error, Result};

pub use timing::Timing;

/// What a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// L-1: members past their grace period expire.
    Expiry,
    /// G-6: AutoPay charges and their retries that are due.
    Dunning,
    /// N-3: a delivery pass over the notices due.
    Notices,
    /// A delivery pass over the webhook deliveries due.
    Webhooks,
    /// R-1..R-6: the cycle's renewal run, as a job (JB-1).
    RenewalRun(i64),
    /// I-7: the cycle's renewal reminders.
    Reminders(i64),
}

const GLOBAL: [Kind; 4] = [Kind::Expiry, Kind::Dunning, Kind::Notices, Kind::Webhooks];

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        let per_cycle = |prefix: &str| {
            name.strip_prefix(prefix)
                .and_then(|id| id.parse::<i64>().ok())
                .filter(|id| *id > 0)
        };
        match name {
            "expiry" => Some(Kind::Expiry),
            "dunning" => Some(Kind::Dunning),
            "notices" => Some(Kind::Notices),
            "webhooks" => Some(Kind::Webhooks),
            _ => per_cycle("renewal_run:")
                .map(Kind::RenewalRun)
                .or_else(|| per_cycle("reminders:").map(Kind::Reminders)),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Kind::Expiry => "expiry".into(),
            Kind::Dunning => "dunning".into(),
            Kind::Notices => "notices".into(),
            Kind::Webhooks => "webhooks".into(),
            Kind::RenewalRun(c) => format!("renewal_run:{c}"),
            Kind::Reminders(c) => format!("reminders:{c}"),
        }
    }

    /// When it runs until staff say otherwise.
    pub fn default_timing(&self) -> Timing {
        match self {
            Kind::Expiry => Timing::Cron("0 2 * * *".into()),
            Kind::Dunning => Timing::Cron("0 6 * * *".into()),
            Kind::Notices | Kind::Webhooks => Timing::Cron("* * * * *".into()),
            Kind::RenewalRun(_) => Timing::DayOfMonth(1),
            Kind::Reminders(_) => Timing::DayOfMonth(15),
        }
    }

    fn cycle(&self) -> Option<i64> {
        match self {
            Kind::RenewalRun(c) | Kind::Reminders(c) => Some(*c),
            _ => None,
        }
    }
}

/// A schedule as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub name: String,
    pub enabled: bool,
    pub timing: Timing,
    pub last_run: Option<DateTime<Utc>>,
    pub next_run: Option<DateTime<Utc>>,
}

fn view(kind: Kind, stored: Option<&s::Model>) -> Schedule {
    match stored {
        Some(m) => Schedule {
            name: m.name.clone(),
            enabled: m.enabled,
            timing: Timing::of(m).unwrap_or_else(|| kind.default_timing()),
            last_run: m.last_run,
            next_run: m.next_run,
        },
        None => Schedule {
            name: kind.name(),
            enabled: false,
            timing: kind.default_timing(),
            last_run: None,
            next_run: None,
        },
    }
}

/// Every schedule: the server's, then each billing cycle's.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<Schedule>> {
    let stored = s::Entity::find().all(conn).await?;
    let cycles: Vec<i64> = bc::Entity::find()
        .select_only()
        .column(bc::Column::Id)
        .order_by_asc(bc::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let kinds = GLOBAL.into_iter().chain(
        cycles
            .into_iter()
            .flat_map(|c| [Kind::RenewalRun(c), Kind::Reminders(c)]),
    );
    Ok(kinds
        .map(|k| {
            let name = k.name();
            view(k, stored.iter().find(|m| m.name == name))
        })
        .collect())
}

/// A schedule by name; an unknown name, or a cycle that does not exist, is 404.
pub async fn get(conn: &impl ConnectionTrait, name: &str) -> Result<Schedule> {
    let kind = known(conn, name).await?;
    let stored = s::Entity::find_by_id(kind.name()).one(conn).await?;
    Ok(view(kind, stored.as_ref()))
}

async fn known(conn: &impl ConnectionTrait, name: &str) -> Result<Kind> {
    let kind = Kind::parse(name).ok_or_else(|| Error::not_found("schedule", name))?;
    if let Some(c) = kind.cycle()
        && bc::Entity::find_by_id(c).one(conn).await?.is_none()
    {
        return Err(Error::not_found("schedule", name));
    }
    Ok(kind)
}

/// What staff set: on or off, and when (neither: the kind's default timing).
#[derive(Debug, Clone, Default)]
pub struct Setting {
    pub enabled: bool,
    pub cron: Option<String>,
    pub day_of_month: Option<i32>,
}

/// Sets a schedule; its next run is computed from `now`. A cron expression that does not
/// parse, a day of the month outside 1..28, or both at once are refused (422).
pub async fn set(
    db: &crate::db::Db,
    name: &str,
    setting: Setting,
    by: i64,
    now: DateTime<Utc>,
) -> Result<Schedule> {
    let txn = db.write().await?;
    let kind = known(&txn, name).await?;
    let timing = match (setting.cron, setting.day_of_month) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "day_of_month",
                "give either cron or day_of_month, not both",
            ));
        }
        (Some(cron), None) => Timing::cron(&cron)?,
        (None, Some(day)) => Timing::day_of_month(day)?,
        (None, None) => kind.default_timing(),
    };
    let next_run = match setting.enabled {
        true => Some(timing.next_after(now)?),
        false => None,
    };
    let (cron, day) = timing.columns();
    let row = s::ActiveModel {
        name: Set(kind.name()),
        enabled: Set(setting.enabled),
        cron: Set(cron),
        day_of_month: Set(day),
        last_run: Set(None),
        next_run: Set(next_run),
        updated_by: Set(Some(by)),
        updated_at: Set(now),
    };
    s::Entity::insert(row)
        .on_conflict(
            OnConflict::column(s::Column::Name)
                .update_columns([
                    s::Column::Enabled,
                    s::Column::Cron,
                    s::Column::DayOfMonth,
                    s::Column::NextRun,
                    s::Column::UpdatedBy,
                    s::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let set = get(&txn, name).await?;
    txn.commit().await?;
    Ok(set)
}
