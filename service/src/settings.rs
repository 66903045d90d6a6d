//! T-1: membership settings, one row.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use entity::customer_type as ct;
use entity::membership_settings as ms;

use crate::error::{Error, Errors, Result, check_version};
use crate::{clock, db::Db};

pub const SETTINGS_ID: i32 = 1;

pub use entity::words::{AccountingMethod, BillingTime};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub fiscal_year_start_month: u32,
    pub standard_billing_interval_months: u32,
    pub default_billing_time: BillingTime,
    pub default_accounting_method: AccountingMethod,
    pub grace_period_months: u32,
    pub default_person_type: Option<String>,
    pub default_organization_type: Option<String>,
    pub currency: String,
    /// Tags that make a non-member a prospect (L-3); `None`: [`DEFAULT_PROSPECT_TAGS`].
    pub prospect_tags: Option<Vec<String>>,
    /// N-4: the association as its documents and notices show it.
    pub association_name: Option<String>,
    /// Postal address, lines separated by line breaks.
    pub association_address: Option<String>,
    /// N-3: where members' answers to notices go.
    pub reply_to: Option<String>,
    pub version: i32,
}

/// The prospect criteria of DOMAIN.md's source: event attendees and interest forms.
pub const DEFAULT_PROSPECT_TAGS: [&str; 2] = ["event-attendee", "interest-form"];

impl Settings {
    /// The tags that make a non-member a prospect (L-3).
    pub fn prospect_tags(&self) -> Vec<String> {
        match &self.prospect_tags {
            Some(t) => t.clone(),
            None => DEFAULT_PROSPECT_TAGS
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            fiscal_year_start_month: 1,
            standard_billing_interval_months: 12,
            default_billing_time: BillingTime::Anniversary,
            default_accounting_method: AccountingMethod::Accrual,
            grace_period_months: 0,
            default_person_type: None,
            default_organization_type: None,
            currency: "USD".into(),
            prospect_tags: None,
            association_name: None,
            association_address: None,
            reply_to: None,
            version: 1,
        }
    }
}

fn from_model(m: ms::Model) -> Result<Settings> {
    let bad = |what: &str| Error::Internal(format!("stored settings have an invalid {what}"));
    Ok(Settings {
        fiscal_year_start_month: u32::try_from(m.fiscal_year_start_month)
            .map_err(|_| bad("month"))?,
        standard_billing_interval_months: u32::try_from(m.standard_billing_interval_months)
            .map_err(|_| bad("interval"))?,
        default_billing_time: m.default_billing_time,
        default_accounting_method: m.default_accounting_method,
        grace_period_months: u32::try_from(m.grace_period_months)
            .map_err(|_| bad("grace period"))?,
        default_person_type: m.default_person_type,
        default_organization_type: m.default_organization_type,
        currency: m.currency,
        prospect_tags: match m.prospect_tags {
            Some(t) => Some(serde_json::from_str(&t).map_err(|_| bad("prospect tag list"))?),
            None => None,
        },
        association_name: m.association_name,
        association_address: m.association_address,
        reply_to: m.reply_to,
        version: m.version,
    })
}

pub async fn get(conn: &impl ConnectionTrait) -> Result<Settings> {
    match ms::Entity::find_by_id(SETTINGS_ID).one(conn).await? {
        Some(m) => from_model(m),
        None => Ok(Settings::default()),
    }
}

/// Checks a default type: it must exist, be a non-member, and be of the given record kind.
async fn check_default_type(
    conn: &impl ConnectionTrait,
    errors: &mut Errors,
    field: &str,
    code: Option<&str>,
    organization: bool,
) -> Result<()> {
    let Some(code) = code else { return Ok(()) };
    let kind = if organization {
        "an organization"
    } else {
        "a person"
    };
    match ct::Entity::find_by_id(code.to_owned()).one(conn).await? {
        None => errors.add(field, format!("customer type {code} does not exist")),
        Some(t) if t.is_member => errors.add(
            field,
            format!("customer type {code} is a member type; the default must be a non-member type"),
        ),
        Some(t) if t.is_organization != organization => {
            errors.add(field, format!("customer type {code} is not {kind} type"))
        }
        Some(_) => {}
    }
    Ok(())
}

pub async fn validate(conn: &impl ConnectionTrait, s: &Settings) -> Result<()> {
    let mut errors = Errors::new();
    if !(1..=12).contains(&s.fiscal_year_start_month) {
        errors.add("fiscal_year_start_month", "must be a month number 1..12");
    }
    if !(1..=120).contains(&s.standard_billing_interval_months) {
        errors.add(
            "standard_billing_interval_months",
            "must be between 1 and 120",
        );
    }
    if s.grace_period_months > 120 {
        errors.add("grace_period_months", "must be between 0 and 120");
    }
    if s.currency.len() != 3 || !s.currency.chars().all(|c| c.is_ascii_uppercase()) {
        errors.add("currency", "must be an ISO 4217 code such as USD");
    }
    if let Some(tags) = &s.prospect_tags {
        if tags.len() > 50 {
            errors.add("prospect_tags", "at most 50 tags");
        }
        if let Some(bad) = tags.iter().find(|t| !crate::tags::is_valid(t)) {
            errors.add(
                "prospect_tags",
                format!(
                    "tag {bad:?} must be 1 to 60 lower-case letters, digits, '-', '_', '.' or ':'"
                ),
            );
        }
    }
    check_documents(&mut errors, s);
    check_default_type(
        conn,
        &mut errors,
        "default_person_type",
        s.default_person_type.as_deref(),
        false,
    )
    .await?;
    check_default_type(
        conn,
        &mut errors,
        "default_organization_type",
        s.default_organization_type.as_deref(),
        true,
    )
    .await?;
    errors.into_result()
}

/// N-3, N-4: what documents and notices show.
fn check_documents(errors: &mut Errors, s: &Settings) {
    if s.association_name
        .as_ref()
        .is_some_and(|n| n.trim().is_empty() || n.chars().count() > 200)
    {
        errors.add("association_name", "must be 1 to 200 characters");
    }
    if s.association_address
        .as_ref()
        .is_some_and(|a| a.trim().is_empty() || a.chars().count() > 500 || a.lines().count() > 8)
    {
        errors.add(
            "association_address",
            "must be 1 to 500 characters in at most 8 lines",
        );
    }
    if s.reply_to
        .as_ref()
        .is_some_and(|r| !crate::text::is_email(r))
    {
        errors.add("reply_to", "must be an email address");
    }
}

/// Replaces the settings. `expected_version` comes from `If-Match`.
pub async fn put(db: &Db, new: Settings, expected_version: Option<i32>) -> Result<Settings> {
    let txn = db.write().await?;
    let current = get(&txn).await?;
    check_version(expected_version, current.version)?;
    validate(&txn, &new).await?;
    save(&txn, &new, current.version + 1).await?;
    let saved = get(&txn).await?;
    txn.commit().await?;
    Ok(saved)
}

pub(crate) async fn save(conn: &impl ConnectionTrait, s: &Settings, version: i32) -> Result<()> {
    let exists = ms::Entity::find()
        .filter(ms::Column::Id.eq(SETTINGS_ID))
        .one(conn)
        .await?
        .is_some();
    let am = ms::ActiveModel {
        id: Set(SETTINGS_ID),
        fiscal_year_start_month: Set(s.fiscal_year_start_month as i32),
        standard_billing_interval_months: Set(s.standard_billing_interval_months as i32),
        default_billing_time: Set(s.default_billing_time),
        default_accounting_method: Set(s.default_accounting_method),
        grace_period_months: Set(s.grace_period_months as i32),
        default_person_type: Set(s.default_person_type.clone()),
        default_organization_type: Set(s.default_organization_type.clone()),
        currency: Set(s.currency.clone()),
        prospect_tags: Set(match &s.prospect_tags {
            Some(t) => Some(serde_json::to_string(t).map_err(|e| Error::Internal(e.to_string()))?),
            None => None,
        }),
        association_name: Set(s.association_name.clone()),
        association_address: Set(s.association_address.clone()),
        reply_to: Set(s.reply_to.clone()),
        version: Set(version),
        updated_at: Set(clock::now()),
        ..Default::default()
    };
    if exists {
        am.update(conn).await?;
    } else {
        am.insert(conn).await?;
    }
    Ok(())
}
