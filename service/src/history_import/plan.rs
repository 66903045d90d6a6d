//! Checking history rows against what the database holds: the contacts, customer types and
//! products they name, and the terms already in the ledger, loaded once per batch.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use entity::contact as c;
use entity::contact_history as h;

use crate::error::{Error, Errors, Result};
use crate::history::{NewTerm, TERM};
use crate::import::{Action, Outcome, Seen};
use crate::products;
use crate::sql::{IN_CHUNK, in_ids, in_values};

use super::input::{ContactKey, HistoryRow};

/// A term as the ledger and a file identify it: (contact, begin, end, product).
pub type TermKey = (i64, NaiveDate, NaiveDate, Option<String>);

/// A term as the file's rows are compared: (contact, begin, end, product's place in
/// [`Known`], 0 for none). Small, as one is kept for every row of the file.
pub type RowKey = (i64, NaiveDate, NaiveDate, u32);

/// A checked row: a new term, a changed one, or one already in the ledger as given.
#[derive(Debug, Clone)]
pub struct Planned {
    pub outcome: Outcome,
    /// The ledger row it names, when it is already there.
    pub existing: Option<i64>,
    pub term: NewTerm,
}

/// A term of the ledger as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    contact_id: i64,
    begin: Option<NaiveDate>,
    end: Option<NaiveDate>,
    customer_type: Option<String>,
    product: Option<String>,
    amount_cents: Option<i64>,
    imported: bool,
    invoice_id: Option<i64>,
}

/// What the checks of one batch need.
#[derive(Default)]
pub struct Facts {
    /// Contacts by id: `Err(survivor)` for a merged one.
    by_id: HashMap<i64, std::result::Result<(), i64>>,
    by_ref: HashMap<String, i64>,
    /// Terms in the ledger: (contact, begin, end, product) → history id.
    terms: HashMap<TermKey, i64>,
    /// Terms by id: every term of the batch's contacts, and every term a row names.
    stored: HashMap<i64, Stored>,
}

/// The customer types and products rows may name: loaded once for the file.
pub struct Known {
    types: HashSet<String>,
    /// Sorted: a product's place is its number in a row's key.
    products: Vec<String>,
}

impl Known {
    pub async fn load(conn: &impl ConnectionTrait) -> Result<Known> {
        Ok(Known {
            types: crate::customer_types::all(conn)
                .await?
                .into_iter()
                .map(|t| t.code)
                .collect(),
            products: {
                let mut codes: Vec<String> = products::codes(conn).await?.into_iter().collect();
                codes.sort();
                codes
            },
        })
    }

    /// The product's number in a row's key: its place in the sorted codes, from 1; 0 for none
    /// (and for an unknown code, which fails its row).
    fn product_number(&self, product: Option<&str>) -> u32 {
        product
            .and_then(|p| self.products.binary_search_by(|c| c.as_str().cmp(p)).ok())
            .map_or(0, |i| u32::try_from(i + 1).unwrap_or(0))
    }
}

/// Checks one row: its contact, codes and dates, then what it does to the ledger.
pub fn plan(
    action: Action,
    known: &Known,
    f: &Facts,
    seen: &mut Seen<RowKey>,
    index: usize,
    row: HistoryRow,
) -> Result<Planned> {
    let contact_id = contact_of(f, &row)?;
    check_codes(known, &row)?;
    let key = (contact_id, row.begin, row.end, row.product.clone());
    let row_key = (
        contact_id,
        row.begin,
        row.end,
        known.product_number(row.product.as_deref()),
    );
    if let Some(earlier) = seen.insert(row_key, index) {
        return Err(Error::conflict(format!(
            "row {} repeats the term of row {} (contact {contact_id}, {} to {})",
            index + 1,
            earlier + 1,
            row.begin,
            row.end
        )));
    }
    let term = NewTerm {
        contact_id,
        begin: row.begin,
        end: row.end,
        customer_type: row.customer_type.clone(),
        product: row.product.clone(),
        invoice_id: None,
        amount_cents: row.amount_cents,
        imported: true,
    };
    match row.id {
        Some(id) => change(action, f, id, &key, &row, term),
        None if action == Action::Update => Err(Error::invalid(
            "id",
            "is required to update a term (the ledger's export gives it)",
        )),
        None => Ok(Planned {
            outcome: match f.terms.get(&key) {
                Some(_) => Outcome::Unchanged,
                None => Outcome::Inserted,
            },
            existing: f.terms.get(&key).copied(),
            term,
        }),
    }
}

fn contact_of(f: &Facts, row: &HistoryRow) -> Result<i64> {
    match &row.contact {
        ContactKey::Id(id) => match f.by_id.get(id) {
            Some(Ok(())) => Ok(*id),
            Some(Err(into)) => Err(Error::Merged {
                id: *id,
                into: *into,
            }),
            None => Err(Error::invalid(
                "contact_id",
                format!("contact {id} does not exist"),
            )),
        },
        ContactKey::Ref(x) => f.by_ref.get(x).copied().ok_or_else(|| {
            Error::invalid("contact_ref", format!("no contact has external_ref {x}"))
        }),
    }
}

fn check_codes(known: &Known, row: &HistoryRow) -> Result<()> {
    let mut errors = Errors::new();
    if let Some(t) = &row.customer_type
        && !known.types.contains(t)
    {
        errors.add("customer_type", format!("customer type {t} does not exist"));
    }
    if let Some(p) = &row.product
        && known.product_number(Some(p)) == 0
    {
        errors.add("product", format!("product {p} does not exist"));
    }
    errors.into_result()
}

/// A row naming a ledger term (MG-4): unchanged when it gives the term as stored; otherwise
/// an imported term takes the row's values, and a term billing recorded is refused: it
/// changes only through its invoice.
fn change(
    action: Action,
    f: &Facts,
    id: i64,
    key: &TermKey,
    row: &HistoryRow,
    mut term: NewTerm,
) -> Result<Planned> {
    let stored = f
        .stored
        .get(&id)
        .ok_or_else(|| Error::invalid("id", format!("term {id} does not exist")))?;
    check_shown(id, stored, row, term.contact_id)?;
    if term.customer_type.is_none() {
        term.customer_type = stored.customer_type.clone();
    }
    let changed = changed_columns(stored, &term);
    if changed.is_empty() {
        return Ok(Planned {
            outcome: Outcome::Unchanged,
            existing: Some(id),
            term,
        });
    }
    let first = changed[0];
    if action == Action::Insert {
        return Err(Error::invalid(
            first,
            format!("term {id} differs from the ledger; use update or upsert to change it"),
        ));
    }
    if !stored.imported {
        return Err(Error::invalid(
            first,
            match stored.invoice_id {
                Some(inv) => format!(
                    "term {id} was recorded by billing (invoice {inv}); it changes only through its invoice"
                ),
                None => format!("term {id} was recorded by billing; only imported terms change"),
            },
        ));
    }
    if let Some(other) = f.terms.get(key).filter(|other| **other != id) {
        return Err(Error::conflict(format!(
            "term {other} already has these dates and product for contact {}",
            term.contact_id
        )));
    }
    Ok(Planned {
        outcome: Outcome::Updated,
        existing: Some(id),
        term,
    })
}

/// The columns the server sets must agree with the ledger, and the term stays its contact's.
fn check_shown(id: i64, stored: &Stored, row: &HistoryRow, contact_id: i64) -> Result<()> {
    let mut errors = Errors::new();
    if stored.contact_id != contact_id {
        let column = match row.contact {
            ContactKey::Id(_) => "contact_id",
            ContactKey::Ref(_) => "contact_ref",
        };
        errors.add(
            column,
            format!(
                "term {id} is contact {}'s; a term does not move to another contact",
                stored.contact_id
            ),
        );
    }
    if let Some(imported) = row.shown.imported
        && imported != stored.imported
    {
        errors.add(
            "imported",
            format!("is set by the server; term {id} has {}", stored.imported),
        );
    }
    if let Some(invoice) = row.shown.invoice_id
        && Some(invoice) != stored.invoice_id
    {
        errors.add(
            "invoice_id",
            format!(
                "is set by the server; term {id} has {:?}",
                stored.invoice_id
            ),
        );
    }
    errors.into_result()
}

/// The row's columns whose value differs from the stored term, in the export's order.
fn changed_columns(stored: &Stored, term: &NewTerm) -> Vec<&'static str> {
    let mut out = Vec::new();
    if stored.begin != Some(term.begin) {
        out.push("begin");
    }
    if stored.end != Some(term.end) {
        out.push("end");
    }
    if stored.customer_type != term.customer_type {
        out.push("customer_type");
    }
    if stored.product != term.product {
        out.push("product");
    }
    if stored.amount_cents != term.amount_cents {
        out.push("amount");
    }
    out
}

/// A ledger row as read: (id, contact, begin, end, type, product, amount, imported, invoice).
type LedgerRow = (
    i64,
    i64,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<String>,
    Option<String>,
    Option<i64>,
    bool,
    Option<i64>,
);

/// Loads the contacts a batch names, their terms, and the terms it names by id.
pub async fn load<'a>(
    conn: &impl ConnectionTrait,
    rows: impl Iterator<Item = &'a HistoryRow>,
) -> Result<Facts> {
    let (mut ids, mut refs, mut term_ids) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        match &r.contact {
            ContactKey::Id(id) => ids.push(*id),
            ContactKey::Ref(x) => refs.push(x.clone()),
        }
        term_ids.extend(r.id);
    }
    for list in [&mut ids, &mut term_ids] {
        list.sort_unstable();
        list.dedup();
    }
    refs.sort();
    refs.dedup();
    let mut f = Facts::default();
    load_contacts(conn, &ids, &refs, &mut f).await?;
    let contacts: Vec<i64> = f
        .by_ref
        .values()
        .copied()
        .chain(f.by_id.iter().filter(|(_, v)| v.is_ok()).map(|(k, _)| *k))
        .collect();
    for chunk in contacts.chunks(IN_CHUNK) {
        load_terms(conn, in_ids(h::Column::ContactId, chunk), &mut f).await?;
    }
    for chunk in term_ids.chunks(IN_CHUNK) {
        load_terms(conn, in_ids(h::Column::Id, chunk), &mut f).await?;
    }
    Ok(f)
}

async fn load_contacts(
    conn: &impl ConnectionTrait,
    ids: &[i64],
    refs: &[String],
    f: &mut Facts,
) -> Result<()> {
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<(i64, Option<i64>)> = c::Entity::find()
            .select_only()
            .columns([c::Column::Id, c::Column::MergedInto])
            .filter(in_ids(c::Column::Id, chunk))
            .into_tuple()
            .all(conn)
            .await?;
        for (id, merged) in rows {
            f.by_id.insert(id, merged.map_or(Ok(()), Err));
        }
    }
    for chunk in refs.chunks(IN_CHUNK) {
        let rows: Vec<(i64, Option<String>)> = c::Entity::find()
            .select_only()
            .columns([c::Column::Id, c::Column::ExternalRef])
            .filter(in_values(c::Column::ExternalRef, chunk.iter().cloned()))
            .filter(c::Column::MergedInto.is_null())
            .into_tuple()
            .all(conn)
            .await?;
        for (id, x) in rows {
            f.by_ref.extend(x.map(|x| (x, id)));
        }
    }
    Ok(())
}

async fn load_terms(
    conn: &impl ConnectionTrait,
    which: sea_orm::sea_query::Expr,
    f: &mut Facts,
) -> Result<()> {
    let rows: Vec<LedgerRow> = h::Entity::find()
        .select_only()
        .columns([
            h::Column::Id,
            h::Column::ContactId,
            h::Column::TermBegin,
            h::Column::TermEnd,
            h::Column::CustomerType,
            h::Column::Product,
            h::Column::AmountCents,
            h::Column::Imported,
            h::Column::InvoiceId,
        ])
        .filter(which)
        .filter(h::Column::Kind.eq(TERM))
        .into_tuple()
        .all(conn)
        .await?;
    for (id, contact_id, begin, end, customer_type, product, amount_cents, imported, invoice_id) in
        rows
    {
        if let (Some(b), Some(e)) = (begin, end) {
            f.terms.insert((contact_id, b, e, product.clone()), id);
        }
        f.stored.insert(
            id,
            Stored {
                contact_id,
                begin,
                end,
                customer_type,
                product,
                amount_cents,
                imported,
                invoice_id,
            },
        );
    }
    Ok(())
}
