//! The rules of one subscription change, checked in memory against facts loaded once for a
//! whole request or import (S-1..S-8). Nothing here touches the database, so a 100,000-row
//! import costs a few queries, and a single POST runs exactly the same checks.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use entity::subscription as s;

use crate::contacts::email_key;
use crate::customer_types::in_formula_family;
use crate::error::{Error, Errors, Result};
use crate::settings::AccountingMethod;

use super::input::{
    ADJUSTMENT_REASON_MAX, Change, ContactRef, Fields, Row, SOURCE_CODE_MAX, Shown,
};

pub use crate::import::{Action, field_errors};

/// Every stored value of a subscription except its identity and bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    pub contact_id: i64,
    pub product: String,
    pub begin_date: Option<NaiveDate>,
    pub paid_through: Option<NaiveDate>,
    pub bill_to_id: i64,
    pub bill_date: Option<NaiveDate>,
    pub bill_begin: Option<NaiveDate>,
    pub bill_through: Option<NaiveDate>,
    pub billed_cents: Option<i64>,
    pub active: bool,
    pub cancellation_date: Option<NaiveDate>,
    pub adjustment_reason: Option<String>,
    pub source_code: Option<String>,
    pub is_complimentary: bool,
    pub is_membership_component: bool,
    pub bill_subscription: bool,
    pub accounting_method: AccountingMethod,
    pub billed: bool,
}

impl Values {
    pub fn from_model(m: &s::Model) -> Self {
        Values {
            contact_id: m.contact_id,
            product: m.product.clone(),
            begin_date: m.begin_date,
            paid_through: m.paid_through,
            bill_to_id: m.bill_to_id,
            bill_date: m.bill_date,
            bill_begin: m.bill_begin,
            bill_through: m.bill_through,
            billed_cents: m.billed_cents,
            active: m.active,
            cancellation_date: m.cancellation_date,
            adjustment_reason: m.adjustment_reason.clone(),
            source_code: m.source_code.clone(),
            is_complimentary: m.is_complimentary,
            is_membership_component: m.is_membership_component,
            bill_subscription: m.bill_subscription,
            accounting_method: m.accounting_method,
            billed: m.billed,
        }
    }

    /// S-4: billed on an accrual basis, the billing fields are fixed.
    pub fn is_locked(&self) -> bool {
        self.billed && self.accounting_method == AccountingMethod::Accrual
    }
}

/// A planned write.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    Insert(Values),
    Update {
        id: i64,
        version: i32,
        before: Values,
        after: Values,
    },
    Delete {
        id: i64,
        version: i32,
        values: Values,
    },
}

impl Planned {
    /// C-7: a change to a membership component moves the contact's paid-through.
    pub fn touches_membership(&self) -> Option<i64> {
        let (a, b) = match self {
            Planned::Insert(v) => (v, v),
            Planned::Update { before, after, .. } => (before, after),
            Planned::Delete { values, .. } => (values, values),
        };
        (a.is_membership_component || b.is_membership_component).then_some(b.contact_id)
    }
}

#[derive(Debug, Clone)]
pub struct ContactFacts {
    pub customer_type: String,
}

/// One held subscription, as it stands after the rows planned so far.
#[derive(Debug, Clone)]
struct Held {
    id: Option<i64>,
    version: i32,
    values: Values,
}

/// What the checks need to know, loaded set-based by `context::load`.
#[derive(Debug, Default)]
pub struct Facts {
    pub contacts: HashMap<i64, ContactFacts>,
    /// Customer types of organizations (S-2 `is_company`).
    pub organization_types: HashSet<String>,
    pub by_external_ref: HashMap<String, i64>,
    /// Lower-cased e-mail to the contacts that use it.
    pub by_email: HashMap<String, Vec<i64>>,
    pub products: HashSet<String>,
    /// CT-3 formula designators of every customer type.
    pub designators: Vec<String>,
    pub default_method: Option<AccountingMethod>,
    pub existing: Vec<s::Model>,
}

pub struct Planner {
    facts: Facts,
    held: HashMap<i64, HashMap<String, Held>>,
    /// Keys already used by earlier rows of the same import.
    seen: HashSet<(i64, String)>,
}

fn conflict(message: String) -> Error {
    Error::conflict(message)
}

impl Planner {
    pub fn new(mut facts: Facts) -> Self {
        let mut held: HashMap<i64, HashMap<String, Held>> = HashMap::new();
        for m in std::mem::take(&mut facts.existing) {
            held.entry(m.contact_id).or_default().insert(
                m.product.clone(),
                Held {
                    id: Some(m.id),
                    version: m.version,
                    values: Values::from_model(&m),
                },
            );
        }
        Planner {
            facts,
            held,
            seen: HashSet::new(),
        }
    }

    /// A planner for the next batch of an import: the facts of its rows (the earlier batches'
    /// writes among them) and the keys the earlier batches used.
    pub fn continuing(facts: Facts, seen: HashSet<(i64, String)>) -> Self {
        Planner {
            seen,
            ..Planner::new(facts)
        }
    }

    /// The keys used so far, for the next batch.
    pub fn into_seen(self) -> HashSet<(i64, String)> {
        self.seen
    }

    /// S-1 and S-9 matching: finds the row's contact, naming what is missing.
    fn contact_id(&self, action: Action, r: Option<&ContactRef>) -> Result<i64> {
        let field = if action == Action::InsertWithMatching {
            "external_ref"
        } else {
            "contact_id"
        };
        let id = match (action, r) {
            (_, None) if action == Action::InsertWithMatching => {
                return Err(Error::invalid(
                    field,
                    "insert_with_matching finds the contact by external_ref or email; give one",
                ));
            }
            (_, None) => return Err(Error::invalid(field, "is required")),
            (Action::InsertWithMatching, Some(ContactRef::Id(_))) => {
                return Err(Error::invalid(
                    "contact_id",
                    "insert_with_matching matches contacts by external_ref or email; use insert to give contact ids",
                ));
            }
            (_, Some(ContactRef::ExternalRef(_) | ContactRef::Email(_)))
                if action != Action::InsertWithMatching =>
            {
                return Err(Error::invalid(
                    "contact_id",
                    format!(
                        "is required; matching by external_ref or email is done by the insert_with_matching action, not {}",
                        action.as_str()
                    ),
                ));
            }
            (_, Some(ContactRef::Id(id))) => *id,
            (_, Some(ContactRef::ExternalRef(x))) => {
                *self.facts.by_external_ref.get(x).ok_or_else(|| {
                    Error::invalid("external_ref", format!("no contact has external_ref {x:?}"))
                })?
            }
            (_, Some(ContactRef::Email(e))) => {
                match self.facts.by_email.get(&email_key(e)).map(Vec::as_slice) {
                    None | Some([]) => {
                        return Err(Error::invalid(
                            "email",
                            format!("no contact has email {e:?}"),
                        ));
                    }
                    Some([one]) => *one,
                    Some(many) => {
                        let ids: Vec<String> = many.iter().map(i64::to_string).collect();
                        return Err(Error::invalid(
                            "email",
                            format!(
                                "email {e:?} matches contacts {}; match by external_ref instead",
                                ids.join(", ")
                            ),
                        ));
                    }
                }
            }
        };
        if !self.facts.contacts.contains_key(&id) {
            return Err(Error::invalid(
                field,
                format!("contact {id} does not exist"),
            ));
        }
        Ok(id)
    }

    /// Plans one row. On error nothing is recorded, so later rows see the state without it.
    pub fn plan(&mut self, action: Action, row: Row) -> Result<Planned> {
        let contact_id = self.contact_id(action, row.contact.as_ref());
        let product = match row.product {
            None => Err(Error::invalid("product", "is required")),
            Some(p) if !self.facts.products.contains(&p) => Err(Error::invalid(
                "product",
                format!("product {p} does not exist"),
            )),
            Some(p) => Ok(p),
        };
        let (contact_id, product) = match (contact_id, product) {
            (Ok(c), Ok(p)) => (c, p),
            (Err(a), Err(b)) => return Err(merge(a, b)),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let key = (contact_id, product.clone());
        if self.seen.contains(&key) {
            return Err(conflict(format!(
                "contact {contact_id} and product {product} already appear in an earlier row of this import"
            )));
        }
        let current = self
            .held
            .get(&contact_id)
            .and_then(|h| h.get(&product))
            .cloned();
        let planned = match (action, current) {
            (Action::Insert | Action::InsertWithMatching, Some(h)) => {
                return Err(conflict(format!(
                    "contact {contact_id} already holds product {product}{}",
                    h.id.map(|i| format!(" (subscription {i})"))
                        .unwrap_or_default()
                )));
            }
            (Action::Update | Action::Delete, None) => {
                return Err(Error::not_found(
                    "subscription",
                    format!("of contact {contact_id} to product {product}"),
                ));
            }
            (Action::Insert | Action::InsertWithMatching | Action::Upsert, None) => {
                let values = self.new_values(contact_id, product, &row.fields)?;
                Planned::Insert(values)
            }
            (Action::Update | Action::Upsert, Some(h)) => {
                let after = self.changed_values(&h.values, &row.fields)?;
                Planned::Update {
                    id: h.id.unwrap_or_default(),
                    version: h.version,
                    before: h.values,
                    after,
                }
            }
            (Action::Delete, Some(h)) => {
                check_deletable(&h.values, h.id)?;
                Planned::Delete {
                    id: h.id.unwrap_or_default(),
                    version: h.version,
                    values: h.values,
                }
            }
        };
        self.check_shown(&row.shown, contact_id, &planned)?;
        self.record(&planned);
        self.seen.insert(key);
        Ok(planned)
    }

    /// MG-4: the read-only columns of an export row must agree with the subscription: a file
    /// that says otherwise tries to set what only the server sets.
    fn check_shown(&self, shown: &Shown, contact_id: i64, planned: &Planned) -> Result<()> {
        let mut errors = Errors::new();
        let (id, billed) = match planned {
            Planned::Insert(_) => (None, false),
            Planned::Update { id, before, .. }
            | Planned::Delete {
                id, values: before, ..
            } => (Some(*id), before.billed),
        };
        if let Some(given) = shown.id
            && Some(given) != id
        {
            let is = id.map_or("a new subscription".to_owned(), |i| {
                format!("subscription {i}")
            });
            errors.add(
                "id",
                format!("is assigned by the server: the row is {is}, not {given}"),
            );
        }
        let company = self
            .facts
            .contacts
            .get(&contact_id)
            .is_some_and(|c| self.facts.organization_types.contains(&c.customer_type));
        if shown.is_company.is_some_and(|v| v != company) {
            errors.add(
                "is_company",
                format!("is read-only: it comes from the contact's customer type (here {company})"),
            );
        }
        if shown.billed.is_some_and(|v| v != billed) {
            errors.add("billed", format!("is set by billing (here {billed})"));
        }
        errors.into_result()
    }

    fn record(&mut self, planned: &Planned) {
        match planned {
            Planned::Insert(v) => {
                self.held.entry(v.contact_id).or_default().insert(
                    v.product.clone(),
                    Held {
                        id: None,
                        version: 1,
                        values: v.clone(),
                    },
                );
            }
            Planned::Update { after, .. } => {
                if let Some(h) = self
                    .held
                    .get_mut(&after.contact_id)
                    .and_then(|m| m.get_mut(&after.product))
                {
                    h.values = after.clone();
                }
            }
            Planned::Delete { values, .. } => {
                if let Some(m) = self.held.get_mut(&values.contact_id) {
                    m.remove(&values.product);
                }
            }
        }
    }

    fn new_values(&self, contact_id: i64, product: String, f: &Fields) -> Result<Values> {
        let (bill_subscription, billed_cents) =
            billing_flags(f.bill_subscription, &f.billed_cents, None)?;
        let values = Values {
            contact_id,
            product,
            begin_date: f.begin_date.flatten(),
            paid_through: f.paid_through.flatten(),
            bill_to_id: f.bill_to_id.unwrap_or(contact_id),
            bill_date: f.bill_date.flatten(),
            bill_begin: f.bill_begin.flatten(),
            bill_through: f.bill_through.flatten(),
            billed_cents,
            active: f.active.unwrap_or(true),
            cancellation_date: f.cancellation_date.flatten(),
            adjustment_reason: f.adjustment_reason.clone().flatten(),
            source_code: f.source_code.clone().flatten(),
            is_complimentary: f.is_complimentary.unwrap_or(false),
            is_membership_component: f.is_membership_component.unwrap_or(false),
            bill_subscription,
            accounting_method: f
                .accounting_method
                .or(self.facts.default_method)
                .unwrap_or(AccountingMethod::Accrual),
            billed: false,
        };
        self.check(&values, None)?;
        Ok(values)
    }

    fn changed_values(&self, before: &Values, f: &Fields) -> Result<Values> {
        let (bill_subscription, billed_cents) =
            billing_flags(f.bill_subscription, &f.billed_cents, Some(before))?;
        fn pick<T: Clone>(c: &Change<T>, old: &Option<T>) -> Option<T> {
            match c {
                None => old.clone(),
                Some(v) => v.clone(),
            }
        }
        let after = Values {
            contact_id: before.contact_id,
            product: before.product.clone(),
            begin_date: pick(&f.begin_date, &before.begin_date),
            paid_through: pick(&f.paid_through, &before.paid_through),
            bill_to_id: f.bill_to_id.unwrap_or(before.bill_to_id),
            bill_date: pick(&f.bill_date, &before.bill_date),
            bill_begin: pick(&f.bill_begin, &before.bill_begin),
            bill_through: pick(&f.bill_through, &before.bill_through),
            billed_cents,
            active: f.active.unwrap_or(before.active),
            cancellation_date: pick(&f.cancellation_date, &before.cancellation_date),
            adjustment_reason: pick(&f.adjustment_reason, &before.adjustment_reason),
            source_code: pick(&f.source_code, &before.source_code),
            is_complimentary: f.is_complimentary.unwrap_or(before.is_complimentary),
            is_membership_component: f
                .is_membership_component
                .unwrap_or(before.is_membership_component),
            bill_subscription,
            accounting_method: f.accounting_method.unwrap_or(before.accounting_method),
            billed: before.billed,
        };
        check_locked(before, &after)?;
        self.check(&after, Some(before))?;
        Ok(after)
    }

    /// Field rules (S-1 bill-to, S-2 lengths and dates) then S-8 on the resulting state.
    fn check(&self, v: &Values, before: Option<&Values>) -> Result<()> {
        let mut errors = Errors::new();
        // The stored payer was checked when it was set; only a new one is looked up.
        let new_payer = before.is_none_or(|b| b.bill_to_id != v.bill_to_id);
        if new_payer && !self.facts.contacts.contains_key(&v.bill_to_id) {
            errors.add(
                "bill_to_id",
                format!("contact {} does not exist", v.bill_to_id),
            );
        }
        if v.source_code
            .as_ref()
            .is_some_and(|s| s.chars().count() > SOURCE_CODE_MAX)
        {
            errors.add(
                "source_code",
                format!("must be at most {SOURCE_CODE_MAX} characters"),
            );
        }
        if v.adjustment_reason
            .as_ref()
            .is_some_and(|s| s.chars().count() > ADJUSTMENT_REASON_MAX)
        {
            errors.add(
                "adjustment_reason",
                format!("must be at most {ADJUSTMENT_REASON_MAX} characters"),
            );
        }
        if let (Some(b), Some(t)) = (v.bill_begin, v.bill_through)
            && t < b
        {
            errors.add("bill_through", "must not be before bill_begin");
        }
        errors.into_result()?;
        // An already active subscription was checked when it became active.
        if !before.is_some_and(|b| b.active) {
            self.check_one_per_family(v)?;
        }
        Ok(())
    }

    /// S-8: at most one active subscription of one primary-fee formula family.
    fn check_one_per_family(&self, v: &Values) -> Result<()> {
        if !v.active {
            return Ok(());
        }
        let families: Vec<&String> = self
            .facts
            .designators
            .iter()
            .filter(|d| in_formula_family(d, &v.product))
            .collect();
        if families.is_empty() {
            return Ok(());
        }
        let Some(held) = self.held.get(&v.contact_id) else {
            return Ok(());
        };
        for (code, h) in held {
            if code == &v.product || !h.values.active {
                continue;
            }
            if let Some(d) = families.iter().find(|d| in_formula_family(d, code)) {
                return Err(conflict(format!(
                    "contact {} already holds an active {code}{} of the {d} formula family; only one may be active (make it inactive first)",
                    v.contact_id,
                    h.id.map(|i| format!(" (subscription {i})"))
                        .unwrap_or_default()
                )));
            }
        }
        Ok(())
    }
}

fn merge(a: Error, b: Error) -> Error {
    match (a, b) {
        (Error::Validation(mut x), Error::Validation(y)) => {
            x.extend(y);
            Error::Validation(x)
        }
        (a, _) => a,
    }
}

/// S-6: the bill flag and the billed amount decide each other.
fn billing_flags(
    bill: Option<bool>,
    amount: &Change<i64>,
    before: Option<&Values>,
) -> Result<(bool, Option<i64>)> {
    let given_amount = amount.flatten();
    let bill = match (bill, before) {
        (Some(b), _) => b,
        (None, Some(v)) => v.bill_subscription,
        // Not given: an amount means "bill this fixed amount elsewhere", none means bill.
        (None, None) => given_amount.is_none(),
    };
    if bill && given_amount.is_some() {
        return Err(Error::invalid(
            "billed_amount",
            "leave billed_amount empty when bill_subscription is true: the price is computed when billed",
        ));
    }
    let amount = match (amount, before) {
        (Some(a), _) => *a,
        // Turning billing on drops the fixed amount; the price is computed from then on.
        (None, Some(v)) if bill && !v.bill_subscription => None,
        (None, Some(v)) => v.billed_cents,
        (None, None) => None,
    };
    if !bill && amount.is_none() {
        return Err(Error::invalid(
            "billed_amount",
            "is required when bill_subscription is false",
        ));
    }
    Ok((bill, amount))
}

/// S-4: after accrual billing, the dates that billing relied on stay as billed.
fn check_locked(before: &Values, after: &Values) -> Result<()> {
    if !before.is_locked() {
        return Ok(());
    }
    let mut fields = Vec::new();
    if before.begin_date != after.begin_date {
        fields.push("begin_date");
    }
    if before.paid_through != after.paid_through {
        fields.push("paid_through");
    }
    if before.bill_date != after.bill_date {
        fields.push("bill_date");
    }
    if before.bill_begin != after.bill_begin {
        fields.push("bill_begin");
    }
    if before.bill_through != after.bill_through {
        fields.push("bill_through");
    }
    if before.accounting_method != after.accounting_method {
        fields.push("accounting_method");
    }
    if fields.is_empty() {
        return Ok(());
    }
    Err(Error::LockedFields {
        message: format!(
            "the subscription has been billed on an accrual basis, so {} can no longer change",
            fields.join(", ")
        ),
        fields: fields.into_iter().map(str::to_owned).collect(),
    })
}

/// S-5: only cash subscriptions may be deleted.
fn check_deletable(v: &Values, id: Option<i64>) -> Result<()> {
    if v.accounting_method == AccountingMethod::Accrual {
        return Err(conflict(format!(
            "subscription{} is an accrual subscription and cannot be deleted; make it inactive (status I) instead",
            id.map(|i| format!(" {i}")).unwrap_or_default()
        )));
    }
    Ok(())
}

/// Field errors of an error, for row reports.
#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn facts() -> Facts {
        let mut f = Facts::default();
        for id in [1, 2, 3] {
            f.contacts.insert(
                id,
                ContactFacts {
                    customer_type: "M".into(),
                },
            );
        }
        for p in ["AM_1", "AM_2", "AM_1_GST", "CHAPT/EAST", "JOURNAL"] {
            f.products.insert(p.into());
        }
        f.designators = vec!["AM".into()];
        f.default_method = Some(AccountingMethod::Accrual);
        f.by_email.insert("a@x.org".into(), vec![1]);
        f.by_email.insert("shared@x.org".into(), vec![2, 3]);
        f.by_external_ref.insert("L-1".into(), 1);
        f
    }

    fn model(
        id: i64,
        contact: i64,
        product: &str,
        method: AccountingMethod,
        billed: bool,
    ) -> s::Model {
        let now = Utc::now();
        s::Model {
            id,
            contact_id: contact,
            product: product.into(),
            begin_date: NaiveDate::from_ymd_opt(2026, 1, 1),
            paid_through: NaiveDate::from_ymd_opt(2026, 12, 31),
            bill_to_id: contact,
            bill_date: None,
            bill_begin: None,
            bill_through: None,
            billed_cents: None,
            active: true,
            cancellation_date: None,
            adjustment_reason: None,
            source_code: None,
            is_complimentary: false,
            is_membership_component: false,
            bill_subscription: true,
            accounting_method: method,
            billed,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn row(contact: ContactRef, product: &str, fields: Fields) -> Row {
        Row {
            contact: Some(contact),
            product: Some(product.into()),
            fields,
            shown: Default::default(),
        }
    }

    #[test]
    fn s1_unknown_contact_and_product_are_both_named() {
        let mut p = Planner::new(facts());
        let err = p
            .plan(
                Action::Insert,
                row(ContactRef::Id(99), "NOPE", Fields::default()),
            )
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("contact 99 does not exist"), "{text}");
        assert!(text.contains("product NOPE does not exist"), "{text}");
    }

    #[test]
    fn s6_flag_table() {
        let amount = |c: i64| Some(Some(c));
        // Neither given: billed at the computed price, not under Membership.
        let mut p = Planner::new(facts());
        let Planned::Insert(v) = p
            .plan(
                Action::Insert,
                row(ContactRef::Id(1), "JOURNAL", Fields::default()),
            )
            .unwrap()
        else {
            panic!()
        };
        assert!(v.bill_subscription && !v.is_membership_component && v.billed_cents.is_none());
        // An amount without the flag: a fixed amount, not billed.
        let f = Fields {
            billed_cents: amount(4000),
            ..Fields::default()
        };
        let Planned::Insert(v) = p
            .plan(Action::Insert, row(ContactRef::Id(2), "JOURNAL", f))
            .unwrap()
        else {
            panic!()
        };
        assert!(!v.bill_subscription && v.billed_cents == Some(4000));
        // bill true + amount, bill false without amount: both rejected, naming billed_amount.
        for f in [
            Fields {
                bill_subscription: Some(true),
                billed_cents: amount(100),
                ..Fields::default()
            },
            Fields {
                bill_subscription: Some(false),
                is_membership_component: Some(true),
                ..Fields::default()
            },
        ] {
            let err = p
                .plan(Action::Insert, row(ContactRef::Id(3), "JOURNAL", f))
                .unwrap_err();
            assert!(err.to_string().contains("billed_amount"), "{err}");
        }
    }

    #[test]
    fn s8_one_active_product_per_formula_family_tax_companions_excluded() {
        let mut f = facts();
        f.existing
            .push(model(10, 1, "AM_1", AccountingMethod::Accrual, false));
        let mut p = Planner::new(f);
        let err = p
            .plan(
                Action::Insert,
                row(ContactRef::Id(1), "AM_2", Fields::default()),
            )
            .unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }));
        assert!(err.to_string().contains("AM_1 (subscription 10)"), "{err}");
        p.plan(
            Action::Insert,
            row(ContactRef::Id(1), "AM_1_GST", Fields::default()),
        )
        .unwrap();
        let inactive = Fields {
            active: Some(false),
            ..Fields::default()
        };
        p.plan(Action::Insert, row(ContactRef::Id(1), "AM_2", inactive))
            .unwrap();
    }

    #[test]
    fn s4_accrual_billed_dates_are_locked_cash_ones_are_not() {
        let mut f = facts();
        f.existing
            .push(model(10, 1, "JOURNAL", AccountingMethod::Accrual, true));
        f.existing
            .push(model(11, 2, "JOURNAL", AccountingMethod::Cash, true));
        f.existing
            .push(model(12, 3, "JOURNAL", AccountingMethod::Accrual, false));
        let mut p = Planner::new(f);
        let change = || Fields {
            paid_through: Some(NaiveDate::from_ymd_opt(2027, 12, 31)),
            bill_date: Some(NaiveDate::from_ymd_opt(2027, 1, 15)),
            source_code: Some(Some("x".into())),
            ..Fields::default()
        };
        match p.plan(Action::Update, row(ContactRef::Id(1), "JOURNAL", change())) {
            Err(Error::LockedFields { fields, .. }) => {
                assert_eq!(fields, vec!["paid_through", "bill_date"])
            }
            other => panic!("{other:?}"),
        }
        p.plan(Action::Update, row(ContactRef::Id(2), "JOURNAL", change()))
            .unwrap();
        p.plan(Action::Update, row(ContactRef::Id(3), "JOURNAL", change()))
            .unwrap();
        // The same values again are not a change, so a locked row still accepts them.
        let mut f = facts();
        f.existing
            .push(model(10, 1, "JOURNAL", AccountingMethod::Accrual, true));
        let same = Fields {
            paid_through: Some(NaiveDate::from_ymd_opt(2026, 12, 31)),
            ..Fields::default()
        };
        Planner::new(f)
            .plan(Action::Update, row(ContactRef::Id(1), "JOURNAL", same))
            .unwrap();
    }

    #[test]
    fn s5_only_cash_subscriptions_delete() {
        let mut f = facts();
        f.existing
            .push(model(10, 1, "JOURNAL", AccountingMethod::Accrual, false));
        f.existing
            .push(model(11, 2, "JOURNAL", AccountingMethod::Cash, true));
        let mut p = Planner::new(f);
        let err = p
            .plan(
                Action::Delete,
                row(ContactRef::Id(1), "JOURNAL", Fields::default()),
            )
            .unwrap_err();
        assert!(err.to_string().contains("inactive"), "{err}");
        assert!(matches!(
            p.plan(
                Action::Delete,
                row(ContactRef::Id(2), "JOURNAL", Fields::default())
            ),
            Ok(Planned::Delete { id: 11, .. })
        ));
    }

    #[test]
    fn s9_matching_by_key_and_ambiguity() {
        let mut p = Planner::new(facts());
        let Planned::Insert(v) = p
            .plan(
                Action::InsertWithMatching,
                row(
                    ContactRef::Email("A@X.org".into()),
                    "JOURNAL",
                    Fields::default(),
                ),
            )
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(v.contact_id, 1);
        let err = p
            .plan(
                Action::InsertWithMatching,
                row(
                    ContactRef::Email("shared@x.org".into()),
                    "JOURNAL",
                    Fields::default(),
                ),
            )
            .unwrap_err();
        assert!(err.to_string().contains("2, 3"), "{err}");
        let err = p
            .plan(
                Action::InsertWithMatching,
                row(
                    ContactRef::ExternalRef("L-9".into()),
                    "JOURNAL",
                    Fields::default(),
                ),
            )
            .unwrap_err();
        assert!(err.to_string().contains("L-9"), "{err}");
        // The same key twice in one import: the second row fails.
        let err = p
            .plan(
                Action::InsertWithMatching,
                row(
                    ContactRef::ExternalRef("L-1".into()),
                    "JOURNAL",
                    Fields::default(),
                ),
            )
            .unwrap_err();
        assert!(err.to_string().contains("earlier row"), "{err}");
        // Plain insert does not match.
        assert!(
            p.plan(
                Action::Insert,
                row(
                    ContactRef::Email("a@x.org".into()),
                    "CHAPT/EAST",
                    Fields::default()
                )
            )
            .is_err()
        );
    }
}
