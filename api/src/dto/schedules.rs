//! Schedules (JB-3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::schedules::{Schedule, Timing};
use utoipa::ToSchema;

/// What runs on its own, and when (UTC): `expiry`, `dunning`, `notices`, `webhooks`, and per
/// billing cycle `renewal_run:{cycle id}` and `reminders:{cycle id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleDto {
    pub name: String,
    pub enabled: bool,
    /// Five fields: minute, hour, day of month, month, day of week.
    pub cron: Option<String>,
    /// 1 to 28: runs that day of every month at midnight.
    pub day_of_month: Option<i32>,
    pub last_run: Option<DateTime<Utc>>,
    /// Null while disabled.
    pub next_run: Option<DateTime<Utc>>,
}

impl From<Schedule> for ScheduleDto {
    fn from(s: Schedule) -> Self {
        let (cron, day_of_month) = match &s.timing {
            Timing::Cron(c) => (Some(c.clone()), None),
            Timing::DayOfMonth(d) => (None, i32::try_from(*d).ok()),
        };
        ScheduleDto {
            name: s.name,
            enabled: s.enabled,
            cron,
            day_of_month,
            last_run: s.last_run,
            next_run: s.next_run,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleList {
    pub items: Vec<ScheduleDto>,
}

/// A schedule as set: on or off, and either a cron expression or a day of the month (neither:
/// the schedule's default).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true, "day_of_month": 1}))]
pub struct ScheduleInputDto {
    pub enabled: bool,
    #[schema(example = "0 2 * * *")]
    pub cron: Option<String>,
    #[schema(minimum = 1, maximum = 28)]
    pub day_of_month: Option<i32>,
}

impl validator::Validate for ScheduleInputDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}
