//! What the examples share: the counts they report and the helpers every example uses.

use crate::customer_types::NewCustomerType;
use crate::db::Db;
use crate::error::Result;
use crate::pricing::{Conditions, NewRule};
use crate::products::{NewProduct, ProductType};
use crate::settings::{self, Settings};

/// What an example loaded.
#[derive(Debug, Default)]
pub struct Loaded {
    pub customer_types: usize,
    pub contacts: usize,
    pub pricing_rules: usize,
    pub subscriptions: usize,
    pub invoices: usize,
    pub committees: usize,
}

/// A customer type with nothing but its code, name and kind.
pub(super) fn ty(code: &str, name: &str, member: bool, org: bool) -> NewCustomerType {
    NewCustomerType {
        code: code.into(),
        name: name.into(),
        is_member: member,
        is_organization: org,
        primary_fee: None,
        expires_to: None,
        renews_as: None,
        flow_down_type: None,
    }
}

/// The types new persons and organizations get.
pub(super) async fn set_defaults(db: &Db, person: &str, organization: &str) -> Result<()> {
    let current = settings::get(&db.conn).await?;
    settings::put(
        db,
        Settings {
            default_person_type: Some(person.into()),
            default_organization_type: Some(organization.into()),
            ..current
        },
        None,
    )
    .await?;
    Ok(())
}

/// A product sold for twelve months, active.
pub(super) fn product(
    code: String,
    name: String,
    product_type: ProductType,
    cents: i64,
) -> NewProduct {
    NewProduct {
        code,
        name,
        product_type,
        price_cents: cents,
        term_months: Some(12),
        active: Some(true),
    }
}

/// A pricing rule.
pub(super) fn rule(
    product: impl Into<String>,
    cents: i64,
    conditions: Conditions,
    priority: i32,
) -> NewRule {
    NewRule {
        product: product.into(),
        price_cents: cents,
        conditions,
        priority,
    }
}
