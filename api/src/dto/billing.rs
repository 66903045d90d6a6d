//! Billing cycles (B-1..B-13).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use service::billing_cycles::proration::ProrationRule;
use service::billing_cycles::{Cycle, CycleFields, CyclePatch};
use utoipa::ToSchema;

use super::nullable;
use super::words::{AccountingOption, AutopayOptionDto, BillingTimeOption, OrDefault};

/// T-8: one row of a cycle's proration table.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"join_month": 10, "fraction": "1", "through_next_fiscal_year": true}))]
pub struct ProrationRuleDto {
    /// 1..=12.
    pub join_month: u32,
    /// Of the prorated lines' price, 0 to 1 with at most four decimal places.
    #[schema(value_type = String, example = "0.75")]
    pub fraction: Decimal,
    /// Joins in this month run to the end of the next fiscal year.
    #[serde(default)]
    pub through_next_fiscal_year: bool,
}

impl From<ProrationRuleDto> for ProrationRule {
    fn from(d: ProrationRuleDto) -> Self {
        ProrationRule {
            join_month: d.join_month,
            fraction: d.fraction,
            through_next_fiscal_year: d.through_next_fiscal_year,
        }
    }
}

impl From<ProrationRule> for ProrationRuleDto {
    fn from(r: ProrationRule) -> Self {
        ProrationRuleDto {
            join_month: r.join_month,
            fraction: r.fraction,
            through_next_fiscal_year: r.through_next_fiscal_year,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "name": "Associate renewals", "membership": true, "customer_types": ["AM"],
    "billing_categories": [], "products": ["JOURNAL", "SCHOLARSHIP"], "billing_time": "anniversary",
    "accounting_method": "default", "autopay_option": "bill_all", "require_chapter": false,
    "allow_multiple_chapters": false, "require_billed_chapters_on_renewal": false,
    "include_inactive_members": false, "include_inactive_sections": false,
    "include_suspended_members": false, "print_zero_balance": false, "include_all_sections": false,
    "include_all_chapters": false, "update_complimentary_paid_through_at_payment": false,
    "use_primary_fee_term_length": true, "months_prior_to_expiration": 2,
    "rejoin_as_renewal_months": 0, "join_item_set": true, "itemized_renewals": true,
    "member_instalments": false, "reminder_days": 30, "proration_rules": [], "warnings": [], "version": 1,
    "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-01-05T09:00:00Z"
}))]
pub struct CycleDto {
    pub id: i64,
    pub name: String,
    /// Dues cycle (B-2).
    pub membership: bool,
    pub customer_types: Vec<String>,
    /// Empty: all categories (B-4).
    pub billing_categories: Vec<String>,
    /// Add-on products (B-5).
    pub products: Vec<String>,
    pub billing_time: BillingTimeOption,
    pub accounting_method: AccountingOption,
    pub autopay_option: AutopayOptionDto,
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
    /// S-11: members may turn their own open invoices of this cycle into instalments.
    pub member_instalments: bool,
    /// Open renewal invoices at least this many days old get reminders (B-13); null: all open ones.
    pub reminder_days: Option<u32>,
    /// T-8: annual joins by join month; empty: whole-month proration (T-3).
    pub proration_rules: Vec<ProrationRuleDto>,
    /// Accepted but questionable options (e.g. special characters in the name, B-1).
    pub warnings: Vec<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Cycle> for CycleDto {
    fn from(c: Cycle) -> Self {
        let f = c.fields;
        CycleDto {
            id: c.id,
            name: f.name,
            membership: f.membership,
            customer_types: f.customer_types,
            billing_categories: f.billing_categories,
            products: f.products,
            billing_time: OrDefault::of(f.billing_time),
            accounting_method: OrDefault::of(f.accounting_method),
            autopay_option: f.autopay_option.into(),
            require_chapter: f.require_chapter,
            allow_multiple_chapters: f.allow_multiple_chapters,
            require_billed_chapters_on_renewal: f.require_billed_chapters_on_renewal,
            include_inactive_members: f.include_inactive_members,
            include_inactive_sections: f.include_inactive_sections,
            include_suspended_members: f.include_suspended_members,
            print_zero_balance: f.print_zero_balance,
            include_all_sections: f.include_all_sections,
            include_all_chapters: f.include_all_chapters,
            update_complimentary_paid_through_at_payment: f
                .update_complimentary_paid_through_at_payment,
            use_primary_fee_term_length: f.use_primary_fee_term_length,
            months_prior_to_expiration: f.months_prior_to_expiration,
            rejoin_as_renewal_months: f.rejoin_as_renewal_months,
            join_item_set: f.join_item_set,
            itemized_renewals: f.itemized_renewals,
            member_instalments: f.member_instalments,
            reminder_days: f.reminder_days,
            proration_rules: f.proration_rules.into_iter().map(Into::into).collect(),
            warnings: c.warnings,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CycleList {
    pub items: Vec<CycleDto>,
    pub next_cursor: Option<String>,
}

fn yes() -> bool {
    true
}

/// A new cycle: `name` and `customer_types` are required; flags default to false,
/// `membership` to true, options to `default`/`bill_all`, lists to empty.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Associate renewals", "membership": true, "customer_types": ["AM"],
    "products": ["JOURNAL", "SCHOLARSHIP"], "use_primary_fee_term_length": true,
    "join_item_set": true, "itemized_renewals": true, "months_prior_to_expiration": 2
}))]
pub struct NewCycleDto {
    pub name: String,
    #[serde(default = "yes")]
    pub membership: bool,
    pub customer_types: Vec<String>,
    #[serde(default)]
    pub billing_categories: Vec<String>,
    #[serde(default)]
    pub products: Vec<String>,
    #[serde(default)]
    pub billing_time: BillingTimeOption,
    #[serde(default)]
    pub accounting_method: AccountingOption,
    #[serde(default)]
    pub autopay_option: AutopayOptionDto,
    #[serde(default)]
    pub require_chapter: bool,
    #[serde(default)]
    pub allow_multiple_chapters: bool,
    #[serde(default)]
    pub require_billed_chapters_on_renewal: bool,
    #[serde(default)]
    pub include_inactive_members: bool,
    #[serde(default)]
    pub include_inactive_sections: bool,
    #[serde(default)]
    pub include_suspended_members: bool,
    #[serde(default)]
    pub print_zero_balance: bool,
    #[serde(default)]
    pub include_all_sections: bool,
    #[serde(default)]
    pub include_all_chapters: bool,
    #[serde(default)]
    pub update_complimentary_paid_through_at_payment: bool,
    #[serde(default)]
    pub use_primary_fee_term_length: bool,
    #[serde(default)]
    pub months_prior_to_expiration: u32,
    #[serde(default)]
    pub rejoin_as_renewal_months: u32,
    #[serde(default)]
    pub join_item_set: bool,
    #[serde(default)]
    pub itemized_renewals: bool,
    /// S-11: members may turn their own open invoices of this cycle into instalments.
    #[serde(default)]
    pub member_instalments: bool,
    pub reminder_days: Option<u32>,
    /// T-8: annual joins by join month; empty (the default): T-3.
    #[serde(default)]
    pub proration_rules: Vec<ProrationRuleDto>,
}

impl validator::Validate for NewCycleDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

impl From<NewCycleDto> for CycleFields {
    fn from(d: NewCycleDto) -> Self {
        CycleFields {
            name: d.name,
            membership: d.membership,
            customer_types: d.customer_types,
            billing_categories: d.billing_categories,
            products: d.products,
            billing_time: d.billing_time.choice(),
            accounting_method: d.accounting_method.choice(),
            autopay_option: d.autopay_option.into(),
            require_chapter: d.require_chapter,
            allow_multiple_chapters: d.allow_multiple_chapters,
            require_billed_chapters_on_renewal: d.require_billed_chapters_on_renewal,
            include_inactive_members: d.include_inactive_members,
            include_inactive_sections: d.include_inactive_sections,
            include_suspended_members: d.include_suspended_members,
            print_zero_balance: d.print_zero_balance,
            include_all_sections: d.include_all_sections,
            include_all_chapters: d.include_all_chapters,
            update_complimentary_paid_through_at_payment: d
                .update_complimentary_paid_through_at_payment,
            use_primary_fee_term_length: d.use_primary_fee_term_length,
            months_prior_to_expiration: d.months_prior_to_expiration,
            rejoin_as_renewal_months: d.rejoin_as_renewal_months,
            join_item_set: d.join_item_set,
            itemized_renewals: d.itemized_renewals,
            member_instalments: d.member_instalments,
            reminder_days: d.reminder_days,
            proration_rules: d.proration_rules.into_iter().map(Into::into).collect(),
        }
    }
}

/// Absent fields stay as they are; lists are replaced whole; `reminder_days: null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"products": ["JOURNAL"], "months_prior_to_expiration": 1}))]
pub struct CyclePatchDto {
    pub name: Option<String>,
    pub membership: Option<bool>,
    pub customer_types: Option<Vec<String>>,
    pub billing_categories: Option<Vec<String>>,
    pub products: Option<Vec<String>>,
    pub billing_time: Option<BillingTimeOption>,
    pub accounting_method: Option<AccountingOption>,
    pub autopay_option: Option<AutopayOptionDto>,
    pub require_chapter: Option<bool>,
    pub allow_multiple_chapters: Option<bool>,
    pub require_billed_chapters_on_renewal: Option<bool>,
    pub include_inactive_members: Option<bool>,
    pub include_inactive_sections: Option<bool>,
    pub include_suspended_members: Option<bool>,
    pub print_zero_balance: Option<bool>,
    pub include_all_sections: Option<bool>,
    pub include_all_chapters: Option<bool>,
    pub update_complimentary_paid_through_at_payment: Option<bool>,
    pub use_primary_fee_term_length: Option<bool>,
    pub months_prior_to_expiration: Option<u32>,
    pub rejoin_as_renewal_months: Option<u32>,
    pub join_item_set: Option<bool>,
    pub itemized_renewals: Option<bool>,
    pub member_instalments: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    pub reminder_days: Option<Option<u32>>,
    /// T-8: the whole table; `[]` removes it.
    pub proration_rules: Option<Vec<ProrationRuleDto>>,
}

impl validator::Validate for CyclePatchDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

impl From<CyclePatchDto> for CyclePatch {
    fn from(d: CyclePatchDto) -> Self {
        CyclePatch {
            name: d.name,
            membership: d.membership,
            customer_types: d.customer_types,
            billing_categories: d.billing_categories,
            products: d.products,
            billing_time: d.billing_time.map(OrDefault::choice),
            accounting_method: d.accounting_method.map(OrDefault::choice),
            autopay_option: d.autopay_option.map(Into::into),
            require_chapter: d.require_chapter,
            allow_multiple_chapters: d.allow_multiple_chapters,
            require_billed_chapters_on_renewal: d.require_billed_chapters_on_renewal,
            include_inactive_members: d.include_inactive_members,
            include_inactive_sections: d.include_inactive_sections,
            include_suspended_members: d.include_suspended_members,
            print_zero_balance: d.print_zero_balance,
            include_all_sections: d.include_all_sections,
            include_all_chapters: d.include_all_chapters,
            update_complimentary_paid_through_at_payment: d
                .update_complimentary_paid_through_at_payment,
            use_primary_fee_term_length: d.use_primary_fee_term_length,
            months_prior_to_expiration: d.months_prior_to_expiration,
            rejoin_as_renewal_months: d.rejoin_as_renewal_months,
            join_item_set: d.join_item_set,
            itemized_renewals: d.itemized_renewals,
            member_instalments: d.member_instalments,
            reminder_days: d.reminder_days,
            proration_rules: d
                .proration_rules
                .map(|rules| rules.into_iter().map(Into::into).collect()),
        }
    }
}
