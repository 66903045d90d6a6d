//! C-5: the dedicated staff actions on membership fields a profile update cannot touch.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use entity::contact as c;

use crate::access::Actor;
use crate::contacts::{self, ContactView};
use crate::error::{Error, Result, check_version};
use crate::{clock, db::Db};

pub const RENEW_MONTHS_MAX: u32 = 120;

/// T-6: changes a contact's renew months. The primary product stays; later renewals are
/// billed for the new length (the family product of that span, else the price scaled).
pub async fn set_renew_months(
    db: &Db,
    contact_id: i64,
    months: u32,
    expected_version: Option<i32>,
) -> Result<ContactView> {
    if !(1..=RENEW_MONTHS_MAX).contains(&months) {
        return Err(Error::invalid(
            "renew_months",
            format!("must be between 1 and {RENEW_MONTHS_MAX}"),
        ));
    }
    let txn = db.write().await?;
    let current = contacts::get(&txn, Actor::Staff, contact_id).await?.contact;
    check_version(expected_version, current.version)?;
    let res = c::Entity::update_many()
        .set(c::ActiveModel {
            renew_months: Set(Some(months as i32)),
            version: Set(current.version + 1),
            updated_at: Set(clock::now()),
            ..Default::default()
        })
        .filter(c::Column::Id.eq(contact_id))
        .filter(c::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::PreconditionFailed);
    }
    let view = contacts::get(&txn, Actor::Staff, contact_id).await?;
    txn.commit().await?;
    Ok(view)
}
