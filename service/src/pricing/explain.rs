//! P-3..P-5 for one product and one buyer: the price, the rule that decided it, and the tax
//! companion line. What the price endpoint shows staff.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use entity::pricing_rule as pr;
use entity::product as p;

use super::buyers::buyers;
use super::conditions::Buyer;
use super::resolver::{PriceBook, Quote};
use crate::error::{Error, Result};

/// A quote with the rule that decided it (`None`: the default price).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub quote: Quote,
    pub rule: Option<pr::Model>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub price: Decided,
    /// P-5: the `X_GST` line, priced with `X` on the same invoice.
    pub tax_companion: Option<Decided>,
}

/// The price of `product` for `contact_id` (or for a buyer with no attributes) on `as_of`,
/// with the products `with` on the same invoice. Unknown product or contact: 404; unknown
/// codes in `with`: 400 naming them.
pub async fn explain(
    conn: &impl ConnectionTrait,
    product: &str,
    contact_id: Option<i64>,
    as_of: NaiveDate,
    with: &[String],
) -> Result<Explained> {
    let book = PriceBook::load_for(conn, &[product.to_owned()]).await?;
    if !book.contains(product) {
        return Err(Error::not_found("product", product));
    }
    if !with.is_empty() {
        let found = p::Entity::find()
            .select_only()
            .column(p::Column::Code)
            .filter(p::Column::Code.is_in(with.iter().cloned()))
            .into_tuple::<String>()
            .all(conn)
            .await?;
        let missing: Vec<&str> = with
            .iter()
            .filter(|w| !found.contains(w))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(Error::not_found("product", missing.join(", ")));
        }
    }
    let buyer = match contact_id {
        None => Buyer::default(),
        Some(id) => buyers(conn, &[id])
            .await?
            .remove(&id)
            .ok_or_else(|| Error::not_found("contact", id))?,
    };
    let quote = book
        .quote(product, &buyer, as_of, with)
        .ok_or_else(|| Error::not_found("product", product))?;
    let companion = match book.tax_companion(product) {
        None => None,
        Some(tax) => {
            let mut on_invoice = with.to_vec();
            on_invoice.push(product.to_owned());
            book.quote(tax, &buyer, as_of, &on_invoice)
        }
    };
    let ids: Vec<i64> = std::iter::once(&quote)
        .chain(companion.as_ref())
        .filter_map(|q| q.rule_id)
        .collect();
    let rules = if ids.is_empty() {
        Vec::new()
    } else {
        pr::Entity::find()
            .filter(pr::Column::Id.is_in(ids))
            .all(conn)
            .await?
    };
    let decided = |quote: Quote| Decided {
        rule: quote
            .rule_id
            .and_then(|id| rules.iter().find(|r| r.id == id).cloned()),
        quote,
    };
    Ok(Explained {
        price: decided(quote),
        tax_companion: companion.map(decided),
    })
}
