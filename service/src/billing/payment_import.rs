//! MG-4: payments import back from their own CSV export, and new payments come in by file (a
//! bank's lockbox, another system's open balances). A row without `id` is a payment on its
//! `invoice_id`, recorded exactly as `POST /invoices/{id}/payments` records it (I-3, I-4: the
//! open balance, the lines, the membership a payment in full starts or extends); one that
//! repeats a recorded payment (same invoice, amount, date, method and reference) is
//! `unchanged`, so a file can be imported again. A row naming a payment by `id` is
//! `unchanged` as exported; a recorded payment's invoice, amount, date and method never
//! change (money is corrected by refund or reversal, M-2, M-3), only its reference does;
//! columns the server sets must agree.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Map, Value, json};

use entity::payment as p;

use crate::column_map::ColumnMap;
use crate::error::{Error, Errors, Result};
use crate::events::{self, Event};
use crate::import::{self, Action, Mode, Outcome, Report, Results, RowError, Summary};
use crate::row_batches::{self, Batch};
use crate::row_reader::{Reader, Source};
use crate::sql::{IN_CHUNK, in_ids};
use crate::subscriptions::words::parse_flag;
use crate::{clock, db::Db};

use super::payment_list::{self, PaymentView};
use super::payments::{self, NewPayment};

/// Every column a row may carry, in the export's order.
pub const COLUMNS: &[&str] = &[
    "id",
    "receipt_number",
    "invoice_id",
    "contact_id",
    "holder_id",
    "amount",
    "paid_on",
    "method",
    "reference",
    "refunded",
    "reversed",
    "recorded_by",
];

/// Columns the export writes that the server keeps: read past, never compared.
pub const BOOKKEEPING: &[&str] = &["created_at", "updated_at"];

/// The columns the server sets, as a row shows them (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub receipt_number: Option<i64>,
    pub contact_id: Option<i64>,
    pub holder_id: Option<i64>,
    pub refunded_cents: Option<i64>,
    pub reversed: Option<bool>,
    pub recorded_by: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: Option<i64>,
    pub invoice_id: Option<i64>,
    pub amount_cents: Option<i64>,
    pub paid_on: Option<NaiveDate>,
    pub method: Option<String>,
    pub reference: Option<String>,
    pub shown: Shown,
}

/// Parses one row; a new payment needs its invoice, amount, date and method.
pub fn parse_row(map: &Map<String, Value>) -> Result<PaymentRow> {
    let mut r = Reader::new(map);
    for key in map.keys() {
        if !COLUMNS.contains(&key.as_str()) && !BOOKKEEPING.contains(&key.as_str()) {
            r.errors.add(key.as_str(), "is not a payment field");
        }
    }
    let id = r.id("id", "a payment id");
    let row = PaymentRow {
        id,
        invoice_id: r.id("invoice_id", "an invoice id"),
        amount_cents: r.amount("amount").flatten(),
        paid_on: r.date("paid_on").flatten(),
        method: r.text("method").flatten(),
        reference: r.text("reference").flatten(),
        shown: Shown {
            receipt_number: r.id("receipt_number", "a receipt number"),
            contact_id: r.id("contact_id", "a contact id"),
            holder_id: r.id("holder_id", "a contact id"),
            refunded_cents: r.amount("refunded").flatten(),
            reversed: r.flag("reversed", parse_flag),
            recorded_by: r.id("recorded_by", "a user id"),
        },
    };
    let mut errors = std::mem::take(&mut r.errors);
    if id.is_none() {
        for (field, present) in [
            (
                "invoice_id",
                row.invoice_id.is_some() || map.contains_key("invoice_id"),
            ),
            (
                "amount",
                row.amount_cents.is_some() || map.contains_key("amount"),
            ),
            (
                "paid_on",
                row.paid_on.is_some() || map.contains_key("paid_on"),
            ),
            ("method", row.method.is_some()),
        ] {
            if !present {
                errors.add(field, "is required for a new payment");
            }
        }
    }
    errors.into_result()?;
    Ok(row)
}

/// JSON rows, their keys renamed by `map`.
pub fn parse_json_rows(rows: Vec<Value>, map: &ColumnMap) -> Result<Source> {
    Source::json(rows, map)
}

/// CSV under a header of field names (or the file's own, renamed by `map`).
pub fn parse_csv(bytes: Vec<u8>, map: &ColumnMap) -> Result<Source> {
    Source::csv(bytes, map, check_headers)
}

/// The first worksheet of an XLSX workbook, exactly like a CSV file.
pub fn parse_xlsx(bytes: &[u8], map: &ColumnMap) -> Result<Source> {
    Source::xlsx(bytes, map, check_headers)
}

fn check_headers(headers: &[String]) -> Result<()> {
    let mut errors = Errors::new();
    for h in headers {
        if !COLUMNS.contains(&h.as_str()) && !BOOKKEEPING.contains(&h.as_str()) {
            errors.add(
                h.as_str(),
                format!("unknown column {h:?}; columns are: {}", COLUMNS.join(", ")),
            );
        }
    }
    errors.into_result()
}

/// The bookkeeping columns a file carries: reported as ignored.
pub fn ignored_columns(source: &Source) -> Vec<String> {
    source
        .headers()
        .iter()
        .filter(|h| BOOKKEEPING.contains(&h.as_str()))
        .cloned()
        .collect()
}

/// Rows planned at a time: the payments they name are loaded once per batch.
pub const BATCH: usize = 1_000;

/// Imports payments; `recorded_by` is the user who imports, written on each new payment.
pub async fn run(
    db: &Db,
    action: Action,
    mode: Mode,
    source: Source,
    recorded_by: Option<i64>,
) -> Result<Report> {
    if !matches!(action, Action::Insert | Action::Update | Action::Upsert) {
        return Err(Error::invalid(
            "action",
            "payments are imported with insert, update or upsert",
        ));
    }
    let count = import::count_rows(&source)?;
    let txn = db.write().await?;
    // The rows go in a savepoint: all-or-nothing undoes them and still keeps the request's
    // audit event, written when the transaction began.
    let work = crate::db::savepoint(&txn).await?;
    let mut results: Results = vec![None; count];
    let ctx = Context {
        action,
        recorded_by,
    };
    let mut rows = row_batches::read_ahead(Arc::new(source), BATCH, |_| true, |r| parse_row(&r));
    while let Some(batch) = rows.next().await? {
        ctx.apply_batch(&work, batch, &mut results).await?;
    }
    let keep = import::finish(txn, work, mode, &results).await?;
    Ok(import::batch_report(action, mode, results, keep))
}

struct Context {
    action: Action,
    recorded_by: Option<i64>,
}

/// The payments a batch names by id, and the recorded payments of the invoices it pays (by
/// what identifies a payment without its id).
#[derive(Default)]
struct Facts {
    by_id: HashMap<i64, PaymentView>,
    recorded: HashMap<Identity, i64>,
}

/// (invoice, amount, paid on, method, reference): a payment as a file identifies it.
type Identity = (i64, i64, NaiveDate, String, String);

impl Context {
    /// Each row of a batch under its own savepoint: a row that fails leaves nothing behind.
    async fn apply_batch(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        batch: Batch<PaymentRow>,
        results: &mut Results,
    ) -> Result<()> {
        let mut facts = load(txn, batch.iter().filter_map(|(_, r)| r.as_ref().ok())).await?;
        for (i, row) in batch {
            let done = match row {
                Ok(row) => self.apply(txn, &mut facts, row).await,
                Err(e) => Err(e),
            };
            results[i] = Some(done.map_err(|e| RowError::from(&e)));
        }
        Ok(())
    }

    async fn apply(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        facts: &mut Facts,
        row: PaymentRow,
    ) -> Result<Summary> {
        let summary = |outcome, id| Summary {
            outcome,
            existing: Some(id),
            matched_by: None,
            id: Some(id),
        };
        if let Some(id) = row.id {
            let stored = facts
                .by_id
                .get(&id)
                .ok_or_else(|| Error::invalid("id", format!("payment {id} does not exist")))?;
            return match changed_reference(stored, &row)? {
                None => Ok(summary(Outcome::Unchanged, id)),
                Some(_) if self.action == Action::Insert => Err(Error::invalid(
                    "reference",
                    format!("payment {id} differs; use update or upsert to change it"),
                )),
                Some(reference) => {
                    let sp = crate::db::savepoint(txn).await?;
                    rewrite_reference(&sp, stored, reference).await?;
                    sp.commit().await?;
                    Ok(summary(Outcome::Updated, id))
                }
            };
        }
        if self.action == Action::Update {
            return Err(Error::invalid(
                "id",
                "is required to update a payment (the payments export gives it)",
            ));
        }
        let (identity, new) = self.new_payment(&row)?;
        if let Some(&id) = identity.as_ref().and_then(|k| facts.recorded.get(k)) {
            return Ok(summary(Outcome::Unchanged, id));
        }
        let invoice_id = identity
            .as_ref()
            .map(|k| k.0)
            .or(row.invoice_id)
            .ok_or_else(|| Error::invalid("invoice_id", "is required for a new payment"))?;
        let sp = crate::db::savepoint(txn).await?;
        let paid = payments::record(&sp, invoice_id, new)
            .await
            .map_err(on_invoice)?;
        sp.commit().await?;
        if let Some(k) = identity {
            facts.recorded.insert(k, paid.payment.id);
        }
        Ok(Summary {
            outcome: Outcome::Inserted,
            existing: None,
            matched_by: None,
            id: Some(paid.payment.id),
        })
    }

    /// A new payment as `POST /invoices/{id}/payments` takes it, and what identifies it when
    /// it has a reference.
    fn new_payment(&self, row: &PaymentRow) -> Result<(Option<Identity>, NewPayment)> {
        let (Some(invoice_id), Some(amount_cents), Some(paid_on), Some(method)) = (
            row.invoice_id,
            row.amount_cents,
            row.paid_on,
            row.method.clone(),
        ) else {
            return Err(Error::invalid(
                "invoice_id",
                "a new payment needs invoice_id, amount, paid_on and method",
            ));
        };
        let new = NewPayment {
            amount_cents,
            paid_on,
            method: method.clone(),
            reference: row.reference.clone(),
            recorded_by: self.recorded_by,
        };
        payments::check(&new)?;
        let identity = row
            .reference
            .clone()
            .map(|r| (invoice_id, amount_cents, paid_on, method, r));
        Ok((identity, new))
    }
}

/// An invoice that cannot take the payment fails the row naming `invoice_id`.
fn on_invoice(e: Error) -> Error {
    match e {
        Error::NotFound { .. } | Error::Conflict { .. } => {
            let message = e.to_string();
            Error::invalid("invoice_id", message)
        }
        other => other,
    }
}

/// The new reference of a named payment, `None` when the row gives it as stored. Every other
/// column must agree: the money columns change only by refund or reversal, the rest are set
/// by the server.
fn changed_reference<'a>(stored: &PaymentView, row: &'a PaymentRow) -> Result<Option<&'a str>> {
    let p = &stored.payment;
    let id = p.id;
    let mut errors = Errors::new();
    let money = "a recorded payment's invoice, amount, date and method do not change; \
                 refund or reverse it (POST /payments/{id}/refunds, /reverse) and record it again";
    let money_columns = [
        ("invoice_id", differs(row.invoice_id, p.invoice_id)),
        ("amount", differs(row.amount_cents, p.amount_cents)),
        ("paid_on", differs(row.paid_on, p.paid_on)),
        ("method", differs(row.method.as_ref(), &p.method)),
    ];
    for (column, changed) in money_columns {
        if changed {
            errors.add(column, money.replace("{id}", &id.to_string()));
        }
    }
    let s = &row.shown;
    let server = [
        (
            "receipt_number",
            differs(s.receipt_number, p.receipt_number),
        ),
        ("contact_id", differs(s.contact_id, stored.payer_id)),
        ("holder_id", differs(s.holder_id, stored.holder_id)),
        ("refunded", differs(s.refunded_cents, p.refunded_cents)),
        ("reversed", differs(s.reversed, p.reversed)),
        (
            "recorded_by",
            differs(s.recorded_by.map(Some), p.recorded_by),
        ),
    ];
    for (column, changed) in server {
        if changed {
            errors.add(
                column,
                format!("is set by the server; payment {id} differs"),
            );
        }
    }
    errors.into_result()?;
    Ok(row
        .reference
        .as_deref()
        .filter(|r| p.reference.as_deref() != Some(*r)))
}

/// A column the row gives with another value than the one stored; one it leaves out differs
/// in nothing.
fn differs<T: PartialEq>(given: Option<T>, stored: T) -> bool {
    given.is_some_and(|g| g != stored)
}

/// A corrected reference (a cheque number mistyped), announced as `payment.updated`.
async fn rewrite_reference(
    conn: &impl ConnectionTrait,
    stored: &PaymentView,
    reference: &str,
) -> Result<()> {
    let p = &stored.payment;
    if reference.chars().count() > 100 {
        return Err(Error::invalid(
            "reference",
            "must be at most 100 characters",
        ));
    }
    let now = clock::now();
    p::Entity::update_many()
        .col_expr(p::Column::Reference, Expr::value(reference))
        .col_expr(p::Column::UpdatedAt, Expr::value(now))
        .filter(p::Column::Id.eq(p.id))
        .exec(conn)
        .await?;
    let event = Event::new(
        events::PAYMENT_UPDATED,
        "payments",
        p.id,
        &json!({
            "payment_id": p.id,
            "invoice_id": p.invoice_id,
            "contact_id": stored.payer_id,
            "reference": reference,
            "previous_reference": p.reference,
        }),
    );
    events::emit(conn, vec![event]).await
}

/// The payments a batch names by id, and every payment with a reference on the invoices it
/// pays.
async fn load<'a>(
    conn: &impl ConnectionTrait,
    rows: impl Iterator<Item = &'a PaymentRow>,
) -> Result<Facts> {
    let (mut ids, mut invoices) = (Vec::new(), Vec::new());
    for r in rows {
        match r.id {
            Some(id) => ids.push(id),
            None => invoices.extend(r.invoice_id),
        }
    }
    for list in [&mut ids, &mut invoices] {
        list.sort_unstable();
        list.dedup();
    }
    let mut facts = Facts::default();
    for chunk in ids.chunks(IN_CHUNK) {
        let found = p::Entity::find()
            .filter(in_ids(p::Column::Id, chunk))
            .all(conn)
            .await?;
        for view in payment_list::with_parties(conn, found).await? {
            facts.by_id.insert(view.payment.id, view);
        }
    }
    for chunk in invoices.chunks(IN_CHUNK) {
        let found = p::Entity::find()
            .filter(in_ids(p::Column::InvoiceId, chunk))
            .filter(p::Column::Reference.is_not_null())
            .all(conn)
            .await?;
        for m in found {
            if let Some(r) = m.reference {
                facts
                    .recorded
                    .insert((m.invoice_id, m.amount_cents, m.paid_on, m.method, r), m.id);
            }
        }
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: Value) -> Result<PaymentRow> {
        match v {
            Value::Object(m) => parse_row(&m),
            _ => unreachable!(),
        }
    }

    #[test]
    fn mg4_a_new_payment_row_needs_its_invoice_amount_date_and_method() {
        let Err(Error::Validation(errs)) = row(json!({"reference": "CHQ 12"})) else {
            panic!()
        };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["invoice_id", "amount", "paid_on", "method"]);
        let ok = row(
            json!({"invoice_id": "4", "amount": "120.50", "paid_on": "2024-02-29",
            "method": "cheque", "updated_at": "2024-03-01T00:00:00Z"}),
        )
        .unwrap();
        assert_eq!(ok.amount_cents, Some(12_050));
        assert_eq!(ok.invoice_id, Some(4));
    }

    #[test]
    fn mg4_an_exported_row_reads_the_columns_the_server_sets() {
        let r = row(json!({"id": "3", "refunded": "10.00", "reversed": "false",
            "receipt_number": "1001", "colour": "red"}));
        let Err(Error::Validation(errs)) = r else {
            panic!()
        };
        assert_eq!(errs[0].field, "colour");
        let r = row(json!({"id": "3", "refunded": "10.00", "reversed": "false",
            "receipt_number": "1001"}))
        .unwrap();
        assert_eq!(r.shown.refunded_cents, Some(1_000));
        assert_eq!(r.shown.reversed, Some(false));
        assert_eq!(r.shown.receipt_number, Some(1_001));
    }
}
