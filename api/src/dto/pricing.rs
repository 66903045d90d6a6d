//! Pricing rules, pricing groups and the price of a product for a contact (P-3..P-5).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::error::Errors;
use service::lookup::LookupRow;
use service::pricing::RulePatch;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{Date, Money, nullable};

// ---- pricing rules (P-3, P-4)

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 12, "product": "MDUES", "price": "100.00", "customer_type": "M",
    "billing_category": "FYEAR", "company_member": null, "pricing_group": null,
    "with_product": null, "valid_from": null, "valid_to": null, "joined_from": null, "joined_to": null, "priority": 0,
    "specificity": 2, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
}))]
pub struct PricingRuleDto {
    pub id: i64,
    /// The product priced.
    pub product: String,
    /// The price when every condition set holds.
    pub price: Money,
    /// Condition: the buyer's customer type.
    pub customer_type: Option<String>,
    /// Condition: the buyer's billing category.
    pub billing_category: Option<String>,
    /// Condition: `true` = a person linked to an organization whose customer type is a member
    /// type (company pricing); `false` = not so linked.
    pub company_member: Option<bool>,
    /// Condition: the buyer belongs to this pricing group.
    pub pricing_group: Option<String>,
    /// Condition: this other product is on the same invoice (bundle).
    pub with_product: Option<String>,
    /// First day in force (inclusive); `null`: no start.
    pub valid_from: Option<NaiveDate>,
    /// Last day in force (inclusive); `null`: no end.
    pub valid_to: Option<NaiveDate>,
    /// Condition (P-7): the buyer joined on or after this day; `null`: no earliest join date.
    /// A rule with a join-date range never applies to a contact who has not joined.
    pub joined_from: Option<NaiveDate>,
    /// Condition (P-7): the buyer joined on or before this day (inclusive); `null`: no latest
    /// join date.
    pub joined_to: Option<NaiveDate>,
    /// Breaks ties between matching rules of equal specificity: higher wins.
    pub priority: i32,
    /// Read-only: the number of conditions set (customer type, billing category, company
    /// member, pricing group, other product), plus 1 for any date bound and 1 for any
    /// join-date bound. Most specific wins.
    pub specificity: u8,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<service::entity::pricing_rule::Model> for PricingRuleDto {
    fn from(r: service::entity::pricing_rule::Model) -> Self {
        PricingRuleDto {
            specificity: service::pricing::rules::specificity(&r),
            id: r.id,
            product: r.product,
            price: Money(r.price_cents),
            customer_type: r.customer_type,
            billing_category: r.billing_category,
            company_member: r.company_member,
            pricing_group: r.pricing_group,
            with_product: r.with_product,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            joined_from: r.joined_from,
            joined_to: r.joined_to,
            priority: r.priority,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PricingRuleList {
    pub items: Vec<PricingRuleDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PricingRuleQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::IdCursor>,
    /// Only rules of this product.
    pub product: Option<String>,
    /// Only rules with this customer type condition.
    pub customer_type: Option<String>,
    /// Only rules with this billing category condition.
    pub billing_category: Option<String>,
    /// Only rules with this pricing group condition.
    pub pricing_group: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"product": "MDUES", "price": "100.00", "customer_type": "M", "billing_category": "FYEAR"}))]
pub struct NewPricingRuleDto {
    pub product: String,
    pub price: Money,
    #[serde(default)]
    pub customer_type: Option<String>,
    #[serde(default)]
    pub billing_category: Option<String>,
    #[serde(default)]
    pub company_member: Option<bool>,
    #[serde(default)]
    pub pricing_group: Option<String>,
    #[serde(default)]
    pub with_product: Option<String>,
    #[serde(default)]
    pub valid_from: Option<Date>,
    #[serde(default)]
    pub valid_to: Option<Date>,
    /// P-7: only buyers who joined on or after this day (inclusive).
    #[serde(default)]
    pub joined_from: Option<Date>,
    /// P-7: only buyers who joined on or before this day (inclusive); not before `joined_from`.
    #[serde(default)]
    pub joined_to: Option<Date>,
    /// Default 0.
    #[serde(default)]
    pub priority: Option<i32>,
}

/// Absent fields stay as they are; `null` clears a condition. `product`, `price` and
/// `priority` cannot be null.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"price": "110.00", "valid_to": null, "priority": 1}))]
pub struct PricingRulePatchDto {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, required = false)]
    pub product: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Money, required = false)]
    pub price: Option<Option<Money>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub customer_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub billing_category: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    pub company_member: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub pricing_group: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub with_product: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Date>)]
    pub valid_from: Option<Option<Date>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Date>)]
    pub valid_to: Option<Option<Date>>,
    /// P-7: join date on or after; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Date>)]
    pub joined_from: Option<Option<Date>>,
    /// P-7: join date on or before; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Date>)]
    pub joined_to: Option<Option<Date>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i32, required = false)]
    pub priority: Option<Option<i32>>,
}

// ---- pricing groups (P-3)

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "CONSORT", "name": "Hospital consortium", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}))]
pub struct PricingGroupDto {
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<LookupRow> for PricingGroupDto {
    fn from(r: LookupRow) -> Self {
        PricingGroupDto {
            code: r.code,
            name: r.name,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PricingGroupList {
    pub items: Vec<PricingGroupDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "CONSORT", "name": "Hospital consortium"}))]
pub struct NewPricingGroupDto {
    /// Upper-case letters, digits, `_` or `-`; at most 20 characters.
    pub code: String,
    pub name: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Northern hospital consortium"}))]
pub struct PricingGroupPatchDto {
    pub name: String,
}

/// Member contact ids of a pricing group, ascending.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [3, 8, 21], "next_cursor": null}))]
pub struct PricingGroupMemberList {
    pub items: Vec<i64>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_ids": [3, 8, 21]}))]
pub struct AddPricingGroupMembersDto {
    /// Contacts to add (1 to 10,000); contacts already in the group are left as they are.
    #[validate(length(min = 1, max = 10000, message = "give 1 to 10000 contact ids"))]
    pub contact_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"added": 2, "already_members": 1}))]
pub struct PricingGroupMembersAdded {
    /// Contacts that joined the group.
    pub added: u64,
    /// Contacts that were in the group already.
    pub already_members: u64,
}

// ---- the price of a product (P-3..P-5)

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PriceQuery {
    /// The buyer. Without it the buyer has no customer type, category or pricing group and is
    /// not a company member.
    pub contact_id: Option<i64>,
    /// The date priced, `YYYY-MM-DD` (default: today, UTC).
    #[param(value_type = Option<String>, format = Date, example = "2026-01-31")]
    pub as_of: Option<String>,
    /// Comma-separated codes of the other products on the same invoice (bundles).
    #[param(example = "DIVISION,JOURNAL")]
    pub with: Option<String>,
}

/// P-5: the tax line that goes with the product.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxCompanionDto {
    /// `X_GST` for product `X`.
    pub product: String,
    pub price: Money,
    /// The rule that decided the companion's price, or `null` for its default price.
    pub rule: Option<PricingRuleDto>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "product": "MDUES", "price": "100.00", "as_of": "2026-06-15",
    "rule": {"id": 12, "product": "MDUES", "price": "100.00", "customer_type": "M",
        "billing_category": "FYEAR", "company_member": null, "pricing_group": null,
        "with_product": null, "valid_from": null, "valid_to": null, "joined_from": null, "joined_to": null, "priority": 0,
        "specificity": 2, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"},
    "tax_companion": null
}))]
pub struct PriceDto {
    pub product: String,
    pub price: Money,
    pub as_of: NaiveDate,
    /// The rule that decided, or `null` for the product's default price.
    pub rule: Option<PricingRuleDto>,
    /// P-5: the `X_GST` line billed with this product, when an active one exists.
    pub tax_companion: Option<TaxCompanionDto>,
}

/// A field that may be left out but not set to null.
fn not_null<T>(errors: &mut Errors, field: &str, value: Option<Option<T>>) -> Option<T> {
    match value {
        Some(None) => {
            errors.add(
                field,
                "cannot be null; leave it out to keep the current value",
            );
            None
        }
        Some(Some(v)) => Some(v),
        None => None,
    }
}

impl PricingRulePatchDto {
    pub fn into_patch(self) -> Result<RulePatch, service::Error> {
        let mut errors = Errors::new();
        let product = not_null(&mut errors, "product", self.product);
        let price = not_null(&mut errors, "price", self.price);
        let priority = not_null(&mut errors, "priority", self.priority);
        errors.into_result()?;
        Ok(RulePatch {
            product,
            price_cents: price.map(|m| m.0),
            customer_type: self.customer_type,
            billing_category: self.billing_category,
            company_member: self.company_member,
            pricing_group: self.pricing_group,
            with_product: self.with_product,
            valid_from: self.valid_from.map(|d| d.map(Into::into)),
            valid_to: self.valid_to.map(|d| d.map(Into::into)),
            joined_from: self.joined_from.map(|d| d.map(Into::into)),
            joined_to: self.joined_to.map(|d| d.map(Into::into)),
            priority,
        })
    }
}
