//! B-1..B-13 and P-6: what makes a billing cycle valid, and what deserves a warning. Pure:
//! the facts are loaded by the caller.

use std::collections::{HashMap, HashSet};

use crate::customer_types::{CustomerType, PrimaryFee, in_formula_family};
use crate::error::{Errors, Result};
use crate::products::ProductType;
use crate::settings::{AccountingMethod, BillingTime, Settings};
use entity::words::AutopayOption;

pub const NAME_MAX: usize = 100;
pub const MONTHS_PRIOR_MAX: u32 = 24;
pub const REJOIN_WINDOW_MAX: u32 = 120;

/// Every option of a cycle.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CycleFields {
    pub name: String,
    pub membership: bool,
    pub customer_types: Vec<String>,
    pub billing_categories: Vec<String>,
    pub products: Vec<String>,
    /// `None`: the settings' default (B-6).
    pub billing_time: Option<BillingTime>,
    /// `None`: the settings' default (B-7).
    pub accounting_method: Option<AccountingMethod>,
    pub autopay_option: AutopayOption,
    pub require_chapter: bool,
    pub allow_multiple_chapters: bool,
    pub require_billed_chapters_on_renewal: bool,
    pub include_inactive_members: bool,
    pub include_inactive_sections: bool,
    pub include_suspended_members: bool,
    pub print_zero_balance: bool,
    pub include_all_sections: bool,
    pub include_all_chapters: bool,
    pub update_complimentary_paid_through_at_payment: bool,
    pub use_primary_fee_term_length: bool,
    pub months_prior_to_expiration: u32,
    pub rejoin_as_renewal_months: u32,
    pub join_item_set: bool,
    pub itemized_renewals: bool,
    /// S-11: members may turn their own invoices of this cycle into instalments.
    pub member_instalments: bool,
    pub reminder_days: Option<u32>,
    /// T-8: annual joins by join month; empty: T-3.
    pub proration_rules: Vec<super::proration::ProrationRule>,
}

/// A cycle without a billing time or accounting method of its own (`None`, shown as
/// `default`) follows the membership settings.
impl CycleFields {
    /// B-6: the cycle's billing time, or the settings' default.
    pub fn effective_billing_time(&self, settings: &Settings) -> BillingTime {
        self.billing_time.unwrap_or(settings.default_billing_time)
    }

    /// B-7: the cycle's accounting method, or the settings' default.
    pub fn effective_accounting_method(&self, settings: &Settings) -> AccountingMethod {
        self.accounting_method
            .unwrap_or(settings.default_accounting_method)
    }

    /// B-8: the method a renewal run bills with: AutoPay-only cycles always bill accrual.
    pub fn run_accounting_method(&self, settings: &Settings) -> AccountingMethod {
        if self.autopay_option == AutopayOption::OnlyAutopay {
            AccountingMethod::Accrual
        } else {
            self.effective_accounting_method(settings)
        }
    }
}

/// What the checks need from the database.
#[derive(Debug, Default)]
pub struct Facts {
    pub types: HashMap<String, CustomerType>,
    pub categories: HashSet<String>,
    pub products: HashMap<String, ProductType>,
    /// A product whose code equals the name, whatever the letter case (P-6).
    pub product_named_like_cycle: Option<String>,
    /// Another cycle with the same name.
    pub duplicate_name: bool,
    pub settings: Settings,
}

fn special_characters(name: &str) -> bool {
    name.chars()
        .any(|c| !(c.is_alphanumeric() || c == ' ' || c == '-'))
}

fn duplicates(list: &[String]) -> Vec<&str> {
    let mut seen = HashSet::new();
    let mut dup = Vec::new();
    for x in list {
        if !seen.insert(x.as_str()) && !dup.contains(&x.as_str()) {
            dup.push(x.as_str());
        }
    }
    dup
}

/// The primary-fee product a type bills that `product` duplicates, if any (B-3).
fn billed_as_primary<'a>(ty: &'a CustomerType, product: &str) -> Option<&'a str> {
    match &ty.primary_fee {
        Some(PrimaryFee::Products(list)) => list
            .iter()
            .find(|p| p.as_str() == product)
            .map(String::as_str),
        Some(PrimaryFee::Formula { designator, .. }) if in_formula_family(designator, product) => {
            Some(designator.as_str())
        }
        _ => None,
    }
}

/// Validates the whole cycle; returns the warnings to show with it.
pub fn check(f: &CycleFields, facts: &Facts) -> Result<Vec<String>> {
    let mut errors = Errors::new();
    let mut warnings = check_name(f, facts, &mut errors);
    check_customer_types(f, facts, &mut errors);
    check_billing_categories(f, facts, &mut errors);
    check_products(f, facts, &mut errors);
    check_ranges(f, &mut errors);
    super::proration::check(&f.proration_rules, &mut errors);
    errors.into_result()?;
    warnings.extend(option_warnings(f, facts));
    Ok(warnings)
}

/// B-1, P-6: a name of the right length, unique, and not a product code; special characters
/// are a warning.
fn check_name(f: &CycleFields, facts: &Facts, errors: &mut Errors) -> Vec<String> {
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX {
        errors.add("name", format!("must be 1 to {NAME_MAX} characters"));
        return Vec::new();
    }
    if facts.duplicate_name {
        errors.add(
            "name",
            format!("a billing cycle named {name:?} already exists"),
        );
    }
    if let Some(code) = &facts.product_named_like_cycle {
        errors.add(
            "name",
            format!("product {code} has this code; a cycle name may not equal a product code"),
        );
    }
    if special_characters(name) {
        return vec![format!(
            "the name {name:?} contains special characters such as '_' or '/'; they are accepted but not recommended"
        )];
    }
    Vec::new()
}

/// B-3: at least one known type, each once; exactly one for a join cycle.
fn check_customer_types(f: &CycleFields, facts: &Facts, errors: &mut Errors) {
    if f.customer_types.is_empty() {
        errors.add("customer_types", "name at least one customer type");
    }
    for d in duplicates(&f.customer_types) {
        errors.add("customer_types", format!("{d} is listed twice"));
    }
    let missing: Vec<&str> = f
        .customer_types
        .iter()
        .filter(|t| !facts.types.contains_key(*t))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        errors.add(
            "customer_types",
            format!("unknown customer type(s): {}", missing.join(", ")),
        );
    }
    if f.join_item_set && f.customer_types.len() != 1 {
        errors.add(
            "customer_types",
            "a cycle used for joins (join_item_set) must have exactly one customer type: joining assigns it",
        );
    }
}

/// B-4: known categories, each once.
fn check_billing_categories(f: &CycleFields, facts: &Facts, errors: &mut Errors) {
    for d in duplicates(&f.billing_categories) {
        errors.add("billing_categories", format!("{d} is listed twice"));
    }
    let missing: Vec<&str> = f
        .billing_categories
        .iter()
        .filter(|c| !facts.categories.contains(*c))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        errors.add(
            "billing_categories",
            format!("unknown billing category(ies): {}", missing.join(", ")),
        );
    }
}

/// B-5, B-3 (no product billed twice) and B-9 (the chapter options need a chapter product).
fn check_products(f: &CycleFields, facts: &Facts, errors: &mut Errors) {
    for d in duplicates(&f.products) {
        errors.add("products", format!("{d} is listed twice"));
    }
    let mut chapters = 0;
    for p in &f.products {
        let Some(kind) = facts.products.get(p) else {
            errors.add("products", format!("product {p} does not exist"));
            continue;
        };
        if *kind == ProductType::Chapter {
            chapters += 1;
        }
        if *kind == ProductType::Dues {
            errors.add(
                "products",
                format!("{p} is a dues product: dues are billed as the customer types' primary fee, not as cycle add-ons"),
            );
        }
        for t in &f.customer_types {
            if let Some(primary) = facts.types.get(t).and_then(|ty| billed_as_primary(ty, p)) {
                errors.add(
                    "products",
                    format!("{p} is already billed as customer type {t}'s primary fee ({primary}); listing it again would bill it twice"),
                );
            }
        }
    }
    if (f.require_chapter || f.allow_multiple_chapters) && chapters == 0 {
        errors.add(
            "products",
            "the chapter options need at least one chapter (CHAPT/...) product in the cycle",
        );
    }
}

/// B-11 and the other bounded numbers.
fn check_ranges(f: &CycleFields, errors: &mut Errors) {
    if f.months_prior_to_expiration > MONTHS_PRIOR_MAX {
        errors.add(
            "months_prior_to_expiration",
            format!("must be between 0 and {MONTHS_PRIOR_MAX}"),
        );
    }
    if f.rejoin_as_renewal_months > REJOIN_WINDOW_MAX {
        errors.add(
            "rejoin_as_renewal_months",
            format!("must be between 0 and {REJOIN_WINDOW_MAX}"),
        );
    }
    if f.reminder_days.is_some_and(|d| d > 3660) {
        errors.add("reminder_days", "must be between 0 and 3660");
    }
}

/// Options that are valid but have no effect with the others chosen.
fn option_warnings(f: &CycleFields, facts: &Facts) -> Vec<String> {
    let mut warnings = Vec::new();
    let time = f.effective_billing_time(&facts.settings);
    let method = f.run_accounting_method(&facts.settings);
    if !f.proration_rules.is_empty() && time != BillingTime::Annual {
        warnings.push(
            "proration_rules apply to annual billing only; anniversary joins pay the full term"
                .into(),
        );
    }
    if f.rejoin_as_renewal_months > 0 && time != BillingTime::Annual {
        warnings.push(
            "rejoin_as_renewal_months applies to annual billing only; with anniversary billing rejoins are joins".into(),
        );
    }
    if f.update_complimentary_paid_through_at_payment && method != AccountingMethod::Cash {
        warnings.push(
            "update_complimentary_paid_through_at_payment applies to cash billing only; with accrual the paid-through moves at billing".into(),
        );
    }
    if f.accounting_method == Some(AccountingMethod::Cash)
        && f.autopay_option == AutopayOption::OnlyAutopay
    {
        warnings.push(
            "AutoPay invoices are always accrual; the cash accounting method is not used".into(),
        );
    }
    if f.itemized_renewals
        && f.use_primary_fee_term_length
        && f.customer_types.iter().any(|t| {
            matches!(
                facts.types.get(t).and_then(|ty| ty.primary_fee.as_ref()),
                Some(PrimaryFee::Formula { .. })
            )
        })
    {
        warnings.push(
            "itemized renewals are not offered to customer types with a formula primary fee when the primary fee's term length is used (R-7)".into(),
        );
    }
    if !f.membership && f.join_item_set {
        warnings.push("join_item_set on a non-dues cycle: joining still bills the customer type's primary fee".into());
    }
    warnings
}
