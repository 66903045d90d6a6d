//! Renewal runs (R-1..R-6).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::renewals::RunResult;
use utoipa::ToSchema;
use validator::Validate;

use super::invoices::{CycleRefDto, LineDto};
use super::words::AutopayOptionDto;
use super::{Date, Money};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"billing_cycle": "Member renewals", "effective_date": "2027-01-01", "dry_run": true}))]
pub struct RunRequestDto {
    /// The cycle, by id or name.
    pub billing_cycle: CycleRefDto,
    /// Default: today plus the cycle's months prior to expiration.
    pub effective_date: Option<Date>,
    /// B-16: this run's AutoPay option; default: the cycle's.
    pub autopay_option: Option<AutopayOptionDto>,
    /// Preview: what would be billed; nothing is billed. The preview is saved for 24
    /// hours (JB-2): the answer's `preview_id`.
    #[serde(default)]
    pub dry_run: bool,
    /// JB-2: bill exactly the contacts of this saved preview, at its effective date and by its
    /// AutoPay option; once.
    pub preview_id: Option<i64>,
}

impl validator::Validate for RunRequestDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkipDto {
    pub contact_id: i64,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunInvoiceDto {
    /// Null in a preview, and for a bill without an invoice (`printed` false).
    pub invoice_id: Option<i64>,
    /// False for a zero total the cycle does not print (B-10): no invoice is recorded, and the
    /// complimentary subscriptions are paid through the term all the same.
    pub printed: bool,
    pub contact_id: i64,
    pub customer_type: String,
    pub term_begin: NaiveDate,
    pub term_end: NaiveDate,
    pub lines: Vec<LineDto>,
    pub total: Money,
}

/// The outcome of a run or its preview. `invoices` and `skipped` list the first 1,000;
/// the counts cover everything (`GET /invoices?renewal_run=` lists every invoice).
#[derive(Debug, Serialize, ToSchema)]
pub struct RunResultDto {
    /// Null for a preview.
    pub id: Option<i64>,
    pub dry_run: bool,
    pub billing_cycle: i64,
    pub effective_date: Option<NaiveDate>,
    /// The AutoPay option the run billed by: the request's, else the cycle's (B-16).
    pub autopay_option: AutopayOptionDto,
    pub considered: u64,
    pub billed: u64,
    pub skipped_count: u64,
    pub skipped: Vec<SkipDto>,
    pub total: Money,
    pub invoices: Vec<RunInvoiceDto>,
    /// A dry run's saved preview (JB-2), for 24 hours; null for a run.
    pub preview_id: Option<i64>,
    /// Committing a preview (JB-2): contacts billed otherwise than previewed (billed as they
    /// are now). The first 1,000.
    pub changed_since_preview: Vec<i64>,
    /// Committing a preview (JB-2): previewed contacts no longer due, billed by nobody. The
    /// first 1,000.
    pub no_longer_due: Vec<i64>,
}

impl RunResultDto {
    pub fn new(r: RunResult, dry_run: bool) -> Self {
        RunResultDto {
            id: r.id,
            dry_run,
            billing_cycle: r.cycle_id,
            effective_date: r.effective_date,
            autopay_option: r.autopay_option.into(),
            considered: r.considered,
            billed: r.billed,
            skipped_count: r.skipped_count,
            skipped: r
                .skipped
                .into_iter()
                .map(|(contact_id, reason)| SkipDto { contact_id, reason })
                .collect(),
            total: Money(r.total_cents),
            invoices: r
                .invoices
                .into_iter()
                .map(|(invoice_id, b)| RunInvoiceDto {
                    invoice_id,
                    printed: b.printed,
                    contact_id: b.contact_id,
                    total: Money(b.total()),
                    customer_type: b.customer_type,
                    term_begin: b.term.begin,
                    term_end: b.term.end,
                    lines: b.lines.into_iter().map(Into::into).collect(),
                })
                .collect(),
            preview_id: r.preview_id,
            changed_since_preview: r.changed_since_preview,
            no_longer_due: r.no_longer_due,
        }
    }
}

/// A saved renewal preview (JB-2): its inputs and counts; its bills are at
/// `/renewal-runs/previews/{id}/invoices`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewDto {
    pub id: i64,
    pub billing_cycle: i64,
    pub effective_date: NaiveDate,
    pub autopay_option: Option<AutopayOptionDto>,
    pub considered: i64,
    pub billed: i64,
    pub skipped_count: i64,
    pub total: Money,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    /// After this the preview answers 410.
    pub expires_at: DateTime<Utc>,
    /// The run that committed it.
    pub committed_run_id: Option<i64>,
}

impl From<service::renewals::preview::Preview> for PreviewDto {
    fn from(p: service::renewals::preview::Preview) -> Self {
        PreviewDto {
            id: p.id,
            billing_cycle: p.cycle_id,
            effective_date: p.effective_date,
            autopay_option: p.autopay_option.map(Into::into),
            considered: p.considered,
            billed: p.billed,
            skipped_count: p.skipped,
            total: Money(p.total_cents),
            created_by: p.created_by,
            created_at: p.created_at,
            expires_at: p.expires_at,
            committed_run_id: p.committed_run_id,
        }
    }
}

/// A page of a preview's bills, by contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewInvoiceList {
    pub items: Vec<RunInvoiceDto>,
    pub next_cursor: Option<String>,
}

impl RunInvoiceDto {
    /// A saved preview's bill.
    pub fn previewed(b: service::renewals::preview::PreviewBill) -> service::Result<Self> {
        let lines: Vec<service::billing::lines::LineDraft> = serde_json::from_str(&b.lines)
            .map_err(|e| service::Error::Internal(format!("a saved bill's lines: {e}")))?;
        Ok(RunInvoiceDto {
            invoice_id: None,
            printed: b.printed,
            contact_id: b.contact_id,
            customer_type: b.customer_type,
            term_begin: b.term_begin,
            term_end: b.term_end,
            lines: lines.into_iter().map(Into::into).collect(),
            total: Money(b.total_cents),
        })
    }
}

/// A recorded run: who, when, inputs and counts; `status` is `running` while it runs,
/// with `last_contact_id` as progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDto {
    pub id: i64,
    pub billing_cycle: i64,
    pub effective_date: NaiveDate,
    /// `running`, `completed` or `failed`.
    pub status: String,
    pub run_by: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub considered: i64,
    pub billed: i64,
    pub skipped_count: i64,
    pub total: Money,
    pub last_contact_id: i64,
    pub error: Option<String>,
    /// B-16: the AutoPay option the run used (null for runs recorded before runs kept it).
    pub autopay_option: Option<AutopayOptionDto>,
    /// The batch of its AutoPay invoices (I-5), if any.
    pub batch_id: Option<i64>,
    /// The first 1,000 skipped contacts with their reasons.
    pub skipped: Vec<SkipDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunDto>,
    pub next_cursor: Option<String>,
}

pub fn run_dto(
    m: service::entity::renewal_run::Model,
    skipped: Vec<service::entity::renewal_run_skip::Model>,
    batch_id: Option<i64>,
) -> RunDto {
    RunDto {
        id: m.id,
        billing_cycle: m.cycle_id,
        effective_date: m.effective_date,
        status: m.status,
        run_by: m.run_by,
        started_at: m.started_at,
        finished_at: m.finished_at,
        considered: m.considered,
        billed: m.billed,
        skipped_count: m.skipped,
        total: Money(m.total_cents),
        last_contact_id: m.last_contact_id,
        error: m.error,
        autopay_option: m.autopay_option.map(Into::into),
        batch_id,
        skipped: skipped
            .into_iter()
            .map(|s| SkipDto {
                contact_id: s.contact_id,
                reason: s.reason,
            })
            .collect(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"renew_months": 24}))]
pub struct RenewMonthsDto {
    /// 1..=120.
    pub renew_months: u32,
}

impl validator::Validate for RenewMonthsDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReminderQuery {
    /// The cycle's id.
    pub billing_cycle: i64,
    /// Default: today.
    pub as_of: Option<Date>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::IdCursor>,
}

/// Send the reminders of a cycle (I-7, N-1).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"billing_cycle": 3, "as_of": "2027-01-15"}))]
pub struct SendRemindersDto {
    /// The cycle's id.
    pub billing_cycle: i64,
    /// Default: today.
    pub as_of: Option<Date>,
}

/// How many reminder notices were written.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemindersSentDto {
    pub written: u64,
}

/// An open renewal invoice to remind of, with its open lines (I-7).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderDto {
    pub invoice_id: i64,
    pub contact_id: i64,
    pub bill_to_id: i64,
    pub term_begin: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    /// What is still owed on the lines shown.
    pub open_amount: Money,
    pub balance: Money,
    pub lines: Vec<LineDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderList {
    pub items: Vec<ReminderDto>,
    pub next_cursor: Option<String>,
}

impl From<service::billing::reminders::Reminder> for ReminderDto {
    fn from(r: service::billing::reminders::Reminder) -> Self {
        let open_amount = r.open_amount();
        let i = r.invoice;
        ReminderDto {
            invoice_id: i.id,
            contact_id: i.contact_id,
            bill_to_id: i.bill_to_id,
            term_begin: i.term_begin,
            term_end: i.term_end,
            open_amount: Money(open_amount),
            balance: Money(i.total_cents - i.paid_cents),
            lines: r.lines.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"billing_cycle": "Associate membership", "primary_product": "AM_3", "as_of": "2026-06-01"}))]
pub struct RenewInAdvanceDto {
    /// A dues cycle of the contact's customer type, by id or name.
    pub billing_cycle: CycleRefDto,
    /// Another product of the formula family for the new term.
    pub primary_product: Option<String>,
    /// The pricing date (and the term start when the contact has no paid-through); default
    /// today.
    pub as_of: Option<Date>,
}

impl validator::Validate for RenewInAdvanceDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// The member's open renewal and what they may change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemizedDto {
    pub invoice: super::invoices::InvoiceDto,
    /// Add-ons of the cycle not on the renewal.
    pub optional_items: Vec<String>,
    /// Primary fee products to choose from; choosing one cancels all primary items billed.
    pub primary_choices: Vec<String>,
}

impl From<service::renewals::itemized::Itemized> for ItemizedDto {
    fn from(i: service::renewals::itemized::Itemized) -> Self {
        ItemizedDto {
            invoice: i.invoice.into(),
            optional_items: i.optional,
            primary_choices: i.primary_choices,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"primary_product": "MDUES", "add_ons": ["JOURNAL"], "remove": ["BOOK"], "voluntary": {"GIFT": "15.00"}}))]
pub struct ItemizedChoiceDto {
    pub primary_product: Option<String>,
    #[serde(default)]
    pub add_ons: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
    #[serde(default)]
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub voluntary: std::collections::BTreeMap<String, Money>,
}

impl ItemizedChoiceDto {
    /// Asks for no change at all (`{}`).
    pub fn is_empty(&self) -> bool {
        self.primary_product.is_none()
            && self.add_ons.is_empty()
            && self.remove.is_empty()
            && self.voluntary.is_empty()
    }
}

/// start a contact's renewal now; default cycle: the first dues cycle of its type.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"billing_cycle": "Member renewals"}))]
pub struct RenewNowDto {
    pub billing_cycle: Option<CycleRefDto>,
}

impl validator::Validate for RenewNowDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

impl validator::Validate for ItemizedChoiceDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}
