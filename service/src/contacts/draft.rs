//! The whole contact record as it will be after a create, a patch or an import row, and the
//! checks every one of them passes (C-1..C-4). The checks read facts loaded beforehand
//! (`Reference`), so that one request and an import of 100,000 rows check a record the same
//! way, the import with a bounded number of queries.

use std::collections::{BTreeSet, HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use entity::contact as c;

use crate::customer_types::{self, CustomerType};
use crate::error::{Errors, Result};
use crate::sql::in_ids;
use crate::{billing_categories, contact_statuses};

use super::{Address, ContactPatch, email_key};

pub const FIRST_NAME_MAX: usize = 100;
pub const LAST_NAME_MAX: usize = 100;
pub const ORGANIZATION_NAME_MAX: usize = 200;

/// The whole record as it would be after a create or patch, validated as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub customer_type: String,
    pub billing_category: Option<String>,
    pub status: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organization_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Address,
    pub company_id: Option<i64>,
    pub external_ref: Option<String>,
    pub autopay: bool,
    pub email_opt_in: bool,
    pub mail_opt_in: bool,
    pub ballot_preference: Option<String>,
}

pub fn clean(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

pub fn clean_address(a: Address) -> Address {
    Address {
        line1: clean(a.line1),
        line2: clean(a.line2),
        city: clean(a.city),
        region: clean(a.region),
        postal_code: clean(a.postal_code),
        country: clean(a.country).map(|c| c.to_uppercase()),
    }
}

/// The lower-cased "last, first" (or organization) name that lists sort by and that
/// duplicate matching compares (MG-2).
pub fn sort_name(first: Option<&str>, last: Option<&str>, org: Option<&str>) -> String {
    match (org, last) {
        (Some(o), _) => o.to_lowercase(),
        (None, Some(l)) => match first {
            Some(f) => format!("{}, {}", l.to_lowercase(), f.to_lowercase()),
            None => l.to_lowercase(),
        },
        (None, None) => String::new(),
    }
}

impl Draft {
    /// A new record: the patch's fields over the defaults of a create.
    pub fn new(customer_type: &str, p: &ContactPatch) -> Draft {
        let text = |v: &Option<Option<String>>| clean(v.clone().flatten());
        Draft {
            customer_type: customer_type.trim().to_owned(),
            billing_category: text(&p.billing_category),
            status: clean(p.status.clone())
                .unwrap_or_else(|| contact_statuses::DEFAULT_STATUS.to_owned()),
            first_name: text(&p.first_name),
            last_name: text(&p.last_name),
            organization_name: text(&p.organization_name),
            email: text(&p.email),
            phone: text(&p.phone),
            address: clean_address(p.address.clone().flatten().unwrap_or_default()),
            company_id: p.company_id.flatten(),
            external_ref: text(&p.external_ref),
            autopay: p.autopay.unwrap_or(false),
            email_opt_in: p.email_opt_in.unwrap_or(true),
            mail_opt_in: p.mail_opt_in.unwrap_or(true),
            ballot_preference: text(&p.ballot_preference),
        }
    }

    /// The record as it is now.
    pub fn of(current: &c::Model) -> Draft {
        Draft {
            customer_type: current.customer_type.clone(),
            billing_category: current.billing_category.clone(),
            status: current.status.clone(),
            first_name: current.first_name.clone(),
            last_name: current.last_name.clone(),
            organization_name: current.organization_name.clone(),
            email: current.email.clone(),
            phone: current.phone.clone(),
            address: Address {
                line1: current.address_line1.clone(),
                line2: current.address_line2.clone(),
                city: current.city.clone(),
                region: current.region.clone(),
                postal_code: current.postal_code.clone(),
                country: current.country.clone(),
            },
            company_id: current.company_id,
            external_ref: current.external_ref.clone(),
            autopay: current.autopay,
            email_opt_in: current.email_opt_in,
            mail_opt_in: current.mail_opt_in,
            ballot_preference: current.ballot_preference.clone(),
        }
    }

    /// The record as it will be: the patch's fields over the current ones.
    pub fn patched(current: &c::Model, patch: &ContactPatch) -> Draft {
        let mut d = Draft::of(current);
        let text = |new: &Option<Option<String>>, old: &mut Option<String>| {
            if let Some(v) = new {
                *old = clean(v.clone());
            }
        };
        if let Some(t) = &patch.customer_type {
            d.customer_type = t.trim().to_owned();
        }
        text(&patch.billing_category, &mut d.billing_category);
        if let Some(s) = clean(patch.status.clone()) {
            d.status = s;
        }
        text(&patch.first_name, &mut d.first_name);
        text(&patch.last_name, &mut d.last_name);
        text(&patch.organization_name, &mut d.organization_name);
        text(&patch.email, &mut d.email);
        text(&patch.phone, &mut d.phone);
        if let Some(a) = &patch.address {
            d.address = clean_address(a.clone().unwrap_or_default());
        }
        if let Some(company) = patch.company_id {
            d.company_id = company;
        }
        text(&patch.external_ref, &mut d.external_ref);
        d.autopay = patch.autopay.unwrap_or(d.autopay);
        d.email_opt_in = patch.email_opt_in.unwrap_or(d.email_opt_in);
        d.mail_opt_in = patch.mail_opt_in.unwrap_or(d.mail_opt_in);
        text(&patch.ballot_preference, &mut d.ballot_preference);
        d
    }

    pub fn sort_name(&self) -> String {
        sort_name(
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.organization_name.as_deref(),
        )
    }

    /// The columns a draft sets, shared by create, update and import.
    pub fn into_columns(self) -> c::ActiveModel {
        c::ActiveModel {
            sort_name: Set(self.sort_name()),
            customer_type: Set(self.customer_type),
            billing_category: Set(self.billing_category),
            status: Set(self.status),
            first_name: Set(self.first_name),
            last_name: Set(self.last_name),
            organization_name: Set(self.organization_name),
            email_key: Set(self.email.as_deref().map(email_key)),
            email: Set(self.email),
            phone: Set(self.phone),
            address_line1: Set(self.address.line1),
            address_line2: Set(self.address.line2),
            city: Set(self.address.city),
            region: Set(self.address.region),
            postal_code: Set(self.address.postal_code),
            country: Set(self.address.country),
            company_id: Set(self.company_id),
            external_ref: Set(self.external_ref),
            autopay: Set(self.autopay),
            email_opt_in: Set(self.email_opt_in),
            mail_opt_in: Set(self.mail_opt_in),
            ballot_preference: Set(self.ballot_preference),
            ..Default::default()
        }
    }
}

/// What the checks of some drafts need from the database, loaded in a bounded number of
/// queries: their customer types, billing categories and statuses, and the contacts they
/// name as their organization.
#[derive(Debug, Default)]
pub struct Reference {
    types: HashMap<String, CustomerType>,
    categories: HashSet<String>,
    statuses: HashSet<String>,
    /// Contacts named as organizations: their customer type.
    companies: HashMap<i64, String>,
}

impl Reference {
    pub async fn load<'a>(
        conn: &impl ConnectionTrait,
        drafts: impl Iterator<Item = &'a Draft> + Clone,
    ) -> Result<Reference> {
        let ids: BTreeSet<i64> = drafts.clone().filter_map(|d| d.company_id).collect();
        let companies = company_types(conn, &ids.into_iter().collect::<Vec<_>>()).await?;
        let codes = |f: fn(&Draft) -> Option<&String>| -> Vec<String> {
            let set: BTreeSet<&String> = drafts.clone().filter_map(f).collect();
            set.into_iter().cloned().collect()
        };
        let mut types = codes(|d| Some(&d.customer_type));
        types.extend(companies.values().cloned());
        types.sort();
        types.dedup();
        Ok(Reference {
            types: customer_types::find_many(conn, &types)
                .await?
                .into_iter()
                .map(|t| (t.code.clone(), t))
                .collect(),
            categories: billing_categories::TABLE
                .existing(conn, &codes(|d| d.billing_category.as_ref()))
                .await?,
            statuses: contact_statuses::TABLE
                .existing(conn, &codes(|d| Some(&d.status)))
                .await?,
            companies,
        })
    }

    pub fn customer_type(&self, code: &str) -> Option<&CustomerType> {
        self.types.get(code)
    }

    /// The customer type of the contact `id` named as an organization, if it exists.
    pub fn company_type(&self, id: i64) -> Option<&str> {
        self.companies.get(&id).map(String::as_str)
    }
}

async fn company_types(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(crate::sql::IN_CHUNK) {
        let rows = c::Entity::find()
            .select_only()
            .columns([c::Column::Id, c::Column::CustomerType])
            .filter(in_ids(c::Column::Id, chunk))
            .filter(c::Column::MergedInto.is_null())
            .into_tuple::<(i64, String)>()
            .all(conn)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Every check of C-1..C-4 on a record; `self_id` is the contact's own id when it exists.
/// Returns the record's customer type when it exists.
pub fn check<'r>(
    d: &Draft,
    self_id: Option<i64>,
    r: &'r Reference,
    errors: &mut Errors,
) -> Option<&'r CustomerType> {
    let Some(ty) = r.customer_type(&d.customer_type) else {
        errors.add(
            "customer_type",
            format!("customer type {} does not exist", d.customer_type),
        );
        return None;
    };
    check_billing_category(d, ty, r, errors);
    if !r.statuses.contains(&d.status) {
        errors.add(
            "status",
            format!("contact status {} does not exist", d.status),
        );
    }
    check_record_kind(d, ty, errors);
    check_lengths(d, errors);
    check_country(d, errors);
    if d.email
        .as_deref()
        .is_some_and(|e| !crate::text::is_email(e))
    {
        errors.add("email", "is not a valid email address");
    }
    check_ballot_preference(d, errors);
    check_company(d, self_id, r, errors);
    Some(ty)
}

/// C-4: a category that exists, and one at all when the type bills a primary fee.
fn check_billing_category(d: &Draft, ty: &CustomerType, r: &Reference, errors: &mut Errors) {
    match &d.billing_category {
        Some(cat) if !r.categories.contains(cat) => errors.add(
            "billing_category",
            format!("billing category {cat} does not exist"),
        ),
        Some(_) => {}
        None if ty.has_primary_fee() => errors.add(
            "billing_category",
            format!(
                "customer type {} bills a primary fee, so the contact needs a billing category",
                ty.code
            ),
        ),
        None => {}
    }
}

/// An organization type's record has an organization name and no person's names or company;
/// a person type's record has a last name and no organization name.
fn check_record_kind(d: &Draft, ty: &CustomerType, errors: &mut Errors) {
    if ty.is_organization {
        if d.organization_name.is_none() {
            errors.add(
                "organization_name",
                format!(
                    "is required: customer type {} is an organization type",
                    ty.code
                ),
            );
        }
        for (field, v) in [("first_name", &d.first_name), ("last_name", &d.last_name)] {
            if v.is_some() {
                errors.add(
                    field,
                    format!("organizations have no {field}; use organization_name"),
                );
            }
        }
        if d.company_id.is_some() {
            errors.add(
                "company_id",
                "an organization cannot be linked to another organization (C-3)",
            );
        }
    } else {
        if d.last_name.is_none() {
            errors.add(
                "last_name",
                format!("is required: customer type {} is a person type", ty.code),
            );
        }
        if d.organization_name.is_some() {
            errors.add("organization_name", "persons have first_name and last_name; link them to an organization with company_id");
        }
    }
}

fn check_lengths(d: &Draft, errors: &mut Errors) {
    let a = &d.address;
    for (field, value, max) in [
        ("first_name", &d.first_name, FIRST_NAME_MAX),
        ("last_name", &d.last_name, LAST_NAME_MAX),
        (
            "organization_name",
            &d.organization_name,
            ORGANIZATION_NAME_MAX,
        ),
        ("phone", &d.phone, 40),
        ("external_ref", &d.external_ref, 100),
        ("address.line1", &a.line1, 200),
        ("address.line2", &a.line2, 200),
        ("address.city", &a.city, 100),
        ("address.region", &a.region, 100),
        ("address.postal_code", &a.postal_code, 20),
    ] {
        if value.as_deref().is_some_and(|v| v.chars().count() > max) {
            errors.add(field, format!("must be at most {max} characters"));
        }
    }
}

fn check_country(d: &Draft, errors: &mut Errors) {
    if let Some(country) = &d.address.country
        && (country.len() != 2 || !country.chars().all(|ch| ch.is_ascii_uppercase()))
    {
        errors.add(
            "address.country",
            "must be an ISO 3166-1 alpha-2 code such as US",
        );
    }
}

fn check_ballot_preference(d: &Draft, errors: &mut Errors) {
    if let Some(b) = &d.ballot_preference
        && b != "electronic"
        && b != "paper"
    {
        errors.add("ballot_preference", "must be electronic or paper");
    }
}

/// C-3: a person is linked to an existing organization, never to itself.
fn check_company(d: &Draft, self_id: Option<i64>, r: &Reference, errors: &mut Errors) {
    let Some(company) = d.company_id else {
        return;
    };
    if Some(company) == self_id {
        errors.add("company_id", "a contact cannot be linked to itself");
        return;
    }
    match r.company_type(company) {
        None => errors.add("company_id", format!("contact {company} does not exist")),
        Some(code) if !r.customer_type(code).is_some_and(|t| t.is_organization) => errors.add(
            "company_id",
            format!("contact {company} is not an organization"),
        ),
        Some(_) => {}
    }
}
