use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::customer_types::{CustomerType, PrimaryFee};
use service::lookup::LookupRow;
use service::settings::Settings;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::words::{AccountingMethodDto, BillingTimeDto, ProductTypeDto};
use super::{Money, nullable};

// ---- settings (T-1)

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "fiscal_year_start_month": 1, "standard_billing_interval_months": 12,
    "default_billing_time": "annual", "default_accounting_method": "accrual",
    "grace_period_months": 3, "default_person_type": "NM", "default_organization_type": "HOSP",
    "currency": "USD", "prospect_tags": ["event-attendee", "interest-form"],
    "association_name": "Society of Example Physicians",
    "association_address": "1 Main Street\nSpringfield, IL 62701", "reply_to": "membership@example.org"
}))]
pub struct SettingsDto {
    /// First month of the fiscal year, 1..=12.
    #[validate(range(min = 1, max = 12))]
    pub fiscal_year_start_month: u32,
    #[validate(range(min = 1, max = 120))]
    pub standard_billing_interval_months: u32,
    pub default_billing_time: BillingTimeDto,
    pub default_accounting_method: AccountingMethodDto,
    #[validate(range(max = 120))]
    pub grace_period_months: u32,
    /// Non-member person type given to self-registered and unlinked persons.
    pub default_person_type: Option<String>,
    pub default_organization_type: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Tags that make a non-member a prospect (L-3). Absent or `null` on PUT: the defaults,
    /// `event-attendee` and `interest-form`. Reads show the tags in force.
    #[serde(default)]
    pub prospect_tags: Option<Vec<String>>,
    /// N-4: the association's name on invoice documents and notices.
    #[serde(default)]
    pub association_name: Option<String>,
    /// Its postal address, lines separated by `\n`.
    #[serde(default)]
    pub association_address: Option<String>,
    /// N-3: the `Reply-To` of notices.
    #[serde(default)]
    pub reply_to: Option<String>,
}

impl From<Settings> for SettingsDto {
    fn from(s: Settings) -> Self {
        let prospect_tags = Some(s.prospect_tags());
        SettingsDto {
            fiscal_year_start_month: s.fiscal_year_start_month,
            standard_billing_interval_months: s.standard_billing_interval_months,
            default_billing_time: s.default_billing_time.into(),
            default_accounting_method: s.default_accounting_method.into(),
            grace_period_months: s.grace_period_months,
            default_person_type: s.default_person_type,
            default_organization_type: s.default_organization_type,
            prospect_tags,
            currency: s.currency,
            association_name: s.association_name,
            association_address: s.association_address,
            reply_to: s.reply_to,
        }
    }
}

impl SettingsDto {
    pub fn into_settings(self) -> Settings {
        Settings {
            fiscal_year_start_month: self.fiscal_year_start_month,
            standard_billing_interval_months: self.standard_billing_interval_months,
            default_billing_time: self.default_billing_time.into(),
            default_accounting_method: self.default_accounting_method.into(),
            grace_period_months: self.grace_period_months,
            default_person_type: self.default_person_type,
            default_organization_type: self.default_organization_type,
            currency: self.currency,
            prospect_tags: self
                .prospect_tags
                .map(|t| t.into_iter().map(|t| t.trim().to_lowercase()).collect()),
            association_name: self.association_name.map(|n| n.trim().to_owned()),
            association_address: self.association_address.map(|a| a.trim().to_owned()),
            reply_to: self.reply_to.map(|r| r.trim().to_owned()),
            version: 0,
        }
    }
}

// ---- code-and-name lookups (contact statuses, billing categories)

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "REG", "name": "Regular", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}))]
pub struct LookupDto {
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<LookupRow> for LookupDto {
    fn from(r: LookupRow) -> Self {
        LookupDto {
            code: r.code,
            name: r.name,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LookupList {
    pub items: Vec<LookupDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "FYEAR", "name": "First year"}))]
pub struct NewLookup {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "First-year member"}))]
pub struct LookupPatch {
    pub name: String,
}

// ---- customer types (CT-1..CT-7)

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PrimaryFeeDto {
    /// A fixed list of dues products billed as the primary fee.
    Products { products: Vec<String> },
    /// A product family: every product whose code begins with `designator` (no `_GST`).
    Formula {
        designator: String,
        #[serde(default)]
        default_product: Option<String>,
    },
}

impl From<PrimaryFee> for PrimaryFeeDto {
    fn from(p: PrimaryFee) -> Self {
        match p {
            PrimaryFee::Products(products) => PrimaryFeeDto::Products { products },
            PrimaryFee::Formula {
                designator,
                default_product,
            } => PrimaryFeeDto::Formula {
                designator,
                default_product,
            },
        }
    }
}

impl From<PrimaryFeeDto> for PrimaryFee {
    fn from(p: PrimaryFeeDto) -> Self {
        match p {
            PrimaryFeeDto::Products { products } => PrimaryFee::Products(products),
            PrimaryFeeDto::Formula {
                designator,
                default_product,
            } => PrimaryFee::Formula {
                designator,
                default_product,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "M", "name": "Member", "is_member": true, "is_organization": false,
    "primary_fee": {"kind": "products", "products": ["MDUES"]},
    "expires_to": "NM", "renews_as": null, "flow_down_type": null,
    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
}))]
pub struct CustomerTypeDto {
    pub code: String,
    pub name: String,
    pub is_member: bool,
    pub is_organization: bool,
    pub primary_fee: Option<PrimaryFeeDto>,
    pub expires_to: Option<String>,
    pub renews_as: Option<String>,
    pub flow_down_type: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CustomerType> for CustomerTypeDto {
    fn from(t: CustomerType) -> Self {
        CustomerTypeDto {
            code: t.code,
            name: t.name,
            is_member: t.is_member,
            is_organization: t.is_organization,
            primary_fee: t.primary_fee.map(Into::into),
            expires_to: t.expires_to,
            renews_as: t.renews_as,
            flow_down_type: t.flow_down_type,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerTypeList {
    pub items: Vec<CustomerTypeDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerTypeQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::CodeCursor>,
    pub is_member: Option<bool>,
    pub is_organization: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "M", "name": "Member", "is_member": true, "is_organization": false,
    "primary_fee": {"kind": "products", "products": ["MDUES"]}, "expires_to": "NM"
}))]
pub struct NewCustomerTypeDto {
    pub code: String,
    pub name: String,
    pub is_member: bool,
    pub is_organization: bool,
    #[serde(default)]
    pub primary_fee: Option<PrimaryFeeDto>,
    #[serde(default)]
    pub expires_to: Option<String>,
    #[serde(default)]
    pub renews_as: Option<String>,
    #[serde(default)]
    pub flow_down_type: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Regular member", "renews_as": null}))]
pub struct CustomerTypePatchDto {
    pub name: Option<String>,
    pub is_member: Option<bool>,
    pub is_organization: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<PrimaryFeeDto>)]
    pub primary_fee: Option<Option<PrimaryFeeDto>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub expires_to: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub renews_as: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub flow_down_type: Option<Option<String>>,
}

// ---- products (P-1, P-2)

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "CHAPT/EAST", "name": "East chapter", "product_type": "chapter", "price": "25.00",
    "term_months": 12, "active": true, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
}))]
pub struct ProductDto {
    pub code: String,
    pub name: String,
    pub product_type: ProductTypeDto,
    /// Default price; pricing rules may give another.
    pub price: Money,
    pub term_months: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<service::entity::product::Model> for ProductDto {
    fn from(p: service::entity::product::Model) -> Self {
        ProductDto {
            code: p.code,
            name: p.name,
            product_type: p.product_type.into(),
            price: Money(p.price_cents),
            term_months: p.term_months,
            active: p.active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductList {
    pub items: Vec<ProductDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<crate::dto::CodeCursor>,
    #[param(value_type = Option<ProductTypeDto>)]
    pub product_type: Option<ProductTypeDto>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "AM_2", "name": "Associate membership, 2 years", "product_type": "dues", "price": "190.00", "term_months": 24}))]
pub struct NewProductDto {
    pub code: String,
    pub name: String,
    pub product_type: ProductTypeDto,
    pub price: Money,
    /// Term span in months (default 12).
    pub term_months: Option<u32>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"price": "210.00", "active": true}))]
pub struct ProductPatchDto {
    pub name: Option<String>,
    pub product_type: Option<ProductTypeDto>,
    pub price: Option<Money>,
    pub term_months: Option<u32>,
    pub active: Option<bool>,
}
