use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::contacts::{Address, ContactFilter, ContactPatch, ContactView, NewContact};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{Date, nullable};

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressDto {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

impl From<AddressDto> for Address {
    fn from(a: AddressDto) -> Self {
        Address {
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BallotPreference {
    Electronic,
    Paper,
}

impl BallotPreference {
    fn as_str(self) -> &'static str {
        match self {
            BallotPreference::Electronic => "electronic",
            BallotPreference::Paper => "paper",
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 1001, "customer_type": "M", "billing_category": "REG", "status": "A",
    "first_name": "Ana", "last_name": "Silva", "organization_name": null,
    "email": "ana@example.org", "phone": null,
    "address": {"line1": "1 Main St", "line2": null, "city": "Springfield", "region": "IL", "postal_code": "62701", "country": "US"},
    "company_id": 1000, "external_ref": "LEGACY-17", "tags": ["event-attendee"], "autopay": false,
    "email_opt_in": true, "mail_opt_in": true, "ballot_preference": "electronic",
    "is_member": true, "is_organization": false, "join_date": "2024-04-01", "paid_through": "2026-12-31",
    "renew_months": 12, "primary_chapter": null, "version": 3,
    "created_at": "2024-04-01T10:00:00Z", "updated_at": "2026-01-05T08:30:00Z"
}))]
pub struct ContactDto {
    /// The member id: never changes, never reused (C-1).
    pub id: i64,
    pub customer_type: String,
    pub billing_category: Option<String>,
    pub status: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organization_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: AddressDto,
    pub company_id: Option<i64>,
    pub external_ref: Option<String>,
    pub tags: Vec<String>,
    pub autopay: bool,
    pub email_opt_in: bool,
    pub mail_opt_in: bool,
    pub ballot_preference: Option<String>,
    /// From the customer type (C-2).
    pub is_member: bool,
    /// From the customer type (C-2).
    pub is_organization: bool,
    pub join_date: Option<NaiveDate>,
    pub paid_through: Option<NaiveDate>,
    pub renew_months: Option<i32>,
    pub primary_chapter: Option<String>,
    /// Also sent as the `ETag`; send it back in `If-Match`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ContactView> for ContactDto {
    fn from(v: ContactView) -> Self {
        let c = v.contact;
        ContactDto {
            id: c.id,
            customer_type: c.customer_type,
            billing_category: c.billing_category,
            status: c.status,
            first_name: c.first_name,
            last_name: c.last_name,
            organization_name: c.organization_name,
            email: c.email,
            phone: c.phone,
            address: AddressDto {
                line1: c.address_line1,
                line2: c.address_line2,
                city: c.city,
                region: c.region,
                postal_code: c.postal_code,
                country: c.country,
            },
            company_id: c.company_id,
            external_ref: c.external_ref,
            tags: v.tags,
            autopay: c.autopay,
            email_opt_in: c.email_opt_in,
            mail_opt_in: c.mail_opt_in,
            ballot_preference: c.ballot_preference,
            is_member: v.is_member,
            is_organization: v.is_organization,
            join_date: c.join_date,
            paid_through: c.paid_through,
            renew_months: c.renew_months,
            primary_chapter: c.primary_chapter,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub items: Vec<ContactDto>,
    pub next_cursor: Option<String>,
}

/// Fields that are not the caller's to set, accepted only to answer with the exact reason
/// (C-2, C-5).
macro_rules! locked_names {
    ($d:expr) => {{
        let d = &$d;
        [
            ("is_member", d.is_member.is_some()),
            ("is_organization", d.is_organization.is_some()),
            ("join_date", d.join_date.is_some()),
            ("paid_through", d.paid_through.is_some()),
            ("renew_months", d.renew_months.is_some()),
            ("primary_chapter", d.primary_chapter.is_some()),
        ]
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(n, _)| n.to_owned())
        .collect::<Vec<String>>()
    }};
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "customer_type": "M", "billing_category": "REG", "first_name": "Ana", "last_name": "Silva",
    "email": "ana@example.org", "company_id": 1000, "tags": ["event-attendee"]
}))]
pub struct NewContactDto {
    pub customer_type: String,
    pub billing_category: Option<String>,
    /// Default `A`.
    pub status: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organization_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<AddressDto>,
    /// The organization a person is linked to (C-3).
    pub company_id: Option<i64>,
    pub external_ref: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub autopay: Option<bool>,
    pub email_opt_in: Option<bool>,
    pub mail_opt_in: Option<bool>,
    pub ballot_preference: Option<BallotPreference>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub is_member: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub is_organization: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub join_date: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub paid_through: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub renew_months: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub primary_chapter: Option<Option<serde_json::Value>>,
}

impl From<NewContactDto> for NewContact {
    fn from(d: NewContactDto) -> Self {
        NewContact {
            attempted_locked: locked_names!(d),
            customer_type: d.customer_type,
            billing_category: d.billing_category,
            status: d.status,
            first_name: d.first_name,
            last_name: d.last_name,
            organization_name: d.organization_name,
            email: d.email,
            phone: d.phone,
            address: d.address.map(Into::into),
            company_id: d.company_id,
            external_ref: d.external_ref,
            tags: d.tags,
            autopay: d.autopay,
            email_opt_in: d.email_opt_in,
            mail_opt_in: d.mail_opt_in,
            ballot_preference: d.ballot_preference.map(|b| b.as_str().to_owned()),
        }
    }
}

/// Absent fields stay as they are; `null` clears an optional field.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": "+1 555 0100", "address": {"line1": "2 Oak Ave", "city": "Springfield", "country": "US"}}))]
pub struct ContactPatchDto {
    /// Staff only, and only between non-member types (C-5).
    pub customer_type: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub billing_category: Option<Option<String>>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub organization_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<AddressDto>)]
    pub address: Option<Option<AddressDto>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_ref: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub autopay: Option<bool>,
    pub email_opt_in: Option<bool>,
    pub mail_opt_in: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<BallotPreference>)]
    pub ballot_preference: Option<Option<BallotPreference>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub is_member: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub is_organization: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub join_date: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub paid_through: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub renew_months: Option<Option<serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(ignore)]
    pub primary_chapter: Option<Option<serde_json::Value>>,
}

impl From<ContactPatchDto> for ContactPatch {
    fn from(d: ContactPatchDto) -> Self {
        ContactPatch {
            attempted_locked: locked_names!(d),
            customer_type: d.customer_type,
            billing_category: d.billing_category,
            status: d.status,
            first_name: d.first_name,
            last_name: d.last_name,
            organization_name: d.organization_name,
            email: d.email,
            phone: d.phone,
            address: d.address.map(|a| a.map(Into::into)),
            company_id: d.company_id,
            external_ref: d.external_ref,
            tags: d.tags,
            autopay: d.autopay,
            email_opt_in: d.email_opt_in,
            mail_opt_in: d.mail_opt_in,
            ballot_preference: d
                .ballot_preference
                .map(|b| b.map(|b| b.as_str().to_owned())),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::IdCursor>,
    pub customer_type: Option<String>,
    pub billing_category: Option<String>,
    pub status: Option<String>,
    pub is_member: Option<bool>,
    pub company_id: Option<i64>,
    pub tag: Option<String>,
    /// Contacts with at least one of these tags, comma-separated (`event-attendee,interest-form`).
    pub any_tag: Option<String>,
    /// Case-insensitive search in name and email.
    pub q: Option<String>,
    /// Only contacts changed at or after this instant (RFC 3339), for incremental sync.
    pub updated_since: Option<DateTime<Utc>>,
    /// L-2: `true` for contacts that are not members now and have dues history.
    pub previous_member: Option<bool>,
    /// L-3: `true` for non-members who are previous members or carry a prospect tag (settings).
    pub prospect: Option<bool>,
    /// Join date on or after.
    pub joined_from: Option<Date>,
    /// Join date on or before.
    pub joined_to: Option<Date>,
    /// Paid-through on or after.
    pub paid_through_from: Option<Date>,
    /// Paid-through on or before.
    pub paid_through_to: Option<Date>,
    /// Lapse date (a previous member's last paid-through) on or after.
    pub lapsed_from: Option<Date>,
    /// Lapse date (a previous member's last paid-through) on or before.
    pub lapsed_to: Option<Date>,
    /// Also apply this saved segment's filter.
    pub segment: Option<i64>,
    /// L-7: `true` for contacts who accept email, `false` for those who do not.
    pub email_opt_in: Option<bool>,
    /// L-7: `true` for contacts who accept postal mail, `false` for those who do not.
    pub mail_opt_in: Option<bool>,
    /// L-7: `true` for contacts with an email address, `false` for those without one.
    pub has_email: Option<bool>,
    /// L-7: `true` for contacts with a usable postal address (a first address line, and a city
    /// or a postal code), `false` for those without one.
    pub has_address: Option<bool>,
}

/// The later of two optional lower bounds, the earlier of two upper bounds.
fn narrower(a: Option<NaiveDate>, b: Option<NaiveDate>, lower: bool) -> Option<NaiveDate> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if lower { x.max(y) } else { x.min(y) }),
        (x, y) => x.or(y),
    }
}

impl ContactQuery {
    pub fn filter(&self) -> ContactFilter {
        ContactFilter {
            customer_type: self.customer_type.clone(),
            billing_category: self.billing_category.clone(),
            status: self.status.clone(),
            is_member: self.is_member,
            company_id: self.company_id,
            tag: self.tag.clone(),
            any_tags: crate::dto::comma_list(self.any_tag.as_deref()),
            q: self.q.clone(),
            updated_since: self.updated_since,
            previous_member: self.previous_member,
            prospect: self.prospect,
            joined_from: self.joined_from.map(Into::into),
            joined_to: self.joined_to.map(Into::into),
            paid_through_from: narrower(
                self.paid_through_from.map(Into::into),
                self.lapsed_from.map(Into::into),
                true,
            ),
            paid_through_to: narrower(
                self.paid_through_to.map(Into::into),
                self.lapsed_to.map(Into::into),
                false,
            ),
            segment: self.segment,
            email_opt_in: self.email_opt_in,
            mail_opt_in: self.mail_opt_in,
            has_email: self.has_email,
            has_address: self.has_address,
        }
    }

    pub fn page(&self) -> service::page::PageRequest {
        service::page::PageRequest {
            limit: self.limit,
            cursor: self.cursor.as_ref().map(|c| c.0.clone()),
        }
    }
}

/// A contact filter in a request body: the list filters of `GET /contacts`, as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"is_member": false, "any_tags": ["event-attendee"], "joined_from": "2022-01-01"}))]
pub struct ContactFilterDto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_member: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// At least one of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_tags: Vec<String>,
    /// Case-insensitive search in name and email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_since: Option<DateTime<Utc>>,
    /// L-2: not a member now, with dues history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_member: Option<bool>,
    /// L-3: a non-member who is a previous member or carries a prospect tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prospect: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_from: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_to: Option<Date>,
    /// Paid-through (for a previous member: the lapse date) on or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_through_from: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_through_to: Option<Date>,
    /// A saved segment whose filter applies as well (not inside a saved segment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<i64>,
    /// L-7: accepts email (`true`) or does not (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_opt_in: Option<bool>,
    /// L-7: accepts postal mail (`true`) or does not (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_opt_in: Option<bool>,
    /// L-7: has an email address (`true`) or has none (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_email: Option<bool>,
    /// L-7: has a usable postal address (`true`: a first address line, and a city or a postal
    /// code) or has none (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_address: Option<bool>,
}

impl From<ContactFilterDto> for ContactFilter {
    fn from(d: ContactFilterDto) -> Self {
        ContactFilter {
            customer_type: d.customer_type,
            billing_category: d.billing_category,
            status: d.status,
            is_member: d.is_member,
            company_id: d.company_id,
            tag: d.tag,
            any_tags: d.any_tags,
            q: d.q,
            updated_since: d.updated_since,
            previous_member: d.previous_member,
            prospect: d.prospect,
            joined_from: d.joined_from.map(Into::into),
            joined_to: d.joined_to.map(Into::into),
            paid_through_from: d.paid_through_from.map(Into::into),
            paid_through_to: d.paid_through_to.map(Into::into),
            segment: d.segment,
            email_opt_in: d.email_opt_in,
            mail_opt_in: d.mail_opt_in,
            has_email: d.has_email,
            has_address: d.has_address,
        }
    }
}

impl From<ContactFilter> for ContactFilterDto {
    fn from(f: ContactFilter) -> Self {
        ContactFilterDto {
            customer_type: f.customer_type,
            billing_category: f.billing_category,
            status: f.status,
            is_member: f.is_member,
            company_id: f.company_id,
            tag: f.tag,
            any_tags: f.any_tags,
            q: f.q,
            updated_since: f.updated_since,
            previous_member: f.previous_member,
            prospect: f.prospect,
            joined_from: f.joined_from.map(Into::into),
            joined_to: f.joined_to.map(Into::into),
            paid_through_from: f.paid_through_from.map(Into::into),
            paid_through_to: f.paid_through_to.map(Into::into),
            segment: f.segment,
            email_opt_in: f.email_opt_in,
            mail_opt_in: f.mail_opt_in,
            has_email: f.has_email,
            has_address: f.has_address,
        }
    }
}

/// Days without a term between two terms (L-6).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"begin": "2025-01-01", "end": "2025-04-09", "days": 99}))]
pub struct GapDto {
    pub begin: NaiveDate,
    pub end: NaiveDate,
    pub days: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kind": "type_change", "at": "2026-03-01T09:00:00Z", "from": "NMIND", "to": "MIND"}))]
pub struct HistoryEntryDto {
    /// `term`, `type_change` or `status_change`.
    pub kind: String,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term_begin: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term_end: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// On a term: the days since the latest earlier term ended, when there was a gap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap_before: Option<GapDto>,
}

impl From<service::history::Entry> for HistoryEntryDto {
    fn from(e: service::history::Entry) -> Self {
        let h = e.row;
        HistoryEntryDto {
            kind: h.kind,
            at: h.at,
            term_begin: h.term_begin,
            term_end: h.term_end,
            customer_type: h.customer_type,
            product: h.product,
            invoice_id: h.invoice_id,
            from: h.from_value,
            to: h.to_value,
            gap_before: e.gap_before.map(|(begin, end)| GapDto {
                begin,
                end,
                days: (end - begin).num_days() + 1,
            }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryList {
    pub items: Vec<HistoryEntryDto>,
    pub next_cursor: Option<String>,
}

/// MG-4: a term of the ledger, in the columns `POST /contacts/import-history` takes, so the
/// export imports back (a row as exported is `unchanged`; an edited imported term changes).
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerTermDto {
    pub id: i64,
    pub contact_id: i64,
    /// The contact's external reference, when it has one.
    pub contact_ref: Option<String>,
    pub begin: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub customer_type: Option<String>,
    pub product: Option<String>,
    /// What the term cost, when known (imported terms from another system).
    pub amount: Option<super::Money>,
    /// Brought by the history import (MG-3); billed terms change only through their invoice.
    pub imported: bool,
    /// The invoice that billed the term.
    pub invoice_id: Option<i64>,
}

impl From<service::history_import::ledger::LedgerTerm> for LedgerTermDto {
    fn from(l: service::history_import::ledger::LedgerTerm) -> Self {
        let t = l.term;
        LedgerTermDto {
            id: t.id,
            contact_id: t.contact_id,
            contact_ref: l.contact_ref,
            begin: t.term_begin,
            end: t.term_end,
            customer_type: t.customer_type,
            product: t.product,
            amount: t.amount_cents.map(super::Money),
            imported: t.imported,
            invoice_id: t.invoice_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerTermList {
    pub items: Vec<LedgerTermDto>,
    pub next_cursor: Option<String>,
}

/// Filters of the term ledger (MG-4).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Only this contact's terms.
    pub contact_id: Option<i64>,
    /// Only imported terms (`true`) or only billed ones (`false`).
    pub imported: Option<bool>,
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<super::IdCursor>,
}

impl LedgerQuery {
    pub fn filter(&self) -> service::history_import::ledger::Filter {
        service::history_import::ledger::Filter {
            contact_id: self.contact_id,
            imported: self.imported,
        }
    }

    pub fn page(&self) -> service::page::PageRequest {
        super::page_request(self.limit, self.cursor.as_ref().map(|c| c.0.as_str()))
    }
}

/// MG-2: the contact that survives a merge.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"into": 1001}))]
pub struct MergeDto {
    /// The survivor: every row of the merged contact moves to it.
    #[validate(range(min = 1))]
    pub into: i64,
}

/// `limit` and `cursor` of the duplicates list (MG-2).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuplicateQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<super::PairCursor>,
}

impl DuplicateQuery {
    pub fn page(&self) -> service::page::PageRequest {
        super::page_request(self.limit, self.cursor.as_ref().map(|c| c.0.as_str()))
    }
}

/// Two contacts that are likely one person or organization (MG-2), the older first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateDto {
    pub contact_id: i64,
    pub duplicate_id: i64,
    /// `email` (one address, ignoring case) or `name_postal_code` (one name and postal code,
    /// ignoring case and spaces). A pair alike in both ways is listed once for each.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateList {
    pub items: Vec<DuplicateDto>,
    pub next_cursor: Option<String>,
}

impl From<service::page::Page<service::duplicates::Duplicate>> for DuplicateList {
    fn from(page: service::page::Page<service::duplicates::Duplicate>) -> Self {
        DuplicateList {
            items: page
                .items
                .into_iter()
                .map(|d| DuplicateDto {
                    contact_id: d.contact_id,
                    duplicate_id: d.duplicate_id,
                    reason: d.reason,
                })
                .collect(),
            next_cursor: page.next_cursor,
        }
    }
}
