//! G-6: the dunning schedule. A failed AutoPay charge is retried the given numbers of days
//! after the first charge was due (3, 5 and 7 by default), at most four attempts in all.

use chrono::{Days, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::membership_settings as ms;

use crate::clock;
use crate::db::Db;
use crate::error::{Error, Errors, Result};
use crate::settings::{self, SETTINGS_ID};

pub const DEFAULT_RETRY_DAYS: [u32; 3] = [3, 5, 7];
/// The first charge and its retries.
pub const MAX_ATTEMPTS: usize = 4;
/// A retry later than this is a forgotten invoice, not dunning.
pub const MAX_DAYS: u32 = 60;

/// The days after the first charge was due that a failed charge is retried.
pub async fn retry_days(conn: &impl ConnectionTrait) -> Result<Vec<u32>> {
    let stored = ms::Entity::find_by_id(SETTINGS_ID)
        .one(conn)
        .await?
        .and_then(|m| m.dunning_retry_days);
    match stored {
        None => Ok(DEFAULT_RETRY_DAYS.to_vec()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|_| Error::Internal("stored settings have an invalid retry schedule".into())),
    }
}

/// Replaces the schedule: up to three retries, each 1 to 60 days, in increasing order.
pub async fn put(db: &Db, days: Vec<u32>) -> Result<Vec<u32>> {
    check(&days)?;
    let txn = db.write().await?;
    let current = settings::get(&txn).await?;
    // The settings row exists once saved; the schedule lives beside the other settings.
    settings::save(&txn, &current, current.version).await?;
    let text = serde_json::to_string(&days).map_err(|e| Error::Internal(e.to_string()))?;
    ms::Entity::update_many()
        .col_expr(ms::Column::DunningRetryDays, Expr::val(text))
        .col_expr(ms::Column::UpdatedAt, Expr::val(clock::now()))
        .filter(ms::Column::Id.eq(SETTINGS_ID))
        .exec(&txn)
        .await?;
    let saved = retry_days(&txn).await?;
    txn.commit().await?;
    Ok(saved)
}

fn check(days: &[u32]) -> Result<()> {
    let mut errors = Errors::new();
    if days.len() >= MAX_ATTEMPTS {
        errors.add(
            "retry_days",
            format!(
                "at most {} retries: {MAX_ATTEMPTS} attempts in all",
                MAX_ATTEMPTS - 1
            ),
        );
    }
    if days.iter().any(|d| !(1..=MAX_DAYS).contains(d)) {
        errors.add("retry_days", format!("each must be 1 to {MAX_DAYS} days"));
    }
    if days.windows(2).any(|w| w[0] >= w[1]) {
        errors.add(
            "retry_days",
            "must increase: each is counted from the day the first charge was due",
        );
    }
    errors.into_result()
}

/// When attempt `failed` (1 for the first charge) is retried, or `None` when it was the last.
/// Never before `today + 1`: a retry pulled forward by a new card does not run twice a day.
pub fn next_due(
    first_due: NaiveDate,
    failed: i32,
    days: &[u32],
    today: NaiveDate,
) -> Option<NaiveDate> {
    let index = usize::try_from(failed).ok()?.checked_sub(1)?;
    if index + 1 >= MAX_ATTEMPTS {
        return None;
    }
    let after = *days.get(index)?;
    let due = first_due.checked_add_days(Days::new(u64::from(after)))?;
    let tomorrow = today.succ_opt()?;
    Some(Ord::max(due, tomorrow))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn g6_retries_count_from_the_first_due_day_and_stop_after_four_attempts() {
        let days = DEFAULT_RETRY_DAYS;
        let first = d("2028-02-26");
        assert_eq!(next_due(first, 1, &days, first), Some(d("2028-02-29")));
        assert_eq!(
            next_due(first, 2, &days, d("2028-02-29")),
            Some(d("2028-03-02"))
        );
        assert_eq!(
            next_due(first, 3, &days, d("2028-03-02")),
            Some(d("2028-03-04"))
        );
        assert_eq!(next_due(first, 4, &days, d("2028-03-04")), None);
        // A retry pulled forward by a new card: the next is not on the same day.
        assert_eq!(
            next_due(first, 2, &days, d("2028-03-03")),
            Some(d("2028-03-04"))
        );
        // A shorter schedule ends sooner.
        assert_eq!(next_due(first, 2, &[10], d("2028-03-07")), None);
        assert_eq!(next_due(first, 1, &[], first), None);
    }

    #[test]
    fn g6_schedule_must_have_at_most_three_increasing_retries() {
        assert!(check(&[3, 5, 7]).is_ok());
        assert!(check(&[]).is_ok());
        assert!(check(&[1, 2, 3, 4]).is_err());
        assert!(check(&[5, 3]).is_err());
        assert!(check(&[0]).is_err());
        assert!(check(&[61]).is_err());
    }
}
