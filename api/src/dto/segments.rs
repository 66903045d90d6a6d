//! Saved contact segments (L-3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::segments::{Segment, SegmentInput};
use utoipa::ToSchema;
use validator::Validate;

use super::contacts::ContactFilterDto;

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Event prospects", "description": "Non-members who came to an event",
    "filter": {"is_member": false, "any_tags": ["event-attendee"]}}))]
pub struct SegmentInputDto {
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 500))]
    pub description: Option<String>,
    /// The list filters of `GET /contacts`, as JSON.
    #[serde(deserialize_with = "crate::dto::object")]
    pub filter: ContactFilterDto,
}

impl From<SegmentInputDto> for SegmentInput {
    fn from(d: SegmentInputDto) -> Self {
        SegmentInput {
            name: d.name,
            description: d.description,
            filter: d.filter.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 3, "name": "Event prospects", "description": null,
    "filter": {"is_member": false, "any_tags": ["event-attendee"]}, "version": 1,
    "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z"}))]
pub struct SegmentDto {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    #[serde(deserialize_with = "crate::dto::object")]
    pub filter: ContactFilterDto,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Segment> for SegmentDto {
    fn from(s: Segment) -> Self {
        SegmentDto {
            id: s.id,
            name: s.name,
            description: s.description,
            filter: s.filter.into(),
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentList {
    pub items: Vec<SegmentDto>,
    pub next_cursor: Option<String>,
}
