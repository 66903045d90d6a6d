//! Notices to members (N-1..N-3): templates and the delivery log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use service::entity::notice;
use service::mail::render::Parts;
use service::mail::templates::TemplateView;

/// N-2: a notice template. Templates are Jinja (MiniJinja): `{{ contact.first_name }}`,
/// `{% for line in invoice.lines %}...{% endfor %}`, filters such as `upper`. Every kind sees
/// `association` (`name`, `address`, `reply_to`) and `contact` (`id`, `name`, `first_name`,
/// `last_name`, `email`, `customer_type`, `join_date`, `paid_through`); every kind but
/// `expiry` and `password_reset` sees `invoice` (`id`, `kind`, `status`, `currency`, `total`,
/// `paid`, `balance`, `term_begin`, `term_end`, `issued_on`, `lines` of `product`, `amount`,
/// `term_begin`, `term_end`); `receipt` sees `payment` (`id`, `amount`, `receipt_number`,
/// `paid_on`, `method`); `payment_failed` sees `charge` (`attempts`, `decline_code`);
/// `password_reset` sees `reset` (`url`, `expires_at`). `variables` lists them for the kind.
/// The HTML body is escaped for HTML; the text body and subject are not.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kind": "receipt", "subject": "Receipt {{ payment.receipt_number }} from {{ association.name }}",
    "text": "Dear {{ contact.first_name }}, ...", "html": "<p>Dear {{ contact.first_name }},</p>...",
    "is_default": true, "version": 0, "variables": ["association.name", "contact.first_name", "payment.amount"]}))]
pub struct NoticeTemplateDto {
    /// `renewal_notice`, `reminder`, `receipt`, `payment_failed`, `welcome`, `expiry`,
    /// `password_reset`.
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Not edited: the default.
    pub is_default: bool,
    pub version: i32,
    /// The names this kind's templates may use.
    pub variables: Vec<String>,
}

impl From<TemplateView> for NoticeTemplateDto {
    fn from(v: TemplateView) -> Self {
        NoticeTemplateDto {
            kind: v.kind.into(),
            variables: service::mail::templates::variables(v.kind),
            subject: v.parts.subject,
            text: v.parts.text,
            html: v.parts.html,
            is_default: v.is_default,
            version: v.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeTemplateList {
    pub items: Vec<NoticeTemplateDto>,
}

/// A template to save: it must compile and name only its kind's variables (422 with the line
/// otherwise).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "Your receipt, {{ contact.first_name }}",
    "text": "Thank you for {{ payment.amount }}.", "html": "<p>Thank you for {{ payment.amount }}.</p>"}))]
pub struct NoticeTemplateInputDto {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl From<NoticeTemplateInputDto> for Parts {
    fn from(d: NoticeTemplateInputDto) -> Self {
        Parts {
            subject: d.subject,
            text: d.text,
            html: d.html,
        }
    }
}

/// Render the template in force for a contact (and an invoice of theirs).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_id": 1001, "invoice_id": 41}))]
pub struct PreviewDto {
    pub contact_id: i64,
    pub invoice_id: Option<i64>,
}

/// A rendered notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenderedDto {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl From<Parts> for RenderedDto {
    fn from(p: Parts) -> Self {
        RenderedDto {
            subject: p.subject,
            text: p.text,
            html: p.html,
        }
    }
}

/// N-3: a notice and its delivery.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 12, "kind": "receipt", "contact_id": 1001, "invoice_id": 41, "payment_id": 7,
    "to": "pat@example.org", "status": "sent", "attempts": 1, "last_error": null,
    "subject": "Receipt 1042 from Society of Example Physicians",
    "created_at": "2026-12-01T10:00:00Z", "sent_at": "2026-12-01T10:00:02Z"}))]
pub struct NoticeDto {
    pub id: i64,
    pub kind: String,
    pub contact_id: i64,
    pub invoice_id: Option<i64>,
    pub payment_id: Option<i64>,
    /// The address it went (or goes) to; `null` when the contact had none (`skipped`).
    pub to: Option<String>,
    /// `pending`, `sent`, `failed`, `skipped`, `not_sent` (no mail server configured).
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// The subject it was sent with.
    pub subject: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<notice::Model> for NoticeDto {
    fn from(n: notice::Model) -> Self {
        NoticeDto {
            id: n.id,
            kind: n.kind,
            contact_id: n.contact_id,
            invoice_id: n.invoice_id,
            payment_id: n.payment_id,
            to: n.to_address,
            status: n.status,
            attempts: n.attempts,
            last_error: n.last_error,
            subject: n.subject,
            created_at: n.created_at,
            sent_at: n.sent_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeList {
    pub items: Vec<NoticeDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    #[param(
        pattern = "^(renewal_notice|reminder|receipt|payment_failed|welcome|expiry|password_reset)$"
    )]
    pub kind: Option<String>,
    pub contact_id: Option<i64>,
    pub invoice_id: Option<i64>,
    /// `pending`, `sent`, `failed`, `skipped`, `not_sent`.
    #[param(pattern = "^(pending|sent|failed|skipped|not_sent)$")]
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::IdCursor>,
}

#[cfg(test)]
mod tests {
    use utoipa::IntoParams;
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::{RefOr, path::Parameter};

    use super::NoticeQuery;

    fn pattern_of(name: &str) -> Option<String> {
        let params: Vec<Parameter> = NoticeQuery::into_params(|| None);
        let param = params.iter().find(|p| p.name == name)?;
        let Some(RefOr::T(Schema::Object(schema))) = &param.schema else {
            return None;
        };
        schema.pattern.clone()
    }

    /// The documented filters accept exactly the kinds and statuses the log knows, so that
    /// they cannot fall behind `service::notices`.
    #[test]
    fn n3_the_log_filters_document_exactly_the_known_kinds_and_statuses() {
        let kinds = format!("^({})$", service::notices::KINDS.join("|"));
        let statuses = format!("^({})$", service::notices::STATUSES.join("|"));
        assert_eq!(pattern_of("kind"), Some(kinds));
        assert_eq!(pattern_of("status"), Some(statuses));
    }
}
