//! Expiry (L-1), mass change (L-4), purge (CS-4) and the audit trail.

use super::Date;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::lifecycle::ContactChange;
use service::lifecycle::expire::ExpireResult;
use service::lifecycle::mass_change::MassChangeResult;
use service::lifecycle::purge::PurgeResult;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::contacts::ContactFilterDto;

#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"as_of": "2027-04-01", "dry_run": true}))]
pub struct ExpireDto {
    /// Members whose paid-through plus the grace period is before this date expire.
    pub as_of: Date,
    /// Preview only: nothing is written.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FromTo {
    pub from: String,
    pub to: String,
}

/// One contact's change. `from` and `to` are its customer types, or its statuses when only the
/// status changes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"contact_id": 1042, "from": "M", "to": "NM", "customer_type": {"from": "M", "to": "NM"}}))]
pub struct ChangeDto {
    pub contact_id: i64,
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_type: Option<FromTo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<FromTo>,
    /// Set when the contact follows the organization it is linked to (CT-6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_id: Option<i64>,
}

fn from_to(p: Option<(String, String)>) -> Option<FromTo> {
    p.map(|(from, to)| FromTo { from, to })
}

impl From<ContactChange> for ChangeDto {
    fn from(ch: ContactChange) -> Self {
        let (from, to) = ch
            .customer_type
            .clone()
            .or_else(|| ch.status.clone())
            .unwrap_or_default();
        ChangeDto {
            contact_id: ch.contact_id,
            from,
            to,
            customer_type: from_to(ch.customer_type),
            status: from_to(ch.status),
            company_id: ch.company_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"as_of": "2027-04-01", "grace_period_months": 3,
    "expired_paid_through": "2026-12-31", "dry_run": true, "count": 1,
    "changed": [{"contact_id": 1042, "from": "M", "to": "NM", "customer_type": {"from": "M", "to": "NM"}}]}))]
pub struct ExpireResultDto {
    pub as_of: NaiveDate,
    pub grace_period_months: u32,
    /// Members paid through this date or earlier have expired.
    pub expired_paid_through: NaiveDate,
    pub dry_run: bool,
    pub count: usize,
    pub changed: Vec<ChangeDto>,
}

impl From<ExpireResult> for ExpireResultDto {
    fn from(r: ExpireResult) -> Self {
        ExpireResultDto {
            as_of: r.as_of,
            grace_period_months: r.grace_period_months,
            expired_paid_through: r.expired_paid_through,
            dry_run: r.dry_run,
            count: r.changed.len(),
            changed: r.changed.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MassChangeSetDto {
    #[serde(default)]
    pub customer_type: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"filter": {"customer_type": "OLDM"}, "set": {"customer_type": "M"}, "dry_run": true}))]
pub struct MassChangeDto {
    /// Which contacts: the list filters of `GET /contacts`; at least one.
    #[serde(deserialize_with = "crate::dto::object")]
    pub filter: ContactFilterDto,
    pub set: MassChangeSetDto,
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MassChangeResultDto {
    pub dry_run: bool,
    /// Contacts changed (or, in a preview, that would change).
    pub count: usize,
    pub changed: Vec<ChangeDto>,
}

impl From<MassChangeResult> for MassChangeResultDto {
    fn from(r: MassChangeResult) -> Self {
        MassChangeResultDto {
            dry_run: r.dry_run,
            count: r.changed.len(),
            changed: r.changed.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"dry_run": true}))]
pub struct PurgeDto {
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeptDto {
    pub contact_id: i64,
    /// Why it stays, e.g. `has invoices`.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"dry_run": false, "purged": [1077], "kept": [{"contact_id": 1078, "reason": "has invoices"}]}))]
pub struct PurgeResultDto {
    pub dry_run: bool,
    pub purged: Vec<i64>,
    pub kept: Vec<KeptDto>,
}

impl From<PurgeResult> for PurgeResultDto {
    fn from(r: PurgeResult) -> Self {
        PurgeResultDto {
            dry_run: r.dry_run,
            purged: r.purged,
            kept: r
                .kept
                .into_iter()
                .map(|(contact_id, reason)| KeptDto { contact_id, reason })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::IdCursor>,
    /// Only this action, e.g. `membership.expire`.
    pub action: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 7, "at": "2027-04-01T09:00:00Z", "user_id": 1, "request_id": "3f1c",
    "action": "membership.expire", "subject": "contacts", "details": {"as_of": "2027-04-01", "expired": 12}}))]
pub struct AuditEventDto {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub request_id: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub details: serde_json::Value,
}

impl From<service::entity::audit_event::Model> for AuditEventDto {
    fn from(m: service::entity::audit_event::Model) -> Self {
        AuditEventDto {
            id: m.id,
            at: m.at,
            user_id: m.user_id,
            request_id: m.request_id,
            action: m.action,
            subject: m.subject,
            details: serde_json::from_str(&m.details).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEventDto>,
    pub next_cursor: Option<String>,
}
