//! Events for integrators and webhook endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use service::events::EventView;
use service::webhooks::{DeliveryView, Endpoint, EndpointInput};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// Polling the event feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous poll; absent for the oldest events.
    pub cursor: Option<crate::dto::IdCursor>,
    /// Only these types, comma-separated (`invoice.paid,membership.joined`; spaces and empty
    /// entries are ignored); empty: every type. An unknown type is refused (400).
    #[serde(rename = "type")]
    #[param(
        rename = "type",
        example = "invoice.paid,membership.joined",
        pattern = "^\\s*(contact\\.created|contact\\.updated|contact\\.deleted|subscription\\.changed|invoice\\.created|invoice\\.paid|invoice\\.voided|invoice\\.cancelled|invoice\\.deleted|invoice\\.adjusted|invoice\\.payment_received|invoice\\.reopened|invoice\\.credited|invoice\\.written_off|invoice\\.instalments_planned|invoice\\.charge_failed|payment\\.refunded|payment\\.reversed|payment\\.updated|payment\\.unapplied|payment\\.refund_unrecorded|membership\\.joined|membership\\.renewed|membership\\.expired|renewal_run\\.completed|batch\\.posted|committee_member\\.changed)?\\s*(,\\s*(contact\\.created|contact\\.updated|contact\\.deleted|subscription\\.changed|invoice\\.created|invoice\\.paid|invoice\\.voided|invoice\\.cancelled|invoice\\.deleted|invoice\\.adjusted|invoice\\.payment_received|invoice\\.reopened|invoice\\.credited|invoice\\.written_off|invoice\\.instalments_planned|invoice\\.charge_failed|payment\\.refunded|payment\\.reversed|payment\\.updated|payment\\.unapplied|payment\\.refund_unrecorded|membership\\.joined|membership\\.renewed|membership\\.expired|renewal_run\\.completed|batch\\.posted|committee_member\\.changed)?\\s*)*$"
    )]
    pub types: Option<String>,
}

impl EventQuery {
    pub fn types(&self) -> Vec<String> {
        crate::dto::comma_list(self.types.as_deref())
    }

    pub fn page(&self) -> service::page::PageRequest {
        crate::dto::page_request(self.limit, self.cursor.as_ref().map(|c| c.0.as_str()))
    }
}

/// A business event. Webhook deliveries carry exactly this object as their body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 1042, "type": "invoice.paid", "occurred_at": "2027-01-15T10:00:00Z",
    "subject": "invoices/311", "data": {"invoice_id": 311, "contact_id": 18, "total": "250.00", "kind": "join"}}))]
pub struct EventDto {
    /// Grows in the order events are committed; the feed's cursor.
    pub id: i64,
    /// One of `contact.created`, `contact.updated`, `contact.deleted`, `subscription.changed`,
    /// `invoice.created`, `invoice.paid`, `invoice.voided`, `invoice.cancelled`,
    /// `invoice.deleted`, `invoice.adjusted`, `invoice.payment_received`, `membership.joined`,
    /// `membership.renewed`, `membership.expired`, `renewal_run.completed`, `batch.posted`,
    /// `committee_member.changed`.
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    /// The resource, as `collection/id` under `/api/v1`.
    pub subject: String,
    /// The identifiers and what changed; read the resource for the rest.
    #[schema(value_type = Object)]
    pub data: Value,
}

impl From<EventView> for EventDto {
    fn from(v: EventView) -> Self {
        EventDto {
            id: v.id,
            kind: v.kind,
            occurred_at: v.occurred_at,
            subject: v.subject,
            data: v.data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventFeed {
    pub items: Vec<EventDto>,
    /// Always set: poll again with it (it is the given cursor when nothing new came).
    pub next_cursor: String,
    /// More events wait: poll again at once.
    pub has_more: bool,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://crm.example.org/hooks/ams", "description": "CRM sync",
    "event_types": ["membership.joined", "membership.renewed", "membership.expired"]}))]
pub struct WebhookInputDto {
    /// Where events are POSTed (http or https).
    #[validate(length(min = 1, max = 2000))]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "crate::dto::nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub description: Option<Option<String>>,
    /// Event types to deliver; empty or absent for every type.
    pub event_types: Option<Vec<String>>,
    /// Default `true`. A disabled endpoint keeps its pending deliveries for when it is
    /// enabled again.
    pub enabled: Option<bool>,
}

impl From<WebhookInputDto> for EndpointInput {
    fn from(d: WebhookInputDto) -> Self {
        EndpointInput {
            url: d.url,
            description: d.description,
            event_types: d.event_types,
            enabled: d.enabled,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 2, "url": "https://crm.example.org/hooks/ams", "description": "CRM sync",
    "event_types": ["membership.joined"], "enabled": true,
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwHGyvPCkcDmY=", "last_event_id": 1041,
    "version": 1, "created_at": "2027-01-15T10:00:00Z", "updated_at": "2027-01-15T10:00:00Z"}))]
pub struct WebhookDto {
    pub id: i64,
    pub url: String,
    pub description: Option<String>,
    /// Empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// The Standard Webhooks signing secret: verify `webhook-signature` with it. Sent only
    /// when the endpoint is created; `POST /webhooks/{id}/reveal-secret` shows it again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The last event handed to this endpoint's deliveries.
    pub last_event_id: i64,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookDto {
    /// The answer to the creation: the only one that carries the secret unasked.
    pub fn with_secret(e: Endpoint) -> Self {
        let secret = e.model.secret.clone();
        WebhookDto {
            secret: Some(secret),
            ..WebhookDto::from(e)
        }
    }
}

impl From<Endpoint> for WebhookDto {
    fn from(e: Endpoint) -> Self {
        let m = e.model;
        WebhookDto {
            id: m.id,
            url: m.url,
            description: m.description,
            event_types: e.event_types,
            enabled: m.enabled,
            secret: None,
            last_event_id: m.last_event_id,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A webhook endpoint's signing secret, shown on request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwHGyvPCkcDmY="}))]
pub struct WebhookSecretDto {
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::IdCursor>,
    /// `pending`, `succeeded` or `failed`.
    #[param(pattern = "^(pending|succeeded|failed)$")]
    pub status: Option<String>,
}

impl DeliveryQuery {
    pub fn page(&self) -> service::page::PageRequest {
        crate::dto::page_request(self.limit, self.cursor.as_ref().map(|c| c.0.as_str()))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptDto {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; absent when no answer came.
    pub status_code: Option<i32>,
    /// Why no answer came.
    pub error: Option<String>,
    /// The first 1,000 characters of the answer.
    pub response_excerpt: Option<String>,
    pub duration_ms: i32,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 9, "event_id": 1042, "event_type": "invoice.paid", "status": "pending",
    "attempts": 1, "next_attempt_at": "2027-01-15T10:00:05Z", "last_status_code": 503,
    "created_at": "2027-01-15T10:00:00Z", "updated_at": "2027-01-15T10:00:00Z",
    "log": [{"attempted_at": "2027-01-15T10:00:00Z", "status_code": 503, "error": null,
             "response_excerpt": "busy", "duration_ms": 12}]}))]
pub struct DeliveryDto {
    pub id: i64,
    pub event_id: i64,
    pub event_type: String,
    /// `pending` (retries left), `succeeded` (a 2xx answer) or `failed` (retries spent).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub log: Vec<AttemptDto>,
}

impl From<DeliveryView> for DeliveryDto {
    fn from(v: DeliveryView) -> Self {
        let d = v.delivery;
        DeliveryDto {
            id: d.id,
            event_id: d.event_id,
            event_type: v.event_type,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            created_at: d.created_at,
            updated_at: d.updated_at,
            log: v
                .attempts
                .into_iter()
                .map(|a| AttemptDto {
                    attempted_at: a.attempted_at,
                    status_code: a.status_code,
                    error: a.error,
                    response_excerpt: a.response_excerpt,
                    duration_ms: a.duration_ms,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryDto>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use utoipa::IntoParams;
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::{RefOr, path::Parameter};

    use super::EventQuery;

    /// The documented pattern of `type` accepts exactly what the server reads (known types,
    /// comma-separated, spaces and empty entries ignored), so that it cannot fall behind
    /// `service::events::TYPES`.
    #[test]
    fn the_type_filter_documents_exactly_the_known_event_types() {
        let params: Vec<Parameter> = EventQuery::into_params(|| None);
        let param = params.iter().find(|p| p.name == "type").expect("type");
        let Some(RefOr::T(Schema::Object(schema))) = &param.schema else {
            panic!("type is a string schema");
        };
        let alternatives = service::events::TYPES
            .iter()
            .map(|t| t.replace('.', "\\."))
            .collect::<Vec<_>>()
            .join("|");
        let expected = format!(r"^\s*({alternatives})?\s*(,\s*({alternatives})?\s*)*$");
        assert_eq!(schema.pattern.as_deref(), Some(expected.as_str()));
    }
}
