//! Plans each row of a contact import against the facts loaded for its batch (MG-1, MG-2):
//! which contact it is (new, or found by id, external reference, e-mail or name at a postal
//! code), the record as it will be, and every check a single create or update makes. Nothing
//! here reads the database; a batch is planned in two passes around one load of its
//! reference data.

use std::collections::HashMap;

use chrono::NaiveDate;

use entity::contact as c;

use crate::contacts::draft::{self, Draft, Reference, clean};
use crate::contacts::{ContactPatch, email_key};
use crate::error::{Error, Errors, Result};
use crate::import::{Action, Outcome, PlannedRow};
use crate::tags;

use super::facts::{Facts, row_postal_key, row_sort_name};
use super::input::ContactRow;

pub const BY_EXTERNAL_REF: &str = "external_ref";
pub const BY_EMAIL: &str = "email";
pub const BY_NAME_POSTAL_CODE: &str = crate::duplicates::NAME_POSTAL_CODE;

/// The fields only actions change after the import (C-5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actions {
    pub join_date: Option<NaiveDate>,
    pub renew_months: Option<i32>,
    pub primary_chapter: Option<String>,
}

/// A contact as an import writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub draft: Draft,
    pub actions: Actions,
    /// Sorted.
    pub tags: Vec<String>,
}

impl Record {
    fn of(m: &c::Model, tags: Vec<String>) -> Record {
        Record {
            draft: Draft::of(m),
            actions: Actions {
                join_date: m.join_date,
                renew_months: m.renew_months,
                primary_chapter: m.primary_chapter.clone(),
            },
            tags,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Planned {
    Insert {
        record: Box<Record>,
    },
    Update {
        id: i64,
        version: i32,
        before: Box<Record>,
        after: Box<Record>,
        matched_by: Option<&'static str>,
    },
}

impl Planned {
    pub fn is_change(&self) -> bool {
        match self {
            Planned::Insert { .. } => true,
            Planned::Update { before, after, .. } => before != after,
        }
    }
}

impl PlannedRow for Planned {
    fn outcome(&self) -> Outcome {
        match self {
            Planned::Insert { .. } => Outcome::Inserted,
            Planned::Update { before, after, .. } if before == after => Outcome::Unchanged,
            Planned::Update { .. } => Outcome::Updated,
        }
    }

    fn existing_id(&self) -> Option<i64> {
        match self {
            Planned::Insert { .. } => None,
            Planned::Update { id, .. } => Some(*id),
        }
    }

    fn matched_by(&self) -> Option<&'static str> {
        match self {
            Planned::Update { matched_by, .. } => *matched_by,
            Planned::Insert { .. } => None,
        }
    }
}

/// A row after the first pass: its contact found or new, its record drafted.
#[derive(Debug, Clone)]
pub struct Drafted {
    existing: Option<(i64, i32, Box<Record>)>,
    record: Record,
    matched_by: Option<&'static str>,
}

impl Drafted {
    /// The drafts the second pass checks, for loading their reference data.
    pub fn drafts(&self) -> impl Iterator<Item = &Draft> + Clone {
        std::iter::once(&self.record.draft).chain(self.existing.iter().map(|e| &e.2.draft))
    }
}

/// The first pass: which contact each row is, and the record as it will be. It lives for the
/// whole file, batch after batch, to refuse two rows for one contact.
pub struct Drafter {
    action: Action,
    /// Earlier rows per contact, to refuse two rows for one contact.
    seen_ids: HashMap<i64, usize>,
    seen_keys: HashMap<(&'static str, String), usize>,
}

impl Drafter {
    pub fn new(action: Action) -> Self {
        Drafter {
            action,
            seen_ids: HashMap::new(),
            seen_keys: HashMap::new(),
        }
    }

    pub fn draft(&mut self, index: usize, row: ContactRow, facts: &Facts) -> Result<Drafted> {
        let (existing, matched_by) = self.find(&row, facts)?;
        self.check_once(index, existing.map(|m| m.id), &row, matched_by)?;
        let mut tag_errors = Errors::new();
        let tags = row.patch.tags.as_ref().map(|t| {
            let mut t = tags::normalize(&mut tag_errors, t);
            t.sort();
            t
        });
        tag_errors.into_result()?;
        let mut patch = row.patch.clone();
        if let Some(r) = &row.company_ref {
            // C-3 by reference: a contact's, or one made by an earlier batch of this file
            // (organizations named by other rows are imported first).
            match facts.by_external_ref.get(r) {
                Some(id) => patch.company_id = Some(Some(*id)),
                None => {
                    return Err(Error::invalid(
                        "company_ref",
                        format!(
                            "no organization has external_ref {r}: neither a contact nor an imported row of this file"
                        ),
                    ));
                }
            }
        }
        let drafted = match existing {
            Some(m) => {
                let before = Record::of(m, facts.tags.get(&m.id).cloned().unwrap_or_default());
                let mut after = before.clone();
                after.draft = Draft::patched(m, &patch);
                set_address(&mut after.draft, &row);
                set_actions(&mut after.actions, &row);
                if let Some(t) = tags {
                    after.tags = t;
                }
                Drafted {
                    existing: Some((m.id, m.version, Box::new(before))),
                    record: after,
                    matched_by,
                }
            }
            None => Drafted {
                existing: None,
                record: new_record(&patch, &row, tags)?,
                matched_by: None,
            },
        };
        Ok(drafted)
    }

    /// The existing contact a row is about, and the key that found it when matched.
    fn find<'f>(
        &self,
        row: &ContactRow,
        f: &'f Facts,
    ) -> Result<(Option<&'f c::Model>, Option<&'static str>)> {
        let by_ref = || {
            row.patch
                .external_ref
                .clone()
                .flatten()
                .and_then(|x| f.by_external_ref.get(&x))
                .and_then(|id| f.contacts.get(id))
        };
        match self.action {
            Action::Insert | Action::InsertWithMatching => {
                if let Some(id) = row.id {
                    return Err(Error::invalid(
                        "id",
                        format!(
                            "is assigned by the server: {} makes new contacts; use update or upsert to change contact {id}",
                            self.action.as_str()
                        ),
                    ));
                }
                if self.action == Action::Insert {
                    if let Some(m) = by_ref() {
                        return Err(Error::conflict(format!(
                            "external_ref {} is already used by contact {}",
                            m.external_ref.as_deref().unwrap_or_default(),
                            m.id
                        )));
                    }
                    return Ok((None, None));
                }
                Ok(matching(row, f))
            }
            Action::Update | Action::Upsert => {
                if let Some(id) = row.id {
                    return match f.contacts.get(&id) {
                        Some(m) => match m.merged_into {
                            Some(into) => Err(Error::Merged { id, into }),
                            None => Ok((Some(m), None)),
                        },
                        None => Err(Error::not_found("contact", id)),
                    };
                }
                match by_ref() {
                    Some(m) => Ok((Some(m), None)),
                    None if self.action == Action::Upsert => Ok((None, None)),
                    None => match row.patch.external_ref.clone().flatten() {
                        Some(x) => Err(Error::not_found("contact with external_ref", x)),
                        None => Err(Error::invalid(
                            "id",
                            "update needs the contact's id or its external_ref",
                        )),
                    },
                }
            }
            Action::Delete => Err(Error::invalid(
                "action",
                "contacts are not deleted by import",
            )),
        }
    }

    /// Two rows for one contact in one file are refused: the later names the earlier.
    fn check_once(
        &mut self,
        index: usize,
        existing: Option<i64>,
        row: &ContactRow,
        matched_by: Option<&'static str>,
    ) -> Result<()> {
        let again = |earlier: usize, what: String| {
            Error::conflict(format!(
                "row {} is about the same contact as row {} ({what}); give each contact one row",
                index + 1,
                earlier + 1
            ))
        };
        if let Some(id) = existing {
            if let Some(&earlier) = self.seen_ids.get(&id) {
                let how = matched_by.map_or(String::new(), |k| format!(" matched by {k}"));
                return Err(again(earlier, format!("contact {id}{how}")));
            }
            self.seen_ids.insert(id, index);
        }
        let mut keys = Vec::new();
        if let Some(Some(x)) = &row.patch.external_ref {
            keys.push((BY_EXTERNAL_REF, x.clone()));
        }
        if existing.is_none() && self.action == Action::InsertWithMatching {
            if let Some(Some(e)) = &row.patch.email {
                keys.push((BY_EMAIL, email_key(e)));
            }
            if let (Some(n), Some(p)) = (row_sort_name(row), row_postal_key(row)) {
                keys.push((BY_NAME_POSTAL_CODE, format!("{n}\u{1f}{p}")));
            }
        }
        for key in &keys {
            if let Some(&earlier) = self.seen_keys.get(key) {
                let shown = key.1.replace('\u{1f}', " at ");
                return Err(again(earlier, format!("{} {shown}", key.0)));
            }
        }
        for key in keys {
            self.seen_keys.insert(key, index);
        }
        Ok(())
    }
}

/// MG-2: external reference, then e-mail (any letter case), then name and postal code; the
/// oldest contact when several share a key.
fn matching<'f>(row: &ContactRow, f: &'f Facts) -> (Option<&'f c::Model>, Option<&'static str>) {
    let found = |id: Option<&i64>| id.and_then(|id| f.contacts.get(id));
    if let Some(Some(x)) = &row.patch.external_ref
        && let Some(m) = found(f.by_external_ref.get(x))
    {
        return (Some(m), Some(BY_EXTERNAL_REF));
    }
    if let Some(Some(e)) = &row.patch.email
        && let Some(m) = found(f.by_email.get(&email_key(e)).and_then(|v| v.first()))
    {
        return (Some(m), Some(BY_EMAIL));
    }
    if let (Some(name), Some(postal)) = (row_sort_name(row), row_postal_key(row))
        && let Some(m) = found(
            f.by_name_postal
                .get(&(name, postal))
                .and_then(|v| v.first()),
        )
    {
        return (Some(m), Some(BY_NAME_POSTAL_CODE));
    }
    (None, None)
}

fn new_record(patch: &ContactPatch, row: &ContactRow, tags: Option<Vec<String>>) -> Result<Record> {
    let Some(customer_type) = patch.customer_type.as_deref() else {
        return Err(Error::invalid(
            "customer_type",
            "is required for a new contact",
        ));
    };
    let mut draft = Draft::new(customer_type, patch);
    set_address(&mut draft, row);
    let mut actions = Actions::default();
    set_actions(&mut actions, row);
    Ok(Record {
        draft,
        actions,
        tags: tags.unwrap_or_default(),
    })
}

/// Each address field given replaces its field; the others stay.
fn set_address(d: &mut Draft, row: &ContactRow) {
    let a = &mut d.address;
    let fields = [
        &mut a.line1,
        &mut a.line2,
        &mut a.city,
        &mut a.region,
        &mut a.postal_code,
        &mut a.country,
    ];
    for (field, given) in fields.into_iter().zip(&row.address) {
        if let Some(v) = given {
            *field = clean(v.clone());
        }
    }
    a.country = a.country.take().map(|c| c.to_uppercase());
}

fn set_actions(a: &mut Actions, row: &ContactRow) {
    if let Some(v) = row.join_date {
        a.join_date = v;
    }
    if let Some(v) = row.renew_months {
        a.renew_months = v;
    }
    if let Some(v) = &row.primary_chapter {
        a.primary_chapter = clean(v.clone());
    }
}

/// The second pass: every check of a create or update on a drafted row, flow-down (CT-6)
/// for a person linked to an organization, and the plan.
pub fn check(d: Drafted, reference: &Reference, facts: &Facts) -> Result<Planned> {
    let mut errors = Errors::new();
    let self_id = d.existing.as_ref().map(|e| e.0);
    let mut record = d.record;
    let ty = draft::check(&record.draft, self_id, reference, &mut errors).cloned();
    if let (Some((_, _, before)), Some(ty)) = (&d.existing, &ty)
        && let Some(old) = reference.customer_type(&before.draft.customer_type)
        && old.is_organization != ty.is_organization
    {
        errors.add(
            "customer_type",
            format!(
                "customer type {} is of another record kind (person vs organization) than {}",
                ty.code, old.code
            ),
        );
    }
    if let Some(ch) = &record.actions.primary_chapter
        && !facts.products.contains(ch)
    {
        errors.add("primary_chapter", format!("product {ch} does not exist"));
    }
    errors.into_result()?;
    let org_type = record
        .draft
        .company_id
        .and_then(|id| reference.company_type(id))
        .map(str::to_owned);
    follow_organization(&mut record, d.existing.as_ref(), org_type, facts);
    Ok(match d.existing {
        None => Planned::Insert {
            record: Box::new(record),
        },
        Some((id, version, before)) => Planned::Update {
            id,
            version,
            before,
            after: Box::new(record),
            matched_by: d.matched_by,
        },
    })
}

/// CT-6: a person newly linked to an organization (or unlinked) takes the flow-down type,
/// unless the row sets the type itself on an existing contact.
fn follow_organization(
    record: &mut Record,
    before: Option<&(i64, i32, Box<Record>)>,
    org_type: Option<String>,
    facts: &Facts,
) {
    let linked = record.draft.company_id.is_some();
    if let Some((_, _, before)) = before {
        let same_company = before.draft.company_id == record.draft.company_id;
        let type_given = before.draft.customer_type != record.draft.customer_type;
        if same_company || type_given {
            return;
        }
    } else if !linked {
        return;
    }
    if let Some(t) = facts
        .flow_down
        .linked_type(&record.draft.customer_type, org_type.as_deref())
    {
        record.draft.customer_type = t;
    }
}
