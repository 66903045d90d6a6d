//! Committees and their members' terms (C-8).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::committees::{
    Committee, CommitteePatch, NewCommittee, NewTerm, Roster, Service, Term, TermPatch,
};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::words::CommitteeKindDto;
use super::{Date, IdCursor, nullable, page_request};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Board of Directors", "kind": "board",
    "description": "Elected at the annual meeting"}))]
pub struct NewCommitteeDto {
    /// Unique regardless of letter case.
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    /// Default `committee`.
    pub kind: Option<CommitteeKindDto>,
    #[validate(length(max = 500))]
    pub description: Option<String>,
    /// Default `true`.
    pub active: Option<bool>,
}

impl From<NewCommitteeDto> for NewCommittee {
    fn from(d: NewCommitteeDto) -> Self {
        NewCommittee {
            name: d.name,
            kind: d.kind.map(Into::into),
            description: d.description,
            active: d.active,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct CommitteePatchDto {
    #[validate(length(min = 1, max = 100))]
    pub name: Option<String>,
    pub kind: Option<CommitteeKindDto>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

impl From<CommitteePatchDto> for CommitteePatch {
    fn from(d: CommitteePatchDto) -> Self {
        CommitteePatch {
            name: d.name,
            kind: d.kind.map(Into::into),
            description: d.description,
            active: d.active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 2, "name": "Board of Directors", "kind": "board",
    "description": "Elected at the annual meeting", "active": true, "version": 1,
    "created_at": "2026-12-07T10:00:00Z", "updated_at": "2026-12-07T10:00:00Z"}))]
pub struct CommitteeDto {
    pub id: i64,
    pub name: String,
    pub kind: CommitteeKindDto,
    pub description: Option<String>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Committee> for CommitteeDto {
    fn from(c: Committee) -> Self {
        CommitteeDto {
            id: c.id,
            name: c.name,
            kind: c.kind.into(),
            description: c.description,
            active: c.active,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitteeList {
    pub items: Vec<CommitteeDto>,
    pub next_cursor: Option<String>,
}

/// `limit`, `cursor` and `active` of the committee list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommitteeQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<IdCursor>,
    /// Only active (`true`) or inactive (`false`) committees.
    pub active: Option<bool>,
}

impl CommitteeQuery {
    pub fn page(&self) -> service::page::PageRequest {
        page_request(self.limit, self.cursor.as_ref().map(|c| c.0.as_str()))
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_id": 18, "position": "chair", "begin": "2026-01-01",
    "end": "2027-12-31"}))]
pub struct NewMemberDto {
    pub contact_id: i64,
    /// The seat held: `chair`, `vice-chair`, `treasurer`, `member`, ...
    #[validate(length(min = 1, max = 60))]
    pub position: String,
    /// The term's first day.
    #[serde(default)]
    #[schema(value_type = Date, required = true)]
    pub begin: Option<Date>,
    /// The term's last day; absent or `null` while open-ended. Not before `begin`.
    pub end: Option<Date>,
}

impl From<NewMemberDto> for NewTerm {
    fn from(d: NewMemberDto) -> Self {
        NewTerm {
            contact_id: d.contact_id,
            position: d.position,
            begin: d.begin.map(|b| b.0),
            end: d.end.map(|e| e.0),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"end": "2026-06-30"}))]
pub struct MemberPatchDto {
    #[validate(length(min = 1, max = 60))]
    pub position: Option<String>,
    pub begin: Option<Date>,
    /// The term's last day (when someone steps down); `null` makes it open-ended again.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Date>)]
    pub end: Option<Option<Date>>,
}

impl From<MemberPatchDto> for TermPatch {
    fn from(d: MemberPatchDto) -> Self {
        TermPatch {
            position: d.position,
            begin: d.begin.map(|b| b.0),
            end: d.end.map(|e| e.map(|e| e.0)),
        }
    }
}

/// One term of a contact on a committee.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 7, "committee_id": 2, "committee_name": "Board of Directors",
    "contact_id": 18, "contact_name": "Ana Silva", "position": "chair", "begin": "2026-01-01",
    "end": "2027-12-31", "current": true, "version": 1,
    "created_at": "2026-12-07T10:00:00Z", "updated_at": "2026-12-07T10:00:00Z"}))]
pub struct MemberDto {
    /// The member record's id.
    pub id: i64,
    pub committee_id: i64,
    pub committee_name: String,
    pub contact_id: i64,
    pub contact_name: String,
    pub position: String,
    pub begin: NaiveDate,
    pub end: Option<NaiveDate>,
    /// Whether the term covers today.
    pub current: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MemberDto {
    /// `today` decides `current`.
    pub fn new(t: Term, today: NaiveDate) -> Self {
        MemberDto {
            current: t.covers(today),
            id: t.id,
            committee_id: t.committee_id,
            committee_name: t.committee_name,
            contact_id: t.contact_id,
            contact_name: t.contact_name,
            position: t.position,
            begin: t.begin,
            end: t.end,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberDto>,
    pub next_cursor: Option<String>,
}

/// A committee's roster: the terms that cover `as_of`, or every term with `all=true`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RosterQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<IdCursor>,
    /// The date of the roster (default: today): terms begun on or before it and not ended
    /// before it.
    pub as_of: Option<Date>,
    /// `true`: every term, past, current and future (`as_of` is then not allowed).
    pub all: Option<bool>,
}

impl RosterQuery {
    pub fn page(&self) -> service::page::PageRequest {
        page_request(self.limit, self.cursor.as_ref().map(|c| c.0.as_str()))
    }

    pub fn roster(&self) -> Result<Roster, service::Error> {
        match (self.all.unwrap_or(false), self.as_of) {
            // Each parameter is well formed; together they ask two things (422, as dates out
            // of order are).
            (true, Some(_)) => Err(service::Error::invalid(
                "as_of",
                "a roster at a date cannot also list every term (all=true)",
            )),
            (true, None) => Ok(Roster::All),
            (false, as_of) => Ok(Roster::AsOf(Date::or_today(as_of))),
        }
    }
}

/// A contact's committee service: every term, or only current or past ones.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<IdCursor>,
    /// `true`: only terms that cover today; `false`: only terms that ended before today.
    pub current: Option<bool>,
}

impl ServiceQuery {
    pub fn page(&self) -> service::page::PageRequest {
        page_request(self.limit, self.cursor.as_ref().map(|c| c.0.as_str()))
    }

    pub fn service(&self, today: NaiveDate) -> Service {
        match self.current {
            None => Service::All,
            Some(true) => Service::Current(today),
            Some(false) => Service::Past(today),
        }
    }
}
