//! Subscriptions (S-1..S-9). Request bodies are parsed by the service's row parser, so that a
//! POST, a PATCH and an import row accept exactly the same values; the types below document
//! them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::column_map::ColumnMap;
use service::subscriptions::import::{Outcome, RowReport};
use service::subscriptions::words::status_word;
use service::subscriptions::{Filter, SubscriptionView};
use utoipa::{IntoParams, ToSchema};

use super::words::AccountingMethodDto;
use super::{Date, Money};
use crate::problem::ProblemField;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 501, "contact_id": 1001, "product": "CHAPT/EAST", "begin_date": "2026-01-01",
    "paid_through": "2026-12-31", "bill_to_id": 1001, "bill_date": null, "bill_begin": null,
    "bill_through": null, "billed_amount": null, "status": "active", "cancellation_date": null,
    "adjustment_reason": null, "source_code": "legacy-import", "is_complimentary": false,
    "is_membership_component": false, "bill_subscription": true, "accounting_method": "accrual",
    "is_company": false, "billed": false, "version": 1,
    "created_at": "2026-01-01T09:00:00Z", "updated_at": "2026-01-01T09:00:00Z"
}))]
pub struct SubscriptionDto {
    pub id: i64,
    pub contact_id: i64,
    pub product: String,
    pub begin_date: Option<NaiveDate>,
    pub paid_through: Option<NaiveDate>,
    pub bill_to_id: i64,
    /// The next billing day, as a date (its day of month is the billing day).
    pub bill_date: Option<NaiveDate>,
    pub bill_begin: Option<NaiveDate>,
    pub bill_through: Option<NaiveDate>,
    /// Fixed amount when `bill_subscription` is false (S-6).
    pub billed_amount: Option<Money>,
    /// `active` or `inactive` (S-3).
    pub status: String,
    pub cancellation_date: Option<NaiveDate>,
    pub adjustment_reason: Option<String>,
    pub source_code: Option<String>,
    pub is_complimentary: bool,
    /// Shown under Membership; the contact's paid-through follows it (C-7).
    pub is_membership_component: bool,
    pub bill_subscription: bool,
    pub accounting_method: AccountingMethodDto,
    /// Read-only: from the contact's customer type (S-2).
    pub is_company: bool,
    /// Set by billing; accrual-billed subscriptions lock their dates (S-4).
    pub billed: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<SubscriptionView> for SubscriptionDto {
    fn from(v: SubscriptionView) -> Self {
        let m = v.model;
        SubscriptionDto {
            id: m.id,
            contact_id: m.contact_id,
            product: m.product,
            begin_date: m.begin_date,
            paid_through: m.paid_through,
            bill_to_id: m.bill_to_id,
            bill_date: m.bill_date,
            bill_begin: m.bill_begin,
            bill_through: m.bill_through,
            billed_amount: m.billed_cents.map(Money),
            status: status_word(m.active).to_owned(),
            cancellation_date: m.cancellation_date,
            adjustment_reason: m.adjustment_reason,
            source_code: m.source_code,
            is_complimentary: m.is_complimentary,
            is_membership_component: m.is_membership_component,
            bill_subscription: m.bill_subscription,
            accounting_method: m.accounting_method.into(),
            is_company: v.is_company,
            billed: m.billed,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionList {
    pub items: Vec<SubscriptionDto>,
    pub next_cursor: Option<String>,
}

/// A status word (S-3): `1/TRUE/Y/YES/T/ACTIVE/A` or `0/FALSE/N/NO/F/INACTIVE/I`, any case;
/// JSON `true`/`false` too.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum StatusWord {
    Word(String),
    Flag(bool),
}

/// The fields of S-2. `contact_id` and `product` are required; everything else is optional.
/// With neither `bill_subscription` nor `billed_amount`, the subscription is billed at the
/// computed price (S-6). Dates are `YYYY-MM-DD`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "contact_id": 1001, "product": "CHAPT/EAST", "begin_date": "2026-01-01",
    "paid_through": "2026-12-31", "status": "A", "source_code": "legacy-import"
}))]
pub struct NewSubscriptionDto {
    pub contact_id: i64,
    pub product: String,
    pub begin_date: Option<Date>,
    pub paid_through: Option<Date>,
    /// Defaults to the contact.
    pub bill_to_id: Option<i64>,
    pub bill_date: Option<Date>,
    pub bill_begin: Option<Date>,
    pub bill_through: Option<Date>,
    /// Required when `bill_subscription` is false; must be empty when it is true (S-6).
    pub billed_amount: Option<Money>,
    /// Default active.
    pub status: Option<StatusWord>,
    pub cancellation_date: Option<Date>,
    pub adjustment_reason: Option<String>,
    /// At most 40 characters.
    #[schema(max_length = 40)]
    pub source_code: Option<String>,
    pub is_complimentary: Option<bool>,
    pub is_membership_component: Option<bool>,
    pub bill_subscription: Option<bool>,
    /// Default from the membership settings.
    pub accounting_method: Option<AccountingMethodDto>,
}

/// Absent fields stay; `null` clears an optional date or text. `contact_id` and `product`
/// identify the subscription and cannot change. After accrual billing the dates are locked
/// (S-4).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"status": "INACTIVE", "cancellation_date": "2026-06-30", "adjustment_reason": "moved abroad"}))]
pub struct SubscriptionPatchDto {
    pub begin_date: Option<Date>,
    pub paid_through: Option<Date>,
    pub bill_to_id: Option<i64>,
    pub bill_date: Option<Date>,
    pub bill_begin: Option<Date>,
    pub bill_through: Option<Date>,
    pub billed_amount: Option<Money>,
    pub status: Option<StatusWord>,
    pub cancellation_date: Option<Date>,
    pub adjustment_reason: Option<String>,
    #[schema(max_length = 40)]
    pub source_code: Option<String>,
    pub is_complimentary: Option<bool>,
    pub is_membership_component: Option<bool>,
    pub bill_subscription: Option<bool>,
    pub accounting_method: Option<AccountingMethodDto>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Active,
    Inactive,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionQuery {
    pub contact_id: Option<i64>,
    /// Product code (`CHAPT/EAST` as `CHAPT%2FEAST`).
    pub product: Option<String>,
    pub status: Option<StatusFilter>,
    pub bill_to_id: Option<i64>,
    pub is_membership_component: Option<bool>,
    /// Only subscriptions changed at or after this instant (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::IdCursor>,
}

impl SubscriptionQuery {
    pub fn filter(&self) -> Filter {
        Filter {
            contact_id: self.contact_id,
            product: self.product.clone(),
            active: self.status.map(|s| matches!(s, StatusFilter::Active)),
            bill_to_id: self.bill_to_id,
            is_membership_component: self.is_membership_component,
            updated_since: self.updated_since,
        }
    }

    pub fn page(&self) -> service::page::PageRequest {
        service::page::PageRequest {
            limit: self.limit,
            cursor: self.cursor.as_ref().map(|c| c.0.clone()),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    /// Fails on a row that already exists.
    Insert,
    /// Like insert, finding the contact by `external_ref` or `email` instead of `contact_id`.
    InsertWithMatching,
    /// Fails on a row that does not exist.
    Update,
    /// Inserts or updates.
    Upsert,
    /// Deletes; cash subscriptions only (S-5).
    Delete,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Default: any failed row means nothing is written.
    #[default]
    AllOrNothing,
    /// Rows that pass are written; failed rows change nothing.
    RowByRow,
}

/// A JSON import (S-9). Each row has the fields of a subscription (`NewSubscriptionDto`),
/// plus `email` / `external_ref` to match contacts for `insert_with_matching`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "action": "insert_with_matching", "mode": "row_by_row",
    "rows": [
        {"email": "ana@example.org", "product": "CHAPT/EAST", "status": "Y", "source_code": "idms"},
        {"external_ref": "LEGACY-17", "product": "JOURNAL", "billed_amount": "40.00", "bill_subscription": false}
    ]
}))]
pub struct ImportRequestDto {
    /// Required, except for the history import (`insert` by default).
    pub action: Option<ImportAction>,
    #[serde(default)]
    pub mode: ImportMode,
    /// One object per row. A row that is not an object fails as a row, reported with the
    /// others (S-9), rather than failing the request.
    #[schema(value_type = Vec<serde_json::Value>)]
    pub rows: Vec<serde_json::Value>,
    /// The rows' keys renamed to field names (MG-1), e.g. `{"Member ID": "external_ref"}`.
    /// Names compare ignoring case; a mapped key no row has is an error.
    #[serde(default)]
    pub map: Option<BTreeMap<String, String>>,
}

impl validator::Validate for ImportRequestDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// `text/csv` imports take the action and mode from the query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Required for `text/csv` bodies.
    pub action: Option<ImportAction>,
    pub mode: Option<ImportMode>,
    /// The file's columns renamed to field names (MG-1): `Member ID:external_ref,Expires:paid_through`.
    /// Names compare ignoring case; a mapped column the file lacks is an error.
    pub map: Option<String>,
}

impl ImportQuery {
    pub fn column_map(&self) -> service::Result<ColumnMap> {
        self.map
            .as_deref()
            .map_or_else(|| Ok(ColumnMap::default()), ColumnMap::parse)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowErrorDto {
    /// The same codes as problem responses: `validation_failed`, `conflict`, `locked_field`,
    /// `not_found`.
    pub code: String,
    pub message: String,
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    Inserted,
    Updated,
    Unchanged,
    Deleted,
    Failed,
    NotApplied,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportRowDto {
    /// 1-based; row 1 is the first data row (the line after a CSV header).
    pub row: usize,
    pub outcome: RowOutcome,
    pub id: Option<i64>,
    /// Contact imports with `insert_with_matching` (MG-2): the key that found the existing
    /// contact: `external_ref`, `email` or `name_postal_code`. Absent when the row made a
    /// new contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<String>,
    pub error: Option<RowErrorDto>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "action": "insert", "mode": "all_or_nothing", "applied": 0, "failed": 1,
    "rows": [
        {"row": 1, "outcome": "not_applied", "id": null, "error": null},
        {"row": 2, "outcome": "failed", "id": null, "error": {"code": "validation_failed",
            "message": "validation failed: product: product CHAPT/WEST does not exist",
            "errors": [{"field": "product", "message": "product CHAPT/WEST does not exist"}]}}
    ]
}))]
pub struct ImportReportDto {
    pub action: ImportAction,
    pub mode: ImportMode,
    /// Rows written (or already as given).
    pub applied: usize,
    pub failed: usize,
    pub rows: Vec<ImportRowDto>,
    /// Columns that were read but are set by the server (`is_member`, `version`, ... as a
    /// list export has them): left as they are. Absent when there were none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_columns: Vec<String>,
}

impl From<ImportAction> for service::subscriptions::plan::Action {
    fn from(a: ImportAction) -> Self {
        use service::subscriptions::plan::Action as A;
        match a {
            ImportAction::Insert => A::Insert,
            ImportAction::InsertWithMatching => A::InsertWithMatching,
            ImportAction::Update => A::Update,
            ImportAction::Upsert => A::Upsert,
            ImportAction::Delete => A::Delete,
        }
    }
}

impl From<service::subscriptions::plan::Action> for ImportAction {
    fn from(a: service::subscriptions::plan::Action) -> Self {
        use service::subscriptions::plan::Action as A;
        match a {
            A::Insert => ImportAction::Insert,
            A::InsertWithMatching => ImportAction::InsertWithMatching,
            A::Update => ImportAction::Update,
            A::Upsert => ImportAction::Upsert,
            A::Delete => ImportAction::Delete,
        }
    }
}

impl From<ImportMode> for service::subscriptions::import::Mode {
    fn from(m: ImportMode) -> Self {
        match m {
            ImportMode::AllOrNothing => Self::AllOrNothing,
            ImportMode::RowByRow => Self::RowByRow,
        }
    }
}

impl From<service::subscriptions::import::Mode> for ImportMode {
    fn from(m: service::subscriptions::import::Mode) -> Self {
        match m {
            service::subscriptions::import::Mode::AllOrNothing => Self::AllOrNothing,
            service::subscriptions::import::Mode::RowByRow => Self::RowByRow,
        }
    }
}

fn outcome(o: Outcome) -> RowOutcome {
    match o {
        Outcome::Inserted => RowOutcome::Inserted,
        Outcome::Updated => RowOutcome::Updated,
        Outcome::Unchanged => RowOutcome::Unchanged,
        Outcome::Deleted => RowOutcome::Deleted,
        Outcome::Failed => RowOutcome::Failed,
        Outcome::NotApplied => RowOutcome::NotApplied,
    }
}

impl From<RowReport> for ImportRowDto {
    fn from(r: RowReport) -> Self {
        ImportRowDto {
            row: r.row,
            outcome: outcome(r.outcome),
            id: r.id,
            matched_by: r.matched_by.map(str::to_owned),
            error: r.error.map(|e| {
                let e = e.into_detail();
                RowErrorDto {
                    code: e.code.to_owned(),
                    message: e.message,
                    errors: e.errors.into_iter().map(Into::into).collect(),
                }
            }),
        }
    }
}

/// An XLSX workbook: its first worksheet, a header row of field names, one subscription per
/// row. Date cells are read as dates.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct XlsxUpload(pub Vec<u8>);
