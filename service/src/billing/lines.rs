//! I-1, P-5, T-4: the lines of a bill, priced by the price book and scaled to the term.
//! Pure: everything it needs is passed in.

use std::collections::HashMap;

use chrono::NaiveDate;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::invoice_line as l;
use entity::product as p;

use crate::error::Result;
use crate::pricing::{Buyer, PriceBook};
use crate::products::ProductType;
use crate::terms::{self, Term};

#[derive(Debug, Clone)]
pub struct ProductInfo {
    pub product_type: ProductType,
    pub term_months: u32,
    pub active: bool,
}

/// What billing needs of products: all of them, or those named, in one query.
pub async fn product_infos(
    conn: &impl ConnectionTrait,
    codes: Option<&[String]>,
) -> Result<HashMap<String, ProductInfo>> {
    let mut q = p::Entity::find();
    if let Some(codes) = codes {
        q = q.filter(p::Column::Code.is_in(codes.iter().cloned()));
    }
    Ok(q.all(conn)
        .await?
        .into_iter()
        .map(|m| {
            let info = ProductInfo {
                product_type: m.product_type,
                term_months: u32::try_from(m.term_months).unwrap_or(12),
                active: m.active,
            };
            (m.code, info)
        })
        .collect())
}

/// P-5: a tax line follows its product on the same invoice; it is never chosen on its own.
pub fn is_tax_line(line: &l::Model, lines: &[l::Model]) -> bool {
    line.product
        .strip_suffix(crate::products::TAX_SUFFIX)
        .is_some_and(|base| lines.iter().any(|o| o.product == base))
}

/// What an item is on the bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Primary,
    Chapter,
    AddOn,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineDraft {
    pub product: String,
    pub term_begin: NaiveDate,
    pub term_end: NaiveDate,
    pub amount_cents: i64,
    pub voluntary: bool,
    pub is_primary: bool,
    pub is_chapter: bool,
    /// How many; 1 except on one-off invoices (M-8).
    pub quantity: i32,
    /// Why the amount was given by hand (M-8).
    pub price_reason: Option<String>,
}

pub struct Pricing<'a> {
    pub book: &'a PriceBook,
    pub buyer: &'a Buyer,
    pub as_of: NaiveDate,
    pub products: &'a HashMap<String, ProductInfo>,
    pub term: &'a Term,
    pub term_length: u32,
}

impl Pricing<'_> {
    fn line(&self, code: &str, role: Role, with: &[String], given: Option<i64>) -> LineDraft {
        let info = self.products.get(code);
        let product_type = info.map_or(ProductType::Miscellaneous, |p| p.product_type);
        let span = info.map_or(self.term_length, |p| p.term_months);
        let voluntary = product_type == ProductType::Voluntary;
        let price = match given {
            Some(amount) if voluntary => amount,
            _ => self
                .book
                .quote(code, self.buyer, self.as_of, with)
                .map_or(0, |q| q.price_cents),
        };
        LineDraft {
            product: code.to_owned(),
            term_begin: self.term.begin,
            term_end: self.term.end,
            amount_cents: terms::line_amount(
                price,
                product_type,
                span,
                self.term,
                self.term_length,
            ),
            voluntary,
            is_primary: role == Role::Primary,
            is_chapter: role == Role::Chapter,
            quantity: 1,
            price_reason: None,
        }
    }

    /// Prices the items in order; each billed `X` with an active `X_GST` is followed by its
    /// tax line, scaled exactly like `X` (P-5).
    pub fn build(
        &self,
        items: &[(String, Role)],
        voluntary_amounts: &HashMap<String, i64>,
    ) -> Vec<LineDraft> {
        let mut with: Vec<String> = items.iter().map(|(c, _)| c.clone()).collect();
        for (c, _) in items {
            if let Some(tax) = self.book.tax_companion(c) {
                with.push(tax.to_owned());
            }
        }
        let mut lines = Vec::with_capacity(with.len());
        for (code, role) in items {
            lines.push(self.line(code, *role, &with, voluntary_amounts.get(code).copied()));
            if let Some(tax) = self.book.tax_companion(code) {
                let base = self.products.get(code);
                let price = self
                    .book
                    .quote(tax, self.buyer, self.as_of, &with)
                    .map_or(0, |q| q.price_cents);
                let product_type = base.map_or(ProductType::Miscellaneous, |p| p.product_type);
                let span = base.map_or(self.term_length, |p| p.term_months);
                lines.push(LineDraft {
                    product: tax.to_owned(),
                    term_begin: self.term.begin,
                    term_end: self.term.end,
                    amount_cents: terms::line_amount(
                        price,
                        product_type,
                        span,
                        self.term,
                        self.term_length,
                    ),
                    voluntary: false,
                    is_primary: false,
                    is_chapter: false,
                    quantity: 1,
                    price_reason: None,
                });
            }
        }
        lines
    }
}
