//! P-3..P-5: pricing rules, pricing groups and price resolution.
//!
//! A pricing rule gives a product another price when all of its conditions hold:
//!
//! - `customer_type`: the buyer's customer type;
//! - `billing_category`: the buyer's billing category;
//! - `company_member`: `true` = the buyer is a person linked to an organization whose customer
//!   type is a member type (company pricing); `false` = not so linked;
//! - `pricing_group`: the buyer is a member of that pricing group;
//! - `with_product`: that other product is on the same invoice (bundles);
//! - `valid_from` / `valid_to`: the date priced is in that range, both ends inclusive, either
//!   end open (P-4: effective-dated prices);
//! - `joined_from` / `joined_to`: the buyer's join date is in that range, both ends inclusive,
//!   either end open (P-7: "members who joined before 2000 pay the legacy rate"); a buyer who
//!   never joined does not match.
//!
//! Specificity is the number of conditions set among the first five, plus 1 when the rule has
//! any date bound and 1 when it has any join-date bound. The most specific matching rule wins; equal specificity goes to the higher
//! `priority`; with no matching rule the product's default price applies. Two rules of one
//! product with equal specificity and equal priority that could match the same line are an
//! ambiguous tie and are rejected when saved (409).
//!
//! [`PriceBook`] answers quotes in memory after loading every rule once, so that runs pricing
//! many lines never query per line; [`buyers`] reads what pricing needs of many contacts in a
//! bounded number of queries.

pub mod buyers;
pub mod conditions;
pub mod explain;
pub mod groups;
pub mod resolver;
pub mod rules;
pub mod ties;

pub use buyers::buyers;
pub use conditions::{Buyer, Conditions, Rule};
pub use explain::{Decided, Explained, explain};
pub use resolver::{PriceBook, ProductPrice, Quote};
pub use rules::{NewRule, RuleFilter, RulePatch, create, create_many, create_many_in};
